// The shared-memory record codec (adapters/shm, docs/protocol.md "Payloads"): every event type
// round-trips with every optional field present and absent and with number and name ids; a
// closed-loop random stream (and the decisions and errors it makes) round-trips; hand-written
// golden bytes from docs/protocol.md decode and encode exactly, so the document and the code
// cannot drift apart; every prefix, a trailing byte and each thing the format forbids is refused
// with malformed_event and a message naming the field and its byte offset; the encoders refuse
// what the format cannot carry.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "random_stream.hpp"
#include "router_harness.hpp"
#include "switchboard/reference_router.hpp"
#include "switchboard/shm/record_codec.hpp"

namespace switchboard::shm {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::string hex(std::span<const std::uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    if (!out.empty()) out += ' ';
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes le(std::uint64_t v, int width) {
  Bytes out;
  for (int i = 0; i < width; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  return out;
}

Event make(Timestamp time, std::uint64_t sequence, EventBody body) {
  Event e;
  e.time = time;
  e.sequence = sequence;
  e.body = std::move(body);
  return e;
}

const std::string kLongestName(255, 'n');

AgentUpsert upsert(ExternalId agent) {
  AgentUpsert u;
  u.agent = std::move(agent);
  return u;
}

// Every event type, each optional field both present and absent, number and name ids, and the
// extremes of each integer width.
std::vector<Event> sample_events() {
  std::vector<Event> out;
  std::uint64_t seq = 1;
  auto add = [&](Timestamp t, EventBody body) { out.push_back(make(t, seq++, std::move(body))); };

  AgentUpsert full;
  full.agent = "Åsa Lindqvist-李";
  full.presence = 4;
  full.skills = std::vector<SkillLevel>{{0, 5}, {255, 0}, {65535, std::numeric_limits<std::int32_t>::min()}};
  full.capacity = AgentCapacity{3, {2, 0, -1}};
  full.attributes = Attributes{{"country", std::string("FR")}, {"level", std::int64_t{-7}}, {"", std::string()}};
  full.working = false;
  full.shifts = std::vector<Shift>{{0, 3'600'000}, {kNever, std::numeric_limits<Timestamp>::max()}};
  add(1000, full);
  add(std::numeric_limits<Timestamp>::min(), upsert(std::numeric_limits<std::uint64_t>::max()));
  // Each optional field alone, and empty lists (present but empty is not absent).
  {
    AgentUpsert u = upsert(ExternalId(7));
    u.presence = 0;
    add(1, u);
    u = upsert(ExternalId(7));
    u.skills = std::vector<SkillLevel>{};
    add(2, u);
    u = upsert(ExternalId(7));
    u.capacity = AgentCapacity{};
    add(3, u);
    u = upsert(ExternalId(7));
    u.attributes = Attributes{};
    add(4, u);
    u = upsert(ExternalId(7));
    u.working = true;
    add(5, u);
    u = upsert(ExternalId(7));
    u.shifts = std::vector<Shift>{};
    add(6, u);
  }
  add(10, AgentRemove{ExternalId(std::uint64_t{0})});
  add(11, AgentRemove{kLongestName});
  add(12, PresenceChange{"ana", 255});
  add(13, PresenceChange{ExternalId(3), 0});
  add(14, CapacityChange{"ana", AgentCapacity{std::numeric_limits<std::int32_t>::max(), {}}});
  add(15, CapacityChange{ExternalId(9), AgentCapacity{-1, std::vector<std::int32_t>(255, 1)}});
  add(16, JoinQueue{"ana", std::numeric_limits<QueueId>::max()});
  add(17, JoinQueue{ExternalId(4), 0});
  add(18, LeaveQueue{"ana", 3});
  add(19, LeaveQueue{ExternalId(4), 0});

  ItemArrive arrive;
  arrive.item = "case-0001";
  arrive.queue = 2;
  arrive.created = -5;
  arrive.last_message = 1'700'000'000'000;
  arrive.attributes = Attributes{{"customer.level", std::string("gold")},
                                 {"priority", std::int64_t{std::numeric_limits<std::int64_t>::max()}},
                                 {"subject", std::string(1000, 'x')}};
  arrive.skills = {{1, -1}, {2, 3}};
  arrive.units = 2;
  arrive.affinity_agent = "ana";
  add(20, arrive);
  arrive.affinity_agent = ExternalId(12);
  add(21, arrive);
  add(22, ItemArrive{ExternalId(1), 0, {}, {}, {}, {}, {}, {}});

  add(23, ItemUpdate{"case-0001", Attributes{{"priority", std::monostate{}}, {"tier", std::string("é")}}, 99});
  add(24, ItemUpdate{ExternalId(1), {}, {}});
  add(25, ItemCancel{"case-0001"});
  add(26, ItemCancel{ExternalId(1)});
  add(27, ItemTransfer{"case-0001", 4});
  add(28, ItemTransfer{ExternalId(1), 0});
  add(29, ItemComplete{"case-0001"});
  add(30, ItemComplete{ExternalId(1)});
  add(31, OfferAccept{ExternalId(17), "lesa"});
  add(32, OfferAccept{"case", ExternalId(2)});
  add(33, OfferDecline{ExternalId(17), "lesa"});
  add(34, OfferDecline{"case", ExternalId(2)});
  add(35, OfferTimeout{ExternalId(17), "lesa"});
  add(36, OfferTimeout{"case", ExternalId(2)});
  add(37, ManualAssign{ExternalId(17), "lesa"});
  add(38, ManualAssign{"case", ExternalId(2)});
  add(39, AgentPick{ExternalId(17), "lesa"});
  add(40, AgentPick{"case", ExternalId(2)});
  add(41, Tick{});
  return out;
}

struct Encoded {
  std::uint16_t type;
  Bytes payload;
};

Encoded encode_ok(const Event& event) {
  Bytes out;
  const Result<std::uint16_t> type = encode_event(event, out);
  EXPECT_TRUE(type.has_value()) << testing::describe(event) << ": " << (type ? "" : type.error().message);
  return Encoded{type ? *type : std::uint16_t{0}, std::move(out)};
}

Error decode_refused(std::uint16_t type, const Bytes& payload) {
  const Result<Event> got = decode_event(type, 1, payload);
  EXPECT_FALSE(got.has_value()) << "accepted: " << hex(payload);
  return got ? Error{} : got.error();
}

// Decoding `payload` fails with malformed_event and exactly `message`.
void expect_refused(std::uint16_t type, const Bytes& payload, const std::string& message) {
  const Error e = decode_refused(type, payload);
  EXPECT_EQ(e.code, ErrorCode::malformed_event);
  EXPECT_EQ(e.message, message);
}

void expect_round_trip(const Event& event) {
  const Encoded enc = encode_ok(event);
  ASSERT_EQ(enc.type, record_type_of(event.body));
  const Result<Event> back = decode_event(enc.type, event.sequence, enc.payload);
  ASSERT_TRUE(back.has_value()) << testing::describe(event) << ": " << back.error().message;
  EXPECT_EQ(*back, event) << testing::describe(event) << "\n came back as " << testing::describe(*back);
  // Canonical: the decoded event encodes to the same bytes.
  EXPECT_EQ(encode_ok(*back).payload, enc.payload);
}

// ---- round trips ------------------------------------------------------------------------------

TEST(ShmRecordCodec, EveryEventTypeRoundTrips) {
  std::set<std::uint16_t> types;
  for (const Event& event : sample_events()) {
    expect_round_trip(event);
    types.insert(record_type_of(event.body));
  }
  EXPECT_EQ(types.size(), 17u);
  EXPECT_EQ(*types.begin(), SB_REC_AGENT_UPSERT);
  EXPECT_EQ(*types.rbegin(), SB_REC_TICK);
}

TEST(ShmRecordCodec, RecordTypesFollowTheDocument) {
  EXPECT_EQ(record_type_of(AgentUpsert{}), 1);
  EXPECT_EQ(record_type_of(ItemArrive{}), 7);
  EXPECT_EQ(record_type_of(ItemUpdate{}), 8);
  EXPECT_EQ(record_type_of(OfferAccept{}), 12);
  EXPECT_EQ(record_type_of(Tick{}), 17);
}

TEST(ShmRecordCodec, EncodeAppendsToTheBuffer) {
  const Event a = make(1, 1, Tick{});
  const Event b = make(2, 2, ItemCancel{ExternalId(5)});
  Bytes out;
  ASSERT_TRUE(encode_event(a, out).has_value());
  const std::size_t first = out.size();
  ASSERT_TRUE(encode_event(b, out).has_value());
  EXPECT_EQ(first, 8u);
  const Result<Event> back = decode_event(SB_REC_ITEM_CANCEL, 2, std::span(out).subspan(first));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, b);
}

// A closed-loop random stream (tests/support/random_stream.hpp) against the reference router:
// every event round-trips, and so does every decision and error the stream makes.
TEST(ShmRecordCodec, RandomStreamRoundTrips) {
  std::size_t decisions = 0;
  std::size_t errors = 0;
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    testing::Rng rng(seed);
    const Config config = testing::random_rich_config(rng);
    ReferenceRouter router(config);
    testing::StreamGenerator generator(seed, config);
    std::vector<Decision> made;
    Bytes payload;
    for (int i = 0; i < 20'000; ++i) {
      const Event event = generator.next(router);
      payload.clear();
      const Result<std::uint16_t> type = encode_event(event, payload);
      ASSERT_TRUE(type.has_value()) << "seed " << seed << " event " << i << ": " << type.error().message;
      const Result<Event> back = decode_event(*type, event.sequence, payload);
      ASSERT_TRUE(back.has_value()) << "seed " << seed << " event " << i << ": " << back.error().message;
      ASSERT_EQ(*back, event) << "seed " << seed << " event " << i << ": " << testing::describe(event);

      made.clear();
      router.apply(event, made);
      for (const Decision& d : made) {
        payload.clear();
        if (d.kind == DecisionKind::error) {
          encode_error(d.error, *type, d.message, payload);
          const Result<DecodedError> e = decode_error(payload);
          ASSERT_TRUE(e.has_value()) << e.error().message;
          EXPECT_EQ(e->code, d.error);
          EXPECT_EQ(e->record_type, *type);
          EXPECT_EQ(e->message, d.message);
          ++errors;
          continue;
        }
        const DecisionCause cause{static_cast<std::uint16_t>(i % 7), event.sequence};
        encode_decision(d, cause, payload);
        const Result<DecodedDecision> got = decode_decision(payload);
        ASSERT_TRUE(got.has_value()) << got.error().message;
        EXPECT_TRUE(got->decision.same_decision(d))
            << "seed " << seed << " event " << i << ": a " << to_string(d.kind) << " decision";
        EXPECT_EQ(got->cause, cause);
        ++decisions;
      }
      generator.observe(event, made);
    }
  }
  EXPECT_GT(decisions, 1000u);
  EXPECT_GT(errors, 100u);
}

// ---- golden bytes, written by hand from docs/protocol.md ----------------------------------------

void expect_golden(const Event& event, std::uint16_t type, const Bytes& golden) {
  const Encoded enc = encode_ok(event);
  EXPECT_EQ(enc.type, type);
  EXPECT_EQ(hex(enc.payload), hex(golden));
  const Result<Event> back = decode_event(type, event.sequence, golden);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, event);
}

TEST(ShmRecordCodec, GoldenOfferAccept) {
  // Type 12: i64 time, id item (kind 0, u64), id agent (kind 1, u16 length, bytes).
  const Bytes golden = {
      0xe8, 0x03, 0, 0, 0, 0, 0, 0,           // time 1000
      0x00, 0x11, 0, 0, 0, 0, 0, 0, 0,        // item: number 17
      0x01, 0x04, 0x00, 'l', 'e', 's', 'a',   // agent: name "lesa"
  };
  expect_golden(make(1000, 5, OfferAccept{ExternalId(17), "lesa"}), 12, golden);
}

TEST(ShmRecordCodec, GoldenItemArrive) {
  ItemArrive a;
  a.item = "c-1";
  a.queue = 2;
  a.last_message = 7;
  a.attributes = Attributes{{"priority", std::int64_t{3}}, {"tier", std::string("gold")}};
  a.skills = {{1, -1}};
  a.affinity_agent = ExternalId(42);
  const Bytes golden = concat({
      {0x05, 0, 0, 0, 0, 0, 0, 0},                  // time 5
      {0x01, 0x03, 0x00, 'c', '-', '1'},            // item: name "c-1"
      {0x02, 0, 0, 0},                              // queue 2
      {0x00},                                       // created: absent
      {0x01, 0x07, 0, 0, 0, 0, 0, 0, 0},            // last_message: 7
      {0x02, 0x00},                                 // attributes: 2
      {0x08, 0x00}, text("priority"), {0x01},       //   "priority": kind 1 (i64)
      {0x03, 0, 0, 0, 0, 0, 0, 0},                  //   3
      {0x04, 0x00}, text("tier"), {0x02},           //   "tier": kind 2 (str)
      {0x04, 0x00}, text("gold"),                   //   "gold"
      {0x01, 0x00},                                 // skills: 1
      {0x01, 0x00, 0xff, 0xff, 0xff, 0xff},         //   skill 1, minimum -1 (any)
      {0x00},                                       // units: absent
      {0x01, 0x00, 0x2a, 0, 0, 0, 0, 0, 0, 0},      // affinity_agent: number 42
  });
  expect_golden(make(5, 6, a), 7, golden);
}

TEST(ShmRecordCodec, GoldenAgentUpsert) {
  AgentUpsert u;
  u.agent = ExternalId(1);
  u.presence = 0;
  u.capacity = AgentCapacity{3, {2, 1}};
  u.working = true;
  const Bytes golden = concat({
      le(static_cast<std::uint64_t>(-1), 8),        // time -1
      {0x00}, le(1, 8),                             // agent: number 1
      {0x01, 0x00},                                 // presence: 0
      {0x00},                                       // skills: absent
      {0x01}, le(3, 4), {0x02}, le(2, 4), le(1, 4), // capacity: 3 units, profiles {2, 1}
      {0x00},                                       // attributes: absent
      {0x01, 0x01},                                 // working: true
      {0x00},                                       // shifts: absent
  });
  expect_golden(make(-1, 7, u), 1, golden);
}

TEST(ShmRecordCodec, GoldenDecisionErrorAckNotice) {
  Decision d;
  d.kind = DecisionKind::offer;
  d.decided_by = DecidedBy::rule;
  d.rule = 2;
  d.time = 1000;
  d.item = ExternalId(17);
  d.agent = ExternalId("lesa");
  d.queue = 3;
  Bytes out;
  encode_decision(d, DecisionCause{1, 9}, out);
  const Bytes decision = concat({
      {0x00, 0x03, 0x00, 0x00},   // kind offer, decided_by rule, reason none, 0
      {0x02, 0x00},               // rule 2
      {0x01, 0x00},               // cause_slot 1
      le(9, 8),                   // cause_sequence 9
      le(1000, 8),                // time 1000
      le(3, 4), le(0, 4),         // queue 3, from_queue 0
      {0x00}, le(17, 8),          // item: number 17
      {0x01, 0x01, 0x04, 0x00}, text("lesa"),  // agent: present, name "lesa"
  });
  EXPECT_EQ(hex(out), hex(decision));

  out.clear();
  encode_error(ErrorCode::unknown_agent, SB_REC_OFFER_ACCEPT, "no agent \"x\"", out);
  EXPECT_EQ(hex(out), hex(concat({{0x02, 0x00, 0x0c, 0x00, 0x0c, 0x00}, text("no agent \"x\"")})));

  out.clear();
  encode_ack(3, out);
  EXPECT_EQ(hex(out), hex(Bytes{0x03, 0x00}));

  out.clear();
  encode_notice(NoticeCode::ring_reset, "reset", out);
  EXPECT_EQ(hex(out), hex(concat({{0x01, 0x00, 0x05, 0x00}, text("reset")})));
}

// ---- refusals ---------------------------------------------------------------------------------

TEST(ShmRecordCodec, EveryTruncationIsRefused) {
  for (const Event& event : sample_events()) {
    const Encoded enc = encode_ok(event);
    const std::string name(event_type_name(event.body));
    for (std::size_t n = 0; n < enc.payload.size(); ++n) {
      // A copy of exactly n bytes, so that ASan sees any read past the end.
      const Bytes prefix(enc.payload.begin(), enc.payload.begin() + static_cast<std::ptrdiff_t>(n));
      const Result<Event> got = decode_event(enc.type, 1, prefix);
      ASSERT_FALSE(got.has_value()) << name << " prefix of " << n << " bytes accepted";
      EXPECT_EQ(got.error().code, ErrorCode::malformed_event);
      EXPECT_EQ(got.error().message.rfind(name + ": field \"", 0), 0u) << got.error().message;
    }
  }
}

TEST(ShmRecordCodec, TruncationMessageNamesFieldAndOffset) {
  // item_arrive with a 10-byte name: time 0..7, kind 8, length 9..10, name 11..20, queue at 21.
  Bytes payload = encode_ok(make(1, 1, ItemArrive{"0123456789", 3, {}, {}, {}, {}, {}, {}})).payload;
  payload.resize(21);
  expect_refused(SB_REC_ITEM_ARRIVE, payload, "item_arrive: field \"queue\" at byte 21: payload ends after 21 bytes");
  payload.resize(23, 0);
  expect_refused(SB_REC_ITEM_ARRIVE, payload, "item_arrive: field \"queue\" at byte 21: payload ends after 23 bytes");
  payload.resize(15);
  expect_refused(SB_REC_ITEM_ARRIVE, payload,
                 "item_arrive: field \"item\" at byte 11: a name of 10 bytes, but the payload ends after 15 bytes");
}

TEST(ShmRecordCodec, TrailingBytesAreRefused) {
  for (const Event& event : sample_events()) {
    Encoded enc = encode_ok(event);
    enc.payload.push_back(0);
    const Error e = decode_refused(enc.type, enc.payload);
    EXPECT_EQ(e.code, ErrorCode::malformed_event);
    EXPECT_NE(e.message.find("1 bytes left over after the last field"), std::string::npos) << e.message;
  }
  expect_refused(SB_REC_TICK, Bytes(9, 0), "tick: 1 bytes left over after the last field (at byte 8 of 9)");
}

// offer_accept item 17, agent "lesa" at 1000 (GoldenOfferAccept), with one byte changed.
Bytes offer_accept_bytes() {
  return {0xe8, 0x03, 0, 0, 0, 0, 0, 0, 0x00, 0x11, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x04, 0x00, 'l', 'e', 's', 'a'};
}

TEST(ShmRecordCodec, BadIdsAreRefused) {
  Bytes b = offer_accept_bytes();
  b[8] = 2;
  expect_refused(SB_REC_OFFER_ACCEPT, b, "offer_accept: field \"item\" at byte 8: id kind 2 is neither 0 (number) nor 1 (name)");
  b = offer_accept_bytes();
  b[17] = 0xff;
  expect_refused(SB_REC_OFFER_ACCEPT, b,
                 "offer_accept: field \"agent\" at byte 17: id kind 255 is neither 0 (number) nor 1 (name)");

  // A name of length 0, and of 256 bytes (all there).
  const Bytes head = {0xe8, 0x03, 0, 0, 0, 0, 0, 0, 0x00, 0x11, 0, 0, 0, 0, 0, 0, 0};
  expect_refused(SB_REC_OFFER_ACCEPT, concat({head, {0x01, 0x00, 0x00}}),
                 "offer_accept: field \"agent\" at byte 18: a name id has 1 to 255 bytes, not 0");
  expect_refused(SB_REC_OFFER_ACCEPT, concat({head, {0x01, 0x00, 0x01}, Bytes(256, 'a')}),
                 "offer_accept: field \"agent\" at byte 18: a name id has 1 to 255 bytes, not 256");
  // 255 is the longest.
  EXPECT_TRUE(decode_event(SB_REC_OFFER_ACCEPT, 1, concat({head, {0x01, 0xff, 0x00}, Bytes(255, 'a')})).has_value());

  // Not UTF-8: a lone continuation byte, an overlong '/', a surrogate.
  for (const Bytes& bad : {Bytes{'l', 0x80, 's', 'a'}, Bytes{'l', 0xc0, 0xaf, 'a'}, Bytes{0xed, 0xa0, 0x80, 'a'}}) {
    const Error e = decode_refused(SB_REC_OFFER_ACCEPT, concat({head, {0x01, 0x04, 0x00}, bad}));
    EXPECT_EQ(e.code, ErrorCode::malformed_event);
    EXPECT_NE(e.message.find("field \"agent\""), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("not valid UTF-8"), std::string::npos) << e.message;
  }
}

TEST(ShmRecordCodec, BadFlagsAndKindsAreRefused) {
  // agent_upsert, agent 1, everything absent but working: time 0..7, id 8..16, presence 17,
  // skills 18, capacity 19, attributes 20, working 21..22, shifts 23.
  AgentUpsert u = upsert(ExternalId(1));
  u.working = true;
  const Bytes good = encode_ok(make(0, 1, u)).payload;
  ASSERT_EQ(good.size(), 24u);
  Bytes b = good;
  b[22] = 2;
  expect_refused(SB_REC_AGENT_UPSERT, b, "agent_upsert: field \"working\" at byte 22: 2 is not a bool (0 or 1)");
  b = good;
  b[17] = 3;
  expect_refused(SB_REC_AGENT_UPSERT, b,
                 "agent_upsert: field \"presence\" at byte 17: 3 is not 0 (absent) or 1 (present), the first byte "
                 "of an optional field");

  // Attribute kind 3; kind 0 (remove) outside item_update.
  ItemArrive a{ExternalId(1), 0, {}, {}, Attributes{{"k", std::int64_t{1}}}, {}, {}, {}};
  const Bytes arrive = encode_ok(make(0, 1, a)).payload;
  const std::size_t kind_at = 8 + 9 + 4 + 1 + 1 + 2 + 2 + 1;  // time, item, queue, created, last, count, key
  ASSERT_EQ(arrive[kind_at], 1);
  b = arrive;
  b[kind_at] = 3;
  expect_refused(SB_REC_ITEM_ARRIVE, b,
                 "item_arrive: field \"attributes[0].kind\" at byte 28: 3 is not an attribute kind (0 none, 1 "
                 "integer, 2 string)");
  b = arrive;
  b[kind_at] = 0;
  b.erase(b.begin() + static_cast<std::ptrdiff_t>(kind_at) + 1, b.begin() + static_cast<std::ptrdiff_t>(kind_at) + 9);
  expect_refused(SB_REC_ITEM_ARRIVE, b,
                 "item_arrive: field \"attributes[0].kind\" at byte 28: kind 0 (no value, which removes an "
                 "attribute) is allowed in item_update only");
}

TEST(ShmRecordCodec, AttributeKeysMustAscend) {
  // item_update "i", attributes "b" = 1 then "a" = 1 (out of order), then "a", "a" (repeated).
  auto update = [](char first, char second) {
    return concat({le(0, 8), {0x01, 0x01, 0x00, 'i'}, {0x02, 0x00},
                   {0x01, 0x00, static_cast<std::uint8_t>(first), 0x01}, le(1, 8),
                   {0x01, 0x00, static_cast<std::uint8_t>(second), 0x01}, le(1, 8), {0x00}});
  };
  EXPECT_TRUE(decode_event(SB_REC_ITEM_UPDATE, 1, update('a', 'b')).has_value());
  expect_refused(SB_REC_ITEM_UPDATE, update('b', 'a'),
                 "item_update: field \"attributes[1].key\" at byte 26: keys must be in strictly ascending byte "
                 "order, and \"a\" follows \"b\"");
  expect_refused(SB_REC_ITEM_UPDATE, update('a', 'a'),
                 "item_update: field \"attributes[1].key\" at byte 26: keys must be in strictly ascending byte "
                 "order, and \"a\" follows \"a\"");
}

TEST(ShmRecordCodec, HugeCountsAreRefusedBeforeAllocating) {
  // item_arrive with 65,535 requirements in a 30-byte payload.
  const Bytes b = concat({le(0, 8), {0x00}, le(1, 8), le(0, 4), {0x00, 0x00}, {0x00, 0x00}, {0xff, 0xff}});
  expect_refused(SB_REC_ITEM_ARRIVE, b,
                 "item_arrive: field \"skills\" at byte 25: 65535 entries take at least 393210 more bytes, but the "
                 "payload ends after 27 bytes");
}

TEST(ShmRecordCodec, UnknownRecordTypesAreRefused) {
  for (const std::uint16_t type : {0, 18, 0x100, 0xffff}) {
    const Error e = decode_refused(type, Bytes(8, 0));
    EXPECT_EQ(e.code, ErrorCode::malformed_event);
    EXPECT_EQ(e.message, "record type " + std::to_string(type) + " is not an event (events are types 1 to 17)");
  }
}

TEST(ShmRecordCodec, EncodeRefusesWhatTheFormatCannotCarry) {
  const Bytes before = {1, 2, 3};
  auto refused = [&](const Event& event, const std::string& message) {
    Bytes out = before;
    const Result<std::uint16_t> r = encode_event(event, out);
    ASSERT_FALSE(r.has_value()) << message;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_value);
    EXPECT_EQ(r.error().message, message);
    EXPECT_EQ(out, before);  // unchanged
  };
  refused(make(0, 1, OfferAccept{ExternalId(1), std::string(256, 'a')}),
          "offer_accept: field \"agent\": a name id has 1 to 255 bytes, not 256");
  refused(make(0, 1, ItemCancel{std::string()}), "item_cancel: field \"item\": a name id has 1 to 255 bytes, not 0");
  refused(make(0, 1, ItemCancel{std::string("\xff")}), "item_cancel: field \"item\": a name must be valid UTF-8");
  refused(make(0, 1, CapacityChange{ExternalId(1), AgentCapacity{1, std::vector<std::int32_t>(256, 0)}}),
          "capacity_change: field \"capacity.profiles\": 256 entries; the format holds at most 255");
  refused(make(0, 1, ItemArrive{ExternalId(1), 0, {}, {}, Attributes{{"a", std::monostate{}}}, {}, {}, {}}),
          "item_arrive: field \"attributes[0].value\": no value (which removes an attribute) is allowed in "
          "item_update only");
  refused(make(0, 1, ItemUpdate{ExternalId(1), Attributes{{"a", std::string(65536, 'x')}}, {}}),
          "item_update: field \"attributes[0].value\": a string of 65536 bytes; the format holds at most 65,535");
  AgentUpsert u = upsert(ExternalId(1));
  u.skills = std::vector<SkillLevel>(65536);
  refused(make(0, 1, u), "agent_upsert: field \"skills\": 65536 entries; the format holds at most 65535");
}

// ---- outbound records ---------------------------------------------------------------------------

TEST(ShmRecordCodec, DecisionsRoundTrip) {
  const DecisionKind kinds[] = {DecisionKind::offer,     DecisionKind::assigned,  DecisionKind::requeued,
                                DecisionKind::parked,    DecisionKind::cancelled, DecisionKind::completed,
                                DecisionKind::transferred};
  std::uint16_t n = 0;
  for (const DecisionKind kind : kinds) {
    for (const bool with_agent : {false, true}) {
      Decision d;
      d.kind = kind;
      d.time = -static_cast<Timestamp>(n) * 1000;
      d.item = n % 2 ? ExternalId(std::numeric_limits<std::uint64_t>::max()) : ExternalId(kLongestName);
      if (with_agent) d.agent = n % 4 < 2 ? ExternalId("ana") : ExternalId(std::uint64_t{0});
      d.queue = n;
      d.from_queue = std::numeric_limits<QueueId>::max() - n;
      d.decided_by = static_cast<DecidedBy>(n % 7);
      d.rule = static_cast<std::uint16_t>(65535 - n);
      d.reason = static_cast<RequeueReason>(n % 3);
      const DecisionCause cause{n, std::uint64_t{1} << n};
      Bytes out;
      encode_decision(d, cause, out);
      const Result<DecodedDecision> got = decode_decision(out);
      ASSERT_TRUE(got.has_value()) << got.error().message;
      EXPECT_TRUE(got->decision.same_decision(d)) << to_string(kind);
      EXPECT_EQ(got->decision.agent, d.agent);
      EXPECT_EQ(got->cause, cause);
      for (std::size_t k = 0; k < out.size(); ++k) {
        const Bytes prefix(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(k));
        const Result<DecodedDecision> cut = decode_decision(prefix);
        ASSERT_FALSE(cut.has_value());
        EXPECT_EQ(cut.error().code, ErrorCode::malformed_event);
      }
      out.push_back(0);
      EXPECT_FALSE(decode_decision(out).has_value());
      ++n;
    }
  }
}

TEST(ShmRecordCodec, BadDecisionsAreRefused) {
  Decision d;
  d.item = ExternalId(1);
  Bytes good;
  encode_decision(d, {}, good);
  auto refused = [&](std::size_t at, std::uint8_t value, const std::string& message) {
    Bytes b = good;
    b[at] = value;
    const Result<DecodedDecision> got = decode_decision(b);
    ASSERT_FALSE(got.has_value()) << message;
    EXPECT_EQ(got.error().code, ErrorCode::malformed_event);
    EXPECT_EQ(got.error().message, message);
  };
  refused(0, 7, "decision: field \"kind\" at byte 0: 7 is not a decision kind (0 offer .. 6 transferred)");
  refused(1, 7, "decision: field \"decided_by\" at byte 1: 7 is not a decided_by (0 none .. 6 accepted)");
  refused(2, 3, "decision: field \"reason\" at byte 2: 3 is not a reason (0 none, 1 declined, 2 timed out)");
  refused(3, 1, "decision: field \"reserved\" at byte 3: must be 0, not 1");
  refused(32, 5, "decision: field \"item\" at byte 32: id kind 5 is neither 0 (number) nor 1 (name)");
  refused(41, 2,
          "decision: field \"agent\" at byte 41: 2 is not 0 (absent) or 1 (present), the first byte of an optional "
          "field");
}

TEST(ShmRecordCodec, ErrorsAcksAndNoticesRoundTrip) {
  for (std::uint16_t code = 1; code <= static_cast<std::uint16_t>(ErrorCode::config_io); ++code) {
    Bytes out;
    encode_error(static_cast<ErrorCode>(code), code, "why: " + std::to_string(code), out);
    const Result<DecodedError> got = decode_error(out);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(got->code, static_cast<ErrorCode>(code));
    EXPECT_EQ(got->record_type, code);
    EXPECT_EQ(got->message, "why: " + std::to_string(code));
    for (std::size_t k = 0; k < out.size(); ++k) {
      EXPECT_FALSE(decode_error(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(k))).has_value());
    }
  }
  for (const std::uint16_t slot : {0, 1, 65535}) {
    Bytes out;
    encode_ack(slot, out);
    const Result<std::uint16_t> got = decode_ack(out);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(*got, slot);
    out.push_back(0);
    EXPECT_FALSE(decode_ack(out).has_value());
  }
  EXPECT_FALSE(decode_ack(Bytes{1}).has_value());
  {
    Bytes out;
    encode_notice(NoticeCode::ring_reset, "ring reset: record stuck 1.2 s", out);
    const Result<DecodedNotice> got = decode_notice(out);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    EXPECT_EQ(got->code, NoticeCode::ring_reset);
    EXPECT_EQ(got->message, "ring reset: record stuck 1.2 s");
    out.push_back(0);
    EXPECT_FALSE(decode_notice(out).has_value());
  }
  // Unknown codes.
  const Result<DecodedError> zero = decode_error(Bytes{0, 0, 1, 0, 0, 0});
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().message, "error: field \"code\" at byte 0: 0 is not an error code (1 to 26)");
  const Result<DecodedNotice> two = decode_notice(Bytes{2, 0, 0, 0});
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().message, "notice: field \"code\" at byte 0: 2 is not a notice code (1 ring reset)");
}

TEST(ShmRecordCodec, MessagesAreCutAndMadeValidUtf8) {
  // 'é' is 2 bytes: 40,000 of them (80,000 bytes) are cut at a character boundary below 65,535.
  std::string long_message;
  for (int i = 0; i < 40'000; ++i) long_message += "é";
  Bytes out;
  encode_error(ErrorCode::invalid_value, 1, long_message, out);
  Result<DecodedError> got = decode_error(out);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->message.size(), 65'534u);
  EXPECT_EQ(got->message, long_message.substr(0, 65'534));

  // Invalid bytes become '?', so that a host's decoder does not refuse the record.
  out.clear();
  encode_notice(NoticeCode::ring_reset, std::string("a\xff" "b\xc3", 4), out);
  const Result<DecodedNotice> notice = decode_notice(out);
  ASSERT_TRUE(notice.has_value()) << notice.error().message;
  EXPECT_EQ(notice->message, "a?b?");
}

}  // namespace
}  // namespace switchboard::shm
