// SPDX-License-Identifier: Apache-2.0
/* The host loop shared by the sentry and stack-serve (theory: loop.h). */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "host/loop.h"

int cove_host_open(struct cove_host *h, void *timer_ptr, struct cove_err *err)
{
	h->armed = UINT64_MAX;
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (h->ep < 0 || h->tfd < 0)
		return cove_err_set(err, errno, "event fds");
	if (cove_host_watch(h, h->tfd, timer_ptr) < 0)
		return cove_err_set(err, errno, "epoll_ctl");
	return 0;
}

void cove_host_close(struct cove_host *h)
{
	if (h->ep >= 0)
		close(h->ep);
	if (h->tfd >= 0)
		close(h->tfd);
	h->ep = h->tfd = -1;
}

int cove_host_watch(struct cove_host *h, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	if (fd < 0)
		return 0;
	return epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void cove_host_timer_fired(struct cove_host *h)
{
	uint64_t ticks;

	(void)!read(h->tfd, &ticks, sizeof(ticks));
	h->armed = UINT64_MAX; /* fired: disarmed */
}

/*
 * cove_host_arm() - arm the timer at absolute @deadline (UINT64_MAX:
 * disarm); a deadline already past fires at once. Unchanged deadlines cost
 * no system call.
 */
static void cove_host_arm(struct cove_host *h, uint64_t deadline)
{
	struct itimerspec its = { 0 };

	if (deadline == h->armed)
		return;
	h->armed = deadline;
	if (deadline != UINT64_MAX) {
		if (!deadline)
			deadline = 1;
		its.it_value.tv_sec = (time_t)(deadline / 1000000000ull);
		its.it_value.tv_nsec = (long)(deadline % 1000000000ull);
	}
	(void)timerfd_settime(h->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

bool cove_host_turn(struct cove_host *h)
{
	struct cove_frame *f[COVE_HOST_BURST_MAX];
	unsigned burst = h->burst, i, n;
	uint64_t deadline = UINT64_MAX, d;
	bool more = false;

	if (!h->st)
		return false;
	if (!burst || burst > COVE_HOST_BURST_MAX)
		burst = COVE_HOST_BURST_MAX;
	if (h->link) {
		for (i = 0; i < h->bursts; i++) {
			n = cove_link_rx_burst(h->link, f, burst);
			if (!n)
				break;
			h->ops->input(h->st, f, n);
		}
		more = i == h->bursts;
		if (h->impaired)
			(void)cove_link_tx_burst(h->link, f, 0);
	}
	/* Serving may queue more (a send frees room, a close notifies). */
	for (i = 0; i < 4; i++) {
		more |= h->serve(h);
		deadline = h->ops->run(h->st, cove_now_ns());
		if (cove_workq_empty(h->work))
			break;
	}
	more |= !cove_workq_empty(h->work);
	if (h->impaired) {
		d = cove_link_impair_next_ns(h->link);
		if (d < deadline)
			deadline = d;
	}
	cove_host_arm(h, deadline);
	return more;
}
