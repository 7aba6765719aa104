#pragma once
// Small SVG charts written as strings, for the load tester's HTML report. Each chart is one
// self-contained <svg> element: styling is in presentation attributes and the font is a generic
// family, so the chart needs no stylesheet, script, font or link from anywhere else and reads the
// same pasted on its own into a file. The output is a pure function of the input (coordinates are
// printed with a fixed one decimal), so two runs of the same report are byte-identical.
//
// Missing values are NaN: a line breaks at them, a bar is left out. Series whose vectors differ in
// length are drawn up to the shorter one.
//
// Thread safety: every function here is pure and may be called from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::loadtest::svg {

// How an axis prints its tick labels.
enum class AxisFormat {
  number,   // 0, 2.5, 1,500, 20k, 3M
  percent,  // the values are fractions: 0.8 prints as 80%
  clock,    // the values are seconds; labels are times of day (HH:MM), from Axis::clock_origin_s
};

enum class AxisScale { linear, log10 };

struct Axis {
  std::string label;  // what and in which unit, in plain words: "people waiting", "wait (seconds)"
  AxisFormat format = AxisFormat::number;
  AxisScale scale = AxisScale::linear;
  // Fixed ends of the axis. An end left empty comes from the data, widened to a tick; a linear
  // value axis (y) always shows 0.
  std::optional<double> min;
  std::optional<double> max;
  // Clock format: the time of day, in seconds after midnight, of the value 0.
  double clock_origin_s = 0.0;
};

// A horizontal line across the plot at a value of the y axis, e.g. a service-level target.
struct ReferenceLine {
  std::string label;
  double y = 0.0;
};

struct LineSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
  // Optional band around the line (a confidence interval): both empty, or as long as y.
  std::vector<double> y_low;
  std::vector<double> y_high;
};

struct LineChart {
  std::string title;
  Axis x;
  Axis y;
  std::vector<LineSeries> series;
  std::vector<ReferenceLine> reference_lines;
  // Draw each value as holding until the next x (a queue depth sampled per interval) rather than
  // as a straight line between points.
  bool steps = false;
  int width = 720;
  int height = 300;
};

struct BarSeries {
  std::string name;
  std::vector<double> values;
  // Optional error bars (a confidence interval): both empty, or as long as values.
  std::vector<double> low;
  std::vector<double> high;
};

// Bars over named categories; several series stand side by side within each category.
struct BarChart {
  std::string title;
  std::string category_label;  // the x axis' title: "agent group", "interval starting at"
  std::vector<std::string> categories;
  Axis y;
  std::vector<BarSeries> series;
  std::vector<ReferenceLine> reference_lines;
  int width = 720;
  int height = 300;
};

// Bars over numeric bins [edges[i], edges[i+1]); several series stand side by side in each bin.
struct Histogram {
  std::string title;
  Axis x;                      // the binned quantity; AxisScale::log10 for latencies
  Axis y;                      // what is counted: "calls", "share of calls"
  std::vector<double> edges;   // increasing, one more than the values of each series
  std::vector<BarSeries> series;
  int width = 720;
  int height = 300;
};

[[nodiscard]] std::string render(const LineChart& chart);
[[nodiscard]] std::string render(const BarChart& chart);
[[nodiscard]] std::string render(const Histogram& chart);

// --- The pieces, exposed for the report's tables and for tests ----------------------------------

// Replaces & < > " ' by their entities: the result is safe as XML/HTML text and attribute value.
[[nodiscard]] std::string escape_xml(std::string_view text);

struct Ticks {
  double lo = 0.0;    // the first tick (at or below the data's minimum)
  double hi = 0.0;    // the last tick (at or above the data's maximum)
  double step = 0.0;  // 1, 2 or 5 times a power of ten (linear); a decade (log10)
  std::vector<double> values;
};

// Ticks at nice numbers (1, 2 or 5 times a power of ten) covering [lo, hi], at most about
// `target` intervals. When hi <= lo the range is taken as [lo, lo + 1].
[[nodiscard]] Ticks nice_ticks(double lo, double hi, int target);

// Ticks for a clock axis: steps of 1, 2, 5, 10, 15 or 30 seconds or minutes, or 1, 2, 3, 4, 6 or
// 12 hours, placed on whole multiples of the step in time of day (origin_s is the time of day of 0).
[[nodiscard]] Ticks clock_ticks(double lo, double hi, int target, double origin_s);

// Ticks for a log10 axis over [lo, hi] (both > 0): every power of ten, plus 2 and 5 times each
// when the range spans fewer than three decades.
[[nodiscard]] Ticks log_ticks(double lo, double hi);

// A tick label, with as many decimals as the step needs.
[[nodiscard]] std::string format_tick(double value, double step, const Axis& axis);

// A number for people: thousands separated ("12,345"), `decimals` after the point.
[[nodiscard]] std::string format_number(double value, int decimals);

}  // namespace switchboard::loadtest::svg
