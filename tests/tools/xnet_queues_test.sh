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

# Clients on every shard (cross-shard delivery): 8 flows over the 2 queues
# against a kernel echo. The kernel picks the queue of each reply by its own
# hash, so about half of them land on the other shard's queue and are handed
# over; none may be lost.
in_k python3 -c '
import signal, socket
signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background job starts with SIGINT ignored
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.88.0.2", 7))
while True:
    d, a = s.recvfrom(65535)
    s.sendto(d, a)
' &
BG_PIDS+=($!)
sleep 0.3
out=$(in_x "$X" ping --dev "$DEV_X" --addr 10.88.0.1/24 --to 10.88.0.2:7 --queues 2 --flows 8 --count 2000 \
  --timeout 500 2>&1) || fail "ping --queues 2 --flows 8: $out"
echo "$out"
grep -q "8 flows over 2 shard(s)" <<<"$out" || fail "not 8 flows over 2 shards: $out"
grep -q "sent 2000  received 2000  lost 0 " <<<"$out" || fail "replies lost: $out"
grep -q "cross-shard: [0-9]* datagrams handed over, 0 dropped (ring full), 0 dropped (no frame)" <<<"$out" \
  || fail "no cross-shard figures, or drops: $out"
echo PASS
