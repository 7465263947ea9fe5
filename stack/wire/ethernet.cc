#include "stack/wire/ethernet.h"

namespace xnet::wire {

EthernetHeader EthernetHeader::parse(ConstEthernetView v) {
  EthernetHeader h;
  h.dst = v.dst();
  h.src = v.src();
  h.ethertype = v.payload_ethertype();
  if (v.has_vlan()) h.vlan = v.vlan();
  return h;
}

void EthernetHeader::emit(EthernetView v) const {
  assert(v.size() >= buffer_len());
  v.set_dst(dst);
  v.set_src(src);
  if (vlan) {
    v.set_vlan(*vlan, ethertype);
  } else {
    v.set_ethertype(ethertype);
  }
}

}  // namespace xnet::wire
