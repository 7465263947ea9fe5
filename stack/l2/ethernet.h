#pragma once
// Ethernet constants shared by the receive (eth_input) and transmit
// (eth_output) sides.

#include <cstdint>

namespace xnet::stack {

inline constexpr uint16_t kEthHeaderLen = 14;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;

}  // namespace xnet::stack
