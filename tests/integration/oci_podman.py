#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""podman (Debian's 4.3, through conmon) with `--runtime` pointing at cove.

The image is a busybox-static root imported with `podman import` (no
registry). Each container runs in a Cove sandbox (its PID 1 is the
sentry); exit codes 0, 3 and 137 pass through conmon to podman; `run -d`,
`logs`, `stop -t 2` (SIGTERM over Cove's control channel, the status
143), `kill`, `rm`; podman's bridge network (netavark's namespace, the
sentry attached to its eth0) and `--network=none`; pause and unpause. After `podman rm`
nothing of Cove's is left (state under /run/cove-oci, /run/cove, veths,
sentries). A pod of two containers (check_pod(): the kernel provider, so
that they share 127.0.0.1; joining a builtin-served namespace is refused).

Every run uses podman's default seccomp profile (the container's own,
loaded on top of Cove's filter); check_seccomp() shows it is loaded and
that a profile made from it with one call refused refuses that call.
The flag every run needs today: ulimits within this machine's hard limits
(podman asks for nofile 1048576, which runc cannot set here either: no
CAP_SYS_RESOURCE).
"""

import json

import glob
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import ociimage  # noqa: E402
import sandbox as sb  # noqa: E402

IMAGE = "localhost/cove-oci-test:busybox"
COVE = os.path.abspath(sb.cove_bin())


def podman(*args, timeout=60):
    return subprocess.run(["podman", "--runtime", COVE] + list(args),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def run_flags():
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return ["--ulimit", "nofile=%d:%d" % (nofile, nofile),
            "--ulimit", "nproc=4096:4096"]


def make_image(top):
    tar = ociimage.busybox_tar(top)
    r = subprocess.run(["podman", "import", tar, IMAGE], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def check_publish(c, f):
    """busybox httpd in a container on podman's bridge, -p published:
    served by the sentry's stack on netavark's eth0."""
    port = sb.free_port("127.0.0.1")
    r = podman("run", "-d", "--name", "cove-oci-web", "-p",
               "%d:8000" % port, *f, IMAGE, "httpd", "-f", "-p", "8000",
               "-h", "/www")
    ip = podman("inspect", "--format", "{{.NetworkSettings.IPAddress}}",
                "cove-oci-web").stdout.strip()
    ok = r.returncode == 0 and ip and sb.wait_port(ip, 8000)
    for url in ("http://127.0.0.1:%d/index.html" % port,
                "http://%s:8000/index.html" % ip):
        g = subprocess.run(["curl", "-sS", "--max-time", "10", url],
                           capture_output=True, text=True)
        c.check("httpd in the container: %s" % url, ok and
                g.stdout == "hello-from-cove\n", r.stderr + g.stdout +
                g.stderr)
    key = podman("inspect", "--format", "{{.NetworkSettings.SandboxKey}}",
                 "cove-oci-web").stdout.strip()
    ss = subprocess.run(["nsenter", "--net=" + key, "ss", "-Hltn",
                         "sport = :8000"], capture_output=True, text=True)
    c.check("the listener is the stack's, not the kernel's (no kernel "
            "socket on :8000 in netavark's namespace)",
            ok and key and ss.returncode == 0 and not ss.stdout.strip(),
            key + ss.stdout + ss.stderr)
    podman("rm", "-f", "cove-oci-web")


def check_seccomp(c, top, f):
    """podman's default profile is loaded in the container (one filter
    more than with seccomp=unconfined: Cove's own stays), and a profile
    made from it with mkdir moved to SCMP_ACT_ERRNO/ENOSPC refuses mkdir
    (podman passes it as the container's linux.seccomp)."""
    cmd = "grep Seccomp_filters /proc/self/status; mkdir /tmp/d && echo made"
    r = podman("run", "--rm", *f, IMAGE, "sh", "-c", cmd)
    r2 = podman("run", "--rm", "--security-opt", "seccomp=unconfined", *f,
                IMAGE, "sh", "-c", cmd)

    def count(out):
        for ln in out.splitlines():
            if ln.startswith("Seccomp_filters:"):
                return int(ln.split()[1])
        return -1
    n, n2 = count(r.stdout), count(r2.stdout)
    c.check("podman's default seccomp profile is loaded on top of Cove's "
            "filter", r.returncode == 0 and r2.returncode == 0 and
            n2 >= 1 and n == n2 + 1 and "made" in r.stdout,
            "%d %d: %s | %s" % (n, n2, r.stdout + r.stderr,
                                r2.stdout + r2.stderr))
    with open("/usr/share/containers/seccomp.json") as fh:
        prof = json.load(fh)
    for e in prof["syscalls"]:
        e["names"] = [x for x in e["names"] if x not in ("mkdir", "mkdirat")]
    prof["syscalls"] = [e for e in prof["syscalls"] if e["names"]]
    prof["syscalls"].append({"names": ["mkdir", "mkdirat"],
                             "action": "SCMP_ACT_ERRNO", "errnoRet": 28})
    path = os.path.join(top, "no-mkdir.json")
    with open(path, "w") as fh:
        json.dump(prof, fh)
    r = podman("run", "--rm", "--security-opt", "seccomp=" + path, *f,
               IMAGE, "sh", "-c", "mkdir /tmp/d; echo status=$?")
    c.check("a profile refusing mkdir (errnoRet 28): mkdir fails with "
            "ENOSPC", "status=1" in r.stdout and
            "No space left on device" in r.stderr, r.stdout + r.stderr)


def check_conf(c, top, f):
    """The runtime named in containers.conf, with runtime_supports_json:
    podman then passes --log-format=json and shows the log's msg."""
    conf = os.path.join(top, "containers.conf")
    with open(conf, "w") as fh:
        fh.write('[engine]\nruntime_supports_json = ["crun", "runc", '
                 '"cove"]\n[engine.runtimes]\ncove = ["%s"]\n' % COVE)
    env = dict(os.environ, CONTAINERS_CONF=conf)
    r = subprocess.run(["podman", "--runtime", "cove", "run", "--rm"] + f +
                       [IMAGE, "echo", "conf"], capture_output=True,
                       text=True, env=env, timeout=60)
    c.check("containers.conf runtime 'cove'", r.returncode == 0 and
            r.stdout == "conf\n", r.stdout + r.stderr)
    r = subprocess.run(["podman", "--runtime", "cove", "run", "--rm",
                        "--memory-reservation", "32m"] + f +
                       [IMAGE, "true"], capture_output=True, text=True,
                       env=env, timeout=60)
    c.check("a refused field reaches the podman user as one message",
            r.returncode != 0 and "OCI runtime error: cove: config.json: "
            "linux.resources.memory.reservation: not supported yet"
            in r.stderr, r.stderr)


def check_pod(c, top):
    """A pod of two containers on Cove: the second reaches the first on
    127.0.0.1. Both join the infra container's network, ipc and uts
    namespaces by path (/proc/INFRA/ns/...); one stack instance cannot
    be shared by sentries yet, so the pod runs on the kernel provider
    (--runtime-flag network=kernel: each container keeps its own
    sentry, whose kernel sockets in the pod's namespace serve it).
    A container joining a namespace a builtin stack serves is refused."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    conf = os.path.join(top, "pod.conf")
    with open(conf, "w") as fh:  # pod create has no --ulimit
        fh.write('[containers]\ndefault_ulimits = ["nofile=%d:%d", '
                 '"nproc=4096:4096"]\n' % (nofile, nofile))
    env = dict(os.environ, CONTAINERS_CONF=conf)

    def pm(*args, flag=True):
        g = ["--runtime-flag", "network=kernel"] if flag else []
        return subprocess.run(["podman", "--runtime", COVE] + g +
                              list(args), capture_output=True, text=True,
                              timeout=60, env=env, stdin=subprocess.DEVNULL)
    infra = ["--infra-image", IMAGE, "--infra-command", "/bin/pause"]
    try:
        r = pm("pod", "create", "--name", "cove-oci-pod", *infra)
        r2 = pm("run", "-d", "--pod", "cove-oci-pod", "--name",
                "cove-oci-pod-a", IMAGE, "httpd", "-f", "-p", "8000", "-h",
                "/www")
        up = r.returncode == 0 and r2.returncode == 0
        for _ in range(50):
            w = pm("exec", "cove-oci-pod-a", "sh", "-c",
                   "wget -qO- http://127.0.0.1:8000/index.html")
            if not up or w.stdout == ociimage.INDEX:
                break
            time.sleep(0.1)
        b = pm("run", "--rm", "--pod", "cove-oci-pod", IMAGE, "sh", "-c",
               "cat /proc/1/comm; wget -qO- http://127.0.0.1:8000/"
               "index.html; hostname")
        c.check("a pod: the second container reaches the first on "
                "127.0.0.1 (each with its own sentry; uts shared)",
                up and b.returncode == 0 and b.stdout ==
                "cove-sentry\n" + ociimage.INDEX + "cove-oci-pod\n",
                r.stderr + r2.stderr + b.stdout + b.stderr)
        iid = pm("pod", "inspect", "--format", "{{.InfraContainerID}}",
                 "cove-oci-pod").stdout.strip()
        key = pm("inspect", "--format", "{{.NetworkSettings.SandboxKey}}",
                 iid).stdout.strip()
        ss = subprocess.run(["nsenter", "--net=" + key, "ss", "-Hltnp",
                             "sport = :8000"], capture_output=True,
                            text=True) if key else None
        c.check("the pod's listener is a kernel socket of the first "
                "container's sentry", ss and '"cove-sentry"' in ss.stdout,
                key + (ss.stdout + ss.stderr if ss else ""))
        pm("pod", "rm", "-f", "cove-oci-pod")
        r = pm("pod", "create", "--name", "cove-oci-pod", *infra,
               flag=False)
        r2 = pm("run", "--rm", "--pod", "cove-oci-pod", IMAGE, "true",
                flag=False)
        c.check("joining a namespace a builtin stack serves: refused, "
                "naming the sandbox and what to do",
                r.returncode == 0 and r2.returncode != 0 and
                "served by Cove sandbox" in r2.stderr and
                "--network=kernel" in r2.stderr, r.stderr + r2.stderr)
    finally:
        pm("pod", "rm", "-f", "cove-oci-pod")


def libpod_cgroups():
    """podman's per-container cgroup directories (cgroupfs manager)."""
    return {d for h in ("", "memory/", "pids/", "cpu/")
            for d in glob.glob("/sys/fs/cgroup/%slibpod_parent/libpod-*" % h)}


def main():
    c = sb.Checks()
    cg_before = libpod_cgroups()
    before = sb.Snapshot()
    oci_before = set(os.listdir("/run/cove-oci")) \
        if os.path.isdir("/run/cove-oci") else set()
    top = tempfile.mkdtemp(prefix="cove-podman-")
    # conmon writes a file "oom" into its working directory (podman's)
    # when a container is OOM-killed: keep it in the temp dir.
    cwd = os.getcwd()
    os.chdir(top)
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
        grow = 'x=$(head -c 134217728 /dev/zero | tr "\\0" a); echo ok'
        r = podman("run", "--rm", "--memory", "64m", *f, IMAGE, "sh", "-c",
                   grow)
        r2 = podman("run", "--rm", "--memory", "1g", *f, IMAGE, "sh", "-c",
                    grow)
        c.check("--memory 64m enforced: allocating 128 MiB dies with 137 "
                "(fits in 1g)", r.returncode == 137 and
                r2.returncode == 0 and r2.stdout == "ok\n",
                r.stderr + r2.stdout + r2.stderr)
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
        r = podman("exec", "cove-oci-d1", "sh", "-c",
                   "cat /proc/1/comm; exit 6")
        c.check("podman exec: in the sandbox, status 6",
                r.returncode == 6 and r.stdout == "cove-sentry\n",
                r.stdout + r.stderr)
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
        names.append("cove-oci-p1")
        podman("run", "-d", "--name", "cove-oci-p1", *f, IMAGE, "sleep",
               "100")
        r = podman("pause", "cove-oci-p1")
        st = podman("inspect", "--format", "{{.State.Status}}",
                    "cove-oci-p1").stdout.strip()
        r2 = podman("unpause", "cove-oci-p1")
        st2 = podman("inspect", "--format", "{{.State.Status}}",
                     "cove-oci-p1").stdout.strip()
        c.check("podman pause / unpause: paused, then running",
                r.returncode == 0 and st == "paused" and
                r2.returncode == 0 and st2 == "running",
                r.stderr + st + r2.stderr + st2)
        podman("pause", "cove-oci-p1")
        r = podman("rm", "-f", "cove-oci-p1")
        c.check("podman rm -f of a paused container", r.returncode == 0,
                r.stderr)
        names.append("cove-oci-d3")
        podman("run", "-d", "--name", "cove-oci-d3", *f, IMAGE, "sleep",
               "100")
        pid = podman("inspect", "--format", "{{.State.Pid}}",
                     "cove-oci-d3").stdout.strip()
        with open("/proc/%s/comm" % pid) as fh:
            comm = fh.read().strip()
        os.kill(int(pid), signal.SIGKILL)
        st = podman("wait", "cove-oci-d3")
        ps = podman("ps", "-a", "--filter", "name=cove-oci-d3", "--format",
                    "{{.Status}}")
        c.check("SIGKILL of the sentry: podman sees the container exit "
                "(137)", comm == "cove-sentry" and
                st.stdout.strip() == "137" and "Exited" in ps.stdout,
                comm + st.stdout + st.stderr + ps.stdout)
        podman("rm", "cove-oci-d3")
        r = subprocess.run(
            ["script", "-qec", " ".join(
                ["podman", "--runtime", COVE, "run", "-it", "--rm"] + f +
                [IMAGE, "sh"]), "/dev/null"],
            input="echo in-shell-$((6*7)); tty; exit 4\n",
            capture_output=True, text=True, timeout=60)
        c.check("podman run -it through a pty (driven by script): input, "
                "tty, exit status 4", r.returncode == 4 and
                "in-shell-42" in r.stdout and "/dev/pts/0" in r.stdout,
                r.stdout + r.stderr)
        names.append("cove-oci-web")
        check_publish(c, f)
        check_seccomp(c, top, f)
        check_conf(c, top, f)
        check_pod(c, top)
    finally:
        for n in names:
            podman("rm", "-f", n)
        subprocess.run(["podman", "rmi", "-f", IMAGE], capture_output=True)
        os.chdir(cwd)
        shutil.rmtree(top)
    cgs = libpod_cgroups() - cg_before
    c.check("no container cgroup left", not cgs, str(cgs))
    oci_now = set(os.listdir("/run/cove-oci")) \
        if os.path.isdir("/run/cove-oci") else set()
    left = sb.settle(before)
    c.check("nothing left behind", not left and oci_now <= oci_before,
            str(left) + str(oci_now - oci_before))
    c.exit()


if __name__ == "__main__":
    main()
