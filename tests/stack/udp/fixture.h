#pragma once
// A Stack with one interface (10.0.0.1/24 on a fake link) whose output is
// captured at POST_ROUTING, and builders for hand-written IPv4/UDP/ICMP bytes.

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "tests/stack/support/raw_bytes.h"
#include "stack/core/hooks.h"
#include "stack/ipv4/icmp.h"
#include "stack/ipv4/icmp_state.h"
#include "stack/core/link.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_input.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_table.h"
#include "stack/wire/checksum.h"

namespace xnet::stack::udptest {

using namespace rawbytes;

using wire::Ipv4Addr;
using wire::kIpv4Broadcast;
using namespace std::chrono_literals;

inline const Ipv4Addr kUs{10, 0, 0, 1};
inline const Ipv4Addr kPeer{10, 0, 0, 2};
inline const Ipv4Addr kPeer2{10, 0, 0, 3};

class FakeLink : public Link {
 public:
  FakeLink() : pool_(2048, 1024) {}
  size_t rx_burst(PacketQueue&, size_t) override { return 0; }
  size_t tx_burst(PacketQueue& q) override {
    const size_t n = q.size();
    q.clear();
    return n;
  }
  FramePool& pool() override { return pool_; }
  uint32_t mtu() const override { return mtu_; }
  wire::MacAddr mac() const override { return wire::MacAddr({2, 0, 0, 0, 0, 1}); }
  LinkFeatures features() const override { return {}; }
  std::string name() const override { return "fake0"; }

  FramePool pool_;
  uint32_t mtu_ = 1500;
};

struct Ip {
  Ipv4Addr src = kPeer;
  Ipv4Addr dst = kUs;
  uint8_t proto = kIpProtoUdp;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t frag = 0;  // flags + offset field
  uint16_t id = 0x1234;
};

inline void put_ip(std::vector<std::byte>& b, const Ip& ip, size_t payload) {
  b.resize(20);
  b[0] = std::byte{0x45};
  b[1] = std::byte{ip.tos};
  store_be16(&b[2], static_cast<uint16_t>(20 + payload));
  store_be16(&b[4], ip.id);
  store_be16(&b[6], ip.frag);
  b[8] = std::byte{ip.ttl};
  b[9] = std::byte{ip.proto};
  store_be32(&b[12], ip.src.value());
  store_be32(&b[16], ip.dst.value());
  store_be16(&b[10], wire::checksum({b.data(), 20}));
}

// IPv4 + UDP with a correct checksum (or `csum` when given), `len` overriding
// the UDP length field.
inline std::vector<std::byte> udp_bytes(const Ip& ip, uint16_t sport, uint16_t dport,
                                        const std::vector<std::byte>& payload, int len = -1,
                                        int csum = -1) {
  std::vector<std::byte> b;
  put_ip(b, ip, 8 + payload.size());
  const size_t u = b.size();
  b.resize(u + 8);
  store_be16(&b[u], sport);
  store_be16(&b[u + 2], dport);
  const uint16_t ulen = static_cast<uint16_t>(8 + payload.size());
  store_be16(&b[u + 4], len >= 0 ? static_cast<uint16_t>(len) : ulen);
  b.insert(b.end(), payload.begin(), payload.end());
  uint32_t sum = wire::pseudo_header_sum(ip.src, ip.dst, kIpProtoUdp, ulen);
  uint16_t c = static_cast<uint16_t>(~wire::checksum_fold(wire::checksum_partial({&b[u], ulen}, sum)));
  if (c == 0) c = 0xffff;
  store_be16(&b[u + 6], csum >= 0 ? static_cast<uint16_t>(csum) : c);
  return b;
}

inline std::vector<std::byte> icmp_bytes(const Ip& ip_in, uint8_t type, uint8_t code, uint32_t rest_of_header,
                                         const std::vector<std::byte>& body, bool bad_csum = false) {
  Ip ip = ip_in;
  ip.proto = 1;
  std::vector<std::byte> b;
  put_ip(b, ip, 8 + body.size());
  b.push_back(std::byte{type});
  b.push_back(std::byte{code});
  b.resize(b.size() + 6);
  store_be32(&b[24], rest_of_header);
  b.insert(b.end(), body.begin(), body.end());
  uint16_t c = wire::checksum({&b[20], b.size() - 20});
  if (bad_csum) c ^= 1;
  store_be16(&b[22], c);
  return b;
}

inline std::vector<std::byte> pattern(size_t n, unsigned seed = 1) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 7 + seed * 13) & 0xff);
  return v;
}

class StackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StackConfig cfg;
    cfg.seed = 42;
    stack_ = std::make_unique<Stack>(cfg);
    ifindex_ = stack_->add_interface(link_);
    ASSERT_TRUE(stack_->add_address(ifindex_, wire::Ipv4Prefix{kUs, 24}, now_).ok());
    stack_->hooks().add(HookPoint::kPostRouting, 0, [this](Packet& p, TimePoint) {
      out_.push_back(std::move(p));
      return HookVerdict::kStolen;
    });
    stack_->flush_tx();
  }
  void TearDown() override {
    out_.clear();
    stack_.reset();
    EXPECT_EQ(link_.pool_.in_use(), 0u) << "frames leaked";
  }

  Stats& st() { return stack_->stats(); }
  UdpTable& udp() { return stack_->udp(); }

  // A received frame: bytes from the IPv4 header, data() at the transport header.
  Packet rx(const std::vector<std::byte>& bytes, RouteType rt = RouteType::kLocal,
            PacketType pt = PacketType::kHost) {
    Packet p = Packet::allocate(link_.pool_, kDefaultHeadroom + 14);
    EXPECT_TRUE(p.valid());
    std::memcpy(p.put(static_cast<uint16_t>(bytes.size())), bytes.data(), bytes.size());
    p.set_network_header();
    const uint16_t ihl = static_cast<uint16_t>((std::to_integer<uint8_t>(bytes[0]) & 0xf) * 4);
    p.pull(ihl);
    p.set_transport_header();
    p.meta().ifindex = ifindex_;
    p.meta().route_type = rt;
    p.meta().pkt_type = pt;
    return p;
  }
  void udp_in(const std::vector<std::byte>& bytes, RouteType rt = RouteType::kLocal,
              PacketType pt = PacketType::kHost) {
    udp_rcv(*stack_, rx(bytes, rt, pt), PacketQueue(), now_);
  }
  void icmp_in(const std::vector<std::byte>& bytes, RouteType rt = RouteType::kLocal) {
    icmp_rcv(*stack_, rx(bytes, rt), PacketQueue(), now_);
  }
  // Output bytes of captured packet i, from the IPv4 header.
  std::vector<std::byte> out_bytes(size_t i) {
    Packet& p = out_.at(i);
    const std::byte* n = p.network_header();
    const size_t len = static_cast<size_t>(p.data() + p.size() - n);
    return {n, n + len};
  }

  FakeLink link_;
  std::vector<Packet> out_;
  std::unique_ptr<Stack> stack_;
  uint16_t ifindex_ = 0;
  TimePoint now_ = TimePoint{} + 1000s;
};

}  // namespace xnet::stack::udptest
