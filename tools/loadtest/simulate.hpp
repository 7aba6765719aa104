#pragma once
// simulate mode: runs a scenario's replications (in parallel threads when asked) and turns them
// into the figures of results.hpp.
//
// Thread safety: simulate() may be called from any thread; it starts its own worker threads and
// joins them before returning. The progress callback is called from those workers, one call at
// a time (simulate serializes them).

#include <cstdint>
#include <functional>
#include <optional>

#include "scenario.hpp"
#include "simulator.hpp"
#include "switchboard/loadtest/results.hpp"
#include "switchboard/result.hpp"

namespace switchboard::loadtest {

struct SimulateProgress {
  std::uint32_t replications = 0;       // in all
  std::uint32_t replications_done = 0;  // finished
  double fraction = 0.0;                // of all the replications' simulated time, 0..1
  double elapsed_s = 0.0;               // wall time since simulate() started
};

struct SimulateOptions {
  EngineKind engine = EngineKind::kernel;
  std::optional<std::uint32_t> replications;  // default: the scenario's
  std::optional<std::uint64_t> seed;          // default: the scenario's
  std::uint32_t threads = 0;                  // 0: one per core, at most one per replication
  std::function<void(const SimulateProgress&)> on_progress;  // optional
};

// The seed replication k runs with, from the base seed (splitmix64 steps: independent streams).
[[nodiscard]] std::uint64_t replication_seed(std::uint64_t base_seed, std::uint32_t k);

// Runs every replication and aggregates them. Fails when the engine refuses the configuration.
[[nodiscard]] Result<LoadTestResults> simulate(const Scenario& scenario,
                                               const SimulateOptions& options);

// The aggregation alone (simulate's second half): replications in index order.
[[nodiscard]] LoadTestResults aggregate(const Scenario& scenario, EngineKind engine,
                                        std::uint64_t base_seed,
                                        std::vector<ReplicationStats> replications);

}  // namespace switchboard::loadtest
