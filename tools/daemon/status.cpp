#include "status.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "switchboard/shm/protocol.h"
#include "switchboard/shm/ring.h"

namespace switchboard::daemon {

namespace {

std::uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Relaxed loads of the daemon's counters: each word stands alone (protocol.h, sb_stats).
std::uint64_t counter(const std::uint64_t& word) { return __atomic_load_n(&word, __ATOMIC_RELAXED); }

// The directory's five lists, read with every length checked against the block's end (the
// segment is another process's memory; a short or garbled block yields fewer names, not a crash).
struct Directory {
  std::vector<std::string> lists[5];  // queues, skills, presences, profiles, channels
};

Directory read_directory(const std::uint8_t* p, std::uint64_t size) {
  Directory d;
  std::uint64_t at = 0;
  const auto take = [&](void* to, std::uint64_t n) {
    if (size - at < n) return false;
    std::memcpy(to, p + at, n);
    at += n;
    return true;
  };
  for (auto& list : d.lists) {
    std::uint32_t count = 0;
    if (!take(&count, 4)) return d;
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint16_t n = 0;
      if (!take(&n, 2) || size - at < n) return d;
      list.emplace_back(reinterpret_cast<const char*>(p + at), n);
      at += n;
    }
  }
  return d;
}

struct Sample {
  std::uint64_t updated_ns = 0, started_ns = 0, events_applied = 0, events_refused = 0, decisions = 0,
                malformed = 0, stuck_resets = 0, hosts_attached = 0, live_items = 0, agents = 0,
                backpressure_waits = 0, stall_resets = 0, hosts_died = 0;
  std::vector<std::uint64_t> queues, presences;
};

Sample sample(const sb_stats* s, std::uint32_t queue_count, std::uint32_t presence_count) {
  Sample out;
  out.updated_ns = counter(s->updated_ns);
  out.started_ns = counter(s->started_ns);
  out.events_applied = counter(s->events_applied);
  out.events_refused = counter(s->events_refused);
  out.decisions = counter(s->decisions);
  out.malformed = counter(s->malformed);
  out.stuck_resets = counter(s->stuck_resets);
  out.hosts_attached = counter(s->hosts_attached);
  out.live_items = counter(s->live_items);
  out.agents = counter(s->agents);
  out.backpressure_waits = counter(s->backpressure_waits);
  out.stall_resets = counter(s->stall_resets);
  out.hosts_died = counter(s->hosts_died);
  const auto* words = reinterpret_cast<const std::uint64_t*>(s + 1);
  for (std::uint32_t q = 0; q < queue_count; ++q) out.queues.push_back(counter(words[q]));
  for (std::uint32_t p = 0; p < presence_count; ++p) out.presences.push_back(counter(words[queue_count + p]));
  return out;
}

std::string duration(std::uint64_t ns) {
  const std::uint64_t s = ns / 1'000'000'000u;
  char buffer[64];
  if (s >= 86400) {
    std::snprintf(buffer, sizeof buffer, "%llud %02lluh%02llum", static_cast<unsigned long long>(s / 86400),
                  static_cast<unsigned long long>(s / 3600 % 24), static_cast<unsigned long long>(s / 60 % 60));
  } else if (s >= 3600) {
    std::snprintf(buffer, sizeof buffer, "%lluh%02llum%02llus", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60));
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f s", static_cast<double>(ns) / 1e9);
  }
  return buffer;
}

double per_second(std::uint64_t a, std::uint64_t b, std::uint64_t ns) {
  return ns == 0 || b < a ? 0.0 : static_cast<double>(b - a) * 1e9 / static_cast<double>(ns);
}

const char* slot_state_name(std::uint32_t s) {
  switch (s) {
    case SB_SLOT_FREE: return "free";
    case SB_SLOT_ATTACH_REQUESTED: return "attach requested";
    case SB_SLOT_ATTACHED: return "attached";
    case SB_SLOT_DETACH_REQUESTED: return "detach requested";
    case SB_SLOT_RESET: return "reset";
    default: return "invalid";
  }
}

}  // namespace

int print_status(const std::string& name, std::chrono::milliseconds interval, std::FILE* out) {
  const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
  if (fd < 0) {
    std::fprintf(stderr, "switchboardd: no daemon segment %s: %s\n", name.c_str(), std::strerror(errno));
    return 1;
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) < sizeof(sb_segment_header)) {
    std::fprintf(stderr, "switchboardd: segment %s is too small to be a daemon's\n", name.c_str());
    ::close(fd);
    return 1;
  }
  const std::size_t size = static_cast<std::size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping stays
  if (map == MAP_FAILED) {
    std::fprintf(stderr, "switchboardd: cannot map segment %s: %s\n", name.c_str(), std::strerror(errno));
    return 1;
  }
  const auto* base = static_cast<const std::uint8_t*>(map);
  const auto* h = static_cast<const sb_segment_header*>(map);
  const auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "switchboardd: segment %s: %s\n", name.c_str(), why.c_str());
    ::munmap(map, size);
    return 1;
  };
  if (h->magic != SB_SHM_MAGIC || h->version != SB_SHM_VERSION || h->header_size != sizeof(sb_segment_header)) {
    return fail("not a switchboard version 1 segment");
  }
  const std::uint32_t state = sb_load_u32(&h->state);
  if (state != SB_SEGMENT_READY) {
    return fail(state == SB_SEGMENT_STOPPING ? "the daemon is stopping" : "the daemon is still starting");
  }
  // The words the daemon wrote once before READY (acquired above), copied once: each is checked
  // below and then used as checked, whatever a process with write access does meanwhile.
  sb_segment_header hd;
  std::memcpy(&hd, h, sizeof hd);
  // Every offset is checked against the mapping before it is followed.
  const auto inside = [size](std::uint64_t offset, std::uint64_t bytes) {
    return offset <= size && bytes <= size - offset;
  };
  const std::uint64_t counts = std::uint64_t{hd.queue_count} + hd.presence_count;
  if (!inside(hd.stats_offset, sizeof(sb_stats) + counts * 8) || !inside(hd.directory_offset, hd.directory_size) ||
      !inside(hd.host_slots_offset, std::uint64_t{hd.max_hosts} * sizeof(sb_host_slot)) ||
      hd.stats_offset % 8 != 0 || hd.host_slots_offset % 8 != 0) {
    return fail("its header points outside the segment");
  }
  const Directory dir = read_directory(base + hd.directory_offset, hd.directory_size);
  const auto* stats = reinterpret_cast<const sb_stats*>(base + hd.stats_offset);

  const Sample first = sample(stats, hd.queue_count, hd.presence_count);
  std::this_thread::sleep_for(interval);
  const Sample now = sample(stats, hd.queue_count, hd.presence_count);
  const std::uint64_t window = now.updated_ns - first.updated_ns;
  const std::uint64_t up = now.updated_ns - now.started_ns;
  const std::uint64_t mono = monotonic_ns();
  const std::uint64_t beat = sb_load_u64(&h->heartbeat_ns);

  std::fprintf(out, "switchboardd %s: pid %u, generation %llu, up %s, heartbeat %.1f ms ago\n", name.c_str(),
               hd.daemon_pid, static_cast<unsigned long long>(sb_load_u64(&h->generation)), duration(up).c_str(),
               mono >= beat ? static_cast<double>(mono - beat) / 1e6 : 0.0);
  std::fprintf(out, "  hosts attached   %llu of %u\n", static_cast<unsigned long long>(now.hosts_attached),
               hd.max_hosts);
  const auto line = [&](const char* label, std::uint64_t a, std::uint64_t b) {
    std::fprintf(out, "  %-16s %llu  (%.0f/s over the last %.1f s, %.0f/s since start)\n", label,
                 static_cast<unsigned long long>(b), per_second(a, b, window), static_cast<double>(window) / 1e9,
                 per_second(0, b, up));
  };
  line("events applied", first.events_applied, now.events_applied);
  line("decisions", first.decisions, now.decisions);
  std::fprintf(out, "  events refused   %llu\n", static_cast<unsigned long long>(now.events_refused));
  std::fprintf(out, "  malformed        %llu\n", static_cast<unsigned long long>(now.malformed));
  std::fprintf(out, "  stuck resets     %llu\n", static_cast<unsigned long long>(now.stuck_resets));
  std::fprintf(out, "  stall resets     %llu\n", static_cast<unsigned long long>(now.stall_resets));
  std::fprintf(out, "  hosts died       %llu\n", static_cast<unsigned long long>(now.hosts_died));
  std::fprintf(out, "  back-pressure    %llu waits\n", static_cast<unsigned long long>(now.backpressure_waits));
  std::fprintf(out, "  live items       %llu\n", static_cast<unsigned long long>(now.live_items));
  std::fprintf(out, "  agents           %llu\n", static_cast<unsigned long long>(now.agents));

  const auto table = [&](const char* title, const std::vector<std::string>& names,
                         const std::vector<std::uint64_t>& values) {
    std::size_t width = 0;
    for (const std::string& n : names) width = std::max(width, n.size());
    std::fprintf(out, "  %s\n", title);
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string label = i < names.size() ? names[i] : "#" + std::to_string(i);
      std::fprintf(out, "    %-*s %10llu\n", static_cast<int>(width), label.c_str(),
                   static_cast<unsigned long long>(values[i]));
    }
  };
  table("items waiting, by queue", dir.lists[0], now.queues);
  table("agents, by presence", dir.lists[2], now.presences);

  std::fprintf(out, "  host slots in use%s\n", now.hosts_attached == 0 ? ": none attached" : "");
  for (std::uint32_t i = 0; i < hd.max_hosts; ++i) {
    const auto* slot = reinterpret_cast<const sb_host_slot*>(base + hd.host_slots_offset + i * sizeof(sb_host_slot));
    const std::uint32_t s = sb_load_u32(&slot->state);
    if (s == SB_SLOT_FREE) continue;
    std::fprintf(out, "    slot %u: %s, host pid %u, generation %llu, records in %llu, errors out %llu, resets %llu\n", i,
                 slot_state_name(s), slot->host_pid, static_cast<unsigned long long>(sb_load_u64(&slot->generation)),
                 static_cast<unsigned long long>(counter(slot->records_in)),
                 static_cast<unsigned long long>(counter(slot->errors_out)),
                 static_cast<unsigned long long>(counter(slot->resets)));
  }
  ::munmap(map, size);
  return 0;
}

}  // namespace switchboard::daemon
