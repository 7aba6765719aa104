#include "switchboard/jsonl/codec.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace switchboard::jsonl {
namespace {

// ordered_json keeps fields in document order: agent skills and attributes decode in the order
// the host wrote them (so decode(encode(e)) == e holds exactly), and encoded lines read in a
// fixed, human order ("t" and "decision" first).
using Json = nlohmann::ordered_json;

constexpr std::int64_t kInt32Max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

// Invalid UTF-8 can only come from the host's raw bytes; replacing it keeps dump() from throwing.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// "a, b, c" of up to ten names, so that an unknown-name error shows what would have been right.
template <typename Range, typename NameOf>
std::string declared(const Range& range, NameOf name_of) {
  std::string out;
  std::size_t n = 0;
  for (const auto& entry : range) {
    if (n == 10) {
      out += ", ... (" + std::to_string(range.size()) + " in all)";
      break;
    }
    if (n++ > 0) out += ", ";
    out += name_of(entry);
  }
  return out.empty() ? "none" : out;
}

std::string quote(std::string_view text) { return dump(Json(std::string(text))); }

// ---- decoding --------------------------------------------------------------------------------

// The fields every event has; each type adds its own (kSchemas below).
constexpr std::array<std::string_view, 3> kCommonFields = {"t", "seq", "type"};

// Reads the fields of one event object. Every reader returns false after recording the first
// error (code and a message naming the field); decoding stops there.
class Decoder {
 public:
  Decoder(const Json& object, const Config& config) : object_(object), config_(config) {}

  void set_type(std::string_view type) { type_ = type; }
  [[nodiscard]] const Error& error() const { return error_; }

  bool fail(ErrorCode code, std::string_view path, const std::string& what) {
    std::string message;
    if (!type_.empty()) message.append(type_).append(": ");
    message.append("field \"").append(path).append("\": ").append(what);
    error_ = Error{code, std::move(message)};
    return false;
  }

  // The field `name` of the event object, or nullptr when absent.
  [[nodiscard]] const Json* find(std::string_view name) const {
    const auto it = object_.find(std::string(name));
    return it == object_.end() ? nullptr : &*it;
  }

  // Every field must be one the type defines: an unknown field is a typo or a newer host, and
  // ignoring it would route on something other than what the host meant.
  bool check_fields(std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : object_.items()) {
      const bool known =
          std::find(kCommonFields.begin(), kCommonFields.end(), key) != kCommonFields.end() ||
          std::find(allowed.begin(), allowed.end(), key) != allowed.end();
      if (!known) {
        std::string expected = "t, seq, type";
        for (std::string_view a : allowed) expected.append(", ").append(a);
        return fail(ErrorCode::malformed_event, key,
                    "unknown field (" + std::string(type_) + " has: " + expected + ")");
      }
    }
    return true;
  }

  bool required(std::string_view name, const Json*& out) {
    out = find(name);
    if (out == nullptr) return fail(ErrorCode::malformed_event, name, "missing (it is required)");
    return true;
  }

  // An integer in [min, max]; a float, string or anything else is malformed.
  bool integer(const Json& j, std::string_view path, std::int64_t min, std::int64_t max,
               std::int64_t& out, std::string_view what = "an integer") {
    if (!j.is_number_integer()) {
      return fail(ErrorCode::malformed_event, path,
                  "must be " + std::string(what) + ", not " + describe(j));
    }
    if (j.is_number_unsigned()) {
      const auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(max)) {
        return fail(ErrorCode::invalid_value, path,
                    std::to_string(u) + " is out of range (at most " + std::to_string(max) + ")");
      }
      out = static_cast<std::int64_t>(u);
    } else {
      out = j.get<std::int64_t>();
    }
    if (out < min) {
      return fail(ErrorCode::invalid_value, path,
                  std::to_string(out) + " is out of range (at least " + std::to_string(min) + ")");
    }
    if (out > max) {
      return fail(ErrorCode::invalid_value, path,
                  std::to_string(out) + " is out of range (at most " + std::to_string(max) + ")");
    }
    return true;
  }

  bool int32(const Json& j, std::string_view path, std::int64_t min, std::int32_t& out) {
    std::int64_t v = 0;
    if (!integer(j, path, min, kInt32Max, v)) return false;
    out = static_cast<std::int32_t>(v);
    return true;
  }

  // Times are non-negative milliseconds on the host's clock.
  bool time(const Json& j, std::string_view path, Timestamp& out) {
    return integer(j, path, 0, kInt64Max, out, "an integer (milliseconds)");
  }

  bool optional_time(std::string_view name, std::optional<Timestamp>& out) {
    const Json* j = find(name);
    if (j == nullptr) return true;
    Timestamp t = 0;
    if (!time(*j, name, t)) return false;
    out = t;
    return true;
  }

  bool boolean(const Json& j, std::string_view path, bool& out) {
    if (!j.is_boolean()) return fail(ErrorCode::malformed_event, path, "must be true or false, not " + describe(j));
    out = j.get<bool>();
    return true;
  }

  // An agent or item id: a non-negative integer or a non-empty string.
  bool id(const Json& j, std::string_view path, ExternalId& out) {
    if (j.is_number_unsigned()) {
      out = ExternalId(j.get<std::uint64_t>());
      return true;
    }
    if (j.is_number_integer()) {
      return fail(ErrorCode::invalid_value, path,
                  "id " + std::to_string(j.get<std::int64_t>()) +
                      " is negative; ids are integers >= 0 or strings");
    }
    if (j.is_string()) {
      const auto& name = j.get_ref<const std::string&>();
      if (name.empty()) return fail(ErrorCode::invalid_value, path, "an id must not be empty");
      out = ExternalId(name);
      return true;
    }
    return fail(ErrorCode::malformed_event, path,
                "must be an id (an integer >= 0 or a string), not " + describe(j));
  }

  bool required_id(std::string_view name, ExternalId& out) {
    const Json* j = nullptr;
    return required(name, j) && id(*j, name, out);
  }

  bool name(const Json& j, std::string_view path, std::string_view what, const std::string*& out) {
    if (!j.is_string()) {
      return fail(ErrorCode::malformed_event, path,
                  "must be a " + std::string(what) + " name (a string), not " + describe(j));
    }
    out = &j.get_ref<const std::string&>();
    return true;
  }

  bool queue(std::string_view field, QueueId& out) {
    const Json* j = nullptr;
    const std::string* n = nullptr;
    if (!required(field, j) || !name(*j, field, "queue", n)) return false;
    if (const auto q = config_.find_queue(*n)) {
      out = *q;
      return true;
    }
    return fail(ErrorCode::unknown_queue, field,
                "no queue is named " + quote(*n) + " (declared: " +
                    declared(config_.queues, [](const QueueConfig& c) { return quote(c.name); }) +
                    ")");
  }

  bool presence(const Json& j, std::string_view path, PresenceId& out) {
    const std::string* n = nullptr;
    if (!name(j, path, "presence", n)) return false;
    if (const auto p = config_.find_presence(*n)) {
      out = *p;
      return true;
    }
    return fail(ErrorCode::unknown_presence, path,
                "unknown presence " + quote(*n) + " (declared: " +
                    declared(config_.presences, [](const std::string& s) { return s; }) + ")");
  }

  bool skill(const std::string& skill_name, const std::string& path, SkillId& out) {
    if (const auto s = config_.find_skill(skill_name)) {
      out = *s;
      return true;
    }
    return fail(ErrorCode::unknown_skill, path,
                "unknown skill " + quote(skill_name) + " (declared: " +
                    declared(config_.skills, [](const std::string& s) { return s; }) + ")");
  }

  // Agent skills: {"name": proficiency, ...}, proficiency >= 0.
  bool agent_skills(const Json& j, std::string_view path, std::vector<SkillLevel>& out) {
    if (!j.is_object()) {
      return fail(ErrorCode::malformed_event, path,
                  "must be an object of skill name to proficiency, e.g. {\"billing\": 3}, not " +
                      describe(j));
    }
    for (const auto& [key, value] : j.items()) {
      const std::string sub = std::string(path) + "." + key;
      SkillLevel level;
      if (!skill(key, sub, level.skill) || !int32(value, sub, 0, level.proficiency)) return false;
      out.push_back(level);
    }
    return true;
  }

  // Item skills: {"name": min_proficiency or null, ...} or ["name", ...] (no minimum).
  bool item_skills(const Json& j, std::string_view path, std::vector<SkillRequirement>& out) {
    if (j.is_array()) {
      for (std::size_t i = 0; i < j.size(); ++i) {
        const std::string sub = std::string(path) + "[" + std::to_string(i) + "]";
        const std::string* n = nullptr;
        SkillRequirement r;
        if (!name(j[i], sub, "skill", n) || !skill(*n, sub, r.skill)) return false;
        const bool twice = std::any_of(out.begin(), out.end(), [&](const SkillRequirement& o) {
          return o.skill == r.skill;
        });
        if (twice) return fail(ErrorCode::invalid_value, sub, "skill " + quote(*n) + " is listed twice");
        out.push_back(r);
      }
      return true;
    }
    if (!j.is_object()) {
      return fail(ErrorCode::malformed_event, path,
                  "must be an object of skill name to minimum proficiency ({\"billing\": 2}) or an "
                  "array of skill names ([\"billing\"]), not " + describe(j));
    }
    for (const auto& [key, value] : j.items()) {
      const std::string sub = std::string(path) + "." + key;
      SkillRequirement r;
      if (!skill(key, sub, r.skill)) return false;
      if (!value.is_null() && !int32(value, sub, 0, r.min_proficiency)) return false;
      out.push_back(r);
    }
    return true;
  }

  // {"units": 3, "profiles": {"voice": 1}}; both optional, missing = 0.
  bool capacity(const Json& j, std::string_view path, AgentCapacity& out) {
    if (!j.is_object()) {
      return fail(ErrorCode::malformed_event, path,
                  "must be an object such as {\"units\": 3, \"profiles\": {\"voice\": 1}}, not " +
                      describe(j));
    }
    for (const auto& [key, value] : j.items()) {
      const std::string sub = std::string(path) + "." + key;
      if (key == "units") {
        if (!int32(value, sub, 0, out.units)) return false;
      } else if (key == "profiles") {
        if (!value.is_object()) {
          return fail(ErrorCode::malformed_event, sub,
                      "must be an object of profile name to maximum, not " + describe(value));
        }
        // Sized like the configuration loader sizes it, so that both produce equal capacities.
        out.profile_max.assign(config_.profiles.size(), 0);
        for (const auto& [profile_name, max] : value.items()) {
          const std::string psub = sub + "." + profile_name;
          const auto p = config_.find_profile(profile_name);
          if (!p) {
            return fail(ErrorCode::unknown_profile, psub,
                        "unknown capacity profile " + quote(profile_name) + " (declared: " +
                            declared(config_.profiles,
                                     [](const ProfileConfig& c) { return c.name; }) +
                            ")");
          }
          if (!int32(max, psub, 0, out.profile_max[*p])) return false;
        }
      } else {
        return fail(ErrorCode::malformed_event, sub, "unknown field (capacity has: units, profiles)");
      }
    }
    return true;
  }

  // One attribute value: a string or an integer; null (only where allowed) removes the key.
  bool attribute_value(const Json& j, const std::string& path, bool allow_null, AttrValue& out) {
    if (j.is_string()) {
      out = j.get<std::string>();
      return true;
    }
    if (j.is_number_integer()) {
      std::int64_t v = 0;
      if (!integer(j, path, std::numeric_limits<std::int64_t>::min(), kInt64Max, v)) return false;
      out = v;
      return true;
    }
    if (j.is_null() && allow_null) {
      out = std::monostate{};
      return true;
    }
    return fail(ErrorCode::malformed_event, path,
                std::string("must be a string or an integer") + (allow_null ? " or null" : "") +
                    ", not " + describe(j));
  }

  // Attributes are flat keys (attributes.hpp). Item attributes may nest one object deep on the
  // wire, {"customer": {"membership_level": "gold"}}, which flattens to the key
  // "customer.membership_level": conditions reach at most two levels into an item (R9).
  bool attributes(const Json& j, std::string_view path, bool nested, bool allow_null,
                  Attributes& out) {
    if (!j.is_object()) {
      return fail(ErrorCode::malformed_event, path,
                  "must be an object of string or integer values, not " + describe(j));
    }
    const auto put = [&](const std::string& key, const Json& value) {
      const std::string sub = std::string(path) + "." + key;
      if (key.empty() || key.front() == '.' || key.back() == '.') {
        return fail(ErrorCode::malformed_event, sub, "an attribute name must not be empty");
      }
      AttrValue v;
      if (!attribute_value(value, sub, allow_null, v)) return false;
      if (!out.emplace(key, std::move(v)).second) {
        return fail(ErrorCode::malformed_event, sub, "given twice (once nested, once dotted)");
      }
      return true;
    };
    for (const auto& [key, value] : j.items()) {
      if (!value.is_object()) {
        if (!put(key, value)) return false;
        continue;
      }
      const std::string sub = std::string(path) + "." + key;
      if (!nested) {
        return fail(ErrorCode::malformed_event, sub,
                    "agent attributes are flat: a string or an integer, not an object");
      }
      for (const auto& [inner_key, inner] : value.items()) {
        if (inner.is_object()) {
          return fail(ErrorCode::malformed_event, sub + "." + inner_key,
                      "attributes nest at most two levels (customer.membership_level)");
        }
        if (!put(key + "." + inner_key, inner)) return false;
      }
    }
    return true;
  }

  // [[start, end], ...], half-open working intervals.
  bool shifts(const Json& j, std::string_view path, std::vector<Shift>& out) {
    if (!j.is_array()) {
      return fail(ErrorCode::malformed_event, path,
                  "must be an array of [start, end] pairs, not " + describe(j));
    }
    for (std::size_t i = 0; i < j.size(); ++i) {
      const std::string sub = std::string(path) + "[" + std::to_string(i) + "]";
      const Json& pair = j[i];
      if (!pair.is_array() || pair.size() != 2) {
        return fail(ErrorCode::malformed_event, sub,
                    "must be a [start, end] pair of milliseconds, not " + describe(pair));
      }
      Shift s;
      if (!time(pair[0], sub + "[0]", s.start) || !time(pair[1], sub + "[1]", s.end)) return false;
      out.push_back(s);
    }
    return true;
  }

  static std::string describe(const Json& j) {
    switch (j.type()) {
      case Json::value_t::null: return "null";
      case Json::value_t::boolean: return j.get<bool>() ? "true" : "false";
      case Json::value_t::number_float: return "the number " + dump(j);
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned: return "the integer " + dump(j);
      case Json::value_t::string: {
        std::string s = dump(j);
        if (s.size() > 40) s = s.substr(0, 37) + "...";
        return "the string " + s;
      }
      case Json::value_t::array: return "an array";
      case Json::value_t::object: return "an object";
      default: return "an unreadable value";
    }
  }

 private:
  const Json& object_;
  const Config& config_;
  std::string type_;
  Error error_;
};

// ---- one decoder per event type ----------------------------------------------------------------

bool decode_body(Decoder& d, AgentUpsert& e) {
  if (!d.check_fields({"agent", "presence", "skills", "capacity", "attributes", "working", "shifts"}) ||
      !d.required_id("agent", e.agent)) {
    return false;
  }
  if (const Json* j = d.find("presence")) {
    PresenceId p = 0;
    if (!d.presence(*j, "presence", p)) return false;
    e.presence = p;
  }
  if (const Json* j = d.find("skills")) {
    e.skills.emplace();
    if (!d.agent_skills(*j, "skills", *e.skills)) return false;
  }
  if (const Json* j = d.find("capacity")) {
    e.capacity.emplace();
    if (!d.capacity(*j, "capacity", *e.capacity)) return false;
  }
  if (const Json* j = d.find("attributes")) {
    e.attributes.emplace();
    if (!d.attributes(*j, "attributes", false, false, *e.attributes)) return false;
  }
  if (const Json* j = d.find("working")) {
    bool w = true;
    if (!d.boolean(*j, "working", w)) return false;
    e.working = w;
  }
  if (const Json* j = d.find("shifts")) {
    e.shifts.emplace();
    if (!d.shifts(*j, "shifts", *e.shifts)) return false;
  }
  return true;
}

bool decode_body(Decoder& d, AgentRemove& e) {
  return d.check_fields({"agent"}) && d.required_id("agent", e.agent);
}

bool decode_body(Decoder& d, PresenceChange& e) {
  const Json* j = nullptr;
  return d.check_fields({"agent", "presence"}) && d.required_id("agent", e.agent) &&
         d.required("presence", j) && d.presence(*j, "presence", e.presence);
}

bool decode_body(Decoder& d, CapacityChange& e) {
  const Json* j = nullptr;
  return d.check_fields({"agent", "capacity"}) && d.required_id("agent", e.agent) &&
         d.required("capacity", j) && d.capacity(*j, "capacity", e.capacity);
}

bool decode_body(Decoder& d, JoinQueue& e) {
  return d.check_fields({"agent", "queue"}) && d.required_id("agent", e.agent) &&
         d.queue("queue", e.queue);
}

bool decode_body(Decoder& d, LeaveQueue& e) {
  return d.check_fields({"agent", "queue"}) && d.required_id("agent", e.agent) &&
         d.queue("queue", e.queue);
}

bool decode_body(Decoder& d, ItemArrive& e) {
  if (!d.check_fields({"item", "queue", "created", "last_message", "attributes", "skills", "units",
                       "affinity_agent"}) ||
      !d.required_id("item", e.item) || !d.queue("queue", e.queue) ||
      !d.optional_time("created", e.created) || !d.optional_time("last_message", e.last_message)) {
    return false;
  }
  if (const Json* j = d.find("attributes")) {
    if (!d.attributes(*j, "attributes", true, false, e.attributes)) return false;
  }
  if (const Json* j = d.find("skills")) {
    if (!d.item_skills(*j, "skills", e.skills)) return false;
  }
  if (const Json* j = d.find("units")) {
    std::int32_t units = 0;
    if (!d.int32(*j, "units", 1, units)) return false;
    e.units = units;
  }
  if (const Json* j = d.find("affinity_agent")) {
    ExternalId agent;
    if (!d.id(*j, "affinity_agent", agent)) return false;
    e.affinity_agent = std::move(agent);
  }
  return true;
}

bool decode_body(Decoder& d, ItemUpdate& e) {
  if (!d.check_fields({"item", "attributes", "last_message"}) || !d.required_id("item", e.item) ||
      !d.optional_time("last_message", e.last_message)) {
    return false;
  }
  if (const Json* j = d.find("attributes")) {
    if (!d.attributes(*j, "attributes", true, true, e.attributes)) return false;
  }
  return true;
}

bool decode_body(Decoder& d, ItemCancel& e) {
  return d.check_fields({"item"}) && d.required_id("item", e.item);
}

bool decode_body(Decoder& d, ItemTransfer& e) {
  return d.check_fields({"item", "queue"}) && d.required_id("item", e.item) &&
         d.queue("queue", e.queue);
}

bool decode_body(Decoder& d, ItemComplete& e) {
  return d.check_fields({"item"}) && d.required_id("item", e.item);
}

// Accept, decline, timeout, manual assign and pick: an item and an agent.
template <typename T>
bool decode_item_agent(Decoder& d, T& e) {
  return d.check_fields({"item", "agent"}) && d.required_id("item", e.item) &&
         d.required_id("agent", e.agent);
}
bool decode_body(Decoder& d, OfferAccept& e) { return decode_item_agent(d, e); }
bool decode_body(Decoder& d, OfferDecline& e) { return decode_item_agent(d, e); }
bool decode_body(Decoder& d, OfferTimeout& e) { return decode_item_agent(d, e); }
bool decode_body(Decoder& d, ManualAssign& e) { return decode_item_agent(d, e); }
bool decode_body(Decoder& d, AgentPick& e) { return decode_item_agent(d, e); }

bool decode_body(Decoder& d, Tick&) { return d.check_fields({}); }

// The type names, in EventBody's alternative order, taken from event_type_name so that the wire
// and the kernel can never disagree.
template <std::size_t... I>
std::array<std::string_view, sizeof...(I)> type_names(std::index_sequence<I...>) {
  return {event_type_name(EventBody(std::in_place_index<I>))...};
}
const std::array<std::string_view, std::variant_size_v<EventBody>>& all_type_names() {
  static const auto names = type_names(std::make_index_sequence<std::variant_size_v<EventBody>>{});
  return names;
}

template <std::size_t I = 0>
bool decode_typed(std::size_t index, Decoder& d, EventBody& body) {
  if constexpr (I < std::variant_size_v<EventBody>) {
    if (index == I) return decode_body(d, body.emplace<I>());
    return decode_typed<I + 1>(index, d, body);
  } else {
    return false;
  }
}

// nlohmann keeps the last of duplicate keys silently; a host that sends {"agent": 1, "agent": 2}
// has a bug we should show, not guess around. Records the first duplicate key seen.
struct DuplicateKeyCheck {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;

  bool operator()(int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start: open_objects.emplace_back(); break;
      case Json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default: break;
    }
    return true;
  }
};

Error malformed(std::string message) { return Error{ErrorCode::malformed_event, std::move(message)}; }

Result<Event> decode(std::string_view line, const Config& config, std::uint64_t default_sequence) {
  DuplicateKeyCheck dup;
  Json root;
  try {
    root = Json::parse(line.begin(), line.end(), std::ref(dup), /*allow_exceptions=*/true,
                       /*ignore_comments=*/false);
  } catch (const Json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 5: ..." -> from "parse".
    std::string what = e.what();
    if (const auto at = what.find("] "); at != std::string::npos) what.erase(0, at + 2);
    return malformed("not valid JSON: " + what);
  }
  if (!root.is_object()) {
    return malformed("an event must be a JSON object such as {\"t\": 1000, \"type\": \"tick\"}, not " +
                     Decoder::describe(root));
  }
  Decoder d(root, config);
  if (!dup.duplicate.empty()) {
    d.fail(ErrorCode::malformed_event, dup.duplicate, "given twice in one object");
    return d.error();
  }

  const Json* type = nullptr;
  if (!d.required("type", type)) return d.error();
  const auto& names = all_type_names();
  if (!type->is_string()) {
    d.fail(ErrorCode::malformed_event, "type", "must be a string, not " + Decoder::describe(*type));
    return d.error();
  }
  const auto& type_name = type->get_ref<const std::string&>();
  const auto found = std::find(names.begin(), names.end(), type_name);
  if (found == names.end()) {
    // Not declared(): it abbreviates after ten names, and the whole list is short.
    std::string all;
    for (std::string_view n : names) all.append(all.empty() ? "" : ", ").append(n);
    return malformed("field \"type\": unknown event type " + quote(type_name) +
                     " (expected one of: " + all + ")");
  }
  d.set_type(type_name);

  Event event;
  const Json* t = nullptr;
  if (!d.required("t", t) || !d.time(*t, "t", event.time)) return d.error();
  event.sequence = default_sequence;
  if (const Json* seq = d.find("seq")) {
    if (!seq->is_number_unsigned()) {
      d.fail(seq->is_number_integer() ? ErrorCode::invalid_value : ErrorCode::malformed_event, "seq",
             "must be an integer >= 0, not " + Decoder::describe(*seq));
      return d.error();
    }
    event.sequence = seq->get<std::uint64_t>();
  }
  if (!decode_typed(static_cast<std::size_t>(found - names.begin()), d, event.body)) {
    return d.error();
  }
  return event;
}

// ---- encoding ----------------------------------------------------------------------------------

Json id_json(const ExternalId& id) { return id.is_number() ? Json(id.number()) : Json(id.name()); }

// Names where the configuration has them; the bare index otherwise, so encoding never fails.
Json queue_json(QueueId q, const Config& c) {
  return q < c.queues.size() ? Json(c.queues[q].name) : Json(q);
}
Json presence_json(PresenceId p, const Config& c) {
  return p < c.presences.size() ? Json(c.presences[p]) : Json(p);
}
// "#<index>" for an index the configuration lacks. Built by append: GCC 12 at -O3 warns
// (-Wrestrict, a false positive) on "#" + std::to_string(i), and CI builds with -Werror.
std::string index_key(std::size_t index) {
  std::string key = "#";
  key.append(std::to_string(index));
  return key;
}
std::string skill_key(SkillId s, const Config& c) {
  return s < c.skills.size() ? c.skills[s] : index_key(s);
}
std::string profile_key(std::size_t p, const Config& c) {
  return p < c.profiles.size() ? c.profiles[p].name : index_key(p);
}

Json attributes_json(const Attributes& attributes) {
  Json j = Json::object();
  for (const auto& [key, value] : attributes) {
    if (const auto* s = std::get_if<std::string>(&value)) {
      j[key] = *s;
    } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
      j[key] = *i;
    } else {
      j[key] = nullptr;
    }
  }
  return j;
}

Json capacity_json(const AgentCapacity& capacity, const Config& c) {
  Json j = Json::object();
  j["units"] = capacity.units;
  if (!capacity.profile_max.empty()) {
    Json profiles = Json::object();
    for (std::size_t p = 0; p < capacity.profile_max.size(); ++p) {
      profiles[profile_key(p, c)] = capacity.profile_max[p];
    }
    j["profiles"] = std::move(profiles);
  }
  return j;
}

Json item_skills_json(const std::vector<SkillRequirement>& skills, const Config& c) {
  const bool any_minimum = std::any_of(skills.begin(), skills.end(),
                                       [](const SkillRequirement& r) { return r.min_proficiency >= 0; });
  if (!any_minimum) {
    Json j = Json::array();
    for (const SkillRequirement& r : skills) j.push_back(skill_key(r.skill, c));
    return j;
  }
  Json j = Json::object();
  for (const SkillRequirement& r : skills) {
    j[skill_key(r.skill, c)] = r.min_proficiency == -1 ? Json(nullptr) : Json(r.min_proficiency);
  }
  return j;
}

struct BodyEncoder {
  Json& j;
  const Config& c;

  void operator()(const AgentUpsert& e) {
    j["agent"] = id_json(e.agent);
    if (e.presence) j["presence"] = presence_json(*e.presence, c);
    if (e.skills) {
      Json skills = Json::object();
      for (const SkillLevel& s : *e.skills) skills[skill_key(s.skill, c)] = s.proficiency;
      j["skills"] = std::move(skills);
    }
    if (e.capacity) j["capacity"] = capacity_json(*e.capacity, c);
    if (e.attributes) j["attributes"] = attributes_json(*e.attributes);
    if (e.working) j["working"] = *e.working;
    if (e.shifts) {
      Json shifts = Json::array();
      for (const Shift& s : *e.shifts) shifts.push_back(Json::array({s.start, s.end}));
      j["shifts"] = std::move(shifts);
    }
  }
  void operator()(const AgentRemove& e) { j["agent"] = id_json(e.agent); }
  void operator()(const PresenceChange& e) {
    j["agent"] = id_json(e.agent);
    j["presence"] = presence_json(e.presence, c);
  }
  void operator()(const CapacityChange& e) {
    j["agent"] = id_json(e.agent);
    j["capacity"] = capacity_json(e.capacity, c);
  }
  void operator()(const JoinQueue& e) {
    j["agent"] = id_json(e.agent);
    j["queue"] = queue_json(e.queue, c);
  }
  void operator()(const LeaveQueue& e) {
    j["agent"] = id_json(e.agent);
    j["queue"] = queue_json(e.queue, c);
  }
  void operator()(const ItemArrive& e) {
    j["item"] = id_json(e.item);
    j["queue"] = queue_json(e.queue, c);
    if (e.created) j["created"] = *e.created;
    if (e.last_message) j["last_message"] = *e.last_message;
    if (!e.attributes.empty()) j["attributes"] = attributes_json(e.attributes);
    if (!e.skills.empty()) j["skills"] = item_skills_json(e.skills, c);
    if (e.units) j["units"] = *e.units;
    if (e.affinity_agent) j["affinity_agent"] = id_json(*e.affinity_agent);
  }
  void operator()(const ItemUpdate& e) {
    j["item"] = id_json(e.item);
    if (!e.attributes.empty()) j["attributes"] = attributes_json(e.attributes);
    if (e.last_message) j["last_message"] = *e.last_message;
  }
  void operator()(const ItemCancel& e) { j["item"] = id_json(e.item); }
  void operator()(const ItemTransfer& e) {
    j["item"] = id_json(e.item);
    j["queue"] = queue_json(e.queue, c);
  }
  void operator()(const ItemComplete& e) { j["item"] = id_json(e.item); }
  template <typename T>
  void item_agent(const T& e) {
    j["item"] = id_json(e.item);
    j["agent"] = id_json(e.agent);
  }
  void operator()(const OfferAccept& e) { item_agent(e); }
  void operator()(const OfferDecline& e) { item_agent(e); }
  void operator()(const OfferTimeout& e) { item_agent(e); }
  void operator()(const ManualAssign& e) { item_agent(e); }
  void operator()(const AgentPick& e) { item_agent(e); }
  void operator()(const Tick&) {}
};

Json event_json(const Event& event, const Config& config) {
  Json j = Json::object();
  j["t"] = event.time;
  j["seq"] = event.sequence;
  j["type"] = std::string(event_type_name(event.body));
  std::visit(BodyEncoder{j, config}, event.body);
  return j;
}

Json decision_json(const Decision& d, const Config& c, std::optional<std::uint64_t> line) {
  Json j = Json::object();
  j["t"] = d.time;
  j["decision"] = std::string(to_string(d.kind));
  if (d.kind == DecisionKind::error) {
    if (line) j["line"] = *line;
    j["seq"] = d.sequence;
    j["code"] = std::string(to_string(d.error));
    j["message"] = d.message;
    if (d.offending) j["event"] = event_json(*d.offending, c);
    return j;
  }
  j["item"] = id_json(d.item);
  // Set for offer, assigned, requeued and completed, and for cancelled when an open offer was
  // withdrawn.
  if (d.agent) j["agent"] = id_json(*d.agent);
  j["queue"] = queue_json(d.queue, c);
  if (d.kind == DecisionKind::transferred) j["from"] = queue_json(d.from_queue, c);
  if (d.kind == DecisionKind::requeued) j["reason"] = std::string(to_string(d.reason));
  if (d.decided_by != DecidedBy::none) {
    j["by"] = std::string(to_string(d.decided_by));
    const QueueConfig* queue = d.queue < c.queues.size() ? &c.queues[d.queue] : nullptr;
    if (d.decided_by == DecidedBy::method && queue != nullptr) {
      j["method"] = std::string(to_string(queue->method));
    }
    if (d.decided_by == DecidedBy::rule) {
      if (queue != nullptr && d.rule < queue->assignment.size()) {
        j["rule"] = queue->assignment[d.rule].name;
      }
      j["rule_index"] = d.rule;
    }
  }
  return j;
}

}  // namespace

Result<Event> decode_event(std::string_view line, const Config& config,
                           std::uint64_t default_sequence) {
  // The promise is "never throws": anything the JSON library or an allocation throws becomes a
  // refused line, not a crashed router.
  try {
    return decode(line, config, default_sequence);
  } catch (const std::exception& e) {
    return malformed(std::string("could not decode the line: ") + e.what());
  } catch (...) {
    return malformed("could not decode the line");
  }
}

std::string encode_event(const Event& event, const Config& config) {
  try {
    return dump(event_json(event, config));
  } catch (...) {
    return "{}";  // only allocation can fail here
  }
}

std::string encode_decision(const Decision& decision, const Config& config,
                            std::optional<std::uint64_t> line) {
  try {
    return dump(decision_json(decision, config, line));
  } catch (...) {
    return "{\"decision\":\"error\",\"code\":\"malformed_event\",\"message\":\"out of memory\"}";
  }
}

std::string encode_decode_error(const Error& error, std::uint64_t line, std::string_view raw) {
  try {
    Json j = Json::object();
    j["decision"] = "error";
    j["line"] = line;
    j["code"] = std::string(to_string(error.code));
    j["message"] = error.message;
    j["raw"] = std::string(raw);
    return dump(j);
  } catch (...) {
    return "{\"decision\":\"error\",\"code\":\"malformed_event\",\"message\":\"out of memory\"}";
  }
}

}  // namespace switchboard::jsonl
