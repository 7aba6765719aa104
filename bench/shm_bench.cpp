// switchboard-shm-bench: the shared-memory adapter's round trip and throughput (issue 4,
// "Benchmark"), against a Unix-domain-socket baseline carrying the same record bytes.
//
//   shm-rtt/engine:shm/threads:1   a real shm::Server on its own thread (run(), IdleStrategy::spin)
//                                  and the real C client on the benchmark thread: round trips
//                                  (send one record, spin on sb_client_poll until its decision),
//                                  then one producer's pipelined throughput
//   shm-rtt/engine:shm/threads:2   two attached hosts on two threads, pipelined throughput
//   uds-rtt/engine:uds/threads:1   the same over a socketpair to UdsServer (uds_server.hpp)
//   uds-rtt/engine:uds/threads:2   two connections, two producers
//   rtt-parts/engine:kernel/threads:1  the daemon's per-event work alone (decode, apply, encode),
//                                  no transport: what the round trip spends beyond it is transport
//
// The load (rtt_load.hpp) is item_arrive / item_cancel of one item at a time: each event makes
// exactly one decision (offer, then cancelled), which every reply is checked against (kind,
// item, agent present, cause slot and sequence); a reply that is not the expected one is a
// mismatch and fails the benchmark. Round trips are timed one by one with steady_clock and kept
// (exact percentiles); throughput is events the daemon applied (all of them answered, checked
// against its own counters after the run) per second.
//
// Flags of its own (the rest go to Google Benchmark):
//   --quick              10^5 round trips and shorter throughput runs instead of 10^6 and more
//   --round-trips=N      round trips per transport (overrides the suite's count)
//   --events=N           events per producer in the throughput runs (shm; uds gets a quarter)
// Not thread-safe: Google Benchmark runs each benchmark on its main thread, which starts and
// joins every thread the benchmark uses.

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench_main.hpp"
#include "rtt_load.hpp"
#include "switchboard/shm/client.h"
#include "switchboard/shm/record_codec.hpp"
#include "switchboard/shm/server.hpp"
#include "uds_frames.hpp"
#include "uds_server.hpp"

namespace {

namespace sb = switchboard::bench;
namespace shm = switchboard::shm;
using Clock = std::chrono::steady_clock;

struct Options {
  bool quick = false;
  std::uint64_t round_trips = 1'000'000;
  std::uint64_t shm_events = 4'000'000;  // per producer, throughput runs
  std::uint64_t uds_events = 1'000'000;
  std::uint64_t warmup = 10'000;          // round trips before the measured ones
};
Options g_options;

// Names the calling thread (what perf and top show): sb-daemon, sb-host, uds-server, ...
void name_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// What a host saw that it did not expect; the first one is kept for the error message.
struct Mismatches {
  std::uint64_t count = 0;
  std::string first;
  void add(const std::string& why) {
    if (count++ == 0) first = why;
  }
};

// One outbound record as either transport hands it over.
struct Reply {
  std::uint16_t type = 0;
  const void* payload = nullptr;
  std::size_t size = 0;
};

// --- hosts -------------------------------------------------------------------------------------

// A host on the shared-memory adapter: the C client, attached for every decision. One thread.
class ShmHost {
 public:
  explicit ShmHost(sb_client* client) : client_(client), slot_(static_cast<std::uint16_t>(sb_client_slot(client))) {}
  ShmHost(const ShmHost&) = delete;
  ShmHost& operator=(const ShmHost&) = delete;
  ~ShmHost() { sb_client_detach(client_, 2000); }

  // Attaches to the segment `name`; null with `error` set when it cannot.
  static std::unique_ptr<ShmHost> attach(const std::string& name, std::string& error) {
    sb_client* c = nullptr;
    const int rc = sb_client_attach(name.c_str(), SB_ATTACH_DECISIONS, 5000, &c);
    if (rc != SB_OK) {
      error = std::string("sb_client_attach: ") + sb_strerror(rc);
      return nullptr;
    }
    return std::unique_ptr<ShmHost>(new ShmHost(c));
  }

  [[nodiscard]] std::uint16_t slot() const noexcept { return slot_; }
  [[nodiscard]] int last_error() const noexcept { return error_; }

  // Sends `e`, spinning while the ring is full. False on any other result.
  bool send(const sb::RttEvent& e) {
    for (;;) {
      const int rc = try_send(e);
      if (rc == SB_OK) return true;
      if (rc != SB_ERR_FULL) return false;
    }
  }
  // SB_OK, SB_ERR_FULL, or a failure (kept in last_error()).
  int try_send(const sb::RttEvent& e) {
    const int rc = sb_client_send(client_, e.type, 0, e.sequence, e.payload, e.size);
    if (rc != SB_OK && rc != SB_ERR_FULL) error_ = rc;
    return rc;
  }
  // The next outbound record, spinning until there is one. False on a failure.
  bool receive(Reply& r) {
    for (;;) {
      const int rc = try_receive(r);
      if (rc == SB_OK) return true;
      if (rc != SB_EMPTY) return false;
    }
  }
  // SB_OK, SB_EMPTY, or a failure (kept in last_error()).
  int try_receive(Reply& r) {
    sb_message m;
    const int rc = sb_client_poll(client_, &m);
    if (rc == SB_OK) {
      r = Reply{m.type, m.payload, m.size};
    } else if (rc != SB_EMPTY) {
      error_ = rc;
    }
    return rc;
  }
  [[nodiscard]] std::string describe_error() const { return std::string("shm client: ") + sb_strerror(error_); }

 private:
  sb_client* client_;
  std::uint16_t slot_;
  int error_ = SB_OK;
};

// A host on the socket baseline: one connected stream socket (owned), blocking reads.
class UdsHost {
 public:
  UdsHost(int fd, std::uint16_t slot) : fd_(fd), slot_(slot) {}
  UdsHost(const UdsHost&) = delete;
  UdsHost& operator=(const UdsHost&) = delete;
  ~UdsHost() { close_socket(); }

  [[nodiscard]] std::uint16_t slot() const noexcept { return slot_; }
  [[nodiscard]] int fd() const noexcept { return fd_; }

  bool send(const sb::RttEvent& e) {
    out_.clear();
    sb::append_frame(out_, e.type, 0, e.sequence, {e.payload, e.size});
    return sb::write_all(fd_, out_) || fail("send");
  }
  // The next record, blocking in read(2) until one is complete. False on a failure or end of
  // stream.
  bool receive(Reply& r) {
    for (;;) {
      sb::Frame f;
      switch (in_.next(f)) {
        case sb::FrameReader::Next::frame:
          r = Reply{f.type, f.payload.data(), f.payload.size()};
          return true;
        case sb::FrameReader::Next::corrupt:
          error_ = "a length no record has";
          return false;
        case sb::FrameReader::Next::need_more:
          break;
      }
      const long n = in_.fill(fd_);
      if (n == 0) {
        error_ = "end of stream";
        return false;
      }
      if (n < 0 && errno != EINTR) return fail("read");
    }
  }
  // Ends this side's stream: the server sees end of stream once it has read everything.
  void close_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  [[nodiscard]] std::string describe_error() const { return "uds host: " + error_; }

 private:
  bool fail(const char* what) {
    error_ = std::string(what) + ": " + std::strerror(errno);
    return false;
  }
  int fd_;
  std::uint16_t slot_;
  sb::FrameReader in_;
  std::vector<std::uint8_t> out_;
  std::string error_;
};

// --- round trips -------------------------------------------------------------------------------

struct Latency {
  std::uint64_t round_trips = 0;
  double p50_ns = 0, p99_ns = 0, p999_ns = 0, mean_ns = 0, max_ns = 0;
  double seconds = 0;  // wall time of the measured round trips
};

// The nearest-rank percentile of sorted samples.
double percentile(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = std::clamp<std::size_t>(
      static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size()))), 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]);
}

// `warmup` then `n` round trips: each sends event k and waits for its one reply. Each is timed
// from just before the send to just after the reply arrived; the check comes after the clock.
template <typename Host>
std::optional<Latency> round_trips(Host& host, std::uint64_t warmup, std::uint64_t n, Mismatches& bad,
                                   std::string& error) {
  sb::RttRecords records(1);
  std::vector<std::int64_t> samples(n);  // allocated before the clock runs
  std::string why;
  Reply reply;
  const Clock::time_point start = Clock::now();
  for (std::uint64_t k = 0; k < warmup + n; ++k) {
    const sb::RttEvent e = records.event(k);
    const Clock::time_point t0 = Clock::now();
    if (!host.send(e) || !host.receive(reply)) {
      error = host.describe_error();
      return std::nullopt;
    }
    const Clock::time_point t1 = Clock::now();
    if (k >= warmup) samples[k - warmup] = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
    if (!sb::is_expected_reply(e, host.slot(), reply.type, reply.payload, reply.size, &why)) {
      bad.add("round trip " + std::to_string(k) + ": " + why);
    }
  }
  Latency l;
  l.round_trips = n;
  l.seconds = seconds_between(start, Clock::now());
  double sum = 0;
  for (const std::int64_t s : samples) sum += static_cast<double>(s);
  std::sort(samples.begin(), samples.end());
  l.p50_ns = percentile(samples, 0.50);
  l.p99_ns = percentile(samples, 0.99);
  l.p999_ns = percentile(samples, 0.999);
  l.mean_ns = n != 0 ? sum / static_cast<double>(n) : 0;
  l.max_ns = samples.empty() ? 0 : static_cast<double>(samples.back());
  return l;
}

// --- throughput --------------------------------------------------------------------------------

// What every producer of a throughput run shares. Written by the benchmark thread before the
// producer threads start (producers, on_failure) and by the producers (go is the benchmark
// thread's; failed anyone's); seq_cst throughout: each is touched a handful of times per run.
struct Race {
  std::atomic<bool> go{false};      // the start signal
  std::atomic<bool> failed{false};  // a producer failed: the others stop
  std::uint64_t per_host = 0;       // decisions every host receives: its own and the others'
  std::function<void()> on_failure; // wakes producers blocked in a read (sockets), or nothing
  void fail() {
    if (!failed.exchange(true) && on_failure) on_failure();
  }
};

struct ProducerResult {
  std::uint64_t received = 0;  // its own decisions, each checked
  std::uint64_t foreign = 0;   // decisions another producer's events made (every host sees all)
  Clock::time_point done{};    // when its last decision arrived
  Mismatches bad;
  std::string error;
};

// Checks one outbound record a producer received: its own decisions in order against its
// stream, another producer's counted. Returns false once the producer has all it waits for.
bool take_reply(const Reply& r, std::uint16_t slot, const sb::RttRecords& records, std::uint64_t n,
                const Race& race, ProducerResult& out, std::string& why) {
  sb_decision d;
  const bool decision = r.type == SB_REC_DECISION && sb_decode_decision(r.payload, r.size, &d) == SB_OK;
  if (decision && d.cause_slot != slot) {
    ++out.foreign;
  } else if (out.received >= n) {
    out.bad.add("a reply after the last event's");
  } else {
    const sb::RttEvent e = records.describe(out.received);
    const bool expected = decision ? sb::is_expected_decision(e, slot, d, &why)
                                   : sb::is_expected_reply(e, slot, r.type, r.payload, r.size, &why);
    if (!expected) out.bad.add("event " + std::to_string(out.received) + ": " + why);
    if (++out.received == n) out.done = Clock::now();
  }
  return out.received + out.foreign < race.per_host;
}

// One shared-memory producer: sends its n events as fast as the ring takes them, 256 at most
// between looks at the outbound ring, and drains its decisions on the same thread, until it has
// every decision of every producer (the daemon writes each to every host, and a host that
// stopped reading would stall the others through back-pressure). With more than one producer
// a pass that could neither send nor receive yields the core: on the 2-core machine the
// producers share the one core the spinning daemon leaves, and a producer spinning idle there
// only delays the other.
void shm_producer(ShmHost& host, std::uint64_t item_base, std::uint64_t n, Race& race, ProducerResult& out) {
  constexpr std::uint64_t kSendBurst = 256;
  sb::RttRecords records(item_base);
  std::string why;
  std::uint64_t sent = 0;
  bool waiting = race.per_host != 0;
  const bool shared_core = race.per_host > n;  // more than one producer
  while (!race.go.load()) {
  }
  while (waiting) {
    const std::uint64_t sent_before = sent;
    for (std::uint64_t burst = 0; burst < kSendBurst && sent < n; ++burst) {
      const int rc = host.try_send(records.event(sent));
      if (rc == SB_ERR_FULL) break;
      if (rc != SB_OK) {
        out.error = host.describe_error();
        race.fail();
        return;
      }
      ++sent;
    }
    const std::uint64_t before = out.received + out.foreign;
    Reply r;
    for (;;) {
      const int rc = host.try_receive(r);
      if (rc == SB_EMPTY) break;
      if (rc != SB_OK) {
        out.error = host.describe_error();
        race.fail();
        return;
      }
      waiting = take_reply(r, host.slot(), records, n, race, out, why);
      if (!waiting) break;
    }
    if (race.failed.load()) return;
    if (shared_core && sent == sent_before && out.received + out.foreign == before) std::this_thread::yield();
  }
}

// One socket producer: a writer thread sends its n events (kUdsWriteBatch records per send(2),
// the way a buffered host writes) while this thread reads and checks the decisions, until it
// has every decision of every producer (the server sends each to every connection).
constexpr std::uint64_t kUdsWriteBatch = 32;

void uds_producer(UdsHost& host, std::uint64_t item_base, std::uint64_t n, Race& race, ProducerResult& out) {
  std::string write_error;
  std::thread writer([&host, item_base, n, &race, &write_error] {
    name_thread("uds-writer");
    sb::RttRecords records(item_base);
    std::vector<std::uint8_t> buffer;
    while (!race.go.load()) {
    }
    for (std::uint64_t k = 0; k < n && !race.failed.load();) {
      buffer.clear();
      for (std::uint64_t b = 0; b < kUdsWriteBatch && k < n; ++b, ++k) {
        const sb::RttEvent e = records.event(k);
        sb::append_frame(buffer, e.type, 0, e.sequence, {e.payload, e.size});
      }
      if (!sb::write_all(host.fd(), buffer)) {
        write_error = std::string("send: ") + std::strerror(errno);
        race.fail();
        return;
      }
    }
  });
  sb::RttRecords records(item_base);
  std::string why;
  bool waiting = race.per_host != 0;
  while (!race.go.load()) {
  }
  while (waiting && !race.failed.load()) {
    Reply r;
    if (!host.receive(r)) {
      out.error = host.describe_error();
      race.fail();
      break;
    }
    waiting = take_reply(r, host.slot(), records, n, race, out, why);
  }
  writer.join();
  if (!write_error.empty()) out.error = "uds writer: " + write_error;
}

struct Throughput {
  std::uint64_t events = 0;
  double seconds = 0;
  double events_per_s = 0;
  std::uint64_t foreign = 0;
};

// Runs `producer(host i, item base, n, race, result)` on one thread per host, releases them
// together and times from the release to the last producer's last decision.
template <typename Host, typename Producer>
std::optional<Throughput> race_producers(std::vector<Host*>& hosts, std::uint64_t n, Producer producer,
                                         std::function<void()> on_failure, Mismatches& bad,
                                         std::string& error) {
  Race race;
  race.per_host = n * hosts.size();
  race.on_failure = std::move(on_failure);
  std::vector<ProducerResult> results(hosts.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    // Disjoint item ranges: each producer's items are its own.
    const std::uint64_t base = 1 + i * sb::RttRecords::kItemCycle;
    threads.emplace_back([&, i, base] {
      name_thread("producer");
      producer(*hosts[i], base, n, race, results[i]);
    });
  }
  const Clock::time_point start = Clock::now();
  race.go.store(true);
  for (std::thread& t : threads) t.join();
  Throughput t;
  Clock::time_point end = start;
  for (const ProducerResult& r : results) {
    if (!r.error.empty() && error.empty()) error = r.error;
    if (r.bad.count != 0) {
      if (bad.count == 0) bad.first = r.bad.first;
      bad.count += r.bad.count;
    }
    if (r.received != n && error.empty()) {
      error = "a producer received " + std::to_string(r.received) + " of its " + std::to_string(n) + " decisions";
    }
    end = std::max(end, r.done);
    t.events += r.received;
    t.foreign += r.foreign;
  }
  if (!error.empty()) return std::nullopt;
  t.seconds = seconds_between(start, end);
  t.events_per_s = t.seconds > 0 ? static_cast<double>(t.events) / t.seconds : 0;
  return t;
}

// --- the daemons -------------------------------------------------------------------------------

// A shm::Server on its own thread, spinning, on a segment name of this process's own.
class ShmDaemon {
 public:
  // Null with `error` set when the server cannot be created.
  static std::unique_ptr<ShmDaemon> start(std::string& error) {
    static int started = 0;
    shm::ServerOptions options;
    options.name = "/sb-bench-" + std::to_string(::getpid()) + "-" + std::to_string(++started);
    options.max_hosts = 4;
    options.idle = shm::IdleStrategy::spin;
    // The two-producer run spins three threads on two cores, and a shared machine adds its own
    // load: the daemon's thread can be off a core for tens of milliseconds, and with the default
    // 10 ms interval the hosts would take that for a dead daemon (5 missed beats). A benchmark
    // measures the transport, not failure detection, so it allows half a second.
    options.heartbeat_interval = std::chrono::milliseconds(100);
    switchboard::Result<shm::Server> server = shm::Server::create(sb::rtt_config(), options);
    if (!server) {
      error = "shm::Server::create: " + server.error().message;
      return nullptr;
    }
    return std::unique_ptr<ShmDaemon>(new ShmDaemon(std::move(server).value()));
  }
  ShmDaemon(const ShmDaemon&) = delete;
  ShmDaemon& operator=(const ShmDaemon&) = delete;
  ~ShmDaemon() { stop(); }

  [[nodiscard]] const std::string& name() const { return server_.options().name; }
  // Stops the loop and joins its thread; counters() may be read afterwards (the join orders
  // the server thread's writes before this thread's reads).
  void stop() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    thread_.join();
    server_.stop();
  }
  [[nodiscard]] const shm::ServerCounters& counters() const { return server_.counters(); }

 private:
  explicit ShmDaemon(shm::Server server) : server_(std::move(server)) {
    thread_ = std::thread([this] {
      name_thread("sb-daemon");
      server_.run(stop_);
    });
  }
  shm::Server server_;
  // Written by the benchmark thread (stop), read by the server thread (run); seq_cst, once.
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A UdsServer on its own thread serving `count` socketpairs; hosts get the other ends.
class UdsDaemon {
 public:
  // Null with `error` set when the server or a socket pair cannot be created.
  static std::unique_ptr<UdsDaemon> start(std::size_t count, std::string& error) {
    switchboard::Result<sb::UdsServer> server = sb::UdsServer::create(sb::rtt_config());
    if (!server) {
      error = "UdsServer::create: " + server.error().message;
      return nullptr;
    }
    std::unique_ptr<UdsDaemon> d(new UdsDaemon(std::move(server).value()));
    for (std::size_t i = 0; i < count; ++i) {
      int pair[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        error = std::string("socketpair: ") + std::strerror(errno);
        return nullptr;  // nothing serves yet: the destructor only closes
      }
      d->server_fds_.push_back(pair[0]);
      d->owned_.push_back(std::make_unique<UdsHost>(pair[1], static_cast<std::uint16_t>(i)));
      d->hosts_.push_back(d->owned_.back().get());
    }
    UdsDaemon* raw = d.get();
    d->thread_ = std::thread([raw] {
      name_thread("uds-server");
      raw->result_ = raw->server_.serve(raw->server_fds_);
    });
    return d;
  }
  UdsDaemon(const UdsDaemon&) = delete;
  UdsDaemon& operator=(const UdsDaemon&) = delete;
  ~UdsDaemon() { finish(); }

  [[nodiscard]] std::vector<UdsHost*>& hosts() { return hosts_; }
  // Closes the hosts' ends and joins the server, which returns once it has read them to the end.
  const switchboard::Result<sb::UdsServerCounters>& finish() {
    for (UdsHost* h : hosts_) h->close_socket();
    if (thread_.joinable()) thread_.join();
    for (const int fd : server_fds_) ::close(fd);
    server_fds_.clear();
    return result_;
  }

 private:
  explicit UdsDaemon(sb::UdsServer server) : server_(std::move(server)) {}
  sb::UdsServer server_;
  std::vector<int> server_fds_;
  std::vector<std::unique_ptr<UdsHost>> owned_;
  std::vector<UdsHost*> hosts_;  // owned_, as race_producers takes them
  std::thread thread_;
  // Written by the server thread as it returns; read by the benchmark thread after the join.
  switchboard::Result<sb::UdsServerCounters> result_ = switchboard::Error{switchboard::ErrorCode::config_io, "not run"};
};

// --- benchmarks --------------------------------------------------------------------------------

void report_latency(benchmark::State& state, const Latency& l) {
  state.counters["p50_ns"] = l.p50_ns;
  state.counters["p99_ns"] = l.p99_ns;
  state.counters["p999_ns"] = l.p999_ns;
  state.counters["mean_ns"] = l.mean_ns;
  state.counters["max_ns"] = l.max_ns;
  state.counters["round_trips"] = static_cast<double>(l.round_trips);
}

void report_throughput(benchmark::State& state, const Throughput& t) {
  state.counters["events_per_s"] = t.events_per_s;
  state.counters["events"] = static_cast<double>(t.events);
  state.counters["throughput_s"] = t.seconds;
  state.counters["foreign_decisions"] = static_cast<double>(t.foreign);
}

void report_common(benchmark::State& state, const Mismatches& bad, std::uint64_t applied,
                   std::uint64_t refused) {
  state.counters["mismatches"] = static_cast<double>(bad.count);
  state.counters["daemon_events_applied"] = static_cast<double>(applied);
  state.counters["daemon_events_refused"] = static_cast<double>(refused);
  state.counters["quick"] = g_options.quick ? 1 : 0;
  if (bad.count != 0) {
    state.SkipWithError(("mismatched replies: " + std::to_string(bad.count) + ", first: " + bad.first).c_str());
  }
}

// threads:1 measures round trips and one producer; threads:2 two producers.
void shm_bench(benchmark::State& state, int producers) {
  for (auto _ : state) {
    std::string error;
    std::unique_ptr<ShmDaemon> daemon = ShmDaemon::start(error);
    if (!daemon) {
      state.SkipWithError(error.c_str());
      return;
    }
    std::vector<std::unique_ptr<ShmHost>> owned;
    std::vector<ShmHost*> hosts;
    for (int i = 0; i < producers; ++i) {
      owned.push_back(ShmHost::attach(daemon->name(), error));
      if (!owned.back()) {
        state.SkipWithError(error.c_str());
        return;
      }
      hosts.push_back(owned.back().get());
    }
    Mismatches bad;
    double seconds = 0;
    std::uint64_t sent = 0;
    if (producers == 1) {
      const std::optional<Latency> l = round_trips(*hosts[0], g_options.warmup, g_options.round_trips, bad, error);
      if (!l) {
        state.SkipWithError(error.c_str());
        return;
      }
      report_latency(state, *l);
      seconds += l->seconds;
      sent += g_options.warmup + g_options.round_trips;
    }
    // Each host's stream starts again at sequence 1: a new stream of the same items, none live.
    const std::uint64_t n = producers == 1 ? g_options.shm_events : g_options.shm_events / 2;
    const std::optional<Throughput> t = race_producers(hosts, n, shm_producer, {}, bad, error);
    if (!t) {
      state.SkipWithError(error.c_str());
      return;
    }
    report_throughput(state, *t);
    seconds += t->seconds;
    sent += t->events;
    owned.clear();  // detach
    daemon->stop();
    const shm::ServerCounters& c = daemon->counters();
    state.SetIterationTime(seconds);
    report_common(state, bad, c.events_applied, c.events_refused);
    if (c.events_applied != sent || c.events_refused != 0 || c.malformed != 0) {
      state.SkipWithError(("the daemon applied " + std::to_string(c.events_applied) + " of " + std::to_string(sent) +
                           " events (" + std::to_string(c.events_refused) + " refused, " +
                           std::to_string(c.malformed) + " malformed)")
                              .c_str());
    }
  }
}

void uds_bench(benchmark::State& state, int producers) {
  for (auto _ : state) {
    std::string error;
    Mismatches bad;
    double seconds = 0;
    std::uint64_t sent = 0;
    // One server for the round trips, a fresh one for the throughput (the round trips' host
    // stream ended with its socket).
    if (producers == 1) {
      std::unique_ptr<UdsDaemon> daemon = UdsDaemon::start(1, error);
      if (!daemon) {
        state.SkipWithError(error.c_str());
        return;
      }
      const std::optional<Latency> l =
          round_trips(*daemon->hosts()[0], g_options.warmup, g_options.round_trips, bad, error);
      if (!l) {
        state.SkipWithError(error.c_str());
        return;
      }
      report_latency(state, *l);
      seconds += l->seconds;
      const auto& counted = daemon->finish();
      if (!counted || counted->events_applied != g_options.warmup + g_options.round_trips) {
        state.SkipWithError(counted ? "the uds server applied a different number of events"
                                    : counted.error().message.c_str());
        return;
      }
    }
    std::unique_ptr<UdsDaemon> daemon = UdsDaemon::start(static_cast<std::size_t>(producers), error);
    if (!daemon) {
      state.SkipWithError(error.c_str());
      return;
    }
    const std::uint64_t n = producers == 1 ? g_options.uds_events : g_options.uds_events / 2;
    // A failed producer shuts every socket down, waking the readers blocked on them.
    auto wake_all = [&daemon] {
      for (UdsHost* h : daemon->hosts()) ::shutdown(h->fd(), SHUT_RDWR);
    };
    const std::optional<Throughput> t = race_producers(daemon->hosts(), n, uds_producer, wake_all, bad, error);
    if (!t) {
      state.SkipWithError(error.c_str());
      return;
    }
    report_throughput(state, *t);
    seconds += t->seconds;
    sent += t->events;
    const auto& counted = daemon->finish();
    if (!counted) {
      state.SkipWithError(counted.error().message.c_str());
      return;
    }
    state.SetIterationTime(seconds);
    report_common(state, bad, counted->events_applied, counted->events_refused);
    if (counted->events_applied != sent || counted->events_refused != 0 || counted->malformed != 0) {
      state.SkipWithError(("the uds server applied " + std::to_string(counted->events_applied) + " of " +
                           std::to_string(sent) + " events")
                              .c_str());
    }
  }
}

// The daemon's own work per event, without a transport: decode_event (in place),
// Kernel::apply_batch of one event (as the daemon applies a round trip's record) and
// encode_decision (into a vector; the daemon writes into the ring), each timed over
// the round trips' count of the same load. What a round trip costs beyond their sum is the
// transport: the rings, the cache lines between the cores, the passes of the daemon's loop and
// the client.
void rtt_parts(benchmark::State& state) {
  for (auto _ : state) {
    switchboard::Result<switchboard::Kernel> created = switchboard::Kernel::create(sb::rtt_config());
    if (!created) {
      state.SkipWithError(created.error().message.c_str());
      return;
    }
    switchboard::Kernel kernel = std::move(created).value();
    // The stream repeats every 2 x kItemCycle events; encode one period before any clock runs.
    constexpr std::uint64_t kPeriod = 2 * sb::RttRecords::kItemCycle;
    sb::RttRecords records(1);
    std::vector<sb::RttEvent> described(kPeriod);
    std::vector<std::vector<std::uint8_t>> payloads(kPeriod);
    for (std::uint64_t k = 0; k < kPeriod; ++k) {
      const sb::RttEvent e = records.event(k);
      payloads[k].assign(e.payload, e.payload + e.size);
      described[k] = records.describe(k);
    }
    const std::uint64_t n = g_options.round_trips;
    std::vector<switchboard::Event> events(kPeriod);
    std::vector<switchboard::Decision> decisions;
    std::vector<std::size_t> ends(1);
    std::vector<std::uint8_t> encoded;
    std::uint64_t bad = 0;
    double decode_s = 0, apply_s = 0, encode_s = 0;
    for (std::uint64_t k = 0; k < n; ++k) {
      const std::uint64_t i = k % kPeriod;
      // In place into a reused event, as the daemon decodes.
      const Clock::time_point t0 = Clock::now();
      const std::optional<switchboard::Error> error =
          shm::decode_event(described[i].type, described[i].sequence, payloads[i], events[i]);
      const Clock::time_point t1 = Clock::now();
      if (error) {
        ++bad;
        continue;
      }
      decisions.clear();
      const Clock::time_point t2 = Clock::now();
      kernel.apply_batch(std::span(&events[i], 1), decisions, ends);
      const Clock::time_point t3 = Clock::now();
      if (decisions.size() != 1 || decisions[0].kind == switchboard::DecisionKind::error) {
        ++bad;
        continue;
      }
      encoded.clear();
      const Clock::time_point t4 = Clock::now();
      shm::encode_decision(decisions[0], shm::DecisionCause{0, described[i].sequence}, encoded);
      const Clock::time_point t5 = Clock::now();
      if (!sb::is_expected_reply(described[i], 0, SB_REC_DECISION, encoded.data(), encoded.size())) ++bad;
      decode_s += seconds_between(t0, t1);
      apply_s += seconds_between(t2, t3);
      encode_s += seconds_between(t4, t5);
    }
    state.SetIterationTime(decode_s + apply_s + encode_s);
    const double per = n != 0 ? 1e9 / static_cast<double>(n) : 0;
    state.counters["decode_ns"] = decode_s * per;
    state.counters["apply_ns"] = apply_s * per;
    state.counters["encode_ns"] = encode_s * per;
    state.counters["events"] = static_cast<double>(n);
    state.counters["mismatches"] = static_cast<double>(bad);
    state.counters["quick"] = g_options.quick ? 1 : 0;
    if (bad != 0) state.SkipWithError(("mismatched decisions: " + std::to_string(bad)).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::uint64_t> round_trips_flag, events_flag;
  const bool known = sb::initialize(argc, argv, g_options.quick, [&](const char* arg) {
    std::uint64_t value = 0;
    if (sb::parse_count(arg, "--round-trips", value)) {
      round_trips_flag = value;
    } else if (sb::parse_count(arg, "--events", value)) {
      events_flag = value;
    } else {
      return false;
    }
    return true;
  });
  if (!known) return 1;
  if (g_options.quick) {
    g_options.round_trips = 100'000;
    g_options.shm_events = 1'000'000;
    g_options.uds_events = 200'000;
  }
  if (round_trips_flag) g_options.round_trips = *round_trips_flag;
  if (events_flag) {
    g_options.shm_events = *events_flag;
    g_options.uds_events = *events_flag / 4;
  }

  benchmark::AddCustomContext("round_trips", std::to_string(g_options.round_trips));
  for (const int producers : {1, 2}) {
    sb::register_once("shm-rtt/engine:shm/threads:" + std::to_string(producers),
                      [producers](benchmark::State& s) { shm_bench(s, producers); });
  }
  for (const int producers : {1, 2}) {
    sb::register_once("uds-rtt/engine:uds/threads:" + std::to_string(producers),
                      [producers](benchmark::State& s) { uds_bench(s, producers); });
  }
  // Each step is timed on its own, so the clock's cost (about 20 ns a reading here) is in each.
  sb::register_once("rtt-parts/engine:kernel/threads:1", rtt_parts);
  return sb::run_benchmarks();
}
