#!/usr/bin/env bash
# The zero-downtime check (README, "Zero-downtime check"):
# switchyard-load runs mixed traffic against Switchyard in front of two
# switchyard-echo pools (blue, green; two servers each), and h2load HTTP/2
# traffic on an h2c listener of the same Switchyard, while this script
# performs K overlapping cutovers (switch back and forth every --overlap-pause,
# each within the drain time of the ones before), then K cutovers that wait
# for the drain, K reloads (switchyardctl reload and SIGHUP, alternately) and
# K hot binary upgrades, interleaved. Every failed
# request is counted by kind; the script exits non-zero on any failed request
# or any failed control command. --compare runs the same load against HAProxy
# and NGINX during K reloads each and reports what they lose.
#
#   scripts/zdd-check.sh [--k N] [--requests N] [--duration S] [--skip-upgrades]
#                        [--overlap-pause S] [--overlap-drain S]
#                        [--compare] [--build-dir DIR] [--no-build] [--keep]
#
# Everything runs on 127.0.0.1 (high ports), with its configs in a temp dir;
# every process started is stopped by its PID at the end, on errors and on
# Ctrl-C. The system's haproxy/nginx services are never touched.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

k=20
requests=100000
duration=0
skip_upgrades=0
compare=0
build_dir="build-release"
no_build=0
keep=0
pause=0.5
keepalive=50
reuse_check=""
per_request=4
slow=8
slow_ms=1500
post_percent=20
drain_timeout=10
overlap_pause=0.5
overlap_drain=5

usage() {
  cat <<'EOF'
usage: scripts/zdd-check.sh [options]
  --k N             cutovers, reloads and upgrades, K of each (default 20)
  --requests N      at least N requests in the run (default 100000)
  --duration S      the load runs at least S seconds (default 0: as long as
                    the events and --requests take)
  --skip-upgrades   no binary upgrades
  --compare         also measure HAProxy and NGINX under the same load, K reloads each
  --build-dir DIR   where the binaries are (default build-release, relative to the
                    repository); configured like scripts/quickstart.sh (Release) if
                    it has no CMakeCache.txt, then the four targets are built
  --no-build        use the binaries in --build-dir as they are
  --pause S         pause between events (default 0.5)
  --overlap-pause S pause between the overlapping cutovers (default 0.5)
  --overlap-drain S their drain time (switch POOL drain=S; default 5): each drain
                    deadline fires while later cutovers go on, and may cut only
                    requests that started before its own switch
  --keepalive N     keep-alive connections of the load (default 50)
  --no-reuse-check  the load reuses a keep-alive connection without first checking
                    whether the server closed it (a naive client: a server that
                    closes idle connections then causes failures)
  --keep            keep the temp dir (kept anyway when the check fails)
exit status: 0 no failed request and every control command ok; 1 otherwise;
2 bad arguments or the set-up failed
EOF
}

log() { printf 'zdd-check: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 2
}
# shellcheck source-path=SCRIPTDIR source=lib/processes.sh
. "$repo/scripts/lib/processes.sh"
# shellcheck source-path=SCRIPTDIR source=lib/peers.sh
. "$repo/scripts/lib/peers.sh"

need_value() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --k) need_value "$@"; k=$2; shift 2 ;;
    --k=*) k=${1#*=}; shift ;;
    --requests) need_value "$@"; requests=$2; shift 2 ;;
    --requests=*) requests=${1#*=}; shift ;;
    --duration) need_value "$@"; duration=$2; shift 2 ;;
    --duration=*) duration=${1#*=}; shift ;;
    --skip-upgrades) skip_upgrades=1; shift ;;
    --compare) compare=1; shift ;;
    --build-dir) need_value "$@"; build_dir=$2; shift 2 ;;
    --build-dir=*) build_dir=${1#*=}; shift ;;
    --no-build) no_build=1; shift ;;
    --pause) need_value "$@"; pause=$2; shift 2 ;;
    --pause=*) pause=${1#*=}; shift ;;
    --overlap-pause) need_value "$@"; overlap_pause=$2; shift 2 ;;
    --overlap-pause=*) overlap_pause=${1#*=}; shift ;;
    --overlap-drain) need_value "$@"; overlap_drain=$2; shift 2 ;;
    --overlap-drain=*) overlap_drain=${1#*=}; shift ;;
    --keepalive) need_value "$@"; keepalive=$2; shift 2 ;;
    --keepalive=*) keepalive=${1#*=}; shift ;;
    --no-reuse-check) reuse_check="--no-reuse-check"; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done

if ! [[ $k =~ ^[0-9]+$ ]] || [ "$k" -gt 10000 ]; then die "--k expects 0..10000"; fi
[[ $requests =~ ^[0-9]+$ ]] || die "--requests expects a number"
[[ $duration =~ ^[0-9]+$ ]] || die "--duration expects whole seconds"
[[ $pause =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--pause expects seconds"
[[ $overlap_pause =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--overlap-pause expects seconds"
[[ $overlap_drain =~ ^[0-9]+$ ]] || die "--overlap-drain expects whole seconds"
if ! [[ $keepalive =~ ^[0-9]+$ ]] || [ "$keepalive" -lt 1 ]; then die "--keepalive expects a number >= 1"; fi

case "$build_dir" in /*) ;; *) build_dir="$repo/$build_dir" ;; esac
switchyard_bin="$build_dir/switchyard"
echo_bin="$build_dir/switchyard-echo"
ctl_bin="$build_dir/switchyardctl"
load_bin="$build_dir/switchyard-load"

command -v python3 >/dev/null || die "python3 not found (scripts/install-deps.sh installs it)"
command -v curl >/dev/null || die "curl not found (scripts/install-deps.sh installs it)"
command -v h2load >/dev/null || die "h2load not found (scripts/install-deps.sh installs nghttp2-client)"
if [ "$compare" -eq 1 ]; then
  command -v haproxy >/dev/null || die "haproxy not found (scripts/install-deps.sh installs it)"
  command -v nginx >/dev/null || die "nginx not found (scripts/install-deps.sh installs it)"
fi

# ------------------------------------------------------------------- build --

if [ "$no_build" -eq 0 ]; then
  mkdir -p "$build_dir"
  build_log="$build_dir/zdd-build.log"
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

# ---------------------------------------------------------------- processes --

tmp=$(mktemp -d /tmp/switchyard-zdd.XXXXXX)
chmod 755 "$tmp" # nginx workers may run as another user
sy_pid=""        # the switchyard process serving now (after upgrades: not our child)
sy_old_pids=()   # switchyard processes replaced by an upgrade

# A switchyard process started by an upgrade is not our child: before
# signalling it, make sure the PID still is a switchyard.
is_switchyard() {
  local exe
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  case "${exe##*/}" in switchyard | "switchyard (deleted)") return 0 ;; *) return 1 ;; esac
}

stop_switchyards() {
  local p
  for p in ${sy_old_pids[@]+"${sy_old_pids[@]}"} $sy_pid; do
    [ -n "$p" ] && is_switchyard "$p" && stop_pid "$p" $((drain_timeout + 5))
  done
  sy_pid=""
  sy_old_pids=()
}

# shellcheck disable=SC2317  # invoked by the cleanup trap
before_cleanup() { stop_switchyards; }
keep_tmp=$keep
trap_cleanup

# ------------------------------------------------------------------ the load --

# start_load LABEL PORT: switchyard-load in the background; sets load_pid.
# It runs until stop_load (the cap is only a safeguard).
start_load() {
  local label=$1 port=$2
  : >"$tmp/$label-slow.log"
  start_bg "$tmp/$label-load.log" "$load_bin" --target "127.0.0.1:$port" \
    --duration $((duration + 1800)) --keepalive "$keepalive" --per-request "$per_request" \
    --slow "$slow" --slow-ms "$slow_ms" --post-percent "$post_percent" \
    --slow-log "$tmp/$label-slow.log" --slow-threshold-ms 100 --progress 0.5 --json $reuse_check
  load_pid=$started_pid
  # The summary goes to stdout, progress to stderr: keep them apart.
  load_start_ms=$(now_ms)
}

load_requests() {
  local line
  line=$(grep 'progress' "$tmp/$1-load.log" 2>/dev/null | tail -n 1) || true
  line=${line##*requests=}
  echo "${line%% *}" | grep -E '^[0-9]+$' || echo 0
}

# stop_load LABEL EVENTS_END_MS: lets the load run at least 3 s past the last
# event, --duration seconds and --requests requests; then SIGTERM (the client
# finishes what is in flight and prints its summary). Sets load_rc.
stop_load() {
  local label=$1 events_end=$2 now
  if ! alive "$load_pid"; then
    log "$label: the load client ended before the events were done"
    load_early=1
  fi
  while alive "$load_pid"; do
    now=$(now_ms)
    if [ "$now" -ge $((events_end + 3000)) ] && [ "$now" -ge $((load_start_ms + duration * 1000)) ] &&
      [ "$(load_requests "$label")" -ge "$requests" ]; then
      kill -TERM "$load_pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  set +e
  wait "$load_pid"
  load_rc=$?
  set -e
  forget_pid "$load_pid"
  # stdout and stderr of the client went to one file; the summary is the JSON line.
  grep '^{' "$tmp/$label-load.log" | tail -n 1 >"$tmp/$label-load.json" || true
  [ -s "$tmp/$label-load.json" ] || log "$label: no summary from the load client (exit $load_rc)"
}

# HTTP/2 clients in the mix: h2load (8 connections, 10 streams each, 20 000
# requests a run) on Switchyard's h2c listener, run after run until
# stop_h2_load; every run's result is kept. h2load does not reconnect after
# a GOAWAY (an upgrade or drain sends one): it counts the requests it then
# could not send as failed, although no server saw them. So the check is
# the server's side: every HTTP/2 stream in the access log must be a 2xx
# without an error, and their number must equal the streams h2load got
# answered; a stream the server took and did not deliver breaks one or the
# other.
start_h2_load() {
  rm -f "$tmp/h2load.stop"
  : >"$tmp/h2load.log"
  (
    for ((run = 0; run < 2000; run++)); do
      [ -e "$tmp/h2load.stop" ] && break
      h2load -c 8 -m 10 -n 20000 "http://127.0.0.1:$sy_h2_port/" >>"$tmp/h2load.log" 2>&1 || true
    done
  ) &
  h2_load_pid=$!
  pids+=("$h2_load_pid")
}
stop_h2_load() {
  touch "$tmp/h2load.stop"
  wait "$h2_load_pid" || true
  forget_pid "$h2_load_pid"
}
# Prints the HTTP/2 line of the report; 1 on any stream the server took and
# did not answer with a 2xx, or answered without the client getting it.
report_h2_load() {
  local logged bad
  logged=$(grep -c '"protocol":"HTTP/2"' "$tmp/access.log" || true)
  bad=$(grep '"protocol":"HTTP/2"' "$tmp/access.log" | grep -cv '"status":2[0-9][0-9],' || true)
  bad=$((bad + $(grep '"protocol":"HTTP/2"' "$tmp/access.log" | grep -c '"error":' || true)))
  awk -v logged="$logged" -v bad="$bad" '
    /^requests:/ { sent += $2; answered += $8; failed += $10 }
    /^status codes:/ { ok2xx += $3 }
    END {
      lost = bad + (logged > answered ? logged - answered : answered - logged)
      printf "   HTTP/2 (h2load, h2c): %d streams answered (%d 2xx); the server logged %d, %d not 2xx or cut; %d failed in all; %d not sent after a GOAWAY (h2load does not reconnect)\n",
        answered, ok2xx, logged, bad, lost, failed
      exit lost > 0 || answered != ok2xx || answered == 0
    }' "$tmp/h2load.log"
}

# ----------------------------------------------------------------- events --

events_file=""
control_failures=0

# record KIND LABEL START_MS END_MS RC [DETAIL]
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "${6:-}" >>"$events_file"
  if [ "$5" -ne 0 ]; then
    control_failures=$((control_failures + 1))
    log "$1 ($2) failed: ${6:-exit $5}"
  fi
}

# run_cmd KIND LABEL COMMAND...: one control command as an event.
run_cmd() {
  local kind=$1 label=$2 t0 t1 rc out
  shift 2
  t0=$(now_ms)
  set +e
  out=$(timeout 90 "$@" 2>&1)
  rc=$?
  set -e
  t1=$(now_ms)
  record "$kind" "$label" "$t0" "$t1" "$rc" "$(echo "$out" | tr '\n\t' '  ')"
}

reload_count() { grep -c 'reloaded \| reload refused' "$tmp/switchyard.log" 2>/dev/null || true; }

# SIGHUP: done when the log says "reloaded" (or "reload refused") once more.
hup_reload() {
  local before t0 t1 deadline rc=1 detail="no 'reloaded' line within 10 s"
  before=$(reload_count)
  t0=$(now_ms)
  kill -HUP "$sy_pid"
  deadline=$((t0 + 10000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    if [ "$(reload_count)" -gt "$before" ]; then
      if tail -n 20 "$tmp/switchyard.log" | grep -q 'reload refused'; then
        detail=$(grep 'reload refused' "$tmp/switchyard.log" | tail -n 1)
      else
        rc=0 detail=""
      fi
      break
    fi
    sleep 0.01
  done
  t1=$(now_ms)
  record reload "SIGHUP" "$t0" "$t1" "$rc" "$detail"
}

# switchyardctl upgrade: the reply carries the new pid, which is tracked from
# then on; the old process drains and exits by itself.
upgrade() {
  local t0 t1 rc out new_pid
  t0=$(now_ms)
  set +e
  out=$(timeout 90 "$ctl_bin" -s "$tmp/control.sock" --json upgrade 2>&1)
  rc=$?
  set -e
  t1=$(now_ms)
  new_pid=$(echo "$out" | sed -n 's/.*"pid":\([0-9][0-9]*\).*/\1/p' | head -n 1)
  if [ "$rc" -eq 0 ] && [ -n "$new_pid" ] && alive "$new_pid"; then
    sy_old_pids+=("$sy_pid")
    sy_pid=$new_pid
    record upgrade "pid $new_pid" "$t0" "$t1" 0
  else
    [ "$rc" -eq 0 ] && rc=1
    record upgrade "upgrade" "$t0" "$t1" "$rc" "$(echo "$out" | tr '\n\t' '  ')"
  fi
}

# ------------------------------------------------------------------ report --

# report LABEL: requests, failures by kind, slowest request around each kind
# of event (from the slow log), control command failures.
report() {
  python3 - "$1" "$tmp/$1-load.json" "$tmp/$1-events.tsv" "$tmp/$1-slow.log" "$slow_ms" <<'PY'
import json, sys
label, summary_path, events_path, slow_path, slow_ms = sys.argv[1:6]
slow_ms = float(slow_ms)
try:
    s = json.load(open(summary_path))
except (OSError, ValueError):
    print(f"== {label}: no load summary"); sys.exit(0)
events = []
for line in open(events_path):
    kind, what, t0, t1, rc, detail = line.rstrip("\n").split("\t")
    events.append((kind, what, int(t0), int(t1), int(rc), detail))
slow = []
for line in open(slow_path):
    f = line.split()
    if len(f) < 6: continue
    start, dur = int(f[0]), float(f[1])
    excess = dur - slow_ms if f[5] == "slow" else dur
    slow.append((start, dur, excess, f[2], f[3], f[4], f[5]))

print(f"== {label}: {s['requests']} requests in {s['elapsed_s']:.1f} s ({s['rps']:.0f}/s), "
      f"failed {s['failures']}")
print("   loops: {keepalive} keep-alive, {per_request} new-connection-per-request, {slow} slow".format(**s["loops"])
      + ("" if s.get("reuse_check", True) else "; keep-alive connections reused without checking"))
print("   failures by kind: " + ", ".join(f"{k} {v}" for k, v in s["by_kind"].items()))
if s["non_2xx_statuses"]:
    print("   non-2xx statuses: " + ", ".join(f"{k} x{v}" for k, v in s["non_2xx_statuses"].items()))
for what, n in s["details"].items():
    print(f"   {what} (x{n})")
lat = s["latency_ms"]
print(f"   latency ms: p50 {lat['p50']:.3f}, p99 {lat['p99']:.3f}, max {lat['max']:.3f}")
print("   pools: " + (", ".join(f"{k} {v}" for k, v in s["pools"].items()) or "none"))
print(f"   connections {s['connections']}, reconnects after Connection: close "
      f"{s['reconnects_after_close']}, idle connections found closed {s['idle_closed']}")

# Each logged request belongs to the event nearest to it (0 if it overlaps the
# command's run), if that is within 2 s: events closer together than 4 s
# would otherwise share their slowest request.
def nearest(start, end):
    best = None
    for e in events:
        gap = max(e[2] - end, start - e[3], 0)
        if gap <= 2000 and (best is None or gap < best[0]):
            best = (gap, e)
    return best[1] if best else None

by_kind = {}
for (start, dur, excess, okind, status, pool, cls) in slow:
    e = nearest(start, start + dur)
    if e is not None:
        by_kind.setdefault(e[0], []).append((excess, dur, okind, status, pool, cls, e))
kinds = []
for e in events:
    if e[0] not in kinds: kinds.append(e[0])
for kind in kinds:
    evs = [e for e in events if e[0] == kind]
    ok = sum(1 for e in evs if e[4] == 0)
    took = [e[3] - e[2] for e in evs]
    near = by_kind.get(kind, [])
    fails = sum(1 for r in near if r[2] != "ok")
    best = max(near, key=lambda r: r[0]) if near else None
    line = (f"   {kind}: {len(evs)} ({ok} ok), command took ms: max {max(took)}, "
            f"median {sorted(took)[len(took) // 2]}; failed requests within 2 s: {fails}; ")
    if best:
        excess, dur, okind, status, pool, cls, ev = best
        extra = f" ({dur:.1f} ms - {slow_ms:.0f} ms delay)" if cls == "slow" else ""
        line += (f"slowest within 2 s: {excess:.1f} ms{extra} {cls} {okind} {status} {pool} "
                 f"near {ev[1]}")
    else:
        line += "no request within 2 s took over 100 ms (beyond its delay)"
    print(line)
failed = [r for r in slow if r[3] != "ok"]
far = [r for r in failed if nearest(r[0], r[0] + r[1]) is None]
if failed:
    print(f"   failed requests in the slow log: {len(failed)}, of which {len(far)} not within 2 s of an event")
bad = [e for e in events if e[4] != 0]
for e in bad[:10]:
    print(f"   FAILED {e[0]} ({e[1]}): {e[5][:300]}")
PY
}

# --------------------------------------------------------------------- main --

log "temp dir $tmp"
start_echo "$tmp/echo-blue1.log" "$echo_bin" blue; blue1=$echo_port
start_echo "$tmp/echo-blue2.log" "$echo_bin" blue; blue2=$echo_port
start_echo "$tmp/echo-green1.log" "$echo_bin" green; green1=$echo_port
start_echo "$tmp/echo-green2.log" "$echo_bin" green; green2=$echo_port
log "echo servers: blue 127.0.0.1:$blue1, 127.0.0.1:$blue2; green 127.0.0.1:$green1, 127.0.0.1:$green2"

overall=0
summary_lines=()

# ---- Switchyard
sy_port=$(free_port)
sy_h2_port=$(free_port)
while [ "$sy_h2_port" = "$sy_port" ]; do sy_h2_port=$(free_port); done
cfg="$tmp/switchyard.toml"
cat >"$cfg" <<EOF
# scripts/zdd-check.sh: Switchyard in front of two switchyard-echo pools.
[server]
workers = 2
drain_timeout = "${drain_timeout}s"
state_file = "$tmp/state.json"

[log]
level = "info"
access_log = "$tmp/access.log"

[[listeners]]
address = "127.0.0.1:$sy_port"

[[listeners]]
address = "127.0.0.1:$sy_h2_port"
protocols = ["h2c"]

[control]
socket = "$tmp/control.sock"

[routing]
active = "blue"

[pools.blue]
servers = [{ address = "127.0.0.1:$blue1" }, { address = "127.0.0.1:$blue2" }]

[pools.green]
servers = [{ address = "127.0.0.1:$green1" }, { address = "127.0.0.1:$green2" }]
EOF
"$switchyard_bin" --check -c "$cfg" >"$tmp/check.log" 2>&1 || { cat "$tmp/check.log" >&2; die "switchyard --check failed"; }
start_bg "$tmp/switchyard.log" "$switchyard_bin" -c "$cfg"
sy_pid=$started_pid
forget_pid "$sy_pid" # stopped with the other switchyard processes
deadline=$(($(now_ms) + 10000))
until "$ctl_bin" -s "$tmp/control.sock" status >/dev/null 2>&1; do
  alive "$sy_pid" || { tail -n 20 "$tmp/switchyard.log" >&2; die "switchyard exited"; }
  [ "$(now_ms)" -lt "$deadline" ] || die "switchyard's control socket did not answer within 10 s"
  sleep 0.05
done
wait_answer "$sy_pid" "http://127.0.0.1:$sy_port/" blue 10 ||
  { tail -n 20 "$tmp/switchyard.log" >&2; die "switchyard did not answer from blue"; }
log "switchyard pid $sy_pid on 127.0.0.1:$sy_port"

events_file="$tmp/switchyard-events.tsv"
: >"$events_file"
start_load switchyard "$sy_port"
start_h2_load
load_early=0
sleep 1
# Overlapping cutovers: a pipeline that switches, rolls back and switches
# again within the drain time. Blue ends active (K even) or green (K odd).
log "switchyard: $k overlapping cutovers, ${overlap_pause}s apart, drain=${overlap_drain}s"
target=green
for ((i = 1; i <= k; i++)); do
  run_cmd overlap-switch "$target" "$ctl_bin" -s "$tmp/control.sock" switch "$target" \
    "drain=${overlap_drain}s"
  [ "$target" = green ] && target=blue || target=green
  sleep "$overlap_pause"
  alive "$load_pid" || break
done
# The last drain deadlines fire under the same load before the next phase.
sleep "$overlap_drain"
log "overlapping cutovers done; $(load_requests switchyard) requests so far"
upgrades=$((skip_upgrades ? 0 : k))
log "switchyard: $k cutovers, $k reloads, $upgrades upgrades, ${pause}s apart"
for ((i = 1; i <= k; i++)); do
  run_cmd switch "$target" "$ctl_bin" -s "$tmp/control.sock" switch "$target" --wait --timeout 30s
  [ "$target" = green ] && target=blue || target=green
  sleep "$pause"
  if ((i % 2)); then
    run_cmd reload "switchyardctl reload" "$ctl_bin" -s "$tmp/control.sock" reload
  else
    hup_reload
  fi
  sleep "$pause"
  if [ "$skip_upgrades" -eq 0 ]; then
    upgrade
    sleep "$pause"
  fi
  alive "$load_pid" || break
  log "round $i/$k done; $(load_requests switchyard) requests so far"
done
events_end=$(now_ms)
stop_load switchyard "$events_end"
sy_load_rc=$load_rc
stop_h2_load

# The processes replaced by upgrades must have drained and exited by now.
lingering=()
for p in ${sy_old_pids[@]+"${sy_old_pids[@]}"}; do
  deadline=$(($(now_ms) + (drain_timeout + 5) * 1000))
  while alive "$p" && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
  alive "$p" && lingering+=("$p")
done
alive "$sy_pid" || { log "the serving switchyard (pid $sy_pid) has exited"; overall=1; }
stop_switchyards

echo
report switchyard
if [ ${#lingering[@]} -gt 0 ]; then
  echo "   replaced processes still running ${drain_timeout}+5 s after the run: ${lingering[*]}"
  overall=1
fi
report_h2_load || overall=1
[ "$sy_load_rc" -eq 0 ] || overall=1
[ "$control_failures" -eq 0 ] || overall=1
[ "$load_early" -eq 0 ] || overall=1

# ---- HAProxy and NGINX, K reloads each
run_peer() {
  local name=$1 dir="$tmp/$1" port pid i
  mkdir -p "$dir"
  chmod 755 "$dir"
  port=$(free_port)
  case "$name" in
    haproxy)
      write_peer_config haproxy "$dir/haproxy.cfg" 2 "$port" "$dir" "$blue1" "$blue2"
      start_bg "$dir/proxy.log" haproxy -W -db -f "$dir/haproxy.cfg" -S "$dir/master.sock"
      ;;
    nginx)
      write_peer_config nginx "$dir/nginx.conf" 2 "$port" "$dir" "$blue1" "$blue2"
      start_bg "$dir/proxy.log" nginx -p "$dir/" -e "$dir/nginx-error.log" -c "$dir/nginx.conf"
      ;;
  esac
  pid=$started_pid
  if ! wait_answer "$pid" "http://127.0.0.1:$port/" blue 10; then
    log "$name did not answer; skipped. Its log:"
    tail -n 15 "$dir/proxy.log" >&2 || true
    stop_pid "$pid"
    summary_lines+=("$name: did not start")
    return 0
  fi
  log "$name (master pid $pid) on 127.0.0.1:$port: $k reloads, ${pause}s apart"
  events_file="$tmp/$name-events.tsv"
  : >"$events_file"
  start_load "$name" "$port"
  load_early=0
  sleep 1
  # HAProxy's master-worker reload is SIGUSR2; NGINX's (nginx -s reload) is SIGHUP.
  local sig=HUP t0
  [ "$name" = haproxy ] && sig=USR2
  for ((i = 1; i <= k; i++)); do
    t0=$(now_ms)
    kill -"$sig" "$pid"
    record reload "SIG$sig $i" "$t0" "$(now_ms)" 0
    sleep "$pause"
    sleep "$pause"
    sleep "$pause"
    alive "$load_pid" || break
  done
  stop_load "$name" "$(now_ms)"
  stop_pid "$pid" 10
  echo
  report "$name"
}

if [ "$compare" -eq 1 ]; then
  saved_failures=$control_failures
  run_peer haproxy
  run_peer nginx
  control_failures=$saved_failures
fi

echo
if [ "$overall" -eq 0 ]; then
  echo "zdd-check: PASS: Switchyard lost 0 requests and every control command was ok"
else
  echo "zdd-check: FAIL (see above; logs in $tmp)"
  keep=1
fi
exit "$overall"
