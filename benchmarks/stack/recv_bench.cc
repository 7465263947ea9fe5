// The whole receive side of one 64-byte UDP datagram as a service sees it,
// warm caches, one thread: a received frame → eth_rcv → ... → the socket's
// queue → UdpSocket::try_recv_batch hands it over as a Datagram → the
// application drops it and the frame goes back to its pool. Bursts of 64,
// the size of a link's receive batch and of netbench's recv_batch. What
// netbench's throughput receiver spends per datagram (rx_ns/dg) beyond this
// is cache misses, sleeping and waking, and the link.
//   bazel run --config=opt //benchmarks/stack:recv_bench

#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <memory>

#include "runtime/reactor.h"
#include "stack/api/stack_driver.h"
#include "stack/api/udp_socket.h"
#include "stack/core/stack.h"
#include "stack/l2/eth_input.h"
#include "stack/links/memory_link.h"
#include "tests/stack/support/frames.h"

namespace xnet {
namespace {

using stack::MemoryLink;
using stack::Packet;

constexpr size_t kBurst = 64;

void BM_ReceiveToApplication64(benchmark::State& state) {
  stack::MemoryLinkConfig ca, cb;
  ca.frame_count = 1024;
  cb.frame_count = 1024;
  cb.mac = wire::MacAddr({2, 0, 0, 0, 0, 2});
  auto [la, lb] = MemoryLink::make_pair(ca, cb);
  rt::Reactor reactor;
  const auto t = rt::Reactor::now();
  auto st = std::make_unique<stack::Stack>();
  const uint16_t ifindex = st->add_interface(*lb);
  (void)st->add_address(ifindex, wire::Ipv4Prefix{wire::Ipv4Addr(10, 0, 0, 2), 24}, t);
  StackDriver driver(reactor, *st);
  auto sock = UdpSocket::open(driver);
  if (!sock || !sock->bind({wire::Ipv4Addr(), 9000})) {
    state.SkipWithError("cannot bind");
    return;
  }

  const auto payload = stack::support::pattern(64);
  const auto udp = stack::support::udp(wire::Ipv4Addr(10, 0, 0, 1), wire::Ipv4Addr(10, 0, 0, 2), 5000, 9000, payload);
  stack::support::Ipv4Fields f;
  f.src = wire::Ipv4Addr(10, 0, 0, 1);
  f.dst = wire::Ipv4Addr(10, 0, 0, 2);
  f.protocol = 17;
  const auto frame = stack::support::eth(cb.mac, wire::MacAddr({2, 0, 0, 0, 0, 1}), 0x0800, stack::support::ipv4(f, udp));

  stack::FramePool& pool = lb->pool();
  std::array<Datagram, kBurst> batch;
  size_t received = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kBurst; ++i) {
      Packet p = Packet::allocate(pool, 64);
      std::memcpy(p.put(static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
      stack::eth_rcv(*st, ifindex, std::move(p), t);
    }
    auto n = sock->try_recv_batch(batch);
    if (!n) {
      state.SkipWithError("nothing received");
      return;
    }
    received += *n;
    for (size_t i = 0; i < *n; ++i) {
      benchmark::DoNotOptimize(batch[i].front().data());
      batch[i].reset();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(received));
  state.counters["ns_per_datagram"] =
      benchmark::Counter(static_cast<double>(received), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ReceiveToApplication64);

}  // namespace
}  // namespace xnet

BENCHMARK_MAIN();
