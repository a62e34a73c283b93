# SPDX-License-Identifier: Apache-2.0
"""Check that Cove's C sources carry the comments STYLE.md asks for.

For every C file git tracks under src/ (*.c and *.h):

 - line 1 is the SPDX line ("// SPDX-License-Identifier: ..." or
   "/* SPDX-License-Identifier: ... */") and line 2 opens a comment that
   says what the file is for (a one-line "/* ... */", or a block whose
   first line after "/*" says it);

 - every function definition whose body is 15 lines or more (from the line
   of its "{" to the line of its "}", both counted) has a kernel-doc comment:
   a comment block that ends on the line just above the definition (no blank
   line between) and opens with the function's name, "/* name() - what" or
   "/**" then " * name() - what". A comment that names another function does
   not count, so a rename cannot leave a stale one behind.
   The one other place accepted (kept simple on purpose): the same comment
   directly above the function's declaration in a header the file includes
   with quotes (looked up in src/, include/ and the file's own folder, and
   followed through the headers that header includes). That is where the
   public APIs (control.h, netlink.h, the ABI headers in include/cove/)
   document their functions; a static function has no declaration
   elsewhere and is documented where it is defined.

Files under EXEMPT are skipped (see below).

The parser relies on the layout .clang-format enforces (kernel style): a
function's "{" and "}" stand alone in column 0 and its signature starts in
column 0, continuation lines indented. Nothing else in the tree puts a
lone "{" in column 0: struct, enum and initializer braces stay on the line
that opens them, and macro bodies (preprocessor lines) are skipped.

Prints "file:line name" for each function without one, "file: reason" for
each file without its SPDX or purpose line, and a count; exits 1 if any.

Usage: doccomments.py [--all]   (--all: ignore EXEMPT, to see what is left)
"""
import os
import re
import subprocess
import sys

MIN_BODY = 15

# Files skipped by the check. This list must stay empty: every file
# passes, so document a new function instead of adding an entry here.
EXEMPT = []

SPDX = re.compile(r"^(//|/\*) SPDX-License-Identifier: \S+")
IDENT_CALL = re.compile(r"([A-Za-z_]\w*)\s*\(")
NOT_NAMES = {"__attribute__", "__typeof__", "typeof", "sizeof", "defined"}


def exempt(path):
    return any(path == e or (e.endswith("/") and path.startswith(e))
               for e in EXEMPT)


def strip_comments_and_strings(lines):
    """Lines with comments, string and char literals blanked out.

    Blanking keeps columns and line numbers, so a "{" or "}" found in the
    result is real code. Preprocessor lines (and their continuations) are
    blanked too: a macro body is not a function definition.
    """
    out = []
    in_comment = False
    in_pp = False
    for line in lines:
        res = []
        i = 0
        n = len(line)
        if not in_comment and (in_pp or line.lstrip().startswith("#")):
            in_pp = line.rstrip().endswith("\\")
            out.append("")
            continue
        while i < n:
            c = line[i]
            if in_comment:
                if line.startswith("*/", i):
                    in_comment = False
                    i += 2
                else:
                    i += 1
                res.append(" ")
                continue
            if line.startswith("/*", i):
                in_comment = True
                res.append(" ")
                i += 2
                continue
            if line.startswith("//", i):
                break
            if c in "\"'":
                q = c
                res.append(" ")
                i += 1
                while i < n and line[i] != q:
                    i += 2 if line[i] == "\\" else 1
                    res.append(" ")
                i += 1
                continue
            res.append(c)
            i += 1
        out.append("".join(res))
    return out


def function_name(signature):
    """The defined function's name: the first identifier before a "(".

    __attribute__((...)) and the like are skipped; a function returning a
    function pointer is not used in Cove and would be misnamed.
    """
    for m in IDENT_CALL.finditer(signature):
        if m.group(1) not in NOT_NAMES:
            return m.group(1)
    return None


def comment_above(raw, idx):
    """Text of the comment block ending on raw[idx - 1], or None."""
    j = idx - 1
    if j < 0 or not raw[j].rstrip().endswith("*/"):
        return None
    start = j
    while start >= 0 and "/*" not in raw[start]:
        start -= 1
    if start < 0:
        return None
    return raw[start:j + 1]


def names_function(block, name):
    """Does the comment block open with "name()" (kernel-doc)?"""
    text = []
    for line in block:
        s = line.strip()
        if s.startswith("/**"):
            s = s[3:]
        elif s.startswith("/*"):
            s = s[2:]
        elif s.startswith("*") and not s.startswith("*/"):
            s = s[1:]
        s = s.replace("*/", "").strip()
        if s:
            text.append(s)
    if not text:
        return False
    return re.match(re.escape(name) + r"\(\)", text[0]) is not None


def functions(raw):
    """Yield (signature start index, name, body lines) of each definition."""
    code = strip_comments_and_strings(raw)
    i = 0
    while i < len(code):
        if code[i].rstrip() != "{":
            i += 1
            continue
        open_at = i
        close_at = open_at + 1
        while close_at < len(code) and code[close_at].rstrip() != "}":
            close_at += 1
        start = open_at - 1
        while start > 0 and code[start][:1] in (" ", "\t"):
            start -= 1
        # "static void __attribute__((noreturn))" on a line of its own
        # above the name belongs to the signature (clang-format splits it).
        while start > 0 and code[start - 1].strip() and \
                not code[start - 1].rstrip().endswith((";", "}", "{")):
            start -= 1
        signature = " ".join(code[start:open_at])
        name = function_name(signature)
        if name:
            yield start, name, close_at - open_at + 1
        i = close_at + 1


def includes(path, raw):
    """Headers of src/ or include/ that path includes with quotes."""
    here = os.path.dirname(path)
    for line in raw:
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if not m:
            continue
        for base in ("src", "include", here):
            h = os.path.normpath(os.path.join(base, m.group(1)))
            if os.path.isfile(h):
                yield h
                break


def header_docs(path, raw, cache):
    """Names documented at their declaration in the headers path includes.

    Followed through headers that include others (ctl_internal.h includes
    control.h), each header read once.
    """
    names = set()
    seen = set()
    todo = list(includes(path, raw))
    while todo:
        h = todo.pop()
        if h in seen:
            continue
        seen.add(h)
        if h not in cache:
            with open(h, encoding="utf-8") as f:
                hraw = f.read().split("\n")
            cache[h] = (declared_docs(hraw), list(includes(h, hraw)))
        docs, more = cache[h]
        names |= docs
        todo.extend(more)
    return names


def declared_docs(raw):
    """Names whose declaration in a header has a kernel-doc comment above."""
    code = strip_comments_and_strings(raw)
    names = set()
    for i, line in enumerate(code):
        if not line[:1].strip() or line.startswith(("}", "{")):
            continue
        name = function_name(line)
        if not name:
            continue
        block = comment_above(raw, i)
        if block and names_function(block, name):
            names.add(name)
    return names


def check_top(path, raw):
    if not raw or not SPDX.match(raw[0]):
        return "line 1 is not an SPDX-License-Identifier line"
    second = raw[1].strip() if len(raw) > 1 else ""
    if not second.startswith("/*"):
        return "line 2 is not a comment saying what the file is for"
    purpose = second[2:].replace("*/", "").strip()
    if not purpose and len(raw) > 2:
        purpose = raw[2].strip().lstrip("*").strip()
    if not purpose:
        return "the comment on line 2 says nothing"
    return None


def main():
    use_exempt = "--all" not in sys.argv[1:]
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    os.chdir(top)
    files = subprocess.run(["git", "ls-files", "src/*.c", "src/*.h"],
                           check=True, capture_output=True,
                           text=True).stdout.split()
    cache = {}
    missing = 0
    bad_top = 0
    checked = 0
    skipped = 0
    for path in files:
        if use_exempt and exempt(path):
            skipped += 1
            continue
        checked += 1
        with open(path, encoding="utf-8") as f:
            raw = f.read().split("\n")
        why = check_top(path, raw)
        if why:
            print(f"{path}: {why}")
            bad_top += 1
        documented = None
        for start, name, body in functions(raw):
            if body < MIN_BODY:
                continue
            block = comment_above(raw, start)
            if block and names_function(block, name):
                continue
            if documented is None:
                documented = header_docs(path, raw, cache)
            if name in documented:
                continue
            print(f"{path}:{start + 1} {name}() ({body} lines) has no "
                  f"kernel-doc comment \"/* {name}() - ... */\"")
            missing += 1
    note = f", {skipped} exempt" if skipped else ""
    if missing or bad_top:
        print(f"doccomments: {missing} function(s) of {MIN_BODY}+ lines "
              f"without a doc comment, {bad_top} file(s) without SPDX or "
              f"purpose line ({checked} files checked{note})")
        return 1
    print(f"doccomments: {checked} files checked{note}; every function of "
          f"{MIN_BODY}+ lines has a doc comment")
    return 0


if __name__ == "__main__":
    sys.exit(main())
