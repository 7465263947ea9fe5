#!/usr/bin/env bash
# Jumbo frames with the xnet command: `xnet echo` on a veth whose both ends
# are at MTU 9000 (multi-buffer AF_XDP) answers a kernel socket's 8972-byte
# datagrams (one frame each way) and 65507-byte ones (8 fragments each way),
# and an xnet client at MTU 9000 on the other end gets its 8972-byte replies.
source netns/veth_pair.sh
X=tools/xnet

require_privileged
MTU=9000 make_veth_pair
log=$(mktemp)
CLEANUP_FILES+=("$log")

bg_in_x "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --port 7 --idle-spin-us 0 --duration 60 2>"$log"
echo_pid=$BG_PID
wait_reachable 10.88.0.1

for size in 8972 65507; do
  out=$(in_k "$X" ping --kernel --to 10.88.0.1:7 --count 100 --size "$size" 2>/dev/null) \
    || fail "kernel ping of $size bytes: $out"
  echo "$out"
  grep -q "received 100  lost 0" <<<"$out" || fail "kernel ping of $size bytes lost replies: $out"
done

# xnet as the client too (its own jumbo link on the kernel's end).
out=$(in_k "$X" ping --dev "$DEV_K" --addr 10.88.0.3/24 --to 10.88.0.1:7 --count 100 --size 8972 2>/dev/null) \
  || fail "xnet ping: $out"
echo "$out"
grep -q "received 100  lost 0" <<<"$out" || fail "xnet ping of 8972 bytes lost replies: $out"

# Only the 65507-byte run was fragmented, 8 fragments per datagram both
# ways: the kernel's reassemblies and fragmentations are that run's datagrams
# (100 plus the ping's warm-up), none from the 8972-byte runs.
snmp=$(in_k cat /proc/net/snmp)
ip_field() { awk -v f="$1" '/^Ip:/ { if (!h) { for (i = 1; i <= NF; i++) n[$i] = i; h = 1 } else print $n[f] }' <<<"$snmp"; }
reqds=$(ip_field ReasmReqds); oks=$(ip_field ReasmOKs); creates=$(ip_field FragCreates); frag_oks=$(ip_field FragOKs)
echo "kernel: ReasmReqds $reqds ReasmOKs $oks FragCreates $creates FragOKs $frag_oks"
(( oks >= 100 && reqds == 8 * oks )) || fail "kernel reassembled $reqds fragments into $oks datagrams, want 8 each"
(( frag_oks == oks && creates == 8 * frag_oks )) || fail "kernel fragmented $frag_oks datagrams into $creates, want 8 each"
# Had the 8972-byte runs (as many datagrams each) been fragmented, at least
# twice as many would have been reassembled.
(( oks < 200 )) || fail "kernel reassembled $oks datagrams: the 8972-byte ones were fragmented"

stop_bg "$echo_pid"
echo PASS
