#pragma once
// The reference router: a plain, single-threaded, obviously correct implementation of every rule
// of ROUTING.md (R5..R15). It is the executable specification: the kernel is tested against it
// decision by decision, and the benchmarks run it as the naive baseline. Clarity beats speed.
//
// Not thread-safe: one thread owns a ReferenceRouter.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "switchboard/config.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/events.hpp"
#include "switchboard/router_views.hpp"

namespace switchboard {

class ReferenceRouter {
 public:
  // Applies the configuration's agents (AgentSeed) as if upserted and joined at time 0.
  explicit ReferenceRouter(Config config);
  ~ReferenceRouter();
  ReferenceRouter(const ReferenceRouter&) = delete;
  ReferenceRouter& operator=(const ReferenceRouter&) = delete;

  // Applies one event and appends every decision it causes, in order, to `out`. The clock first
  // advances to event.time (an event older than the clock is applied at the clock's time),
  // firing due timers in time order; then the event is applied; then the cycles it triggers run.
  // A refused event appends exactly one error decision and changes nothing.
  void apply(const Event& event, std::vector<Decision>& out);

  [[nodiscard]] const Config& config() const noexcept;
  [[nodiscard]] Timestamp now() const noexcept;

  [[nodiscard]] std::optional<ItemView> item(const ExternalId& id) const;
  [[nodiscard]] std::optional<AgentView> agent(const ExternalId& id) const;
  [[nodiscard]] std::vector<ExternalId> agent_ids() const;
  // The queued (not parked, not offered) items of a queue in the order of R8 at this moment.
  [[nodiscard]] std::vector<ExternalId> queue_order(QueueId queue) const;
  [[nodiscard]] std::size_t live_item_count() const;

  // Checks I1 (capacity never negative), I2 (one agent per offered / assigned item, consistent
  // both ways) and I3 (every live item in exactly one state and place). Returns an empty string
  // when they hold, else a description of the first violation.
  [[nodiscard]] std::string check_invariants() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace switchboard
