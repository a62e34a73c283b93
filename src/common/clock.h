/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one monotonic clock of Cove's own code. Every timer, deadline, step
 * log and trace reads CLOCK_MONOTONIC through these, so their readings
 * compare with each other (and with `monotonic` in --verbose lines).
 */
#ifndef COVE_COMMON_CLOCK_H
#define COVE_COMMON_CLOCK_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

/* cove_now_ns() - CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t cove_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* cove_now_us() - CLOCK_MONOTONIC in microseconds. */
static inline uint64_t cove_now_us(void)
{
	return cove_now_ns() / 1000u;
}

/*
 * cove_now_ms() - CLOCK_MONOTONIC in milliseconds, signed: deadlines in ms
 * are compared and subtracted (cove_ms_left()).
 */
static inline int64_t cove_now_ms(void)
{
	return (int64_t)(cove_now_ns() / 1000000u);
}

/*
 * cove_ms_left() - milliseconds from now to @deadline (a cove_now_ms()
 * reading), clamped to 0..INT_MAX: a poll() timeout.
 */
static inline int cove_ms_left(int64_t deadline)
{
	int64_t left = deadline - cove_now_ms();

	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

#endif /* COVE_COMMON_CLOCK_H */
