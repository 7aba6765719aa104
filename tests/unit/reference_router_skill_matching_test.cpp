// R10 skill matching (exact and closest) and the skills part of I4, against the reference router.
// The closest-match score is the one documented in docs/semantics.md ("Closest match (R10): the
// score"): tier 0 exact fit; tier 1 surplus only (smaller surplus first); tier 2 some shortfall
// (shortfall, then surplus); tier 3 missing skills (missing count, shortfall, surplus).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router_harness.hpp"

namespace switchboard::testing {
namespace {

constexpr ArrowStyle kStyle{};

std::vector<std::string> briefs(const std::vector<Decision>& decisions) {
  return arrows(decisions, kStyle);
}

SkillRequirement need(SkillId skill, std::int32_t min = -1) { return SkillRequirement{skill, min}; }
SkillLevel has(SkillId skill, std::int32_t proficiency) { return SkillLevel{skill, proficiency}; }

Config one_queue(AssignmentMethod method, SkillMatching matching) {
  Config config = base_config();
  const QueueId q = add_queue(config, "support", kChat, method);
  config.queues[q].skill_matching = matching;
  return config;
}

// Two agents in a closest-match round-robin queue. "a_worse" joins first and has the smaller id,
// so every tie-break after closeness (round robin by join time, then id) favours it: the offer
// goes to "b_better" only if closeness ranks it first.
std::vector<std::string> closest_pair(std::vector<SkillRequirement> requirement,
                                      std::vector<SkillLevel> worse,
                                      std::vector<SkillLevel> better) {
  RouterHarness h(one_queue(AssignmentMethod::round_robin, SkillMatching::closest));
  h.agent(1, "a_worse", 1, {0}, std::move(worse));
  h.agent(2, "b_better", 1, {0}, std::move(better));
  return briefs(h.arrive(10, "chat", 0, std::move(requirement)));
}

// ---- exact match ----------------------------------------------------------------------------

TEST(R10ExactMatch, RequirementWithoutMinimumNeedsEverySkillAtAnyProficiency) {
  RouterHarness h(one_queue(AssignmentMethod::highest_capacity, SkillMatching::exact));
  // "big" has the most capacity (it would win highest capacity) but lacks s1.
  h.agent(1, "big", 9, {0}, {has(0, 5)});
  h.agent(2, "small", 1, {0}, {has(0, 0), has(1, 0)});
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0, {need(0), need(1)})),
            std::vector<std::string>{"offer:c1>small"});
  // "small" is now full: the next such chat waits rather than go to "big" (I4).
  EXPECT_EQ(briefs(h.arrive(11, "c2", 0, {need(0), need(1)})), std::vector<std::string>{});
  EXPECT_EQ(h.router().queue_order(0), std::vector<ExternalId>{"c2"});
  // A chat needing only s0 may go to "big".
  EXPECT_EQ(briefs(h.arrive(12, "c3", 0, {need(0)})), std::vector<std::string>{"offer:c3>big"});
}

TEST(R10ExactMatch, MinimumProficiencyIsInclusiveAndBelowItIsNotOffered) {
  RouterHarness h(one_queue(AssignmentMethod::highest_capacity, SkillMatching::exact));
  h.agent(1, "low", 9, {0}, {has(0, 2)});   // one below the minimum, lots of capacity
  h.agent(2, "at", 1, {0}, {has(0, 3)});    // exactly the minimum
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0, {need(0, 3)})), std::vector<std::string>{"offer:c1>at"});
  EXPECT_EQ(briefs(h.arrive(11, "c2", 0, {need(0, 3)})), std::vector<std::string>{});
  ASSERT_TRUE(h.router().item("c2").has_value());
  EXPECT_EQ(h.router().item("c2")->state, ItemState::queued);
  // Raising "low" above the minimum (an upsert is a trigger) gets it the waiting chat.
  AgentUpsert upgrade;
  upgrade.agent = "low";
  upgrade.skills = std::vector<SkillLevel>{has(0, 4)};
  EXPECT_EQ(briefs(h.send(20, upgrade)), std::vector<std::string>{"offer:c2>low"});
}

TEST(R10ExactMatch, MinimumZeroAcceptsProficiencyZeroButNotAMissingSkill) {
  RouterHarness h(one_queue(AssignmentMethod::highest_capacity, SkillMatching::exact));
  h.agent(1, "none", 5, {0}, {has(1, 4)});
  h.agent(2, "zero", 1, {0}, {has(0, 0)});
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0, {need(0, 0)})), std::vector<std::string>{"offer:c1>zero"});
}

TEST(R10ExactMatchI4, AgentWithoutRequiredSkillIsNeverOfferedWhateverTheTriggers) {
  RouterHarness h(one_queue(AssignmentMethod::highest_capacity, SkillMatching::exact));
  h.agent(1, "novice", 3, {0}, {has(0, 1)});
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0, {need(0, 2)})), std::vector<std::string>{});
  // Presence toggles, capacity changes and new arrivals run cycles; none may offer c1 to novice.
  EXPECT_EQ(briefs(h.send(11, PresenceChange{"novice", kOffline})), std::vector<std::string>{});
  EXPECT_EQ(briefs(h.send(12, PresenceChange{"novice", kAvailable})), std::vector<std::string>{});
  EXPECT_EQ(briefs(h.send(13, CapacityChange{"novice", AgentCapacity{5, {5, 5}}})),
            std::vector<std::string>{});
  EXPECT_EQ(briefs(h.arrive(14, "c2", 0, {need(0, 1)})), std::vector<std::string>{"offer:c2>novice"});
  EXPECT_EQ(h.router().item("c1")->state, ItemState::queued);
  // An expert joining takes c1.
  EXPECT_EQ(briefs(h.agent(15, "expert", 1, {0}, {has(0, 2)})),
            std::vector<std::string>{"offer:c1>expert"});
}

// ---- closest match: one case per boundary of the score ---------------------------------------

TEST(R10ClosestMatch, EquallyCloseAgentsFallBackToJoinOrderSoThePairTestsAreMeaningful) {
  // Same skills: the earlier joiner (a_worse) gets it. Every test below relies on this.
  EXPECT_EQ(closest_pair({need(0, 2)}, {has(0, 2)}, {has(0, 2)}),
            std::vector<std::string>{"offer:chat>a_worse"});
}

TEST(R10ClosestMatch, ExactFitBeatsOverQualifiedByOne) {
  EXPECT_EQ(closest_pair({need(0, 2)}, {has(0, 3)}, {has(0, 2)}),
            std::vector<std::string>{"offer:chat>b_better"});
}

TEST(R10ClosestMatch, OverQualifiedSmallestSurplusFirst) {
  EXPECT_EQ(closest_pair({need(0, 2)}, {has(0, 5)}, {has(0, 3)}),
            std::vector<std::string>{"offer:chat>b_better"});
}

TEST(R10ClosestMatch, SurplusIsSummedOverRequiredSkills) {
  // worse: surplus 1 + 1 = 2; better: surplus 1 + 0 = 1.
  EXPECT_EQ(closest_pair({need(0, 1), need(1, 1)}, {has(0, 2), has(1, 2)}, {has(0, 2), has(1, 1)}),
            std::vector<std::string>{"offer:chat>b_better"});
}

TEST(R10ClosestMatch, AnyOverQualifiedBeatsAnyUnderQualified) {
  // worse: shortfall 1; better: surplus 7.
  EXPECT_EQ(closest_pair({need(0, 2)}, {has(0, 1)}, {has(0, 9)}),
            std::vector<std::string>{"offer:chat>b_better"});
}

TEST(R10ClosestMatch, UnderQualifiedSmallestShortfallFirst) {
  EXPECT_EQ(closest_pair({need(0, 3)}, {has(0, 0)}, {has(0, 2)}),
            std::vector<std::string>{"offer:chat>b_better"});
}

TEST(R10ClosestMatch, UnderQualifiedEqualShortfallThenSmallerSurplus) {
  // Both short by 1 on s0; worse has surplus 2 on s1, better none.
  EXPECT_EQ(closest_pair({need(0, 3), need(1, 1)}, {has(0, 2), has(1, 3)}, {has(0, 2), has(1, 1)}),
            std::vector<std::string>{"offer:chat>b_better"});
}

TEST(R10ClosestMatch, AnyUnderQualifiedBeatsMissingASkill) {
  // worse: expert in s0 but lacks s1; better: has both, short by 6 in total.
  EXPECT_EQ(closest_pair({need(0, 3), need(1, 3)}, {has(0, 9)}, {has(0, 0), has(1, 0)}),
            std::vector<std::string>{"offer:chat>b_better"});
}

TEST(R10ClosestMatch, MissingSkillsFewestMissingFirst) {
  // worse: missing s1 and s2 (at the minimum in s0); better: missing only s2 (and short in s0, s1).
  EXPECT_EQ(closest_pair({need(0, 1), need(1, 1), need(2, 1)}, {has(0, 1)}, {has(0, 0), has(1, 0)}),
            std::vector<std::string>{"offer:chat>b_better"});
}

TEST(R10ClosestMatch, RequirementWithoutMinimumFitsAnyProficiencyExactly) {
  // s0 has no minimum: 7 and 0 both fit it exactly. worse is 1 over on s1 (tier 1), better is
  // exact on s1 (tier 0) even though its s0 is far above anything.
  EXPECT_EQ(closest_pair({need(0), need(1, 2)}, {has(0, 0), has(1, 3)}, {has(0, 7), has(1, 2)}),
            std::vector<std::string>{"offer:chat>b_better"});
}

TEST(R10ClosestMatch, NoSkillFilterAnAgentWithNoSkillsStillGetsTheItem) {
  RouterHarness h(one_queue(AssignmentMethod::round_robin, SkillMatching::closest));
  h.agent(1, "blank", 1, {0}, {});
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0, {need(0, 2), need(3, 4)})),
            std::vector<std::string>{"offer:c1>blank"});
}

TEST(R10ClosestMatch, FullLadderExactThenSurplusThenShortfallThenMissing) {
  RouterHarness h(one_queue(AssignmentMethod::round_robin, SkillMatching::closest));
  // Joined worst first, so join order (round robin) would give the reverse of the expected order;
  // ids are not in the expected order either.
  h.agent(1, "m_missing2", 1, {0}, {});
  h.agent(2, "m_missing1", 1, {0}, {has(0, 2)});
  h.agent(3, "u_short3", 1, {0}, {has(0, 0), has(1, 1)});
  h.agent(4, "u_short1", 1, {0}, {has(0, 1), has(1, 5)});
  h.agent(5, "o_surplus3", 1, {0}, {has(0, 4), has(1, 3)});
  h.agent(6, "o_surplus1", 1, {0}, {has(0, 3), has(1, 2)});
  h.agent(7, "e_exact", 1, {0}, {has(0, 2), has(1, 2)});
  std::vector<std::string> got;
  for (int i = 0; i < 8; ++i) {
    for (const std::string& s : briefs(h.arrive(100 + i, "c" + std::to_string(i), 0,
                                                {need(0, 2), need(1, 2)}))) {
      got.push_back(s);
    }
  }
  EXPECT_EQ(got, (std::vector<std::string>{"offer:c0>e_exact", "offer:c1>o_surplus1",
                                           "offer:c2>o_surplus3", "offer:c3>u_short1",
                                           "offer:c4>u_short3", "offer:c5>m_missing1",
                                           "offer:c6>m_missing2"}));
  EXPECT_EQ(h.router().queue_order(0), std::vector<ExternalId>{"c7"});  // everyone is full
}

// ---- closest match: ties go to the method, then round robin ------------------------------------

TEST(R10ClosestTies, CloserAgentWinsOverMoreFreeCapacity) {
  RouterHarness h(one_queue(AssignmentMethod::highest_capacity, SkillMatching::closest));
  h.agent(1, "roomy", 5, {0}, {has(0, 3)});  // surplus 1, 5 free
  h.agent(2, "fit", 1, {0}, {has(0, 2)});    // exact, 1 free
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0, {need(0, 2)})), std::vector<std::string>{"offer:c1>fit"});
}

TEST(R10ClosestTies, EquallyCloseAgentsAreOrderedByTheMethodFirst) {
  RouterHarness h(one_queue(AssignmentMethod::highest_capacity, SkillMatching::closest));
  h.agent(1, "a_one", 1, {0}, {has(0, 2)});   // joined first, smaller id, 1 free
  h.agent(2, "b_three", 3, {0}, {has(0, 2)}); // 3 free
  EXPECT_EQ(briefs(h.arrive(10, "c1", 0, {need(0, 2)})),
            std::vector<std::string>{"offer:c1>b_three"});
  // b_three now has 2 free, a_one 1: b_three again; then both 1 free... round robin: a_one.
  EXPECT_EQ(briefs(h.arrive(11, "c2", 0, {need(0, 2)})),
            std::vector<std::string>{"offer:c2>b_three"});
  EXPECT_EQ(briefs(h.arrive(12, "c3", 0, {need(0, 2)})),
            std::vector<std::string>{"offer:c3>a_one"});
}

class R10ClosestTiesByMethod : public ::testing::TestWithParam<AssignmentMethod> {};

// "One product breaks closeness ties by nothing, so one agent keeps receiving the work; don't."
// Two agents, equally close by different skills (surplus 1 each), free again before every chat:
// they take turns, whatever the method.
TEST_P(R10ClosestTiesByMethod, TwoEquallyCloseAgentsAlternateInsteadOfOneKeepingTheWork) {
  RouterHarness h(one_queue(GetParam(), SkillMatching::closest));
  h.agent(1, "pat", 2, {0}, {has(0, 3), has(1, 2)});
  h.agent(2, "sam", 2, {0}, {has(0, 2), has(1, 3)});
  std::vector<std::string> agents;
  Timestamp t = 100;
  for (int i = 0; i < 6; ++i) {
    const std::string id = "c" + std::to_string(i);
    const std::vector<Decision> arrived = h.arrive(t, id, 0, {need(0, 2), need(1, 2)});
    ASSERT_EQ(arrived.size(), 1u) << describe(arrived);
    ASSERT_EQ(arrived[0].kind, DecisionKind::offer);
    const ExternalId agent = arrived[0].agent.value();
    agents.push_back(agent.to_string());
    h.accept(t + 1, id, agent);
    EXPECT_EQ(briefs(h.complete(t + 2, id)),
              std::vector<std::string>{"completed:" + id + ">" + agent.to_string()});
    t += 1000;
  }
  EXPECT_EQ(agents, (std::vector<std::string>{"pat", "sam", "pat", "sam", "pat", "sam"}));
}

INSTANTIATE_TEST_SUITE_P(AllBuiltInMethods, R10ClosestTiesByMethod,
                         ::testing::Values(AssignmentMethod::highest_capacity,
                                           AssignmentMethod::round_robin,
                                           AssignmentMethod::least_active),
                         [](const ::testing::TestParamInfo<AssignmentMethod>& param_info) {
                           return std::string(to_string(param_info.param));
                         });

TEST(R10ClosestTies, CloserAgentKeepsWinningWhileFreeTheRoundRobinOnlyBreaksTies) {
  // The alternation above is a tie-break, not a rotation: a strictly closer agent keeps winning.
  RouterHarness h(one_queue(AssignmentMethod::round_robin, SkillMatching::closest));
  h.agent(1, "exact", 1, {0}, {has(0, 2)});
  h.agent(2, "over", 1, {0}, {has(0, 3)});
  std::vector<std::string> agents;
  Timestamp t = 100;
  for (int i = 0; i < 3; ++i) {
    const std::string id = "c" + std::to_string(i);
    const std::vector<Decision> arrived = h.arrive(t, id, 0, {need(0, 2)});
    ASSERT_EQ(arrived.size(), 1u) << describe(arrived);
    const ExternalId agent = arrived[0].agent.value();
    agents.push_back(agent.to_string());
    h.accept(t + 1, id, agent);
    h.complete(t + 2, id);
    t += 1000;
  }
  EXPECT_EQ(agents, (std::vector<std::string>{"exact", "exact", "exact"}));
}

}  // namespace
}  // namespace switchboard::testing
