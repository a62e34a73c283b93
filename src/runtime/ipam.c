// SPDX-License-Identifier: Apache-2.0
/* Sandbox address allocation: the lowest free host address, pure. */
#include <arpa/inet.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "runtime/runtime.h"

/* rt_gateway_of() - network + 1 of @ip's subnet (see runtime.h). */
struct in_addr rt_gateway_of(struct in_addr ip, uint8_t prefix)
{
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
	struct in_addr gw = {
		.s_addr = htonl((ntohl(ip.s_addr) & mask) + 1),
	};

	return gw;
}

/* rt_cmp_u32() - qsort() order of two uint32_t. */
static int rt_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/**
 * rt_ipam_pick() - the lowest free host address of a subnet
 * @net:	network address (host order)
 * @prefix:	its prefix length (8..30)
 * @used:	addresses in use (host order), any order, duplicates allowed
 * @nused:	their count
 * @out:	the chosen address (host order)
 *
 * Sorts a copy of @used and walks it from network + 2 upwards: the first
 * gap is the answer. Network, gateway (network + 1) and broadcast are
 * never chosen.
 *
 * Return: 0, or -1 when the subnet is full, @prefix is out of range or
 * the copy cannot be allocated.
 */
int rt_ipam_pick(uint32_t net, uint8_t prefix, const uint32_t *used,
		 unsigned nused, uint32_t *out)
{
	cove_cleanup_free uint32_t *sorted = NULL;
	uint32_t mask, first, last, cand;
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
	if (cand > last)
		return -1;
	*out = cand;
	return 0;
}
