// The peer's builder and dissector against literal bytes and each other.

#include "tests/conformance/frames.h"

#include <gtest/gtest.h>

namespace xnet::conformance {
namespace {

std::string field(const Record& r, const std::string& name) {
  for (const auto& [k, v] : r.fields) {
    if (k == name) return v;
  }
  return "(none)";
}

TEST(Frames, ChecksumOfRfc1071Example) {
  const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(inet_checksum(b, sizeof b), static_cast<uint16_t>(~0xddf2 & 0xffff));
}

TEST(Frames, Ipv4HeaderLiteral) {
  Ipv4Spec s;
  s.id = 0x1c46;
  s.df = true;
  s.ttl = 64;
  s.proto = 6;
  s.src = ip4("172.16.10.99");
  s.dst = ip4("172.16.10.12");
  const Bytes p = ipv4_packet(s, Bytes(40, 0));
  const Bytes want = {0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06,
                      0xb1, 0xe6, 0xac, 0x10, 0x0a, 0x63, 0xac, 0x10, 0x0a, 0x0c};
  EXPECT_EQ(Bytes(p.begin(), p.begin() + 20), want);
}

TEST(Frames, UdpRoundTripAndNormalisation) {
  const Mac h{2, 0, 0, 0, 0, 1}, pm{2, 0, 0, 0, 0, 2};
  Ipv4Spec ip;
  ip.src = ip4("10.0.0.1");
  ip.dst = ip4("10.0.0.2");
  ip.id = 777;
  const Bytes f = ethernet(pm, h, kEthIpv4, ipv4_packet(ip, udp_datagram(ip.src, ip.dst, {40000, 53, {}, {}}, pattern(5))));
  Normaliser n;
  n.host_mac = h;
  n.peer_mac = pm;
  const Record r = dissect(f, n, {f});
  EXPECT_EQ(field(r, "eth.src"), "host");
  EXPECT_EQ(field(r, "eth.dst"), "peer");
  EXPECT_EQ(field(r, "ip.id"), "#1");
  EXPECT_EQ(field(r, "ip.csum"), "ok");
  EXPECT_EQ(field(r, "udp.sport"), "eph1");
  EXPECT_EQ(field(r, "udp.csum"), "ok");
  EXPECT_EQ(field(r, "udp.len"), "13");
}

TEST(Frames, FragmentsShareAnIdAndReassembleForTheChecksum) {
  Ipv4Spec ip;
  ip.src = ip4("10.0.0.1");
  ip.dst = ip4("10.0.0.2");
  ip.id = 9;
  const std::vector<Bytes> f = fragments(ip, udp_datagram(ip.src, ip.dst, {1, 2, {}, {}}, pattern(3000)), 1480);
  ASSERT_EQ(f.size(), 3u);
  std::vector<Bytes> frames;
  for (const Bytes& p : f) frames.push_back(ethernet({}, {}, kEthIpv4, p));
  Normaliser n;
  const Record first = dissect(frames[0], n, frames);
  const Record last = dissect(frames[2], n, frames);
  EXPECT_EQ(field(first, "ip.flags"), "MF");
  EXPECT_EQ(field(first, "udp.csum"), "ok");
  EXPECT_EQ(field(last, "ip.frag_offset"), "2960");
  EXPECT_EQ(field(last, "ip.id"), "#1");
  EXPECT_EQ(field(dissect(frames[0], n, {frames[0]}), "udp.csum"), "incomplete");
}

TEST(Frames, IcmpErrorQuote) {
  Ipv4Spec q;
  q.src = ip4("10.0.0.2");
  q.dst = ip4("10.0.0.1");
  const Bytes quoted = ipv4_packet(q, udp_datagram(q.src, q.dst, {1000, 2000, {}, {}}, pattern(4)));
  Ipv4Spec ip;
  ip.proto = 1;
  ip.src = q.dst;
  ip.dst = q.src;
  const Bytes f = ethernet({}, {}, kEthIpv4, ipv4_packet(ip, icmp_message(3, 3, 0, quoted)));
  Normaliser n;
  const Record r = dissect(f, n, {f});
  EXPECT_EQ(field(r, "icmp.type"), "3");
  EXPECT_EQ(field(r, "icmp.csum"), "ok");
  EXPECT_EQ(field(r, "icmp.quote.ip.id"), "4660");
  EXPECT_EQ(field(r, "icmp.quote.udp.dport"), "2000");
}

}  // namespace
}  // namespace xnet::conformance
