// SPDX-License-Identifier: Apache-2.0
/* Software TCP/UDP checksum fill for IPv4 frames the kernel left "partial". */
#include <stddef.h>
#include <stdint.h>

#include "links/links.h"

/* links_csum_add() - add @len bytes at @p to a one's complement running sum. */
static uint32_t links_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/* links_csum_fold() - fold a running sum to 16 bits and complement it. */
static uint16_t links_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void links_csum_fixup(uint8_t *frame, uint32_t len)
{
	uint32_t ihl, tot, l4len, off, sum;
	uint8_t *ip, *l4, proto;
	uint16_t c;

	if (len < LINKS_ETH_HLEN + 20 || frame[12] != 0x08 || frame[13] != 0x00)
		return;
	ip = frame + LINKS_ETH_HLEN;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = (uint32_t)ip[2] << 8 | ip[3];
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl ||
	    tot > len - LINKS_ETH_HLEN)
		return;
	if (((uint32_t)ip[6] << 8 | ip[7]) & 0x3fff)
		return;			/* a fragment: no whole L4 header */
	proto = ip[9];
	l4 = ip + ihl;
	l4len = tot - ihl;
	if (proto == 6 && l4len >= 20)
		off = 16;
	else if (proto == 17 && l4len >= 8)
		off = 6;
	else
		return;
	l4[off] = 0;
	l4[off + 1] = 0;
	sum = links_csum_add(0, ip + 12, 8);	/* source and destination address */
	sum += proto + l4len;
	sum = links_csum_add(sum, l4, l4len);
	c = links_csum_fold(sum);
	if (proto == 17 && c == 0)
		c = 0xffff;
	l4[off] = (uint8_t)(c >> 8);
	l4[off + 1] = (uint8_t)c;
}
