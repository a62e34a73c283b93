// SPDX-License-Identifier: Apache-2.0
/* The sentry's socket table: program sockets, their pairs, parked calls. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * Every program socket the sentry serves is one struct sbx_sock on the
 * sentry's @all list from sbx_sock_new() to sbx_sock_free(), and in the
 * cookie hash (@hash, by the SO_COOKIE of the program's pair end) once it
 * has a pair. The frontend finds a trapped call's socket by that cookie;
 * the relay reaches sockets through the stack's cookie (the sbx_sock
 * itself) and the pending list. sbx_sock_free() closes everything the
 * socket holds at once, but a socket still on the pending list is only
 * marked @dead and freed when the relay pops it, so the list never holds
 * freed memory.
 *
 * Parked calls (struct sbx_waiter) never come from malloc: they are slots
 * of sn->waiter_pool, SBX_WAITERS for the whole sandbox (a parked call is
 * a blocked program thread, so the bound is on threads blocked in
 * connect/accept/recvfrom at once). Invariant: every slot is either on
 * sn->waiter_free or on exactly one socket's @waiters queue, and
 * sn->nwaiters counts the latter; whoever unlinks a waiter answers its
 * call (or finds it gone) and puts the slot back. With the pool empty the
 * call that would park gets ENOMEM; the sentry and other calls go on.
 *
 * Leftovers (what the stack or the pair did not take of one move, at most
 * SBX_SPILL_LEN) wait in spill buffers: one per socket and direction at
 * most, taken when a move comes back short and given back when it is
 * drained. Up to SBX_SPILL_SPARE given-back buffers are kept as spares, so
 * a busy connection does not allocate per leftover; beyond that they are
 * freed (an idle sandbox holds none). The relay reserves a buffer before
 * it reads bytes it might have to keep (sbx_spill_reserve()), so a failed
 * allocation holds the socket back (@starved: not read until the next
 * sweep, half a second later, tries again) and never drops a byte once
 * read. Invariant: sn->nspill_held counts the non-NULL @up_buf and
 * @down_buf of all sockets, sn->nstarved the sockets with @starved set.
 */

static uint32_t sbx_hash(uint64_t cookie)
{
	return (uint32_t)((cookie * 0x9e3779b97f4a7c15ull) >> 54) % SBX_HASH;
}

struct sbx_sock *sbx_sock_find(struct sentry *sn, uint64_t cookie)
{
	struct sbx_sock *sk = sn->hash[sbx_hash(cookie)];

	while (sk && sk->cookie != cookie)
		sk = sk->hnext;
	return sk;
}

/**
 * sbx_sock_new() - a new sbx_sock for stack socket @s, in state SK_NEW
 * @sn:		sentry; the socket joins sn->all and counts in nsocks
 * @s:		stack socket; owned by the result from now on (its cookie
 *		points back at it)
 * @type:	SOCK_STREAM or SOCK_DGRAM
 *
 * Its family is AF_INET until the caller says otherwise. No pair yet (sfd -1): it is not in the hash until sbx_sock_pair().
 * Return: the socket, or NULL (out of memory; @s is still the caller's).
 */
struct sbx_sock *sbx_sock_new(struct sentry *sn, struct cove_sock *s, int type)
{
	struct sbx_sock *sk = calloc(1, sizeof(*sk));

	if (!sk)
		return NULL;
	sk->tag = SBX_EV_SOCK;
	sk->sn = sn;
	sk->s = s;
	sk->sfd = -1;
	sk->held_afd = -1;
	sk->type = type;
	sk->family = AF_INET; /* the caller sets AF_INET6 */
	sk->state = SK_NEW;
	sk->next = sn->all;
	if (sn->all)
		sn->all->prev = sk;
	sn->all = sk;
	sn->nsocks++;
	sn->ops->set_cookie(s, sk);
	return sk;
}

/**
 * sbx_pair_sndbuf() - size the sentry's end of a TCP pair
 * @sk:		socket
 * @fd:		its end (@sk->sfd, or the new pair's before it is set)
 * @bytes:	SO_SNDBUF to ask for (the kernel doubles it)
 * @force:	past net.core.wmem_max (SO_SNDBUFFORCE): the default size,
 *		which stands for the kernel TCP receive buffer that tcp_rmem
 *		bounds, not wmem_max; a program's own SO_RCVBUF is clamped
 *
 * What the kernel granted is kept in @sk->pair_sndbuf for sbx_pair_room();
 * 0 if it cannot be read, and then the down pump does not size its reads.
 */
void sbx_pair_sndbuf(struct sbx_sock *sk, int fd, int bytes, bool force)
{
	socklen_t len = sizeof(bytes);

	if (!force || setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes,
				 sizeof(bytes)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes,
				 sizeof(bytes));
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, &len) < 0 ||
	    bytes <= 0)
		bytes = 0;
	sk->pair_sndbuf = (uint32_t)bytes;
}

/**
 * sbx_sock_pair() - make the socket's AF_UNIX pair and register it
 * @sk:		socket without a pair
 * @app_end:	set to the program's end (the caller installs or holds it)
 * @nonblock:	O_NONBLOCK on the program's end
 *
 * Return: 0 or negative errno.
 */
int sbx_sock_pair(struct sbx_sock *sk, int *app_end, bool nonblock)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
		.data.ptr = sk,
	};
	struct sentry *sn = sk->sn;
	socklen_t len = sizeof(sk->cookie);
	struct stat stb;
	int pair[2], h;

	if (socketpair(AF_UNIX,
		       (sk->type == SOCK_STREAM ? SOCK_STREAM :
						  SOCK_SEQPACKET) |
			       SOCK_CLOEXEC,
		       0, pair) < 0)
		return -errno;
	if (fstat(pair[1], &stb) < 0 ||
	    fcntl(pair[0], F_SETFL, O_NONBLOCK) < 0 ||
	    (nonblock && fcntl(pair[1], F_SETFL, O_NONBLOCK) < 0) ||
	    getsockopt(pair[1], SOL_SOCKET, SO_COOKIE, &sk->cookie, &len) < 0 ||
	    epoll_ctl(sn->host.ep, EPOLL_CTL_ADD, pair[0], &ev) < 0) {
		int e = errno;

		close(pair[0]);
		close(pair[1]);
		return -e;
	}
	if (sk->type == SOCK_DGRAM) {
		sk->ring = calloc(SBX_RING, sizeof(*sk->ring));
		if (!sk->ring) {
			close(pair[0]);
			close(pair[1]);
			return -ENOMEM;
		}
	}
	if (sk->type == SOCK_STREAM)
		sbx_pair_sndbuf(sk, pair[0], SBX_PAIR_SNDBUF, true);
	sk->sfd = pair[0];
	sk->app_ino = stb.st_ino;
	*app_end = pair[1];
	h = (int)sbx_hash(sk->cookie);
	sk->hnext = sn->hash[h];
	sn->hash[h] = sk;
	return 0;
}

/**
 * sbx_waiter_get() - take a free slot from the sentry's waiter pool
 * @sn:		sentry
 *
 * The free list is built on first use, so a zeroed struct sentry is ready.
 *
 * Return: a zeroed waiter, or NULL when all SBX_WAITERS slots are parked.
 */
static struct sbx_waiter *sbx_waiter_get(struct sentry *sn)
{
	struct sbx_waiter *w;
	unsigned i;

	if (!sn->waiter_ready) {
		sn->waiter_free = NULL;
		for (i = SBX_WAITERS; i-- > 0;) {
			sn->waiter_pool[i].next = sn->waiter_free;
			sn->waiter_free = &sn->waiter_pool[i];
		}
		sn->waiter_ready = true;
	}
	w = sn->waiter_free;
	if (!w)
		return NULL;
	sn->waiter_free = w->next;
	memset(w, 0, sizeof(*w));
	sn->nwaiters++;
	return w;
}

/**
 * sbx_waiter_put() - give a waiter's slot back to the pool
 * @sn:		sentry
 * @w:		a slot from sbx_waiter_get(), already off its socket's queue
 */
void sbx_waiter_put(struct sentry *sn, struct sbx_waiter *w)
{
	w->next = sn->waiter_free;
	sn->waiter_free = w;
	sn->nwaiters--;
}

/**
 * sbx_waiters_fail() - answer every parked call with @error
 * @sk:		socket
 * @error:	errno for each call
 */
static void sbx_waiters_fail(struct sbx_sock *sk, int error)
{
	struct sbx_waiter *w;

	while ((w = sk->waiters)) {
		sk->waiters = w->next;
		sbx_reply(sk->sn, w->id, -1, error);
		sbx_waiter_put(sk->sn, w);
	}
}

/**
 * sbx_sock_abort() - make the stack socket's close a reset (SO_LINGER 0)
 * @sk:		socket, about to be freed
 *
 * Linux resets the connections still queued on a listener when it
 * closes; these were accepted from the stack early (relay.c), so their
 * close must reset them too. A provider without SO_LINGER closes them.
 */
static void sbx_sock_abort(struct sbx_sock *sk)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (sk->s)
		(void)sk->sn->ops->setsockopt(sk->s, SOL_SOCKET, SO_LINGER, &lg,
					      sizeof(lg));
}

/**
 * sbx_sock_free() - release a socket and everything it holds
 * @sk:		the socket
 *
 * Frees (resets) its not yet accepted connections, fails its waiters with EBADF,
 * closes the stack socket, the sentry's end (leaving the hash and epoll)
 * and any held accept fd, and unlinks it from sn->all. If it is on the
 * work queue the memory is only marked dead and freed when popped
 * (sbx_relay_process()); @sk must not be used after this call.
 */
void sbx_sock_free(struct sbx_sock *sk)
{
	struct sentry *sn = sk->sn;
	struct sbx_sock **pp, *c;

	while ((c = sk->acq_head)) {
		sk->acq_head = c->acq_next;
		sbx_sock_abort(c);
		sbx_sock_free(c);
	}
	sbx_waiters_fail(sk, EBADF);
	if (sk->s) {
		sn->ops->close(sk->s);
		sk->s = NULL;
	}
	/* In the hash from sbx_sock_pair() on, even once @sfd closed for a
	 * reset (sbx_relay_reset_pair()). */
	for (pp = &sn->hash[sbx_hash(sk->cookie)]; *pp; pp = &(*pp)->hnext)
		if (*pp == sk) {
			*pp = sk->hnext;
			break;
		}
	if (sk->sfd >= 0) {
		epoll_ctl(sn->host.ep, EPOLL_CTL_DEL, sk->sfd, NULL);
		close(sk->sfd);
		sk->sfd = -1;
	}
	if (sk->held_afd >= 0)
		close(sk->held_afd);
	sk->held_afd = -1;
	sbx_spill_put(sn, &sk->up_buf);
	sbx_spill_put(sn, &sk->down_buf);
	free(sk->ring);
	sk->ring = NULL;
	if (sk->prev)
		sk->prev->next = sk->next;
	else if (sn->all == sk)
		sn->all = sk->next;
	if (sk->next)
		sk->next->prev = sk->prev;
	sk->prev = sk->next = NULL;
	sn->nsocks--;
	if (sk->zombie)
		sn->nzombies--;
	sk->zombie = false;
	if (sk->starved)
		sn->nstarved--;
	sk->starved = false;
	if (sk->work.queued)
		sk->dead = true; /* freed when popped */
	else
		free(sk);
}

void sbx_sock_queue(struct sbx_sock *sk)
{
	sbx_sock_kick(sk, SBX_PUMP_BOTH);
}

/**
 * sbx_sock_kick() - queue @sk for the directions @dirs (SBX_PUMP_*): an
 * event on one side only needs that side's pump, which saves a read that
 * would only say EAGAIN
 */
void sbx_sock_kick(struct sbx_sock *sk, unsigned dirs)
{
	struct sentry *sn = sk->sn;

	sk->pend |= (uint8_t)dirs;
	if (!sk->dead)
		cove_workq_push(&sn->work, &sk->work);
}

/**
 * sbx_waiter_park() - queue a trapped call on @sk until the socket changes
 * @sk:		socket
 * @n:		the notification, answered later by whoever serves the queue
 *
 * The slot comes from the sentry's fixed pool; with all SBX_WAITERS
 * parked, this one call fails with ENOMEM and nothing else changes.
 */
void sbx_waiter_park(struct sbx_sock *sk, const struct seccomp_notif *n)
{
	struct sbx_waiter *w = sbx_waiter_get(sk->sn), **pp;

	if (!w) {
		sbx_reply(sk->sn, n->id, -1, ENOMEM);
		return;
	}
	w->id = n->id;
	w->pid = n->pid;
	w->nr = n->data.nr;
	memcpy(w->args, n->data.args, sizeof(w->args));
	for (pp = &sk->waiters; *pp; pp = &(*pp)->next)
		;
	*pp = w;
}

/**
 * sbx_spill_reserve() - make sure sbx_spill_take() will not fail
 * @sn:		sentry
 *
 * Called before a read whose bytes may have to be kept. Allocates a spare
 * when there is none; the COVE_TEST_SPILL_FAILS hook (testhook.h) makes
 * the first allocations fail as if memory had run out.
 * Return: true if a spare is at hand.
 */
bool sbx_spill_reserve(struct sentry *sn)
{
	uint8_t *b;

	if (sn->nspill_spare)
		return true;
	if (sn->spill_fails > 0) {
		sn->spill_fails--;
		sn->spill_waits++;
		return false;
	}
	b = malloc(SBX_SPILL_LEN);
	if (!b) {
		sn->spill_waits++;
		return false;
	}
	sn->spill_spare[sn->nspill_spare++] = b;
	return true;
}

/* sbx_spill_take() - a reserved spill buffer (never NULL after a reserve). */
uint8_t *sbx_spill_take(struct sentry *sn)
{
	if (!sn->nspill_spare)
		return NULL;
	sn->nspill_held++;
	return sn->spill_spare[--sn->nspill_spare];
}

/* sbx_spill_put() - give *@buf back (kept as a spare or freed); NULL it. */
void sbx_spill_put(struct sentry *sn, uint8_t **buf)
{
	if (!*buf)
		return;
	sn->nspill_held--;
	if (sn->nspill_spare < SBX_SPILL_SPARE)
		sn->spill_spare[sn->nspill_spare++] = *buf;
	else
		free(*buf);
	*buf = NULL;
}

/* sbx_spill_free_all() - free the spares (the sentry is ending). */
void sbx_spill_free_all(struct sentry *sn)
{
	while (sn->nspill_spare)
		free(sn->spill_spare[--sn->nspill_spare]);
}

/* sbx_sock_starve() - hold @sk back until the next sweep (no buffer). */
void sbx_sock_starve(struct sbx_sock *sk)
{
	if (sk->starved)
		return;
	sk->starved = true;
	sk->sn->nstarved++;
}

/* sbx_spill_retry() - give every starved socket another turn (sweep). */
void sbx_spill_retry(struct sentry *sn)
{
	struct sbx_sock *sk;

	for (sk = sn->all; sk && sn->nstarved; sk = sk->next) {
		if (!sk->starved)
			continue;
		sk->starved = false;
		sn->nstarved--;
		sbx_sock_kick(sk, SBX_PUMP_BOTH);
	}
}

/**
 * sbx_tokens_fill() - one token byte in a listener's pair per queued
 * connection, as far as the pair's buffer goes
 * @l:		listening socket
 *
 * Each token is a 1-byte write, which costs the pair a whole buffer's
 * worth of overhead, so a long queue (over about 1,300 connections here)
 * does not fit. Tokens that do not fit are written when accept() makes
 * room: with any connection queued at least one token is there (the first
 * always fits an empty buffer), so the program's end is readable exactly
 * while accept() would succeed, for any backlog.
 */
void sbx_tokens_fill(struct sbx_sock *l)
{
	while (l->tokens < l->nacq &&
	       send(l->sfd, "a", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
		l->tokens++;
}
