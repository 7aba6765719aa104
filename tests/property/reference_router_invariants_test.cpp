// Property test of the reference router: seeded random event streams over a random but valid
// configuration; after every event the invariants of ROUTING.md are checked.
//
//   I1, I2, I3  router.check_invariants() is empty; agent views never show negative capacity.
//   I3          a ledger built only from the decisions (what the host is told) has every accepted
//               item in exactly one state until completed or cancelled, every transition is legal
//               (R5), and the ledger equals router.item() / live_item_count() after every event.
//   I4          every offer goes to an agent whose presence the queue allows, who is a member of the
//               queue, who has every required skill at the minimum when the queue matches exactly,
//               who is working when the queue requires it, and whose declines of the item (counted
//               from `requeued` decisions) are below decline_limit.
//   refusals    every refused event produces exactly one error decision, with the error code the
//               test predicts from its own model, and changes nothing observable.
//   I5          the same configuration and stream give the same decisions (Decision::same_decision).
//
// Each step sends a Tick at the step's time first (timers fire and are checked there), then the
// step's event at the same time, so that "state before the event" is well defined.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "random_stream.hpp"
#include "router_harness.hpp"

namespace switchboard::testing {
namespace {

// Rng, agent_pool(), kCountries, random_skills(), random_capacity() and random_config() live in
// tests/support/random_stream.hpp (shared with the kernel's differential test).

// ---- the test's own model, built from what it sent and what it was told ----------------------

struct AgentModel {
  PresenceId presence = 0;
  std::vector<SkillLevel> skills;
  AgentCapacity capacity;
  bool working = true;
  std::vector<Shift> shifts;
  std::set<QueueId> queues;
};

struct ItemModel {
  ItemState state = ItemState::queued;
  QueueId queue = 0;
  std::optional<ExternalId> agent;
  std::vector<SkillRequirement> skills;
  std::optional<std::int32_t> units;
  std::optional<ExternalId> affinity;
  std::map<ExternalId, std::int32_t> declines;  // counted from `requeued` decisions
};

std::int32_t pmax(const AgentCapacity& c, ProfileId p) {
  return p < c.profile_max.size() ? c.profile_max[p] : 0;
}

bool working_at(const AgentModel& a, Timestamp t) {
  if (a.shifts.empty()) return a.working;
  return std::any_of(a.shifts.begin(), a.shifts.end(),
                     [&](const Shift& s) { return s.start <= t && t < s.end; });
}

struct Coverage {
  std::map<std::string, int> decisions;  // by kind (and decided_by / reason)
  std::map<std::string, int> errors;     // by code
  std::map<QueueId, int> offers_by_queue;
};

using Stream = std::vector<std::pair<Timestamp, EventBody>>;

// What the test expects of one generated event: refused with `error`, or accepted (then `apply`
// updates the test's model of agents and items, before the decisions are read).
struct Planned {
  EventBody body;
  std::optional<ErrorCode> error;
  std::function<void()> apply;
};

class Simulation {
 public:
  Simulation(std::uint64_t seed, Config config)
      : rng_(seed ^ 0xABCDEF), config_(config), harness_(std::move(config)) {
    for (const AgentSeed& seed_agent : config_.agents) {
      AgentModel a;
      a.presence = seed_agent.presence;
      a.skills = seed_agent.skills;
      a.capacity = seed_agent.capacity;
      a.working = seed_agent.working;
      a.shifts = seed_agent.shifts;
      a.queues.insert(seed_agent.queues.begin(), seed_agent.queues.end());
      agents_[seed_agent.id] = std::move(a);
    }
  }

  // Runs `steps` steps; stops at the first failure.
  void run(int steps) {
    check_router("initial state");
    for (int i = 0; i < steps && !::testing::Test::HasFailure(); ++i) step(i);
  }

  const Stream& stream() const { return stream_; }
  const std::vector<Decision>& decisions() const { return harness_.all(); }
  const Coverage& coverage() const { return coverage_; }

 private:
  // ---- one step ------------------------------------------------------------------------------

  void step(int index) {
    const Timestamp t = next_time();
    step_ = index;
    const std::vector<Decision> ticked = send(t, Tick{});
    process(ticked, "tick");
    check_router("after tick");
    if (::testing::Test::HasFailure()) return;

    const std::string before = snapshot();
    const std::size_t live_before = harness_.router().live_item_count();
    Planned plan = generate();
    const std::string what = std::string(event_type_name(plan.body));
    const std::vector<Decision> out = send(t, plan.body);
    if (plan.error) {
      ASSERT_EQ(out.size(), 1u) << at(what) << " expected exactly one error " << to_string(*plan.error)
                                << ", got" << describe(out);
      EXPECT_EQ(out[0].kind, DecisionKind::error) << at(what) << describe(out);
      EXPECT_EQ(out[0].error, *plan.error) << at(what) << describe(out);
      EXPECT_EQ(out[0].sequence, sequence_) << at(what);
      EXPECT_EQ(harness_.router().live_item_count(), live_before) << at(what);
      EXPECT_EQ(snapshot(), before) << at(what) << " a refused event changed the state";
      ++coverage_.errors[std::string(to_string(out[0].error))];
      note_time(out[0]);
    } else {
      for (const Decision& d : out) {
        ASSERT_NE(d.kind, DecisionKind::error) << at(what) << " expected acceptance:" << describe(out);
      }
      if (plan.apply) plan.apply();
      process(out, what);
    }
    check_router("after " + what);
  }

  std::string at(const std::string& what) {
    return "step " + std::to_string(step_) + " (" + what + ", t=" +
           std::to_string(harness_.router().now()) + "):";
  }

  std::vector<Decision> send(Timestamp t, EventBody body) {
    stream_.emplace_back(t, body);
    ++sequence_;  // the harness numbers events 1, 2, ...
    return harness_.send(t, std::move(body));
  }

  Timestamp next_time() {
    const Timestamp now = harness_.router().now() == kNever ? 1'000'000 : harness_.router().now();
    const std::uint64_t r = rng_.below(100);
    if (r < 2) return now - rng_.between(1, 5'000);  // older than the clock: applied at the clock
    if (r < 70) return now + rng_.between(0, 2'000);
    if (r < 93) return now + rng_.between(2'000, 30'000);
    return now + rng_.between(30'000, 400'000);
  }

  // ---- reading decisions into the ledger (I3, I4, R5) ------------------------------------------

  void note_time(const Decision& d) {
    EXPECT_GE(d.time, last_time_) << "decision times went back: " << describe(d);
    last_time_ = d.time;
  }

  void process(const std::vector<Decision>& out, const std::string& what) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      const Decision& d = out[i];
      note_time(d);
      std::string key(to_string(d.kind));
      if (d.kind == DecisionKind::offer || d.kind == DecisionKind::assigned) {
        key += "/" + std::string(to_string(d.decided_by));
      }
      if (d.kind == DecisionKind::requeued) key += "/" + std::string(to_string(d.reason));
      ++coverage_.decisions[key];
      if (d.kind == DecisionKind::error) {
        ADD_FAILURE() << at(what) << " unexpected error among decisions:" << describe(out);
        return;
      }
      const auto it = items_.find(d.item);
      if (it == items_.end()) {
        ADD_FAILURE() << at(what) << " decision about an item the host does not know: " << describe(d);
        return;
      }
      ItemModel& m = it->second;
      switch (d.kind) {
        case DecisionKind::offer:
          EXPECT_EQ(m.state, ItemState::queued) << at(what) << " offer of a non-queued item: " << describe(d);
          EXPECT_EQ(d.queue, m.queue) << at(what) << describe(d);
          check_offer(d, m, what);
          ++coverage_.offers_by_queue[d.queue];
          m.state = ItemState::offered;
          m.agent = d.agent;
          break;
        case DecisionKind::assigned:
          if (d.decided_by == DecidedBy::accepted) {
            EXPECT_EQ(m.state, ItemState::offered) << at(what) << describe(d);
            EXPECT_EQ(m.agent, d.agent) << at(what) << describe(d);
          } else {
            EXPECT_TRUE(d.decided_by == DecidedBy::manual || d.decided_by == DecidedBy::pick)
                << at(what) << describe(d);
            EXPECT_TRUE(m.state == ItemState::queued || m.state == ItemState::parked)
                << at(what) << describe(d);
          }
          m.state = ItemState::assigned;
          m.agent = d.agent;
          break;
        case DecisionKind::requeued: {
          EXPECT_EQ(m.state, ItemState::offered) << at(what) << describe(d);
          EXPECT_EQ(m.agent, d.agent) << at(what) << describe(d);
          EXPECT_NE(d.reason, RequeueReason::none) << at(what) << describe(d);
          ++m.declines[d.agent.value()];
          m.state = ItemState::queued;
          m.agent.reset();
          // R14: `parked` follows exactly when the distinct decliners reach the threshold.
          const bool park = static_cast<std::int32_t>(m.declines.size()) >= config_.park_after_decliners;
          const bool parked_next = i + 1 < out.size() && out[i + 1].kind == DecisionKind::parked &&
                                   out[i + 1].item == d.item;
          EXPECT_EQ(parked_next, park) << at(what) << " after " << describe(d) << " with "
                                       << m.declines.size() << " distinct decliners:" << describe(out);
          break;
        }
        case DecisionKind::parked:
          EXPECT_EQ(m.state, ItemState::queued) << at(what) << describe(d);
          EXPECT_GE(static_cast<std::int32_t>(m.declines.size()), config_.park_after_decliners);
          m.state = ItemState::parked;
          break;
        case DecisionKind::cancelled:
          EXPECT_NE(m.state, ItemState::assigned) << at(what) << describe(d);
          items_.erase(it);
          break;
        case DecisionKind::completed:
          EXPECT_EQ(m.state, ItemState::assigned) << at(what) << describe(d);
          EXPECT_EQ(m.agent, d.agent) << at(what) << describe(d);
          items_.erase(it);
          break;
        case DecisionKind::transferred:
          EXPECT_NE(m.state, ItemState::assigned) << at(what) << describe(d);
          EXPECT_EQ(d.from_queue, m.queue) << at(what) << describe(d);
          EXPECT_NE(d.queue, m.queue) << at(what) << describe(d);
          m.queue = d.queue;
          m.state = ItemState::queued;
          m.agent.reset();
          break;
        case DecisionKind::error: break;
      }
    }
  }

  // I4 (and the rest of R9's eligibility) for one offer, at the moment it was made.
  void check_offer(const Decision& d, const ItemModel& m, const std::string& what) {
    const auto a = agents_.find(d.agent.value());
    ASSERT_NE(a, agents_.end()) << at(what) << " offer to an unknown agent: " << describe(d);
    const AgentModel& agent = a->second;
    const QueueConfig& queue = config_.queues[d.queue];
    const std::vector<PresenceId>& allowed = queue.allowed_presences.empty()
                                                 ? config_.channels[queue.channel].allowed_presences
                                                 : queue.allowed_presences;
    const std::optional<AgentView> view = harness_.router().agent(*d.agent);
    ASSERT_TRUE(view.has_value()) << at(what) << describe(d);
    EXPECT_EQ(view->presence, agent.presence) << at(what) << describe(d);
    EXPECT_NE(std::find(allowed.begin(), allowed.end(), view->presence), allowed.end())
        << at(what) << " I4: offer in a presence the queue does not allow (" << int(view->presence)
        << "): " << describe(d);
    EXPECT_TRUE(agent.queues.count(d.queue)) << at(what) << " offer to a non-member: " << describe(d);
    if (queue.skill_matching == SkillMatching::exact) {
      for (const SkillRequirement& r : m.skills) {
        const auto s = std::find_if(agent.skills.begin(), agent.skills.end(),
                                    [&](const SkillLevel& l) { return l.skill == r.skill; });
        EXPECT_TRUE(s != agent.skills.end() && s->proficiency >= r.min_proficiency)
            << at(what) << " I4: offer without skill s" << r.skill << " >= " << r.min_proficiency
            << ": " << describe(d);
      }
    }
    const auto declined = m.declines.find(*d.agent);
    const std::int32_t n = declined == m.declines.end() ? 0 : declined->second;
    EXPECT_LT(n, config_.decline_limit) << at(what) << " I4: offer past the decline limit: " << describe(d);
    if (queue.requires_working) {
      EXPECT_TRUE(working_at(agent, d.time)) << at(what) << " offer to an agent not working: " << describe(d);
    }
    if (d.decided_by == DecidedBy::affinity) {
      EXPECT_EQ(m.affinity, d.agent) << at(what) << describe(d);
      EXPECT_EQ(n, 0) << at(what) << " affinity offer to an agent who declined: " << describe(d);
    }
  }

  // ---- comparing the ledger and the model with the router ----------------------------------------

  void check_router(const std::string& what) {
    const ReferenceRouter& router = harness_.router();
    const std::string problem = router.check_invariants();
    ASSERT_EQ(problem, "") << at(what);
    ASSERT_EQ(router.live_item_count(), items_.size()) << at(what) << " I3: live items differ";
    std::map<ExternalId, std::set<ExternalId>> held;  // agent -> offered/assigned items (ledger)
    for (const auto& [id, m] : items_) {
      const std::optional<ItemView> v = router.item(id);
      ASSERT_TRUE(v.has_value()) << at(what) << " I3: item " << id.to_string() << " lost";
      EXPECT_EQ(v->state, m.state) << at(what) << " item " << id.to_string();
      EXPECT_EQ(v->queue, m.queue) << at(what) << " item " << id.to_string();
      EXPECT_EQ(v->agent, m.agent) << at(what) << " item " << id.to_string();
      EXPECT_EQ(v->declines, m.declines) << at(what) << " item " << id.to_string();
      if (m.agent) held[*m.agent].insert(id);
    }
    std::vector<ExternalId> ids;
    for (const auto& [id, a] : agents_) ids.push_back(id);
    ASSERT_EQ(router.agent_ids(), ids) << at(what);
    for (const auto& [id, a] : agents_) {
      const AgentView v = *router.agent(id);
      EXPECT_EQ(v.presence, a.presence) << at(what) << " agent " << id.to_string();
      EXPECT_EQ(v.capacity, a.capacity) << at(what) << " agent " << id.to_string();
      EXPECT_EQ(std::set<QueueId>(v.queues.begin(), v.queues.end()), a.queues)
          << at(what) << " agent " << id.to_string();
      EXPECT_EQ(std::set<ExternalId>(v.items.begin(), v.items.end()), held[id])
          << at(what) << " agent " << id.to_string();
      EXPECT_GE(v.free_units, 0) << at(what) << " I1 agent " << id.to_string();
      for (ProfileId p = 0; p < v.profile_used.size(); ++p) {
        EXPECT_LE(v.profile_used[p], pmax(v.capacity, p)) << at(what) << " I1 agent " << id.to_string();
      }
    }
  }

  std::string snapshot() {
    const ReferenceRouter& router = harness_.router();
    std::ostringstream s;
    s << "now=" << router.now() << " live=" << router.live_item_count() << "\n";
    for (const ExternalId& id : router.agent_ids()) {
      const AgentView a = *router.agent(id);
      s << id.to_string() << " p=" << int(a.presence) << " u=" << a.capacity.units << " f=" << a.free_units
        << " pm=";
      for (auto x : a.capacity.profile_max) s << x << ",";
      s << " used=";
      for (auto x : a.profile_used) s << x << ",";
      s << " q=";
      for (auto q : a.queues) s << q << ",";
      s << " i=";
      for (const auto& i : a.items) s << i.to_string() << ",";
      s << " lr=" << a.last_release << "\n";
    }
    for (const auto& [id, m] : items_) {
      const std::optional<ItemView> v = router.item(id);
      if (!v) continue;
      s << id.to_string() << " " << to_string(v->state) << " q=" << v->queue
        << " a=" << (v->agent ? v->agent->to_string() : "-") << " d=";
      for (const auto& [agent, n] : v->declines) s << agent.to_string() << ":" << n << ",";
      s << "\n";
    }
    for (QueueId q = 0; q < router.config().queues.size(); ++q) {
      s << "Q" << q << ":";
      for (const ExternalId& i : router.queue_order(q)) s << " " << i.to_string();
      s << "\n";
    }
    return s.str();
  }

  // ---- choosing events ---------------------------------------------------------------------------

  std::vector<ExternalId> items_in(std::initializer_list<ItemState> states) const {
    return testing::items_in(items_, states);
  }
  std::vector<ExternalId> live_items() const {
    return items_in({ItemState::queued, ItemState::offered, ItemState::assigned, ItemState::parked});
  }
  std::vector<ExternalId> known_agents() const {
    std::vector<ExternalId> out;
    for (const auto& [id, a] : agents_) out.push_back(id);
    return out;
  }
  ExternalId some_agent() {
    const std::vector<ExternalId> known = known_agents();
    if (!known.empty() && rng_.chance(95)) return rng_.pick(known);
    return unknown_agent(rng_);
  }

  Planned generate() {
    const std::size_t live = items_.size();
    const bool has_offered = !items_in({ItemState::offered}).empty();
    const bool has_assigned = !items_in({ItemState::assigned}).empty();
    struct Choice {
      int weight;
      Planned (Simulation::*make)();
    };
    const std::vector<Choice> choices = {
        {live > 60 ? 3 : 15, &Simulation::make_arrive},
        {has_offered ? 16 : 1, &Simulation::make_accept},
        {has_offered ? 5 : 1, &Simulation::make_decline},
        {has_offered ? 2 : 1, &Simulation::make_timeout},
        {has_assigned ? 13 : 1, &Simulation::make_complete},
        {3, &Simulation::make_cancel},
        {3, &Simulation::make_transfer},
        {3, &Simulation::make_update},
        {3, &Simulation::make_manual},
        {3, &Simulation::make_pick},
        {8, &Simulation::make_presence},
        {3, &Simulation::make_capacity},
        {4, &Simulation::make_upsert},
        {1, &Simulation::make_remove},
        {3, &Simulation::make_join},
        {2, &Simulation::make_leave},
        {2, &Simulation::make_tick},
    };
    return (this->*choices[pick_weighted(rng_, choices)].make)();
  }

  Attributes random_item_attributes() {
    Attributes a;
    if (rng_.chance(60)) a["priority"] = AttrValue{std::string(rng_.chance(40) ? "High" : "Low")};
    if (rng_.chance(50)) a["category"] = AttrValue{std::string(rng_.chance(40) ? "Premium" : "Standard")};
    if (rng_.chance(50)) a["first_response_by"] = AttrValue{static_cast<std::int64_t>(rng_.below(1'000'000))};
    if (rng_.chance(50)) a["score"] = AttrValue{static_cast<std::int64_t>(rng_.below(100))};
    if (rng_.chance(60)) a["country"] = AttrValue{rng_.pick(kCountries)};
    return a;
  }

  Planned make_arrive() {
    ItemArrive e;
    e.queue = static_cast<QueueId>(rng_.below(config_.queues.size()));
    e.attributes = random_item_attributes();
    e.skills = random_requirements(rng_);
    if (rng_.chance(20)) e.units = static_cast<std::int32_t>(rng_.between(1, 2));
    if (rng_.chance(25)) e.affinity_agent = rng_.pick(agent_pool());
    const Timestamp now = harness_.router().now() == kNever ? 1'000'000 : harness_.router().now();
    if (rng_.chance(20)) e.created = now - rng_.between(0, 100'000);
    if (rng_.chance(20)) e.last_message = now - rng_.between(0, 50'000);

    Planned p;
    const int fault = rng_.chance(12) ? static_cast<int>(rng_.below(6)) : -1;
    const std::vector<ExternalId> live = live_items();
    switch (fault) {
      case 0:
        e.queue = static_cast<QueueId>(config_.queues.size() + rng_.below(3));
        p.error = ErrorCode::unknown_queue;
        break;
      case 1:
        if (!live.empty()) {
          e.item = rng_.pick(live);
          p.error = ErrorCode::duplicate_item;
        }
        break;
      case 2:
        e.skills.push_back(SkillRequirement{static_cast<SkillId>(10 + rng_.below(200)), -1});
        p.error = ErrorCode::unknown_skill;
        break;
      case 3:
        e.skills.push_back(SkillRequirement{7, -2 - static_cast<std::int32_t>(rng_.below(5))});
        p.error = ErrorCode::invalid_value;
        break;
      case 4:
        e.skills.push_back(SkillRequirement{8, 1});
        e.skills.push_back(SkillRequirement{8, 2});
        p.error = ErrorCode::invalid_value;
        break;
      case 5:
        e.units = -static_cast<std::int32_t>(rng_.below(2));
        p.error = ErrorCode::invalid_value;
        break;
      default: break;
    }
    if (!p.error) {
      e.item = fresh_item(next_item_);
      ItemModel m;
      m.queue = e.queue;
      m.skills = e.skills;
      m.units = e.units;
      m.affinity = e.affinity_agent;
      p.apply = [this, id = e.item, m] { items_[id] = m; };
    } else if (fault != 1) {
      e.item = fresh_item(next_item_);
    }
    p.body = e;
    return p;
  }

  // accept / decline / timeout share their checks (check_offer in the router).
  template <typename E>
  Planned make_offer_answer() {
    E e;
    Planned p;
    const std::vector<ExternalId> offered = items_in({ItemState::offered});
    const std::uint64_t r = rng_.below(100);
    if (!offered.empty() && r < 85) {
      e.item = rng_.pick(offered);
      e.agent = *items_.at(e.item).agent;
    } else if (!offered.empty() && r < 90 && agents_.size() > 1) {
      e.item = rng_.pick(offered);
      do { e.agent = rng_.pick(known_agents()); } while (e.agent == *items_.at(e.item).agent);
      p.error = ErrorCode::offer_agent_mismatch;
    } else if (!offered.empty() && r < 93) {
      e.item = rng_.pick(offered);
      e.agent = unknown_agent(rng_);
      p.error = ErrorCode::unknown_agent;
    } else {
      const std::vector<ExternalId> others =
          items_in({ItemState::queued, ItemState::assigned, ItemState::parked});
      if (!others.empty() && !agents_.empty() && rng_.chance(60)) {
        e.item = rng_.pick(others);
        e.agent = rng_.pick(known_agents());
        p.error = ErrorCode::item_not_offered;
      } else {
        e.item = unknown_item(rng_);
        e.agent = some_agent();
        p.error = ErrorCode::unknown_item;
      }
    }
    p.body = e;
    return p;
  }
  Planned make_accept() { return make_offer_answer<OfferAccept>(); }
  Planned make_decline() { return make_offer_answer<OfferDecline>(); }
  Planned make_timeout() { return make_offer_answer<OfferTimeout>(); }

  Planned make_complete() {
    ItemComplete e;
    Planned p;
    const std::vector<ExternalId> assigned = items_in({ItemState::assigned});
    const std::vector<ExternalId> live = live_items();
    if (!assigned.empty() && rng_.chance(85)) {
      e.item = rng_.pick(assigned);
    } else if (!live.empty() && rng_.chance(70)) {
      e.item = rng_.pick(live);
      if (items_.at(e.item).state != ItemState::assigned) p.error = ErrorCode::item_not_assigned;
    } else {
      e.item = unknown_item(rng_);
      p.error = ErrorCode::unknown_item;
    }
    p.body = e;
    return p;
  }

  Planned make_cancel() {
    ItemCancel e;
    Planned p;
    const std::vector<ExternalId> live = live_items();
    if (!live.empty() && rng_.chance(90)) {
      e.item = rng_.pick(live);
      if (items_.at(e.item).state == ItemState::assigned) p.error = ErrorCode::item_not_queued;
    } else {
      e.item = unknown_item(rng_);
      p.error = ErrorCode::unknown_item;
    }
    p.body = e;
    return p;
  }

  Planned make_transfer() {
    ItemTransfer e;
    Planned p;
    const std::vector<ExternalId> live = live_items();
    e.queue = static_cast<QueueId>(rng_.below(config_.queues.size()));
    if (!live.empty() && rng_.chance(90)) {
      e.item = rng_.pick(live);
      const ItemModel& m = items_.at(e.item);
      if (rng_.chance(5)) {
        e.queue = static_cast<QueueId>(config_.queues.size() + 1);
        p.error = ErrorCode::unknown_queue;
      } else if (m.state == ItemState::assigned) {
        p.error = ErrorCode::item_not_queued;
      } else if (m.queue == e.queue) {
        p.error = ErrorCode::same_queue;
      }
    } else {
      e.item = unknown_item(rng_);
      p.error = ErrorCode::unknown_item;
    }
    p.body = e;
    return p;
  }

  Planned make_update() {
    ItemUpdate e;
    Planned p;
    const std::vector<ExternalId> live = live_items();
    if (!live.empty() && rng_.chance(90)) {
      e.item = rng_.pick(live);
    } else {
      e.item = unknown_item(rng_);
      p.error = ErrorCode::unknown_item;
    }
    e.attributes = random_item_attributes();
    if (rng_.chance(30)) e.attributes["priority"] = AttrValue{};  // removes it
    if (rng_.chance(20)) {
      const Timestamp now = harness_.router().now();
      e.last_message = now - rng_.between(0, 20'000);
    }
    p.body = e;
    return p;
  }

  // Manual assignment and pick (R15): the test predicts the outcome from its own model and the
  // router's capacity view (which counts wrap-up).
  std::optional<ErrorCode> predict_by_hand(const ExternalId& item, const ExternalId& agent, bool pick) {
    const auto m = items_.find(item);
    if (m == items_.end()) return ErrorCode::unknown_item;
    const auto a = agents_.find(agent);
    if (a == agents_.end()) return ErrorCode::unknown_agent;
    if (m->second.state == ItemState::offered || m->second.state == ItemState::assigned) {
      return ErrorCode::item_not_queued;
    }
    if (pick && !a->second.queues.count(m->second.queue)) return ErrorCode::not_a_member;
    const ChannelConfig& channel = config_.channels[config_.queues[m->second.queue].channel];
    const AgentView v = *harness_.router().agent(agent);
    if (channel.capacity_model == CapacityModel::units) {
      if (v.free_units < m->second.units.value_or(channel.units_per_item)) {
        return ErrorCode::insufficient_capacity;
      }
    } else if (pmax(v.capacity, channel.profile) - v.profile_used[channel.profile] < 1) {
      return ErrorCode::insufficient_capacity;
    }
    return std::nullopt;
  }

  template <typename E>
  Planned make_by_hand(bool pick) {
    E e;
    const std::vector<ExternalId> waiting = items_in({ItemState::queued, ItemState::parked});
    const std::vector<ExternalId> live = live_items();
    if (!waiting.empty() && rng_.chance(75)) {
      e.item = rng_.pick(waiting);
    } else if (!live.empty() && rng_.chance(80)) {
      e.item = rng_.pick(live);
    } else {
      e.item = unknown_item(rng_);
    }
    e.agent = some_agent();
    if (pick && items_.count(e.item) && rng_.chance(70)) {  // mostly a member of the item's queue
      std::vector<ExternalId> members;
      for (const auto& [id, a] : agents_) {
        if (a.queues.count(items_.at(e.item).queue)) members.push_back(id);
      }
      if (!members.empty()) e.agent = rng_.pick(members);
    }
    Planned p;
    p.error = predict_by_hand(e.item, e.agent, pick);
    p.body = e;
    return p;
  }
  Planned make_manual() { return make_by_hand<ManualAssign>(false); }
  Planned make_pick() { return make_by_hand<AgentPick>(true); }

  PresenceId random_presence() {
    return rng_.chance(50) ? kAvailable : static_cast<PresenceId>(rng_.below(config_.presences.size()));
  }

  Planned make_presence() {
    PresenceChange e;
    Planned p;
    e.agent = some_agent();
    e.presence = random_presence();
    if (!agents_.count(e.agent)) {
      p.error = ErrorCode::unknown_agent;
    } else if (rng_.chance(5)) {
      e.presence = static_cast<PresenceId>(config_.presences.size() + rng_.below(10));
      p.error = ErrorCode::unknown_presence;
    } else {
      p.apply = [this, e] { agents_.at(e.agent).presence = e.presence; };
    }
    p.body = e;
    return p;
  }

  // The checks of a capacity (check_capacity, then check_not_below_load for an existing agent).
  std::optional<ErrorCode> predict_capacity(const ExternalId& agent, const AgentCapacity& c) {
    if (c.units < 0) return ErrorCode::invalid_value;
    if (c.profile_max.size() > config_.profiles.size()) return ErrorCode::unknown_profile;
    for (std::int32_t m : c.profile_max) {
      if (m < 0) return ErrorCode::invalid_value;
    }
    const std::optional<AgentView> v = harness_.router().agent(agent);
    if (!v) return std::nullopt;
    if (c.units < v->capacity.units - v->free_units) return ErrorCode::capacity_below_load;
    for (ProfileId p = 0; p < config_.profiles.size(); ++p) {
      if (pmax(c, p) < v->profile_used[p]) return ErrorCode::capacity_below_load;
    }
    return std::nullopt;
  }

  AgentCapacity maybe_bad_capacity() {
    AgentCapacity c = random_capacity(rng_);
    switch (rng_.chance(8) ? rng_.below(3) : 9) {
      case 0: c.units = -1; break;
      case 1: c.profile_max = {1, 1, 1}; break;
      case 2: c.profile_max = {-1, 0}; break;
      default: break;
    }
    return c;
  }

  Planned make_capacity() {
    CapacityChange e;
    Planned p;
    e.agent = some_agent();
    e.capacity = maybe_bad_capacity();
    if (!agents_.count(e.agent)) {
      p.error = ErrorCode::unknown_agent;
    } else {
      p.error = predict_capacity(e.agent, e.capacity);
      if (!p.error) p.apply = [this, e] { agents_.at(e.agent).capacity = e.capacity; };
    }
    p.body = e;
    return p;
  }

  Planned make_upsert() {
    AgentUpsert e;
    e.agent = rng_.pick(agent_pool());
    if (rng_.chance(60)) e.presence = random_presence();
    if (rng_.chance(50)) e.skills = random_skills(rng_);
    if (rng_.chance(50) || !agents_.count(e.agent)) e.capacity = random_capacity(rng_);
    if (rng_.chance(30)) e.attributes = Attributes{{"country", AttrValue{rng_.pick(kCountries)}}};
    if (rng_.chance(30)) e.working = rng_.chance(70);
    if (rng_.chance(20)) {
      const Timestamp now = harness_.router().now();
      std::vector<Shift> shifts;
      if (rng_.chance(80)) {
        const Timestamp start = now + rng_.between(-600'000, 600'000);
        shifts.push_back(Shift{start, start + rng_.between(1, 3'600'000)});
      }
      e.shifts = shifts;
    }
    Planned p;
    switch (rng_.chance(10) ? rng_.below(5) : 9) {
      case 0: e.presence = static_cast<PresenceId>(config_.presences.size() + 3); p.error = ErrorCode::unknown_presence; break;
      case 1: e.skills = std::vector<SkillLevel>{SkillLevel{static_cast<SkillId>(40), 1}}; p.error = ErrorCode::unknown_skill; break;
      case 2: e.skills = std::vector<SkillLevel>{SkillLevel{2, -1}}; p.error = ErrorCode::invalid_value; break;
      case 3: e.skills = std::vector<SkillLevel>{SkillLevel{2, 1}, SkillLevel{2, 3}}; p.error = ErrorCode::invalid_value; break;
      case 4: e.shifts = std::vector<Shift>{Shift{5'000, 5'000}}; p.error = ErrorCode::invalid_value; break;
      default: break;
    }
    if (!p.error && e.capacity) {
      p.error = predict_capacity(e.agent, *e.capacity);  // capacity after presence/skills checks
    }
    if (!p.error) {
      p.apply = [this, e] {
        auto it = agents_.find(e.agent);
        if (it == agents_.end()) {
          AgentModel fresh;  // a new agent: offline, no skills, no capacity, working, no queues
          fresh.presence = config_.offline();
          it = agents_.emplace(e.agent, std::move(fresh)).first;
        }
        AgentModel& a = it->second;
        if (e.presence) a.presence = *e.presence;
        if (e.skills) a.skills = *e.skills;
        if (e.capacity) a.capacity = *e.capacity;
        if (e.working) a.working = *e.working;
        if (e.shifts) a.shifts = *e.shifts;
      };
    }
    p.body = e;
    return p;
  }

  Planned make_remove() {
    AgentRemove e;
    Planned p;
    e.agent = some_agent();
    if (!agents_.count(e.agent)) {
      p.error = ErrorCode::unknown_agent;
    } else {
      const bool has_work = std::any_of(items_.begin(), items_.end(), [&](const auto& entry) {
        return entry.second.agent == std::optional<ExternalId>(e.agent);
      });
      if (has_work) {
        p.error = ErrorCode::agent_has_work;
      } else {
        p.apply = [this, e] { agents_.erase(e.agent); };
      }
    }
    p.body = e;
    return p;
  }

  Planned make_join() {
    JoinQueue e;
    Planned p;
    e.agent = some_agent();
    e.queue = static_cast<QueueId>(rng_.below(config_.queues.size() + (rng_.chance(5) ? 3 : 0)));
    if (!agents_.count(e.agent)) {
      p.error = ErrorCode::unknown_agent;
    } else if (e.queue >= config_.queues.size()) {
      p.error = ErrorCode::unknown_queue;
    } else if (agents_.at(e.agent).queues.count(e.queue)) {
      p.error = ErrorCode::already_member;
    } else {
      p.apply = [this, e] { agents_.at(e.agent).queues.insert(e.queue); };
    }
    p.body = e;
    return p;
  }

  Planned make_leave() {
    LeaveQueue e;
    Planned p;
    e.agent = some_agent();
    e.queue = static_cast<QueueId>(rng_.below(config_.queues.size() + (rng_.chance(5) ? 3 : 0)));
    if (const auto a = agents_.find(e.agent); a != agents_.end() && !a->second.queues.empty() &&
                                              rng_.chance(70)) {
      e.queue = *std::next(a->second.queues.begin(),
                           static_cast<std::ptrdiff_t>(rng_.below(a->second.queues.size())));
    }
    if (!agents_.count(e.agent)) {
      p.error = ErrorCode::unknown_agent;
    } else if (e.queue >= config_.queues.size()) {
      p.error = ErrorCode::unknown_queue;
    } else if (!agents_.at(e.agent).queues.count(e.queue)) {
      p.error = ErrorCode::not_a_member;
    } else {
      p.apply = [this, e] { agents_.at(e.agent).queues.erase(e.queue); };
    }
    p.body = e;
    return p;
  }

  Planned make_tick() {
    Planned p;
    p.body = Tick{};
    return p;
  }

  Rng rng_;
  Config config_;
  RouterHarness harness_;
  std::map<ExternalId, AgentModel> agents_;
  std::map<ExternalId, ItemModel> items_;
  Stream stream_;
  std::uint64_t sequence_ = 0;
  std::uint64_t next_item_ = 0;
  Timestamp last_time_ = kNever;
  int step_ = 0;
  Coverage coverage_;
};

std::vector<Decision> replay(const Config& config, const Stream& stream) {
  RouterHarness h(config);
  for (const auto& [t, body] : stream) h.send(t, body);
  return h.all();
}

constexpr int kSteps = 2'000;

class ReferenceRouterInvariants : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(ReferenceRouterInvariants, I1ToI4HoldAfterEveryEventOfARandomStreamAndI5ReplayIsIdentical) {
  const auto started = std::chrono::steady_clock::now();
  Rng config_rng(GetParam());
  const Config config = random_config(config_rng);
  Simulation sim(GetParam(), config);
  sim.run(kSteps);
  if (HasFailure()) return;

  // The stream really exercised the router (otherwise the properties above say little).
  const Coverage& c = sim.coverage();
  auto count = [&](const std::string& key) {
    const auto it = c.decisions.find(key);
    return it == c.decisions.end() ? 0 : it->second;
  };
  std::ostringstream summary;
  for (const auto& [k, n] : c.decisions) summary << " " << k << "=" << n;
  summary << " |";
  for (const auto& [k, n] : c.errors) summary << " " << k << "=" << n;
  summary << " | offers by queue:";
  for (const auto& [q, n] : c.offers_by_queue) summary << " " << q << "=" << n;
  SCOPED_TRACE(summary.str());
  std::cout << "[ coverage ] seed " << GetParam() << ":" << summary.str() << "\n";
  EXPECT_GT(count("offer/method"), 50);
  EXPECT_GT(count("assigned/accepted"), 50);
  EXPECT_GT(count("completed"), 30);
  EXPECT_GT(count("requeued/declined"), 10);
  EXPECT_GT(count("requeued/timed_out"), 5);
  EXPECT_GT(count("assigned/manual") + count("assigned/pick"), 5);
  EXPECT_GT(count("cancelled"), 5);
  EXPECT_GT(count("transferred"), 5);
  EXPECT_GE(c.errors.size(), 12u);
  EXPECT_GE(c.offers_by_queue.size(), 5u);

  // I5: the same configuration and stream decide the same.
  const std::vector<Decision> again = replay(config, sim.stream());
  ASSERT_EQ(again.size(), sim.decisions().size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    ASSERT_TRUE(again[i].same_decision(sim.decisions()[i]))
        << "decision " << i << ": first run " << describe(sim.decisions()[i]) << ", replay "
        << describe(again[i]);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  RecordProperty("seconds", std::to_string(seconds));
  RecordProperty("decisions", static_cast<int>(again.size()));
}

INSTANTIATE_TEST_SUITE_P(Seeds, ReferenceRouterInvariants,
                         ::testing::Values(1u, 2u, 3u, 42u, 2024u, 77777u),
                         [](const ::testing::TestParamInfo<std::uint64_t>& param_info) {
                           return "seed" + std::to_string(param_info.param);
                         });

TEST(ReferenceRouterInvariantsCoverage, ParkingHappensInSomeStream) {
  // Parking needs several distinct decliners; make sure the property test reaches it at all with
  // a configuration that parks after 2.
  Rng config_rng(5);
  Config config = random_config(config_rng);
  config.park_after_decliners = 2;
  Simulation sim(5, config);
  sim.run(kSteps);
  if (HasFailure()) return;
  const auto it = sim.coverage().decisions.find("parked");
  EXPECT_TRUE(it != sim.coverage().decisions.end() && it->second > 0);
}

}  // namespace
}  // namespace switchboard::testing
