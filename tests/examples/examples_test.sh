#!/usr/bin/env bash
# Builds (as data deps) and runs every example on a veth pair with two queues:
# the echo server answers rr_client (and retries are counted against a closed
# port); kv_store on two shards stores and returns what kv_client sets (keys
# owned by the other shard go through submit_to).
source netns/veth_pair.sh
require_privileged
QUEUES=2 make_veth_pair
EX=examples

bg_in_x "$EX/echo_server" --dev "$DEV_X" --addr 10.88.0.1/24 --port 7 --queues 2 --seconds 60
echo_pid=$BG_PID
wait_reachable 10.88.0.1
out=$(in_k "$EX/rr_client" --dev "$DEV_K" --addr 10.88.0.3/24 --to 10.88.0.1 --port 7 --count 50 2>&1) \
  || fail "rr_client: $out"
echo "$out"
grep -q "answered 50, retried 0, failed 0" <<<"$out" || fail "rr_client did not get 50 answers: $out"

# Nobody listens on port 9: every attempt times out, retries are made, the client reports failure.
out=$(in_k "$EX/rr_client" --dev "$DEV_K" --addr 10.88.0.3/24 --to 10.88.0.1 --port 9 --count 2 \
      --timeout-ms 50 --retries 2 2>&1) && fail "rr_client to a closed port claimed success: $out"
echo "$out"
grep -q "answered 0, retried 4, failed 2" <<<"$out" || fail "unexpected retry accounting: $out"
stop_bg "$echo_pid"

bg_in_x "$EX/kv_store" --dev "$DEV_X" --addr 10.88.0.1/24 --port 6379 --queues 2 --seconds 60
kv_pid=$BG_PID
wait_reachable 10.88.0.1
out=$(in_k "$EX/kv_client" --dev "$DEV_K" --addr 10.88.0.3/24 --to 10.88.0.1 --port 6379 --count 200 2>&1) \
  || fail "kv_client: $out"
echo "$out"
grep -q "200 values read back correctly, 0 wrong" <<<"$out" || fail "kv_client: $out"
stop_bg "$kv_pid"
echo PASS
