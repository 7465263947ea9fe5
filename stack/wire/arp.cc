#include "stack/wire/arp.h"

#include "stack/wire/ethernet.h"

namespace xnet::wire {

WireResult<ArpPacket> ArpPacket::parse(ConstArpView v) {
  if (v.hardware_type() != kArpHardwareEthernet ||
      v.protocol_type() != static_cast<uint16_t>(EtherType::kIpv4)) {
    return WireError::kUnsupported;
  }
  ArpPacket a;
  a.operation = static_cast<ArpOperation>(v.operation());
  a.sender_mac = v.sender_mac();
  a.sender_ip = v.sender_ip();
  a.target_mac = v.target_mac();
  a.target_ip = v.target_ip();
  return a;
}

void ArpPacket::emit(ArpView v) const {
  assert(v.size() >= buffer_len());
  v.set_hardware_type(kArpHardwareEthernet);
  v.set_protocol_type(static_cast<uint16_t>(EtherType::kIpv4));
  v.set_hardware_len(6);
  v.set_protocol_len(4);
  v.set_operation(static_cast<uint16_t>(operation));
  v.set_sender_mac(sender_mac);
  v.set_sender_ip(sender_ip);
  v.set_target_mac(target_mac);
  v.set_target_ip(target_ip);
}

}  // namespace xnet::wire
