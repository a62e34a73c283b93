// SPDX-License-Identifier: Apache-2.0
/* Dial fast path: wake when a missing unix socket path gets created. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "control/ctl_internal.h"

/*
 * Theory of operation: while a unix socket path does not exist yet
 * (ENOENT), polling it can only notice the sentry's bind() one retry pause
 * late. An inotify watch on the directory turns the creation into a
 * wake-up, so the dialer connects within microseconds of bind+listen. The
 * watch is an optimisation only: when it cannot be set up (directory
 * missing, inotify limits) the dialer keeps its plain backed-off pauses.
 */

int cove_ctl_watch_open(const char *path)
{
	char dir[COVE_CTL_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int cove_ctl_watch_check(int fd, const char *path)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int hit = 0;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		size_t off = 0;

		if (n <= 0)
			return hit;
		while (off + sizeof(struct inotify_event) <= (size_t)n) {
			const struct inotify_event *ev =
				(const struct inotify_event *)(buf + off);
			size_t next = off + sizeof(*ev) + ev->len;

			if (next > (size_t)n)
				break;
			if (ev->len && strncmp(ev->name, base, ev->len) == 0)
				hit = 1;
			off = next;
		}
	}
}
