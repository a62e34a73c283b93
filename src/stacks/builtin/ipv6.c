// SPDX-License-Identifier: Apache-2.0
/* IPv6: our addresses and routes, input (the extension header chain), output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stacks/builtin/core6.h"

/*
 * Theory of operation
 *
 * Input checks the fixed header against the bytes that arrived (payload
 * length within the frame; Ethernet padding after it is ignored), drops
 * what a host must not accept (a multicast, loopback or mapped source
 * from the wire, a destination that is neither one of our addresses nor a
 * group we are in), then walks the extension header chain in ip6_chain():
 *
 *   hop-by-hop   only first (else parameter problem, code 1), options
 *   destination  options
 *   routing      segments left 0: skipped; otherwise parameter problem
 *                code 0 at the routing type (type 0 is refused, RFC
 *                5095, and a host forwards nothing)
 *   fragment     offset 0 and no more fragments: an atomic fragment
 *                (RFC 6946), the chain goes on; else ip6_reasm()
 *   TCP, UDP,    the transport (tcp_layer_input6, udp_layer_input6,
 *   ICMPv6       icmp6_layer_input)
 *   no next hdr  dropped quietly
 *   anything     parameter problem code 1 at the next-header byte
 *
 * Options are walked TLV by TLV within their header; an unknown option is
 * handled by its two action bits (RFC 8200 4.2): skip, drop, drop with a
 * parameter problem (code 2), or the same only to a unicast destination.
 * A chain is bounded by IP6_MAX_EXT headers and every header by the bytes
 * that arrived, so no packet can make the walk loop or overrun.
 *
 * Output: ip6_out() fills the fixed header and picks the way out: the
 * loopback queue for our own addresses and ::1, the 33:33 group MAC for
 * multicast, otherwise neighbour discovery on the next hop (the
 * destination when on link, else the default router). ip6_send() is that
 * for one transport frame, with the size checked against the path MTU.
 */

#define IP6_MAX_EXT 8u /* extension headers in one chain */

const struct in6_addr ip6_all_nodes = { .s6_addr = { 0xff, 2, [15] = 1 } };
const struct in6_addr ip6_all_routers = { .s6_addr = { 0xff, 2, [15] = 2 } };
const struct in6_addr ip6_mldv2 = { .s6_addr = { 0xff, 2, [15] = 0x16 } };

bool ip6_prefix_eq(const struct in6_addr *a, const struct in6_addr *b,
		   unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;
	uint8_t mask;

	if (plen > 128)
		return false;
	if (memcmp(a, b, bytes))
		return false;
	if (!bits)
		return true;
	mask = (uint8_t)(0xff00u >> bits);
	return !((a->s6_addr[bytes] ^ b->s6_addr[bytes]) & mask);
}

void ip6_solicited(const struct in6_addr *a, struct in6_addr *out)
{
	static const uint8_t pre[13] = { 0xff, 2, [11] = 1, [12] = 0xff };

	memcpy(out->s6_addr, pre, sizeof(pre));
	memcpy(out->s6_addr + 13, a->s6_addr + 13, 3);
}

void ip6_mcast_mac(const struct in6_addr *g, uint8_t mac[ETH_ALEN_])
{
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, g->s6_addr + 12, 4);
}

uint32_t ip6_ifindex(const struct bstack *st)
{
	(void)st;
	return IP6_IFINDEX;
}

uint32_t ip6_pseudo(const struct in6_addr *src, const struct in6_addr *dst,
		    uint8_t proto, uint32_t len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum;

	cove_put32(tail, len);
	tail[7] = proto;
	sum = cove_csum_partial(src, 16, 0);
	sum = cove_csum_partial(dst, 16, sum);
	return cove_csum_partial(tail, sizeof(tail), sum);
}

uint16_t ip6_csum(const struct in6_addr *src, const struct in6_addr *dst,
		  uint8_t proto, const void *l4, uint32_t len)
{
	return cove_csum_fold(
		cove_csum_partial(l4, len, ip6_pseudo(src, dst, proto, len)));
}

struct ip6_ifaddr *ip6_addr_find(const struct bstack *st,
				 const struct in6_addr *a)
{
	struct ipv6_ctx *c = ip6c(st);
	unsigned i;

	for (i = 0; i < IP6_ADDRS; i++)
		if (c->addr[i].state != IP6A_FREE && ipx_eq(&c->addr[i].a, a))
			return &c->addr[i];
	return NULL;
}

bool ip6_is_local(const struct bstack *st, const struct in6_addr *a)
{
	const struct ip6_ifaddr *ia;

	if (!st->ipv6 || !ip6c(st)->on)
		return false;
	if (ip6_is_lo(a))
		return true;
	ia = ip6_addr_find(st, a);
	return ia && ia->state == IP6A_PREFERRED;
}

/*
 * ip6_group_ok() - we listen on group @g: all-nodes, or the solicited-node
 * group of one of our addresses (tentative ones too, for DAD).
 */
static bool ip6_group_ok(const struct bstack *st, const struct in6_addr *g)
{
	struct ipv6_ctx *c = ip6c(st);
	struct in6_addr sn;
	unsigned i;

	if (ipx_eq(g, &ip6_all_nodes))
		return true;
	for (i = 0; i < IP6_GROUPS; i++)
		if (c->group[i].refs && ipx_eq(g, &c->group[i].g))
			return true;
	for (i = 0; i < IP6_ADDRS; i++) {
		if (c->addr[i].state != IP6A_PREFERRED &&
		    c->addr[i].state != IP6A_TENTATIVE)
			continue;
		ip6_solicited(&c->addr[i].a, &sn);
		if (ipx_eq(g, &sn))
			return true;
	}
	return false;
}

bool ip6_mac_ok(const struct bstack *st, const uint8_t *mac)
{
	struct ipv6_ctx *c = ip6c(st);
	struct in6_addr sn;
	uint8_t m[ETH_ALEN_];
	unsigned i;

	if (!c || !c->on || mac[0] != 0x33 || mac[1] != 0x33)
		return false;
	ip6_mcast_mac(&ip6_all_nodes, m);
	if (!memcmp(m, mac, ETH_ALEN_))
		return true;
	for (i = 0; i < IP6_GROUPS; i++) {
		if (!c->group[i].refs)
			continue;
		ip6_mcast_mac(&c->group[i].g, m);
		if (!memcmp(m, mac, ETH_ALEN_))
			return true;
	}
	for (i = 0; i < IP6_ADDRS; i++) {
		if (c->addr[i].state == IP6A_FREE ||
		    c->addr[i].state == IP6A_DUPLICATE)
			continue;
		ip6_solicited(&c->addr[i].a, &sn);
		ip6_mcast_mac(&sn, m);
		if (!memcmp(m, mac, ETH_ALEN_))
			return true;
	}
	return false;
}

int ip6_group_join(struct bstack *st, const struct in6_addr *g)
{
	struct ipv6_ctx *c = ip6c(st);
	struct ip6_group *free_g = NULL;
	unsigned i;

	if (!ip6_is_mc(g))
		return -EINVAL;
	for (i = 0; i < IP6_GROUPS; i++) {
		if (c->group[i].refs && ipx_eq(&c->group[i].g, g)) {
			c->group[i].refs++;
			return 0;
		}
		if (!c->group[i].refs && !free_g)
			free_g = &c->group[i];
	}
	if (!free_g)
		return -ENOBUFS;
	free_g->g = *g;
	free_g->refs = 1;
	if (c->on)
		mld_start(st);
	return 0;
}

void ip6_group_leave(struct bstack *st, const struct in6_addr *g)
{
	struct ipv6_ctx *c = ip6c(st);
	unsigned i;

	for (i = 0; i < IP6_GROUPS; i++) {
		if (!c->group[i].refs || !ipx_eq(&c->group[i].g, g))
			continue;
		if (!--c->group[i].refs && c->on && !ipx_eq(g, &ip6_all_nodes))
			mld_report(st, g);
		return;
	}
}

/* ip6_onlink() - @dst is on our link: link-local or in an on-link prefix. */
static bool ip6_onlink(const struct bstack *st, const struct in6_addr *dst)
{
	struct ipv6_ctx *c = ip6c(st);
	unsigned i;

	if (ip6_is_ll(dst))
		return true;
	for (i = 1; i < IP6_ADDRS; i++)
		if (c->addr[i].state != IP6A_FREE && c->addr[i].plen &&
		    ip6_prefix_eq(dst, &c->addr[i].a, c->addr[i].plen))
			return true;
	for (i = 0; i < IP6_PREFIXES; i++)
		if (c->prefix[i].valid_until > st->now_ns &&
		    ip6_prefix_eq(dst, &c->prefix[i].p, c->prefix[i].plen))
			return true;
	return false;
}

int ip6_next_hop(const struct bstack *st, const struct in6_addr *dst,
		 struct in6_addr *nh)
{
	struct ipv6_ctx *c = ip6c(st);

	if (!c->on || ipx_is_v4(dst) || ip6_is_any(dst))
		return -ENETUNREACH;
	if (ip6_is_mc(dst) || ip6_is_lo(dst) || ip6_is_local(st, dst) ||
	    ip6_onlink(st, dst)) {
		*nh = *dst;
		return 0;
	}
	if (!ip6_is_any(&c->router) &&
	    (c->router_static || c->router_until > st->now_ns)) {
		*nh = c->router;
		return 0;
	}
	return -ENETUNREACH;
}

int ip6_src_for(const struct bstack *st, const struct in6_addr *dst,
		struct in6_addr *src)
{
	struct ipv6_ctx *c = ip6c(st);
	struct in6_addr nh;
	unsigned i;

	if (ip6_next_hop(st, dst, &nh))
		return -ENETUNREACH;
	if (ip6_is_lo(dst)) {
		*src = in6addr_loopback;
		return 0;
	}
	if (ip6_is_local(st, dst)) {
		*src = *dst;
		return 0;
	}
	if (ip6_is_ll(dst) || (ip6_is_mc(dst) && (dst->s6_addr[1] & 15) <= 2)) {
		if (c->addr[IP6_ADDR_LL].state != IP6A_PREFERRED)
			return -EADDRNOTAVAIL;
		*src = c->addr[IP6_ADDR_LL].a;
		return 0;
	}
	/* a global one: the configured address first, then SLAAC's */
	for (i = 1; i < IP6_ADDRS; i++)
		if (c->addr[i].state == IP6A_PREFERRED) {
			*src = c->addr[i].a;
			return 0;
		}
	return -EADDRNOTAVAIL;
}

/* ip6_drop() - count a dropped packet (@bad: malformed). */
static void ip6_drop(struct bstack *st, bool bad)
{
	if (bad)
		st->stats.rx_malformed++;
	st->stats.rx_dropped++;
}

/* ip6_param() - parameter problem @code pointing at @ptr, and drop. */
static void ip6_param(struct bstack *st, const struct ip6_pkt *pkt,
		      uint8_t code, uint32_t ptr)
{
	ip6_drop(st, true);
	icmp6_send_error(st, pkt, 4, code, ptr);
}

/**
 * ip6_options() - walk a hop-by-hop or destination options header
 * @st:		stack
 * @pkt:	the packet (for a parameter problem)
 * @o:		the header (2 + options), @len bytes, inside the packet
 * @off:	its offset from the IPv6 header (for the pointer)
 * @hbh:	hop-by-hop (a Router Alert is known there)
 *
 * Return: true to go on with the chain, false when the packet was
 * dropped (and, as the option's action bits ask, answered).
 */
static bool ip6_options(struct bstack *st, const struct ip6_pkt *pkt,
			const uint8_t *o, uint32_t len, uint32_t off, bool hbh)
{
	uint32_t i = 2;

	while (i < len) {
		uint8_t type = o[i];

		if (type == 0) { /* Pad1 */
			i++;
			continue;
		}
		if (i + 2 > len || o[i + 1] > len - i - 2) {
			ip6_param(st, pkt, 0, off + i + 1); /* bad length */
			return false;
		}
		if (type == 1 || (hbh && type == 5 && o[i + 1] == 2)) {
			i += 2u + o[i + 1]; /* PadN, Router Alert */
			continue;
		}
		switch (type >> 6) {
		case 0: /* skip */
			i += 2u + o[i + 1];
			continue;
		case 1: /* discard quietly */
			ip6_drop(st, false);
			return false;
		case 3: /* problem, unless to a group */
			if (ip6_is_mc(&pkt->dst)) {
				ip6_drop(st, false);
				return false;
			}
			/* fall through */
		default:
			ip6_param(st, pkt, 2, off + i);
			return false;
		}
	}
	return true;
}

/*
 * ip6_routing() - a routing header of @len bytes at @off: skipped when no
 * segments are left; else parameter problem at its type (a host forwards
 * nothing, and type 0 is deprecated, RFC 5095). Return: go on.
 */
static bool ip6_routing(struct bstack *st, const struct ip6_pkt *pkt,
			const uint8_t *r, uint32_t off)
{
	if (!r[3])
		return true;
	ip6_param(st, pkt, 0, off + 2);
	return false;
}

void ip6_chain(struct bstack *st, struct ip6_pkt *pkt, const uint8_t *hdr,
	       uint32_t len, uint8_t nh, uint32_t off, bool frag_ok)
{
	struct pkt p = { .p = hdr, .len = len };
	uint32_t prev = 6, n, hl; /* offset of the byte naming @nh */
	const uint8_t *e;

	for (n = 0;; n++) {
		if (nh == IPPROTO_TCP || nh == IPPROTO_UDP ||
		    nh == IPPROTO_ICMPV6) {
			pkt->proto = nh;
			pkt->l4 = hdr + off;
			pkt->l4_len = len - off;
			ip6_deliver(st, pkt);
			return;
		}
		if (nh == NH_NONE_) {
			ip6_drop(st, false);
			return;
		}
		if (n >= IP6_MAX_EXT) {
			ip6_drop(st, true);
			return;
		}
		if (nh != NH_HOPOPT_ && nh != NH_DSTOPTS_ &&
		    nh != NH_ROUTING_ && nh != NH_FRAGMENT_) {
			ip6_param(st, pkt, 1, prev); /* unknown next header */
			return;
		}
		if (nh == NH_HOPOPT_ && off != IP6_HLEN_) {
			ip6_param(st, pkt, 1, prev); /* HBH not first */
			return;
		}
		e = pkt_ptr(&p, off, 8);
		if (!e) {
			ip6_drop(st, true); /* truncated chain */
			return;
		}
		hl = nh == NH_FRAGMENT_ ? 8u : (e[1] + 1u) * 8u;
		if (!pkt_ptr(&p, off, hl)) {
			ip6_drop(st, true);
			return;
		}
		if (nh == NH_FRAGMENT_) {
			if (cove_get16(e + 2) & 0xfff9u) {
				/* a real fragment (offset or M set) */
				if (!frag_ok) {
					ip6_drop(st, true);
					return;
				}
				ip6_reasm(st, pkt, hdr, len, off);
				return;
			}
			/* atomic fragment: its own datagram, go on */
		} else if (nh == NH_ROUTING_) {
			if (!ip6_routing(st, pkt, e, off))
				return;
		} else if (!ip6_options(st, pkt, e, hl, off,
					nh == NH_HOPOPT_)) {
			return;
		}
		prev = off;
		nh = e[0];
		off += hl;
	}
}

void ip6_deliver(struct bstack *st, struct ip6_pkt *pkt)
{
	switch (pkt->proto) {
	case IPPROTO_TCP:
		tcp_layer_input6(st, pkt);
		break;
	case IPPROTO_UDP:
		udp_layer_input6(st, pkt);
		break;
	default:
		icmp6_layer_input(st, pkt);
		break;
	}
}

/*
 * ip6_dst_ok() - a packet to @dst is for us: one of our preferred
 * addresses, ::1 from loopback, or a group we are in. A tentative
 * address takes neighbour discovery only (checked in nd.c): @tent says so.
 */
static bool ip6_dst_ok(const struct bstack *st, const struct in6_addr *dst,
		       bool loop, bool *tent)
{
	const struct ip6_ifaddr *ia;

	*tent = false;
	if (ip6_is_mc(dst))
		return ip6_group_ok(st, dst);
	if (ip6_is_lo(dst))
		return loop;
	ia = ip6_addr_find(st, dst);
	if (!ia)
		return false;
	*tent = ia->state == IP6A_TENTATIVE;
	return ia->state == IP6A_PREFERRED || *tent;
}

/*
 * ip6_src_ok() - @src may be a packet's source: not a group, not a mapped
 * or compatible IPv4 address, and from the wire neither ::1 nor one of our
 * own (:: is allowed: DAD solicitations come from it).
 */
static bool ip6_src_ok(const struct bstack *st, const struct in6_addr *src,
		       bool loop)
{
	if (ip6_is_mc(src) || ipx_is_v4(src))
		return false;
	if (loop)
		return true;
	if (ip6_is_lo(src))
		return false;
	return !ip6_is_local(st, src);
}

void ipv6_input(struct bstack *st, const struct pkt *p, bool loop, bool csum_ok)
{
	const uint8_t *h = pkt_ptr(p, 0, IP6_HLEN_);
	struct ip6_pkt pkt;
	uint32_t plen;
	bool tent;

	if (!ip6c(st)->on) {
		ip6_drop(st, false);
		return;
	}
	if (!h || (h[0] >> 4) != 6) {
		ip6_drop(st, true);
		return;
	}
	plen = cove_get16(h + 4);
	if (plen > p->len - IP6_HLEN_) {
		ip6_drop(st, true); /* also jumbograms: none here */
		return;
	}
	memset(&pkt, 0, sizeof(pkt));
	memcpy(&pkt.src, h + 8, 16);
	memcpy(&pkt.dst, h + 24, 16);
	if (!ip6_src_ok(st, &pkt.src, loop) ||
	    !ip6_dst_ok(st, &pkt.dst, loop, &tent)) {
		ip6_drop(st, false);
		return;
	}
	pkt.tclass = (uint8_t)(cove_get16(h) >> 4);
	pkt.flow = cove_get32(h) & 0xfffffu;
	pkt.hlim = h[7];
	pkt.ip_hdr = h;
	pkt.ip_len = IP6_HLEN_ + plen;
	pkt.scope_id = ip6_is_ll(&pkt.src) ? ip6_ifindex(st) : 0;
	pkt.csum_ok = csum_ok || loop ||
		      (st->link->offloads & COVE_LINK_OFF_RX_CSUM);
	if (tent) {
		/* RFC 4862 5.4: DAD's messages go to groups, not to it */
		ip6_drop(st, false);
		return;
	}
	ip6_chain(st, &pkt, h, IP6_HLEN_ + plen, h[6], IP6_HLEN_, true);
}

struct cove_frame *ip6_alloc(struct bstack *st, uint32_t *room)
{
	struct cove_frame *f = cove_frame_alloc(st->link->pool);
	uint32_t cap, mtu = ip6c(st)->mtu;

	if (!f)
		return NULL;
	cap = f->cap - ETH_HLEN_ - IP6_HLEN_;
	*room = mtu - IP6_HLEN_ < cap ? mtu - IP6_HLEN_ : cap;
	return f;
}

/*
 * ip6_alloc_tso() - a TCP/IPv6 super-frame from the TSO pool, on a link
 * that cuts TCP/IPv6 too (COVE_LINK_OFF_TSO6; links_vnet_hdr() says
 * GSO_TCPV6 from the EtherType); NULL otherwise, and TCP falls back to
 * ip6_alloc(). The pool and st->tso_room were sized for IPv4's 20-byte
 * header (bstack_offloads()): IPv6's is 20 bytes longer, so the room
 * after it is 20 bytes less, and the frame stays within the link's
 * tso_max.
 */
struct cove_frame *ip6_alloc_tso(struct bstack *st, uint32_t *room)
{
	struct cove_frame *f;

	if (!(st->link->offloads & COVE_LINK_OFF_TSO6) ||
	    st->tso_room <= IP6_HLEN_ - IP_HLEN_ ||
	    !(f = cove_frame_alloc(&st->tso_pool)))
		return NULL;
	*room = st->tso_room - (IP6_HLEN_ - IP_HLEN_);
	return f;
}

/* ip6_fill() - write the fixed IPv6 header of @f. */
static void ip6_fill(struct bstack *st, struct cove_frame *f,
		     const struct in6_addr *src, const struct in6_addr *dst,
		     uint8_t nh, uint32_t plen, uint8_t tclass, uint8_t hlim)
{
	uint8_t *h = f->data + ETH_HLEN_;

	cove_put32(h, 6u << 28 | (uint32_t)tclass << 20);
	cove_put16(h + 4, (uint16_t)plen);
	h[6] = nh;
	h[7] = hlim ? hlim : ip6c(st)->hlim;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
	f->len = ETH_HLEN_ + IP6_HLEN_ + plen;
}

int ip6_out(struct bstack *st, struct cove_frame *f, const struct in6_addr *src,
	    const struct in6_addr *dst, uint8_t nh, uint32_t plen,
	    uint8_t tclass, uint8_t hlim)
{
	uint8_t mac[ETH_ALEN_];
	struct in6_addr next;

	ip6_fill(st, f, src, dst, nh, plen, tclass, hlim);
	if (ip6_is_lo(dst) || ip6_is_local(st, dst)) {
		eth_fill(st, f, st->mac, ETH_P_IPV6_);
		return bstack_loop(st, f);
	}
	if (ip6_is_mc(dst)) {
		ip6_mcast_mac(dst, mac);
		eth_fill(st, f, mac, ETH_P_IPV6_);
		bstack_xmit(st, f);
		return 0;
	}
	if (ip6_next_hop(st, dst, &next)) {
		st->stats.tx_dropped++;
		cove_frame_free(f);
		return -ENETUNREACH;
	}
	eth_fill(st, f, NULL, ETH_P_IPV6_);
	return nd_output(st, f, &next);
}

int ip6_send(struct bstack *st, struct cove_frame *f,
	     const struct in6_addr *src, const struct in6_addr *dst,
	     uint8_t proto, uint32_t l4_len, uint8_t tclass, uint8_t hlim,
	     uint32_t segs)
{
	uint32_t max = (f->flags & COVE_FRAME_F_TSO) ?
			       IP6_MAX_PAYLOAD :
			       ip6_path_mtu(st, dst) - IP6_HLEN_;

	(void)segs; /* IPv6 has no per-packet ID to advance */
	if (!ip6c(st)->on) {
		cove_frame_free(f);
		return -ENETUNREACH;
	}
	if (l4_len > max || l4_len + IP6_HLEN_ + ETH_HLEN_ > f->cap) {
		cove_frame_free(f);
		return -EMSGSIZE;
	}
	return ip6_out(st, f, src, dst, proto, l4_len, tclass, hlim);
}

/**
 * ipv6_init() - the IPv6 context: addresses from the link and @cfg
 * @st:		stack instance (st->mac, st->mtu set); st->ipv6 is set
 *		before anything can fail
 * @cfg:	the configuration (addr6, prefix6_len, gateway6, flags)
 *
 * The link-local address is fe80::/64 with the modified EUI-64 of the
 * link MAC (RFC 4291 appendix A). With COVE_STACK_F_NO_IPV6 the context
 * exists but is off: no address, every IPv6 frame dropped, AF_INET6
 * sockets reach IPv4 peers only.
 *
 * Return: 0, -EINVAL (bad addr6: multicast, loopback, mapped, link-local;
 * prefix above 128), -ENOMEM.
 */
int ipv6_init(struct bstack *st, const struct cove_stack_config *cfg)
{
	struct ipv6_ctx *c = calloc(1, sizeof(*c));
	struct in6_addr ll = { .s6_addr = { 0xfe, 0x80 } };
	const struct in6_addr *a6 = &cfg->addr6;
	unsigned i;
	int ret;

	if (!c)
		return -ENOMEM;
	st->ipv6 = c;
	c->on = !(cfg->flags & COVE_STACK_F_NO_IPV6);
	c->hlim = IP6_DEF_HLIM;
	c->reach_ms = 30000;
	c->retrans_ms = 1000;
	c->mtu = st->mtu < IP6_MIN_MTU ? IP6_MIN_MTU : st->mtu;
	c->icmp.tokens = ICMP_BURST;
	c->icmp.stamp_ns = st->now_ns;
	for (i = 0; i < IP6_ADDRS; i++)
		c->addr[i].st = st;
	nd_addr_init(st);
	if (cfg->prefix6_len > 128 ||
	    (!ip6_is_any(a6) && (ip6_is_mc(a6) || ip6_is_lo(a6) ||
				 ipx_is_v4(a6) || ip6_is_ll(a6))))
		return -EINVAL;
	ret = ip6_frag_init(st);
	if (!ret)
		ret = nd_init(st);
	if (ret || !c->on)
		return ret;
	if (st->mtu < IP6_MIN_MTU) {
		bstack_log(st, COVE_LOG_WARN,
			   "ipv6: link MTU %u below 1280, IPv6 off", st->mtu);
		c->on = false;
		return 0;
	}
	ll.s6_addr[8] = st->mac[0] ^ 2;
	memcpy(ll.s6_addr + 9, st->mac + 1, 2);
	ll.s6_addr[11] = 0xff;
	ll.s6_addr[12] = 0xfe;
	memcpy(ll.s6_addr + 13, st->mac + 3, 3);
	ip6_addr_add(st, IP6_ADDR_LL, &ll, 64, true);
	if (!ip6_is_any(a6))
		ip6_addr_add(st, IP6_ADDR_CFG, a6, cfg->prefix6_len,
			     !(cfg->flags & COVE_STACK_F_NO_DAD));
	if (!ip6_is_any(&cfg->gateway6)) {
		c->router = cfg->gateway6;
		c->router_static = true;
	}
	return 0;
}

/* ipv6_fini() - free the context (nd and fragments first). */
void ipv6_fini(struct bstack *st)
{
	if (!st->ipv6)
		return;
	nd_addr_fini(st);
	nd_fini(st);
	ip6_frag_fini(st);
	free(st->ipv6);
	st->ipv6 = NULL;
}

void ipv6_start(struct bstack *st, bool announce)
{
	ip6c(st)->announce = announce;
	if (ip6c(st)->on)
		nd_addr_start(st);
}
