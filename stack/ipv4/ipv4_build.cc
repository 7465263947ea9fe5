// The IPv4 header pieces shared by every sender: building the header in the
// headroom (__ip_make_skb, ip_build_and_send_pkt) and ip_send_check.

#include <cstring>

#include "stack/core/headers.h"
#include "stack/ipv4/ipv4_output.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {

void write_ipv4_header(const wire::Ipv4View& h, const IpHeaderParams& params, uint16_t id) {
  const uint16_t hl = static_cast<uint16_t>(kIpv4HeaderLen + params.options.size());
  h.set_header_len(hl);
  h.set_tos(params.tos);
  h.set_total_len(0);
  h.set_ident(id);
  h.set_frag(params.df, false, 0);
  h.set_ttl(params.ttl);
  h.set_protocol(params.protocol);
  h.set_checksum(0);
  h.set_src(params.saddr);
  h.set_dst(params.daddr);
  if (!params.options.empty()) std::memcpy(h.options().data(), params.options.data(), params.options.size());
}

void push_ipv4_header(Packet& pkt, const IpHeaderParams& params, uint16_t id) {
  const uint16_t hl = static_cast<uint16_t>(kIpv4HeaderLen + params.options.size());
  write_ipv4_header(ipv4_at(pkt.push(hl), hl), params, id);
  pkt.set_network_header();
  pkt.set_transport_header(hl);
}

void ip_send_check(Packet& pkt, uint16_t tot_len) {
  const wire::Ipv4View h = ip_hdr(pkt);
  // The header is summed as it stands and the new total length and a zero
  // checksum are accounted for arithmetically (RFC 1624), before either is
  // stored: summing words right after writing two of their halves stalls on
  // store forwarding (~7% of the send path in tx_bench). The sum is never
  // zero (the version byte is not), so this is the value a fresh sum gives.
  const uint16_t old_len = h.total_len();
  const uint16_t old_check = h.checksum();
  uint32_t sum = wire::checksum_words(h.header().data(), h.header_len());
  sum += static_cast<uint16_t>(~old_len) + static_cast<uint16_t>(~old_check) + uint32_t{tot_len};
  h.set_total_len(tot_len);
  h.set_checksum(static_cast<uint16_t>(~wire::checksum_fold(sum)));
}

}  // namespace xnet::stack
