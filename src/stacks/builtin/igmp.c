// SPDX-License-Identifier: Apache-2.0
/* IGMP (RFC 3376, RFC 2236 compatibility): the IPv4 groups the stack is in and their reports. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stacks/builtin/core.h"
#include "stacks/builtin/udp.h"

/*
 * Theory of operation
 *
 * The stack is in 224.0.0.1 (all hosts, never reported) and in every
 * group a socket joined: igmp_join() and igmp_leave() count the sockets
 * per group in a fixed table of IGMP_GROUPS entries. Input (ipv4.c,
 * eth.c) asks igmp_group_ok() and igmp_mac_ok() whether a datagram or a
 * frame to a group is ours.
 *
 * Reports say what the interface wants per group: EXCLUDE {} when any
 * socket joined it without a source list, else INCLUDE the union of the
 * sockets' sources (udp_mc4_state() computes it from the sockets, so the
 * table holds no source state). A change (join, leave, a source list
 * edited) is reported at once and IGMP_ROBUSTNESS - 1 times more, one
 * IGMP_UNSOL_NS apart, as state-change records (TO_EX / TO_IN); a group
 * just left gets one TO_IN({}) record. A query is answered after a random
 * delay within its maximum response time with current-state records
 * (IS_EX / IS_IN) of every group. An IGMPv1 or v2 query switches the host
 * to IGMPv2 reports (one per group, to the group; leaves to 224.0.0.2)
 * for IGMP_V2_PRESENT_NS (RFC 3376 7.2.1). Reports carry the Router
 * Alert option, TTL 1 and DF with ID 0 (RFC 6864: an atomic datagram
 * needs no unique ID). Nothing is allocated past igmp_layer_init().
 */

#define IGMP_GROUPS	   64u
#define IGMP_ROBUSTNESS	   2u
#define IGMP_UNSOL_NS	   (1000ull * TIMER_TICK_NS)
#define IGMP_V2_PRESENT_NS (260000ull * TIMER_TICK_NS) /* 2 * 125 s + 10 s */
#define IGMP_QUERY	   0x11u
#define IGMP_V2_REPORT	   0x16u
#define IGMP_V2_LEAVE	   0x17u
#define IGMP_V3_REPORT	   0x22u
#define IGMP_HLEN	   24u /* IPv4 header with Router Alert */
#define IGMP_SRC_MAX	   64u /* sources in one record */

enum {
	IGMP_IS_IN = 1,
	IGMP_IS_EX,
	IGMP_TO_IN,
	IGMP_TO_EX
};

struct igmp_group {
	uint32_t g; /* network order */
	uint32_t refs;
};

struct igmp_ctx {
	struct btimer timer; /* first: container_of by cast */
	struct bstack *st;
	uint8_t left;	      /* reports still to send */
	bool answer;	      /* the next one answers a query */
	uint64_t v2_until;    /* an IGMPv1/v2 querier was heard */
	uint64_t reports_out; /* internal counters (the ABI has no place) */
	uint64_t queries_in;
	struct igmp_group group[IGMP_GROUPS];
};

static uint32_t all_hosts(void)
{
	return htonl(0xe0000001u);
}

bool igmp_group_ok(const struct bstack *st, uint32_t g)
{
	const struct igmp_ctx *c = st->igmp;
	unsigned i;

	if (g == all_hosts())
		return true;
	for (i = 0; i < IGMP_GROUPS; i++)
		if (c->group[i].refs && c->group[i].g == g)
			return true;
	return false;
}

bool igmp_mac_ok(const struct bstack *st, const uint8_t *mac)
{
	const struct igmp_ctx *c = st->igmp;
	uint8_t m[ETH_ALEN_];
	unsigned i;

	if (mac[0] != 0x01 || mac[1] != 0x00 || mac[2] != 0x5e)
		return false;
	ip_mcast_mac(all_hosts(), m);
	if (!memcmp(m, mac, ETH_ALEN_))
		return true;
	for (i = 0; i < IGMP_GROUPS; i++) {
		if (!c->group[i].refs)
			continue;
		ip_mcast_mac(c->group[i].g, m);
		if (!memcmp(m, mac, ETH_ALEN_))
			return true;
	}
	return false;
}

/* igmp_v2() - an IGMPv1/v2 querier was heard recently. */
static bool igmp_v2(const struct bstack *st)
{
	return st->igmp->v2_until > st->now_ns;
}

/**
 * igmp_send() - one IGMP message in its own frame
 * @st:		stack
 * @dst:	IPv4 destination (network order): a group
 * @msg:	the message, @len bytes; its checksum is filled here
 * @len:	at most the MTU less IGMP_HLEN
 */
static void igmp_send(struct bstack *st, uint32_t dst, uint8_t *msg,
		      uint32_t len)
{
	struct cove_frame *f = cove_frame_alloc(st->link->pool);
	uint8_t *h, mac[ETH_ALEN_];
	uint16_t ck;

	if (!f || f->cap < ETH_HLEN_ + IGMP_HLEN + len) {
		if (f)
			cove_frame_free(f);
		st->stats.tx_dropped++;
		return;
	}
	msg[2] = msg[3] = 0;
	ck = cove_csum_fold(cove_csum_partial(msg, len, 0));
	memcpy(msg + 2, &ck, 2);
	h = f->data + ETH_HLEN_;
	memset(h, 0, IGMP_HLEN);
	h[0] = 0x46;
	h[1] = 0xc0; /* internetwork control, as Linux */
	cove_put16(h + 2, (uint16_t)(IGMP_HLEN + len));
	cove_put16(h + 6, IP_DF);
	h[8] = 1;
	h[9] = IP_PROTO_IGMP;
	wr32n(h + 12, st->addr);
	wr32n(h + 16, dst);
	h[20] = 0x94; /* Router Alert, RFC 2113 */
	h[21] = 4;
	ck = cove_csum_fold(cove_csum_partial(h, IGMP_HLEN, 0));
	memcpy(h + 10, &ck, 2);
	memcpy(h + IGMP_HLEN, msg, len);
	f->len = ETH_HLEN_ + IGMP_HLEN + len;
	ip_mcast_mac(dst, mac);
	eth_fill(st, f, mac, ETH_P_IP_);
	st->igmp->reports_out++;
	bstack_xmit(st, f);
}

/* igmp_send_v2() - an IGMPv2 report of @g, or a leave of it. */
static void igmp_send_v2(struct bstack *st, uint32_t g, bool leave)
{
	uint8_t m[8] = { leave ? IGMP_V2_LEAVE : IGMP_V2_REPORT };

	wr32n(m + 4, g);
	igmp_send(st, leave ? htonl(0xe0000002u) : g, m, sizeof(m));
}

/*
 * igmp_record() - append @g's record of @type with @n sources to the
 * report at @m (@used bytes so far, @room in all); a full report is sent
 * first and a new one begun. Sources past what one frame holds are cut.
 */
static void igmp_record(struct bstack *st, uint8_t *m, uint32_t *used,
			uint32_t room, uint8_t type, uint32_t g,
			const uint32_t *src, unsigned n)
{
	uint32_t need, i;

	if (8 + 8 + 4u * n > room)
		n = (room - 16) / 4;
	need = 8 + 4u * n;
	if (*used + need > room) {
		igmp_send(st, htonl(0xe0000016u), m, *used);
		*used = 8;
		cove_put16(m + 6, 0);
	}
	m[*used] = type;
	m[*used + 1] = 0;
	cove_put16(m + *used + 2, (uint16_t)n);
	wr32n(m + *used + 4, g);
	for (i = 0; i < n; i++)
		wr32n(m + *used + 8 + 4 * i, src[i]);
	*used += need;
	cove_put16(m + 6, (uint16_t)(cove_get16(m + 6) + 1));
}

/**
 * igmp_report() - report every group we are in (and one just left)
 * @st:		stack
 * @left:	a group no socket is in any more (network order), or 0
 * @answer:	current-state records (answering a query), else state-change
 *
 * IGMPv3 unless an older querier is present (see the theory block).
 */
static void igmp_report(struct bstack *st, uint32_t left, bool answer)
{
	struct igmp_ctx *c = st->igmp;
	uint8_t m[1500];
	uint32_t src[IGMP_SRC_MAX], used = 8, room = st->mtu - IGMP_HLEN;
	unsigned i, n;
	bool excl;

	if (room > sizeof(m))
		room = sizeof(m);
	if (igmp_v2(st)) {
		for (i = 0; i < IGMP_GROUPS; i++)
			if (c->group[i].refs)
				igmp_send_v2(st, c->group[i].g, false);
		if (left)
			igmp_send_v2(st, left, true);
		return;
	}
	memset(m, 0, 8);
	m[0] = IGMP_V3_REPORT;
	for (i = 0; i < IGMP_GROUPS; i++) {
		if (!c->group[i].refs)
			continue;
		n = udp_mc4_state(st, c->group[i].g, &excl, src, IGMP_SRC_MAX);
		igmp_record(st, m, &used, room,
			    excl ? (answer ? IGMP_IS_EX : IGMP_TO_EX) :
				   (answer ? IGMP_IS_IN : IGMP_TO_IN),
			    c->group[i].g, src, excl ? 0 : n);
	}
	if (left)
		igmp_record(st, m, &used, room, IGMP_TO_IN, left, NULL, 0);
	if (used > 8)
		igmp_send(st, htonl(0xe0000016u), m, used);
}

/* igmp_timer() - the next unsolicited report, or a query's answer. */
static void igmp_timer(struct btimer *t)
{
	struct igmp_ctx *c = (struct igmp_ctx *)t;

	if (!c->left)
		return;
	c->left--;
	igmp_report(c->st, 0, c->answer);
	c->answer = false;
	if (c->left)
		timer_arm(&c->st->timers, &c->timer,
			  c->st->now_ns + IGMP_UNSOL_NS);
}

void igmp_changed(struct bstack *st, uint32_t left)
{
	struct igmp_ctx *c = st->igmp;

	igmp_report(st, left, false);
	c->answer = false;
	c->left = IGMP_ROBUSTNESS - 1;
	timer_arm(&st->timers, &c->timer, st->now_ns + IGMP_UNSOL_NS);
}

int igmp_join(struct bstack *st, uint32_t g)
{
	struct igmp_ctx *c = st->igmp;
	struct igmp_group *free_g = NULL;
	unsigned i;

	for (i = 0; i < IGMP_GROUPS; i++) {
		if (c->group[i].refs && c->group[i].g == g) {
			c->group[i].refs++;
			return 0;
		}
		if (!c->group[i].refs && !free_g)
			free_g = &c->group[i];
	}
	if (!free_g)
		return -ENOBUFS;
	free_g->g = g;
	free_g->refs = 1;
	return 0;
}

bool igmp_leave(struct bstack *st, uint32_t g)
{
	struct igmp_ctx *c = st->igmp;
	unsigned i;

	for (i = 0; i < IGMP_GROUPS; i++)
		if (c->group[i].refs && c->group[i].g == g)
			return !--c->group[i].refs;
	return false;
}

/*
 * igmp_max_resp() - a query's maximum response time in ms: v1 10 s, v2
 * tenths of a second, v3 the same below 128 and a float code above
 * (RFC 3376 4.1.1); never below 100 ms.
 */
static uint64_t igmp_max_resp(uint8_t code, bool v3)
{
	uint64_t t = code;

	if (!code)
		return 10000;
	if (v3 && code >= 128)
		t = (uint64_t)((code & 15) | 16) << (((code >> 4) & 7) + 3);
	return t < 1 ? 100 : t * 100;
}

void igmp_layer_input(struct bstack *st, const struct ip_pkt *pkt)
{
	struct igmp_ctx *c = st->igmp;
	struct pkt p = { .p = pkt->l4, .len = pkt->l4_len };
	const uint8_t *m = pkt_ptr(&p, 0, 8);
	bool v3;
	uint32_t g;
	uint64_t ms;

	if (!m || cove_csum_fold(cove_csum_partial(m, pkt->l4_len, 0))) {
		st->stats.rx_malformed++;
		st->stats.rx_dropped++;
		return;
	}
	if (m[0] != IGMP_QUERY)
		return; /* others' reports: a v3 host suppresses nothing */
	v3 = pkt->l4_len >= 12;
	if (pkt->l4_len != 8 && !v3) {
		st->stats.rx_malformed++;
		return;
	}
	c->queries_in++;
	g = rd32n(m + 4);
	if (g && !igmp_group_ok(st, g))
		return; /* about a group that is none of ours */
	if (!v3)
		c->v2_until = st->now_ns + IGMP_V2_PRESENT_NS;
	if (timer_armed(&c->timer))
		return; /* a report is on its way */
	ms = igmp_max_resp(m[1], v3);
	c->left = 1;
	c->answer = true;
	timer_arm(&st->timers, &c->timer,
		  st->now_ns + (bstack_random(st) % ms) * TIMER_TICK_NS);
}

int igmp_layer_init(struct bstack *st)
{
	struct igmp_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->st = st;
	c->timer.fn = igmp_timer;
	st->igmp = c;
	return 0;
}

void igmp_fini(struct bstack *st)
{
	if (!st->igmp)
		return;
	timer_cancel(&st->timers, &st->igmp->timer);
	free(st->igmp);
	st->igmp = NULL;
}

void igmp_counters(const struct bstack *st, uint64_t *reports,
		   uint64_t *queries)
{
	*reports = st->igmp->reports_out;
	*queries = st->igmp->queries_in;
}
