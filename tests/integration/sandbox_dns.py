#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""DNS from inside a sandbox to a resolver the test runs on the host side.

The resolver is a few lines of Python bound to the gateway address
(10.209.0.1:53, IP_FREEBIND, so it only ever talks over sandbox veths): it
answers A queries for cove.test with 203.0.113.7 (a documentation address:
it is only data in the answer, nothing is ever sent there) and NXDOMAIN
otherwise. Inside, busybox's nslookup, a real resolver client (UDP socket,
connect, send, recv), asks for cove.test and for a name that does not
exist, on --network=host and on every provider.
"""

import os
import socket
import struct
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import sandbox as sb  # noqa: E402

ANSWER = "203.0.113.7"


def qname(msg, off):
    """The dotted name at @off in @msg (no compression in questions)."""
    labels = []
    while off < len(msg) and msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels).lower(), off + 1


class Resolver:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sb._freebind(self.sock)
        self.sock.bind((sb.GATEWAY, 53))
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
            self.queries.append((name, qtype))
            question = q[12:end + 4]
            if name == "cove.test":
                an = []
                if qtype == 1:
                    an.append(struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) +
                              socket.inet_aton(ANSWER))
                head = struct.pack("!HHHHHH", qid, 0x8180, 1, len(an), 0, 0)
            else:
                an = []
                head = struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0)
            self.sock.sendto(head + question + b"".join(an), peer)

    def close(self):
        self.sock.close()


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    res = Resolver()
    try:
        for net in ["host"] + sb.stacks():
            r = sb.run(["--network=" + net, "--", "busybox", "nslookup",
                        "-type=a", "cove.test", sb.GATEWAY], timeout=60)
            c.check("%s: nslookup cove.test" % net,
                    r.returncode == 0 and ANSWER in r.stdout,
                    "rc %d: %s %s" % (r.returncode, r.stdout[-300:],
                                      r.stderr[-300:]))
            r = sb.run(["--network=" + net, "--", "busybox", "nslookup",
                        "-type=a", "nothing.invalid", sb.GATEWAY],
                       timeout=60)
            c.check("%s: NXDOMAIN reported" % net,
                    r.returncode != 0 and ANSWER not in r.stdout and
                    "NXDOMAIN" in (r.stdout + r.stderr),
                    "rc %d: %s %s" % (r.returncode, r.stdout[-300:],
                                      r.stderr[-300:]))
        c.check("resolver saw the queries",
                ("cove.test", 1) in res.queries, str(res.queries[-5:]))
    finally:
        res.close()
        sb.cleanup()
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
