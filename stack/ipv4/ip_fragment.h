#pragma once
// IPv4 reassembly (ip_defrag, RFC 791/815, the kernel's net/ipv4/ip_fragment.c
// and inet_fragment.c semantics): queues keyed by (src, dst, id, protocol),
// ipfrag_time timeout with ICMP time exceeded (11/1) when fragment 0 arrived,
// a memory bound over all queues, and the kernel's overlap policy
// (inet_frag_queue_insert), which knows fragments by runs: a fragment that
// arrives right after the last one held extends its run, any other starts a
// run of its own:
//   - a fragment inside one run is a duplicate and ignored
//     (DropReason::kFragDuplicate, no counter: the kernel's IPFRAG_DUP);
//   - any other overlap discards the whole queue (ReasmFails, kFragOverlap);
//   - a last fragment with a different end, or data beyond a known end, or a
//     zero-length fragment discards the queue (ReasmFails, kFragMalformed);
//   - a non-last fragment whose length is not a multiple of 8 is trimmed to
//     the multiple below (the kernel's "end &= ~7"), not dropped;
//   - a datagram larger than 65535 bytes is found when it completes
//     (ip_frag_reasm's "Oversized IP packet": ReasmFails, kFragTooBig); until
//     then its fragments are held and time out like any others;
//   - ECN codepoints combine by ip_frag_ecn_table: CE with ECT gives CE,
//     Not-ECT with any other fails the datagram when it completes
//     (ReasmFails, kFragBadEcn).
// Memory: each held fragment costs its frame (truesize = the pool's frame
// size), and queues may hold at most ipfrag_high_thresh of them. Here xnet
// decides differently from Linux since 4.17, which at the threshold refuses
// every fragment, for new and existing queues alike, until the 30 s timer
// frees memory (inet_frag_find): under a flood of incomplete trains that
// stops every legitimate fragmented datagram for as long as the flood lasts
// (measured: netbench --scenario fragflood --frames 8192 lost every 4000-byte
// round trip). xnet evicts instead, as gVisor, Seastar and lwIP do
// (ROBUSTNESS case 20): a fragment that would take queues beyond their bound
// first frees the oldest queues of its pool down to half the bound, each
// counting ReasmFails and kFragMemLimit; the flood's queues are the oldest
// and go, a legitimate datagram's fragments, arriving back to back, complete.
// The refusal stays for what eviction cannot bound: several links' queues
// together above the threshold (ReasmFails, kFragMemLimit).
// Frames: unlike the kernel's memory, a link's frames (its UMEM) are few and
// fixed, and the receive ring needs them. Queues may also hold at most half
// of one pool's frames (kPoolShare: enough for a 65,507-byte datagram in
// 1,365 fragments at MTU 68 with a 4,096-frame pool), and may grow only while
// an eighth of the pool stays free (kFreeReserve): the link's fill ring takes
// up to half (XdpLink's fill target), and sends and socket queues need the
// rest — without the reserve a flood left none for sends (netbench fragflood:
// replies failed with ENOBUFS, SndbufErrors). Beyond either, the same
// eviction counts kFragFrameLimit. (Found by an e2e flood: 1,882 first
// fragments held every frame of a 2,048-frame UMEM well under the 4 MiB
// bound, and receive stopped until the 30 s timer.)
// Disorder bound (ipfrag_max_dist, RFC 4963 ID wrap): every fragment from a
// source advances that source's counter; a queue that sees more than
// max_dist fragments from its source between two of its own is re-initialised
// (its fragments freed, timer re-armed, ReasmFails), as ip_frag_too_far /
// ip_frag_reinit do. The kernel keeps the counters in inet_peer entries; xnet
// keeps them in a fixed direct-mapped table, where two sources sharing a slot
// share a counter (which can only make the bound stricter for them).
//
// Zero-copy: the fragments' frames are kept as they arrived (data() pulled to
// their payload) and handed up as a chain; only a fragment from another pool
// than its queue's is copied (a PacketQueue holds one pool's frames).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "stack/core/packet.h"
#include "stack/core/stats.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;
using TimePoint = std::chrono::steady_clock::time_point;

// A reassembled datagram: `head` is fragment 0 with data() at its IPv4
// header, whose total length now covers the whole datagram (MF and offset
// cleared, checksum recomputed); `rest` the other fragments in order, data()
// at their payload.
struct ReassembledDatagram {
  Packet head;
  PacketQueue rest;
};

class Reassembly {
 public:
  explicit Reassembly(Stack& stack);
  ~Reassembly();
  Reassembly(const Reassembly&) = delete;
  Reassembly& operator=(const Reassembly&) = delete;

  // ip_defrag: `pkt` is a fragment (MF or offset set) that passed ip_rcv
  // (network header at data(), trimmed to its total length) and routed local.
  // Returns the datagram when this fragment completed it. Counts ReasmReqds
  // for every fragment, ReasmOKs / ReasmFails as the kernel does.
  std::optional<ReassembledDatagram> defrag(Packet pkt, TimePoint now);

  // ip_expire for every queue whose time is up: ReasmTimeout + ReasmFails,
  // ICMP 11/1 quoting fragment 0 when it arrived and the datagram was ours.
  void run_timers(TimePoint now);
  std::optional<TimePoint> next_deadline() const;

  size_t mem() const { return mem_; }
  size_t queue_count() const { return count_; }

 private:
  static constexpr uint32_t kNone = 0xffffffffu;
  static constexpr uint32_t kPoolShare = 2;    // queues hold at most 1/kPoolShare of a pool
  static constexpr uint32_t kFreeReserve = 8;  // and leave 1/kFreeReserve of it free
  struct Key {
    uint32_t saddr = 0, daddr = 0;
    uint16_t id = 0;
    uint8_t protocol = 0;
    bool operator==(const Key&) const = default;
  };
  struct Queue {
    Key key;
    bool used = false;
    bool first_in = false, last_in = false;
    FramePool* pool = nullptr;
    uint32_t head = kNone, tail = kNone;  // fragments sorted by offset, chained through meta().next
    uint32_t len = 0;                     // known end of the datagram's payload
    uint32_t meat = 0;                    // payload bytes held
    uint32_t truesize = 0;                // bytes of frames held
    uint16_t max_size = 0, max_df_size = 0;
    uint8_t ecn = 0;  // IPFRAG_ECN_* bits of the fragments held
    uint8_t first_ihl = 0;  // fragment 0's header length
    // Runs of contiguous fragments [offset, end) (FRAG_CB frag_run_len);
    // tail_run holds the last fragment, the only run that may grow.
    std::vector<std::pair<uint32_t, uint32_t>> runs;
    uint32_t tail_run = 0;
    TimePoint deadline{};
    uint32_t older = kNone, newer = kNone;  // age list (deadline order)
    uint32_t rid = 0;                       // the source's counter at our last fragment
  };
  struct Peer {
    uint32_t saddr = 0;
    uint32_t rid = 0;
  };
  static constexpr size_t kPeerSlots = 1024;
  enum class Insert { kOk, kDuplicate, kOverlap };

  uint32_t find_or_create(const Key& key, TimePoint now);
  uint32_t lookup(const Key& key) const;
  void hash_insert(const Key& key, uint32_t slot);
  void hash_erase(const Key& key);
  size_t bucket_of(const Key& key) const;
  void kill(uint32_t slot);  // frees the fragments, unlinks the queue
  // The most frames of `pool` queues may hold, and the bound that set it.
  struct FrameBound {
    uint32_t frames;
    DropReason why;  // kFragMemLimit (ipfrag_high_thresh) or kFragFrameLimit (kPoolShare, kFreeReserve)
  };
  FrameBound frame_bound(const FramePool* pool) const;
  // Frees the oldest queues of `pool` down to half its bound (ReasmFails, bound.why each).
  void evict_pool(const FramePool* pool, const FrameBound& bound);
  // Frames of `pool` held in queues (held_ keeps a count per pool: a link or two).
  uint32_t held_frames(const FramePool* pool) const;
  void held_add(const FramePool* pool, int64_t frames);
  void age_unlink(uint32_t slot);
  void age_append(uint32_t slot);
  bool too_far(Queue& q, uint32_t saddr);
  void reinit(uint32_t slot, TimePoint now);
  Insert insert(Queue& q, Packet& frag, uint32_t offset, uint32_t end);
  // ip_frag_reasm: the datagram, or nothing when it fails (queue discarded).
  std::optional<ReassembledDatagram> reassemble(uint32_t slot);

  Stack& stack_;
  std::vector<Queue> queues_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> table_;  // open addressing (linear probing) of slot indices
  std::vector<Peer> peers_;
  size_t count_ = 0;
  size_t mem_ = 0;
  std::vector<std::pair<const FramePool*, uint32_t>> held_;
  uint32_t oldest_ = kNone, newest_ = kNone;
};

}  // namespace xnet::stack
