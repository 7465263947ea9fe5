// Client of kv_store: SETs --count keys, then GETs them back and checks every
// value, with a timeout and retries per request (UDP may lose datagrams).
//
//   kv_client --dev veth1 --addr 10.0.0.3/24 --to 10.0.0.1 [--port 6379] [--count 200]

#include <atomic>
#include <cstdio>
#include <string>

#include "examples/example_args.h"
#include "runtime/with_timeout.h"
#include "stack/api/udp_socket.h"

using namespace xnet;
using namespace std::chrono_literals;

// Sends `request` until an answer arrives (3 attempts, 200 ms each).
static rt::Task<std::string> call(UdpSocket& sock, const std::string& request) {
  std::array<std::byte, 1500> buf;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!co_await sock.send(std::as_bytes(std::span(request)))) break;
    auto r = co_await rt::with_timeout(sock.recv_from(buf), 200ms);
    if (r) co_return std::string(reinterpret_cast<const char*>(buf.data()), r->size);
  }
  co_return "";
}

struct Tally {
  int ok = 0, wrong = 0, lost = 0;
  std::atomic<bool> done{false};
};

static rt::Task<void> run(StackDriver& driver, Endpoint server, long count, Tally& res) {
  auto sock = UdpSocket::open(driver);
  if (sock && sock->connect(server)) {
    for (long i = 0; i < count; ++i) {
      const std::string reply = co_await call(*sock, "SET key" + std::to_string(i) + " value" + std::to_string(i * i));
      if (reply != "STORED") res.lost++;
    }
    for (long i = 0; i < count; ++i) {
      const std::string reply = co_await call(*sock, "GET key" + std::to_string(i));
      if (reply.empty()) res.lost++;
      else if (reply == "VALUE value" + std::to_string(i * i)) res.ok++;
      else res.wrong++;
    }
  }
  res.done = true;
}

int main(int argc, char** argv) {
  examples::Args args(argc, argv);
  auto options = args.service("kv_client --dev IF --addr A.B.C.D/N --to A.B.C.D [--port 6379] [--count N]");
  options.queues = 1;
  auto to = wire::Ipv4Addr::parse(args.get("--to"));
  if (!to) {
    std::fprintf(stderr, "kv_client: --to A.B.C.D is required\n");
    return 2;
  }
  const Endpoint server{*to, static_cast<uint16_t>(args.number("--port", 6379))};
  const long count = args.number("--count", 200);
  std::string error;
  auto host = ServiceHost::open(options, &error);
  if (!host) {
    std::fprintf(stderr, "kv_client: %s\n", error.c_str());
    return 1;
  }
  Tally res;
  host->serve([&](StackDriver& d) { return run(d, server, count, res); });
  host->run(std::nullopt, [&] { return res.done.load(); });
  (void)host->stop();
  std::printf("kv_client: %d values read back correctly, %d wrong, %d requests unanswered\n", res.ok, res.wrong,
              res.lost);
  return res.ok == count ? 0 : 1;
}
