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
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/testhook.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * The runtime stays in the host namespaces. It forks the sentry into a new
 * pid namespace (rt_fork_in_pidns()), so the sentry is PID 1 there while
 * the runtime's own later children (none in cove, but sanitizers' helpers)
 * stay in the host's; the sentry
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
 * rt_run() is a list of named steps over one struct rt_run, after
 * rt_host_check() (hostcheck.c) made sure that --ip and --publish take
 * nothing the host uses:
 *
 *   rt_prepare_state   lock /run/cove, gc, name, address, published ports
 *                      no other sandbox has, state dir
 *   rt_start_sentry    pipes, clone, "pid" and "network" in the state dir
 *   rt_await_netns     the sentry's "R"
 *   rt_make_veth       the veth pair, host end addressed
 *   rt_publish_ports   the --publish nft table
 *   rt_release_sentry  "G"
 *   rt_connect         control channel: hello, Health, Wait
 *   rt_drop_privs      only the capabilities teardown needs (privs.c)
 *   rt_wait            signals forwarded until the sentry is reaped
 *   rt_teardown        always, whichever step failed
 *
 * Ownership: a step makes its objects in locals that release themselves
 * (common/cleanup.h) and hands them to struct rt_run only when complete
 * (cove_steal_fd(), or a flag such as rt_run.veth once the thing exists
 * on the host). Whatever rt_run holds, rt_teardown() releases, and only
 * it: the sentry is killed if still alive and reaped, then the nft table,
 * the host veth and the state dir go, in that order. Once the program has
 * exited and cove.Wait has said so, that happens in a background child
 * and cove run exits at once (rt_teardown_behind()); with --netns it stays
 * in cove run, which gives the caller's netns back as it was before it
 * returns. Until the program has exited, if the runtime itself is killed
 * the sentry dies with it (PR_SET_PDEATHSIG, which the sentry drops when
 * the program exits, to finish on its own) and `cove gc`, or the next
 * `cove run`, removes what is left.
 */

#define SBX_SETUP_MS	  60000 /* the sentry's set-up, until it listens */
#define SBX_READY_DIAL_MS 250	/* dial after the readiness byte */
/* a finishing sentry: its linger (2 s at most) and link close, then KILL */
#define RT_FINISH_MS 10000

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
	if (!cove_test_hook_set("NO_READY_FD")) {
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

/*
 * rt_signal_set() - the signals the runtime takes through its signalfd:
 * SIGCHLD (the sentry's exit) and the four it forwards.
 */
static void rt_signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

/**
 * rt_wait_sentry() - wait for the program over the channel and for the
 * sentry's exit, forwarding signals meanwhile
 * @o:		options
 * @pid:	the sentry
 * @c:		client with cove.Wait pending on @stream, or NULL
 * @stream:	the Wait call
 * @status:	the sentry's wait status, if it was reaped
 * @code:	set to the program's exit status from cove.Wait, or left
 *		alone when the channel did not tell (sentry killed)
 *
 * Returns once cove.Wait has answered (the sentry may still be finishing:
 * its linger, its link's close) or the sentry is reaped. Without a
 * signalfd (it failed to open) signals are not forwarded and the wait
 * blocks in waitpid().
 *
 * Return: true if the sentry was reaped.
 */
static bool rt_wait_sentry(const struct sbx_opts *o, pid_t pid,
			   struct cove_ctl_client *c, uint32_t stream,
			   int *status, int *code)
{
	cove_cleanup_close int sfd = -1;
	struct signalfd_siginfo si;
	struct pollfd p[2];
	sigset_t set;

	rt_signal_set(&set);
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
		if (*code >= 0)
			return waitpid(pid, status, WNOHANG) == pid;
	}
	/* An answer sent just before the sentry exited is still readable. */
	if (c)
		(void)rt_wait_answer(o, c, stream, code);
	return true;
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

/*
 * struct rt_run - what one `cove run` owns between its set-up steps
 *
 * Each step of rt_run() makes its objects in locals that clean up after
 * themselves, and hands them to this struct only once they are complete;
 * from then on rt_teardown() alone releases them, in a fixed order. A
 * field holds its empty value (-1, NULL, false) while there is nothing to
 * release.
 */
struct rt_run {
	struct sbx_opts *o;
	struct cove_config cfg;
	struct rt_state st;	     /* /run/cove/NAME and its lock */
	pid_t pid;		     /* the sentry until it is reaped, or -1 */
	int to_sentry;		     /* write end: "G" */
	int from_sentry;	     /* read end: "R", "E<message>" */
	int ready_rd;		     /* read end of the readiness pipe */
	bool veth;		     /* the host end of the veth exists */
	bool published;		     /* the --publish nft table exists */
	bool started;		     /* the program ran */
	bool sentry_killed;	     /* it died without its own clean-up */
	bool cgroup;		     /* o->limits.path exists */
	struct cove_ctl_client *ctl; /* cove.Wait pending on it, or NULL */
	uint32_t wait_stream;	     /* that cove.Wait */
	int ret;		     /* cove run's exit status */
};

/*
 * rt_open_pcap() - --pcap FILE: create (or empty) it now, so that a path
 * that cannot be written fails before anything is made; the sentry's link
 * writes to the fd (its own mount namespace may not see the path).
 * Return: 0 or -1.
 */
static int rt_open_pcap(struct rt_run *r, struct cove_err *err)
{
	if (!r->o->pcap_path)
		return 0;
	r->o->pcap_fd =
		open(r->o->pcap_path,
		     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		     0600);
	if (r->o->pcap_fd < 0)
		return cove_err_set(err, errno, "--pcap %s", r->o->pcap_path);
	return 0;
}

/**
 * rt_prepare_state() - lock /run/cove, collect stale state, claim a name
 * and an address
 * @r:		the run; r->st owns the state dir and its lock on success
 * @err:	reason
 *
 * The address is picked in rt_state_create() under the global lock, with
 * the addresses of the live sandboxes that gc has just listed.
 *
 * Return: 0 or -1.
 */
static int rt_prepare_state(struct rt_run *r, struct cove_err *err)
{
	char ipbuf[INET_ADDRSTRLEN], ip6[INET6_ADDRSTRLEN],
		gw6[INET6_ADDRSTRLEN];

	if (rt_state_create(r->o, &r->st, err) < 0)
		return -1;
	sbx_step(r->o, "state %s, network %s", r->st.dir, r->o->network);
	if (r->o->have_ip) {
		inet_ntop(AF_INET, &r->o->ip, ipbuf, sizeof(ipbuf));
		sbx_step(r->o, "sandbox address %s/%u, host side %s", ipbuf,
			 r->o->prefix_len, inet_ntoa(r->o->gateway));
	}
	if (r->o->have_ip6) {
		inet_ntop(AF_INET6, &r->o->ip6, ip6, sizeof(ip6));
		inet_ntop(AF_INET6, &r->o->gateway6, gw6, sizeof(gw6));
		sbx_step(r->o, "sandbox IPv6 address %s/%u, host side %s", ip6,
			 r->o->prefix6_len, gw6);
	}
	return 0;
}

/*
 * rt_fork_in_pidns() - fork() a child that is PID 1 of a new pid
 * namespace. Not a raw clone(CLONE_NEWPID): glibc records each thread's
 * TID at fork(), and after a raw clone the child's record is still the
 * parent's, so the pthread calls that use it (pthread_setaffinity_np(), as
 * DPDK's EAL does at start) act on a pid that does not exist. unshare()
 * moves only the children to come into the new namespace, and setns() back
 * to our own right after the fork keeps later children in the host's.
 * Return: as fork(); -1 with errno set.
 */
static pid_t rt_fork_in_pidns(void)
{
	cove_cleanup_close int self =
		open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	pid_t pid;
	int e;

	if (self < 0 || unshare(CLONE_NEWPID) < 0)
		return -1;
	pid = fork();
	if (pid == 0)
		return 0;
	e = errno;
	if (setns(self, CLONE_NEWPID) < 0) {
		e = errno;
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		pid = -1;
	}
	errno = e;
	return pid;
}

/**
 * rt_fork_sentry() - make the three pipes and clone the sentry into a new
 * pid namespace
 * @r:		the run; on success r->pid, r->to_sentry, r->from_sentry and
 *		r->ready_rd are set and owned by it
 * @err:	reason
 *
 * The runtime's signals are blocked from here on (they wait in the
 * signalfd of rt_wait_sentry(); the sentry resets its mask). The child
 * never returns: it closes the runtime's ends and the state lock, then
 * becomes the sentry. In the runtime the sentry's ends close when this
 * function returns, once the runtime's ends are handed to @r.
 *
 * Return: 0 or -1.
 */
static int rt_fork_sentry(struct rt_run *r, struct cove_err *err)
{
	cove_cleanup_close int to_rd = -1, to_wr = -1;
	cove_cleanup_close int from_rd = -1, from_wr = -1;
	cove_cleanup_close int ready_rd = -1, ready_wr = -1;
	sigset_t set;
	pid_t pid;

	if (cove_pipe(&to_rd, &to_wr) < 0 ||
	    cove_pipe(&from_rd, &from_wr) < 0 ||
	    cove_pipe(&ready_rd, &ready_wr) < 0)
		return cove_err_set(err, errno, "pipes");
	rt_signal_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(NULL);
	pid = rt_fork_in_pidns();
	if (pid < 0)
		return cove_err_set(
			err, errno,
			"cannot start the sentry in a new pid namespace");
	if (pid == 0) {
		/* The lock means "cove run lives": a killed runtime frees it at
		 * once, and gc deals with a sentry that has not died yet. An
		 * OCI container's sentry holds it itself, as it outlives
		 * `cove create`. */
		if (!r->o->oci)
			close(r->st.lock_fd);
		close(to_wr);
		close(from_rd);
		close(ready_rd);
		sbx_sentry_main(r->o, to_rd, from_wr, ready_wr);
	}
	r->pid = pid;
	r->to_sentry = cove_steal_fd(&to_wr);
	r->from_sentry = cove_steal_fd(&from_rd);
	r->ready_rd = cove_steal_fd(&ready_rd);
	return 0;
}

/**
 * rt_enter_cgroup() - --memory, --cpus, --pids: make the sandbox's cgroup
 * /cove/NAME and move this process into it, so the sentry forked next and
 * everything it starts are in it (rt_cgroup_enter())
 * @r:		the run; r->cgroup set once the cgroup exists
 * @err:	the cgroup file that could not be written
 *
 * "cgroup" in the state dir lets gc remove it if this process dies.
 *
 * Return: 0 or -1.
 */
static int rt_enter_cgroup(struct rt_run *r, struct cove_err *err)
{
	struct sbx_limits *l = &r->o->limits;

	if (!l->any)
		return 0;
	snprintf(l->path, sizeof(l->path), "/cove/%s", r->o->name);
	rt_state_write(&r->st, "cgroup", "%s\n", l->path);
	if (rt_cgroup_enter(l, err) < 0)
		return -1;
	r->cgroup = true;
	sbx_step(r->o, "cgroup %s", l->path);
	return 0;
}

/**
 * rt_start_sentry() - start the sentry and record it in the state dir
 * @r:		the run
 * @err:	reason
 *
 * "pid" lets gc kill a sentry that outlived its runtime; "network" is for
 * `cove list`.
 *
 * Return: 0 or -1.
 */
static int rt_start_sentry(struct rt_run *r, struct cove_err *err)
{
	int ret;

	if (rt_enter_cgroup(r, err) < 0)
		return -1;
	ret = rt_fork_sentry(r, err);
	if (r->cgroup)
		rt_cgroup_leave(); /* the sentry stays in it */
	if (ret < 0)
		return -1;
	rt_state_pid(&r->st, r->pid);
	rt_state_write(&r->st, "network", "%s\n", r->o->network);
	sbx_step(r->o, "sentry started (pid %d)", (int)r->pid);
	return 0;
}

/**
 * rt_await_netns() - wait for the sentry's "R": its netns exists
 * @r:		the run
 * @err:	the sentry's "E<message>", or that it died
 *
 * Return: 0 or -1.
 */
static int rt_await_netns(struct rt_run *r, struct cove_err *err)
{
	char msg[COVE_ERR_MSG_MAX + 2];
	char c = rt_read_reply(r->from_sentry, msg, sizeof(msg));

	if (c == 'E')
		return cove_err_set(err, 0, "%s", msg + 1);
	if (c != 'R')
		return cove_err_set(err, 0, "the sentry died during set-up");
	return 0;
}

/**
 * rt_make_veth() - the veth pair into the sentry's netns, host end up
 * @r:		the run; r->veth is set once the pair exists
 * @err:	reason
 *
 * Nothing to do for --netns (the netns is configured already), an OCI
 * namespace a prestart hook configures, or --network=none. rt_attach_host() removes a half-made pair itself.
 *
 * Return: 0 or -1.
 */
static int rt_make_veth(struct rt_run *r, struct cove_err *err)
{
	char host[16], peer[16];

	if (sbx_netns_adopted(r->o) || r->o->mode == SBX_NET_NONE ||
	    (r->o->oci && r->o->oci->host_netns))
		return 0;
	if (rt_attach_host(r->o, r->pid, err) < 0)
		return -1;
	r->veth = true;
	sbx_veth_names(r->o->ip, host, peer);
	rt_state_write(&r->st, "veth", "%s\n", host);
	sbx_step(r->o, "veth %s attached", host);
	return 0;
}

/**
 * rt_publish_ports() - the --publish DNAT rules, if any
 * @r:		the run; r->published is set once the table exists
 * @err:	reason
 *
 * "publish" in the state dir tells gc to delete the table.
 *
 * Return: 0 or -1.
 */
static int rt_publish_ports(struct rt_run *r, struct cove_err *err)
{
	if (!r->o->npublish)
		return 0;
	if (rt_publish_add(r->o, err) < 0)
		return -1;
	r->published = true;
	rt_state_write(&r->st, "publish", "1\n");
	sbx_step(r->o, "ports published");
	return 0;
}

/**
 * rt_ns_ready() - OCI: the caller's step once the sentry's namespaces
 * exist (its prestart and createRuntime hooks), before the sentry goes on
 * @r:		the run
 * @err:	the caller's reason
 *
 * Return: 0 or -1.
 */
static int rt_ns_ready(struct rt_run *r, struct cove_err *err)
{
	if (!r->o->oci || !r->o->oci->ns_ready)
		return 0;
	sbx_step(r->o, "namespaces ready: hooks");
	return r->o->oci->ns_ready(r->o->oci->ns_ready_arg, r->pid, err);
}

/**
 * rt_release_sentry() - say "G": the host side is ready, go on
 * @r:		the run
 * @err:	reason
 *
 * Return: 0 or -1.
 */
static int rt_release_sentry(struct rt_run *r, struct cove_err *err)
{
	if (write(r->to_sentry, "G", 1) != 1)
		return cove_err_set(err, errno,
				    "the sentry died during set-up");
	return 0;
}

/**
 * rt_send_wait() - ask cove.Wait for "main" on the channel
 * @r:		the run; r->ctl is closed and NULL if the request fails
 *
 * A failure is not fatal: rt_wait_sentry() then takes the sentry's exit
 * status, as before the channel existed.
 */
static void rt_send_wait(struct rt_run *r)
{
	Cove__Control__WaitRequest wr = COVE__CONTROL__WAIT_REQUEST__INIT;
	struct cove_err err = { 0 };
	uint8_t wbuf[32];

	wr.id = "main";
	if (cove_ctl_client_send(r->ctl, "cove.Wait", wbuf,
				 cove__control__wait_request__pack(&wr, wbuf),
				 1000, &r->wait_stream, &err) < 0) {
		sbx_step(r->o, "%s", err.msg);
		cove_ctl_client_close(r->ctl);
		r->ctl = NULL;
	}
}

/**
 * rt_connect() - the control channel: connect, hello, Health, Wait
 * @r:		the run; r->ctl owns the client on success (or is NULL when
 *		the program ended before the sentry served the channel)
 * @err:	reason
 *
 * When the channel fails and the sentry left its "E<message>" on the sync
 * pipe, the sentry's exit status is cove run's (127: command not found):
 * it is reaped here and r->ret set to it.
 *
 * Return: 0 (the program runs, or ran), or -1 with r->ret set.
 */
static int rt_connect(struct rt_run *r, struct cove_err *err)
{
	int status = 0;

	if (rt_control_connect(r->o, &r->cfg, r->ready_rd, &r->ctl, err) == 0 &&
	    rt_control_started(r->o, r->ctl, err) == 0) {
		rt_send_wait(r);
		return 0;
	}
	if (rt_fail_reply(r->from_sentry, err)) {
		/* The sentry's exit status says why (127: not found). */
		waitpid(r->pid, &status, 0);
		r->ret = WIFEXITED(status) ? WEXITSTATUS(status) :
					     SBX_EXIT_COVE;
		r->pid = -1;
		return -1;
	}
	/*
	 * No message: the program ran and ended so quickly that the sentry
	 * left before serving us. Its exit status is the program's, so wait
	 * for it as before the channel existed.
	 */
	sbx_step(r->o, "%s; waiting for the sentry instead", err->msg);
	cove_ctl_client_close(r->ctl);
	r->ctl = NULL;
	return 0;
}

/*
 * rt_confine() - set-up is over: drop what teardown does not need
 * (privs.c). Return: 0, or -1 (the run fails: the sentry is killed).
 */
static int rt_confine(struct rt_run *r, struct cove_err *err)
{
	if (rt_drop_privs(r->o, err) < 0) {
		cove_err_prefix(err, "confining cove run");
		return -1;
	}
	sbx_step(r->o, "capabilities dropped to teardown's");
	return 0;
}

/**
 * rt_wait() - the program runs: wait for it and set cove run's status
 * @r:		the run; the sentry is reaped (r->pid -1) on return unless
 *		cove.Wait answered while it was still finishing
 *
 * The status is the program's from cove.Wait; the sentry's own exit status
 * if the channel did not tell; SBX_EXIT_COVE if the sentry was killed.
 */
static void rt_wait(struct rt_run *r)
{
	int status = 0, code = -1;

	r->started = true;
	sbx_step(r->o, "program running");
	if (!rt_wait_sentry(r->o, r->pid, r->ctl, r->wait_stream, &status,
			    &code)) {
		r->ret = code; /* the sentry is finishing: rt_teardown() */
		return;
	}
	r->pid = -1;
	if (WIFSIGNALED(status)) {
		r->sentry_killed = true;
		fprintf(stderr,
			"cove run: the sentry of sandbox %s was killed by signal %d (%s)\n",
			r->o->name, WTERMSIG(status),
			strsignal(WTERMSIG(status)));
		r->ret = SBX_EXIT_COVE;
	} else if (code >= 0) {
		r->ret = code;
	} else {
		sbx_step(r->o,
			 "control: no answer to cove.Wait; the sentry's status instead");
		r->ret = WEXITSTATUS(status);
	}
}

/*
 * rt_release() - what rt_teardown() releases, in its order: the sentry
 * (killed if still alive, and reaped or, given @pidfd, waited for), a
 * killed sentry's --netns changes, the nft table, the veth, the cgroup
 * (--memory, --cpus, --pids), the state dir and its lock (a free lock tells gc the sandbox is gone), the pipes.
 * @pidfd: the sentry's pidfd if it is finishing on its own (wait for it,
 *	    bounded), or -1 (kill it)
 */
static void rt_release(struct rt_run *r, int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	cove_ctl_client_close(r->ctl);
	r->ctl = NULL;
	if (r->pid > 0 && pidfd >= 0) {
		/* linger and link close: bounded, then as a killed sentry */
		if (poll(&p, 1, RT_FINISH_MS) != 1) {
			(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL,
				      NULL, 0);
			(void)poll(&p, 1, -1);
			r->sentry_killed = true;
		}
		(void)waitpid(r->pid, NULL, WNOHANG); /* if it is our child */
		r->pid = -1;
	}
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		r->pid = -1;
		r->sentry_killed = true;
	}
	if (r->sentry_killed)
		rt_netns_undo(r->o);
	if (r->published)
		rt_publish_del(r->o->ip);
	if (r->veth)
		rt_detach_host(r->o->ip);
	/* the sentry is reaped: its pid namespace is empty or emptying */
	if (r->cgroup && rt_cgroup_remove_wait(r->o->limits.path, 2000))
		r->cgroup = false;
	rt_state_remove(&r->st);
	cove_closep(&r->o->pcap_fd);
	cove_closep(&r->to_sentry);
	cove_closep(&r->from_sentry);
	cove_closep(&r->ready_rd);
}

/*
 * rt_teardown_behind() - the program has exited and cove run knows its
 * status, but the sentry is still finishing (its linger, then closing its
 * link: each AF_PACKET close waits for an RCU grace period, tens of ms
 * here) and the veth's deletion takes as long again. None of it is the
 * caller's business: a child, in a session of its own with stdio on
 * /dev/null, waits for the sentry on a pidfd and releases everything,
 * holding the sandbox's lock (the same open file) until the state dir is
 * gone, so gc and the next cove run see the sandbox as alive until then
 * and a run that asks for its --name or --ip waits for it
 * (rt_state_create()). "stopping" in the state dir says so.
 * Return: true if the child took it over; false: tear down here.
 */
static bool rt_teardown_behind(struct rt_run *r)
{
	cove_cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	pid_t pid;
	int null;

	if (pidfd < 0)
		return false;
	/* before cove run returns: list and the verbs see it as gone */
	rt_state_write(&r->st, "stopping", "\n");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid > 0) {
		sbx_step(r->o, "exit %d; teardown left to pid %d", r->ret,
			 (int)pid);
		/* the child holds the lock now: our copy may close */
		cove_closep(&r->st.lock_fd);
		return true;
	}
	(void)setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		close(null);
	}
	rt_release(r, pidfd);
	_exit(0);
}

/**
 * rt_teardown() - release what the run owns, whichever step it reached
 * @r:		the run
 *
 * The order matters (rt_release()): the sentry is killed (if still alive)
 * and reaped before its network goes, so that its linger has run. When the
 * program's status is known and only the sentry's finishing is left, that
 * happens in the background (rt_teardown_behind()) and cove run exits at
 * once, except with --netns (the caller's netns is given back first).
 */
static void rt_teardown(struct rt_run *r)
{
	cove_cleanup_close int pidfd = -1;
	bool finishing = r->started && r->pid > 0 && r->ret >= 0;

	if (finishing && !r->o->netns_path && rt_teardown_behind(r))
		return;
	/* a finishing sentry is waited for, not killed (its --netns undo) */
	if (finishing)
		pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	rt_release(r, pidfd);
	sbx_step(r->o, "cleaned up, exit %d%s", r->ret,
		 r->started ? "" : " (not started)");
}

/**
 * rt_run() - `cove run` after parsing: the set-up steps, the wait, the
 * teardown
 * @o:		options; the name and address are filled in if not given
 *
 * The steps run in order and the first failure ends the set-up; its
 * message is printed as "cove run: <message>". rt_teardown() runs in
 * every case once the state dir may exist.
 *
 * Return: the exit status for `cove run` (the program's, or SBX_EXIT_*).
 */
int rt_run(struct sbx_opts *o)
{
	struct rt_run r = {
		.o = o,
		.st = { .lock_fd = -1 },
		.pid = -1,
		.to_sentry = -1,
		.from_sentry = -1,
		.ready_rd = -1,
		.ret = SBX_EXIT_COVE,
	};
	struct cove_err err = { 0 };

	sbx_step_start();
	if (geteuid() != 0) {
		fprintf(stderr,
			"cove run: needs root (namespaces, veth, seccomp listener)\n");
		return SBX_EXIT_COVE;
	}
	if (cove_config_load(o->config_path, &r.cfg, &err) < 0) {
		fprintf(stderr, "cove run: %s\n", err.msg);
		return SBX_EXIT_COVE;
	}
	if (rt_host_check(o, &err) < 0) {
		fprintf(stderr, "cove run: %s\n", err.msg);
		return SBX_EXIT_COVE;
	}
	if (rt_open_pcap(&r, &err) < 0 || rt_prepare_state(&r, &err) < 0 ||
	    rt_start_sentry(&r, &err) < 0 || rt_await_netns(&r, &err) < 0 ||
	    rt_make_veth(&r, &err) < 0 || rt_publish_ports(&r, &err) < 0 ||
	    rt_release_sentry(&r, &err) < 0 || rt_connect(&r, &err) < 0 ||
	    rt_confine(&r, &err) < 0)
		fprintf(stderr, "cove run: %s\n", err.msg);
	else
		rt_wait(&r);
	rt_teardown(&r);
	return r.ret;
}

/**
 * rt_await_created() - wait for the sentry's "S": the program waits on
 * exec.fifo (OCI create)
 * @r:		the run
 * @err:	the sentry's "E<message>", or that it died
 *
 * Return: 0 or -1 with r->ret set to the sentry's exit status when it
 * reported a failure (127: the program was not found).
 */
static int rt_await_created(struct rt_run *r, struct cove_err *err)
{
	char msg[COVE_ERR_MSG_MAX + 2];
	char c = rt_read_reply(r->from_sentry, msg, sizeof(msg));
	int status = 0;

	if (c == 'S')
		return 0;
	if (c == 'E')
		cove_err_set(err, 0, "%s", msg + 1);
	else
		cove_err_set(err, 0, "the sentry died during set-up");
	if (waitpid(r->pid, &status, 0) == r->pid) {
		r->pid = -1;
		r->ret = WIFEXITED(status) ? WEXITSTATUS(status) :
					     SBX_EXIT_COVE;
	}
	return -1;
}

/**
 * rt_create() - OCI create: the sandbox up to the program's exec
 * @o:		options with o->oci set
 * @pid:	the sentry's pid (the container's, for `state`)
 * @err:	reason
 *
 * The same steps as rt_run() up to "G" (with the caller's o->oci->ns_ready
 * step just before it), then the sentry's "S". On success
 * nothing is torn down: the sentry keeps the sandbox's lock and lives on
 * without its parent; its exit status is the program's. On failure
 * everything made so far is removed, as rt_teardown() does for cove run.
 *
 * Return: 0, or the failure's exit status (> 0) with @err set.
 */
int rt_create(struct sbx_opts *o, pid_t *pid, struct cove_err *err)
{
	struct rt_run r = {
		.o = o,
		.st = { .lock_fd = -1 },
		.pid = -1,
		.to_sentry = -1,
		.from_sentry = -1,
		.ready_rd = -1,
		.ret = SBX_EXIT_COVE,
	};
	sigset_t set;

	sbx_step_start();
	if (rt_prepare_state(&r, err) < 0 || rt_start_sentry(&r, err) < 0 ||
	    rt_await_netns(&r, err) < 0 || rt_make_veth(&r, err) < 0 ||
	    rt_ns_ready(&r, err) < 0 || rt_release_sentry(&r, err) < 0 ||
	    rt_await_created(&r, err) < 0) {
		rt_teardown(&r);
		return r.ret ? r.ret : SBX_EXIT_COVE;
	}
	*pid = r.pid;
	close(r.st.lock_fd); /* the sentry's copy holds the lock */
	cove_closep(&r.to_sentry);
	cove_closep(&r.from_sentry);
	cove_closep(&r.ready_rd);
	rt_signal_set(&set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 0;
}
