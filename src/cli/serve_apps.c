// SPDX-License-Identifier: Apache-2.0
/* stack-serve servers: echo, discard, UDP echo, connect (sockets: serve_sock.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include "cli/serve.h"

#define SERVE_ECHO_BUF	 65536u
#define SERVE_MAX_ERRORS 16u /* per service call, then wait */

struct serve_listener {
	struct serve_sock base;
	enum serve_app app;
};

struct serve_echo {
	struct serve_sock base;
	uint32_t len, off; /* unsent bytes are buf[off, len) */
	bool eof;
	uint8_t buf[SERVE_ECHO_BUF];
};

void serve_init(struct serve *sv, const struct cove_netstack_ops *ops,
		uint32_t max_conns)
{
	memset(sv, 0, sizeof(*sv));
	sv->ops = ops;
	sv->max_conns = max_conns;
	cove_workq_init(&sv->work);
	sv->all.next = sv->all.prev = &sv->all;
	serve_http_body(sv->http_pattern, sizeof(sv->http_pattern), 0);
}

static ssize_t serve_send(struct serve *sv, struct serve_sock *ss,
			  const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return sv->ops->sendmsg(ss->s, &m, 0);
}

static ssize_t serve_recv(struct serve *sv, struct serve_sock *ss, void *buf,
			  size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return sv->ops->recvmsg(ss->s, &m, 0);
}

/*
 * serve_echo_service() - send back what was read; read only when nothing
 * waits to be sent, so a peer that does not read stops us reading (the
 * stack's receive window closes on it). EOF: flush, then close.
 */
static void serve_echo_service(struct serve *sv, struct serve_sock *ss)
{
	struct serve_echo *e = (struct serve_echo *)ss;
	ssize_t n;

	for (;;) {
		if (e->off < e->len) {
			n = serve_send(sv, ss, e->buf + e->off,
				       e->len - e->off);
			if (n == -EAGAIN)
				return;
			if (n < 0)
				break;
			e->off += (uint32_t)n;
			sv->cnt.echo_bytes += (uint64_t)n;
			continue;
		}
		if (e->eof)
			break;
		n = serve_recv(sv, ss, e->buf, sizeof(e->buf));
		if (n == -EAGAIN)
			return;
		if (n < 0)
			break;
		if (n == 0)
			e->eof = true;
		e->len = (uint32_t)n;
		e->off = 0;
	}
	serve_sock_close(sv, ss);
}

/* serve_discard_service() - read and drop until EAGAIN; close on EOF. */
static void serve_discard_service(struct serve *sv, struct serve_sock *ss)
{
	ssize_t n;

	for (;;) {
		n = serve_recv(sv, ss, sv->scratch, sizeof(sv->scratch));
		if (n == -EAGAIN)
			return;
		if (n <= 0)
			break;
		sv->cnt.discard_bytes += (uint64_t)n;
	}
	serve_sock_close(sv, ss);
}

/* serve_conn_new() - the wrapper for an accepted connection of @app. */
static struct serve_sock *serve_conn_new(enum serve_app app, serve_fn **fn)
{
	switch (app) {
	case SERVE_ECHO:
		*fn = serve_echo_service;
		return calloc(1, sizeof(struct serve_echo));
	case SERVE_DISCARD:
		*fn = serve_discard_service;
		return calloc(1, sizeof(struct serve_sock));
	case SERVE_HTTP:
		*fn = serve_http_service;
		return serve_http_new();
	}
	return NULL;
}

/* serve_listener_service() - accept everything pending. */
static void serve_listener_service(struct serve *sv, struct serve_sock *ss)
{
	struct serve_listener *l = (struct serve_listener *)ss;
	struct serve_sock *c;
	struct cove_sock *s;
	serve_fn *fn = NULL;

	unsigned errors = 0;
	int ret;

	for (;;) {
		ret = sv->ops->accept(ss->s, &s, NULL, NULL);
		if (ret == -EAGAIN)
			return;
		if (ret < 0) {
			/* ECONNABORTED and friends: skip it, but boundedly. */
			if (++errors > SERVE_MAX_ERRORS)
				return;
			continue;
		}
		c = sv->nconns < sv->max_conns ? serve_conn_new(l->app, &fn) :
						 NULL;
		if (!c) {
			sv->cnt.conns_refused++;
			sv->ops->close(s);
			continue;
		}
		sv->cnt.conns_accepted++;
		sv->nconns++;
		c->is_conn = true;
		serve_adopt(sv, c, s, fn);
		serve_queue(sv, c); /* data may already be waiting */
	}
}

/**
 * serve_open() - a socket bound to INADDR_ANY:@port
 * @sv:		server set
 * @type:	SOCK_STREAM or SOCK_DGRAM
 * @port:	port
 * @out:	the socket
 * @err:	filled on failure
 *
 * Servers take a dual-stack AF_INET6 socket on [::] (IPv4 peers too, as
 * mapped addresses) when the provider has AF_INET6, else AF_INET.
 *
 * Return: 0 or < 0 with @err set.
 */
static int serve_open(struct serve *sv, int type, uint16_t port,
		      struct cove_sock **out, struct cove_err *err)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	const char *proto = type == SOCK_STREAM ? "tcp" : "udp";
	int one = 1, ret = -EAFNOSUPPORT;
	bool v6 = false;

	ret = sv->ops->socket(sv->st, AF_INET6, type, 0, out);
	v6 = ret == 0;
	if (ret == -EAFNOSUPPORT)
		ret = sv->ops->socket(sv->st, AF_INET, type, 0, out);
	if (ret < 0)
		return cove_err_set(err, -ret, "%s socket: %s", proto,
				    strerror(-ret));
	(void)sv->ops->setsockopt(*out, SOL_SOCKET, SO_REUSEADDR, &one,
				  sizeof(one));
	ret = v6 ? sv->ops->bind(*out, (struct sockaddr *)&a6, sizeof(a6)) :
		   sv->ops->bind(*out, (struct sockaddr *)&a, sizeof(a));
	if (ret < 0) {
		sv->ops->close(*out);
		return cove_err_set(err, -ret, "bind %s port %u: %s", proto,
				    port, strerror(-ret));
	}
	return 0;
}

int serve_tcp_listen(struct serve *sv, uint16_t port, enum serve_app app,
		     struct cove_err *err)
{
	struct serve_listener *l;
	struct cove_sock *s;
	int ret;

	if (serve_open(sv, SOCK_STREAM, port, &s, err) < 0)
		return -1;
	ret = sv->ops->listen(s, 128);
	if (ret < 0) {
		sv->ops->close(s);
		return cove_err_set(err, -ret, "listen on port %u: %s", port,
				    strerror(-ret));
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		sv->ops->close(s);
		return cove_err_set(err, ENOMEM, "out of memory");
	}
	l->app = app;
	serve_adopt(sv, &l->base, s, serve_listener_service);
	return 0;
}

/* serve_udp_service() - echo datagrams; a full send queue drops the echo. */
static void serve_udp_service(struct serve *sv, struct serve_sock *ss)
{
	struct sockaddr_in6 from; /* room for either family */
	struct iovec iov = { .iov_base = sv->scratch,
			     .iov_len = sizeof(sv->scratch) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned errors = 0;
	ssize_t n;

	for (;;) {
		m.msg_name = &from;
		m.msg_namelen = sizeof(from);
		iov.iov_len = sizeof(sv->scratch);
		n = sv->ops->recvmsg(ss->s, &m, 0);
		if (n == -EAGAIN || (n < 0 && ++errors > SERVE_MAX_ERRORS))
			return;
		if (n < 0)
			continue; /* a queued ICMP error, say */
		iov.iov_len = (size_t)n;
		if (sv->ops->sendmsg(ss->s, &m, 0) == n)
			sv->cnt.udp_echoed++;
	}
}

int serve_udp_echo(struct serve *sv, uint16_t port, struct cove_err *err)
{
	struct serve_sock *ss;
	struct cove_sock *s;

	if (serve_open(sv, SOCK_DGRAM, port, &s, err) < 0)
		return -1;
	ss = calloc(1, sizeof(*ss));
	if (!ss) {
		sv->ops->close(s);
		return cove_err_set(err, ENOMEM, "out of memory");
	}
	serve_adopt(sv, ss, s, serve_udp_service);
	return 0;
}

/* serve_connect_report() - print the outcome of --connect, flushed. */
static void serve_connect_report(int error)
{
	const char *name = error ? strerrorname_np(error) : NULL;

	if (!error)
		printf("connect: ok\n");
	else if (name)
		printf("connect: %s\n", name);
	else
		printf("connect: error %d\n", error);
	fflush(stdout);
}

/* serve_connect_service() - wait for established or failed, report, close. */
static void serve_connect_service(struct serve *sv, struct serve_sock *ss)
{
	uint32_t ev = sv->ops->events(ss->s);
	socklen_t len = sizeof(int);
	int error = 0;

	if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return;
	if (sv->ops->getsockopt(ss->s, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
		error = EIO;
	if (!error && (ev & (EPOLLERR | EPOLLHUP)))
		error = ECONNRESET;
	serve_connect_report(error);
	serve_sock_close(sv, ss);
}

int serve_connect(struct serve *sv, const struct sockaddr_in *to,
		  struct cove_err *err)
{
	struct serve_sock *ss;
	struct cove_sock *s;
	int ret;

	ret = sv->ops->socket(sv->st, AF_INET, SOCK_STREAM, 0, &s);
	if (ret < 0)
		return cove_err_set(err, -ret, "connect socket: %s",
				    strerror(-ret));
	ss = calloc(1, sizeof(*ss));
	if (!ss) {
		sv->ops->close(s);
		return cove_err_set(err, ENOMEM, "out of memory");
	}
	serve_adopt(sv, ss, s, serve_connect_service);
	ret = sv->ops->connect(s, (const struct sockaddr *)to, sizeof(*to));
	if (ret == 0 || ret == -EINPROGRESS) {
		serve_queue(sv, ss); /* may be established already */
		return 0;
	}
	serve_connect_report(-ret);
	serve_sock_close(sv, ss);
	return 0;
}
