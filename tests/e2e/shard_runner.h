#pragma once
// ShardRunner: one XdpShard (link + stack) driven on its own thread by an
// rt::Reactor, the way a service runs a shard. The test thread reaches the
// stack only through call() (run on the shard thread, result returned), and
// installs "apps": non-blocking functions run after every stack poll on the
// shard thread (an echo server, a sink) — the stack is single-threaded.
//
// The reactor's poller does what a stack driver does: poll → Stack::poll(now)
// then the apps; prepare_to_sleep → Link::prepare_to_sleep(); wait_fd → the
// XSK fd (POLLIN); next_deadline → Stack::next_deadline(). In idle mode the
// thread sleeps in io_uring when nothing happens, so its CPU time measures the
// idle cost.
//
// Driver::kStackDriver uses the API's StackDriver (stack/api) instead: then
// coroutines with UdpSockets run on the shard (spawn_on), apps are not
// polled, and stop() destroys the driver first, so every socket sees ENETDOWN
// and its coroutine ends before the reactor does.

#include <sys/resource.h>

#include <functional>
#include <future>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#include "runtime/reactor.h"
#include "runtime/spawn.h"
#include "runtime/task.h"
#include "stack/api/stack_driver.h"
#include "stack/core/stack.h"
#include "xdp/host/xdp_host.h"

namespace xnet::e2e {

// Returns whether it did work (the reactor then polls again before sleeping).
using App = std::function<bool(stack::Stack&, stack::TimePoint now)>;

enum class DriveWith { kTestPoller, kStackDriver };

class ShardRunner {
 public:
  explicit ShardRunner(xdp::XdpShard& shard, rt::PollMode mode = rt::PollMode::kIdle,
                       DriveWith with = DriveWith::kTestPoller);
  ~ShardRunner();
  ShardRunner(const ShardRunner&) = delete;
  ShardRunner& operator=(const ShardRunner&) = delete;

  // Runs fn(stack) on the shard thread and returns what it returns.
  template <typename F>
  auto call(F&& fn) -> std::invoke_result_t<F, stack::Stack&> {
    using R = std::invoke_result_t<F, stack::Stack&>;
    std::packaged_task<R()> task([&] { return fn(*shard_.stack); });
    std::future<R> f = task.get_future();
    reactor_->post([&task] { task(); });
    return f.get();
  }

  // kStackDriver: spawns make(driver) (a Task) on the shard thread.
  template <typename F>
  void spawn_on(F make) {
    reactor_->post([this, make = std::move(make)]() mutable {
      rt::spawn(*reactor_, make(*stack_driver_));
    });
  }

  // kStackDriver: the driver (null otherwise). Use it on the shard thread
  // only, e.g. inside call() to open UdpSockets.
  StackDriver* driver() { return stack_driver_.get(); }

  // The shard's reactor: post() to it from any thread (e.g. neighbour sharing).
  rt::Reactor& reactor() { return *reactor_; }

  void add_app(App app);
  // Removes every app (on the shard thread; before closing their sockets).
  void clear_apps();
  // Stops and joins the thread (idempotent). Afterwards the caller may use
  // the shard directly.
  void stop();

  // CPU time (user + system) of the shard thread so far, in seconds.
  double thread_cpu_seconds();
  uint64_t sleeps();

 private:
  class Driver;
  void run(std::promise<void>& ready);

  xdp::XdpShard& shard_;
  rt::PollMode mode_;
  DriveWith with_;
  std::unique_ptr<StackDriver> stack_driver_;  // on the shard thread only
  rt::Reactor* reactor_ = nullptr;
  Driver* driver_ptr_ = nullptr;  // lives on the shard thread's stack
  std::thread thread_;
};

}  // namespace xnet::e2e
