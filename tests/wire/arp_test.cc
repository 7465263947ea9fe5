#include "stack/wire/arp.h"

#include <gtest/gtest.h>

#include "tests/wire/test_bytes.h"

namespace xnet::wire {
namespace {

using test::bytes;
using test::poisoned;

// Who has 10.0.0.2? Tell 10.0.0.1 (02:00:00:00:00:01).
const auto kRequest = bytes({0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,              //
                             0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,  //
                             0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02});

const ArpPacket kRepr{ArpOperation::kRequest, MacAddr({2, 0, 0, 0, 0, 1}), Ipv4Addr(10, 0, 0, 1),
                      MacAddr(), Ipv4Addr(10, 0, 0, 2)};

TEST(Arp, Deconstruct) {
  auto v = ConstArpView::checked(kRequest);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->hardware_type(), 1);
  EXPECT_EQ(v->protocol_type(), 0x0800);
  EXPECT_EQ(v->hardware_len(), 6);
  EXPECT_EQ(v->protocol_len(), 4);
  EXPECT_EQ(v->operation(), 1);
  EXPECT_EQ(v->sender_mac(), MacAddr({2, 0, 0, 0, 0, 1}));
  EXPECT_EQ(v->sender_ip(), Ipv4Addr(10, 0, 0, 1));
  EXPECT_TRUE(v->target_mac().is_zero());
  EXPECT_EQ(v->target_ip(), Ipv4Addr(10, 0, 0, 2));
}

TEST(Arp, Construct) {
  auto buf = poisoned(28);
  auto v = ArpView::unchecked(buf);
  v.set_hardware_type(1);
  v.set_protocol_type(0x0800);
  v.set_hardware_len(6);
  v.set_protocol_len(4);
  v.set_operation(1);
  v.set_sender_mac(MacAddr({2, 0, 0, 0, 0, 1}));
  v.set_sender_ip(Ipv4Addr(10, 0, 0, 1));
  v.set_target_mac(MacAddr());
  v.set_target_ip(Ipv4Addr(10, 0, 0, 2));
  EXPECT_EQ(buf, kRequest);
}

TEST(Arp, ParseAndEmit) {
  auto p = ArpPacket::parse(*ConstArpView::checked(kRequest));
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, kRepr);
  auto buf = poisoned(ArpPacket::buffer_len());
  kRepr.emit(ArpView::unchecked(buf));
  EXPECT_EQ(buf, kRequest);
}

TEST(Arp, ImpossibleLengthsAndKinds) {
  EXPECT_EQ(ConstArpView::checked(std::span(kRequest).first(7)).error(), WireError::kTruncated);
  EXPECT_EQ(ConstArpView::checked(std::span(kRequest).first(27)).error(), WireError::kTruncated);
  // Address lengths that are not Ethernet/IPv4 cannot be read by the typed accessors.
  auto odd = kRequest;
  odd[4] = std::byte{4};
  EXPECT_EQ(ConstArpView::checked(odd).error(), WireError::kUnsupported);
  // A huge hardware length makes the packet impossibly short first.
  odd[4] = std::byte{200};
  EXPECT_EQ(ConstArpView::checked(odd).error(), WireError::kTruncated);
  // Right lengths, wrong protocol: the view reads, the packet does not parse.
  auto ipv6 = kRequest;
  ipv6[2] = std::byte{0x86};
  ipv6[3] = std::byte{0xdd};
  auto v = ConstArpView::checked(ipv6);
  ASSERT_TRUE(v);
  EXPECT_EQ(ArpPacket::parse(*v).error(), WireError::kUnsupported);
}

}  // namespace
}  // namespace xnet::wire
