#pragma once
// switchboard-loadtest drive: the command line of drive mode (drive.hpp).
//
//   switchboard-loadtest drive SCENARIO [--name /switchboard] [--rate R | --ramp START:STEP:S]
//                                       [--duration S] [--compress F] [--spacing poisson|constant]
//                                       [--seed N] [--drain S] [--max-p99-ms MS]
//                                       [--out DIR] [--json F] [--csv F] [--html F]
//                                       [--progress auto|bar|lines|off]
//   switchboard-loadtest drive SCENARIO --write-config FILE
//
// The second form writes the scenario's routing configuration (inline or referenced) to FILE,
// for `switchboardd --config FILE`, and exits.
//
// Thread safety: main thread only.

#include <functional>

#include <CLI/CLI.hpp>

namespace switchboard::loadtest {

struct DriveCommand {
  CLI::App* command = nullptr;  // the "drive" subcommand; command->parsed() after app.parse
  std::function<int()> run;     // runs it; returns the exit status
};

// Adds the "drive" subcommand and its options to `app`.
[[nodiscard]] DriveCommand add_drive_command(CLI::App& app);

}  // namespace switchboard::loadtest
