// The TOML configuration loader (config_loader.hpp, docs/configuration.md): the complete example
// of the docs loads with the expected values, defaults apply, and every kind of error is refused
// with its code and a message naming file:line:column and the key path.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

#include "switchboard/config_loader.hpp"

using namespace switchboard;

namespace {

// The complete example of docs/configuration.md (keep the two in step).
constexpr std::string_view kExample = R"toml(# contact-center.toml: one complete Switchboard routing configuration.
decline_limit = 3
park_after_decliners = 100

skills = ["coffee_refund", "billing", "spanish"]
presences = ["available", "lunch"]

[profiles.chat]
blocks_others = false

[profiles.voice]
blocks_others = true

[channels.chat]
capacity = { units = 1 }
allowed_presences = ["available", "busy"]
offer_timeout_ms = 30000

[channels.phone]
kind = "voice"
capacity = { profile = "voice" }
wrap_up_ms = 60000

[channels.messaging]
block_size = 50

[channels.record]
prioritization_limit = 5000

[[queues]]
name = "VIP Support"
group = 1
channel = "chat"
method = "round_robin"

[[queues]]
name = "Order Support"
group = 1
channel = "chat"
method = "highest_capacity"
skill_matching = "closest"
strict_blocks = false
prioritization = [
  { name = "high premium", when = 'item.priority == "High" and item.category == "Premium"' },
  { name = "premium", when = 'item.category == "Premium"', order_by = "fifo" },
  { name = "high", when = 'item.priority == "High"', order_by = "item.first_response_by asc" },
]

[[queues]]
name = "Phone Sales"
group = 2
channel = "phone"
method = "custom"
requires_working = true
allowed_presences = ["available", "lunch"]
block_size = 10
assignment = [
  { name = "same tier", when = 'agent.preferred_customer_type == item.customer.membership_level and has_skill(item.language, 2)', order_by = ["proficiency", "round_robin"] },
  { name = "anyone in the US", when = 'agent.country == "US" and agent.presence in ["available", "lunch"]', order_by = ["agent.tier desc", "least_active"] },
  { name = "fallback" },
]

[[agents]]
id = "lesa"
presence = "available"
skills = { coffee_refund = 5, spanish = 2 }
capacity = { units = 3, profiles = { voice = 1 } }
attributes = { country = "US", tier = 2, preferred_customer_type = "gold" }
shifts = [[0, 28800000]]
queues = ["VIP Support", "Phone Sales"]

[[agents]]
id = 42
skills = { billing = 0 }
capacity = { units = 2 }
working = false
queues = ["Order Support"]
)toml";

constexpr std::string_view kFile = "contact-center.toml";

Config load_ok(std::string_view text) {
  Result<Config> result = parse_config(text, kFile);
  EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().message);
  return result ? std::move(result).value() : Config{};
}

// Asserts the code and that the message starts with "<file>:<line>:<column>: <path>: " and
// contains `fragment`.
void expect_error(std::string_view text, ErrorCode code, int line, int column,
                  std::string_view path, std::string_view fragment = {}) {
  Result<Config> result = parse_config(text, kFile);
  ASSERT_FALSE(result.has_value()) << "loaded without error";
  const Error& error = result.error();
  EXPECT_EQ(error.code, code) << to_string(error.code) << ": " << error.message;
  std::string prefix = std::string(kFile) + ":" + std::to_string(line) + ":" +
                       std::to_string(column) + ": ";
  if (!path.empty()) prefix += std::string(path) + ": ";
  EXPECT_EQ(error.message.rfind(prefix, 0), 0u)
      << error.message << "\n  expected prefix: " << prefix;
  EXPECT_NE(error.message.find(fragment), std::string::npos)
      << error.message << "\n  expected to contain: " << fragment;
}

// A minimal valid prefix: two skills, a chat channel and one queue; tests append to it. Lines:
//  1 skills = [...]
//  2 [channels.chat]
//  3 [[queues]]
//  4 name = "Q"
//  5 channel = "chat"
constexpr std::string_view kBase = R"toml(skills = ["billing", "spanish"]
[channels.chat]
[[queues]]
name = "Q"
channel = "chat"
)toml";

std::string base(std::string_view more) { return std::string(kBase) + std::string(more); }

// --- successes --------------------------------------------------------------------------------

TEST(ConfigLoader, CompleteExampleLoadsTopLevelValues) {
  const Config c = load_ok(kExample);
  EXPECT_EQ(c.decline_limit, 3);
  EXPECT_EQ(c.park_after_decliners, 100);
  EXPECT_EQ(c.skills, (std::vector<std::string>{"coffee_refund", "billing", "spanish"}));
  // The built-in five first (R2); a built-in listed again is not added twice.
  EXPECT_EQ(c.presences, (std::vector<std::string>{"available", "busy", "do_not_disturb", "away",
                                                   "offline", "lunch"}));
  ASSERT_EQ(c.profiles.size(), 2u);
  EXPECT_EQ(c.profiles[0].name, "chat");
  EXPECT_FALSE(c.profiles[0].blocks_others);
  EXPECT_EQ(c.profiles[1].name, "voice");
  EXPECT_TRUE(c.profiles[1].blocks_others);
}

TEST(ConfigLoader, CompleteExampleLoadsChannelsNumberedByName) {
  const Config c = load_ok(kExample);
  ASSERT_EQ(c.channels.size(), 4u);
  EXPECT_EQ(c.channels[0].name, "chat");
  EXPECT_EQ(c.channels[1].name, "messaging");
  EXPECT_EQ(c.channels[2].name, "phone");
  EXPECT_EQ(c.channels[3].name, "record");

  const ChannelConfig& chat = c.channels[0];
  EXPECT_EQ(chat.kind, ChannelKind::chat);
  EXPECT_EQ(chat.capacity_model, CapacityModel::units);
  EXPECT_EQ(chat.units_per_item, 1);
  EXPECT_EQ(chat.allowed_presences, (std::vector<PresenceId>{0, 1}));
  EXPECT_EQ(chat.offer_timeout_ms, 30000);
  EXPECT_EQ(chat.block_size, 100u);
  EXPECT_FALSE(chat.order_by_last_message);

  const ChannelConfig& messaging = c.channels[1];
  EXPECT_EQ(messaging.kind, ChannelKind::messaging);
  EXPECT_TRUE(messaging.order_by_last_message);  // default of the messaging kind
  EXPECT_EQ(messaging.block_size, 50u);
  EXPECT_EQ(messaging.allowed_presences, (std::vector<PresenceId>{0}));

  const ChannelConfig& phone = c.channels[2];
  EXPECT_EQ(phone.kind, ChannelKind::voice);
  EXPECT_EQ(phone.capacity_model, CapacityModel::profile);
  EXPECT_EQ(phone.profile, 1);  // voice
  EXPECT_EQ(phone.wrap_up_ms, 60000);
  EXPECT_EQ(phone.offer_timeout_ms, 0);

  const ChannelConfig& record = c.channels[3];
  EXPECT_EQ(record.kind, ChannelKind::record);
  EXPECT_EQ(record.block_size, 2000u);
  EXPECT_EQ(record.prioritization_limit, 5000u);
  EXPECT_EQ(record.periodic_ms, 5 * 60 * 1000);
}

TEST(ConfigLoader, CompleteExampleLoadsQueuesInFileOrder) {
  const Config c = load_ok(kExample);
  ASSERT_EQ(c.queues.size(), 3u);

  const QueueConfig& vip = c.queues[0];
  EXPECT_EQ(vip.name, "VIP Support");
  EXPECT_EQ(vip.group, 1);
  EXPECT_EQ(vip.channel, 0);
  EXPECT_EQ(vip.method, AssignmentMethod::round_robin);
  EXPECT_EQ(vip.skill_matching, SkillMatching::exact);
  EXPECT_FALSE(vip.requires_working);
  EXPECT_TRUE(vip.allowed_presences.empty());
  EXPECT_EQ(vip.block_size, 100u);
  EXPECT_TRUE(vip.strict_blocks);
  EXPECT_TRUE(vip.is_fifo());
  EXPECT_TRUE(vip.assignment.empty());

  const QueueConfig& order = c.queues[1];
  EXPECT_EQ(order.method, AssignmentMethod::highest_capacity);
  EXPECT_EQ(order.skill_matching, SkillMatching::closest);
  EXPECT_FALSE(order.strict_blocks);
  ASSERT_EQ(order.prioritization.size(), 3u);
  EXPECT_EQ(order.prioritization[0].name, "high premium");
  EXPECT_EQ(order.prioritization[0].when.source,
            R"(item.priority == "High" and item.category == "Premium")");
  EXPECT_EQ(order.prioritization[0].when.nodes.at(order.prioritization[0].when.root).kind,
            NodeKind::all_of);
  EXPECT_TRUE(order.prioritization[0].order_by.attribute.empty());  // fifo by default
  EXPECT_TRUE(order.prioritization[1].order_by.attribute.empty());
  EXPECT_EQ(order.prioritization[2].order_by.attribute, "first_response_by");
  EXPECT_FALSE(order.prioritization[2].order_by.descending);

  const QueueConfig& phone = c.queues[2];
  EXPECT_EQ(phone.channel, 2);
  EXPECT_EQ(phone.method, AssignmentMethod::custom);
  EXPECT_TRUE(phone.requires_working);
  EXPECT_EQ(phone.allowed_presences, (std::vector<PresenceId>{0, 5}));
  EXPECT_EQ(phone.block_size, 10u);
  ASSERT_EQ(phone.assignment.size(), 3u);
  const AssignmentRule& tier = phone.assignment[0];
  EXPECT_EQ(tier.name, "same tier");
  EXPECT_TRUE(tier.when.refers_to_agent);
  ASSERT_EQ(tier.order_by.size(), 2u);
  EXPECT_EQ(tier.order_by[0].kind, AgentOrderKind::proficiency);
  EXPECT_FALSE(tier.order_by[0].descending);
  EXPECT_EQ(tier.order_by[1].kind, AgentOrderKind::round_robin);
  const AssignmentRule& us = phone.assignment[1];
  ASSERT_EQ(us.order_by.size(), 2u);
  EXPECT_EQ(us.order_by[0].kind, AgentOrderKind::attribute);
  EXPECT_EQ(us.order_by[0].attribute, "tier");
  EXPECT_TRUE(us.order_by[0].descending);
  EXPECT_EQ(us.order_by[1].kind, AgentOrderKind::least_active);
  const ConditionNode& in = us.when.nodes.at(us.when.nodes.at(us.when.root).children.at(1));
  EXPECT_EQ(in.kind, NodeKind::in_list);
  EXPECT_EQ(in.list, (std::vector<AttrValue>{std::int64_t{0}, std::int64_t{5}}));
  EXPECT_TRUE(phone.assignment[2].when.is_always());
  EXPECT_TRUE(phone.assignment[2].order_by.empty());
}

TEST(ConfigLoader, CompleteExampleLoadsAgents) {
  const Config c = load_ok(kExample);
  ASSERT_EQ(c.agents.size(), 2u);

  const AgentSeed& lesa = c.agents[0];
  EXPECT_EQ(lesa.id, ExternalId("lesa"));
  EXPECT_EQ(lesa.presence, 0);
  EXPECT_EQ(lesa.skills, (std::vector<SkillLevel>{{0, 5}, {2, 2}}));
  EXPECT_EQ(lesa.capacity.units, 3);
  EXPECT_EQ(lesa.capacity.profile_max, (std::vector<std::int32_t>{0, 1}));
  EXPECT_EQ(lesa.attributes.at("country"), AttrValue(std::string("US")));
  EXPECT_EQ(lesa.attributes.at("tier"), AttrValue(std::int64_t{2}));
  EXPECT_TRUE(lesa.working);
  EXPECT_EQ(lesa.shifts, (std::vector<Shift>{{0, 28800000}}));
  EXPECT_EQ(lesa.queues, (std::vector<QueueId>{0, 2}));

  const AgentSeed& numbered = c.agents[1];
  EXPECT_EQ(numbered.id, ExternalId(std::uint64_t{42}));
  EXPECT_EQ(numbered.presence, 4);  // offline by default
  EXPECT_EQ(numbered.skills, (std::vector<SkillLevel>{{1, 0}}));
  EXPECT_EQ(numbered.capacity.units, 2);
  EXPECT_FALSE(numbered.working);
  EXPECT_EQ(numbered.queues, (std::vector<QueueId>{1}));
}

TEST(ConfigLoader, EmptyDocumentGivesDefaults) {
  const Config c = load_ok("");
  EXPECT_EQ(c.decline_limit, 3);
  EXPECT_EQ(c.park_after_decliners, 100);
  EXPECT_EQ(c.presences.size(), 5u);
  EXPECT_TRUE(c.skills.empty());
  EXPECT_TRUE(c.channels.empty());
  EXPECT_TRUE(c.queues.empty());
}

TEST(ConfigLoader, QueueInheritsBlockSizeAndLimitFromItsChannel) {
  const Config c = load_ok(R"toml(
[channels.cases]
kind = "record"
[[queues]]
name = "Cases"
channel = "cases"
)toml");
  ASSERT_EQ(c.queues.size(), 1u);
  EXPECT_EQ(c.queues[0].block_size, 2000u);
  EXPECT_EQ(c.queues[0].prioritization_limit, 10000u);
  EXPECT_EQ(c.queues[0].method, AssignmentMethod::highest_capacity);
}

// asc / desc name the direction of the value; `descending` records a reversal of the key's
// natural direction (capacity and proficiency: most first; the others: least first).
TEST(ConfigLoader, BuiltinOrderKeyDirectionsNameTheValueDirection) {
  const Config c = load_ok(base(R"toml(method = "custom"
assignment = [ { order_by = ["available_units", "available_profile desc", "skill_count asc", "agent.age", "proficiency asc", "skill_count desc", "least_active"] } ]
)toml"));
  const auto& keys = c.queues.at(0).assignment.at(0).order_by;
  ASSERT_EQ(keys.size(), 7u);
  EXPECT_EQ(keys[0].kind, AgentOrderKind::available_units);
  EXPECT_FALSE(keys[0].descending);
  EXPECT_EQ(keys[1].kind, AgentOrderKind::available_profile);
  EXPECT_FALSE(keys[1].descending) << "desc is the natural direction of capacity";
  EXPECT_EQ(keys[2].kind, AgentOrderKind::skill_count);
  EXPECT_FALSE(keys[2].descending);
  EXPECT_EQ(keys[3].kind, AgentOrderKind::attribute);
  EXPECT_EQ(keys[3].attribute, "age");
  EXPECT_FALSE(keys[3].descending);
  EXPECT_EQ(keys[4].kind, AgentOrderKind::proficiency);
  EXPECT_TRUE(keys[4].descending) << "proficiency asc reverses most-proficient-first";
  EXPECT_EQ(keys[5].kind, AgentOrderKind::skill_count);
  EXPECT_TRUE(keys[5].descending);
  EXPECT_EQ(keys[6].kind, AgentOrderKind::least_active);
  EXPECT_FALSE(keys[6].descending);
}

TEST(ConfigLoader, ItemOrderByTwoLevelAttributeDescending) {
  const Config c = load_ok(base(R"toml(prioritization = [ { order_by = "item.customer.since desc" } ]
)toml"));
  const PrioritizationRule& rule = c.queues.at(0).prioritization.at(0);
  EXPECT_TRUE(rule.when.is_always());
  EXPECT_EQ(rule.order_by.attribute, "customer.since");
  EXPECT_TRUE(rule.order_by.descending);
}

TEST(ConfigLoader, LoadConfigFileReadsAFileAndNamesItInErrors) {
  const std::string path = ::testing::TempDir() + "switchboard_config_loader_test.toml";
  {
    std::ofstream out(path);
    out << kExample;
  }
  Result<Config> ok = load_config_file(path);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->queues.size(), 3u);
  {
    std::ofstream out(path);
    out << "decline_limit = 9\n";
  }
  Result<Config> bad = load_config_file(path);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::config_invalid_value);
  EXPECT_EQ(bad.error().message.rfind(path + ":1:17: decline_limit: ", 0), 0u)
      << bad.error().message;
  std::remove(path.c_str());
}

// --- errors -----------------------------------------------------------------------------------

TEST(ConfigLoaderErrors, UnreadableFileIsAnIoError) {
  Result<Config> missing = load_config_file("/nonexistent/switchboard.toml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::config_io);
  EXPECT_NE(missing.error().message.find("/nonexistent/switchboard.toml"), std::string::npos);

  Result<Config> directory = load_config_file(::testing::TempDir());
  ASSERT_FALSE(directory.has_value());
  EXPECT_EQ(directory.error().code, ErrorCode::config_io);
}

TEST(ConfigLoaderErrors, TomlSyntaxError) {
  expect_error("decline_limit = 3\nskills = [\"a\",\n[channels.chat]\n", ErrorCode::config_syntax,
               3, 2, "", "syntax error");
}

TEST(ConfigLoaderErrors, UnknownTopLevelKey) {
  expect_error("decline_limit = 3\ndecline_limt = 3\n", ErrorCode::config_unknown_key, 2, 1,
               "decline_limt", "unknown key (expected one of: decline_limit");
}

TEST(ConfigLoaderErrors, UnknownKeyInAQueue) {
  expect_error(base("methd = \"round_robin\"\n"), ErrorCode::config_unknown_key, 6, 1,
               "queues[0].methd", "unknown key");
}

TEST(ConfigLoaderErrors, UnknownKeyInAnInlineRule) {
  expect_error(base("prioritization = [ { wen = 'item.a == 1' } ]\n"),
               ErrorCode::config_unknown_key, 6, 22, "queues[0].prioritization[0].wen");
}

TEST(ConfigLoaderErrors, UnknownMethodListsTheChoices) {
  expect_error(base("method = \"roundrobin\"\n"), ErrorCode::config_invalid_value, 6, 10,
               "queues[0].method",
               "unknown assignment method \"roundrobin\" (expected one of: highest_capacity, "
               "round_robin, least_active, custom)");
}

TEST(ConfigLoaderErrors, TypeMismatchOnAnInteger) {
  expect_error("decline_limit = \"3\"\n", ErrorCode::config_type, 1, 17, "decline_limit",
               "expected an integer, found a string");
}

TEST(ConfigLoaderErrors, TypeMismatchOnABoolean) {
  expect_error(base("strict_blocks = 1\n"), ErrorCode::config_type, 6, 17,
               "queues[0].strict_blocks", "expected a boolean, found an integer");
}

TEST(ConfigLoaderErrors, TypeMismatchOnAnAgentAttribute) {
  expect_error("[[agents]]\nid = 1\nattributes = { score = 1.5 }\n", ErrorCode::config_type, 3,
               24, "agents[0].attributes.score", "expected a string or an integer");
}

TEST(ConfigLoaderErrors, DeclineLimitOutOfRange) {
  expect_error("decline_limit = 6\n", ErrorCode::config_invalid_value, 1, 17, "decline_limit",
               "out of range (expected 1..5)");
  expect_error("decline_limit = 0\n", ErrorCode::config_invalid_value, 1, 17, "decline_limit",
               "out of range");
}

TEST(ConfigLoaderErrors, ParkAfterDeclinersBelowOne) {
  expect_error("park_after_decliners = 0\n", ErrorCode::config_invalid_value, 1, 24,
               "park_after_decliners", "out of range");
}

TEST(ConfigLoaderErrors, NegativeBlockSize) {
  expect_error(base("block_size = -1\n"), ErrorCode::config_invalid_value, 6, 14,
               "queues[0].block_size", "out of range");
}

TEST(ConfigLoaderErrors, UnknownSkillInAnAgent) {
  expect_error(base("[[agents]]\nid = \"a\"\nskills = { billing = 1, french = 3 }\n"),
               ErrorCode::config_unknown_reference, 8, 25, "agents[0].skills.french",
               "unknown skill \"french\"");
}

TEST(ConfigLoaderErrors, NegativeProficiency) {
  expect_error(base("[[agents]]\nid = \"a\"\nskills = { billing = -1 }\n"),
               ErrorCode::config_invalid_value, 8, 22, "agents[0].skills.billing", "out of range");
}

TEST(ConfigLoaderErrors, UnknownChannelInAQueue) {
  expect_error("[channels.chat]\n[[queues]]\nname = \"Q\"\nchannel = \"webchat\"\n",
               ErrorCode::config_unknown_reference, 4, 11, "queues[0].channel",
               "unknown channel \"webchat\" (declared: chat)");
}

TEST(ConfigLoaderErrors, UnknownQueueInAnAgent) {
  expect_error(base("[[agents]]\nid = \"a\"\nqueues = [\"Q\", \"Billing\"]\n"),
               ErrorCode::config_unknown_reference, 8, 16, "agents[0].queues[1]",
               "unknown queue \"Billing\"");
}

TEST(ConfigLoaderErrors, UnknownPresenceInAChannel) {
  expect_error("[channels.chat]\nallowed_presences = [\"available\", \"lunch\"]\n",
               ErrorCode::config_unknown_reference, 2, 35,
               "channels.chat.allowed_presences[1]", "unknown presence \"lunch\"");
}

TEST(ConfigLoaderErrors, UnknownProfileInAChannel) {
  expect_error("[channels.voice]\ncapacity = { profile = \"phone\" }\n",
               ErrorCode::config_unknown_reference, 2, 24, "channels.voice.capacity.profile",
               "unknown profile \"phone\"");
}

TEST(ConfigLoaderErrors, UnknownProfileInAnAgentCapacity) {
  expect_error("[[agents]]\nid = 7\ncapacity = { profiles = { voice = 1 } }\n",
               ErrorCode::config_unknown_reference, 3, 27, "agents[0].capacity.profiles.voice",
               "unknown profile \"voice\"");
}

TEST(ConfigLoaderErrors, ChannelWithoutKindWhoseNameIsNotAKind) {
  expect_error("[channels.webchat]\nwrap_up_ms = 0\n", ErrorCode::config_invalid_value, 1, 1,
               "channels.webchat.kind", "missing required key");
}

TEST(ConfigLoaderErrors, ChannelCapacityWithBothModels) {
  expect_error("[profiles.p]\n[channels.chat]\ncapacity = { units = 1, profile = \"p\" }\n",
               ErrorCode::config_invalid_value, 3, 12, "channels.chat.capacity",
               "exactly one of units");
}

TEST(ConfigLoaderErrors, DuplicateSkill) {
  expect_error("skills = [\"a\", \"b\", \"a\"]\n", ErrorCode::config_invalid_value, 1, 21,
               "skills[2]", "duplicate skill \"a\"");
}

TEST(ConfigLoaderErrors, DuplicatePresence) {
  expect_error("presences = [\"lunch\", \"lunch\"]\n", ErrorCode::config_invalid_value, 1, 23,
               "presences[1]", "duplicate presence");
}

TEST(ConfigLoaderErrors, DuplicateQueueName) {
  expect_error(base("[[queues]]\nname = \"Q\"\nchannel = \"chat\"\n"),
               ErrorCode::config_invalid_value, 7, 8, "queues[1].name", "duplicate queue name");
}

TEST(ConfigLoaderErrors, DuplicateAgentId) {
  expect_error("[[agents]]\nid = 5\n[[agents]]\nid = 5\n", ErrorCode::config_invalid_value, 4, 6,
               "agents[1].id", "duplicate agent id");
}

TEST(ConfigLoaderErrors, NegativeAgentId) {
  expect_error("[[agents]]\nid = -5\n", ErrorCode::config_invalid_value, 2, 6, "agents[0].id",
               "out of range");
}

TEST(ConfigLoaderErrors, QueueWithoutChannel) {
  expect_error("[[queues]]\nname = \"Q\"\n", ErrorCode::config_invalid_value, 1, 1,
               "queues[0].channel", "missing required key");
}

TEST(ConfigLoaderErrors, TooManySkills) {
  std::string text = "skills = [";
  for (int i = 0; i <= static_cast<int>(kMaxSkills); ++i) text += "\"s" + std::to_string(i) + "\",";
  text += "]\n";
  expect_error(text, ErrorCode::config_invalid_value, 1, 10, "skills", "at most 256");
}

TEST(ConfigLoaderErrors, ShiftThatEndsBeforeItStarts) {
  expect_error("[[agents]]\nid = 1\nshifts = [[10, 10]]\n", ErrorCode::config_invalid_value, 3,
               11, "agents[0].shifts[0]", "must end after it starts");
}

TEST(ConfigLoaderErrors, CustomMethodWithoutRules) {
  expect_error(base("method = \"custom\"\n"), ErrorCode::config_invalid_value, 3, 1,
               "queues[0].assignment", "missing required key");
}

TEST(ConfigLoaderErrors, CustomMethodWithEmptyRules) {
  expect_error(base("method = \"custom\"\nassignment = []\n"), ErrorCode::config_invalid_value,
               7, 14, "queues[0].assignment", "at least one assignment rule");
}

TEST(ConfigLoaderErrors, RulesWithoutCustomMethod) {
  expect_error(base("method = \"round_robin\"\nassignment = [ { when = 'capacity_ok' } ]\n"),
               ErrorCode::config_invalid_value, 7, 14, "queues[0].assignment",
               "needs method = \"custom\"");
}

TEST(ConfigLoaderErrors, ConditionErrorPointsIntoTheRuleString) {
  // The opening quote is at file column 25 and the bad token at column 19 of the condition.
  expect_error(base("method = \"custom\"\nassignment = [ { when = 'agent.presence == \"lunchh\"' } ]\n"),
               ErrorCode::config_condition, 7, 44, "queues[0].assignment[0].when",
               "condition column 19: unknown presence \"lunchh\"");
}

TEST(ConfigLoaderErrors, ConditionErrorInABasicStringWithEscapes) {
  expect_error(base("prioritization = [ { when = \"item.a == \\\"x\\\" and\" } ]\n"),
               ErrorCode::config_condition, 6, 49, "queues[0].prioritization[0].when",
               "unexpected end of condition");
}

TEST(ConfigLoaderErrors, PrioritizationConditionMayNotMentionTheAgent) {
  expect_error(base("prioritization = [ { when = 'agent.tier == 1' } ]\n"),
               ErrorCode::config_condition, 6, 30, "queues[0].prioritization[0].when",
               "refers to the agent");
}

TEST(ConfigLoaderErrors, HasSkillWithUndeclaredSkillInARule) {
  expect_error(base("method = \"custom\"\nassignment = [ { when = 'has_skill(\"french\")' } ]\n"),
               ErrorCode::config_condition, 7, 36, "queues[0].assignment[0].when",
               "unknown skill \"french\"");
}

TEST(ConfigLoaderErrors, InvalidItemOrderBy) {
  expect_error(base("prioritization = [ { order_by = \"first_response_by asc\" } ]\n"),
               ErrorCode::config_invalid_value, 6, 33, "queues[0].prioritization[0].order_by",
               "invalid order_by");
  expect_error(base("prioritization = [ { order_by = \"item.a.b.c\" } ]\n"),
               ErrorCode::config_invalid_value, 6, 33, "queues[0].prioritization[0].order_by",
               "invalid order_by");
}

TEST(ConfigLoaderErrors, UnknownAgentOrderKey) {
  expect_error(base("method = \"custom\"\nassignment = [ { order_by = [\"most_idle\"] } ]\n"),
               ErrorCode::config_invalid_value, 7, 30, "queues[0].assignment[0].order_by[0]",
               "unknown order_by key \"most_idle\"");
}

TEST(ConfigLoaderErrors, QuotedKeysAppearQuotedInThePath) {
  expect_error("[channels.\"web chat\"]\nkind = \"chatt\"\n", ErrorCode::config_invalid_value, 2,
               8, "channels.\"web chat\".kind", "unknown channel kind \"chatt\"");
}

}  // namespace
