#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo (placeholder until the stack lands): show the build works.
set -eu
cd "$(dirname "$0")/.."
build/src/cli/cove stacks
