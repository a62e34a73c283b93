// SPDX-License-Identifier: Apache-2.0
/* The sandbox end of the network: lo, eth0, routes, the ingress drop, the TAP splice. */
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

#include "netlink/netlink.h"
#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * Run by the sentry inside the sandbox's network namespace. It brings lo
 * up in every mode; with a network it renames cove's veth end to eth0 and
 * gives it the address and default route (or, with --netns or an OCI
 * namespace a prestart hook configured, adopts the namespace's own
 * interface and address, recorded in the sbx_opts). When
 * a user-level stack owns the address, the kernel must not answer for it:
 * with a packet link, IPv6 is disabled on the interface and a clsact
 * ingress filter drops what arrives after the stack's packet socket has
 * seen it; with --link=tap, sbx_attach_tap() instead redirects ingress
 * between the interface and the TAP both ways.
 *
 * IPv6: when the kernel serves the program (--network=kernel, host) eth0
 * also gets the sandbox's IPv6 address (no DAD: unique by construction)
 * and a default route through the IPv6 gateway; for user-level stacks
 * the address is the stack's and the kernel's IPv6 stays off. With
 * --netns the interface's first global IPv6 address and its default
 * route are read like the IPv4 ones.
 *
 * The invariant is about ownership. A namespace cove created dies with
 * the sandbox and needs no cleanup. A --netns namespace is the caller's
 * and outlives it: whatever is changed there is recorded (undo_ingress,
 * ifname, ipv6_was, the IPv6 address that disabling IPv6 flushes) so
 * sbx_detach_sandbox() can put it back.
 */

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

/* sbx_netns_name() - the adopted namespace, for messages. */
static const char *sbx_netns_name(const struct sbx_opts *o)
{
	return o->netns_path ? o->netns_path : "of the container";
}

/* sbx_read_netns_addr() - --netns (or a namespace an OCI hook configured):
 * take eth0's (or the first) address. */
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
					    sbx_netns_name(o));
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFADDR, &ifr) < 0) {
		cove_err_set(err, errno, "netns %s: %s has no IPv4 address",
			     sbx_netns_name(o), ifname);
		goto out;
	}
	o->ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	if (ioctl(fd, SIOCGIFNETMASK, &ifr) < 0) {
		cove_err_set(err, errno, "netns %s: netmask of %s",
			     sbx_netns_name(o), ifname);
		goto out;
	}
	o->prefix_len = (uint8_t)__builtin_popcount(
		((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr);
	o->gateway.s_addr = 0;
	f = fopen("/proc/net/route", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s %lx %lx %*x %*d %*d %*d %lx", dev, &dst,
			   &gw, &mask) == 4 &&
		    dst == 0 && mask == 0)
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

/* sbx_hex16() - 32 hex digits (as /proc/net/if_inet6 writes) to @a. */
static bool sbx_hex16(const char *hex, struct in6_addr *a)
{
	unsigned i, b;

	if (strlen(hex) != 32)
		return false;
	for (i = 0; i < 16; i++) {
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return false;
		a->s6_addr[i] = (uint8_t)b;
	}
	return true;
}

/**
 * sbx_read_netns_addr6() - --netns: take @ifname's IPv6 address and route
 * @o:		options; have_ip6, ip6, prefix6_len and gateway6 set if found
 * @ifname:	the interface
 *
 * The first address of global scope (a unique local one included) from
 * /proc/net/if_inet6, and the default route's next hop on @ifname from
 * /proc/net/ipv6_route; link-local addresses stay the interface's own.
 * None: the sandbox has IPv4 only, as its orchestrator gave it.
 */
static void sbx_read_netns_addr6(struct sbx_opts *o, const char *ifname)
{
	char line[256], a[40], nh[40], dev[IFNAMSIZ], dst[40];
	unsigned idx, plen, scope, flags, dlen;
	struct in6_addr gw;
	FILE *f = fopen("/proc/net/if_inet6", "re");

	while (f && !o->have_ip6 && fgets(line, sizeof(line), f))
		if (sscanf(line, "%32s %x %x %x %x %15s", a, &idx, &plen,
			   &scope, &flags, dev) == 6 &&
		    !strcmp(dev, ifname) && scope == 0 && plen <= 128 &&
		    sbx_hex16(a, &o->ip6)) {
			o->prefix6_len = (uint8_t)plen;
			o->have_ip6 = true;
		}
	if (f)
		fclose(f);
	if (!o->have_ip6)
		return;
	f = fopen("/proc/net/ipv6_route", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%32s %x %*s %*x %32s %*x %*x %*x %*x %15s",
			   dst, &dlen, nh, dev) == 4 &&
		    dlen == 0 && !strcmp(dev, ifname) && sbx_hex16(nh, &gw) &&
		    memcmp(&gw, &in6addr_any, sizeof(gw)))
			o->gateway6 = gw;
	if (f)
		fclose(f);
}

/**
 * sbx_addr6_up() - the kernel's IPv6 on @idx: the sandbox's address and a
 * default route through its gateway (--network=kernel and host; a --netns
 * interface given back)
 * @nl:		rtnetlink socket
 * @o:		options with have_ip6
 * @idx:	the interface, up
 * @err:	reason
 *
 * Return: 0 or -1.
 */
static int sbx_addr6_up(struct cove_nl *nl, const struct sbx_opts *o, int idx,
			struct cove_err *err)
{
	if (cove_nl_addr6_add(nl, idx, &o->ip6, o->prefix6_len, err) < 0)
		return -1;
	if (!memcmp(&o->gateway6, &in6addr_any, sizeof(o->gateway6)))
		return 0;
	return cove_nl_route6_add(nl, &in6addr_any, 0, &o->gateway6, idx, err);
}

int sbx_attach_sandbox(struct sbx_opts *o, bool drop_ingress, bool kernel_ip6,
		       struct cove_err *err)
{
	char host[16], peer[16], ifname[IFNAMSIZ] = "eth0", path[96];
	struct in_addr any = { 0 };
	struct cove_nl nl = { 0 };
	int idx, lo, ret;

	if (cove_nl_open(&nl, err) < 0)
		return -1;
	lo = cove_nl_ifindex(&nl, "lo");
	if (!lo || cove_nl_link_set(&nl, lo, NULL, true, err) < 0)
		goto fail;
	/* Bursts of UDP datagrams through AF_UNIX pairs: allow a deeper queue. */
	(void)sbx_write_file("/proc/sys/net/unix/max_dgram_qlen", "512");
	if (o->mode == SBX_NET_NONE)
		goto done;
	if (sbx_netns_adopted(o)) {
		if (sbx_read_netns_addr(o, ifname, err) < 0)
			goto fail;
		sbx_read_netns_addr6(o, ifname);
		idx = cove_nl_ifindex(&nl, ifname);
	} else {
		sbx_veth_names(o->ip, host, peer);
		idx = cove_nl_ifindex(&nl, peer);
		if (!idx) {
			cove_err_set(err, ENODEV, "veth end %s missing", peer);
			goto fail;
		}
		if (cove_nl_link_set(&nl, idx, "eth0", false, err) < 0)
			goto fail;
	}
	snprintf(o->ifname, sizeof(o->ifname), "%s", ifname);
	if (drop_ingress) {
		snprintf(path, sizeof(path),
			 "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
		o->ipv6_was = sbx_read_char(path);
		ret = sbx_write_file(path, "1");
		if (ret < 0 && ret != -ENOENT) {
			cove_err_set(err, -ret, "disable IPv6 on %s", ifname);
			goto fail;
		}
		if (cove_nl_ingress_drop(&nl, idx, err) < 0)
			goto fail;
		o->undo_ingress = o->netns_path != NULL;
	}
	if (!sbx_netns_adopted(o)) {
		if (cove_nl_addr_add(&nl, idx, o->ip, o->prefix_len, err) < 0 ||
		    cove_nl_link_set(&nl, idx, NULL, true, err) < 0 ||
		    cove_nl_route_add(&nl, any, 0, o->gateway, idx, err) < 0)
			goto fail;
		if (o->have_ip6 && kernel_ip6 &&
		    sbx_addr6_up(&nl, o, idx, err) < 0)
			goto fail;
	}
done:
	cove_nl_close(&nl);
	return 0;
fail:
	cove_nl_close(&nl);
	return cove_err_prefix(err, "sandbox network");
}

void sbx_detach_sandbox(const struct sbx_opts *o)
{
	struct cove_nl nl = { 0 };
	char path[96], was[2] = { o->ipv6_was, 0 };
	int idx;

	if (!o->undo_ingress)
		return;
	idx = (int)if_nametoindex(o->ifname);
	if (idx && cove_nl_open(&nl, NULL) == 0) {
		(void)cove_nl_qdisc_del_clsact(&nl, idx);
		cove_nl_close(&nl);
	}
	if (o->ipv6_was) {
		snprintf(path, sizeof(path),
			 "/proc/sys/net/ipv6/conf/%s/disable_ipv6", o->ifname);
		(void)sbx_write_file(path, was);
	}
	/* Disabling IPv6 flushed the interface's IPv6 addresses: give back
	 * the one (and the route) the orchestrator had put there. */
	if (o->ipv6_was == '0' && o->have_ip6 && idx &&
	    cove_nl_open(&nl, NULL) == 0) {
		(void)sbx_addr6_up(&nl, o, idx, NULL);
		cove_nl_close(&nl);
	}
}

int sbx_attach_tap(struct sbx_opts *o, const char *tap, struct cove_err *err)
{
	struct cove_nl nl = { 0 };
	char path[96];
	int eth, t;

	if (cove_nl_open(&nl, err) < 0)
		return -1;
	eth = cove_nl_ifindex(&nl, o->ifname);
	t = cove_nl_ifindex(&nl, tap);
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
	if (cove_nl_link_set(&nl, t, NULL, true, err) < 0 ||
	    cove_nl_ingress_redirect(&nl, t, eth, err) < 0 ||
	    cove_nl_ingress_redirect(&nl, eth, t, err) < 0)
		goto fail;
	cove_nl_close(&nl);
	return 0;
fail:
	cove_nl_close(&nl);
	return cove_err_prefix(err, "--link=tap");
}
