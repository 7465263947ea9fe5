#pragma once
// ICMP for IPv4 (RFC 792; next-hop MTU RFC 1191; error rules RFC 1122 §3.2.2
// and RFC 1812 §4.3.2). The view covers the whole ICMP message (the IP
// payload), since the checksum does.

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <variant>

#include "stack/wire/addr.h"
#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"
#include "stack/wire/error.h"
#include "stack/wire/ipv4.h"

namespace xnet::wire {

enum class IcmpType : uint8_t {
  kEchoReply = 0,
  kDestUnreachable = 3,
  kSourceQuench = 4,
  kRedirect = 5,
  kEchoRequest = 8,
  kTimeExceeded = 11,
  kParameterProblem = 12,
  kTimestamp = 13,
  kTimestampReply = 14,
  kAddressMaskRequest = 17,
  kAddressMaskReply = 18,
};

enum class IcmpUnreachCode : uint8_t {
  kNet = 0,
  kHost = 1,
  kProtocol = 2,
  kPort = 3,
  kFragNeeded = 4,  // carries the next-hop MTU
  kSourceRouteFailed = 5,
  kNetUnknown = 6,
  kHostUnknown = 7,
  kHostIsolated = 8,
  kNetProhibited = 9,
  kHostProhibited = 10,
  kNetTos = 11,
  kHostTos = 12,
  kAdminProhibited = 13,
  kPrecedenceViolation = 14,
  kPrecedenceCutoff = 15,
};

enum class IcmpTimeExceededCode : uint8_t { kTtl = 0, kReassembly = 1 };
enum class IcmpParamProblemCode : uint8_t { kPointer = 0, kMissingOption = 1, kBadLength = 2 };
enum class IcmpRedirectCode : uint8_t { kNet = 0, kHost = 1, kTosNet = 2, kTosHost = 3 };

// Error messages quote a datagram and must never be answered with another error.
constexpr bool icmp_is_error(uint8_t type) {
  switch (static_cast<IcmpType>(type)) {
    case IcmpType::kDestUnreachable:
    case IcmpType::kSourceQuench:
    case IcmpType::kRedirect:
    case IcmpType::kTimeExceeded:
    case IcmpType::kParameterProblem:
      return true;
    default:
      return false;
  }
}

namespace detail::icmp {
inline constexpr size_t kType = 0, kCode = 1, kChecksum = 2, kRest = 4, kData = 8;
// Inside the rest-of-header word, per message type.
inline constexpr size_t kIdent = 4, kSeq = 6, kMtu = 6, kPointer = 4, kGateway = 4;
// Timestamp / timestamp reply (RFC 792): three 32-bit times after the header.
inline constexpr size_t kOriginate = 8, kReceive = 12, kTransmit = 16;
}  // namespace detail::icmp

inline constexpr size_t kIcmpHeaderLen = 8;
// A timestamp message: the header and the three times.
inline constexpr size_t kIcmpTimestampLen = 20;

template <typename B>
class BasicIcmpView {
  static_assert(std::is_same_v<std::remove_const_t<B>, std::byte>);
  static constexpr bool kMutable = !std::is_const_v<B>;

 public:
  static WireResult<BasicIcmpView> checked(std::span<B> bytes) {
    if (bytes.size() < kIcmpHeaderLen) return WireError::kTruncated;
    return BasicIcmpView(bytes);
  }
  static BasicIcmpView unchecked(std::span<B> bytes) { return BasicIcmpView(bytes); }
  operator BasicIcmpView<const std::byte>() const requires kMutable {
    return BasicIcmpView<const std::byte>::unchecked(b_);
  }

  uint8_t type() const { return detail::get_u8(p(detail::icmp::kType)); }
  uint8_t code() const { return detail::get_u8(p(detail::icmp::kCode)); }
  uint16_t checksum() const { return detail::get_be16(p(detail::icmp::kChecksum)); }
  uint32_t rest_of_header() const { return detail::get_be32(p(detail::icmp::kRest)); }
  // Echo / echo reply.
  uint16_t echo_ident() const { return detail::get_be16(p(detail::icmp::kIdent)); }
  uint16_t echo_seq() const { return detail::get_be16(p(detail::icmp::kSeq)); }
  // Destination unreachable, fragmentation needed (0 from pre-RFC 1191 routers).
  uint16_t next_hop_mtu() const { return detail::get_be16(p(detail::icmp::kMtu)); }
  // Parameter problem: the offending octet of the quoted header.
  uint8_t pointer() const { return detail::get_u8(p(detail::icmp::kPointer)); }
  // Redirect: the better first hop.
  Ipv4Addr gateway() const { return Ipv4Addr(detail::get_be32(p(detail::icmp::kGateway))); }
  // Timestamp / timestamp reply: milliseconds since midnight UT (RFC 792).
  // Only for a view of at least kIcmpTimestampLen bytes.
  uint32_t originate_timestamp() const { return detail::get_be32(p(detail::icmp::kOriginate)); }
  uint32_t receive_timestamp() const { return detail::get_be32(p(detail::icmp::kReceive)); }
  uint32_t transmit_timestamp() const { return detail::get_be32(p(detail::icmp::kTransmit)); }
  // Echo payload, or the quoted datagram of an error.
  std::span<B> data() const { return b_.subspan(kIcmpHeaderLen); }
  std::span<B> bytes() const { return b_; }
  size_t size() const { return b_.size(); }

  bool verify_checksum() const { return wire::checksum(b_) == 0; }

  void set_type(uint8_t v) const requires kMutable { detail::set_u8(p(detail::icmp::kType), v); }
  void set_code(uint8_t v) const requires kMutable { detail::set_u8(p(detail::icmp::kCode), v); }
  void set_checksum(uint16_t v) const requires kMutable { detail::set_be16(p(detail::icmp::kChecksum), v); }
  void set_rest_of_header(uint32_t v) const requires kMutable { detail::set_be32(p(detail::icmp::kRest), v); }
  void set_echo_ident(uint16_t v) const requires kMutable { detail::set_be16(p(detail::icmp::kIdent), v); }
  void set_echo_seq(uint16_t v) const requires kMutable { detail::set_be16(p(detail::icmp::kSeq), v); }
  // The unused half-word before the MTU must be zero (RFC 1191 §4).
  void set_next_hop_mtu(uint16_t v) const requires kMutable {
    detail::set_be16(p(detail::icmp::kRest), 0);
    detail::set_be16(p(detail::icmp::kMtu), v);
  }
  void set_pointer(uint8_t v) const requires kMutable {
    set_rest_of_header(uint32_t{v} << 24);
  }
  void set_gateway(Ipv4Addr a) const requires kMutable { detail::set_be32(p(detail::icmp::kGateway), a.value()); }
  void set_originate_timestamp(uint32_t ms) const requires kMutable {
    detail::set_be32(p(detail::icmp::kOriginate), ms);
  }
  void set_receive_timestamp(uint32_t ms) const requires kMutable {
    detail::set_be32(p(detail::icmp::kReceive), ms);
  }
  void set_transmit_timestamp(uint32_t ms) const requires kMutable {
    detail::set_be32(p(detail::icmp::kTransmit), ms);
  }
  // Over the whole message as it is now.
  void fill_checksum() const requires kMutable {
    set_checksum(0);
    set_checksum(wire::checksum(b_));
  }

 private:
  explicit BasicIcmpView(std::span<B> b) : b_(b) {}
  B* p(size_t off) const { return b_.data() + off; }

  std::span<B> b_;
};

using IcmpView = BasicIcmpView<std::byte>;
using ConstIcmpView = BasicIcmpView<const std::byte>;

// Decoded messages. Spans point into the buffer they were parsed from (or,
// for emit, at the bytes to copy behind the header).
struct IcmpEcho {
  bool reply = false;
  uint16_t ident = 0;
  uint16_t seq = 0;
  std::span<const std::byte> data;
};
struct IcmpDestUnreachable {
  IcmpUnreachCode code = IcmpUnreachCode::kPort;
  uint16_t next_hop_mtu = 0;  // kFragNeeded only
  std::span<const std::byte> quote;
};
struct IcmpTimeExceeded {
  IcmpTimeExceededCode code = IcmpTimeExceededCode::kTtl;
  std::span<const std::byte> quote;
};
struct IcmpParameterProblem {
  IcmpParamProblemCode code = IcmpParamProblemCode::kPointer;
  uint8_t pointer = 0;
  std::span<const std::byte> quote;
};
struct IcmpRedirect {
  IcmpRedirectCode code = IcmpRedirectCode::kHost;
  Ipv4Addr gateway;
  std::span<const std::byte> quote;
};
// Anything else (timestamp, source quench, unassigned), kept raw.
struct IcmpOther {
  uint8_t type = 0;
  uint8_t code = 0;
  uint32_t rest_of_header = 0;
  std::span<const std::byte> data;
};

struct IcmpPacket {
  std::variant<IcmpEcho, IcmpDestUnreachable, IcmpTimeExceeded, IcmpParameterProblem,
               IcmpRedirect, IcmpOther>
      message;

  // kBadChecksum when verifying and the message does not sum to zero.
  static WireResult<IcmpPacket> parse(ConstIcmpView v, ChecksumCheck check = ChecksumCheck::kVerify);
  size_t buffer_len() const { return kIcmpHeaderLen + data().size(); }
  std::span<const std::byte> data() const;
  // Writes buffer_len() bytes (header, then the data or quote, which may
  // overlap the destination) and the checksum.
  void emit(IcmpView v) const;
};

// RFC 1812 §4.3.2.3: an error carries as much of the offending datagram as
// fits in a 576-byte IP datagram (icmp_send's "room").
inline constexpr size_t kIcmpErrorMaxDatagram = 576;

// How many bytes of the offending datagram an error sent over a path with
// `mtu` may quote, given the error's own IP header length.
constexpr size_t icmp_error_room(size_t mtu, size_t ip_header_len = kIpv4MinHeaderLen) {
  const size_t cap = mtu < kIcmpErrorMaxDatagram ? mtu : kIcmpErrorMaxDatagram;
  return cap > ip_header_len + kIcmpHeaderLen ? cap - ip_header_len - kIcmpHeaderLen : 0;
}

// The prefix of `datagram` (from its IP header on, up to its total length)
// an error quotes.
std::span<const std::byte> icmp_quote(ConstIpv4View datagram, size_t room);

// RFC 1122 §3.2.2 rules visible in the datagram itself: no error about an
// ICMP error, a non-first fragment, a limited-broadcast or multicast
// destination, or a source that names no single host. Link-level broadcast
// and directed broadcast need the stack's knowledge and are checked there.
bool icmp_error_allowed_for(ConstIpv4View datagram);

// The datagram quoted by a received error: its IP header (which may announce
// more bytes than were quoted) and at least 8 bytes of its transport header,
// which identify the socket (RFC 792: "64 bits of the original datagram").
struct IcmpQuotedDatagram {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint8_t protocol = 0;
  std::span<const std::byte> ip_header;
  std::span<const std::byte> transport;  // 8 bytes or more

  // kTruncated when the quote stops before header + 8; kBadVersion /
  // kBadHeaderLength for a quote that is not an IPv4 header.
  static WireResult<IcmpQuotedDatagram> parse(std::span<const std::byte> quote);
};

}  // namespace xnet::wire
