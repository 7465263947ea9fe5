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
