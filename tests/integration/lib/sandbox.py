# SPDX-License-Identifier: Apache-2.0
"""Helpers for the `cove run` end-to-end tests (tests/integration/sandbox_*.py).

Theory of operation: a Sandbox is one `cove run --verbose ...` child
process; start() waits for its "program running" line and learns the
sandbox address from the "sandbox address A.B.C.D/N" line, so tests never
guess addresses. Every Sandbox is registered and killed at exit (atexit and
SIGTERM). Host-side peers (HostTcpEcho, HostUdpEcho) bind to the gateway
with IP_FREEBIND before the veth exists, so they only ever talk to
sandboxes over the veth pairs `cove run` makes. Snapshot() records what a
sandbox could leave behind (links, netns, /run/cove entries, nftables
tables of --publish, sentries) and
diff() tells what changed.
"""

import atexit
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
GATEWAY = "10.209.0.1"
GATEWAY6 = "fd63:6f76:6500::1"   # the IPv6 pool's host side (sandbox.h)
IPV6_FREEBIND = 78
IP_FREEBIND = 15

_live = []


def _default_cove():
    if os.environ.get("COVE"):
        return os.environ["COVE"]
    for d in ("build", "build-sbx"):
        p = os.path.join(TOP, d, "src", "cli", "cove")
        if os.path.exists(p):
            return p
    sys.exit("no cove binary: build first or set COVE")


def plugin_bin():
    """cove-plugin next to cove ($COVE_PLUGIN overrides), or None."""
    p = os.environ.get("COVE_PLUGIN") or os.path.join(
        os.path.dirname(_default_cove()), "cove-plugin")
    return p if os.access(p, os.X_OK) else None


def _stack_names(binary):
    out = subprocess.run([binary, "stacks"], capture_output=True,
                         text=True, check=True).stdout
    names = []
    for line in out.splitlines()[1:]:
        if not line.startswith("  "):
            break
        names.append(line.split()[0])
    return names


_plugin_only = None


def plugin_only():
    """Stacks only cove-plugin has (lwip): run with cove-plugin."""
    global _plugin_only
    if _plugin_only is None:
        p = plugin_bin()
        base = _stack_names(_default_cove())
        _plugin_only = [n for n in _stack_names(p) if n not in base] \
            if p else []
    return _plugin_only


def cove_bin(network=None):
    """The binary for @network: cove-plugin for plugin-only stacks (lwip),
    else cove ($COVE, else the first build dir that has one)."""
    if network in plugin_only():
        return plugin_bin()
    return _default_cove()


def sockcheck_bin():
    """The tests/sandbox/sockcheck helper of the cove binary's build ($SOCKCHECK
    overrides: an ASan-built helper cannot run inside, where ptrace, which
    LeakSanitizer needs, is denied)."""
    if os.environ.get("SOCKCHECK"):
        return os.environ["SOCKCHECK"]
    build = os.path.dirname(os.path.dirname(os.path.dirname(cove_bin())))
    p = os.path.join(build, "tests", "sandbox", "sockcheck")
    return p


def stacks():
    """Every provider to test: cove's (`cove stacks`) and then those only
    cove-plugin has, so each suite runs on lwip as on builtin."""
    return _stack_names(_default_cove()) + plugin_only()


# The providers that serve AF_INET6 (all of Cove's since stack ABI v2); one
# not listed must answer socket(AF_INET6) with EAFNOSUPPORT (docs/SANDBOX.md).
# Every test that asks ipv6_stack() expects IPv6 of these (sandbox_ipv6.py,
# sandbox_semantics.py's inet6 line).
IPV6_STACKS = ("builtin", "kernel", "lwip")


def ipv6_stack(network):
    """Does @network (a --network value, "host" included) serve IPv6?"""
    return network == "host" or network.split("+")[0] in IPV6_STACKS


def run(args, **kw):
    """`cove run ARGS` to completion; CompletedProcess with text output."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    net = None
    for a in args:
        if a.startswith("--network="):
            net = a.split("=", 1)[1]
    return subprocess.run([cove_bin(net), "run"] + list(args), **kw)


def stats(name):
    """`cove stats NAME` as a dict: counters as ints, "stack" as its name;
    empty if the call failed."""
    r = subprocess.run([cove_bin(), "stats", name], capture_output=True,
                       text=True, timeout=30)
    out = {}
    for line in r.stdout.splitlines() if r.returncode == 0 else []:
        k, _, v = line.partition(" ")
        out[k] = int(v) if v.isdigit() else v
    return out


class Sandbox:
    """One `cove run --verbose` in the background."""

    def __init__(self, cmd, network="kernel", extra=(), stdout=None,
                 env=None):
        self.cmd = list(cmd)
        self.env = None if env is None else dict(os.environ, **env)
        self.network = network
        self.args = [cove_bin(network), "run", "--verbose",
                     "--network=" + network] + list(extra) + ["--"] + self.cmd
        self.stdout = stdout if stdout is not None else subprocess.DEVNULL
        self.proc = None
        self.ip = None
        self.ip6 = None     # "sandbox IPv6 address ADDR/N", if it has one
        self.name = None
        self.log = []

    def start(self, timeout=15):
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=self.stdout,
                                     stderr=subprocess.PIPE, text=True,
                                     env=self.env)
        _live.append(self)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"sandbox address ([0-9.]+)/", line)
            if m:
                self.ip = m.group(1)
            m = re.search(r"sandbox IPv6 address ([0-9a-f:]+)/", line)
            if m:
                self.ip6 = m.group(1)
            m = re.search(r"state /run/cove/(\S+),", line)
            if m:
                self.name = m.group(1)
            if "program running" in line:
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("cove run did not start: " + "".join(self.log))

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Signal cove run and wait; return its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        if self in _live:
            _live.remove(self)
        return rc

    def sentry_pid(self):
        """Host pid of this sandbox's sentry (the child of cove run)."""
        try:
            with open("/run/cove/%s/pid" % self.name) as f:
                return int(f.read().split()[0])
        except OSError:
            return None


# An unreachable route for the whole sandbox range while tests run: each
# sandbox's /32 to its veth is more specific and wins, so only an address
# without a live sandbox (not up yet, or gone) hits it, and a connection to
# it fails here instead of following the default route off the machine.
FENCE = "10.209.0.0/16"
_fenced = subprocess.run(["ip", "route", "add", "unreachable", FENCE],
                         capture_output=True).returncode == 0


def _unfence():
    global _fenced
    if _fenced:
        subprocess.run(["ip", "route", "del", "unreachable", FENCE],
                       capture_output=True)
        _fenced = False


def cleanup():
    for sb in list(_live):
        try:
            sb.proc.kill()
            sb.proc.wait(5)
        except Exception:
            pass
        _live.remove(sb)
    subprocess.run([cove_bin(), "gc"], capture_output=True)


def _on_term(signum, frame):
    cleanup()
    _unfence()
    os._exit(128 + signum)


atexit.register(_unfence)     # atexit is LIFO: runs after cleanup()
atexit.register(cleanup)
signal.signal(signal.SIGTERM, _on_term)


def wait_port(ip, port, timeout=15):
    """Wait until a TCP connect to ip:port succeeds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((ip, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _freebind(sock):
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
    else:
        sock.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)


class HostTcpEcho:
    """TCP echo on the gateway: echoes everything, closes after EOF."""

    def __init__(self, port=0, ip=GATEWAY):
        self.sock = socket.socket(socket.AF_INET6 if ":" in ip else
                                  socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        _freebind(self.sock)
        self.sock.bind((ip, port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(c,), daemon=True).start()

    @staticmethod
    def _echo(c):
        with c:
            while True:
                try:
                    d = c.recv(65536)
                except OSError:
                    return
                if not d:
                    return
                c.sendall(d)

    def close(self):
        self.sock.close()


class HostUdpEcho:
    """UDP echo on the gateway."""

    def __init__(self, port=0, ip=GATEWAY):
        self.sock = socket.socket(socket.AF_INET6 if ":" in ip else
                                  socket.AF_INET, socket.SOCK_DGRAM)
        _freebind(self.sock)
        self.sock.bind((ip, port))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                d, a = self.sock.recvfrom(65536)
                self.sock.sendto(d, a)
            except OSError:
                return

    def close(self):
        self.sock.close()


class HostHttp:
    """An HTTP server on the gateway answering every GET with @body."""

    def __init__(self, body, port=0):
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def server_bind(self):
                _freebind(self.socket)
                super().server_bind()

        self.srv = Server((GATEWAY, port), Handler)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


NGINX_CONF = """daemon off;
user root;
master_process on;
worker_processes 2;
error_log stderr warn;
pid %(run)s/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
%(http)s
  client_body_temp_path %(run)s/body;
  proxy_temp_path %(run)s/proxy;
  fastcgi_temp_path %(run)s/fcgi;
  uwsgi_temp_path %(run)s/uwsgi;
  scgi_temp_path %(run)s/scgi;
  server { listen %(listen)s; root %(d)s/html; }
}
"""


def nginx_conf(d, http="", listen="8080", run="/tmp"):
    """nginx.conf text for a server in @d (root @d/html, port 8080), with
    @http lines added to its http block and @listen as its listen
    directive's parameters (e.g. "8080 reuseport"), or a list of them for
    one listen directive each (["80", "[::]:80"]). Its pid file and temp
    directories go to @run: the sandbox's private /tmp by default, as the
    host's tree (and so @d) is read-only inside."""
    if not isinstance(listen, str):
        listen = "; listen ".join(listen)
    return NGINX_CONF % {"d": d, "http": http, "listen": listen, "run": run}


HOST_DIR_BASE = "/var/lib/cove-tests"


def host_dir(prefix="cove-"):
    """A fresh host directory the default sandbox can read: not under /tmp
    (the sandbox has its own) and world-readable (the sandbox's root is an
    unprivileged host uid). Read-only inside; remove it with shutil.rmtree."""
    os.makedirs(HOST_DIR_BASE, mode=0o755, exist_ok=True)
    d = tempfile.mkdtemp(prefix=prefix, dir=HOST_DIR_BASE)
    os.chmod(d, 0o755)
    return d


def free_port(ip=GATEWAY):
    """A TCP port that is free on ip (and port+1 too, left closed)."""
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    while True:
        s = socket.socket(fam)
        _freebind(s)
        s.bind((ip, 0))
        p = s.getsockname()[1]
        s.close()
        t = socket.socket(fam)
        _freebind(t)
        try:
            t.bind((ip, p + 1))
            t.close()
            return p
        except OSError:
            t.close()


def _live_sandbox_ips():
    """Addresses of sandboxes alive now (their lock is held), anyone's.

    Liveness is read from /proc/locks (a flock on the lock file's inode),
    never by taking the lock, which could make a starting cove run fail.
    """
    locked = set()
    with open("/proc/locks") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 5 and parts[1] == "FLOCK":
                locked.add(int(parts[5].split(":")[-1]))
    live = {}
    if not os.path.isdir("/run/cove"):
        return live, locked
    for name in os.listdir("/run/cove"):
        d = os.path.join("/run/cove", name)
        try:
            if os.stat(os.path.join(d, "lock")).st_ino not in locked:
                continue
            with open(os.path.join(d, "ip")) as f:
                live[name] = f.read().strip()
        except OSError:
            continue
    return live, locked


def _ip_hex(ip):
    return "%08x" % int.from_bytes(socket.inet_aton(ip), "big")


# Orphans of our own cove runs (a sentry whose runtime died) become our
# children, so leftovers are told from other people's sandboxes running
# on the same machine at the same time.
PR_SET_CHILD_SUBREAPER = 36
try:
    import ctypes
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
except OSError:
    pass


class Snapshot:
    """What sandboxes may leave behind, at one moment.

    Other engineers' sandboxes may start and stop meanwhile, so a
    difference counts only if it is a leftover: a state dir whose lock
    nobody holds, a veth or nft table of no live sandbox, a sentry that
    descends from this test process.
    """

    def __init__(self):
        out = subprocess.run(["ip", "-o", "link", "show"],
                             capture_output=True, text=True).stdout
        self.links = {l.split(":")[1].strip().split("@")[0]
                      for l in out.splitlines() if ":" in l}
        self.netns = set(subprocess.run(["ip", "netns", "list"],
                                        capture_output=True,
                                        text=True).stdout.split())
        self.state = set(os.listdir("/run/cove")) - {".lock"} \
            if os.path.isdir("/run/cove") else set()
        out = subprocess.run(["nft", "list", "tables"], capture_output=True,
                             text=True).stdout
        self.nft = {l.split()[-1] for l in out.splitlines()
                    if l.split() and l.split()[-1].startswith("cove_")}
        self.live, _ = _live_sandbox_ips()
        parents, comms = {}, {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    st = f.read()
                comms[int(pid)] = st[st.index("(") + 1:st.rindex(")")]
                rest = st[st.rindex(")") + 2:].split()
                parents[int(pid)] = int(rest[1])
                if rest[0] == "Z" and int(rest[1]) == os.getpid() and \
                        comms[int(pid)] == "cove-sentry":
                    # An orphaned sentry that died: reap it (ours only).
                    os.waitpid(int(pid), os.WNOHANG)
                    del comms[int(pid)]
            except (OSError, ValueError, IndexError, ChildProcessError):
                pass
        me = os.getpid()
        self.sentries = set()
        for pid, comm in comms.items():
            if comm != "cove-sentry":
                continue
            p = pid
            for _ in range(64):
                p = parents.get(p, 0)
                if p in (0, 1) or p == me:
                    break
            if p == me:
                self.sentries.add(pid)

    def diff(self, before):
        """What is here now and was not in @before, as a dict (empty: none)."""
        d = {}
        live_hex = {_ip_hex(ip) for ip in self.live.values() if ip}
        links = {l for l in self.links - before.links
                 if (re.match(r"cv[0-9a-f]{8}$", l) and l[2:] not in live_hex)
                 or l.startswith("cvo")}
        if links:
            d["links"] = sorted(links)
        # Other suites (stack-serve's cv-serve-*) may run at the same time:
        # only names a sandbox test or cove could make count.
        netns = {n for n in self.netns - before.netns
                 if n.startswith(("cove", "cv-sbx"))}
        if netns:
            d["netns"] = sorted(netns)
        state = {n for n in self.state - before.state if n not in self.live}
        if state:
            d["state"] = sorted(state)
        nft = {t for t in self.nft - before.nft if t[5:] not in live_hex}
        if nft:
            d["nft"] = sorted(nft)
        if self.sentries - before.sentries:
            d["sentries"] = sorted(self.sentries - before.sentries)
        return d


def wait_teardowns(timeout=10):
    """Wait until no sandbox is "stopping": cove run leaves its teardown to
    a background child (docs/SANDBOX.md), which a test must not kill, e.g.
    by killing what runs in a netns it ran cove in."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            busy = [d for d in os.listdir("/run/cove") if
                    os.path.exists("/run/cove/%s/stopping" % d)]
        except OSError:
            busy = []
        if not busy:
            return True
        time.sleep(0.02)
    return False


def settle(before, timeout=5):
    """Wait for leftovers to go (netns teardown is asynchronous)."""
    end = time.monotonic() + timeout
    while True:
        d = Snapshot().diff(before)
        if not d or time.monotonic() > end:
            return d
        time.sleep(0.05)


class Checks:
    """PASS/FAIL lines and a final exit status."""

    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("PASS", name, flush=True)
        else:
            self.failed += 1
            print("FAIL", name, detail, flush=True)
        return cond

    def exit(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
