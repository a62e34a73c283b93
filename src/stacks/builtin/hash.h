/* SPDX-License-Identifier: Apache-2.0 */
/* The builtin stack's seeded 4-tuple hash: TCP's connection hash, SO_REUSEPORT choice. */
#ifndef COVE_BUILTIN_HASH_H
#define COVE_BUILTIN_HASH_H

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

/**
 * bstack_flow_hash() - a seeded 32-bit hash of a 4-tuple
 * @seed:	per-instance secret (bstack_random() at init)
 * @laddr:	local address, network order
 * @lport:	local port, host order
 * @raddr:	remote address, network order
 * @rport:	remote port, host order
 *
 * Every output bit depends on every input bit (a 64-bit finaliser), so
 * both masking the low bits (hash buckets) and scaling the whole value
 * (bstack_hash_pick()) spread evenly. Used for TCP's connection hash and
 * to pick a member of a SO_REUSEPORT group (TCP listeners, UDP sockets).
 */
static inline uint32_t bstack_flow_hash(uint64_t seed, uint32_t laddr,
					uint16_t lport, uint32_t raddr,
					uint16_t rport)
{
	uint64_t x =
		(((uint64_t)raddr << 32) | ((uint64_t)rport << 16) | lport) ^
		((uint64_t)laddr * 0x9e3779b97f4a7c15ull);

	x ^= seed;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x;
}

/**
 * bstack_flow_hash6() - a seeded 32-bit hash of a 4-tuple of either family
 * @seed:	per-instance secret (bstack_random() at init)
 * @laddr:	local address (IPv4 in mapped form)
 * @lport:	local port, host order
 * @raddr:	remote address (IPv4 in mapped form)
 * @rport:	remote port, host order
 *
 * The remote address and port are what a peer chooses, so they go in
 * after the seed, through two multiply-xorshift rounds (one per half of
 * the address) and then the ports: each step is a bijection keyed by what
 * came before, so two tuples meet before the finaliser only where the
 * seed says, which a peer does not know. The local address (ours) is
 * folded in first with one multiply. Five multiplies in all, on the
 * per-segment path of TCP's demultiplexing; the finaliser is
 * bstack_flow_hash()'s, so the low bits (buckets) and the whole value
 * (bstack_hash_pick()) spread evenly.
 */
static inline uint32_t
bstack_flow_hash6(uint64_t seed, const struct in6_addr *laddr, uint16_t lport,
		  const struct in6_addr *raddr, uint16_t rport)
{
	uint64_t l[2], r[2], x;

	memcpy(l, laddr, sizeof(l));
	memcpy(r, raddr, sizeof(r));
	x = seed ^ ((l[0] ^ (l[1] << 7 | l[1] >> 57)) * 0x9e3779b97f4a7c15ull);
	x = (x ^ r[0]) * 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	x = (x ^ r[1]) * 0xa0761d6478bd642full;
	x ^= x >> 29;
	x ^= ((uint64_t)rport << 16) | lport;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x;
}

/* bstack_hash_pick() - map a 32-bit hash onto 0..@n-1 (Linux's reciprocal_scale). */
static inline uint32_t bstack_hash_pick(uint32_t hash, uint32_t n)
{
	return (uint32_t)(((uint64_t)hash * n) >> 32);
}

#endif /* COVE_BUILTIN_HASH_H */
