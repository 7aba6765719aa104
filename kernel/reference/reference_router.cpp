// The reference router (reference_router.hpp): every rule of ROUTING.md in the plainest code
// that is right. Each step names the rule it realizes; docs/semantics.md maps rules to code.
//
// Shape: apply(event) = advance the clock (fire due timers, each followed by its cycle), then
// validate the event (a refused event changes nothing), then mutate, then run one assignment
// cycle over the queues the event triggered (R11). Everything is ordered containers scanned in
// full: O(agents + items) per step, which is the point of a reference.

#include "switchboard/reference_router.hpp"
#include "switchboard/event_checks.hpp"
#include "switchboard/ranking.hpp"

#include <algorithm>
#include <numeric>
#include <sstream>
#include <tuple>

namespace switchboard {

namespace {

struct Membership {
  Timestamp joined = 0;
  Timestamp last_assignment = kNever;  // R9 round robin: last offer or assignment from the queue
};

// Capacity an agent holds for one item (R6): from the offer until release; during wrap-up the
// item is gone but the hold stays until release_at.
struct Hold {
  ExternalId item;
  ChannelId channel = 0;
  CapacityModel model = CapacityModel::units;
  std::int32_t units = 0;
  ProfileId profile = 0;
  Timestamp release_at = kNever;  // != kNever: in wrap-up, released at that time
  [[nodiscard]] bool in_wrap_up() const noexcept { return release_at != kNever; }
};

struct Agent {
  ExternalId id;
  PresenceId presence = 0;
  std::vector<SkillLevel> skills;
  AgentCapacity capacity;
  Attributes attributes;
  bool working = true;
  std::vector<Shift> shifts;
  std::map<QueueId, Membership> queues;
  Timestamp last_release = 0;  // R9 least active; starts at the agent's creation
  std::vector<Hold> holds;
};

struct Item {
  ExternalId id;
  std::uint64_t seq = 0;  // arrival order: the last FIFO tie-break
  QueueId queue = 0;
  Timestamp created = 0;
  Timestamp last_message = 0;
  Attributes attributes;
  std::vector<SkillRequirement> skills;
  std::optional<std::int32_t> units;
  std::optional<ExternalId> affinity;
  ItemState state = ItemState::queued;
  std::optional<ExternalId> agent;
  Timestamp offered_at = 0;
  std::map<ExternalId, std::int32_t> declines;  // R14: per agent
};

// What an item needs of an agent's capacity in a channel (R6).
struct Need {
  CapacityModel model = CapacityModel::units;
  std::int32_t units = 0;
  ProfileId profile = 0;
};

std::int32_t skill_proficiency(const Agent& agent, SkillId skill) {
  for (const SkillLevel& level : agent.skills) {
    if (level.skill == skill) return level.proficiency;
  }
  return -1;
}

// R10 exact match: every required skill at (at least) the required proficiency.
bool exact_match(const Agent& agent, const Item& item) {
  return std::all_of(item.skills.begin(), item.skills.end(), [&](const SkillRequirement& r) {
    const std::int32_t p = skill_proficiency(agent, r.skill);
    return p >= 0 && p >= r.min_proficiency;
  });
}

// R10 closest match score (ranking.hpp).
Closeness closeness(const Agent& agent, const Item& item) {
  return switchboard::closeness(item.skills, [&](SkillId skill) { return skill_proficiency(agent, skill); });
}

bool is_working(const Agent& agent, Timestamp now) {
  if (agent.shifts.empty()) return agent.working;
  return std::any_of(agent.shifts.begin(), agent.shifts.end(),
                     [&](const Shift& s) { return s.start <= now && now < s.end; });
}

}  // namespace

struct ReferenceRouter::State {
  Config config;
  Timestamp clock = kNever;  // kNever until the first event
  std::map<ExternalId, Agent> agents;
  std::map<std::uint64_t, Item> items;  // live items by arrival sequence
  std::unordered_map<ExternalId, std::uint64_t> item_index;
  std::uint64_t next_seq = 0;
  std::vector<std::set<std::uint64_t>> queue_items;  // live items per queue
  std::vector<std::set<ExternalId>> queue_members;
  std::vector<Timestamp> next_periodic;  // per channel; kNever = not started or none
  std::vector<Decision>* out = nullptr;

  explicit State(Config c) : config(std::move(c)) {
    queue_items.resize(config.queues.size());
    queue_members.resize(config.queues.size());
    next_periodic.assign(config.channels.size(), kNever);
    for (const AgentSeed& seed : config.agents) {
      Agent agent;
      agent.id = seed.id;
      agent.presence = seed.presence;
      agent.skills = seed.skills;
      agent.capacity = seed.capacity;
      agent.attributes = seed.attributes;
      agent.working = seed.working;
      agent.shifts = seed.shifts;
      for (QueueId q : seed.queues) {
        agent.queues[q] = Membership{0, kNever};
        queue_members[q].insert(seed.id);
      }
      agents[seed.id] = std::move(agent);
    }
  }

  // ---- small queries -------------------------------------------------------------------------

  const QueueConfig& queue_of(const Item& item) const { return config.queues[item.queue]; }
  const ChannelConfig& channel_of(const Item& item) const {
    return config.channels[queue_of(item).channel];
  }
  Item* find_item(const ExternalId& id) {
    const auto it = item_index.find(id);
    return it == item_index.end() ? nullptr : &items.at(it->second);
  }
  Agent* find_agent(const ExternalId& id) {
    const auto it = agents.find(id);
    return it == agents.end() ? nullptr : &it->second;
  }

  Need need_of(const Item& item) const {
    const ChannelConfig& channel = channel_of(item);
    Need need;
    need.model = channel.capacity_model;
    need.units = item.units.value_or(channel.units_per_item);
    need.profile = channel.profile;
    return need;
  }

  static std::int32_t used_units(const Agent& agent) {
    std::int32_t used = 0;
    for (const Hold& h : agent.holds) {
      if (h.model == CapacityModel::units) used += h.units;
    }
    return used;
  }
  static std::int32_t used_profile(const Agent& agent, ProfileId profile) {
    return static_cast<std::int32_t>(std::count_if(
        agent.holds.begin(), agent.holds.end(),
        [&](const Hold& h) { return h.model == CapacityModel::profile && h.profile == profile; }));
  }
  static std::int32_t profile_max(const AgentCapacity& capacity, ProfileId profile) {
    return profile < capacity.profile_max.size() ? capacity.profile_max[profile] : 0;
  }
  // R6: what the item's capacity model leaves free for it.
  static std::int32_t available_for(const Agent& agent, const Need& need) {
    if (need.model == CapacityModel::units) return agent.capacity.units - used_units(agent);
    return profile_max(agent.capacity, need.profile) - used_profile(agent, need.profile);
  }
  // R6: a held item of a blocking profile blocks every item of another profile.
  bool blocked(const Agent& agent, const Need& need) const {
    return std::any_of(agent.holds.begin(), agent.holds.end(), [&](const Hold& h) {
      return h.model == CapacityModel::profile && config.profiles[h.profile].blocks_others &&
             !(need.model == CapacityModel::profile && need.profile == h.profile);
    });
  }
  // Automatic offers respect blocking; manual assignment and pick only I1 (R15).
  bool fits(const Agent& agent, const Need& need, bool respect_blocking) const {
    if (available_for(agent, need) < (need.model == CapacityModel::units ? need.units : 1)) {
      return false;
    }
    return !respect_blocking || !blocked(agent, need);
  }

  bool presence_allowed(const Agent& agent, const Item& item) const {
    const QueueConfig& queue = queue_of(item);
    const std::vector<PresenceId>& allowed =
        queue.allowed_presences.empty() ? channel_of(item).allowed_presences
                                        : queue.allowed_presences;
    return std::find(allowed.begin(), allowed.end(), agent.presence) != allowed.end();
  }

  std::int32_t declines_of(const Item& item, const ExternalId& agent) const {
    const auto it = item.declines.find(agent);
    return it == item.declines.end() ? 0 : it->second;
  }

  Timestamp round_robin_time(const Agent& agent, QueueId queue) const {
    const Membership& m = agent.queues.at(queue);
    return m.last_assignment != kNever ? m.last_assignment : m.joined;
  }

  // ---- the condition language's view of one agent and one item ---------------------------------

  class Context final : public ConditionContext {
   public:
    Context(const State& s, const Agent* agent, const Item& item, Timestamp now)
        : s_(s), agent_(agent), item_(item), now_(now) {}
    const AttrValue* item_attribute(std::string_view key) const override {
      return find_attribute(item_.attributes, key);
    }
    const AttrValue* agent_attribute(std::string_view key) const override {
      return agent_ ? find_attribute(agent_->attributes, key) : nullptr;
    }
    PresenceId agent_presence() const override { return agent_ ? agent_->presence : 0; }
    bool agent_has_skill(SkillId skill, std::int64_t min) const override {
      if (!agent_) return false;
      const std::int32_t p = skill_proficiency(*agent_, skill);
      return p >= 0 && p >= min;
    }
    bool agent_matches_item_skills() const override {
      return agent_ && exact_match(*agent_, item_);
    }
    bool agent_has_capacity() const override {
      return agent_ && s_.fits(*agent_, s_.need_of(item_), true);
    }
    bool agent_is_working() const override { return agent_ && is_working(*agent_, now_); }
    std::optional<SkillId> skill_by_name(std::string_view name) const override {
      return s_.config.find_skill(name);
    }

   private:
    const State& s_;
    const Agent* agent_;
    const Item& item_;
    Timestamp now_;
  };

  // ---- decisions ----------------------------------------------------------------------------

  Decision& emit(DecisionKind kind, Timestamp t, const Item& item) {
    Decision d;
    d.kind = kind;
    d.time = t;
    d.item = item.id;
    d.queue = item.queue;
    out->push_back(std::move(d));
    return out->back();
  }

  // ---- R8: the order of a queue ------------------------------------------------------------

  Timestamp order_time(const Item& item) const {
    return channel_of(item).order_by_last_message ? item.last_message : item.created;
  }

  // The queued items of a queue in R8 order, after the prioritization limit of R11.
  std::vector<const Item*> ordered_queue(QueueId queue_id, Timestamp now) const {
    const QueueConfig& queue = config.queues[queue_id];
    std::vector<const Item*> fifo;
    for (std::uint64_t seq : queue_items[queue_id]) {
      const Item& item = items.at(seq);
      if (item.state == ItemState::queued) fifo.push_back(&item);
    }
    // FIFO by creation time, or by the customer's last message on asynchronous channels.
    std::sort(fifo.begin(), fifo.end(), [&](const Item* a, const Item* b) {
      return std::make_tuple(order_time(*a), a->seq) < std::make_tuple(order_time(*b), b->seq);
    });
    // R11: only the first `prioritization_limit` (in FIFO order) are prioritized at all.
    if (queue.prioritization_limit > 0 && fifo.size() > queue.prioritization_limit) {
      fifo.resize(queue.prioritization_limit);
    }
    // R13: affinity items skip prioritization and come first, FIFO among themselves.
    std::vector<const Item*> result;
    std::vector<const Item*> rest;
    for (const Item* item : fifo) (item->affinity ? result : rest).push_back(item);
    if (!queue.is_fifo()) {
      prioritize(
          queue, rest,
          [&](const Condition& when, const Item* item) { return evaluate(when, Context(*this, nullptr, *item, now)); },
          [](const Item* item) -> const Attributes& { return item->attributes; });
    }
    result.insert(result.end(), rest.begin(), rest.end());
    return result;
  }

  // R11: the items one cycle tries in a queue.
  std::vector<const Item*> cycle_block(QueueId queue_id, Timestamp now) const {
    std::vector<const Item*> order = ordered_queue(queue_id, now);
    const QueueConfig& queue = config.queues[queue_id];
    if (queue.strict_blocks && order.size() > queue.block_size) order.resize(queue.block_size);
    return order;
  }

  // ---- R9, R10, R13, R14: choosing the agent -------------------------------------------------

  bool eligible(const Agent& agent, const Item& item, const Need& need, Timestamp now) const {
    const QueueConfig& queue = queue_of(item);
    if (!presence_allowed(agent, item)) return false;                         // R7
    if (!fits(agent, need, true)) return false;                               // R6
    if (queue.skill_matching == SkillMatching::exact && !exact_match(agent, item)) return false;
    if (queue.requires_working && !is_working(agent, now)) return false;      // calendar
    return declines_of(item, agent.id) < config.decline_limit;                // R14
  }

  // One order-by key; negative = a before b.
  int compare_key(const AgentOrderKey& key, const Agent& a, const Agent& b, const Item& item,
                  const Need& need) const {
    int c = 0;
    switch (key.kind) {
      case AgentOrderKind::least_active: c = three_way(a.last_release, b.last_release); break;
      case AgentOrderKind::round_robin:
        c = three_way(round_robin_time(a, item.queue), round_robin_time(b, item.queue));
        break;
      case AgentOrderKind::available_units:
        c = three_way(b.capacity.units - used_units(b), a.capacity.units - used_units(a));
        break;
      case AgentOrderKind::available_profile: c = three_way(available_for(b, need), available_for(a, need)); break;
      case AgentOrderKind::proficiency: {
        auto sum = [&](const Agent& agent) {
          std::int64_t total = 0;
          for (const SkillRequirement& r : item.skills) {
            total += std::max(0, skill_proficiency(agent, r.skill));
          }
          return total;
        };
        c = three_way(sum(b), sum(a));
        break;
      }
      case AgentOrderKind::skill_count: c = three_way(a.skills.size(), b.skills.size()); break;
      case AgentOrderKind::attribute: {
        const AttrValue* va = find_attribute(a.attributes, key.attribute);
        const AttrValue* vb = find_attribute(b.attributes, key.attribute);
        return compare_ordered(va, vb, key.descending);  // the direction is applied there
      }
    }
    return key.descending ? -c : c;
  }

  // The full order of R9: not-declined first (R14), closeness (R10 closest), the method's or
  // rule's keys, then round robin, then agent id. A strict total order: a decision is determined
  // by the state.
  bool ranks_before(const Agent& a, const Agent& b, const Item& item, const Need& need,
                    const std::vector<AgentOrderKey>& keys) const {
    const bool da = declines_of(item, a.id) > 0, db = declines_of(item, b.id) > 0;
    if (da != db) return !da;
    if (queue_of(item).skill_matching == SkillMatching::closest) {
      const Closeness ca = closeness(a, item), cb = closeness(b, item);
      if (ca != cb) return ca < cb;
    }
    for (const AgentOrderKey& key : keys) {
      if (const int c = compare_key(key, a, b, item, need); c != 0) return c < 0;
    }
    const Timestamp ra = round_robin_time(a, item.queue), rb = round_robin_time(b, item.queue);
    if (ra != rb) return ra < rb;
    return a.id < b.id;
  }


  const Agent* best(const std::vector<const Agent*>& candidates, const Item& item,
                    const Need& need, const std::vector<AgentOrderKey>& keys) const {
    const Agent* chosen = nullptr;
    for (const Agent* agent : candidates) {
      if (chosen == nullptr || ranks_before(*agent, *chosen, item, need, keys)) chosen = agent;
    }
    return chosen;
  }

  void try_assign(Item& item, Timestamp now) {
    const QueueConfig& queue = queue_of(item);
    const Need need = need_of(item);
    std::vector<const Agent*> candidates;
    for (const ExternalId& id : queue_members[item.queue]) {
      const Agent& agent = agents.at(id);
      if (eligible(agent, item, need, now)) candidates.push_back(&agent);
    }
    if (candidates.empty()) return;  // R11: stays queued

    // R13: the affinity agent, when eligible and it has not declined this item.
    if (item.affinity) {
      for (const Agent* agent : candidates) {
        if (agent->id == *item.affinity && declines_of(item, agent->id) == 0) {
          return offer(item, agents.at(agent->id), need, now, DecidedBy::affinity, 0);
        }
      }
    }
    if (queue.method != AssignmentMethod::custom) {
      const Agent* chosen = best(candidates, item, need, method_keys(queue.method, need.model));
      return offer(item, agents.at(chosen->id), need, now, DecidedBy::method, 0);
    }
    // R9 assignment ruleset: the first rule that matches at least one agent decides.
    for (std::size_t r = 0; r < queue.assignment.size(); ++r) {
      const AssignmentRule& rule = queue.assignment[r];
      std::vector<const Agent*> matching;
      for (const Agent* agent : candidates) {
        if (evaluate(rule.when, Context(*this, agent, item, now))) matching.push_back(agent);
      }
      if (matching.empty()) continue;
      const Agent* chosen = best(matching, item, need, rule.order_by);
      return offer(item, agents.at(chosen->id), need, now, DecidedBy::rule,
                   static_cast<std::uint16_t>(r));
    }
  }

  // R5 queued -> offered; R6 capacity reserved at the offer.
  void offer(Item& item, Agent& agent, const Need& need, Timestamp now, DecidedBy by,
             std::uint16_t rule) {
    agent.holds.push_back(Hold{item.id, queue_of(item).channel, need.model, need.units,
                               need.profile, kNever});
    agent.queues.at(item.queue).last_assignment = now;
    item.state = ItemState::offered;
    item.agent = agent.id;
    item.offered_at = now;
    Decision& d = emit(DecisionKind::offer, now, item);
    d.agent = agent.id;
    d.decided_by = by;
    d.rule = rule;
  }

  // ---- R11, R12: one assignment cycle over the triggered queues ------------------------------

  void run_cycle(const std::set<QueueId>& triggered, Timestamp now) {
    std::map<std::int32_t, std::vector<QueueId>> groups;  // R12: lowest group number first
    for (QueueId q : triggered) groups[config.queues[q].group].push_back(q);
    for (auto& [group, queue_ids] : groups) {
      // R12: FIFO queues first, merged oldest item first across them...
      std::vector<std::vector<const Item*>> fifo_blocks;
      std::vector<QueueId> ruleset_queues;
      for (QueueId q : queue_ids) {
        if (config.queues[q].is_fifo()) {
          fifo_blocks.push_back(cycle_block(q, now));
        } else {
          ruleset_queues.push_back(q);
        }
      }
      // ...then queues with rulesets in alphabetical order of their names.
      std::sort(ruleset_queues.begin(), ruleset_queues.end(), [&](QueueId a, QueueId b) {
        return config.queues[a].name < config.queues[b].name;
      });
      std::vector<std::size_t> heads(fifo_blocks.size(), 0);
      for (;;) {
        std::size_t pick = fifo_blocks.size();
        for (std::size_t b = 0; b < fifo_blocks.size(); ++b) {
          if (heads[b] == fifo_blocks[b].size()) continue;
          const Item* head = fifo_blocks[b][heads[b]];
          if (pick == fifo_blocks.size()) {
            pick = b;
            continue;
          }
          const Item* current = fifo_blocks[pick][heads[pick]];
          if (std::make_tuple(order_time(*head), head->seq) <
              std::make_tuple(order_time(*current), current->seq)) {
            pick = b;
          }
        }
        if (pick == fifo_blocks.size()) break;
        const Item* item = fifo_blocks[pick][heads[pick]++];
        try_assign(items.at(item->seq), now);
      }
      for (QueueId q : ruleset_queues) {
        for (const Item* item : cycle_block(q, now)) try_assign(items.at(item->seq), now);
      }
    }
  }

  void trigger_agent_queues(const Agent& agent, std::set<QueueId>& triggered) {
    for (const auto& [q, membership] : agent.queues) triggered.insert(q);
  }

  // ---- shared transitions --------------------------------------------------------------------

  // Removes the (non-wrap-up) hold of `item` from `agent`; offers withdrawn this way do not
  // count as a release for least active (only finished work does).
  static void drop_hold(Agent& agent, const ExternalId& item) {
    const auto it = std::find_if(agent.holds.begin(), agent.holds.end(), [&](const Hold& h) {
      return h.item == item && !h.in_wrap_up();
    });
    if (it != agent.holds.end()) agent.holds.erase(it);
  }

  // R14: a decline or a timeout; returns the item to queued, parks it after enough decliners.
  void decline(Item& item, Agent& agent, RequeueReason reason, Timestamp now,
               std::set<QueueId>& triggered) {
    drop_hold(agent, item.id);
    ++item.declines[agent.id];
    item.state = ItemState::queued;
    item.agent.reset();
    Decision& d = emit(DecisionKind::requeued, now, item);
    d.agent = agent.id;
    d.reason = reason;
    if (static_cast<std::int32_t>(item.declines.size()) >= config.park_after_decliners) {
      item.state = ItemState::parked;
      emit(DecisionKind::parked, now, item);
    }
    triggered.insert(item.queue);
    trigger_agent_queues(agent, triggered);
  }

  void erase_item(const Item& item) {
    queue_items[item.queue].erase(item.seq);
    item_index.erase(item.id);
    items.erase(item.seq);  // `item` dangles from here on
  }

  // ---- timers (R6 wrap-up, R14 offer timeout, R11 periodic cycle) -----------------------------

  struct Timer {
    Timestamp due = kNever;
    int kind = 0;  // 0 wrap-up end, 1 offer timeout, 2 periodic: capacity is freed first
    ExternalId item;
    ExternalId agent;
    ChannelId channel = 0;
  };

  std::optional<Timer> next_timer(Timestamp until) const {
    std::optional<Timer> best_timer;
    auto consider = [&](Timer timer) {
      if (timer.due > until) return;
      if (!best_timer || std::tie(timer.due, timer.kind, timer.item, timer.channel) <
                             std::tie(best_timer->due, best_timer->kind, best_timer->item,
                                      best_timer->channel)) {
        best_timer = std::move(timer);
      }
    };
    for (const auto& [id, agent] : agents) {
      for (const Hold& h : agent.holds) {
        if (h.in_wrap_up()) consider(Timer{h.release_at, 0, h.item, id, 0});
      }
    }
    for (const auto& [seq, item] : items) {
      const Timestamp timeout = channel_of(item).offer_timeout_ms;
      if (item.state == ItemState::offered && timeout > 0) {
        consider(Timer{item.offered_at + timeout, 1, item.id, *item.agent, 0});
      }
    }
    for (ChannelId c = 0; c < next_periodic.size(); ++c) {
      if (next_periodic[c] != kNever) consider(Timer{next_periodic[c], 2, {}, {}, c});
    }
    return best_timer;
  }

  void fire(const Timer& timer, Timestamp until) {
    std::set<QueueId> triggered;
    switch (timer.kind) {
      case 0: {  // wrap-up over: the capacity is released now (R6), least active counts it (R9)
        Agent& agent = agents.at(timer.agent);
        const auto it = std::find_if(agent.holds.begin(), agent.holds.end(), [&](const Hold& h) {
          return h.item == timer.item && h.release_at == timer.due;
        });
        agent.holds.erase(it);
        agent.last_release = timer.due;
        trigger_agent_queues(agent, triggered);
        break;
      }
      case 1:  // R14: a timeout counts as a decline
        decline(*find_item(timer.item), agents.at(timer.agent), RequeueReason::timed_out,
                timer.due, triggered);
        break;
      case 2: {  // R11 periodic trigger; periods missed while no event came collapse into one
        const Timestamp period = config.channels[timer.channel].periodic_ms;
        next_periodic[timer.channel] = timer.due + period * (1 + (until - timer.due) / period);
        for (QueueId q = 0; q < config.queues.size(); ++q) {
          if (config.queues[q].channel == timer.channel) triggered.insert(q);
        }
        break;
      }
      default: break;
    }
    run_cycle(triggered, timer.due);
  }

  Timestamp advance_to(Timestamp t) {
    if (clock == kNever) {
      clock = t;
      for (ChannelId c = 0; c < config.channels.size(); ++c) {
        if (config.channels[c].periodic_ms > 0) next_periodic[c] = t + config.channels[c].periodic_ms;
      }
    }
    t = std::max(t, clock);  // an event older than the clock is applied at the clock's time
    while (const std::optional<Timer> timer = next_timer(t)) {
      clock = timer->due;
      fire(*timer, t);
    }
    clock = t;
    return t;
  }

  // ---- validation helpers --------------------------------------------------------------------

  static Error error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

  // I1: a capacity below what the agent already holds would make available capacity negative.
  std::optional<Error> check_not_below_load(const Agent& agent, const AgentCapacity& capacity) const {
    const std::int32_t units = used_units(agent);
    if (capacity.units < units) {
      return error(ErrorCode::capacity_below_load,
                   "agent " + agent.id.to_string() + " holds " + std::to_string(units) +
                       " units; capacity " + std::to_string(capacity.units) +
                       " would make its available capacity negative (wait until work completes)");
    }
    for (ProfileId p = 0; p < config.profiles.size(); ++p) {
      const std::int32_t used = used_profile(agent, p);
      if (profile_max(capacity, p) < used) {
        return error(ErrorCode::capacity_below_load,
                     "agent " + agent.id.to_string() + " holds " + std::to_string(used) + " \"" +
                         config.profiles[p].name + "\" items; capacity " +
                         std::to_string(profile_max(capacity, p)) +
                         " would make its available capacity negative");
      }
    }
    return std::nullopt;
  }

  Error unknown_agent(const ExternalId& id) const {
    return error(ErrorCode::unknown_agent, "no agent has id " + id.to_string());
  }
  Error unknown_item(const ExternalId& id) const {
    return error(ErrorCode::unknown_item,
                 "no live item has id " + id.to_string() + " (completed and cancelled items are forgotten)");
  }

  // ---- the events ----------------------------------------------------------------------------
  // Each handler validates first and returns an Error before changing anything.

  std::optional<Error> on(const AgentUpsert& e, Timestamp now, std::set<QueueId>& triggered) {
    if (auto err = check_upsert_fields(config, e)) return err;
    Agent* existing = find_agent(e.agent);
    if (existing && e.capacity) {
      if (auto err = check_not_below_load(*existing, *e.capacity)) return err;
    }
    if (!existing) {
      Agent agent;
      agent.id = e.agent;
      agent.presence = config.offline();
      agent.last_release = now;
      existing = &(agents[e.agent] = std::move(agent));
    }
    if (e.presence) existing->presence = *e.presence;
    if (e.skills) existing->skills = *e.skills;
    if (e.capacity) existing->capacity = *e.capacity;
    if (e.attributes) existing->attributes = *e.attributes;
    if (e.working) existing->working = *e.working;
    if (e.shifts) existing->shifts = *e.shifts;
    trigger_agent_queues(*existing, triggered);  // presence, capacity or skills may have changed
    return std::nullopt;
  }

  std::optional<Error> on(const AgentRemove& e, Timestamp, std::set<QueueId>&) {
    Agent* agent = find_agent(e.agent);
    if (!agent) return unknown_agent(e.agent);
    const auto open = std::count_if(agent->holds.begin(), agent->holds.end(),
                                    [](const Hold& h) { return !h.in_wrap_up(); });
    if (open > 0) {
      return error(ErrorCode::agent_has_work,
                   "agent " + e.agent.to_string() + " still holds " + std::to_string(open) +
                       " offered or assigned items; complete, decline or transfer them first");
    }
    for (const auto& [q, membership] : agent->queues) queue_members[q].erase(e.agent);
    agents.erase(e.agent);
    return std::nullopt;
  }

  std::optional<Error> on(const PresenceChange& e, Timestamp, std::set<QueueId>& triggered) {
    Agent* agent = find_agent(e.agent);
    if (!agent) return unknown_agent(e.agent);
    if (auto err = check_presence(config, e.presence)) return err;
    agent->presence = e.presence;  // R7; open offers stand until accepted, declined or timed out
    trigger_agent_queues(*agent, triggered);
    return std::nullopt;
  }

  std::optional<Error> on(const CapacityChange& e, Timestamp, std::set<QueueId>& triggered) {
    Agent* agent = find_agent(e.agent);
    if (!agent) return unknown_agent(e.agent);
    if (auto err = check_capacity(config, e.capacity)) return err;
    if (auto err = check_not_below_load(*agent, e.capacity)) return err;
    agent->capacity = e.capacity;
    trigger_agent_queues(*agent, triggered);
    return std::nullopt;
  }

  std::optional<Error> on(const JoinQueue& e, Timestamp now, std::set<QueueId>& triggered) {
    Agent* agent = find_agent(e.agent);
    if (!agent) return unknown_agent(e.agent);
    if (auto err = check_queue(config, e.queue)) return err;
    if (agent->queues.count(e.queue)) {
      return error(ErrorCode::already_member, "agent " + e.agent.to_string() +
                                                  " is already a member of queue \"" +
                                                  config.queues[e.queue].name + "\"");
    }
    agent->queues[e.queue] = Membership{now, kNever};
    queue_members[e.queue].insert(e.agent);
    triggered.insert(e.queue);
    return std::nullopt;
  }

  std::optional<Error> on(const LeaveQueue& e, Timestamp, std::set<QueueId>&) {
    Agent* agent = find_agent(e.agent);
    if (!agent) return unknown_agent(e.agent);
    if (auto err = check_queue(config, e.queue)) return err;
    if (!agent->queues.count(e.queue)) {
      return error(ErrorCode::not_a_member, "agent " + e.agent.to_string() +
                                                " is not a member of queue \"" +
                                                config.queues[e.queue].name + "\"");
    }
    agent->queues.erase(e.queue);
    queue_members[e.queue].erase(e.agent);
    return std::nullopt;
  }

  std::optional<Error> on(const ItemArrive& e, Timestamp now, std::set<QueueId>& triggered) {
    if (auto err = check_queue(config, e.queue)) return err;
    if (find_item(e.item)) {
      return error(ErrorCode::duplicate_item,
                   "item " + e.item.to_string() + " is already live; item ids must be unique");
    }
    if (auto err = check_requirements(config, e.skills, e.units)) return err;
    Item item;
    item.id = e.item;
    item.seq = next_seq++;
    item.queue = e.queue;
    item.created = e.created.value_or(now);
    item.last_message = e.last_message.value_or(item.created);
    item.attributes = e.attributes;
    item.skills = e.skills;
    item.units = e.units;
    item.affinity = e.affinity_agent;
    queue_items[e.queue].insert(item.seq);
    item_index[e.item] = item.seq;
    items[item.seq] = std::move(item);
    triggered.insert(e.queue);
    return std::nullopt;
  }

  std::optional<Error> on(const ItemUpdate& e, Timestamp, std::set<QueueId>&) {
    Item* item = find_item(e.item);
    if (!item) return unknown_item(e.item);
    merge_attributes(item->attributes, e.attributes);
    if (e.last_message) item->last_message = *e.last_message;
    return std::nullopt;  // R8: rules are re-evaluated at the next cycle
  }

  std::optional<Error> on(const ItemCancel& e, Timestamp now, std::set<QueueId>& triggered) {
    Item* item = find_item(e.item);
    if (!item) return unknown_item(e.item);
    if (item->state == ItemState::assigned) {
      return error(ErrorCode::item_not_queued, "item " + e.item.to_string() +
                                                   " is assigned to agent " +
                                                   item->agent->to_string() +
                                                   "; complete it instead of cancelling");
    }
    Decision& d = emit(DecisionKind::cancelled, now, *item);
    if (item->state == ItemState::offered) {
      Agent& agent = agents.at(*item->agent);
      d.agent = agent.id;
      drop_hold(agent, item->id);
      trigger_agent_queues(agent, triggered);  // capacity came free
    }
    erase_item(*item);
    return std::nullopt;
  }

  std::optional<Error> on(const ItemTransfer& e, Timestamp now, std::set<QueueId>& triggered) {
    Item* item = find_item(e.item);
    if (!item) return unknown_item(e.item);
    if (auto err = check_queue(config, e.queue)) return err;
    if (item->state == ItemState::assigned) {
      return error(ErrorCode::item_not_queued,
                   "item " + e.item.to_string() + " is assigned to agent " +
                       item->agent->to_string() + "; only queued, offered or parked items move");
    }
    if (item->queue == e.queue) {
      return error(ErrorCode::same_queue, "item " + e.item.to_string() + " is already in queue \"" +
                                              config.queues[e.queue].name + "\"");
    }
    if (item->state == ItemState::offered) {  // the open offer is withdrawn
      Agent& agent = agents.at(*item->agent);
      drop_hold(agent, item->id);
      trigger_agent_queues(agent, triggered);
      item->agent.reset();
    }
    const QueueId from = item->queue;
    queue_items[from].erase(item->seq);
    queue_items[e.queue].insert(item->seq);
    item->queue = e.queue;
    item->state = ItemState::queued;  // a parked item gets a new chance in the new queue
    Decision& d = emit(DecisionKind::transferred, now, *item);
    d.from_queue = from;
    triggered.insert(e.queue);
    return std::nullopt;
  }

  std::optional<Error> on(const ItemComplete& e, Timestamp now, std::set<QueueId>& triggered) {
    Item* item = find_item(e.item);
    if (!item) return unknown_item(e.item);
    if (item->state != ItemState::assigned) {
      return error(ErrorCode::item_not_assigned,
                   "item " + e.item.to_string() + " is " + std::string(to_string(item->state)) +
                       ", not assigned; only assigned work can be completed");
    }
    Agent& agent = agents.at(*item->agent);
    const auto hold = std::find_if(agent.holds.begin(), agent.holds.end(), [&](const Hold& h) {
      return h.item == item->id && !h.in_wrap_up();
    });
    const Timestamp wrap_up = config.channels[hold->channel].wrap_up_ms;
    if (wrap_up > 0) {
      hold->release_at = now + wrap_up;  // R6: held back for wrap-up
    } else {
      agent.holds.erase(hold);
      agent.last_release = now;
      trigger_agent_queues(agent, triggered);
    }
    Decision& d = emit(DecisionKind::completed, now, *item);
    d.agent = agent.id;
    erase_item(*item);
    return std::nullopt;
  }

  // Shared checks of accept, decline and timeout: the item is offered, to this agent.
  std::optional<Error> check_offer(const ExternalId& item_id, const ExternalId& agent_id,
                                   Item*& item, Agent*& agent) {
    item = find_item(item_id);
    if (!item) return unknown_item(item_id);
    agent = find_agent(agent_id);
    if (!agent) return unknown_agent(agent_id);
    if (item->state != ItemState::offered) {
      return error(ErrorCode::item_not_offered, "item " + item_id.to_string() + " is " +
                                                    std::string(to_string(item->state)) +
                                                    ", not offered");
    }
    if (*item->agent != agent_id) {
      return error(ErrorCode::offer_agent_mismatch, "item " + item_id.to_string() +
                                                        " is offered to agent " +
                                                        item->agent->to_string() + ", not to " +
                                                        agent_id.to_string());
    }
    return std::nullopt;
  }

  std::optional<Error> on(const OfferAccept& e, Timestamp now, std::set<QueueId>&) {
    Item* item = nullptr;
    Agent* agent = nullptr;
    if (auto err = check_offer(e.item, e.agent, item, agent)) return err;
    item->state = ItemState::assigned;  // R6: the capacity reserved at the offer is kept
    Decision& d = emit(DecisionKind::assigned, now, *item);
    d.agent = agent->id;
    d.decided_by = DecidedBy::accepted;
    return std::nullopt;
  }

  std::optional<Error> on(const OfferDecline& e, Timestamp now, std::set<QueueId>& triggered) {
    Item* item = nullptr;
    Agent* agent = nullptr;
    if (auto err = check_offer(e.item, e.agent, item, agent)) return err;
    decline(*item, *agent, RequeueReason::declined, now, triggered);
    return std::nullopt;
  }

  std::optional<Error> on(const OfferTimeout& e, Timestamp now, std::set<QueueId>& triggered) {
    Item* item = nullptr;
    Agent* agent = nullptr;
    if (auto err = check_offer(e.item, e.agent, item, agent)) return err;
    decline(*item, *agent, RequeueReason::timed_out, now, triggered);
    return std::nullopt;
  }

  // R15: a supervisor's assignment or an agent's pick; bypasses presence, skills and the decline
  // limit, never I1.
  std::optional<Error> assign_by_hand(const ExternalId& item_id, const ExternalId& agent_id,
                                      bool pick, Timestamp now) {
    Item* item = find_item(item_id);
    if (!item) return unknown_item(item_id);
    Agent* agent = find_agent(agent_id);
    if (!agent) return unknown_agent(agent_id);
    if (item->state != ItemState::queued && item->state != ItemState::parked) {
      return error(ErrorCode::item_not_queued,
                   "item " + item_id.to_string() + " is " + std::string(to_string(item->state)) +
                       " (to agent " + item->agent->to_string() +
                       "); only queued or parked items can be assigned by hand");
    }
    if (pick && !agent->queues.count(item->queue)) {
      return error(ErrorCode::not_a_member, "agent " + agent_id.to_string() +
                                                " is not a member of queue \"" +
                                                queue_of(*item).name + "\" and cannot pick from it");
    }
    const Need need = need_of(*item);
    if (!fits(*agent, need, false)) {
      return error(ErrorCode::insufficient_capacity,
                   "agent " + agent_id.to_string() + " has " +
                       std::to_string(available_for(*agent, need)) + " available " +
                       (need.model == CapacityModel::units
                            ? std::string("units")
                            : "\"" + config.profiles[need.profile].name + "\" slots") +
                       "; item " + item_id.to_string() + " needs " +
                       std::to_string(need.model == CapacityModel::units ? need.units : 1));
    }
    agent->holds.push_back(
        Hold{item->id, queue_of(*item).channel, need.model, need.units, need.profile, kNever});
    if (auto it = agent->queues.find(item->queue); it != agent->queues.end()) {
      it->second.last_assignment = now;
    }
    item->state = ItemState::assigned;
    item->agent = agent->id;
    Decision& d = emit(DecisionKind::assigned, now, *item);
    d.agent = agent->id;
    d.decided_by = pick ? DecidedBy::pick : DecidedBy::manual;
    return std::nullopt;
  }

  std::optional<Error> on(const ManualAssign& e, Timestamp now, std::set<QueueId>&) {
    return assign_by_hand(e.item, e.agent, false, now);
  }
  std::optional<Error> on(const AgentPick& e, Timestamp now, std::set<QueueId>&) {
    return assign_by_hand(e.item, e.agent, true, now);
  }
  std::optional<Error> on(const Tick&, Timestamp, std::set<QueueId>&) { return std::nullopt; }

  void apply(const Event& event, std::vector<Decision>& sink) {
    out = &sink;
    const Timestamp now = advance_to(event.time);
    std::set<QueueId> triggered;
    const std::optional<Error> err =
        std::visit([&](const auto& body) { return on(body, now, triggered); }, event.body);
    if (err) {
      Decision d;
      d.kind = DecisionKind::error;
      d.time = now;
      d.error = err->code;
      d.message = err->message;
      d.sequence = event.sequence;
      d.offending = std::make_shared<const Event>(event);
      sink.push_back(std::move(d));
    } else {
      run_cycle(triggered, now);
    }
    out = nullptr;
  }
};

ReferenceRouter::ReferenceRouter(Config config)
    : state_(std::make_unique<State>(std::move(config))) {}
ReferenceRouter::~ReferenceRouter() = default;

void ReferenceRouter::apply(const Event& event, std::vector<Decision>& out) {
  state_->apply(event, out);
}

const Config& ReferenceRouter::config() const noexcept { return state_->config; }
Timestamp ReferenceRouter::now() const noexcept { return state_->clock; }

std::optional<ItemView> ReferenceRouter::item(const ExternalId& id) const {
  const auto it = state_->item_index.find(id);
  if (it == state_->item_index.end()) return std::nullopt;
  const Item& item = state_->items.at(it->second);
  return ItemView{item.id, item.state, item.queue, item.agent, item.declines};
}

std::optional<AgentView> ReferenceRouter::agent(const ExternalId& id) const {
  const auto it = state_->agents.find(id);
  if (it == state_->agents.end()) return std::nullopt;
  const Agent& agent = it->second;
  AgentView view;
  view.id = agent.id;
  view.presence = agent.presence;
  view.capacity = agent.capacity;
  view.free_units = agent.capacity.units - State::used_units(agent);
  for (ProfileId p = 0; p < state_->config.profiles.size(); ++p) {
    view.profile_used.push_back(State::used_profile(agent, p));
  }
  for (const auto& [q, membership] : agent.queues) view.queues.push_back(q);
  for (const Hold& h : agent.holds) {
    if (!h.in_wrap_up()) view.items.push_back(h.item);
  }
  view.last_release = agent.last_release;
  return view;
}

std::vector<ExternalId> ReferenceRouter::agent_ids() const {
  std::vector<ExternalId> ids;
  for (const auto& [id, agent] : state_->agents) ids.push_back(id);
  return ids;
}

std::vector<ExternalId> ReferenceRouter::queue_order(QueueId queue) const {
  std::vector<ExternalId> ids;
  if (queue >= state_->config.queues.size()) return ids;
  for (const auto* item : state_->ordered_queue(queue, state_->clock)) ids.push_back(item->id);
  return ids;
}

std::size_t ReferenceRouter::live_item_count() const { return state_->items.size(); }

std::string ReferenceRouter::check_invariants() const {
  const State& s = *state_;
  std::ostringstream problem;
  std::map<ExternalId, int> holders;  // item -> number of agents holding it (not in wrap-up)
  for (const auto& [id, agent] : s.agents) {
    const std::int32_t free_units = agent.capacity.units - State::used_units(agent);
    if (free_units < 0) {
      problem << "I1: agent " << id.to_string() << " has " << free_units << " available units";
      return problem.str();
    }
    for (ProfileId p = 0; p < s.config.profiles.size(); ++p) {
      if (State::used_profile(agent, p) > State::profile_max(agent.capacity, p)) {
        problem << "I1: agent " << id.to_string() << " holds more \"" << s.config.profiles[p].name
                << "\" items than its capacity";
        return problem.str();
      }
    }
    for (const Hold& h : agent.holds) {
      if (h.in_wrap_up()) continue;
      ++holders[h.item];
      const auto index = s.item_index.find(h.item);
      if (index == s.item_index.end()) {
        problem << "I3: agent " << id.to_string() << " holds capacity for unknown item "
                << h.item.to_string();
        return problem.str();
      }
      const Item& item = s.items.at(index->second);
      if (!item.agent || *item.agent != id) {
        problem << "I2: agent " << id.to_string() << " holds item " << h.item.to_string()
                << " which is not offered or assigned to it";
        return problem.str();
      }
    }
  }
  for (const auto& [seq, item] : s.items) {
    const bool with_agent = item.state == ItemState::offered || item.state == ItemState::assigned;
    if (with_agent != item.agent.has_value()) {
      problem << "I3: item " << item.id.to_string() << " is " << to_string(item.state)
              << (item.agent ? " but has an agent" : " but has no agent");
      return problem.str();
    }
    if (with_agent && holders[item.id] != 1) {
      problem << "I2: item " << item.id.to_string() << " is held by " << holders[item.id]
              << " agents";
      return problem.str();
    }
    if (!s.queue_items[item.queue].count(seq) || s.item_index.at(item.id) != seq) {
      problem << "I3: item " << item.id.to_string() << " is not indexed in its queue";
      return problem.str();
    }
  }
  std::size_t indexed = 0;
  for (const auto& members : s.queue_items) indexed += members.size();
  if (indexed != s.items.size() || s.item_index.size() != s.items.size()) {
    problem << "I3: " << s.items.size() << " live items but " << indexed
            << " queue entries and " << s.item_index.size() << " ids";
    return problem.str();
  }
  return {};
}

}  // namespace switchboard
