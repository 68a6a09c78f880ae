#!/usr/bin/env bash
# HTTP/2 cells (README "HTTP/2"): Switchyard, HAProxy and NGINX terminating
# HTTP/2 for clients, h2c by prior knowledge and h2 over TLS by ALPN, each in
# front of the same switchyard-echo with HTTP/1.1 keep-alive, all on
# 127.0.0.1, driven by h2load (nghttp2-client) with -c 50 -m 10. Rounds
# alternate the proxies' order; per cell and proxy it prints the median
# req/s and p99 latency over the rounds (p99 from h2load's per-request log)
# and Switchyard's ratios to each peer, with the CPU each proxy used per
# request (its processes' user + system time over the run, warm-up
# included, over the requests of the run and its warm-up at the run's
# rate): on this shared machine req/s moves with the neighbours, CPU per
# request much less. A second table gives the same ratios round by round
# (each Switchyard run over the peer's run next to it): their median and
# range. Then each proxy's memory per idle
# h2c connection: RSS before and after --idle-conns connections that each
# made one request (bench/idle_conns.py --h2c). With --baseline DIR, a
# second Switchyard (DIR/switchyard, same config) runs in the same rounds as
# switchyard-base, and a last table gives Switchyard's ratios to it.
#
# With --same-work the peers also add what Switchyard adds by default
# (X-Forwarded-*, Forwarded, X-Request-Id, Via, the assignment cookie;
# scripts/lib/peers.sh), so that both sides do the same work per request.
#
#   scripts/bench-h2.sh [--seconds S] [--rounds N] [--workers W] [--bin DIR]
#                       [--idle-conns N] [--baseline DIR] [--same-work]
#
# Needs build-release/ (scripts/bench.sh and quickstart.sh build it). Every
# process it starts runs with its own config in a temp dir on ephemeral
# ports and is stopped by its PID; the system's haproxy and nginx services
# are never touched.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
log() { echo "bench-h2: $*" >&2; }
die() { echo "bench-h2: $*" >&2; exit 1; }
# shellcheck source=scripts/lib/processes.sh
. scripts/lib/processes.sh
# shellcheck source=scripts/lib/peers.sh
. scripts/lib/peers.sh

seconds=10 rounds=3 workers=1 bin=build-release idle_conns=2000 baseline=""
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --workers) workers=$2; shift ;;
    --bin) bin=$2; shift ;;
    --idle-conns) idle_conns=$2; shift ;;
    --baseline) baseline=$2; shift ;;
    --same-work) peer_same_work=1 ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    *) die "unknown argument '$1'" ;;
  esac
  shift
done
for tool in h2load haproxy nginx openssl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh)"
done
[ -x "$bin/switchyard" ] || die "no $bin/switchyard: build it first (scripts/bench.sh builds it)"
[ -z "$baseline" ] || [ -x "$baseline/switchyard" ] || die "no $baseline/switchyard (--baseline)"

tmp=$(mktemp -d /tmp/switchyard-bench-h2.XXXXXX)
chmod 755 "$tmp"
trap_cleanup
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 || die "openssl failed"
cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/haproxy.pem"
start_echo "$tmp/echo.log" "$bin/switchyard-echo" blue --listen 127.0.0.1:0 --threads 2

declare -A h2c_port tls_port proxy_pid
proxies=(switchyard haproxy nginx)
[ -z "$baseline" ] || proxies+=(switchyard-base)
for p in "${proxies[@]}"; do
  dir=$tmp/$p
  mkdir -p "$dir"
  chmod 755 "$dir"
  plain=$(free_port)
  h2c_port[$p]=$(free_port)
  tls_port[$p]=$(free_port)
  case "$p" in
    switchyard | switchyard-base)
      cat >"$dir/switchyard.toml" <<EOF
[server]
workers = $workers
state_file = "$dir/state.json"
[log]
level = "warn"
access_log = "off"
[[listeners]]
address = "127.0.0.1:${h2c_port[$p]}"
protocols = ["h2c"]
[listeners.http2]
max_concurrent_streams = 128
[[listeners]]
address = "127.0.0.1:${tls_port[$p]}"
tls = { cert = "$tmp/cert.pem", key = "$tmp/key.pem" }
[control]
socket = "$dir/control.sock"
[routing]
active = "blue"
[pools.blue]
servers = [{ address = "127.0.0.1:$echo_port" }]
EOF
      exe=$bin/switchyard
      [ "$p" = switchyard-base ] && exe=$baseline/switchyard
      start_bg "$dir/log" "$exe" -c "$dir/switchyard.toml"
      ;;
    haproxy)
      write_peer_config haproxy "$dir/haproxy.cfg" "$workers" "$plain" "$dir" "$echo_port"
      cat >>"$dir/haproxy.cfg" <<EOF

frontend bench_h2c
    bind 127.0.0.1:${h2c_port[$p]} proto h2
    default_backend echo

frontend bench_h2
    bind 127.0.0.1:${tls_port[$p]} ssl crt $tmp/haproxy.pem alpn h2,http/1.1 ssl-min-ver TLSv1.2
    default_backend echo
EOF
      start_bg "$dir/log" haproxy -db -f "$dir/haproxy.cfg"
      ;;
    nginx)
      write_peer_config nginx "$dir/nginx.conf" "$workers" "$plain" "$dir" "$echo_port"
      cat >"$dir/h2.conf" <<EOF
    server {
        listen 127.0.0.1:${h2c_port[$p]} http2;
        location / { proxy_pass http://echo; proxy_http_version 1.1; include $dir/proxy_headers.conf; }
    }
    server {
        listen 127.0.0.1:${tls_port[$p]} ssl http2;
        ssl_certificate $tmp/cert.pem;
        ssl_certificate_key $tmp/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { proxy_pass http://echo; proxy_http_version 1.1; include $dir/proxy_headers.conf; }
    }
EOF
      nginx_add_servers "$dir/nginx.conf" "$dir/h2.conf"
      start_bg "$dir/log" nginx -p "$dir/" -e "$dir/nginx-error.log" -c "$dir/nginx.conf"
      ;;
  esac
  proxy_pid[$p]=$started_pid
  wait_port "${h2c_port[$p]}" "$started_pid" "$dir/log"
  wait_port "${tls_port[$p]}" "$started_pid" "$dir/log"
done

# Memory per idle HTTP/2 connection, each proxy in turn (its h2c frontend),
# on the fresh processes, before any load: after it, their allocators hold
# the high-water mark of the load and new connections reuse it.
idle_table=$(
  printf '\nIdle h2c connections: %s each, after one request, measured before the load (RSS of the proxy'"'"'s processes)\n\n' "$idle_conns"
  printf '| proxy | RSS before MiB | after MiB | KiB per connection |\n|---|---|---|---|\n'
  for p in "${proxies[@]}"; do
    out=$(timeout 120 python3 bench/idle_conns.py --h2c --port "${h2c_port[$p]}" --pid "${proxy_pid[$p]}" \
      --conns "$idle_conns" --probes 0 --deadline 50) ||
      { log "$p: idle connections failed: $out"; continue; }
    awk -v p="$p" '{
      match($0, /"rss_before_kib": [0-9]+/); b = substr($0, RSTART + 17, RLENGTH - 17)
      match($0, /"rss_after_kib": [0-9]+/); a = substr($0, RSTART + 16, RLENGTH - 16)
      match($0, /"conns": [0-9]+/); n = substr($0, RSTART + 9, RLENGTH - 9)
      printf "| %s | %.1f | %.1f | %.1f |\n", p, b / 1024, a / 1024, (a - b) / n }' <<<"$out"
  done
)

cells=("h2c-small:http:/" "h2-small:https:/" "h2-16k:https:/?bytes=16384")
declare -A rps p99 cpu
hz=$(getconf CLK_TCK)
# run CELL PROXY ROUND: one h2load run; appends its req/s, p99 (ms) and CPU
# per request (us).
run() {
  local cell=$1 p=$2 round=$3 rest scheme path port url out reqlog r q c0 c1 tree
  rest=${cell#*:}
  scheme=${rest%%:*}
  path=${rest#*:}
  port=${h2c_port[$p]}
  [ "$scheme" = https ] && port=${tls_port[$p]}
  url="$scheme://127.0.0.1:$port$path"
  out=$tmp/${cell%%:*}-$p-$round.out
  reqlog=$tmp/${cell%%:*}-$p-$round.log
  mapfile -t tree < <(tree_pids "${proxy_pid[$p]}")
  c0=$(cpu_ticks "${tree[@]}")
  h2load -c 50 -m 10 -t 1 -D "$seconds" --warm-up-time 1 --log-file "$reqlog" "$url" >"$out" 2>&1 ||
    { tail -n 5 "$out" >&2; die "h2load failed against $p ($url)"; }
  c1=$(cpu_ticks "${tree[@]}")
  grep -q "0 failed, 0 errored" "$out" || log "$p ${cell%%:*} round $round: $(grep '^requests:' "$out")"
  r=$(awk '/^finished in/ {print $4}' "$out")
  q=$(awk -F'\t' '$2 == 200 {print $3}' "$reqlog" | sort -n |
    awk '{v[NR] = $1} END {if (NR) printf "%.2f", v[int(NR * 0.99 + 0.5)] / 1000; else print "n/a"}')
  rps[${cell%%:*},$p]+="$r "
  p99[${cell%%:*},$p]+="$q "
  cpu[${cell%%:*},$p]+="$(awk -v t=$((c1 - c0)) -v hz="$hz" -v r="$r" -v s="$seconds" \
    'BEGIN { if (r > 0) printf "%.2f", t * 1000000 / hz / (r * (s + 1)); else print "nan" }') "
}
for round in $(seq 1 "$rounds"); do
  order=("${proxies[@]}")
  if ((round % 2 == 0)); then
    order=()
    for ((i = ${#proxies[@]} - 1; i >= 0; i--)); do order+=("${proxies[i]}"); done
  fi
  for cell in "${cells[@]}"; do
    for p in "${order[@]}"; do run "$cell" "$p" "$round"; done
  done
  log "round $round of $rounds done"
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{v[NR] = $1} END {print (NR ? v[int((NR + 1) / 2)] : "n/a")}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
printf '\nHTTP/2, %s worker(s), h2load -c 50 -m 10, %s rounds of %s s (medians)\n%s\n\n' \
  "$workers" "$rounds" "$seconds" "$(peer_work_summary)"
printf '| cell | proxy | req/s | p99 ms | CPU us/req |\n|---|---|---|---|---|\n'
for cell in "${cells[@]}"; do
  c=${cell%%:*}
  for p in "${proxies[@]}"; do
    printf '| %s | %s | %s | %s | %s |\n' "$c" "$p" "$(median <<<"${rps[$c,$p]}")" \
      "$(median <<<"${p99[$c,$p]}")" "$(median <<<"${cpu[$c,$p]}")"
  done
done
printf '\n| cell | req/s vs haproxy | req/s vs nginx | p99 vs haproxy | p99 vs nginx | CPU/req vs haproxy | CPU/req vs nginx |\n|---|---|---|---|---|---|---|\n'
for cell in "${cells[@]}"; do
  c=${cell%%:*}
  s=$(median <<<"${rps[$c,switchyard]}") h=$(median <<<"${rps[$c,haproxy]}") n=$(median <<<"${rps[$c,nginx]}")
  sp=$(median <<<"${p99[$c,switchyard]}") hp=$(median <<<"${p99[$c,haproxy]}") np=$(median <<<"${p99[$c,nginx]}")
  sc=$(median <<<"${cpu[$c,switchyard]}") hc=$(median <<<"${cpu[$c,haproxy]}") nc=$(median <<<"${cpu[$c,nginx]}")
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$c" "$(ratio "$s" "$h")" "$(ratio "$s" "$n")" \
    "$(ratio "$sp" "$hp")" "$(ratio "$sp" "$np")" "$(ratio "$sc" "$hc")" "$(ratio "$sc" "$nc")"
done
# The same ratios round by round: Switchyard's run and each peer's follow
# each other within seconds, so a pair shares the neighbours' load, which
# moves between rounds by more than the differences measured here.
# paired CELL PEER COLUMN(rps|p99|cpu): median (min-max) over the rounds.
paired() {
  local -n col=$3
  paste <(tr ' ' '\n' <<<"${col[$1,switchyard]}") <(tr ' ' '\n' <<<"${col[$1,$2]}") |
    awk -F'\t' '$1 != "" && $2 + 0 > 0 {print $1 / $2}' | sort -n |
    awk '{v[NR] = $1} END {if (NR) printf "%.2f (%.2f-%.2f)", v[int((NR + 1) / 2)], v[1], v[NR]; else print "n/a"}'
}
printf '\nPer round (Switchyard / peer within each round): median (min-max) over %s rounds\n\n' "$rounds"
printf '| cell | req/s vs haproxy | req/s vs nginx | p99 vs haproxy | p99 vs nginx |\n|---|---|---|---|---|\n'
for cell in "${cells[@]}"; do
  c=${cell%%:*}
  printf '| %s | %s | %s | %s | %s |\n' "$c" "$(paired "$c" haproxy rps)" "$(paired "$c" nginx rps)" \
    "$(paired "$c" haproxy p99)" "$(paired "$c" nginx p99)"
done
if [ -n "$baseline" ]; then
  printf '\n| cell | req/s vs switchyard-base (%s) | p99 vs switchyard-base | CPU/req vs switchyard-base |\n|---|---|---|---|\n' "$baseline"
  for cell in "${cells[@]}"; do
    c=${cell%%:*}
    printf '| %s | %s | %s | %s |\n' "$c" "$(ratio "$(median <<<"${rps[$c,switchyard]}")" "$(median <<<"${rps[$c,switchyard-base]}")")" \
      "$(ratio "$(median <<<"${p99[$c,switchyard]}")" "$(median <<<"${p99[$c,switchyard-base]}")")" \
      "$(ratio "$(median <<<"${cpu[$c,switchyard]}")" "$(median <<<"${cpu[$c,switchyard-base]}")")"
  done
fi
printf '%s\n' "$idle_table"
