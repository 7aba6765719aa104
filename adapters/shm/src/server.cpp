#include "switchboard/shm/server.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "switchboard/shm/record_codec.hpp"
#include "switchboard/shm/ring.h"

namespace switchboard::shm {

namespace {

// --- time and shared words -------------------------------------------------------------------

std::uint64_t clock_ns(clockid_t clock) noexcept {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}
std::uint64_t monotonic_ns() noexcept { return clock_ns(CLOCK_MONOTONIC); }
#ifdef CLOCK_MONOTONIC_COARSE
// The clock of the last tick: a fifth of the cost of CLOCK_MONOTONIC (no time-stamp counter read),
// at the resolution of a tick (1 to 10 ms).
std::uint64_t coarse_ns() noexcept { return clock_ns(CLOCK_MONOTONIC_COARSE); }
#else
std::uint64_t coarse_ns() noexcept { return monotonic_ns(); }
#endif

// Counters and statistics: each word stands alone and no reader orders another access after it
// (docs/protocol.md: "a reader may see counters of two refreshes side by side"), so relaxed
// suffices; the store is still atomic so that a reader never sees a torn word.
void store_counter(std::uint64_t* word, std::uint64_t value) noexcept {
  __atomic_store_n(word, value, __ATOMIC_RELAXED);
}

void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

std::string errno_text(int err) { return std::string(std::strerror(err)); }

Error io_error(std::string message) { return Error{ErrorCode::config_io, std::move(message)}; }
Error option_error(std::string message) {
  return Error{ErrorCode::config_invalid_value, "switchboardd options: " + std::move(message)};
}

constexpr std::uint64_t kPage = SB_SHM_PAGE;
constexpr std::uint64_t align_page(std::uint64_t n) { return (n + kPage - 1) / kPage * kPage; }
constexpr bool is_power_of_two(std::uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// --- layout ------------------------------------------------------------------------------------

// Where everything lives (docs/protocol.md, "The segment"): header, slots, directory, statistics,
// then per host an inbound ring (header page, data) and an outbound ring (header page, data).
// Ring capacities are powers of two of at least a page, so every data area is page-aligned.
struct Layout {
  std::uint64_t slots_offset = kPage;
  std::uint64_t directory_offset = 0;
  std::uint64_t directory_size = 0;
  std::uint64_t stats_offset = 0;
  std::uint64_t stats_size = 0;
  std::uint64_t rings_offset = 0;
  std::uint64_t host_stride = 0;  // bytes of one host's two rings
  std::uint64_t in_capacity = 0;
  std::uint64_t out_capacity = 0;
  std::uint64_t size = 0;

  [[nodiscard]] std::uint64_t in_header(std::uint32_t i) const { return rings_offset + i * host_stride; }
  [[nodiscard]] std::uint64_t out_header(std::uint32_t i) const {
    return in_header(i) + kPage + in_capacity;
  }
};

Layout plan_layout(const ServerOptions& o, std::uint64_t directory_size, std::uint32_t queues,
                   std::uint32_t presences) {
  Layout l;
  l.in_capacity = o.in_ring_bytes;
  l.out_capacity = o.out_ring_bytes;
  l.directory_offset = align_page(l.slots_offset + std::uint64_t{o.max_hosts} * sizeof(sb_host_slot));
  l.directory_size = directory_size;
  l.stats_offset = align_page(l.directory_offset + directory_size);
  l.stats_size = sizeof(sb_stats) + (std::uint64_t{queues} + presences) * sizeof(std::uint64_t);
  l.rings_offset = align_page(l.stats_offset + l.stats_size);
  l.host_stride = 2 * kPage + l.in_capacity + l.out_capacity;
  l.size = l.rings_offset + std::uint64_t{o.max_hosts} * l.host_stride;
  return l;
}

// The directory's five lists (docs/protocol.md, "Directory").
Result<std::vector<std::uint8_t>> encode_directory(const Config& config) {
  std::vector<std::uint8_t> out;
  const auto put = [&out](std::uint64_t v, int bytes) {
    for (int b = 0; b < bytes; ++b) out.push_back(static_cast<std::uint8_t>(v >> (8 * b)));
  };
  std::optional<std::string> too_long;
  const auto list = [&](auto begin, auto end, auto name_of) {
    put(static_cast<std::uint64_t>(end - begin), 4);
    for (auto it = begin; it != end; ++it) {
      const std::string& name = name_of(*it);
      if (name.size() > 0xffff) too_long = name.substr(0, 64);
      const std::size_t n = std::min<std::size_t>(name.size(), 0xffff);
      put(n, 2);
      out.insert(out.end(), name.begin(), name.begin() + static_cast<std::ptrdiff_t>(n));
    }
  };
  list(config.queues.begin(), config.queues.end(), [](const QueueConfig& q) -> const std::string& { return q.name; });
  list(config.skills.begin(), config.skills.end(), [](const std::string& s) -> const std::string& { return s; });
  list(config.presences.begin(), config.presences.end(), [](const std::string& s) -> const std::string& { return s; });
  list(config.profiles.begin(), config.profiles.end(), [](const ProfileConfig& p) -> const std::string& { return p.name; });
  list(config.channels.begin(), config.channels.end(), [](const ChannelConfig& c) -> const std::string& { return c.name; });
  if (too_long) return option_error("a name longer than 65,535 bytes cannot go in the directory: " + *too_long + "...");
  return out;
}

std::optional<Error> check_options(const ServerOptions& o) {
  if (o.name.size() < 2 || o.name[0] != '/' || o.name.find('/', 1) != std::string::npos ||
      o.name.size() > 255) {
    return option_error("segment name \"" + o.name + "\" must be '/' followed by 1 to 254 characters and no other '/'");
  }
  if (o.max_hosts < 1 || o.max_hosts > 1024) return option_error("max_hosts must be 1 to 1024");
  constexpr std::uint64_t kMaxRing = std::uint64_t{1} << 30;
  for (const auto& [what, bytes] : {std::pair{"inbound", o.in_ring_bytes}, std::pair{"outbound", o.out_ring_bytes}}) {
    if (!is_power_of_two(bytes) || bytes < kPage || bytes > kMaxRing) {
      return option_error(std::string(what) + " ring bytes " + std::to_string(bytes) +
                          " must be a power of two from 4096 to 1 GiB");
    }
  }
  const std::uint64_t smaller = std::min(o.in_ring_bytes, o.out_ring_bytes);
  if (o.max_record_size < 1024 || o.max_record_size > smaller / 4) {
    return option_error("max_record_size " + std::to_string(o.max_record_size) +
                        " must be at least 1024 and at most a quarter of the smaller ring (" +
                        std::to_string(smaller / 4) + ")");
  }
  if (o.heartbeat_interval.count() <= 0 || o.stuck_timeout.count() <= 0 ||
      o.outbound_stall_timeout.count() <= 0 || o.host_check_interval.count() <= 0 ||
      o.stats_interval.count() <= 0) {
    return option_error(
        "heartbeat interval, stuck and outbound stall timeouts, host check and statistics intervals must be positive");
  }
  if (o.batch_size < 1) return option_error("batch size must be at least 1");
  if ((o.mode & ~0777u) != 0) return option_error("mode must be permission bits (0 to 0777)");
  return std::nullopt;
}

bool pid_alive(std::uint32_t pid) {
  if (pid == 0 || pid > static_cast<std::uint32_t>(std::numeric_limits<pid_t>::max())) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// --- an existing segment of our name ----------------------------------------------------------

// What the header of a segment left at our name says, read without trusting it.
struct Existing {
  bool valid = false;  // magic and a daemon pid present
  std::uint32_t pid = 0;
  std::uint64_t heartbeat_ns = 0;
  std::uint64_t interval_ns = 0;
  std::uint32_t state = 0;
  std::uint64_t generation = 0;
};

// Reads the header of the segment now at `name`; nullopt when there is none any more.
Result<std::optional<Existing>> read_existing(const std::string& name) {
  const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<Existing>{};
    return io_error("cannot open the existing segment " + name + " to see whether its daemon is alive: " +
                    errno_text(errno));
  }
  Existing e;
  // A daemon that has just created the segment sizes it and writes its pid and heartbeat before
  // the magic (release); give one that is that far along a moment to get there.
  for (int attempt = 0; attempt < 20 && !e.valid; ++attempt) {
    struct stat st{};
    if (::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) >= sizeof(sb_segment_header)) {
      void* map = ::mmap(nullptr, sizeof(sb_segment_header), PROT_READ, MAP_SHARED, fd, 0);
      if (map != MAP_FAILED) {
        const auto* h = static_cast<const sb_segment_header*>(map);
        // Acquire on magic: the fields below were written before it (create_segment).
        if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == SB_SHM_MAGIC) {
          e.pid = __atomic_load_n(&h->daemon_pid, __ATOMIC_RELAXED);
          e.heartbeat_ns = sb_load_u64(&h->heartbeat_ns);
          e.interval_ns = __atomic_load_n(&h->heartbeat_interval_ns, __ATOMIC_RELAXED);
          e.state = sb_load_u32(&h->state);
          e.generation = sb_load_u64(&h->generation);
          e.valid = e.pid != 0;
        }
        ::munmap(map, sizeof(sb_segment_header));
      }
    }
    if (!e.valid) ::usleep(10'000);
  }
  ::close(fd);
  return std::optional<Existing>{e};
}

// --- per-host state (the daemon's side of one slot) -------------------------------------------

// Every byte of the segment can be written by any process that maps it, so the daemon reads
// back only what it must, and nothing it reads decides where it reads or writes:
//  - a slot's state: acted on only when it is one of the handshake's values; attach_flags (one
//    bit) and host_pid (log lines) at attach;
//  - an inbound ring's tail and records: sb_ring_peek checks each length against tail - head,
//    the end of the data and max_record_size, and take_one copies the record after reading its
//    length once more and finding the one peek checked;
//  - an outbound ring's head: the writer only compares it (every position is masked into the
//    data), and flush resets a slot whose head no reader produces;
//  - never: the ring headers' capacity and data_offset or the slot's ring offsets (the daemon's
//    views come from its Layout, bind_rings; it writes the words again at every attach,
//    write_ring_words), its own indices (private copies), the segment header, the statistics or
//    the directory (written only).
// A stale segment's header (read_existing) is read to decide whether its daemon is alive: its
// words are compared and logged, never followed.

// The daemon's view of a slot. `state` in the segment is the protocol's; `mode` is what the
// daemon has done with the slot, which a host cannot change behind its back.
enum class Mode : std::uint8_t {
  free,       // no host (or one that has not been attached yet)
  attached,   // reading its inbound ring, writing its outbound ring
  detaching,  // it asked to leave: applying what it committed, then FREE
  reset,      // stuck or corrupt: reading nothing until it attaches again
};

// An output the outbound ring had no room for yet (back-pressure).
struct PendingRecord {
  std::uint16_t type = 0;
  std::uint64_t sequence = 0;
  std::vector<std::uint8_t> payload;
};

struct Host {
  std::uint16_t index = 0;
  sb_host_slot* slot = nullptr;
  sb_ring_header* in_header = nullptr;
  sb_ring_header* out_header = nullptr;
  sb_ring in{};   // the daemon reads
  sb_ring out{};  // the daemon writes
  Mode mode = Mode::free;
  bool dead = false;       // its lock is gone: applying what it committed, then FREE
  bool ended = false;      // detaching or dead, and its inbound ring holds nothing more to apply
  bool decisions = false;  // SB_ATTACH_DECISIONS, read at attach
  // Records written to the outbound ring whose tail is not published yet (publish_outputs).
  bool out_unpublished = false;
  std::uint32_t pid = 0;   // host_pid, read at attach (for log lines)
  std::uint64_t generation = 0;  // the value the daemon last stored in slot->generation
  std::uint64_t stuck_position = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t stuck_since_ns = 0;
  std::string end_note;  // why draining stopped (an uncommitted or corrupt record), for the log
  std::deque<PendingRecord> pending;
  // While outputs wait (pending not empty): since when, and the outbound head then; a head that
  // moves restarts the clock (a slow reader is not a stalled one).
  std::uint64_t stalled_since_ns = 0;
  std::uint64_t stalled_head = 0;
  std::uint64_t records_in = 0;  // private copies of the slot's counters
  std::uint64_t errors_out = 0;
  std::uint64_t resets = 0;
  std::uint64_t taken_since_attach = 0;

  [[nodiscard]] bool readable() const noexcept {
    return (mode == Mode::attached || mode == Mode::detaching) && !ended;
  }
  // Outputs to it wait for room (and hold everyone back) only while it is attached and alive.
  [[nodiscard]] bool blocking() const noexcept { return mode == Mode::attached && !dead; }
  [[nodiscard]] std::string who() const {
    return "slot " + std::to_string(index) + " (host pid " + std::to_string(pid) + ")";
  }
};

// One inbound record taken into the current batch, in the order taken.
struct Entry {
  std::uint16_t slot = 0;
  std::uint16_t type = 0;
  std::uint16_t flags = 0;
  std::uint64_t sequence = 0;
  bool malformed = false;
  std::size_t index = 0;  // into events (decoded) or errors (malformed)
};

}  // namespace

// --- the server's state ------------------------------------------------------------------------

struct Server::State {
  ServerOptions options;
  LogFn log;
  Kernel kernel;

  // The segment. Written by this thread only; hosts map the same bytes.
  std::string name;
  int fd = -1;
  dev_t device = 0;
  ino_t inode = 0;
  std::uint8_t* base = nullptr;
  Layout layout;
  sb_segment_header* header = nullptr;
  sb_stats* stats = nullptr;
  std::uint64_t* queue_depths = nullptr;     // stats: queue_count words
  std::uint64_t* presence_agents = nullptr;  // stats: presence_count words
  std::uint64_t generation = 0;
  bool stopped = false;

  std::vector<Host> hosts;
  ServerCounters counters;
  std::uint64_t next_heartbeat_ns = 0;
  std::uint64_t next_host_check_ns = 0;
  std::uint64_t next_stats_ns = 0;
  bool waiting = false;  // the last pass stopped reading for a full outbound ring
  // The pass clock (pass_clock): the last CLOCK_MONOTONIC read, the coarse clock then, the idle
  // passes since, and whether the last pass took records.
  std::uint64_t clock_now = 0;
  std::uint64_t clock_coarse = 0;
  std::uint32_t clock_idle_passes = 0;
  bool clock_busy = true;
  std::uint32_t next_first_slot = 0;  // round robin: where the next batch starts reading

  // Reused per batch, so that a steady stream does not allocate once they have grown.
  std::vector<Entry> entries;
  // Decoded events of the batch: the first event_count are this batch's. The others stay from
  // earlier batches, so that decode_event overwrites them in place instead of building events.
  std::vector<Event> events;
  std::size_t event_count = 0;
  std::vector<Error> errors;
  std::vector<Decision> decisions;
  std::vector<std::size_t> ends;
  std::vector<std::uint8_t> scratch;  // one inbound payload, copied out of the ring
  std::vector<std::uint8_t> encoded;  // one outbound payload
  std::vector<std::uint16_t> subscribers;
  std::vector<std::uint64_t> presence_scratch;

  State(ServerOptions o, LogFn l, Kernel k) : options(std::move(o)), log(std::move(l)), kernel(std::move(k)) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (base != nullptr) ::munmap(base, layout.size);
    if (fd >= 0) ::close(fd);
  }

  void say(const std::string& line) const {
    if (log) log(line);
  }

  // --- creation ----------------------------------------------------------------------------

  std::optional<Error> create_segment(const std::vector<std::uint8_t>& directory) {
    const mode_t mode = static_cast<mode_t>(options.mode);
    for (int attempt = 0; attempt < 2; ++attempt) {
      fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, mode);
      if (fd >= 0) break;
      if (errno != EEXIST) return io_error("cannot create segment " + name + ": " + errno_text(errno));
      if (attempt == 1) {
        return io_error("segment " + name + " was created again by someone else while this daemon replaced it");
      }
      Result<std::optional<Existing>> existing = read_existing(name);
      if (!existing) return existing.error();
      if (!existing.value()) continue;  // gone meanwhile: create it
      const Existing& e = *existing.value();
      if (e.valid) {
        const std::uint64_t now = monotonic_ns();
        const std::uint64_t interval = e.interval_ns != 0 ? e.interval_ns : 10'000'000u;
        const bool fresh = e.state != SB_SEGMENT_STOPPING &&
                           (e.heartbeat_ns > now || now - e.heartbeat_ns <= 5 * interval);
        const bool alive = pid_alive(e.pid);
        if (alive && fresh) {
          return io_error("segment " + name + " belongs to a running switchboardd (pid " + std::to_string(e.pid) +
                          ", heartbeat fresh); stop it first or choose another --name");
        }
        say("replacing stale segment of pid " + std::to_string(e.pid) + " at " + name + " (" +
            (alive ? "heartbeat " + std::to_string((now > e.heartbeat_ns ? now - e.heartbeat_ns : 0) / 1'000'000u) +
                         " ms old"
                   : std::string(e.state == SB_SEGMENT_STOPPING ? "it was stopping" : "that process is gone")) +
            ")");
      } else {
        say("replacing segment " + name + ": it holds no switchboard header (a daemon killed while creating it)");
      }
      if (::shm_unlink(name.c_str()) != 0 && errno != ENOENT) {
        return io_error("cannot remove stale segment " + name + ": " + errno_text(errno));
      }
      generation = e.generation;  // the new one must differ
    }
    // shm_open applies the umask; the mode asked for is the mode meant.
    if (::fchmod(fd, mode) != 0) return unlink_with(io_error("cannot set the mode of " + name + ": " + errno_text(errno)));
    if (options.group && ::fchown(fd, static_cast<uid_t>(-1), static_cast<gid_t>(*options.group)) != 0) {
      return unlink_with(io_error("cannot give segment " + name + " to group " + std::to_string(*options.group) +
                                  ": " + errno_text(errno)));
    }
    if (::ftruncate(fd, static_cast<off_t>(layout.size)) != 0) {
      return unlink_with(io_error("cannot size segment " + name + " to " + std::to_string(layout.size) +
                                  " bytes: " + errno_text(errno)));
    }
    struct stat st{};
    if (::fstat(fd, &st) == 0) {
      device = st.st_dev;
      inode = st.st_ino;
    }
    void* map = ::mmap(nullptr, layout.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (map == MAP_FAILED) return unlink_with(io_error("cannot map segment " + name + ": " + errno_text(errno)));
    base = static_cast<std::uint8_t*>(map);
    header = reinterpret_cast<sb_segment_header*>(base);

    // First what tells another daemon that this one is alive (its stale check reads these once it
    // sees the magic, which is stored last with release).
    const std::uint64_t now = monotonic_ns();
    header->daemon_pid = static_cast<std::uint32_t>(::getpid());
    header->heartbeat_interval_ns = static_cast<std::uint64_t>(options.heartbeat_interval.count());
    sb_store_u64(&header->heartbeat_ns, now);
    header->version = SB_SHM_VERSION;
    header->header_size = sizeof(sb_segment_header);
    header->segment_size = layout.size;
    header->max_hosts = options.max_hosts;
    header->host_slot_size = sizeof(sb_host_slot);
    header->host_slots_offset = layout.slots_offset;
    header->in_ring_capacity = layout.in_capacity;
    header->out_ring_capacity = layout.out_capacity;
    header->max_record_size = options.max_record_size;
    header->stuck_timeout_ns = static_cast<std::uint64_t>(options.stuck_timeout.count());
    header->directory_offset = layout.directory_offset;
    header->directory_size = layout.directory_size;
    header->stats_offset = layout.stats_offset;
    header->stats_size = layout.stats_size;
    header->queue_count = static_cast<std::uint32_t>(kernel.config().queues.size());
    header->presence_count = static_cast<std::uint32_t>(kernel.config().presences.size());
    __atomic_store_n(&header->magic, SB_SHM_MAGIC, __ATOMIC_RELEASE);

    std::memcpy(base + layout.directory_offset, directory.data(), directory.size());
    stats = reinterpret_cast<sb_stats*>(base + layout.stats_offset);
    queue_depths = reinterpret_cast<std::uint64_t*>(base + layout.stats_offset + sizeof(sb_stats));
    // The count from the configuration, not read back from the header: from the shm_open above
    // on, a process with write access may change the segment's bytes.
    presence_agents = queue_depths + kernel.config().queues.size();
    store_counter(&stats->started_ns, now);
    store_counter(&stats->updated_ns, now);

    hosts.resize(options.max_hosts);
    for (std::uint32_t i = 0; i < options.max_hosts; ++i) {
      Host& h = hosts[i];
      h.index = static_cast<std::uint16_t>(i);
      h.slot = reinterpret_cast<sb_host_slot*>(base + layout.slots_offset + i * sizeof(sb_host_slot));
      h.in_header = reinterpret_cast<sb_ring_header*>(base + layout.in_header(i));
      h.out_header = reinterpret_cast<sb_ring_header*>(base + layout.out_header(i));
      write_ring_words(h);
    }

    // Non-zero, and different from the segment this one replaces (and from any earlier start:
    // the wall clock in ns does not repeat across starts).
    const std::uint64_t previous = generation;
    generation = clock_ns(CLOCK_REALTIME) ^ (static_cast<std::uint64_t>(::getpid()) << 40);
    while (generation == 0 || generation == previous) ++generation;
    sb_store_u64(&header->generation, generation);
    next_heartbeat_ns = now + static_cast<std::uint64_t>(options.heartbeat_interval.count());
    next_host_check_ns = now + static_cast<std::uint64_t>(options.host_check_interval.count());
    next_stats_ns = now;
    refresh_stats(now);
    // Last, with release: a host that sees READY (acquire) sees everything above.
    sb_store_u32(&header->state, SB_SEGMENT_READY);
    return std::nullopt;
  }

  // The words of h's slot and ring headers that say where its rings are, from the layout. The
  // daemon writes them and never reads them: a host may overwrite them at any time, so they are
  // written again at every attach (a host that binds from them then finds the real rings), and
  // the daemon's own views of the rings come from the layout (bind_rings). Relaxed: a host reads
  // them only after it sees its slot ATTACHED, stored after these with release (attach), or READY
  // (create_segment).
  void write_ring_words(Host& h) const {
    const std::uint64_t in_at = layout.in_header(h.index);
    const std::uint64_t out_at = layout.out_header(h.index);
    __atomic_store_n(&h.slot->in_ring_offset, in_at, __ATOMIC_RELAXED);
    __atomic_store_n(&h.slot->out_ring_offset, out_at, __ATOMIC_RELAXED);
    __atomic_store_n(&h.in_header->capacity, layout.in_capacity, __ATOMIC_RELAXED);
    __atomic_store_n(&h.in_header->data_offset, in_at + kPage, __ATOMIC_RELAXED);
    __atomic_store_n(&h.out_header->capacity, layout.out_capacity, __ATOMIC_RELAXED);
    __atomic_store_n(&h.out_header->data_offset, out_at + kPage, __ATOMIC_RELAXED);
  }

  // The daemon's views of h's rings, both at position 0 (attach has just reset them), from the
  // layout alone: nothing a host wrote decides where the daemon reads or writes. The layout meets
  // sb_ring_bind_at's conditions: capacities are powers of two of at least a page, and
  // max_record_size at most a quarter of the smaller (check_options).
  void bind_rings(Host& h) {
    sb_ring_bind_at(&h.in, h.in_header, base + layout.in_header(h.index) + kPage, layout.in_capacity,
                    options.max_record_size, 0, 0);
    sb_ring_bind_at(&h.out, h.out_header, base + layout.out_header(h.index) + kPage, layout.out_capacity,
                    options.max_record_size, 0, 0);
  }

  Error unlink_with(Error error) {
    ::shm_unlink(name.c_str());
    return error;
  }

  // --- the pass ------------------------------------------------------------------------------

  // The time a pass works with. Every deadline of the pass is milliseconds away, and an idle
  // spinning pass takes tens of nanoseconds, of which CLOCK_MONOTONIC would be most: so it is
  // read again only when the coarse clock has ticked, after a pass that took records, or every
  // 64 idle passes. `now` is then at most a tick (or 64 idle passes) old; the heartbeat still
  // changes every tick at worst, and a caller that calls poll_once seldom sees the tick anyway.
  std::uint64_t pass_clock() {
    const std::uint64_t coarse = coarse_ns();
    if (clock_busy || coarse != clock_coarse || ++clock_idle_passes >= 64) {
      clock_coarse = coarse;
      return fresh_clock();
    }
    return clock_now;
  }
  // The exact time, for the start of a timeout: a start up to a tick early would shorten it.
  std::uint64_t fresh_clock() {
    clock_now = monotonic_ns();
    clock_idle_passes = 0;
    return clock_now;
  }

  std::size_t poll_once() {
    if (stopped) return 0;
    const std::uint64_t now = pass_clock();
    if (now >= next_heartbeat_ns) {
      // Release is more than the word needs (hosts only compare values), and costs nothing on
      // x86-64; it keeps the protocol's one rule for the daemon's shared words.
      sb_store_u64(&header->heartbeat_ns, now);
      next_heartbeat_ns = now + static_cast<std::uint64_t>(options.heartbeat_interval.count());
    }
    watch_slots();
    if (now >= next_host_check_ns) {
      check_hosts();
      next_host_check_ns = now + static_cast<std::uint64_t>(options.host_check_interval.count());
    }
    std::size_t taken = 0;
    if (flush_pending(now)) {
      if (!waiting) ++counters.backpressure_waits;
      waiting = true;
      watch_heads(now);
    } else {
      waiting = false;
      taken = take_batch(now);
      if (taken != 0) apply_and_answer();
    }
    publish_outputs();
    finish_ended();
    if (now >= next_stats_ns) {
      refresh_stats(now);
      next_stats_ns = now + static_cast<std::uint64_t>(options.stats_interval.count());
    }
    clock_busy = taken != 0;
    return taken;
  }

  // Slot handshakes: the states hosts store (ATTACH_REQUESTED, DETACH_REQUESTED).
  void watch_slots() {
    for (Host& h : hosts) {
      // Acquire: a host writes attach_flags and host_pid before it stores ATTACH_REQUESTED, and
      // commits its last records before DETACH_REQUESTED (release on its side).
      const std::uint32_t state = sb_load_u32(&h.slot->state);
      switch (state) {
        case SB_SLOT_ATTACH_REQUESTED:
          if (!h.dead) attach(h);
          break;
        case SB_SLOT_DETACH_REQUESTED:
          if (h.mode == Mode::attached) {
            h.mode = Mode::detaching;
            flush(h);  // what fits now; the rest is dropped: a leaving host reads no more
            h.pending.clear();
          } else if (h.mode == Mode::reset || h.mode == Mode::free) {
            free_slot(h, "detach: " + h.who() + " after a reset (nothing to apply)");
          }
          break;
        case SB_SLOT_FREE:
          if (h.mode != Mode::free && !h.dead) {
            // Only the daemon frees a slot; a host that did it has left without asking.
            h.mode = Mode::free;
            h.pending.clear();
            say("detach: " + h.who() + " freed its slot itself; nothing more is read from it");
          }
          break;
        default:
          break;
      }
    }
  }

  void attach(Host& h) {
    const bool again = h.mode == Mode::reset;
    // Both rings restart at 0, and the words that say where they are are written again (a host
    // may have changed them). Relaxed: the host binds its sides of the rings only after it sees
    // ATTACHED, which the release store of state below publishes after these.
    for (sb_ring_header* r : {h.in_header, h.out_header}) {
      __atomic_store_n(&r->tail, 0, __ATOMIC_RELAXED);
      __atomic_store_n(&r->head, 0, __ATOMIC_RELAXED);
    }
    write_ring_words(h);
    bind_rings(h);
    h.out_unpublished = false;
    h.pending.clear();
    h.dead = false;
    h.ended = false;
    h.end_note.clear();
    h.stuck_position = std::numeric_limits<std::uint64_t>::max();
    // Plain reads: the host wrote them before its release store of ATTACH_REQUESTED.
    h.decisions = (h.slot->attach_flags & SB_ATTACH_DECISIONS) != 0;
    h.pid = h.slot->host_pid;
    if (!again) {  // a new host: its counters start at 0 (a reset host keeps its history)
      h.records_in = h.errors_out = h.resets = 0;
      store_counter(&h.slot->records_in, 0);
      store_counter(&h.slot->errors_out, 0);
      store_counter(&h.slot->resets, 0);
    }
    h.taken_since_attach = 0;
    sb_store_u64(&h.slot->generation, ++h.generation);
    h.mode = Mode::attached;
    sb_store_u32(&h.slot->state, SB_SLOT_ATTACHED);
    say(std::string(again ? "re-attach: " : "attach: ") + h.who() + ", generation " +
        std::to_string(h.generation) + (h.decisions ? ", receives every decision" : ""));
  }

  [[nodiscard]] bool lock_held(const Host& h) const {
    struct flock lock{};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = static_cast<off_t>(layout.slots_offset + std::uint64_t{h.index} * sizeof(sb_host_slot));
    lock.l_len = sizeof(sb_host_slot);
    lock.l_pid = 0;  // required for OFD locks
    // The daemon holds no lock on the segment, so any lock this finds is a host's.
    if (::fcntl(fd, F_OFD_GETLK, &lock) != 0) return true;  // cannot tell: assume alive
    return lock.l_type != F_UNLCK;
  }

  // The watch over hosts that died: a slot that is not free and whose OFD lock is gone.
  void check_hosts() {
    for (Host& h : hosts) {
      if (h.dead) continue;
      const std::uint32_t state = sb_load_u32(&h.slot->state);
      if (state == SB_SLOT_FREE && h.mode == Mode::free) continue;
      if (lock_held(h)) continue;
      ++counters.hosts_died;
      if (h.mode == Mode::attached || h.mode == Mode::detaching) {
        h.dead = true;  // apply what it committed (take_batch), then free (finish_ended)
        h.pending.clear();
      } else {
        if (h.mode == Mode::free) h.pid = h.slot->host_pid;  // never attached: name the one that asked
        free_slot(h, "host died: " + h.who() + " in state " + std::to_string(state) + "; slot freed");
      }
    }
  }

  void free_slot(Host& h, const std::string& line) {
    h.mode = Mode::free;
    h.dead = false;
    h.ended = false;
    h.pending.clear();
    h.stuck_position = std::numeric_limits<std::uint64_t>::max();
    // Release: everything the daemon did with the slot's rings comes before a new owner's reset.
    sb_store_u32(&h.slot->state, SB_SLOT_FREE);
    say(line);
  }

  // Frees the detaching and dead hosts whose inbound ring has nothing more to apply (after the
  // batch that took their last records has been answered).
  void finish_ended() {
    for (Host& h : hosts) {
      if (!h.ended) continue;
      const std::string applied = std::to_string(h.taken_since_attach) + " records since attach";
      if (h.dead) {
        free_slot(h, "host died: " + h.who() + "; applied its committed records (" + applied + ")" +
                         (h.end_note.empty() ? "" : "; " + h.end_note) + "; slot freed");
      } else {
        free_slot(h, "detach: " + h.who() + " (" + applied + ")" + (h.end_note.empty() ? "" : "; " + h.end_note));
      }
    }
  }

  // Stuck or corrupt (or its outbound ring stalled): the host must attach again; nobody else
  // notices.
  void reset_slot(Host& h, const std::string& why, bool stalled = false) {
    h.pending.clear();
    ++(stalled ? counters.stall_resets : counters.stuck_resets);
    store_counter(&h.slot->resets, ++h.resets);
    say(std::string(stalled ? "stall reset: " : "stuck reset: ") + h.who() + ": " + why + "; slot reset (" +
        std::to_string(h.resets) + " so far)");
    if (h.mode == Mode::attached && !h.dead) {
      encoded.clear();
      encode_notice(NoticeCode::ring_reset, why, encoded);
      // If there is room: a host that does not read may not learn why, but it sees RESET.
      (void)sb_ring_write(&h.out, SB_REC_NOTICE, 0, 0, encoded.data(), static_cast<std::uint32_t>(encoded.size()));
    }
    if (h.dead || h.mode == Mode::detaching) {
      // Nobody will attach again: free the slot instead.
      h.ended = true;
      h.end_note = why;
      return;
    }
    sb_store_u64(&h.slot->generation, ++h.generation);
    h.mode = Mode::reset;
    sb_store_u32(&h.slot->state, SB_SLOT_RESET);
  }

  // --- outputs -------------------------------------------------------------------------------

  // Writes what waits for room, in order. True when an attached host still has outputs waiting
  // (the pass must not take inbound records).
  bool flush_pending(std::uint64_t now) {
    bool blocked = false;
    for (Host& h : hosts) {
      if (h.pending.empty()) {
        h.stalled_since_ns = 0;
        continue;
      }
      if (!h.blocking()) {
        h.pending.clear();
        continue;
      }
      flush(h);
      if (!h.pending.empty() && h.blocking() && !stalled(h, now)) blocked = true;
    }
    return blocked;
  }

  // h's outputs still wait for room. True when its ring has stayed full, with its head not
  // moving, for the stall timeout: then the slot is reset (as a stuck one: RESET, a NOTICE if it
  // fits, which it may not) and its outputs discarded, so that it no longer holds anyone back.
  bool stalled(Host& h, std::uint64_t now) {
    const std::uint64_t head = sb_load_u64(&h.out_header->head);
    if (h.stalled_since_ns == 0 || head != h.stalled_head) {
      h.stalled_since_ns = fresh_clock();
      h.stalled_head = head;
      return false;
    }
    // `now` may be a pass clock older than a start read fresh in this pass.
    const std::uint64_t waited = now > h.stalled_since_ns ? now - h.stalled_since_ns : 0;
    if (waited <= static_cast<std::uint64_t>(options.outbound_stall_timeout.count())) return false;
    reset_slot(h, "its outbound ring stayed full for " + std::to_string(waited / 1'000'000u) +
                      " ms without being read (" + std::to_string(h.out.own - head) + " bytes unread)",
               true);
    return true;
  }

  void flush(Host& h) {
    while (!h.pending.empty()) {
      const PendingRecord& r = h.pending.front();
      const sb_ring_status s = sb_ring_write_unpublished(&h.out, r.type, 0, r.sequence, r.payload.data(),
                                                         static_cast<std::uint32_t>(r.payload.size()));
      if (s != SB_RING_FULL) h.out_unpublished = true;
      if (s == SB_RING_FULL) {
        publish(h);
        // A full ring is a slow reader, unless its head is one no reader produces.
        const std::uint64_t head = sb_load_u64(&h.out_header->head);
        if (head > h.out.own || h.out.own - head > h.out.mask + 1) {
          reset_slot(h, "outbound head " + std::to_string(head) + " is not between 0 and tail " +
                            std::to_string(h.out.own) + " (corrupt)");
        }
        return;
      }
      h.pending.pop_front();
    }
    publish(h);
  }

  // Makes h's outbound records visible: one store of tail for all written since the last one
  // (sb_ring_claim_unpublished says why that is enough for the reader).
  void publish(Host& h) {
    if (!h.out_unpublished) return;
    h.out_unpublished = false;
    sb_ring_publish_tail(&h.out);
  }
  void publish_outputs() {
    for (Host& h : hosts) publish(h);
  }

  // One output record to one host: at once if there is room and nothing waits before it,
  // otherwise queued behind what waits (attached hosts) or dropped (a host that is leaving).
  void emit(Host& h, std::uint16_t type, std::uint64_t sequence, std::span<const std::uint8_t> payload) {
    if (h.dead || (h.mode != Mode::attached && h.mode != Mode::detaching)) return;
    if (h.pending.empty()) {
      const sb_ring_status s = sb_ring_write_unpublished(&h.out, type, 0, sequence, payload.data(),
                                                         static_cast<std::uint32_t>(payload.size()));
      if (s != SB_RING_FULL) {  // OK (TOO_BIG cannot happen: sizes are capped)
        h.out_unpublished = true;
        return;
      }
      publish(h);  // the host must see what is there to make room
    }
    if (h.mode != Mode::attached) return;
    h.pending.push_back(PendingRecord{type, sequence, {payload.begin(), payload.end()}});
  }

  // A DECISION to one host, encoded straight into its outbound ring when nothing waits before it
  // (the common case: no copy); otherwise as emit. Encoded again for every subscriber rather
  // than copied from another host's ring, whose bytes that host may have changed since.
  void emit_decision(Host& h, const Decision& decision, DecisionCause cause, std::uint64_t number) {
    if (h.dead || (h.mode != Mode::attached && h.mode != Mode::detaching)) return;
    if (h.pending.empty()) {
      const std::size_t size = decision_payload_size(decision);
      sb_record_header* rec = nullptr;
      if (sb_ring_claim_unpublished(&h.out, static_cast<std::uint32_t>(sizeof(sb_record_header) + size),
                                    SB_REC_DECISION, 0, number, &rec) == SB_RING_OK) {
        encode_decision_to(decision, cause, reinterpret_cast<std::uint8_t*>(rec + 1));
        sb_ring_commit(rec);
        h.out_unpublished = true;
        return;
      }
    }
    encoded.clear();
    encode_decision(decision, cause, encoded);
    emit(h, SB_REC_DECISION, number, encoded);
  }

  void send_error(Host& h, ErrorCode code, std::uint16_t record_type, std::uint64_t sequence,
                  std::string_view message) {
    // An ERROR must fit one record: header, code, type, the message's length, the message.
    const std::size_t room = options.max_record_size - sizeof(sb_record_header) - 6;
    if (message.size() > room) {
      std::size_t cut = room;
      while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0u) == 0x80u) --cut;  // UTF-8
      message = message.substr(0, cut);
    }
    encoded.clear();
    encode_error(code, record_type, message, encoded);
    emit(h, SB_REC_ERROR, sequence, encoded);
    ++h.errors_out;
  }

  // --- inbound -------------------------------------------------------------------------------

  // Takes up to batch_size committed records, round robin over the readable slots, each copied
  // out of the ring and decoded. Returns how many it took.
  std::size_t take_batch(std::uint64_t now) {
    entries.clear();
    event_count = 0;
    errors.clear();
    std::size_t readable = 0;
    for (const Host& h : hosts) readable += h.readable() ? 1 : 0;
    if (readable == 0) return 0;
    const std::size_t quota = std::max<std::size_t>(1, options.batch_size / readable);
    const std::uint32_t first = next_first_slot;
    next_first_slot = (next_first_slot + 1) % options.max_hosts;
    for (std::uint32_t k = 0; k < options.max_hosts && entries.size() < options.batch_size; ++k) {
      Host& h = hosts[(first + k) % options.max_hosts];
      if (!h.readable()) continue;
      std::size_t took = 0;
      while (took < quota && entries.size() < options.batch_size && h.readable()) {
        if (!take_one(h, now)) break;
        ++took;
      }
      // The payloads are copied: the host may reuse the room at once.
      if (took != 0) sb_ring_publish(&h.in);
    }
    return entries.size();
  }

  // Takes the record at the head of h's inbound ring into the batch. False when there is none
  // (empty, in progress, or the ring is corrupt and the slot was reset).
  bool take_one(Host& h, std::uint64_t now) {
    const sb_record_header* rec = nullptr;
    const sb_ring_status s = sb_ring_peek(&h.in, &rec);
    if (s == SB_RING_EMPTY) {
      h.stuck_position = std::numeric_limits<std::uint64_t>::max();
      if (h.dead || h.mode == Mode::detaching) h.ended = true;
      return false;
    }
    if (s == SB_RING_IN_PROGRESS) {
      in_progress(h, now);
      return false;
    }
    if (s != SB_RING_OK) {
      corrupt(h, "the inbound ring is corrupt at position " + std::to_string(h.in.own) + " (tail " +
                     std::to_string(h.in.other) + ")");
      return false;
    }
    h.stuck_position = std::numeric_limits<std::uint64_t>::max();
    // Copy before anything is decoded: the host may scribble on the shared bytes at any time,
    // so the length is read once and must be the one peek validated.
    const std::uint32_t commit = __atomic_load_n(&rec->commit, __ATOMIC_RELAXED);  // peek acquired it
    const std::uint32_t length = commit & SB_RECORD_LENGTH_MASK;
    if ((commit & SB_RECORD_COMMITTED) == 0u || length < sizeof(sb_record_header) ||
        sb_record_padded(length) != h.in.peeked) {
      corrupt(h, "a record at position " + std::to_string(h.in.own) + " changed its length while being read");
      return false;
    }
    sb_record_header copy;
    std::memcpy(&copy, rec, sizeof copy);
    const std::size_t size = length - sizeof(sb_record_header);
    scratch.resize(size);
    if (size != 0) std::memcpy(scratch.data(), sb_record_payload(rec), size);
    sb_ring_advance(&h.in);
    ++h.taken_since_attach;

    Entry e;
    e.slot = h.index;
    e.type = copy.type;
    e.flags = copy.flags;
    e.sequence = copy.sequence;
    if (event_count == events.size()) events.emplace_back();
    if (std::optional<Error> error = decode_event(copy.type, copy.sequence, scratch, events[event_count])) {
      e.malformed = true;
      e.index = errors.size();
      errors.push_back(std::move(*error));
    } else {
      e.index = event_count++;
    }
    entries.push_back(e);
    return true;
  }

  // The record at h's head is claimed and not committed: the end of a leaving host's records,
  // or a stuck one once it has stayed so for the stuck timeout.
  // Seen whenever the daemon catches up with a host in mid-write: builds no text unless it ends
  // something.
  void in_progress(Host& h, std::uint64_t now) {
    const auto where = [&h] { return "a record at position " + std::to_string(h.in.own) + " in progress"; };
    if (h.dead || h.mode == Mode::detaching) {
      h.ended = true;
      h.end_note = "dropped " + where();
      return;
    }
    if (h.stuck_position != h.in.own) {
      h.stuck_position = h.in.own;
      h.stuck_since_ns = fresh_clock();
      return;
    }
    // `now` may be a pass clock older than a start read fresh in this pass.
    const std::uint64_t waited = now > h.stuck_since_ns ? now - h.stuck_since_ns : 0;
    if (waited > static_cast<std::uint64_t>(options.stuck_timeout.count())) {
      reset_slot(h, where() + " for " + std::to_string(waited / 1'000'000u) + " ms");
    }
  }

  // While the pass waits for outbound room it takes nothing, but still looks at every head, so
  // that a stuck or corrupt ring is reset on time (and, if it was that host's outbound ring
  // that held everyone back, releases them).
  void watch_heads(std::uint64_t now) {
    for (Host& h : hosts) {
      if (!h.readable() || h.dead || h.mode != Mode::attached) continue;
      const sb_record_header* rec = nullptr;
      switch (sb_ring_peek(&h.in, &rec)) {  // takes nothing: only padding is stepped over
        case SB_RING_IN_PROGRESS:
          in_progress(h, now);
          break;
        case SB_RING_CORRUPT:
          corrupt(h, "the inbound ring is corrupt at position " + std::to_string(h.in.own) + " (tail " +
                         std::to_string(h.in.other) + ")");
          break;
        default:
          h.stuck_position = std::numeric_limits<std::uint64_t>::max();
          break;
      }
    }
  }

  void corrupt(Host& h, const std::string& why) {
    if (h.dead || h.mode == Mode::detaching) {
      h.ended = true;
      h.end_note = "stopped at " + why;
      return;
    }
    reset_slot(h, why);
  }

  // Applies the batch and writes every answer, event by event in the order taken: its
  // decisions (to every host that asked for them), then its ERROR or ACK (to its sender).
  void apply_and_answer() {
    decisions.clear();
    ends.assign(event_count, 0);
    if (event_count != 0) kernel.apply_batch(std::span<const Event>(events.data(), event_count), decisions, ends);
    subscribers.clear();
    for (const Host& h : hosts) {
      if (h.decisions && h.blocking()) subscribers.push_back(h.index);
    }
    std::size_t d = 0;
    for (const Entry& e : entries) {
      Host& sender = hosts[e.slot];
      ++sender.records_in;
      ++counters.records_in;
      if (e.malformed) {
        ++counters.malformed;
        const Error& error = errors[e.index];
        send_error(sender, error.code, e.type, e.sequence, error.message);
        continue;
      }
      bool refused = false;
      for (const std::size_t end = ends[e.index]; d < end; ++d) {
        const Decision& decision = decisions[d];
        if (decision.kind == DecisionKind::error) {
          refused = true;
          send_error(sender, decision.error, e.type, e.sequence, decision.message);
          continue;
        }
        const std::uint64_t number = ++counters.decisions;
        for (const std::uint16_t s : subscribers) {
          emit_decision(hosts[s], decision, DecisionCause{e.slot, e.sequence}, number);
        }
      }
      if (refused) {
        ++counters.events_refused;
        continue;
      }
      ++counters.events_applied;
      if ((e.flags & SB_FLAG_ACK) != 0) {
        encoded.clear();
        encode_ack(e.slot, encoded);
        emit(sender, SB_REC_ACK, e.sequence, encoded);
        ++counters.acks;
      }
    }
    for (Host& h : hosts) {
      store_counter(&h.slot->records_in, h.records_in);
      store_counter(&h.slot->errors_out, h.errors_out);
    }
  }

  // --- statistics ----------------------------------------------------------------------------

  void refresh_stats(std::uint64_t now) {
    const Config& config = kernel.config();
    for (QueueId q = 0; q < config.queues.size(); ++q) store_counter(&queue_depths[q], kernel.queued_count(q));
    presence_scratch.resize(config.presences.size());
    const std::size_t agents = kernel.count_agents_by_presence(presence_scratch);
    for (std::size_t p = 0; p < presence_scratch.size(); ++p) store_counter(&presence_agents[p], presence_scratch[p]);
    store_counter(&stats->events_applied, counters.events_applied);
    store_counter(&stats->events_refused, counters.events_refused);
    store_counter(&stats->decisions, counters.decisions);
    store_counter(&stats->malformed, counters.malformed);
    store_counter(&stats->stuck_resets, counters.stuck_resets);
    store_counter(&stats->hosts_attached, attached_count());
    store_counter(&stats->live_items, kernel.live_item_count());
    store_counter(&stats->agents, agents);
    store_counter(&stats->backpressure_waits, counters.backpressure_waits);
    store_counter(&stats->stall_resets, counters.stall_resets);
    store_counter(&stats->hosts_died, counters.hosts_died);
    store_counter(&stats->updated_ns, now);
  }

  [[nodiscard]] std::size_t attached_count() const {
    std::size_t n = 0;
    for (const Host& h : hosts) n += (h.mode == Mode::attached || h.mode == Mode::detaching) && !h.dead ? 1 : 0;
    return n;
  }

  // --- stop ----------------------------------------------------------------------------------

  void stop() {
    if (stopped || header == nullptr) return;
    stopped = true;
    refresh_stats(monotonic_ns());
    sb_store_u32(&header->state, SB_SEGMENT_STOPPING);
    // Unlink the name only while it is still ours: a daemon that replaced this one as stale
    // owns it now.
    bool ours = false;
    const int now_fd = ::shm_open(name.c_str(), O_RDONLY, 0);
    if (now_fd >= 0) {
      struct stat st{};
      ours = ::fstat(now_fd, &st) == 0 && st.st_dev == device && st.st_ino == inode;
      ::close(now_fd);
    }
    if (ours) ::shm_unlink(name.c_str());
    say("stop: segment " + name + (ours ? " removed" : " left to the daemon that replaced it") + "; " +
        std::to_string(counters.events_applied) + " events applied, " + std::to_string(counters.events_refused) +
        " refused, " + std::to_string(counters.malformed) + " malformed, " + std::to_string(counters.decisions) +
        " decisions");
  }
};

// --- Server ------------------------------------------------------------------------------------

Result<Server> Server::create(Config config, ServerOptions options, LogFn log) {
  if (auto error = check_options(options)) return *error;
  Result<Kernel> kernel = Kernel::create(std::move(config), options.kernel);
  if (!kernel) return kernel.error();
  Result<std::vector<std::uint8_t>> directory = encode_directory(kernel.value().config());
  if (!directory) return directory.error();
  auto state = std::make_unique<State>(options, std::move(log), std::move(kernel).value());
  const Config& c = state->kernel.config();
  state->name = options.name;
  state->layout = plan_layout(options, directory.value().size(), static_cast<std::uint32_t>(c.queues.size()),
                              static_cast<std::uint32_t>(c.presences.size()));
  state->scratch.reserve(options.max_record_size);
  state->encoded.reserve(options.max_record_size);
  state->entries.reserve(options.batch_size);
  state->events.reserve(options.batch_size);
  if (auto error = state->create_segment(directory.value())) return *error;
  state->say("start: segment " + state->name + ", pid " + std::to_string(::getpid()) + ", generation " +
             std::to_string(state->generation) + ", " + std::to_string(options.max_hosts) + " host slots, rings " +
             std::to_string(options.in_ring_bytes >> 10) + " KiB in / " + std::to_string(options.out_ring_bytes >> 10) +
             " KiB out, " + std::to_string(c.queues.size()) + " queues, " +
             std::to_string(state->kernel.footprint().agents) + " agents, " +
             std::to_string(state->kernel.threads()) + " kernel thread(s)");
  return Server(std::move(state));
}

Server::Server(std::unique_ptr<State> state) : state_(std::move(state)) {}
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&& other) noexcept {
  if (this != &other) {
    if (state_) state_->stop();
    state_ = std::move(other.state_);
  }
  return *this;
}
Server::~Server() {
  if (state_) state_->stop();
}

std::size_t Server::poll_once() { return state_->poll_once(); }

void Server::run(const std::atomic<bool>& stop) {
  std::uint32_t idle = 0;
  // Relaxed: the flag carries no data with it; a pass later is as good as now.
  while (!stop.load(std::memory_order_relaxed)) {
    if (state_->poll_once() != 0) {
      idle = 0;
      continue;
    }
    ++idle;
    switch (state_->options.idle) {
      case IdleStrategy::spin:
        cpu_pause();
        break;
      case IdleStrategy::yield:
        ::sched_yield();
        break;
      case IdleStrategy::sleep:
        if (idle < 64) {
          cpu_pause();
        } else if (idle < 128) {
          ::sched_yield();
        } else {
          // 50 us doubling to 400 us: the protocol promises a look at the slots at least every
          // millisecond, and a sleep overshoots what it asks for.
          const std::uint32_t shift = std::min<std::uint32_t>((idle - 128) / 8, 3);
          const long ns = 50'000L << shift;
          const timespec ts{0, ns};
          ::nanosleep(&ts, nullptr);
        }
        break;
    }
  }
}

void Server::stop() { state_->stop(); }

const Kernel& Server::kernel() const noexcept { return state_->kernel; }
const ServerCounters& Server::counters() const noexcept { return state_->counters; }
const ServerOptions& Server::options() const noexcept { return state_->options; }
std::uint64_t Server::generation() const noexcept { return state_->generation; }
std::uint64_t Server::segment_size() const noexcept { return state_->layout.size; }
std::size_t Server::hosts_attached() const noexcept { return state_->attached_count(); }

}  // namespace switchboard::shm
