// TOML -> Scenario (scenario.hpp). The format: docs/load-testing.md, "Scenario format".
//
// Modelled on the routing configuration's loader: one pass over the document, stopping at the
// first error, every table's keys listed next to the code that reads them so that an unknown key
// is refused, errors as <file>:<line>:<column>: <key path>: <what>.

#include "scenario.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include <toml++/toml.h>

#include "switchboard/config_loader.hpp"
#include "toml_reader.hpp"

namespace switchboard::loadtest {
namespace {

using config::child;
using config::element;
using config::join;
using config::in_quotes;

std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

class Loader : public config::TomlReader {
 public:
  Loader(std::string_view source_name, std::string base_dir)
      : TomlReader(source_name), base_dir_(std::move(base_dir)) {}

  Result<Scenario> run(const toml::table& root) {
    if (!load(root)) return std::move(*error_);
    return std::move(scenario_);
  }

 private:
  bool invalid(const toml::node& node, const std::string& path, std::string_view what) {
    return fail(ErrorCode::config_invalid_value, node, path, what);
  }
  // Integers are accepted wherever a number is: `horizon_s = 3600` reads as 3600.0.
  bool read_number(const toml::node& node, const std::string& path, double min, double max,
                   double& out, bool min_exclusive = false) {
    double v = 0.0;
    if (const auto* i = node.as_integer()) {
      v = static_cast<double>(i->get());
    } else if (const auto* f = node.as_floating_point()) {
      v = f->get();
    } else {
      return type_error(node, path, "a number");
    }
    if (!std::isfinite(v) || v < min || v > max || (min_exclusive && v == min)) {
      std::string range = (min_exclusive ? "greater than " : "at least ") + number_text(min);
      if (max < std::numeric_limits<double>::max()) range += " and at most " + number_text(max);
      return invalid(node, path,
                     "value " + number_text(v) + " is out of range (expected " + range + ")");
    }
    out = v;
    return true;
  }
  bool read_int(const toml::node& node, const std::string& path, std::int64_t min,
                std::int64_t max, std::int64_t& out) {
    const auto* value = node.as_integer();
    if (value == nullptr) return type_error(node, path, "an integer");
    const std::int64_t v = value->get();
    if (v < min || v > max) {
      return invalid(node, path,
                     "value " + std::to_string(v) + " is out of range (expected " +
                         std::to_string(min) + ".." + std::to_string(max) + ")");
    }
    out = v;
    return true;
  }
  // --- names of the routing configuration ------------------------------------------------------

  template <typename Names>
  bool find_name(const toml::node& node, const std::string& path, std::string_view what,
                 const Names& names, std::size_t& out) {
    std::string name;
    if (!read_string(node, path, name)) return false;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) {
        out = i;
        return true;
      }
    }
    return fail(ErrorCode::config_unknown_reference, node, path,
                "unknown " + std::string(what) + " " + in_quotes(name) +
                    " (the routing configuration declares: " + join(names) + ")");
  }
  bool find_skill(const toml::key& key, const std::string& path, SkillId& out) {
    const auto& skills = scenario_.config.skills;
    for (std::size_t i = 0; i < skills.size(); ++i) {
      if (skills[i] == key.str()) {
        out = static_cast<SkillId>(i);
        return true;
      }
    }
    return fail(ErrorCode::config_unknown_reference, key.source().begin, path,
                "unknown skill " + in_quotes(key.str()) +
                    " (the routing configuration declares: " + join(skills) + ")");
  }
  std::vector<std::string> queue_names() const {
    std::vector<std::string> names;
    for (const auto& q : scenario_.config.queues) names.push_back(q.name);
    return names;
  }

  // --- sections -------------------------------------------------------------------------------

  bool load(const toml::table& root) {
    if (!check_keys(root, "", {"name", "description", "simulation", "routing", "queues", "agents"})) {
      return false;
    }
    const toml::node* name = root.get("name");
    if (name == nullptr) return missing(root, "", "name");
    if (!read_string(*name, "name", scenario_.name)) return false;
    if (const toml::node* d = root.get("description")) {
      const auto* s = d->as_string();
      if (s == nullptr) return type_error(*d, "description", "a string");
      scenario_.description = s->get();
    }
    const toml::node* simulation = root.get("simulation");
    if (simulation == nullptr) return missing(root, "", "simulation");
    if (!load_simulation(*simulation)) return false;
    const toml::node* routing = root.get("routing");
    if (routing == nullptr) return missing(root, "", "routing");
    if (!load_routing(*routing)) return false;
    const toml::node* queues = root.get("queues");
    if (queues == nullptr) return missing(root, "", "queues");
    if (!load_queues(*queues)) return false;
    const toml::node* agents = root.get("agents");
    if (agents == nullptr) return missing(root, "", "agents");
    return load_agents(*agents);
  }

  bool load_simulation(const toml::node& node) {
    const std::string path = "simulation";
    const toml::table* t = as_table(node, path,
                                    {"horizon_s", "warmup_s", "drain_s", "interval_s",
                                     "service_level_thresholds_s", "depth_step_s", "replications",
                                     "seed", "confidence"});
    if (t == nullptr) return false;
    constexpr double kMaxSeconds = 365.0 * 86400.0;  // a year: ms timestamps stay exact
    Scenario& s = scenario_;
    const toml::node* horizon = t->get("horizon_s");
    if (horizon == nullptr) return missing(*t, path, "horizon_s");
    if (!read_number(*horizon, child(path, "horizon_s"), 0.0, kMaxSeconds, s.horizon_s, true)) {
      return false;
    }
    if (const toml::node* n = t->get("warmup_s")) {
      if (!read_number(*n, child(path, "warmup_s"), 0.0, kMaxSeconds, s.warmup_s)) return false;
      if (s.warmup_s >= s.horizon_s) {
        return invalid(*n, child(path, "warmup_s"), "must be less than horizon_s");
      }
    }
    s.drain_s = 3600.0;
    if (const toml::node* n = t->get("drain_s")) {
      if (!read_number(*n, child(path, "drain_s"), 0.0, kMaxSeconds, s.drain_s)) return false;
    }
    s.interval_s = s.horizon_s;
    if (const toml::node* n = t->get("interval_s")) {
      if (!read_number(*n, child(path, "interval_s"), 0.0, kMaxSeconds, s.interval_s, true)) {
        return false;
      }
      if (s.interval_s > s.horizon_s) {
        return invalid(*n, child(path, "interval_s"), "must not exceed horizon_s");
      }
      if (s.interval_count() > 100000) {
        return invalid(*n, child(path, "interval_s"), "more than 100000 intervals");
      }
    }
    s.thresholds_s = {20.0};
    if (const toml::node* n = t->get("service_level_thresholds_s")) {
      const std::string p = child(path, "service_level_thresholds_s");
      const toml::array* a = as_array(*n, p);
      if (a == nullptr) return false;
      s.thresholds_s.clear();
      for (std::size_t i = 0; i < a->size(); ++i) {
        double v = 0.0;
        if (!read_number(*a->get(i), element(p, i), 0.0, kMaxSeconds, v)) return false;
        if (!s.thresholds_s.empty() && v <= s.thresholds_s.back()) {
          return invalid(*a->get(i), element(p, i), "thresholds must be increasing");
        }
        s.thresholds_s.push_back(v);
      }
    }
    s.depth_step_s = std::max(1.0, s.horizon_s / 240.0);
    if (const toml::node* n = t->get("depth_step_s")) {
      if (!read_number(*n, child(path, "depth_step_s"), 0.001, kMaxSeconds, s.depth_step_s)) {
        return false;
      }
      if ((s.horizon_s + s.drain_s) / s.depth_step_s > 1e6) {
        return invalid(*n, child(path, "depth_step_s"), "more than a million samples");
      }
    }
    std::int64_t v = 0;
    if (const toml::node* n = t->get("replications")) {
      if (!read_int(*n, child(path, "replications"), 1, 10000, v)) return false;
      s.replications = static_cast<std::uint32_t>(v);
    } else {
      s.replications = 5;
    }
    if (const toml::node* n = t->get("seed")) {
      if (!read_int(*n, child(path, "seed"), 0, std::numeric_limits<std::int64_t>::max(), v)) {
        return false;
      }
      s.seed = static_cast<std::uint64_t>(v);
    }
    if (const toml::node* n = t->get("confidence")) {
      if (!read_number(*n, child(path, "confidence"), 0.5, 0.999, s.confidence)) return false;
    }
    return true;
  }

  // The routing configuration: `path` (relative to the scenario's directory) or `inline`, a
  // multi-line string holding the configuration's TOML. Errors in an inline configuration are
  // moved to the scenario file's lines, so that they point where the operator must edit.
  bool load_routing(const toml::node& node) {
    const std::string path = "routing";
    const toml::table* t = as_table(node, path, {"path", "inline"});
    if (t == nullptr) return false;
    const toml::node* file = t->get("path");
    const toml::node* text = t->get("inline");
    if ((file == nullptr) == (text == nullptr)) {
      return invalid(*t, path, "exactly one of path and inline is required");
    }
    if (file != nullptr) {
      std::string p;
      if (!read_string(*file, child(path, "path"), p)) return false;
      std::filesystem::path resolved(p);
      if (resolved.is_relative()) resolved = std::filesystem::path(base_dir_) / resolved;
      Result<Config> config = load_config_file(resolved.lexically_normal().string());
      if (!config) {
        error_ = Error{config.error().code,
                       make_error(config.error().code, file->source().begin, child(path, "path"),
                                  "routing configuration: " + config.error().message)
                           .message};
        return false;
      }
      scenario_.config = std::move(config).value();
      scenario_.config_source = resolved.lexically_normal().string();
    } else {
      const auto* s = text->as_string();
      if (s == nullptr) return type_error(*text, child(path, "inline"), "a string");
      Result<Config> config = parse_config(s->get(), source_name_);
      if (!config) return fail_inline(*text, config.error());
      scenario_.config = std::move(config).value();
      scenario_.config_source = "inline";
    }
    // The scenario's agent groups are the population; agents of the configuration would receive
    // offers that nobody answers.
    scenario_.config.agents.clear();
    return true;
  }

  // parse_config's message starts "<source>:<line>:<column>: "; its line counts from the
  // string's first line. TOML trims the newline right after a multi-line string's opening
  // quotes, so then the string's line 1 is the line below the quotes.
  bool fail_inline(const toml::node& text, const Error& inner) {
    const std::string prefix = std::string(source_name_) + ":";
    const std::string& m = inner.message;
    const std::size_t line_end = m.rfind(prefix, 0) == 0 ? m.find(':', prefix.size()) : std::string::npos;
    const std::size_t column_end = line_end == std::string::npos ? std::string::npos : m.find(':', line_end + 1);
    if (column_end == std::string::npos || column_end + 2 > m.size()) {
      error_ = make_error(inner.code, text.source().begin, "routing.inline", m);
      return false;
    }
    const long inner_line = std::strtol(m.c_str() + prefix.size(), nullptr, 10);
    long column = std::strtol(m.c_str() + line_end + 1, nullptr, 10);
    const toml::source_position start = text.source().begin;
    long line = static_cast<long>(start.line) + inner_line - 1;
    if (starts_multiline(text)) {
      line += 1;
    } else if (inner_line == 1) {
      column += static_cast<long>(start.column);  // past the opening quote
    }
    error_ = Error{inner.code, prefix + std::to_string(line) + ":" + std::to_string(column) +
                                   ": routing.inline: " + m.substr(column_end + 2)};
    return false;
  }
  bool starts_multiline(const toml::node& text) const {
    // toml++ keeps no raw text; the scenario's source is re-read by the caller when needed.
    return multiline_lines_.count(text.source().begin.line) != 0;
  }

 public:
  // Lines (1-based) on which a multi-line string opens with its quotes at the end of the line.
  void scan_multiline(std::string_view text) {
    std::size_t line = 1;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
      if (i == text.size() || text[i] == '\n') {
        std::string_view l = text.substr(start, i - start);
        while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) {
          l.remove_suffix(1);
        }
        if (l.size() >= 3 && (l.ends_with("'''") || l.ends_with("\"\"\""))) {
          multiline_lines_.insert(static_cast<std::uint32_t>(line));
        }
        ++line;
        start = i + 1;
      }
    }
  }

 private:
  bool load_distribution(const toml::node& node, const std::string& path, Distribution& out) {
    const toml::table* t = as_table(node, path, {"distribution", "mean_s", "stddev_s"});
    if (t == nullptr) return false;
    const toml::node* kind = t->get("distribution");
    if (kind == nullptr) return missing(*t, path, "distribution");
    std::string name;
    if (!read_string(*kind, child(path, "distribution"), name)) return false;
    if (name == "constant") {
      out.kind = DistributionKind::constant;
    } else if (name == "exponential") {
      out.kind = DistributionKind::exponential;
    } else if (name == "lognormal") {
      out.kind = DistributionKind::lognormal;
    } else if (name == "gamma") {
      out.kind = DistributionKind::gamma;
    } else {
      return invalid(*kind, child(path, "distribution"),
                     "unknown distribution " + in_quotes(name) +
                         " (expected one of: constant, exponential, lognormal, gamma)");
    }
    const toml::node* mean = t->get("mean_s");
    if (mean == nullptr) return missing(*t, path, "mean_s");
    const bool positive = out.kind != DistributionKind::constant;
    if (!read_number(*mean, child(path, "mean_s"), 0.0, 1e9, out.mean_s, positive)) return false;
    const toml::node* stddev = t->get("stddev_s");
    const bool needs_stddev =
        out.kind == DistributionKind::lognormal || out.kind == DistributionKind::gamma;
    if (needs_stddev && stddev == nullptr) {
      return fail(ErrorCode::config_invalid_value, *t, child(path, "stddev_s"),
                  "missing required key (" + name + " needs mean_s and stddev_s)");
    }
    if (!needs_stddev && stddev != nullptr) {
      return invalid(*stddev, child(path, "stddev_s"),
                     "only lognormal and gamma take stddev_s (" + name + " is set by mean_s)");
    }
    if (stddev != nullptr &&
        !read_number(*stddev, child(path, "stddev_s"), 0.0, 1e9, out.stddev_s, true)) {
      return false;
    }
    return true;
  }

  bool load_queues(const toml::node& node) {
    const toml::array* array = as_array(node, "queues");
    if (array == nullptr) return false;
    if (array->empty()) return invalid(node, "queues", "at least one queue is required");
    const std::vector<std::string> names = queue_names();
    for (std::size_t i = 0; i < array->size(); ++i) {
      const std::string path = element("queues", i);
      const toml::table* t = as_table(*array->get(i), path,
                                      {"name", "rate_per_hour", "rates_per_hour", "handling",
                                       "wrap_up", "patience", "attributes", "skill_mix", "units"});
      if (t == nullptr) return false;
      QueueTraffic q;
      const toml::node* name = t->get("name");
      if (name == nullptr) return missing(*t, path, "name");
      std::size_t id = 0;
      if (!find_name(*name, child(path, "name"), "queue", names, id)) return false;
      q.queue = names[id];
      q.queue_id = static_cast<QueueId>(id);
      for (const QueueTraffic& other : scenario_.queues) {
        if (other.queue_id == q.queue_id) {
          return invalid(*name, child(path, "name"), "queue " + in_quotes(q.queue) + " listed twice");
        }
      }
      if (!load_rates(*t, path, q)) return false;
      const toml::node* handling = t->get("handling");
      if (handling == nullptr) return missing(*t, path, "handling");
      if (!load_distribution(*handling, child(path, "handling"), q.handling)) return false;
      if (const toml::node* n = t->get("wrap_up")) {
        q.wrap_up.emplace();
        if (!load_distribution(*n, child(path, "wrap_up"), *q.wrap_up)) return false;
      }
      if (const toml::node* n = t->get("patience")) {
        q.patience.emplace();
        if (!load_distribution(*n, child(path, "patience"), *q.patience)) return false;
      }
      if (const toml::node* n = t->get("units")) {
        std::int64_t v = 0;
        if (!read_int(*n, child(path, "units"), 1, 255, v)) return false;
        q.units = static_cast<std::int32_t>(v);
      }
      if (const toml::node* n = t->get("attributes")) {
        if (!load_attribute_mixes(*n, child(path, "attributes"), q)) return false;
      }
      if (const toml::node* n = t->get("skill_mix")) {
        if (!load_skill_mix(*n, child(path, "skill_mix"), q)) return false;
      }
      scenario_.queues.push_back(std::move(q));
    }
    return true;
  }

  bool load_rates(const toml::table& t, const std::string& path, QueueTraffic& q) {
    const toml::node* one = t.get("rate_per_hour");
    const toml::node* many = t.get("rates_per_hour");
    if ((one == nullptr) == (many == nullptr)) {
      return invalid(t, path, "exactly one of rate_per_hour and rates_per_hour is required");
    }
    const std::size_t intervals = scenario_.interval_count();
    if (one != nullptr) {
      double rate = 0.0;
      if (!read_number(*one, child(path, "rate_per_hour"), 0.0, 1e9, rate)) return false;
      q.rates_per_hour.assign(intervals, rate);
      return true;
    }
    const std::string p = child(path, "rates_per_hour");
    const toml::array* a = as_array(*many, p);
    if (a == nullptr) return false;
    if (a->size() != intervals) {
      return invalid(*many, p,
                     "has " + std::to_string(a->size()) + " rates; the scenario has " +
                         std::to_string(intervals) + " intervals (horizon_s / interval_s)");
    }
    for (std::size_t k = 0; k < a->size(); ++k) {
      double rate = 0.0;
      if (!read_number(*a->get(k), element(p, k), 0.0, 1e9, rate)) return false;
      q.rates_per_hour.push_back(rate);
    }
    return true;
  }

  bool read_attr_value(const toml::node& node, const std::string& path, AttrValue& out) {
    if (const auto* s = node.as_string()) {
      out = s->get();
    } else if (const auto* i = node.as_integer()) {
      out = i->get();
    } else {
      return type_error(node, path, "a string or an integer");
    }
    return true;
  }

  bool load_attribute_mixes(const toml::node& node, const std::string& path, QueueTraffic& q) {
    const toml::array* array = as_array(node, path);
    if (array == nullptr) return false;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const std::string p = element(path, i);
      const toml::table* t = as_table(*array->get(i), p, {"key", "values", "weights"});
      if (t == nullptr) return false;
      AttributeMix mix;
      const toml::node* key = t->get("key");
      if (key == nullptr) return missing(*t, p, "key");
      if (!read_string(*key, child(p, "key"), mix.key)) return false;
      const toml::node* values = t->get("values");
      if (values == nullptr) return missing(*t, p, "values");
      const toml::array* va = as_array(*values, child(p, "values"));
      if (va == nullptr) return false;
      if (va->empty()) return invalid(*values, child(p, "values"), "must not be empty");
      for (std::size_t k = 0; k < va->size(); ++k) {
        AttrValue v;
        if (!read_attr_value(*va->get(k), element(child(p, "values"), k), v)) return false;
        mix.values.push_back(std::move(v));
      }
      if (const toml::node* weights = t->get("weights")) {
        if (!read_weights(*weights, child(p, "weights"), va->size(), mix.weights)) return false;
      } else {
        mix.weights.assign(mix.values.size(), 1.0);
      }
      q.attributes.push_back(std::move(mix));
    }
    return true;
  }

  bool read_weights(const toml::node& node, const std::string& path, std::size_t count,
                    std::vector<double>& out) {
    const toml::array* a = as_array(node, path);
    if (a == nullptr) return false;
    if (a->size() != count) {
      return invalid(node, path,
                     "has " + std::to_string(a->size()) + " weights for " +
                         std::to_string(count) + " values");
    }
    for (std::size_t k = 0; k < a->size(); ++k) {
      double w = 0.0;
      if (!read_number(*a->get(k), element(path, k), 0.0, 1e12, w, true)) return false;
      out.push_back(w);
    }
    return true;
  }

  bool load_skill_mix(const toml::node& node, const std::string& path, QueueTraffic& q) {
    const toml::array* array = as_array(node, path);
    if (array == nullptr) return false;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const std::string p = element(path, i);
      const toml::table* t = as_table(*array->get(i), p, {"weight", "skills"});
      if (t == nullptr) return false;
      SkillOption option;
      if (const toml::node* w = t->get("weight")) {
        if (!read_number(*w, child(p, "weight"), 0.0, 1e12, option.weight, true)) return false;
      }
      const toml::node* skills = t->get("skills");
      if (skills == nullptr) return missing(*t, p, "skills");
      const std::string sp = child(p, "skills");
      const toml::table* st = as_table(*skills, sp);
      if (st == nullptr) return false;
      for (const auto& [key, value] : *st) {
        SkillRequirement r;
        if (!find_skill(key, child(sp, key.str()), r.skill)) return false;
        std::int64_t min = 0;
        if (!read_int(value, child(sp, key.str()), -1, std::numeric_limits<std::int32_t>::max(),
                      min)) {
          return false;
        }
        r.min_proficiency = static_cast<std::int32_t>(min);
        option.skills.push_back(r);
      }
      q.skill_mix.push_back(std::move(option));
    }
    return true;
  }

  bool find_presence(const toml::node& node, const std::string& path, PresenceId& out) {
    std::size_t id = 0;
    if (!find_name(node, path, "presence", scenario_.config.presences, id)) return false;
    out = static_cast<PresenceId>(id);
    return true;
  }

  bool load_agents(const toml::node& node) {
    const toml::array* array = as_array(node, "agents");
    if (array == nullptr) return false;
    if (array->empty()) return invalid(node, "agents", "at least one agent group is required");
    const std::vector<std::string> names = queue_names();
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const std::string path = element("agents", i);
      const toml::table* t = as_table(*array->get(i), path,
                                      {"name", "count", "skills", "capacity", "queues",
                                       "attributes", "shifts", "breaks", "presence", "answer"});
      if (t == nullptr) return false;
      AgentGroup g;
      const toml::node* name = t->get("name");
      if (name == nullptr) return missing(*t, path, "name");
      if (!read_string(*name, child(path, "name"), g.name)) return false;
      for (const AgentGroup& other : scenario_.groups) {
        if (other.name == g.name) {
          return invalid(*name, child(path, "name"), "group " + in_quotes(g.name) + " listed twice");
        }
      }
      const toml::node* count = t->get("count");
      if (count == nullptr) return missing(*t, path, "count");
      std::int64_t v = 0;
      if (!read_int(*count, child(path, "count"), 1, 1000000, v)) return false;
      g.count = static_cast<std::uint32_t>(v);
      total += g.count;
      if (total > 1000000) return invalid(*count, child(path, "count"), "more than a million agents");
      if (const toml::node* n = t->get("skills")) {
        const std::string sp = child(path, "skills");
        const toml::table* st = as_table(*n, sp);
        if (st == nullptr) return false;
        for (const auto& [key, value] : *st) {
          SkillLevel level;
          if (!find_skill(key, child(sp, key.str()), level.skill)) return false;
          std::int64_t p = 0;
          if (!read_int(value, child(sp, key.str()), 0, std::numeric_limits<std::int32_t>::max(), p)) {
            return false;
          }
          level.proficiency = static_cast<std::int32_t>(p);
          g.skills.push_back(level);
        }
      }
      g.capacity.units = 1;
      if (const toml::node* n = t->get("capacity")) {
        if (!load_capacity(*n, child(path, "capacity"), g.capacity)) return false;
      }
      const toml::node* queues = t->get("queues");
      if (queues == nullptr) return missing(*t, path, "queues");
      const std::string qp = child(path, "queues");
      const toml::array* qa = as_array(*queues, qp);
      if (qa == nullptr) return false;
      for (std::size_t k = 0; k < qa->size(); ++k) {
        std::size_t id = 0;
        if (!find_name(*qa->get(k), element(qp, k), "queue", names, id)) return false;
        if (std::find(g.queues.begin(), g.queues.end(), id) != g.queues.end()) {
          return invalid(*qa->get(k), element(qp, k), "queue listed twice");
        }
        g.queues.push_back(static_cast<QueueId>(id));
      }
      if (const toml::node* n = t->get("attributes")) {
        const std::string ap = child(path, "attributes");
        const toml::table* at = as_table(*n, ap);
        if (at == nullptr) return false;
        for (const auto& [key, value] : *at) {
          AttrValue a;
          if (!read_attr_value(value, child(ap, key.str()), a)) return false;
          g.attributes.emplace(std::string(key.str()), std::move(a));
        }
      }
      if (const toml::node* n = t->get("presence")) {
        if (!find_presence(*n, child(path, "presence"), g.working_presence)) return false;
      }
      if (const toml::node* n = t->get("shifts")) {
        if (!load_shifts(*n, child(path, "shifts"), g)) return false;
      }
      if (const toml::node* n = t->get("breaks")) {
        if (!load_breaks(*n, child(path, "breaks"), g)) return false;
      }
      if (const toml::node* n = t->get("answer")) {
        if (!load_answer(*n, child(path, "answer"), g.answer)) return false;
      }
      scenario_.groups.push_back(std::move(g));
    }
    return true;
  }

  bool load_capacity(const toml::node& node, const std::string& path, AgentCapacity& out) {
    const toml::table* t = as_table(node, path, {"units", "profiles"});
    if (t == nullptr) return false;
    out.units = 0;
    std::int64_t v = 0;
    if (const toml::node* n = t->get("units")) {
      if (!read_int(*n, child(path, "units"), 0, 255, v)) return false;
      out.units = static_cast<std::int32_t>(v);
    }
    out.profile_max.assign(scenario_.config.profiles.size(), 0);
    if (const toml::node* n = t->get("profiles")) {
      const std::string pp = child(path, "profiles");
      const toml::table* pt = as_table(*n, pp);
      if (pt == nullptr) return false;
      for (const auto& [key, value] : *pt) {
        const auto& profiles = scenario_.config.profiles;
        auto it = std::find_if(profiles.begin(), profiles.end(),
                               [&](const ProfileConfig& p) { return p.name == key.str(); });
        if (it == profiles.end()) {
          std::vector<std::string> names;
          for (const auto& p : profiles) names.push_back(p.name);
          return fail(ErrorCode::config_unknown_reference, key.source().begin,
                      child(pp, key.str()),
                      "unknown profile " + in_quotes(key.str()) +
                          " (the routing configuration declares: " + join(names) + ")");
        }
        if (!read_int(value, child(pp, key.str()), 0, 255, v)) return false;
        out.profile_max[static_cast<std::size_t>(it - profiles.begin())] =
            static_cast<std::int32_t>(v);
      }
    }
    return true;
  }

  bool load_shifts(const toml::node& node, const std::string& path, AgentGroup& g) {
    const toml::array* a = as_array(node, path);
    if (a == nullptr) return false;
    for (std::size_t k = 0; k < a->size(); ++k) {
      const std::string p = element(path, k);
      const toml::array* pair = as_array(*a->get(k), p);
      if (pair == nullptr) return false;
      if (pair->size() != 2) return invalid(*a->get(k), p, "a shift is [start_s, end_s]");
      double start = 0.0;
      double end = 0.0;
      if (!read_number(*pair->get(0), element(p, 0), 0.0, 1e9, start)) return false;
      if (!read_number(*pair->get(1), element(p, 1), 0.0, 1e9, end)) return false;
      if (end <= start) return invalid(*pair->get(1), element(p, 1), "a shift must end after it starts");
      if (!g.shifts.empty() && start < g.shifts.back().second) {
        return invalid(*pair->get(0), element(p, 0),
                       "shifts must be in time order and must not overlap");
      }
      g.shifts.emplace_back(start, end);
    }
    return true;
  }

  bool load_breaks(const toml::node& node, const std::string& path, AgentGroup& g) {
    const toml::array* a = as_array(node, path);
    if (a == nullptr) return false;
    for (std::size_t k = 0; k < a->size(); ++k) {
      const std::string p = element(path, k);
      const toml::table* t = as_table(*a->get(k), p,
                                      {"start_s", "duration_s", "stagger_s", "presence"});
      if (t == nullptr) return false;
      BreakSpec b;
      b.presence = 3;  // "away" (R2's built-in presences: available, busy, dnd, away, offline)
      const toml::node* start = t->get("start_s");
      if (start == nullptr) return missing(*t, p, "start_s");
      if (!read_number(*start, child(p, "start_s"), 0.0, 1e9, b.start_s)) return false;
      const toml::node* duration = t->get("duration_s");
      if (duration == nullptr) return missing(*t, p, "duration_s");
      if (!read_number(*duration, child(p, "duration_s"), 0.0, 1e9, b.duration_s, true)) {
        return false;
      }
      if (const toml::node* n = t->get("stagger_s")) {
        if (!read_number(*n, child(p, "stagger_s"), 0.0, 1e9, b.stagger_s)) return false;
      }
      if (const toml::node* n = t->get("presence")) {
        if (!find_presence(*n, child(p, "presence"), b.presence)) return false;
      }
      g.breaks.push_back(b);
    }
    return true;
  }

  bool load_answer(const toml::node& node, const std::string& path, AnswerBehavior& out) {
    const toml::table* t = as_table(node, path,
                                    {"accept", "decline", "no_answer", "response_delay",
                                     "no_answer_timeout_s"});
    if (t == nullptr) return false;
    const toml::node* accept = t->get("accept");
    const toml::node* decline = t->get("decline");
    const toml::node* no_answer = t->get("no_answer");
    out.accept = 1.0;
    out.decline = 0.0;
    out.no_answer = 0.0;
    if (decline != nullptr && !read_number(*decline, child(path, "decline"), 0.0, 1.0, out.decline)) {
      return false;
    }
    if (no_answer != nullptr &&
        !read_number(*no_answer, child(path, "no_answer"), 0.0, 1.0, out.no_answer)) {
      return false;
    }
    if (accept != nullptr) {
      if (!read_number(*accept, child(path, "accept"), 0.0, 1.0, out.accept)) return false;
      if (std::abs(out.accept + out.decline + out.no_answer - 1.0) > 1e-9) {
        return invalid(*accept, child(path, "accept"),
                       "accept + decline + no_answer must be 1 (they are " +
                           number_text(out.accept + out.decline + out.no_answer) + ")");
      }
    } else {
      out.accept = 1.0 - out.decline - out.no_answer;
      if (out.accept < 0.0) {
        return invalid(*t, path, "decline + no_answer exceed 1");
      }
    }
    if (const toml::node* n = t->get("response_delay")) {
      if (!load_distribution(*n, child(path, "response_delay"), out.response_delay)) return false;
    }
    if (const toml::node* n = t->get("no_answer_timeout_s")) {
      if (!read_number(*n, child(path, "no_answer_timeout_s"), 0.0, 1e9, out.no_answer_timeout_s)) {
        return false;
      }
    }
    return true;
  }

  std::string base_dir_;
  Scenario scenario_;
  std::set<std::uint32_t> multiline_lines_;
};

}  // namespace

std::size_t Scenario::interval_count() const {
  if (interval_s <= 0.0) return 1;
  return std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(horizon_s / interval_s - 1e-9)));
}

Result<Scenario> parse_scenario(std::string_view toml_text, std::string_view source_name,
                                const std::string& base_dir) {
  Loader loader(source_name, base_dir);
  loader.scan_multiline(toml_text);
  return config::parse_document(loader, toml_text, source_name);
}

Result<Scenario> load_scenario_file(const std::string& path) {
  Result<std::string> text = config::read_text_file(path, "scenario file", false);
  if (!text) return text.error();
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  Result<Scenario> scenario = parse_scenario(*text, path, dir);
  if (scenario) scenario->path = path;
  return scenario;
}

}  // namespace switchboard::loadtest
