#pragma once
// A map from ExternalId to a small value, for the kernel's id lookups (agents, items). Numeric ids,
// the common case, live in an open-addressing table (linear probing, backward-shift deletion, at
// most half full): one hash and usually one cache line per lookup, no allocation per entry. Names
// fall back to std::unordered_map.
//
// Not thread-safe: one writer; concurrent readers only while nobody writes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "switchboard/ids.hpp"

namespace switchboard {

template <typename V>
class IdMap {
 public:
  [[nodiscard]] V* find(const ExternalId& id) noexcept {
    if (!id.is_number()) {
      const auto it = names_.find(id.name());
      return it == names_.end() ? nullptr : &it->second;
    }
    if (slots_.empty()) return nullptr;
    const std::uint64_t key = id.number();
    for (std::size_t i = home(key);; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == key) return &s.value;
    }
  }
  [[nodiscard]] const V* find(const ExternalId& id) const noexcept {
    return const_cast<IdMap*>(this)->find(id);
  }

  // Inserts `value` under `id` unless the id is present; returns the stored value and whether it
  // was inserted (std::map::try_emplace's contract).
  std::pair<V*, bool> try_emplace(const ExternalId& id, V value) {
    if (!id.is_number()) {
      auto [it, inserted] = names_.try_emplace(id.name(), value);
      return {&it->second, inserted};
    }
    if (V* existing = find(id)) return {existing, false};
    if ((numbers_ + 1) * 2 > slots_.size()) grow();
    const std::uint64_t key = id.number();
    std::size_t i = home(key);
    while (slots_[i].used) i = (i + 1) & mask();
    slots_[i] = Slot{key, value, true};
    ++numbers_;
    return {&slots_[i].value, true};
  }
  void insert_or_assign(const ExternalId& id, V value) {
    auto [stored, inserted] = try_emplace(id, value);
    if (!inserted) *stored = value;
  }

  bool erase(const ExternalId& id) noexcept {
    if (!id.is_number()) return names_.erase(id.name()) > 0;
    if (slots_.empty()) return false;
    const std::uint64_t key = id.number();
    std::size_t i = home(key);
    for (;; i = (i + 1) & mask()) {
      if (!slots_[i].used) return false;
      if (slots_[i].key == key) break;
    }
    // Backward-shift deletion: move later members of the probe run into the hole, so lookups
    // never need tombstones.
    for (std::size_t j = (i + 1) & mask(); slots_[j].used; j = (j + 1) & mask()) {
      const std::size_t h = home(slots_[j].key);
      // Move j into the hole at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i].used = false;
    --numbers_;
    return true;
  }

  [[nodiscard]] std::size_t size() const noexcept { return numbers_ + names_.size(); }
  void clear() noexcept {
    if (numbers_ > 0) {
      for (Slot& s : slots_) s.used = false;
    }
    numbers_ = 0;
    names_.clear();
  }
  // Calls f(ExternalId, const V&) for every entry, in no particular order.
  template <typename F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.used) f(ExternalId(s.key), s.value);
    }
    for (const auto& [name, value] : names_) f(ExternalId(name), value);
  }
  [[nodiscard]] std::size_t bytes() const noexcept {
    return slots_.capacity() * sizeof(Slot) + names_.size() * (sizeof(std::string) + sizeof(V) + 32);
  }

 private:
  struct Slot {
    std::uint64_t key = 0;
    V value{};
    bool used = false;
  };

  [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }
  [[nodiscard]] std::size_t home(std::uint64_t key) const noexcept {
    // splitmix64's finalizer: sequential ids spread over the table.
    key ^= key >> 30;
    key *= 0xBF58476D1CE4E5B9ull;
    key ^= key >> 27;
    key *= 0x94D049BB133111EBull;
    key ^= key >> 31;
    return static_cast<std::size_t>(key) & mask();
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    for (const Slot& s : old) {
      if (!s.used) continue;
      std::size_t i = home(s.key);
      while (slots_[i].used) i = (i + 1) & mask();
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::size_t numbers_ = 0;
  std::unordered_map<std::string, V> names_;
};

}  // namespace switchboard
