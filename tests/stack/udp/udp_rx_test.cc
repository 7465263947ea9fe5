// udp_rcv drops, delivery, and the receive API.
#include "tests/stack/udp/fixture.h"

namespace xnet::stack::udptest {
namespace {

class UdpRx : public StackTest {
 protected:
  UdpSock* bound(uint16_t port, Ipv4Addr addr = Ipv4Addr()) {
    UdpSock* s = udp().open();
    EXPECT_TRUE(udp().bind(*s, addr, port).ok());
    return s;
  }
};

TEST_F(UdpRx, LengthFieldBelowHeaderIsShortPacket) {
  bound(53);
  udp_in(udp_bytes({}, 1000, 53, pattern(10), /*len=*/7));
  EXPECT_EQ(st().udp.InErrors, 1u);
  EXPECT_EQ(st().dropped(DropReason::kUdpShortPacket), 1u);
  EXPECT_EQ(st().udp.InDatagrams + st().udp.NoPorts, 0u);
}

TEST_F(UdpRx, LengthFieldBeyondPayloadIsShortPacket) {
  bound(53);
  udp_in(udp_bytes({}, 1000, 53, pattern(10), /*len=*/19));
  EXPECT_EQ(st().udp.InErrors, 1u);
  EXPECT_EQ(st().dropped(DropReason::kUdpShortPacket), 1u);
}

TEST_F(UdpRx, TruncatedHeaderIsInError) {
  bound(53);
  auto b = udp_bytes({}, 1000, 53, {});
  b.resize(24);
  store_be16(&b[2], 24);
  udp_in(b);
  EXPECT_EQ(st().udp.InErrors, 1u);
}

TEST_F(UdpRx, LengthBelowPayloadTrims) {
  UdpSock* s = bound(53);
  // UDP length says 8 + 4 but the IP payload carries 10 bytes; the checksum
  // covers the 4 (computed over the trimmed datagram).
  auto full = udp_bytes({}, 1000, 53, pattern(4));
  full.insert(full.end(), 6, std::byte{0xee});
  store_be16(&full[2], static_cast<uint16_t>(full.size()));
  udp_in(full);
  std::array<std::byte, 64> buf{};
  auto r = udp_recvmsg(*stack_, *s, buf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, 4u);
  EXPECT_EQ(0, std::memcmp(buf.data(), pattern(4).data(), 4));
  EXPECT_EQ(st().udp.InErrors, 0u);
}

TEST_F(UdpRx, BadChecksumDroppedWithoutIcmp) {
  UdpSock* s = bound(53);
  udp_in(udp_bytes({}, 1000, 53, pattern(10), -1, 0x1234));
  udp_in(udp_bytes({}, 1000, 54, pattern(10), -1, 0x1234));  // no socket either
  EXPECT_EQ(st().udp.InCsumErrors, 2u);
  EXPECT_EQ(st().udp.InErrors, 2u);
  EXPECT_EQ(st().udp.NoPorts, 0u);
  EXPECT_TRUE(out_.empty());
  EXPECT_TRUE(s->rxq.empty());
}

TEST_F(UdpRx, ZeroChecksumAccepted) {
  UdpSock* s = bound(53);
  udp_in(udp_bytes({}, 1000, 53, pattern(10), -1, 0));
  EXPECT_EQ(s->rxq.size(), 1u);
  EXPECT_EQ(st().udp.InErrors, 0u);
}

TEST_F(UdpRx, NoSocketUnicastSendsPortUnreachable) {
  const auto in = udp_bytes({.tos = 0x10}, 1000, 9, pattern(10));
  udp_in(in);
  EXPECT_EQ(st().udp.NoPorts, 1u);
  ASSERT_EQ(out_.size(), 1u);
  const auto o = out_bytes(0);
  ASSERT_EQ(o.size(), 20u + 8 + in.size());
  EXPECT_EQ(std::to_integer<uint8_t>(o[9]), 1);  // ICMP
  EXPECT_EQ(std::to_integer<uint8_t>(o[1]), 0xc0 | 0x10);  // precedence internetwork control
  EXPECT_EQ(Ipv4Addr(load_be32(&o[12])), kUs);
  EXPECT_EQ(Ipv4Addr(load_be32(&o[16])), kPeer);
  EXPECT_EQ(std::to_integer<uint8_t>(o[20]), 3);
  EXPECT_EQ(std::to_integer<uint8_t>(o[21]), 3);
  EXPECT_EQ(wire::checksum({&o[20], o.size() - 20}), 0);
  EXPECT_EQ(0, std::memcmp(&o[28], in.data(), in.size()));  // the whole datagram quoted
  EXPECT_EQ(st().icmp.OutDestUnreachs, 1u);
  EXPECT_EQ(st().icmp.OutMsgs, 1u);
}

TEST_F(UdpRx, NoSocketBroadcastIsIgnoredMulti) {
  udp_in(udp_bytes({.dst = Ipv4Addr(10, 0, 0, 255)}, 1000, 9, pattern(10)), RouteType::kBroadcast);
  EXPECT_EQ(st().udp.NoPorts, 0u);
  EXPECT_EQ(st().udp.IgnoredMulti, 1u);
  EXPECT_EQ(st().dropped(DropReason::kUdpBroadcastNoPort), 1u);
  EXPECT_TRUE(out_.empty());
}

TEST_F(UdpRx, NoSocketLinkBroadcastUnicastDestinationNoIcmp) {
  udp_in(udp_bytes({}, 1000, 9, pattern(10)), RouteType::kLocal, PacketType::kBroadcast);
  EXPECT_EQ(st().udp.NoPorts, 1u);
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(st().dropped(DropReason::kIcmpErrorSuppressed), 1u);
}

TEST_F(UdpRx, BroadcastReachesEverySocket) {
  UdpSock* a = udp().open();
  UdpSock* b = udp().open();
  a->reuse_addr = b->reuse_addr = true;
  ASSERT_TRUE(udp().bind(*a, Ipv4Addr(), 67).ok());
  ASSERT_TRUE(udp().bind(*b, Ipv4Addr(), 67).ok());
  UdpSock* other = bound(68);
  udp_in(udp_bytes({.dst = kIpv4Broadcast}, 68, 67, pattern(100)), RouteType::kBroadcast,
         PacketType::kBroadcast);
  ASSERT_EQ(a->rxq.size(), 1u);
  ASSERT_EQ(b->rxq.size(), 1u);
  EXPECT_TRUE(other->rxq.empty());
  std::array<std::byte, 200> buf{};
  for (UdpSock* s : {a, b}) {
    auto r = udp_recvmsg(*stack_, *s, buf);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size, 100u);
    EXPECT_EQ(r->info.dst_addr, kIpv4Broadcast);
    EXPECT_EQ(r->info.spec_dst, kUs);  // our address, not the broadcast
    EXPECT_EQ(0, std::memcmp(buf.data(), pattern(100).data(), 100));
  }
  EXPECT_EQ(st().udp.InDatagrams, 2u);
}

TEST_F(UdpRx, RcvbufOverflow) {
  UdpSock* s = bound(53);
  s->rcvbuf = 4096;  // two 2048-byte frames
  for (int i = 0; i < 3; ++i) udp_in(udp_bytes({}, 1000, 53, pattern(10)));
  EXPECT_EQ(s->rxq.size(), 2u);
  EXPECT_EQ(st().udp.RcvbufErrors, 1u);
  EXPECT_EQ(st().udp.InErrors, 1u);
  EXPECT_EQ(s->drops, 1u);
  // The first datagram is always accepted, however small rcvbuf is.
  UdpSock* t = bound(54);
  t->rcvbuf = 1;
  udp_in(udp_bytes({}, 1000, 54, pattern(10)));
  udp_in(udp_bytes({}, 1000, 54, pattern(10)));
  EXPECT_EQ(t->rxq.size(), 1u);
  EXPECT_EQ(st().udp.RcvbufErrors, 2u);
}

TEST_F(UdpRx, SetRcvbufDoublesWithinRmemMaxAndTheMinimum) {
  UdpSock* s = bound(53);
  ASSERT_TRUE(udp_set_rcvbuf(*s, 10000).ok());
  EXPECT_EQ(s->rcvbuf, 20000u);
  ASSERT_TRUE(udp_set_rcvbuf(*s, 1000).ok());
  EXPECT_EQ(s->rcvbuf, 2304u);  // SOCK_MIN_RCVBUF
  ASSERT_TRUE(udp_set_rcvbuf(*s, 0).ok());
  EXPECT_EQ(s->rcvbuf, 2304u);
  ASSERT_TRUE(udp_set_rcvbuf(*s, 1 << 20).ok());
  EXPECT_EQ(s->rcvbuf, 2u * 212992);  // capped by rmem_max before doubling
  ASSERT_TRUE(udp_set_rcvbuf(*s, -1).ok());  // as unsigned: huge, so capped
  EXPECT_EQ(s->rcvbuf, 2u * 212992);
}

TEST_F(UdpRx, SetRcvbufKeepsQueuedDatagramsAndLimitsTheNext) {
  UdpSock* s = bound(53);
  for (int i = 0; i < 2; ++i) udp_in(udp_bytes({}, 1000, 53, pattern(10)));
  ASSERT_EQ(s->rxq.size(), 2u);
  ASSERT_TRUE(udp_set_rcvbuf(*s, 0).ok());  // 2304: below what is queued
  EXPECT_EQ(s->rxq.size(), 2u);
  udp_in(udp_bytes({}, 1000, 53, pattern(10)));
  EXPECT_EQ(s->rxq.size(), 2u);
  EXPECT_EQ(st().udp.RcvbufErrors, 1u);
}

TEST_F(UdpRx, TruncPeekAndMetadata) {
  UdpSock* s = bound(53);
  udp_in(udp_bytes({.ttl = 17, .tos = 0x28}, 4321, 53, pattern(100)));
  std::array<std::byte, 40> small{};
  auto p = udp_recvmsg(*stack_, *s, small, {.peek = true});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->copied, 40u);
  EXPECT_TRUE(p->truncated);
  EXPECT_EQ(p->size, 40u);
  EXPECT_EQ(st().udp.InDatagrams, 0u);  // peeking does not count
  auto r = udp_recvmsg(*stack_, *s, small, {.trunc = true});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, 100u);
  EXPECT_EQ(r->full_size, 100u);
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->source.addr, kPeer);
  EXPECT_EQ(r->source.port, 4321);
  EXPECT_EQ(r->info.dst_addr, kUs);
  EXPECT_EQ(r->info.spec_dst, kUs);
  EXPECT_EQ(r->info.ifindex, ifindex_);
  EXPECT_EQ(r->info.ttl, 17);
  EXPECT_EQ(r->info.tos, 0x28);
  EXPECT_EQ(0, std::memcmp(small.data(), pattern(100).data(), 40));
  EXPECT_EQ(st().udp.InDatagrams, 1u);
  EXPECT_EQ(s->rmem_alloc, 0u);
  auto e = udp_recvmsg(*stack_, *s, small);
  EXPECT_EQ(e.error(), std::errc::resource_unavailable_try_again);
}

TEST_F(UdpRx, ZeroCopyDatagram) {
  UdpSock* s = bound(53);
  udp_in(udp_bytes({}, 4321, 53, pattern(300)));
  auto d = udp_recv_datagram(*stack_, *s);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->size, 300u);
  EXPECT_EQ(s->rmem_alloc, 0u);
  EXPECT_EQ(0, std::memcmp(d->head.data(), pattern(300).data(), 300));
  EXPECT_EQ(udp_datagram_info(*d).source.port, 4321);
}

// A reassembled datagram: the head frame with IPv4 + UDP header and the first
// 1472 payload bytes, two more frames with the rest.
TEST_F(UdpRx, ReassembledChainDelivered) {
  UdpSock* s = bound(53);
  const auto payload = pattern(3000);
  const auto whole = udp_bytes({}, 1000, 53, payload);  // 20 + 8 + 3000
  const size_t cut1 = 20 + 1480, cut2 = cut1 + 1480;
  std::vector<std::byte> first(whole.begin(), whole.begin() + cut1);
  Packet head = rx(first);
  PacketQueue rest;
  for (auto [a, b] : {std::pair{cut1, cut2}, std::pair{cut2, whole.size()}}) {
    Packet f = Packet::allocate(link_.pool_, kDefaultHeadroom + 34);
    std::memcpy(f.put(static_cast<uint16_t>(b - a)), whole.data() + a, b - a);
    rest.push_back(std::move(f));
  }
  udp_rcv(*stack_, std::move(head), std::move(rest), now_);
  ASSERT_EQ(s->rxq.size(), 1u);
  std::vector<std::byte> buf(4000);
  auto r = udp_recvmsg(*stack_, *s, buf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, 3000u);
  EXPECT_FALSE(r->truncated);
  EXPECT_EQ(0, std::memcmp(buf.data(), payload.data(), 3000));
  EXPECT_EQ(st().udp.InCsumErrors, 0u);
}

TEST_F(UdpRx, ReassembledChainBadChecksum) {
  UdpSock* s = bound(53);
  auto whole = udp_bytes({}, 1000, 53, pattern(2000));
  whole.back() ^= std::byte{1};
  Packet head = rx({whole.begin(), whole.begin() + 1500});
  PacketQueue rest;
  Packet f = Packet::allocate(link_.pool_, kDefaultHeadroom + 34);
  std::memcpy(f.put(static_cast<uint16_t>(whole.size() - 1500)), whole.data() + 1500, whole.size() - 1500);
  rest.push_back(std::move(f));
  udp_rcv(*stack_, std::move(head), std::move(rest), now_);
  EXPECT_TRUE(s->rxq.empty());
  EXPECT_EQ(st().udp.InCsumErrors, 1u);
}

}  // namespace
}  // namespace xnet::stack::udptest
