#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# cppcheck over src/ and include/: prints each finding, fails on any.
#
# Fix a finding in the code, or suppress it inline with its reason
# (/* cppcheck-suppress ID ; why */ on the line before). Only what cannot
# be suppressed inline goes in tests/lint/cppcheck.supp, with a comment.
set -u
cd "$(dirname "$0")/../.."

if ! command -v cppcheck >/dev/null; then
	echo "cppcheck: not installed (scripts/deps.sh installs it)" >&2
	exit 1
fi
exec cppcheck -q -j"$(nproc)" --enable=warning,portability,performance \
	--inline-suppr --suppressions-list=tests/lint/cppcheck.supp \
	-Iinclude -Isrc -I. --error-exitcode=1 src include
