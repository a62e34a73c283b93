#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Write the attack suite's results table into docs/SECURITY.md.

Usage: attack_doc.py RESULTS.json [DOC]   (DOC: docs/SECURITY.md)

RESULTS.json is what `tests/attack/attack.py --json` wrote. The table
replaces what stands between the "attack-suite" markers of DOC's "Attack
suite" section; the rest of the file is kept as it is. Without the
markers the section is added at the end.
"""

import json
import os
import sys
import time

BEGIN = "<!-- attack-suite: begin (scripts/attack_doc.py) -->"
END = "<!-- attack-suite: end -->"
NAMES = {"builtin": "builtin", "lwip": "lwip", "linux": "Linux"}


def human(n):
    """Bytes as a short string: 0, 512 B, 1.5 KiB, 3.2 MiB."""
    if n == 0:
        return "0"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d B" % n) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return str(n)


def cell(row):
    """One attack x target cell: verdict, stack memory, RSS."""
    if row is None:
        return "not run"
    mem = " / ".join(human(x) for x in row["mem"])
    rss = " / ".join(human(x * 1024) for x in row["rss_kib"])
    verdict = "**held**" if row["result"] == "held" else \
        "**%s**" % row["result"]
    return "%s; mem %s; RSS %s" % (verdict, mem, rss)


def table(results):
    """The markdown that goes between the markers."""
    rows = results["rows"]
    targets = []
    attacks = []
    for r in rows:
        if r["target"] not in targets:
            targets.append(r["target"])
        if r["attack"] not in attacks:
            attacks.append(r["attack"])
    by = {(r["attack"], r["target"]): r for r in rows}
    out = ["Last full run: %s, Linux %s%s; %d frames sent." % (
        time.strftime("%Y-%m-%d", time.gmtime()), results["kernel"],
        " (quick form)" if results["quick"] else "",
        sum(r.get("frames", 0) for r in rows)), ""]
    out.append("| attack | " + " | ".join(NAMES.get(t, t) for t in targets)
               + " |")
    out.append("|---|" + "---|" * len(targets))
    for a in attacks:
        out.append("| %s | %s |" % (a, " | ".join(
            cell(by.get((a, t))) for t in targets)))
    notes = [r for r in rows if r["result"] != "held"]
    if notes:
        out += ["", "Disturbed, and how:", ""]
        for r in notes:
            out.append("- %s, %s: %s" % (NAMES.get(r["target"], r["target"]),
                                         r["attack"], r["why"]))
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    doc = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "docs",
        "SECURITY.md")
    with open(sys.argv[1]) as f:
        results = json.load(f)
    with open(doc) as f:
        text = f.read()
    body = BEGIN + "\n\n" + table(results) + "\n" + END
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + body + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Attack suite\n\n" + body + "\n"
    with open(doc, "w") as f:
        f.write(text)
    print("attack_doc: wrote %d rows into %s" % (len(results["rows"]), doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
