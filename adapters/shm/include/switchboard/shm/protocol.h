/* Switchboard shared-memory protocol, version 1: the byte layout of the segment.
 *
 * This header is the contract between the daemon (switchboardd) and its hosts. It is C11 and
 * C++20 at once and holds no C++ types, no pointers and nothing that depends on the process that
 * maps the segment: every reference inside the segment is an offset from its first byte.
 * docs/protocol.md describes the same bytes in prose, with the offsets asserted below, for hosts
 * written in other languages.
 *
 * Shared words (the fields marked "atomic") are plain 32/64-bit integers, naturally aligned, that
 * both sides access with atomic loads and stores (GCC/Clang __atomic builtins in C and C++;
 * aligned 8-byte loads and stores in languages without atomics, which x86-64 makes atomic and
 * orders as program order, TSO). Each says who writes it and who reads it.
 *
 * All integers are little-endian. */
#ifndef SWITCHBOARD_SHM_PROTOCOL_H
#define SWITCHBOARD_SHM_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define SB_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define SB_ALIGNOF(type) alignof(type)
/* A compiler builtin (GCC, Clang): no C++ header needed. */
#define SB_ASSERT_TRIVIALLY_COPYABLE(type) \
  static_assert(__is_trivially_copyable(type), #type " crosses processes as bytes: trivially copyable")
#else
#define SB_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define SB_ALIGNOF(type) _Alignof(type)
#define SB_ASSERT_TRIVIALLY_COPYABLE(type) \
  _Static_assert(1, "C structs are trivially copyable")
#endif

/* A field at the offset and of the size that docs/protocol.md's tables give: a host written
 * from the doc reads these bytes. */
#define SB_ASSERT_FIELD(type, field, offset, size)                                      \
  SB_STATIC_ASSERT(offsetof(type, field) == (offset) && sizeof(((type*)0)->field) == (size), \
                   #type "." #field " is where docs/protocol.md says")

#ifdef __cplusplus
extern "C" {
#endif

/* "SWBDSHM1" read as a little-endian 64-bit integer. */
#define SB_SHM_MAGIC UINT64_C(0x314d485344425753)
#define SB_SHM_VERSION 1u
#define SB_SHM_DEFAULT_NAME "/switchboard"
#define SB_CACHE_LINE 64u
/* The host slot table starts on the second page; rings start on page boundaries. */
#define SB_SHM_PAGE 4096u

/* --- segment header (offset 0) ------------------------------------------------------------ */

/* Daemon states (sb_segment_header.state). */
enum sb_segment_state {
  SB_SEGMENT_INITIALIZING = 0, /* the daemon is laying out the segment: do not attach */
  SB_SEGMENT_READY = 1,        /* hosts may attach */
  SB_SEGMENT_STOPPING = 2      /* the daemon is shutting down: detach */
};

typedef struct sb_segment_header {
  /* Cache line 0: written once by the daemon before state becomes READY; read-only after. */
  uint64_t magic;              /*   0 SB_SHM_MAGIC */
  uint32_t version;            /*   8 SB_SHM_VERSION */
  uint32_t header_size;        /*  12 sizeof(sb_segment_header) */
  uint64_t segment_size;       /*  16 bytes in the segment (the file's size) */
  uint32_t max_hosts;          /*  24 host slots */
  uint32_t host_slot_size;     /*  28 sizeof(sb_host_slot) */
  uint64_t host_slots_offset;  /*  32 offset of slot 0 */
  uint64_t in_ring_capacity;   /*  40 data bytes of each inbound ring (a power of two) */
  uint64_t out_ring_capacity;  /*  48 data bytes of each outbound ring (a power of two) */
  uint32_t max_record_size;    /*  56 largest record a ring accepts, header included */
  uint32_t daemon_pid;         /*  60 */
  /* Cache line 1: the daemon's liveness. Written by the daemon, read by hosts. */
  uint64_t generation;         /*  64 atomic: non-zero, different for every daemon start */
  uint64_t heartbeat_ns;       /*  72 atomic: daemon's CLOCK_MONOTONIC, refreshed every
                                        heartbeat_interval_ns while it runs */
  uint64_t heartbeat_interval_ns; /* 80 */
  uint32_t state;              /*  88 atomic: enum sb_segment_state */
  uint32_t reserved0;          /*  92 */
  uint64_t stuck_timeout_ns;   /*  96 an uncommitted record older than this is stuck */
  uint64_t reserved1[3];       /* 104 */
  /* Cache line 2: where the rest lives. Written once before READY. */
  uint64_t directory_offset;   /* 128 names of queues, skills, presences, profiles, channels */
  uint64_t directory_size;     /* 136 */
  uint64_t stats_offset;       /* 144 sb_stats block, then per-queue and per-presence arrays */
  uint64_t stats_size;         /* 152 */
  uint32_t queue_count;        /* 160 */
  uint32_t presence_count;     /* 164 */
  uint64_t reserved2[3];       /* 168 */
} sb_segment_header;

SB_STATIC_ASSERT(sizeof(sb_segment_header) == 3 * SB_CACHE_LINE, "segment header is 192 bytes");
SB_ASSERT_FIELD(sb_segment_header, magic, 0, 8);
SB_ASSERT_FIELD(sb_segment_header, version, 8, 4);
SB_ASSERT_FIELD(sb_segment_header, header_size, 12, 4);
SB_ASSERT_FIELD(sb_segment_header, segment_size, 16, 8);
SB_ASSERT_FIELD(sb_segment_header, max_hosts, 24, 4);
SB_ASSERT_FIELD(sb_segment_header, host_slot_size, 28, 4);
SB_ASSERT_FIELD(sb_segment_header, host_slots_offset, 32, 8);
SB_ASSERT_FIELD(sb_segment_header, in_ring_capacity, 40, 8);
SB_ASSERT_FIELD(sb_segment_header, out_ring_capacity, 48, 8);
SB_ASSERT_FIELD(sb_segment_header, max_record_size, 56, 4);
SB_ASSERT_FIELD(sb_segment_header, daemon_pid, 60, 4);
/* Liveness on its own cache line: the heartbeat's stores do not disturb hosts reading line 0. */
SB_ASSERT_FIELD(sb_segment_header, generation, 64, 8);
SB_ASSERT_FIELD(sb_segment_header, heartbeat_ns, 72, 8);
SB_ASSERT_FIELD(sb_segment_header, heartbeat_interval_ns, 80, 8);
SB_ASSERT_FIELD(sb_segment_header, state, 88, 4);
SB_ASSERT_FIELD(sb_segment_header, stuck_timeout_ns, 96, 8);
SB_ASSERT_FIELD(sb_segment_header, directory_offset, 128, 8);
SB_ASSERT_FIELD(sb_segment_header, directory_size, 136, 8);
SB_ASSERT_FIELD(sb_segment_header, stats_offset, 144, 8);
SB_ASSERT_FIELD(sb_segment_header, stats_size, 152, 8);
SB_ASSERT_FIELD(sb_segment_header, queue_count, 160, 4);
SB_ASSERT_FIELD(sb_segment_header, presence_count, 164, 4);
SB_STATIC_ASSERT(SB_ALIGNOF(sb_segment_header) == 8, "8-byte words naturally aligned at offset 0");
SB_ASSERT_TRIVIALLY_COPYABLE(sb_segment_header);

/* --- rings ---------------------------------------------------------------------------------- */

/* A ring is single-producer single-consumer: one writer, one reader. Positions count bytes
 * from the ring's attach and never wrap (2^64 bytes outlast any process); the byte of position p
 * is data[p & (capacity - 1)]. The writer owns `tail`, the reader owns `head`, each on its own
 * cache line so that neither side's stores invalidate the line the other side polls; each side
 * keeps a private copy of the other's index and re-reads the shared one only when its copy says
 * the ring is full (writer) or empty (reader). */
typedef struct sb_ring_header {
  uint64_t tail;          /*   0 atomic: written by the writer (release), read by the reader */
  uint8_t pad0[SB_CACHE_LINE - 8];
  uint64_t head;          /*  64 atomic: written by the reader (release), read by the writer */
  uint8_t pad1[SB_CACHE_LINE - 8];
  uint64_t capacity;      /* 128 data bytes, a power of two */
  uint64_t data_offset;   /* 136 offset of the data from the segment start */
  /* Both written by the daemon at creation and again at every attach, and never read back by
   * it: its own views come from its layout. A host checks them before it follows them
   * (sb_ring_bind_checked): any process that maps the segment can write them. */
  uint8_t pad2[SB_CACHE_LINE - 16];
} sb_ring_header;

SB_STATIC_ASSERT(sizeof(sb_ring_header) == 3 * SB_CACHE_LINE, "ring header is 192 bytes");
/* tail and head on cache lines of their own: neither side's stores disturb the line the other
 * side polls. */
SB_ASSERT_FIELD(sb_ring_header, tail, 0, 8);
SB_ASSERT_FIELD(sb_ring_header, head, SB_CACHE_LINE, 8);
SB_ASSERT_FIELD(sb_ring_header, capacity, 2 * SB_CACHE_LINE, 8);
SB_ASSERT_FIELD(sb_ring_header, data_offset, 2 * SB_CACHE_LINE + 8, 8);
SB_STATIC_ASSERT(SB_ALIGNOF(sb_ring_header) == 8, "8-byte words naturally aligned at an 8-aligned offset");
SB_ASSERT_TRIVIALLY_COPYABLE(sb_ring_header);

/* --- records --------------------------------------------------------------------------------- */

/* Every record starts with this header and is padded to a multiple of 8 bytes. `length` counts
 * the header and the payload, not the padding. A record is written in this order:
 *   1. the writer stores `commit = length` (not yet committed) and advances `tail` past the
 *      padded record (release): the reader now sees a record in progress;
 *   2. it writes type, flags, sequence and the payload;
 *   3. it stores `commit = length | SB_RECORD_COMMITTED` (release).
 * The reader loads `commit` (acquire) and reads the record only when SB_RECORD_COMMITTED is set:
 * a writer killed between 1 and 3 leaves a record in progress, never half a record. One that
 * stays in progress longer than sb_segment_header.stuck_timeout_ns is stuck (docs/protocol.md).
 * A record never wraps: when it does not fit before the end of the data, the writer first fills
 * the rest with one SB_REC_PADDING record (committed, no payload; its length may be as small
 * as 8: only `commit` is then written). */
typedef struct sb_record_header {
  uint32_t commit;    /* 0 atomic: length in bits 0..30, SB_RECORD_COMMITTED in bit 31 */
  uint16_t type;      /* 4 enum sb_record_type */
  uint16_t flags;     /* 6 SB_FLAG_* */
  uint64_t sequence;  /* 8 inbound: the host's sequence number; outbound: see each type */
} sb_record_header;

#define SB_RECORD_COMMITTED UINT32_C(0x80000000)
#define SB_RECORD_LENGTH_MASK UINT32_C(0x7fffffff)
#define SB_RECORD_ALIGN 8u
/* Flags of an inbound record. */
#define SB_FLAG_ACK 1u /* send an SB_REC_ACK once the event is applied */

SB_STATIC_ASSERT(sizeof(sb_record_header) == 16, "record header is 16 bytes");
SB_ASSERT_FIELD(sb_record_header, commit, 0, 4);
SB_ASSERT_FIELD(sb_record_header, type, 4, 2);
SB_ASSERT_FIELD(sb_record_header, flags, 6, 2);
SB_ASSERT_FIELD(sb_record_header, sequence, 8, 8);
/* Records start at multiples of SB_RECORD_ALIGN in 8-aligned data: sequence is aligned. */
SB_STATIC_ASSERT(SB_ALIGNOF(sb_record_header) == SB_RECORD_ALIGN, "records are 8-aligned");
SB_STATIC_ASSERT(sizeof(sb_record_header) % SB_RECORD_ALIGN == 0, "a payload starts 8-aligned");
SB_ASSERT_TRIVIALLY_COPYABLE(sb_record_header);

enum sb_record_type {
  /* Inbound (host -> daemon): one event each, in the order of docs/events.md. */
  SB_REC_AGENT_UPSERT = 1,
  SB_REC_AGENT_REMOVE = 2,
  SB_REC_PRESENCE_CHANGE = 3,
  SB_REC_CAPACITY_CHANGE = 4,
  SB_REC_JOIN_QUEUE = 5,
  SB_REC_LEAVE_QUEUE = 6,
  SB_REC_ITEM_ARRIVE = 7,
  SB_REC_ITEM_UPDATE = 8,
  SB_REC_ITEM_CANCEL = 9,
  SB_REC_ITEM_TRANSFER = 10,
  SB_REC_ITEM_COMPLETE = 11,
  SB_REC_OFFER_ACCEPT = 12,
  SB_REC_OFFER_DECLINE = 13,
  SB_REC_OFFER_TIMEOUT = 14,
  SB_REC_MANUAL_ASSIGN = 15,
  SB_REC_AGENT_PICK = 16,
  SB_REC_TICK = 17,
  /* Outbound (daemon -> host). */
  SB_REC_DECISION = 0x100, /* a decision; sequence = the daemon's decision number (1, 2, ...) */
  SB_REC_ERROR = 0x101,    /* a refused record; sequence = the host's sequence number of it */
  SB_REC_ACK = 0x102,      /* an SB_FLAG_ACK record was applied; sequence = its host sequence */
  SB_REC_NOTICE = 0x103,   /* the daemon tells the host something (ring reset, ...) */
  /* Both directions. */
  SB_REC_PADDING = 0xffff
};

#define SB_RECORD_MIN_INBOUND SB_REC_AGENT_UPSERT
#define SB_RECORD_MAX_INBOUND SB_REC_TICK

/* --- host slots ------------------------------------------------------------------------------ */

/* Slot states (sb_host_slot.state). Who may move a slot from one state to the next:
 *   FREE --host--> ATTACH_REQUESTED --daemon--> ATTACHED --host--> DETACH_REQUESTED
 *   --daemon--> FREE;  ATTACHED --daemon--> RESET (stuck record; the host re-attaches:
 *   RESET --host--> ATTACH_REQUESTED). The daemon frees a slot whose owner died. */
enum sb_slot_state {
  SB_SLOT_FREE = 0,
  SB_SLOT_ATTACH_REQUESTED = 1,
  SB_SLOT_ATTACHED = 2,
  SB_SLOT_DETACH_REQUESTED = 3,
  SB_SLOT_RESET = 4
};

/* Attach options (sb_host_slot.attach_flags), written by the host before ATTACH_REQUESTED. */
#define SB_ATTACH_DECISIONS 1u /* copy every decision to this host's outbound ring */

/* A host owns a slot while it holds an open-file-description write lock (F_OFD_SETLK) on the
 * slot's bytes of the segment file: the kernel gives the lock up when the host dies, which is
 * how the daemon learns that a host is gone. */
typedef struct sb_host_slot {
  /* Line 0: the handshake. */
  uint32_t state;         /*   0 atomic: enum sb_slot_state; written as the diagram above says */
  uint32_t attach_flags;  /*   4 written by the host before ATTACH_REQUESTED */
  uint64_t generation;    /*   8 atomic: written by the daemon when it attaches or resets the
                                   slot; a host's send compares it with its own copy */
  uint32_t host_pid;      /*  16 written by the host before ATTACH_REQUESTED (diagnostics) */
  uint32_t reserved0;     /*  20 */
  uint64_t in_ring_offset;  /* 24 offset of this host's inbound sb_ring_header */
  uint64_t out_ring_offset; /* 32 offset of this host's outbound sb_ring_header (both written by
                                   the daemon at creation and every attach, never read by it) */
  uint64_t reserved1[3];  /*  40 */
  /* Line 1: counters the daemon keeps for this host (written by the daemon, read by anyone). */
  uint64_t records_in;    /*  64 atomic: inbound records applied or refused */
  uint64_t errors_out;    /*  72 atomic: error records sent */
  uint64_t resets;        /*  80 atomic: resets of this slot: a stuck record, a corrupt
                                   inbound ring or outbound head, or an outbound ring that stayed
                                   full, unread, for the stall timeout */
  uint64_t reserved2[5];  /*  88 */
} sb_host_slot;

SB_STATIC_ASSERT(sizeof(sb_host_slot) == 2 * SB_CACHE_LINE, "host slot is 128 bytes");
SB_ASSERT_FIELD(sb_host_slot, state, 0, 4);
SB_ASSERT_FIELD(sb_host_slot, attach_flags, 4, 4);
SB_ASSERT_FIELD(sb_host_slot, generation, 8, 8);
SB_ASSERT_FIELD(sb_host_slot, host_pid, 16, 4);
SB_ASSERT_FIELD(sb_host_slot, in_ring_offset, 24, 8);
SB_ASSERT_FIELD(sb_host_slot, out_ring_offset, 32, 8);
/* The counters on line 1: the daemon's stores to them do not disturb the handshake line. */
SB_ASSERT_FIELD(sb_host_slot, records_in, SB_CACHE_LINE, 8);
SB_ASSERT_FIELD(sb_host_slot, errors_out, 72, 8);
SB_ASSERT_FIELD(sb_host_slot, resets, 80, 8);
SB_STATIC_ASSERT(SB_ALIGNOF(sb_host_slot) == 8, "8-byte words naturally aligned at an 8-aligned offset");
SB_ASSERT_TRIVIALLY_COPYABLE(sb_host_slot);

/* --- statistics (for `switchboardd --status` and monitoring) --------------------------------- */

/* Written by the daemon about every 100 ms, read by anyone; each word is atomic on its own
 * (a reader may see one refresh's counters next to another's). Followed by queue_count
 * uint64_t queue depths (items waiting) and presence_count uint64_t agent counts. */
typedef struct sb_stats {
  uint64_t updated_ns;      /*  0 daemon's CLOCK_MONOTONIC at the last refresh */
  uint64_t started_ns;      /*  8 */
  uint64_t events_applied;  /* 16 */
  uint64_t events_refused;  /* 24 */
  uint64_t decisions;       /* 32 */
  uint64_t malformed;       /* 40 records that could not be decoded */
  uint64_t stuck_resets;    /* 48 slots reset for a stuck record or a corrupt ring */
  uint64_t hosts_attached;  /* 56 */
  uint64_t live_items;      /* 64 */
  uint64_t agents;          /* 72 */
  uint64_t backpressure_waits; /* 80 times the daemon waited for a full outbound ring */
  uint64_t stall_resets;    /* 88 slots reset for an outbound ring that stayed full, unread */
  uint64_t hosts_died;      /* 96 slots freed because their host's lock was gone */
  uint64_t reserved[3];     /* 104 */
} sb_stats;

SB_STATIC_ASSERT(sizeof(sb_stats) == 128, "stats block is 128 bytes");
SB_ASSERT_FIELD(sb_stats, updated_ns, 0, 8);
SB_ASSERT_FIELD(sb_stats, started_ns, 8, 8);
SB_ASSERT_FIELD(sb_stats, events_applied, 16, 8);
SB_ASSERT_FIELD(sb_stats, events_refused, 24, 8);
SB_ASSERT_FIELD(sb_stats, decisions, 32, 8);
SB_ASSERT_FIELD(sb_stats, malformed, 40, 8);
SB_ASSERT_FIELD(sb_stats, stuck_resets, 48, 8);
SB_ASSERT_FIELD(sb_stats, hosts_attached, 56, 8);
SB_ASSERT_FIELD(sb_stats, live_items, 64, 8);
SB_ASSERT_FIELD(sb_stats, agents, 72, 8);
SB_ASSERT_FIELD(sb_stats, backpressure_waits, 80, 8);
SB_ASSERT_FIELD(sb_stats, stall_resets, 88, 8);
SB_ASSERT_FIELD(sb_stats, hosts_died, 96, 8);
SB_ASSERT_FIELD(sb_stats, reserved, 104, 24);
SB_STATIC_ASSERT(SB_ALIGNOF(sb_stats) == 8, "every counter naturally aligned at an 8-aligned offset");
SB_ASSERT_TRIVIALLY_COPYABLE(sb_stats);

/* The directory: five lists, in this order: queues, skills, presences, profiles, channels. Each
 * is a uint32_t count followed by that many names (uint16_t byte length, then UTF-8 bytes). The
 * index of a name in its list is the number records use for it (R1, R3: declaration order). */

/* --- atomics ---------------------------------------------------------------------------------- */

/* Lock-freedom of the shared words: a host in another process cannot take a lock we hold. */
#ifdef __cplusplus
SB_STATIC_ASSERT(__atomic_always_lock_free(sizeof(uint32_t), 0), "32-bit atomics lock-free");
SB_STATIC_ASSERT(__atomic_always_lock_free(sizeof(uint64_t), 0), "64-bit atomics lock-free");
#else
#include <stdatomic.h>
SB_STATIC_ASSERT(ATOMIC_INT_LOCK_FREE == 2 && sizeof(int) == 4, "32-bit atomics lock-free");
SB_STATIC_ASSERT(ATOMIC_LLONG_LOCK_FREE == 2 && sizeof(long long) == 8, "64-bit atomics lock-free");
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWITCHBOARD_SHM_PROTOCOL_H */
