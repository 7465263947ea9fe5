#!/usr/bin/env bash
# Faults under a running `xnet echo` (ROBUSTNESS: the link changes under us),
# and one at its start (a memlock limit too small for the UMEM):
# somebody detaches its XDP program — xnet attaches it again within about a
# second, says so on one line, and serves again; somebody replaces it with
# theirs — xnet says so once and attaches again once theirs is gone; the link goes down and up —
# it serves again; the MTU changes — it follows, or says why it cannot; the
# process stalls while the peer sends — the rings' drops are counted and it
# serves again; the interface is deleted —
# xnet stops with one line naming it and a non-zero status instead of
# running blind to its deadline; the same when the peer's namespace is
# deleted.
source netns/veth_pair.sh
X=tools/xnet
require_privileged
make_veth_pair

log=$(mktemp)
trap 'cleanup_veth_pair; rm -f "$log"' EXIT

# 0. RLIMIT_MEMLOCK too small for the UMEM, without CAP_IPC_LOCK (root's
# capability bypasses the limit): one clear line at start, a non-zero status,
# nothing left attached.
rc=0
ip netns exec "$NS_X" prlimit --memlock=65536:65536 setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock -- \
  "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --port 7 --duration 5 >"$log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "echo started with a 64 KiB RLIMIT_MEMLOCK: $(cat "$log")"
grep -q "would exceed RLIMIT_MEMLOCK, 64 KiB" "$log" || fail "no line naming RLIMIT_MEMLOCK: $(cat "$log")"
[[ -z "$(in_x ip -o link show dev "$DEV_X" | grep -o 'xdp[a-z]*')" ]] || fail "an XDP program left on $DEV_X"

ip netns exec "$NS_X" "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --port 7 --duration 60 >"$log" 2>&1 &
echo_pid=$!
BG_PIDS+=("$echo_pid")
wait_reachable 10.88.0.1

ping_ok() {
  grep -q "received 20  lost 0" <<<"$(in_k "$X" ping --kernel --to 10.88.0.1:7 --count 20 --size 32 2>/dev/null)"
}
ping_ok || fail "echo does not answer before the fault"

# Waits up to 4 s for a line of the echo's log containing $1.
wait_line() { for _ in $(seq 40); do grep -q "$1" "$log" && return 0; sleep 0.1; done; return 1; }
# The echo answers again within 4 s.
serves_again() { for _ in $(seq 20); do ping_ok && return 0; sleep 0.2; done; return 1; }
# The echo stops within $1 s after $2: a non-zero status and the line naming
# its interface.
stops_for_lost_interface() {
  for _ in $(seq $(($1 * 10))); do kill -0 "$echo_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$echo_pid" 2>/dev/null && fail "echo still runs $1 s after $2"
  local rc=0
  wait "$echo_pid" || rc=$?
  [[ $rc -ne 0 ]] || fail "echo exited with status 0 after $2"
  grep -q "interface $DEV_X is gone" "$log" || fail "no line naming the lost interface: $(cat "$log")"
}

# 1. The steering program is removed behind xnet's back.
in_x ip link set dev "$DEV_X" xdp off
wait_line "the XDP program on $DEV_X was removed by someone else; attached it again" ||
  fail "no re-attach within 4 s: $(cat "$log")"
serves_again || fail "echo does not answer after the re-attach"
kill -0 "$echo_pid" || fail "echo exited after a re-attach"

# 1b. Another process replaces the steering program with its own (ip -force
# ... xdpdrv obj): xnet says so once, keeps running, and attaches again as
# soon as that program is removed; then it serves again.
in_x ip -force link set dev "$DEV_X" xdpdrv obj tests/xdp/other_prog.bpf.o sec xdp ||
  fail "could not replace the program"
wait_line "the XDP program on $DEV_X was replaced by another one" || fail "no line for the replacement: $(cat "$log")"
sleep 1
kill -0 "$echo_pid" || fail "echo exited when its program was replaced: $(cat "$log")"
[[ $(grep -c "was replaced by another one" "$log") == 1 ]] || fail "the replacement reported more than once"
in_x ip link set dev "$DEV_X" xdp off
wait_line "the XDP program on $DEV_X was replaced by someone else; attached it again" ||
  fail "no re-attach within 4 s of the other program's removal: $(cat "$log")"
serves_again || fail "echo does not answer after the re-attach"

# 2. The link goes down and comes back: xnet serves again, nothing to say.
in_x ip link set dev "$DEV_X" down
sleep 0.3
in_x ip link set dev "$DEV_X" up
serves_again || fail "echo does not answer after the link came back up"
kill -0 "$echo_pid" || fail "echo exited after a link down/up"

# 3. The MTU changes under xnet (on both ends, as on a real link). Lowered,
# xnet follows (its 1428-byte replies leave in fragments that fit 1400: the
# peer would drop a whole one); raised past what a frame holds, it says so and
# keeps serving.
in_k ip link set dev "$DEV_K" mtu 1400
in_x ip link set dev "$DEV_X" mtu 1400
wait_line "the MTU of $DEV_X changed from 1500 to 1400; datagrams now leave by 1400" ||
  fail "no word about the MTU change: $(cat "$log")"
grep -q "received 5  lost 0" <<<"$(in_k "$X" ping --kernel --to 10.88.0.1:7 --count 5 --size 1400 2>/dev/null)" ||
  fail "1400-byte datagrams are not echoed at MTU 1400"
in_x ip link set dev "$DEV_X" mtu 2000
wait_line "the MTU of $DEV_X changed from 1400 to 2000, more than a UMEM frame holds" ||
  fail "no word about an MTU frames cannot hold: $(cat "$log")"
ping_ok || fail "echo does not answer after an MTU it cannot follow"
in_x ip link set dev "$DEV_X" mtu 1500
in_k ip link set dev "$DEV_K" mtu 1500

# 4. The receiver stalls (the process stopped) while the peer sends more than
# its rings hold: what could not be taken is counted in the queue figures,
# and once it runs again it serves.
kill -STOP "$echo_pid"
in_k python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(6000): s.sendto(b'x' * 32, ('10.88.0.1', 7))"
kill -CONT "$echo_pid"
serves_again || fail "echo does not answer after a stall"
queue=$(grep "^Queue: 0 " <<<"$(in_x "$X" stats --dev "$DEV_X")") || fail "no queue row after the stall"
read -r _ _ _ _ _ _ _ _ dropped ring_full fill_empty _ <<<"$queue"
(( dropped + ring_full + fill_empty > 0 )) || fail "a stall that overflowed the rings left no trace: $queue"

# 5. The interface is deleted (from the peer's side: a veth pair goes as one).
in_k ip link del "$DEV_K"
stops_for_lost_interface 5 "its interface was deleted"

# 6. The peer's namespace disappears (ip netns del, nothing left in it): the
# kernel destroys it and its end of the pair, and ours goes with it. xnet
# stops as in 5. A fresh pair first; the old namespaces are removed now.
ip netns del "$NS_X" 2>/dev/null
ip netns del "$NS_K" 2>/dev/null
make_veth_pair
trap 'cleanup_veth_pair; rm -f "$log"' EXIT
: >"$log"
ip netns exec "$NS_X" "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --port 7 --duration 60 >"$log" 2>&1 &
echo_pid=$!
BG_PIDS+=("$echo_pid")
wait_reachable 10.88.0.1
ping_ok || fail "the second echo does not answer before its peer's namespace goes"
ip netns del "$NS_K"
stops_for_lost_interface 10 "its peer's namespace was deleted"
echo "PASS"
