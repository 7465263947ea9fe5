// xnet capture: make the running xnet process on an interface write what it
// sends and receives to a pcap file, for a while.

#include <fmt/format.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "tools/commands.h"
#include "host/control.h"

namespace xnet::tools {
namespace {

struct CaptureArgs {
  std::string dev, out;
  double seconds = 0;
};

int run_capture(const CaptureArgs& a) {
  // The running process opens the file: give it an absolute path.
  const std::string path = std::filesystem::absolute(a.out).string();
  auto r = control_request(a.dev, "capture " + path);
  if (!r) {
    return fail(fmt::format("no xnet process serves {} in this network namespace (start one with "
                            "`xnet echo --dev {} ...`, or pass --capture FILE to it)",
                            a.dev, a.dev));
  }
  if (r->rfind("ok\n", 0) != 0) return fail(r->substr(r->find(':') == std::string::npos ? 0 : r->find(':') + 2));
  fmt::print(stderr, "xnet capture: writing {} frames to {}; Ctrl-C to stop\n", a.dev, path);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  const int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  pollfd p{sfd, POLLIN, 0};
  (void)::poll(&p, 1, a.seconds > 0 ? static_cast<int>(a.seconds * 1000) : -1);
  ::close(sfd);
  auto stop = control_request(a.dev, "capture-stop");
  if (!stop || stop->rfind("ok\n", 0) != 0) return fail(fmt::format("could not stop the capture on {}", a.dev));
  fmt::print("{}", stop->substr(3));
  return 0;
}

}  // namespace

Command add_capture_command(CLI::App& app) {
  auto args = std::make_shared<CaptureArgs>();
  CLI::App* c = app.add_subcommand("capture", "write what the xnet process on an interface sends and receives to pcap");
  c->add_option("--dev", args->dev, "interface the xnet process serves")->required();
  c->add_option("--out", args->out, "pcap file to write (readable by tcpdump -r / tshark)")->required();
  c->add_option("--seconds", args->seconds, "stop after this many seconds (default: Ctrl-C)");
  c->footer("Example: xnet capture --dev veth0 --out /tmp/xnet.pcap --seconds 5 && tcpdump -nr /tmp/xnet.pcap");
  return [args] { return run_capture(*args); };
}

}  // namespace xnet::tools
