// SPDX-License-Identifier: Apache-2.0
/* lwip provider: the frame filter in front of lwIP's ethernet_input(). */
#include <stddef.h>
#include <stdint.h>

#include "stacks/lwip/lw.h"

/*
 * lwIP parses every frame itself; this filter only keeps away what lwIP
 * should never see: ethertypes other than ARP and IPv4 (IPv6 is compiled
 * into Debian's lwIP but this provider serves IPv4 only), IPv4 headers
 * that do not fit the frame, datagrams not addressed to us, martian
 * sources (our own address, loopback, multicast, broadcast, 0.0.0.0: lwIP
 * would answer a spoofed SYN from our own address through its loopback
 * path, which needs the tcpip thread this provider does not run). It also
 * tells new connection attempts apart, so that the caller can refuse them
 * while lwIP holds too many PCBs (its pools are malloc-backed and unbounded
 * in Debian's build), and hands the caller the TCP header fields of every
 * other segment, so that it can hold segments whose ACK lies outside RFC
 * 5961's range away from connections lwIP has (lw_guard.c). A first
 * fragment too short for a whole TCP header is dropped (RFC 1858's tiny
 * fragment: the flags and ACK would only appear after lwIP reassembled,
 * where no check sees them; lwIP itself rejects overlapping fragments).
 * Every read goes through lw_byte()/lw_be16()/lw_be32(), which check the
 * offset against the length.
 */

#define ETH_HLEN      14u
#define ETHERTYPE_IP  0x0800u
#define ETHERTYPE_ARP 0x0806u

/* lw_byte() - @p[@off] or -1 when @off is outside @len. */
static int lw_byte(const uint8_t *p, size_t len, size_t off)
{
	return off < len ? p[off] : -1;
}

/* lw_be16() - big-endian u16 at @off, or -1 when it does not fit. */
static int32_t lw_be16(const uint8_t *p, size_t len, size_t off)
{
	if (off > len || len - off < 2)
		return -1;
	return (int32_t)((uint32_t)p[off] << 8 | p[off + 1]);
}

/* lw_be32() - u32 at @off in network order as stored, false if outside. */
static bool lw_be32(const uint8_t *p, size_t len, size_t off, uint32_t *out)
{
	if (off > len || len - off < 4)
		return false;
	*out = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
	       (uint32_t)p[off + 2] << 8 | p[off + 3];
	return true;
}

/**
 * lw_tcp_header() - the fields of the TCP header at @off, if it is whole
 * @p:		the frame
 * @end:	where the IPv4 datagram ends in it (checked <= its length)
 * @off:	where the TCP header starts
 * @seg:	filled, but for the source address
 *
 * Return: false when 20 bytes of TCP header do not fit before @end.
 */
static bool lw_tcp_header(const uint8_t *p, size_t end, size_t off,
			  struct lw_tcp_seg *seg)
{
	int32_t sport = lw_be16(p, end, off), dport = lw_be16(p, end, off + 2);
	int flags = lw_byte(p, end, off + 13);

	if (sport < 0 || dport < 0 || flags < 0 ||
	    !lw_be32(p, end, off + 4, &seg->seq) ||
	    !lw_be32(p, end, off + 8, &seg->ack) ||
	    lw_be16(p, end, off + 18) < 0)
		return false;
	seg->sport = (uint16_t)sport;
	seg->dport = (uint16_t)dport;
	seg->flags = (uint8_t)flags;
	return true;
}

/* lw_martian() - a source address no peer may use (host order). */
static bool lw_martian(uint32_t src, uint32_t self)
{
	return src == self || src == 0 || src == 0xffffffffu ||
	       (src >> 24) == 127 || (src >> 28) == 0xe;
}

/**
 * lw_filter() - decide whether a received frame goes to lwIP
 * @frame:	the Ethernet frame (untrusted)
 * @len:	its length
 * @addr_be:	our IPv4 address, network order
 * @bcast_be:	our subnet's broadcast address, network order
 * @seg:	set to the TCP header's fields for LW_PASS_SYN and LW_PASS_TCP
 *
 * Return: LW_PASS, LW_PASS_SYN for a TCP SYN without ACK (the caller
 * decides whether lwIP may take another connection), LW_PASS_TCP for any
 * other TCP segment (or its first fragment) whose header is whole, or why
 * to drop.
 */
enum lw_verdict lw_filter(const uint8_t *frame, size_t len, uint32_t addr_be,
			  uint32_t bcast_be, struct lw_tcp_seg *seg)
{
	uint32_t self = __builtin_bswap32(addr_be);
	uint32_t bcast = __builtin_bswap32(bcast_be);
	int32_t type = lw_be16(frame, len, 12), tot, frag;
	int vihl, proto;
	uint32_t src, dst;
	size_t ihl;

	if (type < 0)
		return LW_DROP_MALFORMED;
	if (type == ETHERTYPE_ARP)
		return LW_PASS;
	if (type != ETHERTYPE_IP)
		return LW_DROP_OTHER;

	vihl = lw_byte(frame, len, ETH_HLEN);
	tot = lw_be16(frame, len, ETH_HLEN + 2);
	frag = lw_be16(frame, len, ETH_HLEN + 6);
	proto = lw_byte(frame, len, ETH_HLEN + 9);
	if (vihl < 0 || tot < 0 || frag < 0 || proto < 0 ||
	    !lw_be32(frame, len, ETH_HLEN + 12, &src) ||
	    !lw_be32(frame, len, ETH_HLEN + 16, &dst))
		return LW_DROP_MALFORMED;
	ihl = (size_t)(vihl & 0xf) * 4;
	if ((vihl >> 4) != 4 || ihl < 20 || (size_t)tot < ihl ||
	    (size_t)tot > len - ETH_HLEN)
		return LW_DROP_MALFORMED;
	if (lw_martian(src, self))
		return LW_DROP_OTHER;
	if (dst != self && dst != 0xffffffffu && dst != bcast)
		return LW_DROP_OTHER;

	/* A first fragment's TCP header: is this a new connection? */
	if (proto != 6 || (frag & 0x1fff))
		return LW_PASS;
	if (!lw_tcp_header(frame, ETH_HLEN + (size_t)tot, ETH_HLEN + ihl, seg))
		return LW_DROP_MALFORMED;
	seg->saddr_be = __builtin_bswap32(src);
	if ((seg->flags & 0x12) == 0x02) /* SYN, no ACK */
		return LW_PASS_SYN;
	return LW_PASS_TCP;
}

/**
 * lw_ack_in_range() - RFC 5961 section 5.2's acceptable ACK
 * @ack:	the segment's acknowledgment number
 * @una:	SND.UNA, the oldest unacknowledged sequence number
 * @nxt:	SND.NXT, the highest one sent so far plus one
 * @max_wnd:	MAX.SND.WND, the largest window the peer offered; taken as
 *		at least 65535, as the builtin stack does (an old duplicate
 *		ACK from the first round trips must not be refused)
 *
 * Return: true when SND.UNA - MAX.SND.WND <= @ack <= SND.NXT (mod 2^32).
 */
bool lw_ack_in_range(uint32_t ack, uint32_t una, uint32_t nxt, uint32_t max_wnd)
{
	uint32_t wnd = max_wnd > 65535u ? max_wnd : 65535u;

	if ((int32_t)(ack - nxt) > 0)
		return false; /* acknowledges data never sent */
	return (int32_t)(ack - (una - wnd)) >= 0;
}
