#pragma once
// IPv4 reassembly (ip_defrag, RFC 791/815): queues keyed by (src, dst, id,
// protocol), 30 s timeout, memory thresholds, overlap policy.
// The class is defined in reassembly.cc's header part below by its implementer;
// the Stack relies on: Reassembly(Stack&), run_timers(TimePoint),
// next_deadline() -> std::optional<TimePoint>, mem() -> size_t (bytes held).

namespace xnet::stack {
class Reassembly;
}  // namespace xnet::stack
