#include "tests/e2e/shard_runner.h"

#include <poll.h>

namespace xnet::e2e {

class ShardRunner::Driver final : public rt::Poller {
 public:
  explicit Driver(xdp::XdpShard& shard) : shard_(shard) {}

  bool poll() override {
    const stack::TimePoint now = rt::Reactor::now();
    bool did = shard_.stack->poll(now) != 0;
    for (App& app : apps_) did |= app(*shard_.stack, now);
    if (did) shard_.stack->flush_tx();  // what the apps queued leaves now
    return did;
  }
  void prepare_to_sleep() override { shard_.link->prepare_to_sleep(); }
  std::optional<rt::PollFd> wait_fd() const override {
    return rt::PollFd{shard_.link->wait_fd(), POLLIN};
  }
  std::optional<rt::TimePoint> next_deadline() const override {
    return shard_.stack->next_deadline();
  }

  std::vector<App> apps_;

 private:
  xdp::XdpShard& shard_;
};

ShardRunner::ShardRunner(xdp::XdpShard& shard, rt::PollMode mode, DriveWith with)
    : shard_(shard), mode_(mode), with_(with) {
  std::promise<void> ready;
  std::future<void> f = ready.get_future();
  thread_ = std::thread([this, &ready] { run(ready); });
  f.get();
}

ShardRunner::~ShardRunner() { stop(); }

void ShardRunner::run(std::promise<void>& ready) {
  rt::ReactorOptions o;
  o.mode = mode_;
  rt::Reactor reactor(o);
  Driver driver(shard_);
  rt::PollerHandle handle;
  if (with_ == DriveWith::kStackDriver) {
    stack_driver_ = std::make_unique<StackDriver>(reactor, *shard_.stack);
  } else {
    handle = reactor.register_poller(driver);
  }
  reactor_ = &reactor;
  driver_ptr_ = &driver;
  ready.set_value();
  reactor.run();
  stack_driver_.reset();
  handle.reset();
  driver.apps_.clear();
}

void ShardRunner::add_app(App app) {
  reactor_->post([this, a = std::move(app)]() mutable { driver_ptr_->apps_.push_back(std::move(a)); });
}

void ShardRunner::clear_apps() {
  call([this](stack::Stack&) { driver_ptr_->apps_.clear(); });
}

void ShardRunner::stop() {
  if (!thread_.joinable()) return;
  // Sockets fail with ENETDOWN and their coroutines end while the reactor
  // still runs them.
  if (with_ == DriveWith::kStackDriver) call([this](stack::Stack&) { stack_driver_.reset(); });
  reactor_->stop();
  thread_.join();
}

double ShardRunner::thread_cpu_seconds() {
  return call([](stack::Stack&) {
    rusage ru{};
    getrusage(RUSAGE_THREAD, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  });
}

uint64_t ShardRunner::sleeps() {
  return call([this](stack::Stack&) { return reactor_->sleeps(); });
}

}  // namespace xnet::e2e
