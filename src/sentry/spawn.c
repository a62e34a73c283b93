// SPDX-License-Identifier: Apache-2.0
/* The program's process: root, user, capabilities, filter, then exec. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * sbx_spawn() forks the program from the sentry (so it is PID 2 and the
 * sentry reaps it). The child, in this order:
 *
 *   1. default signal dispositions and mask; stdio stays as inherited;
 *   2. --rootfs: a private mount namespace, the directory bind-mounted,
 *      /proc mounted inside, pivot_root into it, the old root detached;
 *   2b. otherwise, unless --host-fs=rw: a private mount namespace with
 *      the host's mounts read-only, private /dev, /tmp, /var/tmp, /run
 *      (sbx_confine_fs()), then a user namespace whose root is host uid
 *      SBX_USERNS_BASE, the maps written by the sentry when asked over
 *      @fd_sock (sbx_enter_userns(), sbx_write_maps());
 *   3. --workdir (default / with a rootfs, else the caller's directory);
 *   4. drops SBX_CAPS_NEVER (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN,
 *      CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_BPF, ...) from every set, so
 *      even root inside cannot reconfigure eth0, remove the ingress drop,
 *      or load anything; then `cove run` keeps only o->caps (the container
 *      default set and --cap-add/--cap-drop), an OCI bundle its own sets;
 *   5. PR_SET_NO_NEW_PRIVS and the seccomp filter (seccomp.c); in stack
 *      mode the listener fd goes to the sentry over @fd_sock (SCM_RIGHTS)
 *      and is closed here;
 *   6. forks the zygote of `cove exec` (exec.c), which thereby carries the
 *      same filter, namespaces and capability set, but not --user;
 *   7. --user (setgroups, setgid, setuid);
 *   8. OCI: the container's seccomp profile is built (profile.c), the
 *      exec.fifo gate passed, then the profile loaded;
 *   9. execvpe() with a clean environment; on failure the errno goes to
 *      the sentry over the close-on-exec @exec_pipe.
 */

/* sbx_enter_rootfs() - pivot_root into @dir with a fresh /proc. */
static int sbx_enter_rootfs(const char *dir, struct cove_err *err)
{
	char proc[4096];

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0)
		return cove_err_set(err, errno, "rootfs %s", dir);
	snprintf(proc, sizeof(proc), "%s/proc", dir);
	(void)mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		    NULL);
	if (chdir(dir) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return cove_err_set(err, errno, "pivot_root to %s", dir);
	return 0;
}

/* sbx_tmpfs() - a private tmpfs at @dir (made if missing). */
static int sbx_tmpfs(const char *dir, const char *data, unsigned long flags)
{
	(void)mkdir(dir, 0755);
	return mount("tmpfs", dir, "tmpfs", MS_NOSUID | flags, data);
}

/* sbx_ro_bind() - bind @path over itself, read-only. */
static int sbx_ro_bind(const char *path)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -1;
	return mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
}

/*
 * sbx_private_dev() - a tmpfs /dev with only the harmless devices (bound
 * from the host's through O_PATH fds opened before the tmpfs hides them),
 * a private devpts and a tmpfs /dev/shm.
 */
static int sbx_private_dev(void)
{
	static const char *const devs[] = { "null",   "zero",	 "full",
					    "random", "urandom", "tty" };
	static const char *const links[][2] = {
		{ "pts/ptmx", "/dev/ptmx" },
		{ "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	int fds[sizeof(devs) / sizeof(devs[0])];
	char src[64], dst[64];
	unsigned i;
	int fd;

	for (i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(dst, sizeof(dst), "/dev/%s", devs[i]);
		fds[i] = open(dst, O_PATH | O_CLOEXEC);
		if (fds[i] < 0)
			return -1;
	}
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
		  "size=64k,mode=0755") < 0)
		return -1;
	for (i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(src, sizeof(src), "/proc/self/fd/%d", fds[i]);
		snprintf(dst, sizeof(dst), "/dev/%s", devs[i]);
		fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0 || close(fd) < 0 ||
		    mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return -1;
		close(fds[i]);
	}
	if (mkdir("/dev/pts", 0755) < 0 ||
	    mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0 ||
	    mkdir("/dev/shm", 01777) < 0 ||
	    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=1777") < 0)
		return -1;
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			return -1;
	return mount(NULL, "/dev", NULL,
		     MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
		     "size=64k,mode=0755");
}

/*
 * sbx_confine_fs() - the default view of the host (no --rootfs, no
 * --host-fs=rw): a mount namespace of the program's own (the sentry's
 * mounts stay as they are), every host mount read-only, private tmpfs at
 * /tmp, /var/tmp and /run, a private /dev; /proc stays writable (it is the
 * sandbox's) but /proc/sys and /proc/sysrq-trigger, host-wide, do not.
 */
static int sbx_confine_fs(struct cove_err *err)
{
	struct mount_attr ma = { .attr_set = MOUNT_ATTR_RDONLY };
	char data[64];

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return cove_err_set(err, errno, "private mount namespace");
	if (syscall(SYS_mount_setattr, -1, "/", AT_RECURSIVE, &ma, sizeof(ma)) <
	    0)
		return cove_err_set(err, errno, "read-only host root");
	ma.attr_set = 0;
	ma.attr_clr = MOUNT_ATTR_RDONLY;
	if (syscall(SYS_mount_setattr, -1, "/proc", 0, &ma, sizeof(ma)) < 0 ||
	    sbx_ro_bind("/proc/sys") < 0 ||
	    (sbx_ro_bind("/proc/sysrq-trigger") < 0 && errno != ENOENT))
		return cove_err_set(err, errno, "/proc");
	if (sbx_private_dev() < 0)
		return cove_err_set(err, errno, "private /dev");
	snprintf(data, sizeof(data), "mode=0755,uid=%u,gid=%u", SBX_USERNS_BASE,
		 SBX_USERNS_BASE);
	if (sbx_tmpfs("/tmp", "mode=1777", MS_NODEV) < 0 ||
	    sbx_tmpfs("/var/tmp", "mode=1777", MS_NODEV) < 0 ||
	    sbx_tmpfs("/run", data, MS_NODEV | MS_NOEXEC) < 0)
		return cove_err_set(err, errno, "private /tmp, /var/tmp, /run");
	return 0;
}

/*
 * sbx_enter_userns() - the child's own user namespace, root in it mapped to
 * host uid/gid SBX_USERNS_BASE.. (SBX_USERNS_COUNT ids); the sentry writes
 * the maps (it has the privilege in the initial namespace) when asked over
 * @sock, then the child becomes root in it without any host group.
 */
static int sbx_enter_userns(int sock, struct cove_err *err)
{
	char c = 'u';

	if (unshare(CLONE_NEWUSER) < 0)
		return cove_err_set(err, errno, "user namespace");
	if (write(sock, &c, 1) != 1 || read(sock, &c, 1) != 1 || c != 'm')
		return cove_err_set(err, EPROTO, "user namespace maps");
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 ||
	    setresuid(0, 0, 0) < 0)
		return cove_err_set(err, errno, "root of the user namespace");
	return 0;
}

/* sbx_write_maps() - the sentry's side: map @pid's root to the base. */
static int sbx_write_maps(pid_t pid)
{
	static const char *const files[] = { "uid_map", "gid_map" };
	char path[64], line[64];
	unsigned i;
	int fd, n;

	n = snprintf(line, sizeof(line), "0 %u %u\n", SBX_USERNS_BASE,
		     SBX_USERNS_COUNT);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (write(fd, line, n) != n) {
			n = -errno;
			close(fd);
			return n;
		}
		close(fd);
	}
	return 0;
}

/* sbx_build_env() - the program's environment: a clean base plus --env. */
char **sbx_build_env(const struct sbx_opts *o)
{
	static char host[SBX_NAME_MAX + 16];
	const char *term = getenv("TERM");
	static char termv[128];
	char **env = calloc(o->nenv + 6, sizeof(char *));
	unsigned n = 0, i;

	if (!env)
		return NULL;
	if (o->oci) { /* the bundle's environment exactly, as runc */
		for (i = 0; i < o->nenv; i++)
			env[n++] = (char *)o->env[i];
		return env;
	}
	env[n++] =
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	env[n++] = "HOME=/root";
	snprintf(host, sizeof(host), "HOSTNAME=%s", o->name);
	env[n++] = host;
	if (term) {
		snprintf(termv, sizeof(termv), "TERM=%s", term);
		env[n++] = termv;
	}
	for (i = 0; i < o->nenv; i++)
		env[n++] = (char *)o->env[i];
	return env;
}

/**
 * sbx_child() - the program's side of the fork; never returns
 * @o:		options
 * @notify:	install the trapping filter (stack mode)
 * @fd_sock:	where the listener fd goes
 * @exec_pipe:	close-on-exec pipe for "exec failed: errno"
 * @zfd:	the zygote's end of its pair to the sentry
 * @nofile_cur:	RLIMIT_NOFILE soft limit to restore (0: leave)
 */
static void __attribute__((noreturn))
sbx_child(const struct sbx_opts *o, bool notify, int fd_sock, int exec_pipe,
	  int zfd, uint64_t nofile_cur)
{
	struct rlimit rl;
	struct cove_err err = { 0 };
	char cwd[4096], msg[sizeof(int) + COVE_ERR_MSG_MAX];
	sigset_t none;
	char **env;
	void *profile = NULL;
	int nfd, e, sig, fdsdir = -1;
	uint64_t caps;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* The sentry raised its own fd limit; the program gets the caller's. */
	if (nofile_cur && !getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = nofile_cur;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	if (o->oci && (sbx_oci_enter_root(o, &fdsdir, &err) < 0 ||
		       sbx_oci_process(o->oci, &err) < 0 ||
		       sbx_oci_terminal(o, &err) < 0))
		goto fail;
	if (!o->oci && o->rootfs && sbx_enter_rootfs(o->rootfs, &err) < 0)
		goto fail;
	if (!o->rootfs && !o->host_fs_rw) {
		/* The inherited cwd would still reach under the new mounts
		 * (e.g. the host's /tmp): look it up again in the new view. */
		if (!o->workdir && !getcwd(cwd, sizeof(cwd)))
			cwd[0] = '\0';
		if (sbx_confine_fs(&err) < 0 ||
		    sbx_enter_userns(fd_sock, &err) < 0)
			goto fail;
		if (!o->workdir && (!cwd[0] || chdir(cwd) < 0) &&
		    chdir("/") < 0) {
			cove_err_set(&err, errno, "working directory");
			goto fail;
		}
	}
	if (o->workdir && chdir(o->workdir) < 0) {
		cove_err_set(&err, errno, "--workdir %s", o->workdir);
		goto fail;
	}
	caps = o->oci ? ~(uint64_t)SBX_CAPS_NEVER :
			o->caps & ~(uint64_t)SBX_CAPS_NEVER;
	e = sbx_caps_limit(caps, o->oci ? caps :
					  caps | SBX_CAP(CAP_SETUID) |
						  SBX_CAP(CAP_SETGID));
	if (e < 0) {
		cove_err_set(&err, -e, "dropping capabilities");
		goto fail;
	}
	/* The uid change comes later (--user, and each exec'd command's):
	 * keep what it needs until sbx_oci_caps_final(). */
	e = o->oci ? sbx_oci_caps(o->oci,
				  1ull << CAP_SETUID | 1ull << CAP_SETGID) :
		     0;
	if (e < 0) {
		cove_err_set(&err, -e, "process.capabilities");
		goto fail;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		cove_err_set(&err, errno, "no_new_privs");
		goto fail;
	}
	env = sbx_build_env(o);
	if (!env) {
		cove_err_set(&err, ENOMEM, "environment: out of memory");
		goto fail;
	}
	if (sbx_seccomp_install(notify, &nfd, &err) < 0)
		goto fail;
	if (notify) {
		e = sbx_send_fd(fd_sock, nfd, "n", 1, SBX_HANDOVER_FLAGS);
		close(nfd);
		if (e < 0) {
			cove_err_set(&err, -e, "handing the listener over");
			goto fail;
		}
	}
	close(fd_sock);
	e = sbx_zygote_fork(zfd, o->oci, caps);
	close(zfd);
	if (e < 0) {
		cove_err_set(&err, -e, "starting the exec helper");
		goto fail;
	}
	if (o->have_user) {
		gid_t g[SBX_OCI_MAX_GIDS + 1] = { o->gid };
		size_t ng = 1;

		for (; o->oci && ng <= o->oci->ngids; ng++)
			g[ng] = o->oci->gids[ng - 1];
		if ((o->oci && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) ||
		    setgroups(ng, g) < 0 || setgid(o->gid) < 0 ||
		    setuid(o->uid) < 0) {
			cove_err_set(&err, errno, "--user %u:%u",
				     (unsigned)o->uid, (unsigned)o->gid);
			goto fail;
		}
	}
	e = o->oci ? sbx_oci_caps_final(o->oci) : sbx_caps_limit(~0ull, caps);
	if (e < 0) {
		cove_err_set(&err, -e,
			     o->oci ? "process.capabilities" : "capabilities");
		goto fail;
	}
	if (o->oci && o->oci->seccomp) {
		profile = sbx_profile_build(o->oci->seccomp, &err);
		if (!profile)
			goto fail;
	}
	if (o->oci) {
		e = sbx_oci_gate(o, env, fdsdir, exec_pipe);
		if (e > 0)
			_exit(e == ENOENT ? SBX_EXIT_NOTFOUND :
					    SBX_EXIT_NOEXEC);
		if (e < 0)
			_exit(SBX_EXIT_COVE); /* the runtime gave up on us */
		exec_pipe = -1;
	}
	sbx_use_path(env);
	/* The profile last: nothing of Cove's set-up runs under it. */
	e = profile ? sbx_profile_load(profile) : 0;
	if (e < 0) {
		fprintf(stderr, "cove: loading linux.seccomp: %s\n",
			strerror(-e));
		_exit(SBX_EXIT_COVE);
	}
	execvpe(o->argv[0], o->argv, env);
	e = errno;
	if (exec_pipe >= 0)
		(void)!write(exec_pipe, &e, sizeof(e));
	_exit(e == ENOENT ? SBX_EXIT_NOTFOUND : SBX_EXIT_NOEXEC);
fail:
	/* One write: the sentry reads the pipe once, and a second write
	 * could arrive after that read (the message was then lost). */
	e = -1;
	memcpy(msg, &e, sizeof(e));
	memcpy(msg + sizeof(e), err.msg, strlen(err.msg));
	(void)!write(exec_pipe, msg, sizeof(e) + strlen(err.msg));
	_exit(SBX_EXIT_COVE);
}

/*
 * sbx_keep_fds() - in the program's process: every fd from 3 up is
 * close-on-exec except the --preserve-fds ones of an OCI create (3 up to
 * 3+N-1), which are made inheritable.
 */
static void sbx_keep_fds(const struct sbx_opts *o)
{
	unsigned keep = o->oci ? o->oci->preserve_fds : 0, i;

	syscall(SYS_close_range, 3 + keep, ~0u, CLOSE_RANGE_CLOEXEC);
	for (i = 0; i < keep; i++)
		(void)fcntl((int)(3 + i), F_SETFD, 0);
}

/**
 * sbx_spawn() - start the program
 * @sn:		sentry (its options; @nfd set here in stack mode)
 * @err:	filled on failure (including exec failures)
 * @status:	on exec failure, the exit status to use (126/127/125)
 *
 * Return: 0 when the program runs, < 0 with @err and @status set.
 */
int sbx_spawn(struct sentry *sn, struct cove_err *err, int *status)
{
	bool notify = sn->ops != NULL;
	char buf[COVE_ERR_MSG_MAX + sizeof(int)];
	union {
		struct cmsghdr h;
		char cbuf[CMSG_SPACE(sizeof(int))];
	} u;
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.cbuf,
		.msg_controllen = sizeof(u.cbuf),
	};
	struct cmsghdr *c;
	int sp[2], ep[2], zp[2], e;
	ssize_t n;

	*status = SBX_EXIT_COVE;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, zp) < 0 ||
	    pipe2(ep, O_CLOEXEC) < 0)
		return cove_err_set(err, errno, "spawn pipes");
	sn->child = fork();
	if (sn->child < 0)
		return cove_err_set(err, errno, "fork");
	if (sn->child == 0) {
		close(sp[0]);
		close(ep[0]);
		close(zp[0]);
		/* Nothing of the sentry's but stdio (and the fds an OCI
		 * caller asked to preserve) survives the exec. */
		sbx_keep_fds(sn->o);
		sbx_child(sn->o, notify, sp[1], ep[1], zp[1], sn->nofile_cur);
	}
	close(sp[1]);
	close(ep[1]);
	close(zp[1]);
	if (!sn->o->rootfs && !sn->o->host_fs_rw &&
	    read(sp[0], &byte, 1) == 1) {
		e = sbx_write_maps(sn->child);
		byte = e < 0 ? 'x' : 'm';
		if (e < 0)
			fprintf(stderr,
				"cove sentry: user namespace maps: %s\n",
				strerror(-e));
		(void)!write(sp[0], &byte, 1);
	}
	if (notify) {
		memset(&u, 0, sizeof(u));
		n = recvmsg(sp[0], &msg, MSG_CMSG_CLOEXEC);
		c = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
		if (c && c->cmsg_type == SCM_RIGHTS)
			memcpy(&sn->nfd, CMSG_DATA(c), sizeof(int));
	}
	close(sp[0]);
	/* Blocks until exec (EOF) or a failure report. */
	n = read(ep[0], buf, sizeof(buf) - 1);
	close(ep[0]);
	memcpy(&e, buf, n >= (ssize_t)sizeof(int) ? sizeof(int) : 0);
	if (n == (ssize_t)sizeof(int) && e == SBX_OCI_ARMED && sn->o->oci)
		n = 0; /* the program waits on exec.fifo: "created" */
	if (n >= (ssize_t)sizeof(int)) {
		buf[n] = '\0';
		if (e < 0) {
			cove_err_set(err, 0, "%s", buf + sizeof(int));
		} else {
			*status = e == ENOENT ? SBX_EXIT_NOTFOUND :
						SBX_EXIT_NOEXEC;
			cove_err_set(err, e, "cannot run '%s'", sn->o->argv[0]);
		}
		return -1;
	}
	if (notify && sn->nfd < 0) {
		close(zp[0]);
		return cove_err_set(err, EPROTO,
				    "no seccomp listener from the program");
	}
	/* The zygote said hello before the program exec'd. Without it the
	 * sandbox runs, only `cove exec` is refused. */
	if (sbx_zygote_hello(sn, zp[0]) < 0)
		fprintf(stderr,
			"cove sentry: no exec helper; cove exec will be refused\n");
	return 0;
}
