#include "tests/stack/support/net.h"

#include <algorithm>
#include <cstring>

namespace xnet::stack::support {

TapLink::TapLink(MacAddr mac, uint32_t frames, uint32_t frame_size, uint32_t mtu)
    : pool_(frame_size, frames), mac_(mac), mtu_(mtu) {}

TapLink::~TapLink() { rx_.clear(); }

void TapLink::add_multicast(wire::Ipv4Addr group) {
  if (std::find(filter_.begin(), filter_.end(), group) != filter_.end()) {
    ++filter_misuse_;
    return;
  }
  filter_.push_back(group);
}

void TapLink::del_multicast(wire::Ipv4Addr group) {
  if (std::erase(filter_, group) == 0) ++filter_misuse_;
}

bool TapLink::inject(std::span<const std::byte> frame) {
  Packet p = Packet::allocate(pool_, kDefaultHeadroom);
  if (!p || frame.size() > p.tailroom()) return false;
  std::memcpy(p.put(static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
  rx_.push_back(std::move(p));
  return true;
}

std::vector<Bytes> TapLink::take_sent() {
  std::vector<Bytes> out;
  out.swap(sent_);
  return out;
}

size_t TapLink::rx_burst(PacketQueue& out, size_t max) {
  size_t n = 0;
  while (n < max && !rx_.empty()) {
    out.push_back(rx_.pop_front());
    ++n;
  }
  return n;
}

size_t TapLink::tx_burst(PacketQueue& q) {
  size_t n = 0;
  while (!q.empty() && (!tx_room_ || n < *tx_room_)) {
    Packet p = q.pop_front();
    assert(p.pool() == &pool_ && "transmitted frames must come from the link's pool");
    Bytes copy(p.data(), p.data() + p.size());
    p.reset();
    if (segment_ != nullptr) segment_->deliver(*this, copy);
    sent_.push_back(std::move(copy));
    ++n;
  }
  return n;
}

void Segment::deliver(const TapLink& from, std::span<const std::byte> frame) {
  if (cut) return;
  for (TapLink* l : links_) {
    if (l != &from) l->inject(frame);
  }
}

void StackGroup::start(const NetOptions& options, std::span<Link* const> links) {
  for (size_t i = 0; i < links.size(); ++i) {
    StackConfig cfg = options.config;
    if (cfg.seed == 0) cfg.seed = 0x5eed0000 + i;
    stacks_.push_back(std::make_unique<Stack>(cfg));
    stacks_.back()->add_interface(*links[i]);
  }
  if (options.addresses) {
    for (size_t i = 0; i < stacks_.size(); ++i) {
      auto r = stacks_[i]->add_address(1, {addr(i), 24}, now_);
      assert(r.ok());
      (void)r;
    }
    run();
    // Everyone saw everyone's gratuitous ARP (kArpNotForUs): start tests at zero.
    for (auto& s : stacks_) s->stats() = Stats{};
  }
}

size_t StackGroup::run(size_t max_rounds) {
  size_t busy = 0;
  for (size_t round = 0; round < max_rounds; ++round) {
    size_t moved = 0;
    for (auto& s : stacks_) moved += s->poll(now_);
    if (moved == 0) break;
    ++busy;
  }
  return busy;
}

void StackGroup::advance(Clock::duration dt) {
  now_ += dt;
  on_advance(now_);
  run();
}

void StackGroup::advance_by_steps(Clock::duration total, Clock::duration step) {
  for (Clock::duration done{0}; done < total; done += step) advance(std::min(step, total - done));
}

Net::Net(size_t stacks, NetOptions options) {
  std::vector<Link*> links;
  for (size_t i = 0; i < stacks; ++i) {
    links_.push_back(std::make_unique<TapLink>(mac(static_cast<uint8_t>(i + 1)), options.frames));
    segment_.add(*links_.back());
    links.push_back(links_.back().get());
  }
  start(options, links);
  if (options.addresses) {
    for (auto& l : links_) l->take_sent();  // the gratuitous ARPs
  }
}

Net::~Net() { stacks_.clear(); }

void Net::inject(size_t i, std::span<const std::byte> frame) {
  const bool ok = links_[i]->inject(frame);
  assert(ok);
  (void)ok;
}

Packet Net::make_packet(size_t i, std::span<const std::byte> bytes, uint16_t headroom) {
  Packet p = Packet::allocate(links_[i]->pool(), headroom);
  assert(p);
  std::memcpy(p.put(static_cast<uint16_t>(bytes.size())), bytes.data(), bytes.size());
  p.set_network_header();
  return p;
}

uint32_t Net::frames_in_flight() const {
  uint32_t n = 0;
  for (const auto& l : links_) n += l->pool().in_use() - l->frames_held();
  return n;
}

uint64_t total_drops(const Stats& s) {
  uint64_t n = 0;
  for (uint64_t d : s.drops) n += d;
  return n;
}

}  // namespace xnet::stack::support
