// SPDX-License-Identifier: Apache-2.0
/* The sentry's relay against a fake stack: backpressure, EOF, close. */
#include <errno.h>
#include <fcntl.h>
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
	void *cookie;
};

static struct cove_sock fake;

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
	.sendmsg = f_sendmsg,
	.recvmsg = f_recvmsg,
	.shutdown = f_shutdown,
	.close = f_close,
	.set_cookie = f_set_cookie,
};

static struct sentry sn;
static uint8_t pattern[1 << 20];

/* setup() - a connected relay socket on the fake; Return: program end. */
static struct sbx_sock *setup(int *app)
{
	struct sbx_sock *sk;

	memset(&fake, 0, sizeof(fake));
	fake.tx_cap = sizeof(fake.tx);
	memset(&sn, 0, sizeof(sn));
	sn.ops = &fake_ops;
	sn.ep = epoll_create1(EPOLL_CLOEXEC);
	sn.nfd = sn.diag = -1;
	sn.pending_tail = &sn.pending;
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
	close(sn.ep);
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
	CHECK(sk->up_len > 0);		/* the rest waits, not dropped */
	for (int i = 0; i < 1000 && fake.tx_len < total; i++) {
		fake.tx_cap += 1000;	/* the window opens a little */
		sbx_sock_kick(sk, SBX_PUMP_UP);	/* the stack's EPOLLOUT */
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
	CHECK(fake.rx_off < total);	/* the pair filled up: stop reading */
	for (;;) {
		n = read(app, got + have, sizeof(got) - have);
		if (n == 0)
			break;			/* EOF after every byte */
		if (n < 0) {
			REQUIRE(errno == EAGAIN);
			sbx_sock_kick(sk, SBX_PUMP_DOWN);	/* EPOLLOUT */
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

/* The program's last close: flush, then close the stack socket. */
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
	CHECK(fake.shut_wr && fake.closed);
	CHECK(sn.nsocks == 0);
	teardown(-1);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)((i * 31 + 7) % 251);
	RUN(test_up_backpressure);
	RUN(test_down_backpressure);
	RUN(test_half_close);
	RUN(test_close);
	return check_failures ? 1 : 0;
}
