#pragma once
// Ethernet/IPv4/UDP test frames numbered through their payload.

#include <cstdint>
#include <cstring>

#include "stack/core/packet.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/udp.h"

namespace xnet::stack::linktest {

inline const wire::MacAddr kMacA({0x02, 0, 0, 0, 0, 0x0a});
inline const wire::MacAddr kMacB({0x02, 0, 0, 0, 0, 0x0b});
inline const wire::Ipv4Addr kIpA(10, 0, 0, 1);
inline const wire::Ipv4Addr kIpB(10, 0, 0, 2);
inline constexpr size_t kHeaders = 14 + 20 + 8;

// `partial`: the UDP checksum is left to the device (kPartial, pseudo-header
// sum in the field), as the stack does over a link with tx_checksum.
inline Packet make_frame(FramePool& pool, uint32_t seq, size_t payload_len = 32, bool partial = false) {
  Packet p = Packet::allocate(pool, kDefaultHeadroom);
  if (!p) return p;
  std::byte* d = p.put(static_cast<uint16_t>(kHeaders + payload_len));
  wire::EthernetHeader{kMacB, kMacA, static_cast<uint16_t>(wire::EtherType::kIpv4), std::nullopt}.emit(
      wire::EthernetView::unchecked({d, 14}));
  wire::Ipv4Header ip;
  ip.src = kIpA;
  ip.dst = kIpB;
  ip.protocol = static_cast<uint8_t>(wire::IpProtocol::kUdp);
  ip.ident = static_cast<uint16_t>(seq);
  ip.payload_len = static_cast<uint16_t>(8 + payload_len);
  ip.emit(wire::Ipv4View::unchecked({d + 14, 20}));
  std::byte* payload = d + kHeaders;
  for (size_t i = 0; i < payload_len; ++i) payload[i] = static_cast<std::byte>(seq + i);
  if (payload_len >= 4) std::memcpy(payload, &seq, 4);
  wire::UdpHeader{1000, 2000, static_cast<uint16_t>(payload_len)}.emit(
      wire::UdpView::unchecked({d + 34, 8 + payload_len}), kIpA, kIpB,
      partial ? wire::UdpChecksum::kPartial : wire::UdpChecksum::kFull);
  if (partial) {
    p.meta().csum_state = ChecksumState::kPartial;
    p.meta().csum_start = static_cast<uint16_t>(p.headroom() + 34);
    p.meta().csum_offset = 6;
  }
  return p;
}

inline uint32_t seq_of(const Packet& p) {
  uint32_t s;
  std::memcpy(&s, p.data() + kHeaders, 4);
  return s;
}

}  // namespace xnet::stack::linktest
