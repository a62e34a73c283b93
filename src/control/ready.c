// SPDX-License-Identifier: Apache-2.0
/* Readiness fd: the sentry writes one byte once it listens; the runtime waits. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "common/clock.h"
#include "control/ctl_internal.h"

int cove_ctl_ready_poll(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	ssize_t n;
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	do {
		n = read(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	if (n == 1)
		return 1;
	if (n == 0)
		return -EPIPE;
	return errno == EAGAIN ? 0 : -errno;
}

int cove_ctl_wait_ready(int fd, int64_t deadline, struct cove_err *err)
{
	for (;;) {
		int left = cove_ms_left(deadline);
		int r = cove_ctl_ready_poll(fd, left);

		if (r == 1)
			return 0;
		if (r == -EPIPE)
			return cove_err_set(
				err, EPIPE,
				"control: the sentry exited before it was listening");
		if (r < 0)
			return cove_err_set(err, -r,
					    "control: reading the readiness fd");
		if (left == 0)
			return cove_err_set(
				err, ETIMEDOUT,
				"control: the sentry did not report ready");
	}
}

int cove_ctl_signal_ready(int fd)
{
	ssize_t n;

	do {
		n = write(fd, "R", 1);
	} while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -errno;
}
