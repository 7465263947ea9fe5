// Reassembly (ROBUSTNESS cases 13–22): orders, duplicates, subsets, overlaps,
// conflicting ends, timeouts with and without fragment 0, the memory bound,
// the 65535 limit, 8-byte fragments, interleaving, pools.

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
#include "tests/stack/rx/rx_fixture.h"

namespace xnet::stack::rxtest {
namespace {

struct Piece {
  uint32_t offset, len;
  bool mf;
};

class ReasmTest : public RxTest {
 protected:
  // One fragment of `data` (the whole datagram's payload).
  Bytes frag(const Bytes& data, uint32_t offset, uint32_t len, bool mf, uint16_t id = 0x4242,
             Ipv4Addr src = kPeer, uint8_t proto = kProtoCapture) {
    Ip ip;
    ip.id = id;
    ip.src = src;
    ip.protocol = proto;
    ip.frag_offset = static_cast<uint16_t>(offset);
    ip.mf = mf;
    ip.payload.assign(data.begin() + offset, data.begin() + offset + len);
    return build(ip);
  }
  // Fragments of `step` bytes covering `data`.
  std::vector<Bytes> split(const Bytes& data, uint32_t step, uint16_t id = 0x4242,
                           Ipv4Addr src = kPeer, uint8_t proto = kProtoCapture) {
    std::vector<Bytes> out;
    for (uint32_t o = 0; o < data.size(); o += step) {
      const uint32_t n = std::min<uint32_t>(step, static_cast<uint32_t>(data.size()) - o);
      out.push_back(frag(data, o, n, o + n < data.size(), id, src, proto));
    }
    return out;
  }
  void expect_datagram(const Delivered& d, const Bytes& data) {
    EXPECT_EQ(d.payload, data);
    ASSERT_EQ(d.ip_header.size(), 20u);
    const uint16_t tot = static_cast<uint16_t>((std::to_integer<int>(d.ip_header[2]) << 8) |
                                               std::to_integer<int>(d.ip_header[3]));
    EXPECT_EQ(tot, 20 + data.size());
    EXPECT_EQ(std::to_integer<int>(d.ip_header[6]) & 0x3f, 0);  // MF and offset cleared
    EXPECT_EQ(std::to_integer<int>(d.ip_header[7]), 0);
    EXPECT_EQ(ref_checksum(d.ip_header.data(), 20), 0);
  }
  void expect_idle() {
    EXPECT_EQ(stack_->reassembly().mem(), 0u);
    EXPECT_EQ(stack_->reassembly().queue_count(), 0u);
    EXPECT_FALSE(stack_->reassembly().next_deadline().has_value());
  }
};

TEST_F(ReasmTest, InOrderReverseRandomOddEven) {
  const Bytes data = pattern(5000);
  std::vector<std::vector<size_t>> orders;
  orders.push_back({0, 1, 2, 3, 4});
  orders.push_back({4, 3, 2, 1, 0});
  orders.push_back({1, 3, 0, 2, 4});  // odd then even
  std::mt19937 rng(42);
  for (int i = 0; i < 5; ++i) {
    std::vector<size_t> o(5);
    std::iota(o.begin(), o.end(), 0);
    std::shuffle(o.begin(), o.end(), rng);
    orders.push_back(o);
  }
  for (const auto& order : orders) {
    make_stack({});
    const auto frags = split(data, 1000);
    for (size_t i : order) inject(frags[i]);
    ASSERT_EQ(delivered().size(), 1u);
    expect_datagram(delivered()[0], data);
    EXPECT_EQ(delivered()[0].chain, 4u);
    EXPECT_EQ(st().ip.ReasmReqds, 5u);
    EXPECT_EQ(st().ip.ReasmOKs, 1u);
    EXPECT_EQ(st().ip.ReasmFails, 0u);
    EXPECT_EQ(st().ip.InReceives, 5u);
    EXPECT_EQ(st().ip.InDelivers, 1u);
    expect_only_drops({});
    expect_idle();
  }
}

TEST_F(ReasmTest, RandomDuplicatesAreIgnored) {
  const Bytes data = pattern(6000, 3);
  const auto frags = split(data, 800);
  std::vector<size_t> order;
  for (size_t i = 0; i < frags.size(); ++i) order.push_back(i);
  order.insert(order.end(), {0, 2, 2, 5});  // duplicates (sent before the last piece arrives)
  std::mt19937 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  // Make sure the datagram completes only at the very end.
  auto last = std::find(order.begin(), order.end(), frags.size() - 1);
  std::iter_swap(last, order.end() - 1);
  size_t sent = 0;
  for (size_t i : order) {
    inject(frags[i]);
    ++sent;
  }
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
  EXPECT_EQ(st().ip.ReasmReqds, sent);
  EXPECT_EQ(dropped(DropReason::kFragDuplicate), 4u);
  EXPECT_EQ(st().ip.ReasmFails, 0u);
  expect_idle();
}

TEST_F(ReasmTest, SubsetOfHeldDataIsIgnored) {
  const Bytes data = pattern(3000);
  inject(frag(data, 0, 1000, true));
  inject(frag(data, 1000, 1000, true));
  inject(frag(data, 504, 1000, true));  // inside [0, 2000), across two fragments
  inject(frag(data, 1000, 8, true));    // inside one
  EXPECT_EQ(dropped(DropReason::kFragDuplicate), 2u);
  inject(frag(data, 2000, 1000, false));
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
  EXPECT_EQ(st().ip.ReasmFails, 0u);
  expect_idle();
}

TEST_F(ReasmTest, PartialOverlapDiscardsTheQueue) {
  const Bytes data = pattern(3000);
  inject(frag(data, 0, 1000, true));
  inject(frag(data, 504, 1000, true));  // [504, 1504): half held, half new
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip.ReasmFails, 1u);
  EXPECT_EQ(dropped(DropReason::kFragOverlap), 1u);
  expect_idle();
  // Overlap in the middle (not after the tail) as well.
  inject(frag(data, 0, 1000, true));
  inject(frag(data, 2000, 1000, false));
  inject(frag(data, 1504, 800, true));  // [1504, 2304) runs into the last fragment
  EXPECT_EQ(st().ip.ReasmFails, 2u);
  EXPECT_EQ(dropped(DropReason::kFragOverlap), 2u);
  EXPECT_TRUE(delivered().empty());
  EXPECT_TRUE(icmp_.empty());
  expect_idle();
}

TEST_F(ReasmTest, ConflictingEndDiscardsTheQueue) {
  const Bytes data = pattern(3000);
  inject(frag(data, 1000, 500, false));
  inject(frag(data, 1000, 600, false));  // a second last fragment with another end
  EXPECT_EQ(st().ip.ReasmFails, 1u);
  EXPECT_EQ(dropped(DropReason::kFragMalformed), 1u);
  expect_idle();
  inject(frag(data, 1000, 500, false));
  inject(frag(data, 1496, 504, true));  // data beyond the known end
  EXPECT_EQ(st().ip.ReasmFails, 2u);
  EXPECT_EQ(dropped(DropReason::kFragMalformed), 2u);
  expect_idle();
  inject(frag(data, 2000, 1000, true));
  inject(frag(data, 8, 992, false));  // a last fragment ending before held data
  EXPECT_EQ(st().ip.ReasmFails, 3u);
  EXPECT_TRUE(delivered().empty());
  expect_idle();
}

TEST_F(ReasmTest, ZeroPayloadFragmentDiscardsTheQueue) {
  const Bytes data = pattern(2000);
  inject(frag(data, 0, 1000, true));
  inject(frag(data, 1000, 0, true));
  EXPECT_EQ(st().ip.ReasmFails, 1u);
  EXPECT_EQ(dropped(DropReason::kFragMalformed), 1u);
  EXPECT_TRUE(delivered().empty());
  expect_idle();
}

TEST_F(ReasmTest, NonFinalFragmentIsTrimmedToEightBytes) {
  const Bytes data = pattern(1500);
  inject(frag(data, 0, 1003, true));  // held as [0, 1000)
  inject(frag(data, 1000, 500, false));
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
  expect_idle();
}

TEST_F(ReasmTest, TimeoutWithFragmentZeroSendsTimeExceeded) {
  const Bytes data = pattern(3000);
  const Bytes first = frag(data, 0, 1000, true);
  inject(first);
  inject(frag(data, 2000, 1000, false));
  ASSERT_TRUE(stack_->reassembly().next_deadline().has_value());
  EXPECT_EQ(*stack_->reassembly().next_deadline(), now_ + std::chrono::seconds(30));
  stack_->run_timers(now_ + std::chrono::seconds(29));
  EXPECT_EQ(stack_->reassembly().queue_count(), 1u);
  stack_->run_timers(now_ + std::chrono::seconds(30));
  EXPECT_EQ(st().ip.ReasmTimeout, 1u);
  EXPECT_EQ(st().ip.ReasmFails, 1u);
  EXPECT_EQ(dropped(DropReason::kFragTimeout), 1u);
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].icmp_type(), 11);
  EXPECT_EQ(icmp_[0].icmp_code(), 1);
  const Bytes q = icmp_[0].quote();
  ASSERT_GE(q.size(), 28u);
  EXPECT_TRUE(std::equal(q.begin(), q.begin() + 28, first.begin()));  // fragment 0's header + 8
  EXPECT_TRUE(delivered().empty());
  expect_idle();
}

TEST_F(ReasmTest, TimeoutWithoutFragmentZeroIsSilent) {
  const Bytes data = pattern(3000);
  inject(frag(data, 1000, 1000, true));
  inject(frag(data, 2000, 1000, false));
  stack_->run_timers(now_ + std::chrono::seconds(31));
  EXPECT_EQ(st().ip.ReasmTimeout, 1u);
  EXPECT_EQ(st().ip.ReasmFails, 1u);
  EXPECT_TRUE(icmp_.empty());
  expect_idle();
}

// At ipfrag_high_thresh xnet evicts the oldest queues down to half of it
// (ReasmFails, kFragMemLimit each) where Linux 6.18 refuses every fragment
// until the timer frees memory (ip_fragment.h says why). The memory never
// goes above the threshold, and a queue that is not among the oldest goes on.
TEST_F(ReasmTest, AtTheHighThresholdTheOldestQueuesAreEvicted) {
  StackConfig cfg;
  cfg.ipfrag_high_thresh = 16 * 2048;  // 16 frames, below the pool's share (2048)
  make_stack(cfg);
  const Bytes data = pattern(2000);
  for (uint16_t id = 1; id <= 40; ++id) {
    inject(frag(data, 0, 1000, true, id));
    ASSERT_LE(stack_->reassembly().mem(), cfg.ipfrag_high_thresh) << "after fragment " << id;
  }
  // 16 held; the 17th, 26th and 35th each evicted the 9 oldest (down to 7),
  // then were queued: 13 queues (ids 28..40) remain.
  EXPECT_EQ(stack_->reassembly().queue_count(), 13u);
  EXPECT_EQ(st().ip.ReasmFails, 27u);
  EXPECT_EQ(dropped(DropReason::kFragMemLimit), 27u);
  EXPECT_EQ(dropped(DropReason::kFragFrameLimit), 0u);
  // A queue still held completes; an evicted one starts over (and times out).
  inject(frag(data, 1000, 1000, false, 40));
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
  delivered().clear();
  inject(frag(data, 1000, 1000, false, 1));
  EXPECT_EQ(delivered().size(), 0u);
  EXPECT_EQ(st().ip.ReasmFails, 27u);
  stack_->run_timers(now_ + std::chrono::seconds(30));
  expect_idle();
}

// A fragment flood against the memory bound (issue 16): incomplete trains
// from many sources, with legitimate datagrams among them. The flood's queues
// are the oldest and are evicted; the legitimate fragments, back to back,
// complete every time (Linux 6.18 would refuse them until the timer ran).
// The bound holds at every step; the timer frees what is left.
TEST_F(ReasmTest, AFloodIsEvictedAndLegitimateDatagramsComplete) {
  StackConfig cfg;
  cfg.ipfrag_high_thresh = 64 * 2048;
  make_stack(cfg);
  const Bytes junk = pattern(1400);
  const Bytes data = pattern(2000);
  uint16_t flood_id = 1;
  auto flood = [&](int n) {
    for (int i = 0; i < n; ++i, ++flood_id) {
      const Ipv4Addr spoofed(10, 9, static_cast<uint8_t>(flood_id >> 8), static_cast<uint8_t>(flood_id));
      inject(frag(junk, 0, 1400, true, flood_id, spoofed));
      ASSERT_LE(stack_->reassembly().mem(), cfg.ipfrag_high_thresh);
    }
  };
  flood(200);
  for (uint16_t n = 1; n <= 5; ++n) {
    inject(frag(data, 0, 1000, true, n));
    inject(frag(data, 1000, 1000, false, n));
    flood(50);
  }
  ASSERT_EQ(delivered().size(), 5u);
  for (const auto& d : delivered()) expect_datagram(d, data);
  EXPECT_EQ(st().ip.ReasmOKs, 5u);
  EXPECT_EQ(st().ip.ReasmFails, dropped(DropReason::kFragMemLimit));
  EXPECT_EQ(st().ip.ReasmFails, 450u - stack_->reassembly().queue_count());
  delivered().clear();
  stack_->run_timers(now_ + std::chrono::seconds(30));
  expect_idle();
}

// A link's frames are few (a UMEM) where the kernel's memory is not: queues
// never hold more than half of one pool, however far below the memory bound,
// so a flood of incomplete trains cannot starve the receive ring.
TEST_F(ReasmTest, QueuesHoldAtMostHalfOfALinksFrames) {
  const Bytes data = pattern(2000);
  const uint32_t frames = other_pool_.capacity();  // 64
  for (uint16_t id = 1; id <= 100; ++id) {
    inject(frag(data, 0, 1000, true, id), PacketType::kHost, &other_pool_);
    ASSERT_LE(other_pool_.in_use(), frames / 2) << "after fragment " << id;
  }
  EXPECT_LT(stack_->reassembly().mem(), StackConfig{}.ipfrag_high_thresh / 2);  // far below the memory bound
  const uint64_t evicted = dropped(DropReason::kFragFrameLimit);
  EXPECT_GT(evicted, 0u);
  EXPECT_EQ(st().ip.ReasmFails, evicted);
  EXPECT_EQ(stack_->reassembly().queue_count(), 100 - evicted);
  // A legitimate datagram still finds frames and completes.
  inject(frag(data, 0, 1000, true, 500), PacketType::kHost, &other_pool_);
  inject(frag(data, 1000, 1000, false, 500), PacketType::kHost, &other_pool_);
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
  delivered().clear();  // its frames go back to the pool
  stack_->run_timers(now_ + std::chrono::seconds(30));
  expect_idle();
}

// The fill ring holds up to half of a link's frames: whatever holds frames,
// queues grow only while an eighth of the pool stays free, so a flood cannot
// take the frames sends need (netbench fragflood: with half for the fill ring
// and half for queues, replies failed with ENOBUFS).
TEST_F(ReasmTest, QueuesLeaveAnEighthOfALinksFramesFree) {
  const Bytes data = pattern(2000);
  std::vector<Packet> fill_ring;  // what the link's fill ring would hold
  for (int i = 0; i < 40; ++i) fill_ring.push_back(Packet::allocate(other_pool_, 0));
  ASSERT_EQ(other_pool_.available(), 24u);
  for (uint16_t id = 1; id <= 100; ++id) {
    inject(frag(data, 0, 1000, true, id), PacketType::kHost, &other_pool_);
    ASSERT_GE(other_pool_.available(), other_pool_.capacity() / 8) << "after fragment " << id;
  }
  EXPECT_GT(dropped(DropReason::kFragFrameLimit), 0u);
  EXPECT_EQ(st().ip.ReasmFails, dropped(DropReason::kFragFrameLimit));
  // A legitimate datagram still completes.
  inject(frag(data, 0, 1000, true, 500), PacketType::kHost, &other_pool_);
  inject(frag(data, 1000, 1000, false, 500), PacketType::kHost, &other_pool_);
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
  delivered().clear();
  fill_ring.clear();
  stack_->run_timers(now_ + std::chrono::seconds(30));
  expect_idle();
}

// Linux 6.18: a fragment ending past 65535 is held like any other (ReasmReqds
// only); the datagram fails when it completes (ip_frag_reasm "Oversized IP
// packet": ReasmFails 1 after 45 fragments), or times out.
TEST_F(ReasmTest, OversizedDatagramFailsWhenItCompletes) {
  const Bytes data = pattern(65516);  // 20 + 65516 = 65536
  inject(frag(data, 65512, 4, false));
  EXPECT_EQ(st().ip.ReasmFails, 0u);
  EXPECT_EQ(stack_->reassembly().queue_count(), 1u);
  for (uint32_t o = 0; o < 65512; o += 1480) inject(frag(data, o, std::min<uint32_t>(1480, 65512 - o), true));
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip.ReasmFails, 1u);
  EXPECT_EQ(dropped(DropReason::kFragTooBig), 1u);
  expect_idle();
  // Incomplete, it goes at the timer with the ICMP of any expired queue.
  inject(frag(data, 0, 1480, true, 7));
  inject(frag(data, 65512, 4, false, 7));
  stack_->run_timers(now_ + std::chrono::seconds(30));
  EXPECT_EQ(st().ip.ReasmTimeout, 1u);
  EXPECT_EQ(st().icmp.OutTimeExcds, 1u);
  expect_idle();
  // The largest legal datagram reassembles.
  const Bytes max = pattern(65515);
  for (uint32_t o = 0; o < max.size(); o += 1480) {
    const uint32_t n = std::min<uint32_t>(1480, static_cast<uint32_t>(max.size()) - o);
    inject(frag(max, o, n, o + n < max.size(), 9));
  }
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], max);
}

// ip_frag_ecn_table, asked of Linux 6.18: ECT(0) with Not-ECT fails the
// datagram when it completes (ReasmFails 1); CE with ECT(0) is delivered as CE.
TEST_F(ReasmTest, EcnCodepointsCombineByTheKernelsTable) {
  const Bytes data = pattern(2000);
  auto with_tos = [&](uint32_t offset, uint32_t len, bool mf, uint16_t id, uint8_t tos) {
    Ip ip;
    ip.id = id;
    ip.tos = tos;
    ip.protocol = kProtoCapture;
    ip.frag_offset = static_cast<uint16_t>(offset);
    ip.mf = mf;
    ip.payload.assign(data.begin() + offset, data.begin() + offset + len);
    return build(ip);
  };
  inject(with_tos(0, 1000, true, 1, 2));     // ECT(0)
  inject(with_tos(1000, 1000, false, 1, 0));  // Not-ECT
  EXPECT_TRUE(delivered().empty());
  EXPECT_EQ(st().ip.ReasmFails, 1u);
  EXPECT_EQ(dropped(DropReason::kFragBadEcn), 1u);
  inject(with_tos(0, 1000, true, 2, 3));      // CE
  inject(with_tos(1000, 1000, false, 2, 2));  // ECT(0)
  ASSERT_EQ(delivered().size(), 1u);
  EXPECT_EQ(std::to_integer<int>(delivered()[0].ip_header[1]) & 3, 3);
  expect_idle();
}

// Overlaps by runs, asked of Linux 6.18: [0,8) [16,24) [8,16) are three runs
// (the last inserted in the middle), so [0,16) spans two and discards the
// queue (ReasmFails, ReasmOverlaps) although every byte of it is held; [0,8)
// [8,16) are one run, in which [0,16) is a duplicate and ignored.
TEST_F(ReasmTest, DuplicatesAreWhatLiesInsideOneRun) {
  const Bytes data = pattern(64);
  inject(frag(data, 0, 8, true, 1));
  inject(frag(data, 16, 8, true, 1));
  inject(frag(data, 8, 8, true, 1));
  inject(frag(data, 0, 16, true, 1));
  EXPECT_EQ(st().ip.ReasmFails, 1u);
  EXPECT_EQ(dropped(DropReason::kFragOverlap), 1u);
  EXPECT_EQ(st().ip_ext.ReasmOverlaps, 1u);
  EXPECT_EQ(stack_->reassembly().queue_count(), 0u);
  inject(frag(data, 0, 8, true, 2));
  inject(frag(data, 8, 8, true, 2));
  inject(frag(data, 0, 16, true, 2));
  EXPECT_EQ(dropped(DropReason::kFragDuplicate), 1u);
  inject(frag(data, 16, 48, false, 2));
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
  expect_idle();
}

TEST_F(ReasmTest, TinyFragmentsWithTheUdpHeaderAlone) {
  const NetProtocol udp = stack_->protocols().add(17, {.handler = &capture_handler});
  const Bytes data = pattern(64, 9);  // a UDP header and 56 bytes
  auto frags = split(data, 8, 0x77, kPeer, 17);
  std::mt19937 rng(5);
  std::shuffle(frags.begin(), frags.end(), rng);
  for (const Bytes& f : frags) inject(f);
  stack_->protocols().add(17, udp);
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
  EXPECT_EQ(delivered()[0].chain, 7u);
  EXPECT_EQ(st().ip.ReasmReqds, 8u);
  expect_idle();
}

TEST_F(ReasmTest, InterleavedDatagramsAreKeptApart) {
  const Bytes a = pattern(4000, 1), b = pattern(4000, 2), c = pattern(4000, 3);
  const auto fa = split(a, 1000, 1), fb = split(b, 1000, 2), fc = split(c, 1000, 1, Ipv4Addr(10, 0, 0, 3));
  for (size_t i = 0; i < 4; ++i) {
    inject(fa[3 - i]);
    inject(fb[i]);
    inject(fc[(i + 2) % 4]);
  }
  ASSERT_EQ(delivered().size(), 3u);
  std::vector<Bytes> got;
  for (const auto& d : delivered()) got.push_back(d.payload);
  EXPECT_TRUE(std::find(got.begin(), got.end(), a) != got.end());
  EXPECT_TRUE(std::find(got.begin(), got.end(), b) != got.end());
  EXPECT_TRUE(std::find(got.begin(), got.end(), c) != got.end());
  EXPECT_EQ(st().ip.ReasmOKs, 3u);
  expect_idle();
}

TEST_F(ReasmTest, FragmentsFromAnotherPoolAreCopiedIntoTheQueuesPool) {
  const Bytes data = pattern(3000);
  const auto frags = split(data, 1000);
  inject(frags[1], PacketType::kHost, &other_pool_);
  inject(frags[0]);
  inject(frags[2], PacketType::kHost, &other_pool_);
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
  expect_idle();
}

TEST_F(ReasmTest, ReassembledDatagramKeepsDfOnlyWhenEveryFragmentHadIt) {
  const Bytes data = pattern(2000);
  Ip ip;
  ip.id = 9;
  ip.mf = true;
  ip.payload.assign(data.begin(), data.begin() + 1000);
  inject(ip);
  ip.mf = false;
  ip.frag_offset = 1000;
  ip.payload.assign(data.begin() + 1000, data.end());
  inject(ip);
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
}

// A UDP datagram (checksum by hand) reassembled and read through a real
// socket: udp_rcv sees the right total length and the whole chain.
TEST_F(ReasmTest, ReassembledUdpReachesTheSocket) {
  UdpSock* sk = stack_->udp().open();
  ASSERT_TRUE(stack_->udp().bind(*sk, kUs, 5000).ok());
  for (uint32_t step : {8u, 1000u}) {
    SCOPED_TRACE(step);
    const Bytes body = pattern(3000, static_cast<uint8_t>(step));
    Bytes udp = bytes({0x30, 0x39, 0x13, 0x88, 0, 0, 0, 0});  // 12345 → 5000
    const uint16_t ulen = static_cast<uint16_t>(8 + body.size());
    udp[4] = std::byte(ulen >> 8);
    udp[5] = std::byte(ulen & 0xff);
    udp.insert(udp.end(), body.begin(), body.end());
    Bytes pseudo = bytes({10, 0, 0, 2, 10, 0, 0, 1, 0, 17});
    pseudo.push_back(std::byte(ulen >> 8));
    pseudo.push_back(std::byte(ulen & 0xff));
    pseudo.insert(pseudo.end(), udp.begin(), udp.end());
    const uint16_t c = ref_checksum(pseudo.data(), pseudo.size());
    udp[6] = std::byte(c >> 8);
    udp[7] = std::byte(c & 0xff);
    auto frags = split(udp, step, static_cast<uint16_t>(step), kPeer, 17);
    std::mt19937 rng(step);
    std::shuffle(frags.begin(), frags.end(), rng);
    for (const Bytes& f : frags) inject(f);
    Bytes buf(4000);
    auto r = udp_recvmsg(*stack_, *sk, buf);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r.value().size, body.size());
    buf.resize(body.size());
    EXPECT_EQ(buf, body);
    expect_idle();
  }
  EXPECT_EQ(st().udp.InDatagrams, 2u);
  EXPECT_EQ(st().udp.InCsumErrors, 0u);
  stack_->udp().close(sk);
}

// ipfrag_max_dist: 65 fragments from the same source between two of a
// queue's own re-initialise it (ip_frag_too_far / ip_frag_reinit).
TEST_F(ReasmTest, DisorderBeyondMaxDistReinitialisesTheQueue) {
  const Bytes data = pattern(2000);
  inject(frag(data, 0, 1000, true, 1));
  const Bytes other = pattern(2000, 5);
  for (uint16_t i = 0; i < 64; ++i) inject(frag(other, 0, 8, true, static_cast<uint16_t>(100 + i)));
  EXPECT_EQ(st().ip.ReasmFails, 0u);
  const TimePoint later = now_ + std::chrono::seconds(10);
  now_ = later;
  inject(frag(data, 1000, 1000, false, 1));  // distance 65 > 64
  EXPECT_EQ(st().ip.ReasmFails, 1u);
  EXPECT_TRUE(delivered().empty());
  inject(frag(data, 0, 1000, true, 1));  // fragment 0 again: now it completes
  ASSERT_EQ(delivered().size(), 1u);
  expect_datagram(delivered()[0], data);
  // A source that interleaves within the bound is not affected.
  make_stack({});
  inject(frag(data, 0, 1000, true, 2));
  for (uint16_t i = 0; i < 63; ++i) inject(frag(other, 0, 8, true, static_cast<uint16_t>(100 + i)));
  inject(frag(data, 1000, 1000, false, 2));
  EXPECT_EQ(st().ip.ReasmFails, 0u);
  EXPECT_EQ(delivered().size(), 1u);
  stack_->run_timers(now_ + std::chrono::seconds(60));
  expect_idle();
}

}  // namespace
}  // namespace xnet::stack::rxtest
