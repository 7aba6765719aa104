#pragma once
// The condition language of prioritization rulesets (R8) and assignment rulesets (R9), parsed
// and checked once at load into a flat tree that is cheap to evaluate. Grammar and semantics:
// docs/configuration.md, "Conditions".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchboard/attributes.hpp"
#include "switchboard/ids.hpp"
#include "switchboard/result.hpp"

namespace switchboard {


enum class OperandKind : std::uint8_t {
  literal,         // "text", 42, or a presence name resolved to its id (with agent_presence)
  item_attribute,  // item.<key> (key may be dotted: item.customer.membership_level)
  agent_attribute, // agent.<key>
  agent_presence,  // agent.presence
};

struct Operand {
  OperandKind kind = OperandKind::literal;
  std::string key;   // attribute key for item_attribute / agent_attribute
  AttrValue literal; // for literal; a presence literal holds its PresenceId as int64
};

enum class CompareOp : std::uint8_t { eq, ne, lt, le, gt, ge };

enum class NodeKind : std::uint8_t {
  always,        // the empty condition: matches everything
  all_of,        // and: children[0..n)
  any_of,        // or: children[0..n)
  negate,        // not: children[0]
  compare,       // lhs op rhs
  in_list,       // lhs in [list...]
  has_value,     // lhs has value
  has_no_value,  // lhs has no value
  skills_match,  // the agent has every skill the item requires, at the required proficiency
  has_skill,     // has_skill(<skill name> | item.<key> [, min]): a fixed skill or a custom lookup
  capacity_ok,   // the agent has the capacity the item needs (R6)
  is_working,    // the agent is working now (calendar)
};

struct ConditionNode {
  NodeKind kind = NodeKind::always;
  CompareOp op = CompareOp::eq;
  Operand lhs;
  Operand rhs;                    // compare; has_skill: the skill (literal SkillId or item attr)
  std::vector<AttrValue> list;    // in_list
  std::int64_t min_proficiency = -1;  // has_skill: -1 = any proficiency
  std::vector<std::uint32_t> children;
};

// A parsed condition. nodes[root] is the root; children index into nodes.
struct Condition {
  std::vector<ConditionNode> nodes;
  std::uint32_t root = 0;
  std::string source;         // the text it was parsed from, for explanations and errors
  bool refers_to_agent = false;

  [[nodiscard]] bool is_always() const noexcept {
    return nodes.empty() || nodes[root].kind == NodeKind::always;
  }
};

// What a condition may ask while it is evaluated. The reference router and the kernel each
// answer from their own representation of agents and items.
class ConditionContext {
 public:
  virtual ~ConditionContext() = default;
  [[nodiscard]] virtual const AttrValue* item_attribute(std::string_view key) const = 0;
  [[nodiscard]] virtual const AttrValue* agent_attribute(std::string_view key) const = 0;
  [[nodiscard]] virtual PresenceId agent_presence() const = 0;
  // min_proficiency < 0: any proficiency.
  [[nodiscard]] virtual bool agent_has_skill(SkillId skill, std::int64_t min_proficiency) const = 0;
  [[nodiscard]] virtual bool agent_matches_item_skills() const = 0;
  [[nodiscard]] virtual bool agent_has_capacity() const = 0;
  [[nodiscard]] virtual bool agent_is_working() const = 0;
  // For has_skill(item.<key>): the skill named by an item attribute.
  [[nodiscard]] virtual std::optional<SkillId> skill_by_name(std::string_view name) const = 0;
};

// Where the condition may look: item-only conditions (prioritization rules) may not mention the
// agent; the parser refuses them at load.
enum class ConditionScope : std::uint8_t { item_only, agent_and_item };

struct ConditionParseOptions {
  ConditionScope scope = ConditionScope::agent_and_item;
  const std::vector<std::string>* skills = nullptr;     // declared skill names, by SkillId
  const std::vector<std::string>* presences = nullptr;  // declared presence names, by PresenceId
};

// Parses `text`. On error, Error::message says what is wrong and at which column (1-based,
// counted in `text`); the configuration loader prefixes file, line and key.
[[nodiscard]] Result<Condition> parse_condition(std::string_view text,
                                                const ConditionParseOptions& options);

// Evaluates `condition` against `context`. Comparisons with a missing value, or between a
// string and an integer, are false (so `not (x == 1)` is true when x is missing).
[[nodiscard]] bool evaluate(const Condition& condition, const ConditionContext& context);

}  // namespace switchboard
