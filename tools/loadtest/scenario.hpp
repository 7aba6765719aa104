#pragma once
// A load-test scenario: the traffic, the customers' patience, the agent population and how the
// agents answer, plus the routing configuration it runs against. Loaded from TOML (the format of
// docs/load-testing.md, "Scenario format"), validated once, read-only afterwards.
//
// Thread safety: load_scenario_file and parse_scenario are reentrant; a Scenario is a value that
// several replication threads may read at once.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/attributes.hpp"
#include "switchboard/config.hpp"
#include "switchboard/result.hpp"

namespace switchboard::loadtest {

// A random duration. Seconds of simulated time.
enum class DistributionKind : std::uint8_t { constant, exponential, lognormal, gamma };

struct Distribution {
  DistributionKind kind = DistributionKind::constant;
  double mean_s = 0.0;    // the mean (constant: the value), seconds, >= 0
  double stddev_s = 0.0;  // lognormal and gamma: the standard deviation, seconds, > 0
};

// One attribute of arriving items, drawn from weighted values.
struct AttributeMix {
  std::string key;              // the item attribute's key (dotted for one level of nesting)
  std::vector<AttrValue> values;  // strings or integers
  std::vector<double> weights;    // same length, > 0 (normalized when drawn)
};

// One set of required skills, chosen with probability weight / sum of weights.
struct SkillOption {
  double weight = 1.0;
  std::vector<SkillRequirement> skills;  // min_proficiency -1 = any level
};

// The traffic of one queue.
struct QueueTraffic {
  std::string queue;     // the routing configuration's queue name
  QueueId queue_id = 0;  // its id in the configuration
  // Poisson arrival rate per interval, items per hour; rates_per_hour[k] holds in
  // [k * interval_s, (k + 1) * interval_s). As many as the scenario has intervals.
  std::vector<double> rates_per_hour;
  Distribution handling;                 // assignment -> the host's completion (talk time)
  std::optional<Distribution> wrap_up;   // host-side wrap-up, added before the completion
  std::optional<Distribution> patience;  // waiting time after which the customer abandons
  std::vector<AttributeMix> attributes;
  std::vector<SkillOption> skill_mix;    // empty: no required skills
  std::optional<std::int32_t> units;     // capacity units per item; default: the channel's
};

// How agents answer offers: one of accept / decline / let it ring, drawn per offer.
struct AnswerBehavior {
  double accept = 1.0;    // probability, 0..1
  double decline = 0.0;   // probability, 0..1
  double no_answer = 0.0; // probability, 0..1; the three sum to 1
  Distribution response_delay;  // offer -> accept or decline, seconds
  double no_answer_timeout_s = 30.0;  // offer -> the host's offer_timeout when not answered
};

// A break: every agent of the group goes to `presence` for `duration_s`, starting at
// start_s + (agent index / count) * stagger_s, and comes back to its working presence.
struct BreakSpec {
  double start_s = 0.0;
  double duration_s = 0.0;
  double stagger_s = 0.0;
  PresenceId presence = 0;
};

// A group of identical agents.
struct AgentGroup {
  std::string name;
  std::uint32_t count = 0;
  std::vector<SkillLevel> skills;
  AgentCapacity capacity;
  std::vector<QueueId> queues;
  Attributes attributes;
  // Working periods [start_s, end_s), seconds; empty = the whole run. Outside them the agent is
  // offline; inside, in working_presence except during breaks.
  std::vector<std::pair<double, double>> shifts;
  std::vector<BreakSpec> breaks;
  PresenceId working_presence = 0;  // "available" unless the scenario says otherwise
  AnswerBehavior answer;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string path;           // the file it came from ("" when parsed from a string)
  std::string config_source;  // the routing configuration's path, or "inline"
  Config config;              // its agents removed: the groups below are the population

  double horizon_s = 0.0;   // arrivals in [0, horizon_s)
  double warmup_s = 0.0;    // arrivals before it are routed but not measured
  double drain_s = 0.0;     // after the horizon, run at most this long for waiting work to end
  double interval_s = 0.0;  // length of one rate interval
  std::vector<double> thresholds_s;  // service-level thresholds
  double depth_step_s = 60.0;        // queue-depth sampling step
  std::uint32_t replications = 1;
  std::uint64_t seed = 1;
  double confidence = 0.95;

  std::vector<QueueTraffic> queues;
  std::vector<AgentGroup> groups;

  [[nodiscard]] std::size_t interval_count() const;
};

// Parses and validates a scenario. `source_name` names it in errors; `base_dir` resolves a
// routing configuration given by relative path. Errors read
//   <source_name>:<line>:<column>: <key path>: <what is wrong>
// as the configuration loader's do (an inline routing configuration's errors point into the
// scenario file); the codes are the config_* codes.
[[nodiscard]] Result<Scenario> parse_scenario(std::string_view toml_text,
                                              std::string_view source_name,
                                              const std::string& base_dir = ".");

// Reads `path` and parses it; relative routing paths are resolved from the file's directory.
[[nodiscard]] Result<Scenario> load_scenario_file(const std::string& path);

}  // namespace switchboard::loadtest
