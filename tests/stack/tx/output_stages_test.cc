// The send-path stages that work on packets alone: cork layout
// (ip_append_data / ip_make_datagram), ip_fragment (fast and slow path), UDP GSO
// segmentation, checksum completion. Every checksum is checked with the
// independent implementation in ref_checksum.h.

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "stack/core/checksum_offload.h"
#include "stack/ipv4/cork.h"
#include "tests/stack/support/raw_bytes.h"
#include "stack/core/ip_ident.h"
#include "stack/ipv4/ipv4_output.h"
#include "stack/udp/udp_offload.h"
#include "stack/wire/checksum.h"
#include "tests/stack/tx/ref_checksum.h"

namespace xnet::stack {
namespace {

using namespace rawbytes;

using txtest::be16;
using txtest::be32;

std::vector<std::byte> pattern(size_t n, unsigned seed = 7) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
  return v;
}

CorkParams params(FramePool& pool, uint32_t mtu) {
  CorkParams p;
  p.pool = &pool;
  p.fragsize = mtu;
  p.route_mtu = mtu;
  p.ip.saddr = wire::Ipv4Addr(10, 0, 0, 1);
  p.ip.daddr = wire::Ipv4Addr(10, 0, 0, 2);
  p.ip.protocol = kIpProtoUdp;
  p.out_ifindex = 1;
  return p;
}

// Writes a UDP header and a software checksum the way udp_send_skb does for a
// single-frame datagram, using the per-frame sum taken during the copy.
void finish_udp_single(Packet& p, uint16_t sport, uint16_t dport) {
  std::byte* ip = p.network_header();
  std::byte* uh = p.transport_header();
  const uint16_t len = static_cast<uint16_t>(p.size() - (uh - ip));
  store_be16(uh + kUdpSport, sport);
  store_be16(uh + kUdpDport, dport);
  store_be16(uh + kUdpLen, len);
  store_be16(uh + kUdpCsum, 0);
  uint32_t sum = wire::checksum_block_add(p.meta().csum, wire::checksum_partial({uh, 8}), 0);
  sum = wire::checksum_block_add(sum, wire::pseudo_header_sum(wire::Ipv4Addr(load_be32(ip + kIpSrc)),
                                                    wire::Ipv4Addr(load_be32(ip + kIpDst)), 17, len),
                       0);
  uint16_t c = static_cast<uint16_t>(~wire::checksum_fold(sum));
  store_be16(uh + kUdpCsum, c == 0 ? 0xffff : c);
}

struct Layout {
  std::vector<uint32_t> sizes;  // frame data sizes (head: IP header included)
};

Layout layout_of(const PacketQueue& q) {
  Layout l;
  q.for_each([&](const PacketMeta& m, const std::byte*) { l.sizes.push_back(m.len); });
  return l;
}

TEST(CorkLayout, SingleFrameUpToMtu) {
  FramePool pool(2048, 64);
  IpIdentGenerator ids(1);
  Cork c;
  c.params = params(pool, 1500);
  const auto data = pattern(1472);
  ASSERT_TRUE(ip_append_data(c, data, 8, false).ok());
  PacketQueue dg = ip_make_datagram(c, ids);
  ASSERT_EQ(dg.size(), 1u);
  EXPECT_EQ(layout_of(dg).sizes[0], 1500u);
  dg.clear();
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(CorkLayout, OverMtuIsLaidOutAsFragments) {
  FramePool pool(2048, 64);
  IpIdentGenerator ids(1);
  Cork c;
  c.params = params(pool, 1500);
  const auto data = pattern(1473);
  ASSERT_TRUE(ip_append_data(c, data, 8, false).ok());
  PacketQueue dg = ip_make_datagram(c, ids);
  ASSERT_EQ(dg.size(), 2u);
  EXPECT_EQ(layout_of(dg).sizes, (std::vector<uint32_t>{1500, 1}));
}

TEST(CorkLayout, FraggapMovesToTheNextFrame) {
  // MTU 1500 with 4 bytes of options: maxfraglen = ((1500-24)&~7)+24 = 1496.
  FramePool pool(2048, 64);
  IpIdentGenerator ids(1);
  Cork c;
  c.params = params(pool, 1500);
  c.params.options_len = 4;
  c.params.options[0] = std::byte{1};
  c.params.options[1] = std::byte{1};
  c.params.options[2] = std::byte{1};
  c.params.options[3] = std::byte{0};
  // Corked: 1000 bytes then 1000 bytes (MSG_MORE), then 500.
  const auto data = pattern(2500);
  ASSERT_TRUE(ip_append_data(c, std::span(data).first(1000), 8, true).ok());
  ASSERT_TRUE(ip_append_data(c, std::span(data).subspan(1000, 1000), 0, true).ok());
  ASSERT_TRUE(ip_append_data(c, std::span(data).subspan(2000), 0, false).ok());
  // First frame is filled to the MTU (1476 payload) while more might fit, then
  // trimmed to 1472 (multiple of 8) when the next frame starts.
  const uint32_t total = c.length;
  EXPECT_EQ(total, 2508u);
  PacketQueue dg = ip_make_datagram(c, ids);
  const auto l = layout_of(dg);
  ASSERT_EQ(l.sizes.size(), 2u);
  EXPECT_EQ(l.sizes[0], 24u + 1472u);
  EXPECT_EQ(l.sizes[1], 2508u - 1472u);
  // Per-frame sums still match the bytes after the move.
  dg.for_each([&](const PacketMeta& m, const std::byte* f) {
    if (m.csum_state != ChecksumState::kComplete) return;
    const std::byte* start = f + (m.network_off != kNoOffset ? m.transport_off : m.head);
    const size_t n = f + m.head + m.len - start;
    EXPECT_EQ(wire::checksum_fold(m.csum), txtest::ref_fold(txtest::ref_sum({start, n})));
  });
  // Reassemble the payload: every byte in order.
  std::vector<std::byte> got;
  dg.for_each([&](const PacketMeta& m, const std::byte* f) {
    const std::byte* start = f + (m.network_off != kNoOffset ? m.transport_off + 8 : m.head);
    got.insert(got.end(), start, f + m.head + m.len);
  });
  EXPECT_EQ(got, data);
}

TEST(CorkLayout, LimitsGiveEmsgsize) {
  FramePool pool(2048, 128);
  Cork c;
  c.params = params(pool, 1500);
  auto big = pattern(65508);
  EXPECT_EQ(ip_append_data(c, big, 8, false).error(), std::errc::message_size);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.length, 0u);
  // DF (pmtudisc do): the MTU is the limit.
  Cork d;
  d.params = params(pool, 1500);
  d.params.ignore_df = false;
  EXPECT_EQ(ip_append_data(d, std::span(big).first(1473), 8, false).error(), std::errc::message_size);
  EXPECT_TRUE(ip_append_data(d, std::span(big).first(1472), 8, false).ok());
  d.flush();
  EXPECT_EQ(pool.in_use(), 0u);
}

// Builds an IPv4/UDP datagram of `n` payload bytes through the cork.
PacketQueue build(FramePool& pool, IpIdentGenerator& ids, uint32_t mtu, size_t n,
                  std::vector<std::byte>* payload = nullptr) {
  Cork c;
  c.params = params(pool, mtu);
  const auto data = pattern(n);
  if (payload) *payload = data;
  EXPECT_TRUE(ip_append_data(c, data, 8, false).ok());
  PacketQueue dg = ip_make_datagram(c, ids);
  return dg;
}

struct Frag {
  uint16_t id, off, len;
  bool mf;
  std::vector<std::byte> payload;
};

std::vector<Frag> frags_of(PacketQueue& q) {
  std::vector<Frag> out;
  while (!q.empty()) {
    Packet p = q.pop_front();
    const std::byte* ip = p.data();
    EXPECT_TRUE(txtest::ip_header_ok(ip));
    const size_t hl = (std::to_integer<unsigned>(ip[0]) & 0xf) * 4u;
    Frag f;
    f.id = be16(ip + 4);
    f.off = static_cast<uint16_t>((be16(ip + 6) & 0x1fff) * 8);
    f.mf = (be16(ip + 6) & 0x2000) != 0;
    f.len = be16(ip + 2);
    EXPECT_EQ(f.len, p.size());
    f.payload.assign(ip + hl, ip + f.len);
    out.push_back(std::move(f));
  }
  return out;
}

void check_fragments(const std::vector<Frag>& fr, uint32_t mtu, size_t total_payload) {
  uint32_t expect_off = 0;
  for (size_t i = 0; i < fr.size(); ++i) {
    EXPECT_EQ(fr[i].id, fr[0].id);
    EXPECT_EQ(fr[i].off, expect_off);
    EXPECT_EQ(fr[i].off % 8, 0);
    EXPECT_LE(fr[i].len, mtu);
    EXPECT_EQ(fr[i].mf, i + 1 != fr.size());
    if (i + 1 != fr.size()) {
      EXPECT_EQ(fr[i].payload.size() % 8, 0u);
    }
    expect_off += static_cast<uint32_t>(fr[i].payload.size());
  }
  EXPECT_EQ(expect_off, total_payload);
}

class FragmentMtu : public ::testing::TestWithParam<std::tuple<uint32_t, size_t>> {};

TEST_P(FragmentMtu, FastPathOffsetsAndReassembly) {
  const auto [mtu, n] = GetParam();
  FramePool pool(2048, 1500);
  IpIdentGenerator ids(3);
  std::vector<std::byte> payload;
  PacketQueue dg = build(pool, ids, mtu, n, &payload);
  Packet head = dg.pop_front();
  finish_udp_single(head, 1000, 2000);  // checksum irrelevant here; header only
  ip_send_check(head, static_cast<uint16_t>(head.size() + dg.bytes()));
  dg.push_front(std::move(head));
  const size_t frames = dg.size();
  PacketQueue out;
  auto r = ip_fragment(dg, mtu, pool, kDefaultHeadroom, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, frames);  // fast path: one fragment per laid-out frame
  EXPECT_EQ(pool.in_use(), frames);
  auto fr = frags_of(out);
  check_fragments(fr, mtu, n + 8);
  std::vector<std::byte> joined;
  for (auto& f : fr) joined.insert(joined.end(), f.payload.begin(), f.payload.end());
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), joined.begin() + 8));
  EXPECT_EQ(pool.in_use(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Sizes, FragmentMtu,
                         ::testing::Combine(::testing::Values(1500u, 576u, 68u),
                                            ::testing::Values(size_t{1473}, size_t{4000},
                                                              size_t{65507})));

TEST(Fragment, SlowPathForSmallerMtuAndRefragmentation) {
  FramePool pool(2048, 600);
  IpIdentGenerator ids(3);
  std::vector<std::byte> payload;
  PacketQueue dg = build(pool, ids, 1500, 4000, &payload);
  Packet head = dg.pop_front();
  ip_send_check(head, static_cast<uint16_t>(head.size() + dg.bytes()));
  dg.push_front(std::move(head));
  PacketQueue out;
  auto r = ip_fragment(dg, 576, pool, kDefaultHeadroom, out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 8u);  // 4008 bytes / 552 per fragment
  // Refragment the second fragment again at 68: offsets continue from its own.
  Packet first = out.pop_front();
  Packet second = out.pop_front();
  const uint16_t off2 = static_cast<uint16_t>((be16(second.data() + 6) & 0x1fff) * 8);
  PacketQueue one, out2;
  one.push_back(std::move(second));
  auto r2 = ip_fragment(one, 68, pool, kDefaultHeadroom, out2);
  ASSERT_TRUE(r2.ok());
  auto fr = frags_of(out2);
  EXPECT_EQ(fr.front().off, off2);
  EXPECT_TRUE(fr.back().mf);  // the original had MF
  for (auto& f : fr) EXPECT_LE(f.len, 68);
  out.clear();
  first.reset();
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(Fragment, DfIsEmsgsize) {
  FramePool pool(4096, 64);
  Packet p = Packet::allocate(pool, kDefaultHeadroom);
  std::memset(p.put(2000), 0, 2000);
  IpHeaderParams h;
  h.df = true;
  h.protocol = 17;
  push_ipv4_header(p, h, 5);
  ip_send_check(p, p.size());
  PacketQueue dg, out;
  dg.push_back(std::move(p));
  EXPECT_EQ(ip_fragment(dg, 1500, pool, kDefaultHeadroom, out).error(), std::errc::message_size);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(Fragment, OnlyCopiedOptionsAfterTheFirst) {
  FramePool pool(4096, 64);
  Packet p = Packet::allocate(pool, kDefaultHeadroom);
  const auto data = pattern(3000);
  std::memcpy(p.put(3000), data.data(), 3000);
  // Record route (7, not copied) of 7 bytes + NOP, then a copied option (0x94
  // router alert, 4 bytes).
  const std::byte opts[12] = {std::byte{7}, std::byte{7}, std::byte{4}, std::byte{0},
                              std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1},
                              std::byte{0x94}, std::byte{4}, std::byte{0}, std::byte{0}};
  IpHeaderParams h;
  h.protocol = 17;
  h.options = opts;
  push_ipv4_header(p, h, 9);
  ip_send_check(p, p.size());
  PacketQueue dg, out;
  dg.push_back(std::move(p));
  ASSERT_TRUE(ip_fragment(dg, 1500, pool, kDefaultHeadroom, out).ok());
  Packet f1 = out.pop_front();
  Packet f2 = out.pop_front();
  EXPECT_EQ(std::memcmp(f1.data() + 20, opts, 12), 0);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(f2.data()[20 + i], std::byte{1}) << i;
  EXPECT_EQ(std::memcmp(f2.data() + 28, opts + 8, 4), 0);
  EXPECT_TRUE(txtest::ip_header_ok(f2.data()));
}

struct Seg {
  uint16_t id, tot_len, udp_len;
  std::vector<std::byte> payload;
};

std::vector<Seg> gso(FramePool& pool, uint16_t gso_size, size_t n, bool device_checksum,
                     std::vector<std::byte>* payload) {
  IpIdentGenerator ids(11);
  Cork c;
  c.params = params(pool, 1500);
  c.params.gso_size = gso_size;
  c.params.can_offload = true;
  c.params.device_checksum = device_checksum;
  const auto data = pattern(n);
  *payload = data;
  EXPECT_TRUE(ip_append_data(c, data, 8, false).ok());
  PacketQueue dg = ip_make_datagram(c, ids);
  Packet head = dg.pop_front();
  std::byte* uh = head.transport_header();
  store_be16(uh + kUdpSport, 1);
  store_be16(uh + kUdpDport, 2);
  head.meta().gso_size = gso_size;
  ip_send_check(head, static_cast<uint16_t>(head.size() + dg.bytes()));
  dg.push_front(std::move(head));
  PacketQueue segs;
  udp_gso_segment(dg, device_checksum, segs);
  std::vector<Seg> out;
  while (!segs.empty()) {
    Packet s = segs.pop_front();
    if (device_checksum) {
      EXPECT_EQ(s.meta().csum_state, ChecksumState::kPartial);
      checksum_help(s);  // what a checksumming Link does
    }
    const std::byte* ip = s.data();
    EXPECT_TRUE(txtest::ip_header_ok(ip));
    bool none = true;
    EXPECT_TRUE(txtest::udp_checksum_ok(ip, &none));
    EXPECT_FALSE(none);
    Seg g{be16(ip + 4), be16(ip + 2), be16(ip + 24), {}};
    EXPECT_EQ(g.tot_len, s.size());
    EXPECT_EQ(g.udp_len + 20, g.tot_len);
    EXPECT_EQ(be16(ip + 20), 1);
    EXPECT_EQ(be16(ip + 22), 2);
    g.payload.assign(ip + 28, ip + g.tot_len);
    out.push_back(std::move(g));
  }
  return out;
}

class GsoMatrix : public ::testing::TestWithParam<std::tuple<uint16_t, size_t, bool>> {};

TEST_P(GsoMatrix, SegmentsFieldByField) {
  const auto [gso_size, n, device] = GetParam();
  FramePool pool(2048, 200);
  std::vector<std::byte> payload;
  auto segs = gso(pool, gso_size, n, device, &payload);
  const size_t expect = (n + gso_size - 1) / gso_size;
  ASSERT_EQ(segs.size(), expect);
  std::vector<std::byte> joined;
  for (size_t i = 0; i < segs.size(); ++i) {
    EXPECT_EQ(segs[i].id, static_cast<uint16_t>(segs[0].id + i));
    const size_t want = i + 1 < segs.size() ? gso_size : n - gso_size * (segs.size() - 1);
    EXPECT_EQ(segs[i].payload.size(), want);
    joined.insert(joined.end(), segs[i].payload.begin(), segs[i].payload.end());
  }
  EXPECT_EQ(joined, payload);
  EXPECT_EQ(pool.in_use(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, GsoMatrix,
    ::testing::Values(std::make_tuple(uint16_t{1400}, size_t{2800}, false),
                      std::make_tuple(uint16_t{1400}, size_t{2801}, false),
                      std::make_tuple(uint16_t{1400}, size_t{2801}, true),
                      std::make_tuple(uint16_t{2}, size_t{5}, false),
                      std::make_tuple(uint16_t{2}, size_t{5}, true),
                      std::make_tuple(uint16_t{100}, size_t{12800}, false),
                      std::make_tuple(uint16_t{1472}, size_t{65507 - 65507 % 1472}, false)));

TEST(ChecksumHelp, ZeroBecomesFfff) {
  // A UDP datagram whose checksum computes to 0 must carry 0xFFFF.
  FramePool pool(2048, 4);
  Packet p = Packet::allocate(pool, kDefaultHeadroom);
  std::byte* d = p.put(10);
  std::memset(d, 0, 10);
  IpHeaderParams h;
  h.protocol = 17;
  h.saddr = wire::Ipv4Addr(0, 0, 0, 0);
  h.daddr = wire::Ipv4Addr(0, 0, 0, 0);
  // Choose payload so that pseudo(17 + len) + header + payload == 0xffff.
  std::byte* uh = d;
  store_be16(uh + 4, 10);  // UDP length
  // sum so far: 17 + 10 (pseudo) + 10 (len field) = 37; payload word = 0xffff - 37.
  store_be16(d + 8, static_cast<uint16_t>(0xffff - 37));
  p.set_transport_header(0);
  push_ipv4_header(p, h, 1);
  ip_send_check(p, p.size());
  p.meta().csum_state = ChecksumState::kPartial;
  p.meta().csum_start = p.meta().transport_off;
  p.meta().csum_offset = 6;
  const uint32_t ps = wire::pseudo_header_sum(h.saddr, h.daddr, 17, 10);
  store_be16(p.transport_header() + 6, wire::checksum_fold(ps));
  checksum_help(p);
  EXPECT_EQ(be16(p.transport_header() + 6), 0xffff);
  EXPECT_TRUE(txtest::udp_checksum_ok(p.data()));
}

}  // namespace
}  // namespace xnet::stack
