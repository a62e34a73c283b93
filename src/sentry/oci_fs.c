// SPDX-License-Identifier: Apache-2.0
/* An OCI bundle's root, mounts and process attributes, in the program. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * For `cove create` the program's process (spawn.c, sbx_child()) calls
 * these instead of sbx_enter_rootfs(), in this order:
 *
 *   sbx_oci_enter_root()  private mount namespace; the root bind-mounted
 *                         onto itself; the spec's mounts under it, each
 *                         destination resolved with the root as "/"
 *                         (symlinks cannot lead out) and mounted through
 *                         its fd; the default devices bound from the
 *                         host's /dev; linux.sysctl through the sentry's
 *                         /proc (the container's namespaces);
 *                         pivot_root; maskedPaths,
 *                         readonlyPaths, a read-only root last;
 *   sbx_oci_process()     a session keyring of its own, rlimits, umask,
 *                         oom_score_adj;
 *   sbx_oci_terminal()    process.terminal: a pty of the container's
 *                         devpts, its master sent over --console-socket,
 *                         its slave the controlling tty and stdio;
 *   sbx_oci_caps()        after Cove's own drop: the spec's capability
 *                         sets, intersected with what Cove left (so the
 *                         spec can only take away);
 *   sbx_oci_gate()        the exec fifo: the program is found, "armed" is
 *                         reported to the sentry, and the process blocks
 *                         opening exec.fifo for writing until `cove start`
 *                         opens it for reading, as runc's init does.
 *
 * The fifo is reached through an O_PATH fd the runtime opened and a
 * directory fd of /proc/self/fd taken before pivot_root, so the container
 * needs neither the host's path nor a /proc of its own.
 */

/* sbx_oci_path_ok() - an absolute path with no ".." component. */
static bool sbx_oci_path_ok(const char *p)
{
	const char *s = p;

	if (p[0] != '/')
		return false;
	while ((s = strstr(s, "..")))
		if ((s == p || s[-1] == '/') && (s[2] == '/' || !s[2]))
			return false;
		else
			s += 2;
	return true;
}

/* sbx_oci_open_in() - openat2() with @rootfd as "/": symlinks stay in. */
static int sbx_oci_open_in(int rootfd, const char *path, uint64_t flags,
			   mode_t mode)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* sbx_oci_make_one() - create the last component of @path in the root. */
static void sbx_oci_make_one(int rootfd, char *path, bool file)
{
	char *slash = strrchr(path, '/');
	int fd;

	if (file) {
		fd = sbx_oci_open_in(rootfd, path, O_CREAT | O_WRONLY, 0644);
		if (fd >= 0)
			close(fd);
		return;
	}
	*slash = '\0';
	fd = sbx_oci_open_in(rootfd, path[0] ? path : "/", O_PATH | O_DIRECTORY,
			     0);
	*slash = '/';
	if (fd >= 0) {
		(void)mkdirat(fd, slash + 1, 0755);
		close(fd);
	}
}

/**
 * sbx_oci_mkpath() - find or make @dest (and its parents) in the root
 * @rootfd:	O_PATH fd of the root
 * @dest:	absolute destination inside the root
 * @file:	make the last component a file (a bind of a file)
 * @out:	an O_PATH fd of the destination (the caller's); mount onto
 *		it as /proc/self/fd/N
 * @err:	reason: ".." in the path, or a component that cannot be made
 *
 * Every lookup resolves symlinks as if the root were "/" (openat2's
 * RESOLVE_IN_ROOT, as runc's securejoin): a symlink in the image can
 * never point a mount, or a directory made for one, at the host.
 *
 * Return: 0 or -1.
 */
static int sbx_oci_mkpath(int rootfd, const char *dest, bool file, int *out,
			  struct cove_err *err)
{
	char path[4096], *s, *end;
	int fd;

	if (!sbx_oci_path_ok(dest) ||
	    (size_t)snprintf(path, sizeof(path), "%s", dest) >= sizeof(path))
		return cove_err_set(err, 0,
				    "mount destination '%s' is not a clean "
				    "absolute path",
				    dest);
	for (s = path + 1;; s = end + 1) {
		end = strchr(s, '/');
		if (end)
			*end = '\0';
		fd = sbx_oci_open_in(rootfd, path, O_PATH, 0);
		if (fd < 0 && errno == ENOENT) {
			sbx_oci_make_one(rootfd, path, file && !end);
			fd = sbx_oci_open_in(rootfd, path, O_PATH, 0);
		}
		if (fd < 0)
			return cove_err_set(err, errno, "mount destination %s",
					    dest);
		if (!end || !end[1]) {
			*out = fd;
			return 0;
		}
		close(fd);
		*end = '/';
	}
}

/* sbx_oci_fdpath() - "/proc/self/fd/N", how mount(2) reaches an fd. */
static const char *sbx_oci_fdpath(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}

/* sbx_oci_mount_one() - one entry of "mounts" at its place in the root. */
static int sbx_oci_mount_one(int rootfd, const struct sbx_oci_mount *m,
			     struct cove_err *err)
{
	unsigned long rec = m->recursive ? MS_REC : 0;
	char target[32];
	struct stat sb;
	bool file = false;
	int fd, r = 0;

	if (m->bind) {
		if (stat(m->source, &sb) < 0)
			return cove_err_set(err, errno, "mount %s: source %s",
					    m->dest, m->source);
		file = !S_ISDIR(sb.st_mode);
	}
	if (sbx_oci_mkpath(rootfd, m->dest, file, &fd, err) < 0)
		return -1;
	sbx_oci_fdpath(fd, target, sizeof(target));
	if (!m->bind) {
		if (mount(m->source ? m->source : m->type, target, m->type,
			  m->flags, m->data) < 0)
			r = cove_err_set(err, errno, "mount %s (%s)", m->dest,
					 m->type);
	} else if (mount(m->source, target, NULL, MS_BIND | rec, NULL) < 0) {
		r = cove_err_set(err, errno, "bind mount %s on %s", m->source,
				 m->dest);
	} else if (m->flags) {
		/* The fd still names the covered directory: remount by path,
		 * now resolved to the new mount. */
		close(fd);
		if (sbx_oci_mkpath(rootfd, m->dest, file, &fd, err) < 0)
			return -1;
		sbx_oci_fdpath(fd, target, sizeof(target));
		if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | m->flags,
			  NULL) < 0)
			r = cove_err_set(err, errno, "bind mount %s: options",
					 m->dest);
	}
	close(fd);
	return r;
}

/*
 * sbx_oci_devices() - the default devices of the runtime spec (null,
 * zero, full, random, urandom, tty) bound from the host's /dev where the
 * root lacks them, and the standard /dev symlinks, all made through
 * fds resolved in the root.
 */
static int sbx_oci_devices(int rootfd, struct cove_err *err)
{
	static const char *const devs[] = { "null",   "zero",	 "full",
					    "random", "urandom", "tty" };
	static const char *const links[][2] = {
		{ "pts/ptmx", "ptmx" },
		{ "/proc/self/fd", "fd" },
		{ "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" },
	};
	char dst[32], src[32], target[32];
	struct stat sb;
	unsigned i;
	int fd, dev;

	for (i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(dst, sizeof(dst), "/dev/%s", devs[i]);
		if (sbx_oci_mkpath(rootfd, dst, true, &fd, err) < 0)
			return -1;
		if (fstat(fd, &sb) < 0 || !S_ISCHR(sb.st_mode)) {
			snprintf(src, sizeof(src), "/dev/%s", devs[i]);
			if (mount(src,
				  sbx_oci_fdpath(fd, target, sizeof(target)),
				  NULL, MS_BIND, NULL) < 0) {
				close(fd);
				return cove_err_set(err, errno, "device %s",
						    src);
			}
		}
		close(fd);
	}
	dev = sbx_oci_open_in(rootfd, "/dev", O_PATH | O_DIRECTORY, 0);
	if (dev < 0)
		return cove_err_set(err, errno, "/dev");
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (fstatat(dev, links[i][1], &sb, AT_SYMLINK_NOFOLLOW) < 0 &&
		    symlinkat(links[i][0], dev, links[i][1]) < 0) {
			cove_err_set(err, errno, "/dev/%s", links[i][1]);
			close(dev);
			return -1;
		}
	close(dev);
	return 0;
}

/* sbx_oci_mask() - maskedPaths: /dev/null over files, ro tmpfs on dirs. */
static int sbx_oci_mask(const char *p, struct cove_err *err)
{
	struct stat sb;
	int r;

	if (stat(p, &sb) < 0)
		return errno == ENOENT ?
			       0 :
			       cove_err_set(err, errno, "masked %s", p);
	if (S_ISDIR(sb.st_mode))
		r = mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k");
	else
		r = mount("/dev/null", p, NULL, MS_BIND, NULL);
	return r < 0 ? cove_err_set(err, errno, "masked path %s", p) : 0;
}

/* sbx_oci_readonly() - readonlyPaths: bind over itself, read-only. */
static int sbx_oci_readonly(const char *p, struct cove_err *err)
{
	if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ?
			       0 :
			       cove_err_set(err, errno, "readonly path %s", p);
	if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return cove_err_set(err, errno, "readonly path %s", p);
	return 0;
}

/* sbx_oci_sysctl() - linux.sysctl through the sentry's /proc/sys. */
static int sbx_oci_sysctl(const struct sbx_oci *x, struct cove_err *err)
{
	char path[256], *s;
	unsigned i;
	int fd;
	ssize_t n, len;

	for (i = 0; i < x->nsysctl; i++) {
		snprintf(path, sizeof(path), "/proc/sys/%s", x->sysctl_key[i]);
		for (s = path + 10; *s; s++)
			if (*s == '.')
				*s = '/';
		fd = open(path, O_WRONLY | O_CLOEXEC);
		len = (ssize_t)strlen(x->sysctl_val[i]);
		n = fd < 0 ? -1 : write(fd, x->sysctl_val[i], (size_t)len);
		if (fd >= 0)
			close(fd);
		if (n != len)
			return cove_err_set(err, errno, "linux.sysctl %s",
					    x->sysctl_key[i]);
	}
	return 0;
}

/**
 * sbx_oci_enter_root() - the bundle's root with its mounts; pivot into it
 * @o:		options (o->rootfs: the root's absolute path; o->oci)
 * @fdsdir:	set to a directory fd of the sentry's /proc/self/fd, which
 *		sbx_oci_gate() opens the fifo through
 * @err:	names the mount, path or step that failed
 *
 * Return: 0 or -1.
 */
int sbx_oci_enter_root(const struct sbx_opts *o, int *fdsdir,
		       struct cove_err *err)
{
	const struct sbx_oci *x = o->oci;
	char root[4096];
	int rootfd, r = 0;
	unsigned i;

	if (!realpath(o->rootfs, root))
		return cove_err_set(err, errno, "root %s", o->rootfs);
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return cove_err_set(err, errno, "root %s", root);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cove_err_set(err, errno, "root %s", root);
	for (i = 0; i < x->nmounts && r == 0; i++)
		r = sbx_oci_mount_one(rootfd, &x->mounts[i], err);
	if (r == 0)
		r = sbx_oci_devices(rootfd, err);
	close(rootfd);
	if (r < 0 || sbx_oci_sysctl(x, err) < 0)
		return -1;
	*fdsdir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*fdsdir < 0)
		return cove_err_set(err, errno, "/proc/self/fd");
	if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return cove_err_set(err, errno, "pivot_root to %s", root);
	for (i = 0; i < x->nmasked; i++)
		if (sbx_oci_mask(x->masked[i], err) < 0)
			return -1;
	for (i = 0; i < x->nreadonly; i++)
		if (sbx_oci_readonly(x->readonly[i], err) < 0)
			return -1;
	if (x->root_readonly &&
	    mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return cove_err_set(err, errno, "read-only root");
	return 0;
}

/**
 * sbx_oci_process() - a new session keyring, process.rlimits, umask and
 * oomScoreAdj
 * @x:		the bundle's extras
 * @err:	names the limit that failed
 *
 * Return: 0 or -1.
 */
int sbx_oci_process(const struct sbx_oci *x, struct cove_err *err)
{
	struct rlimit rl;
	char buf[16];
	unsigned i;
	int fd, n;

	/* A keyring of its own, as runc gives unless --no-new-keyring. */
	if (!x->no_new_keyring &&
	    syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
	    errno != ENOSYS)
		return cove_err_set(err, errno, "new session keyring");
	for (i = 0; i < x->nrlimits; i++) {
		rl.rlim_cur = x->rlimits[i].soft;
		rl.rlim_max = x->rlimits[i].hard;
		if (setrlimit(x->rlimits[i].resource, &rl) < 0)
			return cove_err_set(err, errno, "process.rlimits[%u]",
					    i);
	}
	if (x->have_umask)
		umask(x->umask);
	if (x->have_oom) {
		n = snprintf(buf, sizeof(buf), "%d", x->oom_score_adj);
		fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, buf, (size_t)n) != n) {
			cove_err_set(err, errno, "process.oomScoreAdj");
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

/* sbx_cap_get() - one capability set of @d (0 effective, 1 permitted,
 * 2 inheritable) as 64 bits. */
static uint64_t sbx_cap_get(const struct __user_cap_data_struct *d, int which)
{
	uint32_t lo = which == 0 ? d[0].effective :
		      which == 1 ? d[0].permitted :
				   d[0].inheritable;
	uint32_t hi = which == 0 ? d[1].effective :
		      which == 1 ? d[1].permitted :
				   d[1].inheritable;

	return (uint64_t)hi << 32 | lo;
}

/* sbx_cap_put() - set one capability set of @d to @v. */
static void sbx_cap_put(struct __user_cap_data_struct *d, int which, uint64_t v)
{
	uint32_t *lo = which == 0 ? &d[0].effective :
		       which == 1 ? &d[0].permitted :
				    &d[0].inheritable;
	uint32_t *hi = which == 0 ? &d[1].effective :
		       which == 1 ? &d[1].permitted :
				    &d[1].inheritable;

	*lo = (uint32_t)v;
	*hi = (uint32_t)(v >> 32);
}

/**
 * sbx_oci_caps() - the spec's capability sets, within what Cove left
 * @x:		the bundle's extras (nothing to do without have_caps)
 * @keep:	capabilities kept in effective and permitted beyond the
 *		spec's for now (CAP_SETUID, CAP_SETGID: the uid change still
 *		to come); sbx_oci_caps_final() takes them away after it
 *
 * The bounding set is reduced here, while CAP_SETPCAP is still there.
 *
 * Return: 0 or negative errno.
 */
int sbx_oci_caps(const struct sbx_oci *x, uint64_t keep)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	uint64_t eff, prm;
	int c;

	if (!x->have_caps)
		return 0;
	for (c = 0; c < 64; c++)
		if (!(x->caps_bounding & (1ull << c)) &&
		    prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	eff = sbx_cap_get(d, 0);
	prm = sbx_cap_get(d, 1);
	sbx_cap_put(d, 0, eff & (x->caps_effective | keep));
	sbx_cap_put(d, 1, prm & (x->caps_permitted | keep));
	sbx_cap_put(d, 2, sbx_cap_get(d, 2) & x->caps_inheritable);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

int sbx_oci_caps_final(const struct sbx_oci *x)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	uint64_t prm;

	if (!x || !x->have_caps)
		return 0;
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	/* After a uid change with keep-caps: effective is empty, permitted
	 * kept; the spec's effective set comes from what is permitted. */
	prm = sbx_cap_get(d, 1);
	sbx_cap_put(d, 0, prm & x->caps_effective);
	sbx_cap_put(d, 1, prm & x->caps_permitted);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return 0;
}

/**
 * sbx_oci_terminal() - process.terminal: a pty of the container's devpts
 * @o:		options (the uid owning the slave)
 * @err:	the step that failed
 *
 * As runc: the master goes to the --console-socket (conmon, the shim),
 * the slave becomes the controlling terminal and stdio of a new session.
 * Nothing to do without process.terminal.
 *
 * Return: 0 or -1.
 */
int sbx_oci_terminal(const struct sbx_opts *o, struct cove_err *err)
{
	const struct sbx_oci *x = o->oci;
	struct winsize ws = { .ws_row = x->rows, .ws_col = x->cols };
	char name[64];
	int m, s, i;

	if (!x->terminal)
		return 0;
	m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)))
		return cove_err_set(err, errno, "terminal: /dev/ptmx");
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (s < 0 || fchown(s, o->uid, (gid_t)-1) < 0)
		return cove_err_set(err, errno, "terminal: %s", name);
	if ((x->rows || x->cols) && ioctl(s, TIOCSWINSZ, &ws) < 0)
		return cove_err_set(err, errno, "terminal: consoleSize");
	if (sbx_send_fd(x->console_fd, m, name, strlen(name), MSG_NOSIGNAL) < 0)
		return cove_err_set(err, errno, "terminal: --console-socket");
	close(m);
	close(x->console_fd);
	if (setsid() < 0 || ioctl(s, TIOCSCTTY, 0) < 0)
		return cove_err_set(err, errno, "terminal: controlling tty");
	for (i = 0; i < 3; i++)
		if (dup2(s, i) < 0)
			return cove_err_set(err, errno, "terminal: stdio");
	if (s > 2)
		close(s);
	return 0;
}

/* sbx_oci_find() - can execvpe() find @prog on @path? Return: 0/errno. */
static int sbx_oci_find(const char *prog, const char *path)
{
	char buf[4096];
	const char *p, *e;

	if (strchr(prog, '/'))
		return access(prog, X_OK) < 0 ? errno : 0;
	for (p = path; p && *p; p = *e ? e + 1 : e) {
		e = strchrnul(p, ':');
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(e - p), p, prog);
		if (!access(buf, X_OK))
			return 0;
	}
	return ENOENT;
}

/**
 * sbx_oci_gate() - find the program, report "armed", wait for `start`
 * @o:		options (the program, o->oci->fifo_fd)
 * @env:	the program's environment (its PATH is searched)
 * @fdsdir:	from sbx_oci_enter_root()
 * @exec_pipe:	the sentry's: the marker SBX_OCI_ARMED, or an errno
 *
 * Return: 0 once `start` opened the fifo (exec now), or an errno for
 * "cannot run" (reported on @exec_pipe already) or -1 if the fifo failed.
 */
int sbx_oci_gate(const struct sbx_opts *o, char *const *env, int fdsdir,
		 int exec_pipe)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
			   "/sbin:/bin";
	int e = SBX_OCI_ARMED, fd;
	char name[16];
	unsigned i;

	for (i = 0; env[i]; i++)
		if (!strncmp(env[i], "PATH=", 5))
			path = env[i] + 5;
	e = sbx_oci_find(o->argv[0], path);
	if (e) {
		(void)!write(exec_pipe, &e, sizeof(e));
		return e;
	}
	e = SBX_OCI_ARMED;
	if (write(exec_pipe, &e, sizeof(e)) != sizeof(e))
		return -1;
	close(exec_pipe); /* the sentry stops reading it */
	snprintf(name, sizeof(name), "%d", o->oci->fifo_fd);
	fd = openat(fdsdir, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		return -1;
	close(fd);
	close(fdsdir);
	close(o->oci->fifo_fd);
	return 0;
}
