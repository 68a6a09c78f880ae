#!/usr/bin/python3
"""An HTTP/2 client for the integration tests (Debian's python3-h2).

    h2_client.py [--tls] PORT MODE [ARGS...]

Connects to 127.0.0.1:PORT (h2 by ALPN with --tls, certificate not checked;
else h2c by prior knowledge), does MODE and prints one JSON object per line.
Every wait is bounded (10 s unless said otherwise); a script that cannot
finish prints {"error": ...} and exits 1.

Modes:
  streams N BYTES PATH   N streams at once, each a POST of BYTES pattern
                         bytes (GET when 0); one line per stream: status,
                         headers, body length and FNV-1a 64.
  slow-read PATH WINDOW  GET with a receive window of WINDOW bytes, opened
                         again 16 KiB at a time with pauses: the body's
                         length and FNV when it ended.
  rapid-reset N          N streams, each reset (CANCEL) right after its
                         HEADERS: the GOAWAY that ends it, if any.
  flood KIND N           N frames of KIND (ping, settings, continuation)
                         written raw after the preface: the GOAWAY.
  headers BYTES          a GET with BYTES bytes of fields (16 KiB each): the
                         status or the reset.
  idle                   nothing: the GOAWAY that ends the connection.
  stall PATH             a GET whose window is never opened again: the
                         reset of the stream.
  bomb N                 a GET with N copies of one 3000-byte field: a few
                         bytes each on the wire (HPACK indexes it), 3 kB
                         each decoded: the GOAWAY.
(python3-h2 closes on any GOAWAY, even one that lets streams finish: the
drain test uses nghttp.)
"""
import json
import socket
import ssl
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings

FNV_OFFSET = 0xCBF29CE484222325


def fnv1a(data, h=FNV_OFFSET):
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def pattern(n):
    # The same bytes as the echo server's bytes=N: 'a' + i % 26.
    block = bytes(ord("a") + i % 26 for i in range(26))
    return (block * (n // 26 + 1))[:n]


def out(obj):
    print(json.dumps(obj), flush=True)


def fail(why):
    out({"error": why})
    sys.exit(1)


def connect(port, tls):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        sock = ctx.wrap_socket(sock, server_hostname="localhost")
        if sock.selected_alpn_protocol() != "h2":
            fail("ALPN chose %r" % sock.selected_alpn_protocol())
    return sock


class Client:
    def __init__(self, port, tls, window=None):
        self.sock = connect(port, tls)
        self.conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.flush()
        self.goaways = []
        self.closed = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def events(self, timeout=10.0):
        """The next batch of events; [] when the connection closed."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        except socket.timeout:
            fail("no answer within %ss" % timeout)
        if not data:
            self.closed = True
            return []
        evs = self.conn.receive_data(data)
        for ev in evs:
            if isinstance(ev, h2.events.ConnectionTerminated):
                self.goaways.append(
                    {"error_code": int(ev.error_code), "last_stream_id": ev.last_stream_id}
                )
        self.flush()
        return evs


def request_headers(path, method="GET", extra=()):
    return [(":method", method), (":scheme", "https"), (":authority", "localhost"),
            (":path", path)] + list(extra)


def mode_streams(c, n, size, path):
    body = pattern(size)
    streams = {}
    for _ in range(n):
        sid = c.conn.get_next_available_stream_id()
        method = "POST" if size else "GET"
        c.conn.send_headers(sid, request_headers(path, method), end_stream=not size)
        streams[sid] = {"status": None, "headers": {}, "body": bytearray(), "sent": 0,
                        "done": False}
    c.flush()
    deadline = time.monotonic() + 30
    while not all(s["done"] for s in streams.values()):
        if time.monotonic() > deadline:
            fail("streams did not finish")
        # Send what the windows allow.
        for sid, s in streams.items():
            while s["sent"] < size:
                room = min(c.conn.local_flow_control_window(sid), c.conn.max_outbound_frame_size,
                           size - s["sent"])
                if room <= 0:
                    break
                c.conn.send_data(sid, body[s["sent"]:s["sent"] + room],
                                 end_stream=s["sent"] + room == size)
                s["sent"] += room
        c.flush()
        evs = c.events()
        if c.closed:
            fail("connection closed")
        for ev in evs:
            if isinstance(ev, h2.events.ResponseReceived):
                hs = dict(ev.headers)
                streams[ev.stream_id]["status"] = int(hs[":status"])
                streams[ev.stream_id]["headers"] = hs
            elif isinstance(ev, h2.events.DataReceived):
                streams[ev.stream_id]["body"] += ev.data
                c.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                streams[ev.stream_id]["done"] = True
            elif isinstance(ev, h2.events.StreamReset):
                streams[ev.stream_id]["done"] = True
                streams[ev.stream_id]["reset"] = int(ev.error_code)
        c.flush()
    for sid, s in sorted(streams.items()):
        out({"stream": sid, "status": s["status"], "headers": s["headers"],
             "body_len": len(s["body"]), "body_fnv": "%016x" % fnv1a(s["body"]),
             "reset": s.get("reset")})


def mode_slow_read(c, path, window):
    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, request_headers(path), end_stream=True)
    c.flush()
    body = bytearray()
    status = None
    unacked = 0
    deadline = time.monotonic() + 60
    while True:
        if time.monotonic() > deadline:
            fail("the body did not arrive")
        evs = c.events()
        if c.closed:
            fail("connection closed")
        ended = False
        for ev in evs:
            if isinstance(ev, h2.events.ResponseReceived):
                status = int(dict(ev.headers)[":status"])
            elif isinstance(ev, h2.events.DataReceived):
                body += ev.data
                unacked += ev.flow_controlled_length
            elif isinstance(ev, h2.events.StreamEnded):
                ended = True
            elif isinstance(ev, h2.events.StreamReset):
                fail("reset: %d" % ev.error_code)
        if ended:
            break
        # Open the window again slowly, 16 KiB at a time.
        while unacked >= 16384:
            time.sleep(0.002)
            c.conn.acknowledge_received_data(16384, sid)
            unacked -= 16384
        c.flush()
    out({"status": status, "body_len": len(body), "body_fnv": "%016x" % fnv1a(body)})


def wait_goaway(c, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not c.goaways and not c.closed and time.monotonic() < deadline:
        c.events(timeout)
    out({"goaways": c.goaways, "closed": c.closed})


def mode_rapid_reset(c, n):
    for _ in range(n):
        if c.conn.state_machine.state.name == "CLOSED":
            break
        sid = c.conn.get_next_available_stream_id()
        try:
            c.conn.send_headers(sid, request_headers("/?delay_ms=200"), end_stream=True)
            c.conn.reset_stream(sid, error_code=8)
            c.flush()
        except (BrokenPipeError, ConnectionResetError):
            break
        except Exception:
            break
    wait_goaway(c)


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def mode_flood(port, tls, kind, n):
    sock = connect(port, tls)
    data = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0)
    if kind == "ping":
        data += b"".join(frame(6, 0, 0, b"12345678") for _ in range(n))
    elif kind == "settings":
        data += b"".join(frame(4, 0, 0) for _ in range(n))
    elif kind == "continuation":
        # HEADERS without END_HEADERS (":method GET"), then CONTINUATIONs
        # that never end it.
        data += frame(1, 0x1, 1, b"\x82") + b"".join(frame(9, 0, 1) for _ in range(n))
    else:
        fail("unknown flood " + kind)
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    # Read frames until the GOAWAY (type 7) or the close.
    buf = b""
    goaway = None
    sock.settimeout(10)
    deadline = time.monotonic() + 10
    while goaway is None and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 9:
            length = struct.unpack(">I", b"\0" + buf[:3])[0]
            if len(buf) < 9 + length:
                break
            ftype = buf[3]
            payload = buf[9:9 + length]
            buf = buf[9 + length:]
            if ftype == 7:
                last, code = struct.unpack(">II", payload[:8])
                goaway = {"error_code": code, "last_stream_id": last & 0x7FFFFFFF}
    out({"goaways": [goaway] if goaway else [], "closed": True})


def mode_stall(c, path):
    sid = c.conn.get_next_available_stream_id()
    c.conn.send_headers(sid, request_headers(path), end_stream=True)
    c.flush()
    received = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        evs = c.events(20)
        if c.closed:
            break
        for ev in evs:
            if isinstance(ev, h2.events.DataReceived):
                received += len(ev.data)  # never acknowledged: the window stays shut
            elif isinstance(ev, h2.events.StreamReset):
                out({"reset": int(ev.error_code), "received": received})
                return
            elif isinstance(ev, h2.events.StreamEnded):
                out({"ended": True, "received": received})
                return
    out({"goaways": c.goaways, "closed": c.closed, "received": received})


def mode_bomb(c, n):
    sid = c.conn.get_next_available_stream_id()
    fields = [("x-bomb", "b" * 3000)] * n
    c.conn.send_headers(sid, request_headers("/", extra=fields), end_stream=True)
    c.flush()
    wait_goaway(c)


def mode_headers(c, size):
    sid = c.conn.get_next_available_stream_id()
    fields = [("x-big-%d" % i, "v" * min(16384, size - i)) for i in range(0, size, 16384)]
    c.conn.send_headers(sid, request_headers("/", extra=fields), end_stream=True)
    c.flush()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        evs = c.events()
        if c.closed:
            break
        for ev in evs:
            if isinstance(ev, h2.events.ResponseReceived):
                out({"status": int(dict(ev.headers)[":status"])})
                return
            if isinstance(ev, h2.events.StreamReset):
                out({"reset": int(ev.error_code)})
                return
    out({"goaways": c.goaways, "closed": c.closed})


def main(argv):
    tls = False
    if argv and argv[0] == "--tls":
        tls = True
        argv = argv[1:]
    if len(argv) < 2:
        fail("usage: h2_client.py [--tls] PORT MODE [ARGS...]")
    port, mode, args = int(argv[0]), argv[1], argv[2:]
    if mode == "flood":
        mode_flood(port, tls, args[0], int(args[1]))
        return
    if mode == "slow-read":
        mode_slow_read(Client(port, tls, window=int(args[1])), args[0], int(args[1]))
        return
    c = Client(port, tls)
    if mode == "streams":
        mode_streams(c, int(args[0]), int(args[1]), args[2])
    elif mode == "rapid-reset":
        mode_rapid_reset(c, int(args[0]))
    elif mode == "idle":
        wait_goaway(c)
    elif mode == "stall":
        mode_stall(c, args[0])
    elif mode == "bomb":
        mode_bomb(c, int(args[0]))
    elif mode == "headers":
        mode_headers(c, int(args[0]))
    else:
        fail("unknown mode " + mode)


if __name__ == "__main__":
    main(sys.argv[1:])
