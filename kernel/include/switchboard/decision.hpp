#pragma once
// The one vocabulary of outbound decisions (docs/events.md): what the router tells the host.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/events.hpp"
#include "switchboard/ids.hpp"
#include "switchboard/result.hpp"

namespace switchboard {

enum class DecisionKind : std::uint8_t {
  offer,        // item offered to agent (R5 queued -> offered); capacity reserved
  assigned,     // item assigned to agent (accepted offer, manual assignment or pick)
  requeued,     // offer declined or timed out, or withdrawn: item back to queued
  parked,       // R14: declined by too many distinct agents; no longer offered automatically
  cancelled,    // customer abandoned (queued, offered or parked item)
  completed,    // work done; capacity released now or after wrap-up
  transferred,  // moved to another queue (item is queued there)
  error,        // an event was refused and changed nothing
};

// What picked the agent of an offer or an assignment (the "rule that decided").
enum class DecidedBy : std::uint8_t {
  none,
  method,    // the queue's method (highest capacity, round robin, least active)
  affinity,  // R13: the affinity agent
  rule,      // an assignment-ruleset rule; Decision::rule is its index in the queue's ruleset
  manual,    // R15: a supervisor's manual assignment
  pick,      // R15: the agent picked it
  accepted,  // an offer was accepted
};

enum class RequeueReason : std::uint8_t { none, declined, timed_out };

struct Decision {
  DecisionKind kind = DecisionKind::offer;
  Timestamp time = 0;
  ExternalId item;
  // offer, assigned, requeued, completed; cancelled when the item was offered (the withdrawn
  // offer's agent). Empty otherwise: "no agent" is never confused with an agent whose id is 0.
  std::optional<ExternalId> agent;
  QueueId queue = 0;   // offer, assigned, requeued, parked, cancelled, transferred (new queue)
  QueueId from_queue = 0;  // transferred
  DecidedBy decided_by = DecidedBy::none;
  std::uint16_t rule = 0;  // with DecidedBy::rule
  RequeueReason reason = RequeueReason::none;
  // error only
  ErrorCode error = ErrorCode::ok;
  std::string message;
  std::uint64_t sequence = 0;             // the refused event's sequence number
  std::shared_ptr<const Event> offending;  // the refused event

  // Equality of what was decided (the offending event compared by pointer-free content is not
  // needed: sequence and message identify it).
  [[nodiscard]] bool same_decision(const Decision& other) const noexcept;
};

[[nodiscard]] std::string_view to_string(DecisionKind kind) noexcept;
[[nodiscard]] std::string_view to_string(DecidedBy by) noexcept;
[[nodiscard]] std::string_view to_string(RequeueReason reason) noexcept;

// A sink for decisions: the router calls it for each decision, in order, on the router's thread.
class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void on_decision(const Decision& decision) = 0;
};

}  // namespace switchboard
