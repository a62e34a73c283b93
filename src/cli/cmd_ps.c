// SPDX-License-Identifier: Apache-2.0
/* cove ps: the processes of a running sandbox. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ctl_cmd.h"
#include "control/cove.pb-c.h"

/* ps_usage() - print the help text of cove ps to @out. */
static void ps_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s ps [--config=FILE] NAME\n\n"
		"List the processes of the running sandbox NAME: the program (id main),\n"
		"those started by '%s exec' (id exec-N; exited ones with their status,\n"
		"while the table has room), and any other live process (id -).\n"
		"Columns: ID, PID (in the sandbox), STATUS (running, or exited N),\n"
		"COMMAND.\n",
		cove_progname, cove_progname);
}

/**
 * ps_main() - cove ps NAME: print cove.ListProcesses as a table
 * @argc:	arguments, argv[0] == "ps"
 * @argv:	NAME and --config
 *
 * The answer comes from inside the sandbox and is untrusted: argv strings
 * are printed with control characters replaced by '?', so a process
 * cannot drive the caller's terminal.
 *
 * Return: 0, or CTL_EXIT_COVE after one line on stderr (bad usage, no
 * such sandbox, transport error, malformed response).
 */
static int ps_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Cove__Control__ListProcessesResponse *lr;
	struct cove_ctl_response resp;
	struct cove_ctl_client *c = NULL;
	const char *config = NULL;
	int opt, ret;
	size_t i, k;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (opt == 'h') {
			ps_usage(stdout);
			return 0;
		}
		if (opt != 'c')
			return ctl_cmd_error(
				"ps",
				"unknown option '%s' (see '%s ps --help')",
				argv[optind - 1], cove_progname);
		config = optarg;
	}
	if (argc - optind != 1)
		return ctl_cmd_error("ps",
				     "expected one NAME (see '%s ps --help')",
				     cove_progname);
	ret = ctl_cmd_open("ps", argv[optind], config, &c);
	if (!ret)
		ret = ctl_cmd_call("ps", argv[optind], c, "cove.ListProcesses",
				   NULL, 0, NULL, 0, 5000, &resp);
	cove_ctl_client_close(c);
	if (ret)
		return ret;
	lr = cove__control__list_processes_response__unpack(NULL,
							    resp.payload_len,
							    resp.payload);
	free(resp.payload);
	if (!lr)
		return ctl_cmd_error("ps", "malformed ListProcessesResponse");
	printf("%-12s %7s %-10s %s\n", "ID", "PID", "STATUS", "COMMAND");
	for (i = 0; i < lr->n_processes; i++) {
		const Cove__Control__ProcessInfo *p = lr->processes[i];
		char st[24];

		if (p->running)
			snprintf(st, sizeof(st), "running");
		else
			snprintf(st, sizeof(st), "exited %d",
				 (int)p->exit_code);
		printf("%-12s %7u %-10s", p->id[0] ? p->id : "-",
		       (unsigned)p->pid, st);
		for (k = 0; k < p->n_argv; k++) {
			const char *s;

			putchar(' ');
			/* argv comes from the sandbox: no control characters */
			for (s = p->argv[k]; *s; s++)
				putchar((unsigned char)*s < 32 || *s == 127 ?
						'?' :
						*s);
		}
		putchar('\n');
	}
	cove__control__list_processes_response__free_unpacked(lr, NULL);
	return 0;
}

static const struct cove_cmd ps_cmd = {
	.name = "ps",
	.summary = "list the processes of a running sandbox",
	.main = ps_main,
};
COVE_COMMAND(ps_cmd);
