// SPDX-License-Identifier: Apache-2.0
/* Neighbour discovery (RFC 4861): the neighbour cache, NUD, NS and NA. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "stacks/builtin/core6.h"

/*
 * Theory of operation
 *
 * The cache is a fixed table of ND_ENTRIES entries, searched linearly
 * (the last hit first), each in one of RFC 4861's states (7.3.2):
 *
 *   INCOMPLETE  an NS is out to the solicited-node group; up to ND_QLEN
 *               frames wait (ND_QTOTAL over all entries: a fragmented
 *               64 KiB datagram to a new neighbour fits, a flood of
 *               unresolvable destinations cannot hold the frame pool). Every RetransTimer another NS; after
 *               ND_MCAST_SOLICIT without answer the entry fails: each
 *               queued frame is reported to its transport as ICMPv6
 *               address unreachable (so connect() fails with
 *               EHOSTUNREACH, as on Linux) and the entry is freed;
 *   REACHABLE   confirmed by a solicited NA; frames go out. After
 *               ReachableTime (30 s, randomised 0.5-1.5, RFC 4861 6.3.2)
 *               it turns STALE;
 *   STALE       the MAC is used as it is; the first frame sent moves it
 *               to DELAY. Unused for ND_GC_NS it is freed;
 *   DELAY       5 s to hear a confirmation without asking, then PROBE;
 *   PROBE       unicast NS every RetransTimer; ND_UCAST_SOLICIT
 *               unanswered ones free the entry.
 *
 * Entries are created by our own output (INCOMPLETE) and by a packet that
 * names its sender's link-layer address (NS, RS, RA: STALE, 7.2.3); NAs
 * update existing entries by the rules of 7.2.5 (the override and
 * solicited flags). A full table recycles the least recently used entry.
 * Queued frames are whole Ethernet frames without the destination MAC,
 * counted in stats.frames_held; nd_fini() frees them.
 */

#define ND_ENTRIES	 128u
#define ND_QLEN		 64u
#define ND_QTOTAL	 256u
#define ND_MCAST_SOLICIT 3u
#define ND_UCAST_SOLICIT 3u
#define ND_DELAY_NS	 (5000ull * TIMER_TICK_NS)
#define ND_GC_NS	 (600000ull * TIMER_TICK_NS)
#define ND_MSG_LEN	 24u /* NS/NA: type..target */
#define ND_OPT_SLLA	 1u
#define ND_OPT_TLLA	 2u
#define NA_F_ROUTER	 0x80u
#define NA_F_SOLICITED	 0x40u
#define NA_F_OVERRIDE	 0x20u

enum nd_state {
	ND_FREE,
	ND_INCOMPLETE,
	ND_REACHABLE,
	ND_STALE,
	ND_DELAY,
	ND_PROBE
};

struct nd_entry {
	struct btimer timer; /* first: container_of by cast */
	struct bstack *st;
	struct in6_addr ip;
	uint8_t mac[ETH_ALEN_];
	uint8_t state; /* enum nd_state */
	uint8_t tries; /* solicitations sent in this state */
	uint8_t nq;
	bool router;
	struct cove_frame *qhead, *qtail;
	uint64_t used_ns; /* last frame sent through it, or created */
};

struct nd_ctx {
	struct nd_entry e[ND_ENTRIES];
	struct nd_entry *last; /* last lookup hit */
	uint32_t queued;       /* frames in every entry's queue */
};

_Static_assert(ND_QLEN < 256 && ND_QLEN <= ND_QTOTAL, "nq is a uint8_t");

static uint64_t nd_retrans(const struct bstack *st)
{
	return (uint64_t)ip6c(st)->retrans_ms * TIMER_TICK_NS;
}

/* nd_reachable() - ReachableTime: the base times a factor in [0.5, 1.5). */
static uint64_t nd_reachable(struct bstack *st)
{
	uint64_t base = (uint64_t)ip6c(st)->reach_ms * TIMER_TICK_NS;

	return base / 2 + bstack_random(st) % (base ? base : 1);
}

/* nd_drop_queue() - free an entry's pending frames. */
static void nd_drop_queue(struct bstack *st, struct nd_entry *e)
{
	while (e->qhead) {
		struct cove_frame *f = e->qhead;

		e->qhead = f->next;
		cove_frame_free(f);
		st->stats.tx_dropped++;
		st->stats.frames_held--;
	}
	st->ipv6->nd->queued -= e->nq;
	e->qtail = NULL;
	e->nq = 0;
}

/* nd_free() - return an entry to FREE, dropping its queue. */
static void nd_free(struct bstack *st, struct nd_entry *e)
{
	timer_cancel(&st->timers, &e->timer);
	nd_drop_queue(st, e);
	e->state = ND_FREE;
	if (st->ipv6->nd->last == e)
		st->ipv6->nd->last = NULL;
}

/**
 * nd_unreachable() - tell the transports that a queued frame's neighbour
 * never answered
 * @st:		stack
 * @q:		frames detached from the failed entry (consumed)
 *
 * Each frame's IPv6 packet is handed to its transport as the quote of an
 * ICMPv6 destination unreachable, code 3 (address unreachable), as Linux
 * reports a failed resolution. The queue is detached first: the transport
 * may send (and so reach this cache) while it handles the error.
 */
static void nd_unreachable(struct bstack *st, struct cove_frame *q)
{
	while (q) {
		struct cove_frame *f = q;
		const uint8_t *ip = f->data + ETH_HLEN_;
		uint32_t len = f->len - ETH_HLEN_;
		uint8_t nh = ip[6];

		q = f->next;
		st->stats.tx_dropped++;
		if (nh == NH_FRAGMENT_ && len >= IP6_HLEN_ + 8)
			nh = ip[IP6_HLEN_];
		if (len >= IP6_HLEN_ + 8 && nh == IPPROTO_TCP &&
		    ip[6] == IPPROTO_TCP)
			tcp_icmp6_error(st, 1, 3, 0, ip, len);
		else if (len >= IP6_HLEN_ + 8 && nh == IPPROTO_UDP)
			udp_icmp6_error(st, 1, 3, 0, ip, len);
		cove_frame_free(f);
	}
}

/* nd_fail() - resolution or NUD gave up on @e: free it, report its queue. */
static void nd_fail(struct bstack *st, struct nd_entry *e)
{
	struct cove_frame *q = e->qhead;

	st->stats.frames_held -= e->nq;
	st->ipv6->nd->queued -= e->nq;
	e->qhead = e->qtail = NULL;
	e->nq = 0;
	nd_free(st, e);
	nd_unreachable(st, q);
}

/* nd_timer() - one state's timeout (see the theory block). */
static void nd_timer(struct btimer *t)
{
	struct nd_entry *e = (struct nd_entry *)t;
	struct bstack *st = e->st;

	switch (e->state) {
	case ND_INCOMPLETE:
	case ND_PROBE:
		if (e->tries >= (e->state == ND_PROBE ? ND_UCAST_SOLICIT :
							ND_MCAST_SOLICIT)) {
			nd_fail(st, e);
			return;
		}
		e->tries++;
		timer_arm(&st->timers, &e->timer, st->now_ns + nd_retrans(st));
		nd_send_ns(st, &e->ip, e->state == ND_PROBE, false);
		break;
	case ND_REACHABLE:
		e->state = ND_STALE;
		timer_arm(&st->timers, &e->timer, st->now_ns + ND_GC_NS);
		break;
	case ND_STALE:
		if (e->used_ns + ND_GC_NS <= st->now_ns)
			nd_free(st, e);
		else
			timer_arm(&st->timers, &e->timer,
				  e->used_ns + ND_GC_NS);
		break;
	case ND_DELAY:
		e->state = ND_PROBE;
		e->tries = 1;
		timer_arm(&st->timers, &e->timer, st->now_ns + nd_retrans(st));
		nd_send_ns(st, &e->ip, true, false);
		break;
	default:
		break;
	}
}

/* nd_find() - the entry for @ip, or NULL. */
static struct nd_entry *nd_find(struct bstack *st, const struct in6_addr *ip)
{
	struct nd_ctx *c = st->ipv6->nd;
	unsigned i;

	if (c->last && c->last->state != ND_FREE && ipx_eq(&c->last->ip, ip))
		return c->last;
	for (i = 0; i < ND_ENTRIES; i++)
		if (c->e[i].state != ND_FREE && ipx_eq(&c->e[i].ip, ip))
			return c->last = &c->e[i];
	return NULL;
}

/* nd_new() - a free entry for @ip, recycling the least recently used. */
static struct nd_entry *nd_new(struct bstack *st, const struct in6_addr *ip)
{
	struct nd_ctx *c = st->ipv6->nd;
	struct nd_entry *e = NULL;
	unsigned i;

	for (i = 0; i < ND_ENTRIES; i++) {
		struct nd_entry *x = &c->e[i];

		if (x->state == ND_FREE) {
			e = x;
			break;
		}
		if (!e || x->used_ns < e->used_ns)
			e = x;
	}
	if (e->state != ND_FREE)
		nd_free(st, e);
	e->ip = *ip;
	e->tries = 0;
	e->router = false;
	e->used_ns = st->now_ns;
	return e;
}

/* nd_flush() - @e has a MAC now: send what waited on it. */
static void nd_flush(struct bstack *st, struct nd_entry *e)
{
	while (e->qhead) {
		struct cove_frame *f = e->qhead;

		e->qhead = f->next;
		f->next = NULL;
		st->stats.frames_held--;
		memcpy(f->data, e->mac, ETH_ALEN_);
		bstack_xmit(st, f);
	}
	st->ipv6->nd->queued -= e->nq;
	e->qtail = NULL;
	e->nq = 0;
}

/* nd_set_state() - move @e to @state with its timer. */
static void nd_set_state(struct bstack *st, struct nd_entry *e, uint8_t state)
{
	e->state = state;
	e->tries = 0;
	if (state == ND_REACHABLE)
		timer_arm(&st->timers, &e->timer,
			  st->now_ns + nd_reachable(st));
	else if (state == ND_STALE)
		timer_arm(&st->timers, &e->timer, st->now_ns + ND_GC_NS);
	else if (state == ND_DELAY)
		timer_arm(&st->timers, &e->timer, st->now_ns + ND_DELAY_NS);
}

void nd_learn(struct bstack *st, const struct in6_addr *a, const uint8_t *mac,
	      bool router)
{
	struct nd_entry *e = nd_find(st, a);

	if (!e) {
		e = nd_new(st, a);
		memcpy(e->mac, mac, ETH_ALEN_);
		nd_set_state(st, e, ND_STALE);
	} else if (e->state == ND_INCOMPLETE ||
		   memcmp(e->mac, mac, ETH_ALEN_)) {
		memcpy(e->mac, mac, ETH_ALEN_);
		nd_set_state(st, e, ND_STALE);
		nd_flush(st, e);
	}
	e->router |= router;
}

const uint8_t *nd_opt_lla(const uint8_t *opt, uint32_t len, uint8_t type,
			  bool *bad)
{
	const uint8_t *found = NULL;
	uint32_t i = 0, ol;

	*bad = false;
	while (i + 2 <= len) {
		ol = opt[i + 1] * 8u;
		if (!ol || ol > len - i) {
			*bad = true; /* RFC 4861: a zero length is invalid */
			return NULL;
		}
		if (opt[i] == type && ol == 8 && !found)
			found = opt + i + 2;
		i += ol;
	}
	return found;
}

/**
 * nd_send_na() - a neighbour advertisement for our @target
 * @st:		stack
 * @target:	our address
 * @dst:	the solicitor, or all-nodes (for a solicitor at ::)
 * @flags:	NA_F_SOLICITED, NA_F_OVERRIDE
 */
static void nd_send_na(struct bstack *st, const struct in6_addr *target,
		       const struct in6_addr *dst, uint8_t flags)
{
	uint8_t m[ND_MSG_LEN + 8] = { 136, 0, 0, 0, flags };

	memcpy(m + 8, target, 16);
	m[24] = ND_OPT_TLLA;
	m[25] = 1;
	memcpy(m + 26, st->mac, ETH_ALEN_);
	if (!icmp6_send(st, target, dst, IP6_ND_HLIM, m, sizeof(m), NULL, 0))
		st->stats.nd_adverts++;
}

/*
 * A neighbour that cached another link-layer address for one of ours (a
 * sandbox before this one on the same interface, with another MAC) would
 * keep sending there until its entry went STALE and its probes failed:
 * more than ten seconds on Linux. The Override flag makes it take ours at
 * once; one that has no entry ignores the advertisement.
 */
void nd_announce(struct bstack *st, const struct in6_addr *a)
{
	if (ip6c(st)->announce)
		nd_send_na(st, a, &ip6_all_nodes, NA_F_OVERRIDE);
}

void nd_send_ns(struct bstack *st, const struct in6_addr *target, bool unicast,
		bool dad)
{
	uint8_t m[ND_MSG_LEN + 8] = { 135 };
	struct in6_addr src = in6addr_any, dst;
	uint32_t len = ND_MSG_LEN;

	memcpy(m + 8, target, 16);
	if (!dad) {
		if (ip6_src_for(st, target, &src))
			return; /* no usable address of ours yet */
		m[24] = ND_OPT_SLLA;
		m[25] = 1;
		memcpy(m + 26, st->mac, ETH_ALEN_);
		len += 8;
	}
	if (unicast)
		dst = *target;
	else
		ip6_solicited(target, &dst);
	if (!icmp6_send(st, &src, &dst, IP6_ND_HLIM, m, len, NULL, 0))
		st->stats.nd_solicits++;
}

/* nd_valid() - the checks every NS and NA must pass (RFC 4861 7.1). */
static bool nd_valid(const struct ip6_pkt *pkt, struct in6_addr *target)
{
	if (pkt->hlim != IP6_ND_HLIM || pkt->l4[1] || pkt->l4_len < ND_MSG_LEN)
		return false;
	memcpy(target, pkt->l4 + 8, 16);
	return !ip6_is_mc(target);
}

/* nd_ns_input() - a neighbour solicitation (RFC 4861 7.2.3, 4862 5.4.3). */
static void nd_ns_input(struct bstack *st, const struct ip6_pkt *pkt,
			const struct in6_addr *target, const uint8_t *lla)
{
	struct ip6_ifaddr *ia = ip6_addr_find(st, target);
	bool from_any = ip6_is_any(&pkt->src);
	struct in6_addr sn;

	ip6_solicited(target, &sn);
	if (from_any && (lla || !ipx_eq(&pkt->dst, &sn)))
		return; /* a DAD probe goes to the group, without an address */
	if (!ia || ia->state == IP6A_DUPLICATE)
		return;
	if (ia->state == IP6A_TENTATIVE) {
		if (from_any)
			nd_dad_conflict(st, ia); /* someone probes for it too */
		return;
	}
	if (from_any) {
		nd_send_na(st, target, &ip6_all_nodes, NA_F_OVERRIDE);
		return;
	}
	if (lla)
		nd_learn(st, &pkt->src, lla, false);
	nd_send_na(st, target, &pkt->src, NA_F_SOLICITED | NA_F_OVERRIDE);
}

/* nd_na_update() - apply an NA to an existing entry (RFC 4861 7.2.5). */
static void nd_na_update(struct bstack *st, struct nd_entry *e,
			 const uint8_t *lla, uint8_t flags)
{
	bool differs = lla && memcmp(lla, e->mac, ETH_ALEN_);

	if (e->state == ND_INCOMPLETE) {
		if (!lla)
			return;
		memcpy(e->mac, lla, ETH_ALEN_);
		nd_set_state(st, e,
			     (flags & NA_F_SOLICITED) ? ND_REACHABLE :
							ND_STALE);
		nd_flush(st, e);
	} else if (!(flags & NA_F_OVERRIDE) && differs) {
		if (e->state == ND_REACHABLE)
			nd_set_state(st, e, ND_STALE);
	} else {
		if (differs)
			memcpy(e->mac, lla, ETH_ALEN_);
		if (flags & NA_F_SOLICITED)
			nd_set_state(st, e, ND_REACHABLE);
		else if (differs)
			nd_set_state(st, e, ND_STALE);
	}
	e->router = flags & NA_F_ROUTER;
}

/* nd_na_input() - a neighbour advertisement. */
static void nd_na_input(struct bstack *st, const struct ip6_pkt *pkt,
			const struct in6_addr *target, const uint8_t *lla)
{
	uint8_t flags = pkt->l4[4];
	struct ip6_ifaddr *ia = ip6_addr_find(st, target);
	struct nd_entry *e;

	if (ip6_is_mc(&pkt->dst) && (flags & NA_F_SOLICITED))
		return;
	if (ia) {
		if (ia->state == IP6A_TENTATIVE)
			nd_dad_conflict(st, ia);
		else if (lla && memcmp(lla, st->mac, ETH_ALEN_))
			bstack_log(st, COVE_LOG_WARN,
				   "ipv6: a neighbour claims our address");
		return;
	}
	e = nd_find(st, target);
	if (e)
		nd_na_update(st, e, lla, flags);
}

/**
 * nd_input() - a received NS, NA or redirect
 * @st:		stack
 * @pkt:	the ICMPv6 packet (checksum verified)
 *
 * Messages that fail RFC 4861's validation (hop limit 255, code 0,
 * length, no group target, options of non-zero length) are dropped.
 * Redirects are ignored: the default router is the only way off link.
 */
void nd_input(struct bstack *st, const struct ip6_pkt *pkt)
{
	struct in6_addr target;
	const uint8_t *lla;
	bool bad;

	if (pkt->l4[0] == 137)
		return;
	if (!nd_valid(pkt, &target))
		goto bad;
	lla = nd_opt_lla(pkt->l4 + ND_MSG_LEN, pkt->l4_len - ND_MSG_LEN,
			 pkt->l4[0] == 135 ? ND_OPT_SLLA : ND_OPT_TLLA, &bad);
	if (bad)
		goto bad;
	if (pkt->l4[0] == 135) {
		st->stats.nd_solicits++;
		nd_ns_input(st, pkt, &target, lla);
	} else {
		st->stats.nd_adverts++;
		nd_na_input(st, pkt, &target, lla);
	}
	return;
bad:
	st->stats.rx_malformed++;
	st->stats.rx_dropped++;
}

int nd_output(struct bstack *st, struct cove_frame *f,
	      const struct in6_addr *nh)
{
	struct nd_entry *e = nd_find(st, nh);

	if (!e) {
		e = nd_new(st, nh);
		e->state = ND_INCOMPLETE;
		e->tries = 1;
		timer_arm(&st->timers, &e->timer, st->now_ns + nd_retrans(st));
		nd_send_ns(st, nh, false, false);
	}
	e->used_ns = st->now_ns;
	if (e->state != ND_INCOMPLETE) {
		if (e->state == ND_STALE)
			nd_set_state(st, e, ND_DELAY);
		memcpy(f->data, e->mac, ETH_ALEN_);
		bstack_xmit(st, f);
		return 0;
	}
	if (e->nq >= ND_QLEN || st->ipv6->nd->queued >= ND_QTOTAL) {
		st->stats.tx_dropped++;
		cove_frame_free(f);
		return -ENOBUFS;
	}
	f->next = NULL;
	if (e->qtail)
		e->qtail->next = f;
	else
		e->qhead = f;
	e->qtail = f;
	e->nq++;
	st->ipv6->nd->queued++;
	st->stats.frames_held++;
	return 0;
}

/* nd_entries() - entries in use (tests). */
uint32_t nd_entries(const struct bstack *st)
{
	uint32_t n = 0;
	unsigned i;

	for (i = 0; i < ND_ENTRIES; i++)
		n += st->ipv6->nd->e[i].state != ND_FREE;
	return n;
}

/* nd_init() - the neighbour cache, ND_ENTRIES fixed entries. */
int nd_init(struct bstack *st)
{
	struct nd_ctx *c = calloc(1, sizeof(*c));
	unsigned i;

	if (!c)
		return -ENOMEM;
	st->ipv6->nd = c;
	for (i = 0; i < ND_ENTRIES; i++) {
		c->e[i].st = st;
		c->e[i].timer.fn = nd_timer;
	}
	return 0;
}

/* nd_fini() - cancel every timer, free every queued frame. */
void nd_fini(struct bstack *st)
{
	struct nd_ctx *c = st->ipv6->nd;
	unsigned i;

	if (!c)
		return;
	for (i = 0; i < ND_ENTRIES; i++)
		if (c->e[i].state != ND_FREE)
			nd_free(st, &c->e[i]);
	free(c);
	st->ipv6->nd = NULL;
}
