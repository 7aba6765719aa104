// The condition language parser (condition.hpp). Grammar and semantics: docs/configuration.md,
// "Conditions". A hand-written recursive descent over a small token list: conditions are short
// and parsed once at load, so clarity of the error messages matters more than speed.

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchboard/condition.hpp"

namespace switchboard {
namespace {

enum class TokenKind : std::uint8_t {
  word,     // an identifier or a dotted path: item.customer.membership_level
  string,   // "text" (text holds the unescaped value)
  integer,  // 42, -7
  lparen,
  rparen,
  lbracket,
  rbracket,
  comma,
  compare,  // == != < <= > >=
  end,
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string text;       // word: the word; string: the value; otherwise the source spelling
  std::int64_t number = 0;
  CompareOp op = CompareOp::eq;
  std::size_t column = 0;  // 1-based
};

Error error_at(std::size_t column, std::string_view what) {
  return Error{ErrorCode::config_condition,
               "column " + std::to_string(column) + ": " + std::string(what)};
}

bool is_ident_start(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_ident_char(char c) noexcept { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// How a token reads in "found ..." of an error message.
std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::end: return "end of condition";
    case TokenKind::string: return "string \"" + token.text + "\"";
    case TokenKind::integer: return "number " + token.text;
    default: return "'" + token.text + "'";
  }
}

// Splits the text into tokens; the first malformed character is an error.
Result<std::vector<Token>> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (true) {
    while (i < text.size() && is_space(text[i])) ++i;
    Token token;
    token.column = i + 1;
    if (i == text.size()) {
      tokens.push_back(std::move(token));
      return tokens;
    }
    const char c = text[i];
    if (is_ident_start(c)) {
      const std::size_t start = i;
      while (true) {
        while (i < text.size() && is_ident_char(text[i])) ++i;
        if (i < text.size() && text[i] == '.') {
          if (i + 1 >= text.size() || !is_ident_start(text[i + 1])) {
            return error_at(i + 2, "expected a name after '.' in '" +
                                       std::string(text.substr(start, i + 1 - start)) + "'");
          }
          ++i;
          continue;
        }
        break;
      }
      token.kind = TokenKind::word;
      token.text = std::string(text.substr(start, i - start));
    } else if (c == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        const char d = text[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\') {
          if (i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
            token.text.push_back(text[i + 1]);
            i += 2;
            continue;
          }
          return error_at(i + 1, "unknown escape in string (only \\\" and \\\\ are allowed)");
        }
        token.text.push_back(d);
        ++i;
      }
      if (!closed) return error_at(token.column, "unterminated string (expected a closing '\"')");
      token.kind = TokenKind::string;
    } else if (is_digit(c) || (c == '-' && i + 1 < text.size() && is_digit(text[i + 1]))) {
      const std::size_t start = i;
      if (c == '-') ++i;
      while (i < text.size() && is_digit(text[i])) ++i;
      if (i < text.size() && is_ident_char(text[i])) {
        return error_at(i + 1, "unexpected character '" + std::string(1, text[i]) +
                                   "' in a number (expected a digit)");
      }
      token.kind = TokenKind::integer;
      token.text = std::string(text.substr(start, i - start));
      const auto [ptr, ec] =
          std::from_chars(token.text.data(), token.text.data() + token.text.size(), token.number);
      if (ec != std::errc{}) {
        return error_at(token.column, "number " + token.text + " is out of the 64-bit range");
      }
    } else {
      auto single = [&](TokenKind kind) {
        token.kind = kind;
        token.text = std::string(1, c);
        ++i;
      };
      auto two = [&](char next) { return i + 1 < text.size() && text[i + 1] == next; };
      auto op = [&](CompareOp value, std::size_t length) {
        token.kind = TokenKind::compare;
        token.op = value;
        token.text = std::string(text.substr(i, length));
        i += length;
      };
      switch (c) {
        case '(': single(TokenKind::lparen); break;
        case ')': single(TokenKind::rparen); break;
        case '[': single(TokenKind::lbracket); break;
        case ']': single(TokenKind::rbracket); break;
        case ',': single(TokenKind::comma); break;
        case '=':
          if (!two('=')) return error_at(token.column, "unknown token '=' (did you mean '=='?)");
          op(CompareOp::eq, 2);
          break;
        case '!':
          if (!two('=')) {
            return error_at(token.column, "unknown token '!' (did you mean '!=' or 'not'?)");
          }
          op(CompareOp::ne, 2);
          break;
        case '<':
          if (two('=')) op(CompareOp::le, 2); else op(CompareOp::lt, 1);
          break;
        case '>':
          if (two('=')) op(CompareOp::ge, 2); else op(CompareOp::gt, 1);
          break;
        default:
          return error_at(token.column, "unknown token '" + std::string(1, c) + "'");
      }
    }
    tokens.push_back(std::move(token));
  }
}

bool is_builtin_predicate(std::string_view word) noexcept {
  return word == "skills_match" || word == "capacity_ok" || word == "is_working" ||
         word == "has_skill";
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const ConditionParseOptions& options)
      : tokens_(std::move(tokens)), options_(options) {}

  Result<Condition> parse() {
    Result<std::uint32_t> root = parse_or();
    if (!root) return root.error();
    if (peek().kind != TokenKind::end) {
      return error_at(peek().column, "expected 'and', 'or' or end of condition, found " +
                                         describe(peek()));
    }
    condition_.root = root.value();
    return std::move(condition_);
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& take() {
    const Token& token = tokens_[pos_];
    if (token.kind != TokenKind::end) ++pos_;
    return token;
  }
  bool at_word(std::string_view word) const {
    return peek().kind == TokenKind::word && peek().text == word;
  }

  std::uint32_t add(ConditionNode node) {
    condition_.nodes.push_back(std::move(node));
    return static_cast<std::uint32_t>(condition_.nodes.size() - 1);
  }

  // and/or chains become one node with n children: flat trees evaluate with less recursion.
  Result<std::uint32_t> parse_chain(std::string_view keyword, NodeKind kind, bool is_or) {
    Result<std::uint32_t> first = is_or ? parse_and() : parse_unary();
    if (!first) return first;
    if (!at_word(keyword)) return first;
    ConditionNode node;
    node.kind = kind;
    node.children.push_back(first.value());
    while (at_word(keyword)) {
      take();
      Result<std::uint32_t> next = is_or ? parse_and() : parse_unary();
      if (!next) return next;
      node.children.push_back(next.value());
    }
    return add(std::move(node));
  }

  Result<std::uint32_t> parse_or() { return parse_chain("or", NodeKind::any_of, true); }
  Result<std::uint32_t> parse_and() { return parse_chain("and", NodeKind::all_of, false); }

  Result<std::uint32_t> parse_unary() {
    if (at_word("not")) {
      take();
      Result<std::uint32_t> inner = parse_unary();
      if (!inner) return inner;
      ConditionNode node;
      node.kind = NodeKind::negate;
      node.children.push_back(inner.value());
      return add(std::move(node));
    }
    return parse_primary();
  }

  // The agent may be mentioned only where the scope allows it (prioritization rules order items
  // before any agent is considered, so there is no agent to ask).
  std::optional<Error> note_agent(const Token& token) {
    if (options_.scope == ConditionScope::item_only) {
      return error_at(token.column, "'" + token.text +
                                        "' refers to the agent; this condition may only use "
                                        "item attributes (item.<key>)");
    }
    condition_.refers_to_agent = true;
    return std::nullopt;
  }

  Result<std::uint32_t> parse_primary() {
    const Token& token = peek();
    if (token.kind == TokenKind::end) {
      return error_at(token.column, "unexpected end of condition (expected a comparison, "
                                    "'not', '(' or a predicate)");
    }
    if (token.kind == TokenKind::lparen) {
      take();
      Result<std::uint32_t> inner = parse_or();
      if (!inner) return inner;
      if (peek().kind != TokenKind::rparen) {
        return error_at(peek().column, "expected ')' (to close '(' at column " +
                                           std::to_string(token.column) + "), found " +
                                           describe(peek()));
      }
      take();
      return inner;
    }
    if (token.kind == TokenKind::word) {
      if (token.text == "true") {
        take();
        return add(ConditionNode{});
      }
      if (is_builtin_predicate(token.text)) {
        if (auto e = note_agent(token)) return *e;
        const Token& name = take();
        if (name.text == "has_skill") return parse_has_skill(name);
        ConditionNode node;
        node.kind = name.text == "skills_match"  ? NodeKind::skills_match
                    : name.text == "capacity_ok" ? NodeKind::capacity_ok
                                                 : NodeKind::is_working;
        return add(std::move(node));
      }
    }
    return parse_test();
  }

  // has_skill("name" | item.<key> [, min])
  Result<std::uint32_t> parse_has_skill(const Token& keyword) {
    if (peek().kind != TokenKind::lparen) {
      return error_at(peek().column, "expected '(' after has_skill, found " + describe(peek()));
    }
    take();
    ConditionNode node;
    node.kind = NodeKind::has_skill;
    const Token& arg = peek();
    if (arg.kind == TokenKind::string) {
      std::optional<std::size_t> id;
      if (options_.skills != nullptr) {
        for (std::size_t i = 0; i < options_.skills->size(); ++i) {
          if ((*options_.skills)[i] == arg.text) id = i;
        }
      }
      if (!id) {
        return error_at(arg.column, "unknown skill \"" + arg.text +
                                        "\" (not declared in skills)");
      }
      node.rhs.kind = OperandKind::literal;
      node.rhs.literal = static_cast<std::int64_t>(*id);
      take();
    } else if (arg.kind == TokenKind::word && arg.text.rfind("item.", 0) == 0) {
      Result<Operand> operand = parse_operand();
      if (!operand) return operand.error();
      node.rhs = std::move(operand.value());
    } else {
      return error_at(arg.column, "expected a skill name (\"...\") or item.<key> in has_skill, "
                                  "found " + describe(arg));
    }
    if (peek().kind == TokenKind::comma) {
      take();
      const Token& min = peek();
      if (min.kind != TokenKind::integer) {
        return error_at(min.column, "expected a minimum proficiency (integer) in has_skill, "
                                    "found " + describe(min));
      }
      if (min.number < 0) {
        return error_at(min.column, "minimum proficiency " + min.text +
                                        " in has_skill is negative (expected 0 or more)");
      }
      node.min_proficiency = min.number;
      take();
    }
    if (peek().kind != TokenKind::rparen) {
      return error_at(peek().column, "expected ')' to close has_skill at column " +
                                         std::to_string(keyword.column) + ", found " +
                                         describe(peek()));
    }
    take();
    return add(std::move(node));
  }

  // operand := item.a[.b] | agent.ident | agent.presence | STRING | INT
  Result<Operand> parse_operand() {
    const Token& token = peek();
    Operand operand;
    if (token.kind == TokenKind::string) {
      operand.literal = token.text;
    } else if (token.kind == TokenKind::integer) {
      operand.literal = token.number;
    } else if (token.kind == TokenKind::word) {
      const std::string_view word = token.text;
      const std::size_t dot = word.find('.');
      const std::string_view head = word.substr(0, dot);
      const std::string_view rest = dot == std::string_view::npos ? "" : word.substr(dot + 1);
      if (head == "item" && !rest.empty()) {
        // Host-side nesting is flattened to dotted keys (attributes.hpp), at most two levels.
        const std::size_t second = rest.find('.');
        if (second != std::string_view::npos && rest.find('.', second + 1) != std::string_view::npos) {
          return error_at(token.column, "'" + token.text +
                                            "' is too deep (item attributes have at most two "
                                            "levels: item.a or item.a.b)");
        }
        operand.kind = OperandKind::item_attribute;
        operand.key = std::string(rest);
      } else if (head == "agent" && !rest.empty()) {
        if (rest.find('.') != std::string_view::npos) {
          return error_at(token.column, "'" + token.text +
                                            "' is too deep (agent attributes have one level: "
                                            "agent.<key>)");
        }
        if (auto e = note_agent(token)) return *e;
        if (rest == "presence") {
          operand.kind = OperandKind::agent_presence;
        } else {
          operand.kind = OperandKind::agent_attribute;
          operand.key = std::string(rest);
        }
      } else {
        return error_at(token.column, "unknown name '" + token.text +
                                          "' (expected item.<key>, agent.<key>, a string, a "
                                          "number, 'not', '(' or a predicate)");
      }
    } else {
      return error_at(token.column, "expected a condition, found " + describe(token));
    }
    take();
    return operand;
  }

  // A presence literal is written as a name and stored as its PresenceId, so that evaluation
  // compares integers and never looks names up.
  Result<AttrValue> presence_literal(const Token& token) {
    if (token.kind == TokenKind::integer) {
      return error_at(token.column, "agent.presence is compared with a number " + token.text +
                                        " (expected a presence name in quotes)");
    }
    if (options_.presences != nullptr) {
      for (std::size_t i = 0; i < options_.presences->size(); ++i) {
        if ((*options_.presences)[i] == token.text) return AttrValue{static_cast<std::int64_t>(i)};
      }
    }
    return error_at(token.column, "unknown presence \"" + token.text +
                                      "\" (not declared in presences)");
  }

  // operand ( cmp operand | in [literal, ...] | has value | has no value )
  Result<std::uint32_t> parse_test() {
    const Token lhs_token = peek();
    Result<Operand> lhs = parse_operand();
    if (!lhs) return lhs.error();
    const bool lhs_literal = lhs->kind == OperandKind::literal;
    const Token& next = peek();
    ConditionNode node;
    node.lhs = std::move(lhs.value());

    if (next.kind == TokenKind::compare) {
      const Token op_token = take();
      node.kind = NodeKind::compare;
      node.op = op_token.op;
      const Token rhs_token = peek();
      if (rhs_token.kind == TokenKind::end) {
        return error_at(rhs_token.column, "unexpected end of condition (expected a value after '" +
                                              op_token.text + "')");
      }
      Result<Operand> rhs = parse_operand();
      if (!rhs) return rhs.error();
      node.rhs = std::move(rhs.value());
      if (lhs_literal && node.rhs.kind == OperandKind::literal) {
        return error_at(lhs_token.column, "comparison of two literals (" + describe(lhs_token) +
                                              " and " + describe(rhs_token) +
                                              "): one side must be item.<key> or agent.<key>");
      }
      const bool lhs_presence = node.lhs.kind == OperandKind::agent_presence;
      const bool rhs_presence = node.rhs.kind == OperandKind::agent_presence;
      if (lhs_presence || rhs_presence) {
        if (node.op != CompareOp::eq && node.op != CompareOp::ne) {
          return error_at(op_token.column, "agent.presence allows only '==', '!=' and 'in', "
                                           "not '" + op_token.text + "'");
        }
        Operand& other = lhs_presence ? node.rhs : node.lhs;
        const Token& other_token = lhs_presence ? rhs_token : lhs_token;
        if (other.kind != OperandKind::literal) {
          return error_at(other_token.column, "agent.presence can only be compared with a "
                                              "presence name in quotes, found " +
                                              describe(other_token));
        }
        Result<AttrValue> id = presence_literal(other_token);
        if (!id) return id.error();
        other.literal = std::move(id.value());
      }
      return add(std::move(node));
    }

    if (next.kind == TokenKind::word && (next.text == "in" || next.text == "has")) {
      if (lhs_literal) {
        return error_at(next.column, "'" + next.text + "' needs item.<key>, agent.<key> or "
                                     "agent.presence on its left, found " + describe(lhs_token));
      }
      if (next.text == "in") return parse_in(std::move(node));
      take();
      if (at_word("value")) {
        take();
        node.kind = NodeKind::has_value;
        return add(std::move(node));
      }
      if (at_word("no")) {
        take();
        if (!at_word("value")) {
          return error_at(peek().column, "expected 'value' after 'has no', found " +
                                             describe(peek()));
        }
        take();
        node.kind = NodeKind::has_no_value;
        return add(std::move(node));
      }
      return error_at(peek().column, "expected 'value' or 'no value' after 'has', found " +
                                         describe(peek()));
    }

    if (next.kind == TokenKind::end) {
      return error_at(next.column, "unexpected end of condition (expected a comparison "
                                   "operator, 'in' or 'has' after " + describe(lhs_token) + ")");
    }
    return error_at(next.column, "expected a comparison operator, 'in' or 'has' after " +
                                     describe(lhs_token) + ", found " + describe(next));
  }

  Result<std::uint32_t> parse_in(ConditionNode node) {
    take();  // in
    node.kind = NodeKind::in_list;
    if (peek().kind != TokenKind::lbracket) {
      return error_at(peek().column, "expected '[' after 'in', found " + describe(peek()));
    }
    take();
    const bool presence = node.lhs.kind == OperandKind::agent_presence;
    while (true) {
      const Token& item = peek();
      if (item.kind != TokenKind::string && item.kind != TokenKind::integer) {
        return error_at(item.column, "expected a string or a number in the list, found " +
                                         describe(item));
      }
      if (presence) {
        Result<AttrValue> id = presence_literal(item);
        if (!id) return id.error();
        node.list.push_back(std::move(id.value()));
      } else if (item.kind == TokenKind::string) {
        node.list.emplace_back(item.text);
      } else {
        node.list.emplace_back(item.number);
      }
      take();
      if (peek().kind == TokenKind::comma) {
        take();
        continue;
      }
      if (peek().kind == TokenKind::rbracket) {
        take();
        return add(std::move(node));
      }
      return error_at(peek().column, "expected ',' or ']' in the list, found " + describe(peek()));
    }
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  const ConditionParseOptions& options_;
  Condition condition_;
};

}  // namespace

Result<Condition> parse_condition(std::string_view text, const ConditionParseOptions& options) {
  Result<std::vector<Token>> tokens = tokenize(text);
  if (!tokens) return tokens.error();
  Condition condition;
  if (tokens->size() == 1) {
    // Empty or whitespace only: the condition that matches everything.
    condition.nodes.push_back(ConditionNode{});
  } else {
    Result<Condition> parsed = Parser(std::move(tokens.value()), options).parse();
    if (!parsed) return parsed.error();
    condition = std::move(parsed.value());
  }
  condition.source = std::string(text);
  return condition;
}

}  // namespace switchboard
