// SPDX-License-Identifier: Apache-2.0
/* Differential socket checks: each prints what it saw, compared with Linux. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "sockdiff.h"

/*
 * Theory of operation
 *
 * A check here does not judge: it runs a sequence of calls and prints one
 * line "= NAME OBSERVATION", the observation being every result in order
 * (errno names, values read back, poll bits). The harness
 * (tests/integration/sandbox_semantics.py) runs the same binary on the
 * host's kernel (--network=host) and in every mode and compares the lines:
 * a mode matches Linux on a check when its line is the kernel's. Every
 * call is bounded in time (non-blocking or poll with a timeout), so a check
 * can differ but never hang.
 *
 * The host peers: a reset server on RESET_PORT that reads one command
 * byte and then closes with SO_LINGER {1, 0} (an RST): 'R' at once, 'D'
 * after sending "data". The closed port refuses connections.
 */

static char obuf[1024]; /* the observation being built */
static size_t olen;

/* sd_ob() - append one result to the observation being built. */
void sd_ob(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (olen >= sizeof(obuf) - 1)
		return;
	if (olen)
		obuf[olen++] = ' ';
	va_start(ap, fmt);
	n = vsnprintf(obuf + olen, sizeof(obuf) - olen, fmt, ap);
	va_end(ap);
	if (n > 0)
		olen += (size_t)n < sizeof(obuf) - olen ?
				(size_t)n :
				sizeof(obuf) - olen - 1;
}

/* sd_ob_end() - print the observation of check @name, start a new one. */
void sd_ob_end(const char *name)
{
	obuf[olen] = 0;
	printf("= %s %s\n", name, olen ? obuf : "-");
	fflush(stdout);
	olen = 0;
}

/* sd_ename() - the name of errno value @e. */
const char *sd_ename(int e)
{
	const char *s = strerrorname_np(e);

	return s ? s : "E?";
}

/* ob_ret() - a call's result: its value, or its errno's name. */
static void ob_ret(const char *what, long r)
{
	if (r < 0)
		sd_ob("%s=%s", what, sd_ename(errno));
	else
		sd_ob("%s=%ld", what, r);
}

/* ob_poll() - the poll bits of @fd for @events, without waiting. */
static void ob_poll(const char *what, int fd, short events)
{
	static const struct {
		short bit;
		const char *name;
	} bits[] = { { POLLIN, "IN" },	     { POLLOUT, "OUT" },
		     { POLLERR, "ERR" },     { POLLHUP, "HUP" },
		     { POLLRDHUP, "RDHUP" }, { POLLNVAL, "NVAL" } };
	struct pollfd p = { .fd = fd, .events = events };
	char s[64] = "";
	size_t i;

	if (poll(&p, 1, 0) < 0) {
		sd_ob("%s=%s", what, sd_ename(errno));
		return;
	}
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (p.revents & bits[i].bit) {
			if (s[0])
				strcat(s, "|");
			strcat(s, bits[i].name);
		}
	sd_ob("%s=%s", what, s[0] ? s : "0");
}

/* ob_soerr() - SO_ERROR (read and cleared). */
static void ob_soerr(int fd)
{
	socklen_t len = sizeof(int);
	int e = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		sd_ob("soerr=%s", sd_ename(errno));
	else
		sd_ob("soerr=%s", e ? sd_ename(e) : "0");
}

/* ob_read() - one non-blocking read of up to 64 bytes: count or errno. */
static void ob_read(int fd)
{
	char b[64];
	ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);

	ob_ret("read", n);
}

/* ob_write() - one non-blocking write of a byte: count or errno. */
static void ob_write(int fd)
{
	ssize_t n = send(fd, "x", 1, MSG_DONTWAIT);

	ob_ret("write", n);
}

/* wait_for() - poll @fd for @events up to @ms; Return: revents or 0. */
static short wait_for(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/* settle() - give a peer's packets time to arrive (and the relay). */
static void settle(void)
{
	usleep(300 * 1000);
}

/**
 * reset_conn() - a connection to the reset server, reset after @cmd
 * @cmd:	'R': reset at once; 'D': "data", then the reset
 *
 * Waits until the connection is readable (the data or the reset came),
 * then a little longer for the reset. Return: fd, or -1.
 */
static int reset_conn(char cmd)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&sd_host_reset,
		    sizeof(sd_host_reset)) < 0 ||
	    write(fd, &cmd, 1) != 1) {
		close(fd);
		return -1;
	}
	(void)wait_for(fd, POLLIN, 3000);
	settle();
	return fd;
}

/* The first write after a reset: ECONNRESET, then EPIPE. */
static void sd_reset_write(void)
{
	int fd = reset_conn('R');

	if (fd < 0) {
		sd_ob("connect=%s", sd_ename(errno));
	} else {
		ob_write(fd);
		ob_write(fd);
		ob_read(fd);
		close(fd);
	}
	sd_ob_end("reset_write");
}

/* Poll bits after a reset, before and after SO_ERROR is read. */
static void sd_reset_poll(void)
{
	int fd = reset_conn('R');

	if (fd < 0) {
		sd_ob("connect=%s", sd_ename(errno));
	} else {
		ob_poll("poll", fd, POLLIN | POLLOUT | POLLRDHUP);
		ob_poll("poll0", fd, 0);
		ob_soerr(fd);
		ob_poll("poll", fd, POLLIN | POLLOUT | POLLRDHUP);
		ob_soerr(fd);
		close(fd);
	}
	sd_ob_end("reset_poll");
}

/* Data that came before the reset is read first, then ECONNRESET. */
static void sd_reset_read_data(void)
{
	int fd = reset_conn('D');

	if (fd < 0) {
		sd_ob("connect=%s", sd_ename(errno));
	} else {
		ob_read(fd);
		ob_read(fd);
		ob_read(fd);
		ob_write(fd);
		ob_soerr(fd);
		close(fd);
	}
	sd_ob_end("reset_read_data");
}

/* SO_ERROR first takes the reset's error: reads then see EOF. */
static void sd_reset_soerror(void)
{
	int fd = reset_conn('R');

	if (fd < 0) {
		sd_ob("connect=%s", sd_ename(errno));
	} else {
		ob_soerr(fd);
		ob_read(fd);
		ob_write(fd);
		ob_soerr(fd);
		close(fd);
	}
	sd_ob_end("reset_soerror");
}

/* A blocking read that waits while the reset comes: ECONNRESET. */
static void sd_reset_blocked_read(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 3 };
	char b[16];

	if (fd < 0 || connect(fd, (const struct sockaddr *)&sd_host_reset,
			      sizeof(sd_host_reset)) < 0) {
		sd_ob("connect=%s", sd_ename(errno));
	} else {
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)write(fd, "R", 1);
		ob_ret("read", read(fd, b, sizeof(b)));
		ob_ret("read", read(fd, b, sizeof(b)));
	}
	if (fd >= 0)
		close(fd);
	sd_ob_end("reset_blocked_read");
}

/* The trapped calls on a reset connection. */
static void sd_reset_calls(void)
{
	int fd = reset_conn('R');
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (fd < 0) {
		sd_ob("connect=%s", sd_ename(errno));
	} else {
		ob_ret("getpeername",
		       getpeername(fd, (struct sockaddr *)&a, &len));
		len = sizeof(a);
		ob_ret("getsockname",
		       getsockname(fd, (struct sockaddr *)&a, &len));
		ob_ret("connect",
		       connect(fd, (const struct sockaddr *)&sd_host_reset,
			       sizeof(sd_host_reset)));
		ob_ret("shutdown", shutdown(fd, SHUT_RDWR));
		ob_soerr(fd);
		close(fd);
	}
	sd_ob_end("reset_calls");
}

/* A refused non-blocking connect, seen through poll, read and write. */
static void sd_refused_read(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ob_ret("connect", connect(fd, (const struct sockaddr *)&sd_host_closed,
				  sizeof(sd_host_closed)));
	(void)wait_for(fd, POLLOUT, 3000);
	settle();
	ob_poll("poll", fd, POLLIN | POLLOUT);
	ob_read(fd);
	ob_read(fd);
	ob_write(fd);
	close(fd);
	sd_ob_end("refused_read");
}

/* A refused non-blocking connect, its result taken by connect() again. */
static void sd_refused_reconnect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	const struct sockaddr *a = (const struct sockaddr *)&sd_host_closed;

	ob_ret("connect", connect(fd, a, sizeof(sd_host_closed)));
	(void)wait_for(fd, POLLOUT, 3000);
	settle();
	ob_ret("connect", connect(fd, a, sizeof(sd_host_closed)));
	ob_soerr(fd);
	close(fd);
	sd_ob_end("refused_reconnect");
}

/* A refused connect whose SO_ERROR was read: then read and write. */
static void sd_refused_soerror(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ob_ret("connect", connect(fd, (const struct sockaddr *)&sd_host_closed,
				  sizeof(sd_host_closed)));
	(void)wait_for(fd, POLLOUT, 3000);
	settle();
	ob_soerr(fd);
	ob_soerr(fd);
	ob_poll("poll", fd, POLLIN | POLLOUT);
	close(fd);
	sd_ob_end("refused_soerror");
}

/* A refused blocking connect, then the calls a program might still make. */
static void sd_refused_blocking(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	ob_ret("connect", connect(fd, (const struct sockaddr *)&sd_host_closed,
				  sizeof(sd_host_closed)));
	ob_poll("poll", fd, POLLIN | POLLOUT);
	ob_read(fd);
	ob_write(fd);
	ob_soerr(fd);
	ob_ret("getpeername", getpeername(fd, (struct sockaddr *)&a, &len));
	close(fd);
	sd_ob_end("refused_blocking");
}

/* Calls on a TCP socket that never connected. */
static void sd_never_connected(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char b[4];

	ob_ret("send", send(fd, "x", 1, MSG_DONTWAIT));
	ob_ret("write", write(fd, "x", 1));
	ob_ret("recv", recv(fd, b, sizeof(b), MSG_DONTWAIT));
	ob_poll("poll", fd, POLLIN | POLLOUT);
	ob_soerr(fd);
	close(fd);
	sd_ob_end("never_connected");
}

/* loopback_listener() - a listener on 127.0.0.1:@port; Return: fd or -1. */
static int loopback_listener(unsigned short port, int backlog)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, backlog) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* nb_connect() - a non-blocking connect to 127.0.0.1:@port. */
static int nb_connect(unsigned short port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0)
		(void)connect(fd, (struct sockaddr *)&a, sizeof(a));
	return fd;
}

/* A connection queued on a listener that closes is reset. */
static void sd_listener_close_queued(void)
{
	int l = loopback_listener(sd_port_base, 8), c;

	if (l < 0) {
		sd_ob("listen=%s", sd_ename(errno));
		sd_ob_end("listener_close_queued");
		return;
	}
	c = nb_connect(sd_port_base);
	(void)wait_for(c, POLLOUT, 3000);
	settle();
	ob_soerr(c);
	close(l);
	(void)wait_for(c, POLLIN, 3000);
	settle();
	ob_poll("poll", c, POLLIN | POLLOUT);
	ob_read(c);
	ob_read(c);
	close(c);
	sd_ob_end("listener_close_queued");
}

/*
 * A connect the full accept queue leaves pending ends when the listener
 * closes: Linux's next SYN gets a reset (ECONNREFUSED within about 1 s).
 */
static void sd_pending_connect_listener_close(void)
{
	int l = loopback_listener((unsigned short)(sd_port_base + 1), 0);
	int c1, c2, c3;
	short rev;

	if (l < 0) {
		sd_ob("listen=%s", sd_ename(errno));
		sd_ob_end("pending_connect_listener_close");
		return;
	}
	c1 = nb_connect((unsigned short)(sd_port_base + 1));
	(void)wait_for(c1, POLLOUT, 3000);
	c2 = nb_connect((unsigned short)(sd_port_base + 1));
	(void)wait_for(c2, POLLOUT, 300);
	c3 = nb_connect((unsigned short)(sd_port_base + 1));
	rev = wait_for(c3, POLLOUT, 300);
	sd_ob("pending=%s", rev ? "no" : "yes");
	close(l);
	rev = wait_for(c3, POLLOUT, 5000);
	sd_ob("woken=%s", rev ? "yes" : "no");
	ob_soerr(c3);
	close(c1);
	close(c2);
	close(c3);
	sd_ob_end("pending_connect_listener_close");
}

/* A connection reset by its client before the server accepted it. */
static void sd_reset_before_accept(void)
{
	int l = loopback_listener((unsigned short)(sd_port_base + 2), 8), c, a;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (l < 0) {
		sd_ob("listen=%s", sd_ename(errno));
		sd_ob_end("reset_before_accept");
		return;
	}
	c = nb_connect((unsigned short)(sd_port_base + 2));
	(void)wait_for(c, POLLOUT, 3000);
	(void)wait_for(l, POLLIN, 3000);
	settle();
	(void)setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
	settle();
	a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	ob_ret("accept", a < 0 ? -1 : 0);
	if (a >= 0) {
		ob_poll("poll", a, POLLIN | POLLOUT);
		ob_read(a);
		ob_read(a);
		close(a);
	}
	close(l);
	sd_ob_end("reset_before_accept");
}

/* own_addr() - the sandbox's own address: the source towards the host. */
static int own_addr(struct sockaddr_in *me)
{
	socklen_t len = sizeof(*me);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), r;

	r = connect(fd, (const struct sockaddr *)&sd_host_closed,
		    sizeof(sd_host_closed));
	if (!r)
		r = getsockname(fd, (struct sockaddr *)me, &len);
	close(fd);
	return r;
}

/*
 * TCP to the sandbox's own address (a listener on INADDR_ANY): it loops
 * back as on Linux, the client's source is that address, data goes both
 * ways and close() reads as EOF.
 */
static void sd_own_address(void)
{
	struct sockaddr_in me, peer, name;
	socklen_t len = sizeof(peer);
	int l = -1, c = -1, a = -1, one = 1;
	char b[8];

	if (own_addr(&me) < 0) {
		sd_ob("own=%s", sd_ename(errno));
		goto out;
	}
	me.sin_port = htons((unsigned short)(sd_port_base + 3));
	name = me;
	name.sin_addr.s_addr = htonl(INADDR_ANY);
	l = socket(AF_INET, SOCK_STREAM, 0);
	(void)setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&name, sizeof(name)) < 0 ||
	    listen(l, 8) < 0) {
		sd_ob("listen=%s", sd_ename(errno));
		goto out;
	}
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ob_ret("connect", connect(c, (struct sockaddr *)&me, sizeof(me)));
	(void)wait_for(c, POLLOUT, 3000);
	ob_soerr(c);
	(void)wait_for(l, POLLIN, 3000);
	a = accept4(l, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK);
	ob_ret("accept", a < 0 ? -1 : 0);
	if (a < 0)
		goto out;
	sd_ob("peer=%s",
	      peer.sin_addr.s_addr == me.sin_addr.s_addr ? "self" : "other");
	ob_ret("send", send(c, "ping", 4, MSG_DONTWAIT));
	(void)wait_for(a, POLLIN, 3000);
	ob_ret("recv", recv(a, b, sizeof(b), MSG_DONTWAIT));
	ob_ret("send", send(a, "pong", 4, MSG_DONTWAIT));
	(void)wait_for(c, POLLIN, 3000);
	ob_ret("recv", recv(c, b, sizeof(b), MSG_DONTWAIT));
	close(c);
	c = -1;
	(void)wait_for(a, POLLIN, 3000);
	ob_read(a);
out:
	if (a >= 0)
		close(a);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	sd_ob_end("own_address_tcp");
}

/* epoll's view of a reset connection (level-triggered, all events). */
static void sd_reset_epoll(void)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP },
			   out = { 0 };
	int fd = reset_conn('R'), ep = epoll_create1(0), n;

	if (fd < 0) {
		sd_ob("connect=%s", sd_ename(errno));
	} else {
		(void)epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		n = epoll_wait(ep, &out, 1, 0);
		sd_ob("n=%d in=%d out=%d err=%d hup=%d rdhup=%d", n,
		      !!(out.events & EPOLLIN), !!(out.events & EPOLLOUT),
		      !!(out.events & EPOLLERR), !!(out.events & EPOLLHUP),
		      !!(out.events & EPOLLRDHUP));
		close(fd);
	}
	close(ep);
	sd_ob_end("reset_epoll");
}

void sd_run_resets(void)
{
	sd_reset_write();
	sd_reset_poll();
	sd_reset_read_data();
	sd_reset_soerror();
	sd_reset_blocked_read();
	sd_reset_calls();
	sd_refused_read();
	sd_refused_reconnect();
	sd_refused_soerror();
	sd_refused_blocking();
	sd_never_connected();
	sd_listener_close_queued();
	sd_pending_connect_listener_close();
	sd_reset_before_accept();
	sd_reset_epoll();
	sd_own_address();
}
