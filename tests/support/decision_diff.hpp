#pragma once
// Test support: comparing decision lists and item views for differential tests (the kernel
// against the reference router, a batched kernel against a sequential one), and showing them in
// failure messages.
//
//   first_difference   the first index at which two decision ranges differ (same_decision)
//   show               decisions (a window of a list, or a deque of recent ones) and item views
//   same               two item views agree (id, state, queue, agent, declines)
//   event_of_decision  which event of a chunk made a given decision (from per-event offsets)

#include <algorithm>
#include <cstddef>
#include <deque>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "router_harness.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/router_views.hpp"

namespace switchboard::testing {

inline std::string show(const std::deque<Decision>& decisions) {
  std::string s;
  for (const Decision& d : decisions) s += "\n    " + describe(d);
  return s.empty() ? "\n    (none)" : s;
}

inline std::string show(const std::vector<Decision>& decisions, std::size_t from, std::size_t to) {
  std::string s;
  for (std::size_t i = from; i < to && i < decisions.size(); ++i) s += "\n    " + describe(decisions[i]);
  return s.empty() ? "\n    (none)" : s;
}

inline std::string show(const ItemView& v) {
  std::ostringstream s;
  s << v.id.to_string() << " " << to_string(v.state) << " queue=" << v.queue
    << " agent=" << (v.agent ? v.agent->to_string() : "-") << " declines={";
  for (const auto& [agent, n] : v.declines) s << agent.to_string() << ":" << n << " ";
  s << "}";
  return s.str();
}

inline bool same(const ItemView& a, const ItemView& b) {
  return a.id == b.id && a.state == b.state && a.queue == b.queue && a.agent == b.agent &&
         a.declines == b.declines;
}

// The first index at which a[a_from, a_from + n_a) and b[b_from, b_from + n_b) differ, or nullopt
// when they are the same decisions (Decision::same_decision) in the same order.
inline std::optional<std::size_t> first_difference(const std::vector<Decision>& a, std::size_t a_from,
                                                   const std::vector<Decision>& b, std::size_t b_from,
                                                   std::size_t n_a, std::size_t n_b) {
  const std::size_t n = std::min(n_a, n_b);
  for (std::size_t i = 0; i < n; ++i) {
    if (!a[a_from + i].same_decision(b[b_from + i])) return i;
  }
  if (n_a != n_b) return n;
  return std::nullopt;
}

// The event of [start, start + count) whose decisions hold decision index `at`, given per-event
// offsets (decisions of event i: [offsets[i], offsets[i + 1])). An index past the chunk's
// decisions (a missing or extra decision at the end) names the chunk's last event.
inline std::size_t event_of_decision(const std::vector<std::size_t>& offsets, std::size_t start,
                                     std::size_t count, std::size_t at) {
  std::size_t e = start;
  while (e + 1 < start + count && offsets[e + 1] <= at) ++e;
  return e;
}

}  // namespace switchboard::testing
