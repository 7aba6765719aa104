#pragma once
// Errors at the boundaries are values: an ErrorCode a program can switch on and a message a
// person can act on.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace switchboard {

enum class ErrorCode : std::uint16_t {
  ok = 0,
  // Refused events (docs/events.md lists when each is raised). A refused event changes nothing.
  malformed_event,         // a decoder could not read the record at all
  unknown_agent,           // no agent has this id
  unknown_item,            // no live item has this id
  unknown_queue,           // no queue has this name or index
  unknown_skill,           // a skill name or id that the configuration does not declare
  unknown_presence,        // a presence that the configuration does not declare
  unknown_profile,         // a capacity profile that the configuration does not declare
  invalid_value,           // a number out of its range (negative capacity, proficiency, units)
  duplicate_item,          // an arrive for an id that is already live
  item_not_offered,        // accept / decline / timeout for an item with no open offer
  offer_agent_mismatch,    // accept / decline / timeout by an agent the item is not offered to
  item_not_assigned,       // complete for an item that is not assigned
  item_not_queued,         // manual assign / pick / cancel / transfer in a state that forbids it
  insufficient_capacity,   // manual assign or pick that would make available capacity negative
  capacity_below_load,     // a capacity change below what the agent already holds (I1)
  not_a_member,            // pick or leave for a queue the agent is not a member of
  already_member,          // join for a queue the agent is already a member of
  agent_has_work,          // remove of an agent that still holds offered or assigned items
  same_queue,              // transfer to the queue the item is already in
  // Configuration errors (the message names file, line, column and key).
  config_syntax,
  config_unknown_key,
  config_type,
  config_unknown_reference,
  config_invalid_value,
  config_condition,
  config_io,
};

[[nodiscard]] std::string_view to_string(ErrorCode code) noexcept;

struct Error {
  ErrorCode code = ErrorCode::ok;
  std::string message;
};

// A minimal std::expected (C++23) for C++20: a value or an Error.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  [[nodiscard]] T& value() & { return std::get<0>(state_); }
  [[nodiscard]] const T& value() const& { return std::get<0>(state_); }
  [[nodiscard]] T&& value() && { return std::get<0>(std::move(state_)); }
  [[nodiscard]] const Error& error() const { return std::get<1>(state_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace switchboard
