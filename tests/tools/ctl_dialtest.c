// SPDX-License-Identifier: Apache-2.0
/* cove-ctl-dialtest: dial once and report timing, for the acceptance test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "control/control.h"

/*
 * Usage: cove-ctl-dialtest ADDRESS [KEY=VALUE...]
 *
 * Prints "dialing\n" before the first attempt, then two JSON lines: the
 * schedule the dial followed ({"pauses": [ms...], "early": [bool...],
 * "dropped": N, "prev_start_ns": T, "last_start_ns": T}), then
 * {"ok":..., "start_ns":..., "connected_ns":..., "cpu_ns":...,
 *  "attempts":..., "error":"..."} with CLOCK_MONOTONIC times, so a test
 * can compare them with the moment its listener came up. KEY=VALUE are
 * cove.conf settings. Test tooling only; not installed.
 */

/* dialtest_cpu_ns() - user + system CPU time of this process in ns. */
static int64_t dialtest_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/**
 * main() - apply KEY=VALUE settings, dial ADDRESS once, print the result
 * @argc:	argument count
 * @argv:	ADDRESS, then cove.conf KEY=VALUE settings (edited in place)
 *
 * The error text is made safe for the JSON string it goes into ('"', '\'
 * and control characters become '?'). A connection made is closed at once:
 * only the dial is measured.
 *
 * Return: 0 when the dial connected, 1 when it failed, 2 for bad usage.
 */
int main(int argc, char **argv)
{
	struct cove_ctl_dial_opts o;
	struct cove_ctl_addr a;
	struct cove_ctl_conn conn;
	struct cove_config cfg;
	struct cove_err err = { 0 };
	int64_t t0, t1, c0, c1;
	char *eq;
	int i, r;

	if (argc < 2) {
		fprintf(stderr,
			"usage: cove-ctl-dialtest ADDRESS [KEY=VALUE...]\n");
		return 2;
	}
	cove_config_defaults(&cfg);
	for (i = 2; i < argc; i++) {
		eq = strchr(argv[i], '=');
		if (!eq) {
			fprintf(stderr,
				"cove-ctl-dialtest: expected KEY=VALUE, got '%s'\n",
				argv[i]);
			return 2;
		}
		*eq = '\0';
		if (cove_config_set(&cfg, argv[i], eq + 1, &err) < 0) {
			fprintf(stderr, "cove-ctl-dialtest: %s\n", err.msg);
			return 2;
		}
	}
	if (cove_ctl_addr_parse(argv[1], NULL, &a, &err) < 0) {
		fprintf(stderr, "cove-ctl-dialtest: %s\n", err.msg);
		return 2;
	}
	cove_ctl_dial_opts_from(&o, &cfg);
	printf("dialing\n");
	fflush(stdout);
	c0 = dialtest_cpu_ns();
	t0 = (int64_t)cove_now_ns();
	r = cove_ctl_dial(&a, &o, &conn, &err);
	t1 = (int64_t)cove_now_ns();
	c1 = dialtest_cpu_ns();
	printf("{\"pauses\": [");
	for (i = 0; i < (int)conn.trace.n; i++)
		printf("%s%u", i ? ", " : "",
		       conn.trace.pause_ms[i] & ~COVE_CTL_TRACE_EARLY);
	printf("], \"early\": [");
	for (i = 0; i < (int)conn.trace.n; i++)
		printf("%s%s", i ? ", " : "",
		       conn.trace.pause_ms[i] & COVE_CTL_TRACE_EARLY ? "true" :
								       "false");
	printf("], \"dropped\": %u, \"prev_start_ns\": %lld, "
	       "\"last_start_ns\": %lld}\n",
	       conn.trace.dropped, (long long)conn.trace.prev_start_ns,
	       (long long)conn.trace.last_start_ns);
	for (eq = err.msg; *eq; eq++)
		if (*eq == '"' || *eq == '\\' || (unsigned char)*eq < 0x20)
			*eq = '?';
	printf("{\"ok\": %s, \"start_ns\": %lld, \"connected_ns\": %lld, "
	       "\"cpu_ns\": %lld, \"attempts\": %u, \"error\": \"%s\"}\n",
	       r == 0 ? "true" : "false", (long long)t0, (long long)t1,
	       (long long)(c1 - c0), conn.attempts, r == 0 ? "" : err.msg);
	if (r == 0)
		close(conn.fd);
	return r == 0 ? 0 : 1;
}
