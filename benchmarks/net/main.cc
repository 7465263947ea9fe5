// netbench: xnet against the kernel and raw AF_XDP over a veth pair between
// two network namespaces it creates (and removes, also on Ctrl-C).
//
//   bazel run -c opt //benchmarks:netbench -- --scenario all --seconds 5
//       --json /tmp/netbench.json --plot /tmp/netbench-plots   (one line)
//
// Scenarios: latency, throughput, gso, soak, scaling, fragflood, idle, all.
// Implementations run alternately within one process run; figures are
// printed, never asserted.

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "benchmarks/net/report.h"
#include "benchmarks/net/scenarios.h"
#include "benchmarks/net/topology.h"
#include "netns/netns.h"

namespace xnet::bench {
namespace {

bool wants(const Options& o, const char* s) { return o.scenario == "all" || o.scenario == s; }

void progress(const Measurement& m) {
  if (!m.ok) {
    fmt::print(stderr, "  {:<10} {:<12} {:>5}B  FAILED: {}\n", m.scenario, m.impl, m.size, m.error);
    return;
  }
  std::string f;
  for (const char* k : {"p50_us", "p99_us", "pps", "gbps", "lost", "cpu_percent", "rx_cpu_ns_per_datagram"}) {
    if (auto v = m.get(k)) f += fmt::format(" {}={:.2f}", k, *v);
  }
  fmt::print(stderr, "  {:<10} {:<12} {:>5}B q{} {}\n", m.scenario, m.impl, m.size, m.queues, f);
}

// The soak's reference rate: the highest rate a paced run of `probe_seconds`
// sustains without losing a datagram. The unpaced maximum of a short run
// overstates it (such a run at 64 B loses ~10% itself: the receiving core,
// NAPI kthread and receiver together, is the limit, and veth's 256-entry
// NAPI ring overflows first). Probes descend from the unpaced maximum in 10%
// steps; a lossless probe's achieved rate is the answer. nullopt when even
// 40% loses (say so rather than soak at a rate known to lose).
std::optional<double> lossless_max(Topology& t, const Options& o, double unpaced, double probe_seconds) {
  for (int pct = 100; pct >= 40 && !stopping(); pct -= 10) {
    const double target = unpaced * pct / 100;
    const Measurement p = xnet_soak(t, o, target, probe_seconds);
    const double lost = p.get("lost").value_or(-1);
    const double pps = p.get("pps").value_or(0);
    const size_t drops = p.note.find("drop counters");
    fmt::print(stderr, "soak: probe {}% of the unpaced maximum ({:.0f}/s) for {:.0f} s: {:.0f}/s received, {:.0f} lost{}\n",
               pct, target, probe_seconds, pps, lost,
               lost != 0 && drops != std::string::npos ? " — " + p.note.substr(drops) : "");
    if (p.ok && lost == 0) return pps;
  }
  fmt::print(stderr, "soak: no probe down to 40% of the unpaced maximum was lossless\n");
  return std::nullopt;
}

int run(Options& o) {
  if (geteuid() != 0) {
    fmt::print(stderr, "netbench: needs root (network namespaces, XDP, AF_XDP)\n");
    return 1;
  }
  if (online_cpus() < 2) fmt::print(stderr, "netbench: one CPU: peers share it, figures are not comparable\n");
  install_signal_handling();
  set_thread_nice(o.nice);
  const double load = load_average();
  if (load > 0.5) {
    fmt::print(stderr, "netbench: load average {:.1f} on {} cores: other work competes for the cores, expect noisy "
               "tails (try --nice -20)\n", load, online_cpus());
  }
  netns::remove_stale_namespaces();
  const Machine mach = machine_info();
  fmt::print("netbench: {} ({} cores), Linux {}; active side on cpu {}, passive side on cpu {}; load average {:.1f}, "
             "nice {}\n", mach.cpu_model, mach.cores, mach.kernel, o.cpu_a, o.cpu_b, load, o.nice);

  std::string err;
  for (size_t sz : o.sizes) {
    if (sz + 28 > o.mtu) {
      fmt::print(stderr, "netbench: size {} does not fit MTU {} unfragmented (at most {})\n", sz, o.mtu, o.mtu - 28);
      return 1;
    }
  }
  auto topo = Topology::create(1, 0, &err, o.mtu);
  if (!topo) {
    fmt::print(stderr, "netbench: topology: {}\n", err);
    return 1;
  }
  fmt::print("topology: {} [{}] <-> {} [{}], 1 queue, MTU {}\n", topo->if_a(), topo->ns_a(), topo->if_b(), topo->ns_b(),
             o.mtu);
  Topology& t = *topo;
  std::vector<Measurement> rs;
  auto on = [&](const char* impl) { return o.only.empty() || o.only == impl; };
  auto add = [&](Measurement m) {
    progress(m);
    rs.push_back(std::move(m));
  };
  const std::vector<size_t>& sizes = o.sizes;

  if (wants(o, "latency")) {
    fmt::print(stderr, "latency: ping-pong, {} round trips after {} warm-up{}\n", o.round_trips, o.warmup,
               o.seconds ? fmt::format(" (at most {:.0f} s each)", *o.seconds) : "");
    for (int r = 0; r < o.repeat && !stopping(); ++r) {
      for (size_t s : sizes) {
        if (stopping()) break;
        if (on("afxdp-raw")) add(raw_latency(t, o, s));
        if (on("xdplink-raw")) add(xdplink_latency(t, o, s));
        if (on("xnet-busy")) add(xnet_latency(t, o, s, true));
        if (on("kernel-busy")) add(kernel_latency(t, o, s, true));
        if (on("xnet")) add(xnet_latency(t, o, s, false));
        if (on("kernel")) add(kernel_latency(t, o, s, false));
        if (on("io_uring")) add(io_uring_latency(t, o, s));
      }
    }
  }
  if (wants(o, "idle") && !stopping()) add(xnet_idle_cpu(t, o, 3));
  const double tsec = o.run_seconds(10);
  if (wants(o, "throughput")) {
    fmt::print(stderr, "throughput: {:.0f} s per run\n", tsec);
    // Every AF_XDP implementation with the same (throughput) rings and UMEM.
    const Options to = throughput_options(o);
    auto rings = [&](Measurement m) {
      m.note += fmt::format("; XSK rings {}, UMEM frames {}", to.tuning.ring_size, to.tuning.frames);
      return m;
    };
    for (int r = 0; r < o.repeat && !stopping(); ++r) {
      for (size_t s : sizes) {
        if (stopping()) break;
        if (on("afxdp-raw")) add(rings(raw_throughput(t, to, s, tsec)));
        if (on("xdplink-raw")) add(rings(xdplink_throughput(t, to, s, tsec)));
        if (on("xnet-busy")) add(rings(xnet_throughput(t, to, s, tsec)));
        if (on("kernel")) add(kernel_throughput(t, o, s, tsec));
      }
    }
  }
  if (wants(o, "gso")) {
    fmt::print(stderr, "gso: {:.0f} s per run\n", tsec);
    for (int r = 0; r < o.repeat && !stopping(); ++r) {
      if (on("xnet-busy")) add(xnet_gso(t, o, tsec));
      if (on("kernel")) add(kernel_gso(t, o, tsec));
      if (on("afxdp-raw")) add(raw_gso(t, o, tsec));
      if (on("xdplink-raw")) add(xdplink_gso(t, o, tsec));
    }
  }
  if (wants(o, "soak") && !stopping()) {
    const double secs = o.seconds ? *o.seconds : 60;
    double rate = o.soak_rate;
    std::optional<double> unpaced, lossless;
    if (rate <= 0) {
      // In the soak's own layout (rings, NAPI mode), not the throughput rows'.
      fmt::print(stderr, "soak: measuring xnet's unpaced maximum first (2 s)\n");
      const Measurement u = xnet_throughput(t, soak_options(o), o.soak_size, 2);
      progress(u);
      unpaced = u.get("pps");
      if (unpaced) lossless = lossless_max(t, o, *unpaced, o.soak_probe_seconds.value_or(std::min(10.0, secs)));
      rate = lossless ? 0.9 * *lossless : 100000;
    }
    fmt::print(stderr, "soak: {:.0f} datagrams/s of {} bytes for {:.0f} s\n", rate, o.soak_size, secs);
    Measurement m = xnet_soak(t, o, rate, secs);
    if (unpaced) m.set("unpaced_max_pps", *unpaced);
    if (lossless) m.set("lossless_max_pps", *lossless);
    add(std::move(m));
  }
  if (wants(o, "fragflood") && !stopping()) {
    const double secs = o.run_seconds(10);
    fmt::print(stderr, "fragflood: {:.0f} s of round trips quiet, then {:.0f} s under a fragment flood\n", secs, secs);
    for (int r = 0; r < o.repeat && !stopping(); ++r) {
      for (Measurement& m : xnet_fragflood(t, o, secs)) add(std::move(m));
    }
  }
  if (wants(o, "scaling") && !stopping()) {
    auto topo2 = Topology::create(2, 1, &err);
    if (!topo2) {
      fmt::print(stderr, "netbench: 2-queue topology: {}\n", err);
    } else {
      fmt::print(stderr, "scaling: {} <-> {} with 2 queues, idle-mode shards, {:.0f} s per run\n", topo2->if_a(),
                 topo2->if_b(), tsec);
      for (uint32_t q : {1u, 2u}) {
        if (stopping()) break;
        add(xnet_throughput(*topo2, o, 64, tsec, q, false, "scaling"));
      }
      // Clients beside the reuseport server rows: every queue served (one
      // shard would lose what the kernel puts on the other queue), and the
      // replies that land on the other shard's queue are handed over.
      if (!stopping()) add(xnet_clients(*topo2, o, 64, tsec, 2, 8));
    }
  }

  fmt::print("{}", format_table(rs));
  const Ratios ratios = compute_ratios(rs);
  if (!ratios.empty()) {
    fmt::print("\n== ratios ==\n");
    for (const auto& [k, v] : ratios) fmt::print("  {:<40} {:.3f}\n", k, v);
  }
  fmt::print("{}", format_targets(rs, ratios));
  fmt::print("\nreference baselines (same machine kind, measured outside the project): raw AF_XDP ping-pong p50 "
             "4-5.5 us / p99 6-7 us; kernel busy-poll p50 9.1 / p99 12.9 us; kernel blocking p50 ~60 us; kernel "
             "sendmmsg->recvmmsg 64 B 274k pps (351k spinning rx); raw AF_XDP tx->rx 701k pps (894k threaded NAPI); "
             "kernel GSO 1.23 M segments/s\n");
  int rc = 0;
  if (!o.json_path.empty()) {
    if (write_json(o.json_path, o, mach, rs, ratios, &err)) {
      fmt::print("json: {}\n", o.json_path);
    } else {
      fmt::print(stderr, "netbench: {}\n", err);
      rc = 1;
    }
  }
  if (!o.plot_dir.empty()) {
    auto files = write_plots(o.plot_dir, rs, &err);
    for (const std::string& f : files) fmt::print("plot: {}\n", f);
    if (!err.empty()) {
      fmt::print(stderr, "netbench: {}\n", err);
      rc = 1;
    }
  }
  return stopping() ? 130 : rc;
}

}  // namespace
}  // namespace xnet::bench

int main(int argc, char** argv) {
  xnet::bench::Options o;
  CLI::App app{"netbench: xnet vs kernel UDP vs raw AF_XDP over veth between namespaces"};
  double seconds = 0;
  app.add_option("--scenario", o.scenario, "latency, throughput, gso, soak, scaling, fragflood, idle or all")
      ->check(CLI::IsMember({"latency", "throughput", "gso", "soak", "scaling", "fragflood", "idle", "all"}))
      ->capture_default_str();
  app.add_option("--seconds", seconds, "seconds per measured run (quick mode; soak duration)");
  app.add_option("--round-trips", o.round_trips, "latency: round trips per run")->capture_default_str();
  app.add_option("--warmup", o.warmup, "latency: warm-up round trips")->capture_default_str();
  app.add_option("--json", o.json_path, "write every figure to this JSON file");
  app.add_option("--plot", o.plot_dir, "write PNG charts (gnuplot) into this directory");
  app.add_option("--cpu-a", o.cpu_a, "core of the active side (pinger, sender)")->capture_default_str();
  app.add_option("--cpu-b", o.cpu_b, "core of the passive side (echo, receiver)")->capture_default_str();
  app.add_option("--repeat", o.repeat, "alternating rounds per scenario (medians reported)")->capture_default_str();
  app.add_option("--soak-rate", o.soak_rate,
                 "soak datagrams/s (default: 90% of the lossless maximum: the highest paced rate that loses "
                 "nothing for --soak-probe-seconds, probed down from the unpaced maximum in 10% steps)");
  app.add_option("--soak-probe-seconds", o.soak_probe_seconds,
                 "length of each lossless-maximum probe (default: 10, or the soak's length if shorter)");
  app.add_option("--sizes", o.sizes, "latency and throughput payload sizes (bytes, 16..MTU-28)")
      ->delimiter(',')
      ->check(CLI::Range(16, 8972))
      ->capture_default_str();
  app.add_option("--mtu", o.mtu, "MTU of both veth ends (9000: jumbo frames)")
      ->check(CLI::Range(1280, 9000))
      ->capture_default_str();
  app.add_option("--soak-size", o.soak_size, "soak payload bytes (>= 16)")->capture_default_str();
  app.add_option("--threaded-napi-latency", o.tuning.threaded_napi_latency, "threaded NAPI in latency runs")
      ->capture_default_str();
  app.add_option("--threaded-napi-throughput", o.tuning.threaded_napi_throughput,
                 "threaded NAPI in throughput/gso/soak/scaling runs")
      ->capture_default_str();
  app.add_option("--napi-cpu", o.tuning.napi_cpu, "pin NAPI kthreads to this core (-1: the run's default)")
      ->capture_default_str();
  app.add_option("--ring-size", o.tuning.ring_size, "XSK ring sizes")->capture_default_str();
  app.add_option("--threaded-napi-soak", o.tuning.threaded_napi_soak,
                 "threaded NAPI in the soak (default off: veth's NAPI ring overflows while the kthread waits for "
                 "its core)")
      ->capture_default_str();
  app.add_option("--soak-ring-size", o.soak_ring_size, "XSK ring sizes in the soak (buffering for host hiccups)")
      ->capture_default_str();
  app.add_option("--soak-frames", o.soak_frames, "UMEM frames per link in the soak")->capture_default_str();
  app.add_option("--throughput-ring-size", o.throughput_ring_size,
                 "XSK ring sizes in the throughput rows of every AF_XDP implementation (a few ms at ~1 M/s: the "
                 "NAPI kthread may hold the receiver's core that long)")
      ->capture_default_str();
  app.add_option("--throughput-frames", o.throughput_frames, "UMEM frames per link in the throughput rows")
      ->capture_default_str();
  app.add_option("--sched-batch-receiver", o.tuning.sched_batch_receiver,
                 "throughput: xnet's receiver shard under SCHED_BATCH (does not preempt the NAPI kthread on its "
                 "core at each wake-up)")
      ->capture_default_str();
  app.add_option("--frames", o.tuning.frames, "UMEM frames per link")->capture_default_str();
  app.add_option("--frame-size", o.tuning.frame_size,
                 "UMEM frame size of xnet's and xdplink-raw's links: 2048 or 4096 (a jumbo MTU chooses its own)")
      ->check(CLI::IsMember({2048u, 4096u}))
      ->capture_default_str();
  app.add_option("--batch", o.tuning.batch, "descriptors per ring operation")->capture_default_str();
  app.add_option("--only", o.only, "run only this implementation (xnet, xnet-busy, kernel, kernel-busy, io_uring, "
                 "afxdp-raw, xdplink-raw), e.g. under perf");
  app.add_option("--ping-timeout-ms", o.ping_timeout_ms,
                 "xnet pinger's receive timeout (set_recv_timeout, SO_RCVTIMEO's analog; 0: none, a lost reply then hangs)")
      ->capture_default_str();
  app.add_option("--nice", o.nice, "nice value of the benchmark threads and our NAPI kthreads (e.g. -20 on a busy machine)")
      ->capture_default_str();
  app.add_flag("--xsk-busy-poll", o.tuning.xsk_busy_poll, "SO_BUSY_POLL on XSKs of busy-mode xnet");
  CLI11_PARSE(app, argc, argv);
  if (seconds > 0) o.seconds = seconds;
  return xnet::bench::run(o);
}
