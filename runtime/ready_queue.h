#pragma once
// FIFO of coroutines ready to resume. A power-of-two ring that only grows, so
// a steady state pushes and pops without allocating.

#include <coroutine>
#include <cstddef>
#include <vector>

namespace xnet::rt {

class ReadyQueue {
 public:
  ReadyQueue() : slots_(kInitialCapacity) {}

  bool empty() const { return head_ == tail_; }
  std::size_t size() const { return tail_ - head_; }

  void push(std::coroutine_handle<> h) {
    if (size() == slots_.size()) grow();
    slots_[tail_++ & (slots_.size() - 1)] = h;
  }

  std::coroutine_handle<> pop() { return slots_[head_++ & (slots_.size() - 1)]; }

  void clear() { head_ = tail_ = 0; }

 private:
  static constexpr std::size_t kInitialCapacity = 256;

  void grow() {
    std::vector<std::coroutine_handle<>> bigger(slots_.size() * 2);
    std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) bigger[i] = slots_[(head_ + i) & (slots_.size() - 1)];
    slots_.swap(bigger);
    head_ = 0;
    tail_ = n;
  }

  std::vector<std::coroutine_handle<>> slots_;
  std::size_t head_ = 0;  // free-running; masked on access
  std::size_t tail_ = 0;
};

}  // namespace xnet::rt
