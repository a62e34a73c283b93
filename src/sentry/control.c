// SPDX-License-Identifier: Apache-2.0
/* The sentry's end of the control channel: it listens, the runtime dials. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "control/control.h"
#include "control/cove.pb-c.h"
#include "sentry/sentry.h"

/*
 * Theory of operation
 *
 * The sentry serves the control channel (src/control/, docs/CONTROL.md)
 * on /run/cove/NAME/control.sock, owner uid only. The listener is up
 * before the sentry reports "started", so `cove run` dials it without a
 * single retry. Today the sandbox answers cove.Hello (in the library) and
 * cove.Health; process management (Create/Start/Exec/Wait) is for later
 * verbs. The server's epoll fd sits in the sentry's epoll set.
 */

/* sbx_ctl_health() - cove.Health: SERVING while the program runs. */
static void sbx_ctl_health(void *opaque, const struct cove_ctl_call *call,
			   const uint8_t *req, size_t len,
			   struct cove_ctl_reply *rep)
{
	struct sentry *sn = opaque;
	Cove__Control__HealthResponse r = COVE__CONTROL__HEALTH_RESPONSE__INIT;
	size_t n;

	(void)call;
	(void)req;
	(void)len;
	r.state = sn->child_done ? COVE__CONTROL__HEALTH_RESPONSE__STATE__STOPPING :
				   COVE__CONTROL__HEALTH_RESPONSE__STATE__SERVING;
	n = cove__control__health_response__get_packed_size(&r);
	rep->payload = malloc(n ? n : 1);
	if (!rep->payload) {
		rep->code = COVE__CONTROL__CODE__RESOURCE_EXHAUSTED;
		return;
	}
	rep->len = cove__control__health_response__pack(&r, rep->payload);
}

static const struct cove_ctl_method sbx_ctl_methods[] = {
	{ "cove.Health", sbx_ctl_health },
	{ NULL, NULL },
};

static void sbx_ctl_log(void *opaque, const char *line)
{
	struct sentry *sn = opaque;

	if (sn->o->verbose)
		fprintf(stderr, "cove sentry: control: %s\n", line);
}

int sbx_control_start(struct sentry *sn, struct cove_err *err)
{
	struct cove_ctl_server_cfg cfg = {
		.owner_uid = getuid(),
		.sandbox = sn->o->name,
		.methods = sbx_ctl_methods,
		.opaque = sn,
		.log = sbx_ctl_log,
	};
	struct cove_ctl_addr a;

	if (cove_ctl_addr_parse("unix", sn->o->name, &a, err) < 0 ||
	    cove_ctl_server_new(&cfg, &sn->ctl, err) < 0 ||
	    cove_ctl_server_listen(sn->ctl, &a, err) < 0)
		return cove_err_prefix(err, "control channel");
	return 0;
}

void sbx_control_run(struct sentry *sn)
{
	if (sn->ctl)
		(void)cove_ctl_server_run(sn->ctl, 0);
}

int sbx_control_fd(const struct sentry *sn)
{
	return sn->ctl ? cove_ctl_server_fd(sn->ctl) : -1;
}
