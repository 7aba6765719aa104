// Evaluation of parsed conditions (condition.hpp). Semantics: docs/configuration.md.

#include <algorithm>

#include "switchboard/condition.hpp"

namespace switchboard {
namespace {

// Resolves an operand to a value; nullptr = has no value.
const AttrValue* resolve(const Operand& operand, const ConditionContext& context,
                         AttrValue& scratch) {
  switch (operand.kind) {
    case OperandKind::literal: return &operand.literal;
    case OperandKind::item_attribute: return context.item_attribute(operand.key);
    case OperandKind::agent_attribute: return context.agent_attribute(operand.key);
    case OperandKind::agent_presence:
      scratch = static_cast<std::int64_t>(context.agent_presence());
      return &scratch;
  }
  return nullptr;
}

// A comparison with a missing value or between an integer and a string is false, whatever the
// operator: an operator who writes `item.tier != "gold"` does not mean "or has no tier".
bool compare(const AttrValue* a, CompareOp op, const AttrValue* b) {
  if (!has_value(a) || !has_value(b) || a->index() != b->index()) return false;
  int order = 0;
  if (const auto* ia = std::get_if<std::int64_t>(a)) {
    const std::int64_t ib = std::get<std::int64_t>(*b);
    order = *ia < ib ? -1 : (*ia > ib ? 1 : 0);
  } else {
    const int c = std::get<std::string>(*a).compare(std::get<std::string>(*b));
    order = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  switch (op) {
    case CompareOp::eq: return order == 0;
    case CompareOp::ne: return order != 0;
    case CompareOp::lt: return order < 0;
    case CompareOp::le: return order <= 0;
    case CompareOp::gt: return order > 0;
    case CompareOp::ge: return order >= 0;
  }
  return false;
}

bool eval_node(const Condition& c, std::uint32_t index, const ConditionContext& context) {
  const ConditionNode& node = c.nodes[index];
  AttrValue scratch_a;
  AttrValue scratch_b;
  switch (node.kind) {
    case NodeKind::always: return true;
    case NodeKind::all_of:
      return std::all_of(node.children.begin(), node.children.end(),
                         [&](std::uint32_t child) { return eval_node(c, child, context); });
    case NodeKind::any_of:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](std::uint32_t child) { return eval_node(c, child, context); });
    case NodeKind::negate: return !eval_node(c, node.children.at(0), context);
    case NodeKind::compare:
      return compare(resolve(node.lhs, context, scratch_a), node.op,
                     resolve(node.rhs, context, scratch_b));
    case NodeKind::in_list: {
      const AttrValue* value = resolve(node.lhs, context, scratch_a);
      return std::any_of(node.list.begin(), node.list.end(), [&](const AttrValue& candidate) {
        return compare(value, CompareOp::eq, &candidate);
      });
    }
    case NodeKind::has_value: return has_value(resolve(node.lhs, context, scratch_a));
    case NodeKind::has_no_value: return !has_value(resolve(node.lhs, context, scratch_a));
    case NodeKind::skills_match: return context.agent_matches_item_skills();
    case NodeKind::has_skill: {
      if (node.rhs.kind == OperandKind::literal) {
        const auto* id = std::get_if<std::int64_t>(&node.rhs.literal);
        return id != nullptr &&
               context.agent_has_skill(static_cast<SkillId>(*id), node.min_proficiency);
      }
      // Custom lookup: the skill named by an item attribute; an unknown name matches nobody.
      const AttrValue* name = resolve(node.rhs, context, scratch_b);
      const auto* text = name != nullptr ? std::get_if<std::string>(name) : nullptr;
      if (text == nullptr) return false;
      const std::optional<SkillId> skill = context.skill_by_name(*text);
      return skill.has_value() && context.agent_has_skill(*skill, node.min_proficiency);
    }
    case NodeKind::capacity_ok: return context.agent_has_capacity();
    case NodeKind::is_working: return context.agent_is_working();
  }
  return false;
}

}  // namespace

bool evaluate(const Condition& condition, const ConditionContext& context) {
  if (condition.is_always()) return true;
  return eval_node(condition, condition.root, context);
}

}  // namespace switchboard
