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

/* rt_is_fence() - is @x one of the pools' unreachable fences? */
static bool rt_is_fence(const struct sbx_pools *p, bool v6,
			const struct cove_nl_route *x)
{
	if (x->type != RTN_UNREACHABLE)
		return false;
	if (v6)
		return x->prefix == p->prefix6 &&
		       !memcmp(&x->dst6, &p->net6, sizeof(x->dst6));
	return x->prefix == p->prefix && x->dst.s_addr == p->net.s_addr;
}

/**
 * rt_host_routes() - the host's IPv4 or IPv6 routes and local addresses
 * @p:		the pools (their fences are Cove's)
 * @v6:		IPv6 routes instead of IPv4 ones
 * @out:	set to a malloc'd array (caller frees), NULL when empty
 * @n:		its length
 * @err:	reason
 *
 * Broadcast, multicast and anycast entries of the local table say nothing
 * an address or subnet route does not, and are left out.
 *
 * Return: 0 or -1.
 */
static int rt_host_routes(const struct sbx_pools *p, bool v6,
			  struct rt_route **out, unsigned *n,
			  struct cove_err *err)
{
	cove_cleanup_free struct cove_nl_route *nr = NULL;
	struct cove_nl nl = { 0 };
	struct rt_route *r;
	unsigned i, k = 0, cnt = 0;
	bool gone;

	*out = NULL;
	*n = 0;
	if (cove_nl_open(&nl, err) < 0)
		return -1;
	if ((v6 ? cove_nl_route6_list : cove_nl_route_list)(&nl, &nr, &cnt,
							    err) < 0) {
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
		r[k].dst6 = x->dst6;
		r[k].prefix = x->prefix;
		r[k].local = x->type == RTN_LOCAL;
		gone = x->oif && !if_indextoname((unsigned)x->oif, r[k].dev);
		if (!x->oif || gone)
			r[k].dev[0] = '\0';
		/* A route whose interface vanished since the dump is going
		 * with it: a sandbox's host end being deleted, most likely. */
		r[k].cove = gone || rt_is_host_end(r[k].dev) ||
			    rt_is_fence(p, v6, x);
		k++;
	}
	*out = r;
	*n = k;
	return 0;
}

/**
 * rt_conflict_msg() - the one line for a subnet that overlaps @r
 * @what:	"--ip", "--ip6", "pool" ...
 * @net:	the subnet as text ("A.B.C.D/N", "ADDR/N")
 * @r:		the route or local address in the way
 * @v6:		@r is an IPv6 one
 * @err:	set
 *
 * Return: -1.
 */
static int rt_conflict_msg(const char *what, const char *net,
			   const struct rt_route *r, bool v6,
			   struct cove_err *err)
{
	char dst[INET6_ADDRSTRLEN];
	struct in_addr d = { htonl(r->dst) };

	if (v6)
		inet_ntop(AF_INET6, &r->dst6, dst, sizeof(dst));
	else
		inet_ntop(AF_INET, &d, dst, sizeof(dst));
	if (r->local)
		return cove_err_set(
			err, 0, "%s: %s overlaps %s/%u, local to this host%s%s",
			what, net, dst, r->prefix, r->dev[0] ? " on " : "",
			r->dev);
	return cove_err_set(
		err, 0,
		"%s: %s overlaps the host's route %s/%u%s%s, which Cove did not make",
		what, net, dst, r->prefix, r->dev[0] ? " dev " : "", r->dev);
}

/**
 * rt_check_ip_routes() - refuse an IPv4 subnet that overlaps the host's
 * @o:		options (the pools)
 * @what:	"--ip", or "pool" for the pool itself
 * @ip:		the subnet's address
 * @prefix:	its length
 * @err:	one line naming the route or address in the way
 *
 * Return: 0 or -1.
 */
static int rt_check_ip_routes(const struct sbx_opts *o, const char *what,
			      struct in_addr ip, uint8_t prefix,
			      struct cove_err *err)
{
	cove_cleanup_free struct rt_route *r = NULL;
	char net[INET_ADDRSTRLEN + 4];
	unsigned n;
	int i;

	if (rt_host_routes(&o->pools, false, &r, &n, err) < 0)
		return cove_err_prefix(err, "%s", what);
	i = rt_route_conflict(&o->pools, ip, prefix, r, n);
	if (i < 0)
		return 0;
	inet_ntop(AF_INET, &ip, net, INET_ADDRSTRLEN);
	snprintf(net + strlen(net), 5, "/%u", prefix);
	return rt_conflict_msg(what, net, &r[i], false, err);
}

/**
 * rt_check_ip6_routes() - refuse an IPv6 subnet that overlaps the host's
 * @o:		options (the pools)
 * @what:	"--ip6", or "pool6" for the pool's sandbox subnet
 * @ip:		the subnet's address
 * @prefix:	its length
 * @err:	one line naming the route or address in the way
 *
 * Return: 0 or -1.
 */
static int rt_check_ip6_routes(const struct sbx_opts *o, const char *what,
			       const struct in6_addr *ip, uint8_t prefix,
			       struct cove_err *err)
{
	cove_cleanup_free struct rt_route *r = NULL;
	char net[INET6_ADDRSTRLEN + 5];
	unsigned n;
	int i;

	if (rt_host_routes(&o->pools, true, &r, &n, err) < 0)
		return cove_err_prefix(err, "%s", what);
	i = rt_route6_conflict(&o->pools, ip, prefix, r, n);
	if (i < 0)
		return 0;
	inet_ntop(AF_INET6, ip, net, INET6_ADDRSTRLEN);
	snprintf(net + strlen(net), 6, "/%u", prefix);
	return rt_conflict_msg(what, net, &r[i], true, err);
}

/**
 * rt_check_addresses() - the addresses this sandbox will put on the host
 * must not overlap what the host has (see the theory above)
 * @o:		options
 * @err:	one line naming the route or address in the way
 *
 * An explicit --ip or --ip6 is checked as given; an address the pools
 * will give is checked as the whole pool (IPv4) or the pool's sandbox
 * subnet (IPv6), so a pool in cove.conf that overlaps a route Cove did
 * not make is refused before any sandbox uses it.
 *
 * Return: 0 or -1.
 */
static int rt_check_addresses(const struct sbx_opts *o, struct cove_err *err)
{
	struct in6_addr sub6 = o->pools.net6;
	uint8_t p6;
	struct in6_addr gw6;
	struct in_addr none = { 0 };

	if (o->netns_path || o->mode == SBX_NET_NONE ||
	    (o->oci && o->oci->host_netns))
		return 0;
	if (o->have_ip ? rt_check_ip_routes(o, "--ip", o->ip, o->prefix_len,
					    err) < 0 :
			 rt_check_ip_routes(o, "pool", o->pools.net,
					    o->pools.prefix, err) < 0)
		return -1;
	if (o->ipv4_only)
		return 0;
	if (o->ip6_given)
		return rt_check_ip6_routes(o, "--ip6", &o->ip6, o->prefix6_len,
					   err);
	rt_ip6_derive(&o->pools, none, &sub6, &p6, &gw6);
	return rt_check_ip6_routes(o, "pool6", &sub6, p6, err);
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

	if (rt_check_addresses(o, err) < 0)
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
