#!/usr/bin/env bash
# Builds the Debian package: installs what is missing, builds a Release tree in
# build-release/ (as quickstart.sh does) and runs CPack's DEB generator
# (cmake/Packaging.cmake). Prints the path of the .deb. Installs nothing.
#   sudo apt install ./build-release/switchyard_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_TESTS=OFF -DSWITCHYARD_BENCH=OFF >/dev/null
cmake --build build-release -j"$(nproc)"   # cpack would build "all" anyway
rm -f build-release/switchyard_*.deb
(cd build-release && cpack -G DEB >/dev/null)

debs=(build-release/switchyard_*.deb)
[ -f "${debs[0]}" ] || { echo "package.sh: cpack made no .deb" >&2; exit 1; }
realpath "${debs[0]}"
