#pragma once
// ARP (RFC 826). The view checks the generic layout (hardware and protocol
// address lengths from the packet); the address accessors and ArpPacket decode
// the only combination the stack speaks: Ethernet hardware, IPv4 protocol.

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "stack/wire/addr.h"
#include "stack/wire/bytes.h"
#include "stack/wire/error.h"

namespace xnet::wire {

enum class ArpOperation : uint16_t { kRequest = 1, kReply = 2 };

inline constexpr uint16_t kArpHardwareEthernet = 1;

namespace detail::arp {
inline constexpr size_t kHtype = 0, kPtype = 2, kHlen = 4, kPlen = 5, kOper = 6;
// Address block for hlen 6 / plen 4.
inline constexpr size_t kSha = 8, kSpa = 14, kTha = 18, kTpa = 24;
inline constexpr size_t kFixedLen = 8, kEthIpv4Len = 28;
}  // namespace detail::arp

inline constexpr size_t kArpEthIpv4Len = detail::arp::kEthIpv4Len;

template <typename B>
class BasicArpView {
  static_assert(std::is_same_v<std::remove_const_t<B>, std::byte>);
  static constexpr bool kMutable = !std::is_const_v<B>;

 public:
  // kTruncated when shorter than its own address lengths say; kUnsupported
  // when the address lengths are not 6 and 4 (the typed accessors assume them).
  static WireResult<BasicArpView> checked(std::span<B> bytes) {
    using namespace detail::arp;
    if (bytes.size() < kFixedLen) return WireError::kTruncated;
    const size_t hlen = detail::get_u8(bytes.data() + kHlen);
    const size_t plen = detail::get_u8(bytes.data() + kPlen);
    if (bytes.size() < kFixedLen + 2 * (hlen + plen)) return WireError::kTruncated;
    if (hlen != 6 || plen != 4) return WireError::kUnsupported;
    return BasicArpView(bytes);
  }
  static BasicArpView unchecked(std::span<B> bytes) { return BasicArpView(bytes); }
  operator BasicArpView<const std::byte>() const requires kMutable {
    return BasicArpView<const std::byte>::unchecked(b_);
  }

  uint16_t hardware_type() const { return detail::get_be16(p(detail::arp::kHtype)); }
  uint16_t protocol_type() const { return detail::get_be16(p(detail::arp::kPtype)); }
  uint8_t hardware_len() const { return detail::get_u8(p(detail::arp::kHlen)); }
  uint8_t protocol_len() const { return detail::get_u8(p(detail::arp::kPlen)); }
  uint16_t operation() const { return detail::get_be16(p(detail::arp::kOper)); }
  MacAddr sender_mac() const { return mac_at(detail::arp::kSha); }
  Ipv4Addr sender_ip() const { return Ipv4Addr(detail::get_be32(p(detail::arp::kSpa))); }
  MacAddr target_mac() const { return mac_at(detail::arp::kTha); }
  Ipv4Addr target_ip() const { return Ipv4Addr(detail::get_be32(p(detail::arp::kTpa))); }
  std::span<B> bytes() const { return b_; }
  size_t size() const { return b_.size(); }

  void set_hardware_type(uint16_t v) const requires kMutable { detail::set_be16(p(detail::arp::kHtype), v); }
  void set_protocol_type(uint16_t v) const requires kMutable { detail::set_be16(p(detail::arp::kPtype), v); }
  void set_hardware_len(uint8_t v) const requires kMutable { detail::set_u8(p(detail::arp::kHlen), v); }
  void set_protocol_len(uint8_t v) const requires kMutable { detail::set_u8(p(detail::arp::kPlen), v); }
  void set_operation(uint16_t v) const requires kMutable { detail::set_be16(p(detail::arp::kOper), v); }
  void set_sender_mac(MacAddr m) const requires kMutable { set_mac_at(detail::arp::kSha, m); }
  void set_sender_ip(Ipv4Addr a) const requires kMutable { detail::set_be32(p(detail::arp::kSpa), a.value()); }
  void set_target_mac(MacAddr m) const requires kMutable { set_mac_at(detail::arp::kTha, m); }
  void set_target_ip(Ipv4Addr a) const requires kMutable { detail::set_be32(p(detail::arp::kTpa), a.value()); }

 private:
  explicit BasicArpView(std::span<B> b) : b_(b) {}
  B* p(size_t off) const { return b_.data() + off; }
  MacAddr mac_at(size_t off) const { return MacAddr::read(p(off)); }
  void set_mac_at(size_t off, MacAddr m) const requires kMutable { m.write(p(off)); }

  std::span<B> b_;
};

using ArpView = BasicArpView<std::byte>;
using ConstArpView = BasicArpView<const std::byte>;

// An Ethernet/IPv4 ARP message. Operations other than request/reply are kept
// as their number (the stack ignores them, as arp_process does).
struct ArpPacket {
  ArpOperation operation = ArpOperation::kRequest;
  MacAddr sender_mac;
  Ipv4Addr sender_ip;
  MacAddr target_mac;
  Ipv4Addr target_ip;

  // kUnsupported unless hardware type is Ethernet and protocol type IPv4.
  static WireResult<ArpPacket> parse(ConstArpView v);
  static constexpr size_t buffer_len() { return detail::arp::kEthIpv4Len; }
  void emit(ArpView v) const;

  friend bool operator==(const ArpPacket&, const ArpPacket&) = default;
};

}  // namespace xnet::wire
