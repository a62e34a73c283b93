// SPDX-License-Identifier: Apache-2.0
/* cove exec: run one more process in a running sandbox, stdio passed through. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/ctl_cmd.h"
#include "control/cove.pb-c.h"

/*
 * The caller's stdin, stdout and stderr travel with the cove.Exec request
 * as SCM_RIGHTS fds, so the process reads and writes them directly: no
 * byte of its stdio goes through cove or the sentry. The process is forked
 * by the sandbox's zygote (src/sentry/exec.c): same namespaces, the same
 * seccomp filter, its sockets served by the sandbox's stack. Then
 * cove.Wait returns its status, which becomes ours.
 */

#define EXEC_MAX_ENV 256

/* exec_usage() - print the help text of cove exec to @out. */
static void exec_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s exec [OPTIONS] NAME [--] COMMAND [ARG...]\n\n"
		"Run COMMAND in the running sandbox NAME: its namespaces, its seccomp\n"
		"filter, its network stack. COMMAND gets this terminal's stdin, stdout\n"
		"and stderr.\n\n"
		"Options:\n"
		"  --env=K=V           add K=V to the environment (repeatable); the\n"
		"                      base is the sandbox's (PATH, HOME, HOSTNAME, TERM,\n"
		"                      cove run's --env)\n"
		"  --workdir=DIR       working directory (default: the program's)\n"
		"  --user=UID[:GID]    run as UID (and GID; default GID = UID); default:\n"
		"                      cove run's --user\n"
		"  --config=FILE       control channel settings (default /etc/cove/cove.conf)\n"
		"  -h, --help          this text\n\n"
		"Exit status: COMMAND's; 128+N when signal N ended it; 126/127 when it\n"
		"cannot be run / is not found; 125 for cove's own failures.\n",
		cove_progname);
}

/* exec_user() - UID[:GID], numeric; Return: 0 or -1. */
static int exec_user(const char *t, uint32_t *uid, uint32_t *gid)
{
	char *end;
	unsigned long u, g;

	errno = 0;
	u = strtoul(t, &end, 10);
	if (errno || end == t || u > UINT32_MAX - 1)
		return -1;
	g = u;
	if (*end == ':') {
		t = end + 1;
		g = strtoul(t, &end, 10);
		if (errno || end == t || g > UINT32_MAX - 1)
			return -1;
	}
	if (*end)
		return -1;
	*uid = (uint32_t)u;
	*gid = (uint32_t)g;
	return 0;
}

/* exec_stdio() - our fds 0..2; a closed one is replaced by /dev/null. */
static void exec_stdio(int fds[3])
{
	int i;

	for (i = 0; i < 3; i++) {
		fds[i] = i;
		if (fcntl(i, F_GETFD) < 0)
			fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
	}
}

/**
 * exec_main() - cove exec NAME [--] COMMAND [ARG...]
 * @argc:	arguments, argv[0] == "exec"
 * @argv:	options stop at the first non-option ("+"), so COMMAND's own
 *		flags are left alone
 *
 * Packs a cove.Exec request (argv, --env, --workdir, --user, stdio as
 * passed fds), sends it with our fds 0..2 attached, then waits with
 * cove.Wait (timeout UINT32_MAX ms: as long as the process runs) for its
 * status.
 * The strings in the request point into @argv; nothing is copied. A
 * /dev/null opened for a closed stdio fd stays open until we exit.
 *
 * Return: the process's exit status (0..255, as the sentry reports it:
 * 128+N for signal N); 0 after --help; CTL_EXIT_COVE (125) for a usage
 * error or any failure of our own, after one line on stderr.
 */
static int exec_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Cove__Control__ProcessSpec ps = COVE__CONTROL__PROCESS_SPEC__INIT;
	Cove__Control__ExecRequest er = COVE__CONTROL__EXEC_REQUEST__INIT;
	Cove__Control__WaitRequest wr = COVE__CONTROL__WAIT_REQUEST__INIT;
	Cove__Control__ExecResponse *ex;
	Cove__Control__WaitResponse *w;
	ctl_cmd_cleanup_client struct cove_ctl_client *c = NULL;
	struct cove_ctl_response resp;
	const char *config = NULL, *name;
	char *env[EXEC_MAX_ENV], id[64];
	size_t nenv = 0, n;
	uint8_t *buf, wbuf[128];
	int opt, fds[3], ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return ctl_cmd_error(
					"exec",
					"--env: '%s' is not K=V (see '%s exec --help')",
					optarg, cove_progname);
			if (nenv == EXEC_MAX_ENV)
				return ctl_cmd_error("exec", "at most %d --env",
						     EXEC_MAX_ENV);
			env[nenv++] = optarg;
			break;
		case 'w':
			ps.cwd = optarg;
			break;
		case 'u':
			if (exec_user(optarg, &ps.uid, &ps.gid) < 0)
				return ctl_cmd_error(
					"exec",
					"--user: '%s' is not UID[:GID] (numbers)",
					optarg);
			ps.user_set = 1;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			exec_usage(stdout);
			return 0;
		default:
			return ctl_cmd_error(
				"exec",
				"unknown option '%s' (see '%s exec --help')",
				argv[optind - 1], cove_progname);
		}
	}
	if (optind >= argc)
		return ctl_cmd_error(
			"exec",
			"missing NAME and COMMAND (see '%s exec --help')",
			cove_progname);
	name = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc)
		return ctl_cmd_error("exec",
				     "missing COMMAND (see '%s exec --help')",
				     cove_progname);
	ps.argv = argv + optind;
	ps.n_argv = (size_t)(argc - optind);
	ps.env = env;
	ps.n_env = nenv;
	ps.stdio = COVE__CONTROL__STDIO_MODE__STDIO_FDS;
	er.process = &ps;
	ret = ctl_cmd_open("exec", name, config, &c);
	if (ret)
		return ret;
	n = cove__control__exec_request__get_packed_size(&er);
	buf = malloc(n ? n : 1);
	if (!buf)
		return ctl_cmd_error("exec", "out of memory");
	cove__control__exec_request__pack(&er, buf);
	exec_stdio(fds);
	ret = ctl_cmd_call("exec", name, c, "cove.Exec", buf, n, fds, 3, 10000,
			   &resp);
	free(buf);
	if (ret)
		return ret;
	ex = cove__control__exec_response__unpack(NULL, resp.payload_len,
						  resp.payload);
	free(resp.payload);
	if (!ex)
		return ctl_cmd_error("exec",
				     "sandbox %s: malformed ExecResponse",
				     name);
	snprintf(id, sizeof(id), "%s", ex->id);
	cove__control__exec_response__free_unpacked(ex, NULL);
	wr.id = id;
	n = cove__control__wait_request__pack(&wr, wbuf);
	ret = ctl_cmd_call("exec", name, c, "cove.Wait", wbuf, n, NULL, 0,
			   UINT32_MAX, &resp);
	if (ret)
		return ret;
	w = cove__control__wait_response__unpack(NULL, resp.payload_len,
						 resp.payload);
	free(resp.payload);
	if (!w)
		return ctl_cmd_error("exec",
				     "sandbox %s: malformed WaitResponse",
				     name);
	ret = w->exit_code >= 0 && w->exit_code <= 255 ? w->exit_code :
							 CTL_EXIT_COVE;
	cove__control__wait_response__free_unpacked(w, NULL);
	return ret;
}

int cove_exec_native(int argc, char **argv)
{
	return exec_main(argc, argv);
}

static const struct cove_cmd exec_cmd = {
	.name = "exec",
	.summary = "run one more process in a running sandbox",
	.main = exec_main,
};
COVE_COMMAND(exec_cmd);
