// SPDX-License-Identifier: Apache-2.0
/* The builtin stack's timer wheel: 4096 slots of 1 ms, O(1) arm and cancel. */
#include <string.h>
#include <stdint.h>

#include "stacks/builtin/builtin.h"

/*
 * Theory of operation
 *
 * A timer due at T sits in slot (T / 1 ms) % 4096. Timers further away than
 * one turn share slots with nearer ones and are simply skipped until their
 * turn comes: every visit compares expires_ns against the time.
 *
 * timer_advance() visits the slots of every tick from the wheel's last time
 * to @now (all slots once if that is a full turn or more). Each visited
 * slot is first detached into a local list, so a callback that re-arms its
 * timer lands in the wheel proper and cannot loop within the same slot
 * visit; timers in the local list keep valid pprev links, so callbacks may
 * cancel them. A timer armed in the past goes into the slot of the current
 * tick and fires on the next advance.
 *
 * timer_next() must be exact yet cheap: the wheel caches the earliest expiry
 * (next_ns). Arming keeps the cache exact (min); cancelling the earliest
 * timer invalidates it, and the next advance recomputes it by walking the
 * slots forward from now, stopping at the first tick that holds a timer of
 * the current turn. timer_next() on an invalid cache walks the same way.
 * The walk visits only slots whose bit in @busy is set: a bit is set when
 * a timer is linked into its slot and cleared when the slot empties (a
 * cancel of its last timer, a visit by timer_advance()), so a wheel whose
 * only timers are far away (keepalive, while the delayed ACK is armed and
 * cancelled at every burst) costs 64 word reads per walk, not 4096 slots.
 *
 * Invariants: armed == number of timers linked in slots or local lists;
 * t->pprev == NULL exactly when t is disarmed.
 */

#define TIMER_MASK (TIMER_WHEEL_SLOTS - 1)
_Static_assert((TIMER_WHEEL_SLOTS & TIMER_MASK) == 0,
	       "wheel size must be a power of two");

static inline uint64_t timer_tick(uint64_t ns)
{
	return ns / TIMER_TICK_NS;
}

static inline void timer_busy_set(struct timer_wheel *w, unsigned idx)
{
	w->busy[idx / 64] |= 1ull << (idx % 64);
}

static inline void timer_busy_clear(struct timer_wheel *w, unsigned idx)
{
	w->busy[idx / 64] &= ~(1ull << (idx % 64));
}

/* timer_link() - push @t onto the list at @head. */
static void timer_link(struct btimer **head, struct btimer *t)
{
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

/* timer_unlink() - take @t off whatever list holds it. */
static void timer_unlink(struct btimer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

/* timer_init() - an empty wheel whose clock starts at @now_ns. */
void timer_init(struct timer_wheel *w, uint64_t now_ns)
{
	unsigned i;

	for (i = 0; i < TIMER_WHEEL_SLOTS; i++)
		w->slot[i] = NULL;
	memset(w->busy, 0, sizeof(w->busy));
	w->now_ns = now_ns;
	w->armed = 0;
	w->next_ns = UINT64_MAX;
	w->next_valid = true;
}

/**
 * timer_arm() - arm (or re-arm) a timer
 * @w:		wheel
 * @t:		timer, embedded in its owner; @t->fn must be set
 * @when_ns:	absolute CLOCK_MONOTONIC expiry; in the past: next advance
 */
void timer_arm(struct timer_wheel *w, struct btimer *t, uint64_t when_ns)
{
	uint64_t tick;

	if (timer_armed(t))
		timer_cancel(w, t);
	t->expires_ns = when_ns;
	tick = timer_tick(when_ns > w->now_ns ? when_ns : w->now_ns);
	timer_link(&w->slot[tick & TIMER_MASK], t);
	timer_busy_set(w, (unsigned)(tick & TIMER_MASK));
	w->armed++;
	if (w->next_valid && when_ns < w->next_ns)
		w->next_ns = when_ns;
}

/**
 * timer_cancel() - disarm a timer; harmless if it is not armed
 * @w:	wheel
 * @t:	timer
 */
void timer_cancel(struct timer_wheel *w, struct btimer *t)
{
	struct btimer **pp = t->pprev;
	uintptr_t at = (uintptr_t)pp, first = (uintptr_t)&w->slot[0];

	if (!timer_armed(t))
		return;
	timer_unlink(t);
	/* the head of a slot (not of timer_run_slot()'s local list) */
	if (at >= first && at < first + sizeof(w->slot) && !*pp)
		timer_busy_clear(w, (unsigned)((at - first) / sizeof(*pp)));
	w->armed--;
	if (!w->armed) {
		w->next_ns = UINT64_MAX;
		w->next_valid = true;
	} else if (t->expires_ns <= w->next_ns) {
		w->next_valid = false;
	}
}

/* timer_scan() - earliest expiry by walking the slots forward from now. */
static uint64_t timer_scan(const struct timer_wheel *w)
{
	uint64_t now_tick = timer_tick(w->now_ns), best = UINT64_MAX, bits;
	const struct btimer *t;
	unsigned k = 0, idx;

	if (!w->armed)
		return UINT64_MAX;
	while (k < TIMER_WHEEL_SLOTS) {
		idx = (unsigned)((now_tick + k) & TIMER_MASK);
		bits = w->busy[idx / 64] >> (idx % 64);
		if (!bits) {
			k += 64 - idx % 64; /* the rest of this word */
			continue;
		}
		k += (unsigned)__builtin_ctzll(bits);
		if (k >= TIMER_WHEEL_SLOTS)
			break;
		for (t = w->slot[(now_tick + k) & TIMER_MASK]; t; t = t->next)
			if (t->expires_ns < best)
				best = t->expires_ns;
		/* nothing later in the walk can beat a timer of this tick */
		if (best != UINT64_MAX && timer_tick(best) <= now_tick + k)
			break;
		k++;
	}
	return best;
}

/* timer_run_slot() - fire the due timers of one slot. */
static void timer_run_slot(struct timer_wheel *w, unsigned idx, uint64_t now)
{
	struct btimer *local = NULL, *t;

	/* detach the slot: callbacks that re-arm go to the wheel proper */
	local = w->slot[idx];
	w->slot[idx] = NULL;
	timer_busy_clear(w, idx);
	if (local)
		local->pprev = &local;
	while ((t = local) != NULL) {
		timer_unlink(t);
		if (t->expires_ns <= now) {
			w->armed--;
			t->fn(t);
		} else {
			timer_link(&w->slot[idx], t);
			timer_busy_set(w, idx);
		}
	}
}

/**
 * timer_advance() - fire every timer due at @now_ns
 * @w:		wheel
 * @now_ns:	the time; earlier than the wheel's time is ignored
 *
 * Callbacks run with their timer disarmed and may arm or cancel any timer.
 */
void timer_advance(struct timer_wheel *w, uint64_t now_ns)
{
	uint64_t from, to, tick;

	if (now_ns < w->now_ns)
		now_ns = w->now_ns;
	from = timer_tick(w->now_ns);
	to = timer_tick(now_ns);
	if (to - from >= TIMER_WHEEL_SLOTS)
		from = to - TIMER_WHEEL_SLOTS + 1;
	w->now_ns = now_ns;
	if (w->armed && (!w->next_valid || w->next_ns <= now_ns)) {
		for (tick = from; tick <= to && w->armed; tick++)
			timer_run_slot(w, (unsigned)(tick & TIMER_MASK),
				       now_ns);
		w->next_valid = false;
	}
	if (!w->next_valid) {
		w->next_ns = timer_scan(w);
		w->next_valid = true;
	}
}

/**
 * timer_next() - the earliest armed expiry
 * @w:	wheel
 *
 * Return: CLOCK_MONOTONIC ns (possibly in the past), UINT64_MAX when no
 * timer is armed.
 */
uint64_t timer_next(const struct timer_wheel *w)
{
	return w->next_valid ? w->next_ns : timer_scan(w);
}
