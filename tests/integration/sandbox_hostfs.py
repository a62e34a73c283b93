#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The default sandbox cannot change or read what it must not on the host.

Run as root on the host. Without --rootfs and --host-fs=rw, the program
(and a `cove exec` process) must fail to create files under /root, /etc,
/usr, /var/lib, its working directory or a host directory made for this
test; must not read /etc/shadow; must not chmod or chown a host file; must
see only the minimal /dev (no block devices, none of the host's /dev/pts)
and not the host's /tmp; must not write /proc/sys; and the host must be
unchanged afterwards. Its uid on the host (seen from the host's /proc) is
not 0. What must still work: /tmp, /var/tmp, /run and /dev/shm writable,
/dev/null, /dev/zero, /dev/urandom, a pty, redis-server saving into /tmp,
and ports below 1024. Last, --host-fs=rw restores the host's files as
real root (a file created inside appears on the host).
"""

import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

TAG = "cove-hostfs-%d" % os.getpid()
MINIMAL_DEV = {"null", "zero", "full", "random", "urandom", "tty", "ptmx",
               "pts", "shm", "fd", "stdin", "stdout", "stderr"}

INSIDE = r'''
import json, os, pty, sys
tag, hostdir, hostfile = sys.argv[1:4]
res = {}
def attempt(name, fn):
    try:
        fn()
        res[name] = "ok"
    except OSError as e:
        res[name] = "errno %d" % e.errno
def create(p):
    with open(p, "w") as f:
        f.write("x")
def read(p):
    with open(p, "rb") as f:
        f.read(1)
for p in ["/root", "/etc", "/usr", "/usr/bin", "/var/lib", os.getcwd(),
          hostdir]:
    attempt("create " + p, lambda p=p: create(os.path.join(p, tag)))
attempt("mkdir /etc", lambda: os.mkdir("/etc/" + tag))
attempt("read /etc/shadow", lambda: read("/etc/shadow"))
attempt("append /etc/passwd", lambda: open("/etc/passwd", "a").close())
attempt("chmod host file", lambda: os.chmod(hostfile, 0o777))
attempt("chown host file", lambda: os.chown(hostfile, 1, 1))
attempt("unlink host file", lambda: os.unlink(hostfile))
attempt("write /proc/sys", lambda: open("/proc/sys/vm/drop_caches",
                                        "w").write("1"))
res["host /tmp seen"] = os.path.exists("/tmp/" + tag)
res["dev"] = sorted(os.listdir("/dev"))
res["dev/pts"] = sorted(os.listdir("/dev/pts"))
for d in ["/tmp", "/var/tmp", "/run", "/dev/shm"]:
    attempt("write " + d, lambda d=d: create(os.path.join(d, tag)))
attempt("write /dev/null", lambda: open("/dev/null", "w").write("x"))
attempt("read /dev/zero", lambda: read("/dev/zero"))
attempt("read /dev/urandom", lambda: read("/dev/urandom"))
def tty():
    m, s = pty.openpty()
    os.write(s, b"ping\n")
    if os.read(m, 16) != b"ping\r\n" or not os.ttyname(s).startswith(
            "/dev/pts/"):
        raise OSError(5, "pty")
attempt("pty", tty)
res["uid_map"] = open("/proc/self/uid_map").read().split()
print(json.dumps(res))
'''


def inside(c, what, argv, hostdir, hostfile):
    """Run INSIDE through @argv (a cove run or exec prefix), check it."""
    r = subprocess.run(argv + ["/usr/bin/python3", "-c", INSIDE, TAG,
                               hostdir, hostfile],
                       capture_output=True, text=True, timeout=60)
    try:
        res = json.loads(r.stdout)
    except ValueError:
        c.check(what + ": the probe ran", False, r.stdout + r.stderr)
        return
    for k, v in sorted(res.items()):
        if k.startswith(("create ", "mkdir ", "read /etc", "append ",
                         "chmod ", "chown ", "unlink ", "write /proc")):
            c.check("%s: %s fails" % (what, k), v != "ok", v)
        elif k.startswith(("write ", "read /dev", "pty")):
            c.check("%s: %s works" % (what, k), v == "ok", v)
    c.check(what + ": host /tmp not visible", res["host /tmp seen"] is False)
    c.check(what + ": /dev is the minimal set",
            set(res["dev"]) == MINIMAL_DEV, str(res["dev"]))
    c.check(what + ": /dev/pts is private (only ptmx)",
            res["dev/pts"] == ["ptmx"], str(res["dev/pts"]))
    c.check(what + ": root mapped to an unprivileged host uid",
            res["uid_map"][:2] == ["0", "100000"], str(res["uid_map"]))


def host_unchanged(c, hostdir, hostfile):
    for p in ["/root", "/etc", "/usr", "/usr/bin", "/var/lib", os.getcwd(),
              hostdir, "/var/tmp", "/run", "/dev/shm"]:
        f = os.path.join(p, TAG)
        c.check("host: no %s" % f, not os.path.exists(f))
    with open("/tmp/" + TAG) as f:
        c.check("host: /tmp/%s not overwritten" % TAG,
                f.read() == "the host's /tmp\n")
    st = os.stat(hostfile)
    c.check("host: file mode and owner unchanged",
            (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o644, 0, 0),
            str(st))
    with open(hostfile) as f:
        c.check("host: file content unchanged", f.read() == "host\n")


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def host_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    return None


def check_redis(c):
    """redis-server with no config: serves, and SAVE writes to /tmp."""
    box = sb.Sandbox(["redis-server", "--port", "6379", "--protected-mode",
                      "no"], network="builtin",
                     extra=["--workdir", "/tmp"]).start()
    up = sb.wait_port(box.ip, 6379)
    c.check("redis: listening", up)

    def cli(*a):
        return subprocess.run(["redis-cli", "-h", box.ip] + list(a),
                              capture_output=True, text=True,
                              timeout=20).stdout.strip()
    if up:
        c.check("redis: SET", cli("SET", "k", "v") == "OK")
        c.check("redis: SAVE (dump.rdb in the private /tmp)",
                cli("SAVE") == "OK")
        c.check("redis: nothing in the host's /tmp",
                not os.path.exists("/tmp/dump.rdb") or
                time.time() - os.stat("/tmp/dump.rdb").st_mtime > 60)
    c.check("redis: stopped by SIGTERM", box.stop() == 0)


def check_low_port(c):
    """Port 80 in the kernel stack: the sandbox's root may bind it."""
    r = sb.run(["--network=kernel", "--", "/usr/bin/python3", "-c",
                "import socket; s = socket.socket(); "
                "s.bind(('0.0.0.0', 80)); print('bound')"])
    c.check("kernel: bind port 80", r.stdout.strip() == "bound", r.stderr)


# The container engines' default set (Docker's), less MKNOD and NET_RAW,
# which Cove never gives: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID
# SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT AUDIT_WRITE SETFCAP.
DEFAULT_CAPS = sum(1 << b for b in (0, 1, 3, 4, 5, 6, 7, 8, 10, 18, 29, 31))


def caps_of(args, cmd="grep -E '^Cap(Eff|Prm|Bnd|Inh|Amb)' /proc/self/status"):
    r = sb.run(["--network=none"] + args + ["--", "sh", "-c", cmd])
    got = {}
    for line in r.stdout.splitlines():
        k, colon, v = line.partition(":")
        if colon and k.startswith("Cap"):
            got[k] = int(v.strip(), 16)
    return r, got


def check_caps(c):
    """The program's capabilities: an allow list, as an engine's default,
    changed by --cap-add/--cap-drop; never the ones that reach past the
    sandbox; a `cove exec` process gets the same."""
    r, got = caps_of([])
    c.check("default capabilities: the engine default set, nothing else",
            got.get("CapEff") == DEFAULT_CAPS and
            got.get("CapBnd") == DEFAULT_CAPS and
            got.get("CapInh") == 0 and got.get("CapAmb") == 0,
            "%s %s" % (got, r.stderr))
    r, got = caps_of(["--cap-drop=ALL", "--cap-add=net_bind_service"])
    c.check("--cap-drop=ALL --cap-add=net_bind_service: that one only",
            got.get("CapEff") == 1 << 10 and got.get("CapBnd") == 1 << 10,
            "%s %s" % (got, r.stderr))
    r, got = caps_of(["--cap-add=CAP_SYS_NICE,IPC_LOCK", "--cap-drop=chown"])
    want = (DEFAULT_CAPS | 1 << 23 | 1 << 14) & ~1
    c.check("--cap-add SYS_NICE,IPC_LOCK --cap-drop chown",
            got.get("CapEff") == want, "%s %s" % (got, r.stderr))
    r, _ = caps_of(["--cap-drop=CHOWN"], "touch /tmp/f && chown 7 /tmp/f")
    c.check("--cap-drop=CHOWN: chown fails", r.returncode == 1 and
            "Operation not permitted" in r.stderr, r.stderr)
    r, _ = caps_of(["--cap-add=ALL"])
    c.check("--cap-add=ALL: still none of the never-given ones",
            r.returncode == 0 and not (_.get("CapEff", 0) &
                                       (1 << 12 | 1 << 13 | 1 << 21 |
                                        1 << 19 | 1 << 16 | 1 << 39)),
            "%s %s" % (_, r.stderr))
    for arg, want in (("--cap-add=NET_ADMIN", "never gives the program "
                       "CAP_NET_ADMIN"),
                      ("--cap-add=sys_admin", "CAP_SYS_ADMIN"),
                      ("--cap-drop=FLY", "unknown capability 'FLY'"),
                      ("--cap-add=", "is not a list of names")):
        r = sb.run(["--network=none", arg, "--", "true"])
        c.check("%s refused: exit 125, one line" % arg, r.returncode == 125
                and want in r.stderr and
                len(r.stderr.strip().splitlines()) == 1, r.stderr)
    r, got = caps_of(["--cap-drop=ALL", "--user=1000"],
                     "id -u; grep CapEff /proc/self/status")
    c.check("--cap-drop=ALL --user=1000: the uid change still works",
            r.returncode == 0 and r.stdout.startswith("1000\n") and
            got.get("CapEff") == 0, r.stdout + r.stderr)
    box = sb.Sandbox(["sleep", "60"], network="none",
                     extra=["--cap-drop=SETUID"]).start()
    r = subprocess.run([sb.cove_bin(), "exec", box.name, "--", "sh", "-c",
                        "grep CapEff /proc/self/status"],
                       capture_output=True, text=True, timeout=30)
    c.check("cove exec: the program's set (--cap-drop=SETUID: gone too)",
            r.stdout.split()[-1:] == ["%016x" % (DEFAULT_CAPS & ~(1 << 7))],
            r.stdout + r.stderr)
    box.stop()


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    hostdir = sb.host_dir(prefix="cove-hostfs-")
    hostfile = os.path.join(hostdir, "file")
    with open(hostfile, "w") as f:
        f.write("host\n")
    os.chmod(hostfile, 0o644)
    marker = "/tmp/" + TAG
    with open(marker, "w") as f:
        f.write("the host's /tmp\n")
    try:
        check_caps(c)
        for net in ["none", "builtin"]:
            inside(c, net, [sb.cove_bin(net), "run", "--network=" + net,
                            "--"], hostdir, hostfile)
        host_unchanged(c, hostdir, hostfile)

        box = sb.Sandbox(["sleep", "60"], network="builtin").start()
        inside(c, "exec", [sb.cove_bin(), "exec", box.name, "--"], hostdir,
               hostfile)
        host_unchanged(c, hostdir, hostfile)
        spid = box.sentry_pid()
        kids = children(spid) if spid else []
        uids = [host_uid(p) for p in kids]
        c.check("host /proc: the program's uid is not 0",
                kids and all(u is not None and u != 0 for u in uids),
                "sentry %s children %s uids %s" % (spid, kids, uids))
        c.check("sandbox stopped", box.stop() in (0, 143))

        # Started from the host's /tmp: the inherited cwd must not reach
        # the host's /tmp under the private one.
        r = sb.run(["--network=none", "--", "sh", "-c", "pwd; ls -a"],
                   cwd="/tmp")
        c.check("cwd in the host's /tmp: not reachable inside",
                r.returncode == 0 and TAG not in r.stdout, r.stdout)

        check_redis(c)
        check_low_port(c)

        # --host-fs=rw: today's behaviour, on purpose.
        f = os.path.join(hostdir, TAG + "-rw")
        r = sb.run(["--network=none", "--host-fs=rw", "--", "sh", "-c",
                    "echo rw > %s && id -u" % f])
        c.check("--host-fs=rw: host file written as uid 0",
                r.returncode == 0 and r.stdout.strip() == "0" and
                os.path.exists(f), r.stdout + r.stderr)
        r = sb.run(["--network=none", "--host-fs=bogus", "--", "true"])
        c.check("--host-fs=bogus -> 125, one line",
                r.returncode == 125 and r.stderr.count("\n") == 1, r.stderr)
    finally:
        shutil.rmtree(hostdir)
        os.unlink(marker)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
