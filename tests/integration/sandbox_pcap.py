#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cove run --pcap FILE: the stack's link frames, read back by tcpdump.

  - builtin and lwip: curl from the host fetches a file from a server
    inside; tcpdump reads the capture without complaint and shows the
    handshake to port 8000, the request and the response in both
    directions;
  - --pcap-size=64k during a 4 MiB fetch: the file stays within 64 KiB and
    still reads to its end (only whole frames are written);
  - --pcap with --network=kernel, and a path that cannot be created: one
    line, exit 125, nothing left behind;
  - cove stack-serve --pcap: Linux pings the stack over a veth in two
    namespaces of the test's own; the echo requests and replies are in the
    file.
"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import sandbox as sb  # noqa: E402
import netns  # noqa: E402


def tcpdump(path, *args):
    return subprocess.run(["tcpdump", "-nn", "-r", path] + list(args),
                          capture_output=True, text=True, timeout=60)


def fetch(ip, name):
    return subprocess.run(["curl", "-sS", "--max-time", "20", "-o",
                           "/dev/null", "-w", "%{http_code}",
                           "http://%s:8000/%s" % (ip, name)],
                          capture_output=True, text=True)


def serve(c, net, d, pcap, extra=()):
    box = sb.Sandbox(["/usr/bin/python3", "-m", "http.server", "8000",
                      "--bind", "0.0.0.0", "--directory", d],
                     network=net, extra=["--pcap", pcap] + list(extra))
    box.start()
    c.check(net + ": serving", sb.wait_port(box.ip, 8000))
    return box


def check_capture(c, net, d):
    pcap = os.path.join(d, "cap-%s.pcap" % net)
    box = serve(c, net, d, pcap)
    r = fetch(box.ip, "small")
    c.check(net + ": fetch through the capturing link", r.stdout == "200",
            r.stdout + r.stderr)
    ip = box.ip
    box.stop()
    t = tcpdump(pcap)
    c.check(net + ": tcpdump reads the capture", t.returncode == 0 and
            "link-type EN10MB" in t.stderr, t.stderr[-300:])
    lines = t.stdout.splitlines()
    syn = [l for l in lines if "> %s.8000: Flags [S]" % ip in l]
    synack = [l for l in lines if "IP %s.8000 >" % ip in l and "[S.]" in l]
    c.check(net + ": the handshake in both directions", syn and synack,
            "\n".join(lines[:8]))
    a = tcpdump(pcap, "-A", "tcp port 8000").stdout
    c.check(net + ": the request and the response inside",
            "GET /small HTTP/1.1" in a and "HTTP/1.0 200 OK" in a, a[-400:])


def check_cap(c, net, d):
    pcap = os.path.join(d, "capped.pcap")
    box = serve(c, net, d, pcap, ["--pcap-size=64k"])
    r = fetch(box.ip, "big")
    c.check(net + ": 4 MiB fetched while capturing with a cap",
            r.stdout == "200", r.stdout + r.stderr)
    box.stop()
    size = os.path.getsize(pcap)
    t = tcpdump(pcap)
    c.check(net + ": the capped file is within 64 KiB (%d bytes) and reads "
            "to its end" % size, 1000 < size <= 65536 and t.returncode == 0
            and "truncated" not in t.stderr, t.stderr[-300:])


def check_refusals(c, d):
    for args, want in ((["--network=kernel", "--pcap", d + "/k.pcap"],
                        "--pcap needs a link-based stack"),
                       (["--pcap", d + "/no/such/dir/x.pcap"],
                        "--pcap " + d + "/no/such/dir/x.pcap")):
        r = sb.run(args + ["--", "true"])
        lines = r.stderr.strip().splitlines()
        c.check("refused with one line, exit 125: %s" % want,
                r.returncode == 125 and len(lines) == 1 and
                want in lines[0], "%d %r" % (r.returncode, r.stderr))


def check_stack_serve(c, d):
    pcap = os.path.join(d, "serve.pcap")
    a, b = netns.Netns(netns.unique("pcap", "a")), \
        netns.Netns(netns.unique("pcap", "b"))
    try:
        netns.veth_pair(a, "va", b, "vb")
        a.ip("addr", "add", "10.99.7.1/24", "dev", "va")
        netns.no_segmentation_offload(a, "va")
        p = b.popen([sb.cove_bin(), "stack-serve", "--link", "packet:vb",
                     "--addr", "10.99.7.2/24", "--echo", "7", "--pcap", pcap],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        c.check("stack-serve --pcap: ready",
                p.stdout.readline().strip() == "ready")
        r = a.run("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.99.7.2",
                  check=False)
        c.check("stack-serve --pcap: Linux pings the stack", r.returncode == 0,
                r.stdout[-200:])
        p.terminate()
        p.wait(10)
        t = tcpdump(pcap, "icmp")
        c.check("stack-serve --pcap: 3 echo requests and 3 replies in the "
                "file", t.stdout.count("ICMP echo request") == 3 and
                t.stdout.count("ICMP echo reply") == 3, t.stdout[-400:])
    finally:
        a.delete()
        b.delete()


def main():
    c = sb.Checks()
    before = sb.Snapshot()
    d = sb.host_dir(prefix="cove-pcap-")
    with open(os.path.join(d, "small"), "w") as f:
        f.write("hello\n" * 100)
    with open(os.path.join(d, "big"), "wb") as f:
        f.write(os.urandom(4 << 20))
    for net in [n for n in sb.stacks() if n != "kernel"]:
        check_capture(c, net, d)
    check_cap(c, "builtin", d)
    check_refusals(c, d)
    check_stack_serve(c, d)
    shutil.rmtree(d)
    left = sb.settle(before)
    c.check("nothing left behind", not left, str(left))
    c.exit()


if __name__ == "__main__":
    main()
