#pragma once
// What the benchmark executables' main()s share (switchboard-bench, switchboard-shm-bench,
// switchboard-loadsim-bench): their own flags split off before Google Benchmark sees the rest,
// Google Benchmark's set-up, the suite context bench/run reads, and the one-timed-iteration
// registration. Header only, so each executable takes it without another library.
//
// Not thread-safe: for main() before any benchmark runs.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace switchboard::bench {

// True when `arg` is `flag=VALUE`; `value` then points at VALUE (inside `arg`).
inline bool parse_value(const char* arg, const char* flag, const char*& value) {
  const std::size_t len = std::strlen(flag);
  if (std::strncmp(arg, flag, len) != 0 || arg[len] != '=') return false;
  value = arg + len + 1;
  return true;
}

// True when `arg` is `flag=N`; `out` then holds N (strtoull: no digits reads as 0).
inline bool parse_count(const char* arg, const char* flag, std::uint64_t& out) {
  const char* value = nullptr;
  if (!parse_value(arg, flag, value)) return false;
  out = std::strtoull(value, nullptr, 10);
  return true;
}

// Splits off `--quick` (sets `quick`) and the flags `take_flag(arg)` accepts (it returns true for
// those), hands every other argument to Google Benchmark, and records the suite
// ("switchboard_suite": quick or full) in the context. False when Google Benchmark found arguments
// it does not know (it has reported them): main() then returns 1.
template <class TakeFlag>
bool initialize(int argc, char** argv, bool& quick, TakeFlag take_flag) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (i == 0 || !take_flag(static_cast<const char*>(argv[i]))) {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return false;
  benchmark::AddCustomContext("switchboard_suite", quick ? "quick" : "full");
  return true;
}

// Registers a benchmark of one iteration, timed by itself (manual time), reported in ms.
template <class Fn>
benchmark::internal::Benchmark* register_once(const std::string& name, Fn fn) {
  return benchmark::RegisterBenchmark(name.c_str(), fn)
      ->UseManualTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
}

// Runs the registered benchmarks and shuts Google Benchmark down: main()'s return value.
inline int run_benchmarks() {
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace switchboard::bench
