// SPDX-License-Identifier: Apache-2.0
/* Software L4 checksum fill for frames the kernel left "partial". */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/bytes.h"
#include "links/links.h"

/*
 * links_csum_add() - add @len bytes at @p to a one's complement running sum.
 * Words are taken in memory order (RFC 1071: the folded sum is then in
 * memory order too and is stored without swapping), 16 bytes a step into a
 * 64-bit accumulator whose carries are folded at the end.
 */
static uint64_t links_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint32_t w[4];
	uint16_t h;

	for (; len >= 16; p += 16, len -= 16) {
		memcpy(w, p, 16);
		sum += (uint64_t)w[0] + w[1] + w[2] + w[3];
	}
	for (; len >= 4; p += 4, len -= 4) {
		memcpy(w, p, 4);
		sum += w[0];
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };

		memcpy(&h, last, 2);
		sum += h;
	}
	return sum;
}

/* links_csum_fold() - fold a running sum to 16 bits and complement it. */
static uint16_t links_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int links_csum_fixup(uint8_t *frame, uint32_t len)
{
	uint32_t ihl, tot, l4len, off;
	uint8_t *ip, *l4, proto;
	uint64_t sum;
	uint16_t c;

	if (len < LINKS_ETH_HLEN + 20 || frame[12] != 0x08 || frame[13] != 0x00)
		return 0;
	ip = frame + LINKS_ETH_HLEN;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = cove_get16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl ||
	    tot > len - LINKS_ETH_HLEN)
		return 0;
	if (cove_get16(ip + 6) & 0x3fff)
		return 0;		/* a fragment: no whole L4 header */
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
	sum = links_csum_add(0, ip + 12, 8);	/* source and destination address */
	sum += htons(proto);
	sum += htons((uint16_t)l4len);
	sum = links_csum_add(sum, l4, l4len);
	c = links_csum_fold(sum);
	if (proto == 17 && c == 0)
		c = 0xffff;
	memcpy(l4 + off, &c, 2);		/* memory order, as summed */
	return 1;
}

int links_csum_partial(uint8_t *frame, uint32_t len, uint32_t start,
		       uint32_t off)
{
	uint16_t c;

	if (start < LINKS_ETH_HLEN || start > len || off > len - start ||
	    len - start - off < 2)
		return -1;
	c = links_csum_fold(links_csum_add(0, frame + start, len - start));
	if (c == 0)
		c = 0xffff;	/* as the kernel does: 0 means "none" for UDP */
	memcpy(frame + start + off, &c, 2);	/* memory order, as summed */
	return 0;
}
