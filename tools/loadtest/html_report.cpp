#include "switchboard/loadtest/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "drive.hpp"
#include "switchboard/loadtest/svg_chart.hpp"

namespace switchboard::loadtest {
namespace {

using svg::escape_xml;
using svg::format_number;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Per-queue lines on the depth chart beyond this many would be unreadable; the overall line stays.
constexpr std::size_t kMaxDepthLines = 6;

// --- Numbers for people ---------------------------------------------------------------------

enum class Unit {
  count,        // 12,345
  fraction,     // 0.823 -> 82.3%
  seconds,      // 12.3 s
  nanoseconds,  // 850 ns, 12.3 µs, 1.20 ms
  per_second,   // 1,234,567/s
  average,      // 12.3 (an average of counts)
  ratio,        // 0.123 (a Gini coefficient)
};

std::string format_seconds(double s) {
  const double a = std::abs(s);
  return format_number(s, a >= 100.0 ? 0 : a >= 10.0 ? 1 : 2) + " s";
}

std::string format_ns(double ns) {
  const double a = std::abs(ns);
  if (a < 1e3) return format_number(ns, 0) + " ns";
  if (a < 1e6) return format_number(ns / 1e3, a < 1e4 ? 2 : 1) + " µs";
  if (a < 1e9) return format_number(ns / 1e6, a < 1e7 ? 2 : 1) + " ms";
  return format_number(ns / 1e9, 2) + " s";
}

std::string format(double v, Unit unit) {
  if (!std::isfinite(v)) return "-";
  switch (unit) {
    case Unit::count: return format_number(v, 0);
    case Unit::fraction: return format_number(v * 100.0, 1) + "%";
    case Unit::seconds: return format_seconds(v);
    case Unit::nanoseconds: return format_ns(v);
    case Unit::per_second: return format_number(v, 0) + "/s";
    case Unit::average: return format_number(v, 1);
    case Unit::ratio: return format_number(v, 3);
  }
  return "-";
}

// B - A, signed; a difference of fractions is in percentage points.
std::string format_difference(double d, Unit unit) {
  if (!std::isfinite(d)) return "-";
  const std::string sign = d > 0 ? "+" : "";
  if (unit == Unit::fraction) return sign + format_number(d * 100.0, 1) + " pts";
  if (d == 0.0) return "0";
  return sign + format(d, unit);
}

// A table cell: a value, optionally with the half-width of its confidence interval.
struct Cell {
  double value = kNaN;
  double half_width = kNaN;
  Unit unit = Unit::count;
  bool blank = false;  // the figure does not apply to this column
};

Cell count_cell(std::uint64_t v) { return {static_cast<double>(v), kNaN, Unit::count, false}; }
Cell value_cell(double v, Unit unit) { return {v, kNaN, unit, false}; }
Cell estimate_cell(const Estimate& e, Unit unit) { return {e.mean, e.half_width, unit, false}; }
Cell blank_cell() { return {kNaN, kNaN, Unit::count, true}; }

std::string cell_html(const Cell& c) {
  if (c.blank) return "<td></td>";
  std::string out = "<td>" + escape_xml(format(c.value, c.unit));
  if (std::isfinite(c.value) && std::isfinite(c.half_width)) {
    // A half-width is a size, not a level: a fraction's is in percentage points.
    const std::string hw = c.unit == Unit::fraction
                               ? format_number(c.half_width * 100.0, 1) + " pts"
                               : format(c.half_width, c.unit);
    out += " <span class=\"ci\">± " + escape_xml(hw) + "</span>";
  }
  return out + "</td>";
}

// A row of a table: the figure's name (and a short note on what it is), one cell per column.
struct Row {
  std::string name;
  std::vector<Cell> cells;
};

void write_table(std::string& out, const std::string& caption, const std::vector<std::string>& columns,
                 const std::vector<Row>& rows, bool difference) {
  out += "<div class=\"table-wrap\"><table>\n";
  if (!caption.empty()) out += "<caption>" + escape_xml(caption) + "</caption>\n";
  out += "<thead><tr><th scope=\"col\">Figure</th>";
  for (const std::string& c : columns) out += "<th scope=\"col\">" + escape_xml(c) + "</th>";
  if (difference) out += "<th scope=\"col\">Difference (B − A)</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const Row& row : rows) {
    out += "<tr><th scope=\"row\">" + escape_xml(row.name) + "</th>";
    for (const Cell& c : row.cells) out += cell_html(c);
    if (difference && row.cells.size() == 2) {
      const Cell& a = row.cells[0];
      const Cell& b = row.cells[1];
      out += "<td class=\"diff\">" +
             escape_xml(a.blank || b.blank ? "" : format_difference(b.value - a.value, a.unit)) +
             "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody></table></div>\n";
}

std::string text_cell(const std::string& text) { return "<td class=\"text\">" + escape_xml(text) + "</td>"; }

std::string threshold_name(double t) { return format_number(t, t == std::floor(t) ? 0 : 1) + " s"; }

// --- The figures of one queue, one group, the engine ----------------------------------------

std::vector<Row> queue_rows(const std::vector<const QueueFigures*>& columns,
                            const std::vector<double>& thresholds) {
  auto row = [&](std::string name, auto cell_of) {
    Row r{std::move(name), {}};
    for (const QueueFigures* q : columns) r.cells.push_back(cell_of(*q));
    return r;
  };
  std::vector<Row> rows;
  rows.push_back(row("Offered (customers who arrived)", [](const QueueFigures& q) { return count_cell(q.offered); }));
  rows.push_back(row("Answered", [](const QueueFigures& q) { return count_cell(q.answered); }));
  rows.push_back(row("Abandoned (gave up waiting)", [](const QueueFigures& q) { return count_cell(q.abandoned); }));
  rows.push_back(row("Still waiting when the run ended", [](const QueueFigures& q) { return count_cell(q.unresolved); }));
  for (std::size_t t = 0; t < thresholds.size(); ++t) {
    rows.push_back(row("Service level: answered within " + threshold_name(thresholds[t]),
                       [t](const QueueFigures& q) {
                         return t < q.service_levels.size()
                                    ? estimate_cell(q.service_levels[t].value, Unit::fraction)
                                    : value_cell(kNaN, Unit::fraction);
                       }));
  }
  rows.push_back(row("Average speed of answer (mean wait of the answered)",
                     [](const QueueFigures& q) { return estimate_cell(q.asa_s, Unit::seconds); }));
  rows.push_back(row("Queued on arrival (not offered at once)", [](const QueueFigures& q) {
    return estimate_cell(q.probability_of_wait, Unit::fraction);
  }));
  rows.push_back(row("Abandonment rate", [](const QueueFigures& q) {
    return estimate_cell(q.abandonment_rate, Unit::fraction);
  }));
  rows.push_back(row("Wait, median (half waited less)", [](const QueueFigures& q) { return value_cell(q.wait_s.p50, Unit::seconds); }));
  rows.push_back(row("Wait, 90th percentile", [](const QueueFigures& q) { return value_cell(q.wait_s.p90, Unit::seconds); }));
  rows.push_back(row("Wait, 99th percentile", [](const QueueFigures& q) { return value_cell(q.wait_s.p99, Unit::seconds); }));
  rows.push_back(row("Wait, longest", [](const QueueFigures& q) { return value_cell(q.wait_s.max, Unit::seconds); }));
  rows.push_back(row("Wait before giving up, median", [](const QueueFigures& q) { return value_cell(q.abandon_wait_s.p50, Unit::seconds); }));
  rows.push_back(row("Average handling time", [](const QueueFigures& q) { return estimate_cell(q.handle_time_s, Unit::seconds); }));
  rows.push_back(row("Offers declined by agents", [](const QueueFigures& q) { return count_cell(q.declines); }));
  rows.push_back(row("Offers not answered in time", [](const QueueFigures& q) { return count_cell(q.offer_timeouts); }));
  rows.push_back(row("Items parked after declines", [](const QueueFigures& q) { return count_cell(q.parked); }));
  rows.push_back(row("Most people waiting at once", [](const QueueFigures& q) { return value_cell(q.max_depth, Unit::count); }));
  return rows;
}

// Group columns; a null group is the "all agents" column, which has only the spread figures.
std::vector<Row> agent_rows(const std::vector<const GroupFigures*>& groups,
                            const std::vector<const AssignmentSpread*>& spreads,
                            const std::vector<std::uint32_t>& agent_counts) {
  std::vector<Row> rows;
  auto group_row = [&](std::string name, auto cell_of) {
    Row r{std::move(name), {}};
    for (const GroupFigures* g : groups) r.cells.push_back(g != nullptr ? cell_of(*g) : blank_cell());
    rows.push_back(std::move(r));
  };
  auto spread_row = [&](std::string name, auto cell_of) {
    Row r{std::move(name), {}};
    for (const AssignmentSpread* s : spreads) r.cells.push_back(cell_of(*s));
    rows.push_back(std::move(r));
  };
  Row agents{"Agents", {}};
  for (std::uint32_t n : agent_counts) agents.cells.push_back(count_cell(n));
  rows.push_back(std::move(agents));
  group_row("Occupancy (busy share of staffed time)",
            [](const GroupFigures& g) { return estimate_cell(g.occupancy, Unit::fraction); });
  group_row("Occupancy counting ringing offers as busy",
            [](const GroupFigures& g) { return estimate_cell(g.occupancy_with_offers, Unit::fraction); });
  group_row("Items assigned", [](const GroupFigures& g) { return count_cell(g.assignments); });
  spread_row("Items per agent, fewest", [](const AssignmentSpread& s) { return value_cell(s.min, Unit::average); });
  spread_row("Items per agent, median", [](const AssignmentSpread& s) { return value_cell(s.median, Unit::average); });
  spread_row("Items per agent, most", [](const AssignmentSpread& s) { return value_cell(s.max, Unit::average); });
  spread_row("Unevenness (Gini: 0 even, 1 one agent does all)",
             [](const AssignmentSpread& s) { return estimate_cell(s.gini, Unit::ratio); });
  return rows;
}

std::vector<Row> engine_rows(const std::vector<const LoadTestResults*>& runs) {
  std::vector<Row> rows;
  auto row = [&](std::string name, auto cell_of) {
    Row r{std::move(name), {}};
    for (const LoadTestResults* run : runs) r.cells.push_back(cell_of(run->engine_figures));
    rows.push_back(std::move(r));
  };
  // Drive mode: records sent to the daemon and rates over the run's wall time (arrivals and
  // drain), the latency corrected for coordinated omission.
  const bool drive = runs.front()->mode == "drive";
  const std::string per_wall = drive ? " (over the run's wall time)" : "";
  const std::string latency = drive ? "Decision latency, corrected, " : "Decision latency, ";
  row(drive ? "Events sent (arrivals and the agents' answers)" : "Events applied",
      [](const EngineFigures& e) { return count_cell(e.events); });
  row("Decisions made", [](const EngineFigures& e) { return count_cell(e.decisions); });
  row(drive ? "Refused records (errors)" : "Refused events (errors)",
      [](const EngineFigures& e) { return count_cell(e.errors); });
  row("Decisions per second" + per_wall,
      [](const EngineFigures& e) { return estimate_cell(e.decisions_per_s, Unit::per_second); });
  row("Events per second" + per_wall,
      [](const EngineFigures& e) { return estimate_cell(e.events_per_s, Unit::per_second); });
  row(latency + "median", [](const EngineFigures& e) { return value_cell(e.latency_ns.p50, Unit::nanoseconds); });
  row(latency + "99th percentile", [](const EngineFigures& e) { return value_cell(e.latency_ns.p99, Unit::nanoseconds); });
  row(latency + "99.9th percentile", [](const EngineFigures& e) { return value_cell(e.latency_ns.p999, Unit::nanoseconds); });
  row(latency + "longest", [](const EngineFigures& e) { return value_cell(e.latency_ns.max, Unit::nanoseconds); });
  return rows;
}

std::vector<Row> simulator_rows(const std::vector<const LoadTestResults*>& runs) {
  std::vector<Row> rows;
  auto row = [&](std::string name, auto cell_of) {
    Row r{std::move(name), {}};
    for (const LoadTestResults* run : runs) r.cells.push_back(cell_of(run->simulator));
    rows.push_back(std::move(r));
  };
  row("Wall time of the whole run", [](const SimulatorFigures& s) { return value_cell(s.wall_s, Unit::seconds); });
  row("Threads", [](const SimulatorFigures& s) { return count_cell(s.threads); });
  row("Items simulated (warm-up included)", [](const SimulatorFigures& s) { return count_cell(s.items); });
  row("Simulated items per second of one thread", [](const SimulatorFigures& s) { return value_cell(s.items_per_s, Unit::per_second); });
  return rows;
}

// --- Drive mode ------------------------------------------------------------------------------

std::string text_row(const std::string& name, const std::string& text) {
  return "<tr><th scope=\"row\">" + escape_xml(name) + "</th><td class=\"text\">" + escape_xml(text) +
         "</td></tr>\n";
}

std::string step_judgement(const DriveStep& step) {
  if (!step.evaluated) return "not judged (the run ended first)";
  return step.sustained ? "sustained" : "fell behind";
}

// Drive mode's own figures (drive.hpp, DriveFigures; docs/load-testing.md, "Drive mode").
void write_drive_section(std::string& out, const DriveFigures& f) {
  out += "<h2 id=\"drive\">Drive mode against switchboardd</h2>\n";
  out += "<div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\">Figure</th>"
         "<th scope=\"col\">Value</th></tr></thead>\n<tbody>\n";
  const std::string source = f.rate_source == "ramp"   ? "a ramp (--ramp)"
                             : f.rate_source == "rate" ? "a fixed rate (--rate)"
                                                       : "the scenario's rates, compressed";
  out += text_row("Daemon segment", f.segment);
  out += text_row("Arrival rate from", source);
  out += text_row("Arrival spacing", f.spacing);
  out += text_row("Time compression (scenario seconds per wall second)", format_number(f.compress, 2));
  out += text_row("Target arrival rate", format(f.target_rate_per_s, Unit::per_second));
  out += text_row("Achieved arrival rate (arrivals sent / their span)", format(f.arrivals_per_s, Unit::per_second));
  out += text_row("Arrivals planned", format(static_cast<double>(f.arrivals_planned), Unit::count));
  out += text_row("Arrivals sent", format(static_cast<double>(f.arrivals_sent), Unit::count));
  out += text_row("Arrivals without any decision", format(static_cast<double>(f.arrivals_without_decision), Unit::count));
  out += text_row("Arrivals lasted (wall time)", format_seconds(f.duration_s));
  out += text_row("Run wall time (arrivals and drain)", format_seconds(f.run_wall_s));
  out += text_row("Events sent (of them by the agents' host)",
                  format(static_cast<double>(f.events_sent), Unit::count) + " (" +
                      format(static_cast<double>(f.host_events_sent), Unit::count) + ")");
  out += text_row("Decisions received", format(static_cast<double>(f.decisions), Unit::count));
  out += text_row("Decisions per second of wall time", format(f.decisions_per_s, Unit::per_second));
  out += text_row("Refused records (errors)", format(static_cast<double>(f.errors), Unit::count));
  out += text_row("Refused clean-up records", format(static_cast<double>(f.cleanup_errors), Unit::count));
  out += text_row("Sends retried because a ring was full", format(static_cast<double>(f.ring_full_retries), Unit::count));
  out += text_row("Daemon stalls waited out (longest)",
                  format(static_cast<double>(f.daemon_stalls), Unit::count) +
                      (f.daemon_stalls > 0 ? " (" + format_seconds(f.longest_daemon_stall_s) + ")" : ""));
  out += "</tbody></table></div>\n";
  for (const std::string& e : f.error_samples) {
    out += "<p class=\"warning\">The daemon refused a record: " + escape_xml(e) + "</p>\n";
  }

  std::vector<Row> rows;
  const std::vector<const Percentiles*> columns{&f.latency_ns, &f.latency_uncorrected_ns, &f.send_lag_ns};
  auto row = [&](std::string name, auto cell_of) {
    Row r{std::move(name), {}};
    for (const Percentiles* p : columns) r.cells.push_back(cell_of(*p));
    rows.push_back(std::move(r));
  };
  row("Median", [](const Percentiles& p) { return value_cell(p.p50, Unit::nanoseconds); });
  row("90th percentile", [](const Percentiles& p) { return value_cell(p.p90, Unit::nanoseconds); });
  row("99th percentile", [](const Percentiles& p) { return value_cell(p.p99, Unit::nanoseconds); });
  row("99.9th percentile", [](const Percentiles& p) { return value_cell(p.p999, Unit::nanoseconds); });
  row("Longest", [](const Percentiles& p) { return value_cell(p.max, Unit::nanoseconds); });
  row("Mean", [](const Percentiles& p) { return value_cell(p.mean, Unit::nanoseconds); });
  row("Samples", [](const Percentiles& p) { return count_cell(p.count); });
  write_table(out, "Latency and send lag",
              {"Decision latency, corrected (receipt − intended send)",
               "Decision latency, uncorrected (receipt − actual send)",
               "Send lag (actual − intended send, every record)"},
              rows, false);

  out += "<div class=\"table-wrap\"><table>\n<caption>" +
         escape_xml(f.rate_source == "ramp" ? "Ramp steps" : "The run as one step") +
         "</caption>\n<thead><tr><th scope=\"col\">Step</th><th scope=\"col\">Wall seconds</th>"
         "<th scope=\"col\">Target rate</th><th scope=\"col\">Arrivals</th>"
         "<th scope=\"col\">Decisions</th><th scope=\"col\">Corrected p99</th>"
         "<th scope=\"col\">Backlog at its end</th><th scope=\"col\">Judgement</th></tr></thead>\n<tbody>\n";
  for (std::size_t k = 0; k < f.steps.size(); ++k) {
    const DriveStep& step = f.steps[k];
    out += "<tr><th scope=\"row\">" + std::to_string(k + 1) + "</th>" +
           text_cell(format_number(step.start_s, 2) + " – " + format_number(step.end_s, 2)) +
           cell_html(value_cell(step.rate_per_s, Unit::per_second)) + cell_html(count_cell(step.arrivals)) +
           cell_html(count_cell(step.decisions)) + cell_html(value_cell(step.latency_ns.p99, Unit::nanoseconds)) +
           cell_html(count_cell(step.backlog_at_end)) + text_cell(step_judgement(step)) + "</tr>\n";
  }
  out += "</tbody></table></div>\n";
  if (f.rate_source == "ramp") {
    out += "<p>Highest rate sustained: <strong>" + escape_xml(format(f.sustained_rate_per_s, Unit::per_second)) +
           "</strong>" +
           (f.fell_behind ? " (the next step fell behind)."
                          : " (no step fell behind: the limit is higher than the ramp went).") +
           "</p>\n";
  }
}

// --- Charts ---------------------------------------------------------------------------------

void write_figure(std::string& out, const std::string& svg_text, const std::string& caption) {
  out += "<figure>\n" + svg_text + "<figcaption>" + escape_xml(caption) + "</figcaption>\n</figure>\n";
}

svg::Axis time_axis(const LoadTestResults& r) {
  svg::Axis x;
  x.label = "time since the start of the scenario (h:mm)";
  x.format = svg::AxisFormat::clock;
  x.min = 0.0;
  if (r.horizon_s > 0.0) x.max = r.horizon_s;
  return x;
}

svg::LineSeries depth_series(const std::string& name, const TimeSeries& ts) {
  svg::LineSeries s;
  s.name = name;
  for (std::size_t k = 0; k < ts.values.size(); ++k) {
    s.x.push_back(ts.start_s + static_cast<double>(k) * ts.step_s);
    s.y.push_back(ts.values[k]);
  }
  return s;
}

struct Run {
  std::string label;  // "" in a single report
  const LoadTestResults* results;
  const DriveFigures* drive = nullptr;  // drive mode's own figures, when given
};

bool is_drive(const Run& run) { return run.results->mode == "drive"; }

std::string series_name(const Run& run, const std::string& what) {
  if (run.label.empty()) return what;
  return what.empty() ? run.label : run.label + ": " + what;
}

std::string depth_chart(const std::vector<Run>& runs) {
  svg::LineChart chart;
  chart.title = "Queue depth over time";
  chart.x = time_axis(*runs.front().results);
  chart.y.label = "people waiting";
  chart.steps = true;
  for (const Run& run : runs) {
    const LoadTestResults& r = *run.results;
    chart.series.push_back(depth_series(series_name(run, "all queues"), r.overall.depth));
    if (runs.size() == 1 && r.queues.size() > 1 && r.queues.size() <= kMaxDepthLines) {
      for (const QueueFigures& q : r.queues) chart.series.push_back(depth_series(q.name, q.depth));
    }
  }
  return svg::render(chart);
}

std::string depth_caption(const std::vector<Run>& runs) {
  const LoadTestResults& r = *runs.front().results;
  std::string text =
      r.mode == "drive"
          ? "Customers waiting in the daemon's queues (not yet offered to an agent), read from its "
            "statistics block every " + format_seconds(r.overall.depth.step_s) +
                " of scenario time (the block is refreshed about every 100 ms of wall time)"
          : "Customers waiting in queue (not yet offered to an agent), sampled every " +
                format_seconds(r.overall.depth.step_s) + " of simulated time and averaged over the " +
                std::to_string(r.replications) + " replications";
  if (r.warmup_s > 0) text += "; the first " + format_seconds(r.warmup_s) + " are the warm-up, not measured";
  if (runs.size() == 1 && r.queues.size() > kMaxDepthLines) text += "; per-queue depths are in the CSV";
  return text + ".";
}

std::string waits_chart(const std::vector<Run>& runs) {
  svg::Histogram chart;
  chart.title = "How long customers waited";
  chart.x.label = "wait from arrival to an agent (seconds)";
  chart.y.label = "share of answered customers";
  chart.y.format = svg::AxisFormat::percent;
  for (const Run& run : runs) {
    const Histogram& h = run.results->overall.wait_histogram_s;
    if (chart.edges.empty()) chart.edges = h.edges;
    svg::BarSeries s{series_name(run, ""), {}, {}, {}};
    for (std::uint64_t c : h.counts) {
      s.values.push_back(h.total > 0 ? static_cast<double>(c) / static_cast<double>(h.total) : kNaN);
    }
    // Runs with other bins cannot share the axis; the first run's bins are drawn.
    if (h.edges == chart.edges) chart.series.push_back(std::move(s));
  }
  return svg::render(chart);
}

std::string waits_caption(const std::vector<Run>& runs) {
  std::string text =
      "Share of answered customers (all queues) by how long they waited, from arrival to being "
      "assigned to an agent, pooled over all replications";
  for (const Run& run : runs) {
    const QueueFigures& q = run.results->overall;
    const Histogram& h = q.wait_histogram_s;
    text += "; " + (run.label.empty() ? std::string() : run.label + ": ") + "median " +
            format(q.wait_s.p50, Unit::seconds) + ", 90th percentile " +
            format(q.wait_s.p90, Unit::seconds);
    if (h.overflow > 0 && !h.edges.empty() && h.total > 0) {
      text += ", " + format(static_cast<double>(h.overflow) / static_cast<double>(h.total), Unit::fraction) +
              " waited longer than " + format_seconds(h.edges.back()) + " (not drawn)";
    }
  }
  return text + ".";
}

// Seconds since the start as h:mm.
std::string clock_label(double seconds) {
  svg::Axis clock;
  clock.format = svg::AxisFormat::clock;
  return svg::format_tick(seconds, 60.0, clock);
}

std::string service_level_chart(const std::vector<Run>& runs) {
  const LoadTestResults& first = *runs.front().results;
  svg::BarChart chart;
  chart.title = "Service level per interval";
  chart.category_label = "interval starting at (h:mm since the start)";
  chart.y.label = "service level";
  chart.y.format = svg::AxisFormat::percent;
  chart.y.min = 0.0;
  chart.y.max = 1.0;
  for (const IntervalFigures& iv : first.overall.intervals) chart.categories.push_back(clock_label(iv.start_s));
  // One run: a series per threshold. Two runs: a series per run at the first threshold.
  const std::size_t thresholds = runs.size() == 1 ? first.thresholds_s.size() : std::min<std::size_t>(1, first.thresholds_s.size());
  for (const Run& run : runs) {
    for (std::size_t t = 0; t < thresholds; ++t) {
      svg::BarSeries s;
      s.name = series_name(run, runs.size() == 1 ? "within " + threshold_name(first.thresholds_s[t]) : "");
      for (const IntervalFigures& iv : run.results->overall.intervals) {
        s.values.push_back(t < iv.service_level.size() ? iv.service_level[t] : kNaN);
      }
      chart.series.push_back(std::move(s));
    }
  }
  return svg::render(chart);
}

std::string service_level_caption(const std::vector<Run>& runs) {
  const LoadTestResults& r = *runs.front().results;
  std::string text =
      "Service level of the customers who arrived in each interval (all queues, pooled over "
      "replications): answered within the threshold / (answered + abandoned after the threshold); "
      "customers who gave up within the threshold are left out";
  if (runs.size() > 1 && !r.thresholds_s.empty()) text += "; threshold " + threshold_name(r.thresholds_s.front());
  return text + "; an interval with nobody to count has no bar.";
}

std::string occupancy_chart(const std::vector<Run>& runs) {
  svg::BarChart chart;
  chart.title = "Occupancy per agent group";
  chart.category_label = "agent group";
  chart.y.label = "occupancy";
  chart.y.format = svg::AxisFormat::percent;
  chart.y.min = 0.0;
  for (const GroupFigures& g : runs.front().results->groups) chart.categories.push_back(g.name);
  for (const Run& run : runs) {
    svg::BarSeries s;
    s.name = series_name(run, "");
    for (const std::string& name : chart.categories) {
      const auto& groups = run.results->groups;
      const auto it = std::find_if(groups.begin(), groups.end(),
                                   [&](const GroupFigures& g) { return g.name == name; });
      const Estimate e = it != groups.end() ? it->occupancy : Estimate{kNaN, kNaN, 0.95, 0, {}};
      s.values.push_back(e.mean);
      s.low.push_back(e.mean - e.half_width);
      s.high.push_back(e.mean + e.half_width);
    }
    chart.series.push_back(std::move(s));
  }
  return svg::render(chart);
}

std::string occupancy_caption(const std::vector<Run>& runs) {
  const LoadTestResults& r = *runs.front().results;
  std::string text =
      "Busy time over logged-on time of each group's agents. Busy: holding at least one assigned "
      "item (from assignment to completion) or in the wrap-up after one; an agent with several "
      "slots is busy with any work at all, not counted per unit of capacity in use. Logged on: in "
      "the presence that takes work, or busy";
  if (r.mode == "drive") return text + "; one run, no confidence interval.";
  return text + "; mean over the " + std::to_string(r.replications) + " replications, whiskers the " +
         format_number(r.confidence_level * 100.0, 0) + "% confidence interval.";
}

std::string spread_chart(const std::vector<Run>& runs) {
  svg::Histogram chart;
  chart.title = "Decisions spread across agents";
  chart.x.label = "items assigned to one agent (replication 1)";
  chart.y.label = "agents";
  std::uint64_t lo = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t hi = 0;
  for (const Run& run : runs) {
    for (std::uint64_t v : run.results->all_agents.per_agent) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (lo > hi) return svg::render(chart);  // no agents: the chart says "no data"
  // Whole-number bins at a nice width, about 20 of them, covering [lo, hi].
  const svg::Ticks bins = svg::nice_ticks(static_cast<double>(lo), static_cast<double>(hi) + 1.0, 20);
  const double width = std::max(1.0, std::round(bins.step));
  const double start = std::floor(static_cast<double>(lo) / width) * width;
  for (double e = start; e <= static_cast<double>(hi) + width; e += width) chart.edges.push_back(e);
  for (const Run& run : runs) {
    svg::BarSeries s{series_name(run, ""), std::vector<double>(chart.edges.size() - 1, 0.0), {}, {}};
    for (std::uint64_t v : run.results->all_agents.per_agent) {
      const auto bin = static_cast<std::size_t>((static_cast<double>(v) - start) / width);
      if (bin < s.values.size()) s.values[bin] += 1.0;
    }
    chart.series.push_back(std::move(s));
  }
  return svg::render(chart);
}

std::string spread_caption(const std::vector<Run>& runs) {
  std::string text =
      "How many agents (all groups) were assigned how many items in the first replication; one "
      "narrow peak means the work was spread evenly";
  for (const Run& run : runs) {
    const AssignmentSpread& s = run.results->all_agents;
    text += "; " + (run.label.empty() ? std::string() : run.label + ": ") + "Gini coefficient " +
            format(s.gini.mean, Unit::ratio) + " (0 = every agent the same, 1 = one agent all)";
  }
  return text + ".";
}

// Counts per bucket as shares of the total, moved onto `edges` (each bucket goes to the bin that
// holds its geometric middle): two runs' latency buckets follow their own ranges, and a shared
// axis needs shared bins.
std::vector<double> rebin_shares(const Histogram& h, const std::vector<double>& edges) {
  std::vector<double> shares(edges.size() > 1 ? edges.size() - 1 : 0, 0.0);
  if (h.total == 0) return std::vector<double>(shares.size(), kNaN);
  for (std::size_t i = 0; i < h.counts.size() && i + 1 < h.edges.size(); ++i) {
    const double lo = std::max(h.edges[i], 1e-9);
    const double mid = std::sqrt(lo * h.edges[i + 1]);
    const auto it = std::upper_bound(edges.begin(), edges.end(), mid);
    if (it == edges.begin() || it == edges.end()) continue;
    shares[static_cast<std::size_t>(it - edges.begin()) - 1] +=
        static_cast<double>(h.counts[i]) / static_cast<double>(h.total);
  }
  return shares;
}

// One histogram of a latency chart: its legend name and its buckets (nanoseconds).
struct LatencySeries {
  std::string name;
  const Histogram* ns;
};

// The series of the latency chart: the engine's figures of each run; a drive run's uncorrected
// latency beside its corrected one.
std::vector<LatencySeries> latency_series(const std::vector<Run>& runs) {
  std::vector<LatencySeries> out;
  for (const Run& run : runs) {
    const EngineFigures& e = run.results->engine_figures;
    if (is_drive(run) && run.drive != nullptr) {
      out.push_back({series_name(run, "corrected (receipt − intended send)"), &e.latency_histogram_ns});
      out.push_back({series_name(run, "uncorrected (receipt − actual send)"),
                     &run.drive->latency_uncorrected_histogram_ns});
    } else {
      out.push_back({series_name(run, e.engine), &e.latency_histogram_ns});
    }
  }
  return out;
}

std::string latency_chart(const std::vector<Run>& runs) {
  svg::Histogram chart;
  chart.title = "Decision latency";
  chart.x.label = "decision latency (microseconds, log scale)";
  chart.x.scale = svg::AxisScale::log10;
  chart.y.label = "share of decisions";
  chart.y.format = svg::AxisFormat::percent;
  auto in_us = [](const Histogram& h) {
    Histogram us = h;
    for (double& e : us.edges) e /= 1000.0;
    return us;
  };
  const std::vector<LatencySeries> series = latency_series(runs);
  bool same_edges = true;
  for (const LatencySeries& l : series) same_edges = same_edges && l.ns->edges == series.front().ns->edges;
  if (same_edges) {
    chart.edges = in_us(*series.front().ns).edges;
  } else {
    // Shared bins: 1, 2 and 5 times the powers of ten, covering every series' buckets.
    double lo = std::numeric_limits<double>::infinity();
    double hi = 0.0;
    for (const LatencySeries& l : series) {
      const Histogram us = in_us(*l.ns);
      if (us.edges.size() < 2) continue;
      lo = std::min(lo, std::max(us.edges.front(), 1e-3));
      hi = std::max(hi, us.edges.back());
    }
    if (hi > lo) {
      const int e0 = static_cast<int>(std::floor(std::log10(lo)));
      const int e1 = static_cast<int>(std::ceil(std::log10(hi)));
      for (int e = e0; e <= e1; ++e) {
        for (double m : {1.0, 2.0, 5.0}) {
          if (e == e1 && m > 1.0) break;
          chart.edges.push_back(e >= 0 ? m * std::pow(10.0, e) : m / std::pow(10.0, -e));
        }
      }
    }
  }
  for (const LatencySeries& l : series) {
    chart.series.push_back({l.name, rebin_shares(in_us(*l.ns), chart.edges), {}, {}});
  }
  return svg::render(chart);
}

std::string latency_figures(const Percentiles& p) {
  return "median " + format(p.p50, Unit::nanoseconds) + ", 99th " + format(p.p99, Unit::nanoseconds) +
         ", 99.9th " + format(p.p999, Unit::nanoseconds) + ", longest " + format(p.max, Unit::nanoseconds);
}

std::string latency_caption(const std::vector<Run>& runs) {
  if (runs.size() == 1 && is_drive(runs.front())) {
    const Run& run = runs.front();
    std::string text =
        "Time from the moment the record that caused a decision was due to be sent (its intended "
        "send time, fixed before the run) to the moment the host received the decision, on the "
        "steady clock of this machine, against switchboardd through shared memory. Corrected for "
        "coordinated omission: a record that left late (the sender fell behind, a ring was full, "
        "the daemon stalled) counts its lateness; corrected " +
        latency_figures(run.results->engine_figures.latency_ns);
    if (run.drive != nullptr) {
      text += "; uncorrected (receipt − actual send) " + latency_figures(run.drive->latency_uncorrected_ns);
    }
    return text + ".";
  }
  std::string text =
      "Wall time from handing the engine the events of one simulated instant to its decisions "
      "(every decision of a batch gets the batch's time), on this machine";
  for (const Run& run : runs) {
    const EngineFigures& e = run.results->engine_figures;
    text += "; " + (run.label.empty() ? std::string() : run.label + ": ") + e.engine + " " +
            latency_figures(e.latency_ns);
  }
  return text + ".";
}

// --- The page -------------------------------------------------------------------------------

constexpr std::string_view kStyle = R"(
body { font-family: sans-serif; color: #222; margin: 2em auto; max-width: 1100px; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; }
p.lead { color: #555; margin-top: 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; }
thead th { background: #f3f3f3; text-align: center; }
tbody th { text-align: left; font-weight: normal; background: #fafafa; }
td { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.diff { color: #444; background: #fcfcf4; }
.ci { color: #777; font-size: 0.9em; }
figure { margin: 1.5em 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.92em; max-width: 720px; margin-top: 0.3em; }
dt { font-weight: bold; margin-top: 0.6em; }
dd { margin-left: 1.5em; }
.warning { background: #fff4e5; border: 1px solid #e6a23c; padding: 0.5em 0.8em; }
)";

std::string seconds_list(const std::vector<double>& values) {
  std::string out;
  for (double v : values) out += (out.empty() ? "" : ", ") + threshold_name(v);
  return out.empty() ? "-" : out;
}

void write_run_table(std::string& out, const std::vector<Run>& runs) {
  out += "<div class=\"table-wrap\"><table>\n<thead><tr><th scope=\"col\">Setting</th>";
  for (const Run& run : runs) {
    out += "<th scope=\"col\">" + escape_xml(run.label.empty() ? "Value" : run.label) + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  auto row = [&](const std::string& name, auto text_of) {
    out += "<tr><th scope=\"row\">" + escape_xml(name) + "</th>";
    for (const Run& run : runs) out += text_cell(text_of(*run.results));
    out += "</tr>\n";
  };
  using R = const LoadTestResults&;
  row("Scenario", [](R r) { return r.scenario_name; });
  row("Scenario file", [](R r) { return r.scenario_path.empty() ? std::string("-") : r.scenario_path; });
  row("Routing configuration", [](R r) { return r.config_source; });
  row("Mode and engine", [](R r) { return r.mode + ", " + r.engine; });
  row("Arrivals during", [](R r) { return format_seconds(r.horizon_s) + " (" + format_number(r.horizon_s / 3600.0, 2) + " h)"; });
  row("Warm-up, not measured", [](R r) { return format_seconds(r.warmup_s); });
  row("Drain after the last arrival, at most", [](R r) { return format_seconds(r.drain_s); });
  row("Interval length", [](R r) { return format_seconds(r.interval_s); });
  row("Service-level thresholds", [](R r) { return seconds_list(r.thresholds_s); });
  if (runs.size() == 1 && is_drive(runs.front())) {
    row("Seed", [](R r) { return std::to_string(r.base_seed); });
  } else {
    row("Replications (independent seeds)", [](R r) { return std::to_string(r.replications); });
    row("Base seed", [](R r) { return std::to_string(r.base_seed); });
    row("Confidence intervals", [](R r) { return format_number(r.confidence_level * 100.0, 0) + "% (Student t over replications)"; });
  }
  row("Switchboard version", [](R r) { return r.tool_version; });
  out += "</tbody></table></div>\n";
}

void write_replications(std::string& out, const Run& run) {
  out += "<details><summary>Replications" +
         escape_xml(run.label.empty() ? std::string() : " of " + run.label) +
         ": seeds and counts</summary>\n<div class=\"table-wrap\"><table>\n"
         "<thead><tr><th scope=\"col\">Replication</th><th scope=\"col\">Seed</th>"
         "<th scope=\"col\">Offered</th><th scope=\"col\">Answered</th>"
         "<th scope=\"col\">Abandoned</th><th scope=\"col\">Wall time</th></tr></thead>\n<tbody>\n";
  for (const ReplicationSummary& rep : run.results->per_replication) {
    out += "<tr><th scope=\"row\">" + std::to_string(rep.index + 1) + "</th><td>" +
           std::to_string(rep.seed) + "</td>" + cell_html(count_cell(rep.offered)) +
           cell_html(count_cell(rep.answered)) + cell_html(count_cell(rep.abandoned)) +
           cell_html(value_cell(rep.wall_s, Unit::seconds)) + "</tr>\n";
  }
  out += "</tbody></table></div></details>\n";
}

void write_definitions(std::string& out, bool drive) {
  out += R"(<h2 id="definitions">How the figures are defined</h2>
<dl>
<dt>Offered, answered, abandoned</dt>
<dd>Customers who arrived after the warm-up and before the end of the arrivals; answered means assigned to an agent who accepted the offer; abandoned means the customer gave up (patience ran out) while waiting, being offered or parked.</dd>
<dt>Service level within T</dt>
<dd>Answered within T seconds, divided by (answered + abandoned after T seconds). Customers who gave up within T are counted neither for nor against it. Without abandonment this is the share answered within T, the Erlang C figure.</dd>
<dt>Average speed of answer (ASA)</dt>
<dd>The mean wait of answered customers, from arrival to assignment to an agent.</dd>
<dt>Queued on arrival</dt>
<dd>Share of answered and abandoned customers who were not offered to an agent the moment they arrived (in the same millisecond): they queued (Erlang C's chance of waiting). An offer the agent then takes seconds to accept counts as not queued; that ringing time is in the wait and the speed of answer, so a queue can show 0% here beside a speed of answer of seconds.</dd>
<dt>Abandonment rate</dt>
<dd>Abandoned / (answered + abandoned).</dd>
<dt>Wait percentiles</dt>
<dd>The 90th percentile is the wait that 90% of answered customers did not exceed (nearest rank), pooled over all replications.</dd>
<dt>Occupancy</dt>
<dd>Busy time divided by logged-on time, summed over the group's agents. Busy: holding at least one assigned item (from assignment to completion, wrap-up included) or in the channel's wrap-up after one. Logged on: in the presence that takes work, or busy. With one item at a time per agent this is the classical occupancy; for agents with several slots it is the share of time with any work at all, not the share of units in use.</dd>
<dt>Gini coefficient</dt>
<dd>How unevenly items were spread over agents: 0 when every agent was assigned the same number, towards 1 when one agent got everything.</dd>
<dt>Decision latency</dt>
)";
  if (drive) {
    out += R"(<dd>Drive mode: the steady-clock time at which the host received a decision minus the <em>intended</em> send time of the record that caused it (fixed before the run by the arrival rate; for the agents' answers, when the scenario says they answer). A record that left late, because the sender fell behind, a ring was full or the daemon stalled, counts its lateness: this is the correction for coordinated omission, without which a slow daemon would hide its slowness by slowing the sender.</dd>
<dt>Uncorrected latency</dt>
<dd>Receipt of the decision minus the time its record was actually committed to the ring. Shown beside the corrected figure; the gap between them is the sender's lateness.</dd>
<dt>Send lag</dt>
<dd>Actual minus intended send time of every record of the run, the arrivals and the agents' answers.</dd>
<dt>Ramp step, sustained</dt>
<dd>With a ramp the arrival rate rises step by step. A step is sustained when the 99th percentile of the corrected latency of the decisions its records caused stays within the bound (--max-p99-ms) and the daemon has applied every arrival of the step shortly after it ends; the ramp stops at the first step that falls behind. The highest rate sustained is the rate of the last step sustained before that.</dd>
)";
  } else {
    out += R"(<dd>Wall time of the routing engine on this machine, from being handed the events of one instant of simulated time to returning its decisions; every decision of that batch counts that time.</dd>
)";
  }
  out += R"(<dt>± figures</dt>
<dd>Half-width of the confidence interval of the mean over replications (Student t); a fraction's is in percentage points. The true expected value lies in mean ± half-width with the stated confidence.</dd>
</dl>
)";
}

void write_page(const std::vector<Run>& runs, std::ostream& stream) {
  const LoadTestResults& first = *runs.front().results;
  const bool compare = runs.size() > 1;
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
  const std::string title = (compare ? "Load test comparison: " : "Load test: ") + first.scenario_name;
  out += "<title>" + escape_xml(title) + "</title>\n<style>" + std::string(kStyle) + "</style>\n";
  out += "</head>\n<body>\n<h1>" + escape_xml(title) + "</h1>\n";
  if (compare) {
    out += "<p class=\"lead\">The same scenario under two routing configurations: " +
           escape_xml(runs[0].label) + " and " + escape_xml(runs[1].label) +
           ". Differences are B − A.</p>\n";
    if (runs[0].results->scenario_name != runs[1].results->scenario_name ||
        runs[0].results->horizon_s != runs[1].results->horizon_s) {
      out += "<p class=\"warning\">The two runs are not of the same scenario; their figures are "
             "not comparable.</p>\n";
    }
  } else {
    if (is_drive(runs.front())) {
      out += "<p class=\"lead\">Measured in real time against a running " + escape_xml(first.engine) +
             " through shared memory: one run, its customer times in scenario seconds (wall time "
             "times the time compression), its latencies in wall time.</p>\n";
    } else {
      out += "<p class=\"lead\">" + escape_xml(first.mode == "simulate" ? "Simulated" : "Measured") +
             " with the " + escape_xml(first.engine) + " engine, " +
             std::to_string(first.replications) + " replication" +
             (first.replications == 1 ? "" : "s") + ". Figures with ± are means over replications with their " +
             format_number(first.confidence_level * 100.0, 0) + "% confidence interval.</p>\n";
    }
  }

  out += "<h2 id=\"run\">The run</h2>\n";
  write_run_table(out, runs);

  out += "<h2 id=\"customers\">Customers</h2>\n";
  if (!compare) {
    std::vector<const QueueFigures*> columns{&first.overall};
    std::vector<std::string> names{"All queues"};
    for (const QueueFigures& q : first.queues) {
      columns.push_back(&q);
      names.push_back(q.name + (q.channel.empty() ? "" : " (" + q.channel + ")"));
    }
    write_table(out, "", names, queue_rows(columns, first.thresholds_s), false);
  } else {
    std::vector<std::string> names{runs[0].label, runs[1].label};
    write_table(out, "All queues", names,
                queue_rows({&runs[0].results->overall, &runs[1].results->overall}, first.thresholds_s),
                true);
    for (const QueueFigures& qa : runs[0].results->queues) {
      const auto& qb_list = runs[1].results->queues;
      const auto qb = std::find_if(qb_list.begin(), qb_list.end(),
                                   [&](const QueueFigures& q) { return q.name == qa.name; });
      if (qb == qb_list.end()) continue;
      out += "<details><summary>Queue " + escape_xml(qa.name) + "</summary>\n";
      write_table(out, "Queue " + qa.name, names, queue_rows({&qa, &*qb}, first.thresholds_s), true);
      out += "</details>\n";
    }
  }
  write_figure(out, depth_chart(runs), depth_caption(runs));
  write_figure(out, waits_chart(runs), waits_caption(runs));
  write_figure(out, service_level_chart(runs), service_level_caption(runs));

  out += "<h2 id=\"agents\">Agents</h2>\n";
  if (!compare) {
    std::vector<const GroupFigures*> groups;
    std::vector<const AssignmentSpread*> spreads;
    std::vector<std::uint32_t> counts;
    std::vector<std::string> names;
    std::uint32_t all = 0;
    for (const GroupFigures& g : first.groups) {
      groups.push_back(&g);
      spreads.push_back(&g.spread);
      counts.push_back(g.agents);
      names.push_back(g.name);
      all += g.agents;
    }
    groups.push_back(nullptr);
    spreads.push_back(&first.all_agents);
    counts.push_back(all);
    names.emplace_back("All agents");
    write_table(out, "", names, agent_rows(groups, spreads, counts), false);
  } else {
    std::vector<std::string> names{runs[0].label, runs[1].label};
    auto all_agents = [](const LoadTestResults& r) {
      std::uint32_t n = 0;
      for (const GroupFigures& g : r.groups) n += g.agents;
      return n;
    };
    write_table(out, "All agents", names,
                agent_rows({nullptr, nullptr}, {&runs[0].results->all_agents, &runs[1].results->all_agents},
                           {all_agents(*runs[0].results), all_agents(*runs[1].results)}),
                true);
    for (const GroupFigures& ga : runs[0].results->groups) {
      const auto& gb_list = runs[1].results->groups;
      const auto gb = std::find_if(gb_list.begin(), gb_list.end(),
                                   [&](const GroupFigures& g) { return g.name == ga.name; });
      if (gb == gb_list.end()) continue;
      write_table(out, "Group " + ga.name, names,
                  agent_rows({&ga, &*gb}, {&ga.spread, &gb->spread}, {ga.agents, gb->agents}), true);
    }
  }
  write_figure(out, occupancy_chart(runs), occupancy_caption(runs));
  write_figure(out, spread_chart(runs), spread_caption(runs));

  std::vector<const LoadTestResults*> results;
  std::vector<std::string> names;
  for (const Run& run : runs) {
    results.push_back(run.results);
    names.push_back(run.label.empty() ? "Value" : run.label);
  }
  const bool drive = !compare && is_drive(runs.front());
  out += drive ? "<h2 id=\"engine\">The daemon (" + escape_xml(first.engine) + ")</h2>\n"
               : std::string("<h2 id=\"engine\">The routing engine</h2>\n");
  write_table(out, "", names, engine_rows(results), compare);
  write_figure(out, latency_chart(runs), latency_caption(runs));
  if (drive) {
    // The simulator's figures and the replications mean nothing in drive mode (one run, no
    // simulator); drive mode's own figures take their place.
    if (runs.front().drive != nullptr) write_drive_section(out, *runs.front().drive);
  } else {
    out += "<h2 id=\"simulator\">The simulator</h2>\n";
    write_table(out, "", names, simulator_rows(results), compare);
    for (const Run& run : runs) write_replications(out, run);
  }

  write_definitions(out, drive);
  out += "</body>\n</html>\n";
  stream << out;
}

}  // namespace

void write_html_report(const LoadTestResults& results, std::ostream& out) {
  write_page({Run{"", &results}}, out);
}

void write_html_report(const LoadTestResults& results, const DriveFigures* drive, std::ostream& out) {
  write_page({Run{"", &results, drive}}, out);
}

void write_html_comparison(const LabelledResults& a, const LabelledResults& b, std::ostream& out) {
  write_page({Run{a.label.empty() ? "A" : a.label, a.results},
              Run{b.label.empty() ? "B" : b.label, b.results}},
             out);
}

}  // namespace switchboard::loadtest
