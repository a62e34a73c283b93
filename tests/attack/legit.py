#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The legitimate client of the attack suite: traffic that must not notice.

Theory of operation: run inside the client's namespace as
``legit.py ADDR ECHO_PORT HTTP_PORT``. Two threads keep traffic going
for the whole run:

  - one persistent TCP connection to the echo server, on which a random
    512-byte message goes out every 20 ms and must come back byte for
    byte (injected bytes, a reset or an EOF are errors; the connection is
    then opened again and counted);
  - a new connection to the HTTP server every 100 ms (GET /2000 with
    Connection: close, body checked against its formula), so a listener
    closed by a flood shows.

A stall is an exchange (echo round trip, or connect) that takes longer
than STALL_S, Linux's initial retransmission timeout (RFC 6298, 1 s):
on a lossless veth nothing legitimate takes that long unless a segment or
a SYN was lost and retried, so it is the protocol's bound, not a guess
at wall-clock slack.

Each line "mark" on stdin is answered with one JSON line on stdout: what
happened since the last mark (exchanges, connections, the slowest of
each, stalls, errors, the echo connection's current local port, and how
long an exchange has been waiting right now). EOF on stdin ends it.
"""

import json
import os
import socket
import sys
import threading
import time

STALL_S = 1.0		# Linux's initial RTO (RFC 6298 section 2)
ERROR_TIMEOUT_S = 10.0	# an exchange this long is an error, not a stall
ECHO_LEN, ECHO_GAP_S, CONN_GAP_S = 512, 0.02, 0.1
HTTP_LEN = 2000
BODY = bytes((i * 31 + 7) % 251 for i in range(HTTP_LEN))


class Window:
    """What happened since the last mark; shared by the threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.port = 0
        self.busy_since = {}	# thread name -> start of its exchange
        self.reset()

    def reset(self):
        self.echo_n = self.conn_n = self.reconnects = 0
        self.echo_max = self.conn_max = 0.0
        self.stalls, self.errors = 0, []

    def error(self, what):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(what)

    def took(self, kind, secs):
        with self.lock:
            if kind == "echo":
                self.echo_n += 1
                self.echo_max = max(self.echo_max, secs)
            else:
                self.conn_n += 1
                self.conn_max = max(self.conn_max, secs)
            if secs > STALL_S:
                self.stalls += 1

    def mark(self):
        """The window as a dict, then a new window."""
        now = time.monotonic()
        with self.lock:
            # list() copies in one step under the GIL; the threads add
            # and remove their entries without the lock
            starts = list(self.busy_since.values())
            pending = max([now - t for t in starts] + [0])
            out = {"echo_n": self.echo_n, "echo_max": round(self.echo_max, 4),
                   "conn_n": self.conn_n, "conn_max": round(self.conn_max, 4),
                   "stalls": self.stalls + (pending > STALL_S),
                   "pending": round(pending, 3), "errors": self.errors,
                   "reconnects": self.reconnects, "port": self.port}
            self.reset()
        return out


def recv_exact(s, n):
    got = b""
    while len(got) < n:
        d = s.recv(n - len(got))
        if not d:
            raise ConnectionError("EOF after %d of %d bytes" % (len(got), n))
        got += d
    return got


def echo_loop(win, addr, port):
    """The persistent echo connection; reopened (and counted) on error."""
    s = None
    while True:
        try:
            if s is None:
                s = socket.create_connection((addr, port),
                                             timeout=ERROR_TIMEOUT_S)
                with win.lock:
                    win.port = s.getsockname()[1]
            msg = os.urandom(ECHO_LEN)
            t0 = time.monotonic()
            win.busy_since["echo"] = t0
            s.sendall(msg)
            got = recv_exact(s, ECHO_LEN)
            del win.busy_since["echo"]
            if got != msg:
                raise ConnectionError("bytes differ (injected data?)")
            win.took("echo", time.monotonic() - t0)
        except OSError as e:
            win.busy_since.pop("echo", None)
            win.error("echo: %s" % e)
            if s is not None:
                s.close()
            s = None
            with win.lock:
                win.reconnects += 1
            time.sleep(0.2)
        time.sleep(ECHO_GAP_S)


def http_once(addr, port):
    """One short connection; returns the connect time in seconds."""
    t0 = time.monotonic()
    with socket.create_connection((addr, port),
                                  timeout=ERROR_TIMEOUT_S) as s:
        took = time.monotonic() - t0
        s.sendall(b"GET /%d HTTP/1.1\r\nConnection: close\r\n\r\n" % HTTP_LEN)
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    if not data.startswith(b"HTTP/1.1 200") or not data.endswith(BODY):
        raise ConnectionError("http: bad response (%d bytes)" % len(data))
    return took


def conn_loop(win, addr, port):
    """A new connection every CONN_GAP_S."""
    while True:
        t0 = time.monotonic()
        win.busy_since["conn"] = t0
        try:
            http_once(addr, port)
            win.took("conn", time.monotonic() - t0)
        except OSError as e:
            win.error("new connection: %s" % e)
        win.busy_since.pop("conn", None)
        time.sleep(CONN_GAP_S)


def main():
    addr, echo, http = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    win = Window()
    for fn, port in ((echo_loop, echo), (conn_loop, http)):
        threading.Thread(target=fn, args=(win, addr, port),
                         daemon=True).start()
    for line in sys.stdin:
        if line.strip() == "mark":
            print(json.dumps(win.mark()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
