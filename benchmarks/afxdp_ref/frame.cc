#include "benchmarks/afxdp_ref/frame.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace afxdp_ref {
namespace {

bool parse_mac(const std::string& s, uint8_t* out) {
  unsigned v[6];
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return false;
  for (int i = 0; i < 6; ++i) out[i] = static_cast<uint8_t>(v[i]);
  return true;
}

void put16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) sum += uint32_t{p[n - 1]} << 8;
  return sum;
}

uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// Pseudo-header + UDP header + payload, as summed (not complemented).
uint32_t udp_sum(const uint8_t* ip, size_t udp_len) {
  uint32_t sum = sum16(ip + 12, 8);  // source and destination address
  sum += 17 + static_cast<uint32_t>(udp_len);
  return sum16(ip + kIpLen, udp_len, sum);
}

}  // namespace

std::vector<uint8_t> build_frame(const Flow& flow) {
  const size_t payload = flow.payload < 8 ? 8 : flow.payload;
  std::vector<uint8_t> f(kHdrLen + payload, 0);
  uint8_t* ip = f.data() + kEthLen;
  uint8_t* udp = ip + kIpLen;
  if (!parse_mac(flow.dst_mac, f.data()) || !parse_mac(flow.src_mac, f.data() + 6) ||
      inet_pton(AF_INET, flow.src_ip.c_str(), ip + 12) != 1 || inet_pton(AF_INET, flow.dst_ip.c_str(), ip + 16) != 1) {
    return {};
  }
  put16(f.data() + 12, 0x0800);
  ip[0] = 0x45;
  put16(ip + 2, static_cast<uint32_t>(kIpLen + kUdpLen + payload));
  ip[6] = 0x40;  // DF
  ip[8] = 64;
  ip[9] = 17;
  put16(ip + 10, static_cast<uint16_t>(~fold(sum16(ip, kIpLen))));
  put16(udp, flow.sport);
  put16(udp + 2, flow.dport);
  put16(udp + 4, static_cast<uint32_t>(kUdpLen + payload));
  // Payload after the sequence: a recognisable byte pattern.
  for (size_t i = 8; i < payload; ++i) udp[kUdpLen + i] = static_cast<uint8_t>(i);
  uint16_t c = static_cast<uint16_t>(~fold(udp_sum(ip, kUdpLen + payload)));
  if (c == 0) c = 0xffff;  // 0 would mean "no checksum"
  put16(udp + 6, c);
  return f;
}

uint16_t udp_checksum_field(const uint8_t* frame) {
  const uint8_t* c = frame + kEthLen + kIpLen + 6;
  return static_cast<uint16_t>((c[0] << 8) | c[1]);
}

void set_seq(uint8_t* frame, uint16_t udp_csum0, uint64_t seq) {
  uint8_t* p = frame + kHdrLen;
  std::memcpy(p, &seq, sizeof seq);
  // The template's payload started with 8 zero bytes: the new sum is the old
  // one plus the sequence's words (RFC 1624: HC' = ~(~HC + m')).
  uint16_t c = static_cast<uint16_t>(~fold(sum16(p, 8, static_cast<uint16_t>(~udp_csum0))));
  if (c == 0) c = 0xffff;
  put16(frame + kEthLen + kIpLen + 6, c);
}

uint64_t get_seq(const uint8_t* frame) {
  uint64_t seq;
  std::memcpy(&seq, frame + kHdrLen, sizeof seq);
  return seq;
}

bool reflect(uint8_t* d, uint32_t len) {
  if (len < kHdrLen || d[12] != 0x08 || d[13] != 0x00 || d[kEthLen] != 0x45 || d[kEthLen + 9] != 17) return false;
  uint8_t tmp[6];
  std::memcpy(tmp, d, 6);
  std::memcpy(d, d + 6, 6);
  std::memcpy(d + 6, tmp, 6);
  uint8_t* ip = d + kEthLen;
  std::memcpy(tmp, ip + 12, 4);
  std::memcpy(ip + 12, ip + 16, 4);
  std::memcpy(ip + 16, tmp, 4);
  uint8_t* udp = ip + kIpLen;
  std::memcpy(tmp, udp, 2);
  std::memcpy(udp, udp + 2, 2);
  std::memcpy(udp + 2, tmp, 2);
  return true;
}

bool checksums_valid(const uint8_t* frame, uint32_t len) {
  if (len < kHdrLen) return false;
  const uint8_t* ip = frame + kEthLen;
  if (fold(sum16(ip, kIpLen)) != 0xffff) return false;
  const size_t udp_len = (size_t{ip[kIpLen + 4]} << 8) | ip[kIpLen + 5];
  if (udp_len < kUdpLen || kEthLen + kIpLen + udp_len > len) return false;
  if (udp_checksum_field(frame) == 0) return true;
  return fold(udp_sum(ip, udp_len)) == 0xffff;
}

}  // namespace afxdp_ref
