#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors (SWITCHYARD_WERROR),
# and runs the tests with ctest: the unit tests in parallel, then the
# integration tests one at a time.
#   ./scripts/test.sh              RelWithDebInfo build in build/
#   ./scripts/test.sh --sanitize   ASan + UBSan build in build-asan/
#   ./scripts/test.sh --tsan       ThreadSanitizer build in build-tsan/
#   ./scripts/test.sh --io-uring   RelWithDebInfo build on Asio's io_uring backend
#                                  (SWITCHYARD_IO_URING) in build-io-uring/
#   ./scripts/test.sh --fuzz       also, afterwards, 10 s per fuzz target (scripts/fuzz.sh --smoke)
#   ./scripts/test.sh --ci         what CI runs (.ci/run): a Release build (-O3) in
#                                  build-ci-release/ and every test on it, the fuzz smoke run,
#                                  and the .deb check (scripts/check-package.sh) on that build
#   -R REGEX                       only the tests whose name matches (unit.<layer>.Suite.Name,
#                                  integration.Suite.Name); each step still runs only its own kind
# Other arguments go to every ctest call (e.g. -E REGEX, --repeat until-fail:3).
# At the end it prints passed/failed/skipped per step, every skipped test with
# its reason, and the time of each step; it exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

die() { echo "test.sh: $*" >&2; exit 2; }

mode=default fuzz=0 ci=0 pattern=""
ctest_args=()
while (($#)); do
  case "$1" in
    --sanitize | --tsan | --io-uring)
      [ "$mode" = default ] || die "one of --sanitize, --tsan, --io-uring"
      mode=${1#--}
      ;;
    --fuzz) fuzz=1 ;;
    --ci) ci=1 ;;
    -R | --tests-regex) [ $# -ge 2 ] || die "$1 needs a regular expression"; pattern=$2; shift ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) ctest_args+=("$1") ;;
  esac
  shift
done
[[ $ci == 0 || $mode == default ]] || die "--ci runs the default build; no --sanitize/--tsan/--io-uring with it"

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
case $mode in
  sanitize) build_dir=build-asan; cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DSWITCHYARD_SANITIZE=ON) ;;
  tsan) build_dir=build-tsan; cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHYARD_TSAN=ON) ;;
  io-uring) build_dir=build-io-uring; cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHYARD_IO_URING=ON) ;;
esac
# CI builds once, in Release: -O3 warns where -O2 does not (so everything,
# tests and benchmarks too, is built with warnings as errors at -O3), the
# .deb is made from this build, and a second full build would push CI past
# 30 minutes on two cores. The default RelWithDebInfo build stays the local one.
if ((ci)); then build_dir=build-ci-release; cmake_args=(-DCMAKE_BUILD_TYPE=Release); fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

summary=()  # one line per step, printed at the end
failed=0
step_start=0
begin() { step_start=$SECONDS; echo; echo "== $1"; }
took() { echo "$((SECONDS - step_start)) s"; }

build() {  # dir, cmake arguments...: everything, benchmarks too, warnings as errors
  local dir=$1; shift
  begin "build $dir ($*)"
  cmake -S . -B "$dir" "$@" -DSWITCHYARD_BENCH=ON -DSWITCHYARD_WERROR=ON >/dev/null
  cmake --build "$dir" -j"$(nproc)"
  summary+=("build $dir: ok ($(took))")
}

# ctest on one kind of test (label unit or integration) in `dir`; the user's
# -R narrows it further. Results go to a JUnit file that ctest_summary.py
# counts: ctest's own "100% tests passed" counts a skipped test as passed.
run_kind() {  # dir, kind, extra ctest arguments...
  local dir=$1 kind=$2; shift 2
  local junit="$root/$dir/ctest-$kind.xml" status=0
  begin "$kind tests in $dir"
  rm -f "$junit"
  if [ -n "$pattern" ]; then
    local listed
    listed=$(ctest --test-dir "$dir" -N -L "^$kind\$" -R "$pattern")
    if ! grep -q '^ *Test *#' <<<"$listed"; then
      summary+=("$kind ($dir): no test matches -R '$pattern'")
      return 0
    fi
  fi
  (cd "$dir" && ctest --output-on-failure -L "^$kind\$" ${pattern:+-R "$pattern"} \
    --output-junit "$junit" "$@" ${ctest_args[@]+"${ctest_args[@]}"}) || status=$?
  local line
  line=$(python3 scripts/ctest_summary.py "$kind ($dir, $(took))" "$junit") || status=1
  summary+=("$line")
  ((status == 0)) || failed=1
}

step() {  # title, command...: a check outside ctest (fuzzing, the package)
  local title=$1; shift
  begin "$title"
  if "$@"; then summary+=("$title: ok ($(took))"); else summary+=("$title: FAILED ($(took))"); failed=1; fi
}

./scripts/install-deps.sh
build "$build_dir" "${cmake_args[@]}"
run_kind "$build_dir" unit -j"$(nproc)"
run_kind "$build_dir" integration
if ((fuzz || ci)); then step "fuzz smoke (scripts/fuzz.sh --smoke)" ./scripts/fuzz.sh --smoke; fi
if ((ci)); then step ".deb check (scripts/check-package.sh)" ./scripts/check-package.sh --build-dir "$build_dir"; fi

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
if [ -n "$pattern" ] && ! printf '%s\n' "${summary[@]}" | grep -q ' passed'; then
  echo "test.sh: no test matches -R '$pattern'" >&2
  exit 1
fi
exit "$failed"
