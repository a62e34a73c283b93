// SPDX-License-Identifier: Apache-2.0
/* cove run's runtime side: state, the sentry's birth, signals, clean-up. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control/control.h"
#include "sentry/sandbox.h"

/*
 * Theory of operation
 *
 * The runtime stays in the host namespaces. It forks the sentry with
 * clone(CLONE_NEWPID) (fork semantics, no new stack), so the sentry is
 * PID 1 of a new pid namespace while the runtime's own later children
 * (none in cove, but sanitizers' helpers) stay in the host's; the sentry
 * makes the other namespaces itself. Two
 * pipes synchronise them: the sentry says "R" (netns exists), the runtime
 * attaches the veth and says "G", the sentry says "S" (program running) or
 * "E<message>" (set-up failed).
 *
 * Every exit path goes through sbx_run()'s clean-up: the sentry is killed
 * if still alive and reaped, the host veth and published ports deleted,
 * the state dir removed. If the runtime itself is killed, the sentry dies
 * with it (PR_SET_PDEATHSIG) and `cove gc`, or the next `cove run`,
 * removes what is left.
 */

static uint64_t sbx_t0;

static uint64_t sbx_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
}

void sbx_step(const struct sbx_opts *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	uint64_t t;

	if (!o->verbose)
		return;
	t = sbx_mono_us() - sbx_t0;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "cove run: [%4llu.%03llu ms] %s\n",
		(unsigned long long)(t / 1000), (unsigned long long)(t % 1000),
		line);
}

/*
 * sbx_control_check() - dial the sentry's control channel and ask
 * cove.Health: the listener is up before "started", so this needs no
 * retry. A failure is only logged (--verbose): the program already runs,
 * and may even have finished, taking the sentry with it.
 */
static void sbx_control_check(const struct sbx_opts *o)
{
	struct cove_ctl_client *c = NULL;
	struct cove_ctl_response resp = { 0 };
	struct cove_ctl_addr a;
	struct cove_err err = { 0 };

	if (cove_ctl_addr_parse("unix", o->name, &a, &err) < 0 ||
	    cove_ctl_client_open(&a, NULL, -1, &c, &err) < 0 ||
	    cove_ctl_client_call(c, "cove.Health", NULL, 0, 1000, &resp,
				 &err) < 0) {
		/* Benign when the program was quick and the sentry is gone. */
		sbx_step(o, "control channel not answered: %s", err.msg);
	} else {
		sbx_step(o, "control channel: hello and health answered (code %d)",
			 resp.code);
	}
	free(resp.payload);
	cove_ctl_client_close(c);
}

/* sbx_read_reply() - the sentry's next message: 'R', 'S' or 'E' + text. */
static char sbx_read_reply(int fd, char *msg, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, msg, len - 1);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	msg[n] = '\0';
	return msg[0];
}

/**
 * sbx_wait_sentry() - forward signals until the sentry exits
 * @o:		options
 * @pid:	the sentry
 * @status:	its wait status
 */
static void sbx_wait_sentry(const struct sbx_opts *o, pid_t pid, int *status)
{
	struct signalfd_siginfo si;
	sigset_t set;
	int sfd;

	(void)o;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (;;) {
		if (waitpid(pid, status, WNOHANG) == pid)
			break;
		if (sfd < 0 || read(sfd, &si, sizeof(si)) != sizeof(si)) {
			if (waitpid(pid, status, 0) == pid)
				break;
			continue;
		}
		/* The terminal signals the whole foreground group itself. */
		if (si.ssi_signo != SIGCHLD && si.ssi_code != SI_KERNEL)
			kill(pid, (int)si.ssi_signo);
	}
	if (sfd >= 0)
		close(sfd);
}

int sbx_run(struct sbx_opts *o)
{
	struct sbx_state st = { .lock_fd = -1 };
	struct cove_err err = { 0 };
	char msg[COVE_ERR_MSG_MAX + 2], ipbuf[INET_ADDRSTRLEN];
	char host[16], peer[16];
	int to_sentry[2] = { -1, -1 }, from_sentry[2] = { -1, -1 };
	int status = 0, ret = SBX_EXIT_COVE;
	bool veth = false, published = false, started = false;
	sigset_t set, old;
	pid_t pid = -1;
	char r;

	sbx_t0 = sbx_mono_us();
	if (geteuid() != 0) {
		fprintf(stderr, "cove run: needs root (namespaces, veth, seccomp listener)\n");
		return SBX_EXIT_COVE;
	}
	if (sbx_state_create(o, &st, &err) < 0)
		goto fail;
	sbx_step(o, "state %s, network %s", st.dir, o->network);
	if (o->have_ip) {
		inet_ntop(AF_INET, &o->ip, ipbuf, sizeof(ipbuf));
		sbx_step(o, "sandbox address %s/%u, host side %s", ipbuf,
			 o->prefix_len, inet_ntoa(o->gateway));
	}
	if (pipe2(to_sentry, O_CLOEXEC) < 0 ||
	    pipe2(from_sentry, O_CLOEXEC) < 0) {
		cove_err_set(&err, errno, "pipes");
		goto fail;
	}
	/* Signals wait in the signalfd from now on; the sentry resets them. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);
	/* fork() into a new pid namespace; the runtime itself stays put. */
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL,
			     NULL, NULL);
	if (pid < 0) {
		cove_err_set(&err, errno, "cannot start the sentry in a new pid namespace");
		goto fail;
	}
	if (pid == 0) {
		/* The lock means "cove run lives": a killed runtime frees it at
		 * once, and gc deals with a sentry that has not died yet. */
		close(st.lock_fd);
		close(to_sentry[1]);
		close(from_sentry[0]);
		sbx_sentry_main(o, to_sentry[0], from_sentry[1]);
	}
	close(to_sentry[0]);
	close(from_sentry[1]);
	to_sentry[0] = from_sentry[1] = -1;
	sbx_state_pid(&st, pid);
	sbx_state_write(&st, "network", "%s\n", o->network);	/* cove list */
	sbx_step(o, "sentry started (pid %d)", (int)pid);

	r = sbx_read_reply(from_sentry[0], msg, sizeof(msg));
	if (r == 'E') {
		cove_err_set(&err, 0, "%s", msg + 1);
		goto fail;
	}
	if (r != 'R') {
		cove_err_set(&err, 0, "the sentry died during set-up");
		goto fail;
	}
	if (!o->netns_path && o->mode != SBX_NET_NONE) {
		if (sbx_attach_host(o, pid, &err) < 0)
			goto fail;
		veth = true;
		sbx_veth_names(o->ip, host, peer);
		sbx_state_write(&st, "veth", "%s\n", host);
		sbx_step(o, "veth %s attached", host);
	}
	if (o->npublish) {
		if (sbx_publish_add(o, &err) < 0)
			goto fail;
		published = true;
		sbx_state_write(&st, "publish", "1\n");
		sbx_step(o, "ports published");
	}
	if (write(to_sentry[1], "G", 1) != 1) {
		cove_err_set(&err, errno, "the sentry died during set-up");
		goto fail;
	}
	r = sbx_read_reply(from_sentry[0], msg, sizeof(msg));
	if (r == 'E') {
		cove_err_set(&err, 0, "%s", msg + 1);
		waitpid(pid, &status, 0);
		ret = WIFEXITED(status) ? WEXITSTATUS(status) : SBX_EXIT_COVE;
		pid = -1;
		goto fail_quiet_status;
	}
	if (r != 'S') {
		cove_err_set(&err, 0, "the sentry died during set-up");
		goto fail;
	}
	started = true;
	sbx_control_check(o);
	sbx_step(o, "program running");
	sbx_wait_sentry(o, pid, &status);
	pid = -1;
	if (WIFEXITED(status)) {
		ret = WEXITSTATUS(status);
	} else {
		fprintf(stderr, "cove run: the sentry of sandbox %s was killed by signal %d (%s)\n",
			o->name, WTERMSIG(status), strsignal(WTERMSIG(status)));
		ret = SBX_EXIT_COVE;
	}
	goto out;

fail_quiet_status:
	fprintf(stderr, "cove run: %s\n", err.msg);
	goto out;
fail:
	fprintf(stderr, "cove run: %s\n", err.msg);
	ret = SBX_EXIT_COVE;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (published)
		sbx_publish_del(o->ip);
	if (veth)
		sbx_detach_host(o->ip);
	sbx_state_remove(&st);
	if (to_sentry[1] >= 0)
		close(to_sentry[1]);
	if (from_sentry[0] >= 0)
		close(from_sentry[0]);
	sbx_step(o, "cleaned up, exit %d%s", ret, started ? "" : " (not started)");
	return ret;
}
