#include "switchboard/router_views.hpp"

namespace switchboard {

std::string_view to_string(ItemState state) noexcept {
  switch (state) {
    case ItemState::queued: return "queued";
    case ItemState::offered: return "offered";
    case ItemState::assigned: return "assigned";
    case ItemState::parked: return "parked";
  }
  return "?";
}

}  // namespace switchboard
