#pragma once
// Link and network addresses as small value types. Ipv4Addr holds the address
// in host byte order so that comparisons and prefix arithmetic read naturally;
// the views convert at the byte boundary.

#include <array>
#include <bit>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace xnet::wire {

class Ipv4Addr {
 public:
  constexpr Ipv4Addr() = default;
  constexpr explicit Ipv4Addr(uint32_t host_order) : v_(host_order) {}
  constexpr Ipv4Addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
      : v_((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d) {}

  static std::optional<Ipv4Addr> parse(std::string_view text);
  std::string to_string() const;

  constexpr uint32_t value() const { return v_; }
  constexpr bool is_unspecified() const { return v_ == 0; }
  constexpr bool is_broadcast() const { return v_ == 0xffffffffu; }
  constexpr bool is_multicast() const { return (v_ >> 28) == 0xe; }
  constexpr bool is_loopback() const { return (v_ >> 24) == 127; }
  constexpr bool is_class_e() const { return (v_ >> 28) == 0xf && v_ != 0xffffffffu; }
  constexpr bool is_link_local() const { return (v_ >> 16) == 0xa9fe; }

  static constexpr uint32_t prefix_mask(int prefix_len) {
    return prefix_len <= 0 ? 0 : prefix_len >= 32 ? 0xffffffffu : ~((1u << (32 - prefix_len)) - 1);
  }

  friend constexpr auto operator<=>(Ipv4Addr, Ipv4Addr) = default;

 private:
  uint32_t v_ = 0;
};

inline constexpr Ipv4Addr kIpv4Any{};
inline constexpr Ipv4Addr kIpv4Broadcast{0xffffffffu};
// IGMP_ALL_HOSTS: every multicast-capable interface is a member (RFC 1112 §4).
inline constexpr Ipv4Addr kIpv4AllHosts{224, 0, 0, 1};

// "a.b.c.d/len" as used on the command line and in tests.
struct Ipv4Prefix {
  Ipv4Addr addr;
  int len = 32;
  static std::optional<Ipv4Prefix> parse(std::string_view text);
  constexpr uint32_t mask() const { return Ipv4Addr::prefix_mask(len); }
  constexpr Ipv4Addr network() const { return Ipv4Addr(addr.value() & mask()); }
  constexpr Ipv4Addr broadcast() const { return Ipv4Addr(network().value() | ~mask()); }
  constexpr bool contains(Ipv4Addr a) const { return (a.value() & mask()) == network().value(); }
  friend constexpr bool operator==(const Ipv4Prefix&, const Ipv4Prefix&) = default;
};

class MacAddr {
 public:
  constexpr MacAddr() = default;
  constexpr explicit MacAddr(std::array<uint8_t, 6> b) {
    for (size_t i = 0; i < 6; ++i) v_ |= uint64_t{b[i]} << (8 * i);
  }
  // The six bytes at p, as they appear in a frame.
  static MacAddr read(const void* p) {
    MacAddr m;
    if constexpr (std::endian::native == std::endian::little) {
      // Two loads combined in a register (a 6-byte memcpy into the integer
      // went through memory and stalled the load after it).
      uint32_t lo;
      uint16_t hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, static_cast<const std::byte*>(p) + 4, 2);
      m.v_ = lo | (uint64_t{hi} << 32);
    } else {
      std::array<uint8_t, 6> b;
      std::memcpy(b.data(), p, 6);
      m = MacAddr(b);
    }
    return m;
  }
  // Writes the six bytes to p in frame order.
  void write(void* p) const {
    if constexpr (std::endian::native == std::endian::little) {
      const uint32_t lo = static_cast<uint32_t>(v_);
      const uint16_t hi = static_cast<uint16_t>(v_ >> 32);
      std::memcpy(p, &lo, 4);
      std::memcpy(static_cast<std::byte*>(p) + 4, &hi, 2);
    } else {
      const auto b = bytes();
      std::memcpy(p, b.data(), 6);
    }
  }
  static std::optional<MacAddr> parse(std::string_view text);
  std::string to_string() const;

  constexpr std::array<uint8_t, 6> bytes() const {
    std::array<uint8_t, 6> b{};
    for (size_t i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(v_ >> (8 * i));
    return b;
  }
  constexpr bool is_broadcast() const { return v_ == 0xffffffffffffu; }
  constexpr bool is_multicast() const { return (v_ & 1) != 0; }  // I/G bit of the first byte
  constexpr bool is_zero() const { return v_ == 0; }
  // 01:00:5e + low 23 bits of the group (RFC 1112).
  static constexpr MacAddr for_ipv4_multicast(Ipv4Addr group) {
    const uint32_t g = group.value();
    return MacAddr({0x01, 0x00, 0x5e, static_cast<uint8_t>((g >> 16) & 0x7f),
                    static_cast<uint8_t>(g >> 8), static_cast<uint8_t>(g)});
  }
  friend constexpr bool operator==(const MacAddr&, const MacAddr&) = default;
  // Ordered as the byte strings are (first byte most significant).
  friend constexpr std::strong_ordering operator<=>(const MacAddr& a, const MacAddr& b) {
    return a.ordered() <=> b.ordered();
  }

 private:
  constexpr uint64_t ordered() const { return __builtin_bswap64(v_) >> 16; }
  // One integer, byte i of the address in bits 8i..8i+7 (on a little-endian
  // host, the frame's byte order): a MAC read from a frame stays in a
  // register. Held as bytes, GCC split it into six byte stores and compared
  // it by loading them back as one word, a store-forwarding stall that was
  // half of eth_rcv in recv_bench.
  uint64_t v_ = 0;
};

inline constexpr MacAddr kMacBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

}  // namespace xnet::wire
