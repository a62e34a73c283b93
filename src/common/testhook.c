// SPDX-License-Identifier: Apache-2.0
/* Test hooks read from the environment (theory: testhook.h). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/testhook.h"

/* hook_value() - COVE_TEST_@name from the environment, or NULL. */
static const char *hook_value(const char *name)
{
	static const char *const known[] = { COVE_TEST_HOOKS };
	char var[64];
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i], name))
			break;
	/* An unlisted name is a bug in Cove, not input. */
	assert(i < sizeof(known) / sizeof(known[0]));
	snprintf(var, sizeof(var), "COVE_TEST_%s", name);
	return getenv(var);
}

bool cove_test_hook_set(const char *name)
{
	const char *v = hook_value(name);

	return v && *v;
}

int cove_test_hook_num(const char *name, long max, long *val)
{
	const char *v = hook_value(name);
	char *end;

	if (!v || !*v)
		return 0;
	errno = 0;
	*val = strtol(v, &end, 10);
	if (errno || *end || *val < 0 || *val > max)
		return -1;
	return 1;
}
