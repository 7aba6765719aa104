// R13 affinity, against the reference router: the affinity agent gets the item when eligible;
// affinity items come before the other items of their queue; an ineligible affinity agent leaves
// the item to the normal order-by.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router_harness.hpp"

namespace switchboard::testing {
namespace {

constexpr ArrowStyle kStyle{true, true, false};

std::vector<std::string> briefs(const std::vector<Decision>& decisions) {
  return arrows(decisions, kStyle);
}

using Briefs = std::vector<std::string>;

std::vector<Decision> arrive_with_affinity(RouterHarness& h, Timestamp t, ExternalId item,
                                           QueueId queue, ExternalId affinity,
                                           std::vector<SkillRequirement> skills = {},
                                           Attributes attributes = {}) {
  ItemArrive arrive;
  arrive.item = std::move(item);
  arrive.queue = queue;
  arrive.skills = std::move(skills);
  arrive.attributes = std::move(attributes);
  arrive.affinity_agent = std::move(affinity);
  return h.send(t, arrive);
}

// One chat queue, highest capacity. "carol" has the most free capacity, so she wins the normal
// order; "alice" joined first (wins round robin), "bob" has the least capacity.
Config chat_queue() {
  Config config = base_config();
  add_queue(config, "support", kChat);
  return config;
}

void three_agents(RouterHarness& h, PresenceId bob_presence = kAvailable) {
  h.agent(1, "alice", 2, {0});
  h.agent(2, "bob", 1, {0}, {}, bob_presence);
  h.agent(3, "carol", 5, {0});
}

TEST(R13Affinity, EligibleAffinityAgentGetsTheItemOverTheMethodsChoice) {
  RouterHarness h(chat_queue());
  three_agents(h);
  EXPECT_EQ(briefs(arrive_with_affinity(h, 10, "c1", 0, "bob")), Briefs{"offer:c1>bob/affinity"});
}

TEST(R13Affinity, WithoutAffinityTheMethodDecides) {
  // Control for the test above: the same item without affinity goes to carol.
  RouterHarness h(chat_queue());
  three_agents(h);
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0)), Briefs{"offer:c1>carol/method"});
}

TEST(R13Affinity, AffinityItemsComeBeforeOlderNonAffinityItems) {
  RouterHarness h(chat_queue());
  h.agent(1, "bob", 1, {0}, {}, kOffline);
  h.arrive(10, "old", 0);
  arrive_with_affinity(h, 20, "mine", 0, "bob");
  h.arrive(30, "newer", 0);
  EXPECT_EQ(h.router().queue_order(0), (std::vector<ExternalId>{"mine", "old", "newer"}));
  EXPECT_EQ(briefs(h.send(40, PresenceChange{"bob", kAvailable})), Briefs{"offer:mine>bob/affinity"});
}

TEST(R13Affinity, AffinityItemsAreFifoAmongThemselves) {
  RouterHarness h(chat_queue());
  h.agent(1, "bob", 1, {0}, {}, kOffline);
  h.arrive(5, "plain", 0);
  arrive_with_affinity(h, 10, "aff-old", 0, "someone-else");
  arrive_with_affinity(h, 20, "aff-new", 0, "bob");
  EXPECT_EQ(h.router().queue_order(0), (std::vector<ExternalId>{"aff-old", "aff-new", "plain"}));
  // bob is not the affinity agent of aff-old, but it is first in the queue: he gets it (method).
  EXPECT_EQ(briefs(h.send(40, PresenceChange{"bob", kAvailable})),
            Briefs{"offer:aff-old>bob/method"});
}

TEST(R13Affinity, AffinityItemsSkipPrioritizationAndComeBeforeHigherPriorityItems) {
  Config config = chat_queue();
  config.queues[0].prioritization.push_back(
      PrioritizationRule{"high first", item_equals("priority", "High"), ItemOrder{}});
  RouterHarness h(std::move(config));
  h.agent(1, "bob", 1, {0}, {}, kOffline);
  h.arrive(10, "high", 0, {}, {{"priority", AttrValue{std::string("High")}}});
  arrive_with_affinity(h, 20, "low-mine", 0, "bob", {}, {{"priority", AttrValue{std::string("Low")}}});
  EXPECT_EQ(h.router().queue_order(0), (std::vector<ExternalId>{"low-mine", "high"}));
  EXPECT_EQ(briefs(h.send(40, PresenceChange{"bob", kAvailable})),
            Briefs{"offer:low-mine>bob/affinity"});
}

TEST(R13Affinity, OfflineAffinityAgentLeavesTheItemToTheNormalOrder) {
  RouterHarness h(chat_queue());
  three_agents(h, kOffline);
  EXPECT_EQ(briefs(arrive_with_affinity(h, 10, "c1", 0, "bob")), Briefs{"offer:c1>carol/method"});
}

TEST(R13Affinity, AffinityAgentAtCapacityLeavesTheItemToTheNormalOrder) {
  RouterHarness h(chat_queue());
  three_agents(h);
  EXPECT_EQ(briefs(arrive_with_affinity(h, 10, "first", 0, "bob")),
            Briefs{"offer:first>bob/affinity"});
  // bob (capacity 1) is full: the next item naming him goes to carol by highest capacity.
  EXPECT_EQ(briefs(arrive_with_affinity(h, 20, "second", 0, "bob")),
            Briefs{"offer:second>carol/method"});
}

TEST(R13Affinity, AffinityAgentWhoDeclinedIsNotPreferredAgain) {
  RouterHarness h(chat_queue());
  three_agents(h);
  EXPECT_EQ(briefs(arrive_with_affinity(h, 10, "c1", 0, "bob")), Briefs{"offer:c1>bob/affinity"});
  EXPECT_EQ(briefs(h.decline(20, "c1", "bob")), (Briefs{"requeued:c1>bob", "offer:c1>carol/method"}));
  // carol declines too: alice, who has not declined, is next (not bob, not by affinity).
  EXPECT_EQ(briefs(h.decline(30, "c1", "carol")),
            (Briefs{"requeued:c1>carol", "offer:c1>alice/method"}));
}

TEST(R13Affinity, AffinityAgentWhoDeclinedAndIsTheOnlyAgentGetsItBackByTheMethodNotByAffinity) {
  RouterHarness h(chat_queue());
  h.agent(1, "bob", 1, {0});
  EXPECT_EQ(briefs(arrive_with_affinity(h, 10, "c1", 0, "bob")), Briefs{"offer:c1>bob/affinity"});
  EXPECT_EQ(briefs(h.decline(20, "c1", "bob")), (Briefs{"requeued:c1>bob", "offer:c1>bob/method"}));
}

TEST(R13Affinity, AffinityAgentOutsideTheQueueIsNotEligible) {
  RouterHarness h(chat_queue());
  h.agent(1, "alice", 2, {0});
  h.agent(2, "outsider", 9, {});
  EXPECT_EQ(briefs(arrive_with_affinity(h, 10, "c1", 0, "outsider")),
            Briefs{"offer:c1>alice/method"});
}

TEST(R13Affinity, AffinityAgentWithoutTheRequiredSkillIsNotEligible) {
  RouterHarness h(chat_queue());
  h.agent(1, "alice", 2, {0}, {SkillLevel{4, 1}});
  h.agent(2, "bob", 1, {0});
  EXPECT_EQ(briefs(arrive_with_affinity(h, 10, "c1", 0, "bob", {SkillRequirement{4, 1}})),
            Briefs{"offer:c1>alice/method"});
}

TEST(R13Affinity, AffinityAgentInADisallowedPresenceIsNotEligible) {
  RouterHarness h(chat_queue());
  three_agents(h, kBusy);  // chat allows only "available"
  EXPECT_EQ(briefs(arrive_with_affinity(h, 10, "c1", 0, "bob")), Briefs{"offer:c1>carol/method"});
}

TEST(R13Affinity, WaitingAffinityItemGoesToItsAgentWhenHeBecomesAvailableBeforeOthers) {
  RouterHarness h(chat_queue());
  h.agent(1, "bob", 1, {0}, {}, kOffline);
  h.agent(2, "carol", 5, {0}, {}, kOffline);
  arrive_with_affinity(h, 10, "c1", 0, "bob");
  EXPECT_EQ(briefs(h.send(20, PresenceChange{"bob", kAvailable})), Briefs{"offer:c1>bob/affinity"});
  EXPECT_EQ(briefs(h.send(21, PresenceChange{"carol", kAvailable})), Briefs{});
}

}  // namespace
}  // namespace switchboard::testing
