#pragma once
// The engines the benchmark replays a workload through. The reference router is the only one
// today; the lock-free kernel (issue 3) plugs in here by adding an EngineKind to engines().
//
// Not thread-safe: the benchmark owns an Engine on one thread; an engine that decides on threads
// of its own hides them behind apply() and drain().

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "switchboard/config.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/events.hpp"
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
  // The lock-free kernel arrives with issue 3:
  //   kinds.push_back(EngineKind{"kernel", {1, 2}, false, [](const Config& c, int threads) {...}});
  return kinds;
}

}  // namespace switchboard::bench
