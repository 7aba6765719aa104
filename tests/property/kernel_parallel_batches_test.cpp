// Differential test of the kernel's parallel batches (Kernel::apply_batch with threads > 1,
// docs/kernel.md "Parallel batches") against the reference router and the sequential kernel.
//
// kernel_differential_test.cpp's random streams almost never give apply_batch a segment to run
// on lanes (its configurations have short offer timeouts, wrap-up and periodic cycles, and its
// streams join agents to queues and bring in new agents, all of which cut segments). This test
// builds what the parallel path needs and checks that it is really taken:
//
//   configuration  2..8 disjoint clusters; each has its own queues (every assignment method,
//                  custom rulesets, prioritization, both skill matching modes, calendars) and its
//                  own seeded agents, members of that cluster's queues only. Channels have no
//                  wrap-up, and no offer timeout or periodic cycle, or ones hours long; every
//                  fourth seed ("timer" seeds) has offer timeouts of 5..20 s and a periodic cycle
//                  of 10..30 s instead, so that timers come due inside batches and cut segments.
//   stream         closed loop against the reference router (it knows the offers): arrivals,
//                  accepts, declines, host timeouts, completions, cancels, transfers within a
//                  cluster, item updates, manual assignments and picks, presence, capacity and
//                  agent updates, an agent leaving a queue (sometimes its last one) and joining
//                  back, ticks, invalid events (unknown ids, wrong agents, bad values), and
//                  occasionally an event across clusters (a transfer to another cluster's queue,
//                  a manual assignment or pick by another cluster's agent, an affinity to another
//                  cluster's agent, an answer from the wrong cluster's agent). Events are a few
//                  milliseconds apart, so segments are long.
//
//   decisions      Kernel::apply (threads 1) decides as ReferenceRouter::apply, event by event;
//                  Kernel::apply_batch with threads 2, 4 (and 3 with min_events_per_task 4) in
//                  chunks of 1..2048 events (random) makes the same decisions, decision by
//                  decision (Decision::same_decision).
//   invariants     check_invariants() after every batch; live_item_count() agrees with the
//                  reference after every batch; at the end every item view agrees with the
//                  reference and every agent view with the sequential kernel.
//   coverage       more than half the events of every batched run ran on parallel lanes
//                  (Kernel::parallel_events()), so the test cannot silently stop exercising the
//                  parallel path.
//
// 30,000 events per seed, 12 seeds (3,000 under a sanitizer or with assertions on). For a longer
// soak: SWITCHBOARD_PAR_EVENTS=<events per seed> and SWITCHBOARD_PAR_SEEDS=<extra seeds>.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "decision_diff.hpp"
#include "random_stream.hpp"
#include "router_harness.hpp"
#include "switchboard/kernel.hpp"
#include "switchboard/reference_router.hpp"

namespace switchboard::testing {
namespace {

constexpr std::size_t kDefaultEventsPerSeed = kSlowBuild ? 3'000 : 30'000;
constexpr std::uint64_t kSeeds = 12;        // seeds 1..12; a soak adds 2000, 2001, ...
constexpr std::size_t kHistory = 10;        // decisions shown before a difference
constexpr std::size_t kMaxChunk = 2'048;    // apply_batch chunks: 1..kMaxChunk events
constexpr Timestamp kStart = 1'000'000;     // the first event's time
constexpr Timestamp kHour = 3'600'000;

std::size_t events_per_seed() { return env_count("SWITCHBOARD_PAR_EVENTS", kDefaultEventsPerSeed); }

// ---- configuration ----------------------------------------------------------------------------

const std::vector<std::string_view> kItemConditions = {
    R"(item.priority == "High")",
    R"(item.category == "Premium")",
    R"(item.score >= 50)",
    R"(item.score < 20 or item.tier has no value)",
    R"(item.priority in ["High", "Urgent"])",
    R"(not item.category == "Standard")",
    R"(item.customer.level >= 2)",
    R"(item.country != "US")",
    R"(true)",
};

const std::vector<std::string_view> kAgentConditions = {
    R"(agent.country == item.country)",
    R"(agent.level >= 2)",
    R"(agent.level >= item.customer.level)",
    R"(agent.team == "A")",
    R"(agent.team has no value)",
    R"(skills_match)",
    R"(capacity_ok)",
    R"(is_working)",
    R"(has_skill("s1", 2))",
    R"(has_skill(item.lang))",
    R"(agent.presence == "available")",
    R"(agent.presence in ["busy", "lunch"])",
    R"(agent.country == item.country and agent.level > 1)",
    R"(skills_match or agent.level >= 4)",
    R"(agent.tier == item.tier)",
    R"(true)",
};

const std::vector<std::string> kAgentOrderAttributes = {"level", "team", "tier", "seniority", "nothing"};
const std::vector<std::string> kItemOrderAttributes = {"", "first_response_by", "score", "priority",
                                                       "customer.level"};
const std::vector<std::string> kNames = {"ana", "Ben", "cy", "dee", "Eve", "fay", "gus", "hal"};

const RuleVocabulary kWords{kItemConditions, kAgentConditions, kItemOrderAttributes,
                            kAgentOrderAttributes};

AgentCapacity random_agent_capacity(Rng& rng, std::size_t profiles) {
  AgentCapacity c;
  c.units = static_cast<std::int32_t>(rng.chance(8) ? 0 : rng.between(1, 6));
  for (std::size_t p = 0; p < profiles; ++p) c.profile_max.push_back(static_cast<std::int32_t>(rng.below(4)));
  return c;
}

// Shifts that start or end while the stream runs (about a minute and a half at 3 ms an event).
constexpr ShiftSpan kShifts{-20'000, 90'000, 1'000, 60'000};

struct ClusterConfig {
  Config config;
  int clusters = 0;
  bool timers = false;                             // a "timer" seed (see the top of this file)
  std::vector<int> queue_cluster;                  // by QueueId
  std::vector<std::vector<QueueId>> queues;        // by cluster
  std::vector<std::vector<ExternalId>> agents;     // by cluster
  std::map<ExternalId, int> agent_cluster;
};

int clusters_of(std::uint64_t seed) { return 2 + static_cast<int>(seed % 7); }
bool timer_seed(std::uint64_t seed) { return seed % 4 == 3; }

ClusterConfig cluster_config(std::uint64_t seed) {
  Rng rng(seed * 7919 + 17);
  ClusterConfig cc;
  cc.clusters = clusters_of(seed);
  cc.timers = timer_seed(seed);
  Config& c = cc.config;
  c = base_config();
  if (rng.chance(60)) add_profile_channel(c, "video", rng.chance(50), ChannelKind::voice, "video");
  for (ChannelConfig& ch : c.channels) {
    ch.wrap_up_ms = 0;
    ch.periodic_ms = 0;
    ch.offer_timeout_ms = 0;
    if (cc.timers) {
      if (rng.chance(50)) ch.offer_timeout_ms = rng.between(5'000, 20'000);
    } else {
      if (rng.chance(35)) ch.offer_timeout_ms = rng.between(2 * kHour, 5 * kHour);
      if (rng.chance(20)) ch.periodic_ms = rng.between(2 * kHour, 6 * kHour);
    }
    randomize_channel_shape(rng, ch, c.presences.size(), 0);
  }
  if (cc.timers) c.channels[rng.below(c.channels.size())].periodic_ms = rng.between(10'000, 30'000);
  c.decline_limit = static_cast<std::int32_t>(rng.between(1, 5));
  c.park_after_decliners = rng.chance(30) ? 100 : static_cast<std::int32_t>(rng.between(2, 5));

  // Queues: every cluster has 2..4; the first four queues cover the four methods.
  std::vector<int> methods = {0, 1, 2, 3};
  for (std::size_t i = methods.size(); i > 1; --i) std::swap(methods[i - 1], methods[rng.below(i)]);
  cc.queues.resize(static_cast<std::size_t>(cc.clusters));
  cc.agents.resize(static_cast<std::size_t>(cc.clusters));
  for (int k = 0; k < cc.clusters; ++k) {
    const int n = static_cast<int>(rng.between(2, 4));
    for (int i = 0; i < n; ++i) {
      const std::size_t g = c.queues.size();
      const auto method =
          static_cast<AssignmentMethod>(g < 4 ? methods[g] : static_cast<int>(rng.below(4)));
      const auto channel = static_cast<ChannelId>(rng.below(c.channels.size()));
      const QueueId id = add_queue(c, "c" + std::to_string(k) + (rng.chance(50) ? " Sales " : " care ") +
                                          std::to_string(i),
                                   channel, method, static_cast<std::int32_t>(rng.below(4)));
      QueueConfig& queue = c.queues[id];
      randomize_queue_shape(rng, queue, c.presences.size(), 20, 15, 0);
      if (g == 1 || rng.chance(50)) add_random_prioritization(rng, c, queue, kWords);
      if (queue.method == AssignmentMethod::custom) add_random_assignment(rng, c, queue, kWords);
      cc.queue_cluster.push_back(k);
      cc.queues[static_cast<std::size_t>(k)].push_back(id);
    }
  }

  // Agents: 3..7 per cluster, numbers and names, members of their cluster's queues only.
  std::uint64_t next_id = 0;
  for (int k = 0; k < cc.clusters; ++k) {
    const int n = static_cast<int>(rng.between(3, 7));
    for (int i = 0; i < n; ++i) {
      const std::uint64_t number = next_id++;
      AgentSeed seed;
      seed.id = number % 2 == 0 ? ExternalId(std::uint64_t{10} + 7 * number)
                                : ExternalId(kNames[number % kNames.size()] + std::to_string(number));
      seed.presence = rng.chance(75) ? kAvailable : static_cast<PresenceId>(rng.below(c.presences.size()));
      seed.skills = random_skills(rng);
      seed.capacity = random_agent_capacity(rng, c.profiles.size());
      seed.attributes = random_agent_attributes(rng);
      seed.working = rng.chance(85);
      if (rng.chance(20)) seed.shifts = random_shifts(rng, kStart, kShifts);
      const auto& own = cc.queues[static_cast<std::size_t>(k)];
      for (QueueId q : own) {
        if (rng.chance(70)) seed.queues.push_back(q);
      }
      if (seed.queues.empty()) seed.queues.push_back(rng.pick(own));
      cc.agents[static_cast<std::size_t>(k)].push_back(seed.id);
      cc.agent_cluster[seed.id] = k;
      c.agents.push_back(std::move(seed));
    }
  }
  return cc;
}

// ---- the stream -------------------------------------------------------------------------------

// Closed loop: the next event from the reference router's state and the decisions so far. Only
// seeded agents; joins put an agent back into its own cluster's queues.
class ClusterStream {
 public:
  ClusterStream(std::uint64_t seed, const ClusterConfig& cc) : rng_(seed ^ 0xC1D5EEDull), cc_(cc) {}

  struct Counts {
    std::uint64_t cross = 0;    // events made to span two clusters
    std::uint64_t invalid = 0;  // events made invalid on purpose
    std::uint64_t leaves = 0, joins = 0;
  };
  [[nodiscard]] const Counts& counts() const { return counts_; }

  [[nodiscard]] const Ledger& ledger() const { return items_; }

  Event next(const ReferenceRouter& router) {
    now_ = router.now() == kNever ? kStart : router.now();
    bool has_offered = false, has_assigned = false;
    for (const auto& [id, m] : items_) {
      has_offered = has_offered || m.state == ItemState::offered;
      has_assigned = has_assigned || m.state == ItemState::assigned;
    }
    const std::size_t live = items_.size();
    const auto per = static_cast<std::size_t>(cc_.clusters);
    const WeightedChoice choices[] = {
        {live > 25 * per ? 16 : (live < 5 * per ? 120 : 60), 0},  // arrive
        {has_offered ? 64 : 4, 1},                                 // accept
        {has_offered ? 20 : 4, 2},                                 // decline
        {has_offered ? 8 : 4, 3},                                  // timeout (host)
        {has_assigned ? 52 : 4, 4},                                // complete
        {12, 5},                                                   // cancel
        {12, 6},                                                   // transfer
        {12, 7},                                                   // update
        {12, 8},                                                   // manual
        {12, 9},                                                   // pick
        {32, 10},                                                  // presence
        {12, 11},                                                  // capacity
        {8, 12},                                                   // upsert of a known agent
        {1, 13},                                                   // leave
        {1, 14},                                                   // join (cuts a segment)
        {4, 15},                                                   // tick
    };
    const int what = choices[pick_weighted(rng_, choices)].what;
    Event event;
    event.time = next_time();
    event.sequence = ++sequence_;
    switch (what) {
      case 0: event.body = make_arrive(); break;
      case 1: event.body = make_answer<OfferAccept>(router); break;
      case 2: event.body = make_answer<OfferDecline>(router); break;
      case 3: event.body = make_answer<OfferTimeout>(router); break;
      case 4: event.body = make_complete(); break;
      case 5: event.body = ItemCancel{some_live_item(90)}; break;
      case 6: event.body = make_transfer(router); break;
      case 7: event.body = make_update(); break;
      case 8: event.body = make_by_hand<ManualAssign>(router, 45); break;
      case 9: event.body = make_by_hand<AgentPick>(router, 80); break;
      case 10: event.body = make_presence(); break;
      case 11: event.body = make_capacity(router); break;
      case 12: event.body = make_upsert(); break;
      case 13:  // leaves and joins are rare: a join cuts a segment and recomputes components
        event.body = rng_.chance(40) ? make_leave(router) : EventBody{Tick{}};
        break;
      case 14: event.body = rng_.chance(40) ? make_join(router) : EventBody{Tick{}}; break;
      default: event.body = Tick{}; break;
    }
    return event;
  }

  void observe(const Event& event, const std::vector<Decision>& decisions) {
    follow(items_, event, decisions);
  }

 private:
  bool cross() {  // about one eligible event in 100 spans two clusters
    if (!rng_.chance(1) || cc_.clusters < 2) return false;
    ++counts_.cross;
    return true;
  }
  bool invalid(int percent) {
    if (!rng_.chance(percent)) return false;
    ++counts_.invalid;
    return true;
  }

  Timestamp next_time() {
    const std::uint64_t r = rng_.below(1'000);
    if (r < 15) return now_ - rng_.between(1, 100);                 // older: applied at the clock
    if (r < 20) return now_ + rng_.between(1'000, 8'000);           // a pause (timers come due)
    if (r < 100) return now_ + rng_.between(5, 40);
    return now_ + rng_.between(0, 5);
  }

  int cluster_of_queue(QueueId q) const {
    return q < cc_.queue_cluster.size() ? cc_.queue_cluster[q] : -1;
  }
  int other_cluster(int k) {
    const int shift = 1 + static_cast<int>(rng_.below(static_cast<std::uint64_t>(cc_.clusters - 1)));
    return (k + shift) % cc_.clusters;
  }
  int cluster_of_item(const ExternalId& item) const {
    const auto it = items_.find(item);
    return it == items_.end() ? -1 : cluster_of_queue(it->second.queue);
  }
  const ExternalId& agent_in(int k) { return rng_.pick(cc_.agents[static_cast<std::size_t>(k)]); }
  QueueId queue_in(int k) { return rng_.pick(cc_.queues[static_cast<std::size_t>(k)]); }
  int random_cluster() { return static_cast<int>(rng_.below(static_cast<std::uint64_t>(cc_.clusters))); }
  std::vector<ExternalId> items_in(std::initializer_list<ItemState> states) const {
    return testing::items_in(items_, states);
  }
  std::vector<ExternalId> live_items() const {
    std::vector<ExternalId> out;
    out.reserve(items_.size());
    for (const auto& [id, m] : items_) out.push_back(id);
    return out;
  }
  ExternalId some_live_item(int percent) {
    const std::vector<ExternalId> live = live_items();
    if (!live.empty() && !invalid(100 - percent)) return rng_.pick(live);
    return unknown_item(rng_);
  }
  // An agent of cluster k (or, rarely, of another cluster, or unknown).
  ExternalId agent_near(int k) {
    if (k < 0) k = random_cluster();
    if (invalid(3)) return unknown_agent(rng_);
    if (cross()) return agent_in(other_cluster(k));
    return agent_in(k);
  }
  PresenceId random_presence() {
    return rng_.chance(60) ? kAvailable : static_cast<PresenceId>(rng_.below(cc_.config.presences.size()));
  }

  EventBody make_arrive() {
    ItemArrive e;
    const int k = random_cluster();
    e.queue = queue_in(k);
    e.item = fresh_item(next_item_);
    e.attributes = random_item_attributes(rng_, false);
    e.skills = random_requirements(rng_);
    if (rng_.chance(20)) e.units = static_cast<std::int32_t>(rng_.between(1, 3));
    if (rng_.chance(20)) e.affinity_agent = agent_near(k);
    if (rng_.chance(20)) e.created = now_ - rng_.between(0, 100'000);
    if (rng_.chance(20)) e.last_message = now_ - rng_.between(0, 50'000);
    if (invalid(6)) {
      switch (rng_.below(4)) {
        case 0: e.queue = static_cast<QueueId>(cc_.config.queues.size() + rng_.below(3)); break;
        case 1: {
          const std::vector<ExternalId> live = live_items();
          if (!live.empty()) e.item = rng_.pick(live);  // duplicate_item
          break;
        }
        case 2: e.skills.push_back(SkillRequirement{static_cast<SkillId>(10 + rng_.below(200)), -1}); break;
        default: e.units = -static_cast<std::int32_t>(rng_.below(2)); break;
      }
    }
    return e;
  }

  template <typename E>
  EventBody make_answer(const ReferenceRouter& router) {
    E e;
    const std::vector<ExternalId> offered = items_in({ItemState::offered});
    if (!offered.empty() && !invalid(10)) {
      e.item = rng_.pick(offered);
      e.agent = *items_.at(e.item).agent;
      if (rng_.chance(3)) {  // another agent of the item's component (offer_agent_mismatch)
        const Component near = component(router, items_.at(e.item).queue);
        if (!near.agents.empty()) e.agent = rng_.pick(near.agents);
      } else if (cross()) {  // an agent of another cluster
        e.agent = agent_in(other_cluster(std::max(0, cluster_of_item(e.item))));
      }
    } else {
      const std::vector<ExternalId> others = items_in({ItemState::queued, ItemState::assigned, ItemState::parked});
      e.item = !others.empty() && rng_.chance(60) ? rng_.pick(others) : unknown_item(rng_);  // item_not_offered
      e.agent = agent_near(cluster_of_item(e.item));
    }
    return e;
  }

  EventBody make_complete() {
    ItemComplete e;
    const std::vector<ExternalId> assigned = items_in({ItemState::assigned});
    if (!assigned.empty() && !invalid(10)) {
      e.item = rng_.pick(assigned);
    } else {
      e.item = some_live_item(70);
    }
    return e;
  }

  EventBody make_transfer(const ReferenceRouter& router) {
    ItemTransfer e;
    e.item = some_live_item(92);
    const int k = cluster_of_item(e.item);
    e.queue = queue_in(k < 0 ? random_cluster() : (cross() ? other_cluster(k) : k));
    if (k >= 0 && cluster_of_queue(e.queue) == k && rng_.chance(90)) {
      // Mostly within the item's component: leaves can split a cluster into several, and an
      // event spanning two of them cuts a segment as one spanning two clusters does.
      e.queue = rng_.pick(component(router, items_.at(e.item).queue).queues);
    }
    if (invalid(4)) e.queue = static_cast<QueueId>(cc_.config.queues.size() + 1);
    return e;
  }

  EventBody make_update() {
    ItemUpdate e;
    e.item = some_live_item(92);
    e.attributes = random_item_attributes(rng_, false);
    if (rng_.chance(30)) e.attributes["priority"] = AttrValue{};  // removes it
    if (rng_.chance(15)) e.attributes["score"] = AttrValue{};
    if (rng_.chance(20)) e.last_message = now_ - rng_.between(0, 20'000);
    return e;
  }

  template <typename E>
  EventBody make_by_hand(const ReferenceRouter& router, int member_percent) {
    E e;
    const std::vector<ExternalId> waiting = items_in({ItemState::queued, ItemState::parked});
    if (!waiting.empty() && rng_.chance(75)) {
      e.item = rng_.pick(waiting);
    } else {
      e.item = some_live_item(85);
    }
    const int k = cluster_of_item(e.item);
    e.agent = agent_near(k);
    const auto m = items_.find(e.item);
    if (m != items_.end() && cluster_of_agent(e.agent) == k) {
      const Component near = component(router, m->second.queue);
      if (rng_.chance(member_percent)) {
        std::vector<ExternalId> members;  // mostly a member of the item's queue
        for (const ExternalId& id : near.agents) {
          const std::optional<AgentView> v = router.agent(id);
          if (v && std::find(v->queues.begin(), v->queues.end(), m->second.queue) != v->queues.end()) {
            members.push_back(id);
          }
        }
        if (!members.empty()) e.agent = rng_.pick(members);
      } else if (!near.agents.empty() && rng_.chance(85)) {
        e.agent = rng_.pick(near.agents);  // often not a member of the item's queue
      }
    }
    return e;
  }

  // The queues and agents connected to queue q (through agents that are members of two queues),
  // as the reference router's state has them now.
  struct Component {
    std::vector<QueueId> queues;
    std::vector<ExternalId> agents;
  };
  Component component(const ReferenceRouter& router, QueueId q) const {
    Component c;
    const int k = cluster_of_queue(q);
    if (k < 0) return c;
    std::vector<std::vector<QueueId>> member_of;
    const auto& agents = cc_.agents[static_cast<std::size_t>(k)];
    for (const ExternalId& id : agents) {
      const std::optional<AgentView> v = router.agent(id);
      member_of.push_back(v ? v->queues : std::vector<QueueId>{});
    }
    std::set<QueueId> reached = {q};
    std::vector<bool> taken(agents.size(), false);
    for (bool grew = true; grew;) {
      grew = false;
      for (std::size_t a = 0; a < agents.size(); ++a) {
        if (taken[a]) continue;
        const bool touches = std::any_of(member_of[a].begin(), member_of[a].end(),
                                         [&](QueueId x) { return reached.count(x) != 0; });
        if (!touches) continue;
        taken[a] = grew = true;
        c.agents.push_back(agents[a]);
        reached.insert(member_of[a].begin(), member_of[a].end());
      }
    }
    c.queues.assign(reached.begin(), reached.end());
    return c;
  }

  int cluster_of_agent(const ExternalId& agent) const {
    const auto it = cc_.agent_cluster.find(agent);
    return it == cc_.agent_cluster.end() ? -1 : it->second;
  }

  EventBody make_presence() {
    PresenceChange e;
    e.agent = agent_near(-1);
    e.presence = random_presence();
    if (invalid(3)) e.presence = static_cast<PresenceId>(cc_.config.presences.size() + rng_.below(10));
    return e;
  }

  EventBody make_capacity(const ReferenceRouter& router) {
    CapacityChange e;
    e.agent = agent_near(-1);
    e.capacity = random_agent_capacity(rng_, cc_.config.profiles.size());
    if (rng_.chance(10)) {  // exactly what the agent holds now
      if (const std::optional<AgentView> v = router.agent(e.agent)) {
        e.capacity.units = v->capacity.units - v->free_units;
        e.capacity.profile_max = v->profile_used;
      }
    } else if (invalid(6)) {
      switch (rng_.below(3)) {
        case 0: e.capacity.units = -1; break;
        case 1: e.capacity.profile_max.assign(cc_.config.profiles.size() + 1, 1); break;
        default: e.capacity.profile_max = {-1, 0}; break;
      }
    }
    return e;
  }

  EventBody make_upsert() {  // a known agent's update: never a new agent
    AgentUpsert e;
    e.agent = agent_in(random_cluster());
    if (rng_.chance(50)) e.presence = random_presence();
    if (rng_.chance(40)) e.skills = random_skills(rng_);
    if (rng_.chance(40)) e.capacity = random_agent_capacity(rng_, cc_.config.profiles.size());
    if (rng_.chance(30)) e.attributes = random_agent_attributes(rng_);
    if (rng_.chance(30)) e.working = rng_.chance(75);
    if (rng_.chance(15)) e.shifts = rng_.chance(70) ? random_shifts(rng_, kStart, kShifts) : std::vector<Shift>{};
    if (invalid(5)) e.skills = std::vector<SkillLevel>{SkillLevel{2, -1}};
    return e;
  }

  EventBody make_leave(const ReferenceRouter& router) {
    LeaveQueue e;
    const int k = random_cluster();
    e.agent = agent_in(k);
    e.queue = queue_in(k);
    if (const std::optional<AgentView> v = router.agent(e.agent); v && !v->queues.empty() && rng_.chance(80)) {
      e.queue = rng_.pick(v->queues);  // sometimes the agent's last queue
    }
    ++counts_.leaves;
    return e;
  }

  EventBody make_join(const ReferenceRouter& router) {  // back into its own cluster's queues
    JoinQueue e;
    const int k = random_cluster();
    e.agent = agent_in(k);
    e.queue = queue_in(k);
    if (const std::optional<AgentView> v = router.agent(e.agent)) {
      std::vector<QueueId> missing;
      for (QueueId q : cc_.queues[static_cast<std::size_t>(k)]) {
        if (std::find(v->queues.begin(), v->queues.end(), q) == v->queues.end()) missing.push_back(q);
      }
      if (!missing.empty()) e.queue = rng_.pick(missing);
    }
    ++counts_.joins;
    return e;
  }

  Rng rng_;
  const ClusterConfig& cc_;
  Counts counts_;
  Ledger items_;
  Timestamp now_ = kStart;
  std::uint64_t sequence_ = 0;
  std::uint64_t next_item_ = 0;
};

// ---- the test ---------------------------------------------------------------------------------

struct SeedRun {
  ClusterConfig cc;
  std::vector<Event> events;
  std::vector<Decision> decisions;       // the reference's, in order
  std::vector<std::size_t> offsets;      // decisions of event i: [offsets[i], offsets[i + 1])
  std::vector<std::size_t> live_after;   // the reference's live items after event i
  StreamCounts counts;
};

struct BatchRun {
  int threads = 2;
  std::size_t min_events_per_task = 16;
};

std::string show_agent(const AgentView& v) {
  std::ostringstream s;
  s << v.id.to_string() << " presence=" << int(v.presence) << " units=" << v.capacity.units
    << " free=" << v.free_units << " profile_used=[";
  for (std::int32_t u : v.profile_used) s << u << " ";
  s << "] queues=[";
  for (QueueId q : v.queues) s << q << " ";
  s << "] items=[";
  for (const ExternalId& i : v.items) s << i.to_string() << " ";
  s << "] last_release=" << v.last_release;
  return s.str();
}

bool same_agent(const AgentView& a, const AgentView& b) {
  return a.id == b.id && a.presence == b.presence && a.capacity == b.capacity &&
         a.free_units == b.free_units && a.profile_used == b.profile_used && a.queues == b.queues &&
         a.items == b.items && a.last_release == b.last_release;
}

class KernelParallelBatches : public ::testing::TestWithParam<std::uint64_t> {
 protected:
  // Generates the stream closed-loop against the reference router and runs the sequential
  // kernel in lock step with it; stops at the first difference.
  void lock_step(std::uint64_t seed, SeedRun& run, ReferenceRouter& reference, Kernel& kernel,
                 ClusterStream& stream) {
    const std::size_t n = events_per_seed();
    run.events.reserve(n);
    run.offsets.reserve(n + 1);
    run.offsets.push_back(0);
    std::vector<Decision> ref_out, ker_out;
    for (std::size_t i = 0; i < n; ++i) {
      Event event = stream.next(reference);
      ref_out.clear();
      ker_out.clear();
      reference.apply(event, ref_out);
      kernel.apply(event, ker_out);
      if (const auto diff = first_difference(ref_out, 0, ker_out, 0, ref_out.size(), ker_out.size())) {
        const std::size_t history_from = run.decisions.size() > kHistory ? run.decisions.size() - kHistory : 0;
        FAIL() << "seed " << seed << ", event index " << i << " (Kernel::apply, threads 1): the kernel "
               << "decides differently from the reference" << event_difference(event, ref_out, ker_out, *diff)
               << "\n  last reference decisions before it:"
               << show(run.decisions, history_from, run.decisions.size())
               << "\n  the events before it:" << event_lines(run.events, i > kHistory ? i - kHistory : 0, i);
      }
      ASSERT_EQ(kernel.live_item_count(), reference.live_item_count())
          << "seed " << seed << ", event index " << i << ": live items differ after " << describe(event);
      if (i % 97 == 96) {
        const std::string problem = kernel.check_invariants();
        ASSERT_EQ(problem, "") << "seed " << seed << ", event index " << i
                               << ": kernel.check_invariants() (threads 1) after " << describe(event);
      }
      stream.observe(event, ref_out);
      count_decisions(event, ref_out, run.counts);
      run.decisions.insert(run.decisions.end(), ref_out.begin(), ref_out.end());
      run.offsets.push_back(run.decisions.size());
      run.live_after.push_back(reference.live_item_count());
      run.events.push_back(std::move(event));
    }
  }

  // The stream through apply_batch in random chunks of 1..kMaxChunk events.
  void batched(std::uint64_t seed, const SeedRun& run, const BatchRun& how, const ReferenceRouter& reference,
               const Kernel& sequential, const ClusterStream& stream, std::uint64_t& parallel_events,
               std::size_t& batches) {
    Result<Kernel> created = Kernel::create(
        run.cc.config, KernelOptions{.threads = how.threads, .min_events_per_task = how.min_events_per_task});
    ASSERT_TRUE(created.has_value()) << created.error().message;
    Kernel kernel = std::move(created).value();
    Rng chunks(seed * 31 + static_cast<std::uint64_t>(how.threads));
    std::vector<Decision> out;
    const std::span<const Event> events(run.events);
    const std::string label = "threads " + std::to_string(how.threads) + ", min_events_per_task " +
                              std::to_string(how.min_events_per_task);
    std::size_t start = 0;
    while (start < events.size()) {
      std::size_t want = 0;
      switch (chunks.below(10)) {
        case 0: want = 1 + chunks.below(8); break;
        case 1:
        case 2: want = 1 + chunks.below(128); break;
        default: want = 1 + chunks.below(kMaxChunk); break;
      }
      const std::size_t count = std::min(want, events.size() - start);
      out.clear();
      kernel.apply_batch(events.subspan(start, count), out);
      ++batches;
      const std::uint64_t on_lanes = kernel.parallel_events();
      parallel_events += on_lanes;
      const std::size_t from = run.offsets[start];
      const std::size_t expected = run.offsets[start + count] - from;
      if (const auto diff = first_difference(run.decisions, from, out, 0, expected, out.size())) {
        const std::size_t e = event_of_decision(run.offsets, start, count, from + *diff);
        FAIL() << "seed " << seed << ", event index " << e << " (apply_batch, " << label << ", chunk of "
               << count << " events from index " << start << ", " << on_lanes
               << " of them on parallel lanes): decisions differ from the reference and apply()"
               << batch_difference(run.events, run.decisions, run.offsets, start, e, out, *diff, kHistory);
      }
      const std::string problem = kernel.check_invariants();
      ASSERT_EQ(problem, "") << "seed " << seed << ", " << label << ": kernel.check_invariants() after "
                             << "apply_batch of events [" << start << ", " << start + count << ") ("
                             << on_lanes << " on parallel lanes)";
      ASSERT_EQ(kernel.live_item_count(), run.live_after[start + count - 1])
          << "seed " << seed << ", " << label << ": live items differ from the reference after "
          << "apply_batch of events [" << start << ", " << start + count << ")";
      start += count;
    }
    // The end state: item views as the reference's, agent views as the sequential kernel's.
    const std::string items = item_views_differ(stream.ledger(), reference, kernel);
    ASSERT_EQ(items, "") << "seed " << seed << ", " << label << ": item views at the end";
    for (const auto& [id, cluster] : run.cc.agent_cluster) {
      const std::optional<AgentView> s = sequential.agent(id);
      const std::optional<AgentView> b = kernel.agent(id);
      ASSERT_TRUE(s.has_value() && b.has_value()) << "seed " << seed << ": agent " << id.to_string();
      ASSERT_TRUE(same_agent(*s, *b)) << "seed " << seed << ", " << label
                                      << ": agent views differ at the end (cluster " << cluster << ")\n"
                                      << "  threads 1: " << show_agent(*s) << "\n  batched:   "
                                      << show_agent(*b);
    }
  }
};

TEST_P(KernelParallelBatches, BatchesOnLanesDecideAsTheReferenceAndTheSequentialKernel) {
  const std::uint64_t seed = GetParam();
  const auto started = std::chrono::steady_clock::now();
  SeedRun run;
  run.cc = cluster_config(seed);
  ReferenceRouter reference(run.cc.config);
  Result<Kernel> created = Kernel::create(run.cc.config, KernelOptions{});
  ASSERT_TRUE(created.has_value()) << "seed " << seed << ": Kernel::create refused the configuration: "
                                   << created.error().message;
  Kernel sequential = std::move(created).value();
  ClusterStream stream(seed, run.cc);
  lock_step(seed, run, reference, sequential, stream);
  if (HasFailure()) return;
  const auto stepped = std::chrono::steady_clock::now();

  const BatchRun runs[] = {{2, 16}, {4, 16}, {3, 4}};
  std::ostringstream fractions;
  std::vector<std::pair<std::string, double>> shares;
  for (const BatchRun& how : runs) {
    std::uint64_t parallel_events = 0;
    std::size_t batches = 0;
    const auto t0 = std::chrono::steady_clock::now();
    batched(seed, run, how, reference, sequential, stream, parallel_events, batches);
    if (HasFailure()) return;
    const double share = static_cast<double>(parallel_events) / static_cast<double>(run.events.size());
    const std::string label = "threads=" + std::to_string(how.threads) + "/min" +
                              std::to_string(how.min_events_per_task);
    shares.emplace_back(label, share);
    fractions << " " << label << ": " << parallel_events << " on lanes (" << static_cast<int>(share * 1000) / 10.0
              << "%) in " << batches << " batches, "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s;";
  }
  const auto finished = std::chrono::steady_clock::now();

  const StreamCounts& c = run.counts;
  auto count = [&](const std::string& key) { return c.decision(key); };
  std::ostringstream summary;
  summary << "seed " << seed << " (" << run.cc.clusters << " clusters" << (run.cc.timers ? ", timers" : "")
          << ", " << run.cc.config.queues.size() << " queues, " << run.cc.config.agents.size() << " agents, "
          << run.events.size() << " events, " << run.decisions.size() << " decisions, "
          << stream.counts().cross << " across clusters, " << stream.counts().invalid << " made invalid, "
          << stream.counts().leaves << " leaves, " << stream.counts().joins << " joins; lock step "
          << std::chrono::duration<double>(stepped - started).count() << " s, batches "
          << std::chrono::duration<double>(finished - stepped).count() << " s):" << fractions.str()
          << testing::summary(c);
  std::cout << "[ coverage ] " << summary.str() << "\n";
  SCOPED_TRACE(summary.str());

  // The parallel path was taken (otherwise agreement says nothing about it). The twelve seeds
  // of every run keep more than half their events on lanes (71..92% with min_events_per_task 16,
  // 93..98% with 4); a soak's extra seeds draw some configurations with less parallelism (a
  // 312-seed soak went down to 34%), so they only have to keep a quarter.
  const double min_share = seed <= kSeeds ? 0.5 : 0.25;
  for (const auto& [label, share] : shares) {
    EXPECT_GT(share, min_share) << "seed " << seed << ", " << label
                                << ": too few events ran on parallel lanes; segments are cut too often";
  }
  // The stream was rich.
  const std::uint64_t scale = run.events.size() / 1'000;  // per thousand events
  EXPECT_GT(count("offer/method") + count("offer/rule"), 20 * scale);
  EXPECT_GT(count("assigned/accepted"), 10 * scale);
  EXPECT_GT(count("completed"), 5 * scale);
  EXPECT_GT(count("requeued/declined"), scale);
  EXPECT_GT(count("assigned/manual") + count("assigned/pick"), scale);
  EXPECT_GT(count("cancelled"), scale);
  EXPECT_GT(count("transferred"), scale);
  EXPECT_GT(count("error"), 5 * scale);
  EXPECT_GT(stream.counts().cross, scale / 2);
}

INSTANTIATE_TEST_SUITE_P(Seeds, KernelParallelBatches,
                         ::testing::ValuesIn(seeds_with_soak(kSeeds, "SWITCHBOARD_PAR_SEEDS", 2'000)),
                         seed_name);

}  // namespace
}  // namespace switchboard::testing
