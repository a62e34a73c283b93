// SPDX-License-Identifier: Apache-2.0
/* The kernel provider: stack ABI v1 served by host kernel sockets (a yardstick). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cove/netstack.h"

/*
 * Theory of operation
 *
 * Every ABI socket wraps one non-blocking kernel socket of the network
 * namespace the process runs in. The instance owns one epoll fd (the
 * provider's poll_fd()) holding every socket it handed out, registered
 * edge-triggered for IN, OUT and RDHUP with the socket as epoll data. When
 * the host sees poll_fd() readable it calls run(), which drains epoll with a
 * zero timeout and calls env->notify() with the socket's current readiness:
 * an edge is exactly the ABI's "readiness may have gained something", so no
 * notification is missed and a host that stops reading (backpressure) does
 * not make poll_fd() spin.
 *
 * events() asks the kernel with poll(0), so readiness is Linux's own.
 * Errors are the kernel's errno, negated. There is no link: frames passed to
 * input() go straight back to their pool, and the config's address is only
 * validated (the kernel's interfaces decide the addresses).
 *
 * Invariants: @nsock counts the sockets between socket()/accept() and
 * close(), and @socks lists exactly them; each is in the epoll set exactly
 * while its fd is open. destroy() closes whatever is still on @socks.
 * Notifications happen only inside run(), never in another call.
 */

#define KERNEL_DEFAULT_MAX_SOCKETS 65536u
#define KERNEL_EVENTS_BATCH	   64

struct cove_stack {
	struct cove_stack_env env;
	int epfd;
	uint32_t max_sockets;
	uint32_t rcvbuf, sndbuf;
	uint64_t nsock;		       /* open ABI sockets */
	struct cove_sock *socks;       /* all of them, for destroy() */
	struct cove_stack_stats stats; /* the counters this provider keeps */
};

struct cove_sock {
	struct cove_stack *st;
	struct cove_sock *prev, *next; /* on st->socks */
	int fd;
	int type; /* SOCK_STREAM or SOCK_DGRAM */
	void *cookie;
};

/**
 * kernel_create() - make an instance: an epoll set and the host's services
 * @cfg:	configuration; the address is validated, not applied
 * @env:	host services; @env->link is ignored (should be NULL)
 * @out:	the new instance
 *
 * Return: 0, -EINVAL for a bad config or env, -ENOMEM, or epoll's errno.
 */
static int kernel_create(const struct cove_stack_config *cfg,
			 const struct cove_stack_env *env,
			 struct cove_stack **out)
{
	struct cove_stack *st;

	if (!cfg || !env || !out || !env->notify || cfg->size < sizeof(*cfg) ||
	    cfg->prefix_len > 32)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->epfd < 0) {
		int e = errno;

		free(st);
		return -e;
	}
	st->env = *env;
	st->max_sockets = cfg->max_sockets ? cfg->max_sockets :
					     KERNEL_DEFAULT_MAX_SOCKETS;
	st->rcvbuf = cfg->rcvbuf;
	st->sndbuf = cfg->sndbuf;
	*out = st;
	return 0;
}

static void kernel_close(struct cove_sock *s);

/* kernel_destroy() - close every socket still open, then the instance. */
static void kernel_destroy(struct cove_stack *st)
{
	if (!st)
		return;
	while (st->socks)
		kernel_close(st->socks);
	close(st->epfd);
	free(st);
}

/* kernel_input() - no link: give every frame back to its pool. */
static void kernel_input(struct cove_stack *st, struct cove_frame **f,
			 unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		st->stats.rx_dropped++;
		cove_frame_free(f[i]);
	}
}

/* kernel_events() - the socket's readiness now, as poll() sees it. */
static uint32_t kernel_events(struct cove_sock *s)
{
	struct pollfd p = {
		.fd = s->fd,
		.events = POLLIN | POLLOUT | POLLRDHUP,
	};

	if (poll(&p, 1, 0) <= 0)
		return 0;
	/* POLL* and EPOLL* bits have the same values on Linux. */
	return (uint32_t)p.revents & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP |
				      EPOLLRDHUP | EPOLLPRI);
}

/**
 * kernel_run() - turn epoll edges into notifications
 * @st:		instance
 * @now_ns:	unused: the kernel keeps its own timers
 *
 * Return: UINT64_MAX, there is never a deadline of ours.
 */
static uint64_t kernel_run(struct cove_stack *st, uint64_t now_ns)
{
	struct epoll_event ev[KERNEL_EVENTS_BATCH];
	int i, n;

	(void)now_ns;
	do {
		n = epoll_wait(st->epfd, ev, KERNEL_EVENTS_BATCH, 0);
		for (i = 0; i < n; i++) {
			struct cove_sock *s = ev[i].data.ptr;

			st->env.notify(st->env.host, s, s->cookie,
				       kernel_events(s));
		}
	} while (n == KERNEL_EVENTS_BATCH);
	return UINT64_MAX;
}

static int kernel_poll_fd(struct cove_stack *st)
{
	return st->epfd;
}

/**
 * kernel_adopt() - wrap a fresh kernel socket and add it to the epoll set
 * @st:		instance
 * @fd:		non-blocking socket; closed here on failure
 * @type:	SOCK_STREAM or SOCK_DGRAM
 * @out:	the ABI socket
 *
 * Return: 0 or negative errno.
 */
static int kernel_adopt(struct cove_stack *st, int fd, int type,
			struct cove_sock **out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
	};
	struct cove_sock *s = calloc(1, sizeof(*s));

	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->st = st;
	s->fd = fd;
	s->type = type;
	ev.data.ptr = s;
	if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		close(fd);
		free(s);
		return -e;
	}
	st->nsock++;
	s->next = st->socks;
	if (st->socks)
		st->socks->prev = s;
	st->socks = s;
	*out = s;
	return 0;
}

/**
 * kernel_socket() - the ABI's socket(): a kernel socket of our netns
 * @st:		instance
 * @domain:	AF_INET or AF_INET6 (the kernel's own dual stack)
 * @type:	SOCK_STREAM or SOCK_DGRAM; the kernel socket is always made
 *		non-blocking and close-on-exec, whatever the flags say
 * @protocol:	passed to the kernel unchecked (it refuses a wrong one)
 * @out:	the ABI socket, in the epoll set
 *
 * The configured SO_RCVBUF/SO_SNDBUF are applied best-effort: a kernel
 * that refuses them leaves its defaults.
 *
 * Return: 0, -EAFNOSUPPORT, -ESOCKTNOSUPPORT, -EMFILE (max_sockets
 * reached), socket()'s -errno, or kernel_adopt()'s (the fd is closed).
 */
static int kernel_socket(struct cove_stack *st, int domain, int type,
			 int protocol, struct cove_sock **out)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	int fd;

	if (domain != AF_INET && domain != AF_INET6)
		return -EAFNOSUPPORT;
	if (base != SOCK_STREAM && base != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (st->nsock >= st->max_sockets)
		return -EMFILE;
	fd = socket(domain, base | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		return -errno;
	if (st->rcvbuf)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &st->rcvbuf,
				 sizeof(st->rcvbuf));
	if (st->sndbuf)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &st->sndbuf,
				 sizeof(st->sndbuf));
	return kernel_adopt(st, fd, base, out);
}

static void kernel_set_cookie(struct cove_sock *s, void *cookie)
{
	s->cookie = cookie;
}

static int kernel_bind(struct cove_sock *s, const struct sockaddr *addr,
		       socklen_t len)
{
	return bind(s->fd, addr, len) < 0 ? -errno : 0;
}

static int kernel_listen(struct cove_sock *s, int backlog)
{
	return listen(s->fd, backlog) < 0 ? -errno : 0;
}

/*
 * kernel_accept() - accept4() into a new ABI socket, non-blocking and
 * close-on-exec, counted against max_sockets (checked first, so at
 * -EMFILE the connection stays in the kernel's queue).
 */
static int kernel_accept(struct cove_sock *s, struct cove_sock **out,
			 struct sockaddr *peer, socklen_t *len)
{
	struct cove_stack *st = s->st;
	int fd, ret;

	if (st->nsock >= st->max_sockets)
		return -EMFILE;
	fd = accept4(s->fd, peer, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	ret = kernel_adopt(st, fd, SOCK_STREAM, out);
	if (!ret)
		st->stats.tcp_passive_opens++;
	return ret;
}

/*
 * kernel_connect() - connect() as the kernel does it: a TCP socket
 * returns -EINPROGRESS and the host waits for EPOLLOUT; both that and an
 * immediate success count as an active open.
 */
static int kernel_connect(struct cove_sock *s, const struct sockaddr *addr,
			  socklen_t len)
{
	if (connect(s->fd, addr, len) < 0) {
		if (errno == EINPROGRESS && s->type == SOCK_STREAM)
			s->st->stats.tcp_active_opens++;
		return -errno;
	}
	if (s->type == SOCK_STREAM)
		s->st->stats.tcp_active_opens++;
	return 0;
}

/*
 * kernel_sendmsg() - sendmsg() with MSG_DONTWAIT | MSG_NOSIGNAL added: the
 * host never blocks here and gets -EPIPE rather than SIGPIPE. The msghdr
 * goes to the kernel as the host built it, control data included.
 */
static ssize_t kernel_sendmsg(struct cove_sock *s, const struct msghdr *msg,
			      int flags)
{
	ssize_t n = sendmsg(s->fd, msg, flags | MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (s->type == SOCK_DGRAM)
		s->st->stats.udp_out++;
	return n;
}

/* kernel_recvmsg() - recvmsg() with MSG_DONTWAIT; -EAGAIN when empty. */
static ssize_t kernel_recvmsg(struct cove_sock *s, struct msghdr *msg,
			      int flags)
{
	ssize_t n = recvmsg(s->fd, msg, flags | MSG_DONTWAIT);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (s->type == SOCK_DGRAM && !(flags & MSG_PEEK))
		s->st->stats.udp_in++;
	return n;
}

static int kernel_shutdown(struct cove_sock *s, int how)
{
	return shutdown(s->fd, how) < 0 ? -errno : 0;
}

/* kernel_close() - Linux close(): the kernel finishes the shutdown. */
static void kernel_close(struct cove_sock *s)
{
	if (!s)
		return;
	(void)epoll_ctl(s->st->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	if (s->prev)
		s->prev->next = s->next;
	else
		s->st->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->st->nsock--;
	free(s);
}

static int kernel_setsockopt(struct cove_sock *s, int level, int name,
			     const void *val, socklen_t len)
{
	return setsockopt(s->fd, level, name, val, len) < 0 ? -errno : 0;
}

static int kernel_getsockopt(struct cove_sock *s, int level, int name,
			     void *val, socklen_t *len)
{
	return getsockopt(s->fd, level, name, val, len) < 0 ? -errno : 0;
}

static int kernel_getsockname(struct cove_sock *s, struct sockaddr *addr,
			      socklen_t *len)
{
	return getsockname(s->fd, addr, len) < 0 ? -errno : 0;
}

static int kernel_getpeername(struct cove_sock *s, struct sockaddr *addr,
			      socklen_t *len)
{
	return getpeername(s->fd, addr, len) < 0 ? -errno : 0;
}

/*
 * kernel_stats() - what this provider can see: opens, datagrams, open
 * sockets. Frame and segment counters belong to the kernel (see
 * /proc/net/snmp) and stay zero here.
 */
static int kernel_stats(struct cove_stack *st, struct cove_stack_stats *out)
{
	struct cove_stack_stats s = st->stats;

	s.sockets = st->nsock;
	cove_stack_put_stats(out, &s);
	return 0;
}

static const struct cove_netstack_ops kernel_ops = {
	.abi_version = COVE_NETSTACK_ABI_VERSION,
	.name = "kernel",
	.description = "host kernel sockets behind the ABI (a yardstick)",
	.create = kernel_create,
	.destroy = kernel_destroy,
	.input = kernel_input,
	.run = kernel_run,
	.poll_fd = kernel_poll_fd,
	.socket = kernel_socket,
	.set_cookie = kernel_set_cookie,
	.bind = kernel_bind,
	.listen = kernel_listen,
	.accept = kernel_accept,
	.connect = kernel_connect,
	.sendmsg = kernel_sendmsg,
	.recvmsg = kernel_recvmsg,
	.shutdown = kernel_shutdown,
	.close = kernel_close,
	.setsockopt = kernel_setsockopt,
	.getsockopt = kernel_getsockopt,
	.getsockname = kernel_getsockname,
	.getpeername = kernel_getpeername,
	.events = kernel_events,
	.stats = kernel_stats,
};
COVE_STACK_PROVIDER(kernel_ops);
