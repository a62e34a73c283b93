// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the builtin stack's IPv4 multicast: memberships, delivery, loop, TTL, IGMP. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "cove/netstack.h"
#include "stacks/builtin/core.h"
#include "tests/unit/check.h"

/*
 * Instance A (10.0.0.1/24) on one end of a mem link; the other end is
 * either instance B (10.0.0.2, "pair") or the test reading and crafting
 * frames itself ("solo"). Time is fake. The errors asserted are what
 * Linux answers to the same calls (checked on a kernel with a default
 * route, as a sandbox has).
 */

#define POOL_FRAMES 1024u
#define OUR_IFINDEX 2

static uint64_t now_ns = 1000000000ull;
static const struct cove_netstack_ops *ops;

struct node {
	struct cove_frame_pool pool;
	struct cove_link *link;
	struct cove_stack *st;
};

struct net {
	struct node a, b;
};

static uint64_t fake_now(void *host)
{
	(void)host;
	return now_ns;
}

static void on_notify(void *host, struct cove_sock *s, void *cookie,
		      uint32_t ev)
{
	(void)host;
	(void)s;
	(void)cookie;
	(void)ev;
}

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	REQUIRE(inet_pton(AF_INET, s, &a) == 1);
	return a.s_addr;
}

static void node_create(struct node *n, const char *a4)
{
	struct cove_stack_config cfg = {
		.size = sizeof(cfg),
		.prefix_len = 24,
		.seed = 7,
		.flags = COVE_STACK_F_NO_GARP | COVE_STACK_F_NO_DAD,
	};
	struct cove_stack_env env = {
		.link = n->link,
		.notify = on_notify,
		.now_ns = fake_now,
		.host = n,
	};

	cfg.addr.s_addr = ip4(a4);
	cfg.gateway.s_addr = ip4("10.0.0.254");
	REQUIRE(ops->create(&cfg, &env, &n->st) == 0);
}

static void net_up(struct net *net, bool pair)
{
	memset(net, 0, sizeof(*net));
	REQUIRE(!cove_frame_pool_init(&net->a.pool, POOL_FRAMES,
				      COVE_FRAME_DEFAULT_SIZE));
	REQUIRE(!cove_frame_pool_init(&net->b.pool, POOL_FRAMES,
				      COVE_FRAME_DEFAULT_SIZE));
	REQUIRE(!cove_link_mem_pair(&net->a.pool, &net->b.pool, &net->a.link,
				    &net->b.link));
	node_create(&net->a, "10.0.0.1");
	if (pair)
		node_create(&net->b, "10.0.0.2");
}

/* pump() - move frames both ways and run both stacks until all is quiet. */
static void pump(struct net *net)
{
	struct node *nodes[2] = { &net->a, &net->b };
	struct cove_frame *f[64];
	unsigned i, n, rounds, quiet = 0;
	bool busy;

	for (rounds = 0; quiet < 2 && rounds < 10000; rounds++) {
		busy = false;
		for (i = 0; i < 2; i++) {
			if (!nodes[i]->st)
				continue;
			while ((n = cove_link_rx_burst(nodes[i]->link, f,
						       64))) {
				ops->input(nodes[i]->st, f, n);
				busy = true;
			}
			if (ops->run(nodes[i]->st, now_ns) <= now_ns)
				busy = true;
		}
		quiet = busy ? 0 : quiet + 1;
	}
	REQUIRE(rounds < 10000);
}

/* wire() - the next frame A sent (solo), NULL when none; caller frees. */
static struct cove_frame *wire(struct net *net)
{
	struct cove_frame *f;

	ops->run(net->a.st, now_ns);
	return cove_link_rx_burst(net->b.link, &f, 1) == 1 ? f : NULL;
}

static void wire_drain(struct net *net)
{
	struct cove_frame *f;

	while ((f = wire(net)))
		cove_frame_free(f);
}

/* later() - let @ms of fake time pass on A (solo). */
static void later(struct net *net, uint64_t ms)
{
	uint64_t end = now_ns + ms * 1000000ull, d;

	while (now_ns < end) {
		d = ops->run(net->a.st, now_ns);
		now_ns = d > now_ns && d < end ? d : end;
	}
	ops->run(net->a.st, now_ns);
}

static void net_down(struct net *net)
{
	if (!net->b.st)
		wire_drain(net);
	ops->destroy(net->a.st);
	if (net->b.st) {
		ops->destroy(net->b.st);
	} else { /* what destroy sent (leaves) */
		struct cove_frame *f;

		while (cove_link_rx_burst(net->b.link, &f, 1) == 1)
			cove_frame_free(f);
	}
	cove_link_close(net->a.link);
	cove_link_close(net->b.link);
	CHECK(cove_frame_pool_fini(&net->a.pool) == 0);
	CHECK(cove_frame_pool_fini(&net->b.pool) == 0);
}

static struct cove_stack_stats stats(struct node *n)
{
	struct cove_stack_stats s;

	REQUIRE(cove_stack_read_stats(ops, n->st, &s) == 0);
	return s;
}

/* ---- sockets ---- */

static struct cove_sock *sock(struct node *n, const char *addr, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	struct cove_sock *s;
	int one = 1;

	REQUIRE(ops->socket(n->st, AF_INET, SOCK_DGRAM, 0, &s) == 0);
	REQUIRE(ops->setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof(one)) == 0);
	if (addr) {
		a.sin_addr.s_addr = ip4(addr);
		REQUIRE(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	}
	return s;
}

static int setint(struct cove_sock *s, int name, int v)
{
	return ops->setsockopt(s, IPPROTO_IP, name, &v, sizeof(v));
}

static int getint(struct cove_sock *s, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	REQUIRE(ops->getsockopt(s, IPPROTO_IP, name, &v, &l) == 0);
	return v;
}

/* mreq() - IP_ADD/DROP_MEMBERSHIP with an ip_mreq (@ifi < 0) or ip_mreqn. */
static int mreq(struct cove_sock *s, int name, const char *g, const char *ifa,
		int ifi)
{
	struct ip_mreqn mr = { .imr_ifindex = ifi < 0 ? 0 : ifi };

	mr.imr_multiaddr.s_addr = ip4(g);
	mr.imr_address.s_addr = ip4(ifa);
	return ops->setsockopt(s, IPPROTO_IP, name, &mr,
			       ifi < 0 ? sizeof(struct ip_mreq) : sizeof(mr));
}

static int join(struct cove_sock *s, const char *g)
{
	return mreq(s, IP_ADD_MEMBERSHIP, g, "0.0.0.0", -1);
}

static int msrc(struct cove_sock *s, int name, const char *g, const char *src)
{
	struct ip_mreq_source m;

	m.imr_multiaddr.s_addr = ip4(g);
	m.imr_interface.s_addr = 0;
	m.imr_sourceaddr.s_addr = ip4(src);
	return ops->setsockopt(s, IPPROTO_IP, name, &m, sizeof(m));
}

static ssize_t send_to(struct cove_sock *s, const char *addr, uint16_t port,
		       const char *msg)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = strlen(msg) };
	struct msghdr m = { .msg_name = &a,
			    .msg_namelen = sizeof(a),
			    .msg_iov = &iov,
			    .msg_iovlen = 1 };

	a.sin_addr.s_addr = ip4(addr);
	return ops->sendmsg(s, &m, 0);
}

/* recv_pi() - one datagram, with its source and, if any, IP_PKTINFO. */
static ssize_t recv_pi(struct cove_sock *s, char *buf, size_t len,
		       struct sockaddr_in *from, struct in_pktinfo *pi)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} cb;
	struct iovec iov = { .iov_base = buf, .iov_len = len - 1 };
	struct msghdr m = { .msg_name = from,
			    .msg_namelen = from ? sizeof(*from) : 0,
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cb.b,
			    .msg_controllen = sizeof(cb.b) };
	struct cmsghdr *c;
	ssize_t r = ops->recvmsg(s, &m, 0);

	if (r >= 0)
		buf[r] = 0;
	if (pi)
		memset(pi, 0, sizeof(*pi));
	for (c = r >= 0 && m.msg_controllen ? CMSG_FIRSTHDR(&m) : NULL; c;
	     c = CMSG_NXTHDR(&m, c))
		if (pi && c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_PKTINFO)
			memcpy(pi, CMSG_DATA(c), sizeof(*pi));
	return r;
}

static bool got(struct cove_sock *s, const char *want)
{
	char buf[64];

	return recv_pi(s, buf, sizeof(buf), NULL, NULL) ==
		       (ssize_t)strlen(want) &&
	       !strcmp(buf, want);
}

static bool empty(struct cove_sock *s)
{
	char buf[64];

	return recv_pi(s, buf, sizeof(buf), NULL, NULL) == -EAGAIN;
}

/* ---- the option calls and their errors ---- */

static void test_membership_errors(void)
{
	struct net net;
	struct cove_sock *s, *t, *s6;
	char g[32];
	unsigned i;

	net_up(&net, false);
	s = sock(&net.a, NULL, 0);
	CHECK(join(s, "239.1.1.1") == 0);
	CHECK(join(s, "239.1.1.1") == -EADDRINUSE);
	CHECK(mreq(s, IP_ADD_MEMBERSHIP, "239.1.1.1", "0.0.0.0", OUR_IFINDEX) ==
	      -EADDRINUSE);
	CHECK(join(s, "10.0.0.5") == -EINVAL);
	CHECK(ops->setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, "\xef\1\1\2",
			      4) == -EINVAL);
	CHECK(mreq(s, IP_ADD_MEMBERSHIP, "239.1.1.3", "0.0.0.0", 99) ==
	      -ENODEV);
	CHECK(mreq(s, IP_ADD_MEMBERSHIP, "239.1.1.4", "10.9.9.9", -1) ==
	      -ENODEV);
	CHECK(mreq(s, IP_ADD_MEMBERSHIP, "239.1.1.5", "10.0.0.1", -1) == 0);
	CHECK(mreq(s, IP_DROP_MEMBERSHIP, "239.1.1.5", "10.0.0.7", -1) ==
	      -EADDRNOTAVAIL);
	CHECK(mreq(s, IP_DROP_MEMBERSHIP, "239.1.1.5", "0.0.0.0", -1) == 0);
	CHECK(mreq(s, IP_DROP_MEMBERSHIP, "239.9.9.9", "0.0.0.0", -1) ==
	      -EADDRNOTAVAIL);
	CHECK(mreq(s, IP_DROP_MEMBERSHIP, "10.0.0.5", "0.0.0.0", -1) ==
	      -EADDRNOTAVAIL);
	CHECK(mreq(s, IP_DROP_MEMBERSHIP, "239.1.1.1", "0.0.0.0", 99) ==
	      -EADDRNOTAVAIL);
	CHECK(mreq(s, IP_DROP_MEMBERSHIP, "239.1.1.1", "0.0.0.0",
		   OUR_IFINDEX) == 0);
	for (i = 0; i < 20; i++) {
		snprintf(g, sizeof(g), "239.2.0.%u", i + 1);
		CHECK(join(s, g) == 0);
	}
	CHECK(join(s, "239.2.1.1") == -ENOBUFS); /* IP_MAX_MEMBERSHIPS */
	ops->close(s);

	/* IP_MULTICAST_ALL: 1 by default, 0 or 1 (an int or a byte) */
	s = sock(&net.a, NULL, 0);
	CHECK(getint(s, IP_MULTICAST_ALL) == 1);
	CHECK(setint(s, IP_MULTICAST_ALL, 2) == -EINVAL);
	CHECK(setint(s, IP_MULTICAST_ALL, 0) == 0);
	CHECK(getint(s, IP_MULTICAST_ALL) == 0);
	CHECK(ops->setsockopt(s, IPPROTO_IP, IP_MULTICAST_ALL, "\1", 1) == 0);
	CHECK(getint(s, IP_MULTICAST_ALL) == 1);
	CHECK(ops->setsockopt(s, IPPROTO_IP, IP_MULTICAST_ALL, "", 0) ==
	      -EINVAL);

	/* source filters, as net/ipv4/igmp.c's ip_mc_source() */
	CHECK(msrc(s, IP_BLOCK_SOURCE, "232.1.1.1", "10.0.0.9") == -EINVAL);
	{
		char big[sizeof(struct ip_mreq_source) + 4] = { 0 };

		CHECK(ops->setsockopt(s, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP,
				      big, sizeof(big)) == -EINVAL);
	}
	CHECK(msrc(s, IP_ADD_SOURCE_MEMBERSHIP, "10.1.1.1", "10.0.0.9") ==
	      -EINVAL);
	CHECK(msrc(s, IP_ADD_SOURCE_MEMBERSHIP, "232.1.1.1", "10.0.0.9") == 0);
	CHECK(msrc(s, IP_ADD_SOURCE_MEMBERSHIP, "232.1.1.1", "10.0.0.9") ==
	      -EADDRNOTAVAIL);
	CHECK(join(s, "232.1.1.1") == -EADDRINUSE);
	CHECK(msrc(s, IP_BLOCK_SOURCE, "232.1.1.1", "10.0.0.8") == -EINVAL);
	CHECK(msrc(s, IP_DROP_SOURCE_MEMBERSHIP, "232.1.1.1", "10.0.0.8") ==
	      -EADDRNOTAVAIL);
	CHECK(msrc(s, IP_UNBLOCK_SOURCE, "232.1.1.1", "10.0.0.9") == -EINVAL);
	CHECK(msrc(s, IP_DROP_SOURCE_MEMBERSHIP, "232.1.1.1", "10.0.0.9") == 0);
	CHECK(mreq(s, IP_DROP_MEMBERSHIP, "232.1.1.1", "0.0.0.0", -1) ==
	      -EADDRNOTAVAIL); /* INCLUDE {} was a leave */
	CHECK(join(s, "239.5.5.5") == 0);
	CHECK(msrc(s, IP_ADD_SOURCE_MEMBERSHIP, "239.5.5.5", "10.0.0.9") == 0);
	CHECK(msrc(s, IP_BLOCK_SOURCE, "239.5.5.5", "10.0.0.8") == -EINVAL);
	CHECK(join(s, "239.6.6.6") == 0);
	CHECK(msrc(s, IP_BLOCK_SOURCE, "239.6.6.6", "10.0.0.8") == 0);
	CHECK(msrc(s, IP_BLOCK_SOURCE, "239.6.6.6", "10.0.0.8") ==
	      -EADDRNOTAVAIL);
	CHECK(msrc(s, IP_UNBLOCK_SOURCE, "239.6.6.6", "10.0.0.7") ==
	      -EADDRNOTAVAIL);
	CHECK(msrc(s, IP_ADD_SOURCE_MEMBERSHIP, "239.6.6.6", "10.0.0.9") ==
	      -EINVAL);
	CHECK(msrc(s, IP_UNBLOCK_SOURCE, "239.6.6.6", "10.0.0.8") == 0);
	CHECK(msrc(s, IP_UNBLOCK_SOURCE, "239.6.6.6", "10.0.0.8") ==
	      -EADDRNOTAVAIL);
	CHECK(mreq(s, IP_DROP_MEMBERSHIP, "239.6.6.6", "0.0.0.0", -1) == 0);
	CHECK(join(s, "239.7.7.7") == 0);
	for (i = 0; i < 10; i++) {
		snprintf(g, sizeof(g), "10.0.1.%u", i + 1);
		CHECK(msrc(s, IP_BLOCK_SOURCE, "239.7.7.7", g) == 0);
	}
	CHECK(msrc(s, IP_BLOCK_SOURCE, "239.7.7.7", "10.0.2.1") == -ENOBUFS);
	{
		struct ip_mreq mr;
		socklen_t l = sizeof(mr);

		CHECK(ops->getsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
				      &l) == -ENOPROTOOPT);
	}
	ops->close(s);

	/* TCP refuses groups (EPROTO); an AF_INET6 socket may join IPv4 ones */
	REQUIRE(ops->socket(net.a.st, AF_INET, SOCK_STREAM, 0, &t) == 0);
	CHECK(join(t, "239.1.1.1") == -EPROTO);
	ops->close(t);
	REQUIRE(ops->socket(net.a.st, AF_INET6, SOCK_DGRAM, 0, &s6) == 0);
	CHECK(join(s6, "239.1.1.1") == 0);
	ops->close(s6);
	net_down(&net);
}

/* ---- delivery between two stacks ---- */

static void test_delivery(void)
{
	struct net net;
	struct cove_sock *tx, *joined, *other, *noall, *bound_g, *bound_u, *g2;
	struct sockaddr_in from;
	struct in_pktinfo pi;
	char buf[64];
	uint64_t dropped;

	net_up(&net, true);
	tx = sock(&net.a, NULL, 0);
	joined = sock(&net.b, "0.0.0.0", 7000);
	other = sock(&net.b, "0.0.0.0", 7000);
	noall = sock(&net.b, "0.0.0.0", 7000);
	bound_g = sock(&net.b, "239.1.1.1", 7000);
	bound_u = sock(&net.b, "10.0.0.2", 7000);
	g2 = sock(&net.b, "239.1.1.2", 7000);
	CHECK(setint(noall, IP_MULTICAST_ALL, 0) == 0);
	CHECK(setint(joined, IP_PKTINFO, 1) == 0);

	/* nobody joined: B's link layer drops the group's frames */
	dropped = stats(&net.b).rx_dropped;
	CHECK(send_to(tx, "239.1.1.1", 7000, "early") == 5);
	pump(&net);
	CHECK(stats(&net.b).rx_dropped == dropped + 1);
	CHECK(empty(joined) && empty(other) && empty(bound_g));

	CHECK(join(joined, "239.1.1.1") == 0);
	pump(&net); /* B's IGMP report reaches A, which ignores it */
	CHECK(send_to(tx, "239.1.1.1", 7000, "one") == 3);
	pump(&net);
	CHECK(recv_pi(joined, buf, sizeof(buf), &from, &pi) == 3);
	CHECK(!strcmp(buf, "one") && from.sin_addr.s_addr == ip4("10.0.0.1"));
	CHECK(pi.ipi_addr.s_addr == ip4("239.1.1.1") &&
	      pi.ipi_spec_dst.s_addr == ip4("10.0.0.2") &&
	      pi.ipi_ifindex == OUR_IFINDEX);
	CHECK(got(other, "one"));   /* IP_MULTICAST_ALL: the port is enough */
	CHECK(empty(noall));	    /* ... unless turned off */
	CHECK(got(bound_g, "one")); /* bound to the group */
	CHECK(empty(bound_u));	    /* bound to a unicast address */
	CHECK(empty(g2));
	CHECK(send_to(tx, "239.1.1.1", 7001, "port") == 4);
	pump(&net);
	CHECK(empty(joined) && empty(other));
	CHECK(stats(&net.a).icmp_in == 0); /* no port unreachable for groups */

	/* a blocked source reaches the others only */
	CHECK(msrc(joined, IP_BLOCK_SOURCE, "239.1.1.1", "10.0.0.1") == 0);
	CHECK(send_to(tx, "239.1.1.1", 7000, "two") == 3);
	pump(&net);
	CHECK(empty(joined) && got(other, "two") && got(bound_g, "two"));
	CHECK(msrc(joined, IP_UNBLOCK_SOURCE, "239.1.1.1", "10.0.0.1") == 0);

	/* the last member leaves: the group's frames are dropped again */
	CHECK(mreq(joined, IP_DROP_MEMBERSHIP, "239.1.1.1", "0.0.0.0", -1) ==
	      0);
	pump(&net);
	CHECK(send_to(tx, "239.1.1.1", 7000, "gone") == 4);
	pump(&net);
	CHECK(empty(joined) && empty(other) && empty(bound_g));

	/* 224.0.0.1 is always ours: IP_MULTICAST_ALL sockets take it */
	CHECK(send_to(tx, "224.0.0.1", 7000, "all") == 3);
	pump(&net);
	CHECK(got(joined, "all") && got(other, "all") && empty(noall));

	ops->close(tx);
	ops->close(joined);
	ops->close(other);
	ops->close(noall);
	ops->close(bound_g);
	ops->close(bound_u);
	ops->close(g2);
	net_down(&net);
}

/* ---- what A puts on the wire: TTL, source, loop ---- */

/* next_udp() - the next UDP frame A sent to a group (reports skipped). */
static struct cove_frame *next_udp(struct net *net)
{
	struct cove_frame *f;

	while ((f = wire(net))) {
		if (f->len >= 42 && f->data[12] == 8 && f->data[13] == 0 &&
		    f->data[23] == 17)
			return f;
		cove_frame_free(f);
	}
	return NULL;
}

static void test_send_loop_ttl(void)
{
	static const uint8_t gmac[6] = { 0x01, 0x00, 0x5e, 0x02, 0x02, 0x02 };
	struct net net;
	struct cove_sock *tx, *rx, *rx2;
	struct cove_frame *f;
	struct ip_mreqn ifr = { .imr_ifindex = 0 };

	net_up(&net, false);
	tx = sock(&net.a, NULL, 0);
	rx = sock(&net.a, "0.0.0.0", 7001);
	rx2 = sock(&net.a, "0.0.0.0", 7001);
	CHECK(getint(tx, IP_MULTICAST_TTL) == 1);
	CHECK(getint(tx, IP_MULTICAST_LOOP) == 1);

	/* nobody here in the group: out on the wire only */
	CHECK(send_to(tx, "239.2.2.2", 7001, "out") == 3);
	f = next_udp(&net);
	CHECK(f && !memcmp(f->data, gmac, 6));
	CHECK(f && f->data[14 + 8] == 1); /* TTL: IP_MULTICAST_TTL's 1 */
	CHECK(f &&
	      !memcmp(f->data + 14 + 12, &(uint32_t){ ip4("10.0.0.1") }, 4));
	if (f)
		cove_frame_free(f);
	CHECK(empty(rx) && empty(rx2));

	/* joined here: looped to every member of the port, and on the wire */
	CHECK(join(rx, "239.2.2.2") == 0);
	wire_drain(&net);
	CHECK(setint(tx, IP_MULTICAST_TTL, 5) == 0);
	CHECK(send_to(tx, "239.2.2.2", 7001, "loop") == 4);
	f = next_udp(&net);
	CHECK(f && f->data[14 + 8] == 5);
	if (f)
		cove_frame_free(f);
	CHECK(got(rx, "loop") && got(rx2, "loop"));

	/* IP_MULTICAST_LOOP 0: the wire only */
	CHECK(setint(tx, IP_MULTICAST_LOOP, 0) == 0);
	CHECK(send_to(tx, "239.2.2.2", 7001, "noloop") == 6);
	f = next_udp(&net);
	CHECK(f != NULL);
	if (f)
		cove_frame_free(f);
	CHECK(empty(rx));

	/* TTL 0: the local copy only */
	CHECK(setint(tx, IP_MULTICAST_LOOP, 1) == 0);
	CHECK(setint(tx, IP_MULTICAST_TTL, 0) == 0);
	CHECK(send_to(tx, "239.2.2.2", 7001, "here") == 4);
	CHECK(next_udp(&net) == NULL);
	CHECK(got(rx, "here"));

	/* IP_MULTICAST_IF names the source; a bound address wins over it */
	ifr.imr_address.s_addr = ip4("10.0.0.1");
	CHECK(ops->setsockopt(tx, IPPROTO_IP, IP_MULTICAST_IF, &ifr,
			      sizeof(ifr)) == 0);
	CHECK(setint(tx, IP_MULTICAST_TTL, -1) == 0);
	CHECK(send_to(tx, "239.2.2.2", 7001, "if") == 2);
	f = next_udp(&net);
	CHECK(f && f->data[14 + 8] == 1 &&
	      !memcmp(f->data + 14 + 12, &(uint32_t){ ip4("10.0.0.1") }, 4));
	if (f)
		cove_frame_free(f);
	CHECK(got(rx, "if"));
	ops->close(tx);
	ops->close(rx);
	ops->close(rx2);
	net_down(&net);
}

/* ---- IGMP ---- */

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IGMP message A sent, checked as a host must send it. */
struct report {
	uint32_t dst;
	uint8_t type;
	const uint8_t *msg; /* into @f */
	size_t len;
	struct cove_frame *f;
};

/* next_igmp() - the next IGMP frame A sent, its framing checked. */
static bool next_igmp(struct net *net, struct report *r)
{
	const uint8_t *ip;
	uint8_t mac[6] = { 0x01, 0x00, 0x5e };
	struct cove_frame *f;

	while ((f = wire(net))) {
		ip = f->data + 14;
		if (f->len >= 14 + 24 + 8 && f->data[12] == 8 &&
		    f->data[13] == 0 && ip[9] == 2)
			break;
		cove_frame_free(f);
	}
	if (!f)
		return false;
	r->f = f;
	memcpy(&r->dst, ip + 16, 4);
	r->msg = ip + 24;
	r->len = (size_t)(ip[2] << 8 | ip[3]) - 24;
	r->type = r->msg[0];
	mac[3] = ip[17] & 0x7f;
	mac[4] = ip[18];
	mac[5] = ip[19];
	CHECK(!memcmp(f->data, mac, 6));
	CHECK(ip[0] == 0x46 && ip[8] == 1);   /* options, TTL 1 */
	CHECK(ip[20] == 0x94 && ip[21] == 4); /* Router Alert */
	CHECK(!memcmp(ip + 12, &(uint32_t){ ip4("10.0.0.1") }, 4));
	CHECK(csum(ip, 24) == 0 && csum(r->msg, r->len) == 0);
	return true;
}

/* v3_record() - record @i of a v3 report: its type, group and sources. */
static bool v3_record(const struct report *r, unsigned i, uint8_t *type,
		      uint32_t *g, unsigned *nsrc, uint32_t *src0)
{
	size_t off = 8;
	unsigned k, n = (unsigned)(r->msg[6] << 8 | r->msg[7]);

	if (r->type != 0x22 || i >= n)
		return false;
	for (k = 0;; k++) {
		unsigned ns =
			(unsigned)(r->msg[off + 2] << 8 | r->msg[off + 3]);

		REQUIRE(off + 8 + 4 * ns <= r->len);
		if (k == i) {
			*type = r->msg[off];
			memcpy(g, r->msg + off + 4, 4);
			*nsrc = ns;
			if (ns)
				memcpy(src0, r->msg + off + 8, 4);
			return true;
		}
		off += 8 + 4 * ns;
	}
}

/*
 * inject_query() - an IGMP query from 10.0.0.2 to 224.0.0.1: @len 8 (v2,
 * or v1 with @code 0) or 12 (v3); @bad: a wrong checksum
 */
static void inject_query(struct net *net, size_t len, uint8_t code,
			 const char *group, bool bad)
{
	uint8_t b[14 + 20 + 12] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	uint8_t *ip = b + 14, *m = b + 34;
	struct cove_frame *f = cove_frame_alloc(&net->b.pool);
	uint16_t c;

	REQUIRE(f);
	memcpy(b + 6, net->b.link->mac, 6);
	b[12] = 8;
	ip[0] = 0x45;
	ip[3] = (uint8_t)(20 + len);
	ip[8] = 1;
	ip[9] = 2;
	memcpy(ip + 12, &(uint32_t){ ip4("10.0.0.2") }, 4);
	memcpy(ip + 16, &(uint32_t){ ip4("224.0.0.1") }, 4);
	c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	m[0] = 0x11;
	m[1] = code;
	memcpy(m + 4, &(uint32_t){ ip4(group) }, 4);
	c = (uint16_t)(csum(m, len) ^ (bad ? 0x0101 : 0));
	m[2] = (uint8_t)(c >> 8);
	m[3] = (uint8_t)c;
	memcpy(f->data, b, 34 + len);
	f->len = (uint32_t)(34 + len);
	REQUIRE(cove_link_tx_burst(net->b.link, &f, 1) == 1);
	ops->run(net->a.st, now_ns);
	{
		struct cove_frame *in[4];
		unsigned n = cove_link_rx_burst(net->a.link, in, 4);

		if (n)
			ops->input(net->a.st, in, n);
	}
}

static void test_igmp(void)
{
	struct net net;
	struct cove_sock *s, *s2;
	struct report r;
	uint8_t type;
	uint32_t g, src;
	uint64_t bad;
	unsigned n;

	net_up(&net, false);
	wire_drain(&net);
	s = sock(&net.a, "0.0.0.0", 7002);
	s2 = sock(&net.a, "0.0.0.0", 7002);

	/* a join: TO_EX({}) now, and once more a second later */
	CHECK(join(s, "239.3.3.3") == 0);
	REQUIRE(next_igmp(&net, &r));
	CHECK(r.dst == ip4("224.0.0.22") && r.type == 0x22);
	CHECK(v3_record(&r, 0, &type, &g, &n, &src) && type == 4 &&
	      g == ip4("239.3.3.3") && n == 0);
	cove_frame_free(r.f);
	CHECK(!next_igmp(&net, &r));
	later(&net, 1000);
	REQUIRE(next_igmp(&net, &r));
	CHECK(v3_record(&r, 0, &type, &g, &n, &src) && type == 4);
	cove_frame_free(r.f);
	later(&net, 3000);
	CHECK(!next_igmp(&net, &r));

	/* a source join: TO_IN({source}) */
	CHECK(msrc(s2, IP_ADD_SOURCE_MEMBERSHIP, "232.4.4.4", "10.0.0.9") == 0);
	REQUIRE(next_igmp(&net, &r));
	CHECK(v3_record(&r, 1, &type, &g, &n, &src) && type == 3 &&
	      g == ip4("232.4.4.4") && n == 1 && src == ip4("10.0.0.9"));
	cove_frame_free(r.f);
	later(&net, 3000);
	wire_drain(&net);

	/* a general v3 query: IS_EX / IS_IN within its 1 s */
	inject_query(&net, 12, 10, "0.0.0.0", false);
	later(&net, 1000);
	REQUIRE(next_igmp(&net, &r));
	CHECK(v3_record(&r, 0, &type, &g, &n, &src) && type == 2 &&
	      g == ip4("239.3.3.3"));
	CHECK(v3_record(&r, 1, &type, &g, &n, &src) && type == 1 && n == 1);
	cove_frame_free(r.f);
	CHECK(!next_igmp(&net, &r));
	/* a query about a group that is none of ours goes unanswered */
	inject_query(&net, 12, 10, "239.9.9.9", false);
	later(&net, 2000);
	CHECK(!next_igmp(&net, &r));
	/* a corrupt query is dropped, counted */
	bad = stats(&net.a).rx_malformed;
	inject_query(&net, 12, 10, "0.0.0.0", true);
	CHECK(stats(&net.a).rx_malformed == bad + 1);
	later(&net, 2000);
	CHECK(!next_igmp(&net, &r));
	/* after a v1/v2 query: IGMPv2 reports, to each group */
	wire_drain(&net);
	inject_query(&net, 8, 10, "0.0.0.0", false);
	later(&net, 1000);
	REQUIRE(next_igmp(&net, &r));
	CHECK(r.type == 0x16 && r.dst == ip4("239.3.3.3") && r.len == 8);
	cove_frame_free(r.f);
	REQUIRE(next_igmp(&net, &r));
	CHECK(r.type == 0x16 && r.dst == ip4("232.4.4.4"));
	cove_frame_free(r.f);
	wire_drain(&net);
	/* ... and a v2 leave to 224.0.0.2 when the last member goes */
	ops->close(s2);
	n = 0;
	while (next_igmp(&net, &r)) {
		if (r.type == 0x17) {
			CHECK(r.dst == ip4("224.0.0.2"));
			CHECK(!memcmp(r.msg + 4,
				      &(uint32_t){ ip4("232.4.4.4") }, 4));
			n++;
		}
		cove_frame_free(r.f);
	}
	CHECK(n == 1);
	/* the v2 querier gone (260 s): a v3 leave, TO_IN({}) */
	later(&net, 261000);
	wire_drain(&net);
	CHECK(mreq(s, IP_DROP_MEMBERSHIP, "239.3.3.3", "0.0.0.0", -1) == 0);
	REQUIRE(next_igmp(&net, &r));
	CHECK(v3_record(&r, 0, &type, &g, &n, &src) && type == 3 &&
	      g == ip4("239.3.3.3") && n == 0);
	cove_frame_free(r.f);
	/* counted inside the stack: the reports above, the three valid queries */
	{
		uint64_t reports, queries;

		igmp_counters((struct bstack *)net.a.st, &reports, &queries);
		CHECK(queries == 3 && reports >= 8);
	}
	ops->close(s);
	net_down(&net);
}

/* A frame to a group we are not in is not taken, nor is a report. */
static void test_foreign_groups(void)
{
	struct net net;
	struct cove_sock *s, *t;
	uint64_t dropped;

	net_up(&net, true);
	pump(&net);
	s = sock(&net.a, "0.0.0.0", 7003);
	t = sock(&net.b, "0.0.0.0", 7003);
	dropped = stats(&net.b).rx_dropped;
	CHECK(join(s, "239.8.8.8") == 0);
	pump(&net); /* A's report to 224.0.0.22: B is not in that group */
	CHECK(stats(&net.b).rx_dropped == dropped + 1);
	/* 239.136.8.8 shares 239.8.8.8's MAC: the IP layer refuses it */
	CHECK(send_to(t, "239.136.8.8", 7003, "near") == 4);
	pump(&net);
	CHECK(empty(s));
	ops->close(t);
	ops->close(s);
	net_down(&net);
}

/*
 * inject_ip() - an IPv4 packet of @proto from 10.0.0.2 to @dst (at its
 * group MAC) with the transport bytes @l4 (@len), whose checksum at
 * @csum_at is filled (with the pseudo-header for TCP)
 */
static void inject_ip(struct net *net, const char *dst, uint8_t proto,
		      uint8_t *l4, size_t len, size_t csum_at)
{
	uint8_t b[200] = { 0x01, 0x00, 0x5e };
	uint32_t d = ip4(dst), sum = 0;
	uint8_t *ip = b + 14, ph[12];
	struct cove_frame *f = cove_frame_alloc(&net->a.pool);
	uint16_t c;
	size_t i;

	REQUIRE(f && len <= sizeof(b) - 34);
	memcpy(b + 3, (uint8_t *)&d + 1, 3);
	b[3] &= 0x7f;
	memcpy(b + 6, net->b.link->mac, 6);
	b[12] = 8;
	ip[0] = 0x45;
	ip[3] = (uint8_t)(20 + len);
	ip[8] = 1;
	ip[9] = proto;
	memcpy(ip + 12, &(uint32_t){ ip4("10.0.0.2") }, 4);
	memcpy(ip + 16, &d, 4);
	c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	if (proto == 6) {
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = 6;
		ph[10] = 0;
		ph[11] = (uint8_t)len;
		for (i = 0; i < 12; i += 2)
			sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	}
	l4[csum_at] = l4[csum_at + 1] = 0;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(l4[i] << 8 | l4[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	l4[csum_at] = (uint8_t)(~sum >> 8);
	l4[csum_at + 1] = (uint8_t)~sum;
	memcpy(b + 34, l4, len);
	memcpy(f->data, b, 34 + len);
	f->len = (uint32_t)(34 + len);
	ops->input(net->a.st, &f, 1);
	ops->run(net->a.st, now_ns);
}

/* TCP and ICMP to a group are dropped, as Linux drops them. */
static void test_group_not_tcp_icmp(void)
{
	struct net net;
	struct cove_sock *l;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	uint8_t syn[20] = { 0x9c, 0x40, 0, 80, 0,    0,	   0,	 1,
			    0,	  0,	0, 0,  0x50, 0x02, 0xff, 0xff };
	uint8_t echo[16] = { 8, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g' };
	uint64_t dropped;
	struct cove_frame *f;

	net_up(&net, false);
	REQUIRE(ops->socket(net.a.st, AF_INET, SOCK_STREAM, 0, &l) == 0);
	REQUIRE(ops->bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(ops->listen(l, 4) == 0);
	wire_drain(&net);
	dropped = stats(&net.a).rx_dropped;
	inject_ip(&net, "224.0.0.1", 6, syn, sizeof(syn), 16);
	inject_ip(&net, "224.0.0.1", 1, echo, sizeof(echo), 2);
	CHECK(stats(&net.a).rx_dropped == dropped + 2);
	f = wire(&net);
	CHECK(f == NULL); /* no SYN-ACK, no RST, no echo reply */
	if (f)
		cove_frame_free(f);
	/* the same echo to our address is answered (the frame is right) */
	inject_ip(&net, "10.0.0.1", 1, echo, sizeof(echo), 2);
	f = wire(&net);
	CHECK(f != NULL);
	if (f)
		cove_frame_free(f);
	ops->close(l);
	net_down(&net);
}

int main(void)
{
	ops = cove_stack_find("builtin");
	REQUIRE(ops != NULL);
	RUN(test_membership_errors);
	RUN(test_delivery);
	RUN(test_send_loop_ttl);
	RUN(test_igmp);
	RUN(test_foreign_groups);
	RUN(test_group_not_tcp_icmp);
	return check_summary();
}
