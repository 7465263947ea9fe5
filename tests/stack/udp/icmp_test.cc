// icmp_rcv (echo, errors to sockets, drops) and icmp_send (suppression, quote,
// rate limits).
#include "tests/stack/udp/fixture.h"

namespace xnet::stack::udptest {
namespace {

class Icmp : public StackTest {
 protected:
  // Sends icmp_send about a received UDP datagram built from `ip`.
  void trigger(const Ip& ip, PacketType pt = PacketType::kHost, RouteType rt = RouteType::kLocal,
               uint8_t type = 3, uint8_t code = 3) {
    Packet p = rx(udp_bytes(ip, 1000, 9, pattern(20)), rt, pt);
    icmp_send(*stack_, p, type, code, 0, now_);
  }
  // An ICMP error from kPeer quoting a datagram we sent kUs:sport → kPeer:dport.
  std::vector<std::byte> error_about(uint8_t type, uint8_t code, uint16_t sport, uint16_t dport) {
    const auto sent = udp_bytes({.src = kUs, .dst = kPeer}, sport, dport, pattern(30));
    return icmp_bytes({}, type, code, 0, {sent.begin(), sent.begin() + 28});
  }
};

TEST_F(Icmp, EchoReplyByteExact) {
  std::vector<std::byte> body{std::byte{0x12}, std::byte{0x34}, std::byte{0x00}, std::byte{0x07}};
  const auto data = pattern(56);
  body.insert(body.end(), data.begin(), data.end());
  icmp_in(icmp_bytes({.tos = 0x08}, 8, 0, 0, {}, false));  // id/seq 0, no payload
  const auto req = icmp_bytes({}, 8, 0, 0x12340007, data);
  icmp_in(req);
  EXPECT_EQ(st().icmp.InEchos, 2u);
  EXPECT_EQ(st().icmp.OutEchoReps, 2u);
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(std::to_integer<uint8_t>(out_bytes(0)[1]), 0x08);  // TOS echoed
  const auto o = out_bytes(1);
  ASSERT_EQ(o.size(), req.size());
  EXPECT_EQ(Ipv4Addr(load_be32(&o[12])), kUs);
  EXPECT_EQ(Ipv4Addr(load_be32(&o[16])), kPeer);
  EXPECT_EQ(std::to_integer<uint8_t>(o[9]), 1);
  EXPECT_EQ(wire::checksum({o.data(), 20}), 0);
  // The ICMP message equals the request with type 0 and the checksum adjusted.
  auto expect = std::vector<std::byte>(req.begin() + 20, req.end());
  expect[0] = std::byte{0};
  store_be16(&expect[2], 0);
  store_be16(&expect[2], wire::checksum(expect));
  EXPECT_EQ(std::vector<std::byte>(o.begin() + 20, o.end()), expect);
}

TEST_F(Icmp, ReassembledEchoRepliedAsOneDatagram) {
  const auto data = pattern(3000);
  const auto req = icmp_bytes({}, 8, 0, 0x00010001, data);
  Packet head = rx({req.begin(), req.begin() + 1500});
  PacketQueue rest;
  Packet f = Packet::allocate(link_.pool_, kDefaultHeadroom + 34);
  std::memcpy(f.put(static_cast<uint16_t>(req.size() - 1500)), req.data() + 1500, req.size() - 1500);
  rest.push_back(std::move(f));
  // Take the reply at LOCAL_OUT, where it is still one datagram.
  std::vector<std::byte> seen;
  stack_->hooks().add(HookPoint::kLocalOut, 0, [&](Packet& p, TimePoint) {
    seen.assign(p.network_header(), p.network_header() + 28);
    return HookVerdict::kDrop;
  });
  icmp_rcv(*stack_, std::move(head), std::move(rest), now_);
  ASSERT_EQ(seen.size(), 28u);
  EXPECT_EQ(load_be16(&seen[2]), req.size());  // total length of the whole reply
  EXPECT_EQ(std::to_integer<uint8_t>(seen[20]), 0);
  EXPECT_EQ(load_be32(&seen[24]), 0x00010001u);
  EXPECT_EQ(st().icmp.OutEchoReps, 1u);
}

TEST_F(Icmp, EchoToBroadcastIgnored) {
  icmp_in(icmp_bytes({.dst = kIpv4Broadcast}, 8, 0, 1, pattern(8)), RouteType::kBroadcast);
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(st().dropped(DropReason::kIcmpBroadcastEcho), 1u);
  EXPECT_EQ(st().icmp.InErrors, 1u);
  EXPECT_EQ(st().icmp.InMsgs, 1u);
}

TEST_F(Icmp, BadChecksumAndUnknownTypeDiscarded) {
  icmp_in(icmp_bytes({}, 8, 0, 1, pattern(8), /*bad_csum=*/true));
  EXPECT_EQ(st().icmp.InCsumErrors, 1u);
  EXPECT_EQ(st().icmp.InErrors, 1u);
  // Above NR_ICMP_TYPES (18) and not RFC 8335's 42/43 (icmp_timestamp_test).
  icmp_in(icmp_bytes({}, 30, 0, 0, pattern(8)));
  EXPECT_EQ(st().icmp.InErrors, 2u);
  EXPECT_EQ(st().dropped(DropReason::kIcmpBadType), 1u);
  EXPECT_EQ(st().icmp.InType[30], 1u);
  EXPECT_EQ(st().icmp.InMsgs, 2u);
  EXPECT_TRUE(out_.empty());
}

TEST_F(Icmp, SuppressionRules) {
  auto suppressed = [&]() { return st().dropped(DropReason::kIcmpErrorSuppressed); };
  // About an ICMP error.
  Packet e = rx(icmp_bytes({}, 3, 1, 0, pattern(28)));
  icmp_send(*stack_, e, 3, 3, 0, now_);
  EXPECT_EQ(suppressed(), 1u);
  // A non-first fragment.
  trigger({.frag = 0x2000 | 185});
  EXPECT_EQ(suppressed(), 2u);
  // Broadcast / multicast destinations, link-layer broadcast.
  trigger({.dst = Ipv4Addr(10, 0, 0, 255)}, PacketType::kHost, RouteType::kBroadcast);
  trigger({.dst = Ipv4Addr(224, 0, 0, 5)}, PacketType::kHost, RouteType::kMulticast);
  trigger({}, PacketType::kBroadcast);
  EXPECT_EQ(suppressed(), 5u);
  // Invalid sources.
  // (Not the subnet broadcast: Linux answers it, broadcast_multicast_test.)
  for (Ipv4Addr src : {Ipv4Addr(), Ipv4Addr(127, 0, 0, 1), Ipv4Addr(224, 1, 1, 1), kIpv4Broadcast}) {
    trigger({.src = src});
  }
  EXPECT_EQ(suppressed(), 9u);
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(st().icmp.OutMsgs, 0u);
  // An error about an echo request is fine.
  Packet q = rx(icmp_bytes({}, 8, 0, 0, pattern(28)));
  icmp_send(*stack_, q, 3, 2, 0, now_);
  EXPECT_EQ(out_.size(), 1u);
}

TEST_F(Icmp, QuoteLimitedTo576) {
  Packet p = rx(udp_bytes({}, 1000, 9, pattern(1400)));
  icmp_send(*stack_, p, 3, 3, 0, now_);
  Packet small = rx(udp_bytes({}, 1000, 9, {}));
  icmp_send(*stack_, small, 3, 3, 0, now_);
  ASSERT_EQ(out_.size(), 2u);
  EXPECT_EQ(out_bytes(0).size(), 576u);
  EXPECT_EQ(load_be16(&out_bytes(0)[2]), 576u);
  EXPECT_EQ(out_bytes(1).size(), 20u + 8 + 28);  // the header and the 8 transport bytes
}

TEST_F(Icmp, FragNeededCarriesMtu) {
  Packet p = rx(udp_bytes({}, 1000, 9, pattern(100)));
  icmp_send(*stack_, p, 3, 4, 1400, now_);
  ASSERT_EQ(out_.size(), 1u);
  EXPECT_EQ(load_be32(&out_bytes(0)[24]), 1400u);
}

TEST_F(Icmp, GlobalRateLimit) {
  ASSERT_TRUE(stack_->add_gateway_route({Ipv4Addr(), 0}, Ipv4Addr(10, 0, 0, 254), ifindex_).ok());
  // 10k triggers over one second, each from another source.
  size_t sent = 0;
  for (uint32_t i = 0; i < 10000; ++i) {
    now_ += 100us;
    trigger({.src = Ipv4Addr(0x0b000000u + i)});  // 11.0.x.y
    sent += out_.size();
    out_.clear();
  }
  EXPECT_EQ(st().icmp.OutErrors, 0u);
  EXPECT_GE(sent, 1000u);
  EXPECT_LE(sent, 1000u + 50u + 5u);
  EXPECT_EQ(st().icmp.OutRateLimitGlobal, 10000u - sent);
  EXPECT_EQ(st().dropped(DropReason::kIcmpRateLimited), 10000u - sent);
  EXPECT_LE(stack_->icmp().peer_count(), IcmpState::kPeerSlots);
}

TEST_F(Icmp, PerDestinationRateLimit) {
  for (int i = 0; i < 10000; ++i) {
    now_ += 99us;
    trigger({});
  }
  // A fresh destination gets the burst (6 intervals), then one per second.
  EXPECT_EQ(out_.size(), 6u);
  EXPECT_EQ(st().icmp.OutRateLimitHost, 10000u - 6);
  now_ += 1s;
  trigger({});
  trigger({});
  EXPECT_EQ(out_.size(), 7u);
  // Echo replies are not limited.
  for (int i = 0; i < 20; ++i) icmp_in(icmp_bytes({}, 8, 0, 1, pattern(8)));
  EXPECT_EQ(out_.size(), 27u);
}

TEST_F(Icmp, PortUnreachableRefusesConnectedSocketOnce) {
  UdpSock* c = udp().open();
  ASSERT_TRUE(udp().bind(*c, kUs, 5000).ok());
  ASSERT_TRUE(udp().connect(*c, kPeer, 9999).ok());
  UdpSock* u = udp().open();
  ASSERT_TRUE(udp().bind(*u, kUs, 5001).ok());
  icmp_in(error_about(3, 3, 5000, 9999));
  icmp_in(error_about(3, 3, 5001, 9999));
  std::array<std::byte, 16> buf{};
  EXPECT_EQ(udp_recvmsg(*stack_, *c, buf).error(), std::errc::connection_refused);
  EXPECT_EQ(udp_recvmsg(*stack_, *c, buf).error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(udp_recvmsg(*stack_, *u, buf).error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(udp_sock_error(*u), std::errc{});
  EXPECT_EQ(st().icmp.InDestUnreachs, 2u);
  EXPECT_EQ(st().icmp.InErrors, 0u);
}

TEST_F(Icmp, TimeExceededIsSoft) {
  UdpSock* c = udp().open();
  ASSERT_TRUE(udp().connect(*c, kPeer, 9999).ok());
  icmp_in(error_about(11, 0, c->local_port, 9999));
  EXPECT_EQ(udp_sock_error(*c), std::errc{});
}

TEST_F(Icmp, RecverrQueuesError) {
  UdpSock* u = udp().open();
  ASSERT_TRUE(udp().bind(*u, kUs, 5001).ok());
  u->recverr = true;
  icmp_in(error_about(3, 3, 5001, 9999));
  icmp_in(error_about(11, 0, 5001, 9999));
  auto e = udp_recv_error(*u);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->err, std::errc::connection_refused);
  EXPECT_EQ(e->origin, ErrOrigin::kIcmp);
  EXPECT_EQ(e->type, 3);
  EXPECT_EQ(e->code, 3);
  EXPECT_EQ(e->offender, kPeer);
  EXPECT_EQ(e->dest_addr, kPeer);
  EXPECT_EQ(e->dest_port, 9999);
  EXPECT_EQ(u->sk_err, std::errc::host_unreachable);  // follows the next queued error
  auto e2 = udp_recv_error(*u);
  ASSERT_TRUE(e2.ok());
  EXPECT_EQ(e2->type, 11);
  EXPECT_EQ(u->sk_err, std::errc{});
  EXPECT_EQ(udp_recv_error(*u).error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(u->rmem_alloc, 0u);
}

// The entry's data is the quoted datagram's payload after its UDP header, as
// far as the ICMP message carries it (ip_icmp_error's payload); a local error
// carries none.
TEST_F(Icmp, RecverrEntryCarriesTheQuotedPayload) {
  UdpSock* u = udp().open();
  ASSERT_TRUE(udp().bind(*u, kUs, 5001).ok());
  u->recverr = true;
  const auto payload = pattern(30);
  const auto sent = udp_bytes({.src = kUs, .dst = kPeer}, 5001, 9999, payload);
  icmp_in(icmp_bytes({}, 3, 3, 0, sent));                                   // all of it quoted
  icmp_in(icmp_bytes({}, 3, 3, 0, {sent.begin(), sent.begin() + 28 + 10}));  // 10 bytes of it
  auto e = udp_recv_error(*u);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->payload, payload);
  auto e2 = udp_recv_error(*u);
  ASSERT_TRUE(e2.ok());
  EXPECT_EQ(e2->payload, std::vector<std::byte>(payload.begin(), payload.begin() + 10));
}

TEST_F(Icmp, ErrorForNoSocketAndTruncatedQuote) {
  icmp_in(error_about(3, 3, 6000, 9999));
  EXPECT_EQ(st().icmp.InErrors, 1u);
  EXPECT_EQ(st().dropped(DropReason::kIcmpBogusError), 1u);
  const auto sent = udp_bytes({.src = kUs, .dst = kPeer}, 1, 2, {});
  icmp_in(icmp_bytes({}, 3, 3, 0, {sent.begin(), sent.begin() + 24}));  // 4 transport bytes
  EXPECT_EQ(st().icmp.InErrors, 2u);
}

TEST_F(Icmp, LocalErrorReport) {
  UdpSock* u = udp().open();
  SockError e;
  e.err = std::errc::host_unreachable;
  e.origin = ErrOrigin::kLocal;
  udp_report_local_error(*u, e);
  EXPECT_EQ(udp_recv_error(*u).error(), std::errc::resource_unavailable_try_again);
  u->recverr = true;
  udp_report_local_error(*u, e);
  auto r = udp_recv_error(*u);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->origin, ErrOrigin::kLocal);
}

}  // namespace
}  // namespace xnet::stack::udptest
