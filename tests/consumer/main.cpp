#include <switchboard/shm/client.h>
#include <switchboard/version.hpp>

#include <cstring>

// The kernel's version, and the C client of the shared-memory protocol (no daemon needed).
int main() {
  if (switchboard::version_string().empty()) return 1;
  if (std::strcmp(sb_strerror(SB_ERR_FULL), sb_strerror(SB_OK)) == 0) return 1;
  return 0;
}
