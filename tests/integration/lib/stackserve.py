# SPDX-License-Identifier: Apache-2.0
"""Drive a `cove stack-serve` process: start, wait for ready, read stats, stop.

The server prints `ready` once serving, `connect: ...` for --connect, and on
SIGUSR1 (and at exit) a block of `name value` lines between `stats begin`
and `stats end`. Output is read with a deadline, so a hung server fails the
test instead of hanging it.
"""

import os
import selectors
import signal
import subprocess
import tempfile
import time


class ServeError(Exception):
    pass


class StackServe:
    """One stack-serve process inside a namespace."""

    def __init__(self, ns, args, cove=None, stderr_path=None):
        cove = cove or os.environ.get("COVE") or "build/src/cli/cove"
        self.ns = ns
        self.args = [cove, "stack-serve"] + list(args)
        if stderr_path:
            self._err = open(stderr_path, "w+")
        else:
            self._err = tempfile.TemporaryFile("w+")
        self.proc = ns.popen(self.args, stdout=subprocess.PIPE,
                             stderr=self._err, bufsize=0)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self._buf = b""
        self.lines = []

    def _fill(self, timeout):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        ready = sel.select(timeout)
        sel.close()
        if not ready:
            return False
        data = self.proc.stdout.read(65536)
        if not data:
            try:
                rc = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                rc = None
            raise ServeError("stack-serve exited (status %s): %s" %
                             (rc, self.stderr_tail()))
        self._buf += data
        return True

    def stderr_tail(self):
        """The last line stack-serve wrote to stderr, for error messages."""
        if self._err.closed:
            return ""
        self._err.flush()
        self._err.seek(0)
        lines = self._err.read().strip().splitlines()
        return lines[-1] if lines else ""

    def readline(self, timeout=10.0):
        """Next stdout line (str, without newline) or ServeError on timeout."""
        end = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = end - time.monotonic()
            if left <= 0 or not self._fill(left):
                raise ServeError("no output from stack-serve within %.0fs"
                                 % timeout)
        line, self._buf = self._buf.split(b"\n", 1)
        text = line.decode(errors="replace")
        self.lines.append(text)
        return text

    def wait_for(self, prefix, timeout=10.0):
        """Read lines until one starts with @prefix; return it."""
        end = time.monotonic() + timeout
        while True:
            line = self.readline(max(0.01, end - time.monotonic()))
            if line.startswith(prefix):
                return line

    def _read_stats(self, timeout):
        self.wait_for("stats begin", timeout)
        stats = {}
        while True:
            line = self.readline(timeout)
            if line == "stats end":
                return stats
            name, _, value = line.partition(" ")
            stats[name] = int(value)

    def stats(self, timeout=10.0):
        """Ask for statistics with SIGUSR1; return them as a dict."""
        self.proc.send_signal(signal.SIGUSR1)
        return self._read_stats(timeout)

    def stop(self, timeout=10.0, sig=signal.SIGTERM):
        """Send @sig (SIGTERM); return (exit status, final stats or None)."""
        if self.proc.poll() is not None:
            return self.proc.returncode, None
        self.proc.send_signal(sig)
        try:
            stats = self._read_stats(timeout)
        except ServeError:
            stats = None
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._err.close()
        return rc, stats

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self._err.closed:
            self._err.close()
