// The JSON-lines codec (adapters/jsonl): every event type decodes to the struct docs/events.md
// describes, every way a line can be wrong is refused with the right code and a message naming
// the field, decode(encode(e)) == e for every event type, and every decision kind encodes to the
// documented line.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "router_harness.hpp"
#include "switchboard/jsonl/codec.hpp"
#include "switchboard/reference_router.hpp"

using namespace switchboard;
using namespace switchboard::testing;
using switchboard::jsonl::decode_event;
using switchboard::jsonl::encode_decision;
using switchboard::jsonl::encode_event;

namespace {

// base_config (skills s0..s9, presences + lunch, profiles chat and voice) with three queues.
constexpr QueueId kVip = 0, kPhone = 1, kEmailQ = 2;

Config codec_config() {
  Config config = base_config();
  add_queue(config, "VIP Support", kChat, AssignmentMethod::round_robin);
  add_queue(config, "Phone Sales", kVoice, AssignmentMethod::custom);
  config.queues[kPhone].assignment = {AssignmentRule{"same tier", {}, {}},
                                      AssignmentRule{"fallback", {}, {}}};
  add_queue(config, "Billing Email", kEmail, AssignmentMethod::highest_capacity, 2);
  return config;
}

const Config& cfg() {
  static const Config config = codec_config();
  return config;
}

Event decode_ok(const std::string& line) {
  Result<Event> r = decode_event(line, cfg(), 99);
  EXPECT_TRUE(r.has_value()) << line << "\n  -> " << (r ? "" : r.error().message);
  return r ? std::move(r).value() : Event{};
}

template <typename T>
T body_of(const std::string& line) {
  const Event e = decode_ok(line);
  const T* body = std::get_if<T>(&e.body);
  EXPECT_NE(body, nullptr) << line << " decoded to " << event_type_name(e.body);
  return body ? *body : T{};
}

// ---- decoding every event type -----------------------------------------------------------------

TEST(JsonlDecode, CommonFieldsAndDefaultSequence) {
  const Event e = decode_ok(R"({"t": 1000, "type": "tick"})");
  EXPECT_EQ(e.time, 1000);
  EXPECT_EQ(e.sequence, 99u);  // the caller's default (the CLI passes the line number)
  EXPECT_TRUE(std::holds_alternative<Tick>(e.body));
  EXPECT_EQ(decode_ok(R"({"seq": 7, "type": "tick", "t": 5})").sequence, 7u);
  EXPECT_EQ(decode_event(R"({"t":1,"type":"tick"})", cfg()).value().sequence, 0u);
  EXPECT_EQ(decode_ok("  {\"t\": 0, \"type\": \"tick\"}  \r").time, 0);  // whitespace is fine
}

TEST(JsonlDecode, AgentUpsertAllFields) {
  const auto e = body_of<AgentUpsert>(
      R"({"t":1,"type":"agent_upsert","agent":"lesa","presence":"lunch","skills":{"s3":5,"s1":0},)"
      R"("capacity":{"units":3,"profiles":{"voice":1}},"attributes":{"country":"US","tier":2},)"
      R"("working":false,"shifts":[[0,28800000],[30000000,40000000]]})");
  EXPECT_EQ(e.agent, ExternalId("lesa"));
  EXPECT_EQ(e.presence, std::optional<PresenceId>(kLunch));
  ASSERT_TRUE(e.skills);
  EXPECT_EQ(*e.skills, (std::vector<SkillLevel>{{3, 5}, {1, 0}}));  // document order kept
  EXPECT_EQ(e.capacity, (AgentCapacity{3, {0, 1}}));  // every profile, missing = 0
  EXPECT_EQ(e.attributes, (Attributes{{"country", "US"}, {"tier", std::int64_t{2}}}));
  EXPECT_EQ(e.working, false);
  EXPECT_EQ(e.shifts, (std::vector<Shift>{{0, 28800000}, {30000000, 40000000}}));
}

TEST(JsonlDecode, AgentUpsertOnlyId) {
  const auto e = body_of<AgentUpsert>(R"({"t":1,"type":"agent_upsert","agent":42})");
  EXPECT_EQ(e.agent, ExternalId(std::uint64_t{42}));
  EXPECT_FALSE(e.presence || e.skills || e.capacity || e.attributes || e.working || e.shifts);
  const auto units_only = body_of<AgentUpsert>(R"({"t":1,"type":"agent_upsert","agent":1,"capacity":{"units":2}})");
  EXPECT_EQ(units_only.capacity, (AgentCapacity{2, {}}));
}

TEST(JsonlDecode, AgentEvents) {
  EXPECT_EQ(body_of<AgentRemove>(R"({"t":1,"type":"agent_remove","agent":"x"})").agent, ExternalId("x"));
  const auto p = body_of<PresenceChange>(R"({"t":1,"type":"presence_change","agent":3,"presence":"away"})");
  EXPECT_EQ(p.agent, ExternalId(std::uint64_t{3}));
  EXPECT_EQ(p.presence, kAway);
  const auto c = body_of<CapacityChange>(
      R"({"t":1,"type":"capacity_change","agent":"a","capacity":{"profiles":{"chat":4}}})");
  EXPECT_EQ(c.capacity, (AgentCapacity{0, {4, 0}}));
  const auto j = body_of<JoinQueue>(R"({"t":1,"type":"join_queue","agent":"a","queue":"Phone Sales"})");
  EXPECT_EQ(j.queue, kPhone);
  const auto l = body_of<LeaveQueue>(R"({"t":1,"type":"leave_queue","agent":"a","queue":"Billing Email"})");
  EXPECT_EQ(l.queue, kEmailQ);
}

TEST(JsonlDecode, ItemArriveAllFields) {
  const auto e = body_of<ItemArrive>(
      R"({"t":5,"type":"item_arrive","item":17,"queue":"VIP Support","created":3,"last_message":4,)"
      R"("attributes":{"priority":"High","customer":{"membership_level":"gold","age":40},"n":-3},)"
      R"("skills":{"s2":3,"s4":null},"units":2,"affinity_agent":"lesa"})");
  EXPECT_EQ(e.item, ExternalId(std::uint64_t{17}));
  EXPECT_EQ(e.queue, kVip);
  EXPECT_EQ(e.created, std::optional<Timestamp>(3));
  EXPECT_EQ(e.last_message, std::optional<Timestamp>(4));
  EXPECT_EQ(e.attributes, (Attributes{{"priority", "High"},
                                      {"customer.membership_level", "gold"},
                                      {"customer.age", std::int64_t{40}},
                                      {"n", std::int64_t{-3}}}));
  EXPECT_EQ(e.skills, (std::vector<SkillRequirement>{{2, 3}, {4, -1}}));
  EXPECT_EQ(e.units, std::optional<std::int32_t>(2));
  EXPECT_EQ(e.affinity_agent, std::optional<ExternalId>(ExternalId("lesa")));
}

TEST(JsonlDecode, ItemArriveMinimalAndSkillList) {
  const auto e = body_of<ItemArrive>(
      R"({"t":5,"type":"item_arrive","item":"c-1","queue":"VIP Support","skills":["s1","s0"]})");
  EXPECT_EQ(e.item, ExternalId("c-1"));
  EXPECT_FALSE(e.created || e.last_message || e.units || e.affinity_agent);
  EXPECT_TRUE(e.attributes.empty());
  EXPECT_EQ(e.skills, (std::vector<SkillRequirement>{{1, -1}, {0, -1}}));
}

TEST(JsonlDecode, ItemEvents) {
  const auto u = body_of<ItemUpdate>(
      R"({"t":1,"type":"item_update","item":1,"attributes":{"priority":"Low","tag":null,"customer":{"tier":null}},"last_message":9})");
  EXPECT_EQ(u.attributes, (Attributes{{"priority", "Low"},
                                      {"tag", std::monostate{}},
                                      {"customer.tier", std::monostate{}}}));
  EXPECT_EQ(u.last_message, std::optional<Timestamp>(9));
  EXPECT_EQ(body_of<ItemCancel>(R"({"t":1,"type":"item_cancel","item":1})").item, ExternalId(std::uint64_t{1}));
  const auto tr = body_of<ItemTransfer>(R"({"t":1,"type":"item_transfer","item":"z","queue":"Phone Sales"})");
  EXPECT_EQ(tr.queue, kPhone);
  EXPECT_EQ(body_of<ItemComplete>(R"({"t":1,"type":"item_complete","item":"z"})").item, ExternalId("z"));
}

TEST(JsonlDecode, OfferAndManualEvents) {
  const auto check = [](const auto& e) {
    EXPECT_EQ(e.item, ExternalId(std::uint64_t{5}));
    EXPECT_EQ(e.agent, ExternalId("5"));  // a string id stays a name, even when it looks like a number
  };
  check(body_of<OfferAccept>(R"({"t":1,"type":"offer_accept","item":5,"agent":"5"})"));
  check(body_of<OfferDecline>(R"({"t":1,"type":"offer_decline","item":5,"agent":"5"})"));
  check(body_of<OfferTimeout>(R"({"t":1,"type":"offer_timeout","item":5,"agent":"5"})"));
  check(body_of<ManualAssign>(R"({"t":1,"type":"manual_assign","item":5,"agent":"5"})"));
  check(body_of<AgentPick>(R"({"t":1,"type":"agent_pick","item":5,"agent":"5"})"));
}

TEST(JsonlDecode, LargestIdsAndTimes) {
  const auto e = decode_ok(
      R"({"t":9223372036854775807,"seq":18446744073709551615,"type":"item_cancel","item":18446744073709551615})");
  EXPECT_EQ(e.time, INT64_MAX);
  EXPECT_EQ(e.sequence, UINT64_MAX);
  EXPECT_EQ(std::get<ItemCancel>(e.body).item, ExternalId(UINT64_MAX));
}

// ---- refusals ----------------------------------------------------------------------------------

struct Refusal {
  const char* line;
  ErrorCode code;
  const char* must_mention;  // the field (and often the offending name) the message names
};

class JsonlRefusal : public ::testing::TestWithParam<Refusal> {};

TEST_P(JsonlRefusal, CodeAndFieldInMessage) {
  const Refusal& r = GetParam();
  const Result<Event> result = decode_event(r.line, cfg(), 1);
  ASSERT_FALSE(result.has_value()) << r.line;
  EXPECT_EQ(to_string(result.error().code), to_string(r.code)) << r.line << "\n  " << result.error().message;
  EXPECT_NE(result.error().message.find(r.must_mention), std::string::npos)
      << "message \"" << result.error().message << "\" should mention " << r.must_mention;
}

constexpr ErrorCode M = ErrorCode::malformed_event;
constexpr ErrorCode V = ErrorCode::invalid_value;

INSTANTIATE_TEST_SUITE_P(
    Malformed, JsonlRefusal,
    ::testing::Values(
        Refusal{"", M, "not valid JSON"},
        Refusal{"{\"t\":1,", M, "not valid JSON"},
        Refusal{"{\"t\":1,\"type\":\"tick\"} extra", M, "not valid JSON"},
        Refusal{"[1,2]", M, "JSON object"},
        Refusal{"42", M, "JSON object"},
        Refusal{R"({"type":"tick"})", M, "field \"t\": missing"},
        Refusal{R"({"t":"1000","type":"tick"})", M, "field \"t\": must be an integer"},
        Refusal{R"({"t":1.5,"type":"tick"})", M, "field \"t\""},
        Refusal{R"({"t":1})", M, "field \"type\": missing"},
        Refusal{R"({"t":1,"type":7})", M, "field \"type\": must be a string"},
        Refusal{R"({"t":1,"type":"item_arrived"})", M, "unknown event type \"item_arrived\""},
        Refusal{R"({"t":1,"type":"tick","agent":"x"})", M, "tick: field \"agent\": unknown field"},
        Refusal{R"({"t":1,"type":"item_cancel","item":1,"itme":2})", M, "field \"itme\": unknown field"},
        Refusal{R"({"t":1,"type":"item_cancel","item":1,"item":2})", M, "field \"item\": given twice"},
        Refusal{R"({"t":1,"type":"item_arrive","item":1})", M, "item_arrive: field \"queue\": missing"},
        Refusal{R"({"t":1,"type":"offer_accept","item":1})", M, "field \"agent\": missing"},
        Refusal{R"({"t":1,"type":"offer_accept","item":1,"agent":true})", M, "field \"agent\": must be an id"},
        Refusal{R"({"t":1,"type":"item_cancel","item":1.0})", M, "field \"item\""},
        Refusal{R"({"t":1,"type":"join_queue","agent":1,"queue":0})", M, "field \"queue\": must be a queue name"},
        Refusal{R"({"t":1,"type":"presence_change","agent":1,"presence":1})", M, "field \"presence\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"skills":["s1"]})", M, "field \"skills\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"skills":{"s1":"high"}})", M, "field \"skills.s1\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"working":"yes"})", M, "field \"working\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"capacity":3})", M, "field \"capacity\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"capacity":{"unit":3}})", M, "field \"capacity.unit\": unknown field"},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"capacity":{"profiles":[1]}})", M, "field \"capacity.profiles\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"attributes":{"tier":1.5}})", M, "field \"attributes.tier\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"attributes":{"tier":null}})", M, "field \"attributes.tier\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"attributes":{"a":{"b":1}}})", M, "field \"attributes.a\": agent attributes are flat"},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"shifts":[[0]]})", M, "field \"shifts[0]\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"shifts":[[0,"9"]]})", M, "field \"shifts[0][1]\""},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","attributes":{"a":{"b":{"c":1}}}})", M, "field \"attributes.a.b\": attributes nest at most two levels"},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","attributes":{"a":null}})", M, "field \"attributes.a\""},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","attributes":{"a":true}})", M, "field \"attributes.a\""},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","attributes":{"c.x":1,"c":{"x":2}}})", M, "field \"attributes.c.x\": given twice"},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","attributes":{"":1}})", M, "attribute name must not be empty"},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","skills":"s1"})", M, "field \"skills\""},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","skills":[3]})", M, "field \"skills[0]\""},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","units":"2"})", M, "field \"units\""},
        Refusal{R"({"t":1,"type":"item_update","item":1,"last_message":"now"})", M, "field \"last_message\""},
        Refusal{R"({"t":1,"type":"tick","seq":"7"})", M, "field \"seq\""}));

INSTANTIATE_TEST_SUITE_P(
    UnknownNames, JsonlRefusal,
    ::testing::Values(
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP"})", ErrorCode::unknown_queue,
                "field \"queue\": no queue is named \"VIP\" (declared: \"VIP Support\""},
        Refusal{R"({"t":1,"type":"join_queue","agent":1,"queue":"vip support"})", ErrorCode::unknown_queue, "\"vip support\""},
        Refusal{R"({"t":1,"type":"item_transfer","item":1,"queue":"Nowhere"})", ErrorCode::unknown_queue, "field \"queue\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"skills":{"coffee":2}})", ErrorCode::unknown_skill,
                "field \"skills.coffee\": unknown skill \"coffee\" (declared: s0, s1"},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","skills":["s1","tea"]})", ErrorCode::unknown_skill, "field \"skills[1]\""},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","skills":{"tea":1}})", ErrorCode::unknown_skill, "field \"skills.tea\""},
        Refusal{R"({"t":1,"type":"presence_change","agent":1,"presence":"Available"})", ErrorCode::unknown_presence,
                "field \"presence\": unknown presence \"Available\" (declared: available, busy"},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"presence":"gone"})", ErrorCode::unknown_presence, "field \"presence\""},
        Refusal{R"({"t":1,"type":"capacity_change","agent":1,"capacity":{"profiles":{"video":1}}})", ErrorCode::unknown_profile,
                "field \"capacity.profiles.video\": unknown capacity profile \"video\" (declared: chat, voice)"}));

INSTANTIATE_TEST_SUITE_P(
    InvalidValues, JsonlRefusal,
    ::testing::Values(
        Refusal{R"({"t":-1,"type":"tick"})", V, "field \"t\": -1 is out of range"},
        Refusal{R"({"t":9223372036854775808,"type":"tick"})", V, "field \"t\""},
        Refusal{R"({"t":1,"type":"tick","seq":-1})", V, "field \"seq\""},
        Refusal{R"({"t":1,"type":"item_cancel","item":-4})", V, "field \"item\": id -4 is negative"},
        Refusal{R"({"t":1,"type":"offer_accept","item":1,"agent":""})", V, "field \"agent\": an id must not be empty"},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","affinity_agent":-1})", V, "field \"affinity_agent\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"skills":{"s1":-1}})", V, "field \"skills.s1\": -1 is out of range"},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"skills":{"s1":2147483648}})", V, "field \"skills.s1\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"capacity":{"units":-2}})", V, "field \"capacity.units\""},
        Refusal{R"({"t":1,"type":"capacity_change","agent":1,"capacity":{"profiles":{"voice":-1}}})", V, "field \"capacity.profiles.voice\""},
        Refusal{R"({"t":1,"type":"agent_upsert","agent":1,"shifts":[[-5,10]]})", V, "field \"shifts[0][0]\""},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","units":0})", V, "field \"units\": 0 is out of range (at least 1)"},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","created":-3})", V, "field \"created\""},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","skills":{"s1":-2}})", V, "field \"skills.s1\""},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","skills":["s1","s1"]})", V, "field \"skills[1]\": skill \"s1\" is listed twice"},
        Refusal{R"({"t":1,"type":"item_arrive","item":1,"queue":"VIP Support","attributes":{"n":9223372036854775808}})", V, "field \"attributes.n\""}));

TEST(JsonlDecode, EveryPrefixOfAValidLineIsRefusedNotThrown) {
  const std::string line =
      R"({"t":5,"type":"item_arrive","item":17,"queue":"VIP Support","attributes":{"customer":{"tier":"gold"}},"skills":{"s2":3}})";
  ASSERT_TRUE(decode_event(line, cfg()).has_value());
  for (std::size_t n = 0; n < line.size(); ++n) {
    const Result<Event> r = decode_event(std::string_view(line).substr(0, n), cfg());
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().code, ErrorCode::malformed_event);
  }
}

TEST(JsonlDecode, InvalidUtf8IsRefused) {
  const Result<Event> r = decode_event("{\"t\":1,\"type\":\"item_cancel\",\"item\":\"\xff\xfe\"}", cfg());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::malformed_event);
}

// ---- round trips -------------------------------------------------------------------------------

std::vector<Event> one_of_each() {
  AgentUpsert full;
  full.agent = "lesa";
  full.presence = kLunch;
  full.skills = std::vector<SkillLevel>{{3, 5}, {0, 0}};
  full.capacity = AgentCapacity{3, {2, 1}};
  full.attributes = Attributes{{"country", "US"}, {"tier", std::int64_t{-2}}};
  full.working = false;
  full.shifts = std::vector<Shift>{{0, 100}, {200, 300}};

  ItemArrive arrive;
  arrive.item = std::uint64_t{17};
  arrive.queue = kPhone;
  arrive.created = 10;
  arrive.last_message = 12;
  arrive.attributes = {{"customer.membership_level", "gold"}, {"priority", "High"}, {"n", std::int64_t{7}}};
  arrive.skills = {{2, 3}, {4, -1}};
  arrive.units = 2;
  arrive.affinity_agent = ExternalId(std::uint64_t{0});

  ItemArrive skill_list;
  skill_list.item = "chat-9";
  skill_list.skills = {{1, -1}, {9, -1}};

  ItemUpdate update;
  update.item = "chat-9";
  update.attributes = {{"priority", "Low"}, {"gone", std::monostate{}}, {"customer.tier", std::int64_t{3}}};
  update.last_message = 77;

  std::vector<EventBody> bodies = {
      full,
      AgentUpsert{ExternalId(std::uint64_t{42}), {}, {}, {}, {}, {}, {}},
      AgentUpsert{"empty", kAvailable, std::vector<SkillLevel>{}, AgentCapacity{0, {}}, Attributes{},
                  true, std::vector<Shift>{}},
      AgentRemove{"lesa"},
      PresenceChange{std::uint64_t{3}, kDoNotDisturb},
      CapacityChange{"lesa", AgentCapacity{1, {0, 0}}},
      CapacityChange{"lesa", AgentCapacity{4, {}}},
      JoinQueue{"lesa", kEmailQ},
      LeaveQueue{std::uint64_t{8}, kVip},
      arrive,
      skill_list,
      update,
      ItemUpdate{std::uint64_t{1}, {}, {}},
      ItemCancel{std::uint64_t{1}},
      ItemTransfer{"chat-9", kVip},
      ItemComplete{"chat-9"},
      OfferAccept{std::uint64_t{17}, "lesa"},
      OfferDecline{"x", std::uint64_t{0}},
      OfferTimeout{"x", "y"},
      ManualAssign{std::uint64_t{5}, std::uint64_t{6}},
      AgentPick{"5", "6"},
      Tick{},
  };
  std::vector<Event> events;
  std::uint64_t seq = 1;
  for (EventBody& body : bodies) events.push_back(Event{static_cast<Timestamp>(1000 * seq), seq * 3, std::move(body)});
  return events;
}

TEST(JsonlRoundTrip, EveryEventType) {
  std::set<std::size_t> types_seen;
  for (const Event& e : one_of_each()) {
    types_seen.insert(e.body.index());
    const std::string line = encode_event(e, cfg());
    SCOPED_TRACE(line);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    const Result<Event> back = decode_event(line, cfg(), 12345);
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_TRUE(e == *back);
    EXPECT_EQ(encode_event(*back, cfg()), line);  // and the encoding is stable
  }
  EXPECT_EQ(types_seen.size(), std::variant_size_v<EventBody>);
}

TEST(JsonlRoundTrip, DecodedLinesSurviveEncodeDecode) {
  const char* lines[] = {
      R"({"t":1,"type":"agent_upsert","agent":"a","skills":{"s9":1,"s0":2},"capacity":{"profiles":{"voice":2}}})",
      R"({"t":5,"type":"item_arrive","item":17,"queue":"VIP Support","attributes":{"customer":{"membership_level":"gold"}},"skills":{"s2":3,"s4":null}})",
      R"({"t":6,"type":"item_update","item":17,"attributes":{"customer":{"membership_level":null}}})",
  };
  for (const char* line : lines) {
    const Event e = decode_ok(line);
    const Result<Event> back = decode_event(encode_event(e, cfg()), cfg());
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_TRUE(e == *back) << line << "\n  " << encode_event(e, cfg());
  }
}

TEST(JsonlEncode, EventShape) {
  EXPECT_EQ(encode_event(Event{1000, 7, ItemArrive{std::uint64_t{17}, kVip, {}, {}, {{"customer.tier", "gold"}}, {{1, -1}}, {}, {}}}, cfg()),
            R"({"t":1000,"seq":7,"type":"item_arrive","item":17,"queue":"VIP Support","attributes":{"customer.tier":"gold"},"skills":["s1"]})");
  EXPECT_EQ(encode_event(Event{5, 1, PresenceChange{"lesa", kBusy}}, cfg()),
            R"({"t":5,"seq":1,"type":"presence_change","agent":"lesa","presence":"busy"})");
}

// ---- decisions ---------------------------------------------------------------------------------

Decision decision(DecisionKind kind, ExternalId item, QueueId queue) {
  Decision d;
  d.kind = kind;
  d.time = 1000;
  d.item = std::move(item);
  d.queue = queue;
  return d;
}

TEST(JsonlEncode, OfferByMethodNamesTheMethod) {
  Decision d = decision(DecisionKind::offer, std::uint64_t{17}, kVip);
  d.agent = "lesa";
  d.decided_by = DecidedBy::method;
  EXPECT_EQ(encode_decision(d, cfg()),
            R"({"t":1000,"decision":"offer","item":17,"agent":"lesa","queue":"VIP Support","by":"method","method":"round_robin"})");
}

TEST(JsonlEncode, OfferByRuleNamesTheRule) {
  Decision d = decision(DecisionKind::offer, "call-1", kPhone);
  d.agent = std::uint64_t{42};
  d.decided_by = DecidedBy::rule;
  d.rule = 1;
  EXPECT_EQ(encode_decision(d, cfg()),
            R"({"t":1000,"decision":"offer","item":"call-1","agent":42,"queue":"Phone Sales","by":"rule","rule":"fallback","rule_index":1})");
}

TEST(JsonlEncode, OfferByAffinity) {
  Decision d = decision(DecisionKind::offer, std::uint64_t{1}, kVip);
  d.agent = "ann";
  d.decided_by = DecidedBy::affinity;
  EXPECT_EQ(encode_decision(d, cfg()),
            R"({"t":1000,"decision":"offer","item":1,"agent":"ann","queue":"VIP Support","by":"affinity"})");
}

TEST(JsonlEncode, AssignedSaysHow) {
  for (const auto& [by, text] : {std::pair{DecidedBy::accepted, "accepted"}, std::pair{DecidedBy::manual, "manual"},
                                 std::pair{DecidedBy::pick, "pick"}}) {
    Decision d = decision(DecisionKind::assigned, std::uint64_t{1}, kEmailQ);
    d.agent = "ann";
    d.decided_by = by;
    EXPECT_EQ(encode_decision(d, cfg()),
              std::string(R"({"t":1000,"decision":"assigned","item":1,"agent":"ann","queue":"Billing Email","by":")") +
                  text + "\"}");
  }
}

TEST(JsonlEncode, RequeuedGivesTheReason) {
  Decision d = decision(DecisionKind::requeued, std::uint64_t{1}, kVip);
  d.agent = "serena";
  d.reason = RequeueReason::timed_out;
  EXPECT_EQ(encode_decision(d, cfg()),
            R"({"t":1000,"decision":"requeued","item":1,"agent":"serena","queue":"VIP Support","reason":"timed_out"})");
  d.reason = RequeueReason::declined;
  EXPECT_NE(encode_decision(d, cfg()).find(R"("reason":"declined")"), std::string::npos);
}

TEST(JsonlEncode, ParkedCancelledCompletedTransferred) {
  EXPECT_EQ(encode_decision(decision(DecisionKind::parked, std::uint64_t{1}, kVip), cfg()),
            R"({"t":1000,"decision":"parked","item":1,"queue":"VIP Support"})");
  EXPECT_EQ(encode_decision(decision(DecisionKind::cancelled, std::uint64_t{1}, kVip), cfg()),
            R"({"t":1000,"decision":"cancelled","item":1,"queue":"VIP Support"})");
  Decision withdrawn = decision(DecisionKind::cancelled, std::uint64_t{1}, kVip);
  withdrawn.agent = "ann";  // the offer it had open
  EXPECT_EQ(encode_decision(withdrawn, cfg()),
            R"({"t":1000,"decision":"cancelled","item":1,"agent":"ann","queue":"VIP Support"})");
  Decision done = decision(DecisionKind::completed, "c", kEmailQ);
  done.agent = std::uint64_t{9};
  EXPECT_EQ(encode_decision(done, cfg()),
            R"({"t":1000,"decision":"completed","item":"c","agent":9,"queue":"Billing Email"})");
  Decision moved = decision(DecisionKind::transferred, "c", kPhone);
  moved.from_queue = kVip;
  EXPECT_EQ(encode_decision(moved, cfg()),
            R"({"t":1000,"decision":"transferred","item":"c","queue":"Phone Sales","from":"VIP Support"})");
}

TEST(JsonlEncode, ErrorCarriesCodeMessageSeqAndEvent) {
  Decision d;
  d.kind = DecisionKind::error;
  d.time = 2000;
  d.error = ErrorCode::item_not_assigned;
  d.message = "item 5 is queued, not assigned";
  d.sequence = 13;
  d.offending = std::make_shared<const Event>(Event{2000, 13, ItemComplete{std::uint64_t{5}}});
  EXPECT_EQ(encode_decision(d, cfg()),
            R"({"t":2000,"decision":"error","seq":13,"code":"item_not_assigned","message":"item 5 is queued, not assigned","event":{"t":2000,"seq":13,"type":"item_complete","item":5}})");
  EXPECT_EQ(encode_decision(d, cfg(), 13),
            R"({"t":2000,"decision":"error","line":13,"seq":13,"code":"item_not_assigned","message":"item 5 is queued, not assigned","event":{"t":2000,"seq":13,"type":"item_complete","item":5}})");
}

TEST(JsonlEncode, DecodeErrorLine) {
  EXPECT_EQ(jsonl::encode_decode_error(Error{ErrorCode::malformed_event, "not valid JSON"}, 12, "{oops"),
            R"({"decision":"error","line":12,"code":"malformed_event","message":"not valid JSON","raw":"{oops"})");
  // Raw bytes that are not UTF-8 are replaced by U+FFFD, never thrown on.
  const std::string line = jsonl::encode_decode_error(Error{ErrorCode::malformed_event, "x"}, 1, "\xff\"");
  EXPECT_NE(line.find("\"raw\":\"\xEF\xBF\xBD\\\"\""), std::string::npos) << line;
}

TEST(JsonlEncode, OutOfRangeIdsStillEncode) {
  Decision d = decision(DecisionKind::offer, std::uint64_t{1}, 99);
  d.agent = std::uint64_t{0};
  d.decided_by = DecidedBy::rule;
  d.rule = 4;
  EXPECT_EQ(encode_decision(d, cfg()),
            R"({"t":1000,"decision":"offer","item":1,"agent":0,"queue":99,"by":"rule","rule_index":4})");
}

// Through the router: a refused event comes back as an error decision that re-encodes it.
TEST(JsonlWithRouter, RefusedEventIsReEncoded) {
  ReferenceRouter router(cfg());
  std::vector<Decision> out;
  const char* lines[] = {
      R"({"t":1,"type":"agent_upsert","agent":"ann","presence":"available","capacity":{"units":2,"profiles":{"chat":1,"voice":1}}})",
      R"({"t":1,"type":"join_queue","agent":"ann","queue":"VIP Support"})",
      R"({"t":2,"type":"item_arrive","item":7,"queue":"VIP Support"})",
      R"({"t":3,"type":"item_complete","item":7})",
  };
  std::uint64_t n = 0;
  for (const char* line : lines) router.apply(decode_event(line, cfg(), ++n).value(), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(encode_decision(out[0], cfg()),
            R"({"t":2,"decision":"offer","item":7,"agent":"ann","queue":"VIP Support","by":"method","method":"round_robin"})");
  const std::string error = encode_decision(out[1], cfg(), 4);
  EXPECT_EQ(error.rfind(R"({"t":3,"decision":"error","line":4,"seq":4,"code":"item_not_assigned","message":)", 0), 0u) << error;
  EXPECT_NE(error.find(R"("event":{"t":3,"seq":4,"type":"item_complete","item":7}})"), std::string::npos) << error;
}

}  // namespace
