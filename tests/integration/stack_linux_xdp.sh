#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# stack_linux.py over the xdp link (AF_XDP, cove-plugin only): builtin
# served on xdp:cvb in native mode with the full transfers, in generic
# mode and impaired with the small ones, byte for byte as over packet:.
# The kernel control round runs in stack_linux.py's own test.
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
	--stack builtin --no-control --rounds xdp,xdp-generic,xdp-impaired "$@"
