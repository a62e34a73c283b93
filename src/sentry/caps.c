// SPDX-License-Identifier: Apache-2.0
/* The program's capability sets (cove run's allow list; spawn.c, exec.c). */
#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sentry/sentry.h"

/**
 * sbx_caps_limit() - cut the bounding set to @bound, the others to @keep
 * @bound:	capabilities the bounding set may keep (bits by number);
 *		~0: leave it (cutting it needs CAP_SETPCAP)
 * @keep:	capabilities effective, permitted and inheritable may keep
 *
 * The bounding set first, so nothing outside it can come back through an
 * exec; then the other three in one capset(). `cove run` cuts the bounding
 * set at once and keeps CAP_SETUID/CAP_SETGID in the others until --user
 * (or an exec'd command's user) is set, as runc does with a spec's sets.
 *
 * Return: 0 or negative errno.
 */
int sbx_caps_limit(uint64_t bound, uint64_t keep)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	unsigned i;
	int c;

	for (c = 0; c < 64; c++)
		if (!(bound & (1ull << c)) &&
		    prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			(void)prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	for (i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));

		d[i].effective &= k;
		d[i].permitted &= k;
		d[i].inheritable &= k;
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}
