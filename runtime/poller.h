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
//  - wait_fd(): the fd (and poll(2) events) whose readiness should end the
//    sleep, e.g. an XSK fd with need_wakeup set. Asked before every sleep.
//  - next_deadline(): the earliest time poll() needs to run again; the reactor
//    sleeps no longer than that, so a stack's timers fire on time.

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
  virtual std::optional<PollFd> wait_fd() const { return std::nullopt; }
  virtual std::optional<TimePoint> next_deadline() const { return std::nullopt; }
};

}  // namespace xnet::rt
