#include "stack/core/hooks.h"

#include <algorithm>

namespace xnet::stack {

Hooks::Id Hooks::add(HookPoint point, int priority, HookFn fn) {
  auto& chain = chains_[static_cast<size_t>(point)];
  const Id id = next_id_++;
  auto pos = std::upper_bound(chain.begin(), chain.end(), priority,
                              [](int p, const Entry& e) { return p < e.priority; });
  chain.insert(pos, Entry{id, priority, std::move(fn)});
  return id;
}

bool Hooks::remove(Id id) {
  for (auto& chain : chains_) {
    auto it = std::find_if(chain.begin(), chain.end(), [id](const Entry& e) { return e.id == id; });
    if (it != chain.end()) {
      chain.erase(it);
      return true;
    }
  }
  return false;
}

HookVerdict Hooks::run(HookPoint point, Packet& pkt, std::chrono::steady_clock::time_point now) {
  for (auto& e : chains_[static_cast<size_t>(point)]) {
    const HookVerdict v = e.fn(pkt, now);
    if (v != HookVerdict::kAccept) return v;
  }
  return HookVerdict::kAccept;
}

}  // namespace xnet::stack
