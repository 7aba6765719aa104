#pragma once
// A small well-formedness checker for the XML the load tester writes (SVG charts, and the HTML
// report, which is written to be well-formed XML apart from its <!DOCTYPE html>). It checks what
// a browser's XML parser would reject: tags that do not nest or close, attributes without quotes
// or repeated, '<' in attribute values, '&' that does not start a known entity, more than one
// root. It counts elements by name so that tests can check what a chart drew.
//
// Not a full XML parser: no DTDs, no namespaces beyond the names as written, no CDATA.

#include <cctype>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::test {

struct XmlCheck {
  std::string error;                    // empty when well-formed
  std::map<std::string, int> elements;  // element name -> how many
  [[nodiscard]] bool ok() const { return error.empty(); }
  [[nodiscard]] int count(const std::string& name) const {
    const auto it = elements.find(name);
    return it == elements.end() ? 0 : it->second;
  }
};

namespace detail {

inline bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == ':' ||
         c == '.';
}

// The entity at text[i] (text[i] == '&'): its length, or 0 when it is not a known entity.
inline std::size_t entity_length(std::string_view text, std::size_t i) {
  const std::size_t end = text.find(';', i);
  if (end == std::string_view::npos || end - i > 10) return 0;
  const std::string_view name = text.substr(i + 1, end - i - 1);
  static const std::set<std::string_view> kNamed = {"amp", "lt", "gt", "quot", "apos"};
  if (kNamed.count(name) != 0) return end - i + 1;
  if (name.size() >= 2 && name[0] == '#') {
    const bool hex = name[1] == 'x';
    const std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    for (char c : digits) {
      if (hex ? std::isxdigit(static_cast<unsigned char>(c)) == 0
              : std::isdigit(static_cast<unsigned char>(c)) == 0) {
        return 0;
      }
    }
    return end - i + 1;
  }
  return 0;
}

inline std::string check_text(std::string_view text, std::size_t offset) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&' && entity_length(text, i) == 0) {
      return "'&' without a known entity at offset " + std::to_string(offset + i);
    }
  }
  return {};
}

}  // namespace detail

// Checks `doc`. `allow_doctype`: a leading <!DOCTYPE ...> is accepted (HTML5).
inline XmlCheck check_xml(std::string_view doc, bool allow_doctype = false) {
  XmlCheck r;
  std::vector<std::string> open;
  int roots = 0;
  std::size_t i = 0;
  auto fail = [&](const std::string& why) {
    r.error = why + " (offset " + std::to_string(i) + ")";
    return r;
  };
  while (i < doc.size()) {
    const std::size_t lt = doc.find('<', i);
    const std::string_view text = doc.substr(i, lt == std::string_view::npos ? doc.size() - i : lt - i);
    if (open.empty()) {
      for (char c : text) {
        if (std::isspace(static_cast<unsigned char>(c)) == 0) return fail("text outside the root");
      }
    }
    if (std::string e = detail::check_text(text, i); !e.empty()) return fail(e);
    if (lt == std::string_view::npos) break;
    i = lt;
    if (doc.compare(i, 4, "<!--") == 0) {
      const std::size_t end = doc.find("-->", i + 4);
      if (end == std::string_view::npos) return fail("unterminated comment");
      i = end + 3;
      continue;
    }
    if (doc.compare(i, 2, "<?") == 0) {
      const std::size_t end = doc.find("?>", i + 2);
      if (end == std::string_view::npos || roots > 0 || !open.empty()) {
        return fail("misplaced processing instruction");
      }
      i = end + 2;
      continue;
    }
    if (doc.compare(i, 2, "<!") == 0) {
      if (!allow_doctype || roots > 0 || !open.empty() || doc.compare(i, 9, "<!DOCTYPE") != 0) {
        return fail("unexpected declaration");
      }
      const std::size_t end = doc.find('>', i);
      if (end == std::string_view::npos) return fail("unterminated declaration");
      i = end + 1;
      continue;
    }
    const bool closing = doc.compare(i, 2, "</") == 0;
    std::size_t j = i + (closing ? 2 : 1);
    const std::size_t name_start = j;
    while (j < doc.size() && detail::is_name_char(doc[j])) ++j;
    const std::string name(doc.substr(name_start, j - name_start));
    if (name.empty()) return fail("'<' without a tag name");
    if (closing) {
      while (j < doc.size() && std::isspace(static_cast<unsigned char>(doc[j])) != 0) ++j;
      if (j >= doc.size() || doc[j] != '>') return fail("malformed end tag </" + name);
      if (open.empty() || open.back() != name) {
        return fail("</" + name + "> does not close <" + (open.empty() ? "" : open.back()) + ">");
      }
      open.pop_back();
      i = j + 1;
      continue;
    }
    std::set<std::string> attributes;
    bool self_closing = false;
    while (true) {
      const std::size_t before = j;
      while (j < doc.size() && std::isspace(static_cast<unsigned char>(doc[j])) != 0) ++j;
      if (j >= doc.size()) return fail("unterminated tag <" + name);
      if (doc[j] == '>') break;
      if (doc.compare(j, 2, "/>") == 0) {
        self_closing = true;
        ++j;
        break;
      }
      if (j == before) return fail("no space before an attribute in <" + name);
      const std::size_t a0 = j;
      while (j < doc.size() && detail::is_name_char(doc[j])) ++j;
      const std::string attribute(doc.substr(a0, j - a0));
      if (attribute.empty()) return fail("malformed attribute in <" + name);
      if (!attributes.insert(attribute).second) return fail("repeated attribute " + attribute);
      if (j >= doc.size() || doc[j] != '=') return fail("attribute " + attribute + " has no value");
      ++j;
      if (j >= doc.size() || (doc[j] != '"' && doc[j] != '\'')) {
        return fail("attribute " + attribute + " is not quoted");
      }
      const char quote = doc[j];
      const std::size_t end = doc.find(quote, j + 1);
      if (end == std::string_view::npos) return fail("unterminated attribute " + attribute);
      const std::string_view value = doc.substr(j + 1, end - j - 1);
      if (value.find('<') != std::string_view::npos) return fail("'<' in attribute " + attribute);
      if (std::string e = detail::check_text(value, j + 1); !e.empty()) return fail(e);
      j = end + 1;
    }
    if (open.empty()) {
      if (++roots > 1) return fail("a second root element <" + name + ">");
    }
    ++r.elements[name];
    if (!self_closing) open.push_back(name);
    i = j + 1;
  }
  if (!open.empty()) {
    i = doc.size();
    return fail("<" + open.back() + "> is never closed");
  }
  if (roots == 0) return fail("no root element");
  return r;
}

}  // namespace switchboard::test
