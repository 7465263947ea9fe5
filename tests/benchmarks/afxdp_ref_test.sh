#!/usr/bin/env bash
# The raw AF_XDP reference on a veth pair: pinger against the in-place
# reflector (every round trip answered), a busy queue retried then refused,
# txonly into rxdrop (received, never more than sent), txonly into the kernel
# (its frames pass the kernel's checksum checks), and one-line errors.
source netns/veth_pair.sh
R=benchmarks/afxdp_ref/afxdp_ref

grep -q "pinger | reflector | txonly | rxdrop" <<<"$("$R" --help)" || fail "--help lacks the modes"
require_privileged
make_veth_pair
in_x sysctl -qw "net.ipv6.conf.$DEV_X.disable_ipv6=1"
out=$(in_x "$R" reflector --if nosuchdev0 --seconds 1 2>&1) && fail "a missing interface was accepted"
grep -q "no interface nosuchdev0" <<<"$out" || fail "unclear error: $out"

mac() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }
MAC_X=$(mac "$NS_X" "$DEV_X")
MAC_K=$(mac "$NS_K" "$DEV_K")
FLOW=(--src-mac "$MAC_X" --dst-mac "$MAC_K" --src-ip 10.88.0.1 --dst-ip 10.88.0.2 --dport 9)

bg_in_k() {
  ip netns exec "$NS_K" "$@" &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# Ping-pong: the reflector is bounded by --seconds; it is stopped by SIGINT.
bg_in_k "$R" reflector --if "$DEV_K" --seconds 30
refl=$BG_PID
sleep 1
out=$(in_x "$R" pinger --if "$DEV_X" "${FLOW[@]}" --count 2000 --warmup 100 2>&1) || fail "pinger: $out"
echo "$out"
grep -q "round_trips 2000 lost 0 " <<<"$out" || fail "pinger lost round trips: $out"

# A queue another socket holds: opening it is retried (EBUSY is also what a
# socket the kernel is still releasing gives) for about half a second, then
# one clear error.
t0=$(date +%s%N)
out=$(in_k "$R" reflector --if "$DEV_K" --seconds 1 2>&1) && fail "a busy queue was accepted: $out"
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q "xsk_socket__create: Device or resource busy" <<<"$out" || fail "unclear error: $out"
((ms >= 400)) || fail "gave up on a busy queue after $ms ms, without retrying"
# ... and a queue freed while it is being retried is taken.
bg_in_k "$R" reflector --if "$DEV_K" --seconds 1
second=$BG_PID
sleep 0.2
stop_bg "$refl"
wait "$second" || fail "the queue freed during the retries was not taken"

# txonly → rxdrop: received, and never more than was sent (IPv6 is off on
# the sending end, so its kernel adds no frames of its own).
log=$(mktemp)
trap 'cleanup_veth_pair; rm -f "$log"' EXIT
ip netns exec "$NS_K" "$R" rxdrop --if "$DEV_K" --seconds 4 >"$log" 2>&1 &
rx=$!
BG_PIDS+=("$rx")
sleep 1
out=$(in_x "$R" txonly --if "$DEV_X" "${FLOW[@]}" --seconds 1 2>&1) || fail "txonly: $out"
echo "$out"
wait "$rx" || fail "rxdrop: $(cat "$log")"
cat "$log"
sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' <<<"$out")
received=$(sed -n 's/^received \([0-9]*\) .*/\1/p' "$log")
[[ -n "$sent" && "$sent" -gt 0 ]] || fail "txonly sent nothing: $out"
[[ -n "$received" && "$received" -gt 0 ]] || fail "rxdrop received nothing"
[[ "$received" -le "$sent" ]] || fail "received $received of $sent sent"

# txonly into the kernel (no program on its side): counted as datagrams to a
# closed port, none as checksum errors.
snmp() { in_k awk -v f="$1" '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) n[$i] = i; h = 1 } else print $n[f] }' /proc/net/snmp; }
no0=$(snmp NoPorts)
cs0=$(snmp InCsumErrors)
out=$(in_x "$R" txonly --if "$DEV_X" "${FLOW[@]}" --size 1400 --seconds 0.5 2>&1) || fail "txonly to the kernel: $out"
echo "$out"
sleep 0.5
no1=$(snmp NoPorts)
cs1=$(snmp InCsumErrors)
[[ $((cs1 - cs0)) -eq 0 ]] || fail "the kernel counted $((cs1 - cs0)) checksum errors"
[[ $((no1 - no0)) -gt 0 ]] || fail "the kernel saw none of the frames"
echo "PASS"
