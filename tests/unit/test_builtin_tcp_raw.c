// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP against crafted segments: every state, bad input, RFC 5961. */
#include "tests/unit/test_builtin_raw.h"

static const uint8_t syn_opts[] = {
	2, 4, 0x05, 0xb4,			  /* MSS 1460 */
	4, 2, 8,    10,	  0, 0, 0, 1, 0, 0, 0, 0, /* SACK-perm, TS 1 */
	1, 3, 3,    7,				  /* NOP, WS 7 */
};

/* raw_accept() - passive open on A:@port; returns the accepted socket. */
static struct cove_sock *raw_accept(struct raw *r, uint16_t port,
				    struct cove_sock **lp)
{
	struct cove_sock *l = tlisten(&r->net.a, port, 4), *s;
	struct rseg g;

	raw_send_full(r, PEER_PORT, port, TH_SYN, r->seq, 0, syn_opts,
		      sizeof(syn_opts), NULL, 0, false);
	r->seq++;
	REQUIRE(raw_recv(r, &g));
	CHECK(g.flags == (TH_SYN | TH_ACK));
	CHECK(g.ack == r->seq);
	CHECK(g.opt.has_mss && g.opt.mss == 1460);
	CHECK(g.opt.sack_ok && g.opt.has_ts && g.opt.has_ws);
	CHECK(g.opt.tsecr == 1);
	r->ack = g.seq + 1;
	raw_send(r, port, TH_ACK, NULL, 0);
	s = taccept(&r->net.a, l);
	REQUIRE(s);
	CHECK(tstate(s) == TCPS_ESTABLISHED);
	if (lp)
		*lp = l;
	return s;
}

/* Passive open, data in and out, out-of-window data and ACKs. */
static void test_raw_passive_data(void)
{
	struct raw r;
	struct cove_sock *s;
	struct rseg g;
	char buf[64];

	raw_up(&r);
	s = raw_accept(&r, 80, NULL);
	raw_send(&r, 80, TH_ACK | TH_PSH, "hello", 5);
	REQUIRE(raw_recv(&r, &g)); /* quick ACK at the start */
	CHECK(g.ack == r.seq && g.flags == TH_ACK);
	CHECK(trecv(s, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "hello", 5));
	/* a duplicate: ACKed with a D-SACK (RFC 2883), not delivered again */
	raw_send_full(&r, PEER_PORT, 80, TH_ACK, r.seq - 5, r.ack, NULL, 0,
		      "hello", 5, false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.ack == r.seq && g.opt.nsack == 1);
	CHECK(g.opt.sack[0].start == r.seq - 5 && g.opt.sack[0].end == r.seq);
	CHECK(trecv(s, buf, sizeof(buf), 0) == -EAGAIN);
	/* far beyond the window: ACK, nothing queued; the D-SACK went once */
	raw_send_full(&r, PEER_PORT, 80, TH_ACK, r.seq + 10000000, r.ack, NULL,
		      0, "zz", 2, false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.ack == r.seq && g.opt.nsack == 0);
	/* overlapping old and new bytes: the old part is the D-SACK */
	raw_send_full(&r, PEER_PORT, 80, TH_ACK, r.seq - 2, r.ack, NULL, 0,
		      "lo!", 3, false);
	r.seq += 1;
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.ack == r.seq && g.opt.nsack == 1);
	CHECK(g.opt.sack[0].start == r.seq - 3 &&
	      g.opt.sack[0].end == r.seq - 1);
	CHECK(trecv(s, buf, sizeof(buf), 0) == 1 && buf[0] == '!');
	/* an ACK for data never sent: ACK back, dropped */
	raw_send_full(&r, PEER_PORT, 80, TH_ACK, r.seq, r.ack + 5000, NULL, 0,
		      NULL, 0, false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.seq == r.ack);
	/* out of order, then the hole: SACK, then everything */
	raw_send_full(&r, PEER_PORT, 80, TH_ACK, r.seq + 3, r.ack, NULL, 0,
		      "def", 3, false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.ack == r.seq && g.opt.nsack == 1);
	CHECK(g.opt.sack[0].start == r.seq + 3 &&
	      g.opt.sack[0].end == r.seq + 6);
	raw_send(&r, 80, TH_ACK, "abc", 3);
	r.seq += 3;
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.ack == r.seq && g.opt.nsack == 0);
	CHECK(trecv(s, buf, sizeof(buf), 0) == 6 && !memcmp(buf, "abcdef", 6));
	/* data from A */
	CHECK(tsend(s, "world", 5) == 5);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.len == 5 && !memcmp(g.data, "world", 5) && g.seq == r.ack);
	r.ack += 5;
	raw_send(&r, 80, TH_ACK, NULL, 0);
	/* bad checksum: dropped silently */
	raw_send_full(&r, PEER_PORT, 80, TH_ACK, r.seq, r.ack, NULL, 0, "x", 1,
		      true);
	CHECK(!raw_recv(&r, &g));
	CHECK(tstats(&r.net.a).rx_bad_csum == 1);
	CHECK(trecv(s, buf, sizeof(buf), 0) == -EAGAIN);
	raw_down(&r);
}

/* RFC 5961: RST and SYN checks, with challenge ACKs. */
static void test_raw_rst_syn(void)
{
	struct raw r;
	struct cove_sock *s;
	struct rseg g;
	char buf[8];
	uint64_t chal;

	raw_up(&r);
	s = raw_accept(&r, 80, NULL);
	chal = tstats(&r.net.a).tcp_challenge_acks;
	/* RST in the window but not at rcv_nxt: challenge ACK */
	raw_send_full(&r, PEER_PORT, 80, TH_RST, r.seq + 100, 0, NULL, 0, NULL,
		      0, false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == TH_ACK && g.ack == r.seq);
	CHECK(tstats(&r.net.a).tcp_challenge_acks == chal + 1);
	CHECK(tstate(s) == TCPS_ESTABLISHED);
	/* RST outside the window: silently dropped */
	raw_send_full(&r, PEER_PORT, 80, TH_RST, r.seq - 100000, 0, NULL, 0,
		      NULL, 0, false);
	CHECK(!raw_recv(&r, &g));
	/* a second in-window RST at once: the socket's spacing holds it */
	raw_send_full(&r, PEER_PORT, 80, TH_RST, r.seq + 100, 0, NULL, 0, NULL,
		      0, false);
	CHECK(!raw_recv(&r, &g));
	CHECK(tstats(&r.net.a).tcp_challenge_acks == chal + 1);
	tnet_now += TCP_CHAL_GAP_NS;
	/* SYN on an established connection: challenge ACK */
	raw_send_full(&r, PEER_PORT, 80, TH_SYN, r.seq + 7, 0, syn_opts,
		      sizeof(syn_opts), NULL, 0, false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == TH_ACK && g.ack == r.seq);
	CHECK(tstate(s) == TCPS_ESTABLISHED);
	/* the exact RST resets */
	raw_send_full(&r, PEER_PORT, 80, TH_RST, r.seq, 0, NULL, 0, NULL, 0,
		      false);
	CHECK(!raw_recv(&r, &g));
	CHECK(tstate(s) == TCPS_CLOSED);
	CHECK(trecv(s, buf, sizeof(buf), 0) == -ECONNRESET);
	CHECK(tsend(s, "x", 1) == -EPIPE);
	raw_down(&r);
}

/* raw_count_to() - drain A's output; how many segments went to @dport. */
static unsigned raw_count_to(struct raw *r, uint16_t dport)
{
	struct rseg g;
	unsigned n = 0;

	while (raw_recv(r, &g))
		n += g.dport == dport;
	return n;
}

/*
 * Challenge ACKs are limited per socket (CVE-2016-5696): a connection
 * that provokes a hundred at one instant gets one, and another
 * connection's challenge ACK at that instant still goes. ACKs outside
 * RFC 5961's range (unsent data, older than the largest window) take the
 * same limited path and are dropped with their data.
 */
static void test_raw_challenge_per_socket(void)
{
	struct raw r;
	struct cove_sock *a, *b, *lb;
	uint32_t seq_b = 5000000, ack_b;
	uint64_t chal, skip;
	struct rseg g;
	char buf[8];
	unsigned i;

	raw_up(&r);
	a = raw_accept(&r, 80, NULL);
	lb = tlisten(&r.net.a, 81, 4);
	raw_send_full(&r, PEER_PORT + 1, 81, TH_SYN, seq_b++, 0, syn_opts,
		      sizeof(syn_opts), NULL, 0, false);
	REQUIRE(raw_recv(&r, &g));
	REQUIRE(g.flags == (TH_SYN | TH_ACK));
	ack_b = g.seq + 1;
	raw_send_full(&r, PEER_PORT + 1, 81, TH_ACK, seq_b, ack_b, NULL, 0,
		      NULL, 0, false);
	b = taccept(&r.net.a, lb);
	REQUIRE(b);
	raw_drain(&r);

	chal = tstats(&r.net.a).tcp_challenge_acks;
	skip = raw_ctx(&r)->chal_skip_sock;
	for (i = 0; i < 100; i++)
		raw_send_full(&r, PEER_PORT, 80, TH_RST, r.seq + 1 + i, 0, NULL,
			      0, NULL, 0, false);
	CHECK(raw_count_to(&r, PEER_PORT) == 1);
	CHECK(raw_ctx(&r)->chal_skip_sock == skip + 99);
	/* the other connection, same instant: its own budget is whole */
	raw_send_full(&r, PEER_PORT + 1, 81, TH_RST, seq_b + 50, 0, NULL, 0,
		      NULL, 0, false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.dport == PEER_PORT + 1 && g.flags == TH_ACK && g.ack == seq_b);
	CHECK(tstats(&r.net.a).tcp_challenge_acks == chal + 2);

	/* an ACK of unsent data: dropped; answered only outside the gap */
	raw_send_full(&r, PEER_PORT, 80, TH_ACK | TH_PSH, r.seq, r.ack + 5000,
		      NULL, 0, "evil", 4, false);
	CHECK(raw_count_to(&r, PEER_PORT) == 0);
	tnet_now += TCP_CHAL_GAP_NS;
	raw_send_full(&r, PEER_PORT, 80, TH_ACK | TH_PSH, r.seq, r.ack + 5000,
		      NULL, 0, "evil", 4, false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == TH_ACK && g.seq == r.ack && g.ack == r.seq);
	/* an ACK older than any window the peer offered: the same */
	tnet_now += TCP_CHAL_GAP_NS;
	raw_send_full(&r, PEER_PORT, 80, TH_ACK | TH_PSH, r.seq,
		      r.ack - (1u << 30), NULL, 0, "evil", 4, false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == TH_ACK && g.ack == r.seq);
	CHECK(trecv(a, buf, sizeof(buf), 0) == -EAGAIN);
	CHECK(tstats(&r.net.a).tcp_challenge_acks == chal + 4);
	/* and the real stream goes on */
	raw_send(&r, 80, TH_ACK | TH_PSH, "ok", 2);
	CHECK(trecv(a, buf, sizeof(buf), 0) == 2 && !memcmp(buf, "ok", 2));
	CHECK(tstate(a) == TCPS_ESTABLISHED && tstate(b) == TCPS_ESTABLISHED);
	raw_down(&r);
}

/*
 * The stack-wide budget is drawn anew each second from [500, 1500) and
 * enforced exactly: as many sockets as the budget get a challenge ACK in
 * that second, the next one (a real connection too) does not, and the
 * budgets of 20 seconds differ.
 */
static void test_raw_challenge_budget(void)
{
	static struct tcb fake; /* only ctx and chal_next_ns are read */
	uint32_t lo = UINT32_MAX, hi = 0, budget, n;
	struct tcp_ctx *c;
	struct cove_sock *s;
	struct raw r;
	uint64_t sec, skip;
	unsigned k;

	raw_up(&r);
	s = raw_accept(&r, 80, NULL);
	raw_drain(&r);
	c = raw_ctx(&r);
	memset(&fake, 0, sizeof(fake));
	fake.ctx = c;
	for (k = 0; k < 20; k++) {
		sec = tnet_now / 1000000000ull + 1;
		tnet_now = sec * 1000000000ull;
		tops->run(r.net.a.st, tnet_now);
		raw_drain(&r);
		budget = tcp_challenge_budget(c, sec);
		CHECK(budget >= TCP_CHALLENGE_PER_S / 2 &&
		      budget < TCP_CHALLENGE_PER_S * 3 / 2);
		CHECK(budget == tcp_challenge_budget(c, sec));
		for (n = 0; n < 2 * TCP_CHALLENGE_PER_S; n++) {
			fake.chal_next_ns = 0; /* another socket each time */
			if (!tcp_challenge_ok(&fake))
				break;
		}
		CHECK(n == budget);
		lo = budget < lo ? budget : lo;
		hi = budget > hi ? budget : hi;
	}
	CHECK(hi - lo >= 100);
	/* the budget is spent: a real connection's challenge goes unsent */
	skip = c->chal_skip_all;
	raw_send_full(&r, PEER_PORT, 80, TH_RST, r.seq + 100, 0, NULL, 0, NULL,
		      0, false);
	CHECK(raw_count_to(&r, PEER_PORT) == 0);
	CHECK(c->chal_skip_all == skip + 1);
	/* the next second it goes again */
	tnet_now = (tnet_now / 1000000000ull + 1) * 1000000000ull;
	raw_send_full(&r, PEER_PORT, 80, TH_RST, r.seq + 100, 0, NULL, 0, NULL,
		      0, false);
	CHECK(raw_count_to(&r, PEER_PORT) == 1);
	CHECK(tstate(s) == TCPS_ESTABLISHED);
	raw_down(&r);
}

/* Malformed headers and options never crash or leak. */
static void test_raw_malformed(void)
{
	static const uint8_t bad_opts[][8] = {
		{ 2, 0, 0, 0 },		     /* length 0 */
		{ 2, 1, 0, 0 },		     /* length 1 */
		{ 1, 1, 8, 40, 0, 0, 0, 0 }, /* runs past the end */
		{ 2, 3, 5, 0 },		     /* wrong MSS size */
		{ 5, 9, 0, 0, 0, 0, 0, 0 },  /* SACK, odd size */
		{ 3 },			     /* kind only */
	};
	struct raw r;
	struct cove_sock *l;
	struct rseg g;
	uint8_t frame[64];
	unsigned i;

	raw_up(&r);
	l = tlisten(&r.net.a, 80, 16);
	for (i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); i++) {
		raw_send_full(&r, (uint16_t)(PEER_PORT + i), 80, TH_SYN, r.seq,
			      0, bad_opts[i], 8, NULL, 0, false);
		/* still answered: bad options end parsing, nothing else */
		CHECK(raw_recv(&r, &g) && g.flags == (TH_SYN | TH_ACK));
		CHECK(g.opt.has_mss);
	}
	/* header shorter than 20 bytes / data offset beyond the segment */
	raw_send_full(&r, PEER_PORT, 80, TH_SYN, 1, 0, NULL, 0, NULL, 0, false);
	raw_drain(&r);
	memset(frame, 0, sizeof(frame));
	{
		uint64_t mal = tstats(&r.net.a).rx_malformed;
		struct cove_frame *f;
		uint8_t b[1600];
		uint32_t src = tip("10.0.0.2"), dst = tip("10.0.0.1");
		uint16_t c;

		/* IP says 10 bytes of TCP */
		memset(b, 0, sizeof(b));
		memcpy(b, ((struct bstack *)(void *)r.net.a.st)->mac, 6);
		memcpy(b + 6, r.peer_mac, 6);
		b[12] = 0x08;
		b[14] = 0x45;
		b[17] = 30;
		b[22] = 64;
		b[23] = 6;
		memcpy(b + 26, &src, 4);
		memcpy(b + 30, &dst, 4);
		c = raw_csum(b + 14, 20, 0);
		b[24] = (uint8_t)(c >> 8);
		b[25] = (uint8_t)c;
		b[36] = 0x50;
		f = cove_frame_alloc(&r.net.a.pool);
		REQUIRE(f);
		memcpy(f->data, b, 60);
		f->len = 60;
		tops->input(r.net.a.st, &f, 1);
		/* 20 bytes, data offset 15 words */
		b[17] = 40;
		b[24] = b[25] = 0;
		c = raw_csum(b + 14, 20, 0);
		b[24] = (uint8_t)(c >> 8);
		b[25] = (uint8_t)c;
		b[46] = 0xf0;
		f = cove_frame_alloc(&r.net.a.pool);
		REQUIRE(f);
		memcpy(f->data, b, 60);
		f->len = 60;
		tops->input(r.net.a.st, &f, 1);
		CHECK(tstats(&r.net.a).rx_malformed >= mal + 2);
	}
	CHECK(!raw_recv(&r, &g));
	tclose(&r.net.a, l);
	raw_down(&r);
}

/* Active open, then the closes: FIN-WAIT-1/2, TIME-WAIT; CLOSING. */
static void test_raw_active_close(void)
{
	struct raw r;
	struct cove_sock *c;
	struct sockaddr_in a = tsin("10.0.0.2", 90);
	struct rseg g;
	char buf[8];

	raw_up(&r);
	c = tsock(&r.net.a);
	CHECK(tops->connect(c, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == TH_SYN && g.dport == 90);
	CHECK(g.opt.has_mss && g.opt.sack_ok && g.opt.has_ts && g.opt.has_ws);
	/* a wrong ACK in SYN-SENT gets a RST and changes nothing */
	raw_send_full(&r, 90, g.sport, TH_ACK, r.seq, g.seq + 77, NULL, 0, NULL,
		      0, false);
	{
		struct rseg x;

		REQUIRE(raw_recv(&r, &x));
		CHECK(x.flags == TH_RST && x.seq == g.seq + 77);
	}
	CHECK(tstate(c) == TCPS_SYN_SENT);
	r.ack = g.seq + 1;
	raw_send_full(&r, 90, g.sport, TH_SYN | TH_ACK, r.seq, r.ack, NULL, 0,
		      NULL, 0, false);
	r.seq++;
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == TH_ACK && g.ack == r.seq);
	CHECK(tstate(c) == TCPS_ESTABLISHED);
	CHECK(tops->events(c) & EPOLLOUT);
	/* no timestamps agreed: none sent */
	CHECK(!g.opt.has_ts);
	CHECK(tops->shutdown(c, SHUT_WR) == 0);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == (TH_FIN | TH_ACK));
	CHECK(tstate(c) == TCPS_FIN_WAIT1);
	raw_send_full(&r, 90, g.sport, TH_ACK, r.seq, r.ack + 1, NULL, 0, NULL,
		      0, false);
	CHECK(tstate(c) == TCPS_FIN_WAIT2);
	/* data after our FIN still arrives (half-close) */
	raw_send_full(&r, 90, g.sport, TH_ACK, r.seq, r.ack + 1, NULL, 0,
		      "late", 4, false);
	r.seq += 4;
	CHECK(trecv(c, buf, sizeof(buf), 0) == 4);
	raw_send_full(&r, 90, g.sport, TH_FIN | TH_ACK, r.seq, r.ack + 1, NULL,
		      0, NULL, 0, false);
	r.seq++;
	raw_drain(&r);
	CHECK(tstate(c) == TCPS_TIME_WAIT);
	/* data after FIN: ignored, ACKed */
	raw_send_full(&r, 90, g.sport, TH_ACK, r.seq, r.ack + 1, NULL, 0,
		      "more", 4, false);
	raw_drain(&r);
	CHECK(trecv(c, buf, sizeof(buf), 0) == 0);
	raw_advance(&r, 61000);
	CHECK(tstate(c) == TCPS_CLOSED);
	raw_down(&r);
}

/* Passive close (CLOSE-WAIT, LAST-ACK) and CLOSING. */
static void test_raw_passive_close(void)
{
	struct raw r;
	struct cove_sock *s;
	struct rseg g;
	char buf[8];

	raw_up(&r);
	s = raw_accept(&r, 80, NULL);
	raw_send(&r, 80, TH_FIN | TH_ACK, NULL, 0);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.ack == r.seq);
	CHECK(tstate(s) == TCPS_CLOSE_WAIT);
	CHECK(trecv(s, buf, sizeof(buf), 0) == 0);
	CHECK(tops->shutdown(s, SHUT_WR) == 0);
	CHECK(tstate(s) == TCPS_LAST_ACK);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags & TH_FIN);
	r.ack = g.seq + 1;
	raw_send(&r, 80, TH_ACK, NULL, 0);
	CHECK(tstate(s) == TCPS_CLOSED);
	tclose(&r.net.a, s);
	raw_drain(&r);

	/* CLOSING: FINs cross */
	r.seq += 1000;
	s = raw_accept(&r, 81, NULL);
	CHECK(tops->shutdown(s, SHUT_WR) == 0);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags & TH_FIN);
	raw_send(&r, 81, TH_FIN | TH_ACK, NULL, 0); /* does not ack the FIN */
	CHECK(tstate(s) == TCPS_CLOSING);
	raw_drain(&r);
	r.ack = g.seq + 1;
	raw_send(&r, 81, TH_ACK, NULL, 0);
	CHECK(tstate(s) == TCPS_TIME_WAIT);
	raw_down(&r);
}

/* PAWS: a segment with an old timestamp is dropped (and ACKed). */
static void test_raw_paws(void)
{
	uint8_t ts_new[] = { 1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 0, 0 };
	uint8_t ts_old[] = { 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 0 };
	struct raw r;
	struct cove_sock *s;
	struct rseg g;
	char buf[8];

	raw_up(&r);
	s = raw_accept(&r, 80, NULL);
	raw_send_full(&r, PEER_PORT, 80, TH_ACK, r.seq, r.ack, ts_new,
		      sizeof(ts_new), "a", 1, false);
	r.seq++;
	raw_drain(&r);
	CHECK(trecv(s, buf, sizeof(buf), 0) == 1);
	raw_send_full(&r, PEER_PORT, 80, TH_ACK, r.seq, r.ack, ts_old,
		      sizeof(ts_old), "b", 1, false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.ack == r.seq); /* not accepted */
	CHECK(trecv(s, buf, sizeof(buf), 0) == -EAGAIN);
	raw_down(&r);
}

/* Segments for nobody get a RST with the right numbers. */
static void test_raw_closed_port(void)
{
	struct raw r;
	struct rseg g;

	raw_up(&r);
	raw_send_full(&r, PEER_PORT, 99, TH_SYN, 5000, 0, NULL, 0, NULL, 0,
		      false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == (TH_RST | TH_ACK) && g.ack == 5001 && g.seq == 0);
	raw_send_full(&r, PEER_PORT, 99, TH_ACK, 5000, 123456, NULL, 0, "x", 1,
		      false);
	REQUIRE(raw_recv(&r, &g));
	CHECK(g.flags == TH_RST && g.seq == 123456);
	raw_send_full(&r, PEER_PORT, 99, TH_RST, 5000, 0, NULL, 0, NULL, 0,
		      false);
	CHECK(!raw_recv(&r, &g));
	raw_down(&r);
}

/* SYN-RECV: a lost SYN-ACK is sent again, a RST there frees the child. */
static void test_raw_syn_recv(void)
{
	struct raw r;
	struct cove_sock *l, *s = NULL;
	struct rseg g, g2;

	raw_up(&r);
	l = tlisten(&r.net.a, 80, 4);
	raw_send_full(&r, PEER_PORT, 80, TH_SYN, r.seq, 0, syn_opts,
		      sizeof(syn_opts), NULL, 0, false);
	REQUIRE(raw_recv(&r, &g));
	raw_send_full(&r, PEER_PORT, 80, TH_SYN, r.seq, 0, syn_opts,
		      sizeof(syn_opts), NULL, 0, false);
	REQUIRE(raw_recv(&r, &g2));
	CHECK(g2.flags == (TH_SYN | TH_ACK) && g2.seq == g.seq);
	raw_advance(&r, 1100); /* RTO: SYN-ACK again */
	REQUIRE(raw_recv(&r, &g2));
	CHECK(g2.flags == (TH_SYN | TH_ACK) && g2.seq == g.seq);
	CHECK(tstats(&r.net.a).tcp_conns == 1);
	raw_send_full(&r, PEER_PORT, 80, TH_RST, r.seq + 1, 0, NULL, 0, NULL, 0,
		      false);
	CHECK(tstats(&r.net.a).tcp_conns == 0);
	CHECK(tops->accept(l, &s, NULL, NULL) == -EAGAIN);
	raw_down(&r);
}

/* raw_icmp_unreach() - ICMP type 3 @code quoting a segment A sent. */
static void raw_icmp_unreach(struct raw *r, uint8_t code, const struct rseg *g)
{
	uint8_t b[14 + 20 + 8 + 28];
	uint8_t *ip = b + 14, *ic = b + 34, *in = b + 42;
	uint32_t src = tip("10.0.0.2"), dst = tip("10.0.0.1");
	uint16_t c;

	memset(b, 0, sizeof(b));
	memcpy(b, ((struct bstack *)(void *)r->net.a.st)->mac, 6);
	memcpy(b + 6, r->peer_mac, 6);
	b[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = (uint8_t)(sizeof(b) - 14);
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	c = raw_csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	ic[0] = 3;
	ic[1] = code;
	in[0] = 0x45;
	in[3] = 40;
	in[8] = 64;
	in[9] = 6;
	memcpy(in + 12, &dst, 4);
	memcpy(in + 16, &src, 4);
	c = raw_csum(in, 20, 0);
	in[10] = (uint8_t)(c >> 8);
	in[11] = (uint8_t)c;
	in[20] = (uint8_t)(g->sport >> 8);
	in[21] = (uint8_t)g->sport;
	in[22] = (uint8_t)(g->dport >> 8);
	in[23] = (uint8_t)g->dport;
	in[24] = (uint8_t)(g->seq >> 24);
	in[25] = (uint8_t)(g->seq >> 16);
	in[26] = (uint8_t)(g->seq >> 8);
	in[27] = (uint8_t)g->seq;
	c = raw_csum(ic, 8 + 28, 0);
	ic[2] = (uint8_t)(c >> 8);
	ic[3] = (uint8_t)c;
	raw_inject(r, b, sizeof(b));
}

/* ICMP unreachables: fatal during connect, soft afterwards. */
static void test_raw_icmp(void)
{
	struct sockaddr_in a = tsin("10.0.0.2", 90);
	struct cove_sock *c;
	struct rseg g;
	struct raw r;

	raw_up(&r);
	c = tsock(&r.net.a);
	CHECK(tops->connect(c, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	REQUIRE(raw_recv(&r, &g));
	raw_icmp_unreach(&r, 3, &g);
	CHECK(tstate(c) == TCPS_CLOSED);
	CHECK(tsockerr(c) == ECONNREFUSED);
	tclose(&r.net.a, c);
	c = tsock(&r.net.a);
	CHECK(tops->connect(c, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	REQUIRE(raw_recv(&r, &g));
	raw_icmp_unreach(&r, 1, &g);
	CHECK(tsockerr(c) == EHOSTUNREACH);
	raw_down(&r);
}

/* Random segments near the window against every state: no crash, no leak. */
static void test_raw_random(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct raw r;
	struct cove_sock *s, *l;
	uint8_t data[1400], opt[40];
	unsigned i, k;
	char buf[4096];

	raw_up(&r);
	s = raw_accept(&r, 80, &l);
	for (i = 0; i < 20000; i++) {
		uint32_t seq, ack, len;
		uint8_t flags;
		unsigned optlen;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		flags = (uint8_t)(x & 0x3f);
		if ((x >> 8) & 1)
			flags &= (uint8_t) ~(TH_SYN | TH_RST);
		seq = r.seq + (uint32_t)((int32_t)((x >> 16) & 0xffff) - 4096);
		ack = r.ack + (uint32_t)((int32_t)((x >> 32) & 0xfff) - 2048);
		len = (uint32_t)((x >> 44) % sizeof(data));
		optlen = (unsigned)((x >> 56) % 41);
		for (k = 0; k < optlen; k++)
			opt[k] = (uint8_t)(x >> (k % 8 * 8)) % 9;
		for (k = 0; k < len; k++)
			data[k] = (uint8_t)k;
		raw_send_full(&r, (uint16_t)(PEER_PORT + (x >> 61)),
			      (x >> 60) & 1 ? 80 : 81, flags, seq, ack, opt,
			      optlen, data, len, false);
		if (i % 64 == 0) {
			raw_drain(&r);
			(void)trecv(s, buf, sizeof(buf), 0);
			(void)tsend(s, data, 700);
			raw_advance(&r, (x >> 20) % 300);
		}
		if (i % 997 == 0)
			r.seq += 5000;
	}
	raw_drain(&r);
	raw_down(&r);
}

int main(void)
{
	RUN(test_raw_passive_data);
	RUN(test_raw_rst_syn);
	RUN(test_raw_challenge_per_socket);
	RUN(test_raw_challenge_budget);
	RUN(test_raw_malformed);
	RUN(test_raw_active_close);
	RUN(test_raw_passive_close);
	RUN(test_raw_paws);
	RUN(test_raw_closed_port);
	RUN(test_raw_syn_recv);
	RUN(test_raw_icmp);
	RUN(test_raw_random);
	return check_summary();
}
