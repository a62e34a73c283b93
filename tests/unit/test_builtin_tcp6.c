// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP with AF_INET6 sockets: dual stack as Linux, bind conflicts, options. */
#include <stdio.h>
#include <stdlib.h>

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

int main(void)
{
	RUN(test_dual_accept);
	RUN(test_v6only_refuses_v4);
	RUN(test_mapped_connect);
	RUN(test_bind_conflicts);
	RUN(test_addr_errors);
	RUN(test_ipv6_options);
	return check_summary();
}
