// SPDX-License-Identifier: Apache-2.0
/* Sandbox addresses, pure: allocation, and which ones --ip may not take. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * A sandbox address puts two things on the host: a /32 route to the
 * sandbox and the gateway (network + 1) as a local address of the host end
 * of the veth. So an address is refused when either would be wrong or
 * would take something from the host: a class that is never a unicast
 * host (rt_ip_refusal()), and a subnet that overlaps a route or an address
 * of the host that Cove did not make (rt_route_conflict()). Cove's own
 * pool (SBX_POOL_NET/SBX_POOL_PREFIX) is claimed by an unreachable route;
 * leaving it needs --ip-outside-pool, and a subnet inside it (prefix at
 * least the pool's, so that the gateway is inside too) never conflicts
 * with a route that merely contains the whole pool: the fence, more
 * specific, already decides for the pool.
 */

/* rt_mask() - the netmask of @prefix (0..32), host order. */
static uint32_t rt_mask(uint8_t prefix)
{
	return prefix ? ~0u << (32 - prefix) : 0;
}

/**
 * rt_ip_refusal() - why @ip cannot be a sandbox address on its subnet
 * @ip:		address (network order)
 * @prefix:	its prefix length (8..30)
 *
 * Refused: 0.0.0.0/8 (unspecified, "this network"), 127.0.0.0/8
 * (loopback), 224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved, with the
 * broadcast address 255.255.255.255), and the network and broadcast
 * addresses of the subnet. With @prefix >= 8 the gateway shares the
 * address's first octet, so it is in none of these either.
 *
 * Return: NULL if usable, else a static reason ("is ...").
 */
const char *rt_ip_refusal(struct in_addr ip, uint8_t prefix)
{
	uint32_t a = ntohl(ip.s_addr), m = rt_mask(prefix);

	if ((a >> 24) == 0)
		return "is in 0.0.0.0/8 (unspecified: no host has it)";
	if ((a >> 24) == 127)
		return "is a loopback address (127.0.0.0/8)";
	if ((a >> 28) == 0xe)
		return "is a multicast address (224.0.0.0/4)";
	if ((a >> 28) == 0xf)
		return "is reserved or broadcast (240.0.0.0/4)";
	if ((a & ~m) == 0)
		return "is the network address of its subnet";
	if ((a & ~m) == ~m)
		return "is the broadcast address of its subnet";
	return NULL;
}

/**
 * rt_in_pool() - is the subnet @ip/@prefix inside Cove's address pool?
 * @p:		the pools
 * @ip:		address (network order)
 * @prefix:	prefix length
 *
 * Inside means the address and the gateway: @prefix is at least the
 * pool's, and the address is in the pool.
 *
 * Return: true if inside.
 */
bool rt_in_pool(const struct sbx_pools *p, struct in_addr ip, uint8_t prefix)
{
	return prefix >= p->prefix &&
	       (ntohl(ip.s_addr) & rt_mask(p->prefix)) == ntohl(p->net.s_addr);
}

/* rt_nets_overlap() - do two prefixes (host order) share an address? */
static bool rt_nets_overlap(uint32_t a, uint8_t alen, uint32_t b, uint8_t blen)
{
	uint32_t m = rt_mask(alen < blen ? alen : blen);

	return (a & m) == (b & m);
}

/**
 * rt_route_conflict() - the first host route @ip/@prefix must not overlap
 * @p:		the pools
 * @ip:		sandbox address (network order)
 * @prefix:	its prefix length
 * @r:		the host's routes and local addresses
 * @n:		their count
 *
 * Ignored: routes Cove made (@r[i].cove), default routes (prefix 0, they
 * contain everything) and, for a subnet inside the pool, routes that
 * contain the whole pool (see the theory above).
 *
 * Return: the index in @r of a conflicting route, or -1 when none.
 */
int rt_route_conflict(const struct sbx_pools *p, struct in_addr ip,
		      uint8_t prefix, const struct rt_route *r, unsigned n)
{
	uint32_t a = ntohl(ip.s_addr);
	bool pool = rt_in_pool(p, ip, prefix);
	unsigned i;

	for (i = 0; i < n; i++) {
		if (r[i].cove || !r[i].prefix)
			continue;
		if (pool && r[i].prefix < p->prefix &&
		    rt_nets_overlap(r[i].dst, r[i].prefix, ntohl(p->net.s_addr),
				    p->prefix))
			continue;
		if (rt_nets_overlap(a, prefix, r[i].dst, r[i].prefix))
			return (int)i;
	}
	return -1;
}

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

/*
 * IPv6 (docs/SANDBOX.md "IPv6 in the sandbox"). A sandbox's IPv6 address
 * is derived from its IPv4 one: the first /64 of the IPv6 pool with the
 * IPv4 address in the low 32 bits, so it is unique exactly while the IPv4
 * address is, under the same lock, with no second allocator and nothing
 * more to record. Its gateway is the subnet's ::1, the same on every host
 * end as the IPv4 gateway is; no IPv4 address has the low 32 bits 0 or 1
 * (0.0.0.0/8 is refused), so the address is never the gateway nor the
 * subnet-router anycast. An --ip6 address follows the IPv4 rules:
 * refused for classes that are never a unicast host, outside the pool
 * without --ip-outside-pool, and for subnets overlapping a host route Cove
 * did not make (hostcheck.c).
 */

/* rt_prefix6_match() - do @a and @b share their first @prefix bits? */
bool rt_prefix6_match(const struct in6_addr *a, const struct in6_addr *b,
		      uint8_t prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	uint8_t m = (uint8_t)(0xff00u >> rest);

	if (prefix > 128)
		return false;
	if (memcmp(a->s6_addr, b->s6_addr, full))
		return false;
	return !rest || ((a->s6_addr[full] ^ b->s6_addr[full]) & m) == 0;
}

/* rt_net6() - @ip with every bit past @prefix cleared. */
static struct in6_addr rt_net6(const struct in6_addr *ip, uint8_t prefix)
{
	struct in6_addr n = *ip;
	unsigned i;

	for (i = 0; i < 16; i++) {
		unsigned lo = i * 8;

		if (lo >= prefix)
			n.s6_addr[i] = 0;
		else if (prefix - lo < 8)
			n.s6_addr[i] &= (uint8_t)(0xff00u >> (prefix - lo));
	}
	return n;
}

/**
 * rt_ip6_refusal() - why @ip cannot be a sandbox's IPv6 address
 * @ip:		address
 * @prefix:	its prefix length (64..126)
 *
 * Refused: ::/8 (unspecified, loopback, IPv4-compatible and mapped
 * addresses: none is a host's own), fe80::/10 (link-local: every
 * interface makes its own), ff00::/8 (multicast) and the subnet's network
 * address (its subnet-router anycast).
 *
 * Return: NULL if usable, else a static reason ("is ...").
 */
const char *rt_ip6_refusal(const struct in6_addr *ip, uint8_t prefix)
{
	struct in6_addr net = rt_net6(ip, prefix);

	if (ip->s6_addr[0] == 0)
		return "is in ::/8 (unspecified, loopback or IPv4-mapped)";
	if (ip->s6_addr[0] == 0xfe && (ip->s6_addr[1] & 0xc0) == 0x80)
		return "is link-local (fe80::/10: every interface has its own)";
	if (ip->s6_addr[0] == 0xff)
		return "is a multicast address (ff00::/8)";
	if (!memcmp(&net, ip, sizeof(net)))
		return "is the network address of its subnet (subnet-router anycast)";
	return NULL;
}

/**
 * rt_route6_conflict() - the first host IPv6 route @ip/@prefix overlaps
 * @p:		the pools
 * @ip:		sandbox address
 * @prefix:	its prefix length
 * @r:		the host's IPv6 routes and local addresses
 * @n:		their count
 *
 * The rules of rt_route_conflict(): Cove's own routes, default routes
 * and, for a subnet in the pool, routes containing the whole pool do not
 * count. Neither do link-local and multicast routes (fe80::/64, ff00::/8
 * on every interface), which no sandbox subnet can be in.
 *
 * Return: the index in @r of a conflicting route, or -1 when none.
 */
int rt_route6_conflict(const struct sbx_pools *p, const struct in6_addr *ip,
		       uint8_t prefix, const struct rt_route *r, unsigned n)
{
	bool pool = rt_in_pool6(p, ip, prefix);
	unsigned i;

	for (i = 0; i < n; i++) {
		uint8_t shorter = r[i].prefix < prefix ? r[i].prefix : prefix;

		if (r[i].cove || !r[i].prefix)
			continue;
		if (pool && r[i].prefix < p->prefix6 &&
		    rt_prefix6_match(&r[i].dst6, &p->net6, r[i].prefix))
			continue;
		if (rt_prefix6_match(ip, &r[i].dst6, shorter))
			return (int)i;
	}
	return -1;
}

/* rt_gateway6_of() - network + 1 of @ip's subnet (see runtime.h). */
struct in6_addr rt_gateway6_of(const struct in6_addr *ip, uint8_t prefix)
{
	struct in6_addr gw = rt_net6(ip, prefix);

	gw.s6_addr[15] |= 1; /* prefix <= 126: the last byte is host bits */
	return gw;
}

/* rt_in_pool6() - is @ip/@prefix inside the IPv6 pool of @p? */
bool rt_in_pool6(const struct sbx_pools *p, const struct in6_addr *ip,
		 uint8_t prefix)
{
	return prefix >= p->prefix6 &&
	       rt_prefix6_match(ip, &p->net6, p->prefix6);
}

/* rt_ip6_derive() - the IPv6 address of a sandbox whose IPv4 one is @ip. */
void rt_ip6_derive(const struct sbx_pools *p, struct in_addr ip,
		   struct in6_addr *out, uint8_t *prefix, struct in6_addr *gw)
{
	*out = rt_net6(&p->net6, SBX_SUBNET6_PREFIX);
	memcpy(out->s6_addr + 12, &ip.s_addr, 4);
	*prefix = SBX_SUBNET6_PREFIX;
	*gw = rt_gateway6_of(out, SBX_SUBNET6_PREFIX);
}
