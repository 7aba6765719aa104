#pragma once
// Deterministic, seeded workloads for the benchmarks (issue 3, "Benchmark harness"): a
// configuration built in code and an event stream, generated closed-loop against the reference
// router. The reference is the oracle, so the stream it answers is valid (every accept, decline
// and completion names an item that was really offered or assigned to that agent) for any engine
// that decides the same.
//
// Determinism: std::mt19937_64 is fully specified by the standard, and every draw goes through
// Rng below (no std::*_distribution, whose algorithms are implementation-defined, and no floating
// point), so a seed gives the same stream with every standard library on every platform.
//
// Not thread-safe: a generator call owns everything it touches; the Workload it returns is
// immutable and may then be read from any thread.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "switchboard/config.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/events.hpp"

namespace switchboard::bench {

// A seeded source of portable random numbers. Any thread, one owner (not thread-safe).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  [[nodiscard]] std::uint64_t next() { return engine_(); }
  // A uniform integer in [lo, hi] (inclusive; requires lo <= hi), by rejection sampling:
  // exact and the same on every standard library.
  [[nodiscard]] std::int64_t between(std::int64_t lo, std::int64_t hi);
  // True with probability per_mille / 1000.
  [[nodiscard]] bool chance(std::uint32_t per_mille) { return between(0, 999) < per_mille; }
  // A uniform index in [0, n); requires n > 0.
  [[nodiscard]] std::size_t index(std::size_t n) {
    return static_cast<std::size_t>(between(0, static_cast<std::int64_t>(n) - 1));
  }

 private:
  std::mt19937_64 engine_;
};

// How the simulated host answers the router (all times in milliseconds).
struct HostBehaviour {
  // Load of live items = occupancy x agents; an item occupies 1/capacity of an agent in its
  // channel (a chat 1/3, an email 1/4, a call all of it: it blocks the rest).
  std::uint32_t occupancy_per_mille = 850;
  std::uint32_t decline_per_mille = 50;     // offers declined (the rest are accepted)
  Timestamp respond_min_ms = 1'000, respond_max_ms = 10'000;  // offer -> accept / decline
  Timestamp gap_min_ms = 0, gap_max_ms = 30'000;  // completion or cancel -> next arrival
  Timestamp patience_ms = 5 * 60'000;  // a customer waiting (queued) this long abandons
  Timestamp ramp_ms = 5 * 60'000;      // the initial population arrives over this window
};

// `blended`: the mixed contact center of issue 3. Defaults are the full size; the quick suite
// shrinks agents, queues and events.
struct BlendedParams {
  std::uint64_t seed = 1;
  std::size_t events = 100'000;  // length of the stream (the generator stops at this count)
  std::size_t agents = 10'000;
  std::size_t queues = 200;
  std::int32_t groups = 4;                   // group numbers 1..groups (R12)
  std::size_t min_queues_per_agent = 5, max_queues_per_agent = 20;
  std::size_t skills = 256;
  std::size_t skills_per_agent = 8;
  std::int32_t min_proficiency = 1, max_proficiency = 10;
  std::size_t min_item_skills = 1, max_item_skills = 3;
  std::int32_t chat_capacity = 3;  // profile `chat`
  std::int32_t voice_capacity = 1; // profile `voice`, blocks the others (a call blocks chats)
  std::int32_t email_units = 4;    // unit-based
  HostBehaviour host;
};

// `pool-N`: one chat queue, N agents, highest capacity, no skills required.
struct PoolParams {
  std::uint64_t seed = 2;
  std::size_t events = 100'000;
  std::size_t agents = 1'000;
  std::int32_t chat_capacity = 3;
  HostBehaviour host;
};

// `disjoint`: queues whose agent pools do not overlap (each queue a shard of its own), for
// thread scaling.
struct DisjointParams {
  std::uint64_t seed = 3;
  std::size_t events = 150'000;
  std::size_t queues = 16;
  std::size_t agents_per_queue = 250;
  std::size_t skills_per_queue = 8;  // each queue's own skills; items need 1 of them
  std::int32_t chat_capacity = 3;
  HostBehaviour host;
};

// What the generator saw while it ran the reference (for the README and the results file).
struct WorkloadStats {
  std::size_t agents = 0;
  std::size_t queues = 0;
  std::size_t arrivals = 0, accepts = 0, declines = 0, completions = 0, cancels = 0;
  std::size_t offers = 0;          // offer decisions of the reference
  std::size_t errors = 0;          // refused events: always 0 for a valid stream
  double occupancy = 0;            // mean load of offered + assigned items / agents, second half
  double mean_queued = 0;          // mean items waiting (queued), second half
  Timestamp duration_ms = 0;       // simulated time covered by the stream
  double generation_s = 0;         // wall time the generator took (reference included)
};

struct Workload {
  std::string name;
  Config config;
  std::vector<Event> events;
  // The reference's decisions for `events`, in order (kept when asked for: the differential
  // check of a non-reference engine compares against them).
  std::vector<Decision> decisions;
  std::size_t reference_decisions = 0;  // how many the reference made (kept or not)
  WorkloadStats stats;
};

[[nodiscard]] Workload make_blended(const BlendedParams& params, bool keep_decisions = false);
[[nodiscard]] Workload make_pool(const PoolParams& params, bool keep_decisions = false);
[[nodiscard]] Workload make_disjoint(const DisjointParams& params, bool keep_decisions = false);

// The suite of issue 3: blended, pool-100, pool-1000, pool-10000, disjoint. `quick` keeps the
// pools' agent counts (their point is the pool size) but shortens every stream and shrinks
// `blended` and `disjoint`, so that `bench/run --quick` finishes in well under two minutes. The
// quick pool-10000 stream is too short to leave the ramp (bench/README.md, "Caveat").
struct WorkloadSpec {
  std::string name;
  enum class Kind : std::uint8_t { blended, pool, disjoint } kind = Kind::blended;
  BlendedParams blended;
  PoolParams pool;
  DisjointParams disjoint;
};
[[nodiscard]] std::vector<WorkloadSpec> standard_workloads(bool quick);
[[nodiscard]] Workload make_workload(const WorkloadSpec& spec, bool keep_decisions = false);

}  // namespace switchboard::bench
