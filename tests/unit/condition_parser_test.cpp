// The condition language (condition.hpp, docs/configuration.md "Conditions"): what parses into
// which tree, every parse-time error with its column, and evaluation of parsed conditions
// against a fake context (missing values and type mismatches compare false; `not` inverts).

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/condition.hpp"

using namespace switchboard;

namespace {

const std::vector<std::string> kSkills = {"coffee_refund", "billing", "spanish"};
const std::vector<std::string> kPresences = {"available", "busy", "do_not_disturb", "away",
                                             "offline", "lunch"};

ConditionParseOptions agent_scope() {
  return ConditionParseOptions{ConditionScope::agent_and_item, &kSkills, &kPresences};
}
ConditionParseOptions item_scope() {
  return ConditionParseOptions{ConditionScope::item_only, &kSkills, &kPresences};
}

Condition parse_ok(std::string_view text, const ConditionParseOptions& options = agent_scope()) {
  Result<Condition> result = parse_condition(text, options);
  EXPECT_TRUE(result.has_value()) << text << " -> " << (result ? "" : result.error().message);
  return result ? result.value() : Condition{};
}

// Expects a config_condition error whose message starts with "column <column>:" and contains
// `fragment`.
void expect_error(std::string_view text, std::size_t column, std::string_view fragment,
                  const ConditionParseOptions& options = agent_scope()) {
  Result<Condition> result = parse_condition(text, options);
  ASSERT_FALSE(result.has_value()) << "parsed: " << text;
  EXPECT_EQ(result.error().code, ErrorCode::config_condition);
  const std::string prefix = "column " + std::to_string(column) + ":";
  EXPECT_EQ(result.error().message.rfind(prefix, 0), 0u)
      << text << " -> " << result.error().message << " (expected " << prefix << ")";
  EXPECT_NE(result.error().message.find(fragment), std::string::npos)
      << text << " -> " << result.error().message << " (expected to contain: " << fragment << ")";
}

const ConditionNode& root(const Condition& c) { return c.nodes.at(c.root); }

class FakeContext : public ConditionContext {
 public:
  Attributes item;
  Attributes agent;
  PresenceId presence = 0;
  std::map<SkillId, std::int64_t> skills;
  bool matches_item_skills = false;
  bool has_capacity = false;
  bool working = false;

  const AttrValue* item_attribute(std::string_view key) const override {
    const auto it = item.find(key);
    return it == item.end() ? nullptr : &it->second;
  }
  const AttrValue* agent_attribute(std::string_view key) const override {
    const auto it = agent.find(key);
    return it == agent.end() ? nullptr : &it->second;
  }
  PresenceId agent_presence() const override { return presence; }
  bool agent_has_skill(SkillId skill, std::int64_t min_proficiency) const override {
    const auto it = skills.find(skill);
    return it != skills.end() && (min_proficiency < 0 || it->second >= min_proficiency);
  }
  bool agent_matches_item_skills() const override { return matches_item_skills; }
  bool agent_has_capacity() const override { return has_capacity; }
  bool agent_is_working() const override { return working; }
  std::optional<SkillId> skill_by_name(std::string_view name) const override {
    for (std::size_t i = 0; i < kSkills.size(); ++i) {
      if (kSkills[i] == name) return static_cast<SkillId>(i);
    }
    return std::nullopt;
  }
};

bool eval(std::string_view text, const FakeContext& context) {
  return evaluate(parse_ok(text), context);
}

// --- parsing: successes -----------------------------------------------------------------------

TEST(ConditionParser, EmptyAndWhitespaceTextParseAsAlways) {
  for (std::string_view text : {"", "   ", "\t\n "}) {
    const Condition c = parse_ok(text);
    EXPECT_TRUE(c.is_always()) << '"' << text << '"';
    EXPECT_FALSE(c.refers_to_agent);
    EXPECT_EQ(c.source, text);
  }
}

TEST(ConditionParser, TrueParsesAsAlways) {
  EXPECT_TRUE(parse_ok("true").is_always());
}

TEST(ConditionParser, ItemComparisonWithStringLiteral) {
  const Condition c = parse_ok(R"(item.priority == "High")", item_scope());
  const ConditionNode& n = root(c);
  EXPECT_EQ(n.kind, NodeKind::compare);
  EXPECT_EQ(n.op, CompareOp::eq);
  EXPECT_EQ(n.lhs.kind, OperandKind::item_attribute);
  EXPECT_EQ(n.lhs.key, "priority");
  EXPECT_EQ(n.rhs.kind, OperandKind::literal);
  EXPECT_EQ(n.rhs.literal, AttrValue(std::string("High")));
  EXPECT_FALSE(c.refers_to_agent);
  EXPECT_EQ(c.source, R"(item.priority == "High")");
}

TEST(ConditionParser, EveryComparisonOperator) {
  const std::vector<std::pair<std::string, CompareOp>> cases = {
      {"==", CompareOp::eq}, {"!=", CompareOp::ne}, {"<", CompareOp::lt},
      {"<=", CompareOp::le}, {">", CompareOp::gt},  {">=", CompareOp::ge}};
  for (const auto& [spelling, op] : cases) {
    const Condition c = parse_ok("item.tier " + spelling + " 2");
    EXPECT_EQ(root(c).op, op) << spelling;
  }
}

TEST(ConditionParser, OperatorsNeedNoSpaces) {
  const Condition c = parse_ok(R"(item.tier>=-3)");
  EXPECT_EQ(root(c).op, CompareOp::ge);
  EXPECT_EQ(root(c).rhs.literal, AttrValue(std::int64_t{-3}));
}

TEST(ConditionParser, TwoLevelItemKeyIsStoredDotted) {
  const Condition c = parse_ok(R"(item.customer.membership_level == "gold")", item_scope());
  EXPECT_EQ(root(c).lhs.kind, OperandKind::item_attribute);
  EXPECT_EQ(root(c).lhs.key, "customer.membership_level");
}

TEST(ConditionParser, DynamicAgentAgainstItemComparison) {
  const Condition c =
      parse_ok("agent.preferred_customer_type == item.customer.membership_level");
  const ConditionNode& n = root(c);
  EXPECT_EQ(n.lhs.kind, OperandKind::agent_attribute);
  EXPECT_EQ(n.lhs.key, "preferred_customer_type");
  EXPECT_EQ(n.rhs.kind, OperandKind::item_attribute);
  EXPECT_EQ(n.rhs.key, "customer.membership_level");
  EXPECT_TRUE(c.refers_to_agent);
}

TEST(ConditionParser, LiteralMayStandOnTheLeft) {
  const Condition c = parse_ok(R"("US" == agent.country)");
  EXPECT_EQ(root(c).lhs.kind, OperandKind::literal);
  EXPECT_EQ(root(c).rhs.kind, OperandKind::agent_attribute);
}

TEST(ConditionParser, StringEscapesAreDecoded) {
  const Condition c = parse_ok(R"(item.note == "say \"hi\" \\ bye")");
  EXPECT_EQ(root(c).rhs.literal, AttrValue(std::string(R"(say "hi" \ bye)")));
}

TEST(ConditionParser, AndOrChainsAreFlatWithAndBindingTighter) {
  const Condition c = parse_ok("item.a == 1 and item.b == 2 and item.c == 3 or item.d == 4");
  const ConditionNode& top = root(c);
  ASSERT_EQ(top.kind, NodeKind::any_of);
  ASSERT_EQ(top.children.size(), 2u);
  const ConditionNode& left = c.nodes.at(top.children[0]);
  EXPECT_EQ(left.kind, NodeKind::all_of);
  EXPECT_EQ(left.children.size(), 3u);
  EXPECT_EQ(c.nodes.at(top.children[1]).kind, NodeKind::compare);
}

TEST(ConditionParser, ParenthesesOverridePrecedence) {
  const Condition c = parse_ok("item.a == 1 and (item.b == 2 or item.c == 3)");
  const ConditionNode& top = root(c);
  ASSERT_EQ(top.kind, NodeKind::all_of);
  EXPECT_EQ(c.nodes.at(top.children[1]).kind, NodeKind::any_of);
}

TEST(ConditionParser, NotAppliesToTheWholeComparisonAndNests) {
  const Condition c = parse_ok("not not item.a == 1");
  const ConditionNode& top = root(c);
  ASSERT_EQ(top.kind, NodeKind::negate);
  const ConditionNode& inner = c.nodes.at(top.children.at(0));
  ASSERT_EQ(inner.kind, NodeKind::negate);
  EXPECT_EQ(c.nodes.at(inner.children.at(0)).kind, NodeKind::compare);
}

TEST(ConditionParser, InListOfMixedLiterals) {
  const Condition c = parse_ok(R"(item.tier in [1, "gold", -2])");
  const ConditionNode& n = root(c);
  EXPECT_EQ(n.kind, NodeKind::in_list);
  ASSERT_EQ(n.list.size(), 3u);
  EXPECT_EQ(n.list[0], AttrValue(std::int64_t{1}));
  EXPECT_EQ(n.list[1], AttrValue(std::string("gold")));
  EXPECT_EQ(n.list[2], AttrValue(std::int64_t{-2}));
}

TEST(ConditionParser, HasValueAndHasNoValue) {
  EXPECT_EQ(root(parse_ok("item.vip has value")).kind, NodeKind::has_value);
  EXPECT_EQ(root(parse_ok("agent.country has no value")).kind, NodeKind::has_no_value);
}

TEST(ConditionParser, PresenceNamesResolveToPresenceIds) {
  const Condition eq = parse_ok(R"(agent.presence == "lunch")");
  EXPECT_EQ(root(eq).lhs.kind, OperandKind::agent_presence);
  EXPECT_EQ(root(eq).rhs.literal, AttrValue(std::int64_t{5}));
  EXPECT_TRUE(eq.refers_to_agent);

  const Condition swapped = parse_ok(R"("busy" != agent.presence)");
  EXPECT_EQ(root(swapped).op, CompareOp::ne);
  EXPECT_EQ(root(swapped).lhs.literal, AttrValue(std::int64_t{1}));

  const Condition in = parse_ok(R"(agent.presence in ["available", "away"])");
  ASSERT_EQ(root(in).list.size(), 2u);
  EXPECT_EQ(root(in).list[0], AttrValue(std::int64_t{0}));
  EXPECT_EQ(root(in).list[1], AttrValue(std::int64_t{3}));
}

TEST(ConditionParser, AgentPredicatesSetRefersToAgent) {
  EXPECT_EQ(root(parse_ok("skills_match")).kind, NodeKind::skills_match);
  EXPECT_EQ(root(parse_ok("capacity_ok")).kind, NodeKind::capacity_ok);
  EXPECT_EQ(root(parse_ok("is_working")).kind, NodeKind::is_working);
  EXPECT_TRUE(parse_ok("skills_match").refers_to_agent);
  EXPECT_TRUE(parse_ok("item.a == 1 or is_working").refers_to_agent);
}

TEST(ConditionParser, HasSkillWithDeclaredNameResolvesToSkillId) {
  const Condition c = parse_ok(R"(has_skill("spanish", 3))");
  const ConditionNode& n = root(c);
  EXPECT_EQ(n.kind, NodeKind::has_skill);
  EXPECT_EQ(n.rhs.kind, OperandKind::literal);
  EXPECT_EQ(n.rhs.literal, AttrValue(std::int64_t{2}));
  EXPECT_EQ(n.min_proficiency, 3);
  EXPECT_TRUE(c.refers_to_agent);
  EXPECT_EQ(root(parse_ok(R"(has_skill("billing"))")).min_proficiency, -1);
}

TEST(ConditionParser, HasSkillWithItemAttributeIsACustomLookup) {
  const Condition c = parse_ok("has_skill(item.customer.language, 0)");
  const ConditionNode& n = root(c);
  EXPECT_EQ(n.rhs.kind, OperandKind::item_attribute);
  EXPECT_EQ(n.rhs.key, "customer.language");
  EXPECT_EQ(n.min_proficiency, 0);
}

// --- parsing: errors --------------------------------------------------------------------------

TEST(ConditionParserErrors, UnknownCharacterIsAnUnknownToken) {
  expect_error("item.a == 1 & item.b == 2", 13, "unknown token '&'");
}

TEST(ConditionParserErrors, SingleEqualsIsAnUnknownTokenWithAHint) {
  expect_error("item.a = 1", 8, "did you mean '=='");
}

TEST(ConditionParserErrors, BangWithoutEqualsIsAnUnknownToken) {
  expect_error("!item.a", 1, "unknown token '!'");
}

TEST(ConditionParserErrors, UnterminatedString) {
  expect_error(R"(item.a == "abc)", 11, "unterminated string");
}

TEST(ConditionParserErrors, UnknownEscapeInString) {
  expect_error(R"(item.a == "a\nb")", 13, "unknown escape");
}

TEST(ConditionParserErrors, TrailingDotInAPath) {
  expect_error("item. == 1", 6, "expected a name after '.'");
}

TEST(ConditionParserErrors, BareWordIsAnUnknownName) {
  expect_error(R"(priority == "High")", 1, "unknown name 'priority'");
}

TEST(ConditionParserErrors, UnexpectedEndAfterOperator) {
  expect_error("item.a ==", 10, "unexpected end of condition");
}

TEST(ConditionParserErrors, UnexpectedEndAfterAnd) {
  expect_error("item.a == 1 and", 16, "unexpected end of condition");
}

TEST(ConditionParserErrors, UnexpectedEndAfterOperand) {
  expect_error("item.a", 7, "expected a comparison operator, 'in' or 'has'");
}

TEST(ConditionParserErrors, UnclosedParenthesis) {
  expect_error("(item.a == 1", 13, "expected ')'");
}

TEST(ConditionParserErrors, TrailingTokens) {
  expect_error("item.a == 1 item.b == 2", 13, "expected 'and', 'or' or end of condition");
}

TEST(ConditionParserErrors, ThreeLevelItemPathIsTooDeep) {
  expect_error("item.a.b.c == 1", 1, "too deep");
}

TEST(ConditionParserErrors, TwoLevelAgentPathIsTooDeep) {
  expect_error("agent.a.b == 1", 1, "too deep");
}

TEST(ConditionParserErrors, ComparisonOfTwoLiterals) {
  expect_error(R"("a" == "a")", 1, "comparison of two literals");
  expect_error("1 < 2", 1, "comparison of two literals");
}

TEST(ConditionParserErrors, LiteralOnTheLeftOfInOrHas) {
  expect_error(R"("a" in ["a"])", 5, "'in' needs item.<key>");
  expect_error("1 has value", 3, "'has' needs item.<key>");
}

TEST(ConditionParserErrors, ItemOnlyScopeRefusesAgentAttributes) {
  expect_error(R"(item.a == 1 and agent.country == "US")", 17, "refers to the agent",
               item_scope());
}

TEST(ConditionParserErrors, ItemOnlyScopeRefusesAgentPresence) {
  expect_error(R"(agent.presence == "busy")", 1, "refers to the agent", item_scope());
}

TEST(ConditionParserErrors, ItemOnlyScopeRefusesAgentPredicates) {
  expect_error("skills_match", 1, "'skills_match' refers to the agent", item_scope());
  expect_error("not capacity_ok", 5, "'capacity_ok' refers to the agent", item_scope());
  expect_error("is_working", 1, "'is_working' refers to the agent", item_scope());
  expect_error(R"(has_skill("billing"))", 1, "'has_skill' refers to the agent", item_scope());
}

TEST(ConditionParserErrors, ItemOnlyScopeRefusesAgentOnTheRightSide) {
  expect_error("item.tier == agent.tier", 14, "refers to the agent", item_scope());
}

TEST(ConditionParserErrors, UndeclaredPresenceName) {
  expect_error(R"(agent.presence == "lunchh")", 19, "unknown presence \"lunchh\"");
  expect_error(R"(agent.presence in ["busy", "gone"])", 28, "unknown presence \"gone\"");
}

TEST(ConditionParserErrors, PresenceComparedWithAnIntegerIsATypeError) {
  expect_error("agent.presence == 1", 19, "compared with a number");
  expect_error(R"(agent.presence in ["busy", 2])", 28, "compared with a number");
}

TEST(ConditionParserErrors, PresenceAllowsOnlyEqualityAndIn) {
  expect_error(R"(agent.presence < "busy")", 16, "only '==', '!=' and 'in'");
}

TEST(ConditionParserErrors, PresenceComparedWithAnAttribute) {
  expect_error("agent.presence == item.wanted_presence", 19, "presence name in quotes");
}

TEST(ConditionParserErrors, HasSkillWithUndeclaredSkill) {
  expect_error(R"(has_skill("french"))", 11, "unknown skill \"french\"");
}

TEST(ConditionParserErrors, HasSkillWithoutDeclaredSkillList) {
  expect_error(R"(has_skill("billing"))", 11, "unknown skill",
               ConditionParseOptions{ConditionScope::agent_and_item, nullptr, &kPresences});
}

TEST(ConditionParserErrors, HasSkillWithNegativeMinimum) {
  expect_error(R"(has_skill("billing", -1))", 22, "negative");
}

TEST(ConditionParserErrors, HasSkillWithAgentArgument) {
  expect_error("has_skill(agent.skill)", 11, "expected a skill name");
}

TEST(ConditionParserErrors, HasSkillMissingParentheses) {
  expect_error("has_skill", 10, "expected '(' after has_skill");
  expect_error(R"(has_skill("billing" 2))", 21, "expected ')' to close has_skill");
}

TEST(ConditionParserErrors, HasWithoutValue) {
  expect_error("item.a has", 11, "expected 'value' or 'no value'");
  expect_error("item.a has no", 14, "expected 'value' after 'has no'");
}

TEST(ConditionParserErrors, InListMalformed) {
  expect_error("item.a in 1", 11, "expected '[' after 'in'");
  expect_error("item.a in []", 12, "expected a string or a number");
  expect_error("item.a in [1 2]", 14, "expected ',' or ']'");
}

TEST(ConditionParserErrors, IntegerOutOfRange) {
  expect_error("item.a == 99999999999999999999", 11, "out of the 64-bit range");
}

// --- evaluation of parsed conditions ----------------------------------------------------------

TEST(ParsedConditionEvaluation, StringAndIntegerComparisons) {
  FakeContext ctx;
  ctx.item = {{"priority", std::string("High")}, {"tier", std::int64_t{2}}};
  EXPECT_TRUE(eval(R"(item.priority == "High")", ctx));
  EXPECT_FALSE(eval(R"(item.priority == "Low")", ctx));
  EXPECT_TRUE(eval("item.tier >= 2 and item.tier < 3", ctx));
  EXPECT_TRUE(eval(R"(item.priority < "Low")", ctx));  // bytewise
}

TEST(ParsedConditionEvaluation, MissingValueComparesFalseAndNotInvertsIt) {
  FakeContext ctx;
  EXPECT_FALSE(eval("item.tier == 1", ctx));
  EXPECT_FALSE(eval("item.tier != 1", ctx));
  EXPECT_TRUE(eval("not item.tier == 1", ctx));
}

TEST(ParsedConditionEvaluation, TypeMismatchComparesFalse) {
  FakeContext ctx;
  ctx.item = {{"tier", std::int64_t{1}}};
  EXPECT_FALSE(eval(R"(item.tier == "1")", ctx));
  EXPECT_FALSE(eval(R"(item.tier != "1")", ctx));
}

TEST(ParsedConditionEvaluation, DynamicAgentAgainstItem) {
  FakeContext ctx;
  ctx.item = {{"customer.membership_level", std::string("gold")}};
  ctx.agent = {{"preferred_customer_type", std::string("gold")}};
  EXPECT_TRUE(eval("agent.preferred_customer_type == item.customer.membership_level", ctx));
  ctx.agent["preferred_customer_type"] = std::string("silver");
  EXPECT_FALSE(eval("agent.preferred_customer_type == item.customer.membership_level", ctx));
}

TEST(ParsedConditionEvaluation, PresenceByName) {
  FakeContext ctx;
  ctx.presence = 5;  // lunch
  EXPECT_TRUE(eval(R"(agent.presence == "lunch")", ctx));
  EXPECT_FALSE(eval(R"(agent.presence != "lunch")", ctx));
  EXPECT_TRUE(eval(R"(agent.presence in ["busy", "lunch"])", ctx));
  EXPECT_FALSE(eval(R"(agent.presence in ["available"])", ctx));
}

TEST(ParsedConditionEvaluation, HasValueAndHasNoValue) {
  FakeContext ctx;
  ctx.agent = {{"country", std::string("US")}, {"empty", std::monostate{}}};
  EXPECT_TRUE(eval("agent.country has value", ctx));
  EXPECT_FALSE(eval("agent.country has no value", ctx));
  EXPECT_TRUE(eval("agent.region has no value", ctx));
  EXPECT_TRUE(eval("agent.empty has no value", ctx));
}

TEST(ParsedConditionEvaluation, InList) {
  FakeContext ctx;
  ctx.item = {{"category", std::string("Premium")}};
  EXPECT_TRUE(eval(R"(item.category in ["Gold", "Premium"])", ctx));
  EXPECT_FALSE(eval(R"(item.category in ["Gold", 1])", ctx));
  EXPECT_FALSE(eval(R"(item.missing in ["Gold"])", ctx));
}

TEST(ParsedConditionEvaluation, AndOrNotCombine) {
  FakeContext ctx;
  ctx.item = {{"priority", std::string("High")}, {"category", std::string("Standard")}};
  EXPECT_FALSE(eval(R"(item.priority == "High" and item.category == "Premium")", ctx));
  EXPECT_TRUE(eval(R"(item.priority == "High" or item.category == "Premium")", ctx));
  EXPECT_TRUE(eval(R"(not (item.priority == "Low" or item.category == "Premium"))", ctx));
}

TEST(ParsedConditionEvaluation, AgentPredicatesAskTheContext) {
  FakeContext ctx;
  EXPECT_FALSE(eval("skills_match or capacity_ok or is_working", ctx));
  ctx.matches_item_skills = true;
  ctx.has_capacity = true;
  ctx.working = true;
  EXPECT_TRUE(eval("skills_match and capacity_ok and is_working", ctx));
}

TEST(ParsedConditionEvaluation, HasSkillFixedAndByItemAttribute) {
  FakeContext ctx;
  ctx.skills = {{2, 3}};  // spanish at 3
  EXPECT_TRUE(eval(R"(has_skill("spanish"))", ctx));
  EXPECT_TRUE(eval(R"(has_skill("spanish", 3))", ctx));
  EXPECT_FALSE(eval(R"(has_skill("spanish", 4))", ctx));
  EXPECT_FALSE(eval(R"(has_skill("billing"))", ctx));
  ctx.item = {{"language", std::string("spanish")}};
  EXPECT_TRUE(eval("has_skill(item.language, 2)", ctx));
  ctx.item = {{"language", std::string("klingon")}};  // names no skill: matches nobody
  EXPECT_FALSE(eval("has_skill(item.language)", ctx));
  ctx.item.clear();
  EXPECT_FALSE(eval("has_skill(item.language)", ctx));
}

TEST(ParsedConditionEvaluation, EmptyConditionMatchesEverything) {
  FakeContext ctx;
  EXPECT_TRUE(eval("", ctx));
  EXPECT_TRUE(eval("true", ctx));
}

}  // namespace
