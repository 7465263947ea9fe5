#pragma once
// Every measured run of netbench. Each function gives its implementation's
// steps (the passive peer in ns B on opts.cpu_b, the active one in ns A on
// opts.cpu_a) to the one skeleton of scenario_runner.h, which runs them,
// tears down and tallies, and returns one Measurement (ok=false with an error
// when the run could not be done).

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/net/common.h"
#include "benchmarks/net/topology.h"

namespace xnet::bench {

// Two peers of one run: the passive one reports ready, the active one done.
struct PeerSync {
  std::atomic<bool> ready{false};
  std::atomic<bool> done{false};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string error;

  void fail(const std::string& e) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (error.empty()) error = e;
    }
    failed = true;
  }
  // Waits until ready (true) or failure / Ctrl-C / 20 s (false).
  bool wait_ready();
  bool should_stop() const { return done.load(std::memory_order_relaxed) || failed.load() || stopping(); }
};

// After a run's threads joined: a failed run marks the measurement with its
// error. Returns whether it did.
inline bool mark_failed(Measurement& m, const PeerSync& sync) {
  if (!sync.failed) return false;
  m.ok = false;
  m.error = sync.error;
  return true;
}

// How long one ping-pong run may take and how many round trips it measures.
struct PingPlan {
  size_t size = 64;
  uint64_t warmup = 2000;
  uint64_t count = 100000;
  double max_seconds = 60;
};
PingPlan ping_plan(const Options& o, size_t size);

// The passive step of a kernel UDP echo on addr:port (blocking recv, or a
// MSG_DONTWAIT spin when `busy`) until the run stops.
std::function<void(PeerSync&)> kernel_echo(const std::string& addr, int port, bool busy);

// --- latency: ping-pong, RTT histogram ---
Measurement kernel_latency(const Topology& t, const Options& o, size_t size, bool busy);
Measurement io_uring_latency(const Topology& t, const Options& o, size_t size);
Measurement xnet_latency(Topology& t, const Options& o, size_t size, bool busy);
// afxdp-raw: the independent reference (benchmarks/afxdp_ref); xdplink-raw:
// the same loops over xnet's XdpLink and steering program.
Measurement raw_latency(Topology& t, const Options& o, size_t size);
Measurement xdplink_latency(Topology& t, const Options& o, size_t size);

// --- throughput: one sending core, spinning receiver ---
Measurement kernel_throughput(const Topology& t, const Options& o, size_t size, double seconds);
Measurement xnet_throughput(Topology& t, const Options& o, size_t size, double seconds,
                            uint32_t shards = 1, bool busy = true, const char* scenario = "throughput");
Measurement raw_throughput(Topology& t, const Options& o, size_t size, double seconds);
Measurement raw_gso(Topology& t, const Options& o, double seconds);
Measurement xdplink_throughput(Topology& t, const Options& o, size_t size, double seconds);
Measurement xdplink_gso(Topology& t, const Options& o, double seconds);

// --- scaling, clients: `flows` connected client sockets round robin over
// `shards` shards on A, each doing back-to-back round trips with a kernel
// echo on B; the kernel puts each reply on a queue of A by its own hash, and
// those on another shard's queue are handed over (round trips/s as pps).
Measurement xnet_clients(Topology& t, const Options& o, size_t size, double seconds, uint32_t shards,
                         uint32_t flows);

// --- gso: 64 KiB sends of 1400-byte segments to a plain recvmmsg receiver ---
Measurement kernel_gso(const Topology& t, const Options& o, double seconds);
Measurement xnet_gso(Topology& t, const Options& o, double seconds);

// --- soak: rate-limited xnet → xnet with checked payloads ---
Measurement xnet_soak(Topology& t, const Options& o, double rate, double seconds);
// The options a soak runs with: its rings and UMEM, its NAPI mode.
Options soak_options(const Options& o);
// The options the throughput rows of the AF_XDP implementations run with:
// their rings and UMEM.
Options throughput_options(const Options& o);

// --- fragflood: a kernel client's round trips with an xnet echo, quiet and
// then under a flood of never-completed fragment trains (two rows) ---
std::vector<Measurement> xnet_fragflood(Topology& t, const Options& o, double seconds);

// --- idle: CPU use of an idle xnet shard ---
Measurement xnet_idle_cpu(Topology& t, const Options& o, double seconds);

inline constexpr size_t kGsoSegment = 1400;
inline constexpr size_t kGsoSegments = 46;  // 46 × 1400 = 64400 ≤ 65507
inline constexpr int kBasePort = 9000;

}  // namespace xnet::bench
