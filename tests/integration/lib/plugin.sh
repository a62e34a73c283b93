# SPDX-License-Identifier: Apache-2.0
# Sourced by the tests that run cove-plugin: sets $plugin to its path, or
# ends the test. A build configured -Dplugin=false has no cove-plugin and
# the test is skipped, saying so; any other build without it fails.
build=${COVE_BUILD:-$PWD/build}
plugin=$build/src/cli/cove-plugin
if [ ! -x "$plugin" ]; then
	if meson introspect --buildoptions "$build" 2>/dev/null |
		python3 -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(sys.stdin)}; sys.exit(0 if o.get("plugin") is False else 1)'; then
		echo "SKIP: $build was configured with -Dplugin=false (no cove-plugin)"
		exit 0
	fi
	echo "FAIL: $plugin is missing but -Dplugin is not false"
	exit 1
fi
