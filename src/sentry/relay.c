// SPDX-License-Identifier: Apache-2.0
/* The data plane: bytes between the program's socket pairs and the stack. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * Two pumps per connected socket, each bounded to SBX_PUMP_ROUNDS reads
 * per turn (a socket with more to move is queued again, so one busy
 * connection cannot starve the others). An event names the pump it
 * concerns (@pend: EPOLLIN on @sfd or the stack's EPOLLOUT -> up; the
 * stack's EPOLLIN or EPOLLOUT on @sfd -> down), and the up pump does not
 * read @sfd again before a new EPOLLIN once a read came back short or dry
 * (every write by the program wakes epoll, so nothing is missed):
 *
 *   up   (program -> stack): read @sfd into the scratch buffer, sendmsg()
 *        to the stack. What the stack does not take is kept in @up_buf and
 *        @sfd is not read again until the stack notifies room: the
 *        program's writes then fill the pair and block (backpressure).
 *        Read 0 after the program shut down writing becomes the stack's
 *        shutdown(SHUT_WR) once @up_buf is empty; after its last close,
 *        the stack's close() (a RST with SO_LINGER 0, as on Linux).
 *   down (stack -> program): recvmsg() from the stack, write to @sfd; what
 *        the pair does not take waits in @down_buf and the stack is not
 *        read until @sfd is writable again. Stack EOF (or an error such as
 *        a reset) becomes shutdown(@sfd, SHUT_WR): the program reads EOF.
 *        On TCP the sentry's end has a SO_SNDBUF of its own
 *        (SBX_PAIR_SNDBUF, or the program's SO_RCVBUF) and each recvmsg()
 *        asks the stack for no more than the pair has room for (SIOCOUTQ
 *        against that SO_SNDBUF), in moves of up to SBX_SCRATCH: bytes the
 *        program is not reading stay in the stack, whose window closes,
 *        instead of being copied aside, and every write that wakes the
 *        program carries up to 256 KiB (on one CPU, each write is one
 *        switch to the program and back). With less than half the buffer
 *        free the pump waits for EPOLLOUT, which the kernel raises when
 *        three quarters are free, so the wait always ends. SIOCOUTQ is a
 *        system call, so @pair_queued bounds the pair's fill from above
 *        (the last answer plus every write since, with room for the
 *        kernel's per-buffer overhead) and the kernel is asked only when
 *        that bound leaves less than a full move: a request/response
 *        exchange pays nothing.
 *
 * UDP pairs are SOCK_SEQPACKET (boundaries hold, and unlike SOCK_DGRAM
 * the peer's close shows as EPOLLHUP); each datagram's source
 * address is appended to @ring when it is written to @sfd, and recvfrom()
 * with an address pops it (frontend.c).
 *
 * A listening socket accepts from the stack eagerly, up to its backlog;
 * each accepted connection gets its pair at once (data flows into it before
 * the program accepts) and a token byte on the listener's @sfd (as many as
 * the pair holds: sbx_tokens_fill()), so the program's end is readable
 * exactly while accept() would succeed.
 *
 * The program is gone from a socket when @sfd reports EPOLLHUP and reads
 * return 0; the stack socket is closed then (Linux close(): the stack
 * finishes in the background) after pending bytes were handed over.
 *
 * A reset (the stack's recvmsg() failing with ECONNRESET, ETIMEDOUT, ...)
 * must show in the program's untrapped read(), write() and poll(), and an
 * AF_UNIX stream end can carry exactly that: when its peer is released
 * with bytes still unread in the peer's receive queue, the kernel marks
 * the survivor with sk_err = ECONNRESET and shuts it both ways. So once
 * the bytes that came before the reset are in the pair, the sentry makes
 * sure its own end holds an unread byte (one the program wrote, or one
 * written through a pidfd_getfd() copy of the program's end found by
 * @hint_pid/@hint_fd and checked by cookie) and closes its end
 * (sbx_relay_reset_pair()). The program then reads the data, then
 * ECONNRESET once, then EOF; poll() says IN|OUT|ERR|HUP as on Linux;
 * write() fails with EPIPE (Linux says ECONNRESET to the first write: an
 * AF_UNIX end checks its shutdown before its error, docs/SANDBOX.md).
 * The socket stays in the table (trapped calls still find it by cookie)
 * as a zombie until sock_diag says the program's end is gone.
 *
 * EPOLLHUP is unambiguous while the sentry has not shut down its own
 * writing; once it has (stack EOF, failed connect), a HUP may also mean
 * that the program only shut down its writing too. Then sock_diag asks the
 * kernel whether the program's end still exists (by inode and cookie); if
 * it does, the socket becomes a zombie that sbx_relay_sweep() looks at
 * again every half second, since no further event will come. A bind() or
 * listen() that finds its port taken does not wait for the loop to see a
 * close: sbx_relay_settle_port() looks for POLLHUP on that port's sockets.
 */

void sbx_relay_notify(void *host, struct cove_sock *s, void *cookie,
		      uint32_t events)
{
	unsigned dirs = 0;

	(void)host;
	(void)s;
	if (events & EPOLLIN)
		dirs |= SBX_PUMP_DOWN;
	if (events & EPOLLOUT)
		dirs |= SBX_PUMP_UP;
	if (!dirs || (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
		dirs = SBX_PUMP_BOTH;
	if (cookie)
		sbx_sock_kick(cookie, dirs);
}

/* sbx_stack_send() - one buffer to the stack; Return: bytes or -errno. */
static ssize_t sbx_stack_send(struct sbx_sock *sk, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	return sk->sn->ops->sendmsg(sk->s, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/**
 * sbx_keep() - keep the @len bytes at @src that the other side did not take
 * @sn:		sentry; a spill buffer was reserved before @src was read
 * @buf:	the socket's (empty) leftover for this direction
 * @off:	its offset, set to 0
 * @blen:	its length, set to @len
 * @src:	the bytes (in the scratch buffer)
 * @len:	how many, at most SBX_SPILL_LEN
 */
static void sbx_keep(struct sentry *sn, uint8_t **buf, uint32_t *off,
		     uint32_t *blen, const uint8_t *src, size_t len)
{
	*buf = sbx_spill_take(sn);
	memcpy(*buf, src, len);
	*off = 0;
	*blen = (uint32_t)len;
}

/* sbx_sfd_hup() - has the program's end gone (or both directions shut)? */
static bool sbx_sfd_hup(struct sbx_sock *sk)
{
	struct pollfd p = { .fd = sk->sfd, .events = POLLIN };

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLHUP))
		sk->hup = true;
	return sk->hup;
}

/**
 * sbx_pump_up() - program -> stack
 * @sk:		socket (connected TCP, or UDP)
 *
 * Return: true if the round budget ran out with more to move.
 */
static bool sbx_pump_up(struct sbx_sock *sk)
{
	struct sentry *sn = sk->sn;
	unsigned round;
	ssize_t n, m;

	/* Nothing new from the program since the last dry read: no read. */
	if (!sk->up_len && !sk->app_readable && !sk->hup && !sk->rdhup &&
	    !(sk->app_eof && !sk->stack_shut_wr))
		return false;
	for (round = 0; round < SBX_PUMP_ROUNDS; round++) {
		if (sk->up_len) {
			m = sbx_stack_send(sk, sk->up_buf + sk->up_off,
					   sk->up_len);
			if (m == -EAGAIN || m == -ENOBUFS)
				return false; /* wait for the stack */
			if (m < 0 || sk->type == SOCK_DGRAM)
				m = sk->up_len; /* error or datagram: done */
			sk->up_off += (uint32_t)m;
			sk->up_len -= (uint32_t)m;
			if (sk->up_len)
				return false;
			sbx_spill_put(sn, &sk->up_buf);
		}
		if (sk->app_eof)
			break;
		/* A stream's read may be taken in part: have room to keep it. */
		if (sk->type == SOCK_STREAM && !sbx_spill_reserve(sn)) {
			sbx_sock_starve(sk);
			return false;
		}
		n = read(sk->sfd, sn->scratch, SBX_UP_CHUNK);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				sk->app_readable = false;
				break;
			}
			n = 0;
		}
		if (n == 0) {
			if (sk->type == SOCK_DGRAM && !sbx_sfd_hup(sk))
				continue; /* an empty datagram */
			sk->app_eof = true;
			break;
		}
		m = sbx_stack_send(sk, sn->scratch, (size_t)n);
		if (m == -EAGAIN || m == -ENOBUFS)
			m = 0;
		else if (m < 0 || sk->type == SOCK_DGRAM)
			m = n; /* refused or sent datagram: done */
		if (m < n) {
			sbx_keep(sn, &sk->up_buf, &sk->up_off, &sk->up_len,
				 sn->scratch + m, (size_t)(n - m));
			return false;
		}
		/*
		 * A short read emptied the pair: more data would come with a
		 * new edge (every write by the program wakes epoll), so do
		 * not spend a read on EAGAIN.
		 */
		if (sk->type == SOCK_STREAM && n < (ssize_t)SBX_UP_CHUNK &&
		    !sk->hup && !sk->rdhup) {
			sk->app_readable = false;
			break;
		}
	}
	/*
	 * EOF from a shutdown(SHUT_WR) is the stack's SHUT_WR. From a last
	 * close (HUP while our side is open, so unambiguous) it is left to
	 * the stack's close(), which sends the FIN after the data, or only a
	 * RST for SO_LINGER {1, 0}, as Linux's close() does.
	 */
	if (sk->app_eof && !sk->up_len && !sk->stack_shut_wr &&
	    sk->type == SOCK_STREAM && !(sk->hup && !sk->sfd_shut_wr)) {
		sn->ops->shutdown(sk->s, SHUT_WR);
		sk->stack_shut_wr = true;
	}
	return round == SBX_PUMP_ROUNDS;
}

/* sbx_ring_push() - remember a datagram's source (oldest dropped if full). */
static void sbx_ring_push(struct sbx_sock *sk, const union sbx_sockaddr *a)
{
	if (sk->ring_len == SBX_RING) {
		sk->ring_head = (sk->ring_head + 1) % SBX_RING;
		sk->ring_len--;
	}
	sk->ring[(sk->ring_head + sk->ring_len) % SBX_RING] = *a;
	sk->ring_len++;
}

/*
 * sbx_want_out() - watch @sfd for EPOLLOUT only while bytes wait for room:
 * otherwise every read by the program would wake the sentry.
 */
static void sbx_want_out(struct sbx_sock *sk, bool on)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (on ? EPOLLOUT : 0),
		.data.ptr = sk,
	};

	if (sk->want_out == on)
		return;
	sk->want_out = on;
	(void)epoll_ctl(sk->sn->host.ep, EPOLL_CTL_MOD, sk->sfd, &ev);
}

/* sbx_sfd_write() - write to the pair; Return: bytes, or -errno. */
static ssize_t sbx_sfd_write(struct sbx_sock *sk, const void *buf, size_t len)
{
	ssize_t n = send(sk->sfd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	return n < 0 ? -errno : n;
}

/**
 * sbx_pair_room() - how much the next stack read may take for a TCP pair
 * @sk:		socket
 *
 * Return: SBX_SCRATCH at most; 0 when less than half of the pair's send
 * buffer is free (then @sfd is not writable for the kernel either, so an
 * EPOLLOUT edge is still to come).
 */
static size_t sbx_pair_room(struct sbx_sock *sk)
{
	uint32_t room, buf = sk->pair_sndbuf;
	int queued;

	if (!buf)
		return SBX_SCRATCH;
	if (sk->pair_queued <= buf / 2 && buf - sk->pair_queued >= SBX_SCRATCH)
		return SBX_SCRATCH; /* room enough, whatever was read */
	if (ioctl(sk->sfd, SIOCOUTQ, &queued) < 0 || queued < 0)
		return SBX_SCRATCH;
	sk->pair_queued = (uint32_t)queued;
	room = (uint32_t)queued < buf ? buf - (uint32_t)queued : 0;
	if (room < buf / 2)
		return 0;
	return room < SBX_SCRATCH ? room : SBX_SCRATCH;
}

/*
 * sbx_pair_charge() - @n bytes went into a TCP pair: raise the bound. The
 * kernel charges a buffer's overhead too (under 2 KiB per 32 KiB piece).
 */
static void sbx_pair_charge(struct sbx_sock *sk, size_t n)
{
	uint64_t q = sk->pair_queued + (uint64_t)n + 2048u * (n / 32768 + 1);

	sk->pair_queued = q > UINT32_MAX ? UINT32_MAX : (uint32_t)q;
}

/**
 * sbx_pump_down() - stack -> program
 * @sk:		socket (connected TCP, or UDP)
 *
 * Return: true if the round budget ran out with more to move.
 */
static bool sbx_pump_down(struct sbx_sock *sk)
{
	struct sentry *sn = sk->sn;
	union sbx_sockaddr from;
	struct iovec iov = { .iov_base = sn->scratch, .iov_len = SBX_SCRATCH };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	bool wrote = false;
	unsigned round;
	ssize_t n, w;

	for (round = 0; round < SBX_PUMP_ROUNDS; round++) {
		if (sk->down_len) {
			w = sbx_sfd_write(sk, sk->down_buf + sk->down_off,
					  sk->down_len);
			if (w == -EAGAIN) {
				sbx_want_out(sk, true);
				break; /* wait for EPOLLOUT on sfd */
			}
			if (w < 0)
				w = sk->down_len; /* program gone */
			else if (sk->type == SOCK_DGRAM)
				sbx_ring_push(sk, &sk->down_addr);
			else
				sbx_pair_charge(sk, (size_t)w);
			if (sk->type == SOCK_DGRAM)
				w = sk->down_len;
			wrote = true;
			sk->down_off += (uint32_t)w;
			sk->down_len -= (uint32_t)w;
			if (sk->down_len)
				break;
			sbx_spill_put(sn, &sk->down_buf);
			sbx_want_out(sk, false);
		}
		if (sk->stack_eof)
			break;
		if (sk->type == SOCK_STREAM) {
			iov.iov_len = sbx_pair_room(sk);
			if (!iov.iov_len) {
				sbx_want_out(sk, true);
				break; /* wait for EPOLLOUT on sfd */
			}
			sbx_want_out(sk, false);
		}
		/* What the pair does not take must be kept: have room first. */
		if (!sbx_spill_reserve(sn)) {
			sbx_sock_starve(sk);
			break;
		}
		memset(&from, 0, sizeof(from));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		n = sn->ops->recvmsg(sk->s, &msg, MSG_DONTWAIT);
		if (n == -EAGAIN)
			break;
		if (n < 0 || (n == 0 && sk->type == SOCK_STREAM)) {
			if (sk->type == SOCK_DGRAM)
				break; /* e.g. ICMP errors: nothing to hand on */
			if (n < 0 && !sk->conn_err)
				sk->conn_err = (int)-n;
			sk->stack_eof = true;
			break;
		}
		w = sbx_sfd_write(sk, sn->scratch, (size_t)n);
		if (w == -EAGAIN)
			w = 0;
		else if (w < 0)
			w = n; /* program gone: drop */
		else if (sk->type == SOCK_DGRAM)
			sbx_ring_push(sk, &from);
		else
			sbx_pair_charge(sk, (size_t)w);
		if (w > 0)
			wrote = true;
		if (w < n) {
			sbx_want_out(sk, true);
			sk->down_addr = from;
			sbx_keep(sn, &sk->down_buf, &sk->down_off,
				 &sk->down_len, sn->scratch + w,
				 (size_t)(n - w));
			break;
		}
	}
	if (sk->stack_eof && !sk->down_len && !sk->sfd_shut_wr) {
		if (sk->conn_err && sk->type == SOCK_STREAM) {
			sbx_relay_reset_pair(sk);
			return false;
		}
		shutdown(sk->sfd, SHUT_WR);
		sk->sfd_shut_wr = true;
	}
	if (wrote && sk->type == SOCK_DGRAM && sk->waiters)
		sn->wake_parked(sk);
	return round == SBX_PUMP_ROUNDS;
}

/* sbx_discard() - read and drop @n bytes of filler from @sfd. */
static void sbx_discard(struct sbx_sock *sk, uint32_t n)
{
	ssize_t r;

	while (n) {
		r = read(sk->sfd, sk->sn->scratch,
			 n < SBX_SCRATCH ? n : SBX_SCRATCH);
		if (r <= 0)
			break;
		n -= (uint32_t)r;
	}
	sk->filler = n;
}

/* sbx_connect_done() - a connect finished (or not yet): settle the state. */
static void sbx_connect_done(struct sbx_sock *sk)
{
	struct sentry *sn = sk->sn;
	uint32_t ev = sn->ops->events(sk->s);
	socklen_t len = sizeof(int);
	struct sbx_waiter *w;
	int soerr = 0;

	if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return;
	(void)sn->ops->getsockopt(sk->s, SOL_SOCKET, SO_ERROR, &soerr, &len);
	if (!soerr && (ev & EPOLLERR))
		soerr = ECONNREFUSED;
	if (!soerr && (ev & EPOLLHUP) && !(ev & EPOLLOUT))
		soerr = ECONNRESET;
	sbx_discard(sk, sk->filler);
	if (soerr) {
		sk->state = SK_FAILED;
		sk->conn_err = soerr;
		if (sk->waiters) {
			/* A blocking connect() reports it: then EOF, no error. */
			shutdown(sk->sfd, SHUT_RDWR);
			sk->sfd_shut_wr = true;
		} else {
			sbx_relay_reset_pair(sk);
		}
	} else {
		sk->state = SK_CONNECTED;
	}
	while ((w = sk->waiters)) {
		sk->waiters = w->next;
		if (sbx_reply(sn, w->id, soerr ? -1 : 0, soerr) == 0 && soerr)
			sk->conn_err = 0; /* reported by connect() */
		sbx_waiter_put(sn, w);
	}
}

/**
 * sbx_mark_unread() - leave an unread byte on @sk's own end, so that
 * closing it marks the program's end with ECONNRESET
 * @sk:		TCP socket
 *
 * Bytes the program wrote and the sentry did not read do; else one is
 * written through the program's end: the one the sentry still holds (a
 * connection not yet accepted), or a copy found by the hint and accepted
 * only if its cookie is this socket's.
 * Return: true if the sentry's end holds unread bytes.
 */
static bool sbx_mark_unread(struct sbx_sock *sk)
{
	socklen_t len = sizeof(uint64_t);
	uint64_t cookie = 0;
	bool done = false;
	int queued = 0, dup;

	if (ioctl(sk->sfd, FIONREAD, &queued) == 0 && queued > 0)
		return true;
	if (sk->held_afd >= 0)
		return send(sk->held_afd, "r", 1,
			    MSG_DONTWAIT | MSG_NOSIGNAL) == 1;
	if (!sk->hint_pid)
		return false;
	dup = sbx_getfd(sk->hint_pid, sk->hint_fd);
	if (dup < 0)
		return false;
	if (getsockopt(dup, SOL_SOCKET, SO_COOKIE, &cookie, &len) == 0 &&
	    cookie == sk->cookie)
		done = send(dup, "r", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1;
	close(dup);
	return done;
}

/**
 * sbx_relay_reset_pair() - the connection failed: close the sentry's end
 * so that the program's end reads ECONNRESET, then EOF (theory above)
 * @sk:		TCP socket, its bytes from before the failure all handed over
 *
 * @sk stays in the cookie hash with its stack socket (trapped calls go on
 * being answered) and becomes a zombie for sbx_relay_sweep(). If no byte
 * could be left unread, the program sees EOF and SO_ERROR alone reports
 * @conn_err.
 */
void sbx_relay_reset_pair(struct sbx_sock *sk)
{
	struct sentry *sn = sk->sn;

	if (sk->sfd < 0 || sk->sfd_reset)
		return;
	if (sbx_mark_unread(sk) && sk->state == SK_CONNECTED) {
		sk->err_in_pair = true; /* SO_ERROR reads it from there */
		sk->conn_err = 0;
	}
	free(sk->up_buf);
	sk->up_buf = NULL;
	sk->up_len = 0;
	(void)epoll_ctl(sn->host.ep, EPOLL_CTL_DEL, sk->sfd, NULL);
	close(sk->sfd);
	sk->sfd = -1;
	sk->sfd_reset = true;
	sk->sfd_shut_wr = true;
	if (!sk->zombie)
		sn->nzombies++;
	sk->zombie = true;
}

/* sbx_accept_more() - take what the stack has, up to the backlog. */
static void sbx_accept_more(struct sbx_sock *l)
{
	struct sentry *sn = l->sn;
	struct cove_sock *cs;
	struct sbx_sock *c;
	int ret, afd;

	while (l->nacq < (unsigned)l->backlog) {
		ret = sn->ops->accept(l->s, &cs, NULL, NULL);
		if (ret < 0)
			break;
		c = sbx_sock_new(sn, cs, SOCK_STREAM);
		if (!c) {
			sn->ops->close(cs);
			break;
		}
		c->family = l->family; /* as Linux: the listener's */
		c->state = SK_CONNECTED;
		if (sbx_sock_pair(c, &afd, false) < 0) {
			sbx_sock_free(c);
			break;
		}
		c->held_afd = afd;
		if (l->acq_tail)
			l->acq_tail->acq_next = c;
		else
			l->acq_head = c;
		l->acq_tail = c;
		l->nacq++;
		sbx_tokens_fill(l);
		sbx_sock_queue(c);
	}
	if (l->waiters && l->acq_head)
		sn->wake_parked(l);
}

/**
 * sbx_app_alive() - does the program's end of @sk still exist?
 * @sk:		socket
 *
 * One SOCK_DIAG_BY_FAMILY request for the exact AF_UNIX socket (inode and
 * cookie); ENOENT means it was released. Return: true if alive or unknown.
 */
static bool sbx_app_alive(struct sbx_sock *sk)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q = {
		.nlh = { .nlmsg_len = sizeof(q),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
		.req = { .sdiag_family = AF_UNIX,
			 .udiag_states = ~0u,
			 .udiag_ino = (uint32_t)sk->app_ino },
	};
	char buf[512];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	ssize_t n;

	if (sk->sn->diag < 0)
		return true;
	memcpy(q.req.udiag_cookie, &sk->cookie, sizeof(sk->cookie));
	if (send(sk->sn->diag, &q, sizeof(q), 0) < 0)
		return true;
	n = recv(sk->sn->diag, buf, sizeof(buf), 0);
	if (n < (ssize_t)sizeof(*h))
		return true;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		return e->error != -ENOENT;
	}
	return true;
}

/* sbx_sock_pump() - one socket's turn. Return: true if work is left. */
static bool sbx_sock_pump(struct sbx_sock *sk)
{
	unsigned dirs = sk->pend;
	bool more = false;

	sk->pend = 0;
	if (!sk->s || sk->sfd_reset)
		return false;
	switch (sk->state) {
	case SK_LISTENING:
		sbx_accept_more(sk);
		break;
	case SK_CONNECTING:
		sbx_connect_done(sk);
		if (sk->state != SK_CONNECTED)
			break;
		/* fall through */
	case SK_CONNECTED:
		if (dirs & SBX_PUMP_DOWN)
			more = sbx_pump_down(sk);
		if (dirs & SBX_PUMP_UP)
			more |= sbx_pump_up(sk);
		if (more)
			sk->pend |= SBX_PUMP_BOTH;
		break;
	case SK_NEW:
	case SK_FAILED:
		if (sk->type == SOCK_DGRAM) {
			more = sbx_pump_down(sk);
			more |= sbx_pump_up(sk);
		}
		break;
	}
	/* The program closed its end: finish once our side is flushed. */
	if (sk->hup && sk->held_afd < 0) {
		if (sk->state == SK_CONNECTED && sk->type == SOCK_STREAM &&
		    (!sk->app_eof || sk->up_len))
			return more;
		if (sk->sfd_shut_wr && sbx_app_alive(sk)) {
			if (!sk->zombie)
				sk->sn->nzombies++;
			sk->zombie = true;
			return more;
		}
		sbx_sock_free(sk);
		return false;
	}
	return more;
}

/* sbx_relay_sweep() - free dead zombies, retry starved sockets (loop). */
void sbx_relay_sweep(struct sentry *sn)
{
	struct sbx_sock *sk, *next;

	for (sk = sn->all; sk; sk = next) {
		next = sk->next;
		if (sk->zombie && !sbx_app_alive(sk))
			sbx_sock_free(sk);
	}
	sbx_spill_retry(sn);
}

/**
 * sbx_relay_process() - pump queued sockets, at most 4096 per call
 * @sn:		sentry
 *
 * Frees a socket marked dead by sbx_sock_free() while queued (this is
 * where it is finally freed); requeues one whose pump wants another turn.
 * Return: true if work is left, so the loop must not block.
 */
bool sbx_relay_process(struct sentry *sn)
{
	struct cove_work *w;
	struct sbx_sock *sk;
	unsigned budget = 4096;
	bool more = false;

	while (budget-- && (w = cove_workq_pop(&sn->work))) {
		sk = cove_container_of(w, struct sbx_sock, work);
		if (sk->dead) {
			free(sk);
			continue;
		}
		if (sbx_sock_pump(sk))
			sbx_sock_queue(sk);
	}
	more = !cove_workq_empty(&sn->work);
	return more;
}

/* sbx_local_port() - the stack socket's local port (network order), or 0. */
static uint16_t sbx_local_port(struct sbx_sock *sk)
{
	union sbx_sockaddr a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (!sk->s || sk->sn->ops->getsockname(sk->s, &a.sa, &len) < 0)
		return 0;
	return sbx_sa_port(&a.sa, len);
}

/**
 * sbx_relay_settle_port() - close now what the program already closed on
 * a port, before a call that needs the port answers EADDRINUSE
 * @sn:		sentry
 * @self:	the socket making the call (never a candidate)
 * @port:	local port, network order
 *
 * The program's close() is not trapped: the sentry learns of it from
 * EPOLLHUP on @sfd, and may serve the program's next trapped calls before
 * it gets to that event (they share a CPU; the notification can even come
 * first in one epoll batch). A server that closes its listener and binds
 * the port again (iperf3 after a client that went away) would then find
 * the port still held by the old stack socket, where Linux has freed it
 * in close(). By the time the next call traps, the kernel has released the
 * program's end, so POLLHUP on @sfd is already visible: every socket on
 * @port whose end is gone goes through the usual close path now. A socket
 * whose @sfd was closed for a reset is asked about with sock_diag and
 * freed at once if its end is gone.
 *
 * Return: how many such sockets were found (0: retrying is pointless).
 */
unsigned sbx_relay_settle_port(struct sentry *sn, struct sbx_sock *self,
			       uint16_t port)
{
	struct sbx_sock *sk, *next;
	unsigned found = 0;

	if (!port)
		return 0;
	for (sk = next = sn->all; sk; sk = next) {
		next = sk->next;
		/* A reset one has no @sfd: sock_diag tells, now. */
		if (sk != self && sk->sfd_reset && sk->held_afd < 0 &&
		    sbx_local_port(sk) == port && !sbx_app_alive(sk)) {
			sbx_sock_free(sk);
			found++;
			continue;
		}
		/* Held connections go with their listener; zombies' program
		 * ends are alive or only sock_diag can tell (the sweep). */
		if (sk == self || sk->held_afd >= 0 || sk->zombie ||
		    sk->sfd < 0 || sbx_local_port(sk) != port ||
		    !sbx_sfd_hup(sk))
			continue;
		sbx_sock_kick(sk, SBX_PUMP_BOTH);
		found++;
	}
	if (found)
		(void)sbx_relay_process(sn);
	return found;
}

void sbx_relay_close_all(struct sentry *sn)
{
	struct cove_work *w;
	struct sbx_sock *sk;

	while (sn->all)
		sbx_sock_free(sn->all);
	while ((w = cove_workq_pop(&sn->work))) {
		sk = cove_container_of(w, struct sbx_sock, work);
		if (sk->dead)
			free(sk);
	}
	sbx_spill_free_all(sn);
}
