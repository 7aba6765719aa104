#include "switchboard/result.hpp"

namespace switchboard {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok: return "ok";
    case ErrorCode::malformed_event: return "malformed_event";
    case ErrorCode::unknown_agent: return "unknown_agent";
    case ErrorCode::unknown_item: return "unknown_item";
    case ErrorCode::unknown_queue: return "unknown_queue";
    case ErrorCode::unknown_skill: return "unknown_skill";
    case ErrorCode::unknown_presence: return "unknown_presence";
    case ErrorCode::unknown_profile: return "unknown_profile";
    case ErrorCode::invalid_value: return "invalid_value";
    case ErrorCode::duplicate_item: return "duplicate_item";
    case ErrorCode::item_not_offered: return "item_not_offered";
    case ErrorCode::offer_agent_mismatch: return "offer_agent_mismatch";
    case ErrorCode::item_not_assigned: return "item_not_assigned";
    case ErrorCode::item_not_queued: return "item_not_queued";
    case ErrorCode::insufficient_capacity: return "insufficient_capacity";
    case ErrorCode::capacity_below_load: return "capacity_below_load";
    case ErrorCode::not_a_member: return "not_a_member";
    case ErrorCode::already_member: return "already_member";
    case ErrorCode::agent_has_work: return "agent_has_work";
    case ErrorCode::same_queue: return "same_queue";
    case ErrorCode::config_syntax: return "config_syntax";
    case ErrorCode::config_unknown_key: return "config_unknown_key";
    case ErrorCode::config_type: return "config_type";
    case ErrorCode::config_unknown_reference: return "config_unknown_reference";
    case ErrorCode::config_invalid_value: return "config_invalid_value";
    case ErrorCode::config_condition: return "config_condition";
    case ErrorCode::config_io: return "config_io";
  }
  return "unknown_error";
}

}  // namespace switchboard
