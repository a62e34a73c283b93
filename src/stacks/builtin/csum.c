// SPDX-License-Identifier: Apache-2.0
/* Internet checksum (RFC 1071): partial sums, folding, TCP/UDP pseudo-header. */
#include <string.h>

#include "stacks/builtin/builtin.h"

/*
 * Convention: sums are taken over 16-bit words in memory order, so the
 * folded result can be stored with memcpy() (or as a __be16 field) without
 * byte swapping, on any host. Partial sums chain only at even offsets.
 */

/**
 * csum_partial() - add @len bytes at @buf to a running 32-bit sum
 * @buf:	bytes (any alignment)
 * @len:	count; an odd trailing byte is padded with zero
 * @sum:	sum so far (0 to start)
 *
 * Return: the new unfolded sum.
 */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t acc = sum;

	while (len >= 16) {
		uint32_t w[4];

		memcpy(w, p, 16);
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3];
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		acc += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };
		uint16_t w;

		memcpy(&w, last, 2);
		acc += w;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

/**
 * csum_fold() - fold a 32-bit sum to 16 bits and complement it
 * @sum:	unfolded sum
 *
 * Return: the checksum to store; 0 when verifying bytes that carry a
 * correct checksum.
 */
uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* pseudo_sum() - the unfolded sum of the IPv4 pseudo-header for @len bytes */
static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto,
			   uint32_t len)
{
	uint8_t ph[12];

	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return csum_partial(ph, sizeof(ph), 0);
}

/**
 * csum_l4() - TCP/UDP checksum including the IPv4 pseudo-header
 * @src:	source address, network order
 * @dst:	destination address, network order
 * @proto:	IP protocol number
 * @l4:		transport header and payload
 * @len:	bytes at @l4
 *
 * Return: the checksum to store (memory order); 0 when verifying a segment
 * whose checksum field is correct.
 */
uint16_t csum_l4(uint32_t src, uint32_t dst, uint8_t proto, const void *l4,
		 uint32_t len)
{
	return csum_fold(csum_partial(l4, len, pseudo_sum(src, dst, proto,
							  len)));
}

uint16_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	return (uint16_t)~csum_fold(pseudo_sum(src, dst, proto, len));
}
