#pragma once
// A LoadTestResults filled by hand with plausible figures of a two-queue, two-group center, for
// tests of the writers (the HTML report): every field a writer shows has a value, some are NaN
// (no data), and the names carry markup characters that must be escaped.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "switchboard/loadtest/results.hpp"

namespace switchboard::test {

inline loadtest::Estimate sample_estimate(double mean, double half_width) {
  loadtest::Estimate e;
  e.mean = mean;
  e.half_width = half_width;
  e.samples = 5;
  e.per_replication = {mean, mean, mean, mean, mean};
  return e;
}

// `shift` moves the customer figures so that two samples differ (a comparison's B side).
inline loadtest::QueueFigures sample_queue(const std::string& name, const std::string& channel,
                                           std::uint64_t offered, double shift) {
  loadtest::QueueFigures q;
  q.name = name;
  q.channel = channel;
  q.offered = offered;
  q.answered = offered * 9 / 10;
  q.abandoned = offered - q.answered - 3;
  q.unresolved = 3;
  q.completed = q.answered - 2;
  for (double t : {20.0, 60.0}) {
    loadtest::ServiceLevel sl;
    sl.threshold_s = t;
    sl.value = sample_estimate(t == 20.0 ? 0.823 + shift : 0.951 + shift / 2, 0.015);
    sl.pooled = sl.value.mean;
    q.service_levels.push_back(sl);
  }
  q.asa_s = sample_estimate(12.4 - 20.0 * shift, 0.8);
  q.asa_pooled_s = q.asa_s.mean;
  q.probability_of_wait = sample_estimate(0.41, 0.02);
  q.abandonment_rate = sample_estimate(0.062, 0.004);
  q.handle_time_s = sample_estimate(240.0, 3.0);
  q.wait_s = {4.0, 35.5, 52.0, 118.0, 190.0, 241.0, 12.4, q.answered};
  q.abandon_wait_s = {45.0, 80.0, 95.0, 130.0, 140.0, 150.0, 50.0, q.abandoned};
  q.wait_histogram_s.edges = {0, 10, 20, 30, 40, 50, 60, 90, 120};
  q.wait_histogram_s.counts = {400, 150, 100, 80, 60, 40, 50, 20};
  q.wait_histogram_s.overflow = 12;
  q.wait_histogram_s.total = 912;
  q.declines = 17;
  q.offer_timeouts = 4;
  q.parked = 1;
  q.depth.start_s = 0.0;
  q.depth.step_s = 60.0;
  for (int k = 0; k < 120; ++k) q.depth.values.push_back(5.0 + 4.0 * std::sin(k / 10.0) + shift * 10);
  q.max_depth = 17;
  for (int k = 0; k < 8; ++k) {
    loadtest::IntervalFigures iv;
    iv.start_s = 900.0 * k;
    iv.end_s = iv.start_s + 900.0;
    iv.offered = k == 0 ? 0 : 100 + 10 * static_cast<std::uint64_t>(k);
    iv.answered = iv.offered * 9 / 10;
    iv.abandoned = iv.offered - iv.answered;
    iv.asa_s = 10.0 + k;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    iv.service_level = {k == 0 ? nan : 0.7 + 0.03 * k + shift, k == 0 ? nan : 0.9 + shift / 2};
    q.intervals.push_back(iv);
  }
  return q;
}

inline loadtest::GroupFigures sample_group(const std::string& name, std::uint32_t agents,
                                           double occupancy) {
  loadtest::GroupFigures g;
  g.name = name;
  g.agents = agents;
  g.occupancy = sample_estimate(occupancy, 0.012);
  g.occupancy_with_offers = sample_estimate(occupancy + 0.02, 0.012);
  g.assignments = agents * 40ULL;
  g.spread.min = 31;
  g.spread.median = 40;
  g.spread.max = 47;
  g.spread.gini = sample_estimate(0.051, 0.004);
  for (std::uint32_t a = 0; a < agents; ++a) {
    g.spread.per_agent.push_back(31 + (a * 7) % 17);
    g.spread.agent_ids.push_back(name + "-" + std::to_string(a));
  }
  return g;
}

inline loadtest::LoadTestResults sample_results(double shift = 0.0) {
  loadtest::LoadTestResults r;
  r.tool_version = "0.1.0";
  r.scenario_name = "two queues & <markup>";
  r.scenario_path = "docs/examples/two-queues.scenario.toml";
  r.config_source = "inline";
  r.engine = "kernel";
  r.horizon_s = 7200.0;
  r.warmup_s = 900.0;
  r.drain_s = 3600.0;
  r.interval_s = 900.0;
  r.thresholds_s = {20.0, 60.0};
  r.replications = 5;
  r.base_seed = 42;
  r.seeds = {1, 2, 3, 4, 5};
  r.queues.push_back(sample_queue("Sales & <VIP>", "voice", 1000, shift));
  r.queues.push_back(sample_queue("support", "chat", 700, shift));
  r.overall = sample_queue("all", "", 1700, shift);
  r.overall.asa_s.half_width = std::numeric_limits<double>::quiet_NaN();  // shown without ±
  r.groups.push_back(sample_group("tier 1", 20, 0.84 + shift));
  r.groups.push_back(sample_group("tier 2", 8, 0.71));
  for (const auto& g : r.groups) {
    r.all_agents.per_agent.insert(r.all_agents.per_agent.end(), g.spread.per_agent.begin(),
                                  g.spread.per_agent.end());
  }
  r.all_agents.min = 31;
  r.all_agents.median = 40;
  r.all_agents.max = 47;
  r.all_agents.gini = sample_estimate(0.055, 0.003);
  auto& e = r.engine_figures;
  e.engine = "kernel";
  e.events = 25000;
  e.batches = 20000;
  e.decisions = 9000;
  e.decisions_per_s = sample_estimate(2.5e6, 1e5);
  e.events_per_s = sample_estimate(6.1e6, 2e5);
  e.latency_ns = {850.0, 1400.0, 1900.0, 4200.0, 9800.0, 23000.0, 1000.0, 9000};
  // Log-spaced buckets, as the simulator's latency histogram has them.
  e.latency_histogram_ns.edges = {256, 512, 1024, 2048, 4096, 8192, 16384, 32768};
  e.latency_histogram_ns.counts = {500, 3500, 3900, 900, 150, 40, 10};
  e.latency_histogram_ns.total = 9000;
  r.simulator.wall_s = 0.9;
  r.simulator.cpu_wall_s = 1.7;
  r.simulator.threads = 2;
  r.simulator.items = 9500;
  r.simulator.items_per_s = 9500 / 1.7;
  for (std::uint32_t k = 0; k < 5; ++k) {
    r.per_replication.push_back({k, k + 1, 340, 306, 32, 0.34});
  }
  return r;
}

}  // namespace switchboard::test
