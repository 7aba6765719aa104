#include "switchboard/loadtest/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "switchboard/loadtest/svg_chart.hpp"

namespace switchboard::loadtest {
namespace {

ProgressStyle resolve(ProgressStyle style, std::FILE* out) {
  if (out == nullptr) return ProgressStyle::off;
  if (style != ProgressStyle::automatic) return style;
  const char* term = std::getenv("TERM");
  const bool dumb = term != nullptr && std::string_view(term) == "dumb";
  return ::isatty(::fileno(out)) != 0 && !dumb ? ProgressStyle::bar : ProgressStyle::lines;
}

double fraction_of(std::uint64_t done, std::uint64_t total) {
  if (total == 0) return 1.0;
  return std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
}

// Whole percent, rounded down so that 100% means finished.
int percent_of(std::uint64_t done, std::uint64_t total) {
  return static_cast<int>(std::floor(fraction_of(done, total) * 100.0 + 1e-9));
}

}  // namespace

std::optional<double> estimate_remaining_s(std::uint64_t done, std::uint64_t total,
                                           double elapsed_s) {
  if (done >= total) return 0.0;
  const double f = fraction_of(done, total);
  if (done == 0 || (elapsed_s < 1.0 && f < 0.01)) return std::nullopt;
  return elapsed_s * static_cast<double>(total - done) / static_cast<double>(done);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0) seconds = 0.0;
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%lld s", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  }
  return buf;
}

std::string format_bar(std::string_view label, std::uint64_t done, std::uint64_t total,
                       double elapsed_s, int bar_width) {
  bar_width = std::max(bar_width, 1);
  const double f = fraction_of(done, total);
  const auto filled = static_cast<int>(std::floor(f * bar_width + 1e-9));
  std::string out(label);
  out += " [";
  out.append(static_cast<std::size_t>(filled), '#');
  out.append(static_cast<std::size_t>(bar_width - filled), '.');
  char pct[8];
  std::snprintf(pct, sizeof pct, "%3d%%", percent_of(done, total));
  out += "] ";
  out += pct;
  out += "  " + format_duration(elapsed_s) + " elapsed";
  if (done >= total) return out;
  const std::optional<double> left = estimate_remaining_s(done, total, elapsed_s);
  out += left ? ", about " + format_duration(*left) + " left" : ", estimating the time left";
  return out;
}

std::string format_progress_line(std::string_view label, std::uint64_t done, std::uint64_t total,
                                 double elapsed_s) {
  std::string out(label);
  out += ": " + std::to_string(percent_of(done, total)) + "% (" +
         svg::format_number(static_cast<double>(done), 0) + " of " +
         svg::format_number(static_cast<double>(total), 0) + ") after " +
         format_duration(elapsed_s);
  if (done < total) {
    const std::optional<double> left = estimate_remaining_s(done, total, elapsed_s);
    if (left) out += ", about " + format_duration(*left) + " left";
  }
  return out;
}

Progress::Progress(std::string label, std::uint64_t total, std::FILE* out, ProgressStyle style,
                   std::chrono::milliseconds refresh)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      style_(resolve(style, out)),
      refresh_(std::max(refresh, std::chrono::milliseconds(1))),
      start_(std::chrono::steady_clock::now()) {
  if (style_ != ProgressStyle::off) reporter_ = std::thread([this] { report_loop(); });
}

Progress::~Progress() { finish(); }

void Progress::advance(std::uint64_t units) noexcept {
  // relaxed: the count is only displayed; finish() reads it after the advancing threads are
  // joined, and the join orders those writes before the read.
  done_.fetch_add(units, std::memory_order_relaxed);
}

void Progress::report(std::uint64_t done_so_far) noexcept {
  // relaxed, as in advance(): a count for display. The CAS keeps it from going down when two
  // reporters race.
  std::uint64_t current = done_.load(std::memory_order_relaxed);
  while (current < done_so_far &&
         !done_.compare_exchange_weak(current, done_so_far, std::memory_order_relaxed)) {
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!reporter_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  reporter_.join();
  const std::uint64_t d = done();
  if (style_ == ProgressStyle::bar) {
    write_bar(d, true);
  } else if (style_ == ProgressStyle::lines) {
    write_line(d);
  }
  std::fflush(out_);
}

void Progress::report_loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, refresh_, [this] { return stop_; })) {
    const std::uint64_t d = done();
    if (style_ == ProgressStyle::bar) {
      write_bar(d, false);
    } else {
      // Only the highest 10% step reached since the last line is written: a slow log is not
      // flooded when several steps pass within one refresh.
      const int decile = percent_of(d, total_) / 10;
      if (decile > last_decile_ && decile < 10) write_line(d);
    }
  }
}

void Progress::write_bar(std::uint64_t d, bool final) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string bar = format_bar(label_, d, total_, elapsed);
  if (bar == last_bar_ && !final) return;
  last_bar_ = bar;
  // Blank out what is left of a longer previous redraw.
  const std::size_t length = bar.size();
  if (length < last_bar_length_) bar.append(last_bar_length_ - length, ' ');
  last_bar_length_ = length;
  std::fputc('\r', out_);
  std::fputs(bar.c_str(), out_);
  if (final) std::fputc('\n', out_);
  std::fflush(out_);
}

void Progress::write_line(std::uint64_t d) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  last_decile_ = percent_of(d, total_) / 10;
  std::fputs((format_progress_line(label_, d, total_, elapsed) + "\n").c_str(), out_);
  std::fflush(out_);
}

}  // namespace switchboard::loadtest
