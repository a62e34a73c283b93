#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""HTTP both ways: python3 -m http.server inside fetched by curl from the
host (at the sandbox address, and at 127.0.0.1 through --publish), and
curl inside fetching from a server on the host side, on --network=host
and every provider `cove stacks` lists.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

BODY = bytes((i * 31 + 7) % 251 for i in range(300000))


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    d = sb.host_dir()
    with open(os.path.join(d, "file.bin"), "wb") as f:
        f.write(BODY)
    port = sb.free_port()
    host_srv = sb.HostHttp(BODY, port)
    for net in ["host"] + sb.stacks():
        pub = sb.free_port("127.0.0.1")
        box = sb.Sandbox(["/usr/bin/python3", "-m", "http.server", "8000",
                          "--bind", "0.0.0.0"], network=net,
                         extra=["--workdir", d,
                                "--publish", "%d:8000" % pub]).start()
        up = sb.wait_port(box.ip, 8000)
        c.check(net + ": http.server listening", up)
        for i in range(3):
            r = subprocess.run(["curl", "-sS", "--max-time", "20",
                                "http://%s:8000/file.bin" % box.ip],
                               capture_output=True, timeout=30)
            c.check("%s: curl from the host #%d" % (net, i),
                    r.returncode == 0 and r.stdout == BODY,
                    "%d %d bytes %s" % (r.returncode, len(r.stdout),
                                        r.stderr[-200:]))
        r = subprocess.run(["curl", "-sS", "--max-time", "20",
                            "http://127.0.0.1:%d/file.bin" % pub],
                           capture_output=True, timeout=30)
        c.check("%s: curl 127.0.0.1 through --publish" % net,
                r.returncode == 0 and r.stdout == BODY,
                "%d %d bytes %s" % (r.returncode, len(r.stdout),
                                    r.stderr[-200:]))
        box.stop()
        r = sb.run(["--network=" + net, "--", "sh", "-c",
                    "curl -sS --max-time 20 http://%s:%d/x | md5sum" %
                    (sb.GATEWAY, port)])
        import hashlib
        c.check(net + ": curl inside from the host side",
                r.returncode == 0 and
                r.stdout.split()[0] == hashlib.md5(BODY).hexdigest(),
                r.stdout + r.stderr)
    host_srv.close()
    os.unlink(os.path.join(d, "file.bin"))
    os.rmdir(d)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
