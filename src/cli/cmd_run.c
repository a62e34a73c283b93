// SPDX-License-Identifier: Apache-2.0
/* cove run: run a program in a sandbox whose sockets a user-level stack serves. */
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "control/control.h"
#include "runtime/runtime.h"

/**
 * run_main() - cove run: parse the options, then run the sandbox
 * @argc:	arguments, argv[0] == "run"
 * @argv:	as rt_opts_parse() takes them
 *
 * The address pools come from cove.conf (--config, or the default
 * file), so the arguments are parsed a second time with them once the
 * first pass has found --config. Parsing lives in src/runtime/opts.c
 * (unit tested), the work in
 * src/runtime/runtime.c. Usage errors exit 125 like every other failure of
 * cove itself, so that a program's own exit status 2 stays unambiguous.
 * The options are static: a few kilobytes (argv, env, --publish tables)
 * that live as long as the process.
 *
 * Return: 0 after --help, SBX_EXIT_COVE for bad usage, else rt_run()'s
 * status (the program's).
 */
static int run_main(int argc, char **argv)
{
	static struct sbx_opts o;
	struct cove_config cfg;
	struct sbx_pools pools;
	struct cove_err err;
	int ret;

	/* Once to learn --config, then with that file's pools (parsing is
	 * pure: the second pass sees the same arguments). */
	ret = rt_opts_parse(argc, argv, &o, &err);
	if (ret == 0 && geteuid() == 0) {
		if (cove_config_load(o.config_path, &cfg, &err) < 0) {
			fprintf(stderr, "%s run: %s\n", cove_progname, err.msg);
			return SBX_EXIT_COVE;
		}
		pools.net = cfg.pool;
		pools.prefix = cfg.pool_prefix;
		pools.net6 = cfg.pool6;
		pools.prefix6 = cfg.pool6_prefix;
		ret = rt_opts_parse_pools(argc, argv, &pools, &o, &err);
	}
	if (ret == 1) {
		rt_run_usage(stdout, cove_progname);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "%s run: %s (see '%s run --help')\n",
			cove_progname, err.msg, cove_progname);
		return SBX_EXIT_COVE;
	}
	return rt_run(&o);
}

static const struct cove_cmd run_cmd = {
	.name = "run",
	.summary = "run a program in a sandbox on a user-level stack",
	.main = run_main,
};
COVE_COMMAND(run_cmd);
