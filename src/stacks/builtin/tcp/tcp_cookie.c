// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP SYN cookies: a listener with a full SYN queue answers statelessly. */
#include <sys/random.h>
#include <sys/types.h>

#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * A listener whose SYN queue is full (or whose instance is at its
 * embryonic limit) while its accept queue has room answers a SYN with a
 * SYN-ACK whose ISN is a cookie (RFC 4987 sec. 3.6) and keeps nothing: no
 * tcb, no timer, no allocation. The ACK that returns the cookie (its
 * acknowledgment number one past it) is checked and, if the cookie is
 * valid, becomes the child at once, as if it had waited on the SYN queue;
 * it then goes through the same completion as any handshake
 * (tcp_rcv_segment() in SYN-RECV: accept queue, data, FIN). Should the
 * accept queue be full by then, the child stays in SYN-RECV and resends
 * its SYN-ACK like any other (Linux drops that ACK). The construction is
 * Linux's (net/ipv4/syncookies.c):
 *
 *   cookie = H0(tuple) + ISS + (count << 24)
 *          + ((H1(tuple, count) + MSS index) mod 2^24)
 *
 * H0 and H1 are SipHash-2-4 under two 128-bit keys of the instance, drawn
 * from the kernel's generator (not from the instance's seeded one, whose
 * outputs partly leave in timestamp offsets); tuple is the 4-tuple, ISS
 * the peer's initial sequence number, count the number of 64 s steps of
 * the stack's clock. A check peels the layers off in reverse: subtract
 * H0 and ISS (the ACK's seq - 1), read count's low 8 bits from the top
 * and accept them if they are this step or the one before
 * (TCP_COOKIE_AGE: a cookie lives 64 to 128 s); the low 24 bits minus H1
 * of that count must then be an index of the MSS table. A blind guess
 * passes with a chance of 2/2^8 * 4/2^24, about 1 in 2^29.
 *
 * The MSS table is Linux's msstab (536, 1300, 1440, 1460; over IPv6 its
 * msstab of ipv6/syncookies.c, 1220, 1420, 1440, 8940): the peer's MSS
 * is rounded down to it (below the first entry: that entry, as Linux).
 * The tuple hashed is both whole addresses, IPv4 in mapped form, and the
 * ports, so one construction serves both families. Other options fit a
 * cookie only when the peer sent timestamps: then the low 6 bits of our
 * TSval carry them, and the peer echoes them in TSecr (Linux's
 * cookie_init_timestamp() and cookie_timestamp_decode()):
 *
 *   bits 0-3  the peer's window scale, 15 for none
 *   bit 4     SACK permitted
 *   bit 5     ECN (never set: the builtin stack does no ECN)
 *
 * That TSval is our clock rounded down to the encoding, never ahead of
 * it, so the connection's later TSvals never go back. Our timestamp
 * offset of a cookie connection is a third keyed hash of the tuple, so
 * the child recomputes it. Without timestamps the cookie keeps only the
 * MSS, and its SYN-ACK announces neither window scale nor SACK.
 *
 * A listener checks an ACK as a cookie only within TCP_COOKIE_AGE steps
 * of the last cookie it sent (Linux's tcp_synq_no_recent_overflow());
 * otherwise, and when the check fails, the ACK gets the RST any ACK to a
 * listener gets. The context counts syncookies_sent, syncookies_recv
 * (valid cookies returned) and syncookies_failed (ACKs that carried none
 * while cookies were out).
 */

#define COOKIE_BITS 24u
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)
#define TS_OPT_BITS 6u
#define TS_OPT_WS   0xfu /* window scale; all ones: none */
#define TS_OPT_SACK (1u << 4)

static const uint16_t tcp_msstab[] = { 536, 1300, 1440, 1460 };
/* IPv6: Linux's msstab (1280, 1480, 1500 and 9000 byte MTUs, minus 60) */
static const uint16_t tcp_msstab6[] = { 1220, 1420, 1440, 8940 };

#define MSSTAB_N (sizeof(tcp_msstab) / sizeof(tcp_msstab[0]))
_Static_assert(sizeof(tcp_msstab6) == sizeof(tcp_msstab), "same sizes");

/* tcp_cookie_msstab() - the MSS table of @s's family. */
static const uint16_t *tcp_cookie_msstab(const struct tcp_seg *s)
{
	return tcp_v6(&s->src) ? tcp_msstab6 : tcp_msstab;
}

/**
 * tcp_cookie_init() - the instance's SYN cookie keys
 * @c:	TCP context
 *
 * From getrandom(); only when the kernel cannot give them at once, from
 * the instance's generator (which a configured seed makes predictable).
 */
void tcp_cookie_init(struct tcp_ctx *c)
{
	unsigned i;

	if (getrandom(c->cookie_key, sizeof(c->cookie_key), GRND_NONBLOCK) ==
	    (ssize_t)sizeof(c->cookie_key))
		return;
	for (i = 0; i < 4; i++)
		c->cookie_key[i / 2][i % 2] = bstack_random(c->st);
}

/*
 * tcp_cookie_hash() - SipHash of @s's 4-tuple and @word under key @k.
 * Word 0 of key 0 is H0, word 1 of key 0 the timestamp offset; key 1
 * hashes the counter (H1).
 */
static uint32_t tcp_cookie_hash(const struct tcp_ctx *c, unsigned k,
				const struct tcp_seg *s, uint32_t word)
{
	uint64_t m[5];

	memcpy(m, &s->dst, 16); /* both whole addresses: either family */
	memcpy(m + 2, &s->src, 16);
	m[4] = ((uint64_t)word << 32) | ((uint64_t)s->dport << 16) | s->sport;
	return (uint32_t)tcp_siphash_n(c->cookie_key[k], m, 5);
}

/* tcp_cookie_count() - the cookie clock: 64 s steps of the stack's. */
static uint32_t tcp_cookie_count(const struct bstack *st)
{
	return (uint32_t)(st->now_ns / TCP_COOKIE_PERIOD_NS);
}

/* tcp_cookie_ts_off() - our timestamp offset for @s's connection. */
static uint32_t tcp_cookie_ts_off(const struct tcp_ctx *c,
				  const struct tcp_seg *s)
{
	return tcp_cookie_hash(c, 0, s, 1);
}

/* tcp_cookie_mss_index() - the largest entry of @tab <= @mss (else 0). */
static unsigned tcp_cookie_mss_index(const uint16_t *tab, uint16_t mss)
{
	unsigned i;

	for (i = MSSTAB_N - 1; i; i--)
		if (mss >= tab[i])
			break;
	return i;
}

/**
 * tcp_cookie_make() - the ISN for a SYN that gets a cookie
 * @c:		TCP context
 * @s:		the SYN (its 4-tuple and sequence number)
 * @count:	tcp_cookie_count() now
 * @idx:	MSS table index to carry
 *
 * Return: the cookie.
 */
static uint32_t tcp_cookie_make(const struct tcp_ctx *c,
				const struct tcp_seg *s, uint32_t count,
				unsigned idx)
{
	return tcp_cookie_hash(c, 0, s, 0) + s->seq + (count << COOKIE_BITS) +
	       ((tcp_cookie_hash(c, 1, s, count) + idx) & COOKIE_MASK);
}

/**
 * tcp_cookie_check() - does an ACK return a cookie of ours?
 * @c:		TCP context
 * @s:		the ACK (cookie = ack - 1, the peer's ISS = seq - 1)
 * @count:	tcp_cookie_count() now
 *
 * Return: the MSS table index it carries, or -1 when it is no cookie of
 * this tuple, or too old.
 */
static int tcp_cookie_check(const struct tcp_ctx *c, const struct tcp_seg *s,
			    uint32_t count)
{
	uint32_t v = s->ack - 1 - tcp_cookie_hash(c, 0, s, 0) - (s->seq - 1);
	uint32_t diff = (count - (v >> COOKIE_BITS)) & (~0u >> COOKIE_BITS);
	uint32_t idx;

	if (diff >= TCP_COOKIE_AGE)
		return -1;
	idx = (v - tcp_cookie_hash(c, 1, s, count - diff)) & COOKIE_MASK;
	return idx < MSSTAB_N ? (int)idx : -1;
}

/*
 * tcp_cookie_tsval() - @now (our TSval) with its low bits set to @opts,
 * moved back one step if that put it ahead of @now.
 */
static uint32_t tcp_cookie_tsval(uint32_t now, uint32_t opts)
{
	uint32_t ts = (now & ~((1u << TS_OPT_BITS) - 1)) | opts;

	if (seq_gt(ts, now))
		ts -= 1u << TS_OPT_BITS;
	return ts;
}

/* tcp_syn_window() - the window a SYN-ACK of @t (or of its child) gives. */
static uint16_t tcp_syn_window(const struct tcb *t)
{
	uint32_t size = tcp_rx_size(t);

	return size > 65535 ? 65535 : (uint16_t)size;
}

/**
 * tcp_cookie_syn() - answer a SYN with a cookie, keeping no state
 * @l:	listener whose SYN queue is full (its accept queue is not)
 * @s:	the SYN
 *
 * The SYN-ACK announces what a child of @l would (our MSS, our window
 * scale for the largest ring, the window of a new ring), but SACK and
 * window scale only when the peer sent timestamps to carry them. The
 * first cookie of a listener is logged, as Linux logs "Possible SYN
 * flooding".
 */
void tcp_cookie_syn(struct tcb *l, const struct tcp_seg *s)
{
	struct tcp_ctx *c = l->ctx;
	struct bstack *st = l->b.st;
	bool ts = s->opt.has_ts;
	unsigned idx =
		tcp_cookie_mss_index(tcp_cookie_msstab(s),
				     s->opt.has_mss ? s->opt.mss : TCP_DEF_MSS);
	struct tcp_synopt o = {
		.mss = tcp_our_mss(st, &s->src),
		.ts = ts,
		.sack = ts && s->opt.sack_ok,
		.ws = ts && s->opt.has_ws,
		.wscale = tcp_wscale_for(l->rb_max),
		.tsecr = s->opt.tsval,
	};
	uint32_t iss = tcp_cookie_make(c, s, tcp_cookie_count(st), idx);

	if (ts) {
		uint32_t opts = o.ws ? s->opt.ws : TS_OPT_WS;

		if (o.sack)
			opts |= TS_OPT_SACK;
		o.tsval = tcp_cookie_tsval((uint32_t)(st->now_ns / 1000000ull) +
						   tcp_cookie_ts_off(c, s),
					   opts);
	}
	if (!l->synflood_warned) {
		l->synflood_warned = true;
		bstack_log(st, COVE_LOG_INFO,
			   "possible SYN flooding on port %u, sending cookies",
			   (unsigned)l->lport);
	}
	l->cookie_until_ns = st->now_ns + TCP_COOKIE_AGE * TCP_COOKIE_PERIOD_NS;
	c->syncookies_sent++;
	(void)tcp_reply_synack(st, s, iss, &o, tcp_syn_window(l),
			       tcp_v6(&s->src) ? l->tclass : l->tos,
			       tcp_v6(&s->src) ? l->hlim : l->ttl);
}

/*
 * tcp_cookie_params() - the handshake a valid cookie stands for: the MSS
 * of table entry @idx, and with timestamps what TSecr's low bits say.
 */
static void tcp_cookie_params(const struct tcp_ctx *c, const struct tcp_seg *s,
			      unsigned idx, struct tcp_synparams *p)
{
	uint32_t opts = s->opt.tsecr & ((1u << TS_OPT_BITS) - 1);

	memset(p, 0, sizeof(*p));
	p->mss = tcp_cookie_msstab(s)[idx];
	if (!s->opt.has_ts)
		return;
	p->ts_ok = true;
	p->ts_off = tcp_cookie_ts_off(c, s);
	p->sack_ok = opts & TS_OPT_SACK;
	if ((opts & TS_OPT_WS) != TS_OPT_WS) {
		p->ws_ok = true;
		p->snd_ws = (uint8_t)(opts & TS_OPT_WS);
	}
}

/**
 * tcp_cookie_ack() - an ACK to a listener: does it return a cookie?
 * @l:	listener
 * @s:	the ACK (no SYN, no RST)
 *
 * A valid cookie makes the child with the options it recovers and hands
 * it the ACK (which may carry data and a FIN). If the accept queue is
 * full, the child stays on the SYN queue in SYN-RECV and resends its
 * SYN-ACK until the ACK it draws finds room, as a child that got there
 * by the SYN queue does; Linux drops the ACK instead, which leaves a
 * peer that waits for us to speak first connected to nothing. Only the
 * instance's embryonic limit (reached) drops it.
 *
 * Return: true if the ACK was taken (a child made, or dropped); false
 * when it returns no cookie: the caller answers with a RST.
 */
bool tcp_cookie_ack(struct tcb *l, struct tcp_seg *s)
{
	struct tcp_ctx *c = l->ctx;
	struct bstack *st = l->b.st;
	struct tcp_synparams p;
	struct tcb *t;
	int idx;

	if (st->now_ns >= l->cookie_until_ns)
		return false; /* no cookie out: not worth a hash */
	idx = tcp_cookie_check(c, s, tcp_cookie_count(st));
	if (idx < 0) {
		c->syncookies_failed++;
		return false;
	}
	c->syncookies_recv++;
	if (l->acc_qlen >= l->backlog && c->nembryonic >= c->max_embryonic) {
		st->stats.rx_dropped++;
		c->listen_drops++;
		return true;
	}
	t = tcp_child_new(l, s);
	if (!t)
		return true;
	tcp_cookie_params(c, s, (unsigned)idx, &p);
	t->irs = s->seq - 1;
	tcp_child_setup(t, s, &p);
	t->rcv_adv = t->rcv_nxt + tcp_syn_window(t);
	t->last_ack_sent = t->rcv_nxt;
	t->iss = s->ack - 1;
	t->snd_una = t->iss;
	t->snd_nxt = t->snd_max = t->sb_seq = t->iss + 1;
	t->snd_wl1 = t->irs;
	t->snd_wl2 = t->iss;
	t->from_cookie = true;
	tcp_child_queue(l, t);
	t->rtt_ns = st->now_ns;
	tcp_rtx_arm(t); /* a SYN-ACK again, should the ACK find no room */
	tcp_rcv_segment(t, s);
	return true;
}
