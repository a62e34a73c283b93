// SPDX-License-Identifier: Apache-2.0
/* OCI container state under --root: ROOT/ID/state.json and exec.fifo. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "oci/oci.h"
#include "runtime/runtime.h"

/*
 * Theory of operation
 *
 * state.json is Cove's own record, written once by `create` (through a
 * temporary file and rename(), so a reader never sees half of it). It
 * stores the facts; the status is computed from the sentry's process at
 * every read (oci_state_status()): the start time in /proc/PID/stat tells
 * the sentry from a later process that got its pid, and a zombie (the
 * sentry exited, its new parent has not reaped it yet) counts as stopped.
 * exec.fifo exists from `create` until `start` has read it.
 */

bool oci_id_valid(const char *id)
{
	size_t i, n = strlen(id);

	if (!n || n > OCI_ID_MAX || id[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= '0' && id[i] <= '9') || strchr("_.+-", id[i])))
			return false;
	return true;
}

/* oci_mkdir_p() - @path and its missing parents (0700), as runc's root. */
static int oci_mkdir_p(const char *path)
{
	char buf[4096], *s;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (s = buf + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int oci_state_dir(const char *root, const char *id, bool make, char *out,
		  size_t len, struct cove_err *err)
{
	if (!oci_id_valid(id))
		return cove_err_set(err, EINVAL, "invalid container id '%s'",
				    id);
	snprintf(out, len, "%s/%s", root, id);
	if (!make)
		return 0;
	if (oci_mkdir_p(root) < 0)
		return cove_err_set(err, errno, "cannot create root %s", root);
	if (mkdir(out, 0700) < 0)
		return cove_err_set(err, errno,
				    errno == EEXIST ?
					    "container with id exists: %s" :
					    "cannot create state for %s",
				    id);
	return 0;
}

int oci_state_save(const struct oci_state *s, struct cove_err *err)
{
	char path[4200], tmp[4200];
	json_t *o;
	int r;

	o = json_pack("{s:s, s:i, s:I, s:s, s:s, s:s, s:s}", "id", s->id, "pid",
		      (int)s->pid, "starttime", (json_int_t)s->starttime,
		      "bundle", s->bundle, "rootfs", s->rootfs, "created",
		      s->created, "sandbox", s->sandbox);
	if (o && s->annotations)
		json_object_set(o, "annotations", s->annotations);
	if (o && s->cgroup[0])
		json_object_set_new(o, "cgroup", json_string(s->cgroup));
	if (!o)
		return cove_err_set(err, ENOMEM, "state: out of memory");
	snprintf(path, sizeof(path), "%s/state.json", s->dir);
	snprintf(tmp, sizeof(tmp), "%s/.state.json", s->dir);
	r = json_dump_file(o, tmp, JSON_COMPACT);
	json_decref(o);
	if (r < 0 || rename(tmp, path) < 0) {
		(void)unlink(tmp);
		return cove_err_set(err, errno, "cannot write %s", path);
	}
	return 0;
}

/* oci_copy() - @key of @o into @buf; -1 if absent or too long. */
static int oci_copy(const json_t *o, const char *key, char *buf, size_t len)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (!v || strlen(v) >= len)
		return -1;
	memcpy(buf, v, strlen(v) + 1);
	return 0;
}

int oci_state_load(const char *root, const char *id, struct oci_state *s,
		   struct cove_err *err)
{
	char path[4200];
	json_error_t je;
	json_t *o, *a;

	memset(s, 0, sizeof(*s));
	if (oci_state_dir(root, id, false, s->dir, sizeof(s->dir), err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/state.json", s->dir);
	if (access(path, F_OK) < 0)
		return cove_err_set(err, ENOENT, "container does not exist");
	o = json_load_file(path, 0, &je);
	if (!o)
		return cove_err_set(err, EINVAL, "%s: %s", path, je.text);
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	s->starttime = (unsigned long long)json_integer_value(
		json_object_get(o, "starttime"));
	(void)oci_copy(o, "cgroup", s->cgroup, sizeof(s->cgroup));
	a = json_object_get(o, "annotations");
	s->annotations = json_is_object(a) ? json_incref(a) : NULL;
	if (s->pid <= 1 ||
	    oci_copy(o, "bundle", s->bundle, sizeof(s->bundle)) ||
	    oci_copy(o, "rootfs", s->rootfs, sizeof(s->rootfs)) ||
	    oci_copy(o, "created", s->created, sizeof(s->created)) ||
	    oci_copy(o, "sandbox", s->sandbox, sizeof(s->sandbox))) {
		json_decref(o);
		oci_state_free(s);
		return cove_err_set(err, EINVAL, "%s: damaged", path);
	}
	json_decref(o);
	return 0;
}

void oci_state_free(struct oci_state *s)
{
	json_decref(s->annotations);
	s->annotations = NULL;
}

enum oci_status oci_state_status(const struct oci_state *s)
{
	char path[4200], st = 0;

	if (rt_proc_starttime(s->pid, &st) != s->starttime || st == 'Z' ||
	    st == 'X')
		return OCI_STOPPED;
	snprintf(path, sizeof(path), "%s/exec.fifo", s->dir);
	if (!access(path, F_OK))
		return OCI_CREATED;
	return s->cgroup[0] && rt_cgroup_frozen(s->cgroup) == 1 ? OCI_PAUSED :
								  OCI_RUNNING;
}

const char *oci_status_name(enum oci_status st)
{
	return st == OCI_CREATED ? "created" :
	       st == OCI_RUNNING ? "running" :
	       st == OCI_PAUSED	 ? "paused" :
				   "stopped";
}

json_t *oci_state_json(const struct oci_state *s)
{
	enum oci_status st = oci_state_status(s);

	json_t *o;

	/* runc prints pid 0 for a stopped container, annotations if any. */
	o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "ociVersion",
		      OCI_VERSION, "id", s->id, "pid",
		      st == OCI_STOPPED ? 0 : (int)s->pid, "status",
		      oci_status_name(st), "bundle", s->bundle, "rootfs",
		      s->rootfs, "created", s->created, "owner", "");
	if (o && s->annotations && json_object_size(s->annotations))
		json_object_set(o, "annotations", s->annotations);
	return o;
}

void oci_state_remove(const struct oci_state *s)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/exec.fifo", s->dir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/state.json", s->dir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/.state.json", s->dir);
	(void)unlink(path);
	(void)rmdir(s->dir);
}
