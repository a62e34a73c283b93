// SPDX-License-Identifier: Apache-2.0
/* UDP's IPv6 edges: sockaddr_in6 in and out, IPV6_PKTINFO, ICMPv6 errnos. */
#include <errno.h>
#include <string.h>

#include "stacks/builtin/core6.h"
#include "stacks/builtin/udp6.h"

#ifndef SIN6_LEN_RFC2133
#define SIN6_LEN_RFC2133 24 /* sockaddr_in6 without sin6_scope_id */
#endif

int udp6_name(const struct sockaddr *a, socklen_t len, enum udp6_op op,
	      bool v6only, struct udp_name *out)
{
	bool bind = op == UDP6_BIND;

	const struct sockaddr_in6 *s6 = (const void *)a;
	const struct sockaddr_in *s4 = (const void *)a;

	memset(out, 0, sizeof(*out));
	if (!a || len < sizeof(sa_family_t))
		return -EINVAL;
	if (!bind && a->sa_family == AF_UNSPEC) {
		out->unspec = true;
		return 0;
	}
	if (!bind && a->sa_family == AF_INET) {
		if (len < sizeof(*s4))
			return -EINVAL;
		if (v6only)
			return op == UDP6_SEND ? -ENETUNREACH : -EAFNOSUPPORT;
		out->a = ipx_from_v4(s4->sin_addr.s_addr);
		out->port = ntohs(s4->sin_port);
		return 0;
	}
	if (len < SIN6_LEN_RFC2133)
		return -EINVAL;
	if (a->sa_family != AF_INET6)
		return op == UDP6_SEND ? -EINVAL : -EAFNOSUPPORT;
	memcpy(&out->a, &s6->sin6_addr, sizeof(out->a));
	out->port = ntohs(s6->sin6_port);
	if (len >= sizeof(*s6))
		out->scope = s6->sin6_scope_id;
	return 0;
}

int udp6_scope_ok(const struct bstack *st, const struct in6_addr *a,
		  uint32_t scope, bool bound)
{
	if (!ip6_is_ll(a) && !(ip6_is_mc(a) && (a->s6_addr[1] & 15) <= 2))
		return 0;
	if (scope && scope != ip6_ifindex(st))
		return -ENODEV;
	return scope || bound ? 0 : -EINVAL;
}

void udp6_fill_name(const struct bstack *st, void *dst, socklen_t *len,
		    const struct in6_addr *a, uint16_t port)
{
	struct sockaddr_in6 s6;

	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(port);
	s6.sin6_addr = *a;
	if (ip6_is_ll(a))
		s6.sin6_scope_id = ip6_ifindex(st);
	if (dst)
		memcpy(dst, &s6, *len < sizeof(s6) ? *len : sizeof(s6));
	*len = sizeof(s6);
}

void udp_put_cmsg(struct msghdr *m, size_t *used, int level, int type,
		  const void *data, size_t len)
{
	struct cmsghdr c = { .cmsg_len = CMSG_LEN(len),
			     .cmsg_level = level,
			     .cmsg_type = type };
	uint8_t *p;

	if (!m->msg_control || m->msg_controllen < *used ||
	    m->msg_controllen - *used < CMSG_SPACE(len)) {
		m->msg_flags |= MSG_CTRUNC;
		return;
	}
	p = (uint8_t *)m->msg_control + *used;
	memcpy(p, &c, sizeof(c));
	memcpy(p + CMSG_LEN(0), data, len);
	*used += CMSG_SPACE(len);
}

void udp6_put_pktinfo(const struct bstack *st, struct msghdr *m, size_t *used,
		      const struct in6_addr *dst)
{
	struct in6_pktinfo pi = { .ipi6_addr = *dst };

	pi.ipi6_ifindex = ip6_ifindex(st);
	udp_put_cmsg(m, used, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
}

int udp6_get_pktinfo(const struct bstack *st, const struct msghdr *m,
		     struct in6_addr *src)
{
	const uint8_t *p = m->msg_control;
	size_t off = 0, left = m->msg_control ? m->msg_controllen : 0;
	struct in6_pktinfo pi;
	struct cmsghdr c;

	*src = in6addr_any;
	while (left - off >= sizeof(c)) {
		memcpy(&c, p + off, sizeof(c));
		if (c.cmsg_len < sizeof(c) || c.cmsg_len > left - off)
			return -EINVAL;
		if (c.cmsg_level == IPPROTO_IPV6 &&
		    c.cmsg_type == IPV6_PKTINFO) {
			if (c.cmsg_len < CMSG_LEN(sizeof(pi)))
				return -EINVAL;
			memcpy(&pi, p + off + CMSG_LEN(0), sizeof(pi));
			if (pi.ipi6_ifindex &&
			    pi.ipi6_ifindex != ip6_ifindex(st))
				return -ENODEV;
			if (!ip6_is_any(&pi.ipi6_addr) &&
			    !ip6_is_local(st, &pi.ipi6_addr))
				return -EINVAL; /* Linux: not a local address */
			*src = pi.ipi6_addr;
		}
		off += CMSG_ALIGN(c.cmsg_len);
		if (off > left)
			break;
	}
	return 0;
}

int udp6_errno(uint8_t type, uint8_t code, bool *hard)
{
	static const struct {
		int err;
		bool hard;
	} unreach[] = {
		{ ENETUNREACH, false },	 { EACCES, true },
		{ EHOSTUNREACH, false }, { EHOSTUNREACH, false },
		{ ECONNREFUSED, true },	 { EACCES, true },
		{ EACCES, true },
	};

	*hard = false;
	switch (type) {
	case 1:
		if (code >= sizeof(unreach) / sizeof(unreach[0]))
			return EPROTO;
		*hard = unreach[code].hard;
		return unreach[code].err;
	case 2:
		return EMSGSIZE;
	case 3:
		return EHOSTUNREACH;
	case 4:
		*hard = true;
		return EPROTO;
	default:
		return EPROTO;
	}
}
