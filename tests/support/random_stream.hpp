#pragma once
// Test support: seeded random routing configurations and closed-loop random event streams.
//
//   Rng                  a small deterministic generator (splitmix64; no standard distributions,
//                        so streams are the same on every standard library).
//   random_config        the configuration of the reference router's invariants test.
//   random_rich_config   a configuration that covers every assignment method, every order-by kind
//                        (agent attributes ascending and descending), prioritization rulesets,
//                        both skill matching modes, calendars, affinity, offer timeouts, wrap-up
//                        and periodic cycles, within the kernel's limits (at most
//                        kKernelMaxProfiles profiles, profile capacities at most 255).
//   StreamGenerator      generates the next event from a reference router's state and the
//                        decisions it made so far (closed loop), so that accepts, declines,
//                        timeouts and completions usually refer to real offers and assignments;
//                        a share of the events is invalid on purpose (unknown ids, bad values,
//                        wrong states).
//   describe(Event)      one line per event, for failure messages.
//
// The pieces the generators share (ids, attributes, skills, weighted choices, rulesets, the
// host's ledger) are declared here too, so that the test-specific generators (the invariants
// test's Simulation, the parallel-batch test's ClusterStream) draw from the same code. Each takes
// its differences as parameters and keeps its own draw order: a seed names a stream.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "switchboard/config.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/events.hpp"
#include "switchboard/reference_router.hpp"
#include "switchboard/router_views.hpp"

namespace switchboard::testing {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  std::int64_t between(std::int64_t lo, std::int64_t hi) {  // inclusive
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

 private:
  std::uint64_t state_;
};

// The agent ids streams draw from: numbers and names (R9's last tie-break orders both).
const std::vector<ExternalId>& agent_pool();
inline const std::vector<std::string> kCountries = {"US", "FR", "DE"};

// Skills s0..s5 (up to four, proficiency 0..5), and a capacity of 0..4 units with profile
// maxima {0..3, 0..1} (sometimes only the first profile).
std::vector<SkillLevel> random_skills(Rng& rng);
AgentCapacity random_capacity(Rng& rng);

// An item's requirements: up to two of s0..s5, minimum proficiency -1 (any) .. 3.
std::vector<SkillRequirement> random_requirements(Rng& rng);

// Agent attributes (country, level, team, tier, seniority) and item attributes (priority,
// category, first_response_by, score, country, tier, customer.level, lang). With
// `unknown_langs`, some langs name no skill (has_skill(item.lang) then matches nobody).
Attributes random_agent_attributes(Rng& rng);
Attributes random_item_attributes(Rng& rng, bool unknown_langs);

// Allowed presences: available, often busy, sometimes lunch; `any_percent` of the time a single
// one of the config's `presences` instead (0: no draw for it, as the cluster configurations had).
std::vector<PresenceId> random_allowed(Rng& rng, std::size_t presences, int any_percent);

// 1..2 shifts starting in [around + start_from, around + start_to] and lasting length_from..length_to.
struct ShiftSpan {
  Timestamp start_from = 0, start_to = 0;
  Timestamp length_from = 1, length_to = 1;
};
std::vector<Shift> random_shifts(Rng& rng, Timestamp around, const ShiftSpan& span);

// Ids a stream refers to: agents and items the router never saw, and new items (numbers and
// names alternate, so that R9's last tie-break orders both).
ExternalId unknown_agent(Rng& rng);
ExternalId unknown_item(Rng& rng);
ExternalId fresh_item(std::uint64_t& next_item);

// The index of the choice that one draw below the sum of the weights falls in (the last when
// the draw falls in none). `Choices` is a range of values with an int `weight`, such as
// WeightedChoice (`what` names the kind of event to make).
struct WeightedChoice {
  int weight;
  int what;
};
template <typename Choices>
std::size_t pick_weighted(Rng& rng, const Choices& choices) {
  int total = 0;
  for (const auto& c : choices) total += c.weight;
  int r = static_cast<int>(rng.below(static_cast<std::uint64_t>(total)));
  std::size_t index = 0;
  for (const auto& c : choices) {
    if (r < c.weight) return index;
    r -= c.weight;
    ++index;
  }
  return index - 1;
}

// What random rulesets are made of; each configuration keeps its own lists (they are part of
// what its seeds name).
struct RuleVocabulary {
  const std::vector<std::string_view>& item_conditions;
  const std::vector<std::string_view>& agent_conditions;
  const std::vector<std::string>& item_order_attributes;
  const std::vector<std::string>& agent_order_attributes;
};

// Per-channel and per-queue shape that every random configuration draws alike: presences,
// units per item, ordering by last message, blocks and prioritization limits; skill matching,
// working requirement and strict blocks.
void randomize_channel_shape(Rng& rng, ChannelConfig& channel, std::size_t presences, int any_percent);
void randomize_queue_shape(Rng& rng, QueueConfig& queue, std::size_t presences, int working_percent,
                           int allowed_percent, int any_percent);

// 1..3 prioritization rules, and for custom queues 1..4 assignment rules (the last often a
// catch-all), drawn from `words`.
void add_random_prioritization(Rng& rng, const Config& config, QueueConfig& queue,
                               const RuleVocabulary& words);
void add_random_assignment(Rng& rng, const Config& config, QueueConfig& queue,
                           const RuleVocabulary& words);

// A profile and a channel on it (the configurations' optional "video" and "cases").
void add_profile_channel(Config& config, std::string profile, bool blocks_others, ChannelKind kind,
                         std::string channel);

// The configuration of tests/property/reference_router_invariants_test.cpp: base_config()'s
// channels, seven fixed queues, about half of agent_pool() declared.
Config random_config(Rng& rng);

// A richer configuration for differential testing (see the top of this file). With
// `clusters` > 1, queue q belongs to cluster q % clusters and agent_pool()[i] to cluster
// i % clusters; declared agents join only queues of their cluster, so that the agent/queue graph
// falls apart into independent parts (until the stream links them).
Config random_rich_config(Rng& rng, int clusters = 1);
int cluster_of_agent(const ExternalId& agent, int clusters);

// What a stream generator produced, by kind (for coverage reports).
struct StreamCounts {
  std::map<std::string, std::uint64_t> events;     // by event type name
  std::map<std::string, std::uint64_t> decisions;  // by kind, with decided_by / reason
  std::map<std::string, std::uint64_t> errors;     // by error code

  [[nodiscard]] std::uint64_t decision(const std::string& key) const {
    const auto it = decisions.find(key);
    return it == decisions.end() ? 0 : it->second;
  }
};

// " offer/method=12 ... | errors: unknown_item=3 ..." for the coverage lines.
std::string summary(const StreamCounts& counts);

// Adds `decisions` (caused by `event`) to `counts`. requeued/timed_out is split into the host's
// offer_timeout ("requeued/timed_out(host)") and the channel's timer ("requeued/timed_out(timer)").
void count_decisions(const Event& event, const std::vector<Decision>& decisions,
                     StreamCounts& counts);

// The live items as the decisions told them (the host's ledger): what closed-loop generators
// answer, complete and cancel.
struct LedgerItem {
  ItemState state = ItemState::queued;
  QueueId queue = 0;
  std::optional<ExternalId> agent;
};
using Ledger = std::map<ExternalId, LedgerItem>;

// Adds an accepted arrival to `ledger` and moves its items as `decisions` say.
void follow(Ledger& ledger, const Event& event, const std::vector<Decision>& decisions);

// The ids of `items` (a ledger or a test's own model of items) in one of `states`.
template <typename Item>
std::vector<ExternalId> items_in(const std::map<ExternalId, Item>& items,
                                 std::initializer_list<ItemState> states) {
  std::vector<ExternalId> out;
  for (const auto& [id, m] : items) {
    if (std::find(states.begin(), states.end(), m.state) != states.end()) out.push_back(id);
  }
  return out;
}

class StreamGenerator {
 public:
  StreamGenerator(std::uint64_t seed, const Config& config, int clusters = 1);

  // The next event, given the router's state (the router that has seen every event so far).
  Event next(const ReferenceRouter& router);
  // Tells the generator what `event` (the last one next() returned) caused.
  void observe(const Event& event, const std::vector<Decision>& decisions);

  [[nodiscard]] const Ledger& ledger() const { return items_; }

 private:
  struct Ctx;
  Timestamp next_time(Timestamp now);
  EventBody make_arrive(Ctx& ctx);
  template <typename E>
  EventBody make_offer_answer(Ctx& ctx);
  EventBody make_complete(Ctx& ctx);
  EventBody make_cancel(Ctx& ctx);
  EventBody make_transfer(Ctx& ctx);
  EventBody make_update(Ctx& ctx);
  template <typename E>
  EventBody make_by_hand(Ctx& ctx, bool pick);
  EventBody make_presence(Ctx& ctx);
  EventBody make_capacity(Ctx& ctx);
  EventBody make_upsert(Ctx& ctx);
  EventBody make_remove(Ctx& ctx);
  EventBody make_join(Ctx& ctx);
  EventBody make_leave(Ctx& ctx);

  std::vector<ExternalId> items_in(std::initializer_list<ItemState> states) const {
    return testing::items_in(items_, states);
  }
  ExternalId some_agent(Ctx& ctx);
  QueueId some_queue_for(const ExternalId& agent);
  AgentCapacity random_capacity_for_config();
  PresenceId random_presence();

  Rng rng_;
  Config config_;
  int clusters_ = 1;
  Ledger items_;
  std::uint64_t sequence_ = 0;
  std::uint64_t next_item_ = 0;
};

// "item_arrive #12 @1000 item=1004 queue=2 skills=s1>=2 units=2 affinity=ana attrs={...}".
std::string describe(const Event& event);

}  // namespace switchboard::testing
