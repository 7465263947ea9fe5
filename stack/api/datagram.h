#pragma once
// Endpoint, receive metadata, and Datagram: a received datagram that owns its
// frames (zero copy) until it is dropped.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <vector>

#include "stack/core/packet.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/wire/addr.h"

namespace xnet {

using wire::Ipv4Addr;

// sockaddr_in, IP_PKTINFO & co., and what recvmsg reports: the stack's own
// types (stack/udp/udp_recv.h).
using Endpoint = stack::Endpoint;
using DatagramInfo = stack::DatagramInfo;
using RecvResult = stack::RecvInfo;

// The payload of a Datagram as a range of byte spans (one per frame: more than
// one only for a reassembled datagram). No allocation.
class PayloadView {
 public:
  class iterator {
   public:
    using value_type = std::span<const std::byte>;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    iterator() = default;
    value_type operator*() const {
      if (head_ != nullptr) return head_->bytes();
      const stack::PacketMeta& m = pool_->meta(frame_);
      return {pool_->frame_data(frame_) + m.head, m.len};
    }
    iterator& operator++() {
      if (head_ != nullptr) {
        head_ = nullptr;
        frame_ = rest_first_;
      } else {
        frame_ = pool_->meta(frame_).next;
      }
      return *this;
    }
    iterator operator++(int) {
      iterator t = *this;
      ++*this;
      return t;
    }
    friend bool operator==(const iterator& a, const iterator& b) {
      return a.head_ == b.head_ && a.frame_ == b.frame_;
    }

   private:
    friend class PayloadView;
    const stack::Packet* head_ = nullptr;
    const stack::FramePool* pool_ = nullptr;
    uint32_t frame_ = stack::FramePool::kNoFrame;
    uint32_t rest_first_ = stack::FramePool::kNoFrame;
  };

  explicit PayloadView(const stack::RxDatagram* d) : d_(d) {}
  iterator begin() const {
    iterator it;
    if (d_ == nullptr || !d_->head.valid()) return it;
    it.head_ = &d_->head;
    it.pool_ = d_->rest.pool();
    it.rest_first_ = d_->rest.empty() ? stack::FramePool::kNoFrame : d_->rest.front_frame_index();
    return it;
  }
  iterator end() const { return iterator(); }

 private:
  const stack::RxDatagram* d_;
};

// A received datagram. Holds its frames (from the receiving link's pool) until
// destroyed or reset(): no copy was made. Drop it before the link goes.
//
//   Result<Datagram> d = co_await sock.recv();
//   for (std::span<const std::byte> part : d->payload()) consume(part);
class Datagram {
 public:
  Datagram() = default;
  // `drops`: the socket's drop count when it was received (SO_RXQ_OVFL).
  explicit Datagram(stack::RxDatagram d, uint64_t drops = 0)
      : d_(std::move(d)), info_(stack::udp_datagram_info(d_)) {
    info_.info.drops = drops;
  }
  // With the stack it came from: every field of info() is known (spec_dst
  // of a broadcast or multicast datagram too).
  Datagram(stack::RxDatagram d, const stack::Stack& s, uint64_t drops)
      : d_(std::move(d)), info_(stack::udp_datagram_info(s, d_)) {
    info_.info.drops = drops;
  }
  Datagram(Datagram&&) noexcept = default;
  Datagram& operator=(Datagram&&) noexcept = default;

  bool valid() const { return d_.head.valid(); }
  explicit operator bool() const { return valid(); }
  // Returns the frames to their pool.
  void reset() {
    d_.rest.clear();
    d_.head.reset();
    d_.size = 0;
  }

  size_t size() const { return d_.size; }
  Endpoint source() const { return info_.source; }
  DatagramInfo info() const { return info_.info; }

  // The payload, one span per frame.
  PayloadView payload() const { return PayloadView(&d_); }
  // Whether the payload is one span (then front() is all of it).
  bool contiguous() const { return d_.rest.empty(); }
  std::span<const std::byte> front() const {
    return valid() ? d_.head.bytes() : std::span<const std::byte>();
  }
  size_t frame_count() const { return valid() ? 1 + d_.rest.size() : 0; }
  // Copies the payload (up to buf.size() bytes); returns bytes copied.
  size_t copy_to(std::span<std::byte> buf) const {
    return valid() ? stack::udp_copy_datagram(d_, buf) : 0;
  }
  std::vector<std::byte> to_vector() const {
    std::vector<std::byte> v(size());
    copy_to(v);
    return v;
  }

  // The stack's representation (headers readable through the offsets).
  const stack::RxDatagram& raw() const { return d_; }

 private:
  stack::RxDatagram d_;
  stack::RecvInfo info_;
};

}  // namespace xnet
