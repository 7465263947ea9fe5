#pragma once
// RingQueue<T>: a FIFO over a power-of-two circular buffer that grows by
// doubling and never shrinks, so a steady-state queue allocates nothing
// (std::deque allocates and frees a block every few elements).

#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace xnet::stack {

template <typename T>
class RingQueue {
 public:
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }

  // By rvalue reference: a queued datagram is moved once, into its slot.
  void push_back(T&& v) {
    if (count_ == slots_.size()) grow();
    slots_[(head_ + count_) & (slots_.size() - 1)] = std::move(v);
    ++count_;
  }
  // Appends the slot itself for the caller to assign member by member: a
  // whole-object move copies through vector registers, and reading a just
  // built object that way stalls on the narrow stores that built it.
  T& push_back_slot() {
    if (count_ == slots_.size()) grow();
    T& slot = slots_[(head_ + count_) & (slots_.size() - 1)];
    ++count_;
    return slot;
  }
  T& front() {
    assert(!empty());
    return slots_[head_];
  }
  const T& front() const {
    assert(!empty());
    return slots_[head_];
  }
  T pop_front() {
    assert(!empty());
    T v = std::move(slots_[head_]);
    slots_[head_] = T();
    head_ = (head_ + 1) & (slots_.size() - 1);
    --count_;
    return v;
  }
  // Removes a front element the caller has already moved from, without a
  // second move or a reset: what is left of it owns nothing, and the next
  // push_back into its slot assigns over it.
  void pop_front_moved() {
    assert(!empty());
    head_ = (head_ + 1) & (slots_.size() - 1);
    --count_;
  }
  // i-th element from the front.
  T& operator[](size_t i) { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  void clear() {
    while (!empty()) pop_front();
  }

 private:
  void grow() {
    std::vector<T> next(slots_.empty() ? 16 : slots_.size() * 2);
    for (size_t i = 0; i < count_; ++i) next[i] = std::move((*this)[i]);
    slots_ = std::move(next);
    head_ = 0;
  }

  std::vector<T> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace xnet::stack
