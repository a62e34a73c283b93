# SPDX-License-Identifier: Apache-2.0
"""Private network namespaces for tests: make, enter, run in, always remove.

Theory of operation: every namespace a test makes is a Netns, named with a
caller-chosen prefix plus the pid (``cv-serve-1234-a``), registered in a
module-level list and deleted by cleanup(), which runs at interpreter exit
(atexit) and on SIGTERM, and which callers also use in ``finally``. A
namespace's processes are killed before it goes, so nothing outlives the
test. enter() moves the *calling thread* (tests are single-threaded) into a
namespace with setns(2), so plain ``socket`` code and child processes run
there; leave() returns to the namespace the test started in.
"""

import atexit
import ctypes
import os
import signal
import subprocess

CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)
_live = []
_home_fd = None


def sh(*args, check=True, ns=None, **kw):
    """Run a command (in namespace @ns if given); return CompletedProcess."""
    cmd = list(args)
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns.name] + cmd
    return subprocess.run(cmd, check=check, capture_output=True, text=True,
                          **kw)


def _setns(path):
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (path, os.strerror(err)))
    finally:
        os.close(fd)


class Netns:
    """One named network namespace with its loopback up."""

    def __init__(self, name):
        global _home_fd
        if _home_fd is None:
            _home_fd = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.name = name
        sh("ip", "netns", "add", name)
        _live.append(self)
        self.ip("link", "set", "lo", "up")

    def ip(self, *args, check=True):
        """Run ``ip -n NAME ARGS``."""
        return sh("ip", "-n", self.name, *args, check=check)

    def popen(self, args, **kw):
        """Start a process inside the namespace."""
        return subprocess.Popen(["ip", "netns", "exec", self.name] + list(args),
                                **kw)

    def run(self, *args, check=True, **kw):
        """Run a command inside the namespace to completion."""
        return sh(*args, check=check, ns=self, **kw)

    def enter(self):
        """Move the calling thread into this namespace."""
        _setns("/var/run/netns/" + self.name)

    def delete(self):
        """Kill what runs inside, then remove the namespace (idempotent)."""
        if self not in _live:
            return
        _live.remove(self)
        pids = sh("ip", "netns", "pids", self.name, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", self.name, check=False)


def leave():
    """Return the calling thread to the namespace the test started in."""
    if _home_fd is not None:
        if _libc.setns(_home_fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(home): " + os.strerror(err))


def cleanup():
    """Delete every namespace still alive; safe to call many times."""
    try:
        leave()
    except OSError:
        pass
    for ns in list(_live):
        ns.delete()


def _on_term(signum, frame):
    cleanup()
    os._exit(128 + signum)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, _on_term)


def veth_pair(a, a_if, b, b_if):
    """A veth pair with one end in namespace @a and the other in @b, both up."""
    sh("ip", "link", "add", a_if, "netns", a.name, "type", "veth",
       "peer", "name", b_if, "netns", b.name)
    a.ip("link", "set", a_if, "up")
    b.ip("link", "set", b_if, "up")


def no_segmentation_offload(ns, ifname):
    """TSO/GSO off on @ifname: its peer then only sees MTU-sized frames.

    Needed on the Linux end of a veth whose other end an AF_PACKET link
    reads (see docs/LINKS.md); harmless elsewhere.
    """
    ns.run("ethtool", "-K", ifname, "tso", "off", "gso", "off")


def tap(ns, ifname):
    """A persistent TAP device in @ns, up (the stack attaches to it later)."""
    ns.ip("tuntap", "add", "dev", ifname, "mode", "tap")
    ns.ip("link", "set", ifname, "up")


def unique(tag, suffix=""):
    """A namespace name unique to this process: cv-TAG-PID[-SUFFIX]."""
    name = "cv-%s-%d" % (tag, os.getpid())
    return name + ("-" + suffix if suffix else "")
