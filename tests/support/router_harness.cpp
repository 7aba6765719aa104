#include "router_harness.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace switchboard::testing {

Config base_config() {
  Config config;
  for (int i = 0; i < 10; ++i) config.skills.push_back("s" + std::to_string(i));
  for (std::string_view p : kBuiltinPresences) config.presences.emplace_back(p);
  config.presences.emplace_back("lunch");
  config.profiles = {ProfileConfig{"chat", false}, ProfileConfig{"voice", true}};
  config.channels.push_back(channel_defaults(ChannelKind::chat));
  ChannelConfig voice = channel_defaults(ChannelKind::voice);
  voice.capacity_model = CapacityModel::profile;
  voice.profile = kVoiceProfile;
  config.channels.push_back(voice);
  config.channels.push_back(channel_defaults(ChannelKind::messaging));
  config.channels.push_back(channel_defaults(ChannelKind::email));
  config.channels.push_back(channel_defaults(ChannelKind::record));
  ChannelConfig pchat = channel_defaults(ChannelKind::chat);
  pchat.name = "pchat";
  pchat.capacity_model = CapacityModel::profile;
  pchat.profile = kChatProfile;
  config.channels.push_back(pchat);
  return config;
}

QueueId add_queue(Config& config, std::string name, ChannelId channel, AssignmentMethod method,
                  std::int32_t group) {
  QueueConfig queue;
  queue.name = std::move(name);
  queue.channel = channel;
  queue.method = method;
  queue.group = group;
  queue.block_size = config.channels[channel].block_size;
  queue.prioritization_limit = config.channels[channel].prioritization_limit;
  config.queues.push_back(std::move(queue));
  return static_cast<QueueId>(config.queues.size() - 1);
}

Condition condition(const Config& config, std::string_view text, ConditionScope scope) {
  ConditionParseOptions options;
  options.scope = scope;
  options.skills = &config.skills;
  options.presences = &config.presences;
  Result<Condition> parsed = parse_condition(text, options);
  EXPECT_TRUE(parsed.has_value()) << text << ": "
                                  << (parsed.has_value() ? "" : parsed.error().message);
  return parsed.has_value() ? std::move(parsed).value() : Condition{};
}

std::vector<Decision> RouterHarness::send(Timestamp t, EventBody body) {
  std::vector<Decision> out;
  router_.apply(Event{t, next_sequence_++, std::move(body)}, out);
  all_.insert(all_.end(), out.begin(), out.end());
  return out;
}

std::vector<Decision> RouterHarness::agent(Timestamp t, ExternalId id, std::int32_t units,
                                           std::initializer_list<QueueId> queues,
                                           std::vector<SkillLevel> skills, PresenceId presence) {
  AgentUpsert upsert;
  upsert.agent = id;
  upsert.presence = presence;
  upsert.skills = std::move(skills);
  upsert.capacity = AgentCapacity{units, {units, units}};
  std::vector<Decision> out = send(t, upsert);
  for (QueueId q : queues) {
    std::vector<Decision> more = send(t, JoinQueue{id, q});
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

std::vector<Decision> RouterHarness::arrive(Timestamp t, ExternalId item, QueueId queue,
                                            std::vector<SkillRequirement> skills,
                                            Attributes attributes) {
  ItemArrive arrive;
  arrive.item = std::move(item);
  arrive.queue = queue;
  arrive.skills = std::move(skills);
  arrive.attributes = std::move(attributes);
  return send(t, arrive);
}

std::vector<Decision> RouterHarness::accept(Timestamp t, ExternalId item, ExternalId agent) {
  return send(t, OfferAccept{std::move(item), std::move(agent)});
}
std::vector<Decision> RouterHarness::decline(Timestamp t, ExternalId item, ExternalId agent) {
  return send(t, OfferDecline{std::move(item), std::move(agent)});
}
std::vector<Decision> RouterHarness::complete(Timestamp t, ExternalId item) {
  return send(t, ItemComplete{std::move(item)});
}

std::vector<Decision> offers(const std::vector<Decision>& decisions) {
  std::vector<Decision> result;
  for (const Decision& d : decisions) {
    if (d.kind == DecisionKind::offer) result.push_back(d);
  }
  return result;
}

const Decision* first_of(const std::vector<Decision>& decisions, DecisionKind kind) {
  for (const Decision& d : decisions) {
    if (d.kind == kind) return &d;
  }
  ADD_FAILURE() << "no " << to_string(kind) << " among: " << describe(decisions);
  return nullptr;
}

std::string describe(const Decision& d) {
  std::ostringstream s;
  s << to_string(d.kind) << " t=" << d.time << " item=" << d.item.to_string();
  if (d.agent) s << " agent=" << d.agent->to_string();
  s << " queue=" << d.queue;
  if (d.decided_by != DecidedBy::none) s << " by=" << to_string(d.decided_by);
  if (d.decided_by == DecidedBy::rule) s << " rule=" << d.rule;
  if (d.reason != RequeueReason::none) s << " reason=" << to_string(d.reason);
  if (d.kind == DecisionKind::error) s << " error=" << to_string(d.error) << " (" << d.message << ")";
  return s.str();
}

std::string describe(const std::vector<Decision>& decisions) {
  std::string text;
  for (const Decision& d : decisions) text += "\n  " + describe(d);
  return text.empty() ? " (none)" : text;
}

std::string trace(const Decision& d) {
  std::string s(to_string(d.kind));
  s += " " + d.item.to_string();
  if (d.agent) s += " " + d.agent->to_string();
  s += " q" + std::to_string(d.queue);
  if (d.kind == DecisionKind::transferred) s += " from q" + std::to_string(d.from_queue);
  if (d.decided_by == DecidedBy::rule) {
    s += " rule" + std::to_string(d.rule);
  } else if (d.decided_by != DecidedBy::none) {
    s += " " + std::string(to_string(d.decided_by));
  }
  if (d.reason != RequeueReason::none) s += " " + std::string(to_string(d.reason));
  if (d.kind == DecisionKind::error) s += " " + std::string(to_string(d.error));
  s += " @" + std::to_string(d.time);
  return s;
}

std::vector<std::string> trace(const std::vector<Decision>& decisions) {
  std::vector<std::string> out;
  for (const Decision& d : decisions) out.push_back(trace(d));
  return out;
}

std::string arrow(const Decision& d, ArrowStyle style) {
  std::string s = std::string(to_string(d.kind)) + ":" + d.item.to_string();
  const bool show_by = (d.kind == DecisionKind::offer && style.by_on_offer) ||
                       (d.kind == DecisionKind::assigned && style.by_on_assigned);
  switch (d.kind) {
    case DecisionKind::offer:
    case DecisionKind::assigned:
    case DecisionKind::completed:
      s += ">" + d.agent.value().to_string();
      if (show_by && d.decided_by != DecidedBy::none) {
        s += "/" + std::string(to_string(d.decided_by));
      }
      break;
    case DecisionKind::requeued:
      s += ">" + d.agent.value().to_string();
      if (style.reason) s += "(" + std::string(to_string(d.reason)) + ")";
      break;
    case DecisionKind::error: s += "=" + std::string(to_string(d.error)); break;
    default: break;
  }
  return s;
}

std::vector<std::string> arrows(const std::vector<Decision>& decisions, ArrowStyle style) {
  std::vector<std::string> out;
  for (const Decision& d : decisions) out.push_back(arrow(d, style));
  return out;
}

Condition item_equals(const std::string& key, const std::string& value) {
  Condition c;
  ConditionNode node;
  node.kind = NodeKind::compare;
  node.op = CompareOp::eq;
  node.lhs = Operand{OperandKind::item_attribute, key, {}};
  node.rhs = Operand{OperandKind::literal, {}, AttrValue{value}};
  c.nodes.push_back(node);
  c.root = 0;
  c.source = "item." + key + " == \"" + value + "\"";
  return c;
}

Condition agent_equals_item(const std::string& key) {
  Condition c;
  ConditionNode node;
  node.kind = NodeKind::compare;
  node.op = CompareOp::eq;
  node.lhs = Operand{OperandKind::agent_attribute, key, {}};
  node.rhs = Operand{OperandKind::item_attribute, key, {}};
  c.nodes.push_back(node);
  c.root = 0;
  c.source = "agent." + key + " == item." + key;
  c.refers_to_agent = true;
  return c;
}

}  // namespace switchboard::testing
