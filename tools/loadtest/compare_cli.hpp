#pragma once
// The `compare` subcommand's command line (CLI11), for main.cpp: kept out of the library so that
// only the executable needs CLI11. The work is compare_command.hpp's run_compare().

#include <CLI/CLI.hpp>

#include "compare_command.hpp"

namespace switchboard::loadtest {

// Adds `compare` to `app`, filling `options` when it is parsed. Returns the subcommand (test
// `->parsed()` after app.parse to dispatch to run_compare(options)).
inline CLI::App* add_compare_subcommand(CLI::App& app, CompareOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "run one scenario under two routing configurations (same seeds) and write one report with "
      "both side by side");
  cmd->add_option("scenario", options.scenario_path, "scenario file (TOML)")->required();
  cmd->add_option("--config-a", options.config_a,
                  "routing configuration (TOML) of side A (default: the scenario's own)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--config-b", options.config_b,
                  "routing configuration (TOML) of side B (default: the scenario's own)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--label-a", options.label_a, "name of side A in the report (default: A: <file>)");
  cmd->add_option("--label-b", options.label_b, "name of side B in the report (default: B: <file>)");
  cmd->add_option("--engine", options.engine, "routing engine of both sides: kernel or reference")
      ->check(CLI::IsMember({"kernel", "reference"}));
  cmd->add_option("--replications", options.replications,
                  "replications per side (default: the scenario's simulation.replications)")
      ->check(CLI::Range(1u, 10000u));
  cmd->add_option("--seed", options.seed,
                  "base seed of both sides (default: the scenario's simulation.seed)");
  cmd->add_option("--threads", options.threads,
                  "replications run in parallel on this many threads (default 0: one per core)");
  cmd->add_option("--out", options.out_dir,
                  "directory for compare.html and results-{a,b}.{json,csv} (created if needed)");
  cmd->add_option("--html", options.html_path, "write the comparison report to this file");
  cmd->add_option("--progress", options.progress,
                  "progress on stderr: auto (a bar on a terminal, lines otherwise), bar, lines, off")
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}));
  cmd->footer(
      "Exit status: 0 done; 2 bad usage, an invalid scenario or configuration, or a configuration "
      "that does not declare the scenario's queues, skills or presences; 1 a result file could "
      "not be written; 3 the engine refused events.");
  return cmd;
}

}  // namespace switchboard::loadtest
