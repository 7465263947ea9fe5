// Reassembly end to end, under faults: stack A sends fragmented UDP datagrams
// (the send path's ip_fragment) to stack B over a MemoryLink pair that drops,
// duplicates, reorders and corrupts A's frames. Whatever B's socket receives
// is byte-identical to what A sent; reassembly memory returns to 0 after the
// timeout; every frame returns to its pool.

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "stack/links/memory_link.h"
#include "stack/ipv4/ip_fragment.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"

namespace xnet::stack {
namespace {

using wire::Ipv4Addr;
using Bytes = std::vector<std::byte>;

Bytes datagram(uint32_t seq, size_t n) {
  Bytes b(std::max<size_t>(n, 4));
  for (size_t i = 0; i < b.size(); ++i) b[i] = std::byte(static_cast<uint8_t>(seq * 131 + i * 13 + (i >> 7)));
  for (int k = 0; k < 4; ++k) b[k] = std::byte(static_cast<uint8_t>(seq >> (8 * k)));
  return b;
}

TEST(ReassemblyFaults, WhatArrivesIsExactAndEverythingReturns) {
  MemoryLinkConfig ca, cb;
  ca.name = "a";
  cb.name = "b";
  ca.mac = wire::MacAddr({0x02, 0, 0, 0, 0, 0x0a});
  cb.mac = wire::MacAddr({0x02, 0, 0, 0, 0, 0x0b});
  ca.frame_count = cb.frame_count = 2048;
  ca.rx_queue_capacity = cb.rx_queue_capacity = 1024;
  // Named, not a structured binding: lambdas below capture them (clang 14
  // cannot capture structured bindings).
  auto links = MemoryLink::make_pair(ca, cb);
  auto& la = links.first;
  auto& lb = links.second;
  size_t received = 0, sent = 0;
  {
    StackConfig cfg;
    cfg.seed = 3;
    Stack a(cfg);
    cfg.seed = 4;
    Stack b(cfg);
    TimePoint now = TimePoint{} + std::chrono::hours(1);
    const uint16_t ia = a.add_interface(*la), ib = b.add_interface(*lb);
    ASSERT_TRUE(a.add_address(ia, {Ipv4Addr(10, 0, 0, 1), 24}, now).ok());
    ASSERT_TRUE(b.add_address(ib, {Ipv4Addr(10, 0, 0, 2), 24}, now).ok());
    UdpSock* tx = a.udp().open();
    UdpSock* rx = b.udp().open();
    ASSERT_TRUE(b.udp().bind(*rx, Ipv4Addr(), 9000).ok());
    const SockAddrIn dest{kAfInet, {Ipv4Addr(10, 0, 0, 2), 9000}};

    auto pump = [&](int rounds) {
      for (int r = 0; r < rounds; ++r) {
        now += std::chrono::milliseconds(1);
        la->advance(now);
        a.poll(now);
        b.poll(now);
      }
    };
    std::map<uint32_t, Bytes> expected;
    Bytes buf(70000);
    auto drain = [&]() {
      for (;;) {
        auto r = udp_recvmsg(b, *rx, buf);
        if (!r.ok()) break;
        ASSERT_GE(r.value().copied, 4u);
        uint32_t seq = 0;
        for (int k = 0; k < 4; ++k) seq |= std::to_integer<uint32_t>(buf[k]) << (8 * k);
        auto it = expected.find(seq);
        ASSERT_NE(it, expected.end()) << "datagram never sent: " << seq;
        ASSERT_EQ(r.value().size, it->second.size());
        EXPECT_TRUE(std::equal(it->second.begin(), it->second.end(), buf.begin())) << seq;
        ++received;
      }
    };

    // Resolve B first, without faults.
    expected[0] = datagram(0, 100);
    ASSERT_TRUE(udp_sendmsg(a, *tx, expected[0], &dest, {}, now).ok());
    pump(20);
    drain();
    ASSERT_EQ(received, 1u);

    MemoryLinkFaults f;
    f.drop = 0.03;
    f.duplicate = 0.05;
    f.reorder = 0.10;
    f.corrupt = 0.02;
    f.seed = 99;
    la->set_tx_faults(f);
    std::mt19937 rng(17);
    for (uint32_t seq = 1; seq <= 300; ++seq) {
      const size_t n = 1 + rng() % 20000;
      expected[seq] = datagram(seq, n);
      auto r = udp_sendmsg(a, *tx, expected[seq], &dest, {}, now);
      ASSERT_TRUE(r.ok()) << r.error().message();
      ++sent;
      pump(3);
      drain();
    }
    pump(10);
    drain();
    // Queues of damaged datagrams go at the timeout (ICMP 11/1 back to A).
    now += std::chrono::seconds(31);
    la->advance(now);
    a.poll(now);
    b.poll(now);
    pump(10);
    EXPECT_EQ(b.reassembly().mem(), 0u);
    EXPECT_EQ(b.reassembly().queue_count(), 0u);
    EXPECT_GT(received, sent / 2);
    EXPECT_GT(b.stats().ip.ReasmOKs, 0u);
    RecordProperty("received", static_cast<int>(received));
    a.udp().close(tx);
    b.udp().close(rx);
    pump(5);
  }
  EXPECT_EQ(la->pool().in_use(), la->frames_held());
  EXPECT_EQ(lb->pool().in_use(), lb->frames_held());
}

}  // namespace
}  // namespace xnet::stack
