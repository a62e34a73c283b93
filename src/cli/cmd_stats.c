// SPDX-License-Identifier: Apache-2.0
/* cove stats: the network stack counters of a running sandbox. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/ctl_cmd.h"
#include "control/cove.pb-c.h"

/* stats_usage() - print the help text of cove stats to @out. */
static void stats_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s stats [--config=FILE] NAME\n\n"
		"Print the counters of the running sandbox NAME's user-level stack, one\n"
		"'name value' line each (stack first): frames and bytes in and out,\n"
		"drops, TCP opens, segments, retransmissions, resets, and the gauges\n"
		"sockets, tcp_conns, tcp_established, mem_bytes, frames_held; IPv6\n"
		"(ip6_*, icmp6_*, nd_*), pmtu_updates and tcp_syncookies_*; then the\n"
		"sentry relay's relay_spill_held, relay_spill_spare (leftover buffers\n"
		"in use and kept) and relay_spill_waits (reads held back for want of\n"
		"memory).\n"
		"Sandboxes on --network=host or none have no stack to ask.\n",
		cove_progname);
}

/* stats_fields() - every uint64 field of message @m, "PREFIXname value". */
static void stats_fields(const ProtobufCMessage *m, const char *prefix)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	unsigned i;

	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->type == PROTOBUF_C_TYPE_UINT64)
			printf("%s%s %llu\n", prefix, f->name,
			       (unsigned long long)*(
				       const uint64_t *)((const char *)m +
							 f->offset));
	}
}

/**
 * stats_main() - cove stats NAME: print cove.Stats, one counter a line
 * @argc:	arguments, argv[0] == "stats"
 * @argv:	NAME and --config
 *
 * A sandbox may run more than one stack; each is printed in turn, then
 * the sentry relay's counters (prefixed relay_), by stats_fields(), which
 * walks the message descriptor so that a counter added to cove.proto shows
 * up without a change here.
 *
 * Return: 0, or CTL_EXIT_COVE after one line on stderr.
 */
static int stats_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Cove__Control__StatsResponse *sr;
	struct cove_ctl_response resp;
	struct cove_ctl_client *c = NULL;
	const char *config = NULL;
	int opt, ret;
	size_t i;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		if (opt == 'h') {
			stats_usage(stdout);
			return 0;
		}
		if (opt != 'c')
			return ctl_cmd_error(
				"stats",
				"unknown option '%s' (see '%s stats --help')",
				argv[optind - 1], cove_progname);
		config = optarg;
	}
	if (argc - optind != 1)
		return ctl_cmd_error("stats",
				     "expected one NAME (see '%s stats --help')",
				     cove_progname);
	ret = ctl_cmd_open("stats", argv[optind], config, &c);
	if (!ret)
		ret = ctl_cmd_call("stats", argv[optind], c, "cove.Stats", NULL,
				   0, NULL, 0, 5000, &resp);
	cove_ctl_client_close(c);
	if (ret)
		return ret;
	sr = cove__control__stats_response__unpack(NULL, resp.payload_len,
						   resp.payload);
	free(resp.payload);
	if (!sr)
		return ctl_cmd_error("stats", "malformed StatsResponse");
	for (i = 0; i < sr->n_stacks; i++) {
		printf("stack %s\n", sr->stacks[i]->stack);
		stats_fields(&sr->stacks[i]->base, "");
	}
	if (sr->relay)
		stats_fields(&sr->relay->base, "relay_");
	cove__control__stats_response__free_unpacked(sr, NULL);
	return 0;
}

static const struct cove_cmd stats_cmd = {
	.name = "stats",
	.summary = "print a running sandbox's network stack counters",
	.main = stats_main,
};
COVE_COMMAND(stats_cmd);
