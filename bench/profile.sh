#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Where a sandbox's time goes: perf profile of the sentry while
# redis-benchmark drives redis-server in a Cove sandbox, or while iperf3
# sends into one (bulk receive: the sentry's rx path and the relay).
#   bench/profile.sh [NETWORK] [REQUESTS]     (default builtin, 200000)
#   bench/profile.sh [NETWORK] iperf3         (5 s into the sandbox)
#   bench/profile.sh [NETWORK] iperf3-out     (5 s out of the sandbox)
#   LINK=xdp|dpdk[:DEVARGS] bench/profile.sh ...  (a kernel-bypass link,
#                                             cove-plugin; docs/LINKS.md)
# Server side on CPU 1 and client on CPU 0 when there are two CPUs, as
# the bench pins.
# Prints the split by object (kernel, libc, cove) and the top symbols with
# their callers' share (children), so the frontend's and the stack's own
# cost can be read apart from the kernel work they trigger. Needs root and
# perf (Debian's linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
net=${1:-builtin}
n=${2:-200000}
cove=${COVE_BUILD:-build}/src/cli/cove
[ "$net" = lwip ] && cove=${COVE_BUILD:-build}/src/cli/cove-plugin
link=()
if [ -n "${LINK:-}" ]; then
	cove=${COVE_BUILD:-build}/src/cli/cove-plugin
	link=(--link="$LINK")
fi
ip=10.209.0.249
name=cvprof-$$
out=$(mktemp -d /tmp/cv-profile.XXXXXX)
cleanup() {
	pkill -f -- "--name $name" 2>/dev/null || true
	ip route del unreachable 10.209.0.0/16 2>/dev/null || true
	rm -rf "$out"
}
trap cleanup EXIT
# A sandbox address without a sandbox must never follow the default route.
ip route add unreachable 10.209.0.0/16 2>/dev/null || true
srv=() cli=()
if [ "$(nproc)" -ge 2 ]; then
	srv=(taskset -c 1) cli=(taskset -c 0)
fi
if [ "${n#iperf3}" != "$n" ]; then
	"${srv[@]}" "$cove" run --network="$net" "${link[@]}" --name "$name" \
		--ip $ip/16 -- iperf3 -s -p 5201 >"$out/server.log" 2>&1 &
	for _ in $(seq 100); do
		(echo >/dev/tcp/$ip/5201) 2>/dev/null && break
		sleep 0.1
	done
else
	"${srv[@]}" "$cove" run --network="$net" "${link[@]}" --name "$name" \
		--ip $ip/16 -- redis-server --port 6379 --bind 0.0.0.0 \
		--protected-mode no --save '' --appendonly no \
		>"$out/server.log" 2>&1 &
	for _ in $(seq 100); do
		redis-cli -h $ip ping 2>/dev/null | grep -q PONG && break
		sleep 0.1
	done
fi
sentry=$(awk '{print $1}' /run/cove/$name/pid)
perf record -q -F 2000 -g -p "$sentry" -o "$out/perf.data" &
rec=$!
sleep 0.3
if [ "$n" = iperf3 ]; then
	"${cli[@]}" iperf3 -c $ip -p 5201 -t 5 | tail -4
elif [ "$n" = iperf3-out ]; then
	"${cli[@]}" iperf3 -c $ip -p 5201 -t 5 -R | tail -4
else
	"${cli[@]}" redis-benchmark -h $ip -t get,set -n "$n" -c 50 --csv
fi
kill -INT $rec
wait $rec 2>/dev/null || true
echo
echo "== sentry ($net${LINK:+ $LINK}): share of samples by object"
perf report -i "$out/perf.data" --no-children --sort dso --stdio -g none \
	2>/dev/null | grep '%' | head -6
echo
echo "== sentry ($net${LINK:+ $LINK}): system calls and big kernel paths (with callees)"
perf report -i "$out/perf.data" --children --sort symbol --stdio -g none \
	2>/dev/null | grep '%' |
	grep -E '__x64_sys_|tcp_v4_rcv|unix_stream_(send|recv)msg|packet_|tpacket_rcv' |
	head -12
echo
echo "== sentry ($net${LINK:+ $LINK}): Cove's own functions (self)"
perf report -i "$out/perf.data" --no-children --dso cove --sort symbol \
	--stdio -g none 2>/dev/null | grep '%' | head -12
