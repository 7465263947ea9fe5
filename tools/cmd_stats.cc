// xnet stats: the live counters of the xnet process serving an interface.

#include <fmt/format.h>

#include "tools/commands.h"
#include "host/control.h"

namespace xnet::tools {
namespace {

int run_stats(const std::string& dev) {
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
  fmt::print("{}", reply.substr(3));
  return 0;
}

}  // namespace

Command add_stats_command(CLI::App& app) {
  auto dev = std::make_shared<std::string>();
  CLI::App* c = app.add_subcommand("stats", "live counters of the xnet process on an interface");
  c->add_option("--dev", *dev, "interface the xnet process serves")->required();
  c->footer(
      "Prints Ip:/Icmp:/IcmpMsg:/Udp: lines in /proc/net/snmp format, then one Queue:\n"
      "line per AF_XDP queue (packets, ring occupancy, kernel drop counters, frames in flight).\n"
      "Example: xnet stats --dev veth0");
  return [dev] { return run_stats(*dev); };
}

}  // namespace xnet::tools
