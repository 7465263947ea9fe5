#pragma once
// A one-interface stack for receive-path tests: a support::TapLink that keeps
// what the stack transmits and never receives by itself (tests inject frames
// at ip_rcv), frames
// built from hand-written bytes (with a reference checksum, not the stack's),
// ICMP errors captured at LOCAL_OUT and forwarded packets at FORWARD (both
// stolen, so nothing waits on ARP), and datagrams for an experimental
// protocol number captured whole (head + reassembled chain).

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "stack/core/frame_pool.h"
#include "stack/core/hooks.h"
#include "stack/ipv4/ipv4_input.h"
#include "stack/core/packet.h"
#include "stack/ipv4/ip_fragment.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/wire/addr.h"
#include "tests/stack/support/frames.h"
#include "tests/stack/support/net.h"

namespace xnet::stack::rxtest {

using support::Bytes;
using wire::Ipv4Addr;

inline constexpr uint8_t kProtoCapture = 253;  // RFC 3692 experimental
inline constexpr uint8_t kProtoNone = 254;     // no handler registered

inline Bytes bytes(std::initializer_list<int> v) { return support::bytes_of(v); }

// RFC 1071 (support's naive sum), so the tests do not trust the stack's checksum.
inline uint16_t ref_checksum(const std::byte* p, size_t n) { return support::naive_checksum({p, n}); }

struct Ip {
  uint8_t version = 4;
  int ihl = -1;  // -1: from the options
  uint8_t tos = 0;
  int tot_len = -1;  // -1: header + payload
  uint16_t id = 0x1234;
  bool df = false, mf = false;
  uint16_t frag_offset = 0;  // in bytes (multiple of 8)
  uint8_t ttl = 64;
  uint8_t protocol = kProtoCapture;
  Ipv4Addr src{10, 0, 0, 2};
  Ipv4Addr dst{10, 0, 0, 1};
  Bytes options;  // padded by the caller
  Bytes payload;
  bool bad_checksum = false;
  size_t padding = 0;  // link-layer padding after the datagram
};

// The datagram's bytes, field by field (RFC 791 figure 4).
inline Bytes build(const Ip& p) {
  const size_t hl = p.ihl >= 0 ? static_cast<size_t>(p.ihl) * 4 : 20 + p.options.size();
  Bytes b(std::max<size_t>(hl, 20 + p.options.size()), std::byte{0});
  const size_t tot = p.tot_len >= 0 ? static_cast<size_t>(p.tot_len) : b.size() + p.payload.size();
  auto put16 = [&](size_t o, uint16_t v) {
    b[o] = std::byte(v >> 8);
    b[o + 1] = std::byte(v & 0xff);
  };
  auto put32 = [&](size_t o, uint32_t v) {
    put16(o, static_cast<uint16_t>(v >> 16));
    put16(o + 2, static_cast<uint16_t>(v));
  };
  b[0] = std::byte((p.version << 4) | ((hl / 4) & 0xf));
  b[1] = std::byte(p.tos);
  put16(2, static_cast<uint16_t>(tot));
  put16(4, p.id);
  put16(6, static_cast<uint16_t>((p.df ? 0x4000 : 0) | (p.mf ? 0x2000 : 0) | (p.frag_offset / 8)));
  b[8] = std::byte(p.ttl);
  b[9] = std::byte(p.protocol);
  put32(12, p.src.value());
  put32(16, p.dst.value());
  std::copy(p.options.begin(), p.options.end(), b.begin() + 20);
  const size_t csum_len = std::min(b.size(), size_t{60});
  uint16_t c = ref_checksum(b.data(), csum_len);
  if (p.bad_checksum) c ^= 0x0101;
  put16(10, c);
  b.insert(b.end(), p.payload.begin(), p.payload.end());
  b.insert(b.end(), p.padding, std::byte{0});
  return b;
}

// Not support::pattern: this one does not repeat every 256 bytes, so a
// fragment reassembled at the wrong offset shows.
inline Bytes pattern(size_t n, uint8_t seed = 1) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = std::byte(static_cast<uint8_t>(seed * 31 + i * 7 + (i >> 8)));
  return b;
}

struct Delivered {
  Bytes ip_header;  // the head's IPv4 header as handed up
  Bytes payload;    // head payload + every chained fragment
  size_t chain = 0;  // frames in `rest`
  RouteType route_type = RouteType::kNone;
};

// What the capture handler saw (handlers are plain function pointers).
inline std::vector<Delivered>& delivered() {
  static std::vector<Delivered> d;
  return d;
}

inline void capture_handler(Stack&, Packet&& head, PacketQueue&& rest, TimePoint) {
  Delivered d;
  const std::byte* ip = head.network_header();
  const size_t ihl = (std::to_integer<size_t>(ip[0]) & 0xf) * 4;
  d.ip_header.assign(ip, ip + ihl);
  d.payload.assign(head.data(), head.data() + head.size());
  d.chain = rest.size();
  d.route_type = head.meta().route_type;
  while (!rest.empty()) {
    Packet p = rest.pop_front();
    d.payload.insert(d.payload.end(), p.data(), p.data() + p.size());
  }
  delivered().push_back(std::move(d));
}

struct Captured {
  Bytes ip;  // IPv4 packet bytes
  size_t ihl() const { return (std::to_integer<size_t>(ip.at(0)) & 0xf) * 4; }
  Bytes options() const { return Bytes(ip.begin() + 20, ip.begin() + static_cast<ptrdiff_t>(ihl())); }
  uint8_t icmp_type() const { return icmp_byte(0); }
  uint8_t icmp_code() const { return icmp_byte(1); }
  uint8_t icmp_byte(size_t i) const { return std::to_integer<uint8_t>(ip.at(ihl() + i)); }
  Bytes quote() const { return Bytes(ip.begin() + static_cast<ptrdiff_t>(ihl()) + 8, ip.end()); }
};

class RxTest : public ::testing::Test {
 protected:
  static constexpr Ipv4Addr kUs{10, 0, 0, 1};
  static constexpr Ipv4Addr kPeer{10, 0, 0, 2};

  void SetUp() override { make_stack({}); }

  void make_stack(StackConfig cfg) {
    stack_.reset();
    cfg.seed = 7;
    stack_ = std::make_unique<Stack>(cfg);
    ifindex_ = stack_->add_interface(link_);
    EXPECT_TRUE(stack_->add_address(ifindex_, {kUs, 24}, now_).ok());
    stack_->flush_tx();  // the gratuitous ARP
    stack_->protocols().add(kProtoCapture, {.handler = &capture_handler});
    delivered().clear();
    icmp_.clear();
    forwarded_.clear();
    stack_->hooks().add(HookPoint::kLocalOut, 0, [this](Packet& p, TimePoint) {
      icmp_.push_back(Captured{Bytes(p.data(), p.data() + p.size())});
      Packet gone = std::move(p);
      return HookVerdict::kStolen;
    });
    stack_->hooks().add(HookPoint::kForward, 0, [this](Packet& p, TimePoint) {
      forwarded_.push_back(Captured{Bytes(p.data(), p.data() + p.size())});
      forward_meta_ = p.meta();
      Packet gone = std::move(p);
      return HookVerdict::kStolen;
    });
    base_ = stack_->stats();
  }

  void TearDown() override {
    if (stack_) stack_->flush_tx();
    stack_.reset();
    EXPECT_EQ(link_.pool().in_use(), 0u) << "frames leaked";
    EXPECT_EQ(other_pool_.in_use(), 0u) << "frames leaked (second pool)";
  }

  // Injects an IPv4 datagram as eth_rcv would hand it over.
  void inject(const Bytes& ip, PacketType type = PacketType::kHost, FramePool* pool = nullptr) {
    FramePool& fp = pool ? *pool : link_.pool();
    Packet p = Packet::allocate(fp, kDefaultHeadroom);
    ASSERT_TRUE(p.valid());
    ASSERT_LE(ip.size(), p.tailroom());
    std::copy(ip.begin(), ip.end(), p.put(static_cast<uint16_t>(ip.size())));
    p.meta().ifindex = ifindex_;
    p.meta().pkt_type = type;
    ip_rcv(*stack_, std::move(p), now_);
  }
  void inject(const Ip& ip, PacketType type = PacketType::kHost) { inject(build(ip), type); }

  Stats& st() { return stack_->stats(); }
  uint64_t dropped(DropReason r) const { return stack_->stats().dropped(r) - base_.dropped(r); }
  // Only `allowed` DropReasons moved (the rest stayed at their baseline).
  void expect_only_drops(std::initializer_list<DropReason> allowed) {
    for (size_t i = 0; i < static_cast<size_t>(DropReason::kCount); ++i) {
      const auto r = static_cast<DropReason>(i);
      bool ok = false;
      for (DropReason a : allowed) ok |= a == r;
      if (!ok) {
        EXPECT_EQ(dropped(r), 0u) << drop_reason_name(r);
      }
    }
  }

  support::TapLink link_{support::mac(1), 4096};
  FramePool other_pool_{2048, 64};
  std::unique_ptr<Stack> stack_;
  uint16_t ifindex_ = 0;
  TimePoint now_ = TimePoint{} + std::chrono::hours(1);
  Stats base_;
  std::vector<Captured> icmp_;
  std::vector<Captured> forwarded_;
  PacketMeta forward_meta_;
};

}  // namespace xnet::stack::rxtest
