#pragma once
// Loading the routing configuration (config.hpp) from TOML. The format, every key, its default
// and range: docs/configuration.md.
//
// Part of the switchboard_config target (links toml++), not of the pure kernel: the kernel only
// ever sees the validated Config. Thread safety: every function here is reentrant and may be
// called from any thread; they share no state.

#include <string>
#include <string_view>

#include "switchboard/config.hpp"
#include "switchboard/result.hpp"

namespace switchboard {

// Parses and validates a whole configuration. `source_name` is only used in error messages
// (usually the file's path). No I/O. Errors (never exceptions) carry one of the config_* codes
// and a message of the form
//   <source_name>:<line>:<column>: <key path>: <what is wrong>
// e.g. `contact-center.toml:12:9: queues[2].method: unknown assignment method "roundrobin"
// (expected one of: highest_capacity, round_robin, least_active, custom)`. Array indices in key
// paths are 0-based. The first error found is reported.
[[nodiscard]] Result<Config> parse_config(std::string_view toml_text, std::string_view source_name);

// Reads `path` and parses it as parse_config does; an unreadable file is ErrorCode::config_io.
[[nodiscard]] Result<Config> load_config_file(const std::string& path);

}  // namespace switchboard
