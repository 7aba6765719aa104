#pragma once
// Orderings shared by the reference router and the kernel, so that the two cannot drift apart:
// attribute values (R8 prioritization, R9 order-by), the closest-match score (R10), and the
// three-way compare the order-by keys are built from.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "switchboard/attributes.hpp"
#include "switchboard/config.hpp"

namespace switchboard {

template <typename T>
[[nodiscard]] int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// The value under `key`, or nullptr when absent.
[[nodiscard]] const AttrValue* find_attribute(const Attributes& attributes, std::string_view key);

// Orders attribute values: present before missing, integers before strings, then by value.
[[nodiscard]] int compare_values(const AttrValue* a, const AttrValue* b);

// compare_values for an order-by: descending reverses the values, and a missing value sorts
// last in either direction.
[[nodiscard]] int compare_ordered(const AttrValue* a, const AttrValue* b, bool descending);

// R10 closest-match score (docs/semantics.md), lower is closer:
//   tier 0: every required skill, each at exactly the required proficiency (a requirement
//           without a minimum fits any proficiency exactly);
//   tier 1: every skill, none below, some above: (surplus) = sum of proficiency over minimum;
//   tier 2: every skill, some below: (shortfall, surplus);
//   tier 3: some skills missing: (missing count, shortfall, surplus).
using Closeness = std::tuple<int, std::int64_t, std::int64_t, std::int64_t>;

// `proficiency(skill)` is the agent's proficiency in a skill, or a negative value without it.
template <typename Proficiency>
[[nodiscard]] Closeness closeness(const std::vector<SkillRequirement>& required, Proficiency&& proficiency) {
  std::int64_t missing = 0, surplus = 0, shortfall = 0;
  for (const SkillRequirement& r : required) {
    const std::int32_t p = proficiency(r.skill);
    if (p < 0) {
      ++missing;
    } else if (r.min_proficiency >= 0) {
      if (p > r.min_proficiency) surplus += p - r.min_proficiency;
      if (p < r.min_proficiency) shortfall += r.min_proficiency - p;
    }
  }
  if (missing > 0) return {3, missing, shortfall, surplus};
  if (shortfall > 0) return {2, shortfall, surplus, 0};
  if (surplus > 0) return {1, surplus, 0, 0};
  return {0, 0, 0, 0};
}

// R9: the order-by keys an assignment method ranks on, before the round-robin and id
// tie-breaks (round robin needs none: its tie-break is the order; rulesets bring their own).
[[nodiscard]] std::vector<AgentOrderKey> method_keys(AssignmentMethod method, CapacityModel model);

// R8 prioritization of a queue's items (already in FIFO order, affinity items taken out):
// bucket = index of the first rule whose condition matches, no match = the last bucket; stable
// within a bucket (FIFO) unless the rule orders by an attribute. `matches(condition, item)`
// evaluates an item-only condition; `attributes_of(item)` gives the item's attributes.
template <typename T, typename Matches, typename AttributesOf>
void prioritize(const QueueConfig& queue, std::vector<T>& items, Matches&& matches,
                AttributesOf&& attributes_of) {
  const std::size_t rules = queue.prioritization.size();
  std::vector<std::pair<std::size_t, T>> bucketed;
  bucketed.reserve(items.size());
  for (const T& item : items) {
    std::size_t bucket = rules;
    for (std::size_t r = 0; r < rules; ++r) {
      if (matches(queue.prioritization[r].when, item)) {
        bucket = r;
        break;
      }
    }
    bucketed.emplace_back(bucket, item);
  }
  std::stable_sort(bucketed.begin(), bucketed.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    if (a.first < rules) {
      const ItemOrder& order = queue.prioritization[a.first].order_by;
      if (!order.attribute.empty()) {
        const int c = compare_ordered(find_attribute(attributes_of(a.second), order.attribute),
                                      find_attribute(attributes_of(b.second), order.attribute),
                                      order.descending);
        if (c != 0) return c < 0;
      }
    }
    return false;  // stable: FIFO
  });
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = bucketed[i].second;
}

}  // namespace switchboard
