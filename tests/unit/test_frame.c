// SPDX-License-Identifier: Apache-2.0
/* Unit tests for the frame pool. */
#include <errno.h>
#include <string.h>

#include "cove/frame.h"
#include "tests/unit/check.h"

static void test_alloc_free(void)
{
	struct cove_frame_pool pool;
	struct cove_frame *f[4], *c;
	int i;

	CHECK(cove_frame_pool_init(&pool, 4, 256) == 0);
	for (i = 0; i < 4; i++) {
		f[i] = cove_frame_alloc(&pool);
		CHECK(f[i] != NULL);
		CHECK(f[i]->len == 0 && f[i]->data == f[i]->buf);
		CHECK(f[i]->cap == 256);
	}
	CHECK(cove_frame_alloc(&pool) == NULL);
	CHECK(pool.nfree == 0 && pool.low_water == 0);
	memset(f[0]->data, 0xab, 100);
	f[0]->len = 100;
	cove_frame_free(f[1]);
	c = cove_frame_copy(&pool, f[0]);
	CHECK(c && c->len == 100 && c->data[99] == 0xab);
	cove_frame_free(c);
	for (i = 0; i < 4; i++)
		if (i != 1)
			cove_frame_free(f[i]);
	CHECK(cove_frame_pool_fini(&pool) == 0);
}

static void test_leak_reported(void)
{
	struct cove_frame_pool pool;

	CHECK(cove_frame_pool_init(&pool, 2, 128) == 0);
	CHECK(cove_frame_alloc(&pool) != NULL);
	CHECK(cove_frame_pool_fini(&pool) == 1);
	CHECK(cove_frame_pool_init(&pool, 0, 128) == -EINVAL);
}

/* Offload flags: a recycled frame starts clean, a copy keeps them. */
static void test_flags(void)
{
	struct cove_frame_pool pool, other;
	struct cove_frame *f, *c;

	CHECK(cove_frame_pool_init(&pool, 1, 256) == 0);
	CHECK(cove_frame_pool_init(&other, 1, 256) == 0);
	f = cove_frame_alloc(&pool);
	REQUIRE(f);
	CHECK(f->flags == 0 && f->gso_size == 0);
	f->flags = COVE_FRAME_F_TSO | COVE_FRAME_F_CSUM_PARTIAL;
	f->gso_size = 1448;
	f->len = 60;
	c = cove_frame_copy(&other, f);
	CHECK(c && c->flags == (COVE_FRAME_F_TSO | COVE_FRAME_F_CSUM_PARTIAL));
	CHECK(c && c->gso_size == 1448 && c->len == 60);
	cove_frame_free(c);
	cove_frame_free(f);
	f = cove_frame_alloc(&pool); /* the same buffer, recycled */
	REQUIRE(f);
	CHECK(f->flags == 0 && f->gso_size == 0 && f->len == 0);
	f->flags = COVE_FRAME_F_CSUM_OK;
	cove_frame_free(f);
	f = cove_frame_alloc(&pool);
	CHECK(f && f->flags == 0);
	cove_frame_free(f);
	CHECK(cove_frame_pool_fini(&pool) == 0);
	CHECK(cove_frame_pool_fini(&other) == 0);
}

int main(void)
{
	RUN(test_alloc_free);
	RUN(test_leak_reported);
	RUN(test_flags);
	return check_summary();
}
