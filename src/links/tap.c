// SPDX-License-Identifier: Apache-2.0
/* tap:IFNAME - a link over a Linux TAP device (/dev/net/tun, IFF_TAP|IFF_NO_PI). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "links/links.h"

/*
 * Theory of operation
 *
 * open() opens /dev/net/tun non-blocking and calls TUNSETIFF with
 * IFF_TAP|IFF_NO_PI: the kernel creates the device if it does not exist, or
 * attaches to an existing (persistent) TAP of that name. The link does not
 * configure the kernel side: bringing the interface up, addresses and routes
 * are the caller's business (a test or the sandbox set-up). While the
 * interface is down, writes fail with EIO and count as tx_dropped.
 *
 * The tap fd is a datagram-like file: one read() returns one frame, one
 * write() injects one frame into the kernel as if received on the interface.
 * rx_burst() reads until @n frames or EAGAIN; tx_burst() writes until @n
 * frames or EAGAIN. A frame that write() refuses with any other error (bad
 * length, interface down) is consumed and counted in tx_dropped, so one bad
 * frame never wedges the caller.
 *
 * The link's MAC is the stack's, not the kernel's: a locally administered
 * address derived from a hash of the interface name (stable across runs),
 * adjusted if it happens to equal the kernel's own tap MAC. The MTU is the
 * interface's (SIOCGIFMTU) at open time.
 *
 * The kernel fills checksums before handing frames to a tap without
 * offloads (we never call TUNSETOFFLOAD), so received frames are complete.
 */

struct tap_link {
	struct cove_link link;		/* first: the ABI view */
	char ifname[IFNAMSIZ];
};

/* tap_mac() - stable locally administered MAC from an FNV-1a hash of @ifname. */
static void tap_mac(const char *ifname, uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ull;
	int i;

	for (; *ifname; ifname++)
		h = (h ^ (uint8_t)*ifname) * 0x100000001b3ull;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);	/* local, unicast */
}

/**
 * tap_rx_burst() - read up to @n frames from the tap fd
 * @l:	link
 * @f:	filled with frames from the link's pool
 * @n:	room in @f
 *
 * Return: frames filled. Stops at EAGAIN, at an empty pool (the frame stays
 * in the kernel queue for the next call) or at a read error.
 */
static unsigned tap_rx_burst(struct cove_link *l, struct cove_frame **f,
			     unsigned n)
{
	unsigned got = 0;

	while (got < n) {
		struct cove_frame *fr = cove_frame_alloc(l->pool);
		ssize_t r;

		if (!fr)
			break;
		r = read(l->fd, fr->data, fr->cap);
		if (r < 0) {
			cove_frame_free(fr);
			if (errno == EINTR)
				continue;
			break;			/* EAGAIN, or the device went away */
		}
		if ((size_t)r < LINKS_ETH_HLEN) {
			cove_frame_free(fr);
			l->stats.rx_dropped++;
			continue;
		}
		fr->len = (uint32_t)r;
		l->stats.rx_frames++;
		l->stats.rx_bytes += fr->len;
		f[got++] = fr;
	}
	return got;
}

/**
 * tap_tx_burst() - write up to @n frames to the tap fd
 * @l:	link
 * @f:	frames; the accepted ones are freed here
 * @n:	count
 *
 * Return: frames accepted (written, or refused by the kernel and dropped);
 * stops at EAGAIN, leaving the rest with the caller.
 */
static unsigned tap_tx_burst(struct cove_link *l, struct cove_frame **f,
			     unsigned n)
{
	unsigned done = 0;

	while (done < n) {
		struct cove_frame *fr = f[done];
		ssize_t w = write(l->fd, fr->data, fr->len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0 || (size_t)w != fr->len) {
			l->stats.tx_dropped++;
		} else {
			l->stats.tx_frames++;
			l->stats.tx_bytes += fr->len;
		}
		cove_frame_free(fr);
		done++;
	}
	return done;
}

/* tap_close() - close the fd (a non-persistent tap disappears) and free. */
static void tap_close(struct cove_link *l)
{
	struct tap_link *t = (struct tap_link *)l;

	if (l->fd >= 0)
		close(l->fd);
	free(t);
}

static int tap_open(const char *arg, struct cove_frame_pool *pool,
		    struct cove_link **out, struct cove_err *err);

static const struct cove_link_ops tap_ops = {
	.kind = "tap",
	.usage = "tap:IFNAME (TAP device, created if missing)",
	.open = tap_open,
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.close = tap_close,
};
COVE_LINK_TYPE(tap_ops);

/**
 * tap_open() - create or attach to TAP device @arg
 * @arg:	interface name
 * @pool:	rx pool
 * @out:	the new link
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
static int tap_open(const char *arg, struct cove_frame_pool *pool,
		    struct cove_link **out, struct cove_err *err)
{
	struct tap_link *t;
	struct ifreq ifr;
	uint8_t kmac[6];
	int ret;

	if (links_ifname_check("tap", arg, err) < 0)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		cove_err_set(err, ENOMEM, "tap:%s: out of memory", arg);
		return -ENOMEM;
	}
	t->link.ops = &tap_ops;
	t->link.pool = pool;
	snprintf(t->ifname, sizeof(t->ifname), "%s", arg);
	links_set_name(&t->link, "tap", arg);
	t->link.fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->link.fd < 0) {
		ret = -errno;
		cove_err_set(err, -ret, "tap:%s: cannot open /dev/net/tun: %s",
			     arg, strerror(-ret));
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", arg);
	if (ioctl(t->link.fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		cove_err_set(err, -ret,
			     "tap:%s: cannot create or attach the TAP device: %s%s",
			     arg, strerror(-ret),
			     ret == -EINVAL ? " (a non-TAP interface has this name?)" :
			     ret == -EBUSY ? " (already attached elsewhere)" : "");
		goto fail;
	}
	ret = links_if_mtu(arg, &t->link.mtu);
	if (ret < 0) {
		cove_err_set(err, -ret, "tap:%s: cannot read the MTU: %s", arg,
			     strerror(-ret));
		goto fail;
	}
	tap_mac(arg, t->link.mac);
	if (links_if_mac(arg, kmac) == 0 && !memcmp(kmac, t->link.mac, 6))
		t->link.mac[5] ^= 0x01;
	*out = &t->link;
	return 0;
fail:
	tap_close(&t->link);
	return ret;
}
