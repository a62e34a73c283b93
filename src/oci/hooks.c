// SPDX-License-Identifier: Apache-2.0
/* config.json's hooks: checked at create, run at their points of the lifecycle. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "oci/oci.h"

/*
 * Theory of operation
 *
 * A hook is a host program the engine wants run at one point of the
 * container's life, with the container's state JSON on its stdin. Docker
 * depends on one: its libnetwork-setkey prestart hook tells dockerd the
 * path of the container's new network namespace (/proc/PID/ns/net of the
 * state's pid), and dockerd moves the container's veth end into it and
 * addresses it there, before the program runs.
 *
 * Cove runs the phases that belong to the runtime's side, in the runtime's
 * namespaces, as runc does:
 *
 *   prestart, createRuntime  during create, once the sentry's namespaces
 *                            exist and before it sets up the network and
 *                            the root (rt_create() calls back between the
 *                            sentry's "R" and its "G"); a failure fails
 *                            create;
 *   poststart                after start has released the program; a
 *                            failure is a warning;
 *   poststop                 after delete has removed the container; a
 *                            failure is a warning.
 *
 * createContainer and startContainer run inside the container's mount
 * namespace, which Cove does not do: they are refused at create, naming
 * the field. A hook's output (stdout and stderr, the first
 * OCI_HOOK_OUT_MAX bytes) goes into the error, as runc reports it; its
 * optional timeout (seconds) kills it. The hook gets only the environment
 * the spec lists, and no fd of cove's but the three.
 */

#define OCI_HOOK_OUT_MAX 512
#define OCI_HOOK_ARGS	 64

static const char *const oci_hook_phases[] = {
	"prestart", "createRuntime",   "poststart",
	"poststop", "createContainer", "startContainer",
};

/**
 * oci_hook_check() - one hook: path absolute, args and env string arrays,
 * timeout a positive integer
 * @h:		the hook object
 * @phase:	its phase (for the message)
 * @i:		its index
 * @err:	names the field
 *
 * Return: 0 or -1.
 */
static int oci_hook_check(const json_t *h, const char *phase, size_t i,
			  struct cove_err *err)
{
	const char *path = json_string_value(json_object_get(h, "path"));
	const json_t *t = json_object_get(h, "timeout");
	static const char *const lists[] = { "args", "env" };
	const json_t *v, *e;
	size_t k, n;

	if (!json_is_object(h) || !path || path[0] != '/')
		return cove_err_set(err, 0,
				    "config.json: hooks.%s[%zu].path: missing "
				    "or not absolute",
				    phase, i);
	for (k = 0; k < 2; k++) {
		v = json_object_get(h, lists[k]);
		if (v && !json_is_array(v))
			return cove_err_set(err, 0,
					    "config.json: hooks.%s[%zu].%s: "
					    "not an array",
					    phase, i, lists[k]);
		if (json_array_size(v) > OCI_HOOK_ARGS)
			return cove_err_set(err, 0,
					    "config.json: hooks.%s[%zu].%s: "
					    "more than %d entries",
					    phase, i, lists[k], OCI_HOOK_ARGS);
		json_array_foreach(v, n, e)
		{
			if (!json_is_string(e))
				return cove_err_set(
					err, 0,
					"config.json: hooks.%s[%zu].%s[%zu]: "
					"not a string",
					phase, i, lists[k], n);
		}
	}
	if (t && (!json_is_integer(t) || json_integer_value(t) <= 0 ||
		  json_integer_value(t) > 86400))
		return cove_err_set(err, 0,
				    "config.json: hooks.%s[%zu].timeout: not "
				    "a positive number of seconds",
				    phase, i);
	return 0;
}

int oci_hooks_check(const json_t *hooks, bool *net_hook, struct cove_err *err)
{
	const char *key;
	const json_t *v, *h;
	size_t i, k;

	*net_hook = false;
	if (!hooks || json_is_null(hooks))
		return 0;
	if (!json_is_object(hooks))
		return cove_err_set(err, 0,
				    "config.json: hooks: not an object");
	json_object_foreach((json_t *)hooks, key, v)
	{
		for (k = 0; k < 6; k++)
			if (!strcmp(key, oci_hook_phases[k]))
				break;
		if (k == 6)
			return cove_err_set(err, 0,
					    "config.json: hooks.%s: unknown "
					    "hook phase",
					    key);
		if (!json_is_array(v))
			return cove_err_set(err, 0,
					    "config.json: hooks.%s: not an "
					    "array",
					    key);
		if (k >= 4 && json_array_size(v))
			return cove_err_set(err, 0,
					    "config.json: hooks.%s: not "
					    "supported yet (it runs inside "
					    "the container)",
					    key);
		json_array_foreach(v, i, h)
		{
			if (oci_hook_check(h, key, i, err) < 0)
				return -1;
		}
		if (k < 2 && json_array_size(v))
			*net_hook = true;
	}
	return 0;
}

/**
 * oci_hook_vec() - a NULL-terminated vector of a string array
 * @v:		the array (checked), or NULL
 * @out:	OCI_HOOK_ARGS + 1 slots
 * @first:	put first when @v is empty (args: the path), or NULL
 */
static void oci_hook_vec(const json_t *v, char **out, const char *first)
{
	size_t i, n = 0;
	const json_t *e;

	json_array_foreach(v, i, e)
	{
		out[n++] = (char *)json_string_value(e);
	}
	if (!n && first)
		out[n++] = (char *)first;
	out[n] = NULL;
}

/**
 * oci_hook_child() - in the forked child: stdin the state, stdout and
 * stderr the output pipe, nothing else open; exec the hook
 * @h:		the hook
 * @in:		read end of the state pipe
 * @out:	write end of the output pipe
 */
static void __attribute__((noreturn))
oci_hook_child(const json_t *h, int in, int out)
{
	char *argv[OCI_HOOK_ARGS + 1], *envp[OCI_HOOK_ARGS + 1];
	const char *path = json_string_value(json_object_get(h, "path"));
	sigset_t all;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	closefrom(3);
	oci_hook_vec(json_object_get(h, "args"), argv, path);
	oci_hook_vec(json_object_get(h, "env"), envp, NULL);
	execve(path, argv, envp);
	dprintf(2, "exec %s: %s", path, strerror(errno));
	_exit(127);
}

/* oci_ms_left() - ms from now until @end (CLOCK_MONOTONIC), at least 0. */
static int oci_ms_left(const struct timespec *end)
{
	struct timespec t;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &t);
	ms = (end->tv_sec - t.tv_sec) * 1000ll +
	     (end->tv_nsec - t.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/**
 * oci_hook_wait() - collect the hook's output and its exit, within its
 * timeout
 * @pid:	the hook
 * @out:	read end of its output pipe (closed here)
 * @ms:		the timeout, or -1
 * @buf:	the first OCI_HOOK_OUT_MAX bytes of output, NUL-terminated
 *
 * The output is read until EOF, then the exit is waited for; both count
 * against the timeout (a hook that closes its output and stays is still
 * killed at the deadline).
 *
 * Return: the wait status, or -1 when the timeout killed it.
 */
static int oci_hook_wait(pid_t pid, int out, int ms, char *buf)
{
	struct pollfd p = { .fd = out, .events = POLLIN };
	struct timespec end;
	size_t len = 0;
	int status = 0, r;
	char junk[256];
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (ms % 1000) * 1000000l;
	if (end.tv_nsec >= 1000000000l) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000l;
	}
	while (p.fd >= 0) {
		r = poll(&p, 1, ms < 0 ? -1 : oci_ms_left(&end));
		if (r == 0)
			break; /* the deadline */
		if (r < 0)
			continue; /* EINTR */
		n = len < OCI_HOOK_OUT_MAX ?
			    read(out, buf + len, OCI_HOOK_OUT_MAX - len) :
			    read(out, junk, sizeof(junk));
		if (n <= 0)
			p.fd = -1; /* EOF: the hook (and its children) closed it */
		else if (len < OCI_HOOK_OUT_MAX)
			len += (size_t)n;
	}
	buf[len] = '\0';
	close(out);
	for (;;) {
		r = (int)waitpid(pid, &status, ms < 0 ? 0 : WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (ms >= 0 && !oci_ms_left(&end))
			break;
		if (ms >= 0)
			usleep(5000);
	}
	kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	return -1;
}

/**
 * oci_hook_run() - run one hook with @state on its stdin
 * @h:		the hook (checked)
 * @phase:	its phase, for the message
 * @i:		its index
 * @state:	the state JSON text
 * @err:	"hooks.prestart[0] (/path): exit status 1: OUTPUT"
 *
 * Return: 0 or -1.
 */
static int oci_hook_run(const json_t *h, const char *phase, size_t i,
			const char *state, struct cove_err *err)
{
	const json_t *t = json_object_get(h, "timeout");
	const char *path = json_string_value(json_object_get(h, "path"));
	char out[OCI_HOOK_OUT_MAX + 1], why[64];
	int in_p[2], out_p[2], status;
	size_t len = strlen(state);
	pid_t pid;

	if (pipe2(in_p, O_CLOEXEC) < 0)
		return cove_err_set(err, errno, "hooks.%s[%zu]: pipe", phase,
				    i);
	if (pipe2(out_p, O_CLOEXEC) < 0) {
		close(in_p[0]);
		close(in_p[1]);
		return cove_err_set(err, errno, "hooks.%s[%zu]: pipe", phase,
				    i);
	}
	pid = fork();
	if (pid == 0)
		oci_hook_child(h, in_p[0], out_p[1]);
	close(in_p[0]);
	close(out_p[1]);
	if (pid < 0) {
		close(in_p[1]);
		close(out_p[0]);
		return cove_err_set(err, errno, "hooks.%s[%zu]: fork", phase,
				    i);
	}
	/* The state is small (well under a pipe's buffer); a hook that does
	 * not read it gets EPIPE, ignored: SIGPIPE is blocked by the caller
	 * or harmless to a runtime about to report. */
	signal(SIGPIPE, SIG_IGN);
	(void)!write(in_p[1], state, len);
	close(in_p[1]);
	status = oci_hook_wait(pid, out_p[0],
			       t ? (int)json_integer_value(t) * 1000 : -1, out);
	if (status == 0)
		return 0;
	if (status < 0)
		snprintf(why, sizeof(why), "timed out after %llds",
			 (long long)json_integer_value(t));
	else if (WIFEXITED(status))
		snprintf(why, sizeof(why), "exit status %d",
			 WEXITSTATUS(status));
	else
		snprintf(why, sizeof(why), "killed by signal %d",
			 WTERMSIG(status));
	out[strcspn(out, "\n")] = '\0';
	return cove_err_set(err, 0, "hooks.%s[%zu] (%s): %s%s%s", phase, i,
			    path, why, out[0] ? ": " : "", out);
}

int oci_hooks_run(const json_t *hooks, const char *phase, const json_t *state,
		  struct cove_err *err)
{
	const json_t *list = json_object_get(hooks, phase), *h;
	char *text;
	size_t i;
	int ret = 0;

	if (!json_array_size(list))
		return 0;
	text = json_dumps(state, JSON_COMPACT);
	if (!text)
		return cove_err_set(err, ENOMEM, "hooks.%s: state", phase);
	json_array_foreach(list, i, h)
	{
		if (oci_hook_run(h, phase, i, text, err) < 0) {
			ret = -1;
			break;
		}
	}
	free(text);
	return ret;
}

/**
 * oci_hook_state() - the runtime-spec state a hook reads on stdin
 * @id:		container id
 * @status:	"creating", "created", "running" or "stopped"
 * @pid:	the container's pid (0 once stopped)
 * @bundle:	the bundle's directory
 * @ann:	annotations, or NULL
 *
 * Return: the object (the caller's), or NULL.
 */
static json_t *oci_hook_state(const char *id, const char *status, pid_t pid,
			      const char *bundle, json_t *ann)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ociVersion",
			      OCI_VERSION, "id", id, "status", status, "pid",
			      (int)pid, "bundle", bundle);

	if (o && ann && json_object_size(ann))
		json_object_set(o, "annotations", ann);
	return o;
}

int oci_create_hooks(void *arg, pid_t sentry, struct cove_err *err)
{
	const struct oci_hook_ctx *h = arg;
	json_t *st;
	int ret;

	if (!h->b->hooks)
		return 0;
	st = oci_hook_state(h->id, "creating", sentry, h->b->dir,
			    h->b->annotations);
	if (!st)
		return cove_err_set(err, ENOMEM, "hooks: state");
	ret = oci_hooks_run(h->b->hooks, "prestart", st, err);
	if (!ret)
		ret = oci_hooks_run(h->b->hooks, "createRuntime", st, err);
	json_decref(st);
	return ret;
}

void oci_late_hooks(const struct oci_state *s, const char *phase,
		    const char *status)
{
	struct cove_err err = { 0 };
	char path[4200];
	json_t *j, *st;

	snprintf(path, sizeof(path), "%s/config.json", s->bundle);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	if (!j || !json_array_size(json_object_get(json_object_get(j, "hooks"),
						   phase))) {
		json_decref(j);
		return;
	}
	st = oci_hook_state(s->id, status,
			    strcmp(status, "stopped") ? s->pid : 0, s->bundle,
			    s->annotations);
	if (st &&
	    oci_hooks_run(json_object_get(j, "hooks"), phase, st, &err) < 0)
		oci_log("warning", "container %s: %s", s->id, err.msg);
	json_decref(st);
	json_decref(j);
}
