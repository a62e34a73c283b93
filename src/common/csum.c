// SPDX-License-Identifier: Apache-2.0
/* Internet checksum (RFC 1071): partial sums, folding, pseudo-header. */
#include <string.h>

#include "common/csum.h"

/* Conventions (memory order, chaining at even offsets), kernel-doc: csum.h */

uint32_t cove_csum_partial(const void *buf, size_t len, uint32_t sum)
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

uint16_t cove_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* csum_pseudo_sum() - unfolded sum of the IPv4 pseudo-header for @len bytes */
static uint32_t csum_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto,
				uint32_t len)
{
	uint8_t ph[12];

	memcpy(ph, &src, 4);
	memcpy(ph + 4, &dst, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return cove_csum_partial(ph, sizeof(ph), 0);
}

uint16_t cove_csum_l4(uint32_t src, uint32_t dst, uint8_t proto, const void *l4,
		      uint32_t len)
{
	return cove_csum_fold(
		cove_csum_partial(l4, len,
				  csum_pseudo_sum(src, dst, proto, len)));
}

uint16_t cove_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
			  uint32_t len)
{
	return (uint16_t)~cove_csum_fold(csum_pseudo_sum(src, dst, proto, len));
}
