#include "runtime/reactor.h"

#include <sched.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>

namespace xnet::rt {

namespace {

thread_local Reactor* tls_current = nullptr;

// user_data values below kSlotBase are reactor-internal requests.
constexpr std::uint64_t kWakeTag = 1;
constexpr std::uint64_t kIgnoreTag = 2;
constexpr std::uint64_t kSlotBase = 16;
constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
constexpr unsigned kReapBatch = 64;

}  // namespace

struct Reactor::PollerEntry : IoTarget {
  Poller* poller = nullptr;  // null once unregistered, until compaction
  std::uint32_t slot = kNoSlot;
  PollFd armed{};

  static void on_ready(IoTarget* t, int) { static_cast<PollerEntry*>(t)->slot = kNoSlot; }
};

PollerHandle::PollerHandle(PollerHandle&& o) noexcept
    : reactor_(std::exchange(o.reactor_, nullptr)), poller_(std::exchange(o.poller_, nullptr)) {}

PollerHandle& PollerHandle::operator=(PollerHandle&& o) noexcept {
  if (this != &o) {
    reset();
    reactor_ = std::exchange(o.reactor_, nullptr);
    poller_ = std::exchange(o.poller_, nullptr);
  }
  return *this;
}

void PollerHandle::reset() {
  if (reactor_ != nullptr) reactor_->unregister_poller(poller_);
  reactor_ = nullptr;
  poller_ = nullptr;
}

Reactor::Reactor(ReactorOptions options) : options_(options) {
  int rc = io_uring_queue_init(options_.ring_entries, &ring_, 0);
  if (rc < 0) throw std::system_error(-rc, std::generic_category(), "io_uring_queue_init");
  // Blocking on purpose: io_uring then waits for the counter instead of
  // failing the read with EAGAIN.
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    int err = errno;
    io_uring_queue_exit(&ring_);
    throw std::system_error(err, std::generic_category(), "eventfd");
  }
  if (tls_current == nullptr) tls_current = this;
}

Reactor::~Reactor() {
  // Frames still suspended at shutdown are destroyed, unwinding their awaiters
  // (which withdraw timers and io) while everything they touch still exists.
  while (detail::DetachedFrame* f = detached_.pop_front()) f->frame_.destroy();
  ready_.clear();
  for (PollerEntry* e : pollers_) delete e;
  io_uring_queue_exit(&ring_);
  ::close(wake_fd_);
  if (tls_current == this) tls_current = nullptr;
}

Reactor* Reactor::current() { return tls_current; }

void Reactor::report_error(std::exception_ptr e) {
  if (error_handler_) {
    error_handler_(e);
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "xnet::rt: exception escaped a spawned task: %s\n", ex.what());
  } catch (...) {
    std::fprintf(stderr, "xnet::rt: non-standard exception escaped a spawned task\n");
  }
}

PollerHandle Reactor::register_poller(Poller& poller) {
  auto* e = new PollerEntry;
  e->complete_ = &PollerEntry::on_ready;
  e->poller = &poller;
  pollers_.push_back(e);
  return PollerHandle(this, &poller);
}

void Reactor::unregister_poller(Poller* p) {
  for (PollerEntry* e : pollers_) {
    if (e->poller != p) continue;
    e->poller = nullptr;
    if (e->slot != kNoSlot) cancel_io(e->slot);
    e->slot = kNoSlot;
    pollers_dirty_ = true;  // compacted outside iteration
    return;
  }
}

void Reactor::run() {
  while (true) {
    bool stopping = stop_requested_.load(std::memory_order_acquire);
    bool did = run_once(!stopping);
    if (stopping && !did && ready_.empty()) break;
  }
  stop_requested_.store(false, std::memory_order_relaxed);
}

void Reactor::refresh_loop_time() {
#if defined(__x86_64__)
  // Unsigned: a counter that went backwards (another core's offset after a
  // migration) reads as a long interval, and the clock is read.
  const std::uint64_t tsc = __rdtsc();
  if (tsc - loop_time_tsc_ < kLoopClockTicks) return;
  loop_time_tsc_ = tsc;
#endif
  loop_time_ = now();
}

bool Reactor::run_once(bool may_sleep) {
  refresh_loop_time();
  bool did = run_posts();
  did |= fire_timers();
  did |= run_ready();
  did |= poll_pollers();
  // A reply to what the polls just received is written and sent in this
  // pass, not a whole pass later: the woken coroutines run now and the
  // pollers flush what they queued (stage trace, ping-pong echo side: the
  // next pass's clock read, timers and other pollers sat between the
  // receive and the reply, and again between the reply and its transmit).
  if (!ready_.empty()) {
    run_ready();
    flush_pollers();
  }
  did |= reap_completions();
  if (did || !ready_.empty()) {
    idle_since_.reset();
  } else if (options_.mode == PollMode::kBusy && options_.yield_when_idle) {
    ++yields_;
    sched_yield();
  } else if (may_sleep && options_.mode == PollMode::kIdle) {
    if (options_.idle_spin.count() == 0) {
      sleep();
    } else {
      const TimePoint t = loop_time_;
      if (!idle_since_) idle_since_ = t;
      if (t - *idle_since_ >= options_.idle_spin) {
        sleep();
        idle_since_.reset();
      }
    }
  }
  return did;
}

bool Reactor::run_posts() {
  if (!has_posts_.load(std::memory_order_acquire)) return false;
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(posts_mu_);
    batch.swap(posts_);
    has_posts_.store(false, std::memory_order_relaxed);
  }
  for (auto& fn : batch) fn();
  return true;
}

bool Reactor::fire_timers() {
  if (timers_.empty()) return false;
  const TimePoint t = loop_time_;
  bool did = false;
  while (TimerNode* n = timers_.top()) {
    if (n->deadline_ > t) break;
    timers_.pop();
    n->fire_(n->ctx_);
    did = true;
  }
  return did;
}

bool Reactor::run_ready() {
  // Only what was ready on entry: coroutines that keep rescheduling themselves
  // must not starve timers and pollers.
  std::size_t n = ready_.size();
  for (std::size_t i = 0; i < n; ++i) resume(ready_.pop());
  return n != 0;
}

void Reactor::flush_pollers() {
  for (std::size_t i = 0; i < pollers_.size(); ++i) {
    if (Poller* p = pollers_[i]->poller; p != nullptr) p->flush();
  }
}

bool Reactor::poll_pollers() {
  bool did = false;
  for (std::size_t i = 0; i < pollers_.size(); ++i) {
    Poller* p = pollers_[i]->poller;
    if (p != nullptr && p->poll()) did = true;
  }
  if (pollers_dirty_) {
    pollers_dirty_ = false;
    auto dead = std::remove_if(pollers_.begin(), pollers_.end(), [](PollerEntry* e) {
      if (e->poller != nullptr) return false;
      delete e;
      return true;
    });
    pollers_.erase(dead, pollers_.end());
  }
  return did;
}

io_uring_sqe* Reactor::get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    io_uring_submit(&ring_);  // SQ full: flush and retry once
    sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) throw std::system_error(EBUSY, std::generic_category(), "io_uring SQ full");
  }
  return sqe;
}

std::uint32_t Reactor::alloc_slot(IoTarget* t) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    io_slots_[slot] = t;
  } else {
    slot = static_cast<std::uint32_t>(io_slots_.size());
    io_slots_.push_back(t);
  }
  return slot;
}

std::uint32_t Reactor::submit_poll(int fd, std::uint32_t events, IoTarget* target) {
  io_uring_sqe* sqe = get_sqe();
  std::uint32_t slot = alloc_slot(target);
  io_uring_prep_poll_add(sqe, fd, events);
  io_uring_sqe_set_data64(sqe, kSlotBase + slot);
  return slot;
}

void Reactor::cancel_io(std::uint32_t slot) {
  // The slot stays allocated until the original request's CQE arrives, so its
  // user_data can never be confused with a later request.
  io_slots_[slot] = nullptr;
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_poll_remove(sqe, kSlotBase + slot);
  io_uring_sqe_set_data64(sqe, kIgnoreTag);
}

void Reactor::arm_wake_read() {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
  io_uring_sqe_set_data64(sqe, kWakeTag);
  wake_armed_ = true;
}

void Reactor::prepare_pollers_to_sleep() {
  // By index: a poller may register another one from its hook.
  for (std::size_t i = 0; i < pollers_.size(); ++i) {
    if (Poller* p = pollers_[i]->poller) p->prepare_to_sleep();
  }
}

void Reactor::arm_poller_fds() {
  for (PollerEntry* e : pollers_) {
    if (e->poller == nullptr) continue;
    std::optional<PollFd> want = e->poller->wait_fd();
    if (!want) continue;
    if (e->slot != kNoSlot) {
      if (e->armed.fd == want->fd && e->armed.events == want->events) continue;
      cancel_io(e->slot);
    }
    e->armed = *want;
    e->slot = submit_poll(want->fd, want->events, e);
  }
}

bool Reactor::reap_completions() {
  if (io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
  // Two loads of shared ring words, inline: a busy loop with nothing in
  // flight passes here every iteration, and the library's peek is a call.
  if (io_uring_cq_ready(&ring_) == 0 && !io_uring_cq_has_overflow(&ring_)) return false;
  bool did = false;
  io_uring_cqe* cqes[kReapBatch];
  while (unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kReapBatch)) {
    std::uint64_t data[kReapBatch];
    int res[kReapBatch];
    for (unsigned i = 0; i < n; ++i) {
      data[i] = cqes[i]->user_data;
      res[i] = cqes[i]->res;
    }
    // Release the CQEs before running handlers, which may submit new requests.
    io_uring_cq_advance(&ring_, n);
    for (unsigned i = 0; i < n; ++i) handle_completion(data[i], res[i]);
    did = true;
  }
  return did;
}

void Reactor::handle_completion(std::uint64_t user_data, int res) {
  if (user_data == kWakeTag) {
    wake_armed_ = false;  // re-armed lazily, right before the next sleep
    return;
  }
  // Also skips liburing's own timeout requests on kernels without EXT_ARG.
  if (user_data < kSlotBase || user_data - kSlotBase >= io_slots_.size()) return;
  auto slot = static_cast<std::uint32_t>(user_data - kSlotBase);
  IoTarget* t = io_slots_[slot];
  io_slots_[slot] = nullptr;
  free_slots_.push_back(slot);
  if (t != nullptr) t->complete_(t, res);
}

void Reactor::sleep() {
  // Publish the intent to sleep, then look for work once more: a producer
  // either sees sleeping_ (and writes the eventfd) or we see its work here.
  sleeping_.store(true, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  bool work = stop_requested_.load(std::memory_order_seq_cst) ||
              has_posts_.load(std::memory_order_seq_cst) || poll_pollers() || !ready_.empty();
  if (!work) {
    std::optional<TimePoint> deadline;
    if (TimerNode* t = timers_.top()) deadline = t->deadline_;
    for (PollerEntry* e : pollers_) {
      if (e->poller == nullptr) continue;
      if (auto d = e->poller->next_deadline(); d && (!deadline || *d < *deadline)) deadline = d;
    }
    __kernel_timespec ts{};
    __kernel_timespec* tsp = nullptr;
    bool expired = false;
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - now()).count();
      expired = left <= 0;
      ts.tv_sec = left / 1'000'000'000;
      ts.tv_nsec = left % 1'000'000'000;
      tsp = &ts;
    }
    if (!expired) {
      // The kicks come after the last poll found nothing, so they are for a
      // sleep that really happens; the fds are asked after them.
      prepare_pollers_to_sleep();
      arm_poller_fds();
      if (!wake_armed_) arm_wake_read();
      io_uring_cqe* cqe = nullptr;
      ++sleeps_;
      // -ETIME (deadline reached) and -EINTR both just mean "loop again".
      (void)io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, tsp, nullptr);
    }
  }
  sleeping_.store(false, std::memory_order_relaxed);
}

void Reactor::wake() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Only the first waker of a given sleep pays for the syscall.
  if (sleeping_.load(std::memory_order_relaxed) && sleeping_.exchange(false)) {
    std::uint64_t one = 1;
    ssize_t n = ::write(wake_fd_, &one, sizeof one);
    (void)n;  // cannot fail short of counter overflow
  }
}

void Reactor::stop() {
  stop_requested_.store(true, std::memory_order_seq_cst);
  wake();
}

void Reactor::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(posts_mu_);
    posts_.push_back(std::move(fn));
    has_posts_.store(true, std::memory_order_seq_cst);
  }
  wake();
}

}  // namespace xnet::rt
