#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo: an unmodified redis-server in a Cove sandbox, driven from the host.
#
# redis-server runs in `cove run` on Cove's default stack (builtin when this
# build has it, else the kernel provider), redis-benchmark drives it from
# the host over the sandbox's veth, and the same benchmark runs against the
# same redis under --network=host (the sandbox netns's own kernel stack, no
# interception: the plain-container baseline). The results are printed side
# by side. Everything is removed on exit, also on failure or Ctrl-C.
#
# Usage: scripts/demo.sh [NETWORK]    (default: builtin if present, else kernel)
# Env:   COVE (the binary), DEMO_REQUESTS (default 100000), DEMO_CLIENTS (50)
set -euo pipefail
cd "$(dirname "$0")/.."

cove=${COVE:-$PWD/build/src/cli/cove}
requests=${DEMO_REQUESTS:-100000}
clients=${DEMO_CLIENTS:-50}
tests=set,get,incr,lpush,lpop
tmp=$(mktemp -d)
pid=

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (namespaces, veth, seccomp listener)" >&2
	exit 1
fi
stacks=$("$cove" stacks | awk 'NR > 1 && /^  / { print $1 } /^Links/ { exit }')
net=${1:-}
if [ -z "$net" ]; then
	if grep -qx builtin <<<"$stacks"; then net=builtin; else net=kernel; fi
fi

# start NET - redis-server in a sandbox; sets pid and ip.
start() {
	local log=$tmp/$1.log
	"$cove" run --verbose --network="$1" -- redis-server --port 6379 \
		--save '' --appendonly no --protected-mode no \
		--loglevel warning >/dev/null 2>"$log" &
	pid=$!
	for _ in $(seq 100); do
		grep -q 'program running' "$log" && break
		kill -0 "$pid" 2>/dev/null || { cat "$log"; exit 1; }
		sleep 0.05
	done
	ip=$(sed -n 's/.*sandbox address \([0-9.]*\)\/.*/\1/p' "$log")
	for _ in $(seq 100); do
		[ "$(redis-cli -h "$ip" PING 2>/dev/null)" = PONG ] && break
		sleep 0.05
	done
}

# stop - SIGTERM through cove run, which forwards it to redis.
stop() {
	kill -TERM "$pid"
	wait "$pid" || true
	pid=
}

# bench NET - redis-benchmark against the sandbox; "TEST rps" lines.
bench() {
	redis-benchmark -h "$ip" -q -n "$requests" -c "$clients" -t "$tests" |
		tr '\r' '\n' | sed -n 's/^\([A-Z_]*\)[^:]*: \([0-9.]*\) requests per second.*/\1 \2/p' \
		>"$tmp/$1.rps"
}

say "Stacks in this build: $(echo $stacks); the demo uses --network=$net"

say "cove run --network=$net -- redis-server (set-up steps from --verbose)"
start "$net"
sed 's/^/   /' "$tmp/$net.log"
echo "   redis at $ip: $(redis-cli -h "$ip" SET demo "served by $net" >/dev/null;
	redis-cli -h "$ip" GET demo)"
say "redis-benchmark -n $requests -c $clients -t $tests against $net"
bench "$net"
column -t "$tmp/$net.rps" | sed 's/^/   /'
stop

say "The same against --network=host (kernel stack, no interception)"
start host
bench host
column -t "$tmp/host.rps" | sed 's/^/   /'
stop

say "Side by side (requests per second)"
printf '   %-8s %12s %12s %8s\n' test "$net" host ratio
awk 'NR == FNR { host[$1] = $2; next }
     { printf "   %-8s %12.0f %12.0f %7.2fx\n", $1, $2, host[$1],
	      host[$1] ? $2 / host[$1] : 0 }' "$tmp/host.rps" "$tmp/$net.rps"
say "Done: sandboxes gone ($(ls /run/cove 2>/dev/null | wc -l) entries in /run/cove)"
