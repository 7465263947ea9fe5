#include "benchmarks/net/xnet_side.h"

#include <fmt/format.h>

#include <thread>

#include "runtime/cancellation.h"
#include "runtime/runtime.h"
#include "runtime/spawn.h"
#include "xdp/host/xdp_host.h"

namespace xnet::bench {
namespace {

rt::Task<void> flag_when_done(rt::Task<void> t, bool* done) {
  try {
    co_await std::move(t);
  } catch (const std::exception& e) {
    fmt::print(stderr, "netbench: shard task failed: {}\n", e.what());
  }
  *done = true;
}

// XdpHost::frames_idle for one shard (callable from the shard's thread).
uint32_t frames_out_of_place(xdp::XdpShard& s) {
  const xdp::FrameCounts c = s.link->frame_counts();
  uint32_t out = c.stack + c.tx + c.completion;
  if (!c.adds_up()) out += 1;
  const uint32_t in_use = s.link->pool().in_use();
  const uint32_t held = s.link->frames_held();
  if (in_use > held) out = std::max(out, in_use - held);
  return out;
}

SideDrops read_drops(xdp::XdpShard& s) {
  SideDrops d;
  if (auto st = s.link->xsk_statistics()) {
    d.xsk_rx_dropped = st.value().rx_dropped;
    d.xsk_rx_ring_full = st.value().rx_ring_full;
    d.xsk_fill_ring_empty = st.value().rx_fill_ring_empty_descs;
    d.xsk_tx_invalid = st.value().tx_invalid_descs;
  }
  d.link_rx_dropped = s.link->stats().rx_dropped;
  d.link_tx_dropped = s.link->stats().tx_dropped;
  const stack::Stats& st = s.stack->stats();
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

Endpoint endpoint(const std::string& addr, int port) {
  return Endpoint{*wire::Ipv4Addr::parse(addr), static_cast<uint16_t>(port)};
}

void XnetSide::stop() {
  stop_ = true;
  for (auto& r : reactors_) {
    if (rt::Reactor* p = r.load()) p->wake();
  }
}

void XnetSide::run(const XnetSideConfig& config, PeerSync& sync, const MakeTask& make) {
  xdp::XdpHostConfig hc;
  hc.ifname = config.ifname;
  auto prefix = xdp::parse_host_address(config.address);
  if (!prefix) {
    finished_ = true;
    return sync.fail(prefix.message());
  }
  hc.address = prefix.value();
  hc.queues = config.queues;
  const Tuning& tu = config.tuning;
  hc.link.batch = tu.batch;
  hc.link.umem.frame_count = tu.frames;
  hc.link.xsk.rx_size = hc.link.xsk.tx_size = hc.link.xsk.fill_size = hc.link.xsk.comp_size = tu.ring_size;
  hc.link.xsk.busy_poll = config.busy && tu.xsk_busy_poll;
  auto host = xdp::XdpHost::open(hc, Clock::now());
  if (!host) {
    finished_ = true;
    return sync.fail(fmt::format("xnet on {}: {}", config.ifname, host.message()));
  }
  if (config.after_open) config.after_open();

  const unsigned n = static_cast<unsigned>(host.value()->shard_count());
  expected_ = n;
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i) {
    const int cpu = i < config.cpus.size() ? config.cpus[i] : -1;
    threads.emplace_back([this, i, cpu, &host, &config, &make] {
      pin_self(cpu);
      drive(i, &host.value()->shard(i), config, make);
    });
  }
  if (!config.cpus.empty()) pin_self(config.cpus[0]);
  drive(0, &host.value()->shard(0), config, make);
  for (std::thread& t : threads) t.join();
  frames_idle_ = frames_out_.load() == 0;
  (void)host.value()->close();
  finished_ = true;
}

void XnetSide::stop_and_wait() {
  while (!finished_.load()) {
    stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void XnetSide::drive(unsigned shard, void* xdp_shard, const XnetSideConfig& config, const MakeTask& make) {
  auto& xs = *static_cast<xdp::XdpShard*>(xdp_shard);
  rt::ReactorOptions ro;
  ro.mode = config.busy ? rt::PollMode::kBusy : rt::PollMode::kIdle;
  ro.yield_when_idle = config.yield_when_idle;
  ro.idle_spin = rt::RuntimeOptions{}.idle_spin;  // the product's default
  rt::Reactor reactor(ro);
  const double cpu0 = thread_cpu_seconds();
  {
    StackDriver driver(reactor, *xs.stack);
    rt::CancellationSource cancel;
    bool done = false;
    rt::Task<void> task = flag_when_done(make(shard, driver), &done);
    task.set_cancellation_token(cancel.token());
    rt::spawn(reactor, std::move(task));
    reactors_[shard] = &reactor;
    if (++started_ == expected_) running_ = true;
    while (!done) {
      if ((stop_.load(std::memory_order_relaxed) || stopping()) && !cancel.is_cancellation_requested()) cancel.cancel();
      reactor.run_once(true);
    }
    reactors_[shard] = nullptr;
    // Let in-flight transmits complete and the fill ring settle.
    const auto end = Clock::now() + std::chrono::milliseconds(20);
    while (Clock::now() < end) reactor.run_once(false);
    frames_out_ += frames_out_of_place(xs);
    shard_drops_[shard] = read_drops(xs);
  }
  shard_cpu_[shard] = thread_cpu_seconds() - cpu0;
}

}  // namespace xnet::bench
