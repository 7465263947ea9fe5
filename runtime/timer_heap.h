#pragma once
// Indexed 4-ary min-heap of intrusive timer nodes. Each node knows its slot,
// so cancelling (the common fate of a timeout) is O(log n) and allocation-free;
// a sequence number keeps equal deadlines in arming order. Keys are stored in
// the heap array itself: with a million timers, comparing through node
// pointers would cost a cache miss per comparison.

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
  TimerNode* top() const { return heap_.empty() ? nullptr : heap_.front().node; }
  TimerNode* pop();
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }

 private:
  static constexpr std::size_t kArity = 4;

  struct Entry {
    TimePoint deadline;
    std::uint64_t seq;
    TimerNode* node;
  };
  static bool before(const Entry& a, const Entry& b) {
    return a.deadline < b.deadline || (a.deadline == b.deadline && a.seq < b.seq);
  }
  void place(std::size_t i, const Entry& e) {
    heap_[i] = e;
    e.node->heap_index_ = i;
  }
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);

  std::vector<Entry> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace xnet::rt
