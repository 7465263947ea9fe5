#!/usr/bin/env bash
# Shared mode end to end (issue 18): the kernel holds 10.89.0.1/24 on the xnet
# end of a veth pair and keeps it; `xnet echo --shared --port 7` serves UDP
# port 7 on the same address. From the other namespace (the kernel at
# 10.89.0.2): ICMP echo is the kernel's; UDP 7 is xnet's and UDP 9000 a kernel
# service's, both answer; TCP to the kernel works meanwhile; fragmented
# datagrams to port 7 are echoed, in order and with the first fragment last;
# xnet resolves its peer through the kernel's neighbour table; no kernel
# application can bind port 7 while xnet holds it; `xnet stats` says shared
# mode and the ports; after xnet exits, port 7 is the kernel's (port
# unreachable), and no XDP program is left.
source netns/veth_pair.sh
X=tools/xnet
FRAG=tests/tools/udp_frag_send.py

out=$("$X" echo --dev x --shared --addr 10.0.0.1/24 2>&1) && fail "--shared with --addr accepted"
grep -q "excludes" <<<"$out" || fail "unclear error for --shared with --addr: $out"
out=$("$X" echo --dev x 2>&1) && fail "echo without --addr or --shared accepted"
grep -q "\-\-shared" <<<"$out" || fail "the error does not mention --shared: $out"

require_privileged
KERNEL_ADDR=10.89.0.2/24 make_veth_pair
in_x ip addr add 10.89.0.1/24 dev "$DEV_X"

out=$(in_x "$X" echo --dev "$DEV_K" --shared --duration 1 2>&1) && fail "--shared on an interface of another namespace"
in_k ip link add xs$$ type veth peer name xt$$
out=$(in_k "$X" echo --dev xs$$ --shared --duration 1 2>&1) && fail "--shared without a kernel address succeeded"
grep -q "no IPv4 address on xs$$" <<<"$out" || fail "unclear error without a kernel address: $out"
in_k ip link del xs$$

# A kernel UDP echo service on 9000 and a TCP service on 9001, on the shared
# address. (A background job of a script starts with SIGINT ignored: the
# services restore it, so cleanup's SIGINT ends them.)
bg_in_x python3 -c '
import signal, socket
signal.signal(signal.SIGINT, signal.SIG_DFL)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.89.0.1", 9000))
while True:
    d, a = s.recvfrom(65535)
    s.sendto(b"kernel:" + d, a)'
bg_in_x python3 -c '
import signal, socket
signal.signal(signal.SIGINT, signal.SIG_DFL)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.89.0.1", 9001))
s.listen()
while True:
    c, _ = s.accept()
    c.sendall(b"tcp:" + c.recv(100))
    c.close()'

log=$(mktemp)
CLEANUP_FILES+=("$log")
bg_in_x "$X" echo --dev "$DEV_X" --shared --port 7 --duration 60 2>"$log"
echo_pid=$BG_PID
for _ in $(seq 50); do
  stats=$(in_x "$X" stats --dev "$DEV_X" 2>/dev/null) && grep -q "^XnetSharedPorts: Udp7" <<<"$stats" && break
  sleep 0.2
done
grep -q "^XnetSharedPorts: Udp7" <<<"$stats" || fail "xnet never held port 7: $stats $(cat "$log")"
grep -q "shared with the kernel" "$log" || fail "echo does not say it shares the address: $(cat "$log")"

# The client knows xnet's MAC without asking (so the xnet side's kernel
# learns nothing from an ARP request), and the xnet side's kernel has no
# entry for the client: xnet must ask the kernel to resolve it, and take the
# MAC from the kernel's table.
mac_x=$(in_x cat "/sys/class/net/$DEV_X/address")
in_k ip neigh replace 10.89.0.1 lladdr "$mac_x" dev "$DEV_K" nud permanent
in_x ip neigh flush dev "$DEV_X"

# A UDP client in the kernel namespace: sends TEXT to PORT, prints the answer.
udp_ask() {
  in_k python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
# Connected: Linux reports a port unreachable only to a connected socket.
s.connect(("10.89.0.1", int(sys.argv[1])))
s.send(sys.argv[2].encode())
try:
    print(s.recv(65535).decode())
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")' "$1" "$2"
}

out=$(udp_ask 7 hello-xnet) || fail "udp client: $out"
[[ "$out" == hello-xnet ]] || fail "xnet echo on port 7 answered '$out'"
out=$(udp_ask 9000 hello-kernel) || fail "udp client: $out"
[[ "$out" == kernel:hello-kernel ]] || fail "the kernel service on 9000 answered '$out'"
# The subnet broadcast to port 7 is xnet's too (steered by port, as the address).
out=$(in_k python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.settimeout(3)
s.sendto(b"hello-broadcast", ("10.89.0.255", 7))
try:
    print(s.recv(100).decode())
except socket.timeout:
    print("timeout")') || fail "broadcast client: $out"
[[ "$out" == hello-broadcast ]] || fail "a broadcast to port 7 answered '$out'"
out=$(udp_ask 9002 nobody) || fail "udp client: $out"
[[ "$out" == refused ]] || fail "a port nobody holds answered '$out' (the kernel's port unreachable expected)"

in_k ping -c2 -W2 10.89.0.1 >/dev/null || fail "the kernel does not answer ICMP echo on the shared address"
out=$(in_k python3 -c '
import socket
c = socket.create_connection(("10.89.0.1", 9001), timeout=3)
c.sendall(b"hi")
print(c.recv(100).decode())') || fail "tcp: $out"
[[ "$out" == tcp:hi ]] || fail "TCP to the kernel answered '$out'"

# Fragmented datagrams to port 7 (1000-byte fragments), in order and with the
# first fragment last (which the steering program cannot place by port).
for order in inorder firstlast; do
  for size in 2500 5000; do
    in_k python3 "$FRAG" 10.89.0.2 10.89.0.1 7 "$size" "$order" || fail "fragmented $size bytes ($order) not echoed"
  done
done
# To the kernel's port 9000: in order they never reach xnet; first fragment
# last, xnet takes the datagram (its port is unknown until the end) and hands
# it back to the kernel, whose service answers ("kernel:" + the datagram).
for order in inorder firstlast; do
  in_k python3 "$FRAG" 10.89.0.2 10.89.0.1 9000 3000 "$order" kernel: \
    || fail "fragmented datagram to the kernel's 9000 ($order) not answered"
done

# No kernel application can bind port 7 while xnet holds it; 9003 is free.
out=$(in_x python3 -c '
import socket
for addr in ("10.89.0.1", "0.0.0.0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((addr, 7))
        print("bound", addr)
    except OSError as e:
        print("refused", addr, e.errno)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.89.0.1", 9003))
print("bound 9003")')
grep -q "bound 10.89.0.1\|bound 0.0.0.0" <<<"$out" && fail "a kernel socket bound port 7 while xnet held it: $out"
grep -q "bound 9003" <<<"$out" || fail "a free port could not be bound: $out"

stats=$(in_x "$X" stats --dev "$DEV_X") || fail "stats: $stats"
echo "$stats" | grep "^Xnet"
shared=$(grep "^XnetShared: [0-9]" <<<"$stats") || fail "no XnetShared counters: $stats"
read -r _ addrs held frag_early handed_back _ solicits asked learned _ <<<"$shared"
[[ "$addrs" == 1 && "$held" == 1 ]] || fail "addresses/ports held: $shared"
[[ "$frag_early" -ge 3 ]] || fail "fragments before their first were not counted: $shared"
[[ "$handed_back" == 1 ]] || fail "the kernel's fragmented datagram was not handed back once: $shared"
[[ "$solicits" -ge 1 && "$asked" -ge 1 && "$learned" -ge 1 ]] || fail "xnet did not ask the kernel for its peer: $shared"
in_x ip neigh show dev "$DEV_X" | grep -q "10.89.0.2 .*lladdr" || fail "the kernel has no entry for the peer"
json=$(in_x "$X" stats --dev "$DEV_X" --json) || fail "stats --json: $json"
grep -q '"XnetSharedPorts": {"Udp7": 1}' <<<"$json" || fail "stats --json lacks the ports: $json"

stop_bg "$echo_pid"
# Port 7 is the kernel's again: port unreachable (ECONNREFUSED), and a kernel
# socket may bind it.
out=$(udp_ask 7 after) || fail "udp client: $out"
[[ "$out" == refused ]] || fail "after xnet exited, port 7 answered '$out' (port unreachable expected)"
in_x python3 -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("10.89.0.1", 7))' || fail "port 7 not free after xnet exited"
xdp=$(in_x ip -d link show dev "$DEV_X")
grep -q "prog/xdp" <<<"$xdp" && fail "an XDP program is left on $DEV_X: $xdp"

# A crash (SIGKILL: no cleanup at all) gives the port back too: the kernel
# closes xnet's sockets, and the program left behind finds no AF_XDP socket
# and passes everything to the kernel. The next xnet replaces that program.
wait_port7() {
  for _ in $(seq 50); do
    stats=$(in_x "$X" stats --dev "$DEV_X" 2>/dev/null) && grep -q "^XnetSharedPorts: Udp7" <<<"$stats" && return 0
    sleep 0.2
  done
  fail "xnet never held port 7: $stats $(cat "$log")"
}
bg_in_x "$X" echo --dev "$DEV_X" --shared --port 7 --duration 60 2>"$log"
crash_pid=$BG_PID
wait_port7
kill -KILL "$crash_pid"
wait "$crash_pid" 2>/dev/null || true
out=$(udp_ask 7 after-crash) || fail "udp client: $out"
[[ "$out" == refused ]] || fail "after xnet was killed, port 7 answered '$out' (port unreachable expected)"
in_x python3 -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("10.89.0.1", 7))' || fail "port 7 not free after xnet was killed"
bg_in_x "$X" echo --dev "$DEV_X" --shared --port 7 --duration 60 2>"$log"
again_pid=$BG_PID
wait_port7
grep -q "replacing a stale" "$log" || fail "the program left by the killed xnet was not replaced: $(cat "$log")"
out=$(udp_ask 7 again) || fail "udp client: $out"
[[ "$out" == again ]] || fail "xnet started after a crash answered '$out'"
stop_bg "$again_pid"

# xnet ping --shared: a client on the kernel's address, against a kernel UDP
# echo on the peer; the replies reach xnet's client port, none is lost.
ip netns exec "$NS_K" python3 -c '
import signal, socket
signal.signal(signal.SIGINT, signal.SIG_DFL)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.89.0.2", 9100))
while True:
    d, a = s.recvfrom(65535)
    s.sendto(d, a)' &
BG_PIDS+=($!)
sleep 0.3
out=$(in_x timeout 30 "$X" ping --dev "$DEV_X" --shared --to 10.89.0.2:9100 --count 200 --timeout 500 2>&1) ||
  fail "xnet ping --shared: $out"
grep -q "the kernel's address" <<<"$out" || fail "ping --shared does not say whose address it used: $out"
grep -qE "sent 200 +received 200 +lost 0 " <<<"$out" || fail "ping --shared lost replies: $out"
echo PASS
