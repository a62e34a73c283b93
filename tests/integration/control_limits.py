#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The control socket stays usable when many connections idle on it.

A sandbox (builtin stack, `sleep`) gets 40 idle connections to its
control.sock, more than its 16 slots: 20 that never say anything, then 20
that say cove.Hello and nothing more (each Hello is answered, OK or, once
nothing can give way, with a clear refusal; never a reset). `cove ps`, `cove exec` and `cove stats`
must still work at once (before this, 15 such connections locked them out
for 40 s with "Connection reset by peer"), the idle connections must have
been closed to make room (the ones that never said Hello first), and
`cove run`'s own connection, waiting on cove.Wait, must survive it all:
SIGTERM still ends the program and cove run exits 143. When all 16 slots
hold calls in progress (15 concurrent `cove exec`, which all start, and
cove run's cove.Wait),
the next command is refused with one line saying so, never a reset, and
works again once one of them has ended. The timeouts
themselves are checked on an injected clock (unit test control_limits).
"""

import os
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

NAME = "ctllim%d" % (os.getpid() % 100000)
IDLE = 40


def pb_field(num, data):
    """A length-delimited protobuf field (strings, bytes)."""
    return bytes([num << 3 | 2, len(data)]) + data


def hello_frame(stream=1):
    """cove.Hello as the cove client sends it: a Request envelope in a
    ttrpc-style frame (u32 length, u32 stream, u8 type 1, u8 flags)."""
    hello = bytes([0x08, 1, 0x10, 1]) + pb_field(3, b"control_limits")
    req = pb_field(1, b"cove.Hello") + pb_field(2, hello)
    return struct.pack(">IIBB", len(req), stream, 1, 0) + req


def read_frame(s, timeout=10):
    """One whole frame from @s, or None at EOF, reset or timeout."""
    buf = b""
    while True:
        if len(buf) >= 10:
            n = struct.unpack(">I", buf[:4])[0]
            if len(buf) >= 10 + n:
                return buf[:10 + n]
        r, _, _ = select.select([s], [], [], timeout)
        if not r:
            return None
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        buf += chunk


def closed(s):
    """True if the sentry has closed @s (EOF or reset), without waiting."""
    s.setblocking(False)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def cove(*args):
    return subprocess.run([sb.cove_bin()] + list(args), capture_output=True,
                          text=True, timeout=30)


def check_all_busy(c):
    """15 concurrent `cove exec` (each waiting on cove.Wait for its
    process) and cove run's own connection fill the 16 slots: every exec
    starts, the next command is refused with one line that says so (not a
    reset), and works again once one exec has gone."""
    execs = [subprocess.Popen([sb.cove_bin(), "exec", NAME, "--", "sh", "-c",
                               "echo up; exec sleep 100"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(15)]
    try:
        up = [p.stdout.readline() == "up\n" for p in execs]
        c.check("15 concurrent cove exec all start", all(up), str(up))
        r = cove("ps", NAME)
        c.check("all slots busy: cove ps refused in one clear line",
                r.returncode == 125 and r.stderr.count("\n") == 1 and
                "try again later" in r.stderr and
                "reset" not in r.stderr, r.stdout + r.stderr)
        c.check("no exec was cut", all(p.poll() is None for p in execs))
        execs[0].kill()
        execs[0].wait(10)
        r = cove("ps", NAME)
        c.check("one exec gone: cove ps works again",
                r.returncode == 0 and r.stdout.count("echo up") == 15,
                r.stdout + r.stderr)
    finally:
        for p in execs:
            p.kill()
            p.wait(10)


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    box = sb.Sandbox(["sleep", "1000"], network="builtin",
                     extra=["--name", NAME]).start()
    path = "/run/cove/%s/control.sock" % NAME
    silent, helloed, answers = [], [], []
    for i in range(IDLE):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        if i < IDLE // 2:
            silent.append(s)
            continue
        s.sendall(hello_frame())
        f = read_frame(s)
        # A response (type 2) on stream 1: OK (proto3 leaves a zero code,
        # field 1, out) or RESOURCE_EXHAUSTED (8) once nothing can give
        # way; never a reset.
        code = None
        if f is not None and f[8] == 2 and \
                struct.unpack(">I", f[4:8])[0] == 1:
            code = f[11] if len(f) > 11 and f[10] == 0x08 else 0
        answers.append(code)
        helloed.append(s)
    c.check("every hello answered, OK or a clear refusal",
            all(a in (0, 8) for a in answers), str(answers))
    time.sleep(1.5)  # they idle (eviction spares only the last second)
    r = cove("ps", NAME)
    c.check("cove ps works with %d idle connections" % IDLE,
            r.returncode == 0 and "sleep" in r.stdout, r.stdout + r.stderr)
    r = cove("exec", NAME, "--", "sh", "-c", "echo in; exit 3")
    c.check("cove exec works with %d idle connections" % IDLE,
            r.returncode == 3 and r.stdout == "in\n", repr(r.stdout) +
            r.stderr)
    r = cove("stats", NAME)
    c.check("cove stats works with %d idle connections" % IDLE,
            r.returncode == 0, r.stdout + r.stderr)
    n_silent = sum(closed(s) for s in silent)
    n_helloed = sum(closed(s) for s in helloed)
    # 16 slots, one of them cove run's, waiting on cove.Wait; the commands
    # closed theirs: at most 15 idle ones can still be open, and the ones
    # that never said Hello gave way first.
    c.check("idle connections were closed to make room",
            n_silent + n_helloed >= IDLE - 15,
            "%d silent, %d after hello closed" % (n_silent, n_helloed))
    c.check("the ones without hello went first", n_silent == len(silent),
            "%d of %d silent closed" % (n_silent, len(silent)))
    for s in silent + helloed:
        s.close()
    check_all_busy(c)
    rc = box.stop()
    c.check("cove run's own connection survived: SIGTERM -> 143",
            rc == 143, str(rc))
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
