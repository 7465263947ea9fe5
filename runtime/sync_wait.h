#pragma once
// sync_wait(task): run a task to completion from ordinary code (tests, main).
// Drives this thread's reactor, or a temporary one if the thread has none.

#include <utility>

#include "runtime/reactor.h"
#include "runtime/task.h"

namespace xnet::rt {

template <typename T>
T sync_wait(Task<T> task) {
  if (Reactor* r = Reactor::current()) return r->block_on(std::move(task));
  Reactor temporary;
  return temporary.block_on(std::move(task));
}

}  // namespace xnet::rt
