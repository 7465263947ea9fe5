#include "stack/core/stage_trace.h"

#include <chrono>
#include <cstdio>

#ifdef XNET_STAGE_TRACE
#include <x86intrin.h>
#endif

namespace xnet::stage {

const char* name(Point p) {
  switch (p) {
    case Point::kRxFrames: return "rx: frames off the ring";
    case Point::kIpRcv: return "ip_rcv";
    case Point::kUdpQueued: return "udp: queued on socket";
    case Point::kPollDone: return "poll: receive work done";
    case Point::kAppReceived: return "app: datagram taken";
    case Point::kSendmsg: return "udp_sendmsg";
    case Point::kIpLocalOut: return "ip_local_out";
    case Point::kXmitQueued: return "dev_queue_xmit: queued";
    case Point::kTxBurst: return "link: tx_burst";
    case Point::kTxKicked: return "link: kick returned";
    case Point::kCount: break;
  }
  return "?";
}

#ifdef XNET_STAGE_TRACE

namespace {

constexpr auto kPoints = static_cast<size_t>(Point::kCount);

struct Table {
  uint64_t start = 0;      // TSC at begin(), 0: no trace open
  uint32_t seen = 0;       // points already stamped in the open trace
  uint64_t sum[kPoints] = {};
  uint64_t hits[kPoints] = {};
  uint64_t traces = 0;
  // TSC ↔ clock calibration over the table's life.
  uint64_t tsc0 = 0;
  std::chrono::steady_clock::time_point t0;

  ~Table() {
    if (traces != 0) report("thread exit");
  }

  void report(const char* label) {
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    const double ghz = ns > 0 ? static_cast<double>(__rdtsc() - tsc0) / ns : 1.0;
    std::fprintf(stderr, "stage trace (%s, %llu traces, %.2f GHz TSC)\n  %-26s %12s %10s %10s\n", label,
                 static_cast<unsigned long long>(traces), ghz, "point", "from start", "step", "seen in");
    double prev = 0;
    for (size_t i = 0; i < kPoints; ++i) {
      if (hits[i] == 0) continue;
      const double at = static_cast<double>(sum[i]) / static_cast<double>(hits[i]) / ghz;
      std::fprintf(stderr, "  %-26s %9.0f ns %7.0f ns %9.0f%%\n", name(static_cast<Point>(i)), at, at - prev,
                   100.0 * static_cast<double>(hits[i]) / static_cast<double>(traces));
      prev = at;
    }
    *this = Table{};
  }
};

thread_local Table table;

}  // namespace

void begin(Point p) {
  if (table.tsc0 == 0) {
    table.tsc0 = __rdtsc();
    table.t0 = std::chrono::steady_clock::now();
  }
  table.start = __rdtsc();
  table.seen = 0;
  mark(p);
}

void mark(Point p) {
  if (table.start == 0) return;
  const auto i = static_cast<size_t>(p);
  if ((table.seen & (1u << i)) != 0) return;
  table.seen |= 1u << i;
  table.sum[i] += __rdtsc() - table.start;
  ++table.hits[i];
}

void end(Point p) {
  if (table.start == 0) return;
  mark(p);
  ++table.traces;
  table.start = 0;
}

void report(const char* label) { table.report(label); }

#endif

}  // namespace xnet::stage
