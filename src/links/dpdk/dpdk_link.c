// SPDX-License-Identifier: Apache-2.0
/* dpdk:DEVARGS - a DPDK ethdev port (one Rx, one Tx queue) in interrupt mode. */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <rte_dev.h>
#include <rte_epoll.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>
#include <xdp/libxdp.h>

#include "links/dpdk/dpdk.h"
#include "links/links.h"

/*
 * Theory of operation
 *
 * The link drives one port of DPDK's ethdev layer: a virtual device
 * (net_af_packet, net_tap, net_af_xdp) that rte_dev_probe() creates from
 * the devargs, or a PCI NIC bound to vfio-pci that the EAL probed at
 * start-up (dpdk_eal.c). It has one Rx and one Tx queue and one mempool of
 * DPDK_MBUFS mbufs, all sized at open. The EAL is process-global, so one
 * dpdk link may be open per process (@dpdk_link_open); a second open is
 * refused with a message that says so.
 *
 * Data: rx_burst() takes up to @n mbufs (never more than the frame pool
 * has free, so what the stack cannot take stays in the device ring),
 * copies each into a pool frame and frees the mbufs; tx_burst() copies
 * frames into mbufs (a chain for a TSO super-frame), sets the offload
 * fields from the frame's flags and hands them to rte_eth_tx_prepare()
 * and rte_eth_tx_burst(). Frames the device did not take go back to the
 * caller; a frame that cannot be sent at all (bad length, flags that do
 * not fit its headers, refused by tx_prepare) is consumed and counted in
 * tx_dropped. Either way the consumed frames are a prefix of @f.
 *
 * Sleeping, as DPDK's l3fwd-power does it: the link's @fd is an epoll set
 * of its own, which the host watches like any other fd. It holds
 *
 *  - @efd, an eventfd kept readable while the link polls: the host comes
 *    straight back and calls rx_burst() again;
 *  - the queue's Rx interrupt fd, when the PMD has one (RTE_INTR_EVENT_ADD
 *    of rte_eth_dev_rx_intr_ctl_q() into our set): an MSI-X eventfd under
 *    vfio-pci, the TAP's own fd for net_tap (level: readable while frames
 *    wait; the PMD has no enable/disable, @intr_toggle is false);
 *  - for the PMDs without one (net_af_packet, net_af_xdp): the PMD's own
 *    AF_PACKET or AF_XDP socket (@pmd_fd), found as the one such socket
 *    that the probe and queue set-up opened (dpdk_find_pmd_fd()). The
 *    kernel makes it readable while its Rx ring holds frames, so it is
 *    the Rx interrupt those PMDs do not offer. It is only polled, never
 *    read: DPDK owns it;
 *  - @tfd, a timerfd, when neither exists (other PMDs, or intr=off): the
 *    adaptive sleep, from DPDK_SLEEP_MIN_US doubling up to sleep_max.
 *
 * Every rx_burst() that finds nothing counts an empty poll; at
 * @empty_polls in a row the link stops polling: it clears @efd, arms the
 * interrupt and polls once more (a frame that came in before the interrupt
 * was armed would otherwise wait for the next one), or arms @tfd at
 * @sleep_us and doubles that for next time, up to sleep_max. The host then
 * sleeps in its epoll. The next rx_burst() (the interrupt or the timer
 * fired, or the host woke for its own reasons) drains the set with
 * rte_epoll_wait(), which reads an eventfd of DPDK's kind the way DPDK
 * must, disarms the interrupt and polls; frames, or a tx_burst() that sent
 * something (a reply is likely to follow), put the link back to polling.
 */

#define DPDK_BURST	  64u
#define DPDK_RX_DESC	  1024u
#define DPDK_TX_DESC	  1024u
#define DPDK_TSO_SEGS	  40u /* a 64 KiB chain of 2 KiB mbufs, and spare */
#define DPDK_CACHE	  32u
#define DPDK_MBUF_ROOM	  RTE_MBUF_DEFAULT_BUF_SIZE /* 2048 + headroom */
#define DPDK_TSO_MAX	  (65535u + LINKS_ETH_HLEN)
#define DPDK_SLEEP_MIN_US 50u
#define DPDK_FDS_MAX	  512u /* fds looked at for the PMD's socket */

/* Every mbuf the queues, one burst each way and a TSO chain may hold. */
#define DPDK_MBUFS                                                      \
	(DPDK_RX_DESC + DPDK_TX_DESC + 2 * DPDK_BURST + DPDK_TSO_SEGS + \
	 2 * DPDK_CACHE)

_Static_assert(DPDK_MBUF_ROOM - RTE_PKTMBUF_HEADROOM >= 1518 + 4,
	       "one mbuf holds an MTU-sized frame with a VLAN tag");

enum dpdk_wake {
	DPDK_WAKE_INTR,	  /* the queue's Rx interrupt fd */
	DPDK_WAKE_PMD_FD, /* the PMD's own socket (@pmd_fd), level */
	DPDK_WAKE_TIMER,  /* @tfd: adaptive sleep */
};

struct dpdk_link {
	struct cove_link link; /* first: the ABI view; fd = our epoll set */
	struct dpdk_opts o;
	struct rte_mempool *mp;
	struct rte_device *dev; /* removed again at close */
	uint16_t port;
	enum dpdk_wake wake;
	bool tap_quirk;	  /* net_tap: MSS + all headers must fit the MTU */
	bool intr_added;  /* the Rx interrupt fd is in our set */
	bool intr_toggle; /* rx_intr_enable/disable work on this PMD */
	bool spinning;	  /* @efd is readable */
	bool sleeping;	  /* interrupt or timer armed, @efd clear */
	uint32_t empty;	  /* empty polls in a row */
	uint32_t sleep_us;
	int efd, tfd;
	int pmd_fd; /* DPDK_WAKE_PMD_FD: not ours, never read or closed */
	struct rte_epoll_event ev_efd, ev_tfd, ev_pmd;
	unsigned nfds_before; /* fds open before the probe: @fds_before */
	int fds_before[DPDK_FDS_MAX];
};

/* One dpdk link per process: the EAL and its devices are process-global. */
static struct dpdk_link *dpdk_link_open;

/* dpdk_spin() - make the host come back at once (@on) or let it sleep. */
static void dpdk_spin(struct dpdk_link *d, bool on)
{
	uint64_t v = 1;

	if (on == d->spinning)
		return;
	if (on)
		(void)!write(d->efd, &v, sizeof(v));
	else
		(void)!read(d->efd, &v, sizeof(v));
	d->spinning = on;
}

/* dpdk_timer() - arm @tfd once, @us from now (0: disarm). */
static void dpdk_timer(struct dpdk_link *d, uint32_t us)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = us / 1000000u;
	its.it_value.tv_nsec = (long)(us % 1000000u) * 1000;
	(void)timerfd_settime(d->tfd, 0, &its, NULL);
}

/* dpdk_poll_mode() - leave the sleep: poll from now on. */
static void dpdk_poll_mode(struct dpdk_link *d)
{
	if (d->sleeping) {
		if (d->intr_toggle)
			(void)rte_eth_dev_rx_intr_disable(d->port, 0);
		if (d->wake == DPDK_WAKE_TIMER)
			dpdk_timer(d, 0);
		d->sleeping = false;
	}
	d->empty = 0;
	d->sleep_us = DPDK_SLEEP_MIN_US;
	dpdk_spin(d, true);
}

/*
 * dpdk_drain() - take every pending event out of our epoll set: DPDK reads
 * its interrupt eventfds itself (rte_epoll_wait), the timerfd is ours.
 */
static void dpdk_drain(struct dpdk_link *d)
{
	struct rte_epoll_event ev[4];
	uint64_t ticks;
	int i, n;

	n = rte_epoll_wait(d->link.fd, ev, 4, 0);
	for (i = 0; i < n; i++)
		if (ev[i].fd == d->tfd)
			(void)!read(d->tfd, &ticks, sizeof(ticks));
}

/* dpdk_woken() - after a sleep: drain our epoll set, disarm the interrupt. */
static void dpdk_woken(struct dpdk_link *d)
{
	dpdk_drain(d);
	if (d->intr_toggle)
		(void)rte_eth_dev_rx_intr_disable(d->port, 0);
}

/**
 * dpdk_copy_in() - copy one received mbuf (chain) into a pool frame
 * @d:	link
 * @m:	the mbuf; the caller frees it
 *
 * Return: the frame, or NULL when it was dropped (counted).
 */
static struct cove_frame *dpdk_copy_in(struct dpdk_link *d,
				       const struct rte_mbuf *m)
{
	struct cove_frame *f;
	const struct rte_mbuf *s;
	uint32_t len = rte_pktmbuf_pkt_len(m), off = 0;

	if (len < LINKS_ETH_HLEN)
		goto drop;
	f = cove_frame_alloc(d->link.pool);
	if (!f)
		goto drop;
	if (len > f->cap) {
		cove_frame_free(f);
		goto drop;
	}
	for (s = m; s && off < len; s = s->next) {
		uint32_t c = s->data_len;

		if (c > len - off)
			c = len - off;
		memcpy(f->data + off, rte_pktmbuf_mtod(s, const uint8_t *), c);
		off += c;
	}
	if (off != len) {
		cove_frame_free(f);
		goto drop; /* a chain shorter than its pkt_len */
	}
	f->len = len;
	if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
	    RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		f->flags |= COVE_FRAME_F_CSUM_OK;
	return f;
drop:
	d->link.stats.rx_dropped++;
	return NULL;
}

/**
 * dpdk_rx() - receive up to @n frames from the Rx queue
 * @d:	link
 * @f:	filled with frames of the link's pool
 * @n:	room in @f
 *
 * Return: frames filled.
 */
static unsigned dpdk_rx(struct dpdk_link *d, struct cove_frame **f, unsigned n)
{
	struct rte_mbuf *m[DPDK_BURST];
	unsigned got = 0;

	if (n > d->link.pool->nfree)
		n = d->link.pool->nfree; /* the rest waits in the ring */
	while (got < n) {
		uint16_t want =
			(uint16_t)(n - got < DPDK_BURST ? n - got : DPDK_BURST);
		uint16_t k = rte_eth_rx_burst(d->port, 0, m, want), i;

		for (i = 0; i < k; i++) {
			struct cove_frame *fr = dpdk_copy_in(d, m[i]);

			if (fr) {
				d->link.stats.rx_frames++;
				d->link.stats.rx_bytes += fr->len;
				f[got++] = fr;
			}
		}
		rte_pktmbuf_free_bulk(m, k);
		if (k < want)
			break;
	}
	return got;
}

/* dpdk_sleep() - @empty_polls empty polls: arm the wake-up, poll once more. */
static unsigned dpdk_sleep(struct dpdk_link *d, struct cove_frame **f,
			   unsigned n)
{
	unsigned got;

	dpdk_spin(d, false);
	d->sleeping = true;
	d->empty = 0;
	if (d->wake == DPDK_WAKE_TIMER) {
		dpdk_timer(d, d->sleep_us);
		d->sleep_us = d->sleep_us * 2 < d->o.sleep_max_us ?
				      d->sleep_us * 2 :
				      d->o.sleep_max_us;
		return 0;
	}
	dpdk_drain(d); /* edges seen while polling are stale now */
	if (d->intr_toggle)
		(void)rte_eth_dev_rx_intr_enable(d->port, 0);
	got = dpdk_rx(d, f, n);
	if (got)
		dpdk_poll_mode(d);
	return got;
}

/**
 * dpdk_rx_burst() - receive up to @n frames; go to sleep after enough misses
 * @l:	link
 * @f:	filled with frames of the link's pool
 * @n:	room in @f
 *
 * Return: frames filled.
 */
static unsigned dpdk_rx_burst(struct cove_link *l, struct cove_frame **f,
			      unsigned n)
{
	struct dpdk_link *d = (struct dpdk_link *)l;
	unsigned got;

	if (d->sleeping)
		dpdk_woken(d);
	got = dpdk_rx(d, f, n);
	if (got) {
		dpdk_poll_mode(d);
		return got;
	}
	if (!d->sleeping && ++d->empty < d->o.empty_polls)
		return 0; /* @efd stays readable: poll again */
	return dpdk_sleep(d, f, n);
}

/**
 * dpdk_tx_ol() - set an mbuf's offload fields from the frame's flags
 * @d:	link
 * @fr:	frame (COVE_FRAME_F_CSUM_PARTIAL / COVE_FRAME_F_TSO)
 * @m:	its copy; the headers are in the first segment
 *
 * DPDK's convention for TSO wants the TCP checksum field to hold the
 * pseudo-header sum without the length (the frame has it with), so it is
 * rewritten in @m; a partial checksum is already what DPDK expects.
 *
 * Return: 0, or -EINVAL when the flags do not fit the frame or the link.
 */
static int dpdk_tx_ol(struct dpdk_link *d, const struct cove_frame *fr,
		      struct rte_mbuf *m)
{
	struct virtio_net_hdr vh;
	uint32_t l2, start, hlen;
	bool tso = fr->flags & COVE_FRAME_F_TSO;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	if (!(d->link.offloads & COVE_LINK_OFF_TX_CSUM) ||
	    (tso && !(d->link.offloads & COVE_LINK_OFF_TSO4)) ||
	    links_vnet_hdr(fr, &vh) < 0)
		return -EINVAL;
	l2 = (fr->data[12] == 0x81 && fr->data[13] == 0x00) ?
		     LINKS_ETH_VLAN_HLEN :
		     LINKS_ETH_HLEN;
	start = le16toh(vh.csum_start);
	hlen = le16toh(vh.hdr_len);
	if (hlen > m->data_len)
		return -EINVAL;
	m->l2_len = l2;
	m->l3_len = start - l2;
	m->ol_flags |= RTE_MBUF_F_TX_IPV4 | (le16toh(vh.csum_offset) == 16 ?
						     RTE_MBUF_F_TX_TCP_CKSUM :
						     RTE_MBUF_F_TX_UDP_CKSUM);
	if (tso) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + l2);
		uint16_t ph = rte_ipv4_phdr_cksum(ip, RTE_MBUF_F_TX_TCP_SEG);

		m->l4_len = hlen - start;
		m->tso_segsz = fr->gso_size;
		if (d->tap_quirk && fr->gso_size + hlen > d->link.mtu)
			m->tso_segsz = (uint16_t)(d->link.mtu - hlen);
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IP_CKSUM;
		memcpy(p + start + 16, &ph, sizeof(ph)); /* as DPDK sums: raw */
	}
	return 0;
}

/**
 * dpdk_copy_out() - an mbuf (chain) holding a copy of @fr
 * @d:	link
 * @fr:	frame, unchanged
 * @m:	set to the mbuf, or NULL when the mempool is empty
 *
 * Return: 0 (@m may be NULL) or -EINVAL: @fr cannot be sent.
 */
static int dpdk_copy_out(struct dpdk_link *d, const struct cove_frame *fr,
			 struct rte_mbuf **m)
{
	uint32_t max = (fr->flags & COVE_FRAME_F_TSO) ?
			       d->link.tso_max :
			       d->link.mtu + LINKS_ETH_VLAN_HLEN;
	struct rte_mbuf *head, *seg;
	uint32_t off = 0;

	*m = NULL;
	if (fr->len < LINKS_ETH_HLEN || fr->len > max)
		return -EINVAL;
	head = seg = rte_pktmbuf_alloc(d->mp);
	if (!head)
		return 0;
	for (;;) {
		uint32_t c = rte_pktmbuf_tailroom(seg);
		struct rte_mbuf *next;

		if (c > fr->len - off)
			c = fr->len - off;
		memcpy(rte_pktmbuf_mtod(seg, uint8_t *), fr->data + off, c);
		seg->data_len = (uint16_t)c;
		off += c;
		if (off == fr->len)
			break;
		next = rte_pktmbuf_alloc(d->mp);
		if (!next) {
			rte_pktmbuf_free(head);
			return 0;
		}
		seg->next = next;
		head->nb_segs++;
		seg = next;
	}
	head->pkt_len = fr->len;
	if ((fr->flags & (COVE_FRAME_F_CSUM_PARTIAL | COVE_FRAME_F_TSO)) &&
	    dpdk_tx_ol(d, fr, head) < 0) {
		rte_pktmbuf_free(head);
		return -EINVAL;
	}
	if (head->nb_segs > 1 && !(fr->flags & COVE_FRAME_F_TSO) &&
	    !(d->link.offloads & COVE_LINK_OFF_TSO4)) {
		rte_pktmbuf_free(head); /* no multi-segment Tx on this port */
		return -EINVAL;
	}
	*m = head;
	return 0;
}

/**
 * dpdk_pool_create() - the link's one mbuf pool, objects packed
 * @name:	mempool name
 * @sock:	NUMA socket
 *
 * rte_pktmbuf_pool_create() as DPDK does it, with one difference: when
 * IOVAs are virtual addresses, objects may cross page boundaries
 * (RTE_MEMPOOL_F_NO_IOVA_CONTIG), so they lie back to back. The af_xdp PMD
 * turns the pool into its UMEM as populated size x object size from the
 * first object; without hugepages the default populate put one 2.3 KiB
 * object per 4 KiB page, so four in ten mbufs lay beyond the UMEM and
 * every frame sent from one was refused by the kernel as an invalid
 * descriptor (XDP_STATISTICS tx_invalid_descs), which was the transmit
 * stall measured on net_af_xdp (bulk out at 9 MB/s). With physical IOVAs
 * a device may need each object in one page, so the default stays.
 *
 * Return: the pool, or NULL (rte_errno set).
 */
static struct rte_mempool *dpdk_pool_create(const char *name, int sock)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = DPDK_MBUF_ROOM,
	};
	unsigned flags = rte_eal_iova_mode() == RTE_IOVA_VA ?
				 RTE_MEMPOOL_F_NO_IOVA_CONTIG :
				 0;
	struct rte_mempool *mp;

	mp = rte_mempool_create_empty(name, DPDK_MBUFS,
				      sizeof(struct rte_mbuf) + DPDK_MBUF_ROOM,
				      DPDK_CACHE, sizeof(priv), sock, flags);
	if (!mp)
		return NULL;
	if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL))
		goto fail;
	rte_pktmbuf_pool_init(mp, &priv);
	if (rte_mempool_populate_default(mp) < 0)
		goto fail;
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
fail:
	rte_mempool_free(mp);
	return NULL;
}

/**
 * dpdk_tx_some() - send up to DPDK_BURST frames in one device burst
 * @d:	link
 * @f:	frames; the consumed ones (a prefix) are freed here
 * @n:	count, at most DPDK_BURST
 *
 * Return: frames consumed (sent, or dropped as unsendable).
 */
static unsigned dpdk_tx_some(struct dpdk_link *d, struct cove_frame **f,
			     unsigned n)
{
	struct rte_mbuf *m[DPDK_BURST];
	uint8_t idx[DPDK_BURST], bad[DPDK_BURST] = { 0 };
	uint16_t nm = 0, lim, sent, j;
	unsigned i, done;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *mb;

		if (dpdk_copy_out(d, f[i], &mb) < 0) {
			bad[i] = 1;
			continue;
		}
		if (!mb)
			break; /* mempool empty: the rest stays with the caller */
		idx[nm] = (uint8_t)i;
		m[nm++] = mb;
	}
	done = i;
	lim = rte_eth_tx_prepare(d->port, 0, m, nm);
	sent = rte_eth_tx_burst(d->port, 0, m, lim);
	if (sent < lim) {
		done = idx[sent];
	} else if (lim < nm) {
		bad[idx[lim]] = 1; /* tx_prepare refused it */
		done = idx[lim] + 1u;
	}
	for (j = sent; j < nm; j++)
		rte_pktmbuf_free(m[j]);
	for (i = 0; i < done; i++) {
		if (bad[i]) {
			d->link.stats.tx_dropped++;
		} else {
			d->link.stats.tx_frames++;
			d->link.stats.tx_bytes += f[i]->len;
		}
		cove_frame_free(f[i]);
	}
	return done;
}

/**
 * dpdk_tx_burst() - send up to @n frames
 * @l:	link
 * @f:	frames; accepted ones are freed here
 * @n:	count
 *
 * Return: frames accepted; fewer than @n when the device queue (or the
 * mempool) is full.
 */
static unsigned dpdk_tx_burst(struct cove_link *l, struct cove_frame **f,
			      unsigned n)
{
	struct dpdk_link *d = (struct dpdk_link *)l;
	unsigned done = 0, k, want;

	while (done < n) {
		want = n - done < DPDK_BURST ? n - done : DPDK_BURST;
		k = dpdk_tx_some(d, f + done, want);
		done += k;
		if (k < want)
			break;
	}
	if (done && d->sleeping)
		dpdk_poll_mode(d); /* an answer is likely to follow */
	return done;
}

/* dpdk_close() - stop and remove the device, free the mempool and the fds. */
static void dpdk_close(struct cove_link *l)
{
	struct dpdk_link *d = (struct dpdk_link *)l;

	if (d->dev) {
		(void)rte_eth_dev_stop(d->port);
		if (d->wake == DPDK_WAKE_PMD_FD)
			(void)rte_epoll_ctl(d->link.fd, EPOLL_CTL_DEL,
					    d->pmd_fd, &d->ev_pmd);
		if (d->intr_added)
			(void)rte_eth_dev_rx_intr_ctl_q(d->port, 0, d->link.fd,
							RTE_INTR_EVENT_DEL,
							NULL);
		(void)rte_eth_dev_close(d->port);
		(void)rte_dev_remove(d->dev);
	}
	rte_mempool_free(d->mp);
	if (d->link.fd >= 0)
		close(d->link.fd);
	if (d->efd >= 0)
		close(d->efd);
	if (d->tfd >= 0)
		close(d->tfd);
	if (dpdk_link_open == d)
		dpdk_link_open = NULL;
	free(d);
}

/* dpdk_fail() - fill @err with @what and DPDK's first error line (or errno). */
static int dpdk_fail(struct cove_err *err, const char *arg, int code,
		     const char *what)
{
	char why[200];

	dpdk_last_log(why, sizeof(why));
	if (*why)
		return cove_err_set(err, code, "dpdk:%s: %s: %s", arg, what,
				    why);
	return cove_err_set(err, code, "dpdk:%s: %s: %s", arg, what,
			    rte_strerror(code));
}

/* dpdk_fds() - the numbers of up to @max fds open in this process. */
static unsigned dpdk_fds(int *fds, unsigned max)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	if (!dir)
		return 0;
	while (n < max && (e = readdir(dir)))
		if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(dir))
			fds[n++] = atoi(e->d_name); /* not the listing's own */
	closedir(dir);
	return n;
}

/*
 * dpdk_find_pmd_fd() - the one AF_PACKET or AF_XDP socket the probe and
 * the queue set-up opened, or -1 (none, several, or no list from before).
 */
static int dpdk_find_pmd_fd(const struct dpdk_link *d)
{
	int now[DPDK_FDS_MAX], found = -1, dom;
	unsigned n = dpdk_fds(now, DPDK_FDS_MAX), i, j;
	socklen_t len;

	if (!d->nfds_before || n == DPDK_FDS_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		for (j = 0; j < d->nfds_before; j++)
			if (now[i] == d->fds_before[j])
				break;
		len = sizeof(dom);
		if (j < d->nfds_before ||
		    getsockopt(now[i], SOL_SOCKET, SO_DOMAIN, &dom, &len) ||
		    (dom != AF_PACKET && dom != AF_XDP))
			continue;
		if (found >= 0)
			return -1; /* several queues' sockets: which one? */
		found = now[i];
	}
	return found;
}

/*
 * dpdk_bpf_print(), dpdk_xdp_print() - what libbpf and libxdp print while
 * the af_xdp PMD loads its XDP program ("skipping unrecognized data
 * section", "No bpffs found", on every start): only with COVE_DPDK_LOG.
 * Failures still reach the user through the PMD's own error and ours.
 */
__attribute__((format(printf, 2, 0))) static int
dpdk_bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return getenv("COVE_DPDK_LOG") ? vfprintf(stderr, fmt, ap) : 0;
}

__attribute__((format(printf, 2, 0))) static int
dpdk_xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return getenv("COVE_DPDK_LOG") ? vfprintf(stderr, fmt, ap) : 0;
}

/* dpdk_find_port() - the ethdev port of device @name, probing it if needed. */
static int dpdk_find_port(struct dpdk_link *d, const char *arg,
			  struct cove_err *err)
{
	char name[sizeof(d->o.dev) + 8];
	int ret;

	snprintf(name, sizeof(name), "%s%s",
		 d->o.pci && strchr(d->o.dev, ':') == strrchr(d->o.dev, ':') ?
			 "0000:" :
			 "",
		 d->o.dev);
	if (!rte_eth_dev_get_port_by_name(name, &d->port))
		return 0;
	d->nfds_before = dpdk_fds(d->fds_before, DPDK_FDS_MAX);
	if (d->nfds_before == DPDK_FDS_MAX)
		d->nfds_before = 0; /* too many to tell new ones apart */
	ret = rte_dev_probe(d->o.devargs);
	if (ret < 0)
		return dpdk_fail(err, arg, -ret, "probing the device failed");
	if (rte_eth_dev_get_port_by_name(name, &d->port))
		return dpdk_fail(err, arg, ENODEV,
				 "the device has no ethdev port of that name");
	return 0;
}

/**
 * dpdk_setup_port() - mempool, offloads, queues; start the port
 * @d:		link (port set)
 * @arg:	for messages
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
static int dpdk_setup_port(struct dpdk_link *d, const char *arg,
			   struct cove_err *err)
{
	static unsigned seq;
	const uint64_t tx_want =
		RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
		RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO |
		RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	const uint64_t rx_want = RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
				 RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t nrx = DPDK_RX_DESC, ntx = DPDK_TX_DESC, mtu = 1500;
	uint64_t tx;
	char mpname[RTE_MEMPOOL_NAMESIZE], msg[160];
	int ret, sock = rte_eth_dev_socket_id(d->port);

	if (sock < 0)
		sock = (int)rte_socket_id();
	ret = rte_eth_dev_info_get(d->port, &info);
	if (ret < 0)
		return dpdk_fail(err, arg, -ret, "reading the device info");
	d->dev = info.device;
	snprintf(mpname, sizeof(mpname), "cove_dpdk%u", seq++);
	d->mp = dpdk_pool_create(mpname, sock);
	if (!d->mp) {
		snprintf(msg, sizeof(msg),
			 "a mempool of %u mbufs (%u KiB) does not fit in DPDK's "
			 "memory (raise mem=, now %u MiB)",
			 DPDK_MBUFS,
			 DPDK_MBUFS * (DPDK_MBUF_ROOM + 192u) / 1024u,
			 d->o.mem_mb);
		dpdk_last_log(NULL, 0);
		return cove_err_set(err, ENOMEM, "dpdk:%s: %s", arg, msg);
	}
	tx = d->o.offload ? info.tx_offload_capa & tx_want : 0;
	if (!(tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) ||
	    !(tx & RTE_ETH_TX_OFFLOAD_UDP_CKSUM))
		tx = 0; /* a partial frame may be TCP or UDP: both or none */
	if (!(tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) ||
	    !(tx & RTE_ETH_TX_OFFLOAD_MULTI_SEGS))
		tx &= ~(uint64_t)(RTE_ETH_TX_OFFLOAD_TCP_TSO |
				  RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
	conf.txmode.offloads = tx;
	conf.rxmode.offloads = d->o.offload ? info.rx_offload_capa & rx_want :
					      0;
	conf.intr_conf.rxq = d->o.intr;
	ret = rte_eth_dev_configure(d->port, 1, 1, &conf);
	if (ret < 0 && conf.intr_conf.rxq) {
		conf.intr_conf.rxq = 0; /* try without the Rx interrupt */
		ret = rte_eth_dev_configure(d->port, 1, 1, &conf);
	}
	if (ret < 0)
		return dpdk_fail(err, arg, -ret, "configuring the port");
	(void)rte_eth_dev_adjust_nb_rx_tx_desc(d->port, &nrx, &ntx);
	ret = rte_eth_rx_queue_setup(d->port, 0, nrx, (unsigned)sock, NULL,
				     d->mp);
	if (ret < 0)
		return dpdk_fail(err, arg, -ret, "setting up the Rx queue");
	ret = rte_eth_tx_queue_setup(d->port, 0, ntx, (unsigned)sock, NULL);
	if (ret < 0)
		return dpdk_fail(err, arg, -ret, "setting up the Tx queue");
	ret = rte_eth_dev_start(d->port);
	if (ret < 0)
		return dpdk_fail(err, arg, -ret, "starting the port");
	if (!rte_eth_dev_get_mtu(d->port, &mtu))
		d->link.mtu = mtu;
	else
		d->link.mtu = 1500;
	if (tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM)
		d->link.offloads |= COVE_LINK_OFF_TX_CSUM;
	if (tx & RTE_ETH_TX_OFFLOAD_TCP_TSO) {
		uint32_t segs = info.tx_desc_lim.nb_seg_max ?
					info.tx_desc_lim.nb_seg_max :
					UINT16_MAX;
		uint32_t room = DPDK_MBUF_ROOM - RTE_PKTMBUF_HEADROOM;

		d->link.offloads |= COVE_LINK_OFF_TSO4;
		d->link.tso_max = segs > DPDK_TSO_MAX / room ? DPDK_TSO_MAX :
							       segs * room;
	}
	return 0;
}

/**
 * dpdk_setup_wake() - the epoll set behind @fd: spin eventfd, Rx interrupt
 *		       fd or timerfd
 * @d:		link (port started)
 * @arg:	for messages
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
static int dpdk_setup_wake(struct dpdk_link *d, const char *arg,
			   struct cove_err *err)
{
	int ret;

	d->link.fd = epoll_create1(EPOLL_CLOEXEC);
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->link.fd < 0 || d->efd < 0 || d->tfd < 0)
		return cove_err_set(err, errno, "dpdk:%s: event fds: %s", arg,
				    strerror(errno));
	d->ev_efd.epdata.event = EPOLLIN;
	d->ev_tfd.epdata.event = EPOLLIN;
	if (rte_epoll_ctl(d->link.fd, EPOLL_CTL_ADD, d->efd, &d->ev_efd) < 0 ||
	    rte_epoll_ctl(d->link.fd, EPOLL_CTL_ADD, d->tfd, &d->ev_tfd) < 0)
		return cove_err_set(err, EINVAL, "dpdk:%s: epoll_ctl failed",
				    arg);
	d->wake = DPDK_WAKE_TIMER;
	if (d->o.intr && !rte_eth_dev_rx_intr_ctl_q(d->port, 0, d->link.fd,
						    RTE_INTR_EVENT_ADD, NULL)) {
		d->intr_added = true;
		ret = rte_eth_dev_rx_intr_enable(d->port, 0);
		if (!ret || ret == -ENOTSUP) {
			d->wake = DPDK_WAKE_INTR;
			d->intr_toggle = !ret;
		}
		if (!ret)
			(void)rte_eth_dev_rx_intr_disable(d->port, 0);
	}
	if (d->o.intr && d->wake == DPDK_WAKE_TIMER) {
		d->pmd_fd = dpdk_find_pmd_fd(d);
		d->ev_pmd.epdata.event = EPOLLIN;
		if (d->pmd_fd >= 0 && !rte_epoll_ctl(d->link.fd, EPOLL_CTL_ADD,
						     d->pmd_fd, &d->ev_pmd))
			d->wake = DPDK_WAKE_PMD_FD;
	}
	(void)dpdk_last_log(NULL, 0); /* the PMDs' "no Rx interrupt" lines */
	if (getenv("COVE_DPDK_LOG"))
		fprintf(stderr, "dpdk:%s: %s, offloads 0x%x\n", arg,
			d->wake == DPDK_WAKE_TIMER ?
				"adaptive sleep (timerfd)" :
			d->wake == DPDK_WAKE_PMD_FD ?
				"the PMD's socket (level)" :
			d->intr_toggle ? "Rx interrupt" :
					 "Rx fd (level)",
			d->link.offloads);
	d->sleep_us = DPDK_SLEEP_MIN_US;
	dpdk_spin(d, true);
	return 0;
}

static int dpdk_open(const char *arg, struct cove_frame_pool *pool,
		     struct cove_link **out, struct cove_err *err);

static const struct cove_link_ops dpdk_ops = {
	.kind = "dpdk",
	.usage = "dpdk:DEVARGS[,mem=MB][,empty_polls=N][,sleep_max=US]"
		 "[,intr=off][,offload=off] (a DPDK port: net_af_packet0,"
		 "iface=IF, net_tap0,iface=IF, net_af_xdp0,iface=IF or a "
		 "vfio-pci NIC's PCI address)",
	.open = dpdk_open,
	.rx_burst = dpdk_rx_burst,
	.tx_burst = dpdk_tx_burst,
	.close = dpdk_close,
};
COVE_LINK_TYPE(dpdk_ops);

/**
 * dpdk_open() - start the EAL if needed, probe and start the port
 * @arg:	"DEVARGS[,OPT...]", see dpdk_parse()
 * @pool:	rx pool
 * @out:	the new link
 * @err:	one line naming the link and the cause on failure
 *
 * Return: 0 or < 0 with @err set.
 */
static int dpdk_open_locked(const char *arg, struct cove_frame_pool *pool,
			    struct cove_link **out, struct cove_err *err);

/**
 * dpdk_open() - the link type's open(): parse @arg, start the EAL once per
 * process, open the port
 * @arg:	DEVARGS and link options after "dpdk:"
 * @pool:	the host's frame pool, which received frames are copied into
 * @out:	the new link
 * @err:	filled on failure, naming the link and the cause
 *
 * Every signal is blocked while DPDK may start threads, so none of them
 * ever takes a signal meant for the host.
 *
 * Return: 0 or < 0 with @err set.
 */
static int dpdk_open(const char *arg, struct cove_frame_pool *pool,
		     struct cove_link **out, struct cove_err *err)
{
	sigset_t all, old;
	int ret;

	/*
	 * The EAL and some PMDs start threads (interrupts, multi-process
	 * channel). They inherit our signal mask: with everything blocked
	 * they never take a signal meant for the host (SIGUSR1 for stats,
	 * SIGTERM), whatever the host blocks later.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = dpdk_open_locked(arg, pool, out, err);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

/* dpdk_open_locked() - dpdk_open() with every signal blocked. */
static int dpdk_open_locked(const char *arg, struct cove_frame_pool *pool,
			    struct cove_link **out, struct cove_err *err)
{
	struct rte_ether_addr mac;
	struct rte_eth_dev_info info;
	struct dpdk_link *d;

	if (dpdk_link_open)
		return cove_err_set(err, EBUSY,
				    "dpdk:%s: %s is already open in this "
				    "process; DPDK's EAL is process-global, "
				    "so one dpdk link per process",
				    arg, dpdk_link_open->link.name);
	d = calloc(1, sizeof(*d));
	if (!d)
		return cove_err_set(err, ENOMEM, "dpdk:%s: out of memory", arg);
	d->link.ops = &dpdk_ops;
	d->link.pool = pool;
	d->link.fd = d->efd = d->tfd = d->pmd_fd = -1;
	links_set_name(&d->link, "dpdk", arg);
	libbpf_set_print(dpdk_bpf_print);
	libxdp_set_print(dpdk_xdp_print);
	if (dpdk_parse(arg, &d->o, err) < 0 ||
	    dpdk_eal_start(&d->o, arg, err) < 0)
		goto fail;
	dpdk_link_open = d;
	if (dpdk_find_port(d, arg, err) < 0)
		goto fail;
	if (dpdk_setup_port(d, arg, err) < 0 || dpdk_setup_wake(d, arg, err))
		goto fail;
	(void)rte_eth_macaddr_get(d->port, &mac);
	memcpy(d->link.mac, mac.addr_bytes, 6);
	if (!rte_eth_dev_info_get(d->port, &info) && info.driver_name &&
	    !strcmp(info.driver_name, "net_tap")) {
		/*
		 * The PMD refuses (as if its queue were full) a TSO frame
		 * whose MSS plus Ethernet, IP and TCP headers passes the
		 * MTU, so its segments are cut 14 bytes (or more) shorter.
		 * And it gave its MAC to the kernel's side of the TAP.
		 */
		d->tap_quirk = true;
		d->link.mac[0] = (uint8_t)((d->link.mac[0] & 0xfc) | 0x02);
		d->link.mac[5] ^= 0x01;
	}
	*out = &d->link;
	return 0;
fail:
	dpdk_close(&d->link);
	return -1;
}
