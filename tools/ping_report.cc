#include "tools/ping_report.h"

#include <fmt/format.h>

#include <algorithm>

namespace xnet::tools {
namespace {
double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }
}  // namespace

std::string format_ping_report(const std::string& title, const PingTally& t) {
  const double loss = t.sent == 0 ? 0.0 : 100.0 * static_cast<double>(t.lost) / static_cast<double>(t.sent);
  std::string out = fmt::format("{}\n  sent {}  received {}  lost {} ({:.2f}%)", title, t.sent, t.received, t.lost, loss);
  // The request of a run that ended (interrupted, stopped) before its reply
  // or its timeout is neither: said as such, so the figures add up.
  const uint64_t in_flight = t.sent - std::min(t.sent, t.received + t.lost);
  if (in_flight != 0) out += fmt::format("  in flight {} (no reply and no timeout yet when the run ended)", in_flight);
  if (t.corrupt != 0) out += fmt::format("  corrupt {}", t.corrupt);
  out += '\n';
  const LatencyHistogram& h = t.rtt;
  out += fmt::format("  rtt us: min {:.1f}  p50 {:.1f}  p99 {:.1f}  p99.9 {:.1f}  max {:.1f}\n", us(h.min()),
                     us(h.quantile(0.50)), us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max()));
  return out;
}

std::string format_progress(const PingTally& t, uint64_t count) {
  return fmt::format("\r  {}/{}  p50 {:.1f} us  p99 {:.1f} us  lost {}   ", t.sent, count,
                     us(t.rtt.quantile(0.5)), us(t.rtt.quantile(0.99)), t.lost);
}

}  // namespace xnet::tools
