# shellcheck shell=bash disable=SC2154 # tmp is set by the script that sources this
# Process handling shared by scripts/bench.sh and scripts/zdd-check.sh:
# every process they start is recorded in `pids`, stopped by its PID (never
# by name) at the end, on errors and on Ctrl-C, and the run's temp dir is
# removed unless the run failed.
#
# Source it after defining log() and die(); set `tmp` (the run's temp dir)
# before calling trap_cleanup. Optional: keep_tmp=1 keeps the temp dir, and
# a function before_cleanup runs first in the cleanup (to stop processes
# that are not our children).

pids=() # every process started with start_bg and not stopped yet

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
now_us() { echo "${EPOCHREALTIME/./}"; }

# True while the process exists and is not a zombie.
alive() {
  local line
  line=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  line=${line##*) }
  [ "${line%% *}" != Z ]
}

forget_pid() {
  local keep_pids=() p
  for p in ${pids[@]+"${pids[@]}"}; do [ "$p" = "$1" ] || keep_pids+=("$p"); done
  pids=(${keep_pids[@]+"${keep_pids[@]}"})
}

# stop_pid PID [GRACE]: TERM, then KILL after GRACE seconds (default 5).
stop_pid() {
  local pid=$1 grace=${2:-5} i
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 20; i++)); do
      alive "$pid" || break
      sleep 0.05
    done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  if declare -F before_cleanup >/dev/null; then before_cleanup; fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  if [ "${keep_tmp:-0}" -eq 0 ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; }; then
    rm -rf "$tmp"
  else
    log "logs and configs kept in $tmp"
  fi
  exit "$rc"
}

trap_cleanup() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# start_bg LOGFILE COMMAND...: starts it in the background, output to
# LOGFILE; sets started_pid.
started_pid=""
start_bg() {
  local logfile=$1
  shift
  "$@" >"$logfile" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID LOGFILE: until 127.0.0.1:PORT accepts connections; dies
# (with the log's end) if PID exits first or 20 s pass.
wait_port() {
  local deadline=$(($(now_ms) + 20000))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    alive "$2" || { tail -n 20 "$3" >&2; die "the process for port $1 exited (see $3)"; }
    [ "$(now_ms)" -lt "$deadline" ] || die "port $1 did not open within 20 s (see $3)"
    sleep 0.05
  done
}

# start_echo LOGFILE BINARY NAME [ARGS...]: a switchyard-echo on an ephemeral
# port of 127.0.0.1; sets echo_pid and echo_port, or dies.
start_echo() {
  local logfile=$1 binary=$2 name=$3 deadline
  shift 3
  start_bg "$logfile" "$binary" --name "$name" "$@"
  echo_pid=$started_pid
  deadline=$(($(now_ms) + 5000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    # (the log may not exist yet: the child opens it)
    echo_port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$logfile" 2>/dev/null || true)
    [ -n "$echo_port" ] && return 0
    alive "$echo_pid" || break
    sleep 0.02
  done
  cat "$logfile" >&2
  die "switchyard-echo $name did not start"
}

# wait_answer PID URL NAME SECONDS [TLS_URL]: until the proxy at URL (and, if
# given, at the https URL TLS_URL) answers from the switchyard-echo named
# NAME; 1 if PID dies or SECONDS pass first.
wait_answer() {
  local pid=$1 url=$2 name=$3 tls_url=${5:-} deadline plain_ok=0
  deadline=$(($(now_ms) + $4 * 1000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    alive "$pid" || return 1
    if [ "$plain_ok" -eq 0 ] &&
      curl -s -m 1 -D - -o /dev/null "$url" 2>/dev/null | grep -qi "^x-echo-name: $name"; then
      plain_ok=1
    fi
    if [ "$plain_ok" -eq 1 ]; then
      [ -n "$tls_url" ] || return 0
      if curl -sk --http1.1 -m 1 -D - -o /dev/null "$tls_url" 2>/dev/null |
        grep -qi "^x-echo-name: $name"; then
        return 0
      fi
    fi
    sleep 0.05
  done
  return 1
}

# The PID and its descendants (nginx: master and workers).
tree_pids() {
  local p c
  for p in "$@"; do
    echo "$p"
    for c in $(pgrep -P "$p" 2>/dev/null || true); do tree_pids "$c"; done
  done
}

# utime + stime in clock ticks, summed over the given PIDs.
cpu_ticks() {
  local total
  read -r total _ <<<"$(cpu_ticks_split "$@")"
  echo "$total"
}

# "TOTAL SYSTEM": utime + stime and stime alone, in clock ticks, summed over
# the given PIDs.
cpu_ticks_split() {
  local total=0 sys=0 p line
  local -a f
  for p in "$@"; do
    line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    read -r -a f <<<"${line##*) }" # fields from 3 (state) on
    total=$((total + f[11] + f[12]))
    sys=$((sys + f[12]))
  done
  echo "$total $sys"
}

# TCP segments sent in this network namespace so far (OutSegs of
# /proc/net/snmp): every party's, the client's and the upstream's too.
tcp_out_segments() {
  awk '$1 == "Tcp:" && $12 ~ /^[0-9]+$/ { print $12; exit }' /proc/net/snmp
}
