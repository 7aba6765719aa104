// R8 order within a queue in the reference router: FIFO by creation time, asynchronous messaging
// by the customer's last message, the prioritization ruleset of ROUTING.md's example (three rules,
// buckets, order-by), attribute changes taking effect at the next cycle, and affinity items (R13)
// before everything else. Rules are parsed with the condition language (harness `condition`).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router_harness.hpp"

using namespace switchboard;
using namespace switchboard::testing;

namespace {

using Lines = std::vector<std::string>;
using Ids = std::vector<ExternalId>;

constexpr Timestamp kMinute = 60 * 1000;
constexpr Timestamp kDay = 24 * 60 * kMinute;

struct Arrival {
  Arrival(ExternalId id_, Timestamp created_, Attributes attributes_ = {},
          std::optional<Timestamp> last_message_ = std::nullopt,
          std::optional<ExternalId> affinity_ = std::nullopt)
      : id(std::move(id_)),
        created(created_),
        attributes(std::move(attributes_)),
        last_message(last_message_),
        affinity(std::move(affinity_)) {}
  ExternalId id;
  Timestamp created = 0;
  Attributes attributes;
  std::optional<Timestamp> last_message;
  std::optional<ExternalId> affinity;
};

std::vector<Decision> arrive(RouterHarness& h, Timestamp t, QueueId queue, Arrival a) {
  ItemArrive e;
  e.item = std::move(a.id);
  e.queue = queue;
  e.created = a.created;
  e.last_message = a.last_message;
  e.attributes = std::move(a.attributes);
  e.affinity_agent = std::move(a.affinity);
  return h.send(t, e);
}

PrioritizationRule rule(const Config& config, std::string name, std::string_view when,
                        std::string order_attribute = {}, bool descending = false) {
  PrioritizationRule r;
  r.name = std::move(name);
  r.when = condition(config, when, ConditionScope::item_only);
  r.order_by = ItemOrder{std::move(order_attribute), descending};
  return r;
}

// ROUTING.md R8 example: "priority = High and category = Premium, FIFO", then "category =
// Premium, FIFO", then "priority = High, order by first_response_by ascending".
QueueId add_example_queue(Config& config) {
  const QueueId q = add_queue(config, "Premium Support", kChat);
  config.queues[q].prioritization = {
      rule(config, "high premium", R"(item.priority == "High" and item.category == "Premium")"),
      rule(config, "premium", R"(item.category == "Premium")"),
      rule(config, "high", R"(item.priority == "High")", "first_response_by"),
  };
  return q;
}

Attributes attrs(std::string priority, std::string category) {
  return Attributes{{"priority", std::move(priority)}, {"category", std::move(category)}};
}
Attributes attrs(std::string priority, std::string category, std::int64_t first_response_by) {
  Attributes a = attrs(std::move(priority), std::move(category));
  a["first_response_by"] = first_response_by;
  return a;
}

}  // namespace

TEST(R8QueueOrder, FifoByCreationTimeNotByArrival) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  arrive(h, 1000, q, {"x", 300});
  arrive(h, 1001, q, {"y", 100});
  arrive(h, 1002, q, {"z", 200});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"y", "z", "x"}));
  EXPECT_EQ(trace(h.agent(2000, "ann", 1, {q})), Lines{"offer y ann q0 method @2000"});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"z", "x"}));
}

TEST(R8QueueOrder, EqualCreationTimesKeepArrivalOrder) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  arrive(h, 1000, q, {"b", 500});
  arrive(h, 1001, q, {"a", 500});
  arrive(h, 1002, q, {"c", 500});
  arrive(h, 1003, q, {"first", 499});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"first", "b", "a", "c"}));
}

TEST(R8QueueOrder, DefaultCreationTimeIsTheArrivalTime) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.arrive(1000, "late", q);
  arrive(h, 1001, q, {"early", 999});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"early", "late"}));
}

TEST(R8QueueOrder, ReturningMessagingCustomerQueuesBehindThoseAlreadyWaiting) {
  Config config = base_config();
  const QueueId q = add_queue(config, "WhatsApp", kMessaging);
  RouterHarness h(config);
  const Timestamp now = 10 * kDay;
  arrive(h, now - 30 * kMinute, q, {"a", now - 30 * kMinute});
  arrive(h, now - 20 * kMinute, q, {"b", now - 20 * kMinute});
  // A conversation opened days ago whose customer writes again now.
  arrive(h, now, q, {"returning", now - 3 * kDay, {}, now});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"a", "b", "returning"}));
  EXPECT_EQ(trace(h.agent(now + 1, "ann", 1, {q})),
            Lines{"offer a ann q0 method @" + std::to_string(now + 1)});
}

TEST(R8QueueOrder, SameItemsInAChatQueueGoByCreationTime) {
  // Contrast with the messaging queue above: without order-by-last-message, the conversation
  // created days ago is the oldest.
  Config config = base_config();
  const QueueId q = add_queue(config, "Chat", kChat);
  RouterHarness h(config);
  const Timestamp now = 10 * kDay;
  arrive(h, now - 30 * kMinute, q, {"a", now - 30 * kMinute});
  arrive(h, now - 20 * kMinute, q, {"b", now - 20 * kMinute});
  arrive(h, now, q, {"returning", now - 3 * kDay, {}, now});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"returning", "a", "b"}));
}

TEST(R8QueueOrder, MessagingLastMessageDefaultsToCreatedAndMovesWithItemUpdate) {
  Config config = base_config();
  const QueueId q = add_queue(config, "WhatsApp", kMessaging);
  RouterHarness h(config);
  arrive(h, 1000, q, {"a", 100});  // last_message defaults to created
  arrive(h, 1001, q, {"b", 200});
  arrive(h, 1002, q, {"c", 50, {}, 300});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"a", "b", "c"}));
  // The customer of a writes again: a goes behind the others.
  ItemUpdate update;
  update.item = "a";
  update.last_message = 5000;
  EXPECT_EQ(trace(h.send(5000, update)), Lines{});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"b", "c", "a"}));
}

TEST(R8Prioritization, ThreeRuleExampleFromRoutingMd) {
  Config config = base_config();
  const QueueId q = add_example_queue(config);
  RouterHarness h(config);
  Timestamp t = 10000;
  arrive(h, t++, q, {"hp1", 100, attrs("High", "Premium")});
  arrive(h, t++, q, {"ls1", 150, attrs("Low", "Standard")});
  arrive(h, t++, q, {"lp2", 200, attrs("Low", "Premium")});
  arrive(h, t++, q, {"hs1", 250, attrs("High", "Standard", 9000)});
  arrive(h, t++, q, {"hp3", 300, attrs("High", "Premium")});
  arrive(h, t++, q, {"hs2", 350, attrs("High", "Standard", 5000)});
  arrive(h, t++, q, {"ms2", 400, attrs("Medium", "Standard")});
  arrive(h, t++, q, {"lp4", 50, attrs("Low", "Premium")});
  arrive(h, t++, q, {"hs3", 60, attrs("High", "Standard", 7000)});
  arrive(h, t++, q, {"hs4", 500, attrs("High", "Standard", 7000)});  // ties hs3: FIFO
  arrive(h, t++, q, {"none", 10});                                   // no attributes at all
  EXPECT_EQ(h.router().queue_order(q), (Ids{
                                           "hp1", "hp3",                // bucket 1, FIFO
                                           "lp4", "lp2",                // bucket 2, FIFO
                                           "hs2", "hs3", "hs4", "hs1",  // bucket 3, deadline
                                           "none", "ls1", "ms2",        // the rest, FIFO
                                       }));
  // The cycle offers in that order.
  EXPECT_EQ(trace(h.agent(20000, "ann", 4, {q})),
            (Lines{"offer hp1 ann q0 method @20000", "offer hp3 ann q0 method @20000",
                   "offer lp4 ann q0 method @20000", "offer lp2 ann q0 method @20000"}));
  EXPECT_EQ(h.router().queue_order(q), (Ids{"hs2", "hs3", "hs4", "hs1", "none", "ls1", "ms2"}));
}

TEST(R8Prioritization, DescendingOrderByAndMissingValueLast) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Scored", kChat);
  config.queues[q].prioritization = {
      rule(config, "scored", R"(item.tier == "A")", "score", /*descending=*/true)};
  RouterHarness h(config);
  arrive(h, 1000, q, {"s10", 1, {{"tier", std::string("A")}, {"score", std::int64_t{10}}}});
  arrive(h, 1001, q, {"nos", 2, {{"tier", std::string("A")}}});
  arrive(h, 1002, q, {"s30", 3, {{"tier", std::string("A")}, {"score", std::int64_t{30}}}});
  arrive(h, 1003, q, {"s20", 4, {{"tier", std::string("A")}, {"score", std::int64_t{20}}}});
  arrive(h, 1004, q, {"other", 0, {{"tier", std::string("B")}, {"score", std::int64_t{99}}}});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"s30", "s20", "s10", "nos", "other"}));
}

TEST(R8Prioritization, RaisedPriorityTakesEffectAtTheNextCycle) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  config.queues[q].prioritization = {rule(config, "high", R"(item.priority == "High")")};
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q}, {}, kAway);
  arrive(h, 100, q, {"a", 100, {{"priority", std::string("Low")}}});
  arrive(h, 110, q, {"b", 110, {{"priority", std::string("Low")}}});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"a", "b"}));
  ItemUpdate update;
  update.item = "b";
  update.attributes = {{"priority", std::string("High")}};
  // item_update itself starts no cycle...
  EXPECT_EQ(trace(h.send(200, update)), Lines{});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"b", "a"}));
  // ...the next one sees the new priority.
  EXPECT_EQ(trace(h.send(300, PresenceChange{"ann", kAvailable})),
            Lines{"offer b ann q0 method @300"});
}

TEST(R8Prioritization, RemovedAttributeDropsTheItemToTheLastBucket) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  config.queues[q].prioritization = {rule(config, "high", R"(item.priority == "High")")};
  RouterHarness h(config);
  arrive(h, 100, q, {"a", 100});
  arrive(h, 110, q, {"b", 110, {{"priority", std::string("High")}}});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"b", "a"}));
  ItemUpdate update;
  update.item = "b";
  update.attributes = {{"priority", std::monostate{}}};
  h.send(200, update);
  EXPECT_EQ(h.router().queue_order(q), (Ids{"a", "b"}));
}

TEST(R8Affinity, AffinityItemsComeFirstInAFifoQueue) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  arrive(h, 100, q, {"a", 100});
  arrive(h, 110, q, {"aff2", 300, {}, {}, ExternalId("zed")});
  arrive(h, 120, q, {"b", 200});
  arrive(h, 130, q, {"aff1", 250, {}, {}, ExternalId("yan")});
  // Affinity items first, FIFO among themselves; then the rest FIFO.
  EXPECT_EQ(h.router().queue_order(q), (Ids{"aff1", "aff2", "a", "b"}));
  // Neither affinity agent is a member: ann gets the first affinity item by the method.
  EXPECT_EQ(trace(h.agent(1000, "ann", 1, {q})), Lines{"offer aff1 ann q0 method @1000"});
}

TEST(R8Affinity, AffinityItemsSkipPrioritizationAndComeBeforeBucketOne) {
  Config config = base_config();
  const QueueId q = add_example_queue(config);
  RouterHarness h(config);
  arrive(h, 100, q, {"hp", 100, attrs("High", "Premium")});
  arrive(h, 110, q, {"affLow", 500, attrs("Low", "Standard"), {}, ExternalId("zed")});
  arrive(h, 120, q, {"lp", 50, attrs("Low", "Premium")});
  EXPECT_EQ(h.router().queue_order(q), (Ids{"affLow", "hp", "lp"}));
}

TEST(R8Affinity, AffinityItemGoesToTheAffinityAgentWhenEligible) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 3, {q});
  h.agent(20, "zed", 1, {q});
  arrive(h, 100, q, {"a", 100});
  arrive(h, 110, q, {"aff", 110, {}, {}, ExternalId("zed")});
  // a went to ann (most capacity); aff went to zed by affinity although ann has more capacity.
  EXPECT_EQ(trace(h.all()),
            (Lines{"offer a ann q0 method @100", "offer aff zed q0 affinity @110"}));
}
