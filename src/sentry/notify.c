// SPDX-License-Identifier: Apache-2.0
/* Seccomp notification plumbing: answer a trapped call, reach its memory and fds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * A trapped call stays blocked in the kernel until the sentry answers its
 * notification id, exactly once: with a result (sbx_reply()), or by letting
 * the kernel run it (sbx_continue()). Between reading the call and acting
 * on it the thread may have been killed and its pid reused; sbx_id_valid()
 * asks the kernel whether the id still names a blocked call, and whoever
 * acts on the program's memory or fds after a wait checks it first. The
 * frontend (trapped calls) and the relay (parked calls it wakes) both
 * answer through these; nothing here knows about sockets.
 */

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

int sbx_reply(struct sentry *sn, uint64_t id, int64_t val, int error)
{
	if (sn->trace)
		fprintf(stderr, "cove sentry: reply %lld error %d\n",
			(long long)val, error);
	struct seccomp_notif_resp r = {
		.id = id,
		.val = error ? -1 : val,
		.error = error ? -error : 0,
	};

	return ioctl(sn->nfd, SECCOMP_IOCTL_NOTIF_SEND, &r) < 0 ? -errno : 0;
}

void sbx_continue(struct sentry *sn, uint64_t id)
{
	struct seccomp_notif_resp r = {
		.id = id,
		.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE,
	};

	(void)ioctl(sn->nfd, SECCOMP_IOCTL_NOTIF_SEND, &r);
}

bool sbx_id_valid(struct sentry *sn, uint64_t id)
{
	return ioctl(sn->nfd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/**
 * sbx_getfd() - duplicate fd @fd of thread @pid into the sentry
 * @pid:	thread id in the sentry's pid namespace
 * @fd:		the program's fd number
 *
 * Return: a close-on-exec fd, or -1.
 */
int sbx_getfd(uint32_t pid, int fd)
{
	int pidfd, dup;

	if (fd < 0)
		return -1;
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, PIDFD_THREAD);
	if (pidfd < 0 && errno == EINVAL)
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (pidfd < 0)
		return -1;
	dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	return dup;
}

int sbx_mem_read(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr,
				.iov_len = len };
	ssize_t n;

	if (!len)
		return 0;
	if (!addr)
		return -EFAULT;
	n = process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int sbx_mem_write(uint32_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = { .iov_base = (void *)buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr,
				.iov_len = len };
	ssize_t n;

	if (!len)
		return 0;
	if (!addr)
		return -EFAULT;
	n = process_vm_writev((pid_t)pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int sbx_send_fd(int sock, int fd, const void *data, size_t len, int flags)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, flags) == (ssize_t)len ? 0 : -errno;
}
