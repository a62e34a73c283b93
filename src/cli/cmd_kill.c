// SPDX-License-Identifier: Apache-2.0
/* cove kill: send a signal to a running sandbox's program (or every process). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/ctl_cmd.h"
#include "common/args.h"
#include "control/cove.pb-c.h"

/* kill_usage() - print the help text of cove kill to @out. */
static void kill_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s kill [--all] [--config=FILE] NAME [SIGNAL]\n\n"
		"Send SIGNAL (default TERM) to the program of the running sandbox NAME.\n"
		"SIGNAL is a number or a name (TERM, SIGTERM, KILL, HUP, ...). When the\n"
		"program exits, the sandbox ends and '%s run' exits with 128+N.\n\n"
		"  --all       every process of the sandbox, not just the program\n",
		cove_progname, cove_progname);
}

/**
 * kill_main() - cove kill [--all] NAME [SIGNAL]: one cove.Signal call
 * @argc:	arguments, argv[0] == "kill"
 * @argv:	SIGNAL is parsed by cove_signal_parse(); default SIGTERM
 *
 * The sentry delivers the signal: to the program, or with --all to every
 * process of the sandbox. The sandbox ending is reported by cove run, not
 * here.
 *
 * Return: 0 once the sentry accepted the request, else CTL_EXIT_COVE
 * (bad usage included) after one line on stderr.
 */
static int kill_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Cove__Control__SignalRequest sr = COVE__CONTROL__SIGNAL_REQUEST__INIT;
	struct cove_ctl_response resp = { 0 };
	struct cove_ctl_client *c = NULL;
	const char *config = NULL;
	uint8_t buf[64];
	int opt, ret;
	size_t n;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (opt == 'h') {
			kill_usage(stdout);
			return 0;
		} else if (opt == 'a') {
			sr.all = 1;
		} else if (opt == 'c') {
			config = optarg;
		} else {
			return ctl_cmd_error(
				"kill",
				"unknown option '%s' (see '%s kill --help')",
				argv[optind - 1], cove_progname);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return ctl_cmd_error(
			"kill", "expected NAME [SIGNAL] (see '%s kill --help')",
			cove_progname);
	sr.signal = SIGTERM;
	if (argc - optind == 2) {
		sr.signal = cove_signal_parse(argv[optind + 1]);
		if (sr.signal < 0)
			return ctl_cmd_error("kill", "'%s' is not a signal",
					     argv[optind + 1]);
	}
	n = cove__control__signal_request__pack(&sr, buf);
	ret = ctl_cmd_open("kill", argv[optind], config, &c);
	if (!ret)
		ret = ctl_cmd_call("kill", argv[optind], c, "cove.Signal", buf,
				   n, NULL, 0, 5000, &resp);
	if (!ret)
		free(resp.payload);
	cove_ctl_client_close(c);
	return ret;
}

static const struct cove_cmd kill_cmd = {
	.name = "kill",
	.summary = "send a signal to a running sandbox's program",
	.main = kill_main,
};
COVE_COMMAND(kill_cmd);
