#pragma once
// Packet: the sk_buff analog. A small move-only handle on one frame of a
// FramePool; the destructor returns the frame. Bytes are [data(), data()+size())
// inside the frame; headers are pushed into reserved headroom so that the
// payload is written once.
//
// PacketQueue: an intrusive FIFO of packets chained through PacketMeta::next
// (socket receive queues, ARP pending queues, cork queues, GSO segment lists,
// tx/rx bursts). Queuing never allocates.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "stack/core/frame_pool.h"
#include "stack/core/packet_meta.h"

namespace xnet::stack {

// Headroom reserved in every frame the stack builds: Ethernet plus room for an
// AF_XDP TX metadata area in front of it, sized so that the Ethernet header
// starts on a cache line (64). In copy mode the kernel copies each transmitted
// frame into an skb whose data is cache-line aligned; from a source at offset
// 50 that copy (skb_store_bits, rep movsb) took 26-28% of the sending core at
// 1400 bytes, from offset 64 5-10% (netbench throughput under perf).
inline constexpr uint16_t kDefaultHeadroom = 64 + 14;

class Packet {
 public:
  Packet() = default;
  // The frame's metadata and bytes are looked up once, here: every stage
  // reads them many times, and through the pool each read is a chain of
  // dependent loads (rx_bench: the stalls after Packet::size()).
  Packet(FramePool* pool, uint32_t frame)
      : pool_(pool), meta_(&pool->meta(frame)), start_(pool->frame_data(frame)), frame_(frame) {}
  ~Packet() { reset(); }
  Packet(Packet&& o) noexcept
      : pool_(o.pool_), meta_(o.meta_), start_(o.start_), frame_(std::exchange(o.frame_, FramePool::kNoFrame)) {}
  Packet& operator=(Packet&& o) noexcept {
    if (this != &o) {
      reset();
      pool_ = o.pool_;
      meta_ = o.meta_;
      start_ = o.start_;
      frame_ = std::exchange(o.frame_, FramePool::kNoFrame);
    }
    return *this;
  }
  Packet(const Packet&) = delete;
  Packet& operator=(const Packet&) = delete;

  // An empty packet with `headroom` bytes reserved, or an invalid Packet when
  // the pool is exhausted (check with `valid()`).
  static Packet allocate(FramePool& pool, uint16_t headroom) {
    const uint32_t f = pool.alloc();
    if (f == FramePool::kNoFrame) return Packet();
    Packet p(&pool, f);
    p.meta().head = headroom;
    p.meta().len = 0;
    return p;
  }

  bool valid() const { return frame_ != FramePool::kNoFrame; }
  explicit operator bool() const { return valid(); }
  void reset() {
    if (valid()) pool_->free(std::exchange(frame_, FramePool::kNoFrame));
  }
  // Gives up ownership without freeing (the frame moves to a ring or a queue).
  uint32_t release() { return std::exchange(frame_, FramePool::kNoFrame); }

  FramePool* pool() const { return pool_; }
  uint32_t frame() const { return frame_; }
  PacketMeta& meta() { return *meta_; }
  const PacketMeta& meta() const { return *meta_; }

  std::byte* frame_start() { return start_; }
  const std::byte* frame_start() const { return start_; }
  std::byte* data() { return frame_start() + meta().head; }
  const std::byte* data() const { return frame_start() + meta().head; }
  uint16_t size() const { return meta().len; }
  std::span<std::byte> bytes() { return {data(), size()}; }
  std::span<const std::byte> bytes() const { return {data(), size()}; }

  uint16_t headroom() const { return meta().head; }
  uint16_t tailroom() const {
    return static_cast<uint16_t>(pool_->frame_size() - meta().head - meta().len);
  }
  uint16_t capacity() const { return static_cast<uint16_t>(pool_->frame_size()); }

  // skb_reserve: only on an empty packet.
  void reserve(uint16_t n) {
    assert(meta().len == 0 && n <= tailroom());
    meta().head = static_cast<uint16_t>(meta().head + n);
  }
  // skb_push: grow at the front into the headroom; returns the new start.
  std::byte* push(uint16_t n) {
    assert(n <= headroom());
    meta().head = static_cast<uint16_t>(meta().head - n);
    meta().len = static_cast<uint16_t>(meta().len + n);
    return data();
  }
  // skb_pull: drop bytes at the front; returns the new start.
  std::byte* pull(uint16_t n) {
    assert(n <= size());
    meta().head = static_cast<uint16_t>(meta().head + n);
    meta().len = static_cast<uint16_t>(meta().len - n);
    return data();
  }
  // skb_put: grow at the tail; returns the start of the new bytes.
  std::byte* put(uint16_t n) {
    assert(n <= tailroom());
    std::byte* tail = data() + size();
    meta().len = static_cast<uint16_t>(meta().len + n);
    return tail;
  }
  // skb_trim: shrink to `len` bytes (no-op when already shorter).
  void trim(uint16_t len) {
    if (len < meta().len) meta().len = len;
  }

  // Header offsets, stored relative to the frame so pulls do not move them.
  void set_mac_header() { meta().mac_off = meta().head; }
  void set_network_header() { meta().network_off = meta().head; }
  void set_transport_header() { meta().transport_off = meta().head; }
  void set_network_header(uint16_t offset_from_data) {
    meta().network_off = static_cast<uint16_t>(meta().head + offset_from_data);
  }
  void set_transport_header(uint16_t offset_from_data) {
    meta().transport_off = static_cast<uint16_t>(meta().head + offset_from_data);
  }
  std::byte* mac_header() { return frame_start() + meta().mac_off; }
  std::byte* network_header() { return frame_start() + meta().network_off; }
  std::byte* transport_header() { return frame_start() + meta().transport_off; }
  const std::byte* network_header() const { return frame_start() + meta().network_off; }
  const std::byte* transport_header() const { return frame_start() + meta().transport_off; }

  // skb_orphan: the frame stops counting against its sender's buffer now
  // (its destructor runs) instead of when it is freed.
  void orphan() {
    PacketMeta& m = meta();
    if (m.destructor == nullptr) return;
    const FrameDestructor d = m.destructor;
    m.destructor = nullptr;
    d(m.destructor_ctx, m.truesize);
    m.destructor_ctx = nullptr;
  }

  // A copy of this packet in a new frame of `pool` (same bytes, same head,
  // same metadata except the intrusive link and the destructor).
  Packet clone(FramePool& pool) const {
    Packet c = Packet::allocate(pool, 0);
    if (!c) return c;
    PacketMeta m = meta();
    m.next = FramePool::kNoFrame;
    m.destructor = nullptr;
    m.destructor_ctx = nullptr;
    m.truesize = 0;
    const size_t n = std::min<size_t>(pool.frame_size(), pool_->frame_size());
    std::copy_n(frame_start(), n, c.frame_start());
    c.meta() = m;
    return c;
  }

 private:
  FramePool* pool_ = nullptr;
  PacketMeta* meta_ = nullptr;  // pool_->meta(frame_)
  std::byte* start_ = nullptr;  // pool_->frame_data(frame_)
  uint32_t frame_ = FramePool::kNoFrame;
};

// Intrusive FIFO. All packets of one queue must come from the same pool.
class PacketQueue {
 public:
  PacketQueue() = default;
  ~PacketQueue() { clear(); }
  PacketQueue(PacketQueue&& o) noexcept
      : pool_(o.pool_),
        head_(std::exchange(o.head_, FramePool::kNoFrame)),
        tail_(std::exchange(o.tail_, FramePool::kNoFrame)),
        count_(std::exchange(o.count_, 0)),
        bytes_(std::exchange(o.bytes_, 0)) {}
  PacketQueue& operator=(PacketQueue&& o) noexcept {
    if (this != &o) {
      clear();
      pool_ = o.pool_;
      head_ = std::exchange(o.head_, FramePool::kNoFrame);
      tail_ = std::exchange(o.tail_, FramePool::kNoFrame);
      count_ = std::exchange(o.count_, 0);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  PacketQueue(const PacketQueue&) = delete;
  PacketQueue& operator=(const PacketQueue&) = delete;

  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  // Sum of packet sizes (for byte-bounded queues).
  size_t bytes() const { return bytes_; }

  void push_back(Packet p) {
    assert(p.valid());
    assert(pool_ == nullptr || empty() || pool_ == p.pool());
    pool_ = p.pool();
    bytes_ += p.size();
    const uint32_t f = p.release();
    pool_->meta(f).next = FramePool::kNoFrame;
    if (tail_ == FramePool::kNoFrame) {
      head_ = f;
    } else {
      pool_->meta(tail_).next = f;
    }
    tail_ = f;
    ++count_;
  }
  void push_front(Packet p) {
    assert(p.valid());
    assert(pool_ == nullptr || empty() || pool_ == p.pool());
    pool_ = p.pool();
    bytes_ += p.size();
    const uint32_t f = p.release();
    pool_->meta(f).next = head_;
    head_ = f;
    if (tail_ == FramePool::kNoFrame) tail_ = f;
    ++count_;
  }
  Packet pop_front() {
    if (empty()) return Packet();
    const uint32_t f = head_;
    head_ = pool_->meta(f).next;
    if (head_ == FramePool::kNoFrame) tail_ = FramePool::kNoFrame;
    pool_->meta(f).next = FramePool::kNoFrame;
    --count_;
    bytes_ -= pool_->meta(f).len;
    return Packet(pool_, f);
  }
  // Moves every packet of `other` to the back of this queue.
  void splice_back(PacketQueue& other) {
    while (!other.empty()) push_back(other.pop_front());
  }
  void clear() {
    while (!empty()) pop_front();  // each popped Packet frees its frame
  }

  // Read-only walk without dequeuing: fn(const PacketMeta&, const std::byte* frame_start).
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (uint32_t f = head_; f != FramePool::kNoFrame; f = pool_->meta(f).next) {
      fn(pool_->meta(f), pool_->frame_data(f));
    }
  }
  // Peek at the head without dequeuing (nullptr when empty).
  const PacketMeta* front_meta() const { return empty() ? nullptr : &pool_->meta(head_); }
  const std::byte* front_frame() const { return empty() ? nullptr : pool_->frame_data(head_); }
  uint32_t front_frame_index() const { return head_; }
  FramePool* pool() const { return pool_; }

 private:
  FramePool* pool_ = nullptr;
  uint32_t head_ = FramePool::kNoFrame;
  uint32_t tail_ = FramePool::kNoFrame;
  size_t count_ = 0;
  size_t bytes_ = 0;
};

}  // namespace xnet::stack
