#pragma once
// netbench plumbing shared by every scenario: options, the measurement record
// that the table / JSON / plots are made from, the stop flag (Ctrl-C), CPU
// pinning and "run this on a thread inside that network namespace".
//
// Placement model (2 vCPUs here, so it is explicit everywhere): the active
// side (pinger, sender) runs on `cpu_a` (core 0 by default), the passive side
// (echo, receiver) on `cpu_b` (core 1). Both peers are threads of this one
// process, each joined to its own network namespace with setns (like
// Netns::run); every socket, XSK and XDP attachment they make belongs to their
// namespace, so the traffic really crosses the veth pair.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "host/latency_histogram.h"

namespace xnet::bench {

using Clock = std::chrono::steady_clock;

// Product tuning applied by the benchmark's own setup (see README section):
// each is a knob so its effect can be measured.
struct Tuning {
  bool threaded_napi_latency = false;    // latency scenario: softirq NAPI on the sender's core
  bool threaded_napi_throughput = true;  // throughput/gso/scaling: NAPI kthreads
  // Soak: softirq NAPI by default (veth's own default). Measured (2026-12-04):
  // with NAPI kthreads every loss is veth_xmit finding the peer's 256-entry
  // NAPI ring full while the kthread waits for its core (sender
  // dev_tx_dropped, even at 100 k/s on a noisy host), before any ring of
  // ours; in softirq mode the sender's own kick runs the peer's receive, so
  // nothing overflows before the XSK rings, which absorb receiver stalls.
  bool threaded_napi_soak = false;
  int napi_cpu = -1;                     // pin NAPI kthreads here (-1: receiver's core)
  uint32_t ring_size = 2048;             // every XSK ring
  uint32_t frames = 4096;                // UMEM frames per link
  uint32_t frame_size = 2048;            // UMEM frame size (2048 or 4096; not the jumbo layout)
  uint32_t batch = 64;                   // descriptors per ring operation
  bool xsk_busy_poll = false;            // SO_BUSY_POLL on XSKs in busy mode
  // Throughput: xnet's receiver shard under SCHED_BATCH (ServiceOptions::
  // sched_batch), so the NAPI kthread it shares its core with is not
  // preempted at every wake-up and the receiver takes larger batches.
  // Measured (2026-12-05, 64 B, 8192-entry rings): ~150 -> ~100 ns a
  // datagram on the receiving core, +10% received.
  bool sched_batch_receiver = true;
};

struct Options {
  std::string scenario = "all";
  std::optional<double> seconds;       // per measured run (quick mode)
  uint64_t round_trips = 100000;
  uint64_t warmup = 2000;
  std::string json_path;
  std::string plot_dir;
  int cpu_a = 0;
  int cpu_b = 1;
  double soak_rate = 0;        // datagrams/s; 0 = 90% of the lossless maximum
  std::optional<double> soak_probe_seconds;  // each lossless-maximum probe
  size_t soak_size = 64;
  // Soak runs sustain ~90% of the maximum for minutes: a few milliseconds of
  // host preemption must fit in the rings (8192 at 850k/s ≈ 10 ms).
  uint32_t soak_ring_size = 8192;
  uint32_t soak_frames = 16384;
  // Throughput rows of every AF_XDP implementation (afxdp-raw, xdplink-raw,
  // xnet): rings that hold a few milliseconds at ~1 M/s, the time the NAPI
  // kthread may keep the receiver's core. With 2048 xnet lost 2.6-9% at an
  // empty fill ring; the reference, whose receiver returns descriptors only,
  // ran dry a few thousand times a second at most and received the same
  // with either size.
  uint32_t throughput_ring_size = 8192;
  uint32_t throughput_frames = 16384;
  int repeat = 1;              // alternating rounds per scenario
  int ping_timeout_ms = 100;   // xnet pinger: set_recv_timeout (0: none)
  std::string only;            // run only this impl (profiling)
  std::vector<size_t> sizes = {64, 1400};  // latency and throughput payloads
  // MTU of both veth ends (9000: jumbo frames, xnet over multi-buffer AF_XDP).
  uint32_t mtu = 1500;
  int nice = 0;                // scheduling priority of every benchmark thread (and our NAPI kthreads)
  Tuning tuning;
  bool verbose = false;

  // Seconds for one throughput-style run.
  double run_seconds(double full) const { return seconds ? *seconds : full; }
};

// One row of the results: a scenario, an implementation, a size, figures.
struct Measurement {
  std::string scenario;  // latency, throughput, gso, soak, scaling, idle
  std::string impl;      // xnet, xnet-busy, kernel, kernel-busy, io_uring, afxdp-raw, xdplink-raw
  size_t size = 0;       // UDP payload bytes
  uint32_t queues = 1;
  std::string note;      // placement and mode, printed under the table
  std::vector<std::pair<std::string, double>> figures;  // ordered, JSON keys
  std::shared_ptr<LatencyHistogram> rtt;         // latency runs: for the CDF
  bool ok = true;
  std::string error;

  void set(const std::string& key, double v) {
    for (auto& [k, x] : figures) {
      if (k == key) {
        x = v;
        return;
      }
    }
    figures.emplace_back(key, v);
  }
  std::optional<double> get(const std::string& key) const {
    for (const auto& [k, x] : figures) {
      if (k == key) return x;
    }
    return std::nullopt;
  }
};

// Fills min/p50/p90/p99/p999/max (µs) and round_trips from a histogram.
void set_latency_figures(Measurement& m, const LatencyHistogram& h);
// pps, gbps (UDP payload bits), sent, received, lost over `seconds`.
void set_rate_figures(Measurement& m, uint64_t sent, uint64_t received, double seconds);

// Ctrl-C: the first SIGINT/SIGTERM sets this and every loop winds down (the
// namespaces are removed on the way out); a second one removes them at once
// and exits.
bool stopping();
void install_signal_handling();

// Pins the calling thread; false (and a warning once) if it could not.
bool pin_self(int cpu);
// Nice value for every thread pinned by pin_self / spawn_in_netns (and NAPI kthreads).
void set_thread_nice(int nice);
int thread_nice();
// 1-minute load average (other work on the machine makes figures noisy).
double load_average();
int online_cpus();

// Runs fn on a new thread joined to network namespace `ns` and pinned to
// `cpu` (-1: not pinned). Threads it creates inherit the namespace.
std::thread spawn_in_netns(const std::string& ns, int cpu, std::function<void()> fn);

// Runs a command (no shell), returns exit code; output into *out if given.
int run_command(const std::vector<std::string>& argv, std::string* out = nullptr);
int run_shell(const std::string& cmd, std::string* out = nullptr);

// CPU time (user + system) of the calling thread, seconds.
double thread_cpu_seconds();
// Resident set size of this process, KiB.
uint64_t rss_kib();

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
inline uint64_t ns_since(Clock::time_point t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count());
}

// Datagrams sent before measuring (ARP resolution, caches) carry this bit in
// their sequence number; receivers ignore them.
inline constexpr uint64_t kWarmBit = uint64_t{1} << 62;

// Payload helpers: every benchmark datagram starts with a sequence number;
// soak datagrams also carry a hash of the rest.
void fill_payload(std::byte* p, size_t size, uint64_t seq);
uint64_t payload_seq(const std::byte* p);
void fill_payload_hashed(std::byte* p, size_t size, uint64_t seq);
bool check_payload_hashed(const std::byte* p, size_t size, uint64_t* seq);

}  // namespace xnet::bench
