#!/usr/bin/env python3
"""Paced, sticky-user load for scripts/ramp-check.sh (python3 stdlib only).

THREADS threads each keep one keep-alive http.client connection to
127.0.0.1:PORT and send `GET /` with `Cookie: sy_uid=u<k>` for a random k in
[0, USERS), together paced to RATE requests/s, until DURATION seconds pass or
STOP_FILE appears (DURATION is required, so the run is always bounded). A
failed request (refused, reset, closed, timeout) is counted in `errors` and
the connection is opened afresh.

At the end it prints one JSON line:
  {"requests": N, "by_pool": {POOL: N}, "5xx_by_pool": {POOL: N},
   "canary_error_users": N, "errors": N, "seconds": S}
where POOL is the response's X-Echo-Name and canary_error_users is the number
of distinct users that got a 5xx from the --canary pool.
"""

import argparse
import http.client
import json
import os
import random
import signal
import sys
import threading
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--rate", type=float, default=200.0, help="total requests/s")
    p.add_argument("--duration", type=float, required=True,
                   help="stop after this many seconds at most")
    p.add_argument("--stop-file", default="", help="stop as soon as this file exists")
    p.add_argument("--canary", default="green", help="pool whose 5xx users are counted")
    p.add_argument("--timeout", type=float, default=5.0, help="per request, seconds")
    a = p.parse_args()
    if a.threads < 1 or a.users < 1 or a.rate <= 0 or a.duration <= 0:
        p.error("--threads, --users, --rate and --duration must be positive")
    return a


class Totals:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.by_pool = {}
        self.errors_by_pool = {}
        self.canary_error_users = set()
        self.errors = 0


def worker(args, totals, deadline, stop, seed):
    rng = random.Random(seed)
    period = args.threads / args.rate  # each thread's share of the pace
    conn = None
    # Threads start spread over one period so their requests interleave.
    next_at = time.monotonic() + period * rng.random()
    while not stop.is_set():
        now = time.monotonic()
        if now >= deadline:
            break
        if next_at > now:
            # Sleep in short slices so a stop is noticed within 0.2 s.
            time.sleep(min(next_at - now, 0.2))
            continue
        # Behind by more than a second (a slow upstream): drop the backlog
        # instead of bursting to catch up.
        next_at = max(next_at + period, now - 1.0)
        user = "u%d" % rng.randrange(args.users)
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=args.timeout)
            conn.request("GET", "/", headers={"Cookie": "sy_uid=" + user})
            resp = conn.getresponse()
            resp.read()
            pool = resp.getheader("X-Echo-Name") or "-"
            status = resp.status
            if resp.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
            with totals.lock:
                totals.errors += 1
            continue
        with totals.lock:
            totals.requests += 1
            totals.by_pool[pool] = totals.by_pool.get(pool, 0) + 1
            if status >= 500:
                totals.errors_by_pool[pool] = totals.errors_by_pool.get(pool, 0) + 1
                if pool == args.canary:
                    totals.canary_error_users.add(user)
    if conn is not None:
        conn.close()


def main():
    args = parse_args()
    totals = Totals()
    stop = threading.Event()
    # SIGTERM ends the run like the stop file: the totals are still printed.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    start = time.monotonic()
    deadline = start + args.duration
    seed = int.from_bytes(os.urandom(8), "little")
    threads = [threading.Thread(target=worker, args=(args, totals, deadline, stop, seed + i),
                                daemon=True) for i in range(args.threads)]
    for t in threads:
        t.start()
    try:
        while not stop.is_set() and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            if args.stop_file and os.path.exists(args.stop_file):
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    stop.set()
    for t in threads:
        t.join(args.timeout + 1)
    with totals.lock:
        out = {
            "requests": totals.requests,
            "by_pool": totals.by_pool,
            "5xx_by_pool": totals.errors_by_pool,
            "canary_error_users": len(totals.canary_error_users),
            "errors": totals.errors,
            "seconds": round(time.monotonic() - start, 3),
        }
    print(json.dumps(out, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
