// ip_options_compile: the checks of the kernel's __ip_options_compile for a
// received packet, in its order, with its parameter-problem pointers.

#include "stack/ipv4/ip_options.h"

#include <cstring>

#include "stack/wire/ipv4_options.h"

namespace xnet::stack {
namespace {

using wire::Ipv4OptionType;
using wire::Ipv4TimestampFlag;

constexpr uint8_t kIpv4BaseHeader = 20;
constexpr uint8_t type_of(Ipv4OptionType t) { return static_cast<uint8_t>(t); }
constexpr uint8_t flag_of(Ipv4TimestampFlag f) { return static_cast<uint8_t>(f); }

uint8_t at(std::span<const std::byte> ip, size_t i) { return std::to_integer<uint8_t>(ip[i]); }

}  // namespace

Result<void, IpOptionsProblem> ip_options_compile(std::span<const std::byte> ip, IpOptions& opt) {
  opt = IpOptions{};
  if (ip.size() <= kIpv4BaseHeader) return {};
  opt.optlen = static_cast<uint8_t>(ip.size() - kIpv4BaseHeader);
  auto error = [](size_t where) { return IpOptionsProblem{static_cast<uint8_t>(where)}; };

  size_t p = kIpv4BaseHeader;  // the option being looked at
  size_t l = opt.optlen;       // bytes left from p
  while (l > 0) {
    const uint8_t type = at(ip, p);
    if (type == type_of(Ipv4OptionType::kEol)) break;  // the rest is padding (the kernel zeroes it)
    if (type == type_of(Ipv4OptionType::kNop)) {
      ++p;
      --l;
      continue;
    }
    if (l < 2) return error(p);
    const uint8_t optlen = at(ip, p + 1);
    if (optlen < 2 || optlen > l) return error(p);
    switch (type) {
      case type_of(Ipv4OptionType::kSsrr):
      case type_of(Ipv4OptionType::kLsrr):
        if (optlen < 3) return error(p + 1);
        if (at(ip, p + 2) < 4) return error(p + 2);
        if (opt.srr) return error(p);  // only one source route (RFC 1812 §5.2.4.1)
        opt.is_strictroute = type == type_of(Ipv4OptionType::kSsrr);
        opt.srr = static_cast<uint8_t>(p);
        break;
      case type_of(Ipv4OptionType::kRecordRoute): {
        if (opt.rr) return error(p);
        if (optlen < 3) return error(p + 1);
        const uint8_t ptr = at(ip, p + 2);
        if (ptr < 4) return error(p + 2);
        if (ptr <= optlen && ptr + 3 > optlen) return error(p + 2);  // no room for an address
        opt.rr = static_cast<uint8_t>(p);
        break;
      }
      case type_of(Ipv4OptionType::kTimestamp): {
        if (opt.ts) return error(p);
        if (optlen < 4) return error(p + 1);
        const uint8_t ptr = at(ip, p + 2);
        if (ptr < 5) return error(p + 2);
        const uint8_t flag = at(ip, p + 3) & 0xf;
        if (ptr <= optlen) {
          if (ptr + 3 > optlen) return error(p + 2);
          const bool with_address = flag == flag_of(Ipv4TimestampFlag::kWithAddress) ||
                                    flag == flag_of(Ipv4TimestampFlag::kPrespecified);
          if (with_address && ptr + 7 > optlen) return error(p + 2);
          // Timestamps only, and unknown flags: accepted on receive (the
          // kernel refuses unknown flags only from unprivileged senders).
        } else if (flag != flag_of(Ipv4TimestampFlag::kPrespecified) && (at(ip, p + 3) >> 4) == 15) {
          return error(p + 3);  // full, and the overflow counter cannot count it
        }
        opt.ts = static_cast<uint8_t>(p);
        break;
      }
      case type_of(Ipv4OptionType::kRouterAlert):
        if (optlen < 4) return error(p + 1);
        if (at(ip, p + 2) == 0 && at(ip, p + 3) == 0) opt.router_alert = static_cast<uint8_t>(p);
        break;
      default:
        break;  // security, stream id, CIPSO and unknown options: skipped by length
    }
    p += optlen;
    l -= optlen;
  }
  return {};
}

namespace {

void put_addr(uint8_t* at, wire::Ipv4Addr a) {
  const uint32_t v = a.value();
  at[0] = static_cast<uint8_t>(v >> 24);
  at[1] = static_cast<uint8_t>(v >> 16);
  at[2] = static_cast<uint8_t>(v >> 8);
  at[3] = static_cast<uint8_t>(v);
}
void put_ms(uint8_t* at, uint32_t ms) { put_addr(at, wire::Ipv4Addr(ms)); }
wire::Ipv4Addr get_addr(const uint8_t* at) {
  return wire::Ipv4Addr(static_cast<uint32_t>(at[0]) << 24 | static_cast<uint32_t>(at[1]) << 16 |
                        static_cast<uint32_t>(at[2]) << 8 | at[3]);
}

}  // namespace

std::optional<size_t> ip_options_echo(std::span<const std::byte> ip, const IpOptions& opt, wire::Ipv4Addr local,
                                      uint32_t ms, const std::function<bool(wire::Ipv4Addr)>& is_local,
                                      std::array<std::byte, 40>& out) {
  if (!opt.rr && !opt.ts) return 0;
  // The request's header as the receive path of the kernel leaves it.
  std::array<uint8_t, 60> h{};
  const size_t hlen = std::min(ip.size(), h.size());
  std::memcpy(h.data(), ip.data(), hlen);
  bool rr_needaddr = false, ts_needaddr = false, ts_needtime = false;
  constexpr uint8_t kTsOnly = 0, kTsAndAddr = 1, kTsPrespec = 3;
  if (opt.rr) {
    uint8_t* o = &h[opt.rr];
    if (o[2] <= o[1]) {
      put_addr(&o[o[2] - 1], local);
      o[2] = static_cast<uint8_t>(o[2] + 4);
      rr_needaddr = true;
    }
  }
  if (opt.ts) {
    uint8_t* o = &h[opt.ts];
    const uint8_t flag = o[3] & 0xf;
    if (o[2] <= o[1]) {
      if (flag == kTsOnly) {
        put_ms(&o[o[2] - 1], ms);
        ts_needtime = true;
        o[2] = static_cast<uint8_t>(o[2] + 4);
      } else if (flag == kTsAndAddr) {
        put_addr(&o[o[2] - 1], local);
        put_ms(&o[o[2] + 3], ms);
        ts_needaddr = ts_needtime = true;
        o[2] = static_cast<uint8_t>(o[2] + 8);
      } else if (flag == kTsPrespec) {
        if (is_local(get_addr(&o[o[2] - 1]))) {
          put_ms(&o[o[2] + 3], ms);
          ts_needtime = true;
          o[2] = static_cast<uint8_t>(o[2] + 8);
        }
      }
    } else if (flag != kTsPrespec) {
      o[3] = static_cast<uint8_t>((o[3] & 0xf) | (((o[3] >> 4) + 1) << 4));  // the overflow counter
    }
  }

  // ip_options_echo, then ip_options_build's fills.
  std::array<uint8_t, 40> d{};
  size_t n = 0;
  if (opt.rr) {
    const uint8_t* o = &h[opt.rr];
    const uint8_t len = o[1];
    std::memcpy(&d[n], o, len);
    uint8_t off = o[2];
    if (rr_needaddr && off <= len) {
      if (off + 3 > len) return std::nullopt;
      d[n + 2] = static_cast<uint8_t>(off + 4);
      put_addr(&d[n + d[n + 2] - 5], local);
    }
    n += len;
  }
  if (opt.ts) {
    const uint8_t* o = &h[opt.ts];
    const uint8_t len = o[1];
    std::memcpy(&d[n], o, len);
    uint8_t off = o[2];
    bool need_addr = false, need_time = false;
    if (off <= len) {
      if (ts_needaddr) {
        if (off + 3 > len) return std::nullopt;
        need_addr = true;
        off = static_cast<uint8_t>(off + 4);
      }
      if (ts_needtime) {
        if (off + 3 > len) return std::nullopt;
        if ((d[n + 3] & 0xf) != kTsPrespec) {
          need_time = true;
          off = static_cast<uint8_t>(off + 4);
        } else if (off + 7 <= len && is_local(get_addr(&d[n + off - 1]))) {
          need_time = true;
          off = static_cast<uint8_t>(off + 8);
        }
      }
      d[n + 2] = off;
    }
    if (need_addr) put_addr(&d[n + d[n + 2] - 9], local);
    if (need_time) put_ms(&d[n + d[n + 2] - 5], ms);
    n += len;
  }
  while (n % 4 != 0) d[n++] = 0;  // EOL
  for (size_t i = 0; i < n; ++i) out[i] = std::byte{d[i]};
  return n;
}

}  // namespace xnet::stack
