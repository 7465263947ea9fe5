#include "runtime/runtime.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>

namespace xnet::rt {

namespace {
thread_local unsigned tl_shard = kNoShard;
thread_local Runtime* tl_runtime = nullptr;
// How soon a shard with handles stuck behind a full ring looks again.
constexpr auto kOverflowRetry = std::chrono::microseconds(20);

enum class Claim { kOurs, kTaken, kUnknown };

// Claims `cpu` for this process until *fd is closed. kUnknown when the lock
// file cannot be opened (no /dev/shm, a sandbox): the caller then pins as if
// the core were free. Open read-only: flock needs no write access, so a claim
// file created by root still works for other users.
Claim claim_cpu(int cpu, int* fd) {
  const std::string path = "/dev/shm/xnet-cpu" + std::to_string(cpu) + ".lock";
  *fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (*fd < 0) *fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return Claim::kUnknown;
  if (::flock(*fd, LOCK_EX | LOCK_NB) == 0) return Claim::kOurs;
  const int err = errno;
  ::close(*fd);
  *fd = -1;
  return err == EWOULDBLOCK ? Claim::kTaken : Claim::kUnknown;
}
}  // namespace

unsigned this_shard() { return tl_shard; }
Runtime* Runtime::current() { return tl_runtime; }

struct Runtime::Shard {
  std::thread thread;
  std::unique_ptr<Reactor> reactor;
  int cpu = -1;
  // Handles that found their ring full, per destination. Sender-thread only.
  std::vector<std::deque<std::coroutine_handle<>>> overflow;
  std::size_t overflowed = 0;
};

// Moves handles from the incoming rings to the ready queue (never resumes
// them here) and retries this shard's overflow queues.
class Runtime::ShardPoller final : public Poller {
 public:
  ShardPoller(Runtime* rt, unsigned self) : rt_(rt), self_(self) {}

  bool poll() override {
    bool did = flush_overflow();
    Shard& me = *rt_->shards_[self_];
    for (unsigned from = 0; from < rt_->shard_count(); ++from) {
      if (from == self_) continue;
      SpscRing<void*>& r = rt_->ring(from, self_);
      void* p;
      while (r.try_pop(p)) {
        me.reactor->schedule(std::coroutine_handle<>::from_address(p));
        did = true;
      }
    }
    return did;
  }

  std::optional<TimePoint> next_deadline() const override {
    if (rt_->shards_[self_]->overflowed == 0) return std::nullopt;
    return Reactor::now() + kOverflowRetry;
  }

 private:
  bool flush_overflow() {
    Shard& me = *rt_->shards_[self_];
    if (me.overflowed == 0) return false;
    bool did = false;
    for (unsigned to = 0; to < rt_->shard_count(); ++to) {
      auto& q = me.overflow[to];
      bool pushed = false;
      while (!q.empty() && rt_->ring(self_, to).try_push(q.front().address())) {
        q.pop_front();
        --me.overflowed;
        pushed = true;
      }
      if (pushed) {
        rt_->shards_[to]->reactor->wake();
        did = true;
      }
    }
    return did;
  }

  Runtime* rt_;
  unsigned self_;
};

Runtime::Runtime(RuntimeOptions options) : options_(options) {
  const unsigned n = options_.shards == 0 ? 1 : options_.shards;
  options_.shards = n;

  std::vector<int> cpus;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
    }
  }
  std::vector<int> chosen;
  if (options_.pin_threads && !options_.cpus.empty()) {
    for (unsigned i = 0; i < n; ++i) chosen.push_back(i < options_.cpus.size() ? options_.cpus[i] : -1);
    pinned_ = true;
  } else if (options_.pin_threads) {
    if (cpus.size() >= n) {
      // The first n allowed cores no other xnet process has pinned to.
      for (int c : cpus) {
        if (chosen.size() == n) break;
        int fd = -1;
        const Claim claim = claim_cpu(c, &fd);
        if (claim == Claim::kTaken) continue;
        if (fd >= 0) cpu_claims_.push_back(fd);
        chosen.push_back(c);
      }
      if (chosen.size() == n) {
        pinned_ = true;
      } else {
        std::fprintf(stderr,
                     "xnet::rt: %u shards but only %zu of %zu usable cores not pinned by other xnet "
                     "processes: threads not pinned\n",
                     n, chosen.size(), cpus.size());
        for (int fd : cpu_claims_) ::close(fd);
        cpu_claims_.clear();
      }
    } else {
      std::fprintf(stderr, "xnet::rt: %u shards but %zu usable cores: threads not pinned\n", n,
                   cpus.size());
    }
  }

  for (unsigned i = 0; i < n; ++i) {
    auto s = std::make_unique<Shard>();
    s->overflow.resize(n);
    if (pinned_) s->cpu = chosen[i];
    shards_.push_back(std::move(s));
  }
  for (unsigned i = 0; i < n * n; ++i) {
    rings_.push_back(std::make_unique<SpscRing<void*>>(options_.ring_capacity));
  }
  for (unsigned i = 0; i < n; ++i) shards_[i]->thread = std::thread([this, i] { shard_main(i); });
  // Reactors are built on their own threads; publish them before returning.
  while (ready_shards_.load(std::memory_order_acquire) < n) std::this_thread::yield();
}

Runtime::~Runtime() {
  stop();
  for (int fd : cpu_claims_) ::close(fd);
}

Reactor& Runtime::reactor(unsigned shard) { return *shards_[shard]->reactor; }

void Runtime::shard_main(unsigned index) {
  Shard& me = *shards_[index];
  tl_shard = index;
  tl_runtime = this;
  if (me.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(me.cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);  // best effort
  }
  if (options_.sched_batch) {
    const sched_param param{};
    if (sched_setscheduler(0, SCHED_BATCH, &param) != 0) {
      std::fprintf(stderr, "xnet::rt: shard %u: SCHED_BATCH refused (%s): it keeps its scheduling policy\n", index,
                   std::strerror(errno));
    }
  }
  me.reactor = std::make_unique<Reactor>(ReactorOptions{.mode = options_.mode, .idle_spin = options_.idle_spin, .yield_when_idle = options_.yield_when_idle});
  ShardPoller poller(this, index);
  PollerHandle registration = me.reactor->register_poller(poller);
  ready_shards_.fetch_add(1, std::memory_order_release);

  while (true) {
    const bool stopping = stopping_.load(std::memory_order_acquire);
    const bool did = me.reactor->run_once(!stopping);
    if (stopping && !did && in_flight_.load(std::memory_order_acquire) == 0) break;
  }
  registration.reset();
  me.reactor.reset();  // on its own thread: destroys leftover frames here
  tl_runtime = nullptr;
  tl_shard = kNoShard;
}

void Runtime::send(unsigned from, unsigned to, std::coroutine_handle<> h) {
  Shard& me = *shards_[from];
  // Keep FIFO order per destination: nothing overtakes the overflow queue.
  if (me.overflow[to].empty() && ring(from, to).try_push(h.address())) {
    shards_[to]->reactor->wake();
    return;
  }
  me.overflow[to].push_back(h);
  ++me.overflowed;
}

void Runtime::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Reactor::stop first, so a shard going to sleep right now cannot miss it.
  for (auto& s : shards_) s->reactor->stop();
  stopping_.store(true, std::memory_order_release);
  for (auto& s : shards_) s->thread.join();
}

}  // namespace xnet::rt
