/* SPDX-License-Identifier: Apache-2.0 */
/* rtnetlink requests over libmnl, shared by the runtime and the sentry. */
#ifndef COVE_NETLINK_NETLINK_H
#define COVE_NETLINK_NETLINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cove/err.h"

/*
 * Theory of operation
 *
 * One struct cove_nl is one NETLINK_ROUTE socket. Every request is one
 * message with NLM_F_ACK, sent and answered synchronously: the kernel's
 * ack carries the errno, which lands in @err->code (the call returns -1).
 * The one dump, cove_nl_route_list(), reads the host's routes so that the
 * runtime can refuse an --ip that overlaps one Cove did not make.
 * The runtime uses it on the host (the veth pair, the host end's address
 * and routes, the pool's fence route); the sentry inside the sandbox's
 * netns (lo, eth0, the default route, the ingress classifiers). Set-up and
 * clean-up only, never the data path. A struct cove_nl belongs to one
 * thread: requests and acks are matched by sequence number, one at a time.
 */

struct mnl_socket;

/* One NETLINK_ROUTE socket; its seq numbers the requests sent on it. */
struct cove_nl {
	struct mnl_socket *nl;
	uint32_t seq, portid;
};

/**
 * cove_nl_open() - open and bind a NETLINK_ROUTE socket (close-on-exec)
 * @nl:		filled; the socket talks to the netns of the calling thread
 *		at the time of the call, whatever setns() follows
 * @err:	reason on failure
 *
 * Return: 0, or -1 with @err set (@nl->nl is then NULL).
 */
int cove_nl_open(struct cove_nl *nl, struct cove_err *err);

/* cove_nl_close() - close the socket; safe on a closed or failed @nl. */
void cove_nl_close(struct cove_nl *nl);

/*
 * cove_nl_ifindex() - if_nametoindex() in the caller's current netns (not
 * necessarily @nl's). Return: the index, 0 when there is no such link.
 */
int cove_nl_ifindex(struct cove_nl *nl, const char *name);

/**
 * cove_nl_veth_add() - create a veth pair, the peer in another netns
 * @nl:		socket
 * @name:	this end, created in @nl's netns
 * @peer:	the other end's name
 * @peer_ns_pid: a process in the netns the peer is created in (so its
 *		name need only be free there); <= 0 keeps the peer here
 * @err:	reason on failure
 *
 * Both ends are created down and without addresses. NLM_F_EXCL: an
 * existing @name is an error (EEXIST), never reused.
 *
 * Return: 0, or -1 with @err set.
 */
int cove_nl_veth_add(struct cove_nl *nl, const char *name, const char *peer,
		     pid_t peer_ns_pid, struct cove_err *err);

/*
 * cove_nl_link_del() - delete link @name (a veth takes its peer with it).
 * Return: 0, or -1 with @err set (ENODEV when it is gone already).
 */
int cove_nl_link_del(struct cove_nl *nl, const char *name,
		     struct cove_err *err);

/**
 * cove_nl_link_set() - rename a link and/or set it up
 * @nl:		socket
 * @ifindex:	the link
 * @new_name:	new name, or NULL to keep it
 * @up:		true sets IFF_UP; false leaves the flags as they are (it
 *		never takes a link down)
 * @err:	reason on failure
 *
 * Return: 0, or -1 with @err set.
 */
int cove_nl_link_set(struct cove_nl *nl, int ifindex, const char *new_name,
		     bool up, struct cove_err *err);

/**
 * cove_nl_addr_add() - give a link an IPv4 address (replaces the same one)
 * @nl:		socket
 * @ifindex:	the link
 * @addr:	address, also the peer address (IFA_ADDRESS == IFA_LOCAL)
 * @prefix:	prefix length; the kernel adds the prefix route for it
 * @err:	reason on failure
 *
 * Return: 0, or -1 with @err set.
 */
int cove_nl_addr_add(struct cove_nl *nl, int ifindex, struct in_addr addr,
		     uint8_t prefix, struct cove_err *err);

/**
 * cove_nl_route_add() - add or replace a unicast route in the main table
 * @nl:		socket
 * @dst:	destination (ignored when @prefix is 0: the default route)
 * @prefix:	prefix length
 * @gw:		gateway, or INADDR_ANY for a link-scope route out of @ifindex
 * @ifindex:	output interface
 * @err:	reason on failure
 *
 * NLM_F_REPLACE: an existing route for the same prefix is overwritten.
 *
 * Return: 0, or -1 with @err set.
 */
int cove_nl_route_add(struct cove_nl *nl, struct in_addr dst, uint8_t prefix,
		      struct in_addr gw, int ifindex, struct cove_err *err);

/*
 * cove_nl_route_fence() - an "unreachable" route for @dst/@prefix unless a
 * route for exactly that prefix exists already (then nothing changes).
 * Return: 0, or -1 with @err set.
 */
int cove_nl_route_fence(struct cove_nl *nl, struct in_addr dst, uint8_t prefix,
			struct cove_err *err);

/**
 * cove_nl_addr6_add() - add an IPv6 address to a link, without DAD
 * @nl:		socket
 * @ifindex:	the link
 * @addr:	address
 * @prefix:	prefix length (0..128); the kernel adds the prefix route
 * @err:	reason on failure
 *
 * IFA_F_NODAD: Cove's addresses are unique by construction (one per
 * sandbox, under the global lock), so the address is usable at once
 * instead of "tentative" for a second.
 *
 * Return: 0, or -1 with @err set.
 */
int cove_nl_addr6_add(struct cove_nl *nl, int ifindex,
		      const struct in6_addr *addr, uint8_t prefix,
		      struct cove_err *err);

/**
 * cove_nl_route6_add() - add or replace an IPv6 unicast route (main table)
 * @nl:		socket
 * @dst:	destination (ignored when @prefix is 0: the default route)
 * @prefix:	prefix length
 * @gw:		gateway, or NULL for a route straight out of @ifindex
 * @ifindex:	output interface
 * @err:	reason on failure
 *
 * Return: 0, or -1 with @err set.
 */
int cove_nl_route6_add(struct cove_nl *nl, const struct in6_addr *dst,
		       uint8_t prefix, const struct in6_addr *gw, int ifindex,
		       struct cove_err *err);

/* cove_nl_route6_fence() - cove_nl_route_fence() for an IPv6 prefix. */
int cove_nl_route6_fence(struct cove_nl *nl, const struct in6_addr *dst,
			 uint8_t prefix, struct cove_err *err);

/* One route of a dump (cove_nl_route_list(), cove_nl_route6_list()). */
struct cove_nl_route {
	struct in_addr dst;   /* network order; 0 for a default route */
	struct in6_addr dst6; /* the same, for an IPv6 route */
	uint8_t prefix;
	uint8_t type;	/* RTN_UNICAST, RTN_LOCAL, RTN_UNREACHABLE, ... */
	uint32_t table; /* RT_TABLE_MAIN, RT_TABLE_LOCAL, ... */
	int oif;	/* output interface, 0 when none */
};

/**
 * cove_nl_route_list() - every IPv4 route of every table of @nl's netns
 * @nl:		socket
 * @out:	set to a malloc'd array (the caller frees it), NULL when empty
 * @n:		set to its length
 * @err:	reason on failure
 *
 * One RTM_GETROUTE dump. Multipath routes are listed once, without an
 * output interface.
 *
 * Return: 0, or -1 with @err set (@out is then NULL).
 */
int cove_nl_route_list(struct cove_nl *nl, struct cove_nl_route **out,
		       unsigned *n, struct cove_err *err);

/* cove_nl_route6_list() - cove_nl_route_list() for IPv6 routes (@dst6). */
int cove_nl_route6_list(struct cove_nl *nl, struct cove_nl_route **out,
			unsigned *n, struct cove_err *err);

/* cove_nl_ingress_drop() - cove_nl_ingress_redirect() with @to 0: drop. */
int cove_nl_ingress_drop(struct cove_nl *nl, int ifindex, struct cove_err *err);

/**
 * cove_nl_ingress_redirect() - every frame arriving on @ifindex leaves by
 * the egress of @to, or is dropped when @to is 0
 * @nl:		socket
 * @ifindex:	the link whose ingress is taken over
 * @to:		ifindex to redirect to, 0 to drop
 * @err:	reason on failure
 *
 * Adds a clsact qdisc (an existing one is reused) and, on its ingress, a
 * two- or four-instruction BPF classifier in direct-action mode (this
 * kernel has cls_bpf but not matchall or gact). The kernel keeps the
 * program once attached; its fd is closed here. On failure a qdisc added
 * here stays: remove it with cove_nl_qdisc_del_clsact(), which also removes
 * the filter.
 *
 * Return: 0, or -1 with @err set.
 */
int cove_nl_ingress_redirect(struct cove_nl *nl, int ifindex, int to,
			     struct cove_err *err);

/*
 * cove_nl_qdisc_del_clsact() - remove @ifindex's clsact qdisc and the
 * filters on it. Return: 0 or negative errno (no @err: clean-up paths
 * ignore it).
 */
int cove_nl_qdisc_del_clsact(struct cove_nl *nl, int ifindex);

/*
 * cove_nl_xdp_detach() - remove any XDP program from @ifindex, in driver
 * and in generic mode. Return: 0, or the first negative errno (no @err:
 * clean-up paths ignore it).
 */
int cove_nl_xdp_detach(struct cove_nl *nl, int ifindex);

#endif /* COVE_NETLINK_NETLINK_H */
