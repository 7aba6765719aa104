#!/usr/bin/env bash
# Runs one host against a fresh switchboardd (the integration tests of tests/CMakeLists.txt):
#
#   run_shm_host.sh DAEMON CONFIG [DAEMON_FLAG ...] -- HOST_COMMAND [ARG ...]
#
# Starts DAEMON --config CONFIG --name /sb-it-<pid>-<random> [DAEMON_FLAG ...] in the
# background, waits for its segment, runs the host command with every argument @NAME@ replaced
# by the segment name, stops the daemon with SIGTERM and checks that it exited 0 and removed its
# segment. Exits with the host's status if that failed, else 1 if the daemon did not stop
# cleanly, else 0.
set -u

if [ $# -lt 4 ]; then
  echo "usage: $0 DAEMON CONFIG [DAEMON_FLAG ...] -- HOST_COMMAND [ARG ...]" >&2
  exit 2
fi
daemon=$1
config=$2
shift 2
daemon_flags=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  daemon_flags+=("$1")
  shift
done
if [ $# -lt 2 ]; then
  echo "$0: no host command after --" >&2
  exit 2
fi
shift

name="/sb-it-$$-${RANDOM}"
segment="/dev/shm${name}"
log=$(mktemp "${TMPDIR:-/tmp}/switchboardd-it.XXXXXX")
daemon_pid=

cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -CONT "$daemon_pid" 2>/dev/null
    kill -KILL "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
  fi
  rm -f "$segment" "$log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$daemon" --config "$config" --name "$name" "${daemon_flags[@]}" 2>"$log" &
daemon_pid=$!

# The segment appears once the daemon has loaded its configuration; hosts wait for READY.
for _ in $(seq 1 200); do
  [ -e "$segment" ] && break
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    echo "$0: switchboardd exited before creating $name:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.05
done
if [ ! -e "$segment" ]; then
  echo "$0: no segment $segment after 10 s" >&2
  cat "$log" >&2
  exit 1
fi

host=()
for arg in "$@"; do
  host+=("${arg//@NAME@/$name}")
done
"${host[@]}"
host_status=$?

kill -CONT "$daemon_pid" 2>/dev/null  # in case the host left it stopped
kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_status=$?
daemon_pid=
echo "--- switchboardd log ---"
cat "$log"

status=0
if [ "$host_status" -ne 0 ]; then
  echo "$0: the host failed ($host_status)" >&2
  status=$host_status
fi
if [ "$daemon_status" -ne 0 ]; then
  echo "$0: switchboardd exited with $daemon_status after SIGTERM" >&2
  [ "$status" -eq 0 ] && status=1
fi
if [ -e "$segment" ]; then
  echo "$0: switchboardd left its segment $segment behind" >&2
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
