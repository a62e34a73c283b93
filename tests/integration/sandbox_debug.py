#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Debugging inside a sandbox: strace and gdb on the program's own
processes, in every mode; the sentry and cove exec's zygote untraceable.

  - strace -f of a client that connects to an echo server on the host:
    the connect() and its result are traced, the exchange works;
  - strace -f of a server inside (python3 -m http.server) while curl on
    the host fetches from it: accept4() is traced, curl gets its page;
  - gdb -batch runs a program that crashes and reports the signal;
  - from inside, PTRACE_ATTACH to every process that is not the caller's
    own (the sentry, PID 1, and the zygote of cove exec) fails with EPERM.
Compared with Linux: the same runs under --network=host first.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

CLIENT = r'''
import socket, sys
host, port = sys.argv[1].split(":")
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(b"ping")
print(s.recv(4).decode())
'''

ATTACH = r'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
mine = {os.getpid()}
bad = []
tried = 0
for p in sorted(int(d) for d in os.listdir("/proc") if d.isdigit()):
    if p in mine:
        continue
    tried += 1
    r = libc.ptrace(16, p, None, None)  # PTRACE_ATTACH
    e = ctypes.get_errno()
    if r == 0 or e not in (1, 3):  # EPERM, or ESRCH: gone meanwhile
        bad.append((p, r, e))
print("tried", tried, "bad", bad)
'''


def check_mode(c, net, port):
    r = sb.run(["--network=" + net, "--", "strace", "-f", "-qq", "-e",
                "trace=connect", "/usr/bin/python3", "-c", CLIENT,
                "%s:%d" % (sb.GATEWAY, port)], timeout=60)
    c.check(net + ": strace -f of a client: connect traced, exchange works",
            r.returncode == 0 and r.stdout.strip() == "ping" and
            "connect(3, {sa_family=AF_INET, sin_port=htons(%d)" % port in
            r.stderr, "%d %r %r" % (r.returncode, r.stdout, r.stderr[-400:]))

    box = sb.Sandbox(["strace", "-f", "-qq", "-e", "trace=accept4",
                      "/usr/bin/python3", "-m", "http.server", "8000",
                      "--bind", "0.0.0.0"], network=net).start()
    up = sb.wait_port(box.ip, 8000)
    f = subprocess.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                        "-w", "%{http_code}", "http://%s:8000/" % box.ip],
                       capture_output=True, text=True)
    box.stop()
    log = "".join(box.log)
    c.check(net + ": strace -f of a server: accept4 traced, curl served",
            up and f.stdout == "200" and "accept4(" in log,
            f.stdout + f.stderr + log[-400:])

    r = sb.run(["--network=" + net, "--", "gdb", "-q", "-batch", "-ex", "run",
                "--args", "/bin/sh", "-c", "kill -SEGV $$"], timeout=60)
    c.check(net + ": gdb runs a program and reports its SIGSEGV",
            "Program received signal SIGSEGV" in r.stdout + r.stderr or
            "Program terminated with signal SIGSEGV" in r.stdout + r.stderr,
            r.stdout[-300:] + r.stderr[-300:])

    r = sb.run(["--network=" + net, "--", "/usr/bin/python3", "-c", ATTACH],
               timeout=60)
    c.check(net + ": the sentry and the zygote cannot be traced (EPERM)",
            r.returncode == 0 and "bad []" in r.stdout and
            int(r.stdout.split()[1]) >= 2,
            r.stdout + r.stderr[-300:])


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    port = sb.free_port()
    echo = sb.HostTcpEcho(port)
    for net in ["host"] + sb.stacks():
        check_mode(c, net, port)
    echo.close()
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
