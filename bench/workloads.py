# SPDX-License-Identifier: Apache-2.0
"""Workloads: a server program, its ports, and clients that measure it.

Each workload's run(mode) starts the server under @mode, waits until its
port accepts, runs its clients (pinned to the client CPU when pinning is
on) and returns {metric: value}. run(mode, log, family=6) does the same
over IPv6: the server listens on [::] (its own option for it) and the
clients reach the mode's IPv6 address. Metric names carry their unit; the
report decides which are "higher is better". Sizes come from a Profile
(full, quick, tiny) so the same code serves `make bench`, `make bench
QUICK=1` and the smoke test in `make check`.
"""

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time

from modes import CLIENT_CPU

REDIS, HTTP, IPERF, RR = 6379, 8080, 5201, 7000


class Profile:
    """Sizes, repetitions and a client time limit (a hung client is an
    error, never a stall of the whole run)."""

    def __init__(self, name, redis_n, wrk_s, iperf_s, rr_n, start_n, runs,
                 limit_s, ipv6=None):
        self.name, self.redis_n, self.wrk_s = name, redis_n, wrk_s
        self.iperf_s, self.rr_n, self.start_n = iperf_s, rr_n, start_n
        self.runs, self.limit_s = runs, limit_s
        self.ipv6 = ipv6        # workloads also run over IPv6; None: all


PROFILES = {
    "full": Profile("full", 100000, 5, 5, 20000, 200, 3, 300),
    "quick": Profile("quick", 20000, 2, 2, 5000, 50, 1, 45),
    # make check's smoke test: IPv6 for two workloads keeps it short
    "tiny": Profile("tiny", 2000, 1, 1, 500, 5, 1, 60,
                    ipv6=("redis", "tcp_rr")),
}


def url_host(addr):
    """@addr as the host part of a URL: IPv6 in brackets."""
    return "[%s]" % addr if ":" in addr else addr


def client(argv, pin, timeout):
    """Run a load generator to completion; its stdout, or raise."""
    name = argv[0]
    if pin:
        argv = ["taskset", "-c", CLIENT_CPU] + argv
    try:
        r = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError("%s did not finish within %ds" % (name, timeout))
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (name, r.returncode,
                                                 (r.stderr or r.stdout)[-300:]))
    return r.stdout


HOST_DIR = "/var/lib/cove-bench"


class Workload:
    name = "?"
    ports = ()
    family = 4

    def __init__(self, prof, pin, tools):
        self.prof, self.pin, self.tools = prof, pin, tools

    def server(self, tmp):
        raise NotImplementedError

    def measure(self, where):
        raise NotImplementedError

    def run(self, mode, log, family=4):
        # Not under /tmp: a default sandbox has a private /tmp and sees the
        # host's tree read-only, as an unprivileged uid (docs/SANDBOX.md).
        os.makedirs(HOST_DIR, mode=0o755, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="cvb-", dir=HOST_DIR) as tmp:
            os.chmod(tmp, 0o755)
            self.family = family
            where = mode.start(self.server(tmp), self.ports, log, family)
            self.mode = mode
            try:
                for p in self.ports:
                    mode.wait_ready(p, where[p])
                return self.measure(where)
            finally:
                mode.stop()
                self.cleanup()

    def cleanup(self):
        """Remove what the server wrote outside @tmp (nothing by default)."""


class Redis(Workload):
    """redis-benchmark -t get,set -c 50, without and with -P 16."""

    name = "redis"
    ports = (REDIS,)

    def server(self, tmp):
        return ["redis-server", "--port", str(REDIS), "--bind",
                "::" if self.family == 6 else "0.0.0.0",
                "--protected-mode", "no", "--save", "", "--appendonly", "no",
                "--dir", tmp]

    def ready(self, addr, port):
        """Wait for PONG: redis answers its protocol, not just a SYN.

        redis-benchmark 7.0 spins forever at 100% CPU (no syscalls) when
        its first connection is refused, so it must not be the probe.
        """
        end = time.monotonic() + 20
        while time.monotonic() < end:
            r = subprocess.run(["redis-cli", "-h", addr, "-p", str(port),
                                "ping"], capture_output=True, text=True,
                               timeout=10)
            if r.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis at %s:%d never answered PING" %
                           (addr, port))

    def measure(self, where):
        addr, port = where[REDIS]
        self.ready(addr, port)
        out = {}
        for pipe in (1, 16):
            text = client(["redis-benchmark", "-h", addr, "-p", str(port),
                           "-t", "get,set", "-c", "50",
                           "-n", str(self.prof.redis_n), "-P", str(pipe),
                           "--csv"], self.pin, self.prof.limit_s)
            for line in text.splitlines()[1:]:
                f = [x.strip('"') for x in line.split(",")]
                if len(f) < 7:
                    continue
                key = "%s%s" % (f[0].lower(), "" if pipe == 1 else "_P16")
                out[key + " rps"] = float(f[1])
                out[key + " p50 ms"] = float(f[4])
                out[key + " p99 ms"] = float(f[6])
        if not out:
            raise RuntimeError("redis-benchmark printed no results")
        return out


NGINX_CONF = """
daemon off;
master_process on;
worker_processes 2;
pid {run}/nginx.pid;
error_log {run}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    keepalive_requests 1000000;
    server {{
        listen {listen};
        root {tmp}/www;
    }}
}}
"""


class Nginx(Workload):
    """wrk against nginx (master + 2 workers), keep-alive and close."""

    name = "nginx"
    ports = (HTTP,)

    def server(self, tmp):
        os.mkdir(os.path.join(tmp, "www"))
        with open(os.path.join(tmp, "www", "index.html"), "wb") as f:
            f.write(bytes(range(256)) * 4)         # 1 KiB
        # What nginx writes goes to /tmp: the sandbox's own (the host's
        # tree, @tmp included, is read-only inside), or the host's.
        run = self.run_dir = "/tmp/cvb-nginx-%d" % os.getpid()
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(
                tmp=tmp, run=run, listen=("[::]:%d" % HTTP
                                          if self.family == 6 else HTTP)))
        return ["sh", "-c", 'mkdir -p "$1" && exec nginx -c "$2" -e "$1/error.log"',
                "nginx", run, conf]

    def cleanup(self):
        """The pid, log and temp files: in the host's /tmp in host modes
        (a sandbox's /tmp goes with it)."""
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def measure(self, where):
        addr, port = where[HTTP]
        url = "http://%s:%d/index.html" % (url_host(addr), port)
        out = {}
        for label, extra in (("keepalive", []),
                             ("close", ["-H", "Connection: close"])):
            text = client(["wrk", "-t", "1", "-c", "50",
                           "-d", "%ds" % self.prof.wrk_s] + extra + [url],
                          self.pin, self.prof.limit_s)
            rps = None
            total = errors = 0
            for line in text.splitlines():
                f = line.replace(",", " ").split()
                if line.startswith("Requests/sec:"):
                    rps = float(f[1])
                elif "requests in" in line:
                    total = int(f[0])
                elif line.strip().startswith("Socket errors:"):
                    errors += sum(int(x) for x in f if x.isdigit())
                elif "Non-2xx" in line:
                    errors += int(f[-1])
            if rps is None:
                raise RuntimeError("wrk printed no rate: " + text[-200:])
            # A few timeouts under load are a result (reported), more
            # than 1% of the requests is a broken measurement.
            if errors > max(10, total // 100):
                raise RuntimeError("wrk: %d errors in %d requests" %
                                   (errors, total))
            out[label + " errors"] = errors
            out[label + " req/s"] = rps
        return out


class Iperf(Workload):
    """iperf3 to (in) and from (out) the sandbox, one stream."""

    name = "iperf3"
    ports = (IPERF,)

    def server(self, tmp):
        # iperf3 listens on [::] (IPv4 as mapped addresses) by default.
        return ["iperf3", "-s", "-p", str(IPERF)]

    def measure(self, where):
        addr, port = where[IPERF]
        out = {}
        for label, extra in (("in", []), ("out", ["-R"])):
            text = client(["iperf3", "-c", addr, "-p", str(port), "-J",
                           "-t", str(self.prof.iperf_s)] + extra,
                          self.pin, self.prof.limit_s)
            res = json.loads(text)
            if "error" in res:
                raise RuntimeError("iperf3: " + res["error"])
            bps = res["end"]["sum_received"]["bits_per_second"]
            out[label + " Gbit/s"] = bps / 1e9
        return out


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


class RoundTrip(Workload):
    """1-byte TCP request/response latency (bench/rr)."""

    name = "tcp_rr"
    ports = (RR,)

    def server(self, tmp):
        return [self.tools["rr"], "server", str(RR),
                "::" if self.family == 6 else "0.0.0.0"]

    def measure(self, where):
        addr, port = where[RR]
        text = client([self.tools["rr"], "client", addr, str(port),
                       str(self.prof.rr_n)], self.pin, self.prof.limit_s)
        us = [int(x) / 1000.0 for x in text.split()]
        self.samples = us
        return {"p50 us": percentile(us, 0.5), "p99 us": percentile(us, 0.99)}


def _tree(root):
    """@root and every process below it (host pids, from /proc)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def _cpu_ns(pids):
    """Time on a CPU of @pids' threads, ns (/proc/PID/task/*/schedstat:
    exact, where utime/stime count 10 ms ticks); gone ones count 0."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tids:
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
            except (OSError, IndexError, ValueError):
                pass
    return total


def _children_ns():
    """CPU time of this process's waited-for children so far, ns."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1e9


class RateCost(Workload):
    """CPU per request at a fixed rate (bench/rr paced at RATE_RPS).

    Every mode answers the same requests at the same rate, so the client
    cannot cap anything and the figure is efficiency: the CPU time the
    server side spent per request (for a sandbox: cove run, the sentry and
    the program; for pasta and slirp4netns their helper too; for host the
    server alone), and that plus the client's. On a veth the sender's
    context runs the receiver's kernel stack, so part of each side's
    kernel work is charged to the other: the sum is the one to compare.
    /proc/stat's busy time was tried for the whole machine and dropped:
    it samples at the tick and missed most of these short wakeups.
    """

    name = "cpu_per_req"
    ports = (RR,)
    RATE_RPS = 2000

    def server(self, tmp):
        return [self.tools["rr"], "server", str(RR),
                "::" if self.family == 6 else "0.0.0.0"]

    def _pids(self):
        pids = []
        for attr in ("proc", "helper"):
            p = getattr(self.mode, attr, None)
            if p is not None:
                pids += _tree(p.pid)
        return pids

    def measure(self, where):
        addr, port = where[RR]
        n = self.RATE_RPS * max(1, self.prof.iperf_s)
        pids = self._pids()
        srv0, cli0 = _cpu_ns(pids), _children_ns()
        client([self.tools["rr"], "client", addr, str(port), str(n),
                str(self.RATE_RPS)], self.pin, self.prof.limit_s)
        srv1, cli1 = _cpu_ns(pids), _children_ns()
        srv = (srv1 - srv0) / 1e3 / n
        return {"server cpu us/req": srv,
                "server+client cpu us/req": srv + (cli1 - cli0) / 1e3 / n}


ALL = [Redis, Nginx, Iperf, RoundTrip, RateCost]
