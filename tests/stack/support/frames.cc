#include "tests/stack/support/frames.h"

namespace xnet::stack::support {
namespace {

void put8(Bytes& b, uint8_t v) { b.push_back(static_cast<std::byte>(v)); }
void put16(Bytes& b, uint16_t v) {
  put8(b, static_cast<uint8_t>(v >> 8));
  put8(b, static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
void put_mac(Bytes& b, MacAddr m) {
  for (uint8_t x : m.bytes()) put8(b, x);
}
void put_span(Bytes& b, std::span<const std::byte> s) { b.insert(b.end(), s.begin(), s.end()); }
uint8_t at(std::span<const std::byte> b, size_t i) { return std::to_integer<uint8_t>(b[i]); }
uint16_t get16(std::span<const std::byte> b, size_t i) {
  return static_cast<uint16_t>((at(b, i) << 8) | at(b, i + 1));
}
uint32_t get32(std::span<const std::byte> b, size_t i) {
  return (uint32_t{get16(b, i)} << 16) | get16(b, i + 2);
}
MacAddr get_mac(std::span<const std::byte> b, size_t i) {
  std::array<uint8_t, 6> m{};
  for (size_t k = 0; k < 6; ++k) m[k] = at(b, i + k);
  return MacAddr(m);
}
void set16(Bytes& b, size_t i, uint16_t v) {
  b[i] = static_cast<std::byte>(v >> 8);
  b[i + 1] = static_cast<std::byte>(v);
}

}  // namespace

MacAddr mac(uint8_t n) { return MacAddr({0x02, 0, 0, 0, 0, n}); }

Bytes bytes_of(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(static_cast<std::byte>(x));
  return b;
}

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>(seed + i * 7);
  return b;
}

uint16_t naive_checksum(std::span<const std::byte> data, uint32_t initial) {
  uint64_t sum = initial;
  for (size_t i = 0; i < data.size(); i += 2) {
    uint32_t word = uint32_t{at(data, i)} << 8;
    if (i + 1 < data.size()) word |= at(data, i + 1);
    sum += word;
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

Bytes eth(MacAddr dst, MacAddr src, uint16_t type, std::span<const std::byte> payload) {
  Bytes b;
  put_mac(b, dst);
  put_mac(b, src);
  put16(b, type);
  put_span(b, payload);
  return b;
}

Bytes eth_vlan(MacAddr dst, MacAddr src, uint16_t tci, uint16_t inner_type,
               std::span<const std::byte> payload) {
  Bytes b;
  put_mac(b, dst);
  put_mac(b, src);
  put16(b, kTypeVlan);
  put16(b, tci);
  put16(b, inner_type);
  put_span(b, payload);
  return b;
}

ArpFields arp_fields(uint16_t op, MacAddr sha, Ipv4Addr sip, MacAddr tha, Ipv4Addr tip) {
  ArpFields f;
  f.op = op;
  f.sha = sha;
  f.sip = sip;
  f.tha = tha;
  f.tip = tip;
  return f;
}

Bytes arp(const ArpFields& f) {
  Bytes b;
  put16(b, f.htype);
  put16(b, f.ptype);
  put8(b, f.hlen);
  put8(b, f.plen);
  put16(b, f.op);
  put_mac(b, f.sha);
  put32(b, f.sip.value());
  put_mac(b, f.tha);
  put32(b, f.tip.value());
  return b;
}

Bytes arp_frame(MacAddr dst, const ArpFields& f) { return eth(dst, f.sha, kTypeArp, arp(f)); }

Bytes ipv4(const Ipv4Fields& f, std::span<const std::byte> payload) {
  Bytes b;
  put8(b, 0x45);
  put8(b, f.tos);
  put16(b, static_cast<uint16_t>(20 + payload.size()));
  put16(b, f.id);
  put16(b, f.frag);
  put8(b, f.ttl);
  put8(b, f.protocol);
  put16(b, 0);
  put32(b, f.src.value());
  put32(b, f.dst.value());
  set16(b, 10, naive_checksum(b));
  put_span(b, payload);
  return b;
}

Bytes udp(Ipv4Addr src, Ipv4Addr dst, uint16_t sport, uint16_t dport, std::span<const std::byte> payload) {
  Bytes b;
  const auto len = static_cast<uint16_t>(8 + payload.size());
  put16(b, sport);
  put16(b, dport);
  put16(b, len);
  put16(b, 0);
  put_span(b, payload);
  Bytes pseudo;
  put32(pseudo, src.value());
  put32(pseudo, dst.value());
  put16(pseudo, 17);
  put16(pseudo, len);
  put_span(pseudo, b);
  uint16_t c = naive_checksum(pseudo);
  if (c == 0) c = 0xffff;
  set16(b, 6, c);
  return b;
}

Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq, std::span<const std::byte> payload) {
  Bytes b;
  put8(b, type);
  put8(b, 0);
  put16(b, 0);
  put16(b, id);
  put16(b, seq);
  put_span(b, payload);
  set16(b, 2, naive_checksum(b));
  return b;
}

uint16_t eth_type(std::span<const std::byte> frame) { return frame.size() < 14 ? 0 : get16(frame, 12); }
MacAddr eth_dst(std::span<const std::byte> frame) { return get_mac(frame, 0); }
MacAddr eth_src(std::span<const std::byte> frame) { return get_mac(frame, 6); }

std::optional<ArpFields> parse_arp(std::span<const std::byte> frame) {
  if (eth_type(frame) != kTypeArp || frame.size() < 14 + 28) return std::nullopt;
  const auto a = frame.subspan(14);
  ArpFields f;
  f.htype = get16(a, 0);
  f.ptype = get16(a, 2);
  f.hlen = at(a, 4);
  f.plen = at(a, 5);
  f.op = get16(a, 6);
  f.sha = get_mac(a, 8);
  f.sip = Ipv4Addr(get32(a, 14));
  f.tha = get_mac(a, 18);
  f.tip = Ipv4Addr(get32(a, 24));
  return f;
}

std::optional<Ipv4Fields> parse_ipv4(std::span<const std::byte> frame) {
  if (eth_type(frame) != kTypeIpv4 || frame.size() < 14 + 20) return std::nullopt;
  const auto h = frame.subspan(14);
  Ipv4Fields f;
  f.tos = at(h, 1);
  f.id = get16(h, 4);
  f.frag = get16(h, 6);
  f.ttl = at(h, 8);
  f.protocol = at(h, 9);
  f.src = Ipv4Addr(get32(h, 12));
  f.dst = Ipv4Addr(get32(h, 16));
  return f;
}

}  // namespace xnet::stack::support
