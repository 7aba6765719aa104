#!/usr/bin/env python3
"""An example host for switchboardd, written with the Python client (switchboard_shm.py).

It expects a daemon started with the bundled configuration:

    switchboardd --config docs/examples/contact-center.toml --name /switchboard &
    python3 adapters/shm/python/example_host.py --name /switchboard --agents 4 --items 50

and plays a small contact center against it: reads the directory, registers --agents agents
(available, 2 chat units, members of --queue), sends --items chats to that queue, accepts every
offer of its items it receives (whichever agent it went to: the configuration's own agents are in
the queue too), completes every item once it is assigned, then removes its agents again. It
prints a summary and exits 0 only if every item was assigned exactly once and completed, and no
record was refused.

Ids carry the process id, so several runs (or hosts) can share one daemon.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import switchboard_shm as sb  # noqa: E402


class Host:
    def __init__(self, client: sb.Client, queue: str, verbose: bool) -> None:
        self.client = client
        self.queue = queue
        self.verbose = verbose
        self.prefix = f"py-{os.getpid()}"
        self.items: list = []
        self.offered = 0
        self.assigned: collections.Counter = collections.Counter()
        self.completed: set = set()
        self.errors: list = []
        self.acked: set = set()
        self.other = collections.Counter()  # decisions of other kinds about our items

    def send(self, method, *args, **kwargs) -> int:
        """Sends, answering back-pressure by reading what the daemon wrote (it stops reading
        while our outbound ring is full) and retrying."""
        while True:
            try:
                return method(*args, **kwargs)
            except sb.RingFull:
                if not self.drain():
                    time.sleep(0.0002)

    def drain(self) -> int:
        """Handles every record there is now; returns how many."""
        n = 0
        while True:
            record = self.client.poll()
            if record is None:
                return n
            n += 1
            self.handle(record)

    def handle(self, record) -> None:
        if isinstance(record, sb.ErrorRecord):
            self.errors.append(record)
            print(f"error: seq {record.sequence} {record.code_name}: {record.message}", file=sys.stderr)
            return
        if isinstance(record, sb.Ack):
            self.acked.add(record.sequence)
            return
        if isinstance(record, sb.Notice):
            print(f"notice {record.code}: {record.message}", file=sys.stderr)
            return
        if not isinstance(record, sb.Decision):
            return
        item = record.item
        if not (isinstance(item, str) and item.startswith(self.prefix + "-item-")):
            return  # another host's item
        if self.verbose:
            print(f"decision {record.sequence}: {record.kind} {item} agent={record.agent} by={record.decided_by}")
        if record.kind == "offer":
            self.offered += 1
            self.send(self.client.send_offer_accept, item, record.agent)
        elif record.kind == "assigned":
            self.assigned[item] += 1
            self.send(self.client.send_item_complete, item)
        elif record.kind == "completed":
            self.completed.add(item)
        else:
            self.other[record.kind] += 1

    def run(self, agents: int, items: int, timeout: float) -> bool:
        c = self.client
        queue = c.directory.queue(self.queue)  # KeyError names the declared queues
        available = c.directory.presence("available")
        agent_ids = [f"{self.prefix}-agent-{i}" for i in range(agents)]
        for agent in agent_ids:
            self.send(c.send_agent_upsert, agent, presence=available, capacity=2)
            self.send(c.send_join_queue, agent, queue)
        self.items = [f"{self.prefix}-item-{i}" for i in range(items)]
        for item in self.items:
            self.send(c.send_item_arrive, item, queue)
            self.drain()
        deadline = time.monotonic() + timeout
        while len(self.completed) < len(self.items) and time.monotonic() < deadline:
            if not self.drain():
                time.sleep(0.0005)
        # Leave as we came: our agents leave the queue and go. The last one asks for an ACK,
        # so that we know the daemon has applied everything we sent.
        last = None
        for agent in agent_ids:
            self.send(c.send_leave_queue, agent, queue)
            last = self.send(c.send_agent_remove, agent, ack=agent == agent_ids[-1])
        while last is not None and last not in self.acked and time.monotonic() < deadline + 5:
            if not self.drain():
                time.sleep(0.0005)
        return self.ok()

    def ok(self) -> bool:
        once = all(self.assigned[item] == 1 for item in self.items)
        return once and len(self.completed) == len(self.items) and not self.errors

    def summary(self) -> str:
        twice = sum(1 for item in self.items if self.assigned[item] > 1)
        never = sum(1 for item in self.items if self.assigned[item] == 0)
        line = (f"items sent={len(self.items)} offered={self.offered} "
                f"assigned={sum(self.assigned.values())} completed={len(self.completed)} "
                f"errors={len(self.errors)}")
        if twice or never:
            line += f" (assigned twice: {twice}, never: {never})"
        if self.other:
            line += " other: " + ", ".join(f"{k}={v}" for k, v in sorted(self.other.items()))
        return line


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="/switchboard", help="the daemon's segment (default /switchboard)")
    parser.add_argument("--agents", type=int, default=4, help="agents to register (default 4)")
    parser.add_argument("--items", type=int, default=20, help="chats to route (default 20)")
    parser.add_argument("--queue", default="VIP Chat", help="queue of contact-center.toml (default 'VIP Chat')")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the work to finish")
    parser.add_argument("--attach-timeout", type=float, default=5.0,
                        help="seconds to wait for the daemon's segment")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every decision about our items")
    args = parser.parse_args(argv)
    if args.agents < 0 or args.items < 0:
        parser.error("--agents and --items are >= 0")

    try:
        client = sb.Client.attach(args.name, decisions=True, timeout=args.attach_timeout)
    except sb.SwitchboardError as e:
        print(f"example_host: cannot attach to {args.name}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    host = Host(client, args.queue, args.verbose)
    try:
        ok = host.run(args.agents, args.items, args.timeout)
    except (sb.DaemonGone, sb.SlotReset) as e:
        print(f"example_host: {type(e).__name__}: {e}", file=sys.stderr)
        ok = False
    except KeyError as e:
        print(f"example_host: {e.args[0]}", file=sys.stderr)
        client.detach()
        return 2
    try:
        client.detach()
    except sb.SwitchboardError as e:
        print(f"example_host: detach: {type(e).__name__}: {e}", file=sys.stderr)
    print(host.summary())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
