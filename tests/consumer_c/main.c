/* A C11 host built against the installed package: the client's header compiles as C, the library
 * links without the C++ runtime, and attaching to a name with no segment says so. */
#include <stdio.h>
#include <string.h>

#include <switchboard/shm/client.h>

int main(void) {
  sb_client* client = NULL;
  const int rc = sb_client_attach("/switchboard-c-host-check-no-such-segment", 0, 0, &client);
  if (rc != SB_ERR_NOT_FOUND) {
    fprintf(stderr, "attach to a missing segment returned %d (%s), not SB_ERR_NOT_FOUND\n", rc,
            sb_strerror(rc));
    return 1;
  }
  if (strcmp(sb_strerror(SB_ERR_FULL), sb_strerror(SB_OK)) == 0) return 1;
  return 0;
}
