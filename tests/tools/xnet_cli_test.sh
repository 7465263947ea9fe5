#!/usr/bin/env bash
# The xnet command end to end on a veth pair: echo serves the kernel's ping,
# a kernel UDP socket and xnet ping; stats and capture talk to the running
# process; its exit prints /proc/net/snmp-format counters; errors are one
# clear line with a non-zero status; --help has examples.
source netns/veth_pair.sh
X=tools/xnet

# --help for every subcommand, with examples.
for sub in echo ping stats capture; do
  grep -q "Example" <<<"$("$X" "$sub" --help)" || fail "xnet $sub --help has no example"
done
grep -q "Examples:" <<<"$("$X" --help)" || fail "xnet --help has no examples"
out=$("$X" ping --kernel --to not-an-address 2>&1) && fail "bad --to accepted"
grep -q "is not an IPv4 address" <<<"$out" || fail "unclear error: $out"

require_privileged
make_veth_pair

out=$(in_x "$X" echo --dev nosuchdev0 --addr 10.88.0.1/24 --duration 1 2>&1) && fail "echo on a missing interface succeeded"
[[ $(wc -l <<<"$out") -eq 1 ]] || fail "error is not one line: $out"
grep -qi "nosuchdev0" <<<"$out" || fail "error does not name the interface: $out"
out=$("$X" echo --dev x --addr 10.88.0.1/24 --busy-poll --idle-spin-us 0 2>&1) && fail "--busy-poll with --idle-spin-us accepted"
grep -q "excludes" <<<"$out" || fail "unclear error for --busy-poll with --idle-spin-us: $out"

out=$(in_x "$X" stats --dev "$DEV_X" 2>&1) && fail "stats without a running xnet succeeded"
grep -q "no xnet process serves" <<<"$out" || fail "unclear stats error: $out"

log=$(mktemp)
trap 'cleanup_veth_pair; rm -f "$log" /tmp/xnet_cli_test_$$.pcap' EXIT
# --idle-spin-us 0: the shard sleeps whenever its ring is empty.
bg_in_x "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --port 7 --idle-spin-us 0 --duration 60
echo_pid=$BG_PID
wait_reachable 10.88.0.1

out=$(in_x "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --duration 1 2>&1) && fail "a second echo on the same interface succeeded"
grep -q "another xnet process already serves" <<<"$out" || fail "unclear second-instance error: $out"

out=$(in_k "$X" ping --kernel --to 10.88.0.1:7 --count 500 --size 100 2>/dev/null) || fail "kernel ping: $out"
echo "$out"
grep -q "received 500  lost 0" <<<"$out" || fail "kernel socket ping lost replies: $out"
grep -q "rtt us: min" <<<"$out" || fail "no RTT line: $out"

in_x "$X" capture --dev "$DEV_X" --out /tmp/xnet_cli_test_$$.pcap --seconds 3 >"$log" 2>&1 &
cap_pid=$!
sleep 1
out=$(in_k "$X" ping --dev "$DEV_K" --addr 10.88.0.3/24 --to 10.88.0.1:7 --count 300 --size 1400 2>/dev/null) \
  || fail "xnet ping: $out"
echo "$out"
grep -q "received 300  lost 0" <<<"$out" || fail "xnet ping lost replies: $out"
wait "$cap_pid" || fail "capture failed: $(cat "$log")"
frames=$(tcpdump -nr /tmp/xnet_cli_test_$$.pcap 2>/dev/null | grep -c "UDP, length 1400" || true)
[[ "$frames" -ge 600 ]] || fail "capture has $frames UDP frames of 1400 bytes, expected >= 600"

stats=$(in_x "$X" stats --dev "$DEV_X") || fail "stats: $stats"
grep -q "^Udp: InDatagrams NoPorts InErrors OutDatagrams" <<<"$stats" || fail "stats format: $stats"
grep -q "^Queue: 0 " <<<"$stats" || fail "no ring figures: $stats"
grep -q "^XnetDrops: " <<<"$stats" || fail "no drop reasons: $stats"
# The steering program's counters: what it steered, and queues served of all.
steer=$(grep "^XnetSteer: [0-9]" <<<"$stats") || fail "no steering counters: $stats"
read -r _ steered _ _ _ served all <<<"$steer"
[ "$steered" -gt 0 ] || fail "nothing counted as steered: $steer"
[ "$served" = 1 ] && [ "$all" = 1 ] || fail "queues served/all: $steer"

# --json: one object with every group and the queues.
json=$(in_x "$X" stats --dev "$DEV_X" --json) || fail "stats --json: $json"
grep -q '^  "Udp": {"InDatagrams": ' <<<"$json" || fail "stats --json has no Udp group: $json"
grep -q '"queues": \[' <<<"$json" || fail "stats --json has no queues: $json"
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["Udp"]["InDatagrams"] > 0' <<<"$json" \
    || fail "stats --json is not the JSON expected: $json"
fi
# --watch: what moved while a kernel socket pinged.
in_x "$X" stats --dev "$DEV_X" --watch 1 --count 3 >"$log" 2>&1 &
watch_pid=$!
sleep 0.3  # its first reading is taken at once; the pings below span the next ones
in_k "$X" ping --kernel --to 10.88.0.1:7 --count 200 --size 64 --interval 5 >/dev/null 2>&1 \
  || fail "kernel ping during --watch"
wait "$watch_pid" || fail "stats --watch failed: $(cat "$log")"
grep -q "^# .* over 1 s" "$log" || fail "stats --watch has no interval header: $(cat "$log")"
grep -q "^Udp.InDatagrams " "$log" || fail "stats --watch did not show the datagrams: $(cat "$log")"
out=$(in_x "$X" stats --dev "$DEV_X" --count 2 2>&1) && fail "--count without --watch accepted"
[[ $(wc -l <<<"$out") -eq 1 ]] || fail "error is not one line: $out"

stop_bg "$echo_pid"

# The UMEM's pages: no advice while THP gives it huge pages; the advice,
# naming why, when this process may not have them (PR_SET_THP_DISABLE = 41).
mode=$(sed -n 's/.*\[\(.*\)\].*/\1/p' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || true)
if [[ $mode == always || $mode == madvise ]]; then
  out=$(in_x "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --duration 1 2>&1) || fail "echo: $out"
  grep -q "4 KiB pages" <<<"$out" && fail "huge-page advice although THP is $mode: $out"
fi
no_thp='import ctypes, os, sys; ctypes.CDLL(None).prctl(41, 1, 0, 0, 0); os.execv(sys.argv[1], sys.argv[1:])'
out=$(in_x python3 -c "$no_thp" "$X" echo --dev "$DEV_X" --addr 10.88.0.1/24 --duration 1 2>&1) \
  || fail "echo without THP: $out"
grep -q "on 4 KiB pages (transparent huge pages: disabled for this process" <<<"$out" \
  || fail "no huge-page advice without THP: $out"
echo PASS
