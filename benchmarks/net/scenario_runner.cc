#include "benchmarks/net/scenario_runner.h"

#include <chrono>
#include <thread>
#include <utility>

namespace xnet::bench {

bool PeerSync::wait_ready() {
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!ready.load()) {
    if (failed.load() || stopping()) return false;
    if (Clock::now() > deadline) {
      fail("peer not ready after 20 s");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

PingPlan ping_plan(const Options& o, size_t size) {
  PingPlan p;
  p.size = size;
  p.count = o.round_trips;
  p.warmup = o.warmup;
  p.max_seconds = o.seconds ? *o.seconds : 60;
  return p;
}

bool run_peers(const Topology& t, const Options& o, const PeerSteps& steps, Measurement& m) {
  PeerSync sync;
  std::thread passive = spawn_in_netns(t.ns_b(), o.cpu_b, [&] { steps.passive(sync); });
  if (steps.active) {
    std::atomic<bool> active_done{false};
    std::thread active = spawn_in_netns(t.ns_a(), o.cpu_a, [&] {
      if (sync.wait_ready()) steps.active(sync);
      active_done = true;
    });
    if (steps.progress) {
      const auto start = Clock::now();
      auto next = start + std::chrono::seconds(1);
      while (!active_done.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (Clock::now() >= next) {
          next += std::chrono::seconds(1);
          steps.progress(seconds_since(start));
        }
      }
    }
    active.join();
    sync.done = true;
    if (steps.end_passive) steps.end_passive();
  }
  passive.join();
  return !mark_failed(m, sync);
}

Measurement measurement(const std::string& scenario, const std::string& impl, size_t size, std::string note) {
  Measurement m;
  m.scenario = scenario;
  m.impl = impl;
  m.size = size;
  m.note = std::move(note);
  return m;
}

void LatencyTally::report(Measurement& m) const {
  set_latency_figures(m, hist);
  m.set("lost", static_cast<double>(lost));
}

void RateTally::report(Measurement& m) const {
  set_rate_figures(m, sent.load(), received.load(), seconds.load());
  if (m.scenario != "gso") return;
  if (auto pps = m.get("pps")) m.set("segments_per_s", *pps);
}

void threaded_napi(Topology& t, const Options& o, bool on, int default_cpu) {
  // Explicitly both ways: a veth keeps its threaded setting across XDP
  // detach and attach (checked), so a softirq run after a threaded one
  // would otherwise run threaded.
  t.set_threaded_napi(on);
  if (!on) return;
  t.pin_napi_threads(o.tuning.napi_cpu >= 0 ? o.tuning.napi_cpu : default_cpu);
}

bool DrainAfterDone::over(const PeerSync& sync) {
  if (stopping() || sync.failed.load()) return true;
  if (!sync.done.load(std::memory_order_relaxed)) return false;
  if (end_ == Clock::time_point{}) end_ = Clock::now() + std::chrono::milliseconds(200);
  return Clock::now() > end_;
}

}  // namespace xnet::bench
