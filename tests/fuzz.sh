#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run libFuzzer targets: tests/fuzz.sh SECONDS [TARGET...]
# Seeds come from fuzz/corpus/TARGET; new inputs go to a scratch copy, so
# the repo's corpus only changes by hand.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in "${FUZZ:-build-fuzz}"/fuzz/fuzz_*; do [ -f "$f" ] && [ -x "$f" ] && targets+=("$(basename "$f")"); done
fi
for t in "${targets[@]}"; do
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	[ -d "fuzz/corpus/$t" ] && cp -r "fuzz/corpus/$t/." "$work/"
	echo "fuzz: $t for ${secs}s"
	"${FUZZ:-build-fuzz}/fuzz/$t" -max_total_time="$secs" -rss_limit_mb=2048 \
		-print_final_stats=1 "$work"
	rm -rf "$work"
done
