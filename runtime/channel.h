#pragma once
// Channel<T>: bounded, shard-local, multi-producer multi-consumer queue.
// send() suspends while the channel is full (backpressure), recv() while it is
// empty. A value goes straight to a waiting receiver when there is one. Both
// are cancellable through the ambient token without losing values: a receiver
// cancelled after a value was handed to it still gets that value.
// A send cancelled while waiting for space enqueued nothing; its value dies
// with it (use try_send to keep the value when that matters).
// close(): pending and later sends fail with broken_pipe; receivers drain what
// is buffered, then get broken_pipe.

#include <cstddef>
#include <deque>
#include <system_error>
#include <utility>

#include "runtime/result.h"
#include "runtime/task.h"
#include "runtime/wait_queue.h"

namespace xnet::rt {

template <typename T>
class Channel {
 public:
  explicit Channel(std::size_t capacity) : capacity_(capacity) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return buffer_.size(); }
  bool closed() const { return closed_; }

  // Never suspends. Fails with resource_unavailable_try_again when full.
  Result<void> try_send(T& value) {
    if (closed_) return std::errc::broken_pipe;
    if (receivers_.wake_one(std::move(value))) return {};
    if (buffer_.size() >= capacity_) return std::errc::resource_unavailable_try_again;
    buffer_.push_back(std::move(value));
    return {};
  }

  Task<Result<void>> send(T value) {
    while (true) {
      Result<void> r = try_send(value);
      if (r.ok() || r.error() != std::errc::resource_unavailable_try_again) co_return r;
      // Woken when a slot frees; another sender may take it first, so retry.
      Result<void> woke = co_await space_.wait();
      if (!woke.ok()) co_return woke;
    }
  }

  Task<Result<T>> recv() {
    if (!buffer_.empty()) co_return pop();
    if (closed_) co_return std::errc::broken_pipe;
    co_return co_await receivers_.wait();
  }

  void close() {
    closed_ = true;
    receivers_.wake_all_error(std::make_error_code(std::errc::broken_pipe));
    space_.wake_all();  // their retry sees closed_
  }

 private:
  T pop() {
    T v = std::move(buffer_.front());
    buffer_.pop_front();
    space_.wake_one();
    return v;
  }

  std::size_t capacity_;
  bool closed_ = false;
  std::deque<T> buffer_;
  WaitQueue<T> receivers_;
  WaitQueue<void> space_;
};

}  // namespace xnet::rt
