#include "switchboard/loadtest/svg_chart.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace switchboard::loadtest::svg {
namespace {

// Okabe-Ito colours: told apart by people with the common colour-vision deficiencies.
constexpr std::array<const char*, 7> kPalette = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                                 "#CC79A7", "#56B4E9", "#000000"};
constexpr const char* kReferenceColour = "#555555";
constexpr const char* kGridColour = "#e3e3e3";
constexpr const char* kAxisColour = "#333333";

// Layout, in pixels. Text widths are estimated (about 7 px per character at 12 px): the charts
// run in any browser without measuring text, so labels are spaced by the estimate.
constexpr double kCharWidth = 7.0;
constexpr double kTitleHeight = 26.0;
constexpr double kLegendRowHeight = 18.0;
constexpr double kMarginLeft = 70.0;
constexpr double kMarginRight = 24.0;
constexpr double kMarginBottom = 48.0;
constexpr int kYTickTarget = 5;

const char* colour(std::size_t series) { return kPalette[series % kPalette.size()]; }

bool finite(double v) { return std::isfinite(v); }

// A coordinate: one decimal is finer than a pixel and keeps the output byte-stable.
std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  if (std::string_view(buf) == "-0.0") return "0.0";
  return buf;
}

int decimals_for_step(double step) {
  step = std::abs(step);
  if (!(step > 0.0) || step >= 1.0) return 0;
  return static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
}

std::string format_clock(double seconds_of_day, bool with_seconds) {
  long long s = std::llround(seconds_of_day);
  s %= 86400;
  if (s < 0) s += 86400;
  char buf[16];
  if (with_seconds) {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", s / 3600, (s / 60) % 60);
  }
  return buf;
}

// A value for a tooltip: one decimal finer than a typical tick.
std::string format_value(double v, const Axis& axis) {
  if (!finite(v)) return "no value";
  switch (axis.format) {
    case AxisFormat::percent:
      return format_number(v * 100.0, 1) + "%";
    case AxisFormat::clock:
      return format_clock(v + axis.clock_origin_s, true);
    case AxisFormat::number:
      break;
  }
  const double a = std::abs(v);
  return format_number(v, a >= 100.0 ? 0 : a >= 10.0 ? 1 : 2);
}

// value = k * mantissa * 10^exponent, computed so that k * 0.2 prints as 0.6, not 0.6000000001:
// dividing by an exact power of ten rounds once.
double tick_value(long long k, double mantissa, int exponent) {
  if (exponent >= 0) return static_cast<double>(k) * mantissa * std::pow(10.0, exponent);
  return static_cast<double>(k) * mantissa / std::pow(10.0, -exponent);
}

// The pixel position of a value on an axis whose ends are [lo, hi] and pixels [p0, p1].
struct Scale {
  double lo = 0.0;
  double hi = 1.0;
  double p0 = 0.0;
  double p1 = 1.0;
  bool log = false;

  double operator()(double v) const {
    v = std::clamp(v, lo, hi);
    double t = 0.0;
    if (log) {
      t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    } else {
      t = (v - lo) / (hi - lo);
    }
    return p0 + t * (p1 - p0);
  }
};

// An axis' ends and the ticks drawn on it.
struct ResolvedAxis {
  double lo = 0.0;
  double hi = 1.0;
  Ticks ticks;
};

// Ends and ticks from the data's range [data_lo, data_hi] (NaN when there is no data).
ResolvedAxis resolve_axis(const Axis& axis, double data_lo, double data_hi, bool include_zero,
                          int target) {
  ResolvedAxis r;
  const bool log = axis.scale == AxisScale::log10;
  if (!finite(data_lo) || !finite(data_hi)) {
    data_lo = log ? 1.0 : 0.0;
    data_hi = log ? 10.0 : 1.0;
  }
  if (include_zero && !log) {
    data_lo = std::min(data_lo, 0.0);
    data_hi = std::max(data_hi, 0.0);
  }
  double lo = axis.min.value_or(data_lo);
  double hi = axis.max.value_or(data_hi);
  if (log) {
    if (!(lo > 0.0)) lo = hi > 0.0 ? hi / 10.0 : 1.0;
    if (!(hi > lo)) hi = lo * 10.0;
    r.ticks = log_ticks(lo, hi);
  } else {
    if (!(hi > lo)) hi = lo + 1.0;
    r.ticks = axis.format == AxisFormat::clock ? clock_ticks(lo, hi, target, axis.clock_origin_s)
                                               : nice_ticks(lo, hi, target);
  }
  // An end the caller fixed stays where it is; an end from the data widens to the outer tick.
  r.lo = axis.min ? lo : r.ticks.lo;
  r.hi = axis.max ? hi : r.ticks.hi;
  if (!(r.hi > r.lo)) r.hi = r.lo + 1.0;
  const double eps = (r.hi - r.lo) * 1e-9;
  std::erase_if(r.ticks.values, [&](double v) { return v < r.lo - eps || v > r.hi + eps; });
  return r;
}

struct Range {
  double lo = std::numeric_limits<double>::quiet_NaN();
  double hi = std::numeric_limits<double>::quiet_NaN();
  bool positive_only = false;  // a log axis ignores values <= 0

  void add(double v) {
    if (!finite(v) || (positive_only && !(v > 0.0))) return;
    lo = finite(lo) ? std::min(lo, v) : v;
    hi = finite(hi) ? std::max(hi, v) : v;
  }
};

struct LegendEntry {
  std::string name;
  const char* colour;
  bool dashed;
};

// The frame common to every chart: title, legend, plot area.
struct Frame {
  int width = 0;
  int height = 0;
  double left = kMarginLeft;
  double top = kTitleHeight;
  double right = 0.0;
  double bottom = 0.0;
  std::vector<LegendEntry> legend;
  std::vector<std::pair<double, double>> legend_positions;  // x, baseline y of each entry
};

double legend_entry_width(const LegendEntry& e) {
  return 22.0 + kCharWidth * static_cast<double>(e.name.size()) + 18.0;
}

Frame make_frame(int width, int height, std::vector<LegendEntry> legend) {
  Frame f;
  f.width = std::max(width, 200);
  f.height = std::max(height, 150);
  f.legend = std::move(legend);
  double x = kMarginLeft;
  double row = 0.0;
  for (const LegendEntry& e : f.legend) {
    const double w = legend_entry_width(e);
    if (x > kMarginLeft && x + w > f.width - kMarginRight) {
      x = kMarginLeft;
      row += 1.0;
    }
    f.legend_positions.emplace_back(x, kTitleHeight + 12.0 + row * kLegendRowHeight);
    x += w;
  }
  const double legend_rows = f.legend.empty() ? 0.0 : row + 1.0;
  f.top = kTitleHeight + legend_rows * kLegendRowHeight + 12.0;
  f.right = f.width - kMarginRight;
  f.bottom = f.height - kMarginBottom;
  return f;
}

void open_svg(std::string& out, const Frame& f, const std::string& title) {
  const std::string t = escape_xml(title);
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" +
         std::to_string(f.width) + "\" height=\"" + std::to_string(f.height) +
         "\" viewBox=\"0 0 " + std::to_string(f.width) + " " + std::to_string(f.height) +
         "\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out += "<title>" + t + "</title>\n";
  out += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(f.width) + "\" height=\"" +
         std::to_string(f.height) + "\" fill=\"#ffffff\"/>\n";
  out += "<text class=\"chart-title\" x=\"" + px(kMarginLeft) +
         "\" y=\"18.0\" font-size=\"14\" font-weight=\"bold\" fill=\"" + kAxisColour + "\">" + t +
         "</text>\n";
  for (std::size_t i = 0; i < f.legend.size(); ++i) {
    const LegendEntry& e = f.legend[i];
    const auto [x, y] = f.legend_positions[i];
    out += "<g class=\"legend-entry\">";
    out += "<line x1=\"" + px(x) + "\" y1=\"" + px(y - 4.0) + "\" x2=\"" + px(x + 16.0) +
           "\" y2=\"" + px(y - 4.0) + "\" stroke=\"" + e.colour + "\" stroke-width=\"" +
           (e.dashed ? "1.5\" stroke-dasharray=\"5 3\"" : "6\"") + "/>";
    out += "<text x=\"" + px(x + 22.0) + "\" y=\"" + px(y) + "\" fill=\"" + kAxisColour + "\">" +
           escape_xml(e.name) + "</text>";
    out += "</g>\n";
  }
}

void close_svg(std::string& out) { out += "</svg>\n"; }

// Horizontal grid lines, the y tick labels and the y axis title.
void draw_y_axis(std::string& out, const Frame& f, const Axis& axis, const ResolvedAxis& r,
                 const Scale& y) {
  out += "<g class=\"y-axis\">\n";
  for (double v : r.ticks.values) {
    const double py = y(v);
    const double step = axis.scale == AxisScale::log10 ? v : r.ticks.step;
    out += "<line class=\"grid\" x1=\"" + px(f.left) + "\" y1=\"" + px(py) + "\" x2=\"" +
           px(f.right) + "\" y2=\"" + px(py) + "\" stroke=\"" + kGridColour + "\"/>";
    out += "<text class=\"tick-label\" x=\"" + px(f.left - 6.0) + "\" y=\"" + px(py + 4.0) +
           "\" text-anchor=\"end\" fill=\"" + kAxisColour + "\">" +
           escape_xml(format_tick(v, step, axis)) + "</text>\n";
  }
  const double cy = (f.top + f.bottom) / 2.0;
  out += "<text class=\"axis-label\" x=\"14.0\" y=\"" + px(cy) + "\" transform=\"rotate(-90 14.0 " +
         px(cy) + ")\" text-anchor=\"middle\" fill=\"" + kAxisColour + "\">" +
         escape_xml(axis.label) + "</text>\n";
  out += "</g>\n";
}

// The x axis line, tick marks and labels of a numeric axis, and its title.
void draw_x_axis(std::string& out, const Frame& f, const Axis& axis, const ResolvedAxis& r,
                 const Scale& x) {
  out += "<g class=\"x-axis\">\n";
  out += "<line x1=\"" + px(f.left) + "\" y1=\"" + px(f.bottom) + "\" x2=\"" + px(f.right) +
         "\" y2=\"" + px(f.bottom) + "\" stroke=\"" + kAxisColour + "\"/>\n";
  for (double v : r.ticks.values) {
    const double pxv = x(v);
    const double step = axis.scale == AxisScale::log10 ? v : r.ticks.step;
    out += "<line x1=\"" + px(pxv) + "\" y1=\"" + px(f.bottom) + "\" x2=\"" + px(pxv) +
           "\" y2=\"" + px(f.bottom + 4.0) + "\" stroke=\"" + kAxisColour + "\"/>";
    out += "<text class=\"tick-label\" x=\"" + px(pxv) + "\" y=\"" + px(f.bottom + 17.0) +
           "\" text-anchor=\"middle\" fill=\"" + kAxisColour + "\">" +
           escape_xml(format_tick(v, step, axis)) + "</text>\n";
  }
  out += "<text class=\"axis-label\" x=\"" + px((f.left + f.right) / 2.0) + "\" y=\"" +
         px(static_cast<double>(f.height) - 8.0) + "\" text-anchor=\"middle\" fill=\"" +
         kAxisColour + "\">" + escape_xml(axis.label) + "</text>\n";
  out += "</g>\n";
}

void draw_reference_lines(std::string& out, const Frame& f, const std::vector<ReferenceLine>& lines,
                          const Scale& y) {
  for (const ReferenceLine& line : lines) {
    if (!finite(line.y)) continue;
    const double py = y(line.y);
    out += "<line class=\"reference-line\" x1=\"" + px(f.left) + "\" y1=\"" + px(py) +
           "\" x2=\"" + px(f.right) + "\" y2=\"" + px(py) + "\" stroke=\"" + kReferenceColour +
           "\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"><title>" + escape_xml(line.label) +
           "</title></line>\n";
  }
}

void draw_no_data(std::string& out, const Frame& f) {
  out += "<text class=\"no-data\" x=\"" + px((f.left + f.right) / 2.0) + "\" y=\"" +
         px((f.top + f.bottom) / 2.0) + "\" text-anchor=\"middle\" fill=\"" + kReferenceColour +
         "\">no data</text>\n";
}

std::vector<LegendEntry> legend_for(const std::vector<std::string>& names,
                                    const std::vector<ReferenceLine>& lines) {
  std::vector<LegendEntry> legend;
  if (names.size() > 1 || !lines.empty()) {
    for (std::size_t i = 0; i < names.size(); ++i) legend.push_back({names[i], colour(i), false});
  }
  for (const ReferenceLine& line : lines) legend.push_back({line.label, kReferenceColour, true});
  return legend;
}

// The y pixel where bars start: 0 when the axis shows it, else the axis' lower end.
double bar_base(const ResolvedAxis& r, const Scale& y) {
  return y(r.lo <= 0.0 && r.hi >= 0.0 ? 0.0 : r.lo);
}

void draw_bar(std::string& out, double x0, double x1, double base, double top, const char* fill,
              const std::string& tooltip) {
  const double y0 = std::min(base, top);
  const double h = std::abs(base - top);
  out += "<rect class=\"bar\" x=\"" + px(x0) + "\" y=\"" + px(y0) + "\" width=\"" +
         px(std::max(x1 - x0, 0.5)) + "\" height=\"" + px(h) + "\" fill=\"" + fill +
         "\"><title>" + escape_xml(tooltip) + "</title></rect>\n";
}

void draw_error_bar(std::string& out, double cx, double half, double y_low, double y_high) {
  const std::string stroke = std::string("\" stroke=\"") + kAxisColour + "\"/>";
  out += "<g class=\"error-bar\"><line x1=\"" + px(cx) + "\" y1=\"" + px(y_low) + "\" x2=\"" +
         px(cx) + "\" y2=\"" + px(y_high) + stroke;
  out += "<line x1=\"" + px(cx - half) + "\" y1=\"" + px(y_low) + "\" x2=\"" + px(cx + half) +
         "\" y2=\"" + px(y_low) + stroke;
  out += "<line x1=\"" + px(cx - half) + "\" y1=\"" + px(y_high) + "\" x2=\"" + px(cx + half) +
         "\" y2=\"" + px(y_high) + stroke + "</g>\n";
}

}  // namespace

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_number(double value, int decimals) {
  if (!finite(value)) return std::isnan(value) ? "n/a" : (value > 0 ? "inf" : "-inf");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", std::clamp(decimals, 0, 12), value);
  std::string s = buf;
  const bool negative = !s.empty() && s[0] == '-';
  std::string digits = negative ? s.substr(1) : s;
  const std::size_t point = digits.find('.');
  std::string whole = digits.substr(0, point);
  const std::string fraction = point == std::string::npos ? "" : digits.substr(point);
  std::string grouped;
  for (std::size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped += ',';
    grouped += whole[i];
  }
  const bool zero = std::all_of(digits.begin(), digits.end(),
                                [](char c) { return c == '0' || c == '.'; });
  return (negative && !zero ? "-" : "") + grouped + fraction;
}

Ticks nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) hi = lo + 1.0;
  target = std::max(target, 1);
  const double raw = (hi - lo) / target;
  int exponent = static_cast<int>(std::floor(std::log10(raw)));
  const double fraction = raw / std::pow(10.0, exponent);
  double mantissa = 10.0;
  if (fraction <= 1.0 + 1e-9) {
    mantissa = 1.0;
  } else if (fraction <= 2.0 + 1e-9) {
    mantissa = 2.0;
  } else if (fraction <= 5.0 + 1e-9) {
    mantissa = 5.0;
  }
  if (mantissa == 10.0) {
    mantissa = 1.0;
    ++exponent;
  }
  Ticks t;
  t.step = tick_value(1, mantissa, exponent);
  const auto k0 = static_cast<long long>(std::floor(lo / t.step + 1e-9));
  const auto k1 = static_cast<long long>(std::ceil(hi / t.step - 1e-9));
  for (long long k = k0; k <= k1; ++k) t.values.push_back(tick_value(k, mantissa, exponent) + 0.0);
  t.lo = t.values.front();
  t.hi = t.values.back();
  return t;
}

Ticks clock_ticks(double lo, double hi, int target, double origin_s) {
  static constexpr std::array<double, 19> kSteps = {
      1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600, 43200,
      86400};
  if (!(hi > lo)) hi = lo + 1.0;
  target = std::max(target, 1);
  double step = kSteps.back();
  for (double s : kSteps) {
    if ((hi - lo) / s <= target) {
      step = s;
      break;
    }
  }
  Ticks t;
  t.step = step;
  const auto k0 = static_cast<long long>(std::floor((lo + origin_s) / step + 1e-9));
  const auto k1 = static_cast<long long>(std::ceil((hi + origin_s) / step - 1e-9));
  for (long long k = k0; k <= k1; ++k) t.values.push_back(static_cast<double>(k) * step - origin_s);
  t.lo = t.values.front();
  t.hi = t.values.back();
  return t;
}

Ticks log_ticks(double lo, double hi) {
  if (!(lo > 0.0)) lo = 1.0;
  if (!(hi > lo)) hi = lo * 10.0;
  const int e0 = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  const int e1 = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  Ticks t;
  t.step = 10.0;
  const bool fine = e1 - e0 < 3;
  for (int e = e0; e <= e1; ++e) {
    t.values.push_back(tick_value(1, 1.0, e));
    if (fine && e < e1) {
      t.values.push_back(tick_value(2, 1.0, e));
      t.values.push_back(tick_value(5, 1.0, e));
    }
  }
  t.lo = t.values.front();
  t.hi = t.values.back();
  return t;
}

std::string format_tick(double value, double step, const Axis& axis) {
  switch (axis.format) {
    case AxisFormat::percent:
      return format_number(value * 100.0, decimals_for_step(step * 100.0)) + "%";
    case AxisFormat::clock:
      return format_clock(value + axis.clock_origin_s, step < 60.0);
    case AxisFormat::number:
      break;
  }
  const double a = std::abs(step);
  if (a >= 1e6) return format_number(value / 1e6, decimals_for_step(step / 1e6)) + "M";
  if (a >= 1e3) return format_number(value / 1e3, decimals_for_step(step / 1e3)) + "k";
  return format_number(value, decimals_for_step(step));
}

std::string render(const LineChart& chart) {
  std::vector<std::string> names;
  for (const LineSeries& s : chart.series) names.push_back(s.name);
  const Frame f = make_frame(chart.width, chart.height, legend_for(names, chart.reference_lines));

  Range xr{.positive_only = chart.x.scale == AxisScale::log10};
  Range yr{.positive_only = chart.y.scale == AxisScale::log10};
  bool any = false;
  for (const LineSeries& s : chart.series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    const bool band = s.y_low.size() >= n && s.y_high.size() >= n;
    for (std::size_t i = 0; i < n; ++i) {
      if (!finite(s.x[i]) || !finite(s.y[i])) continue;
      any = true;
      xr.add(s.x[i]);
      yr.add(s.y[i]);
      if (band) {
        yr.add(s.y_low[i]);
        yr.add(s.y_high[i]);
      }
    }
  }
  for (const ReferenceLine& line : chart.reference_lines) yr.add(line.y);

  const int x_target = std::max(2, static_cast<int>((f.right - f.left) / 90.0));
  const ResolvedAxis rx = resolve_axis(chart.x, xr.lo, xr.hi, false, x_target);
  const ResolvedAxis ry = resolve_axis(chart.y, yr.lo, yr.hi, true, kYTickTarget);
  const Scale x{rx.lo, rx.hi, f.left, f.right, chart.x.scale == AxisScale::log10};
  const Scale y{ry.lo, ry.hi, f.bottom, f.top, chart.y.scale == AxisScale::log10};

  std::string out;
  open_svg(out, f, chart.title);
  draw_y_axis(out, f, chart.y, ry, y);
  draw_x_axis(out, f, chart.x, rx, x);
  if (!any) draw_no_data(out, f);

  for (std::size_t si = 0; si < chart.series.size(); ++si) {
    const LineSeries& s = chart.series[si];
    const std::size_t n = std::min(s.x.size(), s.y.size());
    const bool band = s.y_low.size() >= n && s.y_high.size() >= n && n > 0;
    out += "<g class=\"series\" fill=\"none\" stroke=\"" + std::string(colour(si)) + "\">\n";
    // Runs of consecutive points with values; a NaN ends a run.
    std::size_t i = 0;
    while (i < n) {
      while (i < n && !(finite(s.x[i]) && finite(s.y[i]))) ++i;
      std::size_t j = i;
      while (j < n && finite(s.x[j]) && finite(s.y[j])) ++j;
      if (j == i) break;
      if (band) {
        std::string upper;
        std::string lower;
        for (std::size_t k = i; k < j; ++k) {
          const double hi_v = finite(s.y_high[k]) ? s.y_high[k] : s.y[k];
          const double lo_v = finite(s.y_low[k]) ? s.y_low[k] : s.y[k];
          upper += px(x(s.x[k])) + "," + px(y(hi_v)) + " ";
          if (chart.steps && k + 1 < j) upper += px(x(s.x[k + 1])) + "," + px(y(hi_v)) + " ";
          std::string lp = px(x(s.x[k])) + "," + px(y(lo_v)) + " ";
          if (chart.steps && k + 1 < j) lp = px(x(s.x[k + 1])) + "," + px(y(lo_v)) + " " + lp;
          lower.insert(0, lp);
        }
        out += "<polygon class=\"band\" points=\"" + upper + lower.substr(0, lower.size() - 1) +
               "\" fill=\"" + colour(si) + "\" fill-opacity=\"0.18\" stroke=\"none\"/>\n";
      }
      if (j - i == 1) {
        out += "<circle class=\"point\" cx=\"" + px(x(s.x[i])) + "\" cy=\"" + px(y(s.y[i])) +
               "\" r=\"2.5\" fill=\"" + colour(si) + "\"/>\n";
      } else {
        std::string points;
        for (std::size_t k = i; k < j; ++k) {
          if (!points.empty()) points += ' ';
          points += px(x(s.x[k])) + "," + px(y(s.y[k]));
          if (chart.steps && k + 1 < j) points += " " + px(x(s.x[k + 1])) + "," + px(y(s.y[k]));
        }
        out += "<polyline class=\"line\" points=\"" + points + "\" stroke-width=\"2\"/>\n";
      }
      i = j;
    }
    out += "</g>\n";
  }
  draw_reference_lines(out, f, chart.reference_lines, y);
  close_svg(out);
  return out;
}

std::string render(const BarChart& chart) {
  std::vector<std::string> names;
  for (const BarSeries& s : chart.series) names.push_back(s.name);
  const Frame f = make_frame(chart.width, chart.height, legend_for(names, chart.reference_lines));

  const std::size_t n = chart.categories.size();
  Range yr{.positive_only = chart.y.scale == AxisScale::log10};
  bool any = false;
  for (const BarSeries& s : chart.series) {
    const std::size_t m = std::min(n, s.values.size());
    const bool errors = s.low.size() >= m && s.high.size() >= m;
    for (std::size_t i = 0; i < m; ++i) {
      if (!finite(s.values[i])) continue;
      any = true;
      yr.add(s.values[i]);
      if (errors) {
        yr.add(s.low[i]);
        yr.add(s.high[i]);
      }
    }
  }
  for (const ReferenceLine& line : chart.reference_lines) yr.add(line.y);
  const ResolvedAxis ry = resolve_axis(chart.y, yr.lo, yr.hi, true, kYTickTarget);
  const Scale y{ry.lo, ry.hi, f.bottom, f.top, chart.y.scale == AxisScale::log10};

  std::string out;
  open_svg(out, f, chart.title);
  draw_y_axis(out, f, chart.y, ry, y);

  // The category axis: a label under every k-th band, k chosen so that labels do not overlap.
  const double band = n > 0 ? (f.right - f.left) / static_cast<double>(n) : (f.right - f.left);
  std::size_t longest = 1;
  for (const std::string& c : chart.categories) longest = std::max(longest, c.size());
  const double label_width = kCharWidth * static_cast<double>(longest) + 10.0;
  const std::size_t every =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(label_width / band)));
  out += "<g class=\"x-axis\">\n";
  out += "<line x1=\"" + px(f.left) + "\" y1=\"" + px(f.bottom) + "\" x2=\"" + px(f.right) +
         "\" y2=\"" + px(f.bottom) + "\" stroke=\"" + kAxisColour + "\"/>\n";
  for (std::size_t i = 0; i < n; i += every) {
    const double cx = f.left + band * (static_cast<double>(i) + 0.5);
    out += "<text class=\"tick-label\" x=\"" + px(cx) + "\" y=\"" + px(f.bottom + 17.0) +
           "\" text-anchor=\"middle\" fill=\"" + kAxisColour + "\">" +
           escape_xml(chart.categories[i]) + "</text>\n";
  }
  out += "<text class=\"axis-label\" x=\"" + px((f.left + f.right) / 2.0) + "\" y=\"" +
         px(static_cast<double>(f.height) - 8.0) + "\" text-anchor=\"middle\" fill=\"" +
         kAxisColour + "\">" + escape_xml(chart.category_label) + "</text>\n";
  out += "</g>\n";
  if (!any) draw_no_data(out, f);

  const double base = bar_base(ry, y);
  const std::size_t ns = std::max<std::size_t>(chart.series.size(), 1);
  const double group = band * 0.8;
  const double width = group / static_cast<double>(ns);
  const double gap = std::min(1.0, width * 0.1);
  for (std::size_t si = 0; si < chart.series.size(); ++si) {
    const BarSeries& s = chart.series[si];
    const std::size_t m = std::min(n, s.values.size());
    const bool errors = s.low.size() >= m && s.high.size() >= m;
    out += "<g class=\"series\">\n";
    for (std::size_t i = 0; i < m; ++i) {
      if (!finite(s.values[i])) continue;
      const double x0 = f.left + band * static_cast<double>(i) + band * 0.1 +
                        width * static_cast<double>(si) + gap / 2.0;
      const double x1 = x0 + width - gap;
      std::string tooltip = chart.categories[i];
      if (!s.name.empty()) tooltip += ", " + s.name;
      tooltip += ": " + format_value(s.values[i], chart.y);
      draw_bar(out, x0, x1, base, y(s.values[i]), colour(si), tooltip);
      if (errors && finite(s.low[i]) && finite(s.high[i])) {
        draw_error_bar(out, (x0 + x1) / 2.0, std::min(4.0, (x1 - x0) / 3.0), y(s.low[i]),
                       y(s.high[i]));
      }
    }
    out += "</g>\n";
  }
  draw_reference_lines(out, f, chart.reference_lines, y);
  close_svg(out);
  return out;
}

std::string render(const Histogram& chart) {
  std::vector<std::string> names;
  for (const BarSeries& s : chart.series) names.push_back(s.name);
  const Frame f = make_frame(chart.width, chart.height, legend_for(names, {}));

  const bool xlog = chart.x.scale == AxisScale::log10;
  const std::size_t bins = chart.edges.size() > 1 ? chart.edges.size() - 1 : 0;
  Range xr{.positive_only = xlog};
  for (double e : chart.edges) xr.add(e);
  Range yr{.positive_only = chart.y.scale == AxisScale::log10};
  bool any = false;
  for (const BarSeries& s : chart.series) {
    const std::size_t m = std::min(bins, s.values.size());
    for (std::size_t i = 0; i < m; ++i) {
      if (!finite(s.values[i])) continue;
      any = true;
      yr.add(s.values[i]);
    }
  }
  const int x_target = std::max(2, static_cast<int>((f.right - f.left) / 90.0));
  const ResolvedAxis rx = resolve_axis(chart.x, xr.lo, xr.hi, false, x_target);
  const ResolvedAxis ry = resolve_axis(chart.y, yr.lo, yr.hi, true, kYTickTarget);
  const Scale x{rx.lo, rx.hi, f.left, f.right, xlog};
  const Scale y{ry.lo, ry.hi, f.bottom, f.top, chart.y.scale == AxisScale::log10};

  std::string out;
  open_svg(out, f, chart.title);
  draw_y_axis(out, f, chart.y, ry, y);
  draw_x_axis(out, f, chart.x, rx, x);
  if (!any) draw_no_data(out, f);

  const double base = bar_base(ry, y);
  const std::size_t ns = std::max<std::size_t>(chart.series.size(), 1);
  for (std::size_t si = 0; si < chart.series.size(); ++si) {
    const BarSeries& s = chart.series[si];
    const std::size_t m = std::min(bins, s.values.size());
    out += "<g class=\"series\">\n";
    for (std::size_t i = 0; i < m; ++i) {
      if (!finite(s.values[i]) || !finite(chart.edges[i]) || !finite(chart.edges[i + 1])) continue;
      const double b0 = x(chart.edges[i]);
      const double b1 = x(chart.edges[i + 1]);
      const double w = (b1 - b0) / static_cast<double>(ns);
      const double gap = std::min(1.0, w * 0.1);
      const double x0 = b0 + w * static_cast<double>(si) + gap / 2.0;
      std::string tooltip = format_tick(chart.edges[i], chart.edges[i + 1] - chart.edges[i], chart.x) +
                            " to " +
                            format_tick(chart.edges[i + 1], chart.edges[i + 1] - chart.edges[i],
                                        chart.x);
      if (!s.name.empty()) tooltip += ", " + s.name;
      tooltip += ": " + format_value(s.values[i], chart.y);
      draw_bar(out, x0, x0 + w - gap, base, y(s.values[i]), colour(si), tooltip);
    }
    out += "</g>\n";
  }
  close_svg(out);
  return out;
}

}  // namespace switchboard::loadtest::svg
