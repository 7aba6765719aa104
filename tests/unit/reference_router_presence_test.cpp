// R7 presence and I4 (never offered in a presence the item's channel does not allow) in the
// reference router: default `available` only, a channel allowing available + busy, a queue's
// override of its channel, a change to an allowed presence triggering offers, and agents in
// lunch / away / offline / do-not-disturb receiving nothing.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router_harness.hpp"

using namespace switchboard;
using namespace switchboard::testing;

namespace {

using Lines = std::vector<std::string>;

// One agent per presence id 1..5 (busy, do_not_disturb, away, offline, lunch), all members of
// `queues`, each with plenty of capacity. Their ids sort before "zz" on purpose: were presence
// ignored, they would win every tie.
void add_unavailable_agents(RouterHarness& h, Timestamp t, std::initializer_list<QueueId> queues) {
  h.agent(t, "a_busy", 5, queues, {}, kBusy);
  h.agent(t, "a_dnd", 5, queues, {}, kDoNotDisturb);
  h.agent(t, "a_away", 5, queues, {}, kAway);
  h.agent(t, "a_offline", 5, queues, {}, kOffline);
  h.agent(t, "a_lunch", 5, queues, {}, kLunch);
}

}  // namespace

TEST(R7Presence, DefaultAllowsOnlyAvailable) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  add_unavailable_agents(h, 10, {q});
  // Nobody available: the item waits, whatever the other presences.
  EXPECT_EQ(trace(h.arrive(100, "c1", q)), Lines{});
  EXPECT_EQ(h.router().item("c1")->state, ItemState::queued);
  // An available agent with less capacity than all of them still gets it.
  EXPECT_EQ(trace(h.agent(200, "zz", 1, {q})), Lines{"offer c1 zz q0 method @200"});
  EXPECT_EQ(trace(h.arrive(300, "c2", q)), Lines{});
}

TEST(R7Presence, ChannelAllowingAvailableAndBusyOffersToBusyAgents) {
  Config config = base_config();
  config.channels[kChat].allowed_presences = {kAvailable, kBusy};
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  add_unavailable_agents(h, 10, {q});
  EXPECT_EQ(trace(h.arrive(100, "c1", q)), Lines{"offer c1 a_busy q0 method @100"});
  // a_busy has 4 left; zz (available, 5 free) now has the most capacity.
  h.agent(150, "zz", 5, {q});
  EXPECT_EQ(trace(h.arrive(200, "c2", q)), Lines{"offer c2 zz q0 method @200"});
  // Only busy and available agents ever receive anything.
  for (int i = 3; i < 12; ++i) h.arrive(200 + i, "c" + std::to_string(i), q);
  for (const Decision& d : offers(h.all())) {
    EXPECT_TRUE(d.agent == ExternalId("a_busy") || d.agent == ExternalId("zz")) << describe(d);
  }
  EXPECT_EQ(h.router().agent("a_busy")->free_units, 0);
  EXPECT_EQ(h.router().agent("zz")->free_units, 0);
  EXPECT_EQ(h.router().agent("a_dnd")->free_units, 5);
  EXPECT_EQ(h.router().agent("a_lunch")->free_units, 5);
}

TEST(R7Presence, QueueOverrideReplacesTheChannelsAllowedPresences) {
  Config config = base_config();  // chat channel: available only
  const QueueId overflow = add_queue(config, "Overflow", kChat);
  config.queues[overflow].allowed_presences = {kBusy};
  const QueueId plain = add_queue(config, "Plain", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 5, {overflow, plain}, {}, kAvailable);
  h.agent(20, "bob", 5, {overflow, plain}, {}, kBusy);
  // Overflow allows busy only: bob, and not ann although she is available.
  EXPECT_EQ(trace(h.arrive(100, "o1", overflow)), Lines{"offer o1 bob q0 method @100"});
  EXPECT_EQ(trace(h.arrive(110, "o2", overflow)), Lines{"offer o2 bob q0 method @110"});
  // Plain follows the channel: ann, not bob.
  EXPECT_EQ(trace(h.arrive(120, "p1", plain)), Lines{"offer p1 ann q1 method @120"});
  EXPECT_EQ(trace(h.arrive(130, "p2", plain)), Lines{"offer p2 ann q1 method @130"});
}

TEST(R7Presence, QueueOverrideMayAllowACustomPresence) {
  Config config = base_config();
  const QueueId q = add_queue(config, "LunchDesk", kChat);
  config.queues[q].allowed_presences = {kLunch};
  RouterHarness h(config);
  h.agent(10, "ann", 5, {q}, {}, kAvailable);
  h.agent(20, "bob", 5, {q}, {}, kLunch);
  EXPECT_EQ(trace(h.arrive(100, "c1", q)), Lines{"offer c1 bob q0 method @100"});
}

TEST(R7Presence, ChangeToAvailableTriggersOffersOfWaitingWork) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 2, {q}, {}, kAway);
  h.arrive(100, "c1", q);
  h.arrive(110, "c2", q);
  h.arrive(120, "c3", q);
  EXPECT_EQ(h.router().queue_order(q), (std::vector<ExternalId>{"c1", "c2", "c3"}));
  EXPECT_EQ(trace(h.send(200, PresenceChange{"ann", kAvailable})),
            (Lines{"offer c1 ann q0 method @200", "offer c2 ann q0 method @200"}));
  EXPECT_EQ(h.router().queue_order(q), std::vector<ExternalId>{"c3"});
}

TEST(R7Presence, ChangeToAvailableTriggersEveryQueueOfTheAgent) {
  Config config = base_config();
  const QueueId a = add_queue(config, "A", kChat);
  const QueueId b = add_queue(config, "B", kEmail);
  RouterHarness h(config);
  h.agent(10, "ann", 5, {a, b}, {}, kOffline);
  h.arrive(100, "email", b);
  h.arrive(200, "chat", a);
  // Both queues are FIFO in group 1: the oldest item across them goes first (R12).
  EXPECT_EQ(trace(h.send(300, PresenceChange{"ann", kAvailable})),
            (Lines{"offer email ann q1 method @300", "offer chat ann q0 method @300"}));
}

TEST(R7Presence, UpsertChangingPresenceToAvailableTriggersOffers) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q}, {}, kAway);
  h.arrive(100, "c1", q);
  AgentUpsert upsert;
  upsert.agent = "ann";
  upsert.presence = kAvailable;
  EXPECT_EQ(trace(h.send(200, upsert)), Lines{"offer c1 ann q0 method @200"});
}

TEST(R7Presence, AgentInLunchOrAwayReceivesNothingAndOpenOffersStand) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 5, {q});
  EXPECT_EQ(trace(h.arrive(100, "c1", q)), Lines{"offer c1 ann q0 method @100"});
  EXPECT_EQ(trace(h.send(110, PresenceChange{"ann", kLunch})), Lines{});
  // The open offer stands (choices: a presence change leaves open offers standing).
  EXPECT_EQ(h.router().item("c1")->state, ItemState::offered);
  EXPECT_EQ(trace(h.arrive(120, "c2", q)), Lines{});
  EXPECT_EQ(trace(h.send(130, PresenceChange{"ann", kAway})), Lines{});
  EXPECT_EQ(trace(h.arrive(140, "c3", q)), Lines{});
  // Accepting the standing offer while away is fine; still nothing new is offered.
  EXPECT_EQ(trace(h.accept(150, "c1", "ann")), Lines{"assigned c1 ann q0 accepted @150"});
  EXPECT_EQ(h.router().queue_order(q), (std::vector<ExternalId>{"c2", "c3"}));
  // Back to available: the waiting work comes, in order.
  EXPECT_EQ(trace(h.send(200, PresenceChange{"ann", kAvailable})),
            (Lines{"offer c2 ann q0 method @200", "offer c3 ann q0 method @200"}));
}

TEST(R7Presence, ChangeToAnotherDisallowedPresenceOffersNothing) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 5, {q}, {}, kAway);
  h.arrive(100, "c1", q);
  for (PresenceId p : {kBusy, kDoNotDisturb, kOffline, kLunch, kAway}) {
    EXPECT_EQ(trace(h.send(200 + p, PresenceChange{"ann", p})), Lines{})
        << h.router().config().presences[p];
  }
  EXPECT_EQ(h.router().item("c1")->state, ItemState::queued);
}

TEST(I4Presence, NoOfferEverGoesToAnAgentInADisallowedPresence) {
  Config config = base_config();
  config.channels[kEmail].allowed_presences = {kAvailable, kBusy};
  const QueueId chat = add_queue(config, "Chats", kChat);
  const QueueId mail = add_queue(config, "Mail", kEmail);
  RouterHarness h(config);
  const std::vector<ExternalId> names = {"ann", "bob", "cat", "dan"};
  std::map<ExternalId, PresenceId> presence;
  for (const ExternalId& n : names) {
    h.agent(10, n, 3, {chat, mail}, {}, kOffline);
    presence[n] = kOffline;
  }
  // Every offer of every event is checked against the presence the agent had at that moment.
  auto check = [&](const std::vector<Decision>& out) {
    for (const Decision& d : offers(out)) {
      const PresenceId at = presence[d.agent.value()];
      if (d.queue == chat) {
        EXPECT_EQ(at, kAvailable) << describe(d);
      } else {
        EXPECT_TRUE(at == kAvailable || at == kBusy) << describe(d);
      }
    }
    return offers(out);
  };
  const PresenceId cycle[] = {kAvailable, kBusy, kLunch, kAway, kDoNotDisturb};
  Timestamp t = 100;
  std::vector<Decision> open;
  for (std::size_t step = 0; step < 40; ++step) {
    const ExternalId& who = names[step % names.size()];
    const PresenceId p = cycle[(step * 7 + step / 4) % 5];
    presence[who] = p;
    for (const Decision& d : check(h.send(t++, PresenceChange{who, p}))) open.push_back(d);
    for (const Decision& d :
         check(h.arrive(t++, "i" + std::to_string(step), step % 3 ? chat : mail))) {
      open.push_back(d);
    }
    // Finish the open work so that capacity keeps coming free (and triggers more cycles).
    std::vector<Decision> pending;
    pending.swap(open);
    for (const Decision& d : pending) {
      check(h.accept(t++, d.item, d.agent.value()));
      for (const Decision& again : check(h.complete(t++, d.item))) open.push_back(again);
    }
  }
  EXPECT_FALSE(offers(h.all()).empty());
  EXPECT_EQ(h.router().check_invariants(), "");
}
