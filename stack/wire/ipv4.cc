#include "stack/wire/ipv4.h"

namespace xnet::wire {

WireResult<Ipv4Header> Ipv4Header::parse(ConstIpv4View v, ChecksumCheck check) {
  if (check == ChecksumCheck::kVerify && !v.verify_checksum()) return WireError::kBadChecksum;
  Ipv4Header h;
  h.src = v.src();
  h.dst = v.dst();
  h.protocol = v.protocol();
  h.ttl = v.ttl();
  h.tos = v.tos();
  h.ident = v.ident();
  h.dont_frag = v.dont_frag();
  h.more_frags = v.more_frags();
  h.frag_offset = v.frag_offset();
  h.payload_len = static_cast<uint16_t>(v.total_len() - v.header_len());
  h.options = Ipv4OptionBytes(v.options());
  return h;
}

void Ipv4Header::emit(Ipv4View v, ChecksumFill fill) const {
  const size_t hl = buffer_len();
  assert(v.size() >= hl && hl + payload_len <= 0xffff);
  v.set_header_len(hl);
  v.set_tos(tos);
  v.set_total_len(static_cast<uint16_t>(hl + payload_len));
  v.set_ident(ident);
  v.set_frag(dont_frag, more_frags, frag_offset);
  v.set_ttl(ttl);
  v.set_protocol(protocol);
  v.set_checksum(0);
  v.set_src(src);
  v.set_dst(dst);
  std::byte* opts = v.bytes().data() + kIpv4MinHeaderLen;
  std::memcpy(opts, options.bytes().data(), options.size());
  std::memset(opts + options.size(), 0, options.padded_size() - options.size());  // EOL padding
  if (fill == ChecksumFill::kFill) v.fill_checksum();
}

}  // namespace xnet::wire
