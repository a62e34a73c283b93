# SPDX-License-Identifier: Apache-2.0
"""Containers through an engine: `podman run --rm` with runc, runsc and Cove.

Two measures, the ones issue 12 names (the Kata discussion's own):

- start to exit of `true`: the wall time of `podman --runtime R run --rm
  IMAGE true`, from spawning podman until it exits, with
  `--network=none` for runc, runsc (Debian's gVisor, `--platform=ptrace`;
  its own sandbox network cannot start on this kernel, so runsc also gets
  `--network=none` as a runtime flag) and Cove, and with podman's default
  bridge (netavark) for runc and Cove. Every round runs each of the five
  once, in turn, so drift on the machine hits all alike; the table gives
  p50, p99 and max.
- redis-benchmark (the `redis` workload's clients, workloads.py) against
  redis-server in a podman container published with `-p
  127.0.0.1:PORT:6379`, on runc and on Cove (builtin on netavark's eth0),
  in the same run, alternating.

The image is made here, no registry: busybox-static and /bin/pause from
tests/integration/lib/ociimage.py, plus redis-server and the shared
libraries ldd names, imported with `podman import`. Every container gets
`--ulimit nofile=HARD:HARD --ulimit nproc=4096:4096`: podman's default
nofile (1048576) is above this machine's hard limit, which no runtime
here may raise.
"""

import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration", "lib"))
import ociimage  # noqa: E402
import workloads as W  # noqa: E402

IMAGE = "localhost/cove-bench:redis"
RUNS = {"full": 50, "quick": 10, "tiny": 2}  # starts per runtime
REDIS_RUNS = {"full": 3, "quick": 1, "tiny": 1}


def _redis_files():
    """{path: bytes}: redis-server and the libraries it links."""
    exe = os.path.realpath(shutil.which("redis-server") or
                           "/usr/bin/redis-server")
    files = {}
    with open(exe, "rb") as f:
        files["/usr/bin/redis-server"] = (f.read(), 0o755)
    out = subprocess.run(["ldd", exe], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if path.startswith("/") and os.path.exists(path):
            with open(path, "rb") as f:
                files[path] = (f.read(), os.stat(path).st_mode & 0o777)
    return files


def _flags():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return ["--ulimit", "nofile=%d:%d" % (hard, hard),
            "--ulimit", "nproc=4096:4096"]


class Engine:
    """One runtime under podman: its command prefix and a label."""

    def __init__(self, label, runtime, flags=()):
        self.label = label
        self.pre = ["podman", "--runtime", runtime]
        for f in flags:
            self.pre += ["--runtime-flag", f]

    def run(self, *args, timeout=60):
        return subprocess.run(self.pre + list(args), capture_output=True,
                              text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)


def _start_once(e, net):
    """ms from spawning `podman run --rm IMAGE true` to its exit."""
    net_args = ["--network=none"] if net == "none" else []
    t0 = time.monotonic_ns()
    r = e.run("run", "--rm", *net_args, *_flags(), IMAGE, "true")
    ms = (time.monotonic_ns() - t0) / 1e6
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (e.label, r.returncode,
                                               r.stderr[-300:]))
    return ms


def measure_starts(engines, n, progress=None):
    """{"RUNTIME NET": {"exited ms": [...]} or {"error": ...}}."""
    rows = [(e, net) for net in ("none", "bridge") for e in engines
            if net == "none" or e.label != "runsc"]
    out = {"%s %s" % (e.label, net): {"exited ms": []} for e, net in rows}
    for i in range(n):
        for e, net in rows:
            key = "%s %s" % (e.label, net)
            if "error" in out[key]:
                continue
            try:
                out[key]["exited ms"].append(_start_once(e, net))
            except (RuntimeError, subprocess.TimeoutExpired) as x:
                out[key] = {"error": str(x)[:300]}
        if progress and (i + 1) % 10 == 0:
            progress("%d/%d" % (i + 1, n))
    return out


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_once(e, wl, logf):
    port = _free_port()
    name = "cvb-redis-%s" % e.label
    e.run("rm", "-f", name)
    r = e.run("run", "-d", "--name", name, "-p", "127.0.0.1:%d:6379" % port,
              *_flags(), IMAGE, "/usr/bin/redis-server", "--port", "6379",
              "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "",
              "--appendonly", "no", "--dir", "/tmp")
    try:
        if r.returncode != 0:
            raise RuntimeError("%s: podman run: %s" % (e.label,
                                                       r.stderr[-300:]))
        return wl.measure({W.REDIS: ("127.0.0.1", port)})
    finally:
        logf.write(e.run("logs", name).stdout[-2000:])
        e.run("rm", "-f", "-t", "2", name)


def measure_redis(engines, wl, runs, logf, progress=None):
    """{label: [metrics per run]} or {label: {"error": ...}}."""
    raw, errs = {e.label: [] for e in engines}, {}
    for i in range(runs):
        for e in engines:
            if e.label in errs:
                continue
            if progress:
                progress("redis in podman on %s, run %d/%d" %
                         (e.label, i + 1, runs))
            try:
                raw[e.label].append(_redis_once(e, wl, logf))
            except (RuntimeError, subprocess.TimeoutExpired) as x:
                errs[e.label] = str(x)[:300]
    return raw, errs


def measure(cove, prof, pin, tools, logf, summarize, progress=None):
    """Both measures; {"starts": ..., "redis": {label: summary}}."""
    if not shutil.which("podman"):
        return {"error": "podman is not installed"}
    engines = [Engine("runc", shutil.which("runc") or "/usr/sbin/runc")]
    if shutil.which("runsc"):
        engines.append(Engine("runsc", shutil.which("runsc"),
                              ("platform=ptrace", "network=none")))
    engines.append(Engine("cove", os.path.abspath(cove)))
    top = tempfile.mkdtemp(prefix="cvb-podman-")
    try:
        tar = os.path.join(top, "redis.tar")
        root = ociimage.busybox_root(top, files=_redis_files())
        subprocess.run(["tar", "-C", root, "-cf", tar, "."], check=True)
        r = subprocess.run(["podman", "import", tar, IMAGE],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return {"error": "podman import: " + r.stderr[-300:]}
        res = {"starts": measure_starts(engines, RUNS.get(prof.name, 10),
                                        progress)}
        wl = W.Redis(prof, pin, tools)
        two = [e for e in engines if e.label in ("runc", "cove")]
        raw, errs = measure_redis(two, wl, REDIS_RUNS.get(prof.name, 1),
                                  logf, progress)
        res["redis"] = {k: ({"error": errs[k]} if k in errs else
                            summarize(raw[k])) for k in raw}
        return res
    finally:
        subprocess.run(["podman", "rmi", "-f", IMAGE], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)
