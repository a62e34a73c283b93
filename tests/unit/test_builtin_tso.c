// SPDX-License-Identifier: Apache-2.0
/* Builtin TCP over a link with checksum and segmentation offload in software. */
#include "tests/unit/test_builtin_tcp.h"

/*
 * Theory of operation
 *
 * The "soft offload" link (struct soft_link) goes on top of an end of the
 * mem pair (or of the impairment shim on it) and tells the stack it takes
 * COVE_FRAME_F_CSUM_PARTIAL and COVE_FRAME_F_TSO frames, as the packet
 * link does over PACKET_VNET_HDR. Its tx_burst() then does, in software,
 * what a NIC or the kernel does for the packet link:
 *
 *  - a checksum-partial frame: its checksum field must hold the pseudo-
 *    header sum (checked, soft_counts.pseudo_bad); the link sums the L4
 *    bytes from the header to the end, field included, folds, complements
 *    and stores;
 *  - a TSO frame: checked the same way for the whole L4 length, then cut
 *    into gso_size pieces with the Ethernet, IP and TCP headers repeated,
 *    IP total length, ID (+1 a piece) and header checksum, TCP sequence
 *    number fixed, FIN and PSH only on the last piece, each piece's
 *    checksum completed as above.
 *
 * Pieces and completed frames come from the inner link's pool (mem frees
 * what it is given after copying it to the peer's pool; the shim keeps
 * frames of that pool), never from the stack's TSO pool, so nothing of the
 * stack's outlives the call. What the inner link does not take waits in a
 * backlog, like a device ring; a frame is only accepted while the backlog
 * has room for all its pieces.
 *
 * Every piece is then checked by soft_check_cut(), which knows nothing of
 * how soft_cut() works: payloads add up to the original, headers equal the
 * original's except the fields that must change, and those have the
 * values the contract gives them; every frame leaves with a valid checksum
 * (soft_sum_ok(), a sum written differently from the completion) and no
 * offload flags, so the peer checks every checksum itself.
 *
 * Knobs for the tests: hold_tso keeps TSO frames (the stack's TSO pool
 * runs dry), accept_max accepts only so many frames a call, 0 none (the
 * stack's flush drops the rest), drop_tso loses every Nth super-frame
 * whole; on receive, rx_mangle spoils the checksum of TCP frames and
 * rx_vouch flags them COVE_FRAME_F_CSUM_OK all the same.
 */

#define MiB	     (1u << 20)
#define SOFT_BACKLOG 1024u /* power of two */
#define SOFT_HELD    64u
#define SOFT_TSO_MAX (65535u + 14u)
#define ETH_LEN	     14u
#define TCP_FIN	     0x01u
#define TCP_PSH	     0x08u

_Static_assert((SOFT_BACKLOG & (SOFT_BACKLOG - 1)) == 0,
	       "backlog length must be a power of two");

struct soft_counts {
	uint64_t frames;	    /* taken from the stack */
	uint64_t tso, segs;	    /* super-frames and their pieces */
	uint64_t partial;	    /* checksum-partial, not TSO */
	uint64_t full;		    /* IPv4 TCP/UDP with a full checksum */
	uint64_t data;		    /* TCP frames with payload, not TSO */
	uint64_t tso_fin, tso_psh;  /* super-frames with FIN / PSH */
	uint64_t pseudo_bad;	    /* field != pseudo-header sum */
	uint64_t sum_bad;	    /* a frame would leave with a bad sum */
	uint64_t cut_bad;	    /* pieces that break the TSO contract */
	uint64_t contract_bad;	    /* flags that do not fit the frame */
	uint64_t iphdr_bad;	    /* super-frame's IP header checksum */
	uint64_t self;		    /* src == dst: loopback on the wire */
	uint64_t nobuf;		    /* no frame for a piece: dropped */
	uint64_t refused;	    /* frames the link did not accept */
	uint64_t held, dropped_tso; /* hold_tso / drop_tso casualties */
	uint64_t mangled;	    /* rx_mangle */
};

struct soft_link {
	struct cove_link link; /* first: what the stack sees */
	struct cove_link *inner;
	struct cove_frame *backlog[SOFT_BACKLOG];
	uint32_t bhead, btail; /* free-running */
	struct cove_frame *held[SOFT_HELD];
	unsigned nheld;
	bool hold_tso;
	int accept_max;	   /* < 0: no limit */
	unsigned drop_tso; /* 0: never; N: every Nth super-frame */
	bool rx_mangle, rx_vouch;
	struct soft_counts c;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v);
}

/* sum16() - add @len bytes at @p as big-endian 16-bit words to @sum. */
static uint32_t sum16(const uint8_t *p, uint32_t len, uint32_t sum)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += rd16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* pseudo() - folded, uncomplemented pseudo-header sum of IPv4 header @ip. */
static uint16_t pseudo(const uint8_t *ip, uint32_t l4len)
{
	return fold(sum16(ip + 12, 8, 0) + ip[9] + l4len);
}

/* soft_sum_ok() - the L4 checksum of IPv4 packet @ip is valid. */
static bool soft_sum_ok(const uint8_t *ip)
{
	uint32_t ihl = (ip[0] & 15u) * 4, l4len = rd16(ip + 2) - ihl;
	uint32_t sum = sum16(ip + 12, 8, 0) + ip[9] + l4len;

	if (ip[9] == 17 && !rd16(ip + ihl + 6))
		return true; /* UDP without a checksum */
	return fold(sum16(ip + ihl, l4len, sum)) == 0xffff;
}

/*
 * soft_complete() - what a device does for NEEDS_CSUM: sum from the L4
 * header to the end, the field (holding the pseudo sum) included.
 */
static void soft_complete(uint8_t *ip)
{
	uint32_t ihl = (ip[0] & 15u) * 4, l4len = rd16(ip + 2) - ihl;
	uint32_t off = ip[9] == 6 ? 16 : 6;
	uint16_t c = (uint16_t)~fold(sum16(ip + ihl, l4len, 0));

	if (ip[9] == 17 && !c)
		c = 0xffff;
	wr16(ip + ihl + off, c);
}

/*
 * soft_parse() - the IPv4 TCP/UDP headers of @f, checked as the packet
 * link's links_vnet_hdr() checks them (untagged frames only here).
 * Return: the IP header, or NULL when the frame is no such thing.
 */
static uint8_t *soft_parse(struct cove_frame *f, uint32_t *ihl, uint32_t *l4h)
{
	uint8_t *ip = f->data + ETH_LEN;
	uint32_t tot;

	if (f->len < ETH_LEN + 20 || rd16(f->data + 12) != 0x0800 ||
	    (ip[0] >> 4) != 4)
		return NULL;
	*ihl = (ip[0] & 15u) * 4;
	tot = rd16(ip + 2);
	if (*ihl < 20 || tot < *ihl || tot > f->len - ETH_LEN ||
	    (rd16(ip + 6) & 0x3fff))
		return NULL;
	if (ip[9] == 6) {
		if (tot - *ihl < 20)
			return NULL;
		*l4h = (uint32_t)(ip[*ihl + 12] >> 4) * 4;
		if (*l4h < 20 || *l4h > tot - *ihl)
			return NULL;
	} else if (ip[9] == 17) {
		if (tot - *ihl < 8)
			return NULL;
		*l4h = 8;
	} else {
		return NULL;
	}
	return ip;
}

static uint32_t soft_nbacklog(const struct soft_link *sl)
{
	return sl->btail - sl->bhead;
}

static void soft_queue(struct soft_link *sl, struct cove_frame *f)
{
	f->flags = 0;
	f->gso_size = 0;
	sl->backlog[sl->btail++ % SOFT_BACKLOG] = f;
}

/* soft_push() - hand the backlog to the inner link (n == 0 flushes it). */
static void soft_push(struct soft_link *sl)
{
	while (soft_nbacklog(sl)) {
		uint32_t at = sl->bhead % SOFT_BACKLOG, n = soft_nbacklog(sl);
		unsigned done;

		if (n > SOFT_BACKLOG - at)
			n = SOFT_BACKLOG - at;
		done = cove_link_tx_burst(sl->inner, sl->backlog + at, n);
		sl->bhead += done;
		if (done < n)
			return;
	}
	(void)cove_link_tx_burst(sl->inner, sl->backlog, 0);
}

/*
 * soft_check_cut() - pieces backlog[first..] of super-frame @f obey the
 * TSO contract; each broken rule counts in cut_bad.
 */
static void soft_check_cut(struct soft_link *sl, const struct cove_frame *f,
			   uint32_t first, uint32_t npieces)
{
	const uint8_t *ip = f->data + ETH_LEN;
	uint32_t ihl = (ip[0] & 15u) * 4,
		 thl = (uint32_t)(ip[ihl + 12] >> 4) * 4;
	uint32_t hdr = ETH_LEN + ihl + thl, pay = rd16(ip + 2) - ihl - thl;
	uint32_t gso = f->gso_size, off = 0, i, k;
	uint8_t flags = ip[ihl + 13];

	if (npieces != (pay + gso - 1) / gso)
		sl->c.cut_bad++;
	for (i = 0; i < npieces; i++) {
		const struct cove_frame *p =
			sl->backlog[(first + i) % SOFT_BACKLOG];
		const uint8_t *q = p->data + ETH_LEN, *t = q + ihl;
		uint32_t n = p->len - hdr;
		bool last = i + 1 == npieces;

		if (p->len <= hdr || n > gso || (!last && n != gso) ||
		    ETH_LEN + rd16(q + 2) != p->len ||
		    p->len > ETH_LEN + sl->inner->mtu ||
		    memcmp(p->data + hdr, f->data + hdr + off, n) ||
		    rd16(q + 4) != (uint16_t)(rd16(ip + 4) + i) ||
		    fold(sum16(q, ihl, 0)) != 0xffff ||
		    rd32(t + 4) != rd32(ip + ihl + 4) + off ||
		    t[13] != (last ? flags : flags & ~(TCP_FIN | TCP_PSH)) ||
		    !soft_sum_ok(q) || p->flags || p->gso_size)
			sl->c.cut_bad++;
		/* everything else is the super-frame's header as it was */
		for (k = 0; k < hdr; k++) {
			bool may = (k >= ETH_LEN + 2 && k < ETH_LEN + 6) ||
				   k == ETH_LEN + 10 || k == ETH_LEN + 11 ||
				   (k >= ETH_LEN + ihl + 4 &&
				    k < ETH_LEN + ihl + 8) ||
				   k == ETH_LEN + ihl + 13 ||
				   k == ETH_LEN + ihl + 16 ||
				   k == ETH_LEN + ihl + 17;

			if (!may && p->data[k] != f->data[k])
				sl->c.cut_bad++;
		}
		off += n;
	}
	if (off != pay)
		sl->c.cut_bad++;
}

/*
 * soft_cut() - segment TSO frame @f into the backlog and free it.
 * @f has been parsed and checked; the backlog has room for every piece.
 */
static void soft_cut(struct soft_link *sl, struct cove_frame *f, uint32_t ihl,
		     uint32_t thl)
{
	const uint8_t *ip = f->data + ETH_LEN;
	uint32_t hdr = ETH_LEN + ihl + thl, pay = rd16(ip + 2) - ihl - thl;
	uint32_t gso = f->gso_size, first = sl->btail, off, n, i;

	for (off = 0, i = 0; off < pay; off += n, i++) {
		struct cove_frame *p = cove_frame_alloc(sl->inner->pool);
		uint8_t *q, *t;

		n = pay - off < gso ? pay - off : gso;
		if (!p) {
			sl->c.nobuf++; /* the rest is lost, as on a wire */
			break;
		}
		memcpy(p->data, f->data, hdr);
		memcpy(p->data + hdr, f->data + hdr + off, n);
		p->len = hdr + n;
		q = p->data + ETH_LEN;
		t = q + ihl;
		wr16(q + 2, ihl + thl + n);
		wr16(q + 4, rd16(ip + 4) + i);
		wr16(q + 10, 0);
		wr16(q + 10, (uint16_t)~fold(sum16(q, ihl, 0)));
		wr32(t + 4, rd32(ip + ihl + 4) + off);
		if (off + n < pay)
			t[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		wr16(t + 16, pseudo(q, thl + n));
		soft_complete(q);
		soft_queue(sl, p);
		sl->c.segs++;
	}
	if (off >= pay)
		soft_check_cut(sl, f, first, sl->btail - first);
	cove_frame_free(f);
}

/*
 * soft_take() - check one frame from the stack and queue what it becomes.
 * Return: false when the backlog has no room for it (not taken).
 */
static bool soft_take(struct soft_link *sl, struct cove_frame *f)
{
	bool tso = f->flags & COVE_FRAME_F_TSO;
	bool partial = f->flags & COVE_FRAME_F_CSUM_PARTIAL;
	uint32_t ihl = 0, l4h = 0, l4len, pieces = 1;
	uint8_t *ip = soft_parse(f, &ihl, &l4h);
	struct cove_frame *c;

	if (ip && tso && ip[9] == 6 && f->gso_size)
		pieces = (rd16(ip + 2) - ihl - l4h + f->gso_size - 1) /
			 f->gso_size;
	if (SOFT_BACKLOG - soft_nbacklog(sl) < pieces)
		return false;
	sl->c.frames++;
	if (ip && !memcmp(ip + 12, ip + 16, 4))
		sl->c.self++;
	if ((tso || partial) &&
	    (!ip || (tso && (ip[9] != 6 || !partial || !f->gso_size ||
			     pieces < 2 || f->len > sl->link.tso_max)))) {
		sl->c.contract_bad++;
		cove_frame_free(f);
		return true;
	}
	if (!ip) { /* ARP and the like */
		soft_queue(sl, f);
		return true;
	}
	l4len = rd16(ip + 2) - ihl;
	if (ip[9] == 6 && l4len > l4h && !tso)
		sl->c.data++;
	if (!tso && !partial) {
		sl->c.full++;
		if (!soft_sum_ok(ip))
			sl->c.sum_bad++;
	} else if (rd16(ip + ihl + (ip[9] == 6 ? 16 : 6)) !=
		   pseudo(ip, l4len)) {
		sl->c.pseudo_bad++;
	}
	if (tso) {
		sl->c.tso++;
		sl->c.tso_fin += !!(ip[ihl + 13] & TCP_FIN);
		sl->c.tso_psh += !!(ip[ihl + 13] & TCP_PSH);
		if (fold(sum16(ip, ihl, 0)) != 0xffff)
			sl->c.iphdr_bad++;
		if (sl->drop_tso && sl->c.tso % sl->drop_tso == 0) {
			sl->c.dropped_tso++;
			cove_frame_free(f);
			return true;
		}
		soft_cut(sl, f, ihl, l4h);
		return true;
	}
	if (partial) {
		sl->c.partial++;
		soft_complete(ip);
		if (!soft_sum_ok(ip))
			sl->c.sum_bad++;
	}
	/* a frame of the stack's TSO pool must not stay below us */
	if (f->pool != sl->inner->pool) {
		c = cove_frame_copy(sl->inner->pool, f);
		cove_frame_free(f);
		if (!c) {
			sl->c.nobuf++;
			return true;
		}
		f = c;
	}
	soft_queue(sl, f);
	return true;
}

/* soft_release() - cut and send what hold_tso kept. */
static void soft_release(struct soft_link *sl)
{
	unsigned i;

	for (i = 0; i < sl->nheld; i++)
		while (!soft_take(sl, sl->held[i]))
			soft_push(sl);
	sl->nheld = 0;
	soft_push(sl);
}

/**
 * soft_tx_burst() - take frames as a device with offloads would
 * @l:	link
 * @f:	frames; taken ones are freed (or kept by hold_tso)
 * @n:	count
 *
 * Return: frames taken; fewer than @n when the backlog is full or
 * accept_max says so.
 */
static unsigned soft_tx_burst(struct cove_link *l, struct cove_frame **f,
			      unsigned n)
{
	struct soft_link *sl = (struct soft_link *)l;
	unsigned done;

	if (!sl->hold_tso && sl->nheld)
		soft_release(sl);
	soft_push(sl);
	for (done = 0; done < n; done++) {
		if (sl->accept_max >= 0 && done == (unsigned)sl->accept_max)
			break;
		if (sl->hold_tso && (f[done]->flags & COVE_FRAME_F_TSO) &&
		    sl->nheld < SOFT_HELD) {
			sl->held[sl->nheld++] = f[done];
			sl->c.held++;
			continue;
		}
		if (!soft_take(sl, f[done]))
			break;
		soft_push(sl);
	}
	sl->c.refused += n - done;
	return done;
}

static unsigned soft_rx_burst(struct cove_link *l, struct cove_frame **f,
			      unsigned n)
{
	struct soft_link *sl = (struct soft_link *)l;
	unsigned got = cove_link_rx_burst(sl->inner, f, n), i;
	uint32_t ihl, l4h;
	uint8_t *ip;

	for (i = 0; i < got && sl->rx_mangle; i++) {
		ip = soft_parse(f[i], &ihl, &l4h);
		if (!ip || ip[9] != 6)
			continue;
		ip[ihl + 16] ^= 0x5a;
		sl->c.mangled++;
		if (sl->rx_vouch)
			f[i]->flags |= COVE_FRAME_F_CSUM_OK;
	}
	return got;
}

static void soft_close(struct cove_link *l)
{
	struct soft_link *sl = (struct soft_link *)l;

	while (soft_nbacklog(sl))
		cove_frame_free(sl->backlog[sl->bhead++ % SOFT_BACKLOG]);
	while (sl->nheld)
		cove_frame_free(sl->held[--sl->nheld]);
	cove_link_close(sl->inner);
	free(sl);
}

static const struct cove_link_ops soft_ops = {
	.kind = "soft",
	.usage = "software checksum/TSO offload (tests)",
	.rx_burst = soft_rx_burst,
	.tx_burst = soft_tx_burst,
	.close = soft_close,
};

/* The two soft links of a net, found again by the tests. */
struct soft_pair {
	struct soft_link *l[2];
};

/* soft_wrap() - topts.wrap: a soft link over @inner. */
static struct cove_link *soft_wrap(struct cove_link *inner, unsigned node,
				   void *ctx)
{
	struct soft_pair *sp = ctx;
	struct soft_link *sl = calloc(1, sizeof(*sl));

	REQUIRE(sl);
	sl->link = *inner;
	sl->link.ops = &soft_ops;
	sl->link.stats = (struct cove_link_stats){ 0 };
	sl->link.offloads = (inner->offloads & COVE_LINK_OFF_RX_CSUM) |
			    COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4;
	sl->link.tso_max = SOFT_TSO_MAX;
	sl->inner = inner;
	sl->accept_max = -1;
	sp->l[node] = sl;
	return &sl->link;
}

/* soft_ok() - no contract was broken on @sl; prints the counters. */
static bool soft_ok(const struct soft_link *sl, const char *who)
{
	const struct soft_counts *c = &sl->c;

	fprintf(stderr,
		"  %s: frames %llu tso %llu segs %llu partial %llu full %llu data %llu refused %llu held %llu dropped_tso %llu nobuf %llu\n",
		who, (unsigned long long)c->frames, (unsigned long long)c->tso,
		(unsigned long long)c->segs, (unsigned long long)c->partial,
		(unsigned long long)c->full, (unsigned long long)c->data,
		(unsigned long long)c->refused, (unsigned long long)c->held,
		(unsigned long long)c->dropped_tso,
		(unsigned long long)c->nobuf);
	if (c->pseudo_bad || c->sum_bad || c->cut_bad || c->contract_bad ||
	    c->iphdr_bad || c->self)
		fprintf(stderr,
			"  %s: pseudo_bad %llu sum_bad %llu cut_bad %llu contract_bad %llu iphdr_bad %llu self %llu\n",
			who, (unsigned long long)c->pseudo_bad,
			(unsigned long long)c->sum_bad,
			(unsigned long long)c->cut_bad,
			(unsigned long long)c->contract_bad,
			(unsigned long long)c->iphdr_bad,
			(unsigned long long)c->self);
	return !c->pseudo_bad && !c->sum_bad && !c->cut_bad &&
	       !c->contract_bad && !c->iphdr_bad && !c->self;
}

static struct bstack *tbs(struct tnode *n)
{
	return (struct bstack *)(void *)n->st;
}

/* ---- bulk ---- */

struct tbulk {
	struct tflow f[2];
};

static bool tstep_bulk(struct tnet *net, void *ctx)
{
	struct tbulk *b = ctx;

	(void)net;
	tflow_step(&b->f[0]);
	tflow_step(&b->f[1]);
	return b->f[0].eof && b->f[1].eof;
}

/* tbulk_run() - @bytes each way over a fresh connection with @step. */
static void tbulk_run(struct tnet *net, uint16_t port, uint64_t bytes,
		      uint64_t max_ms, tstep_fn *step, void *ctx,
		      struct tbulk *b)
{
	struct tconn p;

	tconn_open(net, &p, port);
	memset(b, 0, sizeof(*b));
	b->f[0] = (struct tflow){ .tx = p.c, .rx = p.s, .total = bytes };
	b->f[1] = (struct tflow){
		.tx = p.s, .rx = p.c, .total = bytes, .dir = 1
	};
	CHECK(tnet_loop(net, step ? step : tstep_bulk, ctx ? ctx : b, max_ms));
	CHECK(!b->f[0].bad && !b->f[1].bad);
	CHECK(b->f[0].got == bytes && b->f[1].got == bytes);
	if (b->f[0].got != bytes || b->f[1].got != bytes)
		fprintf(stderr, "  got %llu / %llu of %llu\n",
			(unsigned long long)b->f[0].got,
			(unsigned long long)b->f[1].got,
			(unsigned long long)bytes);
	tclose(&net->a, p.c);
	tclose(&net->b, p.s);
	tclose(&net->b, p.l);
}

/*
 * The stacks saw the offloads and sized a TSO pool for 64 KiB frames; a
 * handshake's frames are all checksum-partial and right.
 */
static void test_offloads_taken(void)
{
	struct soft_pair sp = { 0 };
	struct topts o = { .wrap = soft_wrap, .wrap_ctx = &sp };
	struct cove_sock *c;
	struct tnet net;

	tnet_up(&net, &o);
	CHECK(tbs(&net.a)->tx_csum && tbs(&net.b)->tx_csum);
	CHECK(tbs(&net.a)->tso_room == 65535 - 20);
	CHECK(tbs(&net.a)->tso_pool.count == 32);
	CHECK(tbs(&net.a)->tso_pool.buf_size >= SOFT_TSO_MAX);
	(void)tlisten(&net.b, 80, 4);
	c = tconnect(&net.a, "10.0.0.2", 80);
	tadvance(&net, 1000);
	CHECK(tstate(c) == TCPS_ESTABLISHED);
	CHECK(soft_ok(sp.l[0], "A") && soft_ok(sp.l[1], "B"));
	CHECK(sp.l[0]->c.partial >= 2 && sp.l[1]->c.partial >= 1);
	CHECK(sp.l[0]->c.full == 0 && sp.l[1]->c.full == 0);
	tnet_down(&net);
}

/* 16 MiB each way: super-frames, cut right, every byte where it belongs. */
static void test_bulk(void)
{
	struct soft_pair sp = { 0 };
	struct topts o = { .wrap = soft_wrap, .wrap_ctx = &sp };
	struct cove_stack_stats sa, sb;
	struct tnet net;
	struct tbulk b;
	unsigned i;

	tnet_up(&net, &o);
	tbulk_run(&net, 80, 16 * MiB, 120000, NULL, NULL, &b);
	sa = tstats(&net.a);
	sb = tstats(&net.b);
	for (i = 0; i < 2; i++) {
		const struct soft_counts *c = &sp.l[i]->c;

		CHECK(soft_ok(sp.l[i], i ? "B" : "A"));
		CHECK(c->tso > 100);
		CHECK(c->segs >= 16 * MiB / 1448);
		CHECK(c->segs > 20 * c->tso); /* ~45 a frame */
		CHECK(c->partial > 0);
		CHECK(c->nobuf == 0 && c->refused == 0);
	}
	/* MTU frames on the wire, counted as segments by the stack */
	CHECK(sa.tcp_out_segs >= sp.l[0]->c.segs);
	CHECK(sa.tx_frames < sa.tcp_out_segs / 10);
	CHECK(sa.tx_dropped == 0 && sb.tx_dropped == 0);
	CHECK(sb.rx_bad_csum == 0 && sa.rx_bad_csum == 0);
	CHECK(sa.tcp_retransmits == 0);
	tnet_down(&net);
}

/*
 * Under loss, duplicates and reordering of the pieces (the shim sits
 * below the soft link), and with every 16th super-frame lost whole.
 */
static void test_bulk_impaired(void)
{
	struct soft_pair sp = { 0 };
	struct topts o = { .impair = "drop=2,dup=1,reorder=2,seed=7",
			   .wrap = soft_wrap,
			   .wrap_ctx = &sp };
	struct cove_stack_stats sa, sb;
	struct tnet net;
	struct tbulk b;
	unsigned i;

	tnet_up(&net, &o);
	sp.l[0]->drop_tso = 16;
	sp.l[1]->drop_tso = 16;
	tbulk_run(&net, 80, 16 * MiB, 600000, NULL, NULL, &b);
	sa = tstats(&net.a);
	sb = tstats(&net.b);
	for (i = 0; i < 2; i++) {
		CHECK(soft_ok(sp.l[i], i ? "B" : "A"));
		CHECK(sp.l[i]->c.dropped_tso > 0);
		CHECK(sp.l[i]->c.segs > 2 * sp.l[i]->c.tso);
	}
	CHECK(net.a.shim->stats.tx_dropped > 0); /* pieces lost too */
	CHECK(sa.tcp_retransmits > 0 && sb.tcp_retransmits > 0);
	CHECK(tctx(&net.a)->sack_recoveries > 0 &&
	      tctx(&net.b)->sack_recoveries > 0);
	CHECK(sa.tcp_ooo_segments + sb.tcp_ooo_segments > 0);
	CHECK(sa.rx_bad_csum == 0 && sb.rx_bad_csum == 0);
	tnet_down(&net);
}

/* ---- small writes, loopback ---- */

static bool tstep_flow(struct tnet *net, void *ctx)
{
	struct tflow *f = ctx;

	(void)net;
	tflow_step(f);
	return f->eof;
}

static bool tstep_echo(struct tnet *net, void *ctx)
{
	struct cove_sock *s = ctx;
	char buf[64];

	(void)net;
	return trecv(s, buf, sizeof(buf), MSG_PEEK) > 0;
}

/*
 * TCP_NODELAY writes of a few bytes never make a super-frame, but their
 * checksums are left to the link; a connection to our own address never
 * reaches the link at all, not even for 1 MiB.
 */
static void test_small_and_loopback(void)
{
	struct soft_pair sp = { 0 };
	struct topts o = { .wrap = soft_wrap, .wrap_ctx = &sp };
	struct tnet net;
	struct tconn p;
	struct tflow f;
	struct cove_sock *l, *c, *s = NULL;
	struct soft_counts before;
	char buf[200];
	int one = 1;
	unsigned i, k;

	tnet_up(&net, &o);
	tconn_open(&net, &p, 80);
	CHECK(tops->setsockopt(p.c, IPPROTO_TCP, TCP_NODELAY, &one,
			       sizeof(one)) == 0);
	memset(buf, 'q', sizeof(buf));
	for (i = 0; i < 50; i++) {
		CHECK(tsend(p.c, buf, 100) == 100);
		CHECK(tnet_loop(&net, tstep_echo, p.s, 1000));
		CHECK(trecv(p.s, buf, sizeof(buf), 0) == 100);
	}
	for (i = 0; i < 2; i++)
		CHECK(soft_ok(sp.l[i], i ? "B" : "A"));
	CHECK(sp.l[0]->c.tso == 0 && sp.l[0]->c.segs == 0);
	CHECK(sp.l[0]->c.data >= 50);
	CHECK(sp.l[0]->c.partial >= 50);
	CHECK(sp.l[0]->c.full == 0); /* even the SYN was partial */
	CHECK(tstats(&net.b).rx_bad_csum == 0);

	before = sp.l[0]->c;
	l = tlisten(&net.a, 81, 4);
	c = tconnect(&net.a, "10.0.0.1", 81);
	for (k = 0; k < 100 && !s; k++) {
		tadvance(&net, 1);
		s = taccept(&net.a, l);
	}
	REQUIRE(s);
	f = (struct tflow){ .tx = c, .rx = s, .total = MiB };
	CHECK(tnet_loop(&net, tstep_flow, &f, 60000));
	CHECK(f.got == MiB && !f.bad);
	CHECK(soft_ok(sp.l[0], "A"));
	CHECK(sp.l[0]->c.frames == before.frames);
	CHECK(sp.l[0]->c.self == 0);
	/* not even a super-frame that goes round the loop whole */
	CHECK(tbs(&net.a)->tso_pool.low_water == tbs(&net.a)->tso_pool.count);
	CHECK(tstats(&net.a).rx_bad_csum == 0);
	tnet_down(&net);
}

/* ---- receive ---- */

/*
 * A frame the link vouches for (COVE_FRAME_F_CSUM_OK) is not summed again:
 * B takes TCP frames with spoiled checksums when they carry the flag, and
 * drops them (rx_bad_csum) when they do not.
 */
static void test_rx_csum_ok(void)
{
	struct soft_pair sp = { 0 };
	struct topts o = { .wrap = soft_wrap, .wrap_ctx = &sp };
	struct cove_sock *c;
	struct tnet net;
	struct tbulk b;

	tnet_up(&net, &o);
	sp.l[1]->rx_mangle = sp.l[1]->rx_vouch = true;
	tbulk_run(&net, 80, MiB, 60000, NULL, NULL, &b);
	CHECK(sp.l[1]->c.mangled > MiB / 1448);
	CHECK(tstats(&net.b).rx_bad_csum == 0);
	tnet_down(&net);

	tnet_up(&net, &o);
	sp.l[1]->rx_mangle = true;
	(void)tlisten(&net.b, 80, 4);
	c = tconnect(&net.a, "10.0.0.2", 80);
	tadvance(&net, 2000);
	CHECK(tstate(c) == TCPS_SYN_SENT);
	CHECK(tstats(&net.b).rx_bad_csum == sp.l[1]->c.mangled);
	CHECK(sp.l[1]->c.mangled >= 2);
	tnet_down(&net);
}

/* ---- a device that stalls ---- */

struct texhaust {
	struct tbulk b;
	struct soft_link *sl;
	unsigned phase;
	uint64_t mark;	      /* bytes A->B when the phase began */
	uint64_t data0, tso0; /* soft counters then */
	uint64_t dropped0;    /* A's tx_dropped then */
	uint64_t fallback;    /* data frames while the pool was dry */
	bool dry;	      /* A's TSO pool was seen empty */
};

/*
 * tstep_exhaust() - the bulk transfer, with A's device misbehaving:
 * phase 1 keeps every super-frame (the TSO pool runs dry; MTU frames must
 * carry on), phase 2 gives them back (stale by now) and refuses every
 * frame until the stack has dropped a few, phase 3 takes one frame a call
 * (the stack's flush drops the rest), phase 4 is healthy again.
 */
static bool tstep_exhaust(struct tnet *net, void *ctx)
{
	struct texhaust *x = ctx;
	struct soft_link *sl = x->sl;
	uint64_t got = x->b.f[0].got;

	switch (x->phase) {
	case 0:
		if (got >= 2 * MiB) {
			sl->hold_tso = true;
			x->mark = got;
			x->data0 = sl->c.data;
			x->phase = 1;
		}
		break;
	case 1:
		if (!tbs(&net->a)->tso_pool.nfree)
			x->dry = true;
		if (x->dry && got >= x->mark + 2 * MiB) {
			x->fallback = sl->c.data - x->data0;
			sl->hold_tso = false;
			sl->accept_max = 0;
			x->dropped0 = tstats(&net->a).tx_dropped;
			x->phase = 2;
		}
		break;
	case 2:
		if (tstats(&net->a).tx_dropped >= x->dropped0 + 5) {
			sl->accept_max = 1;
			x->mark = got;
			x->phase = 3;
		}
		break;
	case 3:
		if (got >= x->mark + 2 * MiB) {
			sl->accept_max = -1;
			x->tso0 = sl->c.tso;
			x->phase = 4;
		}
		break;
	}
	return tstep_bulk(net, &x->b);
}

/* The TSO pool runs dry and the device refuses frames: nothing is lost. */
static void test_exhaustion(void)
{
	struct soft_pair sp = { 0 };
	struct topts o = { .wrap = soft_wrap, .wrap_ctx = &sp };
	struct texhaust x;
	struct cove_stack_stats sa;
	struct tnet net;

	tnet_up(&net, &o);
	memset(&x, 0, sizeof(x));
	x.sl = sp.l[0];
	tbulk_run(&net, 80, 12 * MiB, 600000, tstep_exhaust, &x, &x.b);
	sa = tstats(&net.a);
	fprintf(stderr, "  phase %u fallback %llu tx_dropped %llu retx %llu\n",
		x.phase, (unsigned long long)x.fallback,
		(unsigned long long)sa.tx_dropped,
		(unsigned long long)sa.tcp_retransmits);
	CHECK(x.phase == 4);
	CHECK(x.dry);
	CHECK(tbs(&net.a)->tso_pool.low_water == 0);
	CHECK(x.sl->c.held >= 32);
	CHECK(x.fallback > MiB / 1448); /* MTU frames carried it */
	CHECK(x.sl->c.refused > 0 && sa.tx_dropped > 0);
	CHECK(x.sl->c.tso > x.tso0); /* super-frames came back */
	CHECK(soft_ok(sp.l[0], "A") && soft_ok(sp.l[1], "B"));
	tnet_down(&net);
}

/*
 * Data and FIN both queued behind a closed window, then the window opens:
 * the send loop asks for the whole rest, FIN included, and tcp_xmit()
 * cuts it to one super-frame. That frame must not carry the FIN, or B
 * ends the stream early. B's ring is filled to about 100 bytes short, so
 * the next 65,300 bytes wait for the window, with at most a few hundred
 * bytes before them: more than a super-frame's 45 x 1,448 and less than
 * one send loop's 64 KiB span.
 */
static uint32_t ring_len(struct cove_sock *s)
{
	return tcb_of((struct bsock *)(void *)s)->rb_len;
}

static void test_fin_after_trim(void)
{
	struct soft_pair sp = { 0 };
	struct topts o = { .wrap = soft_wrap, .wrap_ctx = &sp };
	static uint8_t buf[256 * 1024];
	uint64_t first = TCP_BUF_DEFAULT - 100, want = first + 65300, got = 0;
	struct tnet net;
	struct tconn p;
	ssize_t n;

	tnet_up(&net, &o);
	tconn_open(&net, &p, 81);
	memset(buf, 0x5a, sizeof(buf));
	/* fill B's ring: every byte sent and held there, its window shut */
	CHECK(tsend(p.c, buf, first) == (ssize_t)first);
	for (n = 0; n < 100 && ring_len(p.s) < first - 1448; n++)
		tadvance(&net, 10); /* sender SWS may keep a few bytes */
	CHECK(tsend(p.c, buf, 65300) == 65300);
	CHECK(tops->shutdown(p.c, SHUT_WR) == 0);
	tadvance(&net, 50);
	for (;;) {
		n = trecv(p.s, buf, sizeof(buf), 0);
		if (n > 0) {
			got += (uint64_t)n;
			continue;
		}
		if (n == 0)
			break;
		tnet_pump(&net);
		tadvance(&net, 1);
	}
	CHECK(got == want);
	if (got != want)
		fprintf(stderr, "  got %llu of %llu before EOF\n",
			(unsigned long long)got, (unsigned long long)want);
	CHECK(soft_ok(sp.l[0], "A"));
	tnet_down(&net);
}

int main(void)
{
	RUN(test_offloads_taken);
	RUN(test_bulk);
	RUN(test_bulk_impaired);
	RUN(test_small_and_loopback);
	RUN(test_rx_csum_ok);
	RUN(test_exhaustion);
	RUN(test_fin_after_trim);
	return check_summary();
}
