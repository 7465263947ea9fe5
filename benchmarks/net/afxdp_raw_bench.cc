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
#include "benchmarks/net/scenarios.h"

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

// Threaded NAPI with the kthreads on `cpu` (or --napi-cpu). Through the
// topology, which writes sysfs inside each namespace.
void ref_napi(Topology& t, const Options& o, bool on, int cpu) {
  if (!on) return;
  t.set_threaded_napi(true);
  t.pin_napi_threads(o.tuning.napi_cpu >= 0 ? o.tuning.napi_cpu : cpu);
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
  Measurement m;
  m.scenario = "latency";
  m.impl = "afxdp-raw";
  m.size = size;
  const bool napi = o.tuning.threaded_napi_latency;
  m.note = fmt::format("independent reference (benchmarks/afxdp_ref): pinger on cpu {} (ns A), in-place reflector "
                       "on cpu {} (ns B), both spinning, NAPI {}",
                       o.cpu_a, o.cpu_b, napi ? "threaded" : "softirq");
  const PingPlan plan = ping_plan(o, size);
  PeerSync sync;
  std::atomic<bool> refl_stop{false};
  afxdp_ref::PingResult res;
  std::thread refl = spawn_in_netns(t.ns_b(), o.cpu_b, [&] {
    auto s = open_ref(t.if_b(), o.tuning, sync);
    if (!s) return;
    ref_napi(t, o, napi, o.cpu_b);
    sync.ready = true;
    StopFlag sf;
    sf.watch(refl_stop);
    afxdp_ref::run_reflector(*s, sf.stop);
  });
  std::thread pinger = spawn_in_netns(t.ns_a(), o.cpu_a, [&] {
    if (!sync.wait_ready()) return;
    auto s = open_ref(t.if_a(), o.tuning, sync);
    if (!s) return;
    ref_napi(t, o, napi, o.cpu_a);
    afxdp_ref::Flow flow{t.mac_a(), t.mac_b(), t.xnet_a(), t.xnet_b(), 40000, kBasePort + 20, size};
    afxdp_ref::PingOptions po;
    po.warmup = plan.warmup;
    po.count = plan.count;
    po.max_seconds = plan.max_seconds;
    StopFlag sf;
    std::atomic<bool> never{false};
    sf.watch(never);
    res = afxdp_ref::run_pinger(*s, flow, po, sf.stop);
  });
  pinger.join();
  refl_stop = true;
  refl.join();
  if (mark_failed(m, sync)) return m;
  LatencyHistogram hist;
  for (uint64_t ns : res.rtt_ns) hist.record(ns);
  set_latency_figures(m, hist);
  m.set("lost", static_cast<double>(res.lost));
  return m;
}

namespace {

// txonly in A once the receiver is ready; sets `done` last.
std::thread start_ref_sender(Topology& t, const Options& o, PeerSync& sync, afxdp_ref::Flow flow, double seconds,
                             bool napi, afxdp_ref::TxResult& out, std::atomic<bool>& done) {
  return spawn_in_netns(t.ns_a(), o.cpu_a, [&t, &o, &sync, flow, seconds, napi, &out, &done] {
    if (sync.wait_ready()) {
      if (auto s = open_ref(t.if_a(), o.tuning, sync)) {
        ref_napi(t, o, napi, o.cpu_b);
        StopFlag sf;
        std::atomic<bool> never{false};
        sf.watch(never);
        out = afxdp_ref::run_txonly(*s, flow, seconds, sf.stop);
      }
    }
    done = true;
  });
}

}  // namespace

Measurement raw_throughput(Topology& t, const Options& o, size_t size, double seconds) {
  Measurement m;
  m.scenario = "throughput";
  m.impl = "afxdp-raw";
  m.size = size;
  const bool napi = o.tuning.threaded_napi_throughput;
  const int napi_cpu = o.tuning.napi_cpu >= 0 ? o.tuning.napi_cpu : o.cpu_b;
  m.note = fmt::format("independent reference: txonly (prebuilt frames, batches of {}) on cpu {}, rxdrop sleeping in "
                       "poll() on cpu {}, NAPI {}",
                       o.tuning.batch, o.cpu_a, o.cpu_b,
                       napi ? fmt::format("threaded on cpu {}", napi_cpu) : std::string("softirq"));
  PeerSync sync;
  std::atomic<uint64_t> received{0};
  std::atomic<bool> tx_done{false};
  afxdp_ref::TxResult tx_out;
  std::thread rx = spawn_in_netns(t.ns_b(), o.cpu_b, [&] {
    auto s = open_ref(t.if_b(), o.tuning, sync);
    if (!s) return;
    ref_napi(t, o, napi, o.cpu_b);
    sync.ready = true;
    // Stops 200 ms after the sender, to count what was in flight.
    std::atomic<bool> stop{false};
    std::thread timer([&] {
      while (!tx_done && !sync.failed && !stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      stop = true;
    });
    afxdp_ref::run_rxdrop(*s, false, stop, &received);
    timer.join();
  });
  std::thread tx = start_ref_sender(t, o, sync, {t.mac_a(), t.mac_b(), t.xnet_a(), t.xnet_b(), 40001,
                                                 kBasePort + 21, size},
                                    seconds, napi, tx_out, tx_done);
  tx.join();
  rx.join();
  if (mark_failed(m, sync)) return m;
  set_rate_figures(m, tx_out.sent, received.load(), tx_out.seconds);
  return m;
}

// The limit of the gso scenario's path for anything that sends through
// AF_XDP (no GSO transmit there): prebuilt 1400-byte frames from xnet's
// kernel-subnet address to the same recvmmsg receiver the gso runs use.
Measurement raw_gso(Topology& t, const Options& o, double seconds) {
  Measurement m;
  m.scenario = "gso";
  m.impl = "afxdp-raw";
  m.size = kGsoSegment;
  m.note = fmt::format("independent reference: txonly 1400-byte frames (batches of {}) on cpu {} to the kernel's "
                       "plain recvmmsg x64 spin on cpu {}: the per-frame limit under any AF_XDP sender's GSO",
                       o.tuning.batch, o.cpu_a, o.cpu_b);
  const uint16_t port = kBasePort + 22;
  PeerSync sync;
  std::atomic<uint64_t> received{0};
  std::atomic<bool> tx_done{false};
  afxdp_ref::TxResult tx_out;
  std::thread rx = start_kernel_receiver(t, o, t.kernel_b(), port, kGsoSegment, sync, tx_done, received);
  std::thread tx = start_ref_sender(t, o, sync,
                                    {t.mac_a(), t.mac_b(), t.xnet_to_kernel_a(), t.kernel_b(), 40002, port,
                                     kGsoSegment},
                                    seconds, o.tuning.threaded_napi_throughput, tx_out, tx_done);
  tx.join();
  rx.join();
  if (mark_failed(m, sync)) return m;
  set_rate_figures(m, tx_out.sent, received.load(), tx_out.seconds);
  if (auto pps = m.get("pps")) m.set("segments_per_s", *pps);
  return m;
}

}  // namespace xnet::bench
