#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""containerd (Debian's 1.6) with `ctr run --runc-binary` pointing at cove.

That is the path a Kubernetes RuntimeClass with BinaryName takes: the
runc v2 shim (containerd-shim-runc-v2) drives cove through go-runc, with
`--root /run/containerd/runc/NAMESPACE --log ... --log-format json`
before every verb. A private containerd runs for the test (its own
root, state and socket in a temp dir; namespace cove-test), and the
image is an OCI layout of a busybox-static root made here and imported
with `ctr images import` (no registry).

Checked: run --rm with output and exit status 3; run -d, task exec
(status 5), task ps (go-runc's `ps --format json`), task kill (143),
task delete, container delete, run -t through a pty (driven by
script); nothing of Cove's left.
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402

BUSYBOX = "/bin/busybox"
COVE = os.path.abspath(sb.cove_bin())
NS = "cove-test"
IMAGE = "docker.io/library/cove-oci-test:1"


def blob_id(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def make_image(top):
    """An OCI image layout tarball of a busybox-static root."""
    root = os.path.join(top, "rootfs")
    for sub in ("bin", "proc", "dev", "sys", "tmp", "etc"):
        os.makedirs(os.path.join(root, sub))
    shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
    for a in ("sh", "echo", "sleep", "cat", "true"):
        os.symlink("busybox", os.path.join(root, "bin", a))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        t.add(root, arcname=".")
    layer = buf.getvalue()
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers",
                                 "diff_ids": [blob_id(layer)]},
                      "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]}}
                     ).encode()
    man = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": blob_id(cfg), "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": blob_id(layer), "size": len(layer)}]}).encode()
    idx = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": blob_id(man), "size": len(man),
        "annotations": {"io.containerd.image.name": IMAGE,
                        "org.opencontainers.image.ref.name": "1"}}]}
                     ).encode()
    path = os.path.join(top, "image.tar")
    with tarfile.open(path, "w") as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", idx)
        for b in (layer, cfg, man):
            add("blobs/sha256/" + blob_id(b)[7:], b)
    return path


class Containerd:
    def __init__(self, top):
        self.sock = os.path.join(top, "containerd.sock")
        cfg = os.path.join(top, "config.toml")
        with open(cfg, "w") as f:
            f.write('version = 2\nroot = "%s/root"\nstate = "%s/state"\n'
                    'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    '[grpc]\n  address = "%s"\n' % (top, top, self.sock))
        self.log = open(os.path.join(top, "containerd.log"), "w")
        self.proc = subprocess.Popen(["containerd", "-c", cfg],
                                     stdout=self.log, stderr=self.log)
        for _ in range(200):
            if self.ctr("version").returncode == 0:
                break
            time.sleep(0.05)

    def ctr(self, *args, timeout=60, **kw):
        return subprocess.run(["ctr", "-a", self.sock, "-n", NS] +
                              list(args), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL,
                              **kw)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    runc_root = "/run/containerd/runc/" + NS
    top = tempfile.mkdtemp(prefix="cove-ctrd-")
    d = Containerd(top)
    run = ["run", "--snapshotter", "native", "--runc-binary", COVE]
    try:
        r = d.ctr("images", "import", "--snapshotter", "native",
                  make_image(top))
        c.check("ctr images import", r.returncode == 0, r.stderr)
        r = d.ctr(*run, "--rm", IMAGE, "c1", "sh", "-c",
                  "echo hi-ctr; cat /proc/1/comm; exit 3")
        c.check("ctr run --rm: output, PID 1 the sentry, exit status 3",
                r.returncode == 3 and r.stdout == "hi-ctr\ncove-sentry\n",
                r.stdout + r.stderr)
        r = d.ctr(*run, "-d", IMAGE, "c2", "sleep", "100")
        c.check("ctr run -d", r.returncode == 0, r.stderr)
        r = d.ctr("task", "exec", "--exec-id", "e1", "c2", "sh", "-c",
                  "echo in-exec; exit 5")
        c.check("ctr task exec: output, status 5", r.returncode == 5 and
                r.stdout == "in-exec\n", r.stdout + r.stderr)
        r = d.ctr("task", "ps", "c2")
        c.check("ctr task ps: the container's pids", r.returncode == 0 and
                len(r.stdout.split("\n")) >= 3, r.stdout + r.stderr)
        r = d.ctr("task", "kill", "c2")
        for _ in range(100):
            ls = d.ctr("task", "ls")
            if "STOPPED" in ls.stdout:
                break
            time.sleep(0.05)
        dl = d.ctr("task", "delete", "c2")
        c.check("ctr task kill: stopped with status 143, task delete",
                r.returncode == 0 and "STOPPED" in ls.stdout and
                dl.returncode == 0 and "143" in dl.stderr,
                r.stderr + ls.stdout + dl.stdout + dl.stderr)
        r = d.ctr("container", "delete", "c2")
        c.check("ctr container delete", r.returncode == 0, r.stderr)
        tty = " ".join(["ctr", "-a", d.sock, "-n", NS] + run +
                       ["-t", "--rm", IMAGE, "c3", "sh"])
        r = subprocess.run(["script", "-qec", tty, "/dev/null"],
                           input="echo in-shell-$((6*7)); tty; exit 4\n",
                           capture_output=True, text=True, timeout=30)
        c.check("ctr run -t through a pty (the shim's console socket): "
                "input, tty, exit status 4", r.returncode == 4 and
                "in-shell-42" in r.stdout and "/dev/pts/0" in r.stdout,
                r.stdout + r.stderr)
    finally:
        for cid in ("c1", "c2", "c3"):
            d.ctr("task", "delete", "--force", cid)
            d.ctr("container", "delete", cid)
        d.ctr("images", "rm", IMAGE)
        d.stop()
        left_oci = os.listdir(runc_root) if os.path.isdir(runc_root) else []
        if os.path.isdir(runc_root) and not left_oci:
            os.rmdir(runc_root)
        subprocess.run(["umount", "-R", os.path.join(top, "root")],
                       capture_output=True)
        shutil.rmtree(top, ignore_errors=True)
    left = sb.settle(before)
    c.check("nothing left behind", not left and not left_oci,
            str(left) + str(left_oci))
    c.exit()


if __name__ == "__main__":
    main()
