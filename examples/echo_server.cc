// A UDP echo server on xnet: every datagram is sent back to its sender.
//
//   echo_server --dev veth0 --addr 10.0.0.1/24 [--port 7] [--queues N (0: all)] [--seconds S]
//   echo_server --dev eth1 --shared [--port 7]   (the kernel keeps eth1's address)
//
// One coroutine per shard (receive queue); each binds the port with
// SO_REUSEPORT, so together they form a reuseport group and each datagram is
// answered on the shard whose queue it arrived on.

#include <cstdio>

#include "examples/example_args.h"
#include "stack/api/udp_socket.h"

using namespace xnet;

static rt::Task<void> serve(StackDriver& driver, uint16_t port) {
  auto sock = UdpSocket::open(driver);
  if (!sock) co_return;
  (void)sock->set_reuse_port(true);
  if (auto r = sock->bind({Ipv4Addr(), port}); !r) {
    std::fprintf(stderr, "bind %u: %s\n", port, r.error().message().c_str());
    co_return;
  }
  for (;;) {
    // Zero copy in: the datagram is a view of its frame until it is dropped.
    auto d = co_await sock->recv();
    if (!d) co_return;  // the server is stopping
    (void)co_await sock->send_to(d->source(), *d);  // a reassembled one is gathered, not copied
  }
}

int main(int argc, char** argv) {
  examples::Args args(argc, argv);
  auto options = args.service("echo_server --dev IF --addr A.B.C.D/N [--port 7] [--queues N (0: all)] [--seconds S]");
  const auto port = static_cast<uint16_t>(args.number("--port", 7));
  std::string error;
  auto host = ServiceHost::open(options, &error);
  if (!host) {
    std::fprintf(stderr, "echo_server: %s\n", error.c_str());
    return 1;
  }
  host->serve([port](StackDriver& d) { return serve(d, port); });
  std::fprintf(stderr, "echo_server: %s port %u ready\n",
               args.has("--shared") ? "the kernel's address (shared)" : args.get("--addr").c_str(), port);
  const long seconds = args.number("--seconds", 0);
  host->run(seconds > 0 ? std::optional(std::chrono::milliseconds(seconds * 1000)) : std::nullopt);
  const auto stats = host->stats();
  (void)host->stop();
  std::printf("echoed %llu datagrams\n", static_cast<unsigned long long>(stats.udp.OutDatagrams));
  return 0;
}
