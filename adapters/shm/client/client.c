/* The C client of the shared-memory protocol (docs/protocol.md): attach, send, poll, reattach,
 * detach, the directory. The ring algorithm is ring.h's, shared with the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "switchboard/shm/client.h"
#include "switchboard/shm/ring.h"

#define SB_DIR_LISTS 5
#define SB_NAME_MAX 256
/* The heartbeat is looked at on every this-many sends (and on every full ring). */
#define SB_HEARTBEAT_SEND_STRIDE 64u
/* Missed heartbeats after which the daemon is gone (docs/protocol.md). */
#define SB_HEARTBEAT_MISSES 5u

struct sb_client {
  char name[SB_NAME_MAX];
  uint32_t attach_flags;
  /* The mapping; fd < 0 and base NULL when the client holds no segment (a failed reattach). */
  int fd;
  uint8_t* base;
  size_t mapped;
  dev_t dev;
  ino_t ino;
  sb_segment_header* header;
  uint64_t segment_size;
  uint64_t segment_generation;
  /* The slot; attached is 1 between a completed handshake and the next reset or teardown. */
  uint32_t slot_index;
  sb_host_slot* slot;
  int attached;
  int broken; /* the outbound ring was corrupt: the next reattach detaches and attaches */
  int ended;  /* the daemon of this segment stopped or was replaced: final, unlike a heartbeat
                 that may resume */
  uint64_t slot_generation;
  sb_ring in;
  sb_ring out;
  sb_record_header* claimed;
  int polled;              /* the last poll returned a record not yet stepped past */
  uint64_t published_head; /* the head value last stored in the shared word */
  uint64_t publish_every;  /* bytes read between head stores while records keep coming */
  uint32_t sends;
  /* The heartbeat as this process saw it. */
  uint64_t heartbeat_value;
  uint64_t heartbeat_seen_ns;
  uint64_t heartbeat_seen_coarse; /* the coarse clock then (sb_coarse_ns) */
  uint64_t heartbeat_interval_ns;
  /* The directory, copied: names NUL-terminated. */
  char* dir_text;
  const char** dir_names;
  uint32_t dir_count[SB_DIR_LISTS];
  uint32_t dir_first[SB_DIR_LISTS];
};

/* --- time ------------------------------------------------------------------------------------- */

static uint64_t sb_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The clock of the last tick: no time-stamp counter read, so a fraction of sb_now_ns's cost
 * (which an empty poll would otherwise pay every time), at the resolution sb_coarse_res_ns
 * gives; that resolution is 0 where there is no such clock. */
static uint64_t sb_coarse_ns(void) {
#ifdef CLOCK_MONOTONIC_COARSE
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#else
  return 0;
#endif
}
static uint64_t sb_coarse_res_ns(void) {
#ifdef CLOCK_MONOTONIC_COARSE
  static uint64_t res; /* 0 until known; every thread computes the same value */
  uint64_t r = __atomic_load_n(&res, __ATOMIC_RELAXED);
  if (r == 0) {
    struct timespec ts;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &ts) != 0) return 0;
    r = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    /* Relaxed: a value, not a guard for other data; a race stores the same value. */
    __atomic_store_n(&res, r, __ATOMIC_RELAXED);
  }
  return r;
#else
  return 0;
#endif
}

/* UINT64_MAX: no deadline. */
static uint64_t sb_deadline(int timeout_ms) {
  if (timeout_ms < 0) return UINT64_MAX;
  return sb_now_ns() + (uint64_t)timeout_ms * 1000000u;
}

static int sb_expired(uint64_t deadline) { return deadline != UINT64_MAX && sb_now_ns() >= deadline; }

/* Sleeps *backoff_us (20 us doubling to 1 ms: the daemon answers handshakes within 1 ms). */
static void sb_pause(unsigned* backoff_us) {
  struct timespec ts;
  ts.tv_sec = 0;
  ts.tv_nsec = (long)*backoff_us * 1000L;
  nanosleep(&ts, NULL);
  if (*backoff_us < 1000u) *backoff_us = *backoff_us * 2u > 1000u ? 1000u : *backoff_us * 2u;
}

/* --- results ---------------------------------------------------------------------------------- */

const char* sb_strerror(int result) {
  switch (result) {
    case SB_OK: return "ok";
    case SB_EMPTY: return "nothing to read";
    case SB_ERR_FULL: return "ring full: retry after the daemon has read";
    case SB_ERR_RESET: return "slot reset by the daemon: reattach and resend";
    case SB_ERR_DAEMON_GONE: return "the daemon is gone: reattach to the new segment and resync";
    case SB_ERR_TOO_BIG: return "record or field too big";
    case SB_ERR_INVALID: return "invalid argument or value";
    case SB_ERR_NOT_FOUND: return "not found";
    case SB_ERR_VERSION: return "not a Switchboard segment of protocol version 1";
    case SB_ERR_TIMEOUT: return "timed out waiting for the daemon";
    case SB_ERR_NO_SLOT: return "no free host slot";
    case SB_ERR_SYSTEM: return "system call failed (see errno)";
    case SB_ERR_CORRUPT: return "segment or ring corrupt";
    case SB_ERR_MALFORMED: return "malformed payload";
    case SB_ERR_STATE: return "not now: a claimed record is pending, or the client is not attached";
    default: return "unknown result";
  }
}

/* --- the segment ------------------------------------------------------------------------------ */

static void sb_drop_segment(sb_client* c) {
  if (c->base != NULL) munmap(c->base, c->mapped);
  if (c->fd >= 0) close(c->fd); /* releases the OFD lock */
  free(c->dir_text);
  free((void*)c->dir_names);
  c->fd = -1;
  c->base = NULL;
  c->mapped = 0;
  c->header = NULL;
  c->slot = NULL;
  c->attached = 0;
  c->broken = 0;
  c->ended = 0;
  c->claimed = NULL;
  c->polled = 0;
  c->dir_text = NULL;
  c->dir_names = NULL;
  memset(c->dir_count, 0, sizeof c->dir_count);
  memset(c->dir_first, 0, sizeof c->dir_first);
}

/* [offset, offset + size) inside the segment, without overflow. */
static int sb_in_segment(uint64_t segment_size, uint64_t offset, uint64_t size) {
  return offset <= segment_size && size <= segment_size - offset;
}

static int sb_pow2(uint64_t v) { return v != 0 && (v & (v - 1u)) == 0; }

/* The header of a ready segment, checked so that nothing the client computes from it leaves
 * the mapping. */
static int sb_check_header(const sb_segment_header* h, uint64_t file_size) {
  const uint64_t size = h->segment_size;
  if (size > file_size || size < sizeof(sb_segment_header)) return SB_ERR_CORRUPT;
  if (h->max_hosts == 0 || h->host_slot_size != sizeof(sb_host_slot)) return SB_ERR_CORRUPT;
  if (!sb_in_segment(size, h->host_slots_offset, (uint64_t)h->max_hosts * sizeof(sb_host_slot)) ||
      h->host_slots_offset % SB_CACHE_LINE != 0) {
    return SB_ERR_CORRUPT;
  }
  if (!sb_in_segment(size, h->directory_offset, h->directory_size)) return SB_ERR_CORRUPT;
  if (!sb_in_segment(size, h->stats_offset, h->stats_size) || h->stats_offset % 8 != 0 ||
      h->stats_size < sizeof(sb_stats) + ((uint64_t)h->queue_count + h->presence_count) * 8u) {
    return SB_ERR_CORRUPT;
  }
  if (!sb_pow2(h->in_ring_capacity) || !sb_pow2(h->out_ring_capacity)) return SB_ERR_CORRUPT;
  if (h->max_record_size < sizeof(sb_record_header) || h->max_record_size > h->in_ring_capacity ||
      h->max_record_size > h->out_ring_capacity || h->max_record_size > SB_RECORD_LENGTH_MASK) {
    return SB_ERR_CORRUPT;
  }
  return SB_OK;
}

/* The directory's `n` bytes at `p` (a private copy: validated in pass 1, read again in pass 2),
 * copied out with each name NUL-terminated. */
static int sb_parse_directory(sb_client* c, const uint8_t* p, uint64_t n) {
  if (n == 0) return SB_OK; /* no lists */
  uint64_t pos = 0;
  uint32_t total = 0;
  uint32_t counts[SB_DIR_LISTS];
  /* Pass 1: validate, count. */
  for (int list = 0; list < SB_DIR_LISTS; ++list) {
    if (n - pos < 4) return SB_ERR_CORRUPT;
    const uint32_t count = (uint32_t)p[pos] | (uint32_t)p[pos + 1] << 8 | (uint32_t)p[pos + 2] << 16 |
                           (uint32_t)p[pos + 3] << 24;
    pos += 4;
    if (count > (n - pos) / 2) return SB_ERR_CORRUPT;
    for (uint32_t i = 0; i < count; ++i) {
      if (n - pos < 2) return SB_ERR_CORRUPT;
      const uint32_t len = (uint32_t)p[pos] | (uint32_t)p[pos + 1] << 8;
      pos += 2;
      if (n - pos < len) return SB_ERR_CORRUPT;
      pos += len;
    }
    counts[list] = count;
    total += count;
  }
  /* Pass 2: copy. The text needs at most the directory's bytes (each 2-byte length becomes a
   * 1-byte NUL). */
  c->dir_text = (char*)malloc((size_t)n + 1);
  c->dir_names = (const char**)malloc(sizeof(const char*) * (total != 0 ? total : 1));
  if (c->dir_text == NULL || c->dir_names == NULL) return SB_ERR_SYSTEM;
  char* out = c->dir_text;
  uint32_t index = 0;
  pos = 0;
  for (int list = 0; list < SB_DIR_LISTS; ++list) {
    pos += 4;
    c->dir_first[list] = index;
    c->dir_count[list] = counts[list];
    for (uint32_t i = 0; i < counts[list]; ++i) {
      const uint32_t len = (uint32_t)p[pos] | (uint32_t)p[pos + 1] << 8;
      pos += 2;
      memcpy(out, p + pos, len);
      out[len] = '\0';
      c->dir_names[index++] = out;
      out += len + 1;
      pos += len;
    }
  }
  return SB_OK;
}

/* The directory, copied out of the segment once, then parsed: a process with write access may
 * change the shared bytes between the parser's two passes. */
static int sb_load_directory(sb_client* c) {
  /* Read once and checked again: sb_check_header read them, but the header is shared memory
   * that any mapping process can change. Relaxed: written before READY, which was acquired. */
  const uint64_t at = __atomic_load_n(&c->header->directory_offset, __ATOMIC_RELAXED);
  const uint64_t n = __atomic_load_n(&c->header->directory_size, __ATOMIC_RELAXED);
  if (!sb_in_segment(c->segment_size, at, n)) return SB_ERR_CORRUPT;
  if (n == 0) return SB_OK; /* no lists */
  uint8_t* copy = (uint8_t*)malloc((size_t)n);
  if (copy == NULL) return SB_ERR_SYSTEM;
  memcpy(copy, c->base + at, (size_t)n);
  const int rc = sb_parse_directory(c, copy, n);
  free(copy);
  return rc;
}

/* Opens and maps the segment at c->name, waits until it is ready, checks it and copies the
 * directory. Waits for a segment that is missing, laid out or stopping until `deadline`. */
static int sb_open_segment(sb_client* c, uint64_t deadline) {
  unsigned backoff = 20;
  int waiting_for = SB_ERR_NOT_FOUND;
  for (;;) {
    int fd = shm_open(c->name, O_RDWR, 0);
    if (fd < 0) {
      if (errno != ENOENT) return SB_ERR_SYSTEM;
      waiting_for = SB_ERR_NOT_FOUND;
    } else {
      struct stat st;
      if (fstat(fd, &st) != 0) {
        close(fd);
        return SB_ERR_SYSTEM;
      }
      if ((uint64_t)st.st_size >= SB_SHM_PAGE) {
        void* map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
          close(fd);
          return SB_ERR_SYSTEM;
        }
        sb_segment_header* h = (sb_segment_header*)map;
        const uint32_t state = sb_load_u32(&h->state);
        const uint64_t magic = h->magic;
        /* The daemon writes magic, version and header size before READY: once the segment is
         * ready they must be ours; before, only a zero magic (not yet written) is. */
        const int foreign = state == SB_SEGMENT_READY
                                ? (magic != SB_SHM_MAGIC || h->version != SB_SHM_VERSION ||
                                   h->header_size != sizeof(sb_segment_header))
                                : (magic != 0 && magic != SB_SHM_MAGIC);
        if (foreign) {
          munmap(map, (size_t)st.st_size);
          close(fd);
          return SB_ERR_VERSION;
        }
        if (state == SB_SEGMENT_READY && magic == SB_SHM_MAGIC) {
          const int rc = sb_check_header(h, (uint64_t)st.st_size);
          if (rc != SB_OK) {
            munmap(map, (size_t)st.st_size);
            close(fd);
            return rc;
          }
          c->fd = fd;
          c->base = (uint8_t*)map;
          c->mapped = (size_t)st.st_size;
          c->dev = st.st_dev;
          c->ino = st.st_ino;
          c->header = h;
          c->segment_size = h->segment_size;
          c->segment_generation = sb_load_u64(&h->generation);
          c->heartbeat_interval_ns = h->heartbeat_interval_ns != 0 ? h->heartbeat_interval_ns : 10000000u;
          c->heartbeat_value = sb_load_u64(&h->heartbeat_ns);
          c->heartbeat_seen_ns = sb_now_ns();
          c->heartbeat_seen_coarse = sb_coarse_ns();
          const int drc = sb_load_directory(c);
          if (drc != SB_OK) {
            sb_drop_segment(c);
            return drc;
          }
          return SB_OK;
        }
        waiting_for = state == SB_SEGMENT_STOPPING ? SB_ERR_DAEMON_GONE : SB_ERR_TIMEOUT;
        munmap(map, (size_t)st.st_size);
      } else {
        waiting_for = SB_ERR_TIMEOUT; /* created, not yet sized */
      }
      close(fd);
    }
    if (deadline != UINT64_MAX && sb_now_ns() >= deadline) return waiting_for;
    sb_pause(&backoff);
  }
}

/* --- liveness --------------------------------------------------------------------------------- */

static int sb_heartbeat_stale(sb_client* c) {
  const uint64_t value = __atomic_load_n(&c->header->heartbeat_ns, __ATOMIC_RELAXED);
  const uint64_t limit = SB_HEARTBEAT_MISSES * c->heartbeat_interval_ns;
  if (value != c->heartbeat_value) {
    c->heartbeat_value = value;
    c->heartbeat_seen_ns = sb_now_ns();
    c->heartbeat_seen_coarse = sb_coarse_ns();
    return 0;
  }
  /* The coarse clock errs by at most a tick either way: when it says the heartbeat is younger
   * than the limit by two ticks or more, it is, and the exact clock is not needed. */
  const uint64_t res = sb_coarse_res_ns();
  if (res != 0) {
    const uint64_t coarse_age = sb_coarse_ns() - c->heartbeat_seen_coarse;
    if (coarse_age + 2u * res <= limit) return 0;
  }
  return sb_now_ns() - c->heartbeat_seen_ns > limit;
}

/* Another file at the name: a new daemon replaced this segment. A missing name proves nothing
 * (a daemon that stopped says so in `state`; one that was killed stops its heartbeat). */
static int sb_replaced(const sb_client* c) {
  const int fd = shm_open(c->name, O_RDONLY, 0);
  if (fd < 0) return 0;
  struct stat st;
  int replaced = 0;
  if (fstat(fd, &st) == 0) replaced = st.st_dev != c->dev || st.st_ino != c->ino;
  close(fd);
  return replaced;
}

/* The cheap checks of every send: the daemon's state, the slot's state and generation. */
static int sb_check_link(sb_client* c) {
  if (c->base == NULL) return SB_ERR_DAEMON_GONE;
  if (__atomic_load_n(&c->header->state, __ATOMIC_RELAXED) == SB_SEGMENT_STOPPING) return SB_ERR_DAEMON_GONE;
  if (!c->attached) return SB_ERR_RESET;
  if (sb_load_u32(&c->slot->state) != SB_SLOT_ATTACHED ||
      sb_load_u64(&c->slot->generation) != c->slot_generation) {
    return SB_ERR_RESET;
  }
  return SB_OK;
}

static int sb_gone(sb_client* c, int look_at_name) {
  if (c->base == NULL || c->ended) return 1;
  if (sb_load_u32(&c->header->state) == SB_SEGMENT_STOPPING ||
      sb_load_u64(&c->header->generation) != c->segment_generation ||
      (look_at_name && sb_replaced(c))) {
    c->ended = 1;
    return 1;
  }
  return sb_heartbeat_stale(c);
}

int sb_client_daemon_alive(sb_client* c) {
  if (c == NULL) return SB_ERR_INVALID;
  if (sb_gone(c, 1)) return SB_ERR_DAEMON_GONE;
  return sb_check_link(c);
}

/* --- slots ------------------------------------------------------------------------------------ */

static int sb_slot_lock(sb_client* c, uint32_t index, short type) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)(c->header->host_slots_offset + (uint64_t)index * sizeof(sb_host_slot));
  fl.l_len = (off_t)sizeof(sb_host_slot);
  fl.l_pid = 0;
  return fcntl(c->fd, F_OFD_SETLK, &fl);
}

/* Takes the first free slot by its OFD lock; retries until `deadline` while all are taken. */
static int sb_own_slot(sb_client* c, uint64_t deadline) {
  unsigned backoff = 20;
  for (;;) {
    /* Read once per pass and checked (shared memory, see sb_load_directory). */
    const uint64_t slots_at = __atomic_load_n(&c->header->host_slots_offset, __ATOMIC_RELAXED);
    const uint32_t max_hosts = __atomic_load_n(&c->header->max_hosts, __ATOMIC_RELAXED);
    if (!sb_in_segment(c->segment_size, slots_at, (uint64_t)max_hosts * sizeof(sb_host_slot)) ||
        slots_at % SB_CACHE_LINE != 0) {
      return SB_ERR_CORRUPT;
    }
    for (uint32_t i = 0; i < max_hosts; ++i) {
      if (sb_slot_lock(c, i, F_WRLCK) != 0) {
        if (errno == EAGAIN || errno == EACCES) continue;
        return SB_ERR_SYSTEM;
      }
      sb_host_slot* slot = (sb_host_slot*)(void*)(c->base + slots_at + (uint64_t)i * sizeof(sb_host_slot));
      if (sb_load_u32(&slot->state) != SB_SLOT_FREE) {
        /* Its owner died and the daemon has not freed it yet. */
        sb_slot_lock(c, i, F_UNLCK);
        continue;
      }
      c->slot_index = i;
      c->slot = slot;
      return SB_OK;
    }
    if (sb_expired(deadline)) return SB_ERR_NO_SLOT;
    sb_pause(&backoff);
  }
}

/* One ring of ours, from the words the daemon wrote at attach, which any process that maps the
 * segment can overwrite: sb_ring_bind_checked reads each once and checks it against the segment
 * before the client follows it, and the capacity must be the header's (checked again here: the
 * header is shared memory too). */
static int sb_bind_ring(sb_client* c, uint64_t offset, uint64_t capacity, sb_ring* ring, int writer) {
  if (!sb_in_segment(c->segment_size, offset, sizeof(sb_ring_header)) || offset % SB_CACHE_LINE != 0) {
    return SB_ERR_CORRUPT;
  }
  sb_ring_header* h = (sb_ring_header*)(void*)(c->base + offset);
  /* Relaxed: checked by sb_ring_bind_checked, which is all the single read is for. */
  const uint32_t max_record = __atomic_load_n(&c->header->max_record_size, __ATOMIC_RELAXED);
  sb_ring bound;
  if (sb_ring_bind_checked(&bound, c->base, c->segment_size, h, max_record, writer) != SB_RING_OK ||
      bound.mask + 1u != capacity) {
    return SB_ERR_CORRUPT;
  }
  *ring = bound;
  return SB_OK;
}

/* Waits for the daemon to move the slot out of `from`; the state it moved to in *state. */
static int sb_wait_slot(sb_client* c, uint32_t from, uint64_t deadline, uint32_t* state) {
  unsigned backoff = 20;
  for (;;) {
    *state = sb_load_u32(&c->slot->state);
    if (*state != from) return SB_OK;
    if (sb_gone(c, 0)) return SB_ERR_DAEMON_GONE;
    if (sb_expired(deadline)) return SB_ERR_TIMEOUT;
    sb_pause(&backoff);
  }
}

/* The daemon attached the slot: take its generation and bind both rings. */
static int sb_bind_attached(sb_client* c) {
  c->slot_generation = sb_load_u64(&c->slot->generation);
  int rc = sb_bind_ring(c, c->slot->in_ring_offset, c->header->in_ring_capacity, &c->in, 1);
  if (rc == SB_OK) rc = sb_bind_ring(c, c->slot->out_ring_offset, c->header->out_ring_capacity, &c->out, 0);
  if (rc != SB_OK) return rc;
  c->published_head = c->out.own;
  c->publish_every = (c->out.mask + 1u) / 8u;
  c->claimed = NULL;
  c->polled = 0;
  c->broken = 0;
  c->attached = 1;
  return SB_OK;
}

/* From FREE or RESET (the client holds the lock): ATTACH_REQUESTED, then wait for ATTACHED. */
static int sb_handshake(sb_client* c, uint64_t deadline) {
  c->attached = 0;
  c->slot->attach_flags = c->attach_flags;
  c->slot->host_pid = (uint32_t)getpid();
  sb_store_u32(&c->slot->state, SB_SLOT_ATTACH_REQUESTED);
  uint32_t state = 0;
  const int rc = sb_wait_slot(c, SB_SLOT_ATTACH_REQUESTED, deadline, &state);
  if (rc != SB_OK) return rc;
  if (state != SB_SLOT_ATTACHED) return SB_ERR_CORRUPT;
  return sb_bind_attached(c);
}

/* Open, own a slot, attach. On failure the client holds no segment. */
static int sb_attach_fresh(sb_client* c, uint64_t deadline) {
  int rc = sb_open_segment(c, deadline);
  if (rc != SB_OK) return rc;
  rc = sb_own_slot(c, deadline);
  if (rc == SB_OK) rc = sb_handshake(c, deadline);
  /* On failure the lock goes with the descriptor: a slot left ATTACH_REQUESTED is freed by the
   * daemon as that of a host that died. */
  if (rc != SB_OK) sb_drop_segment(c);
  return rc;
}

int sb_client_attach(const char* name, uint32_t attach_flags, int timeout_ms, sb_client** out) {
  if (out == NULL) return SB_ERR_INVALID;
  *out = NULL;
  if (name == NULL || name[0] != '/' || strlen(name) >= SB_NAME_MAX) return SB_ERR_INVALID;
  sb_client* c = (sb_client*)calloc(1, sizeof *c);
  if (c == NULL) return SB_ERR_SYSTEM;
  strcpy(c->name, name);
  c->attach_flags = attach_flags;
  c->fd = -1;
  const int rc = sb_attach_fresh(c, sb_deadline(timeout_ms));
  if (rc != SB_OK) {
    free(c);
    return rc;
  }
  *out = c;
  return SB_OK;
}

int sb_client_reattach(sb_client* c, int timeout_ms) {
  if (c == NULL) return SB_ERR_INVALID;
  const uint64_t deadline = sb_deadline(timeout_ms);
  if (sb_gone(c, 1)) {
    sb_drop_segment(c);
    return sb_attach_fresh(c, deadline);
  }
  uint32_t state = sb_load_u32(&c->slot->state);
  if (state == SB_SLOT_ATTACHED && c->broken) {
    /* Our own reader found the ring corrupt: start over through a detach. */
    c->attached = 0;
    sb_store_u32(&c->slot->state, SB_SLOT_DETACH_REQUESTED);
    state = SB_SLOT_DETACH_REQUESTED;
  }
  if (state == SB_SLOT_DETACH_REQUESTED || state == SB_SLOT_ATTACH_REQUESTED) {
    const uint32_t from = state;
    const int rc = sb_wait_slot(c, from, deadline, &state);
    if (rc != SB_OK) return rc;
  }
  switch (state) {
    case SB_SLOT_ATTACHED:
      if (c->attached && sb_load_u64(&c->slot->generation) == c->slot_generation) return SB_OK;
      return sb_bind_attached(c); /* attached again (by a handshake of ours that timed out) */
    case SB_SLOT_FREE:
    case SB_SLOT_RESET:
      return sb_handshake(c, deadline);
    default:
      return SB_ERR_CORRUPT;
  }
}

int sb_client_detach(sb_client* c, int timeout_ms) {
  if (c == NULL) return SB_OK;
  int rc = SB_OK;
  if (c->base != NULL && !sb_gone(c, 1)) {
    const uint32_t state = sb_load_u32(&c->slot->state);
    if (state == SB_SLOT_ATTACHED) {
      /* Let the daemon see what we read (nothing depends on it, but it is tidy). */
      if (c->attached) sb_ring_publish(&c->out);
      sb_store_u32(&c->slot->state, SB_SLOT_DETACH_REQUESTED);
      uint32_t now = 0;
      rc = sb_wait_slot(c, SB_SLOT_DETACH_REQUESTED, sb_deadline(timeout_ms), &now);
      if (rc == SB_ERR_DAEMON_GONE) rc = SB_OK;
    }
    /* Any other state: the daemon frees the slot once it sees the lock gone. */
  }
  if (c->base != NULL) sb_slot_lock(c, c->slot_index, F_UNLCK);
  sb_drop_segment(c);
  free(c);
  return rc;
}

/* --- sending ---------------------------------------------------------------------------------- */

static int sb_send_checks(sb_client* c, uint16_t type, size_t size) {
  if (c->claimed != NULL) return SB_ERR_STATE;
  int rc = sb_check_link(c);
  if (rc != SB_OK) return rc;
  if ((++c->sends % SB_HEARTBEAT_SEND_STRIDE) == 0 && sb_heartbeat_stale(c)) return SB_ERR_DAEMON_GONE;
  if (type == SB_REC_PADDING) return SB_ERR_INVALID;
  if (size > (size_t)c->header->max_record_size - sizeof(sb_record_header)) return SB_ERR_TOO_BIG;
  return SB_OK;
}

static int sb_ring_result(sb_client* c, enum sb_ring_status s) {
  switch (s) {
    case SB_RING_OK: return SB_OK;
    case SB_RING_FULL: return sb_gone(c, 0) ? SB_ERR_DAEMON_GONE : SB_ERR_FULL;
    case SB_RING_TOO_BIG: return SB_ERR_TOO_BIG;
    default: return SB_ERR_CORRUPT;
  }
}

int sb_client_send(sb_client* c, uint16_t type, uint16_t flags, uint64_t sequence,
                   const void* payload, size_t size) {
  if (c == NULL || (payload == NULL && size != 0)) return SB_ERR_INVALID;
  const int rc = sb_send_checks(c, type, size);
  if (rc != SB_OK) return rc;
  return sb_ring_result(c, sb_ring_write(&c->in, type, flags, sequence, payload, (uint32_t)size));
}

int sb_client_claim(sb_client* c, uint16_t type, uint16_t flags, uint64_t sequence, size_t size,
                    void** payload) {
  if (c == NULL || payload == NULL) return SB_ERR_INVALID;
  *payload = NULL;
  const int rc = sb_send_checks(c, type, size);
  if (rc != SB_OK) return rc;
  sb_record_header* rec = NULL;
  const enum sb_ring_status s =
      sb_ring_claim(&c->in, (uint32_t)(sizeof(sb_record_header) + size), type, flags, sequence, &rec);
  if (s != SB_RING_OK) return sb_ring_result(c, s);
  c->claimed = rec;
  *payload = rec + 1;
  return SB_OK;
}

int sb_client_commit(sb_client* c) {
  if (c == NULL) return SB_ERR_INVALID;
  if (c->claimed == NULL) return SB_ERR_STATE;
  sb_ring_commit(c->claimed);
  c->claimed = NULL;
  return SB_OK;
}

/* --- receiving -------------------------------------------------------------------------------- */

static void sb_publish_head(sb_client* c) {
  if (c->out.own != c->published_head) {
    sb_ring_publish(&c->out);
    c->published_head = c->out.own;
  }
}

int sb_client_poll(sb_client* c, sb_message* message) {
  if (c == NULL || message == NULL) return SB_ERR_INVALID;
  memset(message, 0, sizeof *message);
  if (c->base == NULL) return SB_ERR_DAEMON_GONE;
  if (!c->attached) return sb_gone(c, 0) ? SB_ERR_DAEMON_GONE : SB_ERR_RESET;
  if (c->broken) return SB_ERR_CORRUPT;
  if (c->polled) {
    sb_ring_advance(&c->out);
    c->polled = 0;
    if (c->out.own - c->published_head >= c->publish_every) sb_publish_head(c);
  }
  const sb_record_header* rec = NULL;
  const enum sb_ring_status s = sb_ring_peek(&c->out, &rec);
  if (s == SB_RING_OK) {
    /* The length peek validated, read once more: it must frame the same bytes. */
    const uint32_t length = sb_load_u32(&rec->commit) & SB_RECORD_LENGTH_MASK;
    if (length < sizeof(sb_record_header) || sb_record_padded(length) != c->out.peeked) {
      c->broken = 1;
      return SB_ERR_CORRUPT;
    }
    message->type = rec->type;
    message->flags = rec->flags;
    message->sequence = rec->sequence;
    message->payload = sb_record_payload(rec);
    message->size = length - (uint32_t)sizeof(sb_record_header);
    c->polled = 1;
    return SB_OK;
  }
  if (s == SB_RING_CORRUPT) {
    c->broken = 1;
    return SB_ERR_CORRUPT;
  }
  /* Empty (or a record still being written): let the daemon see the room, then say why
   * nothing more may come. */
  sb_publish_head(c);
  if (sb_gone(c, 0)) return SB_ERR_DAEMON_GONE;
  const int rc = sb_check_link(c);
  return rc != SB_OK ? rc : SB_EMPTY;
}

/* --- accessors -------------------------------------------------------------------------------- */

uint32_t sb_client_slot(const sb_client* c) { return c != NULL ? c->slot_index : 0; }
uint64_t sb_client_slot_generation(const sb_client* c) { return c != NULL ? c->slot_generation : 0; }
uint64_t sb_client_segment_generation(const sb_client* c) { return c != NULL ? c->segment_generation : 0; }
const sb_segment_header* sb_client_header(const sb_client* c) { return c != NULL ? c->header : NULL; }
uint32_t sb_client_max_payload(const sb_client* c) {
  return c != NULL && c->header != NULL ? c->header->max_record_size - (uint32_t)sizeof(sb_record_header) : 0;
}

void sb_client_stats(const sb_client* c, sb_stats* out) {
  if (out == NULL) return;
  memset(out, 0, sizeof *out);
  if (c == NULL || c->base == NULL) return;
  /* Read once and checked: the header is shared memory that any mapping process can change. */
  const uint64_t at = __atomic_load_n(&c->header->stats_offset, __ATOMIC_RELAXED);
  if (!sb_in_segment(c->segment_size, at, sizeof(sb_stats)) || at % 8u != 0) return;
  const uint64_t* words = (const uint64_t*)(const void*)(c->base + at);
  uint64_t* dst = (uint64_t*)(void*)out;
  for (size_t i = 0; i < sizeof(sb_stats) / sizeof(uint64_t); ++i) {
    dst[i] = __atomic_load_n(&words[i], __ATOMIC_RELAXED);
  }
}

int sb_client_lookup(const sb_client* c, int list, const char* name, uint32_t* index) {
  if (c == NULL || name == NULL || list < 0 || list >= SB_DIR_LISTS) return SB_ERR_INVALID;
  for (uint32_t i = 0; i < c->dir_count[list]; ++i) {
    if (strcmp(c->dir_names[c->dir_first[list] + i], name) == 0) {
      if (index != NULL) *index = i;
      return SB_OK;
    }
  }
  return SB_ERR_NOT_FOUND;
}

uint32_t sb_client_directory_count(const sb_client* c, int list) {
  if (c == NULL || list < 0 || list >= SB_DIR_LISTS) return 0;
  return c->dir_count[list];
}

const char* sb_client_directory_name(const sb_client* c, int list, uint32_t index) {
  if (c == NULL || list < 0 || list >= SB_DIR_LISTS || index >= c->dir_count[list]) return NULL;
  return c->dir_names[c->dir_first[list] + index];
}
