#include "switchboard/events.hpp"

namespace switchboard {
namespace {

template <typename T>
constexpr std::string_view name_of() noexcept;
#define SWITCHBOARD_EVENT_NAME(Type, text) \
  template <>                               \
  constexpr std::string_view name_of<Type>() noexcept { return text; }
SWITCHBOARD_EVENT_NAME(AgentUpsert, "agent_upsert")
SWITCHBOARD_EVENT_NAME(AgentRemove, "agent_remove")
SWITCHBOARD_EVENT_NAME(PresenceChange, "presence_change")
SWITCHBOARD_EVENT_NAME(CapacityChange, "capacity_change")
SWITCHBOARD_EVENT_NAME(JoinQueue, "join_queue")
SWITCHBOARD_EVENT_NAME(LeaveQueue, "leave_queue")
SWITCHBOARD_EVENT_NAME(ItemArrive, "item_arrive")
SWITCHBOARD_EVENT_NAME(ItemUpdate, "item_update")
SWITCHBOARD_EVENT_NAME(ItemCancel, "item_cancel")
SWITCHBOARD_EVENT_NAME(ItemTransfer, "item_transfer")
SWITCHBOARD_EVENT_NAME(ItemComplete, "item_complete")
SWITCHBOARD_EVENT_NAME(OfferAccept, "offer_accept")
SWITCHBOARD_EVENT_NAME(OfferDecline, "offer_decline")
SWITCHBOARD_EVENT_NAME(OfferTimeout, "offer_timeout")
SWITCHBOARD_EVENT_NAME(ManualAssign, "manual_assign")
SWITCHBOARD_EVENT_NAME(AgentPick, "agent_pick")
SWITCHBOARD_EVENT_NAME(Tick, "tick")
#undef SWITCHBOARD_EVENT_NAME

}  // namespace

std::string_view event_type_name(const EventBody& body) noexcept {
  return std::visit([](const auto& e) { return name_of<std::decay_t<decltype(e)>>(); }, body);
}

}  // namespace switchboard
