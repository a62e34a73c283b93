# SPDX-License-Identifier: Apache-2.0
"""Sentry memory: idle, and per idle TCP connection, for each stack.

Theory of operation: for each network mode (builtin, kernel, and lwip when
cove-plugin exists) one sandbox runs a small server (python3) that accepts
connections on port 9000, writes one byte on each and holds it. Once the
sandbox has settled, the sentry's memory is read from
/proc/PID/smaps_rollup (Rss, Pss, Anonymous) and /proc/PID/smaps (the
link's ring mappings, `socket:[...]`), and `cove stats` gives the stack's
own mem_bytes; then the host opens N connections, waits for every byte
(so every connection is accepted by the program and idle), and reads the
same again. Reported per mode: idle RSS (all, anonymous, link rings),
and per idle connection the growth of the sentry's RSS and of the
stack's mem_bytes, divided by N. The program's own memory is not the
sentry's and is not counted; neither is kernel memory outside the
sentry's mappings (the AF_UNIX pair of each socket), which a plain
container's kernel sockets would hold too.
"""

import os
import resource
import socket
import subprocess
import time

SERVER = r'''
import socket
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 9000))
l.listen(4096)
held = []
print("ready", flush=True)
while True:
    c, _ = l.accept()
    c.sendall(b"x")
    held.append(c)
'''


def _kib(path, keys):
    out = dict.fromkeys(keys, 0)
    with open(path) as f:
        for line in f:
            k = line.split(":")[0]
            if k in out:
                out[k] = int(line.split()[1])
    return out


def sentry_memory(pid):
    """{rss, pss, anon, rings} of process @pid, KiB."""
    r = _kib("/proc/%d/smaps_rollup" % pid, ("Rss", "Pss", "Anonymous"))
    rings, name = 0, ""
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5:
                name = head[5] if len(head) > 5 else ""
            elif head and head[0] == "Rss:" and name.startswith("socket:"):
                rings += int(head[1])
    return {"rss": r["Rss"], "pss": r["Pss"], "anon": r["Anonymous"],
            "rings": rings}


def _listing(cove, name):
    r = subprocess.run([cove, "list"], capture_output=True, text=True,
                       timeout=20)
    for line in r.stdout.splitlines()[1:]:
        f = line.split()
        if f and f[0] == name:
            return f[1], int(f[3])
    return None, None


def _mem_bytes(cove, name):
    r = subprocess.run([cove, "stats", name], capture_output=True,
                       text=True, timeout=20)
    for line in r.stdout.splitlines():
        k, _, v = line.partition(" ")
        if k == "mem_bytes":
            return int(v)
    return 0


def _one(cove, net, n, tag):
    name = "cvmem-%d-%s" % (os.getpid(), net)
    box = subprocess.Popen([cove, "run", "--network=" + net, "--name", name,
                            "--", "/usr/bin/python3", "-c", SERVER],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)
    conns = []
    try:
        if box.stdout.readline().strip() != "ready":
            raise RuntimeError("%s: the server did not start: %s" %
                               (tag, box.stderr.read()[-300:]))
        addr, pid = _listing(cove, name)
        if not pid:
            raise RuntimeError("%s: not in cove list" % tag)
        time.sleep(1.0)  # start-up allocations settle
        idle = sentry_memory(pid)
        mem0 = _mem_bytes(cove, name)
        for _ in range(n):
            s = socket.create_connection((addr, 9000), timeout=10)
            conns.append(s)
        for s in conns:
            if s.recv(1) != b"x":
                raise RuntimeError("%s: a connection was not served" % tag)
        time.sleep(1.0)
        busy = sentry_memory(pid)
        mem1 = _mem_bytes(cove, name)
    finally:
        for s in conns:
            s.close()
        box.terminate()
        try:
            box.wait(timeout=20)
        except subprocess.TimeoutExpired:
            box.kill()
            box.wait()
    return {"idle rss KiB": idle["rss"], "idle anon KiB": idle["anon"],
            "idle rings KiB": idle["rings"], "idle pss KiB": idle["pss"],
            "per conn rss B": (busy["rss"] - idle["rss"]) * 1024.0 / n,
            "per conn mem_bytes B": (mem1 - mem0) / float(n),
            "conns": n}


def measure(cove, plugin, n, progress=None):
    """{mode: figures} for builtin, kernel and (with @plugin) lwip."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, n + 256)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    out = {}
    runs = [(cove, "builtin"), (cove, "kernel")]
    if plugin and os.path.exists(plugin):
        runs.append((plugin, "lwip"))
    for binary, net in runs:
        try:
            out[net] = _one(binary, net, n, net)
        except Exception as e:              # noqa: BLE001
            out[net] = {"error": str(e)[:300]}
        if progress:
            progress(net)
    return out
