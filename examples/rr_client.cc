// A request/response client with a timeout per attempt and retries: sends
// --count requests to a UDP service and waits for each answer, retrying a
// request up to --retries times when no answer comes within --timeout-ms.
//
//   rr_client --dev veth1 --addr 10.0.0.3/24 --to 10.0.0.1 [--port 7]
//             [--count 100] [--timeout-ms 200] [--retries 3]

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

#include "examples/example_args.h"
#include "runtime/with_timeout.h"
#include "stack/api/udp_socket.h"

using namespace xnet;
using namespace std::chrono_literals;

struct Outcome {
  int answered = 0, retried = 0, failed = 0;
  std::atomic<bool> done{false};
};

// One request: send, wait up to `timeout` for the matching answer, retry.
static rt::Task<bool> request(UdpSocket& sock, const std::string& text, std::chrono::milliseconds timeout,
                              int retries, Outcome& out) {
  std::array<std::byte, 2048> buf;
  for (int attempt = 0; attempt <= retries; ++attempt) {
    if (attempt > 0) out.retried++;
    if (!co_await sock.send(std::as_bytes(std::span(text)))) co_return false;
    // with_timeout cancels the receive; a late answer stays queued and is
    // skipped below because its text does not match.
    for (;;) {
      auto r = co_await rt::with_timeout(sock.recv_from(buf), timeout);
      if (!r) break;  // timed out (or ECONNREFUSED: nobody listens yet): retry
      if (r->size == text.size() && std::memcmp(buf.data(), text.data(), text.size()) == 0) co_return true;
    }
  }
  co_return false;
}

static rt::Task<void> run(StackDriver& driver, Endpoint server, long count, std::chrono::milliseconds timeout,
                          int retries, Outcome& out) {
  auto sock = UdpSocket::open(driver);
  if (sock && sock->connect(server)) {
    for (long i = 0; i < count; ++i) {
      const std::string text = "request " + std::to_string(i);
      if (co_await request(*sock, text, timeout, retries, out)) out.answered++;
      else out.failed++;
    }
  }
  out.done = true;
}

int main(int argc, char** argv) {
  examples::Args args(argc, argv);
  auto options = args.service("rr_client --dev IF --addr A.B.C.D/N --to A.B.C.D [--port 7] [--count N] "
                              "[--timeout-ms MS] [--retries N]");
  options.queues = 1;
  auto to = wire::Ipv4Addr::parse(args.get("--to"));
  if (!to) {
    std::fprintf(stderr, "rr_client: --to A.B.C.D is required\n");
    return 2;
  }
  const Endpoint server{*to, static_cast<uint16_t>(args.number("--port", 7))};
  const long count = args.number("--count", 100);
  const auto timeout = std::chrono::milliseconds(args.number("--timeout-ms", 200));
  const int retries = static_cast<int>(args.number("--retries", 3));
  std::string error;
  auto host = ServiceHost::open(options, &error);
  if (!host) {
    std::fprintf(stderr, "rr_client: %s\n", error.c_str());
    return 1;
  }
  Outcome out;
  host->serve([&](StackDriver& d) { return run(d, server, count, timeout, retries, out); });
  host->run(std::nullopt, [&] { return out.done.load(); });
  (void)host->stop();
  std::printf("answered %d, retried %d, failed %d\n", out.answered, out.retried, out.failed);
  return out.failed == 0 ? 0 : 1;
}
