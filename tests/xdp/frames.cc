#include "tests/xdp/frames.h"

#include <cstdio>
#include <cstring>

namespace xnet::testing {

std::optional<Mac> parse_mac(const std::string& text) {
  Mac m{};
  unsigned v[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) !=
      6)
    return std::nullopt;
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

Ip4 ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

static void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

uint16_t fold_sum(const uint8_t* p, size_t n, uint32_t initial) {
  uint64_t sum = initial;
  for (; n >= 2; p += 2, n -= 2) sum += load16(p);
  if (n == 1) sum += uint32_t{p[0]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

static uint32_t pseudo_header(const uint8_t* ip, uint16_t udp_len) {
  uint32_t s = 0;
  s += load16(ip + 12) + load16(ip + 14) + load16(ip + 16) + load16(ip + 18);
  s += 17;  // IPPROTO_UDP
  s += udp_len;
  return s;
}

std::vector<uint8_t> build_udp_frame(const UdpFrameSpec& spec, UdpChecksum csum) {
  const uint16_t udp_len = static_cast<uint16_t>(8 + spec.payload.size());
  const uint16_t ip_total = static_cast<uint16_t>(kIpLen + udp_len);
  std::vector<uint8_t> f(kEthLen + ip_total, 0);
  std::memcpy(&f[0], spec.dst_mac.data(), 6);
  std::memcpy(&f[6], spec.src_mac.data(), 6);
  store16(&f[12], 0x0800);
  uint8_t* ip = &f[kEthLen];
  ip[0] = 0x45;
  store16(ip + 2, ip_total);
  store16(ip + 4, 0x1234);
  store16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 17;
  std::memcpy(ip + 12, spec.src_ip.data(), 4);
  std::memcpy(ip + 16, spec.dst_ip.data(), 4);
  store16(ip + 10, static_cast<uint16_t>(~fold_sum(ip, kIpLen, 0)));
  uint8_t* udp = ip + kIpLen;
  store16(udp, spec.src_port);
  store16(udp + 2, spec.dst_port);
  store16(udp + 4, udp_len);
  std::memcpy(udp + 8, spec.payload.data(), spec.payload.size());
  const uint16_t pseudo = fold_sum(nullptr, 0, pseudo_header(ip, udp_len));
  if (csum == UdpChecksum::kPseudoHeader) {
    store16(udp + 6, pseudo);
  } else {
    uint16_t c = static_cast<uint16_t>(~fold_sum(udp, udp_len, pseudo));
    store16(udp + 6, c == 0 ? 0xffff : c);
  }
  return f;
}

bool udp_checksum_valid(std::span<const uint8_t> frame) {
  if (frame.size() < kEthLen + kIpLen + 8) return false;
  const uint8_t* ip = frame.data() + kEthLen;
  const uint8_t* udp = ip + kIpLen;
  const uint16_t udp_len = load16(udp + 4);
  if (kEthLen + kIpLen + udp_len > frame.size()) return false;
  if (load16(udp + 6) == 0) return true;
  return fold_sum(udp, udp_len, pseudo_header(ip, udp_len)) == 0xffff;
}

std::optional<ParsedFrame> parse_frame(std::span<const uint8_t> f) {
  if (f.size() < kEthLen) return std::nullopt;
  ParsedFrame p;
  p.ethertype = load16(&f[12]);
  if (p.ethertype == 0x0806) {
    if (f.size() < kEthLen + 28) return std::nullopt;
    p.arp_op = load16(&f[kEthLen + 6]);
    std::memcpy(p.arp_target.data(), &f[kEthLen + 24], 4);
    return p;
  }
  if (p.ethertype != 0x0800 || f.size() < kEthLen + kIpLen) return p;
  const uint8_t* ip = &f[kEthLen];
  const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
  p.ip_proto = ip[9];
  std::memcpy(p.ip_src.data(), ip + 12, 4);
  std::memcpy(p.ip_dst.data(), ip + 16, 4);
  if (f.size() >= kEthLen + ihl + 8) {
    if (p.ip_proto == 1) p.icmp_type = ip[ihl];
    if (p.ip_proto == 17) p.udp_dst_port = load16(ip + ihl + 2);
  }
  return p;
}

}  // namespace xnet::testing
