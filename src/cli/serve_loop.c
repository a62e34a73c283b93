// SPDX-License-Identifier: Apache-2.0
/* stack-serve's host loop: the shared one (host/loop.h) plus a signalfd. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "cli/serve.h"
#include "cove/link.h"

/*
 * Theory of operation
 *
 * The turns are the shared host loop's (src/host/loop.h): the link in
 * bursts of SERVE_BURST into input(), an impairment shim's due frames,
 * the notified sockets (serve_process()), run(), the timer armed at the
 * earliest deadline. This file adds what stack-serve alone has: a
 * signalfd among the fds it sleeps on.
 */

uint64_t serve_now(void *host)
{
	(void)host;
	return cove_now_ns();
}

/* serve_loop_serve() - the host loop's @serve: the notified sockets. */
static bool serve_loop_serve(struct cove_host *h)
{
	struct serve_loop *lp = cove_container_of(h, struct serve_loop, host);

	return serve_process(lp->sv);
}

int serve_loop_init(struct serve_loop *lp, struct serve *sv,
		    const sigset_t *sigs, struct cove_err *err)
{
	struct cove_host *h = &lp->host;

	lp->sv = sv;
	h->ops = sv->ops;
	h->st = sv->st;
	h->link = lp->link;
	h->impaired = lp->impaired;
	h->burst = SERVE_BURST;
	h->bursts = SERVE_BURSTS_PER_WAKE;
	h->work = &sv->work;
	h->serve = serve_loop_serve;
	if (cove_host_open(h, &h->tfd, err) < 0)
		return -1;
	if (sigs) {
		lp->sfd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC);
		if (lp->sfd < 0)
			return cove_err_set(err, errno, "signalfd: %s",
					    strerror(errno));
	}
	if (cove_host_watch(h, lp->sfd, &lp->sfd) < 0 ||
	    cove_host_watch(h, lp->link ? lp->link->fd : -1, h) < 0 ||
	    cove_host_watch(h, sv->ops->poll_fd(sv->st), h) < 0)
		return cove_err_set(err, errno, "epoll_ctl: %s",
				    strerror(errno));
	return 0;
}

void serve_loop_fini(struct serve_loop *lp)
{
	cove_host_close(&lp->host);
	if (lp->sfd >= 0)
		close(lp->sfd);
	lp->sfd = -1;
}

bool serve_turn(struct serve_loop *lp)
{
	return cove_host_turn(&lp->host);
}

int serve_loop_wait(struct serve_loop *lp, int timeout_ms)
{
	struct epoll_event ev[8];
	struct signalfd_siginfo si;
	int i, n, sig = 0;

	n = epoll_wait(lp->host.ep, ev, 8, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		if (ev[i].data.ptr == &lp->host.tfd) {
			cove_host_timer_fired(&lp->host);
		} else if (ev[i].data.ptr == &lp->sfd && !sig) {
			if (read(lp->sfd, &si, sizeof(si)) == sizeof(si))
				sig = (int)si.ssi_signo;
		}
	}
	return sig;
}
