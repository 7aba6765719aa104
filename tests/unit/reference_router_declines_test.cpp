// R14 declines, timeouts, the decline limit and parking, against the reference router.

#include <gtest/gtest.h>

#include <set>
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

Config chat_queue(Timestamp offer_timeout_ms = 0) {
  Config config = base_config();
  config.channels[kChat].offer_timeout_ms = offer_timeout_ms;
  add_queue(config, "support", kChat);
  return config;
}

std::int32_t declines(RouterHarness& h, const ExternalId& item, const ExternalId& agent) {
  const std::optional<ItemView> view = h.router().item(item);
  if (!view) {
    ADD_FAILURE() << "item " << item.to_string() << " is not live";
    return -1;
  }
  const auto it = view->declines.find(agent);
  return it == view->declines.end() ? 0 : it->second;
}

// ---- the Serena example -----------------------------------------------------------------------

// Serena is the only available agent (capacity 2). She declines the chat twice and lets the third
// offer time out (`third_offer_times_out` does it, and returns the decisions of that timeout).
// Then: three declines; she is never offered that chat again, but is offered other work; the chat
// goes to the other eligible agent (tom), even after tom declines it himself.
template <typename TimeOut>
void serena_example(RouterHarness& h, TimeOut third_offer_times_out) {
  h.agent(1, "serena", 2, {0});
  h.agent(2, "tom", 1, {0}, {}, kOffline);
  EXPECT_EQ(briefs(h.arrive(10, "chat", 0)), Briefs{"offer:chat>serena"});
  EXPECT_EQ(briefs(h.decline(20, "chat", "serena")),
            (Briefs{"requeued:chat>serena(declined)", "offer:chat>serena"}));
  EXPECT_EQ(briefs(h.decline(30, "chat", "serena")),
            (Briefs{"requeued:chat>serena(declined)", "offer:chat>serena"}));
  const std::vector<Decision> timed_out = third_offer_times_out();
  EXPECT_EQ(briefs(timed_out), Briefs{"requeued:chat>serena(timed_out)"});
  EXPECT_EQ(declines(h, "chat", "serena"), 3);
  EXPECT_EQ(h.router().item("chat")->state, ItemState::queued);
  // Still eligible in every other respect (available, free capacity, member): not offered it.
  EXPECT_EQ(briefs(h.send(h.router().now() + 1, PresenceChange{"serena", kAvailable})), Briefs{});
  // Other work: yes.
  EXPECT_EQ(briefs(h.arrive(h.router().now() + 1, "other", 0)), Briefs{"offer:other>serena"});
  // Tom comes online: the chat goes to him.
  EXPECT_EQ(briefs(h.send(h.router().now() + 1, PresenceChange{"tom", kAvailable})),
            Briefs{"offer:chat>tom"});
  // Tom declines once: serena still has room (1 free) but is past the limit; tom gets it again.
  EXPECT_EQ(briefs(h.decline(h.router().now() + 1, "chat", "tom")),
            (Briefs{"requeued:chat>tom(declined)", "offer:chat>tom"}));
  EXPECT_EQ(h.router().agent("serena")->free_units, 1);
  for (const Decision& d : h.all()) {
    if (d.kind == DecisionKind::offer && d.item == ExternalId("chat") && d.agent == ExternalId("serena")) {
      EXPECT_LT(d.time, 40) << "serena was offered the chat after her third decline: " << describe(d);
    }
  }
}

TEST(R14Declines, SerenaDeclinesTwiceLetsTheThirdOfferTimeOutByTheHostAndIsNeverOfferedThatChatAgain) {
  RouterHarness h(chat_queue());
  serena_example(h, [&] { return h.send(39, OfferTimeout{"chat", "serena"}); });
}

TEST(R14Declines, SerenaDeclinesTwiceLetsTheThirdOfferTimeOutByTheChannelTimerAndIsNeverOfferedThatChatAgain) {
  RouterHarness h(chat_queue(/*offer_timeout_ms=*/15));
  // Offers at t=10, 20 and 30; the declines at 20 and 30 come before their offers' timeouts (25,
  // 35); the third offer times out at t=45.
  serena_example(h, [&] {
    EXPECT_EQ(briefs(h.send(44, Tick{})), Briefs{});
    const std::vector<Decision> fired = h.send(45, Tick{});
    for (const Decision& d : fired) EXPECT_EQ(d.time, 45);
    return fired;
  });
}

TEST(R14Declines, AgentWhoDeclinesTwiceAndTimesOutIsNeverOfferedThatChatWhenOthersTimeOutToo) {
  // With the channel timer running, tom lets his offers of the chat time out too: it is re-offered
  // to tom only, never back to serena, and after tom's third timeout to nobody.
  RouterHarness h(chat_queue(/*offer_timeout_ms=*/1'000));
  h.agent(1, "serena", 2, {0});
  h.arrive(10, "chat", 0);
  h.decline(20, "chat", "serena");
  h.decline(30, "chat", "serena");
  EXPECT_EQ(briefs(h.send(1'030, Tick{})), Briefs{"requeued:chat>serena(timed_out)"});
  EXPECT_EQ(briefs(h.agent(2'000, "tom", 1, {0})), Briefs{"offer:chat>tom"});
  // tom's offers time out at 3000 and 4000 (each re-offered to him, serena being excluded) and at
  // 5000, his third: then nobody may be offered the chat.
  EXPECT_EQ(briefs(h.send(10'000, Tick{})),
            (Briefs{"requeued:chat>tom(timed_out)", "offer:chat>tom", "requeued:chat>tom(timed_out)",
                    "offer:chat>tom", "requeued:chat>tom(timed_out)"}));
  EXPECT_EQ(declines(h, "chat", "serena"), 3);
  EXPECT_EQ(declines(h, "chat", "tom"), 3);
  EXPECT_EQ(h.router().item("chat")->state, ItemState::queued);
}

// ---- ordering after a decline -------------------------------------------------------------------

TEST(R14Declines, DeclinerIsOrderedAfterEveryAgentWhoHasNotDeclined) {
  RouterHarness h(chat_queue());
  h.agent(1, "big", 5, {0});
  h.agent(2, "small", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "c", 0)), Briefs{"offer:c>big"});
  // big still has the most capacity, but declined: small (who has not) gets it.
  EXPECT_EQ(briefs(h.decline(20, "c", "big")), (Briefs{"requeued:c>big(declined)", "offer:c>small"}));
  // Both have declined now: back to the method (highest capacity).
  EXPECT_EQ(briefs(h.decline(30, "c", "small")), (Briefs{"requeued:c>small(declined)", "offer:c>big"}));
}

TEST(R14Declines, AmongDeclinersTheMethodDecidesNotTheNumberOfDeclines) {
  RouterHarness h(chat_queue());
  h.agent(1, "big", 5, {0});
  h.agent(2, "small", 1, {0});
  h.arrive(10, "c", 0);
  h.decline(20, "c", "big");    // -> small
  h.decline(30, "c", "small");  // -> big
  // big has declined twice, small once: both are decliners, so the method (highest capacity)
  // decides, not the number of declines.
  EXPECT_EQ(briefs(h.decline(40, "c", "big")), (Briefs{"requeued:c>big(declined)", "offer:c>big"}));
}

TEST(R14Declines, DeclinerIsStillOfferedWhenNoOneElseIsEligible) {
  RouterHarness h(chat_queue());
  h.agent(1, "solo", 1, {0});
  h.agent(2, "away", 5, {0}, {}, kAway);
  h.arrive(10, "c", 0);
  EXPECT_EQ(briefs(h.decline(20, "c", "solo")), (Briefs{"requeued:c>solo(declined)", "offer:c>solo"}));
}

// ---- decline limit ------------------------------------------------------------------------------

class R14DeclineLimitSetting : public ::testing::TestWithParam<std::int32_t> {};

TEST_P(R14DeclineLimitSetting, AgentIsOfferedExactlyLimitTimesThenNeverAgainAutomatically) {
  const std::int32_t limit = GetParam();
  Config config = chat_queue();
  config.decline_limit = limit;
  RouterHarness h(std::move(config));
  h.agent(1, "solo", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "c", 0)), Briefs{"offer:c>solo"});
  Timestamp t = 20;
  for (std::int32_t n = 1; n < limit; ++n, t += 10) {
    EXPECT_EQ(briefs(h.decline(t, "c", "solo")), (Briefs{"requeued:c>solo(declined)", "offer:c>solo"}))
        << "decline " << n << " of limit " << limit;
  }
  EXPECT_EQ(briefs(h.decline(t, "c", "solo")), Briefs{"requeued:c>solo(declined)"});
  EXPECT_EQ(declines(h, "c", "solo"), limit);
  EXPECT_EQ(briefs(h.send(t + 1, PresenceChange{"solo", kAvailable})), Briefs{});
  EXPECT_EQ(h.router().item("c")->state, ItemState::queued);
  // Another agent still gets it.
  EXPECT_EQ(briefs(h.agent(t + 2, "other", 1, {0})), Briefs{"offer:c>other"});
}

INSTANTIATE_TEST_SUITE_P(Limits, R14DeclineLimitSetting, ::testing::Values(1, 3, 5),
                         [](const ::testing::TestParamInfo<std::int32_t>& param_info) {
                           return "limit" + std::to_string(param_info.param);
                         });

TEST(R14DeclineLimit, DefaultLimitIsThree) { EXPECT_EQ(Config{}.decline_limit, 3); }

TEST(R14DeclineLimit, LimitOneExcludesTheDeclinerButNotOtherAgents) {
  Config config = chat_queue();
  config.decline_limit = 1;
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0});
  h.agent(2, "bob", 1, {0});
  EXPECT_EQ(briefs(h.arrive(10, "c", 0)), Briefs{"offer:c>amy"});
  EXPECT_EQ(briefs(h.decline(20, "c", "amy")), (Briefs{"requeued:c>amy(declined)", "offer:c>bob"}));
  EXPECT_EQ(briefs(h.decline(30, "c", "bob")), Briefs{"requeued:c>bob(declined)"});
  EXPECT_EQ(h.router().queue_order(0), std::vector<ExternalId>{"c"});
}

// ---- parking after 100 distinct decliners -------------------------------------------------------

TEST(R14Parking, ItemDeclinedByOneHundredDistinctAgentsIsParkedAndNoCycleOffersItAgain) {
  Config config = chat_queue();
  ASSERT_EQ(config.park_after_decliners, 100);
  RouterHarness h(std::move(config));
  for (std::uint64_t a = 1; a <= 100; ++a) h.agent(1, a, 1, {0});
  std::vector<Decision> last = h.arrive(10, "hot", 0);
  std::set<ExternalId> offered_to;
  Timestamp t = 20;
  for (int n = 1; n <= 100; ++n, ++t) {
    ASSERT_EQ(last.size(), n == 1 ? 1u : 2u) << describe(last);
    const Decision& offer = last.back();
    ASSERT_EQ(offer.kind, DecisionKind::offer) << describe(last);
    const ExternalId agent = offer.agent.value();
    EXPECT_TRUE(offered_to.insert(agent).second) << "offered twice to " << agent.to_string();
    last = h.decline(t, "hot", agent);
    if (n < 100) {
      ASSERT_EQ(last.front().kind, DecisionKind::requeued) << describe(last);
      EXPECT_EQ(h.router().item("hot")->state, ItemState::offered);
    }
  }
  EXPECT_EQ(offered_to.size(), 100u);
  // The 100th decline: requeued, then parked; no offer.
  ASSERT_EQ(last.size(), 2u) << describe(last);
  EXPECT_EQ(last[0].kind, DecisionKind::requeued);
  EXPECT_EQ(last[1].kind, DecisionKind::parked);
  EXPECT_EQ(last[1].item, ExternalId("hot"));
  EXPECT_EQ(last[1].queue, 0u);
  EXPECT_EQ(h.router().item("hot")->state, ItemState::parked);
  EXPECT_EQ(h.router().item("hot")->declines.size(), 100u);
  EXPECT_EQ(h.router().queue_order(0), std::vector<ExternalId>{});
  EXPECT_EQ(h.router().live_item_count(), 1u);

  // Nothing offers it any more: fresh agents, presence changes, capacity, ticks, new arrivals.
  EXPECT_EQ(briefs(h.agent(t, "fresh", 5, {0})), Briefs{});
  EXPECT_EQ(briefs(h.send(t + 1, PresenceChange{std::uint64_t{1}, kAvailable})), Briefs{});
  EXPECT_EQ(briefs(h.send(t + 2, CapacityChange{"fresh", AgentCapacity{9, {9, 9}}})), Briefs{});
  EXPECT_EQ(briefs(h.send(t + 3'600'000, Tick{})), Briefs{});
  EXPECT_EQ(briefs(h.arrive(t + 3'600'001, "next", 0)), Briefs{"offer:next>fresh"});
  EXPECT_EQ(h.router().item("hot")->state, ItemState::parked);

  // A supervisor may still assign it by hand (R15).
  EXPECT_EQ(briefs(h.send(t + 3'600'002, ManualAssign{"hot", "fresh"})),
            Briefs{"assigned:hot>fresh/manual"});
  EXPECT_EQ(h.router().item("hot")->state, ItemState::assigned);
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R14Parking, NinetyNineDistinctDecliningAgentsDoNotParkTheItem) {
  RouterHarness h(chat_queue());
  for (std::uint64_t a = 1; a <= 99; ++a) h.agent(1, a, 1, {0});
  std::vector<Decision> last = h.arrive(10, "hot", 0);
  for (int n = 1; n <= 99; ++n) last = h.decline(20 + n, "hot", last.back().agent.value());
  // 99 decliners, each once: they are all still eligible (1 < 3), so the first of them by the
  // method is offered it again; no `parked`.
  for (const Decision& d : last) EXPECT_NE(d.kind, DecisionKind::parked) << describe(last);
  EXPECT_EQ(h.router().item("hot")->state, ItemState::offered);
}

TEST(R14Parking, RepeatedDeclinesByFewAgentsNeverPark) {
  Config config = chat_queue();
  config.decline_limit = 5;
  config.park_after_decliners = 3;
  RouterHarness h(std::move(config));
  h.agent(1, "amy", 1, {0});
  h.agent(1, "bob", 1, {0});
  std::vector<Decision> last = h.arrive(10, "c", 0);
  for (int n = 0; n < 9; ++n) last = h.decline(20 + n, "c", last.back().agent.value());
  for (const Decision& d : h.all()) EXPECT_NE(d.kind, DecisionKind::parked) << describe(d);
  EXPECT_EQ(h.router().item("c")->state, ItemState::offered);
}

}  // namespace
}  // namespace switchboard::testing
