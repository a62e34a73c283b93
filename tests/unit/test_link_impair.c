// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the impairment shim: spec parser and effects with fixed seeds. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "cove/link.h"
#include "tests/unit/check.h"

#define NFRAMES 10000u

static void test_parse_good(void)
{
	struct cove_impair_spec s;
	struct cove_err err = { 0 };

	CHECK(cove_impair_parse("", &s, &err) == 0);
	CHECK(s.drop == 0 && s.dup == 0 && s.reorder == 0 && s.corrupt == 0);
	CHECK(s.delay_us == 0 && s.jitter_us == 0 && s.seed == 1);
	CHECK(cove_impair_parse("drop=2", &s, &err) == 0);
	CHECK(s.drop > 0.0199 && s.drop < 0.0201);
	CHECK(cove_impair_parse(
		      "drop=0.5,dup=1,reorder=2,corrupt=100,delay=20:5,seed=7",
		      &s, &err) == 0);
	CHECK(s.drop > 0.00499 && s.drop < 0.00501);
	CHECK(s.dup > 0.00999 && s.dup < 0.01001);
	CHECK(s.reorder > 0.0199 && s.reorder < 0.0201);
	CHECK(s.corrupt == 1.0);
	CHECK(s.delay_us == 20000 && s.jitter_us == 5000 && s.seed == 7);
	CHECK(cove_impair_parse("delay=0.5", &s, &err) == 0);
	CHECK(s.delay_us == 500 && s.jitter_us == 0);
	CHECK(cove_impair_parse("seed=18446744073709551615,drop=0", &s, &err) ==
	      0);
	CHECK(s.seed == UINT64_MAX && s.drop == 0);
	CHECK(cove_impair_parse("dup=100.", &s, &err) == 0 && s.dup == 1.0);
}

/* bad() - @text fails to parse with a message containing @word. */
static bool bad(const char *text, const char *word)
{
	struct cove_impair_spec s = { .seed = 42 };
	struct cove_err err = { 0 };

	if (cove_impair_parse(text, &s, &err) == 0)
		return false;
	if (!strstr(err.msg, word) || strchr(err.msg, '\n') || s.seed != 42) {
		fprintf(stderr, "  spec '%s' -> '%s'\n", text, err.msg);
		return false;
	}
	return true;
}

static void test_parse_bad(void)
{
	CHECK(bad("drop", "KEY=VALUE"));
	CHECK(bad("drop=", "not a percentage"));
	CHECK(bad("drop=abc", "'abc' is not a percentage"));
	CHECK(bad("drop=1e3", "not a percentage"));
	CHECK(bad("drop=-1", "not a percentage"));
	CHECK(bad("drop=1..2", "not a percentage"));
	CHECK(bad("drop=.", "not a percentage"));
	CHECK(bad("drop= 1", "not a percentage"));
	CHECK(bad("drop=101", "between 0 and 100"));
	CHECK(bad("corrupt=100.01", "between 0 and 100"));
	CHECK(bad("loss=1", "unknown key 'loss'"));
	CHECK(bad("drop=1,drop=2", "twice"));
	CHECK(bad("drop=1,", "ends with a comma"));
	CHECK(bad(",drop=1", "KEY=VALUE"));
	CHECK(bad("delay=60001", "60000"));
	CHECK(bad("delay=5:x", "milliseconds"));
	CHECK(bad("delay=:5", "milliseconds"));
	CHECK(bad("delay=5:", "milliseconds"));
	CHECK(bad("seed=-1", "seed must be"));
	CHECK(bad("seed=18446744073709551616", "seed must be"));
	CHECK(bad("seed=", "seed must be"));
}

/* A mem pair with a shim on a's side: everything a sends is impaired. */
struct rig {
	struct cove_frame_pool pa, pb;
	struct cove_link *a, *b, *inner;
	uint32_t got[3 * NFRAMES]; /* sequence numbers in arrival order */
	uint32_t ngot;
	uint32_t changed; /* frames whose bytes differ from sent */
};

static void rig_init(struct rig *r, const char *spec_text)
{
	struct cove_impair_spec spec;
	struct cove_err err = { 0 };

	memset(r, 0, sizeof(*r));
	REQUIRE(cove_impair_parse(spec_text, &spec, &err) == 0);
	REQUIRE(cove_frame_pool_init(&r->pa, 4096, 1536) == 0);
	REQUIRE(cove_frame_pool_init(&r->pb, 4096, 1536) == 0);
	REQUIRE(cove_link_mem_pair(&r->pa, &r->pb, &r->inner, &r->b) == 0);
	REQUIRE(cove_link_impair(r->inner, &spec, &r->a) == 0);
	CHECK(!memcmp(r->a->mac, r->inner->mac, 6) && r->a->mtu == 1500);
	CHECK(r->a->fd == r->inner->fd);
}

/* rig_fill() - frame @seq: 200 bytes, byte i = seq + i, seq at offset 14. */
static struct cove_frame *rig_frame(struct rig *r, uint32_t seq)
{
	struct cove_frame *f = cove_frame_alloc(&r->pa);
	uint32_t i;

	REQUIRE(f);
	for (i = 0; i < 200; i++)
		f->data[i] = (uint8_t)(seq + i);
	memcpy(f->data + 14, &seq, 4);
	f->len = 200;
	return f;
}

/* rig_drain() - receive all b has, recording sequence numbers. */
static void rig_drain(struct rig *r)
{
	struct cove_frame *f[64];
	unsigned n, i, j;

	while ((n = cove_link_rx_burst(r->b, f, 64)) > 0) {
		for (i = 0; i < n; i++) {
			uint32_t seq;
			bool same = f[i]->len == 200;

			memcpy(&seq, f[i]->data + 14, 4);
			for (j = 0; same && j < 200; j++)
				if ((j < 14 || j >= 18) &&
				    f[i]->data[j] != (uint8_t)(seq + j))
					same = false;
			if (!same)
				r->changed++;
			if (r->ngot < 3 * NFRAMES)
				r->got[r->ngot++] = seq;
			cove_frame_free(f[i]);
		}
	}
}

/* rig_send() - send NFRAMES through the shim in bursts of 32 and drain b. */
static void rig_send(struct rig *r, uint32_t count)
{
	struct cove_frame *f[32];
	uint32_t seq = 0, i, k;

	while (seq < count) {
		k = count - seq < 32 ? count - seq : 32;
		for (i = 0; i < k; i++)
			f[i] = rig_frame(r, seq + i);
		CHECK(cove_link_tx_burst(r->a, f, k) == k);
		seq += k;
		rig_drain(r);
	}
}

/* rig_settle() - wait for every held or delayed frame, then drain. */
static void rig_settle(struct rig *r)
{
	uint64_t due;

	while ((due = cove_link_impair_next_ns(r->a)) != UINT64_MAX) {
		struct timespec ts = { .tv_sec = (time_t)(due / 1000000000u),
				       .tv_nsec = (long)(due % 1000000000u) };

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		cove_link_tx_burst(r->a, NULL, 0);
		rig_drain(r);
	}
	rig_drain(r);
}

/* rig_fini() - close everything; every frame must be back in its pool. */
static void rig_fini(struct rig *r)
{
	cove_link_close(r->a);
	cove_link_close(r->b);
	CHECK(cove_frame_pool_fini(&r->pa) == 0);
	CHECK(cove_frame_pool_fini(&r->pb) == 0);
}

static uint32_t inversions(const struct rig *r)
{
	uint32_t i, inv = 0;

	for (i = 1; i < r->ngot; i++)
		if (r->got[i] < r->got[i - 1])
			inv++;
	return inv;
}

static struct rig rig_a, rig_b;

static void test_drop(void)
{
	uint32_t i;

	rig_init(&rig_a, "drop=10,seed=3");
	rig_send(&rig_a, NFRAMES);
	rig_settle(&rig_a);
	/* Binomial(10000, 0.1): sd 30; 300 is ten of them. */
	CHECK(rig_a.ngot > 8700 && rig_a.ngot < 9300);
	CHECK(rig_a.a->stats.tx_dropped == NFRAMES - rig_a.ngot);
	CHECK(inversions(&rig_a) == 0 && rig_a.changed == 0);

	/* The same seed gives the same losses. */
	rig_init(&rig_b, "seed=3,drop=10");
	rig_send(&rig_b, NFRAMES);
	rig_settle(&rig_b);
	CHECK(rig_a.ngot == rig_b.ngot);
	for (i = 0; i < rig_a.ngot && i < rig_b.ngot; i++)
		if (rig_a.got[i] != rig_b.got[i])
			break;
	CHECK(i == rig_a.ngot);
	rig_fini(&rig_a);
	rig_fini(&rig_b);

	/* Another seed, other losses. */
	rig_init(&rig_a, "drop=10,seed=4");
	rig_send(&rig_a, NFRAMES);
	rig_settle(&rig_a);
	CHECK(rig_a.ngot > 8700 && rig_a.ngot < 9300);
	CHECK(rig_a.ngot != rig_b.ngot ||
	      memcmp(rig_a.got, rig_b.got, rig_a.ngot * 4) != 0);
	rig_fini(&rig_a);
}

static void test_dup(void)
{
	uint32_t i, dups = 0;

	rig_init(&rig_a, "dup=5,seed=9");
	rig_send(&rig_a, NFRAMES);
	rig_settle(&rig_a);
	for (i = 1; i < rig_a.ngot; i++)
		if (rig_a.got[i] == rig_a.got[i - 1])
			dups++;
	CHECK(rig_a.ngot == NFRAMES + dups);
	CHECK(dups > 350 && dups < 650);
	CHECK(rig_a.changed == 0 && inversions(&rig_a) == 0);
	rig_fini(&rig_a);
}

static void test_reorder(void)
{
	static uint8_t seen[NFRAMES];
	uint32_t i, inv;

	rig_init(&rig_a, "reorder=5,seed=11");
	rig_send(&rig_a, NFRAMES);
	rig_settle(&rig_a);
	CHECK(rig_a.ngot == NFRAMES); /* nothing lost, nothing extra */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < rig_a.ngot; i++)
		if (rig_a.got[i] < NFRAMES)
			seen[rig_a.got[i]]++;
	for (i = 0; i < NFRAMES; i++)
		if (seen[i] != 1)
			break;
	CHECK(i == NFRAMES);
	inv = inversions(&rig_a);
	CHECK(inv > 350 && inv < 650);
	/* Reordering swaps neighbours: a frame moves one place at most. */
	for (i = 0; i < rig_a.ngot; i++)
		if (rig_a.got[i] + 1 < i || rig_a.got[i] > i + 1)
			break;
	CHECK(i == rig_a.ngot);
	rig_fini(&rig_a);
}

static void test_corrupt(void)
{
	rig_init(&rig_a, "corrupt=100,seed=5");
	rig_send(&rig_a, 1000);
	rig_settle(&rig_a);
	CHECK(rig_a.ngot == 1000);
	/* The seq (bytes 14..17) may be hit too: count changed + odd seqs. */
	{
		uint32_t i, moved = 0;

		for (i = 0; i < rig_a.ngot; i++)
			if (rig_a.got[i] != i)
				moved++;
		CHECK(rig_a.changed + moved >= 1000 - 5);
		CHECK(rig_a.changed >= 900);
	}
	rig_fini(&rig_a);

	rig_init(&rig_a, "corrupt=0,seed=5");
	rig_send(&rig_a, 1000);
	rig_settle(&rig_a);
	CHECK(rig_a.ngot == 1000 && rig_a.changed == 0);
	rig_fini(&rig_a);
}

/* A long delay holds frames (and close frees them); a short one releases. */
static void test_delay(void)
{
	uint64_t t0, due;
	struct timespec ts;
	uint32_t i;

	rig_init(&rig_a, "delay=10000");
	rig_send(&rig_a, 100);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	CHECK(rig_a.ngot == 0);
	due = cove_link_impair_next_ns(rig_a.a);
	CHECK(due != UINT64_MAX && due > t0 && due <= t0 + 10000000000ull);
	CHECK(cove_link_tx_burst(rig_a.a, NULL, 0) == 0);
	rig_drain(&rig_a);
	CHECK(rig_a.ngot == 0);
	CHECK(rig_a.pa.nfree == 4096 - 100);
	rig_fini(&rig_a); /* held frames go back to the pool */

	rig_init(&rig_a, "delay=30:10,seed=2");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	rig_send(&rig_a, 300);
	rig_settle(&rig_a);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	CHECK((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec >=
	      t0 + 20000000u);
	CHECK(rig_a.ngot == 300);
	CHECK(inversions(&rig_a) > 0); /* jitter reorders */
	for (i = 0; i < rig_a.ngot; i++)
		CHECK(rig_a.got[i] < 300);
	CHECK(cove_link_impair_next_ns(rig_a.a) == UINT64_MAX);
	CHECK(cove_link_impair_next_ns(rig_a.b) == UINT64_MAX); /* not a shim */
	rig_fini(&rig_a);
}

/* The receive side: a shim on b impairs what b receives. */
static void test_rx_side(void)
{
	struct cove_frame_pool pa, pb;
	struct cove_impair_spec spec;
	struct cove_link *a, *b, *inner;
	struct cove_frame *f[32];
	uint32_t sent = 0, got = 0, i, n;

	REQUIRE(cove_impair_parse("drop=20,dup=10,seed=8", &spec, NULL) == 0);
	REQUIRE(cove_frame_pool_init(&pa, 64, 1536) == 0);
	REQUIRE(cove_frame_pool_init(&pb, 256, 1536) == 0);
	REQUIRE(cove_link_mem_pair(&pa, &pb, &a, &inner) == 0);
	REQUIRE(cove_link_impair(inner, &spec, &b) == 0);
	while (sent < 5000) {
		for (i = 0; i < 32; i++) {
			f[i] = cove_frame_alloc(&pa);
			REQUIRE(f[i]);
			memset(f[i]->data, 0xab, 64);
			f[i]->len = 64;
		}
		CHECK(cove_link_tx_burst(a, f, 32) == 32);
		sent += 32;
		while ((n = cove_link_rx_burst(b, f, 7)) > 0) {
			for (i = 0; i < n; i++)
				cove_frame_free(f[i]);
			got += n;
		}
	}
	/* Expect 5024 * 0.8 * 1.1 = 4421. */
	CHECK(got > 4200 && got < 4650);
	CHECK(b->stats.rx_dropped > 850 && b->stats.rx_dropped < 1150);
	CHECK(b->stats.rx_frames == got);
	cove_link_close(a);
	cove_link_close(b);
	CHECK(cove_frame_pool_fini(&pa) == 0);
	CHECK(cove_frame_pool_fini(&pb) == 0);
}

int main(void)
{
	RUN(test_parse_good);
	RUN(test_parse_bad);
	RUN(test_drop);
	RUN(test_dup);
	RUN(test_reorder);
	RUN(test_corrupt);
	RUN(test_delay);
	RUN(test_rx_side);
	return check_summary();
}
