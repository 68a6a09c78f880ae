#!/usr/bin/env bash
# Installs, from Debian 12's archive, exactly what building, testing and
# benchmarking Switchyard needs. Idempotent: installs only what is missing.
# chromium runs headless in the dashboard's integration test (never with
# network access beyond 127.0.0.1); without it that test is skipped.
# haproxy and nginx are benchmark peers only; their system services must never
# start, so policy-rc.d forbids service starts while they are installed and the
# services are disabled afterwards. valgrind (callgrind) counts instructions in
# the benchmark's metrics-cost cell. logrotate runs the shipped
# conf/logrotate against a test's own process in the log-reopen test.
set -euo pipefail

packages=(
  build-essential cmake g++ pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev
  libssl-dev openssl
  libxxhash-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  curl procps python3
  haproxy nginx wrk valgrind
  chromium logrotate
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Keep haproxy/nginx from starting as system services during installation.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now haproxy nginx >/dev/null 2>&1 || true
fi
# Anything that did start anyway (no systemd, no policy) is stopped.
for svc in haproxy nginx; do
  command -v service >/dev/null 2>&1 && $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
[ "$created_policy" -eq 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit 0
