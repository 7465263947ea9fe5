#pragma once
// ServiceHost: what every `xnet` subcommand that runs on AF_XDP shares. It
// owns an interface (XdpHost: steering program, one XdpLink + Stack per
// queue), runs one shard per queue on an rt::Runtime (ShardedStacks), serves
// the control channel (`xnet stats`, `xnet capture`), and stops cleanly on
// SIGINT/SIGTERM or at a deadline: services cancelled, sockets closed, the
// XDP program detached.
//
//   std::string err;
//   auto host = ServiceHost::open(opts, &err);
//   if (!host) { fmt::print(stderr, "xnet: {}\n", err); return 1; }
//   host->serve([](StackDriver& d) -> rt::Task<void> { ... });
//   host->run(std::chrono::seconds(10));
//   fmt::print("{}", host->snmp_text());
//
// Beside serve(): run_on(shard, fn) runs fn(StackDriver&) on a shard and
// returns its result to the calling thread (set up a socket, read a counter,
// install a per-poll app with StackDriver::add_app, read the shard thread's
// rusage or its reactor's sleeps). A program that wants the last figures
// after its services ended calls stop_services(), reads them (stats(),
// ring_text(), link()), then stop().

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stack/api/sharded_stacks.h"
#include "stack/api/stack_driver.h"
#include "stack/core/stack_config.h"
#include "stack/core/stats.h"
#include "stack/wire/addr.h"
#include "host/capture_link.h"
#include "host/control.h"
#include "xdp/host/xdp_host.h"
#include "xdp/kernel_tables.h"

namespace xnet {

struct ServiceOptions {
  std::string dev;
  wire::Ipv4Prefix addr;
  // Share the kernel's address(es) on `dev` instead of owning `addr` (which
  // is then unused): xnet gets only the UDP ports its sockets hold, each held
  // by a kernel socket too; neighbours and routes come from the kernel
  // (xdp/host/xdp_host.h, README "Sharing the host's address").
  bool shared = false;
  std::optional<wire::Ipv4Addr> gateway;
  // 0: every receive queue of the interface (the default: an AF_XDP socket
  // sees only its queue, and the NIC decides where each flow lands).
  uint32_t queues = 0;
  bool busy_poll = false;
  // Busy shards give the core away after an empty pass (sched_yield), so a
  // NAPI kthread pinned to the same core runs (a receiver's layout).
  bool yield_when_idle = false;
  // Idle shards spin this long after their last work before they sleep in
  // io_uring. 0: sleep at once — for a receiver that shares its core with the
  // NAPI kthread filling its ring: woken when frames arrive, it preempts the
  // kthread, refills the fill ring and sleeps again, where a spinning or
  // yielding one gets only CFS's share and the ring runs dry (measured:
  // netbench throughput, README "Tuning").
  std::chrono::microseconds idle_spin{50};
  // Shard threads under SCHED_BATCH (rt::RuntimeOptions::sched_batch): woken
  // by the NAPI kthread on their core they do not preempt it, and take more
  // frames a wake-up. For throughput receivers; needs rings that hold a
  // scheduler slice of traffic (README "Tuning").
  bool sched_batch = false;
  // Shard i on cpus[i]; empty: the first free cores (rt::RuntimeOptions::cpus).
  std::vector<int> cpus{};
  // Rings, UMEM, batch, busy-poll socket options of every queue's link.
  xdp::XdpLinkConfig link;
  // Every shard's stack (sysctls; a non-zero seed is offset per queue).
  stack::StackConfig stack;
  bool control = true;  // serve `xnet stats` / `xnet capture`
  std::string capture_path;  // non-empty: capture from the start
  // SIGINT/SIGTERM end run() (read from a signalfd); false when the program
  // handles signals itself (netbench's signal thread).
  bool handle_signals = true;
  // One line of advice on stderr where the setup needs the peer's help (a
  // veth's kernel peer must send complete checksums).
  bool advise = true;
};

class ServiceHost {
 public:
  // With handle_signals, blocks SIGINT/SIGTERM in the calling thread (and so
  // in the shard threads created after it): they are read from a signalfd by
  // run().
  static std::unique_ptr<ServiceHost> open(const ServiceOptions& options, std::string* error);
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  unsigned shard_count() const { return stacks_->shard_count(); }
  ShardedStacks& stacks() { return *stacks_; }
  rt::Runtime& runtime() { return *runtime_; }
  // Shard `shard`'s AF_XDP link; touch it only on that shard
  // (runtime().run_on), and only until stop().
  xdp::XdpLink& link(unsigned shard) { return *links_[shard]; }
  // The interface (steering counters, health, ifindex) and each queue's
  // shard record (queue, the interface's ifindex inside the stack); the
  // links and stacks themselves belong to the shards. Until stop().
  xdp::XdpHost& xdp() { return *host_; }

  // From a thread outside the runtime: runs fn(StackDriver&) on `shard` and
  // returns what it returns (fn may return a Task: its result). Until
  // stop_services().
  template <typename F>
  auto run_on(unsigned shard, F fn) {
    return runtime_->run_on(shard, [this, shard, &fn]() { return fn(stacks_->driver(shard)); });
  }

  // make_service(StackDriver&) -> rt::Task<void>, on every shard.
  template <typename F>
  void serve(F make_service) {
    stacks_->serve(std::move(make_service));
  }

  // Serves the control channel until SIGINT/SIGTERM, `duration` elapsed, or
  // `done()` (polled every 50 ms) returns true. Returns the signal number, 0,
  // or kLinkLost. Once a second it checks the link (watch_link).
  static constexpr int kLinkLost = -1;
  int run(std::optional<std::chrono::milliseconds> duration, const std::function<bool()>& done = {});

  // Cancels the services, closes their sockets and waits for them to return
  // (ShardedStacks::stop_services); stacks, links and the interface stay
  // until stop(), for the last figures. Idempotent.
  void stop_services();

  // stop_services(), then tears the shards down and detaches the program
  // (the destructor does it too). Returns the detach error, if any: the
  // program may then be left on the interface. Idempotent. Call inside the
  // interface's network namespace (libxdp talks netlink).
  xdp::XdpResult<void> stop();

  stack::Stats stats();
  // Ip:/Icmp:/IcmpMsg:/Udp: as /proc/net/snmp prints them.
  std::string snmp_text();
  // Per-queue ring figures: rx, tx, fill, completion, drops, frames in flight.
  std::string ring_text();
  // The steering program's counters (steered, passed to the kernel,
  // malformed, no socket on the queue) and how many queues are served; in
  // shared mode also the XnetShared group (addresses, ports held, fragments
  // taken before their first, neighbour requests to the kernel) and the
  // ports held (XnetSharedPorts: one UdpN column per port).
  std::string steer_text();

  Result<void> start_capture(const std::string& path);
  void stop_capture();

 private:
  ServiceHost() = default;
  std::string handle(const std::string& request);
  // A steering program somebody detached is attached again (one line on
  // stderr): without it nothing reaches xnet, silently. False, with a line,
  // when the interface is gone or the program cannot be attached again.
  bool watch_link();
  // Shared mode: neighbours and gateway routes from the kernel's tables
  // (KernelTables); each stack's solicitor asks the kernel, and what the
  // kernel learns or changes is applied on every shard. Before the stacks
  // go to their shards.
  bool start_kernel_tables(std::string* error);
  void learn_neighbour(wire::Ipv4Addr ip, const wire::MacAddr& mac);
  void follow_route(const xdp::KernelRoute& route, bool deleted);
  // The interface's MTU changed under us: the links follow it when their
  // frames hold it, and one stderr line says which.
  void follow_mtu();

  ServiceOptions options_;
  std::unique_ptr<xdp::XdpHost> host_;
  std::unique_ptr<rt::Runtime> runtime_;
  std::unique_ptr<ShardedStacks> stacks_;
  std::vector<xdp::XdpLink*> links_;       // per shard, owned by the shard's ShardNet
  std::vector<CaptureLink*> captures_;     // per shard
  std::unique_ptr<xdp::KernelTables> kernel_tables_;  // shared mode
  std::vector<stack::Stack*> shared_stacks_;  // per shard, set before shared_ready_
  uint16_t shared_ifindex_ = 0;               // the interface inside each stack
  std::atomic<bool> shared_ready_{false};
  std::shared_ptr<SharedPcap> pcap_;
  std::optional<ControlServer> control_;
  int signal_fd_ = -1;
  bool stopped_ = false;
  uint32_t refused_mtu_ = 0;  // an MTU already reported as too large
  bool displaced_ = false;    // another XDP program holds the interface (reported)
};

}  // namespace xnet
