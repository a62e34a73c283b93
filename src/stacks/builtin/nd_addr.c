// SPDX-License-Identifier: Apache-2.0
/* Our IPv6 addresses' life: DAD (RFC 4862), RS/RA and SLAAC, MLDv2 reports (RFC 3810). */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>

#include "stacks/builtin/core6.h"

/*
 * Theory of operation
 *
 * An address added with DAD starts TENTATIVE: its solicited-node group
 * is announced in an MLDv2 report, then one neighbour solicitation from
 * :: asks whether anyone has it (DupAddrDetectTransmits 1); RetransTimer
 * later without an answer it turns PREFERRED. An NA for it, or another
 * node's DAD solicitation for it, makes it DUPLICATE (never used; a SLAAC
 * address is removed instead). COVE_STACK_F_NO_DAD skips this for the
 * configured address, which the host knows to be unique.
 *
 * Router discovery: once the link-local address is usable, up to
 * RS_COUNT router solicitations go to all-routers, RS_INTERVAL apart,
 * until an RA arrives. A valid RA (link-local source, hop limit 255)
 * sets the default router (unless one was configured) for its lifetime,
 * the hop limit, ReachableTime and RetransTimer when non-zero, the link
 * MTU from an MTU option (never above the link's own, never below 1280),
 * on-link prefixes (L flag) and, for autonomous /64 prefixes (A flag), a
 * SLAAC address from the prefix and our EUI-64 interface id, whose
 * lifetime follows RFC 4862 5.5.3 (e), the two-hour rule. Preferred
 * lifetimes are not tracked: an address is used until it expires.
 *
 * MLD: the groups we listen on (the solicited-node group of every address
 * we have) are reported when an address is added (twice, a second apart,
 * the robustness variable of RFC 3810 9.1) and in answer to a query,
 * after a random delay of at most a second. All-nodes is never reported.
 */

#define RS_COUNT	3u
#define RS_INTERVAL_NS	(4000ull * TIMER_TICK_NS)
#define MLD_ROBUSTNESS	2u
#define MLD_INTERVAL_NS (1000ull * TIMER_TICK_NS)
#define MLD_REC_LEN	20u
#define MLD_HBH_LEN	8u
#define TWO_HOURS_NS	(7200000ull * TIMER_TICK_NS)
#define ND_OPT_SLLA	1u
#define ND_OPT_PREFIX	3u
#define ND_OPT_MTU	5u
#define RA_LEN		16u
#define PI_F_ONLINK	0x80u
#define PI_F_AUTO	0x40u
#define SEC_NS		(1000ull * TIMER_TICK_NS)
#define LIFE_INFINITE	0xffffffffu

/* life_ns() - a lifetime in seconds from an RA as an absolute time. */
static uint64_t life_ns(const struct bstack *st, uint32_t s)
{
	return s == LIFE_INFINITE ? IP6_LIFE_FOREVER : st->now_ns + s * SEC_NS;
}

/*
 * start_delay() - a random wait in [0, 1 s) before an address's first
 * MLD report and DAD probe and before the first RS
 * (MAX_RTR_SOLICITATION_DELAY, RFC 4862 5.4.2 and RFC 4861 6.3.7), so
 * that hosts starting together do not all speak at once.
 */
static uint64_t start_delay(struct bstack *st)
{
	return bstack_random(st) % SEC_NS;
}

/* addr_timer() - DAD steps, or a SLAAC address's end. */
static void addr_timer(struct btimer *t)
{
	struct ip6_ifaddr *ia = (struct ip6_ifaddr *)t;
	struct bstack *st = ia->st;
	struct ipv6_ctx *c = ip6c(st);

	if (ia->state == IP6A_PREFERRED) { /* a SLAAC lifetime ran out */
		ia->state = IP6A_FREE;
		mld_report(st, NULL);
		return;
	}
	if (ia->state != IP6A_TENTATIVE)
		return;
	if (ia->dad_left) {
		ia->dad_left--;
		nd_send_ns(st, &ia->a, false, true);
		timer_arm(&st->timers, &ia->timer,
			  st->now_ns + c->retrans_ms * TIMER_TICK_NS);
		return;
	}
	ia->state = IP6A_PREFERRED;
	nd_announce(st, &ia->a);
	if (ia->slaac && ia->valid_until != IP6_LIFE_FOREVER)
		timer_arm(&st->timers, &ia->timer, ia->valid_until);
	if (ia == &c->addr[IP6_ADDR_LL] && c->rs_left)
		timer_arm(&st->timers, &c->rs_timer,
			  st->now_ns + start_delay(st));
}

/* mld_start() - report our groups now and MLD_ROBUSTNESS - 1 times more. */
void mld_start(struct bstack *st)
{
	struct ipv6_ctx *c = ip6c(st);

	c->mld_left = MLD_ROBUSTNESS;
	timer_arm(&st->timers, &c->mld_timer, st->now_ns + start_delay(st));
}

struct ip6_ifaddr *ip6_addr_add(struct bstack *st, unsigned slot,
				const struct in6_addr *a, uint8_t plen,
				bool dad)
{
	struct ip6_ifaddr *ia = &ip6c(st)->addr[slot];

	timer_cancel(&st->timers, &ia->timer);
	ia->timer.fn = addr_timer;
	ia->a = *a;
	ia->plen = plen;
	ia->slaac = false;
	ia->valid_until = IP6_LIFE_FOREVER;
	ia->state = dad ? IP6A_TENTATIVE : IP6A_PREFERRED;
	ia->dad_left = dad ? 1 : 0;
	if (dad) /* the report goes first: it is armed earlier, same delay */
		timer_arm(&st->timers, &ia->timer,
			  st->now_ns + start_delay(st) + TIMER_TICK_NS);
	mld_start(st);
	return ia;
}

void nd_dad_conflict(struct bstack *st, struct ip6_ifaddr *ia)
{
	char buf[INET6_ADDRSTRLEN];

	timer_cancel(&st->timers, &ia->timer);
	inet_ntop(AF_INET6, &ia->a, buf, sizeof(buf));
	bstack_log(st, COVE_LOG_WARN,
		   "ipv6: duplicate address %s detected, not using it", buf);
	ia->state = ia->slaac ? IP6A_FREE : IP6A_DUPLICATE;
	mld_report(st, NULL);
}

/* rs_timer() - send the next router solicitation. */
static void rs_timer(struct btimer *t)
{
	struct ipv6_ctx *c =
		(struct ipv6_ctx *)((char *)t -
				    offsetof(struct ipv6_ctx, rs_timer));
	struct bstack *st = c->addr[0].st;
	uint8_t m[16] = { 133 };
	struct in6_addr src = in6addr_any;
	uint32_t len = 8;

	if (!c->rs_left)
		return;
	c->rs_left--;
	if (c->addr[IP6_ADDR_LL].state == IP6A_PREFERRED) {
		src = c->addr[IP6_ADDR_LL].a;
		m[8] = ND_OPT_SLLA;
		m[9] = 1;
		memcpy(m + 10, st->mac, ETH_ALEN_);
		len = 16;
	}
	icmp6_send(st, &src, &ip6_all_routers, IP6_ND_HLIM, m, len, NULL, 0);
	if (c->rs_left)
		timer_arm(&st->timers, &c->rs_timer,
			  st->now_ns + RS_INTERVAL_NS);
}

#define MLD_MAX_GROUPS (IP6_ADDRS + IP6_GROUPS)

/*
 * mld_groups() - the distinct groups we are in (@g[]): the solicited-node
 * groups of our addresses and those sockets joined, all-nodes never
 */
static unsigned mld_groups(const struct bstack *st,
			   struct in6_addr g[MLD_MAX_GROUPS])
{
	const struct ipv6_ctx *c = ip6c(st);
	unsigned i, j, n = 0;

	for (i = 0; i < IP6_ADDRS + IP6_GROUPS; i++) {
		if (i < IP6_ADDRS) {
			if (c->addr[i].state != IP6A_TENTATIVE &&
			    c->addr[i].state != IP6A_PREFERRED)
				continue;
			ip6_solicited(&c->addr[i].a, &g[n]);
		} else if (c->group[i - IP6_ADDRS].refs &&
			   !ipx_eq(&c->group[i - IP6_ADDRS].g,
				   &ip6_all_nodes)) {
			g[n] = c->group[i - IP6_ADDRS].g;
		} else {
			continue;
		}
		for (j = 0; j < n && !ipx_eq(&g[j], &g[n]); j++)
			;
		n += j == n;
	}
	return n;
}

/**
 * mld_report() - an MLDv2 report of every group we are in
 * @st:		stack
 *
 * @left:	a group just left: one more record, TO_IN({}) (RFC 3810
 *		6.1), or NULL
 *
 * Built by hand because it carries a hop-by-hop header with a Router
 * Alert (RFC 3810 5.2.14), which ip6_send_dgram() never writes. Records
 * are EXCLUDE({}) listeners, i.e. "all sources". The source is our
 * link-local address, or :: while that is tentative (RFC 3590).
 */
void mld_report(struct bstack *st, const struct in6_addr *left)
{
	static const uint8_t hbh[MLD_HBH_LEN] = {
		IPPROTO_ICMPV6, 0, 5, 2, 0, 0, 1, 0
	};
	struct ipv6_ctx *c = ip6c(st);
	struct in6_addr g[MLD_MAX_GROUPS + 1], src = in6addr_any;
	struct cove_frame *f;
	uint32_t room, mlen;
	unsigned n = mld_groups(st, g), i, joined = n;
	uint8_t *m;
	uint16_t ck;

	if (left)
		g[n++] = *left;
	if (!c->on || !n || !(f = ip6_alloc(st, &room)))
		return;
	if (c->addr[IP6_ADDR_LL].state == IP6A_PREFERRED)
		src = c->addr[IP6_ADDR_LL].a;
	mlen = 8 + n * MLD_REC_LEN;
	memcpy(ip6_l4(f), hbh, MLD_HBH_LEN);
	m = ip6_l4(f) + MLD_HBH_LEN;
	memset(m, 0, mlen);
	m[0] = 143;
	cove_put16(m + 6, (uint16_t)n);
	for (i = 0; i < n; i++) {
		/* CHANGE_TO_EXCLUDE_MODE, or _INCLUDE_ for the one left */
		m[8 + i * MLD_REC_LEN] = i < joined ? 4 : 3;
		memcpy(m + 8 + i * MLD_REC_LEN + 4, &g[i], 16);
	}
	ck = ip6_csum(&src, &ip6_mldv2, IPPROTO_ICMPV6, m, mlen);
	memcpy(m + 2, &ck, 2);
	if (!ip6_out(st, f, &src, &ip6_mldv2, NH_HOPOPT_, MLD_HBH_LEN + mlen, 0,
		     1))
		st->stats.icmp6_out++;
}

/* mld_timer() - the next unsolicited (or delayed query) report. */
static void mld_timer(struct btimer *t)
{
	struct ipv6_ctx *c =
		(struct ipv6_ctx *)((char *)t -
				    offsetof(struct ipv6_ctx, mld_timer));
	struct bstack *st = c->addr[0].st;

	if (!c->mld_left)
		return;
	c->mld_left--;
	mld_report(st, NULL);
	if (c->mld_left)
		timer_arm(&st->timers, &c->mld_timer,
			  st->now_ns + MLD_INTERVAL_NS);
}

/**
 * mld_query_input() - an MLD query: report our groups within a second
 * @st:		stack
 * @pkt:	the query (checksum verified)
 *
 * Only link-local sources with hop limit 1 count (RFC 3810 5.1.15); a
 * query for one group that is none of ours is ignored.
 */
void mld_query_input(struct bstack *st, const struct ip6_pkt *pkt)
{
	struct ipv6_ctx *c = ip6c(st);
	struct in6_addr g[MLD_MAX_GROUPS], q;
	unsigned n, i;

	if (pkt->l4_len < 24 || !ip6_is_ll(&pkt->src) || pkt->hlim != 1)
		return;
	memcpy(&q, pkt->l4 + 8, 16);
	if (!ip6_is_any(&q)) {
		n = mld_groups(st, g);
		for (i = 0; i < n && !ipx_eq(&g[i], &q); i++)
			;
		if (i == n)
			return;
	}
	if (timer_armed(&c->mld_timer))
		return;
	c->mld_left = 1;
	timer_arm(&st->timers, &c->mld_timer,
		  st->now_ns + bstack_random(st) % MLD_INTERVAL_NS);
}

/* ra_mtu() - an RA's MTU option: lower the link MTU, within bounds. */
static void ra_mtu(struct bstack *st, const uint8_t *o)
{
	uint32_t mtu = cove_get32(o + 4);

	if (mtu >= IP6_MIN_MTU && mtu <= st->mtu)
		ip6c(st)->mtu = mtu;
}

/* ra_onlink() - an on-link prefix: add, refresh or (lifetime 0) remove. */
static void ra_onlink(struct bstack *st, const struct in6_addr *p, uint8_t plen,
		      uint32_t valid)
{
	struct ipv6_ctx *c = ip6c(st);
	struct ip6_prefix *slot = NULL;
	unsigned i;

	for (i = 0; i < IP6_PREFIXES; i++) {
		struct ip6_prefix *x = &c->prefix[i];

		if (x->valid_until > st->now_ns && x->plen == plen &&
		    ip6_prefix_eq(&x->p, p, plen)) {
			slot = x;
			break;
		}
		if (!slot && x->valid_until <= st->now_ns)
			slot = x;
	}
	if (!slot)
		return; /* table full: the prefix stays off link for us */
	slot->p = *p;
	slot->plen = plen;
	slot->valid_until = valid ? life_ns(st, valid) : 0;
}

/* ra_slaac() - an autonomous /64: make or refresh our address in it. */
static void ra_slaac(struct bstack *st, const struct in6_addr *p,
		     uint32_t valid)
{
	struct ipv6_ctx *c = ip6c(st);
	struct in6_addr a = *p;
	struct ip6_ifaddr *ia;
	uint64_t until = life_ns(st, valid), left;
	unsigned i;

	memcpy(a.s6_addr + 8, c->addr[IP6_ADDR_LL].a.s6_addr + 8, 8);
	ia = ip6_addr_find(st, &a);
	if (ia) {
		if (!ia->slaac)
			return;
		left = ia->valid_until > st->now_ns ?
			       ia->valid_until - st->now_ns :
			       0;
		/* RFC 4862 5.5.3 (e): never cut below two hours on an RA */
		if (until - st->now_ns > TWO_HOURS_NS ||
		    until > ia->valid_until)
			ia->valid_until = until;
		else if (left > TWO_HOURS_NS)
			ia->valid_until = st->now_ns + TWO_HOURS_NS;
		if (ia->state == IP6A_PREFERRED &&
		    ia->valid_until != IP6_LIFE_FOREVER)
			timer_arm(&st->timers, &ia->timer, ia->valid_until);
		return;
	}
	if (!valid)
		return;
	for (i = IP6_ADDR_CFG + 1; i < IP6_ADDRS; i++)
		if (c->addr[i].state == IP6A_FREE)
			break;
	if (i == IP6_ADDRS)
		return;
	ia = ip6_addr_add(st, i, &a, 64, true);
	ia->slaac = true;
	ia->valid_until = until;
}

/* ra_prefix() - one prefix information option (RFC 4861 4.6.2). */
static void ra_prefix(struct bstack *st, const uint8_t *o)
{
	uint8_t plen = o[2], flags = o[3];
	uint32_t valid = cove_get32(o + 4), pref = cove_get32(o + 8);
	struct in6_addr p;

	memcpy(&p, o + 16, 16);
	if (plen > 128 || ip6_is_ll(&p) || ip6_is_mc(&p) || pref > valid)
		return;
	if (flags & PI_F_ONLINK)
		ra_onlink(st, &p, plen, valid);
	/* the interface id is the link-local one's: not if that is taken */
	if ((flags & PI_F_AUTO) && plen == 64 &&
	    ip6c(st)->addr[IP6_ADDR_LL].state == IP6A_PREFERRED)
		ra_slaac(st, &p, valid);
}

/*
 * ra_options() - walk an RA's options: source link-layer address, MTU,
 * prefixes. Return: false when an option has length 0 or overruns (the
 * whole RA is then invalid, RFC 4861 6.1.2).
 */
static bool ra_options(struct bstack *st, const struct ip6_pkt *pkt, bool apply)
{
	const uint8_t *o = pkt->l4 + RA_LEN;
	uint32_t len = pkt->l4_len - RA_LEN, i = 0, ol;

	while (i + 2 <= len) {
		ol = o[i + 1] * 8u;
		if (!ol || ol > len - i)
			return false;
		if (!apply) {
			i += ol;
			continue;
		}
		if (o[i] == ND_OPT_SLLA && ol == 8)
			nd_learn(st, &pkt->src, o + i + 2, true);
		else if (o[i] == ND_OPT_MTU && ol == 8)
			ra_mtu(st, o + i);
		else if (o[i] == ND_OPT_PREFIX && ol == 32)
			ra_prefix(st, o + i);
		i += ol;
	}
	return true;
}

/**
 * nd_ra_input() - a router advertisement
 * @st:		stack
 * @pkt:	the RA (checksum verified)
 *
 * Validated as RFC 4861 6.1.2 asks (link-local source, hop limit 255,
 * code 0, 16 bytes, sane options) before anything is applied; see the
 * theory block for what an RA changes. Router solicitation stops.
 */
void nd_ra_input(struct bstack *st, const struct ip6_pkt *pkt)
{
	struct ipv6_ctx *c = ip6c(st);
	const uint8_t *m = pkt->l4;
	uint16_t life;

	if (pkt->l4_len < RA_LEN || pkt->hlim != IP6_ND_HLIM || m[1] ||
	    !ip6_is_ll(&pkt->src) || !ra_options(st, pkt, false)) {
		st->stats.rx_malformed++;
		st->stats.rx_dropped++;
		return;
	}
	c->rs_left = 0;
	timer_cancel(&st->timers, &c->rs_timer);
	if (m[4])
		c->hlim = m[4];
	if (cove_get32(m + 8) && cove_get32(m + 8) <= 3600000)
		c->reach_ms = cove_get32(m + 8);
	if (cove_get32(m + 12) && cove_get32(m + 12) <= 3600000)
		c->retrans_ms = cove_get32(m + 12);
	life = cove_get16(m + 6);
	if (!c->router_static) {
		if (life) {
			c->router = pkt->src;
			c->router_until = st->now_ns + life * SEC_NS;
		} else if (ipx_eq(&c->router, &pkt->src)) {
			c->router = in6addr_any;
		}
	}
	ra_options(st, pkt, true);
}

/*
 * nd_addr_start() - at create: DAD of the addresses added by ipv6_init()
 * is already armed; arm the MLD reports and router solicitation (which
 * waits for the link-local address when that is tentative), and announce
 * the addresses that need no DAD.
 */
void nd_addr_start(struct bstack *st)
{
	struct ipv6_ctx *c = ip6c(st);
	unsigned i;

	c->rs_left = RS_COUNT;
	mld_start(st);
	for (i = 0; i < IP6_ADDRS; i++)
		if (c->addr[i].state == IP6A_PREFERRED)
			nd_announce(st, &c->addr[i].a);
	if (c->addr[IP6_ADDR_LL].state == IP6A_PREFERRED)
		timer_arm(&st->timers, &c->rs_timer,
			  st->now_ns + start_delay(st));
}

/* nd_addr_init() - the context's timers (before any address is added). */
void nd_addr_init(struct bstack *st)
{
	struct ipv6_ctx *c = ip6c(st);
	unsigned i;

	c->rs_timer.fn = rs_timer;
	c->mld_timer.fn = mld_timer;
	for (i = 0; i < IP6_ADDRS; i++)
		c->addr[i].timer.fn = addr_timer;
}

/* nd_addr_fini() - cancel every address, RS and MLD timer. */
void nd_addr_fini(struct bstack *st)
{
	struct ipv6_ctx *c = ip6c(st);
	unsigned i;

	for (i = 0; i < IP6_ADDRS; i++)
		timer_cancel(&st->timers, &c->addr[i].timer);
	timer_cancel(&st->timers, &c->rs_timer);
	timer_cancel(&st->timers, &c->mld_timer);
}
