// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the in-memory link pair: bytes, counts, backpressure, pools. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "cove/link.h"
#include "tests/unit/check.h"

/* mk() - a frame of @len bytes from @pool whose bytes encode @seq. */
static struct cove_frame *mk(struct cove_frame_pool *pool, uint32_t seq,
			     uint32_t len)
{
	struct cove_frame *f = cove_frame_alloc(pool);
	uint32_t i;

	if (!f)
		return NULL;
	for (i = 0; i < len; i++)
		f->data[i] = (uint8_t)(seq * 7 + i);
	memcpy(f->data + 14, &seq, sizeof(seq));
	f->len = len;
	return f;
}

/* ok_frame() - @f has the bytes mk(seq, len) made. */
static int ok_frame(const struct cove_frame *f, uint32_t seq, uint32_t len)
{
	uint32_t i, s;

	if (f->len != len)
		return 0;
	memcpy(&s, f->data + 14, sizeof(s));
	if (s != seq)
		return 0;
	for (i = 0; i < len; i++)
		if ((i < 14 || i >= 18) && f->data[i] != (uint8_t)(seq * 7 + i))
			return 0;
	return 1;
}

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_pair_basics(void)
{
	struct cove_frame_pool pa, pb;
	struct cove_link *a, *b;
	struct cove_frame *f[64];
	unsigned i, n;

	REQUIRE(cove_frame_pool_init(&pa, 256, 1536) == 0);
	REQUIRE(cove_frame_pool_init(&pb, 256, 1536) == 0);
	REQUIRE(cove_link_mem_pair(&pa, &pb, &a, &b) == 0);
	CHECK(a->mtu == 1500 && b->mtu == 1500);
	CHECK(memcmp(a->mac, b->mac, 6) != 0);
	CHECK((a->mac[0] & 0x03) == 0x02 && (b->mac[0] & 0x03) == 0x02);
	CHECK(a->fd >= 0 && b->fd >= 0);
	CHECK(!readable(b->fd));
	CHECK(cove_link_rx_burst(b, f, 64) == 0);

	for (i = 0; i < 50; i++)
		f[i] = mk(&pa, i, 60 + i * 29);
	CHECK(cove_link_tx_burst(a, f, 50) == 50);
	CHECK(pa.nfree == 256); /* originals freed on accept */
	CHECK(readable(b->fd));
	CHECK(!readable(a->fd));
	n = cove_link_rx_burst(b, f, 20);
	CHECK(n == 20);
	CHECK(readable(b->fd)); /* 30 still waiting */
	for (i = 0; i < n; i++) {
		CHECK(f[i]->pool == &pb);
		CHECK(ok_frame(f[i], i, 60 + i * 29));
		cove_frame_free(f[i]);
	}
	n = cove_link_rx_burst(b, f, 64);
	CHECK(n == 30);
	for (i = 0; i < n; i++) {
		CHECK(ok_frame(f[i], 20 + i, 60 + (20 + i) * 29));
		cove_frame_free(f[i]);
	}
	CHECK(!readable(b->fd));
	CHECK(a->stats.tx_frames == 50 && b->stats.rx_frames == 50);
	CHECK(a->stats.tx_bytes == b->stats.rx_bytes);

	/* And the other way. */
	f[0] = mk(&pb, 99, 1514);
	CHECK(cove_link_tx_burst(b, f, 1) == 1);
	CHECK(cove_link_rx_burst(a, f, 4) == 1);
	CHECK(ok_frame(f[0], 99, 1514) && f[0]->pool == &pa);
	cove_frame_free(f[0]);

	cove_link_close(a);
	cove_link_close(b);
	CHECK(cove_frame_pool_fini(&pa) == 0);
	CHECK(cove_frame_pool_fini(&pb) == 0);
}

/* A full queue refuses frames (the caller keeps them); an empty pool drops. */
static void test_pair_limits(void)
{
	struct cove_frame_pool pa, pb;
	struct cove_link *a, *b;
	struct cove_frame *f[1];
	unsigned sent = 0, refused = 0, i;

	REQUIRE(cove_frame_pool_init(&pa, 16, 2048) == 0);
	REQUIRE(cove_frame_pool_init(&pb, 2048, 256) == 0);
	REQUIRE(cove_link_mem_pair(&pa, &pb, &a, &b) == 0);
	for (i = 0; i < 1100; i++) {
		f[0] = mk(&pa, i, 64);
		REQUIRE(f[0]);
		if (cove_link_tx_burst(a, f, 1) == 1) {
			sent++;
		} else {
			refused++;
			cove_frame_free(f[0]); /* still ours */
		}
	}
	CHECK(sent == 1024 && refused == 76);
	CHECK(pb.nfree == 2048 - 1024);

	/* Larger than b's buffers: accepted and dropped by the sender. */
	f[0] = mk(&pa, 1, 300);
	{
		struct cove_frame *g[1024];
		unsigned n = cove_link_rx_burst(b, g, 1024);

		CHECK(n == 1024);
		for (i = 0; i < n; i++)
			cove_frame_free(g[i]);
	}
	CHECK(cove_link_tx_burst(a, f, 1) == 1);
	CHECK(a->stats.tx_dropped == 1);

	/* Frames left queued at close go back to their pool. */
	for (i = 0; i < 10; i++) {
		f[0] = mk(&pa, i, 64);
		CHECK(cove_link_tx_burst(a, f, 1) == 1);
	}
	CHECK(pb.nfree == 2048 - 10);
	cove_link_close(b);
	CHECK(pb.nfree == 2048);
	/* The peer is gone: a's frames are accepted and dropped. */
	f[0] = mk(&pa, 1, 64);
	CHECK(cove_link_tx_burst(a, f, 1) == 1);
	CHECK(a->stats.tx_dropped == 2);
	cove_link_close(a);
	CHECK(cove_frame_pool_fini(&pa) == 0);
	CHECK(cove_frame_pool_fini(&pb) == 0);
}

/* An empty receiving pool: accepted, counted as the receiver's rx_dropped. */
static void test_pair_pool_empty(void)
{
	struct cove_frame_pool pa, pb;
	struct cove_link *a, *b;
	struct cove_frame *f[8], *g[8];
	unsigned i;

	REQUIRE(cove_frame_pool_init(&pa, 8, 1536) == 0);
	REQUIRE(cove_frame_pool_init(&pb, 4, 1536) == 0);
	REQUIRE(cove_link_mem_pair(&pa, &pb, &a, &b) == 0);
	for (i = 0; i < 8; i++)
		f[i] = mk(&pa, i, 100);
	CHECK(cove_link_tx_burst(a, f, 8) == 8);
	CHECK(b->stats.rx_dropped == 4);
	CHECK(cove_link_rx_burst(b, g, 8) == 4);
	for (i = 0; i < 4; i++) {
		CHECK(ok_frame(g[i], i, 100));
		cove_frame_free(g[i]);
	}
	cove_link_close(a);
	cove_link_close(b);
	CHECK(cove_frame_pool_fini(&pa) == 0);
	CHECK(cove_frame_pool_fini(&pb) == 0);
}

/* Not a "kind:arg" link; the registry says so clearly. */
static void test_not_registered(void)
{
	struct cove_frame_pool p;
	struct cove_link *l = NULL;
	struct cove_err err = { 0 };

	REQUIRE(cove_frame_pool_init(&p, 4, 1536) == 0);
	CHECK(cove_link_open("mem:x", &p, &l, &err) < 0);
	CHECK(strstr(err.msg, "unknown link kind") != NULL);
	CHECK(cove_frame_pool_fini(&p) == 0);
}

int main(void)
{
	RUN(test_pair_basics);
	RUN(test_pair_limits);
	RUN(test_pair_pool_empty);
	RUN(test_not_registered);
	return check_summary();
}
