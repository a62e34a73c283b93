# SPDX-License-Identifier: Apache-2.0
"""Network modes under test: how a server program gets its network.

Theory of operation: a Mode starts one server program (argv) with a given
set of TCP ports and tells the client where to reach each port. Every mode
puts the server in its own network namespace, so the only thing that
differs between rows is what carries the packets:

  host            the kernel in a plain netns behind a veth (the
                  plain-container baseline; made here with iproute2, no
                  Cove involved)
  cove-host       `cove run --network=host` (the same, through Cove's own
                  setup: shows the runtime adds nothing to the data path)
  builtin, kernel, lwip
                  `cove run --network=NAME` (lwip through cove-plugin)
  builtin+xdp, builtin+dpdk, builtin+dpdk-afxdp, builtin+dpdk-tap
                  builtin through cove-plugin on a kernel-bypass link:
                  `--link=xdp`, `--link=dpdk` (net_af_packet0),
                  `--link=dpdk:net_af_xdp0`, `--link=dpdk:net_tap0`
  slirp4netns     Debian's slirp4netns on a netns, ports forwarded from
                  127.0.0.1 through its API socket
  pasta           Debian's passt in pasta mode on a netns, ports forwarded
                  from 127.0.0.1 with -t

Families: every mode but the peers serves IPv4 and IPv6 (start(...,
family=6) hands the client the server's IPv6 address: HOST_NET6 on the
host veth, for a sandbox COVE_IP6 by `--ip6`, the address Cove would
derive from COVE_IP anyway; both only in IPv6 runs, so a host with IPv6
off still measures IPv4). slirp4netns and pasta are measured over IPv4
only: their ports are forwarded from 127.0.0.1.

The client always runs in the host's netns. Pinning (when on): the server
side (program, sentry, pasta or slirp4netns) runs on CPU 1 and the client
on CPU 0, so each side has a core of its own in every mode.

A mode that cannot run here (binary or provider missing) raises
Unavailable with the reason; the report shows it instead of a number.
"""

import json
import os
import signal
import socket
import subprocess
import time

SERVER_CPU, CLIENT_CPU = "1", "0"
HOST_NET = ("10.89.0.1", "10.89.0.2")
HOST_NET6 = ("fd00:89::1", "fd00:89::2")
COVE_IP = os.environ.get("COVE_BENCH_IP", "10.209.0.250")


def cove_ip6(ip4):
    """The IPv6 address `cove run` derives from IPv4 @ip4: the pool's first
    /64 with @ip4 in the low 32 bits (docs/SANDBOX.md, IPv6)."""
    a, b, c, d = (int(x) for x in ip4.split("."))
    return "fd63:6f76:6500::%x:%x" % (a << 8 | b, c << 8 | d)


COVE_IP6 = cove_ip6(COVE_IP)


class Unavailable(Exception):
    """This mode cannot run on this machine or build."""


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True,
                          text=True)


class Fence:
    """Unreachable routes for Cove's sandbox ranges while the bench runs.

    Each sandbox gets a /32 route to its veth, which is more specific and
    wins; an address without a live sandbox (one not started yet, or one
    that died mid-run) then hits this route and fails locally instead of
    following the default route off the machine. Added only if missing,
    removed only if added here.
    """

    NETS = ("10.209.0.0/16", "fd63:6f76:6500::/48")

    def __enter__(self):
        self.added = [n for n in self.NETS
                      if sh("ip", "route", "add", "unreachable", n,
                            check=False).returncode == 0]
        return self

    def __exit__(self, *exc):
        for n in self.added:
            sh("ip", "route", "del", "unreachable", n, check=False)


def routed_here(addr):
    """Is @addr reached over loopback or a veth of ours (cv*)?

    Until `cove run` has made its veth and route, a sandbox address would
    follow the default route off this machine. Nothing may ever be sent
    there, so no probe is made before this holds.
    """
    if addr.startswith("127.") or addr == "::1":
        return True
    r = sh("ip", "-o", "route", "get", addr, check=False)
    f = r.stdout.split()
    dev = f[f.index("dev") + 1] if "dev" in f else ""
    return dev == "lo" or dev.startswith("cv")


def wait_port(addr, port, proc, timeout=20.0):
    """Wait until @addr:@port accepts a TCP connection; fail if @proc died.

    Connects only while @addr is routed to this machine (routed_here()).
    """
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s before listening"
                               % proc.returncode)
        if not routed_here(addr):
            time.sleep(0.02)
            continue
        try:
            socket.create_connection((addr, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s:%d did not accept within %.0fs (or was not "
                       "routed to a local veth)" % (addr, port, timeout))


def wait_listen(ns, port, proc, timeout=20.0):
    """Wait until a TCP socket listens on @port inside netns @ns.

    Needed where a forwarder (slirp4netns, pasta) accepts on the host side
    before the server inside listens: connecting there proves nothing.
    """
    want = ":%04X " % port
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s before listening"
                               % proc.returncode)
        r = sh("ip", "netns", "exec", ns, "cat", "/proc/net/tcp",
               "/proc/net/tcp6", check=False)
        for line in r.stdout.splitlines()[1:]:
            f = line.split()
            if len(f) > 3 and (f[1] + " ").endswith(want) and \
                    f[3] == "0A":
                return
        time.sleep(0.05)
    raise RuntimeError("nothing listened on port %d in %s within %.0fs"
                       % (port, ns, timeout))


def kill_tree(proc, sig=signal.SIGTERM, grace=5.0):
    """Signal @proc's process group, then make sure it is gone."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


class Mode:
    """Base: subclasses set name and implement _start()/_stop()."""

    name = "?"
    pin = True
    families = (4, 6)
    peer = False        # another project's tool: its failures are reported,
                        # not counted against Cove (bench.py's exit status)

    def taskset(self, argv):
        return (["taskset", "-c", SERVER_CPU] + argv) if self.pin else argv

    def check(self):
        """Raise Unavailable if this mode cannot run here."""

    def start(self, argv, ports, log, family=4):
        """Start @argv; return {port: (addr, port)} for the client, the
        server's address of @family (4 or 6, one of self.families)."""
        assert family in self.families
        self.proc = None
        self.log = log
        self.family = family
        return self._start(argv, ports)

    def wait_ready(self, port, where):
        """Wait until the server's @port is reachable at @where."""
        wait_port(*where, proc=self.proc)

    def stop(self):
        kill_tree(getattr(self, "proc", None))
        self._stop()

    def _stop(self):
        pass


def _netns_add(name):
    sh("ip", "netns", "del", name, check=False)
    sh("ip", "netns", "add", name)
    sh("ip", "-n", name, "link", "set", "lo", "up")


def _netns_del(name):
    pids = sh("ip", "netns", "pids", name, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    sh("ip", "netns", "del", name, check=False)


class HostMode(Mode):
    """The plain-container baseline: a netns, a veth, the kernel stack."""

    name = "host"

    def __init__(self):
        self.ns = "cvb-host-%d" % os.getpid()

    def check(self):
        if not os.path.exists("/usr/bin/ip") and not os.path.exists("/bin/ip"):
            raise Unavailable("iproute2 missing")

    def _start(self, argv, ports):
        _netns_add(self.ns)
        sh("ip", "link", "add", "cvbh0", "type", "veth", "peer", "name",
           "eth0", "netns", self.ns)
        sh("ip", "addr", "add", HOST_NET[0] + "/24", "dev", "cvbh0")
        sh("ip", "link", "set", "cvbh0", "up")
        sh("ip", "-n", self.ns, "addr", "add", HOST_NET[1] + "/24", "dev",
           "eth0")
        if self.family == 6:    # without DAD: unique here
            sh("ip", "-6", "addr", "add", HOST_NET6[0] + "/64", "dev",
               "cvbh0", "nodad")
            sh("ip", "-n", self.ns, "-6", "addr", "add",
               HOST_NET6[1] + "/64", "dev", "eth0", "nodad")
        sh("ip", "-n", self.ns, "link", "set", "eth0", "up")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns] + self.taskset(argv),
            stdout=self.log, stderr=self.log, start_new_session=True)
        addr = HOST_NET6[1] if self.family == 6 else HOST_NET[1]
        return {p: (addr, p) for p in ports}

    def _stop(self):
        _netns_del(self.ns)
        sh("ip", "link", "del", "cvbh0", check=False)


class CoveMode(Mode):
    """`cove run --network=NET`: the sandbox Cove users get."""

    def __init__(self, cove, network, label=None, link=None):
        self.cove, self.network, self.link = cove, network, link
        self.name = label or network

    def check(self):
        if not os.access(self.cove, os.X_OK):
            raise Unavailable("%s not built" % os.path.basename(self.cove))
        r = sh(self.cove, "run", "--help", check=False)
        if r.returncode != 0:
            raise Unavailable("`%s run` not available yet"
                              % os.path.basename(self.cove))
        if self.network in ("host", "none"):
            return
        r = sh(self.cove, "stacks", check=False)
        names = [ln.split()[0] for ln in r.stdout.splitlines() if ln.strip()]
        if self.network not in names:
            raise Unavailable("no '%s' stack in %s" %
                              (self.network, os.path.basename(self.cove)))
        kind = (self.link or "packet").split(":")[0]
        if kind not in names:
            raise Unavailable("no '%s' link in %s" %
                              (kind, os.path.basename(self.cove)))

    def _start(self, argv, ports):
        cmd = [self.cove, "run", "--network=" + self.network,
               "--name", "cvbench-%d" % os.getpid(), "--ip",
               COVE_IP + "/16"] + \
            (["--ip6", COVE_IP6 + "/64"] if self.family == 6 else []) + \
            (["--link=" + self.link] if self.link else []) + ["--"] + argv
        self.proc = subprocess.Popen(self.taskset(cmd), stdout=self.log,
                                     stderr=self.log, start_new_session=True)
        addr = COVE_IP6 if self.family == 6 else COVE_IP
        return {p: (addr, p) for p in ports}


class SlirpMode(Mode):
    """slirp4netns: a user-mode TCP/IP emulator behind a TAP in the netns."""

    name = "slirp4netns"
    peer = True
    families = (4,)

    def __init__(self):
        self.ns = "cvb-slirp-%d" % os.getpid()
        self.api = "/tmp/cvb-slirp-%d.sock" % os.getpid()
        self.helper = None

    def check(self):
        if sh("which", "slirp4netns", check=False).returncode:
            raise Unavailable("slirp4netns not installed")

    def _fwd(self, host_port, guest_port):
        req = {"execute": "add_hostfwd",
               "arguments": {"proto": "tcp", "host_addr": "127.0.0.1",
                             "host_port": host_port,
                             "guest_port": guest_port}}
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.api)
            s.sendall(json.dumps(req).encode())
            reply = s.recv(4096).decode()
        if "error" in reply:
            raise RuntimeError("slirp4netns hostfwd: " + reply)

    def wait_ready(self, port, where):
        wait_listen(self.ns, port, self.proc)
        wait_port(*where, proc=self.proc)

    def _start(self, argv, ports):
        _netns_add(self.ns)
        if os.path.exists(self.api):
            os.unlink(self.api)
        self.helper = subprocess.Popen(
            self.taskset(["slirp4netns", "--configure", "--mtu=65520",
                          "--netns-type=path", "--api-socket", self.api,
                          "/var/run/netns/" + self.ns, "tap0"]),
            stdout=self.log, stderr=self.log, start_new_session=True)
        end = time.monotonic() + 10
        while not os.path.exists(self.api):
            if time.monotonic() > end or self.helper.poll() is not None:
                raise RuntimeError("slirp4netns did not start")
            time.sleep(0.02)
        out = {}
        for p in ports:
            self._fwd(p + 20000, p)
            out[p] = ("127.0.0.1", p + 20000)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns] + self.taskset(argv),
            stdout=self.log, stderr=self.log, start_new_session=True)
        return out

    def _stop(self):
        kill_tree(self.helper)
        _netns_del(self.ns)
        if os.path.exists(self.api):
            os.unlink(self.api)


class PastaMode(Mode):
    """pasta (Debian's passt): L4 translation between host and netns."""

    name = "pasta"
    peer = True
    families = (4,)

    def __init__(self):
        self.ns = "cvb-pasta-%d" % os.getpid()
        self.helper = None

    def check(self):
        if sh("which", "pasta", check=False).returncode:
            raise Unavailable("passt (pasta) not installed")

    def wait_ready(self, port, where):
        wait_listen(self.ns, port, self.proc)
        wait_port(*where, proc=self.proc)

    def _start(self, argv, ports):
        _netns_add(self.ns)
        fwd = []
        for p in ports:
            fwd += ["-t", "%d:%d" % (p + 20000, p)]
        # As root pasta would drop to nobody and then fail to enter the
        # netns; --runas 0 keeps it able to (nothing leaves the machine:
        # only the forwarded loopback ports carry traffic).
        self.helper = subprocess.Popen(
            self.taskset(["pasta", "-q", "-f", "--runas", "0:0",
                          "--config-net", "-u", "none", "-T", "none",
                          "-U", "none"] + fwd +
                         ["--netns", "/var/run/netns/" + self.ns]),
            stdout=self.log, stderr=self.log, start_new_session=True)
        end = time.monotonic() + 10
        while sh("ip", "-n", self.ns, "-br", "addr", "show", "up",
                 check=False).stdout.count("\n") < 2:
            if time.monotonic() > end or self.helper.poll() is not None:
                raise RuntimeError("pasta did not configure the netns")
            time.sleep(0.02)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns] + self.taskset(argv),
            stdout=self.log, stderr=self.log, start_new_session=True)
        return {p: ("127.0.0.1", p + 20000) for p in ports}

    def _stop(self):
        kill_tree(self.helper)
        _netns_del(self.ns)


def all_modes(cove, cove_plugin):
    """Every mode in report order; host first (the baseline)."""
    return [HostMode(), CoveMode(cove, "host", "cove-host"),
            CoveMode(cove, "builtin"), CoveMode(cove, "kernel"),
            CoveMode(cove_plugin, "lwip"),
            CoveMode(cove_plugin, "builtin", "builtin+xdp", "xdp"),
            CoveMode(cove_plugin, "builtin", "builtin+dpdk", "dpdk"),
            CoveMode(cove_plugin, "builtin", "builtin+dpdk-afxdp",
                     "dpdk:net_af_xdp0"),
            CoveMode(cove_plugin, "builtin", "builtin+dpdk-tap",
                     "dpdk:net_tap0"),
            SlirpMode(), PastaMode()]
