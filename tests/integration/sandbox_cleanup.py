#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Clean-up on every exit path: a killed sentry, a killed cove run, cove gc,
the next cove run collecting stale state, 10 sandboxes at once, 50 in a
row. Processes are checked through the sentries: a sandbox's processes
cannot outlive its sentry, the PID 1 of their pid namespace.
"""

import os
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402


def main():
    c = sb.Checks()
    net = sb.stacks()[0] if sb.stacks() else "host"
    before = sb.Snapshot()

    # SIGKILL of the sentry: cove run reports it and cleans up.
    box = sb.Sandbox(["sleep", "100"], network=net).start()
    pid = box.sentry_pid()
    c.check("sentry pid recorded", pid is not None)
    os.kill(pid, signal.SIGKILL)
    rc = box.proc.wait(10)
    box.stop()
    msg = "".join(box.log)
    c.check("sentry killed: cove run exits 125", rc == 125, str(rc))
    c.check("sentry killed: one clear message",
            "killed by signal 9" in msg, msg[-300:])
    left = sb.settle(before)
    c.check("sentry killed: nothing left behind", not left, str(left))

    # SIGKILL of cove run: the sandbox dies with it, cove gc cleans state
    # and the published port's nftables table.
    box = sb.Sandbox(["sleep", "100"], network=net,
                     extra=["--publish",
                            "%d:80" % sb.free_port("127.0.0.1")]).start()
    name, spid = box.name, box.sentry_pid()
    box.proc.kill()
    box.proc.wait()
    sb._live.remove(box)
    time.sleep(0.3)
    c.check("cove run killed: the sentry died too",
            not os.path.exists("/proc/%d" % spid) or
            open("/proc/%d/stat" % spid).read().split()[2] == "Z")
    c.check("cove run killed: state stays until gc",
            os.path.isdir("/run/cove/" + name))
    c.check("cove run killed: nft table stays until gc",
            sb.Snapshot().diff(before).get("nft"))
    r = subprocess.run([sb.cove_bin(), "gc", "--verbose"],
                       capture_output=True, text=True)
    c.check("cove gc cleans it", r.returncode == 0 and
            "1 sandbox cleaned" in r.stdout and name in r.stderr,
            r.stdout + r.stderr)
    left = sb.settle(before)
    c.check("after gc: nothing left behind", not left, str(left))

    # The next cove run collects stale state by itself.
    box = sb.Sandbox(["sleep", "100"], network=net).start()
    name = box.name
    box.proc.kill()
    box.proc.wait()
    sb._live.remove(box)
    r = sb.run(["--network=" + net, "--", "true"])
    c.check("next cove run collects stale state",
            r.returncode == 0 and not os.path.exists("/run/cove/" + name),
            r.stderr)

    # 10 sandboxes at once: distinct addresses, all cleaned.
    procs = [subprocess.Popen([sb.cove_bin(), "run", "--network=" + net,
                               "--", "sh", "-c", "hostname -i; sleep 0.5"],
                              stdout=subprocess.PIPE, text=True)
             for _ in range(10)]
    addrs = [p.communicate(timeout=60)[0].strip() for p in procs]
    c.check("10 at once: distinct addresses",
            len(set(addrs)) == 10 and all(p.returncode == 0 for p in procs),
            str(addrs))
    left = sb.settle(before)
    c.check("after 10 at once: nothing left behind", not left, str(left))

    # 200 sandboxes in a row, on the default stack: all succeed and leave
    # nothing behind, looked at every 50 (leaked state would show as it
    # grows, not only at the end). How long they take is printed for
    # information only: a wall-clock bound is make bench's job, and it
    # failed here on a loaded machine without any leak.
    times = []
    ok = 0
    grew = []
    for i in range(200):
        t = time.monotonic()
        if sb.run(["--network=" + net, "--", "true"]).returncode == 0:
            ok += 1
        times.append(time.monotonic() - t)
        if i % 50 == 49:
            left = sb.settle(before)
            if left:
                grew.append("after %d: %s" % (i + 1, left))
    first = statistics.median(times[:50]) * 1000
    last = statistics.median(times[-50:]) * 1000
    c.check("200 sandboxes in a row (for information: median %.1f ms, "
            "then %.1f ms)" % (first, last), ok == 200, "%d of 200" % ok)
    c.check("200 sandboxes: nothing left behind at 50, 100, 150, 200",
            not grew, "; ".join(grew))
    left = sb.settle(before)
    c.check("after 200: nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
