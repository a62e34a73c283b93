// SPDX-License-Identifier: Apache-2.0
/* What the host already uses: routes an --ip must not overlap, bound ports. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "netlink/netlink.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * Checked before the runtime makes anything, so a refusal leaves nothing
 * behind and is one line:
 *
 *  - an explicit --ip: its subnet must not overlap a route or a local
 *    address of the host that Cove did not make (rt_route_conflict()).
 *    Cove's are the routes on a host end "cvXXXXXXXX" (each sandbox's /32
 *    and, in the local table, its gateway) and the pool's unreachable
 *    fence. One rtnetlink dump lists every table; the rule itself is pure
 *    (ipam.c) and unit tested.
 *  - every --publish host port: nothing on the host may have it bound, on
 *    any address, IPv4 or IPv6 (the DNAT rule would take the traffic of a
 *    listener on 127.0.0.1:PORT as much as of one on 0.0.0.0:PORT). The
 *    test is the kernel's own: bind [::]:PORT dual-stack with SO_REUSEADDR,
 *    which fails with EADDRINUSE exactly when a socket has the port bound
 *    or listening on some address (SO_REUSEADDR lets only sockets that are
 *    neither, e.g. connections using it as their local port, share it).
 *    Without IPv6, 0.0.0.0:PORT. A process that binds the port after the
 *    check is not seen: the check is there to catch the mistake, not to
 *    hold the port.
 *
 * That no other live sandbox publishes the port is state.c's, under the
 * global lock.
 */

/* rt_is_host_end() - is @dev the name of a Cove host end, cvXXXXXXXX? */
static bool rt_is_host_end(const char *dev)
{
	size_t i;

	if (strncmp(dev, "cv", 2) || strlen(dev) != 10)
		return false;
	for (i = 2; i < 10; i++)
		if (!strchr("0123456789abcdef", dev[i]))
			return false;
	return true;
}

/**
 * rt_host_routes() - the host's IPv4 routes and local addresses
 * @out:	set to a malloc'd array (caller frees), NULL when empty
 * @n:		its length
 * @err:	reason
 *
 * Broadcast, multicast and anycast entries of the local table say nothing
 * an address or subnet route does not, and are left out.
 *
 * Return: 0 or -1.
 */
static int rt_host_routes(struct rt_route **out, unsigned *n,
			  struct cove_err *err)
{
	cove_cleanup_free struct cove_nl_route *nr = NULL;
	struct cove_nl nl = { 0 };
	struct rt_route *r;
	unsigned i, k = 0, cnt = 0;

	*out = NULL;
	*n = 0;
	if (cove_nl_open(&nl, err) < 0)
		return -1;
	if (cove_nl_route_list(&nl, &nr, &cnt, err) < 0) {
		cove_nl_close(&nl);
		return -1;
	}
	cove_nl_close(&nl);
	r = calloc(cnt ? cnt : 1, sizeof(*r));
	if (!r)
		return cove_err_set(err, ENOMEM, "listing the host's routes");
	for (i = 0; i < cnt; i++) {
		const struct cove_nl_route *x = &nr[i];

		if (x->type == RTN_BROADCAST || x->type == RTN_MULTICAST ||
		    x->type == RTN_ANYCAST)
			continue;
		r[k].dst = ntohl(x->dst.s_addr);
		r[k].prefix = x->prefix;
		r[k].local = x->type == RTN_LOCAL;
		if (!x->oif || !if_indextoname((unsigned)x->oif, r[k].dev))
			r[k].dev[0] = '\0';
		r[k].cove = rt_is_host_end(r[k].dev) ||
			    (x->type == RTN_UNREACHABLE &&
			     r[k].dst == SBX_POOL_NET &&
			     x->prefix == SBX_POOL_PREFIX);
		k++;
	}
	*out = r;
	*n = k;
	return 0;
}

/**
 * rt_check_ip_routes() - refuse an --ip whose subnet overlaps the host's
 * @o:		options with an explicit --ip
 * @err:	one line naming the route or address in the way
 *
 * Return: 0 or -1.
 */
static int rt_check_ip_routes(const struct sbx_opts *o, struct cove_err *err)
{
	cove_cleanup_free struct rt_route *r = NULL;
	char ip[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	struct in_addr d;
	unsigned n;
	int i;

	if (rt_host_routes(&r, &n, err) < 0)
		return cove_err_prefix(err, "--ip");
	i = rt_route_conflict(o->ip, o->prefix_len, r, n);
	if (i < 0)
		return 0;
	inet_ntop(AF_INET, &o->ip, ip, sizeof(ip));
	d.s_addr = htonl(r[i].dst);
	inet_ntop(AF_INET, &d, dst, sizeof(dst));
	if (r[i].local)
		return cove_err_set(
			err, 0,
			"--ip: %s/%u overlaps %s/%u, local to this host%s%s",
			ip, o->prefix_len, dst, r[i].prefix,
			r[i].dev[0] ? " on " : "", r[i].dev);
	return cove_err_set(
		err, 0,
		"--ip: %s/%u overlaps the host's route %s/%u%s%s, which Cove did not make",
		ip, o->prefix_len, dst, r[i].prefix, r[i].dev[0] ? " dev " : "",
		r[i].dev);
}

/**
 * rt_port_bound() - does a socket of the host have TCP @port bound?
 * @port:	host port
 *
 * Return: 1 bound (or listening) on some address, 0 free, -errno when the
 * probe itself failed.
 */
static int rt_port_bound(uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	cove_cleanup_close int fd = -1;
	int one = 1, zero = 0, r;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				 sizeof(zero));
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one));
		r = bind(fd, (struct sockaddr *)&a6, sizeof(a6));
	} else {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one));
		r = bind(fd, (struct sockaddr *)&a4, sizeof(a4));
	}
	if (r == 0)
		return 0;
	return errno == EADDRINUSE ? 1 : -errno;
}

int rt_host_check(const struct sbx_opts *o, struct cove_err *err)
{
	unsigned i;
	int r;

	if (o->have_ip && !o->netns_path && o->mode != SBX_NET_NONE &&
	    rt_check_ip_routes(o, err) < 0)
		return -1;
	for (i = 0; i < o->npublish; i++) {
		r = rt_port_bound(o->publish[i].host_port);
		if (r > 0)
			return cove_err_set(
				err, 0,
				"--publish: host port %u is in use: a process on this host has it bound",
				o->publish[i].host_port);
		if (r < 0)
			return cove_err_set(
				err, -r, "--publish: cannot check host port %u",
				o->publish[i].host_port);
	}
	return 0;
}
