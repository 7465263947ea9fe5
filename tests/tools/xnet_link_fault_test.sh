#!/usr/bin/env bash
# Faults under a running `xnet echo` (ROBUSTNESS: the link changes under us):
# somebody detaches its XDP program — xnet attaches it again within about a
# second, says so on one line, and serves again; the interface is deleted —
# xnet stops with one line naming it and a non-zero status instead of
# running blind to its deadline.
source netns/veth_pair.sh
X=tools/xnet
require_privileged
make_veth_pair

log=$(mktemp)
trap 'cleanup_veth_pair; rm -f "$log"' EXIT
ip netns exec "$NS_X" "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --port 7 --duration 60 >"$log" 2>&1 &
echo_pid=$!
BG_PIDS+=("$echo_pid")
wait_reachable 10.88.0.1

ping_ok() {
  grep -q "received 20  lost 0" <<<"$(in_k "$X" ping --kernel --to 10.88.0.1:7 --count 20 --size 32 2>/dev/null)"
}
ping_ok || fail "echo does not answer before the fault"

# 1. The steering program is removed behind xnet's back.
in_x ip link set dev "$DEV_X" xdp off
for _ in $(seq 40); do grep -q "attached it again" "$log" && break; sleep 0.1; done
grep -q "the XDP program on $DEV_X was removed by someone else; attached it again" "$log" ||
  fail "no re-attach within 4 s: $(cat "$log")"
ok=0
for _ in $(seq 20); do if ping_ok; then ok=1; break; fi; sleep 0.2; done
[[ $ok == 1 ]] || fail "echo does not answer after the re-attach"
kill -0 "$echo_pid" || fail "echo exited after a re-attach"

# 2. The interface is deleted (from the peer's side: a veth pair goes as one).
in_k ip link del "$DEV_K"
for _ in $(seq 50); do kill -0 "$echo_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$echo_pid" 2>/dev/null && fail "echo still runs 5 s after its interface was deleted"
rc=0
wait "$echo_pid" || rc=$?
[[ $rc -ne 0 ]] || fail "echo exited with status 0 after losing its interface"
grep -q "interface $DEV_X is gone" "$log" || fail "no line naming the lost interface: $(cat "$log")"
echo "PASS"
