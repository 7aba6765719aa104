// The summary table printed at the end of a run (results_writers.hpp, summary_table): the
// queueing column named for what it counts, and a drive-mode run described as one (its latency
// definition, no batches, no simulator line).

#include <gtest/gtest.h>

#include <string>

#include "loadtest_sample_drive.hpp"
#include "loadtest_sample_results.hpp"
#include "switchboard/loadtest/results_writers.hpp"

namespace switchboard::loadtest {
namespace {

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

TEST(LoadtestSummaryTable, SimulationShowsBatchLatencyAndTheSimulator) {
  const std::string table = summary_table(test::sample_results());
  EXPECT_TRUE(has(table, "P(queue)")) << table;
  EXPECT_FALSE(has(table, "P(wait)")) << table;
  EXPECT_TRUE(has(table, "Engine kernel: 2.50 ±0.10M decisions/s (9,000 decisions, 25,000 events in 20,000 batches, no errors)"))
      << table;
  EXPECT_TRUE(has(table, "Decision latency (µs, per batch): p50 ")) << table;
  EXPECT_TRUE(has(table, "Simulator: 9,500 items in 0.90 s wall (2 threads)")) << table;
  EXPECT_TRUE(has(table, "confidence half-width over replications")) << table;
}

TEST(LoadtestSummaryTable, DriveRunShowsCorrectedLatencyAndNeitherBatchesNorSimulator) {
  const std::string table = summary_table(test::sample_drive_results());
  EXPECT_TRUE(has(table, "Daemon switchboardd: 1234.5 decisions/s over the run's wall time "
                         "(9,000 decisions, 25,000 events sent, no errors)"))
      << table;
  EXPECT_TRUE(has(table, "Decision latency (µs, corrected: receipt - intended send): p50 41.0  p99 310.0"))
      << table;
  EXPECT_TRUE(has(table, "in real time against the daemon: one run, no warm-up")) << table;
  EXPECT_FALSE(has(table, "per batch")) << table;
  EXPECT_FALSE(has(table, "batches")) << table;
  EXPECT_FALSE(has(table, "Simulator")) << table;
  EXPECT_FALSE(has(table, "items/s per thread")) << table;
  EXPECT_FALSE(has(table, "over replications")) << table;
  EXPECT_TRUE(has(table, "P(queue)")) << table;
}

}  // namespace
}  // namespace switchboard::loadtest
