#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The default cove binary never carries a third-party stack or a
# kernel-bypass library; cove-plugin carries lwIP and the xdp link (libxdp,
# libbpf), and does not export a symbol lwIP defines (the binary's
# definition would hijack lwIP's internal calls).
#
#  cove:         no NEEDED library or ldd dependency naming a third-party
#                stack, libxdp or libbpf; no lwIP/provider symbol and no
#                xsk_/bpf_ symbol (defined or undefined); `cove stacks`
#                lists no lwip, no xdp link; no DPDK either (no librte_*
#                library, no rte_ symbol, no dpdk link);
#  cove-plugin:  NEEDED liblwip, libxdp and libbpf; `cove-plugin stacks`
#                lists lwip, the xdp and the dpdk links; its
#                dynamic symbol table shares no defined name with liblwip;
#                and no global function of Cove's static libraries has a
#                liblwip name: a static definition wins at link time, so
#                the lwip provider's call would silently bind to Cove's
#                function instead of lwIP's (this happened with the builtin
#                stack's tcp_output); NEEDED librte_ethdev and
#                `cove-plugin stacks` lists the dpdk link.
# Prints PASS/FAIL lines and "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
build=${COVE_BUILD:-$PWD/build}
cove=$build/src/cli/cove
plugin=$build/src/cli/cove-plugin
# Third-party stacks we know of (libraries and symbol prefixes).
libs='lwip|picotcp|smoltcp|mtcp|fstack|seastar|libuinet|rte_'
# Kernel-bypass libraries of the plugin-only links.
bypass='libxdp|libbpf'
bypass_syms='^(xsk_|xdp_program__|xdp_multiprog__|libxdp_|bpf_|libbpf_)'
syms='^(lwip_|lw_|pbuf_|netif_|etharp_|sys_timeout|sys_check_timeouts|tcpip_|pico_|mtcp_|ff_|rte_)'
pass=0
fail=0

check() {	# check NAME COMMAND... : pass if the command succeeds
	local name=$1
	shift
	if "$@"; then
		pass=$((pass + 1)); echo "PASS $name"
	else
		fail=$((fail + 1)); echo "FAIL $name"
	fi
}

no_match() {	# no_match PATTERN TEXT : TEXT has no line matching PATTERN
	local hits
	hits=$(grep -E "$1" <<<"$2" | head -5)
	[ -z "$hits" ] || { echo "    found: $hits"; return 1; }
}

[ -x "$cove" ] || { echo "FAIL $cove is missing"; echo "0 passed, 1 failed"; exit 1; }
check "cove: no third-party stack in NEEDED" \
	no_match "$libs" "$(readelf -d "$cove" | grep NEEDED)"
check "cove: no third-party stack in ldd" \
	no_match "$libs" "$(ldd "$cove")"
check "cove: no lwIP or provider symbols (nm)" \
	no_match "$syms" "$(nm "$cove" | awk '{print $NF}')"
check "cove: no lwIP symbols imported (nm -D -u)" \
	no_match "$syms" "$(nm -D --undefined-only "$cove" | awk '{print $NF}')"
check "cove: 'cove stacks' lists no lwip" \
	no_match '^  lwip ' "$("$cove" stacks)"
check "cove: no DPDK library (librte_*) in NEEDED or ldd" \
	no_match 'librte_' "$(readelf -d "$cove" | grep NEEDED; ldd "$cove")"
check "cove: 'cove stacks' lists no dpdk link" \
	no_match '^  dpdk ' "$("$cove" stacks)"
check "cove: no libxdp or libbpf in NEEDED" \
	no_match "$bypass" "$(readelf -d "$cove" | grep NEEDED)"
check "cove: no libxdp or libbpf in ldd" \
	no_match "$bypass" "$(ldd "$cove")"
check "cove: no libxdp or libbpf symbols (nm)" \
	no_match "$bypass_syms" "$(nm "$cove" | awk '{print $NF}')"
check "cove: 'cove stacks' lists no xdp link" \
	no_match '^  xdp ' "$("$cove" stacks)"

if [ ! -x "$plugin" ]; then
	if meson introspect --buildoptions "$build" 2>/dev/null |
		python3 -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(sys.stdin)}; sys.exit(0 if o.get("plugin") is False else 1)'; then
		echo "SKIP cove-plugin: -Dplugin=false"
	else
		fail=$((fail + 1)); echo "FAIL cove-plugin is missing but -Dplugin is not false"
	fi
else
	check "cove-plugin: NEEDED liblwip" \
		grep -q 'Shared library: \[liblwip' <(readelf -d "$plugin")
	check "cove-plugin: 'cove-plugin stacks' lists lwip" \
		grep -q '^  lwip ' <("$plugin" stacks)
	check "cove-plugin: NEEDED librte_ethdev (the dpdk link)" \
		grep -q 'Shared library: \[librte_ethdev' <(readelf -d "$plugin")
	check "cove-plugin: 'cove-plugin stacks' lists the dpdk link" \
		grep -q '^  dpdk ' <("$plugin" stacks)
	check "cove-plugin: NEEDED libxdp and libbpf" \
		test "$(readelf -d "$plugin" | grep -cE 'Shared library: \[lib(xdp|bpf)\.')" -eq 2
	check "cove-plugin: 'cove-plugin stacks' lists the xdp link" \
		grep -q '^  xdp ' <("$plugin" stacks)
	lwlib=$(ldd "$plugin" | awk '/liblwip/ {print $3}')
	check "cove-plugin: exports nothing liblwip defines" \
		no_match . "$(comm -12 \
			<(nm -D --defined-only "$plugin" | awk '{print $NF}' | sort -u) \
			<(nm -D --defined-only "$lwlib" | awk '{print $NF}' | sort -u))"
	# Read Cove's own archives: in the linked binary these symbols are
	# already local (hidden), but the binding happened before that.
	check "cove-plugin: Cove defines no global function named like one of liblwip's" \
		no_match . "$(comm -12 \
			<(find "$build/src" -name 'libcove_*.a' -exec nm --defined-only {} + 2>/dev/null |
				awk '$2 ~ /^[TW]$/ {print $3}' | sort -u) \
			<(nm -D --defined-only "$lwlib" | awk '{print $NF}' | sort -u))"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
