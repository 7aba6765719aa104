#pragma once

#include <string_view>

namespace switchboard {

// The Switchboard version, kept in step with project(VERSION) in the root CMakeLists.txt.
inline constexpr std::string_view version_string() noexcept { return "0.1.0"; }

}  // namespace switchboard
