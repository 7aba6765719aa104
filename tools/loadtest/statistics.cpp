// Statistics for the load-test figures (statistics.hpp).

#include "statistics.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>

namespace switchboard::loadtest {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Continued fraction of the regularized incomplete beta function (Lentz's method).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < 1e-15) break;
  }
  return h;
}

double regularized_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b;
}

// P(T <= t) for Student's t with df degrees of freedom.
double student_t_cdf(double t, double df) {
  const double x = df / (df + t * t);
  const double tail = 0.5 * regularized_beta(df / 2.0, 0.5, x);
  return t >= 0.0 ? 1.0 - tail : tail;
}

}  // namespace

double student_t_quantile(double p, double df) {
  if (p == 0.5) return 0.0;
  if (p < 0.5) return -student_t_quantile(1.0 - p, df);
  double lo = 0.0;
  double hi = 1.0;
  while (student_t_cdf(hi, df) < p) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

Estimate make_estimate(std::span<const double> values, double level) {
  Estimate e;
  e.level = level;
  e.per_replication.assign(values.begin(), values.end());
  std::vector<double> present;
  for (double v : values) {
    if (!std::isnan(v)) present.push_back(v);
  }
  e.samples = static_cast<std::uint32_t>(present.size());
  if (present.empty()) {
    e.mean = kNaN;
    e.half_width = kNaN;
    return e;
  }
  const double n = static_cast<double>(present.size());
  e.mean = std::accumulate(present.begin(), present.end(), 0.0) / n;
  if (present.size() < 2) {
    e.half_width = kNaN;
    return e;
  }
  double ss = 0.0;
  for (double v : present) ss += (v - e.mean) * (v - e.mean);
  const double sd = std::sqrt(ss / (n - 1.0));
  e.half_width = student_t_quantile(0.5 + level / 2.0, n - 1.0) * sd / std::sqrt(n);
  return e;
}

Percentiles percentiles(std::vector<double>& values) {
  Percentiles p;
  p.count = values.size();
  if (values.empty()) {
    p.p50 = p.p90 = p.p95 = p.p99 = p.p999 = p.max = p.mean = kNaN;
    return p;
  }
  std::sort(values.begin(), values.end());
  const auto rank = [&](double q) {
    // Nearest rank: the smallest value with at least q * n values at or below it.
    const double n = static_cast<double>(values.size());
    std::size_t k = static_cast<std::size_t>(std::ceil(q * n - 1e-9));
    if (k < 1) k = 1;
    return values[std::min(k, values.size()) - 1];
  };
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p95 = rank(0.95);
  p.p99 = rank(0.99);
  p.p999 = rank(0.999);
  p.max = values.back();
  p.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  return p;
}

double gini(std::span<const double> values) {
  if (values.empty()) return kNaN;
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  const double n = static_cast<double>(sorted.size());
  const double sum = std::accumulate(sorted.begin(), sorted.end(), 0.0);
  if (sum <= 0.0) return kNaN;
  // sum_i sum_j |x_i - x_j| = 2 * sum_i (2i - n - 1) x_(i) for the sorted sample (1-based i).
  double weighted = 0.0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    weighted += (2.0 * static_cast<double>(i + 1) - n - 1.0) * sorted[i];
  }
  return (2.0 * weighted) / (2.0 * n * sum);
}

double median(std::vector<double> values) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

std::size_t LatencyHistogram::index(std::uint64_t value) noexcept {
  if (value < 2 * kSub) return static_cast<std::size_t>(value);
  const int top = std::bit_width(value) - 1;  // >= kSubBits + 1
  const int shift = top - kSubBits;
  const std::size_t sub = static_cast<std::size_t>((value >> shift) - kSub);  // 0..kSub-1
  const std::size_t i = 2 * kSub + static_cast<std::size_t>(shift - 1) * kSub + sub;
  return std::min(i, kBuckets - 1);
}

std::uint64_t LatencyHistogram::lower_bound(std::size_t i) noexcept {
  if (i < 2 * kSub) return i;
  const std::size_t shift = (i - 2 * kSub) / kSub + 1;
  const std::size_t sub = (i - 2 * kSub) % kSub;
  return static_cast<std::uint64_t>(kSub + sub) << shift;
}

std::uint64_t LatencyHistogram::upper_bound(std::size_t i) noexcept {
  if (i < 2 * kSub) return i + 1;
  const std::size_t shift = (i - 2 * kSub) / kSub + 1;
  return lower_bound(i) + (std::uint64_t{1} << shift);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
}

Percentiles LatencyHistogram::percentiles() const {
  Percentiles p;
  p.count = total_;
  if (total_ == 0) {
    p.p50 = p.p90 = p.p95 = p.p99 = p.p999 = p.max = p.mean = kNaN;
    return p;
  }
  const auto at = [&](double q) {
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_) - 1e-9));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= std::max<std::uint64_t>(rank, 1)) {
        return static_cast<double>(std::min(upper_bound(i) - 1, max_));
      }
    }
    return static_cast<double>(max_);
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p95 = at(0.95);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = static_cast<double>(max_);
  double sum = 0.0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (counts_[i] != 0) {
      const double mid = 0.5 * static_cast<double>(lower_bound(i) + upper_bound(i) - 1);
      sum += mid * static_cast<double>(counts_[i]);
    }
  }
  p.mean = sum / static_cast<double>(total_);
  return p;
}

Histogram LatencyHistogram::to_histogram(std::size_t max_buckets) const {
  Histogram h;
  h.total = total_;
  std::size_t first = kBuckets;
  std::size_t last = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    if (counts_[i] != 0) {
      first = std::min(first, i);
      last = i;
    }
  }
  if (first == kBuckets) return h;
  // Log-spaced edges from the first bucket's lower bound to the last one's upper bound; every
  // fine bucket falls wholly into one bar because bars are unions of consecutive fine buckets.
  const double lo = std::max<double>(1.0, static_cast<double>(lower_bound(first)));
  const double hi = static_cast<double>(upper_bound(last));
  const std::size_t bars = std::max<std::size_t>(1, std::min(max_buckets, last - first + 1));
  h.edges.push_back(static_cast<double>(lower_bound(first)));
  std::size_t fine = first;
  for (std::size_t b = 1; b <= bars; ++b) {
    const double edge = b == bars ? hi : lo * std::pow(hi / lo, static_cast<double>(b) /
                                                                    static_cast<double>(bars));
    std::uint64_t count = 0;
    while (fine <= last && static_cast<double>(upper_bound(fine)) <= edge) count += counts_[fine++];
    if (b == bars) {
      while (fine <= last) count += counts_[fine++];
    }
    const double upper = fine > first ? static_cast<double>(upper_bound(fine - 1)) : edge;
    if (upper <= h.edges.back()) continue;  // an empty bar: no fine bucket ended inside it
    h.edges.push_back(upper);
    h.counts.push_back(count);
  }
  return h;
}

Histogram linear_histogram(std::span<const double> sorted_values, std::size_t buckets) {
  Histogram h;
  h.total = sorted_values.size();
  if (sorted_values.empty() || buckets == 0) return h;
  const std::size_t k = std::min(sorted_values.size() - 1,
                                 static_cast<std::size_t>(0.999 * static_cast<double>(sorted_values.size())));
  double top = std::max(sorted_values[k], 1e-3);
  // A round bucket width: 1, 2 or 5 times a power of ten.
  const double raw = top / static_cast<double>(buckets);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double width = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw) {
      width = m * magnitude;
      break;
    }
  }
  h.edges.resize(buckets + 1);
  for (std::size_t i = 0; i <= buckets; ++i) h.edges[i] = width * static_cast<double>(i);
  h.counts.assign(buckets, 0);
  for (double v : sorted_values) {
    if (v < 0.0) {
      ++h.underflow;
      continue;
    }
    const auto i = static_cast<std::size_t>(v / width);
    if (i >= buckets) {
      ++h.overflow;
    } else {
      ++h.counts[i];
    }
  }
  return h;
}

}  // namespace switchboard::loadtest
