#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Benchmark: a stack under `cove stack-serve` against the kernel, same link.

Both run behind a veth pair between two private namespaces; the Linux
client sits in one. The stack under test gets the other end through
AF_PACKET (`--link packet:cvb`); the kernel yardstick (`--stack kernel`)
gets the same end with the address on it. The client's veth end has
TSO/GSO off in both cases (an AF_PACKET link cannot take super-frames), and
the link uses rx=v2 (per-frame wakeups; V3's block timer would cost a
millisecond per round trip). The kernel's own end keeps TSO/GSO, so in
bulk out it hands the client 64 KiB super-frames where the stack sends
MTU frames; --kernel-no-tso turns them off there too. By default the
kernel of the stack's namespace also receives every frame on cvb (it has
no address there, so it routes each one and drops it, in softirq time the
stack's process pays); --own-link drops frames at cvb's netdev ingress,
after AF_PACKET took its copy, as a host that dedicates the interface to
the stack would. Same client, same run, so the ratios mean
something even on a noisy machine. With --link tap the stack serves on a
TAP owned by the client's kernel instead (one namespace, no veth); the
kernel yardstick stays the veth one, so those ratios compare a TAP stack
with the kernel over veth:

  bulk in:   SIZE bytes to --discard (timed until the server closes after
             our FIN, i.e. it has read everything);
  bulk out:  GET /SIZE from --http, every byte received;
  rr:        one connection to --echo, 1-byte request, 1-byte response,
             N round trips.

With --family 6 the same transfers run over IPv6: the client's end gets
PEER6/64 and the stack ADDR6/64 (--addr6; the kernel of its namespace has
IPv6 off on cvb, so it never answers for the stack's MAC) or, for the
kernel yardstick, cvb does; all without DAD on Linux's side, and the
stack's own DAD is waited out with ping -6 before anything is timed.

Prints a markdown table with each stack's numbers and STACK/kernel ratios.
With --repeat N the kernel and the stack run back to back N times and the
table shows medians (ratios: the median of the per-round ratios).
Usage: stack_bench.py [--stack builtin] [--quick] [--size MIB] [--rr N]
                      [--repeat N] [--tests in,out,rr] [--link-opts OPTS]
                      [--stats] [--kernel-no-tso] [--own-link]
                      [--link packet|tap] [--family 4|6]
Env: COVE (the cove binary; default build/src/cli/cove).
"""

import argparse
import os
import socket
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "integration", "lib"))
import netns  # noqa: E402
from stackserve import StackServe  # noqa: E402

ECHO, DISCARD, HTTP = 7007, 7009, 8080
MiB = 1 << 20
ADDR, PEER = "10.79.0.2", "10.79.0.1"
ADDR6, PEER6 = "fd00:79::2", "fd00:79::1"


def bulk_in(size, addr=ADDR):
    buf = memoryview(bytes(MiB))
    t0 = time.monotonic()
    with socket.create_connection((addr, DISCARD), timeout=60) as s:
        sent = 0
        while sent < size:
            s.sendall(buf)
            sent += MiB
        s.shutdown(socket.SHUT_WR)
        s.recv(1)		# EOF once the server has read it all
    return size / (time.monotonic() - t0)


def bulk_out(size, addr=ADDR):
    buf = bytearray(MiB)
    got = 0
    t0 = time.monotonic()
    with socket.create_connection((addr, HTTP), timeout=60) as s:
        s.sendall(b"GET /%d HTTP/1.1\r\nConnection: close\r\n\r\n" % size)
        while True:
            n = s.recv_into(buf)
            if not n:
                break
            got += n
    elapsed = time.monotonic() - t0
    if got < size:
        raise RuntimeError("http: %d of %d bytes" % (got, size))
    return size / elapsed


def rr(n, addr=ADDR):
    with socket.create_connection((addr, ECHO), timeout=30) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t0 = time.monotonic()
        for _ in range(n):
            s.sendall(b"x")
            if s.recv(1) != b"x":
                raise RuntimeError("echo: bad reply")
        return n / (time.monotonic() - t0)


TESTS = {"in": "bulk in", "out": "bulk out", "rr": "rr"}


def wait_ping6(addr, tries=20):
    """Wait until @addr answers ping -6: the stack's DAD (about a second)
    is over and Linux has its neighbour entry."""
    for _ in range(tries):
        if subprocess.run(["ping", "-6", "-c", "1", "-W", "1", addr],
                          capture_output=True).returncode == 0:
            return
    raise RuntimeError("%s did not answer ping -6 within %d tries" %
                       (addr, tries))


def measure(stack, size, rounds, tests, link_opts, stats=False,
            kernel_tso=True, own_link=False, tap=False, kind="packet",
            family=4):
    """Set up the pair, serve @stack on the far end, run @tests over IPv4
    or IPv6 (@family).

    With @tap the stack serves on a TAP in the client's namespace instead
    (Linux owns cvtap0 with the peer address; no veth, no second netns).
    """
    v6 = family == 6
    six = ["--addr6", ADDR6 + "/64"] if v6 else []
    a = netns.Netns(netns.unique("serve", "ba"))
    b = a if tap else netns.Netns(netns.unique("serve", "bb"))
    srv = None
    try:
        if tap:
            netns.tap(a, "cvtap0")
            a.ip("addr", "add", PEER + "/24", "dev", "cvtap0")
            if v6:
                a.ip("-6", "addr", "add", PEER6 + "/64", "dev", "cvtap0",
                     "nodad")
            args = ["--stack", stack, "--link", "tap:cvtap0" + link_opts,
                    "--addr", ADDR + "/24"] + six
        else:
            netns.veth_pair(a, "cva", b, "cvb")
            netns.no_segmentation_offload(a, "cva")
            a.ip("addr", "add", PEER + "/24", "dev", "cva")
            if v6:
                a.ip("-6", "addr", "add", PEER6 + "/64", "dev", "cva",
                     "nodad")
            if stack == "kernel":
                b.ip("addr", "add", ADDR + "/24", "dev", "cvb")
                if v6:
                    b.ip("-6", "addr", "add", ADDR6 + "/64", "dev", "cvb",
                         "nodad")
                if not kernel_tso:
                    netns.no_segmentation_offload(b, "cvb")
                args = ["--stack", "kernel"]
            else:
                if own_link:
                    # AF_PACKET taps see frames before netdev ingress: drop
                    # them there so the kernel of this namespace does not
                    # route (and reject) every frame the stack owns.
                    b.run("nft", "add table netdev cove; add chain netdev "
                          "cove in { type filter hook ingress device cvb "
                          "priority 0; policy drop; }")
                if v6:
                    # the stack owns cvb's MAC: the kernel must not answer
                    b.run("sysctl", "-qw", "net.ipv6.conf.cvb.disable_ipv6=1")
                if kind in ("xdp", "dpdk-xdp", "dpdk-packet"):
                    # AF_XDP and DPDK's net_af_packet/net_af_xdp carry no
                    # checksum state: Linux must send complete checksums
                    # (docs/LINKS.md)
                    a.run("ethtool", "-K", "cva", "tx", "off")
                spec = {"dpdk-packet": "dpdk:net_af_packet0,iface=cvb",
                        "dpdk-xdp": "dpdk:net_af_xdp0,iface=cvb"}.get(
                            kind, kind + ":cvb" + link_opts)
                args = ["--stack", stack, "--link", spec, "--addr",
                        ADDR + "/24"] + six
        a.enter()
        srv = StackServe(b, args + ["--echo", str(ECHO), "--discard",
                                    str(DISCARD), "--http", str(HTTP)])
        srv.wait_for("ready", 15)
        subprocess.run(["ping", "-c", "1", "-W", "2", ADDR],
                       capture_output=True)
        to = ADDR6 if v6 else ADDR
        if v6:
            wait_ping6(to)
        run = {"bulk in": lambda: bulk_in(size, to),
               "bulk out": lambda: bulk_out(size, to),
               "rr": lambda: rr(rounds, to)}
        return {TESTS[t]: run[TESTS[t]]() for t in tests}
    finally:
        if srv:
            _, st = srv.stop()
            if stats and st:
                print("%s stats: %s" % (stack, " ".join(
                    "%s=%d" % kv for kv in sorted(st.items()) if kv[1])),
                    file=sys.stderr)
        netns.leave()
        a.delete()
        b.delete()


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] +
                                                  xs[len(xs) // 2]) / 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stack", default="builtin")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--size", type=int, help="bulk MiB (default 1024)")
    ap.add_argument("--rr", type=int, help="round trips (default 20000)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="kernel/stack rounds, medians reported")
    ap.add_argument("--tests", default="in,out,rr",
                    help="comma-separated subset of in,out,rr")
    ap.add_argument("--link-opts", default=None,
                    help="appended to packet:cvb (default ',rx=v2') or "
                    "tap:cvtap0 (default none)")
    ap.add_argument("--link", default="packet",
                    choices=("packet", "tap", "xdp", "dpdk-packet",
                             "dpdk-xdp"),
                    help="the stack's link: packet (the default; a veth "
                    "end by AF_PACKET), tap (a TAP owned by the client's "
                    "kernel; the kernel yardstick stays on the veth) or "
                    "xdp (the veth end by AF_XDP; COVE=cove-plugin)")
    ap.add_argument("--kernel-no-tso", action="store_true",
                    help="TSO/GSO off on the kernel's end too (MTU frames "
                    "both ways, as the stack's AF_PACKET link sends)")
    ap.add_argument("--own-link", action="store_true",
                    help="drop frames at cvb's netdev ingress (after the "
                    "stack's AF_PACKET copy) so the namespace's kernel does "
                    "not also route them")
    ap.add_argument("--family", type=int, choices=(4, 6), default=4,
                    help="measure over IPv4 (the default) or IPv6")
    ap.add_argument("--stats", action="store_true",
                    help="print the stack's non-zero counters to stderr")
    o = ap.parse_args()
    if o.link_opts is None:
        o.link_opts = ",rx=v2" if o.link == "packet" else ""
    os.environ.setdefault("COVE", os.path.abspath("build/src/cli/cove"))
    size = (o.size or (128 if o.quick else 1024)) * MiB
    rounds = o.rr or (2000 if o.quick else 20000)
    tests = o.tests.split(",")
    if not tests or any(t not in TESTS for t in tests):
        ap.error("--tests: a comma-separated subset of in,out,rr")

    ks, ss = [], []
    try:
        for _ in range(o.repeat):
            ks.append(measure("kernel", size, rounds, tests, "",
                              kernel_tso=not o.kernel_no_tso,
                              family=o.family))
            try:
                ss.append(measure(o.stack, size, rounds, tests,
                                  o.link_opts, o.stats,
                                  own_link=o.own_link,
                                  tap=o.link == "tap", kind=o.link,
                                  family=o.family))
            except Exception as e:  # report, keep the kernel's numbers
                print("%s: %s" % (o.stack, e), file=sys.stderr)
                ss.append(None)
    finally:
        netns.cleanup()

    print("\n### stack-serve: %s%s vs kernel (veth, IPv%d, %d MiB, %d round "
          "trips%s)\n"
          % (o.stack, " on " + o.link if o.link != "packet" else "",
             o.family, size // MiB, rounds,
             ", median of %d" % o.repeat if o.repeat > 1 else ""))
    print("| test | %s | kernel | ratio |" % o.stack)
    print("|---|---:|---:|---:|")
    for name, unit, scale in (("bulk in", "MiB/s", MiB),
                              ("bulk out", "MiB/s", MiB),
                              ("rr", "trips/s", 1)):
        if name not in ks[0]:
            continue
        k = median([r[name] for r in ks])
        pairs = [(s[name], kr[name]) for s, kr in zip(ss, ks) if s]
        sv = "%.0f %s" % (median([p[0] for p in pairs]) / scale,
                          unit) if pairs else "n/a"
        ratio = "%.2fx" % median([p[0] / p[1] for p in pairs]) \
            if pairs else "n/a"
        print("| %s | %s | %.0f %s | %s |" % (name, sv, k / scale,
                                               unit, ratio))
    return 0 if all(ss) else 1


if __name__ == "__main__":
    sys.exit(main())
