// The receive path per 64-byte UDP datagram, from a received frame to the
// socket's queue: eth_rcv → ip_rcv → ip_local_deliver → udp_rcv (checksum
// verified in software) → queued; the socket is drained every 32 datagrams
// (the drain, a zero-copy hand-over and frame release, is included).

#include <benchmark/benchmark.h>

#include <cstring>

#include "stack/l2/eth_input.h"
#include "stack/links/memory_link.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
#include "tests/stack/support/frames.h"

namespace xnet::stack {
namespace {

void BM_ReceiveUdp64(benchmark::State& state) {
  MemoryLinkConfig ca, cb;
  ca.frame_count = 1024;
  cb.frame_count = 1024;
  cb.mac = wire::MacAddr({0x02, 0, 0, 0, 0, 2});
  auto [la, lb] = MemoryLink::make_pair(ca, cb);
  Stack st;
  const auto t = std::chrono::steady_clock::now();
  const uint16_t ifindex = st.add_interface(*lb);
  (void)st.add_address(ifindex, wire::Ipv4Prefix{wire::Ipv4Addr(10, 0, 0, 2), 24}, t);
  UdpSock* sk = st.udp().open();
  (void)st.udp().bind(*sk, wire::Ipv4Addr(), 9000);

  const auto payload = support::pattern(64);
  const auto udp = support::udp(wire::Ipv4Addr(10, 0, 0, 1), wire::Ipv4Addr(10, 0, 0, 2), 5000, 9000, payload);
  support::Ipv4Fields f;
  f.src = wire::Ipv4Addr(10, 0, 0, 1);
  f.dst = wire::Ipv4Addr(10, 0, 0, 2);
  f.protocol = 17;
  const auto frame = support::eth(cb.mac, wire::MacAddr({0x02, 0, 0, 0, 0, 1}), 0x0800, support::ipv4(f, udp));

  FramePool& pool = lb->pool();
  uint32_t n = 0;
  for (auto _ : state) {
    Packet p = Packet::allocate(pool, 64);
    std::memcpy(p.put(static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
    eth_rcv(st, ifindex, std::move(p), t);
    if (++n % 32 == 0) {
      while (udp_recv_datagram(st, *sk).ok()) {
      }
    }
  }
  state.counters["InDatagrams"] = static_cast<double>(st.stats().udp.InDatagrams);
  st.udp().close(sk);
}
BENCHMARK(BM_ReceiveUdp64);

}  // namespace
}  // namespace xnet::stack

BENCHMARK_MAIN();
