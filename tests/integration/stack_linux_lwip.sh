#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# stack_linux.py against the lwip provider of cove-plugin: the tap, packet
# and impaired rounds (the kernel control round runs in stack_linux.py's
# own test). lwIP recovers from loss slowly (no SACK, 500 ms timer ticks,
# see docs/PLUGINS.md): stack_linux.py gives its impaired round 300 s
# per check for lwip.
# Then an IPv6 link round of its own, seen from Linux over a TAP in a
# private netns: the stack's duplicate address detection (an NS from ::
# for its link-local address), a router solicitation and an MLD report on
# the wire, ping6 to the link-local address answered, and Linux's
# neighbour entry for it resolved by the stack's NA.
# Skipped, and says so, only when the build was configured -Dplugin=false.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib/plugin.sh

fails=0

# check NAME CMD... - run CMD quietly, print PASS/FAIL NAME, count failures.
check() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "PASS lwip ip6 link: $name"
	else
		echo "FAIL lwip ip6 link: $name"
		fails=$((fails + 1))
	fi
}

# ip6_link_round - the IPv6 link round (see the header).
ip6_link_round() {
	local ns=cvlw6$$ dir pcap srv td ll mine
	dir=$(mktemp -d)
	pcap=$dir/link.pcap
	ip netns add "$ns" || return 1
	# shellcheck disable=SC2064
	trap "kill \$srv \$td 2>/dev/null; wait 2>/dev/null; ip netns del $ns; rm -rf $dir" RETURN
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip tuntap add dev cvtap0 mode tap
	ip netns exec "$ns" ip link set cvtap0 up
	ip netns exec "$ns" ip addr add 10.77.0.1/24 dev cvtap0
	ip netns exec "$ns" tcpdump -U -n -i cvtap0 -w "$pcap" ip6 \
		2>/dev/null &
	td=$!
	sleep 1
	ip netns exec "$ns" "$plugin" stack-serve --stack lwip \
		--link tap:cvtap0 --addr 10.77.0.2/24 >"$dir/serve.out" \
		2>"$dir/serve.err" &
	srv=$!
	# DAD: one probe, then preferred about a second later
	sleep 3
	# Linux probes for its own link-local address on the TAP too
	mine=$(ip netns exec "$ns" ip -6 addr show dev cvtap0 scope link |
		sed -n 's/.*inet6 \(fe80::[0-9a-f:]*\)\/.*/\1/p')
	ll=$(tcpdump -n -r "$pcap" 2>/dev/null |
		sed -n 's/.* :: > ff02::1:ff[0-9a-f:]*: ICMP6, neighbor solicitation, who has \(fe80::[0-9a-f:]*\),.*/\1/p' |
		grep -vx "${mine:-none}" | head -1)
	check "DAD probe (NS from ::) for the link-local address" test -n "$ll"
	# Linux sends its own: RS from its address, MLDv2 reports; lwIP's
	# are from :: or its own address, and MLDv1
	check "router solicitation" sh -c "tcpdump -n -r '$pcap' 2>/dev/null | grep 'router solicitation' | grep -qv ' ${mine:-none} >'"
	check "MLD (v1) report" sh -c "tcpdump -n -r '$pcap' 2>/dev/null | grep 'multicast listener report' | grep -qv 'report v2'"
	for _ in 1 2 3; do
		ip netns exec "$ns" ping -6 -c 1 -W 1 "$ll%cvtap0" >/dev/null 2>&1 && break
	done
	check "ping6 to $ll" ip netns exec "$ns" ping -6 -c 3 -W 1 "$ll%cvtap0"
	check "Linux's neighbour entry resolved (NA seen)" sh -c "ip netns exec '$ns' ip -6 neigh show dev cvtap0 | grep -q '^$ll lladdr '"
	kill -USR1 "$srv"
	sleep 0.3
	check "icmp6 and nd counters" sh -c "grep -q '^icmp6_in [1-9]' '$dir/serve.out' && grep -q '^nd_solicits [1-9]' '$dir/serve.out'"
}

COVE=$plugin /usr/bin/python3 tests/integration/stack_linux.py \
	--stack lwip --no-control "$@" || fails=$((fails + 1))
ip6_link_round || fails=$((fails + 1))
echo "lwip ip6 link round and stack_linux.py: $fails failed"
[ "$fails" -eq 0 ]
