# SPDX-License-Identifier: Apache-2.0
"""Turn bench.py's results into latest.md and PNG plots.

Tables: one per workload, a row per metric, a column per mode showing
"median (min-max)" and the ratio to the host column of the same run. Rates (rps, req/s, Gbit/s) are better when higher, latencies (ms, us)
when lower; each column says which. A workload measured over IPv6 too
("redis ipv6") has its own table, its ratios to host over IPv6; then
family_table() gives each mode's IPv6 figure over its IPv4 one from the
same run, marking where IPv6 is more than 5% behind (issue 14's figure). Plots (matplotlib, Agg backend):
ratios.png (throughput ratio to host per mode), tcp_rr.png (latency
distribution per mode) and startup.png (start latency distribution,
Cove beside runc).
"""

import os


def higher_is_better(metric):
    return metric.endswith(("rps", "req/s", "Gbit/s", "MiB/s", "trips/s"))


def fmt(v):
    if v >= 1000:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.3g" % v


def workload_table(name, per_mode, base="host"):
    """A row per metric, a column per mode: median (min-max) and x @base."""
    ok = {m: r for m, r in per_mode.items() if "error" not in r}
    metrics = []
    for r in ok.values():
        for k in r:
            if k not in metrics:
                metrics.append(k)
    host = ok.get(base, {})
    lines = ["### %s" % name, ""]
    lines.append("| metric | " + " | ".join(per_mode) + " |")
    lines.append("|---|" + "---|" * len(per_mode))
    for k in metrics:
        row = ["%s (%s)" % (k, "higher is better" if higher_is_better(k)
                            else "lower is better")]
        for m, r in per_mode.items():
            s = r.get(k)
            if not s:
                row.append("error" if "error" in r else "")
                continue
            cell = "%s (%s-%s)" % (fmt(s["median"]), fmt(s["min"]),
                                   fmt(s["max"]))
            h = host.get(k, {}).get("median")
            if h and m != base:
                cell += " **x%.2f**" % (s["median"] / h)
            row.append(cell)
        lines.append("| " + " | ".join(row) + " |")
    for m, r in per_mode.items():
        if "error" in r:
            lines.append("")
            lines.append("`%s` failed: %s" % (m, r["error"].replace("\n",
                                                                      " ")))
    return lines + [""]


BEHIND = 0.05       # IPv6 more than this much behind IPv4 is marked


def family_pairs(res):
    """[(label, IPv4 results, IPv6 results)] for every sandbox workload
    measured over both families."""
    out = []
    for w, per in res["workloads"].items():
        v6 = res["workloads"].get(w + " ipv6")
        if v6 is not None:
            out.append((w, per, v6))
    return out


def family_ratio(metric, v4, v6):
    """(IPv6/IPv4, behind?) for @metric's medians."""
    r = v6 / v4
    behind = r < 1 - BEHIND if higher_is_better(metric) else r > 1 + BEHIND
    return r, behind


def family_table(title, pairs):
    """IPv6/IPv4 per mode and metric of @pairs (family_pairs()), each
    family's medians of one run."""
    if not pairs:
        return []
    modes = []
    for _, _, v6 in pairs:
        for m in v6:
            if m not in modes:
                modes.append(m)
    lines = ["### %s" % title, "",
             "Each cell: the IPv6 median over the IPv4 median (for rates "
             "above 1 is IPv6 faster, for latencies and CPU below 1 is); "
             "**behind** marks IPv6 more than %d%% worse than IPv4." %
             round(BEHIND * 100), "",
             "| metric | " + " | ".join(modes) + " |",
             "|---|" + "---|" * len(modes)]
    for label, v4s, v6s in pairs:
        metrics = []
        for r in list(v4s.values()) + list(v6s.values()):
            for k in r:
                if k != "error" and not k.endswith("errors") and \
                        k not in metrics:
                    metrics.append(k)
        for k in metrics:
            row = ["%s %s" % (label, k)]
            for m in modes:
                a = v4s.get(m, {}).get(k, {}).get("median")
                b = v6s.get(m, {}).get(k, {}).get("median")
                if not a or b is None:
                    row.append("error" if "error" in v6s.get(m, {}) or
                               "error" in v4s.get(m, {}) else "")
                    continue
                ratio, behind = family_ratio(k, a, b)
                row.append("x%.2f%s" % (ratio, " **behind**" if behind
                                        else ""))
            lines.append("| " + " | ".join(row) + " |")
    return lines + [""]


def startup_table(st):
    if not st:
        return []
    lines = ["### sandbox start latency (ms from spawning the runtime)", ""]
    if "error" in st:
        return lines + ["error: " + st["error"], ""]
    lines += ["| runtime | starts | running p50 | running p99 | exited p50 |"
              " exited p99 | exited max | max / p50 |",
              "|---|---|---|---|---|---|---|---|"]
    for rt, s in st.items():
        run, ex = sorted(s["running ms"]), sorted(s["exited ms"])
        p = (lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))])
        lines.append("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f |"
                     % (rt, len(ex), p(run, .5), p(run, .99), p(ex, .5),
                        p(ex, .99), ex[-1], ex[-1] / max(p(ex, .5), 1e-9)))
    return lines + [""]


def memory_table(mem):
    if not mem:
        return []
    lines = ["### sentry memory (memory.py)", "",
             "Idle: the sentry's RSS (anonymous; the link's ring mappings) "
             "after start-up. Per idle connection: the growth of its RSS "
             "and of the stack's `mem_bytes` over N accepted connections "
             "that each got a one-byte greeting, divided by N.", "",
             "| stack | idle RSS | anon | link rings | conns | per conn "
             "RSS | per conn mem_bytes |", "|---|---|---|---|---|---|---|"]
    for m, r in mem.items():
        if "error" in r:
            lines.append("| %s | error: %s | | | | | |" % (m, r["error"]))
            continue
        lines.append("| %s | %.1f MB | %.1f MB | %.1f MB | %d | %.1f KB | "
                     "%.1f KB |" % (m, r["idle rss KiB"] / 1024.0,
                                    r["idle anon KiB"] / 1024.0,
                                    r["idle rings KiB"] / 1024.0, r["conns"],
                                    r["per conn rss B"] / 1024.0,
                                    r["per conn mem_bytes B"] / 1024.0))
    return lines + [""]


def containers_table(ct):
    """podman run --rm start to exit per runtime and network; redis in a
    published container, runc beside Cove."""
    if not ct:
        return []
    lines = ["### containers through podman (bench/containers.py)", ""]
    if "error" in ct:
        return lines + ["error: " + ct["error"], ""]
    lines += ["`podman run --rm IMAGE true`, ms from spawning podman to "
              "its exit:", "",
              "| runtime | network | runs | p50 | p99 | max |",
              "|---|---|---|---|---|---|"]
    for key, s in ct.get("starts", {}).items():
        rt, net = key.split(" ", 1)
        if "error" in s:
            lines.append("| %s | %s | error: %s | | | |" %
                         (rt, net, s["error"].replace("\n", " ")[:200]))
            continue
        xs = sorted(s["exited ms"])
        p = (lambda q: xs[min(len(xs) - 1, int(q * len(xs)))])
        lines.append("| %s | %s | %d | %.0f | %.0f | %.0f |" %
                     (rt, net, len(xs), p(.5), p(.99), xs[-1]))
    lines.append("")
    if ct.get("redis"):
        lines += workload_table("redis in podman, -p 127.0.0.1:PORT:6379 "
                                "(ratios to runc)", ct["redis"], "runc")
    return lines


def write_md(res, out):
    mc = res["machine"]
    lines = ["# Cove benchmark results", "",
             "Profile `%s`, %s, commit %s." % (res["profile"], mc["date"],
                                               mc["commit"]),
             "Machine: %s, %s CPUs, %s GiB, Debian %s, kernel %s." %
             (mc["cpu"], mc["cpus"], mc["mem GiB"], mc["debian"],
              mc["kernel"]),
             "Pinning: %s." % ("server side on CPU 1, clients on CPU 0"
                               if res["pinned"] else "none"),
             "Families: %s (tables named `... ipv6` are IPv6; slirp4netns "
             "and pasta forward from 127.0.0.1 and have IPv4 rows only)." %
             " and ".join("IPv%d" % f for f in res.get("families", [4])),
             "Each figure: median of the runs (min-max); ratios are to "
             "`host` (the kernel in a plain netns) from the same run.", "",
             "Packages: " + ", ".join("%s %s" % kv for kv in
                                      sorted(mc["packages"].items())), "",
             "## Modes", ""]
    for m, st in res["modes"].items():
        lines.append("- `%s`: %s" % (m, st))
    lines += ["", "## Results", ""]
    for w, per_mode in res["workloads"].items():
        lines += workload_table(w, per_mode)
    lines += family_table("IPv6 / IPv4 (same run, same mode)",
                          family_pairs(res))
    if res.get("isolation") or res.get("isolation6"):
        lines += ["## Stacks in isolation (`cove stack-serve` on a veth; "
                  "ratios to the kernel on the same link)", ""]
    if res.get("isolation"):
        lines += workload_table("stack-serve", res["isolation"], "kernel")
    if res.get("isolation6"):
        lines += workload_table("stack-serve ipv6", res["isolation6"],
                                "kernel")
    if res.get("isolation") and res.get("isolation6"):
        lines += family_table("IPv6 / IPv4, stack-serve (same run, same "
                              "stack)", [("stack-serve", res["isolation"],
                                          res["isolation6"])])
    lines += startup_table(res.get("startup"))
    lines += memory_table(res.get("memory"))
    lines += containers_table(res.get("containers"))
    if res.get("notes"):
        lines += ["Notes from this run:", ""]
        lines += ["- " + n for n in res["notes"]] + [""]
    lines += ["Plots: ratios.png, tcp_rr.png, startup.png (beside this "
              "file).", ""]
    with open(os.path.join(out, "latest.md"), "w") as f:
        f.write("\n".join(lines))


def write_plots(res, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    # Throughput ratios to host.
    bars = {}
    for w, per_mode in res["workloads"].items():
        host = per_mode.get("host", {})
        for m, r in per_mode.items():
            if m == "host" or "error" in r:
                continue
            for k, s in r.items():
                h = host.get(k, {}).get("median") if "error" not in host \
                    else None
                if higher_is_better(k) and h:
                    bars.setdefault("%s %s" % (w, k), {})[m] = \
                        s["median"] / h
    if bars:
        modes = sorted({m for v in bars.values() for m in v})
        fig, ax = plt.subplots(figsize=(max(8, len(bars) * 1.1), 5))
        width = 0.8 / max(1, len(modes))
        for i, m in enumerate(modes):
            xs = [j + i * width for j in range(len(bars))]
            ax.bar(xs, [v.get(m, 0) for v in bars.values()], width, label=m)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(bars))])
        ax.set_xticklabels(list(bars), rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("ratio to host (higher is better)")
        ax.set_title("Throughput relative to the kernel in a plain netns")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "ratios.png"), dpi=100)
        plt.close(fig)

    def cdf(series, fname, title, xlabel):
        if not series:
            return
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for label, xs in series.items():
            xs = sorted(xs)
            ys = [(i + 1) / len(xs) for i in range(len(xs))]
            ax.plot(xs, ys, label=label)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fraction")
        ax.set_title(title)
        ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=100)
        plt.close(fig)

    cdf(res["samples"].get("tcp_rr"), "tcp_rr.png",
        "1-byte TCP round trip", "microseconds (log)")
    st = res.get("startup") or {}
    if "error" not in st:
        cdf({k: v["exited ms"] for k, v in st.items()}, "startup.png",
            "Sandbox start to exit (`true`-like program)",
            "milliseconds (log)")


def write(res, out):
    write_md(res, out)
    write_plots(res, out)

