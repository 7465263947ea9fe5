// afxdp_ref: one side of the raw AF_XDP reference, on one interface of the
// namespace it runs in (start it with `ip netns exec`). Pair a pinger with a
// reflector, a txonly with an rxdrop (or a kernel UDP receiver: the frames
// are valid UDP/IPv4 with complete checksums).
//   bazel run -c opt //benchmarks/afxdp_ref -- --help

#include <sched.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <thread>

#include "benchmarks/afxdp_ref/afxdp_ref.h"

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Raw AF_XDP reference: pinger, in-place reflector, txonly, rxdrop (needs root)"};
  std::string mode;
  afxdp_ref::Config cfg;
  afxdp_ref::Flow flow;
  afxdp_ref::PingOptions ping;
  double seconds = 5;
  int cpu = -1, napi_cpu = -2;
  bool spin = false;
  app.add_option("mode", mode, "pinger | reflector | txonly | rxdrop")->required()->check(
      CLI::IsMember({"pinger", "reflector", "txonly", "rxdrop"}));
  app.add_option("--if", cfg.ifname, "interface (veth end) to attach to")->required();
  app.add_option("--queue", cfg.queue, "queue id");
  app.add_option("--ring-size", cfg.ring_size, "size of every ring");
  app.add_option("--frames", cfg.frames, "UMEM frames of 2 KiB");
  app.add_option("--batch", cfg.batch, "descriptors per ring operation (≤ 256)");
  app.add_option("--src-mac", flow.src_mac, "pinger/txonly: our MAC");
  app.add_option("--dst-mac", flow.dst_mac, "pinger/txonly: peer MAC");
  app.add_option("--src-ip", flow.src_ip, "pinger/txonly: source IPv4");
  app.add_option("--dst-ip", flow.dst_ip, "pinger/txonly: destination IPv4");
  app.add_option("--sport", flow.sport, "UDP source port")->default_val(40000);
  app.add_option("--dport", flow.dport, "UDP destination port")->default_val(9000);
  app.add_option("--size", flow.payload, "UDP payload bytes (≥ 8)")->default_val(64);
  app.add_option("--count", ping.count, "pinger: measured round trips")->default_val(100000);
  app.add_option("--warmup", ping.warmup, "pinger: round trips before measuring")->default_val(2000);
  app.add_option("--seconds", seconds, "txonly: send time; rxdrop/reflector: run time")->default_val(5);
  app.add_option("--cpu", cpu, "pin this thread to a CPU (-1: no)");
  app.add_option("--napi-cpu", napi_cpu,
                 "threaded NAPI on --if, kthreads pinned to this CPU (-1: unpinned; default: leave NAPI as is)");
  app.add_flag("--spin", spin, "rxdrop: spin instead of sleeping in poll()");
  CLI11_PARSE(app, argc, argv);

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
  std::string err;
  auto sock = afxdp_ref::Socket::open(cfg, &err);
  if (!sock) {
    std::fprintf(stderr, "afxdp_ref: %s\n", err.c_str());
    return 1;
  }
  if (napi_cpu >= -1) {
    if (auto e = afxdp_ref::set_threaded_napi(cfg.ifname, napi_cpu); !e.empty()) {
      std::fprintf(stderr, "afxdp_ref: %s\n", e.c_str());
    }
  }
  // Reflector and rxdrop stop after --seconds (bounded) or on Ctrl-C.
  std::thread timer;
  if (mode == "reflector" || mode == "rxdrop") {
    timer = std::thread([seconds] {
      const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
      while (!g_stop && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      g_stop = true;
    });
  }
  if (mode == "pinger") {
    auto r = afxdp_ref::run_pinger(*sock, flow, ping, g_stop);
    std::sort(r.rtt_ns.begin(), r.rtt_ns.end());
    auto pct = [&](double p) {
      return r.rtt_ns.empty() ? 0.0 : r.rtt_ns[std::min(r.rtt_ns.size() - 1, size_t(p * r.rtt_ns.size()))] / 1e3;
    };
    std::printf("round_trips %zu lost %lu p50 %.2f us p99 %.2f us p999 %.2f us max %.2f us\n", r.rtt_ns.size(),
                static_cast<unsigned long>(r.lost), pct(0.5), pct(0.99), pct(0.999), pct(1.0));
  } else if (mode == "reflector") {
    std::printf("reflected %lu\n", static_cast<unsigned long>(afxdp_ref::run_reflector(*sock, g_stop)));
  } else if (mode == "txonly") {
    auto r = afxdp_ref::run_txonly(*sock, flow, seconds, g_stop);
    std::printf("sent %lu in %.3f s: %.0f datagrams/s\n", static_cast<unsigned long>(r.sent), r.seconds,
                r.seconds > 0 ? r.sent / r.seconds : 0.0);
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    const uint64_t n = afxdp_ref::run_rxdrop(*sock, spin, g_stop);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("received %lu in %.3f s\n", static_cast<unsigned long>(n), s);
  }
  if (timer.joinable()) timer.join();
  return 0;
}
