// ROBUSTNESS case 52: seeded random mutations of valid frames through eth_rcv
// → ip_rcv → reassembly → UDP/ICMP. No crash (run it under --config=asan),
// reassembly memory back to 0 after its timeout, every frame back in its pool.

#include <gtest/gtest.h>

#include <random>

#include "stack/l2/eth_input.h"
#include "tests/stack/rx/rx_fixture.h"

namespace xnet::stack::rxtest {
namespace {

constexpr int kIterations = 20000;

Bytes ether(const Bytes& ip, bool broadcast = false) {
  Bytes f = broadcast ? bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) : bytes({0x02, 0, 0, 0, 0, 1});
  const Bytes src = bytes({0x02, 0, 0, 0, 0, 2, 0x08, 0x00});
  f.insert(f.end(), src.begin(), src.end());
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

std::vector<Bytes> corpus() {
  std::vector<Bytes> c;
  Ip udp;  // to a closed port: port unreachable, ARP for the peer
  udp.protocol = 17;
  udp.payload = bytes({0x30, 0x39, 0x00, 0x35, 0, 16, 0, 0, 'h', 'e', 'l', 'l', 'o', '!', '!', '!'});
  c.push_back(ether(build(udp)));
  Ip echo;  // ICMP echo request
  echo.protocol = 1;
  echo.payload = bytes({8, 0, 0xf7, 0xfe, 0, 1, 0, 0});
  c.push_back(ether(build(echo)));
  Ip opts = udp;
  opts.options = bytes({7, 7, 4, 0, 0, 0, 0, 1, 68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  c.push_back(ether(build(opts)));
  Ip bcast = udp;
  bcast.dst = Ipv4Addr(10, 0, 0, 255);
  c.push_back(ether(build(bcast), true));
  const Bytes data = pattern(2400);
  for (uint32_t o = 0; o < data.size(); o += 800) {
    Ip f;
    f.protocol = 17;
    f.id = 0x99;
    f.frag_offset = static_cast<uint16_t>(o);
    f.mf = o + 800 < data.size();
    f.payload.assign(data.begin() + o, data.begin() + o + 800);
    c.push_back(ether(build(f)));
  }
  Ip unknown = udp;
  unknown.protocol = kProtoNone;
  c.push_back(ether(build(unknown)));
  return c;
}

TEST(RxFuzz, MutatedFramesNeverCrashAndFramesAllReturn) {
  support::TapLink link(support::mac(1), 8192);
  {
    StackConfig cfg;
    cfg.seed = 11;
    cfg.ip_forward = true;  // exercise ip_forward / ip_error too
    Stack stack(cfg);
    const uint16_t ifindex = stack.add_interface(link);
    TimePoint now = TimePoint{} + std::chrono::hours(1);
    ASSERT_TRUE(stack.add_address(ifindex, {Ipv4Addr(10, 0, 0, 1), 24}, now).ok());
    const std::vector<Bytes> seeds = corpus();
    std::mt19937_64 rng(0x5eed);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };

    for (int it = 0; it < kIterations; ++it) {
      Bytes f = seeds[pick(seeds.size())];
      switch (pick(6)) {
        case 0:  // flip bytes in the headers
          for (size_t k = 1 + pick(4); k > 0; --k) f[14 + pick(std::min<size_t>(f.size() - 14, 48))] ^= std::byte(1 + pick(255));
          break;
        case 1:  // anywhere
          for (size_t k = 1 + pick(8); k > 0; --k) f[pick(f.size())] = std::byte(pick(256));
          break;
        case 2:  // truncate
          f.resize(pick(f.size() + 1));
          break;
        case 3:  // grow
          f.resize(std::min<size_t>(f.size() + pick(200), 1514), std::byte(pick(256)));
          break;
        case 4: {  // a random fragment geometry, checksum repaired
          if (f.size() < 34) break;
          const uint16_t frag = static_cast<uint16_t>(rng());
          f[20] = std::byte(frag >> 8);
          f[21] = std::byte(frag);
          f[18] = std::byte(pick(4));  // a few IDs only, so queues meet
          f[24] = f[25] = std::byte{0};
          const size_t hl = (std::to_integer<size_t>(f[14]) & 0xf) * 4;
          if (hl >= 20 && 14 + hl <= f.size()) {
            const uint16_t c = ref_checksum(f.data() + 14, hl);
            f[24] = std::byte(c >> 8);
            f[25] = std::byte(c);
          }
          break;
        }
        default:
          break;  // unchanged
      }
      Packet p = Packet::allocate(link.pool(), kDefaultHeadroom);
      ASSERT_TRUE(p.valid()) << "pool exhausted at iteration " << it;
      std::copy(f.begin(), f.end(), p.put(static_cast<uint16_t>(f.size())));
      eth_rcv(stack, ifindex, std::move(p), now);
      if (it % 64 == 0) {
        now += std::chrono::milliseconds(500);
        stack.run_timers(now);
        stack.flush_tx();
      }
    }
    now += std::chrono::seconds(120);
    stack.run_timers(now);
    now += std::chrono::seconds(120);
    stack.run_timers(now);
    stack.flush_tx();
    EXPECT_EQ(stack.reassembly().mem(), 0u);
    EXPECT_EQ(stack.reassembly().queue_count(), 0u);
    EXPECT_LE(stack.stats().ip.InReceives, static_cast<uint64_t>(kIterations));
    EXPECT_GT(stack.stats().ip.InDelivers, 0u);
    EXPECT_GT(stack.stats().ip.ReasmOKs + stack.stats().ip.ReasmFails, 0u);
  }
  EXPECT_EQ(link.pool().in_use(), 0u);
}

}  // namespace
}  // namespace xnet::stack::rxtest
