#include "switchboard/routing_pipeline.hpp"

#include <iterator>

// GCC 12 reports a false -Wstringop-overflow inside moodycamel's enqueue_bulk once it is inlined
// here (an atomic load it believes reads a zero-sized region; the same family as GCC bugs 104475
// and 105705). The header is third-party; the diagnostic is noise, not a finding.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif

namespace switchboard {

RoutingPipeline::RoutingPipeline(Kernel& kernel, PipelineOptions options)
    : kernel_(kernel),
      options_(options),
      ingress_consumer_(ingress_),
      egress_producer_(egress_),
      egress_consumer_(egress_) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  batch_.resize(options_.max_batch);
}

bool RoutingPipeline::submit(Producer& producer, Event event) {
  return ingress_.enqueue(producer.token_, std::move(event));
}

bool RoutingPipeline::submit_bulk(Producer& producer, std::span<const Event> events) {
  return ingress_.enqueue_bulk(producer.token_, events.begin(), events.size());
}

std::size_t RoutingPipeline::pump() {
  // try_dequeue_bulk with a consumer token: one producer's sub-queue at a time, in its order.
  const std::size_t n = ingress_.try_dequeue_bulk(ingress_consumer_, batch_.begin(), batch_.size());
  if (n == 0) return 0;
  decisions_.clear();
  kernel_.apply_batch(std::span<const Event>(batch_.data(), n), decisions_);
  if (options_.keep_journal) journal_.insert(journal_.end(), batch_.begin(), batch_.begin() + static_cast<std::ptrdiff_t>(n));
  // enqueue_bulk fails only when memory for a new block cannot be had; then publish one by one
  // (each enqueue allocates as it needs), so that no decision is dropped.
  if (!egress_.enqueue_bulk(egress_producer_, decisions_.begin(), decisions_.size())) {
    for (Decision& d : decisions_) {
      while (!egress_.enqueue(egress_producer_, d)) {
      }
    }
  }
  return n;
}

std::size_t RoutingPipeline::drain(std::vector<Decision>& out, std::size_t max) {
  drained_.resize(max);
  const std::size_t n = egress_.try_dequeue_bulk(egress_consumer_, drained_.begin(), max);
  std::move(drained_.begin(), drained_.begin() + static_cast<std::ptrdiff_t>(n), std::back_inserter(out));
  return n;
}

}  // namespace switchboard
