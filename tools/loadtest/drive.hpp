#pragma once
// drive mode: a scenario's traffic sent in real time to a running switchboardd through the
// shared-memory adapter (docs/protocol.md), its decisions timed as they come back.
//
// Two threads, each with a client (a slot) of its own:
// - the sender sends item arrivals open-loop: every arrival has an intended send time fixed
//   before the run (from the target rate, Poisson or constant spacing); the sender never waits
//   for a reply before sending the next one, and when it falls behind it sends what is due at
//   once, so the delay shows in the latency instead of vanishing from it;
// - the host (this thread, the caller's) registers the scenario's agents, receives every
//   decision, and answers as the agents would: offers are accepted, declined or left to ring
//   after the scenario's response behaviour, assigned work is completed after its handling and
//   wrap-up time, customers abandon after their patience, presences follow shifts and breaks.
//   Every duration of the scenario is divided by the time-compression factor.
//
// Decision latency (docs/load-testing.md, "Drive mode"): a decision names the record whose
// application made it (cause_slot, cause_sequence). Its latency is the steady-clock time at
// which the host received it minus the INTENDED send time of that record: when the record left
// late (the sender fell behind, a ring was full), the lateness counts. This is the correction
// for coordinated omission. The uncorrected latency (receipt minus the time the record was
// actually committed to the ring) is reported next to it.
//
// Thread safety: drive() may be called from any thread; it starts the sender thread and joins it
// before returning. on_progress is called on the calling thread.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "scenario.hpp"
#include "switchboard/loadtest/results.hpp"
#include "switchboard/result.hpp"

namespace switchboard::loadtest {

// --ramp START:STEP:SECONDS: the arrival rate starts at `start_per_s` and rises by
// `step_per_s` every `step_s` seconds until a step falls behind (DriveOptions::max_p99_ms).
struct RampOptions {
  double start_per_s = 0.0;  // arrivals per second of wall time, > 0
  double step_per_s = 0.0;   // added at each step, > 0
  double step_s = 0.0;       // wall seconds per step, > 0
};

// Parses "START:STEP:SECONDS" (three positive numbers).
[[nodiscard]] Result<RampOptions> parse_ramp(const std::string& text);

enum class ArrivalSpacing : std::uint8_t { poisson, constant };

struct DriveProgress {
  double elapsed_s = 0.0;     // wall seconds since the first arrival was due
  double duration_s = 0.0;    // wall seconds of arrivals planned (the ramp: its longest)
  std::uint64_t arrivals_sent = 0;
  std::uint64_t decisions = 0;
  bool draining = false;      // the arrivals are over; waiting for the work to end
};

struct DriveOptions {
  std::string segment = "/switchboard";  // the daemon's segment name (switchboardd --name)
  // Arrivals per second of wall time over all queues, split over the scenario's queues in
  // proportion to their mean rates. Unset (and no ramp): the scenario's own rates per interval,
  // sped up by `compress`.
  std::optional<double> rate_per_s;
  std::optional<RampOptions> ramp;
  // Wall seconds of arrivals. 0: the scenario's horizon / compress with the scenario's rates;
  // 10 s with --rate; with a ramp, until a step falls behind or 20 steps have run.
  double duration_s = 0.0;
  // Scenario seconds per wall second: every duration of the scenario (handling, wrap-up,
  // patience, response delays, shifts, breaks, intervals) is divided by it, and event times
  // (the `time` field the daemon's clock follows) run this much faster than the wall clock.
  double compress = 1.0;
  ArrivalSpacing spacing = ArrivalSpacing::poisson;
  std::optional<std::uint64_t> seed;  // default: the scenario's
  // Wall seconds after the last arrival to wait for queued work to be answered and completed;
  // what is still open then is unresolved (and cancelled, so the daemon is left clean).
  double drain_s = 10.0;
  // The ramp's bound: a step falls behind when the p99 of its corrected decision latency
  // exceeds this, or when the daemon has not applied the step's arrivals this long after
  // the step ended.
  double max_p99_ms = 10.0;
  int attach_timeout_ms = 5000;
  // How long a daemon whose heartbeat stands still is waited for before drive gives up on it
  // (docs/protocol.md, "Noticing": a stalled daemon is not a dead one). While no other daemon's
  // segment is at the name and the daemon is not stopping, drive waits; when the heartbeat moves
  // again it carries on, and the stall shows in the corrected latency. 0: give up at once.
  int daemon_stall_timeout_ms = 5000;
  std::function<void(const DriveProgress&)> on_progress;  // optional, about every 200 ms
};

// One step of a ramp (or the single step of a fixed rate).
struct DriveStep {
  double rate_per_s = 0.0;     // the target arrival rate, per wall second
  double start_s = 0.0;        // wall seconds from the start of the arrivals
  double end_s = 0.0;
  std::uint64_t arrivals = 0;  // arrivals sent that were due in the step
  std::uint64_t decisions = 0; // decisions caused by records due in the step
  Percentiles latency_ns;      // their corrected latency, nanoseconds
  // Arrivals the sender had committed by the step's end that the daemon had not applied yet
  // (its slot's records_in): the backlog in the inbound ring.
  std::uint64_t backlog_at_end = 0;
  bool evaluated = false;      // the ramp looked at it (the last step may end the run first)
  bool sustained = false;      // p99 <= bound and the backlog cleared in time
};

// What drive mode measures beyond LoadTestResults (whose engine figures hold the corrected
// latency and the decision rate).
struct DriveFigures {
  std::string segment;
  double compress = 1.0;
  std::string spacing;              // "poisson" or "constant"
  std::string rate_source;          // "scenario", "rate" or "ramp"
  double target_rate_per_s = 0.0;   // mean target arrival rate over the arrivals' span
  double duration_s = 0.0;          // wall seconds from the first to the last due arrival
  double run_wall_s = 0.0;          // wall seconds from the first arrival to the end of drain
  std::uint64_t arrivals_planned = 0;
  std::uint64_t arrivals_sent = 0;
  double arrivals_per_s = 0.0;      // arrivals_sent / duration_s
  std::uint64_t events_sent = 0;    // every record of the measured run, both clients
  std::uint64_t host_events_sent = 0;  // of those, the host's (accepts, completions, ...)
  std::uint64_t decisions = 0;      // decisions caused by the run's records
  double decisions_per_s = 0.0;     // decisions / run_wall_s
  std::uint64_t errors = 0;         // ERROR records for the run's records
  std::vector<std::string> error_samples;  // the first few, as "code: message"
  // Arrivals whose item never got a decision (no offer, assignment or cancellation) by the end
  // of the drain: the daemon lost them, or they were still queued for want of agents.
  std::uint64_t arrivals_without_decision = 0;
  std::uint64_t ring_full_retries = 0;  // sends refused for room (back-pressure), both clients
  // ERRORs for the clean-up's records (cancelling what was still open, removing the agents).
  std::uint64_t cleanup_errors = 0;
  Percentiles latency_ns;               // corrected (the same as the engine figures')
  Percentiles latency_uncorrected_ns;   // receipt - actual send
  Histogram latency_uncorrected_histogram_ns;
  Percentiles send_lag_ns;  // actual - intended send time, every record of the run
  std::vector<DriveStep> steps;  // the ramp's steps (one step for a fixed rate)
  // The ramp: the highest step rate sustained (0 if none was), and whether a step fell behind
  // (false: the ramp ran out of steps or time first, so the limit is higher).
  double sustained_rate_per_s = 0.0;
  bool fell_behind = false;
  // Stalls of the daemon waited out (its heartbeat stood still, then moved again:
  // DriveOptions::daemon_stall_timeout_ms), and the longest wait, wall seconds.
  std::uint64_t daemon_stalls = 0;
  double longest_daemon_stall_s = 0.0;
};

// Attaches to the daemon at options.segment, registers the scenario's agents, runs the traffic,
// drains, cancels what is still open, removes its agents and detaches. The routing
// configuration of the running daemon must declare every queue, skill, presence and profile
// the scenario names (start it with the scenario's configuration). Errors: the segment cannot be
// attached, a name is missing from the daemon's directory, invalid options.
// `figures`, when not null, receives drive mode's own figures.
[[nodiscard]] Result<LoadTestResults> drive(const Scenario& scenario, const DriveOptions& options,
                                            DriveFigures* figures = nullptr);

}  // namespace switchboard::loadtest
