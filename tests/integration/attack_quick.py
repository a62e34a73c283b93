#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The attack suite's quick form (tests/attack/attack.py --quick).

Every attack runs against builtin and lwip (cove-plugin) on a veth by
AF_PACKET while a legitimate client works (docs/SECURITY.md, "Attack
suite"). Asserted:

  - builtin: no attack disturbs the legitimate connections;
  - lwip: the same, except the limit pinned in LWIP_SPOOFED_ON_LINK
    (docs/SECURITY.md, docs/PLUGINS.md): floods from spoofed sources of
    the local subnet push the real peer out of lwIP's 10-entry ARP table,
    and a frame queued for it can be lost, so those attacks may stall the
    client by a retransmission or two (measured 1.0 to 2.2 s) but never
    reset it, inject into it or refuse it: allowed there are stalls with
    no error, each exchange under LWIP_STALL_MAX_S;
  - the control (valid data at RCV.NXT, as an on-path attacker would
    send) disturbs both, so the suite does see an injection that lands
    (the stream stalls: the echoed bytes acknowledge data the client
    never sent, and its kernel drops them);
  - memory stays bounded: no attack leaves either server's RSS more than
    RSS_GROWTH_KIB above where it started, or its stack memory (socket
    buffers and held frames) above STACK_MEM_AFTER;
  - builtin gives memory back: no attack leaves its RSS more than
    BUILTIN_RSS_KEPT_KIB above where that attack started (the
    zero-window peers take it 10 MiB up; their rings are unmapped and
    the heap trimmed when they go, docs/TCP.md, Memory budget).

Skipped, and says so, only when the build was configured -Dplugin=false
(then builtin alone runs).
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.join(HERE, "..", "..")

CONTROL = "control: valid data at RCV.NXT (must disturb)"
# the attacks that send from spoofed sources of the local subnet
LWIP_SPOOFED_ON_LINK = {"fragments: tiny", "fragments: never completed",
                        "floods to closed ports",
                        "SYN flood, spoofed sources", "ACK flood"}
LWIP_STALL_MAX_S = 5.0	# a SYN's first two retries come at 1 s and 3 s
RSS_GROWTH_KIB = 32 << 10	# 32 MiB over the whole run
STACK_MEM_AFTER = 8 << 20	# after an attack's settle time
BUILTIN_RSS_KEPT_KIB = 4 << 10	# one attack's RSS left over, builtin


def plugin_built(build):
    """Is cove-plugin there (or was it configured out)?"""
    if os.path.exists(os.path.join(build, "src", "cli", "cove-plugin")):
        return True
    r = subprocess.run(["meson", "introspect", "--buildoptions", build],
                       capture_output=True, text=True)
    opts = {o["name"]: o["value"] for o in json.loads(r.stdout or "[]")}
    if opts.get("plugin") is False:
        print("SKIP lwip: %s was configured with -Dplugin=false" % build)
        return False
    raise SystemExit("FAIL: cove-plugin missing but -Dplugin is not false")


def main():
    build = os.environ.get("COVE_BUILD") or os.path.join(TOP, "build")
    targets = ["builtin"] + (["lwip"] if plugin_built(build) else [])
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        r = subprocess.run(["/usr/bin/python3",
                            os.path.join(TOP, "tests", "attack", "attack.py"),
                            "--quick", "--targets", ",".join(targets),
                            "--json", out.name],
                           env=dict(os.environ, COVE_BUILD=build))
        if r.returncode != 0:
            print("FAIL: attack.py exited %d" % r.returncode)
            return 1
        rows = json.load(open(out.name))["rows"]
    failed = 0
    start = {}
    for row in rows:
        name, target = row["attack"], row["target"]
        start.setdefault(target, row["rss_kib"][0])
        problems = []
        if name == CONTROL:
            # the echoed bytes ACK data the client never sent, so its
            # kernel drops them and the stream stalls, or they reach it
            if row["result"] != "disturbed":
                problems.append("the client saw no injection (%s): the "
                                "suite cannot see one" % row["result"])
        elif target == "lwip" and name in LWIP_SPOOFED_ON_LINK:
            slowest = max(row.get("echo_max", 0), row.get("conn_max", 0),
                          row.get("pending", 0))
            if row.get("errors") or row["result"] == "error" or \
                    slowest > LWIP_STALL_MAX_S or not row.get("echoes") or \
                    not row.get("conns") or "server died" in row["why"]:
                problems.append("%s beyond the pinned limit (stalls only, "
                                "under %.0f s): %s" % (
                                    row["result"], LWIP_STALL_MAX_S,
                                    row["why"]))
        elif row["result"] != "held":
            problems.append("%s: %s" % (row["result"], row["why"]))
        if row["rss_kib"][2] - start[target] > RSS_GROWTH_KIB:
            problems.append("RSS %d KiB after, %d at the start" %
                            (row["rss_kib"][2], start[target]))
        if target == "builtin" and \
                row["rss_kib"][2] - row["rss_kib"][0] > BUILTIN_RSS_KEPT_KIB:
            problems.append("RSS %d KiB before, %d at the peak, %d after: "
                            "not given back" % tuple(row["rss_kib"]))
        if row["mem"][2] > STACK_MEM_AFTER:
            problems.append("stack memory %d bytes after" % row["mem"][2])
        label = "%s: %s" % (target, name)
        if problems:
            failed += 1
            print("FAIL %-50s %s" % (label, "; ".join(problems)))
        else:
            print("PASS %-50s %s" % (label, row["result"]))
    attacks = {r["attack"] for r in rows}
    for name in LWIP_SPOOFED_ON_LINK | {CONTROL}:
        if name not in attacks:
            failed += 1
            print("FAIL %s: named here but not run" % name)
    print("%d passed, %d failed" % (len(rows) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
