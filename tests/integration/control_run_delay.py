#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""`cove run` reaches a late control listener at once, without spinning.

The sentry's test hook (src/common/testhook.h) COVE_TEST_LISTEN_DELAY_MS holds its control
listener, and so the readiness byte, back by 0, 50, 200 and 500 ms. Each
delay runs twice per path: with the readiness fd (the normal path: a
blocking wait, then one dial) and with COVE_TEST_NO_READY_FD=1, where the
retrying dialer alone must find the listener. From the --verbose lines

    sentry: control: listening (monotonic S.US s)
    control: connected after N attempts via WHAT (monotonic S.US s;
        waited W ms, cpu C ms)

    control: dial schedule: pauses P,P,... ms; last two attempts at
        monotonic A s and B s

it checks the schedule the dialer followed, not a wall clock (latency is
make bench's job): no pause longer than the retry cap (10 ms), no attempt
but the last started after listen(), so each run connected at its first
attempt after listen, at most one capped pause later; the pauses double
from 1 ms, start over after the readiness fd woke the dialer, and really
slept (the wait was at least their sum). It also checks that the knob
really delayed (waited >= delay), that the dialer path retried, that the
program's exit status still comes back (over cove.Wait) and that an
out-of-range knob is ignored. Nothing is left in /run/cove.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import dialsched  # noqa: E402
import sandbox as sb  # noqa: E402

DELAYS_MS = [0, 50, 200, 500]
REPEAT = 2

LISTEN_RE = re.compile(r"sentry: control: listening \(monotonic (\d+)\.(\d{6}) s\)")
CONN_RE = re.compile(r"control: connected after (\d+) attempts via ([a-z ]+) "
                     r"\(monotonic (\d+)\.(\d{6}) s; waited ([0-9.]+) ms, "
                     r"cpu ([0-9.]+) ms\)")
SCHED_RE = re.compile(r"control: dial schedule: pauses ([0-9e,]*|none) ms"
                      r"(; \+(\d+) more)?; last two attempts at monotonic "
                      r"(\d+)\.(\d{6}) s and (\d+)\.(\d{6}) s")


def one_run(delay_ms, ready, status=0):
    env = dict(os.environ, COVE_TEST_LISTEN_DELAY_MS=str(delay_ms))
    env.pop("COVE_TEST_NO_READY_FD", None)
    if not ready:
        env["COVE_TEST_NO_READY_FD"] = "1"
    r = subprocess.run([sb.cove_bin(), "run", "--verbose", "--", "sh", "-c",
                        "exit %d" % status], env=env, capture_output=True,
                       text=True, timeout=30)
    lm = LISTEN_RE.search(r.stderr)
    cm = CONN_RE.search(r.stderr)
    sm = SCHED_RE.search(r.stderr)
    if not lm or not cm or not sm:
        raise RuntimeError("no control lines (rc %d):\n%s" % (r.returncode,
                                                              r.stderr))
    t_listen = int(lm.group(1)) * 1e6 + int(lm.group(2))
    t_conn = int(cm.group(3)) * 1e6 + int(cm.group(4))
    pauses = [] if sm.group(1) == "none" else sm.group(1).split(",")
    return {
        "pauses": [int(p.rstrip("e")) for p in pauses],
        "early": [p.endswith("e") for p in pauses],
        "dropped": int(sm.group(3) or 0),
        "t_listen": t_listen,
        "t_prev": int(sm.group(4)) * 1e6 + int(sm.group(5)),
        "delay": delay_ms, "ready": ready, "rc": r.returncode,
        "latency_ms": (t_conn - t_listen) / 1000.0,
        "attempts": int(cm.group(1)), "via": cm.group(2),
        "wait_ms": float(cm.group(5)), "cpu_ms": float(cm.group(6)),
        "stderr": r.stderr,
    }


def schedule_faults(r):
    """Return what in run r's dial schedule breaks the dialer's promises."""
    # One readiness byte can end one pause early.
    return dialsched.faults(r["pauses"], r["early"], r["attempts"],
                            r["dropped"], r["t_prev"], r["t_listen"],
                            r["wait_ms"], max_early=1)


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    runs = []
    for ready in (True, False):
        for d in DELAYS_MS:
            for _ in range(REPEAT):
                r = one_run(d, ready)
                runs.append(r)
                print("%-5s delay %3d ms: connected %6.2f ms after listen "
                      "via %s, %2d attempts, waited %6.1f ms, cpu %5.2f ms, "
                      "rc %d" % ("ready" if ready else "dial", d,
                                 r["latency_ms"], r["via"], r["attempts"],
                                 r["wait_ms"], r["cpu_ms"], r["rc"]))
    for r in runs:
        name = "%s delay %d" % ("ready" if r["ready"] else "dial", r["delay"])
        c.check(name + ": exit 0", r["rc"] == 0, r["stderr"])
        faults = schedule_faults(r)
        c.check(name + ": the dial kept its schedule", not faults,
                "; ".join(faults))
        c.check(name + ": the knob delayed the listener",
                r["wait_ms"] >= r["delay"], "waited %.1f ms" % r["wait_ms"])
        if r["ready"]:
            c.check(name + ": readiness fd, one dial",
                    r["via"] == "readiness fd" and r["attempts"] == 1,
                    "%s, %d attempts" % (r["via"], r["attempts"]))
        else:
            c.check(name + ": the dialer found it",
                    r["via"] == "dialer" and
                    (r["delay"] == 0 or r["attempts"] > 1),
                    "%s, %d attempts" % (r["via"], r["attempts"]))
    delayed = [r for r in runs if r["delay"]]
    share = sum(r["cpu_ms"] for r in delayed) / sum(r["wait_ms"]
                                                   for r in delayed)
    print("for information, not asserted: cpu while waiting %.2f%% over "
          "%d delayed runs" % (share * 100,
                                                            len(delayed)))

    r = one_run(200, True, status=3)
    c.check("exit status 3 comes back over cove.Wait",
            r["rc"] == 3 and "control: main exited, status 3" in r["stderr"],
            r["stderr"])
    env = dict(os.environ, COVE_TEST_LISTEN_DELAY_MS="5000")
    p = subprocess.run([sb.cove_bin(), "run", "--verbose", "--", "true"],
                       env=env, capture_output=True, text=True, timeout=30)
    c.check("an out-of-range delay is ignored",
            p.returncode == 0 and "ignored (0..2000)" in p.stderr, p.stderr)
    sb.settle(before)
    c.check("nothing left behind", not sb.Snapshot().diff(before),
            sb.Snapshot().diff(before))
    return c.exit()


if __name__ == "__main__":
    sys.exit(main())
