#include "stack/links/memory_link.h"

#include <cassert>
#include <cstring>

#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/udp.h"

namespace xnet::stack {
namespace {

using Nanos = std::chrono::nanoseconds;

uint64_t to_ns(MemoryLink::TimePoint t) {
  return static_cast<uint64_t>(std::chrono::duration_cast<Nanos>(t.time_since_epoch()).count());
}

MemoryLink::TimePoint from_ns(uint64_t ns) {
  return MemoryLink::TimePoint(std::chrono::duration_cast<MemoryLink::TimePoint::duration>(
      Nanos(static_cast<int64_t>(ns))));
}

// A uniform double in [0, 1) from 53 random bits: defined by the engine
// alone, unlike std::uniform_real_distribution, so runs repeat across
// standard libraries.
double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

std::pair<std::unique_ptr<MemoryLink>, std::unique_ptr<MemoryLink>> MemoryLink::make_pair(
    MemoryLinkConfig a, MemoryLinkConfig b) {
  std::unique_ptr<MemoryLink> la(new MemoryLink(std::move(a)));
  std::unique_ptr<MemoryLink> lb(new MemoryLink(std::move(b)));
  la->peer_ = lb.get();
  lb->peer_ = la.get();
  return {std::move(la), std::move(lb)};
}

MemoryLink::MemoryLink(MemoryLinkConfig cfg)
    : cfg_(std::move(cfg)), pool_(cfg_.frame_size, cfg_.frame_count), rng_(cfg_.tx_faults.seed) {}

MemoryLink::~MemoryLink() {
  // The peer keeps working as a link without carrier.
  if (peer_ != nullptr) peer_->peer_ = nullptr;
  held_.reset();
}

void MemoryLink::set_tx_faults(const MemoryLinkFaults& f) {
  cfg_.tx_faults = f;
  rng_.seed(f.seed);
}

uint32_t MemoryLink::frames_held() const {
  return static_cast<uint32_t>(ready_.size() + delayed_.size() + (held_.valid() ? 1 : 0));
}

MemoryLink::Decision MemoryLink::decide() {
  const MemoryLinkFaults& f = cfg_.tx_faults;
  Decision d;
  d.drop = unit(rng_) < f.drop;
  d.duplicate = unit(rng_) < f.duplicate;
  d.reorder = unit(rng_) < f.reorder;
  d.corrupt = unit(rng_) < f.corrupt;
  d.delay = unit(rng_) < f.delay;
  d.corrupt_pos = rng_();
  d.corrupt_xor = rng_() % 255 + 1;
  return d;
}

size_t MemoryLink::tx_burst(PacketQueue& q) {
  size_t taken = 0;
  while (!q.empty()) {
    MemoryLink* rx = peer_;
    if (rx != nullptr && rx->frames_held() >= rx->cfg_.rx_queue_capacity) break;  // backpressure
    Packet pkt = q.pop_front();
    ++taken;
    ++stats_.tx_packets;
    stats_.tx_bytes += pkt.size();
    assert((pkt.meta().csum_state != ChecksumState::kPartial || cfg_.features.tx_checksum) &&
           "kPartial handed to a link without tx_checksum");
    if (tap_) tap_(TapDirection::kTx, pkt.bytes(), now_);
    if (rx == nullptr) {
      ++stats_.tx_dropped;  // no carrier
      continue;
    }
    const Decision d = decide();
    if (d.drop) {
      ++faults_.dropped;
      continue;
    }
    Packet copy = rx->receive_copy(pkt);
    if (!copy) continue;
    complete_partial_checksum(copy, pkt);
    Packet dup;
    if (d.duplicate && rx->frames_held() + 2 <= rx->cfg_.rx_queue_capacity) {
      dup = rx->receive_copy(pkt);
      if (dup) {
        complete_partial_checksum(dup, pkt);
        ++faults_.duplicated;
      }
    }
    if (d.corrupt && copy.size() != 0) {
      copy.data()[d.corrupt_pos % copy.size()] ^= static_cast<std::byte>(d.corrupt_xor);
      ++faults_.corrupted;
    }
    rx->mark_rx_checksum(copy);
    const auto& f = cfg_.tx_faults;
    // A delayed frame is out of order already; holding it as well adds nothing.
    const bool reorder = d.reorder && !d.delay && !rx->held_.valid();
    if (d.delay) ++faults_.delayed;
    if (reorder) ++faults_.reordered;
    rx->enqueue(std::move(copy), d.delay, f.delay_time, reorder, f.reorder_timeout);
    if (dup) {
      rx->mark_rx_checksum(dup);
      rx->enqueue(std::move(dup), d.delay, f.delay_time, false, f.reorder_timeout);
    }
    // `pkt` goes out of scope here: its frame returns to our pool and its
    // destructor hook runs, like a tx completion.
  }
  return taken;
}

Packet MemoryLink::receive_copy(const Packet& frame) {
  const size_t need = size_t{cfg_.rx_headroom} + frame.size();
  if (need > pool_.frame_size() || frame.size() > cfg_.features.max_frame) {
    ++stats_.rx_dropped;
    return Packet();
  }
  Packet p = Packet::allocate(pool_, cfg_.rx_headroom);
  if (!p) {
    ++stats_.rx_dropped;  // no receive buffer, as a NIC with an empty fill ring
    return p;
  }
  std::memcpy(p.put(frame.size()), frame.data(), frame.size());
  p.set_mac_header();
  return p;
}

void MemoryLink::complete_partial_checksum(Packet& copy, const Packet& original) const {
  const PacketMeta& m = original.meta();
  if (m.csum_state != ChecksumState::kPartial) return;
  // Offsets in the metadata are frame offsets of the sender's frame.
  const size_t start = size_t{m.csum_start} - m.head;
  const size_t field = start + m.csum_offset;
  assert(m.csum_start >= m.head && field + 2 <= copy.size());
  std::byte* data = copy.data();
  // The field holds the pseudo-header sum, so summing across it includes it.
  const uint32_t sum = wire::checksum_partial({data + start, copy.size() - start});
  uint16_t check = static_cast<uint16_t>(~wire::checksum_fold(sum));
  if (check == 0) check = 0xffff;  // UDP: 0 would mean "no checksum"
  data[field] = static_cast<std::byte>(check >> 8);
  data[field + 1] = static_cast<std::byte>(check);
}

void MemoryLink::mark_rx_checksum(Packet& p) const {
  if (!cfg_.features.rx_checksum) return;
  // A device vouches only for what it could verify: unfragmented IPv4/UDP
  // with a good (or no) checksum. Everything else is left to the stack.
  auto eth = wire::ConstEthernetView::checked(p.bytes());
  if (!eth || eth->payload_ethertype() != static_cast<uint16_t>(wire::EtherType::kIpv4)) return;
  auto ip = wire::ConstIpv4View::checked(eth->payload());
  if (!ip || !ip->verify_checksum() || ip->is_fragment() ||
      ip->protocol() != static_cast<uint8_t>(wire::IpProtocol::kUdp)) {
    return;
  }
  auto udp = wire::ConstUdpView::checked(ip->payload());
  if (!udp || !udp->verify_checksum(ip->src(), ip->dst())) return;
  p.meta().csum_state = ChecksumState::kUnnecessary;
}

void MemoryLink::enqueue(Packet p, bool delay, Nanos delay_time, bool reorder, Nanos reorder_timeout) {
  if (delay) {
    p.meta().timestamp_ns = to_ns(now_ + delay_time);
    delayed_.push_back(std::move(p));
    return;
  }
  p.meta().timestamp_ns = to_ns(now_);
  if (reorder) {
    held_ = std::move(p);
    held_until_ = now_ + reorder_timeout;
    return;
  }
  ready_.push_back(std::move(p));
  if (held_) ready_.push_back(std::move(held_));
}

void MemoryLink::release_due() {
  const uint64_t now = to_ns(now_);
  for (size_t n = delayed_.size(); n > 0; --n) {
    Packet p = delayed_.pop_front();
    if (p.meta().timestamp_ns <= now) {
      ready_.push_back(std::move(p));
      if (held_) ready_.push_back(std::move(held_));
    } else {
      delayed_.push_back(std::move(p));
    }
  }
  if (held_ && held_until_ <= now_) ready_.push_back(std::move(held_));
}

void MemoryLink::advance(TimePoint now) {
  now_ = now;
  release_due();
  if (peer_ != nullptr) {
    peer_->now_ = now;
    peer_->release_due();
  }
}

std::optional<MemoryLink::TimePoint> MemoryLink::next_deadline() const {
  std::optional<TimePoint> best;
  auto consider = [&](TimePoint t) {
    if (!best || t < *best) best = t;
  };
  for (const MemoryLink* l : {this, static_cast<const MemoryLink*>(peer_)}) {
    if (l == nullptr) continue;
    l->delayed_.for_each([&](const PacketMeta& m, const std::byte*) { consider(from_ns(m.timestamp_ns)); });
    if (l->held_) consider(l->held_until_);
  }
  return best;
}

size_t MemoryLink::rx_burst(PacketQueue& out, size_t max) {
  release_due();
  size_t n = 0;
  while (n < max && !ready_.empty()) {
    Packet p = ready_.pop_front();
    ++stats_.rx_packets;
    stats_.rx_bytes += p.size();
    if (tap_) tap_(TapDirection::kRx, p.bytes(), now_);
    out.push_back(std::move(p));
    ++n;
  }
  return n;
}

}  // namespace xnet::stack
