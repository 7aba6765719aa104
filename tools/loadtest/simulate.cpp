// simulate mode: replications and aggregation (simulate.hpp). Definitions of every figure are in
// results.hpp and docs/load-testing.md.

#include "simulate.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>

#include "random.hpp"
#include "statistics.hpp"
#include "switchboard/version.hpp"

namespace switchboard::loadtest {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kWaitBuckets = 60;
constexpr std::size_t kLatencyBars = 60;

double ratio(double numerator, double denominator) {
  return denominator > 0.0 ? numerator / denominator : kNaN;
}
double ratio(std::uint64_t numerator, std::uint64_t denominator) {
  return ratio(static_cast<double>(numerator), static_cast<double>(denominator));
}

// Adds `from` into `into` (counts, samples, depth pointwise): a queue's figures over several
// queues, or over several replications.
void merge(QueueStats& into, const QueueStats& from) {
  into.offered += from.offered;
  into.answered += from.answered;
  into.abandoned += from.abandoned;
  into.completed += from.completed;
  into.waited += from.waited;
  into.declines += from.declines;
  into.offer_timeouts += from.offer_timeouts;
  into.parked += from.parked;
  into.handle_sum_s += from.handle_sum_s;
  into.waits_s.insert(into.waits_s.end(), from.waits_s.begin(), from.waits_s.end());
  into.abandon_waits_s.insert(into.abandon_waits_s.end(), from.abandon_waits_s.begin(),
                              from.abandon_waits_s.end());
  const auto add = [](std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
    if (a.size() < b.size()) a.resize(b.size(), 0);
    for (std::size_t i = 0; i < b.size(); ++i) a[i] += b[i];
  };
  add(into.answered_within, from.answered_within);
  add(into.abandoned_within, from.abandoned_within);
  if (into.intervals.size() < from.intervals.size()) into.intervals.resize(from.intervals.size());
  for (std::size_t k = 0; k < from.intervals.size(); ++k) {
    IntervalStats& a = into.intervals[k];
    const IntervalStats& b = from.intervals[k];
    a.offered += b.offered;
    a.answered += b.answered;
    a.abandoned += b.abandoned;
    a.wait_sum_s += b.wait_sum_s;
    add(a.answered_within, b.answered_within);
    add(a.abandoned_within, b.abandoned_within);
  }
  if (into.depth.size() < from.depth.size()) into.depth.resize(from.depth.size(), 0.0);
  for (std::size_t k = 0; k < from.depth.size(); ++k) into.depth[k] += from.depth[k];
  into.max_depth = std::max(into.max_depth, from.max_depth);
}

double service_level(std::uint64_t answered_within, std::uint64_t answered,
                     std::uint64_t abandoned, std::uint64_t abandoned_within) {
  return ratio(answered_within, answered + abandoned - abandoned_within);
}

// The figures of one queue (or of all) from its per-replication stats.
QueueFigures queue_figures(const std::vector<QueueStats>& reps, const Scenario& s) {
  QueueFigures f;
  const double level = s.confidence;
  QueueStats pooled;
  std::vector<double> asa, pwait, abandon, handle;
  std::vector<std::vector<double>> sl(s.thresholds_s.size());
  for (const QueueStats& r : reps) {
    merge(pooled, r);
    const std::uint64_t resolved = r.answered + r.abandoned;
    double wait_sum = 0.0;
    for (double w : r.waits_s) wait_sum += w;
    asa.push_back(ratio(wait_sum, static_cast<double>(r.answered)));
    pwait.push_back(ratio(r.waited, resolved));
    abandon.push_back(ratio(r.abandoned, resolved));
    handle.push_back(ratio(r.handle_sum_s, static_cast<double>(r.answered)));
    for (std::size_t k = 0; k < sl.size(); ++k) {
      sl[k].push_back(service_level(r.answered_within[k], r.answered, r.abandoned,
                                    r.abandoned_within[k]));
    }
  }
  f.offered = pooled.offered;
  f.answered = pooled.answered;
  f.abandoned = pooled.abandoned;
  f.unresolved = pooled.unresolved();
  f.completed = pooled.completed;
  f.declines = pooled.declines;
  f.offer_timeouts = pooled.offer_timeouts;
  f.parked = pooled.parked;
  f.asa_s = make_estimate(asa, level);
  f.probability_of_wait = make_estimate(pwait, level);
  f.abandonment_rate = make_estimate(abandon, level);
  f.handle_time_s = make_estimate(handle, level);
  for (std::size_t k = 0; k < sl.size(); ++k) {
    ServiceLevel level_k;
    level_k.threshold_s = s.thresholds_s[k];
    level_k.answered_within = pooled.answered_within[k];
    level_k.abandoned_within = pooled.abandoned_within[k];
    level_k.denominator = pooled.answered + pooled.abandoned - pooled.abandoned_within[k];
    level_k.pooled = ratio(level_k.answered_within, level_k.denominator);
    level_k.value = make_estimate(sl[k], level);
    f.service_levels.push_back(std::move(level_k));
  }
  double wait_sum = 0.0;
  for (double w : pooled.waits_s) wait_sum += w;
  f.asa_pooled_s = ratio(wait_sum, static_cast<double>(pooled.answered));
  f.wait_s = percentiles(pooled.waits_s);  // sorts
  f.wait_histogram_s = linear_histogram(pooled.waits_s, kWaitBuckets);
  f.abandon_wait_s = percentiles(pooled.abandon_waits_s);
  f.depth.start_s = 0.0;
  f.depth.step_s = s.depth_step_s;
  f.depth.values = pooled.depth;
  for (double& v : f.depth.values) v /= static_cast<double>(std::max<std::size_t>(1, reps.size()));
  f.max_depth = static_cast<double>(pooled.max_depth);
  for (std::size_t k = 0; k < pooled.intervals.size(); ++k) {
    const IntervalStats& iv = pooled.intervals[k];
    IntervalFigures out;
    out.start_s = static_cast<double>(k) * s.interval_s;
    out.end_s = std::min(s.horizon_s, static_cast<double>(k + 1) * s.interval_s);
    out.offered = iv.offered;
    out.answered = iv.answered;
    out.abandoned = iv.abandoned;
    out.asa_s = ratio(iv.wait_sum_s, static_cast<double>(iv.answered));
    for (std::size_t t = 0; t < iv.answered_within.size(); ++t) {
      out.service_level.push_back(
          service_level(iv.answered_within[t], iv.answered, iv.abandoned, iv.abandoned_within[t]));
    }
    f.intervals.push_back(std::move(out));
  }
  return f;
}

// Assignment spread over the agents [first, last) of every replication.
AssignmentSpread spread(const std::vector<ReplicationStats>& reps, std::size_t first,
                        std::size_t last, const std::vector<std::string>& ids, double level) {
  AssignmentSpread out;
  std::vector<double> mins, medians, maxes, ginis;
  for (const ReplicationStats& r : reps) {
    std::vector<double> counts;
    for (std::size_t i = first; i < last; ++i) counts.push_back(static_cast<double>(r.agents[i].assignments));
    if (counts.empty()) continue;
    mins.push_back(*std::min_element(counts.begin(), counts.end()));
    maxes.push_back(*std::max_element(counts.begin(), counts.end()));
    medians.push_back(median(counts));
    ginis.push_back(gini(counts));
  }
  const auto mean = [](const std::vector<double>& v) {
    if (v.empty()) return kNaN;
    double sum = 0.0;
    for (double x : v) sum += x;
    return sum / static_cast<double>(v.size());
  };
  out.min = mean(mins);
  out.median = mean(medians);
  out.max = mean(maxes);
  out.gini = make_estimate(ginis, level);
  if (!reps.empty()) {
    for (std::size_t i = first; i < last; ++i) {
      out.per_agent.push_back(reps.front().agents[i].assignments);
      out.agent_ids.push_back(ids[i]);
    }
  }
  return out;
}

}  // namespace

std::uint64_t replication_seed(std::uint64_t base_seed, std::uint32_t k) {
  std::uint64_t state = base_seed;
  std::uint64_t seed = 0;
  for (std::uint32_t i = 0; i <= k; ++i) seed = splitmix64(state);
  return seed;
}

LoadTestResults aggregate(const Scenario& s, EngineKind engine, std::uint64_t base_seed,
                          std::vector<ReplicationStats> reps) {
  LoadTestResults r;
  r.tool_version = std::string(version_string());
  r.scenario_name = s.name;
  r.scenario_path = s.path;
  r.config_source = s.config_source;
  r.engine = std::string(to_string(engine));
  r.horizon_s = s.horizon_s;
  r.warmup_s = s.warmup_s;
  r.drain_s = s.drain_s;
  r.interval_s = s.interval_s;
  r.thresholds_s = s.thresholds_s;
  r.replications = static_cast<std::uint32_t>(reps.size());
  r.base_seed = base_seed;
  r.confidence_level = s.confidence;
  for (const ReplicationStats& rep : reps) r.seeds.push_back(rep.seed);

  // Queues, then all queues merged per replication.
  std::vector<QueueStats> overall(reps.size());
  for (std::size_t q = 0; q < s.queues.size(); ++q) {
    std::vector<QueueStats> per_rep;
    for (std::size_t k = 0; k < reps.size(); ++k) {
      per_rep.push_back(reps[k].queues[q]);
      merge(overall[k], reps[k].queues[q]);
    }
    QueueFigures f = queue_figures(per_rep, s);
    f.name = s.queues[q].queue;
    f.channel = s.config.channels[s.config.queues[s.queues[q].queue_id].channel].name;
    r.queues.push_back(std::move(f));
  }
  r.overall = queue_figures(overall, s);
  r.overall.name = "all";

  // Agent groups.
  std::vector<std::string> ids;
  for (const AgentGroup& g : s.groups) {
    for (std::uint32_t k = 0; k < g.count; ++k) ids.push_back(g.name + "-" + std::to_string(k));
  }
  std::size_t first = 0;
  for (const AgentGroup& g : s.groups) {
    GroupFigures gf;
    gf.name = g.name;
    gf.agents = g.count;
    const std::size_t last = first + g.count;
    std::vector<double> occupancy, with_offers;
    for (const ReplicationStats& rep : reps) {
      double busy = 0.0, busy_offers = 0.0, on = 0.0;
      for (std::size_t i = first; i < last; ++i) {
        busy += rep.agents[i].busy_s;
        busy_offers += rep.agents[i].busy_or_offered_s;
        on += rep.agents[i].on_s;
        gf.assignments += rep.agents[i].assignments;
      }
      occupancy.push_back(ratio(busy, on));
      with_offers.push_back(ratio(busy_offers, on));
    }
    gf.occupancy = make_estimate(occupancy, s.confidence);
    gf.occupancy_with_offers = make_estimate(with_offers, s.confidence);
    gf.spread = spread(reps, first, last, ids, s.confidence);
    r.groups.push_back(std::move(gf));
    first = last;
  }
  r.all_agents = spread(reps, 0, ids.size(), ids, s.confidence);

  // The engine and the simulator.
  EngineFigures& e = r.engine_figures;
  e.engine = r.engine;
  LatencyHistogram latency;
  std::vector<double> dps, eps;
  SimulatorFigures& sim = r.simulator;
  for (const ReplicationStats& rep : reps) {
    e.events += rep.events;
    e.batches += rep.batches;
    e.decisions += rep.decisions;
    e.errors += rep.errors;
    if (e.first_error.empty()) e.first_error = rep.first_error;
    e.engine_wall_s += rep.engine_wall_s;
    dps.push_back(ratio(static_cast<double>(rep.decisions), rep.engine_wall_s));
    eps.push_back(ratio(static_cast<double>(rep.events), rep.engine_wall_s));
    latency.merge(rep.latency_ns);
    sim.items += rep.items;
    sim.events += rep.events;
    sim.cpu_wall_s += rep.wall_s;
    sim.simulated_s = std::max(sim.simulated_s, rep.simulated_s);
    ReplicationSummary summary;
    summary.index = static_cast<std::uint32_t>(r.per_replication.size());
    summary.seed = rep.seed;
    for (const QueueStats& q : rep.queues) {
      summary.offered += q.offered;
      summary.answered += q.answered;
      summary.abandoned += q.abandoned;
    }
    summary.wall_s = rep.wall_s;
    r.per_replication.push_back(summary);
  }
  e.decisions_per_s = make_estimate(dps, s.confidence);
  e.events_per_s = make_estimate(eps, s.confidence);
  e.latency_ns = latency.percentiles();
  e.latency_histogram_ns = latency.to_histogram(kLatencyBars);
  sim.items_per_s = ratio(static_cast<double>(sim.items), sim.cpu_wall_s);
  return r;
}

Result<LoadTestResults> simulate(const Scenario& scenario, const SimulateOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::uint32_t n = options.replications.value_or(scenario.replications);
  const std::uint64_t base_seed = options.seed.value_or(scenario.seed);
  std::uint32_t threads = options.threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::max(1u, std::min(threads, n));

  std::vector<std::optional<Result<ReplicationStats>>> results(n);
  // Progress: each worker writes its replication's fraction (one writer per slot); the
  // callback reads them all under the mutex, which also serializes the callback.
  std::mutex progress_mutex;
  std::vector<double> fractions(n, 0.0);
  std::uint32_t done = 0;
  const auto report = [&](std::uint32_t k, double fraction, bool finished) {
    std::lock_guard<std::mutex> lock(progress_mutex);
    fractions[k] = fraction;
    if (finished) ++done;
    if (!options.on_progress) return;
    SimulateProgress p;
    p.replications = n;
    p.replications_done = done;
    double sum = 0.0;
    for (double f : fractions) sum += f;
    p.fraction = n > 0 ? sum / n : 1.0;
    p.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    options.on_progress(p);
  };
  // Work distribution: the next replication index; relaxed is enough because the index is the
  // only thing it hands over (each replication's inputs are read-only and its output slot is
  // written by the one worker that drew the index; join() publishes the slots).
  std::atomic<std::uint32_t> next{0};
  const auto worker = [&] {
    for (;;) {
      const std::uint32_t k = next.fetch_add(1, std::memory_order_relaxed);
      if (k >= n) return;
      const std::function<void(double)> progress = [&, k](double f) { report(k, f, false); };
      results[k] = run_replication(scenario, options.engine, replication_seed(base_seed, k),
                                   progress);
      report(k, 1.0, true);
    }
  };
  if (threads == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (std::uint32_t t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (std::thread& t : pool) t.join();
  }
  std::vector<ReplicationStats> reps;
  for (auto& result : results) {
    if (!result->has_value()) return result->error();
    reps.push_back(std::move(*result).value());
  }
  LoadTestResults out = aggregate(scenario, options.engine, base_seed, std::move(reps));
  out.simulator.threads = threads;
  out.simulator.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace switchboard::loadtest
