# shellcheck shell=bash disable=SC2154 # its variables are set by scripts/bench.sh
# The metrics-cost cell of scripts/bench.sh: what the per-request
# traffic metrics cost, as CPU instructions per request counted by callgrind,
# with server.metrics = true and = false, and the same pair with the access
# log written to a file. Sourced by scripts/bench.sh (not run on its own): it
# uses that script's log and the helpers of scripts/lib/processes.sh
# (start_bg, stop_pid, forget_pid, wait_answer, free_port, now_us), and its
# variables (repo, tmp, echo_port, switchyard_bin, load_bin, metrics_requests,
# out). See bench/README.md, "The metrics-cost cell".
#
# How: Switchyard (workers = 1) runs under valgrind --tool=callgrind, which
# counts every instruction the process executes (all threads: the worker and
# the control thread), whatever else the machine is doing. Each variant is
# started twice: once with no load (start-up, one readiness request,
# shutdown) and once with N keep-alive GETs from switchyard-load over a few
# connections; instructions/request = (Ir(N) - Ir(0)) / N. Switchyard is
# stopped with SIGTERM (callgrind writes its counts at exit) and waited for
# with a deadline.

metrics_conns=4           # keep-alive connections of switchyard-load
metrics_ready_timeout=60  # start-up under callgrind is many times slower than native
metrics_stop_timeout=60   # SIGTERM -> drained, exited and callgrind's file written
metrics_load_limit=300    # switchyard-load --duration: a safety bound, N ends it first
metrics_target_pct=3      # the target: metrics cost under 3 % of the instructions per request
# Variants: the proxy column of the summary TSV.
metrics_variants=(switchyard switchyard-nometrics switchyard-log switchyard-log-nometrics)
metrics_done=()           # variants measured
metrics_wall_s=0          # wall time of the whole cell
declare -A mc_ipr mc_failed

mc_metrics_flag() { case "$1" in *-nometrics) echo false ;; *) echo true ;; esac; }
mc_access_log() { case "$1" in switchyard-log*) echo file ;; *) echo off ;; esac; }

# Stops PID with SIGTERM and waits up to metrics_stop_timeout for it to exit;
# KILLs it and returns 1 if it did not (callgrind then writes no counts).
mc_stop() {
  local pid=$1 deadline
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$(($(now_us) + metrics_stop_timeout * 1000000))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(now_us)" -ge "$deadline" ]; then
      stop_pid "$pid"
      return 1
    fi
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

# switchyard-load --json output -> "requests ok failures stopped_by" ("0 0 0 none" if unreadable).
mc_parse_load() {
  python3 - "$1" <<'EOF'
import json, sys
summary = None
try:
    with open(sys.argv[1]) as f:
        for line in f:
            if line.startswith("{"):
                summary = json.loads(line)
except (OSError, ValueError):
    pass
if summary is None:
    print("0 0 0 none")
else:
    print(summary["requests"], summary["ok"], summary["failures"], summary["stopped_by"])
EOF
}

# mc_run VARIANT N: one callgrind run of Switchyard with N requests (0: none
# but the readiness request). Sets mc_ir (instructions of the whole process),
# mc_secs (wall time) and mc_dir; returns 1 (with a message) if the run is void.
mc_run() {
  local variant=$1 n=$2 port access_log pid t0 requests=0 ok=0 failures=0 stopped=none
  mc_dir="$tmp/metrics-cost/$variant-n$n"
  mkdir -p "$mc_dir"
  port=$(free_port)
  access_log=off
  [ "$(mc_access_log "$variant")" = file ] && access_log="$mc_dir/access.log"
  cat >"$mc_dir/switchyard.toml" <<EOF
[server]
workers = 1
state_file = "$mc_dir/state.json"
metrics = $(mc_metrics_flag "$variant")

[log]
level = "warn"
access_log = "$access_log"

[[listeners]]
address = "127.0.0.1:$port"

[control]
socket = "$mc_dir/control.sock"

[routing]
active = "blue"

[pools.blue]
servers = [{ address = "127.0.0.1:$echo_port" }]
EOF
  t0=$(now_us)
  start_bg "$mc_dir/proxy.log" valgrind --tool=callgrind --callgrind-out-file="$mc_dir/callgrind.out" \
    --dump-instr=no --collect-atstart=yes --log-file="$mc_dir/valgrind.log" \
    "$switchyard_bin" -c "$mc_dir/switchyard.toml"
  pid=$started_pid
  if ! wait_answer "$pid" "http://127.0.0.1:$port/" bench "$metrics_ready_timeout"; then
    log "metrics-cost: $variant under callgrind did not answer within ${metrics_ready_timeout}s; void. Its logs:"
    tail -n 10 "$mc_dir/proxy.log" "$mc_dir/valgrind.log" >&2 || true
    stop_pid "$pid"
    return 1
  fi
  if [ "$n" -gt 0 ]; then
    # Only GET / (no ?bytes=), one request at a time per connection.
    start_bg "$mc_dir/load.json" timeout $((metrics_load_limit + 60)) "$load_bin" \
      --target "127.0.0.1:$port" --max-requests "$n" --keepalive "$metrics_conns" \
      --bytes-percent 0 --duration "$metrics_load_limit" --timeout-ms 30000 --json
    wait "$started_pid" || true
    forget_pid "$started_pid"
    read -r requests ok failures stopped <<<"$(mc_parse_load "$mc_dir/load.json")"
  fi
  if ! mc_stop "$pid"; then
    log "metrics-cost: $variant did not exit within ${metrics_stop_timeout}s of SIGTERM; killed, no count"
    return 1
  fi
  mc_secs=$(awk -v us=$(($(now_us) - t0)) 'BEGIN { printf "%.1f", us / 1000000 }')
  mc_ir=$(sed -n 's/^totals: *//p' "$mc_dir/callgrind.out" 2>/dev/null | head -n 1)
  if ! [[ $mc_ir =~ ^[0-9]+$ ]]; then
    log "metrics-cost: $variant: no instruction count in $mc_dir/callgrind.out; void"
    tail -n 10 "$mc_dir/valgrind.log" >&2 || true
    return 1
  fi
  if [ "$n" -gt 0 ] && { [ "$requests" != "$n" ] || [ "$ok" != "$n" ]; }; then
    log "metrics-cost: $variant: switchyard-load made $requests requests, $ok ok, $failures failed (stopped by $stopped), not $n ok; void"
    mc_failed[$variant]=$failures
    return 1
  fi
  mc_failed[$variant]=$failures
}

# Exclusive instructions per function in a callgrind file, as "Ir<TAB>name"
# (the name without its parameter list).
mc_functions() {
  callgrind_annotate --threshold=100 "$1" 2>/dev/null | awk '
    /^ *[0-9,]+ \( *[0-9.]+%\)  / {
      n = $1; gsub(/,/, "", n)
      sub(/^ *[0-9,]+ \( *[0-9.]+%\)  /, ""); sub(/ \[[^]]*\]$/, "")
      if ($0 == "PROGRAM TOTALS") next
      sub(/^[^:]*:/, ""); sub(/\(.*$/, "")  # file: prefix, parameter list
      c[$0] += n }
    END { for (f in c) printf "%d\t%s\n", c[f], f }'
}

run_metrics_cost() {
  local variant n t0 ir0 secs0 tsv keep
  t0=$(now_us)
  tsv="${out%.tsv}-metrics-cost.tsv"
  keep="${out%.tsv}-callgrind"
  mkdir -p "$keep"
  printf 'variant\tmetrics\taccess_log\tconnections\trequests\tir_total\tir_baseline\tinstr_per_req\tfailed\twall_s\twall_s_baseline\n' >"$tsv"
  log "metrics-cost: Switchyard workers=1 under callgrind, $metrics_requests keep-alive GET / over $metrics_conns connections, and a run with none, per variant: ${metrics_variants[*]}"
  for variant in "${metrics_variants[@]}"; do
    mc_run "$variant" 0 || continue
    ir0=$mc_ir secs0=$mc_secs
    mc_run "$variant" "$metrics_requests" || continue
    n=$metrics_requests
    mc_ipr[$variant]=$(awk -v a="$mc_ir" -v b="$ir0" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n }')
    metrics_done+=("$variant")
    cp "$mc_dir/callgrind.out" "$keep/$variant.out"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$variant" "$(mc_metrics_flag "$variant")" \
      "$(mc_access_log "$variant")" "$metrics_conns" "$n" "$mc_ir" "$ir0" "${mc_ipr[$variant]}" \
      "${mc_failed[$variant]}" "$mc_secs" "$secs0" >>"$tsv"
    local lines=""
    if [ "$(mc_access_log "$variant")" = file ]; then
      lines=", access log $(wc -l <"$mc_dir/access.log" 2>/dev/null || echo 0) lines"
    fi
    log "metrics-cost: $variant: ${mc_ipr[$variant]} instructions/request (Ir $mc_ir with $n requests, $ir0 without; ${mc_secs}s + ${secs0}s$lines)"
  done
  metrics_wall_s=$(awk -v us=$(($(now_us) - t0)) 'BEGIN { printf "%.0f", us / 1000000 }')
}

# rel_pct ON OFF -> (ON - OFF) / OFF in %, two decimals ("" if either is missing).
mc_pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print ""; else printf "%.2f", (a - b) * 100 / b }'; }
mc_has() { case " ${metrics_done[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

# Appends the cell's rows to the summary TSV and prints its table, the
# verdict and where the metrics' instructions go.
report_metrics_cost() {
  local variant pct on off
  echo
  echo "== metrics-cost: CPU instructions per request (callgrind, whole process), Switchyard workers = 1,"
  echo "   $metrics_requests keep-alive GET / over $metrics_conns connections, minus a run without requests; ${metrics_wall_s}s =="
  echo "switchyard $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?') (plus uncommitted changes, if any), $(valgrind --version)"
  printf '%-26s %-8s %-11s %12s %14s %7s\n' variant metrics "access log" "instr/req" "metrics cost" failed
  for variant in "${metrics_variants[@]}"; do
    if ! mc_has "$variant"; then
      printf '%-26s %s\n' "$variant" "(not measured)"
      continue
    fi
    pct=""
    if [ "$(mc_metrics_flag "$variant")" = true ]; then
      pct=$(mc_pct "${mc_ipr[$variant]}" "${mc_ipr[$variant-nometrics]:-}")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' 1 "$variant" metrics-cost \
      "$metrics_conns" 1 - - - - - - - - "${mc_failed[$variant]}" "${mc_ipr[$variant]}" "${pct:--}" - - - >>"$out"
    printf '%-26s %-8s %-11s %12s %14s %7s\n' "$variant" "$(mc_metrics_flag "$variant")" \
      "$(mc_access_log "$variant")" "${mc_ipr[$variant]}" "${pct:+$pct %}" "${mc_failed[$variant]}"
  done
  echo
  for variant in switchyard switchyard-log; do
    on=${mc_ipr[$variant]:-} off=${mc_ipr[$variant-nometrics]:-}
    pct=$(mc_pct "$on" "$off")
    [ -n "$pct" ] || continue
    printf 'metrics cost, access log %-4s %+8.1f instr/req = %+.2f %%  (target < %s %%: %s)\n' \
      "$(mc_access_log "$variant"):" "$(awk -v a="$on" -v b="$off" 'BEGIN { print a - b }')" "$pct" \
      "$metrics_target_pct" "$(awk -v p="$pct" -v t="$metrics_target_pct" 'BEGIN { print (p < t) ? "ok" : "MISS" }')"
  done
  for variant in switchyard switchyard-nometrics; do
    local with_log=${variant/switchyard/switchyard-log}
    on=${mc_ipr[$with_log]:-} off=${mc_ipr[$variant]:-}
    pct=$(mc_pct "$on" "$off")
    [ -n "$pct" ] || continue
    printf 'access log cost (to a file), metrics %-5s %+8.1f instr/req = %+.2f %%\n' \
      "$(mc_metrics_flag "$variant"):" "$(awk -v a="$on" -v b="$off" 'BEGIN { print a - b }')" "$pct"
  done
  # Where the difference goes: exclusive instructions per function, metrics
  # on minus off (access log off). Small +/- in Asio and libc functions are
  # the scheduling of the 4 connections differing from run to run.
  if mc_has switchyard && mc_has switchyard-nometrics && command -v callgrind_annotate >/dev/null; then
    local keep="${out%.tsv}-callgrind"
    echo
    echo "where the metrics' instructions go (exclusive instructions/request by function, metrics on minus off, access log off):"
    mc_functions "$keep/switchyard-nometrics.out" >"$tmp/mc-off.tsv"
    mc_functions "$keep/switchyard.out" >"$tmp/mc-on.tsv"
    awk -F'\t' -v n="$metrics_requests" '
      NR == FNR { off[$2] = $1; next }
      { on[$2] = $1 }
      END { for (f in on) d[f] = on[f] - off[f]; for (f in off) if (!(f in on)) d[f] = -off[f]
            for (f in d) printf "%+10.1f  %s\n", d[f] / n, substr(f, 1, 110) }' \
      "$tmp/mc-off.tsv" "$tmp/mc-on.tsv" | sort -g -r | awk '$1 + 0 >= 1' | head -n 8
    echo "(callgrind files: $keep; callgrind_annotate --threshold=100 FILE for the full profile)"
  fi
  echo "metrics-cost TSV: ${out%.tsv}-metrics-cost.tsv"
}
