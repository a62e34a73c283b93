#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# stack_linux.py over the xdp link (AF_XDP, cove-plugin only): builtin
# served on xdp:cvb in native mode with the full transfers, in generic
# mode and impaired with the small ones, byte for byte as over packet:.
# The kernel control round runs in stack_linux.py's own test.
# Skipped, and says so, only when the build was configured -Dplugin=false.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib/plugin.sh
COVE=$plugin exec /usr/bin/python3 tests/integration/stack_linux.py \
	--stack builtin --no-control --rounds xdp,xdp-generic,xdp-impaired "$@"
