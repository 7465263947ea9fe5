#pragma once
// Neighbours from outside the stack (shared mode: the kernel keeps the
// address and gets the ARP replies, so a host resolves through the kernel's
// table, xdp/kernel_tables.h). For composition roots, which cannot reach
// stack/l2 themselves.

#include <functional>

#include "stack/core/stack.h"
#include "stack/wire/addr.h"

namespace xnet {

// Every resolution or probe attempt of `stack` calls `solicit(ip)` instead of
// sending an ARP request (NeighbourTable::set_solicitor). Set it before the
// stack's thread runs, or on that thread.
void set_neighbour_solicitor(stack::Stack& stack, std::function<void(wire::Ipv4Addr)> solicit);

// On the stack's thread: `ip` on `ifindex` is at `mac` (created or updated as
// reachable); what waited for it is sent now. False when nothing applied
// (learn_from_peer's reasons).
bool learn_neighbour(stack::Stack& stack, uint16_t ifindex, wire::Ipv4Addr ip, const wire::MacAddr& mac,
                     stack::TimePoint now);

}  // namespace xnet
