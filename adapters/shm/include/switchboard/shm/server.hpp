#pragma once
// The daemon side of the shared-memory protocol (docs/protocol.md): creates the segment, watches
// the host slots, reads events from every attached host's inbound ring, applies them to a Kernel
// in batches and writes decisions, errors, acks and notices to the outbound rings.
//
// Threads: a Server is driven by one thread at a time (the caller of poll_once / run); it owns
// the Kernel. Nothing in it is shared with other threads of this process; what it shares with
// hosts lives in the segment, and every shared word there says who writes it and who reads it
// (protocol.h). The daemon trusts no byte a host writes: records are copied out of the ring
// before they are decoded, and a lying length or index resets that host's slot, never the daemon.
//
// Nothing is dropped: when an attached host's outbound ring is full, the server keeps what it
// could not write and takes no inbound record from anyone until that ring has room (heartbeat,
// slot handshakes and the watch over dead hosts go on meanwhile). A host that reads nothing
// while its ring stays full for outbound_stall_timeout is reset like a stuck one, so that it
// cannot hold everyone back for longer. A host that died, asked to detach or was reset gets
// nothing more; its unread outputs are discarded with its slot.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/config.hpp"
#include "switchboard/kernel.hpp"
#include "switchboard/result.hpp"
#include "switchboard/shm/protocol.h"

namespace switchboard::shm {

// What run() does when a pass found nothing to do.
enum class IdleStrategy : std::uint8_t {
  spin,   // pause instruction and poll again: lowest latency, one core at 100%
  yield,  // sched_yield between polls: gives the core away when another thread wants it
  sleep,  // spin, then yield, then sleep with a back-off up to 400 us (the protocol: < 1 ms)
};

struct ServerOptions {
  std::string name = SB_SHM_DEFAULT_NAME;  // shm_open name: one leading '/', no other
  std::uint32_t mode = 0600;               // the segment's permission bits (umask ignored)
  std::optional<std::uint32_t> group;      // gid given to the segment (fchown), if any
  std::uint32_t max_hosts = 8;             // host slots, 1 .. 1024
  std::uint64_t in_ring_bytes = std::uint64_t{1} << 20;   // per host, a power of two >= 4 KiB
  std::uint64_t out_ring_bytes = std::uint64_t{4} << 20;  // per host, a power of two >= 4 KiB
  // The largest record (header included), 1 KiB .. a quarter of the smaller ring.
  std::uint32_t max_record_size = 64u << 10;
  std::chrono::nanoseconds heartbeat_interval = std::chrono::milliseconds(10);
  std::chrono::nanoseconds stuck_timeout = std::chrono::seconds(1);
  // A host whose outbound ring stays full, its head not moving, this long is reset (slot RESET,
  // its outputs discarded) so that the others go on: it holds everyone back until then.
  std::chrono::nanoseconds outbound_stall_timeout = std::chrono::seconds(2);
  // How often the OFD locks of non-free slots are tested (a host's death is seen this late).
  std::chrono::nanoseconds host_check_interval = std::chrono::milliseconds(50);
  // How often the statistics block is refreshed.
  std::chrono::nanoseconds stats_interval = std::chrono::milliseconds(100);
  std::size_t batch_size = 1024;  // inbound records per Kernel::apply_batch at most
  IdleStrategy idle = IdleStrategy::sleep;
  KernelOptions kernel;
};

// What the server counted since it started; the statistics block publishes the same numbers.
struct ServerCounters {
  std::uint64_t records_in = 0;      // inbound records taken (applied, refused or malformed)
  std::uint64_t events_applied = 0;  // events the kernel accepted
  std::uint64_t events_refused = 0;  // events the kernel refused (an ERROR each)
  std::uint64_t malformed = 0;       // records that could not be decoded (an ERROR each)
  std::uint64_t decisions = 0;       // decisions made = the last DECISION sequence number
  std::uint64_t acks = 0;            // ACK records written
  std::uint64_t stuck_resets = 0;    // slots reset for a stuck or corrupt ring
  std::uint64_t stall_resets = 0;    // slots reset for an outbound ring that stayed full
  std::uint64_t hosts_died = 0;      // slots freed because their host's lock was gone
  std::uint64_t backpressure_waits = 0;  // times inbound reading stopped for a full outbound ring
};

// One lifecycle line (start, attach, detach, host died, stuck or stall reset, stop); never per
// record.
using LogFn = std::function<void(std::string_view line)>;

class Server {
 public:
  // Builds the kernel for `config`, creates the segment (replacing a stale one whose daemon is
  // gone; refusing one whose daemon is alive) and marks it READY. Errors: the kernel's for a
  // configuration beyond its limits, config_invalid_value for bad options, config_io for a
  // segment that cannot be created (the message names the segment and the system error).
  [[nodiscard]] static Result<Server> create(Config config, ServerOptions options = {},
                                             LogFn log = {});

  Server(Server&&) noexcept;
  Server& operator=(Server&&) noexcept;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // stop(), then unmaps.
  ~Server();

  // One pass: heartbeat, slot handshakes, host watch (when due), pending outputs, then at most
  // one batch of inbound records applied and answered, then statistics (when due). Returns the
  // number of inbound records taken (0 when idle or waiting for a full outbound ring).
  std::size_t poll_once();
  // poll_once until `stop` is true, idling as options.idle says. Does not stop the segment: the
  // caller (or the destructor) calls stop().
  void run(const std::atomic<bool>& stop);
  // Stores state STOPPING and unlinks the segment's name (only if it is still this segment's).
  // Idempotent; poll_once does nothing afterwards.
  void stop();

  [[nodiscard]] const Kernel& kernel() const noexcept;
  [[nodiscard]] const ServerCounters& counters() const noexcept;
  [[nodiscard]] const ServerOptions& options() const noexcept;
  // The segment's generation (non-zero, different at every start) and size in bytes.
  [[nodiscard]] std::uint64_t generation() const noexcept;
  [[nodiscard]] std::uint64_t segment_size() const noexcept;
  // Slots whose host is attached now (ATTACHED or detaching).
  [[nodiscard]] std::size_t hosts_attached() const noexcept;

 private:
  struct State;
  explicit Server(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace switchboard::shm
