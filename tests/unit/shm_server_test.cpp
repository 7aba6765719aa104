// shm::Server (server.hpp), in process: the test thread is the daemon (it calls poll_once) and
// one or more hosts written with the raw protocol.h / ring.h operations (shm_test_host.hpp).
// Options are scaled down (small rings, timeouts of milliseconds) so that every test is fast.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "router_harness.hpp"
#include "shm_test_host.hpp"
#include "switchboard/shm/record_codec.hpp"
#include "switchboard/shm/server.hpp"

namespace switchboard::shm {
namespace {

using namespace std::chrono_literals;
using switchboard::testing::add_queue;
using switchboard::testing::base_config;
using switchboard::testing::kAvailable;
using switchboard::testing::kChat;
using testing::Received;
using testing::TestHost;
using testing::unique_segment_name;

constexpr QueueId kSupport = 0, kSales = 1;

Config test_config() {
  Config config = base_config();
  add_queue(config, "support", kChat);
  add_queue(config, "sales", kChat);
  return config;
}

ServerOptions fast_options() {
  ServerOptions o;
  o.name = unique_segment_name();
  o.max_hosts = 4;
  o.in_ring_bytes = 64u << 10;
  o.out_ring_bytes = 64u << 10;
  o.max_record_size = 4096;
  o.heartbeat_interval = 1ms;
  o.stuck_timeout = 60ms;
  o.host_check_interval = 5ms;
  o.stats_interval = 1ms;
  o.batch_size = 64;
  o.idle = IdleStrategy::spin;
  return o;
}

Event make(std::uint64_t sequence, EventBody body, Timestamp time = 0) {
  Event e;
  e.time = time != 0 ? time : static_cast<Timestamp>(sequence);
  e.sequence = sequence;
  e.body = std::move(body);
  return e;
}
AgentUpsert available_agent(ExternalId id, std::int32_t units) {
  AgentUpsert u;
  u.agent = std::move(id);
  u.presence = kAvailable;
  u.capacity = AgentCapacity{units, {}};
  return u;
}
ItemArrive arrival(ExternalId item, QueueId queue) {
  ItemArrive a;
  a.item = std::move(item);
  a.queue = queue;
  return a;
}

class ShmServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = fast_options(), Config config = test_config()) {
    name_ = options.name;
    Result<Server> server = Server::create(std::move(config), options, [this](std::string_view line) {
      log_.emplace_back(line);
    });
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_.emplace(std::move(server).value());
  }
  void TearDown() override {
    server_.reset();
    ::shm_unlink(name_.c_str());  // in case a test failed before the server stopped
  }

  TestHost host() {
    std::string why;
    std::optional<TestHost> h = TestHost::open(name_, &why);
    EXPECT_TRUE(h.has_value()) << why;
    if (!h) std::abort();
    return std::move(*h);
  }
  TestHost attached_host(std::uint32_t flags = SB_ATTACH_DECISIONS) {
    TestHost h = host();
    EXPECT_TRUE(h.attach(flags, pump()));
    return h;
  }
  TestHost::Pump pump() {
    return [this] { server_->poll_once(); };
  }
  void poll(int passes = 3) {
    for (int i = 0; i < passes; ++i) server_->poll_once();
  }
  // Polls for `d` of wall time.
  void poll_for(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) server_->poll_once();
  }
  bool logged(std::string_view fragment) const {
    for (const std::string& line : log_) {
      if (line.find(fragment) != std::string::npos) return true;
    }
    return false;
  }
  std::string log_text() const {
    std::string all;
    for (const std::string& line : log_) all += line + "\n";
    return all;
  }
  // An available agent in queue `queue` with `units` of capacity.
  void add_agent(TestHost& h, std::uint64_t& seq, ExternalId id, QueueId queue, std::int32_t units = 1) {
    ASSERT_EQ(h.send(make(++seq, available_agent(id, units))), SB_RING_OK);
    ASSERT_EQ(h.send(make(++seq, JoinQueue{id, queue})), SB_RING_OK);
  }

  std::string name_;
  std::vector<std::string> log_;
  std::optional<Server> server_;
};

std::vector<DecodedDecision> decisions_in(const std::vector<Received>& records) {
  std::vector<DecodedDecision> out;
  for (const Received& r : records) {
    if (r.type != SB_REC_DECISION) continue;
    Result<DecodedDecision> d = decode_decision(r.payload);
    EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
    if (d) out.push_back(std::move(d).value());
  }
  return out;
}
const Received* first_of_type(const std::vector<Received>& records, std::uint16_t type) {
  for (const Received& r : records) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

// --- segment ---------------------------------------------------------------------------------

TEST_F(ShmServerTest, SegmentHeaderDirectoryAndStatsAreLaidOutAsTheProtocolSays) {
  start();
  TestHost h = host();
  const sb_segment_header& hd = h.header();
  EXPECT_EQ(hd.magic, SB_SHM_MAGIC);
  EXPECT_EQ(hd.version, SB_SHM_VERSION);
  EXPECT_EQ(hd.max_hosts, 4u);
  EXPECT_EQ(hd.host_slots_offset, SB_SHM_PAGE);
  EXPECT_EQ(hd.in_ring_capacity, 64u << 10);
  EXPECT_EQ(hd.max_record_size, 4096u);
  EXPECT_EQ(hd.daemon_pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_NE(hd.generation, 0u);
  EXPECT_EQ(hd.generation, server_->generation());
  EXPECT_EQ(hd.segment_size, server_->segment_size());
  EXPECT_EQ(hd.queue_count, 2u);
  EXPECT_EQ(hd.presence_count, server_->kernel().config().presences.size());
  EXPECT_EQ(hd.directory_offset % SB_SHM_PAGE, 0u);
  EXPECT_EQ(hd.stats_offset % SB_SHM_PAGE, 0u);
  for (std::uint32_t i = 0; i < hd.max_hosts; ++i) {
    const sb_host_slot& slot = h.slot_at(static_cast<int>(i));
    EXPECT_EQ(slot.state, SB_SLOT_FREE);
    const auto* in = reinterpret_cast<const sb_ring_header*>(h.base() + slot.in_ring_offset);
    const auto* out = reinterpret_cast<const sb_ring_header*>(h.base() + slot.out_ring_offset);
    EXPECT_EQ(in->capacity, hd.in_ring_capacity);
    EXPECT_EQ(out->capacity, hd.out_ring_capacity);
    EXPECT_EQ(in->data_offset % SB_SHM_PAGE, 0u);
    EXPECT_LE(out->data_offset + out->capacity, hd.segment_size);
  }
  // Directory: queues, skills, presences, profiles, channels; names in index order.
  const std::uint8_t* p = h.base() + hd.directory_offset;
  const auto u32 = [&p] { std::uint32_t v; std::memcpy(&v, p, 4); p += 4; return v; };
  const auto name = [&p] {
    std::uint16_t n;
    std::memcpy(&n, p, 2);
    p += 2;
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    return s;
  };
  const Config& config = server_->kernel().config();
  ASSERT_EQ(u32(), 2u);
  EXPECT_EQ(name(), "support");
  EXPECT_EQ(name(), "sales");
  ASSERT_EQ(u32(), config.skills.size());
  for (const std::string& s : config.skills) EXPECT_EQ(name(), s);
  ASSERT_EQ(u32(), config.presences.size());
  for (const std::string& s : config.presences) EXPECT_EQ(name(), s);
  ASSERT_EQ(u32(), config.profiles.size());
  for (const ProfileConfig& s : config.profiles) EXPECT_EQ(name(), s.name);
  ASSERT_EQ(u32(), config.channels.size());
  for (const ChannelConfig& s : config.channels) EXPECT_EQ(name(), s.name);
  EXPECT_EQ(static_cast<std::uint64_t>(p - (h.base() + hd.directory_offset)), hd.directory_size);
  EXPECT_TRUE(logged("start: segment " + name_));
}

TEST_F(ShmServerTest, HeartbeatAdvancesAndStopMarksStoppingAndRemovesTheName) {
  start();
  TestHost h = host();
  const std::uint64_t before = sb_load_u64(&h.header().heartbeat_ns);
  poll_for(5ms);
  EXPECT_GT(sb_load_u64(&h.header().heartbeat_ns), before);
  server_->stop();
  EXPECT_EQ(sb_load_u32(&h.header().state), SB_SEGMENT_STOPPING);
  EXPECT_LT(::shm_open(name_.c_str(), O_RDONLY, 0), 0);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_TRUE(logged("stop: segment " + name_ + " removed"));
}

TEST_F(ShmServerTest, ARunningDaemonsSegmentIsRefused) {
  // A heartbeat interval long enough that a loaded machine cannot make it look stale here.
  ServerOptions first = fast_options();
  first.heartbeat_interval = 1s;
  start(first);
  ServerOptions second = fast_options();
  second.name = name_;
  Result<Server> other = Server::create(test_config(), second);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code, ErrorCode::config_io);
  EXPECT_NE(other.error().message.find("running switchboardd"), std::string::npos) << other.error().message;
  // The first daemon's segment is untouched.
  TestHost h = host();
  EXPECT_EQ(h.header().generation, server_->generation());
}

TEST_F(ShmServerTest, AStaleSegmentIsReplaced) {
  // A segment left by a daemon killed outright: valid header, its pid gone.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const std::string name = unique_segment_name();
  const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096), 0);
  auto* hd = static_cast<sb_segment_header*>(::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  ASSERT_NE(static_cast<void*>(hd), MAP_FAILED);
  hd->magic = SB_SHM_MAGIC;
  hd->daemon_pid = static_cast<std::uint32_t>(child);
  hd->generation = 77;
  hd->heartbeat_interval_ns = 10'000'000;
  hd->state = SB_SEGMENT_READY;
  ::munmap(hd, 4096);
  ::close(fd);

  ServerOptions o = fast_options();
  o.name = name;
  start(o);
  EXPECT_TRUE(logged("replacing stale segment of pid " + std::to_string(child))) << log_text();
  EXPECT_NE(server_->generation(), 77u);
  TestHost h = host();
  EXPECT_EQ(h.header().daemon_pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(h.header().generation, server_->generation());

  // Our own pid is alive, but a heartbeat of long ago is stale too.
  server_->stop();
  server_.reset();
  const int fd2 = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  ASSERT_GE(fd2, 0);
  ASSERT_EQ(::ftruncate(fd2, 4096), 0);
  hd = static_cast<sb_segment_header*>(::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0));
  hd->daemon_pid = static_cast<std::uint32_t>(::getpid());
  hd->heartbeat_ns = 1;
  hd->heartbeat_interval_ns = 10'000'000;
  hd->magic = SB_SHM_MAGIC;
  ::munmap(hd, 4096);
  ::close(fd2);
  log_.clear();
  start(o);
  EXPECT_TRUE(logged("replacing stale segment of pid " + std::to_string(::getpid()))) << log_text();
}

TEST_F(ShmServerTest, BadOptionsAreRefused) {
  ServerOptions o = fast_options();
  o.in_ring_bytes = 5000;
  Result<Server> s = Server::create(test_config(), o);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::config_invalid_value);
  o = fast_options();
  o.max_record_size = 32u << 10;  // over a quarter of 64 KiB
  EXPECT_FALSE(Server::create(test_config(), o).has_value());
  o = fast_options();
  o.name = "no-slash";
  EXPECT_FALSE(Server::create(test_config(), o).has_value());
}

// --- handshakes ------------------------------------------------------------------------------

TEST_F(ShmServerTest, AttachAndDetachHandshake) {
  start();
  TestHost h = host();
  ASSERT_EQ(h.lock_slot(), 0);
  h.request_attach(SB_ATTACH_DECISIONS);
  server_->poll_once();
  EXPECT_EQ(h.slot_state(), SB_SLOT_ATTACHED);
  EXPECT_EQ(h.slot_generation(), 1u);
  EXPECT_EQ(sb_load_u64(&h.in_header().tail), 0u);
  EXPECT_EQ(sb_load_u64(&h.out_header().head), 0u);
  h.bind();
  EXPECT_EQ(server_->hosts_attached(), 1u);
  EXPECT_TRUE(logged("attach: slot 0 (host pid " + std::to_string(::getpid()) + ")")) << log_text();

  // A second host gets the next slot: slot 0's lock is held by the first one's descriptor.
  TestHost second = host();
  ASSERT_TRUE(second.attach(0, pump()));
  EXPECT_EQ(second.slot_index(), 1);
  EXPECT_EQ(server_->hosts_attached(), 2u);

  std::uint64_t seq = 0;
  add_agent(h, seq, "ann", kSupport);  // committed before the detach: applied before FREE
  ASSERT_TRUE(h.detach(pump()));
  EXPECT_TRUE(server_->kernel().agent("ann").has_value());
  EXPECT_EQ(server_->hosts_attached(), 1u);
  EXPECT_TRUE(logged("detach: slot 0")) << log_text();
  EXPECT_EQ(h.slot_at(0).records_in, 2u);

  // The freed slot is taken again, with a new generation.
  TestHost third = host();
  ASSERT_TRUE(third.attach(0, pump()));
  EXPECT_EQ(third.slot_index(), 0);
  EXPECT_EQ(third.slot_generation(), 2u);
  EXPECT_EQ(third.slot().records_in, 0u);
}

// --- decisions, errors, acks ------------------------------------------------------------------

TEST_F(ShmServerTest, AnArrivalForAnAvailableAgentIsOfferedWithItsCause) {
  start();
  TestHost a = attached_host(SB_ATTACH_DECISIONS);
  TestHost watcher = attached_host(SB_ATTACH_DECISIONS);
  TestHost quiet = attached_host(0);
  std::uint64_t seq = 100;
  add_agent(a, seq, "ann", kSupport);
  ASSERT_EQ(a.send(make(++seq, arrival(7, kSupport))), SB_RING_OK);
  poll();
  for (TestHost* h : {&a, &watcher}) {
    const std::vector<DecodedDecision> got = decisions_in(h->receive_all());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].decision.kind, DecisionKind::offer);
    EXPECT_EQ(got[0].decision.item, ExternalId(7));
    EXPECT_EQ(got[0].decision.agent, ExternalId("ann"));
    EXPECT_EQ(got[0].decision.queue, kSupport);
    EXPECT_EQ(got[0].cause.slot, a.slot_index());
    EXPECT_EQ(got[0].cause.sequence, seq);
  }
  EXPECT_TRUE(quiet.receive_all().empty());
  EXPECT_EQ(server_->counters().decisions, 1u);
  EXPECT_EQ(server_->counters().events_applied, 3u);

  // The decision record's sequence is the daemon's decision number; a second host's event
  // makes the next one, and names that host.
  ASSERT_EQ(quiet.send(make(5, OfferAccept{7, "ann"})), SB_RING_OK);
  poll();
  const std::vector<Received> records = watcher.receive_all();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].type, SB_REC_DECISION);
  EXPECT_EQ(records[0].sequence, 2u);
  const std::vector<DecodedDecision> got = decisions_in(records);
  EXPECT_EQ(got[0].decision.kind, DecisionKind::assigned);
  EXPECT_EQ(got[0].cause.slot, quiet.slot_index());
  EXPECT_EQ(got[0].cause.sequence, 5u);

  // Statistics: one live item, nothing waiting, the agent counted as available.
  poll_for(3ms);
  const sb_segment_header& hd = a.header();
  const auto* stats = reinterpret_cast<const sb_stats*>(a.base() + hd.stats_offset);
  const auto* words = reinterpret_cast<const std::uint64_t*>(stats + 1);
  EXPECT_EQ(stats->events_applied, 4u);
  EXPECT_EQ(stats->decisions, 2u);
  EXPECT_EQ(stats->live_items, 1u);
  EXPECT_EQ(stats->agents, 1u);
  EXPECT_EQ(stats->hosts_attached, 3u);
  EXPECT_EQ(words[kSupport], 0u);
  EXPECT_EQ(words[hd.queue_count + kAvailable], 1u);
}

TEST_F(ShmServerTest, ATimersDecisionNamesTheRecordThatAdvancedTheClock) {
  Config config = test_config();
  config.channels[kChat].offer_timeout_ms = 1000;
  start(fast_options(), config);
  TestHost a = attached_host();
  TestHost b = attached_host(0);
  std::uint64_t seq = 0;
  add_agent(a, seq, "ann", kSupport);
  ASSERT_EQ(a.send(make(++seq, arrival(1, kSupport), 10)), SB_RING_OK);
  poll();
  a.receive_all();
  ASSERT_EQ(b.send(make(42, Tick{}, 5000)), SB_RING_OK);  // the offer times out
  poll();
  const std::vector<DecodedDecision> got = decisions_in(a.receive_all());
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].decision.kind, DecisionKind::requeued);
  for (const DecodedDecision& d : got) {
    EXPECT_EQ(d.cause.slot, b.slot_index());
    EXPECT_EQ(d.cause.sequence, 42u);
  }
}

TEST_F(ShmServerTest, AMalformedRecordGetsAnErrorWithItsSequenceAndChangesNothing) {
  start();
  TestHost a = attached_host();
  TestHost other = attached_host();
  std::uint64_t seq = 0;
  add_agent(a, seq, "ann", kSupport);
  poll();
  a.receive_all();
  other.receive_all();
  const std::uint8_t garbage[] = {1, 2, 3};
  ASSERT_EQ(a.send_raw(SB_REC_ITEM_ARRIVE, SB_FLAG_ACK, 900, garbage), SB_RING_OK);
  ASSERT_EQ(a.send_raw(0x4242, 0, 901, {}), SB_RING_OK);  // no such type
  ASSERT_EQ(a.send(make(902, ItemComplete{12345})), SB_RING_OK);  // decodes; the kernel refuses
  poll();
  const std::vector<Received> got = a.receive_all();
  ASSERT_EQ(got.size(), 3u);
  const std::uint16_t types[] = {SB_REC_ITEM_ARRIVE, 0x4242, SB_REC_ITEM_COMPLETE};
  const ErrorCode codes[] = {ErrorCode::malformed_event, ErrorCode::malformed_event, ErrorCode::unknown_item};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].type, SB_REC_ERROR);  // no ACK for a record that was not applied
    EXPECT_EQ(got[i].sequence, 900 + i);
    Result<DecodedError> e = decode_error(got[i].payload);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e.value().code, codes[i]);
    EXPECT_EQ(e.value().record_type, types[i]);
    EXPECT_FALSE(e.value().message.empty());
  }
  EXPECT_TRUE(other.receive_all().empty());  // errors go to the sender only
  EXPECT_EQ(server_->counters().malformed, 2u);
  EXPECT_EQ(server_->counters().events_refused, 1u);
  EXPECT_EQ(server_->kernel().live_item_count(), 0u);
  EXPECT_EQ(server_->kernel().check_invariants(), "");
  EXPECT_EQ(a.slot().errors_out, 3u);
  EXPECT_EQ(a.slot().records_in, 5u);

  // The next valid record works as if nothing had happened.
  ASSERT_EQ(a.send(make(903, arrival(7, kSupport))), SB_RING_OK);
  poll();
  const std::vector<DecodedDecision> offers = decisions_in(a.receive_all());
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].decision.agent, ExternalId("ann"));
  EXPECT_EQ(offers[0].cause.sequence, 903u);
}

TEST_F(ShmServerTest, AnAckComesAfterTheDecisionsOfItsRecord) {
  start();
  TestHost a = attached_host();
  std::uint64_t seq = 0;
  add_agent(a, seq, "ann", kSupport);
  ASSERT_EQ(a.send(make(50, arrival(7, kSupport)), SB_FLAG_ACK), SB_RING_OK);
  ASSERT_EQ(a.send(make(51, arrival(8, kSupport)), SB_FLAG_ACK), SB_RING_OK);  // nobody free
  poll();
  const std::vector<Received> got = a.receive_all();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, SB_REC_DECISION);
  EXPECT_EQ(got[1].type, SB_REC_ACK);
  EXPECT_EQ(got[1].sequence, 50u);
  EXPECT_EQ(got[2].type, SB_REC_ACK);
  EXPECT_EQ(got[2].sequence, 51u);
  Result<std::uint16_t> slot = decode_ack(got[1].payload);
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(slot.value(), a.slot_index());
  EXPECT_EQ(server_->counters().acks, 2u);
}

// Exactly one answer per record: a refused record that asked for an ACK gets its ERROR and no
// ACK (docs/protocol.md, "Answers"), whether the decoder or the kernel refused it.
TEST_F(ShmServerTest, ARefusedRecordThatAskedForAnAckGetsOnlyItsError) {
  start();
  TestHost a = attached_host();
  std::uint64_t seq = 0;
  add_agent(a, seq, "ann", kSupport);
  poll();
  a.receive_all();
  const std::uint8_t garbage[] = {7};
  ASSERT_EQ(a.send_raw(SB_REC_ITEM_CANCEL, SB_FLAG_ACK, 10, garbage), SB_RING_OK);  // malformed
  ASSERT_EQ(a.send(make(11, ItemComplete{999}), SB_FLAG_ACK), SB_RING_OK);      // unknown item (R5)
  ASSERT_EQ(a.send(make(12, Tick{}), SB_FLAG_ACK), SB_RING_OK);                  // applied
  poll();
  const std::vector<Received> got = a.receive_all();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, SB_REC_ERROR);
  EXPECT_EQ(got[0].sequence, 10u);
  EXPECT_EQ(got[1].type, SB_REC_ERROR);
  EXPECT_EQ(got[1].sequence, 11u);
  Result<DecodedError> refused = decode_error(got[1].payload);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused.value().code, ErrorCode::unknown_item);
  EXPECT_EQ(got[2].type, SB_REC_ACK);
  EXPECT_EQ(got[2].sequence, 12u);
  EXPECT_EQ(server_->counters().acks, 1u);
  EXPECT_EQ(a.slot().errors_out, 2u);
}

// --- back-pressure -------------------------------------------------------------------------------

TEST_F(ShmServerTest, AFullOutboundRingHoldsEveryoneBackAndLosesNothing) {
  ServerOptions o = fast_options();
  o.out_ring_bytes = 4096;
  o.max_record_size = 1024;
  o.batch_size = 16;
  start(o);
  TestHost slow = attached_host(SB_ATTACH_DECISIONS);
  TestHost other = attached_host(0);
  std::uint64_t seq = 0;
  add_agent(slow, seq, "ann", kSupport, 100'000);
  constexpr std::uint64_t kItems = 400;  // ~80 bytes of output each: several rings' worth
  for (std::uint64_t i = 1; i <= kItems; ++i) {
    ASSERT_EQ(slow.send(make(++seq, arrival(i, kSupport)), SB_FLAG_ACK), SB_RING_OK);
  }
  poll(200);  // the slow host reads nothing
  EXPECT_GE(server_->counters().backpressure_waits, 1u);
  const std::uint64_t taken = server_->counters().records_in;
  EXPECT_LT(taken, kItems);
  // Everyone waits: another host's record is not taken while the ring is full.
  ASSERT_EQ(other.send(make(1, Tick{}, 1)), SB_RING_OK);
  poll(20);
  EXPECT_EQ(server_->counters().records_in, taken);
  // The heartbeat goes on meanwhile.
  const std::uint64_t beat = sb_load_u64(&slow.header().heartbeat_ns);
  poll_for(3ms);
  EXPECT_GT(sb_load_u64(&slow.header().heartbeat_ns), beat);

  // Reading lets it go on, and every answer arrives, in order, without a gap.
  std::uint64_t next_decision = 1;
  std::uint64_t next_ack = 3;  // 1 and 2 were the agent's records, sent without the flag
  for (int round = 0; round < 10'000 && next_ack <= seq; ++round) {
    server_->poll_once();
    for (const Received& r : slow.receive_all()) {
      if (r.type == SB_REC_DECISION) {
        ASSERT_EQ(r.sequence, next_decision++);
        Result<DecodedDecision> d = decode_decision(r.payload);
        ASSERT_TRUE(d.has_value());
        EXPECT_EQ(d.value().cause.sequence, next_ack);  // its event's ACK comes after it
      } else {
        ASSERT_EQ(r.type, SB_REC_ACK);
        ASSERT_EQ(r.sequence, next_ack++);
      }
    }
  }
  EXPECT_EQ(next_ack, seq + 1);
  EXPECT_EQ(next_decision, kItems + 1);
  EXPECT_EQ(server_->counters().records_in, seq + 1);
  EXPECT_EQ(server_->kernel().live_item_count(), kItems);
}

// A live host that stops reading holds everyone back only until the outbound stall timeout:
// then its slot is reset, and the others go on without losing anything.
TEST_F(ShmServerTest, AHostThatStopsReadingIsResetAfterTheStallTimeoutAndOthersLoseNothing) {
  ServerOptions o = fast_options();
  o.out_ring_bytes = 4096;
  o.max_record_size = 1024;
  o.batch_size = 16;
  o.outbound_stall_timeout = 150ms;
  start(o);
  TestHost deaf = attached_host(SB_ATTACH_DECISIONS);  // never reads a thing
  TestHost good = attached_host(SB_ATTACH_DECISIONS);
  const std::uint64_t deaf_generation = deaf.slot_generation();
  std::uint64_t seq = 0;
  add_agent(good, seq, "ann", kSupport, 100'000);
  constexpr std::uint64_t kItems = 300;  // ~80 bytes of output each, to both hosts
  for (std::uint64_t i = 1; i <= kItems; ++i) {
    ASSERT_EQ(good.send(make(++seq, arrival(i, kSupport)), SB_FLAG_ACK), SB_RING_OK);
  }
  std::uint64_t next_decision = 1;
  std::uint64_t next_ack = 3;  // 1 and 2 were the agent's records, sent without the flag
  const auto serve_and_read = [&](std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until && next_ack <= seq) {
      server_->poll_once();
      for (const Received& r : good.receive_all()) {
        if (r.type == SB_REC_DECISION) {
          ASSERT_EQ(r.sequence, next_decision++);
          Result<DecodedDecision> d = decode_decision(r.payload);
          ASSERT_TRUE(d.has_value());
          EXPECT_EQ(d.value().cause.sequence, next_ack);
        } else {
          ASSERT_EQ(r.type, SB_REC_ACK);
          ASSERT_EQ(r.sequence, next_ack++);
        }
      }
    }
  };
  // Before the timeout: the deaf host's full ring holds the good one back, though it reads.
  serve_and_read(30ms);
  EXPECT_GE(server_->counters().backpressure_waits, 1u);
  EXPECT_LT(next_ack, seq + 1);
  EXPECT_EQ(deaf.slot_state(), SB_SLOT_ATTACHED);
  EXPECT_EQ(server_->counters().stall_resets, 0u);
  // After it: the deaf host is reset, and every answer of the good one arrives, in order.
  serve_and_read(5s);
  EXPECT_EQ(deaf.slot_state(), SB_SLOT_RESET);
  EXPECT_NE(deaf.slot_generation(), deaf_generation);
  EXPECT_EQ(deaf.slot().resets, 1u);
  EXPECT_EQ(server_->counters().stall_resets, 1u);
  EXPECT_EQ(server_->counters().stuck_resets, 0u);
  poll_for(5ms);  // a statistics refresh (every 1 ms here) publishes the same counts
  const auto* stats = reinterpret_cast<const sb_stats*>(good.base() + good.header().stats_offset);
  EXPECT_EQ(__atomic_load_n(&stats->stall_resets, __ATOMIC_RELAXED), 1u);
  EXPECT_EQ(__atomic_load_n(&stats->stuck_resets, __ATOMIC_RELAXED), 0u);
  EXPECT_TRUE(logged("stall reset: slot " + std::to_string(deaf.slot_index()))) << log_text();
  EXPECT_EQ(next_ack, seq + 1);
  EXPECT_EQ(next_decision, kItems + 1);
  EXPECT_EQ(server_->kernel().live_item_count(), kItems);
  EXPECT_EQ(good.slot_state(), SB_SLOT_ATTACHED);
}

// --- stuck, corrupt, dead ------------------------------------------------------------------------

TEST_F(ShmServerTest, AStuckRecordResetsItsSlotWhileAnotherHostKeepsWorking) {
  start();
  TestHost stuck = attached_host(0);
  TestHost good = attached_host();
  std::uint64_t seq = 0;
  add_agent(good, seq, "ann", kSupport, 100'000);
  ASSERT_EQ(stuck.send(make(1, arrival(1, kSupport))), SB_RING_OK);
  ASSERT_NE(stuck.claim_only(40, SB_REC_ITEM_ARRIVE, 2), nullptr);  // never committed
  const std::uint64_t generation = stuck.slot_generation();
  std::uint64_t item = 100;
  const auto until = std::chrono::steady_clock::now() + 150ms;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(good.send(make(++seq, arrival(++item, kSupport)), SB_FLAG_ACK), SB_RING_OK);
    poll(5);
    good.receive_all();
    std::this_thread::sleep_for(500us);
  }
  EXPECT_EQ(stuck.slot_state(), SB_SLOT_RESET);
  EXPECT_NE(stuck.slot_generation(), generation);
  EXPECT_EQ(stuck.slot().resets, 1u);
  EXPECT_EQ(server_->counters().stuck_resets, 1u);
  EXPECT_TRUE(logged("stuck reset: slot " + std::to_string(stuck.slot_index()))) << log_text();
  // The host learns why: a NOTICE (after the answers to what it sent before).
  const std::vector<Received> got = stuck.receive_all();
  const Received* notice = first_of_type(got, SB_REC_NOTICE);
  ASSERT_NE(notice, nullptr);
  Result<DecodedNotice> n = decode_notice(notice->payload);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n.value().code, NoticeCode::ring_reset);
  // The committed record before the stuck one was applied; the good host lost nothing.
  EXPECT_TRUE(server_->kernel().item(1).has_value());
  EXPECT_EQ(server_->kernel().live_item_count(), 1 + (item - 100));
  EXPECT_EQ(good.slot_state(), SB_SLOT_ATTACHED);

  // Attaching again from RESET: fresh rings, and it works.
  stuck.request_attach(0);
  ASSERT_TRUE(stuck.wait_state(SB_SLOT_ATTACHED, pump(), 1s));
  stuck.bind();
  ASSERT_EQ(stuck.send(make(3, ItemCancel{1}), SB_FLAG_ACK), SB_RING_OK);
  poll();
  const std::vector<Received> answers = stuck.receive_all();
  const Received* ack = first_of_type(answers, SB_REC_ACK);
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->sequence, 3u);
  EXPECT_EQ(stuck.slot().resets, 1u);  // a re-attach keeps the host's history
}

TEST_F(ShmServerTest, AHostStuckWhileItsOutboundRingIsFullIsResetAndReleasesEveryone) {
  ServerOptions o = fast_options();
  o.out_ring_bytes = 4096;
  o.max_record_size = 1024;
  start(o);
  TestHost stuck = attached_host(SB_ATTACH_DECISIONS);  // and it never reads them
  TestHost good = attached_host(0);
  ASSERT_NE(stuck.claim_only(40, SB_REC_TICK, 1), nullptr);
  std::uint64_t seq = 0;
  add_agent(good, seq, "ann", kSupport, 100'000);
  for (std::uint64_t i = 1; i <= 200; ++i) {
    ASSERT_EQ(good.send(make(++seq, arrival(i, kSupport)), SB_FLAG_ACK), SB_RING_OK);
  }
  poll(50);
  EXPECT_GE(server_->counters().backpressure_waits, 1u);
  EXPECT_LT(server_->counters().records_in, seq);
  poll_for(100ms);  // past the stuck timeout: the stuck host is reset, its outputs discarded
  EXPECT_EQ(stuck.slot_state(), SB_SLOT_RESET);
  std::uint64_t acks = 0;
  for (int round = 0; round < 1000 && acks < 200; ++round) {
    server_->poll_once();
    for (const Received& r : good.receive_all()) acks += r.type == SB_REC_ACK ? 1 : 0;
  }
  EXPECT_EQ(acks, 200u);
  EXPECT_EQ(server_->kernel().live_item_count(), 200u);
}

TEST_F(ShmServerTest, AHostThatDiesIsSeenAndItsCommittedRecordsAreApplied) {
  start();
  TestHost survivor = attached_host();
  std::uint64_t seq = 0;
  TestHost doomed = attached_host();
  const int slot = doomed.slot_index();
  add_agent(doomed, seq, "ann", kSupport);
  ASSERT_NE(doomed.claim_only(40, SB_REC_ITEM_ARRIVE, ++seq), nullptr);  // dies mid-write
  doomed.die();
  poll_for(20ms);
  EXPECT_EQ(sb_load_u32(&survivor.slot_at(slot).state), SB_SLOT_FREE);
  EXPECT_TRUE(server_->kernel().agent("ann").has_value());
  EXPECT_EQ(server_->counters().hosts_died, 1u);
  const auto* stats = reinterpret_cast<const sb_stats*>(survivor.base() + survivor.header().stats_offset);
  EXPECT_EQ(__atomic_load_n(&stats->hosts_died, __ATOMIC_RELAXED), 1u);  // refreshed every 1 ms here
  EXPECT_TRUE(logged("host died: slot 1")) << log_text();
  EXPECT_TRUE(logged("dropped a record at position")) << log_text();
  EXPECT_EQ(server_->hosts_attached(), 1u);
  // The survivor is untouched, and the freed slot can be taken again.
  ASSERT_EQ(survivor.send(make(1, arrival(9, kSupport))), SB_RING_OK);
  poll();
  EXPECT_EQ(decisions_in(survivor.receive_all()).size(), 1u);
  TestHost next = attached_host();
  EXPECT_EQ(next.slot_index(), 1);
}

TEST_F(ShmServerTest, AForkedHostThatExitsWithoutDetachingIsFreed) {
  start();
  TestHost parent_view = host();
  const pid_t child = ::fork();
  if (child == 0) {
    // The host process: attach (the parent's poll answers), send, exit without detaching.
    std::optional<TestHost> h = TestHost::open(name_);
    if (!h || !h->attach(0, nullptr, 2s)) ::_exit(1);
    std::uint64_t seq = 0;
    for (const Event& e : {make(++seq, available_agent("kid", 1)), make(++seq, JoinQueue{"kid", kSales})}) {
      if (h->send(e) != SB_RING_OK) ::_exit(2);
    }
    ::_exit(0);  // the kernel drops the OFD lock
  }
  ASSERT_GT(child, 0);
  int status = -1;
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    server_->poll_once();
    if (::waitpid(child, &status, WNOHANG) == child) break;
  }
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  poll_for(20ms);
  EXPECT_EQ(sb_load_u32(&parent_view.slot_at(0).state), SB_SLOT_FREE);
  EXPECT_TRUE(logged("host died: slot 0 (host pid " + std::to_string(child) + ")")) << log_text();
  const std::optional<AgentView> kid = server_->kernel().agent("kid");
  ASSERT_TRUE(kid.has_value());
  EXPECT_EQ(kid->queues, std::vector<QueueId>{kSales});
}

// A vandal host writes garbage over its inbound ring's data and indices, over its outbound
// head, over both its ring headers whole (capacity and data_offset included) and its slot, and
// over the words that place the other host's rings and the daemon's statistics and directory;
// it re-attaches whenever its slot is not ATTACHED. The daemon must neither crash nor disturb the
// other host, and every attach must give the vandal back the segment's real ring words.
TEST_F(ShmServerTest, RandomBytesInALiveRingNeverHurtTheDaemonOrAnotherHost) {
  start();
  TestHost vandal = attached_host(0);
  TestHost good = attached_host(SB_ATTACH_DECISIONS);
  std::uint64_t seq = 0;
  add_agent(good, seq, "ann", kSupport, 1'000'000);
  // The real words, as the daemon laid them out (nobody has scribbled yet).
  const std::uint64_t in_offset = vandal.slot().in_ring_offset;
  const std::uint64_t out_offset = vandal.slot().out_ring_offset;
  const sb_ring_header real_in = vandal.in_header();
  const sb_ring_header real_out = vandal.out_header();
  const auto scribble = [](std::mt19937_64& random, void* p, std::size_t n) {
    auto* bytes = static_cast<std::uint8_t*>(p);
    for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(random());
  };
  std::mt19937_64 random(12345);
  std::uint64_t item = 0;
  std::uint64_t acked = 0;
  int reattached = 0;
  for (int round = 0; round < 300; ++round) {
    vandal.receive_all();
    if (vandal.slot_state() != SB_SLOT_ATTACHED) {  // reset, or its own scribbles moved it
      vandal.request_attach(0);
      ASSERT_TRUE(vandal.wait_state(SB_SLOT_ATTACHED, pump(), 1s));
      // The daemon wrote the words back: bind() follows them.
      ASSERT_EQ(vandal.slot().in_ring_offset, in_offset);
      ASSERT_EQ(vandal.slot().out_ring_offset, out_offset);
      ASSERT_EQ(vandal.in_header().capacity, real_in.capacity);
      ASSERT_EQ(vandal.in_header().data_offset, real_in.data_offset);
      ASSERT_EQ(vandal.out_header().capacity, real_out.capacity);
      ASSERT_EQ(vandal.out_header().data_offset, real_out.data_offset);
      ASSERT_EQ(sb_load_u64(&vandal.in_header().tail), 0u);
      ASSERT_EQ(sb_load_u64(&vandal.out_header().head), 0u);
      vandal.bind();
      ++reattached;
    }
    // The vandal's own views, bound at its last attach: the shared words may be garbage now.
    sb_ring_header& in = *vandal.in().header;
    std::uint8_t* data = vandal.in().data;
    const std::uint64_t capacity = vandal.in().mask + 1;
    switch (random() % 6) {
      case 0:  // random bytes, then a tail that exposes them
        for (int i = 0; i < 64; ++i) data[random() % capacity] = static_cast<std::uint8_t>(random());
        sb_store_u64(&in.tail, sb_load_u64(&in.tail) + (random() % 256));
        break;
      case 1:  // a tail from anywhere
        sb_store_u64(&in.tail, random());
        break;
      case 2: {  // a committed record of any length and type over the head
        const std::uint64_t head = sb_load_u64(&in.head);
        auto* rec = reinterpret_cast<sb_record_header*>(data + (head & (capacity - 1) & ~std::uint64_t{7}));
        rec->type = static_cast<std::uint16_t>(random() % 20);
        sb_store_u32(&rec->commit, static_cast<std::uint32_t>(random()) | SB_RECORD_COMMITTED);
        sb_store_u64(&in.tail, head + 8 * (1 + random() % 64));
        break;
      }
      case 3:  // both ring headers whole and the slot whole (state included); then it re-attaches
        scribble(random, vandal.in().header, sizeof(sb_ring_header));
        scribble(random, vandal.out().header, sizeof(sb_ring_header));
        scribble(random, &vandal.slot(), sizeof(sb_host_slot));
        if (random() % 2 == 0) sb_store_u32(&vandal.slot().state, SB_SLOT_ATTACH_REQUESTED);
        break;
      case 4: {  // where the other host's rings are, the statistics and the directory
        sb_ring_header* theirs[] = {good.in().header, good.out().header};
        for (sb_ring_header* r : theirs) {
          r->capacity = random() % 4 == 0 ? 0 : random();
          r->data_offset = random() % 4 == 0 ? std::uint64_t{1} << 40 : random();
        }
        const sb_segment_header& hd = vandal.header();
        scribble(random, vandal.base() + hd.stats_offset, hd.stats_size);
        scribble(random, vandal.base() + hd.directory_offset, hd.directory_size);
        break;
      }
      default: {  // a well-formed record with a random payload
        std::vector<std::uint8_t> payload(random() % 64);
        for (std::uint8_t& b : payload) b = static_cast<std::uint8_t>(random());
        (void)vandal.send_raw(static_cast<std::uint16_t>(1 + random() % 17), 0, 1, payload);
        break;
      }
    }
    // A hostile outbound head, now and then.
    if (random() % 16 == 0) sb_store_u64(&vandal.out().header->head, random());
    ++item;
    ASSERT_EQ(good.send(make(++seq, arrival(item, kSupport)), SB_FLAG_ACK), SB_RING_OK);
    poll(3);
    for (const Received& r : good.receive_all()) {
      if (r.type == SB_REC_ACK) {
        EXPECT_EQ(r.sequence, seq);
        ++acked;
      }
    }
  }
  EXPECT_EQ(acked, 300u);
  EXPECT_EQ(good.slot_state(), SB_SLOT_ATTACHED);
  EXPECT_EQ(good.slot().resets, 0u);
  EXPECT_GT(server_->counters().stuck_resets, 0u);
  EXPECT_GT(reattached, 20);
  EXPECT_EQ(server_->kernel().check_invariants(), "");
  for (std::uint64_t i = 1; i <= item; ++i) EXPECT_TRUE(server_->kernel().item(i).has_value()) << i;
}

// A host's side of a ring bound from words it read before it scribbled over them: these tests
// are about what the daemon does with the words, so the host does not follow them itself.
void bind_known(sb_ring& ring, sb_ring_header* header, std::uint8_t* data, std::uint64_t capacity,
                std::uint32_t max_record) {
  ring = sb_ring{};
  ring.header = header;
  ring.data = data;
  ring.mask = capacity - 1;
  ring.max_record = max_record;
}

// The ring header's capacity and data_offset sit in shared memory, where any host can write.
// The daemon binds its views of a slot's rings from its own layout at every attach and writes
// the words back, so a host that changed them before asking to attach gets working rings, and
// the daemon neither writes (outbound) nor reads (inbound) anywhere else. Before that, it
// followed the words: a data_offset of 2^40 or one at the segment's last bytes killed it
// (SIGSEGV) at its first outbound record, and a capacity of 0 or 3 left the ring full or corrupt
// for good.
TEST_F(ShmServerTest, HostileRingCapacityOrDataOffsetCannotMoveTheDaemonsRings) {
  start();
  TestHost bystander = attached_host(0);
  std::uint64_t seq = 0;
  const std::uint64_t size = server_->segment_size();
  struct Case {
    const char* what;
    bool outbound;
    bool capacity;  // which word: capacity, else data_offset
    std::uint64_t value;
  };
  const Case cases[] = {
      {"outbound data_offset 2^40", true, false, std::uint64_t{1} << 40},
      {"inbound data_offset 2^40", false, false, std::uint64_t{1} << 40},
      {"outbound data_offset at the segment's last 8 bytes", true, false, size - 8},
      {"inbound data_offset at the segment's last 8 bytes", false, false, size - 8},
      {"outbound capacity 0", true, true, 0},
      {"inbound capacity 0", false, true, 0},
      {"outbound capacity 3", true, true, 3},
      {"inbound capacity 3", false, true, 3},
      {"outbound capacity 2^40", true, true, std::uint64_t{1} << 40},
      {"inbound capacity 2^40", false, true, std::uint64_t{1} << 40},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    TestHost vandal = host();
    ASSERT_GE(vandal.lock_slot(), 0);
    sb_ring_header* in = &vandal.in_header();
    sb_ring_header* out = &vandal.out_header();
    const std::uint64_t in_capacity = in->capacity, in_data = in->data_offset;
    const std::uint64_t out_capacity = out->capacity, out_data = out->data_offset;
    sb_ring_header* target = c.outbound ? out : in;
    (c.capacity ? target->capacity : target->data_offset) = c.value;
    vandal.request_attach(0);
    ASSERT_TRUE(vandal.wait_state(SB_SLOT_ATTACHED, pump(), 1s));
    const std::uint32_t max_record = vandal.header().max_record_size;
    bind_known(vandal.in(), in, vandal.base() + in_data, in_capacity, max_record);
    bind_known(vandal.out(), out, vandal.base() + out_data, out_capacity, max_record);
    // The daemon wrote the words back: a host that binds from them now gets the real rings.
    EXPECT_EQ(in->capacity, in_capacity);
    EXPECT_EQ(in->data_offset, in_data);
    EXPECT_EQ(out->capacity, out_capacity);
    EXPECT_EQ(out->data_offset, out_data);
    // One record asking for an ACK: the daemon reads it from the real inbound data and writes
    // the ACK to the real outbound data.
    ++seq;
    ASSERT_EQ(vandal.send(make(seq, arrival(seq, kSupport)), SB_FLAG_ACK), SB_RING_OK);
    poll(5);
    const std::vector<Received> got = vandal.receive_all();
    const Received* ack = first_of_type(got, SB_REC_ACK);
    ASSERT_NE(ack, nullptr);
    EXPECT_EQ(ack->sequence, seq);
    EXPECT_EQ(vandal.slot_state(), SB_SLOT_ATTACHED);
    EXPECT_EQ(vandal.slot().resets, 0u);
    ASSERT_TRUE(vandal.detach(pump()));
    // The bystander never noticed.
    ++seq;
    ASSERT_EQ(bystander.send(make(seq, arrival(seq, kSales)), SB_FLAG_ACK), SB_RING_OK);
    poll(5);
    const std::vector<Received> bystander_got = bystander.receive_all();
    ASSERT_NE(first_of_type(bystander_got, SB_REC_ACK), nullptr);
  }
  EXPECT_EQ(bystander.slot_state(), SB_SLOT_ATTACHED);
  EXPECT_EQ(server_->counters().stuck_resets, 0u);
  EXPECT_EQ(server_->kernel().check_invariants(), "");
}

// --- a parallel kernel ---------------------------------------------------------------------------

TEST_F(ShmServerTest, CausesStayRightWhenTheKernelAppliesABatchInParallel) {
  ServerOptions o = fast_options();
  o.kernel.threads = 2;
  o.kernel.min_events_per_task = 2;
  o.batch_size = 256;
  start(o);
  TestHost a = attached_host();
  std::uint64_t seq = 0;
  add_agent(a, seq, "ann", kSupport, 1'000'000);
  add_agent(a, seq, "bob", kSales, 1'000'000);
  poll();
  // Items numbered by the sequence of their arrival, alternating between two independent queues.
  for (int i = 0; i < 200; ++i) {
    ++seq;
    ASSERT_EQ(a.send(make(seq, arrival(seq, i % 2 == 0 ? kSupport : kSales), 1000)), SB_RING_OK);
  }
  poll(5);
  const std::vector<DecodedDecision> got = decisions_in(a.receive_all());
  ASSERT_EQ(got.size(), 200u);
  for (const DecodedDecision& d : got) {
    ASSERT_TRUE(d.decision.item.is_number());
    EXPECT_EQ(d.cause.sequence, d.decision.item.number());
  }
  EXPECT_GT(server_->kernel().parallel_events(), 0u);
}

}  // namespace
}  // namespace switchboard::shm
