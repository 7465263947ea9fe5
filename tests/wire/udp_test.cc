#include "stack/wire/udp.h"

#include <gtest/gtest.h>

#include "tests/wire/test_bytes.h"

namespace xnet::wire {
namespace {

using test::bytes;
using test::poisoned;

const Ipv4Addr kSrc(10, 0, 0, 1);
const Ipv4Addr kDst(10, 0, 0, 2);
// 1234 -> 5678, "hi", checksum over the 10.0.0.1 -> 10.0.0.2 pseudo-header.
const auto kDatagram = bytes({0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0a, 0x68, 0x6e, 0x68, 0x69});

TEST(Udp, Deconstruct) {
  auto v = ConstUdpView::checked(kDatagram);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->src_port(), 1234);
  EXPECT_EQ(v->dst_port(), 5678);
  EXPECT_EQ(v->length(), 10);
  EXPECT_EQ(v->checksum(), 0x686e);
  ASSERT_EQ(v->payload().size(), 2u);
  EXPECT_EQ(v->payload()[0], std::byte{'h'});
  EXPECT_TRUE(v->verify_checksum(kSrc, kDst));
  EXPECT_FALSE(v->verify_checksum(kSrc, Ipv4Addr(10, 0, 0, 3)));
}

TEST(Udp, Construct) {
  auto buf = poisoned(kDatagram.size());
  auto v = UdpView::unchecked(buf);
  v.set_src_port(1234);
  v.set_dst_port(5678);
  v.set_length(10);
  std::memcpy(v.payload().data(), "hi", 2);
  v.fill_checksum(kSrc, kDst);
  EXPECT_EQ(buf, kDatagram);
}

TEST(Udp, ParseAndEmit) {
  auto v = ConstUdpView::checked(kDatagram);
  auto h = UdpHeader::parse(*v, kSrc, kDst);
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, (UdpHeader{1234, 5678, 2}));

  auto buf = poisoned(kDatagram.size());
  std::memcpy(buf.data() + 8, "hi", 2);
  h->emit(UdpView::unchecked(buf), kSrc, kDst);
  EXPECT_EQ(buf, kDatagram);
}

TEST(Udp, ChecksumModes) {
  auto buf = poisoned(10);
  std::memcpy(buf.data() + 8, "hi", 2);
  UdpHeader{1234, 5678, 2}.emit(UdpView::unchecked(buf), kSrc, kDst, UdpChecksum::kNone);
  EXPECT_EQ(buf[6], std::byte{0});
  EXPECT_EQ(buf[7], std::byte{0});
  EXPECT_TRUE(ConstUdpView::checked(buf)->verify_checksum(kSrc, Ipv4Addr(1, 2, 3, 4)));

  // Partial: the field holds the pseudo-header sum; summing the datagram
  // across it completes the checksum, as a device does.
  UdpHeader{1234, 5678, 2}.emit(UdpView::unchecked(buf), kSrc, kDst, UdpChecksum::kPartial);
  const uint16_t done = checksum(buf);
  EXPECT_EQ(done, 0x686e);
}

TEST(Udp, ZeroChecksumIsSentAsAllOnes) {
  // Search for a payload whose checksum computes to 0: it must go out as 0xffff.
  auto buf = poisoned(10);
  bool found = false;
  for (unsigned x = 0; x <= 0xffff && !found; ++x) {
    buf[8] = static_cast<std::byte>(x >> 8);
    buf[9] = static_cast<std::byte>(x);
    UdpHeader{1, 2, 2}.emit(UdpView::unchecked(buf), kSrc, kDst);
    if (buf[6] == std::byte{0xff} && buf[7] == std::byte{0xff}) found = true;
  }
  ASSERT_TRUE(found);
  EXPECT_TRUE(ConstUdpView::checked(buf)->verify_checksum(kSrc, kDst));
}

TEST(Udp, ImpossibleLengths) {
  EXPECT_EQ(ConstUdpView::checked(std::span(kDatagram).first(7)).error(), WireError::kTruncated);
  EXPECT_EQ(ConstUdpView::checked(std::span(kDatagram).first(9)).error(), WireError::kTruncated);
  auto b = kDatagram;
  b[5] = std::byte{7};
  EXPECT_EQ(ConstUdpView::checked(b).error(), WireError::kBadLength);
  // A shorter length than the buffer: the rest is not payload.
  b[5] = std::byte{9};
  auto v = ConstUdpView::checked(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->payload().size(), 1u);
}

TEST(Udp, BadChecksum) {
  auto b = kDatagram;
  b[9] = std::byte{'j'};
  EXPECT_EQ(UdpHeader::parse(*ConstUdpView::checked(b), kSrc, kDst).error(), WireError::kBadChecksum);
  EXPECT_TRUE(UdpHeader::parse(*ConstUdpView::checked(b)));
}

}  // namespace
}  // namespace xnet::wire
