#!/usr/bin/env bash
# The dark-launch check (DESIGN.md, "Dark launch: `shadow` and `diff`"; issue
# 19): what request mirroring costs the client. Switchyard (1 worker by
# default) proxies to a healthy switchyard-echo (pool blue) and mirrors to a
# shadow pool; wrk drives it with 50 keep-alive connections. Cells:
#
#   none           [shadow] off (the shadow pool is defined, nothing mirrored)
#   10-healthy     10 % of requests mirrored to a healthy switchyard-echo
#   100-healthy    every request mirrored to a healthy switchyard-echo
#   100-slow       every request mirrored to a switchyard-echo --delay-ms 2000
#   100-reset      every request mirrored to a listener that accepts, reads,
#                  and resets the connection (SO_LINGER 0) without answering
#   100-refused    every request mirrored to a port where nothing listens
#
# The target: the client's p99 with a slow or broken shadow (100-slow,
# 100-reset, 100-refused) within 1.1x of the no-mirroring p99 of the same
# run; the healthy cells show the throughput cost of mirroring itself. For
# contrast, NGINX's `mirror` directive with the same upstreams (nginx-none,
# nginx-100-healthy, nginx-100-slow, nginx-100-reset): NGINX holds the
# client's next request on a keep-alive connection until the mirror
# subrequest has finished.
#
#   scripts/shadow-check.sh [--duration S] [--runs N] [--quick] [--workers N]
#                           [--rate R] [--cells LIST] [--no-nginx]
#                           [--build-dir DIR] [--out FILE] [--keep]
#
# By default wrk is a closed loop (each connection sends its next request as
# soon as the last is answered), so the proxy runs at saturation and any CPU
# that mirroring costs shows as fewer requests/s and a longer queue (p99).
# --rate R paces wrk below saturation (each connection waits 50/R s between
# requests, about R req/s offered): the latency a mirror adds to the client
# then shows apart from its CPU cost.
#
# Runs are interleaved across cells (run 1 of every cell, then run 2, ...),
# with a fresh proxy per cell and run, so that drift of the machine hits every
# cell alike; the table shows medians. Everything runs on 127.0.0.1
# (ephemeral ports) with its configs in a temp dir; every process started is
# stopped by its PID at the end, on errors and on Ctrl-C; every wait and
# every load is bounded in time.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

duration=10
runs=3
workers=1
cells_opt=""
nginx_opt=1
build_dir="build-release"
out=""
keep=0
warmup=1
ready_timeout=10
conns=50
slow_ms=2000
rate=0
report_file=""

usage() {
  cat <<'EOF'
usage: scripts/shadow-check.sh [options]
  --duration S      seconds per wrk run (default 10)
  --runs N          runs per cell (default 3); the table shows medians
  --quick           1 run of 2 s per cell (smoke test)
  --workers N       Switchyard workers and NGINX worker processes (default 1)
  --rate R          pace wrk at about R req/s in all (each of the 50 connections
                    waits 50000/R ms between requests; default 0: closed loop,
                    as fast as answered)
  --cells LIST      cells to run, comma-separated (default all): none, 10-healthy,
                    100-healthy, 100-slow, 100-reset, 100-refused, nginx-none,
                    nginx-100-healthy, nginx-100-slow, nginx-100-reset; "none" and
                    "nginx-none" (the baselines of the ratios) are always added
  --no-nginx        leave out the NGINX cells (also when nginx is not installed)
  --build-dir DIR   where switchyard and switchyard-echo are (default build-release,
                    relative to the repository); built there (Release) if missing
  --out FILE        summary TSV (default DIR/bench-results/shadow-check-TIMESTAMP.tsv;
                    the per-run TSV goes next to it as *-runs.tsv)
  --keep            keep the temp dir (configs, logs, wrk outputs)
  --report FILE     measure nothing: print the tables of an earlier run from its
                    per-run TSV (*-runs.tsv; the summary TSV goes to --out if given)
exit status: 0 the run completed (whether or not the target is met; see the
table); 1 a cell could not be measured (the proxy did not start or died);
2 bad arguments or the set-up failed
EOF
}

log() { printf 'shadow-check: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 2
}
# shellcheck source-path=SCRIPTDIR source=lib/processes.sh
. "$repo/scripts/lib/processes.sh"
# shellcheck source-path=SCRIPTDIR source=lib/wrk.sh
. "$repo/scripts/lib/wrk.sh"

# report.py RUNS_TSV SUMMARY_TSV: the tables from the per-run TSV, and the
# summary TSV (medians per cell).
write_report_py() {
cat >"$tmp/report.py" <<'PY'
import csv, statistics, sys

runs_tsv, out = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(runs_tsv), delimiter="\t"))
order = []
by = {}
for r in rows:
    if r["cell"] not in by:
        order.append(r["cell"])
        by[r["cell"]] = []
    by[r["cell"]].append(r)

def num(v):
    try:
        return float(v)
    except ValueError:
        return None

def med(cell, col):
    v = [num(r[col]) for r in by.get(cell, []) if num(r[col]) is not None]
    return statistics.median(v) if v else None

def spread(cell, col):
    v = [num(r[col]) for r in by.get(cell, []) if num(r[col]) is not None]
    return (min(v), max(v)) if v else (None, None)

def counts(cell):
    # The median of each counter over the runs, "-" when not exported.
    per = {}
    for r in by[cell]:
        for kv in (r["shadow_counts"] or "-").split(","):
            if "=" in kv:
                k, v = kv.split("=", 1)
                per.setdefault(k, []).append(int(v))
    if not per:
        return "-"
    return " ".join("%s=%d" % (k, statistics.median(v)) for k, v in per.items() if statistics.median(v) > 0 or k in ("sent", "ok"))

def base_of(cell):
    return "nginx-none" if cell.startswith("nginx-") else "none"

def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b

def f(v, spec):
    return "-" if v is None else spec % v

def best(cell, col):
    # The cell's least disturbed run against its baseline's: min over runs
    # / min over runs. On a shared machine other jobs only ever add latency,
    # so the minima are the least noisy estimate of what each cell costs.
    return ratio(spread(cell, col)[0], spread(base_of(cell), col)[0])

with open(out, "w") as o:
    o.write("cell\truns\trps_median\trps_min\trps_max\tp50_us\tp99_us\tp99_min_us\tp99_max_us\terrors\t"
            "cpu_us_per_req\tshadow_cpu_ms\trps_ratio\tp99_ratio\tp99_ratio_best\tshadow_counts\treset_accepts\n")
    for c in order:
        lo, hi = spread(c, "rps")
        plo, phi = spread(c, "p99_us")
        o.write("\t".join([c, str(len(by[c])), f(med(c, "rps"), "%.0f"), f(lo, "%.0f"), f(hi, "%.0f"),
                           f(med(c, "p50_us"), "%.1f"), f(med(c, "p99_us"), "%.1f"), f(plo, "%.1f"), f(phi, "%.1f"),
                           "%d" % sum(int(r["errors"]) for r in by[c]), f(med(c, "cpu_us_per_req"), "%.2f"),
                           f(med(c, "shadow_cpu_ms"), "%.0f"),
                           f(ratio(med(c, "rps"), med(base_of(c), "rps")), "%.3f"),
                           f(ratio(med(c, "p99_us"), med(base_of(c), "p99_us")), "%.3f"),
                           f(best(c, "p99_us"), "%.3f"), counts(c), f(med(c, "reset_accepts"), "%.0f")]) + "\n")

print("%-18s %22s %7s %7s %7s %7s %7s %8s %9s %9s %10s" % (
    "cell", "req/s median (min-max)", "p50 ms", "p99 ms", "p99 min", "p99 max", "errors", "CPU/req", "rps ratio",
    "p99 ratio", "p99 best"))
for c in order:
    lo, hi = spread(c, "rps")
    plo, phi = spread(c, "p99_us")
    ms = lambda v: "-" if v is None else "%.2f" % (v / 1000)
    print("%-18s %22s %7s %7s %7s %7s %7d %8s %9s %9s %10s" % (
        c, "%s (%s-%s)" % (f(med(c, "rps"), "%.0f"), f(lo, "%.0f"), f(hi, "%.0f")),
        ms(med(c, "p50_us")), ms(med(c, "p99_us")), ms(plo), ms(phi),
        sum(int(r["errors"]) for r in by[c]), f(med(c, "cpu_us_per_req"), "%.1f"),
        f(ratio(med(c, "rps"), med(base_of(c), "rps")), "%.3f"),
        f(ratio(med(c, "p99_us"), med(base_of(c), "p99_us")), "%.3f"), f(best(c, "p99_us"), "%.3f")))
print("(CPU/req: the proxy's CPU us per client request; ratios: of the medians, to 'none' / 'nginx-none'")
print(" of the same run; p99 best: the lowest p99 over runs / the baseline's lowest)")

print()
print("mirrored traffic per cell (medians per run):")
print("%-18s %16s %12s  %s" % ("cell", "shadow CPU ms", "resets", "Switchyard shadow counts (admin /metrics)"))
exported = any(counts(c) != "-" for c in order if not c.startswith("nginx-"))
for c in order:
    cnt = counts(c)
    if c.startswith("nginx-"):
        cnt = "(nginx)"
    elif cnt == "-":
        cnt = "not exported by this build" if c != "none" else "-"
    print("%-18s %16s %12s  %s" % (c, f(med(c, "shadow_cpu_ms"), "%.0f"),
                                  f(med(c, "reset_accepts"), "%.0f"), cnt))
print("(shadow CPU ms: CPU time of the shadow upstream process during the measured run; resets:")
print(" connections the reset listener accepted and reset)")

print()
print("target: client p99 with a slow or broken shadow within 1.1x of no mirroring (same run)")
print("  (ok: the ratio of the medians <= 1.1; noise: above, but the least disturbed runs' ratio <= 1.1;")
print("   MISS: both above 1.1)")
plo, phi = spread("none", "p99_us")
if plo and phi:
    print("  run-to-run spread of 'none' p99: %.2f-%.2f ms over %d runs" % (plo / 1000, phi / 1000, len(by["none"])))
for c in ("100-slow", "100-reset", "100-refused"):
    if c not in by or "none" not in by:
        continue
    r = ratio(med(c, "p99_us"), med("none", "p99_us"))
    rb = best(c, "p99_us")
    if r is None or rb is None:
        verdict = "n/a"
    elif r <= 1.1:
        verdict = "ok"
    elif rb <= 1.1:
        verdict = "noise"
    else:
        verdict = "MISS"
    print("  %-12s p99 ratio %s (best %s): %s" % (c, f(r, "%.3f"), f(rb, "%.3f"), verdict))
for c in ("nginx-100-slow", "nginx-100-reset"):
    if c in by and "nginx-none" in by:
        print("  %-12s p99 ratio %s (NGINX mirror, for contrast)" % (c, f(ratio(med(c, "p99_us"), med("nginx-none", "p99_us")), "%.3f")))
PY
}

need_value() { [ $# -ge 2 ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) need_value "$@"; duration=$2; shift 2 ;;
    --duration=*) duration=${1#*=}; shift ;;
    --runs) need_value "$@"; runs=$2; shift 2 ;;
    --runs=*) runs=${1#*=}; shift ;;
    --quick) duration=2; runs=1; shift ;;
    --workers) need_value "$@"; workers=$2; shift 2 ;;
    --workers=*) workers=${1#*=}; shift ;;
    --rate) need_value "$@"; rate=$2; shift 2 ;;
    --rate=*) rate=${1#*=}; shift ;;
    --cells) need_value "$@"; cells_opt=$2; shift 2 ;;
    --cells=*) cells_opt=${1#*=}; shift ;;
    --no-nginx) nginx_opt=0; shift ;;
    --build-dir) need_value "$@"; build_dir=$2; shift 2 ;;
    --build-dir=*) build_dir=${1#*=}; shift ;;
    --out) need_value "$@"; out=$2; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    --keep) keep=1; shift ;;
    --report) need_value "$@"; report_file=$2; shift 2 ;;
    --report=*) report_file=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
if [ -n "$report_file" ]; then
  [ -f "$report_file" ] || die "--report: $report_file not found"
  command -v python3 >/dev/null || die "python3 not found (scripts/install-deps.sh installs it)"
  tmp=$(mktemp -d /tmp/switchyard-shadow.XXXXXX)
  trap_cleanup
  write_report_py
  echo "Dark launch: the tables of $report_file"
  echo
  python3 "$tmp/report.py" "$report_file" "${out:-$tmp/summary.tsv}"
  exit 0
fi
count_ok() { [[ $1 =~ ^[1-9][0-9]*$ ]] && [ "$1" -le "$2" ]; }
count_ok "$duration" 600 || die "--duration expects 1..600 seconds"
count_ok "$runs" 100 || die "--runs expects 1..100"
count_ok "$workers" 64 || die "--workers expects 1..64"
[ "$rate" = 0 ] || count_ok "$rate" 1000000 || die "--rate expects req/s >= 1 (0: closed loop)"

sy_cells=(none 10-healthy 100-healthy 100-slow 100-reset 100-refused)
nginx_cells=(nginx-none nginx-100-healthy nginx-100-slow nginx-100-reset)
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh installs it)"
done
if [ "$nginx_opt" -eq 1 ] && ! command -v nginx >/dev/null; then
  log "nginx not found: the NGINX cells are left out"
  nginx_opt=0
fi
cells=()
if [ -z "$cells_opt" ]; then
  cells=("${sy_cells[@]}")
  [ "$nginx_opt" -eq 1 ] && cells+=("${nginx_cells[@]}")
else
  IFS=, read -r -a wanted <<<"$cells_opt"
  for want in "${wanted[@]}"; do
    case " ${sy_cells[*]} ${nginx_cells[*]} " in
      *" $want "*) ;;
      *) die "--cells: unknown cell '$want' (${sy_cells[*]} ${nginx_cells[*]})" ;;
    esac
    if [[ $want == nginx-* ]] && [ "$nginx_opt" -eq 0 ]; then
      die "--cells: $want needs nginx (and no --no-nginx)"
    fi
  done
  for item in "${sy_cells[@]}" "${nginx_cells[@]}"; do # the table's order, baselines added
    for want in "${wanted[@]}"; do
      if [ "$want" = "$item" ] || { [ "$item" = none ] && [[ $want != nginx-* ]]; } ||
        { [ "$item" = nginx-none ] && [[ $want == nginx-* ]]; }; then
        cells+=("$item")
        break
      fi
    done
  done
fi

case "$build_dir" in /*) ;; *) build_dir="$repo/$build_dir" ;; esac
switchyard_bin="$build_dir/switchyard"
echo_bin="$build_dir/switchyard-echo"
if [ ! -x "$switchyard_bin" ] || [ ! -x "$echo_bin" ]; then
  mkdir -p "$build_dir"
  build_log="$build_dir/shadow-check-build.log"
  log "building Release in $build_dir (log: $build_log)"
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release ${launcher[@]+"${launcher[@]}"} \
    >"$build_log" 2>&1 || { tail -n 20 "$build_log" >&2; die "cmake configure failed"; }
  cmake --build "$build_dir" -j2 --target switchyard switchyard-echo >>"$build_log" 2>&1 ||
    { tail -n 30 "$build_log" >&2; die "the build failed"; }
fi
for bin in "$switchyard_bin" "$echo_bin"; do
  [ -x "$bin" ] || die "$bin not found"
done

tmp=$(mktemp -d /tmp/switchyard-shadow.XXXXXX)
chmod 755 "$tmp" # nginx workers may run as another user
keep_tmp=$keep
trap_cleanup

# ---------------------------------------------------------------- upstreams --

# The broken shadow: accepts, reads what the proxy sends, and resets the
# connection (SO_LINGER 0) without a byte of answer. Prints "listening
# 127.0.0.1:PORT" like switchyard-echo (so start_echo can start it) and, on
# SIGUSR1, "accepted N" (connections so far).
cat >"$tmp/reset-listener.py" <<'PY'
#!/usr/bin/env python3
import selectors, signal, socket, struct, sys

accepted = 0
def report(*_):
    print("accepted %d" % accepted, flush=True)
signal.signal(signal.SIGUSR1, report)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1024)
ls.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(ls, selectors.EVENT_READ)
print("listening 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
linger0 = struct.pack("ii", 1, 0)
while True:
    for key, _ in sel.select():
        if key.fileobj is ls:
            try:
                c, _ = ls.accept()
            except BlockingIOError:
                continue
            accepted += 1
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ)
        else:
            c = key.fileobj
            sel.unregister(c)
            try:
                c.recv(65536)
            except OSError:
                pass
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger0)
            c.close()
PY
chmod +x "$tmp/reset-listener.py"

start_echo "$tmp/primary.log" "$echo_bin" primary --threads 1
primary_port=$echo_port
start_echo "$tmp/shadow-healthy.log" "$echo_bin" shadow --threads 1
healthy_pid=$echo_pid healthy_port=$echo_port
start_echo "$tmp/shadow-slow.log" "$echo_bin" slow --threads 1 --delay-ms "$slow_ms"
slow_pid=$echo_pid slow_port=$echo_port
start_echo "$tmp/shadow-reset.log" "$tmp/reset-listener.py" reset
reset_pid=$echo_pid reset_port=$echo_port
# Nothing listens here: the port was free a moment ago (checked again before
# each run of the cell).
refused_port=$(free_port)
log "upstreams on 127.0.0.1: primary $primary_port, healthy $healthy_port, slow ($slow_ms ms) $slow_port, reset $reset_port, refused $refused_port"

# ------------------------------------------------------------------ proxies --

cell_shadow_port() {
  case "$1" in
    *healthy | none | nginx-none) echo "$healthy_port" ;;
    *slow) echo "$slow_port" ;;
    *reset) echo "$reset_port" ;;
    *refused) echo "$refused_port" ;;
  esac
}
cell_shadow_pid() {
  case "$1" in
    *healthy | none | nginx-none) echo "$healthy_pid" ;;
    *slow) echo "$slow_pid" ;;
    *reset) echo "$reset_pid" ;;
    *refused) echo "" ;;
  esac
}
cell_percent() {
  case "$1" in
    none | nginx-none) echo 0 ;;
    10-*) echo 10 ;;
    *) echo 100 ;;
  esac
}

# start_switchyard CELL DIR: sets proxy_pid, proxy_port, admin_port.
start_switchyard() {
  local cell=$1 dir=$2 shadow_toml="" percent
  percent=$(cell_percent "$cell")
  proxy_port=$(free_port)
  admin_port=$(free_port)
  while [ "$admin_port" = "$proxy_port" ]; do admin_port=$(free_port); done
  if [ "$percent" != 0 ]; then
    shadow_toml=$(printf '[shadow]\npool = "shadow"\npercent = %s.0\nsample = "request"\n' "$percent")
  fi
  cat >"$dir/switchyard.toml" <<EOF
[server]
workers = $workers
state_file = "$dir/state.json"

[log]
level = "warn"
access_log = "off"
error_log = "$dir/error.log"
audit_log = "$dir/audit.log"

[[listeners]]
address = "127.0.0.1:$proxy_port"

[control]
socket = "$dir/control.sock"

[admin]
address = "127.0.0.1:$admin_port"

[routing]
active = "blue"

[pools.blue]
servers = [{ address = "127.0.0.1:$primary_port" }]

[pools.shadow]
servers = [{ address = "127.0.0.1:$(cell_shadow_port "$cell")" }]

$shadow_toml
EOF
  start_bg "$dir/switchyard.out" "$switchyard_bin" -c "$dir/switchyard.toml"
  proxy_pid=$started_pid
}

# start_nginx CELL DIR: sets proxy_pid, proxy_port. The mirror location is
# given the same budget as Switchyard's shadow (connect 3 s, 5 s overall).
start_nginx() {
  local cell=$1 dir=$2 mirror="mirror off;" user_line=""
  proxy_port=$(free_port)
  [ "$(cell_percent "$cell")" = 100 ] && mirror="mirror /_shadow;"
  # nginx as root would switch its workers to "nobody", who cannot write here.
  if [ "$(id -u)" -eq 0 ]; then user_line="user $(id -un) $(id -gn);"; fi
  cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $workers;
$user_line
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;

events {
    worker_connections 8192;
}

http {
    access_log off;
    client_body_temp_path $dir/nginx-client-body;
    proxy_temp_path $dir/nginx-proxy;
    fastcgi_temp_path $dir/nginx-fastcgi;
    uwsgi_temp_path $dir/nginx-uwsgi;
    scgi_temp_path $dir/nginx-scgi;

    keepalive_timeout 60s;
    keepalive_requests 100000000;

    upstream primary {
        server 127.0.0.1:$primary_port;
        keepalive 256;
        keepalive_requests 100000000;
        keepalive_timeout 60s;
    }
    upstream shadow {
        server 127.0.0.1:$(cell_shadow_port "$cell");
        keepalive 256;
        keepalive_requests 100000000;
        keepalive_timeout 60s;
    }

    server {
        listen 127.0.0.1:$proxy_port;
        location / {
            $mirror
            proxy_pass http://primary;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location = /_shadow {
            internal;
            proxy_pass http://shadow\$request_uri;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Switchyard-Shadow 1;
            proxy_connect_timeout 3s;
            proxy_send_timeout 5s;
            proxy_read_timeout 5s;
        }
    }
}
EOF
  start_bg "$dir/nginx.out" nginx -p "$dir/" -e "$dir/nginx-error.log" -c "$dir/nginx.conf"
  proxy_pid=$started_pid
}

clk_tck=$(getconf CLK_TCK)

# ---------------------------------------------------------------------- wrk --

# --rate: wrk's delay() hook, the pause (ms) before each connection's next
# request.
pace_args=()
pace_note="closed loop: each connection sends its next request when the last is answered"
if [ "$rate" != 0 ]; then
  pace_ms=$(((conns * 1000 + rate / 2) / rate))
  [ "$pace_ms" -ge 1 ] || pace_ms=1
  printf 'function delay()\n  return %d\nend\n' "$pace_ms" >"$tmp/pace.lua"
  pace_args=(-s "$tmp/pace.lua")
  pace_note="paced: each connection waits $pace_ms ms between requests (about $((conns * 1000 / pace_ms)) req/s offered)"
fi

# run_wrk URL SECONDS OUTFILE [WRK ARGS...]: wrk in the background, waited
# for (so that Ctrl-C runs the trap at once), bounded by timeout even if it
# hangs. Its request timeout is 10 s (its default, 2 s, would leave NGINX's
# delayed answers out of the latency histogram).
run_wrk() {
  local url=$1 secs=$2 outfile=$3
  shift 3
  start_bg "$outfile" timeout $((secs + 30)) wrk -t2 -c"$conns" -d"$secs"s --timeout 10s --latency "$@" "$url"
  wait "$started_pid" || true
  forget_pid "$started_pid"
}

# Switchyard's shadow counts from its admin /metrics, "result=N,..." (in the
# order of DESIGN.md), or "-" when this build does not export them.
shadow_counts() {
  curl -s -m 2 "http://127.0.0.1:$1/metrics" 2>/dev/null | awk '
    /^switchyard_shadow_requests_total\{/ {
      r = $0; sub(/.*result="/, "", r); sub(/".*/, "", r); n[r] += $NF; seen = 1 }
    END {
      if (!seen) { print "-"; exit }
      split("sent ok error timeout dropped_overload skipped_method skipped_body", order, " ")
      s = ""
      for (i = 1; i <= 7; i++) { s = s (i > 1 ? "," : "") order[i] "=" (n[order[i]] + 0); delete n[order[i]] }
      for (r in n) s = s "," r "=" n[r]
      print s }'
}

# The reset listener's accepted connections so far (SIGUSR1, then its line).
reset_accepts() {
  local before after deadline
  before=$(grep -c '^accepted ' "$tmp/shadow-reset.log" || true)
  kill -USR1 "$reset_pid" 2>/dev/null || { echo "-"; return; }
  deadline=$(($(now_ms) + 2000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    after=$(grep -c '^accepted ' "$tmp/shadow-reset.log" || true)
    if [ "$after" -gt "$before" ]; then
      sed -n 's/^accepted //p' "$tmp/shadow-reset.log" | tail -n 1
      return
    fi
    sleep 0.02
  done
  echo "-"
}

port_refused() {
  python3 -c 'import socket, sys
s = socket.socket()
s.settimeout(1)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)
sys.exit(1)' "$1"
}

# -------------------------------------------------------------------- main --

stamp=$(date +%Y%m%d-%H%M%S)
[ -n "$out" ] || out="$build_dir/bench-results/shadow-check-$stamp.tsv"
mkdir -p "$(dirname "$out")"
runs_tsv="${out%.tsv}-runs.tsv"
printf 'cell\trun\trps\trequests\terrors\tp50_us\tp99_us\tcpu_us_per_req\tshadow_cpu_ms\terror_log_lines\tshadow_counts\treset_accepts\n' >"$runs_tsv"

read -r load1 _ </proc/loadavg
log "$(nproc) cores, load average $load1; $runs run(s) x ${duration}s per cell; workers $workers; wrk $pace_note; cells ${cells[*]}; temp dir $tmp"
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "warning: load average $load1 on $(nproc) cores before starting; something else is running and the numbers will be noisy"
fi

failed=0
for ((run = 1; run <= runs; run++)); do
  for cell in "${cells[@]}"; do
    dir="$tmp/$cell-$run"
    mkdir -p "$dir"
    chmod 755 "$dir"
    if [ "$cell" = 100-refused ] && ! port_refused "$refused_port"; then
      log "$cell run $run: 127.0.0.1:$refused_port no longer refuses connections (something took it); skipped"
      failed=1
      continue
    fi
    case "$cell" in
      nginx-*) start_nginx "$cell" "$dir"; logfile="$dir/nginx-error.log" ;;
      *) start_switchyard "$cell" "$dir"; logfile="$dir/error.log" ;;
    esac
    url="http://127.0.0.1:$proxy_port/"
    if ! wait_answer "$proxy_pid" "$url" primary "$ready_timeout"; then
      log "$cell run $run: the proxy did not answer through to the primary within ${ready_timeout}s. Its logs:"
      tail -n 20 "$dir"/*.out "$logfile" >&2 2>/dev/null || true
      stop_pid "$proxy_pid"
      failed=1
      continue
    fi
    run_wrk "$url" "$warmup" "$dir/warmup.txt"
    mapfile -t tree < <(tree_pids "$proxy_pid")
    shadow_pid=$(cell_shadow_pid "$cell")
    cpu0=$(cpu_ticks "${tree[@]}")
    shadow0=0
    [ -n "$shadow_pid" ] && shadow0=$(cpu_ticks "$shadow_pid")
    accepts0=""
    [[ $cell == *reset ]] && accepts0=$(reset_accepts)
    run_wrk "$url" "$duration" "$dir/wrk.txt" ${pace_args[@]+"${pace_args[@]}"}
    cpu1=$(cpu_ticks "${tree[@]}")
    shadow1=0
    [ -n "$shadow_pid" ] && shadow1=$(cpu_ticks "$shadow_pid")
    accepts="-"
    if [[ $cell == *reset ]]; then
      accepts1=$(reset_accepts)
      if [ "$accepts0" != - ] && [ "$accepts1" != - ]; then accepts=$((accepts1 - accepts0)); fi
    fi
    counts="-"
    [[ $cell == nginx-* ]] || counts=$(shadow_counts "$admin_port")
    if ! alive "$proxy_pid"; then
      log "$cell run $run: the proxy exited during the run; this run is void. Its logs:"
      tail -n 20 "$dir"/*.out "$logfile" >&2 2>/dev/null || true
      failed=1
      continue
    fi
    stop_pid "$proxy_pid" 10
    read -r rps requests errors p50 p99 <<<"$(parse_wrk "$dir/wrk.txt")"
    cpu_per_req=$(awk -v t=$((cpu1 - cpu0)) -v hz="$clk_tck" -v n="$requests" \
      'BEGIN { if (n > 0) printf "%.2f", t * 1000000 / hz / n; else print "nan" }')
    shadow_cpu_ms=$(((shadow1 - shadow0) * 1000 / clk_tck))
    errlog=$(wc -l <"$logfile" 2>/dev/null || echo 0)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cell" "$run" "$rps" "$requests" "$errors" \
      "$p50" "$p99" "$cpu_per_req" "$shadow_cpu_ms" "$errlog" "$counts" "$accepts" >>"$runs_tsv"
    log "$cell run $run/$runs: $rps req/s, p50 ${p50}us, p99 ${p99}us, ${cpu_per_req}us proxy CPU/req, errors $errors, error-log lines $errlog, shadow upstream CPU ${shadow_cpu_ms} ms${counts:+, counts $counts}${accepts:+, resets $accepts}"
  done
done

# ------------------------------------------------------------------ report --

write_report_py

echo
echo "Dark launch: client latency and throughput with mirroring. $runs run(s) x ${duration}s per cell,"
echo "wrk -t2 -c$conns --latency (runs interleaved across cells, a fresh proxy per cell and run);"
echo "wrk $pace_note;"
echo "Switchyard workers=$workers$(if [ "$nginx_opt" -eq 1 ]; then echo ", NGINX worker_processes=$workers ($(nginx -v 2>&1 | sed 's|.*nginx/||'))"; fi);"
echo "upstreams switchyard-echo --threads 1 (primary; shadow: healthy, --delay-ms $slow_ms), a reset listener,"
echo "a refused port; $(nproc) cores, load average at start $load1, $(date -u +%Y-%m-%dT%H:%MZ), switchyard $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
python3 "$tmp/report.py" "$runs_tsv" "$out"
if [ $((duration * 1000)) -lt $((3 * slow_ms)) ] && case " ${cells[*]} " in *" nginx-100-slow "*) true ;; *) false ;; esac then
  echo "(nginx-100-slow: a run of ${duration}s is too short to show NGINX's delay: each fresh connection's"
  echo " first request is answered at once, the next ones wait ${slow_ms} ms; use --duration 10 or more)"
fi
echo
echo "summary TSV: $out"
echo "per-run TSV: $runs_tsv"
exit "$failed"
