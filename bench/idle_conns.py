#!/usr/bin/env python3
"""Idle keep-alive connections for the idle-conns cell of scripts/bench.sh
(python3 stdlib only; traffic to 127.0.0.1 only).

Against the proxy on 127.0.0.1:PORT whose process (and its children: NGINX's
master and workers) is PID:

1. warm-up: WARMUP sequential fresh connections, each one `GET /`, response
   read, closed;
2. RSS before: VmRSS from /proc/P/status summed over PID's process tree;
3. opens CONNS connections, at most CONCURRENCY connecting or waiting for
   their response at a time (non-blocking connect, selectors); each sends one
   `GET /` and reads its whole response, then stays open and silent: an idle
   keep-alive connection, as a browser leaves them;
4. waits SETTLE seconds, then RSS after, and counts the connections still
   open (a non-blocking MSG_PEEK read: EAGAIN = open, EOF or an error =
   closed by the proxy);
5. while they are held: PROBES new clients one after the other, each a fresh
   connection + `GET /` + the whole response, timed from before connect() to
   the last body byte (each bounded by PROBE_TIMEOUT);
6. counts the held connections still open again, and closes them all (with
   SO_LINGER 0: a reset, so that no TIME_WAIT is left holding CONNS of the
   machine's ephemeral ports).

With --h2c, every connection speaks HTTP/2 by prior knowledge instead: the
preface, SETTINGS (the server's are acknowledged), `GET /` on stream 1,
then idle (an idle HTTP/2 connection); the probes likewise.

Everything is bounded by one global deadline (--deadline seconds from the
start; the default stays under the peers' 60 s keep-alive timeout, so an
idle connection closed by the proxy means something). It raises its own
RLIMIT_NOFILE to what CONNS needs and fails with a clear message if the hard
limit is too low.

At the end it prints one JSON line:
  {"conns": N, "opened": N, "held_after": N, "held_end": N,
   "rss_before_kib": K, "rss_after_kib": K, "pids": [..],
   "probes_ms": [..], "probe_failures": N, "open_seconds": S,
   "errors": ["first few errors"], "error": "why it failed, if it did"}
Exit status: 0 when all CONNS were opened and held to the end and every
probe succeeded; 2 when CONNS could not be opened (or the limit not raised);
1 otherwise.
"""

import argparse
import errno
import json
import os
import resource
import selectors
import socket
import struct
import sys
import time

HOST = "127.0.0.1"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True, help="the proxy's (master) process")
    p.add_argument("--conns", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=100,
                   help="connections connecting or awaiting their response at once")
    p.add_argument("--probes", type=int, default=20)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--settle", type=float, default=0.5,
                   help="seconds between the last response and RSS after")
    p.add_argument("--conn-timeout", type=float, default=10.0,
                   help="seconds for one connection to get its response")
    p.add_argument("--probe-timeout", type=float, default=5.0)
    p.add_argument("--deadline", type=float, default=50.0,
                   help="seconds for everything; every loop stops by it")
    p.add_argument("--h2c", action="store_true",
                   help="HTTP/2 by prior knowledge instead of HTTP/1.1")
    a = p.parse_args()
    if a.conns < 1 or a.concurrency < 1 or a.probes < 0 or a.warmup < 0 or a.deadline <= 0:
        p.error("--conns, --concurrency and --deadline must be positive")
    return a


class Failed(Exception):
    pass


def raise_nofile(conns):
    """Soft RLIMIT_NOFILE >= conns + a margin; Failed if the hard limit forbids it."""
    need = conns + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft >= need:
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        try:  # root with CAP_SYS_RESOURCE may raise the hard limit too
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return
        except (ValueError, OSError):
            raise Failed("%d connections need %d descriptors; the hard limit (ulimit -Hn) is %d"
                         % (conns, need, hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def tree_pids(root):
    """root and its descendants, from the parent PIDs in /proc/*/stat."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return sorted(out)


def rss_kib(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def request_bytes(port):
    return ("GET / HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: switchyard-bench-idle\r\n"
            "Accept: */*\r\n\r\n" % (HOST, port)).encode()


def response_complete(buf):
    """None while incomplete; else the status code. Content-Length or chunked."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError("bad status line %r" % head[0])
    status = int(parts[1])
    length, chunked = None, False
    for line in head[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    body = buf[end + 4:]
    if chunked:
        pos = 0
        while True:
            eol = body.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(body[pos:eol].split(b";")[0], 16)
            if size == 0:  # then trailers, if any, and an empty line
                return status if body.find(b"\r\n\r\n", eol) >= 0 else None
            pos = eol + 2 + size + 2
            if pos > len(body):
                return None
    if length is None:
        if status not in (204, 304) and status >= 200:
            raise ValueError("status %d without Content-Length or chunked framing" % status)
        length = 0
    return status if len(body) >= length else None


H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def h2_frame(kind, flags, stream, payload=b""):
    return (len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big")
            + payload)


H2_SETTINGS_ACK = h2_frame(4, 1, 0)


def h2_request_bytes(port):
    """The preface, empty SETTINGS, and GET / on stream 1 (END_STREAM, END_HEADERS)."""
    authority = ("%s:%d" % (HOST, port)).encode()
    # HPACK: :method GET, :scheme http, :path / from the static table; :authority
    # a literal with the static table's name (index 1).
    block = b"\x82\x86\x84\x41" + bytes([len(authority)]) + authority
    return H2_PREFACE + h2_frame(4, 0, 0) + h2_frame(1, 0x5, 1, block)


def h2_response(buf):
    """Walks the whole frames in buf: (status or None while stream 1 has not
    ended, SETTINGS frames of the server seen). The status is 200 when stream
    1's HEADERS start with the static table's ":status: 200" (after any
    one-byte table size update), else 0."""
    pos, status, ended, settings = 0, None, False, 0
    while len(buf) - pos >= 9:
        length = int.from_bytes(buf[pos:pos + 3], "big")
        kind, flags = buf[pos + 3], buf[pos + 4]
        stream = int.from_bytes(buf[pos + 5:pos + 9], "big") & 0x7FFFFFFF
        if len(buf) - pos - 9 < length:
            break
        payload = buf[pos + 9:pos + 9 + length]
        if kind == 4 and not flags & 1:
            settings += 1
        elif kind == 7:
            raise ConnectionError("GOAWAY from the proxy")
        elif kind == 3 and stream == 1:
            raise ConnectionError("RST_STREAM on the request")
        elif kind == 1 and stream == 1 and status is None:
            block = payload
            while block[:1] and 0x20 <= block[0] <= 0x3E:  # dynamic table size update
                block = block[1:]
            status = 200 if block[:1] == b"\x88" else 0
        if stream == 1 and kind in (0, 1) and flags & 1:
            ended = True
        pos += 9 + length
    return (status if ended else None), settings


def one_request(port, timeout, h2c=False):
    """A fresh connection, GET /, the whole response, closed: milliseconds."""
    t0 = time.monotonic()
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(h2_request_bytes(port) if h2c else request_bytes(port))
        buf = b""
        acked = 0
        while True:
            if time.monotonic() - t0 > timeout:
                raise TimeoutError("no whole response within %.1f s" % timeout)
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the whole response (%d bytes)" % len(buf))
            buf += chunk
            if h2c:
                status, settings = h2_response(buf)
                s.sendall(H2_SETTINGS_ACK * (settings - acked))
                acked = settings
            else:
                status = response_complete(buf)
            if status is not None:
                break
    ms = (time.monotonic() - t0) * 1000
    if status != 200:
        raise ConnectionError("status %d" % status)
    return ms


class Conn:
    __slots__ = ("sock", "state", "out", "buf", "started", "acked")

    def __init__(self, sock, started):
        self.sock = sock
        self.state = "connect"
        self.out = b""
        self.buf = b""
        self.started = started
        self.acked = 0  # the server's SETTINGS acknowledged (--h2c)


def close_reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def open_idle(args, deadline, errors):
    """Opens args.conns idle keep-alive connections; returns the sockets."""
    req = h2_request_bytes(args.port) if args.h2c else request_bytes(args.port)
    sel = selectors.DefaultSelector()
    idle, active = [], {}
    started = failed = 0

    def fail(conn, what):
        nonlocal failed
        failed += 1
        if len(errors) < 5:
            errors.append("connection %d: %s" % (failed, what))
        sel.unregister(conn.sock)
        del active[conn.sock.fileno()]
        close_reset(conn.sock)

    try:
        while len(idle) + failed < args.conns:
            now = time.monotonic()
            if now >= deadline:
                raise Failed("deadline: %d of %d connections open after %.0f s"
                             % (len(idle), args.conns, args.deadline))
            if failed > 0:
                break  # one lost connection voids the run: no point in going on
            while len(active) < args.concurrency and started < args.conns:
                try:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                except OSError as e:  # EMFILE, ENFILE: this side's limits
                    raise Failed("socket() after %d connections: %s" % (started, e))
                s.setblocking(False)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                rc = s.connect_ex((HOST, args.port))
                started += 1
                c = Conn(s, now)
                active[s.fileno()] = c
                sel.register(s, selectors.EVENT_WRITE, c)
                if rc not in (0, errno.EINPROGRESS):
                    fail(c, "connect: %s" % os.strerror(rc))
            for key, _ in sel.select(timeout=min(0.1, max(0.0, deadline - now))):
                c = key.data
                try:
                    if c.state == "connect":
                        err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        if err:
                            fail(c, "connect: %s" % os.strerror(err))
                            continue
                        c.state, c.out = "send", req
                    if c.state == "send":
                        n = c.sock.send(c.out)
                        c.out = c.out[n:]
                        if not c.out:
                            c.state = "read"
                            sel.modify(c.sock, selectors.EVENT_READ, c)
                        continue
                    chunk = c.sock.recv(65536)
                    if not chunk:
                        fail(c, "closed before the whole response")
                        continue
                    c.buf += chunk
                    if args.h2c:
                        status, settings = h2_response(c.buf)
                        if settings > c.acked:  # 9 bytes each: a fresh socket takes them
                            c.sock.send(H2_SETTINGS_ACK * (settings - c.acked))
                            c.acked = settings
                    else:
                        status = response_complete(c.buf)
                    if status is None:
                        continue
                    if status != 200:
                        fail(c, "status %d" % status)
                        continue
                    sel.unregister(c.sock)  # idle from now on: not watched
                    del active[c.sock.fileno()]
                    idle.append(c.sock)
                except (BlockingIOError, InterruptedError):
                    pass
                except (OSError, ValueError) as e:
                    fail(c, str(e))
            now = time.monotonic()
            for c in [c for c in active.values() if now - c.started > args.conn_timeout]:
                fail(c, "no whole response within %.1f s" % args.conn_timeout)
    except BaseException:
        for c in list(active.values()):
            close_reset(c.sock)
        for s in idle:
            close_reset(s)
        raise
    finally:
        sel.close()
    for c in list(active.values()):
        close_reset(c.sock)
    if failed:
        for s in idle:
            close_reset(s)
        raise Failed("opened %d of %d connections (%d failed)" % (len(idle), args.conns, failed))
    return idle


def still_open(socks):
    """How many of the idle sockets the proxy has not closed."""
    n = 0
    for s in socks:
        try:
            data = s.recv(1, socket.MSG_PEEK)
            if data:
                n += 1  # unexpected bytes, but still open
        except (BlockingIOError, InterruptedError):
            n += 1
        except OSError:
            pass
    return n


def main():
    args = parse_args()
    t_start = time.monotonic()
    deadline = t_start + args.deadline
    result = {"conns": args.conns, "opened": 0, "held_after": 0, "held_end": 0,
              "rss_before_kib": 0, "rss_after_kib": 0, "pids": [], "probes_ms": [],
              "probe_failures": 0, "open_seconds": 0.0, "errors": []}
    idle = []
    status = 1
    try:
        raise_nofile(args.conns)
        if not os.path.isdir("/proc/%d" % args.pid):
            raise Failed("no process %d (the proxy)" % args.pid)
        for _ in range(args.warmup):
            if time.monotonic() >= deadline:
                raise Failed("deadline during warm-up")
            one_request(args.port, args.probe_timeout, args.h2c)
        pids = tree_pids(args.pid)
        result["pids"] = pids
        result["rss_before_kib"] = rss_kib(pids)

        t0 = time.monotonic()
        idle = open_idle(args, deadline, result["errors"])
        result["opened"] = len(idle)
        result["open_seconds"] = round(time.monotonic() - t0, 2)

        time.sleep(max(0.0, min(args.settle, deadline - time.monotonic())))
        pids = tree_pids(args.pid)
        result["pids"] = pids
        result["rss_after_kib"] = rss_kib(pids)
        result["held_after"] = still_open(idle)

        for _ in range(args.probes):
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed("deadline during the new-client probes")
            try:
                result["probes_ms"].append(
                    round(one_request(args.port, min(args.probe_timeout, left), args.h2c), 3))
            except (OSError, ValueError) as e:
                result["probe_failures"] += 1
                if len(result["errors"]) < 5:
                    result["errors"].append("new client: %s" % e)
        result["held_end"] = still_open(idle)
        for key, when in (("held_after", "RSS after"), ("held_end", "the end")):
            if result[key] < args.conns:
                result["errors"].append("the proxy closed %d of the %d idle connections by %s"
                                        % (args.conns - result[key], args.conns, when))
        ok = (result["held_after"] == args.conns and result["held_end"] == args.conns
              and result["probe_failures"] == 0)
        status = 0 if ok else 1
    except Failed as e:
        result["error"] = str(e)
        status = 2
    except (OSError, ValueError) as e:  # ConnectionError is an OSError
        result["error"] = "%s: %s" % (type(e).__name__, e)
        status = 1
    finally:
        for s in idle:
            close_reset(s)
    result["seconds"] = round(time.monotonic() - t_start, 2)
    print(json.dumps(result), flush=True)
    if "error" in result:
        print("idle_conns: %s" % result["error"], file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
