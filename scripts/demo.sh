#!/usr/bin/env bash
# The README's demo: two network namespaces joined by a veth pair. In one, `xnet
# echo` owns 10.77.0.1 on its veth end (the kernel there has no address: the XDP
# program steers everything for 10.77.0.1 to xnet). In the other, the kernel owns
# 10.77.0.2; from there we measure UDP round trips to the echo service twice:
# with the kernel's UDP socket, and with `xnet ping` on its own AF_XDP stack
# owning 10.77.0.3 on the same veth end. Everything is removed at the end, also
# on Ctrl-C or failure.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-20000}
SIZE=${SIZE:-64}

if [[ $(id -u) -ne 0 ]]; then
  echo "demo: needs root (network namespaces, XDP); run: sudo $0" >&2
  exit 1
fi

scripts/install_deps.sh
echo "demo: building (bazel, -c opt) ..." >&2
bazel build -c opt --config=opt //tools:xnet >/dev/null 2>&1 || bazel build -c opt --config=opt //tools:xnet
XNET=$(pwd)/bazel-bin/tools/xnet

tag="$$"
NS_A="xnetdemo-a-$tag"
NS_B="xnetdemo-b-$tag"
DEV_A="xdA$tag"
DEV_B="xdB$tag"
echo_pid=""
echo_out=$(mktemp)
echo_err=$(mktemp)

cleanup() {
  set +e
  if [[ -n "$echo_pid" ]] && kill -0 "$echo_pid" 2>/dev/null; then
    kill -INT "$echo_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$echo_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$echo_pid" 2>/dev/null
  fi
  ip netns del "$NS_A" 2>/dev/null
  ip netns del "$NS_B" 2>/dev/null
  rm -f "$echo_out" "$echo_err"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add "$DEV_A" netns "$NS_A" type veth peer name "$DEV_B" netns "$NS_B"
ip -n "$NS_A" link set lo up
ip -n "$NS_B" link set lo up
ip -n "$NS_A" link set "$DEV_A" up
ip -n "$NS_B" link set "$DEV_B" up
ip -n "$NS_B" addr add 10.77.0.2/24 dev "$DEV_B"
# The kernel side must send complete UDP checksums (README, "Checksums on veth").
ip netns exec "$NS_B" ethtool -K "$DEV_B" tx off >/dev/null

echo "demo: xnet echo owns 10.77.0.1 on $DEV_A (namespace $NS_A)" >&2
ip netns exec "$NS_A" "$XNET" echo --dev "$DEV_A" --addr 10.77.0.1/24 --port 7 --duration 90 \
  >"$echo_out" 2>"$echo_err" &
echo_pid=$!
# Wait until it answers (bounded).
for _ in $(seq 50); do
  if ip netns exec "$NS_B" ping -c1 -W1 10.77.0.1 >/dev/null 2>&1; then break; fi
  sleep 0.2
done

echo "demo: $COUNT round trips of $SIZE bytes each way" >&2
echo
echo "== kernel UDP socket (10.77.0.2) -> xnet echo (10.77.0.1:7)"
ip netns exec "$NS_B" "$XNET" ping --kernel --to 10.77.0.1:7 --count "$COUNT" --size "$SIZE"
echo
echo "== xnet ping on AF_XDP (10.77.0.3) -> xnet echo (10.77.0.1:7)"
ip netns exec "$NS_B" "$XNET" ping --dev "$DEV_B" --addr 10.77.0.3/24 --to 10.77.0.1:7 \
  --count "$COUNT" --size "$SIZE"

kill -INT "$echo_pid"
wait "$echo_pid" || true
echo_pid=""
echo
echo "== xnet echo counters at exit (/proc/net/snmp format)"
cat "$echo_out"
if [[ ! -s "$echo_out" ]]; then
  echo "demo: xnet echo printed no counters; its messages:" >&2
  cat "$echo_err" >&2
  exit 1
fi
