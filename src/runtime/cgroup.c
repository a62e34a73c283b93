// SPDX-License-Identifier: Apache-2.0
/* A sandbox's cgroup: memory, pids and cpu limits (v1 or v2). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * `cove run` (with --memory, --cpus or --pids) and `cove create` (with
 * linux.resources) move themselves into the sandbox's cgroup just before
 * they fork the sentry, so the sentry, the program and everything they start
 * are in it from their first instruction and no pid has to be moved
 * later; then they move back (rt_cgroup_leave()). The sentry's
 * own memory counts too: the limit is the sandbox's, stack included.
 * The directory goes once the sentry is gone: `cove run`'s teardown
 * (rt_release()), `cove gc` for a sandbox whose runtime died (the state
 * dir's "cgroup" file), OCI `delete`.
 *
 * v2 (/sys/fs/cgroup is cgroup2): one directory; the controllers are
 * enabled in every ancestor's cgroup.subtree_control on the way down.
 * v1: a directory in each hierarchy a limit needs (memory, pids, cpu),
 * and in the freezer one when asked (an OCI container: pause, resume).
 * Freezing writes freezer.state (v1) or cgroup.freeze (v2) and waits
 * until the kernel reports the whole cgroup FROZEN / "frozen 1".
 * cpu shares become a v2 weight with the kernel's own formula.
 */

#define RT_CG "/sys/fs/cgroup"

static const char *const rt_cg_v1s[] = { "memory", "pids", "cpu", "freezer" };

#define RT_CG_NV1 4 /* the v1 hierarchies; rt_cg_home[RT_CG_NV1] is v2's */

/* The caller's place in each hierarchy, for rt_cgroup_leave(). */
static char rt_cg_home[RT_CG_NV1 + 1][512];

/* rt_cg_v2() - is /sys/fs/cgroup the unified hierarchy? */
static bool rt_cg_v2(void)
{
	struct statfs sf;

	return !statfs(RT_CG, &sf) && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* rt_cg_write() - write @val to @dir/@file. Return: 0 or -1 (errno). */
static int rt_cg_write(const char *dir, const char *file, const char *val)
{
	char path[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* rt_cg_mkdirs() - @base@path and its parents; for v2 with @ctl, the
 * controllers enabled in each parent. Return: 0 or -1. */
static int rt_cg_mkdirs(const char *base, const char *path, const char *ctl)
{
	char dir[1024], *s;
	size_t bl = strlen(base);

	snprintf(dir, sizeof(dir), "%s%s", base, path);
	for (s = dir + bl + 1;; s++) {
		s = strchr(s, '/');
		if (s)
			*s = '\0';
		if (ctl) {
			/* the parent of this level delegates the controllers */
			char *up = strrchr(dir, '/');

			*up = '\0';
			(void)rt_cg_write(dir, "cgroup.subtree_control", ctl);
			*up = '/';
		}
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		if (!s)
			return 0;
		*s = '/';
	}
}

/* rt_cg_home_save() - remember the caller's cgroups (/proc/self/cgroup). */
static void rt_cg_home_save(void)
{
	char line[600], *ctl, *path;
	unsigned i;
	FILE *f = fopen("/proc/self/cgroup", "re");

	memset(rt_cg_home, 0, sizeof(rt_cg_home));
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		ctl = strchr(line, ':');
		path = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = '\0';
		ctl++;
		if (!*ctl) /* v2 */
			snprintf(rt_cg_home[RT_CG_NV1],
				 sizeof(rt_cg_home[RT_CG_NV1]), "%s", path);
		for (i = 0; i < RT_CG_NV1; i++)
			if (strstr(ctl, rt_cg_v1s[i]) &&
			    (strlen(ctl) == strlen(rt_cg_v1s[i]) ||
			     ctl[strlen(rt_cg_v1s[i])] == ','))
				snprintf(rt_cg_home[i], sizeof(rt_cg_home[i]),
					 "%s", path);
	}
	if (f)
		fclose(f);
}

/**
 * rt_cg_v2_offers() - check that the unified hierarchy has the controllers
 * the limits need
 * @l:		the limits
 * @err:	what is missing, and where the controllers are instead
 *
 * A hybrid host (v1 hierarchies beside cgroup2, as here) can mount the
 * unified hierarchy at /sys/fs/cgroup with the controllers still bound to
 * v1; writing memory.max there fails with a bare ENOENT. Say which limit
 * needs which controller instead.
 *
 * Return: 0, or -1 with @err set.
 */
static int rt_cg_v2_offers(const struct sbx_limits *l, struct cove_err *err)
{
	static const struct {
		const char *ctl, *what;
	} need[] = {
		{ "memory", "a memory limit" },
		{ "pids", "a pids limit" },
		{ "cpu", "a cpu limit" },
	};
	bool want[3] = { l->memory > 0, l->pids > 0,
			 l->cpu_shares > 0 || l->cpu_quota > 0 };
	char have[512] = "", word[40];
	unsigned i;
	FILE *f = fopen(RT_CG "/cgroup.controllers", "re");

	if (f) {
		if (!fgets(have, sizeof(have), f))
			have[0] = '\0';
		fclose(f);
	}
	have[strcspn(have, "\n")] = '\0';
	for (i = 0; i < 3; i++) {
		char padded[sizeof(have) + 2];

		if (!want[i])
			continue;
		snprintf(padded, sizeof(padded), " %s ", have);
		snprintf(word, sizeof(word), " %s ", need[i].ctl);
		if (!strstr(padded, word))
			return cove_err_set(
				err, 0,
				"%s needs the cgroup v2 %s controller, which "
				"%s/cgroup.controllers does not offer (it has: "
				"%s); on a hybrid host it is bound to a v1 "
				"hierarchy",
				need[i].what, need[i].ctl, RT_CG,
				*have ? have : "none");
	}
	return 0;
}

/* rt_cg_v2_enter() - the unified hierarchy's directory and limits. */
static int rt_cg_v2_enter(const struct sbx_limits *l, char *pid,
			  struct cove_err *err)
{
	char dir[1024], v[64];

	if (rt_cg_v2_offers(l, err) < 0)
		return -1;
	snprintf(dir, sizeof(dir), RT_CG "%s", l->path);
	if (rt_cg_mkdirs(RT_CG, l->path, "+memory +pids +cpu") < 0)
		return cove_err_set(err, errno, "cgroup %s", dir);
	if (l->memory > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)l->memory);
		if (rt_cg_write(dir, "memory.max", v) < 0)
			return cove_err_set(err, errno, "%s/memory.max", dir);
	}
	if (l->pids > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)l->pids);
		if (rt_cg_write(dir, "pids.max", v) < 0)
			return cove_err_set(err, errno, "%s/pids.max", dir);
	}
	if (l->cpu_shares > 0) {
		snprintf(v, sizeof(v), "%lld",
			 1 + ((long long)l->cpu_shares - 2) * 9999 / 262142);
		if (rt_cg_write(dir, "cpu.weight", v) < 0)
			return cove_err_set(err, errno, "%s/cpu.weight", dir);
	}
	if (l->cpu_quota > 0) {
		snprintf(v, sizeof(v), "%lld %lld", (long long)l->cpu_quota,
			 (long long)(l->cpu_period ? l->cpu_period : 100000));
		if (rt_cg_write(dir, "cpu.max", v) < 0)
			return cove_err_set(err, errno, "%s/cpu.max", dir);
	}
	if (rt_cg_write(dir, "cgroup.procs", pid) < 0)
		return cove_err_set(err, errno, "%s/cgroup.procs", dir);
	return 0;
}

/* rt_cg_v1_one() - one v1 hierarchy: directory, limit files, the pid. */
static int rt_cg_v1_one(const char *ctl, const char *path,
			const char *const files[3], const char *const vals[3],
			const char *pid, struct cove_err *err)
{
	char base[128], dir[1024];
	unsigned i;

	snprintf(base, sizeof(base), RT_CG "/%s", ctl);
	snprintf(dir, sizeof(dir), "%s%s", base, path);
	if (rt_cg_mkdirs(base, path, NULL) < 0)
		return cove_err_set(err, errno, "cgroup %s", dir);
	for (i = 0; i < 3 && files[i]; i++)
		if (rt_cg_write(dir, files[i], vals[i]) < 0)
			return cove_err_set(err, errno, "%s/%s", dir, files[i]);
	if (rt_cg_write(dir, "cgroup.procs", pid) < 0)
		return cove_err_set(err, errno, "%s/cgroup.procs", dir);
	return 0;
}

/* rt_cg_v1_enter() - the v1 hierarchies the limits need. */
static int rt_cg_v1_enter(const struct sbx_limits *l, const char *pid,
			  struct cove_err *err)
{
	char mem[32], pids[32], shares[32], quota[32], period[32];
	const char *mf[3] = { "memory.limit_in_bytes", NULL, NULL };
	const char *mv[3] = { mem, NULL, NULL };
	const char *pf[3] = { "pids.max", NULL, NULL };
	const char *pv[3] = { pids, NULL, NULL };
	const char *cf[3] = { NULL, NULL, NULL }, *cv[3] = { NULL, NULL, NULL };
	const char *nf[3] = { NULL, NULL, NULL };
	unsigned n = 0;

	snprintf(mem, sizeof(mem), "%lld", (long long)l->memory);
	snprintf(pids, sizeof(pids), "%lld", (long long)l->pids);
	snprintf(shares, sizeof(shares), "%lld", (long long)l->cpu_shares);
	snprintf(quota, sizeof(quota), "%lld", (long long)l->cpu_quota);
	snprintf(period, sizeof(period), "%lld",
		 (long long)(l->cpu_period ? l->cpu_period : 100000));
	if (l->cpu_shares > 0) {
		cf[n] = "cpu.shares";
		cv[n++] = shares;
	}
	if (l->cpu_quota > 0) {
		cf[n] = "cpu.cfs_period_us";
		cv[n++] = period;
		cf[n] = "cpu.cfs_quota_us";
		cv[n++] = quota;
	}
	if (l->memory > 0 &&
	    rt_cg_v1_one("memory", l->path, mf, mv, pid, err) < 0)
		return -1;
	if (l->pids > 0 && rt_cg_v1_one("pids", l->path, pf, pv, pid, err) < 0)
		return -1;
	if (n && rt_cg_v1_one("cpu", l->path, cf, cv, pid, err) < 0)
		return -1;
	if (l->freezer &&
	    rt_cg_v1_one("freezer", l->path, nf, nf, pid, err) < 0)
		return -1;
	return 0;
}

int rt_cgroup_enter(const struct sbx_limits *l, struct cove_err *err)
{
	char pid[16];
	int r;

	rt_cg_home_save();
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	r = rt_cg_v2() ? rt_cg_v2_enter(l, pid, err) :
			 rt_cg_v1_enter(l, pid, err);
	if (r < 0) {
		rt_cgroup_leave();
		rt_cgroup_remove(l->path);
	}
	return r;
}

void rt_cgroup_leave(void)
{
	char pid[16], dir[3200];
	unsigned i;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (rt_cg_v2()) {
		snprintf(dir, sizeof(dir), RT_CG "%s", rt_cg_home[RT_CG_NV1]);
		(void)rt_cg_write(dir, "cgroup.procs", pid);
		return;
	}
	for (i = 0; i < RT_CG_NV1; i++) {
		snprintf(dir, sizeof(dir), RT_CG "/%s%s", rt_cg_v1s[i],
			 rt_cg_home[i]);
		(void)rt_cg_write(dir, "cgroup.procs", pid);
	}
}

void rt_cgroup_remove(const char *path)
{
	char dir[2200];
	unsigned i;

	if (!path || !path[0])
		return;
	if (rt_cg_v2()) {
		snprintf(dir, sizeof(dir), RT_CG "%s", path);
		(void)rmdir(dir);
		return;
	}
	for (i = 0; i < RT_CG_NV1; i++) {
		snprintf(dir, sizeof(dir), RT_CG "/%s%s", rt_cg_v1s[i], path);
		(void)rmdir(dir);
	}
}

/* rt_cg_exists() - is any directory of the cgroup @path still there? */
static bool rt_cg_exists(const char *path)
{
	char dir[2200];
	unsigned i;

	if (rt_cg_v2()) {
		snprintf(dir, sizeof(dir), RT_CG "%s", path);
		return !access(dir, F_OK);
	}
	for (i = 0; i < RT_CG_NV1; i++) {
		snprintf(dir, sizeof(dir), RT_CG "/%s%s", rt_cg_v1s[i], path);
		if (!access(dir, F_OK))
			return true;
	}
	return false;
}

bool rt_cgroup_remove_wait(const char *path, unsigned ms)
{
	unsigned waited = 0;

	if (!path || !path[0])
		return true;
	for (;;) {
		rt_cgroup_remove(path);
		if (!rt_cg_exists(path))
			return true;
		if (waited >= ms)
			return false;
		usleep(10000); /* the last tasks are still leaving it */
		waited += 10;
	}
}

/* rt_cg_freezer_dir() - the directory whose files freeze @path. */
static void rt_cg_freezer_dir(const char *path, char *dir, size_t len)
{
	if (rt_cg_v2())
		snprintf(dir, len, RT_CG "%s", path);
	else
		snprintf(dir, len, RT_CG "/freezer%s", path);
}

/* rt_cg_read() - the first line of @dir/@file, or "" when unreadable. */
static void rt_cg_read(const char *dir, const char *file, char *buf, size_t len)
{
	char path[2300];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

int rt_cgroup_frozen(const char *path)
{
	char dir[2200], buf[512];

	if (!path || !path[0])
		return -1;
	rt_cg_freezer_dir(path, dir, sizeof(dir));
	if (rt_cg_v2()) {
		rt_cg_read(dir, "cgroup.events", buf, sizeof(buf));
		return strstr(buf, "frozen 1") ? 1 :
		       strstr(buf, "frozen 0") ? 0 :
						 -1;
	}
	rt_cg_read(dir, "freezer.state", buf, sizeof(buf));
	return !strncmp(buf, "FROZEN", 6) ? 1 : buf[0] ? 0 : -1;
}

int rt_cgroup_freeze(const char *path, bool freeze, struct cove_err *err)
{
	bool v2 = rt_cg_v2();
	const char *file = v2 ? "cgroup.freeze" : "freezer.state";
	const char *val = v2 ? (freeze ? "1" : "0") :
			       (freeze ? "FROZEN" : "THAWED");
	char dir[2200];
	unsigned waited = 0;

	if (!path || !path[0])
		return cove_err_set(err, ENOENT, "the container has no cgroup");
	rt_cg_freezer_dir(path, dir, sizeof(dir));
	for (;;) {
		/* v1: FREEZING until every task stops; writing again retries
		 * the tasks that were busy. */
		if (rt_cg_write(dir, file, val) < 0)
			return cove_err_set(err, errno, "%s/%s", dir, file);
		if (rt_cgroup_frozen(path) == (int)freeze)
			return 0;
		if (waited >= 2000)
			return cove_err_set(err, EBUSY, "%s: still not %s", dir,
					    freeze ? "frozen" : "thawed");
		usleep(5000);
		waited += 5;
	}
}
