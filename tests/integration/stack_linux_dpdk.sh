#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# stack_linux.py over the dpdk link of cove-plugin: builtin served on
# dpdk:net_af_packet0 and dpdk:net_af_xdp0 (a veth) and dpdk:net_tap0 (a
# TAP), the full suite
# byte for byte, the impaired round on net_tap, and after each an idle
# check (under 1% of a core over 10 s: the link's interrupt mode).
# Skipped, and says so, only when the build was configured -Dplugin=false.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/plugin.sh
COVE=$plugin exec /usr/bin/python3 tests/integration/stack_linux.py \
	--stack builtin --no-control \
	--rounds dpdk-packet,dpdk-xdp,dpdk-tap,dpdk-impaired "$@"
