#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""IPv6 in the sandbox, end to end, compared with Linux (--network=host).

On --network=host (the Linux reference) and every stack that serves IPv6
(sb.IPV6_STACKS, or --stacks a,b): a dual-stack server bound to [::]
reached from the host over IPv6 and IPv4, with what accept, getsockname
and getpeername return inside; a UDP echo on [::] over both families,
through recvfrom/sendto and recvmsg/sendmsg; a client inside connecting
to the host side over IPv6 and to a mapped IPv4 address; getaddrinfo()
of localhost and of the sandbox's own name; python3 -m http.server
--bind :: fetched with curl -6 and -4; --ip6 ADDR/N; --ipv4-only;
--publish over IPv6 (and [::1], which Linux cannot route out of lo, left
alone); cove.conf's pool and pool6 (in a netns of the test's, so no fence
is left on the host), and each refused when it overlaps a route Cove did
not make there. Every inside observation is normalised (addresses to
roles, ephemeral ports to EPH) and must equal the host's.

On the stacks without IPv6 today (the others `cove stacks` lists),
socket(AF_INET6) fails with EAFNOSUPPORT, and http.server --bind :: fails
as on a host without IPv6, while --bind 0.0.0.0 works.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import netns  # noqa: E402
import sandbox as sb  # noqa: E402

PY = "/usr/bin/python3"
HDIR = None  # a host directory for this test's files (main())

# Inside: a dual-stack TCP server (two connections), then a UDP echo on
# the same port (two datagrams by recvfrom, two by recvmsg); one JSON
# line per observation.
SERVER = r"""
import json, socket, sys
port = int(sys.argv[1])
def out(*a):
    print(json.dumps(a), flush=True)
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", port))
s.listen(8)
out("listen", s.getsockname(),
    s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY),
    s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN))
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.bind(("::", port))
out("udp", u.getsockname())
for i in range(2):
    c, peer = s.accept()
    out("accept", peer, c.getsockname(), c.getpeername(), c.family)
    c.sendall(c.recv(100))
    c.close()
for i in range(2):
    d, a = u.recvfrom(100)
    out("recvfrom", a)
    u.sendto(d, a)
for i in range(2):
    d, anc, fl, a = u.recvmsg(100)
    out("recvmsg", a, fl)
    u.sendmsg([d], [], 0, a)
"""

# Inside: connect out to the host side over IPv6, and an AF_INET6 socket
# to the IPv4 gateway as a mapped address; names on both ends.
CLIENT = r"""
import json, socket, sys
gw6, gw4, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
def out(*a):
    print(json.dumps(a), flush=True)
for dst in (gw6, "::ffff:" + gw4):
    c = socket.socket(socket.AF_INET6)
    c.connect((dst, port))
    c.sendall(b"ping")
    out("connect", c.getsockname(), c.getpeername(), c.recv(10).decode())
    c.close()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.sendto(b"dg", (gw6, port))
d, a = u.recvfrom(10)
out("udp", a, d.decode(), u.getsockname())
def gai(name):
    return sorted({(f, x[4][0]) for x in socket.getaddrinfo(name, 80)
                   for f in [int(x[0])]})
out("localhost", gai("localhost"))
out("self", gai(socket.gethostname()))
# The raw calls with the lengths Python never passes: libc through ctypes.
import ctypes, struct
libc = ctypes.CDLL(None, use_errno=True)
def sa6(addr, port):
    return struct.pack("!HHI", socket.AF_INET6, port, 0) + \
        socket.inet_pton(socket.AF_INET6, addr) + struct.pack("I", 0)
def sa6_le(raw):  # the family is host order in the struct
    return struct.pack("H", socket.AF_INET6) + raw[2:]
def call(f, *a):
    r = f(*a)
    return r if r >= 0 else -ctypes.get_errno()
t = socket.socket(socket.AF_INET6)
a = ctypes.create_string_buffer(sa6_le(sa6("::", 0)), 28)
out("bind short", call(libc.bind, t.fileno(), a, 16))
out("bind long", call(libc.bind, t.fileno(), a, 200))
a4 = ctypes.create_string_buffer(struct.pack("H", socket.AF_INET) + bytes(26), 28)
out("bind AF_INET addr", call(libc.bind, t.fileno(), a4, 28))
out("bind ok", call(libc.bind, t.fileno(), a, 28))
n = ctypes.c_int(8)
buf = ctypes.create_string_buffer(b"\xaa" * 28, 28)
r = call(libc.getsockname, t.fileno(), buf, ctypes.byref(n))
out("getsockname 8", r, n.value, buf.raw[:2].hex(), buf.raw[8:10].hex())
n = ctypes.c_int(28)
out("getpeername unconnected", call(libc.getpeername, t.fileno(), buf,
                                    ctypes.byref(n)))
g = ctypes.create_string_buffer(sa6_le(sa6(gw6, port)), 28)
out("connect short", call(libc.connect, t.fileno(), g, 20))
out("connect ok", call(libc.connect, t.fileno(), g, 28))
n = ctypes.c_int(12)
buf = ctypes.create_string_buffer(b"\xaa" * 28, 28)
r = call(libc.getpeername, t.fileno(), buf, ctypes.byref(n))
out("getpeername 12", r, n.value, buf.raw[:12].hex(), buf.raw[12:14].hex())
t.close()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
out("sendto short", call(libc.sendto, u.fileno(), b"x", 1, 0, g, 24))
out("sendto ok", call(libc.sendto, u.fileno(), b"dg", 2, 0, g, 28))
n = ctypes.c_int(4)
buf = ctypes.create_string_buffer(b"\xaa" * 28, 28)
d = ctypes.create_string_buffer(10)
u.settimeout(None)
r = call(libc.recvfrom, u.fileno(), d, 10, 0, buf, ctypes.byref(n))
out("recvfrom 4", r, n.value, buf.raw[:4].hex(), buf.raw[4:6].hex())
# IPPROTO_IPV6 options reach the stack: defaults, set, read back.
P6 = socket.IPPROTO_IPV6
for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    o = socket.socket(socket.AF_INET6, typ)
    got = [o.getsockopt(P6, x) for x in (socket.IPV6_V6ONLY,
           socket.IPV6_TCLASS, socket.IPV6_UNICAST_HOPS)]
    o.setsockopt(P6, socket.IPV6_V6ONLY, 1)
    o.setsockopt(P6, socket.IPV6_TCLASS, 0x28)
    o.setsockopt(P6, socket.IPV6_UNICAST_HOPS, 7)
    got += [o.getsockopt(P6, x) for x in (socket.IPV6_V6ONLY,
            socket.IPV6_TCLASS, socket.IPV6_UNICAST_HOPS)]
    out("opts", typ, got)
    o.close()
# [::] and 0.0.0.0 on one port: a conflict unless IPV6_V6ONLY.
def pair(v6only):
    a = socket.socket(socket.AF_INET6)
    a.setsockopt(P6, socket.IPV6_V6ONLY, v6only)
    a.bind(("::", 0))
    a.listen(1)
    b = socket.socket()
    try:
        b.bind(("0.0.0.0", a.getsockname()[1]))
        b.listen(1)
        r = "both"
    except OSError as e:
        r = e.errno
    a.close()
    b.close()
    return r
out("dual bind", pair(0), pair(1))
"""


def roles(box, port):
    """The map from this sandbox's and the host side's addresses to the
    roles they play, so that observations compare across modes."""
    return {box.ip6: "SELF6", "::ffff:" + box.ip: "SELF4M", box.ip: "SELF4",
            sb.GATEWAY6: "GW6", "::ffff:" + sb.GATEWAY: "GW4M",
            sb.GATEWAY: "GW4"}, port


def norm(obj, rmap, port):
    """@obj with addresses replaced by roles and ports by PORT or EPH."""
    if isinstance(obj, list):
        return [norm(x, rmap, port) for x in obj]
    if isinstance(obj, str):
        return rmap.get(obj, obj)
    if isinstance(obj, int) and not isinstance(obj, bool):
        if obj == port:
            return "PORT"
        return "EPH" if obj >= 1024 else obj
    return obj


def read_lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.startswith("[")]


def wait_line(path, start, timeout=15):
    """Wait until file @path has a line starting with @start."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(path) as f:
            if any(l.startswith(start) for l in f):
                return True
        time.sleep(0.05)
    return False


def server_run(c, net, extra=()):
    """SERVER inside, driven from the host; its observations, normalised,
    and the box's addresses (or None when it did not start)."""
    port = 8700
    out = tempfile.NamedTemporaryFile("w+", dir=HDIR, delete=False)
    box = sb.Sandbox([PY, "-c", SERVER, str(port)], network=net,
                     extra=list(extra), stdout=out).start()
    ok = c.check("%s: server has an IPv6 address" % net, box.ip6 is not None,
                 "".join(box.log))
    seen = []
    if ok and wait_line(out.name, '["udp"'):
        for fam, dst in ((socket.AF_INET6, box.ip6),
                         (socket.AF_INET, box.ip)):
            with socket.socket(fam) as s:
                s.settimeout(10)
                s.connect((dst, port))
                s.sendall(b"hello")
                c.check("%s: TCP echo over %s" % (net, "IPv6" if fam ==
                                                  socket.AF_INET6 else
                                                  "IPv4"),
                        s.recv(10) == b"hello")
        time.sleep(0.2)
        for rnd in range(2):
            for fam, dst in ((socket.AF_INET6, box.ip6),
                             (socket.AF_INET, box.ip)):
                with socket.socket(fam, socket.SOCK_DGRAM) as u:
                    u.settimeout(10)
                    u.sendto(b"dg%d" % rnd, (dst, port))
                    try:
                        d = u.recv(10)
                    except OSError as e:
                        d = repr(e).encode()
                    c.check("%s: UDP echo %s round %d" % (
                        net, "IPv6" if fam == socket.AF_INET6 else "IPv4",
                        rnd), d == b"dg%d" % rnd, d)
    try:
        box.proc.wait(15)  # it ends after its last echo
    except subprocess.TimeoutExpired:
        pass
    rc = box.stop()
    c.check("%s: server exited 0" % net, rc == 0, "%s %s" % (rc, box.log[-3:]))
    rmap, port = roles(box, port)
    seen = [norm(x, rmap, port) for x in read_lines(out.name)]
    os.unlink(out.name)
    return seen, box


def client_run(c, net, tcp, udp):
    """CLIENT inside against the host side's IPv6 echo servers."""
    r = sb.run(["--network=" + net, "--verbose", "--", PY, "-c", CLIENT,
                sb.GATEWAY6, sb.GATEWAY, str(tcp.port)])
    c.check("%s: client ran" % net, r.returncode == 0, r.stderr[-400:])
    ip = re.search(r"sandbox address ([0-9.]+)/", r.stderr)
    ip6 = re.search(r"sandbox IPv6 address ([0-9a-f:]+)/", r.stderr)
    if not ip or not ip6:
        return []

    class Box:
        pass
    box = Box()
    box.ip, box.ip6 = ip.group(1), ip6.group(1)
    rmap, port = roles(box, tcp.port)
    return [norm(json.loads(l), rmap, port) for l in r.stdout.splitlines()
            if l.startswith("[")]


def check_linux_forms(c, srv, cli):
    """What the reference (host) shows: the dual-stack forms Linux gives,
    so that comparing the other modes with it says something."""
    want = [
        ["listen", ["::", "PORT", 0, 0], 0, 10],
        ["accept", ["GW6", "EPH", 0, 0], ["SELF6", "PORT", 0, 0],
         ["GW6", "EPH", 0, 0], 10],
        ["accept", ["GW4M", "EPH", 0, 0], ["SELF4M", "PORT", 0, 0],
         ["GW4M", "EPH", 0, 0], 10],
        ["recvfrom", ["GW6", "EPH", 0, 0]],
        ["recvfrom", ["GW4M", "EPH", 0, 0]],
    ]
    for w in want:
        c.check("host: %s %s as Linux gives it" % (w[0], w[1]), w in srv,
                str(srv))
    c.check("host: recvmsg names both families",
            ["recvmsg", ["GW6", "EPH", 0, 0], 0] in srv and
            ["recvmsg", ["GW4M", "EPH", 0, 0], 0] in srv, str(srv))
    c.check("host: connect to the IPv6 gateway",
            ["connect", ["SELF6", "EPH", 0, 0], ["GW6", "PORT", 0, 0],
             "ping"] in cli, str(cli))
    c.check("host: connect to a mapped IPv4 address sends IPv4",
            ["connect", ["SELF4M", "EPH", 0, 0], ["GW4M", "PORT", 0, 0],
             "ping"] in cli, str(cli))
    c.check("host: getaddrinfo(localhost) has ::1 and 127.0.0.1",
            ["localhost", [[2, "127.0.0.1"], [10, "::1"]]] in cli, str(cli))
    c.check("host: the sandbox's name has both addresses (/etc/hosts)",
            ["self", [[2, "SELF4"], [10, "SELF6"]]] in cli, str(cli))


def curl(*args):
    return subprocess.run(["curl", "-sS", "-g", "--max-time", "10", "-o",
                           "/dev/null", "-w", "%{http_code}"] + list(args),
                          capture_output=True, text=True, timeout=30)


def check_http(c, net):
    """python3 -m http.server --bind :: reached over both families, and
    through --publish at the host's IPv6 address."""
    pub = sb.free_port("127.0.0.1")
    box = sb.Sandbox([PY, "-m", "http.server", "8000", "--bind", "::"],
                     network=net, extra=["--workdir", "/",
                                         "--publish", "%d:8000" % pub]
                     ).start()
    c.check(net + ": http.server --bind :: listening",
            sb.wait_port(box.ip, 8000))
    r = curl("-6", "http://[%s]:8000/" % box.ip6)
    c.check(net + ": curl -6 to the sandbox", r.stdout == "200", r.stderr)
    r = curl("-4", "http://%s:8000/" % box.ip)
    c.check(net + ": curl -4 to the sandbox", r.stdout == "200", r.stderr)
    r = curl("http://[%s]:%d/" % (sb.GATEWAY6, pub))
    c.check(net + ": --publish over IPv6 (a local IPv6 address)",
            r.stdout == "200", r.stderr)
    r = curl("http://127.0.0.1:%d/" % pub)
    c.check(net + ": --publish over IPv4 still", r.stdout == "200", r.stderr)
    # Linux routes nothing from ::1 out of lo: [::1] is not DNATed, so the
    # host itself answers (nobody listens there: refused at once).
    r = curl("http://[::1]:%d/" % pub)
    c.check(net + ": --publish leaves [::1] alone (refused, not a hang)",
            r.returncode == 7 and "onnect" in r.stderr, repr(r))
    box.stop()


def check_ip6_option(c, net):
    """--ip6 ADDR/N: the sandbox has it, the host reaches it; it shows in
    /etc/hosts and cove list."""
    want = "fd63:6f76:6500:7::5"
    box = sb.Sandbox([PY, "-m", "http.server", "8000", "--bind", "::"],
                     network=net, extra=["--workdir", "/", "--ip6",
                                         want + "/64"]).start()
    c.check(net + ": --ip6 is the sandbox's", box.ip6 == want,
            str(box.ip6))
    sb.wait_port(box.ip, 8000)
    r = curl("http://[%s]:8000/" % want)
    c.check(net + ": --ip6 reached from the host", r.stdout == "200",
            r.stderr)
    r = subprocess.run([sb.cove_bin(), "list"], capture_output=True,
                       text=True)
    row = [l.split() for l in r.stdout.splitlines()
           if l.split()[:1] == [box.name]]
    c.check(net + ": cove list shows the IPv6 address",
            len(row) == 1 and row[0][-1] == want + "/64", r.stdout)
    box.stop()


def check_ipv4_only(c, net):
    r = sb.run(["--network=" + net, "--verbose", "--ipv4-only", "--",
                "cat", "/etc/hosts"])
    c.check(net + ": --ipv4-only runs", r.returncode == 0, r.stderr[-300:])
    c.check(net + ": --ipv4-only: no IPv6 address",
            "IPv6 address" not in r.stderr and "fd63:" not in r.stdout and
            "::1\tlocalhost" in r.stdout, r.stdout + r.stderr[-300:])
    r = sb.run(["--network=" + net, "--ip6=none", "--", "cat", "/etc/hosts"])
    c.check(net + ": --ip6=none is the same",
            r.returncode == 0 and "fd63:" not in r.stdout, r.stdout)


def ns_cove(ns, conf, net, *cmd):
    return subprocess.run(["ip", "netns", "exec", ns.name, sb.cove_bin(net),
                           "run", "--config", conf, "--network=" + net,
                           "--verbose", "--"] + list(cmd),
                          capture_output=True, text=True, timeout=60)


def check_pools(c, net):
    """cove.conf's pool and pool6, in a netns of ours (the runtime sees
    its routes and puts its fences there): addresses from them, and each
    refused once a route Cove did not make overlaps it."""
    conf = os.path.join(HDIR, "cove.conf")
    with open(conf, "w") as f:
        f.write("# sandbox_ipv6.py\npool = 10.213.0.0/24\n"
                "pool6 = fd00:c0e:77::/48\n")
    os.chmod(conf, 0o644)
    ns = netns.Netns(netns.unique("cv-ip6"))
    try:
        r = ns_cove(ns, conf, net, "cat", "/etc/hosts")
        c.check(net + ": pools from cove.conf",
                r.returncode == 0 and
                "sandbox address 10.213.0.2/24" in r.stderr and
                "sandbox IPv6 address fd00:c0e:77::ad5:2/64" in r.stderr and
                "fd00:c0e:77::ad5:2\t" in r.stdout,
                r.stdout + r.stderr[-600:])
        ns.ip("route", "add", "10.213.0.64/26", "dev", "lo")
        r = ns_cove(ns, conf, net, "true")
        c.check(net + ": a pool overlapping a foreign route is refused",
                r.returncode == 125 and r.stderr.count("\n") == 1 and
                "pool: 10.213.0.0/24 overlaps the host's route "
                "10.213.0.64/26 dev lo" in r.stderr, r.stderr)
        ns.ip("route", "del", "10.213.0.64/26", "dev", "lo")
        ns.ip("-6", "route", "add", "fd00:c0e:77::/64", "dev", "lo")
        r = ns_cove(ns, conf, net, "true")
        c.check(net + ": a pool6 overlapping a foreign route is refused",
                r.returncode == 125 and r.stderr.count("\n") == 1 and
                "pool6: fd00:c0e:77::/64 overlaps the host's route" in
                r.stderr, r.stderr)
    finally:
        sb.wait_teardowns()
        ns.delete()
        os.unlink(conf)


def check_no_ipv6(c, net):
    """A stack without IPv6: the program sees a host without IPv6."""
    # Flip this (move the stack to sb.IPV6_STACKS) when its IPv6 lands.
    r = sb.run(["--network=" + net, "--", PY, "-c",
                "import socket\ntry:\n socket.socket(socket.AF_INET6)\n"
                " print('made')\nexcept OSError as e:\n print(e.errno)"])
    c.check(net + ": socket(AF_INET6) is EAFNOSUPPORT",
            r.returncode == 0 and r.stdout.strip() == "97", repr(r))
    r = sb.run(["--network=" + net, "--workdir", "/", "--", "timeout", "5",
                PY, "-m", "http.server", "8000", "--bind", "::"])
    c.check(net + ": http.server --bind :: fails as without IPv6",
            r.returncode == 1 and
            "[Errno 97] Address family not supported by protocol" in r.stderr,
            repr(r)[-400:])
    r = sb.run(["--network=" + net, "--workdir", "/", "--", "timeout", "2",
                PY, "-m", "http.server", "8000", "--bind", "0.0.0.0"])
    c.check(net + ": http.server --bind 0.0.0.0 still serves",
            r.returncode == 124, repr(r)[-400:])


def stacks_to_test():
    """--stacks a,b (else sb.IPV6_STACKS), those this build has."""
    if "--stacks" in sys.argv:
        want = sys.argv[sys.argv.index("--stacks") + 1].split(",")
    else:
        want = list(sb.IPV6_STACKS)
    have = sb.stacks()
    return [s for s in want if s in have]


# Known differences of a stack's client observations, by stack.
KNOWN = {}


def main():
    global HDIR
    c = sb.Checks()
    before = sb.Snapshot()
    HDIR = sb.host_dir("cove-ip6-")
    tcp = sb.HostTcpEcho(0, sb.GATEWAY6)
    udp = sb.HostUdpEcho(tcp.port, sb.GATEWAY6)
    tcp4 = sb.HostTcpEcho(tcp.port, sb.GATEWAY)
    nets = stacks_to_test()
    ref_srv, _ = server_run(c, "host")
    ref_cli = client_run(c, "host", tcp, udp)
    check_linux_forms(c, ref_srv, ref_cli)
    for net in ["host"] + nets:
        if net != "host":
            srv, _ = server_run(c, net)
            c.check(net + ": server observations as on Linux",
                    sorted(map(str, srv)) == sorted(map(str, ref_srv)),
                    "\n  %s\n  host: %s" % (srv, ref_srv))
            cli = client_run(c, net, tcp, udp)
            if cli and net.split("+")[0] in KNOWN:
                cli = KNOWN[net.split("+")[0]](cli)
            c.check(net + ": client observations as on Linux",
                    cli == ref_cli, "\n  %s\n  host: %s" % (cli, ref_cli))
        check_http(c, net)
        check_ip6_option(c, net)
        check_ipv4_only(c, net)
        check_pools(c, net)
    for net in sb.stacks():
        if not sb.ipv6_stack(net):
            check_no_ipv6(c, net)
    tcp.close()
    udp.close()
    tcp4.close()
    shutil.rmtree(HDIR, ignore_errors=True)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
