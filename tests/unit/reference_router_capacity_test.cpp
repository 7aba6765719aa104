// R6 capacity and I1 (available capacity never negative) in the reference router: unit-based
// capacity (per channel and per item), profile-based capacity, a blocking profile (a call blocks
// chats), wrap-up holding capacity until it ends, release on decline / timeout / cancel /
// completion, and runtime capacity changes (refused below the load; raising it starts a cycle).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router_harness.hpp"

using namespace switchboard;
using namespace switchboard::testing;

namespace {

using Lines = std::vector<std::string>;

// An agent with explicit capacity: `units` units, `chat` chat-profile and `voice` voice-profile
// slots.
std::vector<Decision> add_agent(RouterHarness& h, Timestamp t, const ExternalId& id,
                                AgentCapacity capacity, std::initializer_list<QueueId> queues) {
  AgentUpsert upsert;
  upsert.agent = id;
  upsert.presence = kAvailable;
  upsert.capacity = std::move(capacity);
  std::vector<Decision> out = h.send(t, upsert);
  for (QueueId q : queues) {
    std::vector<Decision> more = h.send(t, JoinQueue{id, q});
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

std::vector<Decision> arrive_units(RouterHarness& h, Timestamp t, const ExternalId& item,
                                   QueueId queue, std::int32_t units) {
  ItemArrive arrive;
  arrive.item = item;
  arrive.queue = queue;
  arrive.units = units;
  return h.send(t, arrive);
}

void expect_refused(const std::vector<Decision>& out, ErrorCode code) {
  ASSERT_EQ(out.size(), 1u) << describe(out);
  EXPECT_EQ(out[0].kind, DecisionKind::error);
  EXPECT_EQ(out[0].error, code) << out[0].message;
  EXPECT_FALSE(out[0].message.empty());
}

}  // namespace

TEST(R6UnitCapacity, ChannelUnitsPerItemLimitHowManyItemsAnAgentHolds) {
  Config config = base_config();
  config.channels[kEmail].units_per_item = 2;
  const QueueId q = add_queue(config, "Mail", kEmail);
  RouterHarness h(config);
  h.agent(10, "ann", 5, {q});
  EXPECT_EQ(trace(h.arrive(100, "m1", q)), Lines{"offer m1 ann q0 method @100"});
  EXPECT_EQ(trace(h.arrive(110, "m2", q)), Lines{"offer m2 ann q0 method @110"});
  EXPECT_EQ(h.router().agent("ann")->free_units, 1);
  // 1 unit left, an email needs 2: stays queued.
  EXPECT_EQ(trace(h.arrive(120, "m3", q)), Lines{});
  EXPECT_EQ(h.router().item("m3")->state, ItemState::queued);
  EXPECT_EQ(h.router().agent("ann")->free_units, 1);
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R6UnitCapacity, ItemUnitsOverrideTheChannelAndSmallerLaterItemsStillFit) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 4, {q}, {}, kAway);
  arrive_units(h, 100, "big", q, 3);
  arrive_units(h, 110, "mid", q, 2);
  arrive_units(h, 120, "small", q, 1);
  // One cycle tries every item of the block: big (3 of 4) fits, mid (2 of 1) not, small fits.
  EXPECT_EQ(trace(h.send(200, PresenceChange{"ann", kAvailable})),
            (Lines{"offer big ann q0 method @200", "offer small ann q0 method @200"}));
  EXPECT_EQ(h.router().agent("ann")->free_units, 0);
  EXPECT_EQ(h.router().item("mid")->state, ItemState::queued);
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R6UnitCapacity, UnitItemsDoNotConsumeProfileSlots) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  add_agent(h, 10, "ann", AgentCapacity{2, {1, 1}}, {q});
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  const AgentView ann = *h.router().agent("ann");
  EXPECT_EQ(ann.free_units, 0);
  EXPECT_EQ(ann.profile_used, (std::vector<std::int32_t>{0, 0}));
  EXPECT_EQ(ann.items, (std::vector<ExternalId>{"c1", "c2"}));
}

TEST(R6ProfileCapacity, ProfileMaxLimitsConcurrentItemsOfThatProfile) {
  Config config = base_config();
  const QueueId q = add_queue(config, "ProfileChat", kProfileChat);
  RouterHarness h(config);
  add_agent(h, 10, "ann", AgentCapacity{0, {2, 1}}, {q});
  EXPECT_EQ(trace(h.arrive(100, "c1", q)), Lines{"offer c1 ann q0 method @100"});
  EXPECT_EQ(trace(h.arrive(110, "c2", q)), Lines{"offer c2 ann q0 method @110"});
  EXPECT_EQ(trace(h.arrive(120, "c3", q)), Lines{});
  const AgentView ann = *h.router().agent("ann");
  EXPECT_EQ(ann.profile_used, (std::vector<std::int32_t>{2, 0}));
  EXPECT_EQ(ann.free_units, 0);  // units untouched (0 of 0)
  EXPECT_EQ(h.router().item("c3")->state, ItemState::queued);
  // Completing one chat frees one slot of the profile: c3 is offered at once.
  h.accept(130, "c1", "ann");
  EXPECT_EQ(trace(h.complete(140, "c1")),
            (Lines{"completed c1 ann q0 @140", "offer c3 ann q0 method @140"}));
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R6ProfileCapacity, AgentWithoutSlotsOfTheProfileGetsNothing) {
  Config config = base_config();
  const QueueId q = add_queue(config, "ProfileChat", kProfileChat);
  RouterHarness h(config);
  add_agent(h, 10, "ann", AgentCapacity{10, {0, 1}}, {q});  // plenty of units, no chat slot
  add_agent(h, 20, "bob", AgentCapacity{0, {1}}, {q});
  EXPECT_EQ(trace(h.arrive(100, "c1", q)), Lines{"offer c1 bob q0 method @100"});
  EXPECT_EQ(trace(h.arrive(110, "c2", q)), Lines{});
}

TEST(R6ProfileCapacity, VoiceBlocksChatsWhileTheCallIsHeld) {
  Config config = base_config();
  const QueueId voice = add_queue(config, "Calls", kVoice);
  const QueueId chat = add_queue(config, "Chats", kProfileChat);
  RouterHarness h(config);
  add_agent(h, 10, "ann", AgentCapacity{0, {3, 1}}, {voice, chat});
  EXPECT_EQ(trace(h.arrive(100, "call", voice)), Lines{"offer call ann q0 method @100"});
  // While the call is offered (capacity reserved) and then assigned, no chat is offered even
  // though ann has 3 free chat slots.
  EXPECT_EQ(trace(h.arrive(110, "chat1", chat)), Lines{});
  h.accept(120, "call", "ann");
  EXPECT_EQ(trace(h.arrive(130, "chat2", chat)), Lines{});
  EXPECT_EQ(h.router().queue_order(chat), (std::vector<ExternalId>{"chat1", "chat2"}));
  EXPECT_EQ(h.router().agent("ann")->profile_used, (std::vector<std::int32_t>{0, 1}));
  // The call ends: the block is lifted and both chats are offered in the same event.
  EXPECT_EQ(trace(h.complete(200, "call")),
            (Lines{"completed call ann q0 @200", "offer chat1 ann q1 method @200",
                   "offer chat2 ann q1 method @200"}));
  EXPECT_EQ(h.router().agent("ann")->profile_used, (std::vector<std::int32_t>{2, 0}));
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R6ProfileCapacity, VoiceAlsoBlocksUnitBasedChats) {
  Config config = base_config();
  const QueueId voice = add_queue(config, "Calls", kVoice);
  const QueueId chat = add_queue(config, "UnitChats", kChat);
  RouterHarness h(config);
  add_agent(h, 10, "ann", AgentCapacity{3, {3, 1}}, {voice, chat});
  h.arrive(100, "call", voice);
  EXPECT_EQ(trace(h.arrive(110, "chat1", chat)), Lines{});
  EXPECT_EQ(trace(h.send(120, ItemCancel{"call"})),
            (Lines{"cancelled call ann q0 @120", "offer chat1 ann q1 method @120"}));
}

TEST(R6ProfileCapacity, ACallMayStillRingWhileChatsAreHeld) {
  Config config = base_config();
  const QueueId voice = add_queue(config, "Calls", kVoice);
  const QueueId chat = add_queue(config, "Chats", kProfileChat);
  RouterHarness h(config);
  add_agent(h, 10, "ann", AgentCapacity{0, {3, 1}}, {voice, chat});
  h.arrive(100, "chat1", chat);
  h.accept(105, "chat1", "ann");
  // choices: a blocking-profile item may be offered while other work is held.
  EXPECT_EQ(trace(h.arrive(110, "call1", voice)), Lines{"offer call1 ann q0 method @110"});
  // ...but only one call at a time (voice max 1), and now chats are blocked.
  EXPECT_EQ(trace(h.arrive(120, "call2", voice)), Lines{});
  EXPECT_EQ(trace(h.arrive(130, "chat2", chat)), Lines{});
  EXPECT_EQ(h.router().agent("ann")->profile_used, (std::vector<std::int32_t>{1, 1}));
}

TEST(R6WrapUp, CompletionHoldsCapacityUntilWrapUpEnds) {
  Config config = base_config();
  config.channels[kChat].wrap_up_ms = 30000;
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  h.accept(200, "c1", "ann");
  h.arrive(300, "c2", q);
  EXPECT_EQ(h.router().item("c2")->state, ItemState::queued);
  // Completed at 1000: the item is gone, but its unit is held until 31000.
  EXPECT_EQ(trace(h.complete(1000, "c1")), Lines{"completed c1 ann q0 @1000"});
  EXPECT_FALSE(h.router().item("c1").has_value());
  AgentView ann = *h.router().agent("ann");
  EXPECT_EQ(ann.free_units, 0);
  EXPECT_TRUE(ann.items.empty());
  EXPECT_EQ(trace(h.send(30999, Tick{})), Lines{});
  EXPECT_EQ(h.router().item("c2")->state, ItemState::queued);
  // The wrap-up end fires at its own time and its cycle offers the waiting chat then.
  EXPECT_EQ(trace(h.send(45000, Tick{})), Lines{"offer c2 ann q0 method @31000"});
  ann = *h.router().agent("ann");
  EXPECT_EQ(ann.last_release, 31000);
  EXPECT_EQ(ann.items, std::vector<ExternalId>{"c2"});
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R6WrapUp, WrapUpEndTriggersWithoutAnyFurtherEventBeforeANewArrival) {
  Config config = base_config();
  config.channels[kChat].wrap_up_ms = 5000;
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  h.accept(200, "c1", "ann");
  h.complete(1000, "c1");
  // A new arrival after the wrap-up end: the timer fires first (at 6000), then the arrival.
  EXPECT_EQ(trace(h.arrive(7000, "c2", q)), Lines{"offer c2 ann q0 method @7000"});
  EXPECT_EQ(h.router().agent("ann")->last_release, 6000);
}

TEST(R6WrapUp, VoiceWrapUpKeepsBlockingChats) {
  Config config = base_config();
  config.channels[kVoice].wrap_up_ms = 10000;
  const QueueId voice = add_queue(config, "Calls", kVoice);
  const QueueId chat = add_queue(config, "Chats", kProfileChat);
  RouterHarness h(config);
  add_agent(h, 10, "ann", AgentCapacity{0, {3, 1}}, {voice, chat});
  h.arrive(100, "call", voice);
  h.accept(110, "call", "ann");
  h.arrive(120, "chat1", chat);
  EXPECT_EQ(trace(h.complete(1000, "call")), Lines{"completed call ann q0 @1000"});
  EXPECT_EQ(trace(h.send(10999, Tick{})), Lines{});
  EXPECT_EQ(trace(h.send(11000, Tick{})), Lines{"offer chat1 ann q1 method @11000"});
}

TEST(R6Release, DeclineReleasesTheReservedCapacityAtOnce) {
  Config config = base_config();
  config.decline_limit = 1;  // ann may not get c1 again: the freed unit must go to c2
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  EXPECT_EQ(h.router().agent("ann")->free_units, 0);
  EXPECT_EQ(trace(h.decline(200, "c1", "ann")),
            (Lines{"requeued c1 ann q0 declined @200", "offer c2 ann q0 method @200"}));
  EXPECT_EQ(h.router().agent("ann")->free_units, 0);
  EXPECT_EQ(h.router().agent("ann")->items, std::vector<ExternalId>{"c2"});
  // A declined offer is not finished work: no release for least active.
  EXPECT_EQ(h.router().agent("ann")->last_release, 10);
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R6Release, TimeoutReleasesTheReservedCapacityAtOnce) {
  Config config = base_config();
  config.channels[kChat].offer_timeout_ms = 1000;
  config.channels[kChat].wrap_up_ms = 60000;  // applies after completion only
  config.decline_limit = 1;
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  EXPECT_EQ(trace(h.send(2000, Tick{})),
            (Lines{"requeued c1 ann q0 timed_out @1100", "offer c2 ann q0 method @1100"}));
  EXPECT_EQ(h.router().agent("ann")->items, std::vector<ExternalId>{"c2"});
}

TEST(R6Release, HostReportedTimeoutReleasesLikeADecline) {
  Config config = base_config();
  config.decline_limit = 1;
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  EXPECT_EQ(trace(h.send(200, OfferTimeout{"c1", "ann"})),
            (Lines{"requeued c1 ann q0 timed_out @200", "offer c2 ann q0 method @200"}));
}

TEST(R6Release, CancelOfAnOfferedItemReleasesAtOnceEvenWithWrapUp) {
  Config config = base_config();
  config.channels[kChat].wrap_up_ms = 60000;
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  EXPECT_EQ(trace(h.send(200, ItemCancel{"c1"})),
            (Lines{"cancelled c1 ann q0 @200", "offer c2 ann q0 method @200"}));
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R6Release, CompletionWithoutWrapUpReleasesAtOnceAndUpdatesLastRelease) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  h.accept(120, "c1", "ann");
  EXPECT_EQ(trace(h.complete(500, "c1")),
            (Lines{"completed c1 ann q0 @500", "offer c2 ann q0 method @500"}));
  EXPECT_EQ(h.router().agent("ann")->last_release, 500);
}

TEST(R6CapacityChange, BelowUnitLoadIsRefusedWithCapacityBelowLoadAndNothingChanges) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 2, {q});
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  h.accept(120, "c1", "ann");
  const AgentView before = *h.router().agent("ann");
  expect_refused(h.send(200, CapacityChange{"ann", AgentCapacity{1, {2, 2}}}),
                 ErrorCode::capacity_below_load);
  const AgentView after = *h.router().agent("ann");
  EXPECT_EQ(after.capacity, before.capacity);
  EXPECT_EQ(after.free_units, 0);
  EXPECT_EQ(after.items, before.items);
  EXPECT_EQ(h.router().check_invariants(), "");
  // A change to exactly the load is fine (available 0, never negative).
  EXPECT_EQ(trace(h.send(300, CapacityChange{"ann", AgentCapacity{2, {0, 0}}})), Lines{});
  EXPECT_EQ(h.router().agent("ann")->capacity, (AgentCapacity{2, {0, 0}}));
}

TEST(R6CapacityChange, BelowProfileLoadIsRefused) {
  Config config = base_config();
  const QueueId q = add_queue(config, "ProfileChat", kProfileChat);
  RouterHarness h(config);
  add_agent(h, 10, "ann", AgentCapacity{0, {2, 1}}, {q});
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  expect_refused(h.send(200, CapacityChange{"ann", AgentCapacity{5, {1, 1}}}),
                 ErrorCode::capacity_below_load);
  EXPECT_EQ(h.router().agent("ann")->capacity, (AgentCapacity{0, {2, 1}}));
  EXPECT_EQ(h.router().agent("ann")->profile_used, (std::vector<std::int32_t>{2, 0}));
}

TEST(R6CapacityChange, BelowLoadHeldInWrapUpIsRefused) {
  Config config = base_config();
  config.channels[kChat].wrap_up_ms = 10000;
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  h.accept(110, "c1", "ann");
  h.complete(120, "c1");
  expect_refused(h.send(200, CapacityChange{"ann", AgentCapacity{0, {1, 1}}}),
                 ErrorCode::capacity_below_load);
  EXPECT_EQ(h.router().agent("ann")->capacity.units, 1);
}

TEST(R6CapacityChange, UpsertWithCapacityBelowLoadIsRefusedToo) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 2, {q});
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  AgentUpsert upsert;
  upsert.agent = "ann";
  upsert.presence = kAway;
  upsert.capacity = AgentCapacity{1, {2, 2}};
  expect_refused(h.send(200, upsert), ErrorCode::capacity_below_load);
  // The whole upsert is refused, presence included.
  EXPECT_EQ(h.router().agent("ann")->presence, kAvailable);
  EXPECT_EQ(h.router().agent("ann")->capacity.units, 2);
}

TEST(R6CapacityChange, RaisedCapacityTriggersACycleThatOffersWaitingWork) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  h.arrive(120, "c3", q);
  EXPECT_EQ(h.router().queue_order(q), (std::vector<ExternalId>{"c2", "c3"}));
  EXPECT_EQ(trace(h.send(200, CapacityChange{"ann", AgentCapacity{3, {3, 3}}})),
            (Lines{"offer c2 ann q0 method @200", "offer c3 ann q0 method @200"}));
  EXPECT_EQ(h.router().agent("ann")->free_units, 0);
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R6CapacityChange, LoweredCapacityStopsFurtherOffers) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 3, {q});
  h.arrive(100, "c1", q);
  EXPECT_EQ(trace(h.send(200, CapacityChange{"ann", AgentCapacity{1, {1, 1}}})), Lines{});
  EXPECT_EQ(trace(h.arrive(300, "c2", q)), Lines{});
  EXPECT_EQ(h.router().agent("ann")->free_units, 0);
}

TEST(I1Capacity, AvailableCapacityNeverNegativeThroughAMixedHistory) {
  Config config = base_config();
  config.channels[kChat].wrap_up_ms = 100;
  const QueueId chat = add_queue(config, "Chats", kChat);
  const QueueId voice = add_queue(config, "Calls", kVoice);
  RouterHarness h(config);
  add_agent(h, 10, "ann", AgentCapacity{3, {2, 1}}, {chat, voice});
  add_agent(h, 10, "bob", AgentCapacity{2, {2, 1}}, {chat, voice});
  Timestamp t = 100;
  for (int i = 0; i < 12; ++i) {
    const std::string id = "c" + std::to_string(i);
    arrive_units(h, t++, id, chat, 1 + i % 2);
    if (i % 3 == 0) h.arrive(t++, "v" + std::to_string(i), voice);
    for (const ExternalId& agent_id : h.router().agent_ids()) {
      const AgentView a = *h.router().agent(agent_id);
      EXPECT_GE(a.free_units, 0) << agent_id.to_string();
      EXPECT_LE(a.profile_used[kVoiceProfile], a.capacity.profile_max[kVoiceProfile]);
    }
    EXPECT_EQ(h.router().check_invariants(), "");
    if (h.router().item(id) && h.router().item(id)->state == ItemState::offered) {
      const ExternalId who = *h.router().item(id)->agent;
      h.accept(t++, id, who);
      if (i % 2 == 0) h.complete(t++, id);
    }
  }
  EXPECT_EQ(h.router().check_invariants(), "");
}
