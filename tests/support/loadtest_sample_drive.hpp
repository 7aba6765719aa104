#pragma once
// A drive-mode run filled by hand (tools/loadtest/drive.hpp): the sample results of
// loadtest_sample_results.hpp as drive() leaves them (mode "drive", the daemon as the engine, one
// run, no batches) and drive mode's own figures of a three-step ramp whose third step fell
// behind, for tests of the writers (the HTML report, the summary table).

#include "drive.hpp"
#include "loadtest_sample_results.hpp"

namespace switchboard::test {

inline loadtest::LoadTestResults sample_drive_results() {
  loadtest::LoadTestResults r = sample_results();
  r.mode = "drive";
  r.engine = "switchboardd";
  r.warmup_s = 0.0;
  r.replications = 1;
  r.seeds = {42};
  r.per_replication.resize(1);
  auto& e = r.engine_figures;
  e.engine = "switchboardd";
  e.batches = 0;
  e.decisions_per_s = sample_estimate(1234.5, std::numeric_limits<double>::quiet_NaN());
  // Corrected latency: tens of microseconds, one stall of 0.3 s.
  e.latency_ns = {41000.0, 90000.0, 120000.0, 310000.0, 2.5e6, 3.1e8, 60000.0, 9000};
  r.simulator.threads = 2;
  r.simulator.items_per_s = 320.0;
  return r;
}

inline loadtest::DriveFigures sample_drive_figures() {
  loadtest::DriveFigures f;
  f.segment = "/sb-sample";
  f.compress = 20.0;
  f.spacing = "poisson";
  f.rate_source = "ramp";
  f.target_rate_per_s = 200.0;
  f.duration_s = 6.0;
  f.run_wall_s = 7.5;
  f.arrivals_planned = 1400;
  f.arrivals_sent = 1190;
  f.arrivals_per_s = 1190.0 / 6.0;
  f.events_sent = 3570;
  f.host_events_sent = 2380;
  f.decisions = 9000;
  f.decisions_per_s = 1200.0;
  f.ring_full_retries = 17;
  f.daemon_stalls = 1;
  f.longest_daemon_stall_s = 0.31;
  f.latency_ns = {41000.0, 90000.0, 120000.0, 310000.0, 2.5e6, 3.1e8, 60000.0, 9000};
  f.latency_uncorrected_ns = {23000.0, 51000.0, 70000.0, 150000.0, 900000.0, 2.9e8, 30000.0, 9000};
  f.latency_uncorrected_histogram_ns.edges = {16384, 32768, 65536, 131072, 262144};
  f.latency_uncorrected_histogram_ns.counts = {4000, 3000, 1500, 400};
  f.latency_uncorrected_histogram_ns.overflow = 100;
  f.latency_uncorrected_histogram_ns.total = 9000;
  f.send_lag_ns = {3000.0, 8000.0, 11000.0, 45000.0, 300000.0, 3.0e8, 9000.0, 3570};
  for (int k = 0; k < 3; ++k) {
    loadtest::DriveStep s;
    s.rate_per_s = 100.0 + 100.0 * k;
    s.start_s = 2.0 * k;
    s.end_s = 2.0 * (k + 1);
    s.arrivals = static_cast<std::uint64_t>(s.rate_per_s * 2);
    s.decisions = s.arrivals * 3;
    s.latency_ns.p99 = k < 2 ? 200000.0 : 4.2e7;
    s.backlog_at_end = k < 2 ? 0 : 35;
    s.evaluated = true;
    s.sustained = k < 2;
    f.steps.push_back(s);
  }
  f.sustained_rate_per_s = 200.0;
  f.fell_behind = true;
  return f;
}

}  // namespace switchboard::test
