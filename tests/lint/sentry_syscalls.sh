#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fail when docs/SECURITY.md's table of the sentry's allowed system calls
# differs from src/sentry/confine_list.h, the list the filter is built from.
exec /usr/bin/python3 "$(dirname "$0")/../../scripts/sentry_syscalls.py" --check
