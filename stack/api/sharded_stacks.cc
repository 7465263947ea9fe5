#include "stack/api/sharded_stacks.h"

#include "stack/api/neighbour_sync.h"

namespace xnet {

ShardedStacks::ShardedStacks(rt::Runtime& runtime, Factory make) : runtime_(&runtime) {
  slots_.resize(runtime.shard_count());
  for (unsigned i = 0; i < runtime.shard_count(); ++i) {
    slots_[i] = std::make_unique<Slot>();
    Slot* slot = slots_[i].get();
    // Built on the shard: the stack, its links and the driver belong there.
    runtime.run_on(i, [slot, &make, i] {
      slot->net = make(i);
      slot->stop.emplace();
      slot->idle.set();
      slot->driver = std::make_unique<StackDriver>(*rt::Reactor::current(), *slot->net.stack);
    });
  }
  share_neighbours();
  share_sockets();
}

namespace {

// The same devices on both stacks: as many interfaces, the same link name at
// each ifindex.
bool same_interfaces(const stack::Stack& a, const stack::Stack& b) {
  if (a.interfaces().size() != b.interfaces().size() || a.interfaces().empty()) return false;
  for (const stack::Interface& i : a.interfaces()) {
    const stack::Link* lb = b.link(i.ifindex);
    if (lb == nullptr || lb->name() != i.link->name()) return false;
  }
  return true;
}

}  // namespace

// Cross-shard delivery (shard_handoff.h) between shards that are queues of
// the same interfaces; a factory that gives each shard its own devices keeps
// each shard's sockets to itself, as before.
void ShardedStacks::share_sockets() {
  const unsigned n = shard_count();
  if (n < 2 || n > PortDirectory::kMaxShards) return;
  for (unsigned i = 1; i < n; ++i) {
    if (!same_interfaces(*slots_[0]->net.stack, *slots_[i]->net.stack)) return;
  }
  std::vector<rt::Reactor*> reactors;
  for (unsigned i = 0; i < n; ++i) reactors.push_back(&runtime_->reactor(i));
  handoff_hub_ = std::make_unique<HandoffHub>(std::move(reactors));
  for (unsigned i = 0; i < n; ++i) {
    Slot* slot = slots_[i].get();
    HandoffHub* hub = handoff_hub_.get();
    // Registered after the driver: in a loop pass the handoff polls right
    // after the stack, and wakes the shards the stack handed datagrams to.
    runtime_->run_on(i, [slot, hub, i] {
      slot->handoff = std::make_unique<ShardHandoff>(*hub, i, *slot->net.stack);
      slot->handoff_poller = rt::Reactor::current()->register_poller(*slot->handoff);
    });
  }
}

void ShardedStacks::stop_handoff() {
  if (!handoff_hub_) return;
  // No shard hands anything over any more; then every shard takes what is
  // still in its incoming rings (returning the frames); then every shard
  // frees what came back. Each step has run on every shard before the next
  // starts, so after the last no frame of any shard is in a ring.
  for (unsigned i = 0; i < shard_count(); ++i) {
    Slot* slot = slots_[i].get();
    runtime_->run_on(i, [slot] { slot->handoff->stop_handing_over(); });
  }
  for (unsigned i = 0; i < shard_count(); ++i) {
    Slot* slot = slots_[i].get();
    runtime_->run_on(i, [slot] { slot->handoff->drain_incoming(); });
  }
  for (unsigned i = 0; i < shard_count(); ++i) {
    Slot* slot = slots_[i].get();
    runtime_->run_on(i, [slot] {
      slot->handoff->drain_returns();
      slot->handoff_poller.reset();
      slot->handoff.reset();
    });
  }
}

// One shard needs nothing; with several, the shards' interfaces that are the
// same device (same ifindex, same link name: the queues of one XdpHost
// interface) share what their neighbour tables learn (neighbour_sync.h).
void ShardedStacks::share_neighbours() {
  if (shard_count() < 2) return;
  std::vector<NeighbourPeer> peers;
  for (unsigned i = 0; i < shard_count(); ++i) {
    peers.push_back({slots_[i]->net.stack.get(), &runtime_->reactor(i)});
  }
  std::vector<stack::NeighbourObserver> observers = make_neighbour_observers(peers);
  for (unsigned i = 0; i < shard_count(); ++i) {
    if (!observers[i]) continue;
    Slot* slot = slots_[i].get();
    runtime_->run_on(i, [slot, &observers, i] {
      slot->net.stack->neighbours().set_observer(std::move(observers[i]));
    });
    sharing_neighbours_ = true;
  }
}

void ShardedStacks::stop_services() {
  if (services_stopped_) return;
  services_stopped_ = true;
  // Phase 0: no shard announces to the others any more. Announcements already
  // posted run before the later run_on's below (posts run in order), while
  // every stack still exists.
  if (sharing_neighbours_) {
    for (unsigned i = 0; i < shard_count(); ++i) {
      Slot* slot = slots_[i].get();
      runtime_->run_on(i, [slot] { slot->net.stack->neighbours().set_observer(nullptr); });
    }
  }
  // Nor hands datagrams over; the frames in the rings go home.
  stop_handoff();
  for (unsigned i = 0; i < shard_count(); ++i) {
    Slot* slot = slots_[i].get();
    // Phase 1: cancel the services and close every socket (pending operations
    // fail with ENETDOWN), so each service runs to its end.
    runtime_->run_on(i, [slot] {
      if (slot->stop) slot->stop->cancel();
      slot->driver.reset();
    });
    runtime_->run_on(i, [slot]() -> rt::Task<void> {
      if (slot->services > 0) (void)co_await slot->idle.wait();
    });
  }
}

void ShardedStacks::stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_services();
  // Phase 2: no service is left (they may have held Datagrams, i.e. frames of
  // the links): the stack and then the links go.
  for (unsigned i = 0; i < shard_count(); ++i) {
    Slot* slot = slots_[i].get();
    runtime_->run_on(i, [slot] {
      slot->net.stack.reset();
      slot->net.links.clear();
      slot->stop.reset();
    });
  }
}

}  // namespace xnet
