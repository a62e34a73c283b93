// SPDX-License-Identifier: Apache-2.0
/* packet:IFNAME - AF_PACKET link: TPACKET_V3 mmap rx ring, TPACKET_V2 tx ring. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/bytes.h"
#include "links/links.h"

/*
 * Theory of operation
 *
 * The link owns an existing interface (typically a veth end or a NIC that
 * the sandbox set-up took away from the kernel stack) through two AF_PACKET
 * SOCK_RAW sockets bound to it:
 *
 *  - the rx socket (@link.fd) has a TPACKET_V3 receive ring of
 *    PKT_RX_BLOCK_NR blocks of PKT_RX_BLOCK_SIZE bytes. The kernel fills a
 *    block with frames and hands it over (TP_STATUS_USER) when it is full or
 *    PKT_RX_TOV_MS passed (the timer has jiffy granularity, so a lone frame
 *    may wait a few ms: the price of block batching). It is created with
 *    protocol 0 and bound to ETH_P_ALL only once the ring exists, so no
 *    frame ever lands outside the ring. PACKET_IGNORE_OUTGOING hides our own
 *    transmissions.
 *    With "packet:IFNAME,rx=v2" the rx ring is TPACKET_V2 instead: the same
 *    memory cut into PKT_RX_FRAME_NR slots of one frame each, every slot
 *    handed over (and the fd woken) as soon as its frame is in. That costs
 *    a wake-up per frame under load but removes the block timer from the
 *    latency of a lone frame (request/response traffic).
 *  - the tx socket has protocol 0 (it receives nothing) and a TPACKET_V2
 *    transmit ring of PKT_TX_FRAME_NR slots.
 *
 * rx_burst() walks the current block frame by frame and copies each into a
 * pool frame. A block may be consumed across several bursts: (@rx_block,
 * @rx_left, @rx_off) say where the walk stands. A block goes back to the
 * kernel (TP_STATUS_KERNEL) as soon as its last frame is copied. Offsets
 * and lengths in the ring are checked against the block before use. Frames
 * the kernel marked "checksum not ready" (CHECKSUM_PARTIAL from a local
 * sender, e.g. the kernel on the peer veth) get their IPv4 TCP/UDP checksum
 * filled in software; a VLAN tag the kernel stripped is put back. Frames
 * that do not fit a pool buffer, arrive truncated, or find the pool empty
 * are dropped and counted in rx_dropped, as are the kernel's ring-full
 * drops (read when a block carries TP_STATUS_LOSING).
 *
 * tx_burst() copies frames into free slots (TP_STATUS_AVAILABLE) from
 * @tx_head on, marks them TP_STATUS_SEND_REQUEST and kicks the kernel once
 * with a non-blocking sendto(). It stops at the first busy slot: the ring
 * is full and the caller keeps the rest. If the kick fails (ENOBUFS,
 * ENETDOWN) the queued slots stay requested and the next tx_burst(), even
 * with @n == 0, kicks again. Frames shorter than an Ethernet header or
 * longer than MTU + 18 (tso_max for a TSO frame), or whose offload flags
 * do not fit their headers, are consumed and counted in tx_dropped.
 *
 * Offloads (on unless "offload=off"): the tx socket has PACKET_VNET_HDR,
 * so every slot starts with a struct virtio_net_hdr (links_vnet_hdr()).
 * The link then takes checksum-partial frames and TCP super-frames of up
 * to 64 KiB (COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4), which the kernel
 * passes on as GSO packets: a veth hands them to its peer whole, as it does
 * the kernel's own TSO output, and a real NIC segments them in hardware or
 * the kernel does it in software. The slots grow to PKT_TX_BIG_SLOT bytes
 * (PKT_TX_BIG_NR of them, 4 MiB of ring instead of 512 KiB). On receive,
 * frames the kernel marks "checksum not ready" (filled in here) or
 * "checksum valid" carry COVE_FRAME_F_CSUM_OK, so the stack need not sum
 * them again; that needs no socket option and works with offload=off too.
 *
 * Frames addressed to other MACs are delivered too (a veth does not
 * filter); the stack filters. The peer of a veth should have TSO/GSO off,
 * or the kernel hands over super-frames larger than the MTU (dropped here).
 */

#define PKT_RX_BLOCK_SIZE (1u << 16)
#define PKT_RX_BLOCK_NR	  64u
#define PKT_RX_FRAME_SIZE 2048u /* V2 slot size; V3: sizing only */
#define PKT_RX_FRAME_NR \
	(PKT_RX_BLOCK_NR * (PKT_RX_BLOCK_SIZE / PKT_RX_FRAME_SIZE))
#define PKT_RX_TOV_MS	  1u
#define PKT_TX_BLOCK_SIZE (1u << 16)
#define PKT_TX_BLOCK_NR	  8u
#define PKT_TX_FRAME_SIZE 2048u
#define PKT_TX_FRAME_NR \
	(PKT_TX_BLOCK_NR * (PKT_TX_BLOCK_SIZE / PKT_TX_FRAME_SIZE))
/* Where frame bytes start in a V2 tx slot when PACKET_TX_HAS_OFF is off. */
#define PKT_TX_DATA_OFF TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
/* With offloads: 1 MiB blocks of 15 slots, each a 64 KiB frame + headers. */
#define PKT_TX_BIG_SLOT	    65600u
#define PKT_TX_BIG_BLOCK    (1u << 20)
#define PKT_TX_BIG_BLOCK_NR 4u
#define PKT_TX_BIG_NR \
	(PKT_TX_BIG_BLOCK_NR * (PKT_TX_BIG_BLOCK / PKT_TX_BIG_SLOT))
#define PKT_VNET_LEN sizeof(struct virtio_net_hdr)
/* IPv4 total length is 16 bits: the largest TSO frame with its MAC header */
#define PKT_TSO_MAX (65535u + LINKS_ETH_HLEN)

_Static_assert(PKT_RX_BLOCK_SIZE % PKT_RX_FRAME_SIZE == 0, "rx ring geometry");
_Static_assert(PKT_TX_BLOCK_SIZE % PKT_TX_FRAME_SIZE == 0, "tx ring geometry");
_Static_assert(PKT_TX_FRAME_SIZE - PKT_TX_DATA_OFF >= 1518 + 4,
	       "a tx slot holds a full frame with a VLAN tag");
_Static_assert(PKT_TX_BIG_SLOT % TPACKET_ALIGNMENT == 0 &&
		       PKT_TX_BIG_SLOT - PKT_TX_DATA_OFF - PKT_VNET_LEN >=
			       PKT_TSO_MAX,
	       "a big tx slot holds a TSO frame and its virtio_net_hdr");

struct pkt_link {
	struct cove_link link; /* first: the ABI view; fd = rx socket */
	int txfd;
	uint8_t *rx_ring;      /* PKT_RX_BLOCK_NR blocks */
	uint8_t *tx_ring;      /* PKT_TX_FRAME_NR slots */
	uint32_t rx_block;     /* block being walked (or next to come) */
	uint32_t rx_left;      /* frames left in it; valid if rx_inblock */
	uint32_t rx_off;       /* offset of its next frame header */
	bool rx_inblock;       /* rx_block is ours and partly walked */
	bool tx_pending;       /* slots requested, kick not yet accepted */
	bool rx_v2;	       /* rx=v2: per-frame ring, not blocks */
	bool vnet;	       /* offloads: a virtio_net_hdr per tx slot */
	uint32_t rx_slot;      /* rx=v2: next slot to look at */
	uint32_t tx_head;      /* next slot to fill */
	uint32_t tx_slot_size; /* PKT_TX_FRAME_SIZE or PKT_TX_BIG_SLOT */
	uint32_t tx_nr;	       /* slots in the tx ring */
	uint32_t tx_per_block; /* slots per block */
	uint32_t tx_block_size;
	size_t tx_ring_len; /* bytes mapped */
};

/* pkt_block() - address of rx block @i. */
static struct tpacket_block_desc *pkt_block(struct pkt_link *p, uint32_t i)
{
	return (struct tpacket_block_desc *)(p->rx_ring +
					     (size_t)i * PKT_RX_BLOCK_SIZE);
}

/*
 * pkt_tx_slot() - address of tx slot @i. The kernel lays slots out block by
 * block; a block may end with a gap smaller than a slot (big slots).
 */
static uint8_t *pkt_tx_slot(struct pkt_link *p, uint32_t i)
{
	return p->tx_ring + (size_t)(i / p->tx_per_block) * p->tx_block_size +
	       (size_t)(i % p->tx_per_block) * p->tx_slot_size;
}

/* pkt_kernel_drops() - add the kernel's drop count (read and reset) to stats. */
static void pkt_kernel_drops(struct pkt_link *p)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	if (!getsockopt(p->link.fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		p->link.stats.rx_dropped += st.tp_drops;
}

/* pkt_release_block() - give the current block back and move to the next. */
static void pkt_release_block(struct pkt_link *p)
{
	struct tpacket_block_desc *bd = pkt_block(p, p->rx_block);
	uint32_t status =
		__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE);

	if (status & TP_STATUS_LOSING)
		pkt_kernel_drops(p);
	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
			 __ATOMIC_RELEASE);
	p->rx_block = (p->rx_block + 1) % PKT_RX_BLOCK_NR;
	p->rx_inblock = false;
}

/* What the V2 and V3 ring headers say about one received frame. */
struct pkt_rx_meta {
	uint32_t status;	      /* TP_STATUS_* */
	uint32_t wire_len;	      /* length on the wire */
	uint16_t vlan_tci, vlan_tpid; /* valid per TP_STATUS_VLAN_* */
};

/**
 * pkt_copy_frame() - copy one ring frame into a pool frame
 * @p:		link
 * @m:		the frame's header fields
 * @data:	its bytes (bounds checked by the caller)
 * @snap:	number of bytes at @data
 *
 * Return: the frame, or NULL when it was dropped (counted).
 */
static struct cove_frame *pkt_copy_frame(struct pkt_link *p,
					 const struct pkt_rx_meta *m,
					 const uint8_t *data, uint32_t snap)
{
	bool vlan = m->status & TP_STATUS_VLAN_VALID;
	uint32_t len = snap + (vlan ? 4 : 0);
	struct cove_frame *f;

	if (snap < m->wire_len || snap < LINKS_ETH_HLEN)
		goto drop; /* truncated by the ring */
	f = cove_frame_alloc(p->link.pool);
	if (!f)
		goto drop;
	if (len > f->cap) {
		cove_frame_free(f);
		goto drop;
	}
	if (vlan) {
		uint16_t tpid = (m->status & TP_STATUS_VLAN_TPID_VALID) ?
					m->vlan_tpid :
					ETH_P_8021Q;

		memcpy(f->data, data, 12);
		cove_put16(f->data + 12, tpid);
		cove_put16(f->data + 14, m->vlan_tci);
		memcpy(f->data + 16, data + 12, snap - 12);
	} else {
		memcpy(f->data, data, snap);
	}
	f->len = len;
	if (m->status & TP_STATUS_CSUMNOTREADY) {
		/* vouch only for what was filled: a VLAN-tagged or non-IPv4
		 * frame keeps its partial sum and no flag */
		if (links_csum_fixup(f->data, f->len))
			f->flags |= COVE_FRAME_F_CSUM_OK;
	} else if (m->status & TP_STATUS_CSUM_VALID) {
		f->flags |= COVE_FRAME_F_CSUM_OK;
	}
	return f;
drop:
	p->link.stats.rx_dropped++;
	return NULL;
}

/**
 * pkt_rx_burst_v3() - copy up to @n frames out of the V3 (block) rx ring
 * @p:	link
 * @f:	filled with frames of the link's pool
 * @n:	room in @f
 *
 * Return: frames filled. A block that is only partly walked stays ours
 * until a later call finishes it.
 */
static unsigned pkt_rx_burst_v3(struct pkt_link *p, struct cove_frame **f,
				unsigned n)
{
	struct cove_link *l = &p->link;
	unsigned got = 0;

	while (got < n) {
		struct tpacket_block_desc *bd = pkt_block(p, p->rx_block);
		const struct tpacket3_hdr *h;
		struct pkt_rx_meta meta;
		struct cove_frame *fr;
		uint32_t off, end;

		if (!p->rx_inblock) {
			uint32_t st = __atomic_load_n(&bd->hdr.bh1.block_status,
						      __ATOMIC_ACQUIRE);

			if (!(st & TP_STATUS_USER))
				break;
			p->rx_inblock = true;
			p->rx_left = bd->hdr.bh1.num_pkts;
			p->rx_off = bd->hdr.bh1.offset_to_first_pkt;
		}
		if (!p->rx_left) {
			pkt_release_block(p);
			continue;
		}
		off = p->rx_off;
		if (off < sizeof(*bd) ||
		    off > PKT_RX_BLOCK_SIZE - sizeof(struct tpacket3_hdr))
			goto bad_block;
		h = (const struct tpacket3_hdr *)((uint8_t *)bd + off);
		end = off + h->tp_mac;
		if (end > PKT_RX_BLOCK_SIZE ||
		    h->tp_snaplen > PKT_RX_BLOCK_SIZE - end)
			goto bad_block;
		meta = (struct pkt_rx_meta){
			.status = h->tp_status,
			.wire_len = h->tp_len,
			.vlan_tci = (uint16_t)h->hv1.tp_vlan_tci,
			.vlan_tpid = h->hv1.tp_vlan_tpid,
		};
		fr = pkt_copy_frame(p, &meta, (uint8_t *)bd + end,
				    h->tp_snaplen);
		if (fr) {
			l->stats.rx_frames++;
			l->stats.rx_bytes += fr->len;
			f[got++] = fr;
		}
		p->rx_off = off + h->tp_next_offset;
		if (--p->rx_left == 0)
			pkt_release_block(p);
		continue;
bad_block:
		l->stats.rx_dropped += p->rx_left;
		pkt_release_block(p);
	}
	return got;
}

/**
 * pkt_rx_burst_v2() - copy up to @n frames out of the V2 (per-frame) rx ring
 * @p:	link
 * @f:	filled with frames of the link's pool
 * @n:	room in @f
 *
 * Return: frames filled. Each slot goes back to the kernel once copied.
 */
static unsigned pkt_rx_burst_v2(struct pkt_link *p, struct cove_frame **f,
				unsigned n)
{
	struct cove_link *l = &p->link;
	unsigned got = 0;

	while (got < n) {
		uint8_t *slot =
			p->rx_ring + (size_t)p->rx_slot * PKT_RX_FRAME_SIZE;
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)slot;
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		struct pkt_rx_meta meta;
		struct cove_frame *fr;

		if (!(st & TP_STATUS_USER))
			break;
		if (st & TP_STATUS_LOSING)
			pkt_kernel_drops(p);
		if (h->tp_mac > PKT_RX_FRAME_SIZE ||
		    h->tp_snaplen > PKT_RX_FRAME_SIZE - h->tp_mac) {
			l->stats.rx_dropped++;
		} else {
			meta = (struct pkt_rx_meta){
				.status = st,
				.wire_len = h->tp_len,
				.vlan_tci = h->tp_vlan_tci,
				.vlan_tpid = h->tp_vlan_tpid,
			};
			fr = pkt_copy_frame(p, &meta, slot + h->tp_mac,
					    h->tp_snaplen);
			if (fr) {
				l->stats.rx_frames++;
				l->stats.rx_bytes += fr->len;
				f[got++] = fr;
			}
		}
		__atomic_store_n(&h->tp_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		p->rx_slot = (p->rx_slot + 1) % PKT_RX_FRAME_NR;
	}
	return got;
}

/**
 * pkt_rx_burst() - receive up to @n frames from whichever ring the link has
 * @l:	link
 * @f:	filled with frames of the link's pool
 * @n:	room in @f
 *
 * Return: frames filled.
 */
static unsigned pkt_rx_burst(struct cove_link *l, struct cove_frame **f,
			     unsigned n)
{
	struct pkt_link *p = (struct pkt_link *)l;

	return p->rx_v2 ? pkt_rx_burst_v2(p, f, n) : pkt_rx_burst_v3(p, f, n);
}

/*
 * pkt_kick() - ask the kernel to send the requested tx slots. On any error
 * (ENOBUFS, or ENETDOWN while the interface is down) the slots stay
 * requested and the next tx_burst() kicks again, so a ring that filled
 * while the device was away drains once it is back.
 */
static void pkt_kick(struct pkt_link *p)
{
	p->tx_pending = sendto(p->txfd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0;
}

/**
 * pkt_tx_burst() - queue up to @n frames on the tx ring and kick once
 * @l:	link
 * @f:	frames; accepted ones are freed here
 * @n:	count (0 only retries a failed kick)
 *
 * Return: frames accepted; fewer than @n when the ring is full.
 */
static unsigned pkt_tx_burst(struct cove_link *l, struct cove_frame **f,
			     unsigned n)
{
	struct pkt_link *p = (struct pkt_link *)l;
	uint32_t room = p->tx_slot_size - PKT_TX_DATA_OFF;
	unsigned done, queued = 0;
	struct virtio_net_hdr vh;

	if (p->vnet)
		room -= PKT_VNET_LEN;
	for (done = 0; done < n; done++) {
		struct cove_frame *fr = f[done];
		uint8_t *slot = pkt_tx_slot(p, p->tx_head);
		struct tpacket2_hdr *h = (struct tpacket2_hdr *)slot;
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		uint32_t max = (fr->flags & COVE_FRAME_F_TSO) ?
				       l->tso_max :
				       l->mtu + LINKS_ETH_VLAN_HLEN;
		uint32_t vlen = p->vnet ? PKT_VNET_LEN : 0;

		if (fr->len < LINKS_ETH_HLEN || fr->len > max ||
		    fr->len > room ||
		    (p->vnet ? links_vnet_hdr(fr, &vh) < 0 :
			       fr->flags & (COVE_FRAME_F_CSUM_PARTIAL |
					    COVE_FRAME_F_TSO))) {
			l->stats.tx_dropped++;
			cove_frame_free(fr);
			continue;
		}
		if (st == TP_STATUS_WRONG_FORMAT) {
			l->stats.tx_dropped++; /* an earlier frame the kernel refused */
			st = TP_STATUS_AVAILABLE;
		}
		if (st != TP_STATUS_AVAILABLE)
			break;
		if (vlen)
			memcpy(slot + PKT_TX_DATA_OFF, &vh, vlen);
		memcpy(slot + PKT_TX_DATA_OFF + vlen, fr->data, fr->len);
		h->tp_len = vlen + fr->len;
		h->tp_snaplen = vlen + fr->len;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
				 __ATOMIC_RELEASE);
		p->tx_head = (p->tx_head + 1) % p->tx_nr;
		l->stats.tx_frames++;
		l->stats.tx_bytes += fr->len;
		cove_frame_free(fr);
		queued++;
	}
	if (queued || p->tx_pending)
		pkt_kick(p);
	return done;
}

/* pkt_close() - unmap the rings, close both sockets, free. */
static void pkt_close(struct cove_link *l)
{
	struct pkt_link *p = (struct pkt_link *)l;

	if (p->rx_ring)
		munmap(p->rx_ring, (size_t)PKT_RX_BLOCK_NR * PKT_RX_BLOCK_SIZE);
	if (p->tx_ring)
		munmap(p->tx_ring, p->tx_ring_len);
	if (l->fd >= 0)
		close(l->fd);
	if (p->txfd >= 0)
		close(p->txfd);
	free(p);
}

/**
 * pkt_setup_rx() - rx socket with its V3 (or V2) ring, bound to @ifindex
 * @p:		link (fd and rx_ring set on success; rx_v2 chooses the ring)
 * @ifindex:	interface
 * @what:	set to the step that failed
 *
 * Return: 0 or a negative errno.
 */
static int pkt_setup_rx(struct pkt_link *p, int ifindex, const char **what)
{
	struct tpacket_req3 req = {
		.tp_block_size = PKT_RX_BLOCK_SIZE,
		.tp_block_nr = PKT_RX_BLOCK_NR,
		.tp_frame_size = PKT_RX_FRAME_SIZE,
		.tp_frame_nr = PKT_RX_FRAME_NR,
		.tp_retire_blk_tov = PKT_RX_TOV_MS,
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	int version = p->rx_v2 ? TPACKET_V2 : TPACKET_V3, one = 1;
	/* V2 takes the leading struct tpacket_req part of the V3 request. */
	socklen_t req_len = p->rx_v2 ? sizeof(struct tpacket_req) : sizeof(req);
	void *ring;

	*what = "socket(AF_PACKET)";
	p->link.fd =
		socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->link.fd < 0)
		return -errno;
	*what = p->rx_v2 ? "TPACKET_V2" : "TPACKET_V3";
	if (setsockopt(p->link.fd, SOL_PACKET, PACKET_VERSION, &version,
		       sizeof(version)))
		return -errno;
	*what = "PACKET_IGNORE_OUTGOING";
	if (setsockopt(p->link.fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one)))
		return -errno;
	*what = "PACKET_RX_RING";
	if (setsockopt(p->link.fd, SOL_PACKET, PACKET_RX_RING, &req, req_len))
		return -errno;
	*what = "mmap of the rx ring";
	ring = mmap(NULL, (size_t)PKT_RX_BLOCK_NR * PKT_RX_BLOCK_SIZE,
		    PROT_READ | PROT_WRITE, MAP_SHARED, p->link.fd, 0);
	if (ring == MAP_FAILED)
		return -errno;
	p->rx_ring = ring;
	*what = "bind of the rx socket";
	if (bind(p->link.fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	return 0;
}

/**
 * pkt_setup_tx() - tx socket with its V2 ring, bound to @ifindex
 * @p:		link (txfd and tx_ring set on success; vnet asks for offloads)
 * @ifindex:	interface
 * @what:	set to the step that failed
 *
 * If the kernel refuses PACKET_VNET_HDR the link goes on without offloads.
 *
 * Return: 0 or a negative errno.
 */
static int pkt_setup_tx(struct pkt_link *p, int ifindex, const char **what)
{
	struct tpacket_req req = {
		.tp_block_size = PKT_TX_BLOCK_SIZE,
		.tp_block_nr = PKT_TX_BLOCK_NR,
		.tp_frame_size = PKT_TX_FRAME_SIZE,
		.tp_frame_nr = PKT_TX_FRAME_NR,
	};
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = 0, /* send only: no rx hook */
		.sll_ifindex = ifindex,
	};
	int v2 = TPACKET_V2, one = 1;
	void *ring;

	*what = "socket(AF_PACKET)";
	p->txfd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->txfd < 0)
		return -errno;
	*what = "TPACKET_V2";
	if (setsockopt(p->txfd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)))
		return -errno;
	/* A frame the kernel refuses is skipped instead of stopping the ring. */
	*what = "PACKET_LOSS";
	if (setsockopt(p->txfd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)))
		return -errno;
	if (p->vnet &&
	    setsockopt(p->txfd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		p->vnet = false;
	if (p->vnet) {
		req = (struct tpacket_req){
			.tp_block_size = PKT_TX_BIG_BLOCK,
			.tp_block_nr = PKT_TX_BIG_BLOCK_NR,
			.tp_frame_size = PKT_TX_BIG_SLOT,
			.tp_frame_nr = PKT_TX_BIG_NR,
		};
	}
	*what = "PACKET_TX_RING";
	if (setsockopt(p->txfd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)))
		return -errno;
	p->tx_slot_size = req.tp_frame_size;
	p->tx_nr = req.tp_frame_nr;
	p->tx_block_size = req.tp_block_size;
	p->tx_per_block = req.tp_block_size / req.tp_frame_size;
	p->tx_ring_len = (size_t)req.tp_block_nr * req.tp_block_size;
	*what = "mmap of the tx ring";
	ring = mmap(NULL, p->tx_ring_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		    p->txfd, 0);
	if (ring == MAP_FAILED)
		return -errno;
	p->tx_ring = ring;
	*what = "bind of the tx socket";
	if (bind(p->txfd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	if (p->vnet) {
		p->link.offloads |= COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4 |
				    COVE_LINK_OFF_TSO6;
		p->link.tso_max = PKT_TSO_MAX;
	}
	return 0;
}

static int pkt_open(const char *arg, struct cove_frame_pool *pool,
		    struct cove_link **out, struct cove_err *err);

static const struct cove_link_ops pkt_ops = {
	.kind = "packet",
	.usage =
		"packet:IFNAME[,rx=v2][,offload=off] (AF_PACKET rings on an existing interface)",
	.open = pkt_open,
	.rx_burst = pkt_rx_burst,
	.tx_burst = pkt_tx_burst,
	.close = pkt_close,
};
COVE_LINK_TYPE(pkt_ops);

/**
 * pkt_open() - attach to an existing interface
 * @arg:	"IFNAME[,rx=v2][,offload=off]" (rx=v2: per-frame rx ring for
 *		low latency; offload=off: no checksum/TSO offload on tx)
 * @pool:	rx pool
 * @out:	the new link
 * @err:	filled on failure
 *
 * Return: 0 or < 0 with @err set.
 */
static int pkt_open(const char *arg, struct cove_frame_pool *pool,
		    struct cove_link **out, struct cove_err *err)
{
	char ifname[IFNAMSIZ];
	const char *what = "";
	struct pkt_link *p;
	unsigned ifindex;
	bool rx_v2 = false, offload = true;
	const struct links_opt known[] = {
		{ "rx=v2", &rx_v2, true },
		{ "rx=v3", &rx_v2, false },
		{ "offload=on", &offload, true },
		{ "offload=off", &offload, false },
	};
	int ret;

	if (links_parse_spec("packet", arg, ifname, known,
			     sizeof(known) / sizeof(known[0]), err) < 0)
		return -EINVAL;
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		cove_err_set(err, ENODEV, "packet:%s: no such interface", arg);
		return -ENODEV;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		cove_err_set(err, ENOMEM, "packet:%s: out of memory", arg);
		return -ENOMEM;
	}
	p->link.ops = &pkt_ops;
	p->link.pool = pool;
	p->link.fd = -1;
	p->txfd = -1;
	p->rx_v2 = rx_v2;
	p->vnet = offload;
	links_set_name(&p->link, "packet", arg);
	ret = pkt_setup_rx(p, (int)ifindex, &what);
	if (!ret)
		ret = pkt_setup_tx(p, (int)ifindex, &what);
	if (ret < 0) {
		cove_err_set(err, -ret, "packet:%s: %s failed: %s%s", arg, what,
			     strerror(-ret),
			     ret == -EPERM ? " (needs CAP_NET_RAW)" : "");
		goto fail;
	}
	what = "reading the MTU";
	ret = links_if_mtu(ifname, &p->link.mtu);
	if (!ret) {
		what = "reading the MAC address";
		ret = links_if_mac(ifname, p->link.mac);
	}
	if (ret < 0) {
		cove_err_set(err, -ret, "packet:%s: %s failed: %s", arg, what,
			     strerror(-ret));
		goto fail;
	}
	*out = &p->link;
	return 0;
fail:
	pkt_close(&p->link);
	return ret;
}
