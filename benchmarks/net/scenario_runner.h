#pragma once
// The skeleton every netbench run shares; each implementation supplies only
// its steps (kernel_bench.cc: kernel sockets and io_uring, xnet_bench.cc,
// raw_bench.cc: xdplink-raw, afxdp_raw_bench.cc: the independent reference).
//
// A run is two peers of this process, each a thread joined to its own
// namespace and pinned to its core (common.h's placement model):
//  1. the passive peer (echo, receiver) starts in ns B on cpu_b, sets itself
//     up and reports sync.ready;
//  2. once it is ready (not at all if it failed) the active peer (pinger,
//     sender) starts in ns A on cpu_a: warm-up, then the measurement into the
//     run's tally;
//  3. meanwhile progress(elapsed) is called about once a second;
//  4. when the active peer has returned: sync.done, end_passive() (whatever
//     else ends the passive peer), the passive peer joined. A run with no
//     active peer (idle) ends when the passive one returns;
//  5. a failure on either side marks the measurement; otherwise the tally
//     becomes its figures (LatencyTally::report, RateTally::report).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "benchmarks/net/common.h"
#include "benchmarks/net/scenarios.h"
#include "benchmarks/net/topology.h"

namespace xnet::bench {

// One implementation's steps for one run.
struct PeerSteps {
  // ns B, cpu_b: set up, sync.ready = true, serve until sync.should_stop()
  // (or until end_passive() ends it); sync.fail(...) on any error.
  std::function<void(PeerSync&)> passive;
  // ns A, cpu_a, once the passive peer is ready: measure into the tally.
  // Empty: a run of the passive peer alone.
  std::function<void(PeerSync&)> active;
  std::function<void()> end_passive;             // optional
  std::function<void(double elapsed)> progress;  // optional
};

// Steps 1-4. Returns false, with `m` marked failed, when a peer failed.
bool run_peers(const Topology& t, const Options& o, const PeerSteps& steps, Measurement& m);

// The measurement's header: what ran, at which size, how it was placed.
Measurement measurement(const std::string& scenario, const std::string& impl, size_t size, std::string note);

// --- ping-pong --------------------------------------------------------------

struct LatencyTally {
  LatencyHistogram hist;
  uint64_t lost = 0;
  // min/p50/.../max and round_trips, and lost.
  void report(Measurement& m) const;
};

// The active peer of a synchronous ping-pong: plan.warmup round trips, then
// plan.count counted ones (for at most plan.max_seconds; Ctrl-C or a failure
// ends it early). prepare(seq) writes request `seq` (not timed);
// round_trip(seq, t0) sends it and waits for its echo (t0: when the clock
// started, for its own timeout), true when it came back: timed into the
// histogram, or counted lost.
template <typename Prepare, typename RoundTrip>
void ping_loop(const PingPlan& plan, const PeerSync& sync, LatencyTally& tally, Prepare prepare,
               RoundTrip round_trip) {
  const auto start = Clock::now();
  for (uint64_t seq = 0; seq < plan.warmup + plan.count && !stopping() && !sync.failed; ++seq) {
    const bool counted = seq >= plan.warmup;
    if (counted && seconds_since(start) > plan.max_seconds) break;
    prepare(seq);
    const auto t0 = Clock::now();
    const bool got = round_trip(seq, t0);
    if (!counted) continue;
    if (got) {
      tally.hist.record(ns_since(t0));
    } else {
      ++tally.lost;
    }
  }
}

// --- rate (throughput, gso) --------------------------------------------------

struct RateTally {
  std::atomic<uint64_t> sent{0};  // datagrams on the wire
  std::atomic<uint64_t> received{0};
  std::atomic<double> seconds{0};  // how long the sender sent
  // pps, gbps, sent, received, lost; for gso also segments_per_s.
  void report(Measurement& m) const;
};

// The active peer of a synchronous rate run: send_some(seq) sends what it can
// (numbered from seq, which it advances) and returns the datagrams it put on
// the wire; called for `seconds` (Ctrl-C ends it early). Fills tally.sent and
// tally.seconds.
template <typename SendSome>
void send_for(double seconds, RateTally& tally, SendSome send_some) {
  uint64_t seq = 0, sent = 0;
  const auto start = Clock::now();
  while (!stopping() && seconds_since(start) < seconds) sent += send_some(seq);
  tally.seconds = seconds_since(start);
  tally.sent = sent;
}

// A passive receiver's end: 200 ms after the active peer is done, so that
// what was still in flight is counted; at once on failure or Ctrl-C.
class DrainAfterDone {
 public:
  bool over(const PeerSync& sync);

 private:
  Clock::time_point end_{};
};

// Threaded NAPI on the topology's veth ends, its kthreads pinned to
// --napi-cpu or else `default_cpu`; softirq NAPI when !on (set, not left:
// a veth keeps the setting across XDP detach and attach). Only once XDP is
// attached there (veth allows threaded NAPI only then).
void threaded_napi(Topology& t, const Options& o, bool on, int default_cpu);

// The passive peer of the gso runs and the kernel's throughput: recvmmsg x64
// MSG_DONTWAIT spinning, bound to addr:port, counting into tally.received
// until DrainAfterDone says (kernel_bench.cc).
std::function<void(PeerSync&)> kernel_receiver(const std::string& addr, int port, size_t size, RateTally& tally);

}  // namespace xnet::bench
