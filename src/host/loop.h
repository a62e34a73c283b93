/* SPDX-License-Identifier: Apache-2.0 */
/* The host loop: one interrupt-mode thread driving a link and a stack. */
#ifndef COVE_HOST_LOOP_H
#define COVE_HOST_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cove/err.h"
#include "cove/link.h"
#include "cove/netstack.h"

/*
 * Theory of operation
 *
 * A host (the sentry, `cove stack-serve`, a test) owns one stack instance,
 * at most one link and one thread. It sleeps in one epoll set (@ep) that
 * holds at least the link's fd, the provider's poll_fd() and @tfd, a
 * CLOCK_MONOTONIC timerfd armed (absolute) at the earliest deadline; it
 * adds its own fds (signals, sockets, a control channel) with
 * cove_host_watch() and dispatches what epoll returns itself.
 *
 * After every wake the host calls cove_host_turn(): the link is drained in
 * bursts of @burst frames into input() (at most @bursts per turn, then the
 * turn reports work left so the host polls again instead of sleeping), an
 * impairment shim gets an empty tx_burst() to push its due frames out, the
 * host's queued work is served (@serve) and run() is called, again while
 * serving queued more work (a few rounds), and the timer is armed at the
 * stack's (or the shim's) deadline. No busy polling unless the host asks
 * for it: an idle host makes no system calls.
 *
 * The work queue (@work, the host's own) holds what the stack's notify() reported: each
 * entry is embedded in the host's own socket type, on the queue at most
 * once (@queued), and notify() only queues (it must not call back into
 * the stack); @serve pops and works them later, outside the stack.
 */

/* One entry of a host's work queue, embedded in the host's socket type. */
struct cove_work {
	struct cove_work *next;
	bool queued; /* on the queue now */
};

struct cove_workq {
	struct cove_work *head, **tail;
};

/* cove_workq_init() - an empty queue. */
static inline void cove_workq_init(struct cove_workq *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

/* cove_workq_empty() - nothing queued? */
static inline bool cove_workq_empty(const struct cove_workq *q)
{
	return !q->head;
}

/* cove_workq_push() - queue @w at the tail unless it is queued already. */
static inline void cove_workq_push(struct cove_workq *q, struct cove_work *w)
{
	if (w->queued)
		return;
	w->queued = true;
	w->next = NULL;
	*q->tail = w;
	q->tail = &w->next;
}

/* cove_workq_pop() - take the head off the queue; Return: it, or NULL. */
static inline struct cove_work *cove_workq_pop(struct cove_workq *q)
{
	struct cove_work *w = q->head;

	if (!w)
		return NULL;
	q->head = w->next;
	if (!q->head)
		q->tail = &q->head;
	w->queued = false;
	return w;
}

/* cove_container_of() - the struct of @type whose @member @ptr points to. */
#define cove_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define COVE_HOST_BURST_MAX 128u /* frames per input() at most */

struct cove_host {
	const struct cove_netstack_ops *ops;
	struct cove_stack *st;	/* NULL: no stack yet, turns do nothing */
	struct cove_link *link; /* NULL for link-less providers */
	bool impaired;		/* @link is a cove_link_impair() shim */
	unsigned burst;		/* frames per input(), <= COVE_HOST_BURST_MAX */
	unsigned bursts;	/* bursts per turn */
	struct cove_workq *work; /* the host's queue, which @serve empties */
	/* Serve queued work; Return: true if its budget ran out with work
	 * left. */
	bool (*serve)(struct cove_host *h);
	int ep, tfd;	/* -1 when not open */
	uint64_t armed; /* deadline @tfd holds; UINT64_MAX: none */
};

/**
 * cove_host_open() - the epoll set and the timer of a host
 * @h:		with @work and @serve set (@ops, @st, @link may come later)
 * @timer_ptr:	epoll data of the timer's events (the host tells them by it)
 * @err:	filled on failure
 *
 * Return: 0, or < 0 with @err set (then cove_host_close() still applies).
 */
int cove_host_open(struct cove_host *h, void *timer_ptr, struct cove_err *err);

/* cove_host_close() - close what cove_host_open() opened. */
void cove_host_close(struct cove_host *h);

/**
 * cove_host_watch() - add @fd to the epoll set, readable, level-triggered
 * @h:		host
 * @fd:		the fd; < 0 is ignored (an absent link or poll fd)
 * @ptr:	epoll data of its events
 *
 * Return: 0 or negative errno.
 */
int cove_host_watch(struct cove_host *h, int fd, void *ptr);

/**
 * cove_host_timer_fired() - the host saw the timer's event: consume it
 * @h:		host
 */
void cove_host_timer_fired(struct cove_host *h);

/**
 * cove_host_turn() - one turn after a wake: link bursts into input(),
 * queued work, run(), the timer re-armed
 * @h:		host
 *
 * Return: true if work is left and the host should poll, not sleep.
 */
bool cove_host_turn(struct cove_host *h);

#endif /* COVE_HOST_LOOP_H */
