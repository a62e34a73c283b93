// SPDX-License-Identifier: Apache-2.0
/* Builtin stack: one budget for all socket buffer memory of an instance. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stacks/builtin/builtin.h"

/*
 * Theory of operation
 *
 * Linux bounds the memory of all TCP sockets together with tcp_mem (and
 * UDP's with udp_mem); per-socket limits alone do not bound a stack that
 * many peers can each make hold a full buffer (zero-window peers that
 * never read). The builtin stack has the same: every buffer that holds a
 * socket's data is allocated with bmem_alloc() and freed with bmem_free(),
 * which keep @used equal to the bytes allocated, so `mem_bytes` in the
 * stats is what the instance really holds for sockets.
 *
 * Two limits, from the configured maximum (cove_stack_config.mem_max,
 * BMEM_DEFAULT_MAX when 0): @hard is the maximum itself, @soft two thirds
 * of it (as Linux's default tcp_mem pressure threshold relates to its
 * maximum). A request of kind BMEM_GROW (a ring beyond a socket's
 * minimum, receive autotuning, a reassembly buffer) is refused once it
 * would take @used past @soft: the instance is under pressure. A request
 * of kind BMEM_MIN (a ring of at most BMEM_SOCK_MIN bytes) is
 * refused only near @hard, so every socket can still move data under
 * pressure, slowly; past it, a connection's first bytes find no ring and
 * are dropped unacknowledged (the peer retransmits), and run() resets
 * orphans that still hold unsent data (tcp_mem_oom()), as Linux's
 * tcp_check_oom() does.
 *
 * A TCP connection takes no memory until data arrives (an idle one holds
 * none), but it is promised a receive minimum: @resv counts those
 * promises, and a BMEM_MIN request (a send ring, a UDP ring) leaves that
 * much room below @hard, up to the whole band between the limits. The
 * promised ring itself (BMEM_RX_MIN) may use the room. Without it, send
 * rings whose data waits for a peer that waits in turn for our window
 * could take the last byte of the budget, and no connection could
 * receive again: each peer stuck writing, none reading.
 *
 * Blocks of BMEM_MMAP_MIN bytes or more (every ring past a socket's
 * minimum) are mapped with mmap() and unmapped when freed, and counted at
 * their page-rounded size, which is what they hold. From malloc() they
 * would come out of the heap once glibc's mmap threshold had risen past
 * them (it rises to the size of any mapped block freed), and the heap
 * keeps what it frees: after 200 zero-window peers left, the server's RSS
 * stayed at its peak. Mapped, a ring's pages go back to the kernel the
 * moment the ring does, and the RSS follows mem_bytes down. What stays on
 * the heap (minimum rings, the tcbs themselves) is given back by
 * malloc_trim() from run() once the budget has dropped BMEM_TRIM_STEP
 * below its high-water mark since the last trim: at most one trim per
 * that many bytes freed, none while memory only grows.
 *
 * Readiness: a socket refused memory (or one whose poll found it not
 * writable for want of it) joins @waiters. run() (bstack_mem_run() in
 * stack.c, which also starts the orphan reset: this file calls no other,
 * it is the layers' leaf) looks at the waiters after memory was freed and notifies each one that is writable again,
 * so a sender that got -EAGAIN for memory always hears EPOLLOUT once it
 * can go on: none stalls waiting for its own ACKs, which may never come.
 */

/**
 * bmem_init() - set the limits of an instance's budget
 * @st:		stack
 * @max:	the hard limit in bytes; 0: BMEM_DEFAULT_MAX
 *
 * Return: 0, or -EINVAL when @max is below BMEM_MIN_MAX.
 */
int bmem_init(struct bstack *st, uint64_t max)
{
	if (!max)
		max = BMEM_DEFAULT_MAX;
	if (max < BMEM_MIN_MAX)
		return -EINVAL;
	st->mem.hard = max;
	st->mem.soft = max / 3 * 2;
	return 0;
}

/* bmem_pressure() - is the instance past its soft limit? */
bool bmem_pressure(const struct bstack *st)
{
	return st->mem.used >= st->mem.soft;
}

/**
 * bmem_may() - would a request be granted now?
 * @st:		stack
 * @size:	bytes
 * @kind:	BMEM_MIN, BMEM_GROW or BMEM_RX_MIN
 *
 * Return: true when bmem_alloc() would not refuse it for the budget.
 */
bool bmem_may(const struct bstack *st, size_t size, enum bmem_kind kind)
{
	const struct bmem *m = &st->mem;
	uint64_t limit = kind == BMEM_GROW ? m->soft : m->hard;
	uint64_t used = m->used;

	/* the room kept for promised receive rings, at most the band
	 * between the limits: idle connections never shut out the rest */
	if (kind == BMEM_MIN)
		used += m->resv < m->hard - m->soft ? m->resv :
						      m->hard - m->soft;
	return size <= limit && used <= limit - size;
}

/* bmem_block() - the bytes a block of @size really takes (mapped: pages). */
static size_t bmem_block(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (size < BMEM_MMAP_MIN)
		return size;
	return (size + page - 1) & ~(page - 1);
}

/**
 * bmem_alloc() - allocate a socket buffer against the budget
 * @st:		stack
 * @size:	bytes (not zero)
 * @kind:	BMEM_MIN (a socket's minimum), BMEM_GROW (anything more) or
 *		BMEM_RX_MIN (a receive minimum promised, counted in @resv)
 *
 * A refusal at the hard limit sets st->mem.oom, so the next run() resets
 * the orphans that hold data.
 *
 * Return: the buffer (uninitialised), or NULL when the budget refuses or
 * malloc() fails.
 */
void *bmem_alloc(struct bstack *st, size_t size, enum bmem_kind kind)
{
	void *p;

	size = bmem_block(size);
	if (!bmem_may(st, size, kind)) {
		if (kind != BMEM_GROW || !bmem_may(st, size, BMEM_MIN)) {
			st->mem.refused_hard++;
			st->mem.oom = true;
		} else {
			st->mem.refused_soft++;
		}
		return NULL;
	}
	if (size >= BMEM_MMAP_MIN) {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
	} else {
		p = malloc(size);
		if (!p)
			return NULL;
	}
	st->mem.used += size;
	if (st->mem.used > st->mem.peak)
		st->mem.peak = st->mem.used;
	if (st->mem.used > st->mem.trim_high)
		st->mem.trim_high = st->mem.used;
	return p;
}

/**
 * bmem_free() - free a buffer bmem_alloc() gave
 * @st:		stack
 * @p:		the buffer, or NULL (nothing happens)
 * @size:	the size it was allocated with
 */
void bmem_free(struct bstack *st, void *p, size_t size)
{
	if (!p)
		return;
	size = bmem_block(size);
	if (size >= BMEM_MMAP_MIN)
		munmap(p, size);
	else
		free(p);
	st->mem.used -= size;
	st->mem.freed = true;
}

/* bmem_wait() - put @s on the waiters (idempotent). */
void bmem_wait(struct bsock *s)
{
	struct bmem *m = &s->st->mem;

	if (s->mem_wait)
		return;
	s->mw_next = m->waiters;
	if (m->waiters)
		m->waiters->mw_pprev = &s->mw_next;
	s->mw_pprev = &m->waiters;
	m->waiters = s;
	s->mem_wait = true;
}

/* bmem_unwait() - take @s off the waiters, if it is there. */
void bmem_unwait(struct bsock *s)
{
	if (!s->mem_wait)
		return;
	*s->mw_pprev = s->mw_next;
	if (s->mw_next)
		s->mw_next->mw_pprev = s->mw_pprev;
	s->mw_next = NULL;
	s->mw_pprev = NULL;
	s->mem_wait = false;
}

/**
 * bmem_reclaim() - from run(): was memory freed since the last call?
 * @st:		stack
 *
 * Trims the heap (malloc_trim()) when the budget dropped BMEM_TRIM_STEP
 * below its high-water mark since the last trim. The caller then wakes
 * the waiters (stack.c, bstack_mem_run()).
 *
 * Return: true when bmem_free() ran since the last call.
 */
bool bmem_reclaim(struct bstack *st)
{
	if (!st->mem.freed)
		return false;
	st->mem.freed = false;
	if (st->mem.trim_high - st->mem.used >= BMEM_TRIM_STEP) {
		st->mem.trim_high = st->mem.used;
		malloc_trim(0);
	}
	return true;
}
