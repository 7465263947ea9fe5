#include "stack/ipv4/route_pmtu.h"

#include <algorithm>

#include "stack/core/stack.h"
#include "stack/ipv4/route_output.h"

namespace xnet::stack {

void ip_rt_update_pmtu(Stack& stack, const ResolvedRoute& rt, uint32_t dev_mtu, wire::Ipv4Addr daddr, uint32_t mtu,
                       std::chrono::steady_clock::time_point now) {
  const StackConfig& cfg = stack.config();
  // A locked MTU stays until it expires (Linux 6.18: after a 552 lock, ICMPs
  // saying 1000 or 300 left "mtu lock 552").
  if (dst_mtu_locked(rt, now)) return;
  const uint32_t old_mtu = dst_mtu(rt, dev_mtu, now);
  // Only ever lowered (6.18: 9000 on a 1500 path, or 1480 after 1450, changed nothing).
  if (old_mtu < mtu) return;
  bool lock = false;
  if (mtu < cfg.min_pmtu) {
    // 6.18: 0, 68 and 500 all became "mtu lock 552".
    lock = true;
    mtu = std::min(old_mtu, cfg.min_pmtu);
  }
  if (rt.pmtu == mtu && !lock && now < rt.pmtu_expires - cfg.mtu_expires / 2) return;
  stack.pmtu().update(rt.ifindex, rt.next_hop, daddr, PmtuException{mtu, lock, now + cfg.mtu_expires}, now);
}

void ipv4_update_pmtu(Stack& stack, wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint16_t oif, uint32_t mtu,
                      std::chrono::steady_clock::time_point now) {
  OutputFlow fl{saddr, daddr, oif, false};
  const Result<ResolvedRoute> rt = route_output(stack, fl);
  if (!rt || rt->type != RouteType::kUnicast) return;
  const Link* link = stack.link(rt->ifindex);
  if (link == nullptr) return;
  ip_rt_update_pmtu(stack, *rt, link->mtu(), fl.daddr, mtu, now);
}

}  // namespace xnet::stack
