#include "tests/stack/support/mem_net.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace xnet::stack::support {

MemNet::MemNet(NetOptions options, MemoryLinkConfig a, MemoryLinkConfig b) {
  a.mac = mac(1);
  b.mac = mac(2);
  a.frame_count = std::max(a.frame_count, options.frames);
  b.frame_count = std::max(b.frame_count, options.frames);
  auto pair = MemoryLink::make_pair(std::move(a), std::move(b));
  a_ = std::move(pair.first);
  b_ = std::move(pair.second);
  for (size_t i = 0; i < 2; ++i) {
    link(i).set_tap([this, i](TapDirection dir, std::span<const std::byte> f, MemoryLink::TimePoint) {
      if (dir == TapDirection::kTx && !injecting_) sent_[i].emplace_back(f.begin(), f.end());
    });
  }
  a_->advance(now_);
  Link* links[] = {a_.get(), b_.get()};
  start(options, links);
  if (options.addresses) {
    sent_[0].clear();  // the gratuitous ARPs
    sent_[1].clear();
  }
}

MemNet::~MemNet() { stacks_.clear(); }

bool MemNet::inject(size_t i, std::span<const std::byte> frame) {
  MemoryLink& from = link(1 - i);
  Packet p = Packet::allocate(from.pool(), kDefaultHeadroom);
  if (!p || frame.size() > p.tailroom()) return false;
  std::memcpy(p.put(static_cast<uint16_t>(frame.size())), frame.data(), frame.size());
  PacketQueue q;
  q.push_back(std::move(p));
  injecting_ = true;
  const size_t taken = from.tx_burst(q);
  injecting_ = false;
  return taken == 1;  // q frees a refused frame
}

std::vector<Bytes> MemNet::sent(size_t i) {
  std::vector<Bytes> out;
  out.swap(sent_[i]);
  return out;
}

uint32_t MemNet::frames_in_flight() const {
  uint32_t n = 0;
  for (const MemoryLink* l : {a_.get(), b_.get()}) {
    n += const_cast<MemoryLink*>(l)->pool().in_use() - l->frames_held();
  }
  return n;
}

}  // namespace xnet::stack::support
