#pragma once
// Threaded NAPI kthreads of an interface ("napi/<ifname>-<napi id>"): where
// they run decides which core pays for a veth peer's receive work (README,
// "Tuning"). Used by netbench and by tests that need that work on a known core.

#include <optional>
#include <string>

namespace xnet::xdp {

// Pins every NAPI kthread of `ifname` (visible in this pid namespace) to
// `cpu`, and renices them when `nice` is given. Returns how many were pinned.
int pin_napi_threads(const std::string& ifname, int cpu, std::optional<int> nice = std::nullopt);

}  // namespace xnet::xdp
