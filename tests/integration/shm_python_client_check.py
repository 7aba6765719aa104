#!/usr/bin/env python3
"""Checks of the Python client (adapters/shm/python/switchboard_shm.py) against a running
switchboardd with docs/examples/contact-center.toml, started by run_shm_host.sh with
--heartbeat-ms 100 --stuck-timeout-ms 200:

  1. the directory, an ACK, a refused event and a malformed record (ERRORs with their sequence);
  2. back-pressure: with the daemon stopped (SIGSTOP), ticks fill the ring until RingFull; once it
     runs again every tick is acknowledged once, in order, and the refused one goes through;
  3. a silent daemon: daemon_alive() is False after 5 missed heartbeats, True once it runs;
  4. a stuck record (claimed, never committed): NOTICE, then SlotReset; reattach() recovers;
  5. every event type decodes in the daemon (an ACK, or an ERROR other than malformed_event);
  6. detach.

Exit status 0 when every check passed.
"""

import argparse
import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "adapters", "shm", "python"))
import switchboard_shm as sb  # noqa: E402

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print(f"shm_python_client_check: check failed: {what}", file=sys.stderr)


def poll_until(client, want, seconds=10.0):
    """Records until `want(records)` or the time is up."""
    out = []
    until = time.monotonic() + seconds
    while not want(out) and time.monotonic() < until:
        r = client.poll()
        if r is None:
            time.sleep(0.0005)
        else:
            out.append(r)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    args = parser.parse_args()
    client = sb.Client.attach(args.name, decisions=False, timeout=5.0)
    daemon_pid = struct.unpack_from("<I", client._mv, 60)[0]
    stopped = False

    def resume():
        nonlocal stopped
        if stopped:
            os.kill(daemon_pid, signal.SIGCONT)
            stopped = False

    try:
        # 1. Directory, ACK, errors.
        d = client.directory
        check(d.queues[:2] == ("VIP Chat", "Order Support"), f"queues {d.queues}")
        check(d.presence("available") == 0 and "lunch" in d.presences, f"presences {d.presences}")
        check(d.skill("billing") == 2, f"skills {d.skills}")
        check(d.profile("voice") == d.profiles.index("voice"), "profiles")
        try:
            d.queue("No Such Queue")
            check(False, "an unknown queue name was found")
        except KeyError:
            pass
        seq = client.send_agent_upsert("py-check-agent", presence="available", capacity={"units": 2},
                                       skills={"billing": 3}, attributes={"tier": 1, "country": "US"},
                                       working=True, shifts=[(0, 10**12)], ack=True)
        refused = client.send_item_complete("py-check-no-such-item")
        malformed = client.send_raw(sb.ITEM_COMPLETE, b"\x01\x02\x03")
        records = poll_until(client, lambda rs: len(rs) >= 3)
        check(len(records) == 3, f"3 records, got {records}")
        if len(records) == 3:
            ack, e1, e2 = records
            check(isinstance(ack, sb.Ack) and ack.sequence == seq, f"ack {ack}")
            check(isinstance(e1, sb.ErrorRecord) and e1.sequence == refused and e1.code_name == "unknown_item"
                  and e1.record_type == sb.ITEM_COMPLETE, f"error {e1}")
            check(isinstance(e2, sb.ErrorRecord) and e2.sequence == malformed and e2.code_name == "malformed_event",
                  f"error {e2}")
        try:
            client.send_raw(sb.TICK, b"\0" * client.max_payload + b"\0")
            check(False, "a record over max_record_size was sent")
        except sb.RecordTooBig:
            pass

        # 2. Back-pressure.
        os.kill(daemon_pid, signal.SIGSTOP)
        stopped = True
        time.sleep(0.02)
        first = client.sequence + 1
        sent = 0
        try:
            while True:
                client.send_tick(ack=True)
                sent += 1
        except sb.RingFull:
            pass  # nothing written, no sequence number used
        capacity = client._in.capacity
        check(capacity // 24 * 9 // 10 <= sent <= capacity // 24, f"{sent} ticks filled {capacity} bytes")
        try:
            client.send_tick(ack=True, sequence=client.sequence + 1)
            check(False, "a full ring took a record")
        except sb.RingFull:
            pass
        resume()
        until = time.monotonic() + 10
        while True:
            try:
                client.send_tick(ack=True)
                break
            except sb.RingFull:
                if time.monotonic() > until:
                    check(False, "the ring stayed full after the daemon resumed")
                    break
                client.poll_all()  # nothing is expected yet besides acks: keep them below
                time.sleep(0.0002)
        last = client.sequence
        acks = poll_until(client, lambda rs: bool(rs) and rs[-1].sequence >= last, 20.0)
        sequences = [a.sequence for a in acks if isinstance(a, sb.Ack)]
        # Acks the retry loop consumed are not in `acks`; the rest must be consecutive and end at
        # the last one.
        check(sequences and sequences == list(range(sequences[0], last + 1)) and sequences[0] >= first,
              f"acks {sequences[:3]}..{sequences[-3:]} for {first}..{last}")
        print(f"back-pressure: {sent} ticks filled the ring; acks up to {last}")

        # 3. A silent daemon.
        os.kill(daemon_pid, signal.SIGSTOP)
        stopped = True
        check(client.daemon_alive(), "alive right after SIGSTOP")
        time.sleep(0.8)  # > 5 x 100 ms
        check(not client.daemon_alive(), "alive after 800 ms without a heartbeat")
        resume()
        until = time.monotonic() + 5
        while not client.daemon_alive() and time.monotonic() < until:
            time.sleep(0.01)
        check(client.daemon_alive(), "not alive again after SIGCONT")

        # 4. A stuck record: claimed (commit without its bit, tail published) and never committed.
        ring = client._in
        while (ring.own & ring.mask) + 24 > ring.capacity:
            client.send_tick()  # so that the stuck record needs no padding before it
        at = ring.data + (ring.own & ring.mask)
        client._i[at // 4] = 24
        ring.own += 24
        client._q[ring.tail_word] = ring.own
        generation = client.slot_generation
        seen = []
        reset = False
        until = time.monotonic() + 5
        while time.monotonic() < until:
            try:
                r = client.poll()
            except sb.SlotReset:
                reset = True
                break
            if r is None:
                time.sleep(0.001)
            else:
                seen.append(r)
        check(reset, "no SlotReset after a stuck record")
        check(any(isinstance(r, sb.Notice) and r.code == 1 for r in seen), f"no ring-reset notice in {seen}")
        check(client.slot_reset(), "slot_reset() is False after a reset")
        try:
            client.send_tick()
            check(False, "a reset slot took a record")
        except sb.SlotReset:
            pass
        client.reattach()
        check(client.slot_generation != generation, "the generation did not change")
        seq = client.send_tick(ack=True)
        acks = poll_until(client, lambda rs: any(isinstance(r, sb.Ack) for r in rs))
        check([a.sequence for a in acks if isinstance(a, sb.Ack)] == [seq], f"ack after reattach {acks}")
        stats = client.stats()
        check(stats["stuck_resets"] >= 0 and len(stats["queue_depths"]) == len(d.queues), f"stats {stats}")

        # 5. Every event type: the daemon decodes each (an ACK, or an ERROR that is not
        # malformed_event).
        a, item = "py-check-agent", "py-check-item"
        now = int(time.time() * 1000)
        sent = {
            client.send_presence_change(a, "lunch", ack=True): "presence_change",
            client.send_capacity_change(a, {"units": 3, "profiles": {"voice": 1}}, ack=True): "capacity_change",
            client.send_join_queue(a, "Tech Support", ack=True): "join_queue",
            client.send_item_arrive(item, "Tech Support", created=now - 5000, last_message=now - 1000,
                                    attributes={"priority": "High", "customer.membership_level": "gold"},
                                    skills={"tech": 1, "billing": None}, units=1, affinity_agent=a,
                                    ack=True): "item_arrive",
            client.send_item_update(item, {"priority": None, "tag": "x"}, last_message=now, ack=True): "item_update",
            client.send_offer_accept(item, a, ack=True): "offer_accept",
            client.send_offer_decline(item, a, ack=True): "offer_decline",
            client.send_offer_timeout(item, a, ack=True): "offer_timeout",
            client.send_item_transfer(item, "Returns Email", ack=True): "item_transfer",
            client.send_manual_assign(item, 9004, ack=True): "manual_assign",
            client.send_item_complete(item, ack=True): "item_complete",
            client.send_agent_pick("py-check-other", a, ack=True): "agent_pick",
            client.send_item_cancel("py-check-other", ack=True): "item_cancel",
            client.send_leave_queue(a, "Tech Support", ack=True): "leave_queue",
            client.send_tick(ack=True): "tick",
            client.send_agent_remove(a, ack=True): "agent_remove",
        }
        answers = poll_until(client, lambda rs: len(rs) >= len(sent))
        by_seq = {}
        for r in answers:
            if isinstance(r, (sb.Ack, sb.ErrorRecord)):
                by_seq.setdefault(r.sequence, []).append(r)
        for seq, what in sent.items():
            got = by_seq.get(seq, [])
            check(len(got) == 1, f"{what}: {len(got)} answers")
            if got and isinstance(got[0], sb.ErrorRecord):
                check(got[0].code_name != "malformed_event", f"{what}: {got[0].message}")
        acked = sorted(w for s, w in sent.items() if by_seq.get(s) and isinstance(by_seq[s][0], sb.Ack))
        print(f"every event: {len(acked)} of {len(sent)} applied ({', '.join(acked)})")
    finally:
        resume()
    # 6. Detach.
    client.detach()
    print("shm_python_client_check: " + ("all checks passed" if failures == 0 else f"{failures} FAILED"))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
