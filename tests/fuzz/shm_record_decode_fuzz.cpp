// libFuzzer target for the shared-memory record decoders (STYLE: a fuzz target for every
// decoder). Input: a record as the daemon or a host sees it, less the header: the first 2 bytes
// are the record type (little-endian), the rest is the payload. Events (and any type that is not
// an outbound one) go to decode_event; DECISION, ERROR, ACK and NOTICE to their decoders. No
// decoder may crash, read outside the payload (ASan) or throw; a refusal carries
// malformed_event and a message; and the format is canonical, so whatever a decoder accepts
// must encode to exactly the bytes it came from.
// How to build and run: tests/fuzz/README.md.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "switchboard/shm/record_codec.hpp"

namespace {

using namespace switchboard;
using namespace switchboard::shm;

template <typename T>
void check_refusal(const Result<T>& result) {
  if (!result && (result.error().code != ErrorCode::malformed_event || result.error().message.empty())) {
    std::abort();
  }
}

void same_bytes(const std::vector<std::uint8_t>& encoded, std::span<const std::uint8_t> payload) {
  if (encoded.size() != payload.size() ||
      (!payload.empty() && std::memcmp(encoded.data(), payload.data(), payload.size()) != 0)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto type = static_cast<std::uint16_t>(data[0] | (data[1] << 8));
  // A copy of exactly the payload, so that ASan sees a read one byte past its end.
  const std::vector<std::uint8_t> payload(data + 2, data + size);
  std::vector<std::uint8_t> encoded;

  switch (type) {
    case SB_REC_DECISION: {
      const Result<DecodedDecision> d = decode_decision(payload);
      check_refusal(d);
      if (d) {
        encode_decision(d->decision, d->cause, encoded);
        same_bytes(encoded, payload);
      }
      return 0;
    }
    case SB_REC_ERROR: {
      const Result<DecodedError> e = decode_error(payload);
      check_refusal(e);
      if (e) {
        encode_error(e->code, e->record_type, e->message, encoded);
        same_bytes(encoded, payload);
      }
      return 0;
    }
    case SB_REC_ACK: {
      const Result<std::uint16_t> a = decode_ack(payload);
      check_refusal(a);
      if (a) {
        encode_ack(*a, encoded);
        same_bytes(encoded, payload);
      }
      return 0;
    }
    case SB_REC_NOTICE: {
      const Result<DecodedNotice> n = decode_notice(payload);
      check_refusal(n);
      if (n) {
        encode_notice(n->code, n->message, encoded);
        same_bytes(encoded, payload);
      }
      return 0;
    }
    default:
      break;
  }

  const Result<Event> event = decode_event(type, 42, payload);
  check_refusal(event);
  if (!event) return 0;
  if (event->sequence != 42) std::abort();
  const Result<std::uint16_t> again = encode_event(*event, encoded);
  if (!again || *again != type) std::abort();
  same_bytes(encoded, payload);
  return 0;
}
