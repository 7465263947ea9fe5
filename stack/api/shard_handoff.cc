#include "stack/api/shard_handoff.h"

#include <bit>
#include <cstring>
#include <utility>

#include "stack/udp/udp_input.h"
#include "stack/udp/udp_table.h"

namespace xnet {

namespace {

using stack::FramePool;
using stack::Packet;
using stack::PacketQueue;

// Frees a handed-over datagram's frames on the shard that owns them.
void free_chain(FramePool& pool, uint32_t head, uint32_t rest) {
  if (head != FramePool::kNoFrame) pool.free(head);
  while (rest != FramePool::kNoFrame) {
    const uint32_t next = pool.meta(rest).next;
    pool.free(rest);
    rest = next;
  }
}

// One frame of another shard's pool copied into `dst`: the bytes up to the
// end of the packet (headroom included, so the header offsets stay valid)
// and the metadata, without the intrusive link and the send-buffer
// destructor (the original keeps those; it is freed by its owner). Invalid
// when `dst` has no free frame.
Packet copy_frame(const FramePool& src, uint32_t frame, FramePool& dst) {
  const stack::PacketMeta& m = src.meta(frame);
  const size_t end = size_t{m.head} + m.len;
  if (end > dst.frame_size()) return Packet();
  Packet c = Packet::allocate(dst, 0);
  if (!c) return c;
  std::memcpy(c.frame_start(), src.frame_data(frame), end);
  stack::PacketMeta copy = m;
  copy.next = FramePool::kNoFrame;
  copy.destructor = nullptr;
  copy.destructor_ctx = nullptr;
  copy.truesize = 0;
  c.meta() = copy;
  return c;
}

}  // namespace

ShardHandoff::ShardHandoff(HandoffHub& hub, unsigned shard, stack::Stack& stack)
    : hub_(hub), self_(shard), stack_(stack), sockets_on_port_(65536, 0), out_(hub.shards(), 0) {
  stack_.udp().set_handoff(this);
  installed_ = true;
}

ShardHandoff::~ShardHandoff() { stop_handing_over(); }

void ShardHandoff::stop_handing_over() {
  if (!installed_) return;
  installed_ = false;
  stack_.udp().set_handoff(nullptr);  // clears this shard's ports from the directory
  wake_targets();
}

void ShardHandoff::port_hashed(uint16_t port) {
  if (sockets_on_port_[port]++ == 0) hub_.directory().add(self_, port);
}

void ShardHandoff::port_unhashed(uint16_t port) {
  if (sockets_on_port_[port] == 0) return;
  if (--sockets_on_port_[port] == 0) hub_.directory().remove(self_, port);
}

int ShardHandoff::pick(uint16_t port, stack::ShardMask tried) const {
  const stack::ShardMask left = hub_.directory().owners(port) & ~(tried | PortDirectory::bit(self_));
  return left == 0 ? -1 : std::countr_zero(left);
}

bool ShardHandoff::hand_over_datagram(Packet& head, PacketQueue& rest, uint16_t dport, stack::ShardMask tried) {
  const int to = pick(dport, tried);
  if (to < 0) return false;
  stack::HandoffStats& hs = stack_.stats().handoff;
  if (out_[to] >= hub_.capacity()) {
    // The target is behind by a whole ring: drop here, as a full socket
    // buffer would there (the frames go back to the pool with head and rest).
    hs.RingFull++;
    head.reset();
    rest.clear();
    return true;
  }
  HandoffItem item;
  item.kind = HandoffItem::Kind::kDatagram;
  item.tried = tried | PortDirectory::bit(self_);
  item.pool = head.pool();
  // The other frames stay chained through their metadata, in order.
  uint32_t last = FramePool::kNoFrame;
  while (!rest.empty()) {
    Packet p = rest.pop_front();
    const uint32_t f = p.release();
    if (last == FramePool::kNoFrame) {
      item.rest = f;
    } else {
      item.pool->meta(last).next = f;
    }
    last = f;
  }
  item.head = head.release();
  // A full ring here means errors without quoted bytes (not counted in out_)
  // filled it: dropped like any other overflow.
  if (!hub_.forward(self_, static_cast<unsigned>(to)).try_push(item)) {
    hs.RingFull++;
    free_chain(*item.pool, item.head, item.rest);
    return true;
  }
  ++out_[to];
  hs.DatagramsOut++;
  wake_ |= PortDirectory::bit(static_cast<unsigned>(to));
  return true;
}

bool ShardHandoff::hand_over_error(const stack::IcmpErrorInfo& err, stack::ShardMask tried) {
  const int to = pick(err.sport, tried);
  if (to < 0) return false;
  stack::HandoffStats& hs = stack_.stats().handoff;
  if (out_[to] >= hub_.capacity()) {
    hs.RingFull++;  // the error is lost, as one a full error queue would lose
    return true;
  }
  HandoffItem item;
  item.kind = HandoffItem::Kind::kError;
  item.tried = tried | PortDirectory::bit(self_);
  item.err = err;
  // The quoted bytes live in the ICMP message's frame only while icmp_rcv
  // runs: they travel in a frame of this shard's pool, returned like a
  // datagram's (the owner puts them on its error queue, ip_icmp_error's payload).
  item.err.quoted_transport = {};
  if (!err.quoted_transport.empty()) {
    stack::Link* link = stack_.link(err.ifindex);
    if (link == nullptr) link = stack_.link(1);
    Packet q = link != nullptr ? Packet::allocate(link->pool(), 0) : Packet();
    if (!q || err.quoted_transport.size() > q.tailroom()) {
      hs.NoFrame++;  // no frame for the quoted bytes: the error is dropped here
      return true;
    }
    std::memcpy(q.put(static_cast<uint16_t>(err.quoted_transport.size())), err.quoted_transport.data(),
                err.quoted_transport.size());
    item.pool = q.pool();
    item.head = q.release();
  }
  if (!hub_.forward(self_, static_cast<unsigned>(to)).try_push(item)) {
    hs.RingFull++;  // the ring is full of errors without frames: dropped
    if (item.head != FramePool::kNoFrame) item.pool->free(item.head);
    return true;
  }
  if (item.head != FramePool::kNoFrame) ++out_[to];
  hs.ErrorsOut++;
  wake_ |= PortDirectory::bit(static_cast<unsigned>(to));
  return true;
}

void ShardHandoff::wake_targets() {
  while (wake_ != 0) {
    const unsigned to = static_cast<unsigned>(std::countr_zero(wake_));
    wake_ &= wake_ - 1;
    hub_.reactor(to).wake();
  }
}

void ShardHandoff::deliver(unsigned from, const HandoffItem& item) {
  stack::HandoffStats& hs = stack_.stats().handoff;
  const auto now = rt::Reactor::now();
  if (item.kind == HandoffItem::Kind::kError) {
    hs.ErrorsIn++;
    stack::IcmpErrorInfo e = item.err;
    if (item.head != FramePool::kNoFrame) {
      // Read in place (udp_err copies what it keeps), then returned.
      const stack::PacketMeta& m = item.pool->meta(item.head);
      e.quoted_transport = {item.pool->frame_data(item.head) + m.head, m.len};
    }
    stack::udp_err_handed_over(stack_, e, item.tried, now);
    if (item.head != FramePool::kNoFrame) {
      (void)hub_.back(self_, from).try_push(HandoffReturn{item.pool, item.head, FramePool::kNoFrame});
      wake_ |= PortDirectory::bit(from);
    }
    return;
  }
  FramePool& theirs = *item.pool;
  // The copy lives in the pool of this shard's own queue of the interface
  // the datagram arrived on (the same ifindex on every shard).
  stack::Link* link = stack_.link(theirs.meta(item.head).ifindex);
  if (link == nullptr) link = stack_.link(1);
  FramePool& mine = link->pool();
  Packet head = copy_frame(theirs, item.head, mine);
  PacketQueue rest;
  bool ok = head.valid();
  for (uint32_t f = item.rest; ok && f != FramePool::kNoFrame; f = theirs.meta(f).next) {
    Packet c = copy_frame(theirs, f, mine);
    ok = c.valid();
    if (ok) rest.push_back(std::move(c));
  }
  // The originals go back to their shard whatever happens to the copy. The
  // ring has room: the sender never has more than its capacity out to us.
  (void)hub_.back(self_, from).try_push(HandoffReturn{item.pool, item.head, item.rest});
  wake_ |= PortDirectory::bit(from);
  if (!ok) {
    hs.NoFrame++;  // this shard's pool ran dry: dropped (head and rest freed here)
    return;
  }
  hs.DatagramsIn++;
  stack::udp_rcv_handed_over(stack_, std::move(head), std::move(rest), item.tried, now);
}

bool ShardHandoff::take_incoming(unsigned from, size_t budget) {
  auto& ring = hub_.forward(from, self_);
  HandoffItem item;
  size_t n = 0;
  while (n < budget && ring.try_pop(item)) {
    deliver(from, item);
    ++n;
  }
  return n != 0;
}

bool ShardHandoff::take_returns(unsigned from) {
  auto& ring = hub_.back(from, self_);
  HandoffReturn r;
  bool did = false;
  while (ring.try_pop(r)) {
    // Returns come from shard `from` for datagrams this shard handed to it.
    free_chain(*r.pool, r.head, r.rest);
    --out_[from];
    did = true;
  }
  return did;
}

bool ShardHandoff::poll() {
  wake_targets();  // what the stack handed over in this pass's stack poll
  bool did = false;
  for (unsigned from = 0; from < hub_.shards(); ++from) {
    if (from == self_) continue;
    did |= take_returns(from);
    did |= take_incoming(from, kBudget);
  }
  if (did) stack_.flush_tx();  // a port unreachable from the last miss leaves now
  wake_targets();
  return did;
}

void ShardHandoff::drain_incoming() {
  for (unsigned from = 0; from < hub_.shards(); ++from) {
    if (from == self_) continue;
    while (take_incoming(from, kBudget)) {
    }
  }
  stack_.flush_tx();
  wake_targets();
}

void ShardHandoff::drain_returns() {
  for (unsigned from = 0; from < hub_.shards(); ++from) {
    if (from != self_) take_returns(from);
  }
}

}  // namespace xnet
