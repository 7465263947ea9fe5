#include "stack/wire/icmp.h"

#include <gtest/gtest.h>

#include "tests/wire/test_bytes.h"

namespace xnet::wire {
namespace {

using test::bytes;
using test::poisoned;

// Echo request, ident 0x1234, seq 1, "abcd".
const auto kEcho = bytes({0x08, 0x00, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, 0x61, 0x62, 0x63, 0x64});
// The IPv4/UDP datagram an error below quotes (header + 8 bytes of UDP).
const auto kQuoted = bytes({0x45, 0x00, 0x00, 0x1e, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11,
                            0x14, 0x99, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
                            0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0a, 0x68, 0x6e});
// Fragmentation needed, next-hop MTU 1500, quoting kQuoted.
const auto kFragNeeded = bytes({0x03, 0x04, 0x73, 0xa7, 0x00, 0x00, 0x05, 0xdc,              //
                                0x45, 0x00, 0x00, 0x1e, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11,  //
                                0x14, 0x99, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,  //
                                0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0a, 0x68, 0x6e});

TEST(Icmp, DeconstructEcho) {
  auto v = ConstIcmpView::checked(kEcho);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->type(), static_cast<uint8_t>(IcmpType::kEchoRequest));
  EXPECT_EQ(v->code(), 0);
  EXPECT_EQ(v->checksum(), 0x2104);
  EXPECT_EQ(v->echo_ident(), 0x1234);
  EXPECT_EQ(v->echo_seq(), 1);
  EXPECT_EQ(v->data().size(), 4u);
  EXPECT_TRUE(v->verify_checksum());
}

TEST(Icmp, ConstructEcho) {
  auto buf = poisoned(kEcho.size());
  auto v = IcmpView::unchecked(buf);
  v.set_type(8);
  v.set_code(0);
  v.set_echo_ident(0x1234);
  v.set_echo_seq(1);
  std::memcpy(v.data().data(), "abcd", 4);
  v.fill_checksum();
  EXPECT_EQ(buf, kEcho);
}

TEST(Icmp, ParseAndEmitEcho) {
  auto p = IcmpPacket::parse(*ConstIcmpView::checked(kEcho));
  ASSERT_TRUE(p);
  const auto* echo = std::get_if<IcmpEcho>(&p->message);
  ASSERT_NE(echo, nullptr);
  EXPECT_FALSE(echo->reply);
  EXPECT_EQ(echo->ident, 0x1234);
  EXPECT_EQ(echo->seq, 1);
  EXPECT_EQ(echo->data.size(), 4u);
  EXPECT_EQ(p->buffer_len(), 12u);

  auto buf = poisoned(p->buffer_len());
  p->emit(IcmpView::unchecked(buf));
  EXPECT_EQ(buf, kEcho);

  // Reply in place, as icmp_echo answers: same data, type 0.
  auto reply_buf = kEcho;
  IcmpPacket reply{IcmpEcho{true, 0x1234, 1, std::span(reply_buf).subspan(8)}};
  reply.emit(IcmpView::unchecked(reply_buf));
  auto rv = ConstIcmpView::checked(reply_buf);
  EXPECT_EQ(rv->type(), 0);
  EXPECT_TRUE(rv->verify_checksum());
  EXPECT_EQ(rv->data()[3], std::byte{'d'});
}

TEST(Icmp, DeconstructFragNeeded) {
  auto v = ConstIcmpView::checked(kFragNeeded);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->type(), 3);
  EXPECT_EQ(v->code(), static_cast<uint8_t>(IcmpUnreachCode::kFragNeeded));
  EXPECT_EQ(v->next_hop_mtu(), 1500);
  EXPECT_TRUE(v->verify_checksum());
  auto p = IcmpPacket::parse(*v);
  ASSERT_TRUE(p);
  const auto* du = std::get_if<IcmpDestUnreachable>(&p->message);
  ASSERT_NE(du, nullptr);
  EXPECT_EQ(du->next_hop_mtu, 1500);
  EXPECT_EQ(du->quote.size(), 28u);

  auto q = IcmpQuotedDatagram::parse(du->quote);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->src, Ipv4Addr(10, 0, 0, 1));
  EXPECT_EQ(q->dst, Ipv4Addr(10, 0, 0, 2));
  EXPECT_EQ(q->protocol, 17);
  EXPECT_EQ(q->ip_header.size(), 20u);
  EXPECT_EQ(q->transport.size(), 8u);
}

TEST(Icmp, EmitFragNeeded) {
  IcmpPacket p{IcmpDestUnreachable{IcmpUnreachCode::kFragNeeded, 1500, kQuoted}};
  auto buf = poisoned(p.buffer_len());
  p.emit(IcmpView::unchecked(buf));
  EXPECT_EQ(buf, kFragNeeded);
}

TEST(Icmp, OtherErrorsRoundTrip) {
  const IcmpPacket msgs[] = {
      {IcmpTimeExceeded{IcmpTimeExceededCode::kReassembly, kQuoted}},
      {IcmpParameterProblem{IcmpParamProblemCode::kPointer, 22, kQuoted}},
      {IcmpRedirect{IcmpRedirectCode::kHost, Ipv4Addr(10, 0, 0, 254), kQuoted}},
      {IcmpDestUnreachable{IcmpUnreachCode::kPort, 0, kQuoted}},
      {IcmpOther{13, 0, 0xdeadbeef, {}}},
  };
  for (const auto& m : msgs) {
    auto buf = poisoned(m.buffer_len());
    m.emit(IcmpView::unchecked(buf));
    auto v = ConstIcmpView::checked(buf);
    ASSERT_TRUE(v);
    ASSERT_TRUE(v->verify_checksum());
    auto back = IcmpPacket::parse(*v);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->message.index(), m.message.index());
    EXPECT_EQ(back->data().size(), m.data().size());
  }
  auto buf = poisoned(36);
  IcmpPacket{IcmpParameterProblem{IcmpParamProblemCode::kPointer, 22, kQuoted}}.emit(
      IcmpView::unchecked(buf));
  // Pointer in the first octet of the word, the other three zero.
  EXPECT_EQ(buf[4], std::byte{22});
  EXPECT_EQ(buf[5], std::byte{0});
  EXPECT_EQ(buf[7], std::byte{0});
  EXPECT_EQ(ConstIcmpView::checked(buf)->pointer(), 22);

  auto rbuf = poisoned(36);
  IcmpPacket{IcmpRedirect{IcmpRedirectCode::kHost, Ipv4Addr(10, 0, 0, 254), kQuoted}}.emit(
      IcmpView::unchecked(rbuf));
  EXPECT_EQ(ConstIcmpView::checked(rbuf)->gateway(), Ipv4Addr(10, 0, 0, 254));
}

TEST(Icmp, ImpossibleLengthsAndBadChecksum) {
  EXPECT_EQ(ConstIcmpView::checked(std::span(kEcho).first(7)).error(), WireError::kTruncated);
  auto b = kEcho;
  b[11] = std::byte{'e'};
  EXPECT_EQ(IcmpPacket::parse(*ConstIcmpView::checked(b)).error(), WireError::kBadChecksum);
  // A quote shorter than header + 8 cannot name a socket.
  EXPECT_EQ(IcmpQuotedDatagram::parse(std::span(kQuoted).first(27)).error(), WireError::kTruncated);
  auto q = kQuoted;
  q[0] = std::byte{0x60};
  EXPECT_EQ(IcmpQuotedDatagram::parse(q).error(), WireError::kBadVersion);
}

TEST(Icmp, QuoteAndRoom) {
  EXPECT_EQ(icmp_error_room(1500), 576u - 28);
  EXPECT_EQ(icmp_error_room(300), 300u - 28);
  EXPECT_EQ(icmp_error_room(1500, 24), 576u - 32);
  std::vector<std::byte> big(1000, std::byte{0});
  auto ip = Ipv4View::unchecked(big);
  Ipv4Header h;
  h.src = Ipv4Addr(10, 0, 0, 1);
  h.dst = Ipv4Addr(10, 0, 0, 2);
  h.protocol = 17;
  h.payload_len = 980;
  h.emit(ip);
  auto v = ConstIpv4View::checked(big);
  ASSERT_TRUE(v);
  EXPECT_EQ(icmp_quote(*v, icmp_error_room(1500)).size(), 548u);
  EXPECT_EQ(icmp_quote(*v, 4000).size(), 1000u);
}

TEST(Icmp, ErrorAllowedFor) {
  auto d = kQuoted;
  d[3] = std::byte{28};  // make the header's total length match the 28 bytes
  Ipv4View::unchecked(d).fill_checksum();
  auto ok = ConstIpv4View::checked(d);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(icmp_error_allowed_for(*ok));

  auto frag = d;
  Ipv4View::unchecked(frag).set_frag(false, false, 8);
  EXPECT_FALSE(icmp_error_allowed_for(*ConstIpv4View::checked(frag)));
  auto first_frag = d;
  Ipv4View::unchecked(first_frag).set_frag(false, true, 0);
  EXPECT_TRUE(icmp_error_allowed_for(*ConstIpv4View::checked(first_frag)));

  auto bcast = d;
  Ipv4View::unchecked(bcast).set_dst(kIpv4Broadcast);
  EXPECT_FALSE(icmp_error_allowed_for(*ConstIpv4View::checked(bcast)));
  auto mcast = d;
  Ipv4View::unchecked(mcast).set_dst(Ipv4Addr(224, 0, 0, 1));
  EXPECT_FALSE(icmp_error_allowed_for(*ConstIpv4View::checked(mcast)));
  auto zero_src = d;
  Ipv4View::unchecked(zero_src).set_src(Ipv4Addr());
  EXPECT_FALSE(icmp_error_allowed_for(*ConstIpv4View::checked(zero_src)));

  // About an ICMP error: never; about an echo request: yes.
  auto icmp = d;
  Ipv4View::unchecked(icmp).set_protocol(1);
  icmp[20] = std::byte{3};
  EXPECT_FALSE(icmp_error_allowed_for(*ConstIpv4View::checked(icmp)));
  icmp[20] = std::byte{8};
  EXPECT_TRUE(icmp_error_allowed_for(*ConstIpv4View::checked(icmp)));
}

}  // namespace
}  // namespace xnet::wire
