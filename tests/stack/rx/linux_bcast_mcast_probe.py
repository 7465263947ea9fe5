#!/usr/bin/env python3
# What Linux does with broadcast and multicast destinations, a unicast datagram
# in an Ethernet broadcast and a subnet-broadcast source: the probe behind
# broadcast_multicast_test.cc (issue 15, item 6). Run as root:
#   python3 tests/stack/rx/linux_bcast_mcast_probe.py
# Two namespaces joined by a veth (10.98.0.1/24 sends raw frames from a packet
# socket, 10.98.0.2/24 receives with ordinary sockets); for each frame it prints
# what the sockets got and every /proc/net/snmp and /proc/net/netstat counter
# that moved on the receiver, then the IP_ADD/DROP_MEMBERSHIP errors. One frame
# per case; the namespaces are removed on exit, also on failure.
import ctypes, errno, os, socket, struct, subprocess, time

A, B = "xnbcA%d" % os.getpid(), "xnbcB%d" % os.getpid()
libc = ctypes.CDLL(None, use_errno=True)

def sh(c):
    return subprocess.run(c, shell=True, check=True, capture_output=True, text=True).stdout

def enter(ns):
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    assert libc.setns(fd, 0x40000000) == 0  # CLONE_NEWNET
    os.close(fd)

def snmp():
    out = {}
    for f in ("/proc/net/snmp", "/proc/net/netstat"):
        lines = open(f).read().splitlines()
        for i in range(0, len(lines), 2):
            k, v = lines[i].split(), lines[i + 1].split()
            out.update({k[0][:-1] + "." + a: int(b) for a, b in zip(k[1:], v[1:])})
    return out

def csum(d):
    if len(d) % 2: d += b"\0"
    s = sum(struct.unpack("!%dH" % (len(d) // 2), d))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff

ip4 = socket.inet_aton

def frame(dmac, smac, src, dst, dport, payload=b"hello", sport=4000):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = csum(ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(udp)) + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ih = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, ip4(src), ip4(dst))
    ih = ih[:10] + struct.pack("!H", csum(ih)) + ih[12:]
    return dmac + smac + b"\x08\x00" + ih + udp

def mcmac(g):
    a = ip4(g)
    return bytes([1, 0, 0x5e, a[1] & 0x7f, a[2], a[3]])

def main():
    sh(f"ip netns add {A}; ip netns add {B}")
    sh(f"ip link add xnbca0 netns {A} type veth peer name xnbcb0 netns {B}")
    sh(f"ip -n {A} addr add 10.98.0.1/24 dev xnbca0; ip -n {B} addr add 10.98.0.2/24 dev xnbcb0")
    sh(f"ip -n {A} link set xnbca0 up; ip -n {B} link set xnbcb0 up")
    mac = lambda ns, d: bytes.fromhex(sh(f"ip -n {ns} link show {d}").split("link/ether ")[1].split()[0].replace(":", ""))
    smac, bmac, BC = mac(A, "xnbca0"), mac(B, "xnbcb0"), b"\xff" * 6
    enter(A)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind(("xnbca0", 0))
    enter(B)

    def sock(port=5000):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port)); s.setblocking(False)
        return s

    def rx(s):
        try: return s.recvfrom(2000)
        except BlockingIOError: return None

    def case(name, dmac, src, dst, dport=5000, socks=()):
        before = snmp(); tx.send(frame(dmac, smac, src, dst, dport)); time.sleep(0.2); after = snmp()
        moved = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)
                 and not k.startswith(("TcpExt", "Ip6", "Icmp6", "Udp6", "IpExt.InNoECT"))}
        print(f"{name}: got {[rx(s) for s in socks]}\n    {moved}")

    s = sock()
    case("to 255.255.255.255, wildcard socket", BC, "10.98.0.1", "255.255.255.255", socks=[s])
    case("to 255.255.255.255, no socket", BC, "10.98.0.1", "255.255.255.255", 5001)
    case("to the subnet broadcast, wildcard socket", BC, "10.98.0.1", "10.98.0.255", socks=[s])
    case("to 224.0.0.1, wildcard socket", mcmac("224.0.0.1"), "10.98.0.1", "224.0.0.1", socks=[s])
    case("to 224.0.0.1, no socket", mcmac("224.0.0.1"), "10.98.0.1", "224.0.0.1", 5001)
    case("to 239.1.2.3, not joined", mcmac("239.1.2.3"), "10.98.0.1", "239.1.2.3", socks=[s])
    j = sock(5002)
    j.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, ip4("239.1.2.3") + ip4("10.98.0.2"))
    case("to 239.1.2.3 joined by a socket on 5002, to 5000", mcmac("239.1.2.3"), "10.98.0.1", "239.1.2.3", socks=[s, j])
    case("to 239.1.2.3 joined, in an Ethernet broadcast", BC, "10.98.0.1", "239.1.2.3", 5002, socks=[s, j])
    case("unicast for us in an Ethernet broadcast", BC, "10.98.0.1", "10.98.0.2", socks=[s])
    case("unicast for us in the 224.0.0.1 MAC", mcmac("224.0.0.1"), "10.98.0.1", "10.98.0.2", socks=[s])
    case("unicast for us in an Ethernet broadcast, no socket", BC, "10.98.0.1", "10.98.0.2", 5009)
    case("from the subnet broadcast, socket", bmac, "10.98.0.255", "10.98.0.2", socks=[s])
    case("from the subnet broadcast, no socket", bmac, "10.98.0.255", "10.98.0.2", 5009)
    case("from the subnet broadcast to 255.255.255.255", BC, "10.98.0.255", "255.255.255.255", socks=[s])
    case("from 255.255.255.255", bmac, "255.255.255.255", "10.98.0.2", socks=[s])

    def opt(name, o, val):
        try: s.setsockopt(socket.IPPROTO_IP, o, val); print(name, "ok")
        except OSError as e: print(name, errno.errorcode[e.errno])
    mreqn = lambda g, a="0.0.0.0", i=0: ip4(g) + ip4(a) + struct.pack("i", i)
    ifi = socket.if_nametoindex("xnbcb0")
    J, L = socket.IP_ADD_MEMBERSHIP, socket.IP_DROP_MEMBERSHIP
    opt("join 10.1.2.3", J, mreqn("10.1.2.3", i=ifi))
    opt("join 255.255.255.255", J, mreqn("255.255.255.255", i=ifi))
    opt("join, ifindex 999", J, mreqn("239.1.1.1", i=999))
    opt("join, address not ours", J, mreqn("239.1.1.1", a="10.98.0.77"))
    opt("join, by our address", J, mreqn("239.1.1.1", a="10.98.0.2"))
    opt("join again, by ifindex", J, mreqn("239.1.1.1", i=ifi))
    opt("join, nothing given, no default route", J, mreqn("239.1.1.2"))
    opt("join 224.0.0.1 by ifindex", J, mreqn("224.0.0.1", i=ifi))
    opt("leave, not joined", L, mreqn("239.9.9.9", i=ifi))
    opt("leave, ifindex 999", L, mreqn("239.1.1.1", i=999))
    opt("leave 10.1.2.3", L, mreqn("10.1.2.3", i=ifi))
    opt("leave, nothing given, no default route", L, mreqn("239.1.1.1"))
    opt("leave, by our address", L, mreqn("239.1.1.1", a="10.98.0.2"))
    opt("leave again", L, mreqn("239.1.1.1", i=ifi))
    n = 1  # 224.0.0.1 is still joined
    for k in range(30):
        try: s.setsockopt(socket.IPPROTO_IP, J, mreqn("239.2.0.%d" % k, i=ifi)); n += 1
        except OSError as e: print(f"join number {n + 1}:", errno.errorcode[e.errno]); break

try:
    main()
finally:
    subprocess.run(f"ip netns del {A}; ip netns del {B}", shell=True)
