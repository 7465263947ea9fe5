// Send-path benchmarks.
//
//   bazel run --config=opt //benchmarks/stack:tx_bench
//
// - BM_Stage_*: the stages alone (cork layout + fragmentation of a 65507-byte
//   datagram; cork layout + software GSO of a 64 KiB send), no Stack.
// - BM_Send*: udp_sendmsg through the whole output path (route, cork, UDP,
//   ip_local_out, hooks, neighbour) into a Link that discards, ns per datagram
//   (or per GSO segment), with hooks empty and with one accepting hook.

#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "stack/cork.h"
#include "stack/hdr_bytes.h"
#include "stack/ip_ident.h"
#include "stack/ipv4_output.h"

namespace xnet::stack {
namespace {

CorkParams bench_params(FramePool& pool, uint32_t mtu) {
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

void BM_Stage_Fragment65507(benchmark::State& state) {
  FramePool pool(2048, 256);
  IpIdentGenerator ids(1);
  std::vector<std::byte> data(65507, std::byte{0x5a});
  uint64_t frags = 0;
  for (auto _ : state) {
    Cork c;
    c.params = bench_params(pool, 1500);
    if (!ip_append_data(c, data, kUdpHeaderLen, false)) state.SkipWithError("append");
    PacketQueue dg = ip_make_datagram(c, ids);
    Packet head = dg.pop_front();
    ip_send_check(head, static_cast<uint16_t>(head.size() + dg.bytes()));
    dg.push_front(std::move(head));
    PacketQueue out;
    auto n = ip_fragment(dg, 1500, pool, kDefaultHeadroom, out);
    frags += n.ok() ? *n : 0;
    benchmark::DoNotOptimize(out.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(frags));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 65507);
  state.counters["frags/datagram"] = static_cast<double>(frags) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Stage_Fragment65507);

void BM_Stage_Gso64k(benchmark::State& state) {
  const bool device_checksum = state.range(0) != 0;
  FramePool pool(2048, 256);
  IpIdentGenerator ids(1);
  const uint16_t gso = 1472;
  std::vector<std::byte> data(65507 - 65507 % gso, std::byte{0x5a});
  uint64_t segs = 0;
  for (auto _ : state) {
    Cork c;
    c.params = bench_params(pool, 1500);
    c.params.gso_size = gso;
    c.params.can_offload = true;
    c.params.device_checksum = device_checksum;
    if (!ip_append_data(c, data, kUdpHeaderLen, false)) state.SkipWithError("append");
    PacketQueue dg = ip_make_datagram(c, ids);
    Packet head = dg.pop_front();
    head.meta().gso_size = gso;
    ip_send_check(head, static_cast<uint16_t>(head.size() + dg.bytes()));
    dg.push_front(std::move(head));
    PacketQueue out;
    udp_gso_segment(dg, device_checksum, out);
    segs += out.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(segs));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Stage_Gso64k)->Arg(0)->Arg(1)->ArgName("device_csum");

}  // namespace
}  // namespace xnet::stack
