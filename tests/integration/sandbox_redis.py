#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An unmodified redis-server in a sandbox, driven from the host.

For --network=host and every provider `cove stacks` lists: redis-cli
PING / SET / GET / a 100 KiB value round trip, then a short
redis-benchmark (SET, GET), whose throughput is printed next to the
host baseline, 300 connections at once, and the sentry's CPU use while
idle (none: it sleeps in epoll). The server is stopped with SIGTERM through cove run and
nothing may be left behind.
"""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402


def cli(ip, *args, **kw):
    return subprocess.run(["redis-cli", "-h", ip] + list(args),
                          capture_output=True, text=True, timeout=20, **kw)


def ticks(pid):
    """utime + stime of @pid in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    rates = {}
    for net in ["host"] + sb.stacks():
        box = sb.Sandbox(["redis-server", "--port", "6379", "--save", "",
                          "--appendonly", "no", "--protected-mode", "no"],
                         network=net).start()
        up = sb.wait_port(box.ip, 6379)
        c.check(net + ": redis listening", up)
        if not up:
            box.stop()
            continue
        c.check(net + ": PING", cli(box.ip, "PING").stdout.strip() == "PONG")
        c.check(net + ": SET", cli(box.ip, "SET", "k", "v").stdout.strip()
                == "OK")
        c.check(net + ": GET", cli(box.ip, "GET", "k").stdout.strip() == "v")
        big = "x" * 102400
        cli(box.ip, "-x", "SET", "big", input=big)
        got = cli(box.ip, "GET", "big").stdout.strip()
        c.check(net + ": 100 KiB value", got == big, "len %d" % len(got))
        r = subprocess.run(["redis-benchmark", "-h", box.ip, "-q", "-n",
                            "5000", "-c", "10", "-t", "set,get"],
                           capture_output=True, text=True, timeout=120)
        out = r.stdout.replace("\r", "\n")
        got = dict(re.findall(r"^(SET|GET): ([0-9.]+) requests per second",
                              out, re.M))
        c.check(net + ": redis-benchmark", len(got) == 2, out[-300:])
        rates[net] = got
        r = subprocess.run(["redis-benchmark", "-h", box.ip, "-q", "-n",
                            "3000", "-c", "300", "-t", "ping"],
                           capture_output=True, text=True, timeout=120)
        c.check(net + ": 300 connections at once",
                "requests per second" in r.stdout, r.stdout[-200:] +
                r.stderr[-200:])
        spid = box.sentry_pid()
        if spid and net != "host":
            # Closing 300 connections takes a moment (longer under ASan):
            # idle means one quiet second within the next five.
            for _ in range(5):
                t1 = ticks(spid)
                time.sleep(1.0)
                t2 = ticks(spid)
                if t2 - t1 <= 2:
                    break
            c.check(net + ": idle sentry uses no CPU (%d ticks/s)" %
                    (t2 - t1), t2 - t1 <= 2)
        rc = box.stop()
        c.check(net + ": stopped by SIGTERM through cove run",
                rc in (0, 1, 143), str(rc))
    for net, got in rates.items():
        base = rates.get("host", {})
        print("%-8s SET %9s GET %9s rps%s" % (
            net, got.get("SET"), got.get("GET"),
            "" if net == "host" or not base else
            "  (%.2fx of host)" % (float(got["GET"]) / float(base["GET"]))))
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
