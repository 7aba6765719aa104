#pragma once
// One replication of simulate mode: a discrete-event simulation of a contact center's host
// (customers, agents, clocks) around a routing engine, in simulated time. The host sends the
// engine the events a real host would (arrivals, accepts, declines, timeouts, cancels on
// abandonment, completions, presence changes) and reacts to its decisions; nothing reads a wall
// clock except the timing of the engine's calls (decision latency).
//
// Deterministic: the same scenario, engine and seed give the same ReplicationStats (wall-time
// fields aside). Each source of randomness has its own stream (simulator.cpp, "Random
// streams"): under another routing configuration with the same seed, the customers (arrival
// times, attributes, skills, patience, handling times) and each agent's n-th answer are the
// same; only what routing decides and what follows from it differ.
// Not thread-safe; replications on different threads share only the Scenario.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "statistics.hpp"

namespace switchboard::loadtest {

enum class EngineKind : std::uint8_t { kernel, reference };

[[nodiscard]] std::string_view to_string(EngineKind engine) noexcept;

// Counts of one interval of one queue (measured items that arrived in it).
struct IntervalStats {
  std::uint64_t offered = 0;
  std::uint64_t answered = 0;
  std::uint64_t abandoned = 0;
  double wait_sum_s = 0.0;  // of the answered
  std::vector<std::uint64_t> answered_within;   // per threshold
  std::vector<std::uint64_t> abandoned_within;  // per threshold
};

// What one replication saw in one queue.
struct QueueStats {
  std::uint64_t offered = 0;
  std::uint64_t answered = 0;
  std::uint64_t abandoned = 0;
  std::uint64_t completed = 0;
  std::uint64_t waited = 0;  // resolved items not offered at the instant they arrived
  std::uint64_t declines = 0;
  std::uint64_t offer_timeouts = 0;
  std::uint64_t parked = 0;
  double handle_sum_s = 0.0;  // drawn handling times of the answered
  std::vector<double> waits_s;          // answered
  std::vector<double> abandon_waits_s;  // abandoned
  std::vector<std::uint64_t> answered_within;   // per threshold
  std::vector<std::uint64_t> abandoned_within;  // per threshold
  std::vector<IntervalStats> intervals;
  std::vector<double> depth;  // sampled every depth_step_s from 0
  std::uint64_t max_depth = 0;
  // A hash of every customer that arrived (warm-up and drain included), in arrival order: its
  // arrival millisecond and what was drawn for it (attribute values, skill option, patience,
  // handling and wrap-up times). It depends on the seed and the scenario's traffic only, never
  // on routing: the two sides of a compare have the same one (simulator.cpp, "Random streams").
  std::uint64_t customers_digest = 0;

  [[nodiscard]] std::uint64_t unresolved() const { return offered - answered - abandoned; }
};

struct AgentStats {
  std::uint64_t assignments = 0;
  double busy_s = 0.0;          // holding an assigned item or in wrap-up, in the measured window
  double busy_or_offered_s = 0.0;  // the same, or holding an open offer
  double on_s = 0.0;            // in the working presence or busy, in the measured window
};

struct ReplicationStats {
  std::uint64_t seed = 0;
  std::vector<QueueStats> queues;  // scenario order
  std::vector<AgentStats> agents;  // group order, then index in the group
  std::uint64_t items = 0;         // every item that arrived (warm-up included)
  std::uint64_t events = 0;        // events applied by the engine
  std::uint64_t batches = 0;
  std::uint64_t decisions = 0;
  std::uint64_t errors = 0;
  std::string first_error;         // the first error decision's message, for the operator
  double engine_wall_s = 0.0;
  double wall_s = 0.0;
  double simulated_s = 0.0;        // simulated time when the run ended
  LatencyHistogram latency_ns;
};

// Runs one replication. `progress`, if set, is called now and then on this thread with the
// fraction of the horizon simulated so far (0..1).
[[nodiscard]] Result<ReplicationStats> run_replication(
    const Scenario& scenario, EngineKind engine, std::uint64_t seed,
    const std::function<void(double)>& progress = {});

}  // namespace switchboard::loadtest
