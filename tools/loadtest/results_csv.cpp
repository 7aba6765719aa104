// LoadTestResults -> CSV (results_writers.hpp): the JSON's figures, one row per value.

#include <cmath>
#include <cstdio>
#include <string>

#include "switchboard/loadtest/results_writers.hpp"

namespace switchboard::loadtest {
namespace {

std::string field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string num(double v) {
  if (!std::isfinite(v)) return "";
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.10g", v);
  return buffer;
}

class Csv {
 public:
  Csv() { out_ = "scope,name,figure,index,value,half_width,unit\n"; }

  void row(const std::string& scope, const std::string& name, const std::string& figure,
           const std::string& index, const std::string& value, const std::string& half_width,
           const std::string& unit) {
    out_ += field(scope) + "," + field(name) + "," + field(figure) + "," + field(index) + "," +
            field(value) + "," + half_width + "," + field(unit) + "\n";
  }
  void value(const std::string& scope, const std::string& name, const std::string& figure,
             double v, const std::string& unit) {
    row(scope, name, figure, "", num(v), "", unit);
  }
  void count(const std::string& scope, const std::string& name, const std::string& figure,
             std::uint64_t v) {
    row(scope, name, figure, "", std::to_string(v), "", "count");
  }
  void text(const std::string& scope, const std::string& figure, const std::string& v) {
    row(scope, "", figure, "", v, "", "text");
  }
  void estimate(const std::string& scope, const std::string& name, const std::string& figure,
                const Estimate& e, const std::string& unit) {
    row(scope, name, figure, "", num(e.mean), num(e.half_width), unit);
    for (std::size_t k = 0; k < e.per_replication.size(); ++k) {
      row(scope, name, figure + ".replication", std::to_string(k), num(e.per_replication[k]), "",
          unit);
    }
  }
  void percentiles(const std::string& scope, const std::string& name, const std::string& figure,
                   const Percentiles& p, const std::string& unit) {
    value(scope, name, figure + ".mean", p.mean, unit);
    value(scope, name, figure + ".p50", p.p50, unit);
    value(scope, name, figure + ".p90", p.p90, unit);
    value(scope, name, figure + ".p95", p.p95, unit);
    value(scope, name, figure + ".p99", p.p99, unit);
    value(scope, name, figure + ".p999", p.p999, unit);
    value(scope, name, figure + ".max", p.max, unit);
    count(scope, name, figure + ".count", p.count);
  }
  void histogram(const std::string& scope, const std::string& name, const std::string& figure,
                 const Histogram& h, const std::string& unit) {
    for (std::size_t k = 0; k < h.counts.size(); ++k) {
      row(scope, name, figure, std::to_string(k), std::to_string(h.counts[k]), "",
          "count in [" + num(h.edges[k]) + ", " + num(h.edges[k + 1]) + ") " + unit);
    }
    count(scope, name, figure + ".underflow", h.underflow);
    count(scope, name, figure + ".overflow", h.overflow);
  }
  [[nodiscard]] std::string str() && { return std::move(out_); }

 private:
  std::string out_;
};

void queue_rows(Csv& csv, const std::string& scope, const QueueFigures& q,
                const std::vector<double>& thresholds) {
  const std::string& n = q.name;
  csv.count(scope, n, "offered", q.offered);
  csv.count(scope, n, "answered", q.answered);
  csv.count(scope, n, "abandoned", q.abandoned);
  csv.count(scope, n, "unresolved", q.unresolved);
  csv.count(scope, n, "completed", q.completed);
  for (const ServiceLevel& s : q.service_levels) {
    const std::string f = "service_level@" + num(s.threshold_s) + "s";
    csv.estimate(scope, n, f, s.value, "fraction");
    csv.value(scope, n, f + ".pooled", s.pooled, "fraction");
    csv.count(scope, n, f + ".answered_within", s.answered_within);
    csv.count(scope, n, f + ".abandoned_within", s.abandoned_within);
    csv.count(scope, n, f + ".denominator", s.denominator);
  }
  csv.estimate(scope, n, "asa", q.asa_s, "s");
  csv.value(scope, n, "asa.pooled", q.asa_pooled_s, "s");
  csv.estimate(scope, n, "probability_of_wait", q.probability_of_wait, "fraction");
  csv.estimate(scope, n, "abandonment_rate", q.abandonment_rate, "fraction");
  csv.estimate(scope, n, "handle_time", q.handle_time_s, "s");
  csv.percentiles(scope, n, "wait", q.wait_s, "s");
  csv.histogram(scope, n, "wait_histogram", q.wait_histogram_s, "s");
  csv.percentiles(scope, n, "abandon_wait", q.abandon_wait_s, "s");
  csv.count(scope, n, "declines", q.declines);
  csv.count(scope, n, "offer_timeouts", q.offer_timeouts);
  csv.count(scope, n, "parked", q.parked);
  csv.value(scope, n, "max_depth", q.max_depth, "items");
  for (std::size_t k = 0; k < q.depth.values.size(); ++k) {
    csv.row(scope, n, "depth", std::to_string(k), num(q.depth.values[k]), "",
            "items at " + num(q.depth.start_s + static_cast<double>(k) * q.depth.step_s) + " s");
  }
  for (std::size_t k = 0; k < q.intervals.size(); ++k) {
    const IntervalFigures& i = q.intervals[k];
    const std::string at = std::to_string(k);
    const std::string span = "[" + num(i.start_s) + ", " + num(i.end_s) + ") s";
    csv.row(scope, n, "interval.offered", at, std::to_string(i.offered), "", "count in " + span);
    csv.row(scope, n, "interval.answered", at, std::to_string(i.answered), "", "count in " + span);
    csv.row(scope, n, "interval.abandoned", at, std::to_string(i.abandoned), "", "count in " + span);
    csv.row(scope, n, "interval.asa", at, num(i.asa_s), "", "s in " + span);
    for (std::size_t t = 0; t < i.service_level.size(); ++t) {
      csv.row(scope, n, "interval.service_level@" + num(t < thresholds.size() ? thresholds[t] : 0.0) + "s", at,
              num(i.service_level[t]), "", "fraction in " + span);
    }
  }
}

void spread_rows(Csv& csv, const std::string& scope, const std::string& name,
                 const AssignmentSpread& s) {
  csv.value(scope, name, "assignments.min", s.min, "items");
  csv.value(scope, name, "assignments.median", s.median, "items");
  csv.value(scope, name, "assignments.max", s.max, "items");
  csv.estimate(scope, name, "assignments.gini", s.gini, "coefficient");
  for (std::size_t k = 0; k < s.per_agent.size(); ++k) {
    csv.row(scope, name, "assignments.agent", std::to_string(k), std::to_string(s.per_agent[k]),
            "", "items to " + s.agent_ids[k] + " (replication 0)");
  }
}

}  // namespace

std::string results_to_csv(const LoadTestResults& r) {
  Csv csv;
  csv.text("run", "tool_version", r.tool_version);
  csv.text("run", "mode", r.mode);
  csv.text("run", "scenario_name", r.scenario_name);
  csv.text("run", "scenario_path", r.scenario_path);
  csv.text("run", "config_source", r.config_source);
  csv.text("run", "engine", r.engine);
  csv.value("run", "", "horizon", r.horizon_s, "s");
  csv.value("run", "", "warmup", r.warmup_s, "s");
  csv.value("run", "", "drain", r.drain_s, "s");
  csv.value("run", "", "interval", r.interval_s, "s");
  for (std::size_t k = 0; k < r.thresholds_s.size(); ++k) {
    csv.row("run", "", "threshold", std::to_string(k), num(r.thresholds_s[k]), "", "s");
  }
  csv.count("run", "", "replications", r.replications);
  csv.row("run", "", "base_seed", "", std::to_string(r.base_seed), "", "seed");
  for (std::size_t k = 0; k < r.seeds.size(); ++k) {
    csv.row("run", "", "seed", std::to_string(k), std::to_string(r.seeds[k]), "", "seed");
  }
  csv.value("run", "", "confidence_level", r.confidence_level, "fraction");
  for (const QueueFigures& q : r.queues) queue_rows(csv, "queue", q, r.thresholds_s);
  queue_rows(csv, "overall", r.overall, r.thresholds_s);
  for (const GroupFigures& g : r.groups) {
    csv.value("group", g.name, "agents", g.agents, "agents");
    csv.estimate("group", g.name, "occupancy", g.occupancy, "fraction");
    csv.estimate("group", g.name, "occupancy_with_offers", g.occupancy_with_offers, "fraction");
    csv.count("group", g.name, "assignments", g.assignments);
    spread_rows(csv, "group", g.name, g.spread);
  }
  spread_rows(csv, "agents", "all", r.all_agents);
  const EngineFigures& e = r.engine_figures;
  csv.count("engine", e.engine, "events", e.events);
  csv.count("engine", e.engine, "batches", e.batches);
  csv.count("engine", e.engine, "decisions", e.decisions);
  csv.count("engine", e.engine, "errors", e.errors);
  csv.row("engine", e.engine, "first_error", "", e.first_error, "", "text");
  csv.value("engine", e.engine, "engine_wall", e.engine_wall_s, "s");
  csv.estimate("engine", e.engine, "decisions_per_s", e.decisions_per_s, "1/s");
  csv.estimate("engine", e.engine, "events_per_s", e.events_per_s, "1/s");
  csv.percentiles("engine", e.engine, "latency", e.latency_ns, "ns");
  csv.histogram("engine", e.engine, "latency_histogram", e.latency_histogram_ns, "ns");
  const SimulatorFigures& s = r.simulator;
  csv.value("simulator", "", "wall", s.wall_s, "s");
  csv.value("simulator", "", "cpu_wall", s.cpu_wall_s, "s");
  csv.value("simulator", "", "threads", s.threads, "threads");
  csv.count("simulator", "", "items", s.items);
  csv.count("simulator", "", "events", s.events);
  csv.value("simulator", "", "items_per_s", s.items_per_s, "1/s");
  csv.value("simulator", "", "simulated", s.simulated_s, "s");
  for (const ReplicationSummary& p : r.per_replication) {
    const std::string at = std::to_string(p.index);
    csv.row("replication", at, "seed", at, std::to_string(p.seed), "", "seed");
    csv.row("replication", at, "offered", at, std::to_string(p.offered), "", "count");
    csv.row("replication", at, "answered", at, std::to_string(p.answered), "", "count");
    csv.row("replication", at, "abandoned", at, std::to_string(p.abandoned), "", "count");
    csv.row("replication", at, "wall", at, num(p.wall_s), "", "s");
  }
  return std::move(csv).str();
}

}  // namespace switchboard::loadtest
