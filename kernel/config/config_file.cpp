// load_config_file (config_loader.hpp): the one function of the configuration that touches the
// file system, kept apart so that parse_config stays pure and testable from strings.

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>
#include <string>

#include "switchboard/config_loader.hpp"

namespace switchboard {

Result<Config> load_config_file(const std::string& path) {
  std::string text;
  try {
    // A directory opens and reads as empty on Linux; an empty configuration is valid, so that
    // mistake would otherwise pass silently.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return Error{ErrorCode::config_io, path + ": cannot read configuration file (is a directory)"};
    }
    std::ifstream file(path, std::ios::in | std::ios::binary);
    if (!file) {
      const int error = errno;
      return Error{ErrorCode::config_io,
                   path + ": cannot open configuration file" +
                       (error != 0 ? std::string(" (") + std::strerror(error) + ")" : "")};
    }
    std::ostringstream contents;
    contents << file.rdbuf();
    if (file.bad()) {
      return Error{ErrorCode::config_io, path + ": error while reading configuration file"};
    }
    text = std::move(contents).str();
  } catch (const std::exception& e) {
    return Error{ErrorCode::config_io, path + ": cannot read configuration file (" + e.what() + ")"};
  }
  return parse_config(text, path);
}

}  // namespace switchboard
