#include "random_stream.hpp"

#include <algorithm>
#include <iterator>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <variant>

#include "router_harness.hpp"

namespace switchboard::testing {

// ---- the invariants test's configuration (keep its draws unchanged: its seeds name streams) ----

const std::vector<ExternalId>& agent_pool() {
  static const std::vector<ExternalId> pool = {
      std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{5}, std::uint64_t{8},
      std::uint64_t{13}, std::uint64_t{21}, std::uint64_t{34}, std::uint64_t{55}, std::uint64_t{89},
      "ana", "ben", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "jo", "kim", "lu"};
  return pool;
}

std::vector<SkillLevel> random_skills(Rng& rng) {
  std::vector<SkillLevel> skills;
  std::set<SkillId> used;
  const int n = static_cast<int>(rng.below(5));
  for (int i = 0; i < n; ++i) {
    const SkillId s = static_cast<SkillId>(rng.below(6));
    if (used.insert(s).second) skills.push_back(SkillLevel{s, static_cast<std::int32_t>(rng.below(6))});
  }
  return skills;
}

AgentCapacity random_capacity(Rng& rng) {
  AgentCapacity c;
  c.units = static_cast<std::int32_t>(rng.below(5));
  c.profile_max = {static_cast<std::int32_t>(rng.below(4)), static_cast<std::int32_t>(rng.below(2))};
  if (rng.chance(10)) c.profile_max.resize(1);
  return c;
}

std::vector<SkillRequirement> random_requirements(Rng& rng) {
  std::vector<SkillRequirement> skills;
  std::set<SkillId> used;
  const int n = static_cast<int>(rng.below(3));
  for (int i = 0; i < n; ++i) {
    const SkillId s = static_cast<SkillId>(rng.below(6));
    if (used.insert(s).second) {
      skills.push_back(SkillRequirement{s, static_cast<std::int32_t>(rng.between(-1, 3))});
    }
  }
  return skills;
}

Config random_config(Rng& rng) {
  Config c = base_config();
  c.channels[kChat].offer_timeout_ms = rng.between(10'000, 40'000);
  c.channels[kChat].wrap_up_ms = rng.chance(50) ? 5'000 : 0;
  c.channels[kVoice].offer_timeout_ms = 15'000;
  c.channels[kVoice].wrap_up_ms = 10'000;
  c.channels[kMessaging].allowed_presences = {kAvailable, kBusy};
  c.channels[kEmail].units_per_item = 2;
  c.channels[kRecord].offer_timeout_ms = rng.chance(50) ? 60'000 : 0;
  c.channels[kProfileChat].offer_timeout_ms = 30'000;
  c.channels[kProfileChat].wrap_up_ms = 3'000;
  c.decline_limit = static_cast<std::int32_t>(rng.between(1, 5));
  c.park_after_decliners = rng.chance(30) ? 100 : static_cast<std::int32_t>(rng.between(2, 5));

  const QueueId chat = add_queue(c, "Chat FIFO", kChat, AssignmentMethod::highest_capacity, 1);
  const QueueId closest = add_queue(c, "Chat Closest", kChat, AssignmentMethod::round_robin, 1);
  c.queues[closest].skill_matching = SkillMatching::closest;
  c.queues[closest].block_size = static_cast<std::uint32_t>(rng.between(1, 4));
  c.queues[closest].strict_blocks = rng.chance(50);
  add_queue(c, "Voice", kVoice, AssignmentMethod::least_active, 0);
  const QueueId email = add_queue(c, "Email Rules", kEmail, AssignmentMethod::highest_capacity, 2);
  c.queues[email].allowed_presences = {kAvailable, kBusy, kLunch};
  c.queues[email].prioritization.push_back(
      PrioritizationRule{"high", item_equals("priority", "High"), ItemOrder{"first_response_by", false}});
  c.queues[email].prioritization.push_back(
      PrioritizationRule{"premium", item_equals("category", "Premium"), ItemOrder{}});
  const QueueId custom = add_queue(c, "Messaging Custom", kMessaging, AssignmentMethod::custom, 1);
  c.queues[custom].assignment.push_back(AssignmentRule{
      "same country", agent_equals_item("country"),
      {AgentOrderKey{AgentOrderKind::least_active, false, {}}}});
  c.queues[custom].assignment.push_back(AssignmentRule{
      "anyone", Condition{}, {AgentOrderKey{AgentOrderKind::available_units, false, {}}}});
  c.queues[custom].prioritization.push_back(
      PrioritizationRule{"vip", item_equals("category", "Premium"), ItemOrder{"score", true}});
  const QueueId records = add_queue(c, "Records", kRecord, AssignmentMethod::round_robin, 3);
  c.queues[records].requires_working = true;
  c.queues[records].block_size = 3;
  c.queues[records].prioritization_limit = 6;
  c.queues[records].strict_blocks = rng.chance(50);
  const QueueId pchat = add_queue(c, "Profile Chat", kProfileChat, AssignmentMethod::highest_capacity, 1);
  c.queues[pchat].skill_matching = SkillMatching::closest;
  (void)chat;

  // About half the pool is declared in the configuration; the rest arrive by upsert.
  for (const ExternalId& id : agent_pool()) {
    if (!rng.chance(50)) continue;
    AgentSeed seed;
    seed.id = id;
    seed.presence = rng.chance(60) ? kAvailable : static_cast<PresenceId>(rng.below(6));
    seed.skills = random_skills(rng);
    seed.capacity = random_capacity(rng);
    seed.attributes = Attributes{{"country", AttrValue{rng.pick(kCountries)}}};
    seed.working = rng.chance(80);
    for (QueueId q = 0; q < c.queues.size(); ++q) {
      if (rng.chance(45)) seed.queues.push_back(q);
    }
    c.agents.push_back(std::move(seed));
  }
  return c;
}

// ---- the rich configuration ---------------------------------------------------------------------

namespace {

constexpr Timestamp kStart = 1'000'000;  // the first event's time

// Prioritization conditions (item-only scope).
const std::vector<std::string_view> kItemConditions = {
    R"(item.priority == "High")",
    R"(item.category == "Premium")",
    R"(item.priority == "High" and item.category == "Premium")",
    R"(item.score >= 50)",
    R"(item.score < 20 or item.tier has no value)",
    R"(item.priority in ["High", "Urgent"])",
    R"(not item.category == "Standard")",
    R"(item.customer.level >= 2)",
    R"(item.tier has value)",
    R"(item.country != "US")",
    R"(item.tier == "gold" or item.tier == 1)",
    R"(true)",
};

// Assignment conditions (agent and item).
const std::vector<std::string_view> kAgentConditions = {
    R"(agent.country == item.country)",
    R"(agent.level >= 2)",
    R"(agent.level >= item.customer.level)",
    R"(agent.team == "A")",
    R"(agent.team has value)",
    R"(agent.team has no value)",
    R"(skills_match)",
    R"(capacity_ok)",
    R"(is_working)",
    R"(has_skill("s1", 2))",
    R"(has_skill("s3"))",
    R"(has_skill(item.lang))",
    R"(has_skill(item.lang, 2))",
    R"(agent.presence == "available")",
    R"(agent.presence in ["busy", "lunch"])",
    R"(agent.presence != "away")",
    R"(not agent.country == "US")",
    R"(agent.country == item.country and agent.level > 1)",
    R"(skills_match or agent.level >= 4)",
    R"(agent.tier == item.tier)",
    R"(item.priority == "High")",
    R"(agent.seniority < 3 and not item.category == "Premium")",
    R"(true)",
    R"()",
};

const std::vector<std::string> kAgentOrderAttributes = {"level", "team", "tier", "seniority",
                                                        "country", "nothing"};
const std::vector<std::string> kItemOrderAttributes = {"", "first_response_by", "score", "priority",
                                                       "customer.level", "tier"};
const std::vector<std::string> kQueueNames = {"Alpha", "billing", "Care", "delta", "Echo",
                                              "Fox", "golf", "Hotel", "India", "juliet"};

const RuleVocabulary kRichWords{kItemConditions, kAgentConditions, kItemOrderAttributes,
                                kAgentOrderAttributes};

AgentOrderKey random_order_key(Rng& rng, const std::vector<std::string>& attributes) {
  AgentOrderKey key;
  key.kind = static_cast<AgentOrderKind>(rng.below(7));
  key.descending = rng.chance(35);
  if (key.kind == AgentOrderKind::attribute) key.attribute = rng.pick(attributes);
  return key;
}

AttrValue random_tier(Rng& rng) {
  switch (rng.below(4)) {
    case 0: return AttrValue{std::int64_t{1}};
    case 1: return AttrValue{std::int64_t{2}};
    case 2: return AttrValue{std::string("gold")};
    default: return AttrValue{std::string("silver")};
  }
}

AgentCapacity capacity_for(Rng& rng, std::size_t profiles) {
  AgentCapacity c;
  c.units = static_cast<std::int32_t>(rng.below(7));
  std::size_t n = profiles;
  if (rng.chance(10)) n = rng.below(profiles + 1);
  for (std::size_t p = 0; p < n; ++p) {
    std::int32_t m = static_cast<std::int32_t>(rng.below(4));
    if (rng.chance(2)) m = 255;  // the kernel's largest profile capacity
    c.profile_max.push_back(m);
  }
  return c;
}

// Shifts from ten minutes before to a quarter of an hour after, up to an hour long.
constexpr ShiftSpan kRichShifts{-600'000, 900'000, 1, 3'600'000};

}  // namespace

Attributes random_agent_attributes(Rng& rng) {
  Attributes a;
  if (rng.chance(90)) a["country"] = AttrValue{rng.pick(kCountries)};
  if (rng.chance(75)) a["level"] = AttrValue{static_cast<std::int64_t>(rng.below(6))};
  if (rng.chance(60)) a["team"] = AttrValue{std::string(1, static_cast<char>('A' + rng.below(3)))};
  if (rng.chance(50)) a["tier"] = random_tier(rng);
  if (rng.chance(50)) a["seniority"] = AttrValue{static_cast<std::int64_t>(rng.below(5))};
  return a;
}

Attributes random_item_attributes(Rng& rng, bool unknown_langs) {
  Attributes a;
  if (rng.chance(60)) {
    static const std::vector<std::string> priorities = {"High", "Low", "Urgent", "Low"};
    a["priority"] = AttrValue{rng.pick(priorities)};
  }
  if (rng.chance(50)) a["category"] = AttrValue{std::string(rng.chance(40) ? "Premium" : "Standard")};
  if (rng.chance(50)) a["first_response_by"] = AttrValue{static_cast<std::int64_t>(rng.below(1'000'000))};
  if (rng.chance(50)) a["score"] = AttrValue{static_cast<std::int64_t>(rng.below(100))};
  if (rng.chance(60)) a["country"] = AttrValue{rng.pick(kCountries)};
  if (rng.chance(40)) a["tier"] = random_tier(rng);
  if (rng.chance(40)) a["customer.level"] = AttrValue{static_cast<std::int64_t>(rng.below(6))};
  if (rng.chance(40)) {
    const bool known = !unknown_langs || rng.chance(85);
    a["lang"] = AttrValue{known ? "s" + std::to_string(rng.below(6)) : std::string("klingon")};
  }
  return a;
}

std::vector<PresenceId> random_allowed(Rng& rng, std::size_t presences, int any_percent) {
  std::vector<PresenceId> allowed = {kAvailable};
  if (rng.chance(40)) allowed.push_back(kBusy);
  if (rng.chance(15)) allowed.push_back(kLunch);
  if (any_percent > 0 && rng.chance(any_percent)) {
    allowed = {static_cast<PresenceId>(rng.below(presences))};
  }
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  return allowed;
}

std::vector<Shift> random_shifts(Rng& rng, Timestamp around, const ShiftSpan& span) {
  std::vector<Shift> shifts;
  const int n = static_cast<int>(rng.between(1, 2));
  for (int i = 0; i < n; ++i) {
    const Timestamp start = around + rng.between(span.start_from, span.start_to);
    shifts.push_back(Shift{start, start + rng.between(span.length_from, span.length_to)});
  }
  return shifts;
}

ExternalId unknown_agent(Rng& rng) { return ExternalId("ghost-" + std::to_string(rng.below(3))); }

ExternalId unknown_item(Rng& rng) {
  return rng.chance(50) ? ExternalId(std::uint64_t{900'000'000} + rng.below(5))
                        : ExternalId("no-such-item-" + std::to_string(rng.below(5)));
}

ExternalId fresh_item(std::uint64_t& next_item) {
  const std::uint64_t n = next_item++;
  return n % 2 == 0 ? ExternalId(std::uint64_t{1'000} + n) : ExternalId("item-" + std::to_string(n));
}

void randomize_channel_shape(Rng& rng, ChannelConfig& ch, std::size_t presences, int any_percent) {
  if (rng.chance(50)) ch.allowed_presences = random_allowed(rng, presences, any_percent);
  if (ch.capacity_model == CapacityModel::units && rng.chance(40)) {
    ch.units_per_item = static_cast<std::int32_t>(rng.between(1, 3));
  }
  if (ch.kind == ChannelKind::chat && rng.chance(20)) ch.order_by_last_message = true;
  if (rng.chance(30)) ch.block_size = static_cast<std::uint32_t>(rng.between(1, 6));
  if (rng.chance(20)) ch.prioritization_limit = static_cast<std::uint32_t>(rng.between(2, 12));
}

void randomize_queue_shape(Rng& rng, QueueConfig& queue, std::size_t presences, int working_percent,
                           int allowed_percent, int any_percent) {
  queue.skill_matching = rng.chance(40) ? SkillMatching::closest : SkillMatching::exact;
  queue.requires_working = rng.chance(working_percent);
  if (rng.chance(allowed_percent)) queue.allowed_presences = random_allowed(rng, presences, any_percent);
  if (rng.chance(50)) queue.block_size = static_cast<std::uint32_t>(rng.between(1, 5));
  if (rng.chance(25)) queue.prioritization_limit = static_cast<std::uint32_t>(rng.between(2, 10));
  queue.strict_blocks = rng.chance(60);
}

void add_random_prioritization(Rng& rng, const Config& config, QueueConfig& queue,
                               const RuleVocabulary& words) {
  const int rules = static_cast<int>(rng.between(1, 3));
  for (int r = 0; r < rules; ++r) {
    PrioritizationRule rule;
    rule.name = "p" + std::to_string(r);
    rule.when = condition(config, rng.pick(words.item_conditions), ConditionScope::item_only);
    rule.order_by = ItemOrder{rng.pick(words.item_order_attributes), rng.chance(40)};
    queue.prioritization.push_back(std::move(rule));
  }
}

void add_random_assignment(Rng& rng, const Config& config, QueueConfig& queue,
                           const RuleVocabulary& words) {
  const int rules = static_cast<int>(rng.between(1, 4));
  for (int r = 0; r < rules; ++r) {
    AssignmentRule rule;
    rule.name = "r" + std::to_string(r);
    // The last rule is often a catch-all (the products' "gradual relaxation").
    rule.when = condition(config, r + 1 == rules && rng.chance(60) ? std::string_view("true")
                                                                    : rng.pick(words.agent_conditions));
    const int keys = static_cast<int>(rng.below(4));
    for (int k = 0; k < keys; ++k) rule.order_by.push_back(random_order_key(rng, words.agent_order_attributes));
    queue.assignment.push_back(std::move(rule));
  }
}

void add_profile_channel(Config& config, std::string profile, bool blocks_others, ChannelKind kind,
                         std::string channel) {
  config.profiles.push_back(ProfileConfig{std::move(profile), blocks_others});
  ChannelConfig ch = channel_defaults(kind);
  ch.name = std::move(channel);
  ch.capacity_model = CapacityModel::profile;
  ch.profile = static_cast<ProfileId>(config.profiles.size() - 1);
  config.channels.push_back(ch);
}

int cluster_of_agent(const ExternalId& agent, int clusters) {
  if (clusters <= 1) return 0;
  const std::vector<ExternalId>& pool = agent_pool();
  const auto it = std::find(pool.begin(), pool.end(), agent);
  const auto index = it == pool.end() ? 0 : static_cast<int>(std::distance(pool.begin(), it));
  return index % clusters;
}

Config random_rich_config(Rng& rng, int clusters) {
  Config c = base_config();
  // Profiles: chat and voice (blocks others) from base_config, up to two more (kernel limit 4).
  if (rng.chance(60)) add_profile_channel(c, "video", rng.chance(50), ChannelKind::voice, "video");
  if (rng.chance(50)) add_profile_channel(c, "case", rng.chance(20), ChannelKind::email, "cases");
  for (ChannelConfig& ch : c.channels) {
    if (rng.chance(60)) ch.offer_timeout_ms = rng.between(5'000, 60'000);
    if (rng.chance(50)) ch.wrap_up_ms = rng.between(1'000, 20'000);
    if (rng.chance(35)) ch.periodic_ms = rng.between(20'000, 300'000);
    randomize_channel_shape(rng, ch, c.presences.size(), 5);
  }
  c.decline_limit = static_cast<std::int32_t>(rng.between(1, 5));
  c.park_after_decliners = rng.chance(30) ? 100 : static_cast<std::int32_t>(rng.between(2, 5));

  // Queues: the first four cover the four methods; the rest are random.
  const int queue_count = static_cast<int>(rng.between(5, 9));
  std::vector<std::string> names = kQueueNames;
  for (std::size_t i = names.size(); i > 1; --i) std::swap(names[i - 1], names[rng.below(i)]);
  std::vector<int> methods = {0, 1, 2, 3};
  for (std::size_t i = methods.size(); i > 1; --i) std::swap(methods[i - 1], methods[rng.below(i)]);
  for (int q = 0; q < queue_count; ++q) {
    const auto method = static_cast<AssignmentMethod>(
        q < 4 ? methods[static_cast<std::size_t>(q)] : static_cast<int>(rng.below(4)));
    const auto channel = static_cast<ChannelId>(rng.below(c.channels.size()));
    const QueueId id = add_queue(c, names[static_cast<std::size_t>(q)] + " " + std::to_string(q),
                                 channel, method, static_cast<std::int32_t>(rng.below(4)));
    QueueConfig& queue = c.queues[id];
    randomize_queue_shape(rng, queue, c.presences.size(), 25, 20, 5);
    if (rng.chance(55)) add_random_prioritization(rng, c, queue, kRichWords);
    if (queue.method == AssignmentMethod::custom) add_random_assignment(rng, c, queue, kRichWords);
  }

  for (const ExternalId& id : agent_pool()) {
    if (!rng.chance(55)) continue;
    AgentSeed seed;
    seed.id = id;
    seed.presence = rng.chance(65) ? kAvailable : static_cast<PresenceId>(rng.below(c.presences.size()));
    seed.skills = random_skills(rng);
    seed.capacity = capacity_for(rng, c.profiles.size());
    seed.attributes = random_agent_attributes(rng);
    seed.working = rng.chance(80);
    if (rng.chance(25)) seed.shifts = random_shifts(rng, kStart, kRichShifts);
    const int cluster = cluster_of_agent(id, clusters);
    for (QueueId q = 0; q < c.queues.size(); ++q) {
      if (clusters > 1 && static_cast<int>(q) % clusters != cluster) continue;
      if (rng.chance(clusters > 1 ? 65 : 45)) seed.queues.push_back(q);
    }
    c.agents.push_back(std::move(seed));
  }
  return c;
}

// ---- counting --------------------------------------------------------------------------------

void count_decisions(const Event& event, const std::vector<Decision>& decisions,
                     StreamCounts& counts) {
  ++counts.events[std::string(event_type_name(event.body))];
  const auto* host_timeout = std::get_if<OfferTimeout>(&event.body);
  for (const Decision& d : decisions) {
    std::string key(to_string(d.kind));
    if (d.kind == DecisionKind::offer || d.kind == DecisionKind::assigned) {
      key += "/" + std::string(to_string(d.decided_by));
    }
    if (d.kind == DecisionKind::requeued) {
      key += "/" + std::string(to_string(d.reason));
      if (d.reason == RequeueReason::timed_out) {
        const bool by_host = host_timeout != nullptr && host_timeout->item == d.item &&
                             d.agent == std::optional<ExternalId>(host_timeout->agent);
        key += by_host ? "(host)" : "(timer)";
      }
    }
    ++counts.decisions[key];
    if (d.kind == DecisionKind::error) ++counts.errors[std::string(to_string(d.error))];
  }
}

std::string summary(const StreamCounts& counts) {
  std::string s;
  for (const auto& [k, n] : counts.decisions) s += " " + k + "=" + std::to_string(n);
  s += " | errors:";
  for (const auto& [k, n] : counts.errors) s += " " + k + "=" + std::to_string(n);
  return s;
}

// ---- the host's ledger -----------------------------------------------------------------------

void follow(Ledger& ledger, const Event& event, const std::vector<Decision>& decisions) {
  bool refused = false;
  for (const Decision& d : decisions) {
    refused = refused || (d.kind == DecisionKind::error && d.sequence == event.sequence);
  }
  if (const auto* arrive = std::get_if<ItemArrive>(&event.body); arrive != nullptr && !refused) {
    ledger[arrive->item] = LedgerItem{ItemState::queued, arrive->queue, std::nullopt};
  }
  for (const Decision& d : decisions) {
    if (d.kind == DecisionKind::error) continue;
    const auto it = ledger.find(d.item);
    if (it == ledger.end()) continue;  // the comparison, not the generator, judges decisions
    LedgerItem& m = it->second;
    switch (d.kind) {
      case DecisionKind::offer:
        m.state = ItemState::offered;
        m.agent = d.agent;
        break;
      case DecisionKind::assigned:
        m.state = ItemState::assigned;
        m.agent = d.agent;
        break;
      case DecisionKind::requeued:
        m.state = ItemState::queued;
        m.agent.reset();
        break;
      case DecisionKind::parked: m.state = ItemState::parked; break;
      case DecisionKind::cancelled:
      case DecisionKind::completed: ledger.erase(it); break;
      case DecisionKind::transferred:
        m.queue = d.queue;
        m.state = ItemState::queued;
        m.agent.reset();
        break;
      case DecisionKind::error: break;
    }
  }
}

// ---- the stream generator --------------------------------------------------------------------

struct StreamGenerator::Ctx {
  const ReferenceRouter& router;
  Timestamp now;
  std::vector<ExternalId> agents;  // known to the router
};

StreamGenerator::StreamGenerator(std::uint64_t seed, const Config& config, int clusters)
    : rng_(seed ^ 0x5EED5EEDull), config_(config), clusters_(clusters) {}

ExternalId StreamGenerator::some_agent(Ctx& ctx) {
  if (!ctx.agents.empty() && rng_.chance(95)) return rng_.pick(ctx.agents);
  return unknown_agent(rng_);
}
QueueId StreamGenerator::some_queue_for(const ExternalId& agent) {
  const auto n = static_cast<std::uint32_t>(config_.queues.size());
  if (clusters_ <= 1 || rng_.chance(5)) return static_cast<QueueId>(rng_.below(n));
  const auto cluster = static_cast<std::uint32_t>(cluster_of_agent(agent, clusters_));
  const std::uint32_t per = (n - cluster + static_cast<std::uint32_t>(clusters_) - 1) /
                            static_cast<std::uint32_t>(clusters_);
  if (per == 0) return static_cast<QueueId>(rng_.below(n));
  return static_cast<QueueId>(cluster + static_cast<std::uint32_t>(clusters_) *
                                            static_cast<std::uint32_t>(rng_.below(per)));
}

PresenceId StreamGenerator::random_presence() {
  return rng_.chance(55) ? kAvailable : static_cast<PresenceId>(rng_.below(config_.presences.size()));
}

AgentCapacity StreamGenerator::random_capacity_for_config() {
  return capacity_for(rng_, config_.profiles.size());
}

Timestamp StreamGenerator::next_time(Timestamp now) {
  const std::uint64_t r = rng_.below(100);
  if (r < 2) return now - rng_.between(1, 5'000);  // older than the clock: applied at the clock
  if (r < 70) return now + rng_.between(0, 2'000);
  if (r < 93) return now + rng_.between(2'000, 30'000);
  return now + rng_.between(30'000, 400'000);
}

Event StreamGenerator::next(const ReferenceRouter& router) {
  Ctx ctx{router, router.now() == kNever ? kStart : router.now(), router.agent_ids()};
  const std::size_t live = items_.size();
  bool has_offered = false;
  bool has_assigned = false;
  for (const auto& [id, m] : items_) {
    has_offered = has_offered || m.state == ItemState::offered;
    has_assigned = has_assigned || m.state == ItemState::assigned;
  }
  const WeightedChoice choices[] = {
      {live > 60 ? 3 : (live < 10 ? 25 : 15), 0},  // arrive
      {has_offered ? 16 : 1, 1},                    // accept
      {has_offered ? 5 : 1, 2},                     // decline
      {has_offered ? 2 : 1, 3},                     // timeout (host)
      {has_assigned ? 13 : 1, 4},                   // complete
      {3, 5},                                       // cancel
      {3, 6},                                       // transfer
      {3, 7},                                       // update
      {3, 8},                                       // manual
      {3, 9},                                       // pick
      {8, 10},                                      // presence
      {3, 11},                                      // capacity
      {4, 12},                                      // upsert
      {1, 13},                                      // remove
      {3, 14},                                      // join
      {2, 15},                                      // leave
      {2, 16},                                      // tick
  };
  const int what = choices[pick_weighted(rng_, choices)].what;
  Event event;
  event.time = next_time(ctx.now);
  event.sequence = ++sequence_;
  // Events are made at the clock's time (`ctx.now`); the ones that depend on time (shifts,
  // created) are relative to it.
  switch (what) {
    case 0: event.body = make_arrive(ctx); break;
    case 1: event.body = make_offer_answer<OfferAccept>(ctx); break;
    case 2: event.body = make_offer_answer<OfferDecline>(ctx); break;
    case 3: event.body = make_offer_answer<OfferTimeout>(ctx); break;
    case 4: event.body = make_complete(ctx); break;
    case 5: event.body = make_cancel(ctx); break;
    case 6: event.body = make_transfer(ctx); break;
    case 7: event.body = make_update(ctx); break;
    case 8: event.body = make_by_hand<ManualAssign>(ctx, false); break;
    case 9: event.body = make_by_hand<AgentPick>(ctx, true); break;
    case 10: event.body = make_presence(ctx); break;
    case 11: event.body = make_capacity(ctx); break;
    case 12: event.body = make_upsert(ctx); break;
    case 13: event.body = make_remove(ctx); break;
    case 14: event.body = make_join(ctx); break;
    case 15: event.body = make_leave(ctx); break;
    default: event.body = Tick{}; break;
  }
  return event;
}

void StreamGenerator::observe(const Event& event, const std::vector<Decision>& decisions) {
  follow(items_, event, decisions);
}

EventBody StreamGenerator::make_arrive(Ctx& ctx) {
  ItemArrive e;
  e.queue = static_cast<QueueId>(rng_.below(config_.queues.size()));
  e.attributes = random_item_attributes(rng_, true);
  e.skills = random_requirements(rng_);
  if (rng_.chance(20)) e.units = static_cast<std::int32_t>(rng_.between(1, 3));
  if (rng_.chance(25)) e.affinity_agent = rng_.chance(90) ? rng_.pick(agent_pool()) : unknown_agent(rng_);
  if (rng_.chance(20)) e.created = ctx.now - rng_.between(0, 100'000);
  if (rng_.chance(20)) e.last_message = ctx.now - rng_.between(0, 50'000);
  e.item = fresh_item(next_item_);
  if (rng_.chance(12)) {
    switch (rng_.below(6)) {
      case 0: e.queue = static_cast<QueueId>(config_.queues.size() + rng_.below(3)); break;
      case 1: {
        const std::vector<ExternalId> live = items_in(
            {ItemState::queued, ItemState::offered, ItemState::assigned, ItemState::parked});
        if (!live.empty()) e.item = rng_.pick(live);  // duplicate_item
        break;
      }
      case 2: e.skills.push_back(SkillRequirement{static_cast<SkillId>(10 + rng_.below(200)), -1}); break;
      case 3: e.skills.push_back(SkillRequirement{7, -2 - static_cast<std::int32_t>(rng_.below(5))}); break;
      case 4:
        e.skills.push_back(SkillRequirement{8, 1});
        e.skills.push_back(SkillRequirement{8, 2});
        break;
      default: e.units = -static_cast<std::int32_t>(rng_.below(2)); break;
    }
  }
  return e;
}

template <typename E>
EventBody StreamGenerator::make_offer_answer(Ctx& ctx) {
  E e;
  const std::vector<ExternalId> offered = items_in({ItemState::offered});
  const std::uint64_t r = rng_.below(100);
  if (!offered.empty() && r < 88) {
    e.item = rng_.pick(offered);
    e.agent = *items_.at(e.item).agent;
  } else if (!offered.empty() && r < 93 && !ctx.agents.empty()) {
    e.item = rng_.pick(offered);
    e.agent = rng_.pick(ctx.agents);  // usually offer_agent_mismatch
  } else if (!offered.empty() && r < 95) {
    e.item = rng_.pick(offered);
    e.agent = unknown_agent(rng_);
  } else {
    const std::vector<ExternalId> others =
        items_in({ItemState::queued, ItemState::assigned, ItemState::parked});
    if (!others.empty() && rng_.chance(60)) {
      e.item = rng_.pick(others);  // item_not_offered
      e.agent = some_agent(ctx);
    } else {
      e.item = unknown_item(rng_);
      e.agent = some_agent(ctx);
    }
  }
  return e;
}

EventBody StreamGenerator::make_complete(Ctx&) {
  ItemComplete e;
  const std::vector<ExternalId> assigned = items_in({ItemState::assigned});
  const std::vector<ExternalId> live = items_in(
      {ItemState::queued, ItemState::offered, ItemState::assigned, ItemState::parked});
  if (!assigned.empty() && rng_.chance(88)) {
    e.item = rng_.pick(assigned);
  } else if (!live.empty() && rng_.chance(70)) {
    e.item = rng_.pick(live);
  } else {
    e.item = unknown_item(rng_);
  }
  return e;
}

EventBody StreamGenerator::make_cancel(Ctx&) {
  ItemCancel e;
  const std::vector<ExternalId> live = items_in(
      {ItemState::queued, ItemState::offered, ItemState::assigned, ItemState::parked});
  e.item = !live.empty() && rng_.chance(90) ? rng_.pick(live) : unknown_item(rng_);
  return e;
}

EventBody StreamGenerator::make_transfer(Ctx&) {
  ItemTransfer e;
  const std::vector<ExternalId> live = items_in(
      {ItemState::queued, ItemState::offered, ItemState::assigned, ItemState::parked});
  e.queue = static_cast<QueueId>(rng_.below(config_.queues.size()));
  if (!live.empty() && rng_.chance(90)) {
    e.item = rng_.pick(live);
    if (rng_.chance(5)) e.queue = static_cast<QueueId>(config_.queues.size() + 1);
  } else {
    e.item = unknown_item(rng_);
  }
  return e;
}

EventBody StreamGenerator::make_update(Ctx& ctx) {
  ItemUpdate e;
  const std::vector<ExternalId> live = items_in(
      {ItemState::queued, ItemState::offered, ItemState::assigned, ItemState::parked});
  e.item = !live.empty() && rng_.chance(90) ? rng_.pick(live) : unknown_item(rng_);
  e.attributes = random_item_attributes(rng_, true);
  if (rng_.chance(30)) e.attributes["priority"] = AttrValue{};  // removes it
  if (rng_.chance(15)) e.attributes["score"] = AttrValue{};
  if (rng_.chance(20)) e.last_message = ctx.now - rng_.between(0, 20'000);
  return e;
}

template <typename E>
EventBody StreamGenerator::make_by_hand(Ctx& ctx, bool pick) {
  E e;
  const std::vector<ExternalId> waiting = items_in({ItemState::queued, ItemState::parked});
  const std::vector<ExternalId> live = items_in(
      {ItemState::queued, ItemState::offered, ItemState::assigned, ItemState::parked});
  if (!waiting.empty() && rng_.chance(75)) {
    e.item = rng_.pick(waiting);
  } else if (!live.empty() && rng_.chance(80)) {
    e.item = rng_.pick(live);
  } else {
    e.item = unknown_item(rng_);
  }
  e.agent = some_agent(ctx);
  const auto m = items_.find(e.item);
  if (m != items_.end() && rng_.chance(pick ? 75 : 40)) {  // mostly a member of the item's queue
    std::vector<ExternalId> members;
    for (const ExternalId& id : ctx.agents) {
      const std::optional<AgentView> v = ctx.router.agent(id);
      if (v && std::find(v->queues.begin(), v->queues.end(), m->second.queue) != v->queues.end()) {
        members.push_back(id);
      }
    }
    if (!members.empty()) e.agent = rng_.pick(members);
  }
  return e;
}

EventBody StreamGenerator::make_presence(Ctx& ctx) {
  PresenceChange e;
  e.agent = some_agent(ctx);
  e.presence = random_presence();
  if (rng_.chance(4)) e.presence = static_cast<PresenceId>(config_.presences.size() + rng_.below(10));
  return e;
}

EventBody StreamGenerator::make_capacity(Ctx& ctx) {
  CapacityChange e;
  e.agent = some_agent(ctx);
  e.capacity = random_capacity_for_config();
  switch (rng_.chance(8) ? rng_.below(4) : 9) {
    case 0: e.capacity.units = -1; break;  // invalid_value
    case 1: e.capacity.profile_max.assign(config_.profiles.size() + 1, 1); break;  // unknown_profile
    case 2: e.capacity.profile_max = {-1, 0}; break;  // invalid_value
    case 3: {  // exactly what the agent holds now (never below its load)
      if (const std::optional<AgentView> v = ctx.router.agent(e.agent)) {
        e.capacity.units = v->capacity.units - v->free_units;
        e.capacity.profile_max = v->profile_used;
      }
      break;
    }
    default: break;
  }
  return e;
}

EventBody StreamGenerator::make_upsert(Ctx& ctx) {
  AgentUpsert e;
  e.agent = rng_.chance(97) ? rng_.pick(agent_pool()) : ExternalId(std::uint64_t{0});
  const bool known = std::find(ctx.agents.begin(), ctx.agents.end(), e.agent) != ctx.agents.end();
  if (rng_.chance(60)) e.presence = random_presence();
  if (rng_.chance(50)) e.skills = random_skills(rng_);
  if (rng_.chance(50) || !known) e.capacity = random_capacity_for_config();
  if (rng_.chance(30) || !known) e.attributes = random_agent_attributes(rng_);
  if (rng_.chance(30)) e.working = rng_.chance(70);
  if (rng_.chance(20)) e.shifts = rng_.chance(80) ? random_shifts(rng_, ctx.now, kRichShifts) : std::vector<Shift>{};
  switch (rng_.chance(10) ? rng_.below(7) : 9) {
    case 0: e.presence = static_cast<PresenceId>(config_.presences.size() + 3); break;
    case 1: e.skills = std::vector<SkillLevel>{SkillLevel{static_cast<SkillId>(40), 1}}; break;
    case 2: e.skills = std::vector<SkillLevel>{SkillLevel{2, -1}}; break;
    case 3: e.skills = std::vector<SkillLevel>{SkillLevel{2, 1}, SkillLevel{2, 3}}; break;
    case 4: e.shifts = std::vector<Shift>{Shift{5'000, 5'000}}; break;
    case 5: e.capacity = AgentCapacity{-2, {}}; break;
    case 6: e.capacity = AgentCapacity{0, {}}; break;  // often below the agent's load
    default: break;
  }
  return e;
}

EventBody StreamGenerator::make_remove(Ctx& ctx) {
  return AgentRemove{some_agent(ctx)};
}

EventBody StreamGenerator::make_join(Ctx& ctx) {
  JoinQueue e;
  e.agent = some_agent(ctx);
  e.queue = rng_.chance(4) ? static_cast<QueueId>(config_.queues.size() + rng_.below(3))
                           : some_queue_for(e.agent);
  return e;
}

EventBody StreamGenerator::make_leave(Ctx& ctx) {
  LeaveQueue e;
  e.agent = some_agent(ctx);
  e.queue = static_cast<QueueId>(rng_.below(config_.queues.size() + (rng_.chance(5) ? 3 : 0)));
  if (rng_.chance(70)) {
    if (const std::optional<AgentView> v = ctx.router.agent(e.agent); v && !v->queues.empty()) {
      e.queue = rng_.pick(v->queues);
    }
  }
  return e;
}

// ---- describing events -------------------------------------------------------------------------

namespace {

std::string text(const AttrValue& v) {
  if (std::holds_alternative<std::monostate>(v)) return "(none)";
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  return "\"" + std::get<std::string>(v) + "\"";
}

std::string text(const Attributes& attributes) {
  std::string s = "{";
  for (const auto& [k, v] : attributes) s += (s.size() > 1 ? ", " : "") + k + "=" + text(v);
  return s + "}";
}

std::string text(const AgentCapacity& c) {
  std::string s = "units=" + std::to_string(c.units) + " profiles=[";
  for (std::size_t i = 0; i < c.profile_max.size(); ++i) {
    s += (i ? "," : "") + std::to_string(c.profile_max[i]);
  }
  return s + "]";
}

struct Describer {
  std::ostringstream& s;
  void operator()(const AgentUpsert& e) {
    s << " agent=" << e.agent.to_string();
    if (e.presence) s << " presence=" << int(*e.presence);
    if (e.skills) {
      s << " skills=[";
      for (const SkillLevel& l : *e.skills) s << " s" << l.skill << ":" << l.proficiency;
      s << " ]";
    }
    if (e.capacity) s << " capacity{" << text(*e.capacity) << "}";
    if (e.attributes) s << " attrs=" << text(*e.attributes);
    if (e.working) s << " working=" << *e.working;
    if (e.shifts) {
      s << " shifts=[";
      for (const Shift& sh : *e.shifts) s << " " << sh.start << ".." << sh.end;
      s << " ]";
    }
  }
  void operator()(const AgentRemove& e) { s << " agent=" << e.agent.to_string(); }
  void operator()(const PresenceChange& e) {
    s << " agent=" << e.agent.to_string() << " presence=" << int(e.presence);
  }
  void operator()(const CapacityChange& e) {
    s << " agent=" << e.agent.to_string() << " capacity{" << text(e.capacity) << "}";
  }
  void operator()(const JoinQueue& e) { s << " agent=" << e.agent.to_string() << " queue=" << e.queue; }
  void operator()(const LeaveQueue& e) { s << " agent=" << e.agent.to_string() << " queue=" << e.queue; }
  void operator()(const ItemArrive& e) {
    s << " item=" << e.item.to_string() << " queue=" << e.queue;
    if (e.created) s << " created=" << *e.created;
    if (e.last_message) s << " last_message=" << *e.last_message;
    if (!e.skills.empty()) {
      s << " skills=[";
      for (const SkillRequirement& r : e.skills) s << " s" << r.skill << ">=" << r.min_proficiency;
      s << " ]";
    }
    if (e.units) s << " units=" << *e.units;
    if (e.affinity_agent) s << " affinity=" << e.affinity_agent->to_string();
    s << " attrs=" << text(e.attributes);
  }
  void operator()(const ItemUpdate& e) {
    s << " item=" << e.item.to_string() << " attrs=" << text(e.attributes);
    if (e.last_message) s << " last_message=" << *e.last_message;
  }
  void operator()(const ItemCancel& e) { s << " item=" << e.item.to_string(); }
  void operator()(const ItemTransfer& e) { s << " item=" << e.item.to_string() << " queue=" << e.queue; }
  void operator()(const ItemComplete& e) { s << " item=" << e.item.to_string(); }
  void operator()(const OfferAccept& e) { pair(e.item, e.agent); }
  void operator()(const OfferDecline& e) { pair(e.item, e.agent); }
  void operator()(const OfferTimeout& e) { pair(e.item, e.agent); }
  void operator()(const ManualAssign& e) { pair(e.item, e.agent); }
  void operator()(const AgentPick& e) { pair(e.item, e.agent); }
  void operator()(const Tick&) {}
  void pair(const ExternalId& item, const ExternalId& agent) {
    s << " item=" << item.to_string() << " agent=" << agent.to_string();
  }
};

}  // namespace

std::string describe(const Event& event) {
  std::ostringstream s;
  s << event_type_name(event.body) << " #" << event.sequence << " @" << event.time;
  std::visit(Describer{s}, event.body);
  return s.str();
}

}  // namespace switchboard::testing
