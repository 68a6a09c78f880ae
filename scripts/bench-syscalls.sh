# shellcheck shell=bash disable=SC2154 # its variables are set by scripts/bench.sh
# The syscalls cell of scripts/bench.sh: system calls per proxied keep-alive
# request, for Switchyard and the peers, counted by `strace -c -f` attached to
# the proxy over an exact number of requests. Sourced by scripts/bench.sh (not
# run on its own): it uses that script's log, start_proxy, tree_pids, the
# helpers of scripts/lib/processes.sh (start_bg, stop_pid, forget_pid,
# now_ms), mc_parse_load (scripts/bench-metrics.sh), and its variables (repo,
# tmp, proxies, worker_counts, runs, load_bin, syscalls_requests, out). See
# bench/README.md, "The syscalls cell".
#
# How, per worker count, proxy and run: the proxy is started with the same
# config as in the plain cells (start_proxy; plain listener only), warmed up
# with switchyard-load (its upstream connections opened), then strace attaches
# to the proxy's processes (all their threads; NGINX: the workers, not the
# idle master), switchyard-load sends exactly N keep-alive GET / over 50
# connections, and strace is stopped by its PID (SIGTERM: it detaches and
# writes its summary). Counts only: strace stops the proxy at every system
# call, so its throughput under strace means nothing.

sc_conns=50             # keep-alive connections of switchyard-load
sc_warmup_requests=2000 # before strace attaches: upstream connections, caches
sc_load_limit=120       # switchyard-load --duration: a safety bound, N ends it first
sc_attach_timeout=10    # seconds for strace to report every process attached
sc_target_peer=haproxy  # the target: Switchyard's syscalls/request <= this peer's
sc_done=()              # "workers proxy" measured (at least one valid run)
sc_wall_s=0
declare -A sc_runs_ok sc_failed

# Proxies of this cell: the access-log variant is left out (its log writes
# are not what the peers do).
sc_proxies() {
  local name
  for name in "${proxies[@]}"; do [ "$name" = switchyard-log ] || echo "$name"; done
}

# The processes strace attaches to: the proxy's process tree; for NGINX its
# workers only (the master sleeps in sigsuspend while workers serve).
sc_targets() { # name pid
  local p
  for p in $(tree_pids "$2"); do
    [ "$1" = nginx ] && [ "$p" = "$2" ] && continue
    echo "$p"
  done
}

# strace -c summary -> "syscall<TAB>calls<TAB>errors" per line (the errors
# column is empty when no call of that syscall failed).
sc_parse_strace() {
  awk '/^-+ / { sep++; next }
       sep >= 1 && NF >= 5 { name = $NF; calls = $4; errs = (NF >= 6) ? $5 : 0
                             printf "%s\t%d\t%d\n", name, calls, errs }' "$1"
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
  local workers=$1 name=$2 port=$3 pid=$4 run=$5 dir strace_pid deadline attached
  local requests ok failures stopped p
  local -a targets strace_args=()
  dir="$tmp/syscalls/$name-w$workers"
  mapfile -t targets < <(sc_targets "$name" "$pid")
  [ ${#targets[@]} -gt 0 ] || { log "syscalls: $name: no process to attach to; void"; return 1; }
  for p in "${targets[@]}"; do strace_args+=(-p "$p"); done
  rm -f "$dir/strace-$run.txt"
  start_bg "$dir/strace-$run.log" strace -c -f -o "$dir/strace-$run.txt" "${strace_args[@]}"
  strace_pid=$started_pid
  # strace says "Process P attached" (with -f: "... with N threads") once per -p.
  deadline=$(($(now_ms) + sc_attach_timeout * 1000))
  while :; do
    attached=$(grep -c 'Process [0-9]* attached' "$dir/strace-$run.log" 2>/dev/null || true)
    [ "${attached:-0}" -ge ${#targets[@]} ] && break
    if ! alive "$strace_pid" || [ "$(now_ms)" -ge "$deadline" ]; then
      log "syscalls: strace did not attach to $name (${targets[*]}); void. Its output:"
      tail -n 5 "$dir/strace-$run.log" >&2 || true
      stop_pid "$strace_pid"
      return 1
    fi
    sleep 0.05
  done
  read -r requests ok failures stopped <<<"$(sc_load "$port" "$syscalls_requests" "$dir/load-$run.json")"
  stop_pid "$strace_pid" 10
  sc_failed[$workers $name]=$((${sc_failed[$workers $name]:-0} + failures))
  if ! grep -q ' total$' "$dir/strace-$run.txt" 2>/dev/null; then
    log "syscalls: $name: no summary from strace in $dir/strace-$run.txt; void"
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
  sc_parse_strace "$dir/strace-$run.txt" |
    awk -F'\t' -v OFS='\t' -v w="$workers" -v p="$name" -v r="$run" -v n="$ok" \
      '{ print w, p, r, n, $1, $2, $3 }' >>"$sc_tsv"
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
  log "syscalls: strace -c -f over $syscalls_requests keep-alive GET / over $sc_conns connections (switchyard-load), per proxy, workers ${worker_counts[*]}, $runs run(s): ${names[*]}"
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

sc_recv="recvfrom read recvmsg readv recvmmsg"
sc_send="sendto write writev sendmsg sendmmsg sendfile"
sc_wait="epoll_wait epoll_pwait epoll_pwait2"

# Appends the cell's rows to the summary TSV and prints its tables.
report_syscalls() {
  local workers name total failed range lo hi
  echo
  echo "== syscalls per request (strace -c -f attached to the proxy: all threads; NGINX: its workers),"
  echo "   $syscalls_requests keep-alive GET / over $sc_conns connections (switchyard-load), $runs run(s); ${sc_wall_s}s =="
  echo "switchyard $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), haproxy $(haproxy -v 2>/dev/null | awk 'NR == 1 {print $3}'), nginx $(nginx -v 2>&1 | sed 's|.*nginx/||'), $(strace -V | head -n 1)"
  echo "counts only: strace stops the proxy at every call, so its speed under strace means nothing;"
  echo "failed = calls that returned an error (strace's errors column: EAGAIN on non-blocking sockets)"
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
    # Every syscall that any proxy makes at least 0.01 times per request: calls
    # (and failed calls) per request, side by side.
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
