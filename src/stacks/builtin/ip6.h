/* SPDX-License-Identifier: Apache-2.0 */
/* The builtin stack's IPv6 contract: what ipv6.c, icmp6.c and nd.c give the transports. */
#ifndef COVE_BUILTIN_IP6_H
#define COVE_BUILTIN_IP6_H

/*
 * Theory of operation
 *
 * IPv6 sits beside IPv4 (builtin.h) with the same shapes, so a transport
 * handles both with one code path and a family switch at the edges:
 *
 *   ipv6.c   input (the extension header chain: hop-by-hop, destination
 *            options, routing (type 0 refused), fragment; unknown options
 *            by their action bits), output (ip6_send), fragment
 *            reassembly with memory and time limits (overlaps dropped, RFC
 *            5722), source fragmentation of datagrams (ip6_send_dgram),
 *            the per-destination path MTU (RFC 8201, 1280 floor), loopback
 *            (::1 and our own addresses)
 *   icmp6.c  echo, the errors a host sends (rate limited), Packet Too Big
 *            and the other errors handed to the transports
 *   nd.c     neighbour discovery (RFC 4861: NS/NA, solicited-node
 *            multicast, the cache's reachability states, a bounded pending
 *            queue per entry), DAD (RFC 4862), RS/RA (default router, MTU,
 *            SLAAC prefixes), MLDv2 reports for the groups we listen on
 *
 * Addresses in transports: struct in6_addr for both families, IPv4 as the
 * mapped form ::ffff:a.b.c.d (ipx_* below), so a tcb or a UDP socket keeps
 * one 4-tuple shape; the family decides which output path a frame takes.
 *
 * Frames: ip6_alloc() leaves room for Ethernet + the fixed IPv6 header
 * (40 bytes; extension headers are never sent except a fragment header,
 * which ip6_send_dgram() inserts), so the transport writes at ip6_l4(f).
 * ip6_send() consumes the frame in every case, as ip_send() does.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "stacks/builtin/builtin.h"

#define ETH_P_IPV6_ 0x86ddu
#define IP6_HLEN_   40u
#define IP6_MIN_MTU 1280u

#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif

/* A received IPv6 packet handed to a transport's input. */
struct ip6_pkt {
	struct in6_addr src, dst;
	uint8_t proto;	/* upper-layer protocol after the extension headers */
	uint8_t hlim;	/* hop limit */
	uint8_t tclass; /* traffic class */
	uint32_t flow;	/* flow label (20 bits, host order) */
	const uint8_t *l4; /* transport header, @l4_len bytes (verified) */
	uint32_t l4_len;
	const uint8_t *ip_hdr; /* the packet from its IPv6 header, for errors */
	uint32_t ip_len;       /* ... its length (header + payload) */
	uint32_t scope_id;     /* link-local source: the interface index */
	bool csum_ok;	       /* the link vouched for the L4 checksum */
};

/* --- addresses of both families (inline, for the transports) ----------- */

/* ipx_is_v4() - @a is an IPv4 address in mapped form (::ffff:a.b.c.d). */
static inline bool ipx_is_v4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

/* ipx_v4() - the IPv4 address (network order) of a mapped @a. */
static inline uint32_t ipx_v4(const struct in6_addr *a)
{
	uint32_t v;

	memcpy(&v, &a->s6_addr[12], 4);
	return v;
}

/* ipx_from_v4() - the mapped form of IPv4 address @v4 (network order). */
static inline struct in6_addr ipx_from_v4(uint32_t v4)
{
	struct in6_addr a = { .s6_addr = { [10] = 0xff, [11] = 0xff } };

	memcpy(&a.s6_addr[12], &v4, 4);
	return a;
}

static inline bool ipx_eq(const struct in6_addr *a, const struct in6_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* --- ipv6.c: output and addresses --------------------------------------- */

/*
 * ip6_alloc() - a transmit frame with room for Ethernet + IPv6 headers
 * @room:	set to the bytes available for the transport (min of the
 *		link MTU - 40 and the frame's capacity)
 *
 * Return: the frame (f->len == 0) or NULL when the pool is empty.
 */
struct cove_frame *ip6_alloc(struct bstack *st, uint32_t *room);
/* ip6_alloc_tso() - as ip_alloc_tso(), for a TCP-over-IPv6 super-frame. */
struct cove_frame *ip6_alloc_tso(struct bstack *st, uint32_t *room);
static inline uint8_t *ip6_l4(struct cove_frame *f)
{
	return f->data + ETH_HLEN_ + IP6_HLEN_;
}

/*
 * ip6_send() - fill the IPv6 and Ethernet headers and send (or loop back,
 * or queue behind neighbour resolution); consumes @f
 * @src:	our address (from ip6_src_for() when the socket has none)
 * @dst:	destination
 * @proto:	upper-layer protocol (IPPROTO_TCP, IPPROTO_UDP, ICMPv6)
 * @l4_len:	bytes the transport wrote at ip6_l4(f)
 * @tclass:	traffic class
 * @hlim:	hop limit; 0: the default (64, or the router's from an RA)
 * @segs:	1, or for a COVE_FRAME_F_TSO frame the segments it becomes
 *
 * Return: 0, -ENETUNREACH (no route), -EHOSTUNREACH, -ENOBUFS (queue
 * full; dropped) or -EMSGSIZE (above the path MTU and not TSO).
 */
int ip6_send(struct bstack *st, struct cove_frame *f,
	     const struct in6_addr *src, const struct in6_addr *dst,
	     uint8_t proto, uint32_t l4_len, uint8_t tclass, uint8_t hlim,
	     uint32_t segs);

/*
 * ip6_send_dgram() - one transport datagram of any size, fragmented (RFC
 * 8200 section 4.5) when it does not fit the path MTU; the shapes of
 * ip_send_dgram() (builtin.h), the checksum with the IPv6 pseudo-header.
 *
 * Return: 0, -EMSGSIZE, -ENETUNREACH, -ENOBUFS.
 */
int ip6_send_dgram(struct bstack *st, const struct in6_addr *src,
		   const struct in6_addr *dst, uint8_t proto, uint8_t tclass,
		   uint8_t hlim, const void *hdr, uint32_t hdr_len,
		   const struct iovec *iov, size_t iovcnt, int csum_off);

/* ip6_is_local() - @a is one of ours: ::1, our link-local or global address. */
bool ip6_is_local(const struct bstack *st, const struct in6_addr *a);

/*
 * ip6_src_for() - the source address for @dst (RFC 6724, simplified: ::1
 * for ::1, link-local for a link-local destination, else the global one)
 *
 * Return: 0, or -EADDRNOTAVAIL (no usable address yet, e.g. during DAD),
 * -ENETUNREACH (no route to @dst).
 */
int ip6_src_for(const struct bstack *st, const struct in6_addr *dst,
		struct in6_addr *src);

/* ip6_path_mtu() - the path MTU towards @dst (link MTU until lowered). */
uint32_t ip6_path_mtu(struct bstack *st, const struct in6_addr *dst);

/*
 * ip6_ifindex() - the interface index of our one link: the scope id that
 * link-local addresses carry in and out of sockets (a sockaddr_in6 with
 * another non-zero scope id names an interface we do not have).
 */
uint32_t ip6_ifindex(const struct bstack *st);

/*
 * ip6_pseudo() - the unfolded sum of the IPv6 pseudo-header (RFC 8200
 * section 8.1) for @len transport bytes of @proto, to chain with
 * cove_csum_partial() over the transport bytes.
 */
uint32_t ip6_pseudo(const struct in6_addr *src, const struct in6_addr *dst,
		    uint8_t proto, uint32_t len);

/*
 * ip6_csum() - the transport checksum over the pseudo-header and @len
 * bytes at @l4: the value to store, or 0 when verifying a correct one.
 * Links offload IPv4 checksums only, so IPv6 transports fill theirs whole.
 */
uint16_t ip6_csum(const struct in6_addr *src, const struct in6_addr *dst,
		  uint8_t proto, const void *l4, uint32_t len);

/*
 * ip6_group_join() - a socket listens on group @g now (counted per group:
 * the first join reports it by MLD, and frames to it are taken)
 *
 * Return: 0, -EINVAL (not a group), -ENOBUFS (the table is full).
 */
int ip6_group_join(struct bstack *st, const struct in6_addr *g);
/* ip6_group_leave() - undo one ip6_group_join() (the last leave reports). */
void ip6_group_leave(struct bstack *st, const struct in6_addr *g);

/* --- icmp6.c ------------------------------------------------------------- */

/* icmp6_send_error() - an ICMPv6 error about @pkt (rate limited, RFC 4443). */
void icmp6_send_error(struct bstack *st, const struct ip6_pkt *pkt,
		      uint8_t type, uint8_t code, uint32_t info);

/* --- transport entry points (tcp_*.c, udp.c) ----------------------------- */

/*
 * *_layer_input6(): a verified IPv6 packet for the transport (L4 checksum
 * not yet verified); *_icmp6_error(): an ICMPv6 error (type, code, info as
 * on the wire, e.g. the MTU of a Packet Too Big) about a packet we sent,
 * @inner being the quoted IPv6 header and at least 8 bytes after it.
 */
void tcp_layer_input6(struct bstack *st, const struct ip6_pkt *pkt);
void tcp_icmp6_error(struct bstack *st, uint8_t type, uint8_t code,
		     uint32_t info, const uint8_t *inner, uint32_t inner_len);
void udp_layer_input6(struct bstack *st, const struct ip6_pkt *pkt);
void udp_icmp6_error(struct bstack *st, uint8_t type, uint8_t code,
		     uint32_t info, const uint8_t *inner, uint32_t inner_len);

#endif /* COVE_BUILTIN_IP6_H */
