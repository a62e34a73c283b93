/* SPDX-License-Identifier: Apache-2.0 */
/* Test hooks: the one way tests reach into the behaviour of product code. */
#ifndef COVE_COMMON_TESTHOOK_H
#define COVE_COMMON_TESTHOOK_H

#include <stdbool.h>

/*
 * Theory of operation
 *
 * A test hook is an environment variable COVE_TEST_<NAME> that makes Cove
 * do something a test needs and a user never asks for. Product code reads
 * them only through cove_test_hook_num() and cove_test_hook_set(), and only
 * names listed in COVE_TEST_HOOKS, so `grep cove_test_hook` finds every
 * place a test can steer and this list says what each does:
 *
 *   COVE_TEST_NO_READY_FD      runtime.c: ignore the sentry's readiness
 *                              pipe; the retrying dialer alone must find
 *                              the control listener (control_run_delay.py)
 *   COVE_TEST_LISTEN_DELAY_MS  sentry.c: hold the control listener back by
 *                              0..2000 ms (control_run_delay.py)
 *   COVE_TEST_SENTRY_FILTER_LOG confine.c: the sentry's own seccomp filter
 *                              logs the calls it would kill for, instead
 *                              of killing (finding a call the list misses)
 *   COVE_TEST_SPILL_FAILS      socktab.c: the first N (0..100) allocations
 *                              of the relay's spill buffers fail, so the
 *                              relay must hold back rather than drop bytes
 *                              (sandbox_bulk.py)
 *
 * Tools that exist only for tests are not hooks: they live in tests/tools/
 * (cove-ctl-dialtest) and are never installed.
 */
#define COVE_TEST_HOOKS \
	"NO_READY_FD", "LISTEN_DELAY_MS", "SPILL_FAILS", "SENTRY_FILTER_LOG"

/**
 * cove_test_hook_set() - is hook @name (without COVE_TEST_) set, non-empty?
 * @name:	one of COVE_TEST_HOOKS
 *
 * Return: true if the environment sets it.
 */
bool cove_test_hook_set(const char *name);

/**
 * cove_test_hook_num() - the value of a numeric hook (a time, a count)
 * @name:	one of COVE_TEST_HOOKS
 * @max:	the largest value accepted
 * @val:	set to the value
 *
 * Return: 1 when set to 0..@max, 0 when not set, -1 when set to anything
 * else (the caller says it ignores it).
 */
int cove_test_hook_num(const char *name, long max, long *val);

#endif /* COVE_COMMON_TESTHOOK_H */
