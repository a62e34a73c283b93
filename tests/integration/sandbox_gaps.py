#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Pin the frontend's known differences from Linux (docs/SANDBOX.md).

Each gap is observed by a small Python program inside the sandbox and
compared with what the same program sees on --network=host (Linux). The
test asserts today's behaviour on both sides, so a change to either is
noticed: when a gap is closed, this test fails and the doc and the
expectation are updated together.

  listen-pollout  a listening socket's end polls writable (Linux: not)
  reset-eof       no longer a gap, kept as a regression check: a peer's
                  RST makes recv raise ECONNRESET, then SO_ERROR is 0, as
                  on Linux (sockcheck's reset_* checks go further)
  send-unconnected  send() on a TCP socket that was never connected is
                  taken by the pair (Linux: EPIPE)
"""

import json
import os
import select
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import sandbox as sb  # noqa: E402

INSIDE = r'''
import errno, json, select, socket, struct, sys, time
gw, rst_port = sys.argv[1], int(sys.argv[2])
out = {}

l = socket.socket(); l.bind(("0.0.0.0", 0)); l.listen(4)
p = select.poll(); p.register(l, select.POLLOUT)
out["listen-pollout"] = bool(p.poll(200))
l.close()

s = socket.create_connection((gw, rst_port), timeout=5)
time.sleep(0.8)
try:
    d = s.recv(64)
    out["reset-eof"] = "eof" if d == b"" else "data"
except ConnectionResetError:
    out["reset-eof"] = "ECONNRESET"
out["so_error"] = errno.errorcode.get(
    s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), "0")
s.close()
t = socket.socket()
try:
    out["send-unconnected"] = "sent %d" % t.send(b"x")
except BrokenPipeError:
    out["send-unconnected"] = "EPIPE"
except OSError as e:
    out["send-unconnected"] = errno.errorcode.get(e.errno, str(e.errno))
t.close()
print("GAPS " + json.dumps(out), flush=True)
'''

# What Linux shows (--network=host) and what the frontend shows today.
LINUX = {"listen-pollout": False, "reset-eof": "ECONNRESET", "so_error": "0",
         "send-unconnected": "EPIPE"}
FRONTEND = {"listen-pollout": True, "reset-eof": "ECONNRESET", "so_error": "0",
            "send-unconnected": "sent 1"}


class HostResetter:
    """Accepts on the gateway and closes each connection with an RST."""

    def __init__(self):
        self.sock = socket.socket()
        sb._freebind(self.sock)
        self.sock.bind((sb.GATEWAY, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            # Reset a little later, so the client's connect has surely
            # completed (a reset racing the handshake is another story).
            t = threading.Timer(0.2, self._reset, (c,))
            t.daemon = True
            t.start()

    @staticmethod
    def _reset(c):
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
        c.close()

    def close(self):
        self.sock.close()


def observe(net, rst):
    r = sb.run(["--network=" + net, "--", "/usr/bin/python3", "-c", INSIDE,
                sb.GATEWAY, str(rst.port)], timeout=60)
    for line in r.stdout.splitlines():
        if line.startswith("GAPS "):
            return json.loads(line[5:]), r
    return None, r


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    rst = HostResetter()
    try:
        for net in ["host"] + sb.stacks():
            got, r = observe(net, rst)
            if not c.check(net + ": observed", got is not None,
                           "rc %d: %s %s" % (r.returncode, r.stdout[-300:],
                                             r.stderr[-300:])):
                continue
            want = LINUX if net == "host" else FRONTEND
            for k, v in want.items():
                c.check("%s: %s is %s" % (net, k, v), got.get(k) == v,
                        "got %r" % got.get(k))
    finally:
        rst.close()
        sb.cleanup()
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
