// Cross-shard delivery (stack/api/shard_handoff.h) against local delivery, per
// received UDP datagram of 64 and 1472 bytes, one thread driving both
// "shards" (caches warm, no cross-core traffic: the cost of the handoff's own
// work, the copy into the owner's pool included; the cross-core part shows in
// netbench's client scaling row).
//   BM_DeliverLocal:  eth_rcv → ... → udp_rcv → the socket's queue, drained per 32.
//   BM_HandOver:      eth_rcv on shard 0 → lookup miss → ring → shard 1's
//                     poll copies and delivers → shard 0 frees the original.

#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <memory>

#include "runtime/reactor.h"
#include "stack/api/shard_handoff.h"
#include "stack/core/stack.h"
#include "stack/l2/eth_input.h"
#include "stack/links/memory_link.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_table.h"
#include "tests/stack/support/frames.h"

namespace xnet {
namespace {

using stack::MemoryLink;
using stack::Packet;

const wire::Ipv4Addr kPeer(10, 0, 0, 1);
const wire::Ipv4Addr kUs(10, 0, 0, 2);
const wire::MacAddr kUsMac({2, 0, 0, 0, 0, 2});

struct Shard {
  std::unique_ptr<MemoryLink> near, far;
  std::unique_ptr<stack::Stack> st;
  uint16_t ifindex = 0;
};

Shard make_shard(uint64_t seed) {
  stack::MemoryLinkConfig n, f;
  n.name = "eth0";
  n.mac = kUsMac;
  n.frame_count = 4096;
  f.frame_count = 64;
  auto [a, b] = MemoryLink::make_pair(n, f);
  Shard s{std::move(a), std::move(b), nullptr, 0};
  stack::StackConfig cfg;
  cfg.seed = seed;
  s.st = std::make_unique<stack::Stack>(cfg);
  s.ifindex = s.st->add_interface(*s.near);
  (void)s.st->add_address(s.ifindex, wire::Ipv4Prefix{kUs, 24}, std::chrono::steady_clock::now());
  return s;
}

stack::support::Bytes frame_of(size_t payload) {
  const auto udp = stack::support::udp(kPeer, kUs, 5000, 9000, stack::support::pattern(payload));
  return stack::support::eth(kUsMac, wire::MacAddr({2, 0, 0, 0, 0, 1}), stack::support::kTypeIpv4,
                             stack::support::ipv4({.src = kPeer, .dst = kUs}, udp));
}

void receive(Shard& s, const stack::support::Bytes& frame, std::chrono::steady_clock::time_point t) {
  Packet p = Packet::allocate(s.near->pool(), stack::kDefaultHeadroom);
  std::memcpy(p.put(static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
  stack::eth_rcv(*s.st, s.ifindex, std::move(p), t);
}

void drain(Shard& s, stack::UdpSock& sk) {
  while (stack::udp_recv_datagram(*s.st, sk).ok()) {
  }
}

void BM_DeliverLocal(benchmark::State& state) {
  Shard s = make_shard(1);
  stack::UdpSock* sk = s.st->udp().open();
  (void)s.st->udp().bind(*sk, wire::Ipv4Addr(), 9000);
  const auto frame = frame_of(static_cast<size_t>(state.range(0)));
  const auto t = std::chrono::steady_clock::now();
  uint32_t n = 0;
  for (auto _ : state) {
    receive(s, frame, t);
    if (++n % 32 == 0) drain(s, *sk);
  }
  state.counters["InDatagrams"] = static_cast<double>(s.st->stats().udp.InDatagrams);
  s.st->udp().close(sk);
}
BENCHMARK(BM_DeliverLocal)->Arg(64)->Arg(1472);

void BM_HandOver(benchmark::State& state) {
  rt::Reactor reactor;
  std::array<Shard, 2> sh = {make_shard(1), make_shard(2)};
  {
    HandoffHub hub({&reactor, &reactor});
    ShardHandoff h0(hub, 0, *sh[0].st), h1(hub, 1, *sh[1].st);
    stack::UdpSock* sk = sh[1].st->udp().open();
    (void)sh[1].st->udp().bind(*sk, wire::Ipv4Addr(), 9000);
    const auto frame = frame_of(static_cast<size_t>(state.range(0)));
    const auto t = std::chrono::steady_clock::now();
    uint32_t n = 0;
    for (auto _ : state) {
      receive(sh[0], frame, t);
      if (++n % 32 == 0) {
        h1.poll();
        drain(sh[1], *sk);
        h0.poll();
      }
    }
    h1.poll();
    h0.poll();
    state.counters["HandedOver"] = static_cast<double>(sh[0].st->stats().handoff.DatagramsOut);
    state.counters["RingFull"] = static_cast<double>(sh[0].st->stats().handoff.RingFull);
    sh[1].st->udp().close(sk);
    h0.stop_handing_over();
    h1.stop_handing_over();
  }
}
BENCHMARK(BM_HandOver)->Arg(64)->Arg(1472);

}  // namespace
}  // namespace xnet

BENCHMARK_MAIN();
