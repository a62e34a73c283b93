// SPDX-License-Identifier: Apache-2.0
/* lwip provider: the frame filter in front of lwIP's ethernet_input(). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stacks/lwip/lw.h"

/*
 * lwIP parses every frame itself; this filter only keeps away what lwIP
 * should never see: ethertypes other than ARP, IPv4 and IPv6 (IPv6 only
 * while the instance has it), IP headers that do not fit the frame,
 * datagrams not addressed to us (lwIP is built with IP_FORWARD and
 * LWIP_IPV6_FORWARD and would route them), martian sources (our own
 * address, loopback, multicast, broadcast, 0.0.0.0, ::1, ::ffff:0:0/96:
 * lwIP would answer a spoofed SYN from our own address through its
 * loopback path, which needs the tcpip thread this provider does not
 * run). It also tells new connection attempts apart, so that the caller
 * can refuse them while lwIP holds too many PCBs (its pools are
 * malloc-backed and unbounded in Debian's build), and hands the caller the
 * TCP header fields of every other segment, so that it can hold segments
 * whose ACK lies outside RFC 5961's range away from connections lwIP has
 * (lw_guard.c). A first fragment too short for a whole TCP header is
 * dropped (RFC 1858's tiny fragment, RFC 7112 for IPv6: the flags and ACK
 * would only appear after lwIP reassembled, where no check sees them;
 * lwIP itself rejects overlapping fragments).
 *
 * IPv6 extension headers are walked here before lwIP walks them again:
 * lwIP 2.1's option loop reads an option's length byte without checking
 * that it lies inside the header, so every hop-by-hop and destination
 * option must fit its header, a hop-by-hop header only comes first, a
 * routing header of type 0, 2 or 3 with segments left (RFC 5095; lwIP
 * would take types 2 and 3 as if they ended here) is dropped, and a chain
 * longer than LW_EXT_MAX headers is refused. Neighbour discovery messages
 * must carry hop limit 255 (RFC 4861; lwIP checks it too). A Packet Too
 * Big must quote a packet we sent (its source one of ours) and an MTU of
 * at least 1280: lwIP takes any value into its destination cache (RFC
 * 8201 forbids going below 1280; lwIP's TCP MSS would drop to 0 below 60).
 *
 * Every read goes through lw_byte()/lw_be16()/lw_be32(), which check the
 * offset against the length.
 */

#define ETH_HLEN      14u
#define ETHERTYPE_IP  0x0800u
#define ETHERTYPE_ARP 0x0806u
#define ETHERTYPE_IP6 0x86ddu
#define LW_IP6_HLEN   40u
#define LW_EXT_MAX    8u /* IPv6 extension headers in one chain */

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
 * lw_filter4() - the IPv4 part of lw_filter()
 * @frame:	the Ethernet frame (untrusted), an IPv4 ethertype
 * @len:	its length
 * @me:		our addresses
 * @seg:	see lw_filter()
 *
 * Return: as lw_filter().
 */
static enum lw_verdict lw_filter4(const uint8_t *frame, size_t len,
				  const struct lw_addrs *me,
				  struct lw_tcp_seg *seg)
{
	uint32_t self = __builtin_bswap32(me->addr_be);
	uint32_t bcast = __builtin_bswap32(me->bcast_be);
	int32_t tot, frag;
	int vihl, proto;
	uint32_t src, dst;
	size_t ihl;

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
	seg->v6 = false;
	seg->saddr_be = __builtin_bswap32(src);
	seg->daddr_be = __builtin_bswap32(dst);
	if ((seg->flags & 0x12) == 0x02) /* SYN, no ACK */
		return LW_PASS_SYN;
	return LW_PASS_TCP;
}

/* lw_ours6() - is @a (16 bytes) one of @me's IPv6 addresses? */
static bool lw_ours6(const struct lw_addrs *me, const uint8_t *a)
{
	unsigned i;

	for (i = 0; i < me->n6 && i < LW_ADDR6_MAX; i++)
		if (!memcmp(me->a6[i], a, 16))
			return true;
	return false;
}

/*
 * lw_martian6() - an IPv6 source no peer on the link may use: multicast,
 * ::1, an IPv4-mapped address, or one of ours. :: is allowed (DAD).
 */
static bool lw_martian6(const struct lw_addrs *me, const uint8_t *src)
{
	static const uint8_t loop[16] = { [15] = 1 };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	return src[0] == 0xff || !memcmp(src, loop, 16) ||
	       !memcmp(src, mapped, 12) || lw_ours6(me, src);
}

/*
 * lw_dest6() - is @dst for us: one of our addresses, or multicast of
 * link scope or wider (lwIP itself checks the groups it joined)?
 */
static bool lw_dest6(const struct lw_addrs *me, const uint8_t *dst)
{
	if (dst[0] == 0xff)
		return (dst[1] & 0x0f) >= 2;
	return lw_ours6(me, dst);
}

/**
 * lw_opts6() - are the options of a hop-by-hop or destination header whole?
 * @p:		the frame
 * @end:	where the IPv6 payload ends (checked <= the frame's length)
 * @off:	the extension header
 * @hlen:	its length, already checked to fit before @end
 *
 * Return: true when every option (Pad1, or type, length and data) lies
 * inside the header.
 */
static bool lw_opts6(const uint8_t *p, size_t end, size_t off, size_t hlen)
{
	size_t o = off + 2, stop = off + hlen;

	while (o < stop) {
		int type = lw_byte(p, end, o), dlen;

		if (type < 0)
			return false;
		if (type == 0) { /* Pad1 */
			o++;
			continue;
		}
		dlen = lw_byte(p, end, o + 1);
		if (dlen < 0 || o + 2 + (size_t)dlen > stop)
			return false;
		o += 2 + (size_t)dlen;
	}
	return true;
}

/**
 * lw_ext6() - one IPv6 extension header: check it, step over it
 * @p:		the frame
 * @end:	where the IPv6 payload ends
 * @nh:		in: this header's type; out: the next one
 * @off:	in: where it starts; out: where the next one starts
 * @first:	in: it follows the fixed header; out: false
 * @frag_off:	out: a fragment header's offset field (13 bits), else kept
 *
 * Return: 0 to go on, 1 when @nh is not an extension header (the upper
 * layer starts at @off), or a verdict to drop.
 */
static int lw_ext6(const uint8_t *p, size_t end, int *nh, size_t *off,
		   bool *first, int32_t *frag_off)
{
	int next = lw_byte(p, end, *off), hl = lw_byte(p, end, *off + 1);
	size_t hlen;

	if (*nh != 0 && *nh != 43 && *nh != 44 && *nh != 60)
		return 1;
	if (next < 0 || hl < 0)
		return LW_DROP_MALFORMED;
	hlen = *nh == 44 ? 8 : 8 * (1 + (size_t)hl);
	if (*off + hlen > end || (*nh == 0 && !*first))
		return LW_DROP_MALFORMED;
	if ((*nh == 0 || *nh == 60) && !lw_opts6(p, end, *off, hlen))
		return LW_DROP_MALFORMED;
	if (*nh == 43 && lw_byte(p, end, *off + 3) > 0 &&
	    lw_byte(p, end, *off + 2) <= 3 && lw_byte(p, end, *off + 2) != 1)
		return LW_DROP_OTHER; /* RH0, mobility, RPL with segments left */
	if (*nh == 44)
		*frag_off = lw_be16(p, end, *off + 2) >> 3;
	*first = false;
	*nh = next;
	*off += hlen;
	return 0;
}

/**
 * lw_icmp6() - the ICMPv6 checks of lw_filter6()
 * @p:		the frame
 * @end:	where the IPv6 payload ends
 * @off:	the ICMPv6 header
 * @hops:	the hop limit it came with
 * @me:		our addresses
 * @seg:	its icmp6_type is set (and ptb_dst for a Packet Too Big)
 *
 * Return: LW_PASS, or why to drop: ND with a hop limit but 255, a Packet
 * Too Big below 1280 or quoting a packet that was not ours.
 */
static enum lw_verdict lw_icmp6(const uint8_t *p, size_t end, size_t off,
				int hops, const struct lw_addrs *me,
				struct lw_tcp_seg *seg)
{
	int type = lw_byte(p, end, off);
	uint32_t mtu;

	if (type < 0)
		return LW_DROP_MALFORMED;
	seg->icmp6_type = (uint8_t)type;
	if (type >= 133 && type <= 137 && hops != 255)
		return LW_DROP_OTHER; /* ND from off the link */
	if (type != 2)
		return LW_PASS;
	if (!lw_be32(p, end, off + 4, &mtu) || off + 8 + LW_IP6_HLEN > end)
		return LW_DROP_MALFORMED;
	if (mtu < 1280 || !lw_ours6(me, p + off + 8 + 8))
		return LW_DROP_OTHER;
	memcpy(seg->ptb_dst, p + off + 8 + 24, 16);
	return LW_PASS;
}

/**
 * lw_filter6() - the IPv6 part of lw_filter()
 * @frame:	the Ethernet frame (untrusted), an IPv6 ethertype
 * @len:	its length
 * @me:		our addresses
 * @seg:	see lw_filter()
 *
 * Return: as lw_filter().
 */
static enum lw_verdict lw_filter6(const uint8_t *frame, size_t len,
				  const struct lw_addrs *me,
				  struct lw_tcp_seg *seg)
{
	int ver = lw_byte(frame, len, ETH_HLEN), nh, r = 0;
	int32_t plen = lw_be16(frame, len, ETH_HLEN + 4), frag = 0;
	int hops = lw_byte(frame, len, ETH_HLEN + 7);
	size_t off = ETH_HLEN + LW_IP6_HLEN, end;
	const uint8_t *src, *dst;
	bool first = true;
	unsigned n;

	if (!me->ip6)
		return LW_DROP_OTHER;
	if (ver < 0 || plen < 0 || hops < 0 || len < off || (ver >> 4) != 6 ||
	    (size_t)plen > len - off)
		return LW_DROP_MALFORMED;
	end = off + (size_t)plen;
	src = frame + ETH_HLEN + 8;
	dst = frame + ETH_HLEN + 24;
	if (lw_martian6(me, src) || !lw_dest6(me, dst))
		return LW_DROP_OTHER;
	nh = lw_byte(frame, len, ETH_HLEN + 6);
	for (n = 0; n <= LW_EXT_MAX; n++) {
		r = lw_ext6(frame, end, &nh, &off, &first, &frag);
		if (r)
			break;
	}
	if (r != 1)
		return r ? (enum lw_verdict)r : LW_DROP_MALFORMED;
	if (frag)
		return LW_PASS; /* a later fragment: no upper header here */
	if (nh == 58)
		return lw_icmp6(frame, end, off, hops, me, seg);
	if (nh != 6)
		return LW_PASS;
	if (!lw_tcp_header(frame, end, off, seg))
		return LW_DROP_MALFORMED;
	seg->v6 = true;
	memcpy(seg->saddr6, src, 16);
	memcpy(seg->daddr6, dst, 16);
	if ((seg->flags & 0x12) == 0x02) /* SYN, no ACK */
		return LW_PASS_SYN;
	return LW_PASS_TCP;
}

/**
 * lw_filter() - decide whether a received frame goes to lwIP
 * @frame:	the Ethernet frame (untrusted)
 * @len:	its length
 * @me:		our addresses: IPv4 and its broadcast, IPv6 if any
 * @seg:	set to the TCP header's fields for LW_PASS_SYN and LW_PASS_TCP;
 *		its icmp6_type is set for every frame (0: not ICMPv6)
 *
 * Return: LW_PASS, LW_PASS_SYN for a TCP SYN without ACK (the caller
 * decides whether lwIP may take another connection), LW_PASS_TCP for any
 * other TCP segment (or its first fragment) whose header is whole, or why
 * to drop.
 */
enum lw_verdict lw_filter(const uint8_t *frame, size_t len,
			  const struct lw_addrs *me, struct lw_tcp_seg *seg)
{
	int32_t type = lw_be16(frame, len, 12);

	seg->icmp6_type = 0;
	if (type < 0)
		return LW_DROP_MALFORMED;
	if (type == ETHERTYPE_ARP)
		return LW_PASS;
	if (type == ETHERTYPE_IP)
		return lw_filter4(frame, len, me, seg);
	if (type == ETHERTYPE_IP6)
		return lw_filter6(frame, len, me, seg);
	return LW_DROP_OTHER;
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
