#pragma once
// The kernel's agent table: one column per hot field (structure of arrays), indexed by a dense
// AgentIndex, plus the packed capacity word that one compare-and-swap reserves.
//
// Who writes what (docs/kernel.md, "Who writes what"):
//   - Every column except `used` is written only by the thread that applies events (the
//     kernel's driver) while no task runs, or by the one task that owns the agent's component
//     during a parallel batch. Readers are the same thread or task: plain loads suffice.
//   - `used` (the capacity word) is atomic: a reservation is read, check, compare-and-swap, and
//     a release is a fetch_sub. The driver may read any word between batches.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "switchboard/ids.hpp"

namespace switchboard {

using AgentIndex = std::uint32_t;
inline constexpr AgentIndex kNoAgent = 0xFFFF'FFFFu;

// A fixed-width skill bitset; the width is a compile-time trait (kMaxSkills, 256 by default).
template <std::size_t Bits>
struct BasicSkillSet {
  static_assert(Bits % 64 == 0, "skill sets are whole 64-bit words");
  static constexpr std::size_t kWords = Bits / 64;
  std::array<std::uint64_t, kWords> words{};

  void set(SkillId skill) noexcept { words[skill / 64] |= std::uint64_t{1} << (skill % 64); }
  [[nodiscard]] bool test(SkillId skill) const noexcept {
    return (words[skill / 64] >> (skill % 64)) & 1u;
  }
  // Every skill of `required` is in this set (R10 exact match, before proficiencies).
  [[nodiscard]] bool contains_all(const BasicSkillSet& required) const noexcept {
    std::uint64_t missing = 0;
    for (std::size_t w = 0; w < kWords; ++w) missing |= required.words[w] & ~words[w];
    return missing == 0;
  }
};
using SkillSet = BasicSkillSet<kMaxSkills>;
static_assert(sizeof(SkillSet) == kMaxSkills / 8, "a skill set is exactly its bits");

// The capacity word: what an agent holds, packed so that one CAS reserves everything an item
// needs. Bits 0..31: units held (unit-based channels); bits 32..63: items held per capacity
// profile, 8 bits each, profiles 0..3. The agent's maxima live in the same layout in `max`.
namespace capacity_word {
inline constexpr unsigned kProfileShift = 32;
inline constexpr unsigned kProfileBits = 8;
inline constexpr std::size_t kProfiles = 4;
inline constexpr std::uint64_t kUnitsMask = 0xFFFF'FFFFull;

[[nodiscard]] constexpr std::uint64_t units(std::uint64_t word) noexcept { return word & kUnitsMask; }
[[nodiscard]] constexpr std::uint64_t profile(std::uint64_t word, std::size_t p) noexcept {
  return (word >> (kProfileShift + kProfileBits * p)) & 0xFFu;
}
[[nodiscard]] constexpr std::uint64_t profile_one(std::size_t p) noexcept {
  return std::uint64_t{1} << (kProfileShift + kProfileBits * p);
}
[[nodiscard]] constexpr std::uint64_t profile_mask(std::size_t p) noexcept {
  return std::uint64_t{0xFF} << (kProfileShift + kProfileBits * p);
}
static_assert(kProfileShift + kProfileBits * kProfiles == 64, "the word is exactly full");
}  // namespace capacity_word

// One agent's capacity word on a cache line of its own would cost 64 bytes per agent; words are
// packed 8 to a line instead, because an agent is reserved by one task at a time (components
// never share agents, docs/kernel.md), so neighbouring words are not contended.
struct CapacityCell {
  std::atomic<std::uint64_t> used{0};
  CapacityCell() = default;
  // Copying happens only when the table grows, on the driver thread with no task running.
  CapacityCell(const CapacityCell& other) noexcept
      : used(other.used.load(std::memory_order_relaxed)) {}
  CapacityCell& operator=(const CapacityCell& other) noexcept {
    used.store(other.used.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }
};
static_assert(sizeof(CapacityCell) == 8, "one capacity word per agent");
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the capacity word is lock-free");

// What a reservation adds to the word: `delta`, allowed while (word & check_mask) stays within
// `limit` per field and no blocking profile in `blocked_mask` is held.
struct Reservation {
  std::uint64_t delta = 0;         // units or one profile slot
  bool units = true;               // which field `delta` adds to
  std::size_t profile = 0;
  std::uint64_t blocked_mask = 0;  // profiles whose held items forbid this one (R6 blocking)
};

// The hot columns, one entry per agent index. Bytes per agent: hot_bytes_per_agent().
struct AgentColumns {
  std::vector<SkillSet> skills;          // 32 B: R10 exact match as a subset test
  std::vector<CapacityCell> used;        //  8 B: the capacity word (atomic)
  std::vector<std::uint64_t> max;        //  8 B: capacity maxima, same layout as `used`
  std::vector<Timestamp> last_release;   //  8 B: R9 least active
  std::vector<PresenceId> presence;      //  1 B: R7
  std::vector<std::uint8_t> flags;       //  1 B: kExists | kWorking | kHasShifts

  static constexpr std::uint8_t kExists = 1, kWorking = 2, kHasShifts = 4;

  [[nodiscard]] static constexpr std::size_t hot_bytes_per_agent() noexcept {
    return sizeof(SkillSet) + sizeof(CapacityCell) + sizeof(std::uint64_t) + sizeof(Timestamp) +
           sizeof(PresenceId) + sizeof(std::uint8_t);
  }
  [[nodiscard]] std::size_t size() const noexcept { return flags.size(); }
  void grow(std::size_t n) {
    skills.resize(n);
    used.resize(n);
    max.resize(n);
    last_release.resize(n, 0);
    presence.resize(n, 0);
    flags.resize(n, 0);
  }

  // Free capacity of a field under the agent's maxima (never negative: I1).
  [[nodiscard]] static std::int64_t free_in(std::uint64_t used_word, std::uint64_t max_word,
                                            const Reservation& r) noexcept {
    if (r.units) {
      return static_cast<std::int64_t>(capacity_word::units(max_word)) -
             static_cast<std::int64_t>(capacity_word::units(used_word));
    }
    return static_cast<std::int64_t>(capacity_word::profile(max_word, r.profile)) -
           static_cast<std::int64_t>(capacity_word::profile(used_word, r.profile));
  }

  // R6 optimistic reservation: read, check, compare-and-swap; a failed swap means the word
  // moved under us, so check again against the new value. Returns false (and changes nothing)
  // when the agent cannot take the item. acq_rel on success: the winner's reservation is
  // ordered after every earlier release it saw (acquire) and published to whoever next reads
  // the word (release); relaxed on failure is enough because the loop re-checks the fresh value.
  [[nodiscard]] bool try_reserve(AgentIndex a, const Reservation& r, bool respect_blocking) noexcept {
    std::atomic<std::uint64_t>& word = used[a].used;
    const std::uint64_t cap = max[a];
    const std::int64_t need = r.units ? static_cast<std::int64_t>(r.delta) : 1;
    std::uint64_t current = word.load(std::memory_order_acquire);
    do {
      if (free_in(current, cap, r) < need) return false;
      if (respect_blocking && (current & r.blocked_mask) != 0) return false;
    } while (!word.compare_exchange_weak(current, current + r.delta, std::memory_order_acq_rel,
                                         std::memory_order_relaxed));
    return true;
  }
  // Gives back what try_reserve took. release: the next reservation (acquire) sees the work
  // that was done under the old reservation as finished.
  void release(AgentIndex a, std::uint64_t delta) noexcept {
    used[a].used.fetch_sub(delta, std::memory_order_release);
  }
  // A read for a decision or a view; acquire pairs with release() above.
  [[nodiscard]] std::uint64_t used_word(AgentIndex a) const noexcept {
    return used[a].used.load(std::memory_order_acquire);
  }
};

}  // namespace switchboard
