// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP with AF_INET6 sockets: dual stack as Linux, bind conflicts, options. */
#include <stdio.h>
#include <stdlib.h>

#include "common/bytes.h"
#include "tests/unit/test_builtin_tcp.h"

/*
 * The expectations of the bind and option cases are what Linux 6.x
 * answers for the same calls (checked with a Python script against the
 * kernel when they were written; the lines cite Linux's functions).
 */

static struct sockaddr_in6 tsin6(const char *addr, uint16_t port)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6,
				  .sin6_port = htons(port) };

	if (addr)
		REQUIRE(inet_pton(AF_INET6, addr, &s.sin6_addr) == 1);
	return s;
}

static struct cove_sock *tsock6(struct tnode *n)
{
	struct cove_sock *s = NULL;

	REQUIRE(tops->socket(n->st, AF_INET6, SOCK_STREAM, 0, &s) == 0);
	return tnet_track(n, s);
}

static int tbind6(struct cove_sock *s, const char *addr, uint16_t port)
{
	struct sockaddr_in6 a = tsin6(addr, port);

	return tops->bind(s, (struct sockaddr *)&a, sizeof(a));
}

static int tbind4(struct cove_sock *s, const char *addr, uint16_t port)
{
	struct sockaddr_in a = tsin(addr, port);

	return tops->bind(s, (struct sockaddr *)&a, sizeof(a));
}

static void tsetint(struct cove_sock *s, int level, int name, int v)
{
	REQUIRE(tops->setsockopt(s, level, name, &v, sizeof(v)) == 0);
}

static int tgetint(struct cove_sock *s, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);

	return tops->getsockopt(s, level, name, v, &len);
}

/* tname6() - "addr port" of a sockaddr_in6 (and check its size). */
static const char *tname6(const struct sockaddr_in6 *a, socklen_t len)
{
	static char buf[INET6_ADDRSTRLEN + 8];
	char ab[INET6_ADDRSTRLEN];

	CHECK(len == sizeof(*a));
	CHECK(a->sin6_family == AF_INET6);
	inet_ntop(AF_INET6, &a->sin6_addr, ab, sizeof(ab));
	snprintf(buf, sizeof(buf), "%s %u", ab, ntohs(a->sin6_port));
	return buf;
}

/* ---- dual stack over IPv4 on the wire ---- */

struct t6conn {
	struct cove_sock *l, *c, *s;
	struct sockaddr_in6 peer;
	socklen_t plen;
};

static bool t6_step_accept(struct tnet *net, void *ctx)
{
	struct t6conn *p = ctx;
	struct cove_sock *s = NULL;

	if (!p->s) {
		p->plen = sizeof(p->peer);
		if (tops->accept(p->l, &s, (struct sockaddr *)&p->peer,
				 &p->plen) == 0)
			p->s = tnet_track(&net->b, s);
	}
	return p->s && (tops->events(p->c) & EPOLLOUT);
}

/* techo() - @c sends @n bytes, @s echoes them: the bytes come back. */
static void techo(struct tnet *net, struct cove_sock *c, struct cove_sock *s)
{
	char buf[64] = { 0 };

	CHECK(tsend(c, "dual stack", 10) == 10);
	tadvance(net, 100);
	CHECK(trecv(s, buf, sizeof(buf), 0) == 10);
	CHECK(tsend(s, buf, 10) == 10);
	tadvance(net, 100);
	memset(buf, 0, sizeof(buf));
	CHECK(trecv(c, buf, sizeof(buf), 0) == 10);
	CHECK(!memcmp(buf, "dual stack", 10));
}

/*
 * An IPv4 client reaches a [::] listener: accept() and getpeername()
 * report ::ffff:10.0.0.1, getsockname() ::ffff:10.0.0.2, SO_DOMAIN
 * AF_INET6, and the bytes flow as over an AF_INET listener.
 */
static void test_dual_accept(void)
{
	struct sockaddr_in6 a;
	socklen_t len = sizeof(a);
	struct t6conn p = { 0 };
	struct tnet net;
	int v;

	tnet_up(&net, NULL);
	p.l = tsock6(&net.b);
	CHECK(tgetint(p.l, IPPROTO_IPV6, IPV6_V6ONLY, &v) == 0 && v == 0);
	CHECK(tbind6(p.l, "::", 80) == 0);
	CHECK(tops->getsockname(p.l, (struct sockaddr *)&a, &len) == 0);
	CHECK(!strcmp(tname6(&a, len), ":: 80"));
	CHECK(tops->listen(p.l, 8) == 0);
	p.c = tconnect(&net.a, "10.0.0.2", 80);
	REQUIRE(tnet_loop(&net, t6_step_accept, &p, 10000));
	CHECK(!strncmp(tname6(&p.peer, p.plen), "::ffff:10.0.0.1 ", 16));
	len = sizeof(a);
	CHECK(tops->getpeername(p.s, (struct sockaddr *)&a, &len) == 0);
	CHECK(!strncmp(tname6(&a, len), "::ffff:10.0.0.1 ", 16));
	len = sizeof(a);
	CHECK(tops->getsockname(p.s, (struct sockaddr *)&a, &len) == 0);
	CHECK(!strcmp(tname6(&a, len), "::ffff:10.0.0.2 80"));
	CHECK(tgetint(p.s, SOL_SOCKET, SO_DOMAIN, &v) == 0 && v == AF_INET6);
	/* a short buffer gets the truncated address, the full length */
	len = 8;
	memset(&a, 0, sizeof(a));
	CHECK(tops->getpeername(p.s, (struct sockaddr *)&a, &len) == 0);
	CHECK(len == sizeof(a) && a.sin6_family == AF_INET6 &&
	      IN6_IS_ADDR_UNSPECIFIED(&a.sin6_addr));
	techo(&net, p.c, p.s);
	tnet_down(&net);
}

/* An IPV6_V6ONLY [::] listener does not take IPv4: the client is refused. */
static void test_v6only_refuses_v4(void)
{
	struct cove_sock *l, *c;
	struct tnet net;
	int v;

	tnet_up(&net, NULL);
	l = tsock6(&net.b);
	tsetint(l, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	CHECK(tgetint(l, IPPROTO_IPV6, IPV6_V6ONLY, &v) == 0 && v == 1);
	CHECK(tbind6(l, "::", 80) == 0);
	CHECK(tops->listen(l, 8) == 0);
	c = tconnect(&net.a, "10.0.0.2", 80);
	tadvance(&net, 1000);
	CHECK(tsockerr(c) == ECONNREFUSED);
	tnet_down(&net);
}

/*
 * An AF_INET6 client connecting to ::ffff:10.0.0.2 talks IPv4 to an
 * AF_INET listener; its own names come back mapped.
 */
static void test_mapped_connect(void)
{
	struct sockaddr_in6 a = tsin6("::ffff:10.0.0.2", 80);
	socklen_t len = sizeof(a);
	struct sockaddr_in pa;
	struct t6conn p = { 0 };
	struct tnet net;

	tnet_up(&net, NULL);
	p.l = tlisten(&net.b, 80, 8);
	p.c = tsock6(&net.a);
	CHECK(tops->connect(p.c, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	REQUIRE(tnet_loop(&net, tstep_accept, &p, 10000));
	CHECK(tops->getsockname(p.c, (struct sockaddr *)&a, &len) == 0);
	CHECK(!strncmp(tname6(&a, len), "::ffff:10.0.0.1 ", 16));
	len = sizeof(a);
	CHECK(tops->getpeername(p.c, (struct sockaddr *)&a, &len) == 0);
	CHECK(!strcmp(tname6(&a, len), "::ffff:10.0.0.2 80"));
	/* the AF_INET side sees a plain IPv4 peer */
	len = sizeof(pa);
	CHECK(tops->getpeername(p.s, (struct sockaddr *)&pa, &len) == 0);
	CHECK(len == sizeof(pa) && pa.sin_family == AF_INET &&
	      pa.sin_addr.s_addr == tip("10.0.0.1"));
	techo(&net, p.c, p.s);
	tnet_down(&net);
}

/* ---- bind conflicts across families (Linux's inet_bind_conflict) ---- */

struct tbcase {
	const char *name;
	int fam_a, v6only_a, reuse_a; /* reuse: 1 SO_REUSEADDR, 2 REUSEPORT */
	const char *addr_a;
	bool listen_a;
	int fam_b, v6only_b, reuse_b;
	const char *addr_b;
	int want_b;  /* bind() of the second */
	int want_lb; /* then listen() of the second (1: not tried) */
};

static const struct tbcase tbcases[] = {
	{ "[::] then 0.0.0.0", AF_INET6, 0, 0, "::", false, AF_INET, 0, 0,
	  "0.0.0.0", -EADDRINUSE, 1 },
	{ "0.0.0.0 then [::]", AF_INET, 0, 0, "0.0.0.0", false, AF_INET6, 0, 0,
	  "::", -EADDRINUSE, 1 },
	{ "[::] v6only then 0.0.0.0", AF_INET6, 1, 0, "::", false, AF_INET, 0,
	  0, "0.0.0.0", 0, 1 },
	{ "[::] then 10.0.0.2", AF_INET6, 0, 0, "::", false, AF_INET, 0, 0,
	  "10.0.0.2", -EADDRINUSE, 1 },
	{ "[::] then [::ffff:10.0.0.2]", AF_INET6, 0, 0, "::", false, AF_INET6,
	  0, 0, "::ffff:10.0.0.2", -EADDRINUSE, 1 },
	{ "SO_REUSEADDR, none listening", AF_INET6, 0, 1, "::", false, AF_INET,
	  0, 1, "0.0.0.0", 0, -EADDRINUSE },
	{ "SO_REUSEADDR, [::] listening", AF_INET6, 0, 1, "::", true, AF_INET,
	  0, 1, "0.0.0.0", -EADDRINUSE, 1 },
	{ "SO_REUSEPORT, both listen", AF_INET6, 0, 2, "::", true, AF_INET, 0,
	  2, "0.0.0.0", 0, 0 },
	{ "[::1] then 0.0.0.0", AF_INET6, 0, 0, "::1", false, AF_INET, 0, 0,
	  "0.0.0.0", 0, 1 },
	{ "[::ffff:0.0.0.0] then 0.0.0.0", AF_INET6, 0, 0, "::ffff:0.0.0.0",
	  false, AF_INET, 0, 0, "0.0.0.0", -EADDRINUSE, 1 },
	{ "[::ffff:0.0.0.0] then [::1]", AF_INET6, 0, 0, "::ffff:0.0.0.0",
	  false, AF_INET6, 0, 0, "::1", 0, 1 },
	{ "[::] v6only then [::]", AF_INET6, 1, 0, "::", false, AF_INET6, 0, 0,
	  "::", -EADDRINUSE, 1 },
};

static struct cove_sock *tbsock(struct tnode *n, int fam, int v6only, int reuse)
{
	struct cove_sock *s = fam == AF_INET6 ? tsock6(n) : tsock(n);

	if (v6only)
		tsetint(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (reuse)
		tsetint(s, SOL_SOCKET, reuse == 1 ? SO_REUSEADDR : SO_REUSEPORT,
			1);
	return s;
}

static int tbbind(struct cove_sock *s, int fam, const char *addr, uint16_t port)
{
	return fam == AF_INET6 ? tbind6(s, addr, port) : tbind4(s, addr, port);
}

static void test_bind_conflicts(void)
{
	struct cove_sock *a, *b;
	struct tnet net;
	unsigned i;
	int r;

	tnet_up(&net, NULL);
	for (i = 0; i < sizeof(tbcases) / sizeof(tbcases[0]); i++) {
		const struct tbcase *c = &tbcases[i];
		uint16_t port = (uint16_t)(2000 + i);

		a = tbsock(&net.b, c->fam_a, c->v6only_a, c->reuse_a);
		b = tbsock(&net.b, c->fam_b, c->v6only_b, c->reuse_b);
		CHECK(tbbind(a, c->fam_a, c->addr_a, port) == 0);
		if (c->listen_a)
			CHECK(tops->listen(a, 4) == 0);
		r = tbbind(b, c->fam_b, c->addr_b, port);
		if (r != c->want_b)
			fprintf(stderr, "  %s: bind %d, Linux %d\n", c->name, r,
				c->want_b);
		CHECK(r == c->want_b);
		if (!r && c->want_lb != 1) {
			if (!c->listen_a)
				CHECK(tops->listen(a, 4) == 0);
			r = tops->listen(b, 4);
			if (r != c->want_lb)
				fprintf(stderr, "  %s: listen %d, Linux %d\n",
					c->name, r, c->want_lb);
			CHECK(r == c->want_lb);
		}
		tclose(&net.b, a);
		tclose(&net.b, b);
	}
	tnet_down(&net);
}

/* ---- addresses and options with Linux's errors ---- */

static void test_addr_errors(void)
{
	struct sockaddr_in6 a6 = tsin6("::", 0);
	struct sockaddr_in a4 = tsin(NULL, 0);
	struct cove_sock *s;
	struct tnet net;
	int v;

	tnet_up(&net, NULL);
	s = tsock6(&net.b);
	/* length below SIN6_LEN_RFC2133, then the other family */
	CHECK(tops->bind(s, (struct sockaddr *)&a4, sizeof(a4)) == -EINVAL);
	a4.sin_family = AF_INET;
	CHECK(tops->bind(s, (struct sockaddr *)&a6, 24) == 0); /* no scope */
	tclose(&net.b, s);
	s = tsock6(&net.b);
	memcpy(&a6, &a4, sizeof(a4));
	CHECK(tops->bind(s, (struct sockaddr *)&a6, sizeof(a6)) ==
	      -EAFNOSUPPORT);
	/* an AF_INET socket refuses a sockaddr_in6 */
	a6 = tsin6("::", 0);
	CHECK(tops->bind(tsock(&net.b), (struct sockaddr *)&a6, sizeof(a6)) ==
	      -EAFNOSUPPORT);
	/* a mapped address on a v6-only socket; link-local needs a scope */
	tsetint(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	CHECK(tbind6(s, "::ffff:10.0.0.2", 0) == -EINVAL);
	CHECK(tbind6(s, "fe80::1", 0) == -EINVAL);
	a6 = tsin6("fe80::1", 0);
	a6.sin6_scope_id = 99;
	CHECK(tops->bind(s, (struct sockaddr *)&a6, sizeof(a6)) == -ENODEV);
	CHECK(tbind6(s, "2001:db8::77", 0) == -EADDRNOTAVAIL);
	/* IPV6_V6ONLY is fixed once bound; binding ::1 makes it v6-only */
	s = tsock6(&net.b);
	CHECK(tbind6(s, "::1", 0) == 0);
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_V6ONLY, &v) == 0 && v == 1);
	v = 0;
	CHECK(tops->setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)) ==
	      -EINVAL);
	/* connects a v6-only or IPv4-bound socket cannot make */
	s = tsock6(&net.b);
	tsetint(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	a6 = tsin6("::ffff:10.0.0.1", 9);
	CHECK(tops->connect(s, (struct sockaddr *)&a6, sizeof(a6)) ==
	      -ENETUNREACH);
	s = tsock6(&net.b);
	CHECK(tbind6(s, "::ffff:10.0.0.2", 0) == 0);
	a6 = tsin6("::1", 9);
	CHECK(tops->connect(s, (struct sockaddr *)&a6, sizeof(a6)) ==
	      -EAFNOSUPPORT);
	s = tsock6(&net.b);
	a6 = tsin6("fe80::1", 9);
	CHECK(tops->connect(s, (struct sockaddr *)&a6, sizeof(a6)) == -EINVAL);
	/* IPPROTO_IPV6 on an AF_INET socket */
	s = tsock(&net.b);
	v = 1;
	CHECK(tops->setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof(v)) ==
	      -ENOPROTOOPT);
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_V6ONLY, &v) == -EOPNOTSUPP);
	tnet_down(&net);
}

static void test_ipv6_options(void)
{
	struct cove_sock *s;
	struct tnet net;
	int v;

	tnet_up(&net, NULL);
	s = tsock6(&net.b);
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v) == 0 && v == 64);
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_TCLASS, &v) == 0 && v == 0);
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v) == 0 &&
	      v == IPV6_PMTUDISC_WANT);
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_MTU, &v) == -ENOTCONN);
	v = 256;
	CHECK(tops->setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v)) ==
	      -EINVAL);
	tsetint(s, IPPROTO_IPV6, IPV6_TCLASS, 0xff); /* ECN bits kept: 0 */
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_TCLASS, &v) == 0 && v == 0xfc);
	tsetint(s, IPPROTO_IPV6, IPV6_TCLASS, -1);
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_TCLASS, &v) == 0 && v == 0);
	tsetint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 7);
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v) == 0 && v == 7);
	tsetint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 0);
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v) == 0 && v == 0);
	tsetint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, -1);
	CHECK(tgetint(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v) == 0 && v == 64);
	v = -2;
	CHECK(tops->setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v,
			       sizeof(v)) == -EINVAL);
	CHECK(tgetint(s, SOL_SOCKET, SO_DOMAIN, &v) == 0 && v == AF_INET6);
	tnet_down(&net);
}

/* ---- TCP over IPv6 on the wire ---- */

static const struct topts t6opts = { .ip6 = true };

/* tconnect6() - an AF_INET6 socket of @n connecting to [@addr]:@port. */
static struct cove_sock *tconnect6(struct tnode *n, const char *addr,
				   uint16_t port)
{
	struct cove_sock *s = tsock6(n);
	struct sockaddr_in6 a = tsin6(addr, port);

	CHECK(tops->connect(s, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	return s;
}

/* tlisten6() - a dual-stack [::]:@port listener on @n. */
static struct cove_sock *tlisten6(struct tnode *n, uint16_t port, int backlog)
{
	struct cove_sock *s = tsock6(n);

	tsetint(s, SOL_SOCKET, SO_REUSEADDR, 1);
	REQUIRE(tbind6(s, "::", port) == 0);
	REQUIRE(tops->listen(s, backlog) == 0);
	return s;
}

#define T6_NCONN 24u

/* Many connections at once, each a verified bulk flow both ways. */
struct t6many {
	struct cove_sock *l;
	struct cove_sock *c[T6_NCONN], *s[T6_NCONN];
	struct tflow up[T6_NCONN], down[T6_NCONN]; /* c -> s, s -> c */
	unsigned accepted;
	uint64_t bytes;
};

/* t6_step_acc() - accept until every connection is in. */
static bool t6_step_acc(struct tnet *net, void *ctx)
{
	struct t6many *m = ctx;
	struct cove_sock *s;

	while (m->accepted < T6_NCONN && (s = taccept(&net->b, m->l)))
		m->s[m->accepted++] = s;
	return m->accepted == T6_NCONN;
}

/* t6_step_many() - move every flow; done when all have ended both ways. */
static bool t6_step_many(struct tnet *net, void *ctx)
{
	struct t6many *m = ctx;
	unsigned i, done = 0;

	(void)net;
	for (i = 0; i < T6_NCONN; i++) {
		tflow_step(&m->up[i]);
		tflow_step(&m->down[i]);
		done += m->up[i].eof && m->down[i].eof;
	}
	return done == T6_NCONN;
}

/*
 * T6_NCONN connections to [fd00::2] at once, 256 KiB each way, every
 * byte checked. Accept order need not be connect order, so a pair is
 * matched by the ports (getpeername() of the child, getsockname() of the
 * client), and the flows start once both ends are known.
 */
static void test_v6_many(void)
{
	static struct t6many m;
	struct sockaddr_in6 a;
	struct tcp_info ti;
	socklen_t len;
	struct tnet net;
	unsigned i, k;

	tnet_up(&net, &t6opts);
	memset(&m, 0, sizeof(m));
	m.bytes = 256u << 10;
	m.l = tlisten6(&net.b, 80, 64);
	for (i = 0; i < T6_NCONN; i++)
		m.c[i] = tconnect6(&net.a, "fd00::2", 80);
	/* accept all (SYNs behind neighbour discovery come again after
	 * their retransmission timeout), then pair them by port */
	REQUIRE(tnet_loop(&net, t6_step_acc, &m, 10000));
	for (i = 0; i < T6_NCONN; i++) {
		struct cove_sock *c = NULL;

		len = sizeof(a);
		REQUIRE(tops->getpeername(m.s[i], (struct sockaddr *)&a,
					  &len) == 0);
		CHECK(!strncmp(tname6(&a, len), "fd00::1 ", 8));
		for (k = 0; k < T6_NCONN; k++) {
			struct sockaddr_in6 b;
			socklen_t bl = sizeof(b);

			REQUIRE(tops->getsockname(m.c[k], (struct sockaddr *)&b,
						  &bl) == 0);
			if (b.sin6_port == a.sin6_port)
				c = m.c[k];
		}
		REQUIRE(c);
		m.up[i] = (struct tflow){
			.tx = c, .rx = m.s[i], .total = m.bytes, .dir = 0
		};
		m.down[i] = (struct tflow){
			.tx = m.s[i], .rx = c, .total = m.bytes, .dir = 1
		};
	}
	/* timestamps, SACK and window scaling were agreed over IPv6 */
	len = sizeof(ti);
	REQUIRE(tops->getsockopt(m.c[0], IPPROTO_TCP, TCP_INFO, &ti, &len) ==
		0);
	CHECK(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	CHECK(ti.tcpi_options & TCPI_OPT_SACK);
	CHECK(ti.tcpi_options & TCPI_OPT_WSCALE);
	CHECK(ti.tcpi_snd_mss == 1500 - 60 - 12);
	CHECK(tnet_loop(&net, t6_step_many, &m, 120000));
	for (i = 0; i < T6_NCONN; i++) {
		CHECK(!m.up[i].bad && m.up[i].got == m.bytes);
		CHECK(!m.down[i].bad && m.down[i].got == m.bytes);
	}
	tnet_down(&net);
}

/* A lossy, reordering link: SACK recovery and retransmission over IPv6. */
static void test_v6_impaired(void)
{
	struct topts o = { .ip6 = true,
			   .impair = "drop=2,dup=1,reorder=2,seed=3" };
	struct tflow up, down;
	struct t6conn p = { 0 };
	struct tnet net;
	uint64_t rtx, end;

	tnet_up(&net, &o);
	p.l = tlisten6(&net.b, 80, 8);
	p.c = tconnect6(&net.a, "fd00::2", 80);
	REQUIRE(tnet_loop(&net, t6_step_accept, &p, 20000));
	up = (struct tflow){ .tx = p.c, .rx = p.s, .total = 2u << 20 };
	down = (struct tflow){
		.tx = p.s, .rx = p.c, .total = 2u << 20, .dir = 1
	};
	end = tnet_now + 400ull * 1000000000ull;
	while (!(up.eof && down.eof) && tnet_now < end) {
		tflow_step(&up);
		tflow_step(&down);
		tadvance(&net, 5);
	}
	CHECK(up.eof && !up.bad && up.got == up.total);
	CHECK(down.eof && !down.bad && down.got == down.total);
	rtx = tstats(&net.a).tcp_retransmits + tstats(&net.b).tcp_retransmits;
	CHECK(rtx > 0);
	CHECK(tctx(&net.a)->sack_recoveries + tctx(&net.b)->sack_recoveries >
	      0);
	tnet_down(&net);
}

/*
 * One local port, one remote port, both families: A binds port 4000 on
 * 10.0.0.1 and on [fd00::1] and connects both to B's dual-stack :80.
 * The 4-tuples differ only in the family; B keeps two connections
 * apart, and a forged IPv6 segment naming the IPv4 tuple in mapped form
 * is dropped, never delivered.
 */
static void test_cross_family_tuples(void)
{
	struct sockaddr_in to4 = tsin("10.0.0.2", 80);
	struct sockaddr_in6 to6 = tsin6("fd00::2", 80);
	struct cove_sock *l, *c4, *c6, *s[2] = { 0 };
	struct tnet net;
	char buf[16];
	unsigned i;

	tnet_up(&net, &t6opts);
	l = tlisten6(&net.b, 80, 8);
	c4 = tsock(&net.a);
	c6 = tsock6(&net.a);
	CHECK(tbind4(c4, "10.0.0.1", 4000) == 0);
	CHECK(tbind6(c6, "fd00::1", 4000) == 0); /* v6-only: no conflict */
	CHECK(tops->connect(c4, (struct sockaddr *)&to4, sizeof(to4)) ==
	      -EINPROGRESS);
	CHECK(tops->connect(c6, (struct sockaddr *)&to6, sizeof(to6)) ==
	      -EINPROGRESS);
	tadvance(&net, 500);
	for (i = 0; i < 2; i++)
		s[i] = taccept(&net.b, l);
	REQUIRE(s[0] && s[1]);
	CHECK(tsend(c4, "four", 4) == 4);
	CHECK(tsend(c6, "six", 3) == 3);
	tadvance(&net, 100);
	for (i = 0; i < 2; i++) {
		struct sockaddr_in6 a;
		socklen_t len = sizeof(a);
		ssize_t n;

		memset(buf, 0, sizeof(buf));
		n = trecv(s[i], buf, sizeof(buf), 0);
		REQUIRE(tops->getpeername(s[i], (struct sockaddr *)&a, &len) ==
			0);
		if (IN6_IS_ADDR_V4MAPPED(&a.sin6_addr))
			CHECK(n == 4 && !strcmp(buf, "four"));
		else
			CHECK(n == 3 && !strcmp(buf, "six"));
		CHECK(ntohs(a.sin6_port) == 4000);
	}
	tnet_down(&net);
}

/* t6_mac() - a node's MAC address (for frames a test puts on its wire). */
static const uint8_t *t6_mac(struct tnode *n)
{
	return ((const struct bstack *)(void *)n->st)->mac;
}

/*
 * t6_inject() - hand @n an IPv6 frame: Ethernet to @n's MAC, the IPv6
 * header (@src -> @dst, next header @nh), then @l4 (@l4_len bytes) whose
 * checksum at @csum_off (if >= 0) is filled for that pseudo-header.
 */
static void t6_inject(struct tnode *n, const char *src, const char *dst,
		      uint8_t nh, uint8_t *l4, uint32_t l4_len, int csum_off)
{
	struct cove_frame *f = cove_frame_alloc(&n->pool);
	struct in6_addr s6, d6;
	uint16_t c;
	uint8_t *p;

	REQUIRE(f && inet_pton(AF_INET6, src, &s6) == 1 &&
		inet_pton(AF_INET6, dst, &d6) == 1);
	if (csum_off >= 0) {
		l4[csum_off] = l4[csum_off + 1] = 0;
		c = ip6_csum(&s6, &d6, nh, l4, l4_len);
		memcpy(l4 + csum_off, &c, 2);
	}
	p = f->data;
	memcpy(p, t6_mac(n), 6);
	memset(p + 6, 0x02, 6);
	p[12] = 0x86;
	p[13] = 0xdd;
	memset(p + 14, 0, 40);
	p[14] = 0x60;
	p[18] = (uint8_t)(l4_len >> 8);
	p[19] = (uint8_t)l4_len;
	p[20] = nh;
	p[21] = 64;
	memcpy(p + 22, &s6, 16);
	memcpy(p + 38, &d6, 16);
	memcpy(p + 54, l4, l4_len);
	f->len = 54 + l4_len;
	tops->input(n->st, &f, 1);
}

/*
 * A Packet Too Big from a router (fd00::99) about a segment A sent halfway
 * through a bulk transfer: the path MTU drops to 1280, A's MSS to 1208
 * (1280 - 60 - 12 of timestamps), what was in flight is sent again, and
 * every byte still arrives. A PTB quoting a sequence number outside the
 * flight changes nothing.
 */
static void test_v6_ptb(void)
{
	struct tflow up = { 0 };
	struct t6conn p = { 0 };
	uint8_t m[8 + 40 + 20] = { 2 };
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct tcb *t;
	struct tnet net;
	uint64_t rtx, end;

	tnet_up(&net, &t6opts);
	p.l = tlisten6(&net.b, 80, 8);
	p.c = tconnect6(&net.a, "fd00::2", 80);
	REQUIRE(tnet_loop(&net, t6_step_accept, &p, 10000));
	up = (struct tflow){ .tx = p.c, .rx = p.s, .total = 8u << 20 };
	while (up.got < up.total / 2) {
		tflow_step(&up);
		tadvance(&net, 1);
	}
	t = tcb_of((struct bsock *)(void *)p.c);
	CHECK(t->smss == 1440);
	/* the quoted segment: ours to B, a sequence number in flight */
	m[4] = 0;
	m[5] = 0;
	m[6] = 1280 >> 8;
	m[7] = 1280 & 0xff;
	m[8] = 0x60;
	m[12] = 0x05;
	m[13] = 0xb4;
	m[14] = IPPROTO_TCP;
	m[15] = 64;
	memcpy(m + 16, &t->laddr, 16);
	memcpy(m + 32, &t->raddr, 16);
	cove_put16(m + 48, t->lport);
	cove_put16(m + 50, t->rport);
	cove_put32(m + 52, t->snd_una - 100000); /* not in flight */
	t6_inject(&net.a, "fd00::99", "fd00::1", IPPROTO_ICMPV6, m, sizeof(m),
		  2);
	CHECK(tctx(&net.a)->pmtu_lowered == 0);
	rtx = tstats(&net.a).tcp_retransmits;
	cove_put32(m + 52, t->snd_una);
	t6_inject(&net.a, "fd00::99", "fd00::1", IPPROTO_ICMPV6, m, sizeof(m),
		  2);
	CHECK(tctx(&net.a)->pmtu_lowered == 1);
	CHECK(t->smss == 1220 && t->mss == 1208);
	REQUIRE(tops->getsockopt(p.c, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0);
	CHECK(ti.tcpi_snd_mss == 1208 && ti.tcpi_pmtu == 1280);
	CHECK(tstats(&net.a).tcp_retransmits > rtx);
	end = tnet_now + 600ull * 1000000000ull;
	while (!up.eof && tnet_now < end) {
		tflow_step(&up);
		tadvance(&net, 1);
	}
	CHECK(up.eof && !up.bad && up.got == up.total);
	tnet_down(&net);
}

/*
 * SYN cookies over IPv6: B at its embryonic limit answers with a cookie
 * and keeps nothing; the returning ACK makes the connection, with the MSS
 * of Linux's IPv6 table (1440 for the peer's 1440) and the options the
 * timestamp carried.
 */
static void test_v6_syncookie(void)
{
	struct t6conn p = { 0 };
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct tnet net;

	tnet_up(&net, &t6opts);
	p.l = tlisten6(&net.b, 80, 8);
	tctx(&net.b)->max_embryonic = 0;
	p.c = tconnect6(&net.a, "fd00::2", 80);
	REQUIRE(tnet_loop(&net, t6_step_accept, &p, 10000));
	CHECK(tctx(&net.b)->syncookies_sent == 1);
	CHECK(tctx(&net.b)->syncookies_recv == 1);
	REQUIRE(tops->getsockopt(p.s, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0);
	CHECK(ti.tcpi_snd_mss == 1440 - 12);
	CHECK(ti.tcpi_options & TCPI_OPT_SACK);
	CHECK(ti.tcpi_options & TCPI_OPT_WSCALE);
	techo(&net, p.c, p.s);
	tctx(&net.b)->max_embryonic = 4096;
	tnet_down(&net);
}

/*
 * An IPv6 segment with a mapped source is refused (by ipv6.c, and
 * tcp_layer_input6() would too), never demultiplexed onto IPv4 state.
 */
static void test_v6_mapped_source(void)
{
	uint8_t seg[20] = { 0x9c, 0x40, 0, 80, [12] = 0x50, [13] = TH_SYN };
	struct tnet net;
	uint64_t bad;

	tnet_up(&net, &t6opts);
	(void)tlisten6(&net.b, 80, 8);
	tadvance(&net, 10);
	bad = tstats(&net.b).rx_dropped;
	t6_inject(&net.b, "::ffff:10.0.0.1", "fd00::2", IPPROTO_TCP, seg,
		  sizeof(seg), 16);
	tadvance(&net, 10);
	CHECK(tstats(&net.b).rx_dropped >= bad + 1);
	CHECK(tctx(&net.b)->nembryonic == 0);
	tnet_down(&net);
}

/*
 * RFC 5961 over IPv6: a RST inside the window but not at rcv_nxt draws a
 * challenge ACK and leaves the connection up; one at rcv_nxt resets it.
 */
static void test_v6_challenge_ack(void)
{
	uint8_t rst[20] = { [12] = 0x50, [13] = TH_RST };
	struct t6conn p = { 0 };
	struct tcb *t;
	struct tnet net;
	uint64_t chal;

	tnet_up(&net, &t6opts);
	p.l = tlisten6(&net.b, 80, 8);
	p.c = tconnect6(&net.a, "fd00::2", 80);
	REQUIRE(tnet_loop(&net, t6_step_accept, &p, 10000));
	t = tcb_of((struct bsock *)(void *)p.c);
	cove_put16(rst, t->rport);
	cove_put16(rst + 2, t->lport);
	cove_put32(rst + 4, t->rcv_nxt + 1000);
	chal = tstats(&net.a).tcp_challenge_acks;
	t6_inject(&net.a, "fd00::2", "fd00::1", IPPROTO_TCP, rst, sizeof(rst),
		  16);
	CHECK(tstats(&net.a).tcp_challenge_acks == chal + 1);
	CHECK(t->state == TCPS_ESTABLISHED);
	cove_put32(rst + 4, t->rcv_nxt);
	t6_inject(&net.a, "fd00::2", "fd00::1", IPPROTO_TCP, rst, sizeof(rst),
		  16);
	CHECK(t->state == TCPS_CLOSED);
	CHECK(tsockerr(p.c) == ECONNRESET);
	tnet_down(&net);
}

/*
 * Link-local: a connect to B's fe80:: address needs the scope id of the
 * interface (ip6_ifindex()); accept() and getsockname() name both ends
 * with it, as Linux does.
 */
static void test_v6_link_local(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons(80) };
	socklen_t len = sizeof(a);
	const uint8_t *mac;
	struct t6conn p = { 0 };
	struct tnet net;
	uint32_t ifx;

	tnet_up(&net, &t6opts);
	ifx = ip6_ifindex((const struct bstack *)(void *)net.a.st);
	mac = t6_mac(&net.b);
	a.sin6_addr.s6_addr[0] = 0xfe;
	a.sin6_addr.s6_addr[1] = 0x80;
	a.sin6_addr.s6_addr[8] = mac[0] ^ 2;
	a.sin6_addr.s6_addr[9] = mac[1];
	a.sin6_addr.s6_addr[10] = mac[2];
	a.sin6_addr.s6_addr[11] = 0xff;
	a.sin6_addr.s6_addr[12] = 0xfe;
	memcpy(&a.sin6_addr.s6_addr[13], mac + 3, 3);
	p.l = tlisten6(&net.b, 80, 8);
	tadvance(&net, 3000); /* past DAD of the link-local addresses */
	p.c = tsock6(&net.a);
	CHECK(tops->connect(p.c, (struct sockaddr *)&a, sizeof(a)) == -EINVAL);
	a.sin6_scope_id = ifx + 1;
	CHECK(tops->connect(p.c, (struct sockaddr *)&a, sizeof(a)) ==
	      -ENETUNREACH);
	a.sin6_scope_id = ifx;
	CHECK(tops->connect(p.c, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	REQUIRE(tnet_loop(&net, t6_step_accept, &p, 10000));
	CHECK(IN6_IS_ADDR_LINKLOCAL(&p.peer.sin6_addr));
	CHECK(p.peer.sin6_scope_id == ifx);
	CHECK(tops->getsockname(p.s, (struct sockaddr *)&a, &len) == 0);
	CHECK(IN6_IS_ADDR_LINKLOCAL(&a.sin6_addr) && a.sin6_scope_id == ifx);
	len = sizeof(a);
	CHECK(tops->getsockname(p.c, (struct sockaddr *)&a, &len) == 0);
	CHECK(IN6_IS_ADDR_LINKLOCAL(&a.sin6_addr) && a.sin6_scope_id == ifx);
	techo(&net, p.c, p.s);
	tnet_down(&net);
}

int main(void)
{
	RUN(test_dual_accept);
	RUN(test_v6only_refuses_v4);
	RUN(test_mapped_connect);
	RUN(test_bind_conflicts);
	RUN(test_addr_errors);
	RUN(test_ipv6_options);
	RUN(test_v6_many);
	RUN(test_v6_impaired);
	RUN(test_cross_family_tuples);
	RUN(test_v6_ptb);
	RUN(test_v6_syncookie);
	RUN(test_v6_mapped_source);
	RUN(test_v6_challenge_ack);
	RUN(test_v6_link_local);
	return check_summary();
}
