// R15 manual assignment (a supervisor's) and pick (an agent's), against the reference router.

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "router_harness.hpp"

namespace switchboard::testing {
namespace {

constexpr ArrowStyle kStyle{false, true, true};

std::vector<std::string> briefs(const std::vector<Decision>& decisions) {
  return arrows(decisions, kStyle);
}

using Briefs = std::vector<std::string>;

// Everything observable about agents and the given items, to check that a refused event changed
// nothing.
std::string snapshot(const ReferenceRouter& router, const std::vector<ExternalId>& items) {
  std::ostringstream s;
  s << "live=" << router.live_item_count() << "\n";
  for (const ExternalId& id : router.agent_ids()) {
    const AgentView a = *router.agent(id);
    s << "agent " << id.to_string() << " presence=" << int(a.presence) << " free=" << a.free_units
      << " used=";
    for (std::int32_t u : a.profile_used) s << u << ",";
    s << " items=";
    for (const ExternalId& i : a.items) s << i.to_string() << ",";
    s << " queues=";
    for (QueueId q : a.queues) s << q << ",";
    s << " last_release=" << a.last_release << "\n";
  }
  for (const ExternalId& id : items) {
    const std::optional<ItemView> v = router.item(id);
    if (!v) {
      s << "item " << id.to_string() << " gone\n";
      continue;
    }
    s << "item " << id.to_string() << " " << to_string(v->state) << " q=" << v->queue
      << " agent=" << (v->agent ? v->agent->to_string() : "-") << " declines=";
    for (const auto& [agent, n] : v->declines) s << agent.to_string() << ":" << n << ",";
    s << "\n";
  }
  for (QueueId q = 0; q < router.config().queues.size(); ++q) {
    s << "queue " << q << ":";
    for (const ExternalId& i : router.queue_order(q)) s << " " << i.to_string();
    s << "\n";
  }
  return s.str();
}

// Two chat queues; "member" belongs to the first; "outsider" to none.
Config two_queues() {
  Config config = base_config();
  add_queue(config, "support", kChat);
  add_queue(config, "sales", kChat);
  return config;
}

// Sends `body` and expects it to be refused with `code`, changing nothing.
void expect_refused(RouterHarness& h, Timestamp t, EventBody body, ErrorCode code,
                    const std::vector<ExternalId>& items) {
  const std::string before = snapshot(h.router(), items);
  const std::vector<Decision> out = h.send(t, std::move(body));
  ASSERT_EQ(out.size(), 1u) << describe(out);
  EXPECT_EQ(out[0].kind, DecisionKind::error);
  EXPECT_EQ(out[0].error, code) << describe(out);
  EXPECT_FALSE(out[0].message.empty());
  EXPECT_EQ(snapshot(h.router(), items), before);
}

// ---- supervisor ---------------------------------------------------------------------------------

TEST(R15ManualAssign, SupervisorAssignsAQueuedItemToAnOfflineAgentWhoIsNotAMember) {
  RouterHarness h(two_queues());
  h.agent(1, "outsider", 2, {}, {}, kOffline);
  h.arrive(10, "c1", 0);
  EXPECT_EQ(h.router().item("c1")->state, ItemState::queued);
  EXPECT_EQ(briefs(h.send(20, ManualAssign{"c1", "outsider"})), Briefs{"assigned:c1>outsider/manual"});
  const ItemView item = *h.router().item("c1");
  EXPECT_EQ(item.state, ItemState::assigned);
  EXPECT_EQ(item.agent, std::optional<ExternalId>("outsider"));
  const AgentView agent = *h.router().agent("outsider");
  EXPECT_EQ(agent.free_units, 1);  // capacity still reserved (R6)
  EXPECT_EQ(agent.items, std::vector<ExternalId>{"c1"});
  EXPECT_EQ(h.router().queue_order(0), std::vector<ExternalId>{});
  // It completes like any assigned item.
  EXPECT_EQ(briefs(h.complete(30, "c1")), Briefs{"completed:c1>outsider"});
  EXPECT_EQ(h.router().agent("outsider")->free_units, 2);
}

TEST(R15ManualAssign, SupervisorIgnoresSkillsPresenceAndTheDeclineLimit) {
  Config config = two_queues();
  config.decline_limit = 1;
  RouterHarness h(std::move(config));
  h.agent(1, "member", 1, {0});
  h.arrive(10, "c1", 0, {SkillRequirement{3, 4}});  // member lacks s3: stays queued
  EXPECT_EQ(h.router().item("c1")->state, ItemState::queued);
  h.send(11, PresenceChange{"member", kDoNotDisturb});
  EXPECT_EQ(briefs(h.send(20, ManualAssign{"c1", "member"})), Briefs{"assigned:c1>member/manual"});

  // Past the decline limit: the agent declined once (limit 1), the supervisor assigns anyway.
  h.arrive(30, "c2", 1);
  h.agent(31, "seller", 1, {1});
  ASSERT_EQ(h.router().item("c2")->agent, std::optional<ExternalId>("seller"));
  EXPECT_EQ(briefs(h.decline(32, "c2", "seller")), Briefs{"requeued:c2>seller(declined)"});
  EXPECT_EQ(briefs(h.send(33, ManualAssign{"c2", "seller"})), Briefs{"assigned:c2>seller/manual"});
}

TEST(R15ManualAssign, SupervisorMayAssignThroughABlockingVoiceCall) {
  // Voice (profile "voice") blocks other profiles for automatic offers, not for a supervisor.
  Config config = base_config();
  const QueueId calls = add_queue(config, "calls", kVoice);
  const QueueId chats = add_queue(config, "chats", kProfileChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 2, {calls, chats});
  EXPECT_EQ(briefs(h.arrive(10, "call", calls)), Briefs{"offer:call>amy"});
  h.accept(11, "call", "amy");
  EXPECT_EQ(briefs(h.arrive(12, "chat", chats)), Briefs{});  // blocked by the call
  EXPECT_EQ(briefs(h.send(13, ManualAssign{"chat", "amy"})), Briefs{"assigned:chat>amy/manual"});
  EXPECT_EQ(h.router().agent("amy")->profile_used, (std::vector<std::int32_t>{1, 1}));
}

TEST(R15ManualAssign, SupervisorAssignsAParkedItem) {
  Config config = two_queues();
  config.park_after_decliners = 2;
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0});
  h.agent(1, "bob", 1, {0});
  h.agent(1, "outsider", 1, {}, {}, kOffline);
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0)), Briefs{"offer:c1>amy"});
  EXPECT_EQ(briefs(h.decline(20, "c1", "amy")), (Briefs{"requeued:c1>amy(declined)", "offer:c1>bob"}));
  EXPECT_EQ(briefs(h.decline(30, "c1", "bob")), (Briefs{"requeued:c1>bob(declined)", "parked:c1"}));
  ASSERT_EQ(h.router().item("c1")->state, ItemState::parked);
  EXPECT_EQ(briefs(h.send(40, ManualAssign{"c1", "outsider"})), Briefs{"assigned:c1>outsider/manual"});
  EXPECT_EQ(h.router().item("c1")->state, ItemState::assigned);
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R15ManualAssign, ManualAssignmentRefusedForCapacityChangesNothing) {
  RouterHarness h(two_queues());
  h.agent(1, "member", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "held", 0)), Briefs{"offer:held>member"});
  h.accept(11, "held", "member");
  h.arrive(12, "waiting", 0);
  expect_refused(h, 20, ManualAssign{"waiting", "member"}, ErrorCode::insufficient_capacity,
                 {"held", "waiting"});
  EXPECT_EQ(h.router().item("waiting")->state, ItemState::queued);
  EXPECT_EQ(h.router().agent("member")->free_units, 0);
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R15ManualAssign, ManualAssignmentRefusedForAnItemNeedingMoreUnitsThanAreFree) {
  RouterHarness h(two_queues());
  h.agent(1, "member", 3, {0}, {}, kOffline);
  ItemArrive big;
  big.item = "big";
  big.queue = 0;
  big.units = 4;
  h.send(10, big);
  expect_refused(h, 20, ManualAssign{"big", "member"}, ErrorCode::insufficient_capacity, {"big"});
  // Exactly enough is fine.
  h.send(21, CapacityChange{"member", AgentCapacity{4, {4, 4}}});
  EXPECT_EQ(briefs(h.send(22, ManualAssign{"big", "member"})), Briefs{"assigned:big>member/manual"});
  EXPECT_EQ(h.router().agent("member")->free_units, 0);
}

TEST(R15ManualAssign, ManualAssignmentRefusedWhenTheProfileIsFull) {
  Config config = base_config();
  const QueueId chats = add_queue(config, "chats", kProfileChat);
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {chats});  // profile "chat" max 1
  EXPECT_EQ(briefs(h.arrive(10, "first", chats)), Briefs{"offer:first>amy"});
  h.arrive(11, "second", chats);
  expect_refused(h, 20, ManualAssign{"second", "amy"}, ErrorCode::insufficient_capacity,
                 {"first", "second"});
}

TEST(R15ManualAssign, ManualAssignmentOfAnOfferedItemIsRefused) {
  RouterHarness h(two_queues());
  h.agent(1, "member", 1, {0});
  h.agent(1, "other", 5, {}, {}, kOffline);
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0)), Briefs{"offer:c1>member"});
  expect_refused(h, 20, ManualAssign{"c1", "other"}, ErrorCode::item_not_queued, {"c1"});
  EXPECT_EQ(h.router().item("c1")->state, ItemState::offered);
  EXPECT_EQ(h.router().item("c1")->agent, std::optional<ExternalId>("member"));
  // ...and so is one of an assigned item.
  h.accept(21, "c1", "member");
  expect_refused(h, 22, ManualAssign{"c1", "other"}, ErrorCode::item_not_queued, {"c1"});
}

TEST(R15ManualAssign, UnknownItemOrAgentIsRefused) {
  RouterHarness h(two_queues());
  h.agent(1, "member", 1, {0}, {}, kOffline);
  h.arrive(10, "c1", 0);
  expect_refused(h, 20, ManualAssign{"nope", "member"}, ErrorCode::unknown_item, {"c1"});
  expect_refused(h, 21, ManualAssign{"c1", "nobody"}, ErrorCode::unknown_agent, {"c1"});
}

TEST(R15ManualAssign, ManualAssignmentMovesTheMembersRoundRobinTime) {
  Config config = two_queues();
  config.queues[0].method = AssignmentMethod::round_robin;
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0}, {}, kOffline);  // joined first: first in round robin
  h.agent(2, "bob", 1, {0});
  h.arrive(10, "manual", 0);  // goes to bob (amy offline); complete it to free bob
  ASSERT_EQ(h.router().item("manual")->agent, std::optional<ExternalId>("bob"));
  h.accept(11, "manual", "bob");
  h.complete(12, "manual");
  h.send(13, PresenceChange{"amy", kAvailable});
  h.arrive(20, "by-hand", 0);  // amy (joined 1) is before bob (offered at 10): amy
  ASSERT_EQ(h.router().item("by-hand")->agent, std::optional<ExternalId>("amy"));
  h.accept(21, "by-hand", "amy");
  h.complete(22, "by-hand");
  // Now amy's last is 20, bob's 10. A supervisor gives bob an item at 30: bob's becomes 30.
  h.send(25, PresenceChange{"bob", kOffline});
  h.arrive(26, "sup", 0);
  ASSERT_EQ(h.router().item("sup")->agent, std::optional<ExternalId>("amy"));
  h.decline(27, "sup", "amy");  // amy alone: re-offered
  h.decline(28, "sup", "amy");
  h.send(29, OfferTimeout{"sup", "amy"});  // amy at the limit: stays queued
  ASSERT_EQ(h.router().item("sup")->state, ItemState::queued);
  EXPECT_EQ(briefs(h.send(30, ManualAssign{"sup", "bob"})), Briefs{"assigned:sup>bob/manual"});
  h.complete(31, "sup");
  h.send(32, PresenceChange{"bob", kAvailable});
  // amy's last offer was at 28 (the re-offers move it), bob's manual assignment at 30: amy next.
  EXPECT_EQ(briefs(h.arrive(40, "next", 0)), Briefs{"offer:next>amy"});
  h.accept(41, "next", "amy");
  EXPECT_EQ(briefs(h.arrive(42, "after", 0)), Briefs{"offer:after>bob"});
}

// ---- agent pick -----------------------------------------------------------------------------

TEST(R15Pick, AgentPicksAnItemFromTheirOwnQueue) {
  RouterHarness h(two_queues());
  h.agent(1, "member", 2, {0}, {}, kOffline);
  h.arrive(10, "c1", 0);
  h.arrive(11, "c2", 0);
  EXPECT_EQ(briefs(h.send(20, AgentPick{"c2", "member"})), Briefs{"assigned:c2>member/pick"});
  EXPECT_EQ(h.router().item("c2")->state, ItemState::assigned);
  EXPECT_EQ(h.router().queue_order(0), std::vector<ExternalId>{"c1"});
  EXPECT_EQ(h.router().agent("member")->free_units, 1);
}

TEST(R15Pick, AgentPicksAnItemTheyDeclinedUpToTheLimit) {
  RouterHarness h(two_queues());
  h.agent(1, "member", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0)), Briefs{"offer:c1>member"});
  h.decline(20, "c1", "member");
  h.decline(30, "c1", "member");
  EXPECT_EQ(briefs(h.decline(40, "c1", "member")), Briefs{"requeued:c1>member(declined)"});
  ASSERT_EQ(h.router().item("c1")->state, ItemState::queued);
  EXPECT_EQ(briefs(h.send(50, AgentPick{"c1", "member"})), Briefs{"assigned:c1>member/pick"});
  EXPECT_EQ(h.router().item("c1")->agent, std::optional<ExternalId>("member"));
}

TEST(R15Pick, PickFromAQueueTheAgentIsNotInIsRefused) {
  RouterHarness h(two_queues());
  h.agent(1, "member", 2, {0});
  h.agent(1, "seller", 0, {1});
  h.arrive(10, "sale", 1);
  ASSERT_EQ(h.router().item("sale")->state, ItemState::queued);
  expect_refused(h, 20, AgentPick{"sale", "member"}, ErrorCode::not_a_member, {"sale"});
  EXPECT_EQ(h.router().item("sale")->state, ItemState::queued);
}

TEST(R15Pick, PickOfAnOfferedItemIsRefused) {
  RouterHarness h(two_queues());
  h.agent(1, "member", 1, {0});
  h.agent(2, "colleague", 2, {0}, {}, kOffline);
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0)), Briefs{"offer:c1>member"});
  expect_refused(h, 20, AgentPick{"c1", "colleague"}, ErrorCode::item_not_queued, {"c1"});
}

TEST(R15Pick, PickRefusedForCapacityChangesNothing) {
  RouterHarness h(two_queues());
  h.agent(1, "member", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0)), Briefs{"offer:c1>member"});
  h.arrive(11, "c2", 0);
  expect_refused(h, 20, AgentPick{"c2", "member"}, ErrorCode::insufficient_capacity, {"c1", "c2"});
}

}  // namespace
}  // namespace switchboard::testing
