/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one monotonic clock of Cove's own code. Every timer, deadline, step
 * log and trace reads CLOCK_MONOTONIC through these, so their readings
 * compare with each other (and with `monotonic` in --verbose lines).
 */
#ifndef COVE_COMMON_CLOCK_H
#define COVE_COMMON_CLOCK_H

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

/* cove_now_ms() - CLOCK_MONOTONIC in milliseconds. */
static inline uint64_t cove_now_ms(void)
{
	return cove_now_ns() / 1000000u;
}

#endif /* COVE_COMMON_CLOCK_H */
