#include "stack/ipv4/icmp_timestamp.h"

#include "stack/ipv4/icmp.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "stack/core/headers.h"
#include "stack/core/stack.h"
#include "stack/ipv4/icmp_state.h"
#include "stack/ipv4/ipv4_output.h"
#include "stack/wire/icmp.h"

namespace xnet::stack {

namespace {

constexpr uint8_t kIpProtoIcmp = static_cast<uint8_t>(wire::IpProtocol::kIcmp);

// The IcmpMsg type the kernel counts a timestamp reply under. icmp_reply
// routes the reply with a flow that carries no ICMP type (fl4_icmp_type 0), and
// __ip_make_skb counts a message from the raw ICMP control socket by the flow's
// type: Linux 6.18 shows a timestamp reply as OutType0 / OutEchoReps (checked:
// one type 13 request in, IcmpMsg OutType0 1, Icmp OutEchoReps 1, OutMsgs 1,
// OutTimestampReps 0). Counting it as type 14 would be the honest number; this
// is the one line to change for it.
constexpr uint8_t kReplyCountedAsType = static_cast<uint8_t>(wire::IcmpType::kEchoReply);

// Copies `n` bytes at `offset` of the message held by `head` and `rest`
// (skb_copy_bits); the caller has checked the length.
void copy_bits(const Packet& head, const PacketQueue& rest, size_t offset, std::byte* out, size_t n) {
  auto take = [&](const std::byte* data, size_t len) {
    if (n == 0) return;
    if (offset >= len) {
      offset -= len;
      return;
    }
    const size_t c = std::min(n, len - offset);
    std::memcpy(out, data + offset, c);
    out += c;
    n -= c;
    offset = 0;
  };
  take(head.data(), head.size());
  rest.for_each([&](const PacketMeta& m, const std::byte* frame) { take(frame + m.head, m.len); });
}

FramePool* egress_pool(Stack& stack, wire::Ipv4Addr dst) {
  const auto r = stack.routes().lookup(dst);
  if (!r) return nullptr;
  Link* l = stack.link(r->ifindex);
  return l != nullptr ? &l->pool() : nullptr;
}

}  // namespace

uint32_t ms_since_midnight_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  constexpr int64_t kMsPerDay = 24 * 60 * 60 * 1000;
  // Before 1970 (a test's clock) still lands in [0, one day).
  return static_cast<uint32_t>(((ms % kMsPerDay) + kMsPerDay) % kMsPerDay);
}

void icmp_timestamp(Stack& stack, const Packet& head, const PacketQueue& rest, TimePoint now) {
  Stats& st = stack.stats();
  constexpr size_t kOriginateLen = 4;
  if (head.size() + rest.bytes() < wire::kIcmpHeaderLen + kOriginateLen) {
    st.icmp.InErrors++;  // too short for the originate time
    st.drop(DropReason::kIcmpBadType);
    return;
  }
  const auto req = wire::ConstIcmpView::unchecked(head.bytes());
  const wire::ConstIpv4View iph = ip_hdr(head);
  std::array<std::byte, kOriginateLen> originate;
  copy_bits(head, rest, wire::kIcmpHeaderLen, originate.data(), originate.size());

  std::array<std::byte, 40> opts{};
  const std::optional<size_t> optlen = icmp_reply_options(stack, iph, now, opts);
  if (!optlen) return;  // ip_options_echo refused: no reply

  FramePool* pool = egress_pool(stack, iph.src());
  Packet p = Packet::allocate(pool != nullptr ? *pool : *head.pool(), kDefaultHeadroom + kIpv4HeaderLen + 40);
  if (!p) {
    st.icmp.OutErrors++;
    st.drop(DropReason::kNoFrame);
    return;
  }
  const uint32_t ms = ms_since_midnight_utc(stack.icmp().wall_clock(now));
  const auto ih = wire::IcmpView::unchecked({p.put(wire::kIcmpTimestampLen), wire::kIcmpTimestampLen});
  ih.set_type(static_cast<uint8_t>(wire::IcmpType::kTimestampReply));
  ih.set_code(0);
  ih.set_rest_of_header(req.rest_of_header());  // identifier and sequence
  std::memcpy(ih.data().data(), originate.data(), originate.size());
  ih.set_receive_timestamp(ms);
  ih.set_transmit_timestamp(ms);
  ih.fill_checksum();

  IpHeaderParams ip;
  ip.saddr = iph.dst();
  ip.daddr = iph.src();
  ip.protocol = kIpProtoIcmp;
  ip.tos = iph.tos();
  ip.ttl = stack.config().ip_default_ttl;
  ip.options = std::span<const std::byte>(opts.data(), *optlen);
  ip_build_header(stack, p, ip);
  st.icmp_out(kReplyCountedAsType);
  if (!ip_local_out(stack, std::move(p), now)) st.icmp.OutErrors++;
}

}  // namespace xnet::stack
