// LoadTestResults -> JSON (results_writers.hpp).

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "switchboard/loadtest/results_writers.hpp"

namespace switchboard::loadtest {
namespace {

using nlohmann::ordered_json;

ordered_json number(double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); }

ordered_json numbers(const std::vector<double>& values) {
  ordered_json out = ordered_json::array();
  for (double v : values) out.push_back(number(v));
  return out;
}

ordered_json to_json(const Estimate& e) {
  return ordered_json{{"mean", number(e.mean)},
                      {"half_width", number(e.half_width)},
                      {"level", e.level},
                      {"samples", e.samples},
                      {"per_replication", numbers(e.per_replication)}};
}

ordered_json to_json(const Histogram& h) {
  return ordered_json{{"edges", numbers(h.edges)},
                      {"counts", h.counts},
                      {"underflow", h.underflow},
                      {"overflow", h.overflow},
                      {"total", h.total}};
}

ordered_json to_json(const Percentiles& p) {
  return ordered_json{{"count", p.count},     {"mean", number(p.mean)}, {"p50", number(p.p50)},
                      {"p90", number(p.p90)}, {"p95", number(p.p95)},   {"p99", number(p.p99)},
                      {"p999", number(p.p999)}, {"max", number(p.max)}};
}

ordered_json to_json(const QueueFigures& q) {
  ordered_json sl = ordered_json::array();
  for (const ServiceLevel& s : q.service_levels) {
    sl.push_back(ordered_json{{"threshold_s", s.threshold_s},
                              {"answered_within", s.answered_within},
                              {"abandoned_within", s.abandoned_within},
                              {"denominator", s.denominator},
                              {"pooled", number(s.pooled)},
                              {"value", to_json(s.value)}});
  }
  ordered_json intervals = ordered_json::array();
  for (const IntervalFigures& i : q.intervals) {
    intervals.push_back(ordered_json{{"start_s", i.start_s},
                                     {"end_s", i.end_s},
                                     {"offered", i.offered},
                                     {"answered", i.answered},
                                     {"abandoned", i.abandoned},
                                     {"asa_s", number(i.asa_s)},
                                     {"service_level", numbers(i.service_level)}});
  }
  return ordered_json{
      {"name", q.name},
      {"channel", q.channel},
      {"offered", q.offered},
      {"answered", q.answered},
      {"abandoned", q.abandoned},
      {"unresolved", q.unresolved},
      {"completed", q.completed},
      {"service_levels", sl},
      {"asa_s", to_json(q.asa_s)},
      {"asa_pooled_s", number(q.asa_pooled_s)},
      {"probability_of_wait", to_json(q.probability_of_wait)},
      {"abandonment_rate", to_json(q.abandonment_rate)},
      {"handle_time_s", to_json(q.handle_time_s)},
      {"wait_s", to_json(q.wait_s)},
      {"wait_histogram_s", to_json(q.wait_histogram_s)},
      {"abandon_wait_s", to_json(q.abandon_wait_s)},
      {"declines", q.declines},
      {"offer_timeouts", q.offer_timeouts},
      {"parked", q.parked},
      {"depth", ordered_json{{"start_s", q.depth.start_s},
                             {"step_s", q.depth.step_s},
                             {"values", numbers(q.depth.values)}}},
      {"max_depth", number(q.max_depth)},
      {"intervals", intervals}};
}

ordered_json to_json(const AssignmentSpread& s) {
  return ordered_json{{"min", number(s.min)},
                      {"median", number(s.median)},
                      {"max", number(s.max)},
                      {"gini", to_json(s.gini)},
                      {"per_agent", s.per_agent},
                      {"agent_ids", s.agent_ids}};
}

}  // namespace

std::string results_to_json(const LoadTestResults& r) {
  ordered_json queues = ordered_json::array();
  for (const QueueFigures& q : r.queues) queues.push_back(to_json(q));
  ordered_json groups = ordered_json::array();
  for (const GroupFigures& g : r.groups) {
    groups.push_back(ordered_json{{"name", g.name},
                                  {"agents", g.agents},
                                  {"occupancy", to_json(g.occupancy)},
                                  {"occupancy_with_offers", to_json(g.occupancy_with_offers)},
                                  {"assignments", g.assignments},
                                  {"spread", to_json(g.spread)}});
  }
  const EngineFigures& e = r.engine_figures;
  ordered_json reps = ordered_json::array();
  for (const ReplicationSummary& s : r.per_replication) {
    reps.push_back(ordered_json{{"index", s.index},
                                {"seed", s.seed},
                                {"offered", s.offered},
                                {"answered", s.answered},
                                {"abandoned", s.abandoned},
                                {"wall_s", s.wall_s}});
  }
  ordered_json doc{
      {"tool_version", r.tool_version},
      {"mode", r.mode},
      {"scenario_name", r.scenario_name},
      {"scenario_path", r.scenario_path},
      {"config_source", r.config_source},
      {"engine", r.engine},
      {"horizon_s", r.horizon_s},
      {"warmup_s", r.warmup_s},
      {"drain_s", r.drain_s},
      {"interval_s", r.interval_s},
      {"thresholds_s", numbers(r.thresholds_s)},
      {"replications", r.replications},
      {"base_seed", r.base_seed},
      {"seeds", r.seeds},
      {"confidence_level", r.confidence_level},
      {"queues", queues},
      {"overall", to_json(r.overall)},
      {"groups", groups},
      {"all_agents", to_json(r.all_agents)},
      {"engine_figures",
       ordered_json{{"engine", e.engine},
                    {"events", e.events},
                    {"batches", e.batches},
                    {"decisions", e.decisions},
                    {"errors", e.errors},
                    {"first_error", e.first_error},
                    {"engine_wall_s", e.engine_wall_s},
                    {"decisions_per_s", to_json(e.decisions_per_s)},
                    {"events_per_s", to_json(e.events_per_s)},
                    {"latency_ns", to_json(e.latency_ns)},
                    {"latency_histogram_ns", to_json(e.latency_histogram_ns)}}},
      {"simulator", ordered_json{{"wall_s", r.simulator.wall_s},
                                 {"cpu_wall_s", r.simulator.cpu_wall_s},
                                 {"threads", r.simulator.threads},
                                 {"items", r.simulator.items},
                                 {"events", r.simulator.events},
                                 {"items_per_s", number(r.simulator.items_per_s)},
                                 {"simulated_s", r.simulator.simulated_s}}},
      {"per_replication", reps}};
  return doc.dump(2) + "\n";
}

}  // namespace switchboard::loadtest
