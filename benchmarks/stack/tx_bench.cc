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

#include "stack/ipv4/cork.h"
#include "stack/core/hooks.h"
#include "stack/core/ip_ident.h"
#include "stack/ipv4/ipv4_output.h"
#include "stack/l2/neighbour_table.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_offload.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/udp.h"

namespace xnet::stack {
namespace {

CorkParams bench_params(FramePool& pool, uint32_t mtu) {
  CorkParams p;
  p.pool = &pool;
  p.fragsize = mtu;
  p.route_mtu = mtu;
  p.ip.saddr = wire::Ipv4Addr(10, 0, 0, 1);
  p.ip.daddr = wire::Ipv4Addr(10, 0, 0, 2);
  p.ip.protocol = static_cast<uint8_t>(wire::IpProtocol::kUdp);
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
    if (!ip_append_data(c, data, wire::kUdpHeaderLen, false)) state.SkipWithError("append");
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
    if (!ip_append_data(c, data, wire::kUdpHeaderLen, false)) state.SkipWithError("append");
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

// A Link that takes every frame and frees it at once (a device with an
// infinitely fast wire): what is left is the cost of the stack.
class DiscardLink final : public Link {
 public:
  explicit DiscardLink(bool tx_checksum) : pool_(2048, 4096), tx_checksum_(tx_checksum) {}
  size_t rx_burst(PacketQueue&, size_t) override { return 0; }
  size_t tx_burst(PacketQueue& q) override {
    const size_t n = q.size();
    frames_ += n;
    q.clear();
    return n;
  }
  FramePool& pool() override { return pool_; }
  uint32_t mtu() const override { return 1500; }
  wire::MacAddr mac() const override { return wire::MacAddr({2, 0, 0, 0, 0, 1}); }
  LinkFeatures features() const override {
    LinkFeatures f;
    f.tx_checksum = tx_checksum_;
    return f;
  }
  std::string name() const override { return "discard"; }
  uint64_t frames() const { return frames_; }

 private:
  FramePool pool_;
  bool tx_checksum_;
  uint64_t frames_ = 0;
};

// One stack on a DiscardLink; datagrams go to a unicast peer whose MAC the
// neighbour table knows (a discarding link never answers ARP), so the whole
// path runs: route, cork, UDP, ip_local_out, hooks, neighbour output, the
// interface queue and the link. `broadcast` sends to the subnet broadcast
// instead, which also loops a copy back to our own sockets (ip_mc_output).
struct SendBench {
  explicit SendBench(bool tx_checksum, bool broadcast = false) : link(tx_checksum) {
    StackConfig cfg;
    cfg.seed = 1;
    stack = std::make_unique<Stack>(cfg);
    const uint16_t ifx = stack->add_interface(link);
    (void)stack->add_address(ifx, wire::Ipv4Prefix{wire::Ipv4Addr(10, 0, 0, 1), 24}, now);
    stack->poll(now);
    sk = stack->udp().open();
    if (broadcast) {
      udp_set_broadcast(*sk, true);
      dest.to = {wire::Ipv4Addr(10, 0, 0, 255), 9};
    } else {
      (void)stack->neighbours().learn_from_peer(ifx, kPeer, wire::MacAddr({2, 0, 0, 0, 0, 2}), now);
      dest.to = {kPeer, 9};
    }
  }
  ~SendBench() { stack->udp().close(sk); }
  static constexpr wire::Ipv4Addr kPeer{10, 0, 0, 2};
  DiscardLink link;
  std::unique_ptr<Stack> stack;
  UdpSock* sk = nullptr;
  SockAddrIn dest;
  TimePoint now{};
};

// ns per datagram, udp_sendmsg → link (flushed every 32 sends, as a poll
// would), unconnected: the route and headers are made for every datagram.
// broadcast:1 adds the loopback copy to our own sockets.
void BM_Send(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  const bool hw = state.range(1) != 0;
  SendBench b(hw, state.range(2) != 0);
  std::vector<std::byte> data(size, std::byte{0x5a});
  uint64_t n = 0;
  for (auto _ : state) {
    auto r = udp_sendmsg(*b.stack, *b.sk, data, &b.dest, SendOptions{}, b.now);
    if (!r) state.SkipWithError(r.error().message().c_str());
    if ((++n & 31) == 0) b.stack->flush_tx();
  }
  b.stack->flush_tx();
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.SetBytesProcessed(static_cast<int64_t>(n * size));
}
BENCHMARK(BM_Send)
    ->Args({64, 0, 0})
    ->Args({1400, 0, 0})
    ->Args({64, 1, 0})
    ->Args({1400, 1, 0})
    ->Args({64, 0, 1})
    ->ArgNames({"bytes", "device_csum", "broadcast"});

// ns per datagram of a connected socket to a unicast peer whose MAC is known
// (the ping-pong's and the throughput sender's send): through the socket's
// prebuilt headers (header_cache:1) or the stages (header_cache:0).
void BM_SendConnected(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  SendBench b(state.range(1) != 0);
  b.stack->config().udp_header_cache = state.range(2) != 0;
  (void)b.stack->udp().connect(*b.sk, SendBench::kPeer, 9);
  std::vector<std::byte> data(size, std::byte{0x5a});
  uint64_t n = 0;
  for (auto _ : state) {
    auto r = udp_sendmsg(*b.stack, *b.sk, data, nullptr, SendOptions{}, b.now);
    if (!r) state.SkipWithError(r.error().message().c_str());
    if ((++n & 31) == 0) b.stack->flush_tx();
  }
  b.stack->flush_tx();
  state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK(BM_SendConnected)
    ->Args({64, 0, 1})
    ->Args({64, 0, 0})
    ->Args({1400, 0, 1})
    ->Args({1400, 0, 0})
    ->Args({64, 1, 1})
    ->ArgNames({"bytes", "device_csum", "header_cache"});

// One 64 KiB UDP_SEGMENT send (44 segments of 1472 bytes) to frames on the
// link: items are segments, so the time per item is ns per segment.
void BM_SendGso64k(benchmark::State& state) {
  const bool hw = state.range(0) != 0;
  SendBench b(hw);
  const uint16_t gso = 1472;
  std::vector<std::byte> data(65507 - 65507 % gso, std::byte{0x5a});
  SendOptions o;
  o.gso_size = gso;
  const uint64_t before = b.link.frames();
  for (auto _ : state) {
    auto r = udp_sendmsg(*b.stack, *b.sk, data, &b.dest, o, b.now);
    if (!r) state.SkipWithError(r.error().message().c_str());
    b.stack->flush_tx();
  }
  state.SetItemsProcessed(static_cast<int64_t>(b.link.frames() - before));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_SendGso64k)->Arg(0)->Arg(1)->ArgName("device_csum");

// A 65507-byte send fragmented at MTU 1500 (45 fragments), whole path.
void BM_SendFragmented65507(benchmark::State& state) {
  SendBench b(false);
  b.sk->tx.sndbuf->limit = 8u << 20;
  std::vector<std::byte> data(65507, std::byte{0x5a});
  const uint64_t before = b.link.frames();
  for (auto _ : state) {
    auto r = udp_sendmsg(*b.stack, *b.sk, data, &b.dest, SendOptions{}, b.now);
    if (!r) state.SkipWithError(r.error().message().c_str());
    b.stack->flush_tx();
  }
  state.SetItemsProcessed(static_cast<int64_t>(b.link.frames() - before));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_SendFragmented65507);

}  // namespace
}  // namespace xnet::stack
