// Binding a ring view (ring.h) without trusting the shared words: sb_ring_bind_checked, which
// hosts use, refuses every capacity, data_offset or index that would take the view outside the
// segment; and a view bound by sb_ring_bind_at, as the daemon binds, stays inside its data
// whatever the other side writes into the shared indices and records.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "switchboard/shm/ring.h"

namespace {

constexpr std::uint64_t kSegment = 64u << 10;  // the fake segment's bytes
constexpr std::uint64_t kHeaderAt = 4096;
constexpr std::uint64_t kDataAt = 8192;
constexpr std::uint64_t kCapacity = 4096;
constexpr std::uint32_t kMaxRecord = 1024;

// A segment of kSegment bytes, 8-aligned, with one well-formed ring header at kHeaderAt.
struct FakeSegment {
  std::vector<std::uint64_t> words = std::vector<std::uint64_t>(kSegment / 8);
  FakeSegment() {
    header().capacity = kCapacity;
    header().data_offset = kDataAt;
  }
  std::uint8_t* base() { return reinterpret_cast<std::uint8_t*>(words.data()); }
  sb_ring_header& header() { return *reinterpret_cast<sb_ring_header*>(base() + kHeaderAt); }
};

TEST(ShmRingBind, ACheckedBindTakesTheHeadersWordsWhenTheyAreSound) {
  FakeSegment s;
  sb_store_u64(&s.header().tail, 48);
  sb_store_u64(&s.header().head, 16);
  sb_ring writer{};
  sb_ring reader{};
  ASSERT_EQ(sb_ring_bind_checked(&writer, s.base(), kSegment, &s.header(), kMaxRecord, 1), SB_RING_OK);
  ASSERT_EQ(sb_ring_bind_checked(&reader, s.base(), kSegment, &s.header(), kMaxRecord, 0), SB_RING_OK);
  EXPECT_EQ(writer.data, s.base() + kDataAt);
  EXPECT_EQ(writer.mask, kCapacity - 1);
  EXPECT_EQ(writer.own, 48u);
  EXPECT_EQ(writer.other, 16u);
  EXPECT_EQ(reader.own, 16u);
  EXPECT_EQ(reader.other, 48u);
  EXPECT_EQ(reader.max_record, kMaxRecord);
  // The data may end exactly at the segment's end.
  s.header().data_offset = kSegment - kCapacity;
  EXPECT_EQ(sb_ring_bind_checked(&writer, s.base(), kSegment, &s.header(), kMaxRecord, 1), SB_RING_OK);
}

TEST(ShmRingBind, ACheckedBindRefusesWordsThatLeadOutsideTheSegmentAndLeavesTheViewAlone) {
  struct Case {
    const char* what;
    std::uint64_t capacity, data_offset, tail, head;
    std::uint32_t max_record;
  };
  const Case cases[] = {
      {"capacity 0", 0, kDataAt, 0, 0, kMaxRecord},
      {"capacity 3", 3, kDataAt, 0, 0, kMaxRecord},
      {"capacity not a power of two", kCapacity + 8, kDataAt, 0, 0, kMaxRecord},
      {"capacity 2^40", std::uint64_t{1} << 40, kDataAt, 0, 0, kMaxRecord},
      {"capacity below max_record", 512, kDataAt, 0, 0, kMaxRecord},
      {"max_record below a record header", kCapacity, kDataAt, 0, 0, 8},
      {"data_offset 2^40", kCapacity, std::uint64_t{1} << 40, 0, 0, kMaxRecord},
      {"data_offset at the last 8 bytes", kCapacity, kSegment - 8, 0, 0, kMaxRecord},
      {"data running 8 bytes past the end", kCapacity, kSegment - kCapacity + 8, 0, 0, kMaxRecord},
      {"data_offset near 2^64", kCapacity, ~std::uint64_t{0} - 7, 0, 0, kMaxRecord},
      {"data_offset not 8-aligned", kCapacity, kDataAt + 4, 0, 0, kMaxRecord},
      {"tail not 8-aligned", kCapacity, kDataAt, 4, 0, kMaxRecord},
      {"head not 8-aligned", kCapacity, kDataAt, 16, 12, kMaxRecord},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    FakeSegment s;
    s.header().capacity = c.capacity;
    s.header().data_offset = c.data_offset;
    sb_store_u64(&s.header().tail, c.tail);
    sb_store_u64(&s.header().head, c.head);
    sb_ring ring{};
    ring.own = 4242;  // a sentinel: a refused bind changes nothing
    const sb_ring before = ring;
    for (const int writer : {0, 1}) {
      EXPECT_EQ(sb_ring_bind_checked(&ring, s.base(), kSegment, &s.header(), c.max_record, writer), SB_RING_CORRUPT);
      EXPECT_EQ(std::memcmp(&ring, &before, sizeof ring), 0);
    }
  }
}

// A ring bound at known data, with guard bytes on both sides; the shared indices and the record
// bytes are written by a hostile other side between every call. Nothing outside the data
// changes, whatever the writer reserves or the reader peeks.
TEST(ShmRingBind, ARingBoundAtKnownDataStaysInsideItWhateverTheOtherSideWrites) {
  constexpr std::size_t kGuard = 256;
  constexpr std::uint8_t kPattern = 0xA5;
  std::vector<std::uint64_t> words((kGuard * 2 + kCapacity) / 8);
  auto* bytes = reinterpret_cast<std::uint8_t*>(words.data());
  std::memset(bytes, kPattern, words.size() * 8);
  std::uint8_t* data = bytes + kGuard;
  sb_ring_header header{};
  std::mt19937_64 random(2026);
  sb_ring writer{};
  sb_ring reader{};
  sb_ring_bind_at(&writer, &header, data, kCapacity, kMaxRecord, 0, 0);
  sb_ring_bind_at(&reader, &header, data, kCapacity, kMaxRecord, 0, 0);
  std::vector<std::uint8_t> payload(kMaxRecord);
  int written = 0, read = 0, corrupt = 0;
  for (int step = 0; step < 20000; ++step) {
    switch (random() % 4) {
      case 0:  // the reader's side is hostile: any head
        sb_store_u64(&header.head, random() % 3 == 0 ? random() : writer.own - 8 * (random() % 600));
        break;
      case 1:  // the writer's side is hostile: any tail, any bytes
        sb_store_u64(&header.tail, random() % 3 == 0 ? random() : reader.own + 8 * (random() % 600));
        for (int i = 0; i < 8; ++i) data[random() % kCapacity] = static_cast<std::uint8_t>(random());
        break;
      case 2: {
        const std::uint32_t size = static_cast<std::uint32_t>(random() % (kMaxRecord - 16 + 40));
        if (sb_ring_write(&writer, 1, 0, 0, payload.data(), size) == SB_RING_OK) ++written;
        break;
      }
      default: {
        const sb_record_header* rec = nullptr;
        const sb_ring_status st = sb_ring_peek(&reader, &rec);
        if (st == SB_RING_OK) {
          ASSERT_GE(reinterpret_cast<const std::uint8_t*>(rec), data);
          ASSERT_LE(reinterpret_cast<const std::uint8_t*>(rec) + reader.peeked, data + kCapacity);
          sb_ring_advance(&reader);
          ++read;
        } else if (st == SB_RING_CORRUPT) {
          ++corrupt;
          reader.own = reader.other = 0;  // as a re-attach would
        }
        break;
      }
    }
  }
  for (std::size_t i = 0; i < kGuard; ++i) {
    ASSERT_EQ(bytes[i], kPattern) << "before the data, byte " << i;
    ASSERT_EQ(data[kCapacity + i], kPattern) << "after the data, byte " << i;
  }
  // The run did exercise both sides.
  EXPECT_GT(written, 100);
  EXPECT_GT(read, 10);
  EXPECT_GT(corrupt, 10);
}

}  // namespace
