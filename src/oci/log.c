// SPDX-License-Identifier: Apache-2.0
/* runc's log: --log FILE, --log-format text|json, --debug. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"

/*
 * Theory of operation
 *
 * One process-wide sink, set once by oci_log_open() from the global flags
 * (the only file-scope state of the OCI side: a CLI process logs to one
 * place). Lines are what runc writes through logrus: JSON objects
 * {"level","msg","time"} with --log-format json (podman reads "msg" from
 * them to show the user why create failed), or
 * `time="..." level=error msg="..."` text. The file is opened O_APPEND so
 * that conmon, podman and the runtime can share it.
 */

static struct {
	int fd; /* -1: stderr */
	bool json, debug;
} oci_log_sink = { .fd = -1 };

int oci_log_open(const char *path, bool json, bool debug)
{
	oci_log_sink.json = json;
	oci_log_sink.debug = debug;
	if (!path)
		return 0;
	oci_log_sink.fd =
		open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	return oci_log_sink.fd < 0 ? -1 : 0;
}

/* oci_log_time() - now as RFC 3339 in UTC, seconds, as logrus prints. */
static void oci_log_time(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* oci_log_line() - one line of @msg at @level to the sink. */
static void oci_log_line(const char *level, const char *msg)
{
	int fd = oci_log_sink.fd >= 0 ? oci_log_sink.fd : STDERR_FILENO;
	char when[32], *line = NULL;
	json_t *o;

	oci_log_time(when, sizeof(when));
	if (oci_log_sink.json) {
		o = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg,
			      "time", when);
		line = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
		if (line)
			dprintf(fd, "%s\n", line);
		free(line);
		return;
	}
	o = json_string(msg); /* logrus quotes the message Go-style */
	line = o ? json_dumps(o, JSON_ENCODE_ANY) : NULL;
	json_decref(o);
	dprintf(fd, "time=\"%s\" level=%s msg=%s\n", when, level,
		line ? line : "\"\"");
	free(line);
}

void oci_log(const char *level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!strcmp(level, "debug") && !oci_log_sink.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	oci_log_line(level, msg);
}

int oci_fail(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	oci_log_line("error", msg);
	if (oci_log_sink.fd >= 0)
		fprintf(stderr, "%s\n", msg);
	return 1;
}
