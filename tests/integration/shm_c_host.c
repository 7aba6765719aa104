/* A host written with the C client (switchboard/shm/client.h) against a running switchboardd
 * with docs/examples/contact-center.toml (tests/integration/run_shm_host.sh starts it):
 *
 *   1. round trip: registers --agents agents in --queue, sends --items items, accepts every offer
 *      of its items, completes every assigned item, and checks that each was assigned exactly
 *      once and completed;
 *   2. errors: a refused event and a malformed record each come back as an ERROR carrying the
 *      sequence number they were sent with;
 *   3. back-pressure: with the daemon stopped (SIGSTOP to the segment's daemon_pid), ticks that
 *      ask for an ACK fill the inbound ring until send returns SB_ERR_FULL (writing nothing);
 *      once the daemon runs again every record is acknowledged exactly once, in order, and the
 *      record refused for room goes through on retry;
 *   4. leaves: its agents leave the queue and are removed; detach.
 *
 * Exit status 0 when every check passed; the summary goes to stdout, failures to stderr. */
#define _GNU_SOURCE 1

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "switchboard/shm/client.h"

static int g_failures = 0;
static pid_t g_stopped_daemon = 0;

#define CHECK(cond, ...)                                      \
  do {                                                        \
    if (!(cond)) {                                            \
      fprintf(stderr, "shm_c_host: check failed: %s: ", #cond); \
      fprintf(stderr, __VA_ARGS__);                           \
      fprintf(stderr, "\n");                                  \
      ++g_failures;                                           \
    }                                                         \
  } while (0)

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_us(long us) {
  struct timespec ts = {0, us * 1000L};
  nanosleep(&ts, NULL);
}

/* Never leave the daemon stopped behind us. */
static void resume_daemon(void) {
  if (g_stopped_daemon > 0) kill(g_stopped_daemon, SIGCONT);
  g_stopped_daemon = 0;
}

/* --- the host's ledger ------------------------------------------------------------------------ */

typedef struct host {
  sb_client* c;
  uint64_t sequence;
  uint32_t queue;
  uint32_t available;
  uint64_t item_base; /* our items are item_base + 0 .. items-1 */
  int items;
  int* assigned;      /* assigned decisions per item */
  int* completed;     /* completed decisions per item */
  long offered;
  long completed_total;
  long errors;        /* ERROR records not expected by a check */
  /* Expected errors (phase 2): the sequence to look for and what was seen. */
  uint64_t expect_error_seq[2];
  int expect_error_code[2];
  int seen_error[2];
  /* Acks (phase 3, 4). */
  uint64_t ack_first, ack_next, ack_last; /* ACKs expected for sequences ack_first..ack_last */
  long acks_out_of_order;
} host;

static int handle(host* h, const sb_message* m);

/* Sends a prepared payload, answering back-pressure by reading (the daemon stops reading our
 * records while our outbound ring is full). */
static int send_payload(host* h, uint16_t type, uint16_t flags, uint64_t seq, const sb_encoder* e) {
  const double until = mono_s() + 10.0;
  for (;;) {
    const int rc = sb_client_send(h->c, type, flags, seq, e->data, e->size);
    if (rc != SB_ERR_FULL) return rc;
    sb_message m;
    int polled = 0;
    while (sb_client_poll(h->c, &m) == SB_OK) {
      polled = 1;
      if (handle(h, &m) != SB_OK) return SB_ERR_CORRUPT;
    }
    if (!polled) nap_us(200);
    if (mono_s() > until) return SB_ERR_FULL;
  }
}

#define ENCODE_AND_SEND(h, type, flags, call)                                   \
  do {                                                                          \
    uint8_t buf_[512];                                                          \
    sb_encoder e_;                                                              \
    sb_enc_init(&e_, buf_, sizeof buf_);                                        \
    sb_encoder* e = &e_;                                                        \
    const int enc_ = (call);                                                    \
    CHECK(enc_ == SB_OK, "encode %s: %s", #call, sb_strerror(enc_));            \
    const int rc_ = send_payload((h), (type), (flags), ++(h)->sequence, &e_);   \
    CHECK(rc_ == SB_OK, "send %s: %s", #call, sb_strerror(rc_));                \
  } while (0)

static int our_item(const host* h, const sb_id_view* item, int* index) {
  if (item->kind != 0 || item->number < h->item_base || item->number >= h->item_base + (uint64_t)h->items) {
    return 0;
  }
  *index = (int)(item->number - h->item_base);
  return 1;
}

static int handle(host* h, const sb_message* m) {
  if (m->type == SB_REC_ERROR) {
    sb_error_record err;
    if (sb_decode_error(m->payload, m->size, &err) != SB_OK) {
      CHECK(0, "an ERROR record that does not decode");
      return SB_OK;
    }
    for (int k = 0; k < 2; ++k) {
      if (h->expect_error_seq[k] != 0 && m->sequence == h->expect_error_seq[k]) {
        h->seen_error[k]++;
        CHECK(err.code == h->expect_error_code[k], "error for seq %llu is %s, expected %s",
              (unsigned long long)m->sequence, sb_error_code_name(err.code),
              sb_error_code_name(h->expect_error_code[k]));
        return SB_OK;
      }
    }
    ++h->errors;
    fprintf(stderr, "shm_c_host: unexpected error for seq %llu: %s: %.*s\n", (unsigned long long)m->sequence,
            sb_error_code_name(err.code), (int)err.message_length, err.message);
    return SB_OK;
  }
  if (m->type == SB_REC_ACK) {
    if (m->sequence != h->ack_next) ++h->acks_out_of_order;
    h->ack_next = m->sequence + 1;
    return SB_OK;
  }
  if (m->type == SB_REC_NOTICE) {
    sb_notice n;
    if (sb_decode_notice(m->payload, m->size, &n) == SB_OK) {
      fprintf(stderr, "shm_c_host: notice %u: %.*s\n", n.code, (int)n.message_length, n.message);
    }
    return SB_OK;
  }
  if (m->type != SB_REC_DECISION) return SB_OK;
  sb_decision d;
  if (sb_decode_decision(m->payload, m->size, &d) != SB_OK) {
    CHECK(0, "a DECISION record that does not decode");
    return SB_OK;
  }
  int index = 0;
  if (!our_item(h, &d.item, &index)) return SB_OK;
  const sb_id item = sb_id_number(d.item.number);
  switch (d.kind) {
    case SB_DECISION_OFFER: {
      ++h->offered;
      CHECK(d.has_agent && d.agent.kind <= 1, "an offer without an agent");
      /* The agent as the daemon named it: a name (not NUL-terminated in the payload) or a
       * number. */
      char name[256];
      sb_id agent;
      if (d.agent.kind == 1) {
        memcpy(name, d.agent.name, d.agent.name_length);
        name[d.agent.name_length] = '\0';
        agent = sb_id_name(name);
      } else {
        agent = sb_id_number(d.agent.number);
      }
      ENCODE_AND_SEND(h, SB_REC_OFFER_ACCEPT, 0, sb_encode_offer_accept(e, now_ms(), item, agent));
      break;
    }
    case SB_DECISION_ASSIGNED:
      h->assigned[index]++;
      ENCODE_AND_SEND(h, SB_REC_ITEM_COMPLETE, 0, sb_encode_item_complete(e, now_ms(), item));
      break;
    case SB_DECISION_COMPLETED:
      h->completed[index]++;
      ++h->completed_total;
      break;
    default:
      break;
  }
  return SB_OK;
}

/* Polls and handles until `done(h)` or `seconds` pass. */
static int pump_until(host* h, int (*done)(const host*), double seconds) {
  const double until = mono_s() + seconds;
  while (!done(h)) {
    if (mono_s() > until) return 0;
    sb_message m;
    const int rc = sb_client_poll(h->c, &m);
    if (rc == SB_OK) {
      handle(h, &m);
    } else if (rc == SB_EMPTY) {
      nap_us(200);
    } else {
      fprintf(stderr, "shm_c_host: poll: %s\n", sb_strerror(rc));
      ++g_failures;
      return 0;
    }
  }
  return 1;
}

static int all_completed(const host* h) { return h->completed_total >= h->items; }
static int errors_seen(const host* h) { return h->seen_error[0] > 0 && h->seen_error[1] > 0; }
static int acks_done(const host* h) { return h->ack_next > h->ack_last; }

/* --- phases ----------------------------------------------------------------------------------- */

static void round_trip(host* h, int agents) {
  char names[64][64];
  for (int i = 0; i < agents; ++i) {
    snprintf(names[i], sizeof names[i], "c-%d-agent-%d", (int)getpid(), i);
    ENCODE_AND_SEND(h, SB_REC_AGENT_UPSERT, 0,
                    sb_encode_agent_upsert(e, now_ms(), sb_id_name(names[i]), (int)h->available, 2, NULL, 0));
    ENCODE_AND_SEND(h, SB_REC_JOIN_QUEUE, 0, sb_encode_join_queue(e, now_ms(), sb_id_name(names[i]), h->queue));
  }
  for (int i = 0; i < h->items; ++i) {
    ENCODE_AND_SEND(h, SB_REC_ITEM_ARRIVE, 0,
                    sb_encode_item_arrive(e, now_ms(), sb_id_number(h->item_base + (uint64_t)i), h->queue, NULL, 0));
  }
  CHECK(pump_until(h, all_completed, 30.0), "only %ld of %d items completed", h->completed_total, h->items);
  int once = 0;
  for (int i = 0; i < h->items; ++i) {
    if (h->assigned[i] == 1 && h->completed[i] == 1) {
      ++once;
    } else {
      fprintf(stderr, "shm_c_host: item %d assigned %d times, completed %d times\n", i, h->assigned[i],
              h->completed[i]);
    }
  }
  CHECK(once == h->items, "%d of %d items assigned and completed exactly once", once, h->items);
}

static void errors(host* h) {
  /* A well-formed event the daemon refuses: completing an item it does not know. */
  h->expect_error_seq[0] = h->sequence + 1;
  h->expect_error_code[0] = 3; /* unknown_item */
  ENCODE_AND_SEND(h, SB_REC_ITEM_COMPLETE, 0,
                  sb_encode_item_complete(e, now_ms(), sb_id_name("c-host-no-such-item")));
  /* A record that does not decode: three bytes of an item_complete. */
  const uint8_t garbage[3] = {0xde, 0xad, 0x01};
  const uint64_t seq = ++h->sequence;
  h->expect_error_seq[1] = seq;
  h->expect_error_code[1] = 1; /* malformed_event */
  const int rc = sb_client_send(h->c, SB_REC_ITEM_COMPLETE, 0, seq, garbage, sizeof garbage);
  CHECK(rc == SB_OK, "send garbage: %s", sb_strerror(rc));
  CHECK(pump_until(h, errors_seen, 10.0), "the ERROR records did not come (seen %d, %d)", h->seen_error[0],
        h->seen_error[1]);
  CHECK(h->seen_error[0] == 1 && h->seen_error[1] == 1, "errors seen %d and %d times", h->seen_error[0],
        h->seen_error[1]);
}

static void back_pressure(host* h) {
  const pid_t daemon = (pid_t)sb_client_header(h->c)->daemon_pid;
  CHECK(daemon > 0, "the segment names no daemon pid");
  if (daemon <= 0) return;
  /* Read everything first, so that only our ticks are in flight. */
  sb_message m;
  while (sb_client_poll(h->c, &m) == SB_OK) handle(h, &m);
  g_stopped_daemon = daemon;
  CHECK(kill(daemon, SIGSTOP) == 0, "SIGSTOP the daemon");
  nap_us(20000); /* let it stop */
  uint8_t tick[8];
  sb_encoder e;
  h->ack_first = h->ack_next = h->sequence + 1;
  long sent = 0;
  int rc = SB_OK;
  for (;;) {
    sb_enc_init(&e, tick, sizeof tick);
    sb_encode_tick(&e, now_ms());
    rc = sb_client_send(h->c, SB_REC_TICK, SB_FLAG_ACK, h->sequence + 1, tick, e.size);
    if (rc != SB_OK) break;
    ++h->sequence;
    ++sent;
  }
  CHECK(rc == SB_ERR_FULL, "filling the ring ended with %s", sb_strerror(rc));
  const uint32_t in_capacity = (uint32_t)sb_client_header(h->c)->in_ring_capacity;
  /* The ring was empty, give or take the few records the daemon had not yet read when it
   * stopped and a padding record at the wrap. */
  CHECK(sent <= (long)(in_capacity / 24) && sent >= (long)(in_capacity / 24) * 9 / 10,
        "%ld ticks of 24 bytes filled a %u-byte ring", sent, in_capacity);
  /* Still full: nothing was written. */
  sb_enc_init(&e, tick, sizeof tick);
  sb_encode_tick(&e, now_ms());
  rc = sb_client_send(h->c, SB_REC_TICK, SB_FLAG_ACK, h->sequence + 1, tick, e.size);
  CHECK(rc == SB_ERR_FULL, "a second send into the full ring: %s", sb_strerror(rc));
  resume_daemon();
  /* The refused record goes through once there is room; then every ACK, in order. */
  const double until = mono_s() + 10.0;
  while ((rc = sb_client_send(h->c, SB_REC_TICK, SB_FLAG_ACK, h->sequence + 1, tick, e.size)) == SB_ERR_FULL &&
         mono_s() < until) {
    while (sb_client_poll(h->c, &m) == SB_OK) handle(h, &m);
    nap_us(100);
  }
  CHECK(rc == SB_OK, "retry after the daemon resumed: %s", sb_strerror(rc));
  ++h->sequence;
  h->ack_last = h->sequence;
  CHECK(pump_until(h, acks_done, 20.0), "acks up to %llu of %llu..%llu", (unsigned long long)h->ack_next,
        (unsigned long long)h->ack_first, (unsigned long long)h->ack_last);
  CHECK(h->acks_out_of_order == 0, "%ld acks out of order or repeated", h->acks_out_of_order);
  printf("back-pressure: %ld records filled the ring; %llu acknowledged in order\n", sent,
         (unsigned long long)(h->ack_last - h->ack_first + 1));
}

static void leave(host* h, int agents) {
  for (int i = 0; i < agents; ++i) {
    char name[64];
    snprintf(name, sizeof name, "c-%d-agent-%d", (int)getpid(), i);
    ENCODE_AND_SEND(h, SB_REC_LEAVE_QUEUE, 0, sb_encode_leave_queue(e, now_ms(), sb_id_name(name), h->queue));
    ENCODE_AND_SEND(h, SB_REC_AGENT_REMOVE, SB_FLAG_ACK, sb_encode_agent_remove(e, now_ms(), sb_id_name(name)));
    h->ack_next = h->sequence;  /* each remove is acknowledged in turn */
    h->ack_last = h->sequence;
    CHECK(pump_until(h, acks_done, 10.0), "agent %s was not removed", name);
  }
}

static void usage(void) {
  fprintf(stderr, "usage: shm_c_host --name /SEGMENT [--agents N (1-64)] [--items N] [--queue NAME] [--no-stop]\n");
}

int main(int argc, char** argv) {
  const char* name = NULL;
  const char* queue = "VIP Chat";
  int agents = 4;
  int items = 200;
  int stop_daemon = 1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
      name = argv[++i];
    } else if (strcmp(argv[i], "--agents") == 0 && i + 1 < argc) {
      agents = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--items") == 0 && i + 1 < argc) {
      items = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--queue") == 0 && i + 1 < argc) {
      queue = argv[++i];
    } else if (strcmp(argv[i], "--no-stop") == 0) {
      stop_daemon = 0;
    } else {
      usage();
      return 2;
    }
  }
  if (name == NULL || agents < 1 || agents > 64 || items < 0) {
    usage();
    return 2;
  }
  atexit(resume_daemon);

  host h;
  memset(&h, 0, sizeof h);
  int rc = sb_client_attach(name, SB_ATTACH_DECISIONS, 5000, &h.c);
  if (rc != SB_OK) {
    fprintf(stderr, "shm_c_host: attach %s: %s\n", name, sb_strerror(rc));
    return 2;
  }
  CHECK(sb_client_lookup(h.c, SB_DIR_QUEUE, queue, &h.queue) == SB_OK, "queue %s is not in the directory", queue);
  CHECK(sb_client_lookup(h.c, SB_DIR_PRESENCE, "available", &h.available) == SB_OK, "no presence 'available'");
  if (g_failures != 0) {
    sb_client_detach(h.c, 2000);
    return 1;
  }
  h.items = items;
  h.item_base = (uint64_t)getpid() << 32;
  h.assigned = (int*)calloc((size_t)items + 1, sizeof(int));
  h.completed = (int*)calloc((size_t)items + 1, sizeof(int));

  round_trip(&h, agents);
  errors(&h);
  if (stop_daemon) back_pressure(&h);
  leave(&h, agents);
  CHECK(h.errors == 0, "%ld unexpected errors", h.errors);
  CHECK(sb_client_daemon_alive(h.c) == SB_OK, "the daemon is not alive at the end");

  rc = sb_client_detach(h.c, 5000);
  CHECK(rc == SB_OK, "detach: %s", sb_strerror(rc));
  printf("items sent=%d offered=%ld completed=%ld unexpected errors=%ld; %s\n", items, h.offered,
         h.completed_total, h.errors, g_failures == 0 ? "all checks passed" : "FAILED");
  free(h.assigned);
  free(h.completed);
  return g_failures == 0 ? 0 : 1;
}
