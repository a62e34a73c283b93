#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""List file-to-file calls in src/ and fail on a circular dependency.

Theory of operation: meson's compile_commands.json names every object file
and the source it came from. `nm` gives each object's defined and undefined
symbols; a file that uses a symbol another file defines depends on that
file. Strongly connected components of that graph (Tarjan) with more than
one file are cycles. The only cycles allowed are the protocol layers of a
stack calling each other (listed in ALLOWED: each entry is a set of files
that may form one component, or any subset of one); anything else fails.

Usage: scripts/callcycles.py [BUILD_DIR] [--edges] | --selftest
  --edges     also print every file-to-file edge with the symbols it uses
  --selftest  check the checker on made-up graphs
Exit status: 0 when no forbidden cycle exists, 1 otherwise, 2 on a setup
error (no build directory, nm missing).
"""

import json
import os
import subprocess
import sys

# Protocol layers that call each other by design: an IP layer hands frames
# to ARP and ICMP and back, TCP input, output, timers, the receive window
# and SYN cookies (the LISTEN state's stateless path, which hands a
# returning cookie's ACK back to input) share one state machine, and the
# instance (stack.c) both drives
# the layers and is told by them (bstack_notify). IPv6 is the same shape
# beside IPv4: ipv6.c and ip6_frag.c hand packets to ICMPv6, neighbour
# discovery and the transports and are called back by them, and udp6.c
# (UDP's sockaddr_in6 edges) asks ipv6.c about our addresses, as do
# tcp/tcp_addr.c (TCP's) and tcp/tcp6.c (TCP's IPv6 input, called by
# ipv6.c and icmp6.c, into the one state machine). IPv4 groups: UDP's
# memberships (udp_mcast.c) join and leave through igmp.c, whose reports
# ask them for the sources each group includes. lwIP's glue is one
# provider split by protocol over one core lock (lw_stack.c); its loopback
# (lw_loop.c, run by the instance) asks TCP whether a looped SYN's accept
# queue is full, as the instance's input does for one from the link.
B = "src/stacks/builtin/"
ALLOWED = [
    {B + f for f in ("arp.c", "eth.c", "icmp.c", "ipv4.c", "stack.c",
                     "icmp6.c", "ip6_frag.c", "ipv6.c", "nd.c", "nd_addr.c",
                     "udp6.c", "udp.c", "udp_mcast.c", "igmp.c",
                     "tcp/tcp.c", "tcp/tcp_cookie.c", "tcp/tcp_in.c",
                     "tcp/tcp_out.c", "tcp/tcp_rwnd.c", "tcp/tcp_sock.c",
                     "tcp/tcp_timer.c", "tcp/tcp6.c", "tcp/tcp_addr.c")},
    {"src/stacks/lwip/" + f for f in ("lw_loop.c", "lw_sock.c", "lw_stack.c",
                                      "lw_tcp.c", "lw_udp.c")},
]


def objects(build, root):
    """Map each src/ source file to its object files."""
    path = os.path.join(build, "compile_commands.json")
    with open(path) as f:
        cmds = json.load(f)
    out = {}
    for c in cmds:
        src = os.path.relpath(os.path.join(c["directory"], c["file"]), root)
        if not src.startswith("src/"):
            continue
        obj = os.path.join(c["directory"], c["output"])
        if os.path.exists(obj):
            out.setdefault(src, set()).add(obj)
    return out


def symbols(obj):
    """Return (defined, undefined) global symbol names of an object."""
    r = subprocess.run(["nm", "-P", obj], capture_output=True, text=True,
                       check=True)
    defined, undefined = set(), set()
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        name, kind = f[0], f[1]
        if kind == "U":
            undefined.add(name)
        elif kind in "TDBRVWG":
            defined.add(name)
    return defined, undefined


def graph(objs):
    owner = {}
    uses = {}
    for src, files in objs.items():
        d_all, u_all = set(), set()
        for o in files:
            d, u = symbols(o)
            d_all |= d
            u_all |= u
        for s in d_all:
            owner.setdefault(s, set()).add(src)
        uses[src] = u_all - d_all
    edges = {src: {} for src in objs}
    for src, u in uses.items():
        for s in u:
            for dst in owner.get(s, ()):
                if dst != src:
                    edges[src].setdefault(dst, set()).add(s)
    return edges


def components(edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, {})))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                out.append(comp)
    return out


def forbidden(edges):
    """The components of @edges that are cycles ALLOWED does not cover."""
    return [c for c in components(edges)
            if len(c) > 1 and not any(c <= a for a in ALLOWED)]


def selftest():
    """The checker on made-up graphs: it must find what it exists for."""
    a, b, c = "src/x/a.c", "src/x/b.c", "src/x/c.c"
    ok = forbidden({a: {b: {"f"}}, b: {c: {"g"}}, c: {}}) == []
    ok &= forbidden({a: {b: {"f"}}, b: {c: {"g"}}, c: {a: {"h"}}}) == [
        {a, b, c}]
    t_in, t_out = B + "tcp/tcp_in.c", B + "tcp/tcp_out.c"
    ok &= forbidden({t_in: {t_out: {"f"}}, t_out: {t_in: {"g"}}}) == []
    ok &= forbidden({t_in: {a: {"f"}}, a: {t_in: {"g"}}}) == [{t_in, a}]
    print("callcycles: self-test %s" % ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main(argv):
    if "--selftest" in argv:
        return selftest()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = [a for a in argv if not a.startswith("--")]
    build = args[0] if args else os.path.join(root, "build")
    if not os.path.exists(os.path.join(build, "compile_commands.json")):
        print("callcycles: no %s/compile_commands.json (build first)" % build)
        return 2
    objs = objects(build, root)
    if not objs:
        print("callcycles: no object files of src/ in %s" % build)
        return 2
    edges = graph(objs)
    if "--edges" in argv:
        for src in sorted(edges):
            for dst in sorted(edges[src]):
                print("%s -> %s: %s" % (src, dst,
                                        " ".join(sorted(edges[src][dst]))))
    bad = 0
    for comp in forbidden(edges):
        bad += 1
        print("callcycles: circular calls between %s" % ", ".join(sorted(comp)))
        for src in sorted(comp):
            for dst in sorted(edges[src]):
                if dst in comp:
                    print("  %s -> %s: %s" % (src, dst, " ".join(
                        sorted(edges[src][dst]))))
    n = sum(len(e) for e in edges.values())
    print("callcycles: %d files, %d file-to-file edges, %d forbidden cycle%s"
          % (len(edges), n, bad, "" if bad == 1 else "s"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
