// SPDX-License-Identifier: Apache-2.0
/* libFuzzer: the cove.conf parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "control/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cove_config cfg;
	struct cove_err err;

	cove_config_defaults(&cfg);
	if (cove_config_parse((const char *)data, size, "fuzz.conf", &cfg,
			      &err) == 0) {
		/* a configuration that parsed is one the dialer can use */
		if (cfg.dial_retry_initial_ms > cfg.dial_retry_max_ms ||
		    cfg.control_max_frame > COVE_CTL_FRAME_MAX ||
		    cfg.dial_deadline_ms == 0)
			__builtin_trap();
		/* pools cove run can allocate from (opts.c, ipam.c) */
		if (cfg.pool_prefix < 8 || cfg.pool_prefix > 30 ||
		    cfg.pool6_prefix < 8 || cfg.pool6_prefix > 64)
			__builtin_trap();
	} else if (!memchr(err.msg, '\0', sizeof(err.msg)) ||
		   strncmp(err.msg, "fuzz.conf", 9) != 0) {
		__builtin_trap(); /* every error names the file */
	}
	return 0;
}
