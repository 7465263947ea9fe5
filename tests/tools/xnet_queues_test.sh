#!/usr/bin/env bash
# xnet serves every receive queue unless told otherwise, and says which
# queues it leaves unserved when told to serve fewer (issue 17).
set -euo pipefail
X="$(pwd)/tools/xnet"
source netns/veth_pair.sh
fail() { echo "FAIL: $*" >&2; exit 1; }

QUEUES=2 make_veth_pair

out=$(in_x "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --queues 1 --duration 1 2>&1) || fail "echo --queues 1: $out"
grep -q "serving receive queue(s) 0..0 of 2 on $DEV_X: datagrams the NIC puts on queues 1..1 reach no xnet socket" \
  <<<"$out" || fail "no word about the unserved queue: $out"

out=$(in_x "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --duration 1 2>&1) || fail "echo: $out"
grep -q "serving receive queue" <<<"$out" && fail "the default left a queue unserved: $out"
echo PASS
