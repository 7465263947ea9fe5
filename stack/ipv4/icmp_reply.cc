#include "stack/ipv4/icmp_reply.h"

#include "stack/core/headers.h"
#include "stack/core/stack.h"
#include "stack/ipv4/icmp_state.h"
#include "stack/ipv4/icmp_timestamp.h"

namespace xnet::stack {

FramePool* icmp_egress_pool(Stack& stack, wire::Ipv4Addr dst) {
  const auto r = stack.routes().lookup(dst);
  if (!r) return nullptr;
  Link* l = stack.link(r->ifindex);
  return l != nullptr ? &l->pool() : nullptr;
}

std::optional<EchoedOptions> icmp_reply_options(const Stack& stack, const Packet& req) {
  const wire::ConstIpv4View ip = ip_hdr(req);
  if (ip.header_len() <= wire::kIpv4MinHeaderLen) return EchoedOptions{};
  auto r = ip_options_echo(stack, ip.header());
  if (!r) return std::nullopt;
  return *r;
}

void icmp_fill_reply_options(Stack& stack, Packet& reply, const EchoedOptions& opt, wire::Ipv4Addr src,
                             std::chrono::steady_clock::time_point now) {
  if (opt.len == 0) return;
  const wire::Ipv4View ip = ip_hdr(reply);
  ip_options_build({reply.network_header(), ip.header_len()}, opt, src,
                   ms_since_midnight_utc(stack.icmp().wall_clock(now)));
}

}  // namespace xnet::stack
