// SPDX-License-Identifier: Apache-2.0
/* UDP group memberships: IPv4 joins with source filters, IPV6_JOIN_GROUP, delivery filters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stacks/builtin/udp.h"

/*
 * Theory of operation
 *
 * A socket's memberships live in a struct udp_mc allocated at its first
 * join and freed at close, so sockets that never join cost a pointer.
 * The network layers count sockets per group (igmp_join(), ip6_group_join())
 * and take the group's frames while any is in; they report the groups
 * (IGMP, MLD).
 *
 * IPv4 follows Linux's net/ipv4/igmp.c: a membership is a group on our
 * one interface, at most UDP_MC4_MAX of them, each with a filter mode and
 * up to UDP_MC4_SRC sources. IP_ADD_MEMBERSHIP joins in EXCLUDE mode with
 * no sources (any source); IP_BLOCK_SOURCE and IP_UNBLOCK_SOURCE edit an
 * EXCLUDE list; IP_ADD_SOURCE_MEMBERSHIP joins in (or switches an empty
 * filter to) INCLUDE mode and adds a source, IP_DROP_SOURCE_MEMBERSHIP
 * removes one and leaves the group with the last. A mode change is only
 * allowed while the list is empty. Delivery asks udp_mc4_allow(): a
 * joined socket by its filter, any other by IP_MULTICAST_ALL (default 1:
 * a socket bound to the port gets the datagrams of every group some
 * socket of the stack joined, as on Linux).
 */

#define UDP_MC_IFINDEX IP6_IFINDEX /* the one interface, both families */

/* udp_mc_get() - @u's membership table, allocated on first use. */
static struct udp_mc *udp_mc_get(struct udp_sock *u)
{
	if (!u->groups)
		u->groups = calloc(1, sizeof(*u->groups));
	return u->groups;
}

/* udp_mc4_find() - @u's membership of @g, or NULL. */
static struct udp_mc4 *udp_mc4_find(const struct udp_sock *u, uint32_t g)
{
	unsigned i;

	if (!u->groups)
		return NULL;
	for (i = 0; i < u->groups->n4; i++)
		if (u->groups->g4[i].group == g)
			return &u->groups->g4[i];
	return NULL;
}

/*
 * udp_mc4_dev() - the interface an ip_mreqn names, as Linux's
 * ip_mc_find_dev(): an index (ours), else an address (ours), else the
 * route to the group (always ours). Return: 0 or -ENODEV.
 */
static int udp_mc4_dev(const struct bstack *st, const struct ip_mreqn *mr)
{
	if (mr->imr_ifindex)
		return (unsigned)mr->imr_ifindex == UDP_MC_IFINDEX ? 0 :
								     -ENODEV;
	if (mr->imr_address.s_addr && !ip_is_local(st, mr->imr_address.s_addr))
		return -ENODEV;
	return 0;
}

/*
 * udp_mc4_join() - a new membership of @mr's group, in INCLUDE mode for
 * a source join (which reports it once the source is in), else EXCLUDE
 * (reported here)
 */
static int udp_mc4_join(struct udp_sock *u, const struct ip_mreqn *mr,
			bool include)
{
	uint32_t g = mr->imr_multiaddr.s_addr;
	struct udp_mc *mc;
	struct udp_mc4 *m;
	int ret;

	if (!ip_is_mcast(g))
		return -EINVAL;
	ret = udp_mc4_dev(u->b.st, mr);
	if (ret)
		return ret;
	if (udp_mc4_find(u, g))
		return -EADDRINUSE;
	mc = udp_mc_get(u);
	if (!mc)
		return -ENOMEM;
	if (mc->n4 == UDP_MC4_MAX)
		return -ENOBUFS;
	ret = igmp_join(u->b.st, g);
	if (ret)
		return ret;
	m = &mc->g4[mc->n4++];
	memset(m, 0, sizeof(*m));
	m->group = g;
	m->ifaddr = mr->imr_address.s_addr;
	m->include = include;
	if (!include)
		igmp_changed(u->b.st, 0);
	return 0;
}

/* udp_mc4_remove() - drop membership @m of @u and tell IGMP. */
static void udp_mc4_remove(struct udp_sock *u, struct udp_mc4 *m)
{
	struct udp_mc *mc = u->groups;
	uint32_t g = m->group;

	*m = mc->g4[--mc->n4];
	igmp_changed(u->b.st, igmp_leave(u->b.st, g) ? g : 0);
}

/*
 * udp_mc4_drop() - IP_DROP_MEMBERSHIP, as Linux's ip_mc_leave_group(): a
 * membership of the group on the interface named (by index, or by the
 * address it was joined with), any when neither is given.
 */
static int udp_mc4_drop(struct udp_sock *u, const struct ip_mreqn *mr)
{
	struct udp_mc4 *m = udp_mc4_find(u, mr->imr_multiaddr.s_addr);

	if (!m)
		return -EADDRNOTAVAIL;
	if (mr->imr_ifindex ? (unsigned)mr->imr_ifindex != UDP_MC_IFINDEX :
			      (mr->imr_address.s_addr &&
			       mr->imr_address.s_addr != m->ifaddr))
		return -EADDRNOTAVAIL;
	udp_mc4_remove(u, m);
	return 0;
}

/* udp_mc4_src_at() - index of @s in @m's sources, or -1. */
static int udp_mc4_src_at(const struct udp_mc4 *m, uint32_t s)
{
	unsigned i;

	for (i = 0; i < m->nsrc; i++)
		if (m->src[i] == s)
			return (int)i;
	return -1;
}

/**
 * udp_mc4_source() - the four source options, as Linux's ip_mc_source()
 * @u:		socket
 * @name:	IP_ADD/DROP_SOURCE_MEMBERSHIP, IP_BLOCK/UNBLOCK_SOURCE
 * @val:	a struct ip_mreq_source in host memory
 * @len:	exactly its size (Linux refuses any other)
 *
 * Return: 0, -EINVAL (length, not a group, no prior join for a block, a
 * mode the filter is not in), -ENODEV, -EADDRNOTAVAIL (a source not in
 * the list, or already in it), -ENOBUFS (UDP_MC4_SRC sources).
 */
static int udp_mc4_source(struct udp_sock *u, int name, const void *val,
			  socklen_t len)
{
	bool include = name == IP_ADD_SOURCE_MEMBERSHIP ||
		       name == IP_DROP_SOURCE_MEMBERSHIP;
	bool add = name == IP_ADD_SOURCE_MEMBERSHIP || name == IP_BLOCK_SOURCE;
	struct ip_mreq_source mrs;
	struct ip_mreqn mr;
	struct udp_mc4 *m;
	int ret, at;

	if (!val || len != sizeof(mrs))
		return -EINVAL;
	memcpy(&mrs, val, sizeof(mrs));
	memset(&mr, 0, sizeof(mr));
	mr.imr_multiaddr.s_addr = mrs.imr_multiaddr.s_addr;
	mr.imr_address.s_addr = mrs.imr_interface.s_addr;
	if (name == IP_ADD_SOURCE_MEMBERSHIP) {
		ret = udp_mc4_join(u, &mr, true);
		if (ret && ret != -EADDRINUSE)
			return ret;
	}
	if (!ip_is_mcast(mr.imr_multiaddr.s_addr))
		return -EINVAL;
	ret = udp_mc4_dev(u->b.st, &mr);
	if (ret)
		return ret;
	m = udp_mc4_find(u, mr.imr_multiaddr.s_addr);
	if (!m)
		return -EINVAL; /* a prior join is needed */
	if (m->include != include) {
		if (m->nsrc)
			return -EINVAL;
		m->include = include; /* an empty filter may switch */
	}
	at = udp_mc4_src_at(m, mrs.imr_sourceaddr.s_addr);
	if (!add) {
		if (at < 0)
			return -EADDRNOTAVAIL;
		if (m->nsrc == 1 && include) {
			udp_mc4_remove(u, m); /* INCLUDE {} is a leave */
			return 0;
		}
		m->src[at] = m->src[--m->nsrc];
		igmp_changed(u->b.st, 0);
		return 0;
	}
	if (m->nsrc == UDP_MC4_SRC)
		return -ENOBUFS;
	if (at >= 0)
		return -EADDRNOTAVAIL;
	m->src[m->nsrc++] = mrs.imr_sourceaddr.s_addr;
	igmp_changed(u->b.st, 0);
	return 0;
}

/*
 * udp_mc4_membership() - IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP with an
 * ip_mreq or (from its size on) an ip_mreqn, as do_ip_setsockopt() reads
 * them.
 */
static int udp_mc4_membership(struct udp_sock *u, bool join, const void *val,
			      socklen_t len)
{
	struct ip_mreqn mr;

	if (!val || len < sizeof(struct ip_mreq))
		return -EINVAL;
	memset(&mr, 0, sizeof(mr));
	memcpy(&mr, val,
	       len >= sizeof(mr) ? sizeof(mr) : sizeof(struct ip_mreq));
	return join ? udp_mc4_join(u, &mr, false) : udp_mc4_drop(u, &mr);
}

/**
 * udp_membership6() - IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP
 * @u:		socket
 * @join:	join, else leave
 * @val:	a struct ipv6_mreq in host memory
 * @len:	its length, checked before @val is read
 *
 * As Linux's ipv6_sock_mc_join()/_drop(): the interface 0 or ours; a
 * group joined twice is -EADDRINUSE, one not joined -EADDRNOTAVAIL. The
 * network layer counts the sockets (ip6_group_join()), takes the group's
 * frames and reports it by MLD.
 *
 * Return: 0, -EINVAL (short, not a group), -ENODEV, -EADDRINUSE,
 * -EADDRNOTAVAIL, -ENOBUFS (UDP_MC6_MAX here or the stack's table full),
 * -ENOMEM.
 */
static int udp_membership6(struct udp_sock *u, bool join, const void *val,
			   socklen_t len)
{
	struct ipv6_mreq mr;
	struct udp_mc *mc;
	unsigned i, n = u->groups ? u->groups->n6 : 0;
	int ret;

	if (!val || len < sizeof(mr))
		return -EINVAL;
	memcpy(&mr, val, sizeof(mr));
	if (!ip6_is_mc(&mr.ipv6mr_multiaddr))
		return -EINVAL;
	if (mr.ipv6mr_interface && mr.ipv6mr_interface != ip6_ifindex(u->b.st))
		return -ENODEV;
	for (i = 0; i < n && !ipx_eq(&u->groups->g6[i], &mr.ipv6mr_multiaddr);
	     i++)
		;
	if (!join) {
		if (i == n)
			return -EADDRNOTAVAIL;
		mc = u->groups;
		ip6_group_leave(u->b.st, &mc->g6[i]);
		mc->g6[i] = mc->g6[--mc->n6];
		return 0;
	}
	if (i < n)
		return -EADDRINUSE;
	if (n == UDP_MC6_MAX)
		return -ENOBUFS;
	mc = udp_mc_get(u);
	if (!mc)
		return -ENOMEM;
	ret = ip6_group_join(u->b.st, &mr.ipv6mr_multiaddr);
	if (ret)
		return ret;
	mc->g6[mc->n6++] = mr.ipv6mr_multiaddr;
	return 0;
}

int udp_mc_setsockopt(struct udp_sock *u, int level, int name, const void *val,
		      socklen_t len)
{
	int v, ret;

	if (level == IPPROTO_IPV6) {
		if (u->domain != AF_INET6 ||
		    (name != IPV6_JOIN_GROUP && name != IPV6_LEAVE_GROUP))
			return -ENOPROTOOPT;
		return udp_membership6(u, name == IPV6_JOIN_GROUP, val, len);
	}
	if (level != IPPROTO_IP)
		return -ENOPROTOOPT;
	switch (name) {
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
		return udp_mc4_membership(u, name == IP_ADD_MEMBERSHIP, val,
					  len);
	case IP_ADD_SOURCE_MEMBERSHIP:
	case IP_DROP_SOURCE_MEMBERSHIP:
	case IP_BLOCK_SOURCE:
	case IP_UNBLOCK_SOURCE:
		return udp_mc4_source(u, name, val, len);
	case IP_MULTICAST_ALL:
		if (len < 1)
			return -EINVAL;
		ret = cove_ipopt_read(val, len, &v);
		if (ret < 0)
			return ret;
		if (v != 0 && v != 1)
			return -EINVAL;
		u->mc_noall = !v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int udp_mc_getsockopt(const struct udp_sock *u, int level, int name, void *val,
		      socklen_t *len)
{
	if (level != IPPROTO_IP || name != IP_MULTICAST_ALL)
		return -ENOPROTOOPT;
	return cove_ipopt_put(val, len, !u->mc_noall);
}

void udp_mc_free(struct udp_sock *u)
{
	struct udp_mc *mc = u->groups;
	struct bstack *st = u->b.st;
	uint32_t g;

	if (!mc)
		return;
	while (mc->n6)
		ip6_group_leave(st, &mc->g6[--mc->n6]);
	while (mc->n4) {
		g = mc->g4[--mc->n4].group;
		if (igmp_leave(st, g))
			igmp_changed(st, g);
	}
	free(mc);
	u->groups = NULL;
}

bool udp_mc4_allow(const struct udp_sock *u, uint32_t g, uint32_t src)
{
	const struct udp_mc4 *m = udp_mc4_find(u, g);

	if (!m)
		return !u->mc_noall;
	return (udp_mc4_src_at(m, src) >= 0) == m->include;
}

unsigned udp_mc4_state(struct bstack *st, uint32_t g, bool *excl, uint32_t *src,
		       unsigned max)
{
	const struct udp_sock *u;
	const struct udp_mc4 *m;
	unsigned n = 0, i, j;

	*excl = false;
	for (u = st->udp->all; u; u = u->next) {
		m = udp_mc4_find(u, g);
		if (!m)
			continue;
		if (!m->include) {
			*excl = true;
			return 0;
		}
		for (i = 0; i < m->nsrc; i++) {
			for (j = 0; j < n && src[j] != m->src[i]; j++)
				;
			if (j == n && n < max)
				src[n++] = m->src[i];
		}
	}
	return n;
}
