#pragma once
// Neighbour sharing between the shards of one host.
//
// With several receive queues each shard has its own Stack and so its own
// neighbour table, but the device delivers a neighbour's ARP messages to one
// queue only (the kernel's ARP replies for an address pair hash to one queue
// of a veth or NIC). Without sharing, only that shard learns the MAC; the
// others keep resolving, fail after neigh_probes requests, and drop their
// traffic (DropReason::kNeighFailed). So every shard's table announces what it
// confirms or updates (NeighbourTable::set_observer), and the announcement is
// applied on every other shard (NeighbourTable::learn_from_peer), which also
// sends what was waiting for the MAC. A request sent by shard B whose reply
// the device hands to shard A reaches B the same way: A has no entry, passes
// the message on as "unknown", and B applies it to its incomplete entry.
//
// Transport: Reactor::post to the other shard's reactor (it takes a lock and
// allocates, which is fine: announcements are per neighbour change or
// confirmation, at most one per entry per neigh_retrans_time, never per
// data packet). learn_from_peer never announces, so nothing loops.
//
// Which interfaces are the same device. An announcement names an ifindex of
// the announcing stack. It goes to a peer only when the peer's interface with
// that ifindex has the same link name (Link::name()): stacks built by XdpHost
// have the interface as ifindex 1 on every shard (one XdpLink per queue, all
// named after the interface), so queues of one device map 1:1 by ifindex.
// Stacks whose interfaces are different devices (e.g. one MemoryLink pair per
// shard with different names) share nothing. The link names are read once,
// when the observers are made: add interfaces before.
//
// Lifetime: the observers hold pointers to the peers' stacks and reactors.
// Before destroying any of them, clear the observer of every stack on its own
// thread (set_observer(nullptr)), then let every reactor run once more (a
// post or run_on after the clear: posts run in order, so the announcements
// already sent are applied first).

#include <span>
#include <vector>

#include "runtime/reactor.h"
#include "stack/l2/neighbour_table.h"
#include "stack/core/stack.h"

namespace xnet {

struct NeighbourPeer {
  stack::Stack* stack = nullptr;
  rt::Reactor* reactor = nullptr;  // the reactor whose thread drives `stack`
};

// One observer per peer (same order): install observer i on peer i's thread
// with peer.stack->neighbours().set_observer(std::move(observers[i])). Each
// forwards to the peers that have the announced interface (see above). Fewer
// than two peers, or no shared interface: empty observers (sharing off).
// Call once the stacks' interfaces are added, from any thread while the
// stacks' interface lists do not change.
std::vector<stack::NeighbourObserver> make_neighbour_observers(std::span<const NeighbourPeer> peers);

}  // namespace xnet
