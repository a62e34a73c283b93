#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The demo (until the sandbox lands): Cove's stack on a TAP, real Linux clients.
#
# A private network namespace gets a TAP device; Linux owns its side
# (10.99.0.1/24) and `cove stack-serve` serves 10.99.0.2 on it with an HTTP
# responder and an echo server. Then ping and curl talk to it, and the
# stack's statistics are shown. Everything is removed on exit, also on
# failure or Ctrl-C.
#
# Usage: scripts/demo.sh [STACK]    (default builtin)
# With "kernel" the namespace's kernel serves 10.99.0.2 itself (the address
# goes on lo): the same clients, a yardstick.
set -euo pipefail
cd "$(dirname "$0")/.."

stack=${1:-builtin}
cove=${COVE:-$PWD/build/src/cli/cove}
ns=cv-demo-$$
out=$(mktemp)
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null || true
	rm -f "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, TAP devices)" >&2
	exit 1
fi
if ! "$cove" stacks | awk 'NR > 1 && $1 == "'"$stack"'" { f = 1 } END { exit !f }'; then
	echo "demo: this build has no '$stack' stack yet; it has:" >&2
	"$cove" stacks >&2
	exit 1
fi

say "A private network namespace $ns with a TAP device"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev cvdemo0 mode tap
ip -n "$ns" addr add 10.99.0.1/24 dev cvdemo0
ip -n "$ns" link set cvdemo0 up
[ "$stack" = kernel ] && ip -n "$ns" addr add 10.99.0.2/32 dev lo
ip -n "$ns" -br addr show cvdemo0

say "cove stack-serve --stack $stack on tap:cvdemo0 as 10.99.0.2"
ip netns exec "$ns" "$cove" stack-serve --stack "$stack" \
	--link tap:cvdemo0 --addr 10.99.0.2/24 \
	--http 80 --echo 7 >"$out" 2>&1 &
pid=$!
for _ in $(seq 50); do
	grep -q '^ready' "$out" && break
	kill -0 "$pid" 2>/dev/null || { cat "$out"; exit 1; }
	sleep 0.1
done
grep -q '^ready' "$out" || { echo "demo: stack-serve never got ready"; exit 1; }
echo "stack-serve is ready (pid $pid)"

say "Linux pings the stack"
ip netns exec "$ns" ping -c 3 -i 0.2 10.99.0.2

say "curl fetches http://10.99.0.2/64 (64 bytes; byte i = (i*31+7) mod 251)"
ip netns exec "$ns" curl -sS --max-time 10 http://10.99.0.2/64 | od -An -tu1 | head -4

say "curl fetches 10 MiB, keep-alive, twice on one connection"
ip netns exec "$ns" curl -sS --max-time 30 -o /dev/null -o /dev/null \
	-w '%{http_code} %{size_download} bytes in %{time_total}s\n' \
	http://10.99.0.2/10485760 http://10.99.0.2/10485760

say "A path that is not a number gets 404"
ip netns exec "$ns" curl -sS --max-time 10 -o /dev/null -w '%{http_code}\n' \
	http://10.99.0.2/hello

say "The stack's statistics (SIGTERM: print them and exit)"
kill -TERM "$pid"
wait "$pid" || true
pid=
sed -n '/^stats begin/,/^stats end/p' "$out" | grep -v '^stats ' |
	awk '$2 != 0' | column -t
say "Done: namespace removed"
