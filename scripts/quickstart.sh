#!/usr/bin/env bash
# Installs what is missing, builds a Release Switchyard, and runs a blue/green
# demo on this machine: two switchyard-echo upstreams (blue on 9001, green on
# 9002) and Switchyard on 127.0.0.1:8080 (admin on 9901) in front of them.
# Ctrl-C stops all. Every run starts a fresh demo: .quickstart/ (the saved
# routing state, the logs) is emptied first, so blue is active whatever an
# earlier run switched to. If one of the four ports is already taken, it
# says which and starts nothing.
#   --smoke   start, check that a request reaches blue, stop (for scripts/CI)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
smoke=0
case "${1:-}" in
  --smoke) smoke=1 ;;
  "") ;;
  *) echo "quickstart: unknown argument '$1' (--smoke)" >&2; exit 2 ;;
esac

./scripts/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_TESTS=OFF -DSWITCHYARD_BENCH=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target switchyard switchyard-echo switchyardctl

ports=(9001 9002 8080 9901)  # blue, green, the proxy, its admin listener
# Anything answering on a port would take our place in the readiness wait
# below: refuse to start instead.
for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "quickstart: 127.0.0.1:$port is already in use (another quickstart, or another program);" \
      "stop it first (e.g. 'ss -ltnp' shows which process listens there)" >&2
    exit 1
  fi
done

# A fresh demo: a saved state file would win over conf/quickstart.toml.
run_dir="$root/.quickstart"
rm -rf "$run_dir"
mkdir -p "$run_dir"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # port, pid of the process that must open it, its log
  local end=$((SECONDS + 10))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    if ! kill -0 "$2" 2>/dev/null; then
      echo "quickstart: the process for port $1 exited; the end of $3:" >&2
      tail -n 20 "$3" >&2
      return 1
    fi
    [ $SECONDS -lt $end ] || { echo "quickstart: port $1 did not open within 10 s (see $3)" >&2; return 1; }
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
wait_port 9001 "${pids[0]}" "$run_dir/blue.log"
wait_port 9002 "${pids[1]}" "$run_dir/green.log"
wait_port 8080 "${pids[2]}" "$run_dir/switchyard.log"
wait_port 9901 "${pids[2]}" "$run_dir/switchyard.log"
# Our Switchyard answers on its own control socket, from the config's routing.
ctl=(build-release/switchyardctl -s "$run_dir/control.sock")
state=$("${ctl[@]}" --json status) || { echo "quickstart: no answer on $run_dir/control.sock" >&2; exit 1; }
grep -q '"active":"blue"' <<<"$state" || { echo "quickstart: blue is not active: $state" >&2; exit 1; }

if [ "$smoke" = 1 ]; then
  got=$(curl -s http://127.0.0.1:8080/)
  [ "$got" = "blue" ] || { echo "quickstart: expected blue, got '$got'" >&2; exit 1; }
  # The request is counted once its response is out: poll briefly.
  for _ in $(seq 50); do
    curl -s http://127.0.0.1:9901/metrics | grep -q '^switchyard_requests_total{pool="blue",code="200"} 1$' && break
    sleep 0.1
  done
  counted=$(curl -s http://127.0.0.1:9901/metrics | grep '^switchyard_requests_total' || true)
  grep -q '^switchyard_requests_total{pool="blue",code="200"} 1$' <<<"$counted" ||
    { echo "quickstart: /metrics does not count the one request to blue: ${counted:-no requests}" >&2; exit 1; }
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
