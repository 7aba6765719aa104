/* The ring algorithm of protocol.h, written once for both sides: the daemon (C++) and the C
 * client include this header. Single producer, single consumer; wait-free on both sides (every
 * call finishes in a bounded number of steps whatever the other side does).
 *
 * Memory orders, all of them:
 *  - the writer publishes `tail` with release after storing the record's uncommitted `commit`,
 *    so a reader that loads `tail` with acquire sees that the record is in progress, never a
 *    previous lap's bytes (a batched writer publishes it after whole, committed records, which
 *    the reader sees committed at once);
 *  - the writer stores `commit | SB_RECORD_COMMITTED` with release after the payload, and the
 *    reader loads `commit` with acquire before reading the payload: it sees the whole record;
 *  - the reader publishes `head` with release after it has read the records before it, and the
 *    writer loads `head` with acquire before overwriting those bytes: the reader is done with
 *    them.
 * Each side's own index is only ever written by itself, so it keeps a private copy and stores
 * the shared word without reading it back. */
#ifndef SWITCHBOARD_SHM_RING_H
#define SWITCHBOARD_SHM_RING_H

#include <stdint.h>
#include <string.h>

#include "switchboard/shm/protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sb_ring_status {
  SB_RING_OK = 0,
  SB_RING_EMPTY = 1,       /* reader: nothing committed at head */
  SB_RING_IN_PROGRESS = 2, /* reader: the record at head is claimed but not committed yet */
  SB_RING_FULL = 3,        /* writer: not enough free space now; try again later */
  SB_RING_TOO_BIG = 4,     /* writer: the record can never fit (over max_record_size) */
  SB_RING_CORRUPT = 5      /* reader: a length or index that no correct writer produces */
};

static inline uint64_t sb_load_u64(const uint64_t* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void sb_store_u64(uint64_t* p, uint64_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline uint32_t sb_load_u32(const uint32_t* p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void sb_store_u32(uint32_t* p, uint32_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint32_t sb_record_padded(uint32_t length) {
  return (length + (SB_RECORD_ALIGN - 1u)) & ~(SB_RECORD_ALIGN - 1u);
}

/* One side's view of a ring: pointers into this process's mapping plus private copies of the
 * indices. Lives in the process, never in the segment. */
typedef struct sb_ring {
  sb_ring_header* header;
  uint8_t* data;
  uint64_t mask;       /* capacity - 1 */
  uint64_t own;        /* writer: tail; reader: head (the shared word holds the same value) */
  uint64_t other;      /* writer: last head seen; reader: last tail seen */
  uint32_t max_record; /* the segment's max_record_size */
  uint32_t peeked;     /* reader: padded length of the record peek returned (validated once:
                          a hostile writer may change the shared bytes after the check) */
} sb_ring;

/* Binds `ring` to the ring header at `header`, with data and capacity the caller knows from a
 * source it trusts, not from the header's shared `data_offset` and `capacity` words (any process
 * that maps the segment can write those). `own` and `other` start the private indices (writer:
 * tail, head; reader: head, tail). Every access of the other calls stays within `capacity` bytes
 * of `data` whatever the shared indices and records hold, provided that `capacity` is a power of
 * two of at least `max_record`, `max_record` is at least sizeof(sb_record_header), and `own` is
 * a multiple of SB_RECORD_ALIGN (records are read and written at own & (capacity - 1), and a
 * padding record needs 8 bytes before the end). The daemon binds this way, from its own layout,
 * at every attach. */
static inline void sb_ring_bind_at(sb_ring* ring, sb_ring_header* header, uint8_t* data,
                                   uint64_t capacity, uint32_t max_record, uint64_t own,
                                   uint64_t other) {
  ring->header = header;
  ring->data = data;
  ring->mask = capacity - 1u;
  ring->own = own;
  ring->other = other;
  ring->max_record = max_record;
  ring->peeked = 0;
}

/* Binds `ring` from the header's own words, each read once and checked first: `capacity` a power
 * of two of at least `max_record` (itself at least a record header), the data 8-aligned and
 * inside the `segment_size` bytes mapped at `base`, and both shared indices, read once, multiples
 * of SB_RECORD_ALIGN (sb_ring_bind_at's conditions). Call it after the daemon has reset the ring
 * (attach). SB_RING_CORRUPT, and `ring` unchanged, when a check
 * fails. For hosts; the daemon binds with sb_ring_bind_at. */
static inline enum sb_ring_status sb_ring_bind_checked(sb_ring* ring, uint8_t* base,
                                                       uint64_t segment_size,
                                                       sb_ring_header* header,
                                                       uint32_t max_record, int writer) {
  /* Relaxed: written once by the daemon before the release store that the caller acquired
   * (the slot's ATTACHED); atomic so that each is read exactly once, as checked. */
  const uint64_t capacity = __atomic_load_n(&header->capacity, __ATOMIC_RELAXED);
  const uint64_t data_offset = __atomic_load_n(&header->data_offset, __ATOMIC_RELAXED);
  if (capacity == 0u || (capacity & (capacity - 1u)) != 0u || capacity < max_record ||
      max_record < sizeof(sb_record_header) || data_offset % SB_RECORD_ALIGN != 0u ||
      data_offset > segment_size || capacity > segment_size - data_offset) {
    return SB_RING_CORRUPT;
  }
  const uint64_t tail = sb_load_u64(&header->tail);
  const uint64_t head = sb_load_u64(&header->head);
  if (((tail | head) & (SB_RECORD_ALIGN - 1u)) != 0u) return SB_RING_CORRUPT;
  sb_ring_bind_at(ring, header, base + data_offset, capacity, max_record, writer ? tail : head,
                  writer ? head : tail);
  return SB_RING_OK;
}

/* Binds `ring` from the header's `capacity` and `data_offset` unchecked: only for a header whose
 * words the caller wrote itself or has checked (tests); others use sb_ring_bind_checked. */
static inline void sb_ring_bind_(sb_ring* ring, uint8_t* base, sb_ring_header* header,
                                 uint32_t max_record, int writer) {
  const uint64_t tail = sb_load_u64(&header->tail);
  const uint64_t head = sb_load_u64(&header->head);
  sb_ring_bind_at(ring, header, base + header->data_offset, header->capacity, max_record,
                  writer ? tail : head, writer ? head : tail);
}
static inline void sb_ring_bind_writer(sb_ring* ring, uint8_t* base, sb_ring_header* header,
                                       uint32_t max_record) {
  sb_ring_bind_(ring, base, header, max_record, 1);
}
static inline void sb_ring_bind_reader(sb_ring* ring, uint8_t* base, sb_ring_header* header,
                                       uint32_t max_record) {
  sb_ring_bind_(ring, base, header, max_record, 0);
}

/* Writer: finds room for a record of `length` bytes (header included) at `own`, writing the
 * padding record first when it would not fit before the end. Returns the record's place in *out
 * and advances `own` past it; publishes nothing. */
static inline enum sb_ring_status sb_ring_reserve_(sb_ring* ring, uint32_t length,
                                                   sb_record_header** out) {
  const uint64_t capacity = ring->mask + 1u;
  if (length < sizeof(sb_record_header) || length > ring->max_record) return SB_RING_TOO_BIG;
  const uint32_t padded = sb_record_padded(length);
  const uint64_t offset = ring->own & ring->mask;
  /* A record never wraps: when it does not fit before the end, pad to the end first. */
  const uint64_t pad = (offset + padded > capacity) ? capacity - offset : 0u;
  const uint64_t need = pad + padded;
  if (ring->own + need - ring->other > capacity) {
    ring->other = sb_load_u64(&ring->header->head);
    if (ring->own + need - ring->other > capacity) return SB_RING_FULL;
  }
  if (pad != 0u) {
    sb_record_header* p = (sb_record_header*)(void*)(ring->data + offset);
    p->type = SB_REC_PADDING;
    p->flags = 0;
    sb_store_u32(&p->commit, (uint32_t)pad | SB_RECORD_COMMITTED);
  }
  *out = (sb_record_header*)(void*)(ring->data + ((ring->own + pad) & ring->mask));
  ring->own += need;
  return SB_RING_OK;
}

/* Writer: claims room for a record of `length` bytes (header included), fills in the header and
 * returns it in *out, in progress; write the payload after it, then call sb_ring_commit. */
static inline enum sb_ring_status sb_ring_claim(sb_ring* ring, uint32_t length, uint16_t type,
                                                uint16_t flags, uint64_t sequence,
                                                sb_record_header** out) {
  sb_record_header* rec = 0;
  const enum sb_ring_status s = sb_ring_reserve_(ring, length, &rec);
  if (s != SB_RING_OK) return s;
  /* Relaxed: the release store of tail below publishes it. */
  __atomic_store_n(&rec->commit, length, __ATOMIC_RELAXED);
  sb_store_u64(&ring->header->tail, ring->own);
  rec->type = type;
  rec->flags = flags;
  rec->sequence = sequence;
  *out = rec;
  return SB_RING_OK;
}

/* Writer, batched: claims room like sb_ring_claim but publishes nothing; the caller writes the
 * payload, calls sb_ring_commit, and after one or more such records publishes them all with one
 * sb_ring_publish_tail. The reader cannot tell the difference: it never looks past `tail`, and
 * every record before `tail` is already committed (release on tail, acquire on the reader's
 * load of it). The cost is the commit rule's protection: a writer killed between the claim and
 * the publish leaves nothing, not a record in progress, so only a writer whose death ends the
 * ring anyway (the daemon on outbound rings) uses it. It saves a store to the cache line the
 * reader polls per record, and with it the line's trips between the two cores. */
static inline enum sb_ring_status sb_ring_claim_unpublished(sb_ring* ring, uint32_t length,
                                                            uint16_t type, uint16_t flags,
                                                            uint64_t sequence,
                                                            sb_record_header** out) {
  sb_record_header* rec = 0;
  const enum sb_ring_status s = sb_ring_reserve_(ring, length, &rec);
  if (s != SB_RING_OK) return s;
  /* Relaxed: unpublished; sb_ring_commit stores it again with release. */
  __atomic_store_n(&rec->commit, length, __ATOMIC_RELAXED);
  rec->type = type;
  rec->flags = flags;
  rec->sequence = sequence;
  *out = rec;
  return SB_RING_OK;
}

/* Writer, batched: makes every record claimed so far visible (release: they were committed
 * before; pairs with the reader's acquire load of tail in sb_ring_peek). */
static inline void sb_ring_publish_tail(sb_ring* ring) { sb_store_u64(&ring->header->tail, ring->own); }

static inline void sb_ring_commit(sb_record_header* rec) {
  sb_store_u32(&rec->commit, (rec->commit & SB_RECORD_LENGTH_MASK) | SB_RECORD_COMMITTED);
}

/* Writer: claim, copy `payload`, commit. */
static inline enum sb_ring_status sb_ring_write(sb_ring* ring, uint16_t type, uint16_t flags,
                                                uint64_t sequence, const void* payload,
                                                uint32_t payload_size) {
  sb_record_header* rec = 0;
  if (payload_size > SB_RECORD_LENGTH_MASK - sizeof(sb_record_header)) return SB_RING_TOO_BIG;
  const enum sb_ring_status s = sb_ring_claim(
      ring, (uint32_t)sizeof(sb_record_header) + payload_size, type, flags, sequence, &rec);
  if (s != SB_RING_OK) return s;
  if (payload_size != 0u) memcpy(rec + 1, payload, payload_size);
  sb_ring_commit(rec);
  return SB_RING_OK;
}

/* Writer, batched: claim unpublished, copy `payload`, commit; sb_ring_publish_tail shows it. */
static inline enum sb_ring_status sb_ring_write_unpublished(sb_ring* ring, uint16_t type,
                                                            uint16_t flags, uint64_t sequence,
                                                            const void* payload,
                                                            uint32_t payload_size) {
  sb_record_header* rec = 0;
  if (payload_size > SB_RECORD_LENGTH_MASK - sizeof(sb_record_header)) return SB_RING_TOO_BIG;
  const enum sb_ring_status s = sb_ring_claim_unpublished(
      ring, (uint32_t)sizeof(sb_record_header) + payload_size, type, flags, sequence, &rec);
  if (s != SB_RING_OK) return s;
  if (payload_size != 0u) memcpy(rec + 1, payload, payload_size);
  sb_ring_commit(rec);
  return SB_RING_OK;
}

/* Reader: the record at head, committed, in *out (padding is skipped). Its payload is the
 * (commit & SB_RECORD_LENGTH_MASK) - 16 bytes after it. Stays valid until sb_ring_advance. */
static inline enum sb_ring_status sb_ring_peek(sb_ring* ring, const sb_record_header** out) {
  const uint64_t capacity = ring->mask + 1u;
  for (;;) {
    if (ring->own == ring->other) {
      ring->other = sb_load_u64(&ring->header->tail);
      if (ring->own == ring->other) return SB_RING_EMPTY;
    }
    /* A tail behind head, or further ahead than the ring holds, is a writer gone wrong. */
    if (ring->other - ring->own > capacity || ring->other < ring->own) return SB_RING_CORRUPT;
    const uint64_t offset = ring->own & ring->mask;
    const sb_record_header* rec = (const sb_record_header*)(const void*)(ring->data + offset);
    const uint32_t commit = sb_load_u32(&rec->commit);
    if ((commit & SB_RECORD_COMMITTED) == 0u) return SB_RING_IN_PROGRESS;
    const uint32_t length = commit & SB_RECORD_LENGTH_MASK;
    const uint32_t padded = sb_record_padded(length);
    if (length < SB_RECORD_ALIGN || padded > ring->other - ring->own ||
        offset + padded > capacity) {
      return SB_RING_CORRUPT;
    }
    if (rec->type == SB_REC_PADDING) {
      /* Padding always runs to the end of the data. */
      if (offset + padded != capacity) return SB_RING_CORRUPT;
      ring->own += padded;
      continue;
    }
    if (length < sizeof(sb_record_header) || length > ring->max_record) return SB_RING_CORRUPT;
    ring->peeked = padded;
    *out = rec;
    return SB_RING_OK;
  }
}

/* Reader: steps past the record peek returned. The writer sees the room once the reader
 * publishes head (sb_ring_publish); batch several advances per publish. */
static inline void sb_ring_advance(sb_ring* ring) {
  ring->own += ring->peeked;
  ring->peeked = 0;
}
static inline void sb_ring_publish(sb_ring* ring) { sb_store_u64(&ring->header->head, ring->own); }

/* Payload of a committed record. The size is the length peek validated, read again: a reader
 * that distrusts the writer copies the payload (at most max_record bytes) before decoding. */
static inline const uint8_t* sb_record_payload(const sb_record_header* rec) {
  return (const uint8_t*)(const void*)(rec + 1);
}
static inline uint32_t sb_record_payload_size(const sb_record_header* rec) {
  return (rec->commit & SB_RECORD_LENGTH_MASK) - (uint32_t)sizeof(sb_record_header);
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWITCHBOARD_SHM_RING_H */
