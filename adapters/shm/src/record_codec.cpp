#include "switchboard/shm/record_codec.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace switchboard::shm {
namespace {

// The record types are the event variant's alternatives in order, so that a type is an index
// (record_type_of and decode_event rely on it).
template <std::uint16_t Type, typename T>
constexpr bool kTypeIs = std::is_same_v<std::variant_alternative_t<Type - 1, EventBody>, T>;
static_assert(std::variant_size_v<EventBody> == SB_RECORD_MAX_INBOUND);
static_assert(kTypeIs<SB_REC_AGENT_UPSERT, AgentUpsert> && kTypeIs<SB_REC_AGENT_REMOVE, AgentRemove> &&
              kTypeIs<SB_REC_PRESENCE_CHANGE, PresenceChange> &&
              kTypeIs<SB_REC_CAPACITY_CHANGE, CapacityChange> && kTypeIs<SB_REC_JOIN_QUEUE, JoinQueue> &&
              kTypeIs<SB_REC_LEAVE_QUEUE, LeaveQueue> && kTypeIs<SB_REC_ITEM_ARRIVE, ItemArrive> &&
              kTypeIs<SB_REC_ITEM_UPDATE, ItemUpdate> && kTypeIs<SB_REC_ITEM_CANCEL, ItemCancel> &&
              kTypeIs<SB_REC_ITEM_TRANSFER, ItemTransfer> &&
              kTypeIs<SB_REC_ITEM_COMPLETE, ItemComplete> && kTypeIs<SB_REC_OFFER_ACCEPT, OfferAccept> &&
              kTypeIs<SB_REC_OFFER_DECLINE, OfferDecline> &&
              kTypeIs<SB_REC_OFFER_TIMEOUT, OfferTimeout> &&
              kTypeIs<SB_REC_MANUAL_ASSIGN, ManualAssign> && kTypeIs<SB_REC_AGENT_PICK, AgentPick> &&
              kTypeIs<SB_REC_TICK, Tick>);

// The format's limits.
constexpr std::size_t kMaxName = 255;
constexpr std::size_t kMaxString = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t kMaxList = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t kMaxProfiles = std::numeric_limits<std::uint8_t>::max();

// Attribute value kinds.
constexpr std::uint8_t kAttrNone = 0;
constexpr std::uint8_t kAttrInt = 1;
constexpr std::uint8_t kAttrString = 2;

// The fewest bytes one list entry takes, so that a count can be checked against what is left
// before anything is reserved: a 20-byte record must not make the daemon allocate for 65,535
// entries.
constexpr std::size_t kSkillLevelBytes = 2 + 4;
constexpr std::size_t kRequirementBytes = 2 + 4;
constexpr std::size_t kShiftBytes = 8 + 8;
constexpr std::size_t kAttributeMinBytes = 2 + 1;  // empty key, kind 0
constexpr std::size_t kProfileBytes = 4;

// ---- bytes -----------------------------------------------------------------------------------

// Little-endian whatever the host: memcpy on little-endian machines (one load), bytes by shift
// elsewhere.
template <typename T>
T load_le(const std::uint8_t* p) noexcept {
  using U = std::make_unsigned_t<T>;
  U u = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&u, p, sizeof u);
  } else {
    for (std::size_t i = 0; i < sizeof u; ++i) u = static_cast<U>(u | (static_cast<U>(p[i]) << (8 * i)));
  }
  return static_cast<T>(u);
}

template <typename T>
void store_le(std::uint8_t* p, T value) noexcept {
  using U = std::make_unsigned_t<T>;
  const U u = static_cast<U>(value);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &u, sizeof u);
  } else {
    for (std::size_t i = 0; i < sizeof u; ++i) p[i] = static_cast<std::uint8_t>(u >> (8 * i));
  }
}

// The length of the longest prefix of [p, p + n) that is well-formed UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF). Names and keys are mostly ASCII, so
// eight bytes are tested at a time first.
std::size_t utf8_valid_prefix(const std::uint8_t* p, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n) {
    if (n - i >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const std::uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint8_t lo = 0x80;  // the range of the second byte
    std::uint8_t hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3;
      lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      len = 3;
    } else if (c == 0xED) {
      len = 3;
      hi = 0x9F;
    } else if (c == 0xF0) {
      len = 4;
      lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4;
      hi = 0x8F;
    } else {
      return i;
    }
    if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return n;
}

bool is_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  return utf8_valid_prefix(p, s.size()) == s.size();
}

// Where a read or write belongs, for messages: `name`, `name[index]` or `name[index].sub`.
// Plain pointers to literals, so that naming a field costs nothing until something fails.
constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);
struct Field {
  const char* name;
  std::size_t index = kNoIndex;
  const char* sub = nullptr;
};

std::string field_message(std::string_view record, Field f, std::optional<std::size_t> at,
                          std::string_view what) {
  std::string m;
  m.reserve(record.size() + what.size() + 48);
  m.append(record).append(": field \"").append(f.name);
  if (f.index != kNoIndex) m.append("[").append(std::to_string(f.index)).append("]");
  if (f.sub != nullptr) m.append(".").append(f.sub);
  m.append("\"");
  if (at) m.append(" at byte ").append(std::to_string(*at));
  m.append(": ").append(what);
  return m;
}

// ---- decoding --------------------------------------------------------------------------------

// Reads fields front to back. Every read checks what is left before it touches a byte; the
// first failure records a malformed_event error (the field, its byte offset, what is wrong) and
// returns false, and the decoder stops there.
class Reader {
 public:
  Reader(std::string_view record, std::span<const std::uint8_t> bytes) noexcept
      : record_(record), data_(bytes.data()), size_(bytes.size()) {}

  // The record is an event: its name (for messages) is looked up only if something fails.
  void set_event(const EventBody* body) noexcept { body_ = body; }
  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
  [[nodiscard]] Error take_error() { return std::move(error_); }

  // Failures build their messages out of line (cold): the reads that succeed stay small enough
  // to inline, and a daemon decodes millions of them per second.
  [[gnu::cold, gnu::noinline]] bool fail(Field f, std::size_t at, std::string_view what) {
    error_ = Error{ErrorCode::malformed_event, field_message(record(), f, at, what)};
    return false;
  }

  template <typename T>
  bool num(T& out, Field f) {
    if (size_ - pos_ < sizeof(T)) return truncated(f);
    out = load_le<T>(data_ + pos_);
    pos_ += sizeof(T);
    return true;
  }

  // A u8 that must not exceed `max` (an enum).
  bool small(std::uint8_t& out, Field f, std::uint8_t max, std::string_view what) {
    const std::size_t at = pos_;
    if (!num(out, f)) return false;
    if (out > max) return fail_value(f, at, out, what);
    return true;
  }

  bool boolean(bool& out, Field f) {
    std::uint8_t b = 0;
    if (!small(b, f, 1, "a bool (0 or 1)")) return false;
    out = b != 0;
    return true;
  }

  // The u8 that starts an opt<T>.
  bool present(bool& out, Field f) {
    std::uint8_t b = 0;
    if (!small(b, f, 1, "0 (absent) or 1 (present), the first byte of an optional field")) {
      return false;
    }
    out = b != 0;
    return true;
  }

  // A list's count, checked against the bytes left: every entry takes at least `min_entry`.
  template <typename Count>
  bool count(std::size_t& out, Field f, std::size_t min_entry) {
    const std::size_t at = pos_;
    Count n = 0;
    if (!num(n, f)) return false;
    out = n;
    if (out * min_entry > size_ - pos_) return fail_count(f, at, out, min_entry);
    return true;
  }

  // `n` bytes of UTF-8 text.
  bool text(std::string& out, std::size_t n, Field f, std::string_view what) {
    if (size_ - pos_ < n) return fail_text_length(f, n, what);
    const std::uint8_t* p = data_ + pos_;
    const std::size_t valid = utf8_valid_prefix(p, n);
    if (valid != n) return fail_utf8(f, pos_ + valid, what);
    out.assign(reinterpret_cast<const char*>(p), n);
    pos_ += n;
    return true;
  }

  bool str(std::string& out, Field f) {
    std::uint16_t n = 0;
    return num(n, f) && text(out, n, f, "a string");
  }

  bool id(ExternalId& out, Field f) {
    const std::size_t at = pos_;
    std::uint8_t kind = 0;
    if (!num(kind, f)) return false;
    if (kind == 0) {
      std::uint64_t number = 0;
      if (!num(number, f)) return false;
      out = ExternalId(number);
      return true;
    }
    if (kind != 1) return fail_id_kind(f, at, kind);
    const std::size_t length_at = pos_;
    std::uint16_t n = 0;
    if (!num(n, f)) return false;
    if (n == 0 || n > kMaxName) return fail_name_length(f, length_at, n);
    std::string name;
    if (!text(name, n, f, "a name")) return false;
    out = ExternalId(std::move(name));
    return true;
  }

  bool finish() {
    if (pos_ == size_) return true;
    return fail_left_over();
  }

 private:
  [[gnu::cold, gnu::noinline]] bool truncated(Field f) {
    return fail(f, pos_, "payload ends after " + std::to_string(size_) + " bytes");
  }
  [[gnu::cold, gnu::noinline]] bool fail_value(Field f, std::size_t at, std::uint8_t value, std::string_view what) {
    return fail(f, at, std::to_string(value) + " is not " + std::string(what));
  }
  [[gnu::cold, gnu::noinline]] bool fail_count(Field f, std::size_t at, std::size_t n, std::size_t min_entry) {
    return fail(f, at,
                std::to_string(n) + " entries take at least " + std::to_string(n * min_entry) +
                    " more bytes, but the payload ends after " + std::to_string(size_) + " bytes");
  }
  [[gnu::cold, gnu::noinline]] bool fail_text_length(Field f, std::size_t n, std::string_view what) {
    return fail(f, pos_,
                std::string(what) + " of " + std::to_string(n) + " bytes, but the payload ends after " +
                    std::to_string(size_) + " bytes");
  }
  [[gnu::cold, gnu::noinline]] bool fail_utf8(Field f, std::size_t at, std::string_view what) {
    return fail(f, at, std::string(what) + " is not valid UTF-8 here");
  }
  [[gnu::cold, gnu::noinline]] bool fail_id_kind(Field f, std::size_t at, std::uint8_t kind) {
    return fail(f, at, "id kind " + std::to_string(kind) + " is neither 0 (number) nor 1 (name)");
  }
  [[gnu::cold, gnu::noinline]] bool fail_name_length(Field f, std::size_t at, std::uint16_t n) {
    return fail(f, at, "a name id has 1 to 255 bytes, not " + std::to_string(n));
  }
  [[gnu::cold, gnu::noinline]] bool fail_left_over() {
    error_ = Error{ErrorCode::malformed_event,
                   std::string(record()) + ": " + std::to_string(size_ - pos_) +
                       " bytes left over after the last field (at byte " + std::to_string(pos_) +
                       " of " + std::to_string(size_) + ")"};
    return false;
  }

  [[nodiscard]] std::string_view record() const noexcept {
    return body_ != nullptr ? event_type_name(*body_) : record_;
  }

  std::string_view record_;
  const EventBody* body_ = nullptr;
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  Error error_;
};

template <typename T, typename ReadValue>
bool read_opt(Reader& r, std::optional<T>& out, Field f, ReadValue read_value) {
  bool present = false;
  if (!r.present(present, f)) return false;
  if (!present) {
    out.reset();
    return true;
  }
  return read_value(out.emplace());
}

bool read_skill_levels(Reader& r, std::vector<SkillLevel>& out, const char* name) {
  std::size_t n = 0;
  if (!r.count<std::uint16_t>(n, {name}, kSkillLevelBytes)) return false;
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!r.num(out[i].skill, {name, i, "skill"}) || !r.num(out[i].proficiency, {name, i, "proficiency"})) {
      return false;
    }
  }
  return true;
}

bool read_requirements(Reader& r, std::vector<SkillRequirement>& out, const char* name) {
  std::size_t n = 0;
  if (!r.count<std::uint16_t>(n, {name}, kRequirementBytes)) return false;
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!r.num(out[i].skill, {name, i, "skill"}) ||
        !r.num(out[i].min_proficiency, {name, i, "min_proficiency"})) {
      return false;
    }
  }
  return true;
}

bool read_shifts(Reader& r, std::vector<Shift>& out, const char* name) {
  std::size_t n = 0;
  if (!r.count<std::uint16_t>(n, {name}, kShiftBytes)) return false;
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!r.num(out[i].start, {name, i, "start"}) || !r.num(out[i].end, {name, i, "end"})) return false;
  }
  return true;
}

bool read_capacity(Reader& r, AgentCapacity& out) {
  std::size_t n = 0;
  if (!r.num(out.units, {"capacity.units"}) ||
      !r.count<std::uint8_t>(n, {"capacity.profiles"}, kProfileBytes)) {
    return false;
  }
  out.profile_max.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!r.num(out.profile_max[i], {"capacity.profiles", i})) return false;
  }
  return true;
}

// Keys come in strictly ascending byte order: the one order an Attributes map can give back,
// so that the encoding is canonical (and inserting at the end costs no search).
bool read_attributes(Reader& r, Attributes& out, const char* name, bool allow_none) {
  std::size_t n = 0;
  if (!r.count<std::uint16_t>(n, {name}, kAttributeMinBytes)) return false;
  out.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t key_at = r.pos();
    std::string key;
    if (!r.str(key, {name, i, "key"})) return false;
    if (!out.empty() && !(out.rbegin()->first < key)) {
      return r.fail({name, i, "key"}, key_at,
                    "keys must be in strictly ascending byte order, and \"" + key + "\" follows \"" +
                        out.rbegin()->first + "\"");
    }
    std::uint8_t kind = 0;
    const std::size_t kind_at = r.pos();
    if (!r.small(kind, {name, i, "kind"}, kAttrString, "an attribute kind (0 none, 1 integer, 2 string)")) {
      return false;
    }
    AttrValue value;
    if (kind == kAttrNone) {
      if (!allow_none) {
        return r.fail({name, i, "kind"}, kind_at,
                      "kind 0 (no value, which removes an attribute) is allowed in item_update only");
      }
    } else if (kind == kAttrInt) {
      std::int64_t v = 0;
      if (!r.num(v, {name, i, "value"})) return false;
      value = v;
    } else {
      std::string s;
      if (!r.str(s, {name, i, "value"})) return false;
      value = std::move(s);
    }
    out.emplace_hint(out.end(), std::move(key), std::move(value));
  }
  return true;
}

// One reader per event type: the fields after `time`, in the order of docs/protocol.md.
bool read_fields(Reader& r, AgentUpsert& e) {
  return r.id(e.agent, {"agent"}) &&
         read_opt(r, e.presence, {"presence"}, [&](PresenceId& v) { return r.num(v, {"presence"}); }) &&
         read_opt(r, e.skills, {"skills"},
                  [&](std::vector<SkillLevel>& v) { return read_skill_levels(r, v, "skills"); }) &&
         read_opt(r, e.capacity, {"capacity"}, [&](AgentCapacity& v) { return read_capacity(r, v); }) &&
         read_opt(r, e.attributes, {"attributes"},
                  [&](Attributes& v) { return read_attributes(r, v, "attributes", false); }) &&
         read_opt(r, e.working, {"working"}, [&](bool& v) { return r.boolean(v, {"working"}); }) &&
         read_opt(r, e.shifts, {"shifts"}, [&](std::vector<Shift>& v) { return read_shifts(r, v, "shifts"); });
}
bool read_fields(Reader& r, AgentRemove& e) { return r.id(e.agent, {"agent"}); }
bool read_fields(Reader& r, PresenceChange& e) {
  return r.id(e.agent, {"agent"}) && r.num(e.presence, {"presence"});
}
bool read_fields(Reader& r, CapacityChange& e) {
  return r.id(e.agent, {"agent"}) && read_capacity(r, e.capacity);
}
bool read_fields(Reader& r, JoinQueue& e) { return r.id(e.agent, {"agent"}) && r.num(e.queue, {"queue"}); }
bool read_fields(Reader& r, LeaveQueue& e) { return r.id(e.agent, {"agent"}) && r.num(e.queue, {"queue"}); }
bool read_fields(Reader& r, ItemArrive& e) {
  return r.id(e.item, {"item"}) && r.num(e.queue, {"queue"}) &&
         read_opt(r, e.created, {"created"}, [&](Timestamp& v) { return r.num(v, {"created"}); }) &&
         read_opt(r, e.last_message, {"last_message"},
                  [&](Timestamp& v) { return r.num(v, {"last_message"}); }) &&
         read_attributes(r, e.attributes, "attributes", false) && read_requirements(r, e.skills, "skills") &&
         read_opt(r, e.units, {"units"}, [&](std::int32_t& v) { return r.num(v, {"units"}); }) &&
         read_opt(r, e.affinity_agent, {"affinity_agent"},
                  [&](ExternalId& v) { return r.id(v, {"affinity_agent"}); });
}
bool read_fields(Reader& r, ItemUpdate& e) {
  return r.id(e.item, {"item"}) && read_attributes(r, e.attributes, "attributes", true) &&
         read_opt(r, e.last_message, {"last_message"},
                  [&](Timestamp& v) { return r.num(v, {"last_message"}); });
}
bool read_fields(Reader& r, ItemCancel& e) { return r.id(e.item, {"item"}); }
bool read_fields(Reader& r, ItemTransfer& e) { return r.id(e.item, {"item"}) && r.num(e.queue, {"queue"}); }
bool read_fields(Reader& r, ItemComplete& e) { return r.id(e.item, {"item"}); }
template <typename ItemAndAgent>
bool read_item_agent(Reader& r, ItemAndAgent& e) {
  return r.id(e.item, {"item"}) && r.id(e.agent, {"agent"});
}
bool read_fields(Reader& r, OfferAccept& e) { return read_item_agent(r, e); }
bool read_fields(Reader& r, OfferDecline& e) { return read_item_agent(r, e); }
bool read_fields(Reader& r, OfferTimeout& e) { return read_item_agent(r, e); }
bool read_fields(Reader& r, ManualAssign& e) { return read_item_agent(r, e); }
bool read_fields(Reader& r, AgentPick& e) { return read_item_agent(r, e); }
bool read_fields(Reader&, Tick&) { return true; }

// Every read_fields overwrites every field of its event, so an event that already holds this
// type is decoded in place: its lists keep their capacity and nothing is constructed.
template <std::size_t I>
bool decode_body(Reader& r, Event& event) {
  auto& body = event.body.index() == I ? std::get<I>(event.body) : event.body.template emplace<I>();
  r.set_event(&event.body);
  return r.num(event.time, {"time"}) && read_fields(r, body) && r.finish();
}

using DecodeBody = bool (*)(Reader&, Event&);
template <std::size_t... I>
constexpr std::array<DecodeBody, sizeof...(I)> make_decoders(std::index_sequence<I...>) {
  return {&decode_body<I>...};
}
constexpr auto kDecoders = make_decoders(std::make_index_sequence<std::variant_size_v<EventBody>>{});

// ---- encoding --------------------------------------------------------------------------------

// Appends fields to the caller's buffer. Checks what the format cannot carry before writing
// anything of the field; the first refusal is recorded (invalid_value) and encoding stops.
class Writer {
 public:
  Writer(std::vector<std::uint8_t>& out, std::string_view record) noexcept : out_(out), record_(record) {}

  [[nodiscard]] Error take_error() { return std::move(error_); }

  bool fail(Field f, std::string_view what) {
    error_ = Error{ErrorCode::invalid_value, field_message(record_, f, std::nullopt, what)};
    return false;
  }

  template <typename T>
  void num(T value) {
    // resize and store, not insert: a range insert costs several times as much per field.
    const std::size_t at = out_.size();
    out_.resize(at + sizeof(T));
    store_le(out_.data() + at, value);
  }
  void flag(bool b) { out_.push_back(b ? 1 : 0); }
  void raw(std::string_view bytes) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
    out_.insert(out_.end(), p, p + bytes.size());
  }

  bool str(std::string_view s, Field f) {
    if (s.size() > kMaxString) {
      return fail(f, "a string of " + std::to_string(s.size()) + " bytes; the format holds at most 65,535");
    }
    if (!is_utf8(s)) return fail(f, "a string must be valid UTF-8");
    num(static_cast<std::uint16_t>(s.size()));
    raw(s);
    return true;
  }

  bool count(std::size_t n, Field f, std::size_t max) {
    if (n > max) {
      return fail(f, std::to_string(n) + " entries; the format holds at most " + std::to_string(max));
    }
    if (max <= std::numeric_limits<std::uint8_t>::max()) {
      num(static_cast<std::uint8_t>(n));
    } else {
      num(static_cast<std::uint16_t>(n));
    }
    return true;
  }

  bool id(const ExternalId& id, Field f) {
    if (id.is_number()) {
      num(std::uint8_t{0});
      num(id.number());
      return true;
    }
    const std::string& name = id.name();
    if (name.empty() || name.size() > kMaxName) {
      return fail(f, "a name id has 1 to 255 bytes, not " + std::to_string(name.size()));
    }
    if (!is_utf8(name)) return fail(f, "a name must be valid UTF-8");
    num(std::uint8_t{1});
    num(static_cast<std::uint16_t>(name.size()));
    raw(name);
    return true;
  }

  // A message of the daemon's: valid UTF-8 always (an invalid byte becomes '?'), cut at a
  // character boundary to 65,535 bytes, so that a host's strict decoder never refuses an error
  // or notice over its text.
  void text_lossy(std::string_view message) {
    const std::size_t length_at = out_.size();
    num(std::uint16_t{0});
    const auto* p = reinterpret_cast<const std::uint8_t*>(message.data());
    const std::size_t n = message.size();
    std::size_t pos = 0;
    std::size_t written = 0;
    while (pos < n && written < kMaxString) {
      std::size_t valid = utf8_valid_prefix(p + pos, n - pos);
      if (written + valid > kMaxString) {
        valid = kMaxString - written;
        while (valid > 0 && (p[pos + valid] & 0xC0) == 0x80) --valid;  // not inside a character
        out_.insert(out_.end(), p + pos, p + pos + valid);
        written += valid;
        break;
      }
      out_.insert(out_.end(), p + pos, p + pos + valid);
      written += valid;
      pos += valid;
      if (pos < n) {  // one invalid byte
        out_.push_back('?');
        ++written;
        ++pos;
      }
    }
    store_le(out_.data() + length_at, static_cast<std::uint16_t>(written));
  }

 private:
  std::vector<std::uint8_t>& out_;
  std::string_view record_;
  Error error_;
};

template <typename T, typename WriteValue>
bool write_opt(Writer& w, const std::optional<T>& value, WriteValue write_value) {
  w.flag(value.has_value());
  return !value || write_value(*value);
}

bool write_skill_levels(Writer& w, const std::vector<SkillLevel>& skills) {
  if (!w.count(skills.size(), {"skills"}, kMaxList)) return false;
  for (const SkillLevel& s : skills) {
    w.num(s.skill);
    w.num(s.proficiency);
  }
  return true;
}

bool write_requirements(Writer& w, const std::vector<SkillRequirement>& skills) {
  if (!w.count(skills.size(), {"skills"}, kMaxList)) return false;
  for (const SkillRequirement& s : skills) {
    w.num(s.skill);
    w.num(s.min_proficiency);
  }
  return true;
}

bool write_shifts(Writer& w, const std::vector<Shift>& shifts) {
  if (!w.count(shifts.size(), {"shifts"}, kMaxList)) return false;
  for (const Shift& s : shifts) {
    w.num(s.start);
    w.num(s.end);
  }
  return true;
}

bool write_capacity(Writer& w, const AgentCapacity& capacity) {
  w.num(capacity.units);
  if (!w.count(capacity.profile_max.size(), {"capacity.profiles"}, kMaxProfiles)) return false;
  for (const std::int32_t max : capacity.profile_max) w.num(max);
  return true;
}

bool write_attributes(Writer& w, const Attributes& attributes, bool allow_none) {
  if (!w.count(attributes.size(), {"attributes"}, kMaxList)) return false;
  std::size_t i = 0;
  for (const auto& [key, value] : attributes) {
    if (!w.str(key, {"attributes", i, "key"})) return false;
    if (const auto* number = std::get_if<std::int64_t>(&value)) {
      w.num(kAttrInt);
      w.num(*number);
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      w.num(kAttrString);
      if (!w.str(*text, {"attributes", i, "value"})) return false;
    } else {
      if (!allow_none) {
        return w.fail({"attributes", i, "value"},
                      "no value (which removes an attribute) is allowed in item_update only");
      }
      w.num(kAttrNone);
    }
    ++i;
  }
  return true;
}

bool write_fields(Writer& w, const AgentUpsert& e) {
  return w.id(e.agent, {"agent"}) && write_opt(w, e.presence, [&](PresenceId v) { w.num(v); return true; }) &&
         write_opt(w, e.skills, [&](const std::vector<SkillLevel>& v) { return write_skill_levels(w, v); }) &&
         write_opt(w, e.capacity, [&](const AgentCapacity& v) { return write_capacity(w, v); }) &&
         write_opt(w, e.attributes, [&](const Attributes& v) { return write_attributes(w, v, false); }) &&
         write_opt(w, e.working, [&](bool v) { w.flag(v); return true; }) &&
         write_opt(w, e.shifts, [&](const std::vector<Shift>& v) { return write_shifts(w, v); });
}
bool write_fields(Writer& w, const AgentRemove& e) { return w.id(e.agent, {"agent"}); }
bool write_fields(Writer& w, const PresenceChange& e) {
  if (!w.id(e.agent, {"agent"})) return false;
  w.num(e.presence);
  return true;
}
bool write_fields(Writer& w, const CapacityChange& e) {
  return w.id(e.agent, {"agent"}) && write_capacity(w, e.capacity);
}
template <typename AgentAndQueue>
bool write_agent_queue(Writer& w, const AgentAndQueue& e) {
  if (!w.id(e.agent, {"agent"})) return false;
  w.num(e.queue);
  return true;
}
bool write_fields(Writer& w, const JoinQueue& e) { return write_agent_queue(w, e); }
bool write_fields(Writer& w, const LeaveQueue& e) { return write_agent_queue(w, e); }
bool write_fields(Writer& w, const ItemArrive& e) {
  if (!w.id(e.item, {"item"})) return false;
  w.num(e.queue);
  return write_opt(w, e.created, [&](Timestamp v) { w.num(v); return true; }) &&
         write_opt(w, e.last_message, [&](Timestamp v) { w.num(v); return true; }) &&
         write_attributes(w, e.attributes, false) && write_requirements(w, e.skills) &&
         write_opt(w, e.units, [&](std::int32_t v) { w.num(v); return true; }) &&
         write_opt(w, e.affinity_agent, [&](const ExternalId& v) { return w.id(v, {"affinity_agent"}); });
}
bool write_fields(Writer& w, const ItemUpdate& e) {
  return w.id(e.item, {"item"}) && write_attributes(w, e.attributes, true) &&
         write_opt(w, e.last_message, [&](Timestamp v) { w.num(v); return true; });
}
bool write_fields(Writer& w, const ItemCancel& e) { return w.id(e.item, {"item"}); }
bool write_fields(Writer& w, const ItemTransfer& e) {
  if (!w.id(e.item, {"item"})) return false;
  w.num(e.queue);
  return true;
}
bool write_fields(Writer& w, const ItemComplete& e) { return w.id(e.item, {"item"}); }
template <typename ItemAndAgent>
bool write_item_agent(Writer& w, const ItemAndAgent& e) {
  return w.id(e.item, {"item"}) && w.id(e.agent, {"agent"});
}
bool write_fields(Writer& w, const OfferAccept& e) { return write_item_agent(w, e); }
bool write_fields(Writer& w, const OfferDecline& e) { return write_item_agent(w, e); }
bool write_fields(Writer& w, const OfferTimeout& e) { return write_item_agent(w, e); }
bool write_fields(Writer& w, const ManualAssign& e) { return write_item_agent(w, e); }
bool write_fields(Writer& w, const AgentPick& e) { return write_item_agent(w, e); }
bool write_fields(Writer&, const Tick&) { return true; }

Error malformed(std::string message) { return Error{ErrorCode::malformed_event, std::move(message)}; }

}  // namespace

std::uint16_t record_type_of(const EventBody& body) noexcept {
  return static_cast<std::uint16_t>(body.index() + SB_RECORD_MIN_INBOUND);
}

Result<std::uint16_t> encode_event(const Event& event, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  Writer w(out, event_type_name(event.body));
  w.num(event.time);
  const bool ok = std::visit([&](const auto& body) { return write_fields(w, body); }, event.body);
  if (!ok) {
    out.resize(start);
    return w.take_error();
  }
  return record_type_of(event.body);
}

Result<Event> decode_event(std::uint16_t type, std::uint64_t sequence, std::span<const std::uint8_t> payload) {
  Event event;
  if (std::optional<Error> error = decode_event(type, sequence, payload, event)) return std::move(*error);
  return event;
}

std::optional<Error> decode_event(std::uint16_t type, std::uint64_t sequence, std::span<const std::uint8_t> payload,
                                  Event& out) {
  if (type < SB_RECORD_MIN_INBOUND || type > SB_RECORD_MAX_INBOUND) {
    return malformed("record type " + std::to_string(type) + " is not an event (events are types 1 to 17)");
  }
  out.sequence = sequence;
  Reader r({}, payload);
  if (!kDecoders[type - SB_RECORD_MIN_INBOUND](r, out)) return r.take_error();
  return std::nullopt;
}

namespace {

// The bytes of an id that encode_decision writes (a name is cut to what a u16 length frames).
std::size_t id_bytes(const ExternalId& id) noexcept {
  return id.is_number() ? 1 + 8 : 1 + 2 + std::min(id.name().size(), kMaxString);
}

// The fixed fields of a decision: kind .. from_queue.
constexpr std::size_t kDecisionFixedBytes = 4 * 1 + 2 + 2 + 8 + 8 + 4 + 4;

std::uint8_t* put_id(std::uint8_t* p, const ExternalId& id) noexcept {
  if (id.is_number()) {
    *p = 0;
    store_le(p + 1, id.number());
    return p + 9;
  }
  // Ids came in through decode_event and so fit; should one not, the length written still
  // frames the bytes written, so a host's decoder refuses the record instead of misreading it.
  const std::string& name = id.name();
  assert(!name.empty() && name.size() <= kMaxName && "encode_decision: an id decode_event would refuse");
  const std::size_t n = std::min(name.size(), kMaxString);
  *p = 1;
  store_le(p + 1, static_cast<std::uint16_t>(n));
  std::memcpy(p + 3, name.data(), n);
  return p + 3 + n;
}

}  // namespace

std::size_t decision_payload_size(const Decision& decision) noexcept {
  return kDecisionFixedBytes + id_bytes(decision.item) + 1 + (decision.agent ? id_bytes(*decision.agent) : 0);
}

void encode_decision_to(const Decision& decision, DecisionCause cause, std::uint8_t* out) noexcept {
  assert(decision.kind != DecisionKind::error && "errors travel as SB_REC_ERROR");
  out[0] = static_cast<std::uint8_t>(decision.kind);
  out[1] = static_cast<std::uint8_t>(decision.decided_by);
  out[2] = static_cast<std::uint8_t>(decision.reason);
  out[3] = 0;
  store_le(out + 4, decision.rule);
  store_le(out + 6, cause.slot);
  store_le(out + 8, cause.sequence);
  store_le(out + 16, decision.time);
  store_le(out + 24, decision.queue);
  store_le(out + 28, decision.from_queue);
  std::uint8_t* p = put_id(out + kDecisionFixedBytes, decision.item);
  *p++ = decision.agent ? 1 : 0;
  if (decision.agent) put_id(p, *decision.agent);
}

void encode_decision(const Decision& decision, DecisionCause cause, std::vector<std::uint8_t>& out) {
  const std::size_t at = out.size();
  out.resize(at + decision_payload_size(decision));
  encode_decision_to(decision, cause, out.data() + at);
}

Result<DecodedDecision> decode_decision(std::span<const std::uint8_t> payload) {
  Reader r("decision", payload);
  DecodedDecision out;
  Decision& d = out.decision;
  std::uint8_t kind = 0;
  std::uint8_t decided_by = 0;
  std::uint8_t reason = 0;
  std::uint8_t reserved = 0;
  const std::size_t reserved_at = 3;
  bool ok = r.small(kind, {"kind"}, static_cast<std::uint8_t>(DecisionKind::transferred),
                    "a decision kind (0 offer .. 6 transferred)") &&
            r.small(decided_by, {"decided_by"}, static_cast<std::uint8_t>(DecidedBy::accepted),
                    "a decided_by (0 none .. 6 accepted)") &&
            r.small(reason, {"reason"}, static_cast<std::uint8_t>(RequeueReason::timed_out),
                    "a reason (0 none, 1 declined, 2 timed out)") &&
            r.num(reserved, {"reserved"});
  if (ok && reserved != 0) ok = r.fail({"reserved"}, reserved_at, "must be 0, not " + std::to_string(reserved));
  ok = ok && r.num(d.rule, {"rule"}) && r.num(out.cause.slot, {"cause_slot"}) &&
       r.num(out.cause.sequence, {"cause_sequence"}) && r.num(d.time, {"time"}) &&
       r.num(d.queue, {"queue"}) && r.num(d.from_queue, {"from_queue"}) && r.id(d.item, {"item"}) &&
       read_opt(r, d.agent, {"agent"}, [&](ExternalId& v) { return r.id(v, {"agent"}); }) && r.finish();
  if (!ok) return r.take_error();
  d.kind = static_cast<DecisionKind>(kind);
  d.decided_by = static_cast<DecidedBy>(decided_by);
  d.reason = static_cast<RequeueReason>(reason);
  return out;
}

void encode_error(ErrorCode code, std::uint16_t record_type, std::string_view message,
                  std::vector<std::uint8_t>& out) {
  Writer w(out, "error");
  w.num(static_cast<std::uint16_t>(code));
  w.num(record_type);
  w.text_lossy(message);
}

Result<DecodedError> decode_error(std::span<const std::uint8_t> payload) {
  Reader r("error", payload);
  DecodedError out;
  std::uint16_t code = 0;
  if (!r.num(code, {"code"})) return r.take_error();
  constexpr auto kLast = static_cast<std::uint16_t>(ErrorCode::config_io);
  if (code == 0 || code > kLast) {
    r.fail({"code"}, 0, std::to_string(code) + " is not an error code (1 to " + std::to_string(kLast) + ")");
    return r.take_error();
  }
  out.code = static_cast<ErrorCode>(code);
  if (!r.num(out.record_type, {"record_type"}) || !r.str(out.message, {"message"}) || !r.finish()) {
    return r.take_error();
  }
  return out;
}

void encode_ack(std::uint16_t cause_slot, std::vector<std::uint8_t>& out) {
  Writer w(out, "ack");
  w.num(cause_slot);
}

Result<std::uint16_t> decode_ack(std::span<const std::uint8_t> payload) {
  Reader r("ack", payload);
  std::uint16_t slot = 0;
  if (!r.num(slot, {"cause_slot"}) || !r.finish()) return r.take_error();
  return slot;
}

void encode_notice(NoticeCode code, std::string_view message, std::vector<std::uint8_t>& out) {
  Writer w(out, "notice");
  w.num(static_cast<std::uint16_t>(code));
  w.text_lossy(message);
}

Result<DecodedNotice> decode_notice(std::span<const std::uint8_t> payload) {
  Reader r("notice", payload);
  DecodedNotice out;
  std::uint16_t code = 0;
  if (!r.num(code, {"code"})) return r.take_error();
  if (code != static_cast<std::uint16_t>(NoticeCode::ring_reset)) {
    r.fail({"code"}, 0, std::to_string(code) + " is not a notice code (1 ring reset)");
    return r.take_error();
  }
  out.code = static_cast<NoticeCode>(code);
  if (!r.str(out.message, {"message"}) || !r.finish()) return r.take_error();
  return out;
}

}  // namespace switchboard::shm
