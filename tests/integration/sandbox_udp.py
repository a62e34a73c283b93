#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""UDP servers in a sandbox, answered as on Linux.

For --network=host (the kernel in a plain netns: the Linux reference) and
every provider, a server runs inside `cove run` and a client on the host
side (bound to the gateway, IP_FREEBIND, so it only talks over the
sandbox's veth) sends it datagrams:

- an echo server in Python that replies with sendmsg() to the address
  recvmsg() reported, after a recvmsg(MSG_PEEK) into a 4-byte buffer (the
  reply states what it saw: the source address, the length, the peeked
  bytes and MSG_TRUNC, and that MSG_ERRQUEUE finds nothing), after
  setting IP_MTU_DISCOVER and IP_RECVERR as unbound does;
- the same server with recvmmsg()/sendmmsg() (ctypes), echoing a burst;
- dnsmasq (Debian's) bound to the sandbox address, asked with dig;
- unbound (which sets IP_MTU_DISCOVER on its UDP sockets and exits if
  that fails) on 0.0.0.0 with a local zone, asked with dig;
- memcached with only its UDP port, spoken to with the UDP frame header.

Each provider's answers must be the ones the host mode gives.
"""

import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import sandbox as sb  # noqa: E402

ECHO = r'''
import ctypes, socket, sys
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 5)   # IP_MTU_DISCOVER, IP_PMTUDISC_OMIT
s.setsockopt(socket.IPPROTO_IP, 11, 1)   # IP_RECVERR
mtu = s.getsockopt(socket.IPPROTO_IP, 10)
s.bind(("0.0.0.0", port))
if mode == "msg":
    while True:
        pk, _, pfl, paddr = s.recvmsg(4, 0, socket.MSG_PEEK)
        try:    # a datagram is queued, the error queue is empty
            s.recvmsg(64, 64, socket.MSG_ERRQUEUE)
            errq = "data"
        except OSError as e:
            errq = str(e.errno)
        d, _, fl, addr = s.recvmsg(65536)
        head = "%s:%d|%d|%r|%d|%d|%d|%s|" % (addr[0], addr[1], len(d), pk,
                                             bool(pfl & socket.MSG_TRUNC),
                                             paddr == addr, mtu, errq)
        s.sendmsg([head.encode(), d], [], 0, addr)
libc = ctypes.CDLL(None, use_errno=True)
class Iov(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class Msg(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(Iov)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]
class MMsg(ctypes.Structure):
    _fields_ = [("hdr", Msg), ("len", ctypes.c_uint)]
N = 8
bufs = [ctypes.create_string_buffer(2048) for _ in range(N)]
names = [ctypes.create_string_buffer(32) for _ in range(N)]
iovs = (Iov * N)()
msgs = (MMsg * N)()
while True:
    for i in range(N):
        iovs[i].base, iovs[i].len = ctypes.addressof(bufs[i]), 2048
        h = msgs[i].hdr
        h.name, h.namelen = ctypes.addressof(names[i]), 32
        h.iov, h.iovlen = ctypes.pointer(iovs[i]), 1
        h.control, h.controllen, h.flags = None, 0, 0
    n = libc.recvmmsg(s.fileno(), msgs, N, 0x10000, None)  # MSG_WAITFORONE
    if n <= 0:
        continue
    for i in range(n):
        # The reply says how long the name was: 16 for sockaddr_in.
        tag = b"%d:" % msgs[i].hdr.namelen
        ctypes.memmove(ctypes.addressof(bufs[i]) + 1024,
                       tag + bufs[i].raw[:msgs[i].len], len(tag) +
                       msgs[i].len)
        iovs[i].base = ctypes.addressof(bufs[i]) + 1024
        iovs[i].len = len(tag) + msgs[i].len
    libc.sendmmsg(s.fileno(), msgs, n, 0)
'''


def client():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sb._freebind(s)
    s.bind((sb.GATEWAY, 0))
    s.settimeout(0.3)
    return s


def ask(ip, port, payload, want=1, timeout=15, raw=False):
    """Send @payload (resent until answered) and collect @want replies."""
    s = client()
    got = []
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end and not got:
            try:
                for p in payload if isinstance(payload, list) else [payload]:
                    s.sendto(p, (ip, port))
                while len(got) < want:
                    got.append(s.recv(65536))
            except socket.timeout:
                pass
            except OSError:
                break   # the server exited and its sandbox is gone
        return got, "%s:%d" % s.getsockname()
    finally:
        s.close()


def run_echo(c, net, mode, results):
    port = 7000 if mode == "msg" else 7001
    box = sb.Sandbox(["/usr/bin/python3", "-c", ECHO, str(port), mode],
                     network=net).start()
    try:
        if mode == "msg":
            big = b"hello, udp " * 100
            got, me = ask(box.ip, port, big)
            want = ("%s|%d|%r|1|1|5|11|" % (me, len(big), big[:4])).encode() \
                + big
            ok = c.check("%s: recvmsg/sendmsg echo with the source address"
                         % net, got == [want], repr(got)[:300])
            results.setdefault(mode, {})[net] = \
                [g.replace(me.encode(), b"ME") for g in got] if ok else None
        else:
            burst = [b"d%d" % i for i in range(5)]
            got, _ = ask(box.ip, port, burst, want=len(burst))
            want = sorted(b"16:" + b for b in burst)
            ok = c.check("%s: recvmmsg/sendmmsg echo of a burst" % net,
                         sorted(set(got)) == want, repr(got)[:300])
            results.setdefault(mode, {})[net] = sorted(set(got)) \
                if ok else None
    finally:
        box.stop()


UNBOUND_CONF = '''server:
  interface: 0.0.0.0
  port: 5354
  do-daemonize: no
  username: ""
  chroot: ""
  pidfile: ""
  use-syslog: no
  logfile: ""
  do-ip6: no
  do-tcp: no
  auto-trust-anchor-file: ""
  access-control: 0.0.0.0/0 allow
  local-zone: "test.example." static
  local-data: "test.example. A 10.1.2.4"
'''


def dig(ip, port, name):
    """dig +short from the gateway, retried while the server starts."""
    out, err = "", ""
    for _ in range(20):
        r = subprocess.run(["dig", "+short", "+time=1", "+tries=1",
                            "-b", sb.GATEWAY, "-p", str(port), "@" + ip,
                            name, "A"],
                           capture_output=True, text=True, timeout=10)
        out, err = r.stdout.strip(), r.stderr
        if r.returncode == 0 and out:
            break
        time.sleep(0.3)
    return out, err


def run_unbound(c, net, results, conf):
    box = sb.Sandbox(["unbound", "-d", "-c", conf], network=net).start()
    try:
        out, err = dig(box.ip, 5354, "test.example")
        c.check("%s: unbound answers dig" % net, out == "10.1.2.4",
                out + err[-200:] + "".join(box.log[-5:]))
        results.setdefault("unbound", {})[net] = out
    finally:
        box.stop()


def run_dnsmasq(c, net, results):
    cmd = ("exec dnsmasq --no-daemon --user=root --port=5353 --no-resolv "
           "--no-hosts --address=/test.example/10.1.2.3 --conf-file=/dev/null "
           # hostname -i names the IPv6 address too (/etc/hosts): IPv4
           "--listen-address=$(hostname -i | tr ' ' '\\n' | grep -v :) "
           "--bind-interfaces")
    box = sb.Sandbox(["sh", "-c", cmd], network=net).start()
    try:
        out, err = dig(box.ip, 5353, "test.example")
        c.check("%s: dnsmasq answers dig" % net, out == "10.1.2.3",
                out + err[-200:] + "".join(box.log[-5:]))
        results.setdefault("dnsmasq", {})[net] = out
    finally:
        box.stop()


def memcached_req(rid, text):
    # UDP frame header: request id, sequence 0, 1 datagram, reserved.
    return bytes([rid >> 8, rid & 255, 0, 0, 0, 1, 0, 0]) + text


def run_memcached(c, net, results):
    box = sb.Sandbox(["memcached", "-u", "root", "-U", "11311", "-p", "0",
                      "-l", "0.0.0.0"], network=net).start()
    try:
        got, _ = ask(box.ip, 11311,
                     memcached_req(1, b"set k 0 0 5\r\nhello\r\n"))
        c.check("%s: memcached UDP set" % net,
                got == [memcached_req(1, b"STORED\r\n")], repr(got))
        got, _ = ask(box.ip, 11311, memcached_req(2, b"get k\r\n"))
        want = memcached_req(2, b"VALUE k 0 5\r\nhello\r\nEND\r\n")
        c.check("%s: memcached UDP get" % net, got == [want], repr(got))
        results.setdefault("memcached", {})[net] = got
    finally:
        box.stop()


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    results = {}
    nets = ["host"] + sb.stacks()
    # Not under the host's /tmp: the default sandbox has its own.
    confdir = sb.host_dir(prefix="cove-udp-")
    conf = os.path.join(confdir, "unbound.conf")
    with open(conf, "w") as f:
        f.write(UNBOUND_CONF)
    os.chmod(conf, 0o644)
    try:
        for net in nets:
            run_echo(c, net, "msg", results)
            run_echo(c, net, "mmsg", results)
            run_dnsmasq(c, net, results)
            run_unbound(c, net, results, conf)
            run_memcached(c, net, results)
        for what, per in results.items():
            for net in nets[1:]:
                if net in per:
                    c.check("%s: %s answers as on Linux" % (net, what),
                            per[net] is not None and
                            per[net] == per.get("host"),
                            "%r vs %r" % (per[net], per.get("host")))
    finally:
        sb.cleanup()
        shutil.rmtree(confdir, ignore_errors=True)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
