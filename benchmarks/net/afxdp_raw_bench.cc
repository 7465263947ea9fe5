// afxdp-raw: the independent raw AF_XDP reference (benchmarks/afxdp_ref: its
// own redirect program, libxdp rings, one UMEM; nothing of xnet's) run in the
// same topology, on the same cores, as every other row:
//  - latency: busy-spinning pinger in A, in-place reflector in B;
//  - throughput: txonly in A, rxdrop in B sleeping in poll() (a receiver
//    spinning on the core of the veth's NAPI kthread starves it);
//  - gso: txonly 1400-byte frames to the kernel's recvmmsg receiver in B.
// Frames carry complete UDP checksums.

#include <fmt/format.h>

#include "benchmarks/afxdp_ref/afxdp_ref.h"
#include "benchmarks/net/scenario_runner.h"

namespace xnet::bench {
namespace {

afxdp_ref::Config ref_config(const std::string& ifname, const Tuning& tu) {
  afxdp_ref::Config c;
  c.ifname = ifname;
  c.ring_size = tu.ring_size;
  c.frames = tu.frames;
  c.batch = tu.batch;
  return c;
}

std::unique_ptr<afxdp_ref::Socket> open_ref(const std::string& ifname, const Tuning& tu, PeerSync& sync) {
  std::string err;
  auto s = afxdp_ref::Socket::open(ref_config(ifname, tu), &err);
  if (!s) sync.fail(fmt::format("afxdp-raw on {}: {}", ifname, err));
  return s;
}

// Stops the loop of `flag` when Ctrl-C is pressed as well.
bool stop_now(const std::atomic<bool>& flag) { return flag.load(std::memory_order_relaxed) || stopping(); }

struct StopFlag {
  std::atomic<bool> stop{false};
  std::thread watcher;
  // Mirrors stopping() and `done` into `stop`; ends when `stop` is set.
  void watch(const std::atomic<bool>& done) {
    watcher = std::thread([this, &done] {
      while (!stop.load(std::memory_order_relaxed) && !stop_now(done)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      stop = true;
    });
  }
  ~StopFlag() {
    stop = true;
    if (watcher.joinable()) watcher.join();
  }
};

}  // namespace

Measurement raw_latency(Topology& t, const Options& o, size_t size) {
  const bool napi = o.tuning.threaded_napi_latency;
  Measurement m = measurement(
      "latency", "afxdp-raw", size,
      fmt::format("independent reference (benchmarks/afxdp_ref): pinger on cpu {} (ns A), in-place reflector "
                  "on cpu {} (ns B), both spinning, NAPI {}",
                  o.cpu_a, o.cpu_b, napi ? "threaded" : "softirq"));
  const PingPlan plan = ping_plan(o, size);
  LatencyTally tally;
  PeerSteps steps;
  steps.passive = [&](PeerSync& sync) {
    auto s = open_ref(t.if_b(), o.tuning, sync);
    if (!s) return;
    threaded_napi(t, o, napi, o.cpu_b);
    sync.ready = true;
    StopFlag sf;
    sf.watch(sync.done);
    afxdp_ref::run_reflector(*s, sf.stop);
  };
  steps.active = [&](PeerSync& sync) {
    auto s = open_ref(t.if_a(), o.tuning, sync);
    if (!s) return;
    threaded_napi(t, o, napi, o.cpu_a);
    afxdp_ref::Flow flow{t.mac_a(), t.mac_b(), t.xnet_a(), t.xnet_b(), 40000, kBasePort + 20, size};
    afxdp_ref::PingOptions po;
    po.warmup = plan.warmup;
    po.count = plan.count;
    po.max_seconds = plan.max_seconds;
    StopFlag sf;
    std::atomic<bool> never{false};
    sf.watch(never);
    const afxdp_ref::PingResult res = afxdp_ref::run_pinger(*s, flow, po, sf.stop);
    for (uint64_t ns : res.rtt_ns) tally.hist.record(ns);
    tally.lost = res.lost;
  };
  if (run_peers(t, o, steps, m)) tally.report(m);
  return m;
}

namespace {

// The active peer of a reference rate run: txonly in A.
std::function<void(PeerSync&)> ref_sender(Topology& t, const Options& o, afxdp_ref::Flow flow, double seconds,
                                          bool napi, RateTally& tally) {
  return [&t, &o, flow, seconds, napi, &tally](PeerSync& sync) {
    auto s = open_ref(t.if_a(), o.tuning, sync);
    if (!s) return;
    threaded_napi(t, o, napi, o.cpu_b);
    StopFlag sf;
    std::atomic<bool> never{false};
    sf.watch(never);
    const afxdp_ref::TxResult out = afxdp_ref::run_txonly(*s, flow, seconds, sf.stop);
    tally.sent = out.sent;
    tally.seconds = out.seconds;
  };
}

}  // namespace

Measurement raw_throughput(Topology& t, const Options& o, size_t size, double seconds) {
  const bool napi = o.tuning.threaded_napi_throughput;
  const int napi_cpu = o.tuning.napi_cpu >= 0 ? o.tuning.napi_cpu : o.cpu_b;
  Measurement m = measurement(
      "throughput", "afxdp-raw", size,
      fmt::format("independent reference: txonly (prebuilt frames, batches of {}) on cpu {}, rxdrop sleeping in "
                  "poll() on cpu {}, NAPI {}",
                  o.tuning.batch, o.cpu_a, o.cpu_b,
                  napi ? fmt::format("threaded on cpu {}", napi_cpu) : std::string("softirq")));
  RateTally tally;
  PeerSteps steps;
  steps.passive = [&](PeerSync& sync) {
    auto s = open_ref(t.if_b(), o.tuning, sync);
    if (!s) return;
    threaded_napi(t, o, napi, o.cpu_b);
    sync.ready = true;
    // Stops 200 ms after the sender, to count what was in flight.
    std::atomic<bool> stop{false};
    std::thread timer([&] {
      DrainAfterDone drain;
      while (!drain.over(sync)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      stop = true;
    });
    afxdp_ref::run_rxdrop(*s, false, stop, &tally.received);
    timer.join();
  };
  steps.active =
      ref_sender(t, o, {t.mac_a(), t.mac_b(), t.xnet_a(), t.xnet_b(), 40001, kBasePort + 21, size}, seconds, napi, tally);
  const Topology::DevDrops before = t.dev_drops();
  if (run_peers(t, o, steps, m)) tally.report(m);
  // Where the lost ones went, as the xnet rows say it: the sender's veth
  // (the peer's NAPI ring full) or the receiver's (the redirect into the XSK
  // failed: fill ring empty or RX ring full).
  const Topology::DevDrops after = t.dev_drops();
  m.set("tx_dev_tx_dropped", static_cast<double>(after.a_tx - before.a_tx));
  m.set("rx_dev_rx_dropped", static_cast<double>(after.b_rx - before.b_rx));
  m.note += fmt::format("; drops at the sender's veth {}, at the receiver's (XDP redirect failed) {}",
                        after.a_tx - before.a_tx, after.b_rx - before.b_rx);
  return m;
}

// The limit of the gso scenario's path for anything that sends through
// AF_XDP (no GSO transmit there): prebuilt 1400-byte frames from xnet's
// kernel-subnet address to the same recvmmsg receiver the gso runs use.
Measurement raw_gso(Topology& t, const Options& o, double seconds) {
  Measurement m = measurement(
      "gso", "afxdp-raw", kGsoSegment,
      fmt::format("independent reference: txonly 1400-byte frames (batches of {}) on cpu {} to the kernel's "
                  "plain recvmmsg x64 spin on cpu {}: the per-frame limit under any AF_XDP sender's GSO",
                  o.tuning.batch, o.cpu_a, o.cpu_b));
  const uint16_t port = kBasePort + 22;
  RateTally tally;
  PeerSteps steps;
  steps.passive = kernel_receiver(t.kernel_b(), port, kGsoSegment, tally);
  steps.active = ref_sender(t, o,
                            {t.mac_a(), t.mac_b(), t.xnet_to_kernel_a(), t.kernel_b(), 40002, port, kGsoSegment},
                            seconds, o.tuning.threaded_napi_throughput, tally);
  if (run_peers(t, o, steps, m)) tally.report(m);
  return m;
}

}  // namespace xnet::bench
