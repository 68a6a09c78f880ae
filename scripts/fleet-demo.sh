#!/usr/bin/env bash
# A fleet of Switchyards moved by one command (README "Fleet"): starts its
# own etcd (data dir in a temp dir, 127.0.0.1, ephemeral ports, periodic
# auto-compaction), the blue and green echo pools and N Switchyards (3 by
# default) that share their routing state through it; runs `cluster init`,
# a canary walk and a promotion through different members, times how long a
# cutover takes to reach the last member, runs a short ramp (on the fleet's
# leader, whatever member it is sent to), shows `status --fleet`, and stops
# everything it started, by PID.
#   --members N   how many Switchyards (1..20, default 3)
#   --keep        leave the fleet running until Ctrl-C
#   --no-build    use build-release/ as it is
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
members=3 keep=0 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --members) members=${2:?--members needs a number}; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-build) build=0; shift ;;
    *) echo "fleet-demo: unknown argument '$1' (--members N, --keep, --no-build)" >&2; exit 2 ;;
  esac
done
if ! [[ "$members" =~ ^[0-9]+$ ]] || [ "$members" -lt 1 ] || [ "$members" -gt 20 ]; then
  echo "fleet-demo: --members takes 1..20" >&2
  exit 2
fi

log() { echo "fleet-demo: $*"; }
die() { echo "fleet-demo: $*" >&2; exit 1; }
# shellcheck source=scripts/lib/processes.sh
. scripts/lib/processes.sh

if [ "$build" = 1 ]; then
  ./scripts/install-deps.sh
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_TESTS=OFF \
    -DSWITCHYARD_BENCH=OFF >/dev/null
  cmake --build build-release -j"$(nproc)" --target switchyard switchyard-echo switchyardctl
fi
etcd_bin=$(command -v etcd || true)
[ -n "$etcd_bin" ] || die "etcd is not installed (scripts/install-deps.sh installs etcd-server)"
bin="$root/build-release"

tmp=$(mktemp -d /tmp/switchyard-fleet.XXXXXX)
trap_cleanup

# etcd, compacting itself: without it the members' heartbeats fill its quota.
etcd_port=$(free_port)
peer_port=$(free_port)
while [ "$peer_port" = "$etcd_port" ]; do peer_port=$(free_port); done
etcd_url="http://127.0.0.1:$etcd_port"
start_bg "$tmp/etcd.log" "$etcd_bin" --name demo --data-dir "$tmp/etcd.data" \
  --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "demo=http://127.0.0.1:$peer_port" \
  --auto-compaction-mode=periodic --auto-compaction-retention=1h --log-level=error
etcd_pid=$started_pid
wait_port "$etcd_port" "$etcd_pid" "$tmp/etcd.log"
log "etcd on $etcd_url (data in $tmp/etcd.data)"

start_echo "$tmp/blue.log" "$bin/switchyard-echo" blue --listen 127.0.0.1:0
blue_port=$echo_port
start_echo "$tmp/green.log" "$bin/switchyard-echo" green --listen 127.0.0.1:0
green_port=$echo_port

ports=()
for ((i = 1; i <= members; i++)); do
  dir="$tmp/m$i"
  mkdir -p "$dir"
  port=$(free_port)
  ports+=("$port")
  cat >"$dir/switchyard.toml" <<TOML
[server]
workers = 1
drain_timeout = "2s"
state_file = "$dir/state.json"

[log]
level = "info"

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

# The demo sends no traffic: its ramp advances on bake time alone.
[rollout]
interval = "250ms"
max_hold = "1s"
on_no_data = "advance"

[cluster]
etcd = ["$etcd_url"]
prefix = "/switchyard/demo"
member = "m$i"
lease_ttl = "5s"
TOML
  "$bin/switchyard" --check -c "$dir/switchyard.toml" >/dev/null
  start_bg "$dir/switchyard.log" "$bin/switchyard" -c "$dir/switchyard.toml"
  wait_port "$port" "$started_pid" "$dir/switchyard.log"
done
log "$members Switchyards on ports ${ports[*]}"
ctl() { # member args...
  local m=$1
  shift
  "$bin/switchyardctl" -s "$tmp/m$m/control.sock" "$@"
}
last=$members

log "an empty store is filled only by an explicit cluster init:"
ctl 1 cluster init
log "a pipeline walks a canary through different members; each reply waits for the whole fleet:"
ctl 1 canary green 10 --wait-fleet
ctl "$last" canary green 50 --wait-fleet

# Cutovers: the command through one member, then until every member
# serves the new pool to a new connection (one curl for all members per
# round). Back and forth, five times; the median and the slowest.
serving_all() { # pool
  local urls=() port
  for port in "${ports[@]}"; do urls+=("http://127.0.0.1:$port/"); done
  [ "$(curl -s -m 1 -D - -o /dev/null "${urls[@]}" | grep -ci "^x-echo-name: $1")" -eq "${#ports[@]}" ]
}
middle=$(((members + 1) / 2))
t0=$(now_us)
ctl "$middle" promote --wait-fleet
t1=$(now_us)
replies=() served=()
for round in 1 2 3 4 5; do
  if [ "$round" -gt 1 ]; then
    pool=$([ $((round % 2)) = 0 ] && echo blue || echo green)
    t0=$(now_us)
    ctl "$(((round % members) + 1))" switch "$pool" --wait-fleet >/dev/null
    t1=$(now_us)
  else
    pool=green
  fi
  deadline=$(($(now_ms) + 5000))
  until serving_all "$pool"; do
    [ "$(now_ms)" -lt "$deadline" ] || die "not every member serves $pool 5 s after the command"
  done
  t2=$(now_us)
  replies+=($(((t1 - t0) / 1000)))
  served+=($(((t2 - t0) / 1000)))
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
maximum() { printf '%s\n' "$@" | sort -n | tail -n 1; }
log "5 cutovers across $members members: reply with every member applied after $(median "${replies[@]}") ms (median; slowest $(maximum "${replies[@]}") ms); every member served the new pool $(median "${served[@]}") ms after the command (median; slowest $(maximum "${served[@]}") ms)"
# Members campaign for the ramp's leadership at each report (every
# lease_ttl/2): one holds it a few seconds after start.
deadline=$(($(now_ms) + 10000))
leader=""
while [ -z "$leader" ] && [ "$(now_ms)" -lt "$deadline" ]; do
  leader=$(ctl 1 --json status | sed -n 's/.*"leader":"\([^"]*\)".*/\1/p')
  [ -n "$leader" ] || sleep 0.2
done
log "a short ramp of blue, sent to m1; the fleet's leader (${leader:-none yet}) runs it:"
ctl 1 ramp blue steps=25,100 bake=1s --wait --timeout 60s
log "the fleet:"
ctl 1 status --fleet | sed -n '/^cluster:/,$p'

if [ "$keep" = 1 ]; then
  log "running; try: $bin/switchyardctl -s $tmp/m1/control.sock status --fleet  (Ctrl-C stops all)"
  wait "$etcd_pid" || true
fi
log "stopping"
