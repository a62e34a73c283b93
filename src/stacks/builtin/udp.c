// SPDX-License-Identifier: Apache-2.0
/* UDP sockets over IPv4 and IPv6 (dual stack): bind/connect, datagram rings, checksums, ICMP errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include "stacks/builtin/hash.h"
#include "stacks/builtin/udp.h"
#include "stacks/builtin/udp6.h"

/*
 * Theory of operation
 *
 * Sockets live on one list (for udp_layer_fini) and, once bound, on a hash chain
 * by local port. Input looks a datagram's destination port up and prefers
 * a connected socket whose 4-tuple matches, then a bound one whose address
 * matches (an exact address beats INADDR_ANY). Broadcasts go to every
 * unconnected match; datagrams to an IPv4 group to every socket on the
 * port bound to the group or a wildcard (connected ones only from their
 * peer) that its group filter or IP_MULTICAST_ALL lets through
 * (udp_mcast.c, which also keeps the memberships). No socket: ICMP port
 * unreachable (not for broadcasts and groups).
 *
 * SO_REUSEPORT: unconnected sockets that all set it may share an address
 * and port; a unicast datagram for that address goes to one of them,
 * picked by the seeded hash of its 4-tuple (udp_reuseport_pick()), so one
 * flow always reaches the same socket while the group is unchanged and
 * flows spread evenly, as on Linux. The group is simply the matching
 * sockets on the port chain, counted and indexed in two passes.
 *
 * Each socket receives into a byte ring (udp_ring.c) that its first
 * datagram allocates from the stack's memory budget and that grows with
 * what the socket is sent, bounded by SO_RCVBUF.
 *
 * Errors: an ICMP error about a datagram of a connected socket sets
 * so_error when it is a hard error (port unreachable: ECONNREFUSED); the
 * next sendmsg() or recvmsg() returns it once, or SO_ERROR reads it.
 *
 * Both families, one shape: addresses are struct in6_addr, IPv4 in the
 * mapped form ::ffff:a.b.c.d; an AF_INET socket's wildcard is
 * ::ffff:0.0.0.0, an AF_INET6 socket's is ::. An AF_INET6 socket is dual
 * stack as on Linux: unless IPV6_V6ONLY, its [::] also takes IPv4 (peers
 * reported as mapped addresses), a mapped destination sends IPv4 (the
 * socket's IP_TOS/IP_TTL apply), and its IPv4 side conflicts with AF_INET
 * binds on the port (udp_overlap()). Which family a datagram takes is
 * decided by its destination alone: ip_send_dgram() or ip6_send_dgram().
 * The sockaddr_in6 edges (lengths, families, scope ids, IPV6_PKTINFO) are
 * in udp6.c.
 */

#define UDP_MAX_PAYLOAD (IP_MAX_TOTAL - IP_HLEN_ - UDP_HLEN) /* 65507 */
#define UDP_EPH_LO	32768u
#define UDP_EPH_HI	60999u
#define UDP_MIN_RCVBUF	2304u /* Linux's SOCK_MIN_RCVBUF */
#define UDP_MIN_SNDBUF	4608u
#define UDP_MAX_BUF	(16u << 20)

#define SHUT_RD_BIT 1u
#define SHUT_WR_BIT 2u

static const struct bproto udp_proto;

static inline struct udp_sock *udp_sk(struct bsock *s)
{
	return (struct udp_sock *)s;
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

/* udp_any() - @a is a wildcard of either family (:: or ::ffff:0.0.0.0). */
static bool udp_any(const struct in6_addr *a)
{
	return ip6_is_any(a) || (ipx_is_v4(a) && !ipx_v4(a));
}

/* udp_wild() - @u's wildcard: ::ffff:0.0.0.0 (AF_INET) or :: (AF_INET6). */
static struct in6_addr udp_wild(const struct udp_sock *u)
{
	return u->domain == AF_INET6 ? in6addr_any : ipx_from_v4(0);
}

/*
 * udp_v4side() - @u, bound to @a, takes IPv4: AF_INET, or AF_INET6 on a
 * mapped address or on [::] without IPV6_V6ONLY
 */
static bool udp_v4side(const struct udp_sock *u, const struct in6_addr *a)
{
	return u->domain == AF_INET || ipx_is_v4(a) ||
	       (ip6_is_any(a) && !u->v6only);
}

/* udp_v6side() - @u, bound to @a, takes IPv6: AF_INET6, not mapped. */
static bool udp_v6side(const struct udp_sock *u, const struct in6_addr *a)
{
	return u->domain == AF_INET6 && !ipx_is_v4(a);
}

/*
 * udp_overlap() - @u bound to @a and @o bound to its laddr would take
 * some of the same datagrams: both sides of a family, and one a wildcard
 * of it or both the same address (Linux's ipv6_rcv_saddr_equal())
 */
static bool udp_overlap(const struct udp_sock *u, const struct in6_addr *a,
			const struct udp_sock *o)
{
	const struct in6_addr *b = &o->laddr;

	if (udp_v4side(u, a) && udp_v4side(o, b) &&
	    (udp_any(a) || udp_any(b) || ipx_v4(a) == ipx_v4(b)))
		return true;
	return udp_v6side(u, a) && udp_v6side(o, b) &&
	       (ip6_is_any(a) || ip6_is_any(b) || ipx_eq(a, b));
}

/* udp_port_busy() - @port is taken for @addr with respect to @u's options. */
static bool udp_port_busy(struct bstack *st, const struct udp_sock *u,
			  const struct in6_addr *addr, uint16_t port)
{
	const struct udp_sock *o;

	for (o = st->udp->hash[port % UDP_HASH]; o; o = o->hnext) {
		if (o == u || o->lport != port)
			continue;
		if (!udp_overlap(u, addr, o))
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
 * @addr:	local address (IPv4 mapped), or the socket's wildcard
 * @port:	host order, 0 for an ephemeral port
 *
 * Return: 0 or -EADDRINUSE.
 */
static int udp_do_bind(struct udp_sock *u, const struct in6_addr *addr,
		       uint16_t port)
{
	struct bstack *st = u->b.st;
	const uint32_t span = UDP_EPH_HI - UDP_EPH_LO + 1;
	uint32_t i, first;

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
	u->laddr = *addr;
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

/*
 * udp_v4_bindable() - IPv4 @a is any, ours, 127.0.0.1 (not all 127/8) or
 * a group (Linux: it then takes only that group's datagrams)
 */
static int udp_v4_bindable(const struct bstack *st, uint32_t a)
{
	return !a || a == st->addr || a == htonl(INADDR_LOOPBACK) ||
			       ip_is_mcast(a) ?
		       0 :
		       -EADDRNOTAVAIL;
}

/*
 * udp_bind_name() - the address and port bind() names, checked: for
 * AF_INET6 sockets through udp6_name() (a mapped address is refused with
 * IPV6_V6ONLY; an IPv6 one must be ours, or a group, with a scope id for
 * link-local ones). Return: 0 or bind()'s errors.
 */
static int udp_bind_name(struct udp_sock *u, const struct sockaddr *a,
			 socklen_t len, struct in6_addr *addr, uint16_t *port)
{
	struct bstack *st = u->b.st;
	const struct sockaddr_in *sin;
	struct udp_name n;
	int ret;

	if (u->domain == AF_INET) {
		ret = udp_addr_in(a, len, &sin);
		if (ret)
			return ret;
		if (sin->sin_family != AF_INET)
			return -EAFNOSUPPORT;
		n.a = ipx_from_v4(sin->sin_addr.s_addr);
		n.port = ntohs(sin->sin_port);
	} else {
		ret = udp6_name(a, len, UDP6_BIND, u->v6only, &n);
		if (ret)
			return ret;
		if (ipx_is_v4(&n.a) && u->v6only)
			return -EINVAL;
	}
	if (u->lport)
		return -EINVAL;
	if (ipx_is_v4(&n.a)) {
		ret = udp_v4_bindable(st, ipx_v4(&n.a));
	} else if (!ip6_is_any(&n.a)) {
		ret = udp6_scope_ok(st, &n.a, n.scope, false);
		if (!ret && !ip6_is_local(st, &n.a) && !ip6_is_mc(&n.a))
			ret = -EADDRNOTAVAIL;
		u->bound_if = !ret && n.scope;
	}
	*addr = n.a;
	*port = n.port;
	return ret;
}

/**
 * udp_bind() - bind(): an explicit local address and/or port
 * @s:		socket, not bound yet (not even implicitly by connect/send)
 * @a:		untrusted sockaddr from the host (length-checked)
 * @len:	its length
 *
 * The address must be a wildcard, ours or 127.0.0.1 (not the rest of
 * 127/8, unlike TCP); for AF_INET6 also ::1 and our IPv6 addresses (see
 * udp_bind_name()). Port 0 picks an ephemeral one. What was given
 * explicitly is locked: an AF_UNSPEC connect later keeps it. Allocates
 * the receive ring.
 *
 * Return: 0, -EINVAL (bound already, short address), -EAFNOSUPPORT,
 * -EADDRNOTAVAIL, -ENODEV (a scope id not ours), -EADDRINUSE (also: no
 * ephemeral port free) or -ENOBUFS.
 */
static int udp_bind(struct bsock *s, const struct sockaddr *a, socklen_t len)
{
	struct udp_sock *u = udp_sk(s);
	struct in6_addr addr;
	uint16_t port;
	int ret;

	ret = udp_bind_name(u, a, len, &addr, &port);
	if (ret)
		return ret;
	ret = udp_do_bind(u, &addr, port);
	if (ret)
		return ret;
	u->addr_locked = !udp_any(&addr);
	u->port_locked = port != 0;
	return 0;
}

/*
 * udp_src_for() - the IPv4 source address @u uses towards @dst: the bound
 * one (a group it is bound to is no source), to a group IP_MULTICAST_IF's
 * address, else by route.
 */
static uint32_t udp_src_for(const struct udp_sock *u, uint32_t dst)
{
	if (ipx_is_v4(&u->laddr) && ipx_v4(&u->laddr) &&
	    !ip_is_mcast(ipx_v4(&u->laddr)))
		return ipx_v4(&u->laddr);
	if (ip_is_mcast(dst) && u->mc.ifaddr)
		return u->mc.ifaddr;
	return (((const uint8_t *)&dst)[0] == 127) ? htonl(INADDR_LOOPBACK) :
						     u->b.st->addr;
}

/* udp_disconnect() - AF_UNSPEC connect: forget the peer (Linux semantics). */
static int udp_disconnect(struct udp_sock *u)
{
	u->connected = false;
	u->raddr = in6addr_any;
	u->rport = 0;
	if (!u->addr_locked)
		u->laddr = udp_wild(u);
	if (!u->port_locked && u->lport) {
		udp_hash_del(u);
		u->lport = 0;
	}
	return 0;
}

/*
 * udp_peer() - the peer address connect() or sendmsg() names, mapped for
 * IPv4 (AF_INET sockets: a sockaddr_in, AF_UNSPEC taken as AF_INET by
 * sendmsg as on Linux; AF_INET6 sockets: udp6_name()).
 * Return: 0 or the call's -EINVAL/-EAFNOSUPPORT/-ENETUNREACH.
 */
static int udp_peer(const struct udp_sock *u, const struct sockaddr *a,
		    socklen_t len, enum udp6_op op, struct udp_name *n)
{
	const struct sockaddr_in *sin;
	int ret;

	if (u->domain == AF_INET6)
		return udp6_name(a, len, op, u->v6only, n);
	ret = udp_addr_in(a, len, &sin);
	if (ret)
		return ret;
	if (sin->sin_family != AF_INET &&
	    !(op == UDP6_SEND && sin->sin_family == AF_UNSPEC))
		return -EAFNOSUPPORT;
	memset(n, 0, sizeof(*n));
	n->a = ipx_from_v4(sin->sin_addr.s_addr);
	n->port = ntohs(sin->sin_port);
	return 0;
}

/*
 * udp_fix_any() - a wildcard peer means this host (Linux): 127.0.0.1 for
 * IPv4 and for an AF_INET6 socket bound to a mapped address, else ::1.
 */
static void udp_fix_any(const struct udp_sock *u, struct in6_addr *dst)
{
	if (ipx_is_v4(dst) && !ipx_v4(dst))
		*dst = ipx_from_v4(htonl(INADDR_LOOPBACK));
	else if (ip6_is_any(dst))
		*dst = ipx_is_v4(&u->laddr) ?
			       ipx_from_v4(htonl(INADDR_LOOPBACK)) :
			       in6addr_loopback;
}

/*
 * udp_route() - can @u reach @n (mapped for IPv4), and from which source
 * @src:	set to the source address (mapped for IPv4); sendmsg() passes
 *		its IPV6_PKTINFO source in it, or ::
 * @conn:	for connect(): a link-local peer needs a scope id (or a
 *		socket tied to the link), as on Linux; sendmsg() takes one
 *		without (our one link is the route)
 *
 * A family the socket's bound address excludes is refused: IPv4 with
 * IPV6_V6ONLY or from a socket bound to an IPv6 address, IPv6 from one
 * bound to a mapped one. A broadcast needs SO_BROADCAST. A scope id that
 * is not our link's has no route.
 *
 * Return: 0, -ENETUNREACH, -EACCES, -EINVAL, -ENODEV, -EADDRNOTAVAIL.
 */
static int udp_route(const struct udp_sock *u, const struct udp_name *n,
		     struct in6_addr *src, bool conn)
{
	const struct bstack *st = u->b.st;
	bool bound = !udp_any(&u->laddr);
	uint32_t nh;
	int ret;

	if (ipx_is_v4(&n->a)) {
		if (u->v6only || (bound && !ipx_is_v4(&u->laddr)))
			return -ENETUNREACH;
		if (ip_is_bcast(st, ipx_v4(&n->a)) && !u->broadcast)
			return -EACCES;
		if (ip_route(st, ipx_v4(&n->a), &nh))
			return -ENETUNREACH;
		*src = ipx_from_v4(udp_src_for(u, ipx_v4(&n->a)));
		return 0;
	}
	if (bound && ipx_is_v4(&u->laddr))
		return -ENETUNREACH;
	ret = udp6_scope_ok(st, &n->a, n->scope, u->bound_if || !conn);
	if (ret)
		return ret == -ENODEV ? -ENETUNREACH : ret;
	if (!ip6_is_any(src))
		return 0; /* IPV6_PKTINFO chose it (checked as ours) */
	if (bound && !ip6_is_mc(&u->laddr)) {
		struct in6_addr any;

		ret = ip6_src_for(st, &n->a, &any);
		if (ret == -ENETUNREACH)
			return ret; /* only the route matters: it is ours */
		*src = u->laddr;
		return 0;
	}
	return ip6_src_for(st, &n->a, src);
}

/**
 * udp_connect() - connect(): fix the peer, or forget it with AF_UNSPEC
 * @s:		socket
 * @a:		untrusted sockaddr from the host
 * @len:	its length
 *
 * Sends nothing. A wildcard means loopback (Linux); the rest is
 * udp_route(): a peer without a route fails now rather than at send. An
 * unbound socket is bound to an ephemeral port, and an unlocked local
 * address follows the route. Once connected, input takes only datagrams
 * from the peer (see the theory block) and ICMP errors about it set
 * so_error. An AF_INET6 socket may connect to an IPv4 peer (a sockaddr_in
 * or a mapped address): it is then an IPv4 socket that reports mapped
 * addresses.
 *
 * Return: 0, -EINVAL, -EAFNOSUPPORT, -EACCES, -ENETUNREACH, or
 * udp_do_bind()'s errors.
 */
static int udp_connect(struct bsock *s, const struct sockaddr *a, socklen_t len)
{
	struct udp_sock *u = udp_sk(s);
	struct in6_addr src = in6addr_any, wild = udp_wild(u);
	struct udp_name n;
	int ret;

	if (a && len >= sizeof(sa_family_t) && a->sa_family == AF_UNSPEC)
		return udp_disconnect(u);
	ret = udp_peer(u, a, len, UDP6_CONNECT, &n);
	if (ret)
		return ret;
	udp_fix_any(u, &n.a);
	ret = udp_route(u, &n, &src, true);
	if (ret)
		return ret;
	if (!u->lport) {
		ret = udp_do_bind(u, &wild, 0);
		if (ret)
			return ret;
	}
	if (!u->addr_locked)
		u->laddr = src;
	if (n.scope)
		u->bound_if = true;
	u->raddr = n.a;
	u->rport = n.port;
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

/* udp_payload() - the bytes of @m's iovec; -EMSGSIZE above @max. */
static ssize_t udp_payload(const struct msghdr *m, size_t max)
{
	size_t total = 0, i;

	for (i = 0; i < (size_t)m->msg_iovlen; i++) {
		total += m->msg_iov[i].iov_len;
		if (total > max)
			return -EMSGSIZE;
	}
	return (ssize_t)total;
}

/*
 * udp_send6() - one IPv6 datagram of @total bytes from @src to @dst; with
 * IPV6_MTU_DISCOVER DO (path MTU) or PROBE (link MTU) a datagram that
 * does not fit is refused instead of fragmented (Linux's ignore_df).
 * Return: 0 or -EMSGSIZE and ip6_send_dgram()'s errors.
 */
static int udp_send6(struct udp_sock *u, const struct in6_addr *src,
		     const struct udp_name *dst, const struct msghdr *m,
		     size_t total)
{
	struct bstack *st = u->b.st;
	uint8_t h[UDP_HLEN];
	uint32_t mtu;

	if (u->pmtudisc6 == IPV6_PMTUDISC_DO ||
	    u->pmtudisc6 == IPV6_PMTUDISC_PROBE) {
		mtu = u->pmtudisc6 == IPV6_PMTUDISC_DO ?
			      ip6_path_mtu(st, &dst->a) :
			      ip6_path_mtu(st, &in6addr_any);
		if (total + UDP_HLEN + IP6_HLEN_ > mtu)
			return -EMSGSIZE;
	}
	cove_put16(h, u->lport);
	cove_put16(h + 2, dst->port);
	cove_put16(h + 4, (uint16_t)(UDP_HLEN + total));
	h[6] = h[7] = 0;
	/* to a group: hop limit 1, Linux's IPV6_MULTICAST_HOPS default */
	return ip6_send_dgram(st, src, &dst->a, IPPROTO_UDP, u->tclass,
			      ip6_is_mc(&dst->a) ? 1 : u->hops, h, UDP_HLEN,
			      m->msg_iov, (size_t)m->msg_iovlen, 6);
}

/*
 * udp_send4() - one IPv4 datagram of @total bytes to @dst (mapped); to a
 * group with IP_MULTICAST_TTL (default 1) and, unless IP_MULTICAST_LOOP
 * is off, a copy for our own sockets in it.
 */
static int udp_send4(struct udp_sock *u, const struct udp_name *dst,
		     const struct msghdr *m, size_t total)
{
	struct bstack *st = u->b.st;
	uint32_t d = ipx_v4(&dst->a), src = udp_src_for(u, d);
	uint8_t h[UDP_HLEN], ttl = u->ttl;
	unsigned flags = 0;

	if (total > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (((const uint8_t *)&src)[0] == 127 && !ip_is_local(st, d))
		return -EINVAL; /* bound to loopback, talking to the wire */
	cove_put16(h, u->lport);
	cove_put16(h + 2, dst->port);
	cove_put16(h + 4, (uint16_t)(UDP_HLEN + total));
	h[6] = h[7] = 0;
	if (ip_is_mcast(d)) {
		ttl = u->mc.ttl_set ? u->mc.ttl : 1;
		flags = (u->mc.noloop ? 0 : IP_TX_MC_LOOP) |
			(ttl ? 0 : IP_TX_TTL0);
	}
	return ip_send_dgram(st, src, d, IP_PROTO_UDP, u->tos, ttl, h, UDP_HLEN,
			     m->msg_iov, (size_t)m->msg_iovlen, 6, flags);
}

/*
 * udp_dest() - where sendmsg() sends: msg_name or the connected peer.
 * Return: 0, -EDESTADDRREQ, -EINVAL (port 0), udp_peer()'s errors.
 */
static int udp_dest(const struct udp_sock *u, const struct msghdr *m,
		    struct udp_name *n)
{
	int ret;

	if (m->msg_name) {
		ret = udp_peer(u, m->msg_name, m->msg_namelen, UDP6_SEND, n);
		if (ret)
			return ret;
		if (!n->unspec) {
			if (!n->port)
				return -EINVAL;
			udp_fix_any(u, &n->a);
			return 0;
		}
	}
	if (!u->connected)
		return -EDESTADDRREQ;
	memset(n, 0, sizeof(*n));
	n->a = u->raddr;
	n->port = u->rport;
	return 0;
}

/**
 * udp_sendmsg() - send one datagram
 * @s:		socket
 * @m:		msg_name (or the connected peer), the payload iovec and, for
 *		AF_INET6 sockets, an IPV6_PKTINFO control message (source)
 * @flags:	MSG_DONTWAIT and MSG_NOSIGNAL are accepted (nothing blocks)
 *
 * The destination decides the family (udp_route()): a mapped one goes
 * out as IPv4 with the socket's IP_TOS and IP_TTL, an IPv6 one with its
 * IPV6_TCLASS and IPV6_UNICAST_HOPS.
 *
 * Return: bytes sent or negative errno (-EDESTADDRREQ, -EMSGSIZE, -EACCES
 * for broadcasts without SO_BROADCAST, -ENETUNREACH, -ENOBUFS, -EPIPE
 * after SHUT_WR, -EINVAL, -ENODEV, or a pending error once).
 */
static ssize_t udp_sendmsg(struct bsock *s, const struct msghdr *m, int flags)
{
	struct udp_sock *u = udp_sk(s);
	struct bstack *st = s->st;
	struct in6_addr src = in6addr_any, wild = udp_wild(u);
	struct udp_name dst;
	ssize_t total;
	int ret;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (u->err)
		return udp_take_err(u);
	if (u->shut & SHUT_WR_BIT)
		return -EPIPE;
	ret = udp_dest(u, m, &dst);
	if (ret)
		return ret;
	total = udp_payload(m, ipx_is_v4(&dst.a) ? UDP_MAX_PAYLOAD :
						   UDP6_MAX_PAYLOAD);
	if (total < 0)
		return total;
	if (u->domain == AF_INET6 && m->msg_controllen &&
	    (ret = udp6_get_pktinfo(st, m, &src)))
		return ret;
	ret = udp_route(u, &dst, &src, false);
	if (ret)
		return ret;
	if (!u->lport) {
		ret = udp_do_bind(u, &wild, 0);
		if (ret)
			return ret;
	}
	ret = ipx_is_v4(&dst.a) ? udp_send4(u, &dst, m, (size_t)total) :
				  udp_send6(u, &src, &dst, m, (size_t)total);
	if (ret)
		return ret;
	st->stats.udp_out++;
	return total;
}

/*
 * udp_fill_name() - copy an address out, Linux style (truncate, set len):
 * a sockaddr_in for AF_INET sockets, a sockaddr_in6 (IPv4 mapped, scope
 * id for link-local) for AF_INET6 ones.
 */
static void udp_fill_name(const struct udp_sock *u, void *dst, socklen_t *len,
			  const struct in6_addr *addr, uint16_t port)
{
	struct sockaddr_in sin;

	if (u->domain == AF_INET6) {
		udp6_fill_name(u->b.st, dst, len, addr, port);
		return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = ipx_v4(addr);
	sin.sin_port = htons(port);
	if (dst)
		memcpy(dst, &sin, *len < sizeof(sin) ? *len : sizeof(sin));
	*len = sizeof(sin);
}

/*
 * udp_put_pktinfo() - an IP_PKTINFO control message for a received IPv4
 * datagram, at *@used in @m's control buffer (MSG_CTRUNC when it does not
 * fit): the interface (lo for 127/8 and for ourselves to ourselves), our
 * address it reached (ours for a group or broadcast, as Linux's
 * fib_compute_spec_dst()) and its destination.
 */
static void udp_put_pktinfo(const struct bstack *st, struct msghdr *m,
			    size_t *used, const struct udp_meta *meta)
{
	uint32_t dst = ipx_v4(&meta->dst), src = ipx_v4(&meta->src);
	struct in_pktinfo pi = { .ipi_addr.s_addr = dst };
	bool lo = ((const uint8_t *)&dst)[0] == 127 ||
		  (dst == st->addr && src == st->addr);

	pi.ipi_ifindex = lo ? 1 : (int)ip6_ifindex(st);
	pi.ipi_spec_dst.s_addr = ip_is_local(st, dst) ? dst : st->addr;
	udp_put_cmsg(m, used, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
}

/**
 * udp_recvmsg() - take (or peek at) the oldest datagram
 * @s:		socket
 * @m:		iovec to fill; msg_name/msg_namelen get the source,
 *		msg_flags MSG_TRUNC when the datagram did not fit; with
 *		IP_PKTINFO an IP_PKTINFO control message (IPv4), with
 *		IPV6_RECVPKTINFO an IPV6_PKTINFO one (the destination,
 *		mapped for IPv4), MSG_CTRUNC when one did not fit
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
	struct udp_meta meta;
	uint32_t len, copied = 0;
	size_t i, cused = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (u->err)
		return udp_take_err(u);
	data = udp_ring_front(u, &len, &meta);
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
		udp_fill_name(u, m->msg_name, &m->msg_namelen, &meta.src,
			      meta.port);
	} else {
		m->msg_namelen = 0;
	}
	m->msg_flags = copied < len ? MSG_TRUNC : 0;
	if (u->pktinfo && ipx_is_v4(&meta.dst))
		udp_put_pktinfo(s->st, m, &cused, &meta);
	if (u->pktinfo6)
		udp6_put_pktinfo(s->st, m, &cused, &meta.dst);
	m->msg_controllen = cused;
	if (!(flags & MSG_PEEK)) {
		udp_ring_pop(u, len);
		udp_ring_release(s->st, u);
	}
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
 * its ring back to the memory budget, free the socket.
 */
static void udp_free(struct bstack *st, struct udp_sock *u)
{
	udp_mc_free(u);
	udp_hash_del(u);
	bmem_unwait(&u->b);
	if (u->prev)
		u->prev->next = u->next;
	else
		st->udp->all = u->next;
	if (u->next)
		u->next->prev = u->prev;
	bmem_free(st, u->ring, u->ring_size);
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

/*
 * udp_resize() - a new SO_RCVBUF: a ring now larger than it allows moves
 * into one of the allowed size (records beyond the new limit dropped); a
 * smaller one stays and grows on demand. Return: 0 or -ENOBUFS.
 */
static int udp_resize(struct bstack *st, struct udp_sock *u, uint32_t rcvbuf)
{
	uint32_t old = u->rcvbuf;

	u->rcvbuf = rcvbuf;
	if (!u->ring || u->ring_size <= udp_ring_full(u))
		return 0;
	if (udp_ring_move(st, u, udp_ring_full(u)) < 0) {
		u->rcvbuf = old;
		return -ENOBUFS;
	}
	return 0;
}

/*
 * udp_byte_val() - IPV6_UNICAST_HOPS/IPV6_TCLASS: -1 (the default, kept
 * as 0) or 0..255. Return: 0 or -EINVAL.
 */
static int udp_byte_val(int v, uint8_t *out)
{
	if (v < -1 || v > 255)
		return -EINVAL;
	*out = (uint8_t)(v < 0 ? 0 : v);
	return 0;
}

/**
 * udp_setsockopt6() - the IPPROTO_IPV6 options of an AF_INET6 socket
 * @u:		socket
 * @name:	IPV6_V6ONLY (only before bind, as Linux), IPV6_UNICAST_HOPS,
 *		IPV6_TCLASS, IPV6_RECVPKTINFO, IPV6_MTU_DISCOVER (the
 *		group options are udp_mc_setsockopt()'s)
 * @val:	an int in host memory
 * @len:	its length, checked before @val is read
 *
 * Return: 0, -EINVAL (short value, out of range, V6ONLY once bound),
 * -ENOPROTOOPT (others, and every one on an AF_INET socket).
 */
static int udp_setsockopt6(struct udp_sock *u, int name, const void *val,
			   socklen_t len)
{
	int v;

	if (u->domain != AF_INET6)
		return -ENOPROTOOPT;
	if (!val || len < sizeof(int))
		return -EINVAL;
	memcpy(&v, val, sizeof(v));
	switch (name) {
	case IPV6_V6ONLY:
		if (u->lport)
			return -EINVAL;
		u->v6only = v != 0;
		return 0;
	case IPV6_UNICAST_HOPS:
		return udp_byte_val(v, &u->hops);
	case IPV6_TCLASS:
		return udp_byte_val(v, &u->tclass);
	case IPV6_RECVPKTINFO:
		u->pktinfo6 = v != 0;
		return 0;
	case IPV6_MTU_DISCOVER:
		if (v < IPV6_PMTUDISC_DONT || v > IPV6_PMTUDISC_OMIT)
			return -EINVAL;
		u->pmtudisc6 = (uint8_t)v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/**
 * udp_getsockopt6() - read what udp_setsockopt6() sets, and IPV6_MTU
 * @u:		socket
 * @name:	option
 * @val:	output, an int (truncated to *@len as Linux does)
 * @len:	in: room; out: bytes written
 *
 * IPV6_UNICAST_HOPS reads the hop limit in use (64, or a router's) when
 * left at the default; IPV6_MTU is the path MTU of a connected socket.
 *
 * Return: 0, -EINVAL, -ENOTCONN (IPV6_MTU unconnected), -ENOPROTOOPT.
 */
static int udp_getsockopt6(struct udp_sock *u, int name, void *val,
			   socklen_t *len)
{
	int v;

	if (u->domain != AF_INET6)
		return -ENOPROTOOPT;
	if (!val || !len)
		return -EINVAL;
	switch (name) {
	case IPV6_V6ONLY:
		v = u->v6only;
		break;
	case IPV6_UNICAST_HOPS:
		v = u->hops ? u->hops : 64;
		break;
	case IPV6_TCLASS:
		v = u->tclass;
		break;
	case IPV6_RECVPKTINFO:
		v = u->pktinfo6;
		break;
	case IPV6_MTU_DISCOVER:
		v = u->pmtudisc6;
		break;
	case IPV6_MTU:
		if (!u->connected)
			return -ENOTCONN;
		v = (int)ip6_path_mtu(u->b.st, &u->raddr);
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (*len > sizeof(v))
		*len = sizeof(v);
	memcpy(val, &v, *len);
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
 * The group options go to udp_mc_setsockopt(), IP_MULTICAST_IF/TTL/LOOP
 * to cove_ipopt_mc_set() (udp_send4() applies them). SO_RCVBUF and
 * SO_SNDBUF are doubled and clamped as on Linux; a new SO_RCVBUF on a
 * bound socket moves the queued datagrams to a new ring (those that no
 * longer fit are dropped). IP_TTL -1 restores the default (both go onto
 * the datagrams). IP_PKTINFO adds a control message to recvmsg().
 * SO_KEEPALIVE is only remembered, for getsockopt(), and so are
 * IP_MTU_DISCOVER (the stack never sets DF nor learns a path MTU; values
 * outside IP_PMTUDISC_DONT..OMIT are EINVAL as on Linux) and IP_RECVERR
 * (no error queue: ICMP errors still land in SO_ERROR).
 *
 * Return: 0, -EINVAL (short value, bad TTL), -ENOMEM (new ring),
 * -ENOPROTOOPT.
 */
static int udp_setsockopt(struct bsock *s, int level, int name, const void *val,
			  socklen_t len)
{
	struct udp_sock *u = udp_sk(s);
	int v, ret;

	ret = udp_mc_setsockopt(u, level, name, val, len);
	if (ret != -ENOPROTOOPT)
		return ret;
	if (level == IPPROTO_IPV6)
		return udp_setsockopt6(u, name, val, len);
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

	if (level == IPPROTO_IPV6)
		return udp_getsockopt6(u, name, val, len);
	if (level == IPPROTO_IP) {
		ret = cove_ipopt_mc_get(&u->mc, name, val, len);
		if (ret == -ENOPROTOOPT)
			ret = udp_mc_getsockopt(u, level, name, val, len);
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
	udp_fill_name(u, a, len, &u->laddr, u->lport);
	return 0;
}

static int udp_getpeername(struct bsock *s, struct sockaddr *a, socklen_t *len)
{
	struct udp_sock *u = udp_sk(s);

	if (!u->connected)
		return -ENOTCONN;
	if (!len)
		return -EINVAL;
	udp_fill_name(u, a, len, &u->raddr, u->rport);
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
 * @domain:	AF_INET, or AF_INET6 (dual stack: IPV6_V6ONLY off)
 * @out:	the socket; builtin_socket() fills the core's fields
 *
 * Buffer sizes start at the stack's defaults. No ring yet: it is
 * allocated at the first bind, explicit or implicit, so an unused socket
 * costs only its struct.
 *
 * Return: 0 or -ENOMEM.
 */
int udp_socket(struct bstack *st, int domain, struct bsock **out)
{
	struct udp_sock *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->domain = domain;
	u->laddr = udp_wild(u);
	u->pmtudisc6 = IPV6_PMTUDISC_WANT;
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

/* A received datagram on its way to a socket, either family. */
struct udp_rx {
	struct udp_meta meta; /* source, destination (mapped), source port */
	uint16_t dport;
	bool v4;
	bool group; /* broadcast or multicast: every unconnected match */
	bool mc4;   /* to an IPv4 group: udp_mc4_score() */
	const uint8_t *data;
	uint32_t len;
};

/* udp_deliver() - queue a datagram on @u; false when it had to be dropped. */
static bool udp_deliver(struct bstack *st, struct udp_sock *u,
			const struct udp_rx *rx)
{
	if ((u->shut & SHUT_RD_BIT) ||
	    !udp_ring_queue(st, u, &rx->meta, rx->data, rx->len)) {
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
	       u->domain == best->domain && ipx_eq(&u->laddr, &best->laddr);
}

/* udp_fold() - an address as 32 bits for the flow hash (IPv4 as it is). */
static uint32_t udp_fold(const struct in6_addr *a)
{
	uint32_t w[4];

	if (ipx_is_v4(a))
		return ipx_v4(a);
	memcpy(w, a, sizeof(w));
	return w[0] ^ w[1] ^ w[2] ^ w[3];
}

/**
 * udp_reuseport_pick() - the member of @best's SO_REUSEPORT group for a flow
 * @st:		stack
 * @best:	an unconnected SO_REUSEPORT socket the datagram matched
 * @rx:		the datagram
 *
 * The group is every unconnected SO_REUSEPORT socket on the same address
 * and port. Two passes over the port chain: count, then take the member at
 * the hash's index.
 *
 * Return: the socket to deliver to (@best when it is alone).
 */
static struct udp_sock *udp_reuseport_pick(struct bstack *st,
					   struct udp_sock *best,
					   const struct udp_rx *rx)
{
	struct udp_sock *head = st->udp->hash[best->lport % UDP_HASH], *u;
	uint32_t n = 0, k;

	for (u = head; u; u = u->hnext)
		n += udp_reuseport_peer(u, best);
	if (n < 2)
		return best;
	k = bstack_hash_pick(bstack_flow_hash(st->udp->seed,
					      udp_fold(&rx->meta.dst),
					      best->lport,
					      udp_fold(&rx->meta.src),
					      rx->meta.port),
			     n);
	for (u = head; u; u = u->hnext)
		if (udp_reuseport_peer(u, best) && !k--)
			return u;
	return best;
}

/*
 * udp_mc4_score() - 1 when @u takes @rx, to an IPv4 group, else 0: bound
 * to the group or a wildcard, connected only to the source, and the
 * group's filter or IP_MULTICAST_ALL says yes (Linux's
 * __udp_is_mcast_sock())
 */
static int udp_mc4_score(const struct udp_sock *u, const struct udp_rx *rx)
{
	if (!udp_any(&u->laddr) && !ipx_eq(&u->laddr, &rx->meta.dst))
		return 0;
	if (u->connected &&
	    (!ipx_eq(&u->raddr, &rx->meta.src) || u->rport != rx->meta.port))
		return 0;
	return udp_mc4_allow(u, ipx_v4(&rx->meta.dst), ipx_v4(&rx->meta.src));
}

/*
 * udp_score() - how well @u matches @rx: 0 not at all; a connected
 * 4-tuple beats an exact local address beats a wildcard, and for IPv4 an
 * AF_INET socket beats an AF_INET6 one (Linux's compute_score()).
 */
static int udp_score(const struct udp_sock *u, const struct udp_rx *rx)
{
	int sc;

	if (u->lport != rx->dport)
		return 0;
	if (rx->v4 ? !udp_v4side(u, &u->laddr) : !udp_v6side(u, &u->laddr))
		return 0;
	if (rx->mc4)
		return udp_mc4_score(u, rx);
	if (!udp_any(&u->laddr) && !ipx_eq(&u->laddr, &rx->meta.dst) &&
	    !rx->group)
		return 0;
	if (u->connected) {
		if (rx->group || !ipx_eq(&u->raddr, &rx->meta.src) ||
		    u->rport != rx->meta.port)
			return 0;
		sc = 6;
	} else {
		sc = udp_any(&u->laddr) ? 2 : 4;
	}
	return sc + (rx->v4 && u->domain == AF_INET);
}

/*
 * udp_dispatch() - hand @rx to its socket (or, for a group destination,
 * to every match). Return: false when no socket took it: the caller sends
 * port unreachable (unicast only).
 */
static bool udp_dispatch(struct bstack *st, const struct udp_rx *rx)
{
	struct udp_sock *u, *best = NULL;
	int score = 0, sc;
	bool any = false;

	for (u = st->udp->hash[rx->dport % UDP_HASH]; u; u = u->hnext) {
		sc = udp_score(u, rx);
		if (!sc)
			continue;
		if (rx->group) {
			any |= udp_deliver(st, u, rx);
			continue;
		}
		if (sc > score) {
			score = sc;
			best = u;
		}
	}
	if (rx->group) {
		if (!any)
			st->stats.udp_no_port++;
		return true;
	}
	if (!best) {
		st->stats.udp_no_port++;
		return false;
	}
	if (best->reuseport && !best->connected)
		best = udp_reuseport_pick(st, best, rx);
	udp_deliver(st, best, rx);
	return true;
}

/*
 * udp_header() - check a UDP header of @l4_len bytes: the length field
 * within the packet. Return: its length, 0 when malformed (counted).
 */
static uint16_t udp_header(struct bstack *st, const uint8_t *h, uint32_t l4_len)
{
	uint16_t ulen = l4_len >= UDP_HLEN ? cove_get16(h + 4) : 0;

	if (ulen < UDP_HLEN || ulen > l4_len) {
		st->stats.rx_malformed++;
		st->stats.rx_dropped++;
		return 0;
	}
	return ulen;
}

/**
 * udp_layer_input() - a received UDP datagram for us
 * @st:		stack
 * @pkt:	the IP packet (checked by IPv4; the UDP checksum is not yet)
 */
void udp_layer_input(struct bstack *st, const struct ip_pkt *pkt)
{
	const uint8_t *h = pkt->l4;
	struct udp_rx rx;
	uint16_t ulen = udp_header(st, h, pkt->l4_len);

	if (!ulen)
		return;
	if ((h[6] | h[7]) && !pkt->csum_ok &&
	    cove_csum_l4(pkt->src, pkt->dst, IP_PROTO_UDP, h, ulen)) {
		st->stats.rx_bad_csum++;
		st->stats.rx_dropped++;
		return;
	}
	rx.meta.src = ipx_from_v4(pkt->src);
	rx.meta.dst = ipx_from_v4(pkt->dst);
	rx.meta.port = cove_get16(h);
	rx.dport = cove_get16(h + 2);
	rx.v4 = true;
	rx.mc4 = ip_is_mcast(pkt->dst);
	rx.group = rx.mc4 || ip_is_bcast(st, pkt->dst);
	rx.data = h + UDP_HLEN;
	rx.len = ulen - UDP_HLEN;
	if (!udp_dispatch(st, &rx))
		icmp_send_error(st, pkt, 3, 3, 0); /* port unreachable */
}

/**
 * udp_layer_input6() - a received UDP/IPv6 datagram for us
 * @st:		stack
 * @pkt:	the IPv6 packet (chain walked; the checksum is not yet)
 *
 * The checksum is mandatory over IPv6 (RFC 8200 8.1): zero is refused.
 * Datagrams to a group go to every unconnected match.
 */
void udp_layer_input6(struct bstack *st, const struct ip6_pkt *pkt)
{
	const uint8_t *h = pkt->l4;
	struct udp_rx rx;
	uint16_t ulen = udp_header(st, h, pkt->l4_len);

	if (!ulen)
		return;
	if (!(h[6] | h[7]) ||
	    (!pkt->csum_ok &&
	     ip6_csum(&pkt->src, &pkt->dst, IPPROTO_UDP, h, ulen))) {
		st->stats.rx_bad_csum++;
		st->stats.rx_dropped++;
		return;
	}
	rx.meta.src = pkt->src;
	rx.meta.dst = pkt->dst;
	rx.meta.port = cove_get16(h);
	rx.dport = cove_get16(h + 2);
	rx.v4 = false;
	rx.mc4 = false;
	rx.group = pkt->dst.s6_addr[0] == 0xff;
	rx.data = h + UDP_HLEN;
	rx.len = ulen - UDP_HLEN;
	if (!udp_dispatch(st, &rx))
		icmp6_send_error(st, pkt, 1, 4, 0); /* port unreachable */
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

/*
 * udp_err_to() - set @e on the connected socket that sent @src:@sport to
 * @dst:@dport (addresses mapped for IPv4), as Linux without IP_RECVERR.
 */
static void udp_err_to(struct bstack *st, const struct in6_addr *src,
		       uint16_t sport, const struct in6_addr *dst,
		       uint16_t dport, int e)
{
	struct udp_sock *u;

	for (u = st->udp->hash[sport % UDP_HASH]; u; u = u->hnext) {
		if (u->lport != sport || !u->connected ||
		    !ipx_eq(&u->raddr, dst) || u->rport != dport ||
		    (!udp_any(&u->laddr) && !ipx_eq(&u->laddr, src)))
			continue;
		u->err = e;
		udp_notify(u);
		return;
	}
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
	uint32_t ihl = (inner[0] & 15) * 4u;
	struct in6_addr src, dst;
	int e = udp_icmp_errno(type, code);

	if (!e || inner_len < ihl + UDP_HLEN)
		return;
	src = ipx_from_v4(rd32n(inner + 12));
	dst = ipx_from_v4(rd32n(inner + 16));
	udp_err_to(st, &src, cove_get16(inner + ihl), &dst,
		   cove_get16(inner + ihl + 2), e);
}

/**
 * udp_icmp6_error() - an ICMPv6 error about a datagram we sent
 * @st:		stack
 * @type:	ICMPv6 type (1 unreachable, 2 too big, 3 time, 4 parameter)
 * @code:	its code
 * @info:	the MTU of a Packet Too Big (the path MTU is lowered
 *		already), else unused
 * @inner:	the quoted IPv6 header and at least 8 bytes after it
 * @inner_len:	bytes at @inner
 *
 * The UDP header follows the fixed header or a fragment header of offset
 * 0 (the first piece of a datagram we fragmented). Hard errors only (port
 * unreachable: ECONNREFUSED), on connected sockets, as Linux without
 * IPV6_RECVERR.
 */
void udp_icmp6_error(struct bstack *st, uint8_t type, uint8_t code,
		     uint32_t info, const uint8_t *inner, uint32_t inner_len)
{
	uint32_t off = IP6_HLEN_;
	struct in6_addr src, dst;
	bool hard;
	int e = udp6_errno(type, code, &hard);

	(void)info;
	if (!hard || inner_len < IP6_HLEN_ + UDP_HLEN)
		return;
	if (inner[6] == 44) { /* a fragment header */
		if ((cove_get16(inner + 42) & ~7u) || inner[40] != IPPROTO_UDP)
			return;
		off += 8;
	} else if (inner[6] != IPPROTO_UDP) {
		return;
	}
	if (inner_len < off + UDP_HLEN)
		return;
	memcpy(&src, inner + 8, 16);
	memcpy(&dst, inner + 24, 16);
	udp_err_to(st, &src, cove_get16(inner + off), &dst,
		   cove_get16(inner + off + 2), e);
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

/* udp_stats() - nothing of UDP's own: its rings are the budget's (mem.c). */
void udp_stats(struct bstack *st, struct cove_stack_stats *out)
{
	(void)st;
	(void)out;
}
