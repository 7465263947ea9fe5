#include "stack/wire/addr.h"

#include <charconv>
#include <cstdio>

namespace xnet::wire {
namespace {

// Parses a decimal number in [0, max] from the front of text and consumes it.
std::optional<uint32_t> take_number(std::string_view& text, uint32_t max, int base = 10) {
  uint32_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v, base);
  if (ec != std::errc{} || p == text.data() || v > max) return std::nullopt;
  text.remove_prefix(static_cast<size_t>(p - text.data()));
  return v;
}

}  // namespace

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (text.empty() || text.front() != '.') return std::nullopt;
      text.remove_prefix(1);
    }
    auto octet = take_number(text, 255);
    if (!octet) return std::nullopt;
    v = (v << 8) | *octet;
  }
  if (!text.empty()) return std::nullopt;
  return Ipv4Addr(v);
}

std::string Ipv4Addr::to_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", v_ >> 24, (v_ >> 16) & 0xff, (v_ >> 8) & 0xff,
                v_ & 0xff);
  return buf;
}

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) {
  const size_t slash = text.find('/');
  auto addr = Ipv4Addr::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  if (slash == std::string_view::npos) return Ipv4Prefix{*addr, 32};
  std::string_view rest = text.substr(slash + 1);
  auto len = take_number(rest, 32);
  if (!len || !rest.empty()) return std::nullopt;
  return Ipv4Prefix{*addr, static_cast<int>(*len)};
}

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
  std::array<uint8_t, 6> b{};
  for (int i = 0; i < 6; ++i) {
    if (i > 0) {
      if (text.empty() || text.front() != ':') return std::nullopt;
      text.remove_prefix(1);
    }
    if (text.size() < 2) return std::nullopt;
    std::string_view two = text.substr(0, 2);
    auto octet = take_number(two, 255, 16);
    if (!octet || !two.empty()) return std::nullopt;
    text.remove_prefix(2);
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(*octet);
  }
  if (!text.empty()) return std::nullopt;
  return MacAddr(b);
}

std::string MacAddr::to_string() const {
  const auto b = bytes();
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
  return buf;
}

}  // namespace xnet::wire
