// SPDX-License-Identifier: Apache-2.0
/* xdp:IFNAME - AF_XDP link: UMEM and four rings (libxdp), own XDP program. */
#include <endian.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <linux/if_xdp.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "links/links.h"
#include "links/xdp/xdp.h"

/*
 * Theory of operation
 *
 * The link owns one rx queue (XL_QUEUE) of an existing interface through
 * one AF_XDP socket (@link.fd) and its UMEM: XL_FRAMES chunks of
 * XL_FRAME_SIZE bytes in one anonymous mapping that the kernel pins. The
 * first XL_RX_FRAMES chunks serve receive, the rest transmit; a chunk is
 * always in exactly one place:
 *
 *  - rx chunks: in the fill ring (the kernel may write a frame there), in
 *    the rx ring (a frame for us), or for the length of one rx_burst() in
 *    our hands. rx_burst() peeks up to @n rx descriptors, copies each frame
 *    into a pool frame and gives all the chunks back to the fill ring in the
 *    same burst. The fill ring is as large as the rx share, so that never
 *    fails; all rx chunks go to it at open.
 *  - tx chunks: on @tx_free (ours), in the tx ring (queued for the kernel)
 *    or between the two in the kernel, until the completion ring returns
 *    them. tx_burst() first reaps completions, then copies each frame into
 *    a free chunk and queues it, stopping when chunks or ring slots run
 *    out (the caller keeps the rest).
 *
 * The copies stay because the link ABI hands out frames of the caller's
 * pool (MTU-sized, not chunk-aligned, freed with no word to the link), and
 * takes frames from any pool on transmit: a chunk cannot become a pool frame
 * without changing include/cove/frame.h. Copy mode (veth, generic XDP)
 * copies once more in the kernel, between the skb and the chunk.
 *
 * need_wakeup (XDP_USE_NEED_WAKEUP): the kernel says in the ring flags when
 * it needs a syscall to make progress. Receive needs none (a driver that
 * ran dry of fill entries asks for a recvfrom(), done after refilling).
 * Transmit in copy mode always needs a kick; the kernel sends at most 32
 * frames per sendto() and answers EAGAIN while more wait, so xl_kick()
 * repeats while the ring is not drained, a bounded number of times, and a
 * kick that leaves frames queued is retried by the next tx_burst(), even
 * with @n == 0. An idle link therefore makes no syscalls at all: the host
 * sleeps on @link.fd, which polls readable when the rx ring has frames.
 *
 * Offloads: AF_XDP carries no checksum state either way here. Tx checksum
 * metadata (XDP_UMEM_TX_METADATA_LEN, kernel 6.8) would need the UMEM to
 * be registered with tx_metadata_len, which libxdp 1.3's xsk_umem__create
 * cannot do, so COVE_LINK_OFF_TX_CSUM (unless "offload=off") is done here
 * in software right after the copy, while the frame is in the cache
 * (links_vnet_hdr() checks the offsets, links_csum_partial() sums). No
 * TSO: a frame is one chunk. Received frames carry no checksum hint (the
 * kernel has no XDP kfunc for one), so the stack verifies every one, and a
 * frame the local kernel sent with its checksum left to the device (a veth
 * peer with tx checksumming on) arrives with only the pseudo-header sum:
 * the peer needs "ethtool -K PEER tx off" (docs/LINKS.md).
 *
 * The kernel's own drop counters (XDP_STATISTICS: rx ring full, bad
 * descriptors) are folded into the link's stats every XL_STATS_EVERY
 * non-empty bursts and at close, so they cost no syscall at idle.
 */

#define XL_FRAME_SIZE	   2048u /* smallest chunk AF_XDP allows */
#define XL_RX_FRAMES	   2048u
#define XL_TX_FRAMES	   2048u
#define XL_FRAMES	   (XL_RX_FRAMES + XL_TX_FRAMES)
#define XL_QUEUE	   0u
#define XL_KICKS_MAX	   (XL_TX_FRAMES / 32u + 2u) /* 32: the kernel's batch */
#define XL_STATS_EVERY	   64u
#define XL_BIND_TRIES	   50u	/* x 10 ms: a queue freed just now comes back */
#define XL_KERNEL_HEADROOM 256u /* XDP_PACKET_HEADROOM, before rx data */
#define XL_RX_BATCH	   256u /* descriptors per rx_burst() at most */
#define XL_CHUNK_MASK	   ((uint64_t)XL_FRAME_SIZE - 1)
#define XL_RX_END	   ((uint64_t)XL_RX_FRAMES * XL_FRAME_SIZE)

_Static_assert((XL_RX_FRAMES & (XL_RX_FRAMES - 1)) == 0 &&
		       (XL_TX_FRAMES & (XL_TX_FRAMES - 1)) == 0,
	       "ring sizes are powers of two");
_Static_assert(XL_FRAME_SIZE - XL_KERNEL_HEADROOM >= 1500 + LINKS_ETH_VLAN_HLEN,
	       "a chunk holds a 1500-byte MTU frame with a VLAN tag");

struct xl_link {
	struct cove_link link; /* first: the ABI view; fd = the XSK */
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint8_t *area;			/* XL_FRAMES * XL_FRAME_SIZE bytes */
	struct xl_prog prog;		/* the XDP program and its map */
	uint64_t tx_free[XL_TX_FRAMES]; /* chunk addresses we may fill */
	uint32_t ntx_free;
	uint32_t bursts; /* non-empty rx bursts since the last stats read */
	bool tx_pending; /* queued frames a kick has not drained */
	bool csum;	 /* offload: complete partial checksums here */
	uint64_t k_rx_drop, k_tx_bad; /* kernel counters already counted */
};

/* xl_kernel_stats() - fold the kernel's drop counters into the link's stats. */
static void xl_kernel_stats(struct xl_link *x)
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);
	uint64_t rx, tx;

	x->bursts = 0;
	if (getsockopt(x->link.fd, SOL_XDP, XDP_STATISTICS, &st, &len))
		return;
	rx = st.rx_dropped + st.rx_ring_full + st.rx_invalid_descs;
	tx = st.tx_invalid_descs;
	x->link.stats.rx_dropped += rx - x->k_rx_drop;
	x->link.stats.tx_dropped += tx - x->k_tx_bad;
	x->k_rx_drop = rx;
	x->k_tx_bad = tx;
}

/**
 * xl_rx_burst() - copy up to @n received frames into pool frames
 * @l:	link
 * @f:	filled with frames of the link's pool
 * @n:	room in @f
 *
 * Every chunk peeked goes back to the fill ring in the same call; a frame
 * that finds the pool empty, or is shorter than an Ethernet header or
 * longer than a pool buffer, is dropped (rx_dropped).
 *
 * Return: frames filled.
 */
static unsigned xl_rx_burst(struct cove_link *l, struct cove_frame **f,
			    unsigned n)
{
	struct xl_link *x = (struct xl_link *)l;
	uint64_t chunks[XL_RX_BATCH];
	uint32_t idx_rx = 0, idx_fq = 0, got, i, back = 0;
	unsigned filled = 0;

	got = xsk_ring_cons__peek(&x->rx, n < XL_RX_BATCH ? n : XL_RX_BATCH,
				  &idx_rx);
	if (!got)
		return 0;
	for (i = 0; i < got; i++) {
		const struct xdp_desc *d =
			xsk_ring_cons__rx_desc(&x->rx, idx_rx + i);
		uint64_t addr = d->addr, chunk = addr & ~XL_CHUNK_MASK;
		struct cove_frame *fr = NULL;

		if (chunk >= XL_RX_END) {
			l->stats.rx_dropped++; /* not ours to give back */
			continue;
		}
		chunks[back++] = chunk;
		if (d->len >= LINKS_ETH_HLEN &&
		    d->len <= XL_FRAME_SIZE - (addr - chunk))
			fr = cove_frame_alloc(l->pool);
		if (fr && d->len <= fr->cap) {
			memcpy(fr->data, x->area + addr, d->len);
			fr->len = d->len;
			l->stats.rx_frames++;
			l->stats.rx_bytes += d->len;
			f[filled++] = fr;
		} else {
			cove_frame_free(fr);
			l->stats.rx_dropped++;
		}
	}
	xsk_ring_cons__release(&x->rx, got);
	/* never short: the fill ring has room for every rx chunk */
	if (xsk_ring_prod__reserve(&x->fq, back, &idx_fq) == back) {
		for (i = 0; i < back; i++)
			*xsk_ring_prod__fill_addr(&x->fq, idx_fq + i) =
				chunks[i];
		xsk_ring_prod__submit(&x->fq, back);
	}
	if (xsk_ring_prod__needs_wakeup(&x->fq))
		(void)recvfrom(l->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	if (++x->bursts == XL_STATS_EVERY)
		xl_kernel_stats(x);
	return filled;
}

/* xl_reap() - take the chunks of sent frames back from the completion ring. */
static void xl_reap(struct xl_link *x)
{
	uint32_t idx = 0, got, i;

	got = xsk_ring_cons__peek(&x->cq, XL_TX_FRAMES, &idx);
	for (i = 0; i < got; i++) {
		uint64_t a = *xsk_ring_cons__comp_addr(&x->cq, idx + i);

		a &= ~XL_CHUNK_MASK;
		if (a >= XL_RX_END &&
		    a < XL_RX_END + XL_TX_FRAMES * XL_FRAME_SIZE &&
		    x->ntx_free < XL_TX_FRAMES)
			x->tx_free[x->ntx_free++] = a;
	}
	xsk_ring_cons__release(&x->cq, got);
}

/* xl_tx_drained() - the kernel has taken every descriptor we queued. */
static bool xl_tx_drained(const struct xl_link *x)
{
	return __atomic_load_n(x->tx.consumer, __ATOMIC_ACQUIRE) ==
	       *x->tx.producer;
}

/*
 * xl_kick() - make the kernel send what the tx ring holds. Copy mode sends
 * a batch per sendto() and says EAGAIN while more wait; EBUSY means the
 * completion ring is full (reaped between tries). Other errors (ENETDOWN,
 * ENXIO) leave the frames queued for the next tx_burst().
 */
static void xl_kick(struct xl_link *x)
{
	unsigned tries;

	for (tries = 0; tries < XL_KICKS_MAX && !xl_tx_drained(x); tries++) {
		if (!xsk_ring_prod__needs_wakeup(&x->tx))
			break; /* the driver polls the ring itself */
		if (sendto(x->link.fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS)
			break;
		xl_reap(x);
	}
	x->tx_pending = !xl_tx_drained(x) &&
			xsk_ring_prod__needs_wakeup(&x->tx);
}

/*
 * xl_tx_ok() - can @fr go out on this link? Fills @vh for a checksum the
 * link completes. Return: true to send, false to drop.
 */
static bool xl_tx_ok(struct xl_link *x, const struct cove_frame *fr,
		     struct virtio_net_hdr *vh)
{
	if (fr->len < LINKS_ETH_HLEN ||
	    fr->len > x->link.mtu + LINKS_ETH_VLAN_HLEN)
		return false;
	if (fr->flags & COVE_FRAME_F_TSO)
		return false;
	if (!(fr->flags & COVE_FRAME_F_CSUM_PARTIAL))
		return true;
	return x->csum && links_vnet_hdr(fr, vh) == 0;
}

/**
 * xl_tx_burst() - copy up to @n frames into tx chunks, queue them, kick once
 * @l:	link
 * @f:	frames; accepted ones are freed here
 * @n:	count (0 only reaps completions and retries a kick)
 *
 * Return: frames accepted; fewer than @n when chunks or ring slots ran out.
 */
static unsigned xl_tx_burst(struct cove_link *l, struct cove_frame **f,
			    unsigned n)
{
	struct xl_link *x = (struct xl_link *)l;
	unsigned done, queued = 0;
	struct virtio_net_hdr vh;

	xl_reap(x);
	for (done = 0; done < n; done++) {
		struct cove_frame *fr = f[done];
		uint32_t idx;
		uint64_t addr;
		struct xdp_desc *d;
		uint8_t *dst;

		if (!xl_tx_ok(x, fr, &vh)) {
			l->stats.tx_dropped++;
			cove_frame_free(fr);
			continue;
		}
		if (!x->ntx_free ||
		    xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1)
			break;
		addr = x->tx_free[--x->ntx_free];
		dst = x->area + addr;
		memcpy(dst, fr->data, fr->len);
		if (fr->flags & COVE_FRAME_F_CSUM_PARTIAL)
			(void)links_csum_partial(dst, fr->len,
						 le16toh(vh.csum_start),
						 le16toh(vh.csum_offset));
		d = xsk_ring_prod__tx_desc(&x->tx, idx);
		d->addr = addr;
		d->len = fr->len;
		d->options = 0;
		l->stats.tx_frames++;
		l->stats.tx_bytes += fr->len;
		cove_frame_free(fr);
		queued++;
	}
	if (queued)
		xsk_ring_prod__submit(&x->tx, queued);
	if (queued || x->tx_pending)
		xl_kick(x);
	return done;
}

/* xl_close() - detach the program, close the socket, free the UMEM. */
static void xl_close(struct cove_link *l)
{
	struct xl_link *x = (struct xl_link *)l;

	if (x->xsk)
		xl_kernel_stats(x);
	xl_prog_detach(&x->prog);
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, (size_t)XL_FRAMES * XL_FRAME_SIZE);
	free(x);
}

/* xl_quiet() - libbpf's and libxdp's own printing: off (errors come back). */
static int xl_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int xl_quiet_xdp(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/**
 * xl_setup() - UMEM, socket, program, map entry and a full fill ring
 * @x:		link (fields set as they are made; xl_close() undoes them)
 * @ifname:	interface
 * @ifindex:	its index
 * @mode:	program attach mode
 * @what:	set to the step that failed
 *
 * Return: 0 or a negative errno.
 */
static int xl_setup(struct xl_link *x, const char *ifname, unsigned ifindex,
		    enum xl_mode mode, const char **what)
{
	const struct xsk_umem_config ucfg = {
		.fill_size = XL_RX_FRAMES,
		.comp_size = XL_TX_FRAMES,
		.frame_size = XL_FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = XL_RX_FRAMES,
		.tx_size = XL_TX_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP,
	};
	uint32_t idx = 0, i;
	unsigned tries;
	void *area;
	int ret;

	*what = "mapping the UMEM";
	area = mmap(NULL, (size_t)XL_FRAMES * XL_FRAME_SIZE,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return -errno;
	x->area = area;
	*what = "registering the UMEM";
	ret = xsk_umem__create(&x->umem, area,
			       (uint64_t)XL_FRAMES * XL_FRAME_SIZE, &x->fq,
			       &x->cq, &ucfg);
	if (ret < 0) {
		x->umem = NULL;
		return ret;
	}
	ret = xl_prog_attach(&x->prog, ifindex, XL_QUEUE, mode, what);
	if (ret < 0)
		return ret;
	/* a socket under a generic-mode program must not take zero copy */
	if (!x->prog.native)
		scfg.bind_flags |= XDP_COPY;
	*what = "binding the AF_XDP socket";
	for (tries = 0;; tries++) {
		ret = xsk_socket__create(&x->xsk, ifname, XL_QUEUE, x->umem,
					 &x->rx, &x->tx, &scfg);
		if (ret != -EBUSY || tries == XL_BIND_TRIES)
			break;
		/* a socket just closed frees its queue from a work queue */
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	if (ret < 0) {
		x->xsk = NULL;
		return ret;
	}
	x->link.fd = xsk_socket__fd(x->xsk);
	*what = "adding the socket to the XSKMAP";
	ret = xl_prog_add_socket(&x->prog, XL_QUEUE, x->link.fd);
	if (ret < 0)
		return ret;
	*what = "filling the fill ring";
	if (xsk_ring_prod__reserve(&x->fq, XL_RX_FRAMES, &idx) != XL_RX_FRAMES)
		return -ENOSPC;
	for (i = 0; i < XL_RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) =
			(uint64_t)i * XL_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fq, XL_RX_FRAMES);
	for (i = 0; i < XL_TX_FRAMES; i++)
		x->tx_free[i] = (uint64_t)(XL_RX_FRAMES + i) * XL_FRAME_SIZE;
	x->ntx_free = XL_TX_FRAMES;
	return 0;
}

/* xl_hint() - what to do about a set-up failure, or "". */
static const char *xl_hint(int err, const char *what, const char *ifname,
			   char *buf, size_t len)
{
	if (err == -EPERM)
		return " (needs CAP_NET_ADMIN, CAP_BPF and CAP_IPC_LOCK)";
	if (err == -EAFNOSUPPORT)
		return " (the kernel has no AF_XDP: CONFIG_XDP_SOCKETS)";
	if ((err == -EBUSY || err == -EEXIST) && strstr(what, "attaching")) {
		snprintf(buf, len,
			 " (%s already has an XDP program: see 'ip link show dev %s'; "
			 "'ip link set dev %s xdp off' removes one not held by "
			 "a running process)",
			 ifname, ifname, ifname);
		return buf;
	}
	if (err == -EBUSY && strstr(what, "binding"))
		return " (another AF_XDP socket owns queue 0)";
	if (err == -EOPNOTSUPP && strstr(what, "native"))
		return " (the driver has no native XDP: use mode=generic or mode=auto)";
	return "";
}

/*
 * xl_parse_mode() - the last "mode=" item of @arg (links_parse_spec() has
 * checked every item already). Return: the mode.
 */
static enum xl_mode xl_parse_mode(const char *arg)
{
	enum xl_mode mode = XL_MODE_AUTO;
	const char *p;

	for (p = strchr(arg, ','); p; p = strchr(p + 1, ',')) {
		if (!strncmp(p, ",mode=native", 12) && (!p[12] || p[12] == ','))
			mode = XL_MODE_NATIVE;
		else if (!strncmp(p, ",mode=generic", 13) &&
			 (!p[13] || p[13] == ','))
			mode = XL_MODE_GENERIC;
		else if (!strncmp(p, ",mode=auto", 10) &&
			 (!p[10] || p[10] == ','))
			mode = XL_MODE_AUTO;
	}
	return mode;
}

static int xl_open(const char *arg, struct cove_frame_pool *pool,
		   struct cove_link **out, struct cove_err *err);

static const struct cove_link_ops xl_ops = {
	.kind = "xdp",
	.usage = "xdp:IFNAME[,mode=native|generic|auto][,offload=off] "
		 "(AF_XDP on queue 0 of an existing interface)",
	.open = xl_open,
	.rx_burst = xl_rx_burst,
	.tx_burst = xl_tx_burst,
	.close = xl_close,
};
COVE_LINK_TYPE(xl_ops);

/**
 * xl_open() - take queue 0 of an existing interface with AF_XDP
 * @arg:	"IFNAME[,mode=native|generic|auto][,offload=off]" (mode: how
 *		the XDP program attaches, auto = native, else generic;
 *		offload=off: no tx checksum completion)
 * @pool:	rx pool
 * @out:	the new link
 * @err:	one line naming the link, the failed step and the cause
 *
 * Return: 0 or < 0 with @err set; nothing stays attached on failure.
 */
static int xl_open(const char *arg, struct cove_frame_pool *pool,
		   struct cove_link **out, struct cove_err *err)
{
	bool offload = true, dummy = false;
	const struct links_opt known[] = {
		{ "mode=native", &dummy, true },
		{ "mode=generic", &dummy, true },
		{ "mode=auto", &dummy, true },
		{ "offload=on", &offload, true },
		{ "offload=off", &offload, false },
	};
	char ifname[IFNAMSIZ], hint[200];
	const char *what = "";
	struct xl_link *x;
	unsigned ifindex;
	int ret;

	if (links_parse_spec("xdp", arg, ifname, known,
			     sizeof(known) / sizeof(known[0]), err) < 0)
		return -EINVAL;
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		cove_err_set(err, ENODEV, "xdp:%s: no such interface", arg);
		return -ENODEV;
	}
	libbpf_set_print(xl_quiet);
	libxdp_set_print(xl_quiet_xdp);
	x = calloc(1, sizeof(*x));
	if (!x) {
		cove_err_set(err, ENOMEM, "xdp:%s: out of memory", arg);
		return -ENOMEM;
	}
	x->link.ops = &xl_ops;
	x->link.pool = pool;
	x->link.fd = -1;
	x->prog =
		(struct xl_prog){ .map_fd = -1, .prog_fd = -1, .link_fd = -1 };
	x->csum = offload;
	links_set_name(&x->link, "xdp", arg);
	what = "reading the MTU";
	ret = links_if_mtu(ifname, &x->link.mtu);
	if (!ret) {
		what = "reading the MAC address";
		ret = links_if_mac(ifname, x->link.mac);
	}
	if (!ret && x->link.mtu + LINKS_ETH_VLAN_HLEN >
			    XL_FRAME_SIZE - XL_KERNEL_HEADROOM) {
		cove_err_set(err, EINVAL,
			     "xdp:%s: MTU %u does not fit a %u-byte UMEM chunk "
			     "(at most %u)",
			     arg, x->link.mtu, XL_FRAME_SIZE,
			     XL_FRAME_SIZE - XL_KERNEL_HEADROOM -
				     LINKS_ETH_VLAN_HLEN);
		ret = -EINVAL;
		goto fail;
	}
	if (!ret)
		ret = xl_setup(x, ifname, ifindex, xl_parse_mode(arg), &what);
	if (ret < 0) {
		cove_err_set(err, -ret, "xdp:%s: %s failed%s", arg, what,
			     xl_hint(ret, what, ifname, hint, sizeof(hint)));
		goto fail;
	}
	if (offload)
		x->link.offloads |= COVE_LINK_OFF_TX_CSUM;
	*out = &x->link;
	return 0;
fail:
	xl_close(&x->link);
	return ret;
}
