#pragma once
// The statistics behind the figures of results.hpp: Student-t confidence intervals, order
// statistics, the Gini coefficient, and a log-linear histogram for latencies.
//
// Functions are pure and reentrant; a LatencyHistogram is owned by one thread.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "switchboard/loadtest/results.hpp"

namespace switchboard::loadtest {

// The p-quantile (0 < p < 1) of Student's t distribution with `df` degrees of freedom (df >= 1).
[[nodiscard]] double student_t_quantile(double p, double df);

// Mean and `level` confidence interval of independent values; NaN values are skipped.
[[nodiscard]] Estimate make_estimate(std::span<const double> values, double level);

// Nearest-rank percentiles (and mean, max) of `values`, which this sorts.
[[nodiscard]] Percentiles percentiles(std::vector<double>& values);

// Gini coefficient of non-negative values: sum |x_i - x_j| / (2 n^2 mean); 0 for equal values,
// NaN for an empty sample or an all-zero one.
[[nodiscard]] double gini(std::span<const double> values);

// Median of `values` (the mean of the middle two for an even count); NaN when empty.
[[nodiscard]] double median(std::vector<double> values);

// Counts of non-negative integers (nanoseconds) in log-linear buckets: exact below 128, then 64
// buckets per power of two, so a bucket's upper bound is at most 1/64 above any value in it.
class LatencyHistogram {
 public:
  static constexpr int kSubBits = 6;
  static constexpr std::size_t kSub = std::size_t{1} << kSubBits;
  static constexpr std::size_t kBuckets = 2 * kSub + 40 * kSub;

  void add(std::uint64_t value, std::uint64_t count = 1) noexcept {
    counts_[index(value)] += count;
    total_ += count;
    if (value > max_) max_ = value;
  }
  void merge(const LatencyHistogram& other) noexcept;
  [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  // Percentiles from the buckets (upper bounds; max exact).
  [[nodiscard]] Percentiles percentiles() const;
  // The non-empty range of buckets, merged into at most `max_buckets` log-spaced bars.
  [[nodiscard]] Histogram to_histogram(std::size_t max_buckets) const;

  [[nodiscard]] static std::size_t index(std::uint64_t value) noexcept;
  [[nodiscard]] static std::uint64_t lower_bound(std::size_t index) noexcept;
  [[nodiscard]] static std::uint64_t upper_bound(std::size_t index) noexcept;  // exclusive

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

// A histogram of `values` with `buckets` equal-width buckets from 0 to a round upper bound that
// holds the 99.9th percentile (the rest is overflow). Values must be >= 0.
[[nodiscard]] Histogram linear_histogram(std::span<const double> sorted_values,
                                         std::size_t buckets);

}  // namespace switchboard::loadtest
