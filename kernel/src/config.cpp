#include "switchboard/config.hpp"

#include <algorithm>

namespace switchboard {
namespace {

template <typename Index, typename Range, typename Name>
std::optional<Index> find_by_name(const Range& range, std::string_view name, Name name_of) {
  for (std::size_t i = 0; i < range.size(); ++i) {
    if (name_of(range[i]) == name) return static_cast<Index>(i);
  }
  return std::nullopt;
}

}  // namespace

std::optional<SkillId> Config::find_skill(std::string_view name) const {
  return find_by_name<SkillId>(skills, name, [](const std::string& s) -> const std::string& { return s; });
}
std::optional<PresenceId> Config::find_presence(std::string_view name) const {
  return find_by_name<PresenceId>(presences, name,
                                  [](const std::string& s) -> const std::string& { return s; });
}
std::optional<ProfileId> Config::find_profile(std::string_view name) const {
  return find_by_name<ProfileId>(profiles, name, [](const ProfileConfig& p) { return p.name; });
}
std::optional<ChannelId> Config::find_channel(std::string_view name) const {
  return find_by_name<ChannelId>(channels, name, [](const ChannelConfig& c) { return c.name; });
}
std::optional<QueueId> Config::find_queue(std::string_view name) const {
  return find_by_name<QueueId>(queues, name, [](const QueueConfig& q) { return q.name; });
}

std::string_view to_string(ChannelKind kind) noexcept {
  switch (kind) {
    case ChannelKind::chat: return "chat";
    case ChannelKind::messaging: return "messaging";
    case ChannelKind::voice: return "voice";
    case ChannelKind::email: return "email";
    case ChannelKind::record: return "record";
  }
  return "?";
}

std::string_view to_string(AssignmentMethod method) noexcept {
  switch (method) {
    case AssignmentMethod::highest_capacity: return "highest_capacity";
    case AssignmentMethod::round_robin: return "round_robin";
    case AssignmentMethod::least_active: return "least_active";
    case AssignmentMethod::custom: return "custom";
  }
  return "?";
}

std::string_view to_string(SkillMatching matching) noexcept {
  return matching == SkillMatching::exact ? "exact" : "closest";
}

std::string_view to_string(AgentOrderKind kind) noexcept {
  switch (kind) {
    case AgentOrderKind::least_active: return "least_active";
    case AgentOrderKind::round_robin: return "round_robin";
    case AgentOrderKind::available_units: return "available_units";
    case AgentOrderKind::available_profile: return "available_profile";
    case AgentOrderKind::proficiency: return "proficiency";
    case AgentOrderKind::skill_count: return "skill_count";
    case AgentOrderKind::attribute: return "attribute";
  }
  return "?";
}

ChannelConfig channel_defaults(ChannelKind kind) {
  ChannelConfig channel;
  channel.name = std::string(to_string(kind));
  channel.kind = kind;
  channel.allowed_presences = {0};  // "available" is always PresenceId 0 (kBuiltinPresences)
  switch (kind) {
    case ChannelKind::chat:
    case ChannelKind::voice:
    case ChannelKind::email:
      break;
    case ChannelKind::messaging:
      channel.order_by_last_message = true;
      break;
    case ChannelKind::record:
      channel.block_size = 2000;
      channel.prioritization_limit = 10000;
      channel.periodic_ms = 5 * 60 * 1000;
      break;
  }
  return channel;
}

}  // namespace switchboard
