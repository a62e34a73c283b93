#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cove run --stack-mem: a builtin stack at its smallest budget keeps
every connection moving, byte for byte.

A program in the sandbox opens 24 connections to an echo server on the
host side and pushes 2 MiB through each at once, reading the echoes as
they come (each connection checked byte for byte). With --stack-mem 1m
the stack is under memory pressure almost at once: new rings get the
16 KiB minimum, writes beyond it get EAGAIN, and the sentry's relay must
be told EPOLLOUT again as memory comes back (docs/TCP.md, Memory
budget). Asserted: the program exits 0 with every byte intact, within a
time that a stall (a writer never woken) would blow; `cove stats` never
shows the stack holding more than the budget while it runs; and the same
transfer without --stack-mem (the 64 MiB default) passes too. Refusals:
a --stack-mem below 1m is one line and 125.
"""

import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

CONNS = 24
BYTES = 2 << 20
BUDGET = 1 << 20

PROG = r'''
import selectors, socket, sys
host, port, conns, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def pat(i, n):
    return bytes((j * 31 + i * 7) % 251 for j in range(n))
block = [pat(i, 65536) for i in range(conns)]
sel = selectors.DefaultSelector()
st = []
for i in range(conns):
    s = socket.create_connection((host, port))
    s.setblocking(False)
    st.append({"s": s, "sent": 0, "got": 0, "bad": False, "i": i})
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, st[-1])
left = conns
while left:
    for key, ev in sel.select(timeout=30) or [(None, 0)]:
        if key is None:
            print("stalled (conn, sent, echoed back):",
                  [(c["i"], c["sent"], c["got"]) for c in st
                   if c["got"] < total])
            sys.exit(3)
        c = key.data
        s = c["s"]
        if ev & selectors.EVENT_WRITE and c["sent"] < total:
            off = c["sent"] % 65536
            n = min(65536 - off, total - c["sent"])
            try:
                c["sent"] += s.send(block[c["i"]][off:off + n])
            except BlockingIOError:
                pass
            if c["sent"] == total:
                sel.modify(s, selectors.EVENT_READ, c)
        if ev & selectors.EVENT_READ:
            try:
                d = s.recv(65536)
            except BlockingIOError:
                continue
            off = c["got"] % 65536
            want = (block[c["i"]] * 2)[off:off + len(d)]
            if d != want:
                c["bad"] = True
            c["got"] += len(d)
            if c["got"] >= total:
                sel.unregister(s)
                s.close()
                left -= 1
bad = [c["i"] for c in st if c["bad"] or c["got"] != total]
print("ok" if not bad else "bad %r" % bad)
sys.exit(1 if bad else 0)
'''


def transfer(c, tag, extra):
    echo = sb.HostTcpEcho()
    box = sb.Sandbox(["/usr/bin/python3", "-c", PROG, sb.GATEWAY,
                      str(echo.port), str(CONNS), str(BYTES)],
                     network="builtin", extra=extra,
                     stdout=subprocess.PIPE)
    start = time.monotonic()
    box.start()
    peak = [0]

    def sample():
        while box.proc.poll() is None:
            m = sb.stats(box.name).get("mem_bytes")
            if isinstance(m, int):
                peak[0] = max(peak[0], m)
            time.sleep(0.1)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        out = box.proc.stdout.read()
        rc = box.proc.wait(120)
    except subprocess.TimeoutExpired:
        rc = None
    secs = time.monotonic() - start
    box.stop()
    t.join(5)
    c.check("%s: %d connections x %d MiB echoed intact (%.1f s)" % (
        tag, CONNS, BYTES >> 20, secs), rc == 0 and out.strip() == "ok",
        "rc %s, %r" % (rc, out[-300:]))
    return peak[0]


def main():
    c = sb.Checks()
    if "builtin" not in sb.stacks():
        print("SKIP: no builtin stack in this build")
        return 0
    before = sb.Snapshot()
    peak = transfer(c, "--stack-mem 1m", ["--stack-mem", "1m"])
    c.check("--stack-mem 1m: cove stats never above the budget (peak %d)" %
            peak, 0 < peak <= BUDGET, str(peak))
    peak = transfer(c, "default budget", [])
    c.check("default budget: held more than 1 MiB at its peak (%d)" % peak,
            peak > BUDGET, str(peak))
    r = sb.run(["--network=builtin", "--stack-mem", "512k", "--", "true"])
    c.check("--stack-mem 512k refused: one line, 125",
            r.returncode == 125 and "--stack-mem" in r.stderr and
            len(r.stderr.strip().splitlines()) == 1, r.stderr)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
