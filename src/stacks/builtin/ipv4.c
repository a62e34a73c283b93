// SPDX-License-Identifier: Apache-2.0
/* IPv4: input validation, fragment reassembly, output, fragmentation, loopback. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "stacks/builtin/core.h"

/*
 * Theory of operation
 *
 * Input checks every header field against the bytes that really arrived
 * before anything is read past them, then drops what a host must not
 * accept: other destinations, martian sources, 127/8 from the wire,
 * source-routing options. Whole packets go straight to the transport with
 * pointers into the frame (which eth_input() frees afterwards).
 *
 * Reassembly: REASM_SLOTS slots, keyed by (src, dst, proto, id), each
 * with a 64 KiB buffer taken from the stack's memory budget (mem.c) when
 * the slot starts a datagram and given back when it ends, so idle
 * reassembly holds nothing and, under memory pressure, fragments that
 * would start a datagram are dropped. A bitmap of 8-byte blocks
 * records what arrived. A fragment that partly overlaps data already
 * received poisons the datagram (it is dropped whole: overlapping
 * fragments are an attack, not a network artefact); an exact duplicate is
 * ignored. A datagram is complete when its last fragment set the total
 * length and every byte up to it arrived; it is then delivered from the
 * slot's buffer and the slot is freed. Each slot has a 30 s timer; expiry
 * frees the slot and, if the first fragment had arrived, sends ICMP time
 * exceeded (fragment reassembly). With all slots busy the oldest datagram
 * is given up for the new one. Nothing is allocated per packet beyond a
 * slot's buffer.
 *
 * Output: ip_send() fills the header of one frame and picks the way out:
 * the loopback queue for our own addresses, Ethernet broadcast for
 * broadcasts, else ARP on the next hop (on-link destination or gateway).
 * ip_send_dgram() builds every fragment of a larger datagram first, then
 * sends them; all share one ID from the per-stack counter.
 */

#define REASM_SLOTS	 8u
#define REASM_BUF	 65536u
#define REASM_BLOCKS	 (REASM_BUF / 8u)
#define REASM_TIMEOUT_NS (30000ull * TIMER_TICK_NS)
#define REASM_HDR_MAX	 (60u + 8u) /* first fragment's header + 8 bytes */
#define IPOPT_LSRR	 0x83u
#define IPOPT_SSRR	 0x89u
#define IP_DEFAULT_TTL	 64u
#define DGRAM_MAX_FRAMES 128u /* 65515 bytes at the 576-byte minimum MTU */

struct reasm {
	struct btimer timer; /* first: container_of by cast */
	struct bstack *st;
	bool used;
	bool have_first;
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	uint32_t total;	  /* payload bytes, 0 until last seen */
	uint32_t got;	  /* payload bytes received */
	uint32_t max_end; /* furthest byte received */
	uint64_t started_ns;
	uint8_t hdr[REASM_HDR_MAX]; /* first fragment's header + 8 bytes */
	uint32_t hdr_len, hdr_data; /* header bytes, data bytes after it */
	uint8_t map[REASM_BLOCKS / 8];
	uint8_t *buf; /* REASM_BUF bytes while used, else NULL */
};

struct ipv4_ctx {
	uint16_t next_id;
	struct icmp_bucket icmp;
	struct reasm slot[REASM_SLOTS];
};

_Static_assert(REASM_BUF >= IP_MAX_TOTAL, "a slot holds any datagram");

static const uint32_t loop_net = 0x0000007f; /* 127/8, network order */
static const uint32_t loop_mask = 0x000000ff;

bool ip_is_local(const struct bstack *st, uint32_t addr)
{
	return addr == st->addr || (addr & loop_mask) == loop_net;
}

bool ip_is_bcast(const struct bstack *st, uint32_t addr)
{
	return addr == 0xffffffffu ||
	       (st->netmask != 0xffffffffu && st->netmask &&
		addr == (st->addr | ~st->netmask));
}

bool ip_is_mcast(uint32_t addr)
{
	return (((const uint8_t *)&addr)[0] & 0xf0) == 0xe0;
}

bool ip_martian(const struct bstack *st, uint32_t addr)
{
	uint8_t first = ((const uint8_t *)&addr)[0];

	(void)st;
	return first == 0 || first == 127 || ip_is_mcast(addr) || first >= 240;
}

struct icmp_bucket *ipv4_icmp_bucket(struct bstack *st)
{
	return &st->ipv4->icmp;
}

int ip_route(const struct bstack *st, uint32_t dst, uint32_t *nh)
{
	if (ip_is_local(st, dst) || ip_is_bcast(st, dst) || ip_is_mcast(dst)) {
		*nh = 0;
		return 0;
	}
	if ((dst & st->netmask) == (st->addr & st->netmask)) {
		*nh = dst;
		return 0;
	}
	if (st->gateway) {
		*nh = st->gateway;
		return 0;
	}
	return -ENETUNREACH;
}

/*
 * ip_deliver() - hand a whole datagram to its transport; to a group only
 * UDP and IGMP (Linux drops TCP and ICMP to a group; an echo to one is
 * ignored, as with icmp_echo_ignore_broadcasts)
 */
static void ip_deliver(struct bstack *st, const struct ip_pkt *pkt)
{
	if (ip_is_mcast(pkt->dst) && pkt->proto != IP_PROTO_UDP &&
	    pkt->proto != IP_PROTO_IGMP) {
		st->stats.rx_dropped++;
		return;
	}
	switch (pkt->proto) {
	case IP_PROTO_ICMP:
		icmp_layer_input(st, pkt);
		break;
	case IP_PROTO_UDP:
		udp_layer_input(st, pkt);
		break;
	case IP_PROTO_TCP:
		tcp_layer_input(st, pkt);
		break;
	case IP_PROTO_IGMP:
		igmp_layer_input(st, pkt);
		break;
	default:
		st->stats.rx_dropped++;
		icmp_send_error(st, pkt, 3, 2, 0); /* protocol unreachable */
		break;
	}
}

/* reasm_put() - the slot is free: its buffer goes back to the budget. */
static void reasm_put(struct bstack *st, struct reasm *r)
{
	r->used = false;
	bmem_free(st, r->buf, REASM_BUF);
	r->buf = NULL;
}

/* reasm_release() - give a slot back. */
static void reasm_release(struct bstack *st, struct reasm *r)
{
	timer_cancel(&st->timers, &r->timer);
	reasm_put(st, r);
}

/* reasm_fail() - give up a datagram (overlap, oversize, eviction). */
static void reasm_fail(struct bstack *st, struct reasm *r)
{
	st->stats.ip_reasm_failed++;
	reasm_release(st, r);
}

/* reasm_pkt() - an ip_pkt describing the slot's datagram. */
static void reasm_pkt(const struct reasm *r, struct ip_pkt *pkt)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->src = r->src;
	pkt->dst = r->dst;
	pkt->proto = r->proto;
	pkt->ttl = r->hdr[8];
	pkt->tos = r->hdr[1];
	pkt->l4 = r->buf;
	pkt->l4_len = r->total;
	pkt->ip_hdr = r->hdr;
	pkt->ip_hdr_len = r->hdr_len;
	pkt->ip_total_len = r->hdr_len + r->total;
}

/* reasm_timer() - a datagram did not complete in time. */
static void reasm_timer(struct btimer *t)
{
	struct reasm *r = (struct reasm *)t;
	struct bstack *st = r->st;
	struct ip_pkt pkt;

	st->stats.ip_reasm_failed++;
	reasm_put(st, r);
	if (r->have_first) {
		reasm_pkt(r, &pkt);
		pkt.l4_len = r->hdr_data; /* what we can quote */
		pkt.l4 = r->hdr + r->hdr_len;
		icmp_send_error(st, &pkt, 11, 1, 0);
	}
}

/* reasm_range() - test the bitmap: 0 none set, 1 all set, 2 partly. */
static int reasm_range(const struct reasm *r, uint32_t b0, uint32_t b1)
{
	uint32_t b, set = 0;

	for (b = b0; b < b1; b++)
		set += (r->map[b >> 3] >> (b & 7)) & 1;
	return !set ? 0 : set == b1 - b0 ? 1 : 2;
}

static void reasm_mark(struct reasm *r, uint32_t b0, uint32_t b1)
{
	uint32_t b;

	for (b = b0; b < b1; b++)
		r->map[b >> 3] |= (uint8_t)(1u << (b & 7));
}

/* reasm_slot() - the slot for a fragment, taking a free or the oldest one. */
static struct reasm *reasm_slot(struct bstack *st, uint32_t src, uint32_t dst,
				uint8_t proto, uint16_t id)
{
	struct ipv4_ctx *c = st->ipv4;
	struct reasm *r, *old = NULL, *free_r = NULL;
	unsigned i;

	for (i = 0; i < REASM_SLOTS; i++) {
		r = &c->slot[i];
		if (!r->used) {
			if (!free_r)
				free_r = r;
			continue;
		}
		if (r->src == src && r->dst == dst && r->proto == proto &&
		    r->id == id)
			return r;
		if (!old || r->started_ns < old->started_ns)
			old = r;
	}
	r = free_r;
	if (!r) {
		bstack_log(st, COVE_LOG_DEBUG,
			   "ipv4: reassembly slots full, dropping the oldest");
		/* given up, but its buffer is kept for the new datagram */
		st->stats.ip_reasm_failed++;
		timer_cancel(&st->timers, &old->timer);
		r = old;
	}
	r->used = true;
	r->have_first = false;
	r->src = src;
	r->dst = dst;
	r->proto = proto;
	r->id = id;
	r->total = 0;
	r->got = 0;
	r->max_end = 0;
	r->hdr_len = r->hdr_data = 0;
	r->started_ns = st->now_ns;
	memset(r->map, 0, sizeof(r->map));
	timer_arm(&st->timers, &r->timer, st->now_ns + REASM_TIMEOUT_NS);
	return r;
}

/**
 * ip_reasm() - add one fragment; deliver the datagram when complete
 * @st:		stack
 * @h:		the fragment's IP header (@hl bytes, validated)
 * @hl:		header length
 * @data:	fragment payload, @len bytes
 * @len:	payload length
 */
static void ip_reasm(struct bstack *st, const uint8_t *h, uint32_t hl,
		     const uint8_t *data, uint32_t len)
{
	uint16_t frag = cove_get16(h + 6);
	uint32_t off = (uint32_t)(frag & IP_OFFMASK) * 8, end = off + len;
	bool more = frag & IP_MF;
	struct reasm *r;
	struct ip_pkt pkt;
	int seen;

	st->stats.ip_frags_in++;
	if ((more && (len % 8 || !len)) || end + hl > IP_MAX_TOTAL) {
		st->stats.rx_malformed++;
		st->stats.rx_dropped++;
		st->stats.ip_reasm_failed++;
		return;
	}
	r = reasm_slot(st, rd32n(h + 12), rd32n(h + 16), h[9],
		       cove_get16(h + 4));
	if (!r->buf)
		r->buf = bmem_alloc(st, REASM_BUF, BMEM_GROW);
	if (!r->buf) {
		st->stats.rx_dropped++;
		reasm_fail(st, r);
		return;
	}
	if ((r->total && end > r->total) ||
	    (!more && r->total && end != r->total) ||
	    (!more && end < r->max_end)) {
		reasm_fail(st, r);
		return;
	}
	if (len) {
		seen = reasm_range(r, off / 8, (end + 7) / 8);
		if (seen == 1)
			return; /* exact duplicate */
		if (seen == 2) {
			reasm_fail(st, r); /* overlap: drop it all */
			return;
		}
		memcpy(r->buf + off, data, len);
		reasm_mark(r, off / 8, (end + 7) / 8);
		r->got += len;
		if (end > r->max_end)
			r->max_end = end;
	}
	if (!more)
		r->total = end;
	if (!off) {
		r->have_first = true;
		r->hdr_len = hl;
		r->hdr_data = len < 8 ? len : 8;
		memcpy(r->hdr, h, hl);
		memcpy(r->hdr + hl, data, r->hdr_data);
	}
	if (!r->total || r->got != r->total || !r->have_first)
		return;
	st->stats.ip_reassembled++;
	reasm_pkt(r, &pkt);
	timer_cancel(&st->timers, &r->timer);
	ip_deliver(st, &pkt);
	reasm_put(st, r);
}

/* ip_options_ok() - walk options; false when malformed or source-routed. */
static bool ip_options_ok(const uint8_t *o, uint32_t len)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t type = o[i];

		if (type == 0)
			break;
		if (type == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || o[i + 1] > len - i)
			return false;
		if (type == IPOPT_LSRR || type == IPOPT_SSRR)
			return false;
		i += o[i + 1];
	}
	return true;
}

/**
 * ipv4_input() - validate a received IPv4 packet and deliver it
 * @st:		stack
 * @p:		bytes after the Ethernet header (may carry padding)
 * @loop:	from the loopback queue: 127/8 allowed, checksums trusted
 * @csum_ok:	the link vouched for the transport checksum (frame flag)
 */
void ipv4_input(struct bstack *st, const struct pkt *p, bool loop, bool csum_ok)
{
	const uint8_t *h = pkt_ptr(p, 0, IP_HLEN_);
	uint32_t hl, tot, src, dst;
	struct ip_pkt pkt;
	uint16_t frag;

	if (!h || (h[0] >> 4) != 4 || (h[0] & 15) < 5)
		goto malformed;
	hl = (h[0] & 15) * 4u;
	tot = cove_get16(h + 2);
	if (tot < hl || tot > p->len || !pkt_ptr(p, 0, hl))
		goto malformed;
	if (!loop && !(st->link->offloads & COVE_LINK_OFF_RX_CSUM) &&
	    cove_csum_fold(cove_csum_partial(h, hl, 0))) {
		st->stats.rx_bad_csum++;
		goto drop;
	}
	if (hl > IP_HLEN_ && !ip_options_ok(h + IP_HLEN_, hl - IP_HLEN_))
		goto drop;
	src = rd32n(h + 12);
	dst = rd32n(h + 16);
	if (!loop && (ip_martian(st, src) || src == st->addr ||
		      ip_is_bcast(st, src) || (dst & loop_mask) == loop_net))
		goto drop;
	if (loop && (ip_is_mcast(src) || ip_is_bcast(st, src)))
		goto drop;
	if (!ip_is_local(st, dst) && !ip_is_bcast(st, dst) &&
	    !(ip_is_mcast(dst) && igmp_group_ok(st, dst)))
		goto drop;
	frag = cove_get16(h + 6);
	if (frag & (IP_MF | IP_OFFMASK)) {
		ip_reasm(st, h, hl, h + hl, tot - hl);
		return;
	}
	pkt.src = src;
	pkt.dst = dst;
	pkt.proto = h[9];
	pkt.ttl = h[8];
	pkt.tos = h[1];
	pkt.l4 = h + hl;
	pkt.l4_len = tot - hl;
	pkt.ip_hdr = h;
	pkt.ip_hdr_len = hl;
	pkt.ip_total_len = tot;
	pkt.csum_ok = csum_ok || loop ||
		      (st->link->offloads & COVE_LINK_OFF_RX_CSUM);
	ip_deliver(st, &pkt);
	return;
malformed:
	st->stats.rx_malformed++;
drop:
	st->stats.rx_dropped++;
}

struct cove_frame *ip_alloc(struct bstack *st, uint32_t *room)
{
	struct cove_frame *f = cove_frame_alloc(st->link->pool);
	uint32_t cap;

	if (!f)
		return NULL;
	cap = f->cap - ETH_HLEN_ - IP_HLEN_;
	*room = st->mtu - IP_HLEN_ < cap ? st->mtu - IP_HLEN_ : cap;
	return f;
}

/* ip_fill() - write the IPv4 header of @f; @frag: flags and offset; @ttl
 * 0: IP_DEFAULT_TTL. */
static void ip_fill(struct cove_frame *f, uint32_t src, uint32_t dst,
		    uint8_t proto, uint32_t l4_len, uint8_t tos, uint8_t ttl,
		    uint16_t id, uint16_t frag)
{
	uint8_t *h = f->data + ETH_HLEN_;

	h[0] = 0x45;
	h[1] = tos;
	cove_put16(h + 2, (uint16_t)(IP_HLEN_ + l4_len));
	cove_put16(h + 4, id);
	cove_put16(h + 6, frag);
	h[8] = ttl ? ttl : IP_DEFAULT_TTL;
	h[9] = proto;
	h[10] = h[11] = 0;
	wr32n(h + 12, src);
	wr32n(h + 16, dst);
	memcpy(h + 10,
	       &(uint16_t){ cove_csum_fold(cove_csum_partial(h, IP_HLEN_, 0)) },
	       2);
	f->len = ETH_HLEN_ + IP_HLEN_ + l4_len;
}

void ip_mcast_mac(uint32_t g, uint8_t mac[ETH_ALEN_])
{
	const uint8_t *b = (const uint8_t *)&g;

	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = b[1] & 0x7f;
	mac[4] = b[2];
	mac[5] = b[3];
}

/*
 * ip_mc_out() - a frame to group @dst: with IP_TX_MC_LOOP a copy goes to
 * the loopback queue when we are in the group (Linux's ip_mc_output()),
 * and with IP_TX_TTL0 nothing goes on the wire. Consumes @f.
 */
static int ip_mc_out(struct bstack *st, struct cove_frame *f, uint32_t dst,
		     unsigned flags)
{
	struct cove_frame *copy;
	uint8_t mac[ETH_ALEN_];

	ip_mcast_mac(dst, mac);
	eth_fill(st, f, mac, ETH_P_IP_);
	if ((flags & IP_TX_MC_LOOP) && igmp_group_ok(st, dst)) {
		copy = cove_frame_alloc(st->link->pool);
		if (copy) {
			memcpy(copy->data, f->data, f->len);
			copy->len = f->len;
			bstack_loop(st, copy);
		} else {
			st->stats.tx_dropped++;
		}
	}
	if (flags & IP_TX_TTL0) {
		cove_frame_free(f);
		return 0;
	}
	bstack_xmit(st, f);
	return 0;
}

/* ip_ttl0() - set a filled header's TTL to 0 (ip_fill() reads 0 as 64). */
static void ip_ttl0(struct cove_frame *f)
{
	uint8_t *h = f->data + ETH_HLEN_;

	h[8] = 0;
	h[10] = h[11] = 0;
	memcpy(h + 10,
	       &(uint16_t){ cove_csum_fold(cove_csum_partial(h, IP_HLEN_, 0)) },
	       2);
}

/* ip_out() - send a frame whose IP header is filled; consumes @f. */
static int ip_out(struct bstack *st, struct cove_frame *f, uint32_t dst,
		  unsigned flags)
{
	uint32_t nh;
	int ret;

	if (ip_is_local(st, dst)) {
		eth_fill(st, f, st->mac, ETH_P_IP_);
		return bstack_loop(st, f);
	}
	if (ip_is_bcast(st, dst)) {
		eth_fill(st, f, eth_bcast, ETH_P_IP_);
		bstack_xmit(st, f);
		return 0;
	}
	if (ip_is_mcast(dst))
		return ip_mc_out(st, f, dst, flags);
	ret = ip_route(st, dst, &nh);
	if (ret) {
		st->stats.tx_dropped++;
		cove_frame_free(f);
		return -EHOSTUNREACH;
	}
	eth_fill(st, f, NULL, ETH_P_IP_);
	return arp_output(st, f, nh);
}

/* ip_src_for() - the source address for @dst when the caller gave none. */
static uint32_t ip_src_for(const struct bstack *st, uint32_t dst)
{
	return (dst & loop_mask) == loop_net ? htonl(INADDR_LOOPBACK) :
					       st->addr;
}

struct cove_frame *ip_alloc_tso(struct bstack *st, uint32_t *room)
{
	struct cove_frame *f;

	if (!st->tso_room || !(f = cove_frame_alloc(&st->tso_pool)))
		return NULL;
	*room = st->tso_room;
	return f;
}

int ip_send(struct bstack *st, struct cove_frame *f, uint32_t src, uint32_t dst,
	    uint8_t proto, uint32_t l4_len, uint8_t tos, uint8_t ttl,
	    uint32_t segs)
{
	uint32_t max = (f->flags & COVE_FRAME_F_TSO) ? IP_MAX_TOTAL : st->mtu;

	if (l4_len + IP_HLEN_ > max || l4_len + IP_HLEN_ + ETH_HLEN_ > f->cap) {
		cove_frame_free(f);
		return -EMSGSIZE;
	}
	if (!src)
		src = ip_src_for(st, dst);
	ip_fill(f, src, dst, proto, l4_len, tos, ttl, st->ipv4->next_id,
		proto == IP_PROTO_TCP ? IP_DF : 0);
	/* each piece the link cuts takes the next ID, as in Linux */
	st->ipv4->next_id += (uint16_t)segs;
	return ip_out(st, f, dst, 0);
}

/* iov_copy() - copy @len bytes from an iovec cursor into @dst. */
static void iov_copy(uint8_t *dst, const struct iovec *iov, size_t *i,
		     size_t *off, uint32_t len)
{
	while (len) {
		size_t n = iov[*i].iov_len - *off;

		if (!n) {
			(*i)++;
			*off = 0;
			continue;
		}
		if (n > len)
			n = len;
		memcpy(dst, (const uint8_t *)iov[*i].iov_base + *off, n);
		dst += n;
		len -= (uint32_t)n;
		*off += n;
	}
}

int ip_send_dgram(struct bstack *st, uint32_t src, uint32_t dst, uint8_t proto,
		  uint8_t tos, uint8_t ttl, const void *hdr, uint32_t hdr_len,
		  const struct iovec *iov, size_t iovcnt, int csum_off,
		  unsigned flags)
{
	struct cove_frame *fr[DGRAM_MAX_FRAMES];
	uint32_t total = hdr_len, room, chunk, n, i, off, sum = 0;
	size_t vi = 0, voff = 0, k;
	uint16_t id, ck;
	uint32_t nh;
	int ret;

	for (k = 0; k < iovcnt; k++) {
		if (iov[k].iov_len > IP_MAX_TOTAL)
			return -EMSGSIZE;
		total += (uint32_t)iov[k].iov_len;
		if (total > IP_MAX_TOTAL - IP_HLEN_)
			return -EMSGSIZE;
	}
	ret = ip_route(st, dst, &nh);
	if (ret)
		return ret;
	if (!src)
		src = ip_src_for(st, dst);
	fr[0] = ip_alloc(st, &room);
	if (!fr[0])
		return -ENOBUFS;
	chunk = total <= room ? total : room & ~7u;
	n = (total + chunk - 1) / chunk;
	if (n > DGRAM_MAX_FRAMES) {
		cove_frame_free(fr[0]);
		return -EMSGSIZE;
	}
	for (i = 1; i < n; i++) {
		fr[i] = ip_alloc(st, &room);
		if (!fr[i]) {
			while (i--)
				cove_frame_free(fr[i]);
			st->stats.tx_dropped++;
			return -ENOBUFS;
		}
	}
	/* copy: the transport header, then the payload, chunk by chunk */
	for (i = 0, off = 0; i < n; i++, off += chunk) {
		uint32_t len = total - off < chunk ? total - off : chunk;
		uint8_t *d = ip_l4(fr[i]);
		uint32_t h = 0;

		if (!i) {
			h = hdr_len;
			memcpy(d, hdr, hdr_len);
		}
		iov_copy(d + h, iov, &vi, &voff, len - h);
		fr[i]->len = len;  /* l4 bytes, until ip_fill */
		if (csum_off >= 0) /* chunks are even: sums chain */
			sum = cove_csum_partial(d, len, sum);
	}
	if (csum_off >= 0) {
		uint8_t ph[12];

		memcpy(ph, &src, 4);
		memcpy(ph + 4, &dst, 4);
		ph[8] = 0;
		ph[9] = proto;
		cove_put16(ph + 10, (uint16_t)total);
		ck = cove_csum_fold(cove_csum_partial(ph, sizeof(ph), sum));
		if (!ck && proto == IP_PROTO_UDP)
			ck = 0xffff;
		memcpy(ip_l4(fr[0]) + csum_off, &ck, 2);
	}
	id = st->ipv4->next_id++;
	for (i = 0, off = 0; i < n; i++, off += chunk) {
		uint16_t frag = (uint16_t)(off / 8);

		if (i + 1 < n)
			frag |= IP_MF;
		ip_fill(fr[i], src, dst, proto, fr[i]->len, tos, ttl, id, frag);
		if (flags & IP_TX_TTL0)
			ip_ttl0(fr[i]);
		ip_out(st, fr[i], dst, flags); /* ARP drops are counted there */
	}
	return 0;
}

/**
 * ipv4_init() - the IPv4 context: ID counter, ICMP budget, reassembly slots
 * @st:		stack instance; st->ipv4 is set before anything can fail
 *
 * The reassembly slots start empty (their buffers come from the memory
 * budget when a datagram starts). The IP ID starts at a random value from
 * the instance's generator; the ICMP rate limiter starts with a full
 * bucket.
 *
 * Return: 0 or -ENOMEM.
 */
int ipv4_init(struct bstack *st)
{
	struct ipv4_ctx *c = calloc(1, sizeof(*c));
	unsigned i;

	if (!c)
		return -ENOMEM;
	st->ipv4 = c;
	c->next_id = (uint16_t)bstack_random(st);
	c->icmp.tokens = ICMP_BURST;
	c->icmp.stamp_ns = st->now_ns;
	for (i = 0; i < REASM_SLOTS; i++) {
		c->slot[i].st = st;
		c->slot[i].timer.fn = reasm_timer;
	}
	return 0;
}

/* ipv4_fini() - cancel the reassembly timers, free the slots and context. */
void ipv4_fini(struct bstack *st)
{
	unsigned i;

	if (!st->ipv4)
		return;
	for (i = 0; i < REASM_SLOTS; i++) {
		timer_cancel(&st->timers, &st->ipv4->slot[i].timer);
		reasm_put(st, &st->ipv4->slot[i]);
	}
	free(st->ipv4);
	st->ipv4 = NULL;
}

bool ip_is_local_cb(void *ctx, uint32_t addr)
{
	return ip_is_local(ctx, addr);
}
