// Route lookup with 10,000 routes (a /24 each, plus a default), the cost the
// forwarding path and every unconnected send pay.

#include <benchmark/benchmark.h>

#include "stack/core/route.h"

namespace xnet::stack {
namespace {

void BM_RouteLookup10k(benchmark::State& state) {
  RouteTable t;
  Route def;
  def.prefix = wire::Ipv4Prefix{wire::Ipv4Addr(), 0};
  def.ifindex = 1;
  def.gateway = wire::Ipv4Addr(192, 168, 0, 1);
  t.add(def);
  for (uint32_t i = 0; i < 10000; ++i) {
    Route r;
    r.prefix = wire::Ipv4Prefix{wire::Ipv4Addr((10u << 24) | (i << 8)), 24};
    r.ifindex = static_cast<uint16_t>(1 + i % 7);
    t.add(r);
  }
  uint32_t i = 0;
  for (auto _ : state) {
    // Mostly hits, one in eight falls through to the default route.
    const uint32_t a = (i & 7) == 7 ? 0x0b000001u + i : (10u << 24) | ((i % 10000) << 8) | 5;
    benchmark::DoNotOptimize(t.lookup(wire::Ipv4Addr(a)));
    ++i;
  }
}
BENCHMARK(BM_RouteLookup10k);

}  // namespace
}  // namespace xnet::stack

BENCHMARK_MAIN();
