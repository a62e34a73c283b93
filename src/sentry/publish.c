// SPDX-License-Identifier: Apache-2.0
/* --publish: host port forwarding (not implemented yet). */
#include <errno.h>

#include "sentry/sandbox.h"

int sbx_publish_add(const struct sbx_opts *o, struct cove_err *err)
{
	(void)o;
	return cove_err_set(err, ENOTSUP,
			    "--publish is not implemented yet; reach the sandbox at its address instead");
}

void sbx_publish_del(const char *name)
{
	(void)name;
}
