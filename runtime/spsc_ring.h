#pragma once
// Lock-free single-producer single-consumer ring of trivially copyable items.
// Each side caches the other's index so the shared cache line is read only
// when the cached view says full (producer) or empty (consumer).

#include <atomic>
#include <cassert>
#include <cstddef>
#include <memory>
#include <type_traits>

namespace xnet::rt {

inline constexpr std::size_t kCacheLine = 64;

template <typename T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  explicit SpscRing(std::size_t capacity) : mask_(capacity - 1), slots_(new T[capacity]) {
    assert(capacity >= 2 && (capacity & mask_) == 0 && "capacity must be a power of two");
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  std::size_t capacity() const { return mask_ + 1; }

  // Producer thread only. False when full: the caller keeps the item.
  bool try_push(const T& item) {
    const std::size_t tail = prod_.tail.load(std::memory_order_relaxed);
    if (tail - prod_.head_cache > mask_) {
      prod_.head_cache = cons_.head.load(std::memory_order_acquire);
      if (tail - prod_.head_cache > mask_) return false;
    }
    slots_[tail & mask_] = item;
    prod_.tail.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer thread only.
  bool try_pop(T& out) {
    const std::size_t head = cons_.head.load(std::memory_order_relaxed);
    if (head == cons_.tail_cache) {
      cons_.tail_cache = prod_.tail.load(std::memory_order_acquire);
      if (head == cons_.tail_cache) return false;
    }
    out = slots_[head & mask_];
    cons_.head.store(head + 1, std::memory_order_release);
    return true;
  }

  // Either thread; a snapshot.
  bool empty() const {
    return cons_.head.load(std::memory_order_acquire) == prod_.tail.load(std::memory_order_acquire);
  }

 private:
  struct alignas(kCacheLine) Producer {
    std::atomic<std::size_t> tail{0};
    std::size_t head_cache = 0;
  };
  struct alignas(kCacheLine) Consumer {
    std::atomic<std::size_t> head{0};
    std::size_t tail_cache = 0;
  };

  const std::size_t mask_;
  std::unique_ptr<T[]> slots_;
  Producer prod_;
  Consumer cons_;
};

}  // namespace xnet::rt
