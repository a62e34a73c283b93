#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Bulk data both ways with backpressure, checked byte for byte.

For --network=host, every provider `cove stacks` lists, and builtin with
--link=tap (TSO super-frames through the TAP's virtio_net_hdr, redirected
to eth0):
  out: a program inside sends 24 MiB to an echo server on the host and
       reads the echo back at the same time (both directions full);
  in:  a client on the host does the same against an echo server inside,
       reading slowly at first, so the sandbox's side must hold back
       (the pair fills, then the stack's window) without losing a byte.
Then "in" once more on the first stack with the relay's first spill
buffer allocations failing (COVE_TEST_SPILL_FAILS): the relay must hold
the socket back and retry, not drop what it read; `cove stats` shows the
failed reservations and no leftover held at the end.
"""

import hashlib
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

SIZE = 24 << 20
SPILL_FAILS = 4		# each costs the socket half a second

INSIDE_CLIENT = r'''
import hashlib, os, socket, sys, threading
size = int(sys.argv[2])
data = hashlib.sha256(b"seed").digest() * (size // 32)
s = socket.create_connection((sys.argv[1].split(":")[0],
                              int(sys.argv[1].split(":")[1])))
def send():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
h = hashlib.sha256()
n = 0
while True:
    b = s.recv(65536)
    if not b:
        break
    h.update(b)
    n += len(b)
t.join()
print(n, h.hexdigest())
'''

INSIDE_SERVER = r'''
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 9000))
l.listen(4)
print("ready", flush=True)
c, _ = l.accept()
while True:
    b = c.recv(65536)
    if not b:
        break
    c.sendall(b)
c.close()
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0)	# stay to be asked
'''


def expect():
    data = hashlib.sha256(b"seed").digest() * (SIZE // 32)
    return data, "%d %s" % (len(data), hashlib.sha256(data).hexdigest())


def inbound(c, name, net, extra, data, want, env=None, binary=None, stay=0):
    """The "in" run: a host client against an echo server inside, reading
    nothing for a second; returns the sandbox (its program ends with the
    stream, or @stay seconds later). @binary: another cove (cove-plugin)
    than the one for @net."""
    box = sb.Sandbox(["/usr/bin/python3", "-c", INSIDE_SERVER, str(stay)],
                     network=net, extra=extra, env=env)
    if binary:
        box.args[0] = binary
    box.start()
    s = None
    for _ in range(100):
        try:
            s = socket.create_connection((box.ip, 9000), timeout=30)
            break
        except OSError:
            time.sleep(0.05)
    h = hashlib.sha256()
    n = 0
    if s:
        t = threading.Thread(target=lambda: (s.sendall(data),
                                             s.shutdown(socket.SHUT_WR)))
        t.start()
        time.sleep(1.0)		# nobody reads: the sandbox must hold back
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                h.update(b)
                n += len(b)
        except OSError as e:
            print("%s: in: %s after %d bytes" % (name, e, n))
        t.join(30)
        s.close()
    got = "%d %s" % (n, h.hexdigest())
    c.check("%s: in, slow reader, 24 MiB intact" % name, got == want, got)
    return box


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    data, want = expect()
    port = sb.free_port()
    echo = sb.HostTcpEcho(port)
    runs = [(net, []) for net in ["host"] + sb.stacks()]
    if "builtin" in sb.stacks():
        runs.append(("builtin", ["--link=tap"]))
    for net, extra in runs:
        name = net + ("+tap" if extra else "")
        t0 = time.monotonic()
        r = sb.run(["--network=" + net] + extra +
                   ["--", "/usr/bin/python3", "-c", INSIDE_CLIENT,
                    "%s:%d" % (sb.GATEWAY, port), str(SIZE)], timeout=120)
        dt = time.monotonic() - t0
        c.check("%s: out, 24 MiB echoed intact (%.1f MB/s)" %
                (name, 2 * SIZE / dt / 1e6), r.stdout.strip() == want,
                r.stdout + r.stderr[-300:])

        box = inbound(c, name, net, extra, data, want)
        box.stop()
    if sb.stacks():
        net = sb.stacks()[0]
        box = inbound(c, net + " spill failures", net, [], data, want,
                      env={"COVE_TEST_SPILL_FAILS": str(SPILL_FAILS)},
                      stay=60)
        st = sb.stats(box.name)
        c.check("%s: every failed spill reservation counted" % net,
                st.get("relay_spill_waits") == SPILL_FAILS, str(st))
        c.check("%s: no leftover held once the stream ended" % net,
                st.get("relay_spill_held") == 0, str(st))
        box.stop()
    echo.close()
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
