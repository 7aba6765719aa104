// simulate mode against queueing theory, with abandonment: the M/M/N+M queue (Erlang A). The
// host cancels a waiting item when its exponential patience (rate theta) runs out. The exact
// figures come from the birth-death chain of the number of customers n in the system
// (births lambda; deaths mu min(n, N) + theta max(n - N, 0)), solved numerically here, and from
// the fate of a customer who joins the queue with j customers ahead of it (FIFO): it moves up at
// rate N mu + j theta and leaves at rate theta. Each figure must land inside the replications'
// 99% confidence interval.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "simulate.hpp"

namespace switchboard::loadtest {
namespace {

struct ErlangA {
  double p_wait = 0.0;        // P(an arrival finds every agent busy) = P(n >= N) (PASTA)
  double p_abandon = 0.0;     // P(an arrival abandons)
  double asa_answered = 0.0;  // E[wait | answered], seconds
  double occupancy = 0.0;     // lambda P(answered) / (N mu)
};

ErlangA erlang_a(int agents, double lambda, double mu, double theta) {
  // Stationary distribution by the balance equations pi(n+1) death(n+1) = pi(n) lambda,
  // truncated where the tail no longer matters.
  std::vector<double> pi = {1.0};
  for (int n = 0; pi.back() > 1e-16 * 1e-3 || n < agents + 10; ++n) {
    const int next = n + 1;
    const double death = mu * std::min(next, agents) + theta * std::max(next - agents, 0);
    pi.push_back(pi.back() * lambda / death);
    if (pi.size() > 200000) break;
  }
  double total = 0.0;
  for (double p : pi) total += p;
  for (double& p : pi) p /= total;

  ErlangA out;
  double queue_length = 0.0;
  for (std::size_t n = agents; n < pi.size(); ++n) {
    out.p_wait += pi[n];
    queue_length += pi[n] * static_cast<double>(n - agents);
  }
  // Abandonments per unit of time = theta E[queue length]; per arrival, divide by lambda.
  out.p_abandon = theta * queue_length / lambda;

  // A customer with j ahead: served with probability S(j), E[W 1{served}] = M(j).
  const double service = agents * mu;
  double served = 0.0;
  double wait_served = 0.0;
  double s_prev = 0.0;
  double m_prev = 0.0;
  for (std::size_t n = 0; n < pi.size(); ++n) {
    if (n < static_cast<std::size_t>(agents)) {
      served += pi[n];  // answered at once, wait 0
      continue;
    }
    const double j = static_cast<double>(n - agents);
    const double rate = service + j * theta + theta;
    const double move = (service + j * theta) / rate;
    double s = 0.0;
    double m = 0.0;
    if (j == 0.0) {
      s = move;
      m = s / rate;
    } else {
      s = move * s_prev;
      m = move * (s_prev / rate + m_prev);
    }
    served += pi[n] * s;
    wait_served += pi[n] * m;
    s_prev = s;
    m_prev = m;
  }
  out.asa_answered = wait_served / served;
  out.occupancy = lambda * served / service;
  return out;
}

constexpr double kHandleS = 60.0;
constexpr double kPatienceS = 90.0;

std::string scenario_text(int agents, double offered_load, double horizon_s) {
  const double rate_per_hour = offered_load / kHandleS * 3600.0;
  return R"(name = "erlang a"
[simulation]
horizon_s = )" + std::to_string(horizon_s) + R"(
warmup_s = 3600
drain_s = 7200
replications = 10
seed = 11
confidence = 0.99
[routing]
inline = '''
skills = ["any"]
[channels.chat]
capacity = { units = 1 }
[[queues]]
name = "Q"
channel = "chat"
'''
[[queues]]
name = "Q"
rate_per_hour = )" + std::to_string(rate_per_hour) + R"(
handling = { distribution = "exponential", mean_s = )" + std::to_string(kHandleS) + R"( }
patience = { distribution = "exponential", mean_s = )" + std::to_string(kPatienceS) + R"( }
[[agents]]
name = "agents"
count = )" + std::to_string(agents) + R"(
queues = ["Q"]
)";
}

void expect_erlang_a(int agents, double offered_load, double horizon_s) {
  Result<Scenario> scenario =
      parse_scenario(scenario_text(agents, offered_load, horizon_s), "erlang-a.scenario.toml");
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  SimulateOptions options;
  options.threads = 2;
  Result<LoadTestResults> results = simulate(*scenario, options);
  ASSERT_TRUE(results.has_value()) << results.error().message;
  ASSERT_EQ(results->engine_figures.errors, 0u);
  const QueueFigures& q = results->queues.at(0);
  ASSERT_GT(q.abandoned, 100u);

  const ErlangA exact = erlang_a(agents, offered_load / kHandleS, 1.0 / kHandleS, 1.0 / kPatienceS);
  const Estimate& pwait = q.probability_of_wait;
  const Estimate& abandon = q.abandonment_rate;
  const Estimate& asa = q.asa_s;
  const Estimate& occupancy = results->groups.at(0).occupancy;
  SCOPED_TRACE("N=" + std::to_string(agents) + " a=" + std::to_string(offered_load) +
               ": exact P(wait)=" + std::to_string(exact.p_wait) +
               " P(abandon)=" + std::to_string(exact.p_abandon) +
               " ASA=" + std::to_string(exact.asa_answered) +
               " occupancy=" + std::to_string(exact.occupancy) + "; simulated P(wait)=" +
               std::to_string(pwait.mean) + "±" + std::to_string(pwait.half_width) +
               " P(abandon)=" + std::to_string(abandon.mean) + "±" +
               std::to_string(abandon.half_width) + " ASA=" + std::to_string(asa.mean) + "±" +
               std::to_string(asa.half_width) + " occupancy=" + std::to_string(occupancy.mean) +
               "±" + std::to_string(occupancy.half_width));

  EXPECT_NEAR(pwait.mean, exact.p_wait, pwait.half_width);
  EXPECT_NEAR(abandon.mean, exact.p_abandon, abandon.half_width);
  EXPECT_NEAR(asa.mean, exact.asa_answered, asa.half_width);
  EXPECT_NEAR(occupancy.mean, exact.occupancy, occupancy.half_width);
  // Tight enough to tell: ignoring abandonment (Erlang C) or counting abandoned waits in the
  // ASA would move these figures by more than the intervals.
  EXPECT_LT(pwait.half_width, 0.1 * exact.p_wait + 0.01);
  EXPECT_LT(abandon.half_width, 0.15 * exact.p_abandon + 0.003);
  EXPECT_LT(asa.half_width, 0.15 * exact.asa_answered + 0.3);
}

TEST(LoadtestErlangA, ModerateLoadSeventyPercentOffered) {
  expect_erlang_a(10, 7.0, 40 * 3600.0);
}

TEST(LoadtestErlangA, OfferedLoadEqualToTheAgents) {
  expect_erlang_a(10, 10.0, 30 * 3600.0);
}

TEST(LoadtestErlangA, OverloadedTwentyPercentAboveCapacity) {
  expect_erlang_a(20, 24.0, 20 * 3600.0);
}

// The chain without abandonment (theta -> 0) is Erlang C; with huge patience rate nobody waits
// long enough to be answered late: sanity checks of the numerics above.
TEST(LoadtestErlangA, ChainReducesToErlangCWithoutAbandonment) {
  const ErlangA a = erlang_a(10, 8.0 / 60.0, 1.0 / 60.0, 1e-12);
  EXPECT_NEAR(a.p_wait, 0.4092, 5e-4);
  EXPECT_NEAR(a.asa_answered, 0.4092 / (10.0 / 60.0 - 8.0 / 60.0), 0.05);
  EXPECT_NEAR(a.p_abandon, 0.0, 1e-6);
}

}  // namespace
}  // namespace switchboard::loadtest
