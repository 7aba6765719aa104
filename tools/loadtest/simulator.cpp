// One replication of simulate mode (simulator.hpp).
//
// The host's future is a min-heap of pending actions keyed by (time in ms, sequence). Every
// simulated millisecond that has actions is processed in rounds: the due actions become engine
// events (an action whose reason has gone, such as the accept of an offer the customer already
// abandoned, is dropped), the events go to the engine as one batch, and the decisions that come
// back schedule new actions, possibly at the same millisecond, which make the next round. One
// batch holds at most one event per item, so that no event of a batch can be refused because of
// another one's effect (an accept and a cancel of the same item at the same millisecond go in
// successive rounds, in the order they were scheduled).
//
// Random streams (common random numbers; docs/load-testing.md, "Random streams"). Each source
// of randomness has its own xoshiro256** stream, seeded from the replication seed and a key
// that names what it stands for, never from a stream shared with other sources:
//   - a queue's arrival times: one stream per (seed, queue), drawn only by that queue's next
//     arrival, so they follow from the traffic alone;
//   - a customer (its attributes, skills, patience, handling and wrap-up times): one stream per
//     (seed, queue, its number among that queue's arrivals), all drawn when it arrives;
//   - an agent's answers (accept, decline or no answer, and the response delay): one stream per
//     (seed, agent), one answer per offer in the order the agent gets them.
// So two runs with the same seed and scenario under different routing configurations (compare
// mode) see the same customers arrive at the same instants with the same needs, patience and
// handling times, and every agent answers its n-th offer alike; only what routing decides, and
// what follows from it (who is offered what and when, waits, abandonment), differs. Shifts and
// breaks draw nothing: they follow from the scenario.

#include "simulator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <queue>
#include <utility>

#include "random.hpp"
#include "switchboard/kernel.hpp"
#include "switchboard/reference_router.hpp"

namespace switchboard::loadtest {

std::string_view to_string(EngineKind engine) noexcept {
  return engine == EngineKind::kernel ? "kernel" : "reference";
}

namespace {

using Clock = std::chrono::steady_clock;

Timestamp to_ms(double seconds) { return static_cast<Timestamp>(std::llround(seconds * 1000.0)); }

// The engine behind one interface; the virtual call per batch costs nothing next to a batch.
class Engine {
 public:
  virtual ~Engine() = default;
  virtual void apply(std::span<const Event> events, std::vector<Decision>& out) = 0;
};

class KernelEngine final : public Engine {
 public:
  explicit KernelEngine(Kernel kernel) : kernel_(std::move(kernel)) {}
  void apply(std::span<const Event> events, std::vector<Decision>& out) override {
    kernel_.apply_batch(events, out);
  }

 private:
  Kernel kernel_;
};

class ReferenceEngine final : public Engine {
 public:
  explicit ReferenceEngine(Config config) : router_(std::move(config)) {}
  void apply(std::span<const Event> events, std::vector<Decision>& out) override {
    for (const Event& e : events) router_.apply(e, out);
  }

 private:
  ReferenceRouter router_;
};

enum class ActionKind : std::uint8_t {
  arrival,       // a: scenario queue index
  answer,        // a: item, b: agent, gen: offer generation; accept or decline (flag)
  no_answer,     // a: item, b: agent, gen: offer generation
  abandon,       // a: item
  complete,      // a: item
  wrap_up_end,   // b: agent (the channel's wrap-up ends: the engine releases capacity)
  presence,      // b: agent, gen: presence id
  tick,          // advances the engine's clock to fire its own timers on time
};

struct Action {
  Timestamp time = 0;
  std::uint64_t sequence = 0;
  ActionKind kind = ActionKind::tick;
  bool flag = false;  // answer: true = accept, false = decline
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::uint32_t gen = 0;
};
// The engine's own timers (offer timeouts, wrap-up ends, periodic cycles) fire when its clock
// reaches them, before the first event of that millisecond is looked at. They therefore go
// first, in a batch of their own (one Tick), and the host's actions of that millisecond are
// checked against the state the timers left: an unanswered offer the channel has just timed
// out and re-offered to someone else must not be answered by the first agent.
bool is_timer(ActionKind kind) { return kind == ActionKind::tick || kind == ActionKind::wrap_up_end; }

struct Later {
  bool operator()(const Action& x, const Action& y) const noexcept {
    if (x.time != y.time) return x.time > y.time;
    if (is_timer(x.kind) != is_timer(y.kind)) return is_timer(y.kind);
    return x.sequence > y.sequence;
  }
};

enum class ItemState : std::uint8_t { queued, offered, parked, assigned, done };

struct Item {
  Timestamp arrived = 0;
  double handle_s = 0.0;  // drawn at arrival from the customer's stream, used when assigned
  Timestamp wrap_ms = 0;  // likewise: the scenario's wrap-up, added to the handling time
  std::uint32_t queue = 0;  // scenario queue index
  std::uint32_t agent = 0;  // the offer's or the assignment's agent
  std::uint32_t offer_gen = 0;
  std::uint32_t interval = 0;
  std::uint32_t batch_round = 0;  // the round whose batch holds an event of this item
  ItemState state = ItemState::queued;
  bool measured = false;
  bool queued = true;      // not offered at the instant it arrived (it had to wait in queue)
  bool in_flight = false;  // an event of this item is in the batch being built
};

struct Agent {
  std::uint32_t group = 0;
  std::uint32_t active = 0;  // items assigned or in the channel's wrap-up
  std::uint32_t offers = 0;  // open offers
  PresenceId presence = 0;
  Timestamp last = 0;        // time the accumulators below were last brought up to date
};

class Simulation {
 public:
  Simulation(const Scenario& s, EngineKind kind, std::uint64_t seed,
             const std::function<void(double)>& progress)
      : s_(s), kind_(kind), seed_(seed), progress_(progress) {
    stats_.seed = seed;
  }

  Result<ReplicationStats> run() {
    const auto wall_start = Clock::now();
    if (auto error = setup()) return std::move(*error);
    loop();
    finish();
    stats_.wall_s = std::chrono::duration<double>(Clock::now() - wall_start).count();
    return std::move(stats_);
  }

 private:
  // --- setup ------------------------------------------------------------------------------------

  std::optional<Error> setup() {
    horizon_ms_ = to_ms(s_.horizon_s);
    warmup_ms_ = to_ms(s_.warmup_s);
    end_ms_ = horizon_ms_ + to_ms(s_.drain_s);
    interval_ms_ = std::max<Timestamp>(1, to_ms(s_.interval_s));
    step_ms_ = std::max<Timestamp>(1, to_ms(s_.depth_step_s));
    for (double t : s_.thresholds_s) threshold_ms_.push_back(to_ms(t));
    const std::size_t thresholds = threshold_ms_.size();
    const std::size_t intervals = s_.interval_count();

    queue_index_.assign(s_.config.queues.size(), UINT32_MAX);
    stats_.queues.resize(s_.queues.size());
    for (std::size_t q = 0; q < s_.queues.size(); ++q) {
      queue_index_[s_.queues[q].queue_id] = static_cast<std::uint32_t>(q);
      QueueStats& qs = stats_.queues[q];
      qs.answered_within.assign(thresholds, 0);
      qs.abandoned_within.assign(thresholds, 0);
      qs.intervals.resize(intervals);
      for (auto& iv : qs.intervals) {
        iv.answered_within.assign(thresholds, 0);
        iv.abandoned_within.assign(thresholds, 0);
      }
      qs.depth.reserve(static_cast<std::size_t>(end_ms_ / step_ms_) + 2);
      double total = 0.0;
      for (const auto& mix : s_.queues[q].skill_mix) total += mix.weight;
      skill_totals_.push_back(total);
      std::vector<double> attr_totals;
      for (const auto& mix : s_.queues[q].attributes) {
        double t = 0.0;
        for (double w : mix.weights) t += w;
        attr_totals.push_back(t);
      }
      attribute_totals_.push_back(std::move(attr_totals));
    }
    depth_.assign(s_.queues.size(), 0);
    next_arrival_s_.assign(s_.queues.size(), 0.0);
    arrivals_.assign(s_.queues.size(), 0);
    arrival_rng_.reserve(s_.queues.size());
    for (std::uint32_t q = 0; q < s_.queues.size(); ++q) {
      arrival_rng_.emplace_back(stream_seed(seed_, kArrivalStream, q));
    }
    periodic_.assign(s_.config.channels.size(), 0);

    // The population: agents seeded into the configuration (applied at time 0 by the engine),
    // numbered 0..N-1 in group order; presence changes for shifts and breaks as actions.
    Config config = s_.config;
    for (std::uint32_t g = 0; g < s_.groups.size(); ++g) {
      const AgentGroup& group = s_.groups[g];
      for (std::uint32_t k = 0; k < group.count; ++k) {
        const auto id = static_cast<std::uint32_t>(agents_.size());
        Agent agent;
        agent.group = g;
        agent.presence = presence_at(group, k, 0);
        agents_.push_back(agent);
        AgentSeed seed;
        seed.id = ExternalId(static_cast<std::uint64_t>(id));
        seed.presence = agent.presence;
        seed.skills = group.skills;
        seed.capacity = group.capacity;
        seed.capacity.profile_max.resize(config.profiles.size(), 0);
        seed.attributes = group.attributes;
        seed.queues = group.queues;
        config.agents.push_back(std::move(seed));
        schedule_presence(group, g, k, id);
      }
    }
    stats_.agents.resize(agents_.size());
    answer_rng_.reserve(agents_.size());
    for (std::uint32_t id = 0; id < agents_.size(); ++id) {
      answer_rng_.emplace_back(stream_seed(seed_, kAnswerStream, id));
    }

    if (kind_ == EngineKind::kernel) {
      KernelOptions options;
      options.expected_items = 1024;
      Result<Kernel> kernel = Kernel::create(std::move(config), options);
      if (!kernel) return kernel.error();
      engine_ = std::make_unique<KernelEngine>(std::move(kernel).value());
    } else {
      engine_ = std::make_unique<ReferenceEngine>(std::move(config));
    }

    for (std::uint32_t q = 0; q < s_.queues.size(); ++q) schedule_arrival(q, 0.0);
    // The channels' periodic cycles run when the engine's clock passes them: tick at each.
    for (const auto& queue : s_.queues) {
      const ChannelId channel = s_.config.queues[queue.queue_id].channel;
      const Timestamp period = s_.config.channels[channel].periodic_ms;
      if (period > 0 && periodic_[channel] == 0) {
        periodic_[channel] = 1;
        for (Timestamp t = period; t <= end_ms_; t += period) push({t, 0, ActionKind::tick});
      }
    }
    return std::nullopt;
  }

  // The presence agent k of `group` has at time t (ms) by its shifts and breaks.
  PresenceId presence_at(const AgentGroup& group, std::uint32_t k, Timestamp t) const {
    bool on_shift = group.shifts.empty();
    for (const auto& [start, end] : group.shifts) {
      if (t >= to_ms(start) && t < to_ms(end)) on_shift = true;
    }
    if (!on_shift) return kOffline;
    for (const BreakSpec& b : group.breaks) {
      const Timestamp start = break_start(group, b, k);
      if (t >= start && t < start + to_ms(b.duration_s)) return b.presence;
    }
    return group.working_presence;
  }
  Timestamp break_start(const AgentGroup& group, const BreakSpec& b, std::uint32_t k) const {
    return to_ms(b.start_s + b.stagger_s * static_cast<double>(k) / static_cast<double>(group.count));
  }
  // Every instant where the presence may change gets an action that sets presence_at(t).
  void schedule_presence(const AgentGroup& group, std::uint32_t g, std::uint32_t k,
                         std::uint32_t id) {
    std::vector<Timestamp> changes;
    for (const auto& [start, end] : group.shifts) {
      changes.push_back(to_ms(start));
      changes.push_back(to_ms(end));
    }
    for (const BreakSpec& b : group.breaks) {
      const Timestamp start = break_start(group, b, k);
      changes.push_back(start);
      changes.push_back(start + to_ms(b.duration_s));
    }
    std::sort(changes.begin(), changes.end());
    changes.erase(std::unique(changes.begin(), changes.end()), changes.end());
    PresenceId current = presence_at(group, k, 0);
    for (Timestamp t : changes) {
      if (t <= 0 || t > end_ms_) continue;
      const PresenceId next = presence_at(group, k, t);
      if (next == current) continue;
      Action a{t, 0, ActionKind::presence};
      a.b = id;
      a.gen = next;
      push(a);
      current = next;
    }
    (void)g;
  }

  void push(Action a) {
    a.sequence = next_sequence_++;
    heap_.push(a);
  }

  // Poisson arrivals with rates constant per interval: an exponential gap at the current rate,
  // restarted at the next interval's rate when it crosses the boundary (memorylessness makes
  // this exact).
  void schedule_arrival(std::uint32_t q, double from_s) {
    const QueueTraffic& traffic = s_.queues[q];
    double t = from_s;
    for (;;) {
      const auto k = std::min<std::size_t>(static_cast<std::size_t>(t / s_.interval_s),
                                           traffic.rates_per_hour.size() - 1);
      const double boundary = std::min(s_.horizon_s, static_cast<double>(k + 1) * s_.interval_s);
      const double rate = traffic.rates_per_hour[k] / 3600.0;
      if (rate > 0.0) {
        const double next = t + arrival_rng_[q].exponential(1.0 / rate);
        if (next < boundary) {
          next_arrival_s_[q] = next;
          Action a{to_ms(next), 0, ActionKind::arrival};
          a.a = q;
          push(a);
          ++arrivals_pending_;
          return;
        }
      }
      if (boundary >= s_.horizon_s) return;
      t = boundary;
    }
  }

  // --- the main loop ----------------------------------------------------------------------------

  void loop() {
    std::vector<Event> batch;
    std::vector<std::uint32_t> batch_items;
    std::vector<Decision> decisions;
    std::vector<Action> deferred;
    Timestamp next_progress = 0;
    const Timestamp progress_step = std::max<Timestamp>(1, horizon_ms_ / 100);
    while (!heap_.empty()) {
      const Timestamp now = heap_.top().time;
      if (now > end_ms_) break;
      if (now >= horizon_ms_ && waiting_ == 0 && arrivals_pending_ == 0) {
        // Everything that arrived is answered or abandoned: only completions remain, which
        // change no figure but occupancy, measured inside the horizon only. (An arrival drawn
        // just before the horizon may round to its millisecond: it still arrives, on either
        // side of a compare.)
        break;
      }
      sample_depth_until(now);
      if (progress_ && now >= next_progress) {
        progress_(std::min(1.0, static_cast<double>(now) / static_cast<double>(end_ms_)));
        next_progress = now + progress_step;
      }
      now_ = now;
      // Rounds at this millisecond until nothing more is due.
      while (!heap_.empty() && heap_.top().time == now) {
        batch.clear();
        batch_items.clear();
        deferred.clear();
        if (is_timer(heap_.top().kind)) {
          // The timers due now, alone: one Tick fires them all.
          while (!heap_.empty() && heap_.top().time == now && is_timer(heap_.top().kind)) {
            const Action action = heap_.top();
            heap_.pop();
            if (action.kind == ActionKind::wrap_up_end) {
              touch(action.b, action.time);
              --agents_[action.b].active;
            }
          }
          Event tick;
          tick.time = now;
          tick.sequence = ++event_sequence_;
          tick.body = Tick{};
          batch.push_back(std::move(tick));
        } else {
          while (!heap_.empty() && heap_.top().time == now) {
            const Action action = heap_.top();
            heap_.pop();
            to_event(action, batch, batch_items, deferred);
          }
        }
        for (const Action& a : deferred) push(a);
        for (std::uint32_t item : batch_items) items_[item].in_flight = false;
        if (batch.empty()) continue;
        decisions.clear();
        const auto start = Clock::now();
        engine_->apply(batch, decisions);
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
        stats_.engine_wall_s += static_cast<double>(ns) * 1e-9;
        stats_.events += batch.size();
        ++stats_.batches;
        stats_.decisions += decisions.size();
        if (!decisions.empty()) {
          stats_.latency_ns.add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, ns)),
                                decisions.size());
        }
        for (const Decision& d : decisions) on_decision(d);
      }
    }
    stats_.simulated_s = static_cast<double>(std::min(now_, end_ms_)) / 1000.0;
  }

  // Turns a due action into an engine event, or drops it when its reason has gone.
  void to_event(const Action& action, std::vector<Event>& batch,
                std::vector<std::uint32_t>& batch_items, std::vector<Action>& deferred) {
    const auto item_event = [&](std::uint32_t item) -> bool {
      Item& it = items_[item];
      if (it.in_flight) {
        deferred.push_back(action);  // another event of this item is in this batch
        return false;
      }
      it.in_flight = true;
      batch_items.push_back(item);
      return true;
    };
    Event e;
    e.time = action.time;
    e.sequence = ++event_sequence_;
    switch (action.kind) {
      case ActionKind::arrival: {
        const std::uint32_t q = action.a;
        --arrivals_pending_;
        const auto item = static_cast<std::uint32_t>(items_.size());
        items_.push_back(make_item(q, action.time));
        items_.back().in_flight = true;
        batch_items.push_back(item);
        e.body = make_arrive(q, item);
        batch.push_back(std::move(e));
        schedule_arrival(q, next_arrival_s_[q]);
        return;
      }
      case ActionKind::answer:
      case ActionKind::no_answer: {
        const Item& it = items_[action.a];
        if (it.state != ItemState::offered || it.offer_gen != action.gen) return;
        if (!item_event(action.a)) return;
        const ExternalId item(static_cast<std::uint64_t>(action.a));
        const ExternalId agent(static_cast<std::uint64_t>(action.b));
        if (action.kind == ActionKind::no_answer) {
          e.body = OfferTimeout{item, agent};
        } else if (action.flag) {
          e.body = OfferAccept{item, agent};
        } else {
          e.body = OfferDecline{item, agent};
        }
        batch.push_back(std::move(e));
        return;
      }
      case ActionKind::abandon: {
        const Item& it = items_[action.a];
        if (it.state == ItemState::assigned || it.state == ItemState::done) return;
        if (!item_event(action.a)) return;
        e.body = ItemCancel{ExternalId(static_cast<std::uint64_t>(action.a))};
        batch.push_back(std::move(e));
        return;
      }
      case ActionKind::complete: {
        if (items_[action.a].state != ItemState::assigned) return;
        if (!item_event(action.a)) return;
        e.body = ItemComplete{ExternalId(static_cast<std::uint64_t>(action.a))};
        batch.push_back(std::move(e));
        return;
      }
      case ActionKind::wrap_up_end:  // timers are handled by loop()
        return;
      case ActionKind::presence: {
        touch(action.b, action.time);
        agents_[action.b].presence = static_cast<PresenceId>(action.gen);
        e.body = PresenceChange{ExternalId(static_cast<std::uint64_t>(action.b)),
                                static_cast<PresenceId>(action.gen)};
        batch.push_back(std::move(e));
        return;
      }
      case ActionKind::tick:
        return;
    }
  }

  Item make_item(std::uint32_t q, Timestamp t) {
    Item it;
    it.arrived = t;
    it.queue = q;
    it.measured = t >= warmup_ms_ && t < horizon_ms_;
    it.interval = static_cast<std::uint32_t>(
        std::min<std::size_t>(static_cast<std::size_t>(t / interval_ms_),
                              stats_.queues[q].intervals.size() - 1));
    ++stats_.items;
    ++waiting_;
    if (it.measured) {
      ++stats_.queues[q].offered;
      ++stats_.queues[q].intervals[it.interval].offered;
    }
    return it;
  }

  // The customer: everything about it is drawn here, from its own stream (the file comment).
  ItemArrive make_arrive(std::uint32_t q, std::uint32_t item) {
    const QueueTraffic& traffic = s_.queues[q];
    Item& it = items_[item];
    Rng rng(stream_seed(seed_, kCustomerStream, q, arrivals_[q]++));
    std::uint64_t& digest = stats_.queues[q].customers_digest;
    digest = mix64(digest + static_cast<std::uint64_t>(it.arrived));
    ItemArrive arrive;
    arrive.item = ExternalId(static_cast<std::uint64_t>(item));
    arrive.queue = traffic.queue_id;
    for (std::size_t m = 0; m < traffic.attributes.size(); ++m) {
      const AttributeMix& mix = traffic.attributes[m];
      const std::size_t v = rng.pick(mix.weights, attribute_totals_[q][m]);
      digest = mix64(digest + v);
      arrive.attributes.emplace(mix.key, mix.values[v]);
    }
    if (!traffic.skill_mix.empty()) {
      const std::size_t k = pick_skill(q, rng);
      digest = mix64(digest + k);
      arrive.skills = traffic.skill_mix[k].skills;
    }
    arrive.units = traffic.units;
    ++depth_[q];
    if (traffic.patience) {
      const Timestamp patience_ms = to_ms(rng.draw(*traffic.patience));
      digest = mix64(digest + static_cast<std::uint64_t>(patience_ms));
      Action a{it.arrived + patience_ms, 0, ActionKind::abandon};
      a.a = item;
      push(a);
    }
    it.handle_s = std::max(0.0, rng.draw(traffic.handling));
    it.wrap_ms = traffic.wrap_up ? to_ms(std::max(0.0, rng.draw(*traffic.wrap_up))) : 0;
    digest = mix64(digest + static_cast<std::uint64_t>(to_ms(it.handle_s)));
    digest = mix64(digest + static_cast<std::uint64_t>(it.wrap_ms));
    return arrive;
  }
  std::size_t pick_skill(std::uint32_t q, Rng& rng) {
    const auto& mix = s_.queues[q].skill_mix;
    double r = rng.uniform() * skill_totals_[q];
    for (std::size_t i = 0; i + 1 < mix.size(); ++i) {
      if (r < mix[i].weight) return i;
      r -= mix[i].weight;
    }
    return mix.size() - 1;
  }

  // --- decisions --------------------------------------------------------------------------------

  void on_decision(const Decision& d) {
    if (d.kind == DecisionKind::error) {
      if (stats_.errors++ == 0) stats_.first_error = std::string(to_string(d.error)) + ": " + d.message;
      return;
    }
    const auto item_id = static_cast<std::uint32_t>(d.item.number());
    Item& it = items_[item_id];
    QueueStats& qs = stats_.queues[it.queue];
    const Timestamp t = d.time;
    switch (d.kind) {
      case DecisionKind::offer: {
        const auto agent = static_cast<std::uint32_t>(d.agent->number());
        --depth_[it.queue];
        if (it.offer_gen == 0 && t == it.arrived) it.queued = false;
        it.state = ItemState::offered;
        it.agent = agent;
        ++it.offer_gen;
        touch(agent, t);
        ++agents_[agent].offers;
        schedule_answer(item_id, agent, t);
        const ChannelId channel = s_.config.queues[s_.queues[it.queue].queue_id].channel;
        const Timestamp timeout = s_.config.channels[channel].offer_timeout_ms;
        if (timeout > 0) push({t + timeout, 0, ActionKind::tick});
        return;
      }
      case DecisionKind::assigned: {
        const auto agent = static_cast<std::uint32_t>(d.agent->number());
        touch(agent, t);
        Agent& a = agents_[agent];
        if (it.state == ItemState::offered) --a.offers;
        ++a.active;
        ++stats_.agents[agent].assignments;
        it.state = ItemState::assigned;
        it.agent = agent;
        --waiting_;
        const double handle_s = it.handle_s;
        Action done{t + to_ms(handle_s) + it.wrap_ms, 0, ActionKind::complete};
        done.a = item_id;
        push(done);
        if (it.measured) {
          const Timestamp wait = t - it.arrived;
          const double wait_s = static_cast<double>(wait) / 1000.0;
          ++qs.answered;
          qs.handle_sum_s += handle_s;
          qs.waits_s.push_back(wait_s);
          if (it.queued) ++qs.waited;
          IntervalStats& iv = qs.intervals[it.interval];
          ++iv.answered;
          iv.wait_sum_s += wait_s;
          count_within(wait, qs.answered_within, iv.answered_within);
        }
        return;
      }
      case DecisionKind::requeued: {
        const auto agent = static_cast<std::uint32_t>(d.agent->number());
        touch(agent, t);
        --agents_[agent].offers;
        ++depth_[it.queue];
        it.state = ItemState::queued;
        if (it.measured) {
          if (d.reason == RequeueReason::declined) {
            ++qs.declines;
          } else {
            ++qs.offer_timeouts;
          }
        }
        return;
      }
      case DecisionKind::parked:
        --depth_[it.queue];
        it.state = ItemState::parked;
        if (it.measured) ++qs.parked;
        return;
      case DecisionKind::cancelled: {
        if (it.state == ItemState::queued) --depth_[it.queue];
        if (it.state == ItemState::offered) {
          touch(it.agent, t);
          --agents_[it.agent].offers;
        }
        it.state = ItemState::done;
        --waiting_;
        if (it.measured) {
          const Timestamp wait = t - it.arrived;
          ++qs.abandoned;
          if (it.queued) ++qs.waited;
          qs.abandon_waits_s.push_back(static_cast<double>(wait) / 1000.0);
          IntervalStats& iv = qs.intervals[it.interval];
          ++iv.abandoned;
          count_within(wait, qs.abandoned_within, iv.abandoned_within);
        }
        return;
      }
      case DecisionKind::completed: {
        it.state = ItemState::done;
        if (it.measured) ++qs.completed;
        const ChannelId channel = s_.config.queues[s_.queues[it.queue].queue_id].channel;
        const Timestamp wrap = s_.config.channels[channel].wrap_up_ms;
        if (wrap > 0) {
          Action end{t + wrap, 0, ActionKind::wrap_up_end};
          end.b = it.agent;
          push(end);
        } else {
          touch(it.agent, t);
          --agents_[it.agent].active;
        }
        return;
      }
      case DecisionKind::transferred:
      case DecisionKind::error:
        return;
    }
  }

  void schedule_answer(std::uint32_t item, std::uint32_t agent, Timestamp t) {
    const AnswerBehavior& answer = s_.groups[agents_[agent].group].answer;
    Action a{t, 0, ActionKind::answer};
    a.a = item;
    a.b = agent;
    a.gen = items_[item].offer_gen;
    // The agent's own stream: its n-th offer is answered alike whatever routing offers it.
    Rng& rng = answer_rng_[agent];
    const double r = answer.no_answer > 0.0 || answer.decline > 0.0 ? rng.uniform() : 0.0;
    if (r < answer.accept || (answer.no_answer <= 0.0 && answer.decline <= 0.0)) {
      a.flag = true;
      a.time = t + to_ms(std::max(0.0, rng.draw(answer.response_delay)));
    } else if (r < answer.accept + answer.decline) {
      a.flag = false;
      a.time = t + to_ms(std::max(0.0, rng.draw(answer.response_delay)));
    } else {
      a.kind = ActionKind::no_answer;
      a.time = t + to_ms(answer.no_answer_timeout_s);
    }
    push(a);
  }

  // --- accumulators -----------------------------------------------------------------------------

  // Counts a wait against every service-level threshold it is within, for the queue and for the
  // interval the customer arrived in (`per_queue` and `per_interval` are indexed by threshold).
  void count_within(Timestamp wait, std::vector<std::uint64_t>& per_queue,
                    std::vector<std::uint64_t>& per_interval) const {
    for (std::size_t k = 0; k < threshold_ms_.size(); ++k) {
      if (wait <= threshold_ms_[k]) {
        ++per_queue[k];
        ++per_interval[k];
      }
    }
  }

  // Brings agent `id`'s time accumulators up to t; the measured window is [warm-up, horizon).
  void touch(std::uint32_t id, Timestamp t) {
    Agent& a = agents_[id];
    const Timestamp from = std::max(a.last, warmup_ms_);
    const Timestamp to = std::min(t, horizon_ms_);
    if (to > from) {
      const double dt = static_cast<double>(to - from) / 1000.0;
      AgentStats& st = stats_.agents[id];
      const bool busy = a.active > 0;
      const PresenceId working = s_.groups[a.group].working_presence;
      if (busy || a.presence == working) st.on_s += dt;
      if (busy) st.busy_s += dt;
      if (busy || a.offers > 0) st.busy_or_offered_s += dt;
    }
    a.last = std::max(a.last, t);
  }

  // Depth samples at every step up to (and including) instants before `now`: the depth after
  // every event at or before the sample time.
  void sample_depth_until(Timestamp now) {
    while (next_sample_ms_ < now && next_sample_ms_ <= end_ms_) {
      for (std::size_t q = 0; q < depth_.size(); ++q) {
        stats_.queues[q].depth.push_back(static_cast<double>(depth_[q]));
      }
      next_sample_ms_ += step_ms_;
    }
    for (std::size_t q = 0; q < depth_.size(); ++q) {
      stats_.queues[q].max_depth = std::max<std::uint64_t>(stats_.queues[q].max_depth, depth_[q]);
    }
  }

  void finish() {
    sample_depth_until(end_ms_ + 1);
    const Timestamp stop = std::max(now_, horizon_ms_);
    for (std::uint32_t id = 0; id < agents_.size(); ++id) touch(id, stop);
    if (progress_) progress_(1.0);
  }

  static constexpr PresenceId kOffline = 4;  // R2's built-in "offline"
  // The first word of each stream's key (stream_seed): which source of randomness it is.
  static constexpr std::uint64_t kArrivalStream = 1;   // then the queue
  static constexpr std::uint64_t kCustomerStream = 2;  // then the queue, the arrival's number
  static constexpr std::uint64_t kAnswerStream = 3;    // then the agent

  const Scenario& s_;
  EngineKind kind_;
  std::uint64_t seed_;
  const std::function<void(double)>& progress_;
  std::unique_ptr<Engine> engine_;
  ReplicationStats stats_;

  Timestamp horizon_ms_ = 0;
  Timestamp warmup_ms_ = 0;
  Timestamp end_ms_ = 0;
  Timestamp interval_ms_ = 1;
  Timestamp step_ms_ = 1;
  Timestamp now_ = 0;
  Timestamp next_sample_ms_ = 0;
  std::vector<Timestamp> threshold_ms_;
  std::vector<std::uint32_t> queue_index_;
  std::vector<double> skill_totals_;
  std::vector<std::vector<double>> attribute_totals_;
  std::vector<double> next_arrival_s_;
  std::vector<Rng> arrival_rng_;        // per queue
  std::vector<std::uint64_t> arrivals_;  // per queue: arrivals so far (the customer's number)
  std::vector<Rng> answer_rng_;         // per agent
  std::uint32_t arrivals_pending_ = 0;  // queues with an arrival action in the heap
  std::vector<std::uint64_t> depth_;
  std::vector<std::uint8_t> periodic_;
  std::uint64_t waiting_ = 0;  // items queued, offered or parked
  std::uint64_t next_sequence_ = 0;
  std::uint64_t event_sequence_ = 0;
  std::vector<Item> items_;
  std::vector<Agent> agents_;
  std::priority_queue<Action, std::vector<Action>, Later> heap_;
};

}  // namespace

Result<ReplicationStats> run_replication(const Scenario& scenario, EngineKind engine,
                                         std::uint64_t seed,
                                         const std::function<void(double)>& progress) {
  Simulation simulation(scenario, engine, seed, progress);
  return simulation.run();
}

}  // namespace switchboard::loadtest
