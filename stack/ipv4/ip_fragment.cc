// ip_defrag / ip_frag_queue / ip_frag_reasm / ip_expire, in the kernel's order
// of checks (see reassembly.h for where xnet decides differently).

#include "stack/ipv4/ip_fragment.h"

#include <algorithm>
#include <array>
#include <utility>

#include "stack/core/headers.h"
#include "stack/ipv4/icmp.h"
#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/wire/checksum.h"

namespace xnet::stack {
namespace {

constexpr uint32_t kIpMaxDatagram = 0xffff;

uint16_t ihl_of(const Packet& pkt) { return static_cast<uint16_t>(ip_hdr(pkt).header_len()); }

// Payload offset of a held fragment, from the IPv4 header still in its frame.
uint32_t held_offset(const FramePool& pool, uint32_t f) {
  return ip_hdr(pool.frame_data(f), pool.meta(f)).frag_offset();
}

}  // namespace

Reassembly::Reassembly(Stack& stack) : stack_(stack), table_(64, kNone), peers_(kPeerSlots) {}

Reassembly::~Reassembly() {
  while (oldest_ != kNone) kill(oldest_);
}

size_t Reassembly::bucket_of(const Key& k) const {
  uint64_t h = (uint64_t{k.saddr} << 32) | k.daddr;
  h ^= (uint64_t{k.id} << 8 | k.protocol) * 0x9e3779b97f4a7c15ull;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 32;
  return static_cast<size_t>(h) & (table_.size() - 1);
}

uint32_t Reassembly::lookup(const Key& key) const {
  for (size_t b = bucket_of(key);; b = (b + 1) & (table_.size() - 1)) {
    const uint32_t s = table_[b];
    if (s == kNone) return kNone;
    if (queues_[s].key == key) return s;
  }
}

void Reassembly::hash_insert(const Key& key, uint32_t slot) {
  if ((count_ + 1) * 2 > table_.size()) {  // grow (rare: only past the largest queue count seen)
    std::vector<uint32_t> old(table_.size() * 2, kNone);
    old.swap(table_);
    for (uint32_t s : old) {
      if (s == kNone) continue;
      size_t b = bucket_of(queues_[s].key);
      while (table_[b] != kNone) b = (b + 1) & (table_.size() - 1);
      table_[b] = s;
    }
  }
  size_t b = bucket_of(key);
  while (table_[b] != kNone) b = (b + 1) & (table_.size() - 1);
  table_[b] = slot;
}

void Reassembly::hash_erase(const Key& key) {
  const size_t mask = table_.size() - 1;
  size_t b = bucket_of(key);
  while (queues_[table_[b]].key != key) b = (b + 1) & mask;
  // Backward-shift deletion keeps probe chains unbroken without tombstones.
  size_t hole = b;
  for (size_t i = (hole + 1) & mask; table_[i] != kNone; i = (i + 1) & mask) {
    const size_t home = bucket_of(queues_[table_[i]].key);
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      table_[hole] = table_[i];
      hole = i;
    }
  }
  table_[hole] = kNone;
}

uint32_t Reassembly::find_or_create(const Key& key, TimePoint now) {
  if (const uint32_t s = lookup(key); s != kNone) return s;
  uint32_t s;
  if (!free_slots_.empty()) {
    s = free_slots_.back();
    free_slots_.pop_back();
  } else {
    s = static_cast<uint32_t>(queues_.size());
    queues_.emplace_back();
  }
  Queue& q = queues_[s];
  std::vector<std::pair<uint32_t, uint32_t>> runs = std::move(q.runs);  // keeps its capacity
  q = Queue{};
  runs.clear();
  q.runs = std::move(runs);
  q.key = key;
  q.used = true;
  // The kernel arms the timer once, when the queue is created.
  q.deadline = now + stack_.config().ipfrag_time;
  age_append(s);
  hash_insert(key, s);
  ++count_;
  return s;
}

void Reassembly::kill(uint32_t slot) {
  Queue& q = queues_[slot];
  for (uint32_t f = q.head; f != kNone;) {
    const uint32_t next = q.pool->meta(f).next;
    Packet(q.pool, f).reset();  // frees the frame
    f = next;
  }
  q.head = q.tail = kNone;
  mem_ -= q.truesize;
  if (q.truesize != 0) held_add(q.pool, -static_cast<int64_t>(q.truesize / q.pool->frame_size()));
  hash_erase(q.key);
  age_unlink(slot);
  q.used = false;
  free_slots_.push_back(slot);
  --count_;
}

void Reassembly::age_unlink(uint32_t slot) {
  Queue& q = queues_[slot];
  if (q.older != kNone) queues_[q.older].newer = q.newer; else oldest_ = q.newer;
  if (q.newer != kNone) queues_[q.newer].older = q.older; else newest_ = q.older;
  q.older = q.newer = kNone;
}

void Reassembly::age_append(uint32_t slot) {
  Queue& q = queues_[slot];
  q.older = newest_;
  q.newer = kNone;
  if (newest_ != kNone) queues_[newest_].newer = slot;
  newest_ = slot;
  if (oldest_ == kNone) oldest_ = slot;
}

// ip_frag_too_far: more than max_dist fragments from this source since this
// queue's previous one (only once the queue holds something).
bool Reassembly::too_far(Queue& q, uint32_t saddr) {
  const uint32_t max = stack_.config().ipfrag_max_dist;
  if (max == 0) return false;
  uint32_t h = saddr * 0x9e3779b1u;
  Peer& peer = peers_[(h >> 22) & (kPeerSlots - 1)];
  peer.saddr = saddr;
  const uint32_t start = q.rid;
  const uint32_t end = ++peer.rid;
  q.rid = end;
  return q.head != kNone && end - start > max;
}

// ip_frag_reinit: the queue forgets what it held and starts its time again.
void Reassembly::reinit(uint32_t slot, TimePoint now) {
  Queue& q = queues_[slot];
  for (uint32_t f = q.head; f != kNone;) {
    const uint32_t next = q.pool->meta(f).next;
    Packet(q.pool, f).reset();
    f = next;
  }
  mem_ -= q.truesize;
  if (q.truesize != 0) held_add(q.pool, -static_cast<int64_t>(q.truesize / q.pool->frame_size()));
  q.head = q.tail = kNone;
  q.first_in = q.last_in = false;
  q.len = q.meat = q.truesize = 0;
  q.max_size = q.max_df_size = 0;
  q.ecn = 0;
  q.runs.clear();
  q.deadline = now + stack_.config().ipfrag_time;
  age_unlink(slot);
  age_append(slot);  // the newest deadline now
}

uint32_t Reassembly::held_frames(const FramePool* pool) const {
  for (const auto& [p, n] : held_) {
    if (p == pool) return n;
  }
  return 0;
}

void Reassembly::held_add(const FramePool* pool, int64_t frames) {
  for (auto& [p, n] : held_) {
    if (p == pool) {
      n = static_cast<uint32_t>(static_cast<int64_t>(n) + frames);
      return;
    }
  }
  held_.emplace_back(pool, static_cast<uint32_t>(frames));
}

Reassembly::FrameBound Reassembly::frame_bound(const FramePool* pool) const {
  const uint32_t by_mem = stack_.config().ipfrag_high_thresh / pool->frame_size();
  // What queues hold plus what is free, less the reserve: queues may grow
  // into free frames only while the reserve stays free.
  const uint32_t held = held_frames(pool), reserve = pool->capacity() / kFreeReserve;
  const uint32_t growable = held + pool->available() > reserve ? held + pool->available() - reserve : 0;
  const uint32_t frames = std::min(pool->capacity() / kPoolShare, growable);
  if (by_mem < frames) return {by_mem, DropReason::kFragMemLimit};
  return {frames, DropReason::kFragFrameLimit};
}

void Reassembly::evict_pool(const FramePool* pool, const FrameBound& bound) {
  const uint32_t low = bound.frames / 2;
  for (uint32_t s = oldest_; s != kNone && held_frames(pool) + 1 > low;) {
    const uint32_t newer = queues_[s].newer;
    if (queues_[s].pool == pool) {
      kill(s);
      stack_.stats().ip.ReasmFails++;
      stack_.stats().drop(bound.why);
    }
    s = newer;
  }
}

// inet_frag_queue_insert: after everything held is the common case (the
// fragment extends the last run when it starts where that run ends); anything
// else is compared with the runs, and only a fragment inside one of them is a
// duplicate.
Reassembly::Insert Reassembly::insert(Queue& q, Packet& frag, uint32_t offset, uint32_t end) {
  FramePool& pool = *q.pool;
  const uint32_t f = frag.frame();
  if (q.tail == kNone) {
    frag.release();
    pool.meta(f).next = kNone;
    q.head = q.tail = f;
    q.runs.assign(1, {offset, end});
    q.tail_run = 0;
    return Insert::kOk;
  }
  const uint32_t tail_end = held_offset(pool, q.tail) + pool.meta(q.tail).len;
  if (tail_end < end) {
    if (offset < tail_end) return Insert::kOverlap;
    frag.release();
    pool.meta(f).next = kNone;
    pool.meta(q.tail).next = f;
    q.tail = f;
    if (offset == tail_end) {
      q.runs[q.tail_run].second = end;  // fragrun_append_to_last
    } else {
      q.tail_run = static_cast<uint32_t>(q.runs.size());  // fragrun_create
      q.runs.push_back({offset, end});
    }
    return Insert::kOk;
  }
  for (const auto& [ro, re] : q.runs) {
    if (end <= ro || offset >= re) continue;
    return offset >= ro && end <= re ? Insert::kDuplicate : Insert::kOverlap;
  }
  uint32_t prev = kNone;
  for (uint32_t c = q.head; c != kNone && held_offset(pool, c) < offset; c = pool.meta(c).next) prev = c;
  frag.release();
  if (prev == kNone) {
    pool.meta(f).next = q.head;
    q.head = f;
  } else {
    pool.meta(f).next = pool.meta(prev).next;
    pool.meta(prev).next = f;
  }
  q.runs.push_back({offset, end});  // a run of its own
  return Insert::kOk;
}

std::optional<ReassembledDatagram> Reassembly::defrag(Packet pkt, TimePoint now) {
  Stats& stats = stack_.stats();
  stats.ip.ReasmReqds++;
  const wire::ConstIpv4View ip = ip_hdr(std::as_const(pkt));
  const uint16_t ihl = static_cast<uint16_t>(ip.header_len());
  const bool mf = ip.more_frags();
  const bool df = ip.dont_frag();
  const uint8_t tos = ip.tos();
  const uint32_t offset = ip.frag_offset();
  uint32_t end = offset + pkt.size() - ihl;
  const Key key{ip.src().value(), ip.dst().value(), ip.ident(), ip.protocol()};

  // inet_frag_find: above the high threshold nothing is queued, not even for
  // a queue that exists, until its timer frees memory (ReasmFails). With one
  // link the eviction below keeps memory under the threshold; this is for
  // several links' queues together, and for a threshold below one frame.
  const FrameBound bound = frame_bound(pkt.pool());
  if (mem_ > stack_.config().ipfrag_high_thresh || bound.frames == 0) {
    stats.ip.ReasmFails++;
    stats.drop(DropReason::kFragMemLimit);
    return std::nullopt;
  }
  // Where xnet decides differently (ip_fragment.h): the oldest queues go.
  if (held_frames(pkt.pool()) + 1 > bound.frames) evict_pool(pkt.pool(), bound);
  const uint32_t slot = find_or_create(key, now);
  auto discard = [&](DropReason r) -> std::optional<ReassembledDatagram> {
    kill(slot);  // ipq_kill + REASMFAILS
    stats.ip.ReasmFails++;
    stats.drop(r);
    return std::nullopt;
  };
  {
    Queue& q = queues_[slot];
    if (too_far(q, key.saddr)) {
      stats.ip.ReasmFails++;  // counted by ip_frag_too_far; this fragment goes on
      reinit(slot, now);
    }
    if (!mf) {
      // A last fragment: nothing may lie beyond it, and it may not move the end.
      if (end < q.len || (q.last_in && end != q.len)) return discard(DropReason::kFragMalformed);
      q.last_in = true;
      q.len = end;
    } else {
      if (end & 7) {
        // Non-final fragments carry multiples of 8: the kernel trims the tail.
        end &= ~7u;
        if (pkt.meta().csum_state != ChecksumState::kUnnecessary) pkt.meta().csum_state = ChecksumState::kNone;
      }
      if (end > q.len) {
        if (q.last_in) return discard(DropReason::kFragMalformed);  // beyond the known end
        q.len = end;
      }
    }
    if (end == offset) return discard(DropReason::kFragMalformed);  // no payload
  }

  pkt.pull(ihl);
  pkt.trim(static_cast<uint16_t>(end - offset));

  Queue* q = &queues_[slot];
  if (q->head == kNone) q->pool = pkt.pool();
  if (pkt.pool() != q->pool) {
    // One pool per chain: copy this fragment into a frame of the queue's pool.
    Packet copy;
    if (pkt.meta().head + pkt.size() <= q->pool->frame_size()) copy = pkt.clone(*q->pool);
    if (!copy) {
      stats.drop(DropReason::kNoFrame);
      return std::nullopt;
    }
    pkt = std::move(copy);
  }
  const uint32_t held_truesize = q->pool->frame_size();
  const uint16_t fragsize = static_cast<uint16_t>(pkt.size() + ihl);
  const uint16_t payload = pkt.size();
  switch (insert(*q, pkt, offset, end)) {
    case Insert::kOk:
      break;
    case Insert::kDuplicate:
      stats.drop(DropReason::kFragDuplicate);  // IPFRAG_DUP: the fragment only
      return std::nullopt;
    case Insert::kOverlap:
      stats.ip_ext.ReasmOverlaps++;
      return discard(DropReason::kFragOverlap);  // IPFRAG_OVERLAP: ReasmOverlaps + ReasmFails
  }
  q->meat += payload;
  q->ecn |= static_cast<uint8_t>(1u << (tos & 3u));  // ip4_frag_ecn
  q->truesize += held_truesize;
  mem_ += held_truesize;
  held_add(q->pool, 1);
  if (offset == 0) {
    q->first_in = true;
    q->first_ihl = static_cast<uint8_t>(ihl);
  }
  q->max_size = std::max(q->max_size, fragsize);
  if (df) q->max_df_size = std::max(q->max_df_size, fragsize);

  if (q->first_in && q->last_in && q->meat == q->len) return reassemble(slot);
  return std::nullopt;
}

namespace {

// ip_frag_ecn_table, indexed by the IPFRAG_ECN_* bits seen (Not-ECT 1, ECT(1)
// 2, ECT(0) 4, CE 8): the codepoint the datagram gets, 0xff to drop it.
constexpr std::array<uint8_t, 16> kFragEcn = [] {
  std::array<uint8_t, 16> t{};
  t[8 | 4] = t[8 | 2] = t[8 | 4 | 2] = 3;  // CE with ECT: CE
  for (uint8_t other : {8, 4, 2, 4 | 2, 8 | 4, 8 | 2, 8 | 4 | 2}) t[1 | other] = 0xff;  // Not-ECT mixed
  return t;
}();

}  // namespace

std::optional<ReassembledDatagram> Reassembly::reassemble(uint32_t slot) {
  Queue& q = queues_[slot];
  FramePool* pool = q.pool;
  const uint8_t ecn = kFragEcn[q.ecn];
  const uint32_t ihl = q.first_ihl;  // fragment 0's header
  // ip_frag_reasm's out_fail: ReasmFails, the queue discarded.
  auto fail = [&](DropReason r) -> std::optional<ReassembledDatagram> {
    kill(slot);
    stack_.stats().ip.ReasmFails++;
    stack_.stats().drop(r);
    return std::nullopt;
  };
  if (ecn == 0xff) return fail(DropReason::kFragBadEcn);
  if (ihl + q.len > kIpMaxDatagram) return fail(DropReason::kFragTooBig);  // "Oversized IP packet"
  ReassembledDatagram d;
  d.head = Packet(pool, q.head);
  for (uint32_t f = pool->meta(q.head).next; f != kNone;) {
    const uint32_t next = pool->meta(f).next;
    d.rest.push_back(Packet(pool, f));
    f = next;
  }
  pool->meta(q.head).next = kNone;
  const uint32_t len = q.len;
  const bool all_df = q.max_df_size == q.max_size;
  q.head = q.tail = kNone;  // the frames now belong to the datagram
  kill(slot);

  Packet& head = d.head;
  head.push(static_cast<uint16_t>(ihl));  // back to the IPv4 header, which is still in the frame
  const wire::Ipv4View ip = ip_hdr(head);
  ip.set_total_len(static_cast<uint16_t>(ihl + len));
  ip.set_frag(all_df, false, 0);
  ip.set_tos(static_cast<uint8_t>(ip.tos() | ecn));
  ip.fill_checksum();
  head.meta().csum_state = ChecksumState::kNone;
  stack_.stats().ip.ReasmOKs++;
  return d;
}

void Reassembly::run_timers(TimePoint now) {
  Stats& stats = stack_.stats();
  while (oldest_ != kNone && queues_[oldest_].deadline <= now) {
    const uint32_t slot = oldest_;
    Queue& q = queues_[slot];
    stats.ip.ReasmFails++;
    stats.ip.ReasmTimeout++;
    stats.drop(DropReason::kFragTimeout);
    Packet head;
    if (q.first_in) {  // fragment 0 is the head of the sorted chain
      head = Packet(q.pool, q.head);
      q.head = q.pool->meta(q.head).next;
      if (q.head == kNone) q.tail = kNone;
      head.meta().next = kNone;
    }
    kill(slot);
    if (head) {
      // RFC 792 / RFC 1122 §3.3.2: time exceeded in reassembly, quoting
      // fragment 0 (icmp_send leaves out broadcast/multicast destinations).
      head.push(ihl_of(head));
      icmp_send(stack_, head, wire::IcmpType::kTimeExceeded, wire::IcmpTimeExceededCode::kReassembly, 0, now);
    }
  }
}

std::optional<TimePoint> Reassembly::next_deadline() const {
  if (oldest_ == kNone) return std::nullopt;
  return queues_[oldest_].deadline;
}

}  // namespace xnet::stack
