#pragma once
// UDP header (RFC 768). The checksum covers an IPv4 pseudo-header, so the
// checksum helpers take the addresses; a stored 0 means "no checksum" and a
// computed 0 is sent as 0xffff.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "stack/wire/addr.h"
#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"
#include "stack/wire/error.h"
#include "stack/wire/ipv4.h"

namespace xnet::wire {

namespace detail::udp {
inline constexpr size_t kSrcPort = 0, kDstPort = 2, kLength = 4, kChecksum = 6;
}  // namespace detail::udp

inline constexpr size_t kUdpHeaderLen = 8;
// Where the checksum field sits (offsetof(struct udphdr, check)): what a
// CHECKSUM_PARTIAL packet tells the device to fill.
inline constexpr size_t kUdpChecksumOffset = detail::udp::kChecksum;

template <typename B>
class BasicUdpView {
  static_assert(std::is_same_v<std::remove_const_t<B>, std::byte>);
  static constexpr bool kMutable = !std::is_const_v<B>;

 public:
  // kTruncated: fewer than 8 bytes, or fewer than the length field says;
  // kBadLength: a length field below 8. Bytes past the length are ignored.
  static WireResult<BasicUdpView> checked(std::span<B> bytes) {
    if (bytes.size() < kUdpHeaderLen) return WireError::kTruncated;
    const size_t len = detail::get_be16(bytes.data() + detail::udp::kLength);
    if (len < kUdpHeaderLen) return WireError::kBadLength;
    if (bytes.size() < len) return WireError::kTruncated;
    return BasicUdpView(bytes);
  }
  static BasicUdpView unchecked(std::span<B> bytes) { return BasicUdpView(bytes); }
  operator BasicUdpView<const std::byte>() const requires kMutable {
    return BasicUdpView<const std::byte>::unchecked(b_);
  }

  uint16_t src_port() const { return detail::get_be16(p(detail::udp::kSrcPort)); }
  uint16_t dst_port() const { return detail::get_be16(p(detail::udp::kDstPort)); }
  uint16_t length() const { return detail::get_be16(p(detail::udp::kLength)); }
  uint16_t checksum() const { return detail::get_be16(p(detail::udp::kChecksum)); }
  std::span<B> payload() const { return b_.subspan(kUdpHeaderLen, length() - kUdpHeaderLen); }
  std::span<B> datagram() const { return b_.first(length()); }
  std::span<B> bytes() const { return b_; }
  size_t size() const { return b_.size(); }

  // Sum over the pseudo-header and the datagram; true for "no checksum".
  bool verify_checksum(Ipv4Addr src, Ipv4Addr dst) const {
    if (checksum() == 0) return true;
    const uint32_t pseudo = pseudo_header_sum(src, dst, static_cast<uint8_t>(IpProtocol::kUdp), length());
    return checksum_fold(checksum_partial(datagram(), pseudo)) == 0xffff;
  }

  void set_src_port(uint16_t v) const requires kMutable { detail::set_be16(p(detail::udp::kSrcPort), v); }
  void set_dst_port(uint16_t v) const requires kMutable { detail::set_be16(p(detail::udp::kDstPort), v); }
  void set_length(uint16_t v) const requires kMutable { detail::set_be16(p(detail::udp::kLength), v); }
  void set_checksum(uint16_t v) const requires kMutable { detail::set_be16(p(detail::udp::kChecksum), v); }
  // Over header and payload as they are now (payload already in place).
  void fill_checksum(Ipv4Addr src, Ipv4Addr dst) const requires kMutable {
    set_checksum(0);
    const uint32_t pseudo = pseudo_header_sum(src, dst, static_cast<uint8_t>(IpProtocol::kUdp), length());
    set_checksum_from_sum(checksum_partial(datagram(), pseudo));
  }
  // From a partial sum over the pseudo-header, this header (its checksum field
  // 0) and the payload, taken piecewise by the caller: complemented, and a
  // result of 0 sent as 0xffff (0 means "no checksum").
  void set_checksum_from_sum(uint32_t sum) const requires kMutable {
    const uint16_t c = static_cast<uint16_t>(~checksum_fold(sum));
    set_checksum(c == 0 ? 0xffff : c);
  }
  // CHECKSUM_PARTIAL: only the folded pseudo-header sum, for a device (or
  // checksum_help) to finish over the whole datagram.
  void fill_pseudo_checksum(Ipv4Addr src, Ipv4Addr dst) const requires kMutable {
    set_checksum(checksum_fold(pseudo_header_sum(src, dst, static_cast<uint8_t>(IpProtocol::kUdp), length())));
  }

 private:
  explicit BasicUdpView(std::span<B> b) : b_(b) {}
  B* p(size_t off) const { return b_.data() + off; }

  std::span<B> b_;
};

using UdpView = BasicUdpView<std::byte>;
using ConstUdpView = BasicUdpView<const std::byte>;

// What emit does with the checksum field.
enum class UdpChecksum : uint8_t {
  kFull,     // computed over pseudo-header, header and payload (payload must be in place)
  kPartial,  // pseudo-header sum only, finished by the device
  kNone,     // 0: no checksum (RFC 768 allows it over IPv4)
};

struct UdpHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t payload_len = 0;

  // With addresses the checksum is verified (kBadChecksum); a stored 0 passes.
  static WireResult<UdpHeader> parse(ConstUdpView v);
  static WireResult<UdpHeader> parse(ConstUdpView v, Ipv4Addr src, Ipv4Addr dst);
  static constexpr size_t buffer_len() { return kUdpHeaderLen; }
  // Writes the 8-byte header at the start of `v`; for kFull, `v` must also
  // hold the payload_len payload bytes that follow.
  void emit(UdpView v, Ipv4Addr src, Ipv4Addr dst, UdpChecksum mode = UdpChecksum::kFull) const;

  friend bool operator==(const UdpHeader&, const UdpHeader&) = default;
};

}  // namespace xnet::wire
