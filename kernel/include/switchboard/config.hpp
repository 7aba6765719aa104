#pragma once
// The routing configuration: skills, presences, capacity profiles, channels, queues, the decline
// limit and optional agents. Loaded once (switchboard/config_loader.hpp), then read-only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/attributes.hpp"
#include "switchboard/condition.hpp"
#include "switchboard/ids.hpp"

namespace switchboard {

// R1: one skill of an agent, with its proficiency (0 = lowest).
struct SkillLevel {
  SkillId skill = 0;
  std::int32_t proficiency = 0;
  friend bool operator==(const SkillLevel&, const SkillLevel&) = default;
};

// R4: one skill a work item requires; min_proficiency < 0 means "any proficiency".
struct SkillRequirement {
  SkillId skill = 0;
  std::int32_t min_proficiency = -1;
  friend bool operator==(const SkillRequirement&, const SkillRequirement&) = default;
};

// R6: what an agent can hold at once. `units` serves channels with unit-based capacity;
// profile_max[p] serves channels with profile-based capacity of profile p (missing = 0).
struct AgentCapacity {
  std::int32_t units = 0;
  std::vector<std::int32_t> profile_max;
  friend bool operator==(const AgentCapacity&, const AgentCapacity&) = default;
};

// Calendar: a half-open interval [start, end) in which the agent works.
struct Shift {
  Timestamp start = 0;
  Timestamp end = 0;
  friend bool operator==(const Shift&, const Shift&) = default;
};

enum class ChannelKind : std::uint8_t { chat, messaging, voice, email, record };
enum class CapacityModel : std::uint8_t { units, profile };

struct ProfileConfig {
  std::string name;
  // R6: while the agent holds an item of this profile, no item of another profile is offered
  // (a call blocks chats).
  bool blocks_others = false;
};

struct ChannelConfig {
  std::string name;
  ChannelKind kind = ChannelKind::chat;
  CapacityModel capacity_model = CapacityModel::units;
  std::int32_t units_per_item = 1;  // unit-based: what an item consumes unless it says otherwise
  ProfileId profile = 0;            // profile-based: the profile an item counts against
  std::vector<PresenceId> allowed_presences;  // R7; default {available}
  Timestamp wrap_up_ms = 0;                   // R6: capacity held back after completion
  Timestamp offer_timeout_ms = 0;             // R14: 0 = offers do not time out
  std::uint32_t block_size = 100;             // R11
  std::uint32_t prioritization_limit = 0;     // R11: 0 = every queued item is prioritized
  Timestamp periodic_ms = 0;                  // R11: periodic cycle; 0 = none
  bool order_by_last_message = false;         // R8: asynchronous messaging order
};

enum class AssignmentMethod : std::uint8_t { highest_capacity, round_robin, least_active, custom };
enum class SkillMatching : std::uint8_t { exact, closest };

// R8: how a prioritization rule orders the items of its bucket. attribute empty = FIFO.
struct ItemOrder {
  std::string attribute;  // item attribute key
  bool descending = false;
};

struct PrioritizationRule {
  std::string name;
  Condition when;  // item-only
  ItemOrder order_by;
};

// R9: the order-by keys of assignment rulesets (and of the built-in methods).
enum class AgentOrderKind : std::uint8_t {
  least_active,       // last capacity release, oldest first
  round_robin,        // last assignment from this queue (or join time), oldest first
  available_units,    // unit-based available capacity, most first
  available_profile,  // available count of the item's profile, most first
  proficiency,        // sum of proficiencies in the item's required skills, highest first
  skill_count,        // number of skills the agent holds, fewest first
  attribute,          // an agent attribute, ascending unless descending
};

struct AgentOrderKey {
  AgentOrderKind kind = AgentOrderKind::round_robin;
  bool descending = false;  // reverses the natural direction given above (the loader maps
                            // "asc"/"desc", which name the value's direction, onto it)
  std::string attribute;    // for AgentOrderKind::attribute
};

struct AssignmentRule {
  std::string name;
  Condition when;  // may refer to agent and item
  std::vector<AgentOrderKey> order_by;
};

struct QueueConfig {
  std::string name;
  std::int32_t group = 0;  // R12: lower = offered first
  ChannelId channel = 0;
  AssignmentMethod method = AssignmentMethod::highest_capacity;
  SkillMatching skill_matching = SkillMatching::exact;
  bool requires_working = false;             // R9: calendar
  std::vector<PresenceId> allowed_presences; // R7 override; empty = the channel's
  std::uint32_t block_size = 100;            // R11 (channel default unless set)
  std::uint32_t prioritization_limit = 0;    // R11 (channel default unless set)
  bool strict_blocks = true;                 // R11: false relaxes "the top block holds back"
  std::vector<PrioritizationRule> prioritization;  // R8; empty = FIFO
  std::vector<AssignmentRule> assignment;          // R9 custom; used when method == custom

  [[nodiscard]] bool is_fifo() const noexcept { return prioritization.empty(); }
};

// An agent declared in the configuration: applied as an upsert plus joins at time 0.
struct AgentSeed {
  ExternalId id;
  PresenceId presence = 0;
  std::vector<SkillLevel> skills;
  AgentCapacity capacity;
  Attributes attributes;
  bool working = true;
  std::vector<Shift> shifts;
  std::vector<QueueId> queues;
};

struct Config {
  std::vector<std::string> skills;     // by SkillId
  std::vector<std::string> presences;  // by PresenceId; the five of R2 always present
  std::vector<ProfileConfig> profiles; // by ProfileId
  std::vector<ChannelConfig> channels; // by ChannelId
  std::vector<QueueConfig> queues;     // by QueueId
  std::vector<AgentSeed> agents;
  std::int32_t decline_limit = 3;         // R14: 1..5
  std::int32_t park_after_decliners = 100;  // R14: distinct agents whose declines park an item

  [[nodiscard]] std::optional<SkillId> find_skill(std::string_view name) const;
  [[nodiscard]] std::optional<PresenceId> find_presence(std::string_view name) const;
  [[nodiscard]] std::optional<ProfileId> find_profile(std::string_view name) const;
  [[nodiscard]] std::optional<ChannelId> find_channel(std::string_view name) const;
  [[nodiscard]] std::optional<QueueId> find_queue(std::string_view name) const;
  [[nodiscard]] PresenceId available() const { return *find_presence("available"); }
  [[nodiscard]] PresenceId offline() const { return *find_presence("offline"); }
};

// The presences every configuration has (R2), in this order, before any the file adds.
inline constexpr std::string_view kBuiltinPresences[] = {"available", "busy", "do_not_disturb",
                                                         "away", "offline"};

[[nodiscard]] std::string_view to_string(ChannelKind kind) noexcept;
[[nodiscard]] std::string_view to_string(AssignmentMethod method) noexcept;
[[nodiscard]] std::string_view to_string(SkillMatching matching) noexcept;
[[nodiscard]] std::string_view to_string(AgentOrderKind kind) noexcept;

// Channel defaults by kind (R11): block size 100 for chat, messaging and voice; records
// prioritize up to 10,000 per queue, process 2,000 per cycle and run a cycle every 5 minutes.
[[nodiscard]] ChannelConfig channel_defaults(ChannelKind kind);

}  // namespace switchboard
