// SPDX-License-Identifier: Apache-2.0
/* kudp: an out-of-tree example provider, UDP only, on host kernel sockets. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cove/netstack.h"

/*
 * Theory of operation
 *
 * The smallest provider that is still real: every ABI socket is a
 * non-blocking kernel UDP socket in the host process's network namespace,
 * (AF_INET or AF_INET6, as the program asks),
 * registered edge-triggered in one epoll set. poll_fd() is that set; run()
 * drains it and notifies each socket with its readiness, so notifications
 * happen only inside run(), on the host's thread, as the ABI asks. TCP is
 * refused with -ESOCKTNOSUPPORT. No link: frames handed to input() go back
 * to their pool. All state is in the instance, so instances may coexist.
 *
 * Built as a shared object with hidden symbols; the only export is
 * cove_netstack_entry_v2(). KUDP_ABI_VERSION, KUDP_NO_ENTRY and
 * KUDP_V1_ENTRY make the broken variants that the loader's tests expect to be refused.
 */

#ifndef KUDP_ABI_VERSION
#define KUDP_ABI_VERSION COVE_NETSTACK_ABI_VERSION
#endif
#define KUDP_MAX_SOCKETS 256u

struct cove_stack {
	struct cove_stack_env env;
	int epfd;
	unsigned nsock;
	struct cove_stack_stats stats;
};

struct cove_sock {
	struct cove_stack *st;
	int fd;
	void *cookie;
};

static int kudp_create(const struct cove_stack_config *cfg,
		       const struct cove_stack_env *env,
		       struct cove_stack **out)
{
	struct cove_stack *st;

	if (!cfg || cfg->size < sizeof(*cfg) || !env || !env->notify)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->epfd < 0) {
		free(st);
		return -EMFILE;
	}
	st->env = *env;
	*out = st;
	return 0;
}

/* kudp_destroy() - the host closes its sockets first (stack-serve does). */
static void kudp_destroy(struct cove_stack *st)
{
	if (!st)
		return;
	close(st->epfd);
	free(st);
}

static void kudp_input(struct cove_stack *st, struct cove_frame **f, unsigned n)
{
	while (n--) {
		st->stats.rx_dropped++;
		cove_frame_free(f[n]);
	}
}

static uint32_t kudp_events(struct cove_sock *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) > 0 ? (uint32_t)p.revents : 0;
}

static uint64_t kudp_run(struct cove_stack *st, uint64_t now_ns)
{
	struct epoll_event ev[32];
	int i, n;

	(void)now_ns;
	while ((n = epoll_wait(st->epfd, ev, 32, 0)) > 0)
		for (i = 0; i < n; i++) {
			struct cove_sock *s = ev[i].data.ptr;

			st->env.notify(st->env.host, s, s->cookie,
				       kudp_events(s));
		}
	return UINT64_MAX;
}

static int kudp_poll_fd(struct cove_stack *st)
{
	return st->epfd;
}

static int kudp_socket(struct cove_stack *st, int domain, int type,
		       int protocol, struct cove_sock **out)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };
	struct cove_sock *s;

	(void)protocol;
	if (domain != AF_INET && domain != AF_INET6)
		return -EAFNOSUPPORT;
	if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (st->nsock >= KUDP_MAX_SOCKETS)
		return -EMFILE;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->st = st;
	s->fd = socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ev.data.ptr = s;
	if (s->fd < 0 || epoll_ctl(st->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
		int e = errno;

		if (s->fd >= 0)
			close(s->fd);
		free(s);
		return -e;
	}
	st->nsock++;
	*out = s;
	return 0;
}

static void kudp_set_cookie(struct cove_sock *s, void *cookie)
{
	s->cookie = cookie;
}

static int kudp_bind(struct cove_sock *s, const struct sockaddr *a,
		     socklen_t len)
{
	return bind(s->fd, a, len) < 0 ? -errno : 0;
}

static int kudp_listen(struct cove_sock *s, int backlog)
{
	(void)s;
	(void)backlog;
	return -EOPNOTSUPP;
}

static int kudp_accept(struct cove_sock *s, struct cove_sock **out,
		       struct sockaddr *peer, socklen_t *len)
{
	(void)s;
	(void)out;
	(void)peer;
	(void)len;
	return -EOPNOTSUPP;
}

static int kudp_connect(struct cove_sock *s, const struct sockaddr *a,
			socklen_t len)
{
	return connect(s->fd, a, len) < 0 ? -errno : 0;
}

static ssize_t kudp_sendmsg(struct cove_sock *s, const struct msghdr *m,
			    int flags)
{
	ssize_t n = sendmsg(s->fd, m, flags | MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0)
		return -errno;
	s->st->stats.udp_out++;
	return n;
}

static ssize_t kudp_recvmsg(struct cove_sock *s, struct msghdr *m, int flags)
{
	ssize_t n = recvmsg(s->fd, m, flags | MSG_DONTWAIT);

	if (n < 0)
		return -errno;
	s->st->stats.udp_in++;
	return n;
}

static int kudp_shutdown(struct cove_sock *s, int how)
{
	return shutdown(s->fd, how) < 0 ? -errno : 0;
}

static void kudp_close(struct cove_sock *s)
{
	if (!s)
		return;
	close(s->fd); /* also leaves the epoll set */
	s->st->nsock--;
	free(s);
}

static int kudp_setsockopt(struct cove_sock *s, int level, int name,
			   const void *val, socklen_t len)
{
	return setsockopt(s->fd, level, name, val, len) < 0 ? -errno : 0;
}

static int kudp_getsockopt(struct cove_sock *s, int level, int name, void *val,
			   socklen_t *len)
{
	return getsockopt(s->fd, level, name, val, len) < 0 ? -errno : 0;
}

static int kudp_getsockname(struct cove_sock *s, struct sockaddr *a,
			    socklen_t *len)
{
	return getsockname(s->fd, a, len) < 0 ? -errno : 0;
}

static int kudp_getpeername(struct cove_sock *s, struct sockaddr *a,
			    socklen_t *len)
{
	return getpeername(s->fd, a, len) < 0 ? -errno : 0;
}

static int kudp_stats(struct cove_stack *st, struct cove_stack_stats *out)
{
	struct cove_stack_stats s = st->stats;

	s.sockets = st->nsock;
	cove_stack_put_stats(out, &s);
	return 0;
}

static const struct cove_netstack_ops kudp_ops = {
	.abi_version = KUDP_ABI_VERSION,
	.name = "kudp",
	.description = "example plugin: UDP only, on host kernel sockets",
	.create = kudp_create,
	.destroy = kudp_destroy,
	.input = kudp_input,
	.run = kudp_run,
	.poll_fd = kudp_poll_fd,
	.socket = kudp_socket,
	.set_cookie = kudp_set_cookie,
	.bind = kudp_bind,
	.listen = kudp_listen,
	.accept = kudp_accept,
	.connect = kudp_connect,
	.sendmsg = kudp_sendmsg,
	.recvmsg = kudp_recvmsg,
	.shutdown = kudp_shutdown,
	.close = kudp_close,
	.setsockopt = kudp_setsockopt,
	.getsockopt = kudp_getsockopt,
	.getsockname = kudp_getsockname,
	.getpeername = kudp_getpeername,
	.events = kudp_events,
	.stats = kudp_stats,
};

/*
 * The one exported symbol (COVE_NETSTACK_ENTRY_SYMBOL). The KUDP_NO_ENTRY
 * variant exports it under another name and must be refused for lacking
 * the symbol; KUDP_V1_ENTRY exports v1's name, as a provider built for
 * ABI v1 does, and must be refused naming the version.
 */
#if defined(KUDP_NO_ENTRY)
#define KUDP_ENTRY cove_netstack_entry_v0
#elif defined(KUDP_V1_ENTRY)
#define KUDP_ENTRY cove_netstack_entry_v1
#else
#define KUDP_ENTRY cove_netstack_entry_v2
#endif

__attribute__((visibility("default"))) const struct cove_netstack_ops *
KUDP_ENTRY(void);

const struct cove_netstack_ops *KUDP_ENTRY(void)
{
	return &kudp_ops;
}
