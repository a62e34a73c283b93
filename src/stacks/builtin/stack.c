// SPDX-License-Identifier: Apache-2.0
/* The builtin provider: instance lifecycle, ABI ops, socket dispatch, run(). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include "stacks/builtin/core6.h"

/*
 * Theory of operation
 *
 * struct cove_stack and struct cove_sock are the ABI's opaque names for
 * struct bstack and struct bsock: the conversions below are plain casts.
 * Every socket call lands here and is dispatched through the socket's
 * struct bproto; this file only keeps the host-facing accounting (handles
 * open against max_sockets, host_open so that closed sockets are never
 * notified).
 *
 * Frames leave through two bounded queues owned by the instance:
 *  - txq: frames for the link, flushed when full and at the end of run();
 *    what the link refuses after one retry is dropped (tx_dropped).
 *  - the loopback queue: frames addressed to ourselves (our address, 127/8),
 *    delivered to eth_input() by the next run(). run() takes the queue as it
 *    is on entry, so replies generated while delivering wait for the next
 *    run() (whose deadline is then "now"): no unbounded recursion.
 * Frames held there and in ARP queues are counted in stats.frames_held.
 */

#define BSTACK_DEF_MAX_SOCKETS 65536u
#define BSTACK_DEF_RCVBUF      (256u * 1024)
#define BSTACK_DEF_SNDBUF      (256u * 1024)
/* TCP super-frames in flight between tcp_xmit() and the link (2 MiB) */
#define BSTACK_TSO_FRAMES 32u

static inline struct bstack *to_st(struct cove_stack *s)
{
	return (struct bstack *)s;
}

static inline struct bsock *to_bs(struct cove_sock *s)
{
	return (struct bsock *)s;
}

void bstack_notify(struct bsock *s, uint32_t events)
{
	struct bstack *st = s->st;

	if (s->host_open && st->env.notify)
		st->env.notify(st->env.host, (struct cove_sock *)s, s->cookie,
			       events);
}

/**
 * bstack_random() - next value of the instance's xorshift64* generator
 * @st:	stack
 *
 * Not cryptographic: TCP keys its ISNs with st->seed on its own.
 *
 * Return: 64 pseudo-random bits.
 */
uint64_t bstack_random(struct bstack *st)
{
	uint64_t x = st->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* bstack_log() - one "builtin: " line to the host's log, if it has one. */
void bstack_log(struct bstack *st, int level, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!st->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	st->env.log(st->env.host, level, "builtin: %s", buf);
}

/**
 * bstack_flush() - hand the transmit batch to the link
 * @st:	stack
 *
 * The link gets one retry for what it refuses; the rest is dropped and
 * counted (TCP retransmits, UDP and ICMP are unreliable anyway). Lengths
 * are read before the link takes (and may free) the frames.
 */
void bstack_flush(struct bstack *st)
{
	uint32_t len[sizeof(st->txq) / sizeof(st->txq[0])];
	unsigned done = 0, n, i, tries;

	for (i = 0; i < st->ntx; i++)
		len[i] = st->txq[i]->len;
	for (tries = 0; tries < 2 && done < st->ntx; tries++) {
		n = cove_link_tx_burst(st->link, st->txq + done,
				       st->ntx - done);
		for (i = done; i < done + n; i++) {
			st->stats.tx_frames++;
			st->stats.tx_bytes += len[i];
		}
		done += n;
	}
	for (i = done; i < st->ntx; i++) {
		st->stats.tx_dropped++;
		cove_frame_free(st->txq[i]);
	}
	st->ntx = 0;
}

/**
 * bstack_xmit() - queue a finished Ethernet frame for the link
 * @st:	stack
 * @f:	frame; consumed
 */
void bstack_xmit(struct bstack *st, struct cove_frame *f)
{
	st->txq[st->ntx++] = f;
	if (st->ntx == sizeof(st->txq) / sizeof(st->txq[0]))
		bstack_flush(st);
}

/**
 * bstack_loop() - queue a frame addressed to ourselves
 * @st:	stack
 * @f:	whole Ethernet frame; consumed
 *
 * Return: 0, or -ENOBUFS when the loopback queue is full (frame dropped).
 */
int bstack_loop(struct bstack *st, struct cove_frame *f)
{
	if (st->nloop >= LOOP_MAX) {
		st->stats.tx_dropped++;
		cove_frame_free(f);
		return -ENOBUFS;
	}
	f->next = NULL;
	if (st->loop_tail)
		st->loop_tail->next = f;
	else
		st->loop_head = f;
	st->loop_tail = f;
	st->nloop++;
	st->stats.frames_held++;
	return 0;
}

/* bstack_loop_run() - deliver the loopback frames queued before this call. */
static void bstack_loop_run(struct bstack *st)
{
	struct cove_frame *f = st->loop_head;
	unsigned n = st->nloop;

	st->loop_head = st->loop_tail = NULL;
	st->nloop = 0;
	st->stats.frames_held -= n;
	while (f) {
		struct cove_frame *next = f->next;

		f->next = NULL;
		eth_input(st, f, true);
		f = next;
	}
}

/* bstack_loop_drop() - free every frame on the loopback queue (destroy). */
static void bstack_loop_drop(struct bstack *st)
{
	struct cove_frame *f = st->loop_head;

	while (f) {
		struct cove_frame *next = f->next;

		cove_frame_free(f);
		f = next;
	}
	st->stats.frames_held -= st->nloop;
	st->loop_head = st->loop_tail = NULL;
	st->nloop = 0;
}

/* bstack_free() - tear down an instance; @tcp_up: tcp_layer_init() succeeded. */
static void bstack_free(struct bstack *st, bool tcp_up)
{
	if (tcp_up)
		tcp_layer_fini(st);
	udp_layer_fini(st);
	bstack_flush(st);
	bstack_loop_drop(st);
	arp_fini(st);
	ipv6_fini(st);
	igmp_fini(st);
	ipv4_fini(st);
	if (st->mem.used)
		bstack_log(st, COVE_LOG_ERR,
			   "%llu bytes of socket memory leaked at destroy",
			   (unsigned long long)st->mem.used);
	if (st->tso_pool.frames && cove_frame_pool_fini(&st->tso_pool))
		bstack_log(st, COVE_LOG_ERR, "TSO frames leaked at destroy");
	free(st);
}

/*
 * bstack_offloads() - take what the link offers: checksum offload always,
 * TSO when BSTACK_TSO_FRAMES super-frame buffers can be had (else MTU
 * frames only, which is never wrong).
 */
static void bstack_offloads(struct bstack *st)
{
	const struct cove_link *l = st->link;
	uint32_t max, size;

	st->tx_csum = l->offloads & COVE_LINK_OFF_TX_CSUM;
	if (!st->tx_csum || !(l->offloads & COVE_LINK_OFF_TSO4) ||
	    l->tso_max <= ETH_HLEN_ + st->mtu)
		return;
	max = l->tso_max - ETH_HLEN_ < IP_MAX_TOTAL ? l->tso_max - ETH_HLEN_ :
						      IP_MAX_TOTAL;
	size = (ETH_HLEN_ + max + 63) & ~63u;
	if (cove_frame_pool_init(&st->tso_pool, BSTACK_TSO_FRAMES, size))
		return;
	st->tso_room = max - IP_HLEN_;
}

/**
 * builtin_destroy() - free an instance, its open sockets and every frame
 * it holds (ARP and loopback queues; the transmit batch is flushed first)
 * @cs:	stack, may be NULL
 */
static void builtin_destroy(struct cove_stack *cs)
{
	if (cs)
		bstack_free(to_st(cs), true);
}

/**
 * builtin_create() - make a builtin stack instance on env->link
 * @cfg:	configuration; addr non-zero, prefix_len <= 32
 * @env:	host services; env->link is required
 * @out:	the instance
 *
 * Return: 0, -EINVAL for a bad configuration, -ENOMEM.
 */
static int builtin_create(const struct cove_stack_config *cfg,
			  const struct cove_stack_env *env,
			  struct cove_stack **out)
{
	struct bstack *st;
	int ret;

	if (!cfg || !env || !out || cfg->size < sizeof(*cfg) || !env->link ||
	    !env->now_ns || cfg->prefix_len > 32 || !cfg->addr.s_addr)
		return -EINVAL;
	if (env->link->mtu < 576 || !env->link->pool ||
	    env->link->pool->buf_size < ETH_HLEN_ + 576)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->env = *env;
	st->link = env->link;
	st->addr = cfg->addr.s_addr;
	st->netmask = cfg->prefix_len ? htonl(~0u << (32 - cfg->prefix_len)) :
					0;
	st->gateway = cfg->gateway.s_addr;
	memcpy(st->mac, st->link->mac, ETH_ALEN_);
	st->mtu = st->link->mtu;
	if (st->mtu > IP_MAX_TOTAL)
		st->mtu = IP_MAX_TOTAL;
	st->seed = cfg->seed;
	st->seeded = cfg->seed != 0;
	while (!st->seed)
		if (getrandom(&st->seed, sizeof(st->seed), 0) !=
		    sizeof(st->seed))
			st->seed = (uintptr_t)st ^ env->now_ns(env->host);
	/* splitmix64 step: a non-zero xorshift state from any seed */
	st->rng = st->seed + 0x9e3779b97f4a7c15ull;
	st->rng = (st->rng ^ (st->rng >> 30)) * 0xbf58476d1ce4e5b9ull;
	st->rng = (st->rng ^ (st->rng >> 27)) * 0x94d049bb133111ebull;
	st->rng ^= st->rng >> 31;
	if (!st->rng)
		st->rng = 1;
	st->max_sockets = cfg->max_sockets ? cfg->max_sockets :
					     BSTACK_DEF_MAX_SOCKETS;
	st->rcvbuf = cfg->rcvbuf ? cfg->rcvbuf : BSTACK_DEF_RCVBUF;
	st->sndbuf = cfg->sndbuf ? cfg->sndbuf : BSTACK_DEF_SNDBUF;
	st->congestion = cfg->congestion ? cfg->congestion : "cubic";
	if (bmem_init(st, cfg->mem_max)) {
		free(st);
		return -EINVAL;
	}
	st->now_ns = env->now_ns(env->host);
	timer_init(&st->timers, st->now_ns);
	bstack_offloads(st);

	ret = arp_init(st);
	if (!ret)
		ret = ipv4_init(st);
	if (!ret)
		ret = igmp_layer_init(st);
	if (!ret)
		ret = ipv6_init(st, cfg);
	if (!ret)
		ret = udp_layer_init(st);
	if (!ret)
		ret = tcp_layer_init(st);
	if (ret) {
		bstack_free(st, false);
		return ret;
	}
	if (!(cfg->flags & COVE_STACK_F_NO_GARP))
		arp_announce(st);
	ipv6_start(st, !(cfg->flags & COVE_STACK_F_NO_GARP));
	*out = (struct cove_stack *)st;
	return 0;
}

/**
 * builtin_input() - the ABI's input(): process a burst of received frames
 * @cs:		stack
 * @f:		frames, each consumed (freed or kept by the layer that
 *		finishes with it)
 * @n:		how many
 *
 * The clock is read once for the burst. TCP holds the ACKs it owes while
 * in_input is set and sends them once at tcp_input_end(), so a burst of
 * segments is acknowledged by one ACK. Replies wait in the transmit batch
 * until it fills or run() flushes it: the host calls run() after input().
 */
static void builtin_input(struct cove_stack *cs, struct cove_frame **f,
			  unsigned n)
{
	struct bstack *st = to_st(cs);
	uint64_t now = st->env.now_ns(st->env.host);
	unsigned i;

	if (now > st->now_ns)
		st->now_ns = now;
	st->in_input = true;
	for (i = 0; i < n; i++)
		eth_input(st, f[i], false);
	st->in_input = false;
	tcp_input_end(st);
}

/**
 * bstack_mem_run() - the memory budget's work for run() (mem.c)
 * @st:		stack
 *
 * A request that met the hard limit resets the orphans holding data
 * (tcp_mem_oom()). After memory was freed, every waiter that polls
 * writable now leaves the list and is notified; the others stay (their
 * poll put them back: events() may call bmem_wait() on the socket, hence
 * the unlink before the call).
 */
static void bstack_mem_run(struct bstack *st)
{
	struct bsock *s, *next;
	uint32_t ev;

	if (st->mem.oom) {
		st->mem.oom = false;
		tcp_mem_oom(st);
	}
	if (!bmem_reclaim(st))
		return;
	for (s = st->mem.waiters; s; s = next) {
		next = s->mw_next;
		bmem_unwait(s);
		ev = s->proto->events(s);
		if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			bstack_notify(s, ev);
		else
			bmem_wait(s);
	}
}

/**
 * builtin_run() - fire timers, deliver loopback frames, flush transmissions
 * @cs:		stack
 * @now_ns:	CLOCK_MONOTONIC now
 *
 * Return: the next deadline: now when loopback frames wait, else the
 * earliest timer, UINT64_MAX when none.
 */
static uint64_t builtin_run(struct cove_stack *cs, uint64_t now_ns)
{
	struct bstack *st = to_st(cs);

	if (now_ns > st->now_ns)
		st->now_ns = now_ns;
	timer_advance(&st->timers, st->now_ns);
	if (st->nloop)
		bstack_loop_run(st);
	bstack_mem_run(st);
	bstack_flush(st);
	if (st->nloop)
		return st->now_ns;
	return timer_next(&st->timers);
}

static int builtin_poll_fd(struct cove_stack *cs)
{
	(void)cs;
	return -1;
}

/**
 * builtin_socket() - the ABI's socket(): a TCP or UDP socket
 * @cs:		stack
 * @domain:	AF_INET, or AF_INET6 (dual stack, as on Linux)
 * @type:	SOCK_STREAM or SOCK_DGRAM; SOCK_NONBLOCK and SOCK_CLOEXEC are
 *		the host's business and ignored (the stack never blocks)
 * @protocol:	0 or the one protocol that matches @type
 * @out:	the socket, open for the host until it calls close()
 *
 * Counts against max_sockets, the per-instance limit set at create.
 *
 * Return: 0, -EAFNOSUPPORT, -EPROTONOSUPPORT, -ESOCKTNOSUPPORT, -EMFILE
 * (limit reached) or the protocol's -ENOMEM.
 */
static int builtin_socket(struct cove_stack *cs, int domain, int type,
			  int protocol, struct cove_sock **out)
{
	struct bstack *st = to_st(cs);
	struct bsock *s = NULL;
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	int ret;

	if (domain != AF_INET && domain != AF_INET6)
		return -EAFNOSUPPORT;
	if (base == SOCK_STREAM) {
		if (protocol && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
	} else if (base == SOCK_DGRAM) {
		if (protocol && protocol != IPPROTO_UDP)
			return -EPROTONOSUPPORT;
	} else {
		return -ESOCKTNOSUPPORT;
	}
	if (st->nsockets >= st->max_sockets)
		return -EMFILE;
	ret = base == SOCK_STREAM ? tcp_socket(st, domain, &s) :
				    udp_socket(st, domain, &s);
	if (ret)
		return ret;
	s->st = st;
	s->type = base;
	s->cookie = NULL;
	s->host_open = true;
	st->nsockets++;
	*out = (struct cove_sock *)s;
	return 0;
}

static void builtin_set_cookie(struct cove_sock *cs, void *cookie)
{
	to_bs(cs)->cookie = cookie;
}

static int builtin_bind(struct cove_sock *cs, const struct sockaddr *a,
			socklen_t len)
{
	struct bsock *s = to_bs(cs);

	return s->proto->bind ? s->proto->bind(s, a, len) : -EOPNOTSUPP;
}

static int builtin_listen(struct cove_sock *cs, int backlog)
{
	struct bsock *s = to_bs(cs);

	return s->proto->listen ? s->proto->listen(s, backlog) : -EOPNOTSUPP;
}

/**
 * builtin_accept() - the ABI's accept(): take one established connection
 * @cs:		listening socket
 * @out:	the new socket, counted against max_sockets like socket()'s
 * @peer:	filled with the peer's address when not NULL
 * @len:	in: room at @peer; out: the address's size
 *
 * The limit is checked before the protocol dequeues, so at -EMFILE the
 * connection stays queued for a later accept().
 *
 * Return: 0, -EAGAIN when none is ready, -EMFILE, -EINVAL when @cs is not
 * listening, -EOPNOTSUPP for UDP.
 */
static int builtin_accept(struct cove_sock *cs, struct cove_sock **out,
			  struct sockaddr *peer, socklen_t *len)
{
	struct bsock *s = to_bs(cs), *c = NULL;
	struct bstack *st = s->st;
	int ret;

	if (!s->proto->accept)
		return -EOPNOTSUPP;
	if (st->nsockets >= st->max_sockets)
		return -EMFILE;
	ret = s->proto->accept(s, &c, peer, len);
	if (ret < 0)
		return ret;
	c->host_open = true;
	c->cookie = NULL;
	st->nsockets++;
	*out = (struct cove_sock *)c;
	return ret;
}

static int builtin_connect(struct cove_sock *cs, const struct sockaddr *a,
			   socklen_t len)
{
	struct bsock *s = to_bs(cs);

	return s->proto->connect ? s->proto->connect(s, a, len) : -EOPNOTSUPP;
}

static ssize_t builtin_sendmsg(struct cove_sock *cs, const struct msghdr *m,
			       int flags)
{
	struct bsock *s = to_bs(cs);

	return s->proto->sendmsg(s, m, flags);
}

static ssize_t builtin_recvmsg(struct cove_sock *cs, struct msghdr *m,
			       int flags)
{
	struct bsock *s = to_bs(cs);

	return s->proto->recvmsg(s, m, flags);
}

static int builtin_shutdown(struct cove_sock *cs, int how)
{
	struct bsock *s = to_bs(cs);

	return s->proto->shutdown ? s->proto->shutdown(s, how) : -EOPNOTSUPP;
}

/**
 * builtin_close() - the ABI's close(): the host's handle is gone
 * @cs:		socket (NULL is ignored)
 *
 * Gives the socket's max_sockets slot back now; the protocol decides what
 * becomes of the connection (TCP may finish it as an orphan).
 */
static void builtin_close(struct cove_sock *cs)
{
	struct bsock *s = to_bs(cs);

	if (!s)
		return;
	if (s->host_open) {
		s->host_open = false;
		s->st->nsockets--;
	}
	s->proto->close(s);
}

static int builtin_setsockopt(struct cove_sock *cs, int level, int name,
			      const void *val, socklen_t len)
{
	struct bsock *s = to_bs(cs);

	return s->proto->setsockopt(s, level, name, val, len);
}

static int builtin_getsockopt(struct cove_sock *cs, int level, int name,
			      void *val, socklen_t *len)
{
	struct bsock *s = to_bs(cs);

	return s->proto->getsockopt(s, level, name, val, len);
}

static int builtin_getsockname(struct cove_sock *cs, struct sockaddr *a,
			       socklen_t *len)
{
	struct bsock *s = to_bs(cs);

	return s->proto->getsockname(s, a, len);
}

static int builtin_getpeername(struct cove_sock *cs, struct sockaddr *a,
			       socklen_t *len)
{
	struct bsock *s = to_bs(cs);

	return s->proto->getpeername(s, a, len);
}

static uint32_t builtin_events(struct cove_sock *cs)
{
	struct bsock *s = to_bs(cs);

	return s->proto->events(s);
}

/* builtin_stats() - the instance's counters, UDP's and TCP's gauges, memory. */
static int builtin_stats(struct cove_stack *cs, struct cove_stack_stats *out)
{
	struct bstack *st = to_st(cs);
	struct cove_stack_stats s = st->stats;

	s.sockets = st->nsockets;
	udp_stats(st, &s);
	tcp_stats(st, &s);
	s.mem_bytes = st->mem.used;
	cove_stack_put_stats(out, &s);
	return 0;
}

static const struct cove_netstack_ops builtin_ops = {
	.abi_version = COVE_NETSTACK_ABI_VERSION,
	.name = "builtin",
	.description =
		"Cove's own TCP/IP stack on a link (ARP, IPv4, ICMP, IPv6, ND, UDP, TCP)",
	.create = builtin_create,
	.destroy = builtin_destroy,
	.input = builtin_input,
	.run = builtin_run,
	.poll_fd = builtin_poll_fd,
	.socket = builtin_socket,
	.set_cookie = builtin_set_cookie,
	.bind = builtin_bind,
	.listen = builtin_listen,
	.accept = builtin_accept,
	.connect = builtin_connect,
	.sendmsg = builtin_sendmsg,
	.recvmsg = builtin_recvmsg,
	.shutdown = builtin_shutdown,
	.close = builtin_close,
	.setsockopt = builtin_setsockopt,
	.getsockopt = builtin_getsockopt,
	.getsockname = builtin_getsockname,
	.getpeername = builtin_getpeername,
	.events = builtin_events,
	.stats = builtin_stats,
};

COVE_STACK_PROVIDER(builtin_ops);
