// xnet echo: a UDP echo service (and ICMP echo, answered by the stack) on an
// address xnet owns, or (--shared) on a UDP port of the address the kernel
// has on the interface. Prints the counters in /proc/net/snmp format at exit.

#include <fmt/format.h>

#include <array>

#include "runtime/task.h"
#include "stack/api/udp_socket.h"
#include "tools/cli_options.h"
#include "tools/commands.h"
#include "host/service_host.h"

namespace xnet::tools {
namespace {

struct EchoArgs {
  std::string dev, addr, gateway;
  uint16_t port = 7;
  uint32_t queues = 0;  // every queue
  bool busy_poll = false;
  bool shared = false;
  int64_t idle_spin_us = 50;
  double duration = 0;
  std::string capture;
};

// One shard's echo loop: a reuseport member on every shard, answering each
// datagram where it landed. Batches of up to 32 per wake-up; a reply that
// does not fit the send buffer waits for space (never dropped silently).
rt::Task<void> echo_service(StackDriver& driver, uint16_t port) {
  auto sock = UdpSocket::open(driver);
  if (!sock) co_return;
  (void)sock->set_reuse_port(true);
  if (auto r = sock->bind({Ipv4Addr(), port}); !r) {
    fmt::print(stderr, "xnet: echo cannot bind port {}: {}\n", port, r.error().message());
    co_return;
  }
  std::array<Datagram, 32> batch;
  for (;;) {
    auto n = co_await sock->recv_batch(batch);
    if (!n) co_return;  // stopped (cancelled) or the stack is gone
    for (size_t i = 0; i < *n; ++i) {
      Datagram& d = batch[i];
      // Sent on as it is: a reassembled datagram's frames are gathered.
      auto sent = sock->try_send_to(d.source(), d);
      if (!sent && sent.error() == std::errc::resource_unavailable_try_again) {
        sent = co_await sock->send_to(d.source(), d);
      }
      d.reset();
    }
  }
}

int run_echo(const EchoArgs& a) {
  if (!require_root("xnet echo")) return 1;
  std::string err;
  ServiceOptions o;
  if (!parse_service_args(a.dev, a.addr, a.gateway, a.shared, o, &err)) return fail(err);
  o.queues = a.queues;
  o.busy_poll = a.busy_poll;
  o.idle_spin = std::chrono::microseconds(a.idle_spin_us);
  o.capture_path = a.capture;
  auto host = ServiceHost::open(o, &err);
  if (!host) return fail(err);
  const uint16_t port = a.port;
  host->serve([port](StackDriver& d) { return echo_service(d, port); });
  std::string where = a.addr;
  if (a.shared) {
    where.clear();
    for (const wire::Ipv4Prefix& p : host->xdp().addresses()) {
      where += fmt::format("{}{} (shared with the kernel)", where.empty() ? "" : ", ", p.addr.to_string());
    }
  }
  fmt::print(stderr, "xnet echo: {} on {} port {} ({} shard{}, {} mode); Ctrl-C to stop\n", where, a.dev, port,
             host->shard_count(), host->shard_count() == 1 ? "" : "s", a.busy_poll ? "busy-poll" : "idle");
  std::optional<std::chrono::milliseconds> dur;
  if (a.duration > 0) dur = std::chrono::milliseconds(static_cast<int64_t>(a.duration * 1000));
  const int why = host->run(dur);
  const std::string counters = host->snmp_text();
  (void)host->stop();
  fmt::print("{}", counters);
  std::fflush(stdout);
  return why == ServiceHost::kLinkLost ? 1 : 0;
}

}  // namespace

Command add_echo_command(CLI::App& app) {
  auto args = std::make_shared<EchoArgs>();
  CLI::App* c = app.add_subcommand("echo", "UDP echo service on an address xnet owns (AF_XDP)");
  c->add_option("--dev", args->dev, "interface to attach to (the kernel must not own --addr there, unless --shared)")
      ->required();
  CLI::Option* addr = c->add_option("--addr", args->addr, "address/prefix xnet owns, e.g. 10.0.0.1/24");
  c->add_flag("--shared", args->shared,
              "use the address the kernel has on --dev: xnet takes only its UDP port(s), the kernel keeps ARP, "
              "ICMP, TCP and its other ports")
      ->excludes(addr);
  c->add_option("--gateway", args->gateway, "default gateway (on the --addr subnet)");
  c->add_option("--port", args->port, "UDP port to echo on")->capture_default_str();
  c->add_option("--queues", args->queues, "receive queues to serve, one shard (thread) each; 0 = every queue (fewer: what lands on the others is lost)")
      ->capture_default_str();
  CLI::Option* busy =
      c->add_flag("--busy-poll", args->busy_poll, "spin on the rings instead of sleeping (lowest latency, one core per shard)");
  c->add_option("--idle-spin-us", args->idle_spin_us,
                "idle mode: microseconds a shard keeps spinning after its last work before it sleeps; 0 sleeps at "
                "once (a shard sharing its core with the NAPI kthread that fills its ring)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}))
      ->excludes(busy)
      ->capture_default_str();
  c->add_option("--duration", args->duration, "stop after this many seconds (default: until Ctrl-C)");
  c->add_option("--capture", args->capture, "also write every frame sent and received to this pcap file");
  c->footer(
      "On SIGINT/SIGTERM or after --duration: detaches the XDP program, prints the\n"
      "counters (Ip:, Icmp:, IcmpMsg:, Udp: as in /proc/net/snmp) and exits 0.\n"
      "Example: xnet echo --dev veth0 --addr 10.0.0.1/24 --port 7 --duration 60\n"
      "         xnet echo --dev eth1 --shared --port 7   # the kernel keeps eth1's address");
  return [args] { return run_echo(*args); };
}

}  // namespace xnet::tools
