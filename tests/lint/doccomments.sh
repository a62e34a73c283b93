#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fail on a C file of src/ without its SPDX and purpose lines, or a function
# of 15 lines or more without a kernel-doc comment (see doccomments.py).
exec /usr/bin/python3 "$(dirname "$0")/doccomments.py" "$@"
