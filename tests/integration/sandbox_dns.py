#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""DNS from inside a sandbox to a resolver the test runs on the host side.

The resolver is a few lines of Python bound to the gateway's addresses,
10.209.0.1:53 and [fd63:6f76:6500::1]:53 (IP_FREEBIND and IPV6_FREEBIND,
so it only ever talks over sandbox veths): it answers A queries for
cove.test with 203.0.113.7 and AAAA queries with 2001:db8::7
(documentation addresses: they are only data in the answers, nothing is
ever sent there) and NXDOMAIN for other names. Inside, busybox's
nslookup, a real resolver client (UDP socket, connect, send, recv), asks
for cove.test's A and AAAA records and for a name that does not exist,
of the resolver over IPv4 and, on the stacks with IPv6 (and host), over
IPv6, on --network=host (the Linux reference) and on every provider.
The sandbox's /etc/resolv.conf is the host's, so the resolver is named
on nslookup's command line.
"""

import os
import re
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import sandbox as sb  # noqa: E402

ANSWER = "203.0.113.7"
ANSWER6 = "2001:db8::7"


def qname(msg, off):
    """The dotted name at @off in @msg (no compression in questions)."""
    labels = []
    while off < len(msg) and msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels).lower(), off + 1


class Resolver:
    """The test's resolver on @ip:53; self.queries lists (name, qtype,
    peer address) of every query it read."""

    def __init__(self, ip):
        self.sock = socket.socket(socket.AF_INET6 if ":" in ip else
                                  socket.AF_INET, socket.SOCK_DGRAM)
        sb._freebind(self.sock)
        self.sock.bind((ip, 53))
        self.queries = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                q, peer = self.sock.recvfrom(512)
            except OSError:
                return
            if len(q) < 17:
                continue
            qid, = struct.unpack("!H", q[:2])
            name, end = qname(q, 12)
            if end + 4 > len(q):
                continue
            qtype, = struct.unpack("!H", q[end:end + 2])
            self.queries.append((name, qtype, peer[0]))
            question = q[12:end + 4]
            if name == "cove.test":
                an = []
                if qtype == 1:
                    an.append(struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) +
                              socket.inet_aton(ANSWER))
                if qtype == 28:
                    an.append(struct.pack("!HHHIH", 0xC00C, 28, 1, 60, 16) +
                              socket.inet_pton(socket.AF_INET6, ANSWER6))
                head = struct.pack("!HHHHHH", qid, 0x8180, 1, len(an), 0, 0)
            else:
                an = []
                head = struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0)
            self.sock.sendto(head + question + b"".join(an), peer)

    def close(self):
        self.sock.close()


def nslookup(net, qtype, name, server):
    """busybox nslookup -type=@qtype @name @server inside a sandbox."""
    return sb.run(["--network=" + net, "--verbose", "--", "busybox",
                   "nslookup", "-type=" + qtype, name, server], timeout=60)


def sandbox_ip6(r):
    """The sandbox's IPv6 address from a `cove run --verbose` log."""
    m = re.search(r"sandbox IPv6 address ([0-9a-f:]+)/", r.stderr)
    return m.group(1) if m else None


def answered(r, want):
    """Did nslookup print @want as an answer (after its Name: line)?"""
    return r.returncode == 0 and \
        re.search(r"^Address:\s+%s$" % re.escape(want),
                  r.stdout.split("Name:", 1)[-1], re.M) is not None


def detail(r):
    return "rc %d: %s %s" % (r.returncode, r.stdout[-300:], r.stderr[-300:])


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    res = Resolver(sb.GATEWAY)
    res6 = Resolver(sb.GATEWAY6)
    try:
        for net in ["host"] + sb.stacks():
            r = nslookup(net, "a", "cove.test", sb.GATEWAY)
            c.check("%s: nslookup cove.test" % net, answered(r, ANSWER),
                    detail(r))
            r = nslookup(net, "a", "nothing.invalid", sb.GATEWAY)
            c.check("%s: NXDOMAIN reported" % net,
                    r.returncode != 0 and ANSWER not in r.stdout and
                    "NXDOMAIN" in (r.stdout + r.stderr), detail(r))
            r = nslookup(net, "aaaa", "cove.test", sb.GATEWAY)
            c.check("%s: AAAA of cove.test over IPv4" % net,
                    answered(r, ANSWER6) and ANSWER not in r.stdout,
                    detail(r))
            if not sb.ipv6_stack(net):
                continue
            for qtype, want in (("aaaa", ANSWER6), ("a", ANSWER)):
                n = len(res6.queries)
                r = nslookup(net, qtype, "cove.test", sb.GATEWAY6)
                got = res6.queries[n:]
                c.check("%s: %s of cove.test from the resolver over IPv6" %
                        (net, qtype.upper()), answered(r, want), detail(r))
                c.check("%s: the %s query came from the sandbox's IPv6 "
                        "address" % (net, qtype.upper()),
                        sandbox_ip6(r) is not None and
                        got[:1] == [("cove.test", {"a": 1, "aaaa": 28}[qtype],
                                     sandbox_ip6(r))], str(got))
            r = nslookup(net, "aaaa", "nothing.invalid", sb.GATEWAY6)
            c.check("%s: NXDOMAIN over IPv6" % net,
                    r.returncode != 0 and "NXDOMAIN" in
                    (r.stdout + r.stderr), detail(r))
        c.check("resolver saw the queries",
                ("cove.test", 1) in [q[:2] for q in res.queries] and
                ("cove.test", 28) in [q[:2] for q in res.queries],
                str(res.queries[-5:]))
    finally:
        res.close()
        res6.close()
        sb.cleanup()
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
