// SPDX-License-Identifier: Apache-2.0
/* Control server: the sentry's listeners, framing and dispatch. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "control/control.h"
#include "control/cove.pb-c.h"
#include "control/server_internal.h"

/*
 * Theory of operation: the server owns one epoll fd that covers its
 * listeners and connections; the sentry adds that single fd to its own
 * loop and calls cove_ctl_server_run() when it is readable. Nothing here
 * blocks. Connections live in a table of max_conns slots fixed at
 * creation; a slot is free when its fd is -1. Each connection has a frame
 * decoder bounded by one frame and a transmit queue bounded by
 * SRV_TX_LIMIT frames' worth of bytes.
 *
 * Peer checks, the connection limit, eviction and the handshake and idle
 * timeouts are server_admit.c's (its theory of operation); the slot
 * table's basics are server_table.c's (server_internal.h).
 *
 * A connection's first call must be cove.Hello (version handshake);
 * cove.Health is answered by the server unless the caller overrides it.
 * Any malformed or oversized frame, a frame type other than request or an
 * even stream id closes that connection with a logged reason; the server
 * and the other connections go on. A call identity (connection generation,
 * stream) lets a handler answer later, and goes stale safely when the
 * connection closes in between.
 *
 * File descriptors (SCM_RIGHTS, unix only) belong to the request whose
 * bytes they came with: at most COVE_CTL_MAX_FDS wait on a connection, a
 * handler takes them with cove_ctl_server_take_fds(), and whatever no
 * handler took is closed once the receive buffer holds no partial frame,
 * so fds never pile up or reach a later call.
 */

int cove_ctl_server_new(const struct cove_ctl_server_cfg *cfg,
			struct cove_ctl_server **out, struct cove_err *err)
{
	cove_cleanup_free struct cove_ctl_server *srv = NULL;
	cove_cleanup_free struct srv_conn *conns = NULL;
	struct epoll_event ev = { .events = EPOLLIN };
	cove_cleanup_close int epfd = -1, tfd = -1;
	unsigned i;

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return cove_err_set(err, ENOMEM, "control server");
	srv->cfg = *cfg;
	if (!srv->cfg.max_conns)
		srv->cfg.max_conns = SRV_DEFAULT_CONNS;
	if (!srv->cfg.max_frame || srv->cfg.max_frame > COVE_CTL_FRAME_MAX)
		srv->cfg.max_frame = COVE_CTL_FRAME_MAX;
	if (!srv->cfg.socket_mode)
		srv->cfg.socket_mode = 0600;
	if (!srv->cfg.handshake_ms)
		srv->cfg.handshake_ms = SRV_DEFAULT_HANDSHAKE_MS;
	if (!srv->cfg.idle_ms)
		srv->cfg.idle_ms = SRV_DEFAULT_IDLE_MS;
	if (!srv->cfg.evict_ms)
		srv->cfg.evict_ms = SRV_DEFAULT_EVICT_MS;
	conns = calloc(srv->cfg.max_conns, sizeof(*conns));
	if (!conns)
		/* cppcheck-suppress memleak ; srv is cove_cleanup_free */
		return cove_err_set(err, ENOMEM, "control server");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		/* cppcheck-suppress memleak ; srv, conns: cove_cleanup_free */
		return cove_err_set(err, errno, "control server");
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.u64 = SRV_EV_TIMER;
	if (tfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev) < 0)
		/* cppcheck-suppress memleak ; srv, conns: cove_cleanup_free */
		return cove_err_set(err, errno, "control server: timer");
	for (i = 0; i < srv->cfg.max_conns; i++)
		conns[i].fd = -1;
	srv->conns = cove_steal_ptr(&conns);
	srv->epfd = cove_steal_fd(&epfd);
	srv->tfd = cove_steal_fd(&tfd);
	srv->armed_ms = SRV_NEVER;
	*out = cove_steal_ptr(&srv);
	return 0;
}

/**
 * srv_listen_unix() - bind and listen on a unix socket path
 * @srv:	server
 * @path:	socket path (its directory must exist)
 * @err:	reason
 *
 * Return: listening fd or -1.
 */
static int srv_listen_unix(struct cove_ctl_server *srv, const char *path,
			   struct cove_err *err)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	cove_cleanup_close int fd = -1;
	struct stat st;

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return cove_err_set(
				err, EEXIST,
				"control: %s exists and is not a socket", path);
		unlink(path); /* stale socket of an earlier sentry */
	}
	memcpy(un.sun_path, path, strnlen(path, sizeof(un.sun_path) - 1));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cove_err_set(err, errno, "control: socket");
	/* Nobody can connect between bind and listen, so chmod in between
	 * closes the window without touching the process-wide umask. */
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
	    chmod(path, srv->cfg.socket_mode) < 0 || listen(fd, 16) < 0)
		return cove_err_set(err, errno,
				    "control: cannot listen on unix:%s", path);
	return cove_steal_fd(&fd);
}

/**
 * srv_listen_vsock() - bind and listen on a vsock port (guest side)
 * @port:	port
 * @err:	reason
 *
 * Return: listening fd or -1.
 */
static int srv_listen_vsock(uint32_t port, struct cove_err *err)
{
	struct sockaddr_vm vm = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = port,
	};
	cove_cleanup_close int fd =
		socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return cove_err_set(err, errno,
				    "control: cannot make a vsock socket");
	if (bind(fd, (struct sockaddr *)&vm, sizeof(vm)) < 0 ||
	    listen(fd, 16) < 0)
		return cove_err_set(err, errno,
				    "control: cannot listen on vsock port %u",
				    port);
	return cove_steal_fd(&fd);
}

int cove_ctl_server_listen(struct cove_ctl_server *srv,
			   const struct cove_ctl_addr *a, struct cove_err *err)
{
	struct epoll_event ev = { .events = EPOLLIN };
	cove_cleanup_close int fd = -1;
	struct srv_listener *l;

	if (srv->n_lis == SRV_MAX_LISTEN)
		return cove_err_set(err, ENOSPC,
				    "control: at most %d listeners",
				    SRV_MAX_LISTEN);
	if (a->transport == COVE_CTL_UNIX)
		fd = srv_listen_unix(srv, a->path, err);
	else if (a->transport == COVE_CTL_VSOCK)
		fd = srv_listen_vsock(a->port, err);
	else
		return cove_err_set(
			err, EINVAL,
			"control: the sentry listens on unix or vsock; hybrid vsock is the VMM's socket");
	if (fd < 0)
		return -1;
	l = &srv->lis[srv->n_lis];
	ev.data.u64 = SRV_EV_LISTEN | srv->n_lis;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		cove_closep(&fd);
		if (a->transport == COVE_CTL_UNIX)
			unlink(a->path);
		return cove_err_set(err, e, "control: epoll");
	}
	l->fd = cove_steal_fd(&fd);
	l->is_unix = a->transport == COVE_CTL_UNIX;
	if (l->is_unix)
		snprintf(l->path, sizeof(l->path), "%s", a->path);
	srv->n_lis++;
	return 0;
}

int cove_ctl_server_fd(const struct cove_ctl_server *srv)
{
	return srv->epfd;
}

unsigned cove_ctl_server_conns(const struct cove_ctl_server *srv)
{
	unsigned i, n = 0;

	for (i = 0; i < srv->cfg.max_conns; i++)
		n += srv->conns[i].fd >= 0;
	return n;
}

/**
 * srv_recv() - recv() that also collects SCM_RIGHTS fds
 * @srv:	server
 * @c:		connection
 * @dst:	where to put bytes
 * @room:	how many fit
 *
 * Fds beyond COVE_CTL_MAX_FDS, and any of a truncated control message,
 * are closed with a logged reason.
 *
 * Return: as recv().
 */
static ssize_t srv_recv(struct cove_ctl_server *srv, struct srv_conn *c,
			uint8_t *dst, size_t room)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * COVE_CTL_MAX_FDS)];
	} u;
	struct iovec iov = { .iov_base = dst, .iov_len = room };
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	n = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		size_t i, k;

		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0))
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
			if (c->nfds < COVE_CTL_MAX_FDS) {
				c->fds[c->nfds++] = fd;
			} else {
				srv_log(srv,
					"pid %d passed more than %d fds; closing the rest",
					(int)c->pid, COVE_CTL_MAX_FDS);
				close(fd);
			}
		}
	}
	if (m.msg_flags & MSG_CTRUNC)
		srv_log(srv, "pid %d passed fds that did not fit; dropped",
			(int)c->pid);
	return n;
}

/**
 * srv_flush() - send queued bytes; arm EPOLLOUT while some remain
 * @srv:	server
 * @c:		connection
 *
 * Return: 0, or -1 if the connection failed (it is then closed).
 */
static int srv_flush(struct cove_ctl_server *srv, struct srv_conn *c)
{
	struct epoll_event ev;
	int want;

	while (c->tx_off < c->tx_len) {
		ssize_t n = send(c->fd, c->tx + c->tx_off,
				 c->tx_len - c->tx_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			srv_log(srv, "closing connection of pid %d: send: %s",
				(int)c->pid, strerror(errno));
			srv_close(srv, c);
			return -1;
		}
		c->tx_off += (size_t)n;
	}
	if (c->tx_off == c->tx_len)
		c->tx_off = c->tx_len = 0;
	want = c->tx_len > 0;
	if (want != c->want_out) {
		ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
		ev.data.u64 = SRV_EV_CONN | (uint64_t)(c - srv->conns);
		epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		c->want_out = want;
	}
	return 0;
}

/**
 * srv_send() - queue one response and try to send it
 * @srv:	server
 * @c:		connection
 * @stream:	stream id of the request
 * @rep:	response (payload not taken over)
 *
 * Return: 0, or -1 if the connection was closed.
 */
static int srv_send(struct cove_ctl_server *srv, struct srv_conn *c,
		    uint32_t stream, const struct cove_ctl_reply *rep)
{
	size_t flen, limit;
	uint8_t *f, *nt;

	f = cove_ctl_msg_response_frame(stream, rep->code, rep->message,
					rep->payload, rep->len,
					srv->cfg.max_frame, &flen);
	if (!f) {
		srv_log(srv,
			"response to pid %d on stream %u does not fit (%zu bytes payload)",
			(int)c->pid, stream, rep->len);
		f = cove_ctl_msg_response_frame(stream, COVE_CTL_INTERNAL,
						"response too large", NULL, 0,
						srv->cfg.max_frame, &flen);
		if (!f) {
			srv_close(srv, c);
			return -1;
		}
	}
	limit = SRV_TX_LIMIT * ((size_t)srv->cfg.max_frame + COVE_CTL_HDR_LEN);
	if (c->tx_len + flen > limit) {
		srv_log(srv,
			"closing connection of pid %d: it does not read its responses",
			(int)c->pid);
		free(f);
		srv_close(srv, c);
		return -1;
	}
	nt = realloc(c->tx, c->tx_len + flen);
	if (!nt) {
		free(f);
		srv_log(srv, "closing connection of pid %d: out of memory",
			(int)c->pid);
		srv_close(srv, c);
		return -1;
	}
	memcpy(nt + c->tx_len, f, flen);
	free(f);
	c->tx = nt;
	c->tx_len += flen;
	c->last_ms = srv_now(srv);
	return srv_flush(srv, c);
}

/**
 * srv_status() - send a response without payload
 * @srv:	server
 * @c:		connection
 * @stream:	stream id
 * @code:	status
 * @msg:	message
 *
 * Return: as srv_send().
 */
static int srv_status(struct cove_ctl_server *srv, struct srv_conn *c,
		      uint32_t stream, int32_t code, const char *msg)
{
	struct cove_ctl_reply rep = { .code = code };

	snprintf(rep.message, sizeof(rep.message), "%s", msg);
	return srv_send(srv, c, stream, &rep);
}

/**
 * srv_hello() - the version handshake
 * @srv:	server
 * @c:		connection
 * @stream:	stream id
 * @req:	request envelope
 *
 * Return: as srv_send().
 */
static int srv_hello(struct cove_ctl_server *srv, struct srv_conn *c,
		     uint32_t stream, const struct cove_ctl_request *req)
{
	Cove__Control__HelloResponse hr = COVE__CONTROL__HELLO_RESPONSE__INIT;
	Cove__Control__HelloRequest *h;
	struct cove_ctl_reply rep = { 0 };
	uint8_t buf[512];
	char msg[128];
	int ret;

	h = cove__control__hello_request__unpack(NULL, req->payload_len,
						 req->payload);
	if (!h)
		return srv_status(srv, c, stream, COVE_CTL_INVALID_ARGUMENT,
				  "malformed HelloRequest");
	if (h->version_min > COVE_CTL_VERSION ||
	    h->version_max < COVE_CTL_VERSION) {
		snprintf(msg, sizeof(msg),
			 "client speaks versions %u..%u, this sentry speaks %u",
			 h->version_min, h->version_max,
			 (unsigned)COVE_CTL_VERSION);
		cove__control__hello_request__free_unpacked(h, NULL);
		return srv_status(srv, c, stream, COVE_CTL_FAILED_PRECONDITION,
				  msg);
	}
	cove__control__hello_request__free_unpacked(h, NULL);
	hr.version = COVE_CTL_VERSION;
	hr.server = "cove-sentry";
	hr.sandbox = (char *)(srv->cfg.sandbox ? srv->cfg.sandbox : "");
	if (cove__control__hello_response__get_packed_size(&hr) > sizeof(buf))
		return srv_status(srv, c, stream, COVE_CTL_INTERNAL,
				  "sandbox name too long");
	rep.len = cove__control__hello_response__pack(&hr, buf);
	rep.payload = buf;
	ret = srv_send(srv, c, stream, &rep);
	if (ret == 0)
		c->hello = 1;
	return ret;
}

/**
 * srv_dispatch() - serve one request
 * @srv:	server
 * @c:		connection
 * @stream:	stream id
 * @req:	request envelope
 *
 * Return: 0, or -1 if the connection was closed.
 */
static int srv_dispatch(struct cove_ctl_server *srv, struct srv_conn *c,
			uint32_t stream, const struct cove_ctl_request *req)
{
	const struct cove_ctl_method *m;
	struct cove_ctl_call call = { .conn_gen = c->gen, .stream = stream };
	struct cove_ctl_reply rep;
	char msg[128];
	int ret;

	if (strcmp(req->method, "cove.Hello") == 0)
		return srv_hello(srv, c, stream, req);
	if (!c->hello)
		return srv_status(srv, c, stream, COVE_CTL_FAILED_PRECONDITION,
				  "the first call must be cove.Hello");
	for (m = srv->cfg.methods; m && m->name; m++)
		if (strcmp(m->name, req->method) == 0)
			break;
	if (!m || !m->name) {
		if (strcmp(req->method, "cove.Health") == 0) {
			Cove__Control__HealthResponse h =
				COVE__CONTROL__HEALTH_RESPONSE__INIT;
			uint8_t buf[16];

			h.state =
				COVE__CONTROL__HEALTH_RESPONSE__STATE__SERVING;
			memset(&rep, 0, sizeof(rep));
			rep.len = cove__control__health_response__pack(&h, buf);
			rep.payload = buf;
			return srv_send(srv, c, stream, &rep);
		}
		snprintf(msg, sizeof(msg), "unknown method %s", req->method);
		return srv_status(srv, c, stream, COVE_CTL_UNIMPLEMENTED, msg);
	}
	memset(&rep, 0, sizeof(rep));
	m->fn(srv->cfg.opaque, &call, req->payload, req->payload_len, &rep);
	if (rep.deferred) {
		c->deferred++; /* cove_ctl_server_reply() takes it back */
		free(rep.payload);
		return 0;
	}
	ret = srv_send(srv, c, stream, &rep);
	free(rep.payload);
	return ret;
}

/**
 * srv_frames() - handle every whole frame buffered on a connection
 * @srv:	server
 * @c:		connection
 *
 * Return: 0, or -1 if the connection was closed.
 */
static int srv_frames(struct cove_ctl_server *srv, struct srv_conn *c)
{
	struct cove_ctl_request req;
	struct cove_ctl_hdr h;
	const uint8_t *p;
	const char *why = NULL;
	int r;

	while ((r = cove_ctl_rx_next(&c->rx, &h, &p, &why)) == 1) {
		if (h.type != COVE_CTL_T_REQUEST) {
			why = "frame type other than request";
			break;
		}
		if (!(h.stream & 1)) {
			why = "even stream id from a client";
			break;
		}
		if (cove_ctl_msg_request_decode(p, h.len, &req, &why) < 0)
			break;
		r = srv_dispatch(srv, c, h.stream, &req);
		cove_ctl_msg_request_free(&req);
		if (r < 0)
			return -1;
	}
	if (r == 0)
		return 0;
	srv_log(srv, "closing connection of uid %u pid %d: %s",
		(unsigned)c->uid, (int)c->pid, why);
	srv_close(srv, c);
	return -1;
}

/**
 * srv_read() - receive what a connection sent and serve it
 * @srv:	server
 * @c:		connection
 */
static void srv_read(struct cove_ctl_server *srv, struct srv_conn *c)
{
	for (;;) {
		size_t room;
		uint8_t *dst = cove_ctl_rx_space(&c->rx, 65536, &room);
		ssize_t n;

		if (!dst) {
			srv_log(srv,
				"closing connection of pid %d: out of memory",
				(int)c->pid);
			srv_close(srv, c);
			return;
		}
		n = srv_recv(srv, c, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (n < 0)
				srv_log(srv,
					"closing connection of pid %d: recv: %s",
					(int)c->pid, strerror(errno));
			srv_close(srv, c);
			return;
		}
		cove_ctl_rx_commit(&c->rx, (size_t)n);
		c->last_ms = srv_now(srv);
		if (srv_frames(srv, c) < 0)
			return;
		if (c->nfds && c->rx.len == c->rx.off)
			srv_drop_fds(c); /* no request took them */
	}
}

int cove_ctl_server_adopt(struct cove_ctl_server *srv, int fd,
			  struct cove_err *err)
{
	int fl = fcntl(fd, F_GETFL), r;

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		r = errno;
		close(fd);
		return cove_err_set(err, r, "control: adopting fd %d", fd);
	}
	r = srv_add(srv, fd, (uid_t)-1, 0);
	if (r < 0)
		return cove_err_set(err, -r, "control: adopting a connection");
	return 0;
}

int cove_ctl_server_run(struct cove_ctl_server *srv, int timeout_ms)
{
	struct epoll_event evs[16];
	int n, i;

	n = epoll_wait(srv->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		uint64_t kind = evs[i].data.u64 & ~0xffffffffull;
		uint32_t idx = (uint32_t)evs[i].data.u64;
		struct srv_conn *c;

		if (kind == SRV_EV_LISTEN) {
			srv_accept(srv, &srv->lis[idx]);
			continue;
		}
		if (kind == SRV_EV_TIMER) {
			uint64_t ticks;

			if (read(srv->tfd, &ticks, sizeof(ticks)) < 0)
				(void)0; /* EAGAIN: nothing to clear */
			srv->armed_ms = SRV_NEVER; /* fired: arm afresh */
			continue;
		}
		c = &srv->conns[idx];
		if (c->fd < 0)
			continue; /* closed earlier in this batch */
		if ((evs[i].events & EPOLLOUT) && srv_flush(srv, c) < 0)
			continue;
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			srv_read(srv, c);
	}
	srv_expire(srv);
	return n;
}

int cove_ctl_server_reply(struct cove_ctl_server *srv,
			  const struct cove_ctl_call *call,
			  struct cove_ctl_reply *rep)
{
	unsigned i;
	int ret = -ENOENT;

	for (i = 0; i < srv->cfg.max_conns; i++) {
		struct srv_conn *c = &srv->conns[i];

		if (c->fd >= 0 && c->gen == call->conn_gen) {
			c->deferred--;
			ret = srv_send(srv, c, call->stream, rep) < 0 ? -EPIPE :
									0;
			break;
		}
	}
	free(rep->payload);
	rep->payload = NULL;
	return ret;
}

unsigned cove_ctl_server_take_fds(struct cove_ctl_server *srv,
				  const struct cove_ctl_call *call, int *fds,
				  unsigned max)
{
	unsigned i, j, n = 0;

	for (i = 0; i < srv->cfg.max_conns; i++) {
		struct srv_conn *c = &srv->conns[i];

		if (c->fd < 0 || c->gen != call->conn_gen)
			continue;
		for (j = 0; j < c->nfds; j++) {
			if (n < max)
				fds[n++] = c->fds[j];
			else
				close(c->fds[j]);
		}
		c->nfds = 0;
		break;
	}
	return n;
}

void cove_ctl_server_free(struct cove_ctl_server *srv)
{
	unsigned i;

	if (!srv)
		return;
	for (i = 0; i < srv->cfg.max_conns; i++)
		if (srv->conns[i].fd >= 0)
			srv_close(srv, &srv->conns[i]);
	for (i = 0; i < srv->n_lis; i++) {
		close(srv->lis[i].fd);
		if (srv->lis[i].is_unix)
			unlink(srv->lis[i].path);
	}
	close(srv->tfd);
	close(srv->epfd);
	free(srv->conns);
	free(srv);
}
