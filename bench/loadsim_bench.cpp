// switchboard-loadsim-bench: the load-test simulator's speed (issue 5, "Speed"): simulated items
// per second of wall time, one replication at a time on one thread, on the blended scenario.
//
//   loadsim/engine:kernel/threads:1     run_replication with the kernel engine
//   loadsim/engine:reference/threads:1  the same with the reference router: the same-run baseline
//
// The scenario is loaded once per process, outside every timed region. Each iteration is one
// whole run_replication call, timed with steady_clock (manual time): the host model (arrivals,
// answers, abandonment, presence), the engine (built from the configuration at the start of the
// replication, as simulate mode builds it), and the statistics the replication accumulates. The
// aggregation across replications (simulate.cpp's aggregate) is not in it: it runs once per
// simulate call, not per replication. Iteration k runs with replication_seed(scenario seed, k),
// the seed simulate mode gives replication k, so the first five iterations are exactly the five
// replications of `switchboard-loadtest simulate` on the blended scenario, and every run of the
// benchmark with the same iteration count simulates the same days.
//
// Counters (per benchmark run; rates over the sum of the iterations' timed seconds):
//   items_per_s      items that arrived (warm-up and drain included) / wall seconds
//   decisions_per_s  the engine's decisions / the same wall seconds (the host model's time in it)
//   items_per_cpu_s  items / CPU seconds of this thread over the same replications: what the
//                    figure would be with the core to itself (on a shared machine other processes
//                    take some of the wall time; cpu_share says how much of it this thread had)
//   cpu_share        this thread's CPU seconds / wall seconds (1 on an otherwise idle core)
//   engine_share     the engine's calls' share of the wall time (the simulator's own timing of
//                    each batch, which itself costs two clock readings per batch)
//   items, decisions, events, batches   per replication (mean)
//   errors           events the engine refused, in all (0 expected)
//
// Flags of its own (the rest go to Google Benchmark):
//   --quick              fewer iterations (kernel 20, reference 3; full: kernel 60, reference 10)
//   --scenario=PATH      another scenario (default: docs/examples/blended.scenario.toml)
//   --iterations=N       iterations of every benchmark (overrides the suite's counts)
// Not thread-safe: Google Benchmark runs these benchmarks on its main thread only.

#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench_main.hpp"
#include "scenario.hpp"
#include "simulate.hpp"
#include "simulator.hpp"

#ifndef SWITCHBOARD_BLENDED_SCENARIO
#error "SWITCHBOARD_BLENDED_SCENARIO: the blended scenario's path (bench/CMakeLists.txt sets it)"
#endif

namespace {

namespace lt = switchboard::loadtest;
namespace sb = switchboard::bench;
using Clock = std::chrono::steady_clock;

struct Options {
  bool quick = false;
  std::string scenario_path = SWITCHBOARD_BLENDED_SCENARIO;
  std::optional<std::uint64_t> iterations;
};
Options g_options;

// CPU seconds this thread has used (CLOCK_THREAD_CPUTIME_ID): the replication runs on it alone.
double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Loaded once in main(), before any benchmark runs; read-only afterwards.
std::optional<lt::Scenario> g_scenario;

void loadsim(benchmark::State& state, lt::EngineKind engine) {
  const lt::Scenario& scenario = *g_scenario;
  std::uint32_t k = 0;
  double seconds = 0.0;
  double cpu_seconds = 0.0;
  double engine_seconds = 0.0;
  std::uint64_t items = 0, decisions = 0, events = 0, batches = 0, errors = 0;
  for (auto _ : state) {
    const std::uint64_t seed = lt::replication_seed(scenario.seed, k++);
    const double cpu_start = thread_cpu_s();
    const auto start = Clock::now();
    switchboard::Result<lt::ReplicationStats> rep = lt::run_replication(scenario, engine, seed);
    const auto stop = Clock::now();
    cpu_seconds += thread_cpu_s() - cpu_start;
    if (!rep) {
      state.SkipWithError(("run_replication failed: " + rep.error().message).c_str());
      return;
    }
    const double s = std::chrono::duration<double>(stop - start).count();
    state.SetIterationTime(s);
    seconds += s;
    engine_seconds += rep->engine_wall_s;
    items += rep->items;
    decisions += rep->decisions;
    events += rep->events;
    batches += rep->batches;
    errors += rep->errors;
    benchmark::DoNotOptimize(rep->queues.data());
  }
  const double n = k > 0 ? static_cast<double>(k) : 1.0;
  const auto rate = [&](std::uint64_t count) {
    return seconds > 0.0 ? static_cast<double>(count) / seconds : 0.0;
  };
  state.counters["items_per_s"] = rate(items);
  state.counters["decisions_per_s"] = rate(decisions);
  state.counters["items_per_cpu_s"] =
      cpu_seconds > 0.0 ? static_cast<double>(items) / cpu_seconds : 0.0;
  state.counters["cpu_share"] = seconds > 0.0 ? cpu_seconds / seconds : 0.0;
  state.counters["engine_share"] = seconds > 0.0 ? engine_seconds / seconds : 0.0;
  state.counters["items"] = static_cast<double>(items) / n;
  state.counters["decisions"] = static_cast<double>(decisions) / n;
  state.counters["events"] = static_cast<double>(events) / n;
  state.counters["batches"] = static_cast<double>(batches) / n;
  state.counters["errors"] = static_cast<double>(errors);
  state.counters["quick"] = g_options.quick ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bool known = sb::initialize(argc, argv, g_options.quick, [](const char* arg) {
    const char* value = nullptr;
    std::uint64_t iterations = 0;
    if (sb::parse_value(arg, "--scenario", value)) {
      g_options.scenario_path = value;
    } else if (sb::parse_count(arg, "--iterations", iterations)) {
      g_options.iterations = iterations;
    } else {
      return false;
    }
    return true;
  });
  if (!known) return 1;

  switchboard::Result<lt::Scenario> scenario = lt::load_scenario_file(g_options.scenario_path);
  if (!scenario) {
    std::fprintf(stderr, "switchboard-loadsim-bench: %s\n", scenario.error().message.c_str());
    return 1;
  }
  g_scenario = std::move(scenario).value();

  benchmark::AddCustomContext("scenario", g_options.scenario_path);
  // Fixed iteration counts rather than --benchmark_min_time: every run simulates the same
  // replications (seeds 0..n-1), so two runs differ by the machine only.
  const std::uint64_t kernel_iterations = g_options.iterations.value_or(g_options.quick ? 20 : 60);
  const std::uint64_t reference_iterations =
      g_options.iterations.value_or(g_options.quick ? 3 : 10);
  benchmark::RegisterBenchmark("loadsim/engine:kernel/threads:1",
                               [](benchmark::State& s) { loadsim(s, lt::EngineKind::kernel); })
      ->UseManualTime()
      ->Iterations(static_cast<benchmark::IterationCount>(kernel_iterations))
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("loadsim/engine:reference/threads:1",
                               [](benchmark::State& s) { loadsim(s, lt::EngineKind::reference); })
      ->UseManualTime()
      ->Iterations(static_cast<benchmark::IterationCount>(reference_iterations))
      ->Unit(benchmark::kMillisecond);
  return sb::run_benchmarks();
}
