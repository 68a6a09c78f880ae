#!/usr/bin/env bash
# The ramp check (README, "Canary ramp"; issue 16): how fast and how reliably
# the in-proxy canary analysis tells a bad build from a good one, on real
# traffic, and how many users a bad build reaches before it is rolled back.
#
# Every run starts a fresh Switchyard (2 workers) in front of blue and green
# (switchyard-echo playing a build: --fail-percent, --delay-ms,
# --slow-percent), sends sticky-user traffic with bench/ramp_load.py (2000
# users, 200 req/s unless said otherwise) and ramps green:
#
#   1 detection   green fails 5 %, blue 0.1 %; steps 5,25,50,100, bake 20s,
#                 --runs times: time to abort, users who saw a canary 5xx
#   2 latency     green 50 ms slower: aborted by the latency rule
#   3 slow-few    green: 0.5 % of requests 20-40 ms slow: promoted
#   4 A/A         both pools fail 1 %; steps 10,50,100, bake 10s, --aa-runs
#                 times: no abort expected
#   5 low traffic 2 req/s: on_no_data = "pause" holds then pauses, never
#                 promotes; on_no_data = "advance" promotes on bake time
#   6 abort lag   detection runs: the "aborted" event's time to the audit
#                 line of "ramp: canary green 0.00" (every worker applied it)
#
#   scripts/ramp-check.sh [--runs N] [--aa-runs N] [--quick] [--build-dir DIR]
#                         [--no-build] [--keep]
#
# Everything runs on 127.0.0.1 (ephemeral ports) with its configs in a temp
# dir; every process started is stopped by its PID; every wait is bounded.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

runs=10
aa_runs=20
build_dir="build-release"
no_build=0
keep=0
runs_set=0
aa_set=0
quick=0

usage() {
  cat <<'EOF'
usage: scripts/ramp-check.sh [options]
  --runs N          detection runs (green failing 5 %; default 10)
  --aa-runs N       A/A ramps (both pools failing 1 %; default 20)
  --quick           3 detection runs and 5 A/A ramps (a fast check)
  --build-dir DIR   where the binaries are (default build-release); configured like
                    scripts/quickstart.sh (Release) if it has no CMakeCache.txt
  --no-build        use the binaries in --build-dir as they are
  --keep            keep the temp dir (kept anyway when an expectation fails)
exit status: 0 every expectation held; 1 otherwise; 2 bad arguments or the
set-up failed
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
    --runs) need_value "$@"; runs=$2; runs_set=1; shift 2 ;;
    --aa-runs) need_value "$@"; aa_runs=$2; aa_set=1; shift 2 ;;
    --quick) quick=1; shift ;;
    --build-dir) need_value "$@"; build_dir=$2; shift 2 ;;
    --build-dir=*) build_dir=${1#*=}; shift ;;
    --no-build) no_build=1; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
if [ "$quick" -eq 1 ]; then
  [ "$runs_set" -eq 1 ] || runs=3
  [ "$aa_set" -eq 1 ] || aa_runs=5
fi
count_ok() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 1000 ]; }
count_ok "$runs" || die "--runs expects 1..1000"
count_ok "$aa_runs" || die "--aa-runs expects 1..1000"

case "$build_dir" in /*) ;; *) build_dir="$repo/$build_dir" ;; esac
switchyard_bin="$build_dir/switchyard"
echo_bin="$build_dir/switchyard-echo"
ctl_bin="$build_dir/switchyardctl"
load_py="$repo/bench/ramp_load.py"
command -v python3 >/dev/null || die "python3 not found (scripts/install-deps.sh installs it)"
command -v curl >/dev/null || die "curl not found (scripts/install-deps.sh installs it)"
[ -f "$load_py" ] || die "$load_py not found"

if [ "$no_build" -eq 0 ]; then
  mkdir -p "$build_dir"
  build_log="$build_dir/ramp-build.log"
  log "building in $build_dir (log: $build_log)"
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_TESTS=OFF \
      -DSWITCHYARD_BENCH=OFF >"$build_log" 2>&1 || { tail -n 20 "$build_log" >&2; die "cmake configure failed"; }
  fi
  cmake --build "$build_dir" -j"$(nproc)" --target switchyard switchyard-echo switchyardctl \
    >>"$build_log" 2>&1 || { tail -n 30 "$build_log" >&2; die "the build failed"; }
fi
for bin in "$switchyard_bin" "$echo_bin" "$ctl_bin"; do
  [ -x "$bin" ] || die "$bin not found (build it, or drop --no-build)"
done

tmp=$(mktemp -d /tmp/switchyard-ramp.XXXXXX)
keep_tmp=$keep
trap_cleanup

# ------------------------------------------------------------------ one run --
# The run's settings, set by each scenario before calling run_ramp.
blue_args=()     # switchyard-echo arguments of blue and green
green_args=()
ramp_args=()     # after `ramp green`
rollout_toml=""  # extra [rollout] lines
load_rate=200    # requests/s of the load
wait_mode="wait" # wait: `ramp --wait`; poll: poll status until paused/ended
wait_seconds=120 # bound of the ramp's wait

# wait_exit PID SECONDS: until PID exited (true) or SECONDS passed (false).
wait_exit() {
  local deadline=$(($(now_ms) + $2 * 1000))
  while alive "$1"; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# poll_ramp DIR: `status` every 0.5 s into DIR/polls.jsonl until the ramp is
# paused, aborted or promoted, or wait_seconds passed. Sets DIR/ramp.rc like
# `ramp --wait`: 0 promoted, 4 aborted, 5 paused, 3 timeout.
poll_ramp() {
  local dir=$1 deadline state rc=3
  deadline=$(($(now_ms) + wait_seconds * 1000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    state=$("$ctl_bin" -s "$dir/control.sock" --json status 2>/dev/null |
      tee -a "$dir/polls.jsonl" |
      python3 -c 'import json, sys; print((json.load(sys.stdin).get("ramp") or {}).get("state", "-"))' \
        2>/dev/null || echo "?")
    case $state in
      promoted) rc=0; break ;;
      aborted) rc=4; break ;;
      paused) rc=5; break ;;
    esac
    sleep 0.5
  done
  echo "$rc" >"$dir/ramp.rc"
}

# run_ramp DIR: one ramp of green in a fresh set of processes, its logs,
# events, audit, status, the load's totals and the ramp's exit code in DIR.
run_ramp() {
  local dir=$1 blue_pid green_pid blue_port green_port port sy_pid load_pid rc=0
  mkdir -p "$dir"
  start_echo "$dir/blue.log" "$echo_bin" blue --threads 1 ${blue_args[@]+"${blue_args[@]}"}
  blue_pid=$echo_pid
  blue_port=$echo_port
  start_echo "$dir/green.log" "$echo_bin" green --threads 1 ${green_args[@]+"${green_args[@]}"}
  green_pid=$echo_pid
  green_port=$echo_port
  port=$(free_port)
  cat >"$dir/switchyard.toml" <<EOF
[server]
workers = 2
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
$rollout_toml
EOF
  start_bg "$dir/switchyard.out" "$switchyard_bin" -c "$dir/switchyard.toml"
  sy_pid=$started_pid
  wait_answer "$sy_pid" "http://127.0.0.1:$port/" blue 10 || die "switchyard did not start ($dir)"
  # Bounded twice: the stop file, and its own --duration.
  # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
  start_bg "$dir/load.err" sh -c 'exec python3 "$0" "$@" >"'"$dir/load.json"'"' "$load_py" \
    --port "$port" --rate "$load_rate" --duration $((wait_seconds + 30)) --stop-file "$dir/stop"
  load_pid=$started_pid
  if [ "$wait_mode" = wait ]; then
    "$ctl_bin" -s "$dir/control.sock" ramp green ${ramp_args[@]+"${ramp_args[@]}"} --wait \
      --timeout "${wait_seconds}s" >"$dir/ramp.out" 2>&1 || rc=$?
    echo "$rc" >"$dir/ramp.rc"
  else
    "$ctl_bin" -s "$dir/control.sock" ramp green ${ramp_args[@]+"${ramp_args[@]}"} \
      >"$dir/ramp.out" 2>&1 || die "ramp refused ($dir): $(cat "$dir/ramp.out")"
    poll_ramp "$dir"
  fi
  "$ctl_bin" -s "$dir/control.sock" --json status >"$dir/status.json" 2>/dev/null || true
  touch "$dir/stop"
  wait_exit "$load_pid" 10 || log "the load did not stop by itself ($dir)"
  stop_pid "$load_pid"
  stop_pid "$sy_pid" 10
  stop_pid "$green_pid"
  stop_pid "$blue_pid"
}

# ------------------------------------------------------------------- report --
# report.py SCENARIO DIR...: the scenario's table on stdout; exit 1 when an
# expectation does not hold.
cat >"$tmp/report.py" <<'PY'
import datetime, json, os, re, statistics, sys

def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

def load_json(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default

def run(dir):
    r = {"dir": dir}
    rc = int(open(os.path.join(dir, "ramp.rc")).read().strip() or 99)
    r["outcome"] = {0: "promoted", 4: "aborted", 5: "paused", 3: "timeout"}.get(rc, "failed(%d)" % rc)
    events = []
    try:
        with open(os.path.join(dir, "events.log")) as f:
            events = [json.loads(l) for l in f if l.strip().startswith("{")]
    except OSError:
        pass
    r["events"] = events
    start = next((e for e in events if e["type"] == "started"), None)
    end = next((e for e in events if e["type"] in ("aborted", "promoted")), None)
    paused = next((e for e in events if e["type"] == "paused"), None)
    r["seconds"] = when(end["time"]) - when(start["time"]) if start and end else None
    r["paused_after"] = when(paused["time"]) - when(start["time"]) if start and paused else None
    r["rule"] = end.get("rule", "-") if end and end["type"] == "aborted" else "-"
    r["step"] = end.get("step") if end else None
    r["canary"] = end.get("canary") if end and end["type"] == "aborted" else None
    r["holding"] = [e for e in events if e["type"] == "holding"]
    r["promoted_event"] = any(e["type"] == "promoted" for e in events)
    # The abort's weight 0 as applied by every worker: its audit line.
    r["abort_lag_ms"] = None
    if end and end["type"] == "aborted":
        pat = re.compile(r'^(\S+) \[\d+\] audit ramp command="ramp: canary green 0\.00"')
        try:
            with open(os.path.join(dir, "audit.log")) as f:
                for line in f:
                    m = pat.match(line)
                    if m:
                        r["abort_lag_ms"] = (when(m.group(1)) - when(end["time"])) * 1000
                        break
        except OSError:
            pass
    status = load_json(os.path.join(dir, "status.json"), {})
    r["state"] = (status.get("ramp") or {}).get("state", "-")
    r["load"] = load_json(os.path.join(dir, "load.json"), {})
    return r

def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v

def stats(values, spec="%.1f"):
    v = [x for x in values if x is not None]
    if not v:
        return "-"
    return "median %s, min %s, max %s" % (fmt(statistics.median(v), spec), fmt(min(v), spec), fmt(max(v), spec))

def load_cols(r):
    l = r["load"]
    g5 = l.get("5xx_by_pool", {}).get("green", 0)
    return "%8s %7s %6s %6s %5s" % (l.get("requests", "?"), l.get("by_pool", {}).get("green", "?"), g5,
                                     l.get("canary_error_users", "?"), l.get("errors", "?"))

LOAD_HEAD = "%8s %7s %6s %6s %5s" % ("requests", "green", "g-5xx", "users", "conn")
ok = True
def expect(cond, what):
    global ok
    print("  %-4s %s" % ("ok" if cond else "FAIL", what))
    ok = ok and cond

kind, dirs = sys.argv[1], sys.argv[2:]
rs = [run(d) for d in dirs]
if kind in ("detection", "aa", "latency", "slow"):
    title = {
        "detection": "1. detection: green fails 5 %, blue 0.1 %; steps 5,25,50,100, bake 20s, [rollout] defaults",
        "latency": "2. latency regression: green +50 ms on every request; steps 5,25,50,100, bake 20s",
        "slow": "3. a few slow requests: green 0.5 % of requests 20-40 ms slow; steps 10,50,100, bake 10s",
        "aa": "4. A/A: both pools fail 1 %; steps 10,50,100, bake 10s",
    }[kind]
    print(title)
    print("  %3s  %-9s %8s  %-15s %4s %12s %8s  %s" % ("run", "outcome", "seconds", "rule", "step",
                                                       "canary e/n", "abort ms", LOAD_HEAD))
    for i, r in enumerate(rs, 1):
        c = r["canary"]
        cn = "%d/%d" % (c["errors"], c["requests"]) if c else "-"
        print("  %3d  %-9s %8s  %-15s %4s %12s %8s  %s" % (i, r["outcome"], fmt(r["seconds"]), r["rule"],
                                                           r["step"] or "-", cn, fmt(r["abort_lag_ms"], "%.0f"),
                                                           load_cols(r)))
    secs = [r["seconds"] for r in rs]
    if kind == "detection":
        aborted = [r for r in rs if r["outcome"] == "aborted"]
        print("  time to abort (s): %s" % stats([r["seconds"] for r in aborted]))
        print("  users who saw a canary 5xx: %s" % stats([r["load"].get("canary_error_users") for r in rs], "%.0f"))
        expect(len(aborted) == len(rs), "every run aborted (%d of %d; promoted: %d)"
               % (len(aborted), len(rs), sum(r["outcome"] == "promoted" for r in rs)))
    elif kind == "latency":
        r = rs[0]
        expect(r["outcome"] == "aborted" and r["rule"] == "latency",
               "aborted by rule latency (%s, %s) after %s s" % (r["outcome"], r["rule"], fmt(r["seconds"])))
    elif kind == "slow":
        r = rs[0]
        expect(r["outcome"] == "promoted", "promoted (%s after %s s)" % (r["outcome"], fmt(r["seconds"])))
    else:
        false_aborts = sum(r["outcome"] == "aborted" for r in rs)
        promoted = [r for r in rs if r["outcome"] == "promoted"]
        print("  time to promote (s): %s" % stats([r["seconds"] for r in promoted]))
        expect(false_aborts == 0 and len(promoted) == len(rs),
               "false aborts: %d of %d (target 0); promoted %d" % (false_aborts, len(rs), len(promoted)))
elif kind == "low":
    pause_run, advance_run = rs
    print("5. low traffic: 2 req/s, bake 5s")
    print("  %-38s %-9s %-9s %8s  %s" % ("case", "outcome", "state", "seconds", "hold reason"))
    for name, r in (("on_no_data pause, max_hold 20s", pause_run), ("on_no_data advance, max_hold 10s", advance_run)):
        reason = r["holding"][0]["reason"] if r["holding"] else "-"
        t = r["seconds"] if r["seconds"] is not None else r["paused_after"]
        print("  %-38s %-9s %-9s %8s  %s" % (name, r["outcome"], r["state"], fmt(t), reason))
    held = [e for e in pause_run["holding"] if "requests needed" in e.get("reason", "")]
    expect(bool(held) and not pause_run["promoted_event"] and pause_run["state"] == "paused",
           "pause: held (\"requests needed\"), never promoted, then paused (after %s s)" % fmt(pause_run["paused_after"]))
    expect(advance_run["outcome"] == "promoted" and bool(advance_run["holding"]),
           "advance: held, then promoted on bake time alone (after %s s)" % fmt(advance_run["seconds"]))
elif kind == "lag":
    lags = [r["abort_lag_ms"] for r in rs if r["outcome"] == "aborted"]
    print("6. abort latency: \"aborted\" event -> audit \"ramp: canary green 0.00\" (every worker), detection runs")
    print("  ms: %s (%d aborts)" % (stats(lags, "%.0f"), len(lags)))
    expect(bool(lags) and None not in lags and max(lags) <= 10,
           "every abort applied within 10 ms (max %s ms)" % fmt(max([x for x in lags if x is not None], default=None), "%.0f"))
print()
sys.exit(0 if ok else 1)
PY

# The ramp's last transition as `ramp --wait` printed it.
last_line() { grep -v '^  last verdict' "$1" | tail -n 1 | cut -c1-110; }

failed=0
: >"$tmp/report"
report() {
  python3 "$tmp/report.py" "$@" >>"$tmp/report" 2>&1 || failed=1
}

# ---------------------------------------------------------------- scenarios --
log "1. detection: $runs runs (green fails 5 %)"
detection_dirs=()
blue_args=(--fail-percent 0.1) green_args=(--fail-percent 5)
ramp_args=("steps=5,25,50,100" bake=20s) rollout_toml="" load_rate=200 wait_mode="wait" wait_seconds=120
for ((i = 1; i <= runs; i++)); do
  run_ramp "$tmp/detection-$i"
  detection_dirs+=("$tmp/detection-$i")
  log "  run $i: $(last_line "$tmp/detection-$i/ramp.out")"
done
report detection "${detection_dirs[@]}"

log "2. latency regression (green +50 ms)"
blue_args=() green_args=(--delay-ms 50)
run_ramp "$tmp/latency"
report latency "$tmp/latency"

log "3. a few slow requests (green 0.5 % slow)"
blue_args=() green_args=(--slow-percent 0.5 --slow-ms 20-40)
ramp_args=("steps=10,50,100" bake=10s) wait_seconds=90
run_ramp "$tmp/slow"
report slow "$tmp/slow"

log "4. A/A: $aa_runs ramps (both pools fail 1 %)"
aa_dirs=()
blue_args=(--fail-percent 1) green_args=(--fail-percent 1)
for ((i = 1; i <= aa_runs; i++)); do
  run_ramp "$tmp/aa-$i"
  aa_dirs+=("$tmp/aa-$i")
  log "  ramp $i: $(last_line "$tmp/aa-$i/ramp.out")"
done
report aa "${aa_dirs[@]}"

log "5. low traffic (2 req/s): on_no_data pause, then advance"
blue_args=() green_args=()
ramp_args=("steps=10,50,100" bake=5s) load_rate=2 wait_mode=poll wait_seconds=40
rollout_toml='max_hold = "20s"'
run_ramp "$tmp/low-pause"
ramp_args=("steps=50,100" bake=5s) wait_mode="wait"
rollout_toml=$'on_no_data = "advance"\nmax_hold = "10s"'
run_ramp "$tmp/low-advance"
report low "$tmp/low-pause" "$tmp/low-advance"

report lag "${detection_dirs[@]}"

cat "$tmp/report"
echo "Flagger defaults: ~10 min to roll back (interval 1m × threshold 10); Argo Rollouts' documented example: ~15 min"
exit "$failed"
