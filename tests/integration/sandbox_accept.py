#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Accept readiness for long accept queues, against Linux.

A server inside listens with a backlog of 4096 and does not accept for a
while; the host opens N connections meanwhile, so all of them wait in the
accept queue (the kernel's, or the sentry's with a user-level stack). Then
the server accepts only when poll() says the listener is readable, until
poll() has said nothing for 3 s, and checks that a last non-blocking
accept() answers EAGAIN. Every connection must be accepted, as on Linux:
the listener's readiness must not under-report however long the queue.
The sentry signals the queue with token bytes in the listener's socket
pair, which held only about 1,300 of them (issue 11: nginx lost hundreds
of connections of a 3,000-connection burst).
"""

import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

PORT = 9100
N = 3000  # every mode (lwip held 1,023 before issue 11's fix)

SERVER = r'''
import errno, select, socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", %d))
l.listen(4096)
l.setblocking(False)
print("ready", flush=True)
time.sleep(float(sys.argv[1]))
p = select.poll()
p.register(l, select.POLLIN)
conns = []
while p.poll(3000):
    try:
        conns.append(l.accept()[0])
    except BlockingIOError:
        print("readable but EAGAIN", flush=True)
        break
try:
    l.accept()
    last = "accepted"
except BlockingIOError:
    last = "EAGAIN"
print("accepted", len(conns), last, flush=True)
''' % PORT


def run_one(c, net, n):
    box = sb.Sandbox(["/usr/bin/python3", "-c", SERVER, "4"], network=net,
                     stdout=subprocess.PIPE).start()
    line = box.proc.stdout.readline().strip()
    c.check(net + ": server ready", line == "ready", line)
    socks, failed = [], 0
    t0 = time.monotonic()
    for _ in range(n):
        try:
            socks.append(socket.create_connection((box.ip, PORT),
                                                  timeout=10))
        except OSError:
            failed += 1
    dt = time.monotonic() - t0
    c.check("%s: %d connections made (%.1f s)" % (net, n, dt), not failed,
            "%d failed" % failed)
    out = box.proc.stdout.readline().split()
    want = ["accepted", str(n), "EAGAIN"]
    c.check("%s: poll() signalled all %d queued connections, then "
            "accept() says EAGAIN" % (net, n), out == want, " ".join(out))
    for s in socks:
        s.close()
    box.stop()


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    for net in ["host"] + sb.stacks():
        run_one(c, net, N)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
