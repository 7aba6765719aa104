// Workload generation (workload.hpp): build a configuration in code, then simulate a host that
// answers the reference router, recording every event it sends.
//
// The simulated host keeps the load of live items near occupancy x agents, where an item
// occupies 1/capacity of an agent (a chat of three 1/3, an email of four units 1/4, a call all
// of it, since it blocks the rest): the initial population arrives over a ramp window, and every
// completion or abandonment is followed by new arrivals that restore the load (arrivals
// balanced by completions). Each offer is answered after a response
// delay, by an accept or (with a small probability) a decline; each accepted item completes
// after a handle time that depends on its channel; a customer still waiting after its patience
// abandons (cancel), which keeps items that no agent can take from piling up.

#include "workload.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <iterator>
#include <limits>
#include <numeric>
#include <optional>
#include <queue>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "switchboard/condition.hpp"
#include "switchboard/reference_router.hpp"

namespace switchboard::bench {

std::int64_t Rng::between(std::int64_t lo, std::int64_t hi) {
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == std::numeric_limits<std::uint64_t>::max()) return static_cast<std::int64_t>(next());
  const std::uint64_t range = span + 1;
  // Reject the top partial copy of [0, range) so that every value is equally likely.
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              std::numeric_limits<std::uint64_t>::max() % range;
  std::uint64_t x = next();
  while (x >= limit) x = next();
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + x % range);
}

namespace {

// Decision::agent is an ExternalId today and may become std::optional<ExternalId>; read it
// either way.
template <typename T>
const ExternalId& agent_of(const T& agent) {
  if constexpr (std::is_same_v<std::remove_cvref_t<T>, std::optional<ExternalId>>) {
    return *agent;
  } else {
    return agent;
  }
}

// k distinct values of [0, n) in draw order (partial Fisher-Yates).
std::vector<std::size_t> distinct(Rng& rng, std::size_t n, std::size_t k) {
  std::vector<std::size_t> pool(n);
  std::iota(pool.begin(), pool.end(), std::size_t{0});
  k = std::min(k, n);
  for (std::size_t i = 0; i < k; ++i) std::swap(pool[i], pool[i + rng.index(n - i)]);
  pool.resize(k);
  return pool;
}

// "q0007": names that sort like their numbers (R12 orders ruleset queues by name).
std::string padded(std::string_view prefix, std::size_t n, std::size_t width) {
  std::string digits = std::to_string(n);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return std::string(prefix) + digits;
}

Config base_config(std::size_t skills) {
  Config config;
  for (std::size_t s = 0; s < skills; ++s) config.skills.push_back("skill_" + std::to_string(s));
  for (std::string_view p : kBuiltinPresences) config.presences.emplace_back(p);
  config.profiles = {ProfileConfig{"chat", false}, ProfileConfig{"voice", true}};
  ChannelConfig chat = channel_defaults(ChannelKind::chat);
  chat.capacity_model = CapacityModel::profile;
  chat.profile = 0;
  ChannelConfig voice = channel_defaults(ChannelKind::voice);
  voice.capacity_model = CapacityModel::profile;
  voice.profile = 1;
  ChannelConfig email = channel_defaults(ChannelKind::email);
  email.capacity_model = CapacityModel::units;
  email.units_per_item = 1;
  config.channels = {chat, voice, email};
  return config;
}
constexpr ChannelId kChat = 0, kVoice = 1, kEmail = 2;

Condition condition(const Config& config, std::string_view text, ConditionScope scope) {
  ConditionParseOptions options;
  options.scope = scope;
  options.skills = &config.skills;
  options.presences = &config.presences;
  Result<Condition> parsed = parse_condition(text, options);
  if (!parsed) {
    throw std::logic_error("bench workload: bad condition \"" + std::string(text) +
                           "\": " + parsed.error().message);
  }
  return std::move(parsed).value();
}

QueueConfig make_queue(const Config& config, std::string name, std::int32_t group,
                       ChannelId channel) {
  QueueConfig queue;
  queue.name = std::move(name);
  queue.group = group;
  queue.channel = channel;
  queue.block_size = config.channels[channel].block_size;
  queue.prioritization_limit = config.channels[channel].prioritization_limit;
  return queue;
}

// Handle time and patience by channel (milliseconds).
struct ChannelTiming {
  Timestamp handle_min, handle_max, patience;
};
ChannelTiming timing_of(ChannelKind kind, const HostBehaviour& host) {
  switch (kind) {
    case ChannelKind::voice: return {3 * 60'000, 8 * 60'000, host.patience_ms};
    case ChannelKind::email: return {5 * 60'000, 20 * 60'000, 6 * host.patience_ms};
    default: return {4 * 60'000, 12 * 60'000, host.patience_ms};
  }
}

// Makes the ItemArrive of a new item (its id given) at time `now`.
using ItemFactory = std::function<ItemArrive(Rng&, std::uint64_t id, Timestamp now)>;

// Items for agents described by their queues and skills (sorted by id): pick a random agent, one
// of its queues, and 1..n of its skills at no more than its proficiency, so that at least one member
// of the queue can take the item; attributes and affinity if asked.
struct MemberDrawnItems {
  std::vector<std::vector<QueueId>> agent_queues;
  std::vector<std::vector<SkillLevel>> agent_skills;
  std::vector<std::string> agent_language;
  std::size_t min_skills = 1, max_skills = 1;
  std::int32_t min_proficiency = 1;
  bool attributes = false;
  std::uint32_t affinity_per_mille = 0;

  ItemArrive operator()(Rng& rng, std::uint64_t id, Timestamp now) const {
    const std::size_t a = rng.index(agent_queues.size());
    ItemArrive arrive;
    arrive.item = ExternalId(id);
    arrive.queue = agent_queues[a][rng.index(agent_queues[a].size())];
    const std::vector<SkillLevel>& skills = agent_skills[a];
    if (!skills.empty() && max_skills > 0) {
      const std::size_t hi = std::min(max_skills, skills.size());
      const std::size_t lo = std::min(min_skills, hi);
      // Each skill beyond the first with probability 40%: 1 skill 60%, 2 24%, 3 16%.
      std::size_t count = lo;
      while (count < hi && rng.chance(400)) ++count;
      // Among the agent's most common skills (skills are sorted by id, low ids are common), so
      // that an item typically has dozens of candidates rather than one.
      const std::size_t common = std::min(skills.size(), count + 1);
      for (std::size_t k : distinct(rng, common, count)) {
        SkillRequirement requirement;
        requirement.skill = skills[k].skill;
        if (rng.chance(250) && skills[k].proficiency >= min_proficiency) {
          requirement.min_proficiency = static_cast<std::int32_t>(
              rng.between(min_proficiency, std::max(min_proficiency, skills[k].proficiency / 2)));
        }
        arrive.skills.push_back(requirement);
      }
    }
    if (attributes) {
      static constexpr const char* kLanguages[] = {"en", "es", "fr", "de"};
      arrive.attributes["language"] =
          std::string(rng.chance(700) ? agent_language[a] : kLanguages[rng.index(4)]);
      arrive.attributes["priority"] = std::string(rng.chance(200) ? "High" : "Normal");
      arrive.attributes["category"] = std::string(rng.chance(300) ? "Premium" : "Standard");
      arrive.attributes["first_response_by"] = std::int64_t{now + rng.between(60'000, 600'000)};
    }
    if (affinity_per_mille > 0 && rng.chance(affinity_per_mille)) {
      arrive.affinity_agent = ExternalId(static_cast<std::uint64_t>(a + 1));
    }
    return arrive;
  }
};

// ---- the closed-loop simulation --------------------------------------------------------------

enum class Action : std::uint8_t { arrive, respond, complete, abandon };

struct Pending {
  Timestamp time = 0;
  std::uint64_t order = 0;  // FIFO among equal times: the stream is a total order
  Action action = Action::arrive;
  std::uint64_t item = 0;
  ExternalId agent;
  friend bool operator>(const Pending& a, const Pending& b) {
    return std::tie(a.time, a.order) > std::tie(b.time, b.order);
  }
};

enum class Tracked : std::uint8_t { queued, offered, assigned, parked };
struct TrackedItem {
  Tracked state = Tracked::queued;
  ChannelKind channel = ChannelKind::chat;
  std::uint32_t load = 0;  // per mille of an agent
  ExternalId agent;
};

// How much of one agent an item of each channel kind occupies, in per mille (index: ChannelKind):
// a chat of an agent with 3 chat slots is 333, a call that blocks everything else 1000.
using LoadTable = std::array<std::uint32_t, 5>;

class Simulation {
 public:
  Simulation(Config config, const HostBehaviour& host, LoadTable load, std::uint64_t seed,
             ItemFactory factory)
      : config_(std::move(config)),
        host_(host),
        load_(load),
        target_load_(static_cast<std::uint64_t>(config_.agents.size()) * host.occupancy_per_mille),
        rng_(seed ^ 0x9E3779B97F4A7C15ull),
        factory_(std::move(factory)) {}

  Workload run(std::string name, std::size_t target_events, bool keep_decisions) {
    const auto started = std::chrono::steady_clock::now();
    Workload w;
    w.name = std::move(name);
    w.config = config_;
    w.events.reserve(target_events);
    w.stats.agents = config_.agents.size();
    w.stats.queues = config_.queues.size();

    ReferenceRouter router(config_);
    top_up(0, true);  // the initial population arrives over the ramp window

    std::vector<Decision> out;
    double occupancy_sum = 0, queued_sum = 0;
    std::size_t samples = 0;
    const double capacity = 1000.0 * static_cast<double>(std::max<std::size_t>(1, w.stats.agents));
    while (w.events.size() < target_events && !pending_.empty()) {
      const Pending p = pending_.top();
      pending_.pop();
      std::optional<EventBody> body = realize(p, w.stats);
      if (!body) continue;
      Event event;
      event.time = p.time;
      event.sequence = w.events.size();
      event.body = std::move(*body);
      router.apply(event, out);
      for (const Decision& d : out) observe(d, w.stats);
      w.reference_decisions += out.size();
      if (keep_decisions) {
        std::move(out.begin(), out.end(), std::back_inserter(w.decisions));
      }
      out.clear();
      w.events.push_back(std::move(event));
      if (w.events.size() * 2 >= target_events) {
        occupancy_sum += static_cast<double>(service_load_) / capacity;
        queued_sum += static_cast<double>(queued_);
        ++samples;
      }
    }
    if (samples > 0) {
      w.stats.occupancy = occupancy_sum / static_cast<double>(samples);
      w.stats.mean_queued = queued_sum / static_cast<double>(samples);
    }
    w.stats.duration_ms = w.events.empty() ? 0 : w.events.back().time - w.events.front().time;
    if (w.stats.errors > 0) {
      throw std::logic_error("bench workload " + w.name + ": the reference refused " +
                             std::to_string(w.stats.errors) +
                             " generated events; the generator is wrong");
    }
    w.stats.generation_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return w;
  }

 private:
  void schedule(Timestamp time, Action action, std::uint64_t item, ExternalId agent) {
    pending_.push(Pending{time, order_++, action, item, std::move(agent)});
  }

  std::uint32_t load_of(QueueId queue) const {
    return load_[static_cast<std::size_t>(config_.channels[config_.queues[queue].channel].kind)];
  }

  // Arrivals balanced by completions: plans new items until the load of the live and planned
  // items reaches occupancy x agents. At the start they arrive over the ramp window, later each
  // a short gap after the completion or cancel that made room.
  void top_up(Timestamp now, bool ramp) {
    while (live_load_ < target_load_) {
      const std::uint64_t id = next_item_++;
      const Timestamp at = ramp ? rng_.between(0, host_.ramp_ms)
                                : now + rng_.between(host_.gap_min_ms, host_.gap_max_ms);
      ItemArrive arrive = factory_(rng_, id, at);
      live_load_ += load_of(arrive.queue);
      planned_.emplace(id, std::move(arrive));
      schedule(at, Action::arrive, id, {});
    }
  }

  // The event a pending host action becomes now, or nothing when it no longer applies.
  std::optional<EventBody> realize(const Pending& p, WorkloadStats& stats) {
    if (p.action == Action::arrive) {
      const auto planned = planned_.find(p.item);
      ItemArrive arrive = std::move(planned->second);
      planned_.erase(planned);
      const ChannelKind kind = config_.channels[config_.queues[arrive.queue].channel].kind;
      items_[p.item] = TrackedItem{Tracked::queued, kind, load_of(arrive.queue), {}};
      ++queued_;
      ++stats.arrivals;
      schedule(p.time + timing_of(kind, host_).patience, Action::abandon, p.item, {});
      return EventBody{std::move(arrive)};
    }
    const auto it = items_.find(p.item);
    if (it == items_.end()) return std::nullopt;
    TrackedItem& item = it->second;
    switch (p.action) {
      case Action::respond:
        if (item.state != Tracked::offered || item.agent != p.agent) return std::nullopt;
        if (rng_.chance(host_.decline_per_mille)) {
          ++stats.declines;
          return EventBody{OfferDecline{ExternalId(p.item), p.agent}};
        }
        ++stats.accepts;
        return EventBody{OfferAccept{ExternalId(p.item), p.agent}};
      case Action::complete:
        if (item.state != Tracked::assigned || item.agent != p.agent) return std::nullopt;
        ++stats.completions;
        return EventBody{ItemComplete{ExternalId(p.item)}};
      case Action::abandon:
        if (item.state == Tracked::offered) {  // being answered: look again later
          schedule(p.time + timing_of(item.channel, host_).patience, Action::abandon, p.item, {});
          return std::nullopt;
        }
        if (item.state == Tracked::assigned) return std::nullopt;
        ++stats.cancels;
        return EventBody{ItemCancel{ExternalId(p.item)}};
      case Action::arrive: break;
    }
    return std::nullopt;
  }

  static bool in_service(Tracked state) {
    return state == Tracked::offered || state == Tracked::assigned;
  }
  void set_state(TrackedItem& item, Tracked state) {
    if (in_service(item.state)) service_load_ -= item.load;
    if (in_service(state)) service_load_ += item.load;
    if (item.state == Tracked::queued) --queued_;
    if (state == Tracked::queued) ++queued_;
    item.state = state;
  }

  // Follows the reference's decisions: what the host will do next.
  void observe(const Decision& d, WorkloadStats& stats) {
    if (d.kind == DecisionKind::error) {
      ++stats.errors;
      return;
    }
    const std::uint64_t id = d.item.number();
    const auto it = items_.find(id);
    if (it == items_.end()) return;
    TrackedItem& item = it->second;
    switch (d.kind) {
      case DecisionKind::offer:
        ++stats.offers;
        set_state(item, Tracked::offered);
        item.agent = agent_of(d.agent);
        schedule(d.time + rng_.between(host_.respond_min_ms, host_.respond_max_ms),
                 Action::respond, id, item.agent);
        break;
      case DecisionKind::assigned: {
        set_state(item, Tracked::assigned);
        item.agent = agent_of(d.agent);
        const ChannelTiming t = timing_of(item.channel, host_);
        schedule(d.time + rng_.between(t.handle_min, t.handle_max), Action::complete, id,
                 item.agent);
        break;
      }
      case DecisionKind::requeued: set_state(item, Tracked::queued); break;
      case DecisionKind::parked: set_state(item, Tracked::parked); break;
      case DecisionKind::completed:
      case DecisionKind::cancelled:
        set_state(item, Tracked::parked);  // leaves service and the queue counts
        live_load_ -= item.load;
        items_.erase(it);
        top_up(d.time, false);
        break;
      case DecisionKind::transferred:
      case DecisionKind::error: break;
    }
  }

  Config config_;
  HostBehaviour host_;
  LoadTable load_;
  std::uint64_t target_load_;       // per mille of an agent, summed
  std::uint64_t live_load_ = 0;     // planned + live items
  std::uint64_t service_load_ = 0;  // offered + assigned items
  Rng rng_;
  ItemFactory factory_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending_;
  std::uint64_t order_ = 0;
  std::uint64_t next_item_ = 1;
  std::unordered_map<std::uint64_t, ItemArrive> planned_;
  std::unordered_map<std::uint64_t, TrackedItem> items_;
  std::size_t queued_ = 0;
};

// One agent's share per item: 1000 / capacity of the channel (per mille).
LoadTable load_table(std::int32_t chat_capacity, std::int32_t voice_capacity,
                     std::int32_t email_units) {
  auto share = [](std::int32_t capacity) {
    return static_cast<std::uint32_t>(1000 / std::max<std::int32_t>(1, capacity));
  };
  LoadTable table{};
  table[static_cast<std::size_t>(ChannelKind::chat)] = share(chat_capacity);
  table[static_cast<std::size_t>(ChannelKind::messaging)] = share(chat_capacity);
  table[static_cast<std::size_t>(ChannelKind::voice)] = 1000;  // a call blocks everything else
  table[static_cast<std::size_t>(ChannelKind::email)] = share(email_units);
  table[static_cast<std::size_t>(ChannelKind::record)] = share(email_units);
  (void)voice_capacity;
  return table;
}

// Skills drawn with a skewed popularity (low ids common): P(id < k) = sqrt(k / n), so a few
// skills are held by many agents and items requiring them find many candidates.
SkillId skewed_skill(Rng& rng, std::size_t n) {
  const std::uint64_t x = static_cast<std::uint64_t>(rng.between(0, 65'535));
  return static_cast<SkillId>((x * x * n) >> 32);
}

}  // namespace

// ---- blended -----------------------------------------------------------------------------------

Workload make_blended(const BlendedParams& p, bool keep_decisions) {
  if (p.skills == 0 || p.skills > kMaxSkills || p.queues == 0 || p.agents == 0 ||
      p.groups < 1 || p.min_queues_per_agent == 0 ||
      p.min_queues_per_agent > p.max_queues_per_agent || p.skills_per_agent > p.skills) {
    throw std::invalid_argument("bench blended: inconsistent parameters");
  }
  Rng rng(p.seed);
  Config config = base_config(p.skills);
  static constexpr const char* kLanguages[] = {"en", "es", "fr", "de"};

  // Queues: group numbers in turn, channels chat/chat/voice/email in turn within each group;
  // methods shuffled: half highest capacity, the rest round robin, least active and custom in
  // turn. Every fifth queue has a prioritization ruleset (R8), every tenth closest skill
  // matching (R10).
  std::vector<AssignmentMethod> methods;
  for (std::size_t q = 0; q < p.queues; ++q) {
    static constexpr AssignmentMethod kOthers[] = {
        AssignmentMethod::round_robin, AssignmentMethod::least_active, AssignmentMethod::custom};
    methods.push_back(q < (p.queues + 1) / 2 ? AssignmentMethod::highest_capacity
                                             : kOthers[(q - (p.queues + 1) / 2) % 3]);
  }
  for (std::size_t i = methods.size(); i > 1; --i) std::swap(methods[i - 1], methods[rng.index(i)]);
  for (std::size_t q = 0; q < p.queues; ++q) {
    static constexpr ChannelId kMix[] = {kChat, kChat, kVoice, kEmail};
    QueueConfig queue = make_queue(config, padded("q", q, 4), 1 + static_cast<std::int32_t>(q % p.groups),
                                   kMix[(q / p.groups) % 4]);
    queue.method = methods[q];
    if (queue.method == AssignmentMethod::custom) {
      const bool units = config.channels[queue.channel].capacity_model == CapacityModel::units;
      queue.assignment = {
          AssignmentRule{"senior for high priority",
                         condition(config, "item.priority == \"High\" and agent.tier >= 2",
                                   ConditionScope::agent_and_item),
                         {AgentOrderKey{AgentOrderKind::proficiency, false, {}},
                          AgentOrderKey{AgentOrderKind::least_active, false, {}}}},
          AssignmentRule{"same language",
                         condition(config, "agent.language == item.language",
                                   ConditionScope::agent_and_item),
                         {AgentOrderKey{units ? AgentOrderKind::available_units
                                              : AgentOrderKind::available_profile,
                                        false, {}}}},
          AssignmentRule{"anyone", condition(config, "true", ConditionScope::agent_and_item),
                         {AgentOrderKey{AgentOrderKind::least_active, false, {}}}},
      };
    }
    if (q % 5 == 3) {
      queue.prioritization = {
          PrioritizationRule{"high premium",
                             condition(config, "item.priority == \"High\" and item.category == "
                                               "\"Premium\"",
                                       ConditionScope::item_only),
                             ItemOrder{}},
          PrioritizationRule{"premium",
                             condition(config, "item.category == \"Premium\"",
                                       ConditionScope::item_only),
                             ItemOrder{}},
          PrioritizationRule{"high by deadline",
                             condition(config, "item.priority == \"High\"",
                                       ConditionScope::item_only),
                             ItemOrder{"first_response_by", false}},
      };
    }
    if (q % 10 == 7) queue.skill_matching = SkillMatching::closest;
    config.queues.push_back(std::move(queue));
  }

  MemberDrawnItems items;
  items.min_skills = p.min_item_skills;
  items.max_skills = p.max_item_skills;
  items.min_proficiency = p.min_proficiency;
  items.attributes = true;
  items.affinity_per_mille = 50;
  std::vector<bool> queue_has_member(p.queues, false);
  for (std::size_t a = 0; a < p.agents; ++a) {
    AgentSeed seed;
    seed.id = ExternalId(static_cast<std::uint64_t>(a + 1));
    seed.presence = config.available();
    // Three quarters of an agent's skills from the first 32 ("core": languages, product lines),
    // skewed towards the lowest ids; the rest from the long tail of specialities.
    std::vector<bool> held(p.skills, false);
    const std::size_t core = std::min<std::size_t>(32, p.skills);
    const std::size_t core_count = std::min(core, (p.skills_per_agent * 3 + 3) / 4);
    while (seed.skills.size() < p.skills_per_agent) {
      const SkillId s = seed.skills.size() < core_count || core == p.skills
                            ? skewed_skill(rng, core)
                            : static_cast<SkillId>(rng.between(static_cast<std::int64_t>(core),
                                                               static_cast<std::int64_t>(p.skills) - 1));
      if (held[s]) continue;
      held[s] = true;
      seed.skills.push_back(SkillLevel{
          s, static_cast<std::int32_t>(rng.between(p.min_proficiency, p.max_proficiency))});
    }
    std::sort(seed.skills.begin(), seed.skills.end(),
              [](const SkillLevel& a, const SkillLevel& b) { return a.skill < b.skill; });
    seed.capacity.units = p.email_units;
    seed.capacity.profile_max = {p.chat_capacity, p.voice_capacity};
    const std::string language = kLanguages[rng.chance(600) ? 0 : rng.index(4)];
    seed.attributes["language"] = language;
    seed.attributes["tier"] = std::int64_t{rng.between(1, 3)};
    const std::size_t count = static_cast<std::size_t>(
        rng.between(static_cast<std::int64_t>(p.min_queues_per_agent),
                    static_cast<std::int64_t>(std::min(p.max_queues_per_agent, p.queues))));
    for (std::size_t q : distinct(rng, p.queues, count)) {
      seed.queues.push_back(static_cast<QueueId>(q));
      queue_has_member[q] = true;
    }
    std::sort(seed.queues.begin(), seed.queues.end());
    items.agent_queues.push_back(seed.queues);
    items.agent_skills.push_back(seed.skills);
    items.agent_language.push_back(language);
    config.agents.push_back(std::move(seed));
  }
  for (std::size_t q = 0; q < p.queues; ++q) {  // every queue gets at least one member
    if (queue_has_member[q]) continue;
    const std::size_t a = q % p.agents;
    config.agents[a].queues.push_back(static_cast<QueueId>(q));
    std::sort(config.agents[a].queues.begin(), config.agents[a].queues.end());
    items.agent_queues[a] = config.agents[a].queues;
  }

  Simulation sim(std::move(config), p.host,
                 load_table(p.chat_capacity, p.voice_capacity, p.email_units), p.seed,
                 std::move(items));
  return sim.run("blended", p.events, keep_decisions);
}

// ---- pool-N ------------------------------------------------------------------------------------

Workload make_pool(const PoolParams& p, bool keep_decisions) {
  if (p.agents == 0) throw std::invalid_argument("bench pool: no agents");
  Config config = base_config(1);
  QueueConfig queue = make_queue(config, "pool", 1, kChat);
  queue.method = AssignmentMethod::highest_capacity;
  config.queues.push_back(std::move(queue));
  for (std::size_t a = 0; a < p.agents; ++a) {
    AgentSeed seed;
    seed.id = ExternalId(static_cast<std::uint64_t>(a + 1));
    seed.presence = config.available();
    seed.capacity.profile_max = {p.chat_capacity, 0};
    seed.queues = {0};
    config.agents.push_back(std::move(seed));
  }
  auto items = [](Rng&, std::uint64_t id, Timestamp) {
    ItemArrive arrive;
    arrive.item = ExternalId(id);
    arrive.queue = 0;
    return arrive;
  };
  Simulation sim(std::move(config), p.host, load_table(p.chat_capacity, 1, 1), p.seed, items);
  return sim.run("pool-" + std::to_string(p.agents), p.events, keep_decisions);
}

// ---- disjoint ----------------------------------------------------------------------------------

Workload make_disjoint(const DisjointParams& p, bool keep_decisions) {
  if (p.queues == 0 || p.agents_per_queue == 0 || p.skills_per_queue == 0 ||
      p.queues * p.skills_per_queue > kMaxSkills) {
    throw std::invalid_argument("bench disjoint: inconsistent parameters");
  }
  Rng rng(p.seed);
  Config config = base_config(p.queues * p.skills_per_queue);
  MemberDrawnItems items;
  items.min_skills = 1;
  items.max_skills = 1;
  for (std::size_t q = 0; q < p.queues; ++q) {
    QueueConfig queue = make_queue(config, padded("d", q, 3), 1, kChat);
    queue.method = AssignmentMethod::highest_capacity;
    config.queues.push_back(std::move(queue));
    for (std::size_t i = 0; i < p.agents_per_queue; ++i) {
      AgentSeed seed;
      seed.id = ExternalId(static_cast<std::uint64_t>(config.agents.size() + 1));
      seed.presence = config.available();
      const std::size_t held = std::min<std::size_t>(4, p.skills_per_queue);
      for (std::size_t k : distinct(rng, p.skills_per_queue, held)) {
        seed.skills.push_back(SkillLevel{static_cast<SkillId>(q * p.skills_per_queue + k),
                                         static_cast<std::int32_t>(rng.between(1, 10))});
      }
      std::sort(seed.skills.begin(), seed.skills.end(),
                [](const SkillLevel& a, const SkillLevel& b) { return a.skill < b.skill; });
      seed.capacity.profile_max = {p.chat_capacity, 0};
      seed.queues = {static_cast<QueueId>(q)};
      items.agent_queues.push_back(seed.queues);
      items.agent_skills.push_back(seed.skills);
      items.agent_language.emplace_back("en");
      config.agents.push_back(std::move(seed));
    }
  }
  Simulation sim(std::move(config), p.host, load_table(p.chat_capacity, 1, 1), p.seed,
                 std::move(items));
  return sim.run("disjoint", p.events, keep_decisions);
}

// ---- the suite ---------------------------------------------------------------------------------

std::vector<WorkloadSpec> standard_workloads(bool quick) {
  std::vector<WorkloadSpec> specs;
  WorkloadSpec blended;
  blended.name = "blended";
  blended.kind = WorkloadSpec::Kind::blended;
  if (quick) {
    blended.blended.agents = 2'000;
    blended.blended.queues = 40;
    blended.blended.events = 30'000;
  }
  specs.push_back(blended);
  for (std::size_t agents : {100, 1'000, 10'000}) {
    WorkloadSpec pool;
    pool.name = "pool-" + std::to_string(agents);
    pool.kind = WorkloadSpec::Kind::pool;
    pool.pool.agents = agents;
    if (quick) pool.pool.events = agents >= 10'000 ? 10'000 : 20'000;
    specs.push_back(pool);
  }
  WorkloadSpec disjoint;
  disjoint.name = "disjoint";
  disjoint.kind = WorkloadSpec::Kind::disjoint;
  if (quick) {
    disjoint.disjoint.queues = 8;
    disjoint.disjoint.agents_per_queue = 100;
    disjoint.disjoint.events = 20'000;
  }
  specs.push_back(disjoint);
  return specs;
}

Workload make_workload(const WorkloadSpec& spec, bool keep_decisions) {
  Workload w;
  switch (spec.kind) {
    case WorkloadSpec::Kind::blended: w = make_blended(spec.blended, keep_decisions); break;
    case WorkloadSpec::Kind::pool: w = make_pool(spec.pool, keep_decisions); break;
    case WorkloadSpec::Kind::disjoint: w = make_disjoint(spec.disjoint, keep_decisions); break;
  }
  w.name = spec.name;
  return w;
}

}  // namespace switchboard::bench
