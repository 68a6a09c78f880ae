#!/usr/bin/env python3
"""Memory per idle TLS keep-alive connection of a proxy on 127.0.0.1.

Opens --conns TLS connections one after the other (HTTP/1.1 by ALPN), sends
one GET on each and reads its whole response, keeps them all open and idle,
and prints the proxy's RSS (the process and its children) before and after,
as one JSON line. Bounded: every socket has a timeout and the whole run stops
at --deadline seconds. Used for the figures in bench/README.md ("The
idle-conns cell"); the cell itself measures plain connections.

    python3 bench/idle_tls_conns.py --port 8443 --pid 1234 --conns 1000
"""
import argparse
import json
import resource
import socket
import ssl
import subprocess
import sys
import time

HOST = "127.0.0.1"


def rss_kib(pid):
    pids = [pid] + [int(p) for p in subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def one_request(ctx, port, timeout):
    s = ctx.wrap_socket(socket.create_connection((HOST, port), timeout=timeout),
                        server_hostname="localhost")
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed before the response head")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        raise RuntimeError("response without Content-Length")
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed in the body")
        body += chunk
    return s


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True, help="the proxy's (master) process")
    p.add_argument("--conns", type=int, default=1000)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds between the last response and RSS after")
    p.add_argument("--timeout", type=float, default=5.0, help="per connection")
    p.add_argument("--deadline", type=float, default=120.0, help="seconds for everything")
    args = p.parse_args()
    start = time.monotonic()
    need = args.conns + args.warmup + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # a throwaway certificate made by the caller
    ctx.set_alpn_protocols(["http/1.1"])

    for s in [one_request(ctx, args.port, args.timeout) for _ in range(args.warmup)]:
        s.close()
    time.sleep(args.settle)
    before = rss_kib(args.pid)
    socks = []
    try:
        while len(socks) < args.conns and time.monotonic() - start < args.deadline:
            socks.append(one_request(ctx, args.port, args.timeout))
        time.sleep(args.settle)
        after = rss_kib(args.pid)
    finally:
        for s in socks:
            s.close()
    if not socks:
        print("no connection opened", file=sys.stderr)
        return 1
    print(json.dumps({"conns": len(socks), "rss_before_kib": before, "rss_after_kib": after,
                      "kib_per_conn": round((after - before) / len(socks), 2)}))
    return 0 if len(socks) == args.conns else 1


if __name__ == "__main__":
    sys.exit(main())
