// SPDX-License-Identifier: Apache-2.0
/* config.json of an OCI bundle -> struct sbx_opts + struct sbx_oci. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/args.h"
#include "oci/oci.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * config.json is untrusted input. It is parsed with jansson into one
 * json_t tree that @b owns; every string the options point to lives in
 * that tree, so oci_bundle_free() releases all at once.
 *
 * The part `cove run` understands already (the command, environment,
 * working directory, uid/gid, the root, the network) is turned into a
 * `cove run` argument vector and parsed by rt_opts_parse(), so both
 * front ends share one set of checks and defaults. The rest goes into
 * struct sbx_oci. Each check names the field: "config.json:
 * linux.namespaces[3]: unknown type \"foo\"".
 *
 * Refused (the sandbox could not honour them, and ignoring them would
 * weaken what the spec asks): apparmorProfile,
 * selinuxLabel, sysctls outside the container's own
 * namespaces, resources other than memory, pids, cpu shares/quota and
 * device rules,
 * user namespaces and id mappings, joining namespaces other than the
 * network, ipc and uts ones by path (what a pod's containers join), hooks that run inside the container
 * (createContainer, startContainer; the others run, hooks.c), devices
 * beyond the default ones, mount propagation other than private. Accepted while not applied, because
 * Cove is stricter anyway: uts, ipc and cgroup namespaces are always new,
 * no_new_privs is always set, ambient capabilities are never raised,
 * (every container gets a cgroup, limits or not: pause needs its
 * freezer).
 */

#define OCI_ERR(err, ...) cove_err_set(err, 0, "config.json: " __VA_ARGS__)

int oci_cap_from_name(const char *name)
{
	/* The spec's names always carry the prefix, as runc requires. */
	return strncasecmp(name, "CAP_", 4) ? -1 : cove_cap_from_name(name);
}

/* oci_str() - @key of @obj as a string; NULL if absent or not a string. */
static const char *oci_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* oci_nonempty() - is @key of @obj present with content (not {} or []). */
static bool oci_nonempty(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v) || json_is_false(v))
		return false;
	if (json_is_object(v))
		return json_object_size(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	return true;
}

/* oci_argv_push() - append one argument to the `cove run` vector. */
static int oci_argv_push(struct oci_bundle *b, unsigned *n, const char *arg,
			 struct cove_err *err)
{
	if (*n + 2 >= sizeof(b->runargv) / sizeof(b->runargv[0]))
		return OCI_ERR(err, "process: too many args or env entries");
	b->runargv[(*n)++] = (char *)arg;
	b->runargv[*n] = NULL;
	return 0;
}

/* oci_str_array() - check that @v is an array of strings named @what. */
static int oci_str_array(const json_t *v, const char *what,
			 struct cove_err *err)
{
	size_t i;
	json_t *e;

	if (!v)
		return 0;
	if (!json_is_array(v))
		return OCI_ERR(err, "%s: not an array", what);
	json_array_foreach(v, i, e) if (!json_is_string(e)) return OCI_ERR(
		err, "%s[%zu]: not a string", what, i);
	return 0;
}

/**
 * oci_caps_set() - one set of process.capabilities as a bit mask
 * @caps:	the capabilities object
 * @key:	"bounding", "effective", ...
 * @out:	the mask (0 when the set is absent)
 * @err:	an unknown name
 *
 * Return: 0 or -1.
 */
static int oci_caps_set(const json_t *caps, const char *key, uint64_t *out,
			struct cove_err *err)
{
	const json_t *v = json_object_get(caps, key);
	char what[64];
	size_t i;
	json_t *e;
	int c;

	*out = 0;
	snprintf(what, sizeof(what), "process.capabilities.%s", key);
	if (oci_str_array(v, what, err) < 0)
		return -1;
	json_array_foreach(v, i, e)
	{
		c = oci_cap_from_name(json_string_value(e));
		if (c < 0)
			return OCI_ERR(err, "%s[%zu]: unknown capability '%s'",
				       what, i, json_string_value(e));
		*out |= 1ull << c;
	}
	return 0;
}

/* oci_rlimit_type() - "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 if unknown. */
static int oci_rlimit_type(const char *name)
{
	static const struct {
		const char *name;
		int res;
	} t[] = {
		{ "RLIMIT_AS", RLIMIT_AS },
		{ "RLIMIT_CORE", RLIMIT_CORE },
		{ "RLIMIT_CPU", RLIMIT_CPU },
		{ "RLIMIT_DATA", RLIMIT_DATA },
		{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
		{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
		{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
		{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
		{ "RLIMIT_NICE", RLIMIT_NICE },
		{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
		{ "RLIMIT_NPROC", RLIMIT_NPROC },
		{ "RLIMIT_RSS", RLIMIT_RSS },
		{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
		{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
		{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
		{ "RLIMIT_STACK", RLIMIT_STACK },
	};
	unsigned i;

	for (i = 0; name && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].name, name))
			return t[i].res;
	return -1;
}

/**
 * oci_process_extras() - capabilities, rlimits, umask, oomScoreAdj,
 * additionalGids, and the refused process fields
 * @b:		the bundle
 * @p:		"process"
 * @err:	names the field
 *
 * Return: 0 or -1.
 */
static int oci_process_extras(struct oci_bundle *b, const json_t *p,
			      struct cove_err *err)
{
	const json_t *caps = json_object_get(p, "capabilities");
	const json_t *user = json_object_get(p, "user");
	const json_t *rl = json_object_get(p, "rlimits"), *v;
	struct sbx_oci *x = &b->x;
	size_t i;
	json_t *e;

	x->terminal = json_is_true(json_object_get(p, "terminal"));
	v = json_object_get(p, "consoleSize");
	if (v) {
		json_t *h = json_object_get(v, "height"),
		       *w = json_object_get(v, "width");

		if (!json_is_integer(h) || !json_is_integer(w) ||
		    json_integer_value(h) < 0 ||
		    json_integer_value(h) > 65535 ||
		    json_integer_value(w) < 0 || json_integer_value(w) > 65535)
			return OCI_ERR(err, "process.consoleSize: needs height "
					    "and width 0..65535");
		x->rows = (unsigned short)json_integer_value(h);
		x->cols = (unsigned short)json_integer_value(w);
	}
	if (oci_nonempty(p, "apparmorProfile") ||
	    oci_nonempty(p, "selinuxLabel"))
		return OCI_ERR(err, "process.%s: not supported",
			       oci_nonempty(p, "apparmorProfile") ?
				       "apparmorProfile" :
				       "selinuxLabel");
	if (caps) {
		x->have_caps = true;
		if (oci_caps_set(caps, "bounding", &x->caps_bounding, err) ||
		    oci_caps_set(caps, "effective", &x->caps_effective, err) ||
		    oci_caps_set(caps, "permitted", &x->caps_permitted, err) ||
		    oci_caps_set(caps, "inheritable", &x->caps_inheritable,
				 err))
			return -1;
	}
	v = json_object_get(user, "additionalGids");
	if (v && !json_is_array(v))
		return OCI_ERR(err,
			       "process.user.additionalGids: not an array");
	json_array_foreach(v, i, e)
	{
		if (!json_is_integer(e) || json_integer_value(e) < 0 ||
		    json_integer_value(e) > UINT32_MAX - 1 ||
		    x->ngids >= SBX_OCI_MAX_GIDS)
			return OCI_ERR(err,
				       "process.user.additionalGids[%zu]: not a "
				       "gid (at most %d)",
				       i, SBX_OCI_MAX_GIDS);
		x->gids[x->ngids++] = (gid_t)json_integer_value(e);
	}
	v = json_object_get(user, "umask");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 0777)
			return OCI_ERR(err, "process.user.umask: not 0..0777");
		x->have_umask = true;
		x->umask = (mode_t)json_integer_value(v);
	}
	v = json_object_get(p, "oomScoreAdj");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < -1000 ||
		    json_integer_value(v) > 1000)
			return OCI_ERR(err,
				       "process.oomScoreAdj: not -1000..1000");
		x->have_oom = true;
		x->oom_score_adj = (int)json_integer_value(v);
	}
	if (rl && !json_is_array(rl))
		return OCI_ERR(err, "process.rlimits: not an array");
	json_array_foreach(rl, i, e)
	{
		int r = oci_rlimit_type(oci_str(e, "type"));
		json_t *h = json_object_get(e, "hard"),
		       *s = json_object_get(e, "soft");

		if (r < 0 || !json_is_integer(h) || !json_is_integer(s) ||
		    x->nrlimits >= SBX_OCI_MAX_RLIMIT)
			return OCI_ERR(err,
				       "process.rlimits[%zu]: needs a known "
				       "type, hard and soft",
				       i);
		x->rlimits[x->nrlimits].resource = r;
		x->rlimits[x->nrlimits].hard = (uint64_t)json_integer_value(h);
		x->rlimits[x->nrlimits++].soft =
			(uint64_t)json_integer_value(s);
	}
	return 0;
}

/**
 * oci_process_args() - process.args, env, cwd, user.uid/gid and the
 * root as `cove run` arguments
 * @b:		the bundle; b->runargv filled
 * @p:		"process"
 * @network:	the global --network, or NULL when none was given
 * @n:		arguments so far (in and out)
 * @err:	names the field
 *
 * Return: 0 or -1.
 */
static int oci_process_args(struct oci_bundle *b, const json_t *p,
			    const char *network, unsigned *n,
			    struct cove_err *err)
{
	const json_t *args = json_object_get(p, "args");
	const json_t *env = json_object_get(p, "env");
	const json_t *user = json_object_get(p, "user");
	const json_t *uid = json_object_get(user, "uid");
	const json_t *gid = json_object_get(user, "gid");
	const char *cwd = oci_str(p, "cwd");
	size_t i;
	json_t *e;

	if (oci_str_array(args, "process.args", err) < 0 ||
	    oci_str_array(env, "process.env", err) < 0)
		return -1;
	if (!args || !json_array_size(args))
		return OCI_ERR(err, "process.args: missing or empty");
	if (!cwd || cwd[0] != '/')
		return OCI_ERR(err, "process.cwd: missing or not absolute");
	if ((uid && (!json_is_integer(uid) || json_integer_value(uid) < 0 ||
		     json_integer_value(uid) > UINT32_MAX - 1)) ||
	    (gid && (!json_is_integer(gid) || json_integer_value(gid) < 0 ||
		     json_integer_value(gid) > UINT32_MAX - 1)))
		return OCI_ERR(err, "process.user: uid and gid must be ids");
	/* As runc, a new network namespace without a path has loopback
	 * only, unless a stack was asked for; a prepared one (netavark, CNI,
	 * or Docker's prestart hook) gets the default stack on its
	 * interface. */
	if (!network)
		network = b->netns || b->x.adopt_netns ? "builtin" : "none";
	snprintf(b->strs[0], sizeof(b->strs[0]), "--network=%s", network);
	snprintf(b->strs[1], sizeof(b->strs[1]), "--rootfs=%s", b->rootfs);
	snprintf(b->strs[2], sizeof(b->strs[2]), "--workdir=%s", cwd);
	snprintf(b->strs[3], sizeof(b->strs[3]), "--user=%lld:%lld",
		 uid ? (long long)json_integer_value(uid) : 0,
		 gid ? (long long)json_integer_value(gid) : 0);
	snprintf(b->strs[4], sizeof(b->strs[4]), "--netns=%s",
		 b->netns ? b->netns : "");
	if (oci_argv_push(b, n, "run", err) < 0 ||
	    (b->netns && oci_argv_push(b, n, b->strs[4], err) < 0) ||
	    oci_argv_push(b, n, b->strs[0], err) < 0 ||
	    oci_argv_push(b, n, b->strs[1], err) < 0 ||
	    oci_argv_push(b, n, b->strs[2], err) < 0 ||
	    oci_argv_push(b, n, b->strs[3], err) < 0)
		return -1;
	json_array_foreach(env, i, e)
	{
		if (!strchr(json_string_value(e), '='))
			return OCI_ERR(err, "process.env[%zu]: not K=V", i);
		if (oci_argv_push(b, n, "--env", err) < 0 ||
		    oci_argv_push(b, n, json_string_value(e), err) < 0)
			return -1;
	}
	if (oci_argv_push(b, n, "--", err) < 0)
		return -1;
	json_array_foreach(args, i,
			   e) if (oci_argv_push(b, n, json_string_value(e),
						err) < 0) return -1;
	return 0;
}

/* Mount options that are mount(2) flags; clear = the flag is cleared. */
static const struct {
	const char *name;
	unsigned long flag;
	bool clear;
} oci_mount_flags[] = {
	{ "ro", MS_RDONLY, false },
	{ "rw", MS_RDONLY, true },
	{ "nosuid", MS_NOSUID, false },
	{ "suid", MS_NOSUID, true },
	{ "nodev", MS_NODEV, false },
	{ "dev", MS_NODEV, true },
	{ "noexec", MS_NOEXEC, false },
	{ "exec", MS_NOEXEC, true },
	{ "sync", MS_SYNCHRONOUS, false },
	{ "async", MS_SYNCHRONOUS, true },
	{ "noatime", MS_NOATIME, false },
	{ "atime", MS_NOATIME, true },
	{ "nodiratime", MS_NODIRATIME, false },
	{ "diratime", MS_NODIRATIME, true },
	{ "relatime", MS_RELATIME, false },
	{ "norelatime", MS_RELATIME, true },
	{ "strictatime", MS_STRICTATIME, false },
	{ "dirsync", MS_DIRSYNC, false },
	{ "defaults", 0, false },
};

/**
 * oci_mount_options() - a mount's "options" into flags, bind and data
 * @m:		the mount being filled
 * @opts:	the options array (may be NULL)
 * @data:	room for the data string, owned by the bundle
 * @dlen:	its size
 * @i:		the mount's index, for messages
 * @err:	a propagation Cove does not do, or a bad option
 *
 * Return: 0 or -1.
 */
static int oci_mount_options(struct sbx_oci_mount *m, const json_t *opts,
			     char *data, size_t dlen, size_t i,
			     struct cove_err *err)
{
	size_t j, k, used = 0;
	const char *o;
	json_t *e;

	data[0] = '\0';
	json_array_foreach(opts, j, e)
	{
		o = json_string_value(e);
		if (!o)
			return OCI_ERR(err,
				       "mounts[%zu].options[%zu]: not a "
				       "string",
				       i, j);
		if (!strcmp(o, "bind") || !strcmp(o, "rbind")) {
			m->bind = true;
			m->recursive = o[0] == 'r';
			continue;
		}
		if (!strcmp(o, "private") || !strcmp(o, "rprivate"))
			continue; /* every mount of the sandbox is private */
		if (strstr(o, "shared") || strstr(o, "slave") ||
		    strstr(o, "unbindable"))
			return OCI_ERR(err,
				       "mounts[%zu].options: propagation '%s' "
				       "is not supported",
				       i, o);
		for (k = 0;
		     k < sizeof(oci_mount_flags) / sizeof(oci_mount_flags[0]);
		     k++)
			if (!strcmp(o, oci_mount_flags[k].name))
				break;
		if (k < sizeof(oci_mount_flags) / sizeof(oci_mount_flags[0])) {
			if (oci_mount_flags[k].clear)
				m->flags &= ~oci_mount_flags[k].flag;
			else
				m->flags |= oci_mount_flags[k].flag;
			continue;
		}
		if (used + strlen(o) + 2 > dlen)
			return OCI_ERR(err, "mounts[%zu].options: too long", i);
		used += (size_t)snprintf(data + used, dlen - used, "%s%s",
					 used ? "," : "", o);
	}
	m->data = data[0] ? data : NULL;
	return 0;
}

/**
 * oci_mounts() - "mounts": destination, type, source, options
 * @b:		the bundle; b->x.mounts filled
 * @mounts:	the array (may be NULL)
 * @err:	names the mount
 *
 * Bind sources are made absolute against the bundle directory, as runc
 * does. Types other than the kernel file systems a container needs are
 * refused.
 *
 * Return: 0 or -1.
 */
static int oci_mounts(struct oci_bundle *b, const json_t *mounts,
		      struct cove_err *err)
{
	static const char *const types[] = { "proc",	"tmpfs",  "devpts",
					     "sysfs",	"mqueue", "cgroup",
					     "cgroup2", "bind",	  "none" };
	struct sbx_oci_mount *m;
	const char *type, *src;
	size_t i, k;
	json_t *e;

	if (mounts && !json_is_array(mounts))
		return OCI_ERR(err, "mounts: not an array");
	json_array_foreach(mounts, i, e)
	{
		if (i >= SBX_OCI_MAX_MOUNTS)
			return OCI_ERR(err, "mounts: at most %d",
				       SBX_OCI_MAX_MOUNTS);
		m = &b->x.mounts[b->x.nmounts++];
		memset(m, 0, sizeof(*m));
		m->dest = oci_str(e, "destination");
		type = oci_str(e, "type");
		src = oci_str(e, "source");
		if (!m->dest || m->dest[0] != '/')
			return OCI_ERR(err,
				       "mounts[%zu].destination: missing "
				       "or not absolute",
				       i);
		if (oci_mount_options(m, json_object_get(e, "options"),
				      b->mdata[i], sizeof(b->mdata[i]), i,
				      err) < 0)
			return -1;
		if (!type)
			type = m->bind ? "bind" : "none";
		for (k = 0; k < sizeof(types) / sizeof(types[0]); k++)
			if (!strcmp(type, types[k]))
				break;
		if (k == sizeof(types) / sizeof(types[0]))
			return OCI_ERR(err,
				       "mounts[%zu] (%s): type '%s' is not "
				       "supported",
				       i, m->dest, type);
		if (!strcmp(type, "bind"))
			m->bind = true;
		if (!m->bind && !strcmp(type, "none"))
			return OCI_ERR(err,
				       "mounts[%zu] (%s): no type and not "
				       "a bind mount",
				       i, m->dest);
		m->type = !strcmp(type, "cgroup") ? "cgroup2" : type;
		if (m->bind) {
			if (!src)
				return OCI_ERR(err,
					       "mounts[%zu] (%s): a bind "
					       "mount needs a source",
					       i, m->dest);
			if (src[0] != '/')
				snprintf(b->msrc[i], sizeof(b->msrc[i]),
					 "%s/%s", b->dir, src);
			else
				snprintf(b->msrc[i], sizeof(b->msrc[i]), "%s",
					 src);
			src = b->msrc[i];
		}
		m->source = src;
	}
	return 0;
}

/* oci_paths() - maskedPaths / readonlyPaths into @out (absolute only). */
static int oci_paths(const json_t *v, const char *what, const char **out,
		     unsigned *n, struct cove_err *err)
{
	size_t i;
	json_t *e;

	if (oci_str_array(v, what, err) < 0)
		return -1;
	json_array_foreach(v, i, e)
	{
		if (*n >= SBX_OCI_MAX_PATHS)
			return OCI_ERR(err, "%s: at most %d", what,
				       SBX_OCI_MAX_PATHS);
		if (json_string_value(e)[0] != '/')
			return OCI_ERR(err, "%s[%zu]: not absolute", what, i);
		out[(*n)++] = json_string_value(e);
	}
	return 0;
}

/**
 * oci_sysctl() - linux.sysctl: only keys of namespaces the container owns
 * @b:		the bundle (b->x.host_netns known)
 * @v:		the object
 * @err:	a key outside the container's namespaces, or a bad value
 *
 * As runc: net.* with a network namespace of its own, and the ipc ones
 * (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*), whose namespaces
 * Cove always makes. Anything else would change the host.
 *
 * Return: 0 or -1.
 */
static int oci_sysctl(struct oci_bundle *b, const json_t *v,
		      struct cove_err *err)
{
	static const char *const ipc[] = { "kernel.shm", "kernel.msg",
					   "kernel.sem", "fs.mqueue." };
	const char *key;
	json_t *e;
	unsigned k;

	if (v && !json_is_object(v))
		return OCI_ERR(err, "linux.sysctl: not an object");
	json_object_foreach((json_t *)v, key, e)
	{
		for (k = 0; k < 4; k++)
			if (!strncmp(key, ipc[k], strlen(ipc[k])))
				break;
		if (k == 4 && (strncmp(key, "net.", 4) || b->x.host_netns))
			return OCI_ERR(err,
				       "linux.sysctl: '%s' is not in a namespace "
				       "of the container",
				       key);
		if (!json_is_string(e) || strstr(key, "..") ||
		    strchr(key, '/') || b->x.nsysctl >= SBX_OCI_MAX_SYSCTL)
			return OCI_ERR(err, "linux.sysctl: bad entry '%s'",
				       key);
		b->x.sysctl_key[b->x.nsysctl] = key;
		b->x.sysctl_val[b->x.nsysctl++] = json_string_value(e);
	}
	return 0;
}

/**
 * oci_namespaces() - linux.namespaces: which are new, which joined
 * @b:		the bundle (host network, netns path set here)
 * @ns:		the array
 * @has_uts:	set when a uts namespace is asked for
 * @err:	an unknown type, a namespace Cove cannot join or make, or
 *		a missing pid/mount namespace
 *
 * Return: 0 or -1.
 */
static int oci_namespaces(struct oci_bundle *b, const json_t *ns, bool *has_uts,
			  struct cove_err *err)
{
	static const char *const known[] = {
		"pid", "network", "mount",  "ipc",
		"uts", "user",	  "cgroup", "time"
	};
	bool seen[8] = { false };
	const char *type, *path;
	size_t i, k;
	json_t *e;

	if (ns && !json_is_array(ns))
		return OCI_ERR(err, "linux.namespaces: not an array");
	json_array_foreach(ns, i, e)
	{
		type = oci_str(e, "type");
		path = oci_str(e, "path");
		for (k = 0; type && k < 8; k++)
			if (!strcmp(type, known[k]))
				break;
		if (!type || k == 8)
			return OCI_ERR(err,
				       "linux.namespaces[%zu]: unknown type "
				       "\"%s\"",
				       i, type ? type : "(none)");
		if (seen[k])
			return OCI_ERR(err, "linux.namespaces: %s twice", type);
		seen[k] = true;
		if (!strcmp(type, "user") || !strcmp(type, "time"))
			return OCI_ERR(err,
				       "linux.namespaces[%zu]: a %s "
				       "namespace is not supported yet",
				       i, type);
		if (path && path[0] && strcmp(type, "network") &&
		    strcmp(type, "ipc") && strcmp(type, "uts"))
			return OCI_ERR(err,
				       "linux.namespaces[%zu]: joining a "
				       "%s namespace by path is not "
				       "supported yet",
				       i, type);
		if (path && path[0] && path[0] != '/')
			return OCI_ERR(err,
				       "linux.namespaces[%zu].path: not "
				       "absolute",
				       i);
		if (!path || !path[0])
			continue;
		if (!strcmp(type, "network"))
			b->netns = path;
		else if (!strcmp(type, "ipc"))
			b->x.ipc_path = path;
		else
			b->x.uts_path = path;
	}
	if (!seen[0] || !seen[2])
		return OCI_ERR(err, "linux.namespaces: Cove needs new pid and "
				    "mount namespaces (its sentry is the "
				    "container's PID 1)");
	b->x.host_netns = !seen[1];
	*has_uts = seen[4];
	return 0;
}

/*
 * oci_adopt_netns() - a new network namespace that a prestart or
 * createRuntime hook configures (Docker's libnetwork-setkey moves the
 * container's veth end into it): the sentry adopts the interface it finds
 * there once the hooks have run, as for a namespace given by path. Return: 0.
 */
static int oci_adopt_netns(struct oci_bundle *b, bool net_hook)
{
	b->x.adopt_netns = net_hook && !b->netns && !b->x.host_netns;
	return 0;
}

/* oci_swap_active() - does the host swap? (/proc/swaps beyond its header) */
static bool oci_swap_active(void)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/swaps", "re");

	if (!f)
		return true; /* unknown: assume it does */
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n > 1;
}

/* oci_int() - @key of @o as an integer; @def when absent. */
static int64_t oci_int(const json_t *o, const char *key, int64_t def)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

/*
 * oci_unset() - does @v ask for nothing: null, false, 0, empty, or an
 * object of such values only? Docker writes its defaults out this way
 * (blockIO {"weight": 0}, memory {"disableOOMKiller": false}).
 */
static bool oci_unset(const json_t *v)
{
	const char *key;
	json_t *e;

	if (!v || json_is_null(v) || json_is_false(v) ||
	    (json_is_integer(v) && !json_integer_value(v)))
		return true;
	if (json_is_array(v))
		return !json_array_size(v);
	if (!json_is_object(v))
		return false;
	json_object_foreach((json_t *)v, key, e)
	{
		if (!oci_unset(e))
			return false;
	}
	return true;
}

/* oci_only_keys() - has @o no key outside @keys (NULL-terminated)? */
static const char *oci_only_keys(const json_t *o, const char *const *keys)
{
	const char *key;
	unsigned i;
	json_t *v;

	json_object_foreach((json_t *)o, key, v)
	{
		for (i = 0; keys[i] && strcmp(keys[i], key); i++)
			;
		if (!keys[i] && !oci_unset(v))
			return key;
	}
	return NULL;
}

/**
 * oci_resources() - linux.resources: what the container's cgroup enforces
 * @b:		the bundle; b->limits filled
 * @res:	the object (may be NULL)
 * @err:	the first setting Cove cannot enforce, by name
 *
 * Enforced (src/runtime/cgroup.c): memory.limit, pids.limit, cpu.shares,
 * cpu.quota/period. memory.swap is accepted only on a host without swap
 * (where it cannot add anything to the limit). Device rules are accepted:
 * the container's /dev holds only the default devices and CAP_MKNOD is
 * always dropped, so no rule can grant more. A pids limit <= 0 means none
 * (as runc reads it) and cpu shares 1024 is the default weight.
 *
 * Return: 0 or -1.
 */
static int oci_resources(struct oci_bundle *b, const json_t *res,
			 struct cove_err *err)
{
	static const char *const mem_keys[] = { "limit", "swap", NULL };
	static const char *const cpu_keys[] = { "shares", "quota", "period",
						NULL };
	struct sbx_limits *l = &b->limits;
	const json_t *m = json_object_get(res, "memory");
	const json_t *c = json_object_get(res, "cpu");
	const char *key, *bad;
	json_t *v;

	json_object_foreach((json_t *)res, key, v)
	{
		if (strcmp(key, "devices") && strcmp(key, "memory") &&
		    strcmp(key, "pids") && strcmp(key, "cpu") && !oci_unset(v))
			return OCI_ERR(err,
				       "linux.resources.%s: not supported "
				       "yet",
				       key);
	}
	if ((bad = oci_only_keys(m, mem_keys)) ||
	    (bad = oci_only_keys(c, cpu_keys)))
		return OCI_ERR(err, "linux.resources.%s.%s: not supported yet",
			       m && oci_only_keys(m, mem_keys) ? "memory" :
								 "cpu",
			       bad);
	l->memory = oci_int(m, "limit", 0);
	if (oci_int(m, "swap", 0) > 0 && oci_swap_active())
		return OCI_ERR(err, "linux.resources.memory.swap: not "
				    "supported yet on a host with swap");
	l->pids = oci_int(json_object_get(res, "pids"), "limit", 0);
	l->cpu_shares = oci_int(c, "shares", 0);
	if (l->cpu_shares == 1024)
		l->cpu_shares = 0;
	l->cpu_quota = oci_int(c, "quota", 0);
	l->cpu_period = oci_int(c, "period", 0);
	if (l->memory < 0 || l->cpu_shares < 0 || l->cpu_period < 0)
		return OCI_ERR(err, "linux.resources: negative limit");
	/* Always a cgroup, in the freezer hierarchy too: pause, resume. */
	l->freezer = true;
	l->any = true;
	return 0;
}

/* oci_cgroups_path() - linux.cgroupsPath, where limits are enforced. */
static int oci_cgroups_path(struct oci_bundle *b, const char *path,
			    struct cove_err *err)
{
	if (!path || !path[0] || !b->limits.any)
		return 0; /* no limit: no cgroup is made */
	if (strchr(path, ':'))
		return OCI_ERR(err,
			       "linux.cgroupsPath: '%s' is systemd's form "
			       "(--systemd-cgroup is not supported yet)",
			       path);
	if (path[0] != '/' || strstr(path, "..") ||
	    strlen(path) >= sizeof(b->limits.path))
		return OCI_ERR(err,
			       "linux.cgroupsPath: '%s' is not a clean "
			       "absolute path",
			       path);
	snprintf(b->limits.path, sizeof(b->limits.path), "%s", path);
	return 0;
}

/**
 * oci_linux_refused() - the linux fields Cove cannot honour yet
 * @l:		"linux"
 * @err:	names the first one present
 *
 * The default devices listed in linux.devices are provided anyway.
 *
 * Return: 0 or -1.
 */
static int oci_linux_refused(const json_t *l, struct cove_err *err)
{
	static const char *const refused[] = {
		"uidMappings", "gidMappings", "mountLabel",    "intelRdt",
		"personality", "timeOffsets", "seccompNotify",
	};
	static const char *const defdevs[] = { "/dev/null",    "/dev/zero",
					       "/dev/full",    "/dev/random",
					       "/dev/urandom", "/dev/tty" };
	const char *prop = oci_str(l, "rootfsPropagation"), *p;
	json_t *e;
	size_t i, k;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (oci_nonempty(l, refused[i]))
			return OCI_ERR(err, "linux.%s: not supported yet",
				       refused[i]);
	json_array_foreach(json_object_get(l, "devices"), i, e)
	{
		p = oci_str(e, "path");
		for (k = 0; p && k < 6; k++)
			if (!strcmp(p, defdevs[k]))
				break;
		if (!p || k == 6)
			return OCI_ERR(err,
				       "linux.devices[%zu] (%s): only the "
				       "default devices are supported",
				       i, p ? p : "?");
	}
	if (prop && prop[0] && strcmp(prop, "private") &&
	    strcmp(prop, "rprivate"))
		return OCI_ERR(err,
			       "linux.rootfsPropagation: '%s' is not "
			       "supported (private only)",
			       prop);
	return 0;
}

/**
 * oci_bundle_check() - the top level: ociVersion, root, hostname, hooks,
 * then process and linux
 * @b:		the bundle, b->json parsed
 * @network:	the global --network
 * @err:	names the field
 *
 * Return: 0 or -1.
 */
static int oci_bundle_check(struct oci_bundle *b, const char *network,
			    struct cove_err *err)
{
	const json_t *j = b->json, *p = json_object_get(j, "process");
	const json_t *root = json_object_get(j, "root");
	const json_t *l = json_object_get(j, "linux");
	const char *path = oci_str(root, "path");
	bool has_uts = false, net_hook = false;
	unsigned n = 0;

	if (!json_is_object(j))
		return OCI_ERR(err, "not a JSON object");
	if (!oci_str(j, "ociVersion"))
		return OCI_ERR(err, "ociVersion: missing");
	if (!json_is_object(p))
		return OCI_ERR(err, "process: missing");
	if (!path || !path[0])
		return OCI_ERR(err, "root.path: missing");
	if ((size_t)snprintf(b->rootfs, sizeof(b->rootfs), "%s%s%s",
			     path[0] == '/' ? "" : b->dir,
			     path[0] == '/' ? "" : "/",
			     path) >= sizeof(b->rootfs))
		return OCI_ERR(err, "root.path: too long");
	if (access(b->rootfs, X_OK) < 0)
		return cove_err_set(err, errno, "config.json: root.path %s",
				    b->rootfs);
	if (oci_hooks_check(json_object_get(j, "hooks"), &net_hook, err) < 0)
		return -1;
	b->hooks = json_object_get(j, "hooks");
	if (oci_nonempty(j, "domainname"))
		return OCI_ERR(err, "domainname: not supported yet");
	if (l && !json_is_object(l))
		return OCI_ERR(err, "linux: not an object");
	if (oci_linux_refused(l, err) < 0 ||
	    oci_namespaces(b, json_object_get(l, "namespaces"), &has_uts, err) <
		    0 ||
	    oci_adopt_netns(b, net_hook) < 0 ||
	    oci_sysctl(b, json_object_get(l, "sysctl"), err) < 0 ||
	    oci_resources(b, json_object_get(l, "resources"), err) < 0 ||
	    oci_cgroups_path(b, oci_str(l, "cgroupsPath"), err) < 0 ||
	    oci_process_args(b, p, network, &n, err) < 0 ||
	    oci_process_extras(b, p, err) < 0 ||
	    oci_mounts(b, json_object_get(j, "mounts"), err) < 0 ||
	    oci_paths(json_object_get(l, "maskedPaths"), "linux.maskedPaths",
		      b->x.masked, &b->x.nmasked, err) < 0 ||
	    oci_paths(json_object_get(l, "readonlyPaths"),
		      "linux.readonlyPaths", b->x.readonly, &b->x.nreadonly,
		      err) < 0)
		return -1;
	if (oci_nonempty(l, "seccomp")) {
		if (oci_seccomp_parse(json_object_get(l, "seccomp"),
				      &b->seccomp, &b->sc_names, err) < 0)
			return -1;
		b->x.seccomp = &b->seccomp;
	}
	b->x.hostname = oci_str(j, "hostname");
	if (b->x.hostname && b->x.hostname[0] && !has_uts)
		return OCI_ERR(err, "hostname: needs a uts namespace");
	if (b->x.hostname && !b->x.hostname[0])
		b->x.hostname = NULL;
	b->x.root_readonly = json_is_true(json_object_get(root, "readonly"));
	b->annotations = json_object_get(j, "annotations");
	if (b->annotations && !json_is_object(b->annotations))
		return OCI_ERR(err, "annotations: not an object");
	if (rt_opts_parse((int)n, b->runargv, &b->o, err) < 0)
		return cove_err_prefix(err, "config.json");
	if (b->x.host_netns) {
		b->o.mode = SBX_NET_HOST;
		b->o.network = "host";
	}
	b->o.oci = &b->x;
	b->x.fifo_fd = -1;
	b->x.console_fd = -1;
	return 0;
}

int oci_bundle_parse(const char *text, const char *dir, const char *network,
		     struct oci_bundle *b, struct cove_err *err)
{
	json_error_t je;

	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "%s", dir);
	b->json = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!b->json)
		return cove_err_set(err, EINVAL,
				    "config.json: line %d column %d: %s",
				    je.line, je.column, je.text);
	if (oci_bundle_check(b, network, err) < 0) {
		oci_bundle_free(b);
		return -1;
	}
	return 0;
}

int oci_bundle_load(const char *dir, const char *network, struct oci_bundle *b,
		    struct cove_err *err)
{
	char path[4200], real[PATH_MAX], *text;
	FILE *f;
	long len;
	int r;

	if (!realpath(dir, real))
		return cove_err_set(err, errno, "bundle %s", dir);
	snprintf(path, sizeof(path), "%s/config.json", real);
	f = fopen(path, "re");
	if (!f)
		return cove_err_set(err, errno, "open %s", path);
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
	    len > 4 << 20 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return cove_err_set(err, EFBIG, "%s: unreadable or over 4 MiB",
				    path);
	}
	text = calloc(1, (size_t)len + 1);
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		free(text);
		fclose(f);
		return cove_err_set(err, EIO, "read %s", path);
	}
	fclose(f);
	r = oci_bundle_parse(text, real, network, b, err);
	free(text);
	return r;
}

void oci_bundle_free(struct oci_bundle *b)
{
	oci_seccomp_free(&b->seccomp, &b->sc_names);
	b->x.seccomp = NULL;
	json_decref(b->json);
	b->json = NULL;
}
