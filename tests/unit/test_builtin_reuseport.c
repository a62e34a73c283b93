// SPDX-License-Identifier: Apache-2.0
/* SO_REUSEPORT on the builtin stack: bind rules, TCP and UDP spreading, listener close. */
#include "tests/unit/test_builtin_tcp.h"

/*
 * Node B (10.0.0.2) serves with several sockets sharing one port; node A
 * is the peer. The stacks use fixed seeds, so which listener a 4-tuple
 * lands on is the same on every run; the share bounds below are loose
 * enough for any seed (a binomial draw of 200 at p = 1/2 stays within
 * 100 +- 40 with overwhelming probability).
 */

#define RP_NCONN 200u

/* rp_sock() - a socket on @n, SO_REUSEPORT and SO_REUSEADDR as asked. */
static struct cove_sock *rp_sock(struct tnode *n, int type, bool reuseport,
				 bool reuseaddr)
{
	struct cove_sock *s = NULL;
	int one = 1;

	REQUIRE(tops->socket(n->st, AF_INET, type, 0, &s) == 0);
	tnet_track(n, s);
	if (reuseport)
		REQUIRE(tops->setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one,
					 sizeof(one)) == 0);
	if (reuseaddr)
		REQUIRE(tops->setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
					 sizeof(one)) == 0);
	return s;
}

static int rp_bind(struct cove_sock *s, const char *addr, uint16_t port)
{
	struct sockaddr_in a = tsin(addr, port);

	return tops->bind(s, (struct sockaddr *)&a, sizeof(a));
}

/* rp_listen() - a SO_REUSEPORT listener on B's @port (any address). */
static struct cove_sock *rp_listen(struct tnode *n, uint16_t port, int backlog)
{
	struct cove_sock *s = rp_sock(n, SOCK_STREAM, true, false);

	REQUIRE(rp_bind(s, NULL, port) == 0);
	REQUIRE(tops->listen(s, backlog) == 0);
	return s;
}

static int rp_getopt(struct cove_sock *s, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	REQUIRE(tops->getsockopt(s, SOL_SOCKET, name, &v, &len) == 0);
	return v;
}

static uint16_t rp_port(struct cove_sock *s, bool peer)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (peer)
		REQUIRE(tops->getpeername(s, (struct sockaddr *)&a, &len) == 0);
	else
		REQUIRE(tops->getsockname(s, (struct sockaddr *)&a, &len) == 0);
	return ntohs(a.sin_port);
}

/* Bind and listen rules, Linux's: all must set it, before bind. */
static void test_bind_rules(void)
{
	struct tnet net;
	struct cove_sock *l1, *l2, *s;

	tnet_up(&net, NULL);
	l1 = rp_listen(&net.b, 80, 16);
	l2 = rp_listen(&net.b, 80, 16);
	CHECK(rp_getopt(l1, SO_REUSEPORT) == 1);
	CHECK(rp_getopt(l2, SO_REUSEPORT) == 1);
	/* a third member may bind and wait before listening */
	s = rp_sock(&net.b, SOCK_STREAM, true, false);
	CHECK(rp_bind(s, "10.0.0.2", 80) == 0);
	CHECK(tops->listen(s, 4) == 0);
	/* without SO_REUSEPORT: no way in, with or without SO_REUSEADDR */
	s = rp_sock(&net.b, SOCK_STREAM, false, false);
	CHECK(rp_getopt(s, SO_REUSEPORT) == 0);
	CHECK(rp_bind(s, NULL, 80) == -EADDRINUSE);
	CHECK(rp_bind(s, "10.0.0.2", 80) == -EADDRINUSE);
	s = rp_sock(&net.b, SOCK_STREAM, false, true);
	CHECK(rp_bind(s, NULL, 80) == -EADDRINUSE);
	/* set after bind: too late, as on Linux (the bind already failed) */
	s = rp_sock(&net.b, SOCK_STREAM, false, false);
	CHECK(rp_bind(s, NULL, 81) == 0);
	CHECK(tops->listen(s, 4) == 0);
	l1 = rp_sock(&net.b, SOCK_STREAM, true, true);
	CHECK(rp_bind(l1, NULL, 81) == -EADDRINUSE);
	CHECK(rp_bind(l1, "127.0.0.1", 81) == -EADDRINUSE);
	/* different specific addresses never collide */
	s = rp_sock(&net.b, SOCK_STREAM, false, false);
	CHECK(rp_bind(s, "127.0.0.1", 82) == 0);
	CHECK(tops->listen(s, 4) == 0);
	s = rp_sock(&net.b, SOCK_STREAM, false, false);
	CHECK(rp_bind(s, "10.0.0.2", 82) == 0);
	CHECK(tops->listen(s, 4) == 0);
	s = rp_sock(&net.b, SOCK_STREAM, true, true);
	CHECK(rp_bind(s, NULL, 82) == -EADDRINUSE);
	/* two SO_REUSEADDR sockets share a port until one listens */
	l1 = rp_sock(&net.b, SOCK_STREAM, false, true);
	l2 = rp_sock(&net.b, SOCK_STREAM, false, true);
	CHECK(rp_bind(l1, NULL, 83) == 0);
	CHECK(rp_bind(l2, NULL, 83) == 0);
	CHECK(tops->listen(l1, 4) == 0);
	CHECK(tops->listen(l2, 4) == -EADDRINUSE);
	/* wildcard and specific members with SO_REUSEPORT: two groups */
	l1 = rp_sock(&net.b, SOCK_STREAM, true, false);
	l2 = rp_sock(&net.b, SOCK_STREAM, true, false);
	CHECK(rp_bind(l1, NULL, 84) == 0);
	CHECK(rp_bind(l2, "10.0.0.2", 84) == 0);
	CHECK(tops->listen(l1, 4) == 0);
	CHECK(tops->listen(l2, 4) == 0);
	/* UDP: the same rules at bind */
	l1 = rp_sock(&net.b, SOCK_DGRAM, true, false);
	l2 = rp_sock(&net.b, SOCK_DGRAM, true, false);
	CHECK(rp_bind(l1, NULL, 53) == 0);
	CHECK(rp_bind(l2, NULL, 53) == 0);
	CHECK(rp_getopt(l2, SO_REUSEPORT) == 1);
	s = rp_sock(&net.b, SOCK_DGRAM, false, false);
	CHECK(rp_bind(s, NULL, 53) == -EADDRINUSE);
	CHECK(rp_bind(s, "10.0.0.2", 53) == -EADDRINUSE);
	s = rp_sock(&net.b, SOCK_DGRAM, false, true);
	CHECK(rp_bind(s, NULL, 53) == -EADDRINUSE);
	tnet_down(&net);
}

/*
 * 200 connections to two listeners: each one accepted exactly once (the
 * client's first bytes name it), by the listener its 4-tuple picks, and
 * each listener gets a fair share.
 */
struct rp_spread {
	struct cove_sock *l[2];
	struct cove_sock *c[RP_NCONN];
	struct cove_sock *s[RP_NCONN];
	unsigned from[RP_NCONN]; /* which listener accepted it */
	bool sent[RP_NCONN], seen[RP_NCONN];
	unsigned accepted, per[2], named, dup, bad;
	struct in6_addr la, ra; /* B's and A's address, mapped */
};

static bool rp_step_spread(struct tnet *net, void *ctx)
{
	struct rp_spread *m = ctx;
	struct cove_sock *s;
	uint32_t id;
	unsigned i, k;

	for (k = 0; k < 2; k++)
		while (m->accepted < RP_NCONN &&
		       (s = taccept(&net->b, m->l[k]))) {
			m->from[m->accepted] = k;
			m->s[m->accepted++] = s;
			m->per[k]++;
		}
	for (i = 0; i < RP_NCONN; i++)
		if (!m->sent[i] && (tops->events(m->c[i]) & EPOLLOUT)) {
			id = i;
			CHECK(tsend(m->c[i], &id, sizeof(id)) == sizeof(id));
			m->sent[i] = true;
		}
	for (i = 0; i < m->accepted; i++) {
		if (!m->s[i])
			continue;
		if (trecv(m->s[i], &id, sizeof(id), 0) != sizeof(id))
			continue;
		if (id >= RP_NCONN)
			m->bad++;
		else if (m->seen[id])
			m->dup++;
		else
			m->seen[id] = true;
		/* the 4-tuple's pick, while both listeners are in the group */
		if (tcp_listener_find(tctx(&net->b), &m->la, 80, &m->ra,
				      rp_port(m->s[i], true)) !=
		    tcb_of((struct bsock *)(void *)m->l[m->from[i]]))
			m->bad++;
		m->named++;
		tclose(&net->b, m->s[i]);
		m->s[i] = NULL;
	}
	return m->named == RP_NCONN;
}

static void test_tcp_spread(void)
{
	static struct rp_spread m;
	struct tnet net;
	unsigned i;

	tnet_up(&net, NULL);
	memset(&m, 0, sizeof(m));
	m.la = ipx_from_v4(tip("10.0.0.2"));
	m.ra = ipx_from_v4(tip("10.0.0.1"));
	m.l[0] = rp_listen(&net.b, 80, 256);
	m.l[1] = rp_listen(&net.b, 80, 256);
	for (i = 0; i < RP_NCONN; i++)
		m.c[i] = tconnect(&net.a, "10.0.0.2", 80);
	CHECK(tnet_loop(&net, rp_step_spread, &m, 60000));
	CHECK(m.accepted == RP_NCONN && m.named == RP_NCONN);
	CHECK(m.dup == 0 && m.bad == 0);
	for (i = 0; i < RP_NCONN; i++)
		CHECK(m.seen[i]);
	CHECK(m.per[0] >= 60 && m.per[1] >= 60);
	fprintf(stderr, "  shares %u/%u\n", m.per[0], m.per[1]);
	CHECK(tctx(&net.b)->listen_drops == 0);
	tnet_down(&net);
}

struct rp_close {
	struct cove_sock *l[2];
	struct cove_sock *c[80];
	unsigned n, accepted;
};

static bool rp_step_connected(struct tnet *net, void *ctx)
{
	struct rp_close *m = ctx;
	unsigned i;

	(void)net;
	for (i = 0; i < m->n; i++)
		if (tstate(m->c[i]) != TCPS_ESTABLISHED)
			return false;
	return true;
}

static bool rp_step_accept_l1(struct tnet *net, void *ctx)
{
	struct rp_close *m = ctx;

	while (taccept(&net->b, m->l[1]))
		m->accepted++;
	return m->accepted == m->n;
}

/*
 * Closing one listener resets only the connections in its own accept
 * queue (Linux's behaviour); those queued on the other one survive, and
 * new connections all go to the one left.
 */
static void test_tcp_close_one(void)
{
	static struct rp_close m;
	struct tnet net;
	unsigned i, q0, q1, reset = 0, alive = 0;
	char buf[4];

	tnet_up(&net, NULL);
	memset(&m, 0, sizeof(m));
	m.l[0] = rp_listen(&net.b, 80, 64);
	m.l[1] = rp_listen(&net.b, 80, 64);
	for (m.n = 0; m.n < 40; m.n++)
		m.c[m.n] = tconnect(&net.a, "10.0.0.2", 80);
	REQUIRE(tnet_loop(&net, rp_step_connected, &m, 10000));
	q0 = tcb_of((struct bsock *)(void *)m.l[0])->acc_qlen;
	q1 = tcb_of((struct bsock *)(void *)m.l[1])->acc_qlen;
	CHECK(q0 + q1 == 40 && q0 > 0 && q1 > 0);
	tclose(&net.b, m.l[0]);
	tadvance(&net, 100);
	for (i = 0; i < 40; i++) {
		if (trecv(m.c[i], buf, sizeof(buf), 0) == -ECONNRESET)
			reset++;
		else if (tstate(m.c[i]) == TCPS_ESTABLISHED)
			alive++;
	}
	CHECK(reset == q0 && alive == q1);
	CHECK(tcb_of((struct bsock *)(void *)m.l[1])->acc_qlen == q1);
	/* the survivor serves what it had and every new connection */
	for (; m.n < 80; m.n++)
		m.c[m.n] = tconnect(&net.a, "10.0.0.2", 80);
	m.accepted = reset; /* those never reach an accept() */
	CHECK(tnet_loop(&net, rp_step_accept_l1, &m, 10000));
	CHECK(tctx(&net.b)->listen_drops == 0);
	tnet_down(&net);
}

/*
 * A listener whose SYN queue is full answers the SYNs its hash picks for
 * it with SYN cookies; they are never handed to the other member. The
 * returning ACKs find its accept queue full, so those children wait in
 * SYN-RECV and resend their SYN-ACKs; once the app accepts, every
 * connection completes.
 */
struct rp_full {
	struct cove_sock *l[2];
	struct cove_sock *c[16];
	unsigned accepted;
	bool accept_now;
};

static bool rp_step_full(struct tnet *net, void *ctx)
{
	struct rp_full *m = ctx;
	unsigned k;

	if (!m->accept_now)
		return false;
	for (k = 0; k < 2; k++)
		while (taccept(&net->b, m->l[k]))
			m->accepted++;
	return m->accepted == 16;
}

static void test_tcp_backlog_full(void)
{
	static struct rp_full m;
	struct in6_addr la = ipx_from_v4(tip("10.0.0.2"));
	struct in6_addr ra = ipx_from_v4(tip("10.0.0.1"));
	struct tcp_ctx *bc;
	struct tnet net;
	unsigned i, want[2] = { 0, 0 };

	tnet_up(&net, NULL);
	memset(&m, 0, sizeof(m));
	m.l[0] = rp_listen(&net.b, 80, 2);
	m.l[1] = rp_listen(&net.b, 80, 64);
	bc = tctx(&net.b);
	/* resolve ARP first: its queue would hold back most of the SYNs */
	tconnect(&net.a, "10.0.0.2", 9);
	tadvance(&net, 100);
	for (i = 0; i < 16; i++) {
		m.c[i] = tconnect(&net.a, "10.0.0.2", 80);
		want[tcp_listener_find(bc, &la, 80, &ra,
				       rp_port(m.c[i], false)) !=
		     tcb_of((struct bsock *)(void *)m.l[0])]++;
	}
	REQUIRE(want[0] > 2); /* with these seeds: more than fits */
	tadvance(&net, 500);  /* before the first SYN retry */
	CHECK(tcb_of((struct bsock *)(void *)m.l[0])->acc_qlen == 2);
	CHECK(tcb_of((struct bsock *)(void *)m.l[1])->acc_qlen == want[1]);
	CHECK(bc->syncookies_sent == want[0] - 2);
	CHECK(bc->syncookies_recv == want[0] - 2);
	CHECK(bc->listen_drops == 0);
	m.accept_now = true;
	CHECK(tnet_loop(&net, rp_step_full, &m, 60000));
	for (i = 0; i < 16; i++)
		CHECK(tstate(m.c[i]) == TCPS_ESTABLISHED);
	tnet_down(&net);
}

/*
 * UDP: 64 flows of 3 datagrams each to two SO_REUSEPORT sockets: every
 * datagram arrives once, whole, each flow on one socket, both busy.
 */
static void test_udp_spread(void)
{
	struct tnet net;
	struct cove_sock *srv[2], *cli[64];
	struct sockaddr_in to = tsin("10.0.0.2", 5353), from;
	uint8_t seen[64][3], flow_on[64], buf[256], out[200];
	unsigned i, k, got[2] = { 0, 0 }, dup = 0, bad = 0;
	struct iovec iov;
	struct msghdr msg;
	ssize_t n;

	tnet_up(&net, NULL);
	memset(seen, 0, sizeof(seen));
	memset(flow_on, 0xff, sizeof(flow_on));
	for (k = 0; k < 2; k++) {
		srv[k] = rp_sock(&net.b, SOCK_DGRAM, true, false);
		REQUIRE(rp_bind(srv[k], NULL, 5353) == 0);
	}
	for (i = 0; i < 64; i++) {
		cli[i] = rp_sock(&net.a, SOCK_DGRAM, false, false);
		for (k = 0; k < 3; k++) {
			memset(out, 0, sizeof(out));
			out[0] = (uint8_t)i;
			out[1] = (uint8_t)k;
			out[sizeof(out) - 1] = 0xa5;
			iov = (struct iovec){ out, sizeof(out) };
			msg = (struct msghdr){ .msg_name = &to,
					       .msg_namelen = sizeof(to),
					       .msg_iov = &iov,
					       .msg_iovlen = 1 };
			CHECK(tops->sendmsg(cli[i], &msg, 0) ==
			      (ssize_t)sizeof(out));
		}
		tadvance(&net, 1); /* keep within the receive buffers */
		for (k = 0; k < 2; k++) {
			for (;;) {
				iov = (struct iovec){ buf, sizeof(buf) };
				msg = (struct msghdr){ .msg_name = &from,
						       .msg_namelen =
							       sizeof(from),
						       .msg_iov = &iov,
						       .msg_iovlen = 1 };
				n = tops->recvmsg(srv[k], &msg, 0);
				if (n == -EAGAIN)
					break;
				if (n != (ssize_t)sizeof(out) ||
				    buf[sizeof(out) - 1] != 0xa5 ||
				    buf[0] >= 64 || buf[1] >= 3) {
					bad++;
					break;
				}
				if (seen[buf[0]][buf[1]]++)
					dup++;
				if (flow_on[buf[0]] == 0xff)
					flow_on[buf[0]] = (uint8_t)k;
				else if (flow_on[buf[0]] != k)
					bad++;
				got[k]++;
			}
		}
	}
	CHECK(bad == 0 && dup == 0);
	CHECK(got[0] + got[1] == 64 * 3);
	CHECK(got[0] >= 3 * 16 && got[1] >= 3 * 16);
	fprintf(stderr, "  datagrams %u/%u\n", got[0], got[1]);
	/* one member leaves: the other gets every flow */
	tclose(&net.b, srv[0]);
	memset(out, 0, sizeof(out));
	for (i = 0; i < 64; i++) {
		iov = (struct iovec){ out, sizeof(out) };
		msg = (struct msghdr){ .msg_name = &to,
				       .msg_namelen = sizeof(to),
				       .msg_iov = &iov,
				       .msg_iovlen = 1 };
		CHECK(tops->sendmsg(cli[i], &msg, 0) == (ssize_t)sizeof(out));
		tadvance(&net, 1);
		iov = (struct iovec){ buf, sizeof(buf) };
		msg = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
		CHECK(tops->recvmsg(srv[1], &msg, 0) == (ssize_t)sizeof(out));
	}
	tnet_down(&net);
}

int main(void)
{
	RUN(test_bind_rules);
	RUN(test_tcp_spread);
	RUN(test_tcp_close_one);
	RUN(test_tcp_backlog_full);
	RUN(test_udp_spread);
	return check_summary();
}
