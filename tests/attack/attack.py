#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The attack suite: crafted frames against a stack while a client works.

Theory of operation. For each target a private topology is made: two
network namespaces joined by a veth. The target namespace (B) holds the
server on 10.79.0.2/24: `cove stack-serve` with builtin or lwip on the
veth's end by AF_PACKET, or, as the baseline, Linux itself
(`stack-serve --stack kernel`, the kernel owns the address). The client
namespace (A, 10.79.0.1/24) holds two things:

  - the legitimate client (legit.py, its own process so the attacker's
    loops cannot starve it): a persistent echo connection exchanging a
    message every 20 ms and a new HTTP connection every 100 ms; a stall
    is an exchange slower than Linux's initial RTO (1 s);
  - the attacker: frames built with scapy and written to the veth from an
    AF_PACKET socket, so they bypass the client kernel's own TCP; spoofed
    sources are addresses of the subnet that nobody has (answers to them
    wait for ARP and die). Attacks that need the legitimate connection's
    4-tuple read it from the client; those that aim into its window read
    the server's last segment from a sniffer (an attacker who guessed the
    window: the strongest blind attacker).

Attacks run one after another on the same server (they are cumulative on
purpose: memory must come back). Around each, the client's window is
marked (legit.py), the server's memory is sampled every 100 ms (stack
memory: the provider's mem_bytes statistic, socket buffers, plus
frames_held times the frame size, for builtin and lwip; for Linux the
netns's reassembly memory, /proc/net/sockstat FRAG, plus the sockets'
skmem from ss; and the process's RSS), and the result is "held" when the
client saw no error and no stall and the server still runs.

Usage: attack.py [--quick] [--targets builtin,lwip,linux] [--json FILE]
                 [--attacks NAME,...]
Env: COVE_BUILD (build directory; default build).
"""

import argparse
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "lib"))
import netns  # noqa: E402
from stackserve import StackServe, ServeError  # noqa: E402

from scapy.config import conf  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

conf.verb = 0

CLIENT, SERVER, PREFIX = "10.79.0.1", "10.79.0.2", 24
ROUTER = "10.79.0.254"		# an ICMP error's "router" nobody has
ECHO, HTTP, UDP_ECHO = 7007, 8080, 7007
SERVERS = ["--echo", str(ECHO), "--http", str(HTTP), "--udp-echo",
           str(UDP_ECHO)]
FRAME_BYTES = 1536		# COVE_FRAME_DEFAULT_SIZE, stack-serve's frames
EVIL = b"EVIL-INJECTED-DATA"
CONTROL = "control: valid data at RCV.NXT (must disturb)"
ETH_P_IP = 0x0800
SOL_PACKET, PACKET_IGNORE_OUTGOING, SO_RCVBUFFORCE = 263, 23, 33


class Size:
    """How hard each attack pushes: quick (make check) or full."""

    def __init__(self, quick):
        k = 1 if quick else 10
        self.quick = quick
        self.rounds = 20 * k		# passes over a list of variants
        self.flood = 3000 if quick else 50000
        self.frags = 150 if quick else 2000	# incomplete datagrams
        self.zero_conns = 40 if quick else 200
        self.secs = 1.0 if quick else 5.0	# an attack's duration
        self.settle = 1.1 if quick else 3.0	# > legit.STALL_S: a stuck
        # exchange still waits at the mark after it, and counts as a stall


def spoofed(rnd):
    """A source of the subnet that nobody has (.100 to .250)."""
    return "10.79.0.%d" % rnd.randrange(100, 251)


class Ctx:
    """What an attack needs: the wire, the legit connection, sizes."""

    def __init__(self, target, size, mac_a, mac_b):
        self.target, self.size = target, size
        self.mac_a, self.mac_b = mac_a, mac_b
        self.rnd = random.Random(1301)
        self.port = 0			# the legit echo connection's port
        self.wire = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.wire.bind(("cva", 0))
        self.sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                   socket.htons(ETH_P_IP))
        # only what the server sends, and room for seconds of it: a full
        # buffer would drop the newest segments and leave stale numbers
        self.sniff.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        self.sniff.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        self.sniff.bind(("cva", ETH_P_IP))	# host order, unlike socket()
        self.sniff.setblocking(False)
        self.last = None		# (RCV.NXT, SND.NXT) of the server
        self.sent = 0

    def close(self):
        self.wire.close()
        self.sniff.close()

    def eth(self):
        return Ether(src=self.mac_a, dst=self.mac_b)

    def frame(self, pkt):
        """A scapy packet (IP or Ether) as the bytes of a frame."""
        if not isinstance(pkt, Ether):
            pkt = self.eth() / pkt
        return bytes(pkt)

    def send(self, frames, secs=0.0):
        """Write @frames (bytes or packets) to the wire, spread over @secs."""
        frames = [f if isinstance(f, bytes) else self.frame(f)
                  for f in frames]
        batches = max(1, int(secs / 0.01))
        per = max(1, (len(frames) + batches - 1) // batches)
        t0 = time.monotonic()
        for i in range(0, len(frames), per):
            for f in frames[i:i + per]:
                self._write(f)
            due = t0 + secs * (i + per) / max(1, len(frames))
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)

    def _write(self, f):
        for _ in range(1000):
            try:
                self.wire.send(f)
                self.sent += 1
                return
            except OSError as e:	# ENOBUFS: the veth's queue is full
                if e.errno not in (105, 11):
                    raise
                time.sleep(0.0005)

    def window(self):
        """(RCV.NXT, SND.NXT) of the server's side of the legit connection,
        from the last segment the server sent on it."""
        end = time.monotonic() + 5
        while self._drain() is None:
            if time.monotonic() > end:
                raise RuntimeError("no segment of the legit connection "
                                   "(port %d) seen for 5 s" % self.port)
            time.sleep(0.05)
        return self.last

    def _drain(self):
        """Read what the sniffer holds; return the newest numbers."""
        while True:
            try:
                p = self.sniff.recv(65535)
            except BlockingIOError:
                return self.last
            if p[12:14] != b"\x08\x00":
                continue
            ip = p[14:]
            if len(ip) < 40 or ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            th = ip[ihl:]
            sport, dport, seq, ack = struct.unpack("!HHII", th[:12])
            if (sport, dport) != (ECHO, self.port):
                continue
            plen = struct.unpack("!H", ip[2:4])[0] - ihl - (th[12] >> 4) * 4
            self.last = (ack, (seq + plen) & 0xffffffff)

    def legit_tcp(self, seq, ack, flags, payload=b"", **kw):
        """A segment from the legit client's 4-tuple to the echo server."""
        return IP(src=CLIENT, dst=SERVER) / TCP(
            sport=self.port, dport=ECHO, seq=seq & 0xffffffff,
            ack=ack & 0xffffffff, flags=flags, window=65535, **kw) / \
            Raw(payload)


# --- the attacks ---------------------------------------------------------

def sack(left, right):
    """One SACK block's bytes (sequence numbers taken modulo 2^32)."""
    return struct.pack("!II", left & 0xffffffff, right & 0xffffffff)


def malformed_variants(ctx, rcv, snd):
    """Frames with bad lengths, offsets and options; those that carry data
    aim it at RCV.NXT with a valid ACK, so a stack that took one would
    echo the bytes back into the legit stream."""
    lt = ctx.legit_tcp
    eth = ctx.eth()
    out = [
        lt(rcv, snd, "PA", EVIL, chksum=0x1234),		# bad TCP sum
        IP(src=CLIENT, dst=SERVER, chksum=0x1234) /
        TCP(sport=ctx.port, dport=ECHO, seq=rcv, ack=snd, flags="PA") /
        EVIL,							# bad IP sum
        lt(rcv, snd, "PA", EVIL, dataofs=15),		# offset past end
        lt(rcv, snd, "PA", EVIL, dataofs=2),		# offset < 5
        lt(rcv, snd, "PA", EVIL, dataofs=0),
        IP(src=CLIENT, dst=SERVER, ihl=15) /
        TCP(sport=ctx.port, dport=ECHO, seq=rcv, ack=snd, flags="PA") /
        EVIL,							# IHL past data
        IP(src=CLIENT, dst=SERVER, ihl=3) /
        TCP(sport=ctx.port, dport=ECHO, seq=rcv, ack=snd, flags="PA") /
        EVIL,							# IHL < 5
        IP(src=CLIENT, dst=SERVER, len=1500) /
        TCP(sport=ctx.port, dport=ECHO, seq=rcv, ack=snd, flags="PA") /
        EVIL,							# length > frame
        IP(src=CLIENT, dst=SERVER, len=30) /
        TCP(sport=ctx.port, dport=ECHO, seq=rcv, ack=snd, flags="PA") /
        EVIL,							# cuts the TCP hdr
        IP(src=CLIENT, dst=SERVER, len=12) /
        TCP(sport=ctx.port, dport=ECHO, seq=rcv, ack=snd, flags="PA"),
        IP(src=CLIENT, dst=SERVER, version=6) /
        TCP(sport=ctx.port, dport=ECHO, seq=rcv, ack=snd, flags="PA") /
        EVIL,
        # a pure ACK whose frame carries junk past the IP length
        eth / Raw(bytes(IP(src=CLIENT, dst=SERVER) /
                        TCP(sport=ctx.port, dport=ECHO, seq=rcv, ack=snd,
                            flags="A", window=65535)) + EVIL),
        # options overrunning the header, on pure ACKs (no data, valid)
        lt(rcv, snd, "A", b"\x02\x08\x05\xb4", dataofs=6),
        lt(rcv, snd, "A", b"\x08\x0a\x00\x00", dataofs=6),
        lt(rcv, snd, "A", b"\x05\x22\x00\x00\x00\x00\x00\x00", dataofs=7),
        lt(rcv, snd, "A", b"\x03\x00\x00\x00", dataofs=6),	# len 0
        lt(rcv, snd, "A", b"\x05\x01\x01\x01", dataofs=6),	# len 1
        # SACK of bytes never sent, and reversed
        lt(rcv, snd, "A", b"\x05\x0a" + sack(snd + 99999, snd + 1),
           dataofs=8),
        lt(rcv, snd, "A", b"\x01\x01\x05\x0a" + sack(snd + 5000,
                                                       snd - 5000),
           dataofs=8),
        # flag soup at RCV.NXT + 1 (in the window, never exactly)
        lt(rcv + 1, snd, "FSRPAUEC", EVIL),
        lt(rcv + 1, snd, "SF", EVIL),
        lt(rcv, snd, "", EVIL),				# no flags: no ACK
        lt(rcv, snd, "PU", EVIL, urgptr=0xffff),	# no ACK, URG
        # truncated headers
        eth / Raw(bytes(IP(src=CLIENT, dst=SERVER, proto=6, len=30) /
                        Raw(b"\0" * 10))),
        eth / Raw(bytes(IP(src=CLIENT, dst=SERVER))[:12]),
        eth / Raw(b"\x45"),
        # UDP and ICMP with lengths that lie
        IP(src=CLIENT, dst=SERVER) / UDP(sport=40000, dport=UDP_ECHO,
                                         len=900) / (b"x" * 10),
        IP(src=CLIENT, dst=SERVER) / UDP(sport=40000, dport=UDP_ECHO,
                                         len=3) / (b"x" * 10),
        eth / Raw(bytes(IP(src=CLIENT, dst=SERVER, proto=1, len=24) /
                        Raw(b"\x08\x00\x00\x00"))),
        # SYNs to the listener with hostile options
        IP(src=CLIENT, dst=SERVER) / TCP(sport=ctx.rnd.randrange(20000,
                                                                 30000),
                                         dport=HTTP, flags="S",
                                         options=[("MSS", 0),
                                                  ("WScale", 255)]),
        IP(src=CLIENT, dst=SERVER) / TCP(sport=ctx.rnd.randrange(20000,
                                                                 30000),
                                         dport=HTTP, flags="S",
                                         dataofs=15) / (b"\x02\x28" * 4),
    ]
    return out


def attack_malformed(ctx):
    for _ in range(ctx.size.rounds):
        rcv, snd = ctx.window()
        ctx.send(malformed_variants(ctx, rcv, snd),
                 ctx.size.secs / ctx.size.rounds)


def _segment_bytes(ctx, rcv, snd, payload, flags="PA"):
    """The IP payload (TCP header + data) of a legit-tuple segment."""
    pkt = IP(bytes(ctx.legit_tcp(rcv, snd, flags, payload)))
    return bytes(pkt[TCP])


def _frag(src, ident, off8, more, data, proto=6):
    return IP(src=src, dst=SERVER, id=ident, proto=proto,
              flags="MF" if more else 0, frag=off8) / Raw(data)


def attack_frag_overlap(ctx):
    """Overlapping fragments of a data segment at RCV.NXT: bytes 24-31
    arrive twice with different contents, and the checksum is valid for
    the first copy winning in one datagram and for the last in the other,
    so a stack that resolves the overlap either way takes the data (and
    the echo shows it); a stack must drop both (RFC 5722's rule, Linux
    since 4.19). Then teardrop: a last fragment inside the first."""
    per = max(1, ctx.size.rounds // 2)
    for _ in range(per):
        rcv, snd = ctx.window()
        x = _segment_bytes(ctx, rcv, snd, b"A" * 32)
        y = _segment_bytes(ctx, rcv, snd, b"B" * 32)
        frames = []
        for first_wins in (True, False):
            whole = x[:32] + y[32:] if first_wins else x[:24] + y[24:]
            valid = _segment_bytes(ctx, rcv, snd, whole[20:])
            ident = ctx.rnd.randrange(1, 65536)
            frames.append(_frag(CLIENT, ident, 0, True,
                                valid[:24] + x[24:32]))
            frames.append(_frag(CLIENT, ident, 3, False, y[24:]))
            ident = ctx.rnd.randrange(1, 65536)
            frames.append(_frag(CLIENT, ident, 0, True, x[:24]))
            frames.append(_frag(CLIENT, ident, 1, False, y[8:16]))
        ctx.send(frames, ctx.size.secs / per)


def attack_frag_tiny(ctx):
    """8-byte fragments: SYNs to the listener from spoofed sources (the
    first fragment holds only ports and sequence, RFC 1858), and data on
    the legit tuple whose ACK is far out of range."""
    frames = []
    n = 20 * ctx.size.rounds
    for i in range(n):
        src = spoofed(ctx.rnd)
        syn = bytes(IP(bytes(IP(src=src, dst=SERVER) / TCP(
            sport=ctx.rnd.randrange(1024, 65536), dport=HTTP, flags="S",
            seq=ctx.rnd.getrandbits(32))))[TCP])
        ident = ctx.rnd.randrange(1, 65536)
        for off in range(0, len(syn), 8):
            frames.append(_frag(src, ident, off // 8, off + 8 < len(syn),
                                syn[off:off + 8]))
    ctx.send(frames, ctx.size.secs / 2)
    frames = []
    for _ in range(ctx.size.rounds):
        rcv, snd = ctx.window()
        seg = _segment_bytes(ctx, rcv, snd - (1 << 30), EVIL)
        ident = ctx.rnd.randrange(1, 65536)
        for off in range(0, len(seg), 8):
            frames.append(_frag(CLIENT, ident, off // 8, off + 8 < len(seg),
                                seg[off:off + 8]))
    ctx.send(frames, ctx.size.secs / 2)


def attack_frag_incomplete(ctx):
    """Datagrams that never complete: full-size first fragments with
    the last never sent, from the client and from spoofed sources, and
    fragments ending past 65,535 bytes (ping of death). Reassembly memory
    must stay bounded."""
    frames = []
    chunk = b"\xa5" * 1480
    for i in range(ctx.size.frags):
        src = CLIENT if i % 2 else spoofed(ctx.rnd)
        ident = ctx.rnd.randrange(1, 65536)
        proto = (6, 17, 1)[i % 3]
        for k in range(8):
            frames.append(_frag(src, ident, k * 185, True, chunk, proto))
        frames.append(_frag(src, ident, 8189, False, b"\0" * 100, proto))
    ctx.send(frames, ctx.size.secs)


def _blind(ctx, flags, data=b"", n=None):
    n = n or 50 * ctx.size.rounds
    frames = [ctx.legit_tcp(ctx.rnd.getrandbits(32), ctx.rnd.getrandbits(32),
                            flags, data) for _ in range(n)]
    ctx.send(frames, ctx.size.secs)


def attack_blind_rst(ctx):
    """RSTs on the legit 4-tuple at random sequence numbers."""
    _blind(ctx, "R")
    _blind(ctx, "RA")


def attack_blind_syn(ctx):
    """SYNs on the legit (synchronized) 4-tuple at random sequences."""
    _blind(ctx, "S")


def attack_blind_data(ctx):
    """Data on the legit 4-tuple at random sequence and ACK numbers."""
    _blind(ctx, "PA", EVIL)


def attack_window_rst(ctx):
    """RSTs and SYNs inside the receive window but never at RCV.NXT
    (RFC 5961: a challenge ACK, not a reset)."""
    for _ in range(ctx.size.rounds):
        rcv, snd = ctx.window()
        frames = [ctx.legit_tcp(rcv + 1 + ctx.rnd.randrange(30000), 0, "R")
                  for _ in range(40)]
        frames += [ctx.legit_tcp(rcv + 1 + ctx.rnd.randrange(30000), 0, "S")
                   for _ in range(10)]
        ctx.send(frames, ctx.size.secs / ctx.size.rounds)


def attack_window_data(ctx):
    """Data at RCV.NXT whose ACK is out of range (RFC 5961 section 5:
    unsent data, or older than any window) or missing."""
    for _ in range(ctx.size.rounds):
        rcv, snd = ctx.window()
        frames = [ctx.legit_tcp(rcv, snd + 100000, "PA", EVIL),
                  ctx.legit_tcp(rcv, snd - (1 << 30), "PA", EVIL),
                  ctx.legit_tcp(rcv, snd + (1 << 31) - 1, "PA", EVIL),
                  ctx.legit_tcp(rcv, 0, "P", EVIL)]
        ctx.send(frames * 5, ctx.size.secs / ctx.size.rounds)


def attack_zero_window(ctx):
    """Peers that ask for large responses and never read: their windows
    go to zero and stay there; the server must persist, not grow."""
    conns = []
    try:
        for _ in range(ctx.size.zero_conns):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
            s.settimeout(5)
            s.connect((SERVER, HTTP))
            s.sendall(b"GET /%d HTTP/1.1\r\n\r\n" % (64 << 20))
            conns.append(s)
        time.sleep(ctx.size.secs + 1)
    finally:
        for s in conns:
            s.close()


def attack_icmp(ctx):
    """Spoofed ICMP errors quoting the legit connection (the server's
    side of it, at its real sequence and at random ones): unreachable of
    every kind, fragmentation needed with tiny MTUs, time exceeded,
    parameter problem, source quench; from the client and a router."""
    kinds = [(3, c, 0) for c in (0, 1, 2, 3, 9, 10, 13)] + \
        [(3, 4, m) for m in (0, 68, 296, 576)] + \
        [(11, 0, 0), (12, 0, 0), (4, 0, 0)]
    for _ in range(ctx.size.rounds):
        rcv, snd = ctx.window()
        frames = []
        for t, c, mtu in kinds:
            for seq in (snd, ctx.rnd.getrandbits(32)):
                quote = bytes(IP(src=SERVER, dst=CLIENT) / TCP(
                    sport=ECHO, dport=ctx.port, seq=seq, ack=rcv,
                    flags="PA"))[:28]
                src = ROUTER if c == 4 or t == 11 else CLIENT
                icmp = ICMP(type=t, code=c, nexthopmtu=mtu) if t == 3 \
                    else ICMP(type=t, code=c)
                frames.append(IP(src=src, dst=SERVER) / icmp / Raw(quote))
        ctx.send(frames, ctx.size.secs / ctx.size.rounds)


def attack_closed_ports(ctx):
    """SYNs, ACKs and UDP datagrams to closed ports, spoofed and not."""
    frames = []
    for i in range(ctx.size.flood):
        src = CLIENT if i % 4 == 0 else spoofed(ctx.rnd)
        port = ctx.rnd.randrange(1, 65536)
        if port in (ECHO, HTTP):
            port = 9
        sport = ctx.rnd.randrange(1024, 65536)
        kind = i % 3
        if kind == 2:
            frames.append(IP(src=src, dst=SERVER) /
                          UDP(sport=sport, dport=port) / (b"x" * 32))
        else:
            frames.append(IP(src=src, dst=SERVER) / TCP(
                sport=sport, dport=port, flags="S" if kind == 0 else "A",
                seq=ctx.rnd.getrandbits(32), ack=ctx.rnd.getrandbits(32)))
    ctx.send(frames, ctx.size.secs)


def attack_syn_flood(ctx):
    """SYNs from spoofed sources to both listeners, as fast as the wire
    takes them (full) or spread over the attack (quick)."""
    frames = [IP(src=spoofed(ctx.rnd), dst=SERVER) / TCP(
        sport=ctx.rnd.randrange(1024, 65536), dport=(HTTP, ECHO)[i % 2],
        flags="S", seq=ctx.rnd.getrandbits(32),
        options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)])
        for i in range(ctx.size.flood)]
    ctx.send(frames, ctx.size.secs if ctx.size.quick else 0)


def attack_ack_flood(ctx):
    """ACKs with random numbers from spoofed sources to the listeners
    (each one a SYN cookie to check), and on the legit 4-tuple."""
    frames = []
    for i in range(ctx.size.flood):
        if i % 5 == 0:
            frames.append(ctx.legit_tcp(ctx.rnd.getrandbits(32),
                                        ctx.rnd.getrandbits(32), "A"))
            continue
        frames.append(IP(src=spoofed(ctx.rnd), dst=SERVER) / TCP(
            sport=ctx.rnd.randrange(1024, 65536), dport=(HTTP, ECHO)[i % 2],
            flags="A", seq=ctx.rnd.getrandbits(32),
            ack=ctx.rnd.getrandbits(32)))
    ctx.send(frames, ctx.size.secs)


def attack_control(ctx):
    """Not an attack but the suite's own check: data at RCV.NXT with a
    valid ACK is what the real client would send (an on-path attacker's
    injection), so every stack takes it and the client must see it. If it
    does not, the window numbers or the client's checks are wrong and no
    "held" above means anything."""
    for _ in range(3):
        rcv, snd = ctx.window()
        ctx.send([ctx.legit_tcp(rcv, snd, "PA", EVIL)])
        time.sleep(0.05)


ATTACKS = [
    ("malformed headers", attack_malformed),
    ("fragments: overlapping", attack_frag_overlap),
    ("fragments: tiny", attack_frag_tiny),
    ("fragments: never completed", attack_frag_incomplete),
    ("blind RST, random seq", attack_blind_rst),
    ("blind SYN, random seq", attack_blind_syn),
    ("blind data, random seq/ack", attack_blind_data),
    ("RST/SYN in window, not at RCV.NXT", attack_window_rst),
    ("data at RCV.NXT, ACK out of range", attack_window_data),
    ("zero-window peers", attack_zero_window),
    ("ICMP errors for the connection", attack_icmp),
    ("floods to closed ports", attack_closed_ports),
    ("SYN flood, spoofed sources", attack_syn_flood),
    ("ACK flood", attack_ack_flood),
    (CONTROL, attack_control),
]


# --- targets and measurement ---------------------------------------------

def build_dir():
    return os.environ.get("COVE_BUILD") or os.path.join(HERE, "..", "..",
                                                        "build")


TARGETS = {
    "builtin": ("cove", ["--stack", "builtin"]),
    "lwip": ("cove-plugin", ["--stack", "lwip"]),
    "linux": ("cove", ["--stack", "kernel"]),
}


def rss_kib(pid):
    """VmRSS of @pid in KiB (0 once it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def linux_mem(ns, pid):
    """Linux's memory for the target netns: reassembly (sockstat FRAG)
    plus every TCP socket's skmem (receive + send queues)."""
    total = 0
    try:
        with open("/proc/%d/net/sockstat" % pid) as f:
            for line in f:
                if line.startswith("FRAG:"):
                    total += int(line.split()[4])
    except OSError:
        return 0
    out = ns.run("ss", "-tanmH", check=False).stdout
    for r, w in re.findall(r"skmem:\(r(\d+),rb\d+,t\d+,tb\d+,f\d+,w(\d+)",
                           out):
        total += int(r) + int(w)
    return total


class Sampler(threading.Thread):
    """Samples (stack memory, RSS) every 100 ms until stopped."""

    def __init__(self, measure):
        super().__init__(daemon=True)
        self.measure, self.peak = measure, None
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            m = self.measure()
            if m is not None:
                self.peak = m if self.peak is None else \
                    tuple(max(a, b) for a, b in zip(self.peak, m))
            self.stop_ev.wait(0.1)

    def finish(self):
        self.stop_ev.set()
        self.join(15)
        return self.peak


class Target:
    """One target's topology, server and legit client; close() removes."""

    def __init__(self, name, log):
        self.name = name
        binary, args = TARGETS[name]
        self.cove = os.path.join(build_dir(), "src", "cli", binary)
        tag = "atk%s" % name[:2]
        self.a = netns.Netns(netns.unique(tag, "a"))
        self.b = netns.Netns(netns.unique(tag, "b"))
        netns.veth_pair(self.a, "cva", self.b, "cvb")
        netns.no_segmentation_offload(self.a, "cva")
        self.a.ip("addr", "add", "%s/%d" % (CLIENT, PREFIX), "dev", "cva")
        if name == "linux":
            self.b.ip("addr", "add", "%s/%d" % (SERVER, PREFIX), "dev",
                      "cvb")
        else:
            args = args + ["--link", "packet:cvb", "--addr",
                           "%s/%d" % (SERVER, PREFIX)]
        self.srv = StackServe(self.b, args + SERVERS, cove=self.cove,
                              stderr_path=log)
        self.srv.wait_for("ready", 15)
        self.pid = self.srv.proc.pid
        self.lock = threading.Lock()
        self.legit = self.a.popen(
            ["/usr/bin/python3", os.path.join(HERE, "legit.py"), SERVER,
             str(ECHO), str(HTTP)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, bufsize=1)

    def mac(self, ns, ifname):
        out = json.loads(ns.ip("-j", "link", "show", "dev", ifname).stdout)
        return out[0]["address"]

    def measure(self):
        """(stack memory bytes, RSS KiB) now, or None if the server is
        gone or did not answer."""
        if self.srv.proc.poll() is not None:
            return None
        if self.name == "linux":
            return (linux_mem(self.b, self.pid), rss_kib(self.pid))
        with self.lock:
            try:
                st = self.srv.stats(timeout=5)
            except ServeError:
                return None
        return (st.get("mem_bytes", 0) + FRAME_BYTES *
                st.get("frames_held", 0), rss_kib(self.pid))

    def mark(self):
        """The legit client's window since the last mark."""
        self.legit.stdin.write("mark\n")
        line = self.legit.stdout.readline()
        if not line:
            raise RuntimeError("the legit client died")
        return json.loads(line)

    def close(self):
        if self.legit.poll() is None:
            self.legit.kill()
            self.legit.wait()
        self.srv.kill()
        self.a.delete()
        self.b.delete()


def verdict(win, alive):
    """held, or disturbed with the reasons."""
    why = []
    if not alive:
        why.append("server died")
    if win["errors"]:
        why.append("; ".join(sorted(set(win["errors"])))[:200])
    if win["stalls"]:
        why.append("%d stalls (slowest echo %.2fs, connection %.2fs%s)" %
                   (win["stalls"], win["echo_max"], win["conn_max"],
                    ", one waiting %.2fs at the end" % win["pending"]
                    if win["pending"] > 1.0 else ""))
    if not win["echo_n"] or not win["conn_n"]:
        why.append("no exchange completed (%d echoes, %d connections)" %
                   (win["echo_n"], win["conn_n"]))
    return ("held" if not why else "disturbed"), "; ".join(why)


def run_attack(t, ctx, name, fn):
    """One attack on target @t: mark, sample, attack, settle, mark."""
    before = t.measure()
    win = t.mark()
    ctx.port = win["port"]
    ctx.last = None
    sent0 = ctx.sent
    sampler = Sampler(t.measure)
    sampler.start()
    t0 = time.monotonic()
    err = None
    try:
        fn(ctx)
    except (OSError, RuntimeError) as e:
        err = "the attack itself failed: %s" % e
    took = time.monotonic() - t0
    time.sleep(ctx.size.settle)
    win = t.mark()
    peak = sampler.finish()
    after = t.measure()
    alive = t.srv.proc.poll() is None
    result, why = verdict(win, alive)
    if err:
        result, why = "error", err
    zero = (0, 0)
    return {"attack": name, "target": t.name, "result": result,
            "why": why, "frames": ctx.sent - sent0, "secs": round(took, 2),
            "echoes": win["echo_n"], "conns": win["conn_n"],
            "errors": len(win["errors"]), "stalls": win["stalls"],
            "pending": win["pending"],
            "echo_max": win["echo_max"], "conn_max": win["conn_max"],
            "mem": [(before or zero)[0], (peak or before or zero)[0],
                    (after or zero)[0]],
            "rss_kib": [(before or zero)[1], (peak or before or zero)[1],
                        (after or zero)[1]]}


def run_target(name, size, attacks, logdir):
    """Every attack against one target; returns the result rows."""
    log = os.path.join(logdir, "attack-%s.stderr" % name)
    rows = []
    t = None
    try:
        t = Target(name, log)
        t.a.enter()
        ctx = Ctx(t, size, t.mac(t.a, "cva"), t.mac(t.b, "cvb"))
        t.mark()
        time.sleep(0.5)
        for aname, fn in attacks:
            if t.srv.proc.poll() is not None:
                rows.append({"attack": aname, "target": name,
                             "result": "disturbed",
                             "why": "server died before the attack",
                             "frames": 0, "mem": [0, 0, 0],
                             "rss_kib": [0, 0, 0]})
                continue
            row = run_attack(t, ctx, aname, fn)
            rows.append(row)
            print(fmt_row(row), flush=True)
        ctx.close()
    finally:
        netns.leave()
        if t:
            t.close()
    return rows


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else \
                ("%.1f %s" % (n, unit))
        n /= 1024.0


def fmt_row(r):
    mem = "/".join(human(x) for x in r["mem"])
    rss = "/".join(human(x * 1024) for x in r["rss_kib"])
    return "%-9s %-8s %-36s frames %6d  mem %s  rss %s%s" % (
        r["result"].upper(), r["target"], r["attack"], r["frames"], mem,
        rss, ("  (" + r["why"] + ")") if r["why"] else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="the short form of make check")
    ap.add_argument("--targets", default="builtin,lwip,linux")
    ap.add_argument("--attacks", default="",
                    help="comma list of attack names (substrings)")
    ap.add_argument("--json", help="write the results here")
    opts = ap.parse_args()
    size = Size(opts.quick)
    attacks = ATTACKS
    if opts.attacks:
        want = opts.attacks.split(",")
        attacks = [a for a in ATTACKS if any(w in a[0] for w in want)]
    logdir = os.path.join(build_dir(), "test-logs")
    os.makedirs(logdir, exist_ok=True)
    rows = []
    try:
        for name in opts.targets.split(","):
            rows += run_target(name, size, attacks, logdir)
    finally:
        netns.cleanup()
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"quick": opts.quick, "kernel": os.uname().release,
                       "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
