// SPDX-License-Identifier: Apache-2.0
/* The sentry frontend: answer the program's trapped socket calls. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * sbx_frontend_drain() receives every pending notification (the notify fd
 * is level-triggered in epoll; poll(0) tells whether another one waits) and
 * dispatches by syscall number. Except for socket(), a call names an fd:
 * the sentry duplicates it from the calling thread (pidfd_open +
 * pidfd_getfd) and reads its SO_COOKIE. An fd that is not one of ours (not
 * a socket, AF_UNIX, ...) is answered SECCOMP_USER_NOTIF_FLAG_CONTINUE and
 * the kernel runs the call itself; that is safe even if the program swaps
 * the fd meanwhile, because the fds the sentry cares about are AF_UNIX
 * ends on which no call reaches a network.
 *
 * Program memory (addresses, option values, lengths) is read and written
 * with process_vm_readv/writev, every length bounded before the copy
 * (addresses 128 bytes, options SBX_MAX_OPTLEN, datagrams 64 KiB). After
 * reading and before acting, SECCOMP_IOCTL_NOTIF_ID_VALID confirms the
 * thread is still blocked in this very call, so a recycled pid cannot get
 * answers meant for another.
 */

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

#define SBX_ADDR_MAX  128u
#define SBX_DGRAM_MAX 65535u

/* sbx_nonblock() - is the program's end in non-blocking mode? */
static bool sbx_nonblock(int dup)
{
	int fl = fcntl(dup, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}

/* sbx_read_len() - read a socklen_t from the program, bounded to @max. */
static int sbx_read_len(uint32_t pid, uint64_t addr, uint32_t max,
			uint32_t *out)
{
	int32_t v;

	if (sbx_mem_read(pid, addr, &v, sizeof(v)) < 0)
		return -EFAULT;
	if (v < 0)
		return -EINVAL;
	*out = (uint32_t)v < max ? (uint32_t)v : max;
	return 0;
}

/**
 * sbx_put_addr() - write an address back as Linux does: truncated to the
 * program's buffer, the full length stored in *@lenp
 */
static int sbx_put_addr(uint32_t pid, uint64_t addr, uint64_t lenp,
			const void *sa, uint32_t salen)
{
	uint32_t cap;
	int32_t full = (int32_t)salen;
	int ret;

	if (!addr)
		return 0;
	ret = sbx_read_len(pid, lenp, SBX_ADDR_MAX, &cap);
	if (ret < 0)
		return ret;
	if (sbx_mem_write(pid, addr, sa, cap < salen ? cap : salen) < 0 ||
	    sbx_mem_write(pid, lenp, &full, sizeof(full)) < 0)
		return -EFAULT;
	return 0;
}

/* sbx_install() - hand @afd to the program and answer with its number. */
static int sbx_install(struct sentry *sn, uint64_t id, int afd, bool cloexec)
{
	struct seccomp_notif_addfd a = {
		.id = id,
		.flags = SECCOMP_ADDFD_FLAG_SEND,
		.srcfd = (uint32_t)afd,
		.newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int ret = ioctl(sn->nfd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);

	return ret < 0 ? -errno : ret;
}

/**
 * sbx_h_socket() - socket(AF_INET or AF_INET6, type, protocol)
 * @sn:		sentry
 * @n:		the notification
 * @family:	AF_INET or AF_INET6 (the filter compared all 64 bits)
 *
 * Only SOCK_STREAM/TCP and SOCK_DGRAM/UDP are served (SOCK_RAW: EPERM).
 * The family goes to the provider as it is: one without IPv6 answers
 * AF_INET6 with -EAFNOSUPPORT, which is the program's answer, as from a
 * kernel built without IPv6.
 * Opens the stack socket and its sbx_sock, makes the socketpair and
 * installs the program's end in the caller with ADDFD_FLAG_SEND, which
 * also answers the call with the new fd. On any failure everything made
 * here is freed; if the caller has gone (ENOENT) nothing is answered.
 */
static void sbx_h_socket(struct sentry *sn, const struct seccomp_notif *n,
			 int family)
{
	int type = (int)n->data.args[1], proto = (int)n->data.args[2];
	int base = type & 0xf, afd, ret;
	struct cove_sock *s;
	struct sbx_sock *sk;

	if (type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		sbx_reply(sn, n->id, -1, EINVAL);
		return;
	}
	if (base == SOCK_RAW) {
		sbx_reply(sn, n->id, -1, EPERM);
		return;
	}
	if (base != SOCK_STREAM && base != SOCK_DGRAM) {
		sbx_reply(sn, n->id, -1, ESOCKTNOSUPPORT);
		return;
	}
	if (proto &&
	    proto != (base == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP)) {
		sbx_reply(sn, n->id, -1, EPROTONOSUPPORT);
		return;
	}
	ret = sn->ops->socket(sn->st, family, base, proto, &s);
	if (ret < 0) {
		sbx_reply(sn, n->id, -1, -ret);
		return;
	}
	sk = sbx_sock_new(sn, s, base);
	if (!sk) {
		sn->ops->close(s);
		sbx_reply(sn, n->id, -1, ENOMEM);
		return;
	}
	sk->family = family;
	ret = sbx_sock_pair(sk, &afd, type & SOCK_NONBLOCK);
	if (ret < 0) {
		sbx_sock_free(sk);
		sbx_reply(sn, n->id, -1, -ret);
		return;
	}
	ret = sbx_install(sn, n->id, afd, type & SOCK_CLOEXEC);
	close(afd);
	if (sn->trace)
		fprintf(stderr,
			"cove sentry: socket family %d type %d -> fd %d\n",
			family, type, ret);
	sk->hint_pid = n->pid;
	sk->hint_fd = ret;
	if (ret < 0) {
		sbx_sock_free(sk);
		/* ENOENT: the thread is gone, nothing to answer; EMFILE... */
		if (ret != -ENOENT)
			sbx_reply(sn, n->id, -1, -ret);
		return;
	}
	sbx_sock_queue(sk);
}

/* sbx_read_sockaddr() - an address argument, bounded. */
static int sbx_read_sockaddr(const struct seccomp_notif *n, uint64_t addr,
			     uint64_t len, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (len > SBX_ADDR_MAX || len > sizeof(*ss))
		return -EINVAL;
	return sbx_mem_read(n->pid, addr, ss, (size_t)len);
}

/**
 * sbx_bind() - bind a stack socket, as if the program's earlier closes
 * had already reached the stack
 * @sn:		sentry
 * @sk:		socket
 * @a:		address (read from the program, bounded)
 * @len:	its length
 *
 * A port still held by a socket the program has closed (its close not yet
 * seen by the loop) is freed first: sbx_relay_settle_port().
 *
 * Return: 0 or negative errno.
 */
int sbx_bind(struct sentry *sn, struct sbx_sock *sk, const struct sockaddr *a,
	     socklen_t len)
{
	int ret = sn->ops->bind(sk->s, a, len);

	if (ret == -EADDRINUSE &&
	    sbx_relay_settle_port(sn, sk, sbx_sa_port(a, len)))
		ret = sn->ops->bind(sk->s, a, len);
	return ret;
}

/**
 * sbx_listen() - listen on a stack socket, closes settled as in sbx_bind()
 * @sn:		sentry
 * @sk:		socket
 * @backlog:	already clamped
 *
 * Return: 0 or negative errno.
 */
int sbx_listen(struct sentry *sn, struct sbx_sock *sk, int backlog)
{
	union sbx_sockaddr a;
	socklen_t len = sizeof(a);
	int ret = sn->ops->listen(sk->s, backlog);

	memset(&a, 0, sizeof(a));
	if (ret == -EADDRINUSE &&
	    sn->ops->getsockname(sk->s, &a.sa, &len) == 0 &&
	    sbx_relay_settle_port(sn, sk, sbx_sa_port(&a.sa, len)))
		ret = sn->ops->listen(sk->s, backlog);
	return ret;
}

static void sbx_h_bind(struct sentry *sn, const struct seccomp_notif *n,
		       struct sbx_sock *sk)
{
	struct sockaddr_storage ss;
	int ret = sbx_read_sockaddr(n, n->data.args[1], n->data.args[2], &ss);

	if (!ret && !sbx_id_valid(sn, n->id))
		return;
	if (!ret)
		ret = sbx_bind(sn, sk, (struct sockaddr *)&ss,
			       (socklen_t)n->data.args[2]);
	sbx_reply(sn, n->id, 0, -ret);
}

/**
 * sbx_h_connect() - connect() on a served socket
 * @sn:		sentry
 * @n:		the notification
 * @sk:		the socket
 * @dup:	our copy of the program's end (for O_NONBLOCK and filler)
 *
 * UDP: set the default peer and answer. TCP follows Linux's states:
 * EALREADY/EISCONN/EINVAL, and a connect() after a failed one reports
 * the saved error once. An in-progress connect fills the program's send
 * budget with filler so its end is not writable until the stack
 * connects, then answers EINPROGRESS or parks the call as a waiter.
 */
static void sbx_h_connect(struct sentry *sn, const struct seccomp_notif *n,
			  struct sbx_sock *sk, int dup)
{
	static const uint8_t filler[4096];
	struct sockaddr_storage ss;
	bool nonblock = sbx_nonblock(dup);
	ssize_t w;
	int ret = sbx_read_sockaddr(n, n->data.args[1], n->data.args[2], &ss);

	if (ret < 0) {
		sbx_reply(sn, n->id, -1, -ret);
		return;
	}
	if (!sbx_id_valid(sn, n->id))
		return;
	if (sk->type == SOCK_DGRAM) {
		ret = sn->ops->connect(sk->s, (struct sockaddr *)&ss,
				       (socklen_t)n->data.args[2]);
		sbx_reply(sn, n->id, 0, -ret);
		return;
	}
	switch (sk->state) {
	case SK_CONNECTING:
		if (nonblock)
			sbx_reply(sn, n->id, -1, EALREADY);
		else
			sbx_waiter_park(sk, n);
		return;
	case SK_CONNECTED:
		sbx_reply(sn, n->id, -1, EISCONN);
		return;
	case SK_LISTENING:
		sbx_reply(sn, n->id, -1, EINVAL);
		return;
	case SK_FAILED:
		/* A second connect() reports the failure, as Linux does. */
		ret = sk->conn_err ? sk->conn_err : ECONNABORTED;
		sk->conn_err = 0;
		sbx_reply(sn, n->id, -1, ret);
		return;
	case SK_NEW:
		break;
	}
	ret = sn->ops->connect(sk->s, (struct sockaddr *)&ss,
			       (socklen_t)n->data.args[2]);
	if (ret == 0) {
		sk->state = SK_CONNECTED;
		sbx_reply(sn, n->id, 0, 0);
		sbx_sock_queue(sk);
		return;
	}
	if (ret != -EINPROGRESS) {
		sbx_reply(sn, n->id, -1, -ret);
		return;
	}
	/*
	 * Until the stack connects, the program's end must not be writable:
	 * fill its send budget with filler, dropped again on completion.
	 */
	sk->state = SK_CONNECTING;
	for (;;) {
		w = send(dup, filler, sizeof(filler),
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w <= 0)
			break;
		sk->filler += (uint32_t)w;
	}
	if (nonblock)
		sbx_reply(sn, n->id, -1, EINPROGRESS);
	else
		sbx_waiter_park(sk, n);
	sbx_sock_queue(sk);
}

/**
 * sbx_h_listen() - listen() on a TCP socket, backlog clamped to
 * 1..SBX_MAX_BACKLOG
 * @sn:		sentry
 * @n:		the notification
 * @sk:		the socket; SK_NEW or SK_LISTENING (a repeat resets backlog)
 */
static void sbx_h_listen(struct sentry *sn, const struct seccomp_notif *n,
			 struct sbx_sock *sk)
{
	int backlog = (int)n->data.args[1], ret;

	if (sk->type != SOCK_STREAM) {
		sbx_reply(sn, n->id, -1, EOPNOTSUPP);
		return;
	}
	if (sk->state != SK_NEW && sk->state != SK_LISTENING) {
		sbx_reply(sn, n->id, -1, EINVAL);
		return;
	}
	if (backlog < 1)
		backlog = 1;
	if (backlog > SBX_MAX_BACKLOG)
		backlog = SBX_MAX_BACKLOG;
	ret = sbx_listen(sn, sk, backlog);
	if (!ret) {
		sk->state = SK_LISTENING;
		sk->backlog = backlog;
		sbx_sock_queue(sk);
	}
	sbx_reply(sn, n->id, 0, -ret);
}

/**
 * sbx_serve_accept() - give the oldest queued connection to a waiting call
 * @sn:		sentry
 * @l:		listening socket with a non-empty queue
 * @w:		the call (accept or accept4; id, pid, args)
 *
 * Return: true if answered (with a connection or an error), false if the
 * call was gone (the connection stays queued).
 */
bool sbx_serve_accept(struct sentry *sn, struct sbx_sock *l,
		      const struct sbx_waiter *w)
{
	struct sbx_sock *c = l->acq_head;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int flags = w->nr == SYS_accept4 ? (int)w->args[3] : 0;
	int dup, ret;
	char token;

	memset(&peer, 0, sizeof(peer));
	if (sn->ops->getpeername(c->s, (struct sockaddr *)&peer, &plen) < 0)
		plen = 0;
	ret = sbx_put_addr(w->pid, w->args[1], w->args[2], &peer, plen);
	if (ret < 0) {
		sbx_reply(sn, w->id, -1, -ret);
		return true;
	}
	if (flags & SOCK_NONBLOCK)
		(void)fcntl(c->held_afd, F_SETFL, O_NONBLOCK);
	/*
	 * Consume the connection's token on the listener's program end before
	 * answering: once answered, the program may poll the listener again.
	 */
	dup = sbx_getfd(w->pid, (int)w->args[0]);
	if (dup >= 0) {
		if (recv(dup, &token, 1, MSG_DONTWAIT) == 1 && l->tokens)
			l->tokens--;
		close(dup);
	}
	ret = sbx_install(sn, w->id, c->held_afd, flags & SOCK_CLOEXEC);
	if (ret < 0) {
		/* The connection stays queued, with its token back. */
		sbx_tokens_fill(l);
		if (ret == -ENOENT)
			return false;		/* the call is gone */
		sbx_reply(sn, w->id, -1, -ret); /* EMFILE, ... */
		return true;
	}
	l->acq_head = c->acq_next;
	if (!l->acq_head)
		l->acq_tail = NULL;
	l->nacq--;
	sbx_tokens_fill(l); /* those that did not fit before */
	c->acq_next = NULL;
	c->hint_pid = w->pid;
	c->hint_fd = ret;
	close(c->held_afd);
	c->held_afd = -1;
	sbx_sock_queue(c);
	sbx_sock_queue(l); /* room in the queue: accept more */
	return true;
}

/**
 * sbx_h_accept() - accept()/accept4() on a listening socket
 * @sn:		sentry
 * @n:		the notification
 * @sk:		the listener
 * @dup:	our copy of the program's end (for O_NONBLOCK)
 *
 * Serves the oldest queued connection at once; with none, answers
 * EAGAIN (non-blocking) or parks the call until one arrives.
 */
static void sbx_h_accept(struct sentry *sn, const struct seccomp_notif *n,
			 struct sbx_sock *sk, int dup)
{
	struct sbx_waiter w = { .id = n->id, .pid = n->pid, .nr = n->data.nr };
	int flags = n->data.nr == SYS_accept4 ? (int)n->data.args[3] : 0;

	memcpy(w.args, n->data.args, sizeof(w.args));
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		sbx_reply(sn, n->id, -1, EINVAL);
		return;
	}
	if (sk->state != SK_LISTENING) {
		sbx_reply(sn, n->id, -1, EINVAL);
		return;
	}
	if (!sk->acq_head) {
		if (sbx_nonblock(dup))
			sbx_reply(sn, n->id, -1, EAGAIN);
		else
			sbx_waiter_park(sk, n);
		sbx_sock_queue(sk);
		return;
	}
	(void)sbx_serve_accept(sn, sk, &w);
}

/**
 * sbx_h_name() - getsockname() or getpeername(), from the stack socket
 * @sn:		sentry
 * @n:		the notification (data.nr says which)
 * @sk:		the socket
 *
 * getpeername() is ENOTCONN while connecting, after a failed connect or a
 * reset, whatever the stack says; the address is written with sbx_put_addr()
 * (truncated as Linux does).
 */
static void sbx_h_name(struct sentry *sn, const struct seccomp_notif *n,
		       struct sbx_sock *sk)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int ret;

	memset(&ss, 0, sizeof(ss));
	if (n->data.nr == SYS_getsockname)
		ret = sn->ops->getsockname(sk->s, (struct sockaddr *)&ss, &len);
	else if (sk->state == SK_CONNECTING || sk->state == SK_FAILED ||
		 sk->sfd_reset)
		ret = -ENOTCONN; /* Linux: not in CLOSE or SYN-SENT */
	else
		ret = sn->ops->getpeername(sk->s, (struct sockaddr *)&ss, &len);
	if (!ret && !n->data.args[1])
		ret = -EFAULT;
	if (!ret && sbx_id_valid(sn, n->id))
		ret = sbx_put_addr(n->pid, n->data.args[1], n->data.args[2],
				   &ss, len);
	sbx_reply(sn, n->id, 0, -ret);
}

/* sbx_timeo_opt() - options that also govern the program's own end. */
static bool sbx_timeo_opt(int level, int name)
{
	return level == SOL_SOCKET &&
	       (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD ||
		name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW ||
		name == SO_RCVLOWAT);
}

/**
 * sbx_so_error() - SO_ERROR as the sentry knows it, read and cleared
 * @sk:		socket
 * @dup:	our copy of the program's end
 *
 * After sbx_relay_reset_pair() the program's end holds an error of its
 * own (which its reads consume, as Linux's do): it is cleared here too,
 * and it is the answer when it stands for the reset itself.
 * Return: the error, 0, or -1 when the sentry knows of none (ask the stack).
 */
static int sbx_so_error(struct sbx_sock *sk, int dup)
{
	socklen_t len = sizeof(int);
	int pair_err = 0, e;

	if (sk->sfd_reset &&
	    getsockopt(dup, SOL_SOCKET, SO_ERROR, &pair_err, &len) < 0)
		pair_err = 0;
	if (sk->conn_err) {
		e = sk->conn_err;
		sk->conn_err = 0;
		return e;
	}
	if (sk->err_in_pair)
		return pair_err;
	return -1;
}

/**
 * sbx_h_getsockopt() - getsockopt() on a served socket
 * @sn:		sentry
 * @n:		the notification
 * @sk:		the socket
 *
 * SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN and SO_ERROR are
 * answered from the sentry's state (SO_ERROR reads and clears conn_err),
 * the timeouts and SO_RCVLOWAT from the program's end, where
 * sbx_h_setsockopt() put them; SO_GET_FILTER through sbx_get_filter()
 * (sockfilter.c); the rest ask the stack. At most SBX_MAX_OPTLEN bytes and the caller's
 * *optlen are written back.
 */
static void sbx_h_getsockopt(struct sentry *sn, const struct seccomp_notif *n,
			     struct sbx_sock *sk, int dup)
{
	int level = (int)n->data.args[1], name = (int)n->data.args[2];
	uint8_t val[SBX_MAX_OPTLEN];
	socklen_t len;
	uint32_t cap;
	int32_t iv = -1, outlen;
	int ret = sbx_read_len(n->pid, n->data.args[4], SBX_MAX_OPTLEN, &cap);

	if (ret < 0)
		goto out;
	if (level == SOL_SOCKET && name == SO_GET_FILTER) {
		/* its length counts instructions, not bytes */
		ret = sbx_read_len(n->pid, n->data.args[4], BPF_MAXINSNS + 1,
				   &cap);
		if (!ret && sbx_id_valid(sn, n->id))
			ret = sbx_get_filter(sn, n->pid, sk, n->data.args[3],
					     n->data.args[4], cap);
		goto out;
	}
	len = cap;
	memset(val, 0, sizeof(val));
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_TYPE:
			iv = sk->type;
			break;
		case SO_DOMAIN:
			iv = sk->family;
			break;
		case SO_PROTOCOL:
			iv = sk->type == SOCK_STREAM ? IPPROTO_TCP :
						       IPPROTO_UDP;
			break;
		case SO_ACCEPTCONN:
			iv = sk->state == SK_LISTENING;
			break;
		case SO_ERROR:
			iv = sbx_so_error(sk, dup);
			break;
		}
	}
	if (iv >= 0) {
		len = cap < sizeof(iv) ? cap : sizeof(iv);
		memcpy(val, &iv, len);
	} else if (sbx_timeo_opt(level, name)) {
		/* Set on the program's end (which enforces them): read there. */
		if (getsockopt(dup, level, name, val, &len) < 0) {
			ret = -errno;
			goto out;
		}
	} else {
		ret = sn->ops->getsockopt(sk->s, level, name, val, &len);
		if (ret < 0)
			goto out;
		if (len > cap)
			len = cap;
	}
	if (!sbx_id_valid(sn, n->id))
		return;
	outlen = (int32_t)len;
	if (sbx_mem_write(n->pid, n->data.args[3], val, len) < 0 ||
	    sbx_mem_write(n->pid, n->data.args[4], &outlen, sizeof(outlen)) < 0)
		ret = -EFAULT;
out:
	sbx_reply(sn, n->id, 0, -ret);
}

/**
 * sbx_h_setsockopt() - setsockopt() on a served socket
 * @sn:		sentry
 * @n:		the notification
 * @sk:		the socket
 * @dup:	our copy of the program's end
 *
 * Timeouts and SO_RCVLOWAT are set on the program's end too (which is
 * what enforces them), so the stack may refuse them. SO_RCVBUF on TCP
 * also resizes the pair's buffer, since it holds received bytes too.
 * Socket filters, whose values point into the program, go through
 * sbx_sockopt_filter() (sockfilter.c).
 */
static void sbx_h_setsockopt(struct sentry *sn, const struct seccomp_notif *n,
			     struct sbx_sock *sk, int dup)
{
	int level = (int)n->data.args[1], name = (int)n->data.args[2];
	uint64_t len = n->data.args[4];
	uint8_t val[SBX_MAX_OPTLEN];
	int ret;

	if (len > SBX_MAX_OPTLEN) {
		sbx_reply(sn, n->id, -1, EINVAL);
		return;
	}
	ret = sbx_mem_read(n->pid, n->data.args[3], val, (size_t)len);
	if (ret < 0) {
		sbx_reply(sn, n->id, -1, -ret);
		return;
	}
	if (!sbx_id_valid(sn, n->id))
		return;
	if (sbx_timeo_opt(level, name) &&
	    setsockopt(dup, level, name, val, (socklen_t)len) < 0) {
		sbx_reply(sn, n->id, -1, errno);
		return;
	}
	ret = sbx_sockopt_filter(sn, n->pid, sk, level, name, val, len);
	if (ret <= 0) {
		sbx_reply(sn, n->id, 0, -ret);
		return;
	}
	ret = sn->ops->setsockopt(sk->s, level, name, val, (socklen_t)len);
	if (ret < 0 && sbx_timeo_opt(level, name))
		ret = 0; /* the program's end honours it */
	/* The pair buffers received bytes too: as much as the program asked
	 * the socket to (the kernel clamps and doubles it, as for SO_RCVBUF). */
	if (!ret && level == SOL_SOCKET && name == SO_RCVBUF &&
	    sk->type == SOCK_STREAM && sk->sfd >= 0 && len >= sizeof(int)) {
		int bytes;

		memcpy(&bytes, val, sizeof(bytes));
		sbx_pair_sndbuf(sk, sk->sfd, bytes, false);
	}
	sbx_reply(sn, n->id, 0, -ret);
}

/**
 * sbx_h_shutdown() - shutdown() on a served socket
 * @sn:		sentry
 * @n:		the notification
 * @sk:		the socket
 * @dup:	our copy of the program's end
 *
 * A TCP socket not connected (or reset: Linux's CLOSE state): listeners
 * go to the stack, others get ENOTCONN. Otherwise SHUT_RD/SHUT_RDWR shut the stack's read side at
 * once and @how is applied to the program's end. For TCP the write side
 * reaches the stack as EOF on our end, after the relay has flushed what
 * came before; for UDP it is shut at the stack directly.
 */
static void sbx_h_shutdown(struct sentry *sn, const struct seccomp_notif *n,
			   struct sbx_sock *sk, int dup)
{
	int how = (int)n->data.args[1], ret = 0;

	if (how < SHUT_RD || how > SHUT_RDWR) {
		sbx_reply(sn, n->id, -1, EINVAL);
		return;
	}
	if (sk->type == SOCK_STREAM &&
	    (sk->state != SK_CONNECTED || sk->sfd_reset)) {
		ret = sk->state == SK_LISTENING ?
			      sn->ops->shutdown(sk->s, how) :
			      -ENOTCONN;
		sbx_reply(sn, n->id, 0, -ret);
		return;
	}
	if (how != SHUT_WR)
		(void)sn->ops->shutdown(sk->s, SHUT_RD);
	/* The program's end: reads/writes fail as on Linux; our end then
	 * reads EOF, which becomes the stack's SHUT_WR once flushed. */
	(void)shutdown(dup, how);
	if (sk->type == SOCK_DGRAM && how != SHUT_RD)
		ret = sn->ops->shutdown(sk->s, SHUT_WR);
	sbx_reply(sn, n->id, 0, ret == -ENOTCONN ? ENOTCONN : 0);
	sbx_sock_queue(sk);
}

/**
 * sbx_h_sendto() - sendto(fd, buf, len, flags, addr != NULL, addrlen)
 * @sn:		sentry
 * @n:		the notification
 * @sk:		the socket
 * @dup:	our copy of the program's end
 *
 * TCP ignores the address as Linux does: up to SBX_SCRATCH bytes are
 * written to the program's end without blocking (EPIPE if not
 * connected), so they keep their order with plain writes. UDP sends one
 * datagram (at most SBX_DGRAM_MAX) straight to the stack with the address.
 */
static void sbx_h_sendto(struct sentry *sn, const struct seccomp_notif *n,
			 struct sbx_sock *sk, int dup)
{
	uint64_t len = n->data.args[2];
	int flags = (int)n->data.args[3];
	struct sockaddr_storage ss;
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;
	int ret;

	if (sk->type == SOCK_STREAM) {
		/* Linux ignores the address on a connected TCP socket. */
		if (sk->state != SK_CONNECTED) {
			sbx_reply(sn, n->id, -1, EPIPE);
			return;
		}
		if (len > SBX_SCRATCH)
			len = SBX_SCRATCH;
	} else if (len > SBX_DGRAM_MAX) {
		sbx_reply(sn, n->id, -1, EMSGSIZE);
		return;
	}
	ret = sbx_mem_read(n->pid, n->data.args[1], sn->scratch, (size_t)len);
	if (!ret && sk->type == SOCK_DGRAM)
		ret = sbx_read_sockaddr(n, n->data.args[4], n->data.args[5],
					&ss);
	if (ret < 0) {
		sbx_reply(sn, n->id, -1, -ret);
		return;
	}
	if (!sbx_id_valid(sn, n->id))
		return;
	if (sk->type == SOCK_STREAM) {
		r = send(dup, sn->scratch, (size_t)len,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		sbx_reply(sn, n->id, r, r < 0 ? errno : 0);
		return;
	}
	iov.iov_base = sn->scratch;
	iov.iov_len = (size_t)len;
	msg.msg_name = &ss;
	msg.msg_namelen = (socklen_t)n->data.args[5];
	r = sn->ops->sendmsg(sk->s, &msg, flags & ~MSG_DONTWAIT);
	sbx_reply(sn, n->id, r, r < 0 ? (int)-r : 0);
}

/**
 * sbx_try_recvfrom() - a UDP recvfrom() with an address: take the datagram
 * at the head of the program's end and its source from the ring
 * @sn:		sentry
 * @sk:		UDP socket
 * @w:		the call
 * @dup:	a duplicate of the program's end
 * @can_park:	false: answer EAGAIN rather than keep waiting
 *
 * Return: true if answered, false if it should wait for data.
 */
bool sbx_try_recvfrom(struct sentry *sn, struct sbx_sock *sk,
		      const struct sbx_waiter *w, int dup, bool can_park)
{
	uint64_t len = w->args[2];
	int flags = (int)w->args[3];
	union sbx_sockaddr from;
	ssize_t r;
	int ret;

	if (len > SBX_SCRATCH)
		len = SBX_SCRATCH;
	r = recv(dup, sn->scratch, (size_t)len,
		 MSG_DONTWAIT | (flags & (MSG_PEEK | MSG_TRUNC)));
	if (r < 0) {
		if (errno == EAGAIN && can_park && !(flags & MSG_DONTWAIT) &&
		    !sbx_nonblock(dup))
			return false;
		sbx_reply(sn, w->id, -1, errno);
		return true;
	}
	memset(&from, 0, sizeof(from));
	from.sa.sa_family = (sa_family_t)sk->family;
	if (sk->ring_len) {
		from = sk->ring[sk->ring_head];
		if (!(flags & MSG_PEEK)) {
			sk->ring_head = (sk->ring_head + 1) % SBX_RING;
			sk->ring_len--;
		}
	}
	ret = sbx_mem_write(w->pid, w->args[1], sn->scratch,
			    (size_t)r < len ? (size_t)r : (size_t)len);
	if (!ret)
		ret = sbx_put_addr(w->pid, w->args[4], w->args[5], &from,
				   sbx_sa_len(sk->family));
	sbx_reply(sn, w->id, r, -ret);
	return true;
}

static void sbx_h_recvfrom(struct sentry *sn, const struct seccomp_notif *n,
			   struct sbx_sock *sk, int dup)
{
	struct sbx_waiter w = { .id = n->id, .pid = n->pid, .nr = n->data.nr };

	if (sk->type == SOCK_STREAM) {
		sbx_continue(sn, n->id); /* TCP: no address to report */
		return;
	}
	if (!sbx_id_valid(sn, n->id))
		return;
	memcpy(w.args, n->data.args, sizeof(w.args));
	if (!sbx_try_recvfrom(sn, sk, &w, dup, true))
		sbx_waiter_park(sk, n);
}

/* recvmsg() and recvmmsg(): UDP ones in dgram.c, TCP ones untouched. */
static void sbx_h_recvmsg(struct sentry *sn, const struct seccomp_notif *n,
			  struct sbx_sock *sk, int dup)
{
	struct sbx_waiter w = { .id = n->id, .pid = n->pid, .nr = n->data.nr };

	if (sk->type == SOCK_STREAM) {
		sbx_continue(sn, n->id);
		return;
	}
	if (!sbx_id_valid(sn, n->id))
		return;
	memcpy(w.args, n->data.args, sizeof(w.args));
	if (!sbx_dgram_try_recv(sn, sk, &w, dup, true))
		sbx_waiter_park(sk, n);
}

/* sbx_dispatch() - one notification. */
static void sbx_dispatch(struct sentry *sn, const struct seccomp_notif *n)
{
	struct sbx_sock *sk;
	uint64_t cookie;
	socklen_t clen = sizeof(cookie);
	int dup;

	if (n->data.nr == SYS_socket) {
		if (n->data.args[0] == AF_INET || n->data.args[0] == AF_INET6)
			sbx_h_socket(sn, n, (int)n->data.args[0]);
		else
			sbx_continue(sn, n->id);
		return;
	}
	dup = sbx_getfd(n->pid, (int)n->data.args[0]);
	if (dup < 0 ||
	    getsockopt(dup, SOL_SOCKET, SO_COOKIE, &cookie, &clen) < 0 ||
	    !(sk = sbx_sock_find(sn, cookie)) || !sk->s) {
		if (dup >= 0)
			close(dup);
		sbx_continue(sn, n->id);
		return;
	}
	sk->hint_pid = n->pid;
	sk->hint_fd = (int)n->data.args[0];
	if (sn->trace)
		fprintf(stderr, "cove sentry: pid %u nr %d fd %d state %d\n",
			n->pid, n->data.nr, (int)n->data.args[0], sk->state);
	switch (n->data.nr) {
	case SYS_bind:
		sbx_h_bind(sn, n, sk);
		break;
	case SYS_connect:
		sbx_h_connect(sn, n, sk, dup);
		break;
	case SYS_listen:
		sbx_h_listen(sn, n, sk);
		break;
	case SYS_accept:
	case SYS_accept4:
		sbx_h_accept(sn, n, sk, dup);
		break;
	case SYS_getsockname:
	case SYS_getpeername:
		sbx_h_name(sn, n, sk);
		break;
	case SYS_getsockopt:
		sbx_h_getsockopt(sn, n, sk, dup);
		break;
	case SYS_setsockopt:
		sbx_h_setsockopt(sn, n, sk, dup);
		break;
	case SYS_shutdown:
		sbx_h_shutdown(sn, n, sk, dup);
		break;
	case SYS_sendto:
		sbx_h_sendto(sn, n, sk, dup);
		break;
	case SYS_recvfrom:
		sbx_h_recvfrom(sn, n, sk, dup);
		break;
	case SYS_recvmsg:
	case SYS_recvmmsg:
		sbx_h_recvmsg(sn, n, sk, dup);
		break;
	case SYS_sendmsg:
	case SYS_sendmmsg:
		if (sk->type == SOCK_DGRAM)
			sbx_dgram_send(sn, n, sk, dup);
		else
			sbx_continue(sn, n->id);
		break;
	default:
		sbx_continue(sn, n->id);
		break;
	}
	close(dup);
}

/**
 * sbx_frontend_drain() - serve pending seccomp notifications, never blocking
 * @sn:		sentry
 *
 * At most 256 per call, so the relay and the control channel get their
 * turn; the rest stay readable on sn->nfd for the next loop.
 */
void sbx_frontend_drain(struct sentry *sn)
{
	struct pollfd p = { .fd = sn->nfd, .events = POLLIN };
	struct seccomp_notif n;
	unsigned i;

	for (i = 0; i < 256; i++) {
		if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
			return;
		memset(&n, 0, sizeof(n));
		if (ioctl(sn->nfd, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue; /* the caller went away */
			return;
		}
		sbx_dispatch(sn, &n);
	}
}

/* sbx_frontend_init() - cut the wake-up round trip where supported. */
/* sbx_retry_recvfrom() - data arrived: answer parked UDP recvfrom calls. */
static void sbx_retry_recvfrom(struct sbx_sock *sk)
{
	struct sbx_waiter *w, **pp = &sk->waiters;
	int dup;

	while ((w = *pp)) {
		if (!sbx_id_valid(sk->sn, w->id)) {
			*pp = w->next;
			sbx_waiter_put(sk->sn, w);
			continue;
		}
		dup = sbx_getfd(w->pid, (int)w->args[0]);
		if (dup >= 0 &&
		    !(w->nr == SYS_recvfrom ?
			      sbx_try_recvfrom(sk->sn, sk, w, dup, true) :
			      sbx_dgram_try_recv(sk->sn, sk, w, dup, true))) {
			close(dup);
			return; /* nothing more to read */
		}
		if (dup >= 0)
			close(dup);
		else
			sbx_reply(sk->sn, w->id, -1, EBADF);
		*pp = w->next;
		sbx_waiter_put(sk->sn, w);
	}
}

/**
 * sbx_frontend_wake() - the relay's call: parked calls on @sk may proceed
 * @sk:		a listener with accepted connections queued, or a UDP socket
 *		that received datagrams, with calls parked on it
 *
 * The relay moves bytes and never answers a trapped accept() or recvfrom()
 * itself: it calls this through sn->wake_parked, so that the frontend,
 * which alone knows how those calls are answered, stays the only file that
 * does it and the relay does not depend on it.
 */
static void sbx_frontend_wake(struct sbx_sock *sk)
{
	struct sentry *sn = sk->sn;
	struct sbx_waiter *w;

	if (sk->type == SOCK_DGRAM) {
		sbx_retry_recvfrom(sk);
		return;
	}
	while ((w = sk->waiters) && sk->acq_head) {
		sk->waiters = w->next;
		if (sbx_id_valid(sn, w->id))
			(void)sbx_serve_accept(sn, sk, w);
		sbx_waiter_put(sn, w);
	}
}

void sbx_frontend_init(struct sentry *sn)
{
	sn->wake_parked = sbx_frontend_wake;
	(void)ioctl(sn->nfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
		    SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}
