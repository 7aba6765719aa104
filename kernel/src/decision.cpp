#include "switchboard/decision.hpp"

namespace switchboard {

bool Decision::same_decision(const Decision& o) const noexcept {
  return kind == o.kind && time == o.time && item == o.item && agent == o.agent &&
         queue == o.queue && from_queue == o.from_queue && decided_by == o.decided_by &&
         rule == o.rule && reason == o.reason && error == o.error && sequence == o.sequence;
}

std::string_view to_string(DecisionKind kind) noexcept {
  switch (kind) {
    case DecisionKind::offer: return "offer";
    case DecisionKind::assigned: return "assigned";
    case DecisionKind::requeued: return "requeued";
    case DecisionKind::parked: return "parked";
    case DecisionKind::cancelled: return "cancelled";
    case DecisionKind::completed: return "completed";
    case DecisionKind::transferred: return "transferred";
    case DecisionKind::error: return "error";
  }
  return "?";
}

std::string_view to_string(DecidedBy by) noexcept {
  switch (by) {
    case DecidedBy::none: return "none";
    case DecidedBy::method: return "method";
    case DecidedBy::affinity: return "affinity";
    case DecidedBy::rule: return "rule";
    case DecidedBy::manual: return "manual";
    case DecidedBy::pick: return "pick";
    case DecidedBy::accepted: return "accepted";
  }
  return "?";
}

std::string_view to_string(RequeueReason reason) noexcept {
  switch (reason) {
    case RequeueReason::none: return "none";
    case RequeueReason::declined: return "declined";
    case RequeueReason::timed_out: return "timed_out";
  }
  return "?";
}

}  // namespace switchboard
