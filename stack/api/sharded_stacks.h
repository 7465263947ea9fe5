#pragma once
// ShardedStacks: one Stack per shard of an rt::Runtime (shard per core, share
// nothing), each driven by a StackDriver on its shard's reactor, and the
// patterns built on it.
//
// Server (the same service on every shard; a reuseport group per shard):
//
//   rt::Runtime runtime({.shards = 2});
//   ShardedStacks stacks(runtime, [&](unsigned shard) {    // runs on `shard`
//     ShardNet net;
//     net.links.push_back(make_link_for_queue(shard));    // e.g. an XdpLink
//     net.stack = std::make_unique<stack::Stack>();
//     uint16_t ifindex = net.stack->add_interface(*net.links[0]);
//     (void)net.stack->add_address(ifindex, *wire::Ipv4Prefix::parse("10.0.0.1/24"),
//                                  rt::Reactor::now());
//     return net;
//   });
//   serve_on_all_shards(stacks, [](StackDriver& drv) -> Task<void> {
//     UdpSocket s = UdpSocket::open(drv).value();
//     (void)s.set_reuse_port(true);
//     if (!s.bind({Ipv4Addr(), 7000})) co_return;
//     std::array<std::byte, 2048> buf;
//     while (auto r = co_await s.recv_from(buf)) co_await s.send_to(r->source, std::span(buf).first(r->size));
//   });
//   ...
//   stacks.stop();  // or the destructor: services cancelled, sockets closed
//
// Client: open a socket on the shard the coroutine runs on (`stacks.local()`),
// or run work on another shard with `co_await stacks.on_shard(k, fn)`, which is
// rt::submit_to with that shard's driver handed to fn:
//
//   uint64_t n = co_await stacks.on_shard(1, [](StackDriver& d) {
//     return d.stack().stats().udp.InDatagrams;
//   });
//
// Where datagrams are processed. Each shard has its own Stack over its own
// links (for AF_XDP: its own queue of each interface), so a datagram is
// processed on the shard whose queue it landed on, against that shard's socket
// table. With the same service bound on every shard (reuseport), every shard
// has a socket for the port and every datagram is answered where it lands:
// that is the server pattern. A datagram for a socket that exists only on
// another shard (a client socket, a service started on some shards only, a
// connected socket) is handed over to that shard (stack/api/shard_handoff.h:
// a port directory shared by the shards, rings per pair of shards, the frame
// copied into the owner's pool), and so are ICMP errors quoting its
// datagrams; only when no shard has a socket for it is it Udp NoPorts and a
// port unreachable, as the kernel's netns-wide lookup would have it. On when
// every shard's stack has the same interfaces (same ifindex, same link
// names: the queues of one XdpHost interface); off with one shard.
//
// Neighbours. Shards whose stacks have the same device as the same interface
// (same ifindex and link name — the queues of one XdpHost interface, each
// interface ifindex 1 on every shard) share their neighbour tables'
// announcements (stack/api/neighbour_sync.h): the device delivers a
// neighbour's ARP replies to one queue only, and without sharing the other
// shards could not resolve it. Off with one shard, or when no interface is
// common (e.g. one differently named MemoryLink pair per shard).
//
// Threading: construct, serve, stop and destroy from outside the runtime
// (they block on each shard with Runtime::run_on); local(), driver() and
// on_shard() from shard threads.

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "runtime/cancellation.h"
#include "runtime/event.h"
#include "runtime/runtime.h"
#include "runtime/spawn.h"
#include "runtime/task.h"
#include "stack/api/shard_handoff.h"
#include "stack/api/stack_driver.h"
#include "stack/core/link.h"
#include "stack/core/stack.h"

namespace xnet {

// One shard's network: its links and its stack (destroyed before the links).
struct ShardNet {
  std::vector<std::unique_ptr<stack::Link>> links;
  std::unique_ptr<stack::Stack> stack;
};

class ShardedStacks {
 public:
  // make(shard) runs on each shard's thread and returns that shard's network.
  using Factory = std::function<ShardNet(unsigned shard)>;

  ShardedStacks(rt::Runtime& runtime, Factory make);
  ~ShardedStacks() { stop(); }
  ShardedStacks(const ShardedStacks&) = delete;
  ShardedStacks& operator=(const ShardedStacks&) = delete;

  rt::Runtime& runtime() { return *runtime_; }
  unsigned shard_count() const { return static_cast<unsigned>(slots_.size()); }

  // From a shard thread: that shard's driver.
  StackDriver& local() { return *slots_[rt::this_shard()]->driver; }
  // The driver of `shard`; touch it only on that shard.
  StackDriver& driver(unsigned shard) { return *slots_[shard]->driver; }

  // Spawns make_service(driver) (returning Task<void>) on every shard. A
  // service is cancelled (ambient token) at stop(), and its sockets fail with
  // ENETDOWN; it must then return. Call from outside the runtime.
  template <typename F>
  void serve(F make_service);

  // From a shard coroutine: runs fn(driver of `shard`) on that shard (fn may
  // return a value or a Task) and resumes here with the result.
  template <typename F>
  auto on_shard(unsigned shard, F fn) {
    return rt::submit_to(shard, [this, shard, fn = std::move(fn)]() mutable { return fn(driver(shard)); });
  }

  // Shard `shard`'s stack, until stop() (after stop_services() too); touch
  // it only on that shard.
  stack::Stack& stack(unsigned shard) { return *slots_[shard]->net.stack; }

  // Whether datagrams for another shard's sockets are handed over to it.
  bool hands_over() const { return handoff_hub_ != nullptr; }

  // Cancels the services, closes their sockets (driver destroyed: the stack
  // is no longer polled) and waits for the services to return. Each shard's
  // stack and links stay until stop(), so what is left in them can still be
  // read on the shard: final counters, where every frame is. Idempotent.
  // Call from outside the runtime.
  void stop_services();

  // stop_services(), then destroys each shard's stack and links on that
  // shard. Idempotent. Call from outside the runtime.
  void stop();

 private:
  void share_neighbours();
  void share_sockets();
  void stop_handoff();

  struct Slot {
    ShardNet net;
    std::unique_ptr<StackDriver> driver;
    std::unique_ptr<ShardHandoff> handoff;  // cross-shard delivery, when on
    rt::PollerHandle handoff_poller;
    std::optional<rt::CancellationSource> stop;  // created on the shard
    size_t services = 0;
    rt::Event idle;
  };

  // Keeps the service's callable alive in this frame for the whole service
  // (a capturing lambda coroutine reads its captures through it).
  template <typename F>
  static rt::Task<void> run_service(F fn, Slot* slot) {
    try {
      co_await fn(*slot->driver);
    } catch (...) {
      rt::Reactor::current()->report_error(std::current_exception());
    }
    if (--slot->services == 0) slot->idle.set();
  }

  rt::Runtime* runtime_;
  std::unique_ptr<HandoffHub> handoff_hub_;  // before slots_: outlives their handoffs
  std::vector<std::unique_ptr<Slot>> slots_;
  bool services_stopped_ = false;
  bool stopped_ = false;
  bool sharing_neighbours_ = false;
};

template <typename F>
void ShardedStacks::serve(F make_service) {
  for (unsigned i = 0; i < shard_count(); ++i) {
    Slot* slot = slots_[i].get();
    runtime_->run_on(i, [slot, &make_service] {
      if (slot->driver == nullptr) return;
      ++slot->services;
      slot->idle.reset();
      rt::spawn(run_service(make_service, slot), slot->stop->token());
    });
  }
}

// The server pattern: the same service on every shard.
template <typename F>
void serve_on_all_shards(ShardedStacks& stacks, F make_service) {
  stacks.serve(std::move(make_service));
}

}  // namespace xnet
