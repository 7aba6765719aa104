#pragma once
// The simulator's random numbers: xoshiro256** seeded through splitmix64, and the distributions
// it draws from, written out here rather than taken from <random> because the standard leaves
// std::*_distribution's algorithms to the library: the same seed must give the same run with
// every compiler (docs/load-testing.md, "Determinism").
//
// Not thread-safe: one Rng per replication thread.

#include <cmath>
#include <cstdint>

#include "scenario.hpp"

namespace switchboard::loadtest {

[[nodiscard]] inline std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The splitmix64 finalizer alone: a bijective 64-bit mix (every input bit reaches every output
// bit), used to combine the words of a stream's key.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The seed of the stream named by (seed, a, b, c): every word goes through its own splitmix64
// step on top of the previous mix, so keys that differ in any word (or only in the order of
// their words) give unrelated seeds. Rng(stream_seed(...)) then expands it with four more
// splitmix64 steps. The simulator keys its streams by what they stand for (a queue's
// arrivals, one customer, one agent) so that a draw never depends on the order of the events
// routing causes (docs/load-testing.md, "Random streams").
[[nodiscard]] constexpr std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t a,
                                                  std::uint64_t b = 0,
                                                  std::uint64_t c = 0) noexcept {
  std::uint64_t h = mix64(seed + 0x9E3779B97F4A7C15ull);
  h = mix64(h ^ (a + 0x3C6EF372FE94F82Aull));  // 2 x the golden ratio, then 3x, 4x
  h = mix64(h ^ (b + 0xDAA66D2C7DDF743Full));
  return mix64(h ^ (c + 0x78DDE6E5FD29F054ull));
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept {
    std::uint64_t s = seed;
    for (auto& word : state_) word = splitmix64(s);
  }

  [[nodiscard]] std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, 1), 53 bits.
  [[nodiscard]] double uniform() noexcept {
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
  }
  // Uniform in (0, 1]: safe under log().
  [[nodiscard]] double uniform_open0() noexcept { return 1.0 - uniform(); }
  [[nodiscard]] double exponential(double mean) noexcept { return -std::log(uniform_open0()) * mean; }
  // Standard normal (Marsaglia's polar method; the spare value is kept).
  [[nodiscard]] double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0.0;
    double v = 0.0;
    double s = 0.0;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  // Gamma with shape k and scale 1 (Marsaglia and Tsang 2000; k < 1 by boosting to k + 1).
  [[nodiscard]] double gamma(double k) noexcept {
    if (k < 1.0) return gamma(k + 1.0) * std::pow(uniform_open0(), 1.0 / k);
    const double d = k - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
      double x = 0.0;
      double v = 0.0;
      do {
        x = normal();
        v = 1.0 + c * x;
      } while (v <= 0.0);
      v = v * v * v;
      const double u = uniform_open0();
      if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
      if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
    }
  }
  // Index drawn with probability weights[i] / total.
  template <typename Weights>
  [[nodiscard]] std::size_t pick(const Weights& weights, double total) noexcept {
    double r = uniform() * total;
    for (std::size_t i = 0; i + 1 < weights.size(); ++i) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return weights.size() - 1;
  }

  // A draw from `d`, seconds.
  [[nodiscard]] double draw(const Distribution& d) noexcept {
    switch (d.kind) {
      case DistributionKind::constant: return d.mean_s;
      case DistributionKind::exponential: return exponential(d.mean_s);
      case DistributionKind::lognormal: {
        // The parameters of the underlying normal that give the stated mean and deviation.
        const double ratio = d.stddev_s / d.mean_s;
        const double sigma2 = std::log1p(ratio * ratio);
        const double mu = std::log(d.mean_s) - 0.5 * sigma2;
        return std::exp(mu + std::sqrt(sigma2) * normal());
      }
      case DistributionKind::gamma: {
        const double shape = (d.mean_s * d.mean_s) / (d.stddev_s * d.stddev_s);
        const double scale = (d.stddev_s * d.stddev_s) / d.mean_s;
        return gamma(shape) * scale;
      }
    }
    return d.mean_s;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4] = {};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace switchboard::loadtest
