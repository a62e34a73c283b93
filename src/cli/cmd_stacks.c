// SPDX-License-Identifier: Apache-2.0
/* cove stacks: list the stack providers and link kinds built into this binary. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cove/link.h"
#include "cove/netstack.h"

/**
 * stacks_main() - cove stacks: the providers and link kinds linked in
 * @argc:	arguments, argv[0] == "stacks"; no others but --help
 * @argv:	arguments
 *
 * Lists what COVE_STACK_PROVIDER() and COVE_LINK_TYPE() registered in
 * this binary; providers in shared objects (src/plugin) are not listed.
 *
 * Return: 0, or 2 for an unexpected argument.
 */
static int stacks_main(int argc, char **argv)
{
	const struct cove_netstack_ops *const *p;
	const struct cove_link_ops *const *l;
	unsigned i, n;

	if (argc > 1 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: %s stacks\n\nList the network stack providers "
		       "and packet links this binary was built with.\n",
		       cove_progname);
		return 0;
	}
	if (argc > 1)
		return cove_usage_error("stacks", "unexpected argument '%s'",
					argv[1]);
	printf("Stacks (ABI version %d):\n", COVE_NETSTACK_ABI_VERSION);
	p = cove_stack_providers(&n);
	for (i = 0; i < n; i++)
		printf("  %-10s %s\n", p[i]->name, p[i]->description);
	printf("Links:\n");
	l = cove_link_types(&n);
	for (i = 0; i < n; i++)
		printf("  %-10s %s\n", l[i]->kind, l[i]->usage);
	return 0;
}

static const struct cove_cmd stacks_cmd = {
	.name = "stacks",
	.summary = "list the stack providers and links built in",
	.main = stacks_main,
};
COVE_COMMAND(stacks_cmd);
