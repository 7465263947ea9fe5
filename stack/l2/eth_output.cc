#include "stack/l2/eth_output.h"

#include <cstring>

namespace xnet::stack {

void eth_write_header(std::byte* h, const wire::MacAddr& dst, const wire::MacAddr& src, uint16_t ethertype) {
  dst.write(h);
  src.write(h + 6);
  h[12] = static_cast<std::byte>(ethertype >> 8);
  h[13] = static_cast<std::byte>(ethertype);
}

void eth_push_header(Packet& pkt, const wire::MacAddr& dst, const wire::MacAddr& src, uint16_t ethertype) {
  eth_write_header(pkt.push(kEthHeaderLen), dst, src, ethertype);
  pkt.set_mac_header();
}

}  // namespace xnet::stack
