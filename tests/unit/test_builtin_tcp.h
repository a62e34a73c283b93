/* SPDX-License-Identifier: Apache-2.0 */
/* Harness for the builtin TCP tests: two stacks on a mem pair, fake time. */
#ifndef COVE_TESTS_BUILTIN_TCP_H
#define COVE_TESTS_BUILTIN_TCP_H

/*
 * A "net" is two builtin instances, A (10.0.0.1/24) and B (10.0.0.2/24),
 * with topts.ip6 also fd00::1/64 and fd00::2/64, on
 * the two ends of a mem link (A's end optionally wrapped in the impairment
 * shim, and either end in a test's own link by topts.wrap), each with its
 * own pool of TNET_FRAMES frames. Time is fake:
 * tnet_loop() pumps frames, lets the test's step function act like an
 * application, and when nothing moves jumps the clock to the next
 * deadline, so minutes of TCP timers pass in milliseconds. A frame the
 * impairment shim holds back is waited for in real time (it uses the real
 * clock), which keeps those runs faithful.
 *
 * tnet_down() closes what the test left open, runs the clock past
 * TIME-WAIT, checks that TCP's gauges and the socket count are zero and
 * that every TSO buffer is back, destroys both stacks and checks that every
 * frame went back to its pool.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <time.h>

#include "cove/netstack.h"
#include "stacks/builtin/builtin.h"
#include "stacks/builtin/tcp/tcp.h"
#include "tests/unit/check.h"

#define TNET_FRAMES    4096u
#define TNET_MAX_SOCKS 512u

static uint64_t tnet_now = 1000000000ull;
static const struct cove_netstack_ops *tops;

struct tnode {
	struct cove_frame_pool pool;
	struct cove_link *link;
	struct cove_link *shim; /* the impairment shim, if any */
	struct cove_stack *st;
	bool impaired;
	bool wrapped;	/* topts.wrap put a link on top */
	bool blackhole; /* drop every frame for this node */
	unsigned notified;
	struct cove_sock *watch; /* EPOLLOUT notifies of it: @watch_out */
	unsigned watch_out;
	struct cove_sock *open[TNET_MAX_SOCKS]; /* what tnet_down closes */
};

struct tnet {
	struct tnode a, b;
};

struct topts {
	const char *impair; /* impairment spec for A's end */
	const char *congestion;
	uint32_t rcvbuf, sndbuf;
	uint32_t max_sockets;
	uint64_t mem_max;    /* B's socket memory budget; 0: the default */
	const char *gateway; /* A's default gateway; NULL: none */
	bool ip6;	     /* A fd00::1/64, B fd00::2/64 as well (no DAD) */
	/*
	 * wrap() - put a test link over @inner, the end of node @node (0: A,
	 * above the shim; 1: B) before its stack is made (the stack reads
	 * the link's offloads then). Return: the link the stack gets, which
	 * closes @inner when it closes. Left NULL, the stacks get the ends.
	 */
	struct cove_link *(*wrap)(struct cove_link *inner, unsigned node,
				  void *ctx);
	void *wrap_ctx;
};

static uint64_t tnet_fake_now(void *host)
{
	(void)host;
	return tnet_now;
}

static inline void tnet_notify(void *host, struct cove_sock *s, void *cookie,
			       uint32_t ev)
{
	struct tnode *n = host;

	(void)cookie;
	n->notified++;
	if (s == n->watch && (ev & EPOLLOUT))
		n->watch_out++;
}

static uint32_t tip(const char *s)
{
	struct in_addr a;

	REQUIRE(inet_pton(AF_INET, s, &a) == 1);
	return a.s_addr;
}

static inline void tnode_create(struct tnode *n, const char *addr,
				const struct topts *o)
{
	struct cove_stack_config cfg = {
		.size = sizeof(cfg),
		.prefix_len = 24,
		.seed = 42,
		.flags = COVE_STACK_F_NO_GARP,
	};
	struct cove_stack_env env = {
		.link = n->link,
		.notify = tnet_notify,
		.now_ns = tnet_fake_now,
		.host = n,
	};

	cfg.addr.s_addr = tip(addr);
	if (o) {
		cfg.congestion = o->congestion;
		cfg.rcvbuf = o->rcvbuf;
		cfg.sndbuf = o->sndbuf;
		cfg.max_sockets = o->max_sockets;
		if (o->gateway && addr[7] == '1')
			cfg.gateway.s_addr = tip(o->gateway);
		if (o->ip6) {
			REQUIRE(inet_pton(AF_INET6,
					  addr[7] == '1' ? "fd00::1" :
							   "fd00::2",
					  &cfg.addr6) == 1);
			cfg.prefix6_len = 64;
			cfg.flags |= COVE_STACK_F_NO_DAD;
		}
	}
	if (addr[7] == '2')
		cfg.seed = 4242;
	if (o && addr[7] == '2')
		cfg.mem_max = o->mem_max;
	REQUIRE(tops->create(&cfg, &env, &n->st) == 0);
}

static inline void tnet_up(struct tnet *net, const struct topts *o)
{
	memset(net, 0, sizeof(*net));
	tops = cove_stack_find("builtin");
	REQUIRE(tops);
	REQUIRE(!cove_frame_pool_init(&net->a.pool, TNET_FRAMES,
				      COVE_FRAME_DEFAULT_SIZE));
	REQUIRE(!cove_frame_pool_init(&net->b.pool, TNET_FRAMES,
				      COVE_FRAME_DEFAULT_SIZE));
	REQUIRE(!cove_link_mem_pair(&net->a.pool, &net->b.pool, &net->a.link,
				    &net->b.link));
	if (o && o->impair) {
		struct cove_impair_spec spec;
		struct cove_err err = { 0 };
		struct cove_link *w;

		REQUIRE(!cove_impair_parse(o->impair, &spec, &err));
		REQUIRE(!cove_link_impair(net->a.link, &spec, &w));
		net->a.link = w;
		net->a.shim = w;
		net->a.impaired = true;
	}
	if (o && o->wrap) {
		net->a.link = o->wrap(net->a.link, 0, o->wrap_ctx);
		net->b.link = o->wrap(net->b.link, 1, o->wrap_ctx);
		REQUIRE(net->a.link && net->b.link);
		net->a.wrapped = net->b.wrapped = true;
	}
	tnode_create(&net->a, "10.0.0.1", o);
	tnode_create(&net->b, "10.0.0.2", o);
}

/* tnet_track() - remember @s so tnet_down() closes it if the test did not. */
static inline struct cove_sock *tnet_track(struct tnode *n, struct cove_sock *s)
{
	unsigned i;

	for (i = 0; i < TNET_MAX_SOCKS; i++)
		if (!n->open[i]) {
			n->open[i] = s;
			return s;
		}
	REQUIRE(!"too many sockets in one test");
	return s;
}

static inline void tclose(struct tnode *n, struct cove_sock *s)
{
	unsigned i;

	for (i = 0; i < TNET_MAX_SOCKS; i++)
		if (n->open[i] == s)
			n->open[i] = NULL;
	tops->close(s);
}

/* tnet_pump() - move frames both ways and run both stacks once. */
static inline bool tnet_pump(struct tnet *net)
{
	struct tnode *nodes[2] = { &net->a, &net->b };
	struct cove_frame *f[64];
	bool busy = false;
	unsigned i, n;

	for (i = 0; i < 2; i++) {
		struct tnode *x = nodes[i];

		if (x->impaired || x->wrapped)
			(void)cove_link_tx_burst(x->link, f, 0);
		while ((n = cove_link_rx_burst(x->link, f, 64)) > 0) {
			if (x->blackhole) {
				while (n)
					cove_frame_free(f[--n]);
				continue;
			}
			tops->input(x->st, f, n);
			busy = true;
		}
		if (tops->run(x->st, tnet_now) <= tnet_now)
			busy = true;
	}
	return busy;
}

static uint64_t tnet_deadline(struct tnet *net)
{
	uint64_t a = tops->run(net->a.st, tnet_now);
	uint64_t b = tops->run(net->b.st, tnet_now);

	return a < b ? a : b;
}

static uint64_t treal_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef bool tstep_fn(struct tnet *net, void *ctx);

/**
 * tnet_loop() - run until @step says done or @max_ms of fake time pass
 * @net:	the pair
 * @step:	called every round (the "application"); NULL: never done
 * @ctx:	for @step
 * @max_ms:	fake time budget
 *
 * Return: true if @step returned true in time.
 */
static inline bool tnet_loop(struct tnet *net, tstep_fn *step, void *ctx,
			     uint64_t max_ms)
{
	uint64_t end = tnet_now + max_ms * 1000000ull, d, r;
	unsigned quiet = 0;

	for (;;) {
		bool busy = tnet_pump(net);

		if (step && step(net, ctx))
			return true;
		if (busy) {
			quiet = 0;
			continue;
		}
		if (++quiet < 2)
			continue;
		quiet = 0;
		if (net->a.impaired) {
			r = cove_link_impair_next_ns(net->a.shim);
			if (r != UINT64_MAX) {
				uint64_t now = treal_now();

				if (r > now) {
					struct timespec ts = {
						.tv_nsec = (long)(r - now)
					};

					if (r - now < 20000000ull)
						nanosleep(&ts, NULL);
				}
				continue;
			}
		}
		d = tnet_deadline(net);
		if (d == UINT64_MAX || d > end) {
			tnet_now = end;
			tnet_pump(net);
			return step ? step(net, ctx) : false;
		}
		if (d > tnet_now)
			tnet_now = d;
	}
}

/* tadvance() - let @ms of fake time pass. */
static inline void tadvance(struct tnet *net, uint64_t ms)
{
	(void)tnet_loop(net, NULL, NULL, ms);
}

static inline struct cove_stack_stats tstats(struct tnode *n)
{
	struct cove_stack_stats s;

	REQUIRE(cove_stack_read_stats(tops, n->st, &s) == 0);
	return s;
}

/* tctx() - the TCP context of a node, for counters the ABI does not show. */
static inline struct tcp_ctx *tctx(struct tnode *n)
{
	return ((struct bstack *)(void *)n->st)->tcp;
}

static inline void tnet_down(struct tnet *net)
{
	struct tnode *nodes[2] = { &net->a, &net->b };
	struct cove_stack_stats s;
	unsigned i, k;

	net->a.blackhole = net->b.blackhole = false;
	for (i = 0; i < 2; i++)
		for (k = 0; k < TNET_MAX_SOCKS; k++)
			if (nodes[i]->open[k])
				tclose(nodes[i], nodes[i]->open[k]);
	tadvance(net, 200000); /* past TIME-WAIT, orphan timers, retries */
	for (i = 0; i < 2; i++) {
		const struct bstack *b =
			(const struct bstack *)(void *)nodes[i]->st;

		/* destroy() frees the TSO pool without a word about leaks */
		if (b->tso_pool.frames)
			CHECK(b->tso_pool.nfree == b->tso_pool.count);
		s = tstats(nodes[i]);
		CHECK(s.tcp_conns == 0);
		CHECK(s.sockets == 0);
		CHECK(s.mem_bytes == 0);
		CHECK(s.tcp_established == 0);
		if (s.tcp_conns || s.mem_bytes)
			fprintf(stderr, "  node %u: conns %llu mem %llu\n", i,
				(unsigned long long)s.tcp_conns,
				(unsigned long long)s.mem_bytes);
	}
	tops->destroy(net->a.st);
	tops->destroy(net->b.st);
	cove_link_close(net->a.link);
	cove_link_close(net->b.link);
	CHECK(cove_frame_pool_fini(&net->a.pool) == 0);
	CHECK(cove_frame_pool_fini(&net->b.pool) == 0);
}

/* ---- sockets ---- */

static inline struct sockaddr_in tsin(const char *addr, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	s.sin_addr.s_addr = addr ? tip(addr) : INADDR_ANY;
	return s;
}

static inline struct cove_sock *tsock(struct tnode *n)
{
	struct cove_sock *s = NULL;

	REQUIRE(tops->socket(n->st, AF_INET, SOCK_STREAM, 0, &s) == 0);
	return tnet_track(n, s);
}

static inline struct cove_sock *tlisten(struct tnode *n, uint16_t port,
					int backlog)
{
	struct cove_sock *s = tsock(n);
	struct sockaddr_in a = tsin(NULL, port);
	int one = 1;

	REQUIRE(tops->setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one)) == 0);
	REQUIRE(tops->bind(s, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(tops->listen(s, backlog) == 0);
	return s;
}

static inline struct cove_sock *tconnect(struct tnode *n, const char *addr,
					 uint16_t port)
{
	struct cove_sock *s = tsock(n);
	struct sockaddr_in a = tsin(addr, port);

	CHECK(tops->connect(s, (struct sockaddr *)&a, sizeof(a)) ==
	      -EINPROGRESS);
	return s;
}

static inline struct cove_sock *taccept(struct tnode *n, struct cove_sock *l)
{
	struct cove_sock *c = NULL;

	if (tops->accept(l, &c, NULL, NULL) < 0)
		return NULL;
	return tnet_track(n, c);
}

static inline ssize_t tsend(struct cove_sock *s, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return tops->sendmsg(s, &m, MSG_NOSIGNAL);
}

static inline ssize_t trecv(struct cove_sock *s, void *buf, size_t len,
			    int flags)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return tops->recvmsg(s, &m, flags);
}

static inline int tsockerr(struct cove_sock *s)
{
	int e = -1;
	socklen_t len = sizeof(e);

	REQUIRE(tops->getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len) == 0);
	return e;
}

static inline uint8_t tstate(struct cove_sock *s)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	REQUIRE(tops->getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0);
	return ti.tcpi_state;
}

/* An established pair: @c on A connected to @s on B (accepted). */
struct tconn {
	struct cove_sock *l, *c, *s;
};

static inline bool tstep_accept(struct tnet *net, void *ctx)
{
	struct tconn *p = ctx;

	if (!p->s)
		p->s = taccept(&net->b, p->l);
	return p->s && (tops->events(p->c) & EPOLLOUT);
}

static inline void tconn_open(struct tnet *net, struct tconn *p, uint16_t port)
{
	memset(p, 0, sizeof(*p));
	p->l = tlisten(&net->b, port, 16);
	p->c = tconnect(&net->a, "10.0.0.2", port);
	REQUIRE(tnet_loop(net, tstep_accept, p, 10000));
}

/* The byte at offset @i of stream @dir: cheap, position dependent. */
static inline uint8_t tpat(uint64_t i, unsigned dir)
{
	return (uint8_t)((i * 31 + 7 + dir * 101 + (i >> 13)) % 251);
}

/* One direction of a bulk transfer with verification. */
struct tflow {
	struct cove_sock *tx, *rx;
	uint64_t total, sent, got;
	unsigned dir;
	bool tx_shut, eof, bad;
};

/* tflow_step() - send and receive what fits; shut down after the last byte. */
static inline void tflow_step(struct tflow *f)
{
	uint8_t buf[65536];
	ssize_t n;
	uint64_t i;

	while (f->sent < f->total) {
		size_t len = f->total - f->sent < sizeof(buf) ?
				     (size_t)(f->total - f->sent) :
				     sizeof(buf);

		for (i = 0; i < len; i++)
			buf[i] = tpat(f->sent + i, f->dir);
		n = tsend(f->tx, buf, len);
		if (n <= 0)
			break;
		f->sent += (uint64_t)n;
	}
	if (f->sent == f->total && !f->tx_shut) {
		CHECK(tops->shutdown(f->tx, SHUT_WR) == 0);
		f->tx_shut = true;
	}
	while (!f->eof) {
		n = trecv(f->rx, buf, sizeof(buf), 0);
		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			f->eof = true;
			if (n < 0)
				f->bad = true;
			break;
		}
		for (i = 0; i < (uint64_t)n; i++)
			if (buf[i] != tpat(f->got + i, f->dir))
				f->bad = true;
		f->got += (uint64_t)n;
	}
}

#endif /* COVE_TESTS_BUILTIN_TCP_H */
