// The C client's payload helpers (adapters/shm/client/encode.c) against the daemon's record
// codec (switchboard::shm, record_codec.hpp): every ready-made encoder writes exactly the bytes
// encode_event writes for the same event, and decode_event reads them back as that event; the
// C decoders read what encode_decision, encode_error, encode_ack and encode_notice write; and
// every truncated, over-long or out-of-range input is refused. Then the client itself against an
// in-process shm::Server on its own thread: handshakes, round trips, errors, back-pressure, a
// stuck record's reset, detach and a stopped daemon.

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "router_harness.hpp"
#include "shm_test_host.hpp"
#include "switchboard/shm/client.h"
#include "switchboard/shm/record_codec.hpp"
#include "switchboard/shm/server.hpp"

namespace {

using namespace switchboard;
using Bytes = std::vector<std::uint8_t>;

// A C encoder over a buffer big enough for any test event.
struct CEncoder {
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(4096);
  sb_encoder e{};
  CEncoder() { sb_enc_init(&e, buffer.data(), buffer.size()); }
  [[nodiscard]] Bytes bytes() const { return Bytes(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(e.size)); }
};

Bytes cpp_bytes(const Event& event) {
  Bytes out;
  const auto type = shm::encode_event(event, out);
  EXPECT_TRUE(type.has_value()) << (type ? "" : type.error().message);
  return out;
}

// The C bytes are the C++ encoder's bytes, decode to `expected`, and carry the record type.
void expect_event(const Bytes& c_bytes, std::uint16_t type, const Event& expected) {
  EXPECT_EQ(c_bytes, cpp_bytes(expected));
  Bytes cpp_out;
  const auto cpp_type = shm::encode_event(expected, cpp_out);
  ASSERT_TRUE(cpp_type.has_value());
  EXPECT_EQ(*cpp_type, type);
  const Result<Event> decoded = shm::decode_event(type, 42, c_bytes);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  Event want = expected;
  want.sequence = 42;
  EXPECT_EQ(decoded.value(), want);
  // Every proper prefix is refused by the daemon's decoder.
  for (std::size_t n = 0; n < c_bytes.size(); ++n) {
    EXPECT_FALSE(shm::decode_event(type, 42, std::span(c_bytes.data(), n)).has_value()) << "prefix " << n;
  }
}

// Encoding into every buffer smaller than the payload fails with SB_ERR_TOO_BIG and never
// writes past the buffer.
template <typename Encode>
void expect_overflow_refused(std::size_t full_size, Encode encode) {
  for (std::size_t cap = 0; cap < full_size; ++cap) {
    std::vector<std::uint8_t> buffer(cap + 16, 0xAB);
    sb_encoder e;
    sb_enc_init(&e, buffer.data(), cap);
    EXPECT_EQ(encode(&e), SB_ERR_TOO_BIG) << "capacity " << cap;
    EXPECT_LE(e.size, cap);
    for (std::size_t i = cap; i < buffer.size(); ++i) ASSERT_EQ(buffer[i], 0xAB) << "wrote past the buffer at " << i;
  }
}

Event event_at(Timestamp t, EventBody body) {
  Event e;
  e.time = t;
  e.body = std::move(body);
  return e;
}

// --- encoders ----------------------------------------------------------------------------------

TEST(ShmCClientEncode, ItemArriveWithSkills) {
  const sb_requirement skills[] = {{2, 3}, {6, -1}};
  CEncoder c;
  ASSERT_EQ(sb_encode_item_arrive(&c.e, 1000, sb_id_number(17), 4, skills, 2), SB_OK);
  ItemArrive body;
  body.item = ExternalId(std::uint64_t{17});
  body.queue = 4;
  body.skills = {{2, 3}, {6, -1}};
  expect_event(c.bytes(), SB_REC_ITEM_ARRIVE, event_at(1000, body));
  expect_overflow_refused(c.e.size, [&](sb_encoder* e) {
    return sb_encode_item_arrive(e, 1000, sb_id_number(17), 4, skills, 2);
  });
}

TEST(ShmCClientEncode, ItemArriveWithoutSkills) {
  CEncoder c;
  ASSERT_EQ(sb_encode_item_arrive(&c.e, 5, sb_id_name("chat-9"), 0, nullptr, 0), SB_OK);
  ItemArrive body;
  body.item = ExternalId("chat-9");
  expect_event(c.bytes(), SB_REC_ITEM_ARRIVE, event_at(5, body));
}

TEST(ShmCClientEncode, ItemArriveEveryField) {
  const sb_attribute attributes[] = {
      {"customer.membership_level", SB_ATTR_STRING, 0, "gold"},
      {"priority", SB_ATTR_INT, -7, nullptr},
  };
  const sb_requirement skills[] = {{1, 0}};
  sb_item_arrive a{};
  a.has_created = 1;
  a.created = 900;
  a.has_last_message = 1;
  a.last_message = 950;
  a.attributes = attributes;
  a.attribute_count = 2;
  a.skills = skills;
  a.skill_count = 1;
  a.has_units = 1;
  a.units = 2;
  a.has_affinity_agent = 1;
  a.affinity_agent = sb_id_name("lesa");
  CEncoder c;
  ASSERT_EQ(sb_encode_item_arrive_ex(&c.e, 1000, sb_id_number(UINT64_MAX), 3, &a), SB_OK);
  ItemArrive body;
  body.item = ExternalId(UINT64_MAX);
  body.queue = 3;
  body.created = 900;
  body.last_message = 950;
  body.attributes = {{"customer.membership_level", std::string("gold")}, {"priority", std::int64_t{-7}}};
  body.skills = {{1, 0}};
  body.units = 2;
  body.affinity_agent = ExternalId("lesa");
  expect_event(c.bytes(), SB_REC_ITEM_ARRIVE, event_at(1000, body));
}

TEST(ShmCClientEncode, OfferAcceptAndDecline) {
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_offer_accept(&c.e, 8, sb_id_number(17), sb_id_name("lesa")), SB_OK);
    expect_event(c.bytes(), SB_REC_OFFER_ACCEPT,
                 event_at(8, OfferAccept{ExternalId(std::uint64_t{17}), ExternalId("lesa")}));
  }
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_offer_decline(&c.e, 9, sb_id_name("x"), sb_id_number(0)), SB_OK);
    expect_event(c.bytes(), SB_REC_OFFER_DECLINE,
                 event_at(9, OfferDecline{ExternalId("x"), ExternalId(std::uint64_t{0})}));
  }
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_offer_timeout(&c.e, 9, sb_id_name("x"), sb_id_number(3)), SB_OK);
    expect_event(c.bytes(), SB_REC_OFFER_TIMEOUT,
                 event_at(9, OfferTimeout{ExternalId("x"), ExternalId(std::uint64_t{3})}));
  }
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_manual_assign(&c.e, 9, sb_id_name("x"), sb_id_number(3)), SB_OK);
    expect_event(c.bytes(), SB_REC_MANUAL_ASSIGN,
                 event_at(9, ManualAssign{ExternalId("x"), ExternalId(std::uint64_t{3})}));
  }
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_agent_pick(&c.e, 9, sb_id_name("x"), sb_id_number(3)), SB_OK);
    expect_event(c.bytes(), SB_REC_AGENT_PICK,
                 event_at(9, AgentPick{ExternalId("x"), ExternalId(std::uint64_t{3})}));
  }
  expect_overflow_refused(8 + 9 + 7, [](sb_encoder* e) {
    return sb_encode_offer_accept(e, 8, sb_id_number(17), sb_id_name("lesa"));
  });
}

TEST(ShmCClientEncode, ItemLifecycle) {
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_item_complete(&c.e, 12, sb_id_name("chat-1")), SB_OK);
    expect_event(c.bytes(), SB_REC_ITEM_COMPLETE, event_at(12, ItemComplete{ExternalId("chat-1")}));
  }
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_item_cancel(&c.e, 12, sb_id_number(5)), SB_OK);
    expect_event(c.bytes(), SB_REC_ITEM_CANCEL, event_at(12, ItemCancel{ExternalId(std::uint64_t{5})}));
  }
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_item_transfer(&c.e, 12, sb_id_number(5), 2), SB_OK);
    expect_event(c.bytes(), SB_REC_ITEM_TRANSFER, event_at(12, ItemTransfer{ExternalId(std::uint64_t{5}), 2}));
  }
  {
    const sb_attribute attributes[] = {{"priority", SB_ATTR_STRING, 0, "Low"}, {"tag", SB_ATTR_NONE, 0, nullptr}};
    CEncoder c;
    ASSERT_EQ(sb_encode_item_update(&c.e, 13, sb_id_number(5), attributes, 2, 1, 77), SB_OK);
    ItemUpdate body;
    body.item = ExternalId(std::uint64_t{5});
    body.attributes = {{"priority", std::string("Low")}, {"tag", std::monostate{}}};
    body.last_message = 77;
    expect_event(c.bytes(), SB_REC_ITEM_UPDATE, event_at(13, body));
  }
}

TEST(ShmCClientEncode, PresenceChange) {
  CEncoder c;
  ASSERT_EQ(sb_encode_presence_change(&c.e, 3, sb_id_name("lesa"), 5), SB_OK);
  expect_event(c.bytes(), SB_REC_PRESENCE_CHANGE, event_at(3, PresenceChange{ExternalId("lesa"), 5}));
}

TEST(ShmCClientEncode, AgentUpsertWithPresenceCapacityAndSkills) {
  const sb_skill_level skills[] = {{2, 5}, {0, 1}};
  CEncoder c;
  ASSERT_EQ(sb_encode_agent_upsert(&c.e, 0, sb_id_name("lesa"), 0, 3, skills, 2), SB_OK);
  AgentUpsert body;
  body.agent = ExternalId("lesa");
  body.presence = PresenceId{0};
  body.skills = std::vector<SkillLevel>{{2, 5}, {0, 1}};
  body.capacity = AgentCapacity{3, {}};
  expect_event(c.bytes(), SB_REC_AGENT_UPSERT, event_at(0, body));
  expect_overflow_refused(c.e.size, [&](sb_encoder* e) {
    return sb_encode_agent_upsert(e, 0, sb_id_name("lesa"), 0, 3, skills, 2);
  });
}

TEST(ShmCClientEncode, AgentUpsertNothingOptional) {
  CEncoder c;
  ASSERT_EQ(sb_encode_agent_upsert(&c.e, 1, sb_id_number(9001), -1, -1, nullptr, 0), SB_OK);
  AgentUpsert body;
  body.agent = ExternalId(std::uint64_t{9001});
  expect_event(c.bytes(), SB_REC_AGENT_UPSERT, event_at(1, body));
}

TEST(ShmCClientEncode, AgentUpsertEveryField) {
  const sb_skill_level skills[] = {{7, 4}};
  const std::int32_t profiles[] = {1, 0};
  const sb_attribute attributes[] = {{"country", SB_ATTR_STRING, 0, "US"}, {"tier", SB_ATTR_INT, 3, nullptr}};
  const sb_shift shifts[] = {{28800000, 45000000}, {50000000, 60000000}};
  sb_agent_upsert a{};
  a.has_presence = 1;
  a.presence = 6;
  a.has_skills = 1;
  a.skills = skills;
  a.skill_count = 1;
  a.has_capacity = 1;
  a.capacity.units = 2;
  a.capacity.profile_max = profiles;
  a.capacity.profile_count = 2;
  a.has_attributes = 1;
  a.attributes = attributes;
  a.attribute_count = 2;
  a.has_working = 1;
  a.working = 1;
  a.has_shifts = 1;
  a.shifts = shifts;
  a.shift_count = 2;
  CEncoder c;
  ASSERT_EQ(sb_encode_agent_upsert_ex(&c.e, 10, sb_id_name("diego"), &a), SB_OK);
  AgentUpsert body;
  body.agent = ExternalId("diego");
  body.presence = PresenceId{6};
  body.skills = std::vector<SkillLevel>{{7, 4}};
  body.capacity = AgentCapacity{2, {1, 0}};
  body.attributes = Attributes{{"country", std::string("US")}, {"tier", std::int64_t{3}}};
  body.working = true;
  body.shifts = std::vector<Shift>{{28800000, 45000000}, {50000000, 60000000}};
  expect_event(c.bytes(), SB_REC_AGENT_UPSERT, event_at(10, body));

  // An empty skill list is present and empty, not absent.
  sb_agent_upsert empty{};
  empty.has_skills = 1;
  CEncoder c2;
  ASSERT_EQ(sb_encode_agent_upsert_ex(&c2.e, 10, sb_id_name("diego"), &empty), SB_OK);
  AgentUpsert body2;
  body2.agent = ExternalId("diego");
  body2.skills = std::vector<SkillLevel>{};
  expect_event(c2.bytes(), SB_REC_AGENT_UPSERT, event_at(10, body2));
}

TEST(ShmCClientEncode, AgentMembershipCapacityRemove) {
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_join_queue(&c.e, 1, sb_id_name("lesa"), 4), SB_OK);
    expect_event(c.bytes(), SB_REC_JOIN_QUEUE, event_at(1, JoinQueue{ExternalId("lesa"), 4}));
  }
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_leave_queue(&c.e, 1, sb_id_name("lesa"), 4), SB_OK);
    expect_event(c.bytes(), SB_REC_LEAVE_QUEUE, event_at(1, LeaveQueue{ExternalId("lesa"), 4}));
  }
  {
    const std::int32_t profiles[] = {1};
    sb_capacity cap{4, profiles, 1};
    CEncoder c;
    ASSERT_EQ(sb_encode_capacity_change(&c.e, 1, sb_id_name("lesa"), &cap), SB_OK);
    expect_event(c.bytes(), SB_REC_CAPACITY_CHANGE,
                 event_at(1, CapacityChange{ExternalId("lesa"), AgentCapacity{4, {1}}}));
  }
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_agent_remove(&c.e, 1, sb_id_name("lesa")), SB_OK);
    expect_event(c.bytes(), SB_REC_AGENT_REMOVE, event_at(1, AgentRemove{ExternalId("lesa")}));
  }
}

TEST(ShmCClientEncode, Tick) {
  CEncoder c;
  ASSERT_EQ(sb_encode_tick(&c.e, 300000), SB_OK);
  EXPECT_EQ(c.e.size, 8u);
  expect_event(c.bytes(), SB_REC_TICK, event_at(300000, Tick{}));
}

TEST(ShmCClientEncode, RefusesWhatTheFormatCannotCarry) {
  const std::string long_name(256, 'a');
  const std::string max_name(255, 'a');
  {
    CEncoder c;
    EXPECT_EQ(sb_encode_item_complete(&c.e, 1, sb_id_name("")), SB_ERR_INVALID);
  }
  {
    CEncoder c;
    EXPECT_EQ(sb_encode_item_complete(&c.e, 1, sb_id_name(long_name.c_str())), SB_ERR_INVALID);
  }
  {
    CEncoder c;
    ASSERT_EQ(sb_encode_item_complete(&c.e, 1, sb_id_name(max_name.c_str())), SB_OK);
    expect_event(c.bytes(), SB_REC_ITEM_COMPLETE, event_at(1, ItemComplete{ExternalId(max_name)}));
  }
  {
    // Attribute keys out of order, or twice: the daemon's decoder would refuse them.
    const sb_attribute unsorted[] = {{"tier", SB_ATTR_INT, 1, nullptr}, {"country", SB_ATTR_STRING, 0, "US"}};
    const sb_attribute twice[] = {{"tier", SB_ATTR_INT, 1, nullptr}, {"tier", SB_ATTR_INT, 2, nullptr}};
    sb_item_arrive a{};
    a.attributes = unsorted;
    a.attribute_count = 2;
    CEncoder c;
    EXPECT_EQ(sb_encode_item_arrive_ex(&c.e, 1, sb_id_number(1), 0, &a), SB_ERR_INVALID);
    a.attributes = twice;
    CEncoder c2;
    EXPECT_EQ(sb_encode_item_arrive_ex(&c2.e, 1, sb_id_number(1), 0, &a), SB_ERR_INVALID);
  }
  {
    // A value-less attribute removes one: item_update only.
    const sb_attribute none[] = {{"tag", SB_ATTR_NONE, 0, nullptr}};
    sb_item_arrive a{};
    a.attributes = none;
    a.attribute_count = 1;
    CEncoder c;
    EXPECT_EQ(sb_encode_item_arrive_ex(&c.e, 1, sb_id_number(1), 0, &a), SB_ERR_INVALID);
  }
  {
    CEncoder c;
    EXPECT_EQ(sb_encode_agent_upsert(&c.e, 1, sb_id_number(1), 256, -1, nullptr, 0), SB_ERR_INVALID);
  }
  {
    // The first failure sticks.
    std::uint8_t small[4];
    sb_encoder e;
    sb_enc_init(&e, small, sizeof small);
    sb_enc_u64(&e, 1);
    sb_enc_u8(&e, 1);
    EXPECT_EQ(sb_enc_status(&e), SB_ERR_TOO_BIG);
    EXPECT_EQ(sb_enc_size(&e), 0u);
  }
}

TEST(ShmCClientEncode, PrimitivesAreLittleEndian) {
  CEncoder c;
  sb_enc_u16(&c.e, 0x0102);
  sb_enc_u32(&c.e, 0x03040506);
  sb_enc_i32(&c.e, -2);
  sb_enc_i64(&c.e, -1);
  sb_enc_str(&c.e, "hi", 2);
  sb_enc_opt(&c.e, 7);
  sb_enc_list(&c.e, 3);
  ASSERT_EQ(sb_enc_status(&c.e), SB_OK);
  const Bytes want = {0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                      0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x00, 'h',  'i',  0x01, 0x03, 0x00};
  EXPECT_EQ(c.bytes(), want);
}

// --- decoders ----------------------------------------------------------------------------------

std::string_view view_name(const sb_id_view& v) { return std::string_view(v.name, v.name_length); }

void expect_id(const sb_id_view& v, const ExternalId& id) {
  if (id.is_number()) {
    EXPECT_EQ(v.kind, 0);
    EXPECT_EQ(v.number, id.number());
  } else {
    EXPECT_EQ(v.kind, 1);
    EXPECT_EQ(view_name(v), id.name());
  }
}

// Every proper prefix, and the payload with one byte more, is refused.
template <typename Decode>
void expect_truncations_refused(const Bytes& payload, Decode decode) {
  for (std::size_t n = 0; n < payload.size(); ++n) {
    Bytes prefix(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_EQ(decode(prefix.empty() ? nullptr : prefix.data(), prefix.size()), SB_ERR_MALFORMED) << "prefix " << n;
  }
  Bytes longer = payload;
  longer.push_back(0);
  EXPECT_EQ(decode(longer.data(), longer.size()), SB_ERR_MALFORMED) << "one byte more";
}

TEST(ShmCClientDecode, DecisionsOfEveryShape) {
  std::vector<std::pair<Decision, shm::DecisionCause>> cases;
  {
    Decision d;
    d.kind = DecisionKind::offer;
    d.decided_by = DecidedBy::rule;
    d.rule = 2;
    d.time = 1000;
    d.queue = 3;
    d.item = ExternalId(std::uint64_t{17});
    d.agent = ExternalId("lesa");
    cases.push_back({d, {1, 99}});
  }
  {
    Decision d;
    d.kind = DecisionKind::requeued;
    d.reason = RequeueReason::timed_out;
    d.time = -5;
    d.queue = 0xFFFFFFFF;
    d.item = ExternalId("chat-1");
    d.agent = ExternalId(std::uint64_t{0});
    cases.push_back({d, {65535, UINT64_MAX}});
  }
  {
    Decision d;
    d.kind = DecisionKind::transferred;
    d.time = 2000;
    d.queue = 1;
    d.from_queue = 4;
    d.item = ExternalId(std::string(255, 'z'));
    cases.push_back({d, {0, 0}});
  }
  {
    Decision d;
    d.kind = DecisionKind::assigned;
    d.decided_by = DecidedBy::accepted;
    d.item = ExternalId("a");
    d.agent = ExternalId("b");
    cases.push_back({d, {7, 8}});
  }
  for (const auto& [decision, cause] : cases) {
    Bytes payload;
    shm::encode_decision(decision, cause, payload);
    sb_decision out;
    ASSERT_EQ(sb_decode_decision(payload.data(), payload.size(), &out), SB_OK);
    EXPECT_EQ(out.kind, static_cast<std::uint8_t>(decision.kind));
    EXPECT_EQ(out.decided_by, static_cast<std::uint8_t>(decision.decided_by));
    EXPECT_EQ(out.reason, static_cast<std::uint8_t>(decision.reason));
    EXPECT_EQ(out.rule, decision.rule);
    EXPECT_EQ(out.cause_slot, cause.slot);
    EXPECT_EQ(out.cause_sequence, cause.sequence);
    EXPECT_EQ(out.time, decision.time);
    EXPECT_EQ(out.queue, decision.queue);
    EXPECT_EQ(out.from_queue, decision.from_queue);
    expect_id(out.item, decision.item);
    ASSERT_EQ(out.has_agent != 0, decision.agent.has_value());
    if (decision.agent) {
      expect_id(out.agent, *decision.agent);
      EXPECT_TRUE(sb_id_view_equals(&out.agent, decision.agent->is_number()
                                                    ? sb_id_number(decision.agent->number())
                                                    : sb_id_name(decision.agent->name().c_str())));
    }
    expect_truncations_refused(payload, [](const void* p, std::size_t n) {
      sb_decision d;
      return sb_decode_decision(p, n, &d);
    });
  }
}

TEST(ShmCClientDecode, DecisionOutOfRangeRefused) {
  Decision d;
  d.kind = DecisionKind::offer;
  d.item = ExternalId(std::uint64_t{1});
  d.agent = ExternalId(std::uint64_t{2});
  Bytes payload;
  shm::encode_decision(d, {}, payload);
  sb_decision out;
  ASSERT_EQ(sb_decode_decision(payload.data(), payload.size(), &out), SB_OK);
  const auto refused = [&](std::size_t at, std::uint8_t value) {
    Bytes bad = payload;
    bad[at] = value;
    return sb_decode_decision(bad.data(), bad.size(), &out) == SB_ERR_MALFORMED;
  };
  EXPECT_TRUE(refused(0, 7));   // kind
  EXPECT_TRUE(refused(1, 7));   // decided_by
  EXPECT_TRUE(refused(2, 3));   // reason
  EXPECT_TRUE(refused(3, 1));   // reserved
  EXPECT_TRUE(refused(32, 2));  // item id kind
  EXPECT_TRUE(refused(41, 2));  // agent present flag
  // The C++ decoder agrees on each.
  for (const auto& [at, value] : std::vector<std::pair<std::size_t, std::uint8_t>>{{0, 7}, {1, 7}, {2, 3}, {3, 1}, {32, 2}, {41, 2}}) {
    Bytes bad = payload;
    bad[at] = value;
    EXPECT_FALSE(shm::decode_decision(bad).has_value()) << at;
  }
  // A name id of length 0 is refused.
  Decision named;
  named.item = ExternalId("x");
  Bytes p2;
  shm::encode_decision(named, {}, p2);
  p2[33] = 0;  // u16 length of the item name
  p2[34] = 0;
  EXPECT_EQ(sb_decode_decision(p2.data(), p2.size(), &out), SB_ERR_MALFORMED);
  EXPECT_EQ(sb_decode_decision(nullptr, 0, &out), SB_ERR_MALFORMED);
  EXPECT_EQ(sb_decode_decision(payload.data(), payload.size(), nullptr), SB_ERR_INVALID);
}

TEST(ShmCClientDecode, ErrorAckNotice) {
  {
    Bytes payload;
    shm::encode_error(ErrorCode::unknown_agent, SB_REC_OFFER_ACCEPT, "agent \"x\" is not known", payload);
    sb_error_record out;
    ASSERT_EQ(sb_decode_error(payload.data(), payload.size(), &out), SB_OK);
    EXPECT_EQ(out.code, static_cast<std::uint16_t>(ErrorCode::unknown_agent));
    EXPECT_STREQ(sb_error_code_name(out.code), "unknown_agent");
    EXPECT_EQ(out.record_type, SB_REC_OFFER_ACCEPT);
    EXPECT_EQ(std::string_view(out.message, out.message_length), "agent \"x\" is not known");
    expect_truncations_refused(payload, [](const void* p, std::size_t n) {
      sb_error_record e;
      return sb_decode_error(p, n, &e);
    });
  }
  {
    Bytes payload;
    shm::encode_error(ErrorCode::malformed_event, 0, "", payload);
    sb_error_record out;
    ASSERT_EQ(sb_decode_error(payload.data(), payload.size(), &out), SB_OK);
    EXPECT_EQ(out.message_length, 0u);
  }
  {
    Bytes payload;
    shm::encode_ack(513, payload);
    std::uint16_t slot = 0;
    ASSERT_EQ(sb_decode_ack(payload.data(), payload.size(), &slot), SB_OK);
    EXPECT_EQ(slot, 513);
    expect_truncations_refused(payload, [](const void* p, std::size_t n) {
      std::uint16_t s = 0;
      return sb_decode_ack(p, n, &s);
    });
  }
  {
    Bytes payload;
    shm::encode_notice(shm::NoticeCode::ring_reset, "ring reset: a record stayed in progress", payload);
    sb_notice out;
    ASSERT_EQ(sb_decode_notice(payload.data(), payload.size(), &out), SB_OK);
    EXPECT_EQ(out.code, 1);
    EXPECT_EQ(std::string_view(out.message, out.message_length), "ring reset: a record stayed in progress");
    expect_truncations_refused(payload, [](const void* p, std::size_t n) {
      sb_notice nt;
      return sb_decode_notice(p, n, &nt);
    });
  }
}

TEST(ShmCClientNames, StrerrorAndEnums) {
  for (int rc = -13; rc <= 1; ++rc) {
    ASSERT_NE(sb_strerror(rc), nullptr);
    EXPECT_STRNE(sb_strerror(rc), "unknown result") << rc;
  }
  EXPECT_STREQ(sb_strerror(12345), "unknown result");
  EXPECT_STREQ(sb_decision_kind_name(SB_DECISION_OFFER), "offer");
  EXPECT_STREQ(sb_decision_kind_name(SB_DECISION_TRANSFERRED), "transferred");
  EXPECT_STREQ(sb_decision_kind_name(7), "?");
  EXPECT_STREQ(sb_decided_by_name(SB_BY_ACCEPTED), "accepted");
  EXPECT_STREQ(sb_reason_name(SB_REASON_TIMED_OUT), "timed_out");
  // The C names follow the kernel's enums.
  for (int k = 0; k <= static_cast<int>(DecisionKind::transferred); ++k) {
    EXPECT_EQ(std::string_view(sb_decision_kind_name(k)), to_string(static_cast<DecisionKind>(k)));
  }
  for (int b = 0; b <= static_cast<int>(DecidedBy::accepted); ++b) {
    EXPECT_EQ(std::string_view(sb_decided_by_name(b)), to_string(static_cast<DecidedBy>(b)));
  }
  for (int r = 0; r <= static_cast<int>(RequeueReason::timed_out); ++r) {
    EXPECT_EQ(std::string_view(sb_reason_name(r)), to_string(static_cast<RequeueReason>(r)));
  }
  for (int c = 0; c <= static_cast<int>(ErrorCode::config_io); ++c) {
    EXPECT_EQ(std::string_view(sb_error_code_name(c)), to_string(static_cast<ErrorCode>(c))) << c;
  }
}

TEST(ShmCClientAttach, MissingSegmentAndBadArguments) {
  sb_client* c = reinterpret_cast<sb_client*>(1);
  EXPECT_EQ(sb_client_attach("/sb-c-client-test-no-such-segment", 0, 0, &c), SB_ERR_NOT_FOUND);
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(sb_client_attach("no-slash", 0, 0, &c), SB_ERR_INVALID);
  EXPECT_EQ(sb_client_attach(nullptr, 0, 0, &c), SB_ERR_INVALID);
  EXPECT_EQ(sb_client_attach("/x", 0, 0, nullptr), SB_ERR_INVALID);
  EXPECT_EQ(sb_client_detach(nullptr, 0), SB_OK);
}

// --- the client against an in-process daemon ---------------------------------------------------

using namespace std::chrono_literals;

// A shm::Server served by its own thread, as switchboardd does; pause() stops serving (the
// segment stays) and resume() serves again.
class Daemon {
 public:
  explicit Daemon(shm::ServerOptions options) : name_(options.name) {
    Config config = switchboard::testing::base_config();
    switchboard::testing::add_queue(config, "support", switchboard::testing::kChat);
    switchboard::testing::add_queue(config, "sales", switchboard::testing::kChat);
    Result<shm::Server> server = shm::Server::create(std::move(config), options);
    if (!server) {
      ADD_FAILURE() << server.error().message;
      return;
    }
    server_.emplace(std::move(server).value());
    resume();
  }
  ~Daemon() {
    pause();
    server_.reset();
    ::shm_unlink(name_.c_str());
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  void resume() {
    if (!server_ || thread_.joinable()) return;
    stop_.store(false);
    thread_ = std::thread([this] { server_->run(stop_); });
  }
  void pause() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    thread_.join();
  }
  void stop_segment() {
    pause();
    if (server_) server_->stop();
  }
  [[nodiscard]] bool ok() const { return server_.has_value(); }
  [[nodiscard]] const std::string& name() const { return name_; }
  shm::Server& server() { return *server_; }

 private:
  std::string name_;
  std::optional<shm::Server> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

shm::ServerOptions client_test_options() {
  shm::ServerOptions o;
  o.name = shm::testing::unique_segment_name();
  o.max_hosts = 2;
  o.in_ring_bytes = 16u << 10;
  o.out_ring_bytes = 64u << 10;
  o.max_record_size = 1024;
  o.heartbeat_interval = 10ms;  // gone after 50 ms without one: longer than a loaded machine stalls
  o.stuck_timeout = 80ms;
  o.host_check_interval = 5ms;
  o.stats_interval = 5ms;
  o.batch_size = 64;
  o.idle = shm::IdleStrategy::sleep;
  return o;
}

// Encodes with `encode` into a fresh buffer and sends it.
template <typename Encode>
int send_event(sb_client* c, std::uint16_t type, std::uint16_t flags, std::uint64_t sequence, Encode encode) {
  std::uint8_t buffer[512];
  sb_encoder e;
  sb_enc_init(&e, buffer, sizeof buffer);
  if (encode(&e) != SB_OK) return sb_enc_status(&e);
  return sb_client_send(c, type, flags, sequence, buffer, sb_enc_size(&e));
}

// One polled record, copied.
struct Polled {
  std::uint16_t type = 0;
  std::uint64_t sequence = 0;
  Bytes payload;
};

// Polls until `want` records came or `timeout` passed; the last poll result in *last.
std::vector<Polled> poll_records(sb_client* c, std::size_t want, std::chrono::milliseconds timeout,
                                 int* last = nullptr) {
  std::vector<Polled> out;
  const auto until = std::chrono::steady_clock::now() + timeout;
  int rc = SB_EMPTY;
  while (out.size() < want && std::chrono::steady_clock::now() < until) {
    sb_message m;
    rc = sb_client_poll(c, &m);
    if (rc == SB_OK) {
      out.push_back({m.type, m.sequence, Bytes(m.payload, m.payload + m.size)});
    } else if (rc == SB_EMPTY) {
      std::this_thread::sleep_for(100us);
    } else {
      break;
    }
  }
  if (last != nullptr) *last = rc;
  return out;
}

TEST(ShmCClientLive, AttachLookupRoundTripErrorsDetach) {
  Daemon daemon(client_test_options());
  ASSERT_TRUE(daemon.ok());
  sb_client* c = nullptr;
  ASSERT_EQ(sb_client_attach(daemon.name().c_str(), SB_ATTACH_DECISIONS, 2000, &c), SB_OK);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(sb_client_slot(c), 0u);
  EXPECT_NE(sb_client_slot_generation(c), 0u);
  EXPECT_EQ(sb_client_segment_generation(c), daemon.server().generation());
  EXPECT_EQ(sb_client_daemon_alive(c), SB_OK);
  EXPECT_EQ(sb_client_max_payload(c), 1024u - 16u);

  // The directory.
  std::uint32_t support = 99, sales = 99, available = 99;
  ASSERT_EQ(sb_client_lookup(c, SB_DIR_QUEUE, "support", &support), SB_OK);
  ASSERT_EQ(sb_client_lookup(c, SB_DIR_QUEUE, "sales", &sales), SB_OK);
  ASSERT_EQ(sb_client_lookup(c, SB_DIR_PRESENCE, "available", &available), SB_OK);
  EXPECT_EQ(support, 0u);
  EXPECT_EQ(sales, 1u);
  EXPECT_EQ(available, switchboard::testing::kAvailable);
  EXPECT_EQ(sb_client_lookup(c, SB_DIR_QUEUE, "Support", &support), SB_ERR_NOT_FOUND);
  EXPECT_EQ(sb_client_lookup(c, 9, "support", &support), SB_ERR_INVALID);
  EXPECT_EQ(sb_client_directory_count(c, SB_DIR_QUEUE), 2u);
  EXPECT_STREQ(sb_client_directory_name(c, SB_DIR_QUEUE, 1), "sales");
  EXPECT_EQ(sb_client_directory_name(c, SB_DIR_QUEUE, 2), nullptr);

  // An agent, a queue membership, an item: offered, accepted, assigned, completed.
  ASSERT_EQ(send_event(c, SB_REC_AGENT_UPSERT, 0, 1, [&](sb_encoder* e) {
              return sb_encode_agent_upsert(e, 1, sb_id_name("ann"), static_cast<int>(available), 2, nullptr, 0);
            }), SB_OK);
  ASSERT_EQ(send_event(c, SB_REC_JOIN_QUEUE, 0, 2,
                       [&](sb_encoder* e) { return sb_encode_join_queue(e, 2, sb_id_name("ann"), support); }),
            SB_OK);
  ASSERT_EQ(send_event(c, SB_REC_ITEM_ARRIVE, SB_FLAG_ACK, 3,
                       [&](sb_encoder* e) { return sb_encode_item_arrive(e, 3, sb_id_number(7), support, nullptr, 0); }),
            SB_OK);
  std::vector<Polled> got = poll_records(c, 2, 2s);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(got[0].type, SB_REC_DECISION);
  sb_decision d;
  ASSERT_EQ(sb_decode_decision(got[0].payload.data(), got[0].payload.size(), &d), SB_OK);
  EXPECT_EQ(d.kind, SB_DECISION_OFFER);
  EXPECT_TRUE(sb_id_view_equals(&d.item, sb_id_number(7)));
  EXPECT_TRUE(d.has_agent && sb_id_view_equals(&d.agent, sb_id_name("ann")));
  EXPECT_EQ(d.cause_slot, 0);
  EXPECT_EQ(d.cause_sequence, 3u);
  EXPECT_EQ(got[0].sequence, 1u);  // the daemon's first decision
  ASSERT_EQ(got[1].type, SB_REC_ACK);
  EXPECT_EQ(got[1].sequence, 3u);

  ASSERT_EQ(send_event(c, SB_REC_OFFER_ACCEPT, 0, 4,
                       [&](sb_encoder* e) { return sb_encode_offer_accept(e, 4, sb_id_number(7), sb_id_name("ann")); }),
            SB_OK);
  ASSERT_EQ(send_event(c, SB_REC_ITEM_COMPLETE, 0, 5,
                       [&](sb_encoder* e) { return sb_encode_item_complete(e, 5, sb_id_number(7)); }),
            SB_OK);
  got = poll_records(c, 2, 2s);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(sb_decode_decision(got[0].payload.data(), got[0].payload.size(), &d), SB_OK);
  EXPECT_EQ(d.kind, SB_DECISION_ASSIGNED);
  EXPECT_EQ(d.decided_by, SB_BY_ACCEPTED);
  ASSERT_EQ(sb_decode_decision(got[1].payload.data(), got[1].payload.size(), &d), SB_OK);
  EXPECT_EQ(d.kind, SB_DECISION_COMPLETED);

  // A refused event and a malformed record: an ERROR each, with the sequence sent.
  ASSERT_EQ(send_event(c, SB_REC_ITEM_COMPLETE, 0, 77,
                       [&](sb_encoder* e) { return sb_encode_item_complete(e, 6, sb_id_number(7)); }),
            SB_OK);
  const std::uint8_t garbage[3] = {1, 2, 3};
  ASSERT_EQ(sb_client_send(c, SB_REC_ITEM_COMPLETE, 0, 78, garbage, sizeof garbage), SB_OK);
  got = poll_records(c, 2, 2s);
  ASSERT_EQ(got.size(), 2u);
  sb_error_record err;
  ASSERT_EQ(got[0].type, SB_REC_ERROR);
  EXPECT_EQ(got[0].sequence, 77u);
  ASSERT_EQ(sb_decode_error(got[0].payload.data(), got[0].payload.size(), &err), SB_OK);
  EXPECT_STREQ(sb_error_code_name(err.code), "unknown_item");
  EXPECT_EQ(err.record_type, SB_REC_ITEM_COMPLETE);
  ASSERT_EQ(got[1].type, SB_REC_ERROR);
  EXPECT_EQ(got[1].sequence, 78u);
  ASSERT_EQ(sb_decode_error(got[1].payload.data(), got[1].payload.size(), &err), SB_OK);
  EXPECT_STREQ(sb_error_code_name(err.code), "malformed_event");

  // Records the client refuses itself.
  std::vector<std::uint8_t> big(1024 - 16 + 1);
  EXPECT_EQ(sb_client_send(c, SB_REC_TICK, 0, 9, big.data(), big.size()), SB_ERR_TOO_BIG);
  EXPECT_EQ(sb_client_send(c, SB_REC_PADDING, 0, 9, nullptr, 0), SB_ERR_INVALID);

  // A second client takes the other slot; a third finds none.
  sb_client* c2 = nullptr;
  ASSERT_EQ(sb_client_attach(daemon.name().c_str(), 0, 2000, &c2), SB_OK);
  EXPECT_EQ(sb_client_slot(c2), 1u);
  sb_client* c3 = nullptr;
  EXPECT_EQ(sb_client_attach(daemon.name().c_str(), 0, 50, &c3), SB_ERR_NO_SLOT);
  EXPECT_EQ(sb_client_detach(c2, 2000), SB_OK);

  // Detach frees the slot: the next client gets slot 0 again... once this one has left it.
  EXPECT_EQ(sb_client_detach(c, 2000), SB_OK);
  ASSERT_EQ(sb_client_attach(daemon.name().c_str(), 0, 2000, &c3), SB_OK);
  EXPECT_EQ(sb_client_slot(c3), 0u);
  EXPECT_EQ(sb_client_detach(c3, 2000), SB_OK);
}

TEST(ShmCClientLive, FullRingLosesNothing) {
  shm::ServerOptions o = client_test_options();
  o.heartbeat_interval = 200ms;  // the daemon pauses below; it must not look dead meanwhile
  Daemon daemon(o);
  ASSERT_TRUE(daemon.ok());
  sb_client* c = nullptr;
  ASSERT_EQ(sb_client_attach(daemon.name().c_str(), 0, 2000, &c), SB_OK);
  daemon.pause();
  // Ticks with ACK until the ring is full: each is 24 bytes, the ring 16 KiB.
  std::uint64_t sent = 0;
  int rc = SB_OK;
  while ((rc = send_event(c, SB_REC_TICK, SB_FLAG_ACK, sent + 1,
                          [&](sb_encoder* e) { return sb_encode_tick(e, static_cast<std::int64_t>(sent + 1)); })) == SB_OK) {
    ++sent;
  }
  EXPECT_EQ(rc, SB_ERR_FULL);
  EXPECT_EQ(sent, (16u << 10) / 24u);
  // Full again: nothing was written.
  EXPECT_EQ(send_event(c, SB_REC_TICK, SB_FLAG_ACK, 999999, [](sb_encoder* e) { return sb_encode_tick(e, 1); }),
            SB_ERR_FULL);
  daemon.resume();
  // Every record is acknowledged, once, in order; then the ring takes records again.
  std::vector<Polled> got = poll_records(c, sent, 5s);
  ASSERT_EQ(got.size(), sent);
  for (std::uint64_t i = 0; i < sent; ++i) {
    ASSERT_EQ(got[i].type, SB_REC_ACK);
    ASSERT_EQ(got[i].sequence, i + 1);
  }
  EXPECT_EQ(send_event(c, SB_REC_TICK, 0, sent + 1, [](sb_encoder* e) { return sb_encode_tick(e, 1); }), SB_OK);
  EXPECT_EQ(sb_client_detach(c, 2000), SB_OK);
}

TEST(ShmCClientLive, StuckClaimResetsTheSlotAndReattachRecovers) {
  Daemon daemon(client_test_options());
  ASSERT_TRUE(daemon.ok());
  sb_client* c = nullptr;
  ASSERT_EQ(sb_client_attach(daemon.name().c_str(), 0, 2000, &c), SB_OK);
  const std::uint64_t generation = sb_client_slot_generation(c);
  void* payload = nullptr;
  ASSERT_EQ(sb_client_claim(c, SB_REC_TICK, 0, 1, 8, &payload), SB_OK);
  ASSERT_NE(payload, nullptr);
  // A second send while the claim is open is refused.
  EXPECT_EQ(sb_client_send(c, SB_REC_TICK, 0, 2, payload, 8), SB_ERR_STATE);
  // Left claimed past the stuck timeout: a notice, then the reset.
  int last = SB_OK;
  std::vector<Polled> got = poll_records(c, 2, 3s, &last);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, SB_REC_NOTICE);
  sb_notice notice;
  ASSERT_EQ(sb_decode_notice(got[0].payload.data(), got[0].payload.size(), &notice), SB_OK);
  EXPECT_EQ(notice.code, 1);
  EXPECT_EQ(last, SB_ERR_RESET);
  EXPECT_EQ(sb_client_daemon_alive(c), SB_ERR_RESET);
  std::uint8_t tick[8] = {};
  EXPECT_EQ(sb_client_commit(c), SB_OK);  // too late, and harmless
  EXPECT_EQ(sb_client_send(c, SB_REC_TICK, 0, 3, tick, 8), SB_ERR_RESET);
  ASSERT_EQ(sb_client_reattach(c, 2000), SB_OK);
  EXPECT_NE(sb_client_slot_generation(c), generation);
  EXPECT_EQ(sb_client_daemon_alive(c), SB_OK);
  // Zero-copy works after the reattach.
  ASSERT_EQ(sb_client_claim(c, SB_REC_TICK, SB_FLAG_ACK, 4, 8, &payload), SB_OK);
  std::memcpy(payload, tick, 8);
  ASSERT_EQ(sb_client_commit(c), SB_OK);
  EXPECT_EQ(sb_client_commit(c), SB_ERR_STATE);
  got = poll_records(c, 1, 2s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, SB_REC_ACK);
  EXPECT_EQ(got[0].sequence, 4u);
  EXPECT_EQ(sb_client_detach(c, 2000), SB_OK);
}

TEST(ShmCClientLive, StoppedOrSilentDaemonIsGone) {
  shm::ServerOptions o = client_test_options();
  Daemon daemon(o);
  ASSERT_TRUE(daemon.ok());
  sb_client* c = nullptr;
  ASSERT_EQ(sb_client_attach(daemon.name().c_str(), 0, 2000, &c), SB_OK);
  // A daemon that stops serving misses its heartbeats: gone after 5 intervals.
  daemon.pause();
  std::this_thread::sleep_for(120ms);
  EXPECT_EQ(sb_client_daemon_alive(c), SB_ERR_DAEMON_GONE);
  sb_message m;
  EXPECT_EQ(sb_client_poll(c, &m), SB_ERR_DAEMON_GONE);
  // Its heartbeat resumes with it (unlike a stop, silence is not final).
  daemon.resume();
  const auto until = std::chrono::steady_clock::now() + 2s;
  while (sb_client_daemon_alive(c) != SB_OK && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(sb_client_daemon_alive(c), SB_OK);
  // A daemon that stops cleanly: state stopping, segment unlinked.
  daemon.stop_segment();
  EXPECT_EQ(sb_client_daemon_alive(c), SB_ERR_DAEMON_GONE);
  std::uint8_t tick[8] = {};
  EXPECT_EQ(sb_client_send(c, SB_REC_TICK, 0, 1, tick, 8), SB_ERR_DAEMON_GONE);
  EXPECT_EQ(sb_client_poll(c, &m), SB_ERR_DAEMON_GONE);
  // No daemon to come back: reattach times out looking for one.
  EXPECT_EQ(sb_client_reattach(c, 20), SB_ERR_NOT_FOUND);
  // A new daemon at the name: reattach finds it.
  o.name = daemon.name();
  Daemon second(o);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(sb_client_reattach(c, 2000), SB_OK);
  EXPECT_EQ(sb_client_segment_generation(c), second.server().generation());
  EXPECT_EQ(sb_client_daemon_alive(c), SB_OK);
  EXPECT_EQ(sb_client_detach(c, 2000), SB_OK);
}

TEST(ShmCClientLive, ReplacedSegmentIsGone) {
  shm::ServerOptions o = client_test_options();
  o.heartbeat_interval = 1s;  // the old segment's heartbeat looks fresh throughout
  auto first = std::make_unique<Daemon>(o);
  ASSERT_TRUE(first->ok());
  sb_client* c = nullptr;
  ASSERT_EQ(sb_client_attach(o.name.c_str(), 0, 2000, &c), SB_OK);
  // Another file at the name (as a new daemon makes after a killed one): gone.
  first->pause();
  ASSERT_EQ(::shm_unlink(o.name.c_str()), 0);
  const int fd = ::shm_open(o.name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(sb_client_daemon_alive(c), SB_ERR_DAEMON_GONE);
  ::close(fd);
  ::shm_unlink(o.name.c_str());
  EXPECT_EQ(sb_client_detach(c, 100), SB_OK);
}

}  // namespace
