/* Issue 4, "a host killed mid-write", against the real switchboardd: hosts are separate processes
 * using the C client (switchboard/shm/client.h), killed with SIGKILL while a record is claimed and
 * half written (sb_client_claim without sb_client_commit), while another host keeps streaming.
 *
 *   shm_killed_host --daemon PATH --config TOML [--sabotage commit-before-kill|no-lock-holder]
 *
 * It starts switchboardd itself on a segment of its own (/sb-kill-<pid>-<n>, --stuck-timeout-ms
 * 500, --heartbeat-ms 100), its stderr to a temporary file that the checks read, and then:
 *
 *   streamer  a host (a child process, SB_ATTACH_DECISIONS) that sends ticks and item_arrive /
 *             item_cancel pairs, every record with SB_FLAG_ACK, from before the first kill until
 *             after the last. It must get exactly one ACK per record, in order, no ERROR, no
 *             NOTICE, no reset; every decision number once, without gaps; one `cancelled` per
 *             item.
 *   phase 1   the lock goes with the host (docs/protocol.md, "A host that died"): a child
 *             attaches, commits 3 ticks, claims a 4th, writes half its payload and is killed.
 *             The daemon must log "host died: slot S (host pid P); applied its committed records
 *             (3 records since attach); dropped a record at position 72 in progress; slot
 *             freed", store FREE in the slot (read here from a read-only mapping), with no stuck
 *             reset; then a new host attaches to that very slot and gets an ACK there.
 *   phase 2   the lock outlives the writer ("A stuck record"): a child attaches, commits 2
 *             ticks, forks a grandchild (which shares the open file description, hence the OFD
 *             lock, and the mapping), claims a record, writes half of it and is killed. The lock
 *             is still held, so the daemon must wait for the stuck timeout and log "stuck reset:
 *             slot S (host pid P): a record at position 48 in progress for N ms; slot reset (1 so
 *             far)" with N >= 500, bump the slot's generation and count the reset (slot and
 *             statistics); the grandchild must read the NOTICE (code 1), then see SB_ERR_RESET,
 *             reattach, and get an ACK for a new record.
 *
 * Finally the daemon must still be running, then stop on SIGTERM with status 0 and remove its
 * segment. --sabotage breaks the scenario on purpose, to see the checks catch it:
 * commit-before-kill commits phase 1's record before the kill (nothing is dropped), and
 * no-lock-holder runs phase 2 without the grandchild (the daemon sees a death, not a stuck
 * record). Either must make this program fail.
 *
 * Exit status 0 when every check passed; the daemon's log goes to stdout, failures to stderr. */
#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "switchboard/shm/client.h"

/* Written by each process for itself (after fork every process has its own count). */
static int g_failures = 0;
static const char* g_who = "shm_killed_host";

#define CHECK(cond, ...)                                                    \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s: check failed: %s: ", g_who, #cond);              \
      fprintf(stderr, __VA_ARGS__);                                         \
      fprintf(stderr, "\n");                                                \
      ++g_failures;                                                         \
    }                                                                       \
  } while (0)

enum { STUCK_TIMEOUT_MS = 500, PHASE1_COMMITTED = 3, PHASE2_COMMITTED = 2, TICK_RECORD = 24 };
/* A tick's payload is an i64 time: 16 + 8 bytes, already a multiple of 8 (TICK_RECORD). */

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_us(long us) {
  struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L};
  nanosleep(&ts, NULL);
}

/* Event times: 08:00 plus the milliseconds since this program started, so that they only grow. */
static double g_start_s = 0.0;
static int64_t event_time(void) { return 28800000 + (int64_t)((mono_s() - g_start_s) * 1000.0); }

static int send_tick(sb_client* c, uint64_t sequence) {
  uint8_t buf[16];
  sb_encoder e;
  sb_enc_init(&e, buf, sizeof buf);
  if (sb_encode_tick(&e, event_time()) != SB_OK) return SB_ERR_INVALID;
  return sb_client_send(c, SB_REC_TICK, SB_FLAG_ACK, sequence, buf, sb_enc_size(&e));
}

/* Polls until the ACK of `sequence` arrives: SB_OK, or the first error (SB_ERR_TIMEOUT). Other
 * records are counted in *others. */
static int wait_ack(sb_client* c, uint64_t sequence, double timeout_s, int* others) {
  const double until = mono_s() + timeout_s;
  for (;;) {
    sb_message m;
    const int rc = sb_client_poll(c, &m);
    if (rc == SB_OK) {
      if (m.type == SB_REC_ACK && m.sequence == sequence) return SB_OK;
      ++*others;
      continue;
    }
    if (rc != SB_EMPTY) return rc;
    if (mono_s() > until) return SB_ERR_TIMEOUT;
    nap_us(200);
  }
}

static void write_line(int fd, const char* line) {
  size_t n = strlen(line);
  while (n > 0) {
    const ssize_t w = write(fd, line, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    line += w;
    n -= (size_t)w;
  }
}

/* Reads one line from fd (up to '\n'), waiting up to timeout_s: 1, or 0 on EOF or timeout. */
static int read_line(int fd, char* out, size_t size, double timeout_s) {
  const double until = mono_s() + timeout_s;
  size_t n = 0;
  while (n + 1 < size) {
    struct pollfd p = {fd, POLLIN, 0};
    const int left_ms = (int)((until - mono_s()) * 1000.0);
    if (left_ms <= 0) break;
    if (poll(&p, 1, left_ms) <= 0) continue;
    char ch;
    const ssize_t r = read(fd, &ch, 1);
    if (r <= 0) break;
    if (ch == '\n') {
      out[n] = '\0';
      return 1;
    }
    out[n++] = ch;
  }
  out[n] = '\0';
  return 0;
}

/* --- the streamer: the host that must not be disturbed ---------------------------------------- */

typedef struct streamer {
  sb_client* c;
  uint32_t vip;
  uint64_t item_base;
  uint64_t sent;      /* sequences 1..sent went out, each with SB_FLAG_ACK */
  uint64_t ack_next;  /* the sequence whose ACK comes next */
  uint64_t acks;      /* ACK records read */
  long acks_wrong;    /* an ACK for any other sequence: lost, duplicated or out of order */
  long errors, notices, decisions, decision_gaps;
  uint64_t last_decision;
  int* cancelled;     /* `cancelled` decisions per item caused by this host's cancel */
  int items;          /* items arrived so far (item_base + 0 .. items-1) */
  int item_room;
} streamer;

static int streamer_handle(streamer* s, const sb_message* m) {
  switch (m->type) {
    case SB_REC_ACK:
      ++s->acks;
      if (m->sequence != s->ack_next) {
        ++s->acks_wrong;
        fprintf(stderr, "%s: ACK for %llu, expected %llu\n", g_who, (unsigned long long)m->sequence,
                (unsigned long long)s->ack_next);
      }
      s->ack_next = m->sequence + 1;
      return SB_OK;
    case SB_REC_DECISION: {
      ++s->decisions;
      if (s->last_decision != 0 && m->sequence != s->last_decision + 1) ++s->decision_gaps;
      s->last_decision = m->sequence;
      sb_decision d;
      if (sb_decode_decision(m->payload, m->size, &d) != SB_OK) {
        CHECK(0, "a DECISION that does not decode");
        return SB_OK;
      }
      if (d.kind == SB_DECISION_CANCELLED && d.item.kind == 0 && d.item.number >= s->item_base &&
          d.item.number < s->item_base + (uint64_t)s->items) {
        CHECK(d.cause_slot == sb_client_slot(s->c), "cancelled item %llu names slot %u",
              (unsigned long long)d.item.number, d.cause_slot);
        ++s->cancelled[d.item.number - s->item_base];
      }
      return SB_OK;
    }
    case SB_REC_ERROR: {
      ++s->errors;
      sb_error_record err;
      if (sb_decode_error(m->payload, m->size, &err) == SB_OK) {
        fprintf(stderr, "%s: ERROR for %llu: %s: %.*s\n", g_who, (unsigned long long)m->sequence,
                sb_error_code_name(err.code), (int)err.message_length, err.message);
      }
      return SB_OK;
    }
    case SB_REC_NOTICE:
      ++s->notices;
      return SB_OK;
    default:
      CHECK(0, "an outbound record of type %u", m->type);
      return SB_OK;
  }
}

/* Reads everything there is now: SB_OK, or the poll's error. */
static int streamer_drain(streamer* s) {
  sb_message m;
  int rc;
  while ((rc = sb_client_poll(s->c, &m)) == SB_OK) streamer_handle(s, &m);
  return rc == SB_EMPTY ? SB_OK : rc;
}

/* The next record of the pattern tick, item_arrive, item_cancel (so that a stop between two
 * records never leaves an item waiting), sent until it goes in. */
static int streamer_send_next(streamer* s) {
  const uint64_t seq = s->sent + 1;
  uint8_t buf[128];
  sb_encoder e;
  sb_enc_init(&e, buf, sizeof buf);
  uint16_t type = SB_REC_TICK;
  switch (seq % 3) {
    case 1:
      sb_encode_tick(&e, event_time());
      break;
    case 2:
      if (s->items == s->item_room) return SB_ERR_INVALID;
      type = SB_REC_ITEM_ARRIVE;
      sb_encode_item_arrive(&e, event_time(), sb_id_number(s->item_base + (uint64_t)s->items), s->vip, NULL, 0);
      ++s->items;
      break;
    default:
      type = SB_REC_ITEM_CANCEL;
      sb_encode_item_cancel(&e, event_time(), sb_id_number(s->item_base + (uint64_t)s->items - 1));
      break;
  }
  if (sb_enc_status(&e) != SB_OK) return sb_enc_status(&e);
  const double until = mono_s() + 10.0;
  for (;;) {
    const int rc = sb_client_send(s->c, type, SB_FLAG_ACK, seq, buf, sb_enc_size(&e));
    if (rc == SB_OK) {
      s->sent = seq;
      return SB_OK;
    }
    if (rc != SB_ERR_FULL) return rc;
    const int drained = streamer_drain(s);
    if (drained != SB_OK) return drained;
    if (mono_s() > until) return SB_ERR_FULL;
    nap_us(200);
  }
}

/* The streamer's process: reports "ready SLOT" on `report`, streams until `stop` reaches EOF,
 * waits for every ACK, checks, detaches. Exit status 0 when every check passed. */
static int run_streamer(const char* name, int report, int stop) {
  g_who = "streamer";
  streamer s;
  memset(&s, 0, sizeof s);
  s.item_base = 9000000;
  s.item_room = 200000;
  s.ack_next = 1;
  s.cancelled = calloc((size_t)s.item_room, sizeof(int));
  int rc = sb_client_attach(name, SB_ATTACH_DECISIONS, 5000, &s.c);
  if (rc != SB_OK || s.cancelled == NULL) {
    fprintf(stderr, "streamer: attach: %s\n", sb_strerror(rc));
    return 1;
  }
  rc = sb_client_lookup(s.c, SB_DIR_QUEUE, "VIP Chat", &s.vip);
  CHECK(rc == SB_OK, "the example configuration has no queue \"VIP Chat\"");
  const uint64_t generation = sb_client_slot_generation(s.c);
  char line[64];
  snprintf(line, sizeof line, "ready %u\n", sb_client_slot(s.c));
  write_line(report, line);

  const double started = mono_s();
  rc = SB_OK;
  for (uint64_t round = 0;; ++round) {
    if (s.sent % 3 == 0 && round % 16 == 0) {
      struct pollfd p = {stop, POLLIN, 0};
      if (poll(&p, 1, 0) > 0) break;  /* EOF: the parent is done killing */
    }
    /* A window, so that the daemon's answers never fill our outbound ring. */
    if (s.sent - (s.ack_next - 1) < 256) {
      rc = streamer_send_next(&s);
      if (rc != SB_OK) break;
    }
    rc = streamer_drain(&s);
    if (rc != SB_OK) break;
    nap_us(50);
  }
  CHECK(rc == SB_OK, "streaming stopped by %s after %llu records", sb_strerror(rc),
        (unsigned long long)s.sent);
  const double until = mono_s() + 10.0;
  while (rc == SB_OK && s.ack_next <= s.sent && mono_s() < until) {
    rc = streamer_drain(&s);
    nap_us(200);
  }
  const double seconds = mono_s() - started;

  CHECK(s.sent > 100, "only %llu records sent", (unsigned long long)s.sent);
  CHECK(s.ack_next == s.sent + 1 && s.acks == s.sent && s.acks_wrong == 0,
        "sent 1..%llu, %llu ACKs, next ACK expected %llu, %ld ACKs out of place", (unsigned long long)s.sent,
        (unsigned long long)s.acks, (unsigned long long)s.ack_next, s.acks_wrong);
  CHECK(s.errors == 0, "%ld ERROR records", s.errors);
  CHECK(s.notices == 0, "%ld NOTICE records: this host was disturbed", s.notices);
  CHECK(s.decision_gaps == 0, "%ld gaps in the decision numbers", s.decision_gaps);
  int cancelled_once = 0;
  for (int k = 0; k < s.items; ++k) cancelled_once += s.cancelled[k] == 1 ? 1 : 0;
  CHECK(s.items > 0 && cancelled_once == s.items, "%d of %d items cancelled exactly once",
        cancelled_once, s.items);
  CHECK(sb_client_slot_generation(s.c) == generation, "the slot's generation changed");
  const int alive = sb_client_daemon_alive(s.c);
  CHECK(alive == SB_OK, "daemon_alive: %s", sb_strerror(alive));
  printf("streamer: slot %u: %llu records in %.2f s, %llu ACKs, %ld decisions (%d items cancelled once), "
         "%ld errors, %ld notices\n",
         sb_client_slot(s.c), (unsigned long long)s.sent, seconds, (unsigned long long)s.acks,
         s.decisions, cancelled_once, s.errors, s.notices);
  fflush(stdout);
  rc = sb_client_detach(s.c, 3000);
  CHECK(rc == SB_OK, "detach: %s", sb_strerror(rc));
  free(s.cancelled);
  return g_failures == 0 ? 0 : 1;
}

/* --- the victims ------------------------------------------------------------------------------ */

/* The grandchild of phase 2: it holds the slot's lock (the same open file description) while its
 * parent dies mid-record; it must be told of the reset and be able to go on. */
static int run_holder(sb_client* c) {
  g_who = "lock holder";
  const uint64_t generation = sb_client_slot_generation(c);
  long notices = 0, others = 0;
  int rc = SB_EMPTY;
  const double until = mono_s() + 10.0;
  while (mono_s() < until) {
    sb_message m;
    rc = sb_client_poll(c, &m);
    if (rc == SB_OK) {
      sb_notice n;
      if (m.type == SB_REC_NOTICE && sb_decode_notice(m.payload, m.size, &n) == SB_OK && n.code == 1) {
        ++notices;
        printf("lock holder: NOTICE %u: %.*s\n", n.code, (int)n.message_length, n.message);
      } else {
        ++others;
      }
      continue;
    }
    if (rc != SB_EMPTY) break;
    nap_us(1000);
  }
  CHECK(rc == SB_ERR_RESET, "poll ended with %s, not a reset", sb_strerror(rc));
  CHECK(notices == 1, "%ld ring-reset NOTICEs before the reset", notices);
  CHECK(others == 0, "%ld other records", others);
  rc = sb_client_reattach(c, 3000);
  CHECK(rc == SB_OK, "reattach: %s", sb_strerror(rc));
  if (rc == SB_OK) {
    CHECK(sb_client_slot_generation(c) != generation, "reattached under the old generation");
    rc = send_tick(c, 1);
    CHECK(rc == SB_OK, "send after reattach: %s", sb_strerror(rc));
    int extra = 0;
    rc = wait_ack(c, 1, 3.0, &extra);
    CHECK(rc == SB_OK && extra == 0, "ACK after reattach: %s (%d other records)", sb_strerror(rc), extra);
  }
  printf("lock holder: pid %d: reset seen, reattached to slot %u, ACK received\n", (int)getpid(),
         sb_client_slot(c));
  fflush(stdout);
  rc = sb_client_detach(c, 3000);
  CHECK(rc == SB_OK, "detach: %s", sb_strerror(rc));
  return g_failures == 0 ? 0 : 1;
}

/* A host that commits `committed` ticks, claims one more, writes half of its payload and waits
 * to be killed; with `holder`, it first forks the lock holder. Reports "claimed SLOT HOLDER_PID"
 * on `report` (HOLDER_PID 0 without one). */
static int run_victim(const char* name, int committed, int holder, int commit_anyway, int report) {
  g_who = "victim";
  sb_client* c = NULL;
  int rc = sb_client_attach(name, 0, 5000, &c);
  if (rc != SB_OK) {
    fprintf(stderr, "victim: attach: %s\n", sb_strerror(rc));
    return 1;
  }
  for (int k = 1; k <= committed; ++k) {
    rc = send_tick(c, (uint64_t)k);
    CHECK(rc == SB_OK, "send: %s", sb_strerror(rc));
  }
  /* Every ACK read before the fork: the holder shares this outbound ring afterwards. */
  int extra = 0;
  rc = committed > 0 ? wait_ack(c, (uint64_t)committed, 3.0, &extra) : SB_OK;
  CHECK(rc == SB_OK && extra == committed - 1, "ACKs of the committed records: %s", sb_strerror(rc));
  pid_t holder_pid = 0;
  if (holder) {
    holder_pid = fork();
    if (holder_pid == 0) _exit(run_holder(c));
    CHECK(holder_pid > 0, "fork: %s", strerror(errno));
  }
  void* payload = NULL;
  rc = sb_client_claim(c, SB_REC_TICK, SB_FLAG_ACK, (uint64_t)committed + 1, 8, &payload);
  CHECK(rc == SB_OK, "claim: %s", sb_strerror(rc));
  if (rc == SB_OK) {
    const int64_t t = event_time();
    memcpy(payload, &t, 4);  /* half the payload: the kill comes before the rest */
    if (commit_anyway) {
      memcpy((uint8_t*)payload + 4, (const uint8_t*)&t + 4, 4);
      sb_client_commit(c);
    }
  }
  char line[64];
  snprintf(line, sizeof line, "%s %u %d\n", g_failures == 0 ? "claimed" : "failed", sb_client_slot(c),
           (int)holder_pid);
  write_line(report, line);
  for (;;) pause();
}

/* --- the parent: the daemon, the kills, the checks --------------------------------------------- */

typedef struct daemon_proc {
  pid_t pid;
  char log_path[64];
  char name[64];
} daemon_proc;

static char* read_file(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t size = 0, room = 4096;
  char* text = malloc(room);
  size_t n;
  while (text != NULL && (n = fread(text + size, 1, room - size - 1, f)) > 0) {
    size += n;
    if (room - size < 1024) {
      char* grown = realloc(text, room * 2);
      if (grown == NULL) {
        free(text);
        text = NULL;
        break;
      }
      text = grown;
      room *= 2;
    }
  }
  fclose(f);
  if (text != NULL) text[size] = '\0';
  return text;
}

/* Waits up to timeout_s for `needle` in the daemon's log: the line it is in (malloc'd), or NULL. */
static char* wait_log(const daemon_proc* d, const char* needle, double timeout_s) {
  const double until = mono_s() + timeout_s;
  for (;;) {
    char* text = read_file(d->log_path);
    const char* at = text != NULL ? strstr(text, needle) : NULL;
    if (at != NULL) {
      const char* start = at;
      while (start > text && start[-1] != '\n') --start;
      const char* end = strchr(at, '\n');
      const size_t n = end != NULL ? (size_t)(end - start) : strlen(start);
      char* line = malloc(n + 1);
      if (line != NULL) {
        memcpy(line, start, n);
        line[n] = '\0';
      }
      free(text);
      return line;
    }
    free(text);
    if (mono_s() > until) return NULL;
    nap_us(10000);
  }
}

static int log_has(const daemon_proc* d, const char* needle) {
  char* line = wait_log(d, needle, 0.0);
  free(line);
  return line != NULL;
}

/* A read-only view of the segment: slot states, generations and counters as the daemon wrote
 * them, without a slot of our own. */
typedef struct segment_view {
  const uint8_t* base;
  size_t size;
} segment_view;

static int view_open(segment_view* v, const char* name) {
  const int fd = shm_open(name, O_RDONLY, 0);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(sb_segment_header)) {
    close(fd);
    return -1;
  }
  void* p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);  /* the mapping keeps the file; this process holds no lock on it */
  if (p == MAP_FAILED) return -1;
  v->base = p;
  v->size = (size_t)st.st_size;
  return 0;
}

static const sb_segment_header* view_header(const segment_view* v) {
  return (const sb_segment_header*)(const void*)v->base;
}

static const sb_host_slot* view_slot(const segment_view* v, uint32_t index) {
  return (const sb_host_slot*)(const void*)(v->base + view_header(v)->host_slots_offset +
                                            (uint64_t)index * sizeof(sb_host_slot));
}

/* Acquire loads: the daemon stores these words with release (protocol.h). */
static uint32_t slot_state(const segment_view* v, uint32_t index) {
  return __atomic_load_n(&view_slot(v, index)->state, __ATOMIC_ACQUIRE);
}
static uint64_t slot_generation(const segment_view* v, uint32_t index) {
  return __atomic_load_n(&view_slot(v, index)->generation, __ATOMIC_ACQUIRE);
}
static uint64_t slot_resets(const segment_view* v, uint32_t index) {
  return __atomic_load_n(&view_slot(v, index)->resets, __ATOMIC_ACQUIRE);
}
static uint64_t stat_stuck_resets(const segment_view* v) {
  const sb_stats* s = (const sb_stats*)(const void*)(v->base + view_header(v)->stats_offset);
  return __atomic_load_n(&s->stuck_resets, __ATOMIC_ACQUIRE);
}

/* Waits up to timeout_s for the slot's state to become `want`; 1 when it did. */
static int wait_slot_state(const segment_view* v, uint32_t index, uint32_t want, double timeout_s) {
  const double until = mono_s() + timeout_s;
  while (slot_state(v, index) != want) {
    if (mono_s() > until) return 0;
    nap_us(1000);
  }
  return 1;
}

static int start_daemon(daemon_proc* d, const char* daemon, const char* config) {
  snprintf(d->name, sizeof d->name, "/sb-kill-%d-%ld", (int)getpid(), (long)(mono_s() * 1000.0) % 100000);
  snprintf(d->log_path, sizeof d->log_path, "%s", "/tmp/shm_killed_host.XXXXXX");
  const int log_fd = mkstemp(d->log_path);
  if (log_fd < 0) return -1;
  char stuck[16];
  snprintf(stuck, sizeof stuck, "%d", STUCK_TIMEOUT_MS);
  d->pid = fork();
  if (d->pid == 0) {
    dup2(log_fd, STDERR_FILENO);
    /* A 100 ms heartbeat: a busy machine must not make the daemon look gone to the hosts. */
    execl(daemon, daemon, "--config", config, "--name", d->name, "--heartbeat-ms", "100",
          "--stuck-timeout-ms", stuck, (char*)NULL);
    fprintf(stderr, "exec %s: %s\n", daemon, strerror(errno));
    _exit(127);
  }
  close(log_fd);
  return d->pid > 0 ? 0 : -1;
}

/* The write end of the streamer's stop pipe: a victim (and its lock holder) must not keep it
 * open, or the streamer would never see EOF. Written once by main before the first victim. */
static int g_stop_write = -1;

static pid_t fork_victim(const char* name, int committed, int holder, int commit_anyway, int report[2]) {
  const pid_t pid = fork();
  if (pid == 0) {
    close(report[0]);
    if (g_stop_write >= 0) close(g_stop_write);
    _exit(run_victim(name, committed, holder, commit_anyway, report[1]));
  }
  return pid;
}

/* Kills `pid` with SIGKILL and reaps it; 1 when it died of that signal. */
static int kill_and_reap(pid_t pid) {
  kill(pid, SIGKILL);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 0;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

static int reap(pid_t pid, double timeout_s) {
  const double until = mono_s() + timeout_s;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    if (mono_s() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -2;
    }
    nap_us(10000);
  }
}

static void usage(void) {
  fprintf(stderr, "usage: shm_killed_host --daemon PATH --config TOML [--sabotage commit-before-kill|no-lock-holder]\n");
}

int main(int argc, char** argv) {
  const char* daemon = NULL;
  const char* config = NULL;
  int commit_anyway = 0, no_holder = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--daemon") == 0) {
      daemon = argv[i + 1];
    } else if (strcmp(argv[i], "--config") == 0) {
      config = argv[i + 1];
    } else if (strcmp(argv[i], "--sabotage") == 0 && strcmp(argv[i + 1], "commit-before-kill") == 0) {
      commit_anyway = 1;
    } else if (strcmp(argv[i], "--sabotage") == 0 && strcmp(argv[i + 1], "no-lock-holder") == 0) {
      no_holder = 1;
    } else {
      usage();
      return 2;
    }
  }
  if (daemon == NULL || config == NULL || argc % 2 == 0) {
    usage();
    return 2;
  }
  g_start_s = mono_s();
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* The lock holder's parent is killed: as a subreaper this process still reaps it. */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    fprintf(stderr, "prctl(PR_SET_CHILD_SUBREAPER): %s\n", strerror(errno));
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);

  daemon_proc d;
  if (start_daemon(&d, daemon, config) != 0) {
    fprintf(stderr, "cannot start %s: %s\n", daemon, strerror(errno));
    return 1;
  }
  char* line = wait_log(&d, "start: segment ", 10.0);
  CHECK(line != NULL, "switchboardd did not start");
  free(line);
  segment_view v = {NULL, 0};
  if (g_failures == 0 && view_open(&v, d.name) != 0) CHECK(0, "cannot map %s read-only: %s", d.name, strerror(errno));

  pid_t streamer_pid = -1, holder_pid = 0;
  int stop[2] = {-1, -1};
  int report[2] = {-1, -1};
  char text[256];
  uint32_t streamer_slot = 0;
  if (g_failures == 0 && (pipe(stop) != 0 || pipe(report) != 0)) CHECK(0, "pipe: %s", strerror(errno));
  if (g_failures == 0) {
    streamer_pid = fork();
    if (streamer_pid == 0) {
      close(stop[1]);
      close(report[0]);
      _exit(run_streamer(d.name, report[1], stop[0]));
    }
    close(stop[0]);
    g_stop_write = stop[1];
    CHECK(read_line(report[0], text, sizeof text, 10.0) && sscanf(text, "ready %u", &streamer_slot) == 1,
          "the streamer did not attach (\"%s\")", text);
    nap_us(200000);  /* it is streaming before anything is killed */
  }

  /* Phase 1: the host dies and its lock with it. */
  const double phase1 = mono_s();
  if (g_failures == 0) {
    const pid_t victim = fork_victim(d.name, PHASE1_COMMITTED, 0, commit_anyway, report);
    unsigned slot = 0;
    int ignored = 0;
    const int reported = read_line(report[0], text, sizeof text, 10.0) &&
                         sscanf(text, "claimed %u %d", &slot, &ignored) == 2;
    CHECK(reported, "phase 1: the victim did not claim its record (\"%s\")", text);
    if (reported) {
      CHECK(slot != streamer_slot && slot_state(&v, slot) == SB_SLOT_ATTACHED, "phase 1: slot %u in state %u",
            slot, slot_state(&v, slot));
      const uint64_t generation = slot_generation(&v, slot);
      CHECK(kill_and_reap(victim), "phase 1: the victim did not die of SIGKILL");
      CHECK(wait_slot_state(&v, slot, SB_SLOT_FREE, 5.0), "phase 1: slot %u still in state %u", slot,
            slot_state(&v, slot));
      char want[256];
      snprintf(want, sizeof want,
               "host died: slot %u (host pid %d); applied its committed records (%d records since attach); "
               "dropped a record at position %d in progress; slot freed",
               slot, (int)victim, PHASE1_COMMITTED, PHASE1_COMMITTED * TICK_RECORD);
      line = wait_log(&d, want, 3.0);
      CHECK(line != NULL, "phase 1: no log line \"%s\"", want);
      free(line);
      snprintf(want, sizeof want, "stuck reset: slot %u (host pid %d)", slot, (int)victim);
      CHECK(!log_has(&d, want), "phase 1: a dead host's slot was reset as stuck");
      /* A new host gets that very slot (the lowest free one) and works there. */
      sb_client* c = NULL;
      int rc = sb_client_attach(d.name, 0, 5000, &c);
      CHECK(rc == SB_OK, "phase 1: attach after the death: %s", sb_strerror(rc));
      if (rc == SB_OK) {
        CHECK(sb_client_slot(c) == slot, "phase 1: the new host got slot %u, not the freed %u", sb_client_slot(c),
              slot);
        CHECK(sb_client_slot_generation(c) != generation, "phase 1: the slot's generation did not change");
        int extra = 0;
        rc = send_tick(c, 1);
        if (rc == SB_OK) rc = wait_ack(c, 1, 3.0, &extra);
        CHECK(rc == SB_OK && extra == 0, "phase 1: the new host's ACK: %s", sb_strerror(rc));
        rc = sb_client_detach(c, 3000);
        CHECK(rc == SB_OK, "phase 1: detach: %s", sb_strerror(rc));
      }
      if (g_failures == 0) {
        printf("phase 1: host pid %d killed mid-record in slot %u; slot freed, new host attached there (%.2f s)\n",
               (int)victim, slot, mono_s() - phase1);
      }
    } else {
      kill_and_reap(victim);
    }
  }

  /* Phase 2: the writer dies while another process keeps its lock. */
  const double phase2 = mono_s();
  if (g_failures == 0) {
    const pid_t victim = fork_victim(d.name, PHASE2_COMMITTED, !no_holder, 0, report);
    unsigned slot = 0;
    int holder = 0;
    const int reported = read_line(report[0], text, sizeof text, 10.0) &&
                         sscanf(text, "claimed %u %d", &slot, &holder) == 2;
    CHECK(reported, "phase 2: the victim did not claim its record (\"%s\")", text);
    holder_pid = holder;
    if (reported) {
      const uint64_t generation = slot_generation(&v, slot);
      const uint64_t resets_before = stat_stuck_resets(&v);
      CHECK(kill_and_reap(victim), "phase 2: the victim did not die of SIGKILL");
      char want[256];
      snprintf(want, sizeof want, "stuck reset: slot %u (host pid %d): a record at position %d in progress for ",
               slot, (int)victim, PHASE2_COMMITTED * TICK_RECORD);
      line = wait_log(&d, want, 5.0);
      CHECK(line != NULL, "phase 2: no log line \"%s...\"", want);
      if (line != NULL) {
        const char* rest = strstr(line, want) + strlen(want);
        char* end = NULL;
        const long waited = strtol(rest, &end, 10);
        CHECK(waited >= STUCK_TIMEOUT_MS && strcmp(end, " ms; slot reset (1 so far)") == 0,
              "phase 2: the reset came after %ld ms (\"%s\")", waited, line);
        printf("phase 2: %s\n", strstr(line, "stuck reset: "));
      }
      free(line);
      snprintf(want, sizeof want, "host died: slot %u (host pid %d)", slot, (int)victim);
      CHECK(!log_has(&d, want), "phase 2: a slot whose lock is held was taken for dead");
      CHECK(slot_generation(&v, slot) != generation, "phase 2: the slot's generation did not change");
      CHECK(slot_resets(&v, slot) == 1, "phase 2: the slot counts %llu resets",
            (unsigned long long)slot_resets(&v, slot));
      if (holder_pid > 0) {
        const int status = reap(holder_pid, 10.0);
        CHECK(status == 0, "phase 2: the lock holder failed (%d)", status);
        holder_pid = 0;
        snprintf(want, sizeof want, "re-attach: slot %u (host pid %d)", slot, holder);
        CHECK(log_has(&d, want), "phase 2: no \"%s\" in the log", want);
      }
      CHECK(wait_slot_state(&v, slot, SB_SLOT_FREE, 3.0), "phase 2: slot %u left in state %u", slot,
            slot_state(&v, slot));
      /* The statistics are refreshed every 100 ms. */
      const double until = mono_s() + 2.0;
      while (stat_stuck_resets(&v) != resets_before + 1 && mono_s() < until) nap_us(10000);
      CHECK(stat_stuck_resets(&v) == resets_before + 1, "phase 2: stuck_resets %llu, was %llu",
            (unsigned long long)stat_stuck_resets(&v), (unsigned long long)resets_before);
      if (g_failures == 0) {
        printf("phase 2: host pid %d killed mid-record in slot %u with its lock held by pid %d; reset, "
               "holder reattached (%.2f s)\n", (int)victim, slot, holder, mono_s() - phase2);
      }
    } else {
      kill_and_reap(victim);
    }
  }
  if (holder_pid > 0) reap(holder_pid, 0.0);

  /* The streamer stops, waits for its last ACKs and checks its ledger. */
  if (streamer_pid > 0) {
    close(stop[1]);
    const int status = reap(streamer_pid, 20.0);
    CHECK(status == 0, "the streamer failed (%d)", status);
  }

  int status = 0;
  const pid_t r = waitpid(d.pid, &status, WNOHANG);
  CHECK(r == 0, "switchboardd is not running any more (status %d)", status);
  if (r == 0) {
    kill(d.pid, SIGTERM);
    const int code = reap(d.pid, 10.0);
    CHECK(code == 0, "switchboardd exited with %d after SIGTERM", code);
  }
  char path[96];
  snprintf(path, sizeof path, "/dev/shm%s", d.name);
  CHECK(access(path, F_OK) != 0, "switchboardd left %s behind", path);
  if (access(path, F_OK) == 0) shm_unlink(d.name);

  char* log = read_file(d.log_path);
  printf("--- switchboardd log ---\n%s", log != NULL ? log : "");
  free(log);
  unlink(d.log_path);
  if (g_failures != 0) fprintf(stderr, "shm_killed_host: %d checks failed\n", g_failures);
  return g_failures == 0 ? 0 : 1;
}
