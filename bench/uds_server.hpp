#pragma once
// The Unix-socket baseline of switchboard-shm-bench: what a conventional routing daemon would
// be with a socket instead of the shared-memory rings. It reads records (uds_frames.hpp) from
// connected stream sockets, decodes them with the daemon's codec (shm::decode_event, in place
// into reused events as the daemon does), applies
// them to a Kernel in batches like shm::Server does (up to `batch_size` records per
// apply_batch, the records of every connection that were readable), encodes the answers with
// the same codec (shm::encode_decision to every connection, shm::encode_error to the sender) and
// writes each connection's answers back with one send(2). It sleeps in poll(2) while idle and
// blocks in read and send, as a socket server does. The cause slot of a decision is the index of
// the connection its event came from.
//
// Threads: serve() runs on one thread and owns the Kernel; the sockets' other ends belong to
// the hosts. Not thread-safe otherwise.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "switchboard/config.hpp"
#include "switchboard/kernel.hpp"
#include "switchboard/result.hpp"

namespace switchboard::bench {

struct UdsServerCounters {
  std::uint64_t records_in = 0;
  std::uint64_t events_applied = 0;
  std::uint64_t events_refused = 0;
  std::uint64_t malformed = 0;
  std::uint64_t decisions = 0;
  std::uint64_t batches = 0;  // apply_batch calls
};

class UdsServer {
 public:
  // Builds the kernel for `config` (its errors are the kernel's).
  [[nodiscard]] static Result<UdsServer> create(Config config, std::size_t batch_size = 1024);

  // Serves the connected sockets `fds` (not owned: the caller closes them) until every one has
  // reached end of stream, then returns what it counted. Errors: config_io when poll, read or
  // send fails, or a stream holds a length no record has (the message says which).
  [[nodiscard]] Result<UdsServerCounters> serve(std::span<const int> fds);

  [[nodiscard]] const Kernel& kernel() const noexcept { return kernel_; }

 private:
  UdsServer(Kernel kernel, std::size_t batch_size) : kernel_(std::move(kernel)), batch_size_(batch_size) {}

  Kernel kernel_;
  std::size_t batch_size_;
};

}  // namespace switchboard::bench
