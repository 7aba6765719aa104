// load_config_file (config_loader.hpp): the one function of the configuration that touches the
// file system, kept apart so that parse_config stays pure and testable from strings.

#include <string>

#include "switchboard/config_loader.hpp"
#include "toml_reader.hpp"

namespace switchboard {

Result<Config> load_config_file(const std::string& path) {
  Result<std::string> text = config::read_text_file(path, "configuration file", true);
  if (!text) return text.error();
  return parse_config(*text, path);
}

}  // namespace switchboard
