# shellcheck shell=bash
# wrk's output read by the benchmark scripts (bench.sh, shadow-check.sh).
# Sourced; defines functions only.

# Latency as wrk prints it -> microseconds.
to_us() { # 197.00us | 1.05ms | 2.01s | 1.00m  ->  microseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") m = 1; else if (u == "ms") m = 1000; else if (u == "s") m = 1000000;
    else if (u == "m") m = 60000000; else m = 1
    printf "%.1f", n * m }'
}

# Parses wrk output: prints "rps requests errors p50_us p99_us".
parse_wrk() {
  local rps requests errors p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$1")
  requests=$(awk '/ requests in / {print $1}' "$1")
  errors=$(awk '/Socket errors:/ {gsub(/,/, ""); e += $4 + $6 + $8 + $10}
                /Non-2xx or 3xx responses:/ {e += $5} END {print e + 0}' "$1")
  p50=$(awk '$1 == "50%" {print $2}' "$1")
  p99=$(awk '$1 == "99%" {print $2}' "$1")
  if [ -z "$rps" ] || [ -z "$requests" ] || [ -z "$p50" ] || [ -z "$p99" ]; then
    echo "0 0 0 nan nan"
    return
  fi
  echo "$rps $requests $errors $(to_us "$p50") $(to_us "$p99")"
}
