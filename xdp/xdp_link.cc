#include "xdp/xdp_link.h"
#include "stack/core/stage_trace.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>

#include "xdp/tx_checksum.h"
#include "xdp/xdp_uapi_compat.h"

namespace xnet::xdp {
namespace {

// XDP_PACKET_HEADROOM: the kernel writes received data this far into a frame
// (plus the UMEM headroom), so it bounds the largest frame we can receive.
constexpr uint32_t kXdpPacketHeadroom = 256;
constexpr uint32_t kEthHeaderLen = 14;
constexpr uint32_t kMaxBatch = 256;
// The chunk of the jumbo layout: the largest aligned mode takes without huge pages.
constexpr uint32_t kJumboChunk = 4096;

// Bytes a frame holds for a packet: the least of what receive leaves after the
// kernel's headroom and what transmit leaves after the stack's (which ends in
// Ethernet).
uint32_t frame_room(uint32_t frame, uint32_t umem_headroom) {
  const uint32_t rx_space = frame > kXdpPacketHeadroom + umem_headroom
                                ? frame - kXdpPacketHeadroom - umem_headroom
                                : 0;
  const uint32_t tx_space = frame - (stack::kDefaultHeadroom - kEthHeaderLen);
  return std::min(rx_space, tx_space);
}

}  // namespace

XdpResult<std::unique_ptr<XdpLink>> XdpLink::create(XdpInterface& iface, uint32_t queue,
                                                    const XdpLinkConfig& config) {
  if (queue >= iface.queue_count()) {
    return make_error(std::errc::invalid_argument,
                      "queue " + std::to_string(queue) + " is out of range: " + iface.name() +
                          " has " + std::to_string(iface.queue_count()) + " receive queue(s)");
  }
  const uint32_t mtu = iface.netdev().mtu;
  const uint32_t frame = config.umem.frame_size;
  const uint32_t room = frame_room(frame, config.xsk.umem_headroom);
  UmemConfig umem_config = config.umem;
  XskConfig xsk_config = config.xsk;
  const bool jumbo = mtu + kEthHeaderLen > room;
  if (jumbo && config.multi_buffer == MultiBuffer::kOff) {
    return make_error(std::errc::message_size,
                      "MTU " + std::to_string(mtu) + " of " + iface.name() + " needs " +
                          std::to_string(mtu + kEthHeaderLen) + "-byte frames but a " +
                          std::to_string(frame) + "-byte UMEM frame holds at most " +
                          std::to_string(room) + " after headroom, and multi-buffer is off; lower the MTU to " +
                          std::to_string(room - kEthHeaderLen) +
                          (frame < 4096 ? " or use 4096-byte frames" : "") +
                          " (frames are never truncated)");
  }
  if (jumbo) {
    // The smallest whole number of chunks that holds the frame behind the
    // receive headroom (larger than the transmit headroom).
    const uint32_t need = kXdpPacketHeadroom + config.xsk.umem_headroom + mtu + kEthHeaderLen;
    const uint32_t jumbo_frame = (need + kJumboChunk - 1) / kJumboChunk * kJumboChunk;
    if (jumbo_frame > kMaxJumboFrame) {
      return make_error(std::errc::message_size,
                        "MTU " + std::to_string(mtu) + " of " + iface.name() + " needs " +
                            std::to_string(jumbo_frame) + "-byte jumbo frames, more than the " +
                            std::to_string(kMaxJumboFrame) + " xnet supports; lower the MTU to " +
                            std::to_string(frame_room(kMaxJumboFrame, config.xsk.umem_headroom) -
                                           kEthHeaderLen));
    }
    umem_config.frame_size = jumbo_frame;
    umem_config.chunk_size = kJumboChunk;
    umem_config.frame_count = config.jumbo_frame_count;
    xsk_config.multi_buffer = true;
  }
  const uint32_t link_room = frame_room(umem_config.frame_size, config.xsk.umem_headroom);

  auto umem = Umem::create(umem_config);
  if (!umem) return umem.take_error();
  auto xsk = XskSocket::create(*umem.value(), iface.ifindex(), iface.name(), queue, xsk_config);
  if (!xsk) {
    if (!jumbo) return xsk.take_error();
    return errno_error(xsk.error().value(),
                       "MTU " + std::to_string(mtu) + " of " + iface.name() +
                           " does not fit one UMEM frame (" + std::to_string(room) +
                           " bytes after headroom) and needs multi-buffer AF_XDP: " + xsk.message() +
                           "; lower the MTU to " + std::to_string(room - kEthHeaderLen));
  }

  std::unique_ptr<XdpLink> link(new XdpLink());
  link->iface_ = &iface;
  link->umem_ = std::move(umem.value());
  link->xsk_ = std::move(xsk.value());
  link->ifname_ = iface.name();
  link->mtu_ = mtu;
  link->mac_ = iface.netdev().mac;
  link->max_frame_ = mtu + kEthHeaderLen;
  link->room_ = link_room;
  link->jumbo_ = jumbo;
  link->chunk_ = umem_config.chunk_size == 0 ? umem_config.frame_size : umem_config.chunk_size;
  link->max_pieces_ = max_pieces(umem_config.frame_size, link->chunk_);
  if (jumbo) link->tx_pieces_.assign(umem_config.frame_count, 0);
  link->batch_ = std::clamp<uint32_t>(config.batch, 1, kMaxBatch);
  link->fill_target_ = config.fill_target != 0
                           ? std::min(config.fill_target, config.xsk.fill_size)
                           : std::min(config.xsk.fill_size, umem_config.frame_count / 2);
  link->refill_batch_ = std::clamp<uint32_t>(link->fill_target_ / 8, 1, link->batch_);
  // Fill before the XSKMAP points here, so the first frames find buffers
  // (and a TX-only link still has its fill ring populated: ROBUSTNESS case 49).
  link->refill();
  if (auto r = iface.register_xsk(queue, link->fd()); !r) return r.take_error();
  return link;
}

XdpLink::~XdpLink() {
  // Stage-trace builds: this shard's "where the time goes" table.
  stage::report(("shard on " + ifname_ + " queue " + std::to_string(xsk_ ? xsk_->queue() : 0)).c_str());
  if (iface_ != nullptr && xsk_) iface_->unregister_xsk(xsk_->queue());
}

std::string XdpLink::name() const { return ifname_; }

stack::LinkFeatures XdpLink::features() const {
  stack::LinkFeatures f;
  // Only when the bytes leave complete: kSoftware means the stack should do it
  // during its copy, where it is nearly free.
  f.tx_checksum = xsk_->tx_checksum_mode() != TxChecksumMode::kSoftware;
  f.rx_checksum = false;
  // Multi-buffer stays inside the link: the stack gets contiguous frames.
  f.scatter_gather = false;
  f.max_frame = max_frame_;
  return f;
}

void XdpLink::refill() {
  if (fill_outstanding_ >= fill_target_) return;
  stack::FramePool& pool = umem_->pool();
  // When the application holds every frame the fill ring runs dry and the
  // kernel counts rx_fill_ring_empty_descs; we recover as frames come back.
  const uint32_t want = std::min(fill_target_ - fill_outstanding_, pool.available());
  if (want == 0) return;
  uint32_t idx = 0;
  const uint32_t got = xsk_ring_prod__reserve(&xsk_->fill(), want, &idx);
  for (uint32_t i = 0; i < got; ++i) {
    const uint32_t f = pool.alloc();
    *xsk_ring_prod__fill_addr(&xsk_->fill(), idx + i) = pool.offset_of(f);
  }
  xsk_ring_prod__submit(&xsk_->fill(), got);
  fill_outstanding_ += got;
}

namespace {
// Lines of a received frame prefetched: Ethernet + IPv4 + UDP headers and the
// first ~200 payload bytes.
constexpr uint32_t kPrefetchBytes = 256;
}  // namespace

size_t XdpLink::rx_burst(stack::PacketQueue& out, size_t max) {
  // Completions are collected here too, not only when sending: a sender that
  // waits for send-buffer space sends nothing until they are, and every poll
  // receives. Likewise descriptors the kernel refused (EAGAIN: the XSK's own
  // send buffer is full of skbs the peer has not freed yet) stay on the TX
  // ring until someone kicks again; a sender waiting for its send buffer
  // queues nothing new, so tx_burst would never run and both would wait on
  // each other forever (found by netbench with a 4 MiB SO_SNDBUF).
  if (tx_outstanding_ > 0) {
    reclaim_completions();
    kick_tx_until_drained();
  }
  const uint32_t n = static_cast<uint32_t>(std::min<size_t>(max, batch_));
  uint32_t idx = 0;
  const uint32_t got = n == 0 ? 0 : xsk_ring_cons__peek(&xsk_->rx(), n, &idx);
  size_t delivered = 0;
  for (uint32_t i = 0; i < got; ++i) {
    stack::Packet p = take_rx(*xsk_ring_cons__rx_desc(&xsk_->rx(), idx + i));
    if (!p) continue;
    // The kernel wrote these bytes on another core: ask for every line the
    // headers and a small payload span at once, instead of missing on each in
    // turn as eth_rcv, ip_rcv and the UDP checksum reach them.
    const std::byte* bytes = p.data();
    for (uint32_t off = 0; off < std::min<uint32_t>(p.size(), kPrefetchBytes); off += 64) {
      __builtin_prefetch(bytes + off);
    }
    ++stats_.rx_packets;
    stats_.rx_bytes += p.size();
    out.push_back(std::move(p));
    ++delivered;
  }
  if (delivered > 0) stage::begin(stage::Point::kRxFrames);
  if (got > 0) {
    xsk_ring_cons__release(&xsk_->rx(), got);
    fill_outstanding_ -= got;
  }
  // Refill a batch at a time: every submit writes the fill ring's producer,
  // a cache line the kernel reads on another core; a frame or two short of
  // the target changes nothing for the kernel. (Before sleeping, kick()
  // tops it up whatever the deficit.)
  if (fill_target_ - fill_outstanding_ >= refill_batch_) refill();
  if (xsk_->fill_needs_wakeup()) xsk_->kick_rx();
  return delivered;
}

stack::Packet XdpLink::take_rx(const xdp_desc& d) {
  stack::FramePool& pool = umem_->pool();
  const uint32_t frame = pool.frame_of_offset(d.addr);
  const bool more = (d.options & uapi::kPktContd) != 0;
  if (!jumbo_) {
    // Not bound with XDP_USE_SG, so chains should not appear; if one does, it
    // is dropped whole, never delivered in pieces (ROBUSTNESS case 46).
    if (more || in_chain_) {
      in_chain_ = more;
      pool.free(frame);
      ++stats_.rx_dropped;
      return {};
    }
  } else if (rx_chain_.active()) {
    // A continuation: copied behind the first piece, its frame freed at once.
    rx_chain_.append({pool.frame_data(frame) + (d.addr - pool.offset_of(frame)), d.len}, max_frame_);
    pool.free(frame);
    if (more) return {};
    stack::Packet whole = rx_chain_.finish();
    if (!whole) ++stats_.rx_dropped;  // longer than the MTU's frame: dropped whole
    return whole;
  }
  stack::Packet p(&pool, frame);
  stack::PacketMeta& m = p.meta();
  m = stack::PacketMeta{};
  m.head = static_cast<uint16_t>(d.addr - pool.offset_of(frame));
  m.len = static_cast<uint16_t>(d.len);
  m.mac_off = m.head;
  if (jumbo_ && more) {
    rx_chain_.start(std::move(p));
    return {};
  }
  return p;
}

bool XdpLink::set_mtu(uint32_t mtu) {
  if (mtu + kEthHeaderLen > room_) return false;
  mtu_ = mtu;
  max_frame_ = mtu + kEthHeaderLen;
  return true;
}

uint32_t XdpLink::prepare_tx(stack::Packet& p, std::span<xdp_desc> out) {
  stack::PacketMeta& m = p.meta();
  if (m.len == 0 || m.len > max_frame_) return 0;
  const uint32_t md_len = xsk_->tx_metadata_len();
  // With TX metadata registered, every descriptor needs md_len bytes in front
  // of its data inside the frame (the kernel validates addr - tx_metadata_len).
  if (m.head < md_len) {
    const uint16_t shift = static_cast<uint16_t>(md_len - m.head);
    if (p.tailroom() < shift) return 0;
    std::memmove(p.data() + shift, p.data(), m.len);
    m.head = static_cast<uint16_t>(m.head + shift);
    if (m.csum_state == stack::ChecksumState::kPartial) m.csum_start += shift;
  }
  uint32_t options = 0;
  if (m.csum_state == stack::ChecksumState::kPartial) {
    if (m.csum_start < m.head) return 0;
    const uint32_t start = m.csum_start - m.head;  // PacketMeta: frame offset; here: from data
    if (start + m.csum_offset + 2u > m.len) return 0;
    if (xsk_->tx_checksum_mode() != TxChecksumMode::kSoftware) {
      uapi::TxMetadata md{};
      md.flags = uapi::kTxmdChecksum;
      md.request.csum_start = static_cast<uint16_t>(start);
      md.request.csum_offset = m.csum_offset;
      std::memcpy(p.data() - md_len, &md, sizeof(md));
      options = uapi::kTxMetadata;
    } else {
      complete_partial_checksum(p.data(), m.len, start, m.csum_offset);
    }
  }
  const uint64_t addr = umem_->pool().offset_of(p.frame()) + m.head;
  if (!jumbo_) {
    out[0] = xdp_desc{addr, m.len, options};
    return 1;
  }
  // The kernel builds the skb's linear part from the first descriptor: it
  // must hold the Ethernet header (the stack's headroom puts ~4000 bytes there).
  if (chunk_ - addr % chunk_ < std::min<uint32_t>(m.len, kEthHeaderLen)) return 0;
  const uint32_t n = split_tx(addr, m.len, chunk_, options, out);
  if (n != 0) tx_pieces_[p.frame()] = static_cast<uint8_t>(n);
  return n;
}

size_t XdpLink::tx_burst(stack::PacketQueue& q) {
  stage::mark(stage::Point::kTxBurst);
  // Copy mode takes a TX descriptor only with a completion entry free for
  // it; otherwise the completions are collected by the next rx_burst.
  if (completion_ring_may_fill()) reclaim_completions();
  stack::FramePool& pool = umem_->pool();
  std::array<xdp_desc, kMaxBatch> descs;
  size_t taken = 0;
  bool blocked = false;
  // Descriptors per ring operation: a whole batch of the largest packets.
  const uint32_t want = std::min(batch_ * max_pieces_, kMaxBatch);
  while (!q.empty() && !blocked) {
    const uint32_t room = std::min(xsk_prod_nb_free(&xsk_->tx(), want), want);
    // Ring full (or too full for a whole jumbo packet, whose descriptors go in
    // together): backpressure, the rest stays in q.
    if (room < max_pieces_) break;
    uint32_t n = 0;
    uint32_t frames = 0;
    while (n + max_pieces_ <= room && !q.empty()) {
      stack::Packet p = q.pop_front();
      if (p.pool() != &pool) {
        // Built in another pool (e.g. forwarded from another link's UMEM):
        // one copy into a frame the kernel can see.
        stack::Packet c = stack::Packet::allocate(pool, stack::kDefaultHeadroom);
        if (!c || p.size() > c.tailroom()) {
          if (!c) {
            q.push_front(std::move(p));
            blocked = true;
            break;
          }
          ++stats_.tx_dropped;
          ++taken;
          continue;
        }
        std::memcpy(c.put(p.size()), p.data(), p.size());
        c.meta().csum_state = p.meta().csum_state;
        if (p.meta().csum_state == stack::ChecksumState::kPartial) {
          c.meta().csum_start = static_cast<uint16_t>(p.meta().csum_start - p.meta().head + c.meta().head);
          c.meta().csum_offset = p.meta().csum_offset;
        }
        p = std::move(c);
      }
      ++taken;
      const uint32_t pieces = prepare_tx(p, std::span<xdp_desc>(descs).subspan(n, room - n));
      if (pieces == 0) {
        ++stats_.tx_dropped;  // p's frame goes back to the pool here
        continue;
      }
      ++stats_.tx_packets;
      stats_.tx_bytes += p.size();
      (void)p.release();  // the frame now belongs to the tx ring
      n += pieces;
      ++frames;
    }
    if (n == 0) continue;
    uint32_t idx = 0;
    // Cannot fall short: nb_free above said there is room, and only we produce.
    const uint32_t got = xsk_ring_prod__reserve(&xsk_->tx(), n, &idx);
    for (uint32_t i = 0; i < got; ++i) *xsk_ring_prod__tx_desc(&xsk_->tx(), idx + i) = descs[i];
    xsk_ring_prod__submit(&xsk_->tx(), got);
    tx_outstanding_ += frames;
  }
  kick_tx_until_drained();
  return taken;
}

uint32_t XdpLink::reclaim_completions() {
  // One look at the ring's producer a call, taking everything there: the
  // device's core writes that line on every completion, so each read here is
  // a miss on this core and costs the writer its ownership of the line again
  // (in batches of 64 with a final look for more, it was two reads a call or
  // more, and half of this function's samples on the sending core).
  stack::FramePool& pool = umem_->pool();
  uint32_t idx = 0;
  const uint32_t n = xsk_ring_cons__peek(&xsk_->comp(), xsk_->comp().size, &idx);
  if (n == 0) return 0;
  uint32_t total = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t addr = *xsk_ring_cons__comp_addr(&xsk_->comp(), idx + i);
    const uint32_t frame = pool.frame_of_offset(addr);
    // A jumbo frame went out in several pieces: it is free after the last.
    if (jumbo_ && --tx_pieces_[frame] != 0) continue;
    pool.free(frame);  // runs the frame's destructor (sock_wfree)
    ++total;
  }
  xsk_ring_cons__release(&xsk_->comp(), n);
  tx_outstanding_ -= total;
  completed_total_ += total;
  return total;
}

bool XdpLink::completion_ring_may_fill() const {
  // Every descriptor posted and not yet reclaimed can be an entry there.
  return uint64_t{tx_outstanding_} * max_pieces_ + kMaxBatch > xsk_->comp().size;
}

void XdpLink::kick_tx_until_drained() {
  xsk_ring_prod& tx = xsk_->tx();
  // Backing off after a device drop (below) until enough of our frames have
  // left the device's queue, or the pause has passed.
  if (kick_backoff_.count() != 0 && !(kick_resume_at_ != 0 && completed_total_ >= kick_resume_at_) &&
      std::chrono::steady_clock::now() < kick_not_before_) {
    return;
  }
  // Copy mode transmits inside sendto, at most 32 descriptors per call, and
  // stalls while the completion ring is full: kick, reclaim, repeat, bounded.
  const uint32_t limit = tx.size / 32 + 2;
  for (uint32_t i = 0; i < limit; ++i) {
    const uint32_t queued = tx.size - xsk_prod_nb_free(&tx, tx.size);
    if (queued == 0 || !xsk_->tx_needs_wakeup()) break;
    const int err = xsk_->kick_tx();
    if (err == EBUSY) {
      // The device dropped the head frame (veth: the peer's 256-entry NAPI
      // ring is full because its NAPI has not run). Counted as
      // LinkStats::tx_dropped. Every further kick would drop one more, so
      // none is made for a while, twice as long after each drop in a row:
      // meanwhile the frames wait on the TX ring (and the senders on their
      // send buffers) instead of being dropped one per kick.
      ++stats_.tx_dropped;
      kick_backoff_ = std::clamp(kick_backoff_ * 2, kMinKickBackoff, kMaxKickBackoff);
      kick_not_before_ = std::chrono::steady_clock::now() + kick_backoff_;
      // Ours in the device's queue (posted, off the TX ring): as they
      // complete, its queue has room again (counted in frames; a jumbo
      // frame's pieces only make the estimate low, and the clock still ends
      // the pause).
      const uint32_t on_ring = tx.size - xsk_prod_nb_free(&tx, tx.size);
      const uint32_t in_device = tx_outstanding_ > on_ring ? tx_outstanding_ - on_ring : 0;
      kick_resume_at_ = in_device >= kResumeCompletions ? completed_total_ + kResumeCompletions : 0;
      break;
    }
    if (err != 0) break;
    kick_backoff_ = {};
    stage::end(stage::Point::kTxKicked);
    // Also when the ring has room: with the peer's receive in this kick's
    // softirq (veth without NAPI threads) the completions are already here,
    // on this core, and taking them now keeps them off the path of the reply
    // (leaving them to the next rx_burst cost ping-pong p50 ~0.4 us).
    reclaim_completions();
    // Nothing taken: the kernel is out of send buffer until the peer frees
    // skbs; the next poll kicks again instead of a burst of futile syscalls.
    if (tx.size - xsk_prod_nb_free(&tx, tx.size) == queued) break;
  }
}

uint32_t XdpLink::tx_ring_pending() const {
  xsk_ring_prod& tx = xsk_->tx();
  return tx.size - xsk_prod_nb_free(&tx, tx.size);
}

bool XdpLink::needs_wakeup() const {
  return xsk_->fill_needs_wakeup() || (tx_outstanding_ > 0 && xsk_->tx_needs_wakeup());
}

void XdpLink::kick() {
  reclaim_completions();
  kick_tx_until_drained();
  refill();
  if (xsk_->fill_needs_wakeup() || xsk_->busy_poll()) xsk_->kick_rx();
}

void XdpLink::prepare_to_sleep() {
  // Transmits in flight (tx ring or completion ring) finish only when kicked in
  // copy mode; a fill ring below target or flagged need_wakeup leaves the
  // kernel without buffers for what would wake us.
  if (tx_outstanding_ > 0 || fill_outstanding_ < fill_target_ || xsk_->fill_needs_wakeup()) {
    kick();
  }
}

uint32_t XdpLink::completed_frames() {
  const uint32_t descs = xsk_cons_nb_avail(&xsk_->comp(), xsk_->comp().size);
  if (!jumbo_ || descs == 0) return descs;
  // Frames whose every outstanding piece is in the ring (read, not consumed).
  const stack::FramePool& pool = umem_->pool();
  uint32_t idx = 0;
  const uint32_t n = xsk_ring_cons__peek(&xsk_->comp(), descs, &idx);
  std::map<uint32_t, uint32_t> seen;
  uint32_t frames = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t f = pool.frame_of_offset(*xsk_ring_cons__comp_addr(&xsk_->comp(), idx + i));
    if (++seen[f] == tx_pieces_[f]) ++frames;
  }
  xsk_ring_cons__cancel(&xsk_->comp(), n);
  return frames;
}

FrameCounts XdpLink::frame_counts() {
  const stack::FramePool& pool = umem_->pool();
  FrameCounts c;
  c.total = pool.capacity();
  c.free = pool.available();
  c.rx = xsk_cons_nb_avail(&xsk_->rx(), xsk_->rx().size);
  c.fill = fill_outstanding_ - c.rx;
  c.completion = completed_frames();
  c.tx = tx_outstanding_ - c.completion;
  c.stack = pool.in_use() - fill_outstanding_ - tx_outstanding_;
  return c;
}

void XdpLink::add_multicast(wire::Ipv4Addr group) {
  if (iface_ != nullptr) (void)iface_->add_group(group);
}

void XdpLink::del_multicast(wire::Ipv4Addr group) {
  if (iface_ != nullptr) (void)iface_->remove_group(group);
}

}  // namespace xnet::xdp
