// The load tester's SVG charts (tools/loadtest/svg_chart.hpp): ticks at nice numbers, labels,
// escaping, well-formed output, and values drawn where the axes say they are.

#include "switchboard/loadtest/svg_chart.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "xml_well_formed.hpp"

namespace switchboard::loadtest::svg {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<std::string> tick_labels(const std::string& svg) {
  static const std::regex re("<text class=\"tick-label\"[^>]*>([^<]*)</text>");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

// The y pixel of the grid line labelled `label` on the y axis.
double grid_y(const std::string& svg, const std::string& label) {
  const std::regex re("<line class=\"grid\" x1=\"[^\"]*\" y1=\"([^\"]*)\"[^>]*/><text "
                      "class=\"tick-label\"[^>]*>" +
                      label + "</text>");
  std::smatch m;
  if (!std::regex_search(svg, m, re)) return kNaN;
  return std::stod(m[1]);
}

// The (x, y) pixel pairs of every <polyline> in order.
std::vector<std::vector<std::pair<double, double>>> polylines(const std::string& svg) {
  static const std::regex line_re("<polyline class=\"line\" points=\"([^\"]*)\"");
  static const std::regex point_re("(-?[0-9.]+),(-?[0-9.]+)");
  std::vector<std::vector<std::pair<double, double>>> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), line_re);
       it != std::sregex_iterator(); ++it) {
    const std::string points = (*it)[1];
    auto& line = out.emplace_back();
    for (auto p = std::sregex_iterator(points.begin(), points.end(), point_re);
         p != std::sregex_iterator(); ++p) {
      line.emplace_back(std::stod((*p)[1]), std::stod((*p)[2]));
    }
  }
  return out;
}

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

TEST(SvgNiceTicks, StepIsOneTwoOrFiveTimesAPowerOfTenAndCoversTheRange) {
  const Ticks a = nice_ticks(0.0, 97.0, 5);
  EXPECT_EQ(a.step, 20.0);
  EXPECT_EQ(a.values, (std::vector<double>{0, 20, 40, 60, 80, 100}));

  const Ticks b = nice_ticks(3.0, 17.0, 4);
  EXPECT_EQ(b.step, 5.0);
  EXPECT_EQ(b.values, (std::vector<double>{0, 5, 10, 15, 20}));

  const Ticks c = nice_ticks(-7.0, 12.0, 4);
  EXPECT_EQ(c.step, 5.0);
  EXPECT_EQ(c.lo, -10.0);
  EXPECT_EQ(c.hi, 15.0);

  const Ticks d = nice_ticks(1234.0, 98765.0, 5);
  EXPECT_EQ(d.step, 20000.0);
  EXPECT_EQ(d.lo, 0.0);
  EXPECT_EQ(d.hi, 100000.0);
}

TEST(SvgNiceTicks, FractionalStepsLandExactlyOnDecimals) {
  const Ticks t = nice_ticks(0.0, 0.83, 5);
  EXPECT_EQ(t.step, 0.2);
  ASSERT_EQ(t.values.size(), 6U);
  // 3 * 0.2 would be 0.6000000000000001; the ticks are the doubles nearest the decimals.
  EXPECT_EQ(t.values[3], 0.6);
  EXPECT_EQ(t.values[5], 1.0);

  const Ticks u = nice_ticks(0.91, 0.99, 4);
  EXPECT_EQ(u.step, 0.02);
  EXPECT_EQ(u.values.front(), 0.9);
  EXPECT_EQ(u.values.back(), 1.0);
}

TEST(SvgNiceTicks, EmptyRangeWidensToAUnit) {
  const Ticks t = nice_ticks(5.0, 5.0, 5);
  EXPECT_LE(t.lo, 5.0);
  EXPECT_GE(t.hi, 6.0);
  EXPECT_GE(t.values.size(), 2U);
}

TEST(SvgClockTicks, TicksFallOnWholeMultiplesOfTheStepInTimeOfDay) {
  const double origin = 8 * 3600 + 7 * 60;  // 08:07
  const Ticks t = clock_ticks(0.0, 1800.0, 4, origin);
  EXPECT_EQ(t.step, 600.0);
  for (double v : t.values) EXPECT_EQ(std::fmod(v + origin, 600.0), 0.0) << v;
  EXPECT_LE(t.lo, 0.0);
  EXPECT_GE(t.hi, 1800.0);

  Axis axis;
  axis.format = AxisFormat::clock;
  axis.clock_origin_s = origin;
  EXPECT_EQ(format_tick(t.values.front(), t.step, axis), "08:00");
  EXPECT_EQ(format_tick(t.values.back(), t.step, axis), "08:40");

  const Ticks day = clock_ticks(0.0, 8 * 3600.0, 8, 0.0);
  EXPECT_EQ(day.step, 3600.0);
  EXPECT_EQ(day.values.size(), 9U);
}

TEST(SvgLogTicks, DecadesAndTwoAndFiveWhenTheRangeIsShort) {
  EXPECT_EQ(log_ticks(3.0, 4000.0).values, (std::vector<double>{1, 10, 100, 1000, 10000}));
  EXPECT_EQ(log_ticks(15.0, 800.0).values,
            (std::vector<double>{10, 20, 50, 100, 200, 500, 1000}));
  EXPECT_EQ(log_ticks(0.02, 0.3).values, (std::vector<double>{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1}));
}

TEST(SvgFormatTick, DecimalsFollowTheStepAndLargeNumbersTakeSuffixes) {
  const Axis number;
  EXPECT_EQ(format_tick(2.5, 0.5, number), "2.5");
  EXPECT_EQ(format_tick(3.0, 0.5, number), "3.0");
  EXPECT_EQ(format_tick(1500.0, 500.0, number), "1,500");
  EXPECT_EQ(format_tick(15000.0, 5000.0, number), "15k");
  EXPECT_EQ(format_tick(4e6, 2e6, number), "4M");
  EXPECT_EQ(format_tick(0.05, 0.05, number), "0.05");

  Axis percent;
  percent.format = AxisFormat::percent;
  EXPECT_EQ(format_tick(0.8, 0.2, percent), "80%");
  EXPECT_EQ(format_tick(0.95, 0.05, percent), "95%");
  EXPECT_EQ(format_tick(0.925, 0.005, percent), "92.5%");

  Axis clock;
  clock.format = AxisFormat::clock;
  clock.clock_origin_s = 9 * 3600;
  EXPECT_EQ(format_tick(30.0, 30.0, clock), "09:00:30");
  EXPECT_EQ(format_tick(86400.0, 3600.0, clock), "09:00");  // a day later reads the same
}

TEST(SvgFormatNumber, ThousandsSeparatedAndNoNegativeZero) {
  EXPECT_EQ(format_number(1234567.891, 2), "1,234,567.89");
  EXPECT_EQ(format_number(-1234.0, 0), "-1,234");
  EXPECT_EQ(format_number(-0.0001, 2), "0.00");
  EXPECT_EQ(format_number(999.0, 0), "999");
  EXPECT_EQ(format_number(kNaN, 1), "n/a");
}

TEST(SvgEscape, AllFiveMarkupCharactersBecomeEntities) {
  EXPECT_EQ(escape_xml("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
  EXPECT_EQ(escape_xml("plain: 80/20 in 20 s"), "plain: 80/20 in 20 s");
}

LineChart two_series_chart() {
  LineChart chart;
  chart.title = "Queue depth <sales> & \"support\"";
  chart.x.label = "time (h:mm)";
  chart.x.format = AxisFormat::clock;
  chart.x.min = 0.0;
  chart.x.max = 3600.0;
  chart.y.label = "people waiting";
  chart.series.push_back({"sales & <co>", {0, 900, 1800, 2700, 3600}, {0, 40, 97, 20, 5}, {}, {}});
  chart.series.push_back({"support", {0, 900, 1800, 2700, 3600}, {3, 10, 20, 30, 40}, {}, {}});
  chart.reference_lines.push_back({"limit 'fifty'", 50.0});
  return chart;
}

TEST(SvgLineChart, IsOneWellFormedSvgElementWithItsTextEscaped) {
  const std::string svg = render(two_series_chart());
  const test::XmlCheck check = test::check_xml(svg);
  ASSERT_TRUE(check.ok()) << check.error << "\n" << svg;
  EXPECT_EQ(check.count("svg"), 1);
  EXPECT_EQ(check.count("polyline"), 2);
  EXPECT_EQ(check.count("script"), 0);
  EXPECT_NE(svg.find("Queue depth &lt;sales&gt; &amp; &quot;support&quot;"), std::string::npos);
  EXPECT_NE(svg.find(">sales &amp; &lt;co&gt;</text>"), std::string::npos);
  EXPECT_NE(svg.find("limit &#39;fifty&#39;"), std::string::npos);
  EXPECT_EQ(svg.find("<co>"), std::string::npos);
  // Nothing is fetched from elsewhere: the only URL is the SVG namespace name.
  EXPECT_EQ(count_of(svg, "http"), 1);
  EXPECT_EQ(svg.find("href"), std::string::npos);
  // Two series and a reference line: three legend entries.
  EXPECT_EQ(count_of(svg, "class=\"legend-entry\""), 3);
}

TEST(SvgLineChart, YTicksAtNiceNumbersAndXTicksOnTheClock) {
  const std::vector<std::string> labels = tick_labels(render(two_series_chart()));
  // y: 0..97 and the reference at 50 -> 0, 20, ..., 100; x: 00:00 .. 01:00 in at most six
  // steps (626 px of plot at ~90 px per label) -> every 10 minutes.
  const std::vector<std::string> expected = {"0",     "20",    "40",    "60",    "80",
                                             "100",   "00:00", "00:10", "00:20", "00:30",
                                             "00:40", "00:50", "01:00"};
  EXPECT_EQ(labels, expected);
}

TEST(SvgLineChart, PointsLieOnTheGridLinesOfTheirValues) {
  const std::string svg = render(two_series_chart());
  const auto lines = polylines(svg);
  ASSERT_EQ(lines.size(), 2U);
  ASSERT_EQ(lines[0].size(), 5U);
  // The first series' second point is 40, the second series' last point is 40, both on the
  // grid line labelled 40; 0 is on the line labelled 0.
  EXPECT_DOUBLE_EQ(lines[0][1].second, grid_y(svg, "40"));
  EXPECT_DOUBLE_EQ(lines[1][4].second, grid_y(svg, "40"));
  EXPECT_DOUBLE_EQ(lines[0][0].second, grid_y(svg, "0"));
  EXPECT_DOUBLE_EQ(lines[1][2].second, grid_y(svg, "20"));
  // x: equally spaced times are equally spaced pixels, left to right.
  const double dx = lines[0][1].first - lines[0][0].first;
  EXPECT_GT(dx, 0.0);
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_NEAR(lines[0][i].first - lines[0][i - 1].first, dx, 0.11);
  }
}

TEST(SvgLineChart, MissingValuesBreakTheLine) {
  LineChart chart;
  chart.series.push_back({"a", {0, 1, 2, 3, 4, 5}, {1, 2, kNaN, 4, 5, 6}, {}, {}});
  chart.series.push_back({"b", {0, 1, 2}, {kNaN, 3, kNaN}, {}, {}});
  const std::string svg = render(chart);
  ASSERT_TRUE(test::check_xml(svg).ok());
  EXPECT_EQ(polylines(svg).size(), 2U);       // a: [0, 1] and [3, 5]
  EXPECT_EQ(count_of(svg, "<circle"), 1);     // b: a lone point
}

TEST(SvgLineChart, StepsHoldEachValueUntilTheNextSample) {
  LineChart chart;
  chart.steps = true;
  chart.series.push_back({"depth", {0, 10, 20}, {1, 3, 2}, {}, {}});
  const auto lines = polylines(render(chart));
  ASSERT_EQ(lines.size(), 1U);
  // (0,1) (10,1) (10,3) (20,3) (20,2)
  ASSERT_EQ(lines[0].size(), 5U);
  EXPECT_EQ(lines[0][0].second, lines[0][1].second);
  EXPECT_EQ(lines[0][1].first, lines[0][2].first);
  EXPECT_EQ(lines[0][2].second, lines[0][3].second);
}

TEST(SvgLineChart, FixedAxisEndsKeepEveryPointInsideThePlot) {
  LineChart chart;
  chart.y.format = AxisFormat::percent;
  chart.y.min = 0.0;
  chart.y.max = 1.0;
  chart.series.push_back({"sl", {0, 1, 2}, {0.5, 1.7, -0.2}, {}, {}});
  const std::string svg = render(chart);
  const double top = grid_y(svg, "100%");
  const double bottom = grid_y(svg, "0%");
  ASSERT_TRUE(std::isfinite(top) && std::isfinite(bottom));
  const auto lines = polylines(svg);
  ASSERT_EQ(lines.size(), 1U);
  for (const auto& [x, y] : lines[0]) {
    EXPECT_GE(y, top);
    EXPECT_LE(y, bottom);
  }
}

TEST(SvgLineChart, ConfidenceBandIsDrawnBehindTheLine) {
  LineChart chart;
  chart.series.push_back({"mean", {0, 1, 2}, {5, 6, 7}, {4, 5, 6}, {6, 7, 8}});
  const std::string svg = render(chart);
  ASSERT_TRUE(test::check_xml(svg).ok());
  const std::size_t band = svg.find("<polygon class=\"band\"");
  ASSERT_NE(band, std::string::npos);
  EXPECT_LT(band, svg.find("<polyline"));
}

TEST(SvgLineChart, NoDataSaysSo) {
  LineChart chart;
  chart.title = "empty";
  const std::string svg = render(chart);
  EXPECT_TRUE(test::check_xml(svg).ok());
  EXPECT_NE(svg.find(">no data</text>"), std::string::npos);
}

TEST(SvgBarChart, OneBarPerCategoryAndSeriesWithTooltipsAndErrorBars) {
  BarChart chart;
  chart.title = "Occupancy";
  chart.categories = {"tier 1", "tier 2", "back <office>"};
  chart.y.format = AxisFormat::percent;
  chart.y.max = 1.0;
  chart.series.push_back({"A", {0.8, 0.9, 0.5}, {0.75, 0.85, 0.45}, {0.85, 0.95, 0.55}});
  chart.series.push_back({"B", {0.7, kNaN, 0.6}, {}, {}});
  const std::string svg = render(chart);
  const test::XmlCheck check = test::check_xml(svg);
  ASSERT_TRUE(check.ok()) << check.error;
  EXPECT_EQ(count_of(svg, "class=\"bar\""), 5);  // the NaN is left out
  EXPECT_EQ(count_of(svg, "class=\"error-bar\""), 3);
  EXPECT_NE(svg.find("<title>tier 2, A: 90.0%</title>"), std::string::npos);
  EXPECT_NE(svg.find(">back &lt;office&gt;</text>"), std::string::npos);
  const std::vector<std::string> labels = tick_labels(svg);
  EXPECT_EQ(labels.front(), "0%");
  EXPECT_EQ(labels[5], "100%");
}

TEST(SvgBarChart, BarsRiseFromZeroToTheirValue) {
  BarChart chart;
  chart.categories = {"a", "b"};
  chart.series.push_back({"", {20, 40}, {}, {}});
  const std::string svg = render(chart);
  static const std::regex bar_re("<rect class=\"bar\" x=\"[^\"]*\" y=\"([^\"]*)\" width=\"[^\"]*\" "
                                 "height=\"([^\"]*)\"");
  std::vector<std::pair<double, double>> bars;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar_re); it != std::sregex_iterator();
       ++it) {
    bars.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
  }
  ASSERT_EQ(bars.size(), 2U);
  EXPECT_NEAR(bars[0].first, grid_y(svg, "20"), 0.051);
  EXPECT_NEAR(bars[1].first, grid_y(svg, "40"), 0.051);
  EXPECT_NEAR(bars[0].first + bars[0].second, grid_y(svg, "0"), 0.11);
  EXPECT_NEAR(bars[1].second, 2.0 * bars[0].second, 0.21);
}

TEST(SvgBarChart, ManyCategoriesLabelEveryFewSoLabelsDoNotOverlap) {
  BarChart chart;
  for (int i = 0; i < 48; ++i) chart.categories.push_back("c" + std::to_string(100 + i));
  chart.series.push_back({"", std::vector<double>(48, 1.0), {}, {}});
  const std::string svg = render(chart);
  const std::vector<std::string> labels = tick_labels(svg);
  // 6 y ticks (0 .. 1 by 0.2) and category labels: "c100" is ~38 px wide, bands are ~13.6 px,
  // so every third category is labelled: 16 of 48.
  EXPECT_EQ(labels.size(), 6U + 16U);
  EXPECT_EQ(labels[6], "c100");
  EXPECT_EQ(labels[7], "c103");
}

TEST(SvgHistogram, LogBinsOfEqualRatioAreEquallyWide) {
  Histogram chart;
  chart.x.scale = AxisScale::log10;
  chart.x.label = "decision latency (ns)";
  chart.edges = {100, 1000, 10000, 100000};
  chart.series.push_back({"kernel", {5, 50, 2}, {}, {}});
  const std::string svg = render(chart);
  ASSERT_TRUE(test::check_xml(svg).ok());
  static const std::regex bar_re("<rect class=\"bar\" x=\"([^\"]*)\" y=\"[^\"]*\" width=\"([^\"]*)\"");
  std::vector<double> widths;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar_re); it != std::sregex_iterator();
       ++it) {
    widths.push_back(std::stod((*it)[2]));
  }
  ASSERT_EQ(widths.size(), 3U);
  EXPECT_NEAR(widths[0], widths[1], 0.11);
  EXPECT_NEAR(widths[1], widths[2], 0.11);
  EXPECT_EQ(tick_labels(svg).back(), "100k");
  EXPECT_NE(svg.find("<title>1k to 10k, kernel: 50.0</title>"), std::string::npos);
}

TEST(SvgHistogram, TwoSeriesShareEachBinSideBySide) {
  Histogram chart;
  chart.edges = {0, 10, 20};
  chart.series.push_back({"A", {3, 4}, {}, {}});
  chart.series.push_back({"B", {1, 2}, {}, {}});
  const std::string svg = render(chart);
  ASSERT_TRUE(test::check_xml(svg).ok());
  EXPECT_EQ(count_of(svg, "class=\"bar\""), 4);
  EXPECT_EQ(count_of(svg, "class=\"legend-entry\""), 2);
}

TEST(SvgXmlChecker, RejectsWhatABrowserWouldReject) {
  // The checker the tests above rely on must itself fail on broken markup.
  EXPECT_FALSE(test::check_xml("<svg><g></svg>").ok());
  EXPECT_FALSE(test::check_xml("<svg a=1/>").ok());
  EXPECT_FALSE(test::check_xml("<svg>a & b</svg>").ok());
  EXPECT_FALSE(test::check_xml("<svg a=\"1\" a=\"2\"/>").ok());
  EXPECT_FALSE(test::check_xml("<svg/><svg/>").ok());
  EXPECT_FALSE(test::check_xml("<svg t=\"<\"/>").ok());
  EXPECT_TRUE(test::check_xml("<svg a=\"1\">x &amp; y &#39;<g/></svg>").ok());
}

}  // namespace
}  // namespace switchboard::loadtest::svg
