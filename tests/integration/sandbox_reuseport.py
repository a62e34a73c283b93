#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""SO_REUSEPORT through the sandbox: nginx with `listen 8080 reuseport`
and two workers, so each worker has its own listening socket on the same
port and the stack spreads connections between them. Every provider that
supports it must serve all fetches and use both workers (the response
names the worker's pid); lwip, which cannot share a port, must make nginx
fail at start with a clear error instead of serving from one worker.
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

FETCHES = 40
# Providers where nginx must refuse to start, with the error it must log.
REFUSED = {"lwip": "setsockopt(SO_REUSEPORT)"}


def fetch(url):
    """One fetch on a new connection: (ok, worker pid, stderr tail)."""
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "-D", "-", url],
                       capture_output=True, text=True)
    pid = None
    for line in r.stdout.splitlines():
        if line.lower().startswith("x-worker:"):
            pid = line.split(":", 1)[1].strip()
    return r.returncode == 0 and r.stdout.endswith("hello\n"), pid, \
        r.stderr[-200:]


def main():
    c = sb.Checks()
    if not shutil.which("nginx"):
        print("SKIP: nginx is not installed (nginx-light)")
        return
    before = sb.Snapshot()
    d = sb.host_dir(prefix="cove-reuseport-")
    os.mkdir(os.path.join(d, "html"))
    with open(os.path.join(d, "html", "index.html"), "w") as f:
        f.write("hello\n")
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(sb.nginx_conf(d, "  add_header X-Worker $pid always;",
                              listen="8080 reuseport"))
    cmd = ["nginx", "-c", conf, "-p", d]
    try:
        for net in ["host"] + sb.stacks():
            if net in REFUSED:
                r = sb.run(["--network=" + net, "--"] + cmd, timeout=30)
                c.check(net + ": nginx refuses to start (%s)" % REFUSED[net],
                        r.returncode != 0 and REFUSED[net] in r.stderr,
                        "rc %d: %s" % (r.returncode, r.stderr[-300:]))
                continue
            box = sb.Sandbox(cmd, network=net).start()
            c.check(net + ": listening", sb.wait_port(box.ip, 8080))
            res = [fetch("http://%s:8080/" % box.ip) for _ in range(FETCHES)]
            bad = [r[2] for r in res if not r[0]]
            c.check(net + ": %d fetches, each on a new connection" % FETCHES,
                    not bad, str(bad[:2]))
            pids = {r[1] for r in res if r[0]}
            c.check(net + ": both workers served (reuseport spread)",
                    len(pids) == 2, str(sorted(p or "?" for p in pids)))
            rc = box.stop()
            c.check(net + ": nginx stopped by SIGTERM", rc == 0, str(rc))
    finally:
        shutil.rmtree(d)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
