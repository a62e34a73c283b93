/* SPDX-License-Identifier: Apache-2.0 */
/* Harness for builtin TCP tests that play the peer with crafted segments. */
#ifndef COVE_TESTS_BUILTIN_RAW_H
#define COVE_TESTS_BUILTIN_RAW_H

#include "common/bytes.h"
#include "tests/unit/test_builtin_tcp.h"

/*
 * Only instance A runs; the test is the peer 10.0.0.2 on B's end of the
 * mem link. raw_send() builds Ethernet + IPv4 + TCP by hand and hands it to
 * A's input(); raw_recv() reads the next TCP segment A sent (ARP is
 * skipped: A learned our MAC from the ARP request raw_up() sends).
 * raw_build() builds a frame for any addresses, for tests that forge
 * segments from elsewhere (spoofed sources).
 */

#define PEER_PORT 40000

struct raw {
	struct tnet net;
	uint8_t peer_mac[6];
	uint32_t seq; /* our next sequence number */
	uint32_t ack; /* what we acknowledge (A's next) */
};

struct rseg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint32_t len;
	struct tcp_opts opt;
	uint8_t data[2048];
};

static inline uint16_t raw_csum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* raw_inject() - inject a frame of @len bytes (already built) into A. */
static inline void raw_inject(struct raw *r, const uint8_t *buf, uint32_t len)
{
	struct cove_frame *f = cove_frame_alloc(&r->net.a.pool);

	REQUIRE(f);
	memcpy(f->data, buf, len);
	f->len = len;
	tops->input(r->net.a.st, &f, 1);
	tops->run(r->net.a.st, tnet_now);
}

/* A TCP segment to build (addresses in network order, the rest host). */
struct rbuild {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	const uint8_t *opt; /* raw option bytes (padded with zeros to 4) */
	unsigned optlen;
	const void *data;
	uint32_t len;
	bool bad_csum; /* corrupt the TCP checksum */
};

/**
 * raw_build() - Ethernet + IPv4 + TCP frame for @x into @b
 * @b:		room for 1600 bytes
 * @dmac:	destination MAC
 * @smac:	source MAC
 * @x:		the segment
 *
 * Return: the frame's length.
 */
static inline uint32_t raw_build(uint8_t *b, const uint8_t *dmac,
				 const uint8_t *smac, const struct rbuild *x)
{
	uint8_t ph[12];
	uint8_t *ip = b + 14, *th = b + 34;
	uint32_t optlen = (x->optlen + 3) & ~3u;
	uint32_t tl = 20 + optlen + x->len, sum = 0;
	uint16_t c;
	size_t i;

	memset(b, 0, 34 + tl);
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	b[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + tl) >> 8);
	ip[3] = (uint8_t)(20 + tl);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &x->src, 4);
	memcpy(ip + 16, &x->dst, 4);
	c = raw_csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	cove_put16(th, x->sport);
	cove_put16(th + 2, x->dport);
	cove_put32(th + 4, x->seq);
	cove_put32(th + 8, x->ack);
	th[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	th[13] = x->flags;
	th[14] = 0xff;
	th[15] = 0xff;
	if (x->optlen)
		memcpy(th + 20, x->opt, x->optlen);
	if (x->len)
		memcpy(th + 20 + optlen, x->data, x->len);
	memcpy(ph, &x->src, 4);
	memcpy(ph + 4, &x->dst, 4);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)(tl >> 8);
	ph[11] = (uint8_t)tl;
	for (i = 0; i < 12; i += 2)
		sum += (uint32_t)(ph[i] << 8 | ph[i + 1]);
	c = raw_csum(th, tl, sum);
	if (x->bad_csum)
		c ^= 0x1234;
	th[16] = (uint8_t)(c >> 8);
	th[17] = (uint8_t)c;
	return 34 + tl;
}

/**
 * raw_send_full() - a TCP segment from 10.0.0.2:@sport to 10.0.0.1:@dport
 * @r:		set-up
 * @sport:	our port
 * @dport:	A's port
 * @flags:	TH_*
 * @seq:	sequence number
 * @ack:	acknowledgment number
 * @opt:	raw option bytes (a multiple of 4 unless testing malformed)
 * @optlen:	their length
 * @data:	payload
 * @len:	payload length
 * @bad_csum:	corrupt the checksum
 */
static inline void raw_send_full(struct raw *r, uint16_t sport, uint16_t dport,
				 uint8_t flags, uint32_t seq, uint32_t ack,
				 const uint8_t *opt, unsigned optlen,
				 const void *data, uint32_t len, bool bad_csum)
{
	const struct rbuild x = {
		.src = tip("10.0.0.2"),
		.dst = tip("10.0.0.1"),
		.sport = sport,
		.dport = dport,
		.seq = seq,
		.ack = ack,
		.flags = flags,
		.opt = opt,
		.optlen = optlen,
		.data = data,
		.len = len,
		.bad_csum = bad_csum,
	};
	uint8_t b[1600];

	raw_inject(r, b,
		   raw_build(b, ((struct bstack *)(void *)r->net.a.st)->mac,
			     r->peer_mac, &x));
}

static inline void raw_send(struct raw *r, uint16_t dport, uint8_t flags,
			    const void *data, uint32_t len)
{
	raw_send_full(r, PEER_PORT, dport, flags, r->seq, r->ack, NULL, 0, data,
		      len, false);
	r->seq += len + !!(flags & (TH_SYN)) + !!(flags & TH_FIN);
}

/* raw_recv() - the next TCP segment A sent, false if none. */
static inline bool raw_recv(struct raw *r, struct rseg *s)
{
	struct cove_frame *f;
	const uint8_t *th;
	uint32_t hl, tl;

	tops->run(r->net.a.st, tnet_now);
	while (cove_link_rx_burst(r->net.b.link, &f, 1) == 1) {
		if (f->len < 54 || f->data[12] != 0x08 || f->data[13] != 0 ||
		    f->data[23] != 6) {
			cove_frame_free(f);
			continue;
		}
		th = f->data + 34;
		tl = (uint32_t)(f->data[16] << 8 | f->data[17]) - 20;
		hl = (uint32_t)(th[12] >> 4) * 4;
		memset(s, 0, sizeof(*s));
		s->sport = (uint16_t)(th[0] << 8 | th[1]);
		s->dport = (uint16_t)(th[2] << 8 | th[3]);
		s->seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 |
			 (uint32_t)th[6] << 8 | th[7];
		s->ack = (uint32_t)th[8] << 24 | (uint32_t)th[9] << 16 |
			 (uint32_t)th[10] << 8 | th[11];
		s->flags = th[13];
		s->wnd = (uint16_t)(th[14] << 8 | th[15]);
		s->len = tl - hl;
		CHECK(tcp_parse_opts(th + 20, hl - 20, th[13] & TH_SYN,
				     &s->opt) == 0);
		if (s->len <= sizeof(s->data))
			memcpy(s->data, th + hl, s->len);
		cove_frame_free(f);
		return true;
	}
	return false;
}

static inline void raw_drain(struct raw *r)
{
	struct rseg s;

	while (raw_recv(r, &s))
		;
}

/* raw_arp() - an ARP request from the peer: A learns (again) our MAC. */
static inline void raw_arp(struct raw *r)
{
	uint8_t b[60];
	uint32_t src = tip("10.0.0.2"), dst = tip("10.0.0.1");

	memset(b, 0, sizeof(b));
	memset(b, 0xff, 6);
	memcpy(b + 6, r->peer_mac, 6);
	b[12] = 0x08;
	b[13] = 0x06;
	b[15] = 1;
	b[16] = 0x08;
	b[18] = 6;
	b[19] = 4;
	b[21] = 1;
	memcpy(b + 22, r->peer_mac, 6);
	memcpy(b + 28, &src, 4);
	memcpy(b + 38, &dst, 4);
	raw_inject(r, b, 60);
	raw_drain(r);
}

static inline void raw_up(struct raw *r)
{
	memset(r, 0, sizeof(*r));
	memset(&r->net, 0, sizeof(r->net));
	tops = cove_stack_find("builtin");
	REQUIRE(tops);
	REQUIRE(!cove_frame_pool_init(&r->net.a.pool, 256,
				      COVE_FRAME_DEFAULT_SIZE));
	REQUIRE(!cove_frame_pool_init(&r->net.b.pool, 256,
				      COVE_FRAME_DEFAULT_SIZE));
	REQUIRE(!cove_link_mem_pair(&r->net.a.pool, &r->net.b.pool,
				    &r->net.a.link, &r->net.b.link));
	tnode_create(&r->net.a, "10.0.0.1", NULL);
	memcpy(r->peer_mac, r->net.b.link->mac, 6);
	raw_arp(r);
	r->seq = 1000000;
}

/* raw_advance() - fake time passes for A alone. */
static inline void raw_advance(struct raw *r, uint64_t ms)
{
	uint64_t end = tnet_now + ms * 1000000ull, d;

	while (tnet_now < end) {
		d = tops->run(r->net.a.st, tnet_now);
		if (d > end)
			d = end;
		tnet_now = d > tnet_now ? d : tnet_now + 1000000;
	}
	tops->run(r->net.a.st, tnet_now);
}

static inline void raw_down(struct raw *r)
{
	struct cove_stack_stats s;
	unsigned k;

	for (k = 0; k < TNET_MAX_SOCKS; k++)
		if (r->net.a.open[k])
			tclose(&r->net.a, r->net.a.open[k]);
	/* past the orphan retries of a connection with no RTT sample yet */
	for (k = 0; k < 60; k++) {
		raw_advance(r, 10000);
		raw_drain(r);
	}
	s = tstats(&r->net.a);
	CHECK(s.tcp_conns == 0 && s.sockets == 0 && s.mem_bytes == 0);
	tops->destroy(r->net.a.st);
	cove_link_close(r->net.a.link);
	cove_link_close(r->net.b.link);
	CHECK(cove_frame_pool_fini(&r->net.a.pool) == 0);
	CHECK(cove_frame_pool_fini(&r->net.b.pool) == 0);
}

/* raw_ctx() - instance A's TCP context. */
static inline struct tcp_ctx *raw_ctx(struct raw *r)
{
	return ((struct bstack *)(void *)r->net.a.st)->tcp;
}

#endif /* COVE_TESTS_BUILTIN_RAW_H */
