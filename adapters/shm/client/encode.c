/* Payload encoders and decoders of the C client (docs/protocol.md, "Payloads"). Little-endian
 * byte by byte, whatever the machine; every decoder checks what is left before it reads. */
#include <string.h>

#include "switchboard/shm/client.h"

/* --- encoder ---------------------------------------------------------------------------------- */

#define SB_MAX_NAME 255u
#define SB_MAX_STRING 65535u
#define SB_MAX_LIST 65535u

void sb_enc_init(sb_encoder* e, void* buffer, size_t capacity) {
  e->data = (uint8_t*)buffer;
  e->capacity = buffer != NULL ? capacity : 0;
  e->size = 0;
  e->status = SB_OK;
}

static void sb_enc_fail(sb_encoder* e, int status) {
  if (e->status == SB_OK) e->status = status;
}

/* Room for n more bytes, or the encoder fails (and stays failed). */
static uint8_t* sb_enc_room(sb_encoder* e, size_t n) {
  if (e->status != SB_OK) return NULL;
  if (e->capacity - e->size < n) {
    e->status = SB_ERR_TOO_BIG;
    return NULL;
  }
  uint8_t* p = e->data + e->size;
  e->size += n;
  return p;
}

static void sb_put_le(sb_encoder* e, uint64_t v, size_t bytes) {
  uint8_t* p = sb_enc_room(e, bytes);
  if (p == NULL) return;
  for (size_t i = 0; i < bytes; ++i) p[i] = (uint8_t)(v >> (8u * i));
}

void sb_enc_bytes(sb_encoder* e, const void* bytes, size_t n) {
  uint8_t* p = sb_enc_room(e, n);
  if (p != NULL && n != 0) memcpy(p, bytes, n);
}
void sb_enc_u8(sb_encoder* e, uint8_t v) { sb_put_le(e, v, 1); }
void sb_enc_u16(sb_encoder* e, uint16_t v) { sb_put_le(e, v, 2); }
void sb_enc_u32(sb_encoder* e, uint32_t v) { sb_put_le(e, v, 4); }
void sb_enc_u64(sb_encoder* e, uint64_t v) { sb_put_le(e, v, 8); }
void sb_enc_i32(sb_encoder* e, int32_t v) { sb_put_le(e, (uint64_t)(uint32_t)v, 4); }
void sb_enc_i64(sb_encoder* e, int64_t v) { sb_put_le(e, (uint64_t)v, 8); }
void sb_enc_bool(sb_encoder* e, int v) { sb_put_le(e, v ? 1u : 0u, 1); }

void sb_enc_id_number(sb_encoder* e, uint64_t number) {
  sb_enc_u8(e, 0);
  sb_enc_u64(e, number);
}

void sb_enc_id_name(sb_encoder* e, const char* name, size_t length) {
  if (name == NULL || length == 0 || length > SB_MAX_NAME) {
    sb_enc_fail(e, SB_ERR_INVALID);
    return;
  }
  sb_enc_u8(e, 1);
  sb_enc_u16(e, (uint16_t)length);
  sb_enc_bytes(e, name, length);
}

void sb_enc_id(sb_encoder* e, sb_id id) {
  if (id.name != NULL) {
    sb_enc_id_name(e, id.name, id.name_length);
  } else {
    sb_enc_id_number(e, id.number);
  }
}

void sb_enc_str(sb_encoder* e, const char* s, size_t length) {
  if (length > SB_MAX_STRING || (s == NULL && length != 0)) {
    sb_enc_fail(e, SB_ERR_INVALID);
    return;
  }
  sb_enc_u16(e, (uint16_t)length);
  sb_enc_bytes(e, s, length);
}

void sb_enc_opt(sb_encoder* e, int present) { sb_enc_u8(e, present ? 1u : 0u); }

void sb_enc_list(sb_encoder* e, size_t count) {
  if (count > SB_MAX_LIST) {
    sb_enc_fail(e, SB_ERR_INVALID);
    return;
  }
  sb_enc_u16(e, (uint16_t)count);
}

void sb_enc_capacity(sb_encoder* e, const sb_capacity* capacity) {
  sb_enc_i32(e, capacity->units);
  if (capacity->profile_count != 0 && capacity->profile_max == NULL) {
    sb_enc_fail(e, SB_ERR_INVALID);
    return;
  }
  sb_enc_u8(e, capacity->profile_count);
  for (size_t i = 0; i < capacity->profile_count; ++i) sb_enc_i32(e, capacity->profile_max[i]);
}

/* Byte order of two NUL-terminated keys, as memcmp of unsigned bytes (std::string's <). */
static int sb_key_compare(const char* a, const char* b) {
  const size_t na = strlen(a);
  const size_t nb = strlen(b);
  const int c = memcmp(a, b, na < nb ? na : nb);
  if (c != 0) return c;
  return na < nb ? -1 : (na > nb ? 1 : 0);
}

static void sb_enc_attributes_impl(sb_encoder* e, const sb_attribute* attributes, size_t count,
                                   int allow_none) {
  if (count != 0 && attributes == NULL) {
    sb_enc_fail(e, SB_ERR_INVALID);
    return;
  }
  sb_enc_list(e, count);
  for (size_t i = 0; i < count; ++i) {
    const sb_attribute* a = &attributes[i];
    if (a->key == NULL || (i > 0 && sb_key_compare(attributes[i - 1].key, a->key) >= 0)) {
      sb_enc_fail(e, SB_ERR_INVALID);
      return;
    }
    sb_enc_str(e, a->key, strlen(a->key));
    switch (a->kind) {
      case SB_ATTR_NONE:
        if (!allow_none) {
          sb_enc_fail(e, SB_ERR_INVALID);
          return;
        }
        sb_enc_u8(e, SB_ATTR_NONE);
        break;
      case SB_ATTR_INT:
        sb_enc_u8(e, SB_ATTR_INT);
        sb_enc_i64(e, a->number);
        break;
      case SB_ATTR_STRING:
        if (a->text == NULL) {
          sb_enc_fail(e, SB_ERR_INVALID);
          return;
        }
        sb_enc_u8(e, SB_ATTR_STRING);
        sb_enc_str(e, a->text, strlen(a->text));
        break;
      default:
        sb_enc_fail(e, SB_ERR_INVALID);
        return;
    }
  }
}

void sb_enc_attributes(sb_encoder* e, const sb_attribute* attributes, size_t count) {
  sb_enc_attributes_impl(e, attributes, count, 1);
}

/* --- ready-made events ------------------------------------------------------------------------ */

int sb_encode_agent_upsert_ex(sb_encoder* e, int64_t time, sb_id agent, const sb_agent_upsert* a) {
  sb_enc_i64(e, time);
  sb_enc_id(e, agent);
  if (a == NULL) {
    for (int i = 0; i < 6; ++i) sb_enc_opt(e, 0);
    return e->status;
  }
  sb_enc_opt(e, a->has_presence);
  if (a->has_presence) sb_enc_u8(e, a->presence);
  sb_enc_opt(e, a->has_skills);
  if (a->has_skills) {
    if (a->skill_count != 0 && a->skills == NULL) sb_enc_fail(e, SB_ERR_INVALID);
    sb_enc_list(e, a->skill_count);
    for (size_t i = 0; i < a->skill_count && e->status == SB_OK; ++i) {
      sb_enc_u16(e, a->skills[i].skill);
      sb_enc_i32(e, a->skills[i].proficiency);
    }
  }
  sb_enc_opt(e, a->has_capacity);
  if (a->has_capacity) sb_enc_capacity(e, &a->capacity);
  sb_enc_opt(e, a->has_attributes);
  if (a->has_attributes) sb_enc_attributes_impl(e, a->attributes, a->attribute_count, 0);
  sb_enc_opt(e, a->has_working);
  if (a->has_working) sb_enc_bool(e, a->working);
  sb_enc_opt(e, a->has_shifts);
  if (a->has_shifts) {
    if (a->shift_count != 0 && a->shifts == NULL) sb_enc_fail(e, SB_ERR_INVALID);
    sb_enc_list(e, a->shift_count);
    for (size_t i = 0; i < a->shift_count && e->status == SB_OK; ++i) {
      sb_enc_i64(e, a->shifts[i].start);
      sb_enc_i64(e, a->shifts[i].end);
    }
  }
  return e->status;
}

int sb_encode_agent_upsert(sb_encoder* e, int64_t time, sb_id agent, int presence, int32_t units,
                           const sb_skill_level* skills, size_t skill_count) {
  sb_agent_upsert a;
  memset(&a, 0, sizeof a);
  if (presence > 255) {
    sb_enc_fail(e, SB_ERR_INVALID);
    return e->status;
  }
  if (presence >= 0) {
    a.has_presence = 1;
    a.presence = (uint8_t)presence;
  }
  if (skills != NULL) {
    a.has_skills = 1;
    a.skills = skills;
    a.skill_count = skill_count;
  }
  if (units >= 0) {
    a.has_capacity = 1;
    a.capacity.units = units;
  }
  return sb_encode_agent_upsert_ex(e, time, agent, &a);
}

static int sb_encode_agent_only(sb_encoder* e, int64_t time, sb_id agent) {
  sb_enc_i64(e, time);
  sb_enc_id(e, agent);
  return e->status;
}

int sb_encode_agent_remove(sb_encoder* e, int64_t time, sb_id agent) {
  return sb_encode_agent_only(e, time, agent);
}

int sb_encode_presence_change(sb_encoder* e, int64_t time, sb_id agent, uint8_t presence) {
  sb_encode_agent_only(e, time, agent);
  sb_enc_u8(e, presence);
  return e->status;
}

int sb_encode_capacity_change(sb_encoder* e, int64_t time, sb_id agent, const sb_capacity* capacity) {
  sb_encode_agent_only(e, time, agent);
  if (capacity == NULL) {
    sb_enc_fail(e, SB_ERR_INVALID);
    return e->status;
  }
  sb_enc_capacity(e, capacity);
  return e->status;
}

int sb_encode_join_queue(sb_encoder* e, int64_t time, sb_id agent, uint32_t queue) {
  sb_encode_agent_only(e, time, agent);
  sb_enc_u32(e, queue);
  return e->status;
}

int sb_encode_leave_queue(sb_encoder* e, int64_t time, sb_id agent, uint32_t queue) {
  return sb_encode_join_queue(e, time, agent, queue);
}

int sb_encode_item_arrive_ex(sb_encoder* e, int64_t time, sb_id item, uint32_t queue,
                             const sb_item_arrive* a) {
  sb_item_arrive none;
  if (a == NULL) {
    memset(&none, 0, sizeof none);
    a = &none;
  }
  sb_enc_i64(e, time);
  sb_enc_id(e, item);
  sb_enc_u32(e, queue);
  sb_enc_opt(e, a->has_created);
  if (a->has_created) sb_enc_i64(e, a->created);
  sb_enc_opt(e, a->has_last_message);
  if (a->has_last_message) sb_enc_i64(e, a->last_message);
  sb_enc_attributes_impl(e, a->attributes, a->attribute_count, 0);
  if (a->skill_count != 0 && a->skills == NULL) sb_enc_fail(e, SB_ERR_INVALID);
  sb_enc_list(e, a->skill_count);
  for (size_t i = 0; i < a->skill_count && e->status == SB_OK; ++i) {
    sb_enc_u16(e, a->skills[i].skill);
    sb_enc_i32(e, a->skills[i].min_proficiency);
  }
  sb_enc_opt(e, a->has_units);
  if (a->has_units) sb_enc_i32(e, a->units);
  sb_enc_opt(e, a->has_affinity_agent);
  if (a->has_affinity_agent) sb_enc_id(e, a->affinity_agent);
  return e->status;
}

int sb_encode_item_arrive(sb_encoder* e, int64_t time, sb_id item, uint32_t queue,
                          const sb_requirement* skills, size_t skill_count) {
  sb_item_arrive a;
  memset(&a, 0, sizeof a);
  a.skills = skills;
  a.skill_count = skill_count;
  return sb_encode_item_arrive_ex(e, time, item, queue, &a);
}

int sb_encode_item_update(sb_encoder* e, int64_t time, sb_id item, const sb_attribute* attributes,
                          size_t attribute_count, int has_last_message, int64_t last_message) {
  sb_enc_i64(e, time);
  sb_enc_id(e, item);
  sb_enc_attributes_impl(e, attributes, attribute_count, 1);
  sb_enc_opt(e, has_last_message);
  if (has_last_message) sb_enc_i64(e, last_message);
  return e->status;
}

static int sb_encode_item_only(sb_encoder* e, int64_t time, sb_id item) {
  sb_enc_i64(e, time);
  sb_enc_id(e, item);
  return e->status;
}

int sb_encode_item_cancel(sb_encoder* e, int64_t time, sb_id item) {
  return sb_encode_item_only(e, time, item);
}

int sb_encode_item_transfer(sb_encoder* e, int64_t time, sb_id item, uint32_t queue) {
  sb_encode_item_only(e, time, item);
  sb_enc_u32(e, queue);
  return e->status;
}

int sb_encode_item_complete(sb_encoder* e, int64_t time, sb_id item) {
  return sb_encode_item_only(e, time, item);
}

static int sb_encode_item_agent(sb_encoder* e, int64_t time, sb_id item, sb_id agent) {
  sb_enc_i64(e, time);
  sb_enc_id(e, item);
  sb_enc_id(e, agent);
  return e->status;
}

int sb_encode_offer_accept(sb_encoder* e, int64_t time, sb_id item, sb_id agent) {
  return sb_encode_item_agent(e, time, item, agent);
}
int sb_encode_offer_decline(sb_encoder* e, int64_t time, sb_id item, sb_id agent) {
  return sb_encode_item_agent(e, time, item, agent);
}
int sb_encode_offer_timeout(sb_encoder* e, int64_t time, sb_id item, sb_id agent) {
  return sb_encode_item_agent(e, time, item, agent);
}
int sb_encode_manual_assign(sb_encoder* e, int64_t time, sb_id item, sb_id agent) {
  return sb_encode_item_agent(e, time, item, agent);
}
int sb_encode_agent_pick(sb_encoder* e, int64_t time, sb_id item, sb_id agent) {
  return sb_encode_item_agent(e, time, item, agent);
}

int sb_encode_tick(sb_encoder* e, int64_t time) {
  sb_enc_i64(e, time);
  return e->status;
}

/* --- decoder ---------------------------------------------------------------------------------- */

typedef struct sb_reader {
  const uint8_t* p;
  size_t size;
  size_t pos;
  int ok;
} sb_reader;

static uint64_t sb_get_le(sb_reader* r, size_t bytes) {
  if (!r->ok || r->size - r->pos < bytes) {
    r->ok = 0;
    return 0;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= (uint64_t)r->p[r->pos + i] << (8u * i);
  r->pos += bytes;
  return v;
}

/* A u8 at most `max`. */
static uint8_t sb_get_small(sb_reader* r, uint8_t max) {
  const uint8_t v = (uint8_t)sb_get_le(r, 1);
  if (v > max) r->ok = 0;
  return v;
}

static const char* sb_get_text(sb_reader* r, size_t n) {
  if (!r->ok || r->size - r->pos < n) {
    r->ok = 0;
    return NULL;
  }
  const char* s = (const char*)(r->p + r->pos);
  r->pos += n;
  return s;
}

static void sb_get_id(sb_reader* r, sb_id_view* out) {
  memset(out, 0, sizeof *out);
  out->kind = sb_get_small(r, 1);
  if (!r->ok) return;
  if (out->kind == 0) {
    out->number = sb_get_le(r, 8);
    return;
  }
  const uint16_t n = (uint16_t)sb_get_le(r, 2);
  if (!r->ok) return;
  if (n == 0 || n > SB_MAX_NAME) {
    r->ok = 0;
    return;
  }
  out->name = sb_get_text(r, n);
  out->name_length = n;
}

static int sb_reader_done(const sb_reader* r) {
  return r->ok && r->pos == r->size ? SB_OK : SB_ERR_MALFORMED;
}

static void sb_reader_init(sb_reader* r, const void* payload, size_t size) {
  r->p = (const uint8_t*)payload;
  r->size = payload != NULL ? size : 0;
  r->pos = 0;
  r->ok = 1;
}

int sb_decode_decision(const void* payload, size_t size, sb_decision* out) {
  if (out == NULL) return SB_ERR_INVALID;
  memset(out, 0, sizeof *out);
  sb_reader r;
  sb_reader_init(&r, payload, size);
  out->kind = sb_get_small(&r, SB_DECISION_TRANSFERRED);
  out->decided_by = sb_get_small(&r, SB_BY_ACCEPTED);
  out->reason = sb_get_small(&r, SB_REASON_TIMED_OUT);
  (void)sb_get_small(&r, 0); /* reserved: 0 */
  out->rule = (uint16_t)sb_get_le(&r, 2);
  out->cause_slot = (uint16_t)sb_get_le(&r, 2);
  out->cause_sequence = sb_get_le(&r, 8);
  out->time = (int64_t)sb_get_le(&r, 8);
  out->queue = (uint32_t)sb_get_le(&r, 4);
  out->from_queue = (uint32_t)sb_get_le(&r, 4);
  sb_get_id(&r, &out->item);
  out->has_agent = sb_get_small(&r, 1);
  if (r.ok && out->has_agent) sb_get_id(&r, &out->agent);
  return sb_reader_done(&r);
}

int sb_decode_error(const void* payload, size_t size, sb_error_record* out) {
  if (out == NULL) return SB_ERR_INVALID;
  memset(out, 0, sizeof *out);
  sb_reader r;
  sb_reader_init(&r, payload, size);
  out->code = (uint16_t)sb_get_le(&r, 2);
  out->record_type = (uint16_t)sb_get_le(&r, 2);
  out->message_length = (uint16_t)sb_get_le(&r, 2);
  out->message = sb_get_text(&r, out->message_length);
  if (!r.ok) out->message_length = 0;
  return sb_reader_done(&r);
}

int sb_decode_ack(const void* payload, size_t size, uint16_t* cause_slot) {
  if (cause_slot == NULL) return SB_ERR_INVALID;
  sb_reader r;
  sb_reader_init(&r, payload, size);
  *cause_slot = (uint16_t)sb_get_le(&r, 2);
  return sb_reader_done(&r);
}

int sb_decode_notice(const void* payload, size_t size, sb_notice* out) {
  if (out == NULL) return SB_ERR_INVALID;
  memset(out, 0, sizeof *out);
  sb_reader r;
  sb_reader_init(&r, payload, size);
  out->code = (uint16_t)sb_get_le(&r, 2);
  out->message_length = (uint16_t)sb_get_le(&r, 2);
  out->message = sb_get_text(&r, out->message_length);
  if (!r.ok) out->message_length = 0;
  return sb_reader_done(&r);
}

/* --- names ------------------------------------------------------------------------------------ */

#define SB_COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char* sb_decision_kind_name(int kind) {
  static const char* const names[] = {"offer",     "assigned",  "requeued",   "parked",
                                      "cancelled", "completed", "transferred"};
  return kind >= 0 && (size_t)kind < SB_COUNT(names) ? names[kind] : "?";
}

const char* sb_decided_by_name(int decided_by) {
  static const char* const names[] = {"none", "method", "affinity", "rule",
                                      "manual", "pick", "accepted"};
  return decided_by >= 0 && (size_t)decided_by < SB_COUNT(names) ? names[decided_by] : "?";
}

const char* sb_reason_name(int reason) {
  static const char* const names[] = {"none", "declined", "timed_out"};
  return reason >= 0 && (size_t)reason < SB_COUNT(names) ? names[reason] : "?";
}

const char* sb_error_code_name(int code) {
  /* kernel/include/switchboard/result.hpp, ErrorCode, in order. */
  static const char* const names[] = {
      "ok",                  "malformed_event",       "unknown_agent",
      "unknown_item",        "unknown_queue",         "unknown_skill",
      "unknown_presence",    "unknown_profile",       "invalid_value",
      "duplicate_item",      "item_not_offered",      "offer_agent_mismatch",
      "item_not_assigned",   "item_not_queued",       "insufficient_capacity",
      "capacity_below_load", "not_a_member",          "already_member",
      "agent_has_work",      "same_queue",            "config_syntax",
      "config_unknown_key",  "config_type",           "config_unknown_reference",
      "config_invalid_value", "config_condition",     "config_io"};
  return code >= 0 && (size_t)code < SB_COUNT(names) ? names[code] : "?";
}

int sb_id_view_equals(const sb_id_view* v, sb_id id) {
  if (v == NULL) return 0;
  if (id.name == NULL) return v->kind == 0 && v->number == id.number;
  return v->kind == 1 && v->name_length == id.name_length &&
         (id.name_length == 0 || memcmp(v->name, id.name, id.name_length) == 0);
}
