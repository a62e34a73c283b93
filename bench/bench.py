#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""`make bench`: Cove against the kernel and its peers, in one run.

Theory of operation: for every workload (redis, nginx, iperf3, tcp_rr,
cpu_per_req) and every run (3 in the full profile), every network mode is
measured in turn, so slow drift on the machine hits every mode alike; each
figure is then the median of the runs, with min and max, and its ratio to
the `host` mode (the kernel in a plain netns) measured in the same run.
With --family 4,6 (the default) each workload is measured over IPv4 and
then over IPv6 ("redis ipv6": the same servers on [::], the clients to the
mode's IPv6 address; the peers, which forward from 127.0.0.1, have no IPv6
rows), and so are the stack-serve rows; the report adds each mode's
IPv6/IPv4 ratio. The tiny profile's IPv6 rows are redis, tcp_rr and
stack-serve only (make check's time). Sandbox start latency
(`cove run` beside `runc run`) follows, then the sentry's memory (idle and
per idle connection, memory.py) and containers through podman (start to
exit of `true` with runc, runsc and Cove; redis in a published container,
bench/containers.py). Results go to OUT/latest.json
(every sample), OUT/latest.md (tables, machine, versions) and PNG plots.

Usage: bench.py [--profile full|quick|tiny] [--out DIR] [--modes a,b]
                [--workloads a,b] [--no-pin] [--no-startup]
                [--no-isolation] [--no-memory] [--no-containers]
                [--strict] [--family 4,6]
Env: COVE_BUILD (default build/): where cove, cove-plugin, bench/rr and
bench/stamp are.

Exit status: 0 when every Cove mode (and the host baseline) that is
available here measured without error; 1 otherwise. Failures of the peers
(slirp4netns, pasta) are reported in the tables but do not fail the run:
they are other projects' tools. The report always records what went wrong. A mode
that is not available (not built yet, package missing) is reported as
such and is not an error unless --strict.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import modes as M  # noqa: E402
import containers  # noqa: E402
import isolation  # noqa: E402
import memory  # noqa: E402
import report  # noqa: E402
import startup  # noqa: E402
import workloads as W  # noqa: E402


def log(msg):
    print("bench: %s" % msg, file=sys.stderr, flush=True)


def machine():
    def out(*a):
        r = subprocess.run(list(a), capture_output=True, text=True)
        return r.stdout.strip()
    cpu = ""
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    pkgs = {}
    for p in ("redis-server", "redis-tools", "nginx-light", "iperf3", "wrk",
              "slirp4netns", "passt", "runc", "liblwip-dev"):
        v = out("dpkg-query", "-W", "-f=${Version}", p)
        pkgs[p] = v or "not installed"
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "kernel": platform.release(), "cpu": cpu,
            "cpus": os.cpu_count(),
            "mem GiB": round(os.sysconf("SC_PAGE_SIZE") *
                             os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "debian": out("cat", "/etc/debian_version"),
            "commit": out("git", "-C", here, "rev-parse", "--short", "HEAD"),
            "packages": pkgs}


def summarize(samples):
    """[{metric: v}, ...] -> {metric: {median, min, max, n}}."""
    out = {}
    for m in samples[0] if samples else []:
        xs = [s[m] for s in samples if m in s]
        out[m] = {"median": statistics.median(xs), "min": min(xs),
                  "max": max(xs), "n": len(xs)}
    return out


def run_isolation(o, prof, tools, res, families):
    """Stacks under `cove stack-serve` beside the kernel, each family back
    to back; res["isolation"] (IPv4) and res["isolation6"]. Returns the
    number of errors."""
    # (row, binary, stack, link, families): the kernel-bypass links on
    # IPv4 only and not in the tiny profile (make check's smoke test)
    stacks = [("kernel", tools["cove"], "kernel", "packet", families),
              ("builtin", tools["cove"], "builtin", "packet", families),
              ("lwip", tools["cove-plugin"], "lwip", "packet", families)]
    if prof.name != "tiny":
        stacks += [("builtin+" + lbl, tools["cove-plugin"], "builtin", link,
                    [f for f in families if f == 4])
                   for lbl, link in (("xdp", "xdp"), ("dpdk", "dpdk-packet"),
                                     ("dpdk-afxdp", "dpdk-xdp"))]
    raw = {f: {} for f in families}
    errs = {f: {} for f in families}
    bad = 0
    for r in range(prof.runs):
        for name, cove, stack, link, fams in stacks:
            if not os.access(cove, os.X_OK):
                continue
            names = subprocess.run([cove, "stacks"], capture_output=True,
                                   text=True).stdout.split()
            if stack not in names or link.split("-")[0] not in names:
                continue
            for fam in fams:
                if name in errs[fam]:
                    continue
                log("stack-serve %s over IPv%d, run %d/%d" %
                    (name, fam, r + 1, prof.runs))
                try:
                    raw[fam].setdefault(name, []).append(
                        isolation.measure(stack, cove, prof.name, fam,
                                          link))
                except Exception as e:      # noqa: BLE001 (report it)
                    errs[fam][name] = str(e)[:300]
                    log("stack-serve %s over IPv%d failed: %s" %
                        (name, fam, e))
                    bad += 1
    for fam in families:
        rw, er = raw[fam], errs[fam]
        res["isolation" if fam == 4 else "isolation6"] = {
            n: ({"error": er[n]} if n in er else summarize(rw[n]))
            for n in list(rw) + [e for e in er if e not in rw]}
    return bad


def main():
    with M.Fence():
        return run(parse())


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", choices=sorted(W.PROFILES), default="full")
    ap.add_argument("--out", default=os.path.join(here, "results"))
    ap.add_argument("--modes", help="comma list (default: all)")
    ap.add_argument("--workloads", help="comma list (default: all)")
    ap.add_argument("--no-pin", action="store_true",
                    help="do not pin server and client to separate CPUs")
    ap.add_argument("--no-startup", action="store_true")
    ap.add_argument("--no-memory", action="store_true",
                    help="skip the sentry memory rows (idle, per connection)")
    ap.add_argument("--no-containers", action="store_true",
                    help="skip the podman rows (runc, runsc, Cove)")
    ap.add_argument("--no-isolation", action="store_true",
                    help="skip the stack-serve rows (stacks without a "
                    "sandbox)")
    ap.add_argument("--strict", action="store_true",
                    help="an unavailable mode is an error")
    ap.add_argument("--family", default="4,6",
                    help="address families to measure: 4, 6 or 4,6 (the "
                    "default; the tiny profile runs IPv6 for redis, tcp_rr "
                    "and stack-serve only)")
    o = ap.parse_args()
    o.families = sorted({int(f) for f in o.family.split(",")
                         if f in ("4", "6")})
    if not o.families or len(o.families) != len(o.family.split(",")):
        ap.error("--family: 4, 6 or 4,6")
    return o


def run(o):
    if os.geteuid() != 0:
        sys.exit("bench: needs root (network namespaces)")
    prof = W.PROFILES[o.profile]
    pin = not o.no_pin and (os.cpu_count() or 1) >= 2
    build = os.environ.get("COVE_BUILD",
                           os.path.join(here, "..", "build"))
    tools = {"cove": os.path.join(build, "src", "cli", "cove"),
             "cove-plugin": os.path.join(build, "src", "cli", "cove-plugin"),
             "rr": os.path.join(build, "bench", "rr"),
             "stamp": os.path.join(build, "bench", "stamp")}
    for t in ("rr", "stamp"):
        if not os.access(tools[t], os.X_OK):
            sys.exit("bench: %s not built (run `make` first)" % tools[t])
    os.makedirs(o.out, exist_ok=True)
    logf = open(os.path.join(o.out, "servers.log"), "w")

    modes = M.all_modes(tools["cove"], tools["cove-plugin"])
    if o.modes:
        want = o.modes.split(",")
        modes = [m for m in modes if m.name in want]
    for m in modes:
        m.pin = pin
    wls = [w(prof, pin, tools) for w in W.ALL]
    if o.workloads:
        wls = [w for w in wls if w.name in o.workloads.split(",")]

    res = {"profile": prof.name, "pinned": pin, "machine": machine(),
           "families": o.families,
           "modes": {}, "workloads": {}, "samples": {}, "startup": {},
           "memory": {},
           "isolation": {}, "notes": []}
    bad = 0
    avail = []
    for m in modes:
        try:
            m.check()
            avail.append(m)
            res["modes"][m.name] = "ok"
        except M.Unavailable as e:
            res["modes"][m.name] = "unavailable: %s" % e
            log("%s: unavailable (%s)" % (m.name, e))
            bad += o.strict
    # (workload, family, its modes, its name in the report)
    plan = []
    for w in wls:
        for fam in o.families:
            if fam == 6 and prof.ipv6 is not None and \
                    w.name not in prof.ipv6:
                continue
            plan.append((w, fam, [m for m in avail if fam in m.families],
                         w.name if fam == 4 else w.name + " ipv6"))
    steps = sum(len(ms) for _, _, ms, _ in plan) * prof.runs
    step = 0
    t_start = time.monotonic()
    for w, fam, fmodes, wname in plan:
        raw = {m.name: [] for m in fmodes}
        errs = {}
        lat = {}
        for r in range(prof.runs):
            for m in fmodes:
                step += 1
                log("[%d/%d] %s on %s, run %d/%d (%.0fs so far)" %
                    (step, steps, wname, m.name, r + 1, prof.runs,
                     time.monotonic() - t_start))
                if m.name in errs:
                    continue
                for attempt in (1, 2):
                    try:
                        raw[m.name].append(w.run(m, logf, fam))
                        if hasattr(w, "samples"):
                            lat.setdefault(m.name, []).extend(w.samples)
                        break
                    except Exception as e:  # noqa: BLE001 (report it)
                        log("%s on %s failed (attempt %d): %s" %
                            (wname, m.name, attempt, e))
                        # One retry, recorded in the report: a single
                        # failed measurement of a peer (slirp4netns has
                        # dropped iperf3's control connection) should not
                        # void the run; a second one is an error.
                        res["notes"].append("%s on %s, run %d: failed "
                                            "once (%s), measured again" %
                                            (wname, m.name, r + 1,
                                             str(e)[:120]))
                        if attempt == 2:
                            res["notes"][-1] = ("%s on %s, run %d: failed "
                                                "twice" % (wname, m.name,
                                                           r + 1))
                            errs[m.name] = str(e)[:300]
                            bad += not m.peer
        res["workloads"][wname] = {
            m: ({"error": errs[m]} if m in errs else summarize(raw[m]))
            for m in raw}
        if lat:
            res["samples"][wname] = lat
    if not o.no_isolation:
        bad += run_isolation(o, prof, tools, res, o.families)
    if not o.no_startup:
        nets = []
        for net in ("none", "builtin"):
            try:
                M.CoveMode(tools["cove"], net).check()
                nets.append(net)
            except M.Unavailable as e:
                log("start latency: cove --network=%s unavailable (%s)"
                    % (net, e))
        log("sandbox start latency: %d starts each" % prof.start_n)
        try:
            res["startup"] = startup.measure(
                tools["cove"], tools["stamp"], prof.start_n, nets,
                progress=lambda s: log("start latency " + s))
        except Exception as e:              # noqa: BLE001
            res["startup"] = {"error": str(e)[:300]}
            log("start latency failed: %s" % e)
            bad += 1
    if not o.no_memory:
        n = {"full": 1000, "quick": 300}.get(prof.name, 50)
        log("sentry memory: idle, and %d idle connections" % n)
        res["memory"] = memory.measure(tools["cove"], tools["cove-plugin"], n,
                                       progress=lambda m: log("memory " + m))
        bad += sum(1 for v in res["memory"].values() if "error" in v)
    if not o.no_containers:
        log("containers through podman (runc, runsc, cove)")
        try:
            res["containers"] = containers.measure(
                tools["cove"], prof, pin, tools, logf, summarize,
                progress=lambda s: log("containers: " + s))
        except Exception as e:              # noqa: BLE001
            res["containers"] = {"error": str(e)[:300]}
        if "error" in res["containers"] or any(
                "error" in v for k, v in
                res["containers"].get("starts", {}).items()
                if not k.startswith("runsc")) or any(
                "error" in v for v in
                res["containers"].get("redis", {}).values()):
            log("containers: %s" % str(res["containers"])[:400])
            bad += 1
    report.write(res, o.out)
    # Every summary and start time, but not the raw round-trip samples
    # (hundreds of thousands): the plot shows their distribution.
    res.pop("samples", None)
    with open(os.path.join(o.out, "latest.json"), "w") as f:
        json.dump(res, f, indent=1)
    log("wrote %s/latest.md (%.0fs)" % (o.out, time.monotonic() - t_start))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
