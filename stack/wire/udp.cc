#include "stack/wire/udp.h"

namespace xnet::wire {

WireResult<UdpHeader> UdpHeader::parse(ConstUdpView v) {
  return UdpHeader{v.src_port(), v.dst_port(), static_cast<uint16_t>(v.length() - kUdpHeaderLen)};
}

WireResult<UdpHeader> UdpHeader::parse(ConstUdpView v, Ipv4Addr src, Ipv4Addr dst) {
  if (!v.verify_checksum(src, dst)) return WireError::kBadChecksum;
  return parse(v);
}

void UdpHeader::emit(UdpView v, Ipv4Addr src, Ipv4Addr dst, UdpChecksum mode) const {
  const size_t len = kUdpHeaderLen + payload_len;
  assert(len <= 0xffff);
  assert(v.size() >= (mode == UdpChecksum::kFull ? len : kUdpHeaderLen));
  v.set_src_port(src_port);
  v.set_dst_port(dst_port);
  v.set_length(static_cast<uint16_t>(len));
  switch (mode) {
    case UdpChecksum::kFull: v.fill_checksum(src, dst); break;
    case UdpChecksum::kPartial: v.fill_pseudo_checksum(src, dst); break;
    case UdpChecksum::kNone: v.set_checksum(0); break;
  }
}

}  // namespace xnet::wire
