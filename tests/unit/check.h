/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny unit-test harness: CHECK() records failures, RUN() names cases. */
#ifndef COVE_TESTS_CHECK_H
#define COVE_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures;
static int check_cases;

/* CHECK() - record a failure with its location; the case goes on. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			check_failures++;                                      \
		}                                                              \
	} while (0)

/* REQUIRE() - like CHECK(), but stop the whole test program. */
#define REQUIRE(cond)                                                  \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", \
				__FILE__, __LINE__, #cond);            \
			exit(1);                                       \
		}                                                      \
	} while (0)

#define RUN(fn)                                                            \
	do {                                                               \
		int before_ = check_failures;                              \
		check_cases++;                                             \
		fn();                                                      \
		fprintf(stderr, "%s %s\n",                                 \
			check_failures == before_ ? "ok  " : "FAIL", #fn); \
	} while (0)

static inline int check_summary(void)
{
	fprintf(stderr, "%d cases, %d failed checks\n", check_cases,
		check_failures);
	return check_failures ? 1 : 0;
}

#endif
