#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cove run --memory, --cpus, --pids: the sandbox's cgroup.

A program that allocates 128 MiB under --memory 64m is OOM-killed (137),
32 MiB fits; a fork loop under --pids 20 gets EAGAIN (without the limit
it does not); --cpus 0.5 writes a CFS quota of 50 ms per 100 ms (read
back from the cgroup: no timing is asserted); the files hold the limits
while the sandbox runs, and the cgroup is gone once it has ended, also
when `cove run` itself was SIGKILLed and `cove gc` cleans up; bad values
are refused with one line and exit 125; nothing else is left behind.
The cgroup is /cove/NAME in the v2 hierarchy or in each v1 one a limit
needs (memory, pids, cpu).
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

CG = "/sys/fs/cgroup"
V2 = os.path.exists(os.path.join(CG, "cgroup.controllers"))

# Touches every page (b"a" * n fills it), so all of it is charged.
GROW = 'b = b"a" * %d; print("survived", len(b))'
FORKS = """
import errno, os, time
kids = []
try:
    for i in range(40):
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        kids.append(pid)
    print("forked", len(kids))
except OSError as e:
    print(errno.errorcode[e.errno], "after", len(kids))
for k in kids:
    os.kill(k, 9)
    os.waitpid(k, 0)
"""


def cg_file(name, ctl, f):
    """The path of cgroup file @f of sandbox @name (v2, or v1 @ctl)."""
    if V2:
        return os.path.join(CG, "cove", name, f)
    return os.path.join(CG, ctl, "cove", name, f)


def cg_dirs(name):
    dirs = [os.path.join(CG, "cove", name)] + [
        os.path.join(CG, h, "cove", name) for h in ("memory", "pids", "cpu")]
    return [d for d in dirs if os.path.isdir(d)]


def gone(name, timeout=10):
    """The cgroup of @name is gone (the teardown runs in the background)."""
    end = time.monotonic() + timeout
    while cg_dirs(name) and time.monotonic() < end:
        time.sleep(0.05)
    return not cg_dirs(name)


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError as e:
        return "(%s)" % e.strerror


def check_memory(c):
    r = sb.run(["--network=none", "--memory", "64m", "--name=cove-lim-m1",
                "--", "/usr/bin/python3", "-c", GROW % (128 << 20)])
    c.check("--memory 64m: allocating 128 MiB dies with 137",
            r.returncode == 137, "%d %s %s" % (r.returncode, r.stdout,
                                               r.stderr))
    r = sb.run(["--network=none", "--memory=64m", "--name=cove-lim-m2",
                "--", "/usr/bin/python3", "-c", GROW % (32 << 20)])
    c.check("--memory 64m: 32 MiB fits", r.returncode == 0 and
            r.stdout == "survived %d\n" % (32 << 20),
            "%d %s %s" % (r.returncode, r.stdout, r.stderr))
    c.check("--memory: the cgroups are removed after exit",
            gone("cove-lim-m1") and gone("cove-lim-m2"),
            str(cg_dirs("cove-lim-m1") + cg_dirs("cove-lim-m2")))


def check_pids(c):
    r = sb.run(["--network=none", "--pids", "20", "--name=cove-lim-p1",
                "--", "/usr/bin/python3", "-c", FORKS])
    r2 = sb.run(["--network=none", "--name=cove-lim-p2", "--",
                 "/usr/bin/python3", "-c", FORKS])
    words = r.stdout.split()
    c.check("--pids 20: a fork loop gets EAGAIN before 20 children "
            "(without it, 40 forks work)",
            r.returncode == 0 and len(words) == 3 and words[0] == "EAGAIN"
            and int(words[2]) < 20 and r2.stdout == "forked 40\n",
            "%s %s | %s %s" % (r.stdout, r.stderr, r2.stdout, r2.stderr))
    c.check("--pids: the cgroup is removed after exit", gone("cove-lim-p1"),
            str(cg_dirs("cove-lim-p1")))


def check_files(c):
    """The limits in the cgroup's files while the sandbox runs."""
    name = "cove-lim-f"
    box = sb.Sandbox(["sleep", "100"], network="none",
                     extra=["--cpus=0.5", "--memory=100m", "--pids=50",
                            "--name=" + name]).start()
    if V2:
        cpu = read(cg_file(name, "cpu", "cpu.max"))
        cpu_ok = cpu == "50000 100000"
        mem = read(cg_file(name, "memory", "memory.max"))
    else:
        cpu = "%s/%s" % (read(cg_file(name, "cpu", "cpu.cfs_quota_us")),
                         read(cg_file(name, "cpu", "cpu.cfs_period_us")))
        cpu_ok = cpu == "50000/100000"
        mem = read(cg_file(name, "memory", "memory.limit_in_bytes"))
    pids = read(cg_file(name, "pids", "pids.max"))
    procs = read(cg_file(name, "pids", "cgroup.procs")).split()
    sentry = box.sentry_pid()
    c.check("--cpus 0.5: a quota of 50 ms per 100 ms", cpu_ok, cpu)
    c.check("--memory 100m, --pids 50 in the cgroup's files",
            mem == str(100 << 20) and pids == "50", mem + " " + pids)
    c.check("the sentry and the program are in the cgroup",
            sentry is not None and str(sentry) in procs and len(procs) >= 2,
            "%s %s" % (sentry, procs))
    with open("/run/cove/%s/cgroup" % name) as f:
        rec = f.read().strip()
    c.check("the state dir records the cgroup", rec == "/cove/" + name, rec)
    with open("/proc/self/cgroup") as f:
        mine = f.read()
    c.check("cove run itself left the cgroup", "/cove/" + name not in mine,
            mine)
    box.stop(signal.SIGTERM)
    c.check("the cgroup is removed after the sandbox ends", gone(name),
            str(cg_dirs(name)))


def check_gc(c):
    """cove run SIGKILLed: the sentry dies with it, gc removes the cgroup."""
    name = "cove-lim-gc"
    box = sb.Sandbox(["sleep", "100"], network="none",
                     extra=["--pids=50", "--name=" + name]).start()
    made = bool(cg_dirs(name))
    sentry = box.sentry_pid()
    box.proc.kill()
    box.proc.wait()
    end = time.monotonic() + 10
    while sentry and os.path.exists("/proc/%d" % sentry) and \
            time.monotonic() < end:
        time.sleep(0.05)
    r = subprocess.run([sb.cove_bin(), "gc"], capture_output=True, text=True)
    c.check("cove run killed: cove gc removes the sandbox's cgroup",
            made and r.returncode == 0 and gone(name, 5) and
            not os.path.exists("/run/cove/" + name),
            "%s %s %s" % (made, r.stderr, cg_dirs(name)))
    if box in sb._live:
        sb._live.remove(box)


def check_bad(c):
    for arg, want in (("--memory=5m", "--memory"),
                      ("--memory=12q", "--memory"),
                      ("--cpus=0", "--cpus"), ("--cpus=1.2.3", "--cpus"),
                      ("--pids=3", "--pids"), ("--pids=many", "--pids")):
        r = sb.run(["--network=none", arg, "--", "true"])
        lines = r.stderr.splitlines()
        c.check("%s refused: one line, exit 125" % arg,
                r.returncode == 125 and len(lines) == 1 and
                want in lines[0] and lines[0].startswith("cove run: "),
                "%d %r" % (r.returncode, r.stderr))


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    check_bad(c)
    check_memory(c)
    check_pids(c)
    check_files(c)
    check_gc(c)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
