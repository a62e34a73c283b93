/* SPDX-License-Identifier: Apache-2.0 */
/* UDP's socket and context, shared by udp.c and its multicast half (udp_mcast.c). */
#ifndef COVE_BUILTIN_UDP_H
#define COVE_BUILTIN_UDP_H

#include "stacks/builtin/core6.h"

#define UDP_HASH	 256u
#define UDP_HLEN	 8u
#define UDP6_MAX_PAYLOAD (65535u - UDP_HLEN) /* 65527 */
#define UDP_REC_HDR	 40u /* len, port, pad, source, destination */
#define UDP_REC_MAX	 (UDP_REC_HDR + ((UDP6_MAX_PAYLOAD + 3u) & ~3u))
#define UDP_MC4_MAX	 20u /* IP_ADD_MEMBERSHIPs per socket (IP_MAX_MEMBERSHIPS) */
#define UDP_MC4_SRC	 10u /* sources per membership (igmp_max_msf) */
#define UDP_MC6_MAX	 8u  /* IPV6_JOIN_GROUP memberships per socket */

/* One IPv4 membership of a socket, with its source filter. */
struct udp_mc4 {
	uint32_t group;	 /* network order */
	uint32_t ifaddr; /* imr_address as joined (a drop may name it) */
	bool include;	 /* INCLUDE mode (source joins), else EXCLUDE */
	uint8_t nsrc;	 /* sources in src[] (included or blocked) */
	uint32_t src[UDP_MC4_SRC];
};

/* A socket's group memberships, allocated at its first join. */
struct udp_mc {
	uint8_t n4, n6;
	struct udp_mc4 g4[UDP_MC4_MAX];
	struct in6_addr g6[UDP_MC6_MAX];
};

struct udp_sock {
	struct bsock b;			  /* first: the core's view */
	struct udp_sock *next, *prev;	  /* all sockets */
	struct udp_sock *hnext, **hpprev; /* port chain, bound only */
	struct in6_addr laddr, raddr;	  /* IPv4 mapped; see udp.c */
	uint16_t lport, rport;		  /* host order; lport 0: unbound */
	int domain;			  /* AF_INET or AF_INET6 */
	bool connected, addr_locked, port_locked;
	bool v6only;	   /* IPV6_V6ONLY */
	bool pktinfo6;	   /* IPV6_RECVPKTINFO */
	bool bound_if;	   /* tied to our link by a scope id */
	uint8_t tclass;	   /* IPV6_TCLASS */
	uint8_t hops;	   /* IPV6_UNICAST_HOPS; 0: the default */
	uint8_t pmtudisc6; /* IPV6_MTU_DISCOVER */
	bool reuseaddr, reuseport, broadcast, keepalive;
	uint8_t shut; /* bit 0: SHUT_RD, bit 1: SHUT_WR */
	uint8_t tos, ttl;
	uint8_t pmtudisc;	  /* IP_MTU_DISCOVER, remembered only */
	bool recverr, pktinfo;	  /* IP_RECVERR (remembered only), IP_PKTINFO */
	bool mc_noall;		  /* IP_MULTICAST_ALL 0 */
	struct cove_ip_mcopts mc; /* IP_MULTICAST_IF/TTL/LOOP */
	struct udp_mc *groups;	  /* memberships, NULL before the first */
	int err;		  /* pending so_error, positive errno */
	uint32_t rcvbuf, sndbuf;  /* SO_RCVBUF/SO_SNDBUF as reported */
	uint8_t *ring;
	uint32_t ring_size, head, tail; /* byte offsets; head == tail: empty */
	uint32_t used;			/* bytes of records queued */
	uint32_t nrec;
};

struct udp_ctx {
	struct udp_sock *all;
	struct udp_sock *hash[UDP_HASH];
	uint64_t seed; /* SO_REUSEPORT flow hash */
};

/* What a ring record keeps besides the payload. */
struct udp_meta {
	struct in6_addr src, dst; /* IPv4 mapped */
	uint16_t port;		  /* source port, host order */
};

/* udp_ring.c: the receive ring (see its theory block) */
/* udp_ring_queue() - queue a datagram; false when it must be dropped. */
bool udp_ring_queue(struct bstack *st, struct udp_sock *u,
		    const struct udp_meta *meta, const uint8_t *data,
		    uint32_t len);
/* udp_ring_front() - the oldest datagram, its length and addresses. */
const uint8_t *udp_ring_front(struct udp_sock *u, uint32_t *len,
			      struct udp_meta *meta);
/* udp_ring_pop() - drop the oldest datagram (@len: its length). */
void udp_ring_pop(struct udp_sock *u, uint32_t len);
/* udp_ring_full() - the size SO_RCVBUF lets the ring grow to. */
uint32_t udp_ring_full(const struct udp_sock *u);
/* udp_ring_move() - the records into a new ring of @size; 0 or -ENOBUFS. */
int udp_ring_move(struct bstack *st, struct udp_sock *u, uint32_t size);
/* udp_ring_release() - under memory pressure, give an empty ring back. */
void udp_ring_release(struct bstack *st, struct udp_sock *u);

/* udp_mcast.c */
/*
 * udp_mc_setsockopt() - the membership options: IP_ADD/DROP_MEMBERSHIP,
 * IP_ADD/DROP_SOURCE_MEMBERSHIP, IP_BLOCK/UNBLOCK_SOURCE, IP_MULTICAST_ALL
 * (level IPPROTO_IP) and IPV6_JOIN/LEAVE_GROUP (IPPROTO_IPV6, AF_INET6).
 * Return: 0, Linux's errors, or -ENOPROTOOPT when @name is none of them.
 */
int udp_mc_setsockopt(struct udp_sock *u, int level, int name, const void *val,
		      socklen_t len);
/* udp_mc_getsockopt() - IP_MULTICAST_ALL; -ENOPROTOOPT for the rest. */
int udp_mc_getsockopt(const struct udp_sock *u, int level, int name, void *val,
		      socklen_t *len);
/* udp_mc_free() - leave every group @u is in (at close). */
void udp_mc_free(struct udp_sock *u);
/*
 * udp_mc4_allow() - does @u take a datagram from @src to IPv4 group @g
 * (network order)? Its filter when it joined @g, else IP_MULTICAST_ALL
 * (Linux's ip_mc_sf_allow()).
 */
bool udp_mc4_allow(const struct udp_sock *u, uint32_t g, uint32_t src);
/*
 * udp_mc4_state() - the interface's filter for group @g from every
 * socket's: *@excl when any socket excludes (the sources then are
 * omitted: EXCLUDE {} is the union's upper bound), else the union of the
 * sources included, up to @max into @src. Return: sources written.
 */
unsigned udp_mc4_state(struct bstack *st, uint32_t g, bool *excl, uint32_t *src,
		       unsigned max);

#endif /* COVE_BUILTIN_UDP_H */
