#pragma once
// Cooperative cancellation, shard-local (no atomics: a token belongs to the
// shard that created it; to cancel work on another shard, submit_to it).
//
// A CancellationSource requests; CancellationTokens observe; a
// CancellationRegistration runs a callback once when cancellation is requested.
// Callbacks must only push work to the ready queue, never resume a coroutine:
// they run inside whoever called cancel().

#include <cstdint>
#include <utility>

#include "runtime/intrusive_list.h"

namespace xnet::rt {

namespace detail {

struct CancelNode : ListHook {
  void (*fn_)(void*) = nullptr;
  void* ctx_ = nullptr;
};

struct CancelState {
  bool cancelled_ = false;
  std::uint32_t refs_ = 1;
  IntrusiveList<CancelNode> nodes_;
};

inline void add_ref(CancelState* s) {
  if (s != nullptr) ++s->refs_;
}
inline void release(CancelState* s) {
  if (s != nullptr && --s->refs_ == 0) delete s;
}

}  // namespace detail

class CancellationToken {
 public:
  CancellationToken() = default;
  CancellationToken(const CancellationToken& o) : s_(o.s_) { detail::add_ref(s_); }
  CancellationToken(CancellationToken&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  CancellationToken& operator=(CancellationToken o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~CancellationToken() { detail::release(s_); }

  // False for a default token: awaiters may skip registration entirely.
  bool can_be_cancelled() const { return s_ != nullptr; }
  bool is_cancellation_requested() const { return s_ != nullptr && s_->cancelled_; }

 private:
  friend class CancellationSource;
  friend class CancellationRegistration;
  explicit CancellationToken(detail::CancelState* s) : s_(s) { detail::add_ref(s_); }
  detail::CancelState* s_ = nullptr;
};

class CancellationSource {
 public:
  CancellationSource() : s_(new detail::CancelState) {}
  CancellationSource(const CancellationSource&) = delete;
  CancellationSource& operator=(const CancellationSource&) = delete;
  CancellationSource(CancellationSource&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  ~CancellationSource() { detail::release(s_); }

  CancellationToken token() const { return CancellationToken(s_); }
  bool is_cancellation_requested() const { return s_->cancelled_; }

  // Idempotent. Returns true only for the call that actually cancelled.
  bool cancel() {
    if (s_->cancelled_) return false;
    s_->cancelled_ = true;
    detail::CancelState* keep = s_;
    detail::add_ref(keep);  // a callback may destroy this source
    // Each node is unlinked before its callback runs, so a callback may freely
    // destroy its own or any other registration.
    while (detail::CancelNode* n = keep->nodes_.pop_front()) n->fn_(n->ctx_);
    detail::release(keep);
    return true;
  }

 private:
  detail::CancelState* s_;
};

// Calls fn(ctx) once if the token is cancelled while armed. Lives inside the
// awaiter it serves, so arming allocates nothing.
class CancellationRegistration {
 public:
  CancellationRegistration() = default;
  CancellationRegistration(const CancellationRegistration&) = delete;
  CancellationRegistration& operator=(const CancellationRegistration&) = delete;
  ~CancellationRegistration() { disarm(); }

  // Returns false (and arms nothing) if cancellation was already requested:
  // the caller must then complete with operation_canceled itself.
  bool arm(const CancellationToken& token, void (*fn)(void*), void* ctx) {
    disarm();
    if (token.s_ == nullptr) return true;
    if (token.s_->cancelled_) return false;
    token_ = token;
    node_.fn_ = fn;
    node_.ctx_ = ctx;
    token.s_->nodes_.push_back(node_);
    return true;
  }

  void disarm() {
    node_.unlink();
    token_ = CancellationToken();
  }

 private:
  detail::CancelNode node_;
  CancellationToken token_;  // keeps the list alive while linked
};

// A source that is also cancelled when a parent token is: how with_timeout and
// when_any cancel their children without cancelling their caller.
class LinkedCancellationSource {
 public:
  explicit LinkedCancellationSource(const CancellationToken& parent) {
    if (!link_.arm(parent, &on_parent, this)) source_.cancel();
  }
  LinkedCancellationSource(const LinkedCancellationSource&) = delete;
  LinkedCancellationSource& operator=(const LinkedCancellationSource&) = delete;

  CancellationToken token() const { return source_.token(); }
  bool cancel() { return source_.cancel(); }
  bool is_cancellation_requested() const { return source_.is_cancellation_requested(); }

 private:
  static void on_parent(void* self) { static_cast<LinkedCancellationSource*>(self)->source_.cancel(); }
  CancellationSource source_;
  CancellationRegistration link_;
};

}  // namespace xnet::rt
