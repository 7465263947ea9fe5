#pragma once
// Link and network addresses as small value types. Ipv4Addr holds the address
// in host byte order so that comparisons and prefix arithmetic read naturally;
// the views convert at the byte boundary.

#include <array>
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
  constexpr explicit MacAddr(std::array<uint8_t, 6> b) : b_(b) {}
  static std::optional<MacAddr> parse(std::string_view text);
  std::string to_string() const;

  constexpr const std::array<uint8_t, 6>& bytes() const { return b_; }
  constexpr bool is_broadcast() const {
    for (uint8_t x : b_) if (x != 0xff) return false;
    return true;
  }
  constexpr bool is_multicast() const { return (b_[0] & 1) != 0; }
  constexpr bool is_zero() const {
    for (uint8_t x : b_) if (x != 0) return false;
    return true;
  }
  // 01:00:5e + low 23 bits of the group (RFC 1112).
  static constexpr MacAddr for_ipv4_multicast(Ipv4Addr group) {
    const uint32_t g = group.value();
    return MacAddr({0x01, 0x00, 0x5e, static_cast<uint8_t>((g >> 16) & 0x7f),
                    static_cast<uint8_t>(g >> 8), static_cast<uint8_t>(g)});
  }
  // Compared as one integer: the bytes of a MAC just read from a frame sit in
  // a register, and a byte-wise compare spills them and reloads them wider
  // (a store-forwarding stall: ~60% of eth_rcv in rx_bench).
  friend constexpr bool operator==(const MacAddr& a, const MacAddr& b) { return a.as_u64() == b.as_u64(); }
  friend constexpr auto operator<=>(const MacAddr&, const MacAddr&) = default;

 private:
  constexpr uint64_t as_u64() const {
    uint64_t v = 0;
    if (std::is_constant_evaluated()) {
      for (int i = 5; i >= 0; --i) v = (v << 8) | b_[static_cast<size_t>(i)];
    } else {
      std::memcpy(&v, b_.data(), b_.size());  // one load (GCC keeps the loop a loop)
    }
    return v;
  }
  std::array<uint8_t, 6> b_{};
};

inline constexpr MacAddr kMacBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

}  // namespace xnet::wire
