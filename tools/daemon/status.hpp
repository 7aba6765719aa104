#pragma once
// switchboardd --status: maps a running daemon's segment read-only and prints what its
// statistics block and host slots say (docs/protocol.md, "Statistics", "Host slots").

#include <chrono>
#include <cstdio>
#include <string>

namespace switchboard::daemon {

// Prints the status of the daemon whose segment is `name` to `out`, sampling the statistics
// twice `interval` apart for the rates. Returns the exit status: 0, or 1 when there is no
// readable segment of a running daemon at that name (the reason goes to stderr).
int print_status(const std::string& name, std::chrono::milliseconds interval, std::FILE* out);

}  // namespace switchboard::daemon
