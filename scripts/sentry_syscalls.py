#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The sentry's allowed system calls as a table in docs/SECURITY.md.

src/sentry/confine_list.h is the one list (it also builds the filter,
src/sentry/confine.c); this writes it between the markers of
docs/SECURITY.md, or with --check fails if what is there differs.

Usage: scripts/sentry_syscalls.py [--check]
"""

import os
import re
import sys

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
LIST = os.path.join(TOP, "src", "sentry", "confine_list.h")
DOC = os.path.join(TOP, "docs", "SECURITY.md")
BEGIN = "<!-- sentry-syscalls: begin (scripts/sentry_syscalls.py) -->"
END = "<!-- sentry-syscalls: end -->"
ENTRY = re.compile(r'^SBX_SYSCALL\(\s*(\w+),\s*(\w+),\s*"((?:[^"\\]|\\.)*)"\)')
GROUP = re.compile(r"^/\* (.*) \*/$")


def lines():
    """The list's lines, an entry that clang-format wrapped joined again."""
    out = []
    with open(LIST) as f:
        for line in f:
            line = line.strip()
            if out and out[-1].startswith("SBX_SYSCALL(") and \
                    not out[-1].endswith(")"):
                out[-1] += " " + line
            else:
                out.append(line)
    return out


def table():
    rows, group = [], ""
    entries = 0
    for line in lines():
        if True:
            m = GROUP.match(line)
            if m and not line.startswith("/* SPDX"):
                group = m.group(1)
                continue
            if line.startswith("SBX_SYSCALL("):
                entries += 1
            m = ENTRY.match(line)
            if m:
                when, name, why = m.groups()
                rows.append("| `%s` | %s | %s | %s |" % (
                    name, "every sentry" if when == "ALL" else
                    "--link=" + when.lower(), group, why))
    if not rows or len(rows) != entries:
        sys.exit("sentry_syscalls: %d of %d SBX_SYSCALL entries of %s "
                 "understood" % (len(rows), entries, LIST))
    head = ["| call | allowed in | for | why |", "|---|---|---|---|"]
    return "\n".join([BEGIN, ""] + head + rows + ["", END])


def main():
    with open(DOC) as f:
        doc = f.read()
    if BEGIN not in doc or END not in doc:
        sys.exit("sentry_syscalls: %s lacks the markers" % DOC)
    a, b = doc.index(BEGIN), doc.index(END) + len(END)
    new = doc[:a] + table() + doc[b:]
    if "--check" in sys.argv[1:]:
        if new != doc:
            sys.exit("sentry_syscalls: docs/SECURITY.md differs from "
                     "src/sentry/confine_list.h: run "
                     "scripts/sentry_syscalls.py")
        return
    with open(DOC, "w") as f:
        f.write(new)


if __name__ == "__main__":
    main()
