#pragma once
// The indirections through which IPv4 reaches the protocols above it without
// knowing them (the kernel's struct net_protocol and inet_protos[]): the input
// path hands a datagram to `handler`, and icmp_rcv (or a link failure) hands
// an error quoting one of our datagrams to `err_handler`. UDP and ICMP register
// themselves when a Stack is built (inet_init); tests may register more.

#include <array>
#include <chrono>
#include <cstdint>
#include <span>

#include "stack/core/packet.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

// What an ICMP error (or a local link failure) says about a datagram we sent:
// the message and the addresses and ports of the quoted datagram (saddr/sport
// ours, daddr/dport the peer's).
struct IcmpErrorInfo {
  uint8_t type = 0;
  uint8_t code = 0;
  uint32_t info = 0;        // next-hop MTU (3/4), pointer (12)
  wire::Ipv4Addr offender;  // source of the ICMP message
  wire::Ipv4Addr saddr;
  wire::Ipv4Addr daddr;
  uint16_t sport = 0;    // host order: the first 16 bits of the quoted transport header
  uint16_t dport = 0;    // host order: the next 16 bits
  uint16_t ifindex = 0;  // interface the ICMP message arrived on
  // The quoted packet after its IP header (transport header first), as far
  // as the ICMP message's first frame carries it; valid during the call.
  std::span<const std::byte> quoted_transport;
};

struct NetProtocol {
  // ip_local_deliver_finish's target: `head` with data() at the transport
  // header, `rest` the other fragments of a reassembled datagram. Moves out
  // what it keeps; what it leaves is freed by the caller (ipv4_input.h).
  void (*handler)(Stack& stack, Packet&& head, PacketQueue&& rest, TimePoint now) = nullptr;
  // An error quoting a datagram of this protocol; false when no socket of
  // ours sent it (icmp_rcv counts that). Null: the protocol keeps no state.
  bool (*err_handler)(Stack& stack, const IcmpErrorInfo& err, TimePoint now) = nullptr;
  // net_offload.gso_segment: a datagram with meta().gso_size set becomes one
  // packet per segment in `segments` (checksums left to the device when
  // `device_checksum`). Consumes `datagram`. Null: the protocol has no GSO.
  void (*gso_segment)(PacketQueue& datagram, bool device_checksum, PacketQueue& segments) = nullptr;
};

// inet_protos, one per Stack (a process runs several stacks, one per shard).
class ProtocolTable {
 public:
  // inet_add_protocol; returns what was registered before.
  NetProtocol add(uint8_t protocol, NetProtocol p) {
    NetProtocol old = table_[protocol];
    table_[protocol] = p;
    return old;
  }
  const NetProtocol& operator[](uint8_t protocol) const { return table_[protocol]; }

 private:
  std::array<NetProtocol, 256> table_{};
};

}  // namespace xnet::stack
