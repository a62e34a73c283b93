#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cove as an OCI runtime, driven directly as conmon and go-runc drive runc.

Bundles are built in a temporary directory from Debian's busybox-static
(`cove spec` writes config.json, the test edits it). This process makes
itself a child subreaper, as conmon does, so that a container's process
(the sentry) is reparented to it once `cove create` exits and its exit
status can be collected with waitpid(), as conmon collects it.

Checked: the lifecycle created -> running -> stopped with the state JSON
runc prints; the program does not run before `start`; its exit status;
kill with names and numbers; delete (plain, --force, of a created
container) leaves nothing (state dir, processes, /run/cove, veths);
list; run in the foreground; the bundle's process and mount fields;
the container's own seccomp profile; pause and resume; the host network when the spec has no network namespace; and bad bundles:
one clear error naming the problem, a non-zero exit, nothing left.

cgroup v2: this host is hybrid (v1 hierarchies, cgroup2 at
/sys/fs/cgroup/unified with no controllers but hugetlb). The test runs
itself again (--cgroup-v2) in a private mount namespace with the unified
hierarchy bound over /sys/fs/cgroup, where pause and resume go through
cgroup.freeze and a memory limit (cove run --memory, a bundle's
linux.resources.memory) fails with one line naming the missing
controller. On a host that is v2 already, the main run covers v2.
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

BUSYBOX = "/bin/busybox"
COVE = sb.cove_bin()
APPLETS = ("sh", "echo", "sleep", "cat", "ls", "id", "hostname", "touch",
           "readlink", "pwd", "env", "ip", "true", "unshare", "httpd",
           "wget")


class Oci:
    """One --root and --log for a set of containers."""

    def __init__(self, top):
        self.root = os.path.join(top, "state", "nested")  # made by create
        self.log = os.path.join(top, "oci.log")
        self.top = top
        self.rootfs = os.path.join(top, "rootfs")
        for sub in ("bin", "proc", "dev", "sys", "tmp", "etc", "out"):
            os.makedirs(os.path.join(self.rootfs, sub))
        shutil.copy(BUSYBOX, os.path.join(self.rootfs, "bin", "busybox"))
        for a in APPLETS:
            os.symlink("busybox", os.path.join(self.rootfs, "bin", a))
        os.symlink("/", os.path.join(self.rootfs, "escape"))
        self.n = 0

    def cove(self, *args, json_log=False, timeout=30, glob=(),
             binary=COVE):
        g = ["--root", self.root] + list(glob)
        if json_log:
            g += ["--log", self.log, "--log-format", "json"]
        # Files, not pipes: the container inherits the runtime's stdio (as
        # conmon's pipes), so a pipe would not see EOF when cove exits.
        with tempfile.TemporaryFile("w+") as o, \
                tempfile.TemporaryFile("w+") as e:
            p = subprocess.run([binary] + g + list(args), stdout=o, stderr=e,
                               stdin=subprocess.DEVNULL, timeout=timeout)
            o.seek(0)
            e.seek(0)
            return subprocess.CompletedProcess(p.args, p.returncode,
                                               o.read(), e.read())

    def bundle(self, args, edit=None, raw=None):
        """A bundle dir: `cove spec`'s config with @args, then @edit(cfg)."""
        self.n += 1
        d = os.path.join(self.top, "b%d" % self.n)
        os.mkdir(d)
        r = subprocess.run([COVE, "spec", "--bundle", d],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        cfg["root"]["path"] = self.rootfs
        cfg["process"]["args"] = args
        if edit:
            edit(cfg)
        with open(os.path.join(d, "config.json"), "w") as f:
            if raw is not None:
                f.write(raw)
            else:
                json.dump(cfg, f)
        return d

    def state(self, cid):
        r = self.cove("state", cid)
        return json.loads(r.stdout) if r.returncode == 0 else None


def subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def wait_exit(pid, timeout=20):
    """The exit status of our (reparented) child @pid as conmon reports
    it: the code, or 128+N after signal N; None on timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            return os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) \
                else 128 + os.WTERMSIG(st)
        time.sleep(0.02)
    return None


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def bind(cfg, src, dst, opts=("rbind", "rw")):
    cfg["mounts"].append({"destination": dst, "type": "bind",
                          "source": src, "options": list(opts)})


def check_lifecycle(c, oci):
    out = os.path.join(oci.top, "out1")
    os.mkdir(out)
    b = oci.bundle(["sh", "-c", "echo ran > /out/ran; exit 7"],
                   lambda cfg: bind(cfg, out, "/out"))
    pidfile = os.path.join(oci.top, "pid1")
    r = oci.cove("create", "--bundle", b, "--pid-file", pidfile, "life")
    c.check("create exits 0", r.returncode == 0, r.stderr)
    s = oci.state("life")
    c.check("state after create: created", s and s["status"] == "created",
            str(s))
    with open(pidfile) as f:
        pid = int(f.read())
    c.check("state JSON as runc prints it",
            s and s["ociVersion"] and s["id"] == "life" and
            s["pid"] == pid and s["bundle"] == b and
            s["rootfs"] == oci.rootfs and s["created"].endswith("Z") and
            "owner" in s, str(s))
    with open("/proc/%d/comm" % pid) as f:
        c.check("the container's pid is its sentry",
                f.read().strip() == "cove-sentry")
    time.sleep(0.3)
    c.check("the program has not run before start",
            not os.path.exists(os.path.join(out, "ran")))
    r = oci.cove("create", "--bundle", b, "life")
    c.check("create with a taken id fails", r.returncode == 1 and
            "exists" in r.stderr, r.stderr)
    r = oci.cove("start", "life")
    c.check("start exits 0", r.returncode == 0, r.stderr)
    code = wait_exit(pid)
    c.check("exit status of the program reaches the subreaper: 7",
            code == 7, str(code))
    c.check("the program ran after start",
            os.path.exists(os.path.join(out, "ran")))
    s = oci.state("life")
    c.check("state after exit: stopped, pid 0",
            s and s["status"] == "stopped" and s["pid"] == 0, str(s))
    r = oci.cove("start", "life")
    c.check("start of a stopped container fails", r.returncode == 1 and
            "stopped" in r.stderr, r.stderr)
    r = oci.cove("kill", "life", "TERM")
    c.check("kill of a stopped container fails", r.returncode == 1 and
            "not running" in r.stderr, r.stderr)
    r = oci.cove("delete", "life")
    c.check("delete of a stopped container", r.returncode == 0, r.stderr)
    c.check("state dir removed",
            not os.path.exists(os.path.join(oci.root, "life")))
    r = oci.cove("state", "life")
    c.check("state after delete: does not exist", r.returncode == 1 and
            "does not exist" in r.stderr, r.stderr)


def check_kill(c, oci):
    b = oci.bundle(["sleep", "100"])
    for sig, code in (("KILL", 137), ("SIGTERM", 143), ("15", 143),
                      ("9", 137), ("USR1", 138), ("SIGHUP", 129)):
        cid = "k" + sig.lower()
        r = oci.cove("create", "--bundle", b, cid)
        s = oci.state(cid)
        r2 = oci.cove("start", cid)
        s2 = oci.state(cid)
        c.check("kill %s: created then running" % sig,
                r.returncode == 0 and r2.returncode == 0 and s and s2 and
                s["status"] == "created" and s2["status"] == "running",
                r.stderr + r2.stderr + str(s2))
        r = oci.cove("kill", cid, sig)
        got = wait_exit(s["pid"]) if s else None
        c.check("kill %s: exit status %d" % (sig, code),
                r.returncode == 0 and got == code,
                "%s %s" % (r.stderr, got))
        r = oci.cove("delete", cid)
        c.check("kill %s: delete" % sig, r.returncode == 0, r.stderr)
    r = oci.cove("kill", "nosuch", "KILL")
    c.check("kill of a missing container fails", r.returncode == 1 and
            "does not exist" in r.stderr, r.stderr)
    oci.cove("create", "--bundle", b, "kbad")
    r = oci.cove("kill", "kbad", "NOTASIGNAL")
    c.check("kill with a bad signal name fails", r.returncode == 1 and
            "invalid signal" in r.stderr, r.stderr)
    s = oci.state("kbad")
    r = oci.cove("kill", "--all", "kbad", "KILL")
    c.check("kill --all KILL of a created container",
            r.returncode == 0 and s and wait_exit(s["pid"]) == 137,
            r.stderr)
    oci.cove("delete", "kbad")


def check_delete(c, oci):
    b = oci.bundle(["sleep", "100"])
    oci.cove("create", "--bundle", b, "d1")
    oci.cove("start", "d1")
    s = oci.state("d1")
    r = oci.cove("delete", "d1")
    c.check("delete of a running container refused", r.returncode == 1 and
            "not stopped" in r.stderr, r.stderr)
    r = oci.cove("delete", "--force", "d1")
    c.check("delete --force of a running container",
            r.returncode == 0 and wait_exit(s["pid"], 5) == 137 and
            not os.path.exists(os.path.join(oci.root, "d1")), r.stderr)
    oci.cove("create", "--bundle", b, "d2")
    s = oci.state("d2")
    r = oci.cove("delete", "d2")
    c.check("delete of a created container kills it",
            r.returncode == 0 and s and wait_exit(s["pid"], 5) == 137 and
            not os.path.exists(os.path.join(oci.root, "d2")), r.stderr)
    r = oci.cove("delete", "--force", "nosuch")
    c.check("delete --force of a missing container is fine",
            r.returncode == 0, r.stderr)
    r = oci.cove("delete", "nosuch")
    c.check("delete of a missing container fails", r.returncode == 1,
            r.stderr)


def check_list_run(c, oci):
    b = oci.bundle(["sleep", "100"])
    oci.cove("create", "--bundle", b, "l1")
    oci.cove("create", "--bundle", b, "l2")
    oci.cove("start", "l2")
    r = oci.cove("list", "--format", "json")
    got = {e["id"]: e["status"] for e in json.loads(r.stdout or "[]")}
    c.check("list --format json", got == {"l1": "created",
                                           "l2": "running"}, r.stdout)
    r = oci.cove("list", "-q")
    c.check("list -q", sorted(r.stdout.split()) == ["l1", "l2"], r.stdout)
    r = oci.cove("list")
    c.check("list (table)", r.stdout.startswith("ID") and
            "running" in r.stdout and "created" in r.stdout, r.stdout)
    for cid in ("l1", "l2"):
        s = oci.state(cid)
        oci.cove("delete", "--force", cid)
        wait_exit(s["pid"], 5)
    b = oci.bundle(["sh", "-c", "echo out-$0; exit 3", "x"])
    r = oci.cove("run", "--bundle", b, "r1")
    c.check("run: the program's output and exit status 3",
            r.returncode == 3 and r.stdout == "out-x\n", r.stdout + r.stderr)
    c.check("run: the container is deleted after",
            not os.path.exists(os.path.join(oci.root, "r1")))


def check_bundle_fields(c, oci):
    ro = os.path.join(oci.top, "ro-src")
    os.mkdir(ro)

    def edit(cfg):
        p = cfg["process"]
        p["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 7]}
        p["cwd"] = "/tmp"
        p["env"].append("FOO=bar")
        cfg["hostname"] = "box1"
        cfg["linux"]["sysctl"] = {"net.ipv4.ping_group_range": "0 0"}
        cfg["linux"]["resources"] = {"pids": {"limit": 0},
                                     "devices": [{"allow": False,
                                                  "access": "rwm"}]}
        cfg["mounts"].append({"destination": "/tmp", "type": "tmpfs",
                              "source": "tmpfs",
                              "options": ["nosuid", "mode=1777"]})
        bind(cfg, ro, "/ro", ("rbind", "ro", "nosuid", "nodev", "noexec"))
    script = ("id; pwd; echo FOO=$FOO; hostname; "
              "touch /tmp/ok && echo tmp-rw; "
              "touch /ro/x 2>/dev/null || echo ro-bind-ro; "
              "touch /rootfile 2>/dev/null || echo root-ro; "
              "cat /proc/kcore | wc -c; "
              "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null "
              "|| echo sys-ro; cat /proc/sys/net/ipv4/ping_group_range")
    b = oci.bundle(["sh", "-c", script], edit)
    r = oci.cove("run", "--bundle", b, "f1")
    want = ["uid=1000 gid=1000 groups=5,7,1000", "/tmp", "FOO=bar", "box1",
            "tmp-rw", "ro-bind-ro", "root-ro", "0", "sys-ro", "0\t0"]
    lines = [ln.strip(" ") for ln in r.stdout.splitlines()]
    if lines:
        lines[0] = lines[0].replace("groups=1000,5,7", "groups=5,7,1000")
    c.check("process, hostname, mounts, masked/readonly paths honoured",
            r.returncode == 0 and lines == want, r.stdout + r.stderr)

    # /escape is a symlink to "/" in the image: a mount through it must
    # land in the root (resolved as in a chroot), never on the host.
    b = oci.bundle(["cat", "/proc/self/mountinfo"], lambda cfg: cfg[
        "mounts"].append({"destination": "/escape/etc/cove-evil",
                          "type": "tmpfs", "source": "tmpfs"}))
    r = oci.cove("run", "--bundle", b, "esc")
    c.check("a mount destination through a symlink stays in the root",
            r.returncode == 0 and " /etc/cove-evil " in r.stdout and
            not os.path.exists("/etc/cove-evil") and
            os.path.isdir(os.path.join(oci.rootfs, "etc", "cove-evil")),
            r.stdout + r.stderr)

    # No network namespace in the spec: the host's network, as runc.
    host_ns = os.readlink("/proc/self/ns/net")
    b = oci.bundle(["readlink", "/proc/self/ns/net"], lambda cfg: cfg[
        "linux"].__setitem__("namespaces", [
            n for n in cfg["linux"]["namespaces"] if n["type"] != "network"]))
    r = oci.cove("run", "--bundle", b, "n1")
    c.check("no network namespace: the host's",
            r.returncode == 0 and r.stdout.strip() == host_ns, r.stdout +
            r.stderr)
    b = oci.bundle(["sh", "-c", "readlink /proc/self/ns/net; cat /proc/net/dev"])
    r = oci.cove("run", "--bundle", b, "n2")
    c.check("a new network namespace: loopback only, as runc",
            r.returncode == 0 and host_ns not in r.stdout and
            "lo:" in r.stdout and "eth0" not in r.stdout,
            r.stdout + r.stderr)
    for net in sb.stacks():
        r = oci.cove("run", "--bundle", b, "n3", glob=["--network=" + net],
                     binary=sb.cove_bin(net))
        c.check("--network=%s: Cove's sandbox network (eth0)" % net,
                r.returncode == 0 and host_ns not in r.stdout and
                "eth0" in r.stdout, r.stdout + r.stderr)
    b = oci.bundle(["cat", "/proc/net/dev"], lambda cfg: cfg.__setitem__(
        "annotations", {"run.cove.network": "builtin"}))
    r = oci.cove("run", "--bundle", b, "n4")
    c.check("annotation run.cove.network=builtin: eth0",
            r.returncode == 0 and "eth0" in r.stdout, r.stdout + r.stderr)


def check_preserve_fds(c, oci):
    """--preserve-fds 1: fd 3 of the caller reaches the program; without
    it, fd 3 is closed in the program."""
    b = oci.bundle(["sh", "-c", "echo preserved >&3"])
    for n, want in ((1, "preserved\n"), (0, "")):
        rd, wr = os.pipe()
        cid = "pf%d" % n
        p = subprocess.run([COVE, "--root", oci.root, "run", "--bundle", b,
                            "--preserve-fds", str(n), cid],
                           stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, pass_fds=(3,),
                           preexec_fn=lambda w=wr: os.dup2(w, 3),
                           timeout=30)
        os.close(wr)
        with os.fdopen(rd) as f:
            got = f.read()
        c.check("--preserve-fds %d: fd 3 %s" % (n, "passed" if n else
                                                "not passed"),
                got == want and (p.returncode == 0) == bool(n),
                "%r rc %d" % (got, p.returncode))


def check_terminal(c, oci):
    """process.terminal with --console-socket, as conmon and the shim
    use it: the pty master arrives with SCM_RIGHTS, the program's stdio is
    the slave (its controlling tty, consoleSize applied)."""
    def edit(cfg):
        cfg["process"]["terminal"] = True
        cfg["process"]["consoleSize"] = {"height": 24, "width": 91}
    b = oci.bundle(["sh", "-c", "tty; stty size; exit 6"], edit)
    path = os.path.join(oci.top, "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(20)
    with tempfile.TemporaryFile("w+") as e:
        p = subprocess.Popen([COVE, "--root", oci.root, "create", "--bundle",
                              b, "--console-socket", path, "tty1"],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=e)
        conn, _ = srv.accept()
        _, anc, _, _ = conn.recvmsg(64, socket.CMSG_LEN(4))
        fds = [int.from_bytes(d[:4], sys.byteorder) for lv, t, d in anc
               if lv == socket.SOL_SOCKET and t == socket.SCM_RIGHTS]
        rc = p.wait(timeout=20)
        e.seek(0)
        err = e.read()
    conn.close()
    srv.close()
    s = oci.state("tty1")
    r = oci.cove("start", "tty1")
    out = b""
    while fds:
        try:
            d = os.read(fds[0], 1024)
        except OSError:  # EIO: the slave's last holder is gone
            break
        if not d:
            break
        out += d
    code = wait_exit(s["pid"]) if s else None
    c.check("terminal: the pty master over --console-socket, the program "
            "on its slave, consoleSize set",
            rc == 0 and len(fds) == 1 and r.returncode == 0 and
            out.replace(b"\r", b"") == b"/dev/pts/0\n24 91\n" and code == 6,
            "%s %r %s %s" % (err, out, r.stderr, code))
    for fd in fds:
        os.close(fd)
    oci.cove("delete", "tty1")


def check_exec(c, oci):
    """exec: inline, --process FILE, and --detach --pid-file as conmon
    runs it (the pid is ours to wait for, its status the command's)."""
    b = oci.bundle(["sleep", "100"])
    oci.cove("create", "--bundle", b, "ex")
    r = oci.cove("exec", "ex", "true")
    c.check("exec in a created container refused", r.returncode == 1 and
            "not running" in r.stderr, r.stderr)
    oci.cove("start", "ex")
    r = oci.cove("exec", "ex", "sh", "-c", "echo in-$(hostname); exit 9")
    c.check("exec ID COMMAND: output, status 9", r.returncode == 9 and
            r.stdout == "in-cove\n", r.stdout + r.stderr)
    proc = os.path.join(oci.top, "process.json")
    with open(proc, "w") as f:
        json.dump({"args": ["sh", "-c", "echo $X $(id -u) $(pwd); exit 4"],
                   "env": ["X=x1", "PATH=/bin"], "cwd": "/tmp",
                   "user": {"uid": 7, "gid": 7}}, f)
    r = oci.cove("exec", "--process", proc, "ex")
    c.check("exec --process FILE: env, user, cwd, status 4",
            r.returncode == 4 and r.stdout == "x1 7 /tmp\n",
            r.stdout + r.stderr)
    pidf = os.path.join(oci.top, "exec.pid")
    r = oci.cove("exec", "--detach", "--pid-file", pidf, "--process", proc,
                 "ex")
    with open(pidf) as f:
        code = wait_exit(int(f.read()))
    c.check("exec --detach --pid-file: the pid's status is the command's",
            r.returncode == 0 and code == 4, "%s %s" % (r.stderr, code))
    s = oci.state("ex")
    r = oci.cove("ps", "--format", "json", "ex")
    pids = json.loads(r.stdout) if r.returncode == 0 else []
    comms = sorted(open("/proc/%d/comm" % p).read().strip() for p in pids)
    c.check("ps --format json: the sentry and the program, by host pid",
            s and s["pid"] in pids and "sleep" in comms and
            "cove-sentry" in comms, r.stdout + r.stderr + str(comms))
    oci.cove("delete", "--force", "ex")
    wait_exit(s["pid"], 5)


def cgroup_dirs(path):
    """The container's cgroup directories that exist (v2 or v1)."""
    base = "/sys/fs/cgroup"
    dirs = [base + path] + ["%s/%s%s" % (base, h, path)
                            for h in ("memory", "pids", "cpu", "freezer")]
    return [d for d in dirs if os.path.isdir(d)]


def check_limits(c, oci):
    """linux.resources through the container's cgroup: a program that
    allocates 128 MiB under a 64 MiB limit dies with 137 (it survives
    under 1 GiB); a pids limit stops a fork loop; the cgroup goes with
    delete."""
    grow = ('x=$(head -c 134217728 /dev/zero | tr "\\0" a); '
            'echo survived ${#x}')

    def mem(limit):
        return lambda cfg: cfg["linux"].__setitem__(
            "resources", {"memory": {"limit": limit}})
    r = oci.cove("run", "--bundle", oci.bundle(["sh", "-c", grow],
                                               mem(64 << 20)), "m64")
    c.check("memory limit 64 MiB: allocating 128 MiB dies with 137",
            r.returncode == 137, "%d %s %s" % (r.returncode, r.stdout,
                                               r.stderr))
    r = oci.cove("run", "--bundle", oci.bundle(["sh", "-c", grow],
                                               mem(1 << 30)), "m1g")
    c.check("memory limit 1 GiB: 128 MiB fits", r.returncode == 0 and
            r.stdout == "survived 134217728\n",
            "%d %s %s" % (r.returncode, r.stdout, r.stderr))
    loop = ["sh", "-c", "n=0; while [ $n -lt 40 ]; do sleep 5 & "
            "n=$((n+1)); done; echo after-40; kill $(jobs -p)"]

    def pids(limit):
        return lambda cfg: cfg["linux"].__setitem__(
            "resources", {"pids": {"limit": limit}})
    r = oci.cove("run", "--bundle", oci.bundle(loop, pids(10)), "p10r")
    r2 = oci.cove("run", "--bundle", oci.bundle(loop, pids(100)), "p100r")
    c.check("pids limit 10: 40 background sleeps cannot fork (100: they "
            "can)", r.returncode == 2 and "can't fork" in r.stderr and
            r2.returncode == 0 and "after-40" in r2.stdout,
            "%d %s | %d %s" % (r.returncode, r.stderr, r2.returncode,
                               r2.stdout + r2.stderr))
    oci.cove("create", "--bundle", oci.bundle(["true"], pids(10)), "p10")
    with open(os.path.join(oci.root, "p10", "state.json")) as f:
        cg = json.load(f).get("cgroup", "")
    made = cgroup_dirs(cg) if cg else []
    pmax = [open(os.path.join(d, "pids.max")).read().strip()
            for d in made if os.path.exists(os.path.join(d, "pids.max"))]
    c.check("the container's cgroup is /cove-oci/ID with pids.max 10",
            cg == "/cove-oci/p10" and pmax == ["10"],
            "%s %s %s" % (cg, made, pmax))
    oci.cove("delete", "p10")
    c.check("delete removes the container's cgroup", cg and
            not cgroup_dirs(cg), str(cgroup_dirs(cg)) if cg else "")


def check_seccomp(c, oci):
    """linux.seccomp: the container's own profile on top of Cove's filter,
    for the program and for exec: a call refused with the default EPERM,
    one with its errnoRet, one only for an argument's value; the calls
    Cove refuses stay refused when the profile allows them."""
    def prof(cfg):
        cfg["mounts"].append({"destination": "/tmp", "type": "tmpfs",
                              "source": "tmpfs"})
        cfg["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                              "SCMP_ARCH_X32"],
            "syscalls": [
                {"names": ["mkdir", "mkdirat", "cove_no_such_call"],
                 "action": "SCMP_ACT_ERRNO"},
                {"names": ["unlink", "unlinkat"], "action": "SCMP_ACT_ERRNO",
                 "errnoRet": 28},
                {"names": ["kill"], "action": "SCMP_ACT_ERRNO",
                 "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]},
                {"names": ["keyctl", "add_key"],
                 "action": "SCMP_ACT_ALLOW"}]}
    script = ("touch /tmp/f; mkdir /tmp/d; echo mkdir=$?; rm /tmp/f; "
              "echo rm=$?; kill -0 $$; echo kill0=$?; kill -USR1 $$; "
              "echo usr1=$?; exit 5")
    r = oci.cove("run", "--bundle", oci.bundle(["sh", "-c", script], prof),
                 "sc1")
    out, err = r.stdout, r.stderr
    c.check("seccomp profile: mkdir refused with EPERM",
            "mkdir=1" in out and "Operation not permitted" in err,
            out + err)
    c.check("seccomp profile: unlink refused with errnoRet 28 (ENOSPC)",
            "rm=1" in out and "No space left on device" in err, out + err)
    c.check("seccomp profile: kill refused only for signal 10",
            "kill0=0" in out and "usr1=1" in out, out + err)
    c.check("seccomp profile: the program's status passes (5)",
            r.returncode == 5, "%d %s" % (r.returncode, err))
    oci.cove("create", "--bundle", oci.bundle(["sleep", "100"], prof), "sc2")
    oci.cove("start", "sc2")
    s = oci.state("sc2")
    r = oci.cove("exec", "sc2", "sh", "-c",
                 "mkdir /tmp/e; echo mkdir=$?; touch /tmp/g; echo touch=$?")
    c.check("seccomp profile: exec'd commands get it too",
            "mkdir=1" in r.stdout and "touch=0" in r.stdout,
            r.stdout + r.stderr)
    oci.cove("delete", "--force", "sc2")
    if s:
        wait_exit(s["pid"], 5)


def docker_like_profile():
    """podman's default profile (Debian's containers-common) in the OCI
    form podman writes, reshaped as Docker's: clone allowed only without
    namespace flags (a masked compare), clone3 ENOSYS, unshare, setns,
    mount and umount2 only with CAP_SYS_ADMIN; the entries that
    need a capability the container lacks or another architecture are
    left out, as the engines leave them out. None without the file."""
    try:
        with open("/usr/share/containers/seccomp.json") as f:
            src = json.load(f)
    except OSError:
        return None
    calls = []
    for e in src["syscalls"]:
        inc = e.get("includes", {})
        if inc.get("caps") or \
                (inc.get("arches") and "amd64" not in inc["arches"]):
            continue
        # Docker allows these only with CAP_SYS_ADMIN (moby's default.json)
        names = [n for n in e["names"] if n not in
                 ("clone", "clone3", "unshare", "setns", "mount", "umount2")]
        if not names:
            continue
        d = {"names": names, "action": e["action"]}
        if e.get("errnoRet"):
            d["errnoRet"] = e["errnoRet"]
        if e.get("args"):
            d["args"] = e["args"]
        calls.append(d)
    calls.append({"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "value": 2114060288, "valueTwo": 0,
                            "op": "SCMP_CMP_MASKED_EQ"}]})
    calls.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO",
                  "errnoRet": 38})
    return {"defaultAction": src["defaultAction"],
            "defaultErrnoRet": src.get("defaultErrnoRet", 1),
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
                              "SCMP_ARCH_X32"],
            "syscalls": calls}


def check_engine_profile(c, oci):
    """A whole engine profile (default ERRNO, hundreds of names, arg
    rules, Docker's clone rule): a shell's pipelines and forks work, the
    exit status passes, a call it does not list (unshare, for a user
    namespace, which Cove alone allows) fails with its defaultErrnoRet
    (ENOSYS)."""
    prof = docker_like_profile()
    if prof is None:
        c.check("engine profile: /usr/share/containers/seccomp.json "
                "(containers-common) is installed", False)
        return

    def edit(cfg):
        cfg["linux"]["seccomp"] = prof
    script = ("echo piped | cat; x=$(echo sub); echo $x; "
              "unshare -U true; echo unshare=$?; exit 6")
    r = oci.cove("run", "--bundle", oci.bundle(["sh", "-c", script], edit),
                 "eng")
    c.check("engine profile: pipelines, substitution, status 6",
            r.returncode == 6 and "piped\nsub\n" in r.stdout,
            "%d %s %s" % (r.returncode, r.stdout, r.stderr))
    r2 = oci.cove("run", "--bundle", oci.bundle(["sh", "-c", script]),
                  "eng2")
    c.check("engine profile: an unlisted call gets defaultErrnoRet "
            "(ENOSYS), where without the profile it works",
            "unshare=1" in r.stdout and
            "Function not implemented" in r.stderr and
            "unshare=0" in r2.stdout, r.stdout + r.stderr + r2.stdout +
            r2.stderr)


def check_pause(c, oci):
    """pause/resume through the cgroup's freezer: a counting loop stops
    while paused and goes on after resume; the state says "paused"; pause
    needs a running container and resume a paused one; kill refuses a
    signal the frozen sentry could not take, and delete --force of a
    paused container leaves nothing."""
    out = os.path.join(oci.top, "pause-out")
    os.mkdir(out)
    count = os.path.join(out, "n")

    def edit(cfg):
        bind(cfg, out, "/out")
    loop = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i >> /out/n; "
            "done"]
    oci.cove("create", "--bundle", oci.bundle(loop, edit), "pz")
    r = oci.cove("pause", "pz")
    c.check("pause of a created container refused", r.returncode == 1 and
            "not running" in r.stderr, r.stderr)
    oci.cove("start", "pz")
    s = oci.state("pz")

    def value():
        """The loop's output so far (bytes), after a moment."""
        time.sleep(0.2)
        try:
            return os.path.getsize(count)
        except OSError:
            return -1
    r = oci.cove("resume", "pz")
    c.check("resume of a running container refused", r.returncode == 1 and
            "not paused" in r.stderr, r.stderr)
    value()
    r = oci.cove("pause", "pz")
    st = oci.state("pz")
    a = value()
    b = value()
    c.check("pause: the state is paused and the loop stands still",
            r.returncode == 0 and st and st["status"] == "paused" and
            a > 0 and a == b, "%s %s %d %d" % (r.stderr, st, a, b))
    frozen = ""
    with open(os.path.join(oci.root, "pz", "state.json")) as f:
        cg = json.load(f).get("cgroup", "")
    for p in ("/sys/fs/cgroup/freezer%s/freezer.state" % cg,
              "/sys/fs/cgroup%s/cgroup.freeze" % cg):
        if os.path.exists(p):
            frozen = open(p).read().strip()
    c.check("the container's cgroup is frozen", cg == "/cove-oci/pz" and
            frozen in ("FROZEN", "1"), "%s %s" % (cg, frozen))
    r = oci.cove("kill", "pz", "TERM")
    c.check("kill TERM of a paused container: a clear error",
            r.returncode == 1 and "paused" in r.stderr, r.stderr)
    r = oci.cove("delete", "pz")
    c.check("delete of a paused container without --force refused",
            r.returncode == 1 and "paused" in r.stderr, r.stderr)
    r = oci.cove("resume", "pz")
    st = oci.state("pz")
    a = value()
    b = value()
    c.check("resume: running again, the loop goes on",
            r.returncode == 0 and st and st["status"] == "running" and
            b > a > 0, "%s %s %d %d" % (r.stderr, st, a, b))
    oci.cove("pause", "pz")
    r = oci.cove("delete", "--force", "pz")
    code = wait_exit(s["pid"], 10) if s else None
    c.check("delete --force of a paused container: gone, cgroup removed",
            r.returncode == 0 and code is not None and
            not os.path.exists(os.path.join(oci.root, "pz")) and
            not cgroup_dirs(cg) and not os.path.isdir(
                "/sys/fs/cgroup/freezer" + cg),
            "%s %s %s" % (r.stderr, code, cgroup_dirs(cg)))


def check_v2_limits_refused(c, oci):
    """cgroup v2 without the memory controller: one clear line."""
    want = "needs the cgroup v2 memory controller"
    r = subprocess.run([COVE, "run", "--network=none", "--memory=64m", "--",
                        "/bin/true"], capture_output=True, text=True,
                       timeout=30)
    c.check("v2: cove run --memory without the controller: exit 125, one "
            "line", r.returncode == 125 and want in r.stderr and
            len(r.stderr.strip().splitlines()) == 1,
            "%d %r" % (r.returncode, r.stderr))

    def mem(cfg):
        cfg["linux"]["resources"] = {"memory": {"limit": 64 << 20}}
    r = oci.cove("create", "--bundle", oci.bundle(["true"], mem), "v2m")
    c.check("v2: a bundle's memory limit without the controller: refused, "
            "nothing left", r.returncode == 1 and want in r.stderr and
            not os.path.exists(os.path.join(oci.root, "v2m")) and
            not cgroup_dirs("/cove-oci/v2m"),
            "%d %r" % (r.returncode, r.stderr))


def run_v2_pass(c):
    """This test again with the unified hierarchy at /sys/fs/cgroup."""
    if not os.path.isdir("/sys/fs/cgroup/unified"):
        c.check("cgroup v2 covered by the main run (v2 host)",
                open("/proc/mounts").read().find(
                    " /sys/fs/cgroup cgroup2 ") >= 0,
                "neither a v2 host nor a hybrid one with /unified")
        return
    r = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         "mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup && exec "
         "/usr/bin/python3 \"$0\" --cgroup-v2", os.path.abspath(__file__)],
        capture_output=True, text=True, timeout=300)
    print(r.stdout, end="")
    c.check("cgroup v2 pass (pause/resume by cgroup.freeze, limits "
            "refused clearly)", r.returncode == 0 and
            " 0 failed" in r.stdout, r.stderr[-500:])


def main_v2():
    """--cgroup-v2: run in the private mount namespace run_v2_pass made."""
    c = sb.Checks()
    subreaper()
    top = tempfile.mkdtemp(prefix="cove-oci-v2-")
    oci = Oci(top)
    try:
        c.check("v2: /sys/fs/cgroup is the unified hierarchy",
                " /sys/fs/cgroup cgroup2 " in open("/proc/mounts").read())
        check_pause(c, oci)
        check_v2_limits_refused(c, oci)
    finally:
        for cid in (os.listdir(oci.root) if os.path.isdir(oci.root) else []):
            oci.cove("delete", "--force", cid)
        shutil.rmtree(top)
    c.exit()


def check_bad_bundles(c, oci):
    def ns_foo(cfg):
        cfg["linux"]["namespaces"].append({"type": "foo"})

    def bad_mount(cfg):
        bind(cfg, "/nonexistent/cove-oci-test", "/mnt")

    def seccomp_notify(cfg):
        cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                                   "syscalls": [{"names": ["read"],
                                                 "action": "SCMP_ACT_NOTIFY"}]}

    def seccomp_op(cfg):
        cfg["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                          "args": [{"index": 0, "value": 1,
                                    "op": "SCMP_CMP_SOMETIMES"}]}]}

    def terminal(cfg):
        cfg["process"]["terminal"] = True

    def sysctl(cfg):
        cfg["linux"]["sysctl"] = {"vm.swappiness": "10"}

    def resources(cfg):
        cfg["linux"]["resources"] = {"blockIO": {"weight": 10}}

    cases = [
        ("missing config.json", None, None, "config.json"),
        ("bad JSON", None, "{\"ociVersion\": ", "config.json: line"),
        ("unknown namespace type", ns_foo, None, "unknown type \"foo\""),
        ("bind mount of a missing source", bad_mount, None,
         "/nonexistent/cove-oci-test"),
        ("seccomp SCMP_ACT_NOTIFY", seccomp_notify, None,
         "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not "
         "supported"),
        ("seccomp unknown op", seccomp_op, None,
         "linux.seccomp.syscalls[0].args[0].op: unknown "
         "'SCMP_CMP_SOMETIMES'"),
        ("process.terminal without --console-socket", terminal, None,
         "--console-socket"),
        ("a sysctl outside the container", sysctl, None, "vm.swappiness"),
        ("unsupported linux.resources.blockIO", resources, None,
         "linux.resources.blockIO"),
        ("program not found", lambda cfg: cfg["process"].__setitem__(
            "args", ["/bin/nosuchprogram"]), None, "nosuchprogram"),
    ]
    for i, (name, edit, raw, want) in enumerate(cases):
        b = oci.bundle(["true"], edit, raw)
        if name == "missing config.json":
            os.unlink(os.path.join(b, "config.json"))
        cid = "bad%d" % i
        before = sb.Snapshot()
        r = oci.cove("create", "--bundle", b, cid, json_log=True)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        c.check("bad bundle, %s: one clear error" % name,
                r.returncode == 1 and len(lines) == 1 and want in lines[0],
                "rc %d: %s" % (r.returncode, r.stderr))
        c.check("bad bundle, %s: nothing left" % name,
                not os.path.exists(os.path.join(oci.root, cid)) and
                not sb.settle(before), str(sb.Snapshot().diff(before)))
    with open(oci.log) as f:
        last = json.loads(f.read().splitlines()[-1])
    c.check("--log-format json: runc's {level, msg, time} lines",
            last["level"] == "error" and "nosuchprogram" in last["msg"] and
            last["time"].endswith("Z"), str(last))


def check_hooks(c, oci):
    """prestart, createRuntime, poststart, poststop run on the host with
    the state on stdin; a prestart hook that configures the new network
    namespace (as Docker's libnetwork-setkey does) gets its interface
    served by the stack; a failing or slow hook fails create cleanly."""
    out = os.path.join(oci.top, "hooks")
    os.mkdir(out)

    def hook(name, script, **kw):
        h = {"path": "/bin/sh", "args": ["sh", "-c", script],
             "env": ["OUT=" + out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}
        h.update(kw)
        return h
    # As libnetwork: a veth end moved into the namespace of the state's
    # pid, named eth0 and addressed there.
    netcfg = ("cat > $OUT/prestart.json; "
              "pid=$(sed 's/.*\"pid\":\\([0-9]*\\).*/\\1/' "
              "$OUT/prestart.json); readlink /proc/$pid/ns/net > "
              "$OUT/prestart.ns; ip link add cvohk0 type veth peer name "
              "eth0 netns $pid && nsenter --net=/proc/$pid/ns/net sh -c "
              "'ip addr add 10.232.0.2/24 dev eth0 && ip link set eth0 up'")

    def edit(cfg):
        cfg["hooks"] = {
            "prestart": [hook("pre", netcfg)],
            "createRuntime": [hook("cr", "cat > $OUT/createRuntime.json")],
            "poststart": [hook("ps", "cat > $OUT/poststart.json")],
            "poststop": [hook("pst", "cat > $OUT/poststop.json")]}
    b = oci.bundle(["sh", "-c", "cat /proc/1/comm /proc/net/dev; sleep 30"],
                   edit)
    # The program's stdout is a file (a pipe would stay open in it).
    with open(os.path.join(oci.top, "hooks.out"), "w") as o, \
            tempfile.TemporaryFile("w+") as e:
        r = subprocess.run([COVE, "--root", oci.root, "create", "--bundle",
                            b, "hk"], stdout=o, stderr=e,
                           stdin=subprocess.DEVNULL, timeout=30)
        e.seek(0)
        r.stderr = e.read()
    s = oci.state("hk") or {"pid": 0}

    def load(name):
        try:
            with open(os.path.join(out, name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}
    pre = load("prestart.json")
    c.check("prestart: the state on stdin (creating, the sentry's pid)",
            r.returncode == 0 and s and pre.get("status") == "creating" and
            pre.get("pid") == s["pid"] and pre.get("id") == "hk" and
            pre.get("bundle") == b, r.stderr + str(pre) + str(s))
    try:
        with open(os.path.join(out, "prestart.ns")) as f:
            ns = f.read().strip()
        same = ns == os.readlink("/proc/%d/ns/net" % s["pid"])
    except (OSError, TypeError):
        ns, same = "", False
    c.check("prestart runs once the container's network namespace exists",
            same and ns != os.readlink("/proc/self/ns/net"), ns)
    cr = load("createRuntime.json")
    c.check("createRuntime after prestart, same state",
            cr.get("status") == "creating" and cr.get("pid") == s["pid"],
            str(cr))
    r = oci.cove("start", "hk")
    ps = load("poststart.json")
    c.check("poststart after start: running", r.returncode == 0 and
            ps.get("status") == "running", r.stderr + str(ps))
    time.sleep(0.5)
    with open(os.path.join(oci.top, "hooks.out")) as f:
        text = f.read()
    ss = subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % s["pid"],
                         "tc", "filter", "show", "dev", "eth0", "ingress"],
                        capture_output=True, text=True)
    c.check("the interface a prestart hook made is served by the stack "
            "(eth0 seen, the kernel's ingress dropped)",
            text.startswith("cove-sentry\n") and "eth0:" in text and
            ss.stdout.strip() != "", text + ss.stdout + ss.stderr)
    r = oci.cove("delete", "--force", "hk")
    pst = load("poststop.json")
    c.check("poststop after delete: stopped", r.returncode == 0 and
            pst.get("status") == "stopped" and pst.get("id") == "hk",
            r.stderr + str(pst))
    for name, edit, want in (
            ("a failing prestart hook", lambda cfg: cfg.__setitem__(
                "hooks", {"prestart": [hook("x", "echo nope; exit 3")]}),
             "hooks.prestart[0] (/bin/sh): exit status 3: nope"),
            ("a prestart hook past its timeout", lambda cfg: cfg.__setitem__(
                "hooks", {"prestart": [hook("x", "sleep 10", timeout=1)]}),
             "hooks.prestart[0] (/bin/sh): timed out after 1s"),
            ("a hook that closes its output and stays past its timeout",
             lambda cfg: cfg.__setitem__("hooks", {"prestart": [hook(
                 "x", "exec >/dev/null 2>&1; sleep 10", timeout=1)]}),
             "hooks.prestart[0] (/bin/sh): timed out after 1s"),
            ("a createContainer hook", lambda cfg: cfg.__setitem__(
                "hooks", {"createContainer": [hook("x", "true")]}),
             "hooks.createContainer: not supported yet")):
        before = sb.Snapshot()
        b = oci.bundle(["true"], edit)
        r = oci.cove("create", "--bundle", b, "hkbad")
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        c.check("%s: one clear error, nothing left" % name,
                r.returncode == 1 and len(lines) == 1 and
                want in lines[0] and
                not os.path.exists(os.path.join(oci.root, "hkbad")) and
                not sb.settle(before), r.stderr)


def check_pod_bundles(c, oci):
    """A Kubernetes-style pod from plain bundles: a network namespace
    prepared here (as CNI would: a veth end as eth0, addressed), a
    sandbox container marked as CRI marks pause containers, and two
    containers joining its namespaces: one serves on 127.0.0.1:8000, the
    other fetches from it. All on the kernel provider (docs/OCI.md,
    "Pods"); a container joining a namespace a builtin stack serves is
    refused."""
    ns, path = "cove-oci-pod", "/run/netns/cove-oci-pod"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        for cmd in (["ip", "link", "add", "cvopod0", "type", "veth", "peer",
                     "name", "eth0", "netns", ns],
                    ["ip", "-n", ns, "addr", "add", "10.233.0.2/24", "dev",
                     "eth0"],
                    ["ip", "-n", ns, "link", "set", "eth0", "up"]):
            subprocess.run(cmd, check=True)

        def sandbox(cfg, kind="sandbox"):
            for n in cfg["linux"]["namespaces"]:
                if n["type"] == "network":
                    n["path"] = path
            cfg["annotations"] = {"io.kubernetes.cri.container-type": kind}
            cfg["hostname"] = "pod-host"

        def member(pid):
            def edit(cfg):
                sandbox(cfg, "container")
                del cfg["hostname"]  # the pod's, from the joined uts
                cfg["mounts"].append({"destination": "/tmp", "type": "tmpfs",
                                      "source": "tmpfs"})
                for n in cfg["linux"]["namespaces"]:
                    if n["type"] in ("ipc", "uts"):
                        n["path"] = "/proc/%d/ns/%s" % (pid, n["type"])
            return edit
        b = oci.bundle(["sleep", "60"], sandbox)
        r = oci.cove("create", "--bundle", b, "pod-pause")
        s = oci.state("pod-pause") or {"pid": 0}
        oci.cove("start", "pod-pause")
        a = oci.bundle(["sh", "-c", "echo pod-ok > /tmp/index.html; "
                        "exec httpd -f -p 8000 -h /tmp"], member(s["pid"]))
        r2 = oci.cove("run", "--bundle", a, "--detach", "pod-a")
        sa = oci.state("pod-a") or {"pid": 0}
        b2 = oci.bundle(["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do "
                         "wget -qO- http://127.0.0.1:8000/index.html && "
                         "break; sleep 0.2; done; hostname"],
                        member(s["pid"]))
        r3 = oci.cove("run", "--bundle", b2, "pod-b")
        nets = set()
        for st in (s, sa):
            try:
                with open("/run/cove/%s/network" % oci_sandbox(oci, st)) as f:
                    nets.add(f.read().strip())
            except OSError:
                nets.add("?")
        c.check("a pod from bundles: the second container reaches the "
                "first on 127.0.0.1, uts shared, all on the kernel "
                "provider", r.returncode == 0 and r2.returncode == 0 and
                r3.returncode == 0 and r3.stdout == "pod-ok\npod-host\n"
                and nets == {"kernel"},
                r.stderr + r2.stderr + r3.stdout + r3.stderr + str(nets))
        for cid in ("pod-a", "pod-pause"):
            oci.cove("delete", "--force", cid)
        b = oci.bundle(["sleep", "60"], lambda cfg: sandbox(cfg, "other"))
        r = oci.cove("create", "--bundle", b, "pod-first")
        s = oci.state("pod-first") or {"pid": 0}
        b2 = oci.bundle(["true"], member(s["pid"]))
        r2 = oci.cove("create", "--bundle", b2, "pod-second")
        c.check("joining a namespace another sandbox serves with builtin: "
                "refused, nothing left", r.returncode == 0 and
                r2.returncode == 1 and "served by Cove sandbox" in r2.stderr
                and not os.path.exists(os.path.join(oci.root, "pod-second")),
                r.stderr + r2.stderr)
        oci.cove("delete", "--force", "pod-first")
    finally:
        for cid in ("pod-a", "pod-b", "pod-pause", "pod-first",
                    "pod-second"):
            oci.cove("delete", "--force", cid)
        subprocess.run(["ip", "netns", "del", ns])


def oci_sandbox(oci, st):
    """The Cove sandbox name of a container (its state.json's)."""
    cid = st.get("id", "")
    try:
        with open(os.path.join(oci.root, cid, "state.json")) as f:
            return json.load(f).get("sandbox", "")
    except (OSError, ValueError):
        return ""


def check_globals(c, oci):
    r = subprocess.run([COVE, "--systemd-cgroup", "state", "x"],
                       capture_output=True, text=True)
    c.check("--systemd-cgroup: a clear error", r.returncode == 1 and
            "systemd" in r.stderr, r.stderr)
    r = subprocess.run([COVE, "--root", oci.root, "--version"],
                       capture_output=True, text=True)
    c.check("--version names the spec", r.returncode == 0 and
            "spec:" in r.stdout, r.stdout)
    r = oci.cove("features")
    f = json.loads(r.stdout) if r.returncode == 0 else {}
    c.check("features JSON", "mount" in f.get("linux", {}).get(
        "namespaces", []) and "ociVersionMax" in f, r.stdout)
    b = oci.bundle(["true"])
    r = subprocess.run([COVE, "spec", "--bundle", b], capture_output=True,
                       text=True)
    c.check("spec refuses to overwrite config.json", r.returncode == 1 and
            "exists" in r.stderr, r.stderr)
    r = subprocess.run([COVE, "list"], capture_output=True, text=True)
    c.check("plain `cove list` stays the native verb",
            r.returncode == 0 and "ADDRESS" in r.stdout, r.stdout + r.stderr)


def main():
    c = sb.Checks()
    if not os.path.exists(BUSYBOX):
        print("SKIP: no %s (busybox-static)" % BUSYBOX)
        return
    subreaper()
    before = sb.Snapshot()
    top = tempfile.mkdtemp(prefix="cove-oci-")
    oci = Oci(top)
    try:
        check_lifecycle(c, oci)
        check_kill(c, oci)
        check_delete(c, oci)
        check_list_run(c, oci)
        check_bundle_fields(c, oci)
        check_preserve_fds(c, oci)
        check_terminal(c, oci)
        check_exec(c, oci)
        check_limits(c, oci)
        check_seccomp(c, oci)
        check_engine_profile(c, oci)
        check_pause(c, oci)
        check_bad_bundles(c, oci)
        check_hooks(c, oci)
        check_pod_bundles(c, oci)
        check_globals(c, oci)
        run_v2_pass(c)
    finally:
        leftover = os.listdir(oci.root) if os.path.isdir(oci.root) else []
        for cid in leftover:
            oci.cove("delete", "--force", cid)
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        shutil.rmtree(top)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.check("--root empty after the deletes", not leftover, str(leftover))
    c.exit()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if sys.argv[1:] == ["--cgroup-v2"]:
        main_v2()
    main()
