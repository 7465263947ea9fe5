#pragma once
// Just enough Ethernet/ARP/IPv4/UDP/ICMP byte code for the xdp tests, kept
// apart from stack/wire on purpose: these tests check the link, not the stack.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace xnet::testing {

using Mac = std::array<uint8_t, 6>;
using Ip4 = std::array<uint8_t, 4>;

std::optional<Mac> parse_mac(const std::string& text);
Ip4 ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

struct UdpFrameSpec {
  Mac dst_mac{}, src_mac{};
  Ip4 src_ip{}, dst_ip{};
  uint16_t src_port = 0, dst_port = 0;
  std::string payload;
};

enum class UdpChecksum {
  kComplete,       // the full checksum
  kPseudoHeader,   // CHECKSUM_PARTIAL: only the folded pseudo-header sum
};

// Ethernet + IPv4 (with a correct header checksum) + UDP.
std::vector<uint8_t> build_udp_frame(const UdpFrameSpec& spec, UdpChecksum csum);

inline constexpr size_t kEthLen = 14;
inline constexpr size_t kIpLen = 20;
inline constexpr size_t kUdpCsumOffset = 6;

uint16_t load16(const uint8_t* p);
// One's-complement sum folded to 16 bits, with an initial value.
uint16_t fold_sum(const uint8_t* p, size_t n, uint32_t initial);

// For a frame holding Ethernet + IPv4 (no options) + UDP: true when the UDP
// checksum verifies (or is 0, "none").
bool udp_checksum_valid(std::span<const uint8_t> frame);

struct ParsedFrame {
  uint16_t ethertype = 0;
  // ARP
  uint16_t arp_op = 0;
  Ip4 arp_target{};
  // IPv4
  uint8_t ip_proto = 0;
  Ip4 ip_src{}, ip_dst{};
  uint8_t icmp_type = 0;
  uint16_t udp_dst_port = 0;
};
std::optional<ParsedFrame> parse_frame(std::span<const uint8_t> frame);

}  // namespace xnet::testing
