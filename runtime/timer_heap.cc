#include "runtime/timer_heap.h"

#include <cassert>

namespace xnet::rt {

void TimerHeap::push(TimerNode& node) {
  assert(!node.armed());
  node.seq_ = next_seq_++;
  nodes_.push_back(&node);
  node.heap_index_ = nodes_.size() - 1;
  sift_up(node.heap_index_);
}

void TimerHeap::remove(TimerNode& node) {
  if (!node.armed()) return;
  std::size_t i = node.heap_index_;
  node.heap_index_ = TimerNode::kNotArmed;
  TimerNode* last = nodes_.back();
  nodes_.pop_back();
  if (last == &node) return;
  place(i, last);
  // The moved node may belong above or below its new slot.
  sift_up(i);
  sift_down(last->heap_index_);
}

TimerNode* TimerHeap::pop() {
  TimerNode* t = top();
  if (t != nullptr) remove(*t);
  return t;
}

void TimerHeap::sift_up(std::size_t i) {
  TimerNode* n = nodes_[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (!before(n, nodes_[parent])) break;
    place(i, nodes_[parent]);
    i = parent;
  }
  place(i, n);
}

void TimerHeap::sift_down(std::size_t i) {
  TimerNode* n = nodes_[i];
  const std::size_t size = nodes_.size();
  while (true) {
    std::size_t child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && before(nodes_[child + 1], nodes_[child])) ++child;
    if (!before(nodes_[child], n)) break;
    place(i, nodes_[child]);
    i = child;
  }
  place(i, n);
}

}  // namespace xnet::rt
