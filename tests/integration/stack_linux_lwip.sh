#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# stack_linux.py against the lwip provider of cove-plugin: the tap, packet
# and impaired rounds (the kernel control round runs in stack_linux.py's
# own test). lwIP recovers from loss slowly (no SACK, 500 ms timer ticks,
# see docs/PLUGINS.md): stack_linux.py gives its impaired round 300 s
# per check for lwip.
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
	--stack lwip --no-control "$@"
