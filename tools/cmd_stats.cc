// xnet stats: the live counters of the xnet process serving an interface, as
// text (/proc/net/snmp layout), as JSON, or as what moved each interval.

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <thread>
#include <variant>

#include "host/control.h"
#include "tools/commands.h"
#include "tools/stats_report.h"

namespace xnet::tools {
namespace {

struct StatsArgs {
  std::string dev;
  bool json = false;
  double watch = 0;   // seconds between readings; 0: one reading
  uint64_t count = 0;  // --watch: readings after the first (0: until interrupted)
};

// The process's reply without its "ok" line, or the status to exit with.
std::variant<std::string, int> fetch(const std::string& dev) {
  auto r = control_request(dev, "stats");
  if (!r) {
    if (r.error() == std::errc::connection_refused || r.error() == std::errc::no_such_file_or_directory) {
      return fail(fmt::format("no xnet process serves {} in this network namespace "
                              "(start one with `xnet echo --dev {} ...`, or run this inside its namespace)",
                              dev, dev));
    }
    return fail(fmt::format("{} did not answer: {}", dev, r.error().message()));
  }
  const std::string& reply = r.value();
  if (reply.rfind("ok\n", 0) != 0) return fail(reply);
  return reply.substr(3);
}

std::variant<StatsReport, int> fetch_report(const std::string& dev) {
  auto text = fetch(dev);
  if (const int* status = std::get_if<int>(&text)) return *status;
  std::string error;
  auto report = parse_stats(std::get<std::string>(text), &error);
  if (!report) return fail(fmt::format("unexpected stats from {}: {}", dev, error));
  return *report;
}

int run_stats(const StatsArgs& a) {
  if (a.watch <= 0 && !a.json) {
    auto text = fetch(a.dev);
    if (const int* status = std::get_if<int>(&text)) return *status;
    fmt::print("{}", std::get<std::string>(text));
    return 0;
  }
  auto first = fetch_report(a.dev);
  if (const int* status = std::get_if<int>(&first)) return *status;
  if (a.watch <= 0) {
    fmt::print("{}", stats_json(std::get<StatsReport>(first)));
    return 0;
  }
  StatsReport last = std::get<StatsReport>(first);
  const auto period = std::chrono::duration<double>(a.watch);
  for (uint64_t i = 0; a.count == 0 || i < a.count; ++i) {
    std::this_thread::sleep_for(period);
    auto next = fetch_report(a.dev);
    if (const int* status = std::get_if<int>(&next)) return *status;
    StatsReport& now = std::get<StatsReport>(next);
    const std::time_t t = std::time(nullptr);
    fmt::print("# {:%H:%M:%S} {} over {:g} s\n", fmt::localtime(t), a.dev, a.watch);
    fmt::print("{}", stats_deltas(last, now));
    std::fflush(stdout);
    last = std::move(now);
  }
  return 0;
}

}  // namespace

Command add_stats_command(CLI::App& app) {
  auto a = std::make_shared<StatsArgs>();
  CLI::App* c = app.add_subcommand("stats", "live counters of the xnet process on an interface");
  c->add_option("--dev", a->dev, "interface the xnet process serves")->required();
  c->add_flag("--json", a->json, "every counter, drop reason and queue figure as one JSON object");
  c->add_option("--watch", a->watch,
                "print the counters that moved every SECONDS (default 1), like nstat, until interrupted")
      ->expected(0, 1)
      ->default_str("1")
      ->check(CLI::PositiveNumber);
  c->add_option("--count", a->count, "with --watch: stop after this many intervals");
  c->footer(
      "Prints Ip:/Icmp:/IcmpMsg:/Udp: lines in /proc/net/snmp format, IpExt: (as /proc/net/netstat),\n"
      "XnetDrops: (every drop reason xnet counts), then one Queue: line per AF_XDP queue (packets,\n"
      "ring occupancy, kernel drop counters, frames in flight).\n"
      "Examples:\n"
      "  xnet stats --dev veth0\n"
      "  xnet stats --dev veth0 --json | jq .Udp.InDatagrams\n"
      "  xnet stats --dev veth0 --watch 2          # what moved every 2 s; Ctrl-C ends it\n"
      "  xnet stats --dev veth0 --watch --count 5  # five 1 s intervals");
  return [a, c] {
    if (c->count("--watch") != 0 && a->watch <= 0) a->watch = 1;
    if (a->count != 0 && a->watch <= 0) return fail("--count needs --watch");
    if (a->json && a->watch > 0) return fail("--json and --watch do not go together");
    return run_stats(*a);
  };
}

}  // namespace xnet::tools
