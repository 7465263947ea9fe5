#pragma once
// Intrusive doubly-linked list. Waiting must not allocate: every suspended
// operation is its own list node, living in the awaiting coroutine's frame.

#include <cstddef>

namespace xnet::rt {

class ListHook {
 public:
  ListHook() = default;
  // A hook's address is its identity in the list; copying one would corrupt it.
  ListHook(const ListHook&) = delete;
  ListHook& operator=(const ListHook&) = delete;

  bool is_linked() const { return next_ != nullptr; }

  // O(1) removal without knowing the list: what timeouts and cancellation need.
  void unlink() {
    if (next_ == nullptr) return;
    prev_->next_ = next_;
    next_->prev_ = prev_;
    prev_ = next_ = nullptr;
  }

 private:
  template <typename>
  friend class IntrusiveList;
  ListHook* prev_ = nullptr;
  ListHook* next_ = nullptr;
};

// T must derive publicly from ListHook. The list never owns its nodes.
template <typename T>
class IntrusiveList {
 public:
  IntrusiveList() { head_.prev_ = head_.next_ = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;
  ~IntrusiveList() {
    // Leave no node pointing at a dead sentinel.
    while (pop_front() != nullptr) {
    }
  }

  bool empty() const { return head_.next_ == &head_; }

  std::size_t size() const {
    std::size_t n = 0;
    for (const ListHook* h = head_.next_; h != &head_; h = h->next_) ++n;
    return n;
  }

  void push_back(T& node) {
    ListHook& h = node;
    h.prev_ = head_.prev_;
    h.next_ = &head_;
    head_.prev_->next_ = &h;
    head_.prev_ = &h;
  }

  T* front() { return empty() ? nullptr : static_cast<T*>(head_.next_); }

  T* pop_front() {
    T* node = front();
    if (node != nullptr) static_cast<ListHook*>(node)->unlink();
    return node;
  }

 private:
  ListHook head_;
};

}  // namespace xnet::rt
