// SPDX-License-Identifier: Apache-2.0
/* cove run's runtime side: state, the sentry's birth, signals, clean-up. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control/control.h"
#include "control/cove.pb-c.h"
#include "common/clock.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * The runtime stays in the host namespaces. It forks the sentry with
 * clone(CLONE_NEWPID) (fork semantics, no new stack), so the sentry is
 * PID 1 of a new pid namespace while the runtime's own later children
 * (none in cove, but sanitizers' helpers) stay in the host's; the sentry
 * makes the other namespaces itself. Two
 * pipes synchronise its birth: the sentry says "R" (netns exists), the
 * runtime attaches the veth and says "G". From then on the control channel
 * carries the rest (docs/CONTROL.md): the sentry listens on its control
 * socket and writes one byte to a third pipe, the readiness fd; the
 * runtime waits for that byte (or, if it never comes in time, dials with
 * the retrying dialer), connects, says hello, asks cove.Health (answered
 * from the sentry's loop, so once the program runs) and sends cove.Wait
 * for "main", whose answer is the program's exit status. A set-up failure
 * still arrives as "E<message>" on the first pipe, before the sentry
 * exits and closes the readiness pipe or the channel.
 *
 * While cove.Wait is pending the runtime polls the channel and a
 * signalfd: signals are forwarded to the sentry (which forwards them to
 * the program) and the sentry's own exit is noticed. The runtime still
 * reaps the sentry before it cleans up, so that the sentry's linger (the
 * stack flushing its last bytes) runs before the veth goes.
 *
 * Every exit path goes through rt_run()'s clean-up: the sentry is killed
 * if still alive and reaped, the host veth and published ports deleted,
 * the state dir removed. If the runtime itself is killed, the sentry dies
 * with it (PR_SET_PDEATHSIG) and `cove gc`, or the next `cove run`,
 * removes what is left.
 */

#define SBX_SETUP_MS	  60000 /* the sentry's set-up, until it listens */
#define SBX_READY_DIAL_MS 250	/* dial after the readiness byte */

/* rt_cpu_us() - CPU time used by the runtime so far (user + system). */
static uint64_t rt_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		       1000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/**
 * rt_control_connect() - reach the sentry's control channel after its birth
 * @o:		options
 * @cfg:	dialer configuration
 * @ready_rd:	read end of the readiness pipe
 * @out:	the client, hello done
 * @err:	reason; EPIPE means the sentry exited before it listened (its
 *		"E<message>" is then on the sync pipe)
 *
 * The readiness byte comes first: a blocking wait, then one dial. If the
 * byte does not come within SBX_SETUP_MS, or COVE_TEST_NO_READY_FD is set
 * (tests), the retrying dialer (doubling pauses up to the cap)
 * is what finds the listener. --verbose prints when it connected, after
 * how many attempts, and the CPU time spent waiting.
 *
 * Return: 0 or -1.
 */
static int rt_control_connect(const struct sbx_opts *o,
			      const struct cove_config *cfg, int ready_rd,
			      struct cove_ctl_client **out,
			      struct cove_err *err)
{
	uint64_t t0 = cove_now_us(), cpu0 = rt_cpu_us(), t1, cpu;
	struct cove_ctl_dial_opts d;
	struct cove_ctl_conn conn;
	struct cove_ctl_addr a;
	struct timespec ts;
	const char *via = "dialer";
	char sched[COVE_CTL_TRACE_MAX * 7 + 32];

	if (cove_ctl_addr_parse("unix", o->name, &a, err) < 0)
		return -1;
	cove_ctl_dial_opts_from(&d, cfg);
	if (!getenv("COVE_TEST_NO_READY_FD")) {
		if (cove_ctl_wait_ready(ready_rd, cove_now_ms() + SBX_SETUP_MS,
					err) == 0) {
			via = "readiness fd";
			if (d.deadline_ms > SBX_READY_DIAL_MS)
				d.deadline_ms = SBX_READY_DIAL_MS;
		} else if (err->code == ETIMEDOUT) {
			sbx_step(o, "control: no readiness byte, dialing");
			d.ready_fd = ready_rd;
		} else {
			return -1;
		}
	}
	if (cove_ctl_dial(&a, &d, &conn, err) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = cove_now_us();
	cpu = rt_cpu_us() - cpu0;
	sbx_step(o,
		 "control: connected after %u attempts via %s (monotonic %lld.%06ld s; waited %llu.%03llu ms, cpu %llu.%03llu ms)",
		 conn.attempts, via, (long long)ts.tv_sec, ts.tv_nsec / 1000,
		 (unsigned long long)((t1 - t0) / 1000),
		 (unsigned long long)((t1 - t0) % 1000),
		 (unsigned long long)(cpu / 1000),
		 (unsigned long long)(cpu % 1000));
	sbx_step(o,
		 "control: dial schedule: %s; last two attempts at monotonic %lld.%06lld s and %lld.%06lld s",
		 cove_ctl_trace_str(&conn.trace, sched, sizeof(sched)),
		 (long long)(conn.trace.prev_start_ns / 1000000000),
		 (long long)(conn.trace.prev_start_ns % 1000000000 / 1000),
		 (long long)(conn.trace.last_start_ns / 1000000000),
		 (long long)(conn.trace.last_start_ns % 1000000000 / 1000));
	return cove_ctl_client_adopt(&conn, cfg, out, err);
}

/**
 * rt_control_started() - ask cove.Health until the program runs
 * @o:		options
 * @c:		client
 * @err:	reason: the channel closed (the sentry failed to spawn the
 *		program, its "E<message>" is on the sync pipe) or timed out
 *
 * The sentry serves requests from its loop only, which starts after the
 * spawn, so the first answer normally says SERVING (or STOPPING for a
 * program that ended already).
 *
 * Return: 0 or -1.
 */
static int rt_control_started(const struct sbx_opts *o,
			      struct cove_ctl_client *c, struct cove_err *err)
{
	int64_t deadline = cove_now_ms() + SBX_SETUP_MS;
	Cove__Control__HealthResponse *h;
	struct cove_ctl_response resp;
	int state;

	for (;;) {
		int64_t left = deadline - cove_now_ms();

		if (left <= 0)
			return cove_err_set(
				err, ETIMEDOUT,
				"the program did not start within %d ms",
				SBX_SETUP_MS);
		if (cove_ctl_client_call(c, "cove.Health", NULL, 0,
					 (uint32_t)left, &resp, err) < 0)
			return -1;
		if (resp.code != COVE_CTL_OK) {
			free(resp.payload);
			return cove_err_set(err, EPROTO,
					    "control: cove.Health: %s",
					    resp.message);
		}
		h = cove__control__health_response__unpack(NULL,
							   resp.payload_len,
							   resp.payload);
		free(resp.payload);
		if (!h)
			return cove_err_set(err, EPROTO,
					    "control: malformed HealthResponse");
		state = h->state;
		cove__control__health_response__free_unpacked(h, NULL);
		if (state != COVE__CONTROL__HEALTH_RESPONSE__STATE__STARTING)
			break;
		usleep(2000);
	}
	sbx_step(o, "control: health %s",
		 state == COVE__CONTROL__HEALTH_RESPONSE__STATE__SERVING ?
			 "SERVING" :
			 "STOPPING");
	return 0;
}

/**
 * rt_wait_answer() - take cove.Wait's answer if it has arrived
 * @o:		options
 * @c:		client
 * @stream:	the Wait call
 * @code:	set to the program's exit status (128+N after signal N)
 *
 * Return: 1 answer taken, 0 not there yet, -1 the channel is gone.
 */
static int rt_wait_answer(const struct sbx_opts *o, struct cove_ctl_client *c,
			  uint32_t stream, int *code)
{
	Cove__Control__WaitResponse *w = NULL;
	struct cove_ctl_response resp;
	struct cove_err err = { 0 };

	if (cove_ctl_client_recv(c, stream, 0, &resp, &err) < 0) {
		if (err.code == ETIMEDOUT)
			return 0;
		sbx_step(o, "%s", err.msg);
		return -1;
	}
	if (resp.code == COVE_CTL_OK)
		w = cove__control__wait_response__unpack(NULL, resp.payload_len,
							 resp.payload);
	free(resp.payload);
	if (!w) {
		sbx_step(o, "control: cove.Wait: %s",
			 resp.code ? resp.message : "malformed WaitResponse");
		return -1;
	}
	*code = w->exit_code;
	sbx_step(o, "control: main exited, status %d%s%s", w->exit_code,
		 w->signal ? ", signal " : "",
		 w->signal ? strsignal(w->signal) : "");
	cove__control__wait_response__free_unpacked(w, NULL);
	return 1;
}

/* rt_read_reply() - the sentry's next message: 'R', 'S' or 'E' + text. */
static char rt_read_reply(int fd, char *msg, size_t len)
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
 * rt_wait_sentry() - wait for the program over the channel and for the
 * sentry's exit, forwarding signals meanwhile
 * @o:		options
 * @pid:	the sentry
 * @c:		client with cove.Wait pending on @stream, or NULL
 * @stream:	the Wait call
 * @status:	the sentry's wait status
 * @code:	set to the program's exit status from cove.Wait, or left
 *		alone when the channel did not tell (sentry killed)
 */
static void rt_wait_sentry(const struct sbx_opts *o, pid_t pid,
			   struct cove_ctl_client *c, uint32_t stream,
			   int *status, int *code)
{
	struct signalfd_siginfo si;
	struct pollfd p[2];
	sigset_t set;
	int sfd;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	for (;;) {
		if (waitpid(pid, status, WNOHANG) == pid)
			break;
		if (sfd < 0) {
			if (waitpid(pid, status, 0) == pid)
				break;
			continue;
		}
		p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = c ? cove_ctl_client_fd(c) : -1,
					.events = POLLIN };
		if (poll(p, 2, -1) < 0)
			continue;
		if (c && p[1].revents && rt_wait_answer(o, c, stream, code))
			c = NULL; /* answered, or the channel is gone */
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			/* The terminal signals the whole foreground group. */
			if (si.ssi_signo != SIGCHLD && si.ssi_code != SI_KERNEL)
				kill(pid, (int)si.ssi_signo);
		}
	}
	/* An answer sent just before the sentry exited is still readable. */
	if (c)
		(void)rt_wait_answer(o, c, stream, code);
	if (sfd >= 0)
		close(sfd);
}

/* rt_fail_reply() - the sentry's "E<message>" after the channel failed. */
static int rt_fail_reply(int fd, struct cove_err *err)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char msg[COVE_ERR_MSG_MAX + 2];

	/* Written before the sentry exited, so before the channel closed;
	 * a live sentry that wrote nothing must not block us. */
	if (poll(&p, 1, 100) == 1 &&
	    rt_read_reply(fd, msg, sizeof(msg)) == 'E') {
		cove_err_set(err, 0, "%s", msg + 1);
		return 1;
	}
	return 0;
}

int rt_run(struct sbx_opts *o)
{
	struct rt_state st = { .lock_fd = -1 };
	struct cove_err err = { 0 };
	struct cove_ctl_client *ctl = NULL;
	struct cove_config cfg;
	char msg[COVE_ERR_MSG_MAX + 2], ipbuf[INET_ADDRSTRLEN];
	char host[16], peer[16];
	int to_sentry[2] = { -1, -1 }, from_sentry[2] = { -1, -1 };
	int ready[2] = { -1, -1 };
	int status = 0, ret = SBX_EXIT_COVE, code = -1;
	bool veth = false, published = false, started = false;
	Cove__Control__WaitRequest wr = COVE__CONTROL__WAIT_REQUEST__INIT;
	uint8_t wbuf[32];
	uint32_t wait_stream = 0;
	sigset_t set, old;
	pid_t pid = -1;
	char r;

	sbx_step_start();
	if (geteuid() != 0) {
		fprintf(stderr,
			"cove run: needs root (namespaces, veth, seccomp listener)\n");
		return SBX_EXIT_COVE;
	}
	if (cove_config_load(NULL, &cfg, &err) < 0) {
		fprintf(stderr, "cove run: %s\n", err.msg);
		return SBX_EXIT_COVE;
	}
	if (rt_state_create(o, &st, &err) < 0)
		goto fail;
	sbx_step(o, "state %s, network %s", st.dir, o->network);
	if (o->have_ip) {
		inet_ntop(AF_INET, &o->ip, ipbuf, sizeof(ipbuf));
		sbx_step(o, "sandbox address %s/%u, host side %s", ipbuf,
			 o->prefix_len, inet_ntoa(o->gateway));
	}
	if (pipe2(to_sentry, O_CLOEXEC) < 0 ||
	    pipe2(from_sentry, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
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
		cove_err_set(&err, errno,
			     "cannot start the sentry in a new pid namespace");
		goto fail;
	}
	if (pid == 0) {
		/* The lock means "cove run lives": a killed runtime frees it at
		 * once, and gc deals with a sentry that has not died yet. */
		close(st.lock_fd);
		close(to_sentry[1]);
		close(from_sentry[0]);
		close(ready[0]);
		sbx_sentry_main(o, to_sentry[0], from_sentry[1], ready[1]);
	}
	close(to_sentry[0]);
	close(from_sentry[1]);
	close(ready[1]);
	to_sentry[0] = from_sentry[1] = ready[1] = -1;
	rt_state_pid(&st, pid);
	rt_state_write(&st, "network", "%s\n", o->network); /* cove list */
	sbx_step(o, "sentry started (pid %d)", (int)pid);

	r = rt_read_reply(from_sentry[0], msg, sizeof(msg));
	if (r == 'E') {
		cove_err_set(&err, 0, "%s", msg + 1);
		goto fail;
	}
	if (r != 'R') {
		cove_err_set(&err, 0, "the sentry died during set-up");
		goto fail;
	}
	if (!o->netns_path && o->mode != SBX_NET_NONE) {
		if (rt_attach_host(o, pid, &err) < 0)
			goto fail;
		veth = true;
		sbx_veth_names(o->ip, host, peer);
		rt_state_write(&st, "veth", "%s\n", host);
		sbx_step(o, "veth %s attached", host);
	}
	if (o->npublish) {
		if (rt_publish_add(o, &err) < 0)
			goto fail;
		published = true;
		rt_state_write(&st, "publish", "1\n");
		sbx_step(o, "ports published");
	}
	if (write(to_sentry[1], "G", 1) != 1) {
		cove_err_set(&err, errno, "the sentry died during set-up");
		goto fail;
	}
	/* The birth is over: the control channel carries the rest. */
	if (rt_control_connect(o, &cfg, ready[0], &ctl, &err) < 0 ||
	    rt_control_started(o, ctl, &err) < 0) {
		if (rt_fail_reply(from_sentry[0], &err)) {
			/* The sentry's exit status says why (127: not found). */
			waitpid(pid, &status, 0);
			ret = WIFEXITED(status) ? WEXITSTATUS(status) :
						  SBX_EXIT_COVE;
			pid = -1;
			goto fail_quiet_status;
		}
		/*
		 * No message: the program ran and ended so quickly that the
		 * sentry left before serving us. Its exit status is the
		 * program's, so wait for it as before the channel existed.
		 */
		sbx_step(o, "%s; waiting for the sentry instead", err.msg);
		cove_ctl_client_close(ctl);
		ctl = NULL;
	} else {
		wr.id = "main";
		if (cove_ctl_client_send(ctl, "cove.Wait", wbuf,
					 cove__control__wait_request__pack(&wr,
									   wbuf),
					 1000, &wait_stream, &err) < 0) {
			sbx_step(o, "%s", err.msg);
			cove_ctl_client_close(ctl);
			ctl = NULL;
		}
	}
	started = true;
	sbx_step(o, "program running");
	rt_wait_sentry(o, pid, ctl, wait_stream, &status, &code);
	pid = -1;
	if (WIFSIGNALED(status)) {
		fprintf(stderr,
			"cove run: the sentry of sandbox %s was killed by signal %d (%s)\n",
			o->name, WTERMSIG(status), strsignal(WTERMSIG(status)));
		ret = SBX_EXIT_COVE;
	} else if (code >= 0) {
		ret = code;
	} else {
		sbx_step(o,
			 "control: no answer to cove.Wait; the sentry's status instead");
		ret = WEXITSTATUS(status);
	}
	goto out;

fail_quiet_status:
	fprintf(stderr, "cove run: %s\n", err.msg);
	goto out;
fail:
	fprintf(stderr, "cove run: %s\n", err.msg);
	ret = SBX_EXIT_COVE;
out:
	cove_ctl_client_close(ctl);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (published)
		rt_publish_del(o->ip);
	if (veth)
		rt_detach_host(o->ip);
	rt_state_remove(&st);
	if (to_sentry[1] >= 0)
		close(to_sentry[1]);
	if (from_sentry[0] >= 0)
		close(from_sentry[0]);
	if (ready[0] >= 0)
		close(ready[0]);
	sbx_step(o, "cleaned up, exit %d%s", ret,
		 started ? "" : " (not started)");
	return ret;
}
