// SPDX-License-Identifier: Apache-2.0
/* cove list: the sandboxes under /run/cove, live and stale. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/ctl_cmd.h"
#include "common/cleanup.h"
#include "common/sandbox.h"

/*
 * Reads only the state directory (src/runtime/state.c): no dialing, so a
 * sandbox that hangs cannot hang the listing. A sandbox is live while its
 * runtime holds NAME/lock; a free lock means stale state that `cove gc`
 * (or the next cove run) removes.
 */

/* list_usage() - print the help text of cove list to @out. */
static void list_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s list\n\n"
		"List the sandboxes under %s: NAME, ADDRESS (the sandbox's IPv4\n"
		"address; its control socket is %s/NAME/control.sock), NETWORK (the\n"
		"--network mode), PID (its sentry), AGE, and STATE: running, or stale\n"
		"(the runtime is gone; '%s gc' removes it). A sandbox whose program\n"
		"has exited is not listed, even while its teardown finishes.\n",
		cove_progname, SBX_RUN_DIR, SBX_RUN_DIR, cove_progname);
}

/* list_read() - first line of NAME/file, or "-". */
static void list_read(const char *dir, const char *file, char *buf, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)n, f))
		snprintf(buf, n, "-");
	if (f)
		fclose(f);
	buf[strcspn(buf, " \n")] = '\0';
}

/* list_age() - "42s", "7m", "3h", "2d" since @t. */
static void list_age(time_t t, char *buf, size_t n)
{
	long s = (long)(time(NULL) - t);

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, n, "%lds", s);
	else if (s < 7200)
		snprintf(buf, n, "%ldm", s / 60);
	else if (s < 172800)
		snprintf(buf, n, "%ldh", s / 3600);
	else
		snprintf(buf, n, "%ldd", s / 86400);
}

/**
 * list_main() - cove list: one line per directory of SBX_RUN_DIR
 * @argc:	arguments, argv[0] == "list"; no others but --help
 * @argv:	arguments
 *
 * Reads the state files (ip, ip6, network, pid) written by the runtime and
 * probes NAME/lock; the age is the directory's mtime. Entries it cannot
 * read show "-" (a file) or "?" (the lock), so a half-written or foreign
 * directory never stops the listing. No sandbox directory, no error.
 *
 * Return: 0, or CTL_EXIT_COVE if SBX_RUN_DIR exists but cannot be read or
 * arguments were given.
 */
static int list_main(int argc, char **argv)
{
	cove_cleanup_closedir DIR *top = NULL;
	struct dirent *d;

	if (argc > 1 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		list_usage(stdout);
		return 0;
	}
	if (argc > 1)
		return ctl_cmd_error("list",
				     "takes no arguments (see '%s list --help')",
				     cove_progname);
	top = opendir(SBX_RUN_DIR);
	if (!top && errno != ENOENT)
		return ctl_cmd_error("list", "%s: %s", SBX_RUN_DIR,
				     strerror(errno));
	printf("%-20s %-15s %-8s %7s %5s %-7s %s\n", "NAME", "ADDRESS",
	       "NETWORK", "PID", "AGE", "STATE", "ADDRESS6");
	while (top && (d = readdir(top))) {
		char dir[300], ip[32], ip6[64], net[32], pid[32], age[32];
		struct stat st;
		int live;

		if (d->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", SBX_RUN_DIR, d->d_name);
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		list_read(dir, "ip", ip, sizeof(ip));
		list_read(dir, "ip6", ip6, sizeof(ip6));
		list_read(dir, "network", net, sizeof(net));
		list_read(dir, "pid", pid, sizeof(pid));
		list_age(st.st_mtime, age, sizeof(age));
		live = ctl_cmd_lock_state(dir);
		if (live == 2)
			continue; /* exited: only its teardown is left */
		printf("%-20s %-15s %-8s %7s %5s %-7s %s\n", d->d_name, ip, net,
		       pid, age,
		       live > 0	 ? "running" :
		       live == 0 ? "stale" :
				   "?",
		       ip6);
	}
	return 0;
}

static const struct cove_cmd list_cmd = {
	.name = "list",
	.summary = "list sandboxes (running and stale)",
	.main = list_main,
};
COVE_COMMAND(list_cmd);
