#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The benchmark harness in its tiny profile, so that `make bench` keeps
# working: every mode available in this build, every workload, a few
# sandbox starts, the podman rows (bench/containers.py); the report must
# hold a number for every row that ran. IPv6 beside IPv4: redis and tcp_rr
# (the tiny profile's IPv6 subset) and the stack-serve rows must have IPv6
# rows with numbers for host and every Cove mode, and the IPv6/IPv4 table
# a ratio for each.
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
assert res["families"] == [4, 6], res["families"]
for w in ("redis ipv6", "tcp_rr ipv6"):
    assert w in res["workloads"], "no %s rows: %s" % (w, list(res["workloads"]))
for w, per in res["workloads"].items():
    for m in ok:
        if m in peers and w.endswith(" ipv6"):
            assert m not in per, "%s: %s has no IPv6 (127.0.0.1)" % (w, m)
            continue
        assert m in per, "%s: no %s row" % (w, m)
        if m in peers:
            continue
        r = per.get(m)
        assert r and "error" not in r, "%s on %s: %s" % (w, m, r)
        assert all(v["median"] > 0 for k, v in r.items()
                   if not k.endswith("errors")), (w, m, r)
for key in ("isolation", "isolation6"):
    iso = res.get(key, {})
    for st in ("kernel", "builtin"):
        assert st in iso, "%s: no %s row: %s" % (key, st, iso)
    for st, r in iso.items():
        assert "error" not in r and r and \
            all(v["median"] > 0 for v in r.values()), (key, st, r)
md = open(os.path.join(out, "latest.md")).read()
for w in ("redis", "nginx", "iperf3", "tcp_rr", "cpu_per_req",
          "redis ipv6", "tcp_rr ipv6", "stack-serve", "stack-serve ipv6",
          "IPv6 / IPv4", "IPv6 / IPv4, stack-serve"):
    assert "### " + w + "\n" in md or "### " + w + " (" in md, \
        "no %s table" % w
# The IPv6/IPv4 tables: a ratio for every mode (stack) with IPv6 rows.
v6modes = [m for m in ok if m not in peers]
for title, cols, want in (
        ("IPv6 / IPv4 (", v6modes, ("redis get rps", "tcp_rr p50 us")),
        ("IPv6 / IPv4, stack-serve", list(res["isolation6"]),
         ("stack-serve bulk in MiB/s", "stack-serve rr trips/s"))):
    fam = md.split("### " + title, 1)[1].split("\n### ", 1)[0]
    rows = [ln for ln in fam.splitlines() if ln.startswith("| ")]
    head = [c.strip() for c in rows[0].strip("|").split("|")]
    assert head[1:] == cols, (title, head, cols)
    for w in want:
        row = [ln for ln in rows if ln.startswith("| %s |" % w)]
        assert row, "%s table: no %s row" % (title, w)
        cells = [c.strip() for c in row[0].strip("|").split("|")][1:]
        assert len(cells) == len(cols) and \
            all(c.startswith("x") for c in cells), (w, cells)
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
print("bench smoke: modes %s measured (IPv6 too: %s); report and plots "
      "written" % (ok, v6modes))
PY
