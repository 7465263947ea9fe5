// ip_options_compile: the checks of the kernel's __ip_options_compile for a
// received packet, in its order, with its parameter-problem pointers.

#include "stack/ipv4/ip_options.h"

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

}  // namespace xnet::stack
