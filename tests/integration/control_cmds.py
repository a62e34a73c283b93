#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cove exec, ps, kill, stats, list on a running sandbox, over its control
channel.

A redis-server sandbox on the builtin stack: exec passes stdin, stdout,
stderr and exit codes (0, 3, 128+9, 127) through; redis-cli exec'd inside
reaches 127.0.0.1:6379, so its socket calls are served by the sandbox's
stack like the program's; --env, --workdir, --user reach the process; ps
shows the program and the exec'd processes with their status; stats has
non-zero counters after traffic; list shows the sandbox, then not after it
ended; a second uid is refused with a clear message; a missing name is one
clear line and 125; cove kill's TERM reaches the program and cove run exits
128+15. Nothing is left behind.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

NAME = "ctlcmds%d" % (os.getpid() % 100000)


def cove(*args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 30)
    return subprocess.run([sb.cove_bin()] + list(args), **kw)


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    box = sb.Sandbox(["redis-server", "--port", "6379", "--save", "",
                      "--appendonly", "no", "--protected-mode", "no"],
                     network="builtin", extra=["--name", NAME]).start()
    up = sb.wait_port(box.ip, 6379)
    c.check("redis listening", up)

    r = cove("exec", NAME, "--", "sh", "-c", "cat; echo out; echo err >&2",
             input="from stdin\n")
    c.check("exec: stdin and stdout pass through", r.returncode == 0 and
            r.stdout == "from stdin\nout\n", repr(r))
    c.check("exec: stderr passes through", r.stderr == "err\n", repr(r.stderr))
    r = cove("exec", NAME, "--", "sh", "-c", "exit 3")
    c.check("exec: exit code 3", r.returncode == 3, repr(r))
    r = cove("exec", NAME, "--", "sh", "-c", "kill -9 $$")
    c.check("exec: killed by signal 9 -> 137", r.returncode == 137, repr(r))
    r = cove("exec", NAME, "--", "no-such-program-here")
    c.check("exec: missing program -> 127 and a message",
            r.returncode == 127 and "cannot run" in r.stderr, repr(r))
    r = cove("exec", "--env", "FOO=bar", "--workdir", "/tmp", "--user",
             "65534:65534", NAME, "--", "sh", "-c",
             'echo "$FOO $(pwd) $(id -u):$(id -g) $(hostname)"')
    c.check("exec: --env, --workdir, --user, hostname",
            r.stdout.strip() == "bar /tmp 65534:65534 " + NAME, repr(r))
    r = cove("exec", NAME, "--", "redis-cli", "-h", "127.0.0.1", "ping")
    c.check("exec: redis-cli inside is served by the stack (PING)",
            r.stdout.strip() == "PONG", repr(r))
    r = cove("exec", NAME, "--", "sh", "-c",
             "cat /proc/self/status | grep -E '^(Seccomp|NoNewPrivs):'")
    c.check("exec: same seccomp filter and no_new_privs",
            "Seccomp:\t2" in r.stdout and "NoNewPrivs:\t1" in r.stdout,
            repr(r.stdout))
    # redis over the host too, so the stack has counters worth reading
    subprocess.run(["redis-cli", "-h", box.ip, "set", "k", "v"],
                   capture_output=True, timeout=20)

    r = cove("ps", NAME)
    lines = r.stdout.splitlines()
    c.check("ps: header and main running",
            r.returncode == 0 and lines[0].split()[:4] ==
            ["ID", "PID", "STATUS", "COMMAND"] and
            any(l.split()[0] == "main" and "running" in l and
                "redis-server" in l for l in lines[1:]), r.stdout)
    c.check("ps: exec'd processes with their exit codes",
            any("exited 3" in l and "exit 3" in l for l in lines) and
            any("exited 137" in l for l in lines), r.stdout)

    r = cove("stats", NAME)
    st = dict(l.split(" ", 1) for l in r.stdout.splitlines() if " " in l)
    c.check("stats: name value lines of the builtin stack",
            r.returncode == 0 and st.get("stack") == "builtin", r.stdout)
    nonzero = [k for k in ("rx_frames", "tx_frames", "rx_bytes", "tx_bytes",
                           "tcp_passive_opens", "tcp_in_segs")
               if int(st.get(k, "0")) > 0]
    c.check("stats: counters non-zero after traffic", len(nonzero) == 6,
            r.stdout)
    c.check("stats: retransmissions and drops reported",
            "tcp_retransmits" in st and "rx_dropped" in st)

    r = cove("list")
    row = [l.split() for l in r.stdout.splitlines() if l.split()[:1] == [NAME]]
    c.check("list: shows the sandbox running",
            len(row) == 1 and row[0][1] == box.ip and row[0][2] == "builtin"
            and row[0][5] == "running", r.stdout)

    # Another uid: the 0700 state dir and the 0600 socket refuse it; the
    # sentry would too (SO_PEERCRED), but the file system answers first.
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                        "--clear-groups", sb.cove_bin(), "exec", NAME, "--",
                        "true"], capture_output=True, text=True, timeout=30)
    c.check("second uid: exec refused with a clear message",
            r.returncode == 125 and "permission denied" in r.stderr and
            "owner" in r.stderr and len(r.stderr.splitlines()) == 1,
            repr(r))

    for verb in (["exec", "no-such-sandbox", "--", "true"],
                 ["ps", "no-such-sandbox"], ["kill", "no-such-sandbox"],
                 ["stats", "no-such-sandbox"]):
        r = cove(*verb)
        c.check("missing name: cove %s" % verb[0],
                r.returncode == 125 and
                "no sandbox named 'no-such-sandbox'" in r.stderr and
                len(r.stderr.splitlines()) == 1, repr(r))
    r = cove("kill", NAME, "NOSUCHSIG")
    c.check("kill: bad signal is one line, 125",
            r.returncode == 125 and "not a signal" in r.stderr, repr(r))
    for verb in ("exec", "ps", "kill", "stats", "list"):
        r = cove(verb, "--help")
        c.check("%s --help" % verb, r.returncode == 0 and
                r.stdout.startswith("Usage:"), repr(r))

    r = cove("kill", NAME)
    c.check("kill: TERM sent", r.returncode == 0, repr(r))
    try:
        rc = box.proc.wait(20)
    except subprocess.TimeoutExpired:
        rc = None
    c.check("kill: redis got TERM and shut down cleanly (cove run exits 0)",
            rc == 0, str(rc))
    box.stop()
    r = cove("list")
    c.check("list: gone after exit",
            r.returncode == 0 and NAME not in r.stdout, r.stdout)
    r = cove("ps", NAME)
    c.check("ps after exit: no sandbox", r.returncode == 125 and
            "no sandbox named" in r.stderr, repr(r))

    # A program that dies of TERM: cove run reports 128+15.
    box = sb.Sandbox(["sleep", "30"], network="builtin",
                     extra=["--name", NAME]).start()
    r = cove("kill", NAME)
    try:
        rc = box.proc.wait(20)
    except subprocess.TimeoutExpired:
        rc = None
    c.check("kill: cove run exits 128+15", r.returncode == 0 and rc == 143,
            "%r %s" % (r, rc))
    box.stop()

    # kill --all: every process, the program included
    box = sb.Sandbox(["sleep", "30"], network="builtin",
                     extra=["--name", NAME]).start()
    bg = subprocess.Popen([sb.cove_bin(), "exec", NAME, "--", "sleep", "30"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    r = cove("kill", "--all", NAME, "KILL")
    c.check("kill --all: sent", r.returncode == 0, repr(r))
    try:
        erc = bg.wait(20)
        rc = box.proc.wait(20)
    except subprocess.TimeoutExpired:
        erc = rc = None
    c.check("kill --all: exec'd process and program end with 137",
            erc == 137 and rc == 137, "exec %s run %s" % (erc, rc))
    box.stop()

    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
