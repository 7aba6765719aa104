#pragma once
// The routing kernel: the same decisions as the reference router (R5..R15), made with a
// structure-of-arrays agent table, per-queue shards with incremental indexes of the agents that
// can take work, and packed capacity words reserved by compare-and-swap. docs/kernel.md explains
// the design; docs/semantics.md the rules it implements.
//
// Threads: a Kernel is driven by one thread at a time (the caller of apply / apply_batch); it
// starts no threads of its own yet. Parallel batches (components of the agent/queue graph on a
// oneTBB task arena, merged back into single-thread order) are designed in docs/kernel.md,
// "Next: parallel batches", and not built yet.

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
  // in turn (the entry point a host adapter feeds after a bulk dequeue).
  void apply_batch(std::span<const Event> events, std::vector<Decision>& out);

  // The configuration without its agent seeds (they live in the agent table; see agent()).
  [[nodiscard]] const Config& config() const noexcept;
  [[nodiscard]] Timestamp now() const noexcept;

  [[nodiscard]] std::optional<ItemView> item(const ExternalId& id) const;
  [[nodiscard]] std::optional<AgentView> agent(const ExternalId& id) const;
  [[nodiscard]] std::size_t live_item_count() const;
  [[nodiscard]] KernelFootprint footprint() const;

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
