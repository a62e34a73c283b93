// SPDX-License-Identifier: Apache-2.0
/* The cove command: dispatch to verbs registered with COVE_COMMAND(). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/*
 * COVE_COMMAND() puts pointers into the section "cove_cmds"; the linker
 * provides its bounds (weak: none when no verb is linked). cppcheck takes
 * the two for distinct arrays, hence the suppressions where they meet.
 */
extern const struct cove_cmd *const __start_cove_cmds[] __attribute__((weak));
extern const struct cove_cmd *const __stop_cove_cmds[] __attribute__((weak));

const char *cove_progname = "cove";

int cove_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", cove_progname, verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s %s --help')\n", cove_progname, verb);
	return 2;
}

/* usage() - the verbs registered in "cove_cmds", one line each, to @out. */
static void usage(FILE *out)
{
	const struct cove_cmd *const *c;

	fprintf(out,
		"Usage: %s COMMAND [ARGS...]\n\n"
		"Run untrusted programs in a sandbox whose network is served by a\n"
		"user-level TCP/IP stack.\n\nCommands:\n",
		cove_progname);
	/* cppcheck-suppress comparePointers ; one linker section */
	for (c = __start_cove_cmds; c && c < __stop_cove_cmds; c++)
		fprintf(out, "  %-13s %s\n", (*c)->name, (*c)->summary);
	fprintf(out, "\nRun '%s COMMAND --help' for a command's options.\n",
		cove_progname);
}

/**
 * main() - dispatch "cove VERB ARGS..." to the verb registered as VERB
 * @argc:	argument count
 * @argv:	argv[0] sets cove_progname (its basename), argv[1] the verb
 *
 * --help/-h/help and --version are answered here; everything else goes to
 * the verb's main() with argv shifted by one, so the verb sees its own
 * name as argv[0].
 *
 * Return: the verb's exit status; 2 for a missing or unknown verb.
 */
int main(int argc, char **argv)
{
	const struct cove_cmd *const *c;
	const char *slash = strrchr(argv[0], '/');

	cove_progname = slash ? slash + 1 : argv[0];
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	/* cppcheck-suppress comparePointers ; one linker section */
	for (c = __start_cove_cmds; c && c < __stop_cove_cmds; c++)
		if ((*c)->claims && (*c)->claims(argc, argv))
			return (*c)->main(argc, argv);
	if (!strcmp(argv[1], "--version")) {
		printf("%s 0.1.0\n", cove_progname);
		return 0;
	}
	/* cppcheck-suppress comparePointers ; one linker section */
	for (c = __start_cove_cmds; c && c < __stop_cove_cmds; c++)
		if (!strcmp((*c)->name, argv[1]))
			return (*c)->main(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n",
		cove_progname, argv[1], cove_progname);
	return 2;
}
