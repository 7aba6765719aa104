// switchboardd: the routing daemon. Loads a configuration, creates the shared-memory segment of
// docs/protocol.md and routes the events its hosts write until SIGINT or SIGTERM; then it marks
// the segment stopping and removes it. With --status it instead prints what a running daemon's
// segment says and exits.
//
// One thread serves the segment (Server::run); --threads gives the kernel more for its parallel
// batches. Lifecycle lines (start, attach, detach, host died, stuck or stall reset, stop) go to
// stderr with a UTC timestamp; nothing is logged per event or decision.

#include <grp.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "status.hpp"
#include "switchboard/config_loader.hpp"
#include "switchboard/shm/server.hpp"

namespace {

using namespace switchboard;

constexpr int kExitUsage = 2;    // bad arguments, unreadable or invalid configuration
constexpr int kExitFailure = 1;  // the segment could not be created (or --status found none)

// Set by the signal handler, read by the serving loop. A lock-free atomic is safe to store from
// a signal handler; the loop's relaxed load sees it within one pass.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_stop_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

// "2026-11-23T03:57:00.123Z switchboardd: <line>", written with one call so that lines from
// one process never interleave.
void log_line(std::string_view line) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::fprintf(stderr, "%s.%03ldZ switchboardd: %.*s\n", stamp, ts.tv_nsec / 1'000'000L,
               static_cast<int>(line.size()), line.data());
}

constexpr const char* kFooter = R"(
The daemon creates the shared-memory segment --name (on Linux /dev/shm/<name without the
slash>) with --mode and, with --group, that group; hosts attach to it as docs/protocol.md
describes (the C client in adapters/shm/client, the Python one in adapters/shm/python). A
segment left by a daemon that was killed is replaced; one whose daemon is alive is not.
SIGINT or SIGTERM stops the daemon cleanly: the segment is marked stopping and removed.

Sizes take a unit: --in-ring-bytes 1M, --out-ring-bytes 4MiB (K, M, G are 1024-based).

Exit status: 0 after a clean stop (or a --status report), 1 when the segment cannot be created
(another daemon is running on that name, permissions, memory) or --status finds no daemon,
2 on bad usage or an invalid configuration.

Examples:
  switchboardd --config docs/examples/contact-center.toml --name /switchboard --mode 0660 --group contact
  switchboardd --status --name /switchboard)";

struct Flags {
  std::string config_path;
  std::string name = SB_SHM_DEFAULT_NAME;
  std::string mode = "0600";
  std::string group;
  std::uint32_t max_hosts = 8;
  std::uint64_t in_ring_bytes = std::uint64_t{1} << 20;
  std::uint64_t out_ring_bytes = std::uint64_t{4} << 20;
  std::uint64_t max_record_bytes = 0;  // 0: min(64 KiB, a quarter of the smaller ring)
  double heartbeat_ms = 10;
  double stuck_timeout_ms = 1000;
  double outbound_stall_timeout_ms = 2000;
  std::size_t batch = 1024;
  std::string idle = "sleep";
  int threads = 1;
  bool status = false;
};

std::chrono::nanoseconds milliseconds(double ms) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ms * 1e6));
}

int serve(const Flags& f) {
  shm::ServerOptions options;
  options.name = f.name;
  try {
    std::size_t used = 0;
    const unsigned long mode = std::stoul(f.mode, &used, 8);
    if (used != f.mode.size() || mode > 0777) throw std::invalid_argument("mode");
    options.mode = static_cast<std::uint32_t>(mode);
  } catch (const std::exception&) {
    std::fprintf(stderr, "switchboardd: --mode %s is not an octal permission (e.g. 0600, 0660)\n", f.mode.c_str());
    return kExitUsage;
  }
  if (!f.group.empty()) {
    std::vector<char> buffer(16384);
    group entry{};
    group* found = nullptr;
    const int err = ::getgrnam_r(f.group.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (found == nullptr) {
      std::fprintf(stderr, "switchboardd: --group %s: %s\n", f.group.c_str(),
                   err != 0 ? std::strerror(err) : "no such group");
      return kExitUsage;
    }
    options.group = static_cast<std::uint32_t>(found->gr_gid);
  }
  options.max_hosts = f.max_hosts;
  options.in_ring_bytes = f.in_ring_bytes;
  options.out_ring_bytes = f.out_ring_bytes;
  options.max_record_size = static_cast<std::uint32_t>(
      f.max_record_bytes != 0 ? f.max_record_bytes
                              : std::min<std::uint64_t>(64u << 10, std::min(f.in_ring_bytes, f.out_ring_bytes) / 4));
  options.heartbeat_interval = milliseconds(f.heartbeat_ms);
  options.stuck_timeout = milliseconds(f.stuck_timeout_ms);
  options.outbound_stall_timeout = milliseconds(f.outbound_stall_timeout_ms);
  options.batch_size = f.batch;
  options.idle = f.idle == "spin" ? shm::IdleStrategy::spin
                 : f.idle == "yield" ? shm::IdleStrategy::yield
                                     : shm::IdleStrategy::sleep;
  options.kernel.threads = f.threads;

  Result<Config> config = load_config_file(f.config_path);
  if (!config) {
    std::fprintf(stderr, "switchboardd: invalid configuration (%s): %s\n",
                 std::string(to_string(config.error().code)).c_str(), config.error().message.c_str());
    return kExitUsage;
  }

  struct sigaction action{};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  Result<shm::Server> server = shm::Server::create(std::move(config).value(), options, log_line);
  if (!server) {
    const bool usage = server.error().code != ErrorCode::config_io;
    std::fprintf(stderr, "switchboardd: %s\n", server.error().message.c_str());
    return usage ? kExitUsage : kExitFailure;
  }
  server.value().run(g_stop);
  log_line("signal received, stopping");
  server.value().stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The Switchboard routing daemon: routes the events that hosts write to a shared-memory "
               "segment (docs/protocol.md) and writes back its decisions."};
  app.name("switchboardd");
  Flags f;
  app.add_option("-c,--config", f.config_path, "Routing configuration (TOML, docs/configuration.md); required unless --status");
  app.add_option("-n,--name", f.name, "Shared-memory segment name: '/' and up to 254 more characters")
      ->capture_default_str();
  app.add_option("--mode", f.mode, "Permission bits of the segment, octal (hosts need read and write)")
      ->capture_default_str();
  app.add_option("--group", f.group, "Group to give the segment (with --mode 0660: the hosts' group)");
  app.add_option("--max-hosts", f.max_hosts, "Host slots: how many hosts may attach at once (1-1024)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--in-ring-bytes", f.in_ring_bytes, "Each host's inbound ring (host -> daemon): a power of two >= 4K")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  app.add_option("--out-ring-bytes", f.out_ring_bytes,
                 "Each host's outbound ring (daemon -> host; decisions): a power of two >= 4K")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
  app.add_option("--max-record-bytes", f.max_record_bytes,
                 "Largest record, header included (default: 64K, at most a quarter of the smaller ring)")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--heartbeat-ms", f.heartbeat_ms, "Heartbeat interval; hosts call the daemon gone after 5 missed")
      ->check(CLI::Range(0.01, 10000.0))
      ->capture_default_str();
  app.add_option("--stuck-timeout-ms", f.stuck_timeout_ms,
                 "A record left uncommitted this long resets its host's slot")
      ->check(CLI::Range(1.0, 3'600'000.0))
      ->capture_default_str();
  app.add_option("--outbound-stall-timeout-ms", f.outbound_stall_timeout_ms,
                 "A host whose outbound ring stays full, unread, this long is reset (it holds everyone back until then)")
      ->check(CLI::Range(1.0, 3'600'000.0))
      ->capture_default_str();
  app.add_option("--batch", f.batch, "Inbound records applied per kernel batch at most")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--idle", f.idle,
                 "When there is nothing to do: spin (lowest latency, a full core), yield, or sleep "
                 "(spin, yield, then back off up to 0.4 ms)")
      ->check(CLI::IsMember({"spin", "yield", "sleep"}))
      ->capture_default_str();
  app.add_option("--threads", f.threads, "Kernel threads for parallel batches (1: all on the serving thread)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_flag("--status", f.status,
               "Attach read-only to the running daemon's segment (--name), print its queue depths, agents "
               "by presence, counters and rates over one second, and exit");
  app.footer(kFooter);

  try {
    app.parse(argc, argv);
    if (!f.status && f.config_path.empty()) throw CLI::RequiredError("--config");
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (f.status) return switchboard::daemon::print_status(f.name, std::chrono::seconds(1), stdout);
  return serve(f);
}
