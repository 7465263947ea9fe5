#include "benchmarks/net/xnet_side.h"

#include <fmt/format.h>

#include <thread>

#include "benchmarks/net/scenario_runner.h"
#include "host/service_host.h"
#include "runtime/runtime.h"
#include "xdp/host/xdp_host.h"

namespace xnet::bench {
namespace {

// XdpHost::frames_idle for one shard (callable from the shard's thread).
uint32_t frames_out_of_place(xdp::XdpLink& link) {
  const xdp::FrameCounts c = link.frame_counts();
  uint32_t out = c.stack + c.tx + c.completion;
  if (!c.adds_up()) out += 1;
  const uint32_t in_use = link.pool().in_use();
  const uint32_t held = link.frames_held();
  if (in_use > held) out = std::max(out, in_use - held);
  return out;
}

SideDrops read_drops(xdp::XdpLink& link, const stack::Stack& stack) {
  SideDrops d;
  if (auto st = link.xsk_statistics()) {
    d.xsk_rx_dropped = st.value().rx_dropped;
    d.xsk_rx_ring_full = st.value().rx_ring_full;
    d.xsk_fill_ring_empty = st.value().rx_fill_ring_empty_descs;
    d.xsk_tx_invalid = st.value().tx_invalid_descs;
  }
  d.link_rx_dropped = link.stats().rx_dropped;
  d.link_tx_dropped = link.stats().tx_dropped;
  const stack::Stats& st = stack.stats();
  d.udp_rcvbuf_errors = st.udp.RcvbufErrors;
  d.udp_in_errors = st.udp.InErrors - st.udp.RcvbufErrors;  // InErrors includes RcvbufErrors
  d.udp_sndbuf_errors = st.udp.SndbufErrors;
  d.udp_no_ports = st.udp.NoPorts;
  d.ip_in_discards = st.ip.InDiscards;
  d.ip_out_discards = st.ip.OutDiscards;
  for (size_t i = 0; i < st.drops.size(); ++i) {
    // Not datagram losses: an ignored duplicate fragment.
    if (static_cast<stack::DropReason>(i) != stack::DropReason::kFragDuplicate) d.stack_drops += st.drops[i];
  }
  return d;
}

}  // namespace

std::string SideDrops::describe() const {
  std::string out;
  for (const auto& [name, f] : kFields) {
    if (this->*f != 0) out += fmt::format("{}{}={}", out.empty() ? "" : " ", name, this->*f);
  }
  return out.empty() ? "none" : out;
}

SideDrops XnetSide::drops() const {
  SideDrops sum;
  for (const SideDrops& d : shard_drops_) sum += d;
  return sum;
}

XnetSideConfig side_config(const Options& o, const std::string& ifname, const std::string& addr, bool busy,
                           std::vector<int> cpus) {
  XnetSideConfig c;
  c.ifname = ifname;
  c.address = addr + "/24";
  c.busy = busy;
  c.cpus = std::move(cpus);
  c.tuning = o.tuning;
  return c;
}

std::function<void()> napi_hook(Topology& t, const Options& o, bool on, int default_cpu) {
  return [&t, &o, on, default_cpu] { threaded_napi(t, o, on, default_cpu); };
}

rt::Task<void> echo_task(StackDriver& d, int port, PeerSync& sync) {
  auto sock = UdpSocket::open(d);
  if (!sock || !sock->bind({Ipv4Addr(), static_cast<uint16_t>(port)})) {
    sync.fail(fmt::format("xnet echo cannot bind port {}", port));
    co_return;
  }
  sync.ready = true;
  std::array<Datagram, 32> batch;
  for (;;) {
    auto n = co_await sock->recv_batch(batch);
    if (!n) co_return;  // cancelled at the end of the run
    for (size_t i = 0; i < *n; ++i) {
      Datagram& dg = batch[i];
      // A reassembled datagram is a chain of frames: the whole of it goes back
      // (front() would be its first fragment's payload only).
      auto sent = dg.contiguous() ? sock->try_send_to(dg.source(), dg.front()) : sock->try_send_to(dg.source(), dg);
      if (!sent && sent.error() == std::errc::resource_unavailable_try_again) {
        if (dg.contiguous()) {
          (void)co_await sock->send_to(dg.source(), dg.front());
        } else {
          (void)co_await sock->send_to(dg.source(), dg);
        }
      }
      dg.reset();
    }
  }
}

Endpoint endpoint(const std::string& addr, int port) {
  return Endpoint{*wire::Ipv4Addr::parse(addr), static_cast<uint16_t>(port)};
}

void XnetSide::stop() { stop_ = true; }

void XnetSide::run(const XnetSideConfig& config, PeerSync& sync, const MakeTask& make) {
  auto prefix = xdp::parse_host_address(config.address);
  if (!prefix) {
    finished_ = true;
    return sync.fail(prefix.message());
  }
  // The product's composition: the same ServiceHost services run on (XdpHost,
  // rt::Runtime shards, ShardedStacks), only without its control channel and
  // signal handling (netbench has its own).
  ServiceOptions so;
  so.dev = config.ifname;
  so.addr = prefix.value();
  so.queues = config.queues;
  so.busy_poll = config.busy;
  so.idle_spin = config.idle_spin;
  so.sched_batch = config.sched_batch;
  so.cpus = config.cpus;
  const Tuning& tu = config.tuning;
  so.link.batch = tu.batch;
  so.link.umem.frame_count = tu.frames;
  so.link.umem.frame_size = tu.frame_size;
  so.link.xsk.rx_size = so.link.xsk.tx_size = so.link.xsk.fill_size = so.link.xsk.comp_size = tu.ring_size;
  so.link.xsk.busy_poll = config.busy && tu.xsk_busy_poll;
  so.control = false;
  so.handle_signals = false;
  so.advise = false;
  std::string err;
  auto host = ServiceHost::open(so, &err);
  if (!host) {
    finished_ = true;
    return sync.fail(fmt::format("xnet on {}: {}", config.ifname, err));
  }
  if (config.after_open) config.after_open();

  const unsigned n = host->shard_count();
  std::vector<double> cpu0(n);
  for (unsigned i = 0; i < n; ++i) cpu0[i] = host->runtime().run_on(i, [] { return thread_cpu_seconds(); });
  std::atomic<unsigned> done{0};
  host->serve([&make, &done](StackDriver& driver) -> rt::Task<void> {
    try {
      co_await make(rt::this_shard(), driver);
    } catch (const std::exception& e) {
      fmt::print(stderr, "netbench: shard task failed: {}\n", e.what());
    }
    done.fetch_add(1);
  });
  running_ = true;
  (void)host->run(std::nullopt, [&] { return done.load() == n || stop_.load() || stopping(); });
  // Let in-flight transmits complete and the fill ring settle, then read
  // each shard's accounting before the services are cancelled and the
  // shards torn down.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  uint32_t out = 0;
  stack::Stats sum;
  for (unsigned i = 0; i < n; ++i) {
    host->runtime().run_on(i, [&, i] {
      xdp::XdpLink& link = host->link(i);
      out += frames_out_of_place(link);
      shard_drops_[i] = read_drops(link, host->stacks().driver(i).stack());
      sum += host->stacks().driver(i).stack().stats();
      shard_cpu_[i] = thread_cpu_seconds() - cpu0[i];
    });
  }
  frames_out_ = out;
  frames_idle_ = out == 0;
  handoff_ = sum.handoff;
  (void)host->stop();
  finished_ = true;
}

void XnetSide::stop_and_wait() {
  while (!finished_.load()) {
    stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace xnet::bench
