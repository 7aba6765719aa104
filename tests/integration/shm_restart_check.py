#!/usr/bin/env python3
"""Issue 4: switchboardd killed with SIGKILL under load; the host notices, the daemon is
restarted, the host resyncs (docs/protocol.md, "Resync") and checks against its own ledger that
no item was lost and none assigned twice.

    shm_restart_check.py --daemon build/bin/switchboardd --config docs/examples/contact-center.toml

The script plays two parts. As the operator it starts switchboardd on a segment name of its own,
kills it with SIGKILL at random points of the load (seeded: the seed is printed, --seed replays
the schedule) and restarts it once the process is gone, like a supervisor would: either at once
or only after the host has noticed. As the host (the Python client) it never uses what the
operator knows: it notices the death from the segment (heartbeat stale, or another generation at
the name), waits for the new segment, reattaches and resyncs from its ledger.

The load: the host's own agents plus the configuration's agents (the host knows those from the
configuration file it shares with the daemon) in five queues; bursts of item arrivals; every
offer answered after a short delay (mostly accepted, a first offer sometimes declined); assigned
items completed after some work; waiting items sometimes cancelled, transferred or updated;
presence changes. Every step goes into the ledger before it is sent, so the ledger is what the
host said, whether or not the daemon lived to apply it.

Checks, each failure naming the item and what happened:
  - every decision is about an item the ledger knows, and agrees with it: an offer only of a
    waiting item, never of one offered, assigned or completed (I2); `assigned` only after the
    host accepted that offer, or as the manual assignment of the resync (R15), once per daemon;
    `requeued`, `cancelled`, `completed`, `transferred` only after the host's own record;
  - no record is refused (every ERROR is a violation), in the load or in the resync;
  - after the load every item ends completed or cancelled (a waiting item the resync forgot is
    never offered again: lost), and the last daemon holds no live item and exactly the agents
    the host knows.

Exit status: 0 when every check passed, 1 on a violation, 2 on bad usage, 77 when the checks
cannot run here (Python without tomllib, to read the configuration).

--sabotage breaks the host's resync on purpose, to see the checks catch it: skip-waiting (waiting
items are not sent again), skip-assigned (assigned items are not restored), keep-config-queues
(the configuration's agents stay in their queues during the resync), double-assign (a restored
item is assigned a second time).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import heapq
import itertools
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "adapters", "shm", "python"))
import switchboard_shm as sb  # noqa: E402

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

# Queues of contact-center.toml on channels without wrap-up or shifts (Phone Sales has both),
# weighted by the capacity of their members so that each one sees queues form in the bursts.
QUEUES = {"VIP Chat": 1.0, "Order Support": 2.0, "Tech Support": 1.2, "Billing Messaging": 1.8,
          "Returns Email": 2.5}
MESSAGING = "Billing Messaging"  # ordered by the customer's last message (R8)
OWN_AGENTS = 6
OWN_CAPACITY = 3


def mono() -> float:
    return time.monotonic()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Violation(Exception):
    """A check failed in a way that stops the run (the rest are collected and reported)."""


class Outage(Exception):
    """The daemon looked gone while the host was sending."""


@dataclasses.dataclass
class Agent:
    id: sb.Id
    presence: str
    queues: List[str]
    configured: bool  # declared by the configuration: back as configured after a restart
    configured_presence: str = ""
    configured_queues: Tuple[str, ...] = ()
    capacity: int = OWN_CAPACITY  # units; every item of these queues takes one
    load: int = 0  # items the ledger has offered to it or assigned to it


@dataclasses.dataclass
class Item:
    id: str
    queue: str
    created: int
    last_message: int
    attributes: Dict[str, Any]
    skills: Dict[str, Optional[int]]
    affinity: Optional[sb.Id]
    # The host's word: waiting (queued or parked at the host's knowledge), offered (an offer the
    # host holds and has not answered), assigned, completed, cancelled.
    state: str = "waiting"
    agent: Optional[sb.Id] = None
    due: float = 0.0  # when the held offer is answered, or the assigned work is done
    answer: str = ""  # accept or decline, chosen when the offer came
    declines: int = 0
    transfer_to: Optional[str] = None  # a transfer sent, its `transferred` not seen yet
    history: List[str] = dataclasses.field(default_factory=list)

    def order_time(self) -> int:
        return self.last_message if self.queue == MESSAGING else self.created


class Daemon:
    """The operator's side: starts, kills and restarts switchboardd."""

    def __init__(self, path: str, config: str, name: str, heartbeat_ms: float) -> None:
        self.path, self.config, self.name, self.heartbeat_ms = path, config, name, heartbeat_ms
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc: Optional[subprocess.Popen] = None
        self.killed = False  # we sent SIGKILL to the running process
        self.starts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen([self.path, "--config", self.config, "--name", self.name,
                                      "--heartbeat-ms", str(self.heartbeat_ms)],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.killed = False
        self.starts += 1

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.killed = True

    def restart_if_dead(self) -> Optional[str]:
        """A supervisor's step: restarts a daemon whose process is gone (reaped first, so that
        the new daemon sees its pid gone). Returns a complaint when it died without our kill."""
        assert self.proc is not None
        rc = self.proc.poll()
        if rc is None:
            return None
        complaint = None if self.killed and rc == -signal.SIGKILL else f"switchboardd exited by itself with status {rc}"
        self.start()
        return complaint

    def stop(self) -> List[str]:
        """SIGTERM, then what went wrong: a bad exit status, a segment left behind."""
        problems = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
            if rc != 0:
                problems.append(f"switchboardd exited with status {rc} after SIGTERM")
        if os.path.exists("/dev/shm" + self.name):
            problems.append(f"switchboardd left its segment /dev/shm{self.name} behind")
        return problems

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            os.unlink("/dev/shm" + self.name)
        except OSError:
            pass

    def log_text(self) -> str:
        self.log.seek(0)
        return self.log.read()


class Host:
    def __init__(self, args: argparse.Namespace, rng: random.Random, daemon: Daemon,
                 config_agents: List[Agent]) -> None:
        self.args, self.rng, self.daemon = args, rng, daemon
        self.name = daemon.name
        self.client: Optional[sb.Client] = None
        self.agents: Dict[sb.Id, Agent] = {a.id: a for a in config_agents}
        self.items: Dict[str, Item] = {}
        self.violations: List[str] = []
        self.inbox: collections.deque = collections.deque()
        self.sent: Dict[int, str] = {}  # host sequence -> what it was, for ERROR messages
        # The current daemon ("generation index": 0 for the first, +1 per restart) and what the
        # host expects it to confirm: item -> agent (or queue) of a record sent to it.
        self.gen = 0
        self.expect: Dict[str, Dict[str, Any]] = {}
        self.view: Dict[str, Tuple[str, Any]] = {}  # the current daemon's word on each item
        self.void = False  # reading the ring of a daemon known to be gone: its offers are void
        self.stats = collections.Counter()
        self.kills: List[str] = []
        self.timers: List[Tuple[float, int, str, str]] = []  # (due, tie, item, state it is due in)
        self.tie = itertools.count()

    # -- recording -------------------------------------------------------------------------------

    def violation(self, item: Optional[str], what: str) -> None:
        where = f"item {item}: " if item is not None else ""
        line = f"daemon #{self.gen}: {where}{what}"
        if item is not None and item in self.items:
            line += "\n    history: " + "; ".join(self.items[item].history[-12:])
        self.violations.append(line)
        if len(self.violations) >= 20:
            raise Violation("20 violations, stopping")

    def schedule(self, item: Item, delay: float) -> None:
        item.due = mono() + delay
        heapq.heappush(self.timers, (item.due, next(self.tie), item.id, item.state))

    def note(self, item: Item, text: str) -> None:
        item.history.append(f"#{self.gen} {text}")

    def reset_expectations(self) -> None:
        self.expect = {k: {} for k in ("accept", "decline", "cancel", "complete", "transfer", "manual")}
        self.view = {}

    # -- sending ---------------------------------------------------------------------------------

    def send(self, what: str, method: Callable, *args: Any, **kwargs: Any) -> int:
        """Sends one record; on back-pressure reads what the daemon wrote (into the inbox) and
        retries. A daemon that looks gone raises Outage: the ledger already says what was meant."""
        assert self.client is not None
        until = mono() + 10
        while True:
            try:
                seq = method(*args, **kwargs)
                self.sent[seq] = what
                self.stats["records sent"] += 1
                return seq
            except sb.RingFull:
                if not self.read_into_inbox():
                    if mono() > until:
                        raise Violation(f"the inbound ring stayed full for 10 s sending {what}")
                    time.sleep(0.0002)
            except sb.DaemonGone:
                raise Outage("send") from None

    def read_into_inbox(self) -> int:
        assert self.client is not None
        n = 0
        try:
            while True:
                record = self.client.poll()
                if record is None:
                    return n
                self.inbox.append((self.gen, record))
                n += 1
        except sb.DaemonGone:
            raise Outage("poll") from None

    # -- decisions -------------------------------------------------------------------------------

    def handle(self, gen: int, record: Any) -> None:
        if gen != self.gen:
            return  # read before a restart the host has since resynced from: nothing to confirm
        if isinstance(record, sb.ErrorRecord):
            what = self.sent.get(record.sequence, f"record {record.sequence}")
            item = next((w for w in what.split() if w in self.items), None)
            self.violation(item, f"refused {what}: {record.code_name}: {record.message}")
            return
        if isinstance(record, sb.Notice):
            self.violation(None, f"notice {record.code}: {record.message}")
            return
        if not isinstance(record, sb.Decision):
            return
        self.stats["decisions"] += 1
        key = record.item
        item = self.items.get(key) if isinstance(key, str) else None
        if item is None:
            self.violation(str(key), f"{record.kind} decision about an item the ledger does not know")
            return
        kind, agent = record.kind, record.agent
        if agent is not None and agent not in self.agents:
            self.violation(item.id, f"{kind} names agent {agent!r}, whom the host does not know")
            return
        self.note(item, f"{kind}{'' if agent is None else ' ' + str(agent)}{' (void)' if self.void else ''}")
        seen = self.view.get(item.id)
        if kind == "offer":
            if seen is not None and seen[0] in ("offered", "assigned"):
                self.violation(item.id, f"offered to {agent} while {seen[0]} to {seen[1]} (I2)")
            self.view[item.id] = ("offered", agent)
            if item.state in ("assigned", "completed"):
                self.violation(item.id, f"offered to {agent}, but the host has it {item.state} "
                                        f"({item.agent}): assigned twice (I2)")
            elif item.state == "offered":
                self.violation(item.id, f"offered to {agent} while the host holds its offer to {item.agent} (I2)")
            elif item.state == "cancelled" or item.transfer_to is not None or self.void:
                self.stats["offers withdrawn or void"] += 1  # the host's cancel or transfer is on its way
            else:
                item.state, item.agent = "offered", agent
                holder = self.agents[agent]
                holder.load += 1
                if holder.load > holder.capacity:  # the daemon has at least the ledger's load
                    self.violation(item.id, f"offered to {agent}, who then holds {holder.load} items "
                                            f"with capacity {holder.capacity} (I1)")
                self.schedule(item, self.rng.uniform(0.0, 0.03))
                decline = item.declines == 0 and self.rng.random() < 0.15
                item.answer = "decline" if decline else "accept"
        elif kind == "assigned":
            if seen is not None and seen[0] == "assigned":
                self.violation(item.id, f"assigned to {agent} while already assigned to {seen[1]} (I2)")
            self.view[item.id] = ("assigned", agent)
            if record.decided_by == "accepted":
                if self.expect["accept"].pop(item.id, None) != agent:
                    self.violation(item.id, f"assigned to {agent} (accepted) without the host's accept")
            elif record.decided_by == "manual":
                if self.expect["manual"].pop(item.id, None) != agent:
                    self.violation(item.id, f"assigned to {agent} by hand, but the resync restored it to "
                                            f"{item.agent if item.state == 'assigned' else 'nobody'}")
            else:
                self.violation(item.id, f"assigned to {agent} by {record.decided_by}: the host never asked")
        elif kind == "requeued":
            self.view[item.id] = ("queued", None)
            if self.expect["decline"].pop(item.id, None) != agent:
                self.violation(item.id, f"requeued from {agent} ({record.reason}) without the host's decline")
        elif kind == "completed":
            self.view.pop(item.id, None)
            if self.expect["complete"].pop(item.id, None) != agent:
                self.violation(item.id, f"completed by {agent} without the host's completion")
        elif kind == "cancelled":
            self.view.pop(item.id, None)
            if self.expect["cancel"].pop(item.id, False) is False:
                self.violation(item.id, "cancelled without the host's cancel")
        elif kind == "transferred":
            self.view[item.id] = ("queued", None)
            queue = self.client.directory.queues[record.queue] if self.client else record.queue
            if self.expect["transfer"].pop(item.id, None) != queue:
                self.violation(item.id, f"transferred to {queue} without the host's transfer")
            if item.transfer_to == queue:
                item.transfer_to = None
        else:  # parked: the host declines each item at most once, far from 100 decliners
            self.violation(item.id, f"unexpected {kind}")

    def handle_inbox(self) -> int:
        n = 0
        while self.inbox:
            gen, record = self.inbox.popleft()
            self.handle(gen, record)
            n += 1
        return n

    # -- the host's own steps (ledger first, then the record) -----------------------------------

    def arrive(self, item: Item, what: str = "item_arrive") -> None:
        assert self.client is not None
        self.send(f"{what} {item.id}", self.client.send_item_arrive, item.id, item.queue,
                  created=item.created, last_message=item.last_message, attributes=item.attributes,
                  skills=item.skills, affinity_agent=item.affinity)

    def new_item(self, n: int) -> None:
        queue = self.rng.choices(list(QUEUES), weights=list(QUEUES.values()))[0]
        created = now_ms()
        attributes: Dict[str, Any] = {}
        skills: Dict[str, Optional[int]] = {}
        last_message = created
        if queue == "Order Support":
            attributes = {"priority": self.rng.choice(["High", "Low"]),
                          "category": self.rng.choice(["Premium", "Standard"]),
                          "first_response_by": created + self.rng.randint(0, 600_000)}
        elif queue == "Tech Support":
            skills = {"tech": self.rng.randint(1, 5)}  # closest match: orders, never filters
        elif queue == MESSAGING:
            last_message = created - self.rng.randint(0, 3_600_000)
        affinity = f"rs-agent-{self.rng.randrange(OWN_AGENTS)}" if self.rng.random() < 0.1 else None
        item = Item(f"rs-item-{n}", queue, created, last_message, attributes, skills, affinity)
        self.items[item.id] = item
        self.note(item, f"arrive {queue}")
        self.stats["items"] += 1
        self.arrive(item)

    def answer_offer(self, item: Item) -> None:
        assert self.client is not None
        agent = item.agent
        if item.answer == "accept":
            item.state = "assigned"
            self.schedule(item, self.rng.uniform(0.1, 0.8))
            self.expect["accept"][item.id] = agent
            self.note(item, f"accept {agent}")
            self.send(f"offer_accept {item.id} {agent}", self.client.send_offer_accept, item.id, agent)
        else:
            item.state, item.agent = "waiting", None
            self.agents[agent].load -= 1
            item.declines += 1
            self.expect["decline"][item.id] = agent
            self.note(item, f"decline {agent}")
            self.stats["declines"] += 1
            self.send(f"offer_decline {item.id} {agent}", self.client.send_offer_decline, item.id, agent)

    def complete(self, item: Item) -> None:
        assert self.client is not None
        agent = item.agent
        item.state = "completed"
        self.agents[agent].load -= 1
        self.expect["complete"][item.id] = agent
        self.note(item, f"complete {agent}")
        self.stats["completed"] += 1
        self.send(f"item_complete {item.id}", self.client.send_item_complete, item.id)

    def stir(self) -> None:
        """One of the host's other steps: cancel, transfer or update a waiting item, or an own
        agent's presence."""
        assert self.client is not None
        roll = self.rng.random()
        waiting = [i for i in self.items.values() if i.state == "waiting" and i.transfer_to is None]
        if roll < 0.3 and waiting:
            item = self.rng.choice(waiting)
            item.state = "cancelled"
            self.expect["cancel"][item.id] = True
            self.note(item, "cancel")
            self.stats["cancelled"] += 1
            self.send(f"item_cancel {item.id}", self.client.send_item_cancel, item.id)
        elif roll < 0.55 and any(not i.skills for i in waiting):
            # Only items without skills: a transferred item keeps them, and a Tech Support skill
            # would hold it back in an exact-match queue.
            item = self.rng.choice([i for i in waiting if not i.skills])
            queue = self.rng.choice([q for q in QUEUES if q != item.queue])
            item.queue, item.transfer_to = queue, queue
            self.expect["transfer"][item.id] = queue
            self.note(item, f"transfer {queue}")
            self.stats["transfers"] += 1
            self.send(f"item_transfer {item.id}", self.client.send_item_transfer, item.id, queue)
        elif roll < 0.8:
            live = [i for i in self.items.values() if i.state in ("waiting", "offered", "assigned")]
            if live:
                item = self.rng.choice(live)
                item.attributes = dict(item.attributes, tag=self.rng.choice(["a", "b", "c"]))
                item.last_message = max(item.last_message, now_ms() - self.rng.randint(0, 1000))
                self.note(item, "update")
                self.stats["updates"] += 1
                self.send(f"item_update {item.id}", self.client.send_item_update, item.id,
                          {"tag": item.attributes["tag"]}, last_message=item.last_message)
        else:
            agent = self.agents[f"rs-agent-{self.rng.randrange(OWN_AGENTS)}"]
            agent.presence = "lunch" if agent.presence == "available" else "available"
            self.stats["presence changes"] += 1
            self.send(f"presence_change {agent.id}", self.client.send_presence_change, agent.id, agent.presence)

    def due_steps(self) -> None:
        t = mono()
        while self.timers and self.timers[0][0] <= t:
            due, _, key, state = heapq.heappop(self.timers)
            item = self.items[key]
            if item.state != state or item.due != due:
                continue  # overtaken (a void offer, a restart)
            if state == "offered":
                self.answer_offer(item)
            elif state == "assigned":
                self.complete(item)

    # -- attaching, noticing, resyncing ---------------------------------------------------------

    def setup(self) -> None:
        self.client = sb.Client.attach(self.name, decisions=True, timeout=10.0)
        self.reset_expectations()
        c = self.client
        queues = list(QUEUES)
        for k in range(OWN_AGENTS):
            a = Agent(f"rs-agent-{k}", "available", sorted(self.rng.sample(queues, 2), key=queues.index), False)
            self.agents[a.id] = a
            self.send(f"agent_upsert {a.id}", c.send_agent_upsert, a.id, **self.own_agent_fields(a))
            for q in a.queues:
                self.send(f"join_queue {a.id} {q}", c.send_join_queue, a.id, q)
        # Two of the configuration's agents come on: a restarted daemon has them as configured.
        for agent_id in ("nia.adams", "ben.clarke"):
            if agent_id in self.agents:
                self.agents[agent_id].presence = "available"
                self.send(f"presence_change {agent_id}", c.send_presence_change, agent_id, "available")

    @staticmethod
    def own_agent_fields(a: Agent) -> Dict[str, Any]:
        return {"presence": a.presence, "skills": {"orders": 3, "returns": 3, "billing": 3, "tech": 3},
                "capacity": OWN_CAPACITY, "attributes": {"team": "restart-check"}, "working": True}

    def look_alive(self) -> Optional[str]:
        """How the host sees that its daemon is gone, or None while it looks alive."""
        assert self.client is not None
        if self.client.daemon_alive():
            return None
        current = sb.segment_generation(self.name)
        if current is not None and current != self.client.generation:
            return "another generation at the name"
        if self.client._replaced():  # a new daemon has taken the name and is not ready yet
            return "another segment at the name"
        return "heartbeat stale"

    def outage(self, how: str) -> None:
        """The daemon looks gone: wait for its heartbeat to come back (a false alarm: carry on)
        or for a segment of another generation at the name; then read what the dead daemon's
        ring still holds (its offers are void), reattach and resync."""
        assert self.client is not None
        t0 = mono()
        old_generation = self.client.generation
        while True:
            complaint = self.daemon.restart_if_dead()  # the operator, not the host
            if complaint:
                self.violation(None, complaint)
            current = sb.segment_generation(self.name)
            if current is not None and current != old_generation:
                break
            if self.client.daemon_alive():
                self.stats["false alarms (heartbeat came back)"] += 1
                return
            if mono() - t0 > 15:
                raise Violation(f"no new daemon at {self.name} 15 s after the host noticed ({how})")
            time.sleep(0.001)
        noticed = mono() - t0
        # The dead daemon's last records: its confirmations still count, its offers are void.
        self.void = True
        try:
            while True:
                record = self.client.poll()
                if record is None:
                    break
                self.inbox.append((self.gen, record))
                self.stats["records read from a dead daemon"] += 1
        except (sb.DaemonGone, sb.SlotReset, sb.Corrupt):
            pass
        self.handle_inbox()
        self.void = False
        self.client.reattach(timeout=10.0)
        if self.client.generation == old_generation:
            raise Violation("reattached to a segment of the same generation")
        self.gen += 1
        self.stats[f"noticed by {how}"] += 1
        self.resync()
        self.kills.append(f"#{self.gen}: noticed by {how}, new segment {noticed * 1000:.0f} ms later, "
                          f"resynced in {(mono() - t0 - noticed) * 1000:.0f} ms")

    def resync(self) -> None:
        """docs/protocol.md, "Resync", from the ledger."""
        c = self.client
        assert c is not None
        self.reset_expectations()
        sabotage = self.args.sabotage
        sent0 = self.stats["records sent"]
        for item in self.items.values():
            if item.state == "offered":  # an offer of the dead daemon: void, withdrawn
                self.note(item, f"offer to {item.agent} void")
                self.agents[item.agent].load -= 1
                item.state, item.agent = "waiting", None
                self.stats["offers voided"] += 1
            item.transfer_to = None  # the ledger's queue is the new one
        # 1. Agents, without their queues.
        for a in self.agents.values():
            if a.configured:
                if a.presence != a.configured_presence:
                    self.send(f"agent_upsert {a.id}", c.send_agent_upsert, a.id, presence=a.presence)
                if sabotage != "keep-config-queues":
                    for q in a.configured_queues:
                        self.send(f"leave_queue {a.id} {q}", c.send_leave_queue, a.id, q)
            else:
                self.send(f"agent_upsert {a.id}", c.send_agent_upsert, a.id, **self.own_agent_fields(a))
        # 2. Assigned items: arrive, then assigned by hand to their agent (R15).
        assigned = sorted((i for i in self.items.values() if i.state == "assigned"), key=Item.order_time)
        for item in assigned:
            if sabotage == "skip-assigned":
                continue
            self.note(item, f"restore to {item.agent}")
            self.arrive(item, "restore item_arrive")
            self.expect["manual"][item.id] = item.agent
            self.send(f"manual_assign {item.id} {item.agent}", c.send_manual_assign, item.id, item.agent)
            self.stats["assigned items restored"] += 1
        if sabotage == "double-assign" and len(assigned) >= 1:
            item = assigned[0]
            other = next(a for a in self.agents if a != item.agent and not self.agents[a].configured)
            self.send(f"manual_assign {item.id} {other}", c.send_manual_assign, item.id, other)
        # 3. Queue memberships.
        for a in self.agents.values():
            if a.configured and sabotage == "keep-config-queues":
                continue
            for q in a.queues:
                self.send(f"join_queue {a.id} {q}", c.send_join_queue, a.id, q)
        # 4. Waiting items, oldest first (the time their queue orders by, R8).
        waiting = sorted((i for i in self.items.values() if i.state == "waiting"), key=Item.order_time)
        for item in waiting:
            if sabotage == "skip-waiting":
                continue
            self.note(item, "resend")
            self.arrive(item, "resend item_arrive")
            self.stats["waiting items resent"] += 1
        self.stats["resync records"] += self.stats["records sent"] - sent0

    # -- the run ---------------------------------------------------------------------------------

    def step(self) -> int:
        """Reads and handles what the daemon wrote; notices a death. Returns records handled."""
        try:
            self.read_into_inbox()
            n = self.handle_inbox()
            how = self.look_alive()
            if how is not None:
                raise Outage(how)
            return n
        except Outage as e:
            self.recover(str(e))
            return 1

    def recover(self, hint: str) -> None:
        while True:
            try:
                self.outage(self.gone_how(hint))
                return
            except Outage as e:  # gone again while resyncing: notice and resync again
                hint = str(e)

    def gone_how(self, hint: str) -> str:
        if hint in ("send", "poll"):
            return self.look_alive() or "heartbeat stale"
        return hint

    def guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Outage as e:
            self.recover(str(e))

    def busy(self) -> bool:
        """Whether a death now would test something: the host holds assigned work and waiting
        (or offered) work."""
        states = collections.Counter(i.state for i in self.items.values())
        return states["assigned"] > 0 and states["waiting"] + states["offered"] > 0

    def in_flight(self) -> str:
        c = self.client
        assert c is not None
        inbound = c._in.own - c._q[c._in.head_word]
        outbound = c._q[c._out.tail_word] - c._out.own
        states = collections.Counter(i.state for i in self.items.values())
        unconfirmed = sum(len(v) for v in self.expect.values())
        return (f"{inbound} bytes unread by the daemon, {outbound} unread by the host, "
                f"{unconfirmed} host records not yet confirmed; "
                f"{states['waiting']} waiting, {states['offered']} offers held, {states['assigned']} assigned")

    def run(self) -> None:
        args = self.args
        rng = random.Random(args.seed)  # the schedule only: the host's reactions use self.rng
        self.setup()
        load = args.load_seconds
        # The arrival schedule: bursts around random centres (queues form, then drain).
        centres = [rng.uniform(0, load) for _ in range(max(1, args.items // 40))]
        arrivals = sorted(min(load, rng.choice(centres) + rng.expovariate(1 / 0.08)) for _ in range(args.items))
        stirs = sorted(rng.uniform(0, load) for _ in range(args.items // 8))
        kills = sorted(rng.uniform(0.15 * load, 0.9 * load) for _ in range(args.kills))
        modes = [rng.random() < 0.5 for _ in kills]  # restart at once, or once the host noticed
        print(f"shm_restart_check: seed {args.seed}, {args.items} items over {load:.1f} s, kills at "
              + ", ".join(f"{k:.2f} s" for k in kills), flush=True)
        start = mono()
        n_arrived = 0
        paused = 0.0  # time spent in outages: the schedules wait for the host
        while n_arrived < len(arrivals) or kills:
            t0 = mono()
            self.step()
            clock = mono() - start - paused
            self.guarded(self.due_steps)
            while n_arrived < len(arrivals) and arrivals[n_arrived] <= clock:
                self.guarded(lambda: self.new_item(n_arrived))
                n_arrived += 1
            while stirs and stirs[0] <= clock:
                stirs.pop(0)
                self.guarded(self.stir)
            if kills and kills[0] <= clock and (self.busy() or n_arrived == len(arrivals)):
                kills.pop(0)
                # A burst of arrivals first, so that records are in flight when it dies.
                for _ in range(min(8, len(arrivals) - n_arrived)):
                    self.guarded(lambda: self.new_item(n_arrived))
                    n_arrived += 1
                flight = self.in_flight()
                self.daemon.kill()
                immediate = modes.pop(0)
                if immediate:  # a supervisor that restarts at once: the host may see the new segment first
                    self.daemon.proc.wait()
                    self.daemon.restart_if_dead()
                print(f"  kill {len(self.kills) + 1} at {clock:.2f} s "
                      f"({'restarted at once' if immediate else 'restarted once the host noticed'}): {flight}",
                      flush=True)
                gen = self.gen
                limit = mono() + 15
                while self.gen == gen:
                    self.step()
                    if mono() > limit:
                        raise Violation("the host did not notice the daemon's death in 15 s")
                    time.sleep(0.0005)
                paused += mono() - t0
            elif mono() - t0 < 0.0005:
                time.sleep(0.0005)
        # Drain: no new work; offers answered, work completed, until every item is done.
        limit = mono() + args.drain_seconds
        while mono() < limit:
            self.step()
            self.guarded(self.due_steps)
            open_items = [i for i in self.items.values() if i.state not in ("completed", "cancelled")]
            pending = sum(len(v) for v in self.expect.values())
            if not open_items and not pending:
                break
            time.sleep(0.0005)
        self.final_checks()

    def final_checks(self) -> None:
        c = self.client
        assert c is not None
        for item in self.items.values():
            if item.state not in ("completed", "cancelled"):
                self.violation(item.id, f"lost: still {item.state}"
                                        f"{'' if item.agent is None else ' (' + str(item.agent) + ')'} "
                                        f"{self.args.drain_seconds:.0f} s after the load ended")
        for kind, pending in self.expect.items():
            for key, value in pending.items():
                self.violation(key, f"the daemon never confirmed the host's {kind} ({value})")
        # The daemon's own count: the statistics block is refreshed about every 100 ms.
        seq = self.send("tick", c.send_tick, ack=True)
        limit = mono() + 5
        acked = False
        while mono() < limit and not acked:
            for record in c.poll_all():
                acked = acked or (isinstance(record, sb.Ack) and record.sequence == seq)
                if not isinstance(record, sb.Ack):
                    self.handle(self.gen, record)
            time.sleep(0.001)
        if not acked:
            self.violation(None, "the final tick was never acknowledged")
        limit = mono() + 2
        stats = c.stats()
        while mono() < limit and (stats["live_items"] != 0 or stats["agents"] != len(self.agents)):
            time.sleep(0.02)
            stats = c.stats()
        if stats["live_items"] != 0:
            self.violation(None, f"the daemon still holds {stats['live_items']} live items the host has finished")
        if stats["agents"] != len(self.agents):
            self.violation(None, f"the daemon has {stats['agents']} agents, the host knows {len(self.agents)}")
        c.detach()
        self.client = None


def config_agents(path: str) -> List[Agent]:
    with open(path, "rb") as f:
        config = tomllib.load(f)
    out = []
    for a in config.get("agents", []):
        presence = a.get("presence", "offline")
        queues = tuple(a.get("queues", []))
        units = int(a.get("capacity", {}).get("units", 0))
        out.append(Agent(a["id"], presence, list(queues), True, presence, queues, units))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--daemon", required=True, help="the switchboardd executable")
    parser.add_argument("--config", required=True, help="docs/examples/contact-center.toml")
    parser.add_argument("--seed", type=int, default=None, help="the RNG seed (default: from the clock)")
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--load-seconds", type=float, default=6.0)
    parser.add_argument("--drain-seconds", type=float, default=15.0)
    parser.add_argument("--heartbeat-ms", type=float, default=20.0,
                        help="the daemon's heartbeat; the host calls it gone after 5 missed")
    parser.add_argument("--sabotage", default="none",
                        choices=["none", "skip-waiting", "skip-assigned", "keep-config-queues", "double-assign"])
    args = parser.parse_args()
    if args.items < 1 or args.kills < 1:
        parser.error("--items and --kills are >= 1")
    if tomllib is None:
        print("shm_restart_check: skipped: needs Python 3.11 (tomllib) to read the configuration's agents")
        return 77
    if args.seed is None:
        args.seed = time.time_ns() % 1_000_000_007
    rng = random.Random(args.seed + 1)
    name = f"/sb-restart-{os.getpid()}-{rng.randrange(1 << 30)}"
    daemon = Daemon(args.daemon, args.config, name, args.heartbeat_ms)
    host = Host(args, rng, daemon, config_agents(args.config))
    started = mono()
    failed_hard = None
    try:
        daemon.start()
        host.run()
    except (Violation, sb.SwitchboardError) as e:
        failed_hard = f"{type(e).__name__}: {e}"
    finally:
        problems = daemon.stop() if failed_hard is None else []
        daemon.cleanup()
    s = host.stats
    print(f"shm_restart_check: {s['items']} items ({s['completed']} completed, {s['cancelled']} cancelled), "
          f"{len(host.kills)} kills, {s['decisions']} decisions, {s['records sent']} records sent, "
          f"{s['resync records']} of them in resyncs ({s['assigned items restored']} assigned items restored, "
          f"{s['waiting items resent']} waiting items resent, {s['offers voided']} offers voided), "
          f"{s['declines']} declines, {s['transfers']} transfers, {s['updates']} updates, "
          f"{s['presence changes']} presence changes, {mono() - started:.1f} s")
    for line in host.kills:
        print(f"  restart {line}")
    for key in sorted(k for k in s if k.startswith("false alarms") or k.startswith("offers withdrawn")):
        print(f"  {key}: {s[key]}")
    violations = list(host.violations) + problems
    if failed_hard:
        violations.append(failed_hard)
    if violations:
        for v in violations:
            print(f"shm_restart_check: VIOLATION: {v}", file=sys.stderr)
        print("--- switchboardd log ---\n" + daemon.log_text(), file=sys.stderr)
        print(f"shm_restart_check: FAILED ({len(violations)} violations; seed {args.seed})", file=sys.stderr)
        return 1
    print(f"shm_restart_check: all checks passed (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
