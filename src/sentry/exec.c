// SPDX-License-Identifier: Apache-2.0
/* cove exec: the zygote that forks extra processes under the program's filter. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control/cove.pb-c.h"
#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * A process started by `cove exec` must carry the program's namespaces,
 * capability drops, no_new_privs and, above all, the same seccomp filter
 * whose notifications the sentry already serves: then its socket calls
 * reach the same notify fd and the stack serves them with no second
 * listener. A filter cannot be attached to a process from outside, and a
 * second installation would create a second notify fd; so the program's
 * own process, after installing the filter and before dropping to --user
 * and exec'ing, forks a *zygote* (spawn.c). The zygote is double-forked, so
 * it is reparented to the sentry (PID 1 of the sandbox), and then only
 * waits on its end of a SOCK_SEQPACKET pair to the sentry.
 *
 * One request is one datagram: a packed ExecRequest that the sentry has
 * already validated and completed (environment, user, directory), with the
 * three stdio fds in SCM_RIGHTS. The zygote forks X; X forks Y and sends
 * Y's pid (an int32, negative errno on failure) to the sentry, then exits;
 * the zygote reaps X. Y is thereby an orphan and becomes the sentry's
 * child: the sentry reaps it like the program and gets its exit status
 * without the zygote having to track anything. Y takes the fds as 0, 1, 2,
 * closes every other fd, resets signals, starts its own session, changes
 * directory and user, and exec's; if that fails it says so on its stderr
 * (the caller's) and exits 126/127 as cove run would.
 *
 * The zygote runs as the sandbox's root (minus the dropped capabilities;
 * by default root of the program's user namespace, spawn.c), non-dumpable
 * so that the program, which may ptrace its own processes, cannot trace it,
 * so `cove exec --user` can choose any user; it ignores the signals a
 * terminal or `cove kill --all` sends (the sentry also skips its pid). If
 * it dies anyway, exec fails with a clear error; the sandbox goes on.
 */

#define SBX_ZYG_MSG_MAX 65536u

/*
 * sbx_use_path() - make execvpe() search @env's PATH, not the sentry's
 * (the caller's, e.g. /root/...: not searchable by the sandbox's root);
 * for the program (spawn.c) and for Y.
 */
void sbx_use_path(char *const *env)
{
	for (; *env; env++)
		if (!strncmp(*env, "PATH=", 5)) {
			(void)setenv("PATH", *env + 5, 1);
			return;
		}
}

/* The container's own seccomp profile (OCI), or NULL: set before the
 * zygote forks, so only the zygote and its children read it. */
static const struct sbx_seccomp *sbx_zyg_seccomp;
static const struct sbx_oci *sbx_zyg_oci; /* its capabilities, in Y */
static uint64_t sbx_zyg_caps; /* cove run: the program's capabilities, in Y */

/*
 * sbx_zyg_profile() - in Y, right before its execve: the container's
 * profile, as the program got it (spawn.c); a failure ends Y.
 */
static void sbx_zyg_profile(void)
{
	struct cove_err err = { 0 };
	void *f;
	int e;

	if (!sbx_zyg_seccomp)
		return;
	f = sbx_profile_build(sbx_zyg_seccomp, &err);
	e = f ? sbx_profile_load(f) : -1;
	if (e < 0) {
		fprintf(stderr, "cove exec: %s\n", f ? strerror(-e) : err.msg);
		_exit(SBX_EXIT_COVE);
	}
}

/**
 * sbx_zyg_child() - Y: become the requested process; never returns
 * @ps:		process spec (validated by the sentry)
 * @fds:	stdin, stdout, stderr
 */
static void __attribute__((noreturn))
sbx_zyg_child(const Cove__Control__ProcessSpec *ps, const int fds[3])
{
	char **argv, **env;
	sigset_t none;
	int sig, i, e;

	for (i = 0; i < 3; i++)
		if (dup2(fds[i], 100 + i) < 0)
			_exit(SBX_EXIT_COVE);
	for (i = 0; i < 3; i++)
		if (dup2(100 + i, i) < 0)
			_exit(SBX_EXIT_COVE);
	syscall(SYS_close_range, 3, ~0u, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	(void)setsid();
	if (ps->cwd && ps->cwd[0] && chdir(ps->cwd) < 0) {
		fprintf(stderr, "cove exec: --workdir %s: %s\n", ps->cwd,
			strerror(errno));
		_exit(SBX_EXIT_COVE);
	}
	if (ps->user_set) {
		gid_t g = ps->gid;

		if ((sbx_zyg_oci && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) ||
		    setgroups(1, &g) < 0 || setgid(ps->gid) < 0 ||
		    setuid(ps->uid) < 0) {
			fprintf(stderr, "cove exec: --user %u:%u: %s\n",
				(unsigned)ps->uid, (unsigned)ps->gid,
				strerror(errno));
			_exit(SBX_EXIT_COVE);
		}
	}
	/* The container's (or cove run's) capability sets, as the program
	 * has them. */
	if ((sbx_zyg_oci ? sbx_oci_caps_final(sbx_zyg_oci) :
			   sbx_caps_limit(~0ull, sbx_zyg_caps)) < 0) {
		fprintf(stderr, "cove exec: process.capabilities: %s\n",
			strerror(errno));
		_exit(SBX_EXIT_COVE);
	}
	argv = calloc(ps->n_argv + 1, sizeof(char *));
	env = calloc(ps->n_env + 1, sizeof(char *));
	if (!argv || !env)
		_exit(SBX_EXIT_COVE);
	memcpy(argv, ps->argv, ps->n_argv * sizeof(char *));
	memcpy(env, ps->env, ps->n_env * sizeof(char *));
	sbx_use_path(env);
	sbx_zyg_profile();
	execvpe(argv[0], argv, env);
	e = errno;
	fprintf(stderr, "cove exec: cannot run '%s': %s\n", argv[0],
		strerror(e));
	_exit(e == ENOENT ? SBX_EXIT_NOTFOUND : SBX_EXIT_NOEXEC);
}

/**
 * sbx_zyg_serve() - one request: fork X, which forks Y and reports its pid
 * @zfd:	the zygote's end of the pair
 * @buf:	the packed ExecRequest
 * @n:		its length
 * @fds:	stdio fds (closed here)
 */
static void sbx_zyg_serve(int zfd, const uint8_t *buf, size_t n, int fds[3])
{
	Cove__Control__ExecRequest *r;
	int32_t reply = -EINVAL;
	pid_t x, y;
	int st, i;

	r = cove__control__exec_request__unpack(NULL, n, buf);
	if (r && r->process && r->process->n_argv > 0) {
		x = fork();
		if (x == 0) {
			y = fork();
			if (y == 0)
				sbx_zyg_child(r->process, fds);
			reply = y < 0 ? -errno : (int32_t)y;
			_exit(send(zfd, &reply, sizeof(reply), MSG_NOSIGNAL) ==
					      sizeof(reply) ?
				      0 :
				      1);
		}
		reply = x < 0 ? -errno : -EAGAIN;
		while (x > 0 && waitpid(x, &st, 0) < 0 && errno == EINTR)
			;
		if (x > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			reply = 0; /* X answered */
	}
	if (reply != 0)
		(void)!send(zfd, &reply, sizeof(reply), MSG_NOSIGNAL);
	if (r)
		cove__control__exec_request__free_unpacked(r, NULL);
	for (i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/**
 * sbx_zygote_main() - the zygote's loop; never returns
 * @zfd:	its end of the SOCK_SEQPACKET pair to the sentry
 */
static void __attribute__((noreturn)) sbx_zygote_main(int zfd)
{
	static uint8_t buf[SBX_ZYG_MSG_MAX];
	static const int ign[] = { SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
				   SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM };
	int32_t me = (int32_t)getpid();
	unsigned i;
	int null;

	for (i = 0; i < sizeof(ign) / sizeof(ign[0]); i++)
		signal(ign[i], SIG_IGN);
	(void)setsid();
	/*
	 * The program may ptrace its own processes (seccomp.c), and this one
	 * has the same credentials: non-dumpable, only a holder of
	 * CAP_SYS_PTRACE (which the program dropped) may trace it, so the
	 * program cannot take over the channel to the sentry or the stdio of
	 * a future cove exec. Y's execve makes Y dumpable again.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		_exit(0);
	/* Hold nothing of the caller's: not its terminal, not its pipes. */
	null = open("/dev/null", O_RDWR);
	for (i = 0; null >= 0 && i < 3; i++)
		dup2(null, (int)i);
	if (zfd != 3 && dup2(zfd, 3) == 3) {
		close(zfd);
		zfd = 3;
	}
	syscall(SYS_close_range, 4, ~0u, 0);
	if (send(zfd, &me, sizeof(me), MSG_NOSIGNAL) != sizeof(me))
		_exit(0);
	for (;;) {
		union {
			struct cmsghdr h;
			char c[CMSG_SPACE(sizeof(int) * 3)];
		} u;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr m = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = u.c,
			.msg_controllen = sizeof(u.c),
		};
		struct cmsghdr *cm;
		int fds[3] = { -1, -1, -1 };
		/* Untrapped with exactly these flags (seccomp.c): a trapped
		 * recvmsg would wait for the sentry, which may be waiting for
		 * our answer to its next request. */
		ssize_t n = recvmsg(zfd, &m, SBX_HANDOVER_FLAGS);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* the sentry is gone */
		cm = CMSG_FIRSTHDR(&m);
		if (cm && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(fds)))
			memcpy(fds, CMSG_DATA(cm), sizeof(fds));
		if (fds[0] < 0) {
			int32_t e = -EBADF;

			(void)!send(zfd, &e, sizeof(e), MSG_NOSIGNAL);
			continue;
		}
		sbx_zyg_serve(zfd, buf, (size_t)n, fds);
	}
}

/**
 * sbx_zygote_fork() - start the zygote, double-forked so it is not our child
 * @zfd:	its end of the pair; the caller still closes its copy
 * @oci:	the container's extras, or NULL: its seccomp profile is
 *		loaded in each command before its execve (not in the
 *		zygote), its capability sets applied after its uid change
 * @caps:	without @oci, the capabilities each command keeps after its
 *		uid change (`cove run`'s set)
 *
 * Called in the program's process after the filter is loaded, so the
 * zygote inherits it. The middle process exits at once and is reaped here.
 * Return: 0, -EAGAIN if the second fork failed, or a negative errno.
 */
int sbx_zygote_fork(int zfd, const struct sbx_oci *oci, uint64_t caps)
{
	pid_t mid, z;
	int st;

	mid = fork();
	if (mid < 0)
		return -errno;
	if (mid == 0) {
		sbx_zyg_seccomp = oci ? oci->seccomp : NULL;
		sbx_zyg_oci = oci;
		sbx_zyg_caps = caps;
		z = fork();
		if (z == 0)
			sbx_zygote_main(zfd);
		_exit(z < 0 ? 1 : 0);
	}
	while (waitpid(mid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EAGAIN;
}

/**
 * sbx_zygote_hello() - wait up to 2 s for the zygote's pid on @zfd
 * @sn:		sentry; zyg_fd/zyg_pid are set on success, -1/0 otherwise
 * @zfd:	the sentry's end of the pair; owned by @sn on success,
 *		closed on failure
 *
 * Return: 0, or -EPROTO if no plausible pid (> 1) arrived in time.
 */
int sbx_zygote_hello(struct sentry *sn, int zfd)
{
	struct pollfd p = { .fd = zfd, .events = POLLIN };
	int32_t pid;

	sn->zyg_fd = -1;
	sn->zyg_pid = 0;
	if (poll(&p, 1, 2000) != 1 ||
	    recv(zfd, &pid, sizeof(pid), MSG_DONTWAIT) != sizeof(pid) ||
	    pid <= 1) {
		close(zfd);
		return -EPROTO;
	}
	sn->zyg_fd = zfd;
	sn->zyg_pid = pid;
	return 0;
}

/**
 * sbx_zygote_exec() - ask the zygote to start a process
 * @sn:		sentry
 * @req:	packed ExecRequest, at most SBX_ZYG_MSG_MAX bytes
 * @len:	its length
 * @fds:	stdin, stdout, stderr, passed by SCM_RIGHTS; still the caller's
 * @err:	set on failure
 *
 * Waits up to 2 s for the reply. If the zygote does not take the request
 * or does not answer, its fd is closed and zyg_fd set to -1: every later
 * exec fails with ESRCH, and the sandbox itself goes on.
 * Return: the new process's pid, or a negative errno with @err set.
 */
int sbx_zygote_exec(struct sentry *sn, const uint8_t *req, size_t len,
		    const int fds[3], struct cove_err *err)
{
	union {
		struct cmsghdr h;
		char c[CMSG_SPACE(sizeof(int) * 3)];
	} u;
	struct iovec iov = { .iov_base = (void *)req, .iov_len = len };
	struct msghdr m = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.c,
		.msg_controllen = sizeof(u.c),
	};
	struct pollfd p = { .fd = sn->zyg_fd, .events = POLLIN };
	struct cmsghdr *cm;
	int32_t reply;

	if (sn->zyg_fd < 0)
		return cove_err_set(
			err, ESRCH,
			"the sandbox cannot start processes any more (its exec helper is gone)");
	if (len > SBX_ZYG_MSG_MAX)
		return cove_err_set(
			err, E2BIG,
			"command line and environment exceed %u bytes",
			SBX_ZYG_MSG_MAX);
	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * 3);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * 3);
	if (sendmsg(sn->zyg_fd, &m, MSG_NOSIGNAL) != (ssize_t)len)
		goto gone;
	/* The zygote only forks: it answers in well under a second. */
	if (poll(&p, 1, 2000) != 1 || recv(sn->zyg_fd, &reply, sizeof(reply),
					   MSG_DONTWAIT) != sizeof(reply))
		goto gone;
	if (reply < 0)
		return cove_err_set(err, -reply, "starting the process");
	return reply;
gone:
	close(sn->zyg_fd);
	sn->zyg_fd = -1;
	return cove_err_set(
		err, EPIPE,
		"the sandbox's exec helper does not answer; exec is unavailable");
}
