/* SPDX-License-Identifier: Apache-2.0 */
/* Interfaces between the builtin stack's layers below TCP (eth, ARP, IPv4, ICMP). */
#ifndef COVE_BUILTIN_CORE_H
#define COVE_BUILTIN_CORE_H

/*
 * builtin.h is the contract the transports (TCP, UDP) build against. This
 * header is the plumbing between stack.c, eth.c, arp.c, ipv4.c and icmp.c:
 * nothing in here is meant for the transports.
 */

#include "common/bytes.h"
#include "stacks/builtin/builtin.h"

#define ETH_P_IP_  0x0800u
#define ETH_P_ARP_ 0x0806u
#define ETH_ALEN_  6u
#define ETH_ZLEN_  60u /* minimum frame without FCS */

#define IP_PROTO_ICMP 1u
#define IP_PROTO_IGMP 2u
#define IP_PROTO_TCP  6u
#define IP_PROTO_UDP  17u

#define IP_DF	     0x4000u
#define IP_MF	     0x2000u
#define IP_OFFMASK   0x1fffu
#define IP_MAX_TOTAL 65535u

/* Loopback queue bound: frames waiting for the next run(). */
#define LOOP_MAX 256u

/* Read untrusted bytes through pkt_ptr() (builtin.h), then cove_get16() &c. */
static inline uint32_t rd32n(const uint8_t *b) /* stays network order */
{
	uint32_t v;

	__builtin_memcpy(&v, b, 4);
	return v;
}

static inline void wr32n(uint8_t *b, uint32_t v) /* v in network order */
{
	__builtin_memcpy(b, &v, 4);
}

/* stack.c: hand a frame built for ourselves to the loopback queue. */
int bstack_loop(struct bstack *st, struct cove_frame *f);

/* eth.c */
/*
 * eth_input() - demultiplex one Ethernet frame; consumes @f
 * @loop:	true for frames from our loopback queue (127/8 allowed)
 */
void eth_input(struct bstack *st, struct cove_frame *f, bool loop);
/* eth_fill() - write the Ethernet header at f->data (source: our MAC). */
void eth_fill(struct bstack *st, struct cove_frame *f, const uint8_t *dst,
	      uint16_t type);
extern const uint8_t eth_bcast[ETH_ALEN_];

/* arp.c */
int arp_init(struct bstack *st);
void arp_fini(struct bstack *st);
void arp_input(struct bstack *st, const struct pkt *p);
/*
 * arp_output() - send @f (IPv4 in Ethernet, destination MAC unset) to the
 * on-link next hop @nh, resolving it first if needed; consumes @f.
 *
 * Return: 0 (sent or queued), -ENOBUFS (queue full, dropped).
 */
int arp_output(struct bstack *st, struct cove_frame *f, uint32_t nh);
void arp_announce(struct bstack *st);

/* ipv4.c */
int ipv4_init(struct bstack *st);
void ipv4_fini(struct bstack *st);
void ipv4_input(struct bstack *st, const struct pkt *p, bool loop,
		bool csum_ok);
/* ip_is_bcast() - @addr is 255.255.255.255 or our subnet's broadcast. */
bool ip_is_bcast(const struct bstack *st, uint32_t addr);
/* ip_martian() - @addr may never be a packet's source on the wire. */
bool ip_martian(const struct bstack *st, uint32_t addr);
/*
 * ip_route() - the next hop for @dst
 *
 * Return: 0 with @nh set (0 for local delivery or broadcast),
 * -ENETUNREACH when there is no route.
 */
int ip_route(const struct bstack *st, uint32_t dst, uint32_t *nh);

/* ip_mcast_mac() - the Ethernet group address of IPv4 group @g: 01:00:5e + 23 bits. */
void ip_mcast_mac(uint32_t g, uint8_t mac[ETH_ALEN_]);

/* igmp.c */
int igmp_layer_init(struct bstack *st);
void igmp_fini(struct bstack *st);
/* igmp_layer_input() - an IGMP message for us: queries are answered. */
void igmp_layer_input(struct bstack *st, const struct ip_pkt *pkt);
/* igmp_group_ok() - we are in group @g: 224.0.0.1 or one a socket joined. */
bool igmp_group_ok(const struct bstack *st, uint32_t g);
/* igmp_mac_ok() - @mac is the Ethernet address of one of our IPv4 groups. */
bool igmp_mac_ok(const struct bstack *st, const uint8_t *mac);
/* igmp_join() - one more socket in @g. Return: 0, -ENOBUFS (table full). */
int igmp_join(struct bstack *st, uint32_t g);
/* igmp_leave() - one socket fewer in @g. Return: true when it was the last. */
bool igmp_leave(struct bstack *st, uint32_t g);
/*
 * igmp_changed() - our groups or their filters changed: report now and
 * again later; @left is a group just left (network order) or 0.
 */
void igmp_changed(struct bstack *st, uint32_t left);
/* igmp_counters() - reports sent and queries heard (kept internally). */
void igmp_counters(const struct bstack *st, uint64_t *reports,
		   uint64_t *queries);

/* ICMP error rate limit: a token bucket kept in the IPv4 context. */
#define ICMP_RATE  1000u /* tokens per second */
#define ICMP_BURST 50u
struct icmp_bucket {
	uint64_t stamp_ns; /* time of the last refill */
	uint32_t tokens;
};
struct icmp_bucket *ipv4_icmp_bucket(struct bstack *st);

/* icmp.c */
void icmp_layer_input(struct bstack *st, const struct ip_pkt *pkt);
/* icmp_allow() - take a token from the ICMP error bucket. */
bool icmp_allow(struct bstack *st);

#endif /* COVE_BUILTIN_CORE_H */
