#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cove run --netns PATH: a netns an orchestrator prepared (as a CNI plugin
leaves it: veth, IPv4 and IPv6 addresses, default routes). The sandbox
takes both addresses from the interface, serves them with each provider
`cove stacks` lists (IPv6 on those that have it), and on exit gives the
interface back as it was (no clsact qdisc left, IPv6 setting, address and
default route restored: disabling IPv6 for a link-based stack flushes
them). The test plays the orchestrator with ip(8).
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402
import netns  # noqa: E402


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    ns = netns.Netns(netns.unique("sbxns"))
    host_if = "cvo%d" % (os.getpid() % 100000)
    try:
        netns.sh("ip", "link", "add", host_if, "type", "veth", "peer",
                 "name", "eth0", "netns", ns.name)
        netns.sh("ip", "addr", "add", "10.89.7.1/24", "dev", host_if)
        netns.sh("ip", "link", "set", host_if, "up")
        netns.sh("ethtool", "-K", host_if, "tso", "off", "gso", "off",
                 check=False)
        ns.ip("addr", "add", "10.89.7.2/24", "dev", "eth0")
        ns.ip("link", "set", "eth0", "up")
        ns.ip("route", "add", "default", "via", "10.89.7.1")
        netns.sh("ip", "addr", "add", "fd89:7::1/64", "dev", host_if,
                 "nodad")
        ns.ip("addr", "add", "fd89:7::2/64", "dev", "eth0", "nodad")
        ns.ip("-6", "route", "add", "default", "via", "fd89:7::1")
        qdisc0 = ns.run("tc", "qdisc", "show", "dev", "eth0").stdout
        runs = [(n, []) for n in sb.stacks()]
        runs += [(n + "+tap", ["--link=tap"]) for n in sb.stacks()
                 if n != "kernel"]
        for net, extra in runs:
            v6 = sb.ipv6_stack(net)
            box = sb.Sandbox(["/usr/bin/python3", "-m", "http.server", "8000",
                              "--bind", "::" if v6 else "0.0.0.0"],
                             network=net.split("+")[0],
                             extra=["--netns", "/run/netns/" + ns.name] +
                             extra)
            box.start()
            log = "".join(box.log)
            c.check(net + ": address read from the netns",
                    "eth0 has 10.89.7.2/24, gateway 10.89.7.1" in log, log)
            c.check(net + ": serves 10.89.7.2", sb.wait_port("10.89.7.2", 8000))
            r = subprocess.run(["curl", "-sS", "--max-time", "10", "-o",
                                "/dev/null", "-w", "%{http_code}",
                                "http://10.89.7.2:8000/"],
                               capture_output=True, text=True)
            c.check(net + ": curl", r.stdout == "200", r.stdout + r.stderr)
            c.check(net + ": IPv6 address read from the netns",
                    "eth0 has fd89:7::2/64, gateway fd89:7::1" in log, log)
            if v6:
                r = subprocess.run(["curl", "-sS", "-g", "--max-time", "10",
                                    "-o", "/dev/null", "-w", "%{http_code}",
                                    "http://[fd89:7::2]:8000/"],
                                   capture_output=True, text=True)
                c.check(net + ": curl -6", r.stdout == "200",
                        r.stdout + r.stderr)
            box.stop()
            a6 = ns.ip("-6", "addr", "show", "dev", "eth0").stdout
            r6 = ns.ip("-6", "route", "show", "default").stdout
            c.check(net + ": IPv6 address and route given back",
                    "fd89:7::2/64" in a6 and "via fd89:7::1" in r6, a6 + r6)
            c.check(net + ": interface given back as it was",
                    ns.run("tc", "qdisc", "show", "dev", "eth0").stdout ==
                    qdisc0 and ns.run("cat",
                    "/proc/sys/net/ipv6/conf/eth0/disable_ipv6").stdout
                    .strip() == "0")
    finally:
        ns.delete()
        netns.sh("ip", "link", "del", host_if, check=False)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
