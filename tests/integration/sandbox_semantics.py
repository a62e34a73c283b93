#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Socket semantics through the sentry frontend, against --network=host.

Runs tests/sandbox/sockcheck.c (built by tests/sandbox/meson.build) in a
sandbox on every provider `cove stacks` lists and on --network=host (the
kernel, no interception) with the same host peers: a TCP echo server on
the gateway, a closed port next to it, a UDP echo server, and two
connections into the sandbox when sockcheck says LISTEN. Every check must
pass everywhere; the only allowed difference is AF_INET6, which the
frontend refuses with EAFNOSUPPORT (the kernel allows it under host).
The family allow list of the filter (families_allow_list) must refuse
the same way in every mode.
Link-based providers run twice: on packet:eth0 and on --link=tap.
"""

import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

LISTEN_PORT = 7777


def run_one(net, tcp_port, udp_port):
    extra = []
    if net.endswith("+tap"):
        net = net[:-4]
        extra = ["--link=tap"]
    p = subprocess.Popen([sb.cove_bin(net), "run", "--verbose",
                          "--network=" + net] + extra + ["--",
                          sb.sockcheck_bin(),
                          sb.GATEWAY, str(tcp_port), str(udp_port),
                          str(LISTEN_PORT)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    ip = None
    while True:
        line = p.stderr.readline()
        if not line or "program running" in line:
            break
        if "sandbox address" in line:
            ip = line.split("sandbox address ")[1].split("/")[0]
    lines = []
    for line in p.stdout:
        line = line.strip()
        lines.append(line)
        if line.startswith("LISTEN"):
            for _ in range(2):
                s = socket.create_connection((ip, LISTEN_PORT), timeout=5)
                s.sendall(b"x")
                s.close()
    p.wait(60)
    return p.returncode, lines


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    port = sb.free_port()
    tcp = sb.HostTcpEcho(port)
    udp = sb.HostUdpEcho()
    results = {}
    nets = ["host"] + sb.stacks()
    # Link-based providers also on --link=tap.
    nets += [n + "+tap" for n in sb.stacks() if n != "kernel"]
    for net in nets:
        rc, lines = run_one(net, port, udp.port)
        results[net] = lines
        for line in lines:
            if line.endswith(" ok") or " FAIL: " in line:
                c.check("%s: %s" % (net, line.split()[0]),
                        line.endswith(" ok"), line)
        c.check("%s: sockcheck finished cleanly" % net, rc == 0,
                "exit %s: %s" % (rc, lines[-3:]))
        inet6 = [l for l in lines if l.startswith("inet6 ")]
        want = "inet6 allowed" if net == "host" else "inet6 eafnosupport"
        c.check("%s: %s" % (net, want), inet6 == [want], str(inet6))
    tcp.close()
    udp.close()
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
