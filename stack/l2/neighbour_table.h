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
// Shards. With several shards on one interface (one Stack per receive queue,
// see DESIGN.md) every shard has its own table, but the neighbour's ARP
// messages arrive on one queue only. The table therefore announces what it
// learns to an optional observer (set_observer; the shard layer forwards it to
// the other shards, stack/api/neighbour_sync.h) and takes what the other
// shards learned (learn_from_peer), so the shards behave as one host's
// arp_tbl. With no observer (one shard) nothing changes.
//
// Deviation, documented: the kernel leaves the table alone below gc_thresh1
// (128 entries) and randomises reachable_time in [0.5, 1.5) × base; xnet ages
// every entry and uses reachable_time as configured, so tests are exact.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "stack/l2/neighbour.h"
#include "stack/core/packet.h"
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

// What a table tells the other shards' tables about a neighbour.
struct NeighAnnouncement {
  uint16_t ifindex = 0;
  wire::Ipv4Addr ip;
  wire::MacAddr mac;
  NeighState state = NeighState::kReachable;  // kReachable or kStale
  // true: the announcing table holds this entry in this state (it was
  // confirmed or updated there); peers create or override theirs.
  // false: an ARP message about a neighbour the announcing table does not
  // track — typically the reply to a request another shard sent, which the
  // device delivered to this shard's queue. Peers apply it only to an entry
  // they have, with arp_rcv's rules (locktime unless `garp`), and create none
  // (arp_accept = 0 for the host as a whole).
  bool known = true;
  bool garp = false;
};
using NeighbourObserver = std::function<void(const NeighAnnouncement&)>;

// Unknown-neighbour announcements (known = false) come from ARP messages this
// table does not track: bounded to this many per neigh_retrans_time, so an
// ARP flood does not become a flood of cross-shard messages.
inline constexpr uint32_t kNeighForeignAnnounceBudget = 16;

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
  std::optional<TimePoint> announced;     // last announcement to the observer
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

  // --- several shards (see the top of this file) ---
  // Called on this stack's thread with every entry this table confirms or
  // updates from an ARP message (reachable or stale, with its MAC): at once
  // when the MAC or state changes, else at most once per neigh_retrans_time
  // per entry. Also with known = false for ARP messages about neighbours the
  // table does not track (bounded, kNeighForeignAnnounceBudget). Never called
  // for what learn_from_peer applied, so two tables feeding each other do not
  // loop. Empty (the default): no announcements.
  void set_observer(NeighbourObserver observer) { observer_ = std::move(observer); }
  bool has_observer() const { return static_cast<bool>(observer_); }

  // Takes an entry another shard learned: creates or updates (ifindex, ip) as
  // reachable with `mac` and sends the packets that waited for it. Returns
  // false when nothing was applied (no such interface, an address of ours,
  // or a full table). Implemented in neighbour.cc (it runs neigh_update).
  bool learn_from_peer(uint16_t ifindex, wire::Ipv4Addr ip, const wire::MacAddr& mac, TimePoint now);
  // The general form: `a` as the observer of another table received it.
  bool learn_from_peer(const NeighAnnouncement& a, TimePoint now);

  // neigh->ops->solicit, replaced: who resolves a neighbour instead of an
  // ARP request from this stack. Set in shared mode (the kernel keeps the
  // address and gets the ARP replies: xnet asks the kernel to resolve and
  // takes the MAC from its table, xdp/kernel_tables.h, through
  // learn_from_peer). Called where the request would be sent (each
  // resolution or probe attempt, with the same timers and probe counts), on
  // this stack's thread. Empty (the default): ARP.
  using Solicitor = std::function<void(uint16_t ifindex, wire::Ipv4Addr ip)>;
  void set_solicitor(Solicitor s) { solicitor_ = std::move(s); }
  const Solicitor& solicitor() const { return solicitor_; }

  // neigh->ops->error_report: what to call for each packet queued on an entry
  // whose resolution failed (the network layer's link failure; the Stack sets
  // ipv4_link_failure). Null: the packets are dropped silently.
  using LinkFailure = void (*)(Stack& stack, const Packet& pkt, TimePoint now);
  void set_link_failure(LinkFailure f) { link_failure_ = f; }
  LinkFailure link_failure() const { return link_failure_; }

  // --- for the stages in neighbour.cc ---
  NeighEntry* find(uint16_t ifindex, wire::Ipv4Addr ip);
  // A new incomplete entry, or nullptr when the table is full even after
  // evicting an idle one (the caller counts kArpTableFull).
  NeighEntry* create(uint16_t ifindex, wire::Ipv4Addr ip, TimePoint now);
  // Sets the entry's timer and keeps the cached earliest due time right.
  void arm(NeighEntry& e, TimePoint due);
  // After neigh_update changed or confirmed `e`: tells the observer, if any
  // (`changed`: MAC or state differ from before, announced at once).
  void announce(NeighEntry& e, bool changed, TimePoint now);
  // An ARP message about a neighbour without an entry here (known = false).
  void announce_unknown(const NeighAnnouncement& a, TimePoint now);

 private:
  static uint64_t key(uint16_t ifindex, wire::Ipv4Addr ip) {
    return (uint64_t{ifindex} << 32) | ip.value();
  }
  bool evict_one();
  // Runs one entry's due timer; false when the entry must be removed.
  bool expire(NeighEntry& e, TimePoint now);

  Stack& stack_;
  std::unordered_map<uint64_t, NeighEntry> entries_;
  NeighEntry* last_ = nullptr;  // find()'s last hit, forgotten at every erase
  uint64_t last_key_ = 0;
  std::vector<uint64_t> due_;  // run_timers scratch, reserved once
  TimePoint next_due_ = TimePoint::max();
  NeighbourObserver observer_;
  LinkFailure link_failure_ = nullptr;
  Solicitor solicitor_;
  TimePoint foreign_window_{};   // start of the current unknown-announcement window
  uint32_t foreign_in_window_ = 0;
};

// The two actions of an entry's timer, implemented in neighbour.cc.
// Sends the next request of a resolution or probe round (counts it in probes).
void neigh_solicit(Stack& stack, NeighEntry& e, TimePoint now);
// Resolution failed: every queued packet is reported to its sender and dropped.
void neigh_fail(Stack& stack, NeighEntry& e, TimePoint now);

}  // namespace xnet::stack
