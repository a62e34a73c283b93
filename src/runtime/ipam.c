// SPDX-License-Identifier: Apache-2.0
/* Sandbox address allocation: the lowest free host address, pure. */
#include <arpa/inet.h>
#include <stdlib.h>

#include "runtime/runtime.h"

struct in_addr rt_gateway_of(struct in_addr ip, uint8_t prefix)
{
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
	struct in_addr gw = {
		.s_addr = htonl((ntohl(ip.s_addr) & mask) + 1),
	};

	return gw;
}

static int rt_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int rt_ipam_pick(uint32_t net, uint8_t prefix, const uint32_t *used,
		 unsigned nused, uint32_t *out)
{
	uint32_t mask, first, last, cand;
	uint32_t *sorted;
	unsigned i;

	if (prefix < 8 || prefix > 30)
		return -1;
	mask = ~0u << (32 - prefix);
	net &= mask;
	first = net + 2;	  /* net + 1 is the host side */
	last = (net | ~mask) - 1; /* below broadcast */
	sorted = malloc((nused ? nused : 1) * sizeof(*sorted));
	if (!sorted)
		return -1;
	for (i = 0; i < nused; i++)
		sorted[i] = used[i];
	qsort(sorted, nused, sizeof(*sorted), rt_cmp_u32);
	cand = first;
	for (i = 0; i < nused && cand <= last; i++) {
		if (sorted[i] < cand)
			continue;
		if (sorted[i] > cand)
			break;
		cand++;
	}
	free(sorted);
	if (cand > last)
		return -1;
	*out = cand;
	return 0;
}
