// xnet ping: UDP request/response round trips to an echo service, on xnet's
// own AF_XDP stack (owning --addr on --dev) or, with --kernel, on a kernel UDP
// socket for comparison. Prints RTT min / p50 / p99 / p99.9 / max and loss.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstring>
#include <thread>
#include <vector>

#include "runtime/sleep.h"
#include "runtime/task.h"
#include "runtime/when_all.h"
#include "stack/api/udp_socket.h"
#include "tools/cli_options.h"
#include "tools/commands.h"
#include "tools/ping_report.h"
#include "host/service_host.h"

namespace xnet::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct PingArgs {
  std::string dev, addr, to, gateway;
  uint64_t count = 1000;
  size_t size = 64;
  double interval_ms = 0;
  double timeout_ms = 1000;
  uint32_t warmup = 10;
  bool kernel = false;
  bool busy_poll = false;
  bool shared = false;  // xnet: the kernel's address on --dev (issue 18)
  uint32_t queues = 0;  // xnet: receive queues served (0: all)
  uint32_t flows = 1;   // xnet: client sockets, round robin over the shards
};

uint64_t since_ns(Clock::time_point t) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count());
}

// Progress on stderr once a second for runs longer than that.
struct Progress {
  Clock::time_point next = Clock::now() + std::chrono::seconds(1);
  bool shown = false;
  void maybe(const PingTally& t, uint64_t count) {
    if (Clock::now() < next) return;
    next = Clock::now() + std::chrono::seconds(1);
    fmt::print(stderr, "{}", format_progress(t, count));
    shown = true;
  }
  void done() {
    if (shown) fmt::print(stderr, "\n");
  }
};

// --- on xnet (AF_XDP) ---

// One flow: a connected client socket doing `count` round trips (after the
// warmup) one after another. Progress only for a single flow (the tallies of
// several live on several shards and are summed at the end).
struct Flow {
  uint64_t count = 0;
  PingTally tally;
};

// Counts the flows still running: the host stops when none is.
struct FlowEnd {
  std::atomic<unsigned>& running;
  ~FlowEnd() { running.fetch_sub(1); }
};

rt::Task<void> xnet_client(StackDriver& driver, const PingArgs& a, EndpointArg to, Flow& flow,
                           std::atomic<unsigned>& running, bool show_progress) {
  FlowEnd end{running};
  PingTally& tally = flow.tally;
  auto sock = UdpSocket::open(driver);
  if (!sock || !sock->connect({to.addr, to.port})) {
    fmt::print(stderr, "xnet: ping cannot connect to {}:{}\n", to.addr.to_string(), to.port);
    co_return;
  }
  // SO_RCVTIMEO, as the kernel client below sets it: a reply not back in
  // time fails the receive with EAGAIN.
  (void)sock->set_recv_timeout(std::chrono::microseconds(std::max<int64_t>(1, std::llround(a.timeout_ms * 1000))));
  std::vector<std::byte> req(a.size), buf(a.size + 64);
  Progress progress;
  for (uint64_t seq = 0; seq < flow.count + a.warmup; ++seq) {
    const bool counted = seq >= a.warmup;
    fill_request(req, seq);
    const auto t0 = Clock::now();
    if (!co_await sock->send(req)) break;  // stopped
    if (counted) tally.sent++;
    for (;;) {
      auto r = co_await sock->recv_from(buf);
      if (!r) {
        if (r.error() == std::errc::resource_unavailable_try_again) {
          if (counted) tally.lost++;
          break;
        }
        if (r.error() == std::errc::connection_refused) continue;  // reported once; keep going
        co_return;
      }
      const std::span<const std::byte> got(buf.data(), r->size);
      if (r->size < sizeof(uint64_t) || reply_seq(got) != seq) continue;  // a late reply to an earlier request
      if (counted) {
        tally.rtt.record(since_ns(t0));
        tally.received++;
        if (!reply_intact(got, a.size)) tally.corrupt++;
      }
      break;
    }
    if (show_progress) progress.maybe(tally, flow.count);
    if (a.interval_ms > 0) (void)co_await rt::sleep_for(std::chrono::microseconds(static_cast<int64_t>(a.interval_ms * 1000)));
  }
  progress.done();
}

// The flows of one shard (flow f runs on shard f % shards), side by side.
rt::Task<void> shard_flows(StackDriver& driver, const PingArgs& a, EndpointArg to, std::vector<Flow>& flows,
                           std::atomic<unsigned>& running, unsigned shards) {
  std::vector<rt::Task<void>> mine;
  for (size_t f = rt::this_shard(); f < flows.size(); f += shards) {
    mine.push_back(xnet_client(driver, a, to, flows[f], running, flows.size() == 1));
  }
  if (!mine.empty()) (void)co_await rt::when_all(std::move(mine));
}

int run_xnet_ping(const PingArgs& a, EndpointArg to) {
  if (a.dev.empty() || (a.addr.empty() && !a.shared)) {
    return fail(
        "xnet ping needs --dev and --addr (the address xnet owns for the client), or --dev and --shared (the "
        "kernel's address on --dev), or --kernel");
  }
  if (!require_root("xnet ping")) return 1;
  std::string err;
  ServiceOptions o;
  if (!parse_service_args(a.dev, a.addr, a.gateway, a.shared, o, &err)) return fail(err);
  // Every queue by default: a reply the NIC puts on another shard's queue is
  // handed over to the shard of its socket (stack/api/shard_handoff.h).
  o.queues = a.queues;
  o.busy_poll = a.busy_poll;
  auto host = ServiceHost::open(o, &err);
  if (!host) return fail(err);
  const unsigned shards = host->shard_count();
  // --count round trips in all, shared out over the flows.
  std::vector<Flow> flows(a.flows);
  for (size_t f = 0; f < flows.size(); ++f) flows[f].count = a.count / a.flows + (f < a.count % a.flows ? 1 : 0);
  std::atomic<unsigned> running{a.flows};
  host->serve([&](StackDriver& d) { return shard_flows(d, a, to, flows, running, shards); });
  const int sig = host->run(std::nullopt, [&] { return running.load() == 0; });
  host->stop_services();
  const stack::HandoffStats handoff = host->stats().handoff;
  (void)host->stop();
  PingTally tally;
  for (const Flow& f : flows) {
    tally.rtt += f.tally.rtt;
    tally.sent += f.tally.sent;
    tally.received += f.tally.received;
    tally.lost += f.tally.lost;
    tally.corrupt += f.tally.corrupt;
  }
  const std::string spread =
      a.flows == 1 ? std::string() : fmt::format(", {} flows over {} shard(s)", a.flows, shards);
  fmt::print("{}", format_ping_report(fmt::format("xnet ping {}:{} from {} on {} (AF_XDP, {} mode{}): {} x {} bytes{}",
                                                  to.addr.to_string(), to.port,
                                                  a.shared ? "the kernel's address" : a.addr, a.dev,
                                                  a.busy_poll ? "busy-poll" : "idle", spread, a.count, a.size,
                                                  sig == ServiceHost::kLinkLost ? ", the link was lost"
                                                  : sig != 0                    ? ", interrupted"
                                                                                : ""),
                                      tally));
  // Replies that landed on another shard's queue and were handed over to their
  // socket's shard (none with one shard).
  if (shards > 1) {
    fmt::print("  cross-shard: {} datagrams handed over, {} dropped (ring full), {} dropped (no frame)\n",
               handoff.DatagramsOut, handoff.RingFull, handoff.NoFrame);
  }
  if (sig == ServiceHost::kLinkLost) return 1;
  return tally.received == 0 ? 2 : 0;
}

// --- on a kernel socket ---

// Ctrl-C ends the run early; the report still covers what was measured.
volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

int run_kernel_ping(const PingArgs& a, EndpointArg to) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(fmt::format("socket: {}", std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(to.port);
  sa.sin_addr.s_addr = htonl(to.addr.value());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    return fail(fmt::format("connect to {}:{}: {}", to.addr.to_string(), to.port, std::strerror(errno)));
  }
  timeval tv{static_cast<time_t>(a.timeout_ms / 1000), static_cast<suseconds_t>(std::fmod(a.timeout_ms, 1000.0) * 1000)};
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::vector<std::byte> req(a.size), buf(a.size + 64);
  PingTally tally;
  Progress progress;
  const auto timeout = std::chrono::microseconds(static_cast<int64_t>(a.timeout_ms * 1000));
  struct sigaction sa_int {};
  sa_int.sa_handler = on_interrupt;  // no SA_RESTART: a blocked recv returns EINTR
  sigaction(SIGINT, &sa_int, nullptr);
  sigaction(SIGTERM, &sa_int, nullptr);
  for (uint64_t seq = 0; seq < a.count + a.warmup && !g_interrupted; ++seq) {
    const bool counted = seq >= a.warmup;
    fill_request(req, seq);
    const auto t0 = Clock::now();
    if (::send(fd, req.data(), req.size(), 0) < 0 && errno != ECONNREFUSED) {
      return fail(fmt::format("send: {}", std::strerror(errno)));
    }
    if (counted) tally.sent++;
    for (;;) {
      const ssize_t n = ::recv(fd, buf.data(), buf.size(), a.busy_poll ? MSG_DONTWAIT : 0);
      if (n < 0) {
        if (g_interrupted) break;
        if (a.busy_poll && errno == EAGAIN && Clock::now() - t0 < timeout) continue;  // spin
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED) {
          if (counted) tally.lost++;
          break;
        }
        return fail(fmt::format("recv: {}", std::strerror(errno)));
      }
      const std::span<const std::byte> got(buf.data(), static_cast<size_t>(n));
      if (got.size() < sizeof(uint64_t) || reply_seq(got) != seq) continue;
      if (counted) {
        tally.rtt.record(since_ns(t0));
        tally.received++;
        if (!reply_intact(got, a.size)) tally.corrupt++;
      }
      break;
    }
    progress.maybe(tally, a.count);
    if (a.interval_ms > 0) std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(a.interval_ms * 1000)));
  }
  progress.done();
  fmt::print("{}", format_ping_report(fmt::format("kernel UDP socket ping {}:{} ({}): {} x {} bytes{}", to.addr.to_string(),
                                                  to.port, a.busy_poll ? "busy-poll, MSG_DONTWAIT" : "blocking",
                                                  a.count, a.size, g_interrupted ? ", interrupted" : ""),
                                      tally));
  return tally.received == 0 ? 2 : 0;
}

int run_ping(const PingArgs& a) {
  std::string err;
  auto to = parse_endpoint_arg(a.to, &err);
  if (!to) return fail(err);
  if (a.size < sizeof(uint64_t) || a.size > 65507) return fail("--size must be 8..65507 bytes (8 carry the sequence number)");
  if (a.flows == 0 || a.flows > 4096) return fail("--flows must be 1..4096");
  if (a.kernel && (a.flows != 1 || a.queues != 0)) return fail("--flows and --queues are for xnet's stack, not --kernel");
  return a.kernel ? run_kernel_ping(a, *to) : run_xnet_ping(a, *to);
}

}  // namespace

Command add_ping_command(CLI::App& app) {
  auto args = std::make_shared<PingArgs>();
  CLI::App* c = app.add_subcommand("ping", "UDP round trips to an echo service: RTT percentiles and loss");
  c->add_option("--to", args->to, "echo service, A.B.C.D[:PORT] (port 7 by default)")->required();
  c->add_option("--dev", args->dev, "interface for xnet's own stack (not with --kernel)");
  c->add_option("--addr", args->addr, "address/prefix xnet owns for the client, e.g. 10.0.0.3/24");
  c->add_option("--gateway", args->gateway, "default gateway (on the --addr subnet)");
  c->add_flag("--shared", args->shared,
              "use the address the kernel has on --dev (the kernel keeps it; xnet takes only its client ports)");
  c->add_option("--count", args->count, "round trips to measure")->capture_default_str();
  c->add_option("--size", args->size, "UDP payload bytes (8..65507)")->capture_default_str();
  c->add_option("--interval", args->interval_ms, "milliseconds between requests (0: back to back)")->capture_default_str();
  c->add_option("--timeout", args->timeout_ms, "milliseconds to wait for each reply before counting it lost")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  c->add_option("--warmup", args->warmup, "round trips before measuring (ARP, caches)")->capture_default_str();
  c->add_option("--queues", args->queues,
                 "receive queues of --dev to serve, one shard each (0: all; a reply on a queue of another shard is "
                 "handed over to its socket's shard)")
      ->capture_default_str();
  c->add_option("--flows", args->flows,
                "client sockets, spread over the shards round robin; --count is shared out among them")
      ->capture_default_str();
  c->add_flag("--kernel", args->kernel, "use a kernel UDP socket instead of xnet (for comparison)");
  c->add_flag("--busy-poll", args->busy_poll, "spin instead of sleeping (xnet: busy-poll reactor; kernel: MSG_DONTWAIT)");
  c->footer(
      "Examples:\n"
      "  xnet ping --dev veth1 --addr 10.0.0.3/24 --to 10.0.0.1:7 --count 10000\n"
      "  xnet ping --dev veth1 --addr 10.0.0.3/24 --to 10.0.0.1:7 --queues 2 --flows 8\n"
      "  xnet ping --kernel --to 10.0.0.1:7 --count 10000 --busy-poll\n"
      "Exit status: 0 when replies came back, 2 when none did, 1 on errors.");
  return [args] { return run_ping(*args); };
}

}  // namespace xnet::tools
