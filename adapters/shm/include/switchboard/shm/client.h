/* The C client of the Switchboard shared-memory protocol (docs/protocol.md): what a host links to
 * talk to switchboardd. C11 and C++ at once; no C++ types.
 *
 *   sb_client* c = NULL;
 *   if (sb_client_attach("/switchboard", SB_ATTACH_DECISIONS, 2000, &c) != SB_OK) ...
 *   uint32_t vip = 0;
 *   sb_client_lookup(c, SB_DIR_QUEUE, "VIP Chat", &vip);
 *   uint8_t buf[256];
 *   sb_encoder e;
 *   sb_enc_init(&e, buf, sizeof buf);
 *   sb_encode_item_arrive(&e, now_ms, sb_id_number(17), vip, NULL, 0);
 *   int rc = sb_client_send(c, SB_REC_ITEM_ARRIVE, 0, ++seq, buf, sb_enc_size(&e));
 *   sb_message m;
 *   while (sb_client_poll(c, &m) == SB_OK) {
 *     sb_decision d;
 *     if (m.type == SB_REC_DECISION && sb_decode_decision(m.payload, m.size, &d) == SB_OK) ...
 *   }
 *   sb_client_detach(c, 2000);
 *
 * Results: every function that can fail returns an int, SB_OK (0) on success or one of enum
 * sb_result (negative); sb_strerror names it. sb_client_poll also returns SB_EMPTY (1).
 *
 * Threads: a client is used by one thread at a time. Two threads, or two processes, that want to
 * send independently attach two clients: each owns its own slot and rings.
 *
 * Liveness: sb_client_send checks the slot (reset, generation) and the daemon's state on every
 * call, and the heartbeat on every 64th call and whenever the ring is full; sb_client_poll checks
 * the heartbeat whenever it finds nothing to read; sb_client_daemon_alive checks everything,
 * including whether a new daemon's segment replaced this one at the name. */
#ifndef SWITCHBOARD_SHM_CLIENT_H
#define SWITCHBOARD_SHM_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "switchboard/shm/protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- results --------------------------------------------------------------------------------- */

enum sb_result {
  SB_OK = 0,
  SB_EMPTY = 1,              /* sb_client_poll: nothing to read now */
  SB_ERR_FULL = -1,          /* the inbound ring has no room now; nothing was written: retry
                                after the daemon has read (back-pressure) */
  SB_ERR_RESET = -2,         /* the daemon reset this slot (stuck or corrupt ring) or its
                                generation changed: records not yet acknowledged may be lost;
                                call sb_client_reattach and resend from the host's ledger */
  SB_ERR_DAEMON_GONE = -3,   /* heartbeat stale, daemon stopping, or another daemon's segment
                                at the name: sb_client_reattach (a new segment) and resync */
  SB_ERR_TOO_BIG = -4,       /* the record exceeds max_record_size; or an encoder's buffer is
                                too small */
  SB_ERR_INVALID = -5,       /* a bad argument, or a value the format cannot carry */
  SB_ERR_NOT_FOUND = -6,     /* no segment at the name; a name not in the directory */
  SB_ERR_VERSION = -7,       /* not a Switchboard segment, or another protocol version */
  SB_ERR_TIMEOUT = -8,       /* the daemon did not answer a handshake in time */
  SB_ERR_NO_SLOT = -9,       /* every host slot is taken */
  SB_ERR_SYSTEM = -10,       /* a system call failed; errno says why */
  SB_ERR_CORRUPT = -11,      /* the segment or the outbound ring holds what no daemon writes */
  SB_ERR_MALFORMED = -12,    /* a decoder: the payload is truncated, too long or invalid */
  SB_ERR_STATE = -13         /* not now: a claimed record is not committed yet, or the client
                                is not attached */
};

/* A short English description of a result ("ring full: retry later"); never NULL. */
const char* sb_strerror(int result);

/* --- the client ------------------------------------------------------------------------------ */

typedef struct sb_client sb_client;

/* Attaches to the daemon's segment `name` (e.g. "/switchboard"): opens and maps it, checks its
 * magic, version and header size, waits until it is ready, takes the first free slot (an OFD
 * lock on its bytes), and waits for the daemon to attach it. `attach_flags`: SB_ATTACH_DECISIONS
 * to receive every decision. `timeout_ms` bounds the whole call, including waiting for the
 * segment to appear (0: try once; negative: no limit; the same for every timeout_ms below).
 * On success *out is the client; on failure *out is NULL and
 * the result says why (SB_ERR_NOT_FOUND, SB_ERR_VERSION, SB_ERR_NO_SLOT, SB_ERR_TIMEOUT, ...). */
int sb_client_attach(const char* name, uint32_t attach_flags, int timeout_ms, sb_client** out);

/* Writes one record to the inbound ring: `type` (SB_REC_AGENT_UPSERT .. SB_REC_TICK), `flags`
 * (SB_FLAG_ACK), the host's `sequence` (echoed in its ERROR or ACK) and `size` payload bytes.
 * SB_OK: the record is committed. SB_ERR_FULL: nothing written, retry later. SB_ERR_RESET,
 * SB_ERR_DAEMON_GONE: nothing written, see above. SB_ERR_TOO_BIG: never fits. */
int sb_client_send(sb_client* c, uint16_t type, uint16_t flags, uint64_t sequence,
                   const void* payload, size_t size);

/* Zero-copy send: claims room for `size` payload bytes and returns where to write them in
 * *payload; sb_client_commit publishes the record. Results as sb_client_send. Between claim and
 * commit the client takes no other send; a record left claimed longer than the segment's
 * stuck_timeout_ns (1 s by default) makes the daemon reset the slot. */
int sb_client_claim(sb_client* c, uint16_t type, uint16_t flags, uint64_t sequence, size_t size,
                    void** payload);
int sb_client_commit(sb_client* c);

/* One outbound record. `payload` points into the ring (or the client) and stays valid until
 * the next sb_client_poll, sb_client_reattach or sb_client_detach. */
typedef struct sb_message {
  uint16_t type;      /* SB_REC_DECISION, SB_REC_ERROR, SB_REC_ACK, SB_REC_NOTICE */
  uint16_t flags;
  uint64_t sequence;  /* DECISION: the daemon's decision number; ERROR, ACK: the host's
                         sequence number of the record; NOTICE: 0 */
  const uint8_t* payload;
  uint32_t size;
} sb_message;

/* The next outbound record in *message: SB_OK; SB_EMPTY when there is none now. Records the
 * daemon wrote before a reset or its death are still returned; once the ring is empty, poll
 * returns SB_ERR_RESET or SB_ERR_DAEMON_GONE when that is the case. SB_ERR_CORRUPT: the ring
 * holds what no daemon writes (reattach). */
int sb_client_poll(sb_client* c, sb_message* message);

/* After SB_ERR_RESET: asks the daemon to attach this slot again (fresh rings, new generation).
 * After SB_ERR_DAEMON_GONE: drops this segment (lock, mapping) and attaches to the segment now
 * at the name, waiting up to `timeout_ms` for it. The host then resends (docs/protocol.md,
 * "Resync"). A client that is attached and healthy is left as it is (SB_OK). On failure the
 * client stays usable for another sb_client_reattach or sb_client_detach. */
int sb_client_reattach(sb_client* c, int timeout_ms);

/* SB_OK while the daemon is alive; SB_ERR_DAEMON_GONE when its heartbeat has not changed for
 * 5 heartbeat intervals (on this process's clock), its state is stopping, or the segment now at
 * the name is another one (a new daemon). SB_ERR_RESET when the daemon is alive but reset the
 * slot. */
int sb_client_daemon_alive(sb_client* c);

/* Detaches: asks the daemon to apply what is left in the inbound ring and free the slot, waits
 * up to `timeout_ms` for it, then unlocks, unmaps and frees `c` (always, whatever it returns).
 * SB_ERR_TIMEOUT: the daemon did not answer in time (it frees the slot when it sees the lock
 * gone, as for a host that died). NULL is allowed. */
int sb_client_detach(sb_client* c, int timeout_ms);

/* The slot this client owns, the slot's generation it attached under, and the segment's. */
uint32_t sb_client_slot(const sb_client* c);
uint64_t sb_client_slot_generation(const sb_client* c);
uint64_t sb_client_segment_generation(const sb_client* c);
/* The segment header (read-only; the fields marked atomic in protocol.h change). */
const sb_segment_header* sb_client_header(const sb_client* c);
/* The largest payload one record can carry: max_record_size - 16. */
uint32_t sb_client_max_payload(const sb_client* c);

/* A snapshot of the statistics block (each word read atomically on its own). */
void sb_client_stats(const sb_client* c, sb_stats* out);

/* --- the directory --------------------------------------------------------------------------- */

enum sb_directory_list {
  SB_DIR_QUEUE = 0,
  SB_DIR_SKILL = 1,
  SB_DIR_PRESENCE = 2,
  SB_DIR_PROFILE = 3,
  SB_DIR_CHANNEL = 4
};

/* The index of `name` (NUL-terminated, exact, case-sensitive) in `list`, the number records use
 * for it: SB_OK and *index; SB_ERR_NOT_FOUND; SB_ERR_INVALID for a bad list. */
int sb_client_lookup(const sb_client* c, int list, const char* name, uint32_t* index);
/* How many names `list` holds (0 for a bad list). */
uint32_t sb_client_directory_count(const sb_client* c, int list);
/* The name at `index` in `list`, NUL-terminated (the client's copy); NULL when out of range. */
const char* sb_client_directory_name(const sb_client* c, int list, uint32_t index);

/* --- payload encoding ------------------------------------------------------------------------- */

/* Appends fields (docs/protocol.md, "Payloads") to a caller's buffer. A write that does not fit
 * sets `status` to SB_ERR_TOO_BIG and writes nothing more; a value the format cannot carry (an
 * empty or 256-byte name id, a string over 65,535 bytes, unsorted attribute keys) sets
 * SB_ERR_INVALID. Check sb_enc_status once at the end. */
typedef struct sb_encoder {
  uint8_t* data;
  size_t capacity;
  size_t size;
  int status; /* SB_OK until the first failure */
} sb_encoder;

void sb_enc_init(sb_encoder* e, void* buffer, size_t capacity);
static inline size_t sb_enc_size(const sb_encoder* e) { return e->size; }
static inline int sb_enc_status(const sb_encoder* e) { return e->status; }

void sb_enc_bytes(sb_encoder* e, const void* bytes, size_t n);
void sb_enc_u8(sb_encoder* e, uint8_t v);
void sb_enc_u16(sb_encoder* e, uint16_t v);
void sb_enc_u32(sb_encoder* e, uint32_t v);
void sb_enc_u64(sb_encoder* e, uint64_t v);
void sb_enc_i32(sb_encoder* e, int32_t v);
void sb_enc_i64(sb_encoder* e, int64_t v);
void sb_enc_bool(sb_encoder* e, int v);
/* id: kind 0 and a u64; kind 1 and a name of 1 to 255 bytes. */
void sb_enc_id_number(sb_encoder* e, uint64_t number);
void sb_enc_id_name(sb_encoder* e, const char* name, size_t length);
/* str: u16 length, bytes. */
void sb_enc_str(sb_encoder* e, const char* s, size_t length);
/* The u8 that starts an opt<T> (0 absent, 1 present: write the T after it). */
void sb_enc_opt(sb_encoder* e, int present);
/* The u16 count that starts a list<T>. */
void sb_enc_list(sb_encoder* e, size_t count);

/* An agent or item id: a name when `name` is not NULL, else `number`. */
typedef struct sb_id {
  const char* name;
  size_t name_length;
  uint64_t number;
} sb_id;

static inline sb_id sb_id_number(uint64_t number) {
  sb_id id;
  id.name = NULL;
  id.name_length = 0;
  id.number = number;
  return id;
}
static inline sb_id sb_id_name(const char* name) {
  sb_id id;
  id.name = name;
  id.name_length = name != NULL ? strlen(name) : 0;
  id.number = 0;
  return id;
}
void sb_enc_id(sb_encoder* e, sb_id id);

typedef struct sb_skill_level {
  uint16_t skill;      /* directory index */
  int32_t proficiency; /* >= 0 */
} sb_skill_level;

typedef struct sb_requirement {
  uint16_t skill;          /* directory index */
  int32_t min_proficiency; /* -1: any proficiency */
} sb_requirement;

typedef struct sb_capacity {
  int32_t units;
  const int32_t* profile_max; /* by profile index */
  uint8_t profile_count;
} sb_capacity;

enum sb_attribute_kind { SB_ATTR_NONE = 0, SB_ATTR_INT = 1, SB_ATTR_STRING = 2 };

/* An attribute. Lists of them must be in strictly ascending byte order of their keys (the
 * daemon's decoder refuses any other order); SB_ATTR_NONE removes the attribute and is allowed
 * in item_update only. */
typedef struct sb_attribute {
  const char* key; /* NUL-terminated */
  int kind;        /* enum sb_attribute_kind */
  int64_t number;  /* SB_ATTR_INT */
  const char* text; /* SB_ATTR_STRING, NUL-terminated */
} sb_attribute;

typedef struct sb_shift {
  int64_t start;
  int64_t end;
} sb_shift;

void sb_enc_capacity(sb_encoder* e, const sb_capacity* capacity);
void sb_enc_attributes(sb_encoder* e, const sb_attribute* attributes, size_t count);

/* Ready-made event payloads: each writes `time` and the fields of its record type, and returns
 * sb_enc_status(e). Send them with the matching SB_REC_* type. */

/* agent_upsert: every field after `agent` is optional. */
typedef struct sb_agent_upsert {
  int has_presence;
  uint8_t presence;
  int has_skills;
  const sb_skill_level* skills;
  size_t skill_count;
  int has_capacity;
  sb_capacity capacity;
  int has_attributes;
  const sb_attribute* attributes;
  size_t attribute_count;
  int has_working;
  int working;
  int has_shifts;
  const sb_shift* shifts;
  size_t shift_count;
} sb_agent_upsert;
int sb_encode_agent_upsert_ex(sb_encoder* e, int64_t time, sb_id agent, const sb_agent_upsert* a);
/* The common form: presence (a directory index, or -1 to leave it out), unit capacity (or -1 to
 * leave it out) and skills (NULL and 0 to leave them out). */
int sb_encode_agent_upsert(sb_encoder* e, int64_t time, sb_id agent, int presence, int32_t units,
                           const sb_skill_level* skills, size_t skill_count);
int sb_encode_agent_remove(sb_encoder* e, int64_t time, sb_id agent);
int sb_encode_presence_change(sb_encoder* e, int64_t time, sb_id agent, uint8_t presence);
int sb_encode_capacity_change(sb_encoder* e, int64_t time, sb_id agent, const sb_capacity* capacity);
int sb_encode_join_queue(sb_encoder* e, int64_t time, sb_id agent, uint32_t queue);
int sb_encode_leave_queue(sb_encoder* e, int64_t time, sb_id agent, uint32_t queue);

/* item_arrive: `skills` may be NULL with 0. */
typedef struct sb_item_arrive {
  int has_created;
  int64_t created;
  int has_last_message;
  int64_t last_message;
  const sb_attribute* attributes;
  size_t attribute_count;
  const sb_requirement* skills;
  size_t skill_count;
  int has_units;
  int32_t units;
  int has_affinity_agent;
  sb_id affinity_agent;
} sb_item_arrive;
int sb_encode_item_arrive_ex(sb_encoder* e, int64_t time, sb_id item, uint32_t queue,
                             const sb_item_arrive* a);
int sb_encode_item_arrive(sb_encoder* e, int64_t time, sb_id item, uint32_t queue,
                          const sb_requirement* skills, size_t skill_count);
/* item_update: `has_last_message` 0 leaves it out. */
int sb_encode_item_update(sb_encoder* e, int64_t time, sb_id item, const sb_attribute* attributes,
                          size_t attribute_count, int has_last_message, int64_t last_message);
int sb_encode_item_cancel(sb_encoder* e, int64_t time, sb_id item);
int sb_encode_item_transfer(sb_encoder* e, int64_t time, sb_id item, uint32_t queue);
int sb_encode_item_complete(sb_encoder* e, int64_t time, sb_id item);
int sb_encode_offer_accept(sb_encoder* e, int64_t time, sb_id item, sb_id agent);
int sb_encode_offer_decline(sb_encoder* e, int64_t time, sb_id item, sb_id agent);
int sb_encode_offer_timeout(sb_encoder* e, int64_t time, sb_id item, sb_id agent);
int sb_encode_manual_assign(sb_encoder* e, int64_t time, sb_id item, sb_id agent);
int sb_encode_agent_pick(sb_encoder* e, int64_t time, sb_id item, sb_id agent);
int sb_encode_tick(sb_encoder* e, int64_t time);

/* --- outbound payload decoding ---------------------------------------------------------------- */

/* An id inside a payload: `name` points into it and is NOT NUL-terminated. */
typedef struct sb_id_view {
  uint8_t kind; /* 0 number, 1 name */
  uint64_t number;
  const char* name;
  uint16_t name_length;
} sb_id_view;

/* Decision kinds, decided_by and reasons: the enums of docs/events.md in declaration order. */
enum sb_decision_kind {
  SB_DECISION_OFFER = 0,
  SB_DECISION_ASSIGNED = 1,
  SB_DECISION_REQUEUED = 2,
  SB_DECISION_PARKED = 3,
  SB_DECISION_CANCELLED = 4,
  SB_DECISION_COMPLETED = 5,
  SB_DECISION_TRANSFERRED = 6
};
enum sb_decided_by {
  SB_BY_NONE = 0,
  SB_BY_METHOD = 1,
  SB_BY_AFFINITY = 2,
  SB_BY_RULE = 3,
  SB_BY_MANUAL = 4,
  SB_BY_PICK = 5,
  SB_BY_ACCEPTED = 6
};
enum sb_requeue_reason { SB_REASON_NONE = 0, SB_REASON_DECLINED = 1, SB_REASON_TIMED_OUT = 2 };

typedef struct sb_decision {
  uint8_t kind;       /* enum sb_decision_kind */
  uint8_t decided_by; /* enum sb_decided_by */
  uint8_t reason;     /* enum sb_requeue_reason */
  uint16_t rule;
  uint16_t cause_slot;
  uint64_t cause_sequence;
  int64_t time;
  uint32_t queue;
  uint32_t from_queue;
  sb_id_view item;
  int has_agent;
  sb_id_view agent;
} sb_decision;

typedef struct sb_error_record {
  uint16_t code;        /* the ErrorCode of kernel/include/switchboard/result.hpp */
  uint16_t record_type; /* the refused record's type */
  const char* message;  /* points into the payload; not NUL-terminated */
  uint16_t message_length;
} sb_error_record;

typedef struct sb_notice {
  uint16_t code; /* 1: ring reset */
  const char* message;
  uint16_t message_length;
} sb_notice;

/* Each reads the whole payload or refuses it (SB_ERR_MALFORMED: truncated, an enum or kind out
 * of range, bytes left over); never reads outside [payload, payload + size). */
int sb_decode_decision(const void* payload, size_t size, sb_decision* out);
int sb_decode_error(const void* payload, size_t size, sb_error_record* out);
int sb_decode_ack(const void* payload, size_t size, uint16_t* cause_slot);
int sb_decode_notice(const void* payload, size_t size, sb_notice* out);

/* Names for logs: "offer", "accepted", "declined", "unknown_agent"; "?" when out of range. */
const char* sb_decision_kind_name(int kind);
const char* sb_decided_by_name(int decided_by);
const char* sb_reason_name(int reason);
const char* sb_error_code_name(int code);

/* Compares an id in a payload with a name or number. */
int sb_id_view_equals(const sb_id_view* v, sb_id id);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWITCHBOARD_SHM_CLIENT_H */
