#pragma once
// Test topology for the send side: two stacks A–B, or three A–R–B with R
// forwarding, joined by MemoryLink pairs. A PRE_ROUTING hook on every stack
// records a copy of each IPv4 packet it receives, so tests check what was on
// the wire field by field on the receiving side. Time is a manual clock.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/result.h"
#include "stack/udp/udp_output.h"
#include "stack/wire/addr.h"

namespace xnet::stack {
class Stack;
struct UdpSock;
class MemoryLink;
struct Stats;
}  // namespace xnet::stack

namespace xnet::stack::txtest {

struct LinkSpec {
  uint32_t mtu = 1500;
  bool tx_checksum = false;  // both ends complete kPartial checksums (NETIF_F_HW_CSUM)
  uint32_t frame_size = 2048;
  uint32_t frames = 4096;
};

// One IPv4 packet as received (copied at PRE_ROUTING).
struct Captured {
  std::vector<std::byte> ip;  // from the IPv4 header to the end of tot_len
  uint16_t id() const;
  uint16_t tot_len() const;
  uint16_t frag_off() const;  // in bytes
  bool mf() const;
  bool df() const;
  uint8_t ttl() const;
  uint8_t tos() const;
  uint8_t protocol() const;
  wire::Ipv4Addr src() const;
  wire::Ipv4Addr dst() const;
  size_t header_len() const;
  std::span<const std::byte> payload() const;  // after the IPv4 header
};

struct Received {
  std::vector<std::byte> data;
  wire::Ipv4Addr from;
  uint16_t from_port = 0;
};

class TxNet {
 public:
  // Stack i has address 10.0.<link>.<i+1>; with three stacks, A=10.0.1.1,
  // R=10.0.1.2 / 10.0.2.2, B=10.0.2.3, default routes through R.
  // Two stacks: A=10.0.1.1, B=10.0.1.2.
  explicit TxNet(int stacks, std::vector<LinkSpec> links = {LinkSpec{}});
  ~TxNet();

  Stack& stack(int i);
  Stats& stats(int i);
  wire::Ipv4Addr addr(int i) const;  // the stack's address facing the sender side
  MemoryLink& link_of(int i);         // stack i's link on the A side (R: towards A)
  uint16_t ifindex_towards_b(int i) const;  // R: 2, others: 1

  UdpSock& socket(int i);
  void bind(int i, UdpSock& s, uint16_t port);
  void connect(int i, UdpSock& s, wire::Ipv4Addr addr, uint16_t port);
  Result<size_t> send(int i, UdpSock& s, std::span<const std::byte> data,
                      std::optional<SockAddrIn> dest, const SendOptions& opts = {});
  std::vector<Received> recv_all(int i, UdpSock& s);
  std::optional<std::error_code> pending_error(int i, UdpSock& s);
  uint16_t local_port(const UdpSock& s) const;

  // Advances time by `dt`, then polls every stack until a whole round moves
  // nothing (bounded).
  void run(std::chrono::milliseconds dt = std::chrono::milliseconds(0));
  // Advances `total` in steps of `step`, running at each (timers fire on time).
  void run_for(std::chrono::milliseconds total, std::chrono::milliseconds step);
  std::vector<Captured> captured(int i);  // and clears

  // Closes every socket opened through socket(): their queued datagrams and
  // pending corks free their frames (frames in flight release later).
  void close_all();
  // Frames in use in every pool beyond what the links hold.
  uint32_t frames_in_flight() const;

  std::chrono::steady_clock::time_point now() const { return now_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::chrono::steady_clock::time_point now_{std::chrono::seconds(1000)};
};

std::vector<std::byte> pattern(size_t n, unsigned seed = 1);

}  // namespace xnet::stack::txtest
