// SPDX-License-Identifier: Apache-2.0
/* IPv6 fragments both ways (RFC 8200 4.5, RFC 5722) and the path MTU table (RFC 8201). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "stacks/builtin/core6.h"

/*
 * Theory of operation
 *
 * Reassembly: REASM6_SLOTS slots, each with a buffer allocated at create
 * time, keyed by (source, destination, identification). The buffer keeps
 * the first fragment's unfragmentable part (fixed header and the
 * extension headers before the fragment header) right in front of the
 * fragmentable data, so a complete datagram is one contiguous packet that
 * ip6_chain() walks on from the fragment header's next header. A bitmap
 * of 8-byte blocks records what arrived. A fragment that overlaps data
 * already received poisons the datagram (RFC 5722): the slot turns dead,
 * and it and every later fragment of it are dropped until the slot's
 * timer (60 s, RFC 8200) frees it. A fragment that lies wholly inside
 * data already received is taken for a duplicate and ignored, as Linux
 * ignores exact duplicates (links that duplicate frames exist; a forged
 * duplicate can change nothing, since its bytes are not copied). A first fragment whose header chain does not reach the
 * upper-layer header is refused (RFC 7112: parameter problem, code 3).
 * When the timer fires on a live datagram whose first fragment arrived,
 * ICMPv6 time exceeded (code 1) goes back. With every slot busy the
 * oldest datagram gives way. Nothing is allocated per packet.
 *
 * Fragmentation (ip6_send_dgram()): a datagram larger than the path MTU
 * is cut into pieces of the largest multiple of 8 that fits with the
 * fixed and fragment headers; every piece is built before the first is
 * sent, all share one random identification (RFC 7739).
 *
 * Path MTU: PMTU_ENTRIES destinations lowered by a Packet Too Big, never
 * below 1280 (RFC 8200 5); an entry ages out after 10 minutes (RFC 8201
 * 4), after which the link MTU is tried again. The table is full: the
 * entry that expires first gives way.
 */

#define REASM6_SLOTS	  4u
#define REASM6_UNFRAG	  256u /* unfragmentable part kept, at most */
#define REASM6_DATA	  65536u
#define REASM6_BLOCKS	  (REASM6_DATA / 8u)
#define REASM6_QUOTE	  256u /* of the first fragment, for time exceeded */
#define REASM6_TIMEOUT_NS (60000ull * TIMER_TICK_NS)
#define PMTU_ENTRIES	  64u
#define PMTU_EXPIRE_NS	  (600000ull * TIMER_TICK_NS)
#define DGRAM6_FRAMES	  64u /* 65535 bytes in 1232-byte pieces: 54 */
#define FRAG_HLEN	  8u

struct reasm6 {
	struct btimer timer; /* first: container_of by cast */
	struct bstack *st;
	bool used, dead, have_first;
	struct in6_addr src, dst;
	uint32_t id;
	uint8_t nh;	  /* the first fragment's next header */
	uint32_t total;	  /* fragmentable bytes, 0 until the last is seen */
	uint32_t got;	  /* bytes received */
	uint32_t max_end; /* furthest byte received */
	uint32_t unfrag;  /* unfragmentable bytes in front of buf + UNFRAG */
	uint64_t started_ns;
	uint8_t quote[REASM6_QUOTE]; /* the first fragment, from its header */
	uint32_t quote_len;
	uint8_t map[REASM6_BLOCKS / 8];
	uint8_t *buf; /* REASM6_UNFRAG + REASM6_DATA bytes */
};

struct ip6_reasm_ctx {
	struct reasm6 slot[REASM6_SLOTS];
};

struct pmtu_ent {
	struct in6_addr dst;
	uint32_t mtu;
	uint64_t until; /* 0: free */
};

struct ip6_pmtu_ctx {
	struct pmtu_ent e[PMTU_ENTRIES];
};

_Static_assert(REASM6_DATA > IP6_MAX_PAYLOAD, "a slot holds any datagram");
_Static_assert(DGRAM6_FRAMES *((IP6_MIN_MTU - IP6_HLEN_ - FRAG_HLEN) & ~7u) >
		       IP6_MAX_PAYLOAD,
	       "a datagram of any size fits in DGRAM6_FRAMES pieces");

/* --- path MTU ------------------------------------------------------------ */

/* pmtu_find() - the live entry for @dst, or NULL. */
static struct pmtu_ent *pmtu_find(struct bstack *st, const struct in6_addr *dst)
{
	struct ip6_pmtu_ctx *c = ip6c(st)->pmtu;
	unsigned i;

	for (i = 0; i < PMTU_ENTRIES; i++)
		if (c->e[i].until > st->now_ns && ipx_eq(&c->e[i].dst, dst))
			return &c->e[i];
	return NULL;
}

uint32_t ip6_path_mtu(struct bstack *st, const struct in6_addr *dst)
{
	uint32_t link = ip6c(st)->mtu;
	const struct pmtu_ent *e = pmtu_find(st, dst);

	return e && e->mtu < link ? e->mtu : link;
}

/**
 * ip6_pmtu_update() - a Packet Too Big reported @mtu towards @dst
 * @st:		stack
 * @dst:	the destination of the packet that was too big
 * @mtu:	the MTU it reported; below 1280 counts as 1280
 *
 * Only lowers (a larger value than we use is ignored, RFC 8201 4).
 */
void ip6_pmtu_update(struct bstack *st, const struct in6_addr *dst,
		     uint32_t mtu)
{
	struct ip6_pmtu_ctx *c = ip6c(st)->pmtu;
	struct pmtu_ent *e;
	unsigned i;

	if (mtu < IP6_MIN_MTU)
		mtu = IP6_MIN_MTU;
	if (mtu >= ip6_path_mtu(st, dst))
		return;
	e = pmtu_find(st, dst);
	if (!e) /* a free slot (until 0) or the one that expires first */
		for (e = &c->e[0], i = 1; i < PMTU_ENTRIES; i++)
			if (c->e[i].until < e->until)
				e = &c->e[i];
	e->dst = *dst;
	e->mtu = mtu;
	e->until = st->now_ns + PMTU_EXPIRE_NS;
	st->stats.pmtu_updates++;
}

/* ip6_pmtu_entries() - live entries (tests). */
uint32_t ip6_pmtu_entries(const struct bstack *st)
{
	const struct ip6_pmtu_ctx *c = ip6c(st)->pmtu;
	uint32_t n = 0;
	unsigned i;

	for (i = 0; i < PMTU_ENTRIES; i++)
		n += c->e[i].until > st->now_ns;
	return n;
}

/* --- reassembly ---------------------------------------------------------- */

static void reasm6_release(struct bstack *st, struct reasm6 *r)
{
	timer_cancel(&st->timers, &r->timer);
	r->used = false;
}

/* reasm6_kill() - poison a datagram: later fragments die with it. */
static void reasm6_kill(struct bstack *st, struct reasm6 *r)
{
	st->stats.ip6_reasm_failed++;
	r->dead = true;
}

/* reasm6_timer() - a datagram did not complete in 60 s. */
static void reasm6_timer(struct btimer *t)
{
	struct reasm6 *r = (struct reasm6 *)t;
	struct bstack *st = r->st;
	struct ip6_pkt pkt;

	r->used = false;
	if (r->dead)
		return; /* counted when it died */
	st->stats.ip6_reasm_failed++;
	if (!r->have_first)
		return;
	memset(&pkt, 0, sizeof(pkt));
	pkt.src = r->src;
	pkt.dst = r->dst;
	pkt.proto = NH_FRAGMENT_;
	pkt.ip_hdr = r->quote;
	pkt.ip_len = r->quote_len;
	icmp6_send_error(st, &pkt, 3, 1, 0);
}

/* reasm6_range() - test the bitmap: 0 none set, 1 all set, 2 partly. */
static int reasm6_range(const struct reasm6 *r, uint32_t b0, uint32_t b1)
{
	uint32_t b, set = 0;

	for (b = b0; b < b1; b++)
		set += (r->map[b >> 3] >> (b & 7)) & 1;
	return !set ? 0 : set == b1 - b0 ? 1 : 2;
}

static void reasm6_mark(struct reasm6 *r, uint32_t b0, uint32_t b1)
{
	uint32_t b;

	for (b = b0; b < b1; b++)
		r->map[b >> 3] |= (uint8_t)(1u << (b & 7));
}

/* reasm6_slot() - the slot for a fragment, taking a free or the oldest. */
static struct reasm6 *reasm6_slot(struct bstack *st, const struct ip6_pkt *pkt,
				  uint32_t id)
{
	struct ip6_reasm_ctx *c = ip6c(st)->reasm;
	struct reasm6 *r, *old = NULL, *free_r = NULL;
	unsigned i;

	for (i = 0; i < REASM6_SLOTS; i++) {
		r = &c->slot[i];
		if (!r->used) {
			if (!free_r)
				free_r = r;
			continue;
		}
		if (r->id == id && ipx_eq(&r->src, &pkt->src) &&
		    ipx_eq(&r->dst, &pkt->dst))
			return r;
		if (!old || r->started_ns < old->started_ns)
			old = r;
	}
	r = free_r;
	if (!r) {
		if (!old->dead)
			st->stats.ip6_reasm_failed++;
		reasm6_release(st, old);
		r = old;
	}
	r->used = true;
	r->dead = r->have_first = false;
	r->src = pkt->src;
	r->dst = pkt->dst;
	r->id = id;
	r->total = r->got = r->max_end = r->unfrag = 0;
	r->quote_len = 0;
	r->started_ns = st->now_ns;
	memset(r->map, 0, sizeof(r->map));
	timer_arm(&st->timers, &r->timer, st->now_ns + REASM6_TIMEOUT_NS);
	return r;
}

/*
 * ip6_first_chain_ok() - the headers after the fragment header of a first
 * fragment (next header @nh at @off of @len bytes) reach the upper-layer
 * header's first 8 bytes (RFC 7112).
 */
static bool ip6_first_chain_ok(const uint8_t *hdr, uint32_t len, uint8_t nh,
			       uint32_t off)
{
	unsigned n;

	for (n = 0; n < 8; n++) {
		if (nh != NH_DSTOPTS_ && nh != NH_ROUTING_)
			return nh == NH_NONE_ || (off <= len && len - off >= 8);
		if (off > len || len - off < 8)
			return false;
		nh = hdr[off];
		off += (hdr[off + 1] + 1u) * 8u;
	}
	return false;
}

/* reasm6_first() - keep what the first fragment brings besides data. */
static void reasm6_first(struct reasm6 *r, const uint8_t *hdr, uint32_t len,
			 uint32_t fh)
{
	r->have_first = true;
	r->nh = hdr[fh];
	r->unfrag = fh;
	memcpy(r->buf + REASM6_UNFRAG - fh, hdr, fh);
	r->quote_len = len < REASM6_QUOTE ? len : REASM6_QUOTE;
	memcpy(r->quote, hdr, r->quote_len);
}

/* reasm6_done() - deliver a complete datagram from its slot. */
static void reasm6_done(struct bstack *st, struct reasm6 *r,
			struct ip6_pkt *pkt)
{
	uint8_t *h = r->buf + REASM6_UNFRAG - r->unfrag;
	uint32_t len = r->unfrag + r->total;

	st->stats.ip6_reassembled++;
	timer_cancel(&st->timers, &r->timer);
	cove_put16(h + 4, (uint16_t)(len - IP6_HLEN_));
	pkt->ip_hdr = h;
	pkt->ip_len = len;
	pkt->csum_ok = false; /* a link vouches for frames, not datagrams */
	ip6_chain(st, pkt, h, len, r->nh, r->unfrag, false);
	r->used = false;
}

/*
 * reasm6_check() - a fragment's size rules (RFC 8200 4.5): a non-last
 * one a multiple of 8, none reaching past 65535. Return: true when ok;
 * else the parameter problem has been sent.
 */
static bool reasm6_check(struct bstack *st, const struct ip6_pkt *pkt,
			 uint32_t fh, uint32_t off, uint32_t dlen, bool more)
{
	if (more && (dlen % 8 || !dlen)) {
		icmp6_send_error(st, pkt, 4, 0, 4); /* at the payload length */
		return false;
	}
	if (fh + FRAG_HLEN - IP6_HLEN_ + off + dlen > IP6_MAX_PAYLOAD) {
		icmp6_send_error(st, pkt, 4, 0, fh + 2); /* at the offset */
		return false;
	}
	return true;
}

void ip6_reasm(struct bstack *st, struct ip6_pkt *pkt, const uint8_t *hdr,
	       uint32_t len, uint32_t fh)
{
	const uint8_t *f = hdr + fh;
	uint32_t off = cove_get16(f + 2) & ~7u, dlen = len - fh - FRAG_HLEN;
	uint32_t end = off + dlen;
	bool more = f[3] & 1;
	struct reasm6 *r;
	int seen;

	st->stats.ip6_frags_in++;
	if (!reasm6_check(st, pkt, fh, off, dlen, more) || fh > REASM6_UNFRAG)
		goto bad;
	if (!off && !ip6_first_chain_ok(hdr, len, f[0], fh + FRAG_HLEN)) {
		icmp6_send_error(st, pkt, 4, 3, 0); /* RFC 7112 */
		goto bad;
	}
	r = reasm6_slot(st, pkt, cove_get32(f + 4));
	if (r->dead)
		goto drop;
	if ((r->total && end > r->total) ||
	    (!more && r->total && end != r->total) ||
	    (!more && end < r->max_end)) {
		reasm6_kill(st, r);
		goto drop;
	}
	if (dlen) {
		seen = reasm6_range(r, off / 8, (end + 7) / 8);
		if (seen == 1)
			goto drop; /* a duplicate */
		if (seen) {	   /* overlap: RFC 5722 */
			reasm6_kill(st, r);
			goto drop;
		}
		memcpy(r->buf + REASM6_UNFRAG + off, f + FRAG_HLEN, dlen);
		reasm6_mark(r, off / 8, (end + 7) / 8);
		r->got += dlen;
		if (end > r->max_end)
			r->max_end = end;
	}
	if (!more)
		r->total = end;
	if (!off)
		reasm6_first(r, hdr, len, fh);
	if (r->total && r->got == r->total && r->have_first)
		reasm6_done(st, r, pkt);
	return;
bad:
	st->stats.rx_malformed++;
drop:
	st->stats.rx_dropped++;
}

/* --- source fragmentation ------------------------------------------------ */

/* iov6_copy() - copy @len bytes from an iovec cursor into @dst. */
static void iov6_copy(uint8_t *dst, const struct iovec *iov, size_t *i,
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

/* dgram6_size() - header plus payload bytes; -EMSGSIZE above 65535. */
static int64_t dgram6_size(uint32_t hdr_len, const struct iovec *iov,
			   size_t iovcnt)
{
	uint64_t total = hdr_len;
	size_t k;

	for (k = 0; k < iovcnt; k++) {
		total += iov[k].iov_len;
		if (total > IP6_MAX_PAYLOAD)
			return -EMSGSIZE;
	}
	return (int64_t)total;
}

/* dgram6_alloc() - @n frames or none (-ENOBUFS). */
static int dgram6_alloc(struct bstack *st, struct cove_frame **fr, uint32_t n)
{
	uint32_t i, room;

	for (i = 0; i < n; i++) {
		fr[i] = ip6_alloc(st, &room);
		if (!fr[i]) {
			while (i--)
				cove_frame_free(fr[i]);
			st->stats.tx_dropped++;
			return -ENOBUFS;
		}
	}
	return 0;
}

int ip6_send_dgram(struct bstack *st, const struct in6_addr *src,
		   const struct in6_addr *dst, uint8_t proto, uint8_t tclass,
		   uint8_t hlim, const void *hdr, uint32_t hdr_len,
		   const struct iovec *iov, size_t iovcnt, int csum_off)
{
	struct in6_addr s = *src;
	int ret;

	if (!ip6c(st)->on)
		return -ENETUNREACH;
	if (ip6_is_any(&s) && (ret = ip6_src_for(st, dst, &s)))
		return ret;
	return ip6_send_from(st, &s, dst, proto, tclass, hlim, hdr, hdr_len,
			     iov, iovcnt, csum_off);
}

int ip6_send_from(struct bstack *st, const struct in6_addr *src,
		  const struct in6_addr *dst, uint8_t proto, uint8_t tclass,
		  uint8_t hlim, const void *hdr, uint32_t hdr_len,
		  const struct iovec *iov, size_t iovcnt, int csum_off)
{
	struct cove_frame *fr[DGRAM6_FRAMES];
	int64_t size = dgram6_size(hdr_len, iov, iovcnt);
	uint32_t total, mtu, chunk, n, i, off, fhl, sum = 0, id = 0;
	struct in6_addr s = *src, nh;
	size_t vi = 0, voff = 0;
	uint16_t ck;
	int ret;

	if (size < 0)
		return (int)size;
	total = (uint32_t)size;
	if (!ip6c(st)->on || ip6_next_hop(st, dst, &nh))
		return -ENETUNREACH;
	mtu = ip6_path_mtu(st, dst);
	fhl = total + IP6_HLEN_ <= mtu ? 0 : FRAG_HLEN;
	chunk = fhl ? (mtu - IP6_HLEN_ - FRAG_HLEN) & ~7u : total;
	n = total ? (total + chunk - 1) / chunk : 1;
	ret = dgram6_alloc(st, fr, n);
	if (ret)
		return ret;
	if (csum_off >= 0)
		sum = ip6_pseudo(&s, dst, proto, total);
	for (i = 0, off = 0; i < n; i++, off += chunk) {
		uint32_t len = total - off < chunk ? total - off : chunk;
		uint8_t *d = ip6_l4(fr[i]) + fhl;
		uint32_t h = 0;

		if (!i) {
			h = hdr_len;
			memcpy(d, hdr, hdr_len);
		}
		iov6_copy(d + h, iov, &vi, &voff, len - h);
		fr[i]->len = len;  /* data bytes, until ip6_out() */
		if (csum_off >= 0) /* pieces are multiples of 8: sums chain */
			sum = cove_csum_partial(d, len, sum);
	}
	if (csum_off >= 0) {
		ck = cove_csum_fold(sum);
		if (!ck && proto == IPPROTO_UDP)
			ck = 0xffff;
		memcpy(ip6_l4(fr[0]) + fhl + csum_off, &ck, 2);
	}
	if (fhl)
		id = (uint32_t)bstack_random(st);
	for (i = 0, off = 0; i < n; i++, off += chunk) {
		uint8_t *fh = ip6_l4(fr[i]);
		uint32_t len = fr[i]->len;

		if (fhl) {
			fh[0] = proto;
			fh[1] = 0;
			cove_put16(fh + 2, (uint16_t)(off | (i + 1 < n)));
			cove_put32(fh + 4, id);
		}
		ip6_out(st, fr[i], &s, dst, fhl ? NH_FRAGMENT_ : proto,
			len + fhl, tclass, hlim);
	}
	return 0;
}

/*
 * ip6_frag_init() - the path MTU table and REASM6_SLOTS reassembly slots,
 * their buffers allocated now so that fragment input never allocates.
 * Return: 0 or -ENOMEM (what was allocated is freed by ip6_frag_fini()).
 */
int ip6_frag_init(struct bstack *st)
{
	struct ipv6_ctx *c = ip6c(st);
	unsigned i;

	c->pmtu = calloc(1, sizeof(*c->pmtu));
	c->reasm = calloc(1, sizeof(*c->reasm));
	if (!c->pmtu || !c->reasm)
		return -ENOMEM;
	for (i = 0; i < REASM6_SLOTS; i++) {
		c->reasm->slot[i].st = st;
		c->reasm->slot[i].timer.fn = reasm6_timer;
		c->reasm->slot[i].buf = malloc(REASM6_UNFRAG + REASM6_DATA);
		if (!c->reasm->slot[i].buf)
			return -ENOMEM;
	}
	return 0;
}

void ip6_frag_fini(struct bstack *st)
{
	struct ipv6_ctx *c = ip6c(st);
	unsigned i;

	if (c->reasm)
		for (i = 0; i < REASM6_SLOTS; i++) {
			timer_cancel(&st->timers, &c->reasm->slot[i].timer);
			free(c->reasm->slot[i].buf);
		}
	free(c->reasm);
	free(c->pmtu);
	c->reasm = NULL;
	c->pmtu = NULL;
}
