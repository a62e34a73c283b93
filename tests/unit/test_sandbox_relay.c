// SPDX-License-Identifier: Apache-2.0
/* The sentry's relay against a fake stack: backpressure, EOF, close. */
#include <errno.h>
#include <poll.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "sentry/sentry.h"

/*
 * A fake provider whose sockets are two byte queues: @tx takes what the
 * program sends (up to @tx_cap, then -EAGAIN: a full send window), @rx
 * holds what the "network" delivers (then EOF if @rx_eof). Every call is
 * recorded, so the tests can check the relay's side of the contract.
 */
struct cove_sock {
	uint8_t tx[1 << 20], rx[1 << 20];
	size_t tx_len, tx_cap, rx_off, rx_len;
	bool rx_eof, shut_wr, closed;
	int rx_err;    /* once rx is drained: recvmsg() fails with it */
	uint16_t port; /* bound, network order; 0: none */
	bool listening;
	void *cookie;
};

/*
 * Ports follow Linux with SO_REUSEADDR on both sides: a port is shared
 * until one of its sockets listens; closed sockets hold nothing.
 */
static struct cove_sock fake, fake2;

static bool f_port_taken(struct cove_sock *s, uint16_t port, bool listen)
{
	struct cove_sock *all[] = { &fake, &fake2 };

	for (size_t i = 0; i < 2; i++)
		if (all[i] != s && !all[i]->closed && all[i]->port == port &&
		    (listen || all[i]->listening))
			return true;
	return false;
}

static int f_bind(struct cove_sock *s, const struct sockaddr *a, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)a;

	if (len < sizeof(*sin) || s->port)
		return -EINVAL;
	if (f_port_taken(s, sin->sin_port, false))
		return -EADDRINUSE;
	s->port = sin->sin_port;
	return 0;
}

static int f_listen(struct cove_sock *s, int backlog)
{
	struct cove_sock *all[] = { &fake, &fake2 };

	(void)backlog;
	for (size_t i = 0; i < 2; i++)
		if (all[i] != s && !all[i]->closed && all[i]->listening &&
		    all[i]->port == s->port)
			return -EADDRINUSE;
	s->listening = true;
	return 0;
}

static int f_accept(struct cove_sock *s, struct cove_sock **out,
		    struct sockaddr *a, socklen_t *len)
{
	(void)s, (void)out, (void)a, (void)len;
	return -EAGAIN;
}

static int f_getsockname(struct cove_sock *s, struct sockaddr *a,
			 socklen_t *len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = s->port };

	memcpy(a, &sin, *len < sizeof(sin) ? *len : sizeof(sin));
	*len = sizeof(sin);
	return 0;
}

static ssize_t f_sendmsg(struct cove_sock *s, const struct msghdr *m, int fl)
{
	size_t room = s->tx_cap - s->tx_len, n = m->msg_iov[0].iov_len;

	(void)fl;
	if (!room)
		return -EAGAIN;
	if (n > room)
		n = room;
	memcpy(s->tx + s->tx_len, m->msg_iov[0].iov_base, n);
	s->tx_len += n;
	return (ssize_t)n;
}

static ssize_t f_recvmsg(struct cove_sock *s, struct msghdr *m, int fl)
{
	size_t n = s->rx_len - s->rx_off;

	(void)fl;
	if (!n && s->rx_err)
		return -s->rx_err;
	if (!n)
		return s->rx_eof ? 0 : -EAGAIN;
	if (n > m->msg_iov[0].iov_len)
		n = m->msg_iov[0].iov_len;
	memcpy(m->msg_iov[0].iov_base, s->rx + s->rx_off, n);
	s->rx_off += n;
	return (ssize_t)n;
}

static int f_shutdown(struct cove_sock *s, int how)
{
	if (how != SHUT_RD)
		s->shut_wr = true;
	return 0;
}

static void f_close(struct cove_sock *s)
{
	s->closed = true;
}

static void f_set_cookie(struct cove_sock *s, void *c)
{
	s->cookie = c;
}

static const struct cove_netstack_ops fake_ops = {
	.abi_version = COVE_NETSTACK_ABI_VERSION,
	.name = "fake",
	.bind = f_bind,
	.listen = f_listen,
	.accept = f_accept,
	.getsockname = f_getsockname,
	.sendmsg = f_sendmsg,
	.recvmsg = f_recvmsg,
	.shutdown = f_shutdown,
	.close = f_close,
	.set_cookie = f_set_cookie,
};

static struct sentry sn;
static uint8_t pattern[1 << 20];

/* reset() - fresh fakes and a sentry without sockets. */
static void reset(void)
{
	memset(&fake, 0, sizeof(fake));
	memset(&fake2, 0, sizeof(fake2));
	fake.tx_cap = sizeof(fake.tx);
	memset(&sn, 0, sizeof(sn));
	sn.ops = &fake_ops;
	sn.host.ep = epoll_create1(EPOLL_CLOEXEC);
	sn.nfd = sn.diag = -1;
	cove_workq_init(&sn.work);
}

/* setup() - a connected relay socket on the fake; Return: program end. */
static struct sbx_sock *setup(int *app)
{
	struct sbx_sock *sk;

	reset();
	sk = sbx_sock_new(&sn, &fake, SOCK_STREAM);
	REQUIRE(sk && sbx_sock_pair(sk, app, false) == 0);
	sk->state = SK_CONNECTED;
	return sk;
}

static void teardown(int app)
{
	if (app >= 0)
		close(app);
	sbx_relay_close_all(&sn);
	close(sn.host.ep);
}

/* run() - process until nothing is queued (bounded). */
static void run(void)
{
	int i;

	for (i = 0; i < 64 && sbx_relay_process(&sn); i++)
		;
}

/* The stack takes 1000 bytes at a time: nothing is lost or reordered. */
static void test_up_backpressure(void)
{
	int app;
	struct sbx_sock *sk = setup(&app);
	size_t total = 200000;

	fake.tx_cap = 1000;
	REQUIRE(write(app, pattern, total) == (ssize_t)total);
	sk->app_readable = true;
	sbx_sock_kick(sk, SBX_PUMP_UP);
	run();
	CHECK(fake.tx_len == 1000);
	CHECK(sk->up_len > 0); /* the rest waits, not dropped */
	for (int i = 0; i < 1000 && fake.tx_len < total; i++) {
		fake.tx_cap += 1000;		/* the window opens a little */
		sbx_sock_kick(sk, SBX_PUMP_UP); /* the stack's EPOLLOUT */
		run();
	}
	CHECK(fake.tx_len == total);
	CHECK(!memcmp(fake.tx, pattern, total));
	CHECK(!fake.shut_wr);
	teardown(app);
}

/* 600 KB from the stack through a pair that holds less. */
static void test_down_backpressure(void)
{
	int app;
	struct sbx_sock *sk = setup(&app);
	static uint8_t got[sizeof(pattern)];
	size_t total = 600000, have = 0;
	ssize_t n;

	memcpy(fake.rx, pattern, total);
	fake.rx_len = total;
	fake.rx_eof = true;
	fcntl(app, F_SETFL, O_NONBLOCK);
	sbx_sock_kick(sk, SBX_PUMP_DOWN);
	run();
	CHECK(fake.rx_off < total); /* the pair filled up: stop reading */
	for (;;) {
		n = read(app, got + have, sizeof(got) - have);
		if (n == 0)
			break; /* EOF after every byte */
		if (n < 0) {
			REQUIRE(errno == EAGAIN);
			sbx_sock_kick(sk, SBX_PUMP_DOWN); /* EPOLLOUT */
			run();
			continue;
		}
		have += (size_t)n;
	}
	CHECK(have == total);
	CHECK(!memcmp(got, pattern, total));
	CHECK(sk->sfd_shut_wr);
	teardown(app);
}

/* shutdown(SHUT_WR) by the program becomes the stack's, after the data. */
static void test_half_close(void)
{
	int app;
	struct sbx_sock *sk = setup(&app);

	REQUIRE(write(app, "hello", 5) == 5);
	shutdown(app, SHUT_WR);
	sk->rdhup = true;
	sbx_sock_kick(sk, SBX_PUMP_UP);
	run();
	CHECK(fake.tx_len == 5 && !memcmp(fake.tx, "hello", 5));
	CHECK(fake.shut_wr);
	CHECK(!fake.closed);
	teardown(app);
}

/* The program's last close: flush, then close the stack socket (with no
 * shutdown first, so that SO_LINGER 0 can make it a RST alone). */
static void test_close(void)
{
	int app;
	struct sbx_sock *sk = setup(&app);

	REQUIRE(write(app, "bye", 3) == 3);
	close(app);
	sk->hup = true;
	sbx_sock_kick(sk, SBX_PUMP_BOTH);
	run();
	CHECK(fake.tx_len == 3);
	CHECK(!fake.shut_wr && fake.closed);
	CHECK(sn.nsocks == 0);
	teardown(-1);
}

/*
 * reset_case() - the stack fails a connection that had sent "abc" first
 * @hint:	whether the sentry knows where the program's end is
 *
 * Return: the program's end, after the relay ran.
 */
static int reset_case(struct sbx_sock **skp, bool hint)
{
	int app;
	struct sbx_sock *sk = setup(&app);

	memcpy(fake.rx, "abc", 3);
	fake.rx_len = 3;
	fake.rx_err = ECONNRESET;
	if (hint) {
		sk->hint_pid = (uint32_t)getpid();
		sk->hint_fd = app;
	}
	sbx_sock_kick(sk, SBX_PUMP_DOWN);
	run();
	*skp = sk;
	return app;
}

/* A reset reaches the program's end: data, ECONNRESET, EOF; EPIPE. */
static void test_reset(void)
{
	struct sbx_sock *sk;
	int app = reset_case(&sk, true);
	struct pollfd p = { .fd = app, .events = POLLIN | POLLOUT };
	char b[8];

	CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLERR) &&
	      (p.revents & POLLHUP) && (p.revents & POLLIN));
	CHECK(recv(app, b, sizeof(b), MSG_DONTWAIT) == 3);
	CHECK(recv(app, b, sizeof(b), MSG_DONTWAIT) < 0 && errno == ECONNRESET);
	CHECK(recv(app, b, sizeof(b), MSG_DONTWAIT) == 0);
	CHECK(send(app, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE);
	/* Still served by cookie, until sock_diag says the end is gone. */
	CHECK(sk->sfd < 0 && sk->err_in_pair && !sk->conn_err);
	CHECK(sbx_sock_find(&sn, sk->cookie) == sk && sn.nzombies == 1);
	CHECK(!fake.closed);
	teardown(app);
	CHECK(fake.closed && sn.nsocks == 0);
}

/* Without a way to the program's end: EOF, and SO_ERROR keeps the error. */
static void test_reset_no_hint(void)
{
	struct sbx_sock *sk;
	int app = reset_case(&sk, false);
	char b[8];

	CHECK(recv(app, b, sizeof(b), MSG_DONTWAIT) == 3);
	CHECK(recv(app, b, sizeof(b), MSG_DONTWAIT) == 0);
	CHECK(!sk->err_in_pair && sk->conn_err == ECONNRESET);
	teardown(app);
}

static struct sockaddr_in port_5201; /* 0.0.0.0:5201, set by main() */

/* listener() - a socket on @cs bound to port 5201 and listening. */
static struct sbx_sock *listener(struct cove_sock *cs, int *app)
{
	struct sbx_sock *sk = sbx_sock_new(&sn, cs, SOCK_STREAM);

	REQUIRE(sk && sbx_sock_pair(sk, app, false) == 0);
	REQUIRE(sbx_bind(&sn, sk, (const struct sockaddr *)&port_5201,
			 sizeof(port_5201)) == 0);
	REQUIRE(sbx_listen(&sn, sk, 8) == 0);
	sk->state = SK_LISTENING;
	return sk;
}

/*
 * A server closes its listener and binds the port again at once (iperf3
 * after a client that left). The sentry has not seen the close yet (no
 * epoll event processed), yet bind() must succeed as on Linux: the old
 * listener is closed first. While the old one is open, the port stays
 * taken.
 */
static void test_rebind_after_close(void)
{
	int app1, app2;
	struct sbx_sock *sk2;

	reset();
	(void)listener(&fake, &app1);
	run();
	sk2 = sbx_sock_new(&sn, &fake2, SOCK_STREAM);
	REQUIRE(sk2 && sbx_sock_pair(sk2, &app2, false) == 0);
	CHECK(sbx_bind(&sn, sk2, (const struct sockaddr *)&port_5201,
		       sizeof(port_5201)) == -EADDRINUSE);
	CHECK(!fake.closed && sn.nsocks == 2);
	close(app1); /* the program's close(): not trapped */
	CHECK(sbx_bind(&sn, sk2, (const struct sockaddr *)&port_5201,
		       sizeof(port_5201)) == 0);
	CHECK(fake.closed && sn.nsocks == 1);
	CHECK(sbx_listen(&sn, sk2, 8) == 0);
	teardown(app2);
}

/* The same for listen(): both bound while neither listened (SO_REUSEADDR). */
static void test_relisten_after_close(void)
{
	int app1, app2;
	struct sbx_sock *sk1, *sk2;

	reset();
	sk1 = sbx_sock_new(&sn, &fake, SOCK_STREAM);
	sk2 = sbx_sock_new(&sn, &fake2, SOCK_STREAM);
	REQUIRE(sk1 && sbx_sock_pair(sk1, &app1, false) == 0);
	REQUIRE(sk2 && sbx_sock_pair(sk2, &app2, false) == 0);
	REQUIRE(sbx_bind(&sn, sk1, (const struct sockaddr *)&port_5201,
			 sizeof(port_5201)) == 0);
	REQUIRE(sbx_bind(&sn, sk2, (const struct sockaddr *)&port_5201,
			 sizeof(port_5201)) == 0);
	REQUIRE(sbx_listen(&sn, sk1, 8) == 0);
	sk1->state = SK_LISTENING;
	CHECK(sbx_listen(&sn, sk2, 8) == -EADDRINUSE);
	close(app1);
	CHECK(sbx_listen(&sn, sk2, 8) == 0);
	CHECK(fake.closed && sn.nsocks == 1);
	teardown(app2);
}

/*
 * More parked calls than SBX_WAITERS: the one past the bound is answered
 * ENOMEM at once and takes no slot, the others stay parked in order;
 * freeing the socket answers them (EBADF) and every slot is back in the
 * pool.
 */
static void test_waiter_bound(void)
{
	struct seccomp_notif n = { 0 };
	int app;
	struct sbx_sock *sk = setup(&app);
	unsigned i, nfree = 0;
	struct sbx_waiter *w;

	sk->state = SK_CONNECTING;
	for (i = 0; i < SBX_WAITERS; i++) {
		n.id = 100 + i;
		sbx_waiter_park(sk, &n);
	}
	CHECK(sn.nwaiters == SBX_WAITERS);
	n.id = 99;
	sbx_waiter_park(sk, &n);
	CHECK(sn.nwaiters == SBX_WAITERS);
	/* (its ENOMEM reply goes to nfd -1 here: only the pool is checked) */
	for (i = 0, w = sk->waiters; w; w = w->next, i++)
		CHECK(w->id == 100 + i); /* in order, none lost */
	CHECK(i == SBX_WAITERS);
	sbx_sock_free(sk);
	CHECK(sn.nwaiters == 0);
	for (w = sn.waiter_free; w; w = w->next)
		nfree++;
	CHECK(nfree == SBX_WAITERS);
	teardown(app);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)((i * 31 + 7) % 251);
	port_5201.sin_family = AF_INET;
	port_5201.sin_port = htons(5201);
	RUN(test_up_backpressure);
	RUN(test_down_backpressure);
	RUN(test_half_close);
	RUN(test_close);
	RUN(test_reset);
	RUN(test_reset_no_hint);
	RUN(test_rebind_after_close);
	RUN(test_relisten_after_close);
	RUN(test_waiter_bound);
	return check_failures ? 1 : 0;
}
