#pragma once
// IPv4 header (RFC 791). checked() validates what every accessor relies on
// (version, IHL, total length against the buffer), in the order ip_rcv checks
// them; the checksum and the options are separate steps because they end in
// different counters and, for options, in an ICMP parameter problem.

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

#include "stack/wire/addr.h"
#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"
#include "stack/wire/error.h"
#include "stack/wire/ipv4_options.h"

namespace xnet::wire {

enum class IpProtocol : uint8_t {
  kIcmp = 1,
  kIgmp = 2,
  kTcp = 6,
  kUdp = 17,
};

namespace detail::ipv4 {
inline constexpr size_t kVerIhl = 0, kTos = 1, kTotalLen = 2, kIdent = 4, kFragOff = 6, kTtl = 8,
                        kProtocol = 9, kChecksum = 10, kSrc = 12, kDst = 16, kOptions = 20;
inline constexpr uint16_t kReservedFlag = 0x8000, kDontFrag = 0x4000, kMoreFrags = 0x2000,
                          kOffsetMask = 0x1fff;
}  // namespace detail::ipv4

inline constexpr size_t kIpv4MinHeaderLen = 20;
inline constexpr size_t kIpv4MaxHeaderLen = 60;

template <typename B>
class BasicIpv4View {
  static_assert(std::is_same_v<std::remove_const_t<B>, std::byte>);
  static constexpr bool kMutable = !std::is_const_v<B>;

 public:
  // Errors map onto ip_rcv's counters: kTruncated only when the total length
  // runs past the buffer (InTruncatedPkts); a buffer that ends inside the
  // header, a version other than 4, IHL < 5 (kBadHeaderLength, kBadVersion)
  // and a total length below the header length (kBadLength) are header
  // errors (InHdrErrors). Bytes past the total length (Ethernet padding) are
  // allowed and excluded from payload().
  static WireResult<BasicIpv4View> checked(std::span<B> bytes) {
    using namespace detail::ipv4;
    if (bytes.size() < kIpv4MinHeaderLen) return WireError::kBadHeaderLength;
    const uint8_t vi = detail::get_u8(bytes.data() + kVerIhl);
    if ((vi >> 4) != 4) return WireError::kBadVersion;
    const size_t hl = size_t{vi & 0x0fu} * 4;
    if (hl < kIpv4MinHeaderLen || bytes.size() < hl) return WireError::kBadHeaderLength;
    const size_t total = detail::get_be16(bytes.data() + kTotalLen);
    if (bytes.size() < total) return WireError::kTruncated;
    if (total < hl) return WireError::kBadLength;
    return BasicIpv4View(bytes);
  }
  static BasicIpv4View unchecked(std::span<B> bytes) { return BasicIpv4View(bytes); }
  operator BasicIpv4View<const std::byte>() const requires kMutable {
    return BasicIpv4View<const std::byte>::unchecked(b_);
  }

  uint8_t version() const { return u8(detail::ipv4::kVerIhl) >> 4; }
  size_t header_len() const { return size_t{u8(detail::ipv4::kVerIhl) & 0x0fu} * 4; }
  uint8_t tos() const { return u8(detail::ipv4::kTos); }
  uint8_t dscp() const { return tos() >> 2; }
  uint8_t ecn() const { return tos() & 3; }
  uint16_t total_len() const { return detail::get_be16(p(detail::ipv4::kTotalLen)); }
  uint16_t ident() const { return detail::get_be16(p(detail::ipv4::kIdent)); }
  bool reserved_flag() const { return (frag_field() & detail::ipv4::kReservedFlag) != 0; }
  bool dont_frag() const { return (frag_field() & detail::ipv4::kDontFrag) != 0; }
  bool more_frags() const { return (frag_field() & detail::ipv4::kMoreFrags) != 0; }
  // In bytes (the field counts 8-byte units).
  uint16_t frag_offset() const {
    return static_cast<uint16_t>((frag_field() & detail::ipv4::kOffsetMask) * 8);
  }
  bool is_fragment() const {
    return (frag_field() & (detail::ipv4::kMoreFrags | detail::ipv4::kOffsetMask)) != 0;
  }
  uint8_t ttl() const { return u8(detail::ipv4::kTtl); }
  uint8_t protocol() const { return u8(detail::ipv4::kProtocol); }
  uint16_t checksum() const { return detail::get_be16(p(detail::ipv4::kChecksum)); }
  Ipv4Addr src() const { return Ipv4Addr(detail::get_be32(p(detail::ipv4::kSrc))); }
  Ipv4Addr dst() const { return Ipv4Addr(detail::get_be32(p(detail::ipv4::kDst))); }

  std::span<B> header() const { return b_.first(header_len()); }
  std::span<B> options() const {
    return b_.subspan(detail::ipv4::kOptions, header_len() - detail::ipv4::kOptions);
  }
  Ipv4OptionRange option_range() const { return Ipv4OptionRange(options()); }
  std::span<B> payload() const { return b_.subspan(header_len(), total_len() - header_len()); }
  std::span<B> bytes() const { return b_; }
  size_t size() const { return b_.size(); }

  bool verify_checksum() const { return wire::ip_fast_csum(header()) == 0; }

  // Sets version 4 and IHL from a header length in bytes (a multiple of 4, 20..60).
  void set_header_len(size_t len) const requires kMutable {
    assert(len % 4 == 0 && len >= kIpv4MinHeaderLen && len <= kIpv4MaxHeaderLen);
    set_u8(detail::ipv4::kVerIhl, static_cast<uint8_t>(0x40 | (len / 4)));
  }
  void set_tos(uint8_t v) const requires kMutable { set_u8(detail::ipv4::kTos, v); }
  void set_total_len(uint16_t v) const requires kMutable { detail::set_be16(p(detail::ipv4::kTotalLen), v); }
  void set_ident(uint16_t v) const requires kMutable { detail::set_be16(p(detail::ipv4::kIdent), v); }
  // `offset` in bytes, a multiple of 8. The reserved flag is always written 0.
  void set_frag(bool dont_frag, bool more_frags, uint16_t offset) const requires kMutable {
    assert(offset % 8 == 0);
    const uint16_t v = static_cast<uint16_t>((dont_frag ? detail::ipv4::kDontFrag : 0) |
                                             (more_frags ? detail::ipv4::kMoreFrags : 0) |
                                             ((offset / 8) & detail::ipv4::kOffsetMask));
    detail::set_be16(p(detail::ipv4::kFragOff), v);
  }
  void set_ttl(uint8_t v) const requires kMutable { set_u8(detail::ipv4::kTtl, v); }
  void set_protocol(uint8_t v) const requires kMutable { set_u8(detail::ipv4::kProtocol, v); }
  void set_checksum(uint16_t v) const requires kMutable { detail::set_be16(p(detail::ipv4::kChecksum), v); }
  void set_src(Ipv4Addr a) const requires kMutable { detail::set_be32(p(detail::ipv4::kSrc), a.value()); }
  void set_dst(Ipv4Addr a) const requires kMutable { detail::set_be32(p(detail::ipv4::kDst), a.value()); }
  void fill_checksum() const requires kMutable {
    set_checksum(0);
    set_checksum(wire::ip_fast_csum(header()));
  }
  // ip_decrease_ttl: TTL - 1 with the checksum updated incrementally (RFC 1624).
  void decrement_ttl() const requires kMutable {
    const uint16_t old_word = detail::get_be16(p(detail::ipv4::kTtl));
    set_ttl(static_cast<uint8_t>(ttl() - 1));
    set_checksum(checksum_update16(checksum(), old_word, detail::get_be16(p(detail::ipv4::kTtl))));
  }

 private:
  explicit BasicIpv4View(std::span<B> b) : b_(b) {}
  B* p(size_t off) const { return b_.data() + off; }
  uint8_t u8(size_t off) const { return detail::get_u8(p(off)); }
  void set_u8(size_t off, uint8_t v) const requires kMutable { detail::set_u8(p(off), v); }
  uint16_t frag_field() const { return detail::get_be16(p(detail::ipv4::kFragOff)); }

  std::span<B> b_;
};

using Ipv4View = BasicIpv4View<std::byte>;
using ConstIpv4View = BasicIpv4View<const std::byte>;

// The options area of a decoded header, held by value so the header does not
// point into the packet it came from.
class Ipv4OptionBytes {
 public:
  Ipv4OptionBytes() = default;
  explicit Ipv4OptionBytes(std::span<const std::byte> b) {
    assert(b.size() <= kIpv4MaxOptionsLen);
    len_ = static_cast<uint8_t>(b.size());
    std::memcpy(data_.data(), b.data(), b.size());
  }
  std::span<const std::byte> bytes() const { return {data_.data(), len_}; }
  size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }
  // On the wire the area is padded with EOL to a multiple of 4.
  size_t padded_size() const { return (size_t{len_} + 3) & ~size_t{3}; }
  friend bool operator==(const Ipv4OptionBytes& a, const Ipv4OptionBytes& b) {
    return a.len_ == b.len_ && std::memcmp(a.data_.data(), b.data_.data(), a.len_) == 0;
  }

 private:
  std::array<std::byte, kIpv4MaxOptionsLen> data_{};
  uint8_t len_ = 0;
};

enum class ChecksumCheck : uint8_t { kVerify, kIgnore };
enum class ChecksumFill : uint8_t { kFill, kSkip };

struct Ipv4Header {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t protocol = 0;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t ident = 0;
  bool dont_frag = false;
  bool more_frags = false;
  uint16_t frag_offset = 0;  // bytes
  uint16_t payload_len = 0;  // total length minus header length
  Ipv4OptionBytes options;   // validated by the receive path (ip_options_compile)

  // kBadChecksum when asked to verify and the header does not sum to zero.
  // The options are copied, not validated.
  static WireResult<Ipv4Header> parse(ConstIpv4View v, ChecksumCheck check = ChecksumCheck::kVerify);
  size_t buffer_len() const { return kIpv4MinHeaderLen + options.padded_size(); }
  // Writes buffer_len() bytes (total length = buffer_len() + payload_len) and
  // the header checksum unless told not to (a device or a later stage fills it).
  void emit(Ipv4View v, ChecksumFill fill = ChecksumFill::kFill) const;

  friend bool operator==(const Ipv4Header&, const Ipv4Header&) = default;
};

}  // namespace xnet::wire
