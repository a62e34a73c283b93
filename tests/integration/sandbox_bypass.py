#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cove-plugin run --link=xdp and --link=dpdk[:DEVARGS]: the sandbox's stack
on eth0 by kernel bypass, for xdp and for each DPDK PMD that runs here
(net_af_packet0, the default; net_af_xdp0; net_tap0, spliced to eth0):

  - the default cove refuses --link=xdp and --link=dpdk with one line and
    exit 125;
  - out and in: sandbox_bulk.py's 24 MiB echoed both ways at once, and an
    echo server inside fed by a slow reader on the host, byte for byte;
  - curl from the host to a server inside, and nginx (a master and two
    workers, sendfile) serving 4 clients x 2 keep-alive fetches of 3 MiB,
    byte for byte;
  - redis-server inside: PING, redis-benchmark -P 16, then an idle sentry
    under 1% of a core over 10 s (xdp: need_wakeup, no syscalls at idle;
    dpdk: interrupt mode or the adaptive sleep, docs/LINKS.md);
  - --netns=PATH (the netns outlives the sandbox), for the links that load
    an XDP program (xdp, dpdk:net_af_xdp0): after a clean exit and after
    SIGKILL of the sentry, eth0 in that netns has no XDP program and no
    ingress-drop qdisc;
  - for those links too: 50 start/stop cycles, then no interface of the
    host has an XDP program and no file was left in /dev/shm or DPDK's
    runtime directories;
  - nothing left behind (veths, state, processes).
Fails without cove-plugin (the only binary with these links).
"""

import concurrent.futures
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sandbox as sb  # noqa: E402
import netns  # noqa: E402
import sandbox_bulk as bulk  # noqa: E402

SERVE = ["/usr/bin/python3", "-m", "http.server", "8000", "--bind", "0.0.0.0"]


# --link values, and whether the link puts an XDP program on eth0
LINKS = [("xdp", True), ("dpdk", False), ("dpdk:net_af_xdp0", True),
         ("dpdk:net_tap0", False)]


def plugin_box(link, cmd, extra=()):
    box = sb.Sandbox(cmd, network="builtin", extra=["--link=" + link] +
                     list(extra))
    box.args[0] = sb.plugin_bin()
    return box


def check_refused(c):
    for kind in ("xdp", "dpdk", "dpdk:net_tap0"):
        r = subprocess.run([sb.cove_bin(), "run", "--link=" + kind, "--",
                            "/bin/true"], capture_output=True, text=True,
                           timeout=30)
        lines = r.stderr.strip().splitlines()
        c.check("cove: --link=%s refused with one line, exit 125" % kind,
                r.returncode == 125 and len(lines) == 1 and
                "no %s link" % kind.split(":")[0] in lines[0],
                "%d %r" % (r.returncode, r.stderr))


def check_bulk(c, link):
    data, want = bulk.expect()
    port = sb.free_port()
    echo = sb.HostTcpEcho(port)
    t0 = time.monotonic()
    r = subprocess.run([sb.plugin_bin(), "run", "--link=" + link, "--",
                        "/usr/bin/python3", "-c", bulk.INSIDE_CLIENT,
                        "%s:%d" % (sb.GATEWAY, port), str(bulk.SIZE)],
                       capture_output=True, text=True, timeout=120)
    dt = time.monotonic() - t0
    c.check("%s: out, 24 MiB echoed intact (%.1f MB/s)" %
            (link, 2 * bulk.SIZE / dt / 1e6), r.stdout.strip() == want,
            r.stdout + r.stderr[-300:])
    echo.close()

    box = bulk.inbound(c, link, "builtin", ["--link=" + link], data, want,
                       binary=sb.plugin_bin())
    box.stop()


def check_curl(c, ip, what):
    c.check(what + ": serves " + ip, sb.wait_port(ip, 8000))
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                        "-w", "%{http_code}", "http://%s:8000/" % ip],
                       capture_output=True, text=True)
    c.check(what + ": curl", r.stdout == "200", r.stdout + r.stderr)


def check_nginx(c, link, d, big):
    """nginx inside on @link: 4 clients x 2 keep-alive fetches of 3 MiB."""
    box = plugin_box(link, ["nginx", "-c", os.path.join(d, "nginx.conf"),
                            "-p", d]).start()
    try:
        c.check(link + ": nginx listening", sb.wait_port(box.ip, 8080))
        url = "http://%s:8080/big.bin" % box.ip

        def fetch(_):
            r = subprocess.run(["curl", "-sS", "--max-time", "30", url, url],
                               capture_output=True)
            return r.returncode == 0 and r.stdout == big + big, \
                r.stderr[-200:]

        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            res = list(ex.map(fetch, range(4)))
        c.check(link + ": nginx, 4 clients x 2 keep-alive fetches of 3 MiB "
                "intact", all(r[0] for r in res),
                str([r[1] for r in res if not r[0]][:2]))
    finally:
        rc = box.stop()
    c.check(link + ": nginx stopped by SIGTERM", rc == 0, str(rc))


def ticks(pid):
    """utime + stime of @pid, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def check_redis_idle(c, link):
    """redis-server inside: answers, pipelined; idle, the sentry sleeps."""
    box = plugin_box(link, ["redis-server", "--port", "6379", "--save", "",
                      "--appendonly", "no", "--protected-mode", "no"])
    box.start()
    up = sb.wait_port(box.ip, 6379)
    c.check(link + " redis listening", up)
    if up:
        r = subprocess.run(["redis-cli", "-h", box.ip, "PING"],
                           capture_output=True, text=True, timeout=30)
        c.check(link + " redis PING", r.stdout.strip() == "PONG", r.stderr)
        r = subprocess.run(["redis-benchmark", "-h", box.ip, "-q", "-n",
                            "20000", "-c", "10", "-P", "16", "-t", "set,get"],
                           capture_output=True, text=True, timeout=120)
        out = r.stdout.replace("\r", "\n")
        c.check(link + " redis-benchmark -P 16", out.count(
            "requests per second") == 2, out[-300:] + r.stderr[-200:])
        print("    " + " ".join(line.strip() for line in out.splitlines()
                                if "requests per second" in line))
        spid = box.sentry_pid()
        c.check(link + " sentry pid known", spid is not None)
        if spid:
            time.sleep(1.0)	# connections closing
            t1 = ticks(spid)
            time.sleep(10.0)
            used = ticks(spid) - t1
            hz = os.sysconf("SC_CLK_TCK")
            # under 1% of a core over 10 s
            c.check("%s: idle sentry under 1%% of a core over 10 s "
                    "(%d ticks)" % (link, used), used < hz * 10 // 100)
    box.stop()


def xdp_on(ns, ifname):
    out = ns.run("ip", "-o", "link", "show", "dev", ifname).stdout
    return any(w.startswith("xdp") for w in out.split())


def gone(ns, ifname, seconds=3):
    end = time.monotonic() + seconds
    while xdp_on(ns, ifname):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def check_netns(c, link):
    ns = netns.Netns(netns.unique("sbxxdp"))
    host_if = "cvx%d" % (os.getpid() % 100000)
    try:
        netns.sh("ip", "link", "add", host_if, "type", "veth", "peer",
                 "name", "eth0", "netns", ns.name)
        netns.sh("ip", "addr", "add", "10.89.8.1/24", "dev", host_if)
        netns.sh("ip", "link", "set", host_if, "up")
        # what an orchestrator must do for an xdp link (docs/LINKS.md)
        netns.sh("ethtool", "-K", host_if, "tso", "off", "gso", "off",
                 "tx", "off")
        ns.ip("addr", "add", "10.89.8.2/24", "dev", "eth0")
        ns.ip("link", "set", "eth0", "up")
        ns.ip("route", "add", "default", "via", "10.89.8.1")
        for how in ("exit", "SIGKILL"):
            what = "%s --netns, %s" % (link, how)
            box = plugin_box(link, SERVE,
                             ["--netns", "/run/netns/" + ns.name])
            box.start()
            check_curl(c, "10.89.8.2", what)
            c.check(what + ": XDP program on eth0 while serving",
                    xdp_on(ns, "eth0"))
            if how == "SIGKILL":
                pid = box.sentry_pid()
                c.check(what + ": sentry pid known", pid is not None)
                if pid:
                    os.kill(pid, signal.SIGKILL)
            box.stop()
            c.check(what + ": no XDP program left on eth0",
                    gone(ns, "eth0"))
            out = ns.run("tc", "qdisc", "show", "dev", "eth0").stdout
            c.check(what + ": no clsact qdisc (ingress drop) left on eth0",
                    "clsact" not in out, out)
    finally:
        ns.delete()
        netns.sh("ip", "link", "del", host_if, check=False)


CYCLES = 50


def host_files():
    """Files DPDK or a link could leave on the host: /dev/shm, DPDK's
    runtime directories."""
    out = set()
    for d in ("/dev/shm", "/run/dpdk", "/var/run/dpdk", "/tmp/dpdk"):
        for root, _, files in os.walk(d):
            out.update(os.path.join(root, f) for f in files)
    return out


def check_cycles(c, link):
    """CYCLES start/stop cycles: every one exits 0, and afterwards no
    interface of the host has an XDP program and no file was left."""
    files = host_files()
    bad = []
    t0 = time.monotonic()
    for i in range(CYCLES):
        r = subprocess.run([sb.plugin_bin(), "run", "--link=" + link, "--",
                            "/bin/true"], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            bad.append((i, r.returncode, r.stderr[-200:]))
    c.check("%s: %d start/stop cycles, all exit 0 (%.1f s)" %
            (link, CYCLES, time.monotonic() - t0), not bad, str(bad[:3]))
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True,
                         text=True).stdout
    c.check("%s: after the cycles no interface has an XDP program" % link,
            not any(w.startswith("xdp") for w in out.split()), out)
    left = host_files() - files
    c.check("%s: after the cycles no file left in /dev/shm or DPDK's "
            "runtime dirs" % link, not left, str(sorted(left)[:5]))


def main():
    c = sb.Checks()
    if not sb.plugin_bin():
        c.check("cove-plugin built (it has the xdp and dpdk links)", False)
        c.exit()
    before = sb.Snapshot()
    check_refused(c)
    d = sb.host_dir(prefix="cove-bypass-")
    os.mkdir(os.path.join(d, "html"))
    big = os.urandom(3 << 20)
    with open(os.path.join(d, "html", "big.bin"), "wb") as f:
        f.write(big)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(sb.nginx_conf(d, "  sendfile on;\n  keepalive_timeout 30;"))
    try:
        for link, xdp in LINKS:
            check_bulk(c, link)
            box = plugin_box(link, SERVE).start()
            check_curl(c, box.ip, link)
            box.stop()
            check_nginx(c, link, d, big)
            check_redis_idle(c, link)
            if xdp:
                check_netns(c, link)
                check_cycles(c, link)
    finally:
        shutil.rmtree(d)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
