#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install the Debian packages that building, testing, the demo and the
# benchmarks need. Idempotent: installs only what is missing.
set -euo pipefail

pkgs=(
	# build
	gcc clang libclang-rt-14-dev meson ninja-build pkg-config
	libmnl-dev libseccomp-dev protobuf-c-compiler libprotobuf-c-dev
	libjansson-dev	# config.json and state JSON of the OCI runtime (src/oci)
	liblwip-dev
	libdpdk-dev	# the dpdk link in cove-plugin (DPDK 22.11, pkg-config libdpdk)
	libxdp-dev libbpf-dev	# the xdp link (cove-plugin only)
	# tests, demo, benchmarks: real peers and programs
	iproute2 iputils-ping curl python3 socat procps nftables
	redis-server redis-tools nginx-light busybox-static iperf3
	dnsmasq-base unbound memcached dnsutils	# UDP servers, dig (sandbox_udp.py)
	ethtool		# TSO/GSO off on veth peers of packet: links
	strace gdb	# stack_linux.py: an idle xdp link makes no syscalls; sandbox_debug.py
	tcpdump		# sandbox_pcap.py reads --pcap files back
	python3-scapy	# the attack suite's crafted frames (tests/attack/, make attack)
	bsdextrautils	# column(1): the demo's tables
	# lint steps of make check (tests/lint/)
	cppcheck clang-format
	# benchmarks (make bench, and its smoke test in make check): the
	# peers Cove is compared with, load generators, plots
	runc slirp4netns passt wrk python3-matplotlib
	# the OCI runtime driven by podman and containerd (tests/integration/oci_*.py)
	podman conmon
	containerd	# its runc v2 shim drives cove (tests/integration/oci_containerd.py)
	# a private dockerd with a cove runtime (tests/integration/oci_docker.py);
	# where systemd runs, the package also enables the system's dockerd,
	# which the tests never use
	docker.io
	runsc		# gVisor, compared in make bench's container start rows (bench/containers.py)
	# servers on their IPv6 defaults (tests/integration/sandbox_ipv6_apps.py):
	# a static Go HTTP server built at test time (tests/sandbox/httpd.go)
	golang-go
)
# node too, from Debian's nodejs unless a node is already installed (one
# from another source, e.g. NodeSource's nodejs, is kept as it is).
command -v node >/dev/null || pkgs+=(nodejs)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root to install)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
