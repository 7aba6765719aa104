#pragma once
// The results of a load test: every figure the summary table, the JSON, the CSV and the HTML
// report show, as plain data. The simulator (simulate.hpp) fills one LoadTestResults; writers
// only read it. Definitions are repeated in docs/load-testing.md ("Figures").
//
// Conventions used by every field below:
// - Customer times (waits, ASA, thresholds, horizons, time-series steps) are in seconds of
//   simulated time, as doubles. Engine times (decision latency) are in nanoseconds of wall time.
// - "Measured items" are the items that arrived at or after the warm-up and before the horizon;
//   items that arrived during the warm-up are routed but counted nowhere.
// - Counts (offered, answered, ...) are totals over all replications (pooled); so are
//   histograms and samples. Rates and percentiles marked "pooled" are computed from the pooled
//   data. Figures typed Estimate are the mean over replications of the per-replication value,
//   with a Student-t confidence interval.
// - A figure that has no data (an ASA with nothing answered, a confidence interval from one
//   replication) is NaN; writers print it as "-" (JSON: null).
//
// Not thread-safe; a value type, copied and moved freely.

#include <cstdint>
#include <string>
#include <vector>

namespace switchboard::loadtest {

// A figure estimated from independent replications: mean ± half_width is a `level` confidence
// interval for the figure's expected value (Student t with replications - 1 degrees of freedom
// over the per-replication values). half_width is NaN with fewer than 2 replications that have
// the figure; mean is NaN when none has it.
struct Estimate {
  double mean = 0.0;        // mean of the per-replication values (unit: the figure's)
  double half_width = 0.0;  // t_{(1+level)/2, n-1} * s / sqrt(n) (unit: the figure's)
  double level = 0.95;      // confidence level, a fraction (0.95 = 95 %)
  std::uint32_t samples = 0;  // replications that had the figure (n)
  std::vector<double> per_replication;  // the n values, in replication order
};

// Counts of values in consecutive buckets [edges[i], edges[i+1]). edges.size() ==
// counts.size() + 1. Values below edges.front() are counted in `underflow`, values at or above
// edges.back() in `overflow`. Unit: the figure's (stated where the histogram is declared).
struct Histogram {
  std::vector<double> edges;
  std::vector<std::uint64_t> counts;
  std::uint64_t underflow = 0;
  std::uint64_t overflow = 0;
  std::uint64_t total = 0;  // underflow + sum(counts) + overflow
};

// Order statistics of a sample (nearest-rank: the p-quantile is the smallest value with at least
// p * n values at or below it). All NaN for an empty sample. Unit: the figure's.
struct Percentiles {
  double p50 = 0.0;
  double p90 = 0.0;
  double p95 = 0.0;
  double p99 = 0.0;
  double p999 = 0.0;
  double max = 0.0;
  double mean = 0.0;
  std::uint64_t count = 0;  // values in the sample
};

// A value sampled at a fixed step of simulated time: values[k] is the value at
// start_s + k * step_s (for queue depth: the depth just after every event at that instant),
// averaged pointwise over replications.
struct TimeSeries {
  double start_s = 0.0;  // seconds of simulated time
  double step_s = 0.0;   // seconds of simulated time between samples
  std::vector<double> values;
};

// Service level at one threshold T.
// Definition (the one used everywhere in this tool):
//   service level = answered within T / (answered + abandoned after T)
// over measured items that were resolved (answered or abandoned). Items abandoned within T
// ("short abandons") are left out of numerator and denominator; items abandoned after T count
// against it. Without abandonment this is P(wait <= T) of answered items, the Erlang C figure.
// "Answered" means assigned (an accepted offer); wait = answered time - arrival time.
struct ServiceLevel {
  double threshold_s = 0.0;             // T, seconds
  std::uint64_t answered_within = 0;    // pooled count: answered with wait <= T
  std::uint64_t abandoned_within = 0;   // pooled count: abandoned with wait <= T (excluded)
  std::uint64_t denominator = 0;        // pooled: answered + abandoned - abandoned_within
  double pooled = 0.0;                  // fraction 0..1: answered_within / denominator (pooled)
  Estimate value;                       // fraction 0..1, per-replication mean and CI
};

// Figures of one interval of the scenario (intervals are the scenario's rate intervals: each
// holds the items that arrived in it). Pooled over replications.
struct IntervalFigures {
  double start_s = 0.0;             // interval start, seconds of simulated time
  double end_s = 0.0;               // interval end (exclusive), seconds
  std::uint64_t offered = 0;        // measured items that arrived in the interval
  std::uint64_t answered = 0;       // of those, answered
  std::uint64_t abandoned = 0;      // of those, abandoned
  double asa_s = 0.0;               // mean wait of those answered, seconds
  std::vector<double> service_level;  // fraction 0..1 per configured threshold (same order as
                                      // LoadTestResults::thresholds_s), definition as ServiceLevel
};

// What customers of one queue (or of all queues together) experienced.
struct QueueFigures {
  std::string name;  // the queue's name; "all" for the overall figures
  std::string channel;  // the queue's channel name; "" for the overall figures

  std::uint64_t offered = 0;     // measured items that arrived (pooled count)
  std::uint64_t answered = 0;    // of those, assigned to an agent (accepted offer)
  std::uint64_t abandoned = 0;   // of those, cancelled by the host because patience ran out
                                 // while queued, offered or parked
  std::uint64_t unresolved = 0;  // of those, neither answered nor abandoned when the run ended
                                 // (horizon plus drain limit)
  std::uint64_t completed = 0;   // of the answered, completed within the run

  std::vector<ServiceLevel> service_levels;  // one per configured threshold, in order

  // Average speed of answer: mean wait (arrival to assignment) of answered items, seconds.
  Estimate asa_s;
  double asa_pooled_s = 0.0;  // the same over the pooled answered items, seconds
  // Probability of waiting: fraction 0..1 of resolved items (answered or abandoned) that were
  // not offered to an agent at the instant they arrived: they had to queue. Ringing time does
  // not count as waiting here (it does in the waits). Erlang C's P(W > 0).
  Estimate probability_of_wait;
  // Abandonment rate: abandoned / (answered + abandoned), fraction 0..1.
  Estimate abandonment_rate;
  // Mean handling time of answered items (assignment to completion, without wrap-up), seconds.
  Estimate handle_time_s;

  // Waits (arrival to assignment) of answered items, seconds, pooled.
  Percentiles wait_s;
  // Waits of answered items, seconds, pooled: the distribution chart's data.
  Histogram wait_histogram_s;
  // Time abandoned items waited before leaving, seconds, pooled.
  Percentiles abandon_wait_s;

  // Offers to agents that were declined (offer_decline) / timed out (the agent's no-answer,
  // offer_timeout, or the channel's offer_timeout_ms), pooled counts over measured items.
  std::uint64_t declines = 0;
  std::uint64_t offer_timeouts = 0;
  // Measured items the router parked (R14: declined by park_after_decliners distinct agents).
  std::uint64_t parked = 0;

  // Items waiting in the queue (queued, not offered or parked), sampled over time.
  TimeSeries depth;
  double max_depth = 0.0;  // largest depth seen in any replication at any event, items

  std::vector<IntervalFigures> intervals;  // one per scenario interval, in time order
};

// How the work was spread over the agents of a group (or of all agents).
// Assignments = items assigned to the agent (accepted offers) during the whole run, warm-up and
// drain included.
struct AssignmentSpread {
  double min = 0.0;     // fewest assignments of one agent (per replication, then averaged)
  double median = 0.0;  // median over agents (averaged over replications)
  double max = 0.0;     // most assignments of one agent (averaged over replications)
  // Gini coefficient of the assignments per agent, 0 (all equal) .. 1 - 1/n (one agent does
  // everything): sum_i sum_j |x_i - x_j| / (2 n^2 mean). Mean and CI over replications.
  Estimate gini;
  // Assignments per agent in the first replication, in agent order (the chart's data).
  std::vector<std::uint64_t> per_agent;
  std::vector<std::string> agent_ids;  // same order as per_agent
};

// One agent group of the scenario.
struct GroupFigures {
  std::string name;
  std::uint32_t agents = 0;  // agents in the group
  // Occupancy: busy time / logged-on time of the group's agents, fraction 0..1, over the
  // measured window [warm-up, horizon). Busy = holding at least one assigned item (from the
  // assignment to the completion, plus the channel's wrap-up); logged on = in the group's
  // working presence, or busy (an agent finishing a call after its break began is still
  // working). For agents that take one item at a time this is the classical occupancy, Erlang
  // C's lambda / (N mu); for agents with several slots it is the time with any work at all.
  Estimate occupancy;
  // Same, with time holding only open offers (ringing) counted as busy too.
  Estimate occupancy_with_offers;
  std::uint64_t assignments = 0;  // pooled count of assignments to agents of the group
  AssignmentSpread spread;
};

// The routing engine's speed, in wall time of this machine.
// Decision latency: the simulator hands the engine the events due at one simulated instant as
// one batch (Kernel::apply_batch; the reference router: apply for each) and times the call with
// a steady clock. Every decision that batch produced gets the batch's wall time as its latency:
// the time from handing the batch in to the engine returning it, which is when a host would
// have the decision. Simulator work (drawing random numbers, bookkeeping) is not included.
struct EngineFigures {
  std::string engine;  // "kernel" or "reference"
  std::uint64_t events = 0;     // events applied (pooled over replications)
  std::uint64_t batches = 0;    // engine calls (pooled)
  std::uint64_t decisions = 0;  // decisions made, errors included (pooled)
  std::uint64_t errors = 0;     // error decisions (a refused event: a simulator defect if > 0)
  std::string first_error;      // the first error's code and message ("" when none)
  double engine_wall_s = 0.0;   // sum of the timed engine calls, seconds of wall time (pooled)
  // Decisions per second: decisions / engine_wall_s of each replication; mean and CI.
  Estimate decisions_per_s;
  // Events per second: events / engine_wall_s of each replication; mean and CI.
  Estimate events_per_s;
  // Decision latency, nanoseconds of wall time, pooled over replications (from the histogram
  // below: values are bucket upper bounds, at most 1/64 above the true value; max is exact).
  Percentiles latency_ns;
  // Decision latency, nanoseconds, log-linear buckets: the latency chart's data.
  Histogram latency_histogram_ns;
};

// The simulator's own speed.
struct SimulatorFigures {
  double wall_s = 0.0;             // wall time of all replications together, seconds
  double cpu_wall_s = 0.0;         // sum of the replications' wall times, seconds
  std::uint32_t threads = 1;       // replications run in parallel on this many threads
  std::uint64_t items = 0;         // items simulated, warm-up included (pooled)
  std::uint64_t events = 0;        // events handed to the engine (pooled)
  // Simulated items per second of one thread's wall time: items / cpu_wall_s.
  double items_per_s = 0.0;
  double simulated_s = 0.0;        // simulated time per replication, seconds (incl. drain)
};

// One replication's seed and headline counts (the table of replications in the report).
struct ReplicationSummary {
  std::uint32_t index = 0;   // 0-based
  std::uint64_t seed = 0;    // the seed it ran with
  std::uint64_t offered = 0;
  std::uint64_t answered = 0;
  std::uint64_t abandoned = 0;
  double wall_s = 0.0;       // its wall time, seconds
};

// Everything one load test produced.
struct LoadTestResults {
  std::string tool_version;      // switchboard version that produced it
  std::string mode = "simulate";  // "simulate" (drive mode later)
  std::string scenario_name;     // the scenario's `name`
  std::string scenario_path;     // the file it was loaded from ("" when built in memory)
  std::string config_source;     // the routing configuration: its path, or "inline"
  std::string engine;            // "kernel" or "reference"
  double horizon_s = 0.0;        // arrivals happen in [0, horizon_s), seconds
  double warmup_s = 0.0;         // arrivals before this are not measured, seconds
  double drain_s = 0.0;          // the run went on at most this long after the horizon, seconds
  double interval_s = 0.0;       // length of one scenario interval, seconds
  std::vector<double> thresholds_s;  // service-level thresholds, seconds, in order
  std::uint32_t replications = 0;
  std::uint64_t base_seed = 0;       // replication k runs with seeds[k] (derived from it)
  std::vector<std::uint64_t> seeds;  // one per replication
  double confidence_level = 0.95;    // level of every Estimate, fraction

  std::vector<QueueFigures> queues;  // one per scenario queue, in scenario order
  QueueFigures overall;              // all queues together (name "all")
  std::vector<GroupFigures> groups;  // one per agent group, in scenario order
  AssignmentSpread all_agents;       // spread over every agent of every group
  EngineFigures engine_figures;
  SimulatorFigures simulator;
  std::vector<ReplicationSummary> per_replication;
};

}  // namespace switchboard::loadtest
