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
  for (size_t i = 0; i < 2; ++i) {
    StackConfig cfg = options.config;
    if (cfg.seed == 0) cfg.seed = 0x5eed0000 + i;
    stacks_.push_back(std::make_unique<Stack>(cfg));
    stacks_.back()->add_interface(link(i));
  }
  if (options.addresses) {
    for (size_t i = 0; i < 2; ++i) {
      auto r = stacks_[i]->add_address(1, {addr(i), 24}, now_);
      assert(r.ok());
      (void)r;
    }
    run();
    sent_[0].clear();
    sent_[1].clear();
    for (auto& s : stacks_) s->stats() = Stats{};
  }
}

MemNet::~MemNet() { stacks_.clear(); }

size_t MemNet::run(size_t max_rounds) {
  size_t busy = 0;
  for (size_t round = 0; round < max_rounds; ++round) {
    size_t moved = 0;
    for (auto& s : stacks_) moved += s->poll(now_);
    if (moved == 0) break;
    ++busy;
  }
  return busy;
}

void MemNet::advance(Clock::duration dt) {
  now_ += dt;
  a_->advance(now_);
  run();
}

void MemNet::advance_by_steps(Clock::duration total, Clock::duration step) {
  for (Clock::duration done{0}; done < total; done += step) advance(std::min(step, total - done));
}

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
