/* SPDX-License-Identifier: Apache-2.0 */
/* CLI verbs: each lives in its own file and registers itself here. */
#ifndef COVE_CLI_H
#define COVE_CLI_H

#include <stdbool.h>

/*
 * A verb is "cove NAME ARGS...". Its main() gets argv with argv[0] == NAME
 * and returns the process exit status: 0 success, 1 failure at run time,
 * 2 bad usage (one clear line on stderr). Verbs register with
 * COVE_COMMAND(); main.c finds them through the "cove_cmds" section, so a
 * new verb touches no shared file but its meson.build line.
 */
struct cove_cmd {
	const char *name;
	const char *summary; /* one line for `cove --help` */
	int (*main)(int argc, char **argv);
	/*
	 * Optional: does this verb take the whole command line (argv[0] the
	 * program) although argv[1] is not its name? The OCI form does
	 * (cmd_oci.c): runc's verbs and global flags. Asked before the
	 * names are matched.
	 */
	bool (*claims)(int argc, char **argv);
};

#define COVE_COMMAND(var)                                   \
	static const struct cove_cmd *const cove__cmd_##var \
		__attribute__((used, section("cove_cmds"),  \
			       aligned(sizeof(void *)))) = &(var)

/* "cove" or "cove-plugin": how this binary was invoked, for messages. */
extern const char *cove_progname;

/**
 * cove_usage_error() - print "PROG VERB: message" and a hint; return 2
 * @verb:	the verb's name
 * @fmt:	printf-style message
 *
 * Return: 2, the exit status for bad usage.
 */
int cove_usage_error(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * cove_exec_native() - `cove exec` as if typed (cmd_exec.c), for the OCI
 * form's exec
 * @argc:	argument count
 * @argv:	argv[0] == "exec", then exec's options, NAME, -- and COMMAND
 *
 * Return: exec's exit status (the command's).
 */
int cove_exec_native(int argc, char **argv);

#endif /* COVE_CLI_H */
