#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""1,000 sequential short connections to nginx in a sandbox.

Each connection is new: connect, one HTTP/1.0 request (the server closes
after the response), the whole response read and checked, close. This
drives the frontend's accept path (a token and a pair per connection),
the stack's passive open and close and TIME_WAIT on the client side a
thousand times per provider, on --network=host and on every provider.
"""

import os
import shutil
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

N = 1000
BODY = bytes(range(256)) * 16          # 4 KiB
def fetch(ip):
    """One short connection; the body, or raise."""
    with socket.create_connection((ip, 8080), timeout=10) as s:
        s.sendall(b"GET /small.bin HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError("status: %r" % head[:40])
    return body


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    d = sb.host_dir(prefix="cove-conns-")
    os.mkdir(os.path.join(d, "html"))
    with open(os.path.join(d, "html", "small.bin"), "wb") as f:
        f.write(BODY)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(sb.nginx_conf(d))
    try:
        for net in ["host"] + sb.stacks():
            box = sb.Sandbox(["nginx", "-c", os.path.join(d, "nginx.conf"),
                              "-p", d], network=net).start()
            c.check(net + ": listening", sb.wait_port(box.ip, 8080))
            ok, err = 0, ""
            for i in range(N):
                try:
                    if fetch(box.ip) == BODY:
                        ok += 1
                    else:
                        err = "connection %d: body differs" % i
                except (OSError, RuntimeError) as e:
                    err = "connection %d: %s" % (i, e)
                if err:
                    break
            c.check("%s: %d sequential short connections" % (net, N),
                    ok == N, "%d ok; %s" % (ok, err))
            rc = box.stop()
            c.check(net + ": nginx stopped by SIGTERM", rc == 0, str(rc))
    finally:
        shutil.rmtree(d)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
