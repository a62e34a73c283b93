# SPDX-License-Identifier: Apache-2.0
"""Stacks in isolation: `cove stack-serve` beside the kernel, same link.

No sandbox and no frontend: each stack serves echo, discard and http on
one end of a veth pair, a Linux client in another netns drives it (see
stack_bench.py for the set-up). The kernel row is the kernel serving the
same transfers on the same kind of link, and the denominator of the
ratios. This is the issue's "builtin at least 0.8x the kernel" figure;
the sandbox rows in bench.py add the frontend's cost on top.

Link-based stacks get their interface to themselves (an nft ingress drop
after AF_PACKET's copy, stack_bench --own-link), exactly as `cove run`
detaches eth0 from the sandbox's kernel; otherwise that kernel routes and
rejects every frame the stack owns and the stack is charged for it.
Family 6 runs the same transfers over IPv6 (stack_bench.measure(...,
family=6): --addr6 for the stack, the client to its IPv6 address).
"""

import os

import stack_bench

PROFILE = {"full": (512, 20000), "quick": (64, 4000), "tiny": (8, 300)}
MiB = 1 << 20


def measure(stack, cove, profile, family=4, link="packet"):
    """{metric: value} for @stack served by the @cove binary over IPv4 or
    IPv6 (@family), on the veth end through @link: packet (AF_PACKET,
    rx=v2), xdp (AF_XDP), dpdk-packet or dpdk-xdp (DPDK's net_af_packet
    and net_af_xdp PMDs; cove-plugin)."""
    size, rounds = PROFILE[profile]
    os.environ["COVE"] = cove
    r = stack_bench.measure(stack, size * MiB, rounds, ["in", "out", "rr"],
                            ",rx=v2" if link == "packet" else "",
                            own_link=True, family=family, kind=link)
    return {"bulk in MiB/s": r["bulk in"] / MiB,
            "bulk out MiB/s": r["bulk out"] / MiB,
            "rr trips/s": r["rr"]}
