#!/usr/bin/env python3
"""Generates docs/examples/contact-center.events.jsonl: a morning at the example contact center.

Usage (from the repository root, after building switchboard-route):

    python3 docs/examples/generate_events.py --route build/dev/bin/switchboard-route \
        --output docs/examples/contact-center.events.jsonl

The stream has to make sense: agents may only accept offers they were given and complete work
they hold. So the script does not guess: it runs switchboard-route as an oracle, feeding it each
event as it is generated and reading back the decisions, and plays the host's side (customers
arriving and giving up, agents accepting, declining or ignoring offers and finishing their work,
a supervisor stepping in). Everything is drawn from one fixed seed, and the router is
deterministic (I5), so the same binary and config always produce the same file.

A handful of refused events are planted on purpose so that the output shows error lines; any
other refusal is a bug in this script, and it stops with an error instead of writing the file.

Python 3 standard library only.
"""

import argparse
import heapq
import json
import random
import subprocess
import sys

SEED = 20261123
MINUTE = 60_000
HOUR = 60 * MINUTE
START = 8 * HOUR  # 08:00, milliseconds since midnight
END = 11 * HOUR + 30 * MINUTE  # 11:30
TICK_EVERY = 5 * MINUTE
OFFER_TIMEOUT = {"VIP Chat": 30_000, "Order Support": 30_000, "Tech Support": 30_000,
                 "Phone Sales": 20_000, "Billing Messaging": 60_000}  # contact-center.toml


def clock(t):
    return "%02d:%02d:%02d" % (t // HOUR, t // MINUTE % 60, t // 1000 % 60)


class Oracle:
    """switchboard-route reading events on stdin; answers each event with its decisions.

    After each event the script writes a line that is not JSON; the router answers it with an
    error line that carries its line number, which marks the end of the event's decisions.
    """

    def __init__(self, route, config):
        self.proc = subprocess.Popen(
            [route, "--config", config, "--events", "-"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.line = 0

    def send(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.write("end-of-event\n")
        self.proc.stdin.flush()
        self.line += 2
        decisions = []
        while True:
            out = self.proc.stdout.readline()
            if not out:
                sys.exit("generate_events: switchboard-route stopped unexpectedly")
            d = json.loads(out)
            if d.get("decision") == "error" and d.get("line") == self.line:
                return decisions
            decisions.append(d)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


class Morning:
    def __init__(self, oracle, rng):
        self.oracle = oracle
        self.rng = rng
        self.lines = []  # the events, as written to the file
        self.actions = []  # heap of (time, order, function, args)
        self.order = 0
        self.now = START
        self.state = {}  # item -> "queued" | "offered" | "assigned"
        self.agent_of = {}  # item -> agent offered to / assigned to
        self.queue_of = {}  # item -> queue name
        self.offer_no = {}  # item -> number of offers so far (to recognise a stale reaction)
        self.held = {}  # agent -> set of items offered or assigned to it
        self.served_vip = []  # (customer, agent) of completed VIP chats, for affinity
        self.customer_of = {}  # item -> customer id (VIP chats)
        self.expected_errors = 0
        self.counts = {}
        self.numbers = {"chat": 1000, "msg": 2000, "email": 3000, "call": 5000}

    # --- plumbing ---------------------------------------------------------------------------

    def at(self, t, fn, *args):
        self.order += 1
        heapq.heappush(self.actions, (t, self.order, fn, args))

    def emit(self, event, expect_error=None, raw=None, note=None):
        """Sends one event (a dict, or `raw` text) to the router and records it."""
        if note:
            self.lines.append("# " + clock(self.now) + "  " + note)
        text = raw if raw is not None else json.dumps(
            {"t": self.now, **event}, separators=(", ", ": "))
        self.lines.append(text)
        decisions = self.oracle.send(text)
        errors = [d for d in decisions if d["decision"] == "error"]
        if expect_error:
            if len(errors) != 1 or errors[0]["code"] != expect_error:
                sys.exit("generate_events: expected %s for %s, got %s" % (expect_error, text, decisions))
            self.expected_errors += 1
        elif errors:
            sys.exit("generate_events: unplanned refusal of %s: %s" % (text, errors[0]))
        for d in decisions:
            self.observe(d)

    def observe(self, d):
        kind = d["decision"]
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "error":
            return
        item = d["item"]
        if kind == "offer":
            self.state[item] = "offered"
            self.agent_of[item] = d["agent"]
            self.held.setdefault(d["agent"], set()).add(item)
            self.offer_no[item] = self.offer_no.get(item, 0) + 1
            self.react_to_offer(item, d["agent"], d["queue"], d["t"])
        elif kind == "assigned":
            self.state[item] = "assigned"
            self.agent_of[item] = d["agent"]
            self.held.setdefault(d["agent"], set()).add(item)
            self.at(self.now + self.handle_time(d["queue"]), self.complete, item)
        elif kind in ("requeued", "transferred"):
            self.release(item)
            self.state[item] = "queued"
            self.queue_of[item] = d["queue"]
        elif kind in ("completed", "cancelled"):
            if kind == "completed" and d["queue"] == "VIP Chat" and item in self.customer_of:
                self.served_vip.append((self.customer_of[item], d["agent"]))
            self.release(item)
            self.state.pop(item, None)
        elif kind == "parked":
            self.state[item] = "parked"

    def release(self, item):
        agent = self.agent_of.pop(item, None)
        if agent is not None:
            self.held.get(agent, set()).discard(item)

    # --- the agents' side -------------------------------------------------------------------

    def react_to_offer(self, item, agent, queue, offered_at):
        """Most offers are accepted within seconds; some are declined; a few are ignored and
        time out (channel offer_timeout_ms). Emails never time out, so they are always answered.
        The delay counts from the offer's own time, which is earlier than the event's when a
        timer fired first, and stays under the channel's timeout."""
        r = self.rng.random()
        n = self.offer_no[item]
        if queue == "Returns Email":
            # Emails have no offer timeout in the router; the host reports one (offer_timeout)
            # when an agent lets an email offer sit for two minutes (once, after 09:50).
            choice = "decline" if r < 0.05 else "accept"
            delay = self.rng.randint(5, 60) * 1000
            if self.want_host_timeout:
                self.want_host_timeout = False
                choice, delay = "timeout", 2 * MINUTE
        elif r < 0.07:
            # Ignored: the router times the offer out by itself. The host's timer ticks at that
            # moment, so the next offer is seen (and answered) while it is fresh.
            self.at(offered_at + OFFER_TIMEOUT[queue], self.emit, {"type": "tick"})
            return
        else:
            choice = "decline" if r < 0.14 else "accept"
            limit = {"Phone Sales": 15, "Billing Messaging": 40}.get(queue, 20)
            delay = self.rng.randint(2, limit) * 1000
        if self.want_mismatch and queue == "VIP Chat" and choice == "accept":
            self.want_mismatch = False
            self.mismatch_item = item
        self.at(max(self.now, offered_at + delay), self.respond, item, agent, n, choice)

    def respond(self, item, agent, n, choice):
        if self.state.get(item) != "offered" or self.agent_of.get(item) != agent or self.offer_no[item] != n:
            return  # the offer ended meanwhile (cancelled, transferred)
        if item == self.mismatch_item:
            # A host bug worth seeing once: the accept arrives with the wrong agent's id.
            other = "jon.okafor" if agent != "jon.okafor" else "mara.voss"
            self.emit({"type": "offer_accept", "item": item, "agent": other},
                      expect_error="offer_agent_mismatch",
                      note="refused on purpose: accept sent with the wrong agent id")
            self.mismatch_item = None
        self.emit({"type": "offer_" + choice, "item": item, "agent": agent})

    def handle_time(self, queue):
        lo, hi = {"Phone Sales": (3, 9), "Returns Email": (6, 15), "Billing Messaging": (3, 10)}.get(queue, (4, 12))
        return self.rng.randint(lo * 60, hi * 60) * 1000

    def complete(self, item):
        if self.state.get(item) != "assigned":
            return
        self.emit({"type": "item_complete", "item": item})
        if item == self.retry_item:
            self.now += 1500
            self.emit({"type": "item_complete", "item": item}, expect_error="unknown_item",
                      note="refused on purpose: the host retries a completion that already went through")

    # --- the customers' side ----------------------------------------------------------------

    def abandon(self, item):
        if self.state.get(item) == "queued" and self.rng.random() < 0.7:
            self.emit({"type": "item_cancel", "item": item})

    def next_id(self, kind):
        """Ids in order of arrival: "chat-1001", ..., and plain numbers for calls (the phone
        system's call ids), so the example shows both kinds of id."""
        self.numbers[kind] += 1
        return self.numbers[kind] if kind == "call" else "%s-%d" % (kind, self.numbers[kind])

    def arrive(self, item, queue, fields, patience=None, note=None, customer=None):
        if customer is not None:
            self.customer_of[item] = customer
        self.queue_of[item] = queue
        self.state[item] = "queued"
        self.emit({"type": "item_arrive", "item": item, "queue": queue, **fields}, note=note)
        if patience is not None:
            self.at(self.now + patience, self.abandon, item)

    # --- the plan of the morning ------------------------------------------------------------

    def plan(self):
        rng = self.rng
        self.want_host_timeout = False  # set at 09:50: the next email offer sits until the host times it out
        self.want_mismatch = False  # set at 09:40: the next accepted VIP offer gets a wrong accept first
        self.mismatch_item = None
        self.retry_item = None

        def arrivals(first, last, mean_gap):
            t = first
            while True:
                t += int(rng.expovariate(1.0 / mean_gap))
                if t >= last:
                    return
                yield t

        # VIP Chat: gold customers; some need Spanish; returning customers ask for their agent.
        for t in arrivals(START, END, 11 * MINUTE):
            self.at(t, self.vip_chat)
        # Order Support: steady, then a promotion email at 09:30 brings a burst of 40 chats.
        for t in arrivals(START, END, 8 * MINUTE):
            self.at(t, self.order_chat)
        for _ in range(40):
            self.at(START + 90 * MINUTE + rng.randint(0, 4 * MINUTE), self.order_chat)
        for t in arrivals(START, END, 11 * MINUTE):
            self.at(t, self.phone_call)
        for t in arrivals(START, END, 14 * MINUTE):
            self.at(t, self.tech_chat)
        for t in arrivals(START, END, 14 * MINUTE):
            self.at(t, self.message)
        for t in arrivals(START, END, 12 * MINUTE):
            self.at(t, self.email)
        for t in range(START + TICK_EVERY, END + 1, TICK_EVERY):
            self.at(t, self.emit, {"type": "tick"})

        # The supervisor's and the host's moments.
        self.at(START + 20 * MINUTE, self.emit, {"type": "presence_change", "agent": "nia.adams", "presence": "available"},
                None, None, "nia.adams logs in")
        self.at(START + 60 * MINUTE, self.emit, {"type": "presence_change", "agent": "ben.clarke", "presence": "available"},
                None, None, "ben.clarke is back from training")
        self.at(START + 70 * MINUTE, self.french_chat)
        self.at(START + 93 * MINUTE, self.raise_priority)
        self.at(START + 95 * MINUTE, self.emit, {"type": "join_queue", "agent": "yuki.tanaka", "queue": "Order Support"},
                None, None, "the tech lead helps with the promotion burst")
        self.at(START + 100 * MINUTE, setattr, self, "want_mismatch", True)
        self.at(START + 110 * MINUTE, setattr, self, "want_host_timeout", True)
        self.at(START + 120 * MINUTE, self.emit, {"type": "capacity_change", "agent": "serena.park", "capacity": {"units": 3}},
                None, None, "serena.park takes a third chat from now on")
        self.at(START + 125 * MINUTE, self.new_contractor)
        self.at(START + 130 * MINUTE, self.emit, {"type": "leave_queue", "agent": "yuki.tanaka", "queue": "Order Support"},
                None, None, "the burst is over: the tech lead goes back to Tech Support only")
        self.at(START + 135 * MINUTE, self.emit, {"type": "presence_change", "agent": "sam.oneill", "presence": "away"},
                None, None, "sam.oneill steps away")
        self.at(START + 145 * MINUTE, self.emit, {"type": "presence_change", "agent": "sam.oneill", "presence": "available"})
        self.at(START + 140 * MINUTE, self.premium_email)
        self.at(START + 150 * MINUTE, self.emit, None, "malformed_event",
                '{"t": %d, "type": "item_arrive", "item": "chat-9999", "queu": "VIP Chat"}' % (START + 150 * MINUTE),
                "refused on purpose: a typo in a field name (queu)")
        self.at(START + 165 * MINUTE, self.emit, {"type": "item_arrive", "item": "chat-9998", "queue": "Sales Chat"},
                "unknown_queue", None, "refused on purpose: a queue this configuration does not have")
        self.at(START + 170 * MINUTE, self.mark_retry)
        self.at(START + 180 * MINUTE, self.emit, {"type": "presence_change", "agent": "lucia.mendez", "presence": "lunch"},
                None, None, "lunch breaks")
        self.at(START + 180 * MINUTE, self.emit, {"type": "presence_change", "agent": "tom.becker", "presence": "lunch"})
        self.at(END - 5 * MINUTE, self.remove_contractor)

    def run(self):
        while self.actions:
            t, _, fn, args = heapq.heappop(self.actions)
            if t > END:
                break
            self.now = max(self.now, t)
            fn(*args)

    # --- the arrivals -----------------------------------------------------------------------

    def vip_chat(self):
        rng = self.rng
        item = self.next_id("chat")
        fields = {}
        customer = "cust-%d" % rng.randint(100, 999)
        if self.served_vip and rng.random() < 0.35:
            customer, agent = self.served_vip[rng.randrange(len(self.served_vip))]
            fields["affinity_agent"] = agent  # R13: the agent who served this customer last
        fields["attributes"] = {"customer": {"membership_level": "gold", "id": customer}}
        fields["skills"] = {"premium_care": 1, "spanish": 3} if rng.random() < 0.15 else ["premium_care"]
        self.arrive(item, "VIP Chat", fields, patience=rng.randint(3, 8) * MINUTE, customer=customer)

    def order_chat(self):
        rng = self.rng
        item = self.next_id("chat")
        attributes = {
            "category": "Premium" if rng.random() < 0.25 else "Standard",
            "priority": "High" if rng.random() < 0.2 else "Normal",
            "first_response_by": self.now + rng.randint(5, 15) * MINUTE,
        }
        fields = {"attributes": attributes, "skills": {"orders": rng.choice([1, 1, 2, 3])}}
        self.arrive(item, "Order Support", fields, patience=rng.randint(2, 8) * MINUTE)

    def phone_call(self):
        rng = self.rng
        item = self.next_id("call")
        level = rng.choice(["gold", "silver", "silver", "bronze"])
        fields = {"attributes": {"customer": {"membership_level": level}},
                  "skills": {"sales": rng.choice([1, 2, 3])}}
        self.arrive(item, "Phone Sales", fields, patience=rng.randint(2, 5) * MINUTE)

    def tech_chat(self):
        rng = self.rng
        item = self.next_id("chat")
        fields = {"skills": {"tech": rng.randint(1, 5)}}
        if rng.random() < 0.2:
            fields["units"] = 2  # a screen-sharing session takes two of the agent's units
        self.arrive(item, "Tech Support", fields, patience=rng.randint(5, 12) * MINUTE)

    def message(self):
        rng = self.rng
        item = self.next_id("msg")
        fields = {"skills": ["billing"]}
        if rng.random() < 0.4:
            # A conversation started hours ago; the customer wrote again just now (R8).
            fields["created"] = self.now - rng.randint(1, 6) * HOUR
            fields["last_message"] = self.now
        self.arrive(item, "Billing Messaging", fields)

    def email(self):
        rng = self.rng
        item = self.next_id("email")
        fields = {"skills": {"returns": rng.choice([1, 2, 3])},
                  "attributes": {"order_value": rng.randint(10, 500)}}
        self.arrive(item, "Returns Email", fields)

    # --- the scripted moments ---------------------------------------------------------------

    def french_chat(self):
        # Nobody in Order Support speaks French: the chat waits until the supervisor moves it to
        # VIP Chat, where amelie.roux does.
        self.arrive("chat-fr-1", "Order Support",
                    {"attributes": {"category": "Standard", "priority": "Normal",
                                    "first_response_by": self.now + 10 * MINUTE},
                     "skills": {"orders": 1, "french": 3}},
                    note="a French-speaking customer lands in Order Support")
        self.at(self.now + 2 * MINUTE, self.transfer_french)

    def transfer_french(self):
        if self.state.get("chat-fr-1") in ("queued", "offered"):
            self.emit({"type": "item_transfer", "item": "chat-fr-1", "queue": "VIP Chat"},
                      note="the supervisor transfers it to VIP Chat")

    def raise_priority(self):
        # The newest chat still waiting in Order Support turns out to be a premium customer.
        waiting = [i for i, s in self.state.items() if s == "queued" and self.queue_of.get(i) == "Order Support"]
        if waiting:
            self.emit({"type": "item_update", "item": waiting[-1],
                       "attributes": {"priority": "High", "category": "Premium"}},
                      note="a waiting promotion chat is from a premium customer: raised")

    def mark_retry(self):
        assigned = [i for i, s in self.state.items() if s == "assigned" and self.queue_of.get(i) == "Order Support"]
        if assigned:
            self.retry_item = assigned[0]

    def new_contractor(self):
        self.emit({"type": "agent_upsert", "agent": 9005, "presence": "available",
                   "skills": {"orders": 2, "returns": 1}, "capacity": {"units": 2},
                   "attributes": {"team": "contractor", "country": "PH", "tier": 1}},
                  note="a contractor joins for the rest of the morning")
        self.emit({"type": "join_queue", "agent": 9005, "queue": "Order Support"})

    def remove_contractor(self):
        if self.held.get(9005):
            self.emit({"type": "leave_queue", "agent": 9005, "queue": "Order Support"},
                      note="the contractor stops taking new work")
        else:
            self.emit({"type": "agent_remove", "agent": 9005}, note="the contractor signs off")

    def premium_email(self):
        # A premium-care return: nobody in Returns Email has premium_care 4, so it waits; the
        # supervisor assigns it by hand to the VIP agent with the most room (R15).
        self.arrive("email-3999", "Returns Email",
                    {"skills": {"returns": 1, "premium_care": 4}, "attributes": {"order_value": 2400}},
                    note="a premium-care return that no Returns Email agent may take")
        self.at(self.now + 4 * MINUTE, self.assign_premium_email)

    def assign_premium_email(self):
        room = {"mara.voss": 3, "amelie.roux": 3, "jon.okafor": 2}
        agent = max(room, key=lambda a: (room[a] - len(self.held.get(a, ())), a))
        if room[agent] - len(self.held.get(agent, ())) <= 0:
            self.at(self.now + MINUTE, self.assign_premium_email)
            return
        self.emit({"type": "manual_assign", "item": "email-3999", "agent": agent},
                  note="the supervisor assigns it by hand")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--route", required=True, help="path to the built switchboard-route")
    parser.add_argument("--config", default="docs/examples/contact-center.toml")
    parser.add_argument("--output", help="write the events here (only when generation succeeds); default stdout")
    args = parser.parse_args()

    oracle = Oracle(args.route, args.config)
    morning = Morning(oracle, random.Random(SEED))
    morning.plan()
    morning.run()
    oracle.close()

    header = [
        "# contact-center.events.jsonl: a morning (08:00-11:30) at the contact center of",
        "# contact-center.toml. Generated by docs/examples/generate_events.py (seed %d);" % SEED,
        "# regenerate rather than edit. Times are milliseconds since midnight; seq defaults to the",
        "# line number. Comment lines (#) are skipped by switchboard-route.",
    ]
    text = "\n".join(header + morning.lines) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    summary = ", ".join("%s %d" % (k, v) for k, v in sorted(morning.counts.items()))
    events = sum(1 for line in morning.lines if not line.startswith("#"))
    print("generate_events: %d events; decisions: %s; planted refusals: %d"
          % (events, summary, morning.expected_errors), file=sys.stderr)


if __name__ == "__main__":
    main()
