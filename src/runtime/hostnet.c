// SPDX-License-Identifier: Apache-2.0
/* The host end of a sandbox's network: the veth pair, its address and routes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "netlink/netlink.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * Point-to-point addressing, no bridge: every sandbox gets its own veth
 * pair. The host end "cvXXXXXXXX" (the sandbox address in hex, so names
 * are unique exactly while addresses are) carries the gateway address as a
 * /32 (the same gateway on every host end is fine for Linux) and a /32
 * route to the sandbox; with IPv6, the IPv6 gateway as a /128 (no DAD: it
 * is the same on every host end, which is fine for Linux too) and a /128
 * route to the sandbox's IPv6 address. Neighbours are found by ARP and
 * neighbour discovery over the pair, answered by the sandbox's stack (or
 * its kernel under --network=kernel). The sandbox end, created as "csXXXXXXXX" straight
 * into the sandbox netns, is renamed eth0 and gets the sandbox address
 * with its prefix and a default route via the gateway. Deleting the host
 * end, or the netns dying, removes the pair: nothing to leak but the name.
 *
 * For link-based stacks the netns's kernel must not answer on eth0 while
 * eth0 keeps its address (so `ip addr` inside shows the truth): a clsact
 * qdisc with a direct-action BPF program returning TC_ACT_SHOT drops every
 * frame at ingress, after AF_PACKET taps (the stack's link) have seen it;
 * IPv6 is disabled on eth0 so the kernel sends no router solicitations or
 * DAD probes of its own. The host end has TSO/GSO off so that frames
 * arrive at the AF_PACKET ring no larger than the MTU. With --link=xdp the
 * same holds (the XDP program takes every frame before tc would), and the
 * host end also has tx checksumming off: AF_XDP hands over a frame the
 * host's kernel left checksum-partial with only its pseudo-header sum (and
 * so do DPDK's af_packet, af_xdp and tap PMDs: --link=dpdk the same).
 *
 * With --link=tap the stack's link is a TAP device "cove0" in the sandbox
 * netns instead, spliced to eth0 by two more BPF classifiers: whatever
 * arrives on eth0 leaves by cove0's egress (the stack reads it from the
 * TAP) and whatever the stack writes to cove0 leaves by eth0's egress. The
 * kernel stack sees neither: eth0 keeps its address for tools that list
 * interfaces, cove0 has none, IPv6 is off on both.
 */

/* rt_ethtool_off() - switch one legacy ethtool feature off. */
static void rt_ethtool_off(int fd, const char *ifname, uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd, .data = 0 };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	(void)ioctl(fd, SIOCETHTOOL, &ifr);
}

/**
 * rt_host_end_up() - the host end of a new pair: offloads off, the gateway
 * address, up, the route to the sandbox, the pool fence
 * @nl:		rtnetlink socket
 * @o:		options (address, gateway, pool_ip)
 * @host:	the host end's name
 * @err:	reason
 *
 * Return: 0 or -1; the caller deletes the pair on failure.
 */
static int rt_host_end_up(struct cove_nl *nl, const struct sbx_opts *o,
			  const char *host, struct cove_err *err)
{
	struct in_addr any = { 0 };
	int idx;

	idx = cove_nl_ifindex(nl, host);
	if (!idx)
		return cove_err_set(err, errno, "veth %s vanished", host);
	{
		cove_cleanup_close int fd =
			socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd >= 0) {
			rt_ethtool_off(fd, host, ETHTOOL_STSO);
			rt_ethtool_off(fd, host, ETHTOOL_SGSO);
			/* AF_XDP and DPDK's PMDs carry no checksum state:
			 * send complete ones */
			if (o->link == SBX_LINK_XDP || o->link == SBX_LINK_DPDK)
				rt_ethtool_off(fd, host, ETHTOOL_STXCSUM);
		}
	}
	if (cove_nl_addr_add(nl, idx, o->gateway, 32, err) < 0 ||
	    cove_nl_link_set(nl, idx, NULL, true, err) < 0 ||
	    cove_nl_route_add(nl, o->ip, 32, any, idx, err) < 0)
		return cove_err_prefix(err, "host end %s", host);
	/* IPv6 the same way: the gateway as a /128, a /128 to the sandbox. */
	if (o->have_ip6 &&
	    (cove_nl_addr6_add(nl, idx, &o->gateway6, 128, err) < 0 ||
	     cove_nl_route6_add(nl, &o->ip6, 128, NULL, idx, err) < 0))
		return cove_err_prefix(err, "host end %s", host);
	/*
	 * Claim the pool on the host: each sandbox's /32 is more specific, so
	 * only an address with no live sandbox (not up yet, or gone) hits the
	 * unreachable route, and its packets fail here instead of following
	 * the default route off the machine. Never removed: it costs nothing
	 * and the next sandbox needs it again. An existing route for exactly
	 * the pool (an administrator's) is left as it is.
	 */
	if (o->pool_ip &&
	    cove_nl_route_fence(nl, o->pools.net, o->pools.prefix, err) < 0)
		return -1;
	if (o->have_ip6 && !o->ip6_given &&
	    cove_nl_route6_fence(nl, &o->pools.net6, o->pools.prefix6, err) < 0)
		return -1;
	return 0;
}

/**
 * rt_attach_host() - the veth pair, its peer in the sentry's netns, the
 * host end addressed and up
 * @o:		options (address, gateway)
 * @sentry:	pid of the sentry, whose netns gets the peer
 * @err:	reason
 *
 * Return: 0, or -1 with no pair left behind.
 */
int rt_attach_host(const struct sbx_opts *o, pid_t sentry, struct cove_err *err)
{
	char host[16], peer[16];
	struct cove_nl nl = { 0 };
	int ret;

	sbx_veth_names(o->ip, host, peer);
	if (cove_nl_open(&nl, err) < 0)
		return -1;
	ret = cove_nl_veth_add(&nl, host, peer, sentry, err);
	if (ret >= 0) {
		ret = rt_host_end_up(&nl, o, host, err);
		if (ret < 0)
			cove_nl_link_del(&nl, host, NULL);
	}
	cove_nl_close(&nl);
	return ret < 0 ? -1 : 0;
}

/* rt_detach_host() - delete the host end (so the pair); idempotent. */
void rt_detach_host(struct in_addr ip)
{
	char host[16], peer[16];
	struct cove_nl nl = { 0 };

	sbx_veth_names(ip, host, peer);
	if (!if_nametoindex(host))
		return;
	if (cove_nl_open(&nl, NULL) < 0)
		return;
	cove_nl_link_del(&nl, host, NULL);
	cove_nl_close(&nl);
}

/* rt_netns_if() - the sentry's rule for a --netns interface: eth0, else
 * the first that is not lo; 0 if there is none. */
static int rt_netns_if(struct cove_nl *nl)
{
	struct if_nameindex *names, *p;
	int idx = cove_nl_ifindex(nl, "eth0");

	if (idx)
		return idx;
	names = if_nameindex();
	for (p = names; p && p->if_index; p++)
		if (strcmp(p->if_name, "lo")) {
			idx = (int)p->if_index;
			break;
		}
	if (names)
		if_freenameindex(names);
	return idx;
}

void rt_netns_undo(const struct sbx_opts *o)
{
	struct cove_nl nl = { 0 };
	pid_t pid;
	int fd, idx;

	if (!o->netns_path || o->mode != SBX_NET_STACK ||
	    !strcmp(o->network, "kernel"))
		return;
	pid = fork();
	if (pid < 0)
		return;
	if (pid > 0) {
		waitpid(pid, NULL, 0);
		return;
	}
	fd = open(o->netns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0 ||
	    cove_nl_open(&nl, NULL) < 0)
		_exit(1);
	idx = rt_netns_if(&nl);
	if (idx) {
		(void)cove_nl_qdisc_del_clsact(&nl, idx);
		(void)cove_nl_xdp_detach(&nl, idx);
	}
	cove_nl_close(&nl);
	_exit(0);
}
