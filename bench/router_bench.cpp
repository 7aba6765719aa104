// switchboard-bench: replays each workload of workload.hpp through each engine of engine.hpp and
// reports decisions per second and nanoseconds per event (Google Benchmark).
//
// Benchmarks are named `<workload>/engine:<engine>/threads:<n>` (Google Benchmark appends
// `/manual_time`). Only the replay is timed (manual time): the workload is generated once per
// process on first use, and each iteration builds a fresh engine before the clock starts and
// destroys it after the clock stops.
//
// Flags of its own (the rest go to Google Benchmark):
//   --quick             the quick suite (smaller blended and disjoint, shorter streams)
//   --verify-reference  also replay the reference decision by decision against the decisions
//                       recorded at generation (a determinism check; engines that are not the
//                       reference are always verified this way)
// Not thread-safe: Google Benchmark runs these benchmarks on its main thread only.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "bench_main.hpp"
#include "engine.hpp"
#include "workload.hpp"

namespace {

using switchboard::Decision;
using switchboard::DecisionKind;
using switchboard::Event;
namespace sb = switchboard::bench;

struct Options {
  bool quick = false;
  bool verify_reference = false;
};
Options g_options;

// Workloads generated once each, on first use, outside every timed region.
const sb::Workload& workload(const sb::WorkloadSpec& spec, bool keep_decisions) {
  static std::map<std::string, std::unique_ptr<const sb::Workload>> cache;
  auto it = cache.find(spec.name);
  if (it == cache.end()) {
    it = cache
             .emplace(spec.name,
                      std::make_unique<const sb::Workload>(sb::make_workload(spec, keep_decisions)))
             .first;
  }
  return *it->second;
}

// An untimed replay compared decision by decision with the reference's decisions.
struct Verification {
  double differ_fraction = 0;
  std::uint64_t errors = 0;  // refused events: the stream asked for an offer the engine did not make
  std::uint64_t inversions = 0;
  std::optional<double> bytes_per_agent;
  std::optional<double> hot_bytes_per_agent;
};

Verification verify(const sb::Workload& w, const sb::EngineKind& kind, int threads) {
  std::unique_ptr<sb::Engine> engine = kind.make(w.config, threads);
  std::vector<Decision> got;
  got.reserve(w.decisions.size());
  for (const Event& event : w.events) engine->apply(event, got);
  engine->drain(got);
  Verification v;
  const std::size_t n = std::max(got.size(), w.decisions.size());
  std::size_t differ = n - std::min(got.size(), w.decisions.size());
  for (std::size_t i = 0; i < std::min(got.size(), w.decisions.size()); ++i) {
    if (!got[i].same_decision(w.decisions[i])) ++differ;
  }
  for (const Decision& d : got) v.errors += d.kind == DecisionKind::error ? 1 : 0;
  v.differ_fraction = n == 0 ? 0.0 : static_cast<double>(differ) / static_cast<double>(n);
  v.inversions = engine->inversions();
  v.bytes_per_agent = engine->bytes_per_agent();
  v.hot_bytes_per_agent = engine->hot_bytes_per_agent();
  return v;
}

void replay(benchmark::State& state, const sb::WorkloadSpec& spec, const sb::EngineKind& kind,
            int threads, bool keep_decisions) {
  const sb::Workload* w = nullptr;
  try {
    w = &workload(spec, keep_decisions);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }

  // Verification once per benchmark (Google Benchmark calls this function more than once).
  static std::map<std::tuple<std::string, std::string, int>, Verification> verified;
  const auto key = std::make_tuple(spec.name, kind.name, threads);
  if (!verified.count(key)) {
    verified[key] = (!kind.is_oracle || g_options.verify_reference) ? verify(*w, kind, threads)
                                                                      : Verification{};
  }
  const Verification& v = verified[key];
  if (kind.is_oracle && v.differ_fraction != 0) {
    state.SkipWithError("the reference replay differs from its own generation run: not deterministic");
    return;
  }

  double seconds = 0;
  std::uint64_t decisions = 0, offers = 0, events = 0;
  std::optional<double> bytes_per_agent;
  std::vector<Decision> out;
  out.reserve(256);
  for (auto _ : state) {
    std::unique_ptr<sb::Engine> engine = kind.make(w->config, threads);
    std::uint64_t made = 0, offered = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const Event& event : w->events) {
      engine->apply(event, out);
      made += out.size();
      for (const Decision& d : out) offered += d.kind == DecisionKind::offer ? 1 : 0;
      out.clear();
    }
    engine->drain(out);
    made += out.size();
    for (const Decision& d : out) offered += d.kind == DecisionKind::offer ? 1 : 0;
    out.clear();
    const auto stop = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(stop - start).count();
    state.SetIterationTime(elapsed);
    seconds += elapsed;
    decisions += made;
    offers += offered;
    events += w->events.size();
    bytes_per_agent = engine->bytes_per_agent();
    if (kind.is_oracle && made != w->reference_decisions) {
      state.SkipWithError("the reference made a different number of decisions than at generation");
      return;
    }
    engine.reset();  // destroyed after the clock stopped
  }

  const double iterations = static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations()));
  state.counters["decisions_per_s"] = seconds > 0 ? static_cast<double>(decisions) / seconds : 0;
  state.counters["offers_per_s"] = seconds > 0 ? static_cast<double>(offers) / seconds : 0;
  state.counters["ns_per_event"] = events > 0 ? seconds * 1e9 / static_cast<double>(events) : 0;
  state.counters["events"] = static_cast<double>(w->events.size());
  state.counters["decisions"] = static_cast<double>(decisions) / iterations;
  state.counters["differ_fraction"] = v.differ_fraction;
  state.counters["inversions"] = static_cast<double>(v.inversions);
  state.counters["errors"] = static_cast<double>(v.errors);
  if (bytes_per_agent) state.counters["bytes_per_agent"] = *bytes_per_agent;
  if (v.hot_bytes_per_agent) state.counters["hot_bytes_per_agent"] = *v.hot_bytes_per_agent;
  state.counters["agents"] = static_cast<double>(w->stats.agents);
  state.counters["queues"] = static_cast<double>(w->stats.queues);
  state.counters["occupancy"] = w->stats.occupancy;
  state.counters["mean_queued"] = w->stats.mean_queued;
  state.counters["generation_s"] = w->stats.generation_s;
}

// Resident set size of this process in bytes (Linux /proc/self/statm), 0 where unknown.
std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages = 0, resident = 0;
  const int read = std::fscanf(f, "%lu %lu", &pages, &resident);
  std::fclose(f);
  return read == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// `agents-1m`: one million agents (8 skills each, 10 queues of 100,000 members) loaded into a
// kernel. Reports the kernel's own account of its memory and the process's resident growth.
switchboard::Config million_agent_config(std::size_t kAgents) {
  switchboard::Config config;
  for (int s = 0; s < 256; ++s) config.skills.push_back("s" + std::to_string(s));
  for (std::string_view p : switchboard::kBuiltinPresences) config.presences.emplace_back(p);
  config.profiles = {switchboard::ProfileConfig{"chat", false}};
  switchboard::ChannelConfig chat = switchboard::channel_defaults(switchboard::ChannelKind::chat);
  chat.capacity_model = switchboard::CapacityModel::profile;
  config.channels = {chat};
  for (int q = 0; q < 10; ++q) {
    switchboard::QueueConfig queue;
    queue.name = "q" + std::to_string(q);
    config.queues.push_back(queue);
  }
  config.agents.reserve(kAgents);
  for (std::size_t a = 0; a < kAgents; ++a) {
    switchboard::AgentSeed seed;
    seed.id = switchboard::ExternalId(static_cast<std::uint64_t>(a + 1));
    seed.presence = 0;
    for (std::uint16_t k = 0; k < 8; ++k) {
      seed.skills.push_back({static_cast<switchboard::SkillId>((a * 7 + k * 31) % 256), 5});
    }
    seed.capacity.profile_max = {3};
    seed.queues = {static_cast<switchboard::QueueId>(a % 10)};
    config.agents.push_back(std::move(seed));
  }
  return config;
}

// The resident growth covers building the configuration (the agents' seeds) and the kernel.
void million_agents(benchmark::State& state) {
  constexpr std::size_t kAgents = 1'000'000;
  double total = 0, hot = 0, rss = 0;
  for (auto _ : state) {
    const std::size_t before = resident_bytes();
    switchboard::Config config = million_agent_config(kAgents);
    const auto start = std::chrono::steady_clock::now();
    switchboard::Result<switchboard::Kernel> kernel = switchboard::Kernel::create(std::move(config));
    const auto stop = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    const switchboard::KernelFootprint f = kernel->footprint();
    total = static_cast<double>(f.total_bytes);
    hot = static_cast<double>(f.hot_bytes_per_agent);
    rss = static_cast<double>(resident_bytes() - before);
  }
  state.counters["agents"] = static_cast<double>(kAgents);
  state.counters["bytes_per_agent"] = total / static_cast<double>(kAgents);
  state.counters["hot_bytes_per_agent"] = hot;
  state.counters["kernel_bytes"] = total;
  state.counters["rss_growth_bytes"] = rss;
}

}  // namespace

int main(int argc, char** argv) {
  const bool known = sb::initialize(argc, argv, g_options.quick, [](const char* arg) {
    if (std::strcmp(arg, "--verify-reference") != 0) return false;
    g_options.verify_reference = true;
    return true;
  });
  if (!known) return 1;

  static const std::vector<sb::WorkloadSpec> specs = sb::standard_workloads(g_options.quick);
  static const std::vector<sb::EngineKind> kinds = sb::engines();
  const bool keep_decisions =
      g_options.verify_reference ||
      std::any_of(kinds.begin(), kinds.end(), [](const sb::EngineKind& k) { return !k.is_oracle; });

  for (const sb::WorkloadSpec& spec : specs) {
    for (const sb::EngineKind& kind : kinds) {
      for (int threads : kind.threads) {
        const std::string name =
            spec.name + "/engine:" + kind.name + "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(),
                                     [&spec, &kind, threads, keep_decisions](benchmark::State& s) {
                                       replay(s, spec, kind, threads, keep_decisions);
                                     })
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  sb::register_once("agents-1m/engine:kernel/threads:1", million_agents);
  return sb::run_benchmarks();
}
