# SPDX-License-Identifier: Apache-2.0
"""Sandbox start latency: `cove run` beside `runc run`, same program.

The program is bench/stamp (static), which prints CLOCK_MONOTONIC when it
runs. For each start we record two times from the moment the runtime is
spawned: until the program runs (its stamp) and until the runtime exits.
runc gets an equivalent bundle: a busybox-static rootfs holding stamp, the
default `runc spec` namespaces (which include a network namespace with
only loopback), no terminal. Cove is measured with --network=none (the
equivalent of runc's loopback-only netns) and with its default network
(veth + the builtin stack), when that stack exists.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time


def _one(argv, cwd=None):
    t0 = time.monotonic_ns()
    r = subprocess.run(argv, capture_output=True, text=True, cwd=cwd,
                       timeout=30)
    t1 = time.monotonic_ns()
    if r.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(argv[:3]),
                                                r.returncode,
                                                r.stderr[-300:]))
    try:
        stamp = int(r.stdout.split()[0])
    except (IndexError, ValueError):
        raise RuntimeError("%s: no stamp printed" % argv[0])
    return (stamp - t0) / 1e6, (t1 - t0) / 1e6


def _series(fn, n, progress):
    running, exited = [], []
    for i in range(n):
        a, b = fn(i)
        running.append(a)
        exited.append(b)
        if progress and (i + 1) % 50 == 0:
            progress("%d/%d" % (i + 1, n))
    return {"running ms": running, "exited ms": exited}


def runc_bundle(stamp, tmp):
    """A runc bundle in @tmp whose process is /stamp; returns its path."""
    b = os.path.join(tmp, "bundle")
    root = os.path.join(b, "rootfs")
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
    os.symlink("busybox", os.path.join(root, "bin", "sh"))
    shutil.copy(stamp, os.path.join(root, "stamp"))
    subprocess.run(["runc", "spec"], cwd=b, check=True)
    path = os.path.join(b, "config.json")
    with open(path) as f:
        spec = json.load(f)
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["/stamp"]
    with open(path, "w") as f:
        json.dump(spec, f)
    return b


def measure(cove, stamp, n, networks, progress=None):
    """{runtime label: {"running ms": [...], "exited ms": [...]}}."""
    out = {}
    for net in networks:
        def cove_one(i, net=net):
            return _one([cove, "run", "--network=" + net, "--name",
                         "cvstart-%d-%d" % (os.getpid(), i), "--", stamp])
        out["cove " + net] = _series(cove_one, n, progress)
    if shutil.which("runc") and os.path.exists("/bin/busybox"):
        with tempfile.TemporaryDirectory(prefix="cvb-runc-") as tmp:
            b = runc_bundle(stamp, tmp)

            def runc_one(i):
                return _one(["runc", "run", "-b", b,
                             "cvstart-%d-%d" % (os.getpid(), i)])
            out["runc"] = _series(runc_one, n, progress)
    return out
