// SPDX-License-Identifier: Apache-2.0
/* Impairment shim: wraps any link and drops, duplicates, reorders, corrupts, delays. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "links/links.h"

/*
 * Theory of operation
 *
 * The shim sits between a host and an inner link and impairs each direction
 * on its own (struct impair_dir): frames the host transmits on their way to
 * the inner link, and frames the inner link receives on their way up. Every
 * frame passes these stages, each a coin toss with the spec's probability
 * drawn from the instance's own PRNG (splitmix64 seeded by seed=, so a run
 * repeats exactly for the same sequence of calls):
 *
 *   drop      the frame is freed (counted in rx_dropped / tx_dropped);
 *   dup       a copy is made from the frame's own pool and follows it
 *             (skipped silently when that pool is empty);
 *   corrupt   one random bit of one random byte after the Ethernet header
 *             is flipped, so IP/TCP/UDP checksums catch it (the frame's
 *             COVE_FRAME_F_CSUM_OK goes, so the stack checks);
 *   reorder   the frame is held back and released right after the next
 *             frame of the same direction, or after IMPAIR_HOLD_NS when no
 *             next frame comes;
 *   delay     the frame gets a release time now + delay +- jitter (uniform)
 *             and waits in a min-heap ordered by (time, arrival); jitter can
 *             therefore reorder too.
 *
 * Frames that are ready go to the direction's ready ring. rx_burst() and
 * tx_burst() first move due frames from the heap (and an expired held
 * frame) into the ready ring, then take new frames in; rx_burst() hands the
 * ready ring to the caller, tx_burst() pushes it into the inner link (what
 * the inner link does not accept stays queued: with a full ring the shim
 * accepts fewer frames from the caller).
 *
 * Offloads: the shim passes on the inner link's receive offloads but
 * offers none for transmit. It may hold a frame after its sender is gone
 * (delay queues), so it must never see frames from a stack's own TSO
 * buffers, and a corrupted checksum-partial frame would get a valid
 * checksum from the device below, hiding the damage.
 *
 * Bounded memory: the ready ring holds IMPAIR_READY_LEN frames and the heap
 * IMPAIR_DELAY_LEN; a frame that would overflow the heap is dropped and
 * counted. New frames are only taken in while the ready ring has room for
 * the worst case (a duplicate plus a released held frame). Frames still
 * queued when the shim closes are returned to their pools.
 *
 * The shim's @fd is the inner link's fd, so it only says "the inner link has
 * frames". Delayed frames become due without the fd turning readable: a host
 * must also wake at cove_link_impair_next_ns() and then call rx_burst() and
 * tx_burst() (with n == 0 to only flush). The shim's stats count what
 * crosses its upper edge; the inner link keeps its own.
 */

#define IMPAIR_READY_LEN 512u /* power of two */
#define IMPAIR_DELAY_LEN 4096u
#define IMPAIR_BATCH	 64u
#define IMPAIR_HOLD_NS	 5000000ull /* longest a reordered frame waits */

_Static_assert((IMPAIR_READY_LEN & (IMPAIR_READY_LEN - 1)) == 0,
	       "ready ring length must be a power of two");
_Static_assert(IMPAIR_READY_LEN >= 3 * IMPAIR_BATCH,
	       "a whole batch with duplicates fits the ready ring");

struct impair_slot {
	uint64_t due; /* CLOCK_MONOTONIC ns */
	uint64_t seq; /* arrival order, breaks ties */
	struct cove_frame *f;
};

struct impair_dir {
	struct cove_frame *ready[IMPAIR_READY_LEN];
	uint32_t rhead, rtail; /* free-running; count = rtail - rhead */
	struct impair_slot heap[IMPAIR_DELAY_LEN];
	uint32_t nheap;
	struct cove_frame *held; /* reorder: waiting for the next frame */
	uint64_t held_until;
	uint64_t *dropped; /* the stats counter for this direction */
};

struct impair_link {
	struct cove_link link; /* first: the ABI view */
	struct cove_link *inner;
	struct cove_impair_spec spec;
	uint64_t rng;
	uint64_t seq;
	struct impair_dir rx, tx;
};

/* impair_rand() - next 64 random bits (splitmix64). */
static uint64_t impair_rand(struct impair_link *il)
{
	uint64_t z = (il->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* impair_chance() - true with probability @p; draws nothing when @p is 0. */
static bool impair_chance(struct impair_link *il, double p)
{
	if (p <= 0)
		return false;
	return (double)(impair_rand(il) >> 11) * 0x1.0p-53 < p;
}

static uint32_t impair_ready_count(const struct impair_dir *d)
{
	return d->rtail - d->rhead;
}

/* impair_heap_push() - insert @f due at @due; false when the heap is full. */
static bool impair_heap_push(struct impair_link *il, struct impair_dir *d,
			     struct cove_frame *f, uint64_t due)
{
	struct impair_slot s = { .due = due, .seq = il->seq++, .f = f };
	uint32_t i = d->nheap;

	if (i == IMPAIR_DELAY_LEN)
		return false;
	d->nheap++;
	while (i) {
		uint32_t parent = (i - 1) / 2;
		struct impair_slot *ps = &d->heap[parent];

		if (ps->due < s.due || (ps->due == s.due && ps->seq < s.seq))
			break;
		d->heap[i] = *ps;
		i = parent;
	}
	d->heap[i] = s;
	return true;
}

/* impair_heap_less() - slot @a comes before slot @b. */
static bool impair_heap_less(const struct impair_slot *a,
			     const struct impair_slot *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

/* impair_heap_pop() - remove and return the earliest frame (heap not empty). */
static struct cove_frame *impair_heap_pop(struct impair_dir *d)
{
	struct cove_frame *f = d->heap[0].f;
	struct impair_slot last = d->heap[--d->nheap];
	uint32_t i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= d->nheap)
			break;
		if (c + 1 < d->nheap &&
		    impair_heap_less(&d->heap[c + 1], &d->heap[c]))
			c++;
		if (!impair_heap_less(&d->heap[c], &last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->nheap)
		d->heap[i] = last;
	return f;
}

/* impair_drop() - free @f and count it lost in direction @d. */
static void impair_drop(struct impair_dir *d, struct cove_frame *f)
{
	(*d->dropped)++;
	cove_frame_free(f);
}

/**
 * impair_emit() - pass a frame to the delay stage or straight to ready
 * @il:		shim
 * @d:		direction
 * @f:		frame, owned by the shim
 * @now:	current time
 */
static void impair_emit(struct impair_link *il, struct impair_dir *d,
			struct cove_frame *f, uint64_t now)
{
	int64_t us = il->spec.delay_us;

	if (il->spec.delay_us || il->spec.jitter_us) {
		if (il->spec.jitter_us) {
			uint64_t span = 2ull * il->spec.jitter_us + 1;

			us += (int64_t)(impair_rand(il) % span) -
			      (int64_t)il->spec.jitter_us;
		}
		if (us < 0)
			us = 0;
		if (!impair_heap_push(il, d, f, now + (uint64_t)us * 1000u))
			impair_drop(d, f);
		return;
	}
	if (impair_ready_count(d) == IMPAIR_READY_LEN) {
		impair_drop(d, f); /* not reached: callers keep room */
		return;
	}
	d->ready[d->rtail++ % IMPAIR_READY_LEN] = f;
}

/* impair_corrupt() - flip one random bit past the Ethernet header. */
static void impair_corrupt(struct impair_link *il, struct cove_frame *f)
{
	uint64_t r = impair_rand(il);
	uint32_t span;

	if (f->len <= LINKS_ETH_HLEN)
		return;
	span = f->len - LINKS_ETH_HLEN;
	f->flags &= (uint16_t)~COVE_FRAME_F_CSUM_OK;
	f->data[LINKS_ETH_HLEN + (uint32_t)((r >> 3) % span)] ^=
		(uint8_t)(1u << (r & 7));
}

/* impair_late_stages() - corrupt and reorder, then emit (or hold). */
static void impair_late_stages(struct impair_link *il, struct impair_dir *d,
			       struct cove_frame *f, uint64_t now)
{
	if (impair_chance(il, il->spec.corrupt))
		impair_corrupt(il, f);
	if (d->held) {
		struct cove_frame *h = d->held;

		d->held = NULL;
		impair_emit(il, d, f, now);
		impair_emit(il, d, h, now);
	} else if (impair_chance(il, il->spec.reorder)) {
		d->held = f;
		d->held_until = now + IMPAIR_HOLD_NS;
	} else {
		impair_emit(il, d, f, now);
	}
}

/**
 * impair_input() - run one new frame through all stages
 * @il:		shim
 * @d:		direction
 * @f:		frame, owned by the shim from now on
 * @now:	current time
 *
 * Needs room for three frames in the ready ring (frame, duplicate, held).
 */
static void impair_input(struct impair_link *il, struct impair_dir *d,
			 struct cove_frame *f, uint64_t now)
{
	struct cove_frame *dup = NULL;

	if (impair_chance(il, il->spec.drop)) {
		impair_drop(d, f);
		return;
	}
	if (impair_chance(il, il->spec.dup))
		dup = cove_frame_copy(f->pool, f);
	impair_late_stages(il, d, f, now);
	if (dup)
		impair_late_stages(il, d, dup, now);
}

/* impair_service() - release an expired held frame and due delayed frames. */
static void impair_service(struct impair_link *il, struct impair_dir *d,
			   uint64_t now)
{
	if (d->held && d->held_until <= now &&
	    impair_ready_count(d) < IMPAIR_READY_LEN) {
		struct cove_frame *h = d->held;

		d->held = NULL;
		impair_emit(il, d, h, now);
	}
	while (d->nheap && d->heap[0].due <= now &&
	       impair_ready_count(d) < IMPAIR_READY_LEN)
		d->ready[d->rtail++ % IMPAIR_READY_LEN] = impair_heap_pop(d);
}

/**
 * impair_rx_burst() - receive through the shim
 * @l:	shim
 * @f:	filled with frames
 * @n:	room in @f
 *
 * Return: frames filled.
 */
static unsigned impair_rx_burst(struct cove_link *l, struct cove_frame **f,
				unsigned n)
{
	struct impair_link *il = (struct impair_link *)l;
	struct impair_dir *d = &il->rx;
	struct cove_frame *in[IMPAIR_BATCH];
	uint64_t now = cove_now_ns();
	unsigned got = 0;

	impair_service(il, d, now);
	while (impair_ready_count(d) < n) {
		unsigned room = (IMPAIR_READY_LEN - impair_ready_count(d)) / 3;
		unsigned want = n - impair_ready_count(d), k, i;

		if (want > room)
			want = room;
		if (want > IMPAIR_BATCH)
			want = IMPAIR_BATCH;
		if (!want)
			break;
		k = cove_link_rx_burst(il->inner, in, want);
		for (i = 0; i < k; i++)
			impair_input(il, d, in[i], now);
		if (k < want)
			break;
	}
	while (got < n && d->rhead != d->rtail) {
		struct cove_frame *fr = d->ready[d->rhead++ % IMPAIR_READY_LEN];

		l->stats.rx_frames++;
		l->stats.rx_bytes += fr->len;
		f[got++] = fr;
	}
	return got;
}

/* impair_flush() - push the tx ready ring into the inner link. */
static void impair_flush(struct impair_link *il)
{
	struct impair_dir *d = &il->tx;
	struct cove_frame *out[IMPAIR_BATCH];

	while (d->rhead != d->rtail) {
		unsigned k = 0, sent;

		while (k < IMPAIR_BATCH && d->rhead + k != d->rtail) {
			out[k] = d->ready[(d->rhead + k) % IMPAIR_READY_LEN];
			k++;
		}
		sent = cove_link_tx_burst(il->inner, out, k);
		d->rhead += sent;
		if (sent < k)
			break;
	}
}

/**
 * impair_tx_burst() - transmit through the shim
 * @l:	shim
 * @f:	frames; accepted ones belong to the shim
 * @n:	count; 0 only releases due frames and flushes
 *
 * Return: frames accepted; fewer than @n when the shim's queue is full.
 */
static unsigned impair_tx_burst(struct cove_link *l, struct cove_frame **f,
				unsigned n)
{
	struct impair_link *il = (struct impair_link *)l;
	struct impair_dir *d = &il->tx;
	uint64_t now = cove_now_ns();
	unsigned done;

	impair_service(il, d, now);
	impair_flush(il);
	for (done = 0; done < n; done++) {
		if (IMPAIR_READY_LEN - impair_ready_count(d) < 3) {
			impair_flush(il);
			if (IMPAIR_READY_LEN - impair_ready_count(d) < 3)
				break;
		}
		l->stats.tx_frames++;
		l->stats.tx_bytes += f[done]->len;
		impair_input(il, d, f[done], now);
	}
	impair_flush(il);
	return done;
}

/* impair_dir_free() - return every frame the direction holds to its pool. */
static void impair_dir_free(struct impair_dir *d)
{
	while (d->rhead != d->rtail)
		cove_frame_free(d->ready[d->rhead++ % IMPAIR_READY_LEN]);
	while (d->nheap)
		cove_frame_free(impair_heap_pop(d));
	cove_frame_free(d->held);
	d->held = NULL;
}

/* impair_close() - free held frames, close the inner link, free the shim. */
static void impair_close(struct cove_link *l)
{
	struct impair_link *il = (struct impair_link *)l;

	impair_dir_free(&il->rx);
	impair_dir_free(&il->tx);
	cove_link_close(il->inner);
	free(il);
}

static const struct cove_link_ops impair_ops = {
	.kind = "impair",
	.usage = "impairment shim (cove_link_impair() around another link)",
	.open = NULL,
	.rx_burst = impair_rx_burst,
	.tx_burst = impair_tx_burst,
	.close = impair_close,
};

/*
 * cove_link_impair() is documented in link.h. On -ENOMEM @inner is left
 * untouched and remains the caller's to close.
 */
int cove_link_impair(struct cove_link *inner,
		     const struct cove_impair_spec *spec,
		     struct cove_link **out)
{
	struct impair_link *il = calloc(1, sizeof(*il));

	if (!il)
		return -ENOMEM;
	il->link.ops = &impair_ops;
	il->link.pool = inner->pool;
	memcpy(il->link.mac, inner->mac, sizeof(il->link.mac));
	il->link.mtu = inner->mtu;
	il->link.offloads = inner->offloads &
			    ~(COVE_LINK_OFF_TX_CSUM | COVE_LINK_OFF_TSO4 |
			      COVE_LINK_OFF_TSO6);
	if (spec->corrupt > 0)
		il->link.offloads &= ~COVE_LINK_OFF_RX_CSUM;
	il->link.fd = inner->fd;
	memcpy(il->link.name, inner->name, sizeof(il->link.name));
	il->inner = inner;
	il->spec = *spec;
	il->rng = spec->seed;
	il->rx.dropped = &il->link.stats.rx_dropped;
	il->tx.dropped = &il->link.stats.tx_dropped;
	*out = &il->link;
	return 0;
}

/* impair_dir_next() - earliest time @d needs service, or UINT64_MAX. */
static uint64_t impair_dir_next(const struct impair_dir *d)
{
	uint64_t t = UINT64_MAX;

	if (d->rhead != d->rtail)
		return 0; /* frames ready now */
	if (d->held)
		t = d->held_until;
	if (d->nheap && d->heap[0].due < t)
		t = d->heap[0].due;
	return t;
}

uint64_t cove_link_impair_next_ns(struct cove_link *l)
{
	struct impair_link *il = (struct impair_link *)l;
	uint64_t a, b;

	if (!l || l->ops != &impair_ops)
		return UINT64_MAX;
	a = impair_dir_next(&il->rx);
	b = impair_dir_next(&il->tx);
	return a < b ? a : b;
}
