#include "uds_server.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "switchboard/shm/record_codec.hpp"
#include "uds_frames.hpp"

namespace switchboard::bench {

Result<UdsServer> UdsServer::create(Config config, std::size_t batch_size) {
  Result<Kernel> kernel = Kernel::create(std::move(config));
  if (!kernel) return kernel.error();
  return UdsServer(std::move(kernel).value(), std::max<std::size_t>(1, batch_size));
}

namespace {

struct Connection {
  int fd = -1;
  bool open = true;
  FrameReader in;
  std::vector<std::uint8_t> out;  // answers not yet sent
};

// A record taken into the batch (as shm::Server's Entry).
struct Entry {
  std::uint16_t connection = 0;
  std::uint16_t type = 0;
  std::uint64_t sequence = 0;
  bool malformed = false;
  std::size_t index = 0;  // into events, or into errors when malformed
};

Error io_error(const std::string& what) {
  return Error{ErrorCode::config_io, "uds baseline: " + what + ": " + std::strerror(errno)};
}

}  // namespace

Result<UdsServerCounters> UdsServer::serve(std::span<const int> fds) {
  UdsServerCounters counters;
  std::vector<Connection> connections(fds.size());
  std::vector<pollfd> polls(fds.size());
  for (std::size_t i = 0; i < fds.size(); ++i) {
    connections[i].fd = fds[i];
    polls[i] = pollfd{fds[i], POLLIN, 0};
  }
  std::vector<Entry> entries;
  // Reused slots, as the daemon keeps them: decode_event overwrites an event of the same type
  // in place, so a steady load decodes without allocating. events[0, event_count) is the batch.
  std::vector<Event> events(batch_size_);
  std::size_t event_count = 0;
  std::vector<Error> errors;
  std::vector<Decision> decisions;
  std::vector<std::size_t> ends;
  std::vector<std::uint8_t> encoded;
  entries.reserve(batch_size_);

  std::size_t open = fds.size();
  while (open != 0) {
    if (::poll(polls.data(), polls.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return io_error("poll");
    }
    for (std::size_t i = 0; i < connections.size(); ++i) {
      Connection& c = connections[i];
      if (!c.open || polls[i].revents == 0) continue;
      const long n = c.in.fill(c.fd);
      if (n < 0 && errno != EINTR) return io_error("read from connection " + std::to_string(i));
      if (n == 0) {
        c.open = false;
        polls[i].fd = -1;  // poll(2) skips negative fds
        --open;
      }
    }
    // Every complete record that arrived, in batches; a connection's records in order.
    for (;;) {
      entries.clear();
      event_count = 0;
      errors.clear();
      for (std::size_t i = 0; i < connections.size() && entries.size() < batch_size_; ++i) {
        Connection& c = connections[i];
        Frame frame;
        while (entries.size() < batch_size_) {
          const FrameReader::Next got = c.in.next(frame);
          if (got == FrameReader::Next::need_more) break;
          if (got == FrameReader::Next::corrupt) {
            errno = EPROTO;
            return io_error("connection " + std::to_string(i) + " sent a length no record has");
          }
          Entry e;
          e.connection = static_cast<std::uint16_t>(i);
          e.type = frame.type;
          e.sequence = frame.sequence;
          if (std::optional<Error> error = shm::decode_event(frame.type, frame.sequence, frame.payload,
                                                             events[event_count])) {
            e.malformed = true;
            e.index = errors.size();
            errors.push_back(std::move(*error));
          } else {
            e.index = event_count++;
          }
          entries.push_back(e);
        }
      }
      if (entries.empty()) break;

      decisions.clear();
      ends.assign(event_count, 0);
      if (event_count != 0) {
        kernel_.apply_batch(std::span<const Event>(events.data(), event_count), decisions, ends);
        ++counters.batches;
      }
      std::size_t d = 0;
      for (const Entry& e : entries) {
        Connection& sender = connections[e.connection];
        ++counters.records_in;
        if (e.malformed) {
          ++counters.malformed;
          encoded.clear();
          shm::encode_error(errors[e.index].code, e.type, errors[e.index].message, encoded);
          append_frame(sender.out, SB_REC_ERROR, 0, e.sequence, encoded);
          continue;
        }
        bool refused = false;
        for (const std::size_t end = ends[e.index]; d < end; ++d) {
          const Decision& decision = decisions[d];
          if (decision.kind == DecisionKind::error) {
            refused = true;
            encoded.clear();
            shm::encode_error(decision.error, e.type, decision.message, encoded);
            append_frame(sender.out, SB_REC_ERROR, 0, e.sequence, encoded);
            continue;
          }
          const std::uint64_t number = ++counters.decisions;
          encoded.clear();
          shm::encode_decision(decision, shm::DecisionCause{e.connection, e.sequence}, encoded);
          for (Connection& c : connections) {
            if (c.open) append_frame(c.out, SB_REC_DECISION, 0, number, encoded);
          }
        }
        if (refused) {
          ++counters.events_refused;
        } else {
          ++counters.events_applied;
        }
      }
    }
    // One send per connection for everything this pass answered.
    for (std::size_t i = 0; i < connections.size(); ++i) {
      Connection& c = connections[i];
      if (c.out.empty()) continue;
      if (c.open && !write_all(c.fd, c.out)) return io_error("send to connection " + std::to_string(i));
      c.out.clear();
    }
  }
  return counters;
}

}  // namespace switchboard::bench
