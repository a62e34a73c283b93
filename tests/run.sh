#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Run every test and end with "N passed, N failed".
#
#  - unit tests: every meson test() of the ASan+UBSan build;
#  - integration tests: tests/integration/*.sh and *.py (root; they make
#    and remove their own network namespaces), against build/;
#  - fuzz smoke: each libFuzzer target of build-fuzz for a few seconds;
#  - lint: tests/lint/*.sh (cppcheck, clang-format), no build needed.
#
# Usage: tests/run.sh [PATTERN]   (only tests whose name contains PATTERN)
set -u
cd "$(dirname "$0")/.."
top=$PWD
pattern=${1:-}
logs=$top/${BUILD:-build}/test-logs
mkdir -p "$logs"
rm -f "$logs"/*.log

BUILD=${BUILD:-build}
ASAN=${ASAN:-build-asan}
FUZZ=${FUZZ:-build-fuzz}
export COVE_BUILD=$top/$BUILD COVE_ASAN_BUILD=$top/$ASAN
export COVE=$COVE_BUILD/src/cli/cove
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export PYTHONDONTWRITEBYTECODE=1

pass=0
fail=0
failed=()

# run NAME TIMEOUT CMD... - one test; its output goes to a log, shown on failure.
run() {
	local name=$1 limit=$2 log start rc
	shift 2
	[ -n "$pattern" ] && [[ $name != *"$pattern"* ]] && return 0
	log=$logs/${name//[\/:]/_}.log
	start=$(date +%s%N)
	timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
	rc=$?
	local ms=$((($(date +%s%N) - start) / 1000000))
	local secs=$((ms / 1000)).$((ms % 1000 / 100))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		printf 'PASS %-50s %6ss\n' "$name" "$secs"
	else
		fail=$((fail + 1))
		failed+=("$name")
		[ $rc -eq 124 ] && echo "(timed out after ${limit}s)" >>"$log"
		printf 'FAIL %-50s %6ss (exit %d)\n' "$name" "$secs" "$rc"
		tail -n 40 "$log" | sed 's/^/    | /'
	fi
}

# Unit tests (ASan+UBSan).
for t in $(meson test -C "$ASAN" --no-rebuild --list 2>/dev/null); do
	run "unit:$t" 300 meson test -C "$ASAN" --no-rebuild \
		--print-errorlogs "$t"
done

# Integration tests (need root and network namespaces; CI is root).
for t in tests/integration/*.sh tests/integration/*.py; do
	[ -f "$t" ] || continue
	case $t in
	*.py) run "integration:$(basename "$t")" 900 /usr/bin/python3 "$t" ;;
	*) run "integration:$(basename "$t")" 900 bash "$t" ;;
	esac
done

# Fuzz smoke: each target briefly on its seed corpus.
for f in "$FUZZ"/fuzz/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	run "fuzz:$(basename "$f")" 120 env FUZZ="$FUZZ" tests/fuzz.sh 10 "$(basename "$f")"
done

# Lint: static analysis and formatting of the sources.
for t in tests/lint/*.sh; do
	[ -f "$t" ] || continue
	run "lint:$(basename "$t" .sh)" 120 bash "$t"
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "Failed: ${failed[*]} (logs in $logs/)"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
