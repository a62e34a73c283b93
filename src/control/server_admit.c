// SPDX-License-Identifier: Apache-2.0
/* Control server: peer checks, the connection limit, eviction, timeouts. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "control/server_internal.h"

/*
 * Theory of operation
 *
 * Who gets a connection slot, and for how long. Peer checks happen at
 * accept: a unix peer's SO_PEERCRED uid must be the owner's or root's; a
 * vsock peer must be the host (CID 2). Refused peers get one
 * PERMISSION_DENIED response on stream 1 (the client's hello) and are
 * closed, with a logged reason.
 *
 * Limits (the sentry's memory and the owner's access under a hostile or
 * careless peer of the owner's uid): at most max_conns connections; one
 * that has not completed cove.Hello within handshake_ms is answered
 * DEADLINE_EXCEEDED and closed; one that has, with no deferred call open
 * (a cove.Wait keeps `cove run` and `cove exec` connected for as long as
 * their process runs), is closed after idle_ms without a request.
 *
 * When every slot is taken, a new peer takes the slot of one that can give
 * way: the oldest that has not said Hello, else, of those idle for at
 * least evict_ms with no deferred call open, the one whose last request
 * (or answer) is the oldest. A connection in the middle of its work (a
 * `cove exec` between its Exec and its Wait) is never cut. When nothing
 * can give way the newcomer is refused, with RESOURCE_EXHAUSTED naming the
 * limit. So idle connections never lock the owner's commands out; what
 * can is max_conns processes waiting on calls, or talking, at once, and
 * that is said in one line. A refusal always arrives as a response, never as a
 * reset: the refused peer's bytes are read away before the close, since
 * closing a unix socket with unread bytes makes the peer's next read fail
 * with ECONNRESET.
 *
 * Times come from srv_now() (cfg.now_ms: tests inject a clock). One
 * timerfd in the server's epoll set is armed at the earliest expiry, so
 * the sentry wakes for it; every cove_ctl_server_run() ends in
 * srv_expire(), which closes what has expired and re-arms the timer.
 */

/**
 * srv_refuse() - tell a peer no, log why, close
 * @srv:	server
 * @fd:		connected socket
 * @code:	status of the answer (on stream 1, the client's hello)
 * @why:	reason, for the log and the peer
 *
 * What the peer sent is read away first (at most SRV_DRAIN_MAX bytes):
 * closing a unix socket with unread bytes sets ECONNRESET on the peer,
 * and a client should read our answer, not a reset.
 */
static void srv_refuse(struct cove_ctl_server *srv, int fd, int32_t code,
		       const char *why)
{
	uint8_t buf[4096], *f;
	size_t flen, drained = 0;
	ssize_t n;

	srv_log(srv, "refused a connection: %s", why);
	while (drained < SRV_DRAIN_MAX &&
	       (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		drained += (size_t)n;
	f = cove_ctl_msg_response_frame(1, code, why, NULL, 0,
					srv->cfg.max_frame, &flen);
	if (f) {
		if (send(fd, f, flen, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			(void)0; /* best effort: the close says enough */
		free(f);
	}
	close(fd);
}

/* srv_can_give_way() - may @c lose its slot to a newcomer (see top)? */
static bool srv_can_give_way(const struct cove_ctl_server *srv,
			     const struct srv_conn *c, int64_t now)
{
	if (c->fd < 0 || c->deferred > 0)
		return false;
	return !c->hello || now - c->last_ms >= srv->cfg.evict_ms;
}

/* srv_evict_first() - should @a go before @b to make room (see top)? */
static bool srv_evict_first(const struct srv_conn *a, const struct srv_conn *b)
{
	if (a->hello != b->hello)
		return !a->hello;
	return a->hello ? a->last_ms < b->last_ms : a->since_ms < b->since_ms;
}

/**
 * srv_evict() - free the slot of the idle connection that goes first
 * @srv:	server, every slot taken
 * @pid:	the newcomer's pid, for the log
 *
 * Only connections srv_can_give_way() are taken.
 *
 * Return: the freed slot, or NULL when none can give way.
 */
static struct srv_conn *srv_evict(struct cove_ctl_server *srv, pid_t pid)
{
	int64_t now = srv_now(srv);
	struct srv_conn *v = NULL;
	unsigned i;

	for (i = 0; i < srv->cfg.max_conns; i++) {
		struct srv_conn *c = &srv->conns[i];

		if (srv_can_give_way(srv, c, now) &&
		    (!v || srv_evict_first(c, v)))
			v = c;
	}
	if (!v)
		return NULL;
	srv_log(srv,
		"all %u connections open: closing the idle one of pid %d%s for pid %d",
		srv->cfg.max_conns, (int)v->pid,
		v->hello ? "" : " (no hello yet)", (int)pid);
	srv_close(srv, v);
	return v;
}

/**
 * srv_add() - give an accepted socket a connection slot
 * @srv:	server
 * @fd:		connected socket, non-blocking; closed on failure
 * @uid:	peer uid, for logs
 * @pid:	peer pid, for logs
 *
 * A full table makes room with srv_evict(); if nothing can go, the peer
 * is refused with RESOURCE_EXHAUSTED.
 *
 * Return: 0 or negative errno.
 */
int srv_add(struct cove_ctl_server *srv, int fd, uid_t uid, pid_t pid)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct srv_conn *c = NULL;
	char why[160];
	unsigned i;

	for (i = 0; i < srv->cfg.max_conns && !c; i++)
		if (srv->conns[i].fd < 0)
			c = &srv->conns[i];
	if (!c)
		c = srv_evict(srv, pid);
	if (!c) {
		snprintf(why, sizeof(why),
			 "all %u control connections of this sandbox are in use (waiting on calls or busy); try again later",
			 srv->cfg.max_conns);
		srv_refuse(srv, fd, COVE_CTL_RESOURCE_EXHAUSTED, why);
		return -EMFILE;
	}
	ev.data.u64 = SRV_EV_CONN | (uint64_t)(c - srv->conns);
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		srv_log(srv, "epoll: %s", strerror(e));
		close(fd);
		return -e;
	}
	c->fd = fd;
	c->gen = ++srv->next_gen;
	c->uid = uid;
	c->pid = pid;
	c->since_ms = c->last_ms = srv_now(srv);
	cove_ctl_rx_init(&c->rx, srv->cfg.max_frame);
	return 0;
}

/**
 * srv_accept() - accept and check every pending peer of a listener
 * @srv:	server
 * @l:		listener
 */
void srv_accept(struct cove_ctl_server *srv, struct srv_listener *l)
{
	for (;;) {
		struct ucred cred = { .pid = 0 };
		socklen_t cl = sizeof(cred);
		char why[160];
		int fd;

		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				srv_log(srv, "accept: %s", strerror(errno));
			return;
		}
		if (l->is_unix) {
			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
				       &cl) < 0) {
				srv_refuse(srv, fd, COVE_CTL_PERMISSION_DENIED,
					   "no peer credentials");
				continue;
			}
			if (cred.uid != srv->cfg.owner_uid && cred.uid != 0) {
				snprintf(why, sizeof(why),
					 "uid %u (pid %d) is not the sandbox owner",
					 (unsigned)cred.uid, (int)cred.pid);
				srv_refuse(srv, fd, COVE_CTL_PERMISSION_DENIED,
					   why);
				continue;
			}
		} else {
			struct sockaddr_vm vm = { 0 };
			socklen_t vl = sizeof(vm);

			if (getpeername(fd, (struct sockaddr *)&vm, &vl) < 0 ||
			    vm.svm_cid != VMADDR_CID_HOST) {
				srv_refuse(srv, fd, COVE_CTL_PERMISSION_DENIED,
					   "vsock peer is not the host");
				continue;
			}
		}
		srv_add(srv, fd, cred.uid, cred.pid);
	}
}

/* srv_expiry() - when @c times out (SRV_NEVER: a deferred call is open). */
static int64_t srv_expiry(const struct cove_ctl_server *srv,
			  const struct srv_conn *c)
{
	if (!c->hello)
		return c->since_ms + srv->cfg.handshake_ms;
	if (c->deferred > 0)
		return SRV_NEVER;
	return c->last_ms + srv->cfg.idle_ms;
}

/**
 * srv_expire() - close what timed out; arm the timer for what is next
 * @srv:	server
 *
 * A peer that never said Hello gets DEADLINE_EXCEEDED on stream 1 (its
 * hello's), an idle one is closed with a logged reason.
 */
void srv_expire(struct cove_ctl_server *srv)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	int64_t now = srv_now(srv), next = SRV_NEVER, t;
	char why[96];
	unsigned i;

	for (i = 0; i < srv->cfg.max_conns; i++) {
		struct srv_conn *c = &srv->conns[i];

		if (c->fd < 0)
			continue;
		t = srv_expiry(srv, c);
		if (t > now) {
			next = t < next ? t : next;
			continue;
		}
		if (c->hello) {
			srv_log(srv,
				"closing connection of pid %d: idle for %u ms",
				(int)c->pid, srv->cfg.idle_ms);
			srv_close(srv, c);
			continue;
		}
		snprintf(why, sizeof(why),
			 "no cove.Hello within %u ms (pid %d)",
			 srv->cfg.handshake_ms, (int)c->pid);
		epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		srv_refuse(srv, c->fd, COVE_CTL_DEADLINE_EXCEEDED, why);
		c->fd = -1; /* srv_refuse() closed it */
		srv_close_slot(c);
	}
	if (next == srv->armed_ms)
		return;
	if (next != SRV_NEVER) {
		t = next - now;
		its.it_value.tv_sec = t / 1000;
		its.it_value.tv_nsec = (long)(t % 1000) * 1000000;
	}
	(void)timerfd_settime(srv->tfd, 0, &its, NULL);
	srv->armed_ms = next;
}
