#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""--publish and --ip refuse what the host or another sandbox has.

--publish HOST:PORT is refused, with one line and exit 125, while a host
process listens on HOST on 127.0.0.1 or on ::1 (the DNAT rule would take
its traffic), while another live sandbox publishes HOST, and when HOST is
given twice; once that sandbox is gone the port can be published again.
--ip is refused before anything is made for loopback, 0.0.0.0/8,
multicast, an address outside the pool without --ip-outside-pool, and,
inside a network namespace this test makes (so the host's routes are not
touched), a subnet that overlaps an address or a route there that Cove
did not make; a subnet next to them is accepted. Nothing is left behind.
"""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import netns  # noqa: E402
import sandbox as sb  # noqa: E402


def one_line_125(r, want):
    """cove's own failure: exit 125 and one stderr line containing @want."""
    return r.returncode == 125 and r.stderr.count("\n") == 1 and \
        want in r.stderr


def check_port_in_use(c):
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        port = sb.free_port("127.0.0.1")
        try:
            lis = socket.socket(fam, socket.SOCK_STREAM)
            lis.bind((addr, port))
        except OSError as e:
            c.check("listen on %s (no IPv6 here?)" % addr, False, str(e))
            continue
        lis.listen()
        r = sb.run(["--network=builtin", "--publish", "%d:8000" % port, "--",
                    "true"])
        c.check("--publish of a port listening on %s is refused" % addr,
                one_line_125(r, "host port %d is in use" % port), r.stderr)
        lis.close()
    port = sb.free_port("127.0.0.1")
    r = sb.run(["--network=builtin", "--publish", "%d:1" % port,
                "--publish", "%d:2" % port, "--", "true"])
    c.check("--publish of one host port twice is refused",
            one_line_125(r, "given twice"), r.stderr)


def check_published_twice(c):
    port = sb.free_port("127.0.0.1")
    name = "pub1-%d" % os.getpid()
    box = sb.Sandbox(["sleep", "100"], network="builtin",
                     extra=["--name", name, "--publish",
                            "%d:8000" % port]).start()
    r = sb.run(["--network=builtin", "--publish", "%d:9000" % port, "--",
                "true"])
    c.check("a port another live sandbox publishes is refused",
            one_line_125(r, "host port %d is published by sandbox %s" %
                         (port, name)), r.stderr)
    c.check("the first sandbox is undisturbed", box.proc.poll() is None)
    rc = box.stop()
    c.check("the first sandbox ends normally", rc == 143, str(rc))
    r = sb.run(["--network=builtin", "--publish", "%d:9000" % port, "--",
                "true"])
    c.check("once it is gone the port can be published", r.returncode == 0,
            r.stderr)


def check_ip_classes(c):
    for ip, want in (("127.0.0.5/8", "loopback"),
                     ("0.0.0.5/8", "0.0.0.0/8"),
                     ("224.0.0.5/8", "multicast"),
                     ("192.168.77.5/24", "--ip-outside-pool")):
        r = sb.run(["--network=builtin", "--ip", ip, "--", "true"])
        c.check("--ip %s refused at parse time" % ip,
                one_line_125(r, want) and "see 'cove run --help'" in r.stderr,
                r.stderr)


def check_ip_routes(c):
    """In a netns of our own: an address on lo and a route Cove did not
    make; the runtime run there sees that netns's routes."""
    ns = netns.Netns(netns.unique("cv-pub"))
    try:
        ns.ip("addr", "add", "198.51.100.1/24", "dev", "lo")
        ns.ip("route", "add", "203.0.113.128/25", "dev", "lo")
        for ip, want in (("198.51.100.7/24", "local to this host on lo"),
                         ("203.0.113.5/24", "route 203.0.113.128/25 dev lo")):
            r = subprocess.run(["ip", "netns", "exec", ns.name, sb.cove_bin(),
                                "run", "--network=host", "--ip", ip,
                                "--ip-outside-pool", "--", "true"],
                               capture_output=True, text=True, timeout=60)
            c.check("--ip %s overlapping the netns's %s is refused" %
                    (ip, want.split(" ")[0]), one_line_125(r, want), r.stderr)
        r = subprocess.run(["ip", "netns", "exec", ns.name, sb.cove_bin(),
                            "run", "--network=host", "--ip", "203.0.113.5/26",
                            "--ip-outside-pool", "--", "sh", "-c",
                            "ip -o -4 addr show eth0"],
                           capture_output=True, text=True, timeout=60)
        c.check("--ip 203.0.113.5/26 next to them is taken",
                r.returncode == 0 and "203.0.113.5/26" in r.stdout,
                r.stdout + r.stderr)
    finally:
        sb.wait_teardowns()	# the runs' teardown children are in ns
        ns.delete()


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    check_port_in_use(c)
    check_published_twice(c)
    check_ip_classes(c)
    check_ip_routes(c)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
