#pragma once
// Two stacks, A = 10.0.0.1/24 and B = 10.0.0.2/24, joined by a MemoryLink
// pair and driven by one idle-mode Reactor on the test thread. Every test
// ends by checking that every frame went back to its pool.

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/reactor.h"
#include "runtime/spawn.h"
#include "runtime/task.h"
#include "runtime/with_timeout.h"
#include "stack/api/stack_driver.h"
#include "stack/api/udp_socket.h"
#include "stack/links/memory_link.h"
#include "stack/core/stack.h"
#include "stack/wire/addr.h"

namespace xnet::apitest {

using namespace std::chrono_literals;
using stack::MemoryLink;

inline const Ipv4Addr kA{10, 0, 0, 1};
inline const Ipv4Addr kB{10, 0, 0, 2};

inline std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> v(s.size());
  for (size_t i = 0; i < s.size(); ++i) v[i] = static_cast<std::byte>(s[i]);
  return v;
}
inline std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack::MemoryLinkConfig ca, cb;
    ca.name = "a";
    cb.name = "b";
    ca.mac = wire::MacAddr({2, 0, 0, 0, 0, 1});
    cb.mac = wire::MacAddr({2, 0, 0, 0, 0, 2});
    cb.rx_queue_capacity = b_rx_capacity_;
    auto [a, b] = MemoryLink::make_pair(ca, cb);
    la_ = std::move(a);
    lb_ = std::move(b);
    reactor_ = std::make_unique<rt::Reactor>();
    sa_ = make_stack(*la_, kA, 1);
    sb_ = make_stack(*lb_, kB, 2);
    da_ = std::make_unique<StackDriver>(*reactor_, *sa_);
    db_ = std::make_unique<StackDriver>(*reactor_, *sb_);
    drain();
  }

  void TearDown() override {
    da_.reset();
    db_.reset();
    sa_.reset();
    sb_.reset();
    EXPECT_EQ(la_->pool().in_use(), la_->frames_held()) << "frames of link a leaked";
    EXPECT_EQ(lb_->pool().in_use(), lb_->frames_held()) << "frames of link b leaked";
  }

  std::unique_ptr<stack::Stack> make_stack(MemoryLink& link, Ipv4Addr addr, uint64_t seed) {
    stack::StackConfig cfg;
    cfg.seed = seed;
    auto s = std::make_unique<stack::Stack>(cfg);
    const uint16_t ifindex = s->add_interface(link);
    EXPECT_TRUE(s->add_address(ifindex, wire::Ipv4Prefix{addr, 24}, rt::Reactor::now()).ok());
    return s;
  }

  // Runs reactor iterations (without sleeping) so that frames in flight land.
  void drain(int iterations = 20) {
    for (int i = 0; i < iterations; ++i) reactor_->run_once(false);
  }

  template <typename T>
  T run(rt::Task<T> t) {
    return reactor_->block_on(std::move(t));
  }

  // Frames of link b's pool owned by the stack or the application.
  uint32_t b_frames_out() const { return lb_->pool().in_use() - lb_->frames_held(); }

  UdpSocket open_a() { return UdpSocket::open(*da_).value(); }
  UdpSocket open_b() { return UdpSocket::open(*db_).value(); }

  size_t b_rx_capacity_ = 256;
  std::unique_ptr<MemoryLink> la_, lb_;  // outlive the reactor and the stacks
  std::unique_ptr<rt::Reactor> reactor_;
  std::unique_ptr<stack::Stack> sa_, sb_;
  std::unique_ptr<StackDriver> da_, db_;
};

}  // namespace xnet::apitest
