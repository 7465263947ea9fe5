#pragma once
// The neighbour table of one stack (arp_tbl): one entry per (interface, IPv4
// address) with its NUD state, MAC, the packets waiting for resolution, and one
// timer. neighbour.cc holds the stages (neigh_output, arp_rcv, the solicit and
// update rules); this class holds the entries and drives their timers.
//
// States (the kernel's NUD_* reduced to four, see neighbour.h):
//   incomplete — resolving: broadcast requests every retrans_time, packets queued
//   reachable  — confirmed by a reply to us within reachable_time
//   stale      — MAC known but unconfirmed; used as is. The first use starts a
//                delayed re-probe (the kernel's DELAY/PROBE: 5 s, then neigh_probes
//                unicast requests) which, unanswered, fails the entry
//   failed     — resolution failed; the next packet starts a new one (rate limited)
// Entries are created only by our own resolution (neigh_output) and by a
// request addressed to us (neigh_event_ns): arp_accept = 0.
//
// Timers: each entry has one due time; run_timers walks the table only when
// the earliest due time has passed (cached), so an idle poll costs a compare.
// The table is capped at neigh_gc_thresh3 entries; at the cap a failed or idle
// stale entry without queued packets is evicted (neigh_forced_gc), else the new
// entry is refused (kArpTableFull).
//
// Deviation, documented: the kernel leaves the table alone below gc_thresh1
// (128 entries) and randomises reachable_time in [0.5, 1.5) × base; xnet ages
// every entry and uses reachable_time as configured, so tests are exact.

#include <chrono>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "stack/neighbour.h"
#include "stack/packet.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;

// What tests and tools may see of an entry.
struct NeighInfo {
  NeighState state = NeighState::kIncomplete;
  wire::MacAddr mac;
  size_t queued = 0;  // packets waiting for resolution
};

// The kernel's delay_first_probe_time (5 s): how long a used stale entry keeps
// being used before unicast probes start.
inline constexpr std::chrono::milliseconds kNeighDelayFirstProbe{5000};

struct NeighEntry {
  uint16_t ifindex = 0;
  wire::Ipv4Addr ip;
  wire::MacAddr mac;
  NeighState state = NeighState::kIncomplete;
  bool probing = false;    // stale and re-probing (DELAY/PROBE)
  uint32_t probes = 0;     // requests sent in the current resolution / probe round
  TimePoint updated{};     // last change of MAC or state (locktime is measured from it)
  TimePoint confirmed{};   // last reachability confirmation
  TimePoint used{};        // last time a packet went out through the entry
  std::optional<TimePoint> last_request;  // rate limit for requests (≤ 1 per retrans_time)
  TimePoint due = TimePoint::max();       // the entry's timer
  PacketQueue pending;     // packets waiting for the MAC (unres_qlen)
};

class NeighbourTable {
 public:
  explicit NeighbourTable(Stack& stack);
  ~NeighbourTable();
  NeighbourTable(const NeighbourTable&) = delete;
  NeighbourTable& operator=(const NeighbourTable&) = delete;

  std::optional<NeighInfo> lookup(uint16_t ifindex, wire::Ipv4Addr ip) const;
  size_t size() const { return entries_.size(); }

  // Retransmits, fails, ages and removes entries whose timer is due.
  void run_timers(TimePoint now);
  std::optional<TimePoint> next_deadline() const;

  // Drops every entry of `ifindex` and the packets queued on them (kNeighFailed).
  void flush_interface(uint16_t ifindex);

  // --- for the stages in neighbour.cc ---
  NeighEntry* find(uint16_t ifindex, wire::Ipv4Addr ip);
  // A new incomplete entry, or nullptr when the table is full even after
  // evicting an idle one (the caller counts kArpTableFull).
  NeighEntry* create(uint16_t ifindex, wire::Ipv4Addr ip, TimePoint now);
  // Sets the entry's timer and keeps the cached earliest due time right.
  void arm(NeighEntry& e, TimePoint due);

 private:
  static uint64_t key(uint16_t ifindex, wire::Ipv4Addr ip) {
    return (uint64_t{ifindex} << 32) | ip.value();
  }
  bool evict_one();
  // Runs one entry's due timer; false when the entry must be removed.
  bool expire(NeighEntry& e, TimePoint now);

  Stack& stack_;
  std::unordered_map<uint64_t, NeighEntry> entries_;
  std::vector<uint64_t> due_;  // run_timers scratch, reserved once
  TimePoint next_due_ = TimePoint::max();
};

// The two actions of an entry's timer, implemented in neighbour.cc.
// Sends the next request of a resolution or probe round (counts it in probes).
void neigh_solicit(Stack& stack, NeighEntry& e, TimePoint now);
// Resolution failed: every queued packet is reported to its sender and dropped.
void neigh_fail(Stack& stack, NeighEntry& e, TimePoint now);

}  // namespace xnet::stack
