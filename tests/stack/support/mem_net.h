#pragma once
// Two stacks joined by a MemoryLink pair (//stack:memory_link), with a manual
// clock, taps and an injector: the same surface as Net (net.h) for tests that
// want MemoryLink's behaviour (a bounded receive queue, checksum features,
// seeded faults).
//
//   MemNet net;                       // A = 10.0.0.1/24 (02::01), B = 10.0.0.2/24 (02::02)
//   net.inject(0, frame);             // arrives at A as if B's side had sent it
//   net.run(); net.advance(1s);
//   net.sent(0)                       // what A transmitted (tap, before faults)
//   EXPECT_EQ(net.frames_in_flight(), 0u);

#include <chrono>
#include <memory>
#include <span>
#include <vector>

#include "stack/links/memory_link.h"
#include "stack/core/stack.h"
#include "tests/stack/support/frames.h"
#include "tests/stack/support/net.h"

namespace xnet::stack::support {

class MemNet : public StackGroup {
 public:
  // `a` and `b` configure the two sides (their MACs are set here).
  explicit MemNet(NetOptions options = {}, MemoryLinkConfig a = {}, MemoryLinkConfig b = {});
  ~MemNet() override;

  MemoryLink& link(size_t i) { return i == 0 ? *a_ : *b_; }

  // Sends `frame` from the other side's link so that stack i receives it
  // (not recorded as sent by the other side). False when the link refused it.
  bool inject(size_t i, std::span<const std::byte> frame);
  std::vector<Bytes> sent(size_t i);
  uint32_t frames_in_flight() const;

 private:
  // Moves both links' clock (MemoryLink::advance is shared by the pair).
  void on_advance(Clock::time_point now) override { a_->advance(now); }

  std::unique_ptr<MemoryLink> a_, b_;
  std::vector<Bytes> sent_[2];
  bool injecting_ = false;
};

}  // namespace xnet::stack::support
