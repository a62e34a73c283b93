// SPDX-License-Identifier: Apache-2.0
/* Print CLOCK_MONOTONIC in ns: when a sandboxed program started running. */
#include <stdio.h>
#include <time.h>

/*
 * The start-latency benchmark runs this (statically linked, so it also runs
 * in runc's busybox rootfs) as the sandboxed program: the printed time
 * minus the time the runtime was spawned is "runtime start to program
 * running". CLOCK_MONOTONIC is the same clock inside and outside the
 * sandbox (no time namespace is used).
 */
int main(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("%lld\n", (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec);
	return 0;
}
