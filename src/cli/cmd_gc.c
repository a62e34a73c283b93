// SPDX-License-Identifier: Apache-2.0
/* cove gc: remove what sandboxes whose runtime was killed left behind. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "runtime/runtime.h"

/**
 * gc_main() - cove gc [--verbose]: clean up after dead runtimes
 * @argc:	arguments, argv[0] == "gc"
 * @argv:	only --verbose/-v and --help/-h
 *
 * Needs root (the leftovers are veth pairs, nftables rules and state
 * under /run/cove). rt_gc() does the work and skips sandboxes whose lock
 * is still held.
 *
 * Return: 0 with the count printed, 1 if not root or rt_gc() failed,
 * 2 for an unknown option.
 */
static int gc_main(int argc, char **argv)
{
	bool verbose = false;
	int i, n;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("Usage: %s gc [--verbose]\n\n"
			       "Remove the state, veth pairs, published ports and\n"
			       "surviving sentries of sandboxes whose 'cove run' is gone\n"
			       "(its lock in /run/cove/NAME/lock is free). Live sandboxes\n"
			       "are left alone. Prints how many were cleaned.\n",
			       cove_progname);
			return 0;
		}
		if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			verbose = true;
		else
			return cove_usage_error("gc", "unknown option '%s'",
						argv[i]);
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s gc: needs root\n", cove_progname);
		return 1;
	}
	n = rt_gc(verbose);
	if (n < 0)
		return 1;
	printf("%d sandbox%s cleaned\n", n, n == 1 ? "" : "es");
	return 0;
}

static const struct cove_cmd gc_cmd = {
	.name = "gc",
	.summary = "clean up after sandboxes whose runtime was killed",
	.main = gc_main,
};
COVE_COMMAND(gc_cmd);
