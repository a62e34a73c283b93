// SPDX-License-Identifier: Apache-2.0
/* PLACEHOLDER until ipv6.c (branch b6net) lands: the ip6.h calls TCP makes, with no IPv6 underneath. */
#include <errno.h>
#include <string.h>

#include "stacks/builtin/ip6.h"

/*
 * Not an implementation: the builtin stack has no IPv6 layer on this
 * branch yet and answers socket(AF_INET6) with -EAFNOSUPPORT, so nothing
 * reaches these. They exist so TCP's IPv6 paths build and link; the merge
 * of b6net deletes this file (ipv6.c defines every one of them).
 */

struct cove_frame *ip6_alloc(struct bstack *st, uint32_t *room)
{
	(void)st;
	*room = 0;
	return NULL;
}

struct cove_frame *ip6_alloc_tso(struct bstack *st, uint32_t *room)
{
	(void)st;
	*room = 0;
	return NULL;
}

int ip6_send(struct bstack *st, struct cove_frame *f,
	     const struct in6_addr *src, const struct in6_addr *dst,
	     uint8_t proto, uint32_t l4_len, uint8_t tclass, uint8_t hlim,
	     uint32_t segs)
{
	(void)st, (void)src, (void)dst, (void)proto, (void)l4_len;
	(void)tclass, (void)hlim, (void)segs;
	cove_frame_free(f);
	return -ENETUNREACH;
}

bool ip6_is_local(const struct bstack *st, const struct in6_addr *a)
{
	(void)st;
	return IN6_IS_ADDR_LOOPBACK(a);
}

int ip6_src_for(const struct bstack *st, const struct in6_addr *dst,
		struct in6_addr *src)
{
	(void)st, (void)dst, (void)src;
	return -ENETUNREACH;
}

uint32_t ip6_path_mtu(struct bstack *st, const struct in6_addr *dst)
{
	(void)dst;
	return st->mtu ? st->mtu : 1500;
}

uint32_t ip6_ifindex(const struct bstack *st)
{
	(void)st;
	return 2;
}

uint32_t ip6_pseudo(const struct in6_addr *src, const struct in6_addr *dst,
		    uint8_t proto, uint32_t len)
{
	uint8_t tail[8] = { (uint8_t)(len >> 24),
			    (uint8_t)(len >> 16),
			    (uint8_t)(len >> 8),
			    (uint8_t)len,
			    0,
			    0,
			    0,
			    proto };
	uint32_t sum = cove_csum_partial(src, 16, 0);

	sum = cove_csum_partial(dst, 16, sum);
	return cove_csum_partial(tail, sizeof(tail), sum);
}

uint16_t ip6_csum(const struct in6_addr *src, const struct in6_addr *dst,
		  uint8_t proto, const void *l4, uint32_t len)
{
	return cove_csum_fold(
		cove_csum_partial(l4, len, ip6_pseudo(src, dst, proto, len)));
}
