#!/usr/bin/env bash
# Builds the Debian package: installs what is missing, builds a Release tree in
# build-release/ (as quickstart.sh does) and runs CPack's DEB generator
# (cmake/Packaging.cmake). Prints the path of the .deb on stdout (the build's
# output goes to stderr). Installs nothing.
#   ./scripts/package.sh                    Release build in build-release/
#   ./scripts/package.sh --build-dir DIR    package an existing Release tree (scripts/test.sh --ci)
#   sudo apt install ./build-release/switchyard_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=""
case "${1:-}" in
  --build-dir) [ $# -eq 2 ] || { echo "package.sh: --build-dir DIR" >&2; exit 2; }; build_dir=$2 ;;
  "") ;;
  *) echo "package.sh: unknown argument '$1'" >&2; exit 2 ;;
esac

./scripts/install-deps.sh >&2
if [ -z "$build_dir" ]; then
  build_dir=build-release
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_TESTS=OFF -DSWITCHYARD_BENCH=OFF >/dev/null
else
  # The package is what a user installs: optimised, whatever tree it comes from.
  type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
  [ "$type" = Release ] || { echo "package.sh: $build_dir is not a configured Release tree (${type:-none})" >&2; exit 2; }
fi
cmake --build "$build_dir" -j"$(nproc)" >&2   # cpack would build "all" anyway, one job at a time
rm -f "$build_dir"/switchyard_*.deb
(cd "$build_dir" && cpack -G DEB >/dev/null)

debs=("$build_dir"/switchyard_*.deb)
[ -f "${debs[0]}" ] || { echo "package.sh: cpack made no .deb" >&2; exit 1; }
realpath "${debs[0]}"
