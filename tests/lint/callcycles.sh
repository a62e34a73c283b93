#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# No two files of src/ call each other, except a stack's protocol layers:
# scripts/callcycles.py over the objects of $COVE_BUILD (default build/).
set -u
cd "$(dirname "$0")/../.."
/usr/bin/python3 scripts/callcycles.py --selftest || exit 1
exec /usr/bin/python3 scripts/callcycles.py "${COVE_BUILD:-build}"
