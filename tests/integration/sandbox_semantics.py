#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Socket semantics through the sentry frontend, against --network=host.

Runs tests/sandbox/sockcheck.c (built by tests/sandbox/meson.build) in a
sandbox on every provider `cove stacks` lists and on --network=host (the
kernel, no interception) with the same host peers: a TCP echo server on
the gateway, a closed port next to it, a UDP echo server, a reset server
(HostResetServer), and two connections into the sandbox when sockcheck
says LISTEN. Every check must
pass everywhere; the only allowed difference is AF_INET6, which the
frontend refuses with EAFNOSUPPORT (the kernel allows it under host).
The family allow list of the filter (families_allow_list) must refuse
the same way in every mode.
Link-based providers run twice: on packet:eth0 and on --link=tap.

Then the differential checks: sockcheck prints "= NAME OBSERVATION" lines
(tests/sandbox/sockdiff*.c) and each mode's line must be the kernel's
(--network=host). A difference that remains is listed in KNOWN with the
exact observation it gives (so a change either way shows) and must be
named in docs/SANDBOX.md ("Known differences"). Per mode the share of
checks that match Linux is printed.
"""

import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

LISTEN_PORT = 7777
DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "docs",
                    "SANDBOX.md")

# (mode, check) -> the observation Cove gives where it still differs from
# Linux; mode is the provider ("builtin", "lwip", "kernel"), the same with
# and without --link=tap. Each is explained in docs/SANDBOX.md.
MODES = ("builtin", "kernel", "lwip")
KNOWN = {}


def known(name, obs, modes=MODES):
    for m in modes:
        KNOWN[(m, name)] = obs


# The program's end is an AF_UNIX stream, which checks its shutdown before
# its error: every write after a reset is EPIPE, and the error goes to the
# next read (Linux: the first write takes it).
known("reset_write", "write=EPIPE write=EPIPE read=ECONNRESET")
# The only error an AF_UNIX end can carry is ECONNRESET.
known("refused_read", "connect=EINPROGRESS poll=IN|OUT|ERR|HUP "
      "read=ECONNRESET read=0 write=EPIPE")
# After a blocking connect() reported the refusal, the pair is shut both
# ways: reads say EOF and poll says IN (Linux: ENOTCONN, no IN).
known("refused_blocking", "connect=ECONNREFUSED poll=IN|OUT|HUP read=0 "
      "write=EPIPE soerr=0 getpeername=ENOTCONN")
# The pair is connected from socket() on: bytes written before connect()
# wait in it (Linux: EPIPE, and ENOTCONN to reads).
known("never_connected", "send=1 write=1 recv=EAGAIN poll=OUT soerr=0")
# The sentry accepts from the kernel ahead of the program (backlog + 1
# queued), so listen(0) holds more than Linux's one connection.
known("pending_connect_listener_close", "pending=no woken=yes soerr=0",
      ["kernel"])
# lwIP has no deferred accept, no pingpong mode and no window clamp: it
# refuses the options as unknown.
for n in ("opt_tcp_defer_accept", "opt_tcp_quickack", "opt_tcp_window_clamp"):
    v = {"opt_tcp_defer_accept": "5", "opt_tcp_quickack": "0",
         "opt_tcp_window_clamp": "100000"}[n]
    w = {"opt_tcp_defer_accept": "0", "opt_tcp_quickack": "1",
         "opt_tcp_window_clamp": "0"}[n]
    known(n, "get=ENOPROTOOPT set(%s)=ENOPROTOOPT get=ENOPROTOOPT "
          "set(%s)=ENOPROTOOPT get=ENOPROTOOPT" % (v, w), ["lwip"])
# lwIP cannot share a port (docs/PLUGINS.md); TCP_SYNCNT has no knob.
known("opt_so_reuseport_tcp", "get=0/4 set(1)=ENOPROTOOPT get=0/4 set(0)=0 "
      "get=0/4", ["lwip"])
known("opt_tcp_syncnt", "get=ENOPROTOOPT set(3)=ENOPROTOOPT get=ENOPROTOOPT "
      "set(0)=ENOPROTOOPT get=ENOPROTOOPT set(256)=ENOPROTOOPT get=ENOPROTOOPT "
      "set(255)=ENOPROTOOPT get=ENOPROTOOPT", ["lwip"])
# builtin and lwip have no socket filters: SO_ATTACH_FILTER on UDP is
# refused as an unknown option (the value's checks and TCP's EPERM are the
# frontend's, as Linux).
known("opt_so_attach_filter_udp", "attach=ENOPROTOOPT get(0)=0/0x0 "
      "get(2)=0/0x0 bpf(-1)=EBADF bpf(0)=EINVAL attach(empty)=EINVAL "
      "attach(short)=EINVAL detach=ENOENT detach=ENOENT", ["builtin", "lwip"])
known("opt_so_attach_filter_drops", "attach=ENOPROTOOPT recv=1 recv=1",
      ["builtin", "lwip"])
# lwIP's FIN-WAIT-2 limit is 20 s (Linux's tcp_fin_timeout: 60 s).
known("opt_tcp_linger2", "get=20/4 set(10)=0 get=10/4 set(0)=0 get=20/4 "
      "set(500)=0 get=120/4 set(-1)=0 get=-1/4", ["lwip"])

# The lwip provider has no IPv4 group membership (docs/SANDBOX.md): every
# membership option and IP_MULTICAST_ALL is an unknown option there.
E = "ENOPROTOOPT"
_memb = ("join=%s again=%s againn=%s unicast=%s short=%s ifaddr=%s "
         "dropother=%s dropunicast=%s drop=%s dropagain=%s get=%s"
         % ((E,) * 11))
known("opt_ip_membership_udp", _memb + " join1=" + E, ["lwip"])
known("opt_ip_membership_tcp", _memb, ["lwip"])
known("opt_ip_multicast_all", "get=%s set(0)=%s get=%s set(2)=%s get=%s "
      "set(1)=%s get=%s" % ((E,) * 7), ["lwip"])
known("opt_ip_multicast_all_byte", "set1(0)=%s get=%s get=%s" % ((E,) * 3),
      ["lwip"])
known("opt_ip_source_membership_udp", " ".join(
    "%s=%s" % (w, E) for w in ("block", "len", "add", "add", "block", "drop",
                               "drop", "drop", "join", "block", "block",
                               "unblock", "unblock")), ["lwip"])
known("bind_group_udp", "bind=EADDRNOTAVAIL name=0.0.0.0", ["lwip"])


class HostResetServer:
    """Reads one command byte, then resets the connection (SO_LINGER 0):
    'R' at once, 'D' after sending b"data"."""

    def __init__(self, ip=sb.GATEWAY):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sb._freebind(self.sock)
        self.sock.bind((ip, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    @staticmethod
    def _one(c):
        try:
            c.settimeout(10)
            cmd = c.recv(1)
            if cmd == b"D":
                c.sendall(b"data")
                time.sleep(0.05)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        c.close()

    def close(self):
        self.sock.close()


def run_one(net, tcp_port, udp_port, reset_port):
    extra = []
    if net.endswith("+tap"):
        net = net[:-4]
        extra = ["--link=tap"]
    p = subprocess.Popen([sb.cove_bin(net), "run", "--verbose",
                          "--network=" + net] + extra + ["--",
                          sb.sockcheck_bin(),
                          sb.GATEWAY, str(tcp_port), str(udp_port),
                          str(LISTEN_PORT), str(reset_port)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    ip = None
    while True:
        line = p.stderr.readline()
        if not line or "program running" in line:
            break
        if "sandbox address" in line:
            ip = line.split("sandbox address ")[1].split("/")[0]
    lines = []
    for line in p.stdout:
        line = line.strip()
        lines.append(line)
        if line.startswith("LISTEN"):
            for _ in range(2):
                s = socket.create_connection((ip, LISTEN_PORT), timeout=5)
                s.sendall(b"x")
                s.close()
    p.wait(120)
    return p.returncode, lines


def observations(lines):
    """The differential checks' lines: {name: observation}."""
    out = {}
    for line in lines:
        if line.startswith("= "):
            name, _, obs = line[2:].partition(" ")
            out[name] = obs
    return out


def compare(c, net, obs, kernel, docs):
    """Each check of @net against the kernel's; Return: (matched, total)."""
    mode = net[:-4] if net.endswith("+tap") else net
    matched = 0
    for name, want in sorted(kernel.items()):
        got = obs.get(name, "(missing)")
        if got == want:
            matched += 1
            c.check("%s: = %s" % (net, name), True, got)
            continue
        known = KNOWN.get((mode, name))
        c.check("%s: = %s (known difference, pinned)" % (net, name),
                known == got and name in docs,
                "got  %s\nLinux %s\nknown %s%s" %
                (got, want, known,
                 "" if name in docs else " (not in docs/SANDBOX.md)"))
    return matched, len(kernel)


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    port = sb.free_port()
    tcp = sb.HostTcpEcho(port)
    udp = sb.HostUdpEcho()
    reset = HostResetServer()
    with open(DOCS) as f:
        docs = f.read()
    results = {}
    share = {}
    nets = ["host"] + sb.stacks()
    # Link-based providers also on --link=tap.
    nets += [n + "+tap" for n in sb.stacks() if n != "kernel"]
    for net in nets:
        rc, lines = run_one(net, port, udp.port, reset.port)
        results[net] = lines
        obs = observations(lines)
        if net == "host":
            kernel = obs
            c.check("host: differential checks ran", len(obs) >= 57,
                    str(len(obs)))
        else:
            share[net] = compare(c, net, obs, kernel, docs)
        for line in lines:
            if line.endswith(" ok") or " FAIL: " in line:
                c.check("%s: %s" % (net, line.split()[0]),
                        line.endswith(" ok"), line)
        c.check("%s: sockcheck finished cleanly" % net, rc == 0,
                "exit %s: %s" % (rc, lines[-3:]))
        inet6 = [l for l in lines if l.startswith("inet6 ")]
        want = "inet6 allowed" if sb.ipv6_stack(net) else \
            "inet6 eafnosupport"
        c.check("%s: %s" % (net, want), inet6 == [want], str(inet6))
    for net, (m, t) in share.items():
        print("match share %-12s %d/%d (%.0f%%)" % (net, m, t,
                                                  100.0 * m / max(t, 1)))
    tcp.close()
    udp.close()
    reset.close()
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
