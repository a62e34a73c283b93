// SPDX-License-Identifier: Apache-2.0
/* The container's cgroup: memory, pids and cpu limits (v1 or v2). */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "oci/oci.h"

/*
 * Theory of operation
 *
 * `cove create` moves itself into the container's cgroup just before it
 * forks the sentry, so the sentry, the program and everything they start
 * are in it from their first instruction and no pid has to be moved
 * later; then it moves itself back (oci_cgroup_leave()). The sentry's
 * own memory counts too: the limit is the sandbox's, stack included.
 * `delete` removes the directory once the sentry is gone.
 *
 * v2 (/sys/fs/cgroup is cgroup2): one directory; the controllers are
 * enabled in every ancestor's cgroup.subtree_control on the way down.
 * v1: a directory in each hierarchy a limit needs (memory, pids, cpu).
 * cpu shares become a v2 weight with the kernel's own formula.
 */

#define OCI_CG "/sys/fs/cgroup"

static const char *const oci_v1[] = { "memory", "pids", "cpu" };

/* The caller's place in each hierarchy, for oci_cgroup_leave(). */
static char oci_cg_home[4][512];

/* oci_cg_v2() - is /sys/fs/cgroup the unified hierarchy? */
static bool oci_cg_v2(void)
{
	struct statfs sf;

	return !statfs(OCI_CG, &sf) && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* oci_cg_write() - write @val to @dir/@file. Return: 0 or -1 (errno). */
static int oci_cg_write(const char *dir, const char *file, const char *val)
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

/* oci_cg_mkdirs() - @base@path and its parents; for v2 with @ctl, the
 * controllers enabled in each parent. Return: 0 or -1. */
static int oci_cg_mkdirs(const char *base, const char *path, const char *ctl)
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
			(void)oci_cg_write(dir, "cgroup.subtree_control", ctl);
			*up = '/';
		}
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		if (!s)
			return 0;
		*s = '/';
	}
}

/* oci_cg_home_save() - remember the caller's cgroups (/proc/self/cgroup). */
static void oci_cg_home_save(void)
{
	char line[600], *ctl, *path;
	unsigned i;
	FILE *f = fopen("/proc/self/cgroup", "re");

	memset(oci_cg_home, 0, sizeof(oci_cg_home));
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		ctl = strchr(line, ':');
		path = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = '\0';
		ctl++;
		if (!*ctl) /* v2 */
			snprintf(oci_cg_home[3], sizeof(oci_cg_home[3]), "%s",
				 path);
		for (i = 0; i < 3; i++)
			if (strstr(ctl, oci_v1[i]) &&
			    (strlen(ctl) == strlen(oci_v1[i]) ||
			     ctl[strlen(oci_v1[i])] == ','))
				snprintf(oci_cg_home[i], sizeof(oci_cg_home[i]),
					 "%s", path);
	}
	if (f)
		fclose(f);
}

/* oci_cg_v2_enter() - the unified hierarchy's directory and limits. */
static int oci_cg_v2_enter(const struct oci_limits *l, char *pid,
			   struct cove_err *err)
{
	char dir[1024], v[64];

	snprintf(dir, sizeof(dir), OCI_CG "%s", l->path);
	if (oci_cg_mkdirs(OCI_CG, l->path, "+memory +pids +cpu") < 0)
		return cove_err_set(err, errno, "cgroup %s", dir);
	if (l->memory > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)l->memory);
		if (oci_cg_write(dir, "memory.max", v) < 0)
			return cove_err_set(err, errno, "%s/memory.max", dir);
	}
	if (l->pids > 0) {
		snprintf(v, sizeof(v), "%lld", (long long)l->pids);
		if (oci_cg_write(dir, "pids.max", v) < 0)
			return cove_err_set(err, errno, "%s/pids.max", dir);
	}
	if (l->cpu_shares > 0) {
		snprintf(v, sizeof(v), "%lld",
			 1 + ((long long)l->cpu_shares - 2) * 9999 / 262142);
		if (oci_cg_write(dir, "cpu.weight", v) < 0)
			return cove_err_set(err, errno, "%s/cpu.weight", dir);
	}
	if (l->cpu_quota > 0) {
		snprintf(v, sizeof(v), "%lld %lld", (long long)l->cpu_quota,
			 (long long)(l->cpu_period ? l->cpu_period : 100000));
		if (oci_cg_write(dir, "cpu.max", v) < 0)
			return cove_err_set(err, errno, "%s/cpu.max", dir);
	}
	if (oci_cg_write(dir, "cgroup.procs", pid) < 0)
		return cove_err_set(err, errno, "%s/cgroup.procs", dir);
	return 0;
}

/* oci_cg_v1_one() - one v1 hierarchy: directory, limit files, the pid. */
static int oci_cg_v1_one(const char *ctl, const char *path,
			 const char *const files[3], const char *const vals[3],
			 const char *pid, struct cove_err *err)
{
	char base[128], dir[1024];
	unsigned i;

	snprintf(base, sizeof(base), OCI_CG "/%s", ctl);
	snprintf(dir, sizeof(dir), "%s%s", base, path);
	if (oci_cg_mkdirs(base, path, NULL) < 0)
		return cove_err_set(err, errno, "cgroup %s", dir);
	for (i = 0; i < 3 && files[i]; i++)
		if (oci_cg_write(dir, files[i], vals[i]) < 0)
			return cove_err_set(err, errno, "%s/%s", dir, files[i]);
	if (oci_cg_write(dir, "cgroup.procs", pid) < 0)
		return cove_err_set(err, errno, "%s/cgroup.procs", dir);
	return 0;
}

/* oci_cg_v1_enter() - the v1 hierarchies the limits need. */
static int oci_cg_v1_enter(const struct oci_limits *l, const char *pid,
			   struct cove_err *err)
{
	char mem[32], pids[32], shares[32], quota[32], period[32];
	const char *mf[3] = { "memory.limit_in_bytes", NULL, NULL };
	const char *mv[3] = { mem, NULL, NULL };
	const char *pf[3] = { "pids.max", NULL, NULL };
	const char *pv[3] = { pids, NULL, NULL };
	const char *cf[3] = { NULL, NULL, NULL }, *cv[3] = { NULL, NULL, NULL };
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
	    oci_cg_v1_one("memory", l->path, mf, mv, pid, err) < 0)
		return -1;
	if (l->pids > 0 && oci_cg_v1_one("pids", l->path, pf, pv, pid, err) < 0)
		return -1;
	if (n && oci_cg_v1_one("cpu", l->path, cf, cv, pid, err) < 0)
		return -1;
	return 0;
}

int oci_cgroup_enter(const struct oci_limits *l, struct cove_err *err)
{
	char pid[16];
	int r;

	oci_cg_home_save();
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	r = oci_cg_v2() ? oci_cg_v2_enter(l, pid, err) :
			  oci_cg_v1_enter(l, pid, err);
	if (r < 0) {
		oci_cgroup_leave();
		oci_cgroup_remove(l->path);
	}
	return r;
}

void oci_cgroup_leave(void)
{
	char pid[16], dir[2200];
	unsigned i;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (oci_cg_v2()) {
		snprintf(dir, sizeof(dir), OCI_CG "%s", oci_cg_home[3]);
		(void)oci_cg_write(dir, "cgroup.procs", pid);
		return;
	}
	for (i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), OCI_CG "/%s%s", oci_v1[i],
			 oci_cg_home[i]);
		(void)oci_cg_write(dir, "cgroup.procs", pid);
	}
}

void oci_cgroup_remove(const char *path)
{
	char dir[2200];
	unsigned i;

	if (!path || !path[0])
		return;
	if (oci_cg_v2()) {
		snprintf(dir, sizeof(dir), OCI_CG "%s", path);
		(void)rmdir(dir);
		return;
	}
	for (i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), OCI_CG "/%s%s", oci_v1[i], path);
		(void)rmdir(dir);
	}
}
