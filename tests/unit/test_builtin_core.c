// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the builtin stack's core: ARP, IPv4, ICMP, UDP over a mem pair. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include "cove/netstack.h"
#include "stacks/builtin/builtin.h"
#include "tests/unit/check.h"

/*
 * Two set-ups. A "pair": two builtin instances A (10.0.0.1/24) and B
 * (10.0.0.2/24) on the two ends of a mem link, each with its own frame pool,
 * shuttled by pump(). A "solo": instance A only; the test plays the peer on
 * the other end, pushing crafted frames into input() and reading what A
 * sends with wire_rx(). Time is fake (now_ns below), so timeouts of seconds
 * run in microseconds. Every case ends with net_down(), which destroys the
 * stacks and checks that both pools got every frame back.
 */

#define POOL_FRAMES 1024u

static uint64_t now_ns = 1000000000ull;
static const struct cove_netstack_ops *ops;

struct node {
	struct cove_frame_pool pool;
	struct cove_link *link;
	struct cove_stack *st;
	unsigned notified;
	uint32_t last_events;
};

struct net {
	struct node a, b;
	bool solo;
};

static uint64_t fake_now(void *host)
{
	(void)host;
	return now_ns;
}

static void on_notify(void *host, struct cove_sock *s, void *cookie,
		      uint32_t ev)
{
	struct node *n = host;

	(void)s;
	(void)cookie;
	n->notified++;
	n->last_events = ev;
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	REQUIRE(inet_pton(AF_INET, s, &a) == 1);
	return a.s_addr;
}

static int node_create(struct node *n, const char *addr, uint32_t flags)
{
	struct cove_stack_config cfg = {
		.size = sizeof(cfg),
		.prefix_len = 24,
		.seed = 42,
		.flags = flags,
	};
	struct cove_stack_env env = {
		.link = n->link,
		.notify = on_notify,
		.now_ns = fake_now,
		.host = n,
	};

	cfg.addr.s_addr = ip(addr);
	return ops->create(&cfg, &env, &n->st);
}

static void net_up(struct net *net, bool solo, uint32_t flags)
{
	memset(net, 0, sizeof(*net));
	net->solo = solo;
	REQUIRE(!cove_frame_pool_init(&net->a.pool, POOL_FRAMES,
				      COVE_FRAME_DEFAULT_SIZE));
	REQUIRE(!cove_frame_pool_init(&net->b.pool, POOL_FRAMES,
				      COVE_FRAME_DEFAULT_SIZE));
	REQUIRE(!cove_link_mem_pair(&net->a.pool, &net->b.pool, &net->a.link,
				    &net->b.link));
	REQUIRE(!node_create(&net->a, "10.0.0.1", flags));
	if (!solo)
		REQUIRE(!node_create(&net->b, "10.0.0.2", flags));
}

/* pump() - move frames both ways and run both stacks until all is quiet. */
static void pump(struct net *net)
{
	struct node *nodes[2] = { &net->a, &net->b };
	struct cove_frame *f[64];
	unsigned i, n, rounds, quiet = 0;
	bool busy;

	/* two quiet rounds: a run() late in one round may have sent frames */
	for (rounds = 0; quiet < 2 && rounds < 10000; rounds++) {
		busy = false;
		for (i = 0; i < 2; i++) {
			struct node *x = nodes[i];

			if (!x->st)
				continue;
			while ((n = cove_link_rx_burst(x->link, f, 64)) > 0) {
				ops->input(x->st, f, n);
				busy = true;
			}
			if (ops->run(x->st, now_ns) <= now_ns)
				busy = true;
		}
		quiet = busy ? 0 : quiet + 1;
	}
	REQUIRE(rounds < 10000);
}

/* next_deadline() - the earliest deadline of the stacks. */
static uint64_t next_deadline(struct net *net)
{
	uint64_t a = ops->run(net->a.st, now_ns), b = UINT64_MAX;

	if (net->b.st)
		b = ops->run(net->b.st, now_ns);
	return a < b ? a : b;
}

/* advance() - let @ms of fake time pass, stopping at every deadline. */
static void advance(struct net *net, uint64_t ms)
{
	uint64_t end = now_ns + ms * 1000000ull, d;

	pump(net);
	while (now_ns < end) {
		d = next_deadline(net);
		now_ns = d > now_ns && d < end ? d : end;
		pump(net);
	}
}

/* wire_rx() - in solo mode: frames A sent; caller frees them. */
static unsigned wire_rx(struct net *net, struct cove_frame **f, unsigned max)
{
	ops->run(net->a.st, now_ns);
	return cove_link_rx_burst(net->b.link, f, max);
}

static void wire_drain(struct net *net)
{
	struct cove_frame *f[64];
	unsigned n, i;

	while ((n = wire_rx(net, f, 64)) > 0)
		for (i = 0; i < n; i++)
			cove_frame_free(f[i]);
}

static void net_down(struct net *net)
{
	if (net->solo)
		wire_drain(net);
	ops->destroy(net->a.st);
	if (net->b.st)
		ops->destroy(net->b.st);
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

/* ---- socket helpers ---- */

static struct sockaddr_in sin_of(const char *addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	s.sin_addr.s_addr = ip(addr);
	return s;
}

static struct cove_sock *udp_open(struct node *n, const char *addr,
				  uint16_t port)
{
	struct cove_sock *s = NULL;
	struct sockaddr_in a;

	REQUIRE(ops->socket(n->st, AF_INET, SOCK_DGRAM, 0, &s) == 0);
	if (addr) {
		a = sin_of(addr, port);
		REQUIRE(ops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	}
	return s;
}

static ssize_t udp_sendto(struct cove_sock *s, const char *addr, uint16_t port,
			  const void *buf, size_t len)
{
	struct sockaddr_in a;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (addr) {
		a = sin_of(addr, port);
		m.msg_name = &a;
		m.msg_namelen = sizeof(a);
	}
	return ops->sendmsg(s, &m, 0);
}

static ssize_t udp_recvfrom(struct cove_sock *s, void *buf, size_t len,
			    struct sockaddr_in *from, int flags, int *mflags)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (from) {
		m.msg_name = from;
		m.msg_namelen = sizeof(*from);
	}
	r = ops->recvmsg(s, &m, flags);
	if (mflags)
		*mflags = m.msg_flags;
	return r;
}

static uint16_t sock_port(struct cove_sock *s)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	REQUIRE(ops->getsockname(s, (struct sockaddr *)&a, &len) == 0);
	return ntohs(a.sin_port);
}

/* ---- crafted frames ---- */

static uint16_t csum(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* eth() - Ethernet header from the wire peer (B's MAC) to A. */
static size_t eth(struct net *net, uint8_t *b, uint16_t type)
{
	memcpy(b, net->a.link->mac, 6);
	memcpy(b + 6, net->b.link->mac, 6);
	put16(b + 12, type);
	return 14;
}

/*
 * ipv4() - an IPv4 header at @b: 10.0.0.2 -> 10.0.0.1 unless @dst given.
 * Return: header length (20).
 */
static size_t ipv4(uint8_t *b, uint8_t proto, size_t payload, uint16_t id,
		   uint16_t frag, uint32_t src, uint32_t dst)
{
	b[0] = 0x45;
	b[1] = 0;
	put16(b + 2, (uint16_t)(20 + payload));
	put16(b + 4, id);
	put16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	b[10] = b[11] = 0;
	memcpy(b + 12, &src, 4);
	memcpy(b + 16, &dst, 4);
	put16(b + 10, csum(b, 20, 0));
	return 20;
}

/* inject() - push @len bytes as one received frame into A. */
static void inject(struct net *net, const uint8_t *bytes, size_t len)
{
	struct cove_frame *f = cove_frame_alloc(&net->a.pool);

	REQUIRE(f && len <= f->cap);
	memcpy(f->data, bytes, len);
	f->len = (uint32_t)len;
	ops->input(net->a.st, &f, 1);
}

/* echo_req() - an ICMP echo request of @dlen data bytes at @b (no IP). */
static size_t echo_req(uint8_t *b, size_t dlen, uint16_t id, uint16_t seq)
{
	size_t i;

	b[0] = 8;
	b[1] = 0;
	b[2] = b[3] = 0;
	put16(b + 4, id);
	put16(b + 6, seq);
	for (i = 0; i < dlen; i++)
		b[8 + i] = (uint8_t)(i * 13 + 1);
	put16(b + 2, csum(b, 8 + dlen, 0));
	return 8 + dlen;
}

/* learn_peer() - make A learn the wire peer's MAC (an ARP request to A). */
static void learn_peer(struct net *net)
{
	uint8_t b[60] = { 0 };
	uint32_t sip = ip("10.0.0.2"), tip = ip("10.0.0.1");

	memset(b, 0xff, 6);
	memcpy(b + 6, net->b.link->mac, 6);
	put16(b + 12, 0x0806);
	put16(b + 14, 1);
	put16(b + 16, 0x0800);
	b[18] = 6;
	b[19] = 4;
	put16(b + 20, 1);
	memcpy(b + 22, net->b.link->mac, 6);
	memcpy(b + 28, &sip, 4);
	memcpy(b + 38, &tip, 4);
	inject(net, b, sizeof(b));
}

/* ---- cases ---- */

struct tt {
	struct btimer t; /* first */
	struct timer_wheel *w;
	uint64_t fired_at;
	unsigned fired;
	unsigned rearm; /* re-arm this many times, 3 ms later */
};

static uint64_t wheel_now;

static void tt_fire(struct btimer *t)
{
	struct tt *x = (struct tt *)t;

	CHECK(!timer_armed(t));
	x->fired++;
	x->fired_at = wheel_now;
	if (x->rearm) {
		x->rearm--;
		timer_arm(x->w, t, wheel_now + 3000000ull);
	}
}

/* wheel_min() - the earliest expiry among armed timers, by brute force. */
static uint64_t wheel_min(struct tt *t, unsigned n)
{
	uint64_t m = UINT64_MAX;
	unsigned i;

	for (i = 0; i < n; i++)
		if (timer_armed(&t[i].t) && t[i].t.expires_ns < m)
			m = t[i].t.expires_ns;
	return m;
}

static void test_timer_wheel(void)
{
	enum {
		N = 300
	};
	struct timer_wheel *w = calloc(1, sizeof(*w));
	static struct tt t[N];
	uint64_t base = 7000000123ull, rng = 88172645463325252ull;
	unsigned i, early = 0, late = 0;

	REQUIRE(w);
	memset(t, 0, sizeof(t));
	wheel_now = base;
	timer_init(w, base);
	CHECK(timer_next(w) == UINT64_MAX);
	for (i = 0; i < N; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		t[i].t.fn = tt_fire;
		t[i].w = w;
		t[i].rearm = i % 50 == 0 ? 2 : 0;
		/* up to 20 s: several turns of the wheel */
		timer_arm(w, &t[i].t, base + rng % 20000000000ull);
	}
	CHECK(timer_next(w) == wheel_min(t, N));
	for (i = 0; i < N; i += 7)
		timer_cancel(w, &t[i].t);
	timer_cancel(w, &t[1].t);
	timer_cancel(w, &t[1].t); /* twice: harmless */
	CHECK(timer_next(w) == wheel_min(t, N));
	while (w->armed) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		wheel_now += rng % 300000000ull; /* up to 0.3 s */
		if (rng % 17 == 0)
			wheel_now += 9000000000ull; /* a long sleep */
		timer_advance(w, wheel_now);
		for (i = 0; i < N; i++)
			if (timer_armed(&t[i].t) &&
			    t[i].t.expires_ns <= wheel_now)
				late++;
		CHECK(timer_next(w) == wheel_min(t, N));
	}
	for (i = 0; i < N; i++) {
		unsigned want = (i % 7 == 0 || i == 1) ? 0 :
							 (i % 50 == 0 ? 3 : 1);

		CHECK(t[i].fired == want);
		if (t[i].fired && t[i].fired_at < t[i].t.expires_ns)
			early++;
	}
	CHECK(early == 0);
	CHECK(late == 0);
	/* armed in the past: fires on the next advance */
	t[0].rearm = 0;
	timer_arm(w, &t[0].t, wheel_now - 5);
	CHECK(timer_next(w) == wheel_now - 5);
	timer_advance(w, wheel_now);
	CHECK(t[0].fired == 1 && !timer_armed(&t[0].t));
	CHECK(timer_next(w) == UINT64_MAX);
	free(w);
}

static void test_socket_calls(void)
{
	struct net net;
	struct cove_sock *s = NULL;

	net_up(&net, true, COVE_STACK_F_NO_GARP);
	CHECK(ops->socket(net.a.st, AF_UNIX, SOCK_DGRAM, 0, &s) ==
	      -EAFNOSUPPORT);
	CHECK(ops->socket(net.a.st, AF_INET, SOCK_RAW, 0, &s) ==
	      -ESOCKTNOSUPPORT);
	CHECK(ops->socket(net.a.st, AF_INET, SOCK_DGRAM, IPPROTO_TCP, &s) ==
	      -EPROTONOSUPPORT);
	CHECK(ops->socket(net.a.st, AF_INET,
			  SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  IPPROTO_UDP, &s) == 0);
	CHECK(stats(&net.a).sockets == 1);
	CHECK(ops->events(s) == EPOLLOUT);
	CHECK(ops->poll_fd(net.a.st) == -1);
	ops->close(s);
	CHECK(stats(&net.a).sockets == 0);
	net_down(&net);
}

static void test_create_config(void)
{
	struct net net;
	struct cove_stack_config cfg = { .size = sizeof(cfg),
					 .prefix_len = 24 };
	struct cove_stack_env env = { .now_ns = fake_now };
	struct cove_stack *st;

	net_up(&net, true, COVE_STACK_F_NO_GARP);
	cfg.addr.s_addr = ip("10.0.0.5");
	CHECK(ops->create(&cfg, &env, &st) == -EINVAL); /* no link */
	env.link = net.b.link;
	cfg.prefix_len = 33;
	CHECK(ops->create(&cfg, &env, &st) == -EINVAL);
	cfg.prefix_len = 24;
	cfg.addr.s_addr = 0;
	CHECK(ops->create(&cfg, &env, &st) == -EINVAL);
	cfg.addr.s_addr = ip("10.0.0.5");
	cfg.max_sockets = 2;
	REQUIRE(ops->create(&cfg, &env, &st) == 0);
	{
		struct cove_sock *s1, *s2, *s3;

		CHECK(ops->socket(st, AF_INET, SOCK_DGRAM, 0, &s1) == 0);
		CHECK(ops->socket(st, AF_INET, SOCK_DGRAM, 0, &s2) == 0);
		CHECK(ops->socket(st, AF_INET, SOCK_DGRAM, 0, &s3) == -EMFILE);
		ops->close(s1);
		(void)s2; /* left open: destroy() frees it */
	}
	ops->destroy(st);
	net_down(&net);
}

static void test_garp(void)
{
	struct net net;
	struct cove_frame *f[8];
	unsigned n;
	uint32_t me = ip("10.0.0.1");

	net_up(&net, true, 0);
	n = wire_rx(&net, f, 8);
	CHECK(n == 1);
	if (n == 1) {
		const uint8_t *b = f[0]->data;

		CHECK(!memcmp(b, "\xff\xff\xff\xff\xff\xff", 6));
		CHECK(get16(b + 12) == 0x0806 && get16(b + 20) == 1);
		CHECK(!memcmp(b + 28, &me, 4) && !memcmp(b + 38, &me, 4));
		CHECK(!memcmp(b + 22, net.a.link->mac, 6));
		cove_frame_free(f[0]);
	}
	CHECK(stats(&net.a).arp_requests == 1);
	net_down(&net);

	net_up(&net, true, COVE_STACK_F_NO_GARP);
	CHECK(wire_rx(&net, f, 8) == 0);
	net_down(&net);
}

static void test_arp_resolution(void)
{
	struct net net;
	struct cove_sock *a, *b;
	char buf[64];
	struct sockaddr_in from;

	net_up(&net, false, 0);
	pump(&net);
	CHECK(stats(&net.a).arp_requests == 1); /* the gratuitous one */
	b = udp_open(&net.b, "0.0.0.0", 5000);
	a = udp_open(&net.a, NULL, 0);
	CHECK(udp_sendto(a, "10.0.0.2", 5000, "hello", 5) == 5);
	CHECK(stats(&net.a).frames_held == 1); /* waits for ARP */
	pump(&net);
	CHECK(stats(&net.a).frames_held == 0);
	CHECK(stats(&net.a).arp_requests == 2);
	CHECK(stats(&net.b).arp_replies == 1);
	CHECK(udp_recvfrom(b, buf, sizeof(buf), &from, 0, NULL) == 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK(from.sin_addr.s_addr == ip("10.0.0.1"));
	CHECK(ntohs(from.sin_port) == sock_port(a));
	/* B learnt A from the request: its answer needs no request */
	CHECK(udp_sendto(b, "10.0.0.1", sock_port(a), "back", 4) == 4);
	pump(&net);
	CHECK(udp_recvfrom(a, buf, sizeof(buf), NULL, 0, NULL) == 4);
	/* an entry is refreshed after 60 s while in use: no stall */
	advance(&net, 61000);
	CHECK(udp_sendto(a, "10.0.0.2", 5000, "again", 5) == 5);
	pump(&net);
	CHECK(udp_recvfrom(b, buf, sizeof(buf), NULL, 0, NULL) == 5);
	ops->close(a);
	ops->close(b);
	net_down(&net);
}

static void test_arp_timeout(void)
{
	struct net net;
	struct cove_sock *a;
	struct cove_stack_stats s;
	struct cove_frame *f[16];
	unsigned n, i, reqs = 0;
	int k;

	net_up(&net, true, COVE_STACK_F_NO_GARP);
	a = udp_open(&net.a, NULL, 0);
	for (k = 0; k < 9; k++) /* the ninth overflows the queue */
		CHECK(udp_sendto(a, "10.0.0.9", 9, "x", 1) == 1);
	s = stats(&net.a);
	CHECK(s.frames_held == 8);
	CHECK(s.tx_dropped == 1);
	for (k = 0; k < 4; k++) {
		n = wire_rx(&net, f, 16);
		for (i = 0; i < n; i++) {
			if (get16(f[i]->data + 12) == 0x0806)
				reqs++;
			cove_frame_free(f[i]);
		}
		now_ns += 1000000000ull;
		ops->run(net.a.st, now_ns);
	}
	CHECK(reqs == 3);
	s = stats(&net.a);
	CHECK(s.arp_requests == 3);
	CHECK(s.frames_held == 0);
	CHECK(s.tx_dropped == 9);
	CHECK(s.udp_out == 9);
	/* queued frames are returned by destroy() too */
	CHECK(udp_sendto(a, "10.0.0.8", 9, "y", 1) == 1);
	CHECK(stats(&net.a).frames_held == 1);
	ops->close(a);
	net_down(&net);
}

static void test_udp_both_ways(void)
{
	static uint8_t big[30000], got[30000];
	struct net net;
	struct cove_sock *a, *b;
	struct cove_stack_stats s;
	struct sockaddr_in from;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	net_up(&net, false, 0);
	a = udp_open(&net.a, "10.0.0.1", 4000);
	b = udp_open(&net.b, "0.0.0.0", 5000);
	CHECK(udp_sendto(a, "10.0.0.2", 5000, "ping", 4) == 4);
	pump(&net);
	CHECK(net.b.notified > 0 && (net.b.last_events & EPOLLIN));
	CHECK(ops->events(b) == (EPOLLIN | EPOLLOUT));
	CHECK(udp_recvfrom(b, got, sizeof(got), &from, 0, NULL) == 4);
	CHECK(udp_sendto(b, "10.0.0.1", 4000, big, sizeof(big)) ==
	      (ssize_t)sizeof(big));
	pump(&net);
	memset(got, 0, sizeof(got));
	CHECK(udp_recvfrom(a, got, sizeof(got), &from, 0, NULL) ==
	      (ssize_t)sizeof(big));
	CHECK(!memcmp(got, big, sizeof(big)));
	CHECK(from.sin_addr.s_addr == ip("10.0.0.2"));
	CHECK(ntohs(from.sin_port) == 5000);
	s = stats(&net.a);
	CHECK(s.ip_frags_in == 21); /* 30008 bytes in 1480-byte pieces */
	CHECK(s.ip_reassembled == 1);
	CHECK(s.udp_in == 1);
	CHECK(stats(&net.b).udp_out == 1);
	CHECK(udp_recvfrom(a, got, sizeof(got), NULL, 0, NULL) == -EAGAIN);
	/* largest datagram, and one byte more */
	{
		static uint8_t huge[65508];

		CHECK(udp_sendto(a, "10.0.0.2", 5000, huge, 65508) ==
		      -EMSGSIZE);
		CHECK(udp_sendto(a, "10.0.0.2", 5000, huge, 65507) == 65507);
		pump(&net);
		CHECK(udp_recvfrom(b, huge, sizeof(huge), NULL, 0, NULL) ==
		      65507);
	}
	ops->close(a);
	ops->close(b);
	net_down(&net);
}

static void test_udp_recv_semantics(void)
{
	struct net net;
	struct cove_sock *a, *b;
	char buf[16];
	int fl;
	int v;
	socklen_t len = sizeof(v);

	net_up(&net, false, 0);
	a = udp_open(&net.a, NULL, 0);
	b = udp_open(&net.b, "10.0.0.2", 5000);
	CHECK(udp_sendto(a, "10.0.0.2", 5000, "0123456789", 10) == 10);
	pump(&net);
	CHECK(udp_recvfrom(b, buf, 4, NULL, MSG_PEEK, &fl) == 4);
	CHECK(fl == MSG_TRUNC && !memcmp(buf, "0123", 4));
	CHECK(udp_recvfrom(b, buf, 4, NULL, MSG_TRUNC, &fl) == 10);
	CHECK(fl == MSG_TRUNC);
	CHECK(udp_recvfrom(b, buf, sizeof(buf), NULL, 0, NULL) == -EAGAIN);
	/* SO_RCVBUF bounds the queue */
	v = 2000;
	CHECK(ops->setsockopt(b, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == 0);
	CHECK(ops->getsockopt(b, SOL_SOCKET, SO_RCVBUF, &v, &len) == 0);
	CHECK(v == 4000);
	{
		static char k[1000];
		int i, n = 0;

		for (i = 0; i < 10; i++)
			udp_sendto(a, "10.0.0.2", 5000, k, sizeof(k));
		pump(&net);
		while (udp_recvfrom(b, k, sizeof(k), NULL, 0, NULL) == 1000)
			n++;
		CHECK(n == 3); /* 3 x (1000 + 12) <= 4000 < 4 x 1012 */
	}
	CHECK(ops->getsockopt(b, SOL_SOCKET, SO_TYPE, &v, &len) == 0 &&
	      v == SOCK_DGRAM);
	/* shutdown: not connected is -ENOTCONN, yet takes effect */
	CHECK(ops->shutdown(b, SHUT_RD) == -ENOTCONN);
	CHECK(udp_recvfrom(b, buf, sizeof(buf), NULL, 0, NULL) == 0);
	CHECK(ops->events(b) & EPOLLRDHUP);
	CHECK(ops->shutdown(a, 7) == -EINVAL);
	{
		struct sockaddr_in p = sin_of("10.0.0.2", 5000);

		CHECK(ops->connect(a, (struct sockaddr *)&p, sizeof(p)) == 0);
		CHECK(ops->shutdown(a, SHUT_WR) == 0);
		CHECK(udp_sendto(a, NULL, 0, "x", 1) == -EPIPE);
	}
	ops->close(a);
	ops->close(b);
	net_down(&net);
}

static void test_udp_port_unreachable(void)
{
	struct net net;
	struct cove_sock *a;
	struct sockaddr_in peer = sin_of("10.0.0.2", 6000);
	struct cove_stack_stats s;
	socklen_t len = sizeof(peer);
	char buf[8];
	int v;

	net_up(&net, false, 0);
	a = udp_open(&net.a, NULL, 0);
	CHECK(udp_sendto(a, NULL, 0, "x", 1) == -EDESTADDRREQ);
	CHECK(ops->getpeername(a, (struct sockaddr *)&peer, &len) == -ENOTCONN);
	CHECK(ops->connect(a, (struct sockaddr *)&peer, sizeof(peer)) == 0);
	CHECK(ops->getpeername(a, (struct sockaddr *)&peer, &len) == 0);
	CHECK(ntohs(peer.sin_port) == 6000);
	CHECK(udp_sendto(a, NULL, 0, "x", 1) == 1);
	pump(&net);
	s = stats(&net.b);
	CHECK(s.udp_no_port == 1 && s.icmp_out == 1);
	CHECK(stats(&net.a).icmp_in == 1);
	CHECK(ops->events(a) & EPOLLERR);
	CHECK(net.a.last_events & EPOLLERR);
	CHECK(udp_sendto(a, NULL, 0, "x", 1) == -ECONNREFUSED);
	CHECK(!(ops->events(a) & EPOLLERR));
	CHECK(udp_sendto(a, NULL, 0, "x", 1) == 1); /* once only */
	pump(&net);
	CHECK(udp_recvfrom(a, buf, sizeof(buf), NULL, 0, NULL) ==
	      -ECONNREFUSED);
	CHECK(udp_recvfrom(a, buf, sizeof(buf), NULL, 0, NULL) == -EAGAIN);
	CHECK(udp_sendto(a, NULL, 0, "x", 1) == 1);
	pump(&net);
	len = sizeof(v);
	CHECK(ops->getsockopt(a, SOL_SOCKET, SO_ERROR, &v, &len) == 0 &&
	      v == ECONNREFUSED);
	CHECK(ops->getsockopt(a, SOL_SOCKET, SO_ERROR, &v, &len) == 0 &&
	      v == 0);
	/* unconnected sockets never learn it */
	{
		struct cove_sock *u = udp_open(&net.a, NULL, 0);

		CHECK(udp_sendto(u, "10.0.0.2", 6001, "x", 1) == 1);
		pump(&net);
		CHECK(!(ops->events(u) & EPOLLERR));
		ops->close(u);
	}
	/* disconnect: AF_UNSPEC */
	peer.sin_family = AF_UNSPEC;
	CHECK(ops->connect(a, (struct sockaddr *)&peer, sizeof(peer)) == 0);
	CHECK(udp_sendto(a, NULL, 0, "x", 1) == -EDESTADDRREQ);
	ops->close(a);
	net_down(&net);
}

static void test_udp_bind(void)
{
	struct net net;
	struct cove_sock *s1, *s2, *s3;
	struct sockaddr_in a = sin_of("10.0.0.1", 7000);
	int one = 1, i;
	uint16_t p;

	net_up(&net, true, COVE_STACK_F_NO_GARP);
	s1 = udp_open(&net.a, "0.0.0.0", 7000);
	REQUIRE(ops->socket(net.a.st, AF_INET, SOCK_DGRAM, 0, &s2) == 0);
	CHECK(ops->bind(s2, (struct sockaddr *)&a, sizeof(a)) == -EADDRINUSE);
	a = sin_of("127.0.0.1", 7000);
	CHECK(ops->bind(s2, (struct sockaddr *)&a, sizeof(a)) == -EADDRINUSE);
	a = sin_of("10.0.0.99", 7000);
	CHECK(ops->bind(s2, (struct sockaddr *)&a, sizeof(a)) ==
	      -EADDRNOTAVAIL);
	CHECK(ops->bind(s2, (struct sockaddr *)&a, 4) == -EINVAL);
	a = sin_of("10.0.0.1", 7001);
	CHECK(ops->bind(s2, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->bind(s2, (struct sockaddr *)&a, sizeof(a)) == -EINVAL);
	/* SO_REUSEADDR on both */
	REQUIRE(ops->socket(net.a.st, AF_INET, SOCK_DGRAM, 0, &s3) == 0);
	CHECK(ops->setsockopt(s3, SOL_SOCKET, SO_REUSEADDR, &one,
			      sizeof(one)) == 0);
	CHECK(ops->bind(s3, (struct sockaddr *)&a, sizeof(a)) == -EADDRINUSE);
	CHECK(ops->setsockopt(s2, SOL_SOCKET, SO_REUSEADDR, &one,
			      sizeof(one)) == 0);
	CHECK(ops->bind(s3, (struct sockaddr *)&a, sizeof(a)) == 0);
	ops->close(s3);
	ops->close(s2);
	ops->close(s1);
	/* ephemeral ports: in range, distinct */
	{
		struct cove_sock *e[50];
		uint16_t seen[50];
		int j, dup = 0;

		for (i = 0; i < 50; i++) {
			e[i] = udp_open(&net.a, "0.0.0.0", 0);
			p = sock_port(e[i]);
			CHECK(p >= 32768 && p <= 60999);
			for (j = 0; j < i; j++)
				dup += seen[j] == p;
			seen[i] = p;
		}
		CHECK(dup == 0);
		for (i = 0; i < 50; i++)
			ops->close(e[i]);
	}
	/* sendto auto-binds */
	s1 = udp_open(&net.a, NULL, 0);
	CHECK(sock_port(s1) == 0);
	CHECK(udp_sendto(s1, "10.0.0.2", 9, "x", 1) == 1);
	CHECK(sock_port(s1) >= 32768);
	CHECK(udp_sendto(s1, "10.0.0.255", 9, "x", 1) == -EACCES);
	CHECK(udp_sendto(s1, "192.168.1.1", 9, "x", 1) == -ENETUNREACH);
	ops->close(s1);
	net_down(&net);
}

static void test_loopback(void)
{
	static uint8_t big[60000], got[60000];
	struct net net;
	struct cove_sock *srv, *lo, *cl;
	struct sockaddr_in from;
	uint64_t b_rx;
	size_t i;

	net_up(&net, false, 0);
	pump(&net);
	b_rx = stats(&net.b).rx_frames;
	srv = udp_open(&net.a, "0.0.0.0", 8000);
	lo = udp_open(&net.a, "127.0.0.1", 8001);
	cl = udp_open(&net.a, NULL, 0);
	CHECK(udp_sendto(cl, "127.0.0.1", 8000, "lo", 2) == 2);
	CHECK(udp_sendto(cl, "10.0.0.1", 8000, "me", 2) == 2);
	CHECK(udp_sendto(cl, "127.0.0.1", 8001, "l1", 2) == 2);
	CHECK(udp_sendto(cl, "10.0.0.1", 8001, "no", 2) == 2); /* unreach */
	pump(&net);
	CHECK(udp_recvfrom(srv, got, sizeof(got), &from, 0, NULL) == 2);
	CHECK(!memcmp(got, "lo", 2) && from.sin_addr.s_addr == ip("127.0.0.1"));
	CHECK(udp_recvfrom(srv, got, sizeof(got), &from, 0, NULL) == 2);
	CHECK(!memcmp(got, "me", 2) && from.sin_addr.s_addr == ip("10.0.0.1"));
	CHECK(udp_recvfrom(lo, got, sizeof(got), NULL, 0, NULL) == 2);
	CHECK(udp_recvfrom(lo, got, sizeof(got), NULL, 0, NULL) == -EAGAIN);
	CHECK(stats(&net.a).udp_no_port == 1);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i ^ (i >> 9));
	CHECK(udp_sendto(cl, "127.0.0.1", 8000, big, sizeof(big)) ==
	      (ssize_t)sizeof(big));
	pump(&net);
	CHECK(udp_recvfrom(srv, got, sizeof(got), NULL, 0, NULL) ==
	      (ssize_t)sizeof(big));
	CHECK(!memcmp(got, big, sizeof(big)));
	CHECK(stats(&net.b).rx_frames == b_rx); /* nothing on the wire */
	/* loopback-bound sockets do not talk to the wire */
	CHECK(udp_sendto(lo, "10.0.0.2", 9, "x", 1) == -EINVAL);
	ops->close(srv);
	ops->close(lo);
	ops->close(cl);
	net_down(&net);
}

static void test_icmp_echo(void)
{
	struct net net;
	uint8_t req[200], exp[200];
	struct cove_frame *f[8];
	size_t l4, n;
	uint32_t me = ip("10.0.0.1"), peer = ip("10.0.0.2");

	net_up(&net, true, COVE_STACK_F_NO_GARP);
	learn_peer(&net);
	n = wire_rx(&net, f, 8);
	CHECK(n == 1); /* the ARP reply */
	if (n == 1) {
		CHECK(get16(f[0]->data + 20) == 2);
		CHECK(!memcmp(f[0]->data, net.b.link->mac, 6));
		CHECK(!memcmp(f[0]->data + 28, &me, 4));
		CHECK(!memcmp(f[0]->data + 38, &peer, 4));
		cove_frame_free(f[0]);
	}
	CHECK(stats(&net.a).arp_replies == 1);

	n = eth(&net, req, 0x0800);
	l4 = echo_req(req + n + 20, 100, 0x1234, 7);
	n += ipv4(req + n, 1, l4, 99, 0, peer, me);
	n += l4;
	inject(&net, req, n);
	/* expected: addresses swapped, type 0, checksum fixed up */
	memcpy(exp, req, n);
	memcpy(exp, net.b.link->mac, 6);
	memcpy(exp + 6, net.a.link->mac, 6);
	memcpy(exp + 26, &me, 4);
	memcpy(exp + 30, &peer, 4);
	exp[34] = 0;
	exp[36] = exp[37] = 0;
	put16(exp + 36, csum(exp + 34, l4, 0));
	CHECK(wire_rx(&net, f, 8) == 1);
	if (f[0]) {
		CHECK(f[0]->len == n);
		CHECK(!memcmp(f[0]->data, exp, 14));
		CHECK(f[0]->data[14] == 0x45 && f[0]->data[22] == 64);
		CHECK(get16(f[0]->data + 16) == 20 + l4);
		CHECK(!(get16(f[0]->data + 20) & 0x3fff));
		CHECK(csum(f[0]->data + 14, 20, 0) == 0);
		CHECK(!memcmp(f[0]->data + 26, exp + 26, 8));
		CHECK(!memcmp(f[0]->data + 34, exp + 34, l4));
		cove_frame_free(f[0]);
	}
	CHECK(stats(&net.a).icmp_in == 1 && stats(&net.a).icmp_out == 1);
	/* to the broadcast address: ignored */
	n = eth(&net, req, 0x0800);
	memset(req, 0xff, 6);
	l4 = echo_req(req + n + 20, 10, 1, 1);
	n += ipv4(req + n, 1, l4, 100, 0, peer, ip("10.0.0.255"));
	inject(&net, req, n + l4);
	CHECK(wire_rx(&net, f, 8) == 0);
	/* unknown protocol: protocol unreachable */
	n = eth(&net, req, 0x0800);
	n += ipv4(req + n, 200, 8, 101, 0, peer, me);
	memset(req + n, 0, 8);
	inject(&net, req, n + 8);
	CHECK(wire_rx(&net, f, 8) == 1);
	if (f[0]) {
		CHECK(f[0]->data[34] == 3 && f[0]->data[35] == 2);
		CHECK(csum(f[0]->data + 34, f[0]->len - 34, 0) == 0);
		CHECK(f[0]->len == 14 + 20 + 8 + 28);
		cove_frame_free(f[0]);
	}
	net_down(&net);
}

static void test_icmp_rate_limit(void)
{
	struct net net;
	uint8_t req[64];
	struct cove_frame *f[64];
	unsigned sent = 0, i, n;
	size_t len;

	net_up(&net, true, COVE_STACK_F_NO_GARP);
	learn_peer(&net);
	wire_drain(&net);
	len = eth(&net, req, 0x0800);
	len += ipv4(req + len, 253, 8, 1, 0, ip("10.0.0.2"), ip("10.0.0.1"));
	memset(req + len, 0, 8);
	for (i = 0; i < 200; i++) {
		inject(&net, req, len + 8);
		while ((n = wire_rx(&net, f, 64)) > 0) {
			sent += n;
			while (n)
				cove_frame_free(f[--n]);
		}
	}
	CHECK(sent == 50);
	now_ns += 10000000ull; /* 10 ms: 10 tokens */
	for (i = 0; i < 20; i++)
		inject(&net, req, len + 8);
	while ((n = wire_rx(&net, f, 64)) > 0) {
		sent += n;
		while (n)
			cove_frame_free(f[--n]);
	}
	CHECK(sent == 60);
	net_down(&net);
}

static void test_bad_frames(void)
{
	struct net net;
	uint8_t b[200];
	struct cove_frame *f[4];
	struct cove_stack_stats s0, s;
	size_t n, l4;
	uint32_t me = ip("10.0.0.1"), peer = ip("10.0.0.2");

	net_up(&net, true, COVE_STACK_F_NO_GARP);
	learn_peer(&net);
	wire_drain(&net);
	s0 = stats(&net.a);
	/* bad IP checksum */
	n = eth(&net, b, 0x0800);
	l4 = echo_req(b + n + 20, 20, 1, 1);
	ipv4(b + n, 1, l4, 1, 0, peer, me);
	b[n + 10] ^= 1;
	inject(&net, b, n + 20 + l4);
	s = stats(&net.a);
	CHECK(s.rx_bad_csum == s0.rx_bad_csum + 1);
	/* truncated: Ethernet only, then a 10-byte IP header */
	inject(&net, b, 10);
	inject(&net, b, n + 10);
	/* IHL 4 */
	ipv4(b + n, 1, l4, 1, 0, peer, me);
	b[n] = 0x44;
	inject(&net, b, n + 20 + l4);
	/* version 6 */
	b[n] = 0x65;
	inject(&net, b, n + 20 + l4);
	/* total length beyond the frame */
	ipv4(b + n, 1, l4 + 10, 1, 0, peer, me);
	inject(&net, b, n + 20 + l4);
	/* IHL beyond the total length */
	ipv4(b + n, 1, 0, 1, 0, peer, me);
	b[n] = 0x4f;
	inject(&net, b, n + 20 + l4);
	s = stats(&net.a);
	CHECK(s.rx_malformed == s0.rx_malformed + 6);
	/* martians: source 127.0.0.1 and 0.0.0.0 from the wire, 224.0.0.1 */
	ipv4(b + n, 1, l4, 1, 0, ip("127.0.0.1"), me);
	inject(&net, b, n + 20 + l4);
	ipv4(b + n, 1, l4, 1, 0, 0, me);
	inject(&net, b, n + 20 + l4);
	ipv4(b + n, 1, l4, 1, 0, ip("224.0.0.1"), me);
	inject(&net, b, n + 20 + l4);
	/* not for us, and a foreign MAC */
	ipv4(b + n, 1, l4, 1, 0, peer, ip("10.0.0.3"));
	inject(&net, b, n + 20 + l4);
	ipv4(b + n, 1, l4, 1, 0, peer, me);
	b[0] ^= 2;
	inject(&net, b, n + 20 + l4);
	b[0] ^= 2;
	/* a VLAN tag */
	put16(b + 12, 0x8100);
	inject(&net, b, n + 20 + l4);
	put16(b + 12, 0x0800);
	/* bad ICMP checksum */
	b[n + 20 + 5] ^= 1;
	inject(&net, b, n + 20 + l4);
	s = stats(&net.a);
	CHECK(s.rx_dropped == s0.rx_dropped + 1 + 6 + 7);
	CHECK(s.icmp_in == s0.icmp_in);
	CHECK(wire_rx(&net, f, 4) == 0);
	/* ... and a good one still works */
	b[n + 20 + 5] ^= 1;
	inject(&net, b, n + 20 + l4);
	CHECK(wire_rx(&net, f, 4) == 1);
	cove_frame_free(f[0]);
	net_down(&net);
}

/* frag() - inject one fragment of an ICMP message @msg (@len bytes). */
static void frag(struct net *net, const uint8_t *msg, size_t len, size_t off,
		 size_t flen, bool more, uint16_t id)
{
	uint8_t b[1600];
	size_t n = eth(net, b, 0x0800);

	ipv4(b + n, 1, flen, id, (uint16_t)((more ? 0x2000 : 0) | off / 8),
	     ip("10.0.0.2"), ip("10.0.0.1"));
	(void)len;
	memcpy(b + n + 20, msg + off, flen);
	inject(net, b, n + 20 + flen);
}

static unsigned count_out(struct net *net, uint8_t icmp_type)
{
	struct cove_frame *f[64];
	unsigned n, i, hits = 0;

	while ((n = wire_rx(net, f, 64)) > 0)
		for (i = 0; i < n; i++) {
			if (get16(f[i]->data + 12) == 0x0800 &&
			    f[i]->data[23] == 1 &&
			    !(get16(f[i]->data + 20) & 0x1fff) &&
			    f[i]->data[34] == icmp_type)
				hits++;
			cove_frame_free(f[i]);
		}
	return hits;
}

static void test_fragments(void)
{
	static uint8_t msg[3000];
	struct net net;
	struct cove_stack_stats s;
	size_t len = echo_req(msg, 2992, 0x4242, 1);
	uint16_t id;

	net_up(&net, true, COVE_STACK_F_NO_GARP);
	learn_peer(&net);
	wire_drain(&net);
	/* in order, out of order, with an exact duplicate */
	frag(&net, msg, len, 0, 1480, true, 1);
	frag(&net, msg, len, 1480, 1480, true, 1);
	frag(&net, msg, len, 2960, len - 2960, false, 1);
	CHECK(count_out(&net, 0) == 1);
	frag(&net, msg, len, 2960, len - 2960, false, 2);
	frag(&net, msg, len, 1480, 1480, true, 2);
	frag(&net, msg, len, 1480, 1480, true, 2);
	frag(&net, msg, len, 0, 1480, true, 2);
	CHECK(count_out(&net, 0) == 1);
	s = stats(&net.a);
	CHECK(s.ip_reassembled == 2 && s.ip_frags_in == 7);
	CHECK(s.icmp_in == 2);
	/* overlap: the datagram is dropped whole */
	frag(&net, msg, len, 0, 1480, true, 3);
	frag(&net, msg, len, 1472, 1480, true, 3);
	frag(&net, msg, len, 2952, len - 2952, false, 3);
	CHECK(count_out(&net, 0) == 0);
	CHECK(stats(&net.a).ip_reasm_failed == 1);
	/* a bad fragment size (MF with length not a multiple of 8) */
	frag(&net, msg, len, 0, 1001, true, 4);
	CHECK(stats(&net.a).ip_reasm_failed == 2);
	/* never completed: time exceeded after 30 s, only with the first */
	frag(&net, msg, len, 0, 1480, true, 5);
	frag(&net, msg, len, 1480, 1480, true, 6);
	now_ns += 29000000000ull;
	CHECK(count_out(&net, 11) == 0);
	now_ns += 1000000000ull;
	CHECK(count_out(&net, 11) == 1);
	/* failed: id 3's tail and ids 5, 6 (only 5 had its first fragment) */
	s = stats(&net.a);
	CHECK(s.ip_reasm_failed == 5);
	/* the slots are free again: a datagram still gets through */
	frag(&net, msg, len, 0, 1480, true, 7);
	frag(&net, msg, len, 1480, 1480, true, 7);
	frag(&net, msg, len, 2960, len - 2960, false, 7);
	CHECK(count_out(&net, 0) == 1);
	/* too many at once: the oldest (100) is given up for the ninth */
	for (id = 100; id < 109; id++)
		frag(&net, msg, len, 0, 1480, true, id);
	CHECK(stats(&net.a).ip_reasm_failed == 6);
	for (id = 101; id < 109; id++) {
		frag(&net, msg, len, 1480, 1480, true, id);
		frag(&net, msg, len, 2960, len - 2960, false, id);
	}
	CHECK(count_out(&net, 0) == 8);
	frag(&net, msg, len, 1480, 1480, true, 100);
	frag(&net, msg, len, 2960, len - 2960, false, 100);
	CHECK(count_out(&net, 0) == 0);
	/* oversize: offset + length beyond 65535 */
	{
		static uint8_t tail[65600];

		frag(&net, tail, sizeof(tail), 65528, 16, false, 200);
	}
	CHECK(stats(&net.a).ip_reasm_failed == 7);
	now_ns += 31000000000ull;
	count_out(&net, 11);
	net_down(&net);
}

int main(void)
{
	ops = cove_stack_find("builtin");
	REQUIRE(ops != NULL);
	REQUIRE(ops->abi_version == COVE_NETSTACK_ABI_VERSION);
	RUN(test_timer_wheel);
	RUN(test_create_config);
	RUN(test_socket_calls);
	RUN(test_garp);
	RUN(test_arp_resolution);
	RUN(test_arp_timeout);
	RUN(test_udp_both_ways);
	RUN(test_udp_recv_semantics);
	RUN(test_udp_port_unreachable);
	RUN(test_udp_bind);
	RUN(test_loopback);
	RUN(test_icmp_echo);
	RUN(test_icmp_rate_limit);
	RUN(test_bad_frames);
	RUN(test_fragments);
	return check_summary();
}
