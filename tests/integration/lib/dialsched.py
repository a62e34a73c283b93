# SPDX-License-Identifier: Apache-2.0
"""The control dialer's retry schedule, as tests check it.

Theory of operation: the dialer (src/control/dial.c) records each pause it
chose between attempts and whether a wake source ended it early (the
readiness fd). A schedule is right when the pauses start at the initial
delay, double up to the cap, restart from the initial delay after an early
wake, and when no attempt started after the listener was up. Tests compare
these recorded choices, never wall-clock latency, so they hold on a busy
machine (latency is measured by `make bench`).
"""

RETRY_INITIAL_MS = 1   # src/control/config.c: dial_retry_initial_ms
RETRY_MAX_MS = 10      # src/control/config.c: dial_retry_max_ms


def faults(pauses, early, attempts, dropped, t_prev, t_listen, wait_ms,
           max_early):
    """Return what in one dial's schedule breaks the dialer's promises.

    pauses/early: the recorded pauses in ms and their early-wake flags;
    attempts: connect attempts made; dropped: pauses the trace could not
    hold; t_prev, t_listen: start of the last failed attempt and the
    listen() time, in one unit (only compared); wait_ms: the dial's wall
    time; max_early: how many early wakes the caller's setup allows.
    """
    bad = []
    if not dropped and len(pauses) != attempts - 1:
        bad.append("%d pauses for %d attempts" % (len(pauses), attempts))
    want = RETRY_INITIAL_MS
    for i, p in enumerate(pauses):
        if p != want:
            bad.append("pause %d is %d ms, the schedule says %d" % (i, p, want))
            break
        want = RETRY_INITIAL_MS if early[i] else min(2 * p, RETRY_MAX_MS)
    if pauses and max(pauses) > RETRY_MAX_MS:
        bad.append("a pause of %d ms > cap %d ms" % (max(pauses),
                                                     RETRY_MAX_MS))
    if attempts > 1 and t_prev and t_prev >= t_listen:
        bad.append("an attempt after listen() failed")
    slept = sum(p for p, e in zip(pauses, early) if not e)
    if not dropped and wait_ms < 0.9 * slept:
        bad.append("dial took %.1f ms, under its %d ms of full pauses: a "
                   "pause did not sleep" % (wait_ms, slept))
    if sum(early) > max_early:
        bad.append("%d pauses ended early (> %d): spinning on a wake "
                   "source" % (sum(early), max_early))
    return bad
