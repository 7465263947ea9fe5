// TxNet: stacks joined by MemoryLink pairs, one segment per pair, with a
// PRE_ROUTING hook on every stack copying each IPv4 packet it receives.

#include "tests/stack/tx/tx_net.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "stack/core/hooks.h"
#include "stack/links/memory_link.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
#include "tests/stack/tx/ref_checksum.h"

namespace xnet::stack::txtest {

uint16_t Captured::id() const { return be16(ip.data() + 4); }
uint16_t Captured::tot_len() const { return be16(ip.data() + 2); }
uint16_t Captured::frag_off() const { return static_cast<uint16_t>((be16(ip.data() + 6) & 0x1fff) * 8); }
bool Captured::mf() const { return (be16(ip.data() + 6) & 0x2000) != 0; }
bool Captured::df() const { return (be16(ip.data() + 6) & 0x4000) != 0; }
uint8_t Captured::ttl() const { return std::to_integer<uint8_t>(ip[8]); }
uint8_t Captured::tos() const { return std::to_integer<uint8_t>(ip[1]); }
uint8_t Captured::protocol() const { return std::to_integer<uint8_t>(ip[9]); }
wire::Ipv4Addr Captured::src() const { return wire::Ipv4Addr(be32(ip.data() + 12)); }
wire::Ipv4Addr Captured::dst() const { return wire::Ipv4Addr(be32(ip.data() + 16)); }
size_t Captured::header_len() const { return (std::to_integer<size_t>(ip[0]) & 0xf) * 4; }
std::span<const std::byte> Captured::payload() const {
  return std::span<const std::byte>(ip).subspan(header_len());
}

struct TxNet::Impl {
  // Links before stacks: stacks are destroyed first and give every frame back.
  std::vector<std::unique_ptr<MemoryLink>> links;  // pair k at [2k], [2k+1]
  std::vector<std::unique_ptr<Stack>> stacks;
  std::vector<std::vector<Captured>> captured;
  std::vector<wire::Ipv4Addr> addrs;
  std::vector<std::pair<int, int>> link_owner;  // links[j] → (stack, ifindex)
  std::vector<std::vector<UdpSock*>> sockets;   // opened through socket(), per stack
};

namespace {

wire::MacAddr mac_for(int stack, int ifindex) {
  return wire::MacAddr({0x02, 0, 0, 0, static_cast<uint8_t>(stack + 1), static_cast<uint8_t>(ifindex)});
}

MemoryLinkConfig link_config(const LinkSpec& spec, int stack, int ifindex) {
  MemoryLinkConfig c;
  c.name = "s" + std::to_string(stack) + "if" + std::to_string(ifindex);
  c.frame_size = spec.frame_size;
  c.frame_count = spec.frames;
  c.mtu = spec.mtu;
  c.mac = mac_for(stack, ifindex);
  c.features.tx_checksum = spec.tx_checksum;
  c.features.max_frame = spec.mtu + 14;
  // Enough room that a 64 KiB datagram's fragments or segments all fit.
  c.rx_queue_capacity = spec.frames;
  return c;
}

}  // namespace

TxNet::TxNet(int stacks, std::vector<LinkSpec> links) : impl_(std::make_unique<Impl>()) {
  EXPECT_TRUE(stacks == 2 || stacks == 3);
  while (links.size() < static_cast<size_t>(stacks - 1)) links.push_back(links.empty() ? LinkSpec{} : links.back());
  Impl& im = *impl_;
  im.captured.resize(stacks);
  im.sockets.resize(stacks);
  for (int i = 0; i < stacks; ++i) {
    StackConfig cfg;
    cfg.seed = 100 + i;
    im.stacks.push_back(std::make_unique<Stack>(cfg));
    Stack& s = *im.stacks.back();
    s.hooks().add(HookPoint::kPreRouting, 0, [this, i](Packet& pkt, std::chrono::steady_clock::time_point) {
      const std::byte* ip = pkt.data();
      size_t n = pkt.size();
      if (n >= 20) n = std::min<size_t>(n, be16(ip + 2));
      impl_->captured[i].push_back(Captured{std::vector<std::byte>(ip, ip + n)});
      return HookVerdict::kAccept;
    });
  }
  // Segment k joins stack k (its last interface) and stack k+1 (its first).
  for (int k = 0; k + 1 < stacks; ++k) {
    const int left = k, right = k + 1;
    const int left_if = k == 0 ? 1 : 2;
    auto [a, b] = MemoryLink::make_pair(link_config(links[k], left, left_if), link_config(links[k], right, 1));
    im.links.push_back(std::move(a));
    im.links.push_back(std::move(b));
    im.link_owner.push_back({left, left_if});
    im.link_owner.push_back({right, 1});
  }
  // Interfaces in ifindex order per stack.
  for (int i = 0; i < stacks; ++i) {
    for (int ifx = 1; ifx <= 2; ++ifx) {
      for (size_t j = 0; j < im.links.size(); ++j) {
        if (im.link_owner[j] == std::make_pair(i, ifx)) {
          EXPECT_EQ(im.stacks[i]->add_interface(*im.links[j]), ifx);
        }
      }
    }
  }
  auto add = [&](int i, uint16_t ifx, wire::Ipv4Addr a) {
    auto r = im.stacks[i]->add_address(ifx, wire::Ipv4Prefix{a, 24}, now_);
    EXPECT_TRUE(r.ok()) << r.error().message();
  };
  if (stacks == 2) {
    im.addrs = {wire::Ipv4Addr(10, 0, 1, 1), wire::Ipv4Addr(10, 0, 1, 2)};
    add(0, 1, im.addrs[0]);
    add(1, 1, im.addrs[1]);
  } else {
    im.addrs = {wire::Ipv4Addr(10, 0, 1, 1), wire::Ipv4Addr(10, 0, 1, 2), wire::Ipv4Addr(10, 0, 2, 3)};
    add(0, 1, im.addrs[0]);
    add(1, 1, im.addrs[1]);
    add(1, 2, wire::Ipv4Addr(10, 0, 2, 2));
    add(2, 1, im.addrs[2]);
    EXPECT_TRUE(im.stacks[0]->add_gateway_route({wire::kIpv4Any, 0}, wire::Ipv4Addr(10, 0, 1, 2), 1).ok());
    EXPECT_TRUE(im.stacks[2]->add_gateway_route({wire::kIpv4Any, 0}, wire::Ipv4Addr(10, 0, 2, 2), 1).ok());
  }
  // Gratuitous ARPs of add_address go out and are forgotten before the test starts.
  run();
  for (auto& c : im.captured) c.clear();
}

TxNet::~TxNet() = default;

Stack& TxNet::stack(int i) { return *impl_->stacks[i]; }
Stats& TxNet::stats(int i) { return impl_->stacks[i]->stats(); }
wire::Ipv4Addr TxNet::addr(int i) const { return impl_->addrs[i]; }
uint16_t TxNet::ifindex_towards_b(int i) const {
  return impl_->stacks.size() == 3 && i == 1 ? 2 : 1;
}

MemoryLink& TxNet::link_of(int i) {
  for (size_t j = 0; j < impl_->links.size(); ++j) {
    if (impl_->link_owner[j] == std::make_pair(i, 1)) return *impl_->links[j];
  }
  ADD_FAILURE() << "no link for stack " << i;
  return *impl_->links[0];
}

UdpSock& TxNet::socket(int i) {
  UdpSock* s = impl_->stacks[i]->udp().open();
  impl_->sockets[i].push_back(s);
  return *s;
}

void TxNet::close_all() {
  for (size_t i = 0; i < impl_->stacks.size(); ++i) {
    for (UdpSock* s : impl_->sockets[i]) impl_->stacks[i]->udp().close(s);
    impl_->sockets[i].clear();
  }
}

void TxNet::bind(int i, UdpSock& s, uint16_t port) {
  auto r = impl_->stacks[i]->udp().bind(s, wire::kIpv4Any, port);
  EXPECT_TRUE(r.ok()) << r.error().message();
}

void TxNet::connect(int i, UdpSock& s, wire::Ipv4Addr addr, uint16_t port) {
  auto r = impl_->stacks[i]->udp().connect(s, addr, port);
  EXPECT_TRUE(r.ok()) << r.error().message();
}

Result<size_t> TxNet::send(int i, UdpSock& s, std::span<const std::byte> data,
                           std::optional<SockAddrIn> dest, const SendOptions& opts) {
  return udp_sendmsg(*impl_->stacks[i], s, data, dest ? &*dest : nullptr, opts, now_);
}

std::vector<Received> TxNet::recv_all(int i, UdpSock& s) {
  std::vector<Received> out;
  std::vector<std::byte> buf(65536);
  for (;;) {
    auto r = udp_recvmsg(*impl_->stacks[i], s, buf);
    if (!r) break;
    out.push_back(Received{std::vector<std::byte>(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(r->copied)),
                           r->source.addr, r->source.port});
  }
  return out;
}

std::optional<std::error_code> TxNet::pending_error(int, UdpSock& s) {
  const std::errc e = udp_sock_error(s);
  if (e == std::errc{}) return std::nullopt;
  return std::make_error_code(e);
}

uint16_t TxNet::local_port(const UdpSock& s) const { return s.local_port; }

void TxNet::run(std::chrono::milliseconds dt) {
  now_ += dt;
  for (auto& l : impl_->links) l->advance(now_);
  for (int round = 0; round < 100000; ++round) {
    size_t moved = 0;
    for (auto& s : impl_->stacks) moved += s->poll(now_, 256);
    if (moved == 0) break;
  }
}

void TxNet::run_for(std::chrono::milliseconds total, std::chrono::milliseconds step) {
  for (auto t = std::chrono::milliseconds(0); t < total; t += step) run(step);
}

std::vector<Captured> TxNet::captured(int i) { return std::exchange(impl_->captured[i], {}); }

uint32_t TxNet::frames_in_flight() const {
  uint32_t n = 0;
  for (const auto& l : impl_->links) n += l->pool().in_use() - l->frames_held();
  return n;
}

std::vector<std::byte> pattern(size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    v[i] = static_cast<std::byte>(x >> 16);
  }
  return v;
}

}  // namespace xnet::stack::txtest
