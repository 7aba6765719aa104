#pragma once
// The load of the round-trip benchmarks (issue 4, switchboard-shm-bench): one configuration and
// one pair of records that both transports, the shared-memory rings and the Unix-socket
// baseline, carry byte for byte.
//
// The pair is item_arrive then item_cancel of the same item, alternating. With one item live at
// a time in a queue of idle agents, the arrival makes exactly one decision, an offer (R9, R10:
// highest capacity picks an agent with room), and the cancel exactly one, cancelled with the
// withdrawn offer's agent (R5: an offered item can be cancelled; R6: the capacity comes back).
// The kernel forgets a cancelled item, so ids cycle and the load repeats forever without growing
// state. Every event carries the same time, so no timer (R11 cycles) ever fires.
//
// Not thread-safe: an RttRecords belongs to one host thread; rtt_config() may run anywhere.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "switchboard/config.hpp"
#include "switchboard/shm/client.h"

namespace switchboard::bench {

// One chat queue ("rtt", highest capacity, no skills) and `agents` available agents of chat
// capacity 3 in it.
[[nodiscard]] Config rtt_config(std::size_t agents = 8);

// The k-th event of a host's stream: even k an item_arrive, odd k the item_cancel of the same
// item. Sequence numbers are k + 1, so a reply names its event.
struct RttEvent {
  std::uint16_t type = 0;       // SB_REC_ITEM_ARRIVE or SB_REC_ITEM_CANCEL
  std::uint64_t sequence = 0;   // k + 1
  std::uint64_t item = 0;       // the item's numeric id
  const std::uint8_t* payload = nullptr;  // the encoded payload (valid until the next next())
  std::size_t size = 0;
};

// Encodes a host's stream with the C client's encoders (sb_encode_item_arrive, _cancel), the
// bytes both transports send. Items are item_base + 0 .. kItemCycle - 1, reused in turn.
class RttRecords {
 public:
  static constexpr std::uint64_t kItemCycle = 1024;
  static constexpr std::int64_t kTime = 1'000;  // ms, the same for every event

  explicit RttRecords(std::uint64_t item_base) : item_base_(item_base) {}

  // Encodes event k (k = 0, 1, 2, ... in order; any k is allowed).
  [[nodiscard]] RttEvent event(std::uint64_t k);
  // Event k without its payload (type, sequence, item): what its reply is checked against.
  [[nodiscard]] RttEvent describe(std::uint64_t k) const noexcept;

 private:
  std::uint64_t item_base_;
  std::array<std::uint8_t, 64> buffer_{};
};

// Whether an outbound record is the one expected answer to `event` sent from host slot `slot`:
// a DECISION whose cause is (`slot`, `event.sequence`), of kind offer (arrive) or cancelled
// (cancel), for `event.item`, with an agent. `why` says what differed when it is not.
[[nodiscard]] bool is_expected_reply(const RttEvent& event, std::uint16_t slot, std::uint16_t type,
                                     const void* payload, std::size_t size,
                                     std::string* why = nullptr);

// The same check on a decision already decoded (a host that sees every decision decodes each
// once to find its cause slot, then checks its own).
[[nodiscard]] bool is_expected_decision(const RttEvent& event, std::uint16_t slot, const sb_decision& d,
                                        std::string* why = nullptr);

}  // namespace switchboard::bench
