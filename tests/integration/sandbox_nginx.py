#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""nginx (Debian's nginx-light) in a sandbox: a master and two workers
sharing one listening socket (accept readiness through the pair's tokens,
across processes), sendfile(2) onto the socket pair, keep-alive, and
several clients at once, on every provider `cove stacks` lists.
"""

import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

def main():
    c = sb.Checks()
    if not shutil.which("nginx"):
        print("SKIP: nginx is not installed (nginx-light)")
        return
    before = sb.Snapshot()
    d = sb.host_dir(prefix="cove-nginx-")
    os.mkdir(os.path.join(d, "html"))
    big = os.urandom(3 << 20)
    with open(os.path.join(d, "html", "big.bin"), "wb") as f:
        f.write(big)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(sb.nginx_conf(d, "  sendfile on;\n  tcp_nopush on;\n"
                                 "  keepalive_timeout 30;"))
    want = hashlib.md5(big).hexdigest()
    try:
        for net in ["host"] + sb.stacks():
            box = sb.Sandbox(["nginx", "-c", os.path.join(d, "nginx.conf"),
                              "-p", d], network=net).start()
            c.check(net + ": listening", sb.wait_port(box.ip, 8080))
            url = "http://%s:8080/big.bin" % box.ip

            def fetch(_):
                r = subprocess.run(["curl", "-sS", "--max-time", "30",
                                    url, url], capture_output=True)
                return (r.returncode == 0 and
                        r.stdout == big + big, r.stderr[-200:])

            with concurrent.futures.ThreadPoolExecutor(8) as ex:
                res = list(ex.map(fetch, range(8)))
            c.check(net + ": 8 clients x 2 keep-alive fetches of 3 MiB "
                    "(sendfile)", all(r[0] for r in res),
                    str([r[1] for r in res if not r[0]][:2]))
            rc = box.stop()
            c.check(net + ": nginx stopped by SIGTERM", rc == 0, str(rc))
    finally:
        shutil.rmtree(d)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
