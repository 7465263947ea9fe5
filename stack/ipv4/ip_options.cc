// ip_options_compile: the checks of the kernel's __ip_options_compile for a
// received packet, in its order, with its parameter-problem pointers.

#include "stack/ipv4/ip_options.h"

#include <cstring>

#include "stack/core/route.h"
#include "stack/core/stack.h"
#include "stack/wire/ipv4_options.h"

namespace xnet::stack {
namespace {

using wire::Ipv4OptionType;
using wire::Ipv4TimestampFlag;

constexpr uint8_t kIpv4BaseHeader = 20;
constexpr uint8_t type_of(Ipv4OptionType t) { return static_cast<uint8_t>(t); }
constexpr uint8_t flag_of(Ipv4TimestampFlag f) { return static_cast<uint8_t>(f); }

uint8_t at(std::span<const std::byte> ip, size_t i) { return std::to_integer<uint8_t>(ip[i]); }

void put_u32(std::byte* p, uint32_t v) {
  p[0] = static_cast<std::byte>(v >> 24);
  p[1] = static_cast<std::byte>(v >> 16);
  p[2] = static_cast<std::byte>(v >> 8);
  p[3] = static_cast<std::byte>(v);
}

wire::Ipv4Addr addr_at(std::span<const std::byte> b, size_t i) {
  return wire::Ipv4Addr(at(b, i), at(b, i + 1), at(b, i + 2), at(b, i + 3));
}

// inet_addr_type(addr) == RTN_UNICAST: not 0/8, broadcast, multicast, nor an
// address of ours or one of our subnet broadcasts (the local table).
bool unicast_elsewhere(const Stack& stack, wire::Ipv4Addr a) {
  if (a.is_unspecified() || a.is_broadcast() || a.is_multicast()) return false;
  const auto r = stack.routes().exact(wire::Ipv4Prefix{a, 32});
  return !(r && (r->type == RouteType::kLocal || r->type == RouteType::kBroadcast));
}

constexpr uint8_t kAbsent = 0xff;

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

uint8_t ip_options_record(const Stack& stack, std::span<std::byte> ip, const IpOptions& opt,
                          wire::Ipv4Addr spec_dst, uint32_t now_ms) {
  uint8_t done = 0;
  if (opt.rr != 0) {
    std::byte* o = ip.data() + opt.rr;
    const uint8_t len = at(ip, opt.rr + 1), ptr = at(ip, opt.rr + 2);
    if (ptr <= len) {  // room was checked by ip_options_compile
      put_u32(o + ptr - 1, spec_dst.value());
      o[2] = static_cast<std::byte>(ptr + 4);
      done |= kRecordedRouteAddr | kRecordedChanged;
    }
  }
  if (opt.ts != 0) {
    std::byte* o = ip.data() + opt.ts;
    const uint8_t len = at(ip, opt.ts + 1), ptr = at(ip, opt.ts + 2), flags = at(ip, opt.ts + 3);
    if (ptr <= len) {
      switch (flags & 0xf) {
        case flag_of(Ipv4TimestampFlag::kTimestampOnly):
          put_u32(o + ptr - 1, now_ms);
          o[2] = static_cast<std::byte>(ptr + 4);
          done |= kRecordedChanged;
          break;
        case flag_of(Ipv4TimestampFlag::kWithAddress):
          put_u32(o + ptr - 1, spec_dst.value());
          put_u32(o + ptr + 3, now_ms);
          o[2] = static_cast<std::byte>(ptr + 8);
          done |= kRecordedTimestampAddr | kRecordedChanged;
          break;
        case flag_of(Ipv4TimestampFlag::kPrespecified):
          if (unicast_elsewhere(stack, addr_at(ip, opt.ts + ptr - 1))) break;  // another host's slot
          put_u32(o + ptr + 3, now_ms);
          o[2] = static_cast<std::byte>(ptr + 8);
          done |= kRecordedChanged;
          break;
        default:
          break;  // unknown flags: accepted, left alone
      }
    } else if ((flags & 0xf) != flag_of(Ipv4TimestampFlag::kPrespecified)) {
      o[3] = static_cast<std::byte>((flags & 0xf) | (((flags >> 4) + 1) << 4));  // overflow; 15 was refused
      done |= kRecordedChanged;
    }
  }
  return done;
}

void ip_forward_options(std::span<std::byte> ip, const IpOptions& opt, uint8_t recorded, wire::Ipv4Addr out_src) {
  if ((recorded & kRecordedRouteAddr) != 0) put_u32(ip.data() + opt.rr + at(ip, opt.rr + 2) - 5, out_src.value());
  if ((recorded & kRecordedTimestampAddr) != 0) {
    put_u32(ip.data() + opt.ts + at(ip, opt.ts + 2) - 9, out_src.value());
  }
}

Result<EchoedOptions> ip_options_echo(const Stack& stack, std::span<const std::byte> ip) {
  EchoedOptions d;
  d.rr = d.ts = kAbsent;
  // A header refused by ip_options_compile is answered (parameter problem)
  // with what the kernel had compiled of it when it stopped: the options
  // before the bad one.
  IpOptions sopt;
  (void)ip_options_compile(ip, sopt);
  std::byte* dptr = d.bytes.data();
  if (sopt.rr != 0) {
    const uint8_t len = at(ip, sopt.rr + 1), soffset = at(ip, sopt.rr + 2);
    d.rr = d.len;
    std::memcpy(dptr, ip.data() + sopt.rr, len);
    if (soffset <= len) {
      if (soffset + 3 > len) return std::errc::invalid_argument;
      dptr[2] = static_cast<std::byte>(soffset + 4);
      d.rr_needaddr = true;
    }
    dptr += len;
    d.len = static_cast<uint8_t>(d.len + len);
  }
  if (sopt.ts != 0) {
    const uint8_t len = at(ip, sopt.ts + 1), flag = at(ip, sopt.ts + 3) & 0xf;
    uint8_t soffset = at(ip, sopt.ts + 2);
    d.ts = d.len;
    std::memcpy(dptr, ip.data() + sopt.ts, len);
    if (soffset <= len) {
      if (flag == flag_of(Ipv4TimestampFlag::kWithAddress)) {
        if (soffset + 3 > len) return std::errc::invalid_argument;
        d.ts_needaddr = true;
        soffset = static_cast<uint8_t>(soffset + 4);
      }
      if (flag == flag_of(Ipv4TimestampFlag::kTimestampOnly) || flag == flag_of(Ipv4TimestampFlag::kWithAddress)) {
        if (soffset + 3 > len) return std::errc::invalid_argument;
        d.ts_needtime = true;
        soffset = static_cast<uint8_t>(soffset + 4);
      } else if (flag == flag_of(Ipv4TimestampFlag::kPrespecified) && soffset + 7 <= len &&
                 !unicast_elsewhere(stack, addr_at(ip, sopt.ts + soffset - 1))) {
        d.ts_needtime = true;
        soffset = static_cast<uint8_t>(soffset + 8);
      }
      dptr[2] = static_cast<std::byte>(soffset);
    }
    dptr += len;
    d.len = static_cast<uint8_t>(d.len + len);
  }
  while (d.len & 3) d.bytes[d.len++] = std::byte{0};  // IPOPT_END
  return d;
}

void ip_options_build(std::span<std::byte> ip, const EchoedOptions& opt, wire::Ipv4Addr src, uint32_t now_ms) {
  std::byte* o = ip.data() + kIpv4BaseHeader;
  if (opt.rr_needaddr) put_u32(o + opt.rr + at(ip, kIpv4BaseHeader + opt.rr + 2) - 5, src.value());
  if (opt.ts_needaddr) put_u32(o + opt.ts + at(ip, kIpv4BaseHeader + opt.ts + 2) - 9, src.value());
  if (opt.ts_needtime) put_u32(o + opt.ts + at(ip, kIpv4BaseHeader + opt.ts + 2) - 5, now_ms);
}

}  // namespace xnet::stack
