/* SPDX-License-Identifier: Apache-2.0 */
/* UDP's IPv6 edges: sockaddr_in6 in and out, control messages, ICMPv6 errnos (udp6.c). */
#ifndef COVE_BUILTIN_UDP6_H
#define COVE_BUILTIN_UDP6_H

/*
 * udp.c keeps one socket shape for both families (addresses as struct
 * in6_addr, IPv4 in the mapped form); these helpers translate between
 * that and what an application passes and expects, with Linux's checks
 * and errors (net/ipv6/af_inet6.c, datagram.c, udp.c). None of them keep
 * state.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stacks/builtin/ip6.h"

/* An address from the application, in the socket's one shape. */
struct udp_name {
	struct in6_addr a; /* mapped for IPv4 */
	uint16_t port;	   /* host order */
	uint32_t scope;	   /* sin6_scope_id, 0 for none */
	bool unspec;	   /* AF_UNSPEC (connect: dissolve; send: none) */
};

enum udp6_op {
	UDP6_BIND,
	UDP6_CONNECT,
	UDP6_SEND
};

/*
 * udp6_name() - read an AF_INET6 socket's address argument
 * @a, @len:	untrusted sockaddr (length checked before anything is read)
 * @op:		bind() takes AF_INET6 only; connect() and sendmsg() also a
 *		sockaddr_in and AF_UNSPEC, as Linux does on a dual socket
 * @v6only:	the socket's IPV6_V6ONLY (IPv4 is then refused)
 *
 * Return: 0, -EINVAL (short; sendmsg: another family), -EAFNOSUPPORT
 * (bind, connect: another family, or IPv4 on a v6-only socket),
 * -ENETUNREACH (sendmsg: IPv4 on a v6-only socket).
 */
int udp6_name(const struct sockaddr *a, socklen_t len, enum udp6_op op,
	      bool v6only, struct udp_name *out);
/*
 * udp6_scope_ok() - the scope rule for link-local @a: a scope id that is
 * our interface, or none when the socket is tied to it already (@bound).
 * Return: 0, -EINVAL (none given), -ENODEV (another interface).
 */
int udp6_scope_ok(const struct bstack *st, const struct in6_addr *a,
		  uint32_t scope, bool bound);
/* udp6_fill_name() - write a sockaddr_in6 Linux style (truncate, set len). */
void udp6_fill_name(const struct bstack *st, void *dst, socklen_t *len,
		    const struct in6_addr *a, uint16_t port);
/*
 * udp_put_cmsg() - append a control message of @len bytes of @data to
 * @m's control buffer at *@used (both families); MSG_CTRUNC when it does
 * not fit.
 */
void udp_put_cmsg(struct msghdr *m, size_t *used, int level, int type,
		  const void *data, size_t len);
/*
 * udp6_put_pktinfo() - append an IPV6_PKTINFO control message for @dst
 * to @m's control buffer at *@used; MSG_CTRUNC when it does not fit.
 */
void udp6_put_pktinfo(const struct bstack *st, struct msghdr *m, size_t *used,
		      const struct in6_addr *dst);
/*
 * udp6_get_pktinfo() - an IPV6_PKTINFO in sendmsg()'s control messages
 * (untrusted: every cmsg_len checked), the source it names
 * Return: 0 (@src :: when none), -EINVAL (malformed), -ENODEV (not our
 * interface), -EADDRNOTAVAIL (a source that is not ours).
 */
int udp6_get_pktinfo(const struct bstack *st, const struct msghdr *m,
		     struct in6_addr *src);
/*
 * udp6_errno() - the errno of an ICMPv6 error (Linux's
 * icmpv6_err_convert()); @hard: a connected socket hears of it without
 * IPV6_RECVERR
 */
int udp6_errno(uint8_t type, uint8_t code, bool *hard);

#endif /* COVE_BUILTIN_UDP6_H */
