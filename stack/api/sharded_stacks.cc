#include "stack/api/sharded_stacks.h"

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
}

void ShardedStacks::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (unsigned i = 0; i < shard_count(); ++i) {
    Slot* slot = slots_[i].get();
    // Phase 1: cancel the services and close every socket (pending operations
    // fail with ENETDOWN), so each service runs to its end.
    runtime_->run_on(i, [slot] {
      if (slot->stop) slot->stop->cancel();
      slot->driver.reset();
    });
    // Phase 2: once no service is left (they may still hold Datagrams, i.e.
    // frames of the links), the stack and then the links go.
    runtime_->run_on(i, [slot]() -> rt::Task<void> {
      if (slot->services > 0) (void)co_await slot->idle.wait();
      slot->net.stack.reset();
      slot->net.links.clear();
      slot->stop.reset();
    });
  }
}

}  // namespace xnet
