#include "stack/wire/icmp.h"

#include <algorithm>
#include <cstring>

namespace xnet::wire {

WireResult<IcmpPacket> IcmpPacket::parse(ConstIcmpView v, ChecksumCheck check) {
  if (check == ChecksumCheck::kVerify && !v.verify_checksum()) return WireError::kBadChecksum;
  const auto data = v.data();
  switch (static_cast<IcmpType>(v.type())) {
    case IcmpType::kEchoRequest:
    case IcmpType::kEchoReply:
      return IcmpPacket{IcmpEcho{v.type() == static_cast<uint8_t>(IcmpType::kEchoReply),
                                 v.echo_ident(), v.echo_seq(), data}};
    case IcmpType::kDestUnreachable: {
      const auto code = static_cast<IcmpUnreachCode>(v.code());
      return IcmpPacket{IcmpDestUnreachable{
          code, code == IcmpUnreachCode::kFragNeeded ? v.next_hop_mtu() : uint16_t{0}, data}};
    }
    case IcmpType::kTimeExceeded:
      return IcmpPacket{IcmpTimeExceeded{static_cast<IcmpTimeExceededCode>(v.code()), data}};
    case IcmpType::kParameterProblem:
      return IcmpPacket{
          IcmpParameterProblem{static_cast<IcmpParamProblemCode>(v.code()), v.pointer(), data}};
    case IcmpType::kRedirect:
      return IcmpPacket{IcmpRedirect{static_cast<IcmpRedirectCode>(v.code()), v.gateway(), data}};
    default:
      return IcmpPacket{IcmpOther{v.type(), v.code(), v.rest_of_header(), data}};
  }
}

std::span<const std::byte> IcmpPacket::data() const {
  return std::visit(
      [](const auto& m) -> std::span<const std::byte> {
        if constexpr (requires { m.quote; }) {
          return m.quote;
        } else {
          return m.data;
        }
      },
      message);
}

void IcmpPacket::emit(IcmpView v) const {
  assert(v.size() >= buffer_len());
  const auto d = data();
  // memmove: an error may be built in place over the datagram it quotes.
  if (!d.empty()) std::memmove(v.bytes().data() + kIcmpHeaderLen, d.data(), d.size());
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, IcmpEcho>) {
          v.set_type(static_cast<uint8_t>(m.reply ? IcmpType::kEchoReply : IcmpType::kEchoRequest));
          v.set_code(0);
          v.set_echo_ident(m.ident);
          v.set_echo_seq(m.seq);
        } else if constexpr (std::is_same_v<M, IcmpDestUnreachable>) {
          v.set_type(static_cast<uint8_t>(IcmpType::kDestUnreachable));
          v.set_code(static_cast<uint8_t>(m.code));
          v.set_next_hop_mtu(m.code == IcmpUnreachCode::kFragNeeded ? m.next_hop_mtu : 0);
        } else if constexpr (std::is_same_v<M, IcmpTimeExceeded>) {
          v.set_type(static_cast<uint8_t>(IcmpType::kTimeExceeded));
          v.set_code(static_cast<uint8_t>(m.code));
          v.set_rest_of_header(0);
        } else if constexpr (std::is_same_v<M, IcmpParameterProblem>) {
          v.set_type(static_cast<uint8_t>(IcmpType::kParameterProblem));
          v.set_code(static_cast<uint8_t>(m.code));
          v.set_pointer(m.pointer);
        } else if constexpr (std::is_same_v<M, IcmpRedirect>) {
          v.set_type(static_cast<uint8_t>(IcmpType::kRedirect));
          v.set_code(static_cast<uint8_t>(m.code));
          v.set_gateway(m.gateway);
        } else {
          v.set_type(m.type);
          v.set_code(m.code);
          v.set_rest_of_header(m.rest_of_header);
        }
      },
      message);
  IcmpView::unchecked(v.bytes().first(buffer_len())).fill_checksum();
}

std::span<const std::byte> icmp_quote(ConstIpv4View datagram, size_t room) {
  const auto whole = datagram.bytes().first(datagram.total_len());
  return whole.first(std::min(whole.size(), room));
}

bool icmp_error_allowed_for(ConstIpv4View d) {
  if (d.frag_offset() != 0) return false;
  if (d.dst().is_broadcast() || d.dst().is_multicast()) return false;
  const Ipv4Addr s = d.src();
  if (s.is_unspecified() || s.is_broadcast() || s.is_multicast() || s.is_class_e()) {
    return false;
  }
  if (d.protocol() == static_cast<uint8_t>(IpProtocol::kIcmp)) {
    const auto payload = d.payload();
    // Types past the last one RFC 792/950 assign (18, address mask reply) are
    // treated as errors, as icmp_send does.
    constexpr uint8_t kLastAssignedType = 18;
    if (payload.empty()) return false;
    const uint8_t type = std::to_integer<uint8_t>(payload[0]);
    if (icmp_is_error(type) || type > kLastAssignedType) {
      return false;
    }
  }
  return true;
}

WireResult<IcmpQuotedDatagram> IcmpQuotedDatagram::parse(std::span<const std::byte> quote) {
  if (quote.size() < kIpv4MinHeaderLen) return WireError::kTruncated;
  const uint8_t vi = std::to_integer<uint8_t>(quote[0]);
  if ((vi >> 4) != 4) return WireError::kBadVersion;
  const size_t hl = size_t{vi & 0x0fu} * 4;
  if (hl < kIpv4MinHeaderLen) return WireError::kBadHeaderLength;
  if (quote.size() < hl + 8) return WireError::kTruncated;
  // The quoted total length may exceed the quote: read fields directly.
  const auto h = ConstIpv4View::unchecked(quote.first(hl));
  IcmpQuotedDatagram q;
  q.src = h.src();
  q.dst = h.dst();
  q.protocol = h.protocol();
  q.ip_header = quote.first(hl);
  q.transport = quote.subspan(hl);
  return q;
}

}  // namespace xnet::wire
