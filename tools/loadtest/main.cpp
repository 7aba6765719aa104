// switchboard-loadtest: the load-testing tool (docs/load-testing.md).
//
//   switchboard-loadtest simulate SCENARIO [--engine kernel|reference] [--replications N]
//                                          [--seed S] [--threads N] [--out DIR] [--json F]
//                                          [--csv F] [--html F] [--progress auto|bar|lines|off]
//   switchboard-loadtest compare SCENARIO --config-a A.toml --config-b B.toml [--label-a L]
//                                         [--label-b L] [...as simulate] (compare_command.hpp)
//
// simulate runs the scenario's replications in simulated time (in parallel threads), prints the
// summary table and writes the figures as JSON, CSV and the HTML report.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "compare_cli.hpp"
#include "drive_command.hpp"
#include "scenario.hpp"
#include "simulate.hpp"
#include "switchboard/loadtest/progress.hpp"
#include "switchboard/loadtest/results_writers.hpp"
#include "switchboard/version.hpp"
#if SWITCHBOARD_LOADTEST_HTML
#include "switchboard/loadtest/html_report.hpp"
#endif

namespace {

using namespace switchboard;
using namespace switchboard::loadtest;

constexpr int kExitUsage = 2;    // bad arguments, an unreadable or invalid scenario
constexpr int kExitOutput = 1;   // a result file could not be written
constexpr int kExitRefused = 3;  // the engine refused events: a simulator defect, figures suspect

// The HTML report of `results`, written to `path`: the report writer's (html_report.hpp).
std::optional<Error> write_html(const LoadTestResults& results, const std::string& path) {
#if SWITCHBOARD_LOADTEST_HTML
  std::ostringstream html;
  write_html_report(results, html);
  return write_text_file(path, html.str());
#else
  (void)results;
  return Error{ErrorCode::config_io, path + ": this build has no HTML report writer"};
#endif
}

constexpr bool kHasHtml = SWITCHBOARD_LOADTEST_HTML != 0;

int simulate_command(const std::string& scenario_path, const std::string& engine_name,
                     std::optional<std::uint32_t> replications, std::optional<std::uint64_t> seed,
                     std::uint32_t threads, const std::string& out_dir, std::string json_path,
                     std::string csv_path, std::string html_path, const std::string& progress) {
  Result<Scenario> scenario = load_scenario_file(scenario_path);
  if (!scenario) {
    std::fprintf(stderr, "switchboard-loadtest: %s\n", scenario.error().message.c_str());
    return kExitUsage;
  }
  if (!out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) {
      std::fprintf(stderr, "switchboard-loadtest: %s: cannot create directory (%s)\n",
                   out_dir.c_str(), ec.message().c_str());
      return kExitOutput;
    }
    const auto in_dir = [&](const char* name) { return (std::filesystem::path(out_dir) / name).string(); };
    if (json_path.empty()) json_path = in_dir("results.json");
    if (csv_path.empty()) csv_path = in_dir("results.csv");
    if (html_path.empty() && kHasHtml) html_path = in_dir("report.html");
  }

  SimulateOptions options;
  options.engine = engine_name == "reference" ? EngineKind::reference : EngineKind::kernel;
  options.replications = replications;
  options.seed = seed;
  options.threads = threads;
  const std::uint32_t n = replications.value_or(scenario->replications);
  ProgressStyle style = ProgressStyle::automatic;
  if (progress == "bar") style = ProgressStyle::bar;
  if (progress == "lines") style = ProgressStyle::lines;
  if (progress == "off") style = ProgressStyle::off;
  // Progress counts thousandths of a replication's simulated time; the callback is serialized
  // by simulate(), so `reported` has one writer at a time.
  constexpr std::uint64_t kUnits = 1000;
  auto bar = std::make_unique<Progress>("simulate " + scenario->name, kUnits * n, stderr, style);
  std::uint64_t reported = 0;
  options.on_progress = [&](const SimulateProgress& p) {
    const auto now = static_cast<std::uint64_t>(p.fraction * static_cast<double>(kUnits * n));
    if (now > reported) {
      bar->advance(now - reported);
      reported = now;
    }
  };
  Result<LoadTestResults> results = simulate(*scenario, options);
  bar->finish();
  if (!results) {
    std::fprintf(stderr, "switchboard-loadtest: %s\n", results.error().message.c_str());
    return kExitUsage;
  }
  std::fputs(("\n" + summary_table(*results)).c_str(), stdout);

  int status = 0;
  const auto write = [&](const std::string& path, const char* what,
                         const std::optional<Error>& error) {
    if (error) {
      std::fprintf(stderr, "switchboard-loadtest: %s\n", error->message.c_str());
      status = kExitOutput;
    } else {
      std::printf("%s: %s\n", what, path.c_str());
    }
  };
  if (!json_path.empty()) write(json_path, "JSON", write_text_file(json_path, results_to_json(*results)));
  if (!csv_path.empty()) write(csv_path, "CSV", write_text_file(csv_path, results_to_csv(*results)));
  if (!html_path.empty()) write(html_path, "HTML report", write_html(*results, html_path));
  if (results->engine_figures.errors > 0) {
    std::fprintf(stderr,
                 "switchboard-loadtest: the engine refused %llu events (first: %s); the figures "
                 "are not to be trusted\n",
                 static_cast<unsigned long long>(results->engine_figures.errors),
                 results->engine_figures.first_error.c_str());
    if (status == 0) status = kExitRefused;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"switchboard-loadtest: contact-center traffic against Switchboard's routing, "
               "with figures for planners and engineers (docs/load-testing.md)"};
  app.set_version_flag("--version", std::string(version_string()));
  app.require_subcommand(1);

  CLI::App* sim = app.add_subcommand(
      "simulate", "run a scenario in simulated time (discrete-event, deterministic for a seed)");
  std::string scenario_path;
  std::string engine = "kernel";
  std::optional<std::uint32_t> replications;
  std::optional<std::uint64_t> seed;
  std::uint32_t threads = 0;
  std::string out_dir;
  std::string json_path;
  std::string csv_path;
  std::string html_path;
  std::string progress = "auto";
  sim->add_option("scenario", scenario_path, "scenario file (TOML)")->required();
  sim->add_option("--engine", engine, "routing engine: kernel (default) or reference")
      ->check(CLI::IsMember({"kernel", "reference"}));
  sim->add_option("--replications", replications,
                  "replications (default: the scenario's simulation.replications)")
      ->check(CLI::Range(1u, 10000u));
  sim->add_option("--seed", seed, "base seed (default: the scenario's simulation.seed)");
  sim->add_option("--threads", threads,
                  "replications run in parallel on this many threads (default 0: one per core)");
  sim->add_option("--out", out_dir,
                  "directory for results.json, results.csv and report.html (created if needed)");
  sim->add_option("--json", json_path, "write the figures as JSON to this file");
  sim->add_option("--csv", csv_path, "write the figures as CSV to this file");
  sim->add_option("--html", html_path, "write the HTML report to this file");
  sim->add_option("--progress", progress,
                  "progress on stderr: auto (a bar on a terminal, lines otherwise), bar, lines, off")
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}));
  sim->footer(
      "Exit status: 0 done; 2 bad usage or an invalid scenario (the message names file, line, "
      "column and key); 1 a result file could not be written; 3 the engine refused events.");

  CompareOptions compare_options;
  CLI::App* compare = add_compare_subcommand(app, compare_options);

  const DriveCommand drive = add_drive_command(app);  // drive_command.hpp

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (compare->parsed()) return run_compare(compare_options);
  if (drive.command->parsed()) return drive.run();
  if (sim->parsed()) {
    return simulate_command(scenario_path, engine, replications, seed, threads, out_dir,
                            json_path, csv_path, html_path, progress);
  }
  return kExitUsage;
}
