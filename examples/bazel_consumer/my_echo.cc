// A user's service on xnet, in a workspace of its own: sends every datagram
// on its port back to its sender.
//
//   my_echo --dev veth0 --addr 10.0.0.1/24 [--port 9000] [--seconds S]

#include <cstdio>
#include <cstdlib>
#include <string>

#include "host/service_host.h"
#include "stack/api/udp_socket.h"

using namespace xnet;

static rt::Task<void> echo(StackDriver& driver, uint16_t port) {
  auto sock = UdpSocket::open(driver);
  if (!sock || !sock->set_reuse_port(true) || !sock->bind({Ipv4Addr(), port})) co_return;
  std::byte buf[2048];
  for (;;) {
    auto r = co_await sock->recv_from(buf);
    if (!r) co_return;  // stopping
    (void)sock->try_send_to(r->source, std::span<const std::byte>(buf, r->copied));
  }
}

int main(int argc, char** argv) {
  ServiceOptions options;
  uint16_t port = 9000;
  double seconds = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--dev") options.dev = argv[i + 1];
    else if (flag == "--addr" && wire::Ipv4Prefix::parse(argv[i + 1])) options.addr = *wire::Ipv4Prefix::parse(argv[i + 1]);
    else if (flag == "--port") port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    else if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
  }
  if (options.dev.empty() || options.addr.addr.is_unspecified()) {
    std::fprintf(stderr, "usage: my_echo --dev IF --addr A.B.C.D/N [--port 9000] [--seconds S]\n");
    return 2;
  }
  std::string error;
  auto host = ServiceHost::open(options, &error);
  if (!host) {
    std::fprintf(stderr, "my_echo: %s\n", error.c_str());
    return 1;
  }
  host->serve([port](StackDriver& d) { return echo(d, port); });
  std::optional<std::chrono::milliseconds> limit;
  if (seconds > 0) limit = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  host->run(limit);
  return 0;
}
