// SPDX-License-Identifier: Apache-2.0
/* ARP: a fixed cache with timeouts, requests and replies, pending queues. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stacks/builtin/core.h"

/*
 * Theory of operation
 *
 * The cache is a fixed table of ARP_ENTRIES entries, searched linearly (a
 * sandbox talks to a handful of neighbours, mostly its gateway; the last
 * hit is checked first). An entry is:
 *
 *   FREE        unused;
 *   INCOMPLETE  a request is out; up to ARP_QLEN frames wait on it. The
 *               timer resends the request every second; after ARP_TRIES
 *               requests without answer the entry fails: its frames are
 *               dropped (tx_dropped), each reported to its transport as
 *               ICMP host unreachable (arp_unreachable()), and the entry
 *               is freed;
 *   REACHABLE   the MAC is known; frames go straight out. After 60 s the
 *               timer either frees the entry (unused since it was
 *               confirmed) or moves it to PROBE;
 *   PROBE       the MAC is still used while a new request is out, so a
 *               steady flow never stalls; ARP_TRIES unanswered requests
 *               free the entry.
 *
 * Entries are created for our own requests and when someone asks for our
 * address (we will answer them next); replies and requests from known
 * neighbours refresh existing entries. When the table is full the least
 * recently used entry is recycled, its queue dropped.
 *
 * Queued frames are complete Ethernet frames without the destination MAC.
 * They count in stats.frames_held until sent or dropped; arp_fini() frees
 * them.
 */

#define ARP_ENTRIES	 256u
#define ARP_QLEN	 8u
#define ARP_TRIES	 3u
#define ARP_RETRY_NS	 (1000ull * TIMER_TICK_NS)
#define ARP_REACHABLE_NS (60000ull * TIMER_TICK_NS)
#define ARP_LEN		 28u

enum arp_state {
	ARP_FREE,
	ARP_INCOMPLETE,
	ARP_REACHABLE,
	ARP_PROBE
};

struct arp_entry {
	struct btimer timer; /* first: container_of by cast */
	struct bstack *st;
	uint32_t ip; /* network order */
	uint8_t mac[ETH_ALEN_];
	uint8_t state; /* enum arp_state */
	uint8_t tries; /* requests sent in this state */
	uint8_t nq;
	struct cove_frame *qhead, *qtail;
	uint64_t used_ns;      /* last frame sent through it */
	uint64_t confirmed_ns; /* last reply or request seen */
};

struct arp_ctx {
	struct arp_entry e[ARP_ENTRIES];
	struct arp_entry *last; /* last lookup hit */
};

_Static_assert(ARP_QLEN < 256 && ARP_TRIES < 256, "counters are uint8_t");

/* arp_send() - send an ARP packet of @op to @dst_mac (NULL: broadcast). */
static void arp_send(struct bstack *st, uint16_t op, const uint8_t *dst_mac,
		     uint32_t tip, const uint8_t *tha)
{
	static const uint8_t zero[ETH_ALEN_];
	struct cove_frame *f = cove_frame_alloc(st->link->pool);
	uint8_t *a;

	if (!f) {
		st->stats.tx_dropped++;
		return;
	}
	eth_fill(st, f, dst_mac ? dst_mac : eth_bcast, ETH_P_ARP_);
	a = f->data + ETH_HLEN_;
	cove_put16(a, 1); /* Ethernet */
	cove_put16(a + 2, ETH_P_IP_);
	a[4] = ETH_ALEN_;
	a[5] = 4;
	cove_put16(a + 6, op);
	memcpy(a + 8, st->mac, ETH_ALEN_);
	wr32n(a + 14, st->addr);
	memcpy(a + 18, tha ? tha : zero, ETH_ALEN_);
	wr32n(a + 24, tip);
	memset(a + ARP_LEN, 0, ETH_ZLEN_ - ETH_HLEN_ - ARP_LEN);
	f->len = ETH_ZLEN_;
	if (op == 1)
		st->stats.arp_requests++;
	else
		st->stats.arp_replies++;
	bstack_xmit(st, f);
}

/* arp_drop_queue() - free an entry's pending frames. */
static void arp_drop_queue(struct bstack *st, struct arp_entry *e)
{
	while (e->qhead) {
		struct cove_frame *f = e->qhead;

		e->qhead = f->next;
		cove_frame_free(f);
		st->stats.tx_dropped++;
		st->stats.frames_held--;
	}
	e->qtail = NULL;
	e->nq = 0;
}

/**
 * arp_unreachable() - tell the transports that the queued frames' host is gone
 * @st:		stack
 * @q:		frames detached from a failed entry (consumed)
 *
 * Linux reports a neighbour that never answered as ICMP host unreachable
 * to the sender of each queued packet, so a connect() to a dead on-link
 * host fails in seconds with EHOSTUNREACH instead of after every SYN
 * retry. Do the same: hand each frame's IPv4 header and the first 8 bytes
 * of its transport header to the transport, as an ICMP error would quote
 * them. The queue is detached first because the transport may send (and
 * so reach ARP) while it handles the error.
 */
static void arp_unreachable(struct bstack *st, struct cove_frame *q)
{
	while (q) {
		struct cove_frame *f = q;
		const uint8_t *ip = f->data + ETH_HLEN_;
		uint32_t hl;

		q = f->next;
		st->stats.tx_dropped++;
		if (f->len >= ETH_HLEN_ + IP_HLEN_ + 8) {
			hl = (uint32_t)(ip[0] & 0x0f) * 4;
			if (hl >= IP_HLEN_ && f->len >= ETH_HLEN_ + hl + 8) {
				if (ip[9] == IPPROTO_TCP)
					tcp_icmp_error(st, 3, 1, ip, hl + 8);
				else if (ip[9] == IPPROTO_UDP)
					udp_icmp_error(st, 3, 1, ip, hl + 8);
			}
		}
		cove_frame_free(f);
	}
}

/* arp_free() - return an entry to FREE, dropping its queue. */
static void arp_free(struct bstack *st, struct arp_entry *e)
{
	timer_cancel(&st->timers, &e->timer);
	arp_drop_queue(st, e);
	e->state = ARP_FREE;
	e->ip = 0;
	if (st->arp->last == e)
		st->arp->last = NULL;
}

/* arp_timer() - retry a request, fail an entry, or age a reachable one. */
static void arp_timer(struct btimer *t)
{
	struct arp_entry *e = (struct arp_entry *)t;
	struct bstack *st = e->st;
	struct cove_frame *q;

	switch (e->state) {
	case ARP_INCOMPLETE:
	case ARP_PROBE:
		if (e->tries >= ARP_TRIES) {
			bstack_log(st, COVE_LOG_DEBUG,
				   "arp: no answer from %u.%u.%u.%u",
				   ((uint8_t *)&e->ip)[0],
				   ((uint8_t *)&e->ip)[1],
				   ((uint8_t *)&e->ip)[2],
				   ((uint8_t *)&e->ip)[3]);
			q = e->qhead;
			st->stats.frames_held -= e->nq;
			e->qhead = e->qtail = NULL;
			e->nq = 0;
			arp_free(st, e);
			arp_unreachable(st, q);
			return;
		}
		e->tries++;
		arp_send(st, 1, e->state == ARP_PROBE ? e->mac : NULL, e->ip,
			 NULL);
		timer_arm(&st->timers, &e->timer, st->now_ns + ARP_RETRY_NS);
		break;
	case ARP_REACHABLE:
		if (e->used_ns <= e->confirmed_ns) {
			arp_free(st, e);
			return;
		}
		e->state = ARP_PROBE;
		e->tries = 1;
		arp_send(st, 1, e->mac, e->ip, NULL);
		timer_arm(&st->timers, &e->timer, st->now_ns + ARP_RETRY_NS);
		break;
	default:
		break;
	}
}

/* arp_find() - the entry for @ip, or NULL. */
static struct arp_entry *arp_find(struct bstack *st, uint32_t ip)
{
	struct arp_ctx *c = st->arp;
	unsigned i;

	if (c->last && c->last->ip == ip && c->last->state != ARP_FREE)
		return c->last;
	for (i = 0; i < ARP_ENTRIES; i++)
		if (c->e[i].state != ARP_FREE && c->e[i].ip == ip)
			return c->last = &c->e[i];
	return NULL;
}

/* arp_new() - a free entry for @ip, recycling the least recently used. */
static struct arp_entry *arp_new(struct bstack *st, uint32_t ip)
{
	struct arp_ctx *c = st->arp;
	struct arp_entry *e = NULL;
	unsigned i;

	for (i = 0; i < ARP_ENTRIES; i++) {
		struct arp_entry *x = &c->e[i];

		if (x->state == ARP_FREE) {
			e = x;
			break;
		}
		if (!e ||
		    (x->used_ns > x->confirmed_ns ? x->used_ns :
						    x->confirmed_ns) <
			    (e->used_ns > e->confirmed_ns ? e->used_ns :
							    e->confirmed_ns))
			e = x;
	}
	if (e->state != ARP_FREE)
		arp_free(st, e);
	e->ip = ip;
	e->tries = 0;
	e->used_ns = e->confirmed_ns = st->now_ns;
	return e;
}

/* arp_confirm() - @e's MAC is @mac: reachable now, send what waited. */
static void arp_confirm(struct bstack *st, struct arp_entry *e,
			const uint8_t *mac)
{
	memcpy(e->mac, mac, ETH_ALEN_);
	e->state = ARP_REACHABLE;
	e->tries = 0;
	e->confirmed_ns = st->now_ns;
	timer_arm(&st->timers, &e->timer, st->now_ns + ARP_REACHABLE_NS);
	while (e->qhead) {
		struct cove_frame *f = e->qhead;

		e->qhead = f->next;
		f->next = NULL;
		st->stats.frames_held--;
		memcpy(f->data, mac, ETH_ALEN_);
		bstack_xmit(st, f);
	}
	e->qtail = NULL;
	e->nq = 0;
}

/**
 * arp_input() - handle a received ARP packet
 * @st:	stack
 * @p:	bytes after the Ethernet header (padding allowed)
 *
 * Answers requests for our address and learns the sender from them;
 * replies and requests refresh entries we already have.
 */
void arp_input(struct bstack *st, const struct pkt *p)
{
	const uint8_t *a = pkt_ptr(p, 0, ARP_LEN);
	struct arp_entry *e;
	uint32_t sip, tip;
	uint16_t op;

	if (!a || cove_get16(a) != 1 || cove_get16(a + 2) != ETH_P_IP_ ||
	    a[4] != 6 || a[5] != 4) {
		st->stats.rx_malformed++;
		st->stats.rx_dropped++;
		return;
	}
	op = cove_get16(a + 6);
	sip = rd32n(a + 14);
	tip = rd32n(a + 24);
	if ((op != 1 && op != 2) || (a[8] & 1)) {
		st->stats.rx_dropped++;
		return;
	}
	if (sip == st->addr) { /* someone else claims our address */
		if (memcmp(a + 8, st->mac, ETH_ALEN_))
			bstack_log(
				st, COVE_LOG_WARN,
				"arp: address conflict with %02x:%02x:%02x:%02x:%02x:%02x",
				a[8], a[9], a[10], a[11], a[12], a[13]);
		return;
	}
	if (sip && !ip_martian(st, sip) && !ip_is_bcast(st, sip)) {
		e = arp_find(st, sip);
		if (!e && tip == st->addr) {
			e = arp_new(st, sip);
			e->state = ARP_INCOMPLETE;
		}
		if (e)
			arp_confirm(st, e, a + 8);
	}
	if (op == 1 && tip == st->addr)
		arp_send(st, 2, a + 8, sip, a + 8);
}

/**
 * arp_output() - send an IPv4 frame to an on-link next hop
 * @st:	stack
 * @f:	Ethernet frame, all but the destination MAC filled; consumed
 * @nh:	next hop address, network order
 *
 * Return: 0 when sent or queued behind a request, -ENOBUFS when the
 * entry's queue is full (the frame is dropped and counted).
 */
int arp_output(struct bstack *st, struct cove_frame *f, uint32_t nh)
{
	struct arp_entry *e = arp_find(st, nh);

	if (!e) {
		e = arp_new(st, nh);
		e->state = ARP_INCOMPLETE;
		e->tries = 1;
		arp_send(st, 1, NULL, nh, NULL);
		timer_arm(&st->timers, &e->timer, st->now_ns + ARP_RETRY_NS);
	}
	e->used_ns = st->now_ns;
	if (e->state == ARP_REACHABLE || e->state == ARP_PROBE) {
		memcpy(f->data, e->mac, ETH_ALEN_);
		bstack_xmit(st, f);
		return 0;
	}
	if (e->nq >= ARP_QLEN) {
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
	st->stats.frames_held++;
	return 0;
}

/* arp_announce() - gratuitous ARP: a broadcast request for our address. */
void arp_announce(struct bstack *st)
{
	arp_send(st, 1, NULL, st->addr, NULL);
}

/* arp_init() - the ARP table, ARP_ENTRIES fixed entries. Return: 0, -ENOMEM. */
int arp_init(struct bstack *st)
{
	unsigned i;

	st->arp = calloc(1, sizeof(*st->arp));
	if (!st->arp)
		return -ENOMEM;
	for (i = 0; i < ARP_ENTRIES; i++) {
		st->arp->e[i].st = st;
		st->arp->e[i].timer.fn = arp_timer;
	}
	return 0;
}

/* arp_fini() - cancel timers and free every queued frame. */
void arp_fini(struct bstack *st)
{
	unsigned i;

	if (!st->arp)
		return;
	for (i = 0; i < ARP_ENTRIES; i++)
		if (st->arp->e[i].state != ARP_FREE)
			arp_free(st, &st->arp->e[i]);
	free(st->arp);
	st->arp = NULL;
}
