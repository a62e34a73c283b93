// SPDX-License-Identifier: Apache-2.0
/* Interface queries, clock and naming shared by the link back ends. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "links/links.h"

int links_ifname_check(const char *kind, const char *ifname,
		       struct cove_err *err)
{
	size_t len = strlen(ifname), i;

	if (!len)
		return cove_err_set(err, EINVAL,
				    "%s link needs an interface name (%s:IFNAME)",
				    kind, kind);
	if (len >= IFNAMSIZ)
		return cove_err_set(
			err, EINVAL,
			"%s link: interface name '%s' is longer than %d characters",
			kind, ifname, IFNAMSIZ - 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)ifname[i];

		if (c == '/' || c == ':' || c <= ' ' || c >= 0x7f)
			return cove_err_set(
				err, EINVAL,
				"%s link: interface name '%s' contains an invalid character",
				kind, ifname);
	}
	return 0;
}

int links_parse_spec(const char *kind, const char *arg, char ifname[IFNAMSIZ],
		     const struct links_opt *known, size_t nknown,
		     struct cove_err *err)
{
	const char *comma = strchr(arg, ','), *opt, *end;
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg), olen, i;
	char name[IFNAMSIZ + 1], list[128];
	int off = 0;

	for (opt = comma; opt; opt = end) {
		opt++;
		end = strchr(opt, ',');
		olen = end ? (size_t)(end - opt) : strlen(opt);
		for (i = 0; i < nknown; i++)
			if (strlen(known[i].text) == olen &&
			    !strncmp(opt, known[i].text, olen))
				break;
		if (i == nknown) {
			list[0] = 0;
			for (i = 0; i < nknown && off >= 0 &&
				    (size_t)off < sizeof(list);
			     i++)
				off += snprintf(list + off,
						sizeof(list) - (size_t)off,
						"%s%s", i ? ", " : "",
						known[i].text);
			return cove_err_set(
				err, EINVAL,
				"%s:%s: unknown option '%.*s' (known: %s)",
				kind, arg, (int)olen, opt, list);
		}
		*known[i].field = known[i].value;
	}
	if (len > IFNAMSIZ)
		len = IFNAMSIZ; /* still too long: the check says so */
	memcpy(name, arg, len);
	name[len] = 0;
	if (links_ifname_check(kind, name, err) < 0)
		return -EINVAL;
	memcpy(ifname, name, len + 1); /* len < IFNAMSIZ once checked */
	return 0;
}

/* links_ioctl_sock() - a socket good for interface ioctls; -errno on failure. */
static int links_ioctl_sock(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

/* links_ifreq() - run one SIOCGIF* ioctl on @ifname into @ifr. */
static int links_ifreq(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = links_ioctl_sock(), ret = 0;

	if (fd < 0)
		return fd;
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int links_if_mtu(const char *ifname, uint32_t *mtu)
{
	struct ifreq ifr;
	int ret = links_ifreq(ifname, SIOCGIFMTU, &ifr);

	if (ret < 0)
		return ret;
	if (ifr.ifr_mtu < 68)
		return -EINVAL;
	*mtu = (uint32_t)ifr.ifr_mtu;
	return 0;
}

int links_if_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int ret = links_ifreq(ifname, SIOCGIFHWADDR, &ifr);

	if (ret < 0)
		return ret;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

void links_set_name(struct cove_link *l, const char *kind, const char *arg)
{
	int n = snprintf(l->name, sizeof(l->name), "%s:%s", kind, arg);

	(void)n; /* truncation is fine: the name is only for messages */
}
