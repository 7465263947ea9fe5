#include "runtime/timer_heap.h"

#include <cassert>

namespace xnet::rt {

void TimerHeap::push(TimerNode& node) {
  assert(!node.armed());
  node.seq_ = next_seq_++;
  heap_.push_back(Entry{node.deadline_, node.seq_, &node});
  node.heap_index_ = heap_.size() - 1;
  sift_up(node.heap_index_);
}

void TimerHeap::remove(TimerNode& node) {
  if (!node.armed()) return;
  const std::size_t i = node.heap_index_;
  node.heap_index_ = TimerNode::kNotArmed;
  const Entry last = heap_.back();
  heap_.pop_back();
  if (last.node == &node) return;
  place(i, last);
  // The moved entry may belong above or below its new slot.
  sift_up(i);
  sift_down(last.node->heap_index_);
}

TimerNode* TimerHeap::pop() {
  TimerNode* t = top();
  if (t != nullptr) remove(*t);
  return t;
}

void TimerHeap::sift_up(std::size_t i) {
  const Entry e = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / kArity;
    if (!before(e, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, e);
}

void TimerHeap::sift_down(std::size_t i) {
  const Entry e = heap_[i];
  const std::size_t size = heap_.size();
  while (true) {
    const std::size_t first = kArity * i + 1;
    if (first >= size) break;
    std::size_t best = first;
    const std::size_t end = first + kArity < size ? first + kArity : size;
    for (std::size_t c = first + 1; c < end; ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    if (!before(heap_[best], e)) break;
    place(i, heap_[best]);
    i = best;
  }
  place(i, e);
}

}  // namespace xnet::rt
