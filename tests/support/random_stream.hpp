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

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
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

// `agent.<key> == item.<key>`, built without the condition parser.
Condition agent_equals_item(const std::string& key);

// Skills s0..s5 (up to four, proficiency 0..5), and a capacity of 0..4 units with profile
// maxima {0..3, 0..1} (sometimes only the first profile).
std::vector<SkillLevel> random_skills(Rng& rng);
AgentCapacity random_capacity(Rng& rng);

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
};

// Adds `decisions` (caused by `event`) to `counts`. requeued/timed_out is split into the host's
// offer_timeout ("requeued/timed_out(host)") and the channel's timer ("requeued/timed_out(timer)").
void count_decisions(const Event& event, const std::vector<Decision>& decisions,
                     StreamCounts& counts);

class StreamGenerator {
 public:
  StreamGenerator(std::uint64_t seed, const Config& config, int clusters = 1);

  // The next event, given the router's state (the router that has seen every event so far).
  Event next(const ReferenceRouter& router);
  // Tells the generator what `event` (the last one next() returned) caused.
  void observe(const Event& event, const std::vector<Decision>& decisions);

  // The live items as the decisions told them (the host's ledger).
  struct LedgerItem {
    ItemState state = ItemState::queued;
    QueueId queue = 0;
    std::optional<ExternalId> agent;
  };
  [[nodiscard]] const std::map<ExternalId, LedgerItem>& ledger() const { return items_; }

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

  std::vector<ExternalId> items_in(std::initializer_list<ItemState> states) const;
  ExternalId some_agent(Ctx& ctx);
  ExternalId unknown_agent_id();
  ExternalId unknown_item_id();
  ExternalId fresh_item_id();
  QueueId some_queue_for(const ExternalId& agent);
  Attributes random_item_attributes();
  Attributes random_agent_attributes();
  AgentCapacity random_capacity_for_config();
  PresenceId random_presence();

  Rng rng_;
  Config config_;
  int clusters_ = 1;
  std::map<ExternalId, LedgerItem> items_;
  std::uint64_t sequence_ = 0;
  std::uint64_t next_item_ = 0;
};

// "item_arrive #12 @1000 item=1004 queue=2 skills=s1>=2 units=2 affinity=ana attrs={...}".
std::string describe(const Event& event);

}  // namespace switchboard::testing
