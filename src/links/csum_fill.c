// SPDX-License-Identifier: Apache-2.0
/* Software L4 checksum fill for frames the kernel left "partial". */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/bytes.h"
#include "common/csum.h"
#include "links/links.h"

/*
 * The sums are common/csum.c's; this file only finds, in a frame, what a
 * device would sum and where it would store the result. Checksums stay in
 * memory order and are stored with memcpy(), without swapping.
 */

/*
 * csum_fixup6() - links_csum_fixup() for IPv6: TCP or UDP right after the
 * fixed header (a frame with extension headers is left alone), summed
 * with the IPv6 pseudo-header (RFC 8200 8.1).
 */
static int csum_fixup6(uint8_t *frame, uint32_t len)
{
	uint8_t *ip = frame + LINKS_ETH_HLEN, *l4 = ip + 40, tail[8] = { 0 };
	uint32_t plen, off, sum;
	uint16_t c;

	if (len < LINKS_ETH_HLEN + 40 || (ip[0] >> 4) != 6)
		return 0;
	plen = cove_get16(ip + 4);
	if (plen > len - LINKS_ETH_HLEN - 40)
		return 0;
	if (ip[6] == 6 && plen >= 20)
		off = 16;
	else if (ip[6] == 17 && plen >= 8)
		off = 6;
	else
		return 0;
	l4[off] = 0;
	l4[off + 1] = 0;
	cove_put32(tail, plen);
	tail[7] = ip[6];
	sum = cove_csum_partial(ip + 8, 32, 0); /* source and destination */
	sum = cove_csum_partial(tail, sizeof(tail), sum);
	c = cove_csum_fold(cove_csum_partial(l4, plen, sum));
	if (ip[6] == 17 && c == 0)
		c = 0xffff;
	memcpy(l4 + off, &c, 2);
	return 1;
}

int links_csum_fixup(uint8_t *frame, uint32_t len)
{
	uint32_t ihl, tot, l4len, off, src, dst;
	uint8_t *ip, *l4, proto;
	uint16_t c;

	if (len >= LINKS_ETH_HLEN && frame[12] == 0x86 && frame[13] == 0xdd)
		return csum_fixup6(frame, len);
	if (len < LINKS_ETH_HLEN + 20 || frame[12] != 0x08 || frame[13] != 0x00)
		return 0;
	ip = frame + LINKS_ETH_HLEN;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = cove_get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl ||
	    tot > len - LINKS_ETH_HLEN)
		return 0;
	if (cove_get16(ip + 6) & 0x3fff)
		return 0; /* a fragment: no whole L4 header */
	proto = ip[9];
	l4 = ip + ihl;
	l4len = tot - ihl;
	if (proto == 6 && l4len >= 20)
		off = 16;
	else if (proto == 17 && l4len >= 8)
		off = 6;
	else
		return 0;
	l4[off] = 0;
	l4[off + 1] = 0;
	memcpy(&src, ip + 12, 4);
	memcpy(&dst, ip + 16, 4);
	c = cove_csum_l4(src, dst, proto, l4, l4len);
	if (proto == 17 && c == 0)
		c = 0xffff;
	memcpy(l4 + off, &c, 2);
	return 1;
}

int links_csum_partial(uint8_t *frame, uint32_t len, uint32_t start,
		       uint32_t off)
{
	uint16_t c;

	if (start < LINKS_ETH_HLEN || start > len || off > len - start ||
	    len - start - off < 2)
		return -1;
	c = cove_csum_fold(cove_csum_partial(frame + start, len - start, 0));
	if (c == 0)
		c = 0xffff; /* as the kernel does: 0 means "none" for UDP */
	memcpy(frame + start + off, &c, 2);
	return 0;
}
