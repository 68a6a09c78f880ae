#!/usr/bin/env bash
# The fleet's cost on the request path (README "Fleet"): the same one-worker
# Switchyard alone and as a member of a fleet (its own etcd on loopback,
# ephemeral ports), wrk against each in 4 rounds of 10 s whose order
# alternates; prints req/s per round and the fleet/single ratio of the
# means. Needs build-release/ (scripts/quickstart.sh or fleet-demo.sh
# builds it). Stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "bench-fleet: $*"; }
die() { echo "bench-fleet: $*" >&2; exit 1; }
# shellcheck source=scripts/lib/processes.sh
. scripts/lib/processes.sh
command -v wrk >/dev/null || die "wrk is not installed (scripts/install-deps.sh)"
command -v etcd >/dev/null || die "etcd is not installed (scripts/install-deps.sh)"
bin=build-release
[ -x "$bin/switchyard" ] || die "no $bin/switchyard: build it first (scripts/fleet-demo.sh builds it)"
tmp=$(mktemp -d /tmp/switchyard-bench-fleet.XXXXXX)
trap_cleanup

etcd_port=$(free_port)
peer_port=$(free_port)
while [ "$peer_port" = "$etcd_port" ]; do peer_port=$(free_port); done
start_bg "$tmp/etcd.log" etcd --name bench --data-dir "$tmp/etcd.data" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "bench=http://127.0.0.1:$peer_port" \
  --auto-compaction-mode=periodic --auto-compaction-retention=1h --log-level=error
# The fleet member reads the store at start: etcd must answer by then.
wait_port "$etcd_port" "$started_pid" "$tmp/etcd.log"
start_echo "$tmp/blue.log" "$bin/switchyard-echo" blue --listen 127.0.0.1:0
declare -A port
for mode in single fleet; do
  port[$mode]=$(free_port)
  mkdir -p "$tmp/$mode"
  {
    printf '[server]\nworkers = 1\nstate_file = "%s/state.json"\n' "$tmp/$mode"
    printf '[log]\nlevel = "warn"\n[[listeners]]\naddress = "127.0.0.1:%s"\n' "${port[$mode]}"
    printf '[control]\nsocket = "%s/control.sock"\n[routing]\nactive = "blue"\n' "$tmp/$mode"
    printf '[pools.blue]\nservers = [{ address = "127.0.0.1:%s" }]\n' "$echo_port"
    if [ "$mode" = fleet ]; then
      printf '[cluster]\netcd = ["http://127.0.0.1:%s"]\nprefix = "/bench"\nmember = "m1"\n' \
        "$etcd_port"
    fi
  } >"$tmp/$mode/switchyard.toml"
done
for mode in single fleet; do
  start_bg "$tmp/$mode/log" "$bin/switchyard" -c "$tmp/$mode/switchyard.toml"
  wait_answer "$started_pid" "http://127.0.0.1:${port[$mode]}/" blue 20 ||
    die "the $mode Switchyard does not answer (see $tmp/$mode/log)"
done
"$bin/switchyardctl" -s "$tmp/fleet/control.sock" cluster init >/dev/null
declare -A sum=([single]=0 [fleet]=0)
for round in 1 2 3 4; do
  order="single fleet"
  [ $((round % 2)) = 0 ] && order="fleet single"
  for mode in $order; do
    rps=$(wrk -t1 -c32 -d10s "http://127.0.0.1:${port[$mode]}/" | awk '/Requests\/sec/ {print $2}')
    log "round $round: $mode $rps req/s"
    sum[$mode]=$(awk -v a="${sum[$mode]}" -v b="$rps" 'BEGIN {print a + b}')
  done
done
log "fleet/single: $(awk -v f="${sum[fleet]}" -v s="${sum[single]}" 'BEGIN {printf "%.3f", f / s}')"
