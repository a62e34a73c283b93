#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cove run --rootfs with a static busybox (Debian's busybox-static).

The program sees only the root directory it was given, a /proc of the
sandbox's pid namespace (PID 1 is the sentry), and its sockets still go
through the frontend although the binary is static: busybox httpd inside
serves curl on the host, busybox wget inside fetches from the host side,
on every provider `cove stacks` lists.
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

BUSYBOX = "/bin/busybox"


def make_rootfs():
    d = tempfile.mkdtemp(prefix="cove-rootfs-")
    for sub in ("bin", "proc", "www", "tmp"):
        os.mkdir(os.path.join(d, sub))
    shutil.copy(BUSYBOX, os.path.join(d, "bin", "busybox"))
    for cmd in ("sh", "ls", "cat", "httpd", "wget"):
        os.symlink("busybox", os.path.join(d, "bin", cmd))
    with open(os.path.join(d, "www", "index.html"), "w") as f:
        f.write("hello-rootfs\n")
    return d


def main():
    c = sb.Checks()
    if not os.path.exists(BUSYBOX):
        print("SKIP: no %s (busybox-static)" % BUSYBOX)
        return
    before = sb.Snapshot()
    root = make_rootfs()
    port = sb.free_port()
    srv = sb.HostHttp(b"from-the-host\n", port)
    try:
        for net in sb.stacks():
            r = sb.run(["--network=" + net, "--rootfs", root, "--",
                        "/bin/sh", "-c", "ls /; cat /proc/1/comm"])
            c.check(net + ": only the given root, the sandbox's /proc",
                    r.stdout.split() == ["bin", "proc", "tmp", "www",
                                         "cove-sentry"], r.stdout + r.stderr)
            box = sb.Sandbox(["/bin/httpd", "-f", "-p", "8000", "-h", "/www"],
                             network=net, extra=["--rootfs", root]).start()
            c.check(net + ": static httpd listening",
                    sb.wait_port(box.ip, 8000))
            r = subprocess.run(["curl", "-sS", "--max-time", "10",
                                "http://%s:8000/index.html" % box.ip],
                               capture_output=True, text=True)
            c.check(net + ": curl from the host", r.stdout == "hello-rootfs\n",
                    r.stdout + r.stderr)
            box.stop()
            r = sb.run(["--network=" + net, "--rootfs", root, "--",
                        "/bin/wget", "-q", "-O", "-",
                        "http://%s:%d/" % (sb.GATEWAY, port)])
            c.check(net + ": static wget inside", r.stdout ==
                    "from-the-host\n", r.stdout + r.stderr)
    finally:
        srv.close()
        shutil.rmtree(root)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
