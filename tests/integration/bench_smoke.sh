#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The benchmark harness in its tiny profile, so that `make bench` keeps
# working: every mode available in this build, every workload, a few
# sandbox starts, the podman rows (bench/containers.py); the report must
# hold a number for every row that ran.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d /tmp/cv-bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
export COVE_BUILD=${COVE_BUILD:-$PWD/build}

/usr/bin/python3 bench/bench.py --profile tiny --out "$out"

/usr/bin/python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
res = json.load(open(os.path.join(out, "latest.json")))
ok = [m for m, s in res["modes"].items() if s == "ok"]
assert "host" in ok, "host mode did not run: %s" % res["modes"]
# Peers (other projects' tools) must be in the report, measured or with
# their error; Cove's modes and the host baseline must have measured.
peers = ("slirp4netns", "pasta")
for w, per in res["workloads"].items():
    for m in ok:
        assert m in per, "%s: no %s row" % (w, m)
        if m in peers:
            continue
        r = per.get(m)
        assert r and "error" not in r, "%s on %s: %s" % (w, m, r)
        assert all(v["median"] > 0 for k, v in r.items()
                   if not k.endswith("errors")), (w, m, r)
md = open(os.path.join(out, "latest.md")).read()
for w in ("redis", "nginx", "iperf3", "tcp_rr", "cpu_per_req"):
    assert "### " + w in md, "no %s table" % w
assert "runc" in res["startup"], "no runc start row: %s" % res["startup"]
for m in ("builtin", "kernel"):
    r = res["memory"].get(m, {})
    assert "error" not in r and r.get("idle rss KiB", 0) > 0 and \
        r.get("conns") == 50, "memory row %s: %s" % (m, r)
assert "### sentry memory" in md, "no memory table"
ct = res.get("containers", {})
for row in ("runc none", "cove none", "runc bridge", "cove bridge"):
    s = ct.get("starts", {}).get(row, {})
    assert s.get("exited ms"), "containers: no %s start row: %s" % (row, ct)
for rt in ("runc", "cove"):
    r = ct.get("redis", {}).get(rt, {})
    assert r and "error" not in r, "containers: redis on %s: %s" % (rt, r)
assert "### containers through podman" in md, "no containers table"
for png in ("ratios.png", "tcp_rr.png", "startup.png"):
    assert os.path.getsize(os.path.join(out, png)) > 1000, png
print("bench smoke: modes %s measured; report and plots written" % ok)
PY
