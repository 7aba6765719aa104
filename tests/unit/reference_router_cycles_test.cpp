// R11 assignment cycles, blocks, triggers and the prioritization limit, against the reference
// router. Triggers as listed in ROUTING.md R11 and docs/semantics.md ("Triggers (R11)").

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router_harness.hpp"

namespace switchboard::testing {
namespace {

constexpr ArrowStyle kStyle{false, false, true};

std::vector<std::string> briefs(const std::vector<Decision>& decisions) {
  return arrows(decisions, kStyle);
}

using Briefs = std::vector<std::string>;

SkillRequirement need(SkillId skill, std::int32_t min = -1) { return SkillRequirement{skill, min}; }

constexpr SkillId kNobodyHasIt = 9;

// A chat queue with block size 2; two top items that need a skill nobody has, then one anyone can
// take. The agent "amy" (capacity 5) is available and a member from the start.
Config blocked_config(bool strict) {
  Config config = base_config();
  const QueueId q = add_queue(config, "support", kChat);
  config.queues[q].block_size = 2;
  config.queues[q].strict_blocks = strict;
  return config;
}

void arrive_blocked_top(RouterHarness& h, Briefs& got) {
  for (const std::string& s : briefs(h.arrive(10, "top1", 0, {need(kNobodyHasIt)}))) got.push_back(s);
  for (const std::string& s : briefs(h.arrive(11, "top2", 0, {need(kNobodyHasIt)}))) got.push_back(s);
  for (const std::string& s : briefs(h.arrive(12, "third", 0))) got.push_back(s);
}

// ---- blocks ---------------------------------------------------------------------------------

TEST(R11Blocks, BlockedTopBlockHoldsBackALaterItemAnyoneCouldTake) {
  RouterHarness h(blocked_config(/*strict=*/true));
  h.agent(1, "amy", 5, {0});
  Briefs got;
  arrive_blocked_top(h, got);
  EXPECT_EQ(got, Briefs{});
  EXPECT_EQ(h.router().queue_order(0), (std::vector<ExternalId>{"top1", "top2", "third"}));
  // Every later cycle starts from the top again: still held back.
  EXPECT_EQ(briefs(h.send(20, PresenceChange{"amy", kBusy})), Briefs{});
  EXPECT_EQ(briefs(h.send(21, PresenceChange{"amy", kAvailable})), Briefs{});
  EXPECT_EQ(briefs(h.send(22, CapacityChange{"amy", AgentCapacity{6, {6, 6}}})), Briefs{});
  EXPECT_EQ(briefs(h.agent(23, "bob", 3, {0})), Briefs{});
  EXPECT_EQ(h.router().item("third")->state, ItemState::queued);
}

TEST(R11Blocks, NonStrictBlocksOfferTheLaterItemOnArrival) {
  RouterHarness h(blocked_config(/*strict=*/false));
  h.agent(1, "amy", 5, {0});
  Briefs got;
  arrive_blocked_top(h, got);
  EXPECT_EQ(got, Briefs{"offer:third>amy"});
  EXPECT_EQ(h.router().queue_order(0), (std::vector<ExternalId>{"top1", "top2"}));
}

TEST(R11Blocks, NonStrictBlocksOfferTheLaterItemWhenTheAgentComesOnline) {
  RouterHarness h(blocked_config(/*strict=*/false));
  h.agent(1, "amy", 5, {0}, {}, kOffline);
  Briefs got;
  arrive_blocked_top(h, got);
  EXPECT_EQ(got, Briefs{});
  EXPECT_EQ(briefs(h.send(20, PresenceChange{"amy", kAvailable})), Briefs{"offer:third>amy"});
}

TEST(R11Blocks, OfferedItemsDoNotOccupyTheBlock) {
  // Block size 2: once the two oldest are offered, the third is in the top two queued items.
  Config config = base_config();
  add_queue(config, "support", kChat);
  config.queues[0].block_size = 2;
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 2, {0});
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{"offer:i1>amy"});
  EXPECT_EQ(briefs(h.arrive(11, "i2", 0)), Briefs{"offer:i2>amy"});
  EXPECT_EQ(briefs(h.arrive(12, "i3", 0)), Briefs{});  // amy is full
  EXPECT_EQ(briefs(h.agent(13, "bob", 1, {0})), Briefs{"offer:i3>bob"});
}

TEST(R11Blocks, ItemBelowTheBlockWaitsForTheNextCycleEvenAfterTheBlockIsServed) {
  RouterHarness h(blocked_config(/*strict=*/true));
  h.agent(1, "amy", 5, {0});
  Briefs got;
  arrive_blocked_top(h, got);
  ASSERT_EQ(got, Briefs{});
  // An expert joins: the cycle's block is {top1, top2}; both go to her; "third" was not in the
  // block of this cycle.
  EXPECT_EQ(briefs(h.agent(20, "expert", 2, {0}, {SkillLevel{kNobodyHasIt, 1}})),
            (Briefs{"offer:top1>expert", "offer:top2>expert"}));
  EXPECT_EQ(h.router().item("third")->state, ItemState::queued);
  // The next cycle (any trigger of the queue) starts from the top, which is now "third".
  EXPECT_EQ(briefs(h.send(21, PresenceChange{"amy", kAvailable})), Briefs{"offer:third>amy"});
}

// ---- triggers -------------------------------------------------------------------------------

TEST(R11Triggers, ArrivalRunsACycle) {
  Config config = base_config();
  add_queue(config, "support", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{"offer:i1>amy"});
}

TEST(R11Triggers, PresenceChangeRunsACycle) {
  Config config = base_config();
  add_queue(config, "support", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0}, {}, kOffline);
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{});
  EXPECT_EQ(briefs(h.send(20, PresenceChange{"amy", kAvailable})), Briefs{"offer:i1>amy"});
}

TEST(R11Triggers, AgentUpsertChangingPresenceRunsACycle) {
  Config config = base_config();
  add_queue(config, "support", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0}, {}, kOffline);
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{});
  AgentUpsert upsert;
  upsert.agent = "amy";
  upsert.presence = kAvailable;
  EXPECT_EQ(briefs(h.send(20, upsert)), Briefs{"offer:i1>amy"});
}

TEST(R11Triggers, CapacityChangeRunsACycle) {
  Config config = base_config();
  add_queue(config, "support", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 0, {0});
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{});
  EXPECT_EQ(briefs(h.send(20, CapacityChange{"amy", AgentCapacity{1, {1, 1}}})),
            Briefs{"offer:i1>amy"});
}

TEST(R11Triggers, JoiningAQueueRunsACycle) {
  Config config = base_config();
  add_queue(config, "support", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {});
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{});
  EXPECT_EQ(briefs(h.send(20, JoinQueue{"amy", 0})), Briefs{"offer:i1>amy"});
}

TEST(R11Triggers, DeclineRunsACycle) {
  Config config = base_config();
  add_queue(config, "support", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0});
  h.agent(2, "bob", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{"offer:i1>amy"});
  EXPECT_EQ(briefs(h.decline(20, "i1", "amy")),
            (Briefs{"requeued:i1>amy(declined)", "offer:i1>bob"}));
}

TEST(R11Triggers, DeclineAlsoRunsACycleOverTheDeclinersOtherQueues) {
  // amy's decline frees her capacity; a chat waiting in her other queue is offered to her. (With
  // decline_limit 1 she may not get the declined chat back, so the freed capacity goes to "b".)
  Config config = base_config();
  config.decline_limit = 1;
  add_queue(config, "first", kChat);
  add_queue(config, "second", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0, 1});
  EXPECT_EQ(briefs(h.arrive(10, "a", 0)), Briefs{"offer:a>amy"});
  EXPECT_EQ(briefs(h.arrive(11, "b", 1)), Briefs{});
  EXPECT_EQ(briefs(h.decline(20, "a", "amy")),
            (Briefs{"requeued:a>amy(declined)", "offer:b>amy"}));
}

TEST(R11Triggers, HostReportedTimeoutRunsACycle) {
  Config config = base_config();
  add_queue(config, "support", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0});
  h.agent(2, "bob", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{"offer:i1>amy"});
  EXPECT_EQ(briefs(h.send(20, OfferTimeout{"i1", "amy"})),
            (Briefs{"requeued:i1>amy(timed_out)", "offer:i1>bob"}));
}

TEST(R11Triggers, ChannelOfferTimeoutRunsACycleAtTheTimersTime) {
  Config config = base_config();
  config.channels[kChat].offer_timeout_ms = 30'000;
  add_queue(config, "support", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0});
  h.agent(2, "bob", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{"offer:i1>amy"});
  EXPECT_EQ(briefs(h.send(30'009, Tick{})), Briefs{});
  const std::vector<Decision> fired = h.send(40'000, Tick{});
  EXPECT_EQ(briefs(fired), (Briefs{"requeued:i1>amy(timed_out)", "offer:i1>bob"}));
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].time, 30'010);
  EXPECT_EQ(fired[1].time, 30'010);
}

TEST(R11Triggers, CompletionThatReleasesCapacityRunsACycle) {
  Config config = base_config();
  add_queue(config, "support", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{"offer:i1>amy"});
  EXPECT_EQ(briefs(h.arrive(11, "i2", 0)), Briefs{});
  EXPECT_EQ(briefs(h.accept(12, "i1", "amy")), Briefs{"assigned:i1>amy"});
  EXPECT_EQ(briefs(h.complete(20, "i1")), (Briefs{"completed:i1>amy", "offer:i2>amy"}));
}

TEST(R11Triggers, EndOfWrapUpRunsACycleAtTheWrapUpEnd) {
  Config config = base_config();
  config.channels[kChat].wrap_up_ms = 60'000;
  add_queue(config, "support", kChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "i1", 0)), Briefs{"offer:i1>amy"});
  EXPECT_EQ(briefs(h.arrive(11, "i2", 0)), Briefs{});
  h.accept(12, "i1", "amy");
  EXPECT_EQ(briefs(h.complete(20, "i1")), Briefs{"completed:i1>amy"});
  EXPECT_EQ(briefs(h.send(60'019, Tick{})), Briefs{});
  const std::vector<Decision> fired = h.send(90'000, Tick{});
  EXPECT_EQ(briefs(fired), Briefs{"offer:i2>amy"});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].time, 60'020);
}

TEST(R11Triggers, ItemUpdateDoesNotRunACycleItTakesEffectAtTheNextOne) {
  // Custom ruleset: agent.country == item.country. The chat arrives without a country, so no rule
  // matches amy. Setting the country makes amy match, but item_update is not a trigger; the next
  // cycle of the queue (here: another arrival) offers it.
  Config config = base_config();
  const QueueId q = add_queue(config, "support", kChat, AssignmentMethod::custom);
  config.queues[q].assignment.push_back(AssignmentRule{"same country", agent_equals_item("country"), {}});
  RouterHarness h(std::move(config));
  AgentUpsert amy;
  amy.agent = "amy";
  amy.presence = kAvailable;
  amy.capacity = AgentCapacity{2, {2, 2}};
  amy.attributes = Attributes{{"country", AttrValue{std::string("US")}}};
  h.send(1, amy);
  h.send(1, JoinQueue{"amy", q});
  EXPECT_EQ(briefs(h.arrive(10, "i1", q)), Briefs{});
  EXPECT_EQ(briefs(h.send(20, ItemUpdate{"i1", {{"country", AttrValue{std::string("US")}}}, {}})),
            Briefs{});
  EXPECT_EQ(h.router().item("i1")->state, ItemState::queued);
  EXPECT_EQ(briefs(h.send(25, Tick{})), Briefs{});  // a tick with no timer due is no trigger
  EXPECT_EQ(briefs(h.arrive(30, "i2", q, {}, {{"country", AttrValue{std::string("FR")}}})),
            Briefs{"offer:i1>amy"});
}

// The periodic timer (records, every 5 minutes): an agent's shift starts at a time when no event
// arrives; nothing triggers a cycle then, and the first periodic cycle after the shift start offers
// the waiting record.
TEST(R11Triggers, PeriodicTimerOffersWhatBecameAssignableWithoutAnEvent) {
  Config config = base_config();
  ASSERT_EQ(config.channels[kRecord].periodic_ms, 300'000);
  const QueueId q = add_queue(config, "cases", kRecord);
  config.queues[q].requires_working = true;
  RouterHarness h(std::move(config));
  const Timestamp t0 = 1'000;  // first event: periodic cycles at t0 + k * 5 min
  AgentUpsert amy;
  amy.agent = "amy";
  amy.presence = kAvailable;
  amy.capacity = AgentCapacity{3, {3, 3}};
  amy.shifts = std::vector<Shift>{Shift{t0 + 400'000, t0 + 10'000'000}};
  EXPECT_EQ(briefs(h.send(t0, amy)), Briefs{});
  EXPECT_EQ(briefs(h.send(t0, JoinQueue{"amy", q})), Briefs{});
  EXPECT_EQ(briefs(h.arrive(t0 + 1'000, "case1", q)), Briefs{});  // amy is not working yet
  // The periodic cycle at t0 + 5 min finds her off shift.
  EXPECT_EQ(briefs(h.send(t0 + 300'000, Tick{})), Briefs{});
  // Her shift starts at t0 + 400 s: no trigger, nothing offered until the next period.
  EXPECT_EQ(briefs(h.send(t0 + 400'000, Tick{})), Briefs{});
  EXPECT_EQ(briefs(h.send(t0 + 599'999, Tick{})), Briefs{});
  EXPECT_EQ(h.router().item("case1")->state, ItemState::queued);
  const std::vector<Decision> fired = h.send(t0 + 650'000, Tick{});
  EXPECT_EQ(briefs(fired), Briefs{"offer:case1>amy"});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].time, t0 + 600'000);
}

TEST(R11Triggers, PeriodicTimerOnlyCyclesItsOwnChannelsQueues) {
  // A chat queue (no periodic timer) with the same shift situation is not served by the records'
  // periodic cycle.
  Config config = base_config();
  const QueueId chat = add_queue(config, "chats", kChat);
  add_queue(config, "cases", kRecord);
  config.queues[chat].requires_working = true;
  RouterHarness h(std::move(config));
  AgentUpsert amy;
  amy.agent = "amy";
  amy.presence = kAvailable;
  amy.capacity = AgentCapacity{3, {3, 3}};
  amy.shifts = std::vector<Shift>{Shift{100'000, 10'000'000}};
  h.send(0, amy);
  h.send(0, JoinQueue{"amy", chat});
  h.send(0, JoinQueue{"amy", 1});
  EXPECT_EQ(briefs(h.arrive(10, "chat1", chat)), Briefs{});
  EXPECT_EQ(briefs(h.send(650'000, Tick{})), Briefs{});  // two record periods passed
  EXPECT_EQ(h.router().item("chat1")->state, ItemState::queued);
  // Any trigger of the chat queue then offers it.
  EXPECT_EQ(briefs(h.send(650'001, PresenceChange{"amy", kAvailable})), Briefs{"offer:chat1>amy"});
}

// ---- prioritization limit (records) -----------------------------------------------------------

TEST(R11PrioritizationLimit, OnlyTheFirstNItemsInFifoOrderArePrioritized) {
  // Records queue with a ruleset (High first) and a prioritization limit of 2. The High record is
  // the newest, third in FIFO order: it is not prioritized at all until it is among the first 2.
  Config config = base_config();
  const QueueId q = add_queue(config, "cases", kRecord);
  config.queues[q].prioritization_limit = 2;
  config.queues[q].prioritization.push_back(
      PrioritizationRule{"high", item_equals("priority", "High"), ItemOrder{}});
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {q}, {}, kOffline);
  const Attributes low{{"priority", AttrValue{std::string("Low")}}};
  const Attributes high{{"priority", AttrValue{std::string("High")}}};
  EXPECT_EQ(briefs(h.arrive(10, "low1", q, {}, low)), Briefs{});
  EXPECT_EQ(briefs(h.arrive(11, "low2", q, {}, low)), Briefs{});
  EXPECT_EQ(briefs(h.arrive(12, "high3", q, {}, high)), Briefs{});
  EXPECT_EQ(h.router().queue_order(q), (std::vector<ExternalId>{"low1", "low2"}));
  EXPECT_EQ(briefs(h.send(20, PresenceChange{"amy", kAvailable})), Briefs{"offer:low1>amy"});
  // With low1 offered, the first two queued in FIFO order are low2 and high3: High goes first.
  EXPECT_EQ(h.router().queue_order(q), (std::vector<ExternalId>{"high3", "low2"}));
  h.accept(21, "low1", "amy");
  EXPECT_EQ(briefs(h.complete(22, "low1")), (Briefs{"completed:low1>amy", "offer:high3>amy"}));
}

TEST(R11PrioritizationLimit, ItemsBeyondTheLimitAreNotTriedEvenWithNonStrictBlocks) {
  Config config = base_config();
  const QueueId q = add_queue(config, "cases", kRecord);
  config.queues[q].prioritization_limit = 2;
  config.queues[q].strict_blocks = false;
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 5, {q}, {}, kOffline);
  h.arrive(10, "r1", q, {need(kNobodyHasIt)});
  h.arrive(11, "r2", q, {need(kNobodyHasIt)});
  h.arrive(12, "r3", q);
  EXPECT_EQ(h.router().queue_order(q), (std::vector<ExternalId>{"r1", "r2"}));
  EXPECT_EQ(briefs(h.send(20, PresenceChange{"amy", kAvailable})), Briefs{});
  EXPECT_EQ(h.router().item("r3")->state, ItemState::queued);
}

}  // namespace
}  // namespace switchboard::testing
