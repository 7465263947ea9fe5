#pragma once
// The heap half of a UdpSocket (internal). UdpSocket is a movable handle; the
// wait queues, the SockWaker context and the driver's list node must not move
// while coroutines wait on them, so they live here, in one allocation per
// socket (never per operation).
//
// Lifetime: reference counted, shard-local (no atomics). The handle holds one
// reference, every operation in flight another, so a coroutine suspended in
// recv_from() never touches freed memory whoever goes first: the socket being
// closed, the driver being destroyed, or the operation being cancelled.
//
// `sk` is the stack's socket; null once the socket is closed (EBADF) or its
// driver is gone (ENETDOWN, `dead`). Waiters are failed with `dead` then.

#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

#include "runtime/clock.h"
#include "runtime/intrusive_list.h"
#include "runtime/wait_queue.h"
#include "stack/udp/udp_sock.h"

namespace xnet {

class StackDriver;

namespace detail {

struct SocketState : rt::ListHook {
  StackDriver* driver = nullptr;
  stack::UdpSock* sk = nullptr;
  std::errc dead = std::errc::bad_file_descriptor;
  bool nonblocking = false;  // O_NONBLOCK: waiting operations fail with EAGAIN
  // SO_RCVTIMEO / SO_SNDTIMEO: unset waits forever; a call that waited this
  // long fails with EAGAIN.
  std::optional<rt::Duration> recv_timeout;
  std::optional<rt::Duration> send_timeout;
  uint32_t refs = 0;

  rt::WaitQueue<void> readers;  // datagram queued or sk_err set
  rt::WaitQueue<void> writers;  // send-buffer space freed
  rt::WaitQueue<void> errors;   // the error queue grew

  // SockWaker / SendBuffer callbacks: they only push waiters to the ready
  // queue (the stack calls them from inside poll()).
  static void on_readable(void* ctx) { static_cast<SocketState*>(ctx)->readers.wake_one(); }
  static void on_writable(void* ctx) { static_cast<SocketState*>(ctx)->writers.wake_all(); }
  static void on_error(void* ctx) {
    auto* s = static_cast<SocketState*>(ctx);
    s->errors.wake_one();
    s->readers.wake_one();  // sk_err is reported by the next receive
  }

  // Detaches from the stack's socket (already closed by the caller) and fails
  // every waiter with `why`.
  void kill(std::errc why) {
    sk = nullptr;
    driver = nullptr;
    dead = why;
    unlink();
    const std::error_code ec = std::make_error_code(why);
    readers.wake_all_error(ec);
    writers.wake_all_error(ec);
    errors.wake_all_error(ec);
  }
};

// Intrusive reference to a SocketState.
class StateRef {
 public:
  StateRef() = default;
  explicit StateRef(SocketState* s) : s_(s) {
    if (s_ != nullptr) ++s_->refs;
  }
  StateRef(const StateRef& o) : StateRef(o.s_) {}
  StateRef(StateRef&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  StateRef& operator=(StateRef o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~StateRef() {
    if (s_ != nullptr && --s_->refs == 0) delete s_;
  }
  SocketState* operator->() const { return s_; }
  SocketState* get() const { return s_; }
  explicit operator bool() const { return s_ != nullptr; }

 private:
  SocketState* s_ = nullptr;
};

}  // namespace detail
}  // namespace xnet
