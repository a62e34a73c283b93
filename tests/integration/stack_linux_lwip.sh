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
. tests/integration/lib/plugin.sh
COVE=$plugin exec /usr/bin/python3 tests/integration/stack_linux.py \
	--stack lwip --no-control "$@"
