// SPDX-License-Identifier: Apache-2.0
/* Sandbox state under /run/cove/NAME: names, addresses, locks, gc. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * /run/cove/.lock (flock) serialises the creation of sandboxes and garbage
 * collection. Each sandbox has /run/cove/NAME/ with:
 *
 *   lock    flock'ed by `cove run` for the sandbox's whole life (the
 *           sentry closes its copy): a free lock means the runtime is
 *           gone, and its sentry is dead or dying (PR_SET_PDEATHSIG);
 *   ip      the sandbox address (A.B.C.D), which also names the veth;
 *   ip6     its IPv6 address, ADDR/N (none with --ipv4-only), checked by
 *           every later sandbox under the global lock (rt_ip6_holder());
 *   pid     "PID STARTTIME" of the sentry, so gc never kills a reused pid;
 *   network the --network value, for `cove list`;
 *   ports   the --publish host ports, written under the global lock when
 *           the directory is made, so that no later sandbox publishes
 *           them while this one lives (rt_state_ports_free());
 *   publish present while host nftables rules exist;
 *   cgroup  the sandbox's cgroup (--memory, --cpus, --pids), removed by
 *           the teardown or by gc once the sentry is gone.
 *
 * gc (run by `cove gc` and at the start of every `cove run`) removes every
 * directory whose lock it can take: it kills a sentry that survived (it has
 * PR_SET_PDEATHSIG, so normally none does), deletes the host veth, the
 * published ports and the cgroup, then the directory.
 */

#define SBX_GLOBAL_LOCK	    SBX_RUN_DIR "/.lock"
#define SBX_MAX_SANDBOXES   4096
#define RT_STOPPING_WAIT_MS 5000 /* for finishing sandboxes, in all */

/**
 * rt_state_write() - write one small file of the state dir
 * @st:		state
 * @file:	file name
 * @fmt:	printf-style content
 *
 * Best effort: the files serve gc and `cove list`, and the sandbox runs
 * without them, so a failure is silent.
 */
void rt_state_write(const struct rt_state *st, const char *file,
		    const char *fmt, ...)
{
	char path[192];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", st->dir, file);
	f = fopen(path, "we");
	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

/**
 * rt_read_small() - read a small file of a state dir
 * @dir:	the state dir
 * @file:	file name
 * @buf:	filled, NUL-terminated (at most @len - 1 bytes of the file)
 * @len:	its size
 *
 * Return: 0, or -1 when the file is missing or empty.
 */
static int rt_read_small(const char *dir, const char *file, char *buf,
			 size_t len)
{
	cove_cleanup_close int fd = -1;
	char path[192];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

unsigned long long rt_proc_starttime(pid_t pid, char *state)
{
	cove_cleanup_close int fd = -1;
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	ssize_t n;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces */
	if (!p || !p[1] || !p[2])
		return 0;
	if (state)
		*state = p[2];
	for (i = 2; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

/**
 * rt_global_lock() - take /run/cove/.lock, creating /run/cove if needed
 * @err:	reason
 *
 * Blocks until no other `cove run` or `cove gc` holds it.
 *
 * Return: the fd holding the lock (the caller's; closing it unlocks), or
 * -1.
 */
static int rt_global_lock(struct cove_err *err)
{
	cove_cleanup_close int fd = -1;

	if (mkdir(SBX_RUN_DIR, 0711) < 0 && errno != EEXIST)
		return cove_err_set(err, errno, "cannot create %s",
				    SBX_RUN_DIR);
	fd = open(SBX_GLOBAL_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cove_err_set(err, errno, "cannot open %s",
				    SBX_GLOBAL_LOCK);
	if (flock(fd, LOCK_EX) < 0)
		return cove_err_set(err, errno, "cannot lock %s",
				    SBX_GLOBAL_LOCK);
	return cove_steal_fd(&fd);
}

/**
 * rt_rm_dir() - remove a state dir: the files cove writes, then the dir
 * @dir:	the state dir
 *
 * Only the known names are unlinked, so a dir holding anything else (not
 * cove's) is left in place by rmdir().
 */
static void rt_rm_dir(const char *dir)
{
	static const char *const files[] = {
		"lock",	   "ip",	   "ip6",    "pid",
		"publish", "control.sock", "veth",   "network",
		"ports",   "stopping",	   "cgroup",
	};
	char path[192];
	unsigned i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

/* rt_gc_cgroup() - a dead sandbox's cgroup ("cgroup"), once it is empty. */
static void rt_gc_cgroup(const char *dir, const char *name, bool verbose)
{
	char path[512];

	if (rt_read_small(dir, "cgroup", path, sizeof(path)))
		return;
	path[strcspn(path, "\n")] = '\0';
	if (path[0] != '/' || strstr(path, ".."))
		return; /* not one Cove wrote */
	if (!rt_cgroup_remove_wait(path, 2000) && verbose)
		fprintf(stderr, "cove gc: %s: cgroup %s still busy\n", name,
			path);
}

/**
 * rt_gc_one() - clean up after one sandbox whose runtime is gone
 * @dir:	its state dir, whose lock the caller holds (or that has none)
 * @name:	its name, for messages
 * @verbose:	print what is done
 *
 * Kills the sentry if "pid" still names it (same start time), removes the
 * cgroup once its tasks are gone, deletes the veth and, if "publish" is
 * there, the nft table, then the directory.
 */
static void rt_gc_one(const char *dir, const char *name, bool verbose)
{
	char buf[64], path[192];
	struct in_addr ip;
	int pid;
	unsigned long long start;

	if (!rt_read_small(dir, "pid", buf, sizeof(buf)) &&
	    sscanf(buf, "%d %llu", &pid, &start) == 2 && pid > 1 &&
	    rt_proc_starttime(pid, NULL) == start) {
		if (verbose)
			fprintf(stderr, "cove gc: %s: killing sentry %d\n",
				name, pid);
		kill(pid, SIGKILL);
	}
	rt_gc_cgroup(dir, name, verbose);
	if (!rt_read_small(dir, "ip", buf, sizeof(buf))) {
		buf[strcspn(buf, "\n")] = '\0';
		if (inet_pton(AF_INET, buf, &ip) == 1) {
			rt_detach_host(ip);
			snprintf(path, sizeof(path), "%s/publish", dir);
			if (!access(path, F_OK))
				rt_publish_del(ip);
		}
	}
	rt_rm_dir(dir);
	if (verbose)
		fprintf(stderr, "cove gc: removed %s\n", name);
}

/**
 * rt_gc_locked() - gc with the global lock held; collect live addresses
 * @verbose:	print what is removed
 * @used:	if not NULL, filled with live sandboxes' addresses (host order)
 * @nused:	their count
 * @max:	room in @used
 *
 * Return: the number of sandboxes cleaned.
 */
static int rt_gc_locked(bool verbose, uint32_t *used, unsigned *nused,
			unsigned max)
{
	cove_cleanup_closedir DIR *d = opendir(SBX_RUN_DIR);
	char dir[160], path[192], buf[64];
	struct dirent *de;
	struct in_addr ip;
	int cleaned = 0;

	if (nused)
		*nused = 0;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		cove_cleanup_close int fd = -1;

		if (de->d_name[0] == '.' || !rt_name_valid(de->d_name) ||
		    strlen(de->d_name) > SBX_NAME_MAX)
			continue;
		snprintf(dir, sizeof(dir), "%s/%.*s", SBX_RUN_DIR, SBX_NAME_MAX,
			 de->d_name);
		snprintf(path, sizeof(path), "%s/lock", dir);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
			cove_closep(&fd); /* alive */
			if (used && *nused < max &&
			    !rt_read_small(dir, "ip", buf, sizeof(buf))) {
				buf[strcspn(buf, "\n")] = '\0';
				if (inet_pton(AF_INET, buf, &ip) == 1)
					used[(*nused)++] = ntohl(ip.s_addr);
			}
			continue;
		}
		rt_gc_one(dir, de->d_name, verbose); /* then fd closes */
		cleaned++;
	}
	return cleaned;
}

/**
 * rt_gc() - `cove gc`: clean up after sandboxes whose runtime is gone
 * @verbose:	print what is removed
 *
 * Return: the number of sandboxes cleaned, or -1 (printed) when the global
 * lock cannot be taken.
 */
int rt_gc(bool verbose)
{
	struct cove_err err;
	cove_cleanup_close int g = rt_global_lock(&err);

	if (g < 0) {
		fprintf(stderr, "cove gc: %s\n", err.msg);
		return -1;
	}
	return rt_gc_locked(verbose, NULL, NULL, 0); /* then g unlocks */
}

/* rt_gen_name() - "cove-" and 8 random hex digits. */
static void rt_gen_name(char *name)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	snprintf(name, SBX_NAME_MAX + 1, "cove-%08x", r);
}

/**
 * rt_state_make_dir() - create /run/cove/NAME and take its lock
 * @o:		options; o->name is generated here unless --name gave it
 * @st:		st->dir is set; st->lock_fd owns the lock on success
 * @err:	reason: the name is taken, or the dir cannot be made
 *
 * Called with the global lock held. A generated name that exists already
 * is drawn again, up to ten times.
 *
 * Return: 0, or -1 with nothing left behind.
 */
static int rt_state_make_dir(struct sbx_opts *o, struct rt_state *st,
			     struct cove_err *err)
{
	cove_cleanup_close int lock = -1;
	char path[192];
	unsigned tries;

	for (tries = 0;; tries++) {
		if (!o->have_name)
			rt_gen_name(o->name);
		snprintf(st->dir, sizeof(st->dir), "%s/%s", SBX_RUN_DIR,
			 o->name);
		if (!mkdir(st->dir, 0700))
			break;
		if (errno != EEXIST || o->have_name || tries > 8) {
			if (errno == EEXIST)
				return cove_err_set(
					err, 0,
					"a sandbox named '%s' is running",
					o->name);
			return cove_err_set(err, errno,
					    "cannot create state for '%s'",
					    o->name);
		}
	}
	snprintf(path, sizeof(path), "%s/lock", st->dir);
	lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		cove_err_set(err, errno, "cannot lock %s", path);
		cove_closep(&lock);
		rt_rm_dir(st->dir);
		return -1;
	}
	st->lock_fd = cove_steal_fd(&lock);
	return 0;
}

/**
 * rt_ip6_holder() - the live sandbox whose "ip6" is @ip6, if any
 * @ip6:	address
 * @self:	this sandbox's name (its own dir does not count)
 * @out:	its name
 * @outlen:	size of @out
 *
 * Called with the global lock held, after gc: every state dir left is a
 * live sandbox's.
 *
 * Return: true if one has it.
 */
static bool rt_ip6_holder(const struct in6_addr *ip6, const char *self,
			  char *out, size_t outlen)
{
	cove_cleanup_closedir DIR *d = opendir(SBX_RUN_DIR);
	struct in6_addr other;
	struct dirent *de;
	char dir[160], buf[INET6_ADDRSTRLEN + 8];

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !rt_name_valid(de->d_name) ||
		    !strcmp(de->d_name, self))
			continue;
		snprintf(dir, sizeof(dir), "%s/%.*s", SBX_RUN_DIR, SBX_NAME_MAX,
			 de->d_name);
		if (rt_read_small(dir, "ip6", buf, sizeof(buf)))
			continue;
		buf[strcspn(buf, "/\n")] = '\0';
		if (inet_pton(AF_INET6, buf, &other) == 1 &&
		    !memcmp(&other, ip6, sizeof(other))) {
			snprintf(out, outlen, "%.*s", SBX_NAME_MAX, de->d_name);
			return true;
		}
	}
	return false;
}

/*
 * rt_host_has_ipv6() - does a new interface of the host get IPv6? Not when
 * the kernel has none or net.ipv6.conf.default.disable_ipv6 is set (the
 * host end of a veth takes the default's value).
 */
static bool rt_host_has_ipv6(void)
{
	cove_cleanup_close int fd =
		open("/proc/sys/net/ipv6/conf/default/disable_ipv6",
		     O_RDONLY | O_CLOEXEC);
	char c = '1';

	return fd >= 0 && read(fd, &c, 1) == 1 && c == '0';
}

/**
 * rt_state_pick_ip6() - the sandbox's IPv6 address; recorded in "ip6"
 * @o:		options with the IPv4 address chosen; ip6, prefix6_len and
 *		gateway6 are set here unless --ip6 gave them or
 *		--ipv4-only asks for none
 * @st:		the new state dir
 * @err:	reason: the address is another live sandbox's
 *
 * The default address is derived from the IPv4 one (rt_ip6_derive()), so
 * it is unique among derived ones; the check against every live
 * sandbox's "ip6" catches an --ip6 that equals another's, either way.
 *
 * Return: 0 or -1.
 */
static int rt_state_pick_ip6(struct sbx_opts *o, const struct rt_state *st,
			     struct cove_err *err)
{
	char buf[INET6_ADDRSTRLEN], holder[SBX_NAME_MAX + 1];

	if (o->ipv4_only)
		return 0;
	if (!rt_host_has_ipv6()) {
		if (o->ip6_given)
			return cove_err_set(
				err, EAFNOSUPPORT,
				"--ip6: IPv6 is disabled on this host (net.ipv6.conf.default.disable_ipv6)");
		o->ipv4_only = true; /* as a host without IPv6: IPv4 only */
		return 0;
	}
	if (!o->ip6_given) {
		rt_ip6_derive(&o->pools, o->ip, &o->ip6, &o->prefix6_len,
			      &o->gateway6);
		o->have_ip6 = true;
	}
	inet_ntop(AF_INET6, &o->ip6, buf, sizeof(buf));
	if (rt_ip6_holder(&o->ip6, o->name, holder, sizeof(holder)))
		return cove_err_set(err, EADDRINUSE,
				    "%s: %s is used by sandbox %s",
				    o->ip6_given ? "--ip6" : "IPv6 address",
				    buf, holder);
	rt_state_write(st, "ip6", "%s/%u\n", buf, o->prefix6_len);
	return 0;
}

/**
 * rt_state_pick_address() - the sandbox address: --ip if free, else the
 * lowest free one of the pool; recorded in "ip"
 * @o:		options; o->ip, prefix_len, gateway and pool_ip are set when
 *		the pool gives the address
 * @st:		the new state dir
 * @used:	addresses of the live sandboxes (host order)
 * @nused:	their count
 * @err:	reason: --ip is in use, or the pool is full
 *
 * Called with the global lock held, so that two runs cannot pick the same
 * address. Nothing to pick for --netns (it brings its address) or
 * --network=none. A leftover veth with the address is deleted.
 *
 * Return: 0 or -1.
 */
static int rt_state_pick_address(struct sbx_opts *o, const struct rt_state *st,
				 const uint32_t *used, unsigned nused,
				 struct cove_err *err)
{
	char ipbuf[INET_ADDRSTRLEN];
	uint32_t pick;
	unsigned i;

	if (sbx_netns_adopted(o) || o->mode == SBX_NET_NONE ||
	    (o->oci && o->oci->host_netns))
		return 0; /* the netns brings its own address, or none */
	if (o->have_ip) {
		for (i = 0; i < nused; i++)
			if (used[i] == ntohl(o->ip.s_addr))
				return cove_err_set(
					err, EADDRINUSE,
					"--ip: %s is used by another sandbox",
					inet_ntoa(o->ip));
	} else {
		if (rt_ipam_pick(ntohl(o->pools.net.s_addr), o->pools.prefix,
				 used, nused, &pick) < 0)
			return cove_err_set(err, ENOSPC,
					    "no free address left in %s/%u",
					    inet_ntoa(o->pools.net),
					    o->pools.prefix);
		o->ip.s_addr = htonl(pick);
		o->prefix_len = o->pools.prefix;
		o->have_ip = true;
		o->pool_ip = true;
		o->gateway = rt_gateway_of(o->ip, o->pools.prefix);
	}
	inet_ntop(AF_INET, &o->ip, ipbuf, sizeof(ipbuf));
	rt_state_write(st, "ip", "%s\n", ipbuf);
	if (rt_state_pick_ip6(o, st, err) < 0)
		return -1;
	/* A leftover veth of a dead sandbox with this address would clash. */
	rt_detach_host(o->ip);
	return 0;
}

static unsigned long rt_ports_taken(const struct sbx_opts *o, const char *dir);

/*
 * rt_stopping_clash() - is state dir @name a finishing sandbox ("stopping",
 * runtime.c) that holds the --name, --ip or a --publish port @o asks for?
 */
static bool rt_stopping_clash(const struct sbx_opts *o, const char *name)
{
	char dir[160], path[192], buf[64];
	struct in_addr ip;

	snprintf(dir, sizeof(dir), "%s/%.*s", SBX_RUN_DIR, SBX_NAME_MAX, name);
	snprintf(path, sizeof(path), "%s/stopping", dir);
	if (access(path, F_OK))
		return false;
	if (o->have_name && !strcmp(o->name, name))
		return true;
	if (rt_ports_taken(o, dir))
		return true;
	if (!o->have_ip || rt_read_small(dir, "ip", buf, sizeof(buf)))
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return inet_pton(AF_INET, buf, &ip) == 1 && ip.s_addr == o->ip.s_addr;
}

/*
 * rt_wait_stopping() - wait (up to RT_STOPPING_WAIT_MS in all) for the
 * finishing sandboxes that hold the name, address or a published port @o
 * asks for to release their locks: all are free once they have. Called with the global lock
 * held, which the teardown does not take.
 */
static void rt_wait_stopping(const struct sbx_opts *o)
{
	cove_cleanup_closedir DIR *d = opendir(SBX_RUN_DIR);
	uint64_t end = cove_now_us() + RT_STOPPING_WAIT_MS * 1000ull;
	char path[192];
	struct dirent *de;

	while (d && (de = readdir(d))) {
		cove_cleanup_close int fd = -1;

		if (de->d_name[0] == '.' || !rt_name_valid(de->d_name) ||
		    strlen(de->d_name) > SBX_NAME_MAX ||
		    !rt_stopping_clash(o, de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%.*s/lock", SBX_RUN_DIR,
			 SBX_NAME_MAX, de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		while (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 &&
		       cove_now_us() < end)
			usleep(2000);
	}
}

/* rt_ports_taken() - the first host port of @o that state dir @dir's
 * "ports" lists, or 0. */
static unsigned long rt_ports_taken(const struct sbx_opts *o, const char *dir)
{
	char buf[160], *p, *end;
	unsigned i;

	if (!o->npublish || rt_read_small(dir, "ports", buf, sizeof(buf)) < 0)
		return 0;
	for (p = buf;; p = end) {
		unsigned long port = strtoul(p, &end, 10);

		if (end == p)
			return 0;
		for (i = 0; i < o->npublish; i++)
			if (o->publish[i].host_port == port)
				return port;
	}
}

/**
 * rt_state_ports_free() - no live sandbox publishes a host port of @o
 * @o:		options (--publish)
 * @err:	one line naming the port and the sandbox that has it
 *
 * Called with the global lock held, after gc: every state dir left is a
 * live sandbox's, and its "ports" lists what it publishes.
 *
 * Return: 0 or -1.
 */
static int rt_state_ports_free(const struct sbx_opts *o, struct cove_err *err)
{
	cove_cleanup_closedir DIR *d = NULL;
	struct dirent *de;
	unsigned long port;
	char dir[160];

	if (!o->npublish || !(d = opendir(SBX_RUN_DIR)))
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !rt_name_valid(de->d_name))
			continue;
		snprintf(dir, sizeof(dir), "%s/%.*s", SBX_RUN_DIR, SBX_NAME_MAX,
			 de->d_name);
		port = rt_ports_taken(o, dir);
		if (port)
			return cove_err_set(
				err, 0,
				"--publish: host port %lu is published by sandbox %.*s",
				port, SBX_NAME_MAX, de->d_name);
	}
	return 0;
}

/* rt_state_ports() - "ports": this sandbox's --publish host ports. */
static void rt_state_ports(const struct sbx_opts *o, const struct rt_state *st)
{
	char buf[8 * SBX_MAX_PUBLISH + 2] = "";
	size_t off = 0;
	unsigned i;

	if (!o->npublish)
		return;
	for (i = 0; i < o->npublish; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%u ",
					o->publish[i].host_port);
	rt_state_write(st, "ports", "%s\n", buf);
}

/**
 * rt_state_create() - gc, then a name, a state dir, an address and the
 * published ports, all under the global lock
 * @o:		options: the name and address are chosen here if not given
 * @st:		filled; st->lock_fd owns the sandbox's lock on success
 * @err:	reason
 *
 * Return: 0, or -1 with nothing left behind.
 */
int rt_state_create(struct sbx_opts *o, struct rt_state *st,
		    struct cove_err *err)
{
	static uint32_t used[SBX_MAX_SANDBOXES];
	cove_cleanup_close int g = -1;
	unsigned nused = 0;

	st->lock_fd = -1;
	g = rt_global_lock(err);
	if (g < 0)
		return -1;
	/* A name, address or port asked for may be a finishing sandbox's. */
	if (o->have_name || o->have_ip || o->npublish)
		rt_wait_stopping(o);
	rt_gc_locked(false, used, &nused, SBX_MAX_SANDBOXES);
	if (rt_state_ports_free(o, err) < 0 ||
	    rt_state_make_dir(o, st, err) < 0)
		return -1;
	if (rt_state_pick_address(o, st, used, nused, err) < 0) {
		rt_state_remove(st);
		return -1;
	}
	rt_state_ports(o, st);
	return 0; /* g unlocks on return */
}

/* rt_state_remove() - remove the state dir, then release its lock. */
void rt_state_remove(struct rt_state *st)
{
	if (st->lock_fd < 0)
		return;
	rt_rm_dir(st->dir);
	close(st->lock_fd);
	st->lock_fd = -1;
}

/* rt_state_pid() - "pid": the sentry's pid and start time, for gc. */
void rt_state_pid(const struct rt_state *st, pid_t pid)
{
	rt_state_write(st, "pid", "%d %llu\n", (int)pid,
		       rt_proc_starttime(pid, NULL));
}
