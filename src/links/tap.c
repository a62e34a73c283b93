// SPDX-License-Identifier: Apache-2.0
/* tap:IFNAME - a link over a Linux TAP device (/dev/net/tun, IFF_TAP|IFF_NO_PI). */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
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
 * Offloads (on unless "tap:IFNAME,offload=off"): the device is opened with
 * IFF_VNET_HDR, a little-endian legacy struct virtio_net_hdr
 * (TUNSETVNETHDRSZ, TUNSETVNETLE) in front of every frame both ways.
 *
 *  - tx: links_vnet_hdr() builds it from the frame's flags, so the link
 *    takes checksum-partial frames and TCP super-frames of up to
 *    TAP_TSO_MAX bytes (COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4). The
 *    kernel receives them as a guest's virtio frames: GSO packets with
 *    CHECKSUM_PARTIAL, trusted locally, cut and summed in software (or by
 *    a NIC) only if they leave through a device that cannot take them.
 *  - rx: TUNSETOFFLOAD says what the kernel may hand us. Never TSO, UFO
 *    or USO: the rx pool holds MTU frames, so the kernel segments its own
 *    super-frames before they reach us. Not TUN_F_CSUM either
 *    (TAP_RX_OFFLOADS is 0): it would move the checksum of the kernel's
 *    own frames from the kernel to us (NEEDS_CSUM, completed here) without
 *    any gain we could measure (builtin bulk in, docs/LINKS.md). A
 *    received header is still honoured: NEEDS_CSUM is completed from
 *    csum_start/csum_offset (links_csum_partial(), what the kernel would
 *    have done) and flagged COVE_FRAME_F_CSUM_OK, as is DATA_VALID (the
 *    kernel verified it, e.g. a forwarded frame). The header comes from
 *    the kernel but is checked like any input: a GSO type, offsets
 *    outside the frame or a short read drop the frame (rx_dropped).
 *
 * With offload=off there is no header: the link offers no offloads and
 * TUNSETOFFLOAD(0) makes the kernel fill every checksum itself (it also
 * clears what an earlier user left on a persistent TAP).
 */

/* What the kernel may leave to us on receive (TUN_F_*): nothing. */
#define TAP_RX_OFFLOADS 0u
#define TAP_VNET_LEN	sizeof(struct virtio_net_hdr)
/* IPv4 total length is 16 bits: the largest TSO frame with its MAC header */
#define TAP_TSO_MAX (65535u + LINKS_ETH_HLEN)

struct tap_link {
	struct cove_link link; /* first: the ABI view */
	char ifname[IFNAMSIZ];
	bool vnet; /* a virtio_net_hdr before every frame */
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
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02); /* local, unicast */
}

/**
 * tap_rx_meta() - apply a received frame's virtio_net_hdr
 * @fr:		the frame (len set)
 * @vh:		its header, as the kernel wrote it
 *
 * Return: 0, or -1 if the header does not fit the frame (drop it).
 */
static int tap_rx_meta(struct cove_frame *fr, const struct virtio_net_hdr *vh)
{
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return -1; /* never asked for: TUNSETOFFLOAD */
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (links_csum_partial(fr->data, fr->len,
				       le16toh(vh->csum_start),
				       le16toh(vh->csum_offset)) < 0)
			return -1;
		fr->flags |= COVE_FRAME_F_CSUM_OK;
	} else if (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		fr->flags |= COVE_FRAME_F_CSUM_OK;
	}
	return 0;
}

/**
 * tap_rx_burst() - read up to @n frames from the tap fd
 * @l:	link
 * @f:	filled with frames from the link's pool
 * @n:	room in @f
 *
 * One readv() per frame: the virtio_net_hdr (with offloads), the frame,
 * and one spare byte that only a frame too big for the buffer reaches (the
 * kernel reports the whole length and silently truncates).
 *
 * Return: frames filled. Stops at EAGAIN, at an empty pool (the frame stays
 * in the kernel queue for the next call) or at a read error.
 */
static unsigned tap_rx_burst(struct cove_link *l, struct cove_frame **f,
			     unsigned n)
{
	struct tap_link *t = (struct tap_link *)l;
	size_t vlen = t->vnet ? TAP_VNET_LEN : 0;
	struct virtio_net_hdr vh;
	unsigned got = 0;
	uint8_t spill;

	while (got < n) {
		struct cove_frame *fr = cove_frame_alloc(l->pool);
		struct iovec iov[3] = {
			{ .iov_base = &vh, .iov_len = sizeof(vh) },
		};
		size_t cap;
		ssize_t r;

		if (!fr)
			break;
		cap = fr->cap - (size_t)(fr->data - fr->buf);
		iov[1] = (struct iovec){ .iov_base = fr->data, .iov_len = cap };
		iov[2] = (struct iovec){ .iov_base = &spill, .iov_len = 1 };
		r = readv(l->fd, t->vnet ? iov : iov + 1, t->vnet ? 3 : 2);
		if (r < 0) {
			cove_frame_free(fr);
			if (errno == EINTR)
				continue;
			break; /* EAGAIN, or the device went away */
		}
		if ((size_t)r < vlen + LINKS_ETH_HLEN ||
		    (size_t)r - vlen > cap) {
			cove_frame_free(fr); /* runt, or truncated */
			l->stats.rx_dropped++;
			continue;
		}
		fr->len = (uint32_t)((size_t)r - vlen);
		if (t->vnet && tap_rx_meta(fr, &vh) < 0) {
			cove_frame_free(fr);
			l->stats.rx_dropped++;
			continue;
		}
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
 * With offloads each frame goes out behind its virtio_net_hdr in one
 * writev(). Frames shorter than an Ethernet header, longer than MTU + 18
 * (tso_max for a TSO frame), or whose offload flags do not fit them (or
 * that ask for offloads the link lacks) are consumed and counted, as are
 * frames the kernel refuses.
 *
 * Return: frames accepted (written, or dropped); stops at EAGAIN, leaving
 * the rest with the caller.
 */
static unsigned tap_tx_burst(struct cove_link *l, struct cove_frame **f,
			     unsigned n)
{
	struct tap_link *t = (struct tap_link *)l;
	size_t vlen = t->vnet ? TAP_VNET_LEN : 0;
	struct virtio_net_hdr vh;
	unsigned done = 0;

	while (done < n) {
		struct cove_frame *fr = f[done];
		uint32_t max = (fr->flags & COVE_FRAME_F_TSO) ?
				       l->tso_max :
				       l->mtu + LINKS_ETH_VLAN_HLEN;
		struct iovec iov[2] = {
			{ .iov_base = &vh, .iov_len = sizeof(vh) },
			{ .iov_base = fr->data, .iov_len = fr->len },
		};
		ssize_t w;

		if (fr->len < LINKS_ETH_HLEN || fr->len > max ||
		    (t->vnet ? links_vnet_hdr(fr, &vh) < 0 :
			       fr->flags & (COVE_FRAME_F_CSUM_PARTIAL |
					    COVE_FRAME_F_TSO))) {
			w = -1;
		} else {
			w = writev(l->fd, t->vnet ? iov : iov + 1,
				   t->vnet ? 2 : 1);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				break;
		}
		if (w < 0 || (size_t)w != vlen + fr->len) {
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
	.usage = "tap:IFNAME[,offload=off] (TAP device, created if missing)",
	.open = tap_open,
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.close = tap_close,
};
COVE_LINK_TYPE(tap_ops);

/**
 * tap_setup_offloads() - the virtio_net_hdr and what the kernel may send us
 * @t:		link, attached with IFF_VNET_HDR iff @t->vnet
 * @what:	set to the step that failed
 *
 * Return: 0 or a negative errno.
 */
static int tap_setup_offloads(struct tap_link *t, const char **what)
{
	int hdr = (int)TAP_VNET_LEN, le = 1;

	if (t->vnet) {
		*what = "TUNSETVNETHDRSZ";
		if (ioctl(t->link.fd, TUNSETVNETHDRSZ, &hdr) < 0)
			return -errno;
		/* links_vnet_hdr() writes little-endian, whatever the host. */
		*what = "TUNSETVNETLE";
		if (ioctl(t->link.fd, TUNSETVNETLE, &le) < 0)
			return -errno;
	}
	*what = "TUNSETOFFLOAD";
	if (ioctl(t->link.fd, TUNSETOFFLOAD,
		  (unsigned long)(t->vnet ? TAP_RX_OFFLOADS : 0)) < 0)
		return -errno;
	if (t->vnet) {
		t->link.offloads |= COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4 |
				    COVE_LINK_OFF_TSO6;
		t->link.tso_max = TAP_TSO_MAX;
	}
	return 0;
}

/**
 * tap_open() - create or attach to TAP device IFNAME
 * @arg:	"IFNAME[,offload=off]" (offload=off: no virtio_net_hdr, no
 *		checksum/TSO offloads)
 * @pool:	rx pool
 * @out:	the new link
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
static int tap_open(const char *arg, struct cove_frame_pool *pool,
		    struct cove_link **out, struct cove_err *err)
{
	const char *what = "";
	char ifname[IFNAMSIZ];
	struct tap_link *t;
	bool offload = true;
	const struct links_opt known[] = {
		{ "offload=on", &offload, true },
		{ "offload=off", &offload, false },
	};
	struct ifreq ifr;
	uint8_t kmac[6];
	int ret;

	if (links_parse_spec("tap", arg, ifname, known,
			     sizeof(known) / sizeof(known[0]), err) < 0)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		cove_err_set(err, ENOMEM, "tap:%s: out of memory", arg);
		return -ENOMEM;
	}
	t->link.ops = &tap_ops;
	t->link.pool = pool;
	t->vnet = offload;
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	links_set_name(&t->link, "tap", arg);
	t->link.fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->link.fd < 0) {
		ret = -errno;
		cove_err_set(err, -ret, "tap:%s: cannot open /dev/net/tun: %s",
			     arg, strerror(-ret));
		goto fail;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (t->vnet ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(t->link.fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		cove_err_set(
			err, -ret,
			"tap:%s: cannot create or attach the TAP device: %s%s",
			arg, strerror(-ret),
			ret == -EINVAL ?
				" (a non-TAP interface has this name?)" :
			ret == -EBUSY ? " (already attached elsewhere)" :
					"");
		goto fail;
	}
	ret = tap_setup_offloads(t, &what);
	if (ret < 0) {
		cove_err_set(err, -ret, "tap:%s: %s failed: %s%s", arg, what,
			     strerror(-ret),
			     t->vnet ? " (offload=off does without)" : "");
		goto fail;
	}
	ret = links_if_mtu(ifname, &t->link.mtu);
	if (ret < 0) {
		cove_err_set(err, -ret, "tap:%s: cannot read the MTU: %s", arg,
			     strerror(-ret));
		goto fail;
	}
	tap_mac(ifname, t->link.mac);
	if (links_if_mac(ifname, kmac) == 0 && !memcmp(kmac, t->link.mac, 6))
		t->link.mac[5] ^= 0x01;
	*out = &t->link;
	return 0;
fail:
	tap_close(&t->link);
	return ret;
}
