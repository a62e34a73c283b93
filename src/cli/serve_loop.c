// SPDX-License-Identifier: Apache-2.0
/* stack-serve's host loop: link, stack and timer in one interrupt-mode thread. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "cli/serve.h"
#include "cove/link.h"

/*
 * Theory of operation
 *
 * On every wake serve_turn() drains the link in bursts of SERVE_BURST into
 * input() (at most SERVE_BURSTS_PER_WAKE bursts, then it reports work left
 * so the caller polls again instead of sleeping), pushes an impairment
 * shim's due frames out with an empty tx_burst(), services the sockets the
 * stack notified, calls run() (again while services queued more work, a
 * few times) and arms the timerfd at the earliest deadline. The timerfd is
 * absolute CLOCK_MONOTONIC, so a deadline already past fires at once.
 */

uint64_t serve_now(void *host)
{
	(void)host;
	return cove_now_ns();
}

/* serve_watch() - add @fd to the loop's epoll set for reading. */
static int serve_watch(struct serve_loop *lp, int fd, struct cove_err *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (fd < 0)
		return 0;
	if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return cove_err_set(err, errno, "epoll_ctl: %s",
				    strerror(errno));
	return 0;
}

int serve_loop_init(struct serve_loop *lp, struct serve *sv,
		    const sigset_t *sigs, struct cove_err *err)
{
	lp->sv = sv;
	lp->ep = epoll_create1(EPOLL_CLOEXEC);
	lp->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sigs)
		lp->sfd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (lp->ep < 0 || lp->tfd < 0 || (sigs && lp->sfd < 0))
		return cove_err_set(err, errno, "event fds: %s",
				    strerror(errno));
	if (serve_watch(lp, lp->tfd, err) || serve_watch(lp, lp->sfd, err) ||
	    serve_watch(lp, lp->link ? lp->link->fd : -1, err) ||
	    serve_watch(lp, sv->ops->poll_fd(sv->st), err))
		return -1;
	return 0;
}

void serve_loop_fini(struct serve_loop *lp)
{
	if (lp->ep >= 0)
		close(lp->ep);
	if (lp->tfd >= 0)
		close(lp->tfd);
	if (lp->sfd >= 0)
		close(lp->sfd);
	lp->ep = lp->tfd = lp->sfd = -1;
}

/* serve_arm() - arm the timer at absolute @deadline (UINT64_MAX: disarm). */
static void serve_arm(struct serve_loop *lp, uint64_t deadline)
{
	struct itimerspec its = { 0 };

	if (deadline != UINT64_MAX) {
		if (!deadline)
			deadline = 1;
		its.it_value.tv_sec = (time_t)(deadline / 1000000000ull);
		its.it_value.tv_nsec = (long)(deadline % 1000000000ull);
	}
	(void)timerfd_settime(lp->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

bool serve_turn(struct serve_loop *lp)
{
	const struct cove_netstack_ops *ops = lp->sv->ops;
	struct cove_frame *f[SERVE_BURST];
	uint64_t deadline = UINT64_MAX, d;
	bool more = false;
	unsigned i, n;

	if (lp->link) {
		for (i = 0; i < SERVE_BURSTS_PER_WAKE; i++) {
			n = cove_link_rx_burst(lp->link, f, SERVE_BURST);
			if (!n)
				break;
			ops->input(lp->sv->st, f, n);
		}
		more = i == SERVE_BURSTS_PER_WAKE;
		if (lp->impaired)
			(void)cove_link_tx_burst(lp->link, f, 0);
	}
	for (i = 0; i < 4; i++) {
		more |= serve_process(lp->sv);
		deadline = ops->run(lp->sv->st, serve_now(NULL));
		if (!lp->sv->pending)
			break;
	}
	more |= lp->sv->pending != NULL;
	if (lp->impaired) {
		d = cove_link_impair_next_ns(lp->link);
		if (d < deadline)
			deadline = d;
	}
	serve_arm(lp, deadline);
	return more;
}

int serve_loop_wait(struct serve_loop *lp, int timeout_ms)
{
	struct epoll_event ev[8];
	struct signalfd_siginfo si;
	uint64_t ticks;
	int i, n, sig = 0;

	n = epoll_wait(lp->ep, ev, 8, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		if (ev[i].data.fd == lp->tfd) {
			(void)!read(lp->tfd, &ticks, sizeof(ticks));
		} else if (ev[i].data.fd == lp->sfd && !sig) {
			if (read(lp->sfd, &si, sizeof(si)) == sizeof(si))
				sig = (int)si.ssi_signo;
		}
	}
	return sig;
}
