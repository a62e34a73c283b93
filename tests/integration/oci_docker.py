#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Docker (Debian's docker.io 20.10) with a `cove` runtime in daemon.json.

The test runs its own dockerd: data root, exec root, pid file and API
socket in a temp dir, `"runtimes": {"cove": {"path": COVE}}` in its
daemon.json, no registry, --iptables=false and --ip6tables=false (no
rules on the host), and a bridge of its own (BRIDGE, made and removed
here; docker0 is never created). The image is the busybox-static root
of lib/ociimage.py, imported with `docker import`.

Docker's libnetwork configures each container's network namespace from
a prestart hook (libnetwork-setkey): Cove runs it once the sentry's
namespaces exist, and the sentry then serves the eth0 dockerd put
there. Checked: `docker run --runtime cove --rm IMAGE echo hi`; exit
codes 0, 3, 137; --network=none (loopback only); -d, exec (status 6),
stop (SIGTERM through Cove, 143); -it through a pty; logs, kill -s USR1,
pause/unpause, --memory 64m (128 MiB dies with 137); --user 1000 with
--cap-drop ALL, exec's capabilities; -p HOST:80 to busybox httpd served by
the stack (no kernel listener in the container's namespace), a 1 MiB
file downloaded byte for byte through docker-proxy; a second runtime
with runtimeArgs ["--network=kernel"] (the flag reaches cove). Then a
second dockerd with Docker's own defaults (docker0, iptables DNAT
publishing, no docker-proxy) confined to a network namespace of the
test's, where -p reaches a Cove container through DNAT. At the end dockerd
is stopped and nothing is left: its processes, mounts under the temp
dir, the bridge and veths, cgroups and /run/docker it made, Cove's state.
"""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import ociimage  # noqa: E402
import sandbox as sb  # noqa: E402

COVE = os.path.abspath(sb.cove_bin())
DOCKER = "/usr/bin/docker"  # Debian's client, whatever else is on PATH
IMAGE = "cove-oci-test:busybox"
BRIDGE = "cvdk0"
BRIDGE_NET = "10.231.0"  # .1/24 on the bridge
BLOB = os.urandom(1 << 20)


class Dockerd:
    """A private dockerd (and the containerd it starts) under @top: on
    the host's network with --iptables=false and the test's bridge, or,
    with @netns, inside that network namespace with Docker's defaults
    (docker0, iptables DNAT publishing), all of which go with it."""

    def __init__(self, top, netns=None):
        self.top = top
        self.sock = os.path.join(top, "docker.sock")
        cfg = os.path.join(top, "daemon.json")
        with open(cfg, "w") as f:
            f.write('{"runtimes": {"cove": {"path": "%s"},\n'
                    '  "cove-kernel": {"path": "%s",\n'
                    '    "runtimeArgs": ["--network=kernel"]}},\n'
                    ' "deprecated-key-path": "%s/key.json"}\n' %
                    (COVE, COVE, top))
        self.log = open(os.path.join(top, "dockerd.log"), "w")
        net = ["--iptables=false", "--ip6tables=false", "--ip-masq=false",
               "--bridge", BRIDGE]
        pre = []
        if netns:  # not `ip netns exec`: it hides /sys/fs/cgroup
            net = ["--userland-proxy=false"]
            pre = ["nsenter", "--net=/run/netns/" + netns]
        self.proc = subprocess.Popen(
            pre + ["dockerd", "--config-file", cfg,
                   "--data-root", os.path.join(top, "data"),
                   "--exec-root", os.path.join(top, "exec"),
                   "--pidfile", os.path.join(top, "docker.pid"),
                   "-H", "unix://" + self.sock, "--storage-driver", "vfs"] +
            net, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        for _ in range(300):
            if self.proc.poll() is not None or \
                    self.docker("version").returncode == 0:
                break
            time.sleep(0.05)

    def docker(self, *args, timeout=60):
        return subprocess.run([DOCKER, "-H", "unix://" + self.sock] +
                              list(args), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def processes_under(top):
    """pids whose command line names @top (dockerd, containerd, shims,
    docker-proxy run with paths under it or connect to it)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if top in cmd or cmd.startswith("docker-proxy") or \
                "/docker-proxy " in cmd:
            found.append(pid + ": " + cmd[:120])
    return found


def mounts_under(top):
    with open("/proc/self/mounts") as fh:
        return [ln for ln in fh if " " + top in ln]


def bridge_links():
    out = subprocess.run(["ip", "-o", "link", "show", "master", BRIDGE],
                         capture_output=True, text=True).stdout
    return [ln.split(":")[1].strip() for ln in out.splitlines() if ":" in ln]


def make_bridge(c):
    used = subprocess.run(["ip", "-4", "-o", "addr", "show"],
                          capture_output=True, text=True).stdout
    if BRIDGE_NET + "." in used or os.path.exists("/sys/class/net/" + BRIDGE):
        c.check("the test's bridge %s/%s.0/24 is free" % (BRIDGE, BRIDGE_NET),
                False, used)
        c.exit()
    for cmd in (["ip", "link", "add", BRIDGE, "type", "bridge"],
                ["ip", "addr", "add", BRIDGE_NET + ".1/24", "dev", BRIDGE],
                ["ip", "link", "set", BRIDGE, "up"]):
        subprocess.run(cmd, check=True)


def check_basics(c, d):
    run = ["run", "--runtime", "cove", "--rm", IMAGE]
    r = d.docker(*run, "echo", "hi")
    c.check("docker run --runtime cove --rm IMAGE echo hi",
            r.returncode == 0 and r.stdout == "hi\n", r.stdout + r.stderr)
    r = d.docker(*run, "sh", "-c", "cat /proc/1/comm; cat /proc/net/dev")
    c.check("PID 1 is the sentry; eth0 from libnetwork's prestart hook",
            r.returncode == 0 and r.stdout.startswith("cove-sentry\n") and
            "eth0:" in r.stdout, r.stdout + r.stderr)
    for cmd, code in (("exit 0", 0), ("exit 3", 3), ("kill -9 $$", 137)):
        r = d.docker(*run, "sh", "-c", cmd)
        c.check("exit status %d passes through" % code,
                r.returncode == code, r.stderr)
    r = d.docker(*run[:-1], "--user", "1000:1000", "--cap-drop", "ALL",
                 IMAGE, "grep", "-E", "^(Uid|CapEff|CapBnd):",
                 "/proc/self/status")
    c.check("--user 1000:1000 --cap-drop ALL: that uid, no capabilities",
            r.returncode == 0 and r.stdout.split() ==
            ["Uid:"] + ["1000"] * 4 + ["CapEff:", "0" * 16,
                                       "CapBnd:", "0" * 16],
            r.stdout + r.stderr)
    r = d.docker("run", "--runtime", "cove", "--rm", "--network", "none",
                 IMAGE, "cat", "/proc/net/dev")
    c.check("--network none: loopback only", r.returncode == 0 and
            "lo:" in r.stdout and "eth0" not in r.stdout,
            r.stdout + r.stderr)


def check_detached(c, d):
    r = d.docker("run", "--runtime", "cove", "-d", "--name", "cove-dk-d1",
                 IMAGE, "sleep", "100")
    c.check("docker run -d", r.returncode == 0, r.stderr)
    r = d.docker("exec", "cove-dk-d1", "sh", "-c",
                 "cat /proc/1/comm; exit 6")
    c.check("docker exec: in the sandbox, status 6",
            r.returncode == 6 and r.stdout == "cove-sentry\n",
            r.stdout + r.stderr)
    caps = "grep -E '^(Uid|CapEff):' /proc/self/status"
    prog = d.docker("exec", "cove-dk-d1", "sh", "-c",
                    "grep -E '^(Uid|CapEff):' /proc/$(pidof sleep)/status")
    ex = d.docker("exec", "cove-dk-d1", "sh", "-c", caps)
    ex2 = d.docker("exec", "-u", "1000:1000", "cove-dk-d1", "sh", "-c", caps)
    c.check("docker exec gets the program's capabilities; exec -u 1000 "
            "none", prog.returncode == 0 and "CapEff" in prog.stdout and
            ex.stdout == prog.stdout and ex2.returncode == 0 and
            ex2.stdout.split() == ["Uid:"] + ["1000"] * 4 +
            ["CapEff:", "0000000000000000"],
            prog.stdout + ex.stdout + ex.stderr + ex2.stdout + ex2.stderr)
    t0 = time.monotonic()
    r = d.docker("stop", "-t", "5", "cove-dk-d1")
    took = time.monotonic() - t0
    st = d.docker("inspect", "--format", "{{.State.ExitCode}}", "cove-dk-d1")
    c.check("docker stop: SIGTERM ends it (143) before the timeout",
            r.returncode == 0 and st.stdout.strip() == "143" and took < 4,
            "%.1fs " % took + r.stderr + st.stdout + st.stderr)
    r = d.docker("rm", "cove-dk-d1")
    c.check("docker rm", r.returncode == 0, r.stderr)


def check_signals_limits(c, d):
    """logs, kill -s USR1 (through Cove's control channel to the
    program), pause/unpause (the freezer), --memory 64m enforced."""
    r = d.docker("run", "--runtime", "cove", "-d", "--name", "cove-dk-s",
                 IMAGE, "sh", "-c", "echo logged; trap 'echo got-usr1' "
                 "USR1; while true; do sleep 0.1; done")
    time.sleep(0.5)
    k = d.docker("kill", "-s", "USR1", "cove-dk-s")
    for _ in range(50):
        lg = d.docker("logs", "cove-dk-s")
        if "got-usr1" in lg.stdout:
            break
        time.sleep(0.1)
    c.check("docker logs, kill -s USR1 reaches the program's trap",
            r.returncode == 0 and k.returncode == 0 and
            lg.stdout == "logged\ngot-usr1\n", r.stderr + k.stderr +
            lg.stdout + lg.stderr)
    p = d.docker("pause", "cove-dk-s")
    st = d.docker("inspect", "-f", "{{.State.Status}}", "cove-dk-s")
    u = d.docker("unpause", "cove-dk-s")
    st2 = d.docker("inspect", "-f", "{{.State.Status}}", "cove-dk-s")
    c.check("docker pause / unpause: paused, then running",
            p.returncode == 0 and st.stdout.strip() == "paused" and
            u.returncode == 0 and st2.stdout.strip() == "running",
            p.stderr + st.stdout + u.stderr + st2.stdout)
    d.docker("rm", "-f", "cove-dk-s")
    grow = 'x=$(head -c 134217728 /dev/zero | tr "\\0" a); echo ok'
    r = d.docker("run", "--runtime", "cove", "--rm", "--memory", "64m",
                 IMAGE, "sh", "-c", grow)
    c.check("--memory 64m: allocating 128 MiB dies with 137",
            r.returncode == 137, r.stdout + r.stderr)


def check_tty(c, d):
    """docker run -it through a pty (driven by script): the shim's
    console socket, as for ctr run -t."""
    cmd = " ".join([DOCKER, "-H", "unix://" + d.sock, "run", "--runtime",
                    "cove", "-it", "--rm", IMAGE, "sh"])
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"],
                       input="echo in-shell-$((6*7)); tty; exit 4\n",
                       capture_output=True, text=True, timeout=30)
    c.check("docker run -it: input, tty, exit status 4",
            r.returncode == 4 and "in-shell-42" in r.stdout and
            "/dev/pts/0" in r.stdout, r.stdout + r.stderr)


def check_publish(c, d):
    """-p HOST:80 to busybox httpd: docker-proxy on the host connects to
    the container's address on the bridge, where the stack answers."""
    port = sb.free_port("127.0.0.1")
    r = d.docker("run", "--runtime", "cove", "-d", "--name", "cove-dk-web",
                 "-p", "127.0.0.1:%d:80" % port, IMAGE, "httpd", "-f", "-p",
                 "80", "-h", "/www")
    ip = d.docker("inspect", "--format",
                  "{{.NetworkSettings.IPAddress}}", "cove-dk-web"
                  ).stdout.strip()
    pid = d.docker("inspect", "--format", "{{.State.Pid}}", "cove-dk-web"
                   ).stdout.strip()
    ok = r.returncode == 0 and ip and sb.wait_port(ip, 80)
    g = subprocess.run(["curl", "-sS", "--max-time", "10",
                        "http://127.0.0.1:%d/blob" % port],
                       capture_output=True)
    c.check("-p %d:80: 1 MiB from httpd in the container, byte for byte"
            % port, ok and g.stdout == BLOB,
            "%s %d bytes %s" % (r.stderr, len(g.stdout), g.stderr))
    ss = subprocess.run(["nsenter", "--net=/proc/%s/ns/net" % pid, "ss",
                         "-Hltn", "sport = :80"], capture_output=True,
                        text=True) if pid.isdigit() else None
    c.check("the listener is the stack's (no kernel socket on :80 in the "
            "container's namespace)", ok and ss and ss.returncode == 0 and
            not ss.stdout.strip(), (ss.stdout + ss.stderr) if ss else pid)
    d.docker("rm", "-f", "cove-dk-web")


def check_runtime_args(c, d):
    """runtimeArgs reach cove as global flags: --network=kernel serves
    the container's sockets with kernel sockets of its namespace (the
    sentry's), so a listener shows there, unlike on builtin."""
    r = d.docker("run", "--runtime", "cove-kernel", "-d", "--name",
                 "cove-dk-k", IMAGE, "httpd", "-f", "-p", "80", "-h", "/www")
    ip = d.docker("inspect", "--format",
                  "{{.NetworkSettings.IPAddress}}", "cove-dk-k"
                  ).stdout.strip()
    pid = d.docker("inspect", "--format", "{{.State.Pid}}", "cove-dk-k"
                   ).stdout.strip()
    ok = r.returncode == 0 and ip and sb.wait_port(ip, 80)
    g = subprocess.run(["curl", "-sS", "--max-time", "10",
                        "http://%s/index.html" % ip], capture_output=True,
                       text=True)
    ss = subprocess.run(["nsenter", "--net=/proc/%s/ns/net" % pid, "ss",
                         "-Hltnp", "sport = :80"], capture_output=True,
                        text=True) if pid.isdigit() else None
    c.check("runtimeArgs [--network=kernel]: served, by a kernel socket "
            "of the sentry", ok and g.stdout == ociimage.INDEX and ss and
            "cove-sentry" in ss.stdout, r.stderr + g.stderr +
            (ss.stdout + ss.stderr if ss else pid))
    d.docker("rm", "-f", "cove-dk-k")


def host_nat():
    """The host's NAT rules of Docker's (its chain is DOCKER; netavark's,
    from other tests, come and go meanwhile)."""
    out = subprocess.run(["iptables", "-t", "nat", "-S"],
                         capture_output=True, text=True).stdout
    return [ln for ln in out.splitlines() if "DOCKER" in ln]


def check_iptables(c, top):
    """Docker's default publishing, iptables DNAT (no docker-proxy), with
    a dockerd confined to a network namespace of the test's: its docker0
    and rules live and die there. From that namespace, docker0's address
    and the published port reach httpd in a Cove container."""
    ns = "cove-dk-%d" % os.getpid()
    sub = os.path.join(top, "netns")
    os.mkdir(sub)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    d = None
    try:
        d = Dockerd(sub, netns=ns)
        r = d.docker("import", ociimage.busybox_tar(sub), IMAGE)
        r2 = d.docker("run", "--runtime", "cove", "-d", "--name",
                      "cove-dk-nat", "-p", "8080:80", IMAGE, "httpd", "-f",
                      "-p", "80", "-h", "/www")
        nat = subprocess.run(["ip", "netns", "exec", ns, "iptables", "-t",
                              "nat", "-S"], capture_output=True,
                             text=True).stdout
        gw = subprocess.run(["ip", "-n", ns, "-4", "-o", "addr", "show",
                             "docker0"], capture_output=True, text=True
                            ).stdout.split()
        gw = gw[3].split("/")[0] if len(gw) > 3 else ""
        for _ in range(50):
            g = subprocess.run(["nsenter", "--net=/run/netns/" + ns, "curl",
                                "-sS", "--max-time", "5",
                                "http://%s:8080/index.html" % gw],
                               capture_output=True, text=True)
            if g.stdout == ociimage.INDEX:
                break
            time.sleep(0.1)
        c.check("iptables publishing (dockerd's defaults in a namespace): "
                "-p 8080:80 through DNAT to the stack, no docker-proxy",
                r.returncode == 0 and r2.returncode == 0 and
                "DNAT" in nat and g.stdout == ociimage.INDEX and
                not [p for p in processes_under(sub) if "docker-proxy" in p],
                r.stderr + r2.stderr + nat[-400:] + g.stdout + g.stderr)
        d.docker("rm", "-f", "cove-dk-nat")
    finally:
        if d:
            d.docker("rm", "-f", "cove-dk-nat")
            d.stop()
        subprocess.run(["ip", "netns", "del", ns])


def docker_cgroups():
    return set(glob.glob("/sys/fs/cgroup/*/docker")) | \
        set(glob.glob("/sys/fs/cgroup/docker"))


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    cg_before = docker_cgroups()
    nat_before = host_nat()
    run_docker = os.path.exists("/run/docker")
    top = tempfile.mkdtemp(prefix="cove-docker-")
    make_bridge(c)
    d = None
    procs, left_mounts, links = [], [], []
    try:
        try:
            d = Dockerd(top)
            r = d.docker("info", "--format", "{{json .Runtimes}}")
            c.check("a private dockerd with the cove runtime",
                    r.returncode == 0 and '"cove"' in r.stdout,
                    r.stdout + r.stderr)
            if r.returncode:
                with open(os.path.join(top, "dockerd.log")) as fh:
                    print(fh.read()[-3000:])
                raise RuntimeError("dockerd did not start")
            tar = ociimage.busybox_tar(top, files={"/www/blob": BLOB})
            r = d.docker("import", tar, IMAGE)
            c.check("docker import", r.returncode == 0, r.stderr)
            check_basics(c, d)
            check_detached(c, d)
            check_tty(c, d)
            check_signals_limits(c, d)
            check_publish(c, d)
            check_runtime_args(c, d)
        finally:
            if d:
                for n in ("cove-dk-d1", "cove-dk-web", "cove-dk-k",
                          "cove-dk-s"):
                    d.docker("rm", "-f", n)
                d.stop()
        check_iptables(c, top)
    finally:
        procs = processes_under(top)
        for p in procs:
            os.kill(int(p.split(":")[0]), signal.SIGKILL)
        left_mounts = mounts_under(top)
        for ln in reversed(left_mounts):
            subprocess.run(["umount", "-l", ln.split()[1]])
        links = bridge_links()
        subprocess.run(["ip", "link", "del", BRIDGE])
        for cg in sorted(docker_cgroups() - cg_before, reverse=True):
            try:
                os.rmdir(cg)
            except OSError:
                pass
        if not run_docker:
            shutil.rmtree("/run/docker", ignore_errors=True)
        shutil.rmtree(top, ignore_errors=True)
    c.check("dockerd and its children gone once it stopped", not procs,
            str(procs))
    c.check("no mount left under the temp dir", not left_mounts,
            str(left_mounts))
    c.check("no veth left on the bridge when dockerd stopped", not links,
            str(links))
    c.check("no docker cgroup left", not docker_cgroups() - cg_before,
            str(docker_cgroups() - cg_before))
    c.check("the host's NAT rules as before (no DOCKER chain)",
            host_nat() == nat_before, host_nat())
    left = sb.settle(before)
    c.check("nothing of Cove's left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
