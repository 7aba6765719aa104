// TOML -> Config (config_loader.hpp). The format: docs/configuration.md.
//
// One Loader walks the parsed document once, in dependency order (skills and presences, then
// profiles, channels, queues, agents), and stops at the first error: an operator fixes one line
// at a time, and a second error is often only a consequence of the first. Every key a table may
// hold is listed next to the code that reads it, so that an unknown key is always refused.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "switchboard/condition.hpp"
#include "switchboard/config.hpp"
#include "switchboard/config_loader.hpp"
#include "toml_reader.hpp"

namespace switchboard {
namespace {

constexpr std::int64_t kInt32Max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t kUInt32Max = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

constexpr std::array<std::string_view, 5> kChannelKinds = {"chat", "messaging", "voice", "email",
                                                           "record"};
constexpr std::array<std::string_view, 4> kMethods = {"highest_capacity", "round_robin",
                                                      "least_active", "custom"};
constexpr std::array<std::string_view, 2> kSkillMatchings = {"exact", "closest"};
constexpr std::array<std::string_view, 6> kAgentOrderBuiltins = {
    "least_active", "round_robin", "available_units", "available_profile", "proficiency",
    "skill_count"};

bool is_identifier(std::string_view text) {
  if (text.empty() || (text[0] >= '0' && text[0] <= '9')) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

using config::child;
using config::element;
using config::join;
using config::in_quotes;

class Loader : public config::TomlReader {
 public:
  Loader(std::string_view text, std::string_view source_name)
      : TomlReader(source_name), text_(text) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  Result<Config> run(const toml::table& root) {
    if (!load(root)) return std::move(*error_);
    return std::move(config_);
  }

 private:
  // --- generic readers ------------------------------------------------------------------------

  bool read_int(const toml::node& node, const std::string& path, std::int64_t min,
                std::int64_t max, std::int64_t& out) {
    const auto* value = node.as_integer();
    if (value == nullptr) return type_error(node, path, "an integer");
    const std::int64_t v = value->get();
    if (v < min || v > max) {
      const std::string range = max == kInt64Max
                                    ? std::to_string(min) + " or more"
                                    : std::to_string(min) + ".." + std::to_string(max);
      return fail(ErrorCode::config_invalid_value, node, path,
                  "value " + std::to_string(v) + " is out of range (expected " + range + ")");
    }
    out = v;
    return true;
  }
  template <typename T>
  bool read_int_as(const toml::node& node, const std::string& path, std::int64_t min,
                   std::int64_t max, T& out) {
    std::int64_t v = 0;
    if (!read_int(node, path, min, max, v)) return false;
    out = static_cast<T>(v);
    return true;
  }

  bool read_bool(const toml::node& node, const std::string& path, bool& out) {
    const auto* value = node.as_boolean();
    if (value == nullptr) return type_error(node, path, "a boolean");
    out = value->get();
    return true;
  }

  template <std::size_t N>
  bool read_choice(const toml::node& node, const std::string& path, std::string_view what,
                   const std::array<std::string_view, N>& names, std::size_t& out) {
    std::string text;
    if (!read_string(node, path, text, true)) return false;
    for (std::size_t i = 0; i < N; ++i) {
      if (names[i] == text) {
        out = i;
        return true;
      }
    }
    return fail(ErrorCode::config_invalid_value, node, path,
                "unknown " + std::string(what) + " " + in_quotes(text) +
                    " (expected one of: " + join(names) + ")");
  }

  bool read_presence_list(const toml::node& node, const std::string& path,
                          std::vector<PresenceId>& out) {
    const toml::array* array = as_array(node, path);
    if (array == nullptr) return false;
    if (array->empty()) {
      return fail(ErrorCode::config_invalid_value, node, path,
                  "must list at least one presence (an empty list would offer nothing)");
    }
    out.clear();
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const std::string item_path = element(path, i);
      std::string name;
      if (!read_string(item, item_path, name)) return false;
      const std::optional<PresenceId> id = config_.find_presence(name);
      if (!id) {
        return fail(ErrorCode::config_unknown_reference, item, item_path,
                    "unknown presence " + in_quotes(name) + " (declared: " +
                        join(config_.presences) + ")");
      }
      if (std::find(out.begin(), out.end(), *id) != out.end()) {
        return fail(ErrorCode::config_invalid_value, item, item_path,
                    "duplicate presence " + in_quotes(name));
      }
      out.push_back(*id);
    }
    return true;
  }

  // Maps a column inside a condition string back to the file, so that the error points at the
  // offending token. Exact for single-line strings; otherwise the string's start.
  toml::source_position condition_position(const toml::node& node, std::size_t column) const {
    toml::source_position at = node.source().begin;
    if (at.line == 0 || at.line > line_starts_.size() || column == 0) return at;
    const std::size_t quote = line_starts_[at.line - 1] + (at.column - 1);
    if (quote >= text_.size()) return at;
    const char q = text_[quote];
    if ((q != '\'' && q != '"') || text_.substr(quote, 3) == std::string(3, q)) return at;
    std::size_t raw = quote + 1;
    for (std::size_t decoded = 1; decoded < column; ++decoded) {
      if (raw >= text_.size() || text_[raw] == '\n') return at;
      if (q == '"' && text_[raw] == '\\') {
        if (raw + 1 >= text_.size()) return at;
        const char e = text_[raw + 1];
        if (e == 'u' || e == 'U') return at;  // multi-byte: not worth mapping exactly
        raw += 2;
      } else {
        ++raw;
      }
    }
    at.column = static_cast<toml::source_index>(at.column + (raw - quote));
    return at;
  }

  bool read_condition(const toml::node& node, const std::string& path, ConditionScope scope,
                      Condition& out) {
    std::string text;
    if (!read_string(node, path, text, true)) return false;
    ConditionParseOptions options;
    options.scope = scope;
    options.skills = &config_.skills;
    options.presences = &config_.presences;
    Result<Condition> parsed = parse_condition(text, options);
    if (!parsed) {
      // The parser's message starts with "column N: ..." (N counted in the condition).
      std::size_t column = 0;
      const std::string& message = parsed.error().message;
      if (message.rfind("column ", 0) == 0) {
        column = static_cast<std::size_t>(std::strtoull(message.c_str() + 7, nullptr, 10));
      }
      return fail(ErrorCode::config_condition, condition_position(node, column), path,
                  "condition " + message);
    }
    out = std::move(parsed.value());
    return true;
  }

  // --- the document ---------------------------------------------------------------------------

  bool load(const toml::table& root) {
    if (!check_keys(root, "",
                    {"decline_limit", "park_after_decliners", "skills", "presences", "profiles",
                     "channels", "queues", "agents"})) {
      return false;
    }
    if (const toml::node* node = root.get("decline_limit")) {
      if (!read_int_as(*node, "decline_limit", 1, 5, config_.decline_limit)) return false;
    }
    if (const toml::node* node = root.get("park_after_decliners")) {
      if (!read_int_as(*node, "park_after_decliners", 1, kInt32Max, config_.park_after_decliners)) {
        return false;
      }
    }
    if (!load_skills(root) || !load_presences(root) || !load_profiles(root) ||
        !load_channels(root) || !load_queues(root) || !load_agents(root)) {
      return false;
    }
    return true;
  }

  bool load_skills(const toml::table& root) {
    const toml::node* node = root.get("skills");
    if (node == nullptr) return true;
    const toml::array* array = as_array(*node, "skills");
    if (array == nullptr) return false;
    if (array->size() > kMaxSkills) {
      return fail(ErrorCode::config_invalid_value, *node, "skills",
                  std::to_string(array->size()) + " skills declared (at most " +
                      std::to_string(kMaxSkills) + ")");
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const std::string path = element("skills", i);
      std::string name;
      if (!read_string(item, path, name)) return false;
      if (config_.find_skill(name)) {
        return fail(ErrorCode::config_invalid_value, item, path, "duplicate skill " + in_quotes(name));
      }
      config_.skills.push_back(std::move(name));
    }
    return true;
  }

  bool load_presences(const toml::table& root) {
    for (std::string_view builtin : kBuiltinPresences) config_.presences.emplace_back(builtin);
    const toml::node* node = root.get("presences");
    if (node == nullptr) return true;
    const toml::array* array = as_array(*node, "presences");
    if (array == nullptr) return false;
    std::set<std::string, std::less<>> listed;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const std::string path = element("presences", i);
      std::string name;
      if (!read_string(item, path, name)) return false;
      if (!listed.insert(name).second) {
        return fail(ErrorCode::config_invalid_value, item, path,
                    "duplicate presence " + in_quotes(name));
      }
      // Listing a built-in is allowed (a file may spell out every presence it uses).
      if (config_.find_presence(name)) continue;
      if (config_.presences.size() >= kMaxPresences) {
        return fail(ErrorCode::config_invalid_value, item, path,
                    "too many presences (at most " + std::to_string(kMaxPresences) +
                        ", the five built-in ones included)");
      }
      config_.presences.push_back(std::move(name));
    }
    return true;
  }

  // toml++ tables are ordered by key, so profile and channel ids follow their names' byte order
  // (documented); arrays (queues, agents) keep the file's order.
  bool load_profiles(const toml::table& root) {
    const toml::node* node = root.get("profiles");
    if (node == nullptr) return true;
    const toml::table* table = as_table(*node, "profiles");
    if (table == nullptr) return false;
    if (table->size() > kMaxProfiles) {
      return fail(ErrorCode::config_invalid_value, *node, "profiles",
                  std::to_string(table->size()) + " profiles declared (at most " +
                      std::to_string(kMaxProfiles) + ")");
    }
    for (const auto& [key, value] : *table) {
      const std::string path = child("profiles", key.str());
      if (key.str().empty()) {
        return fail(ErrorCode::config_invalid_value, key.source().begin, path,
                    "a profile name must not be empty");
      }
      const toml::table* profile = as_table(value, path, {"blocks_others"});
      if (profile == nullptr) return false;
      ProfileConfig config{std::string(key.str()), false};
      if (const toml::node* n = profile->get("blocks_others")) {
        if (!read_bool(*n, child(path, "blocks_others"), config.blocks_others)) return false;
      }
      config_.profiles.push_back(std::move(config));
    }
    return true;
  }

  bool load_channels(const toml::table& root) {
    const toml::node* node = root.get("channels");
    if (node == nullptr) return true;
    const toml::table* table = as_table(*node, "channels");
    if (table == nullptr) return false;
    if (table->size() > std::size_t{std::numeric_limits<ChannelId>::max()} + 1) {
      return fail(ErrorCode::config_invalid_value, *node, "channels", "too many channels");
    }
    for (const auto& [key, value] : *table) {
      const std::string path = child("channels", key.str());
      const std::string name(key.str());
      if (name.empty()) {
        return fail(ErrorCode::config_invalid_value, key.source().begin, path,
                    "a channel name must not be empty");
      }
      const toml::table* t = as_table(value, path,
                                      {"kind", "capacity", "allowed_presences", "wrap_up_ms",
                                       "offer_timeout_ms", "block_size", "prioritization_limit",
                                       "periodic_ms", "order_by_last_message"});
      if (t == nullptr) return false;
      std::size_t kind = 0;
      if (const toml::node* n = t->get("kind")) {
        if (!read_choice(*n, child(path, "kind"), "channel kind", kChannelKinds, kind)) {
          return false;
        }
      } else {
        const auto it = std::find(kChannelKinds.begin(), kChannelKinds.end(), name);
        if (it == kChannelKinds.end()) {
          return missing(*t, path, "kind",
                         "the channel's name is not a kind; expected one of: " +
                             join(kChannelKinds));
        }
        kind = static_cast<std::size_t>(it - kChannelKinds.begin());
      }
      ChannelConfig channel = channel_defaults(static_cast<ChannelKind>(kind));
      channel.name = name;
      if (const toml::node* n = t->get("capacity")) {
        if (!read_channel_capacity(*n, child(path, "capacity"), channel)) return false;
      }
      if (const toml::node* n = t->get("allowed_presences")) {
        if (!read_presence_list(*n, child(path, "allowed_presences"), channel.allowed_presences)) {
          return false;
        }
      }
      if (const toml::node* n = t->get("wrap_up_ms")) {
        if (!read_int(*n, child(path, "wrap_up_ms"), 0, kInt64Max, channel.wrap_up_ms)) return false;
      }
      if (const toml::node* n = t->get("offer_timeout_ms")) {
        if (!read_int(*n, child(path, "offer_timeout_ms"), 0, kInt64Max, channel.offer_timeout_ms)) {
          return false;
        }
      }
      if (const toml::node* n = t->get("block_size")) {
        if (!read_int_as(*n, child(path, "block_size"), 1, kUInt32Max, channel.block_size)) {
          return false;
        }
      }
      if (const toml::node* n = t->get("prioritization_limit")) {
        if (!read_int_as(*n, child(path, "prioritization_limit"), 0, kUInt32Max,
                         channel.prioritization_limit)) {
          return false;
        }
      }
      if (const toml::node* n = t->get("periodic_ms")) {
        if (!read_int(*n, child(path, "periodic_ms"), 0, kInt64Max, channel.periodic_ms)) {
          return false;
        }
      }
      if (const toml::node* n = t->get("order_by_last_message")) {
        if (!read_bool(*n, child(path, "order_by_last_message"), channel.order_by_last_message)) {
          return false;
        }
      }
      config_.channels.push_back(std::move(channel));
    }
    return true;
  }

  bool read_channel_capacity(const toml::node& node, const std::string& path,
                             ChannelConfig& channel) {
    const toml::table* t = as_table(node, path, {"units", "profile"});
    if (t == nullptr) return false;
    const toml::node* units = t->get("units");
    const toml::node* profile = t->get("profile");
    if ((units == nullptr) == (profile == nullptr)) {
      return fail(ErrorCode::config_invalid_value, node, path,
                  "expected exactly one of units (unit-based) or profile (profile-based)");
    }
    if (units != nullptr) {
      channel.capacity_model = CapacityModel::units;
      return read_int_as(*units, child(path, "units"), 1, kInt32Max, channel.units_per_item);
    }
    std::string name;
    if (!read_string(*profile, child(path, "profile"), name)) return false;
    const std::optional<ProfileId> id = config_.find_profile(name);
    if (!id) {
      return fail(ErrorCode::config_unknown_reference, *profile, child(path, "profile"),
                  "unknown profile " + in_quotes(name) + " (not declared in [profiles])");
    }
    channel.capacity_model = CapacityModel::profile;
    channel.profile = *id;
    return true;
  }

  bool load_queues(const toml::table& root) {
    const toml::node* node = root.get("queues");
    if (node == nullptr) return true;
    const toml::array* array = as_array(*node, "queues");
    if (array == nullptr) return false;
    for (std::size_t i = 0; i < array->size(); ++i) {
      QueueConfig queue;
      if (!load_queue(*array->get(i), element("queues", i), queue)) return false;
      config_.queues.push_back(std::move(queue));
    }
    return true;
  }

  bool load_queue(const toml::node& node, const std::string& path, QueueConfig& queue) {
    const toml::table* t = as_table(node, path,
                                    {"name", "group", "channel", "method", "skill_matching",
                                     "requires_working", "allowed_presences", "block_size",
                                     "prioritization_limit", "strict_blocks", "prioritization",
                                     "assignment"});
    if (t == nullptr) return false;
    const toml::node* name = t->get("name");
    if (name == nullptr) return missing(*t, path, "name");
    if (!read_string(*name, child(path, "name"), queue.name)) return false;
    if (config_.find_queue(queue.name)) {
      return fail(ErrorCode::config_invalid_value, *name, child(path, "name"),
                  "duplicate queue name " + in_quotes(queue.name));
    }
    if (const toml::node* n = t->get("group")) {
      if (!read_int_as(*n, child(path, "group"), std::numeric_limits<std::int32_t>::min(),
                       kInt32Max, queue.group)) {
        return false;
      }
    }
    const toml::node* channel = t->get("channel");
    if (channel == nullptr) return missing(*t, path, "channel");
    std::string channel_name;
    if (!read_string(*channel, child(path, "channel"), channel_name)) return false;
    const std::optional<ChannelId> channel_id = config_.find_channel(channel_name);
    if (!channel_id) {
      std::vector<std::string> names;
      for (const ChannelConfig& c : config_.channels) names.push_back(c.name);
      return fail(ErrorCode::config_unknown_reference, *channel, child(path, "channel"),
                  "unknown channel " + in_quotes(channel_name) + " (declared: " + join(names) + ")");
    }
    queue.channel = *channel_id;
    queue.block_size = config_.channels[*channel_id].block_size;
    queue.prioritization_limit = config_.channels[*channel_id].prioritization_limit;
    if (const toml::node* n = t->get("method")) {
      std::size_t method = 0;
      if (!read_choice(*n, child(path, "method"), "assignment method", kMethods, method)) {
        return false;
      }
      queue.method = static_cast<AssignmentMethod>(method);
    }
    if (const toml::node* n = t->get("skill_matching")) {
      std::size_t matching = 0;
      if (!read_choice(*n, child(path, "skill_matching"), "skill matching", kSkillMatchings,
                       matching)) {
        return false;
      }
      queue.skill_matching = static_cast<SkillMatching>(matching);
    }
    if (const toml::node* n = t->get("requires_working")) {
      if (!read_bool(*n, child(path, "requires_working"), queue.requires_working)) return false;
    }
    if (const toml::node* n = t->get("allowed_presences")) {
      if (!read_presence_list(*n, child(path, "allowed_presences"), queue.allowed_presences)) {
        return false;
      }
    }
    if (const toml::node* n = t->get("block_size")) {
      if (!read_int_as(*n, child(path, "block_size"), 1, kUInt32Max, queue.block_size)) {
        return false;
      }
    }
    if (const toml::node* n = t->get("prioritization_limit")) {
      if (!read_int_as(*n, child(path, "prioritization_limit"), 0, kUInt32Max,
                       queue.prioritization_limit)) {
        return false;
      }
    }
    if (const toml::node* n = t->get("strict_blocks")) {
      if (!read_bool(*n, child(path, "strict_blocks"), queue.strict_blocks)) return false;
    }
    if (const toml::node* n = t->get("prioritization")) {
      if (!load_prioritization(*n, child(path, "prioritization"), queue)) return false;
    }
    const toml::node* assignment = t->get("assignment");
    if (queue.method == AssignmentMethod::custom) {
      if (assignment == nullptr) {
        return missing(*t, path, "assignment", "method \"custom\" needs an assignment ruleset");
      }
      if (!load_assignment(*assignment, child(path, "assignment"), queue)) return false;
    } else if (assignment != nullptr) {
      return fail(ErrorCode::config_invalid_value, *assignment, child(path, "assignment"),
                  "an assignment ruleset needs method = \"custom\" (the method is " +
                      in_quotes(to_string(queue.method)) + ")");
    }
    return true;
  }

  bool load_prioritization(const toml::node& node, const std::string& path, QueueConfig& queue) {
    const toml::array* array = as_array(node, path);
    if (array == nullptr) return false;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const std::string rule_path = element(path, i);
      const toml::table* t = as_table(*array->get(i), rule_path, {"name", "when", "order_by"});
      if (t == nullptr) return false;
      PrioritizationRule rule;
      if (const toml::node* n = t->get("name")) {
        if (!read_string(*n, child(rule_path, "name"), rule.name, true)) return false;
      }
      if (const toml::node* n = t->get("when")) {
        if (!read_condition(*n, child(rule_path, "when"), ConditionScope::item_only, rule.when)) {
          return false;
        }
      } else {
        rule.when = parse_condition("", {}).value();
      }
      if (const toml::node* n = t->get("order_by")) {
        if (!read_item_order(*n, child(rule_path, "order_by"), rule.order_by)) return false;
      }
      queue.prioritization.push_back(std::move(rule));
    }
    return true;
  }

  // Splits "key [asc|desc]"; false if the direction word is something else or there is more.
  static bool split_order(std::string_view text, std::string_view& key,
                          std::optional<bool>& descending) {
    auto skip = [&](std::size_t i) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
      return i;
    };
    std::size_t i = skip(0);
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    key = text.substr(i, j - i);
    i = skip(j);
    if (i == text.size()) return !key.empty();
    j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
    const std::string_view direction = text.substr(i, j - i);
    if (skip(j) != text.size()) return false;
    if (direction == "asc") {
      descending = false;
    } else if (direction == "desc") {
      descending = true;
    } else {
      return false;
    }
    return !key.empty();
  }

  bool read_item_order(const toml::node& node, const std::string& path, ItemOrder& out) {
    std::string text;
    if (!read_string(node, path, text, true)) return false;
    const std::string expected =
        " (expected \"fifo\" or \"item.<key> asc\" / \"item.<key> desc\", key at most two "
        "levels: item.a or item.a.b)";
    std::string_view key;
    std::optional<bool> descending;
    if (!split_order(text, key, descending)) {
      return fail(ErrorCode::config_invalid_value, node, path,
                  "invalid order_by " + in_quotes(text) + expected);
    }
    if (key == "fifo") {
      if (descending) {
        return fail(ErrorCode::config_invalid_value, node, path,
                    "\"fifo\" takes no direction" + expected);
      }
      out = ItemOrder{};
      return true;
    }
    if (key.rfind("item.", 0) != 0) {
      return fail(ErrorCode::config_invalid_value, node, path,
                  "invalid order_by " + in_quotes(text) + expected);
    }
    const std::string_view attribute = key.substr(5);
    const std::size_t dot = attribute.find('.');
    const bool valid =
        dot == std::string_view::npos
            ? is_identifier(attribute)
            : is_identifier(attribute.substr(0, dot)) && is_identifier(attribute.substr(dot + 1));
    if (!valid) {
      return fail(ErrorCode::config_invalid_value, node, path,
                  "invalid order_by " + in_quotes(text) + expected);
    }
    out.attribute = std::string(attribute);
    out.descending = descending.value_or(false);
    return true;
  }

  bool load_assignment(const toml::node& node, const std::string& path, QueueConfig& queue) {
    const toml::array* array = as_array(node, path);
    if (array == nullptr) return false;
    if (array->empty()) {
      return fail(ErrorCode::config_invalid_value, node, path,
                  "method \"custom\" needs at least one assignment rule");
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      const std::string rule_path = element(path, i);
      const toml::table* t = as_table(*array->get(i), rule_path, {"name", "when", "order_by"});
      if (t == nullptr) return false;
      AssignmentRule rule;
      if (const toml::node* n = t->get("name")) {
        if (!read_string(*n, child(rule_path, "name"), rule.name, true)) return false;
      }
      if (const toml::node* n = t->get("when")) {
        if (!read_condition(*n, child(rule_path, "when"), ConditionScope::agent_and_item,
                            rule.when)) {
          return false;
        }
      } else {
        rule.when = parse_condition("", {}).value();
      }
      if (const toml::node* n = t->get("order_by")) {
        const std::string order_path = child(rule_path, "order_by");
        if (n->is_string()) {
          AgentOrderKey key;
          if (!read_agent_order(*n, order_path, key)) return false;
          rule.order_by.push_back(std::move(key));
        } else {
          const toml::array* keys = n->as_array();
          if (keys == nullptr) return type_error(*n, order_path, "an array of strings");
          for (std::size_t k = 0; k < keys->size(); ++k) {
            AgentOrderKey key;
            if (!read_agent_order(*keys->get(k), element(order_path, k), key)) return false;
            rule.order_by.push_back(std::move(key));
          }
        }
      }
      queue.assignment.push_back(std::move(rule));
    }
    return true;
  }

  // "asc" / "desc" name the direction of the key's value, as an operator reads them:
  // "proficiency desc" = most proficient first. The plain form is the key's natural direction
  // (config.hpp); AgentOrderKey::descending records a reversal of that natural direction.
  bool read_agent_order(const toml::node& node, const std::string& path, AgentOrderKey& out) {
    std::string text;
    if (!read_string(node, path, text, true)) return false;
    const std::string expected = " (expected one of: " + join(kAgentOrderBuiltins) +
                                 ", agent.<key>; optionally followed by asc or desc)";
    std::string_view key;
    std::optional<bool> descending;
    if (!split_order(text, key, descending)) {
      return fail(ErrorCode::config_invalid_value, node, path,
                  "invalid order_by " + in_quotes(text) + expected);
    }
    out.descending = descending.value_or(false);
    const auto it = std::find(kAgentOrderBuiltins.begin(), kAgentOrderBuiltins.end(), key);
    if (it != kAgentOrderBuiltins.end()) {
      out.kind = static_cast<AgentOrderKind>(it - kAgentOrderBuiltins.begin());
      // Capacity and proficiency are naturally "most first", i.e. descending by value.
      const bool natural_desc = out.kind == AgentOrderKind::available_units ||
                                out.kind == AgentOrderKind::available_profile ||
                                out.kind == AgentOrderKind::proficiency;
      out.descending = descending.has_value() && *descending != natural_desc;
      return true;
    }
    if (key.rfind("agent.", 0) == 0 && is_identifier(key.substr(6))) {
      out.kind = AgentOrderKind::attribute;
      out.attribute = std::string(key.substr(6));
      return true;
    }
    return fail(ErrorCode::config_invalid_value, node, path,
                "unknown order_by key " + in_quotes(text) + expected);
  }

  bool load_agents(const toml::table& root) {
    const toml::node* node = root.get("agents");
    if (node == nullptr) return true;
    const toml::array* array = as_array(*node, "agents");
    if (array == nullptr) return false;
    std::set<ExternalId> ids;
    for (std::size_t i = 0; i < array->size(); ++i) {
      AgentSeed agent;
      const std::string path = element("agents", i);
      if (!load_agent(*array->get(i), path, agent)) return false;
      if (!ids.insert(agent.id).second) {
        const toml::node& id_node = *array->get(i)->as_table()->get("id");
        return fail(ErrorCode::config_invalid_value, id_node, child(path, "id"),
                    "duplicate agent id " + in_quotes(agent.id.to_string()));
      }
      config_.agents.push_back(std::move(agent));
    }
    return true;
  }

  bool load_agent(const toml::node& node, const std::string& path, AgentSeed& agent) {
    const toml::table* t = as_table(node, path,
                                    {"id", "presence", "skills", "capacity", "attributes",
                                     "working", "shifts", "queues"});
    if (t == nullptr) return false;
    const toml::node* id = t->get("id");
    if (id == nullptr) return missing(*t, path, "id");
    if (id->is_integer()) {
      std::int64_t number = 0;
      if (!read_int(*id, child(path, "id"), 0, kInt64Max, number)) return false;
      agent.id = ExternalId(static_cast<std::uint64_t>(number));
    } else if (id->is_string()) {
      std::string name;
      if (!read_string(*id, child(path, "id"), name)) return false;
      agent.id = ExternalId(std::move(name));
    } else {
      return type_error(*id, child(path, "id"), "a string or a non-negative integer");
    }
    agent.presence = config_.offline();
    if (const toml::node* n = t->get("presence")) {
      std::string name;
      if (!read_string(*n, child(path, "presence"), name)) return false;
      const std::optional<PresenceId> presence = config_.find_presence(name);
      if (!presence) {
        return fail(ErrorCode::config_unknown_reference, *n, child(path, "presence"),
                    "unknown presence " + in_quotes(name) + " (declared: " +
                        join(config_.presences) + ")");
      }
      agent.presence = *presence;
    }
    if (const toml::node* n = t->get("skills")) {
      if (!read_agent_skills(*n, child(path, "skills"), agent)) return false;
    }
    agent.capacity.profile_max.assign(config_.profiles.size(), 0);
    if (const toml::node* n = t->get("capacity")) {
      if (!read_agent_capacity(*n, child(path, "capacity"), agent.capacity)) return false;
    }
    if (const toml::node* n = t->get("attributes")) {
      if (!read_attributes(*n, child(path, "attributes"), agent.attributes)) return false;
    }
    if (const toml::node* n = t->get("working")) {
      if (!read_bool(*n, child(path, "working"), agent.working)) return false;
    }
    if (const toml::node* n = t->get("shifts")) {
      if (!read_shifts(*n, child(path, "shifts"), agent.shifts)) return false;
    }
    if (const toml::node* n = t->get("queues")) {
      if (!read_agent_queues(*n, child(path, "queues"), agent.queues)) return false;
    }
    return true;
  }

  bool read_agent_skills(const toml::node& node, const std::string& path, AgentSeed& agent) {
    const toml::table* t = as_table(node, path);
    if (t == nullptr) return false;
    for (const auto& [key, value] : *t) {
      const std::string skill_path = child(path, key.str());
      const std::optional<SkillId> skill = config_.find_skill(key.str());
      if (!skill) {
        return fail(ErrorCode::config_unknown_reference, key.source().begin, skill_path,
                    "unknown skill " + in_quotes(key.str()) + " (not declared in skills)");
      }
      SkillLevel level{*skill, 0};
      if (!read_int_as(value, skill_path, 0, kInt32Max, level.proficiency)) return false;
      agent.skills.push_back(level);
    }
    // By SkillId, so that equal configurations give equal seeds whatever the key order.
    std::sort(agent.skills.begin(), agent.skills.end(),
              [](const SkillLevel& a, const SkillLevel& b) { return a.skill < b.skill; });
    return true;
  }

  bool read_agent_capacity(const toml::node& node, const std::string& path,
                           AgentCapacity& capacity) {
    const toml::table* t = as_table(node, path, {"units", "profiles"});
    if (t == nullptr) return false;
    if (const toml::node* n = t->get("units")) {
      if (!read_int_as(*n, child(path, "units"), 0, kInt32Max, capacity.units)) return false;
    }
    if (const toml::node* n = t->get("profiles")) {
      const std::string profiles_path = child(path, "profiles");
      const toml::table* profiles = as_table(*n, profiles_path);
      if (profiles == nullptr) return false;
      for (const auto& [key, value] : *profiles) {
        const std::string profile_path = child(profiles_path, key.str());
        const std::optional<ProfileId> profile = config_.find_profile(key.str());
        if (!profile) {
          return fail(ErrorCode::config_unknown_reference, key.source().begin, profile_path,
                      "unknown profile " + in_quotes(key.str()) + " (not declared in [profiles])");
        }
        if (!read_int_as(value, profile_path, 0, kInt32Max, capacity.profile_max[*profile])) {
          return false;
        }
      }
    }
    return true;
  }

  bool read_attributes(const toml::node& node, const std::string& path, Attributes& out) {
    const toml::table* t = as_table(node, path);
    if (t == nullptr) return false;
    for (const auto& [key, value] : *t) {
      const std::string attribute_path = child(path, key.str());
      if (const auto* text = value.as_string()) {
        out.emplace(std::string(key.str()), text->get());
      } else if (const auto* number = value.as_integer()) {
        out.emplace(std::string(key.str()), number->get());
      } else {
        return type_error(value, attribute_path, "a string or an integer");
      }
    }
    return true;
  }

  bool read_shifts(const toml::node& node, const std::string& path, std::vector<Shift>& out) {
    const toml::array* array = as_array(node, path);
    if (array == nullptr) return false;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const std::string shift_path = element(path, i);
      const toml::node& item = *array->get(i);
      const toml::array* pair = item.as_array();
      if (pair == nullptr || pair->size() != 2) {
        return type_error(item, shift_path, "[start_ms, end_ms]");
      }
      Shift shift;
      if (!read_int(*pair->get(0), element(shift_path, 0), kInt64Min, kInt64Max, shift.start) ||
          !read_int(*pair->get(1), element(shift_path, 1), kInt64Min, kInt64Max, shift.end)) {
        return false;
      }
      if (shift.start >= shift.end) {
        return fail(ErrorCode::config_invalid_value, item, shift_path,
                    "a shift must end after it starts (start " + std::to_string(shift.start) +
                        ", end " + std::to_string(shift.end) + ")");
      }
      out.push_back(shift);
    }
    return true;
  }

  bool read_agent_queues(const toml::node& node, const std::string& path,
                         std::vector<QueueId>& out) {
    const toml::array* array = as_array(node, path);
    if (array == nullptr) return false;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const std::string queue_path = element(path, i);
      const toml::node& item = *array->get(i);
      std::string name;
      if (!read_string(item, queue_path, name)) return false;
      const std::optional<QueueId> queue = config_.find_queue(name);
      if (!queue) {
        return fail(ErrorCode::config_unknown_reference, item, queue_path,
                    "unknown queue " + in_quotes(name) + " (not declared in [[queues]])");
      }
      if (std::find(out.begin(), out.end(), *queue) != out.end()) {
        return fail(ErrorCode::config_invalid_value, item, queue_path,
                    "duplicate queue " + in_quotes(name));
      }
      out.push_back(*queue);
    }
    return true;
  }

  std::string_view text_;
  std::vector<std::size_t> line_starts_;
  Config config_;
};

}  // namespace

Result<Config> parse_config(std::string_view toml_text, std::string_view source_name) {
  Loader loader(toml_text, source_name);
  return config::parse_document(loader, toml_text, source_name);
}

}  // namespace switchboard
