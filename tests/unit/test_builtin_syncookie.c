// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP SYN cookies: round trips, refusals, a flood of spoofed SYNs. */
#include "tests/unit/test_builtin_raw.h"

/*
 * The raw cases play the peer 10.0.0.2 against instance A: a listener
 * with a backlog of 1 whose SYN queue is filled by one SYN that is never
 * answered (from FILL_PORT), so the SYN of PEER_PORT gets a cookie; the
 * test then checks the SYN-ACK, returns (or forges) the ACK and looks at
 * the child. The flood case runs A and B: A routes through B (its
 * gateway), 50,000 SYNs from random off-link sources are fed to A's
 * input, their SYN-ACKs go to B and die there (not B's address), and B is
 * the legitimate client.
 */

#define FILL_PORT 39000
#define LPORT	  80

/* One option combination of a peer's SYN, and what a cookie keeps of it. */
struct ccase {
	const char *name;
	uint16_t mss; /* 0: no MSS option */
	int ws;	      /* -1: no window scale option */
	bool sack, ts;
	uint16_t want_mss;
	bool want_ts, want_sack, want_ws;
};

static const struct ccase ccases[] = {
	{ "MSS only", 1460, -1, false, false, 1460, false, false, false },
	{ "no TS: WS and SACK lost", 1400, 7, true, false, 1300, false, false,
	  false },
	{ "no options at all", 0, -1, false, false, 536, false, false, false },
	{ "TS only", 1000, -1, false, true, 536, true, false, false },
	{ "TS + window scale", 1440, 7, false, true, 1440, true, false, true },
	{ "TS + window scale 0", 1452, 0, false, true, 1440, true, false,
	  true },
	{ "TS + SACK", 1460, -1, true, true, 1460, true, true, false },
	{ "all", 9000, 14, true, true, 1460, true, true, true },
};

/* syn_opt_bytes() - the options of @k's SYN into @o; returns their size. */
static unsigned syn_opt_bytes(uint8_t *o, const struct ccase *k, uint32_t tsval)
{
	unsigned n = 0;

	if (k->mss) {
		o[n++] = 2;
		o[n++] = 4;
		cove_put16(o + n, k->mss);
		n += 2;
	}
	if (k->sack) {
		o[n++] = 4;
		o[n++] = 2;
	}
	if (k->ts) {
		o[n++] = 8;
		o[n++] = 10;
		cove_put32(o + n, tsval);
		cove_put32(o + n + 4, 0);
		n += 8;
	}
	if (k->ws >= 0) {
		o[n++] = 1;
		o[n++] = 3;
		o[n++] = 3;
		o[n++] = (uint8_t)k->ws;
	}
	while (n & 3)
		o[n++] = 1;
	return n;
}

/* ts_opt_bytes() - NOP, NOP, timestamps into @o; returns 12. */
static unsigned ts_opt_bytes(uint8_t *o, uint32_t tsval, uint32_t tsecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	cove_put32(o + 4, tsval);
	cove_put32(o + 8, tsecr);
	return 12;
}

static struct tcb *tcb_sock(struct cove_sock *s)
{
	return tcb_of((struct bsock *)(void *)s);
}

/* cookie_fill() - one SYN that is never answered: the SYN queue is full. */
static void cookie_fill(struct raw *r, uint16_t port)
{
	static const uint8_t mss[] = { 2, 4, 0x05, 0xb4 };
	struct rseg g;

	raw_send_full(r, port, LPORT, TH_SYN, 7000000, 0, mss, sizeof(mss),
		      NULL, 0, false);
	REQUIRE(raw_recv(r, &g));
	CHECK(g.flags == (TH_SYN | TH_ACK) && g.dport == port);
	raw_drain(r);
}

/* cookie_up() - raw set-up, a listener with backlog 1, its queue full. */
static struct cove_sock *cookie_up(struct raw *r)
{
	struct cove_sock *l;

	raw_up(r);
	l = tlisten(&r->net.a, LPORT, 1);
	cookie_fill(r, FILL_PORT);
	CHECK(tcb_sock(l)->syn_qlen == 1);
	return l;
}

/**
 * cookie_syn() - send @k's SYN from PEER_PORT; the SYN-ACK must be a cookie
 * @r:	set-up (r->seq: our ISS; advanced past the SYN)
 * @k:	the options
 * @g:	the SYN-ACK
 *
 * Checks that no tcb was made and that the SYN-ACK announces what the
 * cookie can carry: timestamps only if the SYN had them, SACK and window
 * scale only with timestamps, and in the TSval's low 6 bits the window
 * scale (15: none) and SACK bit (Linux's layout).
 */
static void cookie_syn(struct raw *r, const struct ccase *k, struct rseg *g)
{
	struct tcp_ctx *c = raw_ctx(r);
	uint64_t sent = c->syncookies_sent;
	uint32_t ntcb = c->ntcb, bits;
	uint8_t o[40];
	unsigned n = syn_opt_bytes(o, k, 1);

	raw_send_full(r, PEER_PORT, LPORT, TH_SYN, r->seq, 0, o, n, NULL, 0,
		      false);
	r->seq++;
	REQUIRE(raw_recv(r, g));
	CHECK(g->flags == (TH_SYN | TH_ACK) && g->dport == PEER_PORT);
	CHECK(g->ack == r->seq);
	CHECK(c->syncookies_sent == sent + 1);
	CHECK(c->ntcb == ntcb); /* no state for a cookie SYN */
	CHECK(g->opt.has_mss && g->opt.mss == 1460);
	CHECK(g->opt.has_ts == k->ts);
	CHECK(g->opt.sack_ok == (k->ts && k->sack));
	CHECK(g->opt.has_ws == (k->ts && k->ws >= 0));
	if (k->ts) {
		bits = (k->ws >= 0 ? (uint32_t)k->ws : 15u) |
		       (k->sack ? 16u : 0);
		CHECK((g->opt.tsval & 63) == bits);
		CHECK(g->opt.tsecr == 1);
	}
	r->ack = g->seq + 1;
}

/*
 * cookie_ack() - the ACK of a cookie SYN-ACK @g (with @data), echoing its
 * timestamp when @ts.
 */
static void cookie_ack(struct raw *r, const struct rseg *g, bool ts,
		       const char *data)
{
	uint8_t o[12];
	unsigned n = ts ? ts_opt_bytes(o, 2, g->opt.tsval) : 0;
	uint32_t len = data ? (uint32_t)strlen(data) : 0;

	raw_send_full(r, PEER_PORT, LPORT, TH_ACK | (len ? TH_PSH : 0), r->seq,
		      r->ack, o, n, data, len, false);
	r->seq += len;
}

/* cookie_refused() - the last ACK was refused: a RST, no child, counted. */
static void cookie_refused(struct raw *r, struct cove_sock *l, uint32_t ack,
			   uint64_t failed)
{
	struct rseg g;

	REQUIRE(raw_recv(r, &g));
	CHECK(g.flags == TH_RST && g.seq == ack);
	CHECK(tcb_sock(l)->acc_qlen == 0);
	CHECK(raw_ctx(r)->syncookies_failed == failed);
	CHECK(taccept(&r->net.a, l) == NULL);
}

/*
 * cookie_child_check() - the accepted child @t kept exactly what @k's
 * cookie can carry.
 */
static void cookie_child_check(const struct ccase *k, struct tcb *t)
{
	CHECK(t->peer_mss == k->want_mss);
	CHECK(t->ts_ok == k->want_ts);
	CHECK(t->sack_ok == k->want_sack);
	CHECK(t->ws_ok == k->want_ws);
	CHECK(t->snd_ws == (k->want_ws ? (uint8_t)k->ws : 0));
	CHECK(t->rcv_ws == (k->want_ws ? tcp_wscale_for(t->rb_max) : 0));
	CHECK(t->from_cookie);
	if (!k->want_ws)
		CHECK(t->rcv_ws == 0 && t->snd_ws == 0);
}

/*
 * One combination: SYN, cookie SYN-ACK, ACK carrying "ping", the child in
 * the accept queue with exactly those options, data both ways.
 */
static void cookie_round_trip(const struct ccase *k)
{
	struct cove_sock *l, *s;
	struct raw r;
	struct rseg g, d;
	char buf[16];
	uint32_t synack_ts;

	l = cookie_up(&r);
	cookie_syn(&r, k, &g);
	synack_ts = g.opt.tsval;
	cookie_ack(&r, &g, k->ts, "ping");
	CHECK(raw_ctx(&r)->syncookies_recv == 1);
	CHECK(raw_ctx(&r)->syncookies_failed == 0);
	s = taccept(&r.net.a, l);
	REQUIRE(s);
	CHECK(tstate(s) == TCPS_ESTABLISHED);
	cookie_child_check(k, tcb_sock(s));
	CHECK(trecv(s, buf, sizeof(buf), 0) == 4 && !memcmp(buf, "ping", 4));
	REQUIRE(raw_recv(&r, &d)); /* the data's ACK */
	CHECK(d.flags == TH_ACK && d.ack == r.seq && d.seq == r.ack);
	CHECK(d.opt.has_ts == k->want_ts);
	if (k->want_ts) {
		/* the cookie's TSval never runs ahead of the clock */
		CHECK(seq_ge(d.opt.tsval, synack_ts));
		CHECK(d.opt.tsecr == 2);
	}
	CHECK(tsend(s, "pong", 4) == 4);
	REQUIRE(raw_recv(&r, &d));
	CHECK(d.len == 4 && !memcmp(d.data, "pong", 4) && d.seq == r.ack);
	r.ack += 4;
	cookie_ack(&r, &g, k->ts, NULL);
	CHECK(!raw_recv(&r, &d));
	raw_down(&r);
}

/* Every option combination of the peer's SYN, through a cookie. */
static void test_cookie_round_trips(void)
{
	unsigned i;
	int before;

	for (i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		before = check_failures;
		cookie_round_trip(&ccases[i]);
		if (check_failures != before)
			fprintf(stderr, "  case failed: %s\n", ccases[i].name);
	}
}

/*
 * A cookie lives while the counter (64 s steps) has moved by at most one:
 * returned one step later it is good; two steps later it is refused with
 * a RST, even while the listener still sends cookies (so ACKs are
 * checked).
 */
static void test_cookie_stale(void)
{
	const struct ccase *k = &ccases[7];
	struct cove_sock *l, *s;
	struct raw r;
	struct rseg g, g2;

	l = cookie_up(&r);
	cookie_syn(&r, k, &g);
	tnet_now += TCP_COOKIE_PERIOD_NS;
	raw_drain(&r);
	cookie_ack(&r, &g, true, NULL);
	s = taccept(&r.net.a, l);
	CHECK(s && tstate(s) == TCPS_ESTABLISHED);
	raw_down(&r);

	l = cookie_up(&r);
	cookie_syn(&r, k, &g);
	raw_advance(&r, 2 * TCP_COOKIE_PERIOD_NS / 1000000);
	raw_arp(&r); /* A's entry for us timed out meanwhile */
	if (!tcb_sock(l)->syn_qlen)
		cookie_fill(&r, FILL_PORT + 1); /* the first one timed out */
	/* another peer port's SYN: a cookie again, so ACKs are checked */
	raw_send_full(&r, PEER_PORT + 1, LPORT, TH_SYN, 5000, 0, NULL, 0, NULL,
		      0, false);
	REQUIRE(raw_recv(&r, &g2));
	CHECK(raw_ctx(&r)->syncookies_sent == 2);
	cookie_ack(&r, &g, true, NULL);
	cookie_refused(&r, l, g.seq + 1, 1);
	raw_down(&r);
}

/* Forged cookies (wrong hash, wrong counter bits) are refused with a RST. */
static void test_cookie_forged(void)
{
	const struct ccase *k = &ccases[7];
	struct cove_sock *l, *s;
	struct raw r;
	struct rseg g;
	uint32_t good;

	l = cookie_up(&r);
	cookie_syn(&r, k, &g);
	good = r.ack;
	r.ack = good ^ 0x100; /* a bit of the hash */
	cookie_ack(&r, &g, true, NULL);
	cookie_refused(&r, l, r.ack, 1);
	r.ack = good + (5u << 24); /* the counter five steps off */
	cookie_ack(&r, &g, true, NULL);
	cookie_refused(&r, l, r.ack, 2);
	r.ack = good + 1; /* the MSS index one past */
	cookie_ack(&r, &g, true, NULL);
	cookie_refused(&r, l, r.ack, 3);
	r.ack = 0x12345678; /* a blind guess */
	cookie_ack(&r, &g, true, NULL);
	cookie_refused(&r, l, r.ack, 4);
	/* the real one still works */
	r.ack = good;
	cookie_ack(&r, &g, true, NULL);
	s = taccept(&r.net.a, l);
	CHECK(s && tstate(s) == TCPS_ESTABLISHED);
	CHECK(raw_ctx(&r)->syncookies_recv == 1);
	raw_down(&r);
}

/*
 * A cookie is bound to its 4-tuple and the peer's ISS: returned from
 * another port, another address or with another sequence number it is
 * refused. (The ISS is added into the cookie, not hashed, as in Linux: a
 * sequence number off by less than the MSS index would pass with another
 * index, but only a peer that saw the SYN-ACK knows the cookie to try.)
 */
static void test_cookie_wrong_tuple(void)
{
	const struct ccase *k = &ccases[0];
	struct cove_sock *l, *s;
	struct raw r;
	struct rseg g;
	uint8_t b[1600];
	struct rbuild x;

	l = cookie_up(&r);
	cookie_syn(&r, k, &g);
	raw_send_full(&r, PEER_PORT + 1, LPORT, TH_ACK, r.seq, r.ack, NULL, 0,
		      NULL, 0, false);
	cookie_refused(&r, l, r.ack, 1);
	raw_send_full(&r, PEER_PORT, LPORT, TH_ACK, r.seq + 1000, r.ack, NULL,
		      0, NULL, 0, false);
	cookie_refused(&r, l, r.ack, 2);
	/* from 10.0.0.3 (A asks for its MAC first: the RST waits for ARP) */
	memset(&x, 0, sizeof(x));
	x.src = tip("10.0.0.3");
	x.dst = tip("10.0.0.1");
	x.sport = PEER_PORT;
	x.dport = LPORT;
	x.seq = r.seq;
	x.ack = r.ack;
	x.flags = TH_ACK;
	raw_inject(&r, b,
		   raw_build(b, ((struct bstack *)(void *)r.net.a.st)->mac,
			     r.peer_mac, &x));
	CHECK(raw_ctx(&r)->syncookies_failed == 3);
	CHECK(tcb_sock(l)->acc_qlen == 0);
	raw_drain(&r);
	/* the right tuple */
	cookie_ack(&r, &g, false, NULL);
	s = taccept(&r.net.a, l);
	CHECK(s && tstate(s) == TCPS_ESTABLISHED);
	raw_down(&r);
}

/*
 * Without a cookie sent in the last two steps, an ACK to a listener is
 * not even checked: a RST, as before, and nothing counted as failed.
 */
static void test_cookie_none_out(void)
{
	struct cove_sock *l;
	struct raw r;
	struct rseg g;

	raw_up(&r);
	l = tlisten(&r.net.a, LPORT, 4);
	raw_send_full(&r, PEER_PORT, LPORT, TH_ACK, 1, 2, NULL, 0, NULL, 0,
		      false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == TH_RST && g.seq == 2);
	CHECK(raw_ctx(&r)->syncookies_failed == 0);
	CHECK(tcb_sock(l)->acc_qlen == 0);
	raw_down(&r);

	l = cookie_up(&r);
	cookie_syn(&r, &ccases[0], &g);
	raw_advance(&r, 2 * TCP_COOKIE_PERIOD_NS / 1000000 + 1000);
	raw_arp(&r);
	cookie_ack(&r, &g, false, NULL);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == TH_RST);
	CHECK(raw_ctx(&r)->syncookies_failed == 0);
	CHECK(taccept(&r.net.a, l) == NULL);
	raw_down(&r);
}

/*
 * A full accept queue drops SYNs (no cookie either, as Linux). A valid
 * cookie whose ACK finds the accept queue full waits in SYN-RECV and
 * resends its SYN-ACK (the cookie, with the options it recovered); the
 * ACK that answers it once there is room completes the connection.
 */
static void test_cookie_accept_full(void)
{
	const struct ccase *k = &ccases[7];
	struct cove_sock *l, *s, *f;
	struct raw r;
	struct rseg g, a;
	uint64_t drops;

	l = cookie_up(&r);
	cookie_syn(&r, k, &g);
	/* the filler completes: the accept queue (1) is full */
	raw_send_full(&r, FILL_PORT, LPORT, TH_ACK, 7000001,
		      tcb_sock(l)->syn_head->iss + 1, NULL, 0, NULL, 0, false);
	CHECK(tcb_sock(l)->acc_qlen == 1 && tcb_sock(l)->syn_qlen == 0);
	/* a SYN now is dropped, cookie or not */
	drops = raw_ctx(&r)->listen_drops;
	raw_send_full(&r, PEER_PORT + 5, LPORT, TH_SYN, 1, 0, NULL, 0, NULL, 0,
		      false);
	CHECK(!raw_recv(&r, &a));
	CHECK(raw_ctx(&r)->listen_drops == drops + 1);
	CHECK(raw_ctx(&r)->syncookies_sent == 1);
	/* the cookie's ACK: valid, no room, so the child waits */
	cookie_ack(&r, &g, true, NULL);
	CHECK(!raw_recv(&r, &a)); /* no RST */
	CHECK(raw_ctx(&r)->syncookies_recv == 1);
	CHECK(tcb_sock(l)->syn_qlen == 1 && tcb_sock(l)->acc_qlen == 1);
	raw_advance(&r, 1100);
	REQUIRE(raw_recv(&r, &a)); /* the SYN-ACK again */
	CHECK(a.flags == (TH_SYN | TH_ACK) && a.seq == g.seq &&
	      a.ack == r.seq && a.dport == PEER_PORT);
	CHECK(a.opt.has_ts && a.opt.sack_ok && a.opt.has_ws);
	f = taccept(&r.net.a, l);
	CHECK(f != NULL);
	raw_drain(&r);
	cookie_ack(&r, &a, true, "late");
	s = taccept(&r.net.a, l);
	REQUIRE(s);
	CHECK(tstate(s) == TCPS_ESTABLISHED);
	cookie_child_check(k, tcb_sock(s));
	{
		char buf[8];

		CHECK(trecv(s, buf, sizeof(buf), 0) == 4 &&
		      !memcmp(buf, "late", 4));
	}
	raw_down(&r);
}

/* --- the flood ------------------------------------------------------------ */

#define FLOOD_SYNS    50000u
#define FLOOD_BACKLOG 128
#define FLOOD_BURST   32u

/* flood_rand() - the test's own xorshift64 (spoofed addresses, ports). */
static uint64_t flood_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* flood_src() - a random unicast address off A's link (not 10/8, 127/8). */
static uint32_t flood_src(uint64_t *x)
{
	uint32_t a;

	do {
		a = (uint32_t)flood_rand(x);
	} while ((a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
		 (a >> 24) >= 224);
	return htonl(a);
}

/**
 * flood_burst() - @n spoofed SYNs into A's input at once, then a pump
 * @net:	A (attacked, gateway B) and B
 * @x:		generator state
 * @n:		SYNs
 *
 * Each SYN carries what Linux sends (MSS, SACK-permitted, timestamps,
 * window scale) from a random source and port; A's answers go to B.
 */
static void flood_burst(struct tnet *net, uint64_t *x, unsigned n)
{
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
					0, 9, 0,    0,	  0, 0, 1, 3,  3, 7 };
	const uint8_t *amac = ((struct bstack *)(void *)net->a.st)->mac;
	struct cove_frame *f[FLOOD_BURST];
	struct rbuild b;
	unsigned i;

	memset(&b, 0, sizeof(b));
	b.dst = tip("10.0.0.1");
	b.dport = LPORT;
	b.flags = TH_SYN;
	b.opt = opts;
	b.optlen = sizeof(opts);
	for (i = 0; i < n; i++) {
		f[i] = cove_frame_alloc(&net->a.pool);
		REQUIRE(f[i]);
		b.src = flood_src(x);
		b.sport = (uint16_t)(1024 + flood_rand(x) % 64000);
		b.seq = (uint32_t)flood_rand(x);
		f[i]->len = raw_build(f[i]->data, amac, net->b.link->mac, &b);
	}
	tops->input(net->a.st, f, n);
	tnet_pump(net);
}

/* One legitimate connection from B: accepted on A, data both ways. */
struct flood_conn {
	struct cove_sock *l, *c, *s;
	struct tflow up, down;
};

static bool flood_step_accept(struct tnet *net, void *ctx)
{
	struct flood_conn *p = ctx;

	if (!p->s)
		p->s = taccept(&net->a, p->l);
	return p->s && (tops->events(p->c) & EPOLLOUT);
}

static bool flood_step_data(struct tnet *net, void *ctx)
{
	struct flood_conn *p = ctx;

	(void)net;
	tflow_step(&p->up);
	tflow_step(&p->down);
	return p->up.eof && p->down.eof;
}

/* flood_exchange() - 256 KiB each way over @p, checked byte for byte. */
static void flood_exchange(struct tnet *net, struct flood_conn *p)
{
	REQUIRE(p->s);
	memset(&p->up, 0, sizeof(p->up));
	memset(&p->down, 0, sizeof(p->down));
	p->up = (struct tflow){ .tx = p->c, .rx = p->s, .total = 256 << 10 };
	p->down = (struct tflow){
		.tx = p->s, .rx = p->c, .total = 256 << 10, .dir = 1
	};
	CHECK(tnet_loop(net, flood_step_data, p, 30000));
	CHECK(p->up.got == p->up.total && !p->up.bad);
	CHECK(p->down.got == p->down.total && !p->down.bad);
}

/*
 * 50,000 spoofed SYNs from random sources that never answer: A's SYN
 * queue fills (backlog 128) and stays full, every other SYN gets a
 * cookie and costs no memory; a client that connects in the middle of the
 * flood and one that connects after it both get through (by cookie, with
 * timestamps, SACK and window scale recovered) and move data both ways.
 */
static void test_cookie_flood(void)
{
	const struct topts o = { .gateway = "10.0.0.2" };
	struct flood_conn mid, late;
	struct tcp_ctx *c;
	struct tnet net;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned i, n;

	tnet_up(&net, &o);
	c = tctx(&net.a);
	memset(&mid, 0, sizeof(mid));
	memset(&late, 0, sizeof(late));
	mid.l = late.l = tlisten(&net.a, LPORT, FLOOD_BACKLOG);
	/* B's ARP request: A knows its gateway's MAC before the flood */
	(void)tconnect(&net.b, "10.0.0.1", 9);
	tadvance(&net, 100);
	for (i = 0; i < FLOOD_SYNS; i += n) {
		n = FLOOD_SYNS - i < FLOOD_BURST ? FLOOD_SYNS - i : FLOOD_BURST;
		if (!mid.c && i >= FLOOD_SYNS / 2)
			mid.c = tconnect(&net.b, "10.0.0.1", LPORT);
		flood_burst(&net, &x, n);
		if (!mid.s && mid.c)
			mid.s = taccept(&net.a, mid.l);
	}
	CHECK(tcb_sock(mid.l)->syn_qlen == FLOOD_BACKLOG);
	CHECK(c->syncookies_sent >= FLOOD_SYNS - FLOOD_BACKLOG &&
	      c->syncookies_sent <= FLOOD_SYNS + 1);
	CHECK(c->ntcb <= FLOOD_BACKLOG + 2); /* listener, queue, mid */
	CHECK(c->listen_drops == 0);
	REQUIRE(tnet_loop(&net, flood_step_accept, &mid, 10000));
	CHECK(tcb_sock(mid.s)->from_cookie);
	CHECK(tcb_sock(mid.s)->ts_ok && tcb_sock(mid.s)->sack_ok &&
	      tcb_sock(mid.s)->ws_ok);
	flood_exchange(&net, &mid);
	/* after the flood, the queue still full of spoofed children */
	CHECK(tcb_sock(mid.l)->syn_qlen == FLOOD_BACKLOG);
	late.c = tconnect(&net.b, "10.0.0.1", LPORT);
	REQUIRE(tnet_loop(&net, flood_step_accept, &late, 10000));
	CHECK(tcb_sock(late.s)->from_cookie);
	flood_exchange(&net, &late);
	CHECK(c->syncookies_recv == 2 && c->syncookies_failed == 0);
	fprintf(stderr, "  flood: %llu cookies sent, %u in the SYN queue\n",
		(unsigned long long)c->syncookies_sent,
		tcb_sock(mid.l)->syn_qlen);
	tnet_down(&net);
}

int main(void)
{
	RUN(test_cookie_round_trips);
	RUN(test_cookie_stale);
	RUN(test_cookie_forged);
	RUN(test_cookie_wrong_tuple);
	RUN(test_cookie_none_out);
	RUN(test_cookie_accept_full);
	RUN(test_cookie_flood);
	return check_summary();
}
