#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Control channel acceptance: the dialer reaches a late listener at once.

A listener comes up 0..500 ms after the dialer starts, in two ways: the
socket path does not exist yet (bind+listen late), or it exists and only
listen() is late. The dialer (cove-ctl-dialtest, default settings) must
connect within 15 ms of listen() on the median and within 50 ms at worst,
and spend under 5% of the wait on CPU. Loopback only (unix sockets in a
private temporary directory).
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

BUILD = os.environ.get("COVE_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
TOOL = os.path.join(BUILD, "src", "control", "cove-ctl-dialtest")
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
        out = json.loads(proc.stdout.readline())
        if proc.wait(timeout=10) != 0 or not out["ok"]:
            raise RuntimeError("dial failed: %s" % out.get("error"))
        latency_ms = max(0, out["connected_ns"] - t_listen) / 1e6
        wait_ns = out["connected_ns"] - out["start_ns"]
        return {
            "delay": delay_ms, "mode": mode, "latency_ms": latency_ms,
            "wait_ms": wait_ns / 1e6, "cpu_ms": out["cpu_ns"] / 1e6,
            "attempts": out["attempts"],
        }
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        srv.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if not os.access(TOOL, os.X_OK):
        print("missing %s (build it: ninja -C %s)" % (TOOL, BUILD))
        return 1
    runs = []
    for mode in ("missing", "bound"):
        for d in DELAYS_MS:
            r = one_run(d, mode)
            runs.append(r)
            print("%-7s delay %3d ms: connected %6.2f ms after listen, "
                  "waited %6.1f ms, cpu %5.2f ms, %d attempts" % (
                      mode, d, r["latency_ms"], r["wait_ms"], r["cpu_ms"],
                      r["attempts"]))
    lat = [r["latency_ms"] for r in runs]
    med, worst = statistics.median(lat), max(lat)
    long_waits = [r for r in runs if r["wait_ms"] >= 50]
    cpu = sum(r["cpu_ms"] for r in long_waits)
    wait = sum(r["wait_ms"] for r in long_waits)
    share = 100.0 * cpu / wait if wait else 0.0
    print("latency after listen: median %.2f ms, max %.2f ms; "
          "cpu while waiting %.2f%% (%d runs >= 50 ms)" % (
              med, worst, share, len(long_waits)))
    ok = True
    if med >= 15:
        print("FAIL: median latency %.2f ms >= 15 ms" % med)
        ok = False
    if worst >= 50:
        print("FAIL: max latency %.2f ms >= 50 ms" % worst)
        ok = False
    if share >= 5:
        print("FAIL: CPU %.2f%% of the wait >= 5%%" % share)
        ok = False
    for r in long_waits:
        if r["cpu_ms"] >= 0.05 * r["wait_ms"]:
            print("FAIL: %s delay %d: cpu %.2f ms of %.1f ms wait" % (
                r["mode"], r["delay"], r["cpu_ms"], r["wait_ms"]))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
