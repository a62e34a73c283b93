#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Check that every C file git tracks is laid out as .clang-format says;
# fail listing each one that is not, with the command that fixes it.
#
# Layout differs between clang-format versions: .clang-format was tuned
# with Debian 12's clang-format 14, the version scripts/deps.sh installs.
# Where a layout must stay as written (a table), wrap it in
# /* clang-format off */ ... /* clang-format on */.
set -u
cd "$(dirname "$0")/../.."
cf=${CLANG_FORMAT:-clang-format}

if ! command -v "$cf" >/dev/null; then
	echo "format: $cf not installed (scripts/deps.sh installs it)" >&2
	exit 1
fi
bad=()
while read -r f; do
	if ! "$cf" --style=file --dry-run --Werror "$f" 2>/dev/null; then
		n=$("$cf" --style=file "$f" | diff "$f" - | grep -c '^<')
		echo "format: $f is not laid out as .clang-format says ($n lines)"
		bad+=("$f")
	fi
done < <(git ls-files '*.c' '*.h')
if [ ${#bad[@]} -gt 0 ]; then
	echo "format: ${#bad[@]} file(s); fix with: $cf -i ${bad[*]}" \
		"($($cf --version))"
	exit 1
fi
echo "format: $(git ls-files '*.c' '*.h' | wc -l) files laid out as .clang-format says"
