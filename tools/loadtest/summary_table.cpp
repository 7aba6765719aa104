// The summary table printed at the end of a run (results_writers.hpp).

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "switchboard/loadtest/results_writers.hpp"

namespace switchboard::loadtest {
namespace {

std::string fmt(const char* format, double v) {
  if (!std::isfinite(v)) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

// 1234567 -> "1,234,567".
std::string thousands(std::uint64_t v) {
  std::string digits = std::to_string(v);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string percent(const Estimate& e) {
  std::string out = fmt("%.1f%%", 100.0 * e.mean);
  if (std::isfinite(e.half_width)) out += fmt(" ±%.1f", 100.0 * e.half_width);
  return out;
}
std::string seconds(const Estimate& e) {
  std::string out = fmt("%.1f", e.mean);
  if (std::isfinite(e.half_width)) out += fmt(" ±%.1f", e.half_width);
  return out;
}
std::string rate(const Estimate& e) {
  const double scale = e.mean >= 1e6 ? 1e6 : 1e3;
  const char* unit = e.mean >= 1e6 ? "M" : "k";
  std::string out = fmt("%.2f", e.mean / scale);
  if (std::isfinite(e.half_width)) out += fmt(" ±%.2f", e.half_width / scale);
  return out + unit;
}
std::string micros(double ns) { return fmt("%.1f", ns / 1000.0); }

// Columns padded to the widest cell; the first left-aligned, the rest right-aligned.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  const auto length = [](const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count UTF-8 code points ("±")
    return n;
  };
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], length(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line = "  ";
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::string pad(width[i] - length(row[i]), ' ');
      line += i == 0 ? row[i] + pad : pad + row[i];
      if (i + 1 < row.size()) line += "  ";
    }
    out += line + "\n";
  }
  return out;
}

std::vector<std::string> queue_row(const QueueFigures& q) {
  std::vector<std::string> row = {q.name, thousands(q.offered), thousands(q.answered),
                                  thousands(q.abandoned), percent(q.abandonment_rate)};
  for (const ServiceLevel& s : q.service_levels) row.push_back(percent(s.value));
  row.push_back(seconds(q.asa_s));
  row.push_back(percent(q.probability_of_wait));
  row.push_back(fmt("%.1f", q.wait_s.p90));
  row.push_back(fmt("%.1f", q.wait_s.p99));
  row.push_back(thousands(q.declines));
  row.push_back(thousands(q.offer_timeouts));
  row.push_back(thousands(q.parked));
  row.push_back(thousands(q.unresolved));
  return row;
}

}  // namespace

std::string summary_table(const LoadTestResults& r) {
  std::string out;
  const int level = static_cast<int>(std::lround(100.0 * r.confidence_level));
  out += "Scenario \"" + r.scenario_name + "\"";
  if (!r.scenario_path.empty()) out += " (" + r.scenario_path + ")";
  out += ", engine " + r.engine + ", " + std::to_string(r.replications) + " replication" +
         (r.replications == 1 ? "" : "s") + ", base seed " + std::to_string(r.base_seed) + "\n";
  const bool drive = r.mode == "drive";
  if (drive) {
    out += "Arrivals over " + fmt("%.0f", r.horizon_s) +
           " s of scenario time, in real time against the daemon: one run, no warm-up\n\n";
  } else {
    out += "Horizon " + fmt("%.0f", r.horizon_s) + " s, warm-up " + fmt("%.0f", r.warmup_s) +
           " s; ± is the " + std::to_string(level) + "% confidence half-width over replications; " +
           "counts are totals over replications\n\n";
  }

  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"queue", "offered", "answered", "abandoned", "aband."};
  for (double t : r.thresholds_s) header.push_back("SL@" + fmt("%g", t) + "s");
  for (const char* h : {"ASA s", "P(queue)", "p90 wait s", "p99 wait s", "declines", "timeouts",
                        "parked", "unresolved"}) {
    header.push_back(h);
  }
  rows.push_back(header);
  for (const QueueFigures& q : r.queues) rows.push_back(queue_row(q));
  if (r.queues.size() > 1) rows.push_back(queue_row(r.overall));
  out += table(rows);

  out += "\n";
  rows.clear();
  rows.push_back({"agent group", "agents", "occupancy", "assignments", "min", "median", "max",
                  "Gini"});
  for (const GroupFigures& g : r.groups) {
    rows.push_back({g.name, thousands(g.agents), percent(g.occupancy), thousands(g.assignments),
                    fmt("%.0f", g.spread.min), fmt("%.0f", g.spread.median),
                    fmt("%.0f", g.spread.max), fmt("%.3f", g.spread.gini.mean)});
  }
  if (r.groups.size() > 1) {
    std::uint64_t agents = 0;
    std::uint64_t assignments = 0;
    for (const GroupFigures& g : r.groups) {
      agents += g.agents;
      assignments += g.assignments;
    }
    rows.push_back({"all", thousands(agents), "", thousands(assignments),
                    fmt("%.0f", r.all_agents.min), fmt("%.0f", r.all_agents.median),
                    fmt("%.0f", r.all_agents.max), fmt("%.3f", r.all_agents.gini.mean)});
  }
  out += table(rows);

  const EngineFigures& e = r.engine_figures;
  if (drive) {
    // Rates over the run's wall time; the simulator's figures mean nothing here (the drive
    // block printed after this table has drive mode's own).
    out += "\nDaemon " + e.engine + ": " + fmt("%.1f", e.decisions_per_s.mean) +
           " decisions/s over the run's wall time (" + thousands(e.decisions) + " decisions, " +
           thousands(e.events) + " events sent";
  } else {
    out += "\nEngine " + e.engine + ": " + rate(e.decisions_per_s) + " decisions/s (" +
           thousands(e.decisions) + " decisions, " + thousands(e.events) + " events in " +
           thousands(e.batches) + " batches";
  }
  out += e.errors == 0 ? ", no errors)\n" : ", " + thousands(e.errors) + " ERRORS)\n";
  out += std::string(drive ? "Decision latency (µs, corrected: receipt - intended send): p50 "
                           : "Decision latency (µs, per batch): p50 ") +
         micros(e.latency_ns.p50) + "  p99 " +
         micros(e.latency_ns.p99) + "  p99.9 " + micros(e.latency_ns.p999) + "  max " +
         micros(e.latency_ns.max) + "\n";
  if (drive) return out;
  const SimulatorFigures& s = r.simulator;
  out += "Simulator: " + thousands(s.items) + " items in " + fmt("%.2f", s.wall_s) + " s wall (" +
         std::to_string(s.threads) + " thread" + (s.threads == 1 ? "" : "s") + "), " +
         thousands(static_cast<std::uint64_t>(s.items_per_s + 0.5)) + " items/s per thread\n";
  return out;
}

std::optional<Error> write_text_file(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::out | std::ios::binary | std::ios::trunc);
  if (!file) {
    return Error{ErrorCode::config_io, path + ": cannot open for writing (" +
                                           std::string(std::strerror(errno)) + ")"};
  }
  file.write(text.data(), static_cast<std::streamsize>(text.size()));
  file.close();
  if (!file) return Error{ErrorCode::config_io, path + ": error while writing"};
  return std::nullopt;
}

}  // namespace switchboard::loadtest
