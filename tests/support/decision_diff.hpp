#pragma once
// Test support: comparing decision lists and item views for differential tests (the kernel
// against the reference router, a batched kernel against a sequential one), and showing them in
// failure messages.
//
//   first_difference   the first index at which two decision ranges differ (same_decision)
//   show               decisions (a window of a list, or a deque of recent ones) and item views
//   same               two item views agree (id, state, queue, agent, declines)
//   event_of_decision  which event of a chunk made a given decision (from per-event offsets)
//   event_difference, batch_difference
//                      the failure text when one event, or one apply_batch chunk, decides
//                      differently from the reference
//   item_views_differ  what differs between the reference's and a kernel's view of the ledger's items
//   env_count, seeds_with_soak, seed_name, kSlowBuild
//                      soak sizes from the environment; shorter default streams where every event
//                      costs more (sanitizers, assertions)

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "random_stream.hpp"
#include "router_harness.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/reference_router.hpp"
#include "switchboard/router_views.hpp"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SWITCHBOARD_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SWITCHBOARD_TEST_SANITIZED 1
#endif
#endif

namespace switchboard::testing {

#if defined(SWITCHBOARD_TEST_SANITIZED) || !defined(NDEBUG)
inline constexpr bool kSlowBuild = true;  // ThreadSanitizer, ASan, Debug
#else
inline constexpr bool kSlowBuild = false;
#endif

// A positive count from the environment (a soak's size), or `fallback`.
inline std::size_t env_count(const char* name, std::size_t fallback) {
  if (const char* env = std::getenv(name)) {
    const long long n = std::atoll(env);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  return fallback;
}

// Seeds 1..`count`, then as many more from `first_extra` on as the environment's `env` asks for.
inline std::vector<std::uint64_t> seeds_with_soak(std::uint64_t count, const char* env,
                                                  std::uint64_t first_extra) {
  std::vector<std::uint64_t> s;
  for (std::uint64_t seed = 1; seed <= count; ++seed) s.push_back(seed);
  const std::size_t extra = env_count(env, 0);
  for (std::size_t i = 0; i < extra; ++i) s.push_back(first_extra + i);
  return s;
}

// "seed12": the name of a seed-parameterized test.
inline std::string seed_name(const ::testing::TestParamInfo<std::uint64_t>& param_info) {
  return "seed" + std::to_string(param_info.param);
}

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

// "[k] item_arrive #12 ..." for events [from, to), one line each.
inline std::string event_lines(const std::vector<Event>& events, std::size_t from, std::size_t to) {
  std::string s;
  for (std::size_t k = from; k < to && k < events.size(); ++k) {
    s += "\n    [" + std::to_string(k) + "] " + describe(events[k]);
  }
  return s.empty() ? "\n    (none)" : s;
}

// `event`, the decision at which `reference` and `kernel` (the decisions it caused in each)
// first differ, and all of both.
inline std::string event_difference(const Event& event, const std::vector<Decision>& reference,
                                    const std::vector<Decision>& kernel, std::size_t diff) {
  std::ostringstream s;
  s << "\n  event: " << describe(event) << "\n  reference decision #" << diff << " of this event: "
    << (diff < reference.size() ? describe(reference[diff]) : std::string("(none)"))
    << "\n  kernel    decision #" << diff << " of this event: "
    << (diff < kernel.size() ? describe(kernel[diff]) : std::string("(none)"))
    << "\n  all reference decisions of this event:" << show(reference, 0, reference.size())
    << "\n  all kernel decisions of this event:" << show(kernel, 0, kernel.size());
  return s.str();
}

// An apply_batch chunk from event `start` whose decisions `batch` differ from the reference's
// (`decisions`, event i's at [offsets[i], offsets[i + 1])) at batch decision `diff`, made by
// event `e`: that event, both decisions, and up to `history` decisions and events before it.
inline std::string batch_difference(const std::vector<Event>& events, const std::vector<Decision>& decisions,
                                    const std::vector<std::size_t>& offsets, std::size_t start,
                                    std::size_t e, const std::vector<Decision>& batch, std::size_t diff,
                                    std::size_t history) {
  const std::size_t at = offsets[start] + diff;
  const std::size_t batch_from = diff > history ? diff - history : 0;
  const std::size_t history_from = at > history ? at - history : 0;
  const std::size_t event_from = e > start + history ? e - history : start;
  std::ostringstream s;
  s << "\n  event: " << describe(events[e]) << "\n  reference decision #" << (at - offsets[e])
    << " of this event: " << (at < offsets[e + 1] ? describe(decisions[at]) : std::string("(none)"))
    << "\n  batch     decision: " << (diff < batch.size() ? describe(batch[diff]) : std::string("(none)"))
    << "\n  all reference decisions of this event:" << show(decisions, offsets[e], offsets[e + 1])
    << "\n  last reference decisions before it:" << show(decisions, history_from, at)
    << "\n  last batch decisions before it:" << show(batch, batch_from, diff)
    << "\n  the events before it in this chunk:" << event_lines(events, event_from, e);
  return s.str();
}

// "" when the reference and `kernel` (anything with item(id)) hold every item of `ledger` with
// the same view, else the first item that differs.
template <typename Router>
std::string item_views_differ(const Ledger& ledger, const ReferenceRouter& reference, const Router& kernel) {
  for (const auto& [id, entry] : ledger) {
    const std::optional<ItemView> r = reference.item(id);
    const std::optional<ItemView> k = kernel.item(id);
    if (!r) return "the ledger holds " + id.to_string() + ", the reference does not";
    if (!k) return "the kernel lost item " + id.to_string() + " (reference: " + show(*r) + ")";
    if (!same(*r, *k)) return "item views differ\n  reference: " + show(*r) + "\n  kernel:    " + show(*k);
  }
  return "";
}

}  // namespace switchboard::testing
