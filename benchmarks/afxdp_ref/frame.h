#pragma once
// Ethernet/IPv4/UDP frames for the reference, written byte by byte: valid
// IPv4 header checksum and a complete UDP checksum, so a kernel receiver
// accepts and counts them. Every payload starts with a 64-bit sequence number.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace afxdp_ref {

inline constexpr size_t kEthLen = 14, kIpLen = 20, kUdpLen = 8, kHdrLen = kEthLen + kIpLen + kUdpLen;

// One direction of a UDP flow, addresses as text ("aa:bb:..", "10.0.0.1").
struct Flow {
  std::string src_mac, dst_mac, src_ip, dst_ip;
  uint16_t sport = 0, dport = 0;
  size_t payload = 64;  // UDP payload bytes (≥ 8: room for the sequence)
};

// The frame of `flow` with sequence 0; empty if an address does not parse.
std::vector<uint8_t> build_frame(const Flow& flow);

// Writes `seq` into the payload of a frame built from a sequence-0 template
// and updates its UDP checksum incrementally (RFC 1624) from `udp_csum0`,
// the template's checksum, so a kernel receiver still accepts it.
void set_seq(uint8_t* frame, uint16_t udp_csum0, uint64_t seq);
uint64_t get_seq(const uint8_t* frame);
uint16_t udp_checksum_field(const uint8_t* frame);

// Turns a received frame around in place: swaps MACs, IPv4 addresses and UDP
// ports. One's-complement sums do not depend on the order of their 16-bit
// words, so both checksums stay valid without recomputation; returns false
// (frame untouched) for anything that is not IPv4/UDP.
bool reflect(uint8_t* frame, uint32_t len);

// Full checks, for tests: IPv4 header sum and UDP sum (0 = none) verify.
bool checksums_valid(const uint8_t* frame, uint32_t len);

}  // namespace afxdp_ref
