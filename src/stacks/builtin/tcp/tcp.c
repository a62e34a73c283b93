// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP: context, connection hash, ISNs, tcb lifetime, readiness, RTT. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * tcp_layer_init() allocates the context (tables included) once per stack
 * instance. A tcb moves through: tcb_alloc() -> (port list, conn hash while
 * it has a 4-tuple) -> tcp_done() (CLOSED: out of the hash, timers off) ->
 * tcp_reap_later() once no host handle remains -> freed by tcp_reap() from
 * the end of input, a socket call or a zero-delay timer. Deferring the free
 * means no code path ever touches a freed tcb, whatever it called.
 *
 * Gauges: nconns counts tcbs in a state other than CLOSED and LISTEN,
 * nestab those ESTABLISHED or CLOSE-WAIT; the ring bytes are the stack's
 * budget's (st->mem, mem.c), charged and given back only by the ring
 * helpers below (tcb_rb_alloc(), tcp_rb_release(), tcp_sb_room(),
 * tcp_sb_release(), tcb_rings_free()) and the receive autotuning
 * (tcp_rwnd.c).
 */

/* --- SipHash-2-4 (ISNs, RFC 6528; challenge budgets; SYN cookies) ----- */

static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)     \
	do {                         \
		v0 += v1;            \
		v1 = rotl64(v1, 13); \
		v1 ^= v0;            \
		v0 = rotl64(v0, 32); \
		v2 += v3;            \
		v3 = rotl64(v3, 16); \
		v3 ^= v2;            \
		v0 += v3;            \
		v3 = rotl64(v3, 21); \
		v3 ^= v0;            \
		v2 += v1;            \
		v1 = rotl64(v1, 17); \
		v1 ^= v2;            \
		v2 = rotl64(v2, 32); \
	} while (0)

/**
 * tcp_siphash_n() - SipHash-2-4 of @n 64-bit words
 * @k:		128-bit key
 * @m:		the message, @n words (in the order given)
 * @n:		at most 31 (the length byte counts 8-byte words)
 *
 * Return: the 64-bit hash of the 8 * @n byte message.
 */
uint64_t tcp_siphash_n(const uint64_t k[2], const uint64_t *m, unsigned n)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ k[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ k[0];
	uint64_t v3 = 0x7465646279746573ull ^ k[1];
	uint64_t w;
	unsigned i;

	for (i = 0; i <= n; i++) {
		w = i < n ? m[i] : (uint64_t)(8 * n) << 56;
		v3 ^= w;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= w;
	}
	v2 ^= 0xff;
	for (i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* tcp_siphash() - SipHash-2-4 of the 16-byte message @m0 || @m1. */
uint64_t tcp_siphash(const uint64_t k[2], uint64_t m0, uint64_t m1)
{
	const uint64_t m[2] = { m0, m1 };

	return tcp_siphash_n(k, m, 2);
}

/**
 * tcp_isn() - an initial sequence number, RFC 6528
 * @c:		TCP context (its ISN key)
 * @laddr:	local address (IPv4 mapped)
 * @raddr:	remote address (IPv4 mapped)
 * @lport:	local port
 * @rport:	remote port
 *
 * ISN = M + F(4-tuple, key): M the 4 us clock, F SipHash of both whole
 * addresses and the ports (40 bytes), so a tuple's ISNs keep increasing
 * and no peer can predict another tuple's.
 *
 * Return: the ISN.
 */
uint32_t tcp_isn(struct tcp_ctx *c, const struct in6_addr *laddr,
		 const struct in6_addr *raddr, uint16_t lport, uint16_t rport)
{
	uint64_t m[5];

	memcpy(m, laddr, 16);
	memcpy(m + 2, raddr, 16);
	m[4] = ((uint64_t)lport << 16) | rport;
	return (uint32_t)tcp_siphash_n(c->isn_key, m, 5) +
	       (uint32_t)(c->st->now_ns / 4000);
}

static inline uint32_t tcp_hash(const struct tcp_ctx *c,
				const struct in6_addr *laddr, uint16_t lport,
				const struct in6_addr *raddr, uint16_t rport)
{
	return bstack_flow_hash6(c->hash_seed, laddr, lport, raddr, rport) &
	       (TCP_HASH_BUCKETS - 1);
}

/* --- context ------------------------------------------------------------ */

/**
 * tcp_layer_init() - the TCP context of a stack instance
 * @st:		stack; st->tcp is set only on success
 *
 * Allocates the context and its 64 Ki-entry port table once; nothing else
 * grows with load but tcbs and their rings. Seeds the connection hash, the
 * ISN key and the first ephemeral port from the instance's generator, so
 * two instances never share them. The orphan, embryonic and TIME-WAIT
 * limits all default to max_sockets (4096 when unlimited). An unknown
 * congestion control name falls back to CUBIC. The SYN cookie keys come
 * last (tcp_cookie_init()), from the kernel's generator.
 *
 * Return: 0 or -ENOMEM (nothing left allocated).
 */
int tcp_layer_init(struct bstack *st)
{
	struct tcp_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->ports = calloc(65536, sizeof(*c->ports));
	if (!c->ports) {
		free(c);
		return -ENOMEM;
	}
	c->st = st;
	c->hash_seed = bstack_random(st);
	/* The ISN key from the kernel, not from the generator whose outputs
	 * (timestamp offsets, ports) a peer sees and could invert; with a
	 * configured seed (tests) everything comes from the generator. */
	if (st->seeded || getrandom(c->isn_key, sizeof(c->isn_key),
				    GRND_NONBLOCK) != sizeof(c->isn_key)) {
		c->isn_key[0] = bstack_random(st);
		c->isn_key[1] = bstack_random(st);
	}
	c->chal_sec = UINT64_MAX; /* no second's budget drawn yet */
	c->next_port = TCP_EPH_LO + (uint32_t)(bstack_random(st) %
					       (TCP_EPH_HI - TCP_EPH_LO + 1));
	c->max_orphans = st->max_sockets ? st->max_sockets : 4096;
	c->max_embryonic = c->max_orphans;
	c->max_timewait = c->max_orphans;
	c->cc_default = tcp_cc_find(st->congestion);
	if (!c->cc_default)
		c->cc_default = &tcp_cc_cubic;
	tcp_ctx_timers_init(c);
	tcp_cookie_init(c);
	st->tcp = c;
	return 0;
}

/* tcb_free() - release a tcb's memory; it is off every table already. */
static void tcb_free(struct tcb *t)
{
	tcb_rings_free(t);
	bmem_unwait(&t->b);
	t->ctx->ntcb--;
	free(t);
}

/**
 * tcp_layer_fini() - free every tcb and the context, at stack destroy
 * @st:		stack (st->tcp may be NULL: init failed or never ran)
 *
 * Frees what tcp_reap() has pending, then every tcb still on a port list,
 * which by the lifetime rules above is every other one: no segment is
 * sent, the host's handles are dead with the instance.
 */
void tcp_layer_fini(struct bstack *st)
{
	struct tcp_ctx *c = st->tcp;
	struct tcb *t;
	unsigned p;

	if (!c)
		return;
	timer_cancel(&st->timers, &c->t_out);
	timer_cancel(&st->timers, &c->t_reap);
	tcp_reap(c);
	/* Every tcb left is on a port list (listeners, bound, connected). */
	for (p = 0; p < 65536; p++) {
		while ((t = c->ports[p].head)) {
			tcp_timers_stop(t);
			if (t->state != TCPS_CLOSED && t->state != TCPS_LISTEN)
				c->nconns--;
			tcb_port_del(t);
			if (t->in_hash) {
				*t->hpprev = t->hnext;
				if (t->hnext)
					t->hnext->hpprev = t->hpprev;
			}
			tcb_free(t);
		}
	}
	free(c->ports);
	free(c);
	st->tcp = NULL;
}

void tcp_stats(struct bstack *st, struct cove_stack_stats *out)
{
	struct tcp_ctx *c = st->tcp;

	if (!c)
		return;
	out->tcp_conns += c->nconns;
	out->tcp_established += c->nestab;
	out->tcp_syncookies_sent += c->syncookies_sent;
	out->tcp_syncookies_ok += c->syncookies_recv;
	out->tcp_syncookies_failed += c->syncookies_failed;
}

/* --- tcb lifetime ------------------------------------------------------- */

/**
 * tcb_alloc() - a CLOSED tcb with the instance's defaults
 * @c:		TCP context
 *
 * Buffer sizes come from the stack's SO_SNDBUF/SO_RCVBUF defaults (the
 * receive ring may autotune up to rb_max); keepalive, congestion control
 * and timers are set up but nothing is armed. The rings are not allocated
 * here (tcb_rb_alloc() does that when data arrives), and the tcb is on no
 * table: the caller links it to a port or a listener.
 *
 * Return: the tcb, or NULL when out of memory.
 */
struct tcb *tcb_alloc(struct tcp_ctx *c)
{
	struct bstack *st = c->st;
	struct tcb *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ctx = c;
	t->b.st = st;
	t->b.proto = &tcp_proto;
	t->b.type = SOCK_STREAM;
	t->family = AF_INET;
	t->laddr = t->raddr = ipx_from_v4(INADDR_ANY);
	t->state = TCPS_CLOSED;
	t->sb_size = st->sndbuf ? st->sndbuf : TCP_BUF_DEFAULT;
	t->rb_size = st->rcvbuf ? st->rcvbuf : TCP_BUF_DEFAULT;
	t->rb_max = t->rb_size > TCP_RB_AUTO_MAX ? t->rb_size : TCP_RB_AUTO_MAX;
	t->keepidle = TCP_KEEPIDLE_S;
	t->keepintvl = TCP_KEEPINTVL_S;
	t->keepcnt = TCP_DEF_KEEPCNT;
	t->cc = c->cc_default;
	t->acc_tail = &t->acc_head;
	tcp_timers_init(t);
	c->ntcb++;
	return t;
}

/*
 * tcp_rx_promise() - count @t's receive minimum in the budget's promises
 * (st->mem.resv, mem.c) while it has no ring, or not; idempotent.
 */
static void tcp_rx_promise(struct tcb *t, bool on)
{
	if (t->rx_resv == on)
		return;
	t->rx_resv = on;
	if (on)
		t->b.st->mem.resv += BMEM_SOCK_MIN;
	else
		t->b.st->mem.resv -= BMEM_SOCK_MIN;
}

/**
 * tcb_rx_open() - data may flow from now on: the window is promised
 * @t:	connection
 *
 * No memory is taken here: the receive ring comes with the first byte
 * (tcb_rb_alloc()), so an idle connection holds none of the budget, as an
 * idle Linux socket holds no skb. Under pressure the window promised (in
 * the SYN or SYN-ACK) is only the per-socket minimum, the ring it will
 * get then.
 */
void tcb_rx_open(struct tcb *t)
{
	if (bmem_pressure(t->b.st) && t->rb_size > BMEM_SOCK_MIN)
		t->rb_size = BMEM_SOCK_MIN;
	t->rx_open = true;
	tcp_rx_promise(t, !t->rbuf);
}

/**
 * tcb_rb_alloc() - allocate the receive ring, for data that arrived
 * @t:	connection with rx_open set and no ring
 *
 * The ring gets rb_size bytes while the stack's budget is below its soft
 * limit; under pressure only the per-socket minimum (BMEM_SOCK_MIN), which
 * becomes rb_size (a window already promised beyond it is then met by
 * dropping what does not fit, as Linux does under pressure). At the hard
 * limit there is none: the caller drops the segment unacknowledged, and
 * the peer's retransmission finds a ring once memory is back.
 *
 * Return: true when @t has a ring now.
 */
bool tcb_rb_alloc(struct tcb *t)
{
	struct bstack *st = t->b.st;
	uint32_t size = t->rb_size;

	if (size > BMEM_SOCK_MIN) {
		t->rbuf = bmem_alloc(st, size, BMEM_GROW);
		if (!t->rbuf)
			size = BMEM_SOCK_MIN;
	}
	if (!t->rbuf)
		t->rbuf = bmem_alloc(st, size, BMEM_RX_MIN);
	if (!t->rbuf)
		return false;
	t->rb_size = size;
	t->rb_head = 0;
	tcp_rx_promise(t, false);
	return true;
}

/*
 * tcp_rb_release() - under memory pressure, give an empty receive ring
 * back (the next byte allocates again); otherwise keep it for the next.
 * Only while the window promised fits the minimum ring, the one a new
 * ring may be under pressure.
 */
void tcp_rb_release(struct tcb *t)
{
	if (t->rb_len || t->nooo || !t->rbuf || !bmem_pressure(t->b.st))
		return;
	if (seq_gt(t->rcv_adv, t->rcv_nxt + BMEM_SOCK_MIN))
		return;
	bmem_free(t->b.st, t->rbuf, t->rb_size);
	t->rbuf = NULL;
	t->rb_head = 0;
	tcp_rx_promise(t, true);
}

/* tcb_rings_free() - give both rings back to the budget; nothing queued. */
void tcb_rings_free(struct tcb *t)
{
	struct bstack *st = t->b.st;

	bmem_free(st, t->sbuf, t->sb_cap);
	bmem_free(st, t->rbuf, t->rb_size);
	t->sbuf = t->rbuf = NULL;
	t->sb_cap = t->sb_head = t->sb_len = 0;
	t->rb_head = t->rb_len = 0;
	t->rx_open = false;
	tcp_rx_promise(t, false);
}

/* tcp_sb_resize() - move the send ring into one of @cap bytes, linearised. */
static bool tcp_sb_resize(struct tcb *t, uint32_t cap, enum bmem_kind kind)
{
	uint8_t *nb = bmem_alloc(t->b.st, cap, kind);

	if (!nb)
		return false;
	if (t->sb_len)
		ring_get(t->sbuf, t->sb_cap, t->sb_head, nb, t->sb_len);
	bmem_free(t->b.st, t->sbuf, t->sb_cap);
	t->sbuf = nb;
	t->sb_cap = cap;
	t->sb_head = 0;
	return true;
}

/**
 * tcp_sb_room() - make room in the send ring for up to @want more bytes
 * @t:		connection
 * @want:	bytes the caller would queue
 *
 * Grows the ring (doubling, from BMEM_SOCK_MIN, never past sb_size) when
 * what is free in it is less than @want. Growth beyond the per-socket
 * minimum is refused under pressure; the minimum itself only at the
 * hard limit. A socket left with no room for want of memory joins the
 * budget's waiters, so run() tells it when memory comes back.
 *
 * Return: the bytes free in the ring now (may be less than @want, or 0).
 */
uint32_t tcp_sb_room(struct tcb *t, uint32_t want)
{
	uint32_t limit = t->sb_size - t->sb_len, cap, need;

	if (want > limit)
		want = limit;
	if (t->sb_cap - t->sb_len >= want)
		return t->sb_cap - t->sb_len;
	need = t->sb_len + want;
	cap = t->sb_cap ? t->sb_cap : BMEM_SOCK_MIN;
	while (cap < need && cap < t->sb_size)
		cap = cap > t->sb_size / 2 ? t->sb_size : cap * 2;
	if (cap > t->sb_size)
		cap = t->sb_size;
	if (!tcp_sb_resize(t, cap,
			   cap > BMEM_SOCK_MIN ? BMEM_GROW : BMEM_MIN) &&
	    t->sb_cap < BMEM_SOCK_MIN && cap > BMEM_SOCK_MIN)
		tcp_sb_resize(t, BMEM_SOCK_MIN, BMEM_MIN);
	if (t->sb_cap == t->sb_len && t->sb_cap < t->sb_size)
		bmem_wait(&t->b);
	return t->sb_cap - t->sb_len;
}

/*
 * tcp_sb_release() - give an empty send ring back (the next write
 * allocates again) when it is a minimum one, which comes from the heap
 * and costs a malloc() to take again, or under memory pressure; a bigger
 * one is kept for the next burst, saving its page faults. An idle
 * connection holds no send ring, as an idle Linux socket holds no skb:
 * one that had answered a request held 16 KiB of the budget and a page
 * or two of RSS each.
 */
void tcp_sb_release(struct tcb *t)
{
	if (t->sb_len || !t->sbuf)
		return;
	if (t->sb_cap > BMEM_SOCK_MIN && !bmem_pressure(t->b.st))
		return;
	bmem_free(t->b.st, t->sbuf, t->sb_cap);
	t->sbuf = NULL;
	t->sb_cap = t->sb_head = 0;
}

/* tcp_orphan_set() - the host closed @t; it finishes the close alone. */
void tcp_orphan_set(struct tcb *t)
{
	struct tcp_ctx *c = t->ctx;

	if (t->orphan)
		return;
	t->orphan = true;
	c->norphans++;
	t->orph_next = c->orphans;
	if (c->orphans)
		c->orphans->orph_pprev = &t->orph_next;
	t->orph_pprev = &c->orphans;
	c->orphans = t;
}

/* tcp_orphan_clear() - @t is no orphan any more (ended or TIME-WAIT). */
void tcp_orphan_clear(struct tcb *t)
{
	if (!t->orphan)
		return;
	t->orphan = false;
	t->ctx->norphans--;
	*t->orph_pprev = t->orph_next;
	if (t->orph_next)
		t->orph_next->orph_pprev = t->orph_pprev;
	t->orph_next = NULL;
	t->orph_pprev = NULL;
}

/**
 * tcp_mem_oom() - the budget met its hard limit: reset orphans with data
 * @st:		stack
 *
 * As Linux's tcp_check_oom(): an orphan still holding data it could not
 * deliver (a zero-window peer's, typically) is the memory nobody will
 * read, so it is reset (RST, CLOSED) and its rings go back at the reap.
 */
void tcp_mem_oom(struct bstack *st)
{
	struct tcp_ctx *c = st->tcp;
	struct tcb *t, *next;
	unsigned n = 0;

	if (!c)
		return;
	for (t = c->orphans; t; t = next) {
		next = t->orph_next;
		if (!t->sb_len)
			continue;
		tcp_send_rst(t);
		tcp_done(t);
		n++;
	}
	c->oom_resets += n;
	if (n)
		bstack_log(st, COVE_LOG_WARN,
			   "tcp: socket memory at its limit (%llu bytes): "
			   "reset %u orphans holding data",
			   (unsigned long long)st->mem.hard, n);
}

/*
 * tcb_hash_add() - put @t, whose 4-tuple is now complete, on its chain of
 * the connection hash (seeded per instance, so chains cannot be steered
 * by a peer that picks ports). The caller ensures the tuple is unique.
 */
void tcb_hash_add(struct tcb *t)
{
	struct tcp_ctx *c = t->ctx;
	struct tcb **head =
		&c->hash[tcp_hash(c, &t->laddr, t->lport, &t->raddr, t->rport)];

	t->hnext = *head;
	if (*head)
		(*head)->hpprev = &t->hnext;
	t->hpprev = head;
	*head = t;
	t->in_hash = true;
}

static void tcb_hash_del(struct tcb *t)
{
	if (!t->in_hash)
		return;
	*t->hpprev = t->hnext;
	if (t->hnext)
		t->hnext->hpprev = t->hpprev;
	t->in_hash = false;
}

/* tcb_lookup() - the tcb with exactly this 4-tuple, or NULL (no listeners). */
struct tcb *tcb_lookup(struct tcp_ctx *c, const struct in6_addr *laddr,
		       uint16_t lport, const struct in6_addr *raddr,
		       uint16_t rport)
{
	struct tcb *t = c->hash[tcp_hash(c, laddr, lport, raddr, rport)];

	for (; t; t = t->hnext)
		if (t->lport == lport && t->rport == rport &&
		    ipx_eq(&t->raddr, raddr) && ipx_eq(&t->laddr, laddr))
			return t;
	return NULL;
}

static bool tcp_state_counts(uint8_t s)
{
	return s != TCPS_CLOSED && s != TCPS_LISTEN;
}

static bool tcp_state_estab(uint8_t s)
{
	return s == TCPS_ESTABLISHED || s == TCPS_CLOSE_WAIT;
}

/**
 * tcp_set_state() - change state, keeping the context's gauges right
 * @t:		connection
 * @state:	TCPS_*
 *
 * Every state change must go through here: nconns, nestab and ntimewait
 * (the TIME-WAIT limit) are adjusted from the old and new state, never
 * recounted.
 */
void tcp_set_state(struct tcb *t, uint8_t state)
{
	struct tcp_ctx *c = t->ctx;

	if (tcp_state_counts(t->state) != tcp_state_counts(state)) {
		if (tcp_state_counts(state))
			c->nconns++;
		else
			c->nconns--;
	}
	if (tcp_state_estab(t->state) != tcp_state_estab(state)) {
		if (tcp_state_estab(state))
			c->nestab++;
		else
			c->nestab--;
	}
	if ((t->state == TCPS_TIME_WAIT) != (state == TCPS_TIME_WAIT)) {
		if (state == TCPS_TIME_WAIT)
			c->ntimewait++;
		else
			c->ntimewait--;
	}
	t->state = state;
}

/* tcp_child_unlink() - take an unaccepted child off its listener's lists. */
void tcp_child_unlink(struct tcb *t)
{
	struct tcb *l = t->parent;

	if (!l)
		return;
	*t->qpprev = t->qnext;
	if (t->qnext)
		t->qnext->qpprev = t->qpprev;
	else if (t->in_accept_q)
		l->acc_tail = t->qpprev;
	if (t->in_accept_q)
		l->acc_qlen--;
	else {
		l->syn_qlen--;
		t->ctx->nembryonic--;
	}
	t->in_accept_q = false;
	t->parent = NULL;
	t->qnext = NULL;
	t->qpprev = NULL;
}

/**
 * tcp_done() - the connection is over: CLOSED, off the tables, timers off
 * @t:	connection
 *
 * Frees the tcb later if no host handle refers to it; otherwise the host
 * sees EOF/errors and close() frees it.
 */
void tcp_done(struct tcb *t)
{
	tcp_timers_stop(t);
	tcb_hash_del(t);
	tcp_set_state(t, TCPS_CLOSED);
	t->shut = TCP_SHUT_RD | TCP_SHUT_WR;
	t->done = true;
	if (t->parent)
		tcp_child_unlink(t);
	tcp_orphan_clear(t);
	if (!t->user_bound || !t->b.host_open)
		tcb_port_del(t);
	if (t->b.host_open)
		tcp_notify(t, EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP |
				      EPOLLRDHUP);
	else
		tcp_reap_later(t);
}

/**
 * tcp_reap_later() - unlink a tcb from everything and queue it for freeing
 * @t:		connection no host handle refers to any more
 *
 * Idempotent (t->reaping). Stops its timers, takes it off the hash, its
 * port, its listener's queues, the orphan count and the held-ACK and
 * output lists, then puts it on reap_list and arms the zero-delay reap
 * timer. Its memory stays valid until tcp_reap() runs, so a caller up
 * the stack may still read @t after this returns.
 */
void tcp_reap_later(struct tcb *t)
{
	struct tcp_ctx *c = t->ctx;

	if (t->reaping)
		return;
	t->reaping = true;
	tcp_timers_stop(t);
	tcb_hash_del(t);
	tcb_port_del(t);
	if (t->parent)
		tcp_child_unlink(t);
	tcp_orphan_clear(t);
	if (t->ack_held) {
		struct tcb **pp;

		for (pp = &c->ack_list; *pp; pp = &(*pp)->acknext)
			if (*pp == t) {
				*pp = t->acknext;
				break;
			}
		t->ack_held = false;
	}
	if (t->want_out) {
		struct tcb **pp;

		for (pp = &c->out_list; *pp; pp = &(*pp)->outnext)
			if (*pp == t) {
				*pp = t->outnext;
				break;
			}
		t->want_out = false;
	}
	if (tcp_state_counts(t->state) || t->state == TCPS_LISTEN)
		tcp_set_state(t, TCPS_CLOSED);
	t->onext = c->reap_list;
	c->reap_list = t;
	timer_arm(&c->st->timers, &c->t_reap, c->st->now_ns);
}

void tcp_reap(struct tcp_ctx *c)
{
	struct tcb *t;

	while ((t = c->reap_list)) {
		c->reap_list = t->onext;
		tcb_free(t);
	}
}

void tcp_notify(struct tcb *t, uint32_t events)
{
	if (t->b.host_open)
		bstack_notify(&t->b, events);
}

/**
 * tcp_writable() - Linux's sk_stream_is_writable(): free >= queued / 2
 * @t:	connection
 *
 * Free space counts up to sb_size while the ring may still grow, else up
 * to what the ring holds now (under pressure, or at the hard limit for a
 * socket without its minimum yet). A socket found not writable for want
 * of memory joins the budget's waiters, as Linux's tcp_poll() sets
 * SOCK_NOSPACE, so it hears EPOLLOUT when memory comes back.
 *
 * Return: true when a write would be taken now.
 */
bool tcp_writable(struct tcb *t)
{
	struct bstack *st = t->b.st;
	uint32_t size = t->sb_size, free_;

	if (t->sb_cap < size) {
		if (t->sb_cap >= BMEM_SOCK_MIN ?
			    !bmem_may(st, size - t->sb_cap, BMEM_GROW) :
			    !bmem_may(st, BMEM_SOCK_MIN - t->sb_cap, BMEM_MIN))
			size = t->sb_cap;
	}
	free_ = size > t->sb_len ? size - t->sb_len : 0;
	if (free_ > 0 && free_ >= t->sb_len / 2)
		return true;
	if (size < t->sb_size)
		bmem_wait(&t->b);
	return false;
}

/**
 * tcp_poll_events() - the EPOLL bits Linux's tcp_poll() would report
 * @t:	socket
 *
 * Return: EPOLLIN/OUT/ERR/HUP/RDHUP (and the RDNORM/WRNORM twins).
 */
uint32_t tcp_poll_events(struct tcb *t)
{
	uint32_t m = 0;

	if (t->state == TCPS_LISTEN)
		return t->acc_head ? EPOLLIN | EPOLLRDNORM : 0;
	if (t->shut == (TCP_SHUT_RD | TCP_SHUT_WR) || t->state == TCPS_CLOSED)
		m |= EPOLLHUP;
	if (t->shut & TCP_SHUT_RD)
		m |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (t->state != TCPS_SYN_SENT && t->state != TCPS_SYN_RECV) {
		if (t->rb_len)
			m |= EPOLLIN | EPOLLRDNORM;
		if (!(t->shut & TCP_SHUT_WR)) {
			if (t->state == TCPS_CLOSED || tcp_writable(t))
				m |= EPOLLOUT | EPOLLWRNORM;
		} else {
			m |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	if (t->so_error)
		m |= EPOLLERR;
	return m;
}

/* --- per-connection helpers --------------------------------------------- */

/**
 * tcp_set_mss() - derive the segment sizes from the peer's MSS and our MTU
 * @t:		connection (ts_ok decided, raddr set)
 * @peer_mss:	the peer's MSS option, 0 when absent
 *
 * Our side of the limit is the link MTU minus 40 bytes of IPv4 and TCP
 * headers, or over IPv6 the path MTU (ip6_path_mtu(), which Packet Too
 * Big lowers, RFC 8201) minus 60.
 */
void tcp_set_mss(struct tcb *t, uint16_t peer_mss)
{
	struct bstack *st = t->b.st;
	uint32_t mtu = st->mtu ? st->mtu : 1500, hdrs = 40;
	uint32_t ours;

	if (tcp_v6(&t->raddr)) {
		mtu = ip6_path_mtu(st, &t->raddr);
		hdrs = 60;
	}
	ours = mtu > hdrs + 88 ? mtu - hdrs : 88;
	uint32_t m = peer_mss ? peer_mss : TCP_DEF_MSS;

	if (t->user_mss && t->user_mss < ours)
		ours = t->user_mss; /* TCP_MAXSEG */
	if (m < 88)
		m = 88;
	t->peer_mss = (uint16_t)m;
	t->smss = m < ours ? m : ours;
	t->mss = t->smss - (t->ts_ok ? 12 : 0);
}

/* tcp_wscale_for() - the smallest window scale that covers @bytes. */
uint8_t tcp_wscale_for(uint32_t bytes)
{
	uint8_t ws = 0;

	while (ws < 14 && (bytes >> ws) > 65535)
		ws++;
	return ws;
}

/**
 * tcp_init_conn() - congestion and RTT state of a new connection
 * @t:	connection whose MSS is known
 */
void tcp_init_conn(struct tcb *t)
{
	t->cwnd = TCP_IW_SEGS * t->mss;
	t->ssthresh = UINT32_MAX / 2;
	t->rto_us = TCP_RTO_INIT_US;
	t->recover = t->iss;
	t->high_rxt = t->iss;
	if (!t->rcv_mss)
		t->rcv_mss = t->mss < TCP_DEF_MSS ? t->mss : TCP_DEF_MSS;
	t->quickacks = TCP_QUICKACKS;
	t->last_rcv_ns = tcp_now(t);
	t->cc->init(t);
}

/**
 * tcp_rtt_sample() - feed one RTT measurement into SRTT/RTTVAR/RTO
 * @t:		connection
 * @rtt_us:	the sample
 *
 * RFC 6298 with Linux's floor: RTO = SRTT + max(4 * RTTVAR, 200 ms).
 */
void tcp_rtt_sample(struct tcb *t, uint32_t rtt_us)
{
	if (!rtt_us)
		rtt_us = 1;
	if (!t->min_rtt_us || rtt_us < t->min_rtt_us)
		t->min_rtt_us = rtt_us;
	if (!t->srtt_us) {
		t->srtt_us = rtt_us;
		t->rttvar_us = rtt_us / 2;
	} else {
		uint32_t d = t->srtt_us > rtt_us ? t->srtt_us - rtt_us :
						   rtt_us - t->srtt_us;

		t->rttvar_us = (3 * t->rttvar_us + d) / 4;
		t->srtt_us = (7 * (uint64_t)t->srtt_us + rtt_us) / 8;
	}
	tcp_rto_reset(t);
}

/* tcp_rto_reset() - RTO from SRTT/RTTVAR again (after a backoff). */
void tcp_rto_reset(struct tcb *t)
{
	uint32_t var = 4 * t->rttvar_us, rto;

	if (!t->srtt_us)
		return;
	if (var < TCP_RTO_MIN_US)
		var = TCP_RTO_MIN_US;
	rto = t->srtt_us + var;
	t->rto_us = rto > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : rto;
}

/*
 * Challenge ACKs (RFC 5961 sec. 7) and the side channel of CVE-2016-5696.
 *
 * A challenge ACK answers a RST or SYN in the window and an ACK outside
 * the acceptable range. Sending them costs nothing per se, but a limit
 * that only counts them stack-wide is an oracle: an off-path attacker
 * spoofs a RST to a guessed 4-tuple, then provokes challenge ACKs on its
 * own connection and counts how many of a known budget are left; one
 * missing means the guess exists. So, as Linux (since the CVE fix, 4.7):
 *
 * - per socket, one challenge ACK per TCP_CHAL_GAP_NS at most
 *   (tcb->chal_next_ns), checked first: an attacker's own connection can
 *   draw two a second, far too few to measure a shared budget with;
 * - stack-wide, a budget drawn anew each second, uniformly from
 *   [TCP_CHALLENGE_PER_S / 2, TCP_CHALLENGE_PER_S * 3 / 2): even an
 *   attacker with hundreds of connections does not know the total it
 *   would be counting against, and one ACK spent elsewhere is lost in
 *   the noise. The budget is SipHash of the second under the instance's
 *   ISN key (a message no ISN hashes: its second word has high bits set),
 *   so it needs no generator state and no other instance shares it.
 */

/**
 * tcp_challenge_budget() - the stack-wide challenge ACK budget of a second
 * @c:		TCP context (its ISN key)
 * @sec:	the second, on the stack's monotonic clock
 *
 * Return: a value in [TCP_CHALLENGE_PER_S / 2, TCP_CHALLENGE_PER_S * 3 / 2),
 * the same for the same @sec, unpredictable without the key.
 */
uint32_t tcp_challenge_budget(struct tcp_ctx *c, uint64_t sec)
{
	uint64_t h = tcp_siphash(c->isn_key, sec, 0x6368616c6c656e67ull);

	return TCP_CHALLENGE_PER_S / 2 + (uint32_t)(h % TCP_CHALLENGE_PER_S);
}

/**
 * tcp_challenge_ok() - may @t send a challenge ACK now?
 * @t:	connection about to send one
 *
 * The per-socket spacing is checked (and taken) before the global budget,
 * so a socket that is refused for spacing never spends the budget.
 *
 * Return: true if the ACK may go; the refusals are counted in the context
 * (chal_skip_sock, chal_skip_all).
 */
bool tcp_challenge_ok(struct tcb *t)
{
	struct tcp_ctx *c = t->ctx;
	uint64_t now = c->st->now_ns, sec = now / 1000000000ull;

	if (now < t->chal_next_ns) {
		c->chal_skip_sock++;
		return false;
	}
	t->chal_next_ns = now + TCP_CHAL_GAP_NS;
	if (sec != c->chal_sec) {
		c->chal_sec = sec;
		c->chal_left = tcp_challenge_budget(c, sec);
	}
	if (!c->chal_left) {
		c->chal_skip_all++;
		return false;
	}
	c->chal_left--;
	return true;
}

/**
 * tcp_socket() - a new CLOSED TCP socket for the host
 * @st:		stack
 * @domain:	AF_INET, or AF_INET6: a dual-stack socket (IPV6_V6ONLY off)
 *		whose wildcard is [::] and whose addresses are sockaddr_in6
 * @out:	the socket, host_open; on no port until bind, listen or
 *		connect puts it on one
 *
 * Return: 0, -ENOMEM, or -EPROTONOSUPPORT when TCP failed to initialise.
 */
int tcp_socket(struct bstack *st, int domain, struct bsock **out)
{
	struct tcb *t;

	if (!st->tcp)
		return -EPROTONOSUPPORT;
	t = tcb_alloc(st->tcp);
	if (!t)
		return -ENOMEM;
	if (domain == AF_INET6) {
		t->family = AF_INET6;
		t->laddr = t->raddr = in6addr_any;
	}
	t->b.host_open = true;
	*out = &t->b;
	return 0;
}
