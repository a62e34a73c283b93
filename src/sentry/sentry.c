// SPDX-License-Identifier: Apache-2.0
/* The sentry: PID 1 of the sandbox, owner of the stack, the link, the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/testhook.h"
#include "control/control.h"
#include "cove/link.h"
#include "sentry/procs.h"
#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * Set-up (sbx_sentry_main): unshare the remaining namespaces, tell the
 * runtime the netns exists, wait for its "go" (the veth is in place),
 * private mounts with a /proc of the new pid namespace, hostname, network
 * (sandnet.c), stack and link, signals, the control channel listener
 * (control.c), then the program (spawn.c). Any failure is sent to the
 * runtime as "E<message>" and ends the sentry.
 *
 * The loop is one thread in interrupt mode, sleeping in one epoll set: the
 * seccomp notify fd, a signalfd (SIGCHLD and the forwarded signals), a
 * timerfd armed at the stack's run() deadline, the link's fd, the
 * provider's poll_fd() and every socket pair end. Each wake drains what is
 * ready: notifications, the link in bursts into input(), queued sockets
 * (relay.c), then run(). With --poll-us the loop polls without sleeping
 * for that long after the last activity.
 *
 * Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to the sentry (by the
 * runtime, which forwards its own) go to the program. Ones the terminal
 * sent (si_code SI_KERNEL) are not forwarded, as the program, in the same
 * foreground process group, got them already. When the program exits, the
 * sentry kills what is left in the sandbox, lets the stack (and kernel
 * sockets of the netns) finish sending (at most SBX_LINGER_MS), and exits
 * with the program's status.
 */

#define SBX_POOL_FRAMES	    4096u
#define SBX_BURST	    128u /* frames per input(): one stretch ACK each */
#define SBX_BURSTS_PER_WAKE 16u	 /* 2048 frames per turn, as before */
#define SBX_LINGER_MS	    2000
#define SBX_QUIET_MS	    200
#define SBX_TELL_MS	    1000 /* serve cove run's Wait after the end */
#define SBX_TAP_NAME	    "cove0"

static uint64_t sbx_now_ns(void *host)
{
	(void)host;
	return cove_now_ns();
}

static void sbx_stack_log(void *host, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void sbx_stack_log(void *host, int level, const char *fmt, ...)
{
	struct sentry *sn = host;
	va_list ap;

	if (level > (sn->o->verbose ? COVE_LOG_DEBUG : COVE_LOG_WARN))
		return;
	fprintf(stderr, "cove sentry: %s: ", sn->o->network);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* sbx_fail() - report a set-up failure to the runtime and exit. */
static void __attribute__((noreturn))
sbx_fail(const struct sbx_opts *o, int sync_wr, const struct cove_err *err,
	 int status)
{
	char buf[COVE_ERR_MSG_MAX + 2];
	int n = snprintf(buf, sizeof(buf), "E%s", err->msg);

	sbx_detach_sandbox(o);
	(void)!write(sync_wr, buf, (size_t)n);
	_exit(status);
}

/* sbx_watch() - @fd into the loop's epoll set; its events carry @ptr. */
static int sbx_watch(struct sentry *sn, int fd, void *ptr)
{
	return cove_host_watch(&sn->host, fd, ptr);
}

/* sbx_serve() - the host loop's @serve: pump the queued sockets. */
static bool sbx_serve(struct cove_host *h)
{
	return sbx_relay_process(cove_container_of(h, struct sentry, host));
}

/*
 * sbx_link_spliced() - does the stack's link sit on a TAP spliced to eth0
 * (--link=tap, or --link=dpdk:net_tap...) rather than on eth0 itself?
 */
static bool sbx_link_spliced(const struct sbx_opts *o)
{
	return o->link == SBX_LINK_TAP ||
	       (o->link == SBX_LINK_DPDK && o->link_args &&
		!strncmp(o->link_args, "net_tap", 7));
}

/*
 * sbx_link_spec() - the link spec (links.h) for the sandbox's --link: a
 * PMD of --link=dpdk that names no iface= is pointed at eth0 (at the TAP
 * for net_tap, spliced to eth0 like --link=tap); a PCI address is taken
 * as it is.
 */
static void sbx_link_spec(const struct sbx_opts *o, char *spec, size_t size)
{
	const char *args = o->link_args ? o->link_args : "net_af_packet0";
	bool vdev = !strncmp(args, "net_", 4) && !strstr(args, "iface=");

	switch (o->link) {
	case SBX_LINK_TAP:
		snprintf(spec, size, "tap:%s", SBX_TAP_NAME);
		break;
	case SBX_LINK_XDP:
		snprintf(spec, size, "xdp:%s", o->ifname);
		break;
	case SBX_LINK_DPDK:
		snprintf(spec, size, "dpdk:%s%s%s", args, vdev ? ",iface=" : "",
			 !vdev		     ? "" :
			 sbx_link_spliced(o) ? SBX_TAP_NAME :
					       o->ifname);
		break;
	default:
		snprintf(spec, size, "packet:%s,rx=v2", o->ifname);
	}
}

/*
 * sbx_link_up() - the frame pool and the stack's link (a TAP spliced to
 * eth0, and the capture shim with --pcap). Return: 0 or -1 with @err set.
 */
static int sbx_link_up(struct sentry *sn, struct cove_err *err)
{
	char spec[SBX_LINK_ARGS_MAX + 48];
	struct cove_link *shim;
	int ret;

	ret = cove_frame_pool_init(&sn->pool, SBX_POOL_FRAMES,
				   COVE_FRAME_DEFAULT_SIZE);
	if (ret < 0)
		return cove_err_set(err, -ret, "frame pool");
	sbx_link_spec(sn->o, spec, sizeof(spec));
	if (cove_link_open(spec, &sn->pool, &sn->link, err) < 0)
		return cove_err_prefix(err, "link");
	if (sbx_link_spliced(sn->o) &&
	    sbx_attach_tap(sn->o, SBX_TAP_NAME, err) < 0)
		return -1;
	if (sn->o->pcap_fd >= 0) {
		if (cove_link_pcap(sn->link, sn->o->pcap_fd, sn->o->pcap_max,
				   &shim, err) < 0)
			return cove_err_prefix(err, "--pcap");
		sn->o->pcap_fd = -1; /* the shim's */
		sn->link = shim;
	}
	return 0;
}

/* sbx_link_thread() - sbx_link_up() beside the program's spawn. */
static void *sbx_link_thread(void *arg)
{
	struct sentry *sn = arg;
	uint64_t one = 1;

	sn->link_ret = sbx_link_up(sn, &sn->link_err);
	(void)!write(sn->link_efd, &one, sizeof(one));
	return NULL;
}

/*
 * sbx_link_start() - open the link: on a thread of its own for packet and
 * tap links, whose set-up is slow and needs nothing of the program (each
 * AF_PACKET ring's set-up waits for an RCU grace period, about 10 ms here,
 * and together they took longer than spawning the program). Started once
 * the program is forked, so the program runs meanwhile. The loop starts
 * without the stack: the control channel is served (so a program
 * that ends at once is reported at once) while the program's socket calls
 * wait in the kernel until the thread says so on @link_efd and
 * sbx_link_ready() finishes the stack. xdp and dpdk stay in line (their
 * libraries set up per-thread state; DPDK's EAL wants the main thread), as
 * does everything if the thread cannot start. Return: 0 or -1.
 */
static int sbx_link_start(struct sentry *sn, struct cove_err *err)
{
	sn->link_efd = -1;
	if (sn->o->link == SBX_LINK_PACKET || sn->o->link == SBX_LINK_TAP) {
		sn->link_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (sn->link_efd >= 0 && !pthread_create(&sn->link_thread, NULL,
							 sbx_link_thread, sn)) {
			sn->link_pending = true;
			return 0;
		}
		cove_closep(&sn->link_efd);
	}
	return sbx_link_up(sn, err);
}

/*
 * sbx_stack_finish() - join the link's thread if it runs, make the
 * provider's instance on the link and watch its fds. Return: 0 or -1.
 */
static int sbx_stack_finish(struct sentry *sn, struct cove_err *err)
{
	struct cove_stack_config cfg = {
		.size = sizeof(cfg),
		.addr = sn->o->ip,
		.prefix_len = sn->o->prefix_len,
		.gateway = sn->o->gateway,
		.max_sockets = sn->o->max_sockets,
		/* IPv6: known unique (the runtime's, or the netns's own) */
		.flags = sn->o->have_ip6 ? COVE_STACK_F_NO_DAD :
					   COVE_STACK_F_NO_IPV6,
		.addr6 = sn->o->ip6,
		.prefix6_len = sn->o->prefix6_len,
		.gateway6 = sn->o->gateway6,
		.mem_max = sn->o->stack_mem,
	};
	struct cove_stack_env env = {
		.notify = sbx_relay_notify,
		.now_ns = sbx_now_ns,
		.log = sbx_stack_log,
		.host = sn,
	};
	int ret;

	if (!sn->ops)
		return 0;
	if (sn->link_pending) {
		pthread_join(sn->link_thread, NULL);
		sn->link_pending = false;
		if (sn->link_efd >= 0) {
			epoll_ctl(sn->host.ep, EPOLL_CTL_DEL, sn->link_efd,
				  NULL);
			cove_closep(&sn->link_efd);
		}
		if (sn->link_ret < 0) {
			*err = sn->link_err;
			return -1;
		}
	}
	env.link = sn->link;
	ret = sn->ops->create(&cfg, &env, &sn->st);
	if (ret < 0)
		return cove_err_set(err, -ret, "stack '%s'", sn->ops->name);
	/* The loop's copies: what its turns drive. */
	sn->host.ops = sn->ops;
	sn->host.st = sn->st;
	sn->host.link = sn->link;
	if (sbx_watch(sn, sn->link ? sn->link->fd : -1, &sn->tag_stack) < 0 ||
	    sbx_watch(sn, sn->ops->poll_fd(sn->st), &sn->tag_stack) < 0)
		return cove_err_set(err, errno, "event fds");
	sbx_step(sn->o, "sentry: stack '%s' up%s%s", sn->ops->name,
		 sn->link ? " on " : "", sn->link ? sn->link->name : "");
	return 0;
}

/*
 * sbx_quiet_stdio() - put /dev/null on fds 0-2 once nothing is left to say
 * (the program and every other process of the sandbox are gone, cove.Wait
 * is answered): whoever reads cove run's output (a pipe it shares with the
 * sentry) sees EOF now, not after the linger and the link's close.
 */
static void sbx_quiet_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
}

/* sbx_reap() - collect every exited child; note the program's status. */
static void sbx_reap(struct sentry *sn)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		/* The sandbox ends now, and cove run may exit as soon as it
		 * hears (cove.Wait, answered below): finish without it. */
		if (pid == sn->child)
			prctl(PR_SET_PDEATHSIG, 0);
		if (pid == sn->child && sn->link_failed)
			status = SBX_EXIT_COVE << 8; /* as exit(125) */
		sbx_proc_exited(sn, pid, status);
		if (pid == sn->zyg_pid)
			sn->zyg_pid = 0;
		if (pid != sn->child)
			continue;
		sn->child_done = true;
		sn->child_status = WIFEXITED(status) ? WEXITSTATUS(status) :
				   WIFSIGNALED(status) ?
						       128 + WTERMSIG(status) :
						       SBX_EXIT_COVE;
	}
}

/* sbx_on_signal() - drain the signalfd. */
static void sbx_on_signal(struct sentry *sn)
{
	struct signalfd_siginfo si;

	while (read(sn->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			sbx_reap(sn);
		else if (si.ssi_code != SI_KERNEL && !sn->child_done)
			kill(sn->child, (int)si.ssi_signo);
	}
}

/*
 * sbx_serve_start() - the stack (sbx_stack_finish()), the frontend on the
 * program's notifications, and the sentry's own confinement: what serving
 * the program needs, in that order. Return: 0 or -1 with @err set.
 */
static int sbx_serve_start(struct sentry *sn, struct cove_err *err)
{
	if (sbx_stack_finish(sn, err) < 0)
		return -1;
	if (sn->nfd >= 0) {
		sbx_frontend_init(sn);
		if (sbx_watch(sn, sn->nfd, &sn->tag_notify) < 0)
			return cove_err_set(err, errno, "epoll");
	}
	return sbx_confine(sn, err);
}

/*
 * sbx_link_ready() - the link's thread is done (SBX_EV_LINK): start
 * serving; if that fails, say why and end the program, which cove run
 * then reports as exit 125 (sbx_reap()).
 */
static void sbx_link_ready(struct sentry *sn)
{
	struct cove_err err = { 0 };

	if (sbx_serve_start(sn, &err) == 0)
		return;
	fprintf(stderr, "cove run: %s\n", err.msg);
	sn->link_failed = true;
	kill(sn->child, SIGKILL);
}

/**
 * sbx_wait() - one epoll wait and dispatch
 * @sn:		sentry
 * @timeout_ms:	epoll_wait() timeout
 *
 * Trapped calls are served after every other event of the batch: serving
 * one may free sockets (sbx_relay_settle_port() closes what the program
 * closed), and an event of the same batch must never reach a freed socket
 * through its stale pointer. Recording the batch's pair events first also
 * means a close seen in this batch is known before the calls are served.
 *
 * Return: events seen.
 */
static int sbx_wait(struct sentry *sn, int timeout_ms)
{
	struct epoll_event ev[64];
	bool notify = false;
	int i, n;

	n = epoll_wait(sn->host.ep, ev, 64, timeout_ms);
	for (i = 0; i < n; i++) {
		enum sbx_tag *tag = ev[i].data.ptr;

		switch (*tag) {
		case SBX_EV_SOCK: {
			struct sbx_sock *sk = ev[i].data.ptr;

			if (ev[i].events & (EPOLLHUP | EPOLLERR))
				sk->hup = true;
			if (ev[i].events & EPOLLRDHUP)
				sk->rdhup = true;
			if (ev[i].events & EPOLLIN)
				sk->app_readable = true;
			sbx_sock_kick(sk, ((ev[i].events & ~EPOLLOUT) ?
						   SBX_PUMP_UP :
						   0) |
						  ((ev[i].events & EPOLLOUT) ?
							   SBX_PUMP_DOWN :
							   0));
			break;
		}
		case SBX_EV_NOTIFY:
			if (ev[i].events & (EPOLLHUP | EPOLLERR)) {
				/* No task uses the filter any more. */
				epoll_ctl(sn->host.ep, EPOLL_CTL_DEL, sn->nfd,
					  NULL);
			} else {
				notify = true; /* after the batch */
			}
			break;
		case SBX_EV_SIGNAL:
			sbx_on_signal(sn);
			break;
		case SBX_EV_TIMER:
			cove_host_timer_fired(&sn->host);
			break;
		case SBX_EV_STACK:
			break;
		case SBX_EV_CONTROL:
			sbx_control_run(sn);
			break;
		case SBX_EV_LINK:
			sbx_link_ready(sn);
			break;
		}
	}
	if (notify)
		sbx_frontend_drain(sn);
	return n < 0 ? 0 : n;
}

/*
 * sbx_loop() - serve until the program exits. Zombie sockets (relay.c) and
 * sockets starved of a spill buffer (socktab.c) get no further event, so
 * while there are any the loop wakes at least every half second to sweep.
 */
static void sbx_loop(struct sentry *sn)
{
	uint64_t spin_ns = (uint64_t)sn->o->poll_us * 1000u, last = 0;
	uint64_t swept = 0, now;
	bool busy = true, sweep;
	int n, timeout;

	while (!sn->child_done) {
		sweep = sn->nzombies || sn->nstarved;
		timeout = busy ? 0 : sweep ? 500 : -1;
		if (!busy && spin_ns && sbx_now_ns(NULL) - last < spin_ns)
			timeout = 0;
		n = sbx_wait(sn, timeout);
		if (n && spin_ns)
			last = sbx_now_ns(NULL);
		busy = cove_host_turn(&sn->host);
		if (sweep && (now = sbx_now_ns(NULL)) - swept > 500000000ull) {
			swept = now;
			sbx_relay_sweep(sn);
			busy |= !cove_workq_empty(&sn->work); /* retries */
		}
	}
}

/*
 * sbx_kernel_tcp_busy() - does a kernel TCP socket of the sandbox netns
 * still hold data for the peer? Such sockets (the kernel provider's, or
 * the program's own under --network=host) outlive close(); deleting the
 * veth under them would cut their last bytes off. Busy means bytes in the
 * send queue, or FIN_WAIT1, CLOSING, LAST_ACK (our FIN not yet acked).
 */
static bool sbx_kernel_tcp_busy(void)
{
	unsigned st, tx, rx;
	char line[256];
	bool busy = false;
	FILE *f = fopen("/proc/self/net/tcp", "re");

	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f)) /* header */
		goto out;
	while (!busy && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %x %x:%x", &st, &tx, &rx) == 3)
			busy = tx > 0 || st == 0x04 || st == 0x09 || st == 0x0b;
out:
	fclose(f);
	return busy;
}

/*
 * sbx_linger() - the program is gone: let the stack finish sending. Ends
 * when no connection is left, or nothing moved on the wire for
 * SBX_QUIET_MS (what remains is TIME_WAIT or a dead peer), or after
 * SBX_LINGER_MS at most; kernel sockets of the netns are waited for too.
 */
static void sbx_linger(struct sentry *sn)
{
	uint64_t now = sbx_now_ns(NULL), end = now + SBX_LINGER_MS * 1000000ull;
	uint64_t quiet_since = now, frames = UINT64_MAX, f;
	struct cove_stack_stats stats;
	bool stack_done = !sn->st;

	while ((now = sbx_now_ns(NULL)) < end) {
		if (sn->st) {
			cove_host_turn(&sn->host);
			memset(&stats, 0, sizeof(stats));
			if (cove_stack_read_stats(sn->ops, sn->st, &stats) < 0)
				stats.tcp_conns = 0;
			f = stats.tx_frames + stats.rx_frames;
			if (f != frames) {
				frames = f;
				quiet_since = now;
			}
			stack_done =
				!sn->nsocks &&
				(!stats.tcp_conns ||
				 now - quiet_since > SBX_QUIET_MS * 1000000ull);
		}
		if (stack_done && !sbx_kernel_tcp_busy())
			break;
		if (sn->st)
			sbx_wait(sn, 10);
		else
			usleep(10000);
	}
}

/*
 * sbx_control_drain() - the program is gone: keep serving the control
 * channel until `cove run` has its status from cove.Wait (a quick program
 * can end before the loop ever served the runtime's hello), at most
 * SBX_TELL_MS (not for an OCI container), then once more to send what is
 * queued.
 */
static void sbx_control_drain(struct sentry *sn)
{
	uint64_t end = sbx_now_ns(NULL) + SBX_TELL_MS * 1000000ull;

	if (!sn->ctl)
		return;
	/* An OCI container's status goes to its subreaper by waitpid(): no
	 * cove run is waiting on cove.Wait, so waiting SBX_TELL_MS for one
	 * would only delay the container's exit (a second per `true`). */
	if (sn->o->oci)
		end = 0;
	while (!sn->main_told && sbx_now_ns(NULL) < end)
		(void)cove_ctl_server_run(sn->ctl, 10);
	(void)cove_ctl_server_run(sn->ctl, 0);
}

/*
 * sbx_hosts_file() - an /etc/hosts naming the sandbox, as container
 * runtimes do, so that resolving its own hostname (python's getfqdn(),
 * many servers at start) needs no DNS. The file lives on a small tmpfs
 * mounted over the state dir inside the sandbox's private mount namespace
 * (the host never sees it), bind-mounted over /etc/hosts; the tmpfs is
 * then detached, the bind mount keeps the file.
 */
static void sbx_hosts_file(const struct sbx_opts *o)
{
	char text[384], dir[96], path[128], ip[INET_ADDRSTRLEN] = "127.0.1.1";
	char ip6[INET6_ADDRSTRLEN + 48] = "";
	int fd, n;

	if (o->have_ip && o->mode != SBX_NET_NONE)
		inet_ntop(AF_INET, &o->ip, ip, sizeof(ip));
	if (o->have_ip6 && o->mode != SBX_NET_NONE) {
		inet_ntop(AF_INET6, &o->ip6, ip6, INET6_ADDRSTRLEN);
		snprintf(ip6 + strlen(ip6), sizeof(ip6) - strlen(ip6), "\t%s\n",
			 o->name);
	}
	n = snprintf(text, sizeof(text),
		     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n"
		     "%s\t%s\n%s",
		     ip, o->name, ip6);
	snprintf(dir, sizeof(dir), "%s/%s", SBX_RUN_DIR, o->name);
	snprintf(path, sizeof(path), "%s/hosts", dir);
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=64k,mode=0755") < 0)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, text, (size_t)n) == n)
			(void)mount(path, "/etc/hosts", NULL, MS_BIND, NULL);
		close(fd);
	}
	(void)umount2(dir, MNT_DETACH);
}

/*
 * sbx_join_ns() - join the namespace at @path (of type @type), if any:
 * --netns, or the ipc and uts namespaces of an OCI pod. Return: 0 or -1.
 */
static int sbx_join_ns(const char *path, int type, const char *what,
		       struct cove_err *err)
{
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, type) < 0) {
		cove_err_set(err, errno, "%s %s", what, path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * sbx_adopt_lo_only() - an OCI namespace that prestart hooks were to
 * configure but left with lo only (Docker's --network=none): loopback
 * only, the kernel's, as with --network=none; no stack to serve.
 */
static void sbx_adopt_lo_only(struct sentry *sn)
{
	struct if_nameindex *names, *p;
	bool other = false;

	if (!sn->o->oci || !sn->o->oci->adopt_netns ||
	    sn->o->mode != SBX_NET_STACK)
		return;
	names = if_nameindex();
	for (p = names; p && p->if_index; p++)
		if (strcmp(p->if_name, "lo"))
			other = true;
	if (names)
		if_freenameindex(names);
	if (other)
		return;
	sn->o->mode = SBX_NET_NONE;
	sn->ops = NULL;
	sbx_step(sn->o, "sentry: the hooks left lo only: loopback only");
}

/* sbx_sentry_setup() - namespaces, mounts, network, stack; before spawn. */
static int sbx_sentry_setup(struct sentry *sn, int sync_rd, int sync_wr,
			    struct cove_err *err)
{
	struct sbx_opts *o = sn->o;
	int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC, fd;
	bool link_based;
	char c;

	if (!o->netns_path && !(o->oci && o->oci->host_netns))
		flags |= CLONE_NEWNET;
	if (o->oci)
		flags |= CLONE_NEWCGROUP;
	if (o->oci && o->oci->ipc_path)
		flags &= ~CLONE_NEWIPC;
	if (o->oci && o->oci->uts_path)
		flags &= ~CLONE_NEWUTS;
	if (unshare(flags) < 0)
		return cove_err_set(err, errno, "unshare");
	if (sbx_join_ns(o->netns_path, CLONE_NEWNET, "--netns", err) < 0 ||
	    (o->oci && (sbx_join_ns(o->oci->ipc_path, CLONE_NEWIPC,
				    "ipc namespace", err) < 0 ||
			sbx_join_ns(o->oci->uts_path, CLONE_NEWUTS,
				    "uts namespace", err) < 0)))
		return -1;
	if (write(sync_wr, "R", 1) != 1 || read(sync_rd, &c, 1) != 1 ||
	    c != 'G')
		_exit(SBX_EXIT_COVE); /* the runtime is gone */
	sbx_step(o, "sentry: namespaces ready");
	sbx_adopt_lo_only(sn);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return cove_err_set(err, errno, "private mounts");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		return cove_err_set(err, errno, "mount /proc");
	(void)umount2("/sys", MNT_DETACH);
	(void)mount("sysfs", "/sys", "sysfs",
		    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (!o->oci) {
		(void)sethostname(o->name, strlen(o->name));
	} else if (o->oci->hostname &&
		   sethostname(o->oci->hostname, strlen(o->oci->hostname)) <
			   0) {
		return cove_err_set(err, errno, "hostname");
	}
	if (o->oci && o->oci->host_netns) {
		sbx_step(o,
			 "sentry: the host's network (no network namespace)");
		return 0;
	}
	/* The program's root is not root of the netns's user namespace (see
	 * spawn.c): let it bind ports below 1024 there, as in any container. */
	if (!o->rootfs && !o->host_fs_rw) {
		fd = open("/proc/sys/net/ipv4/ip_unprivileged_port_start",
			  O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			sbx_step(o, "sentry: ports below 1024 stay privileged");
		if (fd >= 0)
			close(fd);
	}

	link_based = sn->ops && strcmp(sn->ops->name, "kernel");
	if (sbx_attach_sandbox(o, link_based && !sbx_link_spliced(o),
			       !link_based, err) < 0)
		return -1;
	if (!o->oci)
		sbx_hosts_file(
			o); /* now with a --netns interface's addresses */
	if (o->mode != SBX_NET_NONE) {
		char ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN];
		char ip6[INET6_ADDRSTRLEN], gw6[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET, &o->ip, ip, sizeof(ip));
		inet_ntop(AF_INET, &o->gateway, gw, sizeof(gw));
		sbx_step(o, "sentry: %s has %s/%u, gateway %s%s", o->ifname, ip,
			 o->prefix_len, gw,
			 !link_based	     ? "" :
			 sbx_link_spliced(o) ? "; ingress spliced to the TAP" :
					       "; kernel ingress dropped");
		if (o->have_ip6) {
			inet_ntop(AF_INET6, &o->ip6, ip6, sizeof(ip6));
			inet_ntop(AF_INET6, &o->gateway6, gw6, sizeof(gw6));
			sbx_step(o, "sentry: %s has %s/%u, gateway %s%s",
				 o->ifname, ip6, o->prefix6_len, gw6,
				 link_based ? " (the stack's; the kernel's "
					      "IPv6 is off there)" :
					      "");
		}
	} else {
		sbx_step(o, "sentry: lo up, no other interface");
	}
	if (sn->ops && sn->ops->abi_version != COVE_NETSTACK_ABI_VERSION)
		return cove_err_set(err, EPROTO,
				    "stack '%s' speaks ABI %u, not %d",
				    sn->ops->name, sn->ops->abi_version,
				    COVE_NETSTACK_ABI_VERSION);
	return 0;
}

/* sbx_events_up() - the epoll set, signals, timer. */
static int sbx_events_up(struct sentry *sn, struct cove_err *err)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	static const int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD };
	sigset_t set;
	unsigned i;

	sigemptyset(&set);
	for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaddset(&set, fwd[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sn->tag_notify = SBX_EV_NOTIFY;
	sn->tag_signal = SBX_EV_SIGNAL;
	sn->tag_timer = SBX_EV_TIMER;
	sn->tag_stack = SBX_EV_STACK;
	sn->tag_control = SBX_EV_CONTROL;
	sn->tag_link = SBX_EV_LINK;
	/* In the sandbox netns, where the socket pairs live. */
	sn->diag =
		socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (cove_host_open(&sn->host, &sn->tag_timer, err) < 0)
		return -1;
	sn->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sn->sigfd < 0 || sbx_watch(sn, sn->sigfd, &sn->tag_signal) < 0)
		return cove_err_set(err, errno, "event fds");
	return 0;
}

/*
 * sbx_test_listen_delay() - the LISTEN_DELAY_MS test hook (testhook.h):
 * hold the control listener (and so the readiness byte) back by 0..2000
 * ms, so that tests can check how `cove run` finds a late listener.
 */
static void sbx_test_listen_delay(const struct sbx_opts *o)
{
	struct timespec ts;
	long ms;
	int r = cove_test_hook_num("LISTEN_DELAY_MS", 2000, &ms);

	if (r < 0)
		sbx_step(o, "sentry: COVE_TEST_LISTEN_DELAY_MS ignored "
			    "(0..2000)");
	if (r <= 0)
		return;
	sbx_step(o, "sentry: control: listen delayed by %ld ms (test hook)",
		 ms);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void sbx_sentry_main(struct sbx_opts *o, int sync_rd, int sync_wr, int ready_wr)
{
	static struct sentry sn;
	static struct sbx_procs procs;
	uint64_t listening;
	struct cove_err err = { 0 };
	int status = SBX_EXIT_COVE;
	struct rlimit rl;
	size_t argc;

	/* An OCI container outlives `cove create`; cove run's sandbox dies
	 * with its runtime. */
	if (!o->oci)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "cove-sentry");
	/* One fd per program socket: as many as the hard limit allows. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		sn.nofile_cur = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* OCI with a terminal: the program's stdio is the pty it sends over
	 * the console socket. The caller's stdio must not stay open in the
	 * sandbox: containerd's shim reads create's output pipes to EOF
	 * before it counts create as done (docker run -it, ctr run -t). */
	if (o->oci && o->oci->terminal)
		sbx_quiet_stdio();
	sn.o = o;
	sn.procs = &procs;
	sn.sigfd = sn.nfd = sn.diag = sn.zyg_fd = sn.link_efd = -1;
	sn.host.ep = sn.host.tfd = -1;
	sn.host.burst = SBX_BURST;
	sn.host.bursts = SBX_BURSTS_PER_WAKE;
	sn.host.serve = sbx_serve;
	sn.host.work = &sn.work;
	cove_workq_init(&sn.work);
	sn.trace = getenv("COVE_TRACE") != NULL;
	sn.ops = o->mode == SBX_NET_STACK ? cove_stack_find(o->network) : NULL;
	if (sbx_sentry_setup(&sn, sync_rd, sync_wr, &err) < 0 ||
	    sbx_events_up(&sn, &err) < 0)
		sbx_fail(o, sync_wr, &err, SBX_EXIT_COVE);
	sbx_test_listen_delay(o);
	if (cove_test_hook_num("SPILL_FAILS", 100, &sn.spill_fails) < 0)
		sbx_step(o, "sentry: COVE_TEST_SPILL_FAILS ignored (0..100)");
	if (sbx_control_start(&sn, &err) < 0 ||
	    sbx_watch(&sn, sbx_control_fd(&sn), &sn.tag_control) < 0)
		sbx_fail(o, sync_wr, &err, SBX_EXIT_COVE);
	listening = cove_now_us();
	/* The runtime waits for this byte (or dials): it may connect now, and
	 * its requests are served once the program runs and the loop turns. */
	(void)cove_ctl_signal_ready(ready_wr);
	close(ready_wr);
	sbx_step(o, "sentry: control: listening (monotonic %llu.%06llu s)",
		 (unsigned long long)(listening / 1000000),
		 (unsigned long long)(listening % 1000000));
	/*
	 * Hide every sandbox's state and control socket from the program
	 * (the listener is bound already; the host keeps seeing the real
	 * directory). By default the program's private /run covers it too.
	 */
	(void)mount("tmpfs", SBX_RUN_DIR, "tmpfs",
		    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		    "size=4k,mode=0711");
	if (sbx_spawn(&sn, &err, &status) < 0) {
		sbx_reap(&sn);
		sbx_fail(o, sync_wr, &err, status);
	}
	sbx_step(o, "sentry: program started (pid %d in the sandbox)",
		 (int)sn.child);
	for (argc = 0; o->argv[argc]; argc++)
		;
	sbx_proc_add(&sn, "main", sn.child, o->argv, argc);
	/* After the program's fork: it is PID 2, and runs meanwhile. */
	if (sn.ops && strcmp(sn.ops->name, "kernel") &&
	    sbx_link_start(&sn, &err) < 0) {
		kill(sn.child, SIGKILL);
		sbx_fail(o, sync_wr, &err, SBX_EXIT_COVE);
	}
	if (sn.link_pending) {
		if (sbx_watch(&sn, sn.link_efd, &sn.tag_link) < 0) {
			cove_err_set(&err, errno, "epoll");
			kill(sn.child, SIGKILL);
			sbx_fail(o, sync_wr, &err, SBX_EXIT_COVE);
		}
	} else if (sbx_serve_start(&sn, &err) < 0) {
		kill(sn.child, SIGKILL);
		sbx_fail(o, sync_wr, &err, SBX_EXIT_COVE);
	}
	/* OCI: the program waits on exec.fifo and keeps a copy of this pipe
	 * until its exec, so EOF would come only then: say "S" instead. */
	if (o->oci)
		(void)!write(sync_wr, "S", 1);
	close(sync_wr); /* "started" is cove.Health's SERVING now */
	sbx_loop(&sn);
	/* The program is gone: so is everything else in the sandbox. */
	kill(-1, SIGKILL);
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, 0);

		if (p > 0)
			sbx_proc_exited(&sn, p, st); /* answers cove.Wait */
		else if (errno != EINTR)
			break;
	}
	sbx_control_drain(&sn);
	if (sn.nfd >= 0) {
		epoll_ctl(sn.host.ep, EPOLL_CTL_DEL, sn.nfd, NULL);
		close(sn.nfd);
		sn.nfd = -1;
	}
	/* Everything the sandbox had to say is said: the caller reading the
	 * output sees EOF now, not after the linger and the link's close. */
	sbx_quiet_stdio();
	if (sn.link_pending) /* the program ended before the link was up */
		(void)sbx_stack_finish(&sn, &err);
	sbx_linger(&sn);
	sbx_relay_close_all(&sn);
	if (sn.st)
		sn.ops->destroy(sn.st);
	cove_link_close(sn.link);
	if (sn.pool.frames)
		(void)cove_frame_pool_fini(&sn.pool);
	sbx_detach_sandbox(o);
	if (sn.ctl)
		cove_ctl_server_free(sn.ctl);
	_exit(sn.child_status);
}
