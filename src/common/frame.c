// SPDX-License-Identifier: Apache-2.0
/* Fixed pools of packet buffers: allocated once, recycled through a free list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cove/frame.h"

int cove_frame_pool_init(struct cove_frame_pool *pool, uint32_t count,
			 uint32_t buf_size)
{
	uint32_t i;

	memset(pool, 0, sizeof(*pool));
	if (!count || buf_size < 64 || buf_size > (1u << 20))
		return -EINVAL;
	pool->frames = calloc(count, sizeof(*pool->frames));
	pool->mem = aligned_alloc(64, (size_t)count * buf_size);
	if (!pool->frames || !pool->mem) {
		free(pool->frames);
		free(pool->mem);
		memset(pool, 0, sizeof(*pool));
		return -ENOMEM;
	}
	pool->count = count;
	pool->buf_size = buf_size;
	for (i = count; i-- > 0;) {
		struct cove_frame *f = &pool->frames[i];

		f->buf = pool->mem + (size_t)i * buf_size;
		f->cap = buf_size;
		f->pool = pool;
		f->next = pool->free_list;
		pool->free_list = f;
	}
	pool->nfree = count;
	pool->low_water = count;
	return 0;
}

uint32_t cove_frame_pool_fini(struct cove_frame_pool *pool)
{
	uint32_t out = pool->count - pool->nfree;

	free(pool->frames);
	free(pool->mem);
	memset(pool, 0, sizeof(*pool));
	return out;
}

struct cove_frame *cove_frame_alloc(struct cove_frame_pool *pool)
{
	struct cove_frame *f = pool->free_list;

	if (!f)
		return NULL;
	pool->free_list = f->next;
	pool->nfree--;
	if (pool->nfree < pool->low_water)
		pool->low_water = pool->nfree;
	f->next = NULL;
	f->data = f->buf;
	f->len = 0;
	f->ts_ns = 0;
	f->flags = 0;
	f->gso_size = 0;
	return f;
}

void cove_frame_free(struct cove_frame *f)
{
	struct cove_frame_pool *pool;

	if (!f)
		return;
	pool = f->pool;
	f->next = pool->free_list;
	pool->free_list = f;
	pool->nfree++;
}

struct cove_frame *cove_frame_copy(struct cove_frame_pool *pool,
				   const struct cove_frame *f)
{
	struct cove_frame *c;

	if (f->len > pool->buf_size)
		return NULL;
	c = cove_frame_alloc(pool);
	if (!c)
		return NULL;
	memcpy(c->data, f->data, f->len);
	c->len = f->len;
	c->flags = f->flags;
	c->gso_size = f->gso_size;
	return c;
}
