# shellcheck shell=bash disable=SC2154 # its variables are set by scripts/bench.sh
# The idle-conns cell of scripts/bench.sh: what an idle keep-alive client
# connection costs each proxy in memory, and whether a new client is still
# served quickly while many are held. Sourced by scripts/bench.sh (not run on
# its own): it uses that script's log, start_proxy, the helpers of
# scripts/lib/processes.sh (start_bg, stop_pid, forget_pid, now_ms), and its
# variables (repo, tmp, proxies, worker_counts, runs, idle_conns, out). See
# bench/README.md, "The idle-conns cell".
#
# How, per worker count, run and proxy (runs interleaved across proxies, a
# fresh proxy per run so that no run inherits the memory of the one before):
# the proxy is started with the plain cells' config (plain listener only)
# except for its connection cap, raised to N + ic_conn_margin for this cell
# only (HAProxy maxconn, NGINX worker_connections, Switchyard
# server.max_connections); then bench/idle_conns.py warms it up, reads its
# RSS (VmRSS summed over its process tree), opens N connections that each
# send one GET / and read the response and then stay open and silent, reads
# the RSS again, times PROBES new clients (connect + GET / + whole response)
# while the N are held, checks that the N are still open, and closes them.

ic_conn_margin=256 # the proxies' connection cap is N + this (probes, upstream connections)
ic_fd_margin=64    # descriptors beyond the cap: listeners, logs, control sockets
ic_probes=20       # sequential new clients while the N are held
ic_deadline=50     # seconds for one client run: under the peers' 60 s keep-alive timeout
ic_target_peer=haproxy
ic_target_ms=10 # a new client's whole request while N are held: under this
ic_wall_s=0
ic_done=() # "workers proxy" measured (at least one valid run)

# The proxies' connection cap in this cell. NGINX starts closing idle
# keep-alive connections ("worker_connections are not enough, reusing
# connections") once fewer than 1/16 of its worker_connections are free: its
# worker_connections is the cap plus that sixteenth.
ic_conn_cap() { echo $((idle_conns + ic_conn_margin)); }
ic_nginx_worker_connections() { echo $(($(ic_conn_cap) + $(ic_conn_cap) / 15 + 1)); }

# Descriptors each process of the cell needs (the client and every proxy;
# NGINX warns if its worker_connections exceed its descriptor limit).
ic_fd_need() { echo $(($(ic_nginx_worker_connections) + ic_fd_margin)); }

# True if this shell may raise its soft descriptor limit to $1 (in a subshell:
# nothing changes here).
ic_fd_possible() { (ulimit -S -n "$1" 2>/dev/null || ulimit -n "$1" 2>/dev/null); }

# Proxies of this cell: the access-log variant is left out (idle connections
# write no log lines: it would be Switchyard again).
ic_proxies() {
  local name
  for name in "${proxies[@]}"; do [ "$name" = switchyard-log ] || echo "$name"; done
}

# bench/idle_conns.py's JSON -> tab-separated "status opened held_after
# held_end rss_before rss_after kib_per_conn probes_ok probe_failures
# median_ms max_ms open_s error" ("void" status if unreadable).
ic_parse() {
  python3 - "$1" "$idle_conns" <<'EOF'
import json, statistics, sys
r = None
try:
    with open(sys.argv[1]) as f:
        for line in f:
            if line.startswith("{"):
                r = json.loads(line)
except (OSError, ValueError):
    pass
n = int(sys.argv[2])
if r is None:
    print("\t".join(["void"] + ["-"] * 11 + ["no output from the client"]))
    sys.exit(0)
valid = "error" not in r and r["held_after"] == n
probes = r["probes_ms"]
print("\t".join(str(v) for v in [
    "ok" if valid else "void", r["opened"], r["held_after"], r["held_end"],
    r["rss_before_kib"], r["rss_after_kib"],
    "%.2f" % ((r["rss_after_kib"] - r["rss_before_kib"]) / n) if valid else "-",
    len(probes), r["probe_failures"],
    "%.3f" % statistics.median(probes) if probes else "-",
    "%.3f" % max(probes) if probes else "-",
    r["open_seconds"],
    "; ".join(([r["error"]] if "error" in r else []) + r["errors"]).replace("\t", " ") or "-"]))
EOF
}

# ic_run WORKERS NAME RUN: one run against a fresh proxy; appends a row to the
# cell's TSV. Returns 1 (with a message) if the run is void.
ic_run() {
  local workers=$1 name=$2 run=$3 dir client_pid status opened held_after held_end before after
  local kib probes_ok failures median max open_s error
  dir="$tmp/idle-conns/$name-w$workers-r$run"
  mkdir -p "$dir"
  start_proxy "$name" "$workers" "$dir" || return 1
  start_bg "$dir/client.json" timeout $((ic_deadline + 15)) python3 "$repo/bench/idle_conns.py" \
    --port "$proxy_port" --pid "$proxy_pid" --conns "$idle_conns" --probes "$ic_probes" \
    --deadline "$ic_deadline"
  client_pid=$started_pid
  wait "$client_pid" || true
  forget_pid "$client_pid"
  IFS=$'\t' read -r status opened held_after held_end before after kib probes_ok failures median max \
    open_s error <<<"$(ic_parse "$dir/client.json")"
  if ! alive "$proxy_pid"; then
    log "idle-conns: $name (workers=$workers) exited during the run; void. Its log:"
    tail -n 15 "$dir/proxy.log" >&2 || true
    status=void
  fi
  stop_pid "$proxy_pid"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workers" "$name" "$run" \
    "$idle_conns" "$status" "$opened" "$held_after" "$held_end" "$before" "$after" "$kib" "$probes_ok" \
    "$failures" "$median" "$max" "$open_s" >>"$ic_tsv"
  if [ "$status" != ok ]; then
    log "idle-conns: workers=$workers $name run $run/$runs: void: $error (client output: $dir/client.json)"
    return 1
  fi
  local failed_note=""
  [ "$failures" -gt 0 ] && failed_note=", $failures new clients failed"
  log "idle-conns: workers=$workers $name run $run/$runs: $held_end of $idle_conns held to the end (opened in ${open_s}s), RSS $before -> $after KiB = $kib KiB/conn, new client median $median ms, max $max ms$failed_note"
  [ "$error" = - ] || log "idle-conns: $name: $error"
}

run_idle_conns() {
  local workers name run t0 need soft
  local -a names
  # The plain cells' config, without the TLS listener (start_proxy reads
  # want_tls), and with every proxy's connection cap raised above N: for this
  # cell only (locals: the other cells keep theirs).
  # shellcheck disable=SC2034 # want_tls is read by start_proxy
  local want_tls=0 peer_maxconn switchyard_max_connections peer_worker_connections haproxy_global_extra
  # shellcheck disable=SC2034 # read by start_proxy and write_peer_config
  peer_maxconn=$(ic_conn_cap) switchyard_max_connections=$(ic_conn_cap)
  peer_worker_connections=$(ic_nginx_worker_connections)
  # HAProxy wants two descriptors per connection of maxconn (20.5 k for N =
  # 10000) and, since 2.6, fails to start if the hard limit is lower
  # (strict-limits is on by default). An idle client connection holds one
  # (its upstream connection goes back to the shared pool): let it start with
  # what the hard limit allows, warning, as before 2.6.
  # shellcheck disable=SC2034 # read by start_proxy
  haproxy_global_extra="    no strict-limits"
  t0=$(now_ms)
  ic_tsv="${out%.tsv}-idle-conns.tsv"
  printf 'workers\tproxy\trun\tconns\tstatus\topened\theld_after\theld_end\trss_before_kib\trss_after_kib\tkib_per_conn\tprobes\tprobe_failures\tnew_median_ms\tnew_max_ms\topen_s\n' >"$ic_tsv"
  # Every proxy started here (and the client) inherits this soft limit;
  # NGINX does not raise its own. Restored at the end of the cell.
  need=$(ic_fd_need)
  soft=$(ulimit -S -n)
  if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
    ulimit -S -n "$need" 2>/dev/null || ulimit -n "$need" ||
      { log "idle-conns: cannot raise the descriptor limit to $need; cell skipped"; return 0; }
  fi
  mapfile -t names < <(ic_proxies)
  log "idle-conns: $idle_conns idle keep-alive connections (each after one GET /) and $ic_probes new clients while they are held, per proxy, workers ${worker_counts[*]}, $runs run(s): ${names[*]}; connection caps $peer_maxconn (NGINX worker_connections $peer_worker_connections), descriptor limit $(ulimit -S -n)"
  for workers in "${worker_counts[@]}"; do
    for ((run = 1; run <= runs; run++)); do
      for name in "${names[@]}"; do
        if ic_run "$workers" "$name" "$run"; then
          case " ${ic_done[*]/ /:} " in *" $workers:$name "*) ;; *) ic_done+=("$workers $name") ;; esac
        fi
      done
    done
  done
  [ "$soft" = unlimited ] || [ "$soft" -ge "$need" ] || ulimit -S -n "$soft"
  ic_wall_s=$((($(now_ms) - t0) / 1000))
}

ic_has() { case " ${ic_done[*]/ /:} " in *" ${1/ /:} "*) return 0 ;; esac; return 1; }

# ic_stats WORKERS PROXY -> "runs held_min before after kib median max errors"
# over the valid runs: medians of RSS before/after, KiB/conn and the per-run
# new-client medians, the largest max; errors = failed new clients plus
# connections the proxy closed before the end.
ic_stats() {
  awk -F'\t' -v w="$1" -v p="$2" '
    function med(a, m,    i, j, t) {
      for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    NR > 1 && $1 == w && $2 == p && $5 == "ok" { m++
      b[m] = $9; a[m] = $10; k[m] = $11; md[m] = ($14 == "-") ? 0 : $14
      if (m == 1 || $8 < held) held = $8
      if ($15 != "-" && $15 + 0 > mx) mx = $15 + 0
      err += $13 + ($4 - $8) }
    END { if (m) printf "%d %d %d %d %.2f %.3f %.3f %d\n", m, held, med(b, m), med(a, m), med(k, m), med(md, m), mx, err }' "$ic_tsv"
}

# Appends the cell's rows to the summary TSV and prints its tables and targets.
report_idle_conns() {
  local workers name nruns held before after kib median max errs
  echo
  echo "== idle-conns: $idle_conns idle keep-alive client connections (each after one GET / and its response),"
  echo "   RSS of the proxy (VmRSS summed over its processes) before and after opening them, and $ic_probes"
  echo "   new clients (connect + GET / + whole response, one after the other) while they are held; $runs run(s), ${ic_wall_s}s =="
  echo "switchyard $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?'), haproxy $(haproxy -v 2>/dev/null | awk 'NR == 1 {print $3}'), nginx $(nginx -v 2>&1 | sed 's|.*nginx/||'); connection caps raised to $(ic_conn_cap) for this cell"
  echo "(NGINX worker_connections $(ic_nginx_worker_connections) per worker: preallocated at start, so in RSS before)"
  for workers in "${worker_counts[@]}"; do
    echo
    echo "-- workers = $workers --"
    printf '%-15s %10s %11s %11s %9s %16s %8s %7s\n' proxy "conns held" "RSS before" "RSS after" "KiB/conn" \
      "new client p50" "max" errors
    while read -r name; do
      if ! ic_has "$workers $name"; then
        printf '%-15s %10s\n' "$name" "(not measured)"
        continue
      fi
      read -r nruns held before after kib median max errs <<<"$(ic_stats "$workers" "$name")"
      printf '%-15s %10s %11s %11s %9s %16s %8s %7s\n' "$name" "$held" \
        "$(awk -v k="$before" 'BEGIN { printf "%.1f MiB", k / 1024 }')" \
        "$(awk -v k="$after" 'BEGIN { printf "%.1f MiB", k / 1024 }')" "$kib" "$median ms" "$max ms" "$errs"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$workers" "$name" \
        idle-conns "$idle_conns" "$nruns" - - - "$(awk -v m="$median" 'BEGIN { printf "%.1f", m * 1000 }')" - - \
        "$before" "$after" "$errs" - - - "$kib" "$(awk -v m="$max" 'BEGIN { printf "%.1f", m * 1000 }')" >>"$out"
    done < <(ic_proxies)
    if ic_has "$workers switchyard" && ic_has "$workers $ic_target_peer"; then
      local sy peer
      sy=$(ic_stats "$workers" switchyard | awk '{ print $5 }')
      peer=$(ic_stats "$workers" "$ic_target_peer" | awk '{ print $5 }')
      printf 'target: switchyard KiB/conn <= %s: %s vs %s: %s\n' "$ic_target_peer" "$sy" "$peer" \
        "$(awk -v a="$sy" -v b="$peer" 'BEGIN { print (a + 0 <= b + 0) ? "ok" : "MISS" }')"
    fi
    if ic_has "$workers switchyard"; then
      read -r nruns _ _ _ _ median max errs <<<"$(ic_stats "$workers" switchyard)"
      printf 'target: new client < %s ms: switchyard max %s ms (median %s ms) over %s tries, errors %s: %s\n' \
        "$ic_target_ms" "$max" "$median" "$((ic_probes * nruns))" "$errs" \
        "$(awk -v m="$max" -v t="$ic_target_ms" -v e="$errs" 'BEGIN { print (m + 0 < t && e == 0) ? "ok" : "MISS" }')"
    fi
  done
  echo "idle-conns TSV: $ic_tsv"
}
