#pragma once
// The one vocabulary of inbound events (docs/events.md). Plain structs: every adapter and tool
// speaks these, and the reference router and the kernel consume them unchanged.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "switchboard/attributes.hpp"
#include "switchboard/config.hpp"
#include "switchboard/ids.hpp"

namespace switchboard {

// --- agents ---------------------------------------------------------------------------------

// Creates an agent, or changes the fields given of an existing one. A new agent starts
// offline, with no skills, no capacity, no attributes, working, and in no queue.
struct AgentUpsert {
  ExternalId agent;
  std::optional<PresenceId> presence;
  std::optional<std::vector<SkillLevel>> skills;
  std::optional<AgentCapacity> capacity;
  std::optional<Attributes> attributes;  // replaces all attributes
  std::optional<bool> working;
  std::optional<std::vector<Shift>> shifts;  // non-empty: working only inside a shift

  friend bool operator==(const AgentUpsert&, const AgentUpsert&) = default;
};
struct AgentRemove {
  ExternalId agent;
  friend bool operator==(const AgentRemove&, const AgentRemove&) = default;
};
struct PresenceChange {
  ExternalId agent;
  PresenceId presence = 0;
  friend bool operator==(const PresenceChange&, const PresenceChange&) = default;
};
struct CapacityChange {
  ExternalId agent;
  AgentCapacity capacity;
  friend bool operator==(const CapacityChange&, const CapacityChange&) = default;
};
struct JoinQueue {
  ExternalId agent;
  QueueId queue = 0;
  friend bool operator==(const JoinQueue&, const JoinQueue&) = default;
};
struct LeaveQueue {
  ExternalId agent;
  QueueId queue = 0;
  friend bool operator==(const LeaveQueue&, const LeaveQueue&) = default;
};

// --- work items -----------------------------------------------------------------------------

struct ItemArrive {
  ExternalId item;
  QueueId queue = 0;
  std::optional<Timestamp> created;       // default: the event's time
  std::optional<Timestamp> last_message;  // asynchronous messaging (R8); default: created
  Attributes attributes;
  std::vector<SkillRequirement> skills;
  std::optional<std::int32_t> units;      // unit-based capacity it consumes; default: channel's
  std::optional<ExternalId> affinity_agent;  // R13

  friend bool operator==(const ItemArrive&, const ItemArrive&) = default;
};
// Sets (or, with a monostate value, removes) attributes; takes effect at the next cycle (R8).
struct ItemUpdate {
  ExternalId item;
  Attributes attributes;
  std::optional<Timestamp> last_message;

  friend bool operator==(const ItemUpdate&, const ItemUpdate&) = default;
};
struct ItemCancel {
  ExternalId item;
  friend bool operator==(const ItemCancel&, const ItemCancel&) = default;
};
struct ItemTransfer {
  ExternalId item;
  QueueId queue = 0;
  friend bool operator==(const ItemTransfer&, const ItemTransfer&) = default;
};
struct ItemComplete {
  ExternalId item;
  friend bool operator==(const ItemComplete&, const ItemComplete&) = default;
};

// --- offers (R14) and manual assignment (R15) -------------------------------------------------

struct OfferAccept {
  ExternalId item;
  ExternalId agent;
  friend bool operator==(const OfferAccept&, const OfferAccept&) = default;
};
struct OfferDecline {
  ExternalId item;
  ExternalId agent;
  friend bool operator==(const OfferDecline&, const OfferDecline&) = default;
};
struct OfferTimeout {  // reported by the host
  ExternalId item;
  ExternalId agent;
  friend bool operator==(const OfferTimeout&, const OfferTimeout&) = default;
};
struct ManualAssign {  // a supervisor's assignment
  ExternalId item;
  ExternalId agent;
  friend bool operator==(const ManualAssign&, const ManualAssign&) = default;
};
struct AgentPick {  // an agent takes an item
  ExternalId item;
  ExternalId agent;
  friend bool operator==(const AgentPick&, const AgentPick&) = default;
};

// Advances the clock: fires offer timeouts, wrap-up ends and periodic cycles that are due.
struct Tick {
  friend bool operator==(const Tick&, const Tick&) = default;
};

using EventBody = std::variant<AgentUpsert, AgentRemove, PresenceChange, CapacityChange,
                               JoinQueue, LeaveQueue, ItemArrive, ItemUpdate, ItemCancel,
                               ItemTransfer, ItemComplete, OfferAccept, OfferDecline, OfferTimeout,
                               ManualAssign, AgentPick, Tick>;

struct Event {
  Timestamp time = 0;          // the host's time of the event
  std::uint64_t sequence = 0;  // the host's sequence number, echoed in errors
  EventBody body;

  friend bool operator==(const Event&, const Event&) = default;
};

// The name of the event's type as it appears in docs/events.md and in JSON ("agent_upsert", ...).
[[nodiscard]] std::string_view event_type_name(const EventBody& body) noexcept;

}  // namespace switchboard
