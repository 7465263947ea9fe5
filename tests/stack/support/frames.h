#pragma once
// Hand-written frame builders for stack tests. They write every field by
// offset from the RFCs and compute checksums with a deliberately naive sum, so
// a test never trusts stack/wire (the code under test) to build its input.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "stack/wire/addr.h"

namespace xnet::stack::support {

using Bytes = std::vector<std::byte>;
using wire::Ipv4Addr;
using wire::MacAddr;

inline constexpr uint16_t kTypeIpv4 = 0x0800;
inline constexpr uint16_t kTypeArp = 0x0806;
inline constexpr uint16_t kTypeVlan = 0x8100;
inline constexpr uint16_t kArpRequest = 1;
inline constexpr uint16_t kArpReply = 2;

// 02:00:00:00:00:nn (locally administered unicast).
MacAddr mac(uint8_t n);
Bytes bytes_of(std::initializer_list<int> v);
Bytes pattern(size_t n, uint8_t seed = 1);

// RFC 1071 one's complement sum, one 16-bit word at a time (odd byte padded).
uint16_t naive_checksum(std::span<const std::byte> data, uint32_t initial = 0);

// Ethernet II: dst, src, type, payload.
Bytes eth(MacAddr dst, MacAddr src, uint16_t type, std::span<const std::byte> payload);
// 802.1Q tagged: dst, src, 0x8100, TCI, inner type, payload.
Bytes eth_vlan(MacAddr dst, MacAddr src, uint16_t tci, uint16_t inner_type,
               std::span<const std::byte> payload);

struct ArpFields {
  uint16_t htype = 1, ptype = 0x0800;
  uint8_t hlen = 6, plen = 4;
  uint16_t op = kArpRequest;
  MacAddr sha;
  Ipv4Addr sip;
  MacAddr tha;
  Ipv4Addr tip;
};
// The usual Ethernet/IPv4 message: op, sender MAC/IP, target MAC/IP.
ArpFields arp_fields(uint16_t op, MacAddr sha, Ipv4Addr sip, MacAddr tha, Ipv4Addr tip);
Bytes arp(const ArpFields& f);  // 28 bytes
// An ARP message in an Ethernet frame.
Bytes arp_frame(MacAddr dst, const ArpFields& f);

// IPv4 header (20 bytes, no options) with a correct checksum, then payload.
struct Ipv4Fields {
  Ipv4Addr src, dst;
  uint8_t protocol = 17;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t id = 1;
  uint16_t frag = 0;  // flags + offset field as on the wire
};
Bytes ipv4(const Ipv4Fields& f, std::span<const std::byte> payload);
// UDP header with the pseudo-header checksum, then payload.
Bytes udp(Ipv4Addr src, Ipv4Addr dst, uint16_t sport, uint16_t dport, std::span<const std::byte> payload);
// ICMP echo request/reply (type 8/0) with checksum.
Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq, std::span<const std::byte> payload);

// Reading captured frames.
uint16_t eth_type(std::span<const std::byte> frame);
MacAddr eth_dst(std::span<const std::byte> frame);
MacAddr eth_src(std::span<const std::byte> frame);
std::optional<ArpFields> parse_arp(std::span<const std::byte> frame);  // from an Ethernet frame
// The IPv4 packet inside an Ethernet frame (nullopt when not IPv4).
std::optional<Ipv4Fields> parse_ipv4(std::span<const std::byte> frame);

}  // namespace xnet::stack::support
