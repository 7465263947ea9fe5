// The IPv4 header pieces shared by every sender: building the header in the
// headroom (__ip_make_skb, ip_build_and_send_pkt) and ip_send_check.

#include <cstring>

#include "stack/checksum_offload.h"
#include "stack/hdr_bytes.h"
#include "stack/ipv4_output.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {

void push_ipv4_header(Packet& pkt, const IpHeaderParams& params, uint16_t id) {
  const uint16_t hl = static_cast<uint16_t>(kIpv4HeaderLen + params.options.size());
  std::byte* h = pkt.push(hl);
  h[kIpVerIhl] = static_cast<std::byte>(0x40 | (hl / 4));
  h[kIpTos] = static_cast<std::byte>(params.tos);
  store_be16(h + kIpTotLen, 0);
  store_be16(h + kIpId, id);
  store_be16(h + kIpFragOff, params.df ? kIpDf : 0);
  h[kIpTtl] = static_cast<std::byte>(params.ttl);
  h[kIpProto] = static_cast<std::byte>(params.protocol);
  store_be16(h + kIpCsum, 0);
  store_be32(h + kIpSrc, params.saddr.value());
  store_be32(h + kIpDst, params.daddr.value());
  if (!params.options.empty()) {
    std::memcpy(h + kIpv4HeaderLen, params.options.data(), params.options.size());
  }
  pkt.set_network_header();
  pkt.set_transport_header(hl);
}

void ip_send_check(Packet& pkt, uint16_t tot_len) {
  std::byte* h = pkt.network_header();
  const uint16_t hl = static_cast<uint16_t>((std::to_integer<uint8_t>(h[kIpVerIhl]) & 0xf) * 4);
  store_be16(h + kIpTotLen, tot_len);
  store_be16(h + kIpCsum, 0);
  store_be16(h + kIpCsum, static_cast<uint16_t>(~csum_fold16(wire::checksum_partial({h, hl}))));
}

}  // namespace xnet::stack
