# SPDX-License-Identifier: Apache-2.0
"""A busybox-static root file system for the engine tests (podman, Docker),
made here from Debian's busybox-static: no registry, no download.

busybox_root() lays the tree out; busybox_tar() packs it for `podman
import` and `docker import`.
"""

import os
import shutil
import tarfile

BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "echo", "sleep", "cat", "kill", "true", "httpd", "grep",
           "mkdir", "head", "tr", "wget", "nc", "ls", "pidof")
INDEX = "hello-from-cove\n"


def busybox_root(top, applets=APPLETS, files=None):
    """TOP/rootfs: /bin/busybox and its applets as symlinks, the usual
    mount points, /www/index.html (INDEX), /bin/pause (sleeps forever)
    and @files ({path: bytes, executable under /bin, or (bytes, mode)})."""
    root = os.path.join(top, "rootfs")
    for sub in ("bin", "proc", "dev", "sys", "tmp", "etc", "www"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    with open(os.path.join(root, "www", "index.html"), "w") as fh:
        fh.write(INDEX)
    files = dict(files or {})
    # A pod's infra command (podman pod create --infra-command /bin/pause).
    files.setdefault("/bin/pause", b"#!/bin/sh\nexec sleep 2147483647\n")
    for path, data in files.items():
        mode = 0o755 if path.startswith("/bin/") else 0o644
        if isinstance(data, tuple):
            data, mode = data
        full = os.path.join(root, path.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(data)
        os.chmod(full, mode)
    shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
    for a in applets:
        os.symlink("busybox", os.path.join(root, "bin", a))
    return root


def busybox_tar(top, files=None):
    """TOP/bb.tar: busybox_root() as a tarball (the import format)."""
    root = busybox_root(top, files=files)
    tar = os.path.join(top, "bb.tar")
    with tarfile.open(tar, "w") as t:
        t.add(root, arcname=".")
    return tar
