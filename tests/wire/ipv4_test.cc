#include "stack/wire/ipv4.h"

#include <gtest/gtest.h>

#include "tests/wire/test_bytes.h"

namespace xnet::wire {
namespace {

using test::bytes;
using test::poisoned;

// 10.0.0.1 -> 10.0.0.2, UDP, DF, TTL 64, ident 0x1234, 10 payload bytes.
const auto kPacket = bytes({0x45, 0x00, 0x00, 0x1e, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11,
                            0x14, 0x99, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
                            0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0a, 0x68, 0x6e, 0x68, 0x69});
// IHL 7: a record route option with one empty slot, then EOL; TTL 1.
const auto kWithOptions = bytes({0x47, 0x00, 0x00, 0x20, 0xab, 0xcd, 0x00, 0x00, 0x01, 0x11,
                                 0xec, 0xf6, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
                                 0x07, 0x07, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,  //
                                 0xde, 0xad, 0xbe, 0xef});

Ipv4Header packet_header() {
  Ipv4Header h;
  h.src = Ipv4Addr(10, 0, 0, 1);
  h.dst = Ipv4Addr(10, 0, 0, 2);
  h.protocol = static_cast<uint8_t>(IpProtocol::kUdp);
  h.ttl = 64;
  h.ident = 0x1234;
  h.dont_frag = true;
  h.payload_len = 10;
  return h;
}

TEST(Ipv4, Deconstruct) {
  auto v = ConstIpv4View::checked(kPacket);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->version(), 4);
  EXPECT_EQ(v->header_len(), 20u);
  EXPECT_EQ(v->tos(), 0);
  EXPECT_EQ(v->total_len(), 30);
  EXPECT_EQ(v->ident(), 0x1234);
  EXPECT_TRUE(v->dont_frag());
  EXPECT_FALSE(v->more_frags());
  EXPECT_FALSE(v->reserved_flag());
  EXPECT_EQ(v->frag_offset(), 0);
  EXPECT_FALSE(v->is_fragment());
  EXPECT_EQ(v->ttl(), 64);
  EXPECT_EQ(v->protocol(), 17);
  EXPECT_EQ(v->checksum(), 0x1499);
  EXPECT_EQ(v->src(), Ipv4Addr(10, 0, 0, 1));
  EXPECT_EQ(v->dst(), Ipv4Addr(10, 0, 0, 2));
  EXPECT_TRUE(v->options().empty());
  EXPECT_EQ(v->payload().size(), 10u);
  EXPECT_TRUE(v->verify_checksum());
}

TEST(Ipv4, DeconstructWithOptions) {
  auto v = ConstIpv4View::checked(kWithOptions);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->header_len(), 28u);
  EXPECT_EQ(v->options().size(), 8u);
  EXPECT_EQ(v->payload().size(), 4u);
  EXPECT_EQ(v->payload()[0], std::byte{0xde});
  EXPECT_TRUE(v->verify_checksum());
  int n = 0;
  for (Ipv4Option o : v->option_range()) {
    EXPECT_EQ(o.type, static_cast<uint8_t>(Ipv4OptionType::kRecordRoute));
    EXPECT_EQ(o.offset, 20);
    EXPECT_EQ(o.length(), 7);
    EXPECT_EQ(o.data().size(), 5u);
    ++n;
  }
  EXPECT_EQ(n, 1);
}

TEST(Ipv4, PaddingAfterTotalLengthIsNotPayload) {
  auto padded = kPacket;
  padded.resize(46, std::byte{0});  // Ethernet minimum frame padding
  auto v = ConstIpv4View::checked(padded);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->payload().size(), 10u);
}

TEST(Ipv4, ImpossibleLengths) {
  // Ending inside the header is a header error; ending before the total
  // length is truncation (different counters in ip_rcv).
  EXPECT_EQ(ConstIpv4View::checked(std::span(kPacket).first(19)).error(), WireError::kBadHeaderLength);
  EXPECT_EQ(ConstIpv4View::checked(std::span(kPacket).first(29)).error(), WireError::kTruncated);
  EXPECT_EQ(ConstIpv4View::checked(std::span(kWithOptions).first(24)).error(),
            WireError::kBadHeaderLength);
  auto b = kPacket;
  b[0] = std::byte{0x65};
  EXPECT_EQ(ConstIpv4View::checked(b).error(), WireError::kBadVersion);
  b[0] = std::byte{0x44};
  EXPECT_EQ(ConstIpv4View::checked(b).error(), WireError::kBadHeaderLength);
  b = kPacket;
  b[3] = std::byte{19};  // total length below the header length
  EXPECT_EQ(ConstIpv4View::checked(b).error(), WireError::kBadLength);
}

TEST(Ipv4, Construct) {
  auto buf = poisoned(kPacket.size());
  auto v = Ipv4View::unchecked(buf);
  v.set_header_len(20);
  v.set_tos(0);
  v.set_total_len(30);
  v.set_ident(0x1234);
  v.set_frag(true, false, 0);
  v.set_ttl(64);
  v.set_protocol(17);
  v.set_src(Ipv4Addr(10, 0, 0, 1));
  v.set_dst(Ipv4Addr(10, 0, 0, 2));
  v.fill_checksum();
  std::memcpy(v.payload().data(), kPacket.data() + 20, 10);
  EXPECT_EQ(buf, kPacket);
}

TEST(Ipv4, ParseAndEmit) {
  auto p = Ipv4Header::parse(*ConstIpv4View::checked(kPacket));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, packet_header());
  EXPECT_EQ(p->buffer_len(), 20u);

  auto buf = poisoned(20);
  packet_header().emit(Ipv4View::unchecked(buf));
  EXPECT_EQ(buf, std::vector<std::byte>(kPacket.begin(), kPacket.begin() + 20));
}

TEST(Ipv4, ParseAndEmitWithOptions) {
  auto p = Ipv4Header::parse(*ConstIpv4View::checked(kWithOptions));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->options.size(), 8u);
  EXPECT_EQ(p->ttl, 1);
  EXPECT_EQ(p->payload_len, 4);
  EXPECT_EQ(p->buffer_len(), 28u);

  // Seven option bytes are padded with one EOL on emit.
  Ipv4Header h = *p;
  h.options = Ipv4OptionBytes(std::span(kWithOptions).subspan(20, 7));
  EXPECT_EQ(h.buffer_len(), 28u);
  auto buf = poisoned(28);
  h.emit(Ipv4View::unchecked(buf));
  EXPECT_EQ(buf, std::vector<std::byte>(kWithOptions.begin(), kWithOptions.begin() + 28));
}

TEST(Ipv4, BadChecksum) {
  auto b = kPacket;
  b[11] = std::byte{0x98};
  auto v = ConstIpv4View::checked(b);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->verify_checksum());
  EXPECT_EQ(Ipv4Header::parse(*v).error(), WireError::kBadChecksum);
  EXPECT_TRUE(Ipv4Header::parse(*v, ChecksumCheck::kIgnore));
}

TEST(Ipv4, FragmentFields) {
  auto b = kPacket;
  auto v = Ipv4View::unchecked(b);
  v.set_frag(false, true, 1480);
  EXPECT_TRUE(v.more_frags());
  EXPECT_FALSE(v.dont_frag());
  EXPECT_EQ(v.frag_offset(), 1480);
  EXPECT_TRUE(v.is_fragment());
  EXPECT_EQ(b[6], std::byte{0x20 | (185 >> 8)});
  EXPECT_EQ(b[7], std::byte{185 & 0xff});
}

TEST(Ipv4, DecrementTtlKeepsChecksumValid) {
  auto b = kPacket;
  auto v = Ipv4View::unchecked(b);
  for (int i = 0; i < 64; ++i) {
    v.decrement_ttl();
    ASSERT_TRUE(v.verify_checksum()) << i;
  }
  EXPECT_EQ(v.ttl(), 0);
}

}  // namespace
}  // namespace xnet::wire
