#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cove run basics: exit codes, signals, stdio, options, errors, no leftovers.

For every network mode (none, host, and each stack provider `cove stacks`
lists): exit status passthrough (0, 7, 128+N on a signal), stdin/stdout/
stderr passthrough, SIGTERM/SIGINT to `cove run` reaching the program,
--env/--workdir/--user/--name, what the program sees of the network
(none: only lo; otherwise eth0 keeps its address), netlink writes
refused inside, cove's own failures
(125 with one line, 127 for a missing command). Nothing may be left
behind: links, netns, /run/cove entries, sentries. Last, with the test
library's own fence removed, a sandbox from the default pool must install
the unreachable route for 10.209.0.0/16, so an unused pool address fails
with EHOSTUNREACH on the host instead of leaving by the default route.
"""

import errno
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    modes = ["none", "host"] + sb.stacks()
    for net in modes:
        n = "--network=" + net
        c.check(net + ": exit 0", sb.run([n, "--", "true"]).returncode == 0)
        r = sb.run([n, "--", "sh", "-c", "exit 7"])
        c.check(net + ": exit 7", r.returncode == 7, r.stderr)
        r = sb.run([n, "--", "sh", "-c", "kill -TERM $$"])
        c.check(net + ": killed by SIGTERM -> 143", r.returncode == 143,
                str(r.returncode))
        r = sb.run([n, "--", "cat"], input="hello\nworld\n")
        c.check(net + ": stdin -> stdout", r.stdout == "hello\nworld\n",
                repr(r.stdout))
        r = sb.run([n, "--", "sh", "-c", "echo oops >&2; exit 1"])
        c.check(net + ": stderr", r.stderr == "oops\n" and r.returncode == 1,
                repr(r.stderr))
        r = sb.run([n, "--", "ip", "-o", "-4", "addr"])
        if net == "none":
            c.check(net + ": only lo", "eth0" not in r.stdout and
                    "127.0.0.1" in r.stdout, r.stdout)
        else:
            c.check(net + ": eth0 keeps its address",
                    "eth0" in r.stdout and "10.209." in r.stdout, r.stdout)
        # Signals to cove run reach the program.
        for sig, want in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
            box = sb.Sandbox(["sleep", "100"], network=net).start()
            t0 = time.monotonic()
            rc = box.stop(sig)
            c.check("%s: %s forwarded -> %d" % (net, sig.name, want),
                    rc == want and time.monotonic() - t0 < 5, str(rc))
    k = "--network=" + (sb.stacks()[0] if sb.stacks() else "host")
    r = sb.run([k, "--name", "basics-%d" % os.getpid(), "--env", "FOO=bar",
                "--workdir", "/tmp", "--user", "65534:65534", "--", "sh",
                "-c", "echo $FOO; pwd; id -u; id -g; hostname"])
    c.check("env, workdir, user, name",
            r.stdout.split() == ["bar", "/tmp", "65534", "65534",
                                 "basics-%d" % os.getpid()], r.stdout + r.stderr)
    # Netlink writes are refused (no CAP_NET_ADMIN): the ingress drop and
    # the addresses stay as the sentry set them.
    r = sb.run([k, "--", "sh", "-c",
                "ip addr add 1.2.3.4/32 dev lo; tc qdisc del dev eth0 clsact;"
                " ip link set eth0 down; ip -o -4 addr show eth0"])
    c.check("netlink writes refused inside",
            r.stderr.count("Operation not permitted") == 3 and
            "eth0" in r.stdout, r.stdout + r.stderr)
    r = sb.run([k, "--", "/nonexistent/program"])
    c.check("missing command -> 127, one line",
            r.returncode == 127 and r.stderr.count("\n") == 1, r.stderr)
    r = sb.run(["--network=nosuch", "--", "true"])
    c.check("unknown stack -> 125, one line",
            r.returncode == 125 and r.stderr.count("\n") == 1 and
            "nosuch" in r.stderr, r.stderr)
    r = sb.run(["--ip=1.2.3", "--", "true"])
    c.check("bad --ip -> 125", r.returncode == 125, r.stderr)
    r = sb.run(["--help"])
    c.check("--help -> 0", r.returncode == 0 and "Usage" in r.stdout)
    r = sb.run(["--publish=8080:80", "--network=none", "--", "true"])
    c.check("--publish with --network=none -> 125, one line",
            r.returncode == 125 and r.stderr.count("\n") == 1, r.stderr)
    name = "dup-%d" % os.getpid()
    box = sb.Sandbox(["sleep", "100"], network="none",
                     extra=["--name", name]).start()
    r = sb.run(["--network=none", "--name", name, "--", "true"])
    c.check("a name in use is refused",
            r.returncode == 125 and "running" in r.stderr, r.stderr)
    box.stop()
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    check_pool_fence(c)
    c.exit()


def check_pool_fence(c):
    """cove run claims the default pool with an unreachable route."""
    subprocess.run(["ip", "route", "del", "unreachable", sb.FENCE],
                   capture_output=True)
    r = sb.run(["--network=builtin", "--", "true"])
    routes = subprocess.run(["ip", "route", "show", "type", "unreachable",
                             sb.FENCE], capture_output=True,
                            text=True).stdout
    fenced = r.returncode == 0 and sb.FENCE in routes
    c.check("cove run fences its address pool", fenced,
            "%d %r %r" % (r.returncode, routes, r.stderr))
    if not fenced:
        return		# never probe a pool address without the fence
    with socket.socket() as s:
        s.settimeout(2)
        try:
            s.connect(("10.209.255.254", 9))
            err = 0
        except OSError as e:
            err = e.errno
    c.check("a pool address without a sandbox fails here",
            err == errno.EHOSTUNREACH, os.strerror(err) if err else "ok")


if __name__ == "__main__":
    main()
