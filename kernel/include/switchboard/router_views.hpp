#pragma once
// Read-only views of a router's state, shared by the reference router and the kernel so that
// tests, tools and invariant checks read either the same way. Values, not references: a view is
// a copy taken at the moment it is asked for.

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "switchboard/config.hpp"
#include "switchboard/ids.hpp"

namespace switchboard {

enum class ItemState : std::uint8_t { queued, offered, assigned, parked };
[[nodiscard]] std::string_view to_string(ItemState state) noexcept;

struct ItemView {
  ExternalId id;
  ItemState state = ItemState::queued;
  QueueId queue = 0;
  std::optional<ExternalId> agent;  // offered to / assigned to
  std::map<ExternalId, std::int32_t> declines;  // per agent (R14)
};

struct AgentView {
  ExternalId id;
  PresenceId presence = 0;
  AgentCapacity capacity;
  std::int32_t free_units = 0;              // capacity.units minus what is held (R6)
  std::vector<std::int32_t> profile_used;   // per profile: items held (incl. wrap-up)
  std::vector<QueueId> queues;
  std::vector<ExternalId> items;            // offered or assigned to this agent
  Timestamp last_release = kNever;
};

}  // namespace switchboard
