#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make bench`: every benchmark in one go (see docs/BENCHMARKS.md).
#   bench/run.sh            full profile (3 runs each, ~20 minutes)
#   bench/run.sh --quick    one short run each (~3 minutes)
#   bench/run.sh ARGS...    passed to bench/bench.py (--help for the list)
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
for a in "$@"; do
	case $a in
	--quick) args+=(--profile quick) ;;
	*) args+=("$a") ;;
	esac
done
exec /usr/bin/python3 bench/bench.py "${args[@]}"
