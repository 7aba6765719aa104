// RoutingPipeline (routing_pipeline.hpp): events from many producer threads through the lock-free
// ingress queue, one driver applying them, decisions out through the egress queue to a consumer
// thread. Runs under ThreadSanitizer in CI (the tsan preset runs the unit label).

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "router_harness.hpp"
#include "switchboard/reference_router.hpp"
#include "switchboard/routing_pipeline.hpp"

namespace switchboard::testing {
namespace {

constexpr int kProducers = 4;
constexpr std::uint64_t kAgentsPerProducer = 8;

Config pipeline_config() {
  Config config = base_config();
  for (int p = 0; p < kProducers; ++p) add_queue(config, "q" + std::to_string(p), kChat);
  for (int p = 0; p < kProducers; ++p) {
    for (std::uint64_t a = 0; a < kAgentsPerProducer; ++a) {
      AgentSeed seed;
      seed.id = ExternalId(static_cast<std::uint64_t>(p) * 100 + a);
      seed.presence = kAvailable;
      seed.capacity.units = 2;
      seed.queues = {static_cast<QueueId>(p)};
      config.agents.push_back(seed);
    }
  }
  return config;
}

// Producer p: its own items arriving in its queue, its agents going busy and available again,
// and now and then an event the kernel refuses (an unknown item).
std::vector<Event> producer_events(int p, int count) {
  std::vector<Event> events;
  for (int k = 0; k < count; ++k) {
    Event e;
    e.time = k;
    e.sequence = static_cast<std::uint64_t>(p) * 1'000'000 + static_cast<std::uint64_t>(k);
    const std::uint64_t item = static_cast<std::uint64_t>(p) * 1'000'000 + static_cast<std::uint64_t>(k);
    const ExternalId agent(static_cast<std::uint64_t>(p) * 100 + static_cast<std::uint64_t>(k) % kAgentsPerProducer);
    switch (k % 5) {
      case 0:
      case 1: {
        ItemArrive arrive;
        arrive.item = ExternalId(item);
        arrive.queue = static_cast<QueueId>(p);
        e.body = arrive;
        break;
      }
      case 2: e.body = PresenceChange{agent, (k / 5) % 2 == 0 ? kBusy : kAvailable}; break;
      case 3: e.body = ItemCancel{ExternalId(item - 2)}; break;  // cancels an earlier arrival
      default: e.body = ItemComplete{ExternalId(item + 7'777'777)}; break;  // unknown: refused
    }
    events.push_back(std::move(e));
  }
  return events;
}

void run_pipeline(int threads, int per_producer) {
  const Config config = pipeline_config();
  KernelOptions options;
  options.threads = threads;
  Result<Kernel> created = Kernel::create(config, options);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  Kernel kernel = std::move(created).value();
  PipelineOptions pipeline_options;
  pipeline_options.max_batch = 64;
  pipeline_options.keep_journal = true;
  RoutingPipeline pipeline(kernel, pipeline_options);

  const std::size_t total = static_cast<std::size_t>(kProducers) * static_cast<std::size_t>(per_producer);
  std::atomic<bool> driver_done{false};
  std::vector<Decision> consumed;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      RoutingPipeline::Producer producer(pipeline);
      const std::vector<Event> events = producer_events(p, per_producer);
      for (std::size_t k = 0; k < events.size(); ++k) {
        if (k % 3 == 0 && k + 3 <= events.size()) {
          ASSERT_TRUE(pipeline.submit_bulk(producer, std::span<const Event>(&events[k], 3)));
          k += 2;
        } else {
          ASSERT_TRUE(pipeline.submit(producer, events[k]));
        }
      }
    });
  }
  std::thread consumer([&] {
    for (;;) {
      const bool finished = driver_done.load(std::memory_order_acquire);
      if (pipeline.drain(consumed, 256) == 0 && finished) break;
    }
  });
  std::size_t applied = 0;
  std::uint64_t on_lanes = 0;
  while (applied < total) {
    applied += pipeline.pump();
    on_lanes += kernel.parallel_events();  // same thread as pump(): the driver's
  }
  driver_done.store(true, std::memory_order_release);
  for (std::thread& t : producers) t.join();
  consumer.join();
  EXPECT_EQ(pipeline.pump(), 0u);
  EXPECT_EQ(kernel.check_invariants(), "");

  // Nothing lost, each producer's events in its own order.
  const std::vector<Event>& journal = pipeline.journal();
  ASSERT_EQ(journal.size(), total);
  std::map<std::uint64_t, std::uint64_t> last_of_producer;
  for (const Event& e : journal) {
    const std::uint64_t producer = e.sequence / 1'000'000;
    const auto it = last_of_producer.find(producer);
    if (it != last_of_producer.end()) {
      EXPECT_LT(it->second, e.sequence) << "producer " << producer << " reordered";
    }
    last_of_producer[producer] = e.sequence;
  }
  // The decisions drained are exactly the reference's for the order the kernel applied.
  ReferenceRouter reference(config);
  std::vector<Decision> expected;
  for (const Event& e : journal) reference.apply(e, expected);
  ASSERT_EQ(consumed.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_TRUE(consumed[i].same_decision(expected[i]))
        << "decision " << i << ": got " << describe(consumed[i]) << ", expected " << describe(expected[i]);
  }
  std::size_t offers = 0, errors = 0;
  for (const Decision& d : consumed) {
    offers += d.kind == DecisionKind::offer ? 1 : 0;
    errors += d.kind == DecisionKind::error ? 1 : 0;
  }
  EXPECT_GT(offers, 0u);
  EXPECT_GT(errors, 0u);
  if (threads > 1) {
    // Four producers, four disjoint queues: batches split into lanes, so the parallel path ran.
    EXPECT_GT(on_lanes, 0u) << "no event ran on a parallel lane";
  }
}

TEST(RoutingPipeline, ManyProducersOneDriverOneConsumerLoseNothingAndKeepEachProducersOrder) {
  run_pipeline(1, 2'000);
}

TEST(RoutingPipeline, ParallelKernelBehindThePipelineDecidesAsTheReference) {
  run_pipeline(2, 2'000);
}

}  // namespace
}  // namespace switchboard::testing
