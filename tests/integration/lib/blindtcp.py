# SPDX-License-Identifier: Apache-2.0
"""Blind TCP segments from a raw socket, and a sniffer to see the answers.

Theory of operation: a test that owns one end of a TCP connection (a
kernel socket in its namespace) plays the off-path attacker on it. Watch
records, from an AF_PACKET socket on every interface of the namespace,
the highest sequence number each side has sent (seq + payload length, SYN
and FIN counted), so a segment can be forged at exactly the peer's
RCV.NXT or beyond its SND.NXT. send() writes a whole IPv4 + TCP segment
(checksums computed here) through an IPPROTO_RAW socket, so the local
kernel's own socket never sees it. acks() counts the pure ACKs the peer
sends to each local port over a while. Nothing here needs more than the Python
standard library; the caller must be root in the namespace.
"""

import socket
import struct
import time

ETH_P_ALL = 0x0003	# ETH_P_IP taps see only what is received, not sent
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def segment(src, dst, sport, dport, seq, ack, flags, data=b""):
    """Bytes of an IPv4 datagram holding one TCP segment (window 65535)."""
    th = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff,
                     ack & 0xffffffff, 5 << 4, flags, 65535, 0, 0) + data
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + \
        struct.pack("!BBH", 0, 6, len(th))
    th = th[:16] + struct.pack("!H", _csum(ph + th)) + th[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(th), 0, 0x4000, 64,
                     6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return ip + th


class Watch:
    """Sniff TCP between @local and @remote (dotted) in this namespace."""

    def __init__(self, local, remote):
        self.local, self.remote = local, remote
        self.sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                   socket.htons(ETH_P_ALL))
        self.sniff.setblocking(False)
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                 socket.IPPROTO_RAW)
        self.nxt = {}		# (src port, dst port) -> highest seq sent
        self.log = []		# (src, sport, dport, flags) since drain()

    def close(self):
        self.sniff.close()
        self.raw.close()

    def _one(self, p):
        ip = p[14:]
        if p[12:14] != b"\x08\x00" or len(ip) < 40 or ip[0] >> 4 != 4 or ip[9] != 6:
            return
        src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        if {src, dst} != {self.local, self.remote}:
            return
        ihl = (ip[0] & 15) * 4
        th = ip[ihl:]
        sport, dport, seq = struct.unpack("!HHI", th[:8])
        flags = th[13]
        plen = struct.unpack("!H", ip[2:4])[0] - ihl - (th[12] >> 4) * 4
        end = (seq + plen + bool(flags & SYN) + bool(flags & FIN)) \
            & 0xffffffff
        key = (sport, dport)
        old = self.nxt.get(key)
        if old is None or ((end - old) & 0xffffffff) < 1 << 31:
            self.nxt[key] = end
        self.log.append((src, sport, dport, flags))

    def drain(self, secs=0.0):
        """Read what was captured, for @secs more; start a new log."""
        self.log = []
        end = time.monotonic() + secs
        while True:
            try:
                self._one(self.sniff.recv(65535))
                continue
            except BlockingIOError:
                pass
            if time.monotonic() >= end:
                return
            time.sleep(0.002)

    def send(self, sport, dport, seq, ack, flags, data=b""):
        """Forge a segment from local:@sport to remote:@dport."""
        self.raw.sendto(segment(self.local, self.remote, sport, dport, seq,
                                ack, flags, data), (self.remote, 0))

    def acks(self, secs):
        """Pure ACKs the remote sent over @secs more: {local port: count}."""
        self.drain(secs)
        n = {}
        for src, _, dport, flags in self.log:
            if src == self.remote and flags == ACK:
                n[dport] = n.get(dport, 0) + 1
        return n
