#pragma once
// One side of an xnet run: a ServiceHost on a veth end — the composition
// services run on (steering program, one XdpLink + Stack per queue, one
// rt::Runtime shard per queue driving a StackDriver) — serving one coroutine
// made by the scenario on every shard.
//
// Call run() on a thread already inside the side's namespace (spawn_in_netns):
// the host is opened, used and closed there (libxdp talks netlink from the
// calling thread), shard threads created by it inherit the namespace.

#include <chrono>
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/net/common.h"
#include "benchmarks/net/scenarios.h"
#include "runtime/task.h"
#include "stack/api/stack_driver.h"
#include "stack/api/udp_socket.h"
#include "stack/core/stats.h"

namespace xnet::bench {

struct XnetSideConfig {
  std::string ifname;
  std::string address;  // "a.b.c.d/len" owned by xnet
  uint32_t queues = 1;
  bool busy = true;
  // Idle reactors: spin this long before sleeping (ServiceOptions::idle_spin;
  // 0 for a receiver sharing its core with the NAPI kthread).
  std::chrono::microseconds idle_spin{50};
  bool sched_batch = false;  // ServiceOptions::sched_batch
  std::vector<int> cpus;  // per shard; empty = the calling thread's pinning
  Tuning tuning;
  // Runs after the host is open (XDP attached), before the shards start:
  // threaded NAPI is set here.
  std::function<void()> after_open;
};

// Where datagrams were lost on one side, summed over its shards: the AF_XDP
// socket's own statistics and the stack's counters that drop.
struct SideDrops {
  uint64_t xsk_rx_dropped = 0, xsk_rx_ring_full = 0, xsk_fill_ring_empty = 0, xsk_tx_invalid = 0;
  uint64_t link_rx_dropped = 0, link_tx_dropped = 0;
  uint64_t udp_rcvbuf_errors = 0, udp_in_errors = 0, udp_sndbuf_errors = 0, udp_no_ports = 0;
  uint64_t ip_in_discards = 0, ip_out_discards = 0, stack_drops = 0;
  // The veth end of this side (Topology::dev_drops, deltas over the run).
  uint64_t dev_tx_dropped = 0, dev_rx_dropped = 0;

  // Every counter with its name: describe(), sums and the JSON keys.
  using Field = std::pair<const char*, uint64_t SideDrops::*>;
  static constexpr std::array<Field, 15> kFields = {{
      {"xsk_rx_dropped", &SideDrops::xsk_rx_dropped},
      {"xsk_rx_ring_full", &SideDrops::xsk_rx_ring_full},
      {"xsk_fill_ring_empty", &SideDrops::xsk_fill_ring_empty},
      {"xsk_tx_invalid", &SideDrops::xsk_tx_invalid},
      {"link_rx_dropped", &SideDrops::link_rx_dropped},
      {"link_tx_dropped", &SideDrops::link_tx_dropped},
      {"udp_rcvbuf_errors", &SideDrops::udp_rcvbuf_errors},
      {"udp_in_errors", &SideDrops::udp_in_errors},
      {"udp_sndbuf_errors", &SideDrops::udp_sndbuf_errors},
      {"udp_no_ports", &SideDrops::udp_no_ports},
      {"ip_in_discards", &SideDrops::ip_in_discards},
      {"ip_out_discards", &SideDrops::ip_out_discards},
      {"stack_drops", &SideDrops::stack_drops},
      {"dev_tx_dropped", &SideDrops::dev_tx_dropped},
      {"dev_rx_dropped", &SideDrops::dev_rx_dropped},
  }};

  // Datagrams gone for good (fill-ring-empty events, invalid descriptors and
  // send-buffer refusals — with the OutDiscards they count — are causes or
  // retries, not losses of their own; a veth drop shows on both ends, so
  // only the sending end's counts).
  uint64_t total_lost() const {
    return xsk_rx_dropped + xsk_rx_ring_full + link_rx_dropped + link_tx_dropped + udp_rcvbuf_errors +
           udp_in_errors + udp_no_ports + ip_in_discards + stack_drops + dev_tx_dropped;
  }
  SideDrops& operator+=(const SideDrops& o) {
    for (const auto& [name, f] : kFields) this->*f += o.*f;
    return *this;
  }
  // "name=value" for the non-zero counters, or "none".
  std::string describe() const;
};

class XnetSide {
 public:
  using MakeTask = std::function<rt::Task<void>(unsigned shard, StackDriver& driver)>;

  // Opens, runs make(shard, driver) on every shard until every task returned
  // or stop() was called (tasks are then cancelled), drains, checks the frame
  // accounting and closes. Reports failures to sync. Blocks.
  void run(const XnetSideConfig& config, PeerSync& sync, const MakeTask& make);

  // From any thread: end run() (within 50 ms), which cancels the shard tasks.
  void stop();
  // stop() until run() has returned.
  void stop_and_wait();
  bool finished() const { return finished_.load(); }
  // Set after run(): every shard's frames were back at their idle places.
  bool frames_idle() const { return frames_idle_; }
  // Frames still out of place after the drain (per side, summed over shards).
  uint32_t frames_out() const { return frames_out_; }
  // Set once every shard is running (after ARP may not yet be resolved).
  bool running() const { return running_.load(); }
  // Per-shard CPU seconds measured over the run (thread rusage).
  const std::vector<double>& shard_cpu() const { return shard_cpu_; }
  // Valid after run().
  SideDrops drops() const;
  // Cross-shard delivery, summed over the shards (valid after run()).
  const stack::HandoffStats& handoff() const { return handoff_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> finished_{false};
  bool frames_idle_ = false;
  uint32_t frames_out_ = 0;
  std::vector<double> shard_cpu_ = std::vector<double>(8, 0.0);
  std::vector<SideDrops> shard_drops_ = std::vector<SideDrops>(8);
  stack::HandoffStats handoff_;
};

// The usual side of a run: IF with addr/24 owned by xnet, the run's tuning.
XnetSideConfig side_config(const Options& o, const std::string& ifname, const std::string& addr, bool busy,
                           std::vector<int> cpus);
// Threaded NAPI once the side's XDP program is attached (XnetSideConfig::after_open).
std::function<void()> napi_hook(Topology& t, const Options& o, bool on, int default_cpu);
// A UDP echo on `port` (recv_batch, answered from the received frames); sets
// sync.ready once bound, fails sync when it cannot bind; returns when cancelled.
rt::Task<void> echo_task(StackDriver& d, int port, PeerSync& sync);

Endpoint endpoint(const std::string& addr, int port);

}  // namespace xnet::bench
