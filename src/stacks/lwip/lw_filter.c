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
 * in Debian's build). Every read goes through lw_byte()/lw_be16()/
 * lw_be32(), which check the offset against the length.
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
 *
 * Return: LW_PASS, LW_PASS_SYN for a TCP SYN without ACK (the caller
 * decides whether lwIP may take another connection), or why to drop.
 */
enum lw_verdict lw_filter(const uint8_t *frame, size_t len, uint32_t addr_be,
			  uint32_t bcast_be)
{
	uint32_t self = __builtin_bswap32(addr_be);
	uint32_t bcast = __builtin_bswap32(bcast_be);
	int32_t type = lw_be16(frame, len, 12), tot, frag;
	int vihl, proto, tflags;
	uint32_t src, dst;
	size_t ihl, l4;

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
	l4 = ETH_HLEN + ihl;
	tflags = lw_byte(frame, ETH_HLEN + (size_t)tot, l4 + 13);
	if (tflags >= 0 && (tflags & 0x12) == 0x02) /* SYN, no ACK */
		return LW_PASS_SYN;
	return LW_PASS;
}
