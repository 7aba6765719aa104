// Refused events in the reference router (result.hpp ErrorCode; choices: "a refused event emits
// exactly one `error` decision and changes nothing"). Every case is run against a small world
// with offered, assigned and queued work, and checks that:
//   - exactly one decision comes back: kind error, the right ErrorCode, the event's sequence
//     number, a non-empty message, and the offending event;
//   - the router's views (agents, items, queue orders, live count) are unchanged and the
//     invariants hold;
//   - the events that follow decide exactly as in a twin router that never saw the refused one.

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "router_harness.hpp"

using namespace switchboard;
using namespace switchboard::testing;

namespace {

using Lines = std::vector<std::string>;

// Queues of the world.
constexpr QueueId kChats = 0, kMail = 1, kProfileChats = 3;  // 2: Calls (voice), unused

Config world_config() {
  Config config = base_config();
  add_queue(config, "Chats", kChat);
  add_queue(config, "Mail", kEmail);
  add_queue(config, "Calls", kVoice);
  add_queue(config, "ProfileChats", kProfileChat);
  return config;
}

void upsert(RouterHarness& h, Timestamp t, const ExternalId& id, PresenceId presence,
            AgentCapacity capacity, std::vector<SkillLevel> skills,
            std::initializer_list<QueueId> queues) {
  AgentUpsert e;
  e.agent = id;
  e.presence = presence;
  e.capacity = std::move(capacity);
  e.skills = std::move(skills);
  h.send(t, e);
  for (QueueId q : queues) h.send(t, JoinQueue{id, q});
}

// ann: 2 units, no chat-profile slot, member of Chats and Mail, available.
// bob: 1 unit, member of Chats, available.
// cat: 3 units, member of Mail, away.
// c1 offered to ann, c2 assigned to bob, c3 assigned to ann, c4 queued in Chats, m1 queued in
// Mail, pc1 queued in ProfileChats (no members).
void world(RouterHarness& h) {
  upsert(h, 10, "ann", kAvailable, AgentCapacity{2, {0, 1}}, {SkillLevel{0, 3}}, {kChats, kMail});
  upsert(h, 20, "bob", kAvailable, AgentCapacity{1, {1, 1}}, {}, {kChats});
  upsert(h, 30, "cat", kAway, AgentCapacity{3, {3, 1}}, {}, {kMail});
  h.arrive(100, "c1", kChats);
  h.arrive(110, "c2", kChats);
  h.accept(115, "c2", "bob");
  h.arrive(120, "c3", kChats);
  h.accept(125, "c3", "ann");
  h.arrive(130, "c4", kChats);
  h.arrive(140, "m1", kMail);
  h.arrive(150, "pc1", kProfileChats);
}

const std::vector<ExternalId>& item_ids() {
  static const std::vector<ExternalId> ids = {"c1", "c2", "c3", "c4", "m1", "pc1", "new", "ghost"};
  return ids;
}

template <typename T>
std::string join(const std::vector<T>& values) {
  std::ostringstream s;
  for (const T& v : values) s << v << ",";
  return s.str();
}

std::string ids(const std::vector<ExternalId>& values) {
  std::string s;
  for (const ExternalId& v : values) s += v.to_string() + ",";
  return s;
}

// Everything a refused event must leave as it was (the clock aside).
std::string snapshot(const ReferenceRouter& router) {
  std::ostringstream s;
  for (const ExternalId& id : router.agent_ids()) {
    const AgentView a = *router.agent(id);
    s << "agent " << id.to_string() << " presence=" << int(a.presence)
      << " units=" << a.capacity.units << " profiles=" << join(a.capacity.profile_max)
      << " free=" << a.free_units << " used=" << join(a.profile_used)
      << " queues=" << join(a.queues) << " items=" << ids(a.items)
      << " last_release=" << a.last_release << "\n";
  }
  for (QueueId q = 0; q < router.config().queues.size(); ++q) {
    s << "queue " << q << ": " << ids(router.queue_order(q)) << "\n";
  }
  for (const ExternalId& id : item_ids()) {
    const std::optional<ItemView> item = router.item(id);
    s << "item " << id.to_string() << ": ";
    if (!item) {
      s << "none\n";
      continue;
    }
    s << to_string(item->state) << " q" << item->queue
      << " agent=" << (item->agent ? item->agent->to_string() : "-") << " declines=";
    for (const auto& [agent, n] : item->declines) s << agent.to_string() << ":" << n << ",";
    s << "\n";
  }
  s << "live=" << router.live_item_count() << "\n";
  return s.str();
}

// What follows the refused event, in both routers: a busy minute that touches every agent and
// item of the world.
std::vector<EventBody> rest_of_the_day() {
  ItemArrive fresh;
  fresh.item = "new";
  fresh.queue = kChats;
  return {EventBody{OfferAccept{"c1", "ann"}},
          EventBody{ItemComplete{"c2"}},                 // c4 -> bob
          EventBody{fresh},                              // queued
          EventBody{PresenceChange{"cat", kAvailable}},  // m1 -> cat
          EventBody{ItemComplete{"c3"}},                 // new -> ann
          EventBody{JoinQueue{"cat", kProfileChats}},    // pc1 -> cat
          EventBody{OfferAccept{"c4", "bob"}},
          EventBody{ItemComplete{"c4"}}};
}

std::uint64_t next_refused_sequence = 5000;

// Applies `refused` at t=1000 to a router that has run `world`, and checks everything above.
void expect_refused(const EventBody& refused, ErrorCode code,
                    std::vector<EventBody> follow_up = rest_of_the_day(),
                    Config config = world_config(), void (*setup)(RouterHarness&) = world) {
  SCOPED_TRACE(std::string("refused ") + std::string(event_type_name(refused)) + ", expecting " +
               std::string(to_string(code)));
  RouterHarness subject(config);
  RouterHarness twin(config);
  setup(subject);
  setup(twin);
  ASSERT_EQ(snapshot(subject.router()), snapshot(twin.router()));
  const std::string before = snapshot(subject.router());

  const std::uint64_t sequence = next_refused_sequence++;
  std::vector<Decision> out;
  subject.router().apply(Event{1000, sequence, refused}, out);
  ASSERT_EQ(out.size(), 1u) << describe(out);
  const Decision& d = out[0];
  EXPECT_EQ(d.kind, DecisionKind::error) << describe(d);
  EXPECT_EQ(d.error, code) << to_string(d.error) << ": " << d.message;
  EXPECT_EQ(d.sequence, sequence);
  EXPECT_FALSE(d.message.empty());
  ASSERT_NE(d.offending, nullptr);
  EXPECT_EQ(d.offending->sequence, sequence);
  EXPECT_EQ(d.offending->time, 1000);
  EXPECT_EQ(event_type_name(d.offending->body), event_type_name(refused));

  EXPECT_EQ(snapshot(subject.router()), before);
  EXPECT_EQ(subject.router().check_invariants(), "");

  Timestamp t = 2000;
  for (const EventBody& body : follow_up) {
    const std::vector<Decision> got = subject.send(t, body);
    const std::vector<Decision> want = twin.send(t, body);
    EXPECT_EQ(trace(got), trace(want)) << "follow-up " << event_type_name(body) << " at " << t;
    t += 10;
  }
  EXPECT_EQ(snapshot(subject.router()), snapshot(twin.router()));
  EXPECT_EQ(subject.router().check_invariants(), "");
}

AgentUpsert upsert_event(const ExternalId& id) {
  AgentUpsert e;
  e.agent = id;
  return e;
}

ItemArrive arrival(const ExternalId& id, QueueId queue) {
  ItemArrive e;
  e.item = id;
  e.queue = queue;
  return e;
}

}  // namespace

TEST(ErrorsWorld, TheWorldIsWhatTheErrorTestsAssume) {
  RouterHarness h(world_config());
  world(h);
  EXPECT_EQ(h.router().item("c1")->state, ItemState::offered);
  EXPECT_EQ(h.router().item("c1")->agent, ExternalId("ann"));
  EXPECT_EQ(h.router().item("c2")->state, ItemState::assigned);
  EXPECT_EQ(h.router().item("c2")->agent, ExternalId("bob"));
  EXPECT_EQ(h.router().item("c3")->state, ItemState::assigned);
  EXPECT_EQ(h.router().item("c3")->agent, ExternalId("ann"));
  EXPECT_EQ(h.router().queue_order(kChats), std::vector<ExternalId>{"c4"});
  EXPECT_EQ(h.router().queue_order(kMail), std::vector<ExternalId>{"m1"});
  EXPECT_EQ(h.router().queue_order(kProfileChats), std::vector<ExternalId>{"pc1"});
  EXPECT_EQ(h.router().agent("ann")->free_units, 0);
  EXPECT_EQ(h.router().agent("bob")->free_units, 0);
  // The follow-up used by every error test does decide things.
  Timestamp t = 2000;
  std::vector<Decision> all;
  for (const EventBody& body : rest_of_the_day()) {
    std::vector<Decision> out = h.send(t, body);
    all.insert(all.end(), out.begin(), out.end());
    t += 10;
  }
  EXPECT_EQ(trace(all), (Lines{"assigned c1 ann q0 accepted @2000", "completed c2 bob q0 @2010",
                               "offer c4 bob q0 method @2010", "offer m1 cat q1 method @2030",
                               "completed c3 ann q0 @2040", "offer new ann q0 method @2040",
                               "offer pc1 cat q3 method @2050",
                               "assigned c4 bob q0 accepted @2060", "completed c4 bob q0 @2070"}));
}

TEST(R2Errors, UnknownAgentIsRefusedForEveryEventNamingAnAgent) {
  const ErrorCode code = ErrorCode::unknown_agent;
  expect_refused(PresenceChange{"ghost", kAvailable}, code);
  expect_refused(CapacityChange{"ghost", AgentCapacity{1, {1, 1}}}, code);
  expect_refused(JoinQueue{"ghost", kChats}, code);
  expect_refused(LeaveQueue{"ghost", kChats}, code);
  expect_refused(AgentRemove{"ghost"}, code);
  expect_refused(OfferAccept{"c1", "ghost"}, code);
  expect_refused(OfferDecline{"c1", "ghost"}, code);
  expect_refused(OfferTimeout{"c1", "ghost"}, code);
  expect_refused(ManualAssign{"c4", "ghost"}, code);
  expect_refused(AgentPick{"c4", "ghost"}, code);
}

TEST(R4Errors, UnknownItemIsRefusedForEveryEventNamingAnItem) {
  const ErrorCode code = ErrorCode::unknown_item;
  ItemUpdate update;
  update.item = "ghost";
  update.attributes = {{"priority", std::string("High")}};
  expect_refused(update, code);
  expect_refused(ItemCancel{"ghost"}, code);
  expect_refused(ItemComplete{"ghost"}, code);
  expect_refused(ItemTransfer{"ghost", kMail}, code);
  expect_refused(OfferAccept{"ghost", "ann"}, code);
  expect_refused(OfferDecline{"ghost", "ann"}, code);
  expect_refused(OfferTimeout{"ghost", "ann"}, code);
  expect_refused(ManualAssign{"ghost", "ann"}, code);
  expect_refused(AgentPick{"ghost", "ann"}, code);
}

TEST(R3Errors, UnknownQueueIsRefused) {
  const ErrorCode code = ErrorCode::unknown_queue;
  expect_refused(arrival("new", 4), code);  // four queues: 0..3
  expect_refused(arrival("new", 99), code);
  expect_refused(JoinQueue{"cat", 4}, code);
  expect_refused(LeaveQueue{"ann", 4}, code);
  expect_refused(ItemTransfer{"c4", 4}, code);
}

TEST(R1Errors, UnknownSkillIsRefused) {
  const ErrorCode code = ErrorCode::unknown_skill;  // ten skills: 0..9
  AgentUpsert existing = upsert_event("ann");
  existing.skills = std::vector<SkillLevel>{{1, 2}, {10, 1}};
  expect_refused(existing, code);
  AgentUpsert fresh = upsert_event("dan");  // a new agent is not created either
  fresh.presence = kAvailable;
  fresh.skills = std::vector<SkillLevel>{{200, 1}};
  expect_refused(fresh, code);
  ItemArrive item = arrival("new", kChats);
  item.skills = {SkillRequirement{10, -1}};
  expect_refused(item, code);
}

TEST(R7Errors, UnknownPresenceIsRefused) {
  const ErrorCode code = ErrorCode::unknown_presence;  // six presences: 0..5
  expect_refused(PresenceChange{"cat", 6}, code);
  AgentUpsert existing = upsert_event("cat");
  existing.presence = 6;
  expect_refused(existing, code);
  AgentUpsert fresh = upsert_event("dan");
  fresh.presence = 200;
  expect_refused(fresh, code);
}

TEST(R6Errors, UnknownProfileIsRefused) {
  const ErrorCode code = ErrorCode::unknown_profile;  // two profiles
  expect_refused(CapacityChange{"cat", AgentCapacity{5, {3, 1, 1}}}, code);
  AgentUpsert existing = upsert_event("cat");
  existing.capacity = AgentCapacity{5, {3, 1, 1}};
  expect_refused(existing, code);
}

TEST(R6Errors, InvalidCapacityValuesAreRefused) {
  const ErrorCode code = ErrorCode::invalid_value;
  expect_refused(CapacityChange{"cat", AgentCapacity{-1, {3, 1}}}, code);
  expect_refused(CapacityChange{"cat", AgentCapacity{5, {3, -1}}}, code);
  AgentUpsert existing = upsert_event("cat");
  existing.capacity = AgentCapacity{-2, {}};
  expect_refused(existing, code);
}

TEST(R1Errors, InvalidSkillsAndShiftsOfAnAgentAreRefused) {
  const ErrorCode code = ErrorCode::invalid_value;
  AgentUpsert negative = upsert_event("ann");
  negative.skills = std::vector<SkillLevel>{{1, -1}};
  expect_refused(negative, code);
  AgentUpsert twice = upsert_event("ann");
  twice.skills = std::vector<SkillLevel>{{1, 2}, {1, 3}};
  expect_refused(twice, code);
  AgentUpsert shift = upsert_event("cat");
  shift.presence = kAvailable;  // would trigger m1 -> cat if applied
  shift.shifts = std::vector<Shift>{{5000, 5000}};
  expect_refused(shift, code);
  AgentUpsert backwards = upsert_event("cat");
  backwards.shifts = std::vector<Shift>{{0, 100000}, {9000, 8000}};
  expect_refused(backwards, code);
}

TEST(R4Errors, InvalidItemValuesAreRefused) {
  const ErrorCode code = ErrorCode::invalid_value;
  ItemArrive zero = arrival("new", kChats);
  zero.units = 0;
  expect_refused(zero, code);
  ItemArrive negative = arrival("new", kChats);
  negative.units = -3;
  expect_refused(negative, code);
  ItemArrive min = arrival("new", kChats);
  min.skills = {SkillRequirement{1, -2}};
  expect_refused(min, code);
  ItemArrive twice = arrival("new", kChats);
  twice.skills = {SkillRequirement{1, -1}, SkillRequirement{1, 2}};
  expect_refused(twice, code);
}

TEST(R4Errors, DuplicateLiveItemIsRefused) {
  const ErrorCode code = ErrorCode::duplicate_item;
  ItemArrive queued = arrival("c4", kMail);
  queued.attributes = {{"priority", std::string("High")}};
  expect_refused(queued, code);
  expect_refused(arrival("c1", kChats), code);  // offered
  expect_refused(arrival("c2", kChats), code);  // assigned
}

TEST(R14Errors, AcceptDeclineOrTimeoutByAnotherAgentIsRefused) {
  const ErrorCode code = ErrorCode::offer_agent_mismatch;
  expect_refused(OfferAccept{"c1", "bob"}, code);
  expect_refused(OfferDecline{"c1", "cat"}, code);
  expect_refused(OfferTimeout{"c1", "bob"}, code);
}

TEST(R14Errors, AcceptDeclineOrTimeoutWithoutAnOpenOfferIsRefused) {
  const ErrorCode code = ErrorCode::item_not_offered;
  expect_refused(OfferAccept{"c4", "ann"}, code);   // queued
  expect_refused(OfferAccept{"c2", "bob"}, code);   // already assigned
  expect_refused(OfferDecline{"c3", "ann"}, code);  // assigned
  expect_refused(OfferTimeout{"m1", "cat"}, code);  // queued
}

TEST(R5Errors, CompleteOfAnItemNeverAssignedIsRefused) {
  const ErrorCode code = ErrorCode::item_not_assigned;
  expect_refused(ItemComplete{"c4"}, code);  // queued
  expect_refused(ItemComplete{"c1"}, code);  // offered, not yet accepted
}

TEST(R5Errors, CancelOrTransferOfAnAssignedItemIsRefused) {
  const ErrorCode code = ErrorCode::item_not_queued;
  expect_refused(ItemCancel{"c2"}, code);
  expect_refused(ItemTransfer{"c3", kMail}, code);
}

TEST(R15Errors, ManualAssignmentOrPickOfAnOfferedOrAssignedItemIsRefused) {
  const ErrorCode code = ErrorCode::item_not_queued;
  expect_refused(ManualAssign{"c1", "cat"}, code);  // offered to ann
  expect_refused(ManualAssign{"c2", "cat"}, code);  // assigned to bob
  expect_refused(AgentPick{"c1", "bob"}, code);
}

TEST(R5Errors, TransferToTheSameQueueIsRefused) {
  const ErrorCode code = ErrorCode::same_queue;
  expect_refused(ItemTransfer{"c4", kChats}, code);  // queued
  expect_refused(ItemTransfer{"c1", kChats}, code);  // offered: the offer is not withdrawn
}

TEST(R3Errors, JoiningAQueueTwiceIsRefused) {
  expect_refused(JoinQueue{"ann", kChats}, ErrorCode::already_member);
  expect_refused(JoinQueue{"cat", kMail}, ErrorCode::already_member);
}

TEST(R3Errors, LeavingAQueueTheAgentIsNotInIsRefused) {
  expect_refused(LeaveQueue{"bob", kMail}, ErrorCode::not_a_member);
  expect_refused(LeaveQueue{"cat", kChats}, ErrorCode::not_a_member);
}

TEST(R15Errors, PickFromAQueueTheAgentIsNotInIsRefused) {
  expect_refused(AgentPick{"m1", "bob"}, ErrorCode::not_a_member);
  expect_refused(AgentPick{"pc1", "cat"}, ErrorCode::not_a_member);
}

TEST(R2Errors, RemovingAnAgentThatHoldsWorkIsRefused) {
  const ErrorCode code = ErrorCode::agent_has_work;
  expect_refused(AgentRemove{"ann"}, code);  // offered c1, assigned c3
  expect_refused(AgentRemove{"bob"}, code);  // assigned c2
}

TEST(R15Errors, ManualAssignmentOrPickRefusedForCapacity) {
  const ErrorCode code = ErrorCode::insufficient_capacity;
  expect_refused(ManualAssign{"c4", "ann"}, code);  // 0 of 2 units free
  expect_refused(ManualAssign{"m1", "bob"}, code);  // any agent, but 0 of 1 unit free
  expect_refused(AgentPick{"c4", "bob"}, code);
  expect_refused(ManualAssign{"pc1", "ann"}, code);  // no chat-profile slot at all
  // An item bigger than all of cat's capacity (3 units).
  auto setup = [](RouterHarness& h) {
    world(h);
    ItemArrive e;
    e.item = "big";
    e.queue = kMail;
    e.units = 4;
    h.send(160, e);
  };
  expect_refused(ManualAssign{"big", "cat"}, code, rest_of_the_day(), world_config(), setup);
}

TEST(R6Errors, CapacityChangeBelowLoadIsRefused) {
  const ErrorCode code = ErrorCode::capacity_below_load;
  expect_refused(CapacityChange{"ann", AgentCapacity{1, {0, 1}}}, code);
  expect_refused(CapacityChange{"bob", AgentCapacity{0, {1, 1}}}, code);
  AgentUpsert shrink = upsert_event("ann");
  shrink.capacity = AgentCapacity{0, {0, 0}};
  expect_refused(shrink, code);
}

TEST(R6Errors, RefusedCapacityChangeDoesNotStartACycle) {
  // A refused event runs no cycle: cat has queued work waiting in Mail, and a refused capacity
  // change for her must not be what gets it offered.
  auto setup = [](RouterHarness& h) {
    world(h);
    h.send(160, PresenceChange{"cat", kAvailable});  // m1 -> cat (3 units, 1 used)
    h.arrive(170, "m2", kMail);                      // m2 -> cat
    h.arrive(180, "m3", kMail);                      // m3 -> cat: now full
    h.arrive(190, "m4", kMail);                      // waits
  };
  expect_refused(CapacityChange{"cat", AgentCapacity{2, {3, 1}}}, ErrorCode::capacity_below_load,
                 {EventBody{CapacityChange{"cat", AgentCapacity{4, {3, 1}}}}}, world_config(),
                 setup);
}

TEST(ErrorsSequence, ErrorCarriesTheSequenceOfTheRefusedEventAmongOthers) {
  RouterHarness h(world_config());
  world(h);
  std::vector<Decision> out;
  h.router().apply(Event{3000, 77, ItemComplete{"c4"}}, out);
  h.router().apply(Event{3001, 78, OfferAccept{"c1", "ann"}}, out);
  h.router().apply(Event{3002, 79, JoinQueue{"ann", kChats}}, out);
  ASSERT_EQ(out.size(), 3u) << describe(out);
  EXPECT_EQ(out[0].kind, DecisionKind::error);
  EXPECT_EQ(out[0].error, ErrorCode::item_not_assigned);
  EXPECT_EQ(out[0].sequence, 77u);
  EXPECT_EQ(out[1].kind, DecisionKind::assigned);
  EXPECT_EQ(out[2].kind, DecisionKind::error);
  EXPECT_EQ(out[2].error, ErrorCode::already_member);
  EXPECT_EQ(out[2].sequence, 79u);
  EXPECT_NE(out[0].message, out[2].message);
}
