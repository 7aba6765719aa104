// R9 assignment methods in the reference router: highest capacity (ROUTING.md's coffee-refund
// example, exactly), round robin (never-assigned agents by join time, state kept per queue),
// least active (oldest release, wrap-up counted), custom assignment rulesets (gradual relaxation,
// dynamic conditions, every order-by key) and the final tie-breaks (round robin, then agent id).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router_harness.hpp"

using namespace switchboard;
using namespace switchboard::testing;

namespace {

using Lines = std::vector<std::string>;

constexpr Timestamp kMinute = 60 * 1000;
constexpr Timestamp at(int hour, int minute) { return (hour * 60 + minute) * kMinute; }
std::string ms(Timestamp t) { return std::to_string(t); }

struct AgentSpec {
  ExternalId id;
  std::int32_t units = 1;
  std::vector<SkillLevel> skills;
  Attributes attributes;
  PresenceId presence = kAvailable;
};

std::vector<Decision> add_agent(RouterHarness& h, Timestamp t, AgentSpec spec,
                                std::initializer_list<QueueId> queues) {
  AgentUpsert upsert;
  upsert.agent = spec.id;
  upsert.presence = spec.presence;
  upsert.skills = std::move(spec.skills);
  upsert.capacity = AgentCapacity{spec.units, {spec.units, spec.units}};
  upsert.attributes = std::move(spec.attributes);
  std::vector<Decision> out = h.send(t, upsert);
  for (QueueId q : queues) {
    std::vector<Decision> more = h.send(t, JoinQueue{spec.id, q});
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

AssignmentRule assignment_rule(const Config& config, std::string name, std::string_view when,
                               std::vector<AgentOrderKey> order_by = {}) {
  AssignmentRule r;
  r.name = std::move(name);
  r.when = condition(config, when, ConditionScope::agent_and_item);
  r.order_by = std::move(order_by);
  return r;
}

AgentOrderKey key(AgentOrderKind kind, bool descending = false, std::string attribute = {}) {
  return AgentOrderKey{kind, descending, std::move(attribute)};
}

// ---- the coffee-refund example ------------------------------------------------------------------

struct CoffeeShop {
  Config config;
  SkillId coffee = 0;
  QueueId q = 0;
  CoffeeShop() : config(base_config()) {
    config.skills.push_back("coffee refund");
    coffee = static_cast<SkillId>(config.skills.size() - 1);
    q = add_queue(config, "Coffee", kChat, AssignmentMethod::highest_capacity);
  }
  std::vector<SkillRequirement> needs() const { return {SkillRequirement{coffee, -1}}; }
};

// Joins the three agents of the example away, in the *reverse* of the order the example needs
// (Alan first): were the last assignments ignored, join time and agent id would both pick Alan.
// Zed has far more capacity but not the skill.
void join_coffee_agents(RouterHarness& h, const CoffeeShop& shop) {
  const std::vector<SkillLevel> skill = {SkillLevel{shop.coffee, 1}};
  add_agent(h, at(8, 0), {"Zed", 10, {}, {}, kAvailable}, {shop.q});
  add_agent(h, at(9, 0), {"Alan", 3, skill, {}, kAway}, {shop.q});
  add_agent(h, at(9, 1), {"Alicia", 3, skill, {}, kAway}, {shop.q});
  add_agent(h, at(9, 2), {"Lesa", 3, skill, {}, kAway}, {shop.q});
}

// The second half of the example: everyone available at 10:39 with one chat and 2 free; a chat at
// 10:40 goes to Lesa (oldest last assignment, 10:30), another at 10:45 to Alicia (10:35).
void expect_coffee_example_tail(RouterHarness& h, const CoffeeShop& shop) {
  for (const char* name : {"Lesa", "Alicia", "Alan"}) {
    EXPECT_EQ(trace(h.send(at(10, 39), PresenceChange{name, kAvailable})), Lines{}) << name;
  }
  for (const char* name : {"Lesa", "Alicia", "Alan"}) {
    EXPECT_EQ(h.router().agent(name)->free_units, 2) << name;
  }
  EXPECT_EQ(trace(h.arrive(at(10, 40), "chat@10:40", shop.q, shop.needs())),
            Lines{"offer chat@10:40 Lesa q0 method @" + ms(at(10, 40))});
  h.accept(at(10, 41), "chat@10:40", "Lesa");
  EXPECT_EQ(trace(h.arrive(at(10, 45), "chat@10:45", shop.q, shop.needs())),
            Lines{"offer chat@10:45 Alicia q0 method @" + ms(at(10, 45))});
}

}  // namespace

TEST(R9AssignmentMethods, HighestCapacityCoffeeRefundTieGoesToOldestLastAssignment) {
  CoffeeShop shop;
  RouterHarness h(shop.config);
  join_coffee_agents(h, shop);
  // Last assignments at 10:30 (Lesa), 10:35 (Alicia), 10:37 (Alan): one agent available at a
  // time, each accepts one chat and steps away.
  const std::pair<const char*, Timestamp> firsts[] = {
      {"Lesa", at(10, 30)}, {"Alicia", at(10, 35)}, {"Alan", at(10, 37)}};
  for (const auto& [name, t] : firsts) {
    h.send(t, PresenceChange{name, kAvailable});
    const std::string item = std::string("first-") + name;
    EXPECT_EQ(trace(h.arrive(t, item, shop.q, shop.needs())),
              Lines{"offer " + item + " " + name + " q0 method @" + ms(t)});
    h.accept(t, item, name);
    h.send(t, PresenceChange{name, kAway});
  }
  expect_coffee_example_tail(h, shop);
  EXPECT_EQ(h.router().check_invariants(), "");
}

TEST(R9AssignmentMethods, HighestCapacityCoffeeRefundWithManualAssignAndPickSettingRoundRobin) {
  CoffeeShop shop;
  RouterHarness h(shop.config);
  join_coffee_agents(h, shop);
  for (const char* item : {"m1", "m2", "m3"}) {
    EXPECT_EQ(trace(h.arrive(at(10, 0), item, shop.q, shop.needs())), Lines{});
  }
  // Choices: manual assignment and pick update the agent's round-robin time for the queue.
  EXPECT_EQ(trace(h.send(at(10, 30), ManualAssign{"m1", "Lesa"})),
            Lines{"assigned m1 Lesa q0 manual @" + ms(at(10, 30))});
  EXPECT_EQ(trace(h.send(at(10, 35), AgentPick{"m2", "Alicia"})),
            Lines{"assigned m2 Alicia q0 pick @" + ms(at(10, 35))});
  EXPECT_EQ(trace(h.send(at(10, 37), ManualAssign{"m3", "Alan"})),
            Lines{"assigned m3 Alan q0 manual @" + ms(at(10, 37))});
  expect_coffee_example_tail(h, shop);
}

TEST(R9AssignmentMethods, HighestCapacityPrefersMostFreeCapacityOverRoundRobin) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 3, {q});  // oldest join and smallest id
  h.agent(20, "bob", 5, {q});
  EXPECT_EQ(trace(h.arrive(100, "c1", q)), Lines{"offer c1 bob q0 method @100"});
  EXPECT_EQ(trace(h.arrive(110, "c2", q)), Lines{"offer c2 bob q0 method @110"});
  // 3 free each: the tie goes to ann (her round-robin time is her join, 10; bob's is 110).
  EXPECT_EQ(trace(h.arrive(120, "c3", q)), Lines{"offer c3 ann q0 method @120"});
}

TEST(R9AssignmentMethods, HighestCapacityProfileBasedCountsFreeSlotsOfTheItemsProfile) {
  Config config = base_config();
  const QueueId q = add_queue(config, "ProfileChat", kProfileChat);
  RouterHarness h(config);
  AgentUpsert ann;
  ann.agent = "ann";
  ann.presence = kAvailable;
  ann.capacity = AgentCapacity{50, {2, 1}};  // many units, few chat slots
  h.send(10, ann);
  h.send(10, JoinQueue{"ann", q});
  AgentUpsert bob;
  bob.agent = "bob";
  bob.presence = kAvailable;
  bob.capacity = AgentCapacity{0, {4, 1}};
  h.send(20, bob);
  h.send(20, JoinQueue{"bob", q});
  EXPECT_EQ(trace(h.arrive(100, "c1", q)), Lines{"offer c1 bob q0 method @100"});
  EXPECT_EQ(trace(h.arrive(110, "c2", q)), Lines{"offer c2 bob q0 method @110"});
  EXPECT_EQ(trace(h.arrive(120, "c3", q)), Lines{"offer c3 ann q0 method @120"});
}

TEST(R9AssignmentMethods, RoundRobinNeverAssignedAgentsGoInJoinOrderThenOldestLastAssignment) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat, AssignmentMethod::round_robin);
  RouterHarness h(config);
  // Join order bob, carl, ann: neither id order nor capacity (ann has the most).
  h.agent(100, "bob", 5, {q});
  h.agent(150, "carl", 5, {q});
  h.agent(200, "ann", 9, {q});
  EXPECT_EQ(trace(h.arrive(1000, "i1", q)), Lines{"offer i1 bob q0 method @1000"});
  EXPECT_EQ(trace(h.arrive(1001, "i2", q)), Lines{"offer i2 carl q0 method @1001"});
  EXPECT_EQ(trace(h.arrive(1002, "i3", q)), Lines{"offer i3 ann q0 method @1002"});
  EXPECT_EQ(trace(h.arrive(1003, "i4", q)), Lines{"offer i4 bob q0 method @1003"});
  EXPECT_EQ(trace(h.arrive(1004, "i5", q)), Lines{"offer i5 carl q0 method @1004"});
}

TEST(R9AssignmentMethods, RoundRobinSkipsIneligibleAgentsWithoutLosingTheirTurn) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat, AssignmentMethod::round_robin);
  RouterHarness h(config);
  h.agent(100, "bob", 5, {q});
  h.agent(150, "carl", 5, {q});
  h.send(500, PresenceChange{"bob", kAway});
  EXPECT_EQ(trace(h.arrive(1000, "i1", q)), Lines{"offer i1 carl q0 method @1000"});
  h.send(1100, PresenceChange{"bob", kAvailable});
  // bob's turn is still his join time (100): he is next.
  EXPECT_EQ(trace(h.arrive(1200, "i2", q)), Lines{"offer i2 bob q0 method @1200"});
}

TEST(R9AssignmentMethods, RoundRobinStateIsPerQueueSoAnAgentGetsItemsBackToBackFromTwoQueues) {
  Config config = base_config();
  const QueueId q1 = add_queue(config, "One", kChat, AssignmentMethod::round_robin);
  const QueueId q2 = add_queue(config, "Two", kChat, AssignmentMethod::round_robin);
  RouterHarness h(config);
  h.agent(100, "ann", 5, {q1, q2});
  h.agent(200, "bob", 5, {q1, q2});
  EXPECT_EQ(trace(h.arrive(1000, "x1", q1)), Lines{"offer x1 ann q0 method @1000"});
  // ann just got one from One, but never one from Two, where she joined first: ann again.
  EXPECT_EQ(trace(h.arrive(1001, "x2", q2)), Lines{"offer x2 ann q1 method @1001"});
  EXPECT_EQ(trace(h.arrive(1002, "x3", q1)), Lines{"offer x3 bob q0 method @1002"});
  EXPECT_EQ(trace(h.arrive(1003, "x4", q2)), Lines{"offer x4 bob q1 method @1003"});
  EXPECT_EQ(trace(h.arrive(1004, "x5", q1)), Lines{"offer x5 ann q0 method @1004"});
}

TEST(R9AssignmentMethods, RoundRobinTimeMovesAtTheOfferNotTheAccept) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat, AssignmentMethod::round_robin);
  RouterHarness h(config);
  h.agent(100, "ann", 5, {q});
  h.agent(200, "bob", 5, {q});
  EXPECT_EQ(trace(h.arrive(1000, "i1", q)), Lines{"offer i1 ann q0 method @1000"});
  EXPECT_EQ(trace(h.arrive(1001, "i2", q)), Lines{"offer i2 bob q0 method @1001"});
  // bob accepts first: were the turn taken at the accept, bob (1400) would be before ann (1500).
  h.accept(1400, "i2", "bob");
  h.accept(1500, "i1", "ann");
  EXPECT_EQ(trace(h.arrive(2000, "i3", q)), Lines{"offer i3 ann q0 method @2000"});
}

TEST(R9AssignmentMethods, LeastActiveGoesToTheAgentWhoseCapacityWasReleasedLongestAgo) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat, AssignmentMethod::least_active);
  RouterHarness h(config);
  h.agent(10, "ann", 1, {q});  // created at 10: last release 10
  h.agent(20, "bob", 1, {q});
  h.agent(30, "carl", 1, {q});
  EXPECT_EQ(trace(h.arrive(1000, "i1", q)), Lines{"offer i1 ann q0 method @1000"});
  EXPECT_EQ(trace(h.arrive(1100, "i2", q)), Lines{"offer i2 bob q0 method @1100"});
  h.accept(1200, "i1", "ann");
  h.accept(1200, "i2", "bob");
  h.complete(1500, "i2");  // bob released at 1500
  h.complete(2000, "i1");  // ann released at 2000
  EXPECT_EQ(h.router().agent("bob")->last_release, 1500);
  EXPECT_EQ(h.router().agent("ann")->last_release, 2000);
  EXPECT_EQ(trace(h.arrive(3000, "i3", q)), Lines{"offer i3 carl q0 method @3000"});
  // Round robin would pick ann (last offer 1000 < 1100); least active picks bob (1500 < 2000).
  EXPECT_EQ(trace(h.arrive(3100, "i4", q)), Lines{"offer i4 bob q0 method @3100"});
  EXPECT_EQ(trace(h.arrive(3200, "i5", q)), Lines{"offer i5 ann q0 method @3200"});
}

TEST(R9AssignmentMethods, LeastActiveCountsTheReleaseAtTheEndOfWrapUp) {
  Config config = base_config();
  config.channels[kEmail].wrap_up_ms = 5000;
  const QueueId chats = add_queue(config, "Chats", kChat, AssignmentMethod::least_active);
  const QueueId mail = add_queue(config, "Mail", kEmail);
  const QueueId side = add_queue(config, "Side", kChat);
  RouterHarness h(config);
  h.agent(10, "ann", 5, {chats, mail});
  h.agent(20, "bob", 5, {chats, side});
  h.arrive(500, "e1", mail);
  h.accept(510, "e1", "ann");
  h.complete(1000, "e1");  // wrap-up until 6000
  h.arrive(2000, "s1", side);
  h.accept(2010, "s1", "bob");
  h.complete(3000, "s1");  // no wrap-up on chat: released at 3000
  h.send(5000, Tick{});
  // In wrap-up ann is not yet released: her last release is still her creation.
  EXPECT_EQ(h.router().agent("ann")->last_release, 10);
  EXPECT_EQ(h.router().agent("bob")->last_release, 3000);
  h.send(6500, Tick{});
  EXPECT_EQ(h.router().agent("ann")->last_release, 6000);
  // Counted at completion (1000) ann would win; counted at the end of wrap-up, bob (3000 < 6000).
  EXPECT_EQ(trace(h.arrive(7000, "c1", chats)), Lines{"offer c1 bob q0 method @7000"});
}

TEST(R9CustomRuleset, StrictRuleMatchingNobodyFallsThroughToTheNextRule) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Custom", kChat, AssignmentMethod::custom);
  config.queues[q].assignment = {
      assignment_rule(config, "french", R"(agent.country == "FR")"),
      assignment_rule(config, "us seniors", R"(agent.country == "US")",
                      {key(AgentOrderKind::attribute, true, "seniority")}),
  };
  RouterHarness h(config);
  add_agent(h, 10, {"ann", 5, {}, {{"country", "US"}, {"seniority", std::int64_t{3}}}}, {q});
  add_agent(h, 20, {"bob", 5, {}, {{"country", "US"}, {"seniority", std::int64_t{7}}}}, {q});
  add_agent(h, 30, {"carl", 5, {}, {{"country", "DE"}, {"seniority", std::int64_t{9}}}}, {q});
  // fay matches the strict rule but is away: not eligible, so rule 0 matches no eligible agent.
  add_agent(h, 40, {"fay", 5, {}, {{"country", "FR"}, {"seniority", std::int64_t{1}}}, kAway}, {q});
  const std::vector<Decision> out = h.arrive(100, "i1", q);
  EXPECT_EQ(trace(out), Lines{"offer i1 bob q0 rule1 @100"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].decided_by, DecidedBy::rule);
  EXPECT_EQ(out[0].rule, 1);
  // Once fay is available, the strict rule decides again.
  EXPECT_EQ(trace(h.send(200, PresenceChange{"fay", kAvailable})), Lines{});
  EXPECT_EQ(trace(h.arrive(300, "i2", q)), Lines{"offer i2 fay q0 rule0 @300"});
}

TEST(R9CustomRuleset, NoRuleMatchingAnyAgentLeavesTheItemQueued) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Custom", kChat, AssignmentMethod::custom);
  config.queues[q].assignment = {
      assignment_rule(config, "french", R"(agent.country == "FR")"),
      assignment_rule(config, "us", R"(agent.country == "US")"),
  };
  RouterHarness h(config);
  add_agent(h, 10, {"carl", 5, {}, {{"country", "DE"}}}, {q});
  add_agent(h, 20, {"dora", 5, {}, {}}, {q});  // no country at all
  EXPECT_EQ(trace(h.arrive(100, "i1", q)), Lines{});
  EXPECT_EQ(h.router().item("i1")->state, ItemState::queued);
  EXPECT_EQ(h.router().queue_order(q), std::vector<ExternalId>{"i1"});
  // A matching agent joining the queue triggers a cycle; rule 1 decides.
  EXPECT_EQ(trace(add_agent(h, 200, {"ulla", 1, {}, {{"country", "US"}}}, {q})),
            Lines{"offer i1 ulla q0 rule1 @200"});
}

TEST(R9CustomRuleset, DynamicConditionComparesAgentAttributeWithItemCustomerField) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Custom", kChat, AssignmentMethod::custom);
  config.queues[q].assignment = {assignment_rule(
      config, "same tier", "agent.preferred_customer_type == item.customer.membership_level")};
  RouterHarness h(config);
  add_agent(h, 10, {"ann", 5, {}, {{"preferred_customer_type", "gold"}}}, {q});
  add_agent(h, 20, {"bob", 5, {}, {{"preferred_customer_type", "silver"}}}, {q});
  add_agent(h, 30, {"carl", 5, {}, {}}, {q});
  EXPECT_EQ(trace(h.arrive(100, "s", q, {}, {{"customer.membership_level", "silver"}})),
            Lines{"offer s bob q0 rule0 @100"});
  EXPECT_EQ(trace(h.arrive(110, "g", q, {}, {{"customer.membership_level", "gold"}})),
            Lines{"offer g ann q0 rule0 @110"});
  EXPECT_EQ(trace(h.arrive(120, "b", q, {}, {{"customer.membership_level", "bronze"}})), Lines{});
  // A missing value on either side matches nobody (carl has no preference).
  EXPECT_EQ(trace(h.arrive(130, "n", q)), Lines{});
  EXPECT_EQ(h.router().queue_order(q), (std::vector<ExternalId>{"b", "n"}));
}

namespace {

// Four members of a custom queue whose single rule matches them all; items require s1 and s2.
//          join  skills (count / proficiency sum in s1+s2)  seniority  level  units
//   ann    10    s1:2 s2:2 s3:1          (3 / 4)            5          -      2
//   bob    20    s1:5 s2:1 s5:0          (3 / 6)            2          -      3
//   carl   30    s1:1 s2:1 s3:3 s4:4     (4 / 2)            9          -      5
//   dan    40    s1:3 s2:3               (2 / 6)            -          1      4
// With no key at all, round robin (join time) would pick ann.
std::string winner(std::vector<AgentOrderKey> keys) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Custom", kChat, AssignmentMethod::custom);
  config.queues[q].assignment = {
      assignment_rule(config, "team A", R"(agent.team == "A")", std::move(keys))};
  RouterHarness h(config);
  auto skills = [](std::initializer_list<std::pair<SkillId, std::int32_t>> list) {
    std::vector<SkillLevel> out;
    for (const auto& [s, p] : list) out.push_back(SkillLevel{s, p});
    return out;
  };
  add_agent(
      h, 10,
      {"ann", 2, skills({{1, 2}, {2, 2}, {3, 1}}), {{"team", "A"}, {"seniority", std::int64_t{5}}}},
      {q});
  add_agent(
      h, 20,
      {"bob", 3, skills({{1, 5}, {2, 1}, {5, 0}}), {{"team", "A"}, {"seniority", std::int64_t{2}}}},
      {q});
  add_agent(h, 30,
            {"carl",
             5,
             skills({{1, 1}, {2, 1}, {3, 3}, {4, 4}}),
             {{"team", "A"}, {"seniority", std::int64_t{9}}}},
            {q});
  add_agent(h, 40,
            {"dan", 4, skills({{1, 3}, {2, 3}}), {{"team", "A"}, {"level", std::int64_t{1}}}}, {q});
  const std::vector<Decision> out =
      h.arrive(100, "item", q, {SkillRequirement{1, -1}, SkillRequirement{2, -1}});
  if (out.size() != 1 || out[0].kind != DecisionKind::offer)
    return "no single offer:" + describe(out);
  if (out[0].decided_by != DecidedBy::rule || out[0].rule != 0)
    return "not rule 0: " + describe(out);
  return out[0].agent.value().to_string();
}

}  // namespace

TEST(R9CustomRuleset, NoOrderByKeyFallsBackToRoundRobin) { EXPECT_EQ(winner({}), "ann"); }

TEST(R9CustomRuleset, OrderByProficiencyHighestFirstTieBrokenByRoundRobin) {
  // bob and dan both sum 6; bob joined first.
  EXPECT_EQ(winner({key(AgentOrderKind::proficiency)}), "bob");
  EXPECT_EQ(winner({key(AgentOrderKind::proficiency, true)}), "carl");
}

TEST(R9CustomRuleset, OrderBySkillCountFewestFirst) {
  EXPECT_EQ(winner({key(AgentOrderKind::skill_count)}), "dan");
  EXPECT_EQ(winner({key(AgentOrderKind::skill_count, true)}), "carl");
}

TEST(R9CustomRuleset, OrderByAgentAttributeAscendingAndDescending) {
  EXPECT_EQ(winner({key(AgentOrderKind::attribute, false, "seniority")}), "bob");
  EXPECT_EQ(winner({key(AgentOrderKind::attribute, true, "seniority")}), "carl");
}

TEST(R9CustomRuleset, OrderByAgentAttributeMissingValueSortsLastInEitherDirection) {
  EXPECT_EQ(winner({key(AgentOrderKind::attribute, false, "level")}), "dan");
  EXPECT_EQ(winner({key(AgentOrderKind::attribute, true, "level")}), "dan");
  // seniority: dan has none, so he is never first.
  EXPECT_NE(winner({key(AgentOrderKind::attribute, false, "seniority")}), "dan");
}

TEST(R9CustomRuleset, LaterOrderByKeyBreaksTiesOfEarlierOnesBeforeRoundRobin) {
  // proficiency ties bob and dan; level (desc) then prefers dan, who has a value.
  EXPECT_EQ(
      winner({key(AgentOrderKind::proficiency), key(AgentOrderKind::attribute, true, "level")}),
      "dan");
  // team ties everybody ("A"); skill_count descending then picks carl (4 skills).
  EXPECT_EQ(winner({key(AgentOrderKind::attribute, false, "team"),
                    key(AgentOrderKind::skill_count, true)}),
            "carl");
}

TEST(R9CustomRuleset, OrderByAvailableUnitsLeastActiveAndRoundRobinKeys) {
  EXPECT_EQ(winner({key(AgentOrderKind::available_units)}), "carl");
  EXPECT_EQ(winner({key(AgentOrderKind::available_units, true)}), "ann");
  EXPECT_EQ(winner({key(AgentOrderKind::least_active)}), "ann");
  EXPECT_EQ(winner({key(AgentOrderKind::least_active, true)}), "dan");
  EXPECT_EQ(winner({key(AgentOrderKind::round_robin, true)}), "dan");
}

TEST(R9TieBreak, EqualCapacityAndJoinTimeFallBackToAgentIdNumbersFirstByValue) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat);
  RouterHarness h(config);
  for (ExternalId id : {ExternalId("zed"), ExternalId("ann"), ExternalId(12), ExternalId(7)}) {
    h.agent(100, id, 5, {q});
  }
  // Ids order: 7 < 12 (by value, not "12" < "7") < "ann" < "zed".
  EXPECT_EQ(trace(h.arrive(1000, "i1", q)), Lines{"offer i1 7 q0 method @1000"});
  EXPECT_EQ(trace(h.arrive(1001, "i2", q)), Lines{"offer i2 12 q0 method @1001"});
  EXPECT_EQ(trace(h.arrive(1002, "i3", q)), Lines{"offer i3 ann q0 method @1002"});
  EXPECT_EQ(trace(h.arrive(1003, "i4", q)), Lines{"offer i4 zed q0 method @1003"});
  // All have 4 free now: round robin, 7 offered longest ago.
  EXPECT_EQ(trace(h.arrive(1004, "i5", q)), Lines{"offer i5 7 q0 method @1004"});
}

TEST(R9TieBreak, RoundRobinMethodWithEqualJoinTimesFallsBackToAgentId) {
  Config config = base_config();
  const QueueId q = add_queue(config, "Support", kChat, AssignmentMethod::round_robin);
  RouterHarness h(config);
  h.agent(100, "bea", 5, {q});
  h.agent(100, "abe", 5, {q});
  EXPECT_EQ(trace(h.arrive(1000, "i1", q)), Lines{"offer i1 abe q0 method @1000"});
  EXPECT_EQ(trace(h.arrive(1001, "i2", q)), Lines{"offer i2 bea q0 method @1001"});
}
