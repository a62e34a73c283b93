// SPDX-License-Identifier: Apache-2.0
/* What the runtime and the sentry share: interface names and the step log. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/clock.h"
#include "common/sandbox.h"

/*
 * Time zero of the step log. The runtime sets it before it forks the
 * sentry, which inherits it, so both sides' lines count from one start.
 */
static uint64_t sbx_t0;

void sbx_step_start(void)
{
	sbx_t0 = cove_now_us();
}

void sbx_step(const struct sbx_opts *o, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	uint64_t t;

	if (!o->verbose)
		return;
	t = cove_now_us() - sbx_t0;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "cove run: [%4llu.%03llu ms] %s\n",
		(unsigned long long)(t / 1000), (unsigned long long)(t % 1000),
		line);
}

void sbx_veth_names(struct in_addr ip, char host[16], char peer[16])
{
	uint32_t a = ntohl(ip.s_addr);

	snprintf(host, 16, "cv%08x", a);
	snprintf(peer, 16, "cs%08x", a);
}
