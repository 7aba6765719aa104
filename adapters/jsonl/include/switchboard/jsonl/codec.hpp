#pragma once
// The JSON-lines adapter: one event or one decision per line, the wire format of
// `switchboard-route` and of any host that speaks text. The vocabulary (every type, field and
// error) is docs/events.md; this header is its codec.
//
// Names on the wire, indices in memory: queues, presences, skills and capacity profiles travel
// by their configured names and are resolved against the Config here, so the kernel only ever
// sees dense ids. Ids of agents and items stay what the host sent: a JSON number for an integer
// id, a JSON string for a name.
//
// Thread safety: every function is reentrant and may be called from any thread; they share no
// state (the Config is only read). None throws: errors are values.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "switchboard/config.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/events.hpp"
#include "switchboard/result.hpp"

namespace switchboard::jsonl {

// Decodes one line holding one JSON object, e.g.
//   {"t": 1000, "seq": 7, "type": "item_arrive", "item": 17, "queue": "VIP Support"}
// `t` (integer milliseconds, >= 0) and `type` are required; `seq` is optional and defaults to
// `default_sequence` (the CLI passes the line number). Unknown fields are errors, never ignored:
// a typo would otherwise silently route work the wrong way.
//
// Errors: malformed_event (not JSON, not an object, a missing, duplicate, unknown or
// wrong-typed field, an unknown type), unknown_queue / unknown_skill / unknown_presence /
// unknown_profile (a name the configuration does not declare), invalid_value (a number out of
// its range). Every message names the field, e.g.
//   item_arrive: field "skills.billingg": unknown skill "billingg" (declared: billing, spanish)
[[nodiscard]] Result<Event> decode_event(std::string_view line, const Config& config,
                                         std::uint64_t default_sequence = 0);

// The inverse of decode_event: one JSON object, no trailing newline. decode_event(encode_event(e))
// == e for every event decode_event can produce. Ids out of the configuration's range (which
// decode_event never produces) are written as their index so that encoding is total.
[[nodiscard]] std::string encode_event(const Event& event, const Config& config);

// One decision as one JSON object, no trailing newline, e.g.
//   {"t":1000,"decision":"offer","item":17,"agent":"lesa","queue":"VIP Support","by":"method",
//    "method":"round_robin"}
// Fields by kind: docs/events.md, "Decisions". An error decision carries "code", "message",
// "seq" and "event" (the refused event re-encoded, when the decision holds it). `line`, when
// given, is added to error decisions as "line" (the input line the refused event came from).
[[nodiscard]] std::string encode_decision(const Decision& decision, const Config& config,
                                          std::optional<std::uint64_t> line = std::nullopt);

// The error line for input that never became an event (decode_event failed):
//   {"decision":"error","line":12,"code":"malformed_event","message":"...","raw":"..."}
// `raw` is the line as read (invalid UTF-8 replaced), so a person can find and fix it.
[[nodiscard]] std::string encode_decode_error(const Error& error, std::uint64_t line,
                                              std::string_view raw);

}  // namespace switchboard::jsonl
