// The load tester's HTML report (tools/loadtest/html_report.hpp): one self-contained, well-formed
// page with the summary tables and six captioned charts; the comparison puts two runs side by side;
// a drive-mode run is described as one (its latency definition, its own section, no simulator).

#include "switchboard/loadtest/html_report.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "loadtest_sample_drive.hpp"
#include "loadtest_sample_results.hpp"
#include "xml_well_formed.hpp"

namespace switchboard::loadtest {
namespace {

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

std::string report(const LoadTestResults& r) {
  std::ostringstream out;
  write_html_report(r, out);
  return out.str();
}

std::string drive_report(const LoadTestResults& r, const DriveFigures* f) {
  std::ostringstream out;
  write_html_report(r, f, out);
  return out.str();
}

std::string comparison(const LoadTestResults& a, const LoadTestResults& b) {
  std::ostringstream out;
  write_html_comparison({"A: round robin", &a}, {"B: highest capacity", &b}, out);
  return out.str();
}

// Everything a page could fetch from elsewhere.
void expect_self_contained(const std::string& html) {
  EXPECT_EQ(count_of(html, "<script"), 0);
  EXPECT_EQ(count_of(html, "<link"), 0);
  EXPECT_EQ(count_of(html, "<img"), 0);
  EXPECT_EQ(count_of(html, "src="), 0);
  EXPECT_EQ(count_of(html, "href"), 0);
  EXPECT_EQ(count_of(html, "url("), 0);
  EXPECT_EQ(count_of(html, "@import"), 0);
  EXPECT_EQ(count_of(html, "@font-face"), 0);
  // The only address is the SVG namespace name of each chart, which is never fetched.
  EXPECT_EQ(count_of(html, "http"), count_of(html, "xmlns=\"http://www.w3.org/2000/svg\""));
}

TEST(LoadtestHtmlReport, IsOneWellFormedSelfContainedPage) {
  const std::string html = report(test::sample_results());
  const test::XmlCheck check = test::check_xml(html, /*allow_doctype=*/true);
  ASSERT_TRUE(check.ok()) << check.error;
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n", 0), 0U);
  EXPECT_EQ(check.count("html"), 1);
  EXPECT_EQ(check.count("style"), 1);
  expect_self_contained(html);
}

TEST(LoadtestHtmlReport, HasTheSixChartsEachWithACaption) {
  const std::string html = report(test::sample_results());
  const test::XmlCheck check = test::check_xml(html, true);
  ASSERT_TRUE(check.ok()) << check.error;
  EXPECT_EQ(check.count("svg"), 6);
  EXPECT_EQ(check.count("figure"), 6);
  EXPECT_EQ(check.count("figcaption"), 6);
  for (const char* title : {"Queue depth over time", "How long customers waited",
                            "Service level per interval", "Occupancy per agent group",
                            "Decisions spread across agents", "Decision latency"}) {
    EXPECT_NE(html.find("<title>" + std::string(title) + "</title>"), std::string::npos) << title;
  }
  // Captions state the definitions.
  EXPECT_NE(html.find("answered within the threshold / (answered + abandoned after the threshold)"),
            std::string::npos);
  EXPECT_NE(html.find("1.3% waited longer than 120 s (not drawn)"), std::string::npos);
  EXPECT_NE(html.find("kernel median 850 ns, 99th 4.20 µs, 99.9th 9.80 µs, longest 23.0 µs"),
            std::string::npos);
}

TEST(LoadtestHtmlReport, SummaryShowsFiguresWithUnitsAndConfidenceIntervals) {
  const std::string html = report(test::sample_results());
  EXPECT_NE(html.find("<th scope=\"row\">Service level: answered within 20 s</th>"), std::string::npos);
  EXPECT_NE(html.find("<td>82.3% <span class=\"ci\">± 1.5 pts</span></td>"), std::string::npos);
  // The overall ASA has no interval (NaN half-width): the value alone.
  EXPECT_NE(html.find("<th scope=\"row\">Average speed of answer (mean wait of the answered)</th>"
                      "<td>12.4 s</td><td>12.4 s <span class=\"ci\">± 0.80 s</span></td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td>1,700</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>2,500,000/s <span class=\"ci\">± 100,000/s</span></td>"), std::string::npos);
  EXPECT_NE(html.find("<td>0.055 <span class=\"ci\">± 0.003</span></td>"), std::string::npos);
  // Names are escaped wherever they appear.
  EXPECT_NE(html.find("Sales &amp; &lt;VIP&gt; (voice)"), std::string::npos);
  EXPECT_EQ(html.find("<VIP>"), std::string::npos);
  EXPECT_NE(html.find("<h1>Load test: two queues &amp; &lt;markup&gt;</h1>"), std::string::npos);
}

TEST(LoadtestHtmlReport, MissingFiguresPrintAsADash) {
  LoadTestResults r = test::sample_results();
  r.overall.wait_s.p99 = std::numeric_limits<double>::quiet_NaN();
  const std::string html = report(r);
  EXPECT_NE(html.find("<th scope=\"row\">Wait, 99th percentile</th><td>-</td>"), std::string::npos);
}

TEST(LoadtestHtmlReport, IsTheSameForTheSameResults) {
  EXPECT_EQ(report(test::sample_results()), report(test::sample_results()));
  EXPECT_NE(report(test::sample_results()), report(test::sample_results(0.05)));
}

TEST(LoadtestHtmlComparison, PutsBothRunsSideBySideWithTheirDifference) {
  const LoadTestResults a = test::sample_results();
  const LoadTestResults b = test::sample_results(0.05);
  const std::string html = comparison(a, b);
  const test::XmlCheck check = test::check_xml(html, true);
  ASSERT_TRUE(check.ok()) << check.error;
  expect_self_contained(html);
  EXPECT_EQ(check.count("svg"), 6);
  EXPECT_EQ(check.count("figcaption"), 6);
  EXPECT_NE(html.find("<th scope=\"col\">A: round robin</th><th scope=\"col\">B: highest capacity</th>"
                      "<th scope=\"col\">Difference (B − A)</th>"),
            std::string::npos);
  // 82.3% -> 87.3%: +5.0 percentage points; ASA 12.4 s -> 11.4 s: -1.00 s.
  EXPECT_NE(html.find("<td>82.3% <span class=\"ci\">± 1.5 pts</span></td><td>87.3% <span "
                      "class=\"ci\">± 1.5 pts</span></td><td class=\"diff\">+5.0 pts</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"diff\">-1.00 s</td>"), std::string::npos);
  // Every chart has a legend entry per run.
  EXPECT_EQ(count_of(html, ">A: round robin</text>") + count_of(html, ">A: round robin: all queues</text>") +
                count_of(html, ">A: round robin: kernel</text>"),
            6);
  EXPECT_EQ(html.find("not of the same scenario"), std::string::npos);
}

TEST(LoadtestHtmlComparison, WarnsWhenTheRunsAreOfDifferentScenarios) {
  const LoadTestResults a = test::sample_results();
  LoadTestResults b = test::sample_results();
  b.scenario_name = "another";
  EXPECT_NE(comparison(a, b).find("not of the same scenario"), std::string::npos);
}

TEST(LoadtestHtmlComparison, LatencyBucketsOfDifferentRangesShareBins) {
  const LoadTestResults a = test::sample_results();
  LoadTestResults b = test::sample_results();
  auto& h = b.engine_figures.latency_histogram_ns;
  h.edges = {4096, 8192, 16384, 32768, 65536, 131072};
  h.counts = {1000, 5000, 2000, 900, 100};
  h.total = 9000;
  const std::string html = comparison(a, b);
  ASSERT_TRUE(test::check_xml(html, true).ok());
  // 0.256 .. 32.8 µs against 4.1 .. 131 µs: shared 1-2-5 bins from 0.1 to 1,000 µs, both runs
  // drawn in them.
  const std::size_t chart = html.find("<title>Decision latency</title>");
  ASSERT_NE(chart, std::string::npos);
  const std::string svg = html.substr(chart, html.find("</svg>", chart) - chart);
  EXPECT_EQ(count_of(svg, ", A: round robin: kernel: "), 12);
  EXPECT_EQ(count_of(svg, ", B: highest capacity: kernel: "), 12);
  // A's 256..512 ns bucket (500 of 9,000 decisions) lies in the 0.2 to 0.5 µs bin.
  EXPECT_NE(svg.find("<title>0.2 to 0.5, A: round robin: kernel: 5.6%</title>"), std::string::npos);
}

// docs/load-testing.md, "Report": what a planner reads about queueing and occupancy is what the
// simulator measures.
TEST(LoadtestHtmlReport, QueueingAndOccupancyAreNamedAsMeasured) {
  const std::string html = report(test::sample_results());
  EXPECT_NE(html.find("<th scope=\"row\">Queued on arrival (not offered at once)</th>"), std::string::npos);
  EXPECT_NE(html.find("<dt>Queued on arrival</dt>"), std::string::npos);
  EXPECT_EQ(html.find("Chance of waiting at all"), std::string::npos);
  // Occupancy: busy with any item over logged-on time, not units in use while available.
  EXPECT_NE(html.find("Busy time over logged-on time of each group&#39;s agents"), std::string::npos)
      << html.substr(html.find("Occupancy per agent group"), 2000);
  EXPECT_NE(html.find("not counted per unit of capacity in use"), std::string::npos);
  EXPECT_EQ(html.find("while agents were on shift and available"), std::string::npos);
  // A simulation has no drive section.
  EXPECT_EQ(html.find("id=\"drive\""), std::string::npos);
}

TEST(LoadtestHtmlReport, DriveRunHasDrivesCaptionsAndSectionAndNotTheSimulators) {
  const LoadTestResults r = test::sample_drive_results();
  const DriveFigures f = test::sample_drive_figures();
  const std::string html = drive_report(r, &f);
  const test::XmlCheck check = test::check_xml(html, true);
  ASSERT_TRUE(check.ok()) << check.error;
  expect_self_contained(html);
  EXPECT_EQ(check.count("svg"), 6);
  EXPECT_EQ(check.count("figcaption"), 6);

  // The latency caption and definition are drive mode's: receipt minus intended send.
  EXPECT_NE(html.find("Corrected for coordinated omission"), std::string::npos);
  EXPECT_NE(html.find("corrected median 41.0 µs, 99th 310.0 µs, 99.9th 2.50 ms, longest 310.0 ms; "
                      "uncorrected (receipt − actual send) median 23.0 µs"),
            std::string::npos);
  EXPECT_NE(html.find("<dt>Send lag</dt>"), std::string::npos);
  EXPECT_NE(html.find("<dt>Uncorrected latency</dt>"), std::string::npos);
  EXPECT_NE(html.find("<th scope=\"row\">Decision latency, corrected, 99th percentile</th><td>310.0 µs</td>"),
            std::string::npos);
  EXPECT_EQ(html.find("Wall time from handing the engine"), std::string::npos);
  EXPECT_EQ(html.find("from being handed the events of one instant"), std::string::npos);
  // The latency chart draws the uncorrected latency beside the corrected.
  EXPECT_NE(html.find(">corrected (receipt − intended send)</text>"), std::string::npos);
  EXPECT_NE(html.find(">uncorrected (receipt − actual send)</text>"), std::string::npos);
  // Nothing of the simulator or of replications.
  EXPECT_EQ(html.find("id=\"simulator\""), std::string::npos);
  EXPECT_EQ(html.find("Simulated items per second"), std::string::npos);
  EXPECT_EQ(html.find("Replications"), std::string::npos);
  EXPECT_EQ(html.find("<th scope=\"row\">Confidence intervals</th>"), std::string::npos);
  EXPECT_NE(html.find("<h2 id=\"engine\">The daemon (switchboardd)</h2>"), std::string::npos);

  // Drive mode's own section: rates, latencies, send lag, the ramp's steps and its result.
  EXPECT_NE(html.find("<h2 id=\"drive\">Drive mode against switchboardd</h2>"), std::string::npos);
  EXPECT_NE(html.find("<th scope=\"row\">Target arrival rate</th><td class=\"text\">200/s</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<th scope=\"row\">Achieved arrival rate (arrivals sent / their span)</th>"
                      "<td class=\"text\">198/s</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<th scope=\"row\">Daemon stalls waited out (longest)</th>"
                      "<td class=\"text\">1 (0.31 s)</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<th scope=\"row\">Median</th><td>41.0 µs</td><td>23.0 µs</td><td>3.00 µs</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<caption>Ramp steps</caption>"), std::string::npos);
  EXPECT_EQ(count_of(html, "<td class=\"text\">sustained</td>"), 2);
  EXPECT_EQ(count_of(html, "<td class=\"text\">fell behind</td>"), 1);
  EXPECT_NE(html.find("<td>42.0 ms</td><td>35</td><td class=\"text\">fell behind</td>"), std::string::npos);
  EXPECT_NE(html.find("Highest rate sustained: <strong>200/s</strong> (the next step fell behind)."),
            std::string::npos);
}

TEST(LoadtestHtmlReport, DriveRunWithoutItsOwnFiguresStillUsesDrivesDefinitions) {
  const std::string html = drive_report(test::sample_drive_results(), nullptr);
  ASSERT_TRUE(test::check_xml(html, true).ok());
  EXPECT_NE(html.find("Corrected for coordinated omission"), std::string::npos);
  EXPECT_EQ(html.find("Wall time from handing the engine"), std::string::npos);
  EXPECT_EQ(html.find("id=\"simulator\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"drive\""), std::string::npos);
}

}  // namespace
}  // namespace switchboard::loadtest
