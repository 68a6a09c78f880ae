# shellcheck shell=bash disable=SC2154 # its variables are set by scripts/bench.sh
# The syscalls cell of scripts/bench.sh: system calls per proxied keep-alive
# request, for Switchyard and the peers, counted by `perf stat` on the
# kernel's system call tracepoints over an exact number of requests. Sourced
# by scripts/bench.sh (not run on its own): it uses that script's log,
# start_proxy, tree_pids, the helpers of scripts/lib/processes.sh (start_bg,
# stop_pid, forget_pid, alive, now_ms), mc_parse_load
# (scripts/bench-metrics.sh), and its variables (repo, tmp, proxies,
# worker_counts, runs, load_bin, syscalls_requests, out). See
# bench/README.md, "The syscalls cell".
#
# How, per worker count, proxy and run: the proxy is started with the same
# config as in the plain cells (start_proxy; plain listener only), warmed up
# with switchyard-load (its upstream connections opened), then `perf stat`
# opens its counters on every thread of the proxy's processes (NGINX: the
# workers, not the idle master) with the counters disabled; through its
# control FIFO they are enabled (perf acknowledges once they are), exactly N
# keep-alive GET / go over 50 connections, the counters are disabled again
# (acknowledged) and perf is stopped with SIGINT (it then writes the counts).
# Why not strace: it stops the proxy at every system call, and at that speed
# a read finds its data already there; the failed speculative reads
# (EAGAIN) that the proxy makes at full speed disappear from its counts.

sc_conns=50             # keep-alive connections of switchyard-load
sc_warmup_requests=2000 # before counting: upstream connections, caches
sc_load_limit=120       # switchyard-load --duration: a safety bound, N ends it first
sc_ack_timeout=10       # seconds for perf to acknowledge enable / disable
sc_target_peer=haproxy  # the target: Switchyard's syscalls/request <= this peer's
sc_done=()              # "workers proxy" measured (at least one valid run)
sc_wall_s=0
declare -A sc_runs_ok sc_failed

# The system calls counted one by one (the rest count only in the total):
# the receives, sends and waits of an event loop; io_uring_enter (none unless
# a proxy uses io_uring, which would then do its reads and writes inside that
# one call); getsockopt (NGINX: one per request) and clock_gettime (HAProxy),
# the only others any proxy here makes 0.01 times per request or more.
sc_recv="recvfrom read recvmsg readv"
sc_send="sendto write writev sendmsg"
sc_wait="epoll_wait epoll_pwait epoll_pwait2"
sc_listed="$sc_recv $sc_send $sc_wait epoll_ctl timerfd_settime io_uring_enter getsockopt clock_gettime"

# Sets sc_names (the listed system calls this kernel has tracepoints for:
# perf refuses a missing event) and sc_perf_events (perf's -e/--filter
# arguments: every call and every failed call, in total and per name).
sc_names=()
sc_perf_events=()
sc_setup_events() {
  local dir="" d name
  for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
    [ -d "$d/events/syscalls" ] && { dir=$d/events/syscalls; break; }
  done
  sc_names=()
  sc_perf_events=(-e raw_syscalls:sys_enter -e raw_syscalls:sys_exit --filter 'ret < 0')
  for name in $sc_listed; do
    if [ -z "$dir" ] || [ ! -d "$dir/sys_enter_$name" ] || [ ! -d "$dir/sys_exit_$name" ]; then continue; fi
    sc_names+=("$name")
    sc_perf_events+=(-e "syscalls:sys_enter_$name" -e "syscalls:sys_exit_$name" --filter 'ret < 0')
  done
}

# Proxies of this cell: the access-log variant is left out (its log writes
# are not what the peers do).
sc_proxies() {
  local name
  for name in "${proxies[@]}"; do [ "$name" = switchyard-log ] || echo "$name"; done
}

# The processes perf counts: the proxy's process tree; for NGINX its workers
# only (the master sleeps in sigsuspend while workers serve).
sc_targets() { # name pid
  local p
  for p in $(tree_pids "$2"); do
    [ "$1" = nginx ] && [ "$p" = "$2" ] && continue
    echo "$p"
  done
}

# The thread IDs of these processes, one line.
sc_tids() {
  local p
  local -a tasks=()
  for p in "$@"; do tasks+=("/proc/$p/task/"*); done
  echo "${tasks[*]##*/}"
}

# perf stat -x, output -> "syscall<TAB>calls<TAB>errors" per line, "total"
# first, then sc_names in order; returns 1 unless every event has a count.
sc_parse_perf() {
  awk -F, -v names="${sc_names[*]}" '
    /^#/ || NF < 3 { next }
    { event = $3; count = $1
      if (count !~ /^[0-9]+$/) next # <not counted>, <not supported>
      if (event == "raw_syscalls:sys_enter") { calls["total"] = count; got++ }
      else if (event == "raw_syscalls:sys_exit") { errs["total"] = count; got++ }
      else if (sub(/^syscalls:sys_enter_/, "", event)) { calls[event] = count; got++ }
      else if (sub(/^syscalls:sys_exit_/, "", event)) { errs[event] = count; got++ } }
    END {
      n = split(names, name, " ")
      if (got != 2 * n + 2) exit 1
      printf "total\t%d\t%d\n", calls["total"], errs["total"]
      for (i = 1; i <= n; i++) printf "%s\t%d\t%d\n", name[i], calls[name[i]], errs[name[i]] }' "$1"
}

# sc_perf_command COMMAND CTL_FD ACK_FD PERF_PID: sends "enable" or "disable"
# to perf stat's control FIFO and waits for its "ack", which perf writes
# after it has switched the counters (1 if perf exits or does not answer).
sc_perf_command() {
  local reply deadline
  deadline=$(($(now_ms) + sc_ack_timeout * 1000))
  echo "$1" >&"$2"
  while :; do
    if read -r -t 0.1 -u "$3" reply && [ "$reply" = ack ]; then return 0; fi
    alive "$4" && [ "$(now_ms)" -lt "$deadline" ] || return 1
  done
}

# Ends perf stat: SIGINT makes it write its counts and exit.
sc_perf_stop() {
  local deadline
  deadline=$(($(now_ms) + sc_ack_timeout * 1000))
  kill -INT "$1" 2>/dev/null || true
  while alive "$1" && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.05; done
  stop_pid "$1" 1
}

# sc_load PORT N OUTFILE: N keep-alive GET / over sc_conns connections;
# prints "requests ok failures stopped_by".
sc_load() {
  start_bg "$3" timeout $((sc_load_limit + 30)) "$load_bin" --target "127.0.0.1:$1" \
    --max-requests "$2" --keepalive "$sc_conns" --bytes-percent 0 --duration "$sc_load_limit" \
    --timeout-ms 30000 --json
  wait "$started_pid" || true
  forget_pid "$started_pid"
  mc_parse_load "$3"
}

# sc_run WORKERS NAME PORT PID RUN: one counted run; appends its per-syscall
# counts to the syscalls TSV. Returns 1 (with a message) if the run is void.
sc_run() {
  local workers=$1 name=$2 port=$3 pid=$4 run=$5 dir perf_pid ctl_fd ack_fd tids counters events
  local requests ok failures stopped void=""
  local -a targets
  dir="$tmp/syscalls/$name-w$workers"
  mapfile -t targets < <(sc_targets "$name" "$pid")
  [ ${#targets[@]} -gt 0 ] || { log "syscalls: $name: no process to count; void"; return 1; }
  rm -f "$dir/perf-$run.csv" "$dir/perf-ctl" "$dir/perf-ack"
  mkfifo "$dir/perf-ctl" "$dir/perf-ack"
  # Opened read-write, so that neither this script nor perf blocks in open().
  exec {ctl_fd}<>"$dir/perf-ctl" {ack_fd}<>"$dir/perf-ack"
  tids=$(sc_tids "${targets[@]}")
  # -D -1: counters opened disabled; enabled below once perf listens.
  start_bg "$dir/perf-$run.log" perf stat -x, -o "$dir/perf-$run.csv" -D -1 \
    --control "fifo:$dir/perf-ctl,$dir/perf-ack" "${sc_perf_events[@]}" \
    -p "$(IFS=,; echo "${targets[*]}")"
  perf_pid=$started_pid
  if ! sc_perf_command enable "$ctl_fd" "$ack_fd" "$perf_pid"; then
    void="perf did not start counting $name (${targets[*]})"
  else
    # -p counts the threads that exist when perf reads the target's thread
    # list: the same threads before perf started and now means it has them
    # all; then one counter per event and thread.
    events=$((2 * ${#sc_names[@]} + 2))
    counters=$(find "/proc/$perf_pid/fd" -lname 'anon_inode:*perf_event*' 2>/dev/null | wc -l)
    if [ "$(sc_tids "${targets[@]}")" != "$tids" ]; then
      void="$name started or ended a thread while perf attached"
    elif [ "$counters" -ne $((events * $(wc -w <<<"$tids"))) ]; then
      void="perf has $counters counters for $name, not $events events x $(wc -w <<<"$tids") threads"
    fi
  fi
  if [ -z "$void" ]; then
    read -r requests ok failures stopped <<<"$(sc_load "$port" "$syscalls_requests" "$dir/load-$run.json")"
    sc_failed[$workers $name]=$((${sc_failed[$workers $name]:-0} + failures))
    sc_perf_command disable "$ctl_fd" "$ack_fd" "$perf_pid" || void="perf did not stop counting $name"
  fi
  sc_perf_stop "$perf_pid"
  exec {ctl_fd}>&- {ack_fd}>&-
  if [ -n "$void" ]; then
    log "syscalls: $void; void. perf's output:"
    tail -n 5 "$dir/perf-$run.log" >&2 || true
    return 1
  fi
  if ! sc_parse_perf "$dir/perf-$run.csv" >"$dir/perf-$run.tsv"; then
    log "syscalls: $name: no complete counts from perf in $dir/perf-$run.csv; void"
    return 1
  fi
  if [ "$requests" != "$syscalls_requests" ] || [ "$ok" != "$syscalls_requests" ]; then
    log "syscalls: $name: switchyard-load made $requests requests, $ok ok, $failures failed (stopped by $stopped), not $syscalls_requests ok; void"
    return 1
  fi
  if ! alive "$pid"; then
    log "syscalls: $name exited during the run; void"
    return 1
  fi
  awk -F'\t' -v OFS='\t' -v w="$workers" -v p="$name" -v r="$run" -v n="$ok" \
    '{ print w, p, r, n, $1, $2, $3 }' "$dir/perf-$run.tsv" >>"$sc_tsv"
  log "syscalls: workers=$workers $name run $run/$runs: $(awk -F'\t' -v w="$workers" -v p="$name" -v r="$run" \
    '$1 == w && $2 == p && $3 == r && $5 == "total" { printf "%d calls, %d failed, %.2f calls/request", $6, $7, $6 / $4 }' "$sc_tsv")"
}

run_syscalls() {
  local workers name t0 port pid run any
  local -a names
  # The plain cells' config, without the TLS listener (start_proxy reads want_tls).
  # shellcheck disable=SC2034
  local want_tls=0
  t0=$(now_ms)
  sc_tsv="${out%.tsv}-syscalls.tsv"
  printf 'workers\tproxy\trun\trequests\tsyscall\tcalls\terrors\n' >"$sc_tsv"
  mapfile -t names < <(sc_proxies)
  sc_setup_events
  log "syscalls: perf stat on the syscall tracepoints (total and ${sc_names[*]}) over $syscalls_requests keep-alive GET / over $sc_conns connections (switchyard-load), per proxy, workers ${worker_counts[*]}, $runs run(s): ${names[*]}"
  for workers in "${worker_counts[@]}"; do
    for name in "${names[@]}"; do
      mkdir -p "$tmp/syscalls/$name-w$workers"
      start_proxy "$name" "$workers" "$tmp/syscalls/$name-w$workers" || continue
      port=$proxy_port pid=$proxy_pid
      sc_load "$port" "$sc_warmup_requests" "$tmp/syscalls/$name-w$workers/warmup.json" >/dev/null
      any=0
      for ((run = 1; run <= runs; run++)); do
        if sc_run "$workers" "$name" "$port" "$pid" "$run"; then
          any=1
          sc_runs_ok[$workers $name]=$((${sc_runs_ok[$workers $name]:-0} + 1))
        fi
      done
      [ "$any" -eq 1 ] && sc_done+=("$workers $name")
      stop_pid "$pid"
    done
  done
  sc_wall_s=$((($(now_ms) - t0) / 1000))
}

sc_has() { case " ${sc_done[*]/ /:} " in *" ${1/ /:} "*) return 0 ;; esac; return 1; }

# sc_value WORKERS PROXY SYSCALL...: calls per request of these syscalls (summed),
# over all valid runs (total calls / total requests); column 6 calls, 7 errors.
sc_per_req() {
  local workers=$1 name=$2 col=$3
  shift 3
  awk -F'\t' -v w="$workers" -v p="$name" -v c="$col" -v list=" $* " '
    NR > 1 && $1 == w && $2 == p {
      if (!(($3) in seen)) { seen[$3] = 1; n += $4 }
      if (index(list, " " $5 " ")) s += $c }
    END { if (n > 0) printf "%.2f", s / n; else print "" }' "$sc_tsv"
}

# Per-run totals per request, "min max" over the valid runs.
sc_range() {
  awk -F'\t' -v w="$1" -v p="$2" '
    NR > 1 && $1 == w && $2 == p && $5 == "total" { v = $6 / $4
      if (!k++ || v < lo) lo = v; if (k == 1 || v > hi) hi = v }
    END { if (k) printf "%.2f %.2f", lo, hi }' "$sc_tsv"
}

# Appends the cell's rows to the summary TSV and prints its tables.
report_syscalls() {
  local workers name total failed range lo hi
  echo
  echo "== syscalls per request (perf stat on the syscall tracepoints, every thread of the proxy; NGINX: its workers),"
  echo "   $syscalls_requests keep-alive GET / over $sc_conns connections (switchyard-load), $runs run(s); ${sc_wall_s}s =="
  echo "switchyard $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), haproxy $(haproxy -v 2>/dev/null | awk 'NR == 1 {print $3}'), nginx $(nginx -v 2>&1 | sed 's|.*nginx/||'), $(perf --version)"
  echo "counted at full speed (tracepoints do not stop the proxy); failed = calls that returned an error"
  echo "(on these non-blocking sockets: reads with nothing to read yet, EAGAIN); other = the rest of the total"
  for workers in "${worker_counts[@]}"; do
    echo
    echo "-- workers = $workers --"
    printf '%-15s %9s %17s %7s %7s %7s %10s %9s %8s %7s\n' proxy requests "syscalls/req" failed recv send \
      epoll_wait epoll_ctl timerfd other
    while read -r name; do
      if ! sc_has "$workers $name"; then
        printf '%-15s %9s\n' "$name" "(not measured)"
        continue
      fi
      total=$(sc_per_req "$workers" "$name" 6 total)
      failed=$(sc_per_req "$workers" "$name" 7 total)
      read -r lo hi <<<"$(sc_range "$workers" "$name")"
      range="$total"
      [ "${sc_runs_ok[$workers $name]}" -gt 1 ] && range="$total ($lo-$hi)"
      local recv send epwait ctl timer other
      recv=$(sc_per_req "$workers" "$name" 6 "$sc_recv")
      send=$(sc_per_req "$workers" "$name" 6 "$sc_send")
      epwait=$(sc_per_req "$workers" "$name" 6 "$sc_wait")
      ctl=$(sc_per_req "$workers" "$name" 6 epoll_ctl)
      timer=$(sc_per_req "$workers" "$name" 6 timerfd_settime)
      other=$(awk -v t="$total" -v a="$recv" -v b="$send" -v c="$epwait" -v d="$ctl" -v e="$timer" \
        'BEGIN { printf "%.2f", t - a - b - c - d - e }')
      printf '%-15s %9s %17s %7s %7s %7s %10s %9s %8s %7s\n' "$name" \
        "$((syscalls_requests * ${sc_runs_ok[$workers $name]}))" "$range" "$failed" "$recv" "$send" \
        "$epwait" "$ctl" "$timer" "$other"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workers" "$name" syscalls \
        "$sc_conns" "${sc_runs_ok[$workers $name]}" - - - - - - - - "${sc_failed[$workers $name]:-0}" - - \
        "$total" - - >>"$out"
    done < <(sc_proxies)
    if sc_has "$workers switchyard" && sc_has "$workers $sc_target_peer"; then
      local sy peer
      sy=$(sc_per_req "$workers" switchyard 6 total)
      peer=$(sc_per_req "$workers" "$sc_target_peer" 6 total)
      printf 'target: switchyard syscalls/req <= %s: %s vs %s: %s\n' "$sc_target_peer" "$sy" "$peer" \
        "$(awk -v a="$sy" -v b="$peer" 'BEGIN { print (a + 0 <= b + 0) ? "ok" : "MISS" }')"
    fi
    # Every counted syscall that any proxy makes at least 0.01 times per
    # request: calls (and failed calls) per request, side by side; "(rest)":
    # the calls not counted by name (total minus the named ones).
    echo
    echo "per syscall, calls/request (failed/request in brackets when any):"
    local -a measured=()
    while read -r name; do sc_has "$workers $name" && measured+=("$name"); done < <(sc_proxies)
    [ ${#measured[@]} -gt 0 ] || continue
    awk -F'\t' -v w="$workers" -v names="${measured[*]}" '
      BEGIN { np = split(names, P, " ") }
      NR > 1 && $1 == w {
        if (!(($2, $3) in seen)) { seen[$2, $3] = 1; n[$2] += $4 }
        calls[$2, $5] += $6; errs[$2, $5] += $7; if ($5 != "total") sys[$5] = 1 }
      END {
        for (i = 1; i <= np; i++) { p = P[i]; rest = calls[p, "total"]; rest_errs = errs[p, "total"]
          for (s in sys) { rest -= calls[p, s]; rest_errs -= errs[p, s] }
          calls[p, "(rest)"] = rest; errs[p, "(rest)"] = rest_errs }
        sys["(rest)"] = 1
        printf "%-18s", "syscall"; for (i = 1; i <= np; i++) printf " %17s", P[i]; printf "\n"
        for (s in sys) { keep = 0
          for (i = 1; i <= np; i++) if (n[P[i]] && calls[P[i], s] / n[P[i]] >= 0.01) keep = 1
          if (!keep) continue
          line = sprintf("%-18s", s); top = 0
          for (i = 1; i <= np; i++) { p = P[i]; v = n[p] ? calls[p, s] / n[p] : 0
            cell = sprintf("%.2f", v)
            if (errs[p, s] > 0) cell = cell ((errs[p, s] / n[p] < 0.005) ? " (<0.01)" : sprintf(" (%.2f)", errs[p, s] / n[p]))
            line = line sprintf(" %17s", cell); if (v > top) top = v }
          printf "%09.4f\t%s\n", top, line }
      }' "$sc_tsv" | { IFS= read -r header; echo "$header"; sort -r | cut -f 2-; }
  done
  echo "syscalls TSV: $sc_tsv"
}
