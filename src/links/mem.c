// SPDX-License-Identifier: Apache-2.0
/* In-memory link pair: two links wired back to back inside one process. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "links/links.h"

/*
 * Theory of operation
 *
 * cove_link_mem_pair() makes two ends, A and B. tx_burst() on one end
 * copies each frame into the other end's rx pool (cove_frame_copy), frees
 * the original and appends the copy to the other end's bounded receive
 * queue (MEM_QUEUE_LEN frames). When that queue is full, tx_burst() stops
 * and returns how many it accepted: the caller keeps the rest, exactly as
 * with a device whose ring is full. When the receiving pool is empty, or a
 * frame is larger than its buffers, the frame is accepted and dropped
 * (the receiver's rx_dropped, or the sender's tx_dropped for oversize).
 *
 * Invariants: a queue only holds frames of its own end's pool; each end's
 * eventfd counter is non-zero exactly while its queue is non-empty, so the
 * fd polls readable while frames wait. Closing an end frees its queued
 * frames and unhooks it from its peer; the peer's transmissions are then
 * accepted and dropped (tx_dropped), like a cable pulled out.
 *
 * The pair is not a registered link kind: it has no "kind:arg" form since
 * it must be created two ends at a time, only through cove_link_mem_pair().
 */

#define MEM_QUEUE_LEN 1024u /* power of two */

struct mem_link {
	struct cove_link link; /* first: the ABI view */
	struct mem_link *peer; /* NULL once the peer closed */
	struct cove_frame *q[MEM_QUEUE_LEN];
	uint32_t head, tail; /* free-running; count = tail - head */
};

_Static_assert((MEM_QUEUE_LEN & (MEM_QUEUE_LEN - 1)) == 0,
	       "queue length must be a power of two");

/* mem_signal() - make @m's fd readable (its queue just became non-empty). */
static void mem_signal(struct mem_link *m)
{
	uint64_t one = 1;
	ssize_t r = write(m->link.fd, &one, sizeof(one));

	(void)r; /* only fails if the counter is saturated: still readable */
}

/* mem_unsignal() - reset @m's eventfd once its queue drained. */
static void mem_unsignal(struct mem_link *m)
{
	uint64_t v;
	ssize_t r = read(m->link.fd, &v, sizeof(v));

	(void)r; /* EAGAIN: already zero */
}

/**
 * mem_rx_burst() - take up to @n frames from this end's queue
 * @l:	link
 * @f:	filled with frames of the link's pool
 * @n:	room in @f
 *
 * Return: frames filled.
 */
static unsigned mem_rx_burst(struct cove_link *l, struct cove_frame **f,
			     unsigned n)
{
	struct mem_link *m = (struct mem_link *)l;
	unsigned got = 0;

	while (got < n && m->head != m->tail) {
		struct cove_frame *fr = m->q[m->head++ % MEM_QUEUE_LEN];

		l->stats.rx_frames++;
		l->stats.rx_bytes += fr->len;
		f[got++] = fr;
	}
	if (got && m->head == m->tail)
		mem_unsignal(m);
	return got;
}

/**
 * mem_tx_burst() - copy up to @n frames into the peer's queue
 * @l:	link
 * @f:	frames; accepted ones are freed here
 * @n:	count
 *
 * Return: frames accepted; fewer than @n only when the peer's queue is full.
 */
static unsigned mem_tx_burst(struct cove_link *l, struct cove_frame **f,
			     unsigned n)
{
	struct mem_link *m = (struct mem_link *)l, *p = m->peer;
	int was_empty = p && p->head == p->tail;
	unsigned done;

	for (done = 0; done < n; done++) {
		struct cove_frame *fr = f[done], *c;

		if (!p) {
			l->stats.tx_dropped++;
			cove_frame_free(fr);
			continue;
		}
		if (p->tail - p->head == MEM_QUEUE_LEN)
			break;
		if (fr->len > p->link.pool->buf_size) {
			l->stats.tx_dropped++;
			cove_frame_free(fr);
			continue;
		}
		c = cove_frame_copy(p->link.pool, fr);
		l->stats.tx_frames++;
		l->stats.tx_bytes += fr->len;
		cove_frame_free(fr);
		if (!c) {
			p->link.stats.rx_dropped++;
			continue;
		}
		p->q[p->tail++ % MEM_QUEUE_LEN] = c;
	}
	if (p && was_empty && p->head != p->tail)
		mem_signal(p);
	return done;
}

/* mem_close() - free queued frames, unhook from the peer, free the end. */
static void mem_close(struct cove_link *l)
{
	struct mem_link *m = (struct mem_link *)l;

	while (m->head != m->tail)
		cove_frame_free(m->q[m->head++ % MEM_QUEUE_LEN]);
	if (m->peer)
		m->peer->peer = NULL;
	if (l->fd >= 0)
		close(l->fd);
	free(m);
}

static const struct cove_link_ops mem_ops = {
	.kind = "mem",
	.usage = "in-memory pair (tests; cove_link_mem_pair() only)",
	.open = NULL,
	.rx_burst = mem_rx_burst,
	.tx_burst = mem_tx_burst,
	.close = mem_close,
};

/* mem_new() - one end with pool @pool, MAC ending in @id; NULL on failure. */
static struct mem_link *mem_new(struct cove_frame_pool *pool, uint8_t id)
{
	static const uint8_t base[6] = { 0x02, 0x00, 0xc0, 0x7e, 0x00, 0x00 };
	struct mem_link *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->link.ops = &mem_ops;
	m->link.pool = pool;
	memcpy(m->link.mac, base, 6);
	m->link.mac[5] = id;
	m->link.mtu = 1500;
	m->link.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->link.fd < 0) {
		free(m);
		return NULL;
	}
	links_set_name(&m->link, "mem", id == 1 ? "a" : "b");
	return m;
}

int cove_link_mem_pair(struct cove_frame_pool *pool_a,
		       struct cove_frame_pool *pool_b, struct cove_link **a,
		       struct cove_link **b)
{
	struct mem_link *ma = mem_new(pool_a, 1), *mb = mem_new(pool_b, 2);

	if (!ma || !mb) {
		if (ma)
			mem_close(&ma->link);
		if (mb)
			mem_close(&mb->link);
		return -ENOMEM;
	}
	ma->peer = mb;
	mb->peer = ma;
	*a = &ma->link;
	*b = &mb->link;
	return 0;
}
