// R5 lifecycle of a work item in the reference router: queued -> offered -> assigned ->
// completed, declines back to queued, cancel from queued / offered / parked, transfer, and the
// rule that an item is never in two states at once (I3). After every step the item's view, the
// queue order and the agents' views are checked to agree on exactly one state.

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "router_harness.hpp"

using namespace switchboard;
using namespace switchboard::testing;

namespace {

using Lines = std::vector<std::string>;

bool contains(const std::vector<ExternalId>& ids, const ExternalId& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// The item is in exactly one place: its view says `state` (with `agent` when offered/assigned),
// it is in queue_order of `queue` only when queued, it is in the items of `agent` only, and the
// router's own invariant check agrees.
void expect_state(ReferenceRouter& router, const ExternalId& id, ItemState state, QueueId queue,
                  const std::optional<ExternalId>& agent = std::nullopt) {
  SCOPED_TRACE("item " + id.to_string() + " expected " + std::string(to_string(state)));
  const std::optional<ItemView> view = router.item(id);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->state, state);
  EXPECT_EQ(view->queue, queue);
  EXPECT_EQ(view->agent, agent);
  for (QueueId q = 0; q < router.config().queues.size(); ++q) {
    const bool listed = contains(router.queue_order(q), id);
    EXPECT_EQ(listed, state == ItemState::queued && q == queue) << "queue_order of queue " << q;
  }
  for (const ExternalId& agent_id : router.agent_ids()) {
    const bool holds = contains(router.agent(agent_id)->items, id);
    EXPECT_EQ(holds, agent.has_value() && *agent == agent_id &&
                         (state == ItemState::offered || state == ItemState::assigned))
        << "items of agent " << agent_id.to_string();
  }
  EXPECT_EQ(router.check_invariants(), "");
}

void expect_gone(ReferenceRouter& router, const ExternalId& id) {
  SCOPED_TRACE("item " + id.to_string() + " expected forgotten");
  EXPECT_FALSE(router.item(id).has_value());
  for (QueueId q = 0; q < router.config().queues.size(); ++q) {
    EXPECT_FALSE(contains(router.queue_order(q), id)) << "queue " << q;
  }
  for (const ExternalId& agent_id : router.agent_ids()) {
    EXPECT_FALSE(contains(router.agent(agent_id)->items, id)) << "agent " << agent_id.to_string();
  }
  EXPECT_EQ(router.check_invariants(), "");
}

struct OneQueue {
  Config config = base_config();
  QueueId q = add_queue(config, "Support", kChat);
};

}  // namespace

TEST(R5Lifecycle, QueuedOfferedAssignedCompletedWithDecisionsInOrder) {
  OneQueue setup;
  RouterHarness h(setup.config);
  const QueueId q = setup.q;

  EXPECT_EQ(trace(h.arrive(100, "c1", q)), Lines{});
  expect_state(h.router(), "c1", ItemState::queued, q);
  EXPECT_EQ(h.router().queue_order(q), std::vector<ExternalId>{"c1"});

  EXPECT_EQ(trace(h.agent(200, "ann", 2, {q})), Lines{"offer c1 ann q0 method @200"});
  expect_state(h.router(), "c1", ItemState::offered, q, "ann");
  EXPECT_EQ(h.router().agent("ann")->free_units, 1);

  EXPECT_EQ(trace(h.accept(300, "c1", "ann")), Lines{"assigned c1 ann q0 accepted @300"});
  expect_state(h.router(), "c1", ItemState::assigned, q, "ann");
  EXPECT_EQ(h.router().agent("ann")->free_units, 1);

  EXPECT_EQ(trace(h.complete(400, "c1")), Lines{"completed c1 ann q0 @400"});
  expect_gone(h.router(), "c1");
  EXPECT_EQ(h.router().agent("ann")->free_units, 2);
  EXPECT_EQ(h.router().live_item_count(), 0u);

  // The whole history, in order: one decision per transition.
  EXPECT_EQ(trace(h.all()),
            (Lines{"offer c1 ann q0 method @200", "assigned c1 ann q0 accepted @300",
                   "completed c1 ann q0 @400"}));
}

TEST(R5Lifecycle, ArrivalWithAnEligibleAgentIsOfferedInTheSameEvent) {
  OneQueue setup;
  RouterHarness h(setup.config);
  h.agent(10, "ann", 1, {setup.q});
  EXPECT_EQ(trace(h.arrive(100, "c1", setup.q)), Lines{"offer c1 ann q0 method @100"});
  expect_state(h.router(), "c1", ItemState::offered, setup.q, "ann");
}

TEST(R5Lifecycle, DeclinedOfferReturnsToQueuedAndGoesToTheNextAgent) {
  OneQueue setup;
  RouterHarness h(setup.config);
  h.agent(10, "ann", 2, {setup.q});
  h.agent(20, "bob", 1, {setup.q});
  EXPECT_EQ(trace(h.arrive(100, "c1", setup.q)), Lines{"offer c1 ann q0 method @100"});
  // R5/R14: back to queued (requeued), then the cycle orders ann (who declined) after bob,
  // although she has more free capacity.
  EXPECT_EQ(trace(h.decline(200, "c1", "ann")),
            (Lines{"requeued c1 ann q0 declined @200", "offer c1 bob q0 method @200"}));
  expect_state(h.router(), "c1", ItemState::offered, setup.q, "bob");
  EXPECT_EQ(h.router().item("c1")->declines, (std::map<ExternalId, std::int32_t>{{"ann", 1}}));
  EXPECT_EQ(h.router().agent("ann")->free_units, 2);
}

TEST(R5Lifecycle, DeclinedOfferWithNobodyElseStaysQueuedBetweenDeclineAndNextOffer) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  config.decline_limit = 1;  // ann may not get it again automatically
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  EXPECT_EQ(trace(h.decline(200, "c1", "ann")), Lines{"requeued c1 ann q0 declined @200"});
  expect_state(h.router(), "c1", ItemState::queued, q);
  EXPECT_EQ(trace(h.agent(300, "bob", 1, {q})), Lines{"offer c1 bob q0 method @300"});
  expect_state(h.router(), "c1", ItemState::offered, q, "bob");
}

TEST(R5Lifecycle, OfferTimeoutReturnsTheItemToQueued) {
  Config config = base_config();
  config.channels[kChat].offer_timeout_ms = 1000;
  config.decline_limit = 1;
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  expect_state(h.router(), "c1", ItemState::offered, q, "ann");
  EXPECT_EQ(trace(h.send(1099, Tick{})), Lines{});
  expect_state(h.router(), "c1", ItemState::offered, q, "ann");
  // The timer fires at offered_at + timeout, whatever time the tick that reveals it carries.
  EXPECT_EQ(trace(h.send(5000, Tick{})), Lines{"requeued c1 ann q0 timed_out @1100"});
  expect_state(h.router(), "c1", ItemState::queued, q);
}

TEST(R5Lifecycle, CancelFromQueuedForgetsTheItemAndNothingIsOfferedLater) {
  OneQueue setup;
  RouterHarness h(setup.config);
  h.arrive(100, "c1", setup.q);
  h.arrive(110, "c2", setup.q);
  EXPECT_EQ(trace(h.send(200, ItemCancel{"c1"})), Lines{"cancelled c1 q0 @200"});
  expect_gone(h.router(), "c1");
  expect_state(h.router(), "c2", ItemState::queued, setup.q);
  EXPECT_EQ(h.router().live_item_count(), 1u);
  // An agent arriving later gets c2 only: c1 is not waiting anywhere.
  EXPECT_EQ(trace(h.agent(300, "ann", 5, {setup.q})), Lines{"offer c2 ann q0 method @300"});
}

TEST(R5Lifecycle, CancelFromOfferedWithdrawsTheOfferAndFreesTheAgentForWaitingWork) {
  OneQueue setup;
  RouterHarness h(setup.config);
  h.agent(10, "ann", 1, {setup.q});
  h.arrive(100, "c1", setup.q);
  h.arrive(110, "c2", setup.q);
  expect_state(h.router(), "c1", ItemState::offered, setup.q, "ann");
  expect_state(h.router(), "c2", ItemState::queued, setup.q);
  // The cancellation names the agent whose offer is withdrawn; the freed capacity goes to c2.
  EXPECT_EQ(trace(h.send(200, ItemCancel{"c1"})),
            (Lines{"cancelled c1 ann q0 @200", "offer c2 ann q0 method @200"}));
  expect_gone(h.router(), "c1");
  expect_state(h.router(), "c2", ItemState::offered, setup.q, "ann");
  // Accepting the cancelled offer is refused: the item is gone.
  const std::vector<Decision> late = h.accept(210, "c1", "ann");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].error, ErrorCode::unknown_item);
}

TEST(R5Lifecycle, CancelFromParked) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  config.park_after_decliners = 1;
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});
  h.arrive(100, "c1", q);
  EXPECT_EQ(trace(h.decline(200, "c1", "ann")),
            (Lines{"requeued c1 ann q0 declined @200", "parked c1 q0 @200"}));
  expect_state(h.router(), "c1", ItemState::parked, q);
  // Parked: skipped by automatic assignment even though ann has not reached the decline limit.
  EXPECT_EQ(trace(h.agent(250, "bob", 1, {q})), Lines{});
  EXPECT_EQ(trace(h.send(300, ItemCancel{"c1"})), Lines{"cancelled c1 q0 @300"});
  expect_gone(h.router(), "c1");
  EXPECT_EQ(h.router().live_item_count(), 0u);
}

TEST(R5Lifecycle, CancelOfAssignedItemIsRefusedAndItStaysAssigned) {
  OneQueue setup;
  RouterHarness h(setup.config);
  h.agent(10, "ann", 1, {setup.q});
  h.arrive(100, "c1", setup.q);
  h.accept(150, "c1", "ann");
  const std::vector<Decision> out = h.send(200, ItemCancel{"c1"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, DecisionKind::error);
  EXPECT_EQ(out[0].error, ErrorCode::item_not_queued);
  expect_state(h.router(), "c1", ItemState::assigned, setup.q, "ann");
}

TEST(R5Lifecycle, TransferOfQueuedItemMovesItAndTriggersTheNewQueue) {
  Config config = base_config();
  const QueueId a = add_queue(config, "A", kChat);
  const QueueId b = add_queue(config, "B", kChat);
  RouterHarness h(config);
  h.agent(10, "bob", 1, {b});
  EXPECT_EQ(trace(h.arrive(100, "c1", a)), Lines{});
  expect_state(h.router(), "c1", ItemState::queued, a);
  EXPECT_EQ(trace(h.send(200, ItemTransfer{"c1", b})),
            (Lines{"transferred c1 q1 from q0 @200", "offer c1 bob q1 method @200"}));
  expect_state(h.router(), "c1", ItemState::offered, b, "bob");
  EXPECT_TRUE(h.router().queue_order(a).empty());
}

TEST(R5Lifecycle, TransferOfOfferedItemWithdrawsTheOfferAndQueuesItInTheNewQueue) {
  Config config = base_config();
  const QueueId a = add_queue(config, "A", kChat);
  const QueueId b = add_queue(config, "B", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {a});
  h.arrive(100, "c1", a);
  expect_state(h.router(), "c1", ItemState::offered, a, "ann");
  EXPECT_EQ(trace(h.send(200, ItemTransfer{"c1", b})), Lines{"transferred c1 q1 from q0 @200"});
  expect_state(h.router(), "c1", ItemState::queued, b);
  EXPECT_EQ(h.router().agent("ann")->free_units, 1);
  EXPECT_TRUE(h.router().agent("ann")->items.empty());
  // The withdrawn offer can no longer be accepted.
  const std::vector<Decision> late = h.accept(210, "c1", "ann");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].error, ErrorCode::item_not_offered);
  expect_state(h.router(), "c1", ItemState::queued, b);
}

TEST(R5Lifecycle, TransferOfParkedItemGivesItANewChanceInTheNewQueue) {
  Config config = base_config();
  const QueueId a = add_queue(config, "A", kChat);
  const QueueId b = add_queue(config, "B", kChat);
  config.park_after_decliners = 1;
  RouterHarness h(config);
  h.agent(10, "ann", 1, {a});
  h.agent(20, "bob", 1, {b});
  h.arrive(100, "c1", a);
  h.decline(150, "c1", "ann");
  expect_state(h.router(), "c1", ItemState::parked, a);
  EXPECT_EQ(trace(h.send(200, ItemTransfer{"c1", b})),
            (Lines{"transferred c1 q1 from q0 @200", "offer c1 bob q1 method @200"}));
  expect_state(h.router(), "c1", ItemState::offered, b, "bob");
  // Declines are kept across the transfer.
  EXPECT_EQ(h.router().item("c1")->declines, (std::map<ExternalId, std::int32_t>{{"ann", 1}}));
}

TEST(R5Lifecycle, TransferKeepsTheCreationTimeForOrderInTheNewQueue) {
  Config config = base_config();
  const QueueId a = add_queue(config, "A", kChat);
  const QueueId b = add_queue(config, "B", kChat);
  RouterHarness h(config);
  h.arrive(100, "old", a);
  h.arrive(500, "new", b);
  h.send(600, ItemTransfer{"old", b});
  EXPECT_EQ(h.router().queue_order(b), (std::vector<ExternalId>{"old", "new"}));
  EXPECT_EQ(trace(h.agent(700, "bob", 1, {b})), Lines{"offer old bob q1 method @700"});
}

TEST(R5Lifecycle, CompletedItemIsForgottenAndItsIdMayBeReused) {
  OneQueue setup;
  RouterHarness h(setup.config);
  h.agent(10, "ann", 1, {setup.q});
  h.arrive(100, "c1", setup.q);
  h.accept(110, "c1", "ann");
  h.complete(120, "c1");
  expect_gone(h.router(), "c1");
  // Nothing about c1 is known any more.
  for (EventBody body : {EventBody{ItemComplete{"c1"}}, EventBody{ItemCancel{"c1"}},
                         EventBody{OfferAccept{"c1", "ann"}}}) {
    const std::vector<Decision> out = h.send(130, body);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].kind, DecisionKind::error);
    EXPECT_EQ(out[0].error, ErrorCode::unknown_item);
  }
  // The id is free again: a new arrival under it is a new item with no declines.
  EXPECT_EQ(trace(h.arrive(200, "c1", setup.q)), Lines{"offer c1 ann q0 method @200"});
  expect_state(h.router(), "c1", ItemState::offered, setup.q, "ann");
  EXPECT_TRUE(h.router().item("c1")->declines.empty());
}

TEST(R5Lifecycle, ItemIsInExactlyOneStateAtEveryStepOfALongerHistory) {
  Config config = base_config();
  const QueueId a = add_queue(config, "A", kChat);
  const QueueId b = add_queue(config, "B", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {a});
  h.agent(20, "bob", 1, {b});
  h.arrive(100, "x", a);
  expect_state(h.router(), "x", ItemState::offered, a, "ann");
  h.decline(110, "x", "ann");  // ann is the only member: offered to her again
  expect_state(h.router(), "x", ItemState::offered, a, "ann");
  h.send(120, ItemTransfer{"x", b});
  expect_state(h.router(), "x", ItemState::offered, b, "bob");
  EXPECT_TRUE(h.router().agent("ann")->items.empty());
  h.decline(130, "x", "bob");
  expect_state(h.router(), "x", ItemState::offered, b, "bob");
  h.accept(140, "x", "bob");
  expect_state(h.router(), "x", ItemState::assigned, b, "bob");
  h.complete(150, "x");
  expect_gone(h.router(), "x");
  EXPECT_EQ(trace(h.all()), (Lines{"offer x ann q0 method @100", "requeued x ann q0 declined @110",
                                   "offer x ann q0 method @110", "transferred x q1 from q0 @120",
                                   "offer x bob q1 method @120", "requeued x bob q1 declined @130",
                                   "offer x bob q1 method @130", "assigned x bob q1 accepted @140",
                                   "completed x bob q1 @150"}));
}
