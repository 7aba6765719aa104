#pragma once
// Identifiers and time: the scalar vocabulary every other header uses.

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace switchboard {

// Milliseconds on the host's clock. The kernel never reads a clock: every event carries its
// own timestamp (STYLE: time comes in with the events), so a replay decides the same (I5).
using Timestamp = std::int64_t;
inline constexpr Timestamp kNever = INT64_MIN;

// Dense indices, assigned by the configuration in declaration order (R1, R3).
using SkillId = std::uint16_t;
using PresenceId = std::uint8_t;
using ChannelId = std::uint16_t;
using ProfileId = std::uint8_t;
using QueueId = std::uint32_t;

// Skills are dense ids 0..S-1; S is bounded at build time so that the kernel can hold an
// agent's skills in a fixed-width bitset (R1: "at least 256").
inline constexpr std::size_t kMaxSkills = 256;
inline constexpr std::size_t kMaxPresences = 64;
inline constexpr std::size_t kMaxProfiles = 16;

// The host's id of an agent or a work item: a 64-bit integer or a name (R2, R4). Numbers sort
// before names; numbers by value, names bytewise. That order is the last tie-break of R9.
class ExternalId {
 public:
  ExternalId() = default;
  ExternalId(std::uint64_t number) : value_(number) {}  // NOLINT: implicit on purpose
  ExternalId(std::string name) : value_(std::move(name)) {}  // NOLINT
  ExternalId(const char* name) : value_(std::string(name)) {}  // NOLINT

  [[nodiscard]] bool is_number() const noexcept { return value_.index() == 0; }
  [[nodiscard]] std::uint64_t number() const { return std::get<0>(value_); }
  [[nodiscard]] const std::string& name() const { return std::get<1>(value_); }
  [[nodiscard]] std::string to_string() const {
    return is_number() ? std::to_string(number()) : name();
  }

  friend bool operator==(const ExternalId&, const ExternalId&) = default;
  friend std::strong_ordering operator<=>(const ExternalId& a, const ExternalId& b) {
    if (a.value_.index() != b.value_.index()) return a.value_.index() <=> b.value_.index();
    if (a.is_number()) return a.number() <=> b.number();
    return a.name().compare(b.name()) <=> 0;
  }

 private:
  std::variant<std::uint64_t, std::string> value_{std::uint64_t{0}};
  friend struct std::hash<ExternalId>;
};

}  // namespace switchboard

template <>
struct std::hash<switchboard::ExternalId> {
  std::size_t operator()(const switchboard::ExternalId& id) const noexcept {
    return id.is_number() ? std::hash<std::uint64_t>{}(id.number()) * 0x9E3779B97F4A7C15ull
                          : std::hash<std::string>{}(id.name());
  }
};
