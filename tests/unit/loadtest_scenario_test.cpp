// The scenario loader (tools/loadtest/scenario.hpp): what it reads, and errors that name the
// file, line, column and key, as the configuration loader's do.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "scenario.hpp"

namespace switchboard::loadtest {
namespace {

// Line numbers below count from this text's first line: keep its layout.
const std::string kRouting = R"([routing]
inline = '''
skills = ["billing", "spanish"]
presences = ["lunch"]
[profiles.voice]
[channels.chat]
capacity = { units = 1 }
[channels.phone]
kind = "voice"
capacity = { profile = "voice" }
[[queues]]
name = "Chat"
channel = "chat"
[[queues]]
name = "Calls"
channel = "phone"
'''
)";  // 17 lines

std::string with_routing(const std::string& head, const std::string& tail) {
  return head + kRouting + tail;
}

const std::string kHead = R"(name = "test"
[simulation]
horizon_s = 7200
interval_s = 3600
)";  // 4 lines; the routing block starts on line 5

const std::string kTail = R"([[queues]]
name = "Chat"
rates_per_hour = [100, 200.5]
handling = { distribution = "lognormal", mean_s = 300, stddev_s = 120 }
patience = { distribution = "exponential", mean_s = 90 }
attributes = [{ key = "priority", values = ["High", "Low", 3], weights = [1, 2, 3] }]
skill_mix = [{ weight = 2, skills = { billing = 2 } }, { skills = { spanish = -1 } }]
[[queues]]
name = "Calls"
rate_per_hour = 60
handling = { distribution = "gamma", mean_s = 200, stddev_s = 100 }
wrap_up = { distribution = "constant", mean_s = 10 }
[[agents]]
name = "team"
count = 7
skills = { billing = 3 }
capacity = { units = 2, profiles = { voice = 1 } }
queues = ["Chat", "Calls"]
attributes = { tier = 2, team = "a" }
shifts = [[0, 3600], [4000, 9000]]
breaks = [{ start_s = 1800, duration_s = 600, stagger_s = 600, presence = "lunch" }]
answer = { decline = 0.1, no_answer = 0.05, response_delay = { distribution = "constant", mean_s = 2 }, no_answer_timeout_s = 15 }
)";  // starts on line 22

TEST(LoadtestScenario, ReadsEveryPartOfAValidScenario) {
  Result<Scenario> s = parse_scenario(with_routing(kHead, kTail), "t.toml");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->name, "test");
  EXPECT_EQ(s->horizon_s, 7200.0);
  EXPECT_EQ(s->interval_count(), 2u);
  EXPECT_EQ(s->replications, 5u);                     // default
  ASSERT_EQ(s->thresholds_s.size(), 1u);               // default [20]
  EXPECT_EQ(s->config_source, "inline");
  ASSERT_EQ(s->queues.size(), 2u);
  const QueueTraffic& chat = s->queues[0];
  EXPECT_EQ(chat.queue_id, 0u);
  EXPECT_EQ(chat.rates_per_hour, (std::vector<double>{100.0, 200.5}));
  EXPECT_EQ(chat.handling.kind, DistributionKind::lognormal);
  EXPECT_EQ(chat.handling.stddev_s, 120.0);
  ASSERT_TRUE(chat.patience.has_value());
  ASSERT_EQ(chat.attributes.size(), 1u);
  EXPECT_EQ(chat.attributes[0].values[2], AttrValue(std::int64_t{3}));
  ASSERT_EQ(chat.skill_mix.size(), 2u);
  EXPECT_EQ(chat.skill_mix[0].weight, 2.0);
  EXPECT_EQ(chat.skill_mix[1].skills[0].skill, 1);
  EXPECT_EQ(chat.skill_mix[1].skills[0].min_proficiency, -1);
  const QueueTraffic& calls = s->queues[1];
  EXPECT_EQ(calls.queue_id, 1u);
  EXPECT_EQ(calls.rates_per_hour, (std::vector<double>{60.0, 60.0}));
  ASSERT_TRUE(calls.wrap_up.has_value());
  ASSERT_EQ(s->groups.size(), 1u);
  const AgentGroup& g = s->groups[0];
  EXPECT_EQ(g.count, 7u);
  EXPECT_EQ(g.capacity.units, 2);
  EXPECT_EQ(g.capacity.profile_max, (std::vector<std::int32_t>{1}));
  EXPECT_EQ(g.queues, (std::vector<QueueId>{0, 1}));
  ASSERT_EQ(g.shifts.size(), 2u);
  ASSERT_EQ(g.breaks.size(), 1u);
  EXPECT_EQ(g.breaks[0].presence, 5);  // "lunch": after the five built-in presences
  EXPECT_NEAR(g.answer.accept, 0.85, 1e-12);
  EXPECT_EQ(g.answer.no_answer_timeout_s, 15.0);
}

void expect_error(const std::string& text, ErrorCode code, const std::string& starts_with,
                  const std::string& contains) {
  Result<Scenario> s = parse_scenario(text, "t.toml");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, code) << s.error().message;
  EXPECT_EQ(s.error().message.rfind(starts_with, 0), 0u) << s.error().message;
  EXPECT_NE(s.error().message.find(contains), std::string::npos) << s.error().message;
}

TEST(LoadtestScenario, UnknownKeyNamesLineColumnAndKey) {
  std::string tail = kTail;
  tail.replace(tail.find("patience ="), 8, "patiense");
  expect_error(with_routing(kHead, tail), ErrorCode::config_unknown_key,
               "t.toml:26:1: queues[0].patiense: ", "unknown key (expected one of:");
}

TEST(LoadtestScenario, WrongTypeNamesTheKey) {
  std::string head = kHead;
  head.replace(head.find("7200"), 4, "\"2h\"");
  expect_error(with_routing(head, kTail), ErrorCode::config_type,
               "t.toml:3:13: simulation.horizon_s: ", "expected a number, found a string");
}

TEST(LoadtestScenario, UnknownQueueListsTheConfiguredOnes) {
  std::string tail = kTail;
  tail.replace(tail.find("name = \"Calls\""), 14, "name = \"Callz\"");
  expect_error(with_routing(kHead, tail), ErrorCode::config_unknown_reference,
               "t.toml:30:8: queues[1].name: ", "unknown queue \"Callz\" (the routing configuration declares: Chat, Calls)");
}

TEST(LoadtestScenario, RatesMustCoverEveryInterval) {
  std::string tail = kTail;
  tail.replace(tail.find("[100, 200.5]"), 12, "[100]");
  expect_error(with_routing(kHead, tail), ErrorCode::config_invalid_value,
               "t.toml:24:18: queues[0].rates_per_hour: ", "has 1 rates; the scenario has 2 intervals");
}

TEST(LoadtestScenario, LognormalNeedsItsDeviation) {
  std::string tail = kTail;
  tail.replace(tail.find(", stddev_s = 120"), 16, "");
  expect_error(with_routing(kHead, tail), ErrorCode::config_invalid_value,
               "t.toml:25:12: queues[0].handling.stddev_s: ", "lognormal needs mean_s and stddev_s");
}

TEST(LoadtestScenario, UnknownDistributionIsNamed) {
  std::string tail = kTail;
  tail.replace(tail.find("\"gamma\""), 7, "\"weibull\"");
  expect_error(with_routing(kHead, tail), ErrorCode::config_invalid_value,
               "t.toml:32:29: queues[1].handling.distribution: ", "unknown distribution \"weibull\"");
}

TEST(LoadtestScenario, AnswerProbabilitiesMustSumToOne) {
  std::string tail = kTail;
  tail.replace(tail.find("answer = { decline"), 18, "answer = { accept = 0.9, decline");
  expect_error(with_routing(kHead, tail), ErrorCode::config_invalid_value,
               "t.toml:43:21: agents[0].answer.accept: ", "accept + decline + no_answer must be 1");
}

TEST(LoadtestScenario, UnknownSkillInAMix) {
  std::string tail = kTail;
  tail.replace(tail.find("billing = 2"), 7, "biling");
  expect_error(with_routing(kHead, tail), ErrorCode::config_unknown_reference,
               "t.toml:28:39: queues[0].skill_mix[0].skills.biling: ", "unknown skill \"biling\"");
}

TEST(LoadtestScenario, OverlappingShiftsAreRefused) {
  std::string tail = kTail;
  tail.replace(tail.find("[4000, 9000]"), 12, "[3000, 9000]");
  expect_error(with_routing(kHead, tail), ErrorCode::config_invalid_value,
               "t.toml:41:23: agents[0].shifts[1][0]: ", "must not overlap");
}

TEST(LoadtestScenario, MissingSectionIsNamed) {
  expect_error(kHead + kRouting, ErrorCode::config_invalid_value, "t.toml:1:1: queues: ",
               "missing required key");
}

// An error inside the inline routing configuration points at the scenario file's line: the
// string's content starts on the line after the opening quotes (line 7 of the file is the
// string's line 1), so the channel kind on the string's line 7 is the file's line 13.
TEST(LoadtestScenario, InlineRoutingErrorsPointIntoTheScenarioFile) {
  std::string routing = kRouting;
  routing.replace(routing.find("kind = \"voice\""), 14, "kind = \"vioce\"");
  expect_error(kHead + routing + kTail, ErrorCode::config_invalid_value,
               "t.toml:13:8: routing.inline: channels.phone.kind: ", "vioce");
}

TEST(LoadtestScenario, RoutingByPathIsResolvedFromTheScenarioDirectory) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("loadtest_scenario_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream routing(dir / "routing.toml");
    routing << "skills = [\"billing\", \"spanish\"]\npresences = [\"lunch\"]\n[profiles.voice]\n"
               "[channels.chat]\n[channels.phone]\nkind = \"voice\"\n"
               "capacity = { profile = \"voice\" }\n[[queues]]\nname = \"Chat\"\nchannel = \"chat\"\n"
               "[[queues]]\nname = \"Calls\"\nchannel = \"phone\"\n[[agents]]\nid = \"x\"\n";
    std::ofstream scenario(dir / "s.scenario.toml");
    scenario << kHead << "[routing]\npath = \"routing.toml\"\n" << kTail;
  }
  Result<Scenario> s = load_scenario_file((dir / "s.scenario.toml").string());
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->config_source, (dir / "routing.toml").lexically_normal().string());
  EXPECT_TRUE(s->config.agents.empty());  // the groups are the population
  {
    std::ofstream scenario(dir / "bad.scenario.toml");
    scenario << kHead << "[routing]\npath = \"missing.toml\"\n" << kTail;
  }
  Result<Scenario> bad = load_scenario_file((dir / "bad.scenario.toml").string());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::config_io);
  EXPECT_NE(bad.error().message.find(":6:8: routing.path: routing configuration: "),
            std::string::npos)
      << bad.error().message;
  std::filesystem::remove_all(dir);
}

TEST(LoadtestScenario, SyntaxErrorsAreReportedWithTheirPosition) {
  expect_error("name = \"x\"\n[simulation\n", ErrorCode::config_syntax, "t.toml:2:",
               "syntax error");
}

}  // namespace
}  // namespace switchboard::loadtest
