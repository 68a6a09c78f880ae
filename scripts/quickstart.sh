#!/usr/bin/env bash
# Installs what is missing, builds a Release Switchyard, and runs a blue/green
# demo on this machine: two switchyard-echo upstreams (blue on 9001, green on
# 9002) and Switchyard on 127.0.0.1:8080 in front of them. Ctrl-C stops all.
#   --smoke   start, check that a request reaches blue, stop (for scripts/CI)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
smoke=0
[ "${1:-}" = "--smoke" ] && smoke=1

./scripts/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_TESTS=OFF -DSWITCHYARD_BENCH=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target switchyard switchyard-echo switchyardctl

run_dir="$root/.quickstart"
mkdir -p "$run_dir"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # port, deadline in seconds
  local end=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ $SECONDS -lt $end ] || { echo "port $1 did not open" >&2; return 1; }
    sleep 0.05
  done
}

build-release/switchyard-echo --name blue --listen 127.0.0.1:9001 >"$run_dir/blue.log" 2>&1 &
pids+=($!)
build-release/switchyard-echo --name green --listen 127.0.0.1:9002 >"$run_dir/green.log" 2>&1 &
pids+=($!)
build-release/switchyard --check -c "$root/conf/quickstart.toml"
(cd "$run_dir" && exec "$root/build-release/switchyard" -c "$root/conf/quickstart.toml") \
  >"$run_dir/switchyard.log" 2>&1 &
pids+=($!)
wait_port 9001 10 && wait_port 9002 10 && wait_port 8080 10 && wait_port 9901 10

if [ "$smoke" = 1 ]; then
  got=$(curl -s http://127.0.0.1:8080/)
  [ "$got" = "blue" ] || { echo "quickstart: expected blue, got '$got'" >&2; exit 1; }
  # The request is counted once its response is out: poll briefly.
  for _ in $(seq 50); do
    curl -s http://127.0.0.1:9901/metrics | grep -q '^switchyard_requests_total{pool="blue",code="200"} 1$' && break
    sleep 0.1
  done
  curl -s http://127.0.0.1:9901/metrics | grep -q '^switchyard_requests_total{pool="blue",code="200"} 1$' ||
    { echo "quickstart: /metrics does not count the request" >&2; exit 1; }
  curl -sf -o /dev/null http://127.0.0.1:9901/ || { echo "quickstart: no dashboard" >&2; exit 1; }
  echo "quickstart smoke test: ok (blue answered through Switchyard; /metrics counted it; dashboard up)"
  exit 0
fi

cat <<TXT

Switchyard is serving on http://127.0.0.1:8080/ (active pool: blue)

Try:
  curl -i http://127.0.0.1:8080/                 # answered by blue
  curl -s 'http://127.0.0.1:8080/?echo=head'      # what the upstream received
  curl -s 'http://127.0.0.1:8080/?delay_ms=500'   # a slow response
  tail -f $run_dir/access.log                     # one JSON line per request
  build-release/switchyardctl -s $run_dir/control.sock canary green 20
  open http://127.0.0.1:9901/                     # the live dashboard (/metrics, /status too)

Logs: $run_dir/   Ctrl-C stops everything.
TXT
wait "${pids[2]}"
