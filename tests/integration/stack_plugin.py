#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Out-of-tree providers through `stack-serve --stack-plugin`.

  kudp serves:   examples/kudp-stack (UDP on kernel sockets) is loaded into
                 `cove stack-serve` in a private netns with --udp-echo; a
                 Linux client there checks 50 datagrams echoed byte for
                 byte, the stats, the trust warning and a clean exit;
  refusals:      a provider of another ABI version, one without the entry
                 symbol, a text file, an executable, a missing file, and
                 --stack naming another stack: each exits 2 with the
                 warning and one error line naming the problem.

Env: COVE (the cove binary), COVE_BUILD (where the example was built).
"""

import os
import random
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import netns  # noqa: E402
from stackserve import StackServe, ServeError  # noqa: E402

PORT = 7007
passed, failed = 0, []


def check(name, fn):
    global passed
    t0 = time.monotonic()
    try:
        fn()
    except (AssertionError, OSError, ServeError) as e:
        failed.append(name)
        print("FAIL %-50s %s" % (name, e), flush=True)
        return
    passed += 1
    print("PASS %-50s %5.1fs" % (name, time.monotonic() - t0), flush=True)


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def example(variant=""):
    return os.path.join(os.environ["COVE_BUILD"], "examples", "kudp-stack",
                        "libcove-kudp%s.so" % variant)


def kudp_serves():
    ns = netns.Netns(netns.unique("plug", "k"))
    log = os.path.join(os.environ["COVE_BUILD"], "test-logs",
                       "stack_plugin-%d.stderr" % os.getpid())
    os.makedirs(os.path.dirname(log), exist_ok=True)
    srv = StackServe(ns, ["--stack-plugin", example(), "--udp-echo",
                          str(PORT)], stderr_path=log)
    try:
        srv.wait_for("ready", 15)
        ns.enter()
        rnd = random.Random(3)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(2)
            for i in range(50):
                msg = b"%04d" % i + rnd.randbytes(rnd.randint(1, 1400))
                u.sendto(msg, ("127.0.0.1", PORT))
                d, src = u.recvfrom(2048)
                expect(d == msg, "datagram %d differs" % i)
                expect(src == ("127.0.0.1", PORT), "reply from %s" % (src,))
        stats = srv.stats()
        expect(stats.get("udp_in") == 50 and stats.get("sockets") == 1,
               "stats udp_in %s sockets %s" % (stats.get("udp_in"),
                                               stats.get("sockets")))
        rc, final = srv.stop()
        srv = None
        expect(rc == 0 and final, "exit %d" % rc)
        with open(log) as f:
            err = f.read()
        expect("warning: --stack-plugin" in err and "trusted base" in err,
               "no trust warning on stderr: %r" % err)
    finally:
        if srv:
            srv.kill()
        netns.leave()
        ns.delete()
        if os.path.exists(log):
            os.unlink(log)


def refused(args, phrase):
    def run():
        cove = os.environ["COVE"]
        r = subprocess.run([cove, "stack-serve"] + args, capture_output=True,
                           text=True, timeout=10)
        lines = r.stderr.strip().splitlines()
        prog = os.path.basename(cove) + " stack-serve: "
        errors = [x for x in lines if "warning:" not in x]
        expect(r.returncode == 2, "exit %d, want 2" % r.returncode)
        expect(len(lines) == 2 and "warning: --stack-plugin" in lines[0],
               "want the warning and one error line: %r" % r.stderr)
        expect(errors[0].startswith(prog + "--stack-plugin: ") or
               errors[0].startswith(prog + "--stack "),
               "error line %r" % errors[0])
        expect(phrase in errors[0], "%r not in %r" % (phrase, errors[0]))
    return run


def main():
    build = os.environ.setdefault("COVE_BUILD", os.path.abspath("build"))
    os.environ.setdefault("COVE", os.path.join(build, "src", "cli", "cove"))
    if not os.path.exists(example()):
        print("FAIL example plugin %s not built" % example())
        print("0 passed, 1 failed")
        return 1
    try:
        check("kudp plugin serves UDP echo to Linux", kudp_serves)
    finally:
        netns.cleanup()
    check("refused: wrong ABI version",
          refused(["--stack-plugin", example("-badabi")],
                  "speaks stack ABI 99, this cove speaks 2"))
    check("refused: a provider built for ABI v1",
          refused(["--stack-plugin", example("-v1")],
                  "built for stack ABI v1 (it exports cove_netstack_entry_v1);"
                  " this cove speaks v2: rebuild it"))
    check("refused: no entry symbol",
          refused(["--stack-plugin", example("-noentry")],
                  "no symbol cove_netstack_entry_v2"))
    check("refused: not ELF",
          refused(["--stack-plugin", os.path.abspath(__file__)],
                  "not an ELF file"))
    check("refused: an executable",
          refused(["--stack-plugin", os.environ["COVE"]],
                  "cannot dynamically load"))
    check("refused: missing file",
          refused(["--stack-plugin", "/nonexistent/plugin.so"],
                  "No such file or directory"))
    check("refused: --stack names another stack",
          refused(["--stack", "builtin", "--stack-plugin", example()],
                  "the plugin is 'kudp'"))
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
