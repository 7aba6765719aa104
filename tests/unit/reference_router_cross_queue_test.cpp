// R12 work across queues, against the reference router: the four-queue example of ROUTING.md
// (VIP Support and Premium Support FIFO; Order Support and Invoice Inquiries with rulesets; all
// group 1) and the group number.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router_harness.hpp"

namespace switchboard::testing {
namespace {

constexpr ArrowStyle kStyle{};
std::string brief(const Decision& d) { return arrow(d, kStyle); }

std::vector<std::string> briefs(const std::vector<Decision>& decisions) {
  return arrows(decisions, kStyle);
}

using Briefs = std::vector<std::string>;

// item.<key> == "<value>", built by hand (independent of the condition parser).
Attributes priority(const std::string& p) { return Attributes{{"priority", AttrValue{p}}}; }

constexpr SkillId kAnnLacks = 9;

struct FourQueues {
  Config config;
  QueueId vip = 0, premium = 0, order = 0, invoice = 0;
};

// Queues declared in an order that is neither alphabetical nor the expected serving order, so
// that neither declaration order nor queue id can explain the result.
FourQueues four_queues() {
  FourQueues f;
  f.config = base_config();
  f.order = add_queue(f.config, "Order Support", kChat);
  f.vip = add_queue(f.config, "VIP Support", kChat);
  f.invoice = add_queue(f.config, "Invoice Inquiries", kChat);
  f.premium = add_queue(f.config, "Premium Support", kChat);
  for (QueueId q : {f.order, f.invoice}) {
    f.config.queues[q].prioritization.push_back(
        PrioritizationRule{"high first", item_equals("priority", "High"), ItemOrder{}});
  }
  for (const QueueConfig& q : f.config.queues) EXPECT_EQ(q.group, 1);
  return f;
}

// Items arrive while ann cannot take them. Times (= creation) chosen so that the oldest items
// are in the ruleset queues, and the FIFO queues interleave.
void arrive_all(RouterHarness& h, const FourQueues& f) {
  EXPECT_EQ(briefs(h.arrive(50, "vip-skilled", f.vip, {SkillRequirement{kAnnLacks, -1}})), Briefs{});
  EXPECT_EQ(briefs(h.arrive(100, "order-high", f.order, {}, priority("High"))), Briefs{});
  EXPECT_EQ(briefs(h.arrive(200, "invoice-low", f.invoice, {}, priority("Low"))), Briefs{});
  EXPECT_EQ(briefs(h.arrive(300, "premium-1", f.premium)), Briefs{});
  EXPECT_EQ(briefs(h.arrive(400, "vip-1", f.vip)), Briefs{});
  EXPECT_EQ(briefs(h.arrive(500, "premium-2", f.premium)), Briefs{});
  EXPECT_EQ(briefs(h.arrive(600, "order-low", f.order, {}, priority("Low"))), Briefs{});
  EXPECT_EQ(briefs(h.arrive(700, "invoice-high", f.invoice, {}, priority("High"))), Briefs{});
}

// Accepts and completes each offer in turn; returns the items ann is offered, in order. `first`
// are the decisions that made her available.
std::vector<std::string> serve_all(RouterHarness& h, std::vector<Decision> first, Timestamp t) {
  std::vector<std::string> served;
  std::vector<Decision> next = std::move(first);
  for (int guard = 0; guard < 20; ++guard) {
    const std::vector<Decision> offered = offers(next);
    if (offered.empty()) break;
    EXPECT_EQ(offered.size(), 1u) << describe(next);
    EXPECT_EQ(offered[0].agent, ExternalId("ann"));
    const ExternalId item = offered[0].item;
    served.push_back(item.to_string());
    EXPECT_EQ(briefs(h.accept(t, item, "ann")), Briefs{"assigned:" + item.to_string() + ">ann"});
    next = h.complete(t + 1, item);
    EXPECT_EQ(next.front().kind, DecisionKind::completed);
    t += 10;
  }
  return served;
}

const std::vector<std::string> kExpectedOrder = {
    // FIFO queues first, oldest item across VIP and Premium
    "premium-1", "vip-1", "premium-2",
    // then the ruleset queues alphabetically: Invoice Inquiries (High first), then Order Support
    "invoice-high", "invoice-low", "order-high", "order-low"};

TEST(R12AcrossQueues, FourQueueExampleAgentComingOnlineServesFifoQueuesOldestFirstThenInvoiceThenOrder) {
  FourQueues f = four_queues();
  RouterHarness h(f.config);
  h.agent(1, "ann", 1, {f.vip, f.premium, f.order, f.invoice}, {}, kOffline);
  arrive_all(h, f);
  const std::vector<std::string> served =
      serve_all(h, h.send(1'000, PresenceChange{"ann", kAvailable}), 1'001);
  EXPECT_EQ(served, kExpectedOrder);
  // The VIP item ann is not eligible for never held back the other queues, and is still queued.
  EXPECT_EQ(h.router().queue_order(f.vip), std::vector<ExternalId>{"vip-skilled"});
}

TEST(R12AcrossQueues, FourQueueExampleAgentAtCapacityServesTheSameOrderAsCapacityFrees) {
  FourQueues f = four_queues();
  RouterHarness h(f.config);
  h.agent(1, "ann", 1, {f.vip, f.premium, f.order, f.invoice});
  // A first chat keeps ann at capacity while the others arrive.
  EXPECT_EQ(briefs(h.arrive(10, "warm-up", f.vip)), Briefs{"offer:warm-up>ann"});
  EXPECT_EQ(briefs(h.accept(11, "warm-up", "ann")), Briefs{"assigned:warm-up>ann"});
  arrive_all(h, f);
  const std::vector<Decision> freed = h.complete(1'000, "warm-up");
  ASSERT_FALSE(freed.empty());
  EXPECT_EQ(brief(freed.front()), "completed:warm-up>ann");
  EXPECT_EQ(serve_all(h, freed, 1'001), kExpectedOrder);
}

TEST(R12AcrossQueues, RulesetQueueServedOnlyWhenNoFifoQueueHasAnEligibleItem) {
  // Invoice Inquiries holds the oldest item; VIP has a newer one ann may take: VIP goes first.
  FourQueues f = four_queues();
  RouterHarness h(f.config);
  h.agent(1, "ann", 1, {f.vip, f.premium, f.order, f.invoice}, {}, kOffline);
  h.arrive(10, "invoice-old", f.invoice, {}, priority("High"));
  h.arrive(20, "vip-new", f.vip);
  EXPECT_EQ(briefs(h.send(30, PresenceChange{"ann", kAvailable})), Briefs{"offer:vip-new>ann"});
}

TEST(R12AcrossQueues, RulesetQueuesAreTakenInAlphabeticalOrderNotByItemAge) {
  FourQueues f = four_queues();
  RouterHarness h(f.config);
  h.agent(1, "ann", 1, {f.order, f.invoice}, {}, kOffline);
  h.arrive(10, "order-old-high", f.order, {}, priority("High"));
  h.arrive(20, "invoice-new-low", f.invoice, {}, priority("Low"));
  EXPECT_EQ(briefs(h.send(30, PresenceChange{"ann", kAvailable})),
            Briefs{"offer:invoice-new-low>ann"});
}

TEST(R12AcrossQueues, AgentOnlyInSomeQueuesIsOfferedOnlyFromThose) {
  FourQueues f = four_queues();
  RouterHarness h(f.config);
  h.agent(1, "ann", 1, {f.order}, {}, kOffline);
  arrive_all(h, f);
  const std::vector<std::string> served =
      serve_all(h, h.send(1'000, PresenceChange{"ann", kAvailable}), 1'001);
  EXPECT_EQ(served, (std::vector<std::string>{"order-high", "order-low"}));
}

// ---- group numbers ----------------------------------------------------------------------------

TEST(R12Groups, LowerGroupNumberFirstEvenWhenTheOtherGroupHasTheOlderItem) {
  Config config = base_config();
  const QueueId alpha = add_queue(config, "Alpha", kChat, AssignmentMethod::highest_capacity, 2);
  const QueueId zeta = add_queue(config, "Zeta", kChat, AssignmentMethod::highest_capacity, 1);
  RouterHarness h(std::move(config));
  h.agent(1, "ann", 1, {alpha, zeta}, {}, kOffline);
  h.arrive(10, "alpha-old", alpha);
  h.arrive(20, "zeta-new", zeta);
  const std::vector<std::string> served =
      serve_all(h, h.send(100, PresenceChange{"ann", kAvailable}), 101);
  EXPECT_EQ(served, (std::vector<std::string>{"zeta-new", "alpha-old"}));
}

TEST(R12Groups, GroupNumberComesBeforeTheFifoBeforeRulesetOrder) {
  // A ruleset queue in group 1 beats a FIFO queue in group 2.
  Config config = base_config();
  const QueueId fifo = add_queue(config, "A fifo", kChat, AssignmentMethod::highest_capacity, 2);
  const QueueId rules = add_queue(config, "Z rules", kChat, AssignmentMethod::highest_capacity, 1);
  config.queues[rules].prioritization.push_back(
      PrioritizationRule{"high first", item_equals("priority", "High"), ItemOrder{}});
  RouterHarness h(std::move(config));
  h.agent(1, "ann", 1, {fifo, rules}, {}, kOffline);
  h.arrive(10, "fifo-old", fifo);
  h.arrive(20, "rules-new", rules, {}, priority("Low"));
  const std::vector<std::string> served =
      serve_all(h, h.send(100, PresenceChange{"ann", kAvailable}), 101);
  EXPECT_EQ(served, (std::vector<std::string>{"rules-new", "fifo-old"}));
}

TEST(R12Groups, HigherGroupServedWhenTheLowerGroupHasNothingEligibleForTheAgent) {
  Config config = base_config();
  const QueueId urgent = add_queue(config, "Urgent", kChat, AssignmentMethod::highest_capacity, 0);
  const QueueId normal = add_queue(config, "Normal", kChat, AssignmentMethod::highest_capacity, 5);
  RouterHarness h(std::move(config));
  h.agent(1, "ann", 1, {urgent, normal}, {}, kOffline);
  h.arrive(10, "urgent-skilled", urgent, {SkillRequirement{kAnnLacks, -1}});
  h.arrive(20, "normal", normal);
  EXPECT_EQ(briefs(h.send(100, PresenceChange{"ann", kAvailable})), Briefs{"offer:normal>ann"});
}

}  // namespace
}  // namespace switchboard::testing
