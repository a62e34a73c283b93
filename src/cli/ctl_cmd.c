// SPDX-License-Identifier: Apache-2.0
/* Shared by cove exec, ps, kill, stats: find a sandbox, dial it, call. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/ctl_cmd.h"
#include "common/sandbox.h"

/*
 * The runtime never listens: every verb dials /run/cove/NAME/control.sock
 * with cove_ctl_dial()'s configured attempt timeout, backoff and deadline.
 * Before dialing, the state directory tells a missing sandbox (one clear
 * line, no 5 s of retries) and a stale one (its runtime's lock is free)
 * apart from a live one. A socket the caller may not reach is reported as
 * such: only the sandbox's owner (and root) may command it.
 */

int ctl_cmd_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", cove_progname, verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_COVE;
}

int ctl_cmd_lock_state(const char *dir)
{
	char path[256];
	int fd, r;

	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	r = flock(fd, LOCK_SH | LOCK_NB);
	close(fd); /* drops our lock if we got it */
	if (r == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return -1;
	snprintf(path, sizeof(path), "%s/stopping", dir);
	return access(path, F_OK) ? 1 : 2;
}

/* ctl_cmd_denied() - the one line for a caller who is not the owner. */
static int ctl_cmd_denied(const char *verb, const char *name, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) == 0)
		return ctl_cmd_error(
			verb,
			"sandbox %s: permission denied: only its owner (uid %u) or root may command it",
			name, (unsigned)st.st_uid);
	return ctl_cmd_error(
		verb,
		"sandbox %s: permission denied: only its owner or root may command it",
		name);
}

int ctl_cmd_open(const char *verb, const char *name, const char *config,
		 struct cove_ctl_client **out)
{
	char dir[128];
	struct cove_config cfg;
	struct cove_ctl_addr a;
	struct cove_err err = { 0 };
	struct stat st;
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    name[i]))
			break;
	if (!n || n > SBX_NAME_MAX || i < n || name[0] == '.')
		return ctl_cmd_error(verb, "'%s' is not a sandbox name", name);
	snprintf(dir, sizeof(dir), "%s/%s", SBX_RUN_DIR, name);
	if (stat(dir, &st) < 0) {
		if (errno == EACCES)
			return ctl_cmd_denied(verb, name, dir);
		return ctl_cmd_error(verb,
				     "no sandbox named '%s' (see '%s list')",
				     name, cove_progname);
	}
	switch (ctl_cmd_lock_state(dir)) {
	case 0:
		return ctl_cmd_error(
			verb,
			"sandbox %s is not running (stale state; '%s gc' removes it)",
			name, cove_progname);
	case 2:
		return ctl_cmd_error(
			verb,
			"no sandbox named '%s' (its program has exited; the "
			"teardown is finishing)",
			name);
	}
	if (cove_config_load(config, &cfg, &err) < 0 ||
	    cove_ctl_addr_parse("unix", name, &a, &err) < 0)
		return ctl_cmd_error(verb, "%s", err.msg);
	if (cove_ctl_client_open(&a, &cfg, -1, out, &err) < 0) {
		if (err.code == EACCES || err.code == EPERM)
			return ctl_cmd_denied(verb, name, dir);
		return ctl_cmd_error(verb, "sandbox %s: %s", name, err.msg);
	}
	return 0;
}

int ctl_cmd_call(const char *verb, const char *name, struct cove_ctl_client *c,
		 const char *method, const uint8_t *req, size_t len,
		 const int *fds, unsigned nfds, uint32_t timeout_ms,
		 struct cove_ctl_response *resp)
{
	struct cove_err err = { 0 };

	if (cove_ctl_client_call_fds(c, method, req, len, fds, nfds, timeout_ms,
				     resp, &err) < 0)
		return ctl_cmd_error(verb, "sandbox %s: %s", name, err.msg);
	if (resp->code != COVE_CTL_OK) {
		free(resp->payload);
		resp->payload = NULL;
		return ctl_cmd_error(verb, "sandbox %s: %s", name,
				     resp->message[0] ? resp->message :
							"refused");
	}
	return 0;
}
