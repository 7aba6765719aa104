// Differential test of the kernel against the reference router: seeded random configurations
// (random_rich_config: every assignment method, every order-by kind, prioritization rulesets,
// both skill matching modes, calendars, affinity, offer timeouts, wrap-up, periodic cycles) and
// closed-loop random event streams (StreamGenerator: accepts, declines, timeouts and completions
// that mostly answer real offers and assignments, manual assignments and picks, presence and
// capacity churn, agents coming and going, transfers, cancels, updates, and invalid events).
//
//   decisions   Kernel::apply decides exactly as ReferenceRouter::apply, decision by decision
//               (Decision::same_decision), event by event; live_item_count() agrees after every
//               event and item() agrees for every live item at each checkpoint.
//   invariants  Kernel::check_invariants() is empty at every checkpoint (every 97 events).
//   I5          the same stream given to apply_batch in chunks of 64 with two threads gives the
//               same decisions.
//
// 100,000 events per seed (10,000 under a sanitizer or in a build with assertions on). For a
// longer soak: SWITCHBOARD_DIFF_EVENTS=<events per seed> and SWITCHBOARD_DIFF_SEEDS=<extra seeds>.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "decision_diff.hpp"
#include "random_stream.hpp"
#include "router_harness.hpp"
#include "switchboard/kernel.hpp"
#include "switchboard/reference_router.hpp"

namespace switchboard::testing {
namespace {

constexpr std::size_t kDefaultEventsPerSeed = kSlowBuild ? 10'000 : 100'000;
constexpr std::size_t kCheckEvery = 97;  // invariants and item views
constexpr std::size_t kBatch = 64;       // apply_batch chunk
constexpr std::size_t kHistory = 10;     // decisions shown before a difference

std::size_t events_per_seed() { return env_count("SWITCHBOARD_DIFF_EVENTS", kDefaultEventsPerSeed); }

// Seeds: odd seeds use two independent clusters of agents and queues (so that apply_batch has
// parts to run in parallel), seeds divisible by 3 three clusters, the rest one connected graph.
int clusters_of(std::uint64_t seed) { return seed % 3 == 0 ? 3 : (seed % 2 == 1 ? 2 : 1); }

struct SeedRun {
  Config config;
  std::vector<Event> events;
  std::vector<Decision> decisions;   // the reference's, in order
  std::vector<std::size_t> offsets;  // decisions of event i: [offsets[i], offsets[i + 1])
  StreamCounts counts;
};

class KernelDifferential : public ::testing::TestWithParam<std::uint64_t> {
 protected:
  // Generates the stream closed-loop against the reference router and runs the kernel in lock
  // step with it; stops at the first difference.
  void lock_step(std::uint64_t seed, SeedRun& run) {
    const int clusters = clusters_of(seed);
    ReferenceRouter reference(run.config);
    Result<Kernel> created = Kernel::create(run.config, KernelOptions{});
    ASSERT_TRUE(created.has_value()) << "seed " << seed << ": Kernel::create refused the configuration: "
                                     << created.error().message;
    Kernel kernel = std::move(created).value();
    StreamGenerator generator(seed, run.config, clusters);
    const std::size_t n = events_per_seed();
    run.events.reserve(n);
    run.offsets.reserve(n + 1);
    run.offsets.push_back(0);

    std::deque<Decision> last_reference;
    std::deque<Decision> last_kernel;
    std::vector<Decision> ref_out;
    std::vector<Decision> ker_out;
    auto remember = [](std::deque<Decision>& last, const Decision& d) {
      last.push_back(d);
      if (last.size() > kHistory) last.pop_front();
    };

    {
      const std::string problem = kernel.check_invariants();
      ASSERT_EQ(problem, "") << "seed " << seed << ": kernel invariants at creation";
      ASSERT_EQ(kernel.live_item_count(), reference.live_item_count());
    }
    for (std::size_t i = 0; i < n; ++i) {
      Event event = generator.next(reference);
      ref_out.clear();
      ker_out.clear();
      reference.apply(event, ref_out);
      kernel.apply(event, ker_out);
      const std::optional<std::size_t> diff =
          first_difference(ref_out, 0, ker_out, 0, ref_out.size(), ker_out.size());
      if (diff) {
        for (std::size_t k = 0; k < *diff; ++k) {
          remember(last_reference, ref_out[k]);
          remember(last_kernel, ker_out[k]);
        }
        FAIL() << "seed " << seed << ", event index " << i << " (Kernel::apply, threads 1): the kernel "
               << "decides differently" << event_difference(event, ref_out, ker_out, *diff)
               << "\n  last " << kHistory << " reference decisions before the difference:"
               << show(last_reference)
               << "\n  last " << kHistory << " kernel decisions before the difference:"
               << show(last_kernel) << "\n  the events before it:"
               << event_lines(run.events, events_before(run.events.size(), 5), run.events.size());
      }
      for (const Decision& d : ref_out) remember(last_reference, d);
      for (const Decision& d : ker_out) remember(last_kernel, d);
      generator.observe(event, ref_out);
      count_decisions(event, ref_out, run.counts);
      run.decisions.insert(run.decisions.end(), ref_out.begin(), ref_out.end());
      run.offsets.push_back(run.decisions.size());
      run.events.push_back(std::move(event));

      ASSERT_EQ(kernel.live_item_count(), reference.live_item_count())
          << "seed " << seed << ", event index " << i << ": live items differ after "
          << describe(run.events.back());
      if (i % kCheckEvery == kCheckEvery - 1 || i + 1 == n) {
        checkpoint(seed, i, kernel, reference, generator, run.events.back());
        if (HasFatalFailure() || HasFailure()) return;
      }
    }
  }

  static std::size_t events_before(std::size_t index, std::size_t count) {
    return index > count ? index - count : 0;
  }

  void checkpoint(std::uint64_t seed, std::size_t i, const Kernel& kernel,
                  const ReferenceRouter& reference, const StreamGenerator& generator,
                  const Event& event) {
    const std::string problem = kernel.check_invariants();
    ASSERT_EQ(problem, "") << "seed " << seed << ", event index " << i
                           << ": kernel.check_invariants() after " << describe(event);
    const std::string items = item_views_differ(generator.ledger(), reference, kernel);
    ASSERT_EQ(items, "") << "seed " << seed << ", event index " << i << ": item views";
  }

  // I5: the same stream through apply_batch in chunks, on two threads.
  void batched(std::uint64_t seed, const SeedRun& run, std::uint64_t& parallel_events) {
    Result<Kernel> created = Kernel::create(run.config, KernelOptions{.threads = 2});
    ASSERT_TRUE(created.has_value()) << created.error().message;
    Kernel kernel = std::move(created).value();
    std::vector<Decision> out;
    const std::span<const Event> events(run.events);
    for (std::size_t start = 0; start < events.size(); start += kBatch) {
      const std::size_t count = std::min(kBatch, events.size() - start);
      out.clear();
      kernel.apply_batch(events.subspan(start, count), out);
      parallel_events += kernel.parallel_events();
      const std::size_t from = run.offsets[start];
      const std::size_t expected = run.offsets[start + count] - from;
      const std::optional<std::size_t> diff =
          first_difference(run.decisions, from, out, 0, expected, out.size());
      if (diff) {
        const std::size_t e = event_of_decision(run.offsets, start, count, from + *diff);
        FAIL() << "seed " << seed << ", event index " << e << " (apply_batch, threads 2, chunk of "
               << count << " events from index " << start << "): decisions differ from apply() (I5)"
               << batch_difference(run.events, run.decisions, run.offsets, start, e, out, *diff, kHistory);
      }
      if ((start / kBatch) % 8 == 7 || start + count == events.size()) {
        const std::string problem = kernel.check_invariants();
        ASSERT_EQ(problem, "") << "seed " << seed << ", after apply_batch of events [" << start
                               << ", " << start + count << "): kernel.check_invariants()";
      }
    }
  }
};

TEST_P(KernelDifferential, KernelDecidesAsTheReferenceEventByEventAndInBatchesOnTwoThreads) {
  const std::uint64_t seed = GetParam();
  const auto started = std::chrono::steady_clock::now();
  SeedRun run;
  Rng config_rng(seed);
  run.config = random_rich_config(config_rng, clusters_of(seed));
  lock_step(seed, run);
  if (HasFailure()) return;
  const auto stepped = std::chrono::steady_clock::now();
  std::uint64_t parallel_events = 0;
  batched(seed, run, parallel_events);
  if (HasFailure()) return;
  const auto finished = std::chrono::steady_clock::now();

  // The stream was rich (otherwise agreement says little).
  const StreamCounts& c = run.counts;
  auto count = [&](const std::string& key) { return c.decision(key); };
  std::ostringstream summary;
  summary << "seed " << seed << " (" << clusters_of(seed) << " cluster(s), "
          << run.config.queues.size() << " queues, " << run.config.profiles.size() << " profiles, "
          << run.events.size() << " events, " << run.decisions.size() << " decisions, "
          << parallel_events << " events on worker tasks; lock step "
          << std::chrono::duration<double>(stepped - started).count() << " s, batches "
          << std::chrono::duration<double>(finished - stepped).count() << " s):" << testing::summary(c);
  std::map<std::string, std::uint64_t> offers_by_queue_kind;  // method / skill matching
  for (const Decision& d : run.decisions) {
    if (d.kind != DecisionKind::offer) continue;
    const QueueConfig& q = run.config.queues[d.queue];
    ++offers_by_queue_kind[std::string(to_string(q.method)) + "/" +
                           std::string(to_string(q.skill_matching)) +
                           (q.requires_working ? "/working" : "") + (q.is_fifo() ? "" : "/ruleset")];
  }
  summary << " | offers by queue:";
  for (const auto& [k, n] : offers_by_queue_kind) summary << " " << k << "=" << n;
  std::cout << "[ coverage ] " << summary.str() << "\n";
  SCOPED_TRACE(summary.str());
  const std::uint64_t scale = run.events.size() / 1'000;  // per thousand events
  EXPECT_GT(count("offer/method") + count("offer/rule"), 20 * scale);
  EXPECT_GT(count("assigned/accepted"), 10 * scale);
  EXPECT_GT(count("completed"), 8 * scale);
  EXPECT_GT(count("requeued/declined"), 2 * scale);
  EXPECT_GT(count("requeued/timed_out(host)") + count("requeued/timed_out(timer)"), scale);
  EXPECT_GT(count("assigned/manual") + count("assigned/pick"), scale);
  EXPECT_GT(count("cancelled"), scale);
  EXPECT_GT(count("transferred"), scale);
  EXPECT_GT(count("error"), 10 * scale);
  EXPECT_GE(c.errors.size(), 12u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, KernelDifferential,
                         ::testing::ValuesIn(seeds_with_soak(20, "SWITCHBOARD_DIFF_SEEDS", 1'000)),
                         seed_name);

TEST(KernelDifferentialConfig, EveryRichConfigurationIsWithinTheKernelLimits) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    Rng rng(seed);
    const Config config = random_rich_config(rng, clusters_of(seed));
    ASSERT_LE(config.profiles.size(), kKernelMaxProfiles) << "seed " << seed;
    const Result<Kernel> kernel = Kernel::create(config);
    ASSERT_TRUE(kernel.has_value()) << "seed " << seed << ": " << kernel.error().message;
  }
}

TEST(KernelDifferentialConfig, AConfigurationWithFiveProfilesIsRefused) {
  Rng rng(7);
  Config config = random_rich_config(rng);
  while (config.profiles.size() < kKernelMaxProfiles + 1) {
    config.profiles.push_back(ProfileConfig{"extra" + std::to_string(config.profiles.size()), false});
  }
  const Result<Kernel> kernel = Kernel::create(config);
  ASSERT_FALSE(kernel.has_value());
  EXPECT_EQ(kernel.error().code, ErrorCode::config_invalid_value);
}

}  // namespace
}  // namespace switchboard::testing
