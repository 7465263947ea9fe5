// xnet: run services on the userspace stack, measure them, inspect them.

#include <fmt/format.h>
#include <unistd.h>

#include "tools/commands.h"

namespace xnet::tools {

int fail(const std::string& message, int status) {
  fmt::print(stderr, "xnet: {}\n", message);
  return status;
}

bool require_root(const char* what) {
  if (geteuid() == 0) return true;
  fail(fmt::format("{} needs root (CAP_NET_ADMIN and CAP_BPF to attach XDP and bind AF_XDP "
                   "sockets); run it with sudo",
                   what));
  return false;
}

}  // namespace xnet::tools

int main(int argc, char** argv) {
  using namespace xnet::tools;
  CLI::App app{
      "xnet: a userspace UDP/IPv4 stack over AF_XDP.\n"
      "It owns an IPv4 address on an interface (the kernel must not have it): an XDP\n"
      "program steers that address's frames to xnet and passes everything else to the kernel.",
      "xnet"};
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  xnet echo --dev veth0 --addr 10.0.0.1/24 --port 7\n"
      "  xnet ping --dev veth1 --addr 10.0.0.3/24 --to 10.0.0.1:7 --count 10000\n"
      "  xnet ping --kernel --to 10.0.0.1:7\n"
      "  xnet stats --dev veth0\n"
      "  xnet capture --dev veth0 --out /tmp/xnet.pcap --seconds 5\n"
      "Run `xnet SUBCOMMAND --help` for each.");
  Command echo = add_echo_command(app);
  Command ping = add_ping_command(app);
  Command stats = add_stats_command(app);
  Command capture = add_capture_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (CLI::App* sub : app.get_subcommands()) {
    if (sub->get_name() == "echo") return echo();
    if (sub->get_name() == "ping") return ping();
    if (sub->get_name() == "stats") return stats();
    if (sub->get_name() == "capture") return capture();
  }
  return 1;
}
