#include <gtest/gtest.h>

#include "benchmarks/afxdp_ref/frame.h"

namespace afxdp_ref {
namespace {

Flow flow(size_t payload) { return {"02:00:00:00:00:01", "02:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 40000, 9000, payload}; }

TEST(AfxdpRefFrame, BuildsValidFramesOfTheAskedSize) {
  for (size_t payload : {8, 64, 1400, 1472}) {
    auto f = build_frame(flow(payload));
    ASSERT_EQ(f.size(), kHdrLen + payload);
    EXPECT_TRUE(checksums_valid(f.data(), static_cast<uint32_t>(f.size()))) << payload;
    EXPECT_EQ(get_seq(f.data()), 0u);
  }
}

TEST(AfxdpRefFrame, RefusesAddressesThatDoNotParse) {
  Flow bad = flow(64);
  bad.dst_ip = "10.0.0";
  EXPECT_TRUE(build_frame(bad).empty());
  bad = flow(64);
  bad.src_mac = "02:00:00";
  EXPECT_TRUE(build_frame(bad).empty());
}

TEST(AfxdpRefFrame, SequenceUpdateKeepsTheUdpChecksumValid) {
  auto f = build_frame(flow(64));
  const uint16_t c0 = udp_checksum_field(f.data());
  for (uint64_t seq : {1ull, 0xffffull, 0x123456789abcdefull, ~0ull}) {
    set_seq(f.data(), c0, seq);
    EXPECT_EQ(get_seq(f.data()), seq);
    EXPECT_TRUE(checksums_valid(f.data(), static_cast<uint32_t>(f.size()))) << seq;
  }
}

TEST(AfxdpRefFrame, ReflectSwapsEndsAndKeepsChecksums) {
  auto f = build_frame(flow(100));
  auto g = f;
  ASSERT_TRUE(reflect(g.data(), static_cast<uint32_t>(g.size())));
  EXPECT_TRUE(checksums_valid(g.data(), static_cast<uint32_t>(g.size())));
  auto back = build_frame({"02:00:00:00:00:02", "02:00:00:00:00:01", "10.0.0.2", "10.0.0.1", 9000, 40000, 100});
  EXPECT_EQ(g, back);
  std::vector<uint8_t> arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_FALSE(reflect(arp.data(), static_cast<uint32_t>(arp.size())));
}

}  // namespace
}  // namespace afxdp_ref
