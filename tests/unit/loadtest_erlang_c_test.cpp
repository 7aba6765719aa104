// simulate mode against queueing theory, without abandonment: a single FIFO queue with Poisson
// arrivals, exponential handling and N identical agents of capacity 1 is the M/M/N queue, whose
// probability of waiting, average speed of answer and service level are Erlang C's. Each load
// must land inside the replications' 99% confidence interval, and that interval must be narrow
// enough to tell a wrong model from the right one.

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "scenario.hpp"
#include "simulate.hpp"

namespace switchboard::loadtest {
namespace {

// Erlang C for N agents and offered load a = lambda / mu (a < N): P(W > 0).
double erlang_c(int n, double a) {
  double b = 1.0;  // Erlang B by the stable recursion B(k) = a B(k-1) / (k + a B(k-1))
  for (int k = 1; k <= n; ++k) b = a * b / (k + a * b);
  return n * b / (n - a * (1.0 - b));
}

struct Load {
  int agents;
  double occupancy;  // rho = lambda / (N mu)
  double horizon_s;
  double warmup_s;
  int replications = 10;
};

constexpr double kHandleS = 60.0;     // 1 / mu
constexpr double kThresholdS = 20.0;  // service-level threshold

std::string scenario_text(const Load& load) {
  const double rate_per_hour = load.occupancy * load.agents / kHandleS * 3600.0;
  return R"(name = "erlang c"
[simulation]
horizon_s = )" + std::to_string(load.horizon_s) + R"(
warmup_s = )" + std::to_string(load.warmup_s) + R"(
drain_s = 7200
service_level_thresholds_s = [)" + std::to_string(kThresholdS) + R"(]
replications = )" + std::to_string(load.replications) + R"(
seed = 7
confidence = 0.99
[routing]
inline = '''
skills = ["any"]
[channels.phone]
kind = "voice"
capacity = { units = 1 }
[[queues]]
name = "Q"
channel = "phone"
method = "least_active"
'''
[[queues]]
name = "Q"
rate_per_hour = )" + std::to_string(rate_per_hour) + R"(
handling = { distribution = "exponential", mean_s = )" + std::to_string(kHandleS) + R"( }
[[agents]]
name = "agents"
count = )" + std::to_string(load.agents) + R"(
capacity = { units = 1 }
queues = ["Q"]
)";
}

bool under_sanitizer() {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

void expect_erlang_c(const Load& load) {
  Result<Scenario> scenario = parse_scenario(scenario_text(load), "erlang-c.scenario.toml");
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  SimulateOptions options;
  options.threads = 2;
  Result<LoadTestResults> results = simulate(*scenario, options);
  ASSERT_TRUE(results.has_value()) << results.error().message;
  const QueueFigures& q = results->queues.at(0);
  ASSERT_EQ(results->engine_figures.errors, 0u);
  ASSERT_GT(q.answered, 1000u);
  EXPECT_EQ(q.abandoned, 0u);
  EXPECT_EQ(q.unresolved, 0u);

  const double mu = 1.0 / kHandleS;
  const double a = load.occupancy * load.agents;  // offered load in Erlangs
  const double lambda = a * mu;
  const double c = erlang_c(load.agents, a);
  const double asa = c / (load.agents * mu - lambda);
  const double sl = 1.0 - c * std::exp(-(load.agents * mu - lambda) * kThresholdS);

  const Estimate& pwait = q.probability_of_wait;
  const Estimate& asa_s = q.asa_s;
  const Estimate& sl_t = q.service_levels.at(0).value;
  const Estimate& occupancy = results->groups.at(0).occupancy;
  SCOPED_TRACE("N=" + std::to_string(load.agents) + " rho=" + std::to_string(load.occupancy) +
               ": C=" + std::to_string(c) + " ASA=" + std::to_string(asa) +
               " SL=" + std::to_string(sl) + "; simulated P(wait)=" + std::to_string(pwait.mean) +
               "±" + std::to_string(pwait.half_width) + " ASA=" + std::to_string(asa_s.mean) +
               "±" + std::to_string(asa_s.half_width) + " SL=" + std::to_string(sl_t.mean) + "±" +
               std::to_string(sl_t.half_width) + " occupancy=" + std::to_string(occupancy.mean));

  // Inside the 99% confidence interval of the replications.
  EXPECT_NEAR(pwait.mean, c, pwait.half_width);
  EXPECT_NEAR(asa_s.mean, asa, asa_s.half_width);
  EXPECT_NEAR(sl_t.mean, sl, sl_t.half_width);
  EXPECT_NEAR(occupancy.mean, load.occupancy, occupancy.half_width);
  // ... and the intervals are tight enough to mean something: a model off by a tenth of the
  // waiting probability, or by a fifth of the ASA, would fall outside them.
  EXPECT_LT(pwait.half_width, 0.1 * c + 0.01);
  EXPECT_LT(asa_s.half_width, 0.2 * asa + 0.2);
  EXPECT_LT(sl_t.half_width, 0.05);
}

TEST(LoadtestErlangC, LightLoadHalfOccupiedFiveAgents) {
  expect_erlang_c({5, 0.5, 60 * 3600.0, 1800.0});
}

TEST(LoadtestErlangC, MediumLoadEightyPercentTenAgents) {
  // 20 replications: with 10, the ASA's 99% half-width (t = 3.25 at 9 degrees of freedom) came
  // out above the 0.2 ASA + 0.2 bound for about one base seed in ten (seeds 1-16: 1 with the
  // simulator's single random stream, 2 with the per-source streams, seed 7 among them) though
  // the means were right; with 20 it stayed below (largest 1.7 s against 2.66 s over the same
  // seeds).
  expect_erlang_c({10, 0.8, 30 * 3600.0, 3600.0, 20});
}

TEST(LoadtestErlangC, HeavyLoadNinetyPercentTwentyAgents) {
  if (under_sanitizer()) GTEST_SKIP() << "statistics only: too slow under a sanitizer";
  expect_erlang_c({20, 0.9, 48 * 3600.0, 3600.0});
}

TEST(LoadtestErlangC, NinetyFivePercentOccupancyFiftyAgents) {
  if (under_sanitizer()) GTEST_SKIP() << "statistics only: too slow under a sanitizer";
  // Near saturation the queue's excursions are long (its relaxation time is about half an hour):
  // more replications, each longer.
  expect_erlang_c({50, 0.95, 60 * 3600.0, 3600.0, 20});
}

// The formula itself, against values from the literature (so that a wrong formula cannot make
// a wrong simulator pass): N = 10, a = 8 Erlangs gives C = 0.409.
TEST(LoadtestErlangC, FormulaMatchesThePublishedValue) {
  EXPECT_NEAR(erlang_c(10, 8.0), 0.4092, 5e-4);
  EXPECT_NEAR(erlang_c(1, 0.5), 0.5, 1e-12);  // M/M/1: P(W > 0) = rho
}

}  // namespace
}  // namespace switchboard::loadtest
