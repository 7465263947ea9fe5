#!/usr/bin/env python3
"""Sends one UDP datagram in IPv4 fragments, in a chosen order, and waits for
its echo: the fragment test of xnet_shared_test.sh (no scapy on the project's
machines, so the fragments are built here with struct).

  udp_frag_send.py SRC DST PORT SIZE ORDER [PREFIX]   (ORDER: inorder | firstlast)

Exit 0 when the echo (PREFIX followed by the datagram) arrives intact within
3 s, 1 otherwise. The datagram is
sent from a kernel UDP socket's port (bound first, so the echo reaches it)
through a raw socket (IP_HDRINCL) with fragments of 1000 payload bytes."""
import os
import socket
import struct
import sys


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main() -> int:
    src, dst, port, size, order = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    prefix = sys.argv[6].encode() if len(sys.argv) > 6 else b""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind((src, 0))
    sport = rx.getsockname()[1]
    rx.settimeout(3)
    payload = os.urandom(size)
    ulen = 8 + size
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, port, ulen, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ident = os.getpid() & 0xFFFF
    chunk = 1000
    frags = []
    for off in range(0, len(udp), chunk):
        piece = udp[off:off + chunk]
        more = 0x2000 if off + chunk < len(udp) else 0
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(piece), ident, more | (off // 8), 64, 17, 0,
                          socket.inet_aton(src), socket.inet_aton(dst))
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        frags.append(hdr + piece)
    if order == "firstlast":
        frags = frags[1:] + frags[:1]
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for f in frags:
        raw.sendto(f, (dst, 0))
    try:
        data, _ = rx.recvfrom(65535)
    except socket.timeout:
        print(f"no echo of the {size}-byte datagram ({order}, {len(frags)} fragments)", file=sys.stderr)
        return 1
    if data != prefix + payload:
        print(f"echo differs: {len(data)} bytes back, {size} sent", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
