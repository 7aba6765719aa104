// switchboard-loadtest drive (drive_command.hpp): options, the run, the summary and the files.

#include "drive_command.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "drive.hpp"
#include "scenario.hpp"
#include "switchboard/loadtest/html_report.hpp"
#include "switchboard/loadtest/progress.hpp"
#include "switchboard/loadtest/results_writers.hpp"

namespace switchboard::loadtest {
namespace {

constexpr int kExitOutput = 1;   // a result file could not be written
constexpr int kExitUsage = 2;    // bad arguments, an unreadable or invalid scenario
constexpr int kExitRefused = 3;  // the daemon refused records: the figures are suspect
constexpr int kExitDaemon = 4;   // no daemon at the segment, or it went away, or lacks names

struct DriveSettings {
  std::string scenario_path;
  std::string segment = "/switchboard";
  std::optional<double> rate;
  std::string ramp;
  double duration_s = 0.0;
  double compress = 1.0;
  std::string spacing = "poisson";
  std::optional<std::uint64_t> seed;
  double drain_s = 10.0;
  double max_p99_ms = 10.0;
  int attach_timeout_ms = 5000;
  int daemon_stall_timeout_ms = 5000;
  std::string out_dir;
  std::string json_path;
  std::string csv_path;
  std::string html_path;
  std::string progress = "auto";
  std::string write_config;
};


nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json to_json(const Percentiles& p) {
  return {{"p50", number(p.p50)},   {"p90", number(p.p90)}, {"p95", number(p.p95)},
          {"p99", number(p.p99)},   {"p999", number(p.p999)}, {"max", number(p.max)},
          {"mean", number(p.mean)}, {"count", p.count}};
}

nlohmann::json to_json(const Histogram& h) {
  return {{"edges", h.edges}, {"counts", h.counts}, {"underflow", h.underflow},
          {"overflow", h.overflow}, {"total", h.total}};
}

// Drive mode's own figures (drive.hpp, DriveFigures), the "drive" member of the JSON.
nlohmann::json to_json(const DriveFigures& f) {
  nlohmann::json steps = nlohmann::json::array();
  for (const DriveStep& s : f.steps) {
    steps.push_back({{"rate_per_s", number(s.rate_per_s)},
                     {"start_s", number(s.start_s)},
                     {"end_s", number(s.end_s)},
                     {"arrivals", s.arrivals},
                     {"decisions", s.decisions},
                     {"latency_ns", to_json(s.latency_ns)},
                     {"backlog_at_end", s.backlog_at_end},
                     {"evaluated", s.evaluated},
                     {"sustained", s.sustained}});
  }
  return {{"segment", f.segment},
          {"compress", number(f.compress)},
          {"spacing", f.spacing},
          {"rate_source", f.rate_source},
          {"target_rate_per_s", number(f.target_rate_per_s)},
          {"duration_s", number(f.duration_s)},
          {"run_wall_s", number(f.run_wall_s)},
          {"arrivals_planned", f.arrivals_planned},
          {"arrivals_sent", f.arrivals_sent},
          {"arrivals_per_s", number(f.arrivals_per_s)},
          {"events_sent", f.events_sent},
          {"host_events_sent", f.host_events_sent},
          {"decisions", f.decisions},
          {"decisions_per_s", number(f.decisions_per_s)},
          {"errors", f.errors},
          {"error_samples", f.error_samples},
          {"cleanup_errors", f.cleanup_errors},
          {"arrivals_without_decision", f.arrivals_without_decision},
          {"ring_full_retries", f.ring_full_retries},
          {"latency_ns", to_json(f.latency_ns)},
          {"latency_uncorrected_ns", to_json(f.latency_uncorrected_ns)},
          {"latency_uncorrected_histogram_ns", to_json(f.latency_uncorrected_histogram_ns)},
          {"send_lag_ns", to_json(f.send_lag_ns)},
          {"steps", steps},
          {"sustained_rate_per_s", number(f.sustained_rate_per_s)},
          {"fell_behind", f.fell_behind},
          {"daemon_stalls", f.daemon_stalls},
          {"longest_daemon_stall_s", number(f.longest_daemon_stall_s)}};
}

std::string num(double v) {
  if (!std::isfinite(v)) return "";
  std::ostringstream out;
  out.precision(12);
  out << v;
  return out.str();
}

// The CSV rows of drive mode's own figures, in results_to_csv's columns
// (scope,name,figure,index,value,half_width,unit).
std::string to_csv(const DriveFigures& f) {
  std::string out;
  const auto row = [&](const std::string& name, const std::string& figure, const std::string& index,
                       const std::string& value, const std::string& unit) {
    out += "drive," + name + "," + figure + "," + index + "," + value + ",," + unit + "\n";
  };
  const auto percentiles = [&](const std::string& name, const std::string& figure, const Percentiles& p) {
    row(name, figure + ".p50", "", num(p.p50), "ns");
    row(name, figure + ".p99", "", num(p.p99), "ns");
    row(name, figure + ".p999", "", num(p.p999), "ns");
    row(name, figure + ".max", "", num(p.max), "ns");
    row(name, figure + ".count", "", std::to_string(p.count), "count");
  };
  row("", "target_rate_per_s", "", num(f.target_rate_per_s), "1/s");
  row("", "arrivals_per_s", "", num(f.arrivals_per_s), "1/s");
  row("", "arrivals_sent", "", std::to_string(f.arrivals_sent), "count");
  row("", "events_sent", "", std::to_string(f.events_sent), "count");
  row("", "decisions", "", std::to_string(f.decisions), "count");
  row("", "decisions_per_s", "", num(f.decisions_per_s), "1/s");
  row("", "errors", "", std::to_string(f.errors), "count");
  row("", "arrivals_without_decision", "", std::to_string(f.arrivals_without_decision), "count");
  row("", "ring_full_retries", "", std::to_string(f.ring_full_retries), "count");
  percentiles("", "latency_ns", f.latency_ns);
  percentiles("", "latency_uncorrected_ns", f.latency_uncorrected_ns);
  percentiles("", "send_lag_ns", f.send_lag_ns);
  for (std::size_t k = 0; k < f.steps.size(); ++k) {
    const DriveStep& s = f.steps[k];
    const std::string i = std::to_string(k);
    row("step", "rate_per_s", i, num(s.rate_per_s), "1/s");
    row("step", "latency_ns.p99", i, num(s.latency_ns.p99), "ns");
    row("step", "backlog_at_end", i, std::to_string(s.backlog_at_end), "count");
    row("step", "sustained", i, s.evaluated ? (s.sustained ? "1" : "0") : "", "bool");
  }
  row("", "sustained_rate_per_s", "", num(f.sustained_rate_per_s), "1/s");
  row("", "daemon_stalls", "", std::to_string(f.daemon_stalls), "count");
  row("", "longest_daemon_stall_s", "", num(f.longest_daemon_stall_s), "s");
  return out;
}

std::string micros(double ns) {
  if (!std::isfinite(ns)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f us", ns / 1000.0);
  return buf;
}

std::string latency_line(const Percentiles& p) {
  return "p50 " + micros(p.p50) + ", p99 " + micros(p.p99) + ", p99.9 " + micros(p.p999) +
         ", max " + micros(p.max) + " (" + std::to_string(p.count) + " decisions)";
}

// What the summary table does not say about drive mode.
std::string drive_summary(const DriveFigures& f) {
  char buf[512];
  std::string out = "\nDrive mode against " + f.segment + "\n";
  std::snprintf(buf, sizeof buf,
                "  arrivals: %" PRIu64 " sent of %" PRIu64 " planned over %.2f s (%.1f/s, target %.1f/s, %s, %s spacing), time compressed %gx\n",
                f.arrivals_sent, f.arrivals_planned, f.duration_s, f.arrivals_per_s,
                f.target_rate_per_s, f.rate_source.c_str(), f.spacing.c_str(), f.compress);
  out += buf;
  std::snprintf(buf, sizeof buf,
                "  events sent: %" PRIu64 " (%" PRIu64 " by the agents' host); decisions: %" PRIu64 " (%.1f/s over %.2f s); errors: %" PRIu64 "; arrivals without a decision: %" PRIu64 "\n",
                f.events_sent, f.host_events_sent, f.decisions, f.decisions_per_s, f.run_wall_s,
                f.errors, f.arrivals_without_decision);
  out += buf;
  out += "  decision latency, corrected for coordinated omission (receipt - intended send): " +
         latency_line(f.latency_ns) + "\n";
  out += "  decision latency, uncorrected (receipt - actual send): " +
         latency_line(f.latency_uncorrected_ns) + "\n";
  out += "  send lag (actual - intended send): p50 " + micros(f.send_lag_ns.p50) + ", p99 " +
         micros(f.send_lag_ns.p99) + ", max " + micros(f.send_lag_ns.max) + "; ring-full retries " +
         std::to_string(f.ring_full_retries) + "\n";
  if (f.rate_source == "ramp") {
    for (const DriveStep& s : f.steps) {
      std::snprintf(buf, sizeof buf, "  step %6.2f-%6.2f s at %10.1f/s: p99 %s, backlog %" PRIu64 ", %s\n",
                    s.start_s, s.end_s, s.rate_per_s, micros(s.latency_ns.p99).c_str(), s.backlog_at_end,
                    !s.evaluated ? "not judged" : (s.sustained ? "sustained" : "fell behind"));
      out += buf;
    }
    std::snprintf(buf, sizeof buf, "  highest rate sustained: %.1f/s%s\n", f.sustained_rate_per_s,
                  f.fell_behind ? "" : " (no step fell behind: the limit is higher)");
    out += buf;
  }
  if (f.daemon_stalls > 0) {
    std::snprintf(buf, sizeof buf,
                  "  daemon stalls waited out: %" PRIu64 " (longest %.3f s; its heartbeat stood still, then moved again)\n",
                  f.daemon_stalls, f.longest_daemon_stall_s);
    out += buf;
  }
  for (const std::string& e : f.error_samples) out += "  error: " + e + "\n";
  return out;
}

// The routing configuration of a scenario as a file switchboardd --config can load: the
// referenced file's text, or the inline configuration's.
std::optional<Error> write_routing_config(const Scenario& scenario, const std::string& scenario_path,
                                          const std::string& out) {
  std::string text;
  if (scenario.config_source != "inline") {
    std::ifstream in(scenario.config_source, std::ios::binary);
    std::ostringstream all;
    all << in.rdbuf();
    if (!in.good() && !in.eof()) {
      return Error{ErrorCode::config_io, scenario.config_source + ": cannot read"};
    }
    text = all.str();
  } else {
    // The scenario loaded, so it parses; its routing.inline is a string.
#if TOML_EXCEPTIONS
    try {
      const toml::table root = toml::parse_file(scenario_path);
      text = root["routing"]["inline"].value_or(std::string());
    } catch (const toml::parse_error& e) {
      return Error{ErrorCode::config_syntax, scenario_path + ": " + std::string(e.description())};
    }
#else
    toml::parse_result parsed = toml::parse_file(scenario_path);
    if (!parsed) {
      return Error{ErrorCode::config_syntax, scenario_path + ": " + std::string(parsed.error().description())};
    }
    text = parsed.table()["routing"]["inline"].value_or(std::string());
#endif
  }
  return write_text_file(out, text);
}

int run_drive(const DriveSettings& o) {
  Result<Scenario> scenario = load_scenario_file(o.scenario_path);
  if (!scenario) {
    std::fprintf(stderr, "switchboard-loadtest: %s\n", scenario.error().message.c_str());
    return kExitUsage;
  }
  if (!o.write_config.empty()) {
    if (auto e = write_routing_config(*scenario, o.scenario_path, o.write_config)) {
      std::fprintf(stderr, "switchboard-loadtest: %s\n", e->message.c_str());
      return kExitOutput;
    }
    std::printf("routing configuration: %s\n", o.write_config.c_str());
    return 0;
  }
  DriveOptions options;
  options.segment = o.segment;
  options.rate_per_s = o.rate;
  if (!o.ramp.empty()) {
    Result<RampOptions> ramp = parse_ramp(o.ramp);
    if (!ramp) {
      std::fprintf(stderr, "switchboard-loadtest: %s\n", ramp.error().message.c_str());
      return kExitUsage;
    }
    options.ramp = *ramp;
  }
  options.duration_s = o.duration_s;
  options.compress = o.compress;
  options.spacing = o.spacing == "constant" ? ArrivalSpacing::constant : ArrivalSpacing::poisson;
  options.seed = o.seed;
  options.drain_s = o.drain_s;
  options.max_p99_ms = o.max_p99_ms;
  options.attach_timeout_ms = o.attach_timeout_ms;
  options.daemon_stall_timeout_ms = o.daemon_stall_timeout_ms;

  std::string json_path = o.json_path;
  std::string csv_path = o.csv_path;
  std::string html_path = o.html_path;
  if (!o.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    if (ec) {
      std::fprintf(stderr, "switchboard-loadtest: %s: cannot create directory (%s)\n",
                   o.out_dir.c_str(), ec.message().c_str());
      return kExitOutput;
    }
    const auto in_dir = [&](const char* name) { return (std::filesystem::path(o.out_dir) / name).string(); };
    if (json_path.empty()) json_path = in_dir("results.json");
    if (csv_path.empty()) csv_path = in_dir("results.csv");
    if (html_path.empty()) html_path = in_dir("report.html");
  }

  ProgressStyle style = ProgressStyle::automatic;
  if (o.progress == "bar") style = ProgressStyle::bar;
  if (o.progress == "lines") style = ProgressStyle::lines;
  if (o.progress == "off") style = ProgressStyle::off;
  // Progress counts milliseconds of the planned arrivals' wall time; the callback runs on this
  // thread.
  const double planned_s = o.duration_s > 0.0 ? o.duration_s : (o.rate ? 10.0 : 0.0);
  // The drain after the arrivals shows as the bar standing at its end.
  std::unique_ptr<Progress> bar;
  std::uint64_t total_ms = 0;
  options.on_progress = [&](const DriveProgress& p) {
    if (!bar) {
      const double total_s = planned_s > 0.0 ? planned_s : std::max(1e-3, p.duration_s);
      total_ms = static_cast<std::uint64_t>(total_s * 1000.0);
      bar = std::make_unique<Progress>("drive " + scenario->name, total_ms, stderr, style);
    }
    const auto done_ms = static_cast<std::uint64_t>(std::max(0.0, p.elapsed_s) * 1000.0);
    bar->report(p.draining ? total_ms : std::min(total_ms, done_ms));
  };
  DriveFigures figures;
  Result<LoadTestResults> results = drive(*scenario, options, &figures);
  if (bar) bar->finish();
  if (!results) {
    std::fprintf(stderr, "switchboard-loadtest: %s\n", results.error().message.c_str());
    return results.error().code == ErrorCode::config_invalid_value ? kExitUsage : kExitDaemon;
  }
  std::fputs(("\n" + summary_table(*results)).c_str(), stdout);
  std::fputs(drive_summary(figures).c_str(), stdout);

  int status = 0;
  const auto write = [&](const std::string& path, const char* what, const std::optional<Error>& error) {
    if (error) {
      std::fprintf(stderr, "switchboard-loadtest: %s\n", error->message.c_str());
      status = kExitOutput;
    } else {
      std::printf("%s: %s\n", what, path.c_str());
    }
  };
  if (!json_path.empty()) {
    nlohmann::json doc = nlohmann::json::parse(results_to_json(*results));
    doc["drive"] = to_json(figures);
    write(json_path, "JSON", write_text_file(json_path, doc.dump(2) + "\n"));
  }
  if (!csv_path.empty()) {
    write(csv_path, "CSV", write_text_file(csv_path, results_to_csv(*results) + to_csv(figures)));
  }
  if (!html_path.empty()) {
    std::ostringstream html;
    write_html_report(*results, &figures, html);
    write(html_path, "HTML report", write_text_file(html_path, html.str()));
  }
  if (figures.errors > 0) {
    std::fprintf(stderr,
                 "switchboard-loadtest: switchboardd refused %" PRIu64 " records (first: %s); "
                 "the figures are not to be trusted\n",
                 figures.errors,
                 figures.error_samples.empty() ? "?" : figures.error_samples.front().c_str());
    if (status == 0) status = kExitRefused;
  }
  return status;
}

}  // namespace

DriveCommand add_drive_command(CLI::App& app) {
  auto o = std::make_shared<DriveSettings>();
  CLI::App* cmd = app.add_subcommand(
      "drive", "run a scenario in real time against a running switchboardd (shared memory)");
  cmd->add_option("scenario", o->scenario_path, "scenario file (TOML)")->required();
  cmd->add_option("--name", o->segment, "the daemon's segment (switchboardd --name), default /switchboard");
  auto* rate = cmd->add_option("--rate", o->rate,
                               "arrivals per second over all queues (split in proportion to the "
                               "scenario's rates); default: the scenario's rates, compressed")
                   ->check(CLI::PositiveNumber);
  auto* ramp = cmd->add_option("--ramp", o->ramp,
                               "START:STEP:SECONDS: raise the arrival rate by STEP every SECONDS "
                               "until decisions fall behind; reports the highest rate sustained");
  rate->excludes(ramp);
  cmd->add_option("--duration", o->duration_s,
                  "wall seconds of arrivals (default: horizon / compress; 10 with --rate; 20 "
                  "steps with --ramp)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--compress", o->compress,
                  "time compression: scenario seconds per wall second (handling, patience, "
                  "delays, shifts are divided by it), default 1")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--spacing", o->spacing, "arrival spacing: poisson (default) or constant")
      ->check(CLI::IsMember({"poisson", "constant"}));
  cmd->add_option("--seed", o->seed, "seed (default: the scenario's simulation.seed)");
  cmd->add_option("--drain", o->drain_s,
                  "wall seconds after the last arrival to wait for open work (default 10)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-p99-ms", o->max_p99_ms,
                  "a ramp step falls behind when its corrected p99 exceeds this (default 10 ms)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--attach-timeout-ms", o->attach_timeout_ms,
                  "how long to wait for the daemon's segment (default 5000)");
  cmd->add_option("--daemon-stall-timeout-ms", o->daemon_stall_timeout_ms,
                  "how long to wait for a daemon whose heartbeat stands still (stopped, "
                  "descheduled) before giving up on it (default 5000; 0: give up at once)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", o->out_dir,
                  "directory for results.json, results.csv and report.html (created if needed)");
  cmd->add_option("--json", o->json_path, "write the figures as JSON to this file");
  cmd->add_option("--csv", o->csv_path, "write the figures as CSV to this file");
  cmd->add_option("--html", o->html_path, "write the HTML report to this file");
  cmd->add_option("--progress", o->progress,
                  "progress on stderr: auto (a bar on a terminal, lines otherwise), bar, lines, off")
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}));
  cmd->add_option("--write-config", o->write_config,
                  "write the scenario's routing configuration to this file (for switchboardd "
                  "--config) and exit");
  cmd->footer(
      "Exit status: 0 done; 2 bad usage or an invalid scenario; 4 no daemon at the segment, it "
      "went away, or its configuration lacks the scenario's names; 1 a result file could not be "
      "written; 3 the daemon refused records.");
  return DriveCommand{cmd, [o] { return run_drive(*o); }};
}

}  // namespace switchboard::loadtest
