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
};
struct AgentRemove { ExternalId agent; };
struct PresenceChange { ExternalId agent; PresenceId presence = 0; };
struct CapacityChange { ExternalId agent; AgentCapacity capacity; };
struct JoinQueue { ExternalId agent; QueueId queue = 0; };
struct LeaveQueue { ExternalId agent; QueueId queue = 0; };

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
};
// Sets (or, with a monostate value, removes) attributes; takes effect at the next cycle (R8).
struct ItemUpdate {
  ExternalId item;
  Attributes attributes;
  std::optional<Timestamp> last_message;
};
struct ItemCancel { ExternalId item; };
struct ItemTransfer { ExternalId item; QueueId queue = 0; };
struct ItemComplete { ExternalId item; };

// --- offers (R14) and manual assignment (R15) -------------------------------------------------

struct OfferAccept { ExternalId item; ExternalId agent; };
struct OfferDecline { ExternalId item; ExternalId agent; };
struct OfferTimeout { ExternalId item; ExternalId agent; };  // reported by the host
struct ManualAssign { ExternalId item; ExternalId agent; };  // a supervisor's assignment
struct AgentPick { ExternalId item; ExternalId agent; };     // an agent takes an item

// Advances the clock: fires offer timeouts, wrap-up ends and periodic cycles that are due.
struct Tick {};

using EventBody = std::variant<AgentUpsert, AgentRemove, PresenceChange, CapacityChange,
                               JoinQueue, LeaveQueue, ItemArrive, ItemUpdate, ItemCancel,
                               ItemTransfer, ItemComplete, OfferAccept, OfferDecline, OfferTimeout,
                               ManualAssign, AgentPick, Tick>;

struct Event {
  Timestamp time = 0;          // the host's time of the event
  std::uint64_t sequence = 0;  // the host's sequence number, echoed in errors
  EventBody body;
};

// The name of the event's type as it appears in docs/events.md and in JSON ("agent_upsert", ...).
[[nodiscard]] std::string_view event_type_name(const EventBody& body) noexcept;

}  // namespace switchboard
