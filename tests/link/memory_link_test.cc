#include "stack/links/memory_link.h"

#include <gtest/gtest.h>

#include <vector>

#include "stack/wire/ipv4.h"
#include "stack/wire/udp.h"
#include "tests/link/frames.h"

namespace xnet::stack {
namespace {

using linktest::make_frame;
using linktest::seq_of;
using namespace std::chrono_literals;

MemoryLinkConfig config(const char* name, wire::MacAddr mac) {
  MemoryLinkConfig c;
  c.name = name;
  c.mac = mac;
  c.frame_count = 64;
  return c;
}

class MemoryLinkTest : public ::testing::Test {
 protected:
  void SetUp() override { make(config("a", linktest::kMacA), config("b", linktest::kMacB)); }
  void make(MemoryLinkConfig ca, MemoryLinkConfig cb) {
    b_.reset();
    a_.reset();
    std::tie(a_, b_) = MemoryLink::make_pair(std::move(ca), std::move(cb));
  }
  // Every test ends with both pools whole once the queues are drained.
  void TearDown() override {
    if (!a_) return;
    drain(*a_);
    drain(*b_);
    EXPECT_EQ(a_->pool().in_use(), 0u);
    EXPECT_EQ(b_->pool().in_use(), 0u);
  }
  static void drain(MemoryLink& l) {
    l.advance(MemoryLink::TimePoint(std::chrono::hours(24 * 365)));
    PacketQueue q;
    l.rx_burst(q, 1 << 20);
  }
  size_t send(MemoryLink& from, uint32_t first, uint32_t count) {
    PacketQueue q;
    for (uint32_t i = 0; i < count; ++i) q.push_back(make_frame(from.pool(), first + i));
    return from.tx_burst(q);
  }
  std::vector<uint32_t> receive(MemoryLink& at, size_t max = 1000) {
    PacketQueue q;
    at.rx_burst(q, max);
    std::vector<uint32_t> seqs;
    while (!q.empty()) seqs.push_back(seq_of(q.pop_front()));
    return seqs;
  }

  std::unique_ptr<MemoryLink> a_, b_;
};

TEST_F(MemoryLinkTest, DeliversInOrderBothWays) {
  EXPECT_EQ(send(*a_, 0, 10), 10u);
  EXPECT_EQ(send(*b_, 100, 3), 3u);
  EXPECT_EQ(a_->pool().in_use(), 3u);  // b's frames, copied into a's pool
  EXPECT_EQ(a_->frames_held(), 3u);
  EXPECT_EQ(receive(*b_, 4), (std::vector<uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(receive(*b_), (std::vector<uint32_t>{4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(receive(*a_), (std::vector<uint32_t>{100, 101, 102}));
  EXPECT_EQ(a_->stats().tx_packets, 10u);
  EXPECT_EQ(b_->stats().rx_packets, 10u);
  EXPECT_EQ(b_->stats().rx_bytes, a_->stats().tx_bytes);
  EXPECT_EQ(a_->fault_counters(), MemoryLinkFaultCounters{});
}

TEST_F(MemoryLinkTest, ReceivedFramesAreExactCopiesWithHeadroom) {
  PacketQueue q;
  q.push_back(make_frame(a_->pool(), 7, 100));
  std::vector<std::byte> sent(q.front_frame() + q.front_meta()->head,
                              q.front_frame() + q.front_meta()->head + q.front_meta()->len);
  ASSERT_EQ(a_->tx_burst(q), 1u);
  PacketQueue r;
  ASSERT_EQ(b_->rx_burst(r, 8), 1u);
  Packet p = r.pop_front();
  EXPECT_EQ(std::vector<std::byte>(p.bytes().begin(), p.bytes().end()), sent);
  EXPECT_EQ(p.headroom(), kDefaultHeadroom);
  EXPECT_EQ(p.meta().mac_off, p.meta().head);
  EXPECT_EQ(p.meta().csum_state, ChecksumState::kNone);
}

TEST_F(MemoryLinkTest, FullQueueIsBackpressure) {
  auto ca = config("a", linktest::kMacA);
  auto cb = config("b", linktest::kMacB);
  cb.rx_queue_capacity = 4;
  make(ca, cb);
  PacketQueue q;
  for (uint32_t i = 0; i < 10; ++i) q.push_back(make_frame(a_->pool(), i));
  EXPECT_EQ(a_->tx_burst(q), 4u);
  EXPECT_EQ(q.size(), 6u);  // not dropped: still the caller's
  EXPECT_EQ(a_->tx_burst(q), 0u);
  EXPECT_EQ(receive(*b_, 2), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(a_->tx_burst(q), 2u);
  EXPECT_EQ(receive(*b_), (std::vector<uint32_t>{2, 3, 4, 5}));
  EXPECT_EQ(a_->tx_burst(q), 4u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(receive(*b_), (std::vector<uint32_t>{6, 7, 8, 9}));
  EXPECT_EQ(a_->stats().tx_dropped + b_->stats().rx_dropped, 0u);
}

struct Completions {
  int frames = 0;
  uint32_t bytes = 0;
};

TEST_F(MemoryLinkTest, SentFramesRunTheirDestructor) {
  Completions done;
  PacketQueue q;
  for (uint32_t i = 0; i < 5; ++i) {
    Packet p = make_frame(a_->pool(), i);
    p.meta().destructor = [](void* ctx, uint32_t truesize) {
      auto* c = static_cast<Completions*>(ctx);
      ++c->frames;
      c->bytes += truesize;
    };
    p.meta().destructor_ctx = &done;
    p.meta().truesize = 100;
    q.push_back(std::move(p));
  }
  EXPECT_EQ(a_->tx_burst(q), 5u);
  EXPECT_EQ(done.frames, 5);
  EXPECT_EQ(done.bytes, 500u);
  EXPECT_EQ(a_->pool().in_use(), 0u);
}

TEST_F(MemoryLinkTest, ReceiverOutOfBuffersDrops) {
  auto cb = config("b", linktest::kMacB);
  cb.frame_count = 3;
  make(config("a", linktest::kMacA), cb);
  EXPECT_EQ(send(*a_, 0, 5), 5u);
  EXPECT_EQ(b_->stats().rx_dropped, 2u);
  EXPECT_EQ(receive(*b_), (std::vector<uint32_t>{0, 1, 2}));
}

TEST_F(MemoryLinkTest, OversizedFrameIsDropped) {
  PacketQueue q;
  q.push_back(make_frame(a_->pool(), 1, 1500));  // 1542-byte frame > max_frame 1514
  EXPECT_EQ(a_->tx_burst(q), 1u);
  EXPECT_EQ(b_->stats().rx_dropped, 1u);
  EXPECT_TRUE(receive(*b_).empty());
}

std::vector<uint32_t> run_faults(const MemoryLinkFaults& f, uint32_t n, MemoryLinkFaultCounters* counters) {
  auto ca = config("a", linktest::kMacA);
  ca.tx_faults = f;
  ca.frame_count = 2 * n;
  auto cb = config("b", linktest::kMacB);
  cb.frame_count = 4 * n;
  cb.rx_queue_capacity = 4 * n;
  auto [a, b] = MemoryLink::make_pair(ca, cb);
  PacketQueue q;
  for (uint32_t i = 0; i < n; ++i) q.push_back(make_frame(a->pool(), i));
  EXPECT_EQ(a->tx_burst(q), n);
  a->advance(MemoryLink::TimePoint(std::chrono::hours(1)));
  PacketQueue r;
  b->rx_burst(r, 10 * n);
  std::vector<uint32_t> seqs;
  while (!r.empty()) seqs.push_back(seq_of(r.pop_front()));
  *counters = a->fault_counters();
  EXPECT_EQ(a->pool().in_use(), 0u);
  EXPECT_EQ(b->pool().in_use(), 0u);
  return seqs;
}

TEST(MemoryLinkFaults, DropIsDeterministicForASeed) {
  MemoryLinkFaults f;
  f.drop = 0.3;
  f.seed = 42;
  MemoryLinkFaultCounters c1, c2, c3;
  const auto s1 = run_faults(f, 200, &c1);
  const auto s2 = run_faults(f, 200, &c2);
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(c1, c2);
  EXPECT_EQ(s1.size() + c1.dropped, 200u);
  EXPECT_GT(c1.dropped, 30u);
  EXPECT_LT(c1.dropped, 90u);
  f.seed = 43;
  EXPECT_NE(run_faults(f, 200, &c3), s1);
  f.drop = 1;
  EXPECT_TRUE(run_faults(f, 20, &c3).empty());
  EXPECT_EQ(c3.dropped, 20u);
}

TEST(MemoryLinkFaults, Duplicate) {
  MemoryLinkFaults f;
  f.duplicate = 1;
  MemoryLinkFaultCounters c;
  EXPECT_EQ(run_faults(f, 3, &c), (std::vector<uint32_t>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(c.duplicated, 3u);
  f.duplicate = 0.5;
  f.seed = 7;
  MemoryLinkFaultCounters c2;
  const auto s = run_faults(f, 100, &c2);
  EXPECT_EQ(s.size(), 100 + c2.duplicated);
  EXPECT_EQ(run_faults(f, 100, &c), s);
}

TEST(MemoryLinkFaults, Reorder) {
  MemoryLinkFaults f;
  f.reorder = 1;
  MemoryLinkFaultCounters c;
  // Each held frame is passed by the next one; the last is released by time.
  EXPECT_EQ(run_faults(f, 5, &c), (std::vector<uint32_t>{1, 0, 3, 2, 4}));
  EXPECT_EQ(c.reordered, 3u);
  f.reorder = 0.3;
  f.seed = 9;
  const auto s = run_faults(f, 100, &c);
  ASSERT_EQ(s.size(), 100u);
  EXPECT_GT(c.reordered, 0u);
  EXPECT_FALSE(std::is_sorted(s.begin(), s.end()));
  auto sorted = s;
  std::sort(sorted.begin(), sorted.end());
  for (uint32_t i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_EQ(run_faults(f, 100, &c), s);
}

TEST(MemoryLinkFaults, CorruptFlipsExactlyOneByte) {
  MemoryLinkFaults f;
  f.corrupt = 1;
  f.seed = 3;
  auto [a, b] = MemoryLink::make_pair(config("a", linktest::kMacA), config("b", linktest::kMacB));
  a->set_tx_faults(f);
  std::vector<std::vector<std::byte>> sent, got;
  a->set_tap([&](TapDirection d, std::span<const std::byte> frame, MemoryLink::TimePoint) {
    if (d == TapDirection::kTx) sent.emplace_back(frame.begin(), frame.end());
  });
  b->set_tap([&](TapDirection d, std::span<const std::byte> frame, MemoryLink::TimePoint) {
    if (d == TapDirection::kRx) got.emplace_back(frame.begin(), frame.end());
  });
  PacketQueue q;
  for (uint32_t i = 0; i < 20; ++i) q.push_back(make_frame(a->pool(), i));
  ASSERT_EQ(a->tx_burst(q), 20u);
  PacketQueue r;
  ASSERT_EQ(b->rx_burst(r, 100), 20u);
  r.clear();
  ASSERT_EQ(sent.size(), 20u);
  ASSERT_EQ(got.size(), 20u);
  for (size_t i = 0; i < 20; ++i) {
    ASSERT_EQ(sent[i].size(), got[i].size());
    int diffs = 0;
    for (size_t j = 0; j < sent[i].size(); ++j) diffs += sent[i][j] != got[i][j];
    EXPECT_EQ(diffs, 1) << i;
  }
  EXPECT_EQ(a->fault_counters().corrupted, 20u);
  EXPECT_EQ(a->pool().in_use(), 0u);
  EXPECT_EQ(b->pool().in_use(), 0u);
}

TEST_F(MemoryLinkTest, DelayWaitsForTime) {
  MemoryLinkFaults f;
  f.delay = 1;
  f.delay_time = 5ms;
  a_->set_tx_faults(f);
  const MemoryLink::TimePoint t0(1s);
  a_->advance(t0);
  EXPECT_EQ(send(*a_, 0, 3), 3u);
  EXPECT_TRUE(receive(*b_).empty());
  EXPECT_EQ(b_->frames_held(), 3u);
  ASSERT_TRUE(a_->next_deadline());
  EXPECT_EQ(*a_->next_deadline(), t0 + 5ms);
  EXPECT_EQ(*b_->next_deadline(), t0 + 5ms);
  a_->advance(t0 + 4ms);
  EXPECT_TRUE(receive(*b_).empty());
  b_->advance(t0 + 5ms);  // either side moves the pair's time
  EXPECT_EQ(receive(*b_), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_FALSE(a_->next_deadline());
  EXPECT_EQ(a_->fault_counters().delayed, 3u);
}

TEST_F(MemoryLinkTest, DelayedFramesArePassedByUndelayedOnes) {
  MemoryLinkFaults f;
  f.delay = 1;
  a_->set_tx_faults(f);
  EXPECT_EQ(send(*a_, 0, 1), 1u);
  a_->set_tx_faults(MemoryLinkFaults{});
  EXPECT_EQ(send(*a_, 1, 1), 1u);
  EXPECT_EQ(receive(*b_), (std::vector<uint32_t>{1}));
  a_->advance(MemoryLink::TimePoint(1ms));
  PacketQueue q;
  ASSERT_EQ(b_->rx_burst(q, 8), 1u);
  // A received frame carries the time it was delivered.
  EXPECT_EQ(q.front_meta()->timestamp_ns, 1'000'000u);
}

TEST_F(MemoryLinkTest, TxChecksumCompletesPartialAndRxChecksumMarks) {
  auto ca = config("a", linktest::kMacA);
  ca.features.tx_checksum = true;
  auto cb = config("b", linktest::kMacB);
  cb.features.rx_checksum = true;
  make(ca, cb);
  PacketQueue q;
  q.push_back(make_frame(a_->pool(), 1, 33, /*partial=*/true));
  q.push_back(make_frame(a_->pool(), 2, 64, /*partial=*/false));
  Packet bad = make_frame(a_->pool(), 3, 10);
  bad.data()[linktest::kHeaders + 5] ^= std::byte{1};  // payload changed after the checksum
  q.push_back(std::move(bad));
  ASSERT_EQ(a_->tx_burst(q), 3u);
  PacketQueue r;
  ASSERT_EQ(b_->rx_burst(r, 8), 3u);
  for (int i = 0; i < 3; ++i) {
    Packet p = r.pop_front();
    auto ip = wire::ConstIpv4View::checked(p.bytes().subspan(14));
    ASSERT_TRUE(ip);
    auto udp = wire::ConstUdpView::checked(ip->payload());
    ASSERT_TRUE(udp);
    const bool good = udp->verify_checksum(ip->src(), ip->dst());
    EXPECT_EQ(good, i != 2) << i;
    EXPECT_EQ(p.meta().csum_state, good ? ChecksumState::kUnnecessary : ChecksumState::kNone) << i;
  }
}

TEST_F(MemoryLinkTest, TapSeesBothDirections) {
  int tx = 0, rx = 0;
  a_->set_tap([&](TapDirection d, std::span<const std::byte>, MemoryLink::TimePoint) {
    (d == TapDirection::kTx ? tx : rx)++;
  });
  send(*a_, 0, 4);
  send(*b_, 10, 2);
  receive(*a_);
  EXPECT_EQ(tx, 4);
  EXPECT_EQ(rx, 2);
}

TEST_F(MemoryLinkTest, PeerGoneMeansNoCarrier) {
  send(*a_, 0, 2);  // frames waiting in b's queue go back to b's pool with b
  b_.reset();
  EXPECT_EQ(a_->peer(), nullptr);
  EXPECT_EQ(send(*a_, 0, 3), 3u);
  EXPECT_EQ(a_->stats().tx_dropped, 3u);
  EXPECT_EQ(a_->pool().in_use(), 0u);
  a_.reset();
}

}  // namespace
}  // namespace xnet::stack
