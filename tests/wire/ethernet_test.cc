#include "stack/wire/ethernet.h"

#include <gtest/gtest.h>

#include "tests/wire/test_bytes.h"

namespace xnet::wire {
namespace {

using test::bytes;
using test::poisoned;

const MacAddr kDst({0x01, 0x02, 0x03, 0x04, 0x05, 0x06});
const MacAddr kSrc({0x11, 0x12, 0x13, 0x14, 0x15, 0x16});

const auto kPlain = bytes({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x11, 0x12, 0x13, 0x14, 0x15,
                           0x16, 0x08, 0x00, 0xaa, 0xbb, 0xcc, 0xdd});
// VLAN 100, priority 7.
const auto kTagged = bytes({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x11, 0x12, 0x13, 0x14, 0x15,
                            0x16, 0x81, 0x00, 0xe0, 0x64, 0x08, 0x06, 0xaa, 0xbb});

TEST(Ethernet, Deconstruct) {
  auto v = ConstEthernetView::checked(kPlain);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->dst(), kDst);
  EXPECT_EQ(v->src(), kSrc);
  EXPECT_EQ(v->ethertype(), 0x0800);
  EXPECT_FALSE(v->has_vlan());
  EXPECT_EQ(v->payload_ethertype(), static_cast<uint16_t>(EtherType::kIpv4));
  EXPECT_EQ(v->header_len(), 14u);
  ASSERT_EQ(v->payload().size(), 4u);
  EXPECT_EQ(v->payload()[0], std::byte{0xaa});
}

TEST(Ethernet, DeconstructTagged) {
  auto v = ConstEthernetView::checked(kTagged);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->has_vlan());
  EXPECT_EQ(v->ethertype(), 0x8100);
  EXPECT_EQ(v->vlan(), (VlanTag{7, false, 100, 0x8100}));
  EXPECT_FALSE(v->vlan().is_priority_tag());
  EXPECT_EQ(v->payload_ethertype(), static_cast<uint16_t>(EtherType::kArp));
  EXPECT_EQ(v->header_len(), 18u);
  EXPECT_EQ(v->payload().size(), 2u);
}

TEST(Ethernet, PriorityTagAndQinQ) {
  auto prio = bytes({0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x81, 0x00, 0xb0, 0x00, 0x08, 0x00});
  auto v = ConstEthernetView::checked(prio);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->vlan().is_priority_tag());
  EXPECT_EQ(v->vlan().pcp, 5);
  EXPECT_TRUE(v->vlan().dei);
  EXPECT_EQ(v->payload_ethertype(), 0x0800);

  // Only one tag is parsed: the inner TPID shows as the payload type.
  auto qinq = bytes({0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00,
                     0x00, 0x14, 0x08, 0x00});
  auto q = ConstEthernetView::checked(qinq);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->vlan().vid, 10);
  EXPECT_EQ(q->vlan().tpid, 0x88a8);
  EXPECT_TRUE(is_vlan_tpid(q->payload_ethertype()));
}

TEST(Ethernet, ImpossibleLengths) {
  EXPECT_EQ(ConstEthernetView::checked(std::span(kPlain).first(13)).error(), WireError::kTruncated);
  EXPECT_TRUE(ConstEthernetView::checked(std::span(kPlain).first(14)));
  // A tag announced but cut off.
  EXPECT_EQ(ConstEthernetView::checked(std::span(kTagged).first(17)).error(), WireError::kTruncated);
  EXPECT_TRUE(ConstEthernetView::checked(std::span(kTagged).first(18)));
}

TEST(Ethernet, Construct) {
  auto buf = poisoned(kPlain.size());
  auto v = EthernetView::unchecked(buf);
  v.set_dst(kDst);
  v.set_src(kSrc);
  v.set_ethertype(0x0800);
  std::memcpy(v.payload().data(), kPlain.data() + 14, 4);
  EXPECT_EQ(buf, kPlain);
}

TEST(Ethernet, ParseAndEmit) {
  auto v = ConstEthernetView::checked(kTagged);
  ASSERT_TRUE(v);
  const EthernetHeader h = EthernetHeader::parse(*v);
  EXPECT_EQ(h, (EthernetHeader{kDst, kSrc, 0x0806, VlanTag{7, false, 100, 0x8100}}));
  EXPECT_EQ(h.buffer_len(), 18u);

  auto buf = poisoned(kTagged.size());
  h.emit(EthernetView::unchecked(buf));
  std::memcpy(buf.data() + 18, kTagged.data() + 18, 2);
  EXPECT_EQ(buf, kTagged);

  const EthernetHeader plain{kDst, kSrc, 0x0800, std::nullopt};
  EXPECT_EQ(plain.buffer_len(), 14u);
  auto buf2 = poisoned(14);
  plain.emit(EthernetView::unchecked(buf2));
  EXPECT_EQ(buf2, std::vector<std::byte>(kPlain.begin(), kPlain.begin() + 14));
}

TEST(Ethernet, MutableViewConvertsToConst) {
  auto buf = kPlain;
  auto v = EthernetView::checked(buf);
  ASSERT_TRUE(v);
  const ConstEthernetView c = *v;
  EXPECT_EQ(EthernetHeader::parse(c).ethertype, 0x0800);
}

}  // namespace
}  // namespace xnet::wire
