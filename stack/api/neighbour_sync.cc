#include "stack/api/neighbour_sync.h"

#include <memory>
#include <string>

namespace xnet {
namespace {

// The same device on both stacks: same ifindex, same link name.
bool same_interface(const stack::Stack& a, const stack::Stack& b, uint16_t ifindex) {
  const stack::Link* la = a.link(ifindex);
  const stack::Link* lb = b.link(ifindex);
  return la != nullptr && lb != nullptr && la->name() == lb->name();
}

}  // namespace

std::vector<stack::NeighbourObserver> make_neighbour_observers(std::span<const NeighbourPeer> peers) {
  std::vector<stack::NeighbourObserver> out(peers.size());
  if (peers.size() < 2) return out;
  for (size_t i = 0; i < peers.size(); ++i) {
    const stack::Stack& self = *peers[i].stack;
    // targets[ifindex]: the peers that have this interface too.
    auto targets = std::make_shared<std::vector<std::vector<NeighbourPeer>>>(self.interfaces().size() + 1);
    bool any = false;
    for (const stack::Interface& iface : self.interfaces()) {
      for (size_t j = 0; j < peers.size(); ++j) {
        if (j == i || !same_interface(self, *peers[j].stack, iface.ifindex)) continue;
        (*targets)[iface.ifindex].push_back(peers[j]);
        any = true;
      }
    }
    if (!any) continue;
    out[i] = [targets](const stack::NeighAnnouncement& a) {
      if (a.ifindex >= targets->size()) return;
      for (const NeighbourPeer& p : (*targets)[a.ifindex]) {
        stack::Stack* s = p.stack;
        p.reactor->post([s, a] {
          if (s->neighbours().learn_from_peer(a, rt::Reactor::now())) s->flush_tx();
        });
      }
    };
  }
  return out;
}

}  // namespace xnet
