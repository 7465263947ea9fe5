#pragma once
// Indexed binary min-heap of intrusive timer nodes. Each node knows its slot,
// so cancelling (the common fate of a timeout) is O(log n) and allocation-free;
// a sequence number keeps equal deadlines in arming order.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "runtime/clock.h"

namespace xnet::rt {

struct TimerNode {
  static constexpr std::size_t kNotArmed = std::numeric_limits<std::size_t>::max();

  TimerNode() = default;
  TimerNode(const TimerNode&) = delete;
  TimerNode& operator=(const TimerNode&) = delete;

  bool armed() const { return heap_index_ != kNotArmed; }

  TimePoint deadline_{};
  void (*fire_)(void*) = nullptr;  // must only schedule work, never resume
  void* ctx_ = nullptr;
  std::uint64_t seq_ = 0;
  std::size_t heap_index_ = kNotArmed;
};

class TimerHeap {
 public:
  void push(TimerNode& node);
  void remove(TimerNode& node);  // no-op if not armed
  TimerNode* top() const { return nodes_.empty() ? nullptr : nodes_.front(); }
  TimerNode* pop();
  bool empty() const { return nodes_.empty(); }
  std::size_t size() const { return nodes_.size(); }

 private:
  static bool before(const TimerNode* a, const TimerNode* b) {
    return a->deadline_ < b->deadline_ || (a->deadline_ == b->deadline_ && a->seq_ < b->seq_);
  }
  void place(std::size_t i, TimerNode* n) {
    nodes_[i] = n;
    n->heap_index_ = i;
  }
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);

  std::vector<TimerNode*> nodes_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace xnet::rt
