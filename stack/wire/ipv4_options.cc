#include "stack/wire/ipv4_options.h"

namespace xnet::wire {
namespace {

constexpr size_t kFixedHeaderLen = 20;

uint8_t at(std::span<const std::byte> s, size_t i) { return std::to_integer<uint8_t>(s[i]); }

Ipv4OptionError fail(Ipv4OptionProblem problem, size_t header_offset) {
  return {problem, static_cast<uint8_t>(header_offset)};
}

}  // namespace

void Ipv4OptionRange::iterator::settle() {
  if (pos_ >= opts_.size()) {
    pos_ = kEnd;
    return;
  }
  const uint8_t type = at(opts_, pos_);
  size_t len = 1;
  if (type == static_cast<uint8_t>(Ipv4OptionType::kEol)) {
    pos_ = kEnd;
    return;
  }
  if (type != static_cast<uint8_t>(Ipv4OptionType::kNop)) {
    if (opts_.size() - pos_ < 2) {
      pos_ = kEnd;
      return;
    }
    len = at(opts_, pos_ + 1);
    if (len < 2 || len > opts_.size() - pos_) {
      pos_ = kEnd;
      return;
    }
  }
  current_ = {type, static_cast<uint8_t>(kFixedHeaderLen + pos_), opts_.subspan(pos_, len)};
}

WireResult<Ipv4OptionsSummary, Ipv4OptionError> validate_ipv4_options(
    std::span<const std::byte> opts) {
  if (opts.size() > kIpv4MaxOptionsLen) return fail(Ipv4OptionProblem::kBadLength, 0);
  Ipv4OptionsSummary found;
  size_t i = 0;
  while (i < opts.size()) {
    const uint8_t type = at(opts, i);
    const size_t base = kFixedHeaderLen + i;  // the option's type octet, in header terms
    if (type == static_cast<uint8_t>(Ipv4OptionType::kEol)) break;  // the rest is padding
    if (type == static_cast<uint8_t>(Ipv4OptionType::kNop)) {
      ++i;
      continue;
    }
    if (opts.size() - i < 2) return fail(Ipv4OptionProblem::kTruncated, base);
    const size_t len = at(opts, i + 1);
    if (len < 2 || len > opts.size() - i) return fail(Ipv4OptionProblem::kBadLength, base);

    switch (static_cast<Ipv4OptionType>(type)) {
      case Ipv4OptionType::kRecordRoute:
      case Ipv4OptionType::kLsrr:
      case Ipv4OptionType::kSsrr: {
        const bool rr = type == static_cast<uint8_t>(Ipv4OptionType::kRecordRoute);
        // RFC 1812 §5.2.4.1: more than one source route is an error.
        if (rr ? found.record_route != 0 : found.source_route != 0) {
          return fail(Ipv4OptionProblem::kDuplicate, base);
        }
        if (len < 3) return fail(Ipv4OptionProblem::kBadLength, base + 1);
        const size_t ptr = at(opts, i + 2);
        // The pointer counts from the option's type octet (1-based); the first
        // address slot is at 4. A pointer past the end means "full".
        if (ptr < 4) return fail(Ipv4OptionProblem::kBadPointer, base + 2);
        if (ptr <= len && ptr + 3 > len) return fail(Ipv4OptionProblem::kBadPointer, base + 2);
        if (rr) {
          found.record_route = static_cast<uint8_t>(base);
        } else {
          found.source_route = static_cast<uint8_t>(base);
          found.strict_route = type == static_cast<uint8_t>(Ipv4OptionType::kSsrr);
        }
        break;
      }
      case Ipv4OptionType::kTimestamp: {
        if (found.timestamp != 0) return fail(Ipv4OptionProblem::kDuplicate, base);
        if (len < 4) return fail(Ipv4OptionProblem::kBadLength, base + 1);
        const size_t ptr = at(opts, i + 2);
        if (ptr < 5) return fail(Ipv4OptionProblem::kBadPointer, base + 2);
        const uint8_t flag = at(opts, i + 3) & 0x0f;
        const uint8_t overflow = at(opts, i + 3) >> 4;
        if (ptr <= len) {
          // Room left: the next slot must be whole for the kind of entry.
          size_t slot;
          switch (static_cast<Ipv4TimestampFlag>(flag)) {
            case Ipv4TimestampFlag::kTimestampOnly: slot = 4; break;
            case Ipv4TimestampFlag::kWithAddress:
            case Ipv4TimestampFlag::kPrespecified: slot = 8; break;
            default: return fail(Ipv4OptionProblem::kBadTimestampFlag, base + 3);
          }
          if (ptr + slot - 1 > len) return fail(Ipv4OptionProblem::kBadPointer, base + 2);
        } else if (flag != static_cast<uint8_t>(Ipv4TimestampFlag::kPrespecified) &&
                   overflow == 15) {
          // Full: a module that cannot add its stamp bumps the counter,
          // and a counter that would wrap is an error (RFC 791 p. 22).
          return fail(Ipv4OptionProblem::kTimestampOverflow, base + 3);
        }
        found.timestamp = static_cast<uint8_t>(base);
        break;
      }
      case Ipv4OptionType::kRouterAlert:
        if (len != 4) return fail(Ipv4OptionProblem::kBadLength, base + 1);
        if (at(opts, i + 2) == 0 && at(opts, i + 3) == 0) found.router_alert = static_cast<uint8_t>(base);
        break;
      case Ipv4OptionType::kSecurity:
        if (len != 11) return fail(Ipv4OptionProblem::kBadLength, base + 1);
        found.security = static_cast<uint8_t>(base);
        break;
      case Ipv4OptionType::kStreamId:
        if (len != 4) return fail(Ipv4OptionProblem::kBadLength, base + 1);
        break;
      default:
        break;  // RFC 1122 §3.2.1.8: ignore options not understood
    }
    i += len;
  }
  return found;
}

}  // namespace xnet::wire
