#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cove run after set-up: only the capabilities teardown needs, and the
teardown still leaves nothing of its sandbox behind.

While the program runs, /proc/PID/status of the waiting `cove run` must
show CAP_NET_ADMIN alone in the effective, permitted and bounding sets
(plus CAP_SYS_ADMIN with --netns on a link-based stack), none
inheritable or ambient, and no_new_privs. Then each way a run ends (the
program exits; cove run gets SIGTERM; the sentry is killed, so cove run
kills and reaps and undoes a --netns itself) must remove what this
sandbox made: its state dir, the host end of its veth, its --publish nft
table, its --memory cgroup, and, with --netns, the qdisc it put on the
netns's interface. Only this test's sandboxes are looked at (others may
run on the machine meanwhile).
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402
import netns  # noqa: E402

CAP_NET_ADMIN = 1 << 12
CAP_SYS_ADMIN = 1 << 21


def caps(pid):
    """The Cap* and NoNewPrivs lines of /proc/PID/status as ints."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k.startswith("Cap"):
                out[k] = int(v.strip(), 16)
            elif k == "NoNewPrivs":
                out[k] = int(v.strip())
    return out


def confined(pid, want):
    """Wait (briefly) for cove run to drop to @want; return its caps."""
    end = time.monotonic() + 5
    c = caps(pid)
    while c.get("CapEff") != want and time.monotonic() < end:
        time.sleep(0.05)
        c = caps(pid)
    return c


def leftovers(box, publish, memory):
    """What of @box's sandbox is still there, after its teardown had time."""
    hexip = sb._ip_hex(box.ip)
    end = time.monotonic() + 15
    while True:
        left = []
        if os.path.exists("/run/cove/" + box.name):
            left.append("state dir")
        if os.path.exists("/sys/class/net/cv" + hexip):
            left.append("veth cv" + hexip)
        if publish:
            r = subprocess.run(["nft", "list", "table", "ip",
                                "cove_" + hexip], capture_output=True)
            if r.returncode == 0:
                left.append("nft table")
        if memory:
            for d in ("/sys/fs/cgroup/cove/", "/sys/fs/cgroup/memory/cove/"):
                if os.path.isdir(d + box.name):
                    left.append("cgroup " + d + box.name)
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.1)


def one(c, net, how, extra, publish=False, memory=False):
    """A sandbox running sleep, ended @how; check caps, then leftovers."""
    tag = "%s, %s%s%s" % (net, how, ", --publish" if publish else "",
                          ", --memory" if memory else "")
    args = list(extra)
    if publish:
        args += ["--publish", "%d:80" % sb.free_port("127.0.0.1")]
    if memory:
        args += ["--memory", "256m"]
    box = sb.Sandbox(["sleep", "3" if how == "exit" else "60"],
                     network=net, extra=args).start()
    got = confined(box.proc.pid, CAP_NET_ADMIN)
    c.check(tag + ": CapEff, CapPrm, CapBnd are CAP_NET_ADMIN alone",
            got.get("CapEff") == CAP_NET_ADMIN and
            got.get("CapPrm") == CAP_NET_ADMIN and
            got.get("CapBnd") == CAP_NET_ADMIN, str(got))
    c.check(tag + ": nothing inheritable or ambient, no_new_privs",
            got.get("CapInh") == 0 and got.get("CapAmb") == 0 and
            got.get("NoNewPrivs") == 1, str(got))
    if how == "exit":
        rc = box.proc.wait(20)
        want = 0
    elif how == "SIGTERM":
        rc = box.stop(signal.SIGTERM)
        want = 128 + signal.SIGTERM
    else:
        os.kill(box.sentry_pid(), signal.SIGKILL)
        rc = box.proc.wait(20)
        want = 125
    box.stop()
    c.check(tag + ": exit status %d" % want, rc == want,
            str(rc) + " " + "".join(box.log)[-400:])
    left = leftovers(box, publish, memory)
    c.check(tag + ": teardown left nothing", not left, str(left))


def netns_case(c, net):
    """--netns: CAP_SYS_ADMIN kept, and used: a killed sentry's qdisc on
    the netns's interface is removed by the confined cove run."""
    ns = netns.Netns(netns.unique("privns"))
    host_if = "cvo%d" % (os.getpid() % 100000)
    try:
        netns.sh("ip", "link", "add", host_if, "type", "veth", "peer",
                 "name", "eth0", "netns", ns.name)
        netns.sh("ip", "addr", "add", "10.89.8.1/24", "dev", host_if)
        netns.sh("ip", "link", "set", host_if, "up")
        ns.ip("addr", "add", "10.89.8.2/24", "dev", "eth0")
        ns.ip("link", "set", "eth0", "up")
        qdisc0 = ns.run("tc", "qdisc", "show", "dev", "eth0").stdout
        box = sb.Sandbox(["sleep", "60"], network=net,
                         extra=["--netns", "/run/netns/" + ns.name]).start()
        want = CAP_NET_ADMIN | CAP_SYS_ADMIN
        got = confined(box.proc.pid, want)
        c.check("--netns: CAP_NET_ADMIN and CAP_SYS_ADMIN alone",
                got.get("CapEff") == want and got.get("CapBnd") == want and
                got.get("CapPrm") == want and got.get("NoNewPrivs") == 1,
                str(got))
        c.check("--netns: the sentry's qdisc is there",
                ns.run("tc", "qdisc", "show", "dev", "eth0").stdout != qdisc0)
        os.kill(box.sentry_pid(), signal.SIGKILL)
        rc = box.proc.wait(20)
        box.stop()
        c.check("--netns, sentry killed: exit status 125", rc == 125, str(rc))
        c.check("--netns, sentry killed: the confined cove run undid the "
                "netns", ns.run("tc", "qdisc", "show", "dev",
                                "eth0").stdout == qdisc0)
        c.check("--netns: state dir removed",
                not os.path.exists("/run/cove/" + box.name))
    finally:
        ns.delete()
        netns.sh("ip", "link", "del", host_if, check=False)


def main():
    c = sb.Checks()
    link_stacks = [n for n in sb.stacks() if n != "kernel"]
    net = link_stacks[0] if link_stacks else "kernel"
    one(c, net, "exit", [])
    one(c, net, "exit", [], publish=True, memory=True)
    one(c, net, "SIGTERM", [], publish=True)
    one(c, net, "sentry killed", [], publish=True, memory=True)
    one(c, "kernel", "exit", [])
    if link_stacks:
        netns_case(c, net)
    c.exit()


if __name__ == "__main__":
    main()
