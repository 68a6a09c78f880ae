#!/usr/bin/env bash
# Installs, from Debian 12's archive, exactly what building, testing and
# benchmarking Switchyard needs. Idempotent: installs only what is missing.
# chromium runs headless in the dashboard's integration test (never with
# network access beyond 127.0.0.1); without it that test is skipped.
# haproxy and nginx are benchmark peers only. valgrind (callgrind) counts
# instructions in the benchmark's metrics-cost cell; linux-perf (perf stat on
# the system call tracepoints) counts system calls in its syscalls cell, at
# full speed, where strace would stop the proxy at every call and so hide the
# reads that find nothing to read yet. logrotate runs the shipped
# conf/logrotate against a test's own process in the log-reopen test.
# systemd provides systemd-analyze and systemd-socket-activate for the unit
# file and socket-activation tests (on a machine whose init is not systemd,
# nothing of it runs). prometheus provides promtool, which checks /metrics in
# an integration test; lintian checks the .deb (scripts/check-package.sh).
# etcd-server (etcd 3.4) and etcd-client (etcdctl) are the fleet's shared
# store (issue 20): the fleet's tests start their own etcd on 127.0.0.1
# with a temp data dir.
#
# No installed service may start: haproxy, nginx, prometheus (its server) and etcd
# are only ever run in the foreground by the tests and benchmarks, with their
# own configs. policy-rc.d forbids service starts during the installation,
# and afterwards their units are disabled and anything that started anyway is
# stopped.
set -euo pipefail

packages=(
  build-essential cmake g++ pkg-config git ca-certificates
  libboost1.81-dev libboost-json1.81-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev
  libssl-dev openssl
  libxxhash-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  curl procps python3
  haproxy nginx wrk valgrind linux-perf
  chromium logrotate
  systemd prometheus lintian
  etcd-server etcd-client
  libnghttp2-dev nghttp2-client python3-h2
  liburing-dev libjemalloc-dev
)
# The packages above that bring a system service which must never run here.
services=(haproxy nginx prometheus etcd)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# invoke-rc.d and deb-systemd-invoke ask policy-rc.d before starting a
# service; exit 101 means "not allowed". Ours is removed again on any exit,
# a failed apt-get included; one that was already there is left alone.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# No recommends: prometheus would bring prometheus-node-exporter, another service.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The packages enable their units for the next boot; undo that, and stop
# whatever started anyway (no systemd, no policy).
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now "${services[@]}" >/dev/null 2>&1 || true
fi
for svc in "${services[@]}"; do
  if command -v service >/dev/null 2>&1; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
done
exit 0
