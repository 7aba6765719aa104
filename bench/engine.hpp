#pragma once
// The engines the benchmark replays a workload through: the reference router (the oracle and the
// naive baseline) and the kernel at 1 and 2 threads.
//
// Not thread-safe: the benchmark owns an Engine on one thread; an engine that decides on threads
// of its own hides them behind apply() and drain().

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "switchboard/config.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/events.hpp"
#include "switchboard/kernel.hpp"
#include "switchboard/reference_router.hpp"

namespace switchboard::bench {

class Engine {
 public:
  virtual ~Engine() = default;
  // Applies one event; appends the decisions it has made by now, in order, to `out`.
  virtual void apply(const Event& event, std::vector<Decision>& out) = 0;
  // Called once after the last event: an engine that decides asynchronously waits for its
  // work to finish and appends the decisions still outstanding. Timed with the replay.
  virtual void drain(std::vector<Decision>& out) { (void)out; }
  // Bytes per agent of the engine's agent table (hot columns and cold data), where it knows it.
  [[nodiscard]] virtual std::optional<double> bytes_per_agent() const { return std::nullopt; }
  // Bytes per agent of the hot columns alone (the fixed-width part a decision reads).
  [[nodiscard]] virtual std::optional<double> hot_bytes_per_agent() const { return std::nullopt; }
  // Priority inversions the engine observed (an item offered while an item ranked before it,
  // eligible for the same agent, waited); 0 for an engine that decides in exact order.
  [[nodiscard]] virtual std::uint64_t inversions() const { return 0; }
};

class ReferenceEngine final : public Engine {
 public:
  explicit ReferenceEngine(Config config) : router_(std::move(config)) {}
  void apply(const Event& event, std::vector<Decision>& out) override { router_.apply(event, out); }

 private:
  ReferenceRouter router_;
};

// The kernel fed in batches (apply_batch), as a host adapter feeds it: events queue up until a
// batch is full, and drain() applies the rest.
class KernelEngine final : public Engine {
 public:
  KernelEngine(const Config& config, int threads, std::size_t batch)
      : kernel_(make(config, threads)), batch_(batch) {
    pending_.reserve(batch_);
  }
  void apply(const Event& event, std::vector<Decision>& out) override {
    pending_.push_back(event);
    if (pending_.size() >= batch_) flush(out);
  }
  void drain(std::vector<Decision>& out) override { flush(out); }
  [[nodiscard]] std::optional<double> bytes_per_agent() const override {
    const KernelFootprint f = kernel_.footprint();
    return f.agents == 0 ? 0.0 : static_cast<double>(f.total_bytes) / static_cast<double>(f.agents);
  }
  [[nodiscard]] std::optional<double> hot_bytes_per_agent() const override {
    return static_cast<double>(kernel_.footprint().hot_bytes_per_agent);
  }

 private:
  static Kernel make(const Config& config, int threads) {
    KernelOptions options;
    options.threads = threads;
    Result<Kernel> kernel = Kernel::create(config, options);
    if (!kernel) throw std::invalid_argument("bench: the kernel refused the workload: " + kernel.error().message);
    return std::move(kernel).value();
  }
  void flush(std::vector<Decision>& out) {
    kernel_.apply_batch(pending_, out);
    pending_.clear();
  }
  Kernel kernel_;
  std::size_t batch_;
  std::vector<Event> pending_;
};

struct EngineKind {
  std::string name;           // "reference", "kernel"
  std::vector<int> threads;   // thread counts to run it at
  bool is_oracle = false;     // the reference: its decisions define "same" (differ_fraction 0)
  std::function<std::unique_ptr<Engine>(const Config&, int threads)> make;
};

// Every engine the benchmark knows, in the order they run per workload.
inline std::vector<EngineKind> engines() {
  std::vector<EngineKind> kinds;
  kinds.push_back(EngineKind{"reference", {1}, true, [](const Config& config, int) {
                               return std::unique_ptr<Engine>(new ReferenceEngine(config));
                             }});
  kinds.push_back(EngineKind{"kernel", {1, 2}, false, [](const Config& config, int threads) {
                               return std::unique_ptr<Engine>(new KernelEngine(config, threads, 1024));
                             }});
  return kinds;
}

}  // namespace switchboard::bench
