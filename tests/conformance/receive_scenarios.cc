// The peer sends (crafted with its own builder), the host receives, answers
// or drops; and what its counters say about it.

#include "tests/conformance/scenarios.h"

namespace xnet::conformance {
namespace {

constexpr uint16_t kLocal = 5000;
constexpr uint16_t kClosed = 5001;
constexpr uint16_t kFrom = 4000;

// A socket bound to kLocal that asks for every receive cmsg.
int listener(Ctx& c) {
  const int s = c.sock();
  c.bind(s, kLocal);
  c.opt(s, Opt::kPktInfo, 1);
  c.opt(s, Opt::kRecvTtl, 1);
  c.opt(s, Opt::kRecvTos, 1);
  return s;
}

RecvArgs quick() {
  RecvArgs a;
  a.wait_ms = 150;
  return a;
}

uint32_t peer() { return ip4(kPeerIp); }

Ipv4Spec spec(uint8_t proto, uint32_t src, uint32_t dst, bool df = false) {
  Ipv4Spec s;
  s.proto = proto;
  s.src = src;
  s.dst = dst;
  s.df = df;
  return s;
}
uint32_t host() { return ip4(kHostIp); }

// The UDP datagram (header + payload) the fragment scenarios cut up.
Bytes frag_l4(size_t n) { return udp_datagram(peer(), host(), {kFrom, kLocal, {}, {}}, pattern(n, 3)); }

Ipv4Spec frag_ip(uint16_t id) {
  Ipv4Spec ip;
  ip.src = peer();
  ip.dst = host();
  ip.id = id;
  return ip;
}

// Echo request with `n` data bytes.
Bytes echo(uint16_t id, uint16_t seq, size_t n) {
  return icmp_message(8, 0, static_cast<uint32_t>(id) << 16 | seq, pattern(n, 5));
}

Bytes icmp_packet(const Bytes& icmp, Ipv4Spec ip = {}) {
  if (ip.src == 0) ip.src = peer();
  if (ip.dst == 0) ip.dst = host();
  ip.proto = 1;
  return ipv4_packet(ip, icmp);
}

}  // namespace

std::vector<Scenario> receive_scenarios() {
  std::vector<Scenario> v;

  // ---- plain datagrams and recvmsg -----------------------------------------------
  v.push_back({"receive 100 bytes with IP_PKTINFO, IP_RECVTTL, IP_RECVTOS",
               [](Ctx& c) {
                 const int s = listener(c);
                 Ipv4Spec ip;
                 ip.ttl = 17;
                 ip.tos = 0x48;
                 c.inject_udp(kFrom, kLocal, pattern(100), ip);
                 c.recv(s);
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"receive 1472 and 0 bytes",
               [](Ctx& c) {
                 const int s = listener(c);
                 c.inject_udp(kFrom, kLocal, pattern(1472));
                 c.inject_udp(kFrom, kLocal, {});
                 c.recv(s);
                 c.recv(s);
               },
               {}});
  v.push_back({"MSG_PEEK, then MSG_TRUNC into a small buffer, then truncated",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.inject_udp(kFrom, kLocal, pattern(300));
                 c.inject_udp(kFrom, kLocal, pattern(300, 1));
                 c.recv(s, {.buf = 65536, .peek = true, .trunc = false, .wait_ms = 300});
                 c.recv(s, {.buf = 100, .peek = false, .trunc = true, .wait_ms = 300});
                 c.recv(s, {.buf = 100, .peek = false, .trunc = false, .wait_ms = 300});
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"to a closed port: port unreachable",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.inject_udp(kFrom, kClosed, pattern(40));
               },
               {}});
  v.push_back({"to a closed port, 1400 bytes: the quote is cut",
               [](Ctx& c) { c.inject_udp(kFrom, kClosed, pattern(1400)); }, {}});
  v.push_back({"connected socket filters other sources",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.connect(s, kPeerIp, kFrom);
                 c.inject_udp(kFrom + 1, kLocal, pattern(10));
                 c.inject_udp(kFrom, kLocal, pattern(11, 1));
                 c.recv(s);
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"bound to the address, not the wildcard",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal, kHostIp);
                 c.inject_udp(kFrom, kLocal, pattern(10));
                 c.recv(s);
               },
               {}});
  v.push_back({"SO_RCVBUF small: drops when full",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.opt(s, Opt::kRcvBuf, 1);  // the minimum, 2304 after doubling
                 for (uint8_t i = 0; i < 6; ++i) c.inject_udp(kFrom, kLocal, pattern(1000, i));
                 c.wait(50);
                 for (int i = 0; i < 6; ++i) c.recv(s, quick());
               },
               {}});

  // ---- malformed UDP --------------------------------------------------------------
  v.push_back({"UDP bad checksum",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.inject_udp(kFrom, kLocal, pattern(20), {}, {.sport = 0, .dport = 0, .len = {}, .csum = 0x1234});
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"UDP checksum 0 (none) is accepted",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.inject_udp(kFrom, kLocal, pattern(20), {}, {.sport = 0, .dport = 0, .len = {}, .csum = 0});
                 c.recv(s);
               },
               {}});
  v.push_back({"UDP length longer than the packet",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.inject_udp(kFrom, kLocal, pattern(20), {}, {.sport = 0, .dport = 0, .len = 60, .csum = 0});
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"UDP length shorter than the packet (trimmed)",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.inject_udp(kFrom, kLocal, pattern(20), {}, {.sport = 0, .dport = 0, .len = 18, .csum = 0});
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"UDP length below 8",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.inject_udp(kFrom, kLocal, pattern(20), {}, {.sport = 0, .dport = 0, .len = 4, .csum = 0});
                 c.recv(s, quick());
               },
               {}});

  // ---- malformed IPv4 ---------------------------------------------------------------
  auto bad_ip = [&v](const std::string& name, Ipv4Spec ip) {
    v.push_back({name, [ip](Ctx& c) {
                   const int s = c.sock();
                   c.bind(s, kLocal);
                   c.inject_udp(kFrom, kLocal, pattern(20), ip);
                   c.recv(s, quick());
                 },
                 {}});
  };
  {
    Ipv4Spec ip;
    ip.csum = 0x1111;
    bad_ip("IPv4 bad header checksum", ip);
  }
  {
    Ipv4Spec ip;
    ip.version = 6;
    bad_ip("IPv4 version 6 in an IPv4 frame", ip);
  }
  {
    Ipv4Spec ip;
    ip.raw_ihl = 4;
    bad_ip("IPv4 header length 4 words", ip);
  }
  {
    Ipv4Spec ip;
    ip.tot_len = 200;
    bad_ip("IPv4 total length past the frame", ip);
  }
  {
    Ipv4Spec ip;
    ip.tot_len = 16;
    bad_ip("IPv4 total length below the header", ip);
  }
  {
    Ipv4Spec ip;
    ip.ttl = 0;
    bad_ip("IPv4 TTL 0 to us (delivered)", ip);
  }
  for (const char* src : {"127.0.0.1", "0.0.0.0", "224.0.0.5", "255.255.255.255", "10.77.0.1"}) {
    Ipv4Spec ip;
    ip.src = ip4(src);
    bad_ip(std::string("martian source ") + src, ip);
  }
  v.push_back({"unknown protocol 253: protocol unreachable",
               [](Ctx& c) {
                 Ipv4Spec ip;
                 ip.src = peer();
                 ip.dst = host();
                 ip.proto = 253;
                 c.inject_ip(ipv4_packet(ip, pattern(12)));
               },
               {}});
  v.push_back({"to another host's address on the subnet",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 Ipv4Spec ip;
                 ip.dst = ip4("10.77.0.9");
                 c.inject_udp(kFrom, kLocal, pattern(20), ip);
                 c.recv(s, quick());
               },
               {}});

  // ---- broadcast and multicast destinations ------------------------------------------
  for (const char* dst : {"10.77.0.255", "255.255.255.255", "224.0.0.1"}) {
    v.push_back({std::string("UDP to ") + dst + ", wildcard-bound socket",
                 [dst](Ctx& c) {
                   const int s = listener(c);
                   Ipv4Spec ip;
                   ip.dst = ip4(dst);
                   c.inject_udp(kFrom, kLocal, pattern(20), ip);
                   c.recv(s, quick());
                 },
                 {}});
    v.push_back({std::string("UDP to ") + dst + ", closed port",
                 [dst](Ctx& c) {
                   Ipv4Spec ip;
                   ip.dst = ip4(dst);
                   c.inject_udp(kFrom, kClosed, pattern(20), ip);
                 },
                 {}});
  }
  v.push_back({"VLAN-tagged datagram",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 Bytes pkt = ipv4_packet(spec(17, peer(), host()),
                                         udp_datagram(peer(), host(), {kFrom, kLocal, {}, {}}, pattern(20)));
                 c.inject(ethernet(c.host_mac(), c.peer_mac(), kEthIpv4, pkt, 5));
                 c.recv(s, quick());
               },
               {}});

  // ---- fragments ----------------------------------------------------------------------
  auto frag = [&v](const std::string& name, std::vector<int> order, size_t n, size_t chunk) {
    v.push_back({name, [=](Ctx& c) {
                   const int s = listener(c);
                   const std::vector<Bytes> f = fragments(frag_ip(0x4242), frag_l4(n), chunk);
                   for (int i : order) c.inject_ip(f[static_cast<size_t>(i)]);
                   c.recv(s);
                   c.recv(s, quick());
                 },
                 {}});
  };
  frag("fragments in order", {0, 1, 2}, 3000, 1480);
  frag("fragments reversed", {2, 1, 0}, 3000, 1480);
  frag("fragments duplicated", {0, 1, 1, 2, 0}, 3000, 1480);
  frag("fragments small (8 bytes each)", {0, 1, 2, 3, 4}, 32, 8);
  v.push_back({"fragments overlapping",
               [](Ctx& c) {
                 const int s = listener(c);
                 const Bytes l4 = frag_l4(2000);
                 std::vector<Bytes> f = fragments(frag_ip(0x4343), l4, 1480);
                 Ipv4Spec mid = frag_ip(0x4343);
                 mid.mf = true;
                 mid.frag_offset = 800;
                 c.inject_ip(f[0]);
                 c.inject_ip(ipv4_packet(mid, Bytes(l4.begin() + 800, l4.begin() + 1600)));
                 c.inject_ip(f[1]);
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"fragment with DF and MF",
               [](Ctx& c) {
                 const int s = listener(c);
                 Ipv4Spec ip = frag_ip(0x4444);
                 ip.df = true;
                 std::vector<Bytes> f = fragments(ip, frag_l4(2000), 1480);
                 for (const Bytes& b : f) c.inject_ip(b);
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"fragments of two datagrams interleaved",
               [](Ctx& c) {
                 const int s = listener(c);
                 std::vector<Bytes> a = fragments(frag_ip(0x5001), frag_l4(2000), 1480);
                 std::vector<Bytes> b = fragments(frag_ip(0x5002), frag_l4(2500), 1480);
                 c.inject_ip(a[0]);
                 c.inject_ip(b[1]);
                 c.inject_ip(a[1]);
                 c.inject_ip(b[0]);
                 c.recv(s);
                 c.recv(s);
               },
               {}});
  v.push_back({"fragments to a closed port",
               [](Ctx& c) {
                 const Bytes l4 = udp_datagram(peer(), host(), {kFrom, kClosed, {}, {}}, pattern(2000, 3));
                 for (const Bytes& f : fragments(frag_ip(0x4545), l4, 1480)) c.inject_ip(f);
               },
               {}});
  // The kernel keeps it until the timer (ReasmFails then), xnet refuses it
  // at once: the same count once the timer has run.
  v.push_back({"fragment past 65535: reassembly timeout",
               [](Ctx& c) {
                 listener(c);
                 Ipv4Spec ip = frag_ip(0x4646);
                 ip.frag_offset = 65528;
                 c.inject_ip(ipv4_packet(ip, pattern(100)));
               },
               [](Ctx& c) { c.recv(0, quick()); }});
  // Missing pieces: the 30 s timer, waited for once for all of these.
  v.push_back({"fragments missing the last: reassembly timeout",
               [](Ctx& c) {
                 listener(c);
                 std::vector<Bytes> f = fragments(frag_ip(0x4747), frag_l4(3000), 1480);
                 c.inject_ip(f[0]);
                 c.inject_ip(f[1]);
               },
               [](Ctx& c) { c.recv(0, quick()); }});
  v.push_back({"fragments missing the first: reassembly timeout",
               [](Ctx& c) {
                 listener(c);
                 std::vector<Bytes> f = fragments(frag_ip(0x4848), frag_l4(3000), 1480);
                 c.inject_ip(f[1]);
                 c.inject_ip(f[2]);
               },
               [](Ctx& c) { c.recv(0, quick()); }});

  // ---- IP options ------------------------------------------------------------------------
  auto with_opts = [&v](const std::string& name, Bytes opts) {
    v.push_back({"UDP with " + name, [opts](Ctx& c) {
                   const int s = listener(c);
                   Ipv4Spec ip;
                   ip.options = opts;
                   c.inject_udp(kFrom, kLocal, pattern(20), ip);
                   c.recv(s, quick());
                 },
                 {}});
    v.push_back({"echo with " + name, [opts](Ctx& c) {
                   Ipv4Spec ip;
                   ip.options = opts;
                   c.inject_ip(icmp_packet(echo(7, 1, 16), ip));
                 },
                 {}});
  };
  with_opts("Record Route", {7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  with_opts("Timestamp (times only)", {68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  with_opts("Timestamp (address and time)", {68, 20, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  with_opts("Router Alert", {148, 4, 0, 0});
  with_opts("an option longer than the header", {7, 40, 4, 0});
  with_opts("Loose Source Route", {131, 7, 4, 10, 77, 0, 2, 1});
  with_opts("Strict Source Route through us", {137, 11, 4, 10, 77, 0, 1, 10, 77, 0, 2, 1});
  with_opts("an unknown option", {0x9e, 4, 0, 0});
  with_opts("Record Route, full", {7, 7, 8, 10, 9, 9, 9, 1});
  with_opts("Timestamp, full", {68, 8, 9, 0, 0, 0, 0, 1});
  with_opts("Timestamp (prespecified: us, then another)",
            {68, 20, 5, 3, 10, 77, 0, 1, 0, 0, 0, 0, 10, 77, 0, 9, 0, 0, 0, 0});
  with_opts("Timestamp (prespecified: another)", {68, 12, 5, 3, 10, 77, 0, 9, 0, 0, 0, 0});
  with_opts("Record Route and Timestamp", {7, 7, 4, 0, 0, 0, 0, 68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  v.push_back({"timestamp request with Record Route",
               [](Ctx& c) {
                 Ipv4Spec ip;
                 ip.options = {7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1};
                 c.inject_ip(icmp_packet(icmp_message(13, 0, 0x00150001, Bytes(12, 0)), ip));
               },
               {}});

  // ---- ICMP ---------------------------------------------------------------------------------
  v.push_back({"echo request", [](Ctx& c) { c.inject_ip(icmp_packet(echo(0x77, 3, 56))); }, {}});
  v.push_back({"echo request, 3000 bytes in fragments",
               [](Ctx& c) {
                 Ipv4Spec ip = frag_ip(0x4949);
                 ip.proto = 1;
                 for (const Bytes& f : fragments(ip, echo(0x78, 1, 3000), 1480)) c.inject_ip(f);
               },
               {}});
  v.push_back({"echo request with TOS 0x10 and DF",
               [](Ctx& c) {
                 Ipv4Spec ip;
                 ip.tos = 0x10;
                 ip.df = true;
                 c.inject_ip(icmp_packet(echo(0x79, 1, 8), ip));
               },
               {}});
  v.push_back({"echo request with a bad ICMP checksum",
               [](Ctx& c) {
                 Bytes m = echo(0x7a, 1, 8);
                 m[2] ^= 0xff;
                 c.inject_ip(icmp_packet(m));
               },
               {}});
  v.push_back({"echo request to the subnet broadcast (ignored)",
               [](Ctx& c) {
                 c.inject_ip(ipv4_packet(spec(1, peer(), ip4(kSubnetBroadcast)), echo(0x7b, 1, 8)));
               },
               {}});
  v.push_back({"timestamp request",
               [](Ctx& c) { c.inject_ip(icmp_packet(icmp_message(13, 0, 0x00110001, Bytes(12, 0)))); }, {}});
  v.push_back({"echo reply nobody asked for",
               [](Ctx& c) { c.inject_ip(icmp_packet(icmp_message(0, 0, 0x00120001, pattern(8)))); }, {}});
  v.push_back({"ICMP unknown type 42",
               [](Ctx& c) { c.inject_ip(icmp_packet(icmp_message(42, 0, 0, pattern(8)))); }, {}});
  v.push_back({"ICMP shorter than its header",
               [](Ctx& c) { c.inject_ip(icmp_packet(Bytes{8, 0, 0xf7, 0xff})); }, {}});
  v.push_back({"echo requests: 12 in a row (no rate limit on echo)",
               [](Ctx& c) {
                 for (uint16_t i = 0; i < 12; ++i) c.inject_ip(icmp_packet(echo(0x7c, i, 8)));
               },
               {}});
  v.push_back({"port unreachables: 10 in a row (rate limit)",
               [](Ctx& c) {
                 for (uint8_t i = 0; i < 10; ++i) c.inject_udp(kFrom, kClosed, pattern(10, i));
               },
               {}});
  // An ICMP error about a datagram the host sent from a bound, unconnected
  // socket with IP_RECVERR, crafted by the peer (not its kernel).
  v.push_back({"crafted host unreachable for our datagram, IP_RECVERR",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.opt(s, Opt::kRecvErr, 1);
                 const Bytes quoted = ipv4_packet(spec(17, host(), peer()),
                                                  udp_datagram(host(), peer(), {kLocal, 7777, {}, {}}, pattern(8)));
                 c.inject_ip(icmp_packet(icmp_message(3, 1, 0, Bytes(quoted.begin(), quoted.begin() + 28))));
                 c.recv_error(s);
                 c.so_error(s);
               },
               {}});
  v.push_back({"crafted frag needed for our datagram, connected",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.connect(s, kPeerIp, 7777);
                 const Bytes quoted = ipv4_packet(spec(17, host(), peer(), true),
                                                  udp_datagram(host(), peer(), {kLocal, 7777, {}, {}}, pattern(8)));
                 c.inject_ip(icmp_packet(icmp_message(3, 4, 1200, Bytes(quoted.begin(), quoted.begin() + 28))));
                 c.recv(s, quick());
                 c.so_error(s);
               },
               {}});
  v.push_back({"crafted port unreachable, connected: ECONNREFUSED",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.connect(s, kPeerIp, 7777);
                 const Bytes quoted = ipv4_packet(spec(17, host(), peer()),
                                                  udp_datagram(host(), peer(), {kLocal, 7777, {}, {}}, pattern(8)));
                 c.inject_ip(icmp_packet(icmp_message(3, 3, 0, Bytes(quoted.begin(), quoted.begin() + 28))));
                 c.recv(s);
                 c.recv(s, quick());
               },
               {}});

  // ---- ARP -------------------------------------------------------------------------------------
  const Mac bcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  v.push_back({"ARP request for the host",
               [bcast](Ctx& c) {
                 c.inject(ethernet(bcast, c.peer_mac(), kEthArp,
                                   arp_packet({1, c.peer_mac(), peer(), {}, host()})));
               },
               {}});
  v.push_back({"ARP request for another address",
               [bcast](Ctx& c) {
                 c.inject(ethernet(bcast, c.peer_mac(), kEthArp,
                                   arp_packet({1, c.peer_mac(), peer(), {}, ip4("10.77.0.9")})));
               },
               {}});
  v.push_back({"ARP probe for the host (sender 0.0.0.0)",
               [bcast](Ctx& c) {
                 c.inject(ethernet(bcast, c.peer_mac(), kEthArp, arp_packet({1, c.peer_mac(), 0, {}, host()})));
               },
               {}});
  v.push_back({"gratuitous ARP from the peer, then a send",
               [bcast](Ctx& c) {
                 c.inject(ethernet(bcast, c.peer_mac(), kEthArp,
                                   arp_packet({1, c.peer_mac(), peer(), {}, peer()})));
                 c.wait(20);
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.sendto(s, 10, kPeerIp, kPeerSink);
               },
               {}});
  v.push_back({"unsolicited ARP reply, then a send",
               [](Ctx& c) {
                 c.inject(ethernet(c.host_mac(), c.peer_mac(), kEthArp,
                                   arp_packet({2, c.peer_mac(), peer(), c.host_mac(), host()})));
                 c.wait(20);
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.sendto(s, 10, kPeerIp, kPeerSink);
               },
               {}});
  v.push_back({"ARP request with a short frame",
               [bcast](Ctx& c) {
                 Bytes a = arp_packet({1, c.peer_mac(), peer(), {}, host()});
                 a.resize(20);
                 c.inject(ethernet(bcast, c.peer_mac(), kEthArp, a));
               },
               {}});

  // ---- more receive paths ----------------------------------------------------------------
  v.push_back({"short datagram with Ethernet padding",
               [](Ctx& c) {
                 const int s = listener(c);
                 Bytes pkt = ipv4_packet(spec(17, peer(), host()),
                                         udp_datagram(peer(), host(), {kFrom, kLocal, {}, {}}, pattern(2)));
                 Bytes f = ethernet(c.host_mac(), c.peer_mac(), kEthIpv4, pkt);
                 f.resize(60, 0xee);
                 c.inject(f);
                 c.recv(s);
               },
               {}});
  v.push_back({"IP_RECVTOS with ECN CE",
               [](Ctx& c) {
                 const int s = listener(c);
                 Ipv4Spec ip;
                 ip.tos = 0x03;
                 c.inject_udp(kFrom, kLocal, pattern(10), ip);
                 c.recv(s);
               },
               {}});
  v.push_back({"UDP to port 0",
               [](Ctx& c) { c.inject_udp(kFrom, 0, pattern(10)); }, {}});
  v.push_back({"UDP from port 0 is delivered",
               [](Ctx& c) {
                 const int s = listener(c);
                 c.inject_udp(0, kLocal, pattern(10));
                 c.recv(s);
               },
               {}});
  v.push_back({"UDP zero length with a bad checksum",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal);
                 c.inject_udp(kFrom, kLocal, {}, {}, {.sport = 0, .dport = 0, .len = {}, .csum = 0x0101});
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"UDP bad checksum to a closed port",
               [](Ctx& c) { c.inject_udp(kFrom, kClosed, pattern(10), {}, {.sport = 0, .dport = 0, .len = {}, .csum = 0x0101}); },
               {}});
  v.push_back({"tiny first fragment (the UDP header alone)",
               [](Ctx& c) {
                 const int s = listener(c);
                 const Bytes l4 = frag_l4(100);
                 Ipv4Spec a = frag_ip(0x5151);
                 a.mf = true;
                 c.inject_ip(ipv4_packet(a, Bytes(l4.begin(), l4.begin() + 8)));
                 Ipv4Spec b = frag_ip(0x5151);
                 b.frag_offset = 8;
                 c.inject_ip(ipv4_packet(b, Bytes(l4.begin() + 8, l4.end())));
                 c.recv(s);
               },
               {}});
  v.push_back({"duplicate fragment with different bytes",
               [](Ctx& c) {
                 const int s = listener(c);
                 const Bytes l4 = frag_l4(2000);
                 std::vector<Bytes> f = fragments(frag_ip(0x5252), l4, 1480);
                 Bytes other = f[1];
                 other[other.size() - 1] ^= 0x55;
                 c.inject_ip(f[1]);
                 c.inject_ip(other);
                 c.inject_ip(f[0]);
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"fragments whose middle piece is not a multiple of 8",
               [](Ctx& c) {
                 const int s = listener(c);
                 const Bytes l4 = frag_l4(100);
                 Ipv4Spec a = frag_ip(0x5353);
                 a.mf = true;
                 c.inject_ip(ipv4_packet(a, Bytes(l4.begin(), l4.begin() + 21)));
                 Ipv4Spec b = frag_ip(0x5353);
                 b.frag_offset = 24;
                 c.inject_ip(ipv4_packet(b, Bytes(l4.begin() + 24, l4.end())));
                 c.recv(s, quick());
               },
               {}});
  v.push_back({"echo request, fragments reversed",
               [](Ctx& c) {
                 Ipv4Spec ip = frag_ip(0x5454);
                 ip.proto = 1;
                 std::vector<Bytes> f = fragments(ip, echo(0x7d, 2, 2000), 1480);
                 c.inject_ip(f[1]);
                 c.inject_ip(f[0]);
               },
               {}});
  v.push_back({"echo request without data", [](Ctx& c) { c.inject_ip(icmp_packet(echo(0x7e, 1, 0))); }, {}});
  v.push_back({"echo request with odd length", [](Ctx& c) { c.inject_ip(icmp_packet(echo(0x7f, 1, 33))); }, {}});
  v.push_back({"echo request with TTL 1", [](Ctx& c) {
                 Ipv4Spec ip;
                 ip.ttl = 1;
                 c.inject_ip(icmp_packet(echo(0x80, 1, 8), ip));
               },
               {}});
  v.push_back({"timestamp request too short",
               [](Ctx& c) { c.inject_ip(icmp_packet(icmp_message(13, 0, 0x00130001, Bytes(8, 0)))); }, {}});
  v.push_back({"address mask request",
               [](Ctx& c) { c.inject_ip(icmp_packet(icmp_message(17, 0, 0x00140001, Bytes(4, 0)))); }, {}});
  v.push_back({"ICMP error with a quote too short",
               [](Ctx& c) { c.inject_ip(icmp_packet(icmp_message(3, 3, 0, Bytes(10, 0x45)))); }, {}});
  v.push_back({"ICMP error about an ICMP error is not answered",
               [](Ctx& c) {
                 const Bytes quoted = ipv4_packet(spec(1, host(), peer()), icmp_message(3, 3, 0, Bytes(28, 0)));
                 c.inject_ip(icmp_packet(icmp_message(3, 1, 0, Bytes(quoted.begin(), quoted.begin() + 28))));
               },
               {}});
  auto crafted = [&v](const std::string& name, uint8_t type, uint8_t code, bool recverr) {
    v.push_back({name, [=](Ctx& c) {
                   const int s = c.sock();
                   c.bind(s, kLocal);
                   if (recverr) c.opt(s, Opt::kRecvErr, 1);
                   c.connect(s, kPeerIp, 7777);
                   const Bytes quoted = ipv4_packet(spec(17, host(), peer()),
                                                    udp_datagram(host(), peer(), {kLocal, 7777, {}, {}}, pattern(8)));
                   c.inject_ip(icmp_packet(icmp_message(type, code, 0, Bytes(quoted.begin(), quoted.begin() + 28))));
                   c.recv(s, quick());
                   if (recverr) c.recv_error(s, 50);
                   c.so_error(s);
                 },
                 {}});
  };
  crafted("crafted net unreachable, connected", 3, 0, false);
  crafted("crafted protocol unreachable, connected", 3, 2, false);
  crafted("crafted source route failed, connected, IP_RECVERR", 3, 5, true);
  crafted("crafted host unknown, connected", 3, 7, false);
  crafted("crafted admin prohibited, connected, IP_RECVERR", 3, 13, true);
  crafted("crafted time exceeded, connected", 11, 0, false);
  crafted("crafted time exceeded, connected, IP_RECVERR", 11, 0, true);
  crafted("crafted parameter problem, connected, IP_RECVERR", 12, 0, true);
  crafted("crafted source quench, connected", 4, 0, false);
  v.push_back({"ARP request from another subnet",
               [](Ctx& c) {
                 const Mac bcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
                 c.inject(ethernet(bcast, c.peer_mac(), kEthArp,
                                   arp_packet({1, c.peer_mac(), ip4("192.168.9.9"), {}, host()})));
               },
               {}});
  // Linux answers senders the route input accepts as sources (rp_filter = 0)
  // and learns them, except the subnet broadcast (a NUD_NOARP entry).
  auto arp_request_from = [](const char* sip) {
    return [sip](Ctx& c) {
      const Mac bcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
      c.inject(ethernet(bcast, c.peer_mac(), kEthArp, arp_packet({1, c.peer_mac(), ip4(sip), {}, host()})));
    };
  };
  v.push_back({"ARP request from the subnet broadcast address", arp_request_from(kSubnetBroadcast), {}});
  v.push_back({"ARP request from 0.1.2.3", arp_request_from("0.1.2.3"), {}});
  // Learned: the datagram goes straight to the sender's MAC, no request first.
  v.push_back({"ARP request from the network address, then a datagram to it",
               [arp_request_from](Ctx& c) {
                 arp_request_from("10.77.0.0")(c);
                 c.wait(50);
                 c.sendto(c.sock(), 20, "10.77.0.0", 9);
               },
               {}});
  v.push_back({"ARP request unicast to the host",
               [](Ctx& c) {
                 c.inject(ethernet(c.host_mac(), c.peer_mac(), kEthArp,
                                   arp_packet({1, c.peer_mac(), peer(), {}, host()})));
               },
               {}});
  return v;
}

}  // namespace xnet::conformance
