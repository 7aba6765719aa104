#pragma once
// The routing kernel: the same decisions as the reference router (R5..R15), made with a
// structure-of-arrays agent table, per-queue shards with incremental indexes of the agents that
// can take work, and packed capacity words reserved by compare-and-swap. docs/kernel.md explains
// the design; docs/semantics.md the rules it implements.
//
// Threads: a Kernel is driven by one thread at a time (the caller of apply / apply_batch). With
// KernelOptions::threads > 1, apply_batch runs the events of a batch that touch disjoint parts of
// the agent/queue graph (its connected components) in parallel on a private oneTBB task arena and
// merges their decisions back into the order a single thread produces: decisions are the same at
// every thread count (I5), not just alike.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "switchboard/config.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/events.hpp"
#include "switchboard/result.hpp"
#include "switchboard/router_views.hpp"

namespace switchboard {

struct KernelOptions {
  // Worker threads of the kernel's task arena (1 = everything on the caller's thread).
  int threads = 1;
  // apply_batch runs a segment in parallel only when it holds at least twice this many events:
  // a task handoff costs microseconds, so a task must carry a batch of work.
  std::size_t min_events_per_task = 16;
  // Initial room for this many live items (the item table grows on demand).
  std::size_t expected_items = 0;
};

// Memory of the agent table, for the benchmark report and docs/performance.md.
struct KernelFootprint {
  std::size_t agents = 0;
  std::size_t hot_bytes_per_agent = 0;  // the hot columns (fixed width per agent)
  std::size_t total_bytes = 0;          // hot columns, cold data, memberships and indexes
};

// Limits of the packed capacity word (docs/kernel.md, "Capacity word"): the kernel refuses a
// configuration or an event beyond them with an error naming the limit.
inline constexpr std::size_t kKernelMaxProfiles = 4;
inline constexpr std::int32_t kKernelMaxProfileCapacity = 255;

class Kernel {
 public:
  // Builds a kernel for `config` (its agents upserted and joined at time 0, as the reference
  // does). Fails with config_invalid_value when the configuration exceeds a kernel limit.
  [[nodiscard]] static Result<Kernel> create(Config config, KernelOptions options = {});

  Kernel(Kernel&&) noexcept;
  Kernel& operator=(Kernel&&) noexcept;
  ~Kernel();

  // Applies one event; appends every decision it causes, in order, to `out` (the reference
  // router's contract: clock, timers, validation, mutation, cycle).
  void apply(const Event& event, std::vector<Decision>& out);
  // Applies events in order; the decisions appended are exactly those of apply() called on each
  // in turn (the entry point a host adapter feeds after a bulk dequeue). With threads > 1 the
  // independent parts of the batch run in parallel.
  void apply_batch(std::span<const Event> events, std::vector<Decision>& out);
  // The same, and says which decisions each event made: ends[k] = out.size() once event k is
  // applied, so event k's decisions are out[ends[k-1] .. ends[k]) (from the old out.size() for
  // k = 0). A timer's decisions belong to the event that advanced the clock. The shared-memory
  // daemon names each decision's cause with it. `ends` must hold events.size() entries (a
  // shorter one is ignored).
  void apply_batch(std::span<const Event> events, std::vector<Decision>& out,
                   std::span<std::size_t> ends);

  // The configuration without its agent seeds (they live in the agent table; see agent()).
  [[nodiscard]] const Config& config() const noexcept;
  [[nodiscard]] Timestamp now() const noexcept;

  [[nodiscard]] std::optional<ItemView> item(const ExternalId& id) const;
  [[nodiscard]] std::optional<AgentView> agent(const ExternalId& id) const;
  [[nodiscard]] std::size_t live_item_count() const;
  // Items waiting in a queue (queued, not offered or parked); 0 for an unknown queue.
  [[nodiscard]] std::size_t queued_count(QueueId queue) const;
  [[nodiscard]] KernelFootprint footprint() const;
  // Agents that exist, counted by presence into counts[presence] (zeroed first; presences past
  // counts.size() are counted in the total only); returns the total. One pass over the presence
  // column, for the daemon's statistics block every ~100 ms; caller's thread, between batches.
  std::size_t count_agents_by_presence(std::span<std::uint64_t> counts) const;
  [[nodiscard]] int threads() const noexcept;
  // Events the last apply_batch applied on parallel lanes (the rest ran on the caller's thread).
  [[nodiscard]] std::uint64_t parallel_events() const noexcept;

  // I1..I3 as ReferenceRouter::check_invariants, plus the kernel's own consistency: every
  // capacity word equals the sum of the agent's holds and every shard index holds exactly the
  // members that can take work, in rank order. Empty when all hold.
  [[nodiscard]] std::string check_invariants() const;

 private:
  struct State;
  explicit Kernel(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace switchboard
