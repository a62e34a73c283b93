#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Control channel acceptance: the dialer reaches a late listener at once.

A listener comes up 0..500 ms after the dialer starts, in two ways: the
socket path does not exist yet (bind+listen late), or it exists and only
listen() is late. The dialer (cove-ctl-dialtest, default settings) reports
the schedule it followed, and the test checks the schedule, not a wall
clock (wall-clock latency belongs to make bench):

  - the pauses start at dial.retry_initial_ms and double up to
    dial.retry_max_ms, and start over after a pause a wake source ended;
  - no pause is longer than dial.retry_max_ms (10 ms), and no attempt but
    the last started after listen(): so the dialer connects at its first
    attempt after listen, at most one capped pause later;
  - every pause that was not ended early really slept (the dial took at
    least the sum of those pauses), and wake sources ended at most a few:
    the dialer sleeps in the kernel and does not spin.

Loopback only (unix sockets in a private temporary directory).
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import dialsched  # noqa: E402

BUILD = os.environ.get("COVE_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
TOOL = os.path.join(BUILD, "tests", "tools", "cove-ctl-dialtest")
DELAYS_MS = [0, 5, 20, 50, 100, 200, 350, 500]


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def one_run(delay_ms, mode):
    """Run one dial against a listener delayed by delay_ms; return stats."""
    tmp = tempfile.mkdtemp(prefix="cv-control-%d-" % os.getpid())
    path = os.path.join(tmp, "control.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    proc = None
    try:
        if mode == "bound":
            srv.bind(path)
        proc = subprocess.Popen([TOOL, "unix:" + path],
                                stdout=subprocess.PIPE, text=True)
        if proc.stdout.readline().strip() != "dialing":
            raise RuntimeError("dial tool did not start")
        time.sleep(delay_ms / 1000.0)
        if mode == "missing":
            srv.bind(path)
        srv.listen(8)
        t_listen = now_ns()
        srv.settimeout(10)
        conn, _ = srv.accept()
        conn.close()
        trace = json.loads(proc.stdout.readline())
        out = json.loads(proc.stdout.readline())
        if proc.wait(timeout=10) != 0 or not out["ok"]:
            raise RuntimeError("dial failed: %s" % out.get("error"))
        latency_ms = max(0, out["connected_ns"] - t_listen) / 1e6
        wait_ns = out["connected_ns"] - out["start_ns"]
        return {
            "delay": delay_ms, "mode": mode, "latency_ms": latency_ms,
            "wait_ms": wait_ns / 1e6, "cpu_ms": out["cpu_ns"] / 1e6,
            "attempts": out["attempts"], "t_listen": t_listen,
            "trace": trace,
        }
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)


def schedule_faults(r):
    """Return what in run r's schedule breaks the dialer's promises."""
    t = r["trace"]
    # No wake source here: every pause must run its full length.
    return dialsched.faults(t["pauses"], t["early"], r["attempts"],
                            t["dropped"], t["prev_start_ns"], r["t_listen"],
                            r["wait_ms"], max_early=0)


def main():
    if not os.access(TOOL, os.X_OK):
        print("missing %s (build it: ninja -C %s)" % (TOOL, BUILD))
        return 1
    runs = []
    ok = True
    for mode in ("missing", "bound"):
        for d in DELAYS_MS:
            r = one_run(d, mode)
            runs.append(r)
            p = r["trace"]["pauses"]
            print("%-7s delay %3d ms: connected %6.2f ms after listen, "
                  "waited %6.1f ms, cpu %5.2f ms, %d attempts, pauses %s%s" % (
                      mode, d, r["latency_ms"], r["wait_ms"], r["cpu_ms"],
                      r["attempts"], ",".join(map(str, p[:12])),
                      "..." if len(p) > 12 else ""))
            for f in schedule_faults(r):
                print("FAIL: %s delay %d: %s" % (mode, d, f))
                ok = False
            if d >= 50 and r["attempts"] < 3:
                print("FAIL: %s delay %d: %d attempts: the listener was not "
                      "late" % (mode, d, r["attempts"]))
                ok = False
    lat = [r["latency_ms"] for r in runs]
    long_waits = [r for r in runs if r["wait_ms"] >= 50]
    cpu = sum(r["cpu_ms"] for r in long_waits)
    wait = sum(r["wait_ms"] for r in long_waits)
    share = 100.0 * cpu / wait if wait else 0.0
    print("for information (wall clock, not asserted): latency after listen "
          "median %.2f ms, max %.2f ms; cpu while waiting %.2f%%" % (
              statistics.median(lat), max(lat), share))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
