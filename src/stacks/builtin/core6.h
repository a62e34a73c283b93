/* SPDX-License-Identifier: Apache-2.0 */
/* Plumbing between the builtin stack's IPv6 files (ipv6.c, ip6_frag.c, icmp6.c, nd.c, nd_addr.c). */
#ifndef COVE_BUILTIN_CORE6_H
#define COVE_BUILTIN_CORE6_H

/*
 * Theory of operation
 *
 * ip6.h is what the transports see; this header is what the IPv6 files
 * share among themselves and with stack.c and eth.c:
 *
 *   ipv6.c      addresses and on-link prefixes, the default router, input
 *               (the extension header chain), output (ip6_send)
 *   ip6_frag.c  reassembly, source fragmentation (ip6_send_dgram), the
 *               path MTU table
 *   icmp6.c     ICMPv6 input, echo, errors (both ways)
 *   nd.c        the neighbour cache (RFC 4861 states, NUD), NS/NA
 *   nd_addr.c   our addresses' life: DAD, RS/RA and SLAAC, MLDv2 reports
 *
 * Our addresses sit in a fixed table (IP6_ADDRS): slot 0 the link-local
 * address (fe80::/64 + EUI-64 of the link MAC), slot 1 cfg->addr6, the
 * rest SLAAC addresses from router advertisements. An address is usable
 * (ip6_is_local(), a source) only when PREFERRED; while TENTATIVE (DAD
 * running) it only answers neighbour discovery for itself.
 */

#include "stacks/builtin/core.h"
#include "stacks/builtin/ip6.h"

#define IP6_ADDRS	 4u /* link-local, configured, 2 SLAAC */
#define IP6_ADDR_LL	 0u
#define IP6_ADDR_CFG	 1u
#define IP6_PREFIXES	 4u  /* on-link prefixes learnt from RAs */
#define IP6_GROUPS	 16u /* groups sockets joined (IPV6_JOIN_GROUP) */
#define IP6_DEF_HLIM	 64u
#define IP6_ND_HLIM	 255u
#define IP6_IFINDEX	 2u /* eth0 behind lo, as in the sandbox */
#define IP6_MAX_PAYLOAD	 65535u
#define IP6_LIFE_FOREVER UINT64_MAX

/* next-header values of the extension headers */
#define NH_HOPOPT_   0u
#define NH_ROUTING_  43u
#define NH_FRAGMENT_ 44u
#define NH_NONE_     59u
#define NH_DSTOPTS_  60u

enum ip6_astate {
	IP6A_FREE,
	IP6A_TENTATIVE, /* DAD running */
	IP6A_PREFERRED,
	IP6A_DUPLICATE /* DAD failed: never used */
};

/* One of our addresses. */
struct ip6_ifaddr {
	struct btimer timer; /* first: container_of by cast (DAD, lifetime) */
	struct bstack *st;
	struct in6_addr a;
	uint8_t plen;
	uint8_t state;	  /* enum ip6_astate */
	uint8_t dad_left; /* DAD solicitations still to send */
	bool slaac;	  /* from an RA prefix: expires */
	uint64_t valid_until;
};

/* An on-link prefix from a router advertisement (L flag). */
struct ip6_prefix {
	struct in6_addr p;
	uint8_t plen;
	uint64_t valid_until; /* 0: slot free */
};

/* A group some sockets joined. */
struct ip6_group {
	struct in6_addr g;
	uint32_t refs; /* 0: slot free */
};

struct ip6_reasm_ctx;
struct ip6_pmtu_ctx;
struct nd_ctx;

struct ipv6_ctx {
	bool on;       /* !COVE_STACK_F_NO_IPV6 */
	bool announce; /* !COVE_STACK_F_NO_GARP: unsolicited NAs */
	struct ip6_ifaddr addr[IP6_ADDRS];
	struct ip6_prefix prefix[IP6_PREFIXES];
	struct ip6_group group[IP6_GROUPS];
	struct in6_addr router; /* default router; :: none */
	bool router_static;	/* cfg->gateway6: never expires */
	uint64_t router_until;
	uint8_t hlim;		 /* default hop limit (64, or an RA's) */
	uint32_t mtu;		 /* link MTU (or an RA's lower MTU option) */
	uint32_t reach_ms;	 /* BaseReachableTime (RFC 4861 6.3.2) */
	uint32_t retrans_ms;	 /* RetransTimer */
	struct icmp_bucket icmp; /* ICMPv6 error rate limit */
	struct btimer rs_timer;	 /* router solicitations at start */
	uint8_t rs_left;
	struct btimer mld_timer; /* unsolicited MLDv2 reports */
	uint8_t mld_left;
	struct ip6_reasm_ctx *reasm;
	struct ip6_pmtu_ctx *pmtu;
	struct nd_ctx *nd;
};

static inline struct ipv6_ctx *ip6c(const struct bstack *st)
{
	return st->ipv6;
}

/* --- address shapes ------------------------------------------------------ */

static inline bool ip6_is_mc(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xff;
}

static inline bool ip6_is_ll(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

static inline bool ip6_is_any(const struct in6_addr *a)
{
	return IN6_IS_ADDR_UNSPECIFIED(a);
}

static inline bool ip6_is_lo(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LOOPBACK(a);
}

/* ip6_prefix_eq() - @a and @b share their first @plen bits. */
bool ip6_prefix_eq(const struct in6_addr *a, const struct in6_addr *b,
		   unsigned plen);
/* ip6_solicited() - the solicited-node group of @a (ff02::1:ffXX:XXXX). */
void ip6_solicited(const struct in6_addr *a, struct in6_addr *out);
/* ip6_mcast_mac() - the Ethernet group address of IPv6 group @g. */
void ip6_mcast_mac(const struct in6_addr *g, uint8_t mac[ETH_ALEN_]);
extern const struct in6_addr ip6_all_nodes, ip6_all_routers, ip6_mldv2;

/* --- ipv6.c -------------------------------------------------------------- */

int ipv6_init(struct bstack *st, const struct cove_stack_config *cfg);
/*
 * ipv6_start() - begin DAD, router solicitation and MLD (after create);
 * @announce: advertise each address once it is usable (nd_announce()).
 */
void ipv6_start(struct bstack *st, bool announce);
void ipv6_fini(struct bstack *st);
/*
 * ipv6_input() - validate a received IPv6 packet and deliver it
 * @p:		bytes after the Ethernet header
 * @loop:	from the loopback queue (::1 allowed, checksums trusted)
 * @csum_ok:	the link vouched for the transport checksum
 */
void ipv6_input(struct bstack *st, const struct pkt *p, bool loop,
		bool csum_ok);
/* ip6_mac_ok() - @mac (a 33:33 group) is one we listen on. */
bool ip6_mac_ok(const struct bstack *st, const uint8_t *mac);
/* ip6_addr_find() - our address @a in any state but FREE, or NULL. */
struct ip6_ifaddr *ip6_addr_find(const struct bstack *st,
				 const struct in6_addr *a);
/* ip6_next_hop() - next hop for @dst (@dst itself on link); -ENETUNREACH. */
int ip6_next_hop(const struct bstack *st, const struct in6_addr *dst,
		 struct in6_addr *nh);
/*
 * ip6_out() - fill the fixed header of @f (payload @plen bytes from
 * ip6_l4(f) on, extension headers included) and send it; consumes @f.
 *
 * Return: 0, -ENETUNREACH, -ENOBUFS.
 */
int ip6_out(struct bstack *st, struct cove_frame *f, const struct in6_addr *src,
	    const struct in6_addr *dst, uint8_t nh, uint32_t plen,
	    uint8_t tclass, uint8_t hlim);
/* ip6_deliver() - hand an upper-layer packet to its protocol. */
void ip6_deliver(struct bstack *st, struct ip6_pkt *pkt);
/*
 * ip6_chain() - walk the extension headers of a packet from the header
 * whose type is @nh at @off (from the IPv6 header) and deliver it
 * @hdr:	the packet from its IPv6 header (@len bytes, verified)
 * @frag_ok:	a fragment header may still come (not after reassembly)
 */
void ip6_chain(struct bstack *st, struct ip6_pkt *pkt, const uint8_t *hdr,
	       uint32_t len, uint8_t nh, uint32_t off, bool frag_ok);

/* --- ip6_frag.c ---------------------------------------------------------- */

int ip6_frag_init(struct bstack *st);
void ip6_frag_fini(struct bstack *st);
/*
 * ip6_reasm() - take one fragment
 * @pkt:	the packet so far (addresses, header) of @hdr/@len
 * @fh:		offset of the fragment header in @hdr
 * @unfrag:	bytes before the fragment header (fixed + unfragmentable)
 */
void ip6_reasm(struct bstack *st, struct ip6_pkt *pkt, const uint8_t *hdr,
	       uint32_t len, uint32_t fh);
/*
 * ip6_send_from() - ip6_send_dgram() with @src used as it is, :: included
 * (DAD probes and router solicitations before we have an address)
 */
int ip6_send_from(struct bstack *st, const struct in6_addr *src,
		  const struct in6_addr *dst, uint8_t proto, uint8_t tclass,
		  uint8_t hlim, const void *hdr, uint32_t hdr_len,
		  const struct iovec *iov, size_t iovcnt, int csum_off);
/* ip6_pmtu_update() - a Packet Too Big said @mtu towards @dst. */
void ip6_pmtu_update(struct bstack *st, const struct in6_addr *dst,
		     uint32_t mtu);
uint32_t ip6_pmtu_entries(const struct bstack *st);

/* --- icmp6.c ------------------------------------------------------------- */

void icmp6_layer_input(struct bstack *st, const struct ip6_pkt *pkt);
/*
 * icmp6_send() - an ICMPv6 message: @hdr (type, code, zero checksum and
 * the rest) then @iov, checksum filled; for ND and MLD (hop limit 255/1)
 *
 * Return: 0 or ip6_send_dgram()'s error.
 */
int icmp6_send(struct bstack *st, const struct in6_addr *src,
	       const struct in6_addr *dst, uint8_t hlim, const void *hdr,
	       uint32_t hdr_len, const struct iovec *iov, size_t iovcnt);
bool icmp6_allow(struct bstack *st);

/* --- nd.c: the neighbour cache ------------------------------------------- */

int nd_init(struct bstack *st);
void nd_fini(struct bstack *st);
/* nd_input() - NS (135), NA (136) and redirects (137, ignored). */
void nd_input(struct bstack *st, const struct ip6_pkt *pkt);
/*
 * nd_output() - send @f (IPv6 in Ethernet, destination MAC unset) to the
 * on-link next hop @nh, resolving it first; consumes @f.
 *
 * Return: 0 (sent or queued), -ENOBUFS (queue full, dropped).
 */
int nd_output(struct bstack *st, struct cove_frame *f,
	      const struct in6_addr *nh);
/*
 * nd_send_ns() - a solicitation for @target: to its solicited-node group,
 * or to @target itself when @unicast (NUD probes); @dad: from :: without
 * our link-layer address (RFC 4862 5.4.2)
 */
void nd_send_ns(struct bstack *st, const struct in6_addr *target, bool unicast,
		bool dad);
/* nd_learn() - @a uses @mac (from an RS/RA/NS option): STALE or updated. */
void nd_learn(struct bstack *st, const struct in6_addr *a, const uint8_t *mac,
	      bool router);
/* nd_opt_lla() - the link-layer address option of @type in ND options. */
const uint8_t *nd_opt_lla(const uint8_t *opt, uint32_t len, uint8_t type,
			  bool *bad);
uint32_t nd_entries(const struct bstack *st);

/* --- nd_addr.c: DAD, RS/RA, SLAAC, MLD ----------------------------------- */

/* ip6_addr_add() - add @a/@plen, starting DAD unless @dad is false. */
struct ip6_ifaddr *ip6_addr_add(struct bstack *st, unsigned slot,
				const struct in6_addr *a, uint8_t plen,
				bool dad);
/* nd_dad_conflict() - someone else has (or is probing for) our @ia. */
void nd_dad_conflict(struct bstack *st, struct ip6_ifaddr *ia);
/* nd_ra_input() - a router advertisement (type 134). */
void nd_ra_input(struct bstack *st, const struct ip6_pkt *pkt);
/* mld_query_input() - an MLD query (130): report our groups. */
void mld_query_input(struct bstack *st, const struct ip6_pkt *pkt);
/*
 * mld_report() - send an MLDv2 report listing every group we are in, and
 * @left (unless NULL) as a group we no longer listen on
 */
void mld_report(struct bstack *st, const struct in6_addr *left);
/* mld_start() - report our groups now and once more a second later. */
void mld_start(struct bstack *st);
void nd_addr_init(struct bstack *st);
void nd_addr_start(struct bstack *st);
/*
 * nd_announce() - an unsolicited NA for our @a to all nodes (RFC 4861
 * 7.2.6), as arp_announce() for IPv4.
 */
void nd_announce(struct bstack *st, const struct in6_addr *a);
void nd_addr_fini(struct bstack *st);

#endif /* COVE_BUILTIN_CORE6_H */
