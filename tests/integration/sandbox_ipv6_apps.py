#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Real servers on their IPv6 defaults in a sandbox, reached over both
families, compared with Linux (--network=host).

On --network=host and every stack that serves IPv6 (sb.IPV6_STACKS, or
--stacks a,b), three servers each in its own sandbox, fetched with curl
-6 at the sandbox's IPv6 address and curl -4 at its IPv4 one:

- nginx (Debian's nginx-light) with the stock `listen 80; listen
  [::]:80;`: two sockets on one port, the [::] one IPV6_V6ONLY (nginx's
  default ipv6only=on), so an IPv4 client reaches the 0.0.0.0 socket and
  nginx's $server_addr/$remote_addr (sent back in a header) are plain
  IPv4; the page's content is checked.
- node: http.createServer().listen(port) with no host, which binds [::]
  with IPV6_V6ONLY off; its server.address() and each request's
  socket.localAddress/remoteAddress/remoteFamily (an IPv4 client as
  ::ffff:a.b.c.d) are sent back.
- a static Go server (tests/sandbox/httpd.go, built here with Debian's
  golang-go, CGO_ENABLED=0): http.ListenAndServe(":PORT"), whose net
  package opens one [::] socket when its probe (a bind of
  ::ffff:127.0.0.1 with IPV6_V6ONLY off) works, one 0.0.0.0 socket
  otherwise; so IPv6 reaching it shows the probe succeeded, and IPv4
  reaching the same single socket shows it is dual-stack.

What each server reports is normalised (addresses to roles, ephemeral
ports to EPH); the host's must be what Linux gives, and every stack's
must equal the host's.
"""

import json
import os
import secrets
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import sandbox as sb  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
PORT = 8090     # node's and Go's; nginx has the stock 80

# node: server.listen(port) with no host; one JSON line per request.
NODE = r"""
const http = require('http');
const server = http.createServer((req, res) => {
  const s = req.socket;
  res.end(JSON.stringify([req.url, s.localAddress, s.localPort,
                          s.remoteAddress, s.remotePort, s.remoteFamily]) +
          '\n');
});
server.listen(+process.argv[1], () => {
  const a = server.address();
  console.log(JSON.stringify(['listen', a.address, a.family, a.port]));
});
"""


def roles(box):
    """This sandbox's and the host side's addresses, by the role each
    plays, so that observations compare across modes."""
    return {box.ip6: "SELF6", "::ffff:" + box.ip: "SELF4M", box.ip: "SELF4",
            sb.GATEWAY6: "GW6", "::ffff:" + sb.GATEWAY: "GW4M",
            sb.GATEWAY: "GW4"}


def norm(obj, rmap, port):
    """@obj with addresses replaced by roles and ports by PORT or EPH;
    "ADDR:PORT" and "[ADDR]:PORT" strings (Go's) are split first."""
    if isinstance(obj, list):
        return [norm(x, rmap, port) for x in obj]
    if isinstance(obj, str):
        host, sep, p = obj.rpartition(":")
        if sep and p.isdigit() and (host.startswith("[") or
                                    host.count(":") == 0):
            return [norm(host.strip("[]"), rmap, port),
                    norm(int(p), rmap, port)]
        return rmap.get(obj, obj)
    if isinstance(obj, int) and not isinstance(obj, bool):
        if obj == port:
            return "PORT"
        return "EPH" if obj >= 1024 else obj
    return obj


def curl(url, family):
    """GET @url with curl -6 or -4: (exit status, headers, body, stderr)."""
    r = subprocess.run(["curl", "-sS", "-g", "-i", "--max-time", "10",
                        family, url], capture_output=True, text=True,
                       timeout=30)
    head, _, body = r.stdout.replace("\r\n", "\n").partition("\n\n")
    return r.returncode, head, body, r.stderr


def header(head, name):
    for line in head.splitlines()[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def url(box, port, fam, path):
    """The URL of @path on @box's address of family @fam ("-6", "-4")."""
    host = "[%s]" % box.ip6 if fam == "-6" else box.ip
    return "http://%s:%d%s" % (host, port, path)


def both_ports(box, port):
    """Is @port of @box open at both its addresses?"""
    return sb.wait_port(box.ip, port) and sb.wait_port(box.ip6, port)


def serve_nginx(c, net, hdir, page):
    """nginx with `listen 80; listen [::]:80;`: per family, the page and
    its $server_addr $remote_addr as roles."""
    box = sb.Sandbox(["nginx", "-c", os.path.join(hdir, "nginx.conf"),
                      "-p", hdir], network=net).start()
    seen = []
    if c.check(net + ": nginx listening on 80 at both addresses",
               both_ports(box, 80), "".join(box.log[-5:])):
        for fam in ("-6", "-4"):
            rc, head, body, err = curl(url(box, 80, fam, "/"), fam)
            c.check("%s: nginx, curl %s, the page" % (net, fam),
                    rc == 0 and head.split()[1:2] == ["200"] and
                    body == page, "%d %r %s" % (rc, head, err))
            addrs = (header(head, "X-Addr") or "").split()
            seen.append(["nginx", fam, norm(addrs, roles(box), 80)])
    rc = box.stop()
    c.check(net + ": nginx stopped by SIGTERM", rc == 0,
            "%s %s" % (rc, box.log[-3:]))
    return seen


def serve_json(c, net, name, cmd, hdir):
    """@cmd, an HTTP server on PORT that answers with a JSON line about
    the request's connection: that line per family, and what it printed
    on stdout (JSON lines), as roles."""
    out = tempfile.NamedTemporaryFile("w+", dir=hdir, delete=False)
    box = sb.Sandbox(cmd, network=net, stdout=out).start()
    seen = []
    rmap = roles(box)
    if c.check("%s: %s listening at both addresses" % (net, name),
               both_ports(box, PORT), "".join(box.log[-5:])):
        for fam in ("-6", "-4"):
            rc, head, body, err = curl(url(box, PORT, fam, "/" + name + fam),
                                       fam)
            try:
                got = json.loads(body)
            except ValueError:
                got = None
            c.check("%s: %s, curl %s, an answer for its path" %
                    (net, name, fam), rc == 0 and
                    head.split()[1:2] == ["200"] and
                    isinstance(got, list) and got[:1] == ["/" + name + fam],
                    "%d %r %r %s" % (rc, head, body, err))
            seen.append([name, fam, norm(got, rmap, PORT)])
    box.stop()
    with open(out.name) as f:
        seen += [[name, "stdout", norm(json.loads(l), rmap, PORT)]
                 for l in f if l.startswith("[")]
    os.unlink(out.name)
    return seen


def build_go(c, hdir):
    """tests/sandbox/httpd.go built static into @hdir; its path or None."""
    go = shutil.which("go")
    if not c.check("go is installed (golang-go, scripts/deps.sh)", go):
        return None
    build = os.environ.get("COVE_BUILD") or os.path.join(TOP, "build")
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="", GO111MODULE="off",
               GOCACHE=os.path.join(build, "go-cache"),
               GOPATH=os.path.join(build, "go-path"))
    exe = os.path.join(hdir, "httpd")
    r = subprocess.run([go, "build", "-trimpath", "-o", exe,
                        os.path.join(TOP, "tests", "sandbox", "httpd.go")],
                       env=env, capture_output=True, text=True, timeout=300)
    ok = c.check("httpd.go built", r.returncode == 0, r.stderr[-600:])
    ok = ok and c.check("httpd is static (no ELF interpreter)",
                        not elf_interp(exe))
    return exe if ok else None


def elf_interp(path):
    """Does the ELF64 file at @path ask for an interpreter (PT_INTERP)?"""
    with open(path, "rb") as f:
        elf = f.read(1 << 16)
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    return any(struct.unpack_from("<I", elf, phoff + i * phentsize)[0] == 3
               for i in range(phnum))


# What Linux (--network=host) gives; each stack must give the same.
LINUX = [
    # nginx's [::] socket is IPV6_V6ONLY: IPv4 reaches the 0.0.0.0 one.
    ["nginx", "-6", ["SELF6", "GW6"]],
    ["nginx", "-4", ["SELF4", "GW4"]],
    # node's [::] is dual-stack: IPv4 comes as mapped addresses.
    ["node", "stdout", ["listen", "::", "IPv6", "PORT"]],
    ["node", "-6", ["/node-6", "SELF6", "PORT", "GW6", "EPH", "IPv6"]],
    ["node", "-4", ["/node-4", "SELF4M", "PORT", "GW4M", "EPH", "IPv6"]],
    # Go prints mapped addresses as IPv4 (net.IP.String()).
    ["go", "-6", ["/go-6", ["SELF6", "PORT"], ["GW6", "EPH"]]],
    ["go", "-4", ["/go-4", ["SELF4", "PORT"], ["GW4", "EPH"]]],
]


def stacks_to_test():
    """--stacks a,b (else sb.IPV6_STACKS), those this build has."""
    if "--stacks" in sys.argv:
        want = sys.argv[sys.argv.index("--stacks") + 1].split(",")
    else:
        want = list(sb.IPV6_STACKS)
    have = sb.stacks()
    return [s for s in want if s in have]


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    hdir = sb.host_dir("cove-ip6apps-")
    try:
        os.mkdir(os.path.join(hdir, "html"))
        page = "cove %s\n" % secrets.token_hex(16)
        with open(os.path.join(hdir, "html", "index.html"), "w") as f:
            f.write(page)
        with open(os.path.join(hdir, "nginx.conf"), "w") as f:
            f.write(sb.nginx_conf(hdir, '  add_header X-Addr '
                                  '"$server_addr $remote_addr" always;',
                                  listen=["80", "[::]:80"]))
        go = build_go(c, hdir)
        ref = None
        for net in ["host"] + stacks_to_test():
            seen = serve_nginx(c, net, hdir, page)
            seen += serve_json(c, net, "node", ["node", "-e", NODE,
                                                str(PORT)], hdir)
            if go:
                seen += serve_json(c, net, "go", [go, str(PORT)], hdir)
            if ref is None:
                ref = seen
                for w in LINUX:
                    if w[0] != "go" or go:
                        c.check("host: %s %s as Linux gives it" % tuple(w[:2]),
                                w in ref, str(ref))
            else:
                c.check(net + ": every server saw what it sees on Linux",
                        seen == ref, "\n  %s\n  host: %s" % (seen, ref))
    finally:
        shutil.rmtree(hdir, ignore_errors=True)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
