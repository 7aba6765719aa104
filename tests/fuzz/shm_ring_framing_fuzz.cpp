// libFuzzer target for the ring framing of ring.h (docs/protocol.md, "Rings" and "Records") and
// the daemon's way of reading an inbound ring (server.cpp, take_one). Two modes, by the top bit
// of the first byte:
//
// Reader (bit 7 clear): the input is a ring as a hostile host may leave it: its data, its tail
// and the daemon's head. Records are read with sb_ring_peek / sb_ring_advance as the daemon does
// and decoded with the in-place decode_event into an Event reused from earlier records (of any
// type, picked by the record's sequence number), as take_one does. Checks: peek never reads or
// hands out anything outside the data (ASan: the data is a buffer of exactly `capacity` bytes),
// a record it returns is committed, at least a header long, at most max_record long, not
// padding, and within the data; head never passes tail; and the reused decode agrees with a
// fresh decode of the same bytes (both refuse with the same error, or both give equal events),
// and an event accepted re-encodes to the payload's bytes.
//
//   byte 0      bits 0-2: capacity = 64 << n (64 .. 8192 bytes)
//   byte 1      max_record = min(capacity, 16 + 4 * byte)
//   byte 2      bit 0: tail is bytes 11..18 as they are; else head + the u16 at bytes 11..12
//   bytes 3-10  head (little-endian), rounded down to a multiple of 8 (a reader's head is one)
//   bytes 11-18 tail, as byte 2 says
//   then        the ring's data from offset 0, zero-filled to capacity
//
// Writer and reader (bit 7 set): from an arbitrary start index, a writer (sb_ring_write,
// sb_ring_write_unpublished + sb_ring_publish_tail, as hosts and the daemon write) and a reader
// take turns as the input's operations say; a model of the ring (a FIFO of records, the published
// head and tail) predicts every result. Checks: FULL exactly when the record and its padding do
// not fit before the published head; TOO_BIG exactly when over max_record; the reader gets every
// visible record once, in order, with its type, flags, sequence and payload, and EMPTY when none
// is visible; padding is never returned.
//
//   byte 0      bit 7 set; bits 0-2: capacity = 64 << n
//   byte 1      max_record = min(capacity, 16 + 4 * byte)
//   bytes 2-9   start index, rounded down to a multiple of 8, below 2^62 (indices count bytes
//               since the attach; 2^62 is centuries of traffic)
//   then        one byte per operation: 00pppppp write (published) a payload of 3p bytes;
//               01pppppp write unpublished; 10xxxxxb read one record, publishing head when b;
//               11xxxxxx publish tail and head
//
// How to build and run: tests/fuzz/README.md.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "switchboard/shm/record_codec.hpp"
#include "switchboard/shm/ring.h"

namespace {

using namespace switchboard;
using namespace switchboard::shm;

std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void require(bool condition) {
  if (!condition) std::abort();
}

// --- reader mode -------------------------------------------------------------------------------

// Events reused across the records of one input, as the daemon's batch reuses events of earlier
// batches: one that held any type may be overwritten in place.
constexpr std::size_t kReused = 4;

void check_decode(const sb_record_header& header, std::span<const std::uint8_t> payload,
                  std::array<Event, kReused>& reused) {
  Event& in_place = reused[header.sequence % kReused];
  const std::optional<Error> error = decode_event(header.type, header.sequence, payload, in_place);
  const Result<Event> fresh = decode_event(header.type, header.sequence, payload);
  if (error) {
    require(!fresh);
    require(fresh.error().code == error->code && fresh.error().message == error->message);
    require(error->code == ErrorCode::malformed_event && !error->message.empty());
    return;
  }
  require(static_cast<bool>(fresh));
  require(*fresh == in_place);
  require(in_place.sequence == header.sequence);
  std::vector<std::uint8_t> encoded;
  const Result<std::uint16_t> type = encode_event(in_place, encoded);
  require(type && *type == header.type);
  require(encoded.size() == payload.size() &&
          (payload.empty() || std::memcmp(encoded.data(), payload.data(), payload.size()) == 0));
}

void read_ring(const std::uint8_t* input, std::size_t size) {
  constexpr std::size_t kPrefix = 19;
  if (size < kPrefix) return;
  const std::uint64_t capacity = std::uint64_t{64} << (input[0] & 7u);
  const auto max_record = static_cast<std::uint32_t>(std::min<std::uint64_t>(capacity, 16u + 4u * input[1]));
  const std::uint64_t head = load_le64(input + 3) & ~std::uint64_t{SB_RECORD_ALIGN - 1};
  const std::uint64_t tail = (input[2] & 1u) != 0 ? load_le64(input + 11)
                                                  : head + (input[11] | (std::uint64_t{input[12]} << 8));
  // Exactly `capacity` bytes: a read past the data is a heap overflow ASan reports.
  std::vector<std::uint8_t> data(capacity, 0);
  std::memcpy(data.data(), input + kPrefix, std::min<std::size_t>(size - kPrefix, capacity));
  sb_ring_header header{};
  header.tail = tail;
  header.head = head;
  header.capacity = capacity;
  sb_ring ring{};
  // As the daemon binds (sb_ring_bind_at from its own layout), with the head it has reached;
  // `other` = head, so that the first peek loads the shared tail.
  sb_ring_bind_at(&ring, &header, data.data(), capacity, max_record, head, head);

  std::array<Event, kReused> reused{};
  std::vector<std::uint8_t> scratch;
  // Every record or padding advances by at least 8 bytes, and tail - head <= capacity.
  for (std::uint64_t records = 0; records <= capacity / SB_RECORD_ALIGN + 1; ++records) {
    const sb_record_header* rec = nullptr;
    const sb_ring_status s = sb_ring_peek(&ring, &rec);
    require(ring.own >= head && ring.own - head <= capacity);
    if (s != SB_RING_OK) {
      require(s == SB_RING_EMPTY || s == SB_RING_IN_PROGRESS || s == SB_RING_CORRUPT);
      return;
    }
    // What the daemon then relies on (take_one).
    const auto* at = reinterpret_cast<const std::uint8_t*>(rec);
    require(at >= data.data() && (reinterpret_cast<std::uintptr_t>(at) & (SB_RECORD_ALIGN - 1)) == 0);
    const std::uint32_t commit = __atomic_load_n(&rec->commit, __ATOMIC_RELAXED);
    const std::uint32_t length = commit & SB_RECORD_LENGTH_MASK;
    require((commit & SB_RECORD_COMMITTED) != 0u && length >= sizeof(sb_record_header) && length <= max_record);
    require(sb_record_padded(length) == ring.peeked);
    require(static_cast<std::uint64_t>(at - data.data()) + ring.peeked <= capacity);
    require(ring.own - head + ring.peeked <= tail - head);
    require(rec->type != SB_REC_PADDING);
    sb_record_header copy;
    std::memcpy(&copy, rec, sizeof copy);
    scratch.assign(sb_record_payload(rec), sb_record_payload(rec) + (length - sizeof(sb_record_header)));
    sb_ring_advance(&ring);
    require(ring.own <= ring.other);
    check_decode(copy, scratch, reused);
  }
  std::abort();  // more records than the ring can hold
}

// --- writer and reader mode ---------------------------------------------------------------------

struct Expected {
  std::uint16_t type;
  std::uint16_t flags;
  std::uint64_t sequence;
  std::vector<std::uint8_t> payload;
};

void write_and_read(const std::uint8_t* input, std::size_t size) {
  constexpr std::size_t kPrefix = 10;
  if (size < kPrefix) return;
  const std::uint64_t capacity = std::uint64_t{64} << (input[0] & 7u);
  const auto max_record = static_cast<std::uint32_t>(std::min<std::uint64_t>(capacity, 16u + 4u * input[1]));
  const std::uint64_t start = load_le64(input + 2) & ((std::uint64_t{1} << 62) - 1) & ~std::uint64_t{SB_RECORD_ALIGN - 1};
  std::vector<std::uint8_t> data(capacity, 0);
  sb_ring_header header{};
  header.tail = start;
  header.head = start;
  header.capacity = capacity;
  sb_ring writer{};
  sb_ring reader{};
  sb_ring_bind_at(&writer, &header, data.data(), capacity, max_record, start, start);
  sb_ring_bind_at(&reader, &header, data.data(), capacity, max_record, start, start);

  // The model: records written, in order; the first `visible` of them are before the published
  // tail. Where the writer is (its own tail) and the published head.
  std::deque<Expected> fifo;
  std::size_t visible = 0;
  std::uint64_t own_tail = start;
  std::uint64_t published_head = start;
  std::uint64_t sequence = 0;

  for (std::size_t i = kPrefix; i < size; ++i) {
    const std::uint8_t op = input[i];
    switch (op >> 6) {
      case 0:
      case 1: {
        const bool published = (op >> 6) == 0;
        Expected e{static_cast<std::uint16_t>(1 + sequence % 17), static_cast<std::uint16_t>(sequence & 1u),
                   ++sequence, std::vector<std::uint8_t>(3u * (op & 0x3fu))};
        for (std::size_t k = 0; k < e.payload.size(); ++k) e.payload[k] = static_cast<std::uint8_t>(sequence * 31u + k);
        const auto length = static_cast<std::uint32_t>(sizeof(sb_record_header) + e.payload.size());
        const std::uint64_t offset = own_tail & (capacity - 1);
        const std::uint64_t padded = sb_record_padded(length);
        const std::uint64_t need = padded + (offset + padded > capacity ? capacity - offset : 0u);
        const sb_ring_status s =
            published ? sb_ring_write(&writer, e.type, e.flags, e.sequence, e.payload.data(),
                                      static_cast<std::uint32_t>(e.payload.size()))
                      : sb_ring_write_unpublished(&writer, e.type, e.flags, e.sequence, e.payload.data(),
                                                  static_cast<std::uint32_t>(e.payload.size()));
        if (length > max_record) {
          require(s == SB_RING_TOO_BIG);
        } else if (own_tail + need - published_head > capacity) {
          require(s == SB_RING_FULL);
        } else {
          require(s == SB_RING_OK);
          own_tail += need;
          fifo.push_back(std::move(e));
          if (published) visible = fifo.size();  // a published tail shows everything before it
        }
        require(writer.own == own_tail);
        break;
      }
      case 2: {
        const sb_record_header* rec = nullptr;
        const sb_ring_status s = sb_ring_peek(&reader, &rec);
        if (visible == 0) {
          require(s == SB_RING_EMPTY);
        } else {
          require(s == SB_RING_OK);
          const Expected& e = fifo.front();
          const std::uint32_t length = rec->commit & SB_RECORD_LENGTH_MASK;
          require((rec->commit & SB_RECORD_COMMITTED) != 0u && rec->type == e.type && rec->flags == e.flags &&
                  rec->sequence == e.sequence && length == sizeof(sb_record_header) + e.payload.size());
          require(e.payload.empty() || std::memcmp(sb_record_payload(rec), e.payload.data(), e.payload.size()) == 0);
          sb_ring_advance(&reader);
          fifo.pop_front();
          --visible;
        }
        if ((op & 1u) != 0) {
          sb_ring_publish(&reader);
          published_head = reader.own;
        }
        break;
      }
      default:
        sb_ring_publish_tail(&writer);
        visible = fifo.size();
        sb_ring_publish(&reader);
        published_head = reader.own;
        break;
    }
    require(reader.own <= own_tail && own_tail - published_head <= capacity);
  }
  // Everything published comes out, in order, then EMPTY.
  sb_ring_publish_tail(&writer);
  while (!fifo.empty()) {
    const sb_record_header* rec = nullptr;
    require(sb_ring_peek(&reader, &rec) == SB_RING_OK && rec->sequence == fifo.front().sequence);
    sb_ring_advance(&reader);
    fifo.pop_front();
  }
  const sb_record_header* rec = nullptr;
  require(sb_ring_peek(&reader, &rec) == SB_RING_EMPTY && reader.own == own_tail);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 0x80u) != 0) {
    write_and_read(data, size);
  } else {
    read_ring(data, size);
  }
  return 0;
}
