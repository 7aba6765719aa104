// drive mode (tools/loadtest/drive.hpp) against an in-process shm::Server served by its own thread,
// as switchboardd serves it: every arrival decided, the counts the agents' answers imply, latency
// figures ordered, the daemon left empty, the ramp's stop, a stalled daemon waited out (or given up on), and the errors a user can cause.
// tests/integration/loadtest_drive.sh runs the same against the real switchboardd binary.

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "drive.hpp"
#include "scenario.hpp"
#include "shm_test_host.hpp"
#include "switchboard/shm/client.h"
#include "switchboard/shm/server.hpp"

namespace switchboard::loadtest {
namespace {

using namespace std::chrono_literals;

// Two chat queues, one group of four single-slot agents in both. `answer` and `patience` are
// the TOML of the group's answer behaviour and the queues' patience ("" for none).
std::string scenario_text(const std::string& answer, const std::string& patience) {
  return R"(
name = "drive unit"
[simulation]
horizon_s = 60
interval_s = 10
service_level_thresholds_s = [1]
seed = 11
[routing]
inline = '''
skills = ["billing"]
[channels.chat]
capacity = { units = 1 }
[[queues]]
name = "Billing"
channel = "chat"
method = "least_active"
[[queues]]
name = "Sales"
channel = "chat"
method = "round_robin"
'''
[[queues]]
name = "Billing"
rate_per_hour = 3600
handling = { distribution = "constant", mean_s = 2 }
skill_mix = [{ skills = { billing = 1 } }]
attributes = [{ key = "tier", values = ["gold", "silver"] }]
)" + patience + R"(
[[queues]]
name = "Sales"
rate_per_hour = 3600
handling = { distribution = "exponential", mean_s = 2 }
)" + patience + R"(
[[agents]]
name = "team"
count = 4
skills = { billing = 2 }
queues = ["Billing", "Sales"]
)" + answer + "\n";
}

Scenario load(const std::string& answer = "", const std::string& patience = "") {
  Result<Scenario> s = parse_scenario(scenario_text(answer, patience), "drive-unit.toml");
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
  return s ? std::move(s).value() : Scenario{};
}

// A shm::Server on its own thread with `config`, stopped and unlinked at the end.
class Daemon {
 public:
  explicit Daemon(Config config) {
    shm::ServerOptions o;
    o.name = shm::testing::unique_segment_name();
    o.max_hosts = 4;
    o.in_ring_bytes = 64u << 10;
    o.out_ring_bytes = 256u << 10;
    o.max_record_size = 4096;
    o.stats_interval = 5ms;
    o.host_check_interval = 5ms;
    name_ = o.name;
    Result<shm::Server> server = shm::Server::create(std::move(config), o);
    if (!server) {
      ADD_FAILURE() << server.error().message;
      return;
    }
    server_.emplace(std::move(server).value());
    thread_ = std::thread([this] { server_->run(stop_); });
  }
  ~Daemon() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    server_.reset();
    ::shm_unlink(name_.c_str());
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }

  // Stops serving altogether (no heartbeat, nothing applied) as a SIGSTOPped switchboardd does,
  // then serves again: the segment and everything in it stay as they were.
  void pause() {
    stop_.store(true);
    thread_.join();
  }
  void resume() {
    stop_.store(false);
    thread_ = std::thread([this] { server_->run(stop_); });
  }

  // The daemon's statistics block, read through a client of its own once it has been refreshed
  // after everything sent so far was applied.
  sb_stats stats() const {
    sb_client* c = nullptr;
    sb_stats s{};
    if (sb_client_attach(name_.c_str(), 0, 2000, &c) != SB_OK) {
      ADD_FAILURE() << "cannot attach to read the statistics";
      return s;
    }
    std::this_thread::sleep_for(50ms);  // ten refreshes
    sb_client_stats(c, &s);
    sb_client_detach(c, 2000);
    return s;
  }

 private:
  std::string name_;
  std::optional<shm::Server> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

DriveOptions options_for(const Daemon& d) {
  DriveOptions o;
  o.segment = d.name();
  o.compress = 100;  // a 2 s chat takes 20 ms
  o.drain_s = 5;
  o.attach_timeout_ms = 2000;
  return o;
}

void expect_ordered(const Percentiles& p, const char* what) {
  EXPECT_GT(p.p50, 0.0) << what;
  EXPECT_LE(p.p50, p.p99) << what;
  EXPECT_LE(p.p99, p.p999) << what;
  EXPECT_LE(p.p999, p.max) << what;
}

TEST(LoadtestDriveRamp, ParsesThreePositiveNumbersOnly) {
  Result<RampOptions> r = parse_ramp("100:50.5:2");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->start_per_s, 100.0);
  EXPECT_EQ(r->step_per_s, 50.5);
  EXPECT_EQ(r->step_s, 2.0);
  for (const char* bad : {"", "100", "100:50", "100:50:", "100:50:2:1", "0:50:2", "100:-1:2",
                          "a:b:c", "100:50:2s", "nan:1:1"}) {
    EXPECT_FALSE(parse_ramp(bad).has_value()) << bad;
  }
}

TEST(LoadtestDrive, EveryArrivalIsOfferedAssignedCompletedAndTheDaemonIsLeftEmpty) {
  const Scenario s = load(R"(answer = { accept = 1, response_delay = { distribution = "constant", mean_s = 0.1 } })");
  Daemon daemon(s.config);
  DriveOptions o = options_for(daemon);
  o.rate_per_s = 100;
  o.spacing = ArrivalSpacing::constant;
  o.duration_s = 0.5;
  DriveFigures f;
  Result<LoadTestResults> r = drive(s, o, &f);
  ASSERT_TRUE(r.has_value()) << r.error().message;

  EXPECT_EQ(r->mode, "drive");
  EXPECT_EQ(f.rate_source, "rate");
  EXPECT_EQ(f.arrivals_planned, 50u);  // 100/s for 0.5 s, constant spacing
  EXPECT_EQ(f.arrivals_sent, 50u);
  EXPECT_EQ(f.errors, 0u) << (f.error_samples.empty() ? "" : f.error_samples.front());
  EXPECT_EQ(f.cleanup_errors, 0u);
  EXPECT_EQ(f.arrivals_without_decision, 0u);
  EXPECT_EQ(r->overall.offered, 50u);
  EXPECT_EQ(r->overall.answered, 50u);
  EXPECT_EQ(r->overall.completed, 50u);
  EXPECT_EQ(r->overall.abandoned, 0u);
  EXPECT_EQ(r->queues.size(), 2u);
  EXPECT_EQ(r->queues[0].offered + r->queues[1].offered, 50u);
  EXPECT_EQ(r->groups.at(0).assignments, 50u);
  // Every agent accepts at once: exactly offer, assigned, completed per item, each timed.
  EXPECT_EQ(f.decisions, 150u);
  EXPECT_EQ(r->engine_figures.decisions, 150u);
  EXPECT_EQ(r->engine_figures.latency_ns.count, 150u);
  EXPECT_EQ(f.latency_uncorrected_ns.count, 150u);
  // Arrivals, then an accept and a completion per item from the host.
  EXPECT_EQ(f.host_events_sent, 100u);
  EXPECT_EQ(f.events_sent, 150u);
  expect_ordered(r->engine_figures.latency_ns, "corrected");
  expect_ordered(f.latency_uncorrected_ns, "uncorrected");
  EXPECT_GE(r->engine_figures.latency_ns.p50, f.latency_uncorrected_ns.p50);
  EXPECT_GE(r->engine_figures.latency_ns.max, f.latency_uncorrected_ns.max);
  EXPECT_GT(f.decisions_per_s, 0.0);
  // Waits are scenario seconds: at least the 0.1 s of ringing of every offer.
  EXPECT_GE(r->overall.wait_s.p50, 0.1);
  EXPECT_LT(r->overall.wait_s.p50, 60.0);

  const sb_stats after = daemon.stats();
  EXPECT_EQ(after.agents, 0u);
  EXPECT_EQ(after.live_items, 0u);
  EXPECT_EQ(after.events_refused, 0u);
}

TEST(LoadtestDrive, DeclinesTimeoutsAndAbandonmentsAreSentAndCountedWithoutErrors) {
  const Scenario s = load(
      R"(answer = { accept = 0.4, decline = 0.3, no_answer = 0.3, response_delay = { distribution = "constant", mean_s = 0.5 }, no_answer_timeout_s = 1 })",
      R"(patience = { distribution = "exponential", mean_s = 2 })");
  Daemon daemon(s.config);
  DriveOptions o = options_for(daemon);
  o.rate_per_s = 200;
  o.duration_s = 0.5;
  DriveFigures f;
  Result<LoadTestResults> r = drive(s, o, &f);
  ASSERT_TRUE(r.has_value()) << r.error().message;

  EXPECT_EQ(f.errors, 0u) << (f.error_samples.empty() ? "" : f.error_samples.front());
  EXPECT_EQ(f.cleanup_errors, 0u);
  EXPECT_EQ(f.arrivals_without_decision, 0u);
  EXPECT_GT(f.arrivals_sent, 50u);
  EXPECT_EQ(r->overall.offered, f.arrivals_sent);
  EXPECT_EQ(r->overall.answered + r->overall.abandoned, r->overall.offered);
  EXPECT_GT(r->overall.declines, 0u);
  EXPECT_GT(r->overall.offer_timeouts, 0u);
  EXPECT_GT(r->overall.abandoned, 0u);
  EXPECT_GT(r->overall.answered, 0u);
  EXPECT_EQ(r->overall.completed, r->overall.answered);

  const sb_stats after = daemon.stats();
  EXPECT_EQ(after.agents, 0u);
  EXPECT_EQ(after.live_items, 0u);
  EXPECT_EQ(after.events_refused, 0u);
}

TEST(LoadtestDrive, RampThatCannotMeetItsBoundStopsAfterItsFirstStep) {
  const Scenario s = load();
  Daemon daemon(s.config);
  DriveOptions o = options_for(daemon);
  o.ramp = RampOptions{100, 100, 0.3};
  o.duration_s = 3;
  o.max_p99_ms = 0.001;  // 1 us: no round trip through the rings is that fast
  DriveFigures f;
  Result<LoadTestResults> r = drive(s, o, &f);
  ASSERT_TRUE(r.has_value()) << r.error().message;

  EXPECT_TRUE(f.fell_behind);
  EXPECT_EQ(f.sustained_rate_per_s, 0.0);
  ASSERT_EQ(f.steps.size(), 1u);
  EXPECT_TRUE(f.steps[0].evaluated);
  EXPECT_FALSE(f.steps[0].sustained);
  EXPECT_GT(f.steps[0].latency_ns.p99, 1000.0);
  EXPECT_LT(f.arrivals_sent, f.arrivals_planned);
  EXPECT_EQ(f.errors, 0u);
  EXPECT_EQ(f.arrivals_without_decision, 0u);
}

TEST(LoadtestDrive, RampWithinItsBoundRunsEveryStepAndReportsTheHighestSustained) {
  const Scenario s = load();
  Daemon daemon(s.config);
  DriveOptions o = options_for(daemon);
  o.ramp = RampOptions{20, 20, 0.3};
  o.duration_s = 0.9;
  o.max_p99_ms = 5000;
  DriveFigures f;
  Result<LoadTestResults> r = drive(s, o, &f);
  ASSERT_TRUE(r.has_value()) << r.error().message;

  EXPECT_FALSE(f.fell_behind);
  ASSERT_EQ(f.steps.size(), 3u);
  EXPECT_EQ(f.steps[0].rate_per_s, 20.0);
  EXPECT_EQ(f.steps[2].rate_per_s, 60.0);
  EXPECT_TRUE(f.steps[0].evaluated && f.steps[0].sustained);
  EXPECT_TRUE(f.steps[1].evaluated && f.steps[1].sustained);
  EXPECT_GE(f.sustained_rate_per_s, 40.0);
  EXPECT_EQ(f.arrivals_sent, f.arrivals_planned);
  EXPECT_EQ(f.errors, 0u);
}

TEST(LoadtestDrive, DaemonWithoutTheScenariosQueueIsRefusedByName) {
  const Scenario s = load();
  Config other = s.config;
  other.queues.pop_back();  // no "Sales"
  Daemon daemon(other);
  Result<LoadTestResults> r = drive(s, options_for(daemon));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::config_unknown_reference);
  EXPECT_NE(r.error().message.find("queue \"Sales\""), std::string::npos) << r.error().message;
}

TEST(LoadtestDrive, NoDaemonAtTheSegmentIsAnError) {
  const Scenario s = load();
  DriveOptions o;
  o.segment = shm::testing::unique_segment_name();
  o.attach_timeout_ms = 0;
  Result<LoadTestResults> r = drive(s, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::config_io);
  EXPECT_NE(r.error().message.find(o.segment), std::string::npos) << r.error().message;
}

TEST(LoadtestDrive, InvalidOptionsAreRefusedBeforeAttaching) {
  const Scenario s = load();
  DriveOptions o;
  o.segment = "/sb-never-attached";
  o.compress = 0;
  EXPECT_EQ(drive(s, o).error().code, ErrorCode::config_invalid_value);
  o.compress = 1;
  o.rate_per_s = 10;
  o.ramp = RampOptions{1, 1, 1};
  EXPECT_EQ(drive(s, o).error().code, ErrorCode::config_invalid_value);
}

}  // namespace
}  // namespace switchboard::loadtest

namespace switchboard::loadtest {
namespace {

// docs/protocol.md, "Noticing": a daemon whose heartbeat stands still may be stalled, not dead.
// 0.3 s without a heartbeat (switchboardd's 10 ms heartbeat is stale after 50 ms) is waited
// out: the run finishes with every arrival decided and the daemon left empty, and the stall is
// in the corrected latency, which is what the correction is for.
TEST(LoadtestDriveStall, DaemonPausedShorterThanTheTimeoutIsWaitedOutAndEveryArrivalDecided) {
  const Scenario s = load(R"(answer = { accept = 1, response_delay = { distribution = "constant", mean_s = 0.1 } })");
  Daemon daemon(s.config);
  DriveOptions o = options_for(daemon);
  o.rate_per_s = 100;
  o.spacing = ArrivalSpacing::constant;
  o.duration_s = 1.0;
  o.daemon_stall_timeout_ms = 3000;
  std::thread pauser([&daemon] {
    std::this_thread::sleep_for(300ms);
    daemon.pause();
    std::this_thread::sleep_for(300ms);
    daemon.resume();
  });
  DriveFigures f;
  Result<LoadTestResults> r = drive(s, o, &f);
  pauser.join();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(f.arrivals_sent, 100u);
  EXPECT_EQ(f.arrivals_without_decision, 0u);
  EXPECT_EQ(f.errors, 0u) << (f.error_samples.empty() ? "" : f.error_samples.front());
  EXPECT_EQ(f.cleanup_errors, 0u);
  EXPECT_EQ(r->overall.answered, 100u);
  EXPECT_EQ(r->overall.completed, 100u);
  EXPECT_GE(f.daemon_stalls, 1u);
  // Noticed at the earliest 50 ms into the pause, over when it ends.
  EXPECT_GE(f.longest_daemon_stall_s, 0.2);
  EXPECT_LT(f.longest_daemon_stall_s, 3.0);
  // Arrivals due during the pause were answered after it: their corrected latency holds the
  // rest of the pause.
  EXPECT_GE(r->engine_figures.latency_ns.max, 0.2e9);

  const sb_stats after = daemon.stats();
  EXPECT_EQ(after.agents, 0u);
  EXPECT_EQ(after.live_items, 0u);
}

// A stall longer than --daemon-stall-timeout-ms is a daemon gone, as before: the run fails and
// says why.
TEST(LoadtestDriveStall, DaemonPausedLongerThanTheTimeoutIsGivenUpOn) {
  const Scenario s = load(R"(answer = { accept = 1 })");
  Daemon daemon(s.config);
  DriveOptions o = options_for(daemon);
  o.rate_per_s = 100;
  o.duration_s = 2.0;
  o.daemon_stall_timeout_ms = 100;
  std::thread pauser([&daemon] {
    std::this_thread::sleep_for(200ms);
    daemon.pause();
    std::this_thread::sleep_for(1500ms);
    daemon.resume();
  });
  const auto started = std::chrono::steady_clock::now();
  Result<LoadTestResults> r = drive(s, o);
  const auto took = std::chrono::steady_clock::now() - started;
  pauser.join();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::config_io);
  EXPECT_NE(r.error().message.find("--daemon-stall-timeout-ms"), std::string::npos) << r.error().message;
  // Given up during the pause, not after it.
  EXPECT_LT(took, 1500ms);
}

TEST(LoadtestDriveStall, NegativeStallTimeoutIsRefused) {
  const Scenario s = load();
  DriveOptions o;
  o.segment = "/sb-drive-unit-no-such-segment";
  o.daemon_stall_timeout_ms = -1;
  Result<LoadTestResults> r = drive(s, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::config_invalid_value);
}

}  // namespace
}  // namespace switchboard::loadtest
