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

# The topology every privileged test uses (netns/veth_pair.sh): xnet's end
# DEV_X in NS_X, the kernel's end DEV_K in NS_K owning 10.77.0.2 and sending
# complete UDP checksums (README, "Checksums on veth"); removed on exit, also
# on Ctrl-C or failure, with the echo service we start and our temp files.
source netns/veth_pair.sh
trap 'exit 130' INT TERM
echo_out=$(mktemp)
echo_err=$(mktemp)
CLEANUP_FILES=("$echo_out" "$echo_err")
KERNEL_ADDR=10.77.0.2/24 make_veth_pair

echo "demo: xnet echo owns 10.77.0.1 on $DEV_X (namespace $NS_X)" >&2
bg_in_x "$XNET" echo --dev "$DEV_X" --addr 10.77.0.1/24 --port 7 --duration 90 >"$echo_out" 2>"$echo_err"
echo_pid=$BG_PID
wait_reachable 10.77.0.1

echo "demo: $COUNT round trips of $SIZE bytes each way" >&2
echo
echo "== kernel UDP socket (10.77.0.2) -> xnet echo (10.77.0.1:7)"
in_k "$XNET" ping --kernel --to 10.77.0.1:7 --count "$COUNT" --size "$SIZE"
echo
echo "== xnet ping on AF_XDP (10.77.0.3) -> xnet echo (10.77.0.1:7)"
in_k "$XNET" ping --dev "$DEV_K" --addr 10.77.0.3/24 --to 10.77.0.1:7 \
  --count "$COUNT" --size "$SIZE"

stop_bg "$echo_pid"
echo
echo "== xnet echo counters at exit (/proc/net/snmp format)"
cat "$echo_out"
if [[ ! -s "$echo_out" ]]; then
  echo "demo: xnet echo printed no counters; its messages:" >&2
  cat "$echo_err" >&2
  exit 1
fi
