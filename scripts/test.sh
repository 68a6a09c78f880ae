#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest.
#   ./scripts/test.sh              RelWithDebInfo build in build/
#   ./scripts/test.sh --sanitize   ASan + UBSan build in build-asan/
#   ./scripts/test.sh --tsan       ThreadSanitizer build in build-tsan/
#   ./scripts/test.sh --fuzz       also, after ctest, 10 s per fuzz target (scripts/fuzz.sh --smoke)
# Extra arguments after the mode go to ctest (e.g. -R integration).
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz=0  # --fuzz, anywhere among the arguments
args=()
for a in "$@"; do if [[ $a == --fuzz ]]; then fuzz=1; else args+=("$a"); fi; done
set -- ${args[@]+"${args[@]}"}

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
case "${1:-}" in
  --sanitize) build_dir=build-asan; cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DSWITCHYARD_SANITIZE=ON); shift ;;
  --tsan)     build_dir=build-tsan; cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHYARD_TSAN=ON); shift ;;
esac

./scripts/install-deps.sh
cmake -S . -B "$build_dir" "${cmake_args[@]}" -DSWITCHYARD_BENCH=ON >/dev/null
cmake --build "$build_dir" -j"$(nproc)"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$build_dir"
# Unit tests run in parallel; integration tests start processes and measure
# timeouts, so they run one at a time.
ctest --output-on-failure -j"$(nproc)" -R '^unit\.' "$@"
ctest --output-on-failure -R '^integration\.' "$@"
# The corpus replay is part of the unit tests; --fuzz adds a short libFuzzer run.
if ((fuzz)); then cd .. && ./scripts/fuzz.sh --smoke; fi
