#include "stack/udp/udp_recv.h"
#include "stack/core/stage_trace.h"

#include <algorithm>
#include <cstring>

#include "stack/core/headers.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_input.h"

namespace xnet::stack {

std::errc udp_sock_error(UdpSock& sk) { return std::exchange(sk.sk_err, std::errc{}); }

Result<void> udp_set_rcvbuf(UdpSock& sk, int bytes) {
  // sock_setsockopt SO_RCVBUF: capped by rmem_max (as unsigned: a negative
  // value is huge), doubled, at least SOCK_MIN_RCVBUF. Datagrams already
  // queued stay; the new limit applies to the next one.
  constexpr uint32_t kRmemMax = 212992;
  constexpr uint32_t kMinRcvbuf = 2304;
  const uint32_t v = std::min(static_cast<uint32_t>(bytes), kRmemMax);
  sk.rcvbuf = std::max(v * 2, kMinRcvbuf);
  return {};
}

void udp_set_recverr(UdpSock& sk, bool on) {
  sk.recverr = on;
  if (on) return;
  while (!sk.errq.empty()) {
    sk.errq.pop_front();
    sk.rmem_alloc -= std::min(sk.rmem_alloc, udp_error_entry_truesize());
  }
}

RecvInfo udp_datagram_info(const RxDatagram& d) {
  RecvInfo info;
  const wire::ConstIpv4View iph = ip_hdr(d.head);
  info.full_size = d.size;
  info.source = {iph.src(), udp_hdr(d.head).src_port()};
  info.info.dst_addr = iph.dst();
  info.info.ttl = iph.ttl();
  info.info.tos = iph.tos();
  info.info.ifindex = d.head.meta().ifindex;
  if (d.head.meta().route_type == RouteType::kLocal) info.info.spec_dst = iph.dst();
  return info;
}

wire::Ipv4Addr udp_spec_dst(const Stack& stack, const RxDatagram& d) {
  const wire::ConstIpv4View iph = ip_hdr(d.head);
  if (d.head.meta().route_type == RouteType::kLocal) return iph.dst();
  return stack.select_source(d.head.meta().ifindex, iph.src());
}

RecvInfo udp_datagram_info(const Stack& stack, const RxDatagram& d) {
  RecvInfo info = udp_datagram_info(d);
  info.info.spec_dst = udp_spec_dst(stack, d);
  return info;
}

size_t udp_copy_datagram(const RxDatagram& d, std::span<std::byte> buf) {
  size_t n = std::min<size_t>(buf.size(), d.head.size());
  // An empty buffer's data() may be null, and memcpy(nullptr, .., 0) is
  // undefined (found by socket_api_fuzzer). The head may hold no payload
  // while later frames do (a first fragment of only the UDP header).
  if (n != 0) std::memcpy(buf.data(), d.head.data(), n);
  size_t copied = n;
  d.rest.for_each([&](const PacketMeta& m, const std::byte* frame) {
    const size_t k = std::min<size_t>(buf.size() - copied, m.len);
    if (k == 0) return;
    std::memcpy(buf.data() + copied, frame + m.head, k);
    copied += k;
  });
  return copied;
}

Result<RecvInfo> udp_recvmsg(Stack& stack, UdpSock& sk, std::span<std::byte> buf, RecvFlags flags) {
  // __skb_recv_udp: sock_error before the queue.
  if (const std::errc e = udp_sock_error(sk); e != std::errc{}) return e;
  if (sk.rxq.empty()) return std::errc::resource_unavailable_try_again;
  stage::mark(stage::Point::kAppReceived);
  RxDatagram& d = sk.rxq.front();
  RecvInfo info = udp_datagram_info(stack, d);
  info.copied = udp_copy_datagram(d, buf);
  info.truncated = info.copied < d.size;
  info.size = flags.trunc ? d.size : info.copied;
  info.info.drops = sk.drops;
  if (!flags.peek) {
    stack.stats().udp.InDatagrams++;
    sk.rmem_alloc -= d.truesize;
    sk.rxq.pop_front();  // frames return to their pool
  }
  return info;
}

Result<RxDatagram> udp_recv_datagram(Stack& stack, UdpSock& sk) {
  if (const std::errc e = udp_sock_error(sk); e != std::errc{}) return e;
  if (sk.rxq.empty()) return std::errc::resource_unavailable_try_again;
  stage::mark(stage::Point::kAppReceived);
  RxDatagram d = sk.rxq.pop_front();
  sk.rmem_alloc -= d.truesize;
  stack.stats().udp.InDatagrams++;
  return d;
}

void udp_recv_datagrams_taken(Stack& stack, UdpSock& sk, size_t n, uint32_t truesize) {
  stage::mark(stage::Point::kAppReceived);
  sk.rmem_alloc -= truesize;
  stack.stats().udp.InDatagrams += n;
}

Result<SockError> udp_recv_error(UdpSock& sk) {
  if (sk.errq.empty()) return std::errc::resource_unavailable_try_again;
  SockError e = sk.errq.pop_front();
  sk.rmem_alloc -= std::min(sk.rmem_alloc, udp_error_entry_truesize());
  // sock_dequeue_err_skb: sk_err follows the next ICMP error, or is cleared
  // when the one returned was an ICMP error and none follows.
  const bool icmp_next = !sk.errq.empty() && sk.errq.front().origin == ErrOrigin::kIcmp;
  if (icmp_next) {
    sk.sk_err = sk.errq.front().err;
  } else if (e.origin == ErrOrigin::kIcmp) {
    sk.sk_err = std::errc{};
  }
  return e;
}

}  // namespace xnet::stack
