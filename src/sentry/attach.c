// SPDX-License-Identifier: Apache-2.0
/* Network attach: the veth pair, host and sandbox ends, the ingress drop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sentry/sandbox.h"

/*
 * Theory of operation
 *
 * Point-to-point addressing, no bridge: every sandbox gets its own veth
 * pair. The host end "cvXXXXXXXX" (the sandbox address in hex, so names
 * are unique exactly while addresses are) carries the gateway address as a
 * /32 (the same gateway on every host end is fine for Linux) and a /32
 * route to the sandbox. The sandbox end, created as "csXXXXXXXX" straight
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
 * arrive at the AF_PACKET ring no larger than the MTU.
 *
 * With --link=tap the stack's link is a TAP device "cove0" in the sandbox
 * netns instead, spliced to eth0 by two more BPF classifiers: whatever
 * arrives on eth0 leaves by cove0's egress (the stack reads it from the
 * TAP) and whatever the stack writes to cove0 leaves by eth0's egress. The
 * kernel stack sees neither: eth0 keeps its address for tools that list
 * interfaces, cove0 has none, IPv6 is off on both.
 */

void sbx_veth_names(struct in_addr ip, char host[16], char peer[16])
{
	uint32_t a = ntohl(ip.s_addr);

	snprintf(host, 16, "cv%08x", a);
	snprintf(peer, 16, "cs%08x", a);
}

/* sbx_write_file() - write a short string to a /proc or /sys file. */
static int sbx_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* sbx_read_char() - the first byte of a /proc file, or 0. */
static char sbx_read_char(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char c = 0;

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = 0;
		close(fd);
	}
	return c;
}

/* sbx_ethtool_off() - switch one legacy ethtool feature off. */
static void sbx_ethtool_off(int fd, const char *ifname, uint32_t cmd)
{
	struct ethtool_value ev = { .cmd = cmd, .data = 0 };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	(void)ioctl(fd, SIOCETHTOOL, &ifr);
}

int sbx_attach_host(const struct sbx_opts *o, pid_t sentry,
		    struct cove_err *err)
{
	struct in_addr any = { 0 };
	char host[16], peer[16];
	struct sbx_nl nl = { 0 };
	int idx, fd;

	sbx_veth_names(o->ip, host, peer);
	if (sbx_nl_open(&nl, err) < 0)
		return -1;
	if (sbx_nl_veth_add(&nl, host, peer, sentry, err) < 0)
		goto fail;
	idx = sbx_nl_ifindex(&nl, host);
	if (!idx) {
		cove_err_set(err, errno, "veth %s vanished", host);
		goto fail_del;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		sbx_ethtool_off(fd, host, ETHTOOL_STSO);
		sbx_ethtool_off(fd, host, ETHTOOL_SGSO);
		close(fd);
	}
	if (sbx_nl_addr_add(&nl, idx, o->gateway, 32, err) < 0 ||
	    sbx_nl_link_set(&nl, idx, NULL, true, err) < 0 ||
	    sbx_nl_route_add(&nl, o->ip, 32, any, idx, err) < 0) {
		cove_err_prefix(err, "host end %s", host);
		goto fail_del;
	}
	sbx_nl_close(&nl);
	return 0;
fail_del:
	sbx_nl_link_del(&nl, host, NULL);
fail:
	sbx_nl_close(&nl);
	return -1;
}

void sbx_detach_host(struct in_addr ip)
{
	char host[16], peer[16];
	struct sbx_nl nl = { 0 };

	sbx_veth_names(ip, host, peer);
	if (!if_nametoindex(host))
		return;
	if (sbx_nl_open(&nl, NULL) < 0)
		return;
	sbx_nl_link_del(&nl, host, NULL);
	sbx_nl_close(&nl);
}

/* sbx_read_netns_addr() - --netns: take eth0's (or the first) address. */
static int sbx_read_netns_addr(struct sbx_opts *o, char *ifname,
			       struct cove_err *err)
{
	struct ifreq ifr;
	struct if_nameindex *names, *p;
	unsigned long dst, gw, mask;
	char line[256], dev[IFNAMSIZ];
	FILE *f;
	int fd, ret = -1;

	if (!if_nametoindex("eth0")) {
		names = if_nameindex();
		for (p = names; p && p->if_index; p++)
			if (strcmp(p->if_name, "lo")) {
				snprintf(ifname, IFNAMSIZ, "%s", p->if_name);
				break;
			}
		if (names)
			if_freenameindex(names);
		if (!*ifname)
			return cove_err_set(err, ENODEV,
					    "netns %s has no interface but lo",
					    o->netns_path);
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFADDR, &ifr) < 0) {
		cove_err_set(err, errno, "netns %s: %s has no IPv4 address",
			     o->netns_path, ifname);
		goto out;
	}
	o->ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	if (ioctl(fd, SIOCGIFNETMASK, &ifr) < 0) {
		cove_err_set(err, errno, "netns %s: netmask of %s",
			     o->netns_path, ifname);
		goto out;
	}
	o->prefix_len = (uint8_t)__builtin_popcount(
		((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr);
	o->gateway.s_addr = 0;
	f = fopen("/proc/net/route", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s %lx %lx %*x %*d %*d %*d %lx", dev, &dst,
			   &gw, &mask) == 4 && dst == 0 && mask == 0)
			o->gateway.s_addr = (uint32_t)gw;
	if (f)
		fclose(f);
	o->have_ip = true;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

int sbx_attach_sandbox(struct sbx_opts *o, bool drop_ingress,
		       struct cove_err *err)
{
	char host[16], peer[16], ifname[IFNAMSIZ] = "eth0", path[96];
	struct in_addr any = { 0 };
	struct sbx_nl nl = { 0 };
	int idx, lo, ret;

	if (sbx_nl_open(&nl, err) < 0)
		return -1;
	lo = sbx_nl_ifindex(&nl, "lo");
	if (!lo || sbx_nl_link_set(&nl, lo, NULL, true, err) < 0)
		goto fail;
	/* Bursts of UDP datagrams through AF_UNIX pairs: allow a deeper queue. */
	(void)sbx_write_file("/proc/sys/net/unix/max_dgram_qlen", "512");
	if (o->mode == SBX_NET_NONE)
		goto done;
	if (o->netns_path) {
		if (sbx_read_netns_addr(o, ifname, err) < 0)
			goto fail;
		idx = sbx_nl_ifindex(&nl, ifname);
	} else {
		sbx_veth_names(o->ip, host, peer);
		idx = sbx_nl_ifindex(&nl, peer);
		if (!idx) {
			cove_err_set(err, ENODEV, "veth end %s missing", peer);
			goto fail;
		}
		if (sbx_nl_link_set(&nl, idx, "eth0", false, err) < 0)
			goto fail;
	}
	snprintf(o->ifname, sizeof(o->ifname), "%s", ifname);
	if (drop_ingress) {
		snprintf(path, sizeof(path),
			 "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
		o->ipv6_was = sbx_read_char(path);
		ret = sbx_write_file(path, "1");
		if (ret < 0 && ret != -ENOENT) {
			cove_err_set(err, -ret, "disable IPv6 on %s",
				     ifname);
			goto fail;
		}
		if (sbx_nl_ingress_drop(&nl, idx, err) < 0)
			goto fail;
		o->undo_ingress = o->netns_path != NULL;
	}
	if (!o->netns_path) {
		if (sbx_nl_addr_add(&nl, idx, o->ip, o->prefix_len, err) < 0 ||
		    sbx_nl_link_set(&nl, idx, NULL, true, err) < 0 ||
		    sbx_nl_route_add(&nl, any, 0, o->gateway, idx, err) < 0)
			goto fail;
	}
done:
	sbx_nl_close(&nl);
	return 0;
fail:
	sbx_nl_close(&nl);
	return cove_err_prefix(err, "sandbox network");
}

void sbx_detach_sandbox(const struct sbx_opts *o)
{
	struct sbx_nl nl = { 0 };
	char path[96], was[2] = { o->ipv6_was, 0 };
	int idx;

	if (!o->undo_ingress)
		return;
	idx = (int)if_nametoindex(o->ifname);
	if (idx && sbx_nl_open(&nl, NULL) == 0) {
		(void)sbx_nl_qdisc_del_clsact(&nl, idx);
		sbx_nl_close(&nl);
	}
	if (o->ipv6_was) {
		snprintf(path, sizeof(path),
			 "/proc/sys/net/ipv6/conf/%s/disable_ipv6", o->ifname);
		(void)sbx_write_file(path, was);
	}
}

int sbx_attach_tap(struct sbx_opts *o, const char *tap, struct cove_err *err)
{
	struct sbx_nl nl = { 0 };
	char path[96];
	int eth, t;

	if (sbx_nl_open(&nl, err) < 0)
		return -1;
	eth = sbx_nl_ifindex(&nl, o->ifname);
	t = sbx_nl_ifindex(&nl, tap);
	if (!eth || !t) {
		cove_err_set(err, ENODEV, "--link=tap: %s or %s missing",
			     o->ifname, tap);
		goto fail;
	}
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 tap);
	(void)sbx_write_file(path, "1");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 o->ifname);
	o->ipv6_was = sbx_read_char(path);
	(void)sbx_write_file(path, "1");
	o->undo_ingress = o->netns_path != NULL;
	if (sbx_nl_link_set(&nl, t, NULL, true, err) < 0 ||
	    sbx_nl_ingress_redirect(&nl, t, eth, err) < 0 ||
	    sbx_nl_ingress_redirect(&nl, eth, t, err) < 0)
		goto fail;
	sbx_nl_close(&nl);
	return 0;
fail:
	sbx_nl_close(&nl);
	return cove_err_prefix(err, "--link=tap");
}
