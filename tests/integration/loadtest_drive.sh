#!/usr/bin/env bash
# Drive mode against a real switchboardd (tests/CMakeLists.txt, test loadtest_drive):
#
#   loadtest_drive.sh LOADTEST DAEMON PYTHON
#
# Writes the bundled test scenario's routing configuration with `drive --write-config`, starts
# switchboardd with it through run_shm_host.sh, and runs four drives one after the other against
# that one daemon (each cleans up after itself, so the next starts from an empty daemon): the
# scenario's own rates, a constant --rate, a ramp whose bound no step can meet, a ramp whose
# bound every step meets, and a constant --rate during which the daemon is stopped (SIGSTOP) for
# 0.3 s, which drive must wait out (docs/protocol.md, "Noticing"). loadtest_drive_check.py then
# checks each run's JSON.
set -eu

if [ $# -ne 3 ]; then
  echo "usage: $0 LOADTEST DAEMON PYTHON" >&2
  exit 2
fi
loadtest=$1
daemon=$2
python=$3
here=$(cd "$(dirname "$0")" && pwd)
scenario="$here/loadtest_drive.scenario.toml"
work=$(mktemp -d "${TMPDIR:-/tmp}/loadtest-drive.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$loadtest" drive "$scenario" --write-config "$work/routing.toml"

# The drives: compressed 20x (a 6 s chat takes 0.3 s), a short drain. Each writes its JSON.
cat >"$work/drives.sh" <<'EOF'
set -eu
loadtest=$1 scenario=$2 work=$3 python=$4 name=$5
common=(--name "$name" --compress 20 --drain 5 --progress off)
"$loadtest" drive "$scenario" "${common[@]}" --duration 3 --json "$work/scenario.json" --csv "$work/scenario.csv"
"$loadtest" drive "$scenario" "${common[@]}" --rate 60 --spacing constant --duration 2 --json "$work/rate.json"
"$loadtest" drive "$scenario" "${common[@]}" --ramp 100:100:0.5 --duration 3 --max-p99-ms 0.001 --json "$work/ramp-behind.json"
"$loadtest" drive "$scenario" "${common[@]}" --ramp 20:20:0.5 --duration 1.5 --max-p99-ms 2000 --json "$work/ramp-ok.json"
# The daemon's pid is in its segment's header (daemon_pid, offset 60, docs/protocol.md).
daemon_pid=$("$python" -c 'import struct, sys
with open("/dev/shm" + sys.argv[1], "rb") as f:
    f.seek(60)
    print(struct.unpack("<I", f.read(4))[0])' "$name")
"$loadtest" drive "$scenario" "${common[@]}" --rate 60 --spacing constant --duration 2 --json "$work/stall.json" &
drive_pid=$!
sleep 0.8
kill -STOP "$daemon_pid"
sleep 0.3
kill -CONT "$daemon_pid"
wait "$drive_pid"
EOF
bash "$here/run_shm_host.sh" "$daemon" "$work/routing.toml" -- \
  bash "$work/drives.sh" "$loadtest" "$scenario" "$work" "$python" @NAME@

status=0
for kind in scenario rate ramp-behind ramp-ok stall; do
  "$python" "$here/loadtest_drive_check.py" "$kind" "$work/$kind.json" || status=1
done
# The CSV carries drive mode's own rows next to the shared figures.
grep -q '^drive,,decisions,' "$work/scenario.csv" || { echo "$0: no drive rows in the CSV" >&2; status=1; }
exit $status
