#include "stack/api/neighbour_source.h"

#include "stack/l2/neighbour_table.h"

namespace xnet {

void set_neighbour_solicitor(stack::Stack& stack, std::function<void(wire::Ipv4Addr)> solicit) {
  stack.neighbours().set_solicitor(
      [solicit = std::move(solicit)](uint16_t, wire::Ipv4Addr ip) { solicit(ip); });
}

bool learn_neighbour(stack::Stack& stack, uint16_t ifindex, wire::Ipv4Addr ip, const wire::MacAddr& mac,
                     stack::TimePoint now) {
  if (!stack.neighbours().learn_from_peer(ifindex, ip, mac, now)) return false;
  stack.flush_tx();
  return true;
}

}  // namespace xnet
