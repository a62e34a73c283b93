#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""podman (Debian's 4.3, through conmon) with `--runtime` pointing at cove.

The image is a busybox-static root imported with `podman import` (no
registry). Each container runs in a Cove sandbox (its PID 1 is the
sentry); exit codes 0, 3 and 137 pass through conmon to podman; `run -d`,
`logs`, `stop -t 2` (SIGTERM over Cove's control channel, the status
143), `kill`, `rm`; podman's bridge network (netavark's namespace, the
sentry attached to its eth0) and `--network=none`. After `podman rm`
nothing of Cove's is left (state under /run/cove-oci, /run/cove, veths,
sentries).

Flags every run needs today, each for a field Cove refuses rather than
ignores (docs/OCI.md): `--security-opt seccomp=unconfined` (no
linux.seccomp yet), `--pids-limit=-1` (no cgroups yet), and ulimits within
this machine's hard limits (podman asks for nofile 1048576, which runc
cannot set here either: no CAP_SYS_RESOURCE).
"""

import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

BUSYBOX = "/bin/busybox"
IMAGE = "localhost/cove-oci-test:busybox"
COVE = os.path.abspath(sb.cove_bin())


def podman(*args, timeout=60):
    return subprocess.run(["podman", "--runtime", COVE] + list(args),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def run_flags():
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return ["--security-opt", "seccomp=unconfined", "--pids-limit=-1",
            "--ulimit", "nofile=%d:%d" % (nofile, nofile),
            "--ulimit", "nproc=4096:4096"]


def make_image(top):
    root = os.path.join(top, "rootfs")
    for sub in ("bin", "proc", "dev", "sys", "tmp", "etc"):
        os.makedirs(os.path.join(root, sub))
    shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
    for a in ("sh", "echo", "sleep", "cat", "kill", "true"):
        os.symlink("busybox", os.path.join(root, "bin", a))
    tar = os.path.join(top, "bb.tar")
    with tarfile.open(tar, "w") as t:
        t.add(root, arcname=".")
    r = subprocess.run(["podman", "import", tar, IMAGE], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    oci_before = set(os.listdir("/run/cove-oci")) \
        if os.path.isdir("/run/cove-oci") else set()
    top = tempfile.mkdtemp(prefix="cove-podman-")
    names = []
    try:
        make_image(top)
        f = run_flags()
        r = podman("run", "--rm", *f, IMAGE, "echo", "hi")
        c.check("podman run --rm IMAGE echo hi", r.returncode == 0 and
                r.stdout == "hi\n", r.stdout + r.stderr)
        for cmd, code in (("exit 0", 0), ("exit 3", 3),
                          ("kill -9 $$", 137)):
            r = podman("run", "--rm", *f, IMAGE, "sh", "-c", cmd)
            c.check("exit status %d passes through" % code,
                    r.returncode == code, r.stderr)
        r = podman("run", "--rm", *f, IMAGE, "sh", "-c",
                   "cat /proc/1/comm; cat /proc/net/dev")
        c.check("bridge network: PID 1 is the sentry, eth0 from netavark",
                r.returncode == 0 and r.stdout.startswith("cove-sentry\n")
                and "eth0:" in r.stdout, r.stdout + r.stderr)
        r = podman("run", "--rm", "--network=none", *f, IMAGE, "sh", "-c",
                   "cat /proc/net/dev")
        c.check("--network=none: loopback only", r.returncode == 0 and
                "lo:" in r.stdout and "eth0" not in r.stdout,
                r.stdout + r.stderr)
        names.append("cove-oci-d1")
        r = podman("run", "-d", "--name", "cove-oci-d1", *f, IMAGE, "sh",
                   "-c", "echo logged; exec sleep 100")
        c.check("podman run -d", r.returncode == 0, r.stderr)
        r = podman("logs", "cove-oci-d1")
        c.check("podman logs", "logged" in r.stdout, r.stdout + r.stderr)
        r = podman("stop", "-t", "2", "cove-oci-d1")
        st = podman("inspect", "--format", "{{.State.ExitCode}}",
                    "cove-oci-d1")
        c.check("podman stop -t 2: SIGTERM ends it, status 143",
                r.returncode == 0 and st.stdout.strip() == "143",
                r.stderr + st.stdout + st.stderr)
        r = podman("rm", "cove-oci-d1")
        c.check("podman rm", r.returncode == 0, r.stderr)
        names.append("cove-oci-d2")
        podman("run", "-d", "--name", "cove-oci-d2", *f, IMAGE, "sleep",
               "100")
        r = podman("kill", "cove-oci-d2")
        st = podman("wait", "cove-oci-d2")
        c.check("podman kill: status 137", r.returncode == 0 and
                st.stdout.strip() == "137", r.stderr + st.stdout + st.stderr)
        podman("rm", "cove-oci-d2")
    finally:
        for n in names:
            podman("rm", "-f", n)
        subprocess.run(["podman", "rmi", "-f", IMAGE], capture_output=True)
        shutil.rmtree(top)
    oci_now = set(os.listdir("/run/cove-oci")) \
        if os.path.isdir("/run/cove-oci") else set()
    left = sb.settle(before)
    c.check("nothing left behind", not left and oci_now <= oci_before,
            str(left) + str(oci_now - oci_before))
    c.exit()


if __name__ == "__main__":
    main()
