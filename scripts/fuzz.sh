#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each one, one
# after the other, on a fresh copy of its seed corpus (fuzz/corpus/<target>
# plus fuzz/regressions/<target>). See fuzz/README.md.
#   ./scripts/fuzz.sh                     60 s per target
#   ./scripts/fuzz.sh --smoke             10 s per target (scripts/test.sh --fuzz and --ci)
#   ./scripts/fuzz.sh --seconds 3600 chunked framing
# Crashing inputs go to fuzz/crashes/<target>-crash-<sha1> (not committed; see
# the README for making one a regression test). Exits non-zero if any target
# found a crash, a leak or a timeout.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(request_head chunked framing config proxy_header control_command etcd_response h2_session)
seconds=60
targets=()
while (($#)); do
  case "$1" in
    --smoke) seconds=10 ;;
    --seconds)
      [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || { echo "fuzz.sh: --seconds needs a positive number" >&2; exit 2; }
      seconds=$2; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *)
      [[ " ${all_targets[*]} " == *" $1 "* ]] || { echo "fuzz.sh: unknown argument '$1' (targets: ${all_targets[*]})" >&2; exit 2; }
      targets+=("$1") ;;
  esac
  shift
done
((${#targets[@]})) || targets=("${all_targets[@]}")

# Longest input per target: a head is refused above 1 KiB (the targets' own
# limit), framing values are short; bodies and configs need room; a PROXY
# header is decided within 4 KiB (kProxyV2MaxBytes), a control line within
# 4 KiB (kMaxLineBytes): a little more, to reach both limits.
declare -A max_len=([request_head]=1536 [chunked]=4096 [framing]=512 [config]=4096
                    [proxy_header]=4200 [control_command]=4200 [etcd_response]=2048
                    [h2_session]=4096)
declare -A dict=([request_head]=http.dict [chunked]=http.dict [framing]=framing.dict [config]=config.dict
                 [proxy_header]=proxy.dict [control_command]=control.dict [etcd_response]=etcd.dict
                 [h2_session]=h2.dict)

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (scripts/install-deps.sh)" >&2; exit 2; }
build_dir=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSWITCHYARD_FUZZ=ON -DSWITCHYARD_TESTS=OFF -DSWITCHYARD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"

mkdir -p fuzz/crashes "$build_dir/fuzz-logs"
# libFuzzer adds detect_leaks; UBSan already aborts (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for t in "${targets[@]}"; do
  corpus="$build_dir/fuzz-corpus/$t"
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp fuzz/corpus/"$t"/* "$corpus"/
  if [[ -d fuzz/regressions/$t ]]; then cp fuzz/regressions/"$t"/* "$corpus"/ 2>/dev/null || true; fi
  log="$build_dir/fuzz-logs/$t.log"
  echo "== fuzz_$t: ${seconds}s, -max_len=${max_len[$t]}, log $log"
  status=0
  "$build_dir/fuzz/fuzz_$t" "$corpus" \
    -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout=10 \
    -dict="fuzz/dict/${dict[$t]}" -artifact_prefix="fuzz/crashes/$t-" \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1 || true)
  if ((status != 0)); then
    failed+=("$t")
    summary+=("fuzz_$t: FAILED (exit $status) after ${runs:-?} runs")
    echo "fuzz_$t FAILED (exit $status):"
    grep -E 'check failed|ERROR:|SUMMARY:|Test unit written|^artifact_prefix' "$log" || tail -n 30 "$log"
  else
    summary+=("fuzz_$t: ok, ${runs:-?} runs, ${rate:-?} exec/s, ${cov:-cov ?}")
  fi
done

echo
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "crashing inputs: fuzz/crashes/ (fuzz/README.md: turning a crash into a regression test)" >&2
  exit 1
fi
