#!/usr/bin/env python3
"""Writes the seeds of switchboard_shm_ring_framing_fuzz (tests/fuzz/shm_ring_framing_fuzz.cpp
says what the bytes mean) into tests/fuzz/corpus/shm_ring_framing/. The event payloads are the
shm_record_decode seeds (written by shm::encode_*), framed as docs/protocol.md's records.

    tests/fuzz/make_ring_framing_seeds.py
"""
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
PAYLOADS = HERE / "corpus" / "shm_record_decode"
OUT = HERE / "corpus" / "shm_ring_framing"
COMMITTED = 0x80000000
PADDING = 0xFFFF


def payload(name):
    raw = (PAYLOADS / f"{name}.bin").read_bytes()
    return struct.unpack_from("<H", raw)[0], raw[2:]


def record(rtype, seq, body, flags=1, committed=True):
    length = 16 + len(body)
    rec = struct.pack("<IHHQ", length | (COMMITTED if committed else 0), rtype, flags, seq) + body
    return rec + bytes(-len(rec) % 8)


def padding(size):
    return struct.pack("<IHH", size | COMMITTED, PADDING, 0) + bytes(size - 8)


def item_arrive_plain(item, queue):
    # time, id kind 0 + u64, queue, no created, no last_message, no attributes, no skills,
    # no units, no affinity agent
    return struct.pack("<qBQI", 1000, 0, item, queue) + bytes([0, 0]) + b"\0\0" + b"\0\0" + bytes([0, 0])


def reader(capacity_log, max_byte, head, data, tail=None, raw_tail=False):
    """Reader mode: capacity 64 << capacity_log; `data` is the ring's data from offset 0; tail =
    head + len(data) unless given (head + tail, or tail itself with raw_tail)."""
    delta = len(data) if tail is None else tail
    prefix = bytes([capacity_log, max_byte, 1 if raw_tail else 0]) + struct.pack("<Q", head)
    prefix += struct.pack("<Q", delta) if raw_tail else struct.pack("<H", delta) + bytes(6)
    return prefix + data


def writer(capacity_log, max_byte, start, ops):
    return bytes([0x80 | capacity_log, max_byte]) + struct.pack("<Q", start) + bytes(ops)


def main():
    OUT.mkdir(exist_ok=True)
    seeds = {}
    events = ["agent_upsert", "agent_remove", "presence_change", "capacity_change", "join_queue",
              "leave_queue", "item_arrive", "item_update", "item_cancel", "item_transfer",
              "item_complete", "offer_accept", "offer_decline", "offer_timeout", "manual_assign",
              "agent_pick", "tick"]
    # Every event type, one after another from head 0 (capacity 4096, max record 1036).
    ring = b"".join(record(*payload(name)[:1], seq, payload(name)[1]) for seq, name in enumerate(events, 1))
    seeds["every_event.bin"] = reader(6, 255, 0, ring)
    # A padding record to the end of the data, then records from offset 0 (capacity 256, head at
    # offset 192 of its 6th lap).
    tick_type, tick = payload("tick")
    front = record(tick_type, 1, tick) + record(*payload("join_queue")[:1], 2, payload("join_queue")[1])
    data = front + bytes(192 - len(front)) + padding(64)
    seeds["wraps_with_padding.bin"] = reader(2, 60, 256 * 5 + 192, data, tail=64 + len(front))
    # Two committed ticks, then one in progress (a host killed mid-record).
    data = record(tick_type, 1, tick) + record(tick_type, 2, tick) + record(tick_type, 3, tick[:4] + bytes(4), committed=False)
    seeds["in_progress.bin"] = reader(3, 100, 4096 * 3, data)
    # The same event slots reused (sequences equal modulo 4) by smaller events of the same type,
    # and by other types: an in-place decode must not keep what the earlier one held.
    arrive_type, arrive = payload("item_arrive")
    upsert_type, upsert = payload("agent_upsert")
    data = (record(arrive_type, 0, arrive) + record(upsert_type, 1, upsert) +
            record(arrive_type, 4, item_arrive_plain(7, 0)) + record(tick_type, 5, tick) +
            record(upsert_type, 8, struct.pack("<qBQ", 5, 0, 3) + bytes(6)) + record(arrive_type, 9, arrive))
    seeds["reused_events.bin"] = reader(6, 255, 64, bytes(64) + data, tail=len(data))
    # Outbound types and padding where an event is expected, a truncated payload, bytes left
    # over.
    decision_type, decision = payload("decision")
    data = (record(decision_type, 1, decision) + record(arrive_type, 2, arrive[:-3]) +
            record(tick_type, 3, tick + b"\x01") + record(PADDING, 4, b""))
    seeds["refused_records.bin"] = reader(5, 200, 0, data)
    # A tail further ahead than the ring holds; a tail behind head.
    seeds["tail_too_far.bin"] = reader(1, 20, 0, record(tick_type, 1, tick), tail=129)
    seeds["tail_behind_head.bin"] = reader(1, 20, 4096, record(tick_type, 1, tick), tail=4000, raw_tail=True)
    # A length over max_record, and one past the end of the data.
    data = struct.pack("<IHHQ", 200 | COMMITTED, tick_type, 0, 1) + bytes(184)
    seeds["over_max_record.bin"] = reader(2, 10, 0, data)
    seeds["past_the_end.bin"] = reader(1, 20, 120, bytes(120) + struct.pack("<IHHQ", 24 | COMMITTED, tick_type, 0, 1),
                                      tail=24)

    # Writer and reader: wrapping writes and reads (capacity 256, start at offset 200).
    seeds["writer_wraps.bin"] = writer(2, 60, (1 << 40) + 200, [3, 10, 0x81, 20, 0x81, 5, 0x81, 0x81, 40, 0x80, 0xC0, 0x81])
    # Unpublished writes (as the daemon batches its outbound records), then publish.
    seeds["writer_unpublished.bin"] = writer(3, 120, 64, [0x42, 0x45, 0x81, 0x4A, 0xC0, 0x81, 0x81, 0x81, 0x00, 0x81])
    # Fill until FULL, read without publishing (still FULL), publish, write again; TOO_BIG.
    seeds["writer_full.bin"] = writer(0, 12, 8, [2, 2, 2, 2, 2, 0x80, 2, 0x81, 2, 0x3F, 0x81, 0x81])
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    main()
