#pragma once
// Test support: a small routing configuration built in code (independent of the TOML loader)
// and a harness that feeds events to the reference router and collects its decisions.

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "switchboard/config.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/events.hpp"
#include "switchboard/reference_router.hpp"

namespace switchboard::testing {

// Skills "s0".."s9"; the five built-in presences plus "lunch"; profiles "chat" and "voice"
// (voice blocks others); channels (by ChannelId):
//   0 chat      units, 1 per item, allowed {available}, no timeout
//   1 voice     profile "voice", allowed {available}
//   2 messaging units, ordered by last message
//   3 email     units
//   4 record    units, block 2000, limit 10000, periodic 5 min
//   5 pchat     profile "chat" (a chat channel with profile-based capacity)
// No queues and no agents: tests add what they need.
Config base_config();

// Appends a queue and returns its id. block_size and prioritization_limit come from the channel.
QueueId add_queue(Config& config, std::string name, ChannelId channel,
                  AssignmentMethod method = AssignmentMethod::highest_capacity,
                  std::int32_t group = 1);

// Parses a condition against `config` and fails the current test if it does not parse.
Condition condition(const Config& config, std::string_view text,
                    ConditionScope scope = ConditionScope::agent_and_item);

inline constexpr ChannelId kChat = 0, kVoice = 1, kMessaging = 2, kEmail = 3, kRecord = 4,
                           kProfileChat = 5;
inline constexpr ProfileId kChatProfile = 0, kVoiceProfile = 1;
inline constexpr PresenceId kAvailable = 0, kBusy = 1, kDoNotDisturb = 2, kAway = 3,
                            kOffline = 4, kLunch = 5;

class RouterHarness {
 public:
  explicit RouterHarness(Config config) : router_(std::move(config)) {}

  // Applies one event at time t; returns the decisions it caused (also kept in all()).
  std::vector<Decision> send(Timestamp t, EventBody body);

  // Conveniences for the common events.
  std::vector<Decision> agent(Timestamp t, ExternalId id, std::int32_t units,
                              std::initializer_list<QueueId> queues,
                              std::vector<SkillLevel> skills = {},
                              PresenceId presence = kAvailable);
  std::vector<Decision> arrive(Timestamp t, ExternalId item, QueueId queue,
                               std::vector<SkillRequirement> skills = {},
                               Attributes attributes = {});
  std::vector<Decision> accept(Timestamp t, ExternalId item, ExternalId agent);
  std::vector<Decision> decline(Timestamp t, ExternalId item, ExternalId agent);
  std::vector<Decision> complete(Timestamp t, ExternalId item);

  ReferenceRouter& router() { return router_; }
  const std::vector<Decision>& all() const { return all_; }

 private:
  ReferenceRouter router_;
  std::vector<Decision> all_;
  std::uint64_t next_sequence_ = 1;
};

// Filters: the offers among `decisions`, the first decision of a kind (fails if none).
std::vector<Decision> offers(const std::vector<Decision>& decisions);
const Decision* first_of(const std::vector<Decision>& decisions, DecisionKind kind);

// "offer item=7 agent=lesa queue=0 by=method" for assertion messages (agent only when set).
std::string describe(const Decision& decision);
std::string describe(const std::vector<Decision>& decisions);

// "offer c1 ann q0 method @200", compact, for comparing with expected strings: kind, item,
// agent (when set), queue, "from q<n>" (transferred), "rule<n>" or who decided (when not none),
// the requeue reason (when not none), the error code (errors), "@" time.
std::string trace(const Decision& decision);
std::vector<std::string> trace(const std::vector<Decision>& decisions);

// The compact "kind:item>agent" form ("offer:c1>ann", "error:c9=unknown_item"), with the
// details a test file wants to see: what decided an offer or an assignment ("/method"), and why
// an item was requeued ("(declined)").
struct ArrowStyle {
  bool by_on_offer = false;
  bool by_on_assigned = false;
  bool reason = false;
};
std::string arrow(const Decision& decision, ArrowStyle style = {});
std::vector<std::string> arrows(const std::vector<Decision>& decisions, ArrowStyle style = {});

// `item.<key> == "<value>"` and `agent.<key> == item.<key>`, built without the condition parser
// (so that tests of routing do not depend on it).
Condition item_equals(const std::string& key, const std::string& value);
Condition agent_equals_item(const std::string& key);

}  // namespace switchboard::testing
