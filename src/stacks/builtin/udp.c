// SPDX-License-Identifier: Apache-2.0
/* UDP sockets: bind/connect, datagram rings, checksums, ICMP errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include "stacks/builtin/core.h"
#include "stacks/builtin/hash.h"
#include "stacks/builtin/ip6.h"

/*
 * Theory of operation
 *
 * Sockets live on one list (for udp_layer_fini) and, once bound, on a hash chain
 * by local port. Input looks a datagram's destination port up and prefers
 * a connected socket whose 4-tuple matches, then a bound one whose address
 * matches (an exact address beats INADDR_ANY). Broadcasts go to every
 * unconnected match. No socket: ICMP port unreachable (not for broadcasts).
 *
 * SO_REUSEPORT: unconnected sockets that all set it may share an address
 * and port; a unicast datagram for that address goes to one of them,
 * picked by the seeded hash of its 4-tuple (udp_reuseport_pick()), so one
 * flow always reaches the same socket while the group is unchanged and
 * flows spread evenly, as on Linux. The group is simply the matching
 * sockets on the port chain, counted and indexed in two passes.
 *
 * Each socket receives into a byte ring allocated when it is first bound
 * (explicitly or automatically): records of [len | addr | port | payload],
 * 4-byte aligned, never split across the ring's end (a record that does not
 * fit at the end starts at 0 and a wrap mark fills the gap). Queued bytes
 * (record sizes) are bounded by SO_RCVBUF; an empty queue takes any
 * datagram, as Linux does, which the ring's extra UDP_REC_MAX bytes
 * guarantee. Nothing is allocated per datagram.
 *
 * Errors: an ICMP error about a datagram of a connected socket sets
 * so_error when it is a hard error (port unreachable: ECONNREFUSED); the
 * next sendmsg() or recvmsg() returns it once, or SO_ERROR reads it.
 */

#define UDP_HLEN	8u
#define UDP_MAX_PAYLOAD (IP_MAX_TOTAL - IP_HLEN_ - UDP_HLEN) /* 65507 */
#define UDP_REC_HDR	12u
#define UDP_REC_MAX	(UDP_REC_HDR + ((UDP_MAX_PAYLOAD + 3u) & ~3u))
#define UDP_WRAP	0xffffffffu
#define UDP_HASH	256u
#define UDP_EPH_LO	32768u
#define UDP_EPH_HI	60999u
#define UDP_MIN_RCVBUF	2304u /* Linux's SOCK_MIN_RCVBUF */
#define UDP_MIN_SNDBUF	4608u
#define UDP_MAX_BUF	(16u << 20)

struct udp_sock {
	struct bsock b;			  /* first: the core's view */
	struct udp_sock *next, *prev;	  /* all sockets */
	struct udp_sock *hnext, **hpprev; /* port chain, bound only */
	uint32_t laddr, raddr;		  /* network order */
	uint16_t lport, rport;		  /* host order; lport 0: unbound */
	bool connected, addr_locked, port_locked;
	bool reuseaddr, reuseport, broadcast, keepalive;
	uint8_t shut; /* bit 0: SHUT_RD, bit 1: SHUT_WR */
	uint8_t tos, ttl;
	uint8_t pmtudisc;	  /* IP_MTU_DISCOVER, remembered only */
	bool recverr, pktinfo;	  /* IP_RECVERR, IP_PKTINFO, remembered only */
	struct cove_ip_mcopts mc; /* IP_MULTICAST_*, remembered only */
	int err;		  /* pending so_error, positive errno */
	uint32_t rcvbuf, sndbuf;  /* SO_RCVBUF/SO_SNDBUF as reported */
	uint8_t *ring;
	uint32_t ring_size, head, tail; /* byte offsets; head == tail: empty */
	uint32_t used;			/* bytes of records queued */
	uint32_t nrec;
};

struct udp_ctx {
	struct udp_sock *all;
	struct udp_sock *hash[UDP_HASH];
	uint64_t mem;  /* bytes queued in all rings */
	uint64_t seed; /* SO_REUSEPORT flow hash */
};

#define SHUT_RD_BIT 1u
#define SHUT_WR_BIT 2u

static const struct bproto udp_proto;

static inline struct udp_sock *udp_sk(struct bsock *s)
{
	return (struct udp_sock *)s;
}

static inline uint32_t rec_size(uint32_t len)
{
	return UDP_REC_HDR + ((len + 3u) & ~3u);
}

/* udp_notify() - tell the host what the socket reports now. */
static void udp_notify(struct udp_sock *u)
{
	bstack_notify(&u->b, udp_proto.events(&u->b));
}

/* udp_hash_add() - put a bound socket on its port chain. */
static void udp_hash_add(struct bstack *st, struct udp_sock *u)
{
	struct udp_sock **h = &st->udp->hash[u->lport % UDP_HASH];

	u->hnext = *h;
	if (u->hnext)
		u->hnext->hpprev = &u->hnext;
	*h = u;
	u->hpprev = h;
}

static void udp_hash_del(struct udp_sock *u)
{
	if (!u->hpprev)
		return;
	*u->hpprev = u->hnext;
	if (u->hnext)
		u->hnext->hpprev = u->hpprev;
	u->hnext = NULL;
	u->hpprev = NULL;
}

/* udp_ring_alloc() - make sure @u has a ring sized for its SO_RCVBUF. */
static int udp_ring_alloc(struct udp_sock *u)
{
	if (u->ring)
		return 0;
	u->ring_size = ((u->rcvbuf + 3u) & ~3u) + UDP_REC_MAX;
	u->ring = malloc(u->ring_size);
	return u->ring ? 0 : -ENOBUFS;
}

/* udp_ring_clear() - discard every queued datagram. */
static void udp_ring_clear(struct bstack *st, struct udp_sock *u)
{
	st->udp->mem -= u->used;
	u->head = u->tail = u->used = u->nrec = 0;
}

/**
 * udp_ring_push() - queue one datagram
 * @st:		stack (memory accounting)
 * @u:		socket with a ring
 * @addr:	source address, network order
 * @port:	source port, host order
 * @data:	payload, @len bytes
 *
 * Return: true when queued, false when the queue is full.
 */
static bool udp_ring_push(struct bstack *st, struct udp_sock *u, uint32_t addr,
			  uint16_t port, const uint8_t *data, uint32_t len)
{
	uint32_t need = rec_size(len), at, free_end;
	uint8_t *r;

	if (u->nrec && u->used + need > u->rcvbuf)
		return false;
	/* physical room: [tail, end) or from 0 before head */
	if (u->tail >= u->head && u->nrec) {
		free_end = u->ring_size - u->tail;
		if (free_end >= need) {
			at = u->tail;
		} else if (u->head > need) {
			if (free_end >= 4)
				memcpy(u->ring + u->tail,
				       &(uint32_t){ UDP_WRAP }, 4);
			at = 0;
		} else {
			return false;
		}
	} else if (u->nrec) {
		if (u->head - u->tail <= need)
			return false;
		at = u->tail;
	} else {
		u->head = u->tail = 0;
		at = 0;
	}
	if (at + need > u->ring_size)
		return false;
	r = u->ring + at;
	memcpy(r, &len, 4);
	memcpy(r + 4, &addr, 4);
	memcpy(r + 8, &port, 2);
	r[10] = r[11] = 0;
	memcpy(r + UDP_REC_HDR, data, len);
	u->tail = at + need;
	if (u->tail == u->ring_size)
		u->tail = 0;
	u->used += need;
	u->nrec++;
	st->udp->mem += need;
	return true;
}

/* udp_ring_front() - the oldest record, skipping a wrap mark. */
static const uint8_t *udp_ring_front(struct udp_sock *u, uint32_t *len,
				     uint32_t *addr, uint16_t *port)
{
	uint32_t l;

	if (!u->nrec)
		return NULL;
	if (u->ring_size - u->head < UDP_REC_HDR)
		u->head = 0;
	memcpy(&l, u->ring + u->head, 4);
	if (l == UDP_WRAP) {
		u->head = 0;
		memcpy(&l, u->ring, 4);
	}
	*len = l;
	memcpy(addr, u->ring + u->head + 4, 4);
	memcpy(port, u->ring + u->head + 8, 2);
	return u->ring + u->head + UDP_REC_HDR;
}

/*
 * udp_ring_pop() - drop the front record, whose payload is @len bytes (as
 * udp_ring_front() said). An empty ring restarts at offset 0, so the
 * next record never needs to wrap.
 */
static void udp_ring_pop(struct bstack *st, struct udp_sock *u, uint32_t len)
{
	uint32_t need = rec_size(len);

	u->head += need;
	if (u->head >= u->ring_size)
		u->head = 0;
	u->used -= need;
	u->nrec--;
	st->udp->mem -= need;
	if (!u->nrec)
		u->head = u->tail = 0;
}

/* udp_port_busy() - @port is taken for @addr with respect to @u's options. */
static bool udp_port_busy(struct bstack *st, const struct udp_sock *u,
			  uint32_t addr, uint16_t port)
{
	const struct udp_sock *o;

	for (o = st->udp->hash[port % UDP_HASH]; o; o = o->hnext) {
		if (o == u || o->lport != port)
			continue;
		if (o->laddr && addr && o->laddr != addr)
			continue;
		if ((u->reuseaddr && o->reuseaddr) ||
		    (u->reuseport && o->reuseport))
			continue;
		return true;
	}
	return false;
}

/**
 * udp_do_bind() - give @u a local address and port
 * @u:		unbound socket
 * @addr:	local address (network order), 0 for any
 * @port:	host order, 0 for an ephemeral port
 *
 * Return: 0, -EADDRINUSE, -ENOBUFS (no ring memory).
 */
static int udp_do_bind(struct udp_sock *u, uint32_t addr, uint16_t port)
{
	struct bstack *st = u->b.st;
	const uint32_t span = UDP_EPH_HI - UDP_EPH_LO + 1;
	uint32_t i, first;
	int ret;

	if (!port) {
		first = (uint32_t)(bstack_random(st) % span);
		for (i = 0; i < span; i++) {
			uint16_t p =
				(uint16_t)(UDP_EPH_LO + (first + i) % span);

			if (!udp_port_busy(st, u, addr, p)) {
				port = p;
				break;
			}
		}
		if (!port)
			return -EADDRINUSE;
	} else if (udp_port_busy(st, u, addr, port)) {
		return -EADDRINUSE;
	}
	ret = udp_ring_alloc(u);
	if (ret)
		return ret;
	u->laddr = addr;
	u->lport = port;
	udp_hash_add(st, u);
	return 0;
}

/* udp_addr_in() - check a sockaddr_in from the application. */
static int udp_addr_in(const struct sockaddr *a, socklen_t len,
		       const struct sockaddr_in **out)
{
	if (!a || len < sizeof(struct sockaddr_in))
		return -EINVAL;
	*out = (const struct sockaddr_in *)a;
	return 0;
}

/**
 * udp_bind() - bind(): an explicit local address and/or port
 * @s:		socket, not bound yet (not even implicitly by connect/send)
 * @a:		untrusted sockaddr from the host (length-checked)
 * @len:	its length
 *
 * The address must be INADDR_ANY, ours or 127.0.0.1 (not the rest of
 * 127/8, unlike TCP). Port 0 picks an ephemeral one. What was given
 * explicitly is locked: an AF_UNSPEC connect later keeps it. Allocates
 * the receive ring.
 *
 * Return: 0, -EINVAL (bound already, short address), -EAFNOSUPPORT,
 * -EADDRNOTAVAIL, -EADDRINUSE (also: no ephemeral port free) or -ENOBUFS.
 */
static int udp_bind(struct bsock *s, const struct sockaddr *a, socklen_t len)
{
	struct udp_sock *u = udp_sk(s);
	const struct sockaddr_in *sin;
	uint32_t addr;
	int ret;

	ret = udp_addr_in(a, len, &sin);
	if (ret)
		return ret;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	if (u->lport)
		return -EINVAL;
	addr = sin->sin_addr.s_addr;
	if (addr && addr != s->st->addr && addr != htonl(INADDR_LOOPBACK))
		return -EADDRNOTAVAIL;
	ret = udp_do_bind(u, addr, ntohs(sin->sin_port));
	if (ret)
		return ret;
	u->addr_locked = addr != 0;
	u->port_locked = sin->sin_port != 0;
	return 0;
}

/* udp_src_for() - the source address @u uses towards @dst. */
static uint32_t udp_src_for(const struct udp_sock *u, uint32_t dst)
{
	if (u->laddr)
		return u->laddr;
	return (((const uint8_t *)&dst)[0] == 127) ? htonl(INADDR_LOOPBACK) :
						     u->b.st->addr;
}

/* udp_disconnect() - AF_UNSPEC connect: forget the peer (Linux semantics). */
static int udp_disconnect(struct udp_sock *u)
{
	u->connected = false;
	u->raddr = 0;
	u->rport = 0;
	if (!u->addr_locked)
		u->laddr = 0;
	if (!u->port_locked && u->lport) {
		udp_hash_del(u);
		u->lport = 0;
	}
	return 0;
}

/**
 * udp_connect() - connect(): fix the peer, or forget it with AF_UNSPEC
 * @s:		socket
 * @a:		untrusted sockaddr from the host
 * @len:	its length
 *
 * Sends nothing. INADDR_ANY means loopback (Linux); a broadcast peer
 * needs SO_BROADCAST; a peer without a route fails now rather than at
 * send. An unbound socket is bound to an ephemeral port, and an unlocked
 * local address follows the route (127.0.0.1 for 127/8, else ours). Once
 * connected, input takes only datagrams from the peer (see the theory
 * block) and ICMP errors about it set so_error.
 *
 * Return: 0, -EINVAL, -EAFNOSUPPORT, -EACCES, -ENETUNREACH, or
 * udp_do_bind()'s errors.
 */
static int udp_connect(struct bsock *s, const struct sockaddr *a, socklen_t len)
{
	struct udp_sock *u = udp_sk(s);
	const struct sockaddr_in *sin;
	uint32_t dst, nh;
	int ret;

	if (a && len >= sizeof(sa_family_t) && a->sa_family == AF_UNSPEC)
		return udp_disconnect(u);
	ret = udp_addr_in(a, len, &sin);
	if (ret)
		return ret;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	dst = sin->sin_addr.s_addr;
	if (!dst)
		dst = htonl(INADDR_LOOPBACK); /* Linux: any means local */
	if (ip_is_bcast(s->st, dst) && !u->broadcast)
		return -EACCES;
	if (ip_route(s->st, dst, &nh))
		return -ENETUNREACH;
	if (!u->lport) {
		ret = udp_do_bind(u, 0, 0);
		if (ret)
			return ret;
	}
	if (!u->addr_locked)
		u->laddr = ((const uint8_t *)&dst)[0] == 127 ?
				   htonl(INADDR_LOOPBACK) :
				   s->st->addr;
	u->raddr = dst;
	u->rport = ntohs(sin->sin_port);
	u->connected = true;
	return 0;
}

/* udp_take_err() - return and clear the pending error (as -errno). */
static int udp_take_err(struct udp_sock *u)
{
	int e = u->err;

	u->err = 0;
	return -e;
}

/**
 * udp_sendmsg() - send one datagram
 * @s:		socket
 * @m:		msg_name (or the connected peer) and the payload iovec
 * @flags:	MSG_DONTWAIT and MSG_NOSIGNAL are accepted (nothing blocks)
 *
 * Return: bytes sent or negative errno (-EDESTADDRREQ, -EMSGSIZE, -EACCES
 * for broadcasts without SO_BROADCAST, -ENETUNREACH, -ENOBUFS, -EPIPE
 * after SHUT_WR, or a pending error once).
 */
static ssize_t udp_sendmsg(struct bsock *s, const struct msghdr *m, int flags)
{
	struct udp_sock *u = udp_sk(s);
	struct bstack *st = s->st;
	uint32_t dst, src;
	uint16_t dport;
	uint8_t h[UDP_HLEN];
	size_t total = 0, i;
	int ret;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (u->err)
		return udp_take_err(u);
	if (u->shut & SHUT_WR_BIT)
		return -EPIPE;
	if (m->msg_name) {
		const struct sockaddr_in *sin = m->msg_name;

		if (m->msg_namelen < sizeof(*sin))
			return -EINVAL;
		if (sin->sin_family != AF_INET && sin->sin_family != AF_UNSPEC)
			return -EAFNOSUPPORT;
		dst = sin->sin_addr.s_addr;
		dport = ntohs(sin->sin_port);
		if (!dport)
			return -EINVAL;
		if (!dst)
			dst = htonl(INADDR_LOOPBACK);
	} else if (u->connected) {
		dst = u->raddr;
		dport = u->rport;
	} else {
		return -EDESTADDRREQ;
	}
	for (i = 0; i < (size_t)m->msg_iovlen; i++) {
		total += m->msg_iov[i].iov_len;
		if (total > UDP_MAX_PAYLOAD)
			return -EMSGSIZE;
	}
	if (ip_is_bcast(st, dst) && !u->broadcast)
		return -EACCES;
	if (!u->lport) {
		ret = udp_do_bind(u, 0, 0);
		if (ret)
			return ret;
	}
	src = udp_src_for(u, dst);
	if (((const uint8_t *)&src)[0] == 127 && !ip_is_local(st, dst))
		return -EINVAL; /* bound to loopback, talking to the wire */
	cove_put16(h, u->lport);
	cove_put16(h + 2, dport);
	cove_put16(h + 4, (uint16_t)(UDP_HLEN + total));
	h[6] = h[7] = 0;
	ret = ip_send_dgram(st, src, dst, IP_PROTO_UDP, u->tos, u->ttl, h,
			    UDP_HLEN, m->msg_iov, (size_t)m->msg_iovlen, 6);
	if (ret)
		return ret;
	st->stats.udp_out++;
	return (ssize_t)total;
}

/* udp_fill_name() - copy a sockaddr_in out, Linux style (truncate, set len). */
static void udp_fill_name(void *dst, socklen_t *len, uint32_t addr,
			  uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = addr;
	sin.sin_port = htons(port);
	if (dst)
		memcpy(dst, &sin, *len < sizeof(sin) ? *len : sizeof(sin));
	*len = sizeof(sin);
}

/**
 * udp_recvmsg() - take (or peek at) the oldest datagram
 * @s:		socket
 * @m:		iovec to fill; msg_name/msg_namelen get the source,
 *		msg_flags MSG_TRUNC when the datagram did not fit
 * @flags:	MSG_PEEK, MSG_TRUNC (return the real length); MSG_DONTWAIT
 *		changes nothing
 *
 * Return: bytes copied (datagram length with MSG_TRUNC), 0 after SHUT_RD
 * on an empty queue, -EAGAIN when empty, or a pending error once.
 */
static ssize_t udp_recvmsg(struct bsock *s, struct msghdr *m, int flags)
{
	struct udp_sock *u = udp_sk(s);
	const uint8_t *data;
	uint32_t len, addr, copied = 0;
	uint16_t port;
	size_t i;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (u->err)
		return udp_take_err(u);
	data = udp_ring_front(u, &len, &addr, &port);
	if (!data)
		return (u->shut & SHUT_RD_BIT) ? 0 : -EAGAIN;
	for (i = 0; i < (size_t)m->msg_iovlen && copied < len; i++) {
		size_t n = m->msg_iov[i].iov_len;

		if (n > len - copied)
			n = len - copied;
		memcpy(m->msg_iov[i].iov_base, data + copied, n);
		copied += (uint32_t)n;
	}
	if (m->msg_name) {
		udp_fill_name(m->msg_name, &m->msg_namelen, addr, port);
	} else {
		m->msg_namelen = 0;
	}
	m->msg_controllen = 0;
	m->msg_flags = copied < len ? MSG_TRUNC : 0;
	if (!(flags & MSG_PEEK))
		udp_ring_pop(s->st, u, len);
	return (flags & MSG_TRUNC) ? (ssize_t)len : (ssize_t)copied;
}

/*
 * udp_shutdown() - shutdown(): set the SHUT_RD/SHUT_WR bits (how + 1 maps
 * SHUT_RD, SHUT_WR, SHUT_RDWR onto them). As on Linux the bits are set
 * even on an unconnected socket, which still gets -ENOTCONN.
 */
static int udp_shutdown(struct bsock *s, int how)
{
	struct udp_sock *u = udp_sk(s);

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	u->shut |= (uint8_t)(how + 1);
	udp_notify(u);
	return u->connected ? 0 : -ENOTCONN; /* Linux: flags set anyway */
}

/*
 * udp_free() - unlink @u from its port chain and the socket list, give
 * its queued bytes back to the context's count, free ring and socket.
 */
static void udp_free(struct bstack *st, struct udp_sock *u)
{
	udp_hash_del(u);
	udp_ring_clear(st, u);
	if (u->prev)
		u->prev->next = u->next;
	else
		st->udp->all = u->next;
	if (u->next)
		u->next->prev = u->prev;
	free(u->ring);
	free(u);
}

static void udp_close(struct bsock *s)
{
	udp_free(s->st, udp_sk(s));
}

/* udp_buf_val() - SO_RCVBUF/SO_SNDBUF: doubled and clamped like Linux. */
static uint32_t udp_buf_val(int v, uint32_t min)
{
	uint64_t d = v < 0 ? 0 : (uint64_t)v * 2;

	if (d < min)
		d = min;
	if (d > UDP_MAX_BUF)
		d = UDP_MAX_BUF;
	return (uint32_t)d;
}

/* udp_resize() - a new ring for a new SO_RCVBUF, keeping queued records. */
static int udp_resize(struct bstack *st, struct udp_sock *u, uint32_t rcvbuf)
{
	struct udp_sock tmp;
	const uint8_t *data;
	uint32_t len, addr;
	uint16_t port;

	if (!u->ring) {
		u->rcvbuf = rcvbuf;
		return 0;
	}
	memset(&tmp, 0, sizeof(tmp));
	tmp.rcvbuf = rcvbuf;
	if (udp_ring_alloc(&tmp))
		return -ENOMEM;
	while ((data = udp_ring_front(u, &len, &addr, &port)) != NULL) {
		udp_ring_push(st, &tmp, addr, port, data, len);
		udp_ring_pop(st, u, len);
	}
	free(u->ring);
	u->ring = tmp.ring;
	u->ring_size = tmp.ring_size;
	u->head = tmp.head;
	u->tail = tmp.tail;
	u->used = tmp.used;
	u->nrec = tmp.nrec;
	u->rcvbuf = rcvbuf;
	return 0;
}

/**
 * udp_setsockopt() - setsockopt() for IP_TOS, IP_TTL, IP_MTU_DISCOVER,
 * IP_RECVERR, IP_PKTINFO and SOL_SOCKET
 * @s:		socket
 * @level:	IPPROTO_IP or SOL_SOCKET
 * @name:	option
 * @val:	an int in host memory (IPPROTO_IP: or one byte, as Linux
 *		reads those)
 * @len:	its length, checked before @val is read
 *
 * IP_MULTICAST_* go to cove_ipopt_mc_set() (remembered and read back;
 * the stack sends no multicast). SO_RCVBUF and SO_SNDBUF are doubled and
 * clamped as on Linux; a new SO_RCVBUF on a bound socket moves the queued
 * datagrams to a new ring (those that no longer fit are dropped). IP_TTL
 * -1 restores the default (both go onto the datagrams). SO_KEEPALIVE is
 * only remembered, for
 * getsockopt(), and so are
 * IP_MTU_DISCOVER (the stack never sets DF nor learns a path MTU; values
 * outside IP_PMTUDISC_DONT..OMIT are EINVAL as on Linux), IP_RECVERR (no
 * error queue: ICMP errors still land in SO_ERROR) and IP_PKTINFO (the
 * sentry makes no control messages).
 *
 * Return: 0, -EINVAL (short value, bad TTL), -ENOMEM (new ring),
 * -ENOPROTOOPT.
 */
static int udp_setsockopt(struct bsock *s, int level, int name, const void *val,
			  socklen_t len)
{
	struct udp_sock *u = udp_sk(s);
	int v, ret;

	if (level == IPPROTO_IP) {
		ret = cove_ipopt_mc_set(&u->mc, false, name, val, len,
					ip_is_local_cb, s->st);
		if (ret != -ENOPROTOOPT)
			return ret;
		ret = cove_ipopt_read(val, len, &v); /* an int or one byte */
		if (ret < 0)
			return ret;
		switch (name) {
		case IP_TOS:
			u->tos = (uint8_t)v;
			return 0;
		case IP_TTL:
			if (v < -1 || v > 255 || v == 0)
				return -EINVAL;
			u->ttl = (uint8_t)(v < 0 ? 0 : v);
			return 0;
		case IP_MTU_DISCOVER:
			if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
				return -EINVAL;
			u->pmtudisc = (uint8_t)v;
			return 0;
		case IP_RECVERR:
			u->recverr = v != 0;
			return 0;
		case IP_PKTINFO:
			u->pktinfo = v != 0;
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	if (!val || len < sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	switch (name) {
	case SO_RCVBUF:
		return udp_resize(s->st, u, udp_buf_val(v, UDP_MIN_RCVBUF));
	case SO_SNDBUF:
		u->sndbuf = udp_buf_val(v, UDP_MIN_SNDBUF);
		return 0;
	case SO_REUSEADDR:
		u->reuseaddr = v != 0;
		return 0;
	case SO_REUSEPORT:
		u->reuseport = v != 0;
		return 0;
	case SO_BROADCAST:
		u->broadcast = v != 0;
		return 0;
	case SO_KEEPALIVE:
		u->keepalive = v != 0;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* udp_ip_opt() - an IPPROTO_IP option's value; Return: 0 or -ENOPROTOOPT. */
static int udp_ip_opt(const struct udp_sock *u, int name, int *v)
{
	switch (name) {
	case IP_TOS:
		*v = u->tos;
		return 0;
	case IP_TTL:
		*v = u->ttl ? u->ttl : 64;
		return 0;
	case IP_MTU_DISCOVER:
		*v = u->pmtudisc;
		return 0;
	case IP_RECVERR:
		*v = u->recverr;
		return 0;
	case IP_PKTINFO:
		*v = u->pktinfo;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/**
 * udp_getsockopt() - getsockopt() for what udp_setsockopt() sets, plus
 * SO_ERROR (read and cleared) and SO_TYPE
 * @s:		socket
 * @level:	IPPROTO_IP or SOL_SOCKET
 * @name:	option
 * @val:	output, an int in host memory
 * @len:	in: SOL_SOCKET at least sizeof(int) (no truncation, unlike
 *		TCP's), IPPROTO_IP as Linux (one byte into less); out: bytes
 *
 * Return: 0, -EINVAL (no room), -ENOPROTOOPT.
 */
static int udp_getsockopt(struct bsock *s, int level, int name, void *val,
			  socklen_t *len)
{
	struct udp_sock *u = udp_sk(s);
	int v, ret;

	if (level == IPPROTO_IP) {
		ret = cove_ipopt_mc_get(&u->mc, name, val, len);
		if (ret != -ENOPROTOOPT)
			return ret;
		ret = udp_ip_opt(u, name, &v);
		return ret < 0 ? ret : cove_ipopt_put(val, len, v);
	}
	if (!val || !len || *len < sizeof(int))
		return -EINVAL;
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	switch (name) {
	case SO_RCVBUF:
		v = (int)u->rcvbuf;
		break;
	case SO_SNDBUF:
		v = (int)u->sndbuf;
		break;
	case SO_REUSEADDR:
		v = u->reuseaddr;
		break;
	case SO_REUSEPORT:
		v = u->reuseport;
		break;
	case SO_BROADCAST:
		v = u->broadcast;
		break;
	case SO_KEEPALIVE:
		v = u->keepalive;
		break;
	case SO_ERROR:
		v = u->err;
		u->err = 0;
		break;
	case SO_TYPE:
		v = SOCK_DGRAM;
		break;
	default:
		return -ENOPROTOOPT;
	}
	memcpy(val, &v, sizeof(v));
	*len = sizeof(v);
	return 0;
}

static int udp_getsockname(struct bsock *s, struct sockaddr *a, socklen_t *len)
{
	struct udp_sock *u = udp_sk(s);

	if (!len)
		return -EINVAL;
	udp_fill_name(a, len, u->laddr, u->lport);
	return 0;
}

static int udp_getpeername(struct bsock *s, struct sockaddr *a, socklen_t *len)
{
	struct udp_sock *u = udp_sk(s);

	if (!u->connected)
		return -ENOTCONN;
	if (!len)
		return -EINVAL;
	udp_fill_name(a, len, u->raddr, u->rport);
	return 0;
}

/* udp_events() - EPOLL* bits as Linux's datagram_poll() reports them. */
static uint32_t udp_events(struct bsock *s)
{
	struct udp_sock *u = udp_sk(s);
	uint32_t ev = EPOLLOUT;

	if (u->nrec)
		ev |= EPOLLIN;
	if (u->err)
		ev |= EPOLLERR;
	if (u->shut & SHUT_RD_BIT)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (u->shut == (SHUT_RD_BIT | SHUT_WR_BIT))
		ev |= EPOLLHUP;
	return ev;
}

static int udp_no_listen(struct bsock *s, int backlog)
{
	(void)s;
	(void)backlog;
	return -EOPNOTSUPP;
}

static int udp_no_accept(struct bsock *s, struct bsock **out,
			 struct sockaddr *a, socklen_t *len)
{
	(void)s;
	(void)out;
	(void)a;
	(void)len;
	return -EOPNOTSUPP;
}

static const struct bproto udp_proto = {
	.bind = udp_bind,
	.listen = udp_no_listen,
	.accept = udp_no_accept,
	.connect = udp_connect,
	.sendmsg = udp_sendmsg,
	.recvmsg = udp_recvmsg,
	.shutdown = udp_shutdown,
	.close = udp_close,
	.setsockopt = udp_setsockopt,
	.getsockopt = udp_getsockopt,
	.getsockname = udp_getsockname,
	.getpeername = udp_getpeername,
	.events = udp_events,
};

/**
 * udp_socket() - a new, unbound UDP socket on the context's list
 * @st:		stack
 * @out:	the socket; builtin_socket() fills the core's fields
 *
 * Buffer sizes start at the stack's defaults. No ring yet: it is
 * allocated at the first bind, explicit or implicit, so an unused socket
 * costs only its struct.
 *
 * Return: 0 or -ENOMEM.
 */
int udp_socket(struct bstack *st, struct bsock **out)
{
	struct udp_sock *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->b.st = st;
	u->b.proto = &udp_proto;
	u->b.type = SOCK_DGRAM;
	u->rcvbuf = st->rcvbuf;
	u->pmtudisc = IP_PMTUDISC_WANT; /* Linux default, ip_no_pmtu_disc 0 */
	u->sndbuf = st->sndbuf;
	u->next = st->udp->all;
	if (u->next)
		u->next->prev = u;
	st->udp->all = u;
	*out = &u->b;
	return 0;
}

/* udp_deliver() - queue a datagram on @u; false when it had to be dropped. */
static bool udp_deliver(struct bstack *st, struct udp_sock *u, uint32_t src,
			uint16_t sport, const uint8_t *data, uint32_t len)
{
	if ((u->shut & SHUT_RD_BIT) || !u->ring ||
	    !udp_ring_push(st, u, src, sport, data, len)) {
		st->stats.rx_dropped++;
		return false;
	}
	st->stats.udp_in++;
	udp_notify(u);
	return true;
}

/* udp_reuseport_peer() - is @u in the same SO_REUSEPORT group as @best? */
static bool udp_reuseport_peer(const struct udp_sock *u,
			       const struct udp_sock *best)
{
	return u->reuseport && !u->connected && u->lport == best->lport &&
	       u->laddr == best->laddr;
}

/**
 * udp_reuseport_pick() - the member of @best's SO_REUSEPORT group for a flow
 * @st:		stack
 * @best:	an unconnected SO_REUSEPORT socket the datagram matched
 * @pkt:	the datagram's IP packet
 * @sport:	its source port, host order
 *
 * The group is every unconnected SO_REUSEPORT socket on the same address
 * and port. Two passes over the port chain: count, then take the member at
 * the hash's index.
 *
 * Return: the socket to deliver to (@best when it is alone).
 */
static struct udp_sock *udp_reuseport_pick(struct bstack *st,
					   struct udp_sock *best,
					   const struct ip_pkt *pkt,
					   uint16_t sport)
{
	struct udp_sock *head = st->udp->hash[best->lport % UDP_HASH], *u;
	uint32_t n = 0, k;

	for (u = head; u; u = u->hnext)
		n += udp_reuseport_peer(u, best);
	if (n < 2)
		return best;
	k = bstack_hash_pick(bstack_flow_hash(st->udp->seed, pkt->dst,
					      best->lport, pkt->src, sport),
			     n);
	for (u = head; u; u = u->hnext)
		if (udp_reuseport_peer(u, best) && !k--)
			return u;
	return best;
}

/**
 * udp_layer_input() - a received UDP datagram for us
 * @st:		stack
 * @pkt:	the IP packet (checked by IPv4; the UDP checksum is not yet)
 */
void udp_layer_input(struct bstack *st, const struct ip_pkt *pkt)
{
	struct udp_sock *u, *best = NULL;
	const uint8_t *h = pkt->l4;
	uint16_t sport, dport, ulen;
	bool bcast = ip_is_bcast(st, pkt->dst), any = false;
	int score = 0;

	if (pkt->l4_len < UDP_HLEN)
		goto malformed;
	sport = cove_get16(h);
	dport = cove_get16(h + 2);
	ulen = cove_get16(h + 4);
	if (ulen < UDP_HLEN || ulen > pkt->l4_len)
		goto malformed;
	if ((h[6] | h[7]) && !pkt->csum_ok &&
	    cove_csum_l4(pkt->src, pkt->dst, IP_PROTO_UDP, h, ulen)) {
		st->stats.rx_bad_csum++;
		st->stats.rx_dropped++;
		return;
	}
	for (u = st->udp->hash[dport % UDP_HASH]; u; u = u->hnext) {
		int sc;

		if (u->lport != dport)
			continue;
		if (u->laddr && u->laddr != pkt->dst && !bcast)
			continue;
		if (u->connected) {
			if (bcast || u->raddr != pkt->src || u->rport != sport)
				continue;
			sc = 3;
		} else {
			sc = u->laddr ? 2 : 1;
		}
		if (bcast) {
			any |= udp_deliver(st, u, pkt->src, sport, h + UDP_HLEN,
					   ulen - UDP_HLEN);
			continue;
		}
		if (sc > score) {
			score = sc;
			best = u;
		}
	}
	if (bcast) {
		if (!any)
			st->stats.udp_no_port++;
		return;
	}
	if (!best) {
		st->stats.udp_no_port++;
		icmp_send_error(st, pkt, 3, 3, 0); /* port unreachable */
		return;
	}
	if (best->reuseport && !best->connected)
		best = udp_reuseport_pick(st, best, pkt, sport);
	udp_deliver(st, best, pkt->src, sport, h + UDP_HLEN, ulen - UDP_HLEN);
	return;
malformed:
	st->stats.rx_malformed++;
	st->stats.rx_dropped++;
}

/* udp_icmp_errno() - errno for ICMP @type/@code; 0 unless a hard error. */
static int udp_icmp_errno(uint8_t type, uint8_t code)
{
	static const int unreach[16] = {
		[0] = ENETUNREACH,   [1] = EHOSTUNREACH,  [2] = ENOPROTOOPT,
		[3] = ECONNREFUSED,  [5] = EOPNOTSUPP,	  [6] = ENETUNREACH,
		[7] = EHOSTDOWN,     [8] = ENONET,	  [9] = ENETUNREACH,
		[10] = EHOSTUNREACH, [11] = ENETUNREACH,  [12] = EHOSTUNREACH,
		[13] = EHOSTUNREACH, [14] = EHOSTUNREACH, [15] = EHOSTUNREACH,
	};

	if (type == 3 && code < 16)
		return unreach[code]; /* code 4 (frag needed): soft, 0 */
	if (type == 12)
		return EPROTO;
	return 0; /* time exceeded: soft */
}

/**
 * udp_icmp_error() - an ICMP error about a datagram we sent
 * @st:		stack
 * @type:	ICMP type
 * @code:	ICMP code
 * @inner:	quoted IP header + at least 8 bytes (checked by icmp.c)
 * @inner_len:	bytes at @inner
 *
 * Like Linux without IP_RECVERR: only connected sockets learn hard errors.
 */
void udp_icmp_error(struct bstack *st, uint8_t type, uint8_t code,
		    const uint8_t *inner, uint32_t inner_len)
{
	uint32_t ihl = (inner[0] & 15) * 4u, src, dst;
	uint16_t sport, dport;
	struct udp_sock *u;
	int e = udp_icmp_errno(type, code);

	if (!e || inner_len < ihl + UDP_HLEN)
		return;
	src = rd32n(inner + 12);
	dst = rd32n(inner + 16);
	sport = cove_get16(inner + ihl);
	dport = cove_get16(inner + ihl + 2);
	for (u = st->udp->hash[sport % UDP_HASH]; u; u = u->hnext) {
		if (u->lport != sport || !u->connected || u->raddr != dst ||
		    u->rport != dport || (u->laddr && u->laddr != src))
			continue;
		u->err = e;
		udp_notify(u);
		return;
	}
}

/**
 * udp_layer_input6() - a received UDP/IPv6 datagram for us
 * @st:		stack
 * @pkt:	the IPv6 packet (chain walked; the checksum is not yet)
 *
 * No AF_INET6 socket exists yet: a valid datagram finds no port.
 */
void udp_layer_input6(struct bstack *st, const struct ip6_pkt *pkt)
{
	uint16_t ulen;

	if (pkt->l4_len < UDP_HLEN ||
	    (ulen = cove_get16(pkt->l4 + 4)) < UDP_HLEN || ulen > pkt->l4_len) {
		st->stats.rx_malformed++;
		st->stats.rx_dropped++;
		return;
	}
	if (!pkt->csum_ok &&
	    ip6_csum(&pkt->src, &pkt->dst, IPPROTO_UDP, pkt->l4, ulen)) {
		st->stats.rx_bad_csum++;
		st->stats.rx_dropped++;
		return;
	}
	st->stats.udp_no_port++;
	icmp6_send_error(st, pkt, 1, 4, 0); /* port unreachable */
}

void udp_icmp6_error(struct bstack *st, uint8_t type, uint8_t code,
		     uint32_t info, const uint8_t *inner, uint32_t inner_len)
{
	(void)st;
	(void)type;
	(void)code;
	(void)info;
	(void)inner;
	(void)inner_len;
}

int udp_layer_init(struct bstack *st)
{
	st->udp = calloc(1, sizeof(*st->udp));
	if (!st->udp)
		return -ENOMEM;
	st->udp->seed = bstack_random(st);
	return 0;
}

/* udp_layer_fini() - free every socket the host left open. */
void udp_layer_fini(struct bstack *st)
{
	if (!st->udp)
		return;
	while (st->udp->all)
		udp_free(st, st->udp->all);
	free(st->udp);
	st->udp = NULL;
}

void udp_stats(struct bstack *st, struct cove_stack_stats *out)
{
	out->mem_bytes += st->udp->mem;
}
