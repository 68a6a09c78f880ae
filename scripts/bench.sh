#!/usr/bin/env bash
# Benchmarks Switchyard against HAProxy and NGINX as equivalent reverse proxies
# in front of one switchyard-echo upstream, all on 127.0.0.1, driven by wrk:
# plain HTTP cells, and TLS cells (keep-alive over TLS, full handshakes per
# second) with one throwaway ECDSA P-256 certificate made at run time; and
# the metrics-cost cell (scripts/bench-metrics.sh): Switchyard's instructions
# per request with its metrics on and off, counted by callgrind; and the
# syscalls cell (scripts/bench-syscalls.sh): system calls per proxied
# keep-alive request of each proxy, counted by perf stat on the system call
# tracepoints over a fixed count; and the idle-conns cell
# (scripts/bench-idle.sh): each proxy's memory per idle keep-alive client
# connection, and a new client's latency while 10000 are held; and the
# http2 cell (scripts/bench-h2.sh): h2load against each proxy's HTTP/2
# frontends (h2c and h2 over TLS, small and 16 KiB responses). See
# bench/README.md for what is measured and what the targets are.
#
#   scripts/bench.sh [--duration S] [--runs N] [--quick] [--workers 1,2]
#                    [--only switchyard|haproxy|nginx[,...]] [--cells CELL[,...]]
#                    [--metrics-requests N] [--syscalls-requests N] [--idle-conns N]
#                    [--build-dir DIR] [--baseline DIR] [--out FILE]
#
# Every process it starts runs in the foreground of its own config in a temp
# dir, on ephemeral ports, and is stopped by its PID at the end, on errors and
# on Ctrl-C. The system's haproxy/nginx services are never touched.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

duration=5
runs=5
workers_list="1,2"
only=""
cells_opt=""
build_dir="build-release"
baseline_dir=""
out=""
quick=0
metrics_requests=""
syscalls_requests=""
idle_conns=10000
warmup=1
ready_timeout=5
switchyard_max_connections="" # server.max_connections in start_proxy; empty: Switchyard's default
haproxy_global_extra=""       # lines added to HAProxy's global section in start_proxy

usage() {
  cat <<'EOF'
usage: scripts/bench.sh [options]
  --duration S      seconds per wrk run (default 5)
  --runs N          runs per cell and proxy (default 5)
  --quick           1 run of 2 s per cell (smoke test)
  --workers LIST    worker counts to run the matrix with (default 1,2)
  --only LIST       switchyard, haproxy and/or nginx, comma-separated (default all)
  --cells LIST      cells to run, comma-separated (default all): small-c1, small-c50,
                    small-c256, 16k-c50, tls-keepalive-c50, tls-handshake-c50,
                    metrics-cost, syscalls, idle-conns, http2; also "plain" (the
                    first four) and "tls" (the two TLS cells)
  --metrics-requests N
                    requests per callgrind run in the metrics-cost cell
                    (default 20000; 5000 with --quick)
  --syscalls-requests N
                    requests per counted run in the syscalls cell
                    (default 20000; 5000 with --quick)
  --idle-conns N    idle keep-alive connections held in the idle-conns cell
                    (default 10000)
  --build-dir DIR   where switchyard, switchyard-echo and switchyard-load are (default build-release;
                    relative to the repository); built there (Release) if missing
  --baseline DIR    also run the switchyard binary in DIR (another build, e.g. of the
                    commit before a change) as "switchyard-base", interleaved with the
                    others, and print this build / baseline ratios: before and after
                    measured in the same run
  --out FILE        summary TSV (default DIR/bench-results/bench-TIMESTAMP.tsv;
                    the per-run TSV goes next to it as *-runs.tsv)
  --same-work       HAProxy and NGINX also add what Switchyard adds by default
                    (X-Forwarded-*, Forwarded, X-Request-Id, Via, the assignment
                    cookie; scripts/lib/peers.sh), so that all do the same work
EOF
}

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
# shellcheck source-path=SCRIPTDIR source=lib/processes.sh
. "$repo/scripts/lib/processes.sh"
# shellcheck source-path=SCRIPTDIR source=lib/wrk.sh
. "$repo/scripts/lib/wrk.sh"
# shellcheck source-path=SCRIPTDIR source=lib/peers.sh
. "$repo/scripts/lib/peers.sh"

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --duration=*) duration=${1#*=}; shift ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --runs=*) runs=${1#*=}; shift ;;
    --quick) duration=2; runs=1; quick=1; shift ;;
    --metrics-requests) metrics_requests=${2:?--metrics-requests needs a value}; shift 2 ;;
    --metrics-requests=*) metrics_requests=${1#*=}; shift ;;
    --syscalls-requests) syscalls_requests=${2:?--syscalls-requests needs a value}; shift 2 ;;
    --syscalls-requests=*) syscalls_requests=${1#*=}; shift ;;
    --idle-conns) idle_conns=${2:?--idle-conns needs a value}; shift 2 ;;
    --idle-conns=*) idle_conns=${1#*=}; shift ;;
    --workers) workers_list=${2:?--workers needs a value}; shift 2 ;;
    --workers=*) workers_list=${1#*=}; shift ;;
    --only) only=${2:?--only needs a value}; shift 2 ;;
    --only=*) only=${1#*=}; shift ;;
    --cells) cells_opt=${2:?--cells needs a value}; shift 2 ;;
    --cells=*) cells_opt=${1#*=}; shift ;;
    --build-dir) build_dir=${2:?--build-dir needs a value}; shift 2 ;;
    --build-dir=*) build_dir=${1#*=}; shift ;;
    --baseline) baseline_dir=${2:?--baseline needs a value}; shift 2 ;;
    --baseline=*) baseline_dir=${1#*=}; shift ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    --same-work) peer_same_work=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done

[[ $duration =~ ^[1-9][0-9]*$ ]] || die "--duration expects whole seconds >= 1"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs expects a number >= 1"
[[ $workers_list =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--workers expects e.g. 1,2"
if [ -z "$metrics_requests" ]; then
  metrics_requests=20000
  [ "$quick" -eq 1 ] && metrics_requests=5000
fi
[[ $metrics_requests =~ ^[1-9][0-9]*$ ]] || die "--metrics-requests expects a number >= 1"
if [ -z "$syscalls_requests" ]; then
  syscalls_requests=20000
  [ "$quick" -eq 1 ] && syscalls_requests=5000
fi
[[ $syscalls_requests =~ ^[1-9][0-9]*$ ]] || die "--syscalls-requests expects a number >= 1"
[[ $idle_conns =~ ^[1-9][0-9]*$ ]] || die "--idle-conns expects a number >= 1"
IFS=, read -r -a worker_counts <<<"$workers_list"

want_switchyard=1 want_haproxy=1 want_nginx=1
if [ -n "$only" ]; then
  want_switchyard=0 want_haproxy=0 want_nginx=0
  IFS=, read -r -a only_items <<<"$only"
  for item in "${only_items[@]}"; do
    case "$item" in
      switchyard) want_switchyard=1 ;;
      haproxy) want_haproxy=1 ;;
      nginx) want_nginx=1 ;;
      *) die "--only: unknown proxy '$item' (switchyard, haproxy, nginx)" ;;
    esac
  done
fi

plain_cells=(small-c1 small-c50 small-c256 16k-c50)
tls_cells=(tls-keepalive-c50 tls-handshake-c50)
cells=()             # the wrk cells
want_metrics_cost=0  # the metrics-cost cell (callgrind, scripts/bench-metrics.sh)
metrics_cost_asked=0 # named in --cells (else a missing tool skips it with a warning)
want_syscalls=0      # the syscalls cell (perf stat, scripts/bench-syscalls.sh)
syscalls_asked=0     # named in --cells
want_idle=0          # the idle-conns cell (scripts/bench-idle.sh)
idle_asked=0         # named in --cells
want_h2=0            # the http2 cell (h2load, scripts/bench-h2.sh)
h2_asked=0           # named in --cells
if [ -z "$cells_opt" ]; then
  cells=("${plain_cells[@]}" "${tls_cells[@]}")
  want_metrics_cost=1
  want_syscalls=1
  want_idle=1
  want_h2=1
else
  IFS=, read -r -a cell_items <<<"$cells_opt"
  for item in "${plain_cells[@]}" "${tls_cells[@]}"; do # keep the matrix order
    for want in "${cell_items[@]}"; do
      if [ "$want" = "$item" ] || { [ "$want" = plain ] && [[ $item != tls-* ]]; } ||
        { [ "$want" = tls ] && [[ $item == tls-* ]]; }; then
        cells+=("$item")
        break
      fi
    done
  done
  for want in "${cell_items[@]}"; do
    case " plain tls metrics-cost syscalls idle-conns http2 ${plain_cells[*]} ${tls_cells[*]} " in
      *" $want "*) ;;
      *) die "--cells: unknown cell '$want' (${plain_cells[*]} ${tls_cells[*]} metrics-cost syscalls idle-conns http2, plain, tls)" ;;
    esac
    if [ "$want" = metrics-cost ]; then want_metrics_cost=1 metrics_cost_asked=1; fi
    if [ "$want" = syscalls ]; then want_syscalls=1 syscalls_asked=1; fi
    if [ "$want" = idle-conns ]; then want_idle=1 idle_asked=1; fi
    if [ "$want" = http2 ]; then want_h2=1 h2_asked=1; fi
  done
fi
[ ${#cells[@]} -gt 0 ] || [ "$want_metrics_cost" -eq 1 ] || [ "$want_syscalls" -eq 1 ] ||
  [ "$want_idle" -eq 1 ] || [ "$want_h2" -eq 1 ] || die "--cells: no cell selected"
want_tls=0
for cell in "${cells[@]}"; do if [[ $cell == tls-* ]]; then want_tls=1; fi; done

case "$build_dir" in /*) ;; *) build_dir="$repo/$build_dir" ;; esac
echo_bin="$build_dir/switchyard-echo"
switchyard_bin="$build_dir/switchyard"
load_bin="$build_dir/switchyard-load"
baseline_bin=""
if [ -n "$baseline_dir" ]; then
  case "$baseline_dir" in /*) ;; *) baseline_dir="$repo/$baseline_dir" ;; esac
  baseline_bin="$baseline_dir/switchyard"
  [ -x "$baseline_bin" ] || die "--baseline: $baseline_bin not found"
fi

for tool in curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh installs it)"
done
# The syscalls cell needs perf and the kernel's system call tracepoints
# (tracefs, perf_event_paranoid): tried once on `true`.
if [ "$want_syscalls" -eq 1 ]; then
  if ! command -v perf >/dev/null; then
    syscalls_why="perf not found (scripts/install-deps.sh installs it)"
  elif ! syscalls_why=$(perf stat -x, -o /dev/null -e raw_syscalls:sys_enter \
    -e raw_syscalls:sys_exit --filter 'ret < 0' true 2>&1); then
    syscalls_why="perf cannot count the system call tracepoints here: $(head -n 3 <<<"$syscalls_why")"
  else
    syscalls_why=""
  fi
  if [ -n "$syscalls_why" ]; then
    [ "$syscalls_asked" -eq 1 ] && die "$syscalls_why; the syscalls cell cannot run"
    log "warning: $syscalls_why; the syscalls cell is skipped"
    want_syscalls=0
  fi
fi
if [ ${#cells[@]} -gt 0 ]; then
  command -v wrk >/dev/null || die "wrk not found (scripts/install-deps.sh installs it)"
fi
if [ ${#cells[@]} -gt 0 ] || [ "$want_syscalls" -eq 1 ] || [ "$want_idle" -eq 1 ]; then
  if [ "$want_haproxy" -eq 1 ]; then
    command -v haproxy >/dev/null || die "haproxy not found (scripts/install-deps.sh installs it)"
  fi
  if [ "$want_nginx" -eq 1 ]; then
    command -v nginx >/dev/null || die "nginx not found (scripts/install-deps.sh installs it)"
  fi
fi
if [ "$want_metrics_cost" -eq 1 ] && [ "$want_switchyard" -eq 0 ]; then
  [ "$metrics_cost_asked" -eq 1 ] && log "metrics-cost measures Switchyard only, which --only leaves out; skipped"
  want_metrics_cost=0
fi
if [ "$want_metrics_cost" -eq 1 ]; then
  for tool in valgrind callgrind_annotate; do
    command -v "$tool" >/dev/null && continue
    [ "$metrics_cost_asked" -eq 1 ] && die "$tool not found (scripts/install-deps.sh installs it; the metrics-cost cell needs it)"
    log "warning: $tool not found (scripts/install-deps.sh installs it); the metrics-cost cell is skipped"
    want_metrics_cost=0
    break
  done
fi
# The http2 cell needs h2load (nghttp2-client).
if [ "$want_h2" -eq 1 ] && ! command -v h2load >/dev/null; then
  [ "$h2_asked" -eq 1 ] && die "h2load not found (scripts/install-deps.sh installs nghttp2-client)"
  log "warning: h2load not found (scripts/install-deps.sh installs nghttp2-client); the http2 cell is skipped"
  want_h2=0
fi
[ ${#cells[@]} -gt 0 ] || [ "$want_metrics_cost" -eq 1 ] || [ "$want_syscalls" -eq 1 ] ||
  [ "$want_idle" -eq 1 ] || [ "$want_h2" -eq 1 ] || die "nothing left to run"
# shellcheck source=scripts/bench-idle.sh
source "$repo/scripts/bench-idle.sh"
if [ "$want_idle" -eq 1 ] && ! ic_fd_possible "$(ic_fd_need)"; then
  # Every proxy of the cell, and its client, holds N connections at once.
  msg="--idle-conns $idle_conns needs $(ic_fd_need) descriptors per process; the hard limit is $(ulimit -H -n) (ulimit -Hn; lower --idle-conns or raise it)"
  [ "$idle_asked" -eq 1 ] && die "$msg"
  log "warning: $msg; the idle-conns cell is skipped"
  want_idle=0
fi
if [ "$want_tls" -eq 1 ]; then
  command -v openssl >/dev/null || die "openssl not found (the TLS cells make their certificate with it)"
  command -v cc >/dev/null || die "cc not found (the TLS cells build a small wrk preload with it)"
fi

# ---------------------------------------------------------------- processes --

tmp=$(mktemp -d /tmp/switchyard-bench.XXXXXX)
chmod 755 "$tmp" # nginx workers may run as another user
mkfifo "$tmp/never"
trap_cleanup

# Resident set size in KiB, summed over the given PIDs, into rss_total (no
# subshell, so that the sampler below never has a child to orphan).
rss_total=0
rss_kib() {
  local p resident _
  rss_total=0
  for p in "$@"; do
    read -r _ resident _ 2>/dev/null <"/proc/$p/statm" || continue
    rss_total=$((rss_total + resident * page_kib))
  done
}

# Appends each new largest RSS (KiB) to $1, sampling every 0.2 s until killed
# (appending one short line is one write, so a kill never leaves it torn).
# Waits with read -t on a FIFO that never gets data: no sleep child either.
sample_rss() {
  local outfile=$1 max=0 fd
  shift
  exec {fd}<>"$tmp/never"
  while :; do
    rss_kib "$@"
    if [ "$rss_total" -gt "$max" ]; then
      max=$rss_total
      echo "$max" >>"$outfile"
    fi
    read -r -t 0.2 -u "$fd" _ || true
  done
}

page_kib=$(($(getconf PAGESIZE) / 1024))
clk_tck=$(getconf CLK_TCK)
per_request() { # AMOUNT REQUESTS [SCALE] -> AMOUNT * SCALE / REQUESTS
  awk -v a="$1" -v n="$2" -v k="${3:-1}" 'BEGIN { if (n > 0) printf "%.2f", a * k / n; else print "nan" }'
}
ticks_per_request() { # TICKS REQUESTS -> microseconds per request
  per_request "$1" "$2" "$((1000000 / clk_tck))"
}

# ------------------------------------------------------------------- build --

need_switchyard=$want_switchyard
[ "$want_h2" -eq 1 ] && need_switchyard=1 # bench-h2.sh runs all three proxies
if [ ! -x "$echo_bin" ] || { [ "$need_switchyard" -eq 1 ] && [ ! -x "$switchyard_bin" ]; } ||
  { { [ "$want_metrics_cost" -eq 1 ] || [ "$want_syscalls" -eq 1 ]; } && [ ! -x "$load_bin" ]; }; then
  mkdir -p "$build_dir"
  build_log="$build_dir/bench-build.log"
  log "building Release in $build_dir (log: $build_log)"
  if ! cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_TESTS=OFF \
    >"$build_log" 2>&1; then
    tail -n 20 "$build_log" >&2
    [ -x "$echo_bin" ] || die "cmake configure failed"
    log "cmake configure failed; using what is already built"
  else
    cmake --build "$build_dir" -j2 --target switchyard-echo >>"$build_log" 2>&1 ||
      { tail -n 20 "$build_log" >&2; die "switchyard-echo failed to build"; }
    if [ "$need_switchyard" -eq 1 ]; then
      cmake --build "$build_dir" -j2 --target switchyard >>"$build_log" 2>&1 ||
        log "switchyard failed to build (see $build_log); its columns will be empty"
    fi
    if [ "$want_metrics_cost" -eq 1 ] || [ "$want_syscalls" -eq 1 ]; then
      cmake --build "$build_dir" -j2 --target switchyard-load >>"$build_log" 2>&1 ||
        log "switchyard-load failed to build (see $build_log)"
    fi
  fi
fi
[ -x "$echo_bin" ] || die "$echo_bin not found"
if [ "$want_metrics_cost" -eq 1 ] && { [ ! -x "$load_bin" ] || [ ! -x "$switchyard_bin" ]; }; then
  [ "$metrics_cost_asked" -eq 1 ] && die "the metrics-cost cell needs $switchyard_bin and $load_bin"
  log "warning: $switchyard_bin or $load_bin missing; the metrics-cost cell is skipped"
  want_metrics_cost=0
fi
if [ "$want_syscalls" -eq 1 ] && [ ! -x "$load_bin" ]; then
  [ "$syscalls_asked" -eq 1 ] && die "the syscalls cell needs $load_bin"
  log "warning: $load_bin missing; the syscalls cell is skipped"
  want_syscalls=0
fi
# shellcheck source=scripts/bench-metrics.sh
source "$repo/scripts/bench-metrics.sh"
# shellcheck source=scripts/bench-syscalls.sh
source "$repo/scripts/bench-syscalls.sh"

# --------------------------------------------------------------------- tls --

# The TLS cells use one throwaway ECDSA P-256 self-signed certificate, made
# here in the temp dir for all three proxies (no key material is ever kept in
# the repository). TLS 1.2 ciphers: Switchyard's built-in default list, read
# from its header and given to HAProxy and NGINX as well, with server
# preference on all three; TLS 1.3 suites and groups: OpenSSL's defaults on
# all three.
tls_dir="$tmp/tls"
tls12_ciphers=""
make_tls_material() {
  mkdir -p "$tls_dir"
  chmod 755 "$tls_dir"
  if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=switchyard-bench -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$tls_dir/key.pem" -out "$tls_dir/cert.pem" >"$tls_dir/openssl.log" 2>&1; then
    cat "$tls_dir/openssl.log" >&2
    die "openssl could not make the benchmark certificate"
  fi
  cat "$tls_dir/cert.pem" "$tls_dir/key.pem" >"$tls_dir/haproxy.pem" # HAProxy: one file
  tls12_ciphers=$(sed -n '/kDefaultTls12Ciphers =/,/;/p' "$repo/include/switchyard/http/tls_context.hpp" \
    2>/dev/null | grep -o '"[^"]*"' | tr -d '"\n')
  if [ -z "$tls12_ciphers" ]; then
    tls12_ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
    log "could not read Switchyard's TLS 1.2 cipher list from its header; using the copy in this script"
  fi

  # wrk keeps each connection's SSL object across reconnects (SSL_shutdown +
  # SSL_clear), and with it the session, so its next handshake is a
  # resumption (a TLS 1.2 ticket or a TLS 1.3 PSK) whenever the server allows
  # it. This preload, given to wrk alone in the TLS cells, drops the session
  # before each handshake starts, so that every connection makes a full
  # handshake while the servers keep their session tickets on. It also counts
  # the handshakes wrk completed, full and resumed, into $WRK_TLS_STATS; a run
  # with a resumed handshake, or with fewer full handshakes than requests in
  # the handshake cell, has them counted as errors.
  cat >"$tls_dir/wrk-full-handshake.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct ssl_st SSL;
static unsigned long full, resumed;

int SSL_connect(SSL *ssl) {
    static int (*real)(SSL *);
    static int (*in_before)(const SSL *);
    static int (*set_session)(SSL *, void *);
    static int (*reused)(const SSL *);
    if (!real) {
        in_before = (int (*)(const SSL *))dlsym(RTLD_DEFAULT, "SSL_in_before");
        set_session = (int (*)(SSL *, void *))dlsym(RTLD_DEFAULT, "SSL_set_session");
        reused = (int (*)(const SSL *))dlsym(RTLD_DEFAULT, "SSL_session_reused");
        real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
    }
    if (in_before(ssl)) set_session(ssl, NULL); /* no session offered: full handshake */
    int r = real(ssl);
    if (r == 1) __atomic_add_fetch(reused(ssl) ? &resumed : &full, 1, __ATOMIC_RELAXED);
    return r;
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("WRK_TLS_STATS");
    FILE *f;
    if (path == NULL || (f = fopen(path, "a")) == NULL) return;
    fprintf(f, "%lu %lu\n", full, resumed);
    fclose(f);
}
EOF
  cc -shared -fPIC -O2 -o "$tls_dir/wrk-full-handshake.so" "$tls_dir/wrk-full-handshake.c" -ldl \
    >"$tls_dir/cc.log" 2>&1 || { cat "$tls_dir/cc.log" >&2; die "could not build the wrk preload"; }
}

# ------------------------------------------------------------------- peers --

# start_proxy NAME WORKERS [DIR]: starts it (its config, logs and files in DIR,
# default $tmp/NAME-wWORKERS), waits until it answers; sets proxy_pid,
# proxy_port and, when TLS cells are selected, tls_port (a second listener of
# the same proxy, terminating TLS, to the same upstream). Returns 1 (with a
# message) when it does not come up.
#
# The TLS listener of each proxy, kept equivalent: the certificate above, TLS
# 1.2 and 1.3, the same TLS 1.2 cipher list in server order, OpenSSL's TLS 1.3
# suites and groups, ALPN http/1.1, stateless session tickets on, no
# server-side session cache (Switchyard has none; HAProxy's shared cache is
# turned off with tune.ssl.cachesize 0, NGINX's with ssl_session_cache off).
# Added to the peers' configs here rather than in the templates, so that the
# three TLS configurations can be compared in one place.
start_proxy() {
  local name=$1 workers=$2 dir=${3:-$tmp/$1-w$2} access_log tls_url=""
  mkdir -p "$dir"
  chmod 755 "$dir"
  proxy_port=$(free_port)
  tls_port=""
  if [ "$want_tls" -eq 1 ]; then
    tls_port=$(free_port)
    while [ "$tls_port" = "$proxy_port" ]; do tls_port=$(free_port); done
    tls_url="https://127.0.0.1:$tls_port/"
  fi
  case "$name" in
    haproxy)
      write_peer_config haproxy "$dir/haproxy.cfg" "$workers" "$proxy_port" "$dir" "$echo_port"
      if [ -n "$haproxy_global_extra" ]; then
        printf '\n# Added by scripts/bench.sh for this cell.\nglobal\n%s\n' "$haproxy_global_extra" >>"$dir/haproxy.cfg"
      fi
      if [ -n "$tls_port" ]; then
        cat >>"$dir/haproxy.cfg" <<EOF

# TLS listener, added by scripts/bench.sh (see start_proxy there).
global
    tune.ssl.cachesize 0

frontend bench_tls
    bind 127.0.0.1:$tls_port ssl crt $tls_dir/haproxy.pem alpn http/1.1 ssl-min-ver TLSv1.2 ciphers $tls12_ciphers
    default_backend echo
EOF
      fi
      start_bg "$dir/proxy.log" haproxy -db -f "$dir/haproxy.cfg"
      ;;
    nginx)
      write_peer_config nginx "$dir/nginx.conf" "$workers" "$proxy_port" "$dir" "$echo_port"
      if [ -n "$tls_port" ]; then
        # A second server in the http block (nginx_add_servers).
        cat >"$dir/nginx-tls.conf" <<EOF
    # TLS listener, added by scripts/bench.sh (see start_proxy there).
    server {
        listen 127.0.0.1:$tls_port ssl;
        ssl_certificate $tls_dir/cert.pem;
        ssl_certificate_key $tls_dir/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers $tls12_ciphers;
        ssl_prefer_server_ciphers on;
        ssl_conf_command Options PrioritizeChaCha;
        ssl_session_tickets on;
        ssl_session_cache off;
        location / {
            proxy_pass http://echo;
            proxy_http_version 1.1;
            include $dir/proxy_headers.conf;
        }
    }
EOF
        nginx_add_servers "$dir/nginx.conf" "$dir/nginx-tls.conf"
      fi
      start_bg "$dir/proxy.log" nginx -p "$dir/" -e "$dir/nginx-error.log" -c "$dir/nginx.conf"
      ;;
    switchyard | switchyard-log | switchyard-base)
      local bin=$switchyard_bin
      [ "$name" = switchyard-base ] && bin=$baseline_bin
      if [ ! -x "$bin" ]; then
        log "$name: $bin not found (build failed?); skipped"
        return 1
      fi
      access_log="off"
      [ "$name" = switchyard-log ] && access_log="$dir/access.log"
      cat >"$dir/switchyard.toml" <<EOF
[server]
workers = $workers
state_file = "$dir/state.json"
$(if [ -n "$switchyard_max_connections" ]; then echo "max_connections = $switchyard_max_connections"; fi)

[log]
level = "warn"
access_log = "$access_log"

[[listeners]]
address = "127.0.0.1:$proxy_port"
$(if [ -n "$tls_port" ]; then printf '\n[[listeners]]\naddress = "127.0.0.1:%s"\ntls = { cert = "%s", key = "%s" }\n' \
  "$tls_port" "$tls_dir/cert.pem" "$tls_dir/key.pem"; fi)

[control]
socket = "$dir/control.sock"

[routing]
active = "blue"

[pools.blue]
servers = [{ address = "127.0.0.1:$echo_port" }]
EOF
      start_bg "$dir/proxy.log" "$bin" -c "$dir/switchyard.toml"
      ;;
  esac
  proxy_pid=$started_pid
  if ! wait_answer "$proxy_pid" "http://127.0.0.1:$proxy_port/" bench "$ready_timeout" "$tls_url"; then
    log "$name (workers=$workers) did not answer through to the upstream within ${ready_timeout}s; skipped. Its log:"
    tail -n 15 "$dir/proxy.log" >&2 || true
    stop_pid "$proxy_pid"
    return 1
  fi
}

# --------------------------------------------------------------------- wrk --

# Cells (the list is at the top): small-*, 16k-* plain HTTP with keep-alive;
# tls-keepalive-* the same over TLS; tls-handshake-* one request per TLS
# connection ("Connection: close"), each connection a full handshake (the wrk
# preload above), so that req/s there is full handshakes per second.
cell_path() { case "$1" in 16k-*) echo "/?bytes=16384" ;; *) echo "/" ;; esac; }
cell_conns() { echo "${1##*-c}"; }
cell_url() { # cell proxy
  case "$1" in
    tls-*) echo "https://127.0.0.1:${tls_port_of[$2]}$(cell_path "$1")" ;;
    *) echo "http://127.0.0.1:${port_of[$2]}$(cell_path "$1")" ;;
  esac
}
set_cell_args() { # cell -> cell_args (wrk parses -H only as "Name: value")
  cell_args=()
  case "$1" in tls-handshake-*) cell_args=(-H "Connection: close") ;; esac
}
# The access-log variant of Switchyard is measured in the plain cells only.
cell_runs_proxy() { [[ $1 != tls-* ]] || [ "$2" != switchyard-log ]; }

# run_wrk URL CONNS SECONDS OUTFILE [WRK ARGS...]. wrk runs in the background
# and is waited for, so that Ctrl-C runs the trap at once (and the trap stops
# it by PID); timeout bounds it even if it should hang. For https URLs wrk
# runs with the full-handshake preload, which writes its counts to
# OUTFILE.tls ("full resumed").
run_wrk() {
  local url=$1 conns=$2 secs=$3 outfile=$4 threads=2
  local -a preload=()
  shift 4
  [ "$conns" -lt 2 ] && threads=1
  rm -f "$outfile.tls"
  case "$url" in
    https:*) preload=(env LD_PRELOAD="$tls_dir/wrk-full-handshake.so" WRK_TLS_STATS="$outfile.tls") ;;
  esac
  start_bg "$outfile" timeout $((secs + 30)) "${preload[@]}" \
    wrk -t"$threads" -c"$conns" -d"$secs"s --latency "$@" "$url"
  wait "$started_pid" || true
  forget_pid "$started_pid"
}

# The preload's counts for OUTFILE: prints "full resumed" ("- -" if none).
parse_tls_stats() {
  if [ -s "$1.tls" ]; then
    awk '{ f += $1; r += $2 } END { print f + 0, r + 0 }' "$1.tls"
  else
    echo "- -"
  fi
}

# ------------------------------------------------------------------- main --

stamp=$(date +%Y%m%d-%H%M%S)
[ -n "$out" ] || out="$build_dir/bench-results/bench-$stamp.tsv"
mkdir -p "$(dirname "$out")"
runs_tsv="${out%.tsv}-runs.tsv"
printf 'workers\tproxy\tcell\tconnections\trun\trps\trequests\terrors\tp50_us\tp99_us\tcpu_us_per_req\trss_idle_kib\trss_load_kib\ttls_full_handshakes\ttls_resumed\tsys_us_per_req\tsegments_per_req\n' >"$runs_tsv"

proxies=()
[ "$want_switchyard" -eq 1 ] && proxies+=(switchyard switchyard-log)
[ "$want_switchyard" -eq 1 ] && [ -n "$baseline_bin" ] && proxies+=(switchyard-base)
[ "$want_haproxy" -eq 1 ] && proxies+=(haproxy)
[ "$want_nginx" -eq 1 ] && proxies+=(nginx)

read -r load1 _ </proc/loadavg
if awk -v l="$load1" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  log "warning: load average $load1 on $(nproc) cores before starting; something else is running and the numbers will be noisy"
fi
start_echo "$tmp/echo.log" "$echo_bin" bench --threads 1
if [ "$want_tls" -eq 1 ]; then
  make_tls_material
  log "TLS cells: ECDSA P-256 self-signed certificate and wrk full-handshake preload in $tls_dir"
fi
log "upstream switchyard-echo on 127.0.0.1:$echo_port; temp dir $tmp"
if [ ${#cells[@]} -gt 0 ]; then
  log "$(nproc) cores; $runs run(s) x ${duration}s per cell and proxy; workers ${workers_list}; proxies ${proxies[*]}; cells ${cells[*]}"
fi

declare -A port_of tls_port_of pid_of idle_of
for workers in "${worker_counts[@]}"; do
  [ ${#cells[@]} -gt 0 ] || break # only the metrics-cost, syscalls and/or idle-conns cells
  # All proxies of this worker count run side by side (idle ones cost nothing);
  # runs are interleaved across proxies so that drift hits all of them alike.
  up=()
  for name in "${proxies[@]}"; do
    if start_proxy "$name" "$workers"; then
      up+=("$name")
      port_of[$name]=$proxy_port
      tls_port_of[$name]=$tls_port
      pid_of[$name]=$proxy_pid
      mapfile -t tree < <(tree_pids "$proxy_pid")
      rss_kib "${tree[@]}"
      idle_of[$name]=$rss_total
      log "$name workers=$workers on 127.0.0.1:$proxy_port${tls_port:+ (TLS: $tls_port)}, idle RSS ${idle_of[$name]} KiB"
    fi
  done
  [ ${#up[@]} -gt 0 ] || continue

  for cell in "${cells[@]}"; do
    conns=$(cell_conns "$cell")
    set_cell_args "$cell"
    for name in "${up[@]}"; do # warm-up: upstream connections, caches
      cell_runs_proxy "$cell" "$name" || continue
      run_wrk "$(cell_url "$cell" "$name")" "$conns" "$warmup" "$tmp/warmup.txt" "${cell_args[@]}"
    done
    for ((run = 1; run <= runs; run++)); do
      for name in "${up[@]}"; do
        cell_runs_proxy "$cell" "$name" || continue
        pid=${pid_of[$name]}
        if ! kill -0 "$pid" 2>/dev/null; then
          log "$name (workers=$workers) has exited; no more runs for it"
          continue
        fi
        mapfile -t tree < <(tree_pids "$pid")
        echo "${idle_of[$name]}" >"$tmp/rss.max"
        start_bg /dev/null sample_rss "$tmp/rss.max" "${tree[@]}"
        sampler=$started_pid
        read -r cpu0 sys0 <<<"$(cpu_ticks_split "${tree[@]}")"
        segs0=$(tcp_out_segments)
        run_wrk "$(cell_url "$cell" "$name")" "$conns" "$duration" "$tmp/wrk.txt" "${cell_args[@]}"
        segs1=$(tcp_out_segments)
        read -r cpu1 sys1 <<<"$(cpu_ticks_split "${tree[@]}")"
        stop_pid "$sampler"
        rss_load=$(awk '$1 + 0 > m { m = $1 + 0 } END { print m + 0 }' "$tmp/rss.max")
        read -r rps requests errors p50 p99 <<<"$(parse_wrk "$tmp/wrk.txt")"
        read -r tls_full tls_resumed <<<"$(parse_tls_stats "$tmp/wrk.txt")"
        tls_note=""
        if [[ $cell == tls-* ]]; then
          if [ "$tls_full" = - ]; then
            # No counts: the preload did not run (or wrk died); nothing shows
            # that the handshakes were full ones.
            log "warning: no handshake counts from the wrk preload; run counted as failed"
            errors=$((errors + requests))
          else
            # A resumed handshake is not what this cell measures; nor is a
            # request that reused a connection in the handshake cell.
            errors=$((errors + tls_resumed))
            if [[ $cell == tls-handshake-* ]] && [ "$tls_full" -lt "$requests" ]; then
              errors=$((errors + requests - tls_full))
            fi
            tls_note=", TLS handshakes full $tls_full resumed $tls_resumed"
          fi
        fi
        cpu_per_req=$(ticks_per_request $((cpu1 - cpu0)) "$requests")
        sys_per_req=$(ticks_per_request $((sys1 - sys0)) "$requests")
        # Segments every party sent (wrk, the proxy, the echo server) per
        # request: 4 when each leg is one data segment and no ACK goes alone.
        segs_per_req=$(per_request $((segs1 - segs0)) "$requests")
        if ! kill -0 "$pid" 2>/dev/null; then
          log "$name (workers=$workers) exited during the run; this run is void. Its log:"
          tail -n 15 "$tmp/$name-w$workers/proxy.log" >&2 || true
          continue
        fi
        cp "$tmp/wrk.txt" "$tmp/$name-w$workers/wrk-$cell-$run.txt"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workers" "$name" "$cell" \
          "$conns" "$run" "$rps" "$requests" "$errors" "$p50" "$p99" "$cpu_per_req" \
          "${idle_of[$name]}" "$rss_load" "$tls_full" "$tls_resumed" "$sys_per_req" "$segs_per_req" >>"$runs_tsv"
        log "workers=$workers $cell $name run $run/$runs: $rps req/s, p99 ${p99}us, ${cpu_per_req}us CPU/req (${sys_per_req} system), $segs_per_req segments/req, errors $errors$tls_note"
      done
    done
  done

  for name in "${up[@]}"; do stop_pid "${pid_of[$name]}"; done
  if [ -n "${pid_of[switchyard-log]:-}" ]; then
    access_log="$tmp/switchyard-log-w$workers/access.log"
    log "switchyard-log workers=$workers wrote $(wc -l <"$access_log" 2>/dev/null || echo 0) access log lines"
  fi
  pid_of=()
done
# Memory per idle connection hardly depends on the machine's load, the
# new-client latency somewhat: right after the wrk cells.
[ "$want_idle" -eq 1 ] && run_idle_conns
# HTTP/2: its own upstream and proxies (scripts/bench-h2.sh), one worker each.
if [ "$want_h2" -eq 1 ]; then
  log "http2: scripts/bench-h2.sh, $runs rounds of $duration s"
  h2_args=()
  [ "$peer_same_work" -eq 1 ] && h2_args+=(--same-work)
  "$repo/scripts/bench-h2.sh" --seconds "$duration" --rounds "$runs" --bin "$build_dir" "${h2_args[@]}" \
    >"$tmp/http2.txt" || die "the http2 cell failed (scripts/bench-h2.sh)"
fi
# System call and instruction counts hardly depend on the machine's load:
# these cells may run at any point; last, so that the wrk cells get the idle
# machine first.
[ "$want_syscalls" -eq 1 ] && run_syscalls
[ "$want_metrics_cost" -eq 1 ] && run_metrics_cost
stop_pid "$echo_pid"

# ----------------------------------------------------------------- report --

# Summary TSV: one row per (workers, proxy, cell), medians over runs.
awk -F'\t' '
  NR == 1 { next }
  { k = $1 "\t" $2 "\t" $3 "\t" $4; if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
    n[k]++; rps[k, n[k]] = $6; p50[k, n[k]] = $9; p99[k, n[k]] = $10; cpu[k, n[k]] = $11
    sys[k, n[k]] = $16; segs[k, n[k]] = $17
    err[k] += $8; idle[k] = $12; if ($13 + 0 > load[k] + 0) load[k] = $13 }
  function med(a, k, m,    i, j, t, v) {
    for (i = 1; i <= m; i++) v[i] = a[k, i] + 0
    for (i = 2; i <= m; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
  }
  function lo(a, k, m,    i, r) { r = a[k, 1] + 0; for (i = 2; i <= m; i++) if (a[k, i] + 0 < r) r = a[k, i] + 0; return r }
  function hi(a, k, m,    i, r) { r = a[k, 1] + 0; for (i = 2; i <= m; i++) if (a[k, i] + 0 > r) r = a[k, i] + 0; return r }
  BEGIN { OFS = "\t"; print "workers", "proxy", "cell", "connections", "runs", "rps_median", "rps_min", "rps_max",
          "p50_us", "p99_us", "cpu_us_per_req", "rss_idle_kib", "rss_load_kib", "errors",
          "instr_per_req", "metrics_cost_pct", "syscalls_per_req", "kib_per_conn", "new_client_max_us",
          "sys_us_per_req", "segments_per_req" }
  END { for (i = 1; i <= nk; i++) { k = order[i]; m = n[k]
          printf "%s\t%d\t%.0f\t%.0f\t%.0f\t%.1f\t%.1f\t%.2f\t%d\t%d\t%d\t-\t-\t-\t-\t-\t%.2f\t%.2f\n", k, m, med(rps, k, m),
            lo(rps, k, m), hi(rps, k, m), med(p50, k, m), med(p99, k, m), med(cpu, k, m), idle[k], load[k], err[k],
            med(sys, k, m), med(segs, k, m) } }
' "$runs_tsv" >"$out"

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

if [ ${#cells[@]} -gt 0 ]; then # the wrk cells
  echo
  echo "Switchyard vs HAProxy vs NGINX: $runs run(s) x ${duration}s per cell, wrk --latency with 2 threads"
  echo "(1 for 1 connection), upstream switchyard-echo --threads 1, $(nproc) cores,"
  echo "load average at start $load1, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "haproxy $(haproxy -v 2>/dev/null | awk 'NR == 1 {print $3}'), nginx $(nginx -v 2>&1 | sed 's|.*nginx/||'), switchyard $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')"
  peer_work_summary
  if [ "$want_tls" -eq 1 ]; then
    echo "$(openssl version | awk '{print $1, $2}') (wrk, haproxy and nginx: $(haproxy -vv 2>/dev/null | sed -n 's/^Running on OpenSSL version : //p'))."
    echo "TLS cells: ECDSA P-256 certificate, what wrk and the proxies negotiate (TLS 1.3 with OpenSSL"
    echo "defaults); tls-handshake: one request per connection, every connection a full handshake, so"
    echo "req/s there is full handshakes/s (its latency columns leave out the handshake: wrk times from"
    echo "the request write); CPU us/req there is CPU per handshake + request. wrk's own handshake work"
    echo "(key exchange, signature check) competes with the proxy for the same cores."
  fi
  for workers in "${worker_counts[@]}"; do
    echo
    echo "== workers = $workers =="
    printf '%-17s %-15s %27s %9s %9s %10s %10s %10s %10s %10s %7s\n' cell proxy "req/s median (min-max)" "p50 us" "p99 us" \
      "CPU us/req" "of it sys" "segs/req" "RSS idle" "RSS load" errors
    for cell in "${cells[@]}"; do
      for name in "${proxies[@]}"; do
        cell_runs_proxy "$cell" "$name" || continue
        row=$(awk -F'\t' -v w="$workers" -v p="$name" -v c="$cell" '$1 == w && $2 == p && $3 == c' "$out")
        if [ -z "$row" ]; then
          printf '%-17s %-15s %27s\n' "$cell" "$name" "(not measured)"
          continue
        fi
        IFS=$'\t' read -r _ _ _ _ _ rmed rmin rmax p50 p99 cpu idle load errs _ _ _ _ _ sys segs _ <<<"$row"
        printf '%-17s %-15s %27s %9s %9s %10s %10s %10s %10s %10s %7s\n' "$cell" "$name" \
          "$rmed ($rmin-$rmax)" "$p50" "$p99" "$cpu" "$sys" "$segs" "$(mib "$idle")" "$(mib "$load")" "$errs"
      done
    done
  done
fi

# Ratios Switchyard / peer: req/s (higher is better), p99 and CPU/req (lower is better).
value() { # workers proxy cell column
  awk -F'\t' -v w="$1" -v p="$2" -v c="$3" -v col="$4" '$1 == w && $2 == p && $3 == c {print $col}' "$out"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
if [ "$want_switchyard" -eq 1 ] && [ ${#cells[@]} -gt 0 ] &&
  { [ "$want_haproxy" -eq 1 ] || [ "$want_nginx" -eq 1 ]; }; then
  echo
  echo "== ratios switchyard / peer (req/s: >= 1 is better; p99, CPU/req: <= 1 is better; |1 - x| < 0.15 is noise here) =="
  printf '%-8s %-17s %-9s %8s %8s %8s\n' workers cell peer "req/s" p99 "CPU/req"
  for workers in "${worker_counts[@]}"; do
    for cell in "${cells[@]}"; do
      for peer in haproxy nginx; do
        [ "$peer" = haproxy ] && [ "$want_haproxy" -eq 0 ] && continue
        [ "$peer" = nginx ] && [ "$want_nginx" -eq 0 ] && continue
        printf '%-8s %-17s %-9s %8s %8s %8s\n' "$workers" "$cell" "$peer" \
          "$(ratio "$(value "$workers" switchyard "$cell" 6)" "$(value "$workers" "$peer" "$cell" 6)")" \
          "$(ratio "$(value "$workers" switchyard "$cell" 10)" "$(value "$workers" "$peer" "$cell" 10)")" \
          "$(ratio "$(value "$workers" switchyard "$cell" 11)" "$(value "$workers" "$peer" "$cell" 11)")"
      done
    done
  done
fi

# This build against the baseline binary (--baseline), measured in the same run.
if [ -n "$baseline_bin" ] && [ "$want_switchyard" -eq 1 ] && [ ${#cells[@]} -gt 0 ]; then
  echo
  echo "== ratios switchyard / switchyard-base ($baseline_bin; req/s: >= 1 is better; p99, CPU/req: <= 1 is better) =="
  printf '%-8s %-17s %8s %8s %8s\n' workers cell "req/s" p99 "CPU/req"
  for workers in "${worker_counts[@]}"; do
    for cell in "${cells[@]}"; do
      printf '%-8s %-17s %8s %8s %8s\n' "$workers" "$cell" \
        "$(ratio "$(value "$workers" switchyard "$cell" 6)" "$(value "$workers" switchyard-base "$cell" 6)")" \
        "$(ratio "$(value "$workers" switchyard "$cell" 10)" "$(value "$workers" switchyard-base "$cell" 10)")" \
        "$(ratio "$(value "$workers" switchyard "$cell" 11)" "$(value "$workers" switchyard-base "$cell" 11)")"
    done
  done
fi

# The project's targets (bench/README.md), at 50 and 256 connections.
verdict() { # ratio better(high|low) -> ok | noise | MISS | n/a
  awk -v r="$1" -v b="$2" 'BEGIN {
    if (r == "n/a") { print "n/a"; exit }
    if (b == "high") v = (r >= 1) ? "ok" : (r >= 0.85) ? "noise" : "MISS"
    else v = (r <= 1) ? "ok" : (r <= 1.15) ? "noise" : "MISS"
    printf "%s %s", r, v }'
}
limit() { # value max -> ok | MISS | n/a
  awk -v v="$1" -v m="$2" 'BEGIN { if (v == "" || v == "nan") print "n/a"; else print (v + 0 <= m) ? "ok" : "MISS" }'
}
has_cell() { case " ${cells[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
if [ "$want_switchyard" -eq 1 ] && { has_cell small-c50 || has_cell small-c256; }; then
  echo
  echo "== targets for switchyard (ok; noise = within 15 %; MISS) =="
  printf '%-8s %-11s %-16s %-16s %-16s %-14s %-12s
' workers cell "req/s>=haproxy" "req/s>=nginx" \
    "p99<=haproxy" "CPU<=25us/req" "idle<=16MiB"
  for workers in "${worker_counts[@]}"; do
    for cell in small-c50 small-c256; do
      has_cell "$cell" || continue
      sy_rps=$(value "$workers" switchyard "$cell" 6)
      sy_p99=$(value "$workers" switchyard "$cell" 10)
      printf '%-8s %-11s %-16s %-16s %-16s %-14s %-12s\n' "$workers" "$cell" \
        "$(verdict "$(ratio "$sy_rps" "$(value "$workers" haproxy "$cell" 6)")" high)" \
        "$(verdict "$(ratio "$sy_rps" "$(value "$workers" nginx "$cell" 6)")" high)" \
        "$(verdict "$(ratio "$sy_p99" "$(value "$workers" haproxy "$cell" 10)")" low)" \
        "$(limit "$(value "$workers" switchyard "$cell" 11)" 25)" \
        "$(limit "$(value "$workers" switchyard "$cell" 12)" 16384)"
    done
  done
fi

# The TLS targets: over TLS, Switchyard's keep-alive req/s and full handshakes/s >=
# HAProxy's at the same worker count (NGINX shown alongside).
if [ "$want_switchyard" -eq 1 ] && [ "$want_tls" -eq 1 ]; then
  echo
  echo "== TLS targets for switchyard (ok; noise = within 15 %; MISS) =="
  printf '%-8s %-17s %-16s %-16s\n' workers cell "req/s>=haproxy" "req/s>=nginx"
  for workers in "${worker_counts[@]}"; do
    for cell in "${tls_cells[@]}"; do
      has_cell "$cell" || continue
      sy_rps=$(value "$workers" switchyard "$cell" 6)
      printf '%-8s %-17s %-16s %-16s\n' "$workers" "$cell" \
        "$(verdict "$(ratio "$sy_rps" "$(value "$workers" haproxy "$cell" 6)")" high)" \
        "$(verdict "$(ratio "$sy_rps" "$(value "$workers" nginx "$cell" 6)")" high)"
    done
  done
fi

[ "$want_idle" -eq 1 ] && report_idle_conns
if [ "$want_h2" -eq 1 ]; then
  echo
  echo "== http2 (scripts/bench-h2.sh; targets: req/s >= haproxy and nginx, p99 <= haproxy) =="
  cat "$tmp/http2.txt"
fi
[ "$want_syscalls" -eq 1 ] && report_syscalls
[ "$want_metrics_cost" -eq 1 ] && report_metrics_cost

echo
echo "summary TSV: $out"
echo "per-run TSV: $runs_tsv"
