#pragma once
// Payloads of shared-memory records (docs/protocol.md, "Payloads"): events in, decisions,
// errors, acks and notices out. The byte layout is the document's; this header is its codec.
//
// Decoders take bytes from another process and trust none of them: every length is checked
// against the payload's end before it is read, and a payload must be consumed exactly. They
// never throw and never read outside the span. Encoders append to a caller-owned buffer, which
// the daemon reuses, so the hot path does not allocate once the buffer has grown.
//
// Thread safety: every function is reentrant; they share no state.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/decision.hpp"
#include "switchboard/events.hpp"
#include "switchboard/result.hpp"
#include "switchboard/shm/protocol.h"

namespace switchboard::shm {

// The record type of an event (SB_REC_AGENT_UPSERT .. SB_REC_TICK).
[[nodiscard]] std::uint16_t record_type_of(const EventBody& body) noexcept;

// Appends the payload of `event` (time first) to `out` and returns the record type. Refuses
// (invalid_value, `out` unchanged) what the format cannot carry: a name id longer than 255 bytes
// or empty, a string or list longer than 65,535, more than 255 capacity profiles.
[[nodiscard]] Result<std::uint16_t> encode_event(const Event& event, std::vector<std::uint8_t>& out);

// Decodes an inbound record's payload. `sequence` is the record header's, copied into the
// event. Errors: malformed_event (unknown type, truncated field, bad id kind, a bool other than
// 0/1, bytes left over), with a message naming the field and its byte offset.
[[nodiscard]] Result<Event> decode_event(std::uint16_t type, std::uint64_t sequence,
                                         std::span<const std::uint8_t> payload);
// The same into `out`, reused: an event that already holds the record's type is overwritten in
// place (its lists keep their capacity), so that the daemon decodes without allocating. nullopt
// on success; on an error `out` holds some valid event of no meaning.
[[nodiscard]] std::optional<Error> decode_event(std::uint16_t type, std::uint64_t sequence,
                                               std::span<const std::uint8_t> payload, Event& out);

// The inbound record whose application made a decision.
struct DecisionCause {
  std::uint16_t slot = 0;
  std::uint64_t sequence = 0;
  friend bool operator==(const DecisionCause&, const DecisionCause&) = default;
};

// SB_REC_DECISION payload. `decision.kind` must not be DecisionKind::error (errors travel as
// SB_REC_ERROR); ids that encode_event would refuse cannot occur (the kernel holds only ids that
// came in through a decoder).
void encode_decision(const Decision& decision, DecisionCause cause, std::vector<std::uint8_t>& out);
// The same payload written in place, for the daemon's outbound ring: decision_payload_size
// bytes at `out`, exactly.
[[nodiscard]] std::size_t decision_payload_size(const Decision& decision) noexcept;
void encode_decision_to(const Decision& decision, DecisionCause cause, std::uint8_t* out) noexcept;
struct DecodedDecision {
  Decision decision;
  DecisionCause cause;
};
[[nodiscard]] Result<DecodedDecision> decode_decision(std::span<const std::uint8_t> payload);

// SB_REC_ERROR payload: the refused record's type and why. The message is cut to 65,535 bytes.
void encode_error(ErrorCode code, std::uint16_t record_type, std::string_view message,
                  std::vector<std::uint8_t>& out);
struct DecodedError {
  ErrorCode code = ErrorCode::ok;
  std::uint16_t record_type = 0;
  std::string message;
};
[[nodiscard]] Result<DecodedError> decode_error(std::span<const std::uint8_t> payload);

// SB_REC_ACK payload.
void encode_ack(std::uint16_t cause_slot, std::vector<std::uint8_t>& out);
[[nodiscard]] Result<std::uint16_t> decode_ack(std::span<const std::uint8_t> payload);

// SB_REC_NOTICE payload.
enum class NoticeCode : std::uint16_t { ring_reset = 1 };
void encode_notice(NoticeCode code, std::string_view message, std::vector<std::uint8_t>& out);
struct DecodedNotice {
  NoticeCode code = NoticeCode::ring_reset;
  std::string message;
};
[[nodiscard]] Result<DecodedNotice> decode_notice(std::span<const std::uint8_t> payload);

}  // namespace switchboard::shm
