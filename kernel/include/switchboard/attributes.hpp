#pragma once
// Free-form attributes of agents (R2) and work items (R4).

#include <cstdint>
#include <map>
#include <string>
#include <variant>

namespace switchboard {

// An attribute is a string or an integer; times are integers (milliseconds). monostate means
// "has no value" (a key that is absent behaves the same).
using AttrValue = std::variant<std::monostate, std::int64_t, std::string>;

// Keys are flat. Item attributes that are nested on the host side use dotted keys:
// `customer.membership_level` is the key for item.customer.membership_level (two levels deep).
using Attributes = std::map<std::string, AttrValue, std::less<>>;

[[nodiscard]] inline bool has_value(const AttrValue* v) noexcept {
  return v != nullptr && !std::holds_alternative<std::monostate>(*v);
}

// An update's attributes applied to `attributes`: a value sets its key, a value-less entry
// removes it (item_update, docs/events.md).
inline void merge_attributes(Attributes& attributes, const Attributes& update) {
  for (const auto& [key, value] : update) {
    if (has_value(&value)) {
      attributes[key] = value;
    } else {
      attributes.erase(key);
    }
  }
}

}  // namespace switchboard
