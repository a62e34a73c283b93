// SPDX-License-Identifier: Apache-2.0
/* lwip provider: socket addresses, a program's sockaddr and lwIP's ip_addr_t. */
#include <errno.h>
#include <string.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"

#include "stacks/lwip/lw.h"

/*
 * Theory of operation
 *
 * An AF_INET6 socket is dual-stack as on Linux, built on lwIP's
 * IPADDR_TYPE_ANY PCBs, which take both families. lw_addr_from() turns
 * the program's sockaddr into lwIP's address the way Linux reads it
 * (::ffff:a.b.c.d is IPv4, [::] with IPV6_V6ONLY off is the ANY type,
 * link-local needs the scope id, which is the netif's index, 2), and
 * lw_name_set() turns lwIP's back for the socket's family (IPv4 as
 * ::ffff:a.b.c.d, the ANY type as ::, a zone as the scope id). With
 * IPV6_V6ONLY the PCB is IPADDR_TYPE_V6, so lwIP itself never hands it
 * IPv4. An AF_INET socket takes and returns struct sockaddr_in only.
 * Every sockaddr is read within the length the host gave. This file
 * calls no other of the provider's: the layers all use it.
 */

/* lw_addr_from4() - an AF_INET sockaddr (checked long enough) into @ip. */
static void lw_addr_from4(const struct sockaddr *a, ip_addr_t *ip,
			  uint16_t *port)
{
	struct sockaddr_in sin;

	memcpy(&sin, a, sizeof(sin));
	ip_addr_set_ip4_u32_val(*ip, sin.sin_addr.s_addr);
	*port = ntohs(sin.sin_port);
}

/**
 * lw_addr_scope() - a link-local address's scope id, Linux's checks
 * @s:		socket
 * @sin6:	the address, link-local unicast or multicast
 * @use:	what for
 * @ip:		its lwIP form; the zone is set here
 *
 * The only scope is "cv"'s netif index, 2 (lw.h). A unicast address
 * needs it (Linux:
 * EINVAL without); a link-local multicast one takes it by default.
 *
 * Return: 0, -EINVAL (no scope id), -ENODEV (bind: another interface),
 * -ENETUNREACH.
 */
static int lw_addr_scope(const struct cove_sock *s,
			 const struct sockaddr_in6 *sin6, enum lw_addr_use use,
			 ip_addr_t *ip)
{
	uint32_t idx = netif_get_index(&s->st->netif);

	if (!sin6->sin6_scope_id) {
		if (!IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr))
			return -EINVAL;
	} else if (sin6->sin6_scope_id != idx) {
		return use == LW_USE_BIND ? -ENODEV : -ENETUNREACH;
	}
	ip6_addr_set_zone(ip_2_ip6(ip), (u8_t)idx);
	return 0;
}

/**
 * lw_addr_from() - a program's sockaddr as lwIP's address, as Linux reads it
 * @s:		socket (its family, IPV6_V6ONLY, type)
 * @a:		untrusted sockaddr from the host
 * @len:	its length
 * @use:	bind, connect or send (the errors differ, as on Linux)
 * @ip:		the address: IPv4 (AF_INET, or mapped), IPv6, or for binding
 *		[::] the socket's wildcard (lw_wildcard())
 * @port:	the port, host order
 *
 * An AF_INET6 socket takes struct sockaddr_in6 of at least 24 bytes (the
 * RFC 2133 size, without scope id); a UDP one also takes AF_INET for
 * connect and send, as Linux does. Connecting or sending to [::] means
 * ::1, as on Linux.
 *
 * Return: 0; -EINVAL (short, or mapped for a v6-only bind, or a
 * link-local address without scope id); -EAFNOSUPPORT (other family);
 * -ENETUNREACH (IPv4 from a v6-only socket); -ENODEV (bind, bad scope).
 */
int lw_addr_from(const struct cove_sock *s, const struct sockaddr *a,
		 socklen_t len, enum lw_addr_use use, ip_addr_t *ip,
		 uint16_t *port)
{
	struct sockaddr_in6 sin6;
	uint32_t v4;

	if (!a || len < sizeof(sa_family_t))
		return -EINVAL;
	if (s->family == AF_INET ||
	    (a->sa_family == AF_INET && s->type == SOCK_DGRAM &&
	     use != LW_USE_BIND)) {
		if (len < sizeof(struct sockaddr_in))
			return -EINVAL;
		if (a->sa_family != AF_INET)
			return -EAFNOSUPPORT;
		if (s->v6only)
			return use == LW_USE_SEND ? -ENETUNREACH :
						    -EAFNOSUPPORT;
		lw_addr_from4(a, ip, port);
		return 0;
	}
	if (len < 24)
		return -EINVAL;
	if (a->sa_family != AF_INET6)
		return -EAFNOSUPPORT;
	memset(&sin6, 0, sizeof(sin6));
	memcpy(&sin6, a, len < sizeof(sin6) ? len : sizeof(sin6));
	*port = ntohs(sin6.sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
		if (s->v6only)
			return use == LW_USE_BIND ? -EINVAL : -ENETUNREACH;
		memcpy(&v4, sin6.sin6_addr.s6_addr + 12, 4);
		ip_addr_set_ip4_u32_val(*ip, v4);
		return 0;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&sin6.sin6_addr) && use == LW_USE_BIND) {
		lw_wildcard(s, ip);
		return 0;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(&sin6.sin6_addr))
		sin6.sin6_addr = in6addr_loopback;
	ip_addr_set_zero_ip6(ip);
	memcpy(ip_2_ip6(ip)->addr, sin6.sin6_addr.s6_addr, 16);
	if (IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr) ||
	    IN6_IS_ADDR_MC_LINKLOCAL(&sin6.sin6_addr))
		return lw_addr_scope(s, &sin6, use, ip);
	return 0;
}

/**
 * lw_name_set() - lwIP's address as the socket's family returns it
 * @s:		socket
 * @out:	a sockaddr_in (AF_INET) or sockaddr_in6 (AF_INET6): IPv4 as
 *		::ffff:a.b.c.d, the ANY type as ::, a zone as the scope id
 * @ip:		the address; NULL: the wildcard
 * @port:	host order
 */
void lw_name_set(const struct cove_sock *s, union lw_name *out,
		 const ip_addr_t *ip, uint16_t port)
{
	memset(out, 0, sizeof(*out));
	if (s->family == AF_INET) {
		out->sin.sin_family = AF_INET;
		out->sin.sin_port = htons(port);
		out->sin.sin_addr.s_addr =
			ip && IP_IS_V4_VAL(*ip) ?
				ip4_addr_get_u32(ip_2_ip4(ip)) :
				0;
		return;
	}
	out->sin6.sin6_family = AF_INET6;
	out->sin6.sin6_port = htons(port);
	if (!ip || IP_IS_ANY_TYPE_VAL(*ip))
		return;
	if (IP_IS_V4_VAL(*ip)) {
		uint32_t v4 = ip4_addr_get_u32(ip_2_ip4(ip));

		out->sin6.sin6_addr.s6_addr[10] = 0xff;
		out->sin6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(out->sin6.sin6_addr.s6_addr + 12, &v4, 4);
		return;
	}
	memcpy(out->sin6.sin6_addr.s6_addr, ip_2_ip6(ip)->addr, 16);
	if (ip6_addr_has_zone(ip_2_ip6(ip)))
		out->sin6.sin6_scope_id = ip6_addr_zone(ip_2_ip6(ip));
}

/* lw_name_put() - copy @n out with sockaddr length semantics. */
int lw_name_put(const struct cove_sock *s, const union lw_name *n,
		struct sockaddr *addr, socklen_t *len)
{
	socklen_t size = s->family == AF_INET6 ? sizeof(n->sin6) :
						 sizeof(n->sin);

	if (!addr || !len)
		return -EFAULT;
	memcpy(addr, n, *len < size ? *len : size);
	*len = size;
	return 0;
}

/*
 * lw_wildcard() - what binding the wildcard means for @s: 0.0.0.0 for
 * AF_INET, [::] of IPADDR_TYPE_V6 with IPV6_V6ONLY, else IPADDR_TYPE_ANY.
 */
void lw_wildcard(const struct cove_sock *s, ip_addr_t *ip)
{
	if (s->family == AF_INET)
		ip_addr_set_any(0, ip);
	else if (s->v6only)
		ip_addr_set_any(1, ip);
	else
		ip_addr_copy(*ip, *IP_ANY_TYPE);
}

/*
 * lw_addr_unroutable() - an address of 127/8 lwIP cannot deliver to: of
 * 127/8 it accepts 127.0.0.1 alone (lw_loop.c), so a packet to another one
 * would be looped and then dropped.
 */
bool lw_addr_unroutable(uint32_t addr_be)
{
	uint32_t a = __builtin_bswap32(addr_be);

	return (a >> 24) == 127 && a != INADDR_LOOPBACK;
}

/* lw_ip_unroutable() - lw_addr_unroutable() for an IPv4 @ip, else false. */
bool lw_ip_unroutable(const ip_addr_t *ip)
{
	return IP_IS_V4_VAL(*ip) &&
	       lw_addr_unroutable(ip4_addr_get_u32(ip_2_ip4(ip)));
}
