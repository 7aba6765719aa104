#!/usr/bin/env python3
"""Checks the JSON of one `switchboard-loadtest drive` run (tests/integration/loadtest_drive.sh).

    loadtest_drive_check.py KIND FILE

KIND says which run FILE is:
  scenario     the scenario's own rates, compressed
  rate         --rate 60 --spacing constant --duration 2: exactly 120 arrivals planned
  ramp-behind  a ramp whose p99 bound (1 us) no step can meet: it stops after the first step
  ramp-ok      a ramp with a bound every step meets
  stall        --rate 60 --spacing constant --duration 2 with the daemon SIGSTOPped for 0.3 s
               mid-run: waited out (docs/protocol.md, "Noticing"), 120 arrivals all decided, the
               stall counted and in the corrected latency

Every kind: mode "drive", no refused record, decisions made, every arrival sent got a decision
and was answered or abandoned (nothing unresolved), the clean-up was accepted, and the latency
figures are present and ordered (p50 <= p99 <= p99.9 <= max), the corrected ones at least the
uncorrected ones. Exit status 0 when every check passed; failures are listed on stderr.
"""
import json
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def ordered(p, name):
    for key in ("p50", "p99", "p999", "max"):
        check(isinstance(p.get(key), (int, float)), f"{name}.{key} is a number ({p.get(key)!r})")
    if failures:
        return
    check(0 < p["p50"] <= p["p99"] <= p["p999"] <= p["max"],
          f"{name}: 0 < p50 <= p99 <= p999 <= max ({p['p50']}, {p['p99']}, {p['p999']}, {p['max']})")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        r = json.load(f)
    d = r.get("drive")
    check(r.get("mode") == "drive", f"mode is drive ({r.get('mode')!r})")
    check(isinstance(d, dict), "a drive section")
    if failures:
        return report(kind)
    e = r["engine_figures"]
    overall = r["overall"]

    # Nothing refused, decisions made, every arrival decided and resolved.
    check(d["errors"] == 0 and e["errors"] == 0, f"no errors ({d['errors']}: {d['error_samples']})")
    check(d["cleanup_errors"] == 0, f"the clean-up was accepted ({d['cleanup_errors']} errors)")
    check(d["decisions"] > 0 and e["decisions"] == d["decisions"],
          f"decisions > 0 and the same in both sections ({d['decisions']}, {e['decisions']})")
    check(d["arrivals_sent"] > 0, "arrivals were sent")
    check(d["arrivals_without_decision"] == 0,
          f"every arrival got a decision ({d['arrivals_without_decision']} did not)")
    check(overall["offered"] == d["arrivals_sent"],
          f"offered == arrivals sent ({overall['offered']}, {d['arrivals_sent']})")
    check(overall["answered"] + overall["abandoned"] == overall["offered"] and overall["unresolved"] == 0,
          f"answered + abandoned == offered ({overall['answered']} + {overall['abandoned']} vs "
          f"{overall['offered']}, unresolved {overall['unresolved']})")
    check(overall["answered"] > 0 and overall["completed"] == overall["answered"],
          f"every answered item completed ({overall['completed']} of {overall['answered']})")
    # More decisions than arrivals: each answered item is at least offered, assigned, completed.
    check(d["decisions"] >= 3 * overall["answered"],
          f"at least 3 decisions per answered item ({d['decisions']}, {overall['answered']} answered)")
    check(d["decisions_per_s"] > 0 and e["decisions_per_s"]["mean"] > 0, "decisions per second > 0")
    check(d["events_sent"] == d["arrivals_sent"] + d["host_events_sent"], "events = arrivals + host events")

    # Latency: present, ordered, one sample per decision, corrected >= uncorrected.
    ordered(e["latency_ns"], "engine_figures.latency_ns")
    ordered(d["latency_uncorrected_ns"], "drive.latency_uncorrected_ns")
    if not failures:
        c, u = e["latency_ns"], d["latency_uncorrected_ns"]
        check(c["count"] == d["decisions"] and u["count"] == d["decisions"],
              f"one latency per decision ({c['count']}, {u['count']}, {d['decisions']})")
        for key in ("p50", "p99", "max"):
            check(c[key] >= u[key], f"corrected {key} >= uncorrected ({c[key]}, {u[key]})")
        check(sum(e["latency_histogram_ns"]["counts"]) + e["latency_histogram_ns"]["underflow"]
              + e["latency_histogram_ns"]["overflow"] == c["count"], "the histogram holds every decision")

    steps = d["steps"]
    if kind == "scenario":
        check(d["rate_source"] == "scenario", f"rate source scenario ({d['rate_source']})")
        check(d["arrivals_sent"] == d["arrivals_planned"], "every planned arrival sent")
    elif kind == "rate":
        check(d["rate_source"] == "rate", f"rate source rate ({d['rate_source']})")
        check(d["arrivals_planned"] == 120 and d["arrivals_sent"] == 120,
              f"60/s for 2 s, constant spacing: 120 arrivals ({d['arrivals_planned']}, {d['arrivals_sent']})")
        check(len(steps) == 1 and steps[0]["rate_per_s"] == 60, "one step at 60/s")
    elif kind == "stall":
        check(d["arrivals_planned"] == 120 and d["arrivals_sent"] == 120,
              f"120 arrivals sent despite the stall ({d['arrivals_planned']}, {d['arrivals_sent']})")
        check(d.get("daemon_stalls", 0) >= 1, f"the stall was noticed and waited out ({d.get('daemon_stalls')})")
        # switchboardd's heartbeat (10 ms) is stale after 50 ms of the 0.3 s stop.
        check(0.2 <= (d.get("longest_daemon_stall_s") or 0) < 5,
              f"the wait lasted about the stop ({d.get('longest_daemon_stall_s')} s)")
        check(e["latency_ns"]["max"] >= 0.2e9,
              f"the stall is in the corrected latency (max {e['latency_ns']['max']} ns)")
    elif kind == "ramp-behind":
        check(d["rate_source"] == "ramp", f"rate source ramp ({d['rate_source']})")
        check(d["fell_behind"] is True, "a step fell behind")
        check(d["sustained_rate_per_s"] == 0, f"no rate sustained ({d['sustained_rate_per_s']})")
        check(len(steps) == 1 and steps[0]["evaluated"] and not steps[0]["sustained"],
              f"the first step was judged and fell behind ({steps})")
        check(d["arrivals_sent"] < d["arrivals_planned"],
              f"the sender stopped ({d['arrivals_sent']} of {d['arrivals_planned']})")
    elif kind == "ramp-ok":
        check(d["rate_source"] == "ramp", f"rate source ramp ({d['rate_source']})")
        check(d["fell_behind"] is False, "no step fell behind")
        check(len(steps) >= 2 and steps[0]["rate_per_s"] < steps[1]["rate_per_s"], "rising steps")
        judged = [s for s in steps if s["evaluated"]]
        check(len(judged) >= 2 and all(s["sustained"] for s in judged), f"judged steps sustained ({steps})")
        check(d["sustained_rate_per_s"] >= steps[1]["rate_per_s"],
              f"sustained at least the second step's rate ({d['sustained_rate_per_s']})")
        check(d["arrivals_sent"] == d["arrivals_planned"], "every planned arrival sent")
    else:
        failures.append(f"unknown kind {kind}")
    return report(kind)


def report(kind):
    for f in failures:
        print(f"loadtest_drive_check {kind}: {f}", file=sys.stderr)
    if not failures:
        print(f"loadtest_drive_check {kind}: ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
