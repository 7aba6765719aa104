// The load tester's progress report (tools/loadtest/progress.hpp): the estimate of the time
// left, the bar and line formats, and several threads advancing one Progress.

#include "switchboard/loadtest/progress.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::loadtest {
namespace {

// What was written to a temporary file (not a terminal).
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

TEST(ProgressEstimate, TimeLeftIsElapsedTimesWhatRemainsOverWhatIsDone) {
  EXPECT_DOUBLE_EQ(*estimate_remaining_s(25, 100, 10.0), 30.0);
  EXPECT_DOUBLE_EQ(*estimate_remaining_s(90, 100, 9.0), 1.0);
  EXPECT_EQ(*estimate_remaining_s(100, 100, 5.0), 0.0);
  EXPECT_FALSE(estimate_remaining_s(0, 100, 5.0).has_value());
  // Too early to say: under a second and under 1%.
  EXPECT_FALSE(estimate_remaining_s(5, 1000, 0.2).has_value());
  EXPECT_TRUE(estimate_remaining_s(5, 1000, 1.5).has_value());
  EXPECT_TRUE(estimate_remaining_s(20, 1000, 0.2).has_value());
}

TEST(ProgressFormat, DurationsReadAsSecondsMinutesOrHours) {
  EXPECT_EQ(format_duration(0.4), "0 s");
  EXPECT_EQ(format_duration(45.2), "45 s");
  EXPECT_EQ(format_duration(187.0), "3:07");
  EXPECT_EQ(format_duration(3723.0), "1:02:03");
  EXPECT_EQ(format_duration(-3.0), "0 s");
}

TEST(ProgressFormat, BarFillsInProportionAndSaysTheTimeLeft) {
  EXPECT_EQ(format_bar("simulating", 45, 100, 12.0, 20),
            "simulating [#########...........]  45%  12 s elapsed, about 15 s left");
  EXPECT_EQ(format_bar("x", 0, 100, 0.1, 4), "x [....]   0%  0 s elapsed, estimating the time left");
  EXPECT_EQ(format_bar("x", 100, 100, 61.0, 4), "x [####] 100%  1:01 elapsed");
  // Nothing to do is done.
  EXPECT_EQ(format_bar("x", 0, 0, 0.0, 4), "x [####] 100%  0 s elapsed");
}

TEST(ProgressFormat, PlainLineSaysHowMuchOfWhatAndTheTimeLeft) {
  EXPECT_EQ(format_progress_line("simulating", 4000, 10000, 12.0),
            "simulating: 40% (4,000 of 10,000) after 12 s, about 18 s left");
  EXPECT_EQ(format_progress_line("simulating", 10000, 10000, 30.0),
            "simulating: 100% (10,000 of 10,000) after 30 s");
}

TEST(Progress, NotATerminalGivesPlainLines) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p("run", 10, f);
    EXPECT_EQ(p.style(), ProgressStyle::lines);
    p.advance(10);
  }
  const std::string text = contents(f);
  std::fclose(f);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(split_lines(text).back(), "run: 100% (10 of 10) after 0 s");
}

TEST(Progress, ThreadsAdvancingTogetherCountEveryUnitAndLinesRiseByTens) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPerThread = 300;
  {
    Progress p("replications", kThreads * kPerThread, f, ProgressStyle::lines,
               std::chrono::milliseconds(1));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&p] {
        for (std::uint64_t i = 0; i < kPerThread; ++i) {
          p.advance(1);
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(p.done(), kThreads * kPerThread);
    p.finish();
    p.finish();  // idempotent: no second final line
  }
  const std::string text = contents(f);
  std::fclose(f);
  static const std::regex line_re(R"(^replications: (\d+)% \(([0-9,]+) of 1,200\) after .*)");
  int previous = -1;
  int hundreds = 0;
  const std::vector<std::string> lines = split_lines(text);
  ASSERT_GE(lines.size(), 2U) << text;  // a run of ~75 ms with 1 ms refreshes reports on the way
  for (const std::string& line : lines) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, line_re)) << line;
    // One line per 10% step at most: each line is in a higher step than the one before.
    const int percent = std::stoi(m[1]);
    EXPECT_GT(percent / 10, previous) << text;
    hundreds += percent == 100 ? 1 : 0;
    previous = percent / 10;
  }
  EXPECT_EQ(hundreds, 1);
  EXPECT_EQ(lines.back().rfind("replications: 100% (1,200 of 1,200)", 0), 0U);
}

TEST(Progress, BarRedrawsInPlaceAndEndsWithANewline) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p("sim", 100, f, ProgressStyle::bar, std::chrono::milliseconds(1));
    for (int i = 0; i < 10; ++i) {
      p.advance(10);
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  }
  const std::string text = contents(f);
  std::fclose(f);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.front(), '\r');
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line, redrawn
  const std::size_t last = text.rfind('\r');
  EXPECT_EQ(text.substr(last + 1, 44), "sim [##############################] 100%  0");
}

TEST(Progress, ReportRaisesTheCountAndNeverLowersIt) {
  Progress p("sim", 100, nullptr);
  p.report(40);
  EXPECT_EQ(p.done(), 40U);
  p.report(30);
  EXPECT_EQ(p.done(), 40U);
  p.advance(5);
  p.report(60);
  EXPECT_EQ(p.done(), 60U);
}

TEST(Progress, OffWritesNothing) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p("sim", 100, f, ProgressStyle::off);
    p.advance(100);
    EXPECT_EQ(p.done(), 100U);
  }
  EXPECT_EQ(contents(f), "");
  std::fclose(f);
}

}  // namespace
}  // namespace switchboard::loadtest
