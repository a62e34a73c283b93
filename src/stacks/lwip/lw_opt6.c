// SPDX-License-Identifier: Apache-2.0
/* lwip provider: IPPROTO_IPV6 socket options, and TTL/TOS onto the PCB. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/mld6.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "stacks/lwip/lw.h"

/*
 * Theory of operation
 *
 * The options of AF_INET6 sockets, checked as Linux checks them. lwIP
 * keeps one TTL, one TOS, one multicast TTL and one multicast-loop flag
 * per PCB for both families, so IPV6_UNICAST_HOPS is IP_TTL,
 * IPV6_TCLASS is IP_TOS, IPV6_MULTICAST_HOPS is IP_MULTICAST_TTL and
 * IPV6_MULTICAST_LOOP is IP_MULTICAST_LOOP here; lw_ip_apply() writes them
 * onto the PCB for both. IPV6_V6ONLY retypes an unbound PCB
 * (lw_retype()). Group memberships (IPV6_JOIN_GROUP, UDP only) are lwIP's
 * MLD joins on the link's netif, reference-counted by lwIP; each socket
 * keeps the groups it joined (at most LW_MC6_MAX, an array allocated at
 * the first join) and leaves them when it closes (lw_mc6_drop()). As on
 * Linux (IPV6_MULTICAST_ALL on), a datagram to a joined group reaches every
 * socket bound to its port. This file calls no other of the provider's.
 */

#define LW_MC6_MAX 20u /* groups per socket, as Linux's IP_MAX_MEMBERSHIPS */

/* lw6_int() - an int option value: Linux takes no shorter one here. */
static int lw6_int(const void *val, socklen_t len, int *out)
{
	if (!val || len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

/* lw_ip_apply() - TOS, TTL and the multicast options onto the PCB. */
void lw_ip_apply(struct cove_sock *s)
{
	ip4_addr_t a;

	if (s->type == SOCK_STREAM) {
		if (s->pcb.tcp) {
			s->pcb.tcp->tos = s->tos;
			s->pcb.tcp->ttl = s->ttl ? s->ttl : LW_DEFAULT_TTL;
		}
		return;
	}
	if (!s->pcb.udp)
		return;
	s->pcb.udp->tos = s->tos;
	s->pcb.udp->ttl = s->ttl ? s->ttl : LW_DEFAULT_TTL;
	udp_set_multicast_ttl(s->pcb.udp, s->mc.ttl_set ? s->mc.ttl : 1);
	if (s->mc.noloop)
		udp_clear_flags(s->pcb.udp, UDP_FLAGS_MULTICAST_LOOP);
	else
		udp_set_flags(s->pcb.udp, UDP_FLAGS_MULTICAST_LOOP);
	ip4_addr_set_u32(&a, s->mc.ifaddr);
	udp_set_multicast_netif_addr(s->pcb.udp, &a);
}

/**
 * lw_mc6_req() - a struct ipv6_mreq from the program, checked as Linux does
 * @s:		UDP socket
 * @val:	the request in host memory
 * @len:	its length
 * @g:		the group, zoned for the link
 *
 * Return: 0, -EINVAL (short, not multicast), -ENODEV (an interface but
 * ours).
 */
static int lw_mc6_req(const struct cove_sock *s, const void *val, socklen_t len,
		      ip6_addr_t *g)
{
	struct ipv6_mreq mr;

	if (!val || len < sizeof(mr))
		return -EINVAL;
	memcpy(&mr, val, sizeof(mr));
	if (!IN6_IS_ADDR_MULTICAST(&mr.ipv6mr_multiaddr))
		return -EINVAL;
	if (mr.ipv6mr_interface &&
	    mr.ipv6mr_interface != netif_get_index(&s->st->netif))
		return -ENODEV;
	memcpy(g->addr, mr.ipv6mr_multiaddr.s6_addr, 16);
	ip6_addr_clear_zone(g);
	ip6_addr_assign_zone(g, IP6_MULTICAST, &s->st->netif);
	return 0;
}

/* lw_mc6_find() - the slot of @g among @s's groups, or -1. */
static int lw_mc6_find(const struct cove_sock *s, const ip6_addr_t *g)
{
	unsigned i;

	for (i = 0; i < s->nmc6; i++)
		if (ip6_addr_cmp(&s->mc6[i], g))
			return (int)i;
	return -1;
}

/**
 * lw_mc6_member() - IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP
 * @s:		socket (UDP; TCP gets -EPROTO as on Linux)
 * @join:	join, else leave
 * @val:	struct ipv6_mreq in host memory
 * @len:	its length
 *
 * Return: 0; lw_mc6_req()'s errors; -EADDRINUSE (joined already),
 * -EADDRNOTAVAIL (leaving a group not joined), -ENOBUFS (LW_MC6_MAX
 * groups), -ENOMEM, -EPROTO (TCP).
 */
static int lw_mc6_member(struct cove_sock *s, bool join, const void *val,
			 socklen_t len)
{
	ip6_addr_t g;
	int i, ret;

	if (s->type != SOCK_DGRAM)
		return -EPROTO;
	ret = lw_mc6_req(s, val, len, &g);
	if (ret)
		return ret;
	i = lw_mc6_find(s, &g);
	if (!join) {
		if (i < 0)
			return -EADDRNOTAVAIL;
		(void)mld6_leavegroup_netif(&s->st->netif, &g);
		s->mc6[i] = s->mc6[--s->nmc6];
		return 0;
	}
	if (i >= 0)
		return -EADDRINUSE;
	if (s->nmc6 >= LW_MC6_MAX)
		return -ENOBUFS;
	if (!s->mc6 && !(s->mc6 = calloc(LW_MC6_MAX, sizeof(*s->mc6))))
		return -ENOMEM;
	if (mld6_joingroup_netif(&s->st->netif, &g) != ERR_OK)
		return -ENOMEM;
	s->mc6[s->nmc6++] = g;
	return 0;
}

/* lw_mc6_drop() - leave every group @s joined (it is closing). */
void lw_mc6_drop(struct cove_sock *s)
{
	while (s->nmc6)
		(void)mld6_leavegroup_netif(&s->st->netif, &s->mc6[--s->nmc6]);
	free(s->mc6);
	s->mc6 = NULL;
}

/**
 * lw_mc6_opt() - IPV6_MULTICAST_HOPS (-1..255, -1: 1), IPV6_MULTICAST_LOOP
 * (0 or 1), IPV6_MULTICAST_IF (0 or our interface), UDP only
 * @s:		socket
 * @name:	option
 * @v:		its value
 *
 * Return: 0, -EINVAL, -ENODEV, -ENOPROTOOPT (TCP, or another option).
 */
static int lw_mc6_opt(struct cove_sock *s, int name, int v)
{
	if (s->type != SOCK_DGRAM)
		return -ENOPROTOOPT;
	switch (name) {
	case IPV6_MULTICAST_HOPS:
		if (v < -1 || v > 255)
			return -EINVAL;
		s->mc.ttl = v < 0 ? 1 : (uint8_t)v;
		s->mc.ttl_set = true;
		return 0;
	case IPV6_MULTICAST_LOOP:
		if (v != 0 && v != 1)
			return -EINVAL;
		s->mc.noloop = !v;
		return 0;
	case IPV6_MULTICAST_IF:
		if (v && (unsigned)v != netif_get_index(&s->st->netif))
			return -ENODEV;
		s->mcif6 = (uint8_t)v;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* lw_bound() - has @s a local port (bind, listen, connect or a send)? */
static bool lw_bound(const struct cove_sock *s)
{
	if (s->type == SOCK_STREAM)
		return s->state != LW_NEW ||
		       (s->pcb.tcp && s->pcb.tcp->local_port);
	return s->pcb.udp && s->pcb.udp->local_port;
}

/*
 * lw_retype() - an unbound PCB's wildcard follows IPV6_V6ONLY: of
 * IPADDR_TYPE_V6 (lwIP gives it no IPv4) or IPADDR_TYPE_ANY.
 */
static void lw_retype(struct cove_sock *s)
{
	if (s->type == SOCK_STREAM && s->pcb.tcp)
		lw_wildcard(s, &s->pcb.tcp->local_ip);
	else if (s->type == SOCK_DGRAM && s->pcb.udp)
		lw_wildcard(s, &s->pcb.udp->local_ip);
}

/**
 * lw_ip6_remember() - the IPPROTO_IPV6 options Linux accepts that only
 * need remembering here: IPV6_MTU_DISCOVER (lwIP fragments at the source
 * whatever it says), IPV6_RECVERR (no error queue), IPV6_RECVPKTINFO (the
 * sentry makes no control messages)
 * @s:		socket
 * @name:	option
 * @v:		its value
 *
 * Return: 0, -EINVAL (IPV6_MTU_DISCOVER out of range), -ENOPROTOOPT.
 */
static int lw_ip6_remember(struct cove_sock *s, int name, int v)
{
	switch (name) {
	case IPV6_MTU_DISCOVER:
		if (v < IPV6_PMTUDISC_DONT || v > IPV6_PMTUDISC_OMIT)
			return -EINVAL;
		s->pmtudisc6 = (uint8_t)v;
		return 0;
	case IPV6_RECVERR:
		s->recverr6 = v != 0;
		return 0;
	case IPV6_RECVPKTINFO:
		s->pktinfo6 = v != 0;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/**
 * lw_set_ip6() - setsockopt() at IPPROTO_IPV6, AF_INET6 sockets only
 * @s:		socket
 * @name:	IPV6_V6ONLY (before the socket is bound, as Linux),
 *		IPV6_UNICAST_HOPS or IPV6_TCLASS (-1..255, -1 the default;
 *		they share the PCB's TTL and TOS with IP_TTL and IP_TOS),
 *		IPV6_JOIN_GROUP/IPV6_LEAVE_GROUP (lw_mc6_member()), the
 *		multicast ones (lw_mc6_opt()), or one of lw_ip6_remember()'s
 * @val:	an int in host memory
 * @len:	its length
 *
 * Return: 0, -EINVAL (short, out of range, bound), -ENOPROTOOPT.
 */
int lw_set_ip6(struct cove_sock *s, int name, const void *val, socklen_t len)
{
	int v, ret;

	if (s->family != AF_INET6)
		return -ENOPROTOOPT;
	if (name == IPV6_JOIN_GROUP || name == IPV6_LEAVE_GROUP)
		return lw_mc6_member(s, name == IPV6_JOIN_GROUP, val, len);
	ret = lw6_int(val, len, &v);
	if (ret)
		return ret;
	switch (name) {
	case IPV6_V6ONLY:
		if (lw_bound(s))
			return -EINVAL;
		s->v6only = v != 0;
		lw_retype(s);
		return 0;
	case IPV6_UNICAST_HOPS:
		if (v < -1 || v > 255)
			return -EINVAL;
		s->ttl = v < 0 ? 0 : (uint8_t)v; /* 0: the default */
		break;
	case IPV6_TCLASS:
		if (v < -1 || v > 255)
			return -EINVAL;
		v = v < 0 ? 0 : v;
		s->tos = s->type == SOCK_STREAM ?
				 (uint8_t)((v & ~3) | (s->tos & 3)) :
				 (uint8_t)v;
		break;
	case IPV6_MULTICAST_HOPS:
	case IPV6_MULTICAST_LOOP:
	case IPV6_MULTICAST_IF:
		ret = lw_mc6_opt(s, name, v);
		if (ret)
			return ret;
		break;
	default:
		return lw_ip6_remember(s, name, v);
	}
	lw_ip_apply(s);
	return 0;
}

/* lw_get_ip6() - getsockopt() at IPPROTO_IPV6, answered as Linux does. */
int lw_get_ip6(const struct cove_sock *s, int name, void *val, socklen_t *len)
{
	if (s->family != AF_INET6)
		return -ENOPROTOOPT;
	switch (name) {
	case IPV6_V6ONLY:
		return cove_ipopt_put(val, len, s->v6only);
	case IPV6_UNICAST_HOPS:
		return cove_ipopt_put(val, len,
				      s->ttl ? s->ttl : LW_DEFAULT_TTL);
	case IPV6_TCLASS:
		return cove_ipopt_put(val, len, s->tos);
	case IPV6_MTU_DISCOVER:
		return cove_ipopt_put(val, len, s->pmtudisc6);
	case IPV6_RECVERR:
		return cove_ipopt_put(val, len, s->recverr6);
	case IPV6_RECVPKTINFO:
		return cove_ipopt_put(val, len, s->pktinfo6);
	default:
		break;
	}
	if (s->type != SOCK_DGRAM)
		return -ENOPROTOOPT;
	switch (name) {
	case IPV6_MULTICAST_HOPS:
		return cove_ipopt_put(val, len, s->mc.ttl_set ? s->mc.ttl : 1);
	case IPV6_MULTICAST_LOOP:
		return cove_ipopt_put(val, len, !s->mc.noloop);
	case IPV6_MULTICAST_IF:
		return cove_ipopt_put(val, len, s->mcif6);
	default:
		return -ENOPROTOOPT;
	}
}
