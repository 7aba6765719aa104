#pragma once
// How events reach a Kernel from many threads and decisions leave it, with no mutex on either
// path: events go into a moodycamel::ConcurrentQueue (one producer token per producing thread,
// so each producer's events keep their order), the driver bulk-dequeues a batch and applies it
// with Kernel::apply_batch, and the decisions go into a second ConcurrentQueue that a consumer
// drains. docs/kernel.md, "Ingress and egress".
//
// Threads:
//   - submit(): any number of threads, each with its own Producer.
//   - pump(): one driver thread at a time (it owns the Kernel while it runs).
//   - drain(): one consumer thread at a time (it owns the consumer token).
// Progress: the queues are lock-free (moodycamel); a producer never waits for the driver, and
// the driver never waits for the consumer.

#include <concurrentqueue/concurrentqueue.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "switchboard/decision.hpp"
#include "switchboard/events.hpp"
#include "switchboard/kernel.hpp"

namespace switchboard {

struct PipelineOptions {
  std::size_t max_batch = 1024;  // events one pump() dequeues and applies at most
  bool keep_journal = false;     // record the events in the order they were applied (tests)
};

class RoutingPipeline {
 public:
  // A producing thread's handle: keeps that thread's events in submission order.
  class Producer {
   public:
    explicit Producer(RoutingPipeline& pipeline) : token_(pipeline.ingress_) {}

   private:
    friend class RoutingPipeline;
    moodycamel::ProducerToken token_;
  };

  // The kernel must outlive the pipeline; only pump() touches it.
  explicit RoutingPipeline(Kernel& kernel, PipelineOptions options = {});
  RoutingPipeline(const RoutingPipeline&) = delete;
  RoutingPipeline& operator=(const RoutingPipeline&) = delete;

  // Any thread, with its own Producer. False only when memory for the queue cannot be had; the
  // event is then not queued and the caller still owns the decision to retry.
  bool submit(Producer& producer, Event event);
  bool submit_bulk(Producer& producer, std::span<const Event> events);

  // The driver: dequeues up to max_batch events, applies them in dequeue order and publishes
  // their decisions. Returns how many events it applied (0: nothing was waiting).
  std::size_t pump();

  // The consumer: moves up to `max` published decisions, in order, to the end of `out`.
  std::size_t drain(std::vector<Decision>& out, std::size_t max);

  // Approximate (moodycamel's size_approx): events waiting to be applied.
  [[nodiscard]] std::size_t pending_events() const { return ingress_.size_approx(); }
  // Events applied so far, in order, when PipelineOptions::keep_journal (driver thread only).
  [[nodiscard]] const std::vector<Event>& journal() const noexcept { return journal_; }

 private:
  Kernel& kernel_;
  PipelineOptions options_;
  moodycamel::ConcurrentQueue<Event> ingress_;
  moodycamel::ConcurrentQueue<Decision> egress_;
  // Driver-owned.
  moodycamel::ConsumerToken ingress_consumer_;
  moodycamel::ProducerToken egress_producer_;
  std::vector<Event> batch_;
  std::vector<Decision> decisions_;
  std::vector<Event> journal_;
  // Consumer-owned.
  moodycamel::ConsumerToken egress_consumer_;
  std::vector<Decision> drained_;
};

}  // namespace switchboard
