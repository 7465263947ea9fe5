#pragma once
// A Poller is a component the reactor drives every loop iteration: the AF_XDP
// link, the network stack, the runtime's cross-shard rings.
//
// Contract:
//  - poll() does a bounded amount of work and returns whether it did any. It
//    may wake coroutines only by pushing them to the ready queue (WaitQueue,
//    Event, Reactor::schedule), never by resuming them.
//  - In idle mode the reactor sleeps only after an iteration in which no poller
//    did work; before sleeping it calls poll() once more (after publishing that
//    it is about to sleep) so that work racing with the sleep is not missed.
//  - prepare_to_sleep(): called once right before the reactor sleeps, before
//    wait_fd(): kick rings that need a syscall to make progress (an XSK's
//    need_wakeup). Not called when the last poll found work, when a deadline
//    has already passed, nor ever in busy mode.
//  - wait_fd(): the fd (and poll(2) events) whose readiness should end the
//    sleep, e.g. an XSK fd. Asked before every sleep; a pure query.
//  - next_deadline(): the earliest time poll() needs to run again; the reactor
//    sleeps no longer than that, so a stack's timers fire on time.
//  - flush(): called after the coroutines that this iteration's polls woke
//    have run (in the same iteration): send what they queued now instead of
//    on the next poll(). Not called when the polls woke nobody.

#include <cstdint>
#include <optional>

#include "runtime/clock.h"

namespace xnet::rt {

struct PollFd {
  int fd = -1;
  std::uint32_t events = 0;  // POLLIN, POLLOUT ...
};

class Poller {
 public:
  virtual ~Poller() = default;
  virtual bool poll() = 0;
  virtual void prepare_to_sleep() {}
  virtual std::optional<PollFd> wait_fd() const { return std::nullopt; }
  virtual std::optional<TimePoint> next_deadline() const { return std::nullopt; }
  virtual void flush() {}
};

}  // namespace xnet::rt
