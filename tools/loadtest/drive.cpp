// drive mode (drive.hpp): real time against a running switchboardd. Definitions of the figures
// are in drive.hpp, results.hpp and docs/load-testing.md ("Drive mode").

#include "drive.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <queue>
#include <thread>
#include <utility>

#include "random.hpp"
#include "simulate.hpp"
#include "statistics.hpp"
#include "switchboard/shm/client.h"

namespace switchboard::loadtest {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kMaxArrivals = 20'000'000;  // the plan's memory: about 24 bytes each
constexpr std::size_t kLatencyBars = 60;
constexpr std::size_t kErrorSamples = 8;

Error invalid(std::string message) { return Error{ErrorCode::config_invalid_value, std::move(message)}; }

std::int64_t ns_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count();
}

// --- the daemon's directory ----------------------------------------------------------------------

// The daemon's index of every name of the scenario's configuration (docs/protocol.md,
// "Directory": indices are the daemon's, never the configuration file's order).
struct Directory {
  std::vector<std::uint32_t> queue;     // by the scenario's QueueId
  std::vector<std::uint32_t> skill;     // by SkillId
  std::vector<std::uint32_t> presence;  // by PresenceId
  std::vector<std::uint32_t> profile;   // by ProfileId
  std::uint32_t profile_count = 0;      // the daemon's
  std::uint32_t queue_count = 0;        // the daemon's (its statistics block's depth array)
};

Result<Directory> map_directory(const sb_client* c, const Config& config) {
  Directory d;
  const auto map = [c](int list, const char* what, const auto& names, const auto& name_of,
                       std::vector<std::uint32_t>& out) -> std::optional<Error> {
    for (const auto& entry : names) {
      const std::string& name = name_of(entry);
      std::uint32_t index = 0;
      if (sb_client_lookup(c, list, name.c_str(), &index) != SB_OK) {
        return Error{ErrorCode::config_unknown_reference,
                     std::string("the daemon's configuration has no ") + what + " \"" + name +
                         "\", which the scenario's routing configuration declares: start "
                         "switchboardd with the scenario's configuration"};
      }
      out.push_back(index);
    }
    return std::nullopt;
  };
  const auto same = [](const std::string& s) -> const std::string& { return s; };
  const auto named = [](const auto& x) -> const std::string& { return x.name; };
  if (auto e = map(SB_DIR_QUEUE, "queue", config.queues, named, d.queue)) return *e;
  if (auto e = map(SB_DIR_SKILL, "skill", config.skills, same, d.skill)) return *e;
  if (auto e = map(SB_DIR_PRESENCE, "presence", config.presences, same, d.presence)) return *e;
  if (auto e = map(SB_DIR_PROFILE, "capacity profile", config.profiles, named, d.profile)) return *e;
  d.profile_count = sb_client_directory_count(c, SB_DIR_PROFILE);
  d.queue_count = sb_client_directory_count(c, SB_DIR_QUEUE);
  return d;
}

struct ClientDetach {
  void operator()(sb_client* c) const noexcept { sb_client_detach(c, 2000); }
};
using ClientPtr = std::unique_ptr<sb_client, ClientDetach>;

Result<ClientPtr> attach(const std::string& segment, std::uint32_t flags, int timeout_ms) {
  sb_client* c = nullptr;
  const int rc = sb_client_attach(segment.c_str(), flags, timeout_ms, &c);
  if (rc != SB_OK) {
    return Error{ErrorCode::config_io, "cannot attach to switchboardd's segment " + segment + ": " +
                                           sb_strerror(rc) + " (is switchboardd --name " +
                                           segment + " running?)"};
  }
  return ClientPtr(c);
}

// The inbound records a slot's owner has had applied or refused (the slot's records_in,
// written by the daemon alone).
std::uint64_t records_applied(const sb_client* c, std::uint32_t slot) {
  const sb_segment_header* h = sb_client_header(c);
  const auto* base = reinterpret_cast<const unsigned char*>(h);
  const auto* s = reinterpret_cast<const sb_host_slot*>(base + h->host_slots_offset +
                                                        std::size_t{slot} * h->host_slot_size);
  // Acquire: pairs with the daemon's store of records_in after applying; what the count
  // promises (the arrival is in the daemon) is then true of everything this thread sends next.
  return __atomic_load_n(&s->records_in, __ATOMIC_ACQUIRE);
}

// The items waiting in the daemon's queue at `index` (statistics block, refreshed by the daemon
// about every 100 ms).
std::uint64_t queue_depth(const sb_client* c, std::uint32_t index) {
  const sb_segment_header* h = sb_client_header(c);
  if (index >= h->queue_count) return 0;
  const auto* base = reinterpret_cast<const unsigned char*>(h);
  const auto* depths =
      reinterpret_cast<const std::uint64_t*>(base + h->stats_offset + sizeof(sb_stats));
  // Relaxed: a counter for display; every word is atomic on its own (docs/protocol.md).
  return __atomic_load_n(&depths[index], __ATOMIC_RELAXED);
}

// --- a stalled daemon ----------------------------------------------------------------------------

// The generation of the ready segment now at `name`; 0 when there is none (no file at the name,
// one still being laid out, one too short to hold a header).
std::uint64_t generation_at(const std::string& name) {
  const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
  if (fd < 0) return 0;
  std::uint64_t generation = 0;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(sizeof(sb_segment_header))) {
    void* p = ::mmap(nullptr, sizeof(sb_segment_header), PROT_READ, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      const auto* h = static_cast<const sb_segment_header*>(p);
      // Acquire on state: pairs with the daemon's release of READY, after which the magic and
      // the generation it wrote before are what it wrote.
      if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == SB_SEGMENT_READY &&
          h->magic == SB_SHM_MAGIC) {
        generation = __atomic_load_n(&h->generation, __ATOMIC_RELAXED);
      }
      ::munmap(p, sizeof(sb_segment_header));
    }
  }
  ::close(fd);
  return generation;
}

// Waits out a daemon whose heartbeat stands still (docs/protocol.md, "Noticing"): a daemon
// stopped by a debugger or SIGSTOP, descheduled, or stuck in a page fault is not dead. The
// client says SB_ERR_DAEMON_GONE for a stale heartbeat without ending itself, so once the
// heartbeat moves again the same client carries on; nothing was written by the call that said
// so, and the caller repeats it. Each thread owns one for its own client.
class StallWatch {
 public:
  StallWatch(sb_client* client, std::string segment, int timeout_ms)
      : c_(client), segment_(std::move(segment)), timeout_ms_(timeout_ms) {}

  // After the client said SB_ERR_DAEMON_GONE. nullopt: the daemon is beating again (or never
  // stopped: the caller repeats its call, which says what is wrong now). Otherwise why it is gone
  // for good: it is stopping, another daemon's segment is at the name, its heartbeat stood still
  // longer than the timeout, or `stop` was set meanwhile.
  std::optional<std::string> wait(const std::atomic<bool>* stop) {
    const Clock::time_point since = Clock::now();
    const Clock::time_point deadline = since + std::chrono::milliseconds(std::max(0, timeout_ms_));
    const std::uint64_t mine = sb_client_segment_generation(c_);
    const sb_segment_header* h = sb_client_header(c_);
    ++stalls_;
    for (;;) {
      const int rc = sb_client_daemon_alive(c_);
      const Clock::time_point now = Clock::now();
      longest_ns_ = std::max(longest_ns_, ns_between(since, now));
      if (rc != SB_ERR_DAEMON_GONE) return std::nullopt;
      // Relaxed: one word, read for its own value; the daemon's last store of it is all it says.
      if (h == nullptr || __atomic_load_n(&h->state, __ATOMIC_RELAXED) == SB_SEGMENT_STOPPING) {
        return std::string("the daemon stopped");
      }
      const std::uint64_t at_name = generation_at(segment_);
      if (at_name != 0 && at_name != mine) {
        return "another daemon's segment is at " + segment_ + " (a restart: drive does not resync)";
      }
      // Relaxed: see Shared::stop.
      if (stop != nullptr && stop->load(std::memory_order_relaxed)) return std::string("stopped");
      if (now >= deadline) {
        return "the daemon's heartbeat stood still for more than " + std::to_string(timeout_ms_) +
               " ms (--daemon-stall-timeout-ms)";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  [[nodiscard]] std::uint64_t stalls() const { return stalls_; }
  [[nodiscard]] std::int64_t longest_ns() const { return longest_ns_; }

 private:
  sb_client* c_;
  std::string segment_;
  int timeout_ms_;
  std::uint64_t stalls_ = 0;       // waits begun
  std::int64_t longest_ns_ = 0;    // the longest, steady-clock ns
};

// --- the plan of arrivals ------------------------------------------------------------------------

struct PlannedArrival {
  std::int64_t due_ns = 0;   // intended send time, ns after the run's start
  std::uint32_t queue = 0;   // scenario queue index
  std::uint32_t step = 0;    // index in Plan::steps
};

struct Plan {
  std::vector<PlannedArrival> arrivals;  // by due time
  std::vector<DriveStep> steps;
  double duration_s = 0.0;  // wall seconds of arrivals
  std::string source;       // "scenario", "rate", "ramp"
};

// Arrival times of a process whose rate is piecewise constant over [bounds[k], bounds[k+1])
// (wall seconds) at rates[k] per second. Poisson: exponential gaps, restarted at each boundary
// (memorylessness makes that exact). Constant: gaps of 1 / rate from each piece's start.
void arrival_times(const std::vector<double>& bounds, const std::vector<double>& rates,
                   ArrivalSpacing spacing, Rng& rng, std::vector<double>& out) {
  for (std::size_t k = 0; k < rates.size(); ++k) {
    const double rate = rates[k];
    if (!(rate > 0.0)) continue;
    double t = bounds[k];
    if (spacing == ArrivalSpacing::constant) {
      for (std::uint64_t n = 0;; ++n) {
        t = bounds[k] + static_cast<double>(n) / rate;
        if (t >= bounds[k + 1] || out.size() > kMaxArrivals) break;
        out.push_back(t);
      }
    } else {
      for (;;) {
        t += rng.exponential(1.0 / rate);
        if (t >= bounds[k + 1] || out.size() > kMaxArrivals) break;
        out.push_back(t);
      }
    }
  }
}

Result<Plan> make_plan(const Scenario& s, const DriveOptions& o, Rng& rng) {
  Plan plan;
  std::vector<double> mean_rate(s.queues.size(), 0.0);  // per hour, over the intervals
  double total_mean = 0.0;
  for (std::size_t q = 0; q < s.queues.size(); ++q) {
    double sum = 0.0;
    for (double r : s.queues[q].rates_per_hour) sum += r;
    mean_rate[q] = s.queues[q].rates_per_hour.empty()
                       ? 0.0
                       : sum / static_cast<double>(s.queues[q].rates_per_hour.size());
    total_mean += mean_rate[q];
  }
  struct Timed {
    double t;
    std::uint32_t queue;
  };
  std::vector<Timed> timed;
  std::vector<double> step_bounds;  // wall seconds
  std::vector<double> step_rates;   // per wall second
  if (!o.ramp && !o.rate_per_s) {
    plan.source = "scenario";
    plan.duration_s = o.duration_s > 0.0 ? o.duration_s : s.horizon_s / o.compress;
    // The scenario's rates per interval, on the wall clock: interval k lasts interval_s /
    // compress, and its rate per wall second is rate_per_hour / 3600 * compress. After the
    // horizon the last interval's rate goes on.
    const double piece = s.interval_s > 0.0 ? s.interval_s / o.compress : plan.duration_s;
    for (std::uint32_t q = 0; q < s.queues.size(); ++q) {
      const auto& rates = s.queues[q].rates_per_hour;
      std::vector<double> bounds{0.0};
      std::vector<double> per_s;
      for (std::size_t k = 0; bounds.back() < plan.duration_s; ++k) {
        bounds.push_back(std::min(plan.duration_s, static_cast<double>(k + 1) * piece));
        per_s.push_back(rates[std::min(k, rates.size() - 1)] / 3600.0 * o.compress);
        if (per_s.size() > 10'000'000) return invalid("too many intervals for the duration");
      }
      std::vector<double> times;
      arrival_times(bounds, per_s, o.spacing, rng, times);
      for (double t : times) timed.push_back({t, q});
    }
    step_bounds = {0.0, plan.duration_s};
    step_rates = {0.0};  // filled below: the mean achieved by the plan
  } else {
    if (!(total_mean > 0.0)) {
      return invalid("the scenario's queues have no arrivals: --rate and --ramp split the rate "
                     "over the queues in proportion to their rates");
    }
    if (o.ramp) {
      plan.source = "ramp";
      const RampOptions& r = *o.ramp;
      plan.duration_s = o.duration_s > 0.0 ? o.duration_s : 20.0 * r.step_s;
      for (std::size_t k = 0; static_cast<double>(k) * r.step_s < plan.duration_s - 1e-9; ++k) {
        step_bounds.push_back(static_cast<double>(k) * r.step_s);
        step_rates.push_back(r.start_per_s + static_cast<double>(k) * r.step_per_s);
      }
      step_bounds.push_back(plan.duration_s);
    } else {
      plan.source = "rate";
      plan.duration_s = o.duration_s > 0.0 ? o.duration_s : 10.0;
      step_bounds = {0.0, plan.duration_s};
      step_rates = {*o.rate_per_s};
    }
    std::vector<double> times;
    arrival_times(step_bounds, step_rates, o.spacing, rng, times);
    for (double t : times) {
      timed.push_back({t, static_cast<std::uint32_t>(rng.pick(mean_rate, total_mean))});
    }
  }
  if (timed.size() > kMaxArrivals) {
    return invalid("more than " + std::to_string(kMaxArrivals) +
                   " arrivals planned: lower the rate or the duration");
  }
  std::sort(timed.begin(), timed.end(), [](const Timed& a, const Timed& b) { return a.t < b.t; });
  for (std::size_t k = 0; k + 1 < step_bounds.size(); ++k) {
    DriveStep step;
    step.start_s = step_bounds[k];
    step.end_s = step_bounds[k + 1];
    step.rate_per_s = step_rates[k];
    plan.steps.push_back(step);
  }
  if (plan.source == "scenario") {
    plan.steps.front().rate_per_s = static_cast<double>(timed.size()) / plan.duration_s;
  }
  plan.arrivals.reserve(timed.size());
  std::size_t step = 0;
  for (const Timed& t : timed) {
    while (step + 1 < plan.steps.size() && t.t >= plan.steps[step].end_s) ++step;
    plan.arrivals.push_back({static_cast<std::int64_t>(t.t * 1e9), t.queue,
                             static_cast<std::uint32_t>(step)});
  }
  return plan;
}

// --- encoding ------------------------------------------------------------------------------------

// Attributes as the encoder takes them, in strictly ascending byte order of their keys (a
// std::map<std::string> orders by char_traits<char>::compare, which compares as unsigned bytes).
struct EncodedAttributes {
  std::vector<sb_attribute> list;
  explicit EncodedAttributes(const Attributes& attributes) {
    for (const auto& [key, value] : attributes) {
      sb_attribute a{};
      a.key = key.c_str();
      if (const auto* n = std::get_if<std::int64_t>(&value)) {
        a.kind = SB_ATTR_INT;
        a.number = *n;
      } else if (const auto* s = std::get_if<std::string>(&value)) {
        a.kind = SB_ATTR_STRING;
        a.text = s->c_str();
      } else {
        continue;
      }
      list.push_back(a);
    }
  }
};

// --- shared between the sender and the host ------------------------------------------------------

// What the sender publishes about each arrival. Written by the sender thread, read by the host.
struct SentArrival {
  // Steady-clock ns after the run's start just before the arrival's record was committed; 0 until
  // then. Release (sender) / acquire (host): the host reads it when a decision names the
  // arrival, which the daemon can only make after the commit that follows this store.
  std::atomic<std::int64_t> sent_ns{0};
};

struct Shared {
  Clock::time_point start;  // the run's time 0; set before the sender starts (thread start orders it)
  std::vector<PlannedArrival> plan;  // read-only while the sender runs
  std::unique_ptr<SentArrival[]> sent;
  // Arrivals the sender has committed, in plan order. Written by the sender (release: publishes
  // sent[i] for i below it), read by the host (acquire).
  alignas(64) std::atomic<std::uint64_t> sent_count{0};
  // Set by the host when a ramp step fell behind; read by the sender, which stops sending.
  // Relaxed: a request to stop, publishing no data; the sender sees it within a few sends.
  alignas(64) std::atomic<bool> stop{false};
  // Set by the sender after its last send (release: its counters below are final); read by the
  // host (acquire) and after join.
  alignas(64) std::atomic<bool> sender_done{false};
  // The sender's own counters, read by the host only after sender_done (acquire) or join.
  std::uint64_t sender_errors = 0;
  std::vector<std::string> sender_error_samples;
  std::uint64_t sender_full_retries = 0;
  std::string sender_failure;  // a send that failed for good (the daemon went away)
  std::uint64_t sender_stalls = 0;         // daemon stalls the sender waited out (StallWatch)
  std::int64_t sender_longest_stall_ns = 0;
};

// --- the sender thread ---------------------------------------------------------------------------

class Sender {
 public:
  Sender(Shared& shared, const Scenario& s, const DriveOptions& o, const Directory& dir,
         sb_client* client, std::int64_t time_base_ms, std::uint64_t seed, std::uint64_t item_base)
      : sh_(shared), s_(s), dir_(dir), c_(client), time_base_ms_(time_base_ms),
        compress_(o.compress), rng_(seed), item_base_(item_base),
        buffer_(sb_client_max_payload(client)),
        stall_(client, o.segment, o.daemon_stall_timeout_ms) {
    for (const QueueTraffic& q : s_.queues) {
      std::vector<double> weights;
      double skills = 0.0;
      for (const SkillOption& o : q.skill_mix) {
        weights.push_back(o.weight);
        skills += o.weight;
      }
      skill_weights_.push_back(std::move(weights));
      skill_totals_.push_back(skills);
      std::vector<double> totals;
      for (const AttributeMix& m : q.attributes) {
        double t = 0.0;
        for (double w : m.weights) t += w;
        totals.push_back(t);
      }
      attribute_totals_.push_back(std::move(totals));
    }
  }

  void run() {
    const std::size_t n = sh_.plan.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (sh_.stop.load(std::memory_order_relaxed)) break;
      wait_until(sh_.plan[i].due_ns);
      if (sh_.stop.load(std::memory_order_relaxed)) break;
      if (!send_arrival(i)) break;
      // Release: sent[i] is published with it (pairs with the host's acquire of sent_count).
      sh_.sent_count.store(i + 1, std::memory_order_release);
      if ((i & 63) == 0) drain_replies();
    }
    drain_replies();
    sh_.sender_stalls = stall_.stalls();
    sh_.sender_longest_stall_ns = stall_.longest_ns();
    // Release: the counters above are final (pairs with the host's acquire).
    sh_.sender_done.store(true, std::memory_order_release);
  }

 private:
  std::int64_t now_ns() const { return ns_between(sh_.start, Clock::now()); }

  // Sleeps until shortly before `due_ns`, then yields until it. Open loop: when it is already
  // past, returns at once (the lateness is measured, not hidden).
  void wait_until(std::int64_t due_ns) {
    for (;;) {
      const std::int64_t left = due_ns - now_ns();
      if (left <= 0) return;
      if (left > 200'000) {
        drain_replies();
        // At most 50 ms at a time, so that a stop request (a ramp that fell behind, a failed
        // host) is seen even when the next arrival is far off.
        if (sh_.stop.load(std::memory_order_relaxed)) return;
        std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>(left - 100'000, 50'000'000)));
      } else {
        std::this_thread::yield();
      }
    }
  }

  std::int64_t event_time_ms(std::int64_t ns) const {
    return time_base_ms_ + static_cast<std::int64_t>(static_cast<double>(ns) * compress_ / 1e6);
  }

  bool send_arrival(std::size_t i) {
    const PlannedArrival& a = sh_.plan[i];
    const QueueTraffic& q = s_.queues[a.queue];
    Attributes attributes;
    for (std::size_t m = 0; m < q.attributes.size(); ++m) {
      const AttributeMix& mix = q.attributes[m];
      attributes.emplace(mix.key, mix.values[rng_.pick(mix.weights, attribute_totals_[a.queue][m])]);
    }
    const EncodedAttributes encoded(attributes);
    std::vector<sb_requirement> skills;
    if (!q.skill_mix.empty()) {
      const SkillOption& o = q.skill_mix[rng_.pick(skill_weights_[a.queue], skill_totals_[a.queue])];
      for (const SkillRequirement& r : o.skills) {
        skills.push_back({static_cast<std::uint16_t>(dir_.skill[r.skill]), r.min_proficiency});
      }
    }
    sb_item_arrive arrive{};
    arrive.attributes = encoded.list.data();
    arrive.attribute_count = encoded.list.size();
    arrive.skills = skills.data();
    arrive.skill_count = skills.size();
    if (q.units) {
      arrive.has_units = 1;
      arrive.units = *q.units;
    }
    for (;;) {
      const std::int64_t t = now_ns();
      sb_encoder e;
      sb_enc_init(&e, buffer_.data(), buffer_.size());
      if (sb_encode_item_arrive_ex(&e, event_time_ms(t), sb_id_number(item_base_ + i),
                                   dir_.queue[q.queue_id], &arrive) != SB_OK) {
        sh_.sender_failure = std::string("cannot encode an arrival: ") + sb_strerror(sb_enc_status(&e));
        return false;
      }
      // Release: pairs with the host's acquire when a decision names this arrival.
      sh_.sent[i].sent_ns.store(t, std::memory_order_release);
      const int rc = sb_client_send(c_, SB_REC_ITEM_ARRIVE, 0, i + 1, buffer_.data(), sb_enc_size(&e));
      if (rc == SB_OK) return true;
      if (rc == SB_ERR_DAEMON_GONE) {
        // A stall: the arrival goes out late, and its corrected latency counts the wait.
        const std::optional<std::string> gone = stall_.wait(&sh_.stop);
        if (!gone) continue;
        // Relaxed: see Shared::stop. Asked to stop (a ramp step fell behind, the host failed):
        // not a failure of its own.
        if (!sh_.stop.load(std::memory_order_relaxed)) {
          sh_.sender_failure = "sending an arrival: " + std::string(sb_strerror(rc)) + ": " + *gone;
        }
        return false;
      }
      if (rc != SB_ERR_FULL) {
        sh_.sender_failure = std::string("sending an arrival: ") + sb_strerror(rc);
        return false;
      }
      ++sh_.sender_full_retries;
      drain_replies();
      std::this_thread::yield();
    }
  }

  // The sender's outbound ring carries only ERRORs for its arrivals (it did not ask for
  // decisions): counted and sampled.
  void drain_replies() {
    sb_message m;
    while (sb_client_poll(c_, &m) == SB_OK) {
      if (m.type != SB_REC_ERROR) continue;
      ++sh_.sender_errors;
      sb_error_record err;
      if (sh_.sender_error_samples.size() < kErrorSamples &&
          sb_decode_error(m.payload, m.size, &err) == SB_OK) {
        sh_.sender_error_samples.push_back(std::string(sb_error_code_name(err.code)) + ": " +
                                           std::string(err.message, err.message_length));
      }
    }
  }

  Shared& sh_;
  const Scenario& s_;
  const Directory& dir_;
  sb_client* c_;
  std::int64_t time_base_ms_;
  double compress_;
  Rng rng_;
  std::uint64_t item_base_;
  std::vector<std::uint8_t> buffer_;
  std::vector<std::vector<double>> skill_weights_;
  std::vector<double> skill_totals_;
  std::vector<std::vector<double>> attribute_totals_;
  StallWatch stall_;
};

// --- the host: agents, decisions, answers --------------------------------------------------------

enum class ItemState : std::uint8_t { unsent, queued, offered, assigned, completed, cancelling, abandoned };

struct Item {
  ItemState state = ItemState::unsent;
  bool decided = false;      // some decision named it during the run
  bool first_offer = false;  // it has been offered (or assigned) at least once
  bool waited = false;       // its first offer was not made by its own arrival
  bool accept_sent = false;  // the host accepted its current offer
  std::uint32_t offer_gen = 0;  // bumped by every offer and requeue: voids stale answers
  std::uint32_t agent = kNone;  // the agent it is offered or assigned to
  std::uint32_t queue = 0;      // scenario queue index
  std::uint32_t interval = 0;
};

struct Agent {
  std::uint32_t group = 0;
  std::uint32_t index_in_group = 0;
  PresenceId presence = 0;  // the scenario's id
  std::uint32_t open_offers = 0;
  std::uint32_t assigned = 0;
  std::int64_t since_ns = 0;  // the last time its accounting below was brought up to date
};

enum class TimerKind : std::uint8_t { accept, decline, no_answer, complete, abandon, presence, tick };

struct Timer {
  std::int64_t due_ns = 0;
  std::uint64_t order = 0;  // ties in push order
  TimerKind kind = TimerKind::tick;
  std::uint32_t item = 0;
  std::uint32_t agent = 0;
  std::uint32_t value = 0;  // offer_gen, or the presence
  bool operator>(const Timer& o) const {
    return due_ns != o.due_ns ? due_ns > o.due_ns : order > o.order;
  }
};

// One record the host sent: when it meant to and when it did.
struct LedgerEntry {
  std::int64_t due_ns = 0;
  std::int64_t sent_ns = 0;
  bool measured = false;  // sent during the run (not registration or clean-up)
};

class Host {
 public:
  Host(Shared& shared, const Scenario& s, const DriveOptions& o, const Directory& dir,
       sb_client* host, std::uint32_t sender_slot, const sb_client* sender_client,
       std::int64_t time_base_ms, std::uint64_t seed, std::uint64_t item_base,
       std::uint64_t agent_base, Plan& plan, ReplicationStats& stats)
      : sh_(shared), s_(s), o_(o), dir_(dir), c_(host), host_slot_(sb_client_slot(host)),
        sender_slot_(sender_slot), sender_client_(sender_client), time_base_ms_(time_base_ms),
        rng_(seed), item_base_(item_base), agent_base_(agent_base), plan_(plan), st_(stats),
        buffer_(sb_client_max_payload(host)), items_(sh_.plan.size()),
        step_latency_(plan.steps.size()), stall_(host, o.segment, o.daemon_stall_timeout_ms) {
    for (std::uint32_t g = 0; g < s_.groups.size(); ++g) {
      for (std::uint32_t k = 0; k < s_.groups[g].count; ++k) agents_.push_back({g, k});
    }
    for (std::size_t i = 0; i < items_.size(); ++i) {
      items_[i].queue = sh_.plan[i].queue;
      const double t_s = static_cast<double>(sh_.plan[i].due_ns) / 1e9 * o_.compress;
      items_[i].interval = static_cast<std::uint32_t>(std::min<double>(
          static_cast<double>(s_.interval_count() - 1), std::floor(t_s / s_.interval_s)));
    }
  }

  // Before the run: every agent upserted in its presence at time 0 and joined to its queues.
  // Waits until the daemon has applied them (an ACK on the last record).
  std::optional<Error> register_agents() {
    for (std::uint32_t a = 0; a < agents_.size(); ++a) {
      const AgentGroup& g = s_.groups[agents_[a].group];
      agents_[a].presence = presence_at(g, agents_[a].index_in_group, 0.0);
      std::vector<sb_skill_level> skills;
      for (const SkillLevel& l : g.skills) {
        skills.push_back({static_cast<std::uint16_t>(dir_.skill[l.skill]), l.proficiency});
      }
      std::vector<std::int32_t> profile_max(dir_.profile_count, 0);
      for (std::size_t p = 0; p < g.capacity.profile_max.size() && p < dir_.profile.size(); ++p) {
        profile_max[dir_.profile[p]] = g.capacity.profile_max[p];
      }
      const EncodedAttributes attributes(g.attributes);
      sb_agent_upsert u{};
      u.has_presence = 1;
      u.presence = static_cast<std::uint8_t>(dir_.presence[agents_[a].presence]);
      u.has_skills = 1;
      u.skills = skills.data();
      u.skill_count = skills.size();
      u.has_capacity = 1;
      u.capacity.units = g.capacity.units;
      u.capacity.profile_max = profile_max.data();
      u.capacity.profile_count = static_cast<std::uint8_t>(profile_max.size());
      u.has_attributes = attributes.list.empty() ? 0 : 1;
      u.attributes = attributes.list.data();
      u.attribute_count = attributes.list.size();
      if (auto e = send(SB_REC_AGENT_UPSERT, 0, 0, [&](sb_encoder* e, std::int64_t t) {
            return sb_encode_agent_upsert_ex(e, t, agent_id(a), &u);
          })) {
        return e;
      }
      for (QueueId q : g.queues) {
        if (auto e = send(SB_REC_JOIN_QUEUE, 0, 0, [&](sb_encoder* e, std::int64_t t) {
              return sb_encode_join_queue(e, t, agent_id(a), dir_.queue[q]);
            })) {
          return e;
        }
      }
    }
    if (auto e = barrier()) return e;
    if (registration_errors_ > 0) {
      return Error{ErrorCode::config_invalid_value,
                   "switchboardd refused the scenario's agents (" +
                       std::to_string(registration_errors_) + " errors; the first: " +
                       first_registration_error_ + ")"};
    }
    return std::nullopt;
  }

  // The run: until the arrivals are over and their work has ended, or the drain ran out.
  std::optional<Error> run() {
    measuring_ = true;
    // Presence changes of shifts and breaks, and the ticks of periodic channels.
    const double end_s = plan_.duration_s + o_.drain_s;
    for (std::uint32_t a = 0; a < agents_.size(); ++a) schedule_presence(a, end_s);
    std::vector<bool> ticking(s_.config.channels.size(), false);
    for (const QueueTraffic& q : s_.queues) {
      const ChannelId channel = s_.config.queues[q.queue_id].channel;
      const Timestamp period = s_.config.channels[channel].periodic_ms;
      if (period <= 0 || ticking[channel]) continue;
      ticking[channel] = true;
      const double wall_period_s = static_cast<double>(period) / 1000.0 / o_.compress;
      for (double t = wall_period_s; t <= end_s && t > 0.0; t += wall_period_s) {
        push({to_ns(t), 0, TimerKind::tick, 0, 0, 0});
      }
    }
    depth_step_ns_ = to_ns(s_.depth_step_s / o_.compress);
    std::int64_t drain_end_ns = to_ns(plan_.duration_s + o_.drain_s);
    std::int64_t next_progress_ns = 0;
    std::uint32_t idle = 0;
    for (;;) {
      const std::int64_t now = now_ns();
      bool busy = false;
      admit_sent();
      sb_message m;
      for (int k = 0; k < 256; ++k) {
        const int rc = sb_client_poll(c_, &m);
        if (rc == SB_EMPTY) break;
        if (rc == SB_ERR_DAEMON_GONE) {
          if (auto gone = stall_.wait(nullptr)) return daemon_gone(rc, *gone);
          break;
        }
        if (rc != SB_OK) return Error{ErrorCode::config_io, std::string("switchboardd: ") + sb_strerror(rc)};
        handle(m, now_ns());
        busy = true;
      }
      while (!timers_.empty() && timers_.top().due_ns <= now) {
        const Timer t = timers_.top();
        timers_.pop();
        if (auto e = fire(t)) return e;
        busy = true;
      }
      sample_depth(now);
      evaluate_steps(now);
      if (o_.on_progress && now >= next_progress_ns) {
        next_progress_ns = now + 200'000'000;
        report_progress(now);
      }
      // Acquire: pairs with the sender's release; its counters are final.
      const bool sender_done = sh_.sender_done.load(std::memory_order_acquire);
      if (sender_done) {
        if (!sh_.sender_failure.empty()) return Error{ErrorCode::config_io, sh_.sender_failure};
        admit_sent();
        if (!arrivals_over_) {
          arrivals_over_ = true;
          sent_total_ = sh_.sent_count.load(std::memory_order_acquire);
          // A ramp that stopped early drains from now, not from its planned end.
          drain_end_ns = std::min(drain_end_ns, now + to_ns(o_.drain_s));
        }
        if (open_items_ == 0 || now >= drain_end_ns) break;
      }
      if (busy) {
        idle = 0;
      } else if (++idle < 2000) {
        std::this_thread::yield();
      } else {
        // Long idle (nothing due for a while): short sleeps, so that a quiet run does not hold a
        // core; a decision arriving now waits at most this long to be timed.
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
    }
    run_end_ns_ = now_ns();
    measuring_ = false;
    return std::nullopt;
  }

  // After the run: what is still open is cancelled (completed when assigned), the agents are
  // removed. Errors here are counted apart (cleanup_errors) and do not fail the run.
  void clean_up() {
    for (int round = 0; round < 3; ++round) {
      bool any = false;
      for (std::uint32_t i = 0; i < items_.size(); ++i) {
        Item& it = items_[i];
        if (it.state == ItemState::queued || (it.state == ItemState::offered && !it.accept_sent)) {
          it.state = ItemState::cancelling;
          ++it.offer_gen;
          any = true;
          (void)send(SB_REC_ITEM_CANCEL, 0, now_ns(), [&](sb_encoder* e, std::int64_t t) {
            return sb_encode_item_cancel(e, t, item_id(i));
          });
        } else if (it.state == ItemState::assigned) {
          it.state = ItemState::completed;
          any = true;
          (void)send(SB_REC_ITEM_COMPLETE, 0, now_ns(), [&](sb_encoder* e, std::int64_t t) {
            return sb_encode_item_complete(e, t, item_id(i));
          });
        }
      }
      (void)barrier();
      if (!any) break;
    }
    for (std::uint32_t a = 0; a < agents_.size(); ++a) {
      (void)send(SB_REC_AGENT_REMOVE, 0, now_ns(), [&](sb_encoder* e, std::int64_t t) {
        return sb_encode_agent_remove(e, t, agent_id(a));
      });
    }
    (void)barrier();
  }

  void fill(DriveFigures& f) {
    f.run_wall_s = static_cast<double>(run_end_ns_) / 1e9;
    f.host_events_sent = host_events_measured_;
    f.decisions = decisions_;
    f.errors = errors_;
    f.error_samples = error_samples_;
    f.ring_full_retries = full_retries_;
    f.latency_uncorrected_ns = uncorrected_.percentiles();
    f.latency_uncorrected_histogram_ns = uncorrected_.to_histogram(kLatencyBars);
    f.send_lag_ns = lag_.percentiles();
    f.cleanup_errors = cleanup_errors_;
    std::uint64_t without = 0;
    for (std::size_t i = 0; i < sent_total_ && i < items_.size(); ++i) {
      if (!items_[i].decided) ++without;
    }
    f.arrivals_without_decision = without;
    for (std::size_t k = 0; k < plan_.steps.size(); ++k) {
      plan_.steps[k].latency_ns = step_latency_[k].percentiles();
    }
  }

  // The stats aggregate() turns into figures: agents' time, engine counters.
  void finish_stats() {
    for (std::uint32_t a = 0; a < agents_.size(); ++a) account(a, run_end_ns_);
    st_.decisions = decisions_;
    st_.errors = errors_;
    st_.latency_ns = corrected_;
    lag_.merge(sender_lag());
  }

  [[nodiscard]] std::uint64_t sent_total() const { return sent_total_; }
  [[nodiscard]] const StallWatch& stalls() const { return stall_; }
  [[nodiscard]] std::uint64_t host_events() const { return host_events_measured_; }

 private:
  std::int64_t now_ns() const { return ns_between(sh_.start, Clock::now()); }
  std::int64_t to_ns(double wall_s) const { return static_cast<std::int64_t>(wall_s * 1e9); }
  // Registration runs before time 0 (ns < 0): its records carry the run's first time.
  std::int64_t event_time_ms(std::int64_t ns) const {
    return time_base_ms_ +
           static_cast<std::int64_t>(static_cast<double>(std::max<std::int64_t>(0, ns)) * o_.compress / 1e6);
  }
  double scenario_s(std::int64_t ns) const { return static_cast<double>(ns) / 1e9 * o_.compress; }
  sb_id item_id(std::uint32_t i) const { return sb_id_number(item_base_ + i); }
  sb_id agent_id(std::uint32_t a) const { return sb_id_number(agent_base_ + a); }

  static Error daemon_gone(int rc, const std::string& why) {
    return Error{ErrorCode::config_io, "switchboardd: " + std::string(sb_strerror(rc)) + ": " + why};
  }

  void push(Timer t) {
    t.order = ++timer_order_;
    timers_.push(t);
  }

  // The send lags of the sender's arrivals (actual - intended), once it is done.
  LatencyHistogram sender_lag() const {
    LatencyHistogram h;
    for (std::size_t i = 0; i < sent_total_; ++i) {
      // Acquire: pairs with the sender's release (it is joined by now in any case).
      const std::int64_t sent = sh_.sent[i].sent_ns.load(std::memory_order_acquire);
      h.add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, sent - sh_.plan[i].due_ns)));
    }
    return h;
  }

  // Sends one record, built by `encode(encoder, time_ms)`, that was due at `due_ns`. A full ring
  // is answered by reading (the daemon stops reading inbound records while this host's outbound
  // ring is full); handling what is read only schedules timers, so this never recurses.
  template <typename Encode>
  std::optional<Error> send(std::uint16_t type, std::uint16_t flags, std::int64_t due_ns,
                            Encode&& encode) {
    const std::uint64_t seq = ledger_.size() + 1;
    ledger_.push_back({due_ns, 0, measuring_});
    for (;;) {
      const std::int64_t t = now_ns();
      sb_encoder e;
      sb_enc_init(&e, buffer_.data(), buffer_.size());
      if (encode(&e, event_time_ms(t)) != SB_OK) {
        return Error{ErrorCode::config_invalid_value,
                     std::string("cannot encode a record: ") + sb_strerror(sb_enc_status(&e))};
      }
      ledger_[seq - 1].sent_ns = t;
      const int rc = sb_client_send(c_, type, flags, seq, buffer_.data(), sb_enc_size(&e));
      if (rc == SB_OK) break;
      if (rc == SB_ERR_DAEMON_GONE) {
        // A stall: the record goes out late (its lag and the latencies it causes count it).
        if (auto gone = stall_.wait(nullptr)) return daemon_gone(rc, *gone);
        continue;
      }
      if (rc != SB_ERR_FULL) return Error{ErrorCode::config_io, std::string("switchboardd: ") + sb_strerror(rc)};
      ++full_retries_;
      sb_message m;
      while (sb_client_poll(c_, &m) == SB_OK) handle(m, now_ns());
      std::this_thread::yield();
    }
    if (measuring_) {
      ++host_events_measured_;
      lag_.add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, ledger_[seq - 1].sent_ns - due_ns)));
    }
    last_seq_ = seq;
    return std::nullopt;
  }

  // Waits until the daemon has applied everything this host sent (an ACKed tick), handling what
  // comes back meanwhile.
  std::optional<Error> barrier() {
    if (auto e = send(SB_REC_TICK, SB_FLAG_ACK, now_ns(),
                      [](sb_encoder* e, std::int64_t t) { return sb_encode_tick(e, t); })) {
      return e;
    }
    const std::uint64_t want = last_seq_;
    const auto until = Clock::now() + std::chrono::seconds(10);
    acked_ = 0;
    while (acked_ < want) {
      sb_message m;
      const int rc = sb_client_poll(c_, &m);
      if (rc == SB_OK) {
        handle(m, now_ns());
      } else if (rc == SB_EMPTY) {
        if (Clock::now() > until) {
          return Error{ErrorCode::config_io, "switchboardd did not acknowledge within 10 s"};
        }
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      } else if (rc == SB_ERR_DAEMON_GONE) {
        if (auto gone = stall_.wait(nullptr)) return daemon_gone(rc, *gone);
      } else {
        return Error{ErrorCode::config_io, std::string("switchboardd: ") + sb_strerror(rc)};
      }
    }
    return std::nullopt;
  }

  // Arrivals the sender has committed since the last look become live items; their customers'
  // patience starts at their intended arrival time.
  void admit_sent() {
    // Acquire: pairs with the sender's release; sent[i] below it is readable.
    const std::uint64_t n = sh_.sent_count.load(std::memory_order_acquire);
    while (admitted_ < n) admit(static_cast<std::uint32_t>(admitted_++));
  }
  void admit(std::uint32_t i) {
    Item& it = items_[i];
    if (it.state != ItemState::unsent) return;
    it.state = ItemState::queued;
    ++open_items_;
    QueueStats& q = st_.queues[it.queue];
    ++q.offered;
    ++q.intervals[it.interval].offered;
    ++st_.items;
    const auto& patience = s_.queues[it.queue].patience;
    if (patience) {
      const double wait_s = rng_.draw(*patience);
      push({sh_.plan[i].due_ns + to_ns(wait_s / o_.compress), 0, TimerKind::abandon, i, 0, 0});
    }
  }

  // Brings agent a's busy / on time up to `now` (scenario seconds).
  void account(std::uint32_t a, std::int64_t now) {
    Agent& ag = agents_[a];
    AgentStats& as = st_.agents[a];
    // After the run (clean-up) time is no longer counted.
    const double dt = run_end_ns_ > 0 && !measuring_
                          ? 0.0
                          : scenario_s(std::max<std::int64_t>(0, now - ag.since_ns));
    ag.since_ns = std::max(ag.since_ns, now);
    const bool busy = ag.assigned > 0;
    if (busy) as.busy_s += dt;
    if (busy || ag.open_offers > 0) as.busy_or_offered_s += dt;
    if (busy || ag.presence == s_.groups[ag.group].working_presence) as.on_s += dt;
  }

  // The agent an item's decision names, if it is one of ours.
  std::uint32_t our_agent(const sb_decision& d) const {
    if (!d.has_agent || d.agent.kind != 0 || d.agent.number < agent_base_ ||
        d.agent.number - agent_base_ >= agents_.size()) {
      return kNone;
    }
    return static_cast<std::uint32_t>(d.agent.number - agent_base_);
  }

  void handle(const sb_message& m, std::int64_t received_ns) {
    if (m.type == SB_REC_ACK) {
      acked_ = std::max<std::uint64_t>(acked_, m.sequence);
      return;
    }
    if (m.type == SB_REC_ERROR) {
      sb_error_record err{};
      std::string text = "(undecodable error record)";
      if (sb_decode_error(m.payload, m.size, &err) == SB_OK) {
        text = std::string(sb_error_code_name(err.code)) + ": " + std::string(err.message, err.message_length);
      }
      const LedgerEntry* entry = m.sequence >= 1 && m.sequence <= ledger_.size() ? &ledger_[m.sequence - 1] : nullptr;
      if (!measuring_ && run_end_ns_ > 0) {
        ++cleanup_errors_;
      } else if (entry != nullptr && !entry->measured) {
        if (registration_errors_++ == 0) first_registration_error_ = text;
      } else {
        ++errors_;
        if (error_samples_.size() < kErrorSamples) error_samples_.push_back(text);
      }
      return;
    }
    if (m.type != SB_REC_DECISION) return;
    sb_decision d;
    if (sb_decode_decision(m.payload, m.size, &d) != SB_OK) return;
    if (measuring_) time_decision(d, received_ns);
    if (d.item.kind != 0 || d.item.number < item_base_ || d.item.number - item_base_ >= items_.size()) {
      return;
    }
    const auto i = static_cast<std::uint32_t>(d.item.number - item_base_);
    // A decision can only name an arrival the sender committed; admit it if the host has not
    // seen the sender's count move yet.
    if (items_[i].state == ItemState::unsent) admit_up_to(i);
    Item& it = items_[i];
    if (measuring_) it.decided = true;
    QueueStats& q = st_.queues[it.queue];
    const std::uint32_t agent = our_agent(d);
    switch (d.kind) {
      case SB_DECISION_OFFER: {
        if (!it.first_offer) {
          it.first_offer = true;
          it.waited = !(d.cause_slot == sender_slot_ && d.cause_sequence == std::uint64_t{i} + 1);
        }
        if (it.state == ItemState::cancelling || agent == kNone) return;
        it.state = ItemState::offered;
        it.agent = agent;
        it.accept_sent = false;
        ++it.offer_gen;
        account(agent, received_ns);
        ++agents_[agent].open_offers;
        answer(i, agent, received_ns);
        return;
      }
      case SB_DECISION_ASSIGNED: {
        if (!it.first_offer) {  // assigned without an offer first (not done by this host)
          it.first_offer = true;
          it.waited = true;
        }
        const bool was_offered = it.state == ItemState::offered && it.agent == agent;
        it.state = ItemState::assigned;
        it.agent = agent;
        if (agent == kNone) return;
        account(agent, received_ns);
        if (was_offered && agents_[agent].open_offers > 0) --agents_[agent].open_offers;
        ++agents_[agent].assigned;
        ++st_.agents[agent].assignments;
        const double wait_s = scenario_s(received_ns - sh_.plan[i].due_ns);
        ++q.answered;
        q.waits_s.push_back(wait_s);
        if (it.waited) ++q.waited;
        IntervalStats& iv = q.intervals[it.interval];
        ++iv.answered;
        iv.wait_sum_s += wait_s;
        for (std::size_t k = 0; k < s_.thresholds_s.size(); ++k) {
          if (wait_s <= s_.thresholds_s[k]) {
            ++q.answered_within[k];
            ++iv.answered_within[k];
          }
        }
        const QueueTraffic& traffic = s_.queues[it.queue];
        const double handling_s = rng_.draw(traffic.handling);
        const double wrap_s = traffic.wrap_up ? rng_.draw(*traffic.wrap_up) : 0.0;
        q.handle_sum_s += handling_s;
        push({received_ns + to_ns((handling_s + wrap_s) / o_.compress), 0, TimerKind::complete, i,
              agent, 0});
        return;
      }
      case SB_DECISION_REQUEUED:
      case SB_DECISION_PARKED: {
        if (d.kind == SB_DECISION_PARKED) ++q.parked;
        if (d.reason == SB_REASON_DECLINED) ++q.declines;
        if (d.reason == SB_REASON_TIMED_OUT) ++q.offer_timeouts;
        if (it.state == ItemState::offered && it.agent != kNone) {
          account(it.agent, received_ns);
          if (agents_[it.agent].open_offers > 0) --agents_[it.agent].open_offers;
        }
        if (it.state == ItemState::offered) it.state = ItemState::queued;
        it.agent = kNone;
        it.accept_sent = false;
        ++it.offer_gen;
        return;
      }
      case SB_DECISION_CANCELLED: {
        if (it.state == ItemState::offered && it.agent != kNone) {
          account(it.agent, received_ns);
          if (agents_[it.agent].open_offers > 0) --agents_[it.agent].open_offers;
        }
        if (it.state == ItemState::abandoned) return;
        it.state = ItemState::abandoned;
        if (open_items_ > 0) --open_items_;
        if (!measuring_) return;
        const double waited_s = scenario_s(received_ns - sh_.plan[i].due_ns);
        ++q.abandoned;
        if (it.waited || !it.first_offer) ++q.waited;
        q.abandon_waits_s.push_back(waited_s);
        IntervalStats& iv = q.intervals[it.interval];
        ++iv.abandoned;
        for (std::size_t k = 0; k < s_.thresholds_s.size(); ++k) {
          if (waited_s <= s_.thresholds_s[k]) {
            ++q.abandoned_within[k];
            ++iv.abandoned_within[k];
          }
        }
        return;
      }
      case SB_DECISION_COMPLETED: {
        if (it.agent != kNone) {
          account(it.agent, received_ns);
          if (agents_[it.agent].assigned > 0) --agents_[it.agent].assigned;
        }
        if (it.state != ItemState::abandoned && open_items_ > 0 && measuring_) --open_items_;
        it.state = ItemState::completed;
        if (measuring_) ++q.completed;
        return;
      }
      default:
        return;
    }
  }

  void admit_up_to(std::uint32_t i) {
    while (admitted_ <= i) admit(static_cast<std::uint32_t>(admitted_++));
  }

  // Decision latency: receipt - intended send time of the record that caused it (corrected),
  // and receipt - actual send time (uncorrected). Decisions other hosts caused are not timed.
  void time_decision(const sb_decision& d, std::int64_t received_ns) {
    std::int64_t due = 0;
    std::int64_t sent = 0;
    if (d.cause_slot == sender_slot_ && d.cause_sequence >= 1 && d.cause_sequence <= sh_.plan.size()) {
      const std::size_t k = d.cause_sequence - 1;
      due = sh_.plan[k].due_ns;
      // Acquire: pairs with the sender's release before the commit that made this decision.
      sent = sh_.sent[k].sent_ns.load(std::memory_order_acquire);
      if (sent == 0) sent = received_ns;  // cannot happen (see SentArrival); never negative
    } else if (d.cause_slot == host_slot_ && d.cause_sequence >= 1 && d.cause_sequence <= ledger_.size()) {
      const LedgerEntry& e = ledger_[d.cause_sequence - 1];
      if (!e.measured) return;
      due = e.due_ns;
      sent = e.sent_ns;
    } else {
      return;
    }
    ++decisions_;
    const auto corrected = static_cast<std::uint64_t>(std::max<std::int64_t>(0, received_ns - due));
    corrected_.add(corrected);
    uncorrected_.add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, received_ns - sent)));
    const std::size_t step = step_of(due);
    step_latency_[step].add(corrected);
    ++plan_.steps[step].decisions;
  }

  std::size_t step_of(std::int64_t ns) const {
    const double s = static_cast<double>(ns) / 1e9;
    std::size_t k = 0;
    while (k + 1 < plan_.steps.size() && s >= plan_.steps[k].end_s) ++k;
    return k;
  }

  // How agent `a` answers the offer of item i: accept, decline or let it ring, after the
  // group's response delay (compressed).
  void answer(std::uint32_t i, std::uint32_t a, std::int64_t received_ns) {
    const AnswerBehavior& b = s_.groups[agents_[a].group].answer;
    const double u = rng_.uniform();
    Timer t{};
    t.item = i;
    t.agent = a;
    t.value = items_[i].offer_gen;
    if (u < b.accept) {
      t.kind = TimerKind::accept;
      t.due_ns = received_ns + to_ns(rng_.draw(b.response_delay) / o_.compress);
    } else if (u < b.accept + b.decline) {
      t.kind = TimerKind::decline;
      t.due_ns = received_ns + to_ns(rng_.draw(b.response_delay) / o_.compress);
    } else {
      t.kind = TimerKind::no_answer;
      t.due_ns = received_ns + to_ns(b.no_answer_timeout_s / o_.compress);
    }
    push(t);
  }

  std::optional<Error> fire(const Timer& t) {
    Item* it = t.kind == TimerKind::presence || t.kind == TimerKind::tick ? nullptr : &items_[t.item];
    const auto current_offer = [&] {
      return it->state == ItemState::offered && it->offer_gen == t.value && it->agent == t.agent;
    };
    switch (t.kind) {
      case TimerKind::accept:
        if (!current_offer()) return std::nullopt;
        it->accept_sent = true;
        return send(SB_REC_OFFER_ACCEPT, 0, t.due_ns, [&](sb_encoder* e, std::int64_t ms) {
          return sb_encode_offer_accept(e, ms, item_id(t.item), agent_id(t.agent));
        });
      case TimerKind::decline:
        if (!current_offer()) return std::nullopt;
        return send(SB_REC_OFFER_DECLINE, 0, t.due_ns, [&](sb_encoder* e, std::int64_t ms) {
          return sb_encode_offer_decline(e, ms, item_id(t.item), agent_id(t.agent));
        });
      case TimerKind::no_answer:
        if (!current_offer()) return std::nullopt;
        return send(SB_REC_OFFER_TIMEOUT, 0, t.due_ns, [&](sb_encoder* e, std::int64_t ms) {
          return sb_encode_offer_timeout(e, ms, item_id(t.item), agent_id(t.agent));
        });
      case TimerKind::complete:
        if (it->state != ItemState::assigned) return std::nullopt;
        return send(SB_REC_ITEM_COMPLETE, 0, t.due_ns, [&](sb_encoder* e, std::int64_t ms) {
          return sb_encode_item_complete(e, ms, item_id(t.item));
        });
      case TimerKind::abandon: {
        const bool waiting = it->state == ItemState::queued ||
                             (it->state == ItemState::offered && !it->accept_sent);
        if (!waiting) return std::nullopt;
        // The arrival went through the sender's ring; cancelling before the daemon applied it
        // would be refused (unknown item). Look again shortly.
        if (records_applied(sender_client_, sender_slot_) < std::uint64_t{t.item} + 1) {
          Timer later = t;
          later.due_ns = now_ns() + 1'000'000;
          push(later);
          return std::nullopt;
        }
        it->state = ItemState::cancelling;
        ++it->offer_gen;
        return send(SB_REC_ITEM_CANCEL, 0, t.due_ns, [&](sb_encoder* e, std::int64_t ms) {
          return sb_encode_item_cancel(e, ms, item_id(t.item));
        });
      }
      case TimerKind::presence: {
        account(t.agent, now_ns());
        agents_[t.agent].presence = static_cast<PresenceId>(t.value);
        return send(SB_REC_PRESENCE_CHANGE, 0, t.due_ns, [&](sb_encoder* e, std::int64_t ms) {
          return sb_encode_presence_change(e, ms, agent_id(t.agent),
                                           static_cast<std::uint8_t>(dir_.presence[t.value]));
        });
      }
      case TimerKind::tick:
        return send(SB_REC_TICK, 0, t.due_ns, [](sb_encoder* e, std::int64_t ms) {
          return sb_encode_tick(e, ms);
        });
    }
    return std::nullopt;
  }

  // The presence agent k of `g` has at scenario time t_s by its shifts and breaks (as the
  // simulator's: offline outside shifts, the break's presence during breaks).
  PresenceId presence_at(const AgentGroup& g, std::uint32_t k, double t_s) const {
    bool on_shift = g.shifts.empty();
    for (const auto& [start, end] : g.shifts) {
      if (t_s >= start && t_s < end) on_shift = true;
    }
    if (!on_shift) return s_.config.offline();
    for (const BreakSpec& b : g.breaks) {
      const double start = break_start(g, b, k);
      if (t_s >= start && t_s < start + b.duration_s) return b.presence;
    }
    return g.working_presence;
  }
  static double break_start(const AgentGroup& g, const BreakSpec& b, std::uint32_t k) {
    return b.start_s + b.stagger_s * static_cast<double>(k) / static_cast<double>(g.count);
  }
  void schedule_presence(std::uint32_t a, double end_wall_s) {
    const AgentGroup& g = s_.groups[agents_[a].group];
    const std::uint32_t k = agents_[a].index_in_group;
    std::vector<double> changes;  // scenario seconds
    for (const auto& [start, end] : g.shifts) {
      changes.push_back(start);
      changes.push_back(end);
    }
    for (const BreakSpec& b : g.breaks) {
      changes.push_back(break_start(g, b, k));
      changes.push_back(break_start(g, b, k) + b.duration_s);
    }
    std::sort(changes.begin(), changes.end());
    PresenceId current = agents_[a].presence;
    for (double t : changes) {
      if (t <= 0.0 || t / o_.compress > end_wall_s) continue;
      const PresenceId next = presence_at(g, k, t);
      if (next == current) continue;
      push({to_ns(t / o_.compress), 0, TimerKind::presence, 0, a, next});
      current = next;
    }
  }

  void sample_depth(std::int64_t now) {
    if (depth_step_ns_ <= 0 || arrivals_over_) return;
    while (next_depth_ns_ <= now) {
      for (std::size_t q = 0; q < s_.queues.size(); ++q) {
        const std::uint64_t depth = queue_depth(c_, dir_.queue[s_.queues[q].queue_id]);
        st_.queues[q].depth.push_back(static_cast<double>(depth));
        st_.queues[q].max_depth = std::max(st_.queues[q].max_depth, depth);
      }
      next_depth_ns_ += depth_step_ns_;
    }
  }

  // A step is judged once it has ended and a settle time has passed: its decisions' corrected
  // p99 against the bound, and whether the daemon has applied all of its arrivals.
  void evaluate_steps(std::int64_t now) {
    while (next_step_ < plan_.steps.size()) {
      DriveStep& step = plan_.steps[next_step_];
      const std::int64_t end = to_ns(step.end_s);
      if (now < end) return;
      if (!step_end_seen_) {
        step_end_seen_ = true;
        const std::uint64_t sent = sh_.sent_count.load(std::memory_order_acquire);
        const std::uint64_t applied = records_applied(sender_client_, sender_slot_);
        step.backlog_at_end = sent > applied ? sent - applied : 0;
      }
      const double bound_s = o_.max_p99_ms / 1000.0;
      const double settle_s = std::max(bound_s, std::min(0.5, (step.end_s - step.start_s) / 4.0));
      if (now < to_ns(step.end_s + settle_s) && !arrivals_over_) return;
      // Arrivals due in the step: those before the first arrival of the next step.
      const auto last = std::upper_bound(sh_.plan.begin(), sh_.plan.end(), end,
                                         [](std::int64_t v, const PlannedArrival& a) { return v <= a.due_ns; });
      const auto due_in_step = static_cast<std::uint64_t>(last - sh_.plan.begin());
      const std::uint64_t sent = sh_.sent_count.load(std::memory_order_acquire);
      const std::uint64_t applied = records_applied(sender_client_, sender_slot_);
      const Percentiles p = step_latency_[next_step_].percentiles();
      step.arrivals = std::min(sent, due_in_step) - std::min(sent, first_of_step_);
      first_of_step_ = due_in_step;
      step.evaluated = true;
      const bool latency_ok = p.count == 0 || p.p99 <= o_.max_p99_ms * 1e6;
      step.sustained = latency_ok && sent >= due_in_step && applied >= due_in_step;
      if (!step.sustained && plan_.source == "ramp" && !fell_behind_) {
        fell_behind_ = true;
        // Relaxed: see Shared::stop.
        sh_.stop.store(true, std::memory_order_relaxed);
      }
      if (step.sustained && !fell_behind_) sustained_rate_ = std::max(sustained_rate_, step.rate_per_s);
      ++next_step_;
      step_end_seen_ = false;
      if (fell_behind_) {
        // The steps after the first that fell behind never ran in full.
        plan_.steps.resize(next_step_);
        return;
      }
    }
  }

  void report_progress(std::int64_t now) {
    DriveProgress p;
    p.elapsed_s = static_cast<double>(now) / 1e9;
    p.duration_s = plan_.duration_s;
    p.arrivals_sent = sh_.sent_count.load(std::memory_order_relaxed);  // display only
    p.decisions = decisions_;
    p.draining = arrivals_over_;
    o_.on_progress(p);
  }

 public:
  [[nodiscard]] double sustained_rate() const { return sustained_rate_; }
  [[nodiscard]] bool fell_behind() const { return fell_behind_; }

 private:
  Shared& sh_;
  const Scenario& s_;
  const DriveOptions& o_;
  const Directory& dir_;
  sb_client* c_;
  std::uint32_t host_slot_;
  std::uint32_t sender_slot_;
  const sb_client* sender_client_;
  std::int64_t time_base_ms_;
  Rng rng_;
  std::uint64_t item_base_;
  std::uint64_t agent_base_;
  Plan& plan_;
  ReplicationStats& st_;
  std::vector<std::uint8_t> buffer_;
  std::vector<Item> items_;
  std::vector<Agent> agents_;
  std::vector<LedgerEntry> ledger_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::uint64_t timer_order_ = 0;
  std::uint64_t last_seq_ = 0;
  std::uint64_t acked_ = 0;
  std::uint64_t admitted_ = 0;
  std::uint64_t open_items_ = 0;
  std::uint64_t sent_total_ = 0;
  bool measuring_ = false;
  bool arrivals_over_ = false;
  std::int64_t run_end_ns_ = 0;
  std::uint64_t decisions_ = 0;
  std::uint64_t errors_ = 0;
  std::vector<std::string> error_samples_;
  std::uint64_t registration_errors_ = 0;
  std::string first_registration_error_;
  std::uint64_t cleanup_errors_ = 0;
  std::uint64_t full_retries_ = 0;
  std::uint64_t host_events_measured_ = 0;
  LatencyHistogram corrected_;
  LatencyHistogram uncorrected_;
  LatencyHistogram lag_;
  std::vector<LatencyHistogram> step_latency_;
  std::int64_t depth_step_ns_ = 0;
  std::int64_t next_depth_ns_ = 0;
  std::size_t next_step_ = 0;
  bool step_end_seen_ = false;
  std::uint64_t first_of_step_ = 0;
  double sustained_rate_ = 0.0;
  bool fell_behind_ = false;
  StallWatch stall_;
};

std::int64_t realtime_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

Result<RampOptions> parse_ramp(const std::string& text) {
  RampOptions r;
  double* fields[] = {&r.start_per_s, &r.step_per_s, &r.step_s};
  std::size_t pos = 0;
  for (int k = 0; k < 3; ++k) {
    const std::size_t colon = k < 2 ? text.find(':', pos) : text.size();
    if (colon == std::string::npos) break;
    const std::string part = text.substr(pos, colon - pos);
    char* end = nullptr;
    const double v = std::strtod(part.c_str(), &end);
    if (part.empty() || end != part.c_str() + part.size() || !(v > 0.0) || !std::isfinite(v)) {
      return invalid("--ramp " + text + ": expected START:STEP:SECONDS, three positive numbers");
    }
    *fields[k] = v;
    pos = colon + 1;
    if (k == 2) return r;
  }
  return invalid("--ramp " + text + ": expected START:STEP:SECONDS, three positive numbers");
}

Result<LoadTestResults> drive(const Scenario& scenario, const DriveOptions& options,
                              DriveFigures* figures) {
  if (!(options.compress > 0.0) || !std::isfinite(options.compress)) {
    return invalid("--compress must be a positive number");
  }
  if (options.rate_per_s && options.ramp) return invalid("--rate and --ramp exclude each other");
  if (options.rate_per_s && !(*options.rate_per_s > 0.0)) return invalid("--rate must be positive");
  if (options.duration_s < 0.0 || options.drain_s < 0.0) {
    return invalid("--duration and --drain must not be negative");
  }
  if (!(options.max_p99_ms > 0.0)) return invalid("--max-p99-ms must be positive");
  if (options.daemon_stall_timeout_ms < 0) return invalid("--daemon-stall-timeout-ms must not be negative");
  const std::uint64_t seed = options.seed.value_or(scenario.seed);
  Rng plan_rng(replication_seed(seed, 0));
  Result<Plan> planned = make_plan(scenario, options, plan_rng);
  if (!planned) return planned.error();
  Plan plan = std::move(planned).value();

  // The scenario as the figures see it: scenario time covered by the arrivals, one
  // "replication", everything measured (no warm-up: drive mode's first decisions are real).
  Scenario s = scenario;
  s.horizon_s = plan.duration_s * options.compress;
  s.warmup_s = 0.0;
  s.drain_s = options.drain_s * options.compress;
  if (s.interval_s <= 0.0 || s.interval_s > s.horizon_s) s.interval_s = s.horizon_s;
  s.depth_step_s = std::max(0.1 * options.compress, s.horizon_s / 240.0);

  // Attach: the host first (it must receive every decision), then the sender.
  Result<ClientPtr> host_client = attach(options.segment, SB_ATTACH_DECISIONS, options.attach_timeout_ms);
  if (!host_client) return host_client.error();
  Result<ClientPtr> sender_client = attach(options.segment, 0, options.attach_timeout_ms);
  if (!sender_client) return sender_client.error();
  Result<Directory> dir = map_directory(host_client->get(), s.config);
  if (!dir) return dir.error();

  ReplicationStats stats;
  stats.seed = seed;
  stats.queues.resize(s.queues.size());
  for (QueueStats& q : stats.queues) {
    q.answered_within.assign(s.thresholds_s.size(), 0);
    q.abandoned_within.assign(s.thresholds_s.size(), 0);
    q.intervals.resize(s.interval_count());
    for (IntervalStats& iv : q.intervals) {
      iv.answered_within.assign(s.thresholds_s.size(), 0);
      iv.abandoned_within.assign(s.thresholds_s.size(), 0);
    }
  }
  std::size_t agent_count = 0;
  for (const AgentGroup& g : s.groups) agent_count += g.count;
  stats.agents.resize(agent_count);

  Shared shared;
  shared.plan = plan.arrivals;
  shared.sent = std::make_unique<SentArrival[]>(shared.plan.size());
  // Ids of this run: the process id in the high half, so that two runs against one daemon do
  // not collide; agents in the upper half of the low word.
  const auto pid = static_cast<std::uint64_t>(::getpid());
  const std::uint64_t item_base = pid << 32;
  const std::uint64_t agent_base = (pid << 32) | (std::uint64_t{1} << 31);
  // Event times: the wall clock's ms at the start, then compressed time. A daemon whose clock
  // is ahead (an earlier compressed run) applies older times at its own (docs/events.md).
  const std::int64_t time_base_ms = realtime_ms();

  // Registration happens before time 0 (an hour ahead; reset below), so that its records carry
  // the run's first event time and are never mistaken for the run's.
  shared.start = Clock::now() + std::chrono::hours(1);
  Host host(shared, s, options, dir.value(), host_client->get(), sb_client_slot(sender_client->get()),
            sender_client->get(), time_base_ms, replication_seed(seed, 1), item_base, agent_base,
            plan, stats);
  if (auto e = host.register_agents()) return *e;

  // Time 0 of the run, a little ahead so that the sender thread is up before the first arrival.
  shared.start = Clock::now() + std::chrono::milliseconds(20);
  Sender sender(shared, s, options, dir.value(), sender_client->get(), time_base_ms,
                replication_seed(seed, 2), item_base);
  std::thread sender_thread([&sender] { sender.run(); });
  std::optional<Error> failure = host.run();
  if (failure) shared.stop.store(true, std::memory_order_relaxed);  // relaxed: see Shared::stop
  sender_thread.join();
  if (failure) return *failure;
  host.finish_stats();

  host.clean_up();
  DriveFigures f;
  host.fill(f);

  f.segment = options.segment;
  f.compress = options.compress;
  f.spacing = options.spacing == ArrivalSpacing::poisson ? "poisson" : "constant";
  f.rate_source = plan.source;
  f.arrivals_planned = plan.arrivals.size();
  f.arrivals_sent = host.sent_total();
  f.duration_s = plan.duration_s;
  double target_sum = 0.0;
  double target_time = 0.0;
  for (const DriveStep& step : plan.steps) {
    target_sum += step.rate_per_s * (step.end_s - step.start_s);
    target_time += step.end_s - step.start_s;
  }
  f.target_rate_per_s = target_time > 0.0 ? target_sum / target_time : 0.0;
  // Stopped early (a ramp step fell behind): the arrivals lasted until the first one not sent
  // was due.
  if (f.arrivals_sent < plan.arrivals.size()) {
    f.duration_s = static_cast<double>(plan.arrivals[f.arrivals_sent].due_ns) / 1e9;
  }
  f.arrivals_per_s = f.duration_s > 0.0 ? static_cast<double>(f.arrivals_sent) / f.duration_s : 0.0;
  f.events_sent = f.arrivals_sent + f.host_events_sent;
  f.errors += shared.sender_errors;
  for (const std::string& e : shared.sender_error_samples) {
    if (f.error_samples.size() < kErrorSamples) f.error_samples.push_back(e);
  }
  f.ring_full_retries += shared.sender_full_retries;
  f.decisions_per_s = f.run_wall_s > 0.0 ? static_cast<double>(f.decisions) / f.run_wall_s : 0.0;
  f.steps = plan.steps;
  f.sustained_rate_per_s = host.sustained_rate();
  f.fell_behind = host.fell_behind();
  // Both threads notice a stall on their own client; the host polls all the time, so its count
  // is the run's unless the sender alone ran into one (a full ring).
  f.daemon_stalls = std::max(host.stalls().stalls(), shared.sender_stalls);
  f.longest_daemon_stall_s =
      static_cast<double>(std::max(host.stalls().longest_ns(), shared.sender_longest_stall_ns)) / 1e9;

  stats.errors = f.errors;
  stats.events = f.events_sent;
  stats.engine_wall_s = f.run_wall_s;
  stats.wall_s = f.run_wall_s;
  stats.simulated_s = f.run_wall_s * options.compress;
  LoadTestResults r = aggregate(s, EngineKind::kernel, seed, {std::move(stats)});
  r.mode = "drive";
  r.engine = "switchboardd";
  r.engine_figures.engine = r.engine;
  r.engine_figures.batches = 0;
  r.simulator.threads = 2;
  r.simulator.wall_s = f.run_wall_s;
  f.latency_ns = r.engine_figures.latency_ns;
  if (figures != nullptr) *figures = std::move(f);
  return r;
}

}  // namespace switchboard::loadtest
