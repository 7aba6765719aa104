// The routing kernel (kernel.hpp). Same contract as the reference router, decision for
// decision; what differs is how a decision is found:
//
//   - agents live in AgentColumns (structure of arrays); cold data (ids, attributes, shifts,
//     holds, memberships) lives apart in AgentCold;
//   - each queue is a Shard: its queued items in R8 order (ordered sets, affinity items apart),
//     its members with their round-robin times, and `ready`, the members that can take work now
//     (presence allowed, a free slot, not blocked), kept sorted by the queue method's rank key;
//   - a try walks `ready` in rank order and stops at the first eligible agent that has not
//     declined the item, instead of scanning every member;
//   - an item that found nobody remembers the shard's change stamp; until a member changes it is
//     not tried again, and after a few changes only the changed agents are checked (an agent that
//     could not take the item and has not changed still cannot);
//   - timers live in a heap with lazy deletion instead of being searched.

#include "switchboard/kernel.hpp"

#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <thread>
#include <type_traits>
#include <atomic>
#include <cassert>
#include <map>
#include <numeric>
#include <queue>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "switchboard/agent_table.hpp"
#include "switchboard/condition.hpp"
#include "switchboard/event_checks.hpp"
#include "switchboard/id_map.hpp"
#include "switchboard/ranking.hpp"

// ThreadSanitizer cannot see the happens-before that oneTBB gives between spawning a task and
// running it, or between a task's end and task_group::wait() returning: the handoff happens
// inside libtbb, which is not instrumented. The crew states those two edges itself, so that TSan
// checks everything the crew does against everything the driver does. No code without TSan.
#if defined(__SANITIZE_THREAD__)
#define SWITCHBOARD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SWITCHBOARD_TSAN 1
#endif
#endif
#ifdef SWITCHBOARD_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace switchboard {
namespace {

// The address the edges are stated on. It must be known to the task before it reads anything it
// captured (the captures are what the spawn publishes), so it is a fixed address, not `this`.
// Only TSan ever looks at it.
[[maybe_unused]] inline void* crew_edge() noexcept {  // used only with SWITCHBOARD_TSAN
  static char edge = 0;
  return &edge;
}
inline void tsan_release() noexcept {
#ifdef SWITCHBOARD_TSAN
  __tsan_release(crew_edge());
#endif
}
inline void tsan_acquire() noexcept {
#ifdef SWITCHBOARD_TSAN
  __tsan_acquire(crew_edge());
#endif
}

using ItemSlot = std::uint32_t;
using Stamp = std::uint64_t;

// Capacity held for one item (R6), from the offer until release; in wrap-up after completion.
struct Hold {
  ExternalId item;
  ChannelId channel = 0;
  Reservation reservation;
  Timestamp release_at = kNever;  // != kNever: in wrap-up, released at that time
  [[nodiscard]] bool in_wrap_up() const noexcept { return release_at != kNever; }
};

struct MemberRef {
  QueueId queue = 0;
  std::uint32_t pos = 0;  // index in the shard's member arrays
};

// Cold agent data: read when ranking by attributes, evaluating rules, or reporting.
struct AgentCold {
  ExternalId id;
  std::vector<SkillLevel> skills;
  Attributes attributes;
  std::vector<Shift> shifts;
  std::vector<Hold> holds;
  std::vector<MemberRef> queues;  // sorted by queue id
  std::vector<std::int32_t> profile_max;  // as given (for views: the host's own vector)
};

struct Item {
  ExternalId id;
  std::uint64_t seq = 0;
  QueueId queue = 0;
  Timestamp created = 0;
  Timestamp last_message = 0;
  Timestamp order_time = 0;  // the R8 key under the current queue's channel
  Attributes attributes;
  std::vector<SkillRequirement> skills;
  SkillSet required;
  bool any_minimum = false;  // some requirement has a minimum proficiency
  std::optional<std::int32_t> units;
  std::optional<ExternalId> affinity;
  AgentIndex affinity_index = kNoAgent;  // the affinity id's permanent index, once it has one
  ItemState state = ItemState::queued;
  AgentIndex agent = kNoAgent;
  Timestamp offered_at = 0;
  std::uint64_t offer_serial = 0;
  std::vector<std::pair<AgentIndex, std::int32_t>> declines;  // R14, per agent
  // The try memo: the shard stamp at which this item last found nobody (0 = none).
  Stamp failed_stamp = 0;
  QueueId failed_queue = 0;
  bool live = false;
};

// A queued item's place in its shard (R8 FIFO key).
struct QueuedKey {
  Timestamp order_time = 0;
  std::uint64_t seq = 0;
  ItemSlot slot = 0;
  friend bool operator<(const QueuedKey& a, const QueuedKey& b) noexcept {
    return std::tie(a.order_time, a.seq) < std::tie(b.order_time, b.seq);
  }
};

// A member's rank in a shard's ready index: (a, b) by the queue's method, then the agent id.
struct RankKey {
  std::int64_t a = 0;
  std::int64_t b = 0;
  AgentIndex agent = kNoAgent;
  std::uint32_t pos = 0;  // the member's position in the shard (not part of the order)
  bool named = false;    // the agent's id is a name (names sort after numbers)
  std::uint64_t id = 0;  // the agent's id when it is a number
  friend bool operator==(const RankKey&, const RankKey&) = default;
};

struct RankLess {
  const std::vector<AgentCold>* cold = nullptr;
  bool operator()(const RankKey& x, const RankKey& y) const noexcept {
    if (x.a != y.a) return x.a < y.a;
    if (x.b != y.b) return x.b < y.b;
    if (x.named != y.named) return y.named;
    if (!x.named) return x.id < y.id;
    if (x.agent == y.agent) return false;
    return (*cold)[x.agent].id < (*cold)[y.agent].id;
  }
};

enum class RankIndex : std::uint8_t { highest_capacity, round_robin, least_active, by_id };

// Everything about a queue that does not change after construction.
struct QueueInfo {
  std::uint64_t presence_mask = 0;  // R7: allowed presences
  Reservation need;                 // the channel's default need (units per item or a slot)
  std::int64_t min_need = 1;        // the least any item of the queue needs
  RankIndex rank = RankIndex::by_id;
  std::uint32_t name_rank = 0;      // R12 alphabetical order of ruleset queues
  bool order_by_last_message = false;
  Timestamp offer_timeout_ms = 0;
  bool memo_allowed = true;         // a failed try is a function of the members' state only
  std::vector<AgentOrderKey> method_keys;  // R9 keys of the method (empty for rulesets)
  // Per assignment rule: the conjuncts of its condition that look only at the item. When one is
  // false the rule matches no agent, which one evaluation per item (not per agent) shows.
  std::vector<std::vector<Condition>> item_gates;
  // Per assignment rule: the conjuncts of its condition that look at the agent (the whole
  // condition when it is not a conjunction; none when it looks only at the item). Once the item
  // gates hold, the rule matches an agent exactly when these do, so a try evaluates only these
  // per agent instead of re-reading the item's attributes for every agent.
  std::vector<std::vector<Condition>> agent_parts;
};

// Does the subtree at `n` look at the agent?
bool refers_to_agent(const Condition& c, std::uint32_t n) {
  const ConditionNode& node = c.nodes[n];
  switch (node.kind) {
    case NodeKind::skills_match:
    case NodeKind::has_skill:
    case NodeKind::capacity_ok:
    case NodeKind::is_working: return true;
    default: break;
  }
  const auto agent_operand = [](const Operand& o) {
    return o.kind == OperandKind::agent_attribute || o.kind == OperandKind::agent_presence;
  };
  if (agent_operand(node.lhs) || agent_operand(node.rhs)) return true;
  return std::any_of(node.children.begin(), node.children.end(),
                     [&](std::uint32_t child) { return refers_to_agent(c, child); });
}

std::vector<Condition> item_gates_of(const Condition& c) {
  std::vector<Condition> gates;
  if (c.is_always() || c.nodes[c.root].kind != NodeKind::all_of) return gates;
  for (std::uint32_t child : c.nodes[c.root].children) {
    if (refers_to_agent(c, child)) continue;
    Condition gate = c;
    gate.root = child;
    gate.refers_to_agent = false;
    gates.push_back(std::move(gate));
  }
  return gates;
}

std::vector<Condition> agent_parts_of(const Condition& c) {
  if (!c.refers_to_agent) return {};
  if (c.is_always() || c.nodes[c.root].kind != NodeKind::all_of) return {c};
  std::vector<Condition> parts;
  for (std::uint32_t child : c.nodes[c.root].children) {
    if (!refers_to_agent(c, child)) continue;
    Condition part = c;
    part.root = child;
    parts.push_back(std::move(part));
  }
  return parts;
}

// The item attributes one try has looked up, by the address of the key's text (the conditions'
// operands, which outlive the try). A ruleset try evaluates the same item lookups once per agent
// (`agent.language == item.language`); the item does not change during the try, so the first
// answer holds for all. Lives on the stack of one try: no sharing.
struct ItemLookups {
  struct Entry {
    const char* key = nullptr;
    std::size_t size = 0;
    const AttrValue* value = nullptr;
  };
  std::array<Entry, 8> entries{};  // more keys than this are looked up every time
  std::size_t count = 0;
};

struct Change {
  Stamp stamp = 0;
  AgentIndex agent = kNoAgent;
};

struct Shard {
  std::set<QueuedKey> plain;     // queued items without affinity, FIFO
  std::set<QueuedKey> affinity;  // queued items with an affinity agent, FIFO (R13: first)
  std::vector<AgentIndex> members;
  std::vector<Timestamp> joined;
  std::vector<Timestamp> last_assignment;  // R9 round robin; kNever until the first
  std::vector<RankKey> key;                // the key under which the member is in `ready`
  std::vector<std::uint8_t> indexed;       // 1 = in `ready`
  std::set<RankKey, RankLess> ready;
  // The member's entry in `ready`, valid while indexed[pos] == 1. Re-filing starts from it
  // instead of searching the tree for key[pos]: one descent per re-file instead of two (a set's
  // iterators survive every other insert and erase). Written and read by whoever owns the shard
  // (the driver, or in a parallel batch the one lane whose component holds the queue).
  std::vector<std::set<RankKey, RankLess>::iterator> where;
  // agent -> its position in the arrays above. Membership tests read only the shard's own data,
  // so a lane never looks at an agent of another component to learn it is not a member.
  std::unordered_map<AgentIndex, std::uint32_t> pos_of;
  Stamp stamp = 0;             // last change of any member (counts this shard's changes)
  Stamp log_floor = 0;         // changes after this stamp are all in `log`
  std::vector<Change> log;     // recent member changes, oldest first
  // Nodes taken out of the sets above, kept for their next inserts: an item that is queued and
  // offered, an agent that fills up and frees again, costs no allocation in steady traffic.
  // At most kSpareNodes of each, so that a burst does not keep its memory for good.
  std::vector<std::set<QueuedKey>::node_type> spare_queued;
  std::vector<std::set<RankKey, RankLess>::node_type> spare_ready;

  explicit Shard(const std::vector<AgentCold>* cold) : ready(RankLess{cold}) {}
  [[nodiscard]] bool has_queued() const noexcept { return !plain.empty() || !affinity.empty(); }
  [[nodiscard]] Timestamp rr_time(std::uint32_t pos) const noexcept {
    return last_assignment[pos] != kNever ? last_assignment[pos] : joined[pos];
  }
};

constexpr std::size_t kLogKeep = 64;
constexpr std::size_t kSpareNodes = 256;

// Inserts `value` into `set` in a spare node when there is one; returns where it went.
template <typename Set>
typename Set::iterator insert_reusing(Set& set, std::vector<typename Set::node_type>& spare,
                                      const typename Set::value_type& value) {
  if (spare.empty()) return set.insert(value).first;
  typename Set::node_type node = std::move(spare.back());
  spare.pop_back();
  node.value() = value;
  return set.insert(std::move(node)).position;
}
// Erases `key` from `set`, keeping its node as a spare (up to kSpareNodes).
template <typename Set>
void erase_keeping(Set& set, std::vector<typename Set::node_type>& spare, const typename Set::key_type& key) {
  typename Set::node_type node = set.extract(key);
  if (!node.empty() && spare.size() < kSpareNodes) spare.push_back(std::move(node));
}
// Erases the entry at `at` from `set`, keeping its node as a spare (up to kSpareNodes).
template <typename Set>
void erase_keeping_at(Set& set, std::vector<typename Set::node_type>& spare, typename Set::iterator at) {
  typename Set::node_type node = set.extract(at);
  if (spare.size() < kSpareNodes) spare.push_back(std::move(node));
}

// Timers (R6 wrap-up end, R14 offer timeout); periodic cycles are kept per channel.
struct Timer {
  Timestamp due = kNever;
  int kind = 0;  // 0 wrap-up end, 1 offer timeout (2 = periodic, never in the heap)
  ExternalId item;
  AgentIndex agent = kNoAgent;
  ItemSlot slot = 0;
  std::uint64_t serial = 0;
};
struct TimerAfter {
  bool operator()(const Timer& x, const Timer& y) const {
    return std::tie(x.due, x.kind, x.item) > std::tie(y.due, y.kind, y.item);
  }
};

constexpr ItemSlot kNoSlot = 0xFFFF'FFFFu;

// What one thread of execution needs of its own while it applies events: where its decisions go,
// scratch buffers, and in a parallel batch (overlay) what it changed in the tables the lanes
// share, applied by the driver once every lane has finished (docs/kernel.md, "Parallel batches").
// Written and read by the lane's thread only.
struct alignas(64) Lane {  // lanes run on different threads: no shared cache line
  std::vector<Decision>* out = nullptr;
  std::vector<QueueId> triggered;
  std::vector<AgentIndex> candidates;
  std::vector<std::uint32_t> positions;  // candidates' member positions, same order
  std::vector<ItemSlot> block;
  std::vector<std::vector<ItemSlot>> blocks;
  std::vector<std::size_t> heads;           // run_cycle: next position in each of `blocks`
  std::vector<ItemSlot> affinity_first;     // cycle_block's scratch
  std::vector<ItemSlot> rest;

  bool overlay = false;
  IdMap<ItemSlot> index_delta;  // kNoSlot: erased
  std::vector<ItemSlot> freed;
  std::vector<Timer> timers;
  std::int64_t live_delta = 0;
  ItemSlot arrival_slot = kNoSlot;  // the slot and seq the driver reserved for this arrival
  std::uint64_t arrival_seq = 0;
  bool arrival_used = false;
  std::vector<std::size_t> events;  // batch indices this lane applies, in order
  std::vector<Decision> decisions;
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // per event: [begin, end) in decisions

  void reset_overlay() {
    index_delta.clear();
    freed.clear();
    timers.clear();
    live_delta = 0;
    events.clear();
    decisions.clear();
    spans.clear();
  }
};

Error error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace

struct Kernel::State {
  Config config;
  KernelOptions options;
  std::vector<QueueInfo> queue_info;
  std::vector<std::vector<QueueId>> channel_queues;
  std::vector<std::uint64_t> blocking_profiles;  // per profile: does it block others (R6)

  AgentColumns hot;
  std::vector<AgentCold> cold;
  IdMap<AgentIndex> agent_index;  // permanent: an id keeps its index

  std::vector<Item> items;
  std::vector<ItemSlot> free_slots;
  IdMap<ItemSlot> item_index;
  std::size_t live_items = 0;
  std::uint64_t next_seq = 0;


  std::vector<Shard> shards;


  Timestamp clock = kNever;
  std::vector<Timestamp> next_periodic;
  std::priority_queue<Timer, std::vector<Timer>, TimerAfter> timers;

  Lane main;  // the driver's lane: every sequential apply

  // Parallel batches (apply_batch with threads > 1).
  std::unique_ptr<tbb::task_arena> arena;
  std::vector<Lane> lanes;
  std::vector<std::uint32_t> queue_component;  // union of queues that share an agent
  bool components_stale = true;
  bool single_component = false;  // every queue in one component: batches cannot split
  Timestamp shortest_timer = std::numeric_limits<Timestamp>::max();  // min timeout / wrap-up
  std::uint64_t parallel_events = 0;

  // The lane crew of one apply_batch call: oneTBB tasks that stay in the arena for the whole
  // batch and claim the lanes of each segment as the driver posts them. A spin handoff costs far
  // less than waking a worker per segment (on the 2-core VM a sleeping oneTBB worker often
  // arrived after the segment was over). The driver claims lanes the same way, so it runs every
  // lane itself when no worker has arrived: slower, never stuck.
  //
  // `claim` packs epoch (bits 40..63), lane count (20..39) and the next unclaimed lane (0..19).
  // The driver stores a new epoch with release after writing the segment (crew_run and
  // everything it reads); a claimer's successful CAS (acq_rel) continues that release sequence,
  // so it sees the segment. Claims of a stale epoch fail the CAS. `done` counts finished lanes:
  // fetch_add(release) after a lane, load(acquire) by the driver before it merges.
  alignas(64) std::atomic<std::uint64_t> claim{0};  // own lines: spun on by the crew
  alignas(64) std::atomic<std::size_t> done{0};
  alignas(64) std::atomic<bool> crew_stop{false};
  std::uint64_t epoch = 0;
  std::function<void(std::size_t)> crew_run;

  static constexpr std::uint64_t kLaneMask = (std::uint64_t{1} << 20) - 1;

  // Claims and runs lanes of the current epoch until none is left; true if it ran any.
  bool claim_lanes() {
    bool ran = false;
    std::uint64_t c = claim.load(std::memory_order_acquire);
    while ((c & kLaneMask) < ((c >> 20) & kLaneMask)) {
      if (claim.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        crew_run(static_cast<std::size_t>(c & kLaneMask));
        done.fetch_add(1, std::memory_order_release);
        ran = true;
        c = claim.load(std::memory_order_acquire);
      }
    }
    return ran;
  }
  void crew_loop() {
    unsigned idle = 0;
    while (!crew_stop.load(std::memory_order_acquire)) {
      if (claim_lanes()) {
        idle = 0;
      } else if (++idle < (1u << 16)) {
        spin_pause();
      } else {
        std::this_thread::yield();
      }
    }
    tsan_release();  // the wait edge: pairs with the acquire after crew.wait()
  }
  static void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  State(Config c, KernelOptions o) : config(std::move(c)), options(o) {
    const std::size_t nq = config.queues.size();
    queue_info.resize(nq);
    channel_queues.resize(config.channels.size());
    blocking_profiles.assign(config.profiles.size(), 0);
    for (std::size_t p = 0; p < config.profiles.size(); ++p) {
      blocking_profiles[p] = config.profiles[p].blocks_others ? 1 : 0;
    }
    std::vector<QueueId> by_name(nq);
    std::iota(by_name.begin(), by_name.end(), QueueId{0});
    std::sort(by_name.begin(), by_name.end(), [&](QueueId a, QueueId b) {
      return std::tie(config.queues[a].name, a) < std::tie(config.queues[b].name, b);
    });
    for (std::size_t r = 0; r < nq; ++r) queue_info[by_name[r]].name_rank = static_cast<std::uint32_t>(r);
    for (QueueId q = 0; q < nq; ++q) {
      const QueueConfig& queue = config.queues[q];
      const ChannelConfig& channel = config.channels[queue.channel];
      QueueInfo& info = queue_info[q];
      const auto& allowed = queue.allowed_presences.empty() ? channel.allowed_presences
                                                            : queue.allowed_presences;
      for (PresenceId p : allowed) info.presence_mask |= std::uint64_t{1} << p;
      info.need = reservation_for(channel, std::nullopt);
      info.min_need = channel.capacity_model == CapacityModel::units
                          ? std::min<std::int64_t>(1, std::max(0, channel.units_per_item))
                          : 1;
      info.order_by_last_message = channel.order_by_last_message;
      info.offer_timeout_ms = channel.offer_timeout_ms;
      switch (queue.method) {
        case AssignmentMethod::highest_capacity: info.rank = RankIndex::highest_capacity; break;
        case AssignmentMethod::round_robin: info.rank = RankIndex::round_robin; break;
        case AssignmentMethod::least_active: info.rank = RankIndex::least_active; break;
        case AssignmentMethod::custom: info.rank = RankIndex::by_id; break;
      }
      // A try's outcome depends on the clock only through shifts: a queue that requires working
      // agents, or a ruleset that asks whether the agent is working, cannot use the memo.
      info.memo_allowed = !queue.requires_working;
      for (const AssignmentRule& rule : queue.assignment) {
        for (const ConditionNode& node : rule.when.nodes) {
          if (node.kind == NodeKind::is_working) info.memo_allowed = false;
        }
      }
      info.method_keys = method_keys(queue.method, channel.capacity_model);
      for (const AssignmentRule& rule : queue.assignment) {
        info.item_gates.push_back(item_gates_of(rule.when));
        info.agent_parts.push_back(agent_parts_of(rule.when));
      }
      channel_queues[queue.channel].push_back(q);
    }
    shards.reserve(nq);
    for (std::size_t q = 0; q < nq; ++q) shards.emplace_back(&cold);
    next_periodic.assign(config.channels.size(), kNever);
    for (const ChannelConfig& channel : config.channels) {
      for (Timestamp d : {channel.offer_timeout_ms, channel.wrap_up_ms}) {
        if (d > 0) shortest_timer = std::min(shortest_timer, d);
      }
    }
    for (const AgentSeed& seed : config.agents) {
      const AgentIndex a = new_agent(seed.id, 0);
      hot.presence[a] = seed.presence;
      set_skills(a, seed.skills);
      set_capacity(a, seed.capacity);
      cold[a].attributes = seed.attributes;
      set_working(a, seed.working, seed.shifts);
      for (QueueId q : seed.queues) join(a, q, 0);
    }
    // The seeds now live in the agent table; keeping a second copy would double what a million
    // agents cost.
    config.agents.clear();
    config.agents.shrink_to_fit();
  }

  // ---- the agent table ---------------------------------------------------------------------

  AgentIndex new_agent(const ExternalId& id, Timestamp now) {
    auto [stored, inserted] = agent_index.try_emplace(id, static_cast<AgentIndex>(cold.size()));
    const AgentIndex a = *stored;
    if (inserted) {
      hot.grow(cold.size() + 1);
      cold.emplace_back();
    }
    cold[a] = AgentCold{};
    cold[a].id = id;
    hot.skills[a] = SkillSet{};
    hot.used[a].used.store(0, std::memory_order_relaxed);
    hot.max[a] = 0;
    hot.last_release[a] = now;
    hot.presence[a] = config.offline();
    hot.flags[a] = AgentColumns::kExists | AgentColumns::kWorking;
    return a;
  }
  [[nodiscard]] bool exists(AgentIndex a) const noexcept {
    return (hot.flags[a] & AgentColumns::kExists) != 0;
  }
  AgentIndex find_agent(const ExternalId& id) const {
    const AgentIndex* a = agent_index.find(id);
    return a == nullptr || !exists(*a) ? kNoAgent : *a;
  }
  void set_skills(AgentIndex a, const std::vector<SkillLevel>& skills) {
    cold[a].skills = skills;
    SkillSet set;
    for (const SkillLevel& s : skills) set.set(s.skill);
    hot.skills[a] = set;
  }
  void set_capacity(AgentIndex a, const AgentCapacity& capacity) {
    std::uint64_t word = static_cast<std::uint32_t>(capacity.units);
    for (std::size_t p = 0; p < capacity.profile_max.size(); ++p) {
      word |= static_cast<std::uint64_t>(capacity.profile_max[p]) << (capacity_word::kProfileShift +
                                                                       capacity_word::kProfileBits * p);
    }
    hot.max[a] = word;
    cold[a].profile_max = capacity.profile_max;
  }
  void set_working(AgentIndex a, bool working, const std::vector<Shift>& shifts) {
    cold[a].shifts = shifts;
    std::uint8_t& f = hot.flags[a];
    f = static_cast<std::uint8_t>(f & ~(AgentColumns::kWorking | AgentColumns::kHasShifts));
    if (working) f |= AgentColumns::kWorking;
    if (!shifts.empty()) f |= AgentColumns::kHasShifts;
  }
  [[nodiscard]] bool is_working(AgentIndex a, Timestamp now) const {
    if ((hot.flags[a] & AgentColumns::kHasShifts) == 0) return (hot.flags[a] & AgentColumns::kWorking) != 0;
    return std::any_of(cold[a].shifts.begin(), cold[a].shifts.end(),
                       [&](const Shift& s) { return s.start <= now && now < s.end; });
  }
  [[nodiscard]] std::int32_t proficiency(AgentIndex a, SkillId skill) const {
    if (!hot.skills[a].test(skill)) return -1;
    for (const SkillLevel& level : cold[a].skills) {
      if (level.skill == skill) return level.proficiency;
    }
    return -1;
  }
  [[nodiscard]] std::int32_t member_pos(AgentIndex a, QueueId q) const {
    for (const MemberRef& m : cold[a].queues) {
      if (m.queue == q) return static_cast<std::int32_t>(m.pos);
    }
    return -1;
  }

  // ---- capacity (R6) -------------------------------------------------------------------------

  Reservation reservation_for(const ChannelConfig& channel, std::optional<std::int32_t> units) const {
    Reservation r;
    std::uint64_t blockers = 0;
    for (std::size_t p = 0; p < blocking_profiles.size(); ++p) {
      if (blocking_profiles[p]) blockers |= capacity_word::profile_mask(p);
    }
    if (channel.capacity_model == CapacityModel::units) {
      r.units = true;
      r.delta = static_cast<std::uint64_t>(units.value_or(channel.units_per_item));
      r.blocked_mask = blockers;
    } else {
      r.units = false;
      r.profile = channel.profile;
      r.delta = capacity_word::profile_one(channel.profile);
      r.blocked_mask = blockers & ~capacity_word::profile_mask(channel.profile);
    }
    return r;
  }
  Reservation need_of(const Item& item) const {
    const ChannelConfig& channel = config.channels[config.queues[item.queue].channel];
    if (channel.capacity_model == CapacityModel::units && item.units) {
      return reservation_for(channel, item.units);
    }
    return queue_info[item.queue].need;
  }
  [[nodiscard]] std::int64_t available_for(AgentIndex a, const Reservation& r) const {
    return AgentColumns::free_in(hot.used_word(a), hot.max[a], r);
  }
  [[nodiscard]] bool fits(AgentIndex a, const Reservation& r, bool respect_blocking) const {
    const std::uint64_t used = hot.used_word(a);
    if (AgentColumns::free_in(used, hot.max[a], r) < (r.units ? static_cast<std::int64_t>(r.delta) : 1)) {
      return false;
    }
    return !respect_blocking || (used & r.blocked_mask) == 0;
  }

  // ---- shard indexes ------------------------------------------------------------------------

  // Can the member take some item of the queue at all (a necessary condition of R6/R7
  // eligibility)? Then it is in `ready` under its rank key.
  [[nodiscard]] bool ready_for(AgentIndex a, QueueId q) const {
    const QueueInfo& info = queue_info[q];
    if (((info.presence_mask >> hot.presence[a]) & 1u) == 0) return false;
    const std::uint64_t used = hot.used_word(a);
    if ((used & info.need.blocked_mask) != 0) return false;
    return AgentColumns::free_in(used, hot.max[a], info.need) >= info.min_need;
  }
  [[nodiscard]] RankKey rank_key(AgentIndex a, QueueId q, std::uint32_t pos) const {
    const QueueInfo& info = queue_info[q];
    const Shard& shard = shards[q];
    RankKey key;
    key.agent = a;
    key.pos = pos;
    key.named = !cold[a].id.is_number();
    key.id = key.named ? 0 : cold[a].id.number();
    switch (info.rank) {
      case RankIndex::highest_capacity:
        key.a = -available_for(a, info.need);
        key.b = shard.rr_time(pos);
        break;
      case RankIndex::round_robin: key.a = shard.rr_time(pos); break;
      case RankIndex::least_active:
        key.a = hot.last_release[a];
        key.b = shard.rr_time(pos);
        break;
      case RankIndex::by_id: break;
    }
    return key;
  }
  void note_change(Shard& shard, AgentIndex a) {
    ++shard.stamp;  // shard-local: lanes never share a counter (no cache line ping-pong)
    shard.log.push_back(Change{shard.stamp, a});
    if (shard.log.size() > 2 * kLogKeep) {
      const std::size_t drop = shard.log.size() - kLogKeep;
      shard.log_floor = shard.log[drop - 1].stamp;
      shard.log.erase(shard.log.begin(), shard.log.begin() + static_cast<std::ptrdiff_t>(drop));
    }
  }
  // Re-files member `pos` of queue q after anything about the agent changed.
  void refresh_member(QueueId q, std::uint32_t pos) {
    Shard& shard = shards[q];
    const AgentIndex a = shard.members[pos];
    const bool ready = ready_for(a, q);
    const RankKey key = ready ? rank_key(a, q, pos) : RankKey{};
    if (shard.indexed[pos] && ready) {
      if (!(key == shard.key[pos])) {  // re-file the node in place: no allocation
        // The old neighbour is the hint: when the key still falls between the same neighbours
        // the insert costs no descent at all; otherwise the set checks it and descends.
        const auto hint = std::next(shard.where[pos]);
        auto node = shard.ready.extract(shard.where[pos]);
        node.value() = key;
        shard.where[pos] = shard.ready.insert(hint, std::move(node));
        shard.key[pos] = key;
      }
    } else if (shard.indexed[pos]) {
      erase_keeping_at(shard.ready, shard.spare_ready, shard.where[pos]);
      shard.indexed[pos] = 0;
    } else if (ready) {
      shard.where[pos] = insert_reusing(shard.ready, shard.spare_ready, key);
      shard.key[pos] = key;
      shard.indexed[pos] = 1;
    }
    note_change(shard, a);
  }
  void refresh_agent(AgentIndex a) {
    for (const MemberRef& m : cold[a].queues) refresh_member(m.queue, m.pos);
  }
  void join(AgentIndex a, QueueId q, Timestamp now) {
    components_stale = true;
    Shard& shard = shards[q];
    const auto pos = static_cast<std::uint32_t>(shard.members.size());
    shard.members.push_back(a);
    shard.joined.push_back(now);
    shard.last_assignment.push_back(kNever);
    shard.key.push_back(RankKey{});
    shard.indexed.push_back(0);
    shard.where.emplace_back();
    shard.pos_of[a] = pos;
    auto& refs = cold[a].queues;
    refs.insert(std::upper_bound(refs.begin(), refs.end(), q,
                                 [](QueueId x, const MemberRef& m) { return x < m.queue; }),
                MemberRef{q, pos});
    refresh_member(q, pos);
  }
  void leave(AgentIndex a, QueueId q) {
    Shard& shard = shards[q];
    auto& refs = cold[a].queues;
    const auto ref = std::find_if(refs.begin(), refs.end(), [&](const MemberRef& m) { return m.queue == q; });
    const std::uint32_t pos = ref->pos;
    refs.erase(ref);
    if (shard.indexed[pos]) shard.ready.erase(shard.where[pos]);
    const std::uint32_t last = static_cast<std::uint32_t>(shard.members.size() - 1);
    if (pos != last) {  // the last member moves into the hole
      const AgentIndex moved = shard.members[last];
      shard.members[pos] = moved;
      shard.joined[pos] = shard.joined[last];
      shard.last_assignment[pos] = shard.last_assignment[last];
      shard.key[pos] = shard.key[last];
      shard.indexed[pos] = shard.indexed[last];
      shard.where[pos] = shard.where[last];
      shard.pos_of[moved] = pos;
      if (shard.indexed[pos]) {  // the entry names its position: re-file it under the new one
        const auto hint = std::next(shard.where[pos]);  // `pos` is not part of the order
        auto node = shard.ready.extract(shard.where[pos]);
        node.value().pos = pos;
        shard.where[pos] = shard.ready.insert(hint, std::move(node));
      }
      shard.key[pos].pos = pos;
      for (MemberRef& m : cold[moved].queues) {
        if (m.queue == q) m.pos = pos;
      }
    }
    shard.pos_of.erase(a);
    shard.members.pop_back();
    shard.joined.pop_back();
    shard.last_assignment.pop_back();
    shard.key.pop_back();
    shard.indexed.pop_back();
    shard.where.pop_back();
    note_change(shard, a);
  }

  // ---- items ---------------------------------------------------------------------------------

  Item* find_item(Lane& l, const ExternalId& id) {
    if (l.overlay) {
      if (const ItemSlot* own = l.index_delta.find(id)) return *own == kNoSlot ? nullptr : &items[*own];
    }
    const ItemSlot* slot = item_index.find(id);
    return slot == nullptr ? nullptr : &items[*slot];
  }
  ItemSlot slot_of(const Item& item) const { return static_cast<ItemSlot>(&item - items.data()); }
  void enqueue(Item& item) {
    item.order_time = queue_info[item.queue].order_by_last_message ? item.last_message : item.created;
    Shard& shard = shards[item.queue];
    insert_reusing(item.affinity ? shard.affinity : shard.plain, shard.spare_queued,
                   QueuedKey{item.order_time, item.seq, slot_of(item)});
  }
  void dequeue(Item& item) {
    Shard& shard = shards[item.queue];
    erase_keeping(item.affinity ? shard.affinity : shard.plain, shard.spare_queued,
                  QueuedKey{item.order_time, item.seq, slot_of(item)});
  }
  std::int32_t declines_of(const Item& item, AgentIndex a) const {
    for (const auto& [agent, count] : item.declines) {
      if (agent == a) return count;
    }
    return 0;
  }

  // ---- the condition language's view ---------------------------------------------------------

  class Context final : public ConditionContext {
   public:
    Context(const State& s, AgentIndex agent, const Item& item, Timestamp now,
            ItemLookups* lookups = nullptr)
        : s_(s), agent_(agent), item_(item), now_(now), lookups_(lookups) {}
    const AttrValue* item_attribute(std::string_view key) const override {
      if (lookups_ == nullptr) return find_attribute(item_.attributes, key);
      for (std::size_t e = 0; e < lookups_->count; ++e) {
        const ItemLookups::Entry& entry = lookups_->entries[e];
        if (entry.key == key.data() && entry.size == key.size()) return entry.value;
      }
      const AttrValue* value = find_attribute(item_.attributes, key);
      if (lookups_->count < lookups_->entries.size()) {
        lookups_->entries[lookups_->count++] = ItemLookups::Entry{key.data(), key.size(), value};
      }
      return value;
    }
    const AttrValue* agent_attribute(std::string_view key) const override {
      return agent_ != kNoAgent ? find_attribute(s_.cold[agent_].attributes, key) : nullptr;
    }
    PresenceId agent_presence() const override { return agent_ != kNoAgent ? s_.hot.presence[agent_] : 0; }
    bool agent_has_skill(SkillId skill, std::int64_t min) const override {
      if (agent_ == kNoAgent) return false;
      const std::int32_t p = s_.proficiency(agent_, skill);
      return p >= 0 && p >= min;
    }
    bool agent_matches_item_skills() const override {
      return agent_ != kNoAgent && s_.exact_match(agent_, item_);
    }
    bool agent_has_capacity() const override {
      return agent_ != kNoAgent && s_.fits(agent_, s_.need_of(item_), true);
    }
    bool agent_is_working() const override { return agent_ != kNoAgent && s_.is_working(agent_, now_); }
    std::optional<SkillId> skill_by_name(std::string_view name) const override {
      return s_.config.find_skill(name);
    }

   private:
    const State& s_;
    AgentIndex agent_;
    const Item& item_;
    Timestamp now_;
    ItemLookups* lookups_;  // nullptr: look every item attribute up
  };

  // ---- R9, R10, R13, R14: choosing the agent -------------------------------------------------

  [[nodiscard]] bool exact_match(AgentIndex a, const Item& item) const {
    if (!hot.skills[a].contains_all(item.required)) return false;
    if (!item.any_minimum) return true;
    for (const SkillRequirement& r : item.skills) {
      if (r.min_proficiency >= 0 && proficiency(a, r.skill) < r.min_proficiency) return false;
    }
    return true;
  }
  [[nodiscard]] Closeness closeness(AgentIndex a, const Item& item) const {
    return switchboard::closeness(item.skills, [&](SkillId skill) { return proficiency(a, skill); });
  }
  [[nodiscard]] bool eligible(AgentIndex a, const Item& item, const Reservation& need,
                              Timestamp now) const {
    const QueueConfig& queue = config.queues[item.queue];
    if (((queue_info[item.queue].presence_mask >> hot.presence[a]) & 1u) == 0) return false;  // R7
    if (!fits(a, need, true)) return false;                                                   // R6
    if (queue.skill_matching == SkillMatching::exact && !exact_match(a, item)) return false;  // R10
    if (queue.requires_working && !is_working(a, now)) return false;
    return declines_of(item, a) < config.decline_limit;                                       // R14
  }

  int compare_key(const AgentOrderKey& key, AgentIndex a, AgentIndex b, const Item& item,
                  const Reservation& need, std::uint32_t pa, std::uint32_t pb) const {
    const Shard& shard = shards[item.queue];
    int c = 0;
    switch (key.kind) {
      case AgentOrderKind::least_active: c = three_way(hot.last_release[a], hot.last_release[b]); break;
      case AgentOrderKind::round_robin: c = three_way(shard.rr_time(pa), shard.rr_time(pb)); break;
      case AgentOrderKind::available_units: {
        const auto units_free = [&](AgentIndex x) {
          return static_cast<std::int64_t>(capacity_word::units(hot.max[x])) -
                 static_cast<std::int64_t>(capacity_word::units(hot.used_word(x)));
        };
        c = three_way(units_free(b), units_free(a));
        break;
      }
      case AgentOrderKind::available_profile: c = three_way(available_for(b, need), available_for(a, need)); break;
      case AgentOrderKind::proficiency: {
        auto sum = [&](AgentIndex x) {
          std::int64_t total = 0;
          for (const SkillRequirement& r : item.skills) total += std::max(0, proficiency(x, r.skill));
          return total;
        };
        c = three_way(sum(b), sum(a));
        break;
      }
      case AgentOrderKind::skill_count: c = three_way(cold[a].skills.size(), cold[b].skills.size()); break;
      case AgentOrderKind::attribute: {
        const AttrValue* va = find_attribute(cold[a].attributes, key.attribute);
        const AttrValue* vb = find_attribute(cold[b].attributes, key.attribute);
        return compare_ordered(va, vb, key.descending);  // the direction is applied there
      }
    }
    return key.descending ? -c : c;
  }

  // The full order of R9 (the reference's ranks_before), for rulesets and changed-agent checks.
  [[nodiscard]] bool ranks_before(AgentIndex a, std::uint32_t pa, AgentIndex b, std::uint32_t pb,
                                  const Item& item, const Reservation& need,
                                  const std::vector<AgentOrderKey>& keys) const {
    const bool da = declines_of(item, a) > 0, db = declines_of(item, b) > 0;
    if (da != db) return !da;
    if (config.queues[item.queue].skill_matching == SkillMatching::closest) {
      const Closeness ca = closeness(a, item), cb = closeness(b, item);
      if (ca != cb) return ca < cb;
    }
    for (const AgentOrderKey& key : keys) {
      if (const int c = compare_key(key, a, b, item, need, pa, pb); c != 0) return c < 0;
    }
    const Shard& shard = shards[item.queue];
    const Timestamp ra = shard.rr_time(pa), rb = shard.rr_time(pb);
    if (ra != rb) return ra < rb;
    return cold[a].id < cold[b].id;
  }

  // Best eligible agent of an indexed queue, walking `ready` in rank order. Returns kNoAgent when
  // nobody is eligible.
  AgentIndex best_indexed(const Item& item, const Reservation& need, Timestamp now) const {
    const Shard& shard = shards[item.queue];
    const bool closest = config.queues[item.queue].skill_matching == SkillMatching::closest;
    AgentIndex best = kNoAgent;
    std::tuple<int, Closeness> best_key{2, Closeness{}};
    for (const RankKey& k : shard.ready) {
      const AgentIndex a = k.agent;
      if (!eligible(a, item, need, now)) continue;
      const int declined = declines_of(item, a) > 0 ? 1 : 0;
      if (!closest) {
        if (declined == 0) return a;  // the first non-decliner in rank order is the best
        if (best == kNoAgent) best = a;
        continue;
      }
      const std::tuple<int, Closeness> key{declined, closeness(a, item)};
      if (key < best_key) {
        best_key = key;
        best = a;
        if (key == std::tuple<int, Closeness>{0, Closeness{0, 0, 0, 0}}) return a;
      }
    }
    return best;
  }

  void try_assign(Lane& l, ItemSlot slot, Timestamp now) {
    Item& item = items[slot];
    const QueueId q = item.queue;
    const QueueConfig& queue = config.queues[q];
    const QueueInfo& info = queue_info[q];
    Shard& shard = shards[q];
    const Reservation need = need_of(item);

    // The try memo: nobody could take the item at stamp s, and members that have not changed
    // since still cannot (in a memo_allowed queue eligibility and rule matches depend only on
    // the members' state and the item's attributes; declines only grow).
    const bool memo = info.memo_allowed && item.failed_stamp != 0 && item.failed_queue == q;
    if (memo && item.failed_stamp == shard.stamp) return;
    if (shard.ready.empty()) return remember_failure(item, shard);

    // R13: the affinity agent, when eligible and it has not declined this item.
    if (item.affinity) {
      if (item.affinity_index == kNoAgent) {
        if (const AgentIndex* a = agent_index.find(*item.affinity)) item.affinity_index = *a;
      }
      const AgentIndex a = item.affinity_index;
      if (a != kNoAgent && shard.pos_of.count(a) != 0 && eligible(a, item, need, now) &&
          declines_of(item, a) == 0) {
        return offer(l, item, a, need, now, DecidedBy::affinity, 0);
      }
    }

    // Who can be eligible: after a failure, only the agents changed since; else the ready index.
    std::vector<AgentIndex>& candidates = l.candidates;
    std::vector<std::uint32_t>& positions = l.positions;
    candidates.clear();
    positions.clear();
    const bool partial = memo && item.failed_stamp >= shard.log_floor;
    if (partial) {
      for (auto it = shard.log.rbegin(); it != shard.log.rend() && it->stamp > item.failed_stamp; ++it) {
        const AgentIndex a = it->agent;
        if (std::find(candidates.begin(), candidates.end(), a) != candidates.end()) continue;
        const auto member = shard.pos_of.find(a);
        if (member == shard.pos_of.end() || !eligible(a, item, need, now)) continue;
        candidates.push_back(a);
        positions.push_back(member->second);
      }
    } else if (queue.method != AssignmentMethod::custom) {
      const AgentIndex chosen = best_indexed(item, need, now);
      if (chosen == kNoAgent) return remember_failure(item, shard);
      return offer(l, item, chosen, need, now, DecidedBy::method, 0);
    } else {
      // A ruleset picks the least candidate under ranks_before, a strict total order (it ends on
      // the agent id, which is unique), so the order in which candidates are collected cannot
      // change the choice. Scanning the shard's member arrays, which are contiguous, costs far
      // less than walking the tree of `ready` (a cache miss per node, hundreds of members); the
      // `indexed` flag says exactly which members are in `ready`.
      for (std::uint32_t pos = 0; pos < shard.members.size(); ++pos) {
        const AgentIndex a = shard.members[pos];
        if (shard.indexed[pos] != 0 && eligible(a, item, need, now)) {
          candidates.push_back(a);
          positions.push_back(pos);
        }
      }
    }
    if (candidates.empty()) return remember_failure(item, shard);

    if (queue.method != AssignmentMethod::custom) {
      std::size_t chosen = 0;
      for (std::size_t c = 1; c < candidates.size(); ++c) {
        if (ranks_before(candidates[c], positions[c], candidates[chosen], positions[chosen], item, need,
                         info.method_keys)) {
          chosen = c;
        }
      }
      return offer(l, item, candidates[chosen], need, now, DecidedBy::method, 0);
    }
    // R9 assignment ruleset: the first rule that matches at least one agent decides.
    ItemLookups lookups;
    for (std::size_t r = 0; r < queue.assignment.size(); ++r) {
      const AssignmentRule& assignment = queue.assignment[r];
      if (!assignment.when.refers_to_agent &&
          !evaluate(assignment.when, Context(*this, kNoAgent, item, now))) {
        continue;  // the condition looks only at the item: it fails for every agent
      }
      const auto& gates = info.item_gates[r];
      if (std::any_of(gates.begin(), gates.end(), [&](const Condition& gate) {
            return !evaluate(gate, Context(*this, kNoAgent, item, now));
          })) {
        continue;
      }
      const auto& parts = info.agent_parts[r];
      std::size_t best = candidates.size();
      for (std::size_t c = 0; c < candidates.size(); ++c) {
        const AgentIndex a = candidates[c];
        const Context context(*this, a, item, now, &lookups);
        if (!std::all_of(parts.begin(), parts.end(), [&](const Condition& part) { return evaluate(part, context); })) {
          continue;
        }
        if (best == candidates.size() ||
            ranks_before(a, positions[c], candidates[best], positions[best], item, need, assignment.order_by)) {
          best = c;
        }
      }
      if (best == candidates.size()) continue;
      return offer(l, item, candidates[best], need, now, DecidedBy::rule, static_cast<std::uint16_t>(r));
    }
    remember_failure(item, shard);
  }
  void remember_failure(Item& item, const Shard& shard) {
    item.failed_stamp = shard.stamp;
    item.failed_queue = item.queue;
  }

  Decision& emit(Lane& l, DecisionKind kind, Timestamp t, const Item& item) {
    Decision& d = l.out->emplace_back();
    d.kind = kind;
    d.time = t;
    d.item = item.id;
    d.queue = item.queue;
    return d;
  }

  // R5 queued -> offered; R6 capacity reserved at the offer (compare-and-swap).
  void offer(Lane& l, Item& item, AgentIndex a, const Reservation& need, Timestamp now, DecidedBy by,
             std::uint16_t rule) {
    const bool reserved = hot.try_reserve(a, need, true);
    assert(reserved && "an eligible agent's word cannot move: its component is ours");
    (void)reserved;
    cold[a].holds.push_back(Hold{item.id, config.queues[item.queue].channel, need, kNever});
    const std::int32_t pos = member_pos(a, item.queue);
    shards[item.queue].last_assignment[static_cast<std::size_t>(pos)] = now;
    dequeue(item);
    item.state = ItemState::offered;
    item.agent = a;
    item.offered_at = now;
    ++item.offer_serial;  // per slot, kept across the slot's reuse: stale timers never match
    item.failed_stamp = 0;
    const Timestamp timeout = queue_info[item.queue].offer_timeout_ms;
    if (timeout > 0) push_timer(l, Timer{now + timeout, 1, item.id, a, slot_of(item), item.offer_serial});
    refresh_agent(a);
    Decision& d = emit(l, DecisionKind::offer, now, item);
    d.agent = cold[a].id;
    d.decided_by = by;
    d.rule = rule;
  }

  // ---- R11, R12: one cycle over the triggered queues -----------------------------------------

  // The items one cycle tries in a queue, in R8 order, after the limits of R11.
  void cycle_block(Lane& l, QueueId q, Timestamp now, std::vector<ItemSlot>& block) {
    block.clear();
    const QueueConfig& queue = config.queues[q];
    const Shard& shard = shards[q];
    const std::size_t limit = queue.prioritization_limit;
    const std::size_t total = shard.plain.size() + shard.affinity.size();
    const std::size_t take = limit > 0 ? std::min<std::size_t>(limit, total) : total;
    const std::size_t cap = queue.strict_blocks ? queue.block_size : take;
    std::vector<ItemSlot>& affinity_first = l.affinity_first;
    std::vector<ItemSlot>& rest = l.rest;
    affinity_first.clear();
    rest.clear();
    if (take == total) {
      for (const QueuedKey& k : shard.affinity) affinity_first.push_back(k.slot);
      if (queue.is_fifo()) {
        for (auto it = shard.plain.begin();
             it != shard.plain.end() && affinity_first.size() + rest.size() < cap; ++it) {
          rest.push_back(it->slot);
        }
      } else {
        for (const QueuedKey& k : shard.plain) rest.push_back(k.slot);
      }
    } else {  // the first `limit` in FIFO order, affinity items among them first
      auto a = shard.affinity.begin();
      auto p = shard.plain.begin();
      for (std::size_t n = 0; n < take; ++n) {
        if (p == shard.plain.end() || (a != shard.affinity.end() && *a < *p)) {
          affinity_first.push_back((a++)->slot);
        } else {
          rest.push_back((p++)->slot);
        }
      }
    }
    if (!queue.is_fifo()) prioritize(q, now, rest);
    for (ItemSlot s : affinity_first) {
      if (block.size() >= cap) return;
      block.push_back(s);
    }
    for (ItemSlot s : rest) {
      if (block.size() >= cap) return;
      block.push_back(s);
    }
  }

  // R8 (ranking.hpp), evaluated on the kernel's items.
  void prioritize(QueueId q, Timestamp now, std::vector<ItemSlot>& rest) const {
    const QueueConfig& queue = config.queues[q];
    switchboard::prioritize(
        queue, rest,
        [&](const Condition& when, ItemSlot s) { return evaluate(when, Context(*this, kNoAgent, items[s], now)); },
        [&](ItemSlot s) -> const Attributes& { return items[s].attributes; });
  }

  void run_cycle(Lane& l, std::vector<QueueId>& triggered, Timestamp now) {
    // Queues with nothing queued cannot offer anything: drop them before any ordering work.
    triggered.erase(std::remove_if(triggered.begin(), triggered.end(),
                                   [&](QueueId q) { return !shards[q].has_queued(); }),
                    triggered.end());
    if (triggered.empty()) return;
    std::sort(triggered.begin(), triggered.end(), [&](QueueId a, QueueId b) {
      const QueueConfig& qa = config.queues[a];
      const QueueConfig& qb = config.queues[b];
      return std::make_tuple(qa.group, !qa.is_fifo(), queue_info[a].name_rank) <
             std::make_tuple(qb.group, !qb.is_fifo(), queue_info[b].name_rank);
    });
    triggered.erase(std::unique(triggered.begin(), triggered.end()), triggered.end());
    std::vector<std::vector<ItemSlot>>& blocks = l.blocks;
    std::vector<ItemSlot>& block = l.block;
    for (std::size_t i = 0; i < triggered.size();) {
      const std::int32_t group = config.queues[triggered[i]].group;
      std::size_t end = i;
      while (end < triggered.size() && config.queues[triggered[end]].group == group) ++end;
      // R12: FIFO queues first, merged oldest item first across them...
      std::size_t first_ruleset = i;
      while (first_ruleset < end && config.queues[triggered[first_ruleset]].is_fifo()) ++first_ruleset;
      blocks.resize(first_ruleset - i);
      for (std::size_t k = i; k < first_ruleset; ++k) cycle_block(l, triggered[k], now, blocks[k - i]);
      std::vector<std::size_t>& heads = l.heads;
      heads.assign(blocks.size(), 0);
      for (;;) {
        std::size_t pick = blocks.size();
        for (std::size_t b = 0; b < blocks.size(); ++b) {
          if (heads[b] == blocks[b].size()) continue;
          if (pick == blocks.size()) {
            pick = b;
            continue;
          }
          const Item& head = items[blocks[b][heads[b]]];
          const Item& current = items[blocks[pick][heads[pick]]];
          if (std::tie(head.order_time, head.seq) < std::tie(current.order_time, current.seq)) pick = b;
        }
        if (pick == blocks.size()) break;
        try_assign(l, blocks[pick][heads[pick]++], now);
      }
      // ...then queues with rulesets in alphabetical order of their names.
      for (std::size_t k = first_ruleset; k < end; ++k) {
        cycle_block(l, triggered[k], now, block);
        for (ItemSlot s : block) try_assign(l, s, now);
      }
      i = end;
    }
  }

  void trigger_agent_queues(AgentIndex a, std::vector<QueueId>& triggered) const {
    for (const MemberRef& m : cold[a].queues) triggered.push_back(m.queue);
  }

  // ---- shared transitions --------------------------------------------------------------------

  // Removes the open (non-wrap-up) hold of `item` and gives its capacity back.
  void drop_hold(AgentIndex a, const ExternalId& item) {
    auto& holds = cold[a].holds;
    const auto it = std::find_if(holds.begin(), holds.end(),
                                 [&](const Hold& h) { return h.item == item && !h.in_wrap_up(); });
    if (it == holds.end()) return;
    hot.release(a, it->reservation.delta);
    holds.erase(it);
    refresh_agent(a);
  }

  void decline(Lane& l, Item& item, AgentIndex a, RequeueReason reason, Timestamp now,
               std::vector<QueueId>& triggered) {
    drop_hold(a, item.id);
    bool found = false;
    for (auto& [agent, count] : item.declines) {
      if (agent == a) {
        ++count;
        found = true;
      }
    }
    if (!found) item.declines.emplace_back(a, 1);
    item.state = ItemState::queued;
    item.agent = kNoAgent;
    Decision& d = emit(l, DecisionKind::requeued, now, item);
    d.agent = cold[a].id;
    d.reason = reason;
    if (static_cast<std::int32_t>(item.declines.size()) >= config.park_after_decliners) {
      item.state = ItemState::parked;
      emit(l, DecisionKind::parked, now, item);
    } else {
      enqueue(item);
    }
    triggered.push_back(item.queue);
    trigger_agent_queues(a, triggered);
  }

  void erase_item(Lane& l, Item& item) {
    if (item.state == ItemState::queued) dequeue(item);
    item.live = false;
    item.attributes.clear();
    item.declines.clear();
    if (l.overlay) {
      l.index_delta.insert_or_assign(item.id, kNoSlot);
      l.freed.push_back(slot_of(item));
      --l.live_delta;
      return;
    }
    item_index.erase(item.id);
    free_slots.push_back(slot_of(item));
    --live_items;
  }

  // ---- timers and the clock ------------------------------------------------------------------

  void push_timer(Lane& l, Timer timer) {
    if (l.overlay) {
      l.timers.push_back(std::move(timer));
    } else {
      timers.push(std::move(timer));
    }
  }

  // Drops timers that no longer apply (the offer was answered, the agent removed).
  bool timer_valid(const Timer& t) const {
    if (t.kind == 1) {
      const Item& item = items[t.slot];
      return item.live && item.state == ItemState::offered && item.offer_serial == t.serial;
    }
    if (!exists(t.agent)) return false;
    return std::any_of(cold[t.agent].holds.begin(), cold[t.agent].holds.end(), [&](const Hold& h) {
      return h.item == t.item && h.release_at == t.due;
    });
  }

  // The next timer due at or before `until` in the reference's order (due, kind, item, channel).
  bool next_timer(Timestamp until, Timer& next) {
    while (!timers.empty() && !timer_valid(timers.top())) timers.pop();
    bool found = false;
    if (!timers.empty() && timers.top().due <= until) {
      next = timers.top();
      found = true;
    }
    for (ChannelId c = 0; c < next_periodic.size(); ++c) {
      const Timestamp due = next_periodic[c];
      if (due == kNever || due > until) continue;
      // Periodic (kind 2) sorts after timers of kind 0 and 1 due at the same time.
      if (!found || due < next.due) {
        next = Timer{due, 2, {}, kNoAgent, c, 0};
        found = true;
      } else if (next.kind == 2 && due == next.due && c < next.slot) {
        next.slot = c;
      }
    }
    return found;
  }

  void fire(Lane& l, const Timer& timer, Timestamp until) {
    std::vector<QueueId>& triggered = l.triggered;
    triggered.clear();
    switch (timer.kind) {
      case 0: {  // wrap-up over: capacity released now (R6), least active counts it (R9)
        auto& holds = cold[timer.agent].holds;
        const auto it = std::find_if(holds.begin(), holds.end(), [&](const Hold& h) {
          return h.item == timer.item && h.release_at == timer.due;
        });
        hot.release(timer.agent, it->reservation.delta);
        holds.erase(it);
        hot.last_release[timer.agent] = timer.due;
        refresh_agent(timer.agent);
        trigger_agent_queues(timer.agent, triggered);
        timers.pop();
        break;
      }
      case 1:  // R14: a timeout counts as a decline
        timers.pop();
        decline(l, items[timer.slot], timer.agent, RequeueReason::timed_out, timer.due, triggered);
        break;
      case 2: {  // R11 periodic; periods missed while no event came collapse into one
        const auto channel = static_cast<ChannelId>(timer.slot);
        const Timestamp period = config.channels[channel].periodic_ms;
        next_periodic[channel] = timer.due + period * (1 + (until - timer.due) / period);
        triggered = channel_queues[channel];
        break;
      }
      default: break;
    }
    run_cycle(l, triggered, timer.due);
  }

  Timestamp advance_to(Lane& l, Timestamp t) {
    if (clock == kNever) {
      clock = t;
      for (ChannelId c = 0; c < config.channels.size(); ++c) {
        if (config.channels[c].periodic_ms > 0) next_periodic[c] = t + config.channels[c].periodic_ms;
      }
    }
    t = std::max(t, clock);
    Timer timer;
    while (next_timer(t, timer)) {
      clock = timer.due;
      fire(l, timer, t);
    }
    clock = t;
    return t;
  }

  // ---- validation ------------------------------------------------------------------------------

  // The kernel's own limit beyond check_capacity (event_checks.hpp): a profile count must fit
  // the 8 bits of the capacity word.
  std::optional<Error> check_fits_word(const AgentCapacity& capacity) const {
    for (std::size_t p = 0; p < capacity.profile_max.size(); ++p) {
      if (capacity.profile_max[p] > kKernelMaxProfileCapacity) {
        return error(ErrorCode::invalid_value,
                     "capacity of profile \"" + config.profiles[p].name + "\" is " +
                         std::to_string(capacity.profile_max[p]) + "; the kernel holds at most " +
                         std::to_string(kKernelMaxProfileCapacity) + " items per profile");
      }
    }
    return std::nullopt;
  }
  std::optional<Error> check_not_below_load(AgentIndex a, const AgentCapacity& capacity) const {
    const std::uint64_t used = hot.used_word(a);
    const auto units = static_cast<std::int64_t>(capacity_word::units(used));
    if (capacity.units < units) {
      return error(ErrorCode::capacity_below_load,
                   "agent " + cold[a].id.to_string() + " holds " + std::to_string(units) + " units; capacity " +
                       std::to_string(capacity.units) +
                       " would make its available capacity negative (wait until work completes)");
    }
    for (std::size_t p = 0; p < config.profiles.size(); ++p) {
      const auto held = static_cast<std::int64_t>(capacity_word::profile(used, p));
      const std::int64_t max = p < capacity.profile_max.size() ? capacity.profile_max[p] : 0;
      if (max < held) {
        return error(ErrorCode::capacity_below_load,
                     "agent " + cold[a].id.to_string() + " holds " + std::to_string(held) + " \"" +
                         config.profiles[p].name + "\" items; capacity " + std::to_string(max) +
                         " would make its available capacity negative");
      }
    }
    return std::nullopt;
  }
  static Error unknown_agent(const ExternalId& id) {
    return error(ErrorCode::unknown_agent, "no agent has id " + id.to_string());
  }
  static Error unknown_item(const ExternalId& id) {
    return error(ErrorCode::unknown_item,
                 "no live item has id " + id.to_string() + " (completed and cancelled items are forgotten)");
  }

  // ---- the events ------------------------------------------------------------------------------
  // Each handler validates first and returns an Error before changing anything.

  std::optional<Error> on(const AgentUpsert& e, Timestamp now, Lane& l) {
    if (auto err = check_upsert_fields(config, e)) return err;
    if (e.capacity) {
      if (auto err = check_fits_word(*e.capacity)) return err;
    }
    AgentIndex a = find_agent(e.agent);
    if (a != kNoAgent && e.capacity) {
      if (auto err = check_not_below_load(a, *e.capacity)) return err;
    }
    if (a == kNoAgent) a = new_agent(e.agent, now);
    if (e.presence) hot.presence[a] = *e.presence;
    if (e.skills) set_skills(a, *e.skills);
    if (e.capacity) set_capacity(a, *e.capacity);
    if (e.attributes) cold[a].attributes = *e.attributes;
    if (e.working || e.shifts) {
      set_working(a, e.working.value_or((hot.flags[a] & AgentColumns::kWorking) != 0),
                  e.shifts ? *e.shifts : std::vector<Shift>(cold[a].shifts));
    }
    refresh_agent(a);
    trigger_agent_queues(a, l.triggered);
    return std::nullopt;
  }

  std::optional<Error> on(const AgentRemove& e, Timestamp, Lane&) {
    const AgentIndex a = find_agent(e.agent);
    if (a == kNoAgent) return unknown_agent(e.agent);
    const auto open = std::count_if(cold[a].holds.begin(), cold[a].holds.end(),
                                    [](const Hold& h) { return !h.in_wrap_up(); });
    if (open > 0) {
      return error(ErrorCode::agent_has_work,
                   "agent " + e.agent.to_string() + " still holds " + std::to_string(open) +
                       " offered or assigned items; complete, decline or transfer them first");
    }
    while (!cold[a].queues.empty()) leave(a, cold[a].queues.back().queue);
    cold[a].holds.clear();  // wrap-up holds end with the agent
    hot.used[a].used.store(0, std::memory_order_relaxed);
    hot.flags[a] = 0;
    return std::nullopt;
  }

  std::optional<Error> on(const PresenceChange& e, Timestamp, Lane& l) {
    const AgentIndex a = find_agent(e.agent);
    if (a == kNoAgent) return unknown_agent(e.agent);
    if (auto err = check_presence(config, e.presence)) return err;
    hot.presence[a] = e.presence;  // R7; open offers stand
    refresh_agent(a);
    trigger_agent_queues(a, l.triggered);
    return std::nullopt;
  }

  std::optional<Error> on(const CapacityChange& e, Timestamp, Lane& l) {
    const AgentIndex a = find_agent(e.agent);
    if (a == kNoAgent) return unknown_agent(e.agent);
    if (auto err = check_capacity(config, e.capacity)) return err;
    if (auto err = check_fits_word(e.capacity)) return err;
    if (auto err = check_not_below_load(a, e.capacity)) return err;
    set_capacity(a, e.capacity);
    refresh_agent(a);
    trigger_agent_queues(a, l.triggered);
    return std::nullopt;
  }

  std::optional<Error> on(const JoinQueue& e, Timestamp now, Lane& l) {
    const AgentIndex a = find_agent(e.agent);
    if (a == kNoAgent) return unknown_agent(e.agent);
    if (auto err = check_queue(config, e.queue)) return err;
    if (member_pos(a, e.queue) >= 0) {
      return error(ErrorCode::already_member, "agent " + e.agent.to_string() + " is already a member of queue \"" +
                                                  config.queues[e.queue].name + "\"");
    }
    join(a, e.queue, now);
    l.triggered.push_back(e.queue);
    return std::nullopt;
  }

  std::optional<Error> on(const LeaveQueue& e, Timestamp, Lane&) {
    const AgentIndex a = find_agent(e.agent);
    if (a == kNoAgent) return unknown_agent(e.agent);
    if (auto err = check_queue(config, e.queue)) return err;
    if (member_pos(a, e.queue) < 0) {
      return error(ErrorCode::not_a_member, "agent " + e.agent.to_string() + " is not a member of queue \"" +
                                                config.queues[e.queue].name + "\"");
    }
    leave(a, e.queue);
    return std::nullopt;
  }

  std::optional<Error> on(const ItemArrive& e, Timestamp now, Lane& l) {
    if (auto err = check_queue(config, e.queue)) return err;
    if (find_item(l, e.item)) {
      return error(ErrorCode::duplicate_item, "item " + e.item.to_string() + " is already live; item ids must be unique");
    }
    if (auto err = check_requirements(config, e.skills, e.units)) return err;
    SkillSet seen;
    for (const SkillRequirement& r : e.skills) seen.set(r.skill);
    ItemSlot slot;
    if (l.overlay) {  // the driver reserved a slot and a seq for this arrival
      slot = l.arrival_slot;
      l.arrival_used = true;
    } else if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = static_cast<ItemSlot>(items.size());
      items.emplace_back();
    }
    Item& item = items[slot];
    const std::uint64_t serial = item.offer_serial;
    item = Item{};
    item.offer_serial = serial;
    item.id = e.item;
    item.seq = l.overlay ? l.arrival_seq : next_seq++;
    item.queue = e.queue;
    item.created = e.created.value_or(now);
    item.last_message = e.last_message.value_or(item.created);
    item.attributes = e.attributes;
    item.skills = e.skills;
    item.required = seen;
    item.any_minimum = std::any_of(e.skills.begin(), e.skills.end(),
                                   [](const SkillRequirement& r) { return r.min_proficiency >= 0; });
    item.units = e.units;
    item.affinity = e.affinity_agent;
    item.live = true;
    if (l.overlay) {
      l.index_delta.insert_or_assign(e.item, slot);
      ++l.live_delta;
    } else {
      item_index.try_emplace(e.item, slot);
      ++live_items;
    }
    enqueue(item);
    l.triggered.push_back(e.queue);
    return std::nullopt;
  }

  std::optional<Error> on(const ItemUpdate& e, Timestamp, Lane& l) {
    Item* item = find_item(l, e.item);
    if (!item) return unknown_item(e.item);
    const bool queued = item->state == ItemState::queued;
    if (queued) dequeue(*item);
    merge_attributes(item->attributes, e.attributes);
    if (e.last_message) item->last_message = *e.last_message;
    item->failed_stamp = 0;  // ruleset conditions may read what changed
    if (queued) enqueue(*item);
    return std::nullopt;  // R8: rules are re-evaluated at the next cycle
  }

  std::optional<Error> on(const ItemCancel& e, Timestamp now, Lane& l) {
    Item* item = find_item(l, e.item);
    if (!item) return unknown_item(e.item);
    if (item->state == ItemState::assigned) {
      return error(ErrorCode::item_not_queued, "item " + e.item.to_string() + " is assigned to agent " +
                                                   cold[item->agent].id.to_string() +
                                                   "; complete it instead of cancelling");
    }
    Decision& d = emit(l, DecisionKind::cancelled, now, *item);
    if (item->state == ItemState::offered) {
      const AgentIndex a = item->agent;
      d.agent = cold[a].id;
      drop_hold(a, item->id);
      trigger_agent_queues(a, l.triggered);
    }
    erase_item(l, *item);
    return std::nullopt;
  }

  std::optional<Error> on(const ItemTransfer& e, Timestamp now, Lane& l) {
    Item* item = find_item(l, e.item);
    if (!item) return unknown_item(e.item);
    if (auto err = check_queue(config, e.queue)) return err;
    if (item->state == ItemState::assigned) {
      return error(ErrorCode::item_not_queued, "item " + e.item.to_string() + " is assigned to agent " +
                                                   cold[item->agent].id.to_string() +
                                                   "; only queued, offered or parked items move");
    }
    if (item->queue == e.queue) {
      return error(ErrorCode::same_queue, "item " + e.item.to_string() + " is already in queue \"" +
                                              config.queues[e.queue].name + "\"");
    }
    if (item->state == ItemState::offered) {
      const AgentIndex a = item->agent;
      drop_hold(a, item->id);
      trigger_agent_queues(a, l.triggered);
      item->agent = kNoAgent;
    } else if (item->state == ItemState::queued) {
      dequeue(*item);
    }
    const QueueId from = item->queue;
    item->queue = e.queue;
    item->state = ItemState::queued;  // a parked item gets a new chance in the new queue
    item->failed_stamp = 0;
    enqueue(*item);
    Decision& d = emit(l, DecisionKind::transferred, now, *item);
    d.from_queue = from;
    l.triggered.push_back(e.queue);
    return std::nullopt;
  }

  std::optional<Error> on(const ItemComplete& e, Timestamp now, Lane& l) {
    Item* item = find_item(l, e.item);
    if (!item) return unknown_item(e.item);
    if (item->state != ItemState::assigned) {
      return error(ErrorCode::item_not_assigned, "item " + e.item.to_string() + " is " +
                                                     std::string(to_string(item->state)) +
                                                     ", not assigned; only assigned work can be completed");
    }
    const AgentIndex a = item->agent;
    auto& holds = cold[a].holds;
    const auto hold = std::find_if(holds.begin(), holds.end(),
                                   [&](const Hold& h) { return h.item == item->id && !h.in_wrap_up(); });
    const Timestamp wrap_up = config.channels[hold->channel].wrap_up_ms;
    if (wrap_up > 0) {
      hold->release_at = now + wrap_up;  // R6: held back for wrap-up
      push_timer(l, Timer{hold->release_at, 0, item->id, a, 0, 0});
    } else {
      hot.release(a, hold->reservation.delta);
      holds.erase(hold);
      hot.last_release[a] = now;
      refresh_agent(a);
      trigger_agent_queues(a, l.triggered);
    }
    Decision& d = emit(l, DecisionKind::completed, now, *item);
    d.agent = cold[a].id;
    erase_item(l, *item);
    return std::nullopt;
  }

  std::optional<Error> check_offer(Lane& l, const ExternalId& item_id, const ExternalId& agent_id, Item*& item,
                                   AgentIndex& agent) {
    item = find_item(l, item_id);
    if (!item) return unknown_item(item_id);
    agent = find_agent(agent_id);
    if (agent == kNoAgent) return unknown_agent(agent_id);
    if (item->state != ItemState::offered) {
      return error(ErrorCode::item_not_offered,
                   "item " + item_id.to_string() + " is " + std::string(to_string(item->state)) + ", not offered");
    }
    if (item->agent != agent) {
      return error(ErrorCode::offer_agent_mismatch, "item " + item_id.to_string() + " is offered to agent " +
                                                        cold[item->agent].id.to_string() + ", not to " +
                                                        agent_id.to_string());
    }
    return std::nullopt;
  }

  std::optional<Error> on(const OfferAccept& e, Timestamp now, Lane& l) {
    Item* item = nullptr;
    AgentIndex a = kNoAgent;
    if (auto err = check_offer(l, e.item, e.agent, item, a)) return err;
    item->state = ItemState::assigned;  // R6: the capacity reserved at the offer is kept
    Decision& d = emit(l, DecisionKind::assigned, now, *item);
    d.agent = cold[a].id;
    d.decided_by = DecidedBy::accepted;
    return std::nullopt;
  }
  std::optional<Error> on(const OfferDecline& e, Timestamp now, Lane& l) {
    Item* item = nullptr;
    AgentIndex a = kNoAgent;
    if (auto err = check_offer(l, e.item, e.agent, item, a)) return err;
    decline(l, *item, a, RequeueReason::declined, now, l.triggered);
    return std::nullopt;
  }
  std::optional<Error> on(const OfferTimeout& e, Timestamp now, Lane& l) {
    Item* item = nullptr;
    AgentIndex a = kNoAgent;
    if (auto err = check_offer(l, e.item, e.agent, item, a)) return err;
    decline(l, *item, a, RequeueReason::timed_out, now, l.triggered);
    return std::nullopt;
  }

  // R15: bypasses presence, skills and the decline limit, never I1.
  std::optional<Error> assign_by_hand(Lane& l, const ExternalId& item_id, const ExternalId& agent_id, bool pick,
                                      Timestamp now) {
    Item* item = find_item(l, item_id);
    if (!item) return unknown_item(item_id);
    const AgentIndex a = find_agent(agent_id);
    if (a == kNoAgent) return unknown_agent(agent_id);
    if (item->state != ItemState::queued && item->state != ItemState::parked) {
      return error(ErrorCode::item_not_queued, "item " + item_id.to_string() + " is " +
                                                   std::string(to_string(item->state)) + " (to agent " +
                                                   cold[item->agent].id.to_string() +
                                                   "); only queued or parked items can be assigned by hand");
    }
    const std::int32_t pos = member_pos(a, item->queue);
    if (pick && pos < 0) {
      return error(ErrorCode::not_a_member, "agent " + agent_id.to_string() + " is not a member of queue \"" +
                                                config.queues[item->queue].name + "\" and cannot pick from it");
    }
    const Reservation need = need_of(*item);
    if (!hot.try_reserve(a, need, false)) {
      return error(ErrorCode::insufficient_capacity,
                   "agent " + agent_id.to_string() + " has " + std::to_string(available_for(a, need)) +
                       " available " +
                       (need.units ? std::string("units")
                                   : "\"" + config.profiles[need.profile].name + "\" slots") +
                       "; item " + item_id.to_string() + " needs " +
                       std::to_string(need.units ? static_cast<std::int64_t>(need.delta) : 1));
    }
    cold[a].holds.push_back(Hold{item->id, config.queues[item->queue].channel, need, kNever});
    if (pos >= 0) shards[item->queue].last_assignment[static_cast<std::size_t>(pos)] = now;
    if (item->state == ItemState::queued) dequeue(*item);
    item->state = ItemState::assigned;
    item->agent = a;
    refresh_agent(a);
    Decision& d = emit(l, DecisionKind::assigned, now, *item);
    d.agent = cold[a].id;
    d.decided_by = pick ? DecidedBy::pick : DecidedBy::manual;
    return std::nullopt;
  }
  std::optional<Error> on(const ManualAssign& e, Timestamp now, Lane& l) {
    return assign_by_hand(l, e.item, e.agent, false, now);
  }
  std::optional<Error> on(const AgentPick& e, Timestamp now, Lane& l) {
    return assign_by_hand(l, e.item, e.agent, true, now);
  }
  std::optional<Error> on(const Tick&, Timestamp, Lane&) { return std::nullopt; }

  void apply(const Event& event, std::vector<Decision>& sink) {
    main.out = &sink;
    const Timestamp now = advance_to(main, event.time);
    apply_at(main, event, now);
    main.out = nullptr;
  }

  // The event itself at `now`, after the clock has advanced (R11: validate, apply, cycle).
  void apply_at(Lane& l, const Event& event, Timestamp now) {
    std::vector<Decision>& sink = *l.out;
    l.triggered.clear();
    const std::optional<Error> err =
        std::visit([&](const auto& body) { return on(body, now, l); }, event.body);
    if (err) {
      Decision& d = sink.emplace_back();
      d.kind = DecisionKind::error;
      d.time = now;
      d.error = err->code;
      d.message = err->message;
      d.sequence = event.sequence;
      d.offending = std::make_shared<const Event>(event);
    } else {
      run_cycle(l, l.triggered, now);
    }
  }


  // ---- parallel batches (docs/kernel.md, "Parallel batches") -----------------------------------
  //
  // Queues that share an agent form a component. Events of one batch segment that touch
  // different components touch disjoint agents, items and shards, so each lane applies its
  // components' events in batch order and nothing a lane reads is written by another. The driver
  // cuts a segment wherever that could fail (a join, a new agent, an event spanning two
  // components, an item id already seen in another component) and wherever a timer could come
  // due, so that every event's decisions are exactly those of a sequential apply; it then
  // concatenates the lanes' decisions in event order. Decisions are the same at any thread
  // count (I5).

  static constexpr std::uint64_t kAnyComponent = ~std::uint64_t{0};
  static constexpr std::uint64_t kCut = ~std::uint64_t{0} - 1;

  void compute_components() {
    const std::size_t nq = config.queues.size();
    std::vector<std::uint32_t> parent(nq);
    std::iota(parent.begin(), parent.end(), 0u);
    const auto find = [&](std::uint32_t x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];
      return x;
    };
    for (AgentIndex a = 0; a < cold.size(); ++a) {
      const auto& refs = cold[a].queues;
      for (std::size_t k = 1; k < refs.size(); ++k) {
        const std::uint32_t x = find(refs[0].queue), y = find(refs[k].queue);
        if (x != y) parent[std::max(x, y)] = std::min(x, y);
      }
    }
    queue_component.resize(nq);
    std::set<std::uint32_t> roots;
    for (std::uint32_t q = 0; q < nq; ++q) roots.insert(queue_component[q] = find(q));
    single_component = roots.size() <= 1;
    components_stale = false;
  }

  [[nodiscard]] std::uint64_t agent_component(AgentIndex a) const {
    if (a == kNoAgent) return kAnyComponent;
    if (cold[a].queues.empty()) return config.queues.size() + std::uint64_t{a};  // on its own
    return queue_component[cold[a].queues.front().queue];
  }
  static std::uint64_t combine(std::uint64_t x, std::uint64_t y) {
    if (x == kAnyComponent) return y;
    if (y == kAnyComponent || x == y) return x;
    return kCut;
  }

  // Which component an event touches (state at the segment's start plus the ids the segment has
  // already placed), or kCut when it must not run in a lane.
  std::uint64_t event_component(const Event& event,
                                IdMap<std::uint64_t>& item_component) const {
    const auto of_agent = [&](const ExternalId& id) { return agent_component(find_agent(id)); };
    const auto of_item = [&](const ExternalId& id) -> std::uint64_t {
      if (const std::uint64_t* placed = item_component.find(id)) return *placed;
      const ItemSlot* live = item_index.find(id);
      if (live == nullptr) return kAnyComponent;
      const Item& item = items[*live];
      // An offered or assigned item's agent may have left the item's queue since.
      return combine(queue_component[item.queue], agent_component(item.agent));
    };
    const auto place = [&](const ExternalId& id, std::uint64_t c) {
      if (c != kCut && c != kAnyComponent) item_component.insert_or_assign(id, c);
      return c;
    };
    return std::visit(
        [&](const auto& e) -> std::uint64_t {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, AgentUpsert>) {
            return find_agent(e.agent) == kNoAgent ? kCut : of_agent(e.agent);  // new ids: driver
          } else if constexpr (std::is_same_v<T, JoinQueue>) {
            return kCut;  // joins merge components
          } else if constexpr (std::is_same_v<T, AgentRemove> || std::is_same_v<T, PresenceChange> ||
                               std::is_same_v<T, CapacityChange> || std::is_same_v<T, LeaveQueue>) {
            return of_agent(e.agent);
          } else if constexpr (std::is_same_v<T, ItemArrive>) {
            if (e.queue >= config.queues.size()) return of_item(e.item);
            std::uint64_t c = combine(queue_component[e.queue], of_item(e.item));
            if (e.affinity_agent) c = combine(c, of_agent(*e.affinity_agent));
            return place(e.item, c);
          } else if constexpr (std::is_same_v<T, ItemTransfer>) {
            if (e.queue >= config.queues.size()) return of_item(e.item);
            return place(e.item, combine(of_item(e.item), queue_component[e.queue]));
          } else if constexpr (std::is_same_v<T, ItemUpdate> || std::is_same_v<T, ItemCancel> ||
                               std::is_same_v<T, ItemComplete>) {
            return place(e.item, of_item(e.item));
          } else if constexpr (std::is_same_v<T, Tick>) {
            return kAnyComponent;
          } else {  // accept, decline, timeout, manual assignment, pick: an item and an agent
            return place(e.item, combine(of_item(e.item), of_agent(e.agent)));
          }
        },
        event.body);
  }

  // The earliest timer that could fire: valid heap top or periodic cycle.
  Timestamp next_due() {
    while (!timers.empty() && !timer_valid(timers.top())) timers.pop();
    Timestamp due = timers.empty() ? std::numeric_limits<Timestamp>::max() : timers.top().due;
    for (Timestamp p : next_periodic) {
      if (p != kNever) due = std::min(due, p);
    }
    return due;
  }

  // `ends`, when given, has room for events.size() entries: ends[k] = out.size() once event k
  // is applied (its decisions are out[ends[k-1] .. ends[k])).
  void apply_batch(std::span<const Event> events, std::vector<Decision>& out, std::size_t* ends) {
    parallel_events = 0;
    const auto apply_one = [&](std::size_t k) {
      apply(events[k], out);
      if (ends != nullptr) ends[k] = out.size();
    };
    if (!arena) {
      for (std::size_t k = 0; k < events.size(); ++k) apply_one(k);
      return;
    }
    IdMap<std::uint64_t> item_component;
    std::vector<std::uint64_t> component;
    std::vector<Timestamp> at;
    std::size_t i = 0;
    // The crew stays for this call only: a kernel that is not applying holds no thread.
    tbb::task_group crew;
    bool crew_started = false;
    const auto start_crew = [&] {
      if (crew_started) return;
      crew_started = true;
      crew_stop.store(false, std::memory_order_relaxed);
      tsan_release();
      arena->execute([&] {
        for (int k = 1; k < options.threads; ++k) {
          crew.run([this] {
            tsan_acquire();  // the spawn edge, before the first read of a capture
            crew_loop();
          });
        }
      });
    };
    while (i < events.size()) {
      if (clock == kNever) {  // the first event starts the clock and the periodic timers
        apply_one(i++);
        continue;
      }
      if (components_stale) compute_components();
      if (single_component) {  // nothing to split: skip the segmentation pass altogether
        for (; i < events.size() && !components_stale; ++i) apply_one(i);
        continue;
      }
      // Grow a segment while its events stay inside components and no timer can come due.
      const Timestamp due = next_due();
      item_component.clear();
      component.clear();
      at.clear();
      Timestamp running = clock;
      const Timestamp first = std::max(events[i].time, clock);
      std::size_t j = i;
      std::set<std::uint64_t> distinct;
      while (j < events.size()) {
        const Timestamp t = std::max(events[j].time, running);
        if (t >= due || t - first >= shortest_timer) break;
        const std::uint64_t c = event_component(events[j], item_component);
        if (c == kCut) break;
        component.push_back(c);
        at.push_back(t);
        if (c != kAnyComponent) distinct.insert(c);
        running = t;
        ++j;
      }
      if (j - i < 2 * options.min_events_per_task || distinct.size() < 2) {
        // Not worth a handoff: apply sequentially up to the cut (at least one event).
        const std::size_t end = std::max(j, i + 1);
        for (; i < end; ++i) apply_one(i);
        continue;
      }
      start_crew();
      run_segment(events.subspan(i, j - i), component, at, distinct, out,
                  ends != nullptr ? ends + i : nullptr);
      clock = running;
      parallel_events += j - i;
      i = j;
    }
    if (crew_started) {
      crew_stop.store(true, std::memory_order_release);
      arena->execute([&] { crew.wait(); });
      tsan_acquire();
    }
  }

  void run_segment(std::span<const Event> events, const std::vector<std::uint64_t>& component,
                   const std::vector<Timestamp>& at, const std::set<std::uint64_t>& distinct,
                   std::vector<Decision>& out, std::size_t* ends) {
    // Components to lanes, heaviest first onto the lightest lane.
    std::unordered_map<std::uint64_t, std::size_t> weight;
    for (std::uint64_t c : component) ++weight[c];
    std::vector<std::pair<std::size_t, std::uint64_t>> order;
    for (std::uint64_t c : distinct) order.emplace_back(weight[c], c);
    std::sort(order.rbegin(), order.rend());
    const std::size_t n_lanes = std::min<std::size_t>(lanes.size(), order.size());
    std::vector<std::size_t> load(n_lanes, 0);
    std::unordered_map<std::uint64_t, std::size_t> lane_of;
    for (const auto& [w, c] : order) {
      const std::size_t lane = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      lane_of[c] = lane;
      load[lane] += w;
    }
    for (std::size_t k = 0; k < n_lanes; ++k) {
      lanes[k].reset_overlay();
      lanes[k].overlay = true;
      lanes[k].out = &lanes[k].decisions;
    }
    // Reserve slots and arrival sequence numbers up front, in batch order (the lanes must not
    // grow shared tables). A seq is the arrival's batch position: the same relative order as a
    // sequential run, which is all R8 compares.
    std::vector<ItemSlot> slot(events.size(), kNoSlot);
    for (std::size_t k = 0; k < events.size(); ++k) {
      const std::size_t lane = component[k] == kAnyComponent ? 0 : lane_of[component[k]];
      lanes[lane].events.push_back(k);
      if (!std::holds_alternative<ItemArrive>(events[k].body)) continue;
      if (!free_slots.empty()) {
        slot[k] = free_slots.back();
        free_slots.pop_back();
      } else {
        slot[k] = static_cast<ItemSlot>(items.size());
        items.emplace_back();
      }
    }
    const std::uint64_t seq_base = next_seq;
    next_seq += events.size();
    std::vector<std::pair<std::size_t, std::size_t>> span_of(events.size());
    const auto run_lane = [&](std::size_t lane_index) {
      Lane& l = lanes[lane_index];
      for (std::size_t k : l.events) {
        const std::size_t begin = l.decisions.size();
        l.arrival_slot = slot[k];
        l.arrival_seq = seq_base + k;
        l.arrival_used = false;
        apply_at(l, events[k], at[k]);
        if (slot[k] != kNoSlot && !l.arrival_used) l.freed.push_back(slot[k]);
        span_of[k] = {begin, l.decisions.size()};
      }
    };
    crew_run = run_lane;
    done.store(0, std::memory_order_relaxed);
    claim.store((++epoch << 40) | (std::uint64_t{n_lanes} << 20), std::memory_order_release);
    claim_lanes();
    while (done.load(std::memory_order_acquire) < n_lanes) spin_pause();
    // Merge: decisions in event order; then what the lanes changed in the shared tables.
    std::vector<std::size_t> lane_of_event(events.size(), 0);
    for (std::size_t k = 0; k < n_lanes; ++k) {
      for (std::size_t e : lanes[k].events) lane_of_event[e] = k;
    }
    for (std::size_t k = 0; k < events.size(); ++k) {
      Lane& l = lanes[lane_of_event[k]];
      for (std::size_t d = span_of[k].first; d < span_of[k].second; ++d) out.push_back(std::move(l.decisions[d]));
      if (ends != nullptr) ends[k] = out.size();
    }
    for (std::size_t k = 0; k < n_lanes; ++k) {
      Lane& l = lanes[k];
      l.index_delta.for_each([&](const ExternalId& id, ItemSlot s) {
        if (s == kNoSlot) {
          item_index.erase(id);
        } else {
          item_index.insert_or_assign(id, s);
        }
      });
      free_slots.insert(free_slots.end(), l.freed.begin(), l.freed.end());
      for (Timer& t : l.timers) timers.push(std::move(t));
      live_items = static_cast<std::size_t>(static_cast<std::int64_t>(live_items) + l.live_delta);
      l.overlay = false;
      l.out = nullptr;
    }
  }

  // ---- checks and views ------------------------------------------------------------------------

  std::string check_invariants() const;
};

std::string Kernel::State::check_invariants() const {
  std::ostringstream problem;
  std::map<ExternalId, int> holders;
  for (AgentIndex a = 0; a < cold.size(); ++a) {
    if (!exists(a)) continue;
    const AgentCold& agent = cold[a];
    std::uint64_t expected = 0;
    for (const Hold& h : agent.holds) expected += h.reservation.delta;
    const std::uint64_t used = hot.used_word(a);
    if (used != expected) {
      problem << "kernel: agent " << agent.id.to_string() << " capacity word " << used
              << " differs from the sum of its holds " << expected;
      return problem.str();
    }
    if (capacity_word::units(used) > capacity_word::units(hot.max[a])) {
      problem << "I1: agent " << agent.id.to_string() << " holds more units than its capacity";
      return problem.str();
    }
    for (std::size_t p = 0; p < capacity_word::kProfiles; ++p) {
      if (capacity_word::profile(used, p) > capacity_word::profile(hot.max[a], p)) {
        problem << "I1: agent " << agent.id.to_string() << " holds more profile " << p
                << " items than its capacity";
        return problem.str();
      }
    }
    for (const Hold& h : agent.holds) {
      if (h.in_wrap_up()) continue;
      ++holders[h.item];
      const ItemSlot* index = item_index.find(h.item);
      if (index == nullptr) {
        problem << "I3: agent " << agent.id.to_string() << " holds capacity for unknown item " << h.item.to_string();
        return problem.str();
      }
      if (items[*index].agent != a) {
        problem << "I2: agent " << agent.id.to_string() << " holds item " << h.item.to_string()
                << " which is not offered or assigned to it";
        return problem.str();
      }
    }
    for (const MemberRef& m : agent.queues) {
      if (m.queue >= shards.size() || m.pos >= shards[m.queue].members.size() ||
          shards[m.queue].members[m.pos] != a) {
        problem << "kernel: agent " << agent.id.to_string() << " membership of queue " << m.queue << " is misfiled";
        return problem.str();
      }
    }
  }
  std::size_t queued = 0;
  for (QueueId q = 0; q < shards.size(); ++q) {
    const Shard& shard = shards[q];
    queued += shard.plain.size() + shard.affinity.size();
    std::size_t indexed = 0;
    for (std::uint32_t pos = 0; pos < shard.members.size(); ++pos) {
      const AgentIndex a = shard.members[pos];
      const bool ready = ready_for(a, q);
      if (ready != (shard.indexed[pos] != 0) ||
          (ready && (!(shard.key[pos] == rank_key(a, q, pos)) || !(*shard.where[pos] == shard.key[pos])))) {
        problem << "kernel: queue " << config.queues[q].name << " ready index is stale for agent "
                << cold[a].id.to_string();
        return problem.str();
      }
      indexed += shard.indexed[pos];
    }
    if (indexed != shard.ready.size()) {
      problem << "kernel: queue " << config.queues[q].name << " ready index holds " << shard.ready.size()
              << " entries for " << indexed << " ready members";
      return problem.str();
    }
  }
  std::size_t live = 0, queued_items = 0;
  for (const Item& item : items) {
    if (!item.live) continue;
    ++live;
    const bool with_agent = item.state == ItemState::offered || item.state == ItemState::assigned;
    if (with_agent != (item.agent != kNoAgent)) {
      problem << "I3: item " << item.id.to_string() << " is " << to_string(item.state)
              << (item.agent != kNoAgent ? " but has an agent" : " but has no agent");
      return problem.str();
    }
    if (with_agent && holders[item.id] != 1) {
      problem << "I2: item " << item.id.to_string() << " is held by " << holders[item.id] << " agents";
      return problem.str();
    }
    if (item.state == ItemState::queued) {
      ++queued_items;
      const Shard& shard = shards[item.queue];
      const auto& set = item.affinity ? shard.affinity : shard.plain;
      if (!set.count(QueuedKey{item.order_time, item.seq, slot_of(item)})) {
        problem << "I3: queued item " << item.id.to_string() << " is not in its queue's order";
        return problem.str();
      }
    }
  }
  if (live != live_items || live != item_index.size() || queued_items != queued) {
    problem << "I3: " << live << " live items, " << item_index.size() << " ids, " << queued_items
            << " queued items but " << queued << " queue entries";
    return problem.str();
  }
  return {};
}

// ---- Kernel ----------------------------------------------------------------------------------

Result<Kernel> Kernel::create(Config config, KernelOptions options) {
  if (config.profiles.size() > kKernelMaxProfiles) {
    return Error{ErrorCode::config_invalid_value,
                 "the configuration declares " + std::to_string(config.profiles.size()) +
                     " capacity profiles; the kernel packs at most " + std::to_string(kKernelMaxProfiles) +
                     " into an agent's capacity word"};
  }
  if (config.presences.size() > kMaxPresences) {
    return Error{ErrorCode::config_invalid_value, "the configuration declares more than " +
                                                      std::to_string(kMaxPresences) + " presences"};
  }
  for (const AgentSeed& seed : config.agents) {
    // A Config built in code has not been through the loader's checks: refuse what would index
    // outside the tables instead of trusting it.
    const bool bad_queue = std::any_of(seed.queues.begin(), seed.queues.end(),
                                       [&](QueueId q) { return q >= config.queues.size(); });
    const bool bad_skill = std::any_of(seed.skills.begin(), seed.skills.end(), [&](const SkillLevel& s) {
      return s.skill >= config.skills.size() || s.skill >= kMaxSkills;
    });
    if (bad_queue || bad_skill || seed.presence >= config.presences.size() ||
        seed.capacity.profile_max.size() > config.profiles.size()) {
      return Error{ErrorCode::config_invalid_value,
                   "agent " + seed.id.to_string() +
                       " names a queue, skill, presence or profile the configuration does not declare"};
    }
    for (std::int32_t max : seed.capacity.profile_max) {
      if (max > kKernelMaxProfileCapacity) {
        return Error{ErrorCode::config_invalid_value,
                     "agent " + seed.id.to_string() + " has a profile capacity of " + std::to_string(max) +
                         "; the kernel holds at most " + std::to_string(kKernelMaxProfileCapacity) +
                         " items per profile"};
      }
    }
  }
  if (options.threads < 1) options.threads = 1;
  auto state = std::make_unique<State>(std::move(config), options);
  state->items.reserve(options.expected_items);
  if (options.threads > 1) {
    state->arena = std::make_unique<tbb::task_arena>(options.threads);
    state->lanes.resize(static_cast<std::size_t>(options.threads));
  }
  return Kernel(std::move(state));
}

Kernel::Kernel(std::unique_ptr<State> state) : state_(std::move(state)) {}
Kernel::Kernel(Kernel&&) noexcept = default;
Kernel& Kernel::operator=(Kernel&&) noexcept = default;
Kernel::~Kernel() = default;

void Kernel::apply(const Event& event, std::vector<Decision>& out) { state_->apply(event, out); }

void Kernel::apply_batch(std::span<const Event> events, std::vector<Decision>& out) {
  state_->apply_batch(events, out, nullptr);
}
void Kernel::apply_batch(std::span<const Event> events, std::vector<Decision>& out,
                         std::span<std::size_t> ends) {
  if (ends.size() < events.size()) ends = {};  // the caller's mistake must not write past it
  state_->apply_batch(events, out, ends.empty() ? nullptr : ends.data());
}
std::size_t Kernel::count_agents_by_presence(std::span<std::uint64_t> counts) const {
  const AgentColumns& hot = state_->hot;
  std::fill(counts.begin(), counts.end(), 0);
  std::size_t agents = 0;
  for (std::size_t a = 0; a < hot.size(); ++a) {
    if ((hot.flags[a] & AgentColumns::kExists) == 0) continue;
    ++agents;
    if (hot.presence[a] < counts.size()) ++counts[hot.presence[a]];
  }
  return agents;
}
int Kernel::threads() const noexcept { return state_->options.threads; }
std::uint64_t Kernel::parallel_events() const noexcept { return state_->parallel_events; }

const Config& Kernel::config() const noexcept { return state_->config; }
Timestamp Kernel::now() const noexcept { return state_->clock; }
std::size_t Kernel::live_item_count() const { return state_->live_items; }
std::size_t Kernel::queued_count(QueueId queue) const {
  if (queue >= state_->shards.size()) return 0;
  const Shard& shard = state_->shards[queue];
  return shard.plain.size() + shard.affinity.size();
}
std::string Kernel::check_invariants() const { return state_->check_invariants(); }

std::optional<ItemView> Kernel::item(const ExternalId& id) const {
  const ItemSlot* slot = state_->item_index.find(id);
  if (slot == nullptr) return std::nullopt;
  const Item& item = state_->items[*slot];
  ItemView view{item.id, item.state, item.queue, std::nullopt, {}};
  if (item.agent != kNoAgent) view.agent = state_->cold[item.agent].id;
  for (const auto& [a, count] : item.declines) view.declines[state_->cold[a].id] = count;
  return view;
}

std::optional<AgentView> Kernel::agent(const ExternalId& id) const {
  const State& s = *state_;
  const AgentIndex a = s.find_agent(id);
  if (a == kNoAgent) return std::nullopt;
  AgentView view;
  view.id = s.cold[a].id;
  view.presence = s.hot.presence[a];
  view.capacity.units = static_cast<std::int32_t>(capacity_word::units(s.hot.max[a]));
  view.capacity.profile_max = s.cold[a].profile_max;
  const std::uint64_t used = s.hot.used_word(a);
  view.free_units = view.capacity.units - static_cast<std::int32_t>(capacity_word::units(used));
  for (std::size_t p = 0; p < s.config.profiles.size(); ++p) {
    view.profile_used.push_back(static_cast<std::int32_t>(capacity_word::profile(used, p)));
  }
  for (const MemberRef& m : s.cold[a].queues) view.queues.push_back(m.queue);
  for (const Hold& h : s.cold[a].holds) {
    if (!h.in_wrap_up()) view.items.push_back(h.item);
  }
  view.last_release = s.hot.last_release[a];
  return view;
}

KernelFootprint Kernel::footprint() const {
  const State& s = *state_;
  KernelFootprint f;
  f.agents = s.cold.size();
  f.hot_bytes_per_agent = AgentColumns::hot_bytes_per_agent();
  std::size_t total = f.agents * f.hot_bytes_per_agent + s.agent_index.bytes();
  for (const AgentCold& c : s.cold) {
    total += sizeof(AgentCold) + c.skills.capacity() * sizeof(SkillLevel) +
             c.queues.capacity() * sizeof(MemberRef) + c.holds.capacity() * sizeof(Hold) +
             c.profile_max.capacity() * sizeof(std::int32_t) + c.attributes.size() * 96;
  }
  for (const Shard& shard : s.shards) {
    total += shard.members.capacity() * (sizeof(AgentIndex) + 2 * sizeof(Timestamp) + sizeof(RankKey) + 1) +
             shard.ready.size() * (sizeof(RankKey) + 32);
  }
  f.total_bytes = total;
  return f;
}

}  // namespace switchboard
