// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the kernel provider: TCP echo and UDP through the ABI on loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "cove/netstack.h"
#include "tests/unit/check.h"

/*
 * Each test drives one instance from a small event loop, as a host would:
 * sleep on poll_fd(), call run(), and service only the sockets notify()
 * named. Sockets are serviced until -EAGAIN, since the provider notifies on
 * edges. At the end every socket is closed and stats.sockets must be 0.
 */

struct tsock {
	struct cove_sock *s;
	bool woke;
};

struct thost {
	unsigned notifies;
};

static void t_notify(void *host, struct cove_sock *s, void *cookie,
		     uint32_t events)
{
	struct thost *h = host;
	struct tsock *t = cookie;

	(void)s;
	(void)events;
	h->notifies++;
	if (t)
		t->woke = true;
}

static uint64_t t_now(void *host)
{
	struct timespec ts;

	(void)host;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct cove_stack *t_create(const struct cove_netstack_ops *ops,
				   struct thost *h)
{
	struct cove_stack_config cfg = { .size = sizeof(cfg), .prefix_len = 8 };
	struct cove_stack_env env = {
		.notify = t_notify,
		.now_ns = t_now,
		.host = h,
	};
	struct cove_stack *st = NULL;

	inet_pton(AF_INET, "127.0.0.1", &cfg.addr);
	REQUIRE(ops->create(&cfg, &env, &st) == 0);
	return st;
}

/* t_wait() - sleep on poll_fd() (at most 1 s), then run(). */
static void t_wait(const struct cove_netstack_ops *ops, struct cove_stack *st)
{
	struct epoll_event ev;
	int ep = epoll_create1(0);
	int pfd = ops->poll_fd(st);

	REQUIRE(ep >= 0 && pfd >= 0);
	ev.events = EPOLLIN;
	ev.data.u64 = 0;
	REQUIRE(epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &ev) == 0);
	(void)epoll_wait(ep, &ev, 1, 1000);
	close(ep);
	ops->run(st, t_now(NULL));
}

static struct sockaddr_in t_addr(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static ssize_t t_send(const struct cove_netstack_ops *ops, struct cove_sock *s,
		      const void *buf, size_t len, const struct sockaddr_in *to)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (to) {
		m.msg_name = (void *)to;
		m.msg_namelen = sizeof(*to);
	}
	return ops->sendmsg(s, &m, 0);
}

static ssize_t t_recv(const struct cove_netstack_ops *ops, struct cove_sock *s,
		      void *buf, size_t len, struct sockaddr_in *from)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (from) {
		m.msg_name = from;
		m.msg_namelen = sizeof(*from);
	}
	return ops->recvmsg(s, &m, 0);
}

#define ECHO_TOTAL (512u * 1024u)
#define ECHO_PEND  4096u

/* The echo server side: read, write back, stop reading while data waits. */
struct echo_srv {
	struct tsock t;
	uint8_t pend[ECHO_PEND];
	size_t plen, poff;
	bool eof, closed;
};

static void echo_srv_service(const struct cove_netstack_ops *ops,
			     struct echo_srv *e)
{
	for (;;) {
		ssize_t n;

		if (e->poff < e->plen) {
			n = t_send(ops, e->t.s, e->pend + e->poff,
				   e->plen - e->poff, NULL);
			if (n == -EAGAIN)
				return;
			REQUIRE(n > 0);
			e->poff += (size_t)n;
			continue;
		}
		if (e->eof) {
			ops->close(e->t.s);
			e->closed = true;
			return;
		}
		n = t_recv(ops, e->t.s, e->pend, sizeof(e->pend), NULL);
		if (n == -EAGAIN)
			return;
		REQUIRE(n >= 0);
		if (n == 0)
			e->eof = true;
		e->plen = (size_t)n;
		e->poff = 0;
	}
}

static void test_tcp_echo(void)
{
	const struct cove_netstack_ops *ops = cove_stack_find("kernel");
	static uint8_t out[ECHO_TOTAL], in[ECHO_TOTAL];
	static struct echo_srv srv;
	struct cove_stack_stats stats;
	struct tsock lis = { 0 }, cli = { 0 };
	struct sockaddr_in a = t_addr(0);
	socklen_t alen = sizeof(a);
	size_t sent = 0, got = 0;
	bool have_srv = false, cli_eof = false;
	struct thost h = { 0 };
	struct cove_stack *st;
	unsigned i, rounds = 0;
	int one = 1, v, ret;

	REQUIRE(ops);
	for (i = 0; i < ECHO_TOTAL; i++)
		out[i] = (uint8_t)(i * 31 + 7);
	memset(&srv, 0, sizeof(srv));
	st = t_create(ops, &h);
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &lis.s) == 0);
	ops->set_cookie(lis.s, &lis);
	CHECK(ops->setsockopt(lis.s, SOL_SOCKET, SO_REUSEADDR, &one,
			      sizeof(one)) == 0);
	CHECK(ops->bind(lis.s, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->listen(lis.s, 8) == 0);
	CHECK(ops->getsockname(lis.s, (struct sockaddr *)&a, &alen) == 0);
	CHECK(ntohs(a.sin_port) != 0);
	CHECK(ops->accept(lis.s, &srv.t.s, NULL, NULL) == -EAGAIN);

	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &cli.s) == 0);
	ops->set_cookie(cli.s, &cli);
	ret = ops->connect(cli.s, (struct sockaddr *)&a, sizeof(a));
	CHECK(ret == 0 || ret == -EINPROGRESS);

	while (!(cli_eof && srv.closed) && rounds++ < 2000) {
		t_wait(ops, st);
		if (lis.woke && !have_srv) {
			struct sockaddr_in peer;
			socklen_t plen = sizeof(peer);

			lis.woke = false;
			ret = ops->accept(lis.s, &srv.t.s,
					  (struct sockaddr *)&peer, &plen);
			if (ret == 0) {
				have_srv = true;
				ops->set_cookie(srv.t.s, &srv.t);
				srv.t.woke = true;
				CHECK(peer.sin_addr.s_addr ==
				      htonl(INADDR_LOOPBACK));
			}
		}
		if (cli.woke) {
			ssize_t n;

			cli.woke = false;
			while (sent < ECHO_TOTAL) {
				n = t_send(ops, cli.s, out + sent,
					   ECHO_TOTAL - sent, NULL);
				if (n == -EAGAIN)
					break;
				REQUIRE(n > 0);
				sent += (size_t)n;
				if (sent == ECHO_TOTAL)
					CHECK(ops->shutdown(cli.s, SHUT_WR) ==
					      0);
			}
			while (!cli_eof) {
				n = t_recv(ops, cli.s, in + got,
					   ECHO_TOTAL - got, NULL);
				if (n == -EAGAIN)
					break;
				REQUIRE(n >= 0);
				if (n == 0)
					cli_eof = true;
				got += (size_t)n;
				REQUIRE(got <= ECHO_TOTAL);
			}
		}
		if (have_srv && !srv.closed && srv.t.woke) {
			srv.t.woke = false;
			echo_srv_service(ops, &srv);
		}
	}
	CHECK(cli_eof && srv.closed);
	CHECK(got == ECHO_TOTAL && !memcmp(in, out, ECHO_TOTAL));
	CHECK(h.notifies > 0);
	alen = sizeof(v);
	CHECK(ops->getsockopt(cli.s, SOL_SOCKET, SO_ERROR, &v, &alen) == 0);
	CHECK(v == 0);

	CHECK(cove_stack_read_stats(ops, st, &stats) == 0);
	CHECK(stats.sockets == 2);
	CHECK(stats.tcp_active_opens == 1 && stats.tcp_passive_opens == 1);
	ops->close(cli.s);
	ops->close(lis.s);
	CHECK(cove_stack_read_stats(ops, st, &stats) == 0);
	CHECK(stats.sockets == 0);
	ops->destroy(st);
}

static void test_udp_echo(void)
{
	const struct cove_netstack_ops *ops = cove_stack_find("kernel");
	struct tsock a = { 0 }, b = { 0 };
	struct sockaddr_in aa = t_addr(0), ba = t_addr(0), from;
	socklen_t len = sizeof(aa);
	struct cove_stack_stats stats;
	struct thost h = { 0 };
	struct cove_stack *st;
	unsigned sent = 0, echoed = 0, back = 0, rounds = 0;
	uint8_t buf[2048];
	ssize_t n;

	REQUIRE(ops);
	st = t_create(ops, &h);
	REQUIRE(ops->socket(st, AF_INET, SOCK_DGRAM, 0, &a.s) == 0);
	REQUIRE(ops->socket(st, AF_INET, SOCK_DGRAM, 0, &b.s) == 0);
	ops->set_cookie(a.s, &a);
	ops->set_cookie(b.s, &b);
	CHECK(ops->bind(a.s, (struct sockaddr *)&aa, sizeof(aa)) == 0);
	CHECK(ops->bind(b.s, (struct sockaddr *)&ba, sizeof(ba)) == 0);
	CHECK(ops->getsockname(a.s, (struct sockaddr *)&aa, &len) == 0);
	len = sizeof(ba);
	CHECK(ops->getsockname(b.s, (struct sockaddr *)&ba, &len) == 0);
	CHECK(t_recv(ops, b.s, buf, sizeof(buf), NULL) == -EAGAIN);

	for (sent = 0; sent < 16; sent++) {
		memset(buf, (int)sent, 100 + sent);
		CHECK(t_send(ops, a.s, buf, 100 + sent, &ba) ==
		      (ssize_t)(100 + sent));
	}
	while (back < 16 && rounds++ < 100) {
		t_wait(ops, st);
		while (b.woke) {
			n = t_recv(ops, b.s, buf, sizeof(buf), &from);
			if (n == -EAGAIN) {
				b.woke = false;
				break;
			}
			CHECK(from.sin_port == aa.sin_port);
			CHECK(t_send(ops, b.s, buf, (size_t)n, &from) == n);
			echoed++;
		}
		while (a.woke) {
			n = t_recv(ops, a.s, buf, sizeof(buf), NULL);
			if (n == -EAGAIN) {
				a.woke = false;
				break;
			}
			CHECK(n == (ssize_t)(100 + back) && buf[0] == back &&
			      buf[n - 1] == back);
			back++;
		}
	}
	CHECK(echoed == 16 && back == 16);
	CHECK(ops->events(a.s) & EPOLLOUT);
	CHECK(!(ops->events(a.s) & EPOLLIN));
	CHECK(cove_stack_read_stats(ops, st, &stats) == 0);
	CHECK(stats.udp_out == 32 && stats.udp_in == 32);
	ops->close(a.s);
	ops->close(b.s);
	CHECK(cove_stack_read_stats(ops, st, &stats) == 0);
	CHECK(stats.sockets == 0);
	ops->destroy(st);
}

/* A connect to a port nobody listens on fails with ECONNREFUSED. */
static void test_refused_and_errors(void)
{
	const struct cove_netstack_ops *ops = cove_stack_find("kernel");
	struct cove_stack_config bad = { .size = sizeof(bad),
					 .prefix_len = 33 };
	struct cove_stack_env env = { .notify = t_notify };
	struct sockaddr_in a = t_addr(0);
	socklen_t len = sizeof(a);
	struct tsock c = { 0 };
	struct thost h = { 0 };
	struct cove_stack *st;
	struct cove_sock *x;
	unsigned rounds = 0;
	int ret, v = 0;

	REQUIRE(ops);
	CHECK(ops->abi_version == COVE_NETSTACK_ABI_VERSION);
	CHECK(ops->create(&bad, &env, &st) == -EINVAL);
	st = t_create(ops, &h);
	CHECK(ops->socket(st, AF_UNIX, SOCK_STREAM, 0, &x) == -EAFNOSUPPORT);
	/* ABI v2: AF_INET6 is the kernel's own dual-stack socket. */
	REQUIRE(ops->socket(st, AF_INET6, SOCK_STREAM, 0, &x) == 0);
	v = -1;
	len = sizeof(v);
	CHECK(ops->getsockopt(x, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 &&
	      v == AF_INET6);
	ops->close(x);
	v = 0;
	len = sizeof(a);
	CHECK(ops->socket(st, AF_INET, SOCK_RAW, 0, &x) == -ESOCKTNOSUPPORT);

	/* Find a free port: bind, learn it, close. */
	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &x) == 0);
	CHECK(ops->bind(x, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->getsockname(x, (struct sockaddr *)&a, &len) == 0);
	ops->close(x);

	REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &c.s) == 0);
	ops->set_cookie(c.s, &c);
	ret = ops->connect(c.s, (struct sockaddr *)&a, sizeof(a));
	if (ret == -EINPROGRESS) {
		while (!c.woke && rounds++ < 100)
			t_wait(ops, st);
		CHECK(c.woke && (ops->events(c.s) & EPOLLERR));
		len = sizeof(v);
		CHECK(ops->getsockopt(c.s, SOL_SOCKET, SO_ERROR, &v, &len) ==
		      0);
		CHECK(v == ECONNREFUSED);
	} else {
		CHECK(ret == -ECONNREFUSED);
	}
	ops->close(c.s);
	ops->destroy(st);
}

/* SO_REUSEPORT reaches Linux: two listeners share a port, a third may not. */
static void test_reuseport(void)
{
	const struct cove_netstack_ops *ops = cove_stack_find("kernel");
	struct sockaddr_in a = t_addr(0);
	socklen_t len = sizeof(a);
	struct cove_sock *x[3];
	struct thost h = { 0 };
	struct cove_stack *st;
	int one = 1, v = 0, i;

	REQUIRE(ops);
	st = t_create(ops, &h);
	for (i = 0; i < 3; i++)
		REQUIRE(ops->socket(st, AF_INET, SOCK_STREAM, 0, &x[i]) == 0);
	for (i = 0; i < 2; i++)
		CHECK(ops->setsockopt(x[i], SOL_SOCKET, SO_REUSEPORT, &one,
				      sizeof(one)) == 0);
	CHECK(ops->bind(x[0], (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->getsockname(x[0], (struct sockaddr *)&a, &len) == 0);
	CHECK(ops->listen(x[0], 8) == 0);
	CHECK(ops->bind(x[1], (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(ops->listen(x[1], 8) == 0);
	CHECK(ops->bind(x[2], (struct sockaddr *)&a, sizeof(a)) == -EADDRINUSE);
	len = sizeof(v);
	CHECK(ops->getsockopt(x[1], SOL_SOCKET, SO_REUSEPORT, &v, &len) == 0 &&
	      v == 1);
	for (i = 0; i < 3; i++)
		ops->close(x[i]);
	ops->destroy(st);
}

/* destroy() frees sockets the host left open (ASan sees any leak). */
static void test_destroy_open(void)
{
	const struct cove_netstack_ops *ops = cove_stack_find("kernel");
	struct cove_stack_stats stats;
	struct thost h = { 0 };
	struct cove_stack *st;
	struct cove_sock *x;
	int i;

	REQUIRE(ops);
	st = t_create(ops, &h);
	for (i = 0; i < 5; i++)
		CHECK(ops->socket(st, AF_INET, i & 1 ? SOCK_DGRAM : SOCK_STREAM,
				  0, &x) == 0);
	ops->close(x);
	CHECK(cove_stack_read_stats(ops, st, &stats) == 0 &&
	      stats.sockets == 4);
	ops->destroy(st);
}

int main(void)
{
	RUN(test_tcp_echo);
	RUN(test_udp_echo);
	RUN(test_refused_and_errors);
	RUN(test_reuseport);
	RUN(test_destroy_open);
	return check_summary();
}
