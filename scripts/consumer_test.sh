#!/usr/bin/env bash
# xnet used from another Bazel workspace (examples/bazel_consumer, which
# depends on @xnet//:xnet through local_repository): builds its service in an
# output base of its own, then runs it on a veth pair and checks that a kernel
# UDP socket gets every datagram back. Needs root (namespaces, XDP).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/output_base.sh
output_base="${XNET_CONSUMER_OUTPUT_BASE:-$(xnet_output_base consumer)}"
(cd examples/bazel_consumer &&
  bazel --output_base="$output_base" build --experimental_convenience_symlinks=ignore //:my_echo)
bin="$(cd examples/bazel_consumer && bazel --output_base="$output_base" info bazel-bin 2>/dev/null)/my_echo"
bazel build //tools:xnet  # the kernel-side client
xnet="$root/bazel-bin/tools/xnet"

source netns/veth_pair.sh
require_privileged
make_veth_pair
bg_in_x "$bin" --dev "$DEV_X" --addr 10.88.0.1/24 --port 9000 --seconds 60
pid=$BG_PID
wait_reachable 10.88.0.1
out=$(in_k "$xnet" ping --kernel --to 10.88.0.1:9000 --count 200 --size 300 2>/dev/null) || fail "kernel ping: $out"
grep -q "received 200  lost 0" <<<"$out" || fail "the consumer's service lost datagrams: $out"
stop_bg "$pid"
echo "consumer workspace: PASS"
