#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""UDP multicast over IPv4 in a sandbox, answered as on Linux.

For --network=host (the kernel in a plain netns: the Linux reference) and
every provider:

- inside one sandbox (python3), a receiver joined to a group and bound to
  its port, a second one on the port that did not join (IP_MULTICAST_ALL
  1: it gets the group's datagrams too), a third with IP_MULTICAST_ALL 0
  (it does not), and a sender: its datagram comes back through
  IP_MULTICAST_LOOP with the sender's address and port; with the loop off,
  after IP_DROP_MEMBERSHIP, or to a group nobody joined nothing arrives;
  the membership errors (a second join, a drop of a group not joined, a
  join of a unicast address) are Linux's;
- a receiver in the sandbox joins a group and the host side of the
  sandbox's veth sends to it (IP_MULTICAST_IF names that veth alone, TTL
  1, so nothing leaves the namespaces); meanwhile a packet socket on that
  veth sees the sandbox's IGMP membership report for the group.

Each provider's observations must be the host mode's; link-based ones
run on packet:eth0 and on --link=tap.
"""

import os
import select
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import sandbox as sb  # noqa: E402

GROUP = "239.255.70.7"
IP_MULTICAST_ALL = 49
ETH_P_IP = 0x0800

# Providers without IPv4 group membership, with what they give instead
# (exact, so a change either way shows; docs/SANDBOX.md names them).
KNOWN = {
    "lwip": {"self": "all=92 all=92 all=92 join=92 again=92 unicast=92 "
             "dropnone=92 none none none none none drop=92 dropagain=92 none",
             "join": "join=92"},
}

INSIDE = r'''
import socket, struct, sys
G, P, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
IP_MULTICAST_ALL = 49
def mreq(g):
    return socket.inet_aton(g) + socket.inet_aton("0.0.0.0")
def err(f):
    try:
        f()
        return "0"
    except OSError as e:
        return str(e.errno)
out = []
def sock(all=1):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    e = err(lambda: s.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_ALL, all))
    if e != "0":
        out.append("all=" + e)
    s.bind(("0.0.0.0", P))
    s.settimeout(2)
    return s
def take(s, wait=2):
    # wait: 2 s where a datagram is due; 0.5 s where none is (Linux and
    # every stack deliver a local copy in well under that)
    s.settimeout(wait)
    try:
        d, a = s.recvfrom(100)
        return "%s@%s:%d" % (d.decode(), a[0], a[1])
    except socket.timeout:
        return "none"
if mode == "self":
    r, r2, r3 = sock(), sock(), sock(0)
    out.append("join=" + err(lambda: r.setsockopt(
        socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq(G))))
    out.append("again=" + err(lambda: r.setsockopt(
        socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq(G))))
    out.append("unicast=" + err(lambda: r.setsockopt(
        socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq("10.1.2.3"))))
    out.append("dropnone=" + err(lambda: r.setsockopt(
        socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreq("239.1.1.9"))))
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.bind(("0.0.0.0", 0))
    tp = t.getsockname()[1]
    t.sendto(b"loop", (G, P))
    out += [take(r).replace(":%d" % tp, ":TX"), take(r2).replace(
        ":%d" % tp, ":TX"), take(r3, 0.5)]
    t.sendto(b"other", ("239.255.70.8", P))
    out.append(take(r2, 0.5))
    t.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    t.sendto(b"noloop", (G, P))
    out.append(take(r, 0.5))
    t.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    out.append("drop=" + err(lambda: r.setsockopt(
        socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreq(G))))
    out.append("dropagain=" + err(lambda: r.setsockopt(
        socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreq(G))))
    t.sendto(b"left", (G, P))
    out.append(take(r, 0.5))
else:
    r = sock()
    e = err(lambda: r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                                 mreq(G)))
    print("ready" if e == "0" else "join=" + e, flush=True)
    out.append(take(r, 20))
print(" ".join(out), flush=True)
if mode == "host":
    import time
    time.sleep(3)   # the veth stays while the host looks for reports
'''


def host_veth(ip):
    """The host-side interface of the sandbox at @ip (its /32 route)."""
    r = subprocess.run(["ip", "-o", "route", "get", ip], capture_output=True,
                       text=True, timeout=10)
    words = r.stdout.split()
    return words[words.index("dev") + 1] if "dev" in words else None


def read_line(box, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        rd, _, _ = select.select([box.proc.stdout], [], [], 0.5)
        if rd:
            return box.proc.stdout.readline().strip()
        if box.proc.poll() is not None:
            break
    return ""


def sandbox(net, port, mode):
    """The inside program in a sandbox of @net ("+tap": on --link=tap)."""
    extra = ["--link=tap"] if net.endswith("+tap") else []
    return sb.Sandbox(["/usr/bin/python3", "-c", INSIDE, GROUP, str(port),
                       mode], network=net.replace("+tap", ""), extra=extra,
                      stdout=subprocess.PIPE).start()


def run_self(c, net, port, results):
    box = sandbox(net, port, "self")
    try:
        line = read_line(box, 60)
        if box.ip:
            line = line.replace(box.ip, "ME")
    finally:
        box.stop()
    want = ("join=0 again=98 unicast=22 dropnone=99 loop@ME:TX loop@ME:TX "
            "none none none drop=0 dropagain=99 none")
    known = KNOWN.get(net.replace("+tap", ""))
    if known:
        c.check("%s: multicast in one sandbox fails as pinned" % net,
                line == known["self"], line)
        return
    c.check("%s: a multicast sender and receivers in one sandbox" % net,
            line == want, line)
    results.setdefault("self", {})[net] = line


def igmp_groups(frame):
    """The groups an IGMP report in Ethernet @frame names (v2 or v3)."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 2:
        return None
    ihl = (frame[14] & 15) * 4
    m = frame[14 + ihl:]
    if len(m) >= 8 and m[0] == 0x16:
        return "v2", [socket.inet_ntoa(m[4:8])]
    if len(m) < 8 or m[0] != 0x22:
        return None
    groups, off = [], 8
    for _ in range(struct.unpack("!H", m[6:8])[0]):
        if off + 8 > len(m):
            break
        groups.append(socket.inet_ntoa(m[off + 4:off + 8]))
        off += 8 + 4 * struct.unpack("!H", m[off + 2:off + 4])[0]
    return "v3", groups


def run_from_host(c, net, port, results):
    box = sandbox(net, port, "host")
    cap = tx = None
    try:
        dev = host_veth(box.ip)
        c.check("%s: the sandbox's veth found" % net, dev is not None)
        if dev is None:
            return
        ifindex = socket.if_nametoindex(dev)
        cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                            socket.htons(ETH_P_IP))
        cap.bind((dev, ETH_P_IP))
        cap.settimeout(0.2)
        joined = read_line(box, 30)
        ready = joined == "ready"
        known = KNOWN.get(net.replace("+tap", ""))
        if known:
            c.check("%s: the receiver's join fails as pinned" % net,
                    joined == known["join"], joined)
            return
        c.check("%s: the receiver joined" % net, ready, joined)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sb._freebind(tx)
        tx.bind((sb.GATEWAY, 0))
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                      socket.inet_aton("0.0.0.0") * 2 +
                      struct.pack("i", ifindex))
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        report = None
        line = ""
        end = time.monotonic() + 15
        while time.monotonic() < end and ready:
            tx.sendto(b"from-host", (GROUP, port))
            t0 = time.monotonic()
            while time.monotonic() - t0 < 0.5:
                try:
                    g = igmp_groups(cap.recv(2048))
                except OSError:
                    break
                if g and GROUP in g[1]:
                    report = g[0]
            rd, _, _ = select.select([box.proc.stdout], [], [], 0.3)
            if rd:
                line = box.proc.stdout.readline().strip()
                break
        # a join's report may precede "ready": the capture sees the
        # repeat a second later, or the answer to nothing; wait for it
        t0 = time.monotonic()
        while report is None and time.monotonic() - t0 < 3:
            try:
                g = igmp_groups(cap.recv(2048))
            except socket.timeout:
                continue
            except OSError:
                break
            if g and GROUP in g[1]:
                report = g[0]
        line = line.replace(sb.GATEWAY, "GW")
        c.check("%s: a datagram from the host side of the veth to the group"
                % net, line.startswith("from-host@GW:"), line)
        c.check("%s: an IGMP report for the group on the veth" % net,
                report is not None, str(report))
        results.setdefault("from_host", {})[net] = line.split(":")[0]
        results.setdefault("igmp", {})[net] = report
    finally:
        for s in (cap, tx):
            if s:
                s.close()
        box.stop()


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    results = {}
    nets = ["host"] + sb.stacks()
    # Link-based providers also on --link=tap.
    nets += [n + "+tap" for n in sb.stacks() if n != "kernel"]
    try:
        for i, net in enumerate(nets):
            run_self(c, net, 7300 + i, results)
            run_from_host(c, net, 7400 + i, results)
        for what, per in results.items():
            for net in nets[1:]:
                if net in per:
                    c.check("%s: %s as on Linux" % (net, what),
                            per[net] is not None and
                            per[net] == per.get("host"),
                            "%r vs %r" % (per[net], per.get("host")))
    finally:
        sb.cleanup()
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
