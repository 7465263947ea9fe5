#include "tests/conformance/frames.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace xnet::conformance {
namespace {

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
void set16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", p[i]);
    s += buf;
  }
  return s;
}
std::string hex16(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t len) {
  return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + static_cast<uint32_t>(len);
}

// The whole L4 payload of the datagram `ip` belongs to: itself when not a
// fragment, else the reassembly of every captured fragment with its key.
// Empty when fragments are missing.
std::optional<Bytes> whole_l4(const uint8_t* ip, const std::vector<Bytes>& all) {
  const size_t ihl = (ip[0] & 0x0f) * 4u;
  const uint16_t tot = rd16(ip + 2);
  const uint16_t fo = rd16(ip + 6);
  if ((fo & 0x3fff) == 0) return Bytes(ip + ihl, ip + tot);
  Bytes out;
  std::vector<bool> have;
  bool last_seen = false;
  size_t total = 0;
  for (const Bytes& f : all) {
    if (f.size() < 34 || rd16(f.data() + 12) != kEthIpv4) continue;
    const uint8_t* q = f.data() + 14;
    if (rd16(q + 4) != rd16(ip + 4) || q[9] != ip[9] || std::memcmp(q + 12, ip + 12, 8) != 0) continue;
    const size_t qihl = (q[0] & 0x0f) * 4u;
    const size_t qtot = rd16(q + 2);
    if (qtot < qihl || 14 + qtot > f.size()) continue;
    const size_t off = (rd16(q + 6) & 0x1fff) * 8u;
    const size_t len = qtot - qihl;
    if (out.size() < off + len) {
      out.resize(off + len);
      have.resize(off + len, false);
    }
    std::memcpy(out.data() + off, q + qihl, len);
    for (size_t i = off; i < off + len; ++i) have[i] = true;
    if ((rd16(q + 6) & 0x2000) == 0) {
      last_seen = true;
      total = off + len;
    }
  }
  if (!last_seen || out.size() != total) return std::nullopt;
  for (bool h : have) {
    if (!h) return std::nullopt;
  }
  return out;
}

void dissect_options(Record& r, const std::string& prefix, const uint8_t* o, size_t n) {
  std::string text;
  size_t i = 0;
  while (i < n) {
    const uint8_t type = o[i];
    if (!text.empty()) text += ' ';
    if (type == 0 || type == 1) {
      text += type == 0 ? "EOL" : "NOP";
      ++i;
      continue;
    }
    if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n) {
      text += "bad:" + hex(o + i, n - i);
      break;
    }
    const uint8_t len = o[i + 1];
    if (type == 68 && len >= 4) {  // Timestamp: the times themselves differ
      text += "TS(len=" + std::to_string(len) + ",ptr=" + std::to_string(o[i + 2]) +
              ",oflw=" + std::to_string(o[i + 3] >> 4) + ",flg=" + std::to_string(o[i + 3] & 0xf) + ":";
      const uint8_t flg = o[i + 3] & 0xf;
      const size_t step = flg == 0 ? 4 : 8;
      for (size_t k = 4; k + step <= len; k += step) {
        const size_t used = o[i + 2] > k ? 1 : 0;  // slots before the pointer are filled
        if (flg != 0) text += ip4_text(rd32(o + i + k)) + "@";
        const uint32_t ts = rd32(o + i + k + step - 4);
        text += used ? (ts == 0 ? "0" : "T") : hex(o + i + k + step - 4, 4);
        text += ",";
      }
      text += ")";
    } else {
      text += std::to_string(type) + ":" + hex(o + i + 1, len - 1);
    }
    i += len;
  }
  r.add(prefix + "options", text.empty() ? "-" : text);
}

// The IPv4 header fields (not the payload). Returns the header length, 0 when
// the bytes are no IPv4 header.
size_t dissect_ipv4_header(Record& r, const std::string& prefix, const uint8_t* ip, size_t avail,
                           Normaliser* n) {
  if (avail < 20) {
    r.add(prefix + "ip", "short(" + std::to_string(avail) + ")");
    return 0;
  }
  const size_t ihl = (ip[0] & 0x0f) * 4u;
  r.add(prefix + "ip.version", ip[0] >> 4);
  r.add(prefix + "ip.ihl", static_cast<long long>(ihl));
  r.add(prefix + "ip.tos", ip[1]);
  r.add(prefix + "ip.tot_len", rd16(ip + 2));
  const uint16_t id = rd16(ip + 4);
  r.add(prefix + "ip.id", n != nullptr ? n->id(id) : std::to_string(id));
  const uint16_t fo = rd16(ip + 6);
  r.add(prefix + "ip.flags", std::string(fo & 0x8000 ? "R" : "") + (fo & 0x4000 ? "DF" : "") +
                                 (fo & 0x2000 ? "MF" : "") + ((fo & 0xe000) == 0 ? "-" : ""));
  r.add(prefix + "ip.frag_offset", (fo & 0x1fff) * 8);
  r.add(prefix + "ip.ttl", ip[8]);
  r.add(prefix + "ip.proto", ip[9]);
  if (ihl >= 20 && ihl <= avail) {
    r.add(prefix + "ip.csum", inet_checksum(ip, ihl) == 0 ? "ok" : "bad");
  } else {
    r.add(prefix + "ip.csum", "n/a");
  }
  r.add(prefix + "ip.src", ip4_text(rd32(ip + 12)));
  r.add(prefix + "ip.dst", ip4_text(rd32(ip + 16)));
  if (ihl > 20 && ihl <= avail) dissect_options(r, prefix + "ip.", ip + 20, ihl - 20);
  return ihl;
}

void dissect_icmp(Record& r, const uint8_t* ip, const uint8_t* l4, size_t len, Normaliser& n,
                  const std::vector<Bytes>& all) {
  if (len < 8) {
    r.add("icmp", "short(" + std::to_string(len) + ")");
    return;
  }
  const uint8_t type = l4[0];
  r.add("icmp.type", type);
  r.add("icmp.code", l4[1]);
  std::optional<Bytes> whole = whole_l4(ip, all);
  r.add("icmp.csum", !whole ? "incomplete" : inet_checksum(whole->data(), whole->size()) == 0 ? "ok" : "bad");
  if (type == 0 || type == 8) {
    r.add("icmp.echo.id", rd16(l4 + 4));
    r.add("icmp.echo.seq", rd16(l4 + 6));
    r.add("icmp.data", whole ? digest(whole->data() + 8, whole->size() - 8) : "incomplete");
  } else if (type == 13 || type == 14) {
    r.add("icmp.ts.id", rd16(l4 + 4));
    r.add("icmp.ts.seq", rd16(l4 + 6));
    if (len >= 20) {
      r.add("icmp.ts.originate", rd32(l4 + 8));
      r.add("icmp.ts.receive", rd32(l4 + 12) == 0 ? "0" : "T");
      r.add("icmp.ts.transmit==receive", rd32(l4 + 16) == rd32(l4 + 12) ? "yes" : "no");
    }
    r.add("icmp.len", static_cast<long long>(len));
  } else if (type == 3 || type == 4 || type == 5 || type == 11 || type == 12) {
    r.add("icmp.rest", hex(l4 + 4, 4));
    const uint8_t* q = l4 + 8;
    const size_t qlen = len - 8;
    r.add("icmp.quote.len", static_cast<long long>(qlen));
    const size_t qihl = dissect_ipv4_header(r, "icmp.quote.", q, qlen, nullptr);
    if (qihl != 0 && qihl <= qlen) {
      const uint8_t* qp = q + qihl;
      const size_t qplen = qlen - qihl;
      if (q[9] == 17 && qplen >= 8 && (rd16(q + 6) & 0x1fff) == 0) {
        const uint16_t sport = rd16(qp);
        r.add("icmp.quote.udp.sport", n.port(sport));
        r.add("icmp.quote.udp.dport", n.port(rd16(qp + 2)));
        r.add("icmp.quote.udp.len", rd16(qp + 4));
        // The checksum covers the ports: only comparable when neither was
        // chosen at random.
        r.add("icmp.quote.udp.csum", n.port(sport) == std::to_string(sport) ? hex16(rd16(qp + 6)) : "(eph)");
        r.add("icmp.quote.rest", digest(qp + 8, qplen - 8));
      } else {
        r.add("icmp.quote.rest", digest(qp, qplen));
      }
    }
  } else {
    r.add("icmp.data", digest(l4 + 4, len - 4));
  }
}

}  // namespace

std::optional<Mac> parse_mac(const std::string& text) {
  Mac m{};
  unsigned v[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
    return std::nullopt;
  }
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

uint32_t ip4(const std::string& dotted) {
  in_addr a{};
  inet_pton(AF_INET, dotted.c_str(), &a);
  return ntohl(a.s_addr);
}

std::string ip4_text(uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string(v >> 16 & 0xff) + "." + std::to_string(v >> 8 & 0xff) +
         "." + std::to_string(v & 0xff);
}

uint16_t inet_checksum(const uint8_t* data, size_t len, uint32_t sum) {
  uint64_t s = sum;
  for (size_t i = 0; i + 1 < len; i += 2) s += rd16(data + i);
  if (len % 2 != 0) s += static_cast<uint32_t>(data[len - 1]) << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s & 0xffff);
}

Bytes pattern(size_t size, uint8_t seq) {
  Bytes b(size);
  // Not periodic in 256 bytes (segments of one datagram differ).
  for (size_t i = 0; i < size; ++i) b[i] = static_cast<uint8_t>(i * 7 + (i >> 8) * 11 + seq * 13 + 1);
  return b;
}

std::string digest(const uint8_t* data, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; ++i) {
    h ^= data[i];
    h *= 1099511628211ull;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%zu:%08x", len, static_cast<unsigned>(h ^ (h >> 32)));
  return buf;
}

Bytes ipv4_packet(const Ipv4Spec& s, const Bytes& payload) {
  Bytes opts = s.options;
  if (!s.raw_ihl) {
    while (opts.size() % 4 != 0) opts.push_back(0);
  }
  const size_t hl = 20 + opts.size();
  Bytes b;
  b.reserve(hl + payload.size());
  const uint8_t ihl = s.raw_ihl ? *s.raw_ihl : static_cast<uint8_t>(hl / 4);
  b.push_back(static_cast<uint8_t>((s.version ? *s.version : 4) << 4 | (ihl & 0x0f)));
  b.push_back(s.tos);
  put16(b, s.tot_len ? *s.tot_len : static_cast<uint16_t>(hl + payload.size()));
  put16(b, s.id);
  put16(b, static_cast<uint16_t>((s.df ? 0x4000 : 0) | (s.mf ? 0x2000 : 0) | (s.frag_offset / 8)));
  b.push_back(s.ttl);
  b.push_back(s.proto);
  put16(b, 0);
  put32(b, s.src);
  put32(b, s.dst);
  b.insert(b.end(), opts.begin(), opts.end());
  set16(b, 10, s.csum ? *s.csum : inet_checksum(b.data(), hl));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes udp_datagram(uint32_t src, uint32_t dst, const UdpSpec& u, const Bytes& payload) {
  Bytes b;
  put16(b, u.sport);
  put16(b, u.dport);
  put16(b, u.len ? *u.len : static_cast<uint16_t>(8 + payload.size()));
  put16(b, 0);
  b.insert(b.end(), payload.begin(), payload.end());
  uint16_t c = inet_checksum(b.data(), b.size(), pseudo_sum(src, dst, 17, b.size()));
  if (c == 0) c = 0xffff;
  set16(b, 6, u.csum ? *u.csum : c);
  return b;
}

Bytes icmp_message(uint8_t type, uint8_t code, uint32_t rest, const Bytes& data) {
  Bytes b{type, code, 0, 0};
  put32(b, rest);
  b.insert(b.end(), data.begin(), data.end());
  set16(b, 2, inet_checksum(b.data(), b.size()));
  return b;
}

Bytes ethernet(const Mac& dst, const Mac& src, uint16_t type, const Bytes& payload, std::optional<uint16_t> vlan) {
  Bytes b(dst.begin(), dst.end());
  b.insert(b.end(), src.begin(), src.end());
  if (vlan) {
    put16(b, kEthVlan);
    put16(b, *vlan);
  }
  put16(b, type);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes arp_packet(const ArpSpec& a) {
  Bytes b;
  put16(b, 1);
  put16(b, kEthIpv4);
  b.push_back(6);
  b.push_back(4);
  put16(b, a.op);
  b.insert(b.end(), a.sha.begin(), a.sha.end());
  put32(b, a.spa);
  b.insert(b.end(), a.tha.begin(), a.tha.end());
  put32(b, a.tpa);
  return b;
}

std::vector<Bytes> fragments(const Ipv4Spec& ip, const Bytes& l4, size_t chunk) {
  std::vector<Bytes> out;
  for (size_t off = 0; off < l4.size(); off += chunk) {
    Ipv4Spec s = ip;
    s.frag_offset = static_cast<uint16_t>(off);
    s.mf = off + chunk < l4.size();
    const size_t end = std::min(l4.size(), off + chunk);
    out.push_back(ipv4_packet(s, Bytes(l4.begin() + static_cast<long>(off), l4.begin() + static_cast<long>(end))));
  }
  return out;
}

std::string Normaliser::mac(const uint8_t* m) const {
  static constexpr uint8_t kBcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  static constexpr uint8_t kZero[6] = {};
  if (std::memcmp(m, host_mac.data(), 6) == 0) return "host";
  if (std::memcmp(m, peer_mac.data(), 6) == 0) return "peer";
  if (std::memcmp(m, kBcast, 6) == 0) return "broadcast";
  if (std::memcmp(m, kZero, 6) == 0) return "zero";
  return hex(m, 6);
}

std::string Normaliser::id(uint16_t v) {
  if (v == 0) return "0";
  auto [it, fresh] = ids.emplace(v, static_cast<int>(ids.size()) + 1);
  (void)fresh;
  return "#" + std::to_string(it->second);
}

std::string Normaliser::port(uint16_t v) {
  if (v < 32768 || v > 60999) return std::to_string(v);
  auto [it, fresh] = ephemeral.emplace(v, static_cast<int>(ephemeral.size()) + 1);
  (void)fresh;
  return "eph" + std::to_string(it->second);
}

Record dissect(const Bytes& f, Normaliser& n, const std::vector<Bytes>& all) {
  Record r;
  r.add("len", static_cast<long long>(f.size()));
  if (f.size() < 14) return r;
  r.add("eth.dst", n.mac(f.data()));
  r.add("eth.src", n.mac(f.data() + 6));
  size_t at = 12;
  uint16_t type = rd16(f.data() + at);
  if (type == kEthVlan && f.size() >= 18) {
    r.add("eth.vlan", rd16(f.data() + 14));
    at = 16;
    type = rd16(f.data() + at);
  }
  r.add("eth.type", hex16(type));
  const uint8_t* p = f.data() + at + 2;
  const size_t avail = f.size() - at - 2;
  if (type == kEthArp) {
    if (avail < 28) {
      r.add("arp", "short");
      return r;
    }
    r.add("arp.htype", rd16(p));
    r.add("arp.ptype", hex16(rd16(p + 2)));
    r.add("arp.hlen", p[4]);
    r.add("arp.plen", p[5]);
    r.add("arp.op", rd16(p + 6));
    r.add("arp.sha", n.mac(p + 8));
    r.add("arp.spa", ip4_text(rd32(p + 14)));
    r.add("arp.tha", n.mac(p + 18));
    r.add("arp.tpa", ip4_text(rd32(p + 24)));
    return r;
  }
  if (type != kEthIpv4) {
    r.add("data", digest(p, avail));
    return r;
  }
  const size_t ihl = dissect_ipv4_header(r, "", p, avail, &n);
  if (ihl < 20 || ihl > avail) return r;
  const size_t tot = rd16(p + 2);
  if (tot < ihl || tot > avail) {
    r.add("ip.payload", "bad length");
    return r;
  }
  const uint8_t* l4 = p + ihl;
  const size_t l4len = tot - ihl;
  const bool first = (rd16(p + 6) & 0x1fff) == 0;
  if (!first) {
    r.add("ip.data", digest(l4, l4len));
    return r;
  }
  if (p[9] == 17 && l4len >= 8) {
    r.add("udp.sport", n.port(rd16(l4)));
    r.add("udp.dport", n.port(rd16(l4 + 2)));
    r.add("udp.len", rd16(l4 + 4));
    const uint16_t csum = rd16(l4 + 6);
    if (csum == 0) {
      r.add("udp.csum", "none");
    } else if (std::optional<Bytes> whole = whole_l4(p, all)) {
      const uint16_t c = inet_checksum(whole->data(), whole->size(),
                                       pseudo_sum(rd32(p + 12), rd32(p + 16), 17, whole->size()));
      r.add("udp.csum", c == 0 ? "ok" : "bad");
    } else {
      r.add("udp.csum", "incomplete");
    }
    r.add("udp.data", digest(l4 + 8, l4len - 8));
  } else if (p[9] == 1) {
    dissect_icmp(r, p, l4, l4len, n, all);
  } else {
    r.add("ip.data", digest(l4, l4len));
  }
  return r;
}

}  // namespace xnet::conformance
