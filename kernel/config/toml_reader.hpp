// The TOML-reading pieces shared by the routing configuration's loader (config_loader.cpp) and
// the load tester's scenario loader (tools/loadtest/scenario.cpp): key paths, type names, errors
// as <file>:<line>:<column>: <key path>: <what>, the typed getters and file reading.
//
// Not an installed header: it includes toml++, a private dependency of switchboard::config.

#pragma once

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <toml++/toml.h>

#include "switchboard/config_loader.hpp"

namespace switchboard::config {

template <typename Names>
std::string join(const Names& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

inline bool is_bare_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

// Key paths as an operator would write them: queues[2].method, channels."web chat".kind.
inline std::string child(const std::string& path, std::string_view key) {
  std::string segment = is_bare_key(key) ? std::string(key) : "\"" + std::string(key) + "\"";
  return path.empty() ? segment : path + "." + segment;
}
inline std::string element(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

inline std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

inline std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// The base of both loaders: stops at the first error, kept in error_.
class TomlReader {
 public:
  explicit TomlReader(std::string_view source_name) : source_name_(source_name) {}

  // Formats an error; also used for toml++'s syntax errors.
  Error make_error(ErrorCode code, const toml::source_position& at, const std::string& path,
                   std::string_view what) const {
    std::string message = std::string(source_name_) + ":" + std::to_string(at.line) + ":" +
                          std::to_string(at.column) + ": ";
    if (!path.empty()) message += path + ": ";
    message += what;
    return Error{code, std::move(message)};
  }

 protected:
  bool fail(ErrorCode code, const toml::source_position& at, const std::string& path,
            std::string_view what) {
    error_ = make_error(code, at, path, what);
    return false;
  }
  bool fail(ErrorCode code, const toml::node& node, const std::string& path,
            std::string_view what) {
    return fail(code, node.source().begin, path, what);
  }
  bool type_error(const toml::node& node, const std::string& path, std::string_view expected) {
    return fail(ErrorCode::config_type, node, path,
                "expected " + std::string(expected) + ", found " + std::string(type_name(node)));
  }
  bool missing(const toml::node& table, const std::string& path, std::string_view key,
               std::string_view why = {}) {
    std::string what = "missing required key";
    if (!why.empty()) what += " (" + std::string(why) + ")";
    return fail(ErrorCode::config_invalid_value, table, child(path, key), what);
  }

  bool check_keys(const toml::table& table, const std::string& path,
                  std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, node] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        return fail(ErrorCode::config_unknown_key, key.source().begin, child(path, key.str()),
                    "unknown key (expected one of: " + join(allowed) + ")");
      }
    }
    return true;
  }

  const toml::table* as_table(const toml::node& node, const std::string& path) {
    const toml::table* table = node.as_table();
    if (table == nullptr) type_error(node, path, "a table");
    return table;
  }
  // The table at `node`, holding no key but those `allowed`; nullptr after an error.
  const toml::table* as_table(const toml::node& node, const std::string& path,
                              std::initializer_list<std::string_view> allowed) {
    const toml::table* table = as_table(node, path);
    if (table == nullptr || !check_keys(*table, path, allowed)) return nullptr;
    return table;
  }
  const toml::array* as_array(const toml::node& node, const std::string& path) {
    const toml::array* array = node.as_array();
    if (array == nullptr) type_error(node, path, "an array");
    return array;
  }
  bool read_string(const toml::node& node, const std::string& path, std::string& out,
                   bool allow_empty = false) {
    const auto* value = node.as_string();
    if (value == nullptr) return type_error(node, path, "a string");
    if (!allow_empty && value->get().empty()) {
      return fail(ErrorCode::config_invalid_value, node, path, "must not be empty");
    }
    out = value->get();
    return true;
  }

  std::string_view source_name_;
  std::optional<Error> error_;
};

// Parses `text` and hands the document to `loader.run`; syntax errors (by exception, or by
// parse_result when toml++ is built without them) come back as values, never as exceptions.
template <typename Loader>
auto parse_document(Loader& loader, std::string_view text, std::string_view source_name)
    -> decltype(loader.run(std::declval<const toml::table&>())) {
  try {
#if TOML_EXCEPTIONS
    const toml::table root = toml::parse(text, source_name);
#else
    toml::parse_result parsed = toml::parse(text, source_name);
    if (!parsed) {
      const toml::parse_error& e = parsed.error();
      return loader.make_error(ErrorCode::config_syntax, e.source().begin, "",
                               "syntax error: " + std::string(e.description()));
    }
    const toml::table root = std::move(parsed).table();
#endif
    return loader.run(root);
#if TOML_EXCEPTIONS
  } catch (const toml::parse_error& e) {
    return loader.make_error(ErrorCode::config_syntax, e.source().begin, "",
                             "syntax error: " + std::string(e.description()));
#endif
  } catch (const std::exception& e) {
    return Error{ErrorCode::config_invalid_value,
                 std::string(source_name) + ": internal error while loading: " + e.what()};
  }
}

// The whole of the file at `path`; errors name it as a `what` file ("configuration file").
// `with_errno` adds the system's reason to "cannot open".
inline Result<std::string> read_text_file(const std::string& path, std::string_view what,
                                          bool with_errno) {
  const std::string noun(what);
  try {
    // A directory opens and reads as empty on Linux; that mistake would otherwise pass silently.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return Error{ErrorCode::config_io, path + ": cannot read " + noun + " (is a directory)"};
    }
    std::ifstream file(path, std::ios::in | std::ios::binary);
    if (!file) {
      const int error = errno;
      return Error{ErrorCode::config_io,
                   path + ": cannot open " + noun +
                       (with_errno && error != 0 ? std::string(" (") + std::strerror(error) + ")"
                                                 : "")};
    }
    std::ostringstream contents;
    contents << file.rdbuf();
    if (file.bad()) return Error{ErrorCode::config_io, path + ": error while reading " + noun};
    return std::move(contents).str();
  } catch (const std::exception& e) {
    return Error{ErrorCode::config_io, path + ": cannot read " + noun + " (" + e.what() + ")"};
  }
}

}  // namespace switchboard::config
