#!/usr/bin/env bash
# The ramp check (README, "Canary ramp"): how fast the in-proxy canary
# analysis tells a bad build from a good one, on real traffic.
#
# For each scenario, Switchyard runs in front of blue (a healthy
# switchyard-echo) and green (a switchyard-echo that answers a set share of
# requests with 500 and/or adds a set delay), switchyard-load sends traffic,
# and `switchyardctl ramp green --wait` runs with the [rollout] defaults
# except the bake (--bake). The table gives the outcome (promoted or
# aborted), how long the ramp took to reach it, the rule that aborted it,
# and the 5xx the load saw (the users the failing build reached).
#
#   scripts/ramp-check.sh [--bake S] [--rate N] [--build-dir DIR] [--no-build] [--keep]
#
# Everything runs on 127.0.0.1 (ephemeral ports) with its configs in a temp
# dir; every process started is stopped by its PID at the end.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

bake=5
build_dir="build-release"
no_build=0
keep=0
keepalive=8

usage() {
  cat <<'EOF'
usage: scripts/ramp-check.sh [options]
  --bake S          bake time of each step, seconds (default 5)
  --keepalive N     keep-alive connections of the load (default 8)
  --build-dir DIR   where the binaries are (default build-release); configured like
                    scripts/quickstart.sh (Release) if it has no CMakeCache.txt
  --no-build        use the binaries in --build-dir as they are
  --keep            keep the temp dir
exit status: 0 every scenario ended as expected (healthy builds promoted,
broken ones aborted); 1 otherwise; 2 bad arguments or the set-up failed
EOF
}

log() { printf 'ramp-check: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 2
}
# shellcheck source-path=SCRIPTDIR source=lib/processes.sh
. "$repo/scripts/lib/processes.sh"

need_value() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bake) need_value "$@"; bake=$2; shift 2 ;;
    --keepalive) need_value "$@"; keepalive=$2; shift 2 ;;
    --build-dir) need_value "$@"; build_dir=$2; shift 2 ;;
    --no-build) no_build=1; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[[ $bake =~ ^[0-9]+$ ]] || die "--bake expects whole seconds"
[[ $keepalive =~ ^[0-9]+$ ]] && [ "$keepalive" -ge 1 ] || die "--keepalive expects a number >= 1"

case "$build_dir" in /*) ;; *) build_dir="$repo/$build_dir" ;; esac
switchyard_bin="$build_dir/switchyard"
echo_bin="$build_dir/switchyard-echo"
ctl_bin="$build_dir/switchyardctl"
load_bin="$build_dir/switchyard-load"
command -v python3 >/dev/null || die "python3 not found (scripts/install-deps.sh installs it)"
command -v curl >/dev/null || die "curl not found (scripts/install-deps.sh installs it)"

if [ "$no_build" -eq 0 ]; then
  mkdir -p "$build_dir"
  build_log="$build_dir/ramp-build.log"
  log "building in $build_dir (log: $build_log)"
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_TESTS=OFF \
      -DSWITCHYARD_BENCH=OFF >"$build_log" 2>&1 || { tail -n 20 "$build_log" >&2; die "cmake configure failed"; }
  fi
  cmake --build "$build_dir" -j"$(nproc)" --target switchyard switchyard-echo switchyardctl \
    switchyard-load >>"$build_log" 2>&1 || { tail -n 30 "$build_log" >&2; die "the build failed"; }
fi
for bin in "$switchyard_bin" "$echo_bin" "$ctl_bin" "$load_bin"; do
  [ -x "$bin" ] || die "$bin not found (build it, or drop --no-build)"
done

tmp=$(mktemp -d /tmp/switchyard-ramp.XXXXXX)
keep_tmp=$keep
trap_cleanup

# run_scenario NAME EXPECT GREEN_ARGS...: one ramp of green against blue.
# Appends a row to $tmp/table; returns 1 if the outcome is not EXPECT.
run_scenario() {
  local name=$1 expect=$2 dir port blue_pid green_pid sy_pid load_pid start end rc outcome rule
  shift 2
  dir="$tmp/$name"
  mkdir -p "$dir"
  start_echo "$dir/blue.log" "$echo_bin" blue --threads 1
  blue_pid=$echo_pid
  local blue_port=$echo_port
  start_echo "$dir/green.log" "$echo_bin" green --threads 1 "$@"
  green_pid=$echo_pid
  local green_port=$echo_port
  port=$(free_port)
  cat >"$dir/switchyard.toml" <<EOF
[server]
workers = 1
state_file = "$dir/state.json"
[log]
level = "warn"
access_log = "off"
error_log = "$dir/error.log"
audit_log = "$dir/audit.log"
event_log = "$dir/events.log"
[[listeners]]
address = "127.0.0.1:$port"
[control]
socket = "$dir/control.sock"
[routing]
active = "blue"
[pools.blue]
servers = [{ address = "127.0.0.1:$blue_port" }]
[pools.green]
servers = [{ address = "127.0.0.1:$green_port" }]
[rollout]
bake = "${bake}s"
EOF
  start_bg "$dir/switchyard.out" "$switchyard_bin" -c "$dir/switchyard.toml"
  sy_pid=$started_pid
  wait_answer "$sy_pid" "http://127.0.0.1:$port/" blue 10 || die "switchyard did not start ($dir)"
  # Bounded: stops by itself after 20 steps' worth of bake, or when stopped.
  start_bg "$dir/load.log" sh -c 'exec "$0" "$@" >"'"$dir/load.json"'"' "$load_bin" \
    --target "127.0.0.1:$port" --duration $((bake * 20 + 60)) --keepalive "$keepalive" --json
  load_pid=$started_pid
  start=$(now_ms)
  rc=0
  "$ctl_bin" -s "$dir/control.sock" ramp green --wait --timeout $((bake * 20 + 30))s \
    >"$dir/ramp.out" 2>&1 || rc=$?
  end=$(now_ms)
  stop_pid "$load_pid"
  case $rc in
    0) outcome=promoted ;;
    4) outcome=aborted ;;
    3) outcome=timeout ;;
    *) outcome="failed($rc)" ;;
  esac
  rule=$(grep -o '"rule":"[a-z_]*"' "$dir/events.log" | tail -n 1 | cut -d'"' -f4 || true)
  [ "$outcome" = promoted ] && rule="-"
  local sent errors
  sent=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' \
    "$dir/load.json" 2>/dev/null || echo "?")
  errors=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(sum(n for s, n in d.get("non_2xx_statuses", {}).items() if s.startswith("5")))' \
    "$dir/load.json" 2>/dev/null || echo "?")
  printf '%-24s %-9s %-9s %9.1f  %-16s %9s %8s\n' "$name" "$expect" "$outcome" \
    "$(awk -v ms=$((end - start)) 'BEGIN { printf "%.1f", ms / 1000 }')" "${rule:--}" "$sent" "$errors" >>"$tmp/table"
  stop_pid "$sy_pid" 10
  stop_pid "$green_pid"
  stop_pid "$blue_pid"
  [ "$outcome" = "$expect" ]
}

: >"$tmp/table"
failed=0
run_scenario healthy promoted || failed=1
run_scenario errors-0.5% promoted --fail-percent 0.5 || failed=1
run_scenario errors-5% aborted --fail-percent 5 || failed=1
run_scenario errors-50% aborted --fail-percent 50 || failed=1
run_scenario slower-+20ms aborted --delay-ms 20 || failed=1

printf '%-24s %-9s %-9s %9s  %-16s %9s %8s\n' scenario expected outcome "seconds" rule requests 5xx
cat "$tmp/table"
log "bake ${bake}s per step, steps 1,5,25,50,100 %, judged every 1 s ([rollout] defaults)"
exit "$failed"
