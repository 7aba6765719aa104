#pragma once
// switchboard-loadtest compare: one scenario under two routing configurations (for example
// highest capacity against round robin, or two prioritization rulesets), simulated with the same
// seeds, side by side in one HTML report (html_report.hpp, write_html_comparison).
//
// Both sides run with the same base seed (common random numbers): replication k of A and of B
// see the same customers, one for one (arrival times, attributes, skills, patience, handling
// times), and each agent answers its n-th offer alike, because every source of randomness has
// its own stream (simulator.cpp, "Random streams"); only what routing decides and what follows
// from it differ. Each side's ± intervals are its own.
//
// Thread safety: run_compare() is for the main thread; it starts and joins simulate()'s workers.

#include <cstdint>
#include <optional>
#include <string>

#include "scenario.hpp"
#include "switchboard/result.hpp"

namespace switchboard::loadtest {

struct CompareOptions {
  std::string scenario_path;
  // Routing configuration files (TOML, docs/configuration.md) replacing the scenario's [routing];
  // empty: the scenario's own configuration on that side.
  std::string config_a;
  std::string config_b;
  // Names of the two sides in the report; empty: "A: <config file name>" and "B: ...".
  std::string label_a;
  std::string label_b;
  std::string engine = "kernel";  // kernel or reference, for both sides
  std::optional<std::uint32_t> replications;
  std::optional<std::uint64_t> seed;
  std::uint32_t threads = 0;
  std::string out_dir;    // compare.html, results-a.json, results-b.json (and CSVs) go here
  std::string html_path;  // the comparison report (default <out_dir>/compare.html)
  std::string progress = "auto";  // auto, bar, lines, off
};

// The scenario at `scenario_path` with its routing configuration replaced by the file at
// `config_path` (relative paths from the working directory). The scenario itself is validated
// first, so that its errors point at its own lines; errors of the configuration name its file.
[[nodiscard]] Result<Scenario> load_scenario_with_routing(const std::string& scenario_path,
                                                          const std::string& config_path);

// Runs both sides, prints both summary tables and the files written. Returns the exit status:
// 0 done, 1 a file could not be written, 2 bad usage or an invalid scenario or configuration,
// 3 the engine refused events.
int run_compare(const CompareOptions& options);

}  // namespace switchboard::loadtest
