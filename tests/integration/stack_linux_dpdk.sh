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
build=${COVE_BUILD:-$PWD/build}
plugin=$build/src/cli/cove-plugin
if [ ! -x "$plugin" ]; then
	if meson introspect --buildoptions "$build" 2>/dev/null |
		python3 -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(sys.stdin)}; sys.exit(0 if o.get("plugin") is False else 1)'; then
		echo "SKIP: $build was configured with -Dplugin=false (no cove-plugin)"
		exit 0
	fi
	echo "FAIL: $plugin is missing but -Dplugin is not false"
	exit 1
fi
COVE=$plugin exec /usr/bin/python3 tests/integration/stack_linux.py \
	--stack builtin --no-control \
	--rounds dpdk-packet,dpdk-xdp,dpdk-tap,dpdk-impaired "$@"
