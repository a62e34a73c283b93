// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP socket addresses: sockaddr_in/_in6 in and out, dual stack, IPv6 options. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "stacks/builtin/tcp/tcp.h"

/*
 * Theory of operation
 *
 * A tcb keeps its 4-tuple in struct in6_addr, IPv4 in mapped form, so
 * only the socket's edges know its family (t->family): what a sockaddr
 * must look like coming in, and what goes out. An AF_INET socket reads and
 * writes struct sockaddr_in; an AF_INET6 socket struct sockaddr_in6, with
 * Linux's checks (a length below SIN6_LEN_RFC2133, 24 bytes, is -EINVAL,
 * another family -EAFNOSUPPORT) and its dual-stack rules: a mapped address
 * is IPv4 (bind, connect: an IPV6_V6ONLY socket refuses it), [::] with
 * IPV6_V6ONLY off is both families' wildcard (tcp_port.c), binding a
 * specific IPv6 address makes the socket v6-only as Linux's __inet6_bind()
 * does, and a link-local address needs the scope id of our one interface
 * (ip6_ifindex()), which every link-local address going out carries.
 *
 * The IPv6 options (level IPPROTO_IPV6) are kept beside the IPv4 ones: a
 * dual-stack socket's IPv4 segments carry IP_TOS and IP_TTL, its IPv6
 * segments IPV6_TCLASS and IPV6_UNICAST_HOPS (tcp_out.c picks by the
 * peer's family), as on Linux.
 */

#define TCP_SIN6_MIN 24 /* SIN6_LEN_RFC2133: no scope id */

/* tcp_ll() - @a needs a scope id (link-local unicast). */
static inline bool tcp_ll(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LINKLOCAL(a);
}

/**
 * tcp_sa_read() - check and read a sockaddr for socket @t's family
 * @t:		socket (its family decides the form)
 * @a:		untrusted sockaddr from the host
 * @len:	its length
 * @addr:	set to the address, IPv4 mapped
 * @port:	set to the port, host order
 * @scope:	set to the scope id (0 for AF_INET, or when @len has none)
 *
 * Return: 0, -EINVAL (short) or -EAFNOSUPPORT (another family).
 */
int tcp_sa_read(const struct tcb *t, const struct sockaddr *a, socklen_t len,
		struct in6_addr *addr, uint16_t *port, uint32_t *scope)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	*scope = 0;
	if (t->family == AF_INET) {
		if (!a || len < (socklen_t)sizeof(sin))
			return -EINVAL;
		memcpy(&sin, a, sizeof(sin));
		if (sin.sin_family != AF_INET)
			return -EAFNOSUPPORT;
		*addr = ipx_from_v4(sin.sin_addr.s_addr);
		*port = ntohs(sin.sin_port);
		return 0;
	}
	if (!a || len < TCP_SIN6_MIN)
		return -EINVAL;
	memset(&sin6, 0, sizeof(sin6));
	memcpy(&sin6, a, len < sizeof(sin6) ? len : sizeof(sin6));
	if (sin6.sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	*addr = sin6.sin6_addr;
	*port = ntohs(sin6.sin6_port);
	*scope = sin6.sin6_scope_id;
	return 0;
}

/**
 * tcp_sa_write() - write @addr:@port in socket @t's family, truncated to
 * *@len as Linux does, and set *@len to the full size
 * @t:		socket
 * @addr:	address (IPv4 mapped; an AF_INET socket writes its IPv4 part)
 * @port:	port, host order
 * @a:		output in host memory; nothing when @a or @len is NULL
 * @len:	in: room at @a; out: sizeof the sockaddr
 *
 * A link-local address goes out with the scope id of our interface.
 *
 * Return: 0.
 */
int tcp_sa_write(const struct tcb *t, const struct in6_addr *addr,
		 uint16_t port, struct sockaddr *a, socklen_t *len)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(port) };
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	const void *src = &sin;
	socklen_t size = sizeof(sin), n;

	if (!a || !len)
		return 0;
	if (t->family == AF_INET6) {
		sin6.sin6_addr = *addr;
		if (tcp_ll(addr))
			sin6.sin6_scope_id = ip6_ifindex(t->b.st);
		src = &sin6;
		size = sizeof(sin6);
	} else {
		sin.sin_addr.s_addr = ipx_v4(addr);
	}
	n = *len < size ? *len : size;
	memcpy(a, src, n);
	*len = size;
	return 0;
}

/* tcp_scope_ok() - @scope names our interface (or none, when allowed). */
static bool tcp_scope_ok(const struct tcb *t, uint32_t scope)
{
	return scope == ip6_ifindex(t->b.st);
}

/**
 * tcp_bind_addr() - may socket @t bind @addr (from tcp_sa_read())?
 * @t:		socket being bound
 * @addr:	address, IPv4 mapped; an AF_INET6 socket's mapped address
 *		binds IPv4, a specific IPv6 address makes it v6-only
 * @scope:	the sockaddr's scope id
 *
 * Return: 0, -EINVAL (a mapped address on a v6-only socket, link-local
 * without a scope id), -ENODEV (a scope id we have no interface for) or
 * -EADDRNOTAVAIL (not one of our addresses).
 */
int tcp_bind_addr(struct tcb *t, const struct in6_addr *addr, uint32_t scope)
{
	struct bstack *st = t->b.st;

	if (ipx_is_v4(addr)) {
		if (t->family == AF_INET6 && t->v6only)
			return -EINVAL;
		if (ipx_v4(addr) && !ip_is_local(st, ipx_v4(addr)))
			return -EADDRNOTAVAIL;
		return 0;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(addr))
		return 0;
	if (tcp_ll(addr)) {
		if (!scope)
			return -EINVAL;
		if (!tcp_scope_ok(t, scope))
			return -ENODEV;
	}
	if (!ip6_is_local(st, addr))
		return -EADDRNOTAVAIL;
	t->v6only = true; /* as Linux: a specific IPv6 address is v6-only */
	return 0;
}

/**
 * tcp_connect_addr() - the peer and local address of a connect() to @raddr
 * @t:		socket, CLOSED (laddr: a bound address or a wildcard)
 * @raddr:	in: the address from tcp_sa_read(); out: the peer (the
 *		unspecified address becomes loopback or ours, as on Linux)
 * @scope:	the sockaddr's scope id
 *
 * Picks the source address when the socket has none: for IPv4 the
 * destination itself for 127/8, else ours; for IPv6 ip6_src_for(). A
 * dual-stack socket connecting to a mapped address talks IPv4.
 *
 * Return: 0, -ENETUNREACH (broadcast, multicast, a mapped peer of a
 * v6-only socket), -EAFNOSUPPORT (an IPv6 peer of a socket bound to a
 * mapped address), -EINVAL (link-local without a scope id), or
 * ip6_src_for()'s error.
 */
int tcp_connect_addr(struct tcb *t, struct in6_addr *raddr, uint32_t scope)
{
	struct bstack *st = t->b.st;
	uint32_t v4;
	int ret;

	if (IN6_IS_ADDR_UNSPECIFIED(raddr))
		*raddr = ipx_is_v4(&t->laddr) ?
				 ipx_from_v4(htonl(INADDR_LOOPBACK)) :
				 in6addr_loopback;
	if (ipx_is_v4(raddr)) {
		if (t->v6only || (!ipx_is_v4(&t->laddr) &&
				  !IN6_IS_ADDR_UNSPECIFIED(&t->laddr)))
			return -ENETUNREACH;
		v4 = ipx_v4(raddr);
		if (v4 == INADDR_ANY)
			*raddr = ipx_from_v4(v4 = st->addr);
		if (v4 == INADDR_BROADCAST || (ntohl(v4) >> 28) == 14)
			return -ENETUNREACH;
		if (!ipx_v4(&t->laddr))
			t->laddr = ipx_from_v4(
				(ntohl(v4) >> 24) == 127 ? v4 : st->addr);
		return 0;
	}
	if (ipx_is_v4(&t->laddr))
		return -EAFNOSUPPORT; /* bound to IPv4: as Linux */
	if (IN6_IS_ADDR_MULTICAST(raddr))
		return -ENETUNREACH;
	if (tcp_ll(raddr)) {
		if (!scope)
			return -EINVAL;
		if (!tcp_scope_ok(t, scope))
			return -ENETUNREACH;
		t->scope_id = scope;
	}
	if (!IN6_IS_ADDR_UNSPECIFIED(&t->laddr))
		return 0;
	ret = ip6_src_for(st, raddr, &t->laddr);
	return ret < 0 ? ret : 0;
}

/**
 * tcp_set_ipv6() - setsockopt() at IPPROTO_IPV6
 * @t:		socket (AF_INET6; the caller refuses AF_INET with
 *		-ENOPROTOOPT, as Linux's ip_setsockopt() does, and
 *		getsockopt() with -EOPNOTSUPP)
 * @name:	IPV6_V6ONLY, IPV6_TCLASS, IPV6_UNICAST_HOPS, IPV6_MTU_DISCOVER
 * @v:		the int value (already read and length-checked)
 *
 * IPV6_V6ONLY only before the socket has a port (Linux: -EINVAL after
 * bind or connect); IPV6_TCLASS keeps the connection's ECN bits, as
 * IP_TOS does; IPV6_UNICAST_HOPS -1..255, -1 the default (0 reads back
 * as 0 but goes out as the default: ip6_send() has no way to say 0);
 * IPV6_MTU_DISCOVER is remembered (0..5).
 *
 * Return: 0, -EINVAL or -ENOPROTOOPT.
 */
int tcp_set_ipv6(struct tcb *t, int name, int v)
{
	switch (name) {
	case IPV6_V6ONLY:
		if (t->on_port || t->in_hash)
			return -EINVAL;
		t->v6only = v != 0;
		return 0;
	case IPV6_TCLASS:
		if (v < -1 || v > 255)
			return -EINVAL;
		v = v < 0 ? 0 : v;
		t->tclass = (uint8_t)((v & ~3) | (t->tclass & 3));
		return 0;
	case IPV6_UNICAST_HOPS:
		if (v < -1 || v > 255)
			return -EINVAL;
		t->hops = (uint16_t)(v + 1);
		t->hlim = (uint8_t)(v <= 0 ? 0 : v); /* 0 is sent as 64 */
		return 0;
	case IPV6_MTU_DISCOVER:
		if (v < IPV6_PMTUDISC_DONT || v > IPV6_PMTUDISC_OMIT)
			return -EINVAL;
		t->pmtudisc6 = (uint8_t)(v + 1); /* 0: never set */
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/**
 * tcp_get_ipv6() - getsockopt() at IPPROTO_IPV6, as an int
 * @t:		socket (AF_INET6)
 * @name:	as tcp_set_ipv6(), and IPV6_MTU (the path MTU, connected only)
 * @v:		set to the value
 *
 * Return: 0, -ENOTCONN (IPV6_MTU unconnected) or -ENOPROTOOPT.
 */
int tcp_get_ipv6(struct tcb *t, int name, int *v)
{
	switch (name) {
	case IPV6_V6ONLY:
		*v = t->v6only;
		return 0;
	case IPV6_TCLASS:
		*v = t->tclass;
		return 0;
	case IPV6_UNICAST_HOPS:
		*v = t->hops ? t->hops - 1 : 64;
		return 0;
	case IPV6_MTU_DISCOVER:
		*v = t->pmtudisc6 ? t->pmtudisc6 - 1 : IPV6_PMTUDISC_WANT;
		return 0;
	case IPV6_MTU:
		if (!t->in_hash || !tcp_v6(&t->raddr))
			return -ENOTCONN;
		*v = (int)ip6_path_mtu(t->b.st, &t->raddr);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}
