#include "switchboard/ranking.hpp"

#include <string>

namespace switchboard {

const AttrValue* find_attribute(const Attributes& attributes, std::string_view key) {
  const auto it = attributes.find(key);
  return it == attributes.end() ? nullptr : &it->second;
}

int compare_values(const AttrValue* a, const AttrValue* b) {
  const bool ha = has_value(a), hb = has_value(b);
  if (ha != hb) return ha ? -1 : 1;
  if (!ha) return 0;
  if (a->index() != b->index()) return a->index() < b->index() ? -1 : 1;
  if (const auto* ia = std::get_if<std::int64_t>(a)) return three_way(*ia, std::get<std::int64_t>(*b));
  const int c = std::get<std::string>(*a).compare(std::get<std::string>(*b));
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::vector<AgentOrderKey> method_keys(AssignmentMethod method, CapacityModel model) {
  switch (method) {
    case AssignmentMethod::highest_capacity:
      return {AgentOrderKey{model == CapacityModel::units ? AgentOrderKind::available_units
                                                          : AgentOrderKind::available_profile,
                            false, {}}};
    case AssignmentMethod::least_active: return {AgentOrderKey{AgentOrderKind::least_active, false, {}}};
    case AssignmentMethod::round_robin:
    case AssignmentMethod::custom: return {};
  }
  return {};
}

int compare_ordered(const AttrValue* a, const AttrValue* b, bool descending) {
  const int c = compare_values(a, b);
  return descending && has_value(a) && has_value(b) ? -c : c;
}

}  // namespace switchboard
