#include "stack/ipv4/cork.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#include "stack/wire/checksum.h"

namespace xnet::stack {

void SendBuffer::release(void* ctx, uint32_t truesize) {
  auto* sb = static_cast<SendBuffer*>(ctx);
  assert(sb->allocated >= truesize);
  const uint32_t before = sb->allocated;
  sb->allocated -= truesize;
  if (sb->orphaned) {
    if (sb->allocated == 0) delete sb;
    return;
  }
  // sock_def_write_space: wake writers once at least half the buffer is free.
  if (sb->on_space != nullptr && uint64_t{sb->allocated} * 2 <= sb->limit &&
      uint64_t{before} * 2 > sb->limit) {
    sb->on_space(sb->on_space_ctx);
  }
}

void SendBuffer::charge(SendBuffer* sb, Packet& pkt, uint32_t truesize) {
  if (sb == nullptr) return;
  PacketMeta& m = pkt.meta();
  m.truesize = truesize;
  m.destructor = &SendBuffer::release;
  m.destructor_ctx = sb;
  sb->allocated += truesize;
}

void SendBuffer::grow(Packet& pkt, uint32_t bytes) {
  PacketMeta& m = pkt.meta();
  if (m.destructor != &SendBuffer::release) return;  // not charged (ICMP, tests)
  m.truesize += bytes;
  static_cast<SendBuffer*>(m.destructor_ctx)->allocated += bytes;
}

void ip_local_error(const SendBuffer* sb, std::errc err, wire::Ipv4Addr daddr, uint16_t port, uint32_t info) {
  if (sb == nullptr || sb->orphaned || sb->owner == nullptr || sb->error_report == nullptr) return;
  SockError se;
  se.err = err;
  se.origin = ErrOrigin::kLocal;
  se.info = info;
  se.dest_addr = daddr;
  se.dest_port = port;
  sb->error_report(sb->owner, se);
}

namespace {

// Appends `n` bytes of `src` to `pkt`, folding their sum into meta().csum at
// the right byte parity when the cork sums during the copy.
void put_bytes(Packet& pkt, const std::byte* src, size_t n, bool sum) {
  const uint16_t pos = pkt.size();
  std::byte* dst = pkt.put(static_cast<uint16_t>(n));
  if (sum) {
    pkt.meta().csum = wire::checksum_block_add(pkt.meta().csum, wire::checksum_copy(dst, src, n), pos);
  } else {
    std::memcpy(dst, src, n);
  }
}

// Moves the last `gap` bytes of `prev` to the (empty but for headers) `next`:
// the fraggap of __ip_append_data.
void move_fraggap(Packet& prev, Packet& next, uint16_t gap, bool sum) {
  const uint16_t from = static_cast<uint16_t>(prev.size() - gap);
  const std::byte* src = prev.data() + from;
  if (sum) {
    const uint32_t moved = wire::checksum_partial({src, gap});
    prev.meta().csum = wire::checksum_block_sub(prev.meta().csum, moved, from);
    const uint16_t pos = next.size();
    std::memcpy(next.put(gap), src, gap);
    next.meta().csum = wire::checksum_block_add(next.meta().csum, moved, pos);
  } else {
    std::memcpy(next.put(gap), src, gap);
  }
  prev.trim(from);
}

}  // namespace

Result<void> ip_append_data(Cork& cork, std::span<const std::byte> data, uint16_t transhdrlen,
                            bool more) {
  const CorkParams& p = cork.params;
  assert(p.pool != nullptr);
  const uint32_t fhl = p.fragheaderlen();
  // With GSO the datagram is limited only by IP_MAX_MTU; the per-segment
  // limits are udp_send_skb's business.
  const uint32_t mtu = p.gso_size != 0 ? kIpMaxMtu : p.fragsize;
  const uint32_t maxfraglen = ((mtu - fhl) & ~7u) + fhl;
  // Without DF allowed to be ignored, a datagram may not exceed the MTU: the
  // route's, which exceeds the frame layout's only through the loopback device
  // (a local route is never fragmented: its frames beyond the first are a chain).
  const uint32_t maxnonfragsize =
      p.ignore_df ? kIpMaxMtu : p.route_type == RouteType::kLocal ? p.route_mtu : mtu;
  uint32_t length = static_cast<uint32_t>(data.size()) + transhdrlen;

  if (cork.length + length > maxnonfragsize - fhl) {
    // With the MTU the datagram met, less the options (Linux 6.18, IP_RECVERR:
    // "do" over a learned 1400 queued ee_info 1400; "dont" over 65507, the
    // device's 1500).
    const uint32_t err_mtu = p.route_type == RouteType::kLocal && p.gso_size == 0 ? p.route_mtu : mtu;
    ip_local_error(p.sndbuf, std::errc::message_size, p.ip.daddr, p.inet_dport, err_mtu - p.options_len);
    return std::errc::message_size;
  }

  if (cork.empty()) {
    // The first frame decides the datagram's checksum mode (csummode).
    cork.partial = transhdrlen != 0 && length + fhl <= mtu && p.can_offload &&
                   (!more || p.gso_size != 0);
    cork.sum_on_copy = !p.no_checksum && !(cork.partial && p.device_checksum);
  }
  const bool sum = cork.sum_on_copy;

  // GSO layout: one segment per frame. Frames other than the first will get a
  // UDP header pushed, so their limit counts it as if it were there. A segment
  // that cannot fit the MTU is laid out to the MTU; udp_send_skb rejects it
  // unless the whole datagram fits one frame.
  const uint32_t udp_hdr = 8;
  uint32_t seg_limit = 0;
  if (p.gso_size != 0) {
    seg_limit = fhl + udp_hdr + std::min<uint32_t>(p.gso_size, p.fragsize - fhl - udp_hdr);
  }
  auto frame_len = [&](const Packet& f, bool first) {
    return fhl + f.size() + ((p.gso_size != 0 && !first) ? udp_hdr : 0);
  };

  const std::byte* src = data.data();
  const uint32_t before = cork.length;
  cork.length += length;
  auto fail = [&](std::errc e) -> Result<void> {
    cork.length = before;
    return e;
  };

  while (length > 0) {
    int64_t copy = 0;
    const bool tail_first = cork.frames.empty();
    if (cork.tail.valid()) {
      const uint32_t cur = frame_len(cork.tail, tail_first);
      if (p.gso_size != 0) {
        copy = int64_t{seg_limit} - cur;
      } else {
        copy = int64_t{mtu} - cur;
        if (copy < length) copy = int64_t{maxfraglen} - cur;
      }
    }
    if (copy <= 0) {
      const bool first = !cork.tail.valid();
      uint32_t fraggap = 0;
      uint32_t datalen = 0;
      if (p.gso_size != 0) {
        const uint32_t room = seg_limit - fhl - (first ? 0 : udp_hdr);
        datalen = std::min(length, room);
      } else {
        if (!first) fraggap = frame_len(cork.tail, tail_first) - maxfraglen;
        datalen = length + fraggap;
        if (datalen > mtu - fhl) datalen = maxfraglen - fhl;
      }

      // sock_alloc_send_skb for the first frame of a datagram: the socket's
      // pending error, once, then EAGAIN when the buffer is full; later frames
      // may overshoot up to twice the limit and never look at the error.
      if (first && p.sk_err != nullptr && *p.sk_err != std::errc{}) {
        return fail(std::exchange(*p.sk_err, std::errc{}));
      }
      if (p.sndbuf != nullptr) {
        const uint64_t limit = first ? p.sndbuf->limit : uint64_t{p.sndbuf->limit} * 2;
        if (p.sndbuf->allocated >= limit) {
          return fail(first ? std::errc::resource_unavailable_try_again : std::errc::no_buffer_space);
        }
      }
      Packet f = Packet::allocate(*p.pool, 0);
      if (!f) return fail(std::errc::no_buffer_space);
      const uint32_t reserve = p.headroom + fhl + (p.gso_size != 0 && !first ? udp_hdr : 0);
      if (reserve + datalen > f.capacity()) return fail(std::errc::message_size);
      f.reserve(static_cast<uint16_t>(reserve));
      f.meta().out_ifindex = p.out_ifindex;
      f.meta().csum_state = sum ? ChecksumState::kComplete : ChecksumState::kNone;
      // The skb this frame stands for: a fragment's is allocated whole; a GSO
      // datagram is one skb of headers whose payload goes to page fragments
      // (charged below as it is copied), so its later frames add no skb.
      if (p.gso_size == 0) {
        SendBuffer::charge(p.sndbuf, f, skb_truesize(datalen + fhl + kSkbAllocExtra));
      } else {
        SendBuffer::charge(p.sndbuf, f, first ? skb_truesize(fhl + transhdrlen + kSkbAllocExtra) : 0);
      }

      if (fraggap != 0) move_fraggap(cork.tail, f, static_cast<uint16_t>(fraggap), sum);
      if (transhdrlen != 0) {
        // Transport header: zero now, written by udp_send_skb.
        f.set_transport_header(0);
        std::memset(f.put(transhdrlen), 0, transhdrlen);
        // Keep the header in front of any fraggap bytes (there are none on a
        // first frame, but the order matters if that ever changes).
        assert(fraggap == 0);
      }
      const uint32_t n = datalen - transhdrlen - fraggap;
      if (n > 0) put_bytes(f, src, n, sum);
      if (p.gso_size != 0) SendBuffer::grow(f, n);
      src += n;
      length -= datalen - fraggap;
      transhdrlen = 0;
      if (cork.tail.valid()) cork.frames.push_back(std::move(cork.tail));
      cork.tail = std::move(f);
      continue;
    }
    const uint32_t n = static_cast<uint32_t>(std::min<int64_t>(copy, length));
    if (n > cork.tail.tailroom()) return fail(std::errc::message_size);
    put_bytes(cork.tail, src, n, sum);
    SendBuffer::grow(cork.tail, n);  // a later part of a corked datagram: page fragments
    src += n;
    length -= n;
  }
  return {};
}

PacketQueue ip_make_datagram(Cork& cork, IpIdentGenerator& idents) {
  const CorkParams& p = cork.params;
  PacketQueue out;
  if (cork.tail.valid()) cork.frames.push_back(std::move(cork.tail));
  if (cork.frames.empty()) return out;
  Packet head = cork.frames.pop_front();

  // Payload of the datagram beyond the IPv4 header (transport header included).
  const uint32_t total = cork.length;
  uint16_t segs = 1;
  if (p.gso_size != 0 && total - 8 > p.gso_size) {
    segs = static_cast<uint16_t>((total - 8 + p.gso_size - 1) / p.gso_size);
  }

  IpHeaderParams ip = p.ip;
  ip.options = {p.options.data(), p.options_len};
  // __ip_make_skb: DF always in "do"/"probe", in "want" only when it fits.
  ip.df = p.pmtudisc_do || (p.pmtudisc_want && total + p.fragheaderlen() <= p.route_mtu);
  uint16_t id;
  if (p.sock_ident != nullptr) {
    // The counter is advanced first and its new value used (atomic_add_return).
    *p.sock_ident = static_cast<uint16_t>(*p.sock_ident + segs);
    id = *p.sock_ident;
  } else if (ip.df && !p.ignore_df) {
    id = 0;  // cannot be fragmented by anyone: the ID identifies nothing
  } else {
    id = idents.next(ip.saddr, ip.daddr, ip.protocol, segs);
  }
  push_ipv4_header(head, ip, id);

  PacketMeta& m = head.meta();
  m.out_ifindex = p.out_ifindex;
  m.next_hop = p.next_hop;
  m.route_type = p.route_type;
  m.pkt_type = PacketType::kOutgoing;
  // The offsets are udp4_hwcsum's to write: until then the head's csum may
  // still hold the sum taken during the copy (they share bytes).
  if (cork.partial) m.csum_state = ChecksumState::kPartial;
  out.push_back(std::move(head));
  out.splice_back(cork.frames);
  cork.length = 0;
  cork.partial = false;
  return out;
}

}  // namespace xnet::stack
