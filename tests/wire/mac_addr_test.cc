// MacAddr is held as one integer (stack/wire/addr.h); these pin that it still
// behaves as the six bytes it stands for: read from and written to a frame in
// order, compared and ordered as a byte string, classified by its bits.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "stack/wire/addr.h"

namespace xnet::wire {
namespace {

TEST(MacAddr, ReadWriteAndBytesKeepTheFrameOrder) {
  const std::array<std::byte, 8> frame = {std::byte{0x02}, std::byte{0x1a}, std::byte{0x2b}, std::byte{0x3c},
                                          std::byte{0x4d}, std::byte{0x5e}, std::byte{0xee}, std::byte{0xee}};
  const MacAddr m = MacAddr::read(frame.data());
  EXPECT_EQ(m, MacAddr({0x02, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}));
  EXPECT_EQ(m.bytes(), (std::array<uint8_t, 6>{0x02, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}));
  EXPECT_EQ(m.to_string(), "02:1a:2b:3c:4d:5e");
  // Exactly six bytes written, the neighbours untouched.
  std::array<std::byte, 8> out;
  out.fill(std::byte{0x77});
  m.write(out.data() + 1);
  EXPECT_EQ(out[0], std::byte{0x77});
  EXPECT_TRUE(std::equal(out.begin() + 1, out.begin() + 7, frame.begin()));
  EXPECT_EQ(out[7], std::byte{0x77});
}

TEST(MacAddr, EveryByteCounts) {
  const MacAddr base({0x02, 0x00, 0x00, 0x00, 0x00, 0x01});
  for (size_t i = 0; i < 6; ++i) {
    auto b = base.bytes();
    b[i] ^= 0x80;
    EXPECT_NE(MacAddr(b), base) << "byte " << i;
  }
}

TEST(MacAddr, OrderedAsByteStrings) {
  std::vector<std::array<uint8_t, 6>> raw = {
      {0x00, 0x00, 0x00, 0x00, 0x00, 0xff}, {0x00, 0x00, 0x00, 0x00, 0x01, 0x00},
      {0x01, 0x00, 0x00, 0x00, 0x00, 0x00}, {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
      {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff}, {0xff, 0x00, 0x00, 0x00, 0x00, 0x00},
  };
  for (size_t i = 0; i + 1 < raw.size(); ++i) {
    EXPECT_LT(MacAddr(raw[i]), MacAddr(raw[i + 1])) << i;
    EXPECT_EQ(MacAddr(raw[i]) < MacAddr(raw[i + 1]), raw[i] < raw[i + 1]) << i;
  }
}

TEST(MacAddr, Classification) {
  EXPECT_TRUE(kMacBroadcast.is_broadcast());
  EXPECT_TRUE(kMacBroadcast.is_multicast());
  EXPECT_FALSE(MacAddr({0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}).is_broadcast());
  EXPECT_FALSE(MacAddr({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff}).is_broadcast());
  EXPECT_TRUE(MacAddr({0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}).is_multicast());
  EXPECT_TRUE(MacAddr({0x33, 0x33, 0x00, 0x00, 0x00, 0x01}).is_multicast());
  EXPECT_FALSE(MacAddr({0x02, 0xff, 0xff, 0xff, 0xff, 0xff}).is_multicast());  // only the first byte's I/G bit
  EXPECT_TRUE(MacAddr().is_zero());
  EXPECT_FALSE(MacAddr({0x00, 0x00, 0x00, 0x00, 0x00, 0x01}).is_zero());
  EXPECT_FALSE(MacAddr({0x01, 0x00, 0x00, 0x00, 0x00, 0x00}).is_zero());
  EXPECT_EQ(MacAddr::for_ipv4_multicast(Ipv4Addr(239, 129, 2, 3)), MacAddr({0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}));
}

TEST(MacAddr, UsableAtCompileTime) {
  constexpr MacAddr m({0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb});
  static_assert(m.is_multicast());
  static_assert(!m.is_broadcast());
  static_assert(m == MacAddr::for_ipv4_multicast(Ipv4Addr(224, 0, 0, 251)));
  static_assert(MacAddr({0x00, 0, 0, 0, 0, 0xff}) < MacAddr({0x01, 0, 0, 0, 0, 0}));
  static_assert(m.bytes()[5] == 0xfb);
}

}  // namespace
}  // namespace xnet::wire
