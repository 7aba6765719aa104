// The packed capacity word (agent_table.hpp): layout, reservation rules (R6) and the
// compare-and-swap under contention. The contention tests run under ThreadSanitizer in CI (the
// tsan preset runs the unit label), which also proves the word's accesses race-free.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "switchboard/agent_table.hpp"

namespace switchboard {
namespace {

Reservation units(std::uint64_t n, std::uint64_t blocked = 0) {
  Reservation r;
  r.units = true;
  r.delta = n;
  r.blocked_mask = blocked;
  return r;
}

Reservation slot(std::size_t profile, std::uint64_t blocked = 0) {
  Reservation r;
  r.units = false;
  r.profile = profile;
  r.delta = capacity_word::profile_one(profile);
  r.blocked_mask = blocked;
  return r;
}

AgentColumns one_agent(std::uint32_t max_units, std::uint32_t chat, std::uint32_t voice) {
  AgentColumns table;
  table.grow(1);
  table.max[0] = max_units | (std::uint64_t{chat} << 32) | (std::uint64_t{voice} << 40);
  return table;
}

TEST(CapacityWord, FieldsDoNotOverlap) {
  std::uint64_t word = 0xFFFF'FFFFull;  // every unit bit set
  EXPECT_EQ(capacity_word::profile(word, 0), 0u);
  word += capacity_word::profile_one(3) * 255;
  EXPECT_EQ(capacity_word::profile(word, 3), 255u);
  EXPECT_EQ(capacity_word::units(word), 0xFFFF'FFFFull);
  EXPECT_EQ(capacity_word::profile(word, 2), 0u);
}

TEST(CapacityWord, UnitReservationsStopAtTheMaximum) {
  AgentColumns table = one_agent(5, 0, 0);
  EXPECT_TRUE(table.try_reserve(0, units(3), true));
  EXPECT_FALSE(table.try_reserve(0, units(3), true));  // 3 + 3 > 5: I1
  EXPECT_TRUE(table.try_reserve(0, units(2), true));
  EXPECT_EQ(capacity_word::units(table.used_word(0)), 5u);
  table.release(0, 3);
  EXPECT_EQ(capacity_word::units(table.used_word(0)), 2u);
}

TEST(CapacityWord, ProfileSlotsCountPerProfile) {
  AgentColumns table = one_agent(0, 2, 1);
  EXPECT_TRUE(table.try_reserve(0, slot(0), true));
  EXPECT_TRUE(table.try_reserve(0, slot(0), true));
  EXPECT_FALSE(table.try_reserve(0, slot(0), true));
  EXPECT_TRUE(table.try_reserve(0, slot(1), true));
  EXPECT_EQ(capacity_word::profile(table.used_word(0), 0), 2u);
  EXPECT_EQ(capacity_word::profile(table.used_word(0), 1), 1u);
}

TEST(CapacityWord, ABlockingProfileHeldRefusesOthersUnlessBlockingIsIgnored) {
  AgentColumns table = one_agent(4, 3, 1);
  ASSERT_TRUE(table.try_reserve(0, slot(1), true));  // a call (profile 1 blocks others)
  const std::uint64_t voice_blocks = capacity_word::profile_mask(1);
  EXPECT_FALSE(table.try_reserve(0, slot(0, voice_blocks), true));
  EXPECT_FALSE(table.try_reserve(0, units(1, voice_blocks), true));
  // R15: manual assignment respects only I1.
  EXPECT_TRUE(table.try_reserve(0, slot(0, voice_blocks), false));
}

// Threads race to reserve one agent's slots: the word never exceeds the maximum, every success
// is accounted for, and releases bring it back to zero.
TEST(CapacityWordContention, ConcurrentReservationsNeverOverbook) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 20'000;
  AgentColumns table = one_agent(7, 3, 0);
  std::atomic<int> overbooked{0};
  std::atomic<std::int64_t> held_units{0}, held_slots{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const Reservation r = (i + t) % 2 == 0 ? units(1 + (i % 3)) : slot(0);
        if (!table.try_reserve(0, r, true)) continue;
        const std::uint64_t word = table.used_word(0);
        if (capacity_word::units(word) > 7 || capacity_word::profile(word, 0) > 3) ++overbooked;
        (r.units ? held_units : held_slots).fetch_add(1);
        table.release(0, r.delta);
        (r.units ? held_units : held_slots).fetch_sub(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(overbooked.load(), 0);
  EXPECT_EQ(table.used_word(0), 0u);
  EXPECT_EQ(held_units.load() + held_slots.load(), 0);
}

// Many agents, threads reserving across all of them and keeping what they win: the sum of the
// words equals the sum of the wins, and no word passes its maximum.
TEST(CapacityWordContention, WinsEqualWhatTheWordsHold) {
  constexpr int kThreads = 4;
  constexpr std::size_t kAgents = 64;
  AgentColumns table;
  table.grow(kAgents);
  for (std::size_t a = 0; a < kAgents; ++a) table.max[a] = 10 | (std::uint64_t{2} << 32);
  std::vector<std::int64_t> wins(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (std::size_t a = 0; a < kAgents; ++a) {
          if (table.try_reserve(static_cast<AgentIndex>(a), units(1), true)) ++wins[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::int64_t total_wins = 0, total_held = 0;
  for (std::int64_t w : wins) total_wins += w;
  for (std::size_t a = 0; a < kAgents; ++a) {
    const std::uint64_t word = table.used_word(static_cast<AgentIndex>(a));
    EXPECT_EQ(capacity_word::units(word), 10u) << "agent " << a;
    total_held += static_cast<std::int64_t>(capacity_word::units(word));
  }
  EXPECT_EQ(total_wins, total_held);
}

}  // namespace
}  // namespace switchboard
